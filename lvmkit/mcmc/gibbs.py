r"""Metropolis-within-Gibbs for a linear Gaussian likelihood and a factorised prior.

The posterior of :math:`I = A x + \varepsilon`, :math:`\varepsilon \sim
\mathcal N(0, \sigma^2 I_P)`, under a factorised prior :math:`r(x) = \prod_i r_i(x_i)`
is, for one latent given the others,

.. math::
    q(x_i \mid x_{-i}, I) \propto \mathcal N(x_i;\ \mu_i, \tau_i^2)\, r_i(x_i),

.. math::
    \tau_i^2 = \frac{\sigma^2}{\lVert a_i\rVert^2},
    \qquad \mu_i = x_i + \frac{a_i^\top (I - A x)}{\lVert a_i\rVert^2}.

A sweep updates the latents one at a time, each by two Metropolis-Hastings steps with
independence proposals, one from each factor: a draw from
:math:`\mathcal N(\mu_i, \tau_i^2)`, accepted with probability
:math:`\min(1, r_i(x_i') / r_i(x_i))`, then a draw from :math:`r_i`, accepted with
probability :math:`\min(1, \mathcal N(x_i'; \mu_i, \tau_i^2) / \mathcal N(x_i; \mu_i,
\tau_i^2))`. Each step leaves the conditional invariant, so the sweep leaves the
posterior invariant. Nothing is differentiated: the prior only needs ``log_prob`` and
``sample``, so cusps and infinite slopes at ``x_i = 0`` (a generalised Gaussian with
``alpha < 1``, where HMC fails its checks) cost nothing. The first proposal is good where
the likelihood dominates, the second where the prior does; mixing slows when atoms are
strongly correlated (the Gram matrix far from diagonal).

Blackjax's pattern: :class:`GibbsState`, :class:`GibbsInfo`, a pure sweep built by
:func:`build_sweep`, and :func:`gibbs`, the loop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch.distributions import Distribution, Independent

from lvmkit import validation
from lvmkit.mcmc.elliptical import build_elliptical_step

__all__ = ["GibbsInfo", "GibbsResult", "GibbsState", "build_sweep", "gibbs"]


class GibbsState(NamedTuple):
    """The state of ``B`` chains.

    Attributes:
        position: Shape ``(B, N)``.
        residual: ``I - x A^T``, shape ``(B, P)`` (kept up to date, latent by latent).
    """

    position: torch.Tensor
    residual: torch.Tensor


class GibbsInfo(NamedTuple):
    """What one sweep did.

    Attributes:
        accept_likelihood: Acceptance of the likelihood-factor proposals, ``(B, N)``.
        accept_prior: Acceptance of the prior-factor proposals, ``(B, N)``.
    """

    accept_likelihood: torch.Tensor
    accept_prior: torch.Tensor


class GibbsResult(NamedTuple):
    """Output of :func:`gibbs`.

    Attributes:
        samples: Shape ``(S, B, N)``.
        accept_likelihood: Mean acceptance per latent after warm-up, ``(N,)``.
        accept_prior: The same for the prior-factor proposals, ``(N,)``.
        n_shrink: Mean shrinkage rounds of the elliptical steps after warm-up (0 when
            they are off).
    """

    samples: torch.Tensor
    accept_likelihood: torch.Tensor
    accept_prior: torch.Tensor
    n_shrink: float


def _factors(prior: Distribution, N: int) -> Distribution:
    base = prior.base_dist if isinstance(prior, Independent) else prior
    if tuple(base.batch_shape) != (N,) or tuple(base.event_shape) != ():
        raise ValueError(
            "prior must be a factorised distribution over the N = "
            f"{N} latents (batch shape ({N},), or Independent of it), got batch shape "
            f"{tuple(base.batch_shape)} and event shape {tuple(base.event_shape)}"
        )
    return base


def _per_latent_log_prob(base: Distribution, N: int) -> Callable:
    """``log_r(v, i)``: the log density of factor ``i`` at ``v`` (shape ``(B,)``).

    The factors are rebuilt one by one from the distribution's parameters (its
    ``arg_constraints``), so a call costs one latent, not ``N``; a distribution that
    cannot be rebuilt that way is evaluated whole and column ``i`` kept.
    """
    try:
        names = [k for k in base.arg_constraints if k in base.__dict__]
        params = {k: getattr(base, k) for k in names}
        factors = [type(base)(**{k: v[i] for k, v in params.items()}) for i in range(N)]
        probe = torch.zeros(2, dtype=params[names[0]].dtype)
        for i in (0, N - 1):
            one_hot = base.log_prob(probe[:, None].expand(-1, N))[:, i]
            if not torch.allclose(factors[i].log_prob(probe), one_hot):
                raise ValueError("rebuilt factor differs")
    except (TypeError, ValueError, IndexError, KeyError, NotImplementedError):
        return lambda v, i: base.log_prob(v[:, None].expand(-1, N))[:, i]
    return lambda v, i: factors[i].log_prob(v)


def _prior_draws(base: Distribution, N: int, dtype: torch.dtype) -> Callable:
    """``draw(B, generator) -> (B, N)``: ``sample(generator=...)`` if the distribution
    takes a generator, else its ``icdf`` of uniforms (torch's own distributions)."""
    if "generator" in inspect.signature(base.sample).parameters:
        return lambda B, g: base.sample((B,), generator=g).to(dtype)
    try:
        base.icdf(torch.full((N,), 0.5, dtype=dtype))
    except NotImplementedError:
        raise ValueError(
            "prior must take sample(shape, generator=...) or have an icdf, so that "
            f"its draws are reproducible; {type(base).__name__} has neither"
        ) from None
    return lambda B, g: base.icdf(torch.rand(B, N, generator=g, dtype=dtype))


def build_sweep(A, noise_std: float, prior: Distribution) -> Callable:
    r"""One sweep over the latents: ``sweep(state, images, *, generator) -> (state, info)``.

    Each sweep draws, in this order: ``prior.sample((B,), generator=...)``, or the
    prior's ``icdf`` of ``rand(B, N)`` where ``sample`` takes no generator (the
    prior-factor proposals), ``rand(2, B, N)`` (the two acceptance tests per latent) and
    ``randn(B, N)`` (the likelihood-factor proposals); then it visits latents ``0 ..
    N - 1`` in order.

    Args:
        A: Dictionary, shape ``(P, N)``.
        noise_std: sigma.
        prior: Factorised prior over the ``N`` latents: a distribution of batch shape
            ``(N,)`` (or ``Independent`` of one) with ``log_prob`` and
            ``sample(shape, generator=...)`` (e.g.
            :class:`~lvmkit.priors.GeneralizedGaussian`) or ``icdf`` (e.g.
            :class:`torch.distributions.Normal`).
    """
    A = validation.as_float_tensor("A", A, ndim=2)
    noise_std = validation.check_positive("noise_std", noise_std)
    base = _factors(prior, A.shape[1])
    draw_prior = _prior_draws(base, A.shape[1], A.dtype)
    norm2 = (A**2).sum(0)
    if not torch.all(norm2 > 0):
        raise ValueError("A must have no all-zero column (atom)")
    tau = noise_std / norm2.sqrt()

    log_r = _per_latent_log_prob(base, A.shape[1])

    def sweep(state: GibbsState, images: torch.Tensor, *, generator=None):
        x, res = state.position.clone(), state.residual.clone()
        B, N = x.shape
        from_prior = draw_prior(B, generator)
        log_u = torch.log(torch.rand(2, B, N, generator=generator, dtype=A.dtype))
        z = torch.randn(B, N, generator=generator, dtype=A.dtype)
        acc = torch.zeros(2, B, N, dtype=torch.bool)
        for i in range(N):
            a_i, x_i = A[:, i], x[:, i]
            mu = x_i + res @ a_i / norm2[i]
            prop = mu + tau[i] * z[:, i]
            acc[0, :, i] = log_u[0, :, i] < log_r(prop, i) - log_r(x_i, i)
            new = torch.where(acc[0, :, i], prop, x_i)
            prop = from_prior[:, i]
            gauss = ((new - mu) ** 2 - (prop - mu) ** 2) / (2 * tau[i] ** 2)
            acc[1, :, i] = log_u[1, :, i] < gauss
            new = torch.where(acc[1, :, i], prop, new)
            res -= torch.outer(new - x_i, a_i)
            x[:, i] = new
        return GibbsState(x, res), GibbsInfo(acc[0], acc[1])

    return sweep


def gibbs(
    A,
    noise_std: float,
    prior: Distribution,
    images,
    x0,
    *,
    n_samples: int,
    n_warmup: int = 50,
    thin: int = 1,
    elliptical: bool = True,
    generator: torch.Generator | None = None,
) -> GibbsResult:
    r"""Sample :math:`q(x \mid I)` for every image by Metropolis-within-Gibbs sweeps.

    One chain per image, started at ``x0``. An iteration is one sweep and, with
    ``elliptical``, one elliptical slice step
    (:func:`lvmkit.mcmc.elliptical.build_elliptical_step`), which moves all latents at
    once along the posterior's Gaussian ellipse: single-latent updates alone mix slowly
    when atoms are correlated (the posterior of a singular or overcomplete dictionary).
    Both leave the posterior invariant, so their composition does. ``n_warmup``
    iterations are discarded, then every ``thin``-th is kept. The residual is recomputed
    from scratch once per iteration, so rounding does not accumulate.

    Args:
        A: Dictionary, shape ``(P, N)``.
        noise_std: sigma.
        prior: Factorised prior over the ``N`` latents (see :func:`build_sweep`).
        images: Shape ``(B, P)``.
        x0: Starting points, shape ``(B, N)``.
        n_samples: Draws kept per chain.
        n_warmup: Sweeps discarded first.
        thin: Keep every ``thin``-th iteration.
        elliptical: Add the elliptical slice step (needs the prior's finite variances).
        generator: Source of randomness.

    Returns:
        :class:`GibbsResult` with ``samples`` of shape ``(n_samples, B, N)``.
    """
    A = validation.as_float_tensor("A", A, ndim=2)
    images = validation.as_float_tensor("images", images, ndim=2)
    x0 = validation.as_float_tensor("x0", x0, ndim=2)
    if images.shape[1] != A.shape[0]:
        raise ValueError(
            f"images must have shape (B, {A.shape[0]}) for A of shape "
            f"{tuple(A.shape)}, got {tuple(images.shape)}"
        )
    if x0.shape != (images.shape[0], A.shape[1]):
        raise ValueError(
            f"x0 must have shape ({images.shape[0]}, {A.shape[1]}), got "
            f"{tuple(x0.shape)}"
        )
    validation.check_int("n_samples", n_samples, 1)
    validation.check_int("n_warmup", n_warmup, 0)
    validation.check_int("thin", thin, 1)
    validation.check_generator("generator", generator)
    images, x0 = images.to(A.dtype), x0.to(A.dtype)
    sweep = build_sweep(A, noise_std, prior)
    ess = (
        build_elliptical_step(A, noise_std, _factors(prior, A.shape[1]), images)
        if elliptical
        else None
    )
    state = GibbsState(x0, images - x0 @ A.T)
    kept, acc, shrink = [], torch.zeros(2, A.shape[1], dtype=A.dtype), 0.0
    for it in range(n_warmup + n_samples * thin):
        state, info = sweep(state, images, generator=generator)
        x = state.position
        if ess is not None:
            x, n_shrink = ess(x, generator=generator)
            shrink += float(n_shrink.double().mean()) if it >= n_warmup else 0.0
        state = GibbsState(x, images - x @ A.T)
        if it >= n_warmup:
            acc += torch.stack(info).to(A.dtype).mean(1)
            if (it - n_warmup + 1) % thin == 0:
                kept.append(state.position.clone())
    acc /= n_samples * thin
    return GibbsResult(torch.stack(kept), acc[0], acc[1], shrink / (n_samples * thin))
