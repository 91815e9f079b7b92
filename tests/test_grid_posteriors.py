"""Grid posteriors against closed forms (Gaussian prior and likelihood)."""

import numpy as np
import pytest
import torch

from lvmkit.grid_posteriors import (
    Grid2D,
    count_modes,
    gaussian_fit_kl,
    kl_masses,
    posterior_masses,
    ring_log_density,
    sparse_log_density,
)
from lvmkit.models import LinearGaussian


def test_gaussian_posterior_on_grid_matches_linear_gaussian():
    A = np.array([[1.0, 0.5], [0.2, -1.0], [0.3, 0.3]])
    model = LinearGaussian(torch.tensor(A), 1.0, 0.7)
    grid = Grid2D(-4, 4, 201)
    log_prior = -0.5 * (grid.points**2).sum(1)
    images = np.array([[0.5, -1.0, 0.2], [1.5, 0.3, -0.4]])
    post = posterior_masses(grid, log_prior, images, A, 0.7)
    exact = model.posterior(torch.tensor(images))
    m = post.reshape(2, -1) @ grid.points
    np.testing.assert_allclose(m, exact.mean.numpy(), atol=1e-4)
    assert np.all(gaussian_fit_kl(grid, post) < 1e-4)
    assert [count_modes(p) for p in post] == [1, 1]


def test_kl_and_complexity_of_ring():
    grid = Grid2D(-5, 5, 121)
    ring = grid.normalise(ring_log_density(grid.points))
    assert gaussian_fit_kl(grid, ring) > 0.5
    assert count_modes(ring) == 3
    assert kl_masses(ring, ring) == pytest.approx(0.0, abs=1e-12)


def test_sparse_density_is_normalised():
    grid = Grid2D(-12, 12, 601)
    mass = np.exp(sparse_log_density(grid.points, 1.5, 1.0)).sum() * grid.cell_area
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_grid_validation():
    with pytest.raises(ValueError):
        Grid2D(1.0, -1.0, 10)
    with pytest.raises(ValueError):
        posterior_masses(
            Grid2D(), np.zeros(201 * 201), np.zeros((2, 3)), np.eye(2), 1.0
        )
