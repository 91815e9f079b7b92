"""LinearGaussian against scipy and brute-force Gaussian conditioning."""

import numpy as np
import pytest
import torch
from scipy import stats
from stats import bonferroni, failure_rate, z_threshold

from lvmkit.models import LinearGaussian


@pytest.fixture
def model():
    g = torch.Generator().manual_seed(0)
    return LinearGaussian(torch.randn(4, 3, generator=g, dtype=torch.float64), 1.3, 0.7)


def joint_cov(m):
    """Covariance of (x, I) stacked, written out from the model's definition."""
    A, s2, n2 = m.A.numpy(), m.prior_scale**2, m.noise_std**2
    top = np.hstack([s2 * np.eye(3), s2 * A.T])
    bottom = np.hstack([s2 * A, s2 * A @ A.T + n2 * np.eye(4)])
    return np.vstack([top, bottom])


def test_marginal_matches_scipy(model):
    images = torch.randn(5, 4, dtype=torch.float64)
    cov = joint_cov(model)[3:, 3:]
    expected = stats.multivariate_normal(np.zeros(4), cov).logpdf(images.numpy())
    np.testing.assert_allclose(
        model.marginal().log_prob(images).numpy(), expected, rtol=1e-12
    )


def test_posterior_is_gaussian_conditioning_of_the_joint(model):
    image = torch.randn(4, dtype=torch.float64)
    C = joint_cov(model)
    gain = C[:3, 3:] @ np.linalg.inv(C[3:, 3:])
    mean = gain @ image.numpy()
    cov = C[:3, :3] - gain @ C[3:, :3]
    post = model.posterior(image)
    np.testing.assert_allclose(post.mean.numpy(), mean, atol=1e-12)
    np.testing.assert_allclose(post.covariance_matrix.numpy(), cov, atol=1e-12)


def test_bayes_rule_holds_pointwise(model):
    """log r(x) + log p(I|x) - log r(I) = log q(x|I) at arbitrary (x, I)."""
    x = torch.randn(6, 3, dtype=torch.float64)
    images = torch.randn(6, 4, dtype=torch.float64)
    lhs = (
        model.prior().log_prob(x)
        + model.likelihood(x).log_prob(images)
        - model.marginal().log_prob(images)
    )
    np.testing.assert_allclose(
        lhs.numpy(), model.posterior(images).log_prob(x).numpy(), atol=1e-10
    )


@failure_rate(1e-4, "z test per covariance entry, Bonferroni over the entries")
def test_sampler_moments(model):
    """Statistical test: each sample covariance entry within z standard errors."""
    _, images = model.sample(40_000, generator=torch.Generator().manual_seed(1))
    cov = joint_cov(model)[3:, 3:]
    emp = np.cov(images.numpy().T)
    se = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / 40_000)
    assert np.all(np.abs(emp - cov) < z_threshold(bonferroni(1e-4, cov.size)) * se)


def test_sampling_is_reproducible(model):
    a = model.sample(3, generator=torch.Generator().manual_seed(5))
    b = model.sample(3, generator=torch.Generator().manual_seed(5))
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"A": torch.ones(3)}, "shape"),
        ({"A": torch.tensor([[1.0, float("nan")]])}, "finite"),
        ({"A": torch.ones(2, 2), "prior_scale": 0.0}, "prior_scale"),
        ({"A": torch.ones(2, 2), "noise_std": -1.0}, "noise_std"),
        ({"A": torch.ones(2, 2), "noise_std": float("inf")}, "noise_std"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearGaussian(**kwargs)


def test_bad_inputs_are_rejected(model):
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        model.posterior(torch.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        model.likelihood(torch.tensor([0.0, float("inf"), 0.0]))
    with pytest.raises(ValueError, match="positive integer"):
        model.sample(0)


def test_model_is_frozen(model):
    with pytest.raises(AttributeError):
        model.noise_std = 2.0
