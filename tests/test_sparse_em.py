"""Monte-Carlo EM for prior scales and noise: exact Gaussian cases and a Laplace recovery."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import optimize
from stats import failure_rate

from lvmkit import sparse_em as em
from lvmkit.models import LinearGaussian

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

pytestmark = pytest.mark.usefixtures("one_thread")
F64 = torch.float64


def _gaussian_data(n=3000, P=6, N=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(P, N, generator=g, dtype=F64)
    s = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    x = s * torch.randn(n, N, generator=g, dtype=F64)
    images = x @ A.T + 0.3 * torch.randn(n, P, generator=g, dtype=F64)
    return images, A, g


def _exact_ml(images, A):
    N = A.shape[1]

    def nll(theta):
        t = torch.tensor(theta, dtype=F64)
        return -em.gaussian_marginal_loglik(images, A, t[:N].exp(), float(t[N].exp()))

    res = optimize.minimize(
        nll,
        np.zeros(N + 1),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20000},
    )
    return np.exp(res.x)


def test_exact_gaussian_draws_have_the_closed_form_posterior():
    images, A, g = _gaussian_data(n=2)
    s = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    post = LinearGaussian(A, 1.0, 0.3)  # isotropic reference: compare with s = 1
    d = em.gaussian_e_step(
        images, A, torch.ones(3, dtype=F64), 0.3, n_samples=40000, generator=g
    )
    ref = post.posterior(images)
    torch.testing.assert_close(d.mean(0), ref.mean, atol=0.02, rtol=0)
    cov = torch.cov(d[:, 0].T)
    torch.testing.assert_close(cov, ref.covariance_matrix[0], atol=0.01, rtol=0)
    assert s.shape == (3,)


def test_gaussian_em_fixed_point_is_the_closed_form_maximum_likelihood():
    """With the exact posterior moments (many draws), EM's fixed point maximises the
    Gaussian marginal likelihood found by direct optimisation."""
    images, A, g = _gaussian_data()
    ml = _exact_ml(images, A)
    res = em.mc_em(
        images,
        A,
        torch.ones(3, dtype=F64),
        1.0,
        e_step=lambda *a, **k: em.gaussian_e_step(*a, n_samples=200, **k),
        m_step=em.gaussian_m_step,
        tol=2e-4,
        patience=3,
        max_iter=400,
        generator=g,
    )
    assert res.converged
    np.testing.assert_allclose(res.scales.numpy(), ml[:3], rtol=0.01)
    assert res.noise_std == pytest.approx(ml[3], rel=0.01)
    ll_em = em.gaussian_marginal_loglik(images, A, res.scales, res.noise_std)
    ll_ml = em.gaussian_marginal_loglik(images, A, torch.tensor(ml[:3]), float(ml[3]))
    assert ll_em == pytest.approx(ll_ml, abs=1e-4)


@failure_rate(1e-3, "relative errors of a few per cent against MC jitter of ~0.5 %")
def test_laplace_em_recovers_the_scales_of_simulated_data():
    g = torch.Generator().manual_seed(1)
    P, N, n = 10, 4, 4000
    A = torch.randn(P, N, generator=g, dtype=F64)
    A = A / A.norm(dim=0)
    s = torch.tensor([0.3, 0.6, 1.0, 1.5], dtype=F64)
    x = torch.distributions.Laplace(torch.zeros(N, dtype=F64), s).sample((n,))
    images = x @ A.T + 0.2 * torch.randn(n, P, generator=g, dtype=F64)
    res = em.mc_em(
        images,
        A,
        torch.ones(N, dtype=F64),
        0.5,
        e_step=lambda *a, **k: em.laplace_e_step(*a, n_samples=4, n_warmup=60, **k),
        m_step=em.laplace_m_step,
        tol=0.003,
        patience=3,
        max_iter=60,
        generator=g,
    )
    assert res.converged
    np.testing.assert_allclose(res.scales.numpy(), s.numpy(), rtol=0.06)
    assert res.noise_std == pytest.approx(0.2, rel=0.05)


def test_energy_correlation_is_zero_for_independent_draws_and_positive_for_a_scale_mixture():
    g = torch.Generator().manual_seed(2)
    ind = torch.randn(4, 500, 5, generator=g, dtype=F64)
    c, boot = em.energy_correlation(ind, n_boot=100)
    iu = torch.triu_indices(5, 5, 1)
    assert abs(float(c[iu[0], iu[1]].mean())) < 4 * boot.std()
    mix = ind * torch.rand(1, 500, 1, generator=g, dtype=F64).mul(3).exp()
    c2, boot2 = em.energy_correlation(mix, n_boot=100)
    assert float(c2[iu[0], iu[1]].mean()) > 0.2
    assert float(c2[iu[0], iu[1]].mean()) > 10 * boot2.std()
