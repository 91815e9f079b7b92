r"""Fitting the prior of a linear Gaussian image model: ``r <- q`` as Monte-Carlo EM.

For the model :math:`I = A x + \text{noise}`, noise :math:`\mathcal N(0, \sigma^2 I_P)`,
with a factorised generalised-Gaussian prior

.. math::
    r(x) = \prod_i \frac{\alpha_i}{2 s_i \Gamma(1/\alpha_i)}
    e^{-\lvert x_i / s_i\rvert^{\alpha_i}},

EM for the prior's parameters (``A`` and ``sigma`` held fixed) alternates

* E step: draw from every posterior :math:`q(x \mid I_b)` of the data;
* M step: maximise :math:`\sum_b \mathbb E_{q(x\mid I_b)} \log r(x)`, i.e. fit ``r`` by
  maximum likelihood to the pooled posterior draws, which is ``r <- q``.

Each step does not lower the marginal likelihood (up to Monte Carlo error), so the fixed
point is a (local) maximum-likelihood prior. Shapes may be shared within groups of
latents (e.g. latents of similar scale) while each latent keeps its own scale:
:func:`fit_generalized_gaussian` is the M step, :func:`posterior_sampler` the E step
(Metropolis-within-Gibbs or HMC, or the exact Gaussian posterior when every
``alpha = 2``), and :func:`run_prior_em`
the loop with its stated convergence criterion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.special import gammaln
from scipy.stats import norm
from torch.distributions import Independent

from lvmkit import validation
from lvmkit.mcmc import hmc
from lvmkit.mcmc.gibbs import gibbs
from lvmkit.priors import GeneralizedGaussian

__all__ = [
    "PriorEMResult",
    "fit_generalized_gaussian",
    "gg_prior",
    "likelihood_gain",
    "posterior_sampler",
    "run_prior_em",
]

#: Bounds of the shape in the M step.
ALPHA_BOUNDS = (0.15, 4.0)


def _gg_scale(absx: np.ndarray, alpha: float) -> np.ndarray:
    """ML scale for a fixed shape, per column: ``s^alpha = alpha * mean |x|^alpha``."""
    return (alpha * np.mean(absx**alpha, axis=0)) ** (1 / alpha)


def _gg_loglik(absx: np.ndarray, alpha: float) -> float:
    """Profile log-likelihood of columns sharing ``alpha``, each with its ML scale."""
    n = absx.shape[0]
    s = _gg_scale(absx, alpha)
    return float(
        np.sum(n * (np.log(alpha / 2) - np.log(s) - gammaln(1 / alpha)) - n / alpha)
    )


def fit_generalized_gaussian(
    draws, groups=None, *, bounds: tuple[float, float] = ALPHA_BOUNDS
) -> tuple[np.ndarray, np.ndarray]:
    r"""Maximum-likelihood generalised Gaussians (location 0) fitted to draws per latent.

    Latent ``i`` gets its own scale ``s_i``; the shape is shared by the latents of one
    group, ``alpha_g = argmax sum_{i in g} sum_m log r(x_mi; alpha_g, s_i(alpha_g))``,
    with the scale profiled out in closed form, ``s_i^alpha = alpha * mean_m |x_mi|^alpha``.
    With one latent and one group this is ``scipy.stats.gennorm.fit(x, floc=0)``.

    Args:
        draws: Shape ``(..., N)``: every leading axis is pooled (e.g. ``(S, B, N)``).
        groups: Integer group label per latent, shape ``(N,)``; ``None``: one group.
        bounds: Interval of the shape.

    Returns:
        ``(alpha, scale)``, each of shape ``(N,)`` (``alpha`` constant within a group).
    """
    x = validation.as_float_array("draws", draws, min_rows=1)
    if x.ndim < 1:
        raise ValueError(f"draws must have shape (..., N), got {x.shape}")
    x = np.abs(x.reshape(-1, x.shape[-1]))
    if x.shape[0] < 2:
        raise ValueError(
            f"draws must hold at least 2 draws per latent, got {x.shape[0]}"
        )
    N = x.shape[1]
    g = _check_groups(groups, N)
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds}")
    alpha, scale = np.empty(N), np.empty(N)
    for label in np.unique(g):
        cols = x[:, g == label]
        res = minimize_scalar(
            lambda la, c=cols: -_gg_loglik(c, float(np.exp(la))),
            bounds=(np.log(lo), np.log(hi)),
            method="bounded",
            options={"xatol": 1e-6},
        )
        a = float(np.exp(res.x))
        alpha[g == label] = a
        scale[g == label] = _gg_scale(cols, a)
    return alpha, scale


def _check_groups(groups, N: int) -> np.ndarray:
    if groups is None:
        return np.zeros(N, dtype=int)
    g = np.asarray(groups)
    if g.shape != (N,) or g.dtype.kind not in "iu":
        raise ValueError(
            f"groups must be integer labels of shape ({N},), got "
            f"{validation.describe(groups)}"
        )
    return g


def gg_prior(alpha, scale) -> Independent:
    """The factorised prior ``r(x)`` with per-latent shapes and scales, event shape (N,)."""
    a = torch.as_tensor(np.asarray(alpha, dtype=float))
    s = torch.as_tensor(np.asarray(scale, dtype=float))
    return Independent(GeneralizedGaussian(a, s), 1)


def _log_post(A: torch.Tensor, alpha, scale, noise_std: float, images: torch.Tensor):
    a = torch.as_tensor(alpha, dtype=A.dtype)
    s = torch.as_tensor(scale, dtype=A.dtype)
    G = A.T @ A / noise_std**2
    IA = images @ A / noise_std**2

    def f(x):
        z = x.abs() / s
        xG = x @ G
        lp = -(z**a).sum(-1) - 0.5 * (x * xG).sum(-1) + (x * IA).sum(-1)
        gz = torch.where(z > 0, z.clamp_min(1e-300) ** (a - 1), torch.zeros_like(z))
        return lp, -(a / s) * torch.sign(x) * gz - xG + IA

    return f


def _gaussian_approximation(A, noise_std: float, a, s, images):
    """Mean ``(B, N)`` and a square root ``C`` (``C C^T`` = covariance) of the Gaussian
    posterior under a Gaussian prior with the generalised Gaussians' variances."""
    var = torch.as_tensor(s**2 * np.exp(gammaln(3 / a) - gammaln(1 / a)), dtype=A.dtype)
    prec = A.T @ A / noise_std**2 + torch.diag(1 / var)
    L = torch.linalg.cholesky(prec)
    eye = torch.eye(A.shape[1], dtype=A.dtype)
    C = torch.linalg.solve_triangular(L, eye, upper=False).T  # C C^T = prec^{-1}
    return images @ A / noise_std**2 @ (C @ C.T), C


