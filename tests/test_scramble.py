"""The latent scramble is invertible and preserves the prior; the scrambled model keeps
every density ratio.

Statistical tests use fixed seeds and declare their failure rates (``tests/stats.py``).
"""

import pytest
import torch
from stats import assert_ks, assert_ks_2samp, bonferroni, failure_rate

from lvmkit.scramble import CellScramble, ScrambledModel
from lvmkit.vae import VAE, BernoulliMLP, GaussianEncoder, elbo_terms, make_prior


@failure_rate(1e-4, "d + 1 KS tests, each at level bonferroni(1e-4, d + 1)")
@pytest.mark.parametrize("kind", ["normal", "laplace"])
@pytest.mark.parametrize("d,M", [(1, 50), (2, 32), (3, 10)])
def test_invertible_and_prior_preserving(kind, d, M):
    prior = make_prior(kind, d, dtype=torch.float64)
    S = CellScramble.random(prior, M, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    z = S.prior.base_dist.icdf(torch.rand(20000, d, generator=g, dtype=torch.float64))
    sz = S(z)
    torch.testing.assert_close(S.inverse(sz), z, rtol=0, atol=1e-9)
    torch.testing.assert_close(S(S.inverse(z)), z, rtol=0, atol=1e-9)
    u = prior.base_dist.cdf(sz)
    for i in range(d):  # each marginal of S(z) is still the prior's
        assert_ks(u[:, i].numpy(), "uniform", bonferroni(1e-4, d + 1))
    # the joint too: project on a fixed direction and compare with projected prior draws
    w = torch.linspace(1, 2, d, dtype=torch.float64)
    z2 = S.prior.base_dist.icdf(torch.rand(20000, d, generator=g, dtype=torch.float64))
    assert_ks_2samp((sz @ w).numpy(), (z2 @ w).numpy(), bonferroni(1e-4, d + 1))
    # and it really moves points: most move further than a cell
    assert float(((sz - z).norm(dim=-1) > 0.5).double().mean()) > 0.5


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", ["normal", "laplace"])
def test_invertible_on_cell_boundaries(kind, dtype):
    """Issue 18: S^{-1}(S(0)) != 0 for 17 of 40 random permutations (d = 2, 40 cells),
    because z = 0 lies on a boundary when M is even. Every boundary, every permutation."""
    M = 40
    prior = make_prior(kind, 2, dtype=dtype)
    base = prior.base_dist
    u = (
        torch.arange(1, M, dtype=torch.float64) / M
    )  # every interior boundary in CDF space
    edge = base.icdf(u.to(dtype)[:, None].expand(-1, 2))
    z = torch.cat(
        [
            torch.zeros(1, 2, dtype=dtype),
            edge,
            edge.flip(0) * torch.tensor([1, -1]),
            torch.nextafter(edge, torch.tensor(float("inf"), dtype=dtype)),
            torch.nextafter(edge, torch.tensor(-float("inf"), dtype=dtype)),
        ]
    )
    atol = 1e-12 if dtype == torch.float64 else 1e-5
    for seed in range(40):
        S = CellScramble.random(prior, M, generator=torch.Generator().manual_seed(seed))
        torch.testing.assert_close(S.inverse(S(z)), z, rtol=0, atol=atol)
        torch.testing.assert_close(S(S.inverse(z)), z, rtol=0, atol=atol)


def test_refuses_fractional_permutation_and_other_device():
    prior = make_prior("normal", 1, dtype=torch.float64)
    with pytest.raises(TypeError, match="permutation"):
        CellScramble(prior, 4, torch.tensor([0.0, 1.7, 2.0, 3.0]))
    S = CellScramble.random(prior, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="z"):
        S(torch.zeros(2, 1, device="meta"))


def test_destroys_neighbourhoods_but_keeps_cells():
    prior = make_prior("normal", 2, dtype=torch.float64)
    S = CellScramble.random(prior, 64, generator=torch.Generator().manual_seed(0))
    a = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    b = a + 0.2  # a few cells away
    assert float((S(a) - S(b)).norm()) > 0.5 or float((S(a) - S(b)).norm()) < 0.05
    far = [float((S(a) - S(a + t)).norm()) for t in torch.linspace(0.05, 1, 20)]
    assert max(far) > 2 * 1.0


def test_validation():
    prior = make_prior("normal", 2)
    with pytest.raises(ValueError, match="permutation"):
        CellScramble(prior, 4, torch.arange(15))
    with pytest.raises(ValueError, match="cells_per_dim"):
        CellScramble.random(prior, 1, generator=torch.Generator())
    S = CellScramble.random(prior, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="shape"):
        S(torch.zeros(3, 3))


@torch.no_grad()
def test_scrambled_model_keeps_elbo_rate_and_posterior_normalisation():
    torch.manual_seed(0)
    vae = VAE(BernoulliMLP(2, 16), 2, GaussianEncoder(16, 2)).double()
    S = CellScramble.random(vae.prior(), 16, generator=torch.Generator().manual_seed(1))
    sm = ScrambledModel(vae, S)
    x = torch.bernoulli(
        torch.full((30, 16), 0.3, dtype=torch.float64),
        generator=torch.Generator().manual_seed(2),
    )
    a = elbo_terms(vae, x, 5, generator=torch.Generator().manual_seed(3))
    b = elbo_terms(sm, x, 5, generator=torch.Generator().manual_seed(3))
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, rtol=0, atol=1e-8)
    # q'(z'|x) integrates to 1: importance sampling with the prior as proposal
    z = S.prior.base_dist.icdf(
        torch.rand(
            200000, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64
        )
    )
    w = (sm.posterior_log_prob(x[:1], z) - vae.prior().log_prob(z)).exp()
    assert abs(float(w.mean()) - 1) < 5 * float(w.std()) / 200000**0.5
