"""Smoke tests of the part-2 figures: each draws on the axes it is given and returns them."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lvmkit import plotting
from lvmkit.book import figures
from lvmkit.diagnostics import SBCResult
from lvmkit.grid_posteriors import Grid2D, posterior_masses, ring_log_density


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_grid_figures():
    grid = Grid2D(-4, 4, 41)
    lp = ring_log_density(grid.points)
    prior = grid.normalise(lp)
    posts = posterior_masses(
        grid, lp, np.array([[2.0, 0.0], [0.0, 2.0]]), np.eye(2), 0.4
    )
    axes = figures.plot_posterior_tiling(grid, prior, posts)
    assert len(axes[1].collections) > 0
    axes = figures.plot_puzzle(grid, posts, posts.mean(0), prior)
    assert len(axes) == 3 and axes[2].get_title() == "prior r(x)"
    ax = figures.plot_complexity_sweep(
        [0.1, 1.0], np.array([[0.0, 0, 0], [1, 0.5, 1.5]]), 1.2
    )
    assert ax.get_xscale() == "log"


def test_patch_and_atom_figures():
    ax = plotting.plot_tiles(torch.randn(64, 10), n_cols=5)
    assert ax.images[0].get_array().shape == (2 * 9 + 1, 5 * 9 + 1)
    rng = np.random.default_rng(0)
    ax = figures.plot_gabor_r2({"a": rng.random(20), "b": rng.random(20)}, 0.8)
    assert len(ax.lines) == 3
    axes = figures.plot_sparse_priors_2d([2.0, 0.5])
    assert len(axes) == 2


def test_loop_figures():
    res = SBCResult(
        np.random.default_rng(0).integers(0, 20, (100, 3)), 19, np.ones(3), 1.0
    )
    axes = plotting.plot_rank_histograms({"ok": res, "also": res})
    assert len(axes) == 2
    axes = figures.plot_generate_vs_infer(
        torch.randn(100),
        torch.randn(100),
        torch.randn(50),
        torch.randn(50),
        epsilon="0.1",
        eta="0.2",
    )
    assert "0.2" in axes[0, 1].get_title()
    ax = plotting.plot_marginals(
        {"q": torch.randn(100)}, densities={"r": (np.zeros(3), np.ones(3))}
    )
    assert ax.get_yscale() == "log"
    ax = plotting.plot_trajectories(np.arange(3), {"s": [1, 2, 3]}, logy=True)
    assert len(ax.lines) == 1


def test_tiling_rejects_nothing_silently():
    with pytest.raises(ValueError):
        figures.plot_sparse_priors_2d([0.0])
