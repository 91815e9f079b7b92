"""Metropolis-within-Gibbs (lvmkit.mcmc.gibbs): the exact Gaussian posterior, a
one-latent posterior against quadrature, and simulation-based calibration at a shape
(alpha = 0.5) where HMC fails."""

import numpy as np
import pytest
import torch
from scipy import integrate
from stats import bonferroni, failure_rate, z_threshold
from torch.distributions import Independent, Laplace, Normal, StudentT

from lvmkit.diagnostics import check_sbc, run_sbc
from lvmkit.mcmc import GibbsState, build_sweep, gibbs
from lvmkit.priors import GeneralizedGaussian

pytestmark = pytest.mark.usefixtures("one_thread")
F64 = torch.float64


def _problem(P=5, N=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(P, N, generator=g, dtype=F64), 0.7


@failure_rate(1e-3, "z bounds (Bonferroni over 3 latents x 2 moments), 2000 chains")
def test_gaussian_prior_gives_the_exact_gaussian_posterior():
    A, sigma = _problem()
    v = torch.tensor([0.3, 1.0, 2.0], dtype=F64)
    image = torch.tensor([[1.0, -0.5, 0.2, 2.0, 0.0]], dtype=F64).expand(2000, -1)
    g = torch.Generator().manual_seed(1)
    prior = Independent(Normal(torch.zeros(3, dtype=F64), v.sqrt()), 1)
    x0 = prior.sample((2000,)) * 0  # every chain starts at 0
    r = gibbs(A, sigma, prior, image, x0, n_samples=1, n_warmup=60, generator=g)
    cov = torch.linalg.inv(A.T @ A / sigma**2 + torch.diag(1 / v))
    mean = image[0] @ A / sigma**2 @ cov
    draws = r.samples[0]  # one draw from each of 2000 independent chains
    z = z_threshold(bonferroni(1e-3, 6))
    sd = torch.diagonal(cov).sqrt()
    assert torch.all((draws.mean(0) - mean).abs() < z * sd / np.sqrt(2000))
    # the sample variance of n normal draws has sd ~ var * sqrt(2 / n)
    assert torch.all((draws.var(0) / sd**2 - 1).abs() < z * np.sqrt(2 / 2000))


@failure_rate(1e-3, "z bounds on two posterior moments, 4000 independent chains")
def test_one_latent_with_a_cusp_matches_quadrature():
    A = torch.tensor([[0.8], [0.3]], dtype=F64)
    sigma, alpha, s = 0.5, 0.4, 0.2
    image = torch.tensor([0.6, 0.1], dtype=F64)

    def density(x):
        r = image.numpy() - A[:, 0].numpy() * x
        return np.exp(-(r @ r) / (2 * sigma**2) - abs(x / s) ** alpha)

    Z = sum(integrate.quad(density, a, b, limit=200)[0] for a, b in ((-9, 0), (0, 9)))

    def moment(f):
        return (
            sum(
                integrate.quad(lambda x: f(x) * density(x), a, b, limit=200)[0]
                for a, b in ((-9, 0), (0, 9))
            )
            / Z
        )

    m1, m_abs, m2 = moment(lambda x: x), moment(abs), moment(lambda x: x * x)
    prior = GeneralizedGaussian(torch.tensor([alpha], dtype=F64), torch.tensor([s]))
    g = torch.Generator().manual_seed(3)
    x0 = torch.zeros(4000, 1, dtype=F64)
    r = gibbs(
        A,
        sigma,
        prior,
        image.expand(4000, -1),
        x0,
        n_samples=1,
        n_warmup=40,
        generator=g,
    )
    x = r.samples[0, :, 0].numpy()
    z, se = z_threshold(bonferroni(1e-3, 2)), np.sqrt((m2 - m1**2) / len(x))
    assert abs(x.mean() - m1) < z * se
    assert abs(np.abs(x).mean() - m_abs) < z * np.sqrt((m2 - m_abs**2) / len(x))


@failure_rate(0.01, "the SBC uniformity test at level 0.01")
def test_simulation_based_calibration_at_alpha_one_half():
    A, sigma = _problem(P=4, N=3, seed=4)
    prior = GeneralizedGaussian(
        torch.full((3,), 0.5, dtype=F64), torch.tensor([0.3, 1.0, 0.6], dtype=F64)
    )
    g = torch.Generator().manual_seed(5)

    def simulate(n):
        x = prior.sample((n,), generator=g)
        return x, x @ A.T + sigma * torch.randn(n, 4, generator=g, dtype=F64)

    def infer(images):
        x0 = prior.sample((len(images),), generator=g)
        return gibbs(
            A, sigma, prior, images, x0, n_samples=19, n_warmup=30, thin=5, generator=g
        ).samples

    check_sbc(run_sbc(simulate, infer, 500, n_bins=10), level=0.01)


def test_a_distribution_that_cannot_be_rebuilt_per_latent_gives_the_same_chain():
    """Laplace rebuilt per latent, and a prior wrapped so it cannot be: the same draws."""
    A, sigma = _problem()
    base = Laplace(torch.zeros(3, dtype=F64), torch.tensor([0.5, 1.0, 2.0], dtype=F64))

    class Opaque(Laplace):
        arg_constraints = {}  # noqa: RUF012

    opaque = Opaque(base.loc, base.scale)
    images = torch.randn(10, 5, generator=torch.Generator().manual_seed(6), dtype=F64)
    out = [
        gibbs(
            A,
            sigma,
            prior,
            images,
            torch.zeros(10, 3, dtype=F64),
            n_samples=3,
            generator=torch.Generator().manual_seed(7),
        ).samples
        for prior in (base, opaque)
    ]
    torch.testing.assert_close(out[0], out[1], rtol=1e-12, atol=1e-12)


def test_a_prior_without_reproducible_draws_is_refused():
    A, sigma = _problem()
    prior = StudentT(torch.full((3,), 3.0, dtype=F64))
    with pytest.raises(ValueError, match="icdf"):
        build_sweep(A, sigma, prior)


def test_residual_stays_consistent_and_acceptances_are_rates():
    A, sigma = _problem()
    prior = GeneralizedGaussian(torch.full((3,), 0.7, dtype=F64), torch.ones(3))
    images = torch.randn(8, 5, generator=torch.Generator().manual_seed(8), dtype=F64)
    sweep = build_sweep(A, sigma, prior)
    state = GibbsState(torch.zeros(8, 3, dtype=F64), images.clone())
    for _ in range(20):
        state, _ = sweep(state, images, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(state.residual, images - state.position @ A.T)
    r = gibbs(A, sigma, prior, images, torch.zeros(8, 3, dtype=F64), n_samples=5)
    assert r.samples.shape == (5, 8, 3)
    for acc in (r.accept_likelihood, r.accept_prior):
        assert acc.shape == (3,) and torch.all((acc >= 0) & (acc <= 1))


@failure_rate(1e-3, "z bound on the posterior mean, 4000 independent chains")
def test_elliptical_steps_alone_match_quadrature():
    """The elliptical slice step by itself (no sweeps) targets the same posterior."""
    from lvmkit.mcmc.elliptical import build_elliptical_step

    A = torch.tensor([[0.8, 0.1], [0.3, -0.6], [0.2, 0.4]], dtype=F64)
    sigma, alpha, s = 0.5, 0.5, torch.tensor([0.3, 0.6], dtype=F64)
    image = torch.tensor([0.6, 0.1, -0.4], dtype=F64)
    prior = GeneralizedGaussian(torch.full((2,), alpha, dtype=F64), s)

    def log_q(x):  # (M, 2) -> (M,)
        r = image - x @ A.T
        return -(r * r).sum(-1) / (2 * sigma**2) + prior.log_prob(x).sum(-1)

    grid = torch.linspace(-4, 4, 1601, dtype=F64)
    X = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    w = torch.softmax(log_q(X), 0)
    mean = (w[:, None] * X).sum(0)
    sd = ((w[:, None] * (X - mean) ** 2).sum(0)).sqrt()
    step = build_elliptical_step(A, sigma, prior, image.expand(4000, -1))
    g = torch.Generator().manual_seed(11)
    x = torch.zeros(4000, 2, dtype=F64)
    for _ in range(60):
        x, _ = step(x, generator=g)
    z = z_threshold(bonferroni(1e-3, 2))
    assert torch.all((x.mean(0) - mean).abs() < z * sd / np.sqrt(4000))
