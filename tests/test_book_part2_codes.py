"""Part 2's code experiments: exact cases of the MAP r <- q loop, the axis preference
and the energy correlations."""

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group
from stats import bonferroni, failure_rate, z_threshold

from lvmkit.book.part2_codes import axis_preference, energy_correlations, map_prior_em

pytestmark = pytest.mark.usefixtures("one_thread")


def test_map_prior_em_with_an_orthonormal_dictionary_is_soft_thresholding():
    g = torch.Generator().manual_seed(0)
    A = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))[0]
    images = torch.randn(50, 6, generator=g, dtype=torch.float64)
    r = map_prior_em(images, A, 0.5, 1.0, per_latent=True, n_steps=1)
    c = images @ A  # with A orthonormal the weighted lasso is a soft threshold of A^T I
    x = torch.sign(c) * (c.abs() - 0.25 / 1.0).clamp_min(0)
    np.testing.assert_allclose(r.scale[1], x.abs().mean(0).numpy(), rtol=1e-6)
    assert r.active[0] == pytest.approx(float((x != 0).double().mean()))


def test_a_point_mass_prior_is_a_fixed_point():
    g = torch.Generator().manual_seed(1)
    A = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))[0]
    images = 0.01 * torch.randn(30, 4, generator=g, dtype=torch.float64)
    r = map_prior_em(images, A, 1.0, 1e-3, n_steps=3)  # codes below the threshold
    np.testing.assert_array_equal(r.scale[1:], 0.0)


def test_a_mixture_has_no_preferred_axes_and_a_factorised_prior_does():
    rng = np.random.default_rng(0)
    u = rng.laplace(size=(3000, 4)) ** 3  # independent, heavy-tailed: axes matter
    R = ortho_group.rvs(4, random_state=0)
    mix = axis_preference(u[:2000], u[2000:], R, "mixture", n_components=2)
    fact = axis_preference(u[:2000], u[2000:], R, "factorised")
    assert mix[0] - mix[1] == pytest.approx(0.0, abs=1e-6)
    assert fact[0] - fact[1] > 0.5


@failure_rate(
    1e-3,
    "z test per shuffled pair (correlation se 1/sqrt(n)), Bonferroni over 10 pairs",
)
def test_energy_correlations_of_independent_codes_match_their_shuffle():
    rng = np.random.default_rng(2)
    scale = rng.exponential(size=(5000, 1))  # a shared scale: energies correlate
    dep = rng.laplace(size=(5000, 5)) * scale
    obs, shuf = energy_correlations(dep, generator=rng)
    assert obs.shape == shuf.shape == (10,)
    assert obs.min() > 0.1
    assert np.abs(shuf).max() < z_threshold(bonferroni(1e-3, 10)) / np.sqrt(5000)
