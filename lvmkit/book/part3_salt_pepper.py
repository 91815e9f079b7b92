"""Book-only code of chapters/part3/salt-and-pepper.ipynb: the terms of the Lagrangian
family and the kernel MMD of a model and its scramble, and neighbourhood preservation
over the cached models and seeds."""

from __future__ import annotations

import numpy as np
import torch

from lvmkit import validation
from lvmkit.aggregate_posterior import aggregate_stats
from lvmkit.probes import neighbourhood_preservation
from lvmkit.vae import elbo_terms, iw_log_likelihood, mmd_rbf, sample_prior

__all__ = [
    "describe",
    "lagrangian_terms",
    "mmd_replicates",
    "neighbourhoods",
    "seed_groups",
]


@torch.no_grad()
def lagrangian_terms(model, x_test, x_all, *, seed: int) -> dict[str, float]:
    """log p(x) (K = 100), D and R (10 draws) on ``x_test``; MI and KL(q(z) || p(z))
    with the aggregate of every image of ``x_all`` (queried at ``x_test``); nats."""
    validation.as_data_batch("x_test", x_test, model.n_pixels)
    validation.as_data_batch("x_all", x_all, model.n_pixels)
    g = torch.Generator().manual_seed(seed)
    ll = float(iw_log_likelihood(model, x_test, 100, generator=g).mean())
    t = elbo_terms(model, x_test, 10, generator=g)
    st = aggregate_stats(model, x_all, x_test, 5, generator=g)
    return {
        "log p(x)": ll,
        "D": float(t.distortion.mean()),
        "R": float(t.rate.mean()),
        "MI": st.mutual_information,
        "KL(q ‖ p)": st.kl_aggregate_prior,
    }


@torch.no_grad()
def mmd_replicates(model, x_all, n: int, *, seed: int) -> np.ndarray:
    """``n`` independent estimates of InfoVAE's MMD(q(z), p(z)) (:func:`lvmkit.vae.mmd_rbf`):
    one posterior draw per image of ``x_all`` against as many prior draws. A model and
    its scramble given the same ``seed`` use the same draws (a paired comparison)."""
    validation.check_int("n", n, 1)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        z = model.sample_posterior(x_all, 1, generator=g)[0][0]
        p = sample_prior(model.prior(), len(x_all), generator=g)
        out.append(float(mmd_rbf(z, p)))
    return np.array(out)


def seed_groups(
    records: dict,
    fields=("decoder", "n_latents", "prior", "beta", "mmd_weight", "warm_start"),
) -> dict:
    """Group cached model names by their configuration without the seed: {config: names}."""
    if not isinstance(records, dict):
        raise TypeError(
            f"records must be a dict key -> record, got {type(records).__name__}"
        )
    groups: dict = {}
    for name, rec in sorted(records.items()):
        cfg = rec["config"]
        groups.setdefault(tuple(cfg.get(f) for f in fields), []).append(name)
    return groups


@torch.no_grad()
def neighbourhoods(model, x, *, scramble=None, seed: int = 4, k: int = 10) -> float:
    """Neighbourhood preservation between pixels and one posterior sample per image."""
    validation.as_data_batch("x", x, model.n_pixels)
    validation.check_int("k", k, 1)
    z = model.sample_posterior(x, 1, generator=torch.Generator().manual_seed(seed))[0][
        0
    ]
    if scramble is not None:
        z = scramble(z)
    return neighbourhood_preservation(x, z, k=k)


def describe(r) -> str:
    """A :class:`lvmkit.book.Replicates` as text: ``"m ± se (n = k)"``, or
    ``"m (one seed)"`` when there is a single replicate (no standard error)."""
    from lvmkit.book import Replicates

    if not isinstance(r, Replicates):
        raise TypeError(f"r must be a Replicates summary, got {type(r).__name__}")
    from lvmkit.book import sig

    return str(r) if r.n > 1 else f"{sig(r.mean, 3)} (one seed)"
