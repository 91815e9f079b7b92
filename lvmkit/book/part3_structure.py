"""Book-only code of chapters/part3/structure.ipynb: the metrics every cached shapes
model stores (scripts/make_part3_shapes.py) and the loader of that cache."""

from __future__ import annotations

import torch

from lvmkit.aggregate_posterior import aggregate_stats
from lvmkit.datasets import load_shapes_split
from lvmkit.probes import evaluate, factor_r2
from lvmkit.structured_decoders import build_structured_vae
from lvmkit.two_sample import classifier_two_sample_test
from lvmkit.vae import iw_log_likelihood

__all__ = ["CACHE", "load_shapes_model", "model_metrics", "shapes_records"]

CACHE = "part3_shapes_seeds"
MIXTURES = (5000, 21000)  # aggregate-posterior mixture sizes beyond the test set's 1000


@torch.no_grad()
def model_metrics(vae, n_train: int, *, k_large: int = 0) -> dict:
    """Every number the chapter uses for one model, with fixed generators.

    ``evaluate`` on (its own training images, the test set) with K = 50; held-out R^2
    of x, y, scale from one posterior sample; MI and KL(q(z) || p(z)) with the
    aggregate over 1000 (test), 5000 and all 21 000 images (queried at the test set);
    a kNN classifier two-sample test of 1000 samples against the 1000 test images;
    with ``k_large > 0`` also the test log-likelihood at K = ``k_large``.
    """
    split, f_train, f_test = load_shapes_split()
    x_tr, y_tr = split.x_train[:n_train], split.y_train[:n_train]
    m = evaluate(vae, x_tr, y_tr, split.x_test, split.y_test, n_iw=50, n_mi_samples=5,
                 generator=torch.Generator().manual_seed(0))
    if vae.n_latents:
        g = torch.Generator().manual_seed(1)
        n_r2 = min(n_train, 5000)
        z_tr = vae.sample_posterior(split.x_train[:n_r2], 1, generator=g)[0][0]
        z_te = vae.sample_posterior(split.x_test, 1, generator=g)[0][0]
        r2 = factor_r2(z_tr, f_train[:n_r2, 1:], z_te, f_test[:, 1:])
        m.update(r2_x=float(r2[0]), r2_y=float(r2[1]), r2_scale=float(r2[2]))
        for n_mix in MIXTURES:
            x_mix = torch.cat([split.x_test, split.x_train[:n_mix - len(split.x_test)]])
            st = aggregate_stats(vae, x_mix, split.x_test, 2,
                                 generator=torch.Generator().manual_seed(2))
            m[f"mi_{n_mix}"], m[f"kl_{n_mix}"] = st.mutual_information, st.kl_aggregate_prior
            m[f"rate_{n_mix}"] = st.rate
    if k_large and vae.n_latents:
        m[f"test_ll_k{k_large}"] = float(iw_log_likelihood(
            vae, split.x_test, k_large, generator=torch.Generator().manual_seed(4)).mean())
    samples = vae.sample(1000, generator=torch.Generator().manual_seed(3))
    m["c2st"] = classifier_two_sample_test(samples, split.x_test).accuracy
    return m


def shapes_records(directory=None) -> dict:
    """The JSON records of every cached model (config, metrics, training bookkeeping)."""
    from lvmkit.artifacts import load_json

    return load_json(f"{CACHE}.json", directory)


def load_shapes_model(name: str, *, directory=None):
    """``(vae, record)`` of a model of ``data/part3_shapes_seeds.{pt,json}`` (float32,
    eval mode), hash-checked through :mod:`lvmkit.artifacts`."""
    from lvmkit.artifacts import load_weights

    records = shapes_records(directory)
    if name not in records:
        raise ValueError(f"name must be a model of {CACHE}.json, got {name!r}")
    cfg = records[name]["config"]
    vae = build_structured_vae(cfg["decoder"], cfg["n_pixels"], cfg["n_latents"],
                               prior=cfg["prior"])
    vae.load_state_dict(load_weights(f"{CACHE}.pt", directory)[name])
    return vae.float().eval(), records[name]
