r"""Maximum-likelihood prior scales and noise of a linear model by Monte-Carlo EM.

The model is ``x_i ~ r_i`` independent with scale ``s_i`` and ``I | x ~ N(A x, sigma^2)``
with the dictionary ``A (P, N)`` held fixed. EM raises the marginal likelihood
``sum_b log r(I_b)`` by alternating

* E-step: draws ``x^{(k)}_b ~ q(x | I_b)`` under the current ``(s, sigma)``;
* M-step: the closed-form maximiser of ``E_q[log r(x) + log p(I | x)]``,

  .. math::
      s_i = \langle |x_i| \rangle \;(\text{Laplace}), \qquad
      s_i^2 = \langle x_i^2 \rangle \;(\text{Gaussian}), \qquad
      \sigma^2 = \tfrac1P \langle \lVert I - A x \rVert^2 \rangle ,

  the averages running over images and posterior draws (the draws carry the posterior
  trace term of ``sigma^2``). For the Laplace prior this is the book's ``r <- q`` update
  restricted to scales: the new prior is the Laplace law closest in KL to each marginal
  of the average posterior.

Per-latent Laplace scales are sampled with :func:`lvmkit.mcmc.sample_posterior` on
a rescaled dictionary: ``x_i = z_i s_i / s_0`` with ``z_i`` Laplace of scale ``s_0`` is
the model with columns ``A_i s_i / s_0``, so one shared-scale sampler serves every
``s``. The exact Gaussian E-step (:func:`gaussian_e_step`) is the test case: its EM
fixed point is the maximum of the closed-form Gaussian marginal likelihood.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = [
    "EMResult",
    "energy_correlation",
    "gaussian_e_step",
    "gaussian_m_step",
    "gaussian_marginal_loglik",
    "laplace_e_step",
    "laplace_m_step",
    "mc_em",
]


class EMResult(NamedTuple):
    """Output of :func:`mc_em`.

    Attributes:
        scales: Final prior scales ``(N,)``: the mean of the last ``patience`` iterates.
        noise_std: Final ``sigma``, the same mean.
        scales_path: Iterates ``(T + 1, N)``, the start first.
        noise_path: Iterates of ``sigma``, ``(T + 1,)``.
        change: Criterion per iteration ``(T,)``: ``max(|d log sigma|, |d mean log s|)``.
        converged: Whether ``change < tol`` held for ``patience`` iterations in a row.
        n_iter: ``T``.
    """

    scales: torch.Tensor
    noise_std: float
    scales_path: torch.Tensor
    noise_path: torch.Tensor
    change: torch.Tensor
    converged: bool
    n_iter: int


def _check(images, A, scales, noise_std):
    A = validation.as_float_tensor("A", A, shape=("P", "N"), dtype=torch.float64)
    images = validation.as_float_tensor(
        "images", images, shape=("B", A.shape[0]), dtype=torch.float64
    )
    scales = validation.as_float_tensor(
        "scales", scales, shape=(A.shape[1],), dtype=torch.float64
    )
    if not bool((scales > 0).all()):
        raise ValueError("scales must be positive")
    validation.check_positive("noise_std", noise_std)
    return images, A, scales


def laplace_e_step(
    images: torch.Tensor,
    A: torch.Tensor,
    scales: torch.Tensor,
    noise_std: float,
    *,
    n_samples: int = 10,
    n_warmup: int = 150,
    thin: int = 2,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Posterior draws under per-latent Laplace scales ``s_i``.

    Args:
        images: ``(B, P)``. A: ``(P, N)``. scales: ``s``, ``(N,)``. noise_std: ``sigma``.
        n_samples, n_warmup, thin: Passed to :func:`lvmkit.mcmc.sample_posterior`
            (``method="laplace"``).
        generator: Source of randomness.

    Returns:
        Draws ``(S, B, N)`` of ``x`` (in the original, unscaled coordinates).
    """
    from lvmkit.mcmc import sample_posterior
    from lvmkit.models import SparseLinearGaussian

    images, A, scales = _check(images, A, scales, noise_std)
    s0 = float(scales.mean())
    ratio = scales / s0
    model = SparseLinearGaussian(
        A * ratio, alpha=1.0, prior_scale=s0, noise_std=noise_std
    )
    res = sample_posterior(
        model,
        images,
        n_samples=n_samples,
        n_warmup=n_warmup,
        thin=thin,
        method="laplace",
        generator=generator,
    )
    return res.samples * ratio


