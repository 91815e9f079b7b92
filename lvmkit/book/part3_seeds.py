"""The seeded digits models of part 3: their list, early-stopped training and loading.

``scripts/make_part3.py --data digits`` trains every model of :data:`SWEEP` at every
seed it names and caches them in ``data/part3_digits_seeds.{pt,json}``; the chapters load
them with :func:`load_seeded` and summarise them over seeds with
:func:`lvmkit.book.replicates`.

The protocol (the same for every model, so that likelihoods are comparable): the 1257
training digits are split once into 1006 for fitting and 251 for validation (a fixed
permutation); each model trains for at most :data:`MAX_EPOCHS` epochs (Adam, learning
rate 2e-3, batches of 128) and keeps the weights of its best epoch on the validation
objective ``D + beta R`` (early stopping, patience :data:`PATIENCE` epochs). A warm
start continues from the early-stopped latent-free MADE of the same seed for at most
:data:`MAX_EPOCHS_WARM` further epochs, and so does its budget-matched control (the
latent-free MADE itself, trained on).
"""

from __future__ import annotations

import copy
import math

import torch

from lvmkit import validation

__all__ = [
    "MAX_EPOCHS",
    "MAX_EPOCHS_WARM",
    "PATIENCE",
    "SWEEP",
    "compact",
    "curve",
    "fit_val_split",
    "key",
    "load_seeded",
    "paired_ll",
    "seeded_records",
    "seeds_of",
    "table",
    "train_one",
    "values",
]

MAX_EPOCHS = 400
MAX_EPOCHS_WARM = 200
PATIENCE = 20
CACHE = "part3_digits_seeds"

# name: (decoder, n_latents, hidden, beta, mmd_weight, warm start from, seeds)
MAIN, FURTHER, RD = (0, 1, 2, 3, 4), (5, 6, 7), (0, 1, 2)
SWEEP = {
    "fact": ("bernoulli", 2, 128, 1.0, 0.0, None, MAIN + FURTHER),
    "made0": ("made", 0, 256, 1.0, 0.0, None, MAIN + FURTHER),
    "made_w16": ("made", 2, 16, 1.0, 0.0, None, MAIN + FURTHER),
    "made_w64": ("made", 2, 64, 1.0, 0.0, None, MAIN + FURTHER),
    "made": ("made", 2, 256, 1.0, 0.0, None, MAIN + FURTHER),
    "made_w512": ("made", 2, 512, 1.0, 0.0, None, MAIN),
    "made0_w16": ("made", 0, 16, 1.0, 0.0, None, MAIN),
    "made0_w64": ("made", 0, 64, 1.0, 0.0, None, MAIN),
    "beta3": ("made", 2, 256, 3.0, 0.0, None, MAIN + FURTHER),
    "warm": ("made", 2, 256, 1.0, 0.0, "made0", MAIN + FURTHER),
    "made0_more": ("made", 0, 256, 1.0, 0.0, "made0", MAIN),
    "infovae": ("made", 2, 256, 0.1, 100.0, None, MAIN + FURTHER),
    "beta0.1": ("made", 2, 256, 0.1, 0.0, None, MAIN),
    "beta0.2": ("made", 2, 256, 0.2, 0.0, None, RD),
    "beta0.3": ("made", 2, 256, 0.3, 0.0, None, RD),
    "beta0.5": ("made", 2, 256, 0.5, 0.0, None, RD),
    "beta0.7": ("made", 2, 256, 0.7, 0.0, None, RD),
    "beta1.5": ("made", 2, 256, 1.5, 0.0, None, RD),
    "beta2": ("made", 2, 256, 2.0, 0.0, None, RD),
    "infovae_mmd10": ("made", 2, 256, 0.1, 10.0, None, RD),
    "infovae_mmd1000": ("made", 2, 256, 0.1, 1000.0, None, RD),
}


def key(name: str, seed: int) -> str:
    """The cache key of a model at a seed, e.g. ``made_w64/s3``."""
    _check_names("name", name)
    return f"{name}/s{seed}"


def _check_names(argument: str, *names: str) -> None:
    """Each of ``names`` must be a model of the sweep (``SWEEP``)."""
    for name in names:
        validation.check_choice(argument, name, tuple(SWEEP))


def config(name: str) -> dict:
    """The configuration of the sweep's model ``name`` (as stored in its record)."""
    _check_names("name", name)
    decoder, d, hidden, beta, mmd, warm, _ = SWEEP[name]
    return {
        "decoder": decoder,
        "n_latents": d,
        "hidden": hidden,
        "beta": beta,
        "mmd_weight": mmd,
        "warm_start": warm,
        "n_pixels": 64,
        "prior": "normal",
    }


def fit_val_split():
    """``(x_fit, x_val)``: the 1257 training digits split 1006 / 251 (fixed permutation)."""
    from lvmkit.datasets import load_digits_binary

    x = load_digits_binary().x_train
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(12345))
    n_val = len(x) // 5
    return x[perm[n_val:]], x[perm[:n_val]]


