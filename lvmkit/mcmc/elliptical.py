r"""Elliptical slice sampling (Murray, Adams & MacKay 2010) for a linear Gaussian
likelihood and a factorised prior, with the Gaussian part of the posterior as its
ellipse.

Write the posterior as a Gaussian times a remainder,

.. math::
    q(x \mid I) \propto \mathcal N(x;\ m, \Sigma)\, L(x),
    \qquad L(x) = \frac{r(x)}{\mathcal N(x; 0, V)},

.. math::
    \Sigma^{-1} = \frac{A^\top A}{\sigma^2} + V^{-1},
    \qquad m = \Sigma A^\top I / \sigma^2,

where the Gaussian factor is the likelihood times :math:`\mathcal N(x; 0, V)` and ``V``
holds the prior's variances. One step draws :math:`\nu \sim \mathcal N(0, \Sigma)` and
moves ``x`` along the ellipse :math:`m + (x - m)\cos\theta + \nu \sin\theta`, shrinking
the bracket of ``theta`` until :math:`L` clears a slice level: an exact, tuning-free
update that moves every latent at once along the posterior's correlated directions
(where single-latent Gibbs updates are slow). Where ``r`` is Gaussian, ``L`` is constant
and every step is an independent exact draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.distributions import Distribution, Independent

from lvmkit import validation

__all__ = ["build_elliptical_step"]

#: Shrinkage steps after which a chain keeps its current point (theta -> 0 is that
#: point, so the bracket always ends there; this only bounds the loop).
MAX_SHRINK = 100


def build_elliptical_step(A, noise_std: float, prior: Distribution, images) -> Callable:
    r"""``step(x, *, generator) -> (x, n_shrink)``: one elliptical slice step per chain.

    Each call draws, in this order: ``randn(B, N)`` (``nu``), ``rand(B)`` (the slice
    level), ``rand(B)`` (the first angle), then ``rand(B)`` per shrinkage round.

    Args:
        A: Dictionary, shape ``(P, N)``.
        noise_std: sigma.
        prior: Factorised prior of batch shape ``(N,)`` (or ``Independent`` of one) with
            ``log_prob`` and finite ``variance``.
        images: Shape ``(B, P)``.
    """
    A = validation.as_float_tensor("A", A, ndim=2)
    noise_std = validation.check_positive("noise_std", noise_std)
    images = validation.as_float_tensor("images", images, ndim=2).to(A.dtype)
    base = prior.base_dist if isinstance(prior, Independent) else prior
    var = torch.as_tensor(base.variance, dtype=A.dtype)
    if var.shape != (A.shape[1],) or not bool(torch.isfinite(var).all()):
        raise ValueError(
            f"prior needs finite variances of shape ({A.shape[1]},), got "
            f"{validation.describe(var)}"
        )
    prec = A.T @ A / noise_std**2 + torch.diag(1 / var)
    L = torch.linalg.cholesky(prec)
    eye = torch.eye(A.shape[1], dtype=A.dtype)
    C = torch.linalg.solve_triangular(L, eye, upper=False).T  # C C^T = Sigma
    mean = images @ A / noise_std**2 @ (C @ C.T)

    def log_l(x):
        return base.log_prob(x).sum(-1) + 0.5 * (x * x / var).sum(-1)

    def step(x: torch.Tensor, *, generator=None):
        B, N = x.shape
        nu = torch.randn(B, N, generator=generator, dtype=A.dtype) @ C.T
        level = log_l(x) + torch.log(torch.rand(B, generator=generator, dtype=A.dtype))
        theta = 2 * math.pi * torch.rand(B, generator=generator, dtype=A.dtype)
        lo, hi = theta - 2 * math.pi, theta.clone()
        f = x - mean
        out, active = x.clone(), torch.ones(B, dtype=torch.bool)
        n_shrink = torch.zeros(B, dtype=torch.long)
        for _ in range(MAX_SHRINK):
            prop = mean + f * torch.cos(theta)[:, None] + nu * torch.sin(theta)[:, None]
            ok = active & (log_l(prop) > level)
            out[ok] = prop[ok]
            active &= ~ok
            if not bool(active.any()):
                break
            n_shrink += active
            lo = torch.where(active & (theta < 0), theta, lo)
            hi = torch.where(active & (theta >= 0), theta, hi)
            u = torch.rand(B, generator=generator, dtype=A.dtype)
            theta = torch.where(active, lo + (hi - lo) * u, theta)
        return out, n_shrink

    return step
