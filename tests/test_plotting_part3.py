"""Part-3 figures: each plot_* draws what it is given, on the axes it is given."""

import matplotlib.pyplot as plt  # conftest.py selects the Agg backend
import numpy as np
import pytest

from lvmkit import plotting


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_image_grids_tile_every_image():
    imgs = np.random.default_rng(0).random((10, 64))
    axes = plotting.plot_image_grids({"a": imgs, "b": imgs[:3]}, (8, 8), ncols=4)
    assert len(axes) == 2 and axes[0].get_title() == "a"
    shown = axes[0].images[0].get_array()
    assert shown.shape == (3 * 9 - 1, 4 * 9 - 1)
    np.testing.assert_allclose(shown[:8, :8], imgs[0].reshape(8, 8))
    _, given = plt.subplots(1, 2)
    assert plotting.plot_image_grids({"a": imgs, "b": imgs}, (8, 8), axes=given)[1] is given[1]
    with pytest.raises(ValueError, match="axes"):
        plotting.plot_image_grids({"a": imgs}, (8, 8), axes=given)


def test_interpolations_one_strip_per_row():
    rows = {"x": np.zeros((5, 16)), "y": np.ones((5, 16))}
    axes = plotting.plot_interpolations(rows, (4, 4))
    assert [ax.get_title(loc="left") for ax in axes] == ["x", "y"]
    assert axes[0].images[0].get_array().shape == (4, 5 * 5 - 1)
    with pytest.raises(ValueError, match="same number"):
        plotting.plot_interpolations({"x": np.zeros((5, 16)), "y": np.zeros((4, 16))}, (4, 4))


def test_posterior_families_draw_posteriors_prior_and_average():
    grid = np.linspace(-3, 3, 50)
    prior = np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi)
    posts = np.stack([prior] * 4)
    families = {"one": (posts, prior), "two": (posts, prior)}
    axes = plotting.plot_posterior_families(grid, prior, families)
    assert len(axes[0].lines) == 4 + 2
    np.testing.assert_allclose(axes[0].lines[4].get_ydata(), prior)


def test_salt_and_pepper_scatter_and_colour():
    z = np.random.default_rng(1).normal(size=(30, 2))
    labels = np.arange(30) % 3
    axes = plotting.plot_salt_and_pepper({"a": z, "b": -z}, labels, cbar_label="digit")
    np.testing.assert_allclose(axes[1].collections[0].get_offsets(), -z)
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_salt_and_pepper({"a": np.zeros((3, 3))}, np.zeros(3))


def test_rate_distortion_points_and_elbo_lines():
    ax = plotting.plot_rate_distortion({"a": (0.0, 18.0), "b": (0.05, 18.1), "c": (3.0, 15.0)},
                                       elbo_levels=[-18, -20])
    assert len(ax.collections) == 3 and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 18 - ax.lines[0].get_xdata())
    ys = sorted(t.get_position()[1] for t in ax.texts)
    assert ys[1] - ys[0] > 0.1  # labels of nearby points are spread apart
