"""The VAE maths against exact oracles: linear Gaussian log-likelihood, MADE masks, KL.

Statistical tests use fixed seeds; tolerances are >= 5 Monte Carlo standard errors, a
declared failure rate below 1e-6 per assertion for a fresh seed.
"""

import math

import pytest
import torch
from stats import assert_in_stderr, bonferroni, failure_rate
from torch.distributions import Independent, Laplace, Normal

from lvmkit import estimators as est
from lvmkit.models import LinearGaussian
from lvmkit.vae import (
    MADE,
    VAE,
    BernoulliMLP,
    GaussianEncoder,
    LinearGaussianDecoder,
    LinearGaussianEncoder,
    RenderDecoder,
    elbo_terms,
    iw_log_likelihood,
    make_prior,
    mmd_rbf,
)


def linear_vae(A, noise_std):
    P, N = A.shape
    return VAE(
        LinearGaussianDecoder(A, noise_std), N, LinearGaussianEncoder(P, N)
    ).double()


def set_exact_posterior(vae, model):
    """Encoder := the exact posterior (possible when it is diagonal)."""
    S = model.posterior_cov()
    with torch.no_grad():
        vae.encoder.W.copy_((model.A @ S).T / model.noise_std**2)
        vae.encoder.log_sigma.copy_(0.5 * torch.diagonal(S).log())


def test_linear_gaussian_elbo_equals_exact_loglik_with_exact_posterior():
    # orthogonal columns -> diagonal posterior covariance, reachable by the encoder
    Q, _ = torch.linalg.qr(
        torch.randn(
            6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64
        )
    )
    A = Q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    model = LinearGaussian(A, prior_scale=1.0, noise_std=0.7)
    vae = linear_vae(A, 0.7)
    set_exact_posterior(vae, model)
    _, x = model.sample(50, generator=torch.Generator().manual_seed(1))
    exact = model.marginal().log_prob(x)
    # q = p(z|x): log p(x,z) - log q(z|x) = log p(x) for every z (zero variance)
    single = elbo_terms(vae, x, 1, generator=torch.Generator().manual_seed(2)).elbo
    torch.testing.assert_close(single, exact, rtol=0, atol=1e-10)
    torch.testing.assert_close(iw_log_likelihood(vae, x, 7), exact, rtol=0, atol=1e-10)


