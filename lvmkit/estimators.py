r"""Estimators of Kullback-Leibler divergence and mutual information.

Closed forms where they exist (Gaussians), Monte Carlo where densities can be
evaluated, and nearest-neighbour estimators where only samples are available:

- :func:`kl_gaussian`: KL(p || q), exact, between two Gaussians.
- :func:`mi_gaussian`: I(x; y), exact, from a joint covariance.
- :func:`kl_monte_carlo`: E_p[log p - log q] from samples of p and both log densities.
- :func:`mi_from_posteriors`: E_x KL(q(z|x) || p(z)) from z ~ q(z|x) and both log densities.
- :func:`kl_knn`: KL(p || q) from samples of p and q (Wang, Kulkarni & Verdu 2009).
- :func:`mi_ksg`: I(x; y) from paired samples (Kraskov, Stoegbauer & Grassberger 2004).
- :func:`kl_histogram_1d`: KL(p || q) in one dimension, from samples of p and samples
  or the log density of q.

All results are in nats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma
from torch.distributions import (
    Distribution,
    Independent,
    MultivariateNormal,
    Normal,
    kl_divergence,
)

__all__ = [
    "Estimate",
    "kl_gaussian",
    "kl_histogram_1d",
    "kl_knn",
    "kl_monte_carlo",
    "mi_from_posteriors",
    "mi_gaussian",
    "mi_ksg",
]


class Estimate(NamedTuple):
    """A Monte Carlo estimate and its standard error (both in nats)."""

    value: float
    stderr: float


def _as_2d(name: str, x) -> np.ndarray:
    x = x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=float)
    x = x.astype(float, copy=False)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n, d) with n >= 2, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (no NaN or Inf)")
    return x


def _check_k(k: int, n: int) -> int:
    if int(k) != k or k < 1 or k >= n:
        raise ValueError(f"k must be an integer in [1, {n - 1}], got {k}")
    return int(k)


def kl_gaussian(p: Distribution, q: Distribution) -> torch.Tensor:
    r"""Exact KL(p || q) between two Gaussians (any batch shape).

    Thin wrapper on :func:`torch.distributions.kl_divergence` that refuses
    non-Gaussian arguments instead of failing later with ``NotImplementedError``.

    Args:
        p, q: ``Normal``, ``MultivariateNormal`` or ``Independent(Normal)`` with equal
            event shapes.

    Returns:
        Tensor of shape ``batch_shape``.
    """
    def gaussian(d):
        base = d.base_dist if isinstance(d, Independent) else d
        return isinstance(base, (Normal, MultivariateNormal))

    if not (gaussian(p) and gaussian(q)):
        raise ValueError(
            f"kl_gaussian needs two Gaussian distributions, got {type(p).__name__} "
            f"and {type(q).__name__}"
        )
    if p.event_shape != q.event_shape:
        raise ValueError(f"event shapes differ: {tuple(p.event_shape)} and {tuple(q.event_shape)}")
    return kl_divergence(p, q)


def mi_gaussian(cov, x_dims: Sequence[int], y_dims: Sequence[int]) -> float:
    r"""Exact mutual information of jointly Gaussian blocks.

    .. math:: I(x; y) = \tfrac12 \log \frac{\det \Sigma_{xx} \det \Sigma_{yy}}{\det \Sigma},

    with :math:`\Sigma` the covariance of ``(x, y)`` restricted to ``x_dims + y_dims``.

    Args:
        cov: Joint covariance, shape ``(D, D)``, symmetric positive definite.
        x_dims, y_dims: Disjoint index lists into ``range(D)``.
    """
    cov = np.asarray(cov.detach().cpu() if torch.is_tensor(cov) else cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.isfinite(cov).all():
        raise ValueError(f"cov must be a finite square matrix, got shape {cov.shape}")
    x_dims, y_dims = list(x_dims), list(y_dims)
    if not x_dims or not y_dims or set(x_dims) & set(y_dims):
        raise ValueError("x_dims and y_dims must be non-empty and disjoint")
    both = x_dims + y_dims

    def logdet(idx):
        sign, value = np.linalg.slogdet(cov[np.ix_(idx, idx)])
        if sign <= 0:
            raise ValueError("cov must be positive definite")
        return value

    return 0.5 * (logdet(x_dims) + logdet(y_dims) - logdet(both))


def kl_monte_carlo(
    p: Distribution, q: Distribution, n: int, *, generator: torch.Generator | None = None
) -> Estimate:
    r"""Monte Carlo estimate of KL(p || q) = E_{X~p}[log p(X) - log q(X)].

    Args:
        p: Distribution to sample from; must have ``log_prob``. When a ``generator`` is
            given, ``p`` must be reparameterisable or be sampled under a forked global
            RNG seeded from it.
        q: Distribution with ``log_prob`` on the same support.
        n: Number of samples, at least 2.
        generator: Source of randomness (seeds a forked global RNG for the draw).

    Returns:
        :class:`Estimate` of the mean and its standard error (summing over ``p``'s
        batch shape is not done: the batch must be empty).
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n}")
    if p.batch_shape != torch.Size():
        raise ValueError(f"p must have an empty batch shape, got {tuple(p.batch_shape)}")
    with torch.random.fork_rng(devices=[]):
        if generator is not None:
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        x = p.sample((int(n),))
    diff = (p.log_prob(x) - q.log_prob(x)).double()
    return Estimate(float(diff.mean()), float(diff.std() / np.sqrt(n)))


