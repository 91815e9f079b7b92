"""Part-3 figures: each plot_* draws what it is given, on the axes it is given."""

import matplotlib.pyplot as plt  # conftest.py selects the Agg backend
import numpy as np
import pytest

from lvmkit import plotting
from lvmkit.book import figures


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
    assert (
        plotting.plot_image_grids({"a": imgs, "b": imgs}, (8, 8), axes=given)[1]
        is given[1]
    )
    with pytest.raises(ValueError, match="axes"):
        plotting.plot_image_grids({"a": imgs}, (8, 8), axes=given)


def test_interpolations_one_strip_per_row():
    rows = {"x": np.zeros((5, 16)), "y": np.ones((5, 16))}
    axes = figures.plot_interpolations(rows, (4, 4))
    assert [ax.get_title(loc="left") for ax in axes] == ["x", "y"]
    assert axes[0].images[0].get_array().shape == (4, 5 * 5 - 1)
    with pytest.raises(ValueError, match="same number"):
        figures.plot_interpolations(
            {"x": np.zeros((5, 16)), "y": np.zeros((4, 16))}, (4, 4)
        )


def test_posterior_families_draw_posteriors_prior_and_average():
    grid = np.linspace(-3, 3, 50)
    prior = np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi)
    posts = np.stack([prior] * 4)
    families = {"one": (posts, prior), "two": (posts, prior)}
    axes = figures.plot_posterior_families(grid, prior, families)
    assert len(axes[0].lines) == 4 + 2
    np.testing.assert_allclose(axes[0].lines[4].get_ydata(), prior)


def test_salt_and_pepper_scatter_and_colour():
    z = np.random.default_rng(1).normal(size=(30, 2))
    labels = np.arange(30) % 3
    axes = figures.plot_salt_and_pepper({"a": z, "b": -z}, labels, cbar_label="digit")
    np.testing.assert_allclose(axes[1].collections[0].get_offsets(), -z)
    with pytest.raises(ValueError, match="shape"):
        figures.plot_salt_and_pepper({"a": np.zeros((3, 3))}, np.zeros(3))


def test_rate_distortion_points_and_elbo_lines():
    ax = plotting.plot_rate_distortion(
        {"a": (0.0, 18.0), "b": (0.05, 18.1), "c": (3.0, 15.0)}, elbo_levels=[-18, -20]
    )
    assert len(ax.collections) == 3 and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 18 - ax.lines[0].get_xdata())
    ys = sorted(t.get_position()[1] for t in ax.texts)
    assert ys[1] - ys[0] > 0.1  # labels of nearby points are spread apart


def test_rate_distortion_labels_of_close_points_do_not_overlap():
    points = {"a": (0.0, 18.5), "b": (0.0, 18.1), "c": (0.04, 17.7), "d": (8.0, 13.2)}
    ax = plotting.plot_rate_distortion(points, elbo_levels=[-18])
    fig = ax.figure
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two point labels overlap"


def test_shapes_show_each_image_with_its_factors():
    imgs = np.random.default_rng(2).integers(0, 2, (5, 144)).astype(float)
    factors = np.array(
        [[0, 5, 5, 2.5], [1, 6, 6, 3.0], [0, 4, 4, 2.0], [1, 5, 6, 3.5], [0, 6, 5, 2.2]]
    )
    axes = figures.plot_shapes(imgs, factors, (12, 12), n=4, ncols=2)
    assert len(axes) == 4
    np.testing.assert_allclose(axes[1].images[0].get_array(), imgs[1].reshape(12, 12))
    assert axes[0].get_title().startswith("square") and axes[1].get_title().startswith(
        "plus"
    )
    assert "s = 3.0" in axes[1].get_title()
    with pytest.raises(ValueError, match="factors"):
        figures.plot_shapes(imgs, factors[:3], (12, 12))


def test_benchmark_ratios_bar_is_ratio_over_goal():
    rows = [
        {
            "label": "fast",
            "ratio": 15.0,
            "goal": 10.0,
            "higher_is_better": True,
            "goal_text": "≥ 10",
        },
        {
            "label": "none",
            "ratio": 1.2,
            "goal": None,
            "higher_is_better": True,
            "goal_text": "",
        },
        {
            "label": "slow",
            "ratio": 1.21,
            "goal": 1.1,
            "higher_is_better": False,
            "goal_text": "≤ 1.1",
        },
    ]
    ax = figures.plot_benchmark_ratios(rows)
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, [np.log10(1.5), np.log10(1.1 / 1.21)])
    colours = [p.get_facecolor() for p in ax.patches]
    assert colours[0] != colours[1]  # met and missed are told apart
    assert [t.get_text() for t in ax.get_yticklabels()] == ["fast", "none", "slow"]
    assert any("no goal" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="positive"):
        figures.plot_benchmark_ratios([{**rows[0], "ratio": 0.0}])
    with pytest.raises(ValueError, match="empty"):
        figures.plot_benchmark_ratios([])
