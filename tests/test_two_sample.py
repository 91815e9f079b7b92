"""The MMD two-sample test: the estimate against the book's other MMD, its null rate."""

import pytest
import torch
from stats import failure_rate

from lvmkit.two_sample import median_bandwidth, mmd_test
from lvmkit.vae import mmd_rbf


def test_unbiased_mmd_matches_the_vae_module():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 3, generator=g), torch.randn(60, 3, generator=g) + 0.3
    r = mmd_test(a, b, bandwidth=3**0.5, n_permutations=10, generator=g)
    assert r.mmd2 == pytest.approx(float(mmd_rbf(a, b)), abs=1e-6)
    assert median_bandwidth(a, b) > 0


@failure_rate(0.01, "binomial tail of 40 tests at level 0.05 under the null")
def test_p_values_are_valid_under_the_null_and_small_under_a_shift():
    from scipy import stats

    g = torch.Generator().manual_seed(1)
    rejections = sum(
        mmd_test(
            torch.randn(20, 2, generator=g),
            torch.randn(20, 2, generator=g),
            n_permutations=50,
            generator=g,
        ).p_value
        <= 0.05
        for _ in range(40)
    )
    assert rejections <= stats.binom.isf(0.01, 40, 0.05)
    shifted = mmd_test(
        torch.randn(40, 2, generator=g),
        torch.randn(40, 2, generator=g) + 2,
        n_permutations=50,
        generator=g,
    )
    assert shifted.p_value < 0.05