def gaussian_e_step(
    images: torch.Tensor,
    A: torch.Tensor,
    scales: torch.Tensor,
    noise_std: float,
    *,
    n_samples: int = 10,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Exact posterior draws under a Gaussian prior ``x_i ~ N(0, s_i^2)``.

    The posterior is ``N(m, Sigma)``, ``Sigma^{-1} = A^T A / sigma^2 + diag(s)^{-2}``,
    ``m = Sigma A^T I / sigma^2``.

    Returns:
        Draws ``(S, B, N)``.
    """
    images, A, scales = _check(images, A, scales, noise_std)
    validation.check_int("n_samples", n_samples, 1)
    prec = A.T @ A / noise_std**2 + torch.diag(scales**-2)
    L = torch.linalg.cholesky(prec)
    cov = torch.cholesky_inverse(L)
    mean = images @ A @ cov / noise_std**2
    z = torch.randn(n_samples, *mean.shape, generator=generator, dtype=mean.dtype)
    # x = m + L^{-T} z has covariance (L L^T)^{-1} = Sigma
    return mean + torch.linalg.solve_triangular(
        L.T, z.transpose(-1, -2), upper=True
    ).transpose(-1, -2)


def _check_draws(images, A, draws):
    A = validation.as_float_tensor("A", A, shape=("P", "N"), dtype=torch.float64)
    images = validation.as_float_tensor(
        "images", images, shape=("B", A.shape[0]), dtype=torch.float64
    )
    draws = validation.as_float_tensor("draws", draws, ndim=3, dtype=torch.float64)
    if draws.shape[1:] != (images.shape[0], A.shape[1]):
        raise ValueError(
            f"draws must have shape (S, {images.shape[0]}, {A.shape[1]}), "
            f"got {tuple(draws.shape)}"
        )
    return images, A, draws


def _noise_m_step(images, A, draws) -> float:
    resid = images - draws @ A.T
    return float(resid.square().mean().sqrt())


def laplace_m_step(
    images: torch.Tensor, A: torch.Tensor, draws: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """M-step of the Laplace prior: ``s_i = mean |x_i|``, ``sigma^2`` = mean residual^2.

    Args:
        images: ``(B, P)``. A: ``(P, N)``. draws: ``(S, B, N)``.

    Returns:
        ``(scales (N,), noise_std)``.
    """
    images, A, draws = _check_draws(images, A, draws)
    return draws.abs().mean((0, 1)), _noise_m_step(images, A, draws)


def gaussian_m_step(
    images: torch.Tensor, A: torch.Tensor, draws: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """M-step of the Gaussian prior: ``s_i^2 = mean x_i^2``, ``sigma`` as above."""
    images, A, draws = _check_draws(images, A, draws)
    return draws.square().mean((0, 1)).sqrt(), _noise_m_step(images, A, draws)


def mc_em(
    images: torch.Tensor,
    A: torch.Tensor,
    scales: torch.Tensor,
    noise_std: float,
    *,
    e_step: Callable[..., torch.Tensor],
    m_step: Callable[..., tuple],
    tol: float = 0.005,
    patience: int = 3,
    max_iter: int = 50,
    generator: torch.Generator | None = None,
    callback: Callable[[int, torch.Tensor, float], None] | None = None,
) -> EMResult:
    """Monte-Carlo EM for the prior scales and the noise with ``A`` fixed.

    Stopping rule: the change ``max(|d log sigma|, |d mean_i log s_i|)`` of one iteration
    stays below ``tol`` for ``patience`` consecutive iterations (the Monte Carlo
    jitter of the iterates must sit below ``tol``, which the caller ensures with enough
    images and draws). The result is the mean of the last ``patience`` iterates.

    Args:
        images: ``(B, P)``. A: ``(P, N)``. scales: start ``(N,)``. noise_std: start.
        e_step: ``(images, A, scales, noise_std, generator=) -> draws (S, B, N)``.
        m_step: ``(images, A, draws) -> (scales, noise_std)``.
        tol, patience, max_iter: Stopping rule.
        generator: Passed to ``e_step``.
        callback: Called as ``callback(t, scales, noise_std)`` after each iteration.

    Returns:
        :class:`EMResult`.
    """
    images, A, scales = _check(images, A, scales, noise_std)
    validation.check_positive("tol", tol)
    validation.check_int("patience", patience, 1)
    validation.check_int("max_iter", max_iter, 1)
    path_s, path_n, change = [scales], [float(noise_std)], []
    streak, converged = 0, False
    for t in range(max_iter):
        draws = e_step(images, A, path_s[-1], path_n[-1], generator=generator)
        s, n = m_step(images, A, draws)
        d = max(
            abs(np.log(n / path_n[-1])),
            abs(float(torch.log(s).mean() - torch.log(path_s[-1]).mean())),
        )
        path_s.append(s)
        path_n.append(float(n))
        change.append(d)
        if callback is not None:
            callback(t, s, float(n))
        streak = streak + 1 if d < tol else 0
        if streak >= patience:
            converged = True
            break
    k = min(patience, len(change))
    S = torch.stack(path_s)
    Nz = torch.tensor(path_n, dtype=torch.float64)
    return EMResult(
        S[-k:].mean(0),
        float(Nz[-k:].mean()),
        S,
        Nz,
        torch.tensor(change, dtype=torch.float64),
        converged,
        len(change),
    )


def gaussian_marginal_loglik(
    images: torch.Tensor, A: torch.Tensor, scales: torch.Tensor, noise_std: float
) -> float:
    r"""Mean ``log r(I)`` per image of the Gaussian model, ``r(I) = N(0, A D A^T + sigma^2)``.

    ``D = diag(s^2)``; the closed form the Gaussian EM fixed point maximises.
    """
    images, A, scales = _check(images, A, scales, noise_std)
    P = A.shape[0]
    cov = (A * scales**2) @ A.T + noise_std**2 * torch.eye(P, dtype=A.dtype)
    dist = torch.distributions.MultivariateNormal(torch.zeros(P, dtype=A.dtype), cov)
    return float(dist.log_prob(images).mean())


def energy_correlation(
    draws: torch.Tensor, *, n_boot: int = 200, seed: int = 0
) -> tuple[torch.Tensor, np.ndarray]:
    r"""Correlation of ``|x_i|`` and ``|x_j|`` under the average posterior, by pair.

    The draws of all images are pooled (a sample of ``q(x)``) and the Pearson
    correlation of the magnitudes is taken for every pair. A factorised prior has 0 for
    every pair, and so does ``q`` on the model's own images (Bayes' loop). The bootstrap
    resamples images, keeping the draws of one image together.

    Args:
        draws: ``(S, B, N)``.
        n_boot: Bootstrap replicates.
        seed: Seed of the bootstrap.

    Returns:
        ``(corr (N, N), boot_mean (n_boot,))``: the correlation matrix and, per bootstrap
        replicate, the mean correlation over pairs ``i < j``.
    """
    draws = validation.as_float_tensor("draws", draws, ndim=3, dtype=torch.float64)
    validation.check_int("n_boot", n_boot, 2)
    _, B, N = draws.shape
    iu = torch.triu_indices(N, N, 1)

    def corr(e):
        return torch.corrcoef(e.reshape(-1, N).T)

    e = draws.abs()
    c = corr(e)
    rng = np.random.default_rng(seed)
    boot = np.array(
        [
            float(corr(e[:, rng.integers(0, B, B)])[iu[0], iu[1]].mean())
            for _ in range(n_boot)
        ]
    )
    return c, boot