def posterior_sampler(
    A,
    noise_std: float,
    *,
    n_samples: int = 10,
    n_warmup: int = 150,
    thin: int = 2,
    exact_gaussian: bool = True,
    method: str = "gibbs",
    generator: torch.Generator | None = None,
) -> Callable:
    r"""The E step: ``sample(alpha, scale, images, x0=None) -> draws (S, B, N)``.

    Draws from :math:`q(x \mid I)` for the factorised generalised-Gaussian prior,
    started at ``x0`` (e.g. the last draws of the previous EM step) or at a draw of the
    Gaussian approximation of the posterior (precision ``A^T A / sigma^2 + diag(1 /
    v_i)``, ``v_i`` the prior variances), by one of two samplers:

    * ``"gibbs"``: :func:`lvmkit.mcmc.gibbs.gibbs`, Metropolis-within-Gibbs with
      independence proposals from the likelihood and the prior factor of each latent;
      it differentiates nothing and passes Bayes' loop on model data at every shape
      tried, ``alpha < 1`` included;
    * ``"hmc"``: :func:`lvmkit.mcmc.hmc` preconditioned with the Gaussian approximation
      (``n_warmup`` adapting iterations of 8 leapfrog steps). The slope of
      ``|x_i|^alpha`` is infinite at 0 for ``alpha < 1``, and there this sampler fails
      the same check (kept to show that the check can fail).

    When every ``alpha = 2`` and ``exact_gaussian`` the posterior is Gaussian with
    exactly that precision, and is sampled exactly.

    Args:
        A: Dictionary, shape ``(P, N)``.
        noise_std: sigma.
        n_samples, n_warmup, thin: Draws kept per image, discarded iterations (sweeps
            for ``"gibbs"``), thinning.
        exact_gaussian: Sample ``alpha = 2`` exactly (``False``: by ``method``, to check
            it).
        method: ``"gibbs"`` (default) or ``"hmc"``.
        generator: Source of randomness.
    """
    A = validation.as_float_tensor("A", A, ndim=2)
    noise_std = validation.check_positive("noise_std", noise_std)
    validation.check_choice("method", method, ("gibbs", "hmc"))

    def sample(alpha, scale, images, x0=None):
        images = torch.as_tensor(images, dtype=A.dtype)
        a = np.broadcast_to(np.asarray(alpha, dtype=float), (A.shape[1],))
        s = np.broadcast_to(np.asarray(scale, dtype=float), (A.shape[1],))
        mean, C = _gaussian_approximation(A, noise_std, a, s, images)
        if exact_gaussian and np.all(a == 2):
            z = torch.randn(
                (n_samples, *mean.shape), generator=generator, dtype=A.dtype
            )
            return mean + z @ C.T
        if x0 is None:
            x0 = (
                mean + torch.randn(mean.shape, generator=generator, dtype=A.dtype) @ C.T
            )
        if method == "gibbs":
            prior = gg_prior(a.copy(), s.copy())
            return gibbs(
                A,
                noise_std,
                prior,
                images,
                x0,
                n_samples=n_samples,
                n_warmup=n_warmup,
                thin=thin,
                generator=generator,
            ).samples
        f = _log_post(A, a.copy(), s.copy(), noise_std, images)
        return hmc(
            f,
            x0,
            n_samples=n_samples,
            n_warmup=n_warmup,
            n_leapfrog=8,
            precond=C,
            thin=thin,
            step_size=0.5,
            generator=generator,
        ).samples

    return sample


