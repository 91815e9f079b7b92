"""The statistical-test rule of tests/stats.py derives the textbook thresholds."""

import numpy as np
import pytest
from scipy import stats as sps
from stats import (
    assert_in_stderr,
    assert_ks,
    bonferroni,
    chi2_threshold,
    failure_rate,
    pvalue_level,
    z_threshold,
)


def test_thresholds_are_the_quantiles():
    assert z_threshold(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert z_threshold(0.05, two_sided=False) == pytest.approx(1.644854, abs=1e-6)
    assert chi2_threshold(1, 0.05) == pytest.approx(3.841459, abs=1e-6)
    assert bonferroni(1e-3, 4) == pytest.approx(2.5e-4)
    assert pvalue_level(1e-3) == 1e-3


def test_assertions_fail_outside_the_threshold():
    assert_in_stderr(1.0 + 1.9, 1.0, 1.0, 0.05)
    with pytest.raises(AssertionError):
        assert_in_stderr(1.0 + 2.0, 1.0, 1.0, 0.05)
    with pytest.raises(AssertionError):
        assert_ks(np.linspace(0, 0.5, 1000), sps.uniform.cdf, 1e-3)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("nan")])
def test_rates_outside_0_1_are_refused(bad):
    with pytest.raises(ValueError, match="rate must be"):
        z_threshold(bad)
    with pytest.raises(ValueError, match="rate must be"):
        failure_rate(bad, "x")
