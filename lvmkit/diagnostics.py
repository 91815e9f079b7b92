r"""Diagnostics of Bayes' loop: does the average posterior return the prior?

For a model with regulariser ("prior") ``r(x)`` and likelihood ``p(I | x)``, the average
posterior over a data set is ``q(x) = (1/B) sum_b q(x | I_b)``. When the images are
drawn from the model itself, ``q = r`` (marginalise the joint either way); on real data
it need not be. Following the ``sbi`` convention, each ``run_*`` function computes and
returns a ``NamedTuple``, and the matching ``check_*`` function raises
``AssertionError`` when the diagnostic fails.

* :func:`run_average_posterior` / :func:`check_average_posterior`: a divergence
  ``eta = sum_i KL(q_i || r_i)`` between the 1-D marginals of q and r, estimated from
  posterior samples through the probability integral transform ``u = F_r(x)`` (if
  ``q_i = r_i``, ``u`` is uniform), bias-corrected and with a bootstrap standard error
  over images. Because r factorises, ``eta <= KL(q || r)``: a lower bound.
* :func:`run_sbc` / :func:`check_sbc`: simulation-based calibration (Talts et al. 2018):
  rank of the true latent among posterior draws, uniform for correct inference, tested
  with a chi-square test per latent (Bonferroni over latents).
* :func:`run_mmd`: unbiased squared maximum mean discrepancy with a permutation p-value,
  the two-sample distance used for epsilon (model marginal vs data).
* :func:`effective_sample_size`: the effective sample size of a chain (Geyer's initial
  monotone sequence), for the sampler benchmarks.
* :func:`information_gap_gaussian`: the exact decomposition
  ``E KL(q(x|I) || r) = E KL(q(x|I) || q) + KL(q || r)`` for a linear Gaussian model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy import stats
from torch.distributions import Distribution, Independent

from lvmkit import validation
from lvmkit.models import LinearGaussian

__all__ = [
    "AveragePosteriorResult",
    "InformationGap",
    "MMDResult",
    "SBCResult",
    "check_average_posterior",
    "check_sbc",
    "effective_sample_size",
    "information_gap_gaussian",
    "run_average_posterior",
    "run_mmd",
    "run_sbc",
]


class AveragePosteriorResult(NamedTuple):
    """Output of :func:`run_average_posterior`.

    Attributes:
        eta: Bias-corrected ``sum_i KL(q_i || r_i)`` in nats.
        stderr: Bootstrap standard error of ``eta`` (resampling images).
        per_latent: Bias-corrected KL of each latent's marginal, shape ``(N,)``.
        pit: PIT values ``F_r(x)`` of the pooled samples, shape ``(S * B, N)``.
    """

    eta: float
    stderr: float
    per_latent: np.ndarray
    pit: np.ndarray


class SBCResult(NamedTuple):
    """Output of :func:`run_sbc`.

    Attributes:
        ranks: Rank of the true latent among ``n_post`` posterior draws, ``(n_sims, N)``
            (``N + 1`` columns with a test quantity), values in ``0..n_post``.
        n_post: Posterior draws per simulation.
        p_values: Chi-square uniformity p-value of each latent, shape ``(N,)``.
        p_value: Bonferroni-combined p-value, ``min(1, N * min(p_values))``.
    """

    ranks: np.ndarray
    n_post: int
    p_values: np.ndarray
    p_value: float


class MMDResult(NamedTuple):
    """Output of :func:`run_mmd`: unbiased MMD^2, its permutation p-value, bandwidth."""

    mmd2: float
    p_value: float
    bandwidth: float


class InformationGap(NamedTuple):
    """Output of :func:`information_gap_gaussian` (nats).

    Attributes:
        kl_to_prior: ``E_I KL(q(x|I) || r(x))``, the inflated "information".
        kl_to_average: ``E_I KL(q(x|I) || q(x))``, the mutual information under q.
        gap: ``KL(q(x) || r(x))``; ``kl_to_prior = kl_to_average + gap``.
    """

    kl_to_prior: float
    kl_to_average: float
    gap: float


def _marginal_cdf(prior: Distribution) -> Callable[[torch.Tensor], torch.Tensor]:
    base = prior.base_dist if isinstance(prior, Independent) else prior
    return base.cdf


def _pit_kl(pit: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.stack(
        [np.histogram(pit[:, i], n_bins, (0.0, 1.0))[0] for i in range(pit.shape[1])], 1
    ).astype(float)
    p = counts / counts.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p * n_bins), 0.0)
    return terms.sum(0)


def run_average_posterior(
    samples: torch.Tensor,
    prior: Distribution,
    *,
    n_bins: int = 20,
    n_boot: int = 200,
    seed: int = 0,
) -> AveragePosteriorResult:
    r"""Compare the average posterior q(x) with the prior r(x), latent by latent.

    The pooled samples ``x`` of all images are mapped through the prior's marginal CDFs,
    ``u_i = F_{r_i}(x_i)``; the plug-in KL of the histogram of ``u_i`` (``n_bins``
    equal-mass prior bins) from uniform estimates ``KL(q_i || r_i)``. Its upward bias is
    removed with the bootstrap over images (``2 eta_hat - mean(eta_boot)``), which also
    gives the standard error, and accounts for the correlation of draws of one image.

    Args:
        samples: Posterior draws, shape ``(S, B, N)`` (``S`` per image, ``B`` images).
        prior: ``r(x)`` with a ``cdf``: scalar-event distribution with batch shape
            ``(N,)`` or ``()``, or ``Independent`` of one.
        n_bins: Histogram bins.
        n_boot: Bootstrap replicates.
        seed: Seed of the bootstrap.

    Returns:
        :class:`AveragePosteriorResult`.
    """
    validation.check_int("n_bins", n_bins, 1)
    validation.check_int("n_boot", n_boot, 2)
    samples = torch.as_tensor(samples)
    if samples.ndim != 3 or samples.shape[1] < 2:
        raise ValueError(
            f"samples must have shape (S, B, N) with B >= 2, got {tuple(samples.shape)}"
        )
    if not torch.isfinite(samples).all():
        raise ValueError("samples must be finite")
    S, B, N = samples.shape
    u = _marginal_cdf(prior)(samples).detach().numpy()  # (S, B, N)
    per = _pit_kl(u.reshape(S * B, N), n_bins)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, N))
    for k in range(n_boot):
        idx = rng.integers(0, B, B)
        boot[k] = _pit_kl(u[:, idx].reshape(S * B, N), n_bins)
    per_c = 2 * per - boot.mean(0)
    eta = float(per_c.sum())
    stderr = float(boot.sum(1).std(ddof=1))
    return AveragePosteriorResult(eta, stderr, per_c, u.reshape(S * B, N))


def check_average_posterior(
    result: AveragePosteriorResult, n_stderr: float = 3.0
) -> None:
    """Raise ``AssertionError`` unless ``eta`` is within ``n_stderr`` standard errors of 0."""
    validation.check_positive("n_stderr", n_stderr)
    if not result.eta <= n_stderr * result.stderr:
        raise AssertionError(
            f"average posterior differs from the prior: eta = {result.eta:.3g}"
            f" > {n_stderr} x {result.stderr:.3g}"
        )


def run_sbc(
    simulate: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    infer: Callable[[torch.Tensor], torch.Tensor],
    n_sims: int,
    *,
    n_bins: int = 10,
    quantity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> SBCResult:
    """Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

    Draw ``(x*, I) ~ r(x) p(I | x)`` ``n_sims`` times (``simulate(n_sims)``), draw ``L``
    posterior samples for every ``I`` in one batched call (``infer(images)`` returns
    ``(L, n_sims, N)``; they should be roughly independent, so thin MCMC), and count the
    draws below ``x*``. With correct inference each rank is uniform on ``0..L``.

    Args:
        simulate: ``n -> (x (n, N), images (n, P))``.
        infer: ``images (n, P) -> samples (L, n, N)``.
        n_sims: Number of simulations.
        n_bins: Bins of the chi-square test (``L + 1`` must be a multiple).
        quantity: Optional data-dependent test quantity ``f(x (..., n, N), images (n, P))
            -> (..., n)``, ranked as one more column (e.g. the log-likelihood, which
            is sensitive to a wrong noise model even when each latent alone is not).

    Returns:
        :class:`SBCResult`.
    """
    if int(n_sims) != n_sims or n_sims < 5 * n_bins:
        raise ValueError(
            f"n_sims must be an integer >= 5 * n_bins = {5 * n_bins}, got {n_sims}"
        )
    x, images = simulate(int(n_sims))
    draws = torch.as_tensor(infer(images))
    if draws.ndim != 3 or draws.shape[1:] != x.shape:
        raise ValueError(
            f"infer must return (L, {n_sims}, N), got {tuple(draws.shape)}"
        )
    L = draws.shape[0]
    if (L + 1) % n_bins:
        raise ValueError(
            f"n_post + 1 = {L + 1} must be a multiple of n_bins = {n_bins}"
        )
    ranks = (draws < x).sum(0)
    if quantity is not None:
        extra = (quantity(draws, images) < quantity(x, images)).sum(0)
        ranks = torch.cat([ranks, extra[:, None]], 1)
    ranks = ranks.numpy()
    return SBCResult(ranks, L, *_uniformity(ranks, L, n_bins))


def _uniformity(ranks: np.ndarray, L: int, n_bins: int) -> tuple[np.ndarray, float]:
    per_bin = (L + 1) // n_bins
    pv = np.array(
        [
            stats.chisquare(
                np.bincount(ranks[:, i] // per_bin, minlength=n_bins)
            ).pvalue
            for i in range(ranks.shape[1])
        ]
    )
    return pv, float(min(1.0, len(pv) * pv.min()))


def check_sbc(result: SBCResult, level: float = 0.01) -> None:
    """Raise ``AssertionError`` if the ranks are not uniform at the given test level."""
    validation.check_probability("level", level)
    if not result.p_value >= level:
        raise AssertionError(
            f"SBC ranks are not uniform: p = {result.p_value:.3g} < {level}"
        )


def run_mmd(
    x, y, *, n_perm: int = 200, bandwidth: float | None = None, seed: int = 0
) -> MMDResult:
    r"""Unbiased MMD^2 between samples ``x (n, d)`` and ``y (m, d)``, Gaussian kernel.

    ``k(a, b) = exp(-|a - b|^2 / (2 h^2))`` with ``h`` the median pairwise distance of
    the pooled samples unless given. The p-value comes from ``n_perm`` random
    relabellings of the pooled samples.
    """
    x = validation.as_float_tensor("x", x, ndim=2, min_rows=2, dtype=torch.float64)
    y = validation.as_float_tensor("y", y, ndim=2, min_rows=2, dtype=torch.float64)
    validation.check_int("n_perm", n_perm, 1)
    if bandwidth is not None:
        validation.check_positive("bandwidth", bandwidth)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"y must have the dimension of x ({x.shape[1]}), got {y.shape[1]}"
        )
    if (
        x.ndim != 2
        or y.ndim != 2
        or x.shape[1] != y.shape[1]
        or min(len(x), len(y)) < 2
    ):
        raise ValueError(
            f"need x (n, d) and y (m, d) with n, m >= 2; got {tuple(x.shape)}, "
            f"{tuple(y.shape)}"
        )
    z = torch.cat([x, y])
    d2 = torch.cdist(z, z).square()
    h = float(d2[d2 > 0].median().sqrt()) if bandwidth is None else float(bandwidth)
    K = torch.exp(-d2 / (2 * h * h))
    n = len(x)

    def stat(perm):
        Kp = K[perm][:, perm]
        kxx, kyy, kxy = Kp[:n, :n], Kp[n:, n:], Kp[:n, n:]
        m = len(z) - n
        return float(
            (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
            + (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
            - 2 * kxy.mean()
        )

    obs = stat(torch.arange(len(z)))
    g = torch.Generator().manual_seed(seed)
    null = np.array([stat(torch.randperm(len(z), generator=g)) for _ in range(n_perm)])
    return MMDResult(obs, float((1 + (null >= obs).sum()) / (1 + n_perm)), h)


def effective_sample_size(draws: np.ndarray) -> np.ndarray:
    r"""Effective sample size of each series of a single chain, along axis 0.

    Geyer's initial monotone sequence estimator (as in Stan and ArviZ for one chain):
    autocorrelations :math:`\rho_t` by FFT, summed in pairs
    :math:`\Gamma_k = \rho_{2k} + \rho_{2k+1}` while they stay positive, made
    non-increasing, and :math:`\mathrm{ESS} = S / (-1 + 2 \sum_k \Gamma_k)`, capped at
    :math:`S \log_{10} S` as Stan does.

    Args:
        draws: Shape ``(S, ...)``; each trailing index is one series.

    Returns:
        ESS of shape ``draws.shape[1:]``.
    """
    x = validation.as_float_array("draws", draws, min_rows=4)
    S = x.shape[0]
    flat = x.reshape(S, -1)
    flat = flat - flat.mean(0)
    nfft = 1 << (2 * S - 1).bit_length()
    f = np.fft.rfft(flat, n=nfft, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=nfft, axis=0)[:S] / S
    var0 = acov[0]
    const = var0 <= 0
    rho = acov / np.where(const, 1.0, var0)
    n_pairs = S // 2
    gamma = rho[: 2 * n_pairs].reshape(n_pairs, 2, -1).sum(1)  # (n_pairs, series)
    positive = np.cumprod(gamma > 0, axis=0).astype(bool)  # initial positive sequence
    gamma = np.where(positive, gamma, 0.0)
    gamma = np.minimum.accumulate(np.where(positive, gamma, np.inf), axis=0)
    gamma = np.where(positive, gamma, 0.0)
    tau = -1.0 + 2.0 * gamma.sum(0)
    out = S / np.maximum(tau, 1.0 / np.log10(max(S, 10)))
    out = np.where(const, np.nan, out)
    return out.reshape(x.shape[1:])


def information_gap_gaussian(
    model: LinearGaussian, data_cov: torch.Tensor
) -> InformationGap:
    r"""Exact information terms for a linear Gaussian model fitted to Gaussian data.

    With data ``I ~ N(0, Sigma_d)`` (not necessarily the model's marginal), posterior
    ``q(x|I) = N(M I, S)``, ``M = S A^T / sigma^2``, the average posterior is
    ``q(x) = N(0, Q)``, ``Q = S + M Sigma_d M^T``, and

    .. math::
        E\,KL(q(x|I) \| r) = E\,KL(q(x|I) \| q) + KL(q \| r),

    with ``E KL(q(x|I) || q) = 1/2 log det Q / det S`` and ``r = N(0, s^2 I)``.

    Args:
        model: The (possibly mis-specified) model.
        data_cov: ``Sigma_d``, shape ``(P, P)``.
    """
    if not isinstance(model, LinearGaussian):
        raise TypeError(
            f"model must be a LinearGaussian, got {validation.describe(model)}"
        )
    P = model.n_pixels
    Sd = validation.as_float_tensor(
        "data_cov", data_cov, shape=(P, P), dtype=model.A.dtype
    )
    if not torch.allclose(Sd, Sd.T, rtol=1e-8, atol=1e-12 * float(Sd.abs().max())):
        raise ValueError("data_cov must be symmetric")
    S = model.posterior_cov()
    M = S @ model.A.T / model.noise_std**2
    Q = S + M @ Sd @ M.T
    N, v = model.n_latents, model.prior_scale**2
    ld = torch.linalg.slogdet
    to_avg = 0.5 * float(ld(Q)[1] - ld(S)[1])
    gap = 0.5 * float(torch.trace(Q) / v - N + N * np.log(v) - ld(Q)[1])
    to_prior = 0.5 * float(
        torch.trace(S + M @ Sd @ M.T) / v - N + N * np.log(v) - ld(S)[1]
    )
    return InformationGap(to_prior, to_avg, gap)
