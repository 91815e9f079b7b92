"""The part-3 models trained by ``scripts/make_part3.py``, loaded from the cache.

Book-only: the chapters of part 3 evaluate these models and never train them.
"""

from __future__ import annotations

from lvmkit.artifacts import load_json, load_weights
from lvmkit.vae import VAE, build_vae

__all__ = ["load_cached"]


def load_cached(name: str, data: str, *, directory=None) -> tuple[VAE, dict]:
    """Load a part-3 model trained by ``scripts/make_part3.py``.

    Reads ``part3_<data>.json`` (configuration and the metrics stored at save time) and
    ``part3_<data>.pt`` (float16 state dicts, loaded with ``weights_only=True``), both
    checked against ``data/MANIFEST.json`` first (:mod:`lvmkit.artifacts`).

    Returns:
        ``(vae, record)``: the model in float32 and eval mode, and its JSON record
        (``config``, ``metrics``, ``train_seconds``).
    """
    if data not in ("digits", "shapes"):
        raise ValueError(f"data must be 'digits' or 'shapes', got {data!r}")
    records = load_json(f"part3_{data}.json", directory)
    if name not in records:
        raise ValueError(
            f"name must be a model of part3_{data}.json, one of {sorted(records)}; "
            f"got {name!r}"
        )
    rec = records[name]
    cfg = rec["config"]
    vae = build_vae(
        cfg["decoder"], cfg["n_pixels"], cfg["n_latents"], prior=cfg["prior"]
    )
    weights = load_weights(f"part3_{data}.pt", directory)[name]
    vae.load_state_dict(weights)
    return vae.float().eval(), rec