def build(cfg: dict):
    from lvmkit.vae import build_vae

    return build_vae(
        cfg["decoder"],
        cfg["n_pixels"],
        cfg["n_latents"],
        prior=cfg["prior"],
        hidden=cfg["hidden"],
    )


def _objective(vae, x, beta: float) -> float:
    """Validation objective ``D + beta R`` (one posterior sample, a fixed generator)."""
    from lvmkit.vae import elbo_terms

    with torch.no_grad():
        if vae.n_latents == 0:
            return float(-vae.decoder_log_prob(x, None)[0].mean())
        t = elbo_terms(vae, x, 1, generator=torch.Generator().manual_seed(0))
        return float(t.distortion.mean() + beta * t.rate.mean())


def _early_stopping(x_val, beta: float):
    import pytorch_lightning as pl

    class EarlyStopping(pl.Callback):
        """Keep the weights of the best validation epoch; stop after PATIENCE worse."""

        def __init__(self):
            self.best, self.best_epoch, self.state, self.epochs = math.inf, 0, None, 0

        def on_train_epoch_end(self, trainer, pl_module):
            vae = pl_module.vae
            vae.eval()
            value = _objective(vae, x_val, beta)
            vae.train()
            self.epochs = trainer.current_epoch + 1
            if value < self.best:
                self.best, self.best_epoch = value, self.epochs
                self.state = copy.deepcopy(vae.state_dict())
            elif self.epochs - self.best_epoch >= PATIENCE:
                trainer.should_stop = True

    return EarlyStopping()


def _zero_latent_inputs(vae) -> None:
    with torch.no_grad():
        for layer in [*vae.decoder.cond, vae.decoder.cond_out]:
            layer.weight.zero_()


_MASKED = {
    "decoder.out.weight": "decoder.mask_out",
    "decoder.direct.weight": "decoder.mask_direct",
}


def _mask_of(vae, key: str):
    """MADE's mask buffer for a masked weight ``key`` of ``vae``, else ``None``."""
    buffers = dict(vae.named_buffers())
    if key.startswith("decoder.layers.") and key.endswith(".weight"):
        return buffers.get(f"decoder.mask{key.split('.')[2]}")
    return buffers.get(_MASKED.get(key, ""))


def _store(vae) -> dict:
    """float16 state without MADE's masks (rebuilt from the configuration on load), and
    each masked weight as the 1-D vector of its unmasked entries (the others never act)."""
    out = {}
    for k, v in vae.state_dict().items():
        if "mask" in k:
            continue
        mask = _mask_of(vae, k)
        out[k] = (v[mask.bool()] if mask is not None else v).detach().to(torch.float16)
    return out


def _restore(vae, state: dict) -> None:
    state = dict(state)
    for k, v in state.items():
        mask = _mask_of(vae, k)
        if mask is not None and v.ndim == 1:  # unmasked entries only: the rest are zero
            full = torch.zeros(mask.shape, dtype=v.dtype)
            full[mask.bool()] = v
            state[k] = full
    missing, unexpected = vae.load_state_dict(state, strict=False)
    if unexpected or any("mask" not in k for k in missing):
        raise ValueError(
            f"state does not fit the model: missing {missing}, unexpected {unexpected}"
        )


def compact(state: dict, cfg: dict) -> dict:
    """A stored state in the compact form of :func:`_store` (idempotent)."""
    if not isinstance(state, dict) or not isinstance(cfg, dict):
        raise TypeError(
            "state and cfg must be dicts (a state dict and a model configuration), "
            f"got {type(state).__name__} and {type(cfg).__name__}"
        )
    vae = build(cfg)
    _restore(vae, {k: v.float() for k, v in state.items()})
    return _store(vae)


def _initial_model(cfg: dict, seed: int, warm_state: dict | None):
    """The model of ``cfg`` before training: seeded, or warm-started from a state."""
    torch.manual_seed(seed)
    vae = build(cfg)
    if cfg["warm_start"]:
        state = {k: v.float() for k, v in warm_state.items()}
        if cfg["n_latents"]:  # the latent-free MADE's decoder; z's inputs start at 0
            base = build({**cfg, "n_latents": 0})
            _restore(base, state)
            vae.load_state_dict(base.state_dict(), strict=False)
            _zero_latent_inputs(vae)
        else:
            _restore(vae, state)
    return vae


def _stored_metrics(vae):
    """The score table and per-image test log-likelihood of a trained model."""
    from lvmkit.book.score_table import evaluate
    from lvmkit.datasets import load_digits_binary
    from lvmkit.vae import iw_log_likelihood

    vae.eval()
    split = load_digits_binary()
    g = torch.Generator().manual_seed(0)
    metrics = evaluate(
        vae,
        split.x_train,
        split.y_train,
        split.x_test,
        split.y_test,
        n_iw=50,
        n_mi_samples=5,
        generator=g,
    )
    ll = iw_log_likelihood(
        vae, split.x_test, 50, generator=torch.Generator().manual_seed(1)
    )
    return metrics, ll


