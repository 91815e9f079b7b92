"""One rule for every statistical test: a fixed seed and a declared failure rate.

A statistical test checks a random quantity, so even a correct implementation fails it
with some probability under a fresh seed. Each such test declares that probability with
:func:`failure_rate` (which marks it ``pytest.mark.failure_rate``) and derives its
threshold from it with the functions below; nothing else picks a number of standard
errors or a p-value level. The seed stays fixed, so a run is reproducible; the declared
rate says how lucky that seed had to be. ``conftest.py`` writes every marked test with
its rate to ``_build/statistical-tests.md``.

For an assertion repeated ``m`` times within one test (entries of a matrix, latents,
parameters), split the test's rate with :func:`bonferroni`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

__all__ = [
    "assert_in_stderr",
    "assert_ks",
    "assert_ks_2samp",
    "assert_replicates",
    "bonferroni",
    "chi2_threshold",
    "failure_rate",
    "pvalue_level",
    "z_threshold",
]


def _check_rate(rate: float) -> float:
    if not 0 < rate < 1:
        raise ValueError(f"rate must be a failure probability in (0, 1), got {rate}")
    return float(rate)


def failure_rate(rate: float, how: str) -> Callable:
    """Declare a test's failure rate for a correct implementation and a fresh seed.

    Args:
        rate: Probability in (0, 1).
        how: How the threshold follows from it (shown in the table), e.g.
            ``"z test on the Monte Carlo mean"``.
    """
    _check_rate(rate)
    return pytest.mark.failure_rate(rate, how)


def bonferroni(rate: float, m: int) -> float:
    """The per-assertion rate that keeps the family of ``m`` assertions at ``rate``."""
    if int(m) != m or m < 1:
        raise ValueError(f"m must be a positive integer, got {m}")
    return _check_rate(rate) / m


def z_threshold(rate: float, *, two_sided: bool = True) -> float:
    """The number of standard errors a normal statistic exceeds with probability ``rate``."""
    rate = _check_rate(rate)
    return float(stats.norm.isf(rate / 2 if two_sided else rate))


def chi2_threshold(df: int, rate: float) -> float:
    """The chi-square(df) value exceeded with probability ``rate``."""
    return float(stats.chi2.isf(_check_rate(rate), df))


def pvalue_level(rate: float) -> float:
    """The level a p-value must reach: a valid test's p-value is uniform, so ``rate``."""
    return _check_rate(rate)


def assert_in_stderr(
    value, expected, stderr, rate: float, *, bias: float = 0.0, two_sided: bool = True
) -> None:
    """Assert ``|value - expected| <= z(rate) * stderr + bias`` (elementwise, all entries).

    ``bias`` is a known bound on the estimator's bias (0 for an unbiased one).
    """
    z = z_threshold(rate, two_sided=two_sided)
    dev = np.abs(np.asarray(value, float) - np.asarray(expected, float))
    bound = z * np.asarray(stderr, float) + bias
    assert np.all(dev <= bound), (
        f"|value - expected| = {np.max(dev):.4g} exceeds "
        f"{z:.3g} standard errors (+ bias {bias}); rate {rate}"
    )


def assert_ks(samples, cdf, rate: float) -> None:
    """One-sample Kolmogorov-Smirnov test of ``samples`` against ``cdf`` at level ``rate``."""
    p = stats.kstest(np.asarray(samples), cdf).pvalue
    assert p > pvalue_level(rate), f"KS p-value {p:.3g} <= {rate}"


def assert_ks_2samp(a, b, rate: float) -> None:
    """Two-sample Kolmogorov-Smirnov test at level ``rate``."""
    p = stats.ks_2samp(np.asarray(a), np.asarray(b)).pvalue
    assert p > pvalue_level(rate), f"two-sample KS p-value {p:.3g} <= {rate}"


def assert_replicates(values, expected, rate: float, *, bias: float = 0.0) -> None:
    """Assert that the mean of independent replicates is ``expected`` up to a known bias.

    For estimators without a standard error of their own (nearest-neighbour, histogram):
    the replicates (one per seed) give one, and the threshold is the two-sided Student-t
    quantile of ``rate`` with ``n - 1`` degrees of freedom. ``bias`` bounds the
    estimator's known finite-sample bias; it is declared by the test, not fitted.
    """
    v = np.asarray(values, float).ravel()
    if v.size < 3:
        raise ValueError(f"values must hold at least 3 replicates, got {v.size}")
    t = float(stats.t.isf(_check_rate(rate) / 2, v.size - 1))
    se = v.std(ddof=1) / np.sqrt(v.size)
    dev = abs(v.mean() - float(expected))
    assert dev <= t * se + bias, (
        f"|mean - expected| = {dev:.4g} exceeds {t:.3g} standard "
        f"errors ({se:.3g}) + bias {bias}; rate {rate}"
    )
