"""The seeded part-3 figures draw what they are given, without text over text."""

import matplotlib.pyplot as plt  # conftest.py selects the Agg backend
import pytest
from figure_check import text_overlaps

from lvmkit import plotting
from lvmkit.book import part3_figures as figures


@pytest.fixture(autouse=True)
def _style():
    plotting.use_style()
    yield
    plt.close("all")


def test_capacity_sweep_draws_both_panels():
    widths = [16, 64, 256]
    axes = figures.plot_capacity_sweep(
        {"rate": (widths, [1.5, 1.9, 2.1], [0.1, 0.1, 0.1])},
        {"with latents": (widths, [-17.8, -17.7, -17.7], [0.05] * 3)},
        {"factorised": (-19.3, 0.1)},
    )
    assert len(axes) == 2 and axes[0].get_xscale() == "log"
    assert len(axes[1].get_legend().get_texts()) == 2
    assert not text_overlaps(axes[0].figure)
    with pytest.raises(ValueError, match="axes"):
        figures.plot_capacity_sweep({}, {}, axes=[axes[0]])


def test_rd_frontier_groups_collapsed_labels_and_shades_the_bound():
    points = {
        "β = 0.1": (8.5, 0.2, 12.0, 0.1),
        "β = 1": (2.0, 0.05, 16.0, 0.05),
        "β = 2": (0.0, 0.001, 18.0, 0.02),
        "β = 3": (0.0, 0.001, 18.1, 0.02),
    }
    ax = figures.plot_rd_frontier(points, (17.7, 0.05))
    texts = [t.get_text() for t in ax.texts]
    assert "R ≈ 0: β = 2, β = 3" in texts and "β = 1" in texts
    assert not text_overlaps(ax.figure)
    with pytest.raises(ValueError, match="points"):
        figures.plot_rd_frontier({"a": (1.0, 0.1, float("nan"), 0.1)}, (1.0, 0.1))
