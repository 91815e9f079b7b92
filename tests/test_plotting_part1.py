"""Smoke tests of the part 1 figures: each returns its axes and draws something."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lvmkit.book import figures
from lvmkit.treeworld import TreeWorld


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


SAMPLE = TreeWorld.default().sample(3, generator=np.random.default_rng(0))


def test_plot_tree_rows():
    axes = figures.plot_tree_rows({"a": SAMPLE.maps, "b": SAMPLE.maps}, kind="map")
    assert axes.shape == (2, 3) and all(len(ax.images) == 1 for ax in axes.flat)
    axes = figures.plot_tree_rows({"img": SAMPLE.images}, kind="image")
    assert len(axes[0, 0].images) == 1
    with pytest.raises(ValueError, match="same number"):
        figures.plot_tree_rows({"a": SAMPLE.maps, "b": SAMPLE.maps[:2]})


def test_plot_reflection():
    world = {"l": SAMPLE.maps[0], "image": SAMPLE.images[0]}
    axes = figures.plot_reflection(
        world,
        {"f": np.random.default_rng(1).standard_normal(256)},
        world_kind=["map", "image"],
        model_kind="features",
    )
    assert axes.shape == (2, 2) and len(axes[1, 0].images) == 1
    flipped = axes[1, 0].images[0].get_array()
    assert flipped.shape == (16, 16)
    with pytest.raises(ValueError, match="kinds"):
        figures.plot_reflection(world, world, world_kind=["map"])


def test_plot_learning_curves():
    ax = figures.plot_learning_curves(
        [10, 100], {"a": np.array([[-3, -2], [-1, -1.5]])}, truth=-0.5
    )
    assert len(ax.lines) == 2 and len(ax.collections) == 1


def test_plot_prior_vs_average_posterior():
    p = np.array([0.5, 0.3, 0.2])
    ax = figures.plot_prior_vs_average_posterior(p, {"w": np.array([0.4, 0.4, 0.2])})
    assert len(ax.collections) == 1 and len(ax.lines) == 1
