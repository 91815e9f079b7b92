"""Bayes'-loop diagnostics: SBC on an exact Gaussian case, planted bugs, eta, MMD, MI gap."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from stats import failure_rate, pvalue_level, z_threshold

from lvmkit.diagnostics import (
    check_average_posterior,
    check_sbc,
    information_gap_gaussian,
    run_average_posterior,
    run_mmd,
    run_sbc,
)
from lvmkit.models import LinearGaussian

pytestmark = pytest.mark.usefixtures("one_thread")
G = torch.Generator


def _gaussian_case(seed):
    g = G().manual_seed(seed)
    model = LinearGaussian(
        torch.randn(5, 3, generator=g, dtype=torch.float64), 1.2, 0.6
    )
    return model, g


def _infer(model, g, L=19):
    def infer(images):
        return model.posterior(images).sample((L,))

    return infer


@failure_rate(0.01, "Bonferroni-combined chi-square p-value >= pvalue_level(0.01)")
def test_sbc_uniform_for_exact_gaussian_posterior():
    """Correct inference passes the SBC uniformity test (fixed seed)."""
    model, g = _gaussian_case(0)
    torch.manual_seed(0)
    res = run_sbc(lambda n: model.sample(n, generator=g), _infer(model, g), 500)
    check_sbc(res, level=pvalue_level(0.01))
    assert res.ranks.shape == (500, 3) and res.ranks.max() <= 19


def test_sbc_fails_for_planted_bug_wrong_noise():
    """Inference with half the noise std: overconfident posteriors, U-shaped ranks."""
    model, g = _gaussian_case(1)
    torch.manual_seed(1)
    wrong = replace(model, noise_std=model.noise_std / 2)
    res = run_sbc(lambda n: model.sample(n, generator=g), _infer(wrong, g), 500)
    with pytest.raises(AssertionError):
        check_sbc(res)


@failure_rate(1e-3, "one-sided z test of eta against 0 (bootstrap standard error)")
def test_average_posterior_closes_on_model_data_and_not_on_other_data():
    """eta within z standard errors of 0 for model data; far off for data from a wider
    distribution."""
    model, g = _gaussian_case(3)
    torch.manual_seed(3)
    _, images = model.sample(400, generator=g)
    ok = run_average_posterior(model.posterior(images).sample((10,)), model.prior())
    check_average_posterior(ok, n_stderr=z_threshold(1e-3, two_sided=False))
    post = model.posterior(3 * images).sample((10,))
    bad = run_average_posterior(post, model.prior())
    assert bad.eta > 10 * bad.stderr
    with pytest.raises(AssertionError):
        check_average_posterior(bad)


@failure_rate(0.01, "permutation p-value >= pvalue_level(0.01) for equal distributions")
def test_mmd_detects_shift_and_not_same_distribution():
    g = G().manual_seed(4)
    x, y = torch.randn(200, 3, generator=g), torch.randn(200, 3, generator=g)
    assert run_mmd(x, y).p_value > pvalue_level(0.01)
    assert run_mmd(x, y + 0.5).p_value < 0.01


def test_information_gap_identity_and_monte_carlo():
    model, g = _gaussian_case(5)
    data = LinearGaussian(model.A, 2.5, 0.6)
    info = information_gap_gaussian(model, data.marginal().covariance_matrix)
    assert info.kl_to_prior == pytest.approx(info.kl_to_average + info.gap, abs=1e-10)
    _, images = data.sample(20000, generator=g)
    r = torch.distributions.MultivariateNormal(
        torch.zeros(3, dtype=torch.float64),
        model.prior_scale**2 * torch.eye(3, dtype=torch.float64),
    )
    kl = torch.distributions.kl_divergence(model.posterior(images), r)
    assert float(kl.mean()) == pytest.approx(
        info.kl_to_prior, abs=5 * float(kl.std()) / 20000**0.5
    )
    # with the model's own marginal as data, the gap vanishes
    self_info = information_gap_gaussian(model, model.marginal().covariance_matrix)
    assert abs(self_info.gap) < 1e-10
    assert np.isfinite(self_info.kl_to_average)
