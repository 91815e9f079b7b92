r"""The aggregate posterior against *many* data points, queried at a few.

:func:`lvmkit.probes.aggregate_posterior_stats` draws :math:`z \sim q(z \mid x_n)` for
every datum of a set of :math:`N` and mixes the same :math:`N` posteriors into
:math:`q_N(z) = \frac1N \sum_m q(z \mid x_m)`. Each draw then sits under its own
component, so :math:`\log q_N(z) \ge \log q(z \mid x_n) - \log N`: the mutual
information estimate is at most :math:`\log N` and
:math:`\mathrm{KL}(q_N \| p) \ge R - \log N` (R the rate). When the rate is near
:math:`\log N` (the shapes models: R ~ 6-7 nats, :math:`\log 1000 = 6.9`) the KL
estimate is mostly this floor.

:func:`aggregate_stats` separates the two roles: draws come from the posteriors of
``n_query`` data points, the mixture is over all ``len(x_mix)``, so the floor falls to
:math:`R - \log N_{\text{mix}}` at the cost of ``n_query * N_mix`` posterior evaluations
instead of :math:`N^2`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from lvmkit import validation
from lvmkit.estimators import mi_from_posteriors

__all__ = ["AggregateEstimate", "aggregate_stats"]


class AggregateEstimate(NamedTuple):
    """Nats per datum, with standard errors over the query points."""

    rate: float
    mutual_information: float
    kl_aggregate_prior: float
    rate_se: float
    mi_se: float
    kl_se: float
    n_mixture: int


@torch.no_grad()
def aggregate_stats(
    model,
    x_mix: torch.Tensor,
    x_query: torch.Tensor,
    n_samples: int = 2,
    *,
    generator=None,
    chunk: int = 32,
) -> AggregateEstimate:
    r"""Rate, :math:`I_q(x; z)` and :math:`\mathrm{KL}(q(z) \| p(z))` with a large mixture.

    For each query datum :math:`x_n` and draw :math:`z \sim q(z \mid x_n)`:
    :math:`\log q(z \mid x_n) - \log q(z)` (MI) and :math:`\log q(z) - \log p(z)`
    (KL), with :math:`\log q(z) = \mathrm{logsumexp}_m \log q(z \mid x_m) - \log M`
    over the ``M = len(x_mix)`` mixture data. The query points should be among the
    mixture data (as in the identity rate = MI + KL, which holds for the mixture).

    Args:
        model: Any model with the latent model protocol of :mod:`lvmkit.vae`.
        x_mix: Data whose posteriors form the aggregate, ``(M, P)``.
        x_query: Data whose posteriors are sampled, ``(N, P)``.
        n_samples: Draws per query datum.
        generator: Source of the draws.
        chunk: Query points per block (memory ``chunk * M * n_samples``).
    """
    from lvmkit.validation import as_model_data as _check_model_data

    x_mix = _check_model_data(model, x_mix, "x_mix")
    x_query = _check_model_data(model, x_query, "x_query")
    n_samples = validation.check_int("n_samples", n_samples, 1)
    chunk = validation.check_int("chunk", chunk, 1)
    if model.n_latents == 0:
        raise ValueError("model must have latents (n_latents > 0)")
    m = x_mix.shape[0]
    z, log_q = model.sample_posterior(
        x_query, n_samples, generator=generator
    )  # (S, N, d)
    log_agg = torch.empty_like(log_q)
    # a VAE's posteriors of the mixture are computed once; other models go through the
    # protocol (which re-encodes x_mix for each block)
    q_mix = model.posterior(x_mix) if hasattr(model, "posterior") else None
    for i in range(0, x_query.shape[0], chunk):
        zc = z[:, i : i + chunk, None, :]
        if q_mix is not None:
            lp = q_mix.log_prob(zc)  # (S, C, M)
        else:
            lp = model.posterior_log_prob(x_mix, zc)
        log_agg[:, i : i + chunk] = torch.logsumexp(lp, dim=-1) - math.log(m)
    log_p = model.prior().log_prob(z)
    rate = mi_from_posteriors(log_q.T, log_p.T)
    mi = mi_from_posteriors(log_q.T, log_agg.T)
    kl = mi_from_posteriors(log_agg.T, log_p.T)
    return AggregateEstimate(
        rate.value, mi.value, kl.value, rate.stderr, mi.stderr, kl.stderr, m
    )