class PriorEMResult(NamedTuple):
    """Output of :func:`run_prior_em`.

    Attributes:
        alpha: Shapes per iteration, ``(T + 1, N)`` (row 0 the start).
        scale: Scales per iteration, ``(T + 1, N)``.
        eta: ``eta`` of each iteration's prior against its average posterior,
            ``(T + 1,)``.
        eta_se: Its bootstrap standard error, ``(T + 1,)``.
        gain: Estimated gain of the log marginal likelihood per image of each M step,
            ``log p(I | r_{t+1}) - log p(I | r_t)`` averaged over images, ``(T,)``.
        gain_se: Its standard error over images, ``(T,)``.
        converged: Whether the criterion held within ``max_iter`` M steps.
        converged_at: The number of M steps after which it first held (-1: never).
        draws: The last iteration's posterior draws, ``(S, B, N)``.
    """

    alpha: np.ndarray
    scale: np.ndarray
    eta: np.ndarray
    eta_se: np.ndarray
    gain: np.ndarray
    gain_se: np.ndarray
    converged: bool
    converged_at: int
    draws: torch.Tensor


#: One-sided 95 % normal quantile of the stopping rule's upper bound.
Z_UPPER = float(norm.ppf(0.95))


def likelihood_gain(draws: torch.Tensor, old: Independent, new: Independent):
    r"""Importance-sampling estimate of each image's log-likelihood gain of a prior step.

    With draws :math:`x_m \sim q(x \mid I_b)` under the *new* prior,
    :math:`p(I_b \mid r_{old}) / p(I_b \mid r_{new}) =
    \mathbb E_{q_{new}}[r_{old}(x) / r_{new}(x)]` (the likelihood cancels), so

    .. math::
        \widehat{\Delta\ell}_b = -\log \frac1M \sum_m
        \frac{r_{old}(x_{mb})}{r_{new}(x_{mb})},

    which by Jensen's inequality overestimates the gain on average: a stopping rule
    on it errs towards running longer.

    Args:
        draws: Posterior draws under ``new``, shape ``(M, B, N)``.
        old, new: The priors before and after the step, event shape ``(N,)``.

    Returns:
        The estimates per image, shape ``(B,)`` (nats).
    """
    draws = validation.as_float_tensor("draws", draws, ndim=3)
    validation.check_distribution("old", old)
    validation.check_distribution("new", new)
    u = old.log_prob(draws) - new.log_prob(draws)  # (M, B)
    return -(torch.logsumexp(u, 0) - np.log(u.shape[0]))