def train_one(
    name: str, seed: int, warm_state: dict | None = None
) -> tuple[dict, dict]:
    """Train ``name`` at ``seed``; return ``(float16 state, JSON record)``.

    ``warm_state`` is the stored state of the model named in the configuration's
    ``warm_start`` at the same seed (required then).
    """
    import time

    from lvmkit.training import fit

    cfg = config(name)
    x_fit, x_val = fit_val_split()
    vae = _initial_model(cfg, seed, warm_state)
    epochs = MAX_EPOCHS_WARM if cfg["warm_start"] else MAX_EPOCHS
    stop = _early_stopping(x_val, cfg["beta"])
    t0 = time.perf_counter()
    fit(
        vae,
        x_fit,
        beta=cfg["beta"],
        mmd_weight=cfg["mmd_weight"],
        epochs=epochs,
        batch_size=128,
        lr=2e-3,
        seed=seed,
        accelerator="cpu",
        deterministic=True,
        callbacks=[stop],
    )
    seconds = time.perf_counter() - t0
    if stop.state is not None:
        vae.load_state_dict(stop.state)
    state = _store(vae)
    _restore(vae, state)  # the metrics are those of the stored float16 weights
    metrics, ll = _stored_metrics(vae)
    rec = {
        "config": cfg,
        "seed": seed,
        "metrics": metrics,
        "train_seconds": round(seconds, 1),
        "epochs_run": stop.epochs,
        "best_epoch": stop.best_epoch,
        "val_objective": round(stop.best, 4),
        "test_ll_per_image": [round(float(v), 4) for v in ll],
    }
    return state, rec


def seeded_records(directory=None) -> dict:
    """The JSON records of every cached seeded model, by cache key."""
    from lvmkit.artifacts import load_json

    return load_json(f"{CACHE}.json", directory)


def load_seeded(name: str, seed: int, *, directory=None):
    """``(vae, record)``: a cached seeded model in float32 and eval mode."""
    from lvmkit.artifacts import load_weights

    records = seeded_records(directory)
    k = key(name, seed)
    if k not in records:
        raise ValueError(
            f"name/seed must be a cached model, one of {sorted(records)}; got {k!r}"
        )
    vae = build(records[k]["config"])
    _restore(vae, load_weights(f"{CACHE}.pt", directory)[k])
    return vae.float().eval(), records[k]


def seeds_of(records: dict, name: str, seeds=None) -> list[int]:
    """The cached seeds of ``name`` (restricted to ``seeds`` if given), in order."""
    _check_names("name", name)
    have = sorted(r["seed"] for k, r in records.items() if k.split("/")[0] == name)
    return [s for s in have if seeds is None or s in seeds]


def values(records: dict, name: str, metric: str, seeds=None):
    """One stored metric of ``name`` at each of its cached seeds, shape ``(n_seeds,)``."""
    import numpy as np

    return np.array(
        [
            records[key(name, s)]["metrics"][metric]
            for s in seeds_of(records, name, seeds)
        ]
    )


def paired_ll(records: dict, a: str, b: str, seeds=None):
    """Per seed, the mean over the 540 test images of ``log p_a(x) - log p_b(x)``.

    Returns ``(per_seed (n,), image_se (n,))``: the paired differences (one per seed, for
    :func:`lvmkit.book.check_replicates`) and, for each seed, the paired
    standard error over the test images.
    """
    import numpy as np

    _check_names("a", a)
    _check_names("b", b)
    common = [
        s for s in seeds_of(records, a, seeds) if s in seeds_of(records, b, seeds)
    ]
    d = np.array(
        [
            np.subtract(
                records[key(a, s)]["test_ll_per_image"],
                records[key(b, s)]["test_ll_per_image"],
            )
            for s in common
        ]
    )
    return d.mean(1), d.std(1, ddof=1) / np.sqrt(d.shape[1])


def table(records: dict, rows: dict, columns: dict, seeds=None, digits: int = 3):
    """A DataFrame of ``"mean ± se"`` over seeds: ``rows`` label -> model name,
    ``columns`` header -> metric (the seed count is the last column)."""
    import pandas as pd

    from lvmkit.book import replicates, sig

    _check_names("rows", *rows.values())
    out = {}
    for label, name in rows.items():
        row = {}
        for header, metric in columns.items():
            r = replicates(values(records, name, metric, seeds))
            row[header] = f"{sig(r.mean, digits):#.{digits}g} ± {sig(r.se, 2):.2g}"
        row["seeds"] = len(seeds_of(records, name, seeds))
        out[label] = row
    return pd.DataFrame(out).T


def curve(records: dict, names: dict, metric: str, seeds=None):
    """``(x, means, standard errors)`` over seeds of ``metric`` for ``names`` x -> model
    (e.g. MADE width -> model name), for the figures of :mod:`lvmkit.book.part3_figures`."""
    from lvmkit.book import replicates

    _check_names("names", *names.values())
    reps = [replicates(values(records, n, metric, seeds)) for n in names.values()]
    return list(names), [r.mean for r in reps], [r.se for r in reps]