def mi_from_posteriors(log_post, log_prior) -> Estimate:
    r"""Mutual information as the average divergence of posteriors from the prior.

    .. math:: I(x; z) = \mathbb E_{x}\, \mathrm{KL}(q(z \mid x) \,\|\, p(z))
              \approx \frac1{n} \sum_i \log q(z_i \mid x_i) - \log p(z_i),
              \quad z_i \sim q(z \mid x_i),

    which is exact in expectation when ``p(z)`` is the average posterior (the marginal
    of the joint); with any other reference density it estimates
    :math:`I + \mathrm{KL}(q(z) \| p(z))`, an upper bound (part 2, bonus 2).

    Args:
        log_post: ``log q(z_i | x_i)``, shape ``(n,)`` (or ``(n, s)`` for ``s`` samples
            per datum).
        log_prior: ``log p(z_i)``, same shape.
    """
    a = torch.as_tensor(log_post, dtype=torch.float64)
    b = torch.as_tensor(log_prior, dtype=torch.float64)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[0] < 2:
        raise ValueError(
            f"log_post and log_prior must share a shape (n,) or (n, s), n >= 2; "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        raise ValueError("log densities must be finite")
    per_datum = (a - b).reshape(a.shape[0], -1).mean(1)
    return Estimate(float(per_datum.mean()), float(per_datum.std() / np.sqrt(len(per_datum))))


def kl_knn(x, y, k: int = 1) -> float:
    r"""k-nearest-neighbour estimate of KL(p || q) from samples (Wang et al. 2009).

    .. math:: \widehat{\mathrm{KL}} = \frac{d}{n} \sum_i \log \frac{\nu_k(i)}{\rho_k(i)}
              + \log \frac{m}{n - 1},

    where :math:`\rho_k(i)` is the distance from :math:`x_i` to its k-th neighbour among
    the other x's and :math:`\nu_k(i)` to its k-th neighbour among the y's. Consistent
    (bias -> 0 as n, m grow); duplicate points make it undefined.

    Args:
        x: Samples of p, shape ``(n, d)`` (or ``(n,)``).
        y: Samples of q, shape ``(m, d)``.
        k: Neighbour order, ``1 <= k < n``.
    """
    x, y = _as_2d("x", x), _as_2d("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    n, d = x.shape
    k = _check_k(k, n)
    rho = cKDTree(x).query(x, k + 1)[0][:, k]
    nu = cKDTree(y).query(x, k)[0]
    nu = nu if nu.ndim == 1 else nu[:, k - 1]
    if (rho <= 0).any() or (nu <= 0).any():
        raise ValueError("duplicate samples: nearest-neighbour distances of zero")
    return float(d * np.mean(np.log(nu / rho)) + np.log(len(y) / (n - 1)))


def mi_ksg(x, y, k: int = 3) -> float:
    r"""Kraskov-Stoegbauer-Grassberger estimate of I(x; y) (their estimator 1).

    .. math:: \hat I = \psi(k) + \psi(n) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle,

    with max-norm distances in the joint space. Nearly unbiased at low MI; biased
    downwards when the MI is large relative to ``log n``.

    Args:
        x: Shape ``(n, dx)`` (or ``(n,)``).
        y: Shape ``(n, dy)``; rows are paired with those of ``x``.
        k: Neighbour order, ``1 <= k < n``.
    """
    x, y = _as_2d("x", x), _as_2d("y", y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same number of rows, got {len(x)} and {len(y)}")
    n = len(x)
    k = _check_k(k, n)
    xy = np.hstack([x, y])
    eps = cKDTree(xy).query(xy, k + 1, p=np.inf)[0][:, k]
    # count strictly closer points in each marginal space (excluding the point itself)
    radius = np.nextafter(eps, 0)
    nx = cKDTree(x).query_ball_point(x, radius, p=np.inf, return_length=True) - 1
    ny = cKDTree(y).query_ball_point(y, radius, p=np.inf, return_length=True) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))


def kl_histogram_1d(
    p_samples, q: np.ndarray | torch.Tensor | Callable, bins: int | Sequence[float] = 50
) -> float:
    r"""Plug-in estimate of KL(p || q) in one dimension from a histogram of p.

    If ``q`` is an array of samples, both are histogrammed on shared bins (bins where
    q is empty but p is not get q's mass set to half a count, to keep the estimate
    finite). If ``q`` is a callable returning ``log q`` at given points (NumPy in, NumPy
    out), q's bin masses are computed by the trapezoid rule on a fine grid.

    Args:
        p_samples: Shape ``(n,)``.
        q: Samples of q, shape ``(m,)``, or a log density.
        bins: Number of equal-width bins over the samples' range, or bin edges.
    """
    p = _as_2d("p_samples", p_samples)
    if p.shape[1] != 1:
        raise ValueError(f"p_samples must be one-dimensional, got shape {p.shape}")
    p = p[:, 0]
    if callable(q):
        edges = np.histogram_bin_edges(p, bins=bins)
        fine = np.linspace(edges[0], edges[-1], 20 * (len(edges) - 1) + 1)
        dens = np.exp(np.asarray(q(fine), dtype=float))
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(fine))])
        q_mass = np.diff(cum[:: 20])
    else:
        qs = _as_2d("q", q)[:, 0]
        edges = np.histogram_bin_edges(np.concatenate([p, qs]), bins=bins)
        counts = np.histogram(qs, edges)[0].astype(float)
        q_mass = np.where(counts > 0, counts, 0.5) / len(qs)
    p_mass = np.histogram(p, edges)[0] / len(p)
    keep = p_mass > 0
    if (q_mass[keep] <= 0).any():
        raise ValueError("q has zero mass where p has samples: KL is infinite")
    return float(np.sum(p_mass[keep] * np.log(p_mass[keep] / q_mass[keep])))