def run_prior_em(
    sample: Callable,
    images,
    alpha0,
    scale0,
    *,
    groups=None,
    fit_shape: bool = True,
    max_iter: int = 30,
    tol: float = 0.02,
    patience: int = 3,
    run_on: bool = False,
    n_boot: int = 50,
) -> PriorEMResult:
    r"""Iterate ``r <- q`` (Monte-Carlo EM for the prior) until a stated criterion holds.

    Criterion, on the marginal likelihood rather than the parameters (so it does not
    depend on how the prior is parametrised): for ``patience`` consecutive M steps the
    one-sided upper 95 % bound of the log-likelihood gain per image,
    ``mean_b gain_b + 1.645 se``, is below ``tol`` nats; ``gain_b`` is
    :func:`likelihood_gain` on the next E step's draws (an upward-biased estimate) and
    ``se`` its standard error over the images (each image has its own chain, so this
    also bounds the Monte Carlo error). This is the stopping rule of ascent-based MCEM
    (Caffo, Jank and Jones 2005, with the gain in place of the change of ``Q``). Each
    iteration's ``eta`` (:func:`lvmkit.diagnostics.run_average_posterior` of its draws
    against its prior) is recorded along the way.

    Args:
        sample: The E step, ``(alpha, scale, images, x0) -> draws (S, B, N)``
            (:func:`posterior_sampler`); chains restart from the previous draws.
        images: Data, shape ``(B, P)``.
        alpha0, scale0: Starting prior, scalars or shape ``(N,)``.
        groups: Group label per latent for the shared shapes (``None``: one group).
        fit_shape: ``False`` keeps the shapes at ``alpha0`` (scales only).
        max_iter: At most this many M steps.
        tol: Tolerance of the criterion, nats per image.
        patience: Consecutive steps the criterion must hold.
        run_on: Go on to ``max_iter`` M steps after the criterion holds (to see what
            it stopped), recording where it first held in ``converged_at``.
        n_boot: Bootstrap replicates of each ``eta``'s standard error.
    """
    from lvmkit.diagnostics import run_average_posterior

    images = validation.as_float_tensor("images", images, ndim=2, min_rows=2)
    validation.check_int("max_iter", max_iter, 1)
    validation.check_int("patience", patience, 1)
    validation.check_positive("tol", tol)
    x = sample(alpha0, scale0, images[:2])
    N = x.shape[-1]
    alpha = [np.broadcast_to(np.asarray(alpha0, dtype=float), (N,)).copy()]
    scale = [np.broadcast_to(np.asarray(scale0, dtype=float), (N,)).copy()]
    g = _check_groups(groups, N)
    eta, eta_se, gain, gain_se, calm, x0, at = [], [], [], [], 0, None, -1
    for it in range(max_iter + 1):
        draws = sample(alpha[-1], scale[-1], images, x0)
        x0 = draws[-1]
        prior = gg_prior(alpha[-1], scale[-1])
        loop = run_average_posterior(draws, prior, n_boot=n_boot)
        eta.append(loop.eta)
        eta_se.append(loop.stderr)
        if it > 0:
            gb = likelihood_gain(draws, gg_prior(alpha[-2], scale[-2]), prior).numpy()
            gain.append(float(gb.mean()))
            gain_se.append(float(gb.std(ddof=1) / np.sqrt(len(gb))))
            calm = calm + 1 if gain[-1] + Z_UPPER * gain_se[-1] < tol else 0
            if calm >= patience and at < 0:
                at = it
        if (at >= 0 and not run_on) or it == max_iter:
            break
        a, s = fit_generalized_gaussian(draws.numpy(), g)
        if not fit_shape:
            a = alpha[-1]
            s = _gg_scale(np.abs(draws.numpy().reshape(-1, N)), a)
        alpha.append(a)
        scale.append(s)
    return PriorEMResult(
        np.array(alpha),
        np.array(scale),
        np.array(eta),
        np.array(eta_se),
        np.array(gain),
        np.array(gain_se),
        at >= 0,
        at,
        draws,
    )