@torch.no_grad()
def test_linear_gaussian_elbo_gap_is_kl_to_true_posterior():
    A = torch.randn(
        5, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    model = LinearGaussian(A, prior_scale=1.0, noise_std=0.5)
    vae = linear_vae(A, 0.5)
    with torch.no_grad():
        vae.encoder.W.normal_(0, 0.3, generator=torch.Generator().manual_seed(4))
        vae.encoder.log_sigma.fill_(-1.0)
    _, x = model.sample(20, generator=torch.Generator().manual_seed(5))
    exact = model.marginal().log_prob(x)
    q = vae.posterior(x)
    q_full = torch.distributions.MultivariateNormal(
        q.base_dist.loc, torch.diag_embed(q.base_dist.scale**2)
    )
    gap = est.kl_gaussian(q_full, model.posterior(x))
    n = 4000
    elbo = elbo_terms(vae, x, n, generator=torch.Generator().manual_seed(6)).elbo
    analytic = vae.terms(x, n_samples=n).elbo  # closed-form rate, MC distortion
    # MC standard error of the per-datum mean of n draws: bound it from a fresh batch
    z, log_q = vae.sample_posterior(x, 200, generator=torch.Generator().manual_seed(7))
    w = vae.decoder_log_prob(x, z) + vae.prior().log_prob(z) - log_q
    se = w.std(0) / math.sqrt(n)
    assert (gap > 0.05).all()
    assert ((elbo - (exact - gap)).abs() < 5 * se).all()
    assert ((analytic - (exact - gap)).abs() < 5 * se + 1e-9).all()
    # the importance-weighted bound climbs towards log p(x) with K
    iw1 = iw_log_likelihood(
        vae, x, 1, generator=torch.Generator().manual_seed(8)
    ).mean()
    iw = iw_log_likelihood(
        vae, x, 2000, generator=torch.Generator().manual_seed(8)
    ).mean()
    assert float(elbo.mean()) - 0.5 < float(iw1)
    assert float(elbo.mean()) < float(iw) < float(exact.mean()) + 0.01
    assert float(exact.mean() - iw) < 0.3 * float(gap.mean())


@failure_rate(1e-4, "three z tests, each at z_threshold(bonferroni(1e-4, 3))")
@pytest.mark.parametrize("prior", ["normal", "laplace"])
@torch.no_grad()
def test_closed_form_rate_matches_monte_carlo(prior):
    torch.manual_seed(0)
    vae = VAE(BernoulliMLP(3, 10), 3, GaussianEncoder(10, 3), prior=prior).double()
    x = torch.bernoulli(
        torch.full((8, 10), 0.4, dtype=torch.float64),
        generator=torch.Generator().manual_seed(1),
    )
    closed = vae.terms(x).rate
    q = vae.posterior(x)
    for i in range(3):
        qi = Independent(Normal(q.base_dist.loc[i], q.base_dist.scale[i]), 1)
        mc = est.kl_monte_carlo(
            qi, vae.prior(), 40000, generator=torch.Generator().manual_seed(i)
        )
        assert_in_stderr(float(closed[i]), mc.value, mc.stderr, bonferroni(1e-4, 3))


def test_priors_have_unit_variance_and_laplace_is_sparse():
    for kind in ("normal", "laplace"):
        p = make_prior(kind, 4)
        torch.testing.assert_close(p.variance, torch.ones(4))
    assert isinstance(make_prior("laplace", 2).base_dist, Laplace)
    with pytest.raises(ValueError, match="prior"):
        make_prior("cauchy", 2)


@pytest.mark.parametrize("n_latents", [0, 3])
def test_made_is_truly_autoregressive(n_latents):
    P = 12
    made = MADE(P, n_latents, hidden=40, n_hidden=2).double()
    torch.manual_seed(0)
    for p in made.parameters():  # dense random weights: no accidental zeros
        torch.nn.init.normal_(p, 0, 0.5)
    x = torch.rand(P, dtype=torch.float64)
    z = torch.randn(n_latents, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(
        lambda v: made.logits(v, z), x
    )  # (out i, in j)
    assert torch.all(jac.triu() == 0), "output i depends on an input j >= i"
    below = torch.ones(P, P, dtype=torch.bool).tril(-1)
    assert torch.all(jac[below].abs() > 0), (
        "some allowed connection i <- j < i is missing"
    )
    if n_latents:
        jz = torch.autograd.functional.jacobian(lambda v: made.logits(x, v), z)
        assert torch.all(jz.abs().sum(1) > 0)
    # and for each output, perturbing inputs >= i leaves it unchanged
    for i in range(P):
        x2 = x.clone()
        x2[i:] = torch.rand(P - i, dtype=torch.float64)
        assert torch.equal(made.logits(x, z)[i], made.logits(x2, z)[i])


@torch.no_grad()
def test_made_is_a_normalised_density_by_enumeration():
    P = 6
    made = MADE(P, 0, hidden=16).double()
    torch.manual_seed(1)
    for p in made.parameters():
        torch.nn.init.normal_(p, 0, 0.7)
    grid = torch.tensor(
        [[(k >> i) & 1 for i in range(P)] for k in range(2**P)], dtype=torch.float64
    )
    total = torch.logsumexp(made.log_prob(grid)[0], 0)
    torch.testing.assert_close(
        total, torch.zeros((), dtype=torch.float64), atol=1e-12, rtol=0
    )
    vae = VAE(made, 0)
    x = vae.sample(3000, generator=torch.Generator().manual_seed(2))
    codes = (x * 2 ** torch.arange(P)).sum(1).long()
    freq = torch.bincount(codes, minlength=2**P).double() / 3000
    probs = made.log_prob(grid)[0].exp()
    # multinomial frequencies: max abs error < 5 sd of the largest cell (rate < 1e-4)
    assert float((freq - probs).abs().max()) < 5 * math.sqrt(float(probs.max()) / 3000)


def test_render_decoder_and_mmd():
    dec = RenderDecoder(12)
    z = torch.zeros(2, 5, 4)
    x = torch.bernoulli(
        torch.full((5, 144), 0.2), generator=torch.Generator().manual_seed(0)
    )
    assert dec.log_prob(x, z).shape == (2, 5)
    a = torch.randn(400, 2, generator=torch.Generator().manual_seed(1))
    b = torch.randn(400, 2, generator=torch.Generator().manual_seed(2))
    assert abs(float(mmd_rbf(a, b))) < 0.01
    assert float(mmd_rbf(a + 1.5, b)) > 0.1


def test_vae_validation():
    vae = VAE(BernoulliMLP(2, 4), 2, GaussianEncoder(4, 2))
    with pytest.raises(ValueError, match="shape"):
        vae.terms(torch.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        iw_log_likelihood(vae, torch.full((2, 4), float("nan")), 3)
    with pytest.raises(ValueError, match="n_samples"):
        iw_log_likelihood(vae, torch.zeros(2, 4), 0)
    with pytest.raises(ValueError, match="encoder"):
        VAE(BernoulliMLP(2, 4), 2)
    with pytest.raises(ValueError, match="prior"):
        VAE(MADE(4), 0, prior="cauchy")
