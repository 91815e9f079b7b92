"""Smoke tests of the figures of the chapter "maximum likelihood as distribution matching"."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lvmkit.book import figures


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_likelihood_vs_kl_draws_every_curve():
    x = np.linspace(0.5, 2.0, 7)
    kl = (x - 1.0) ** 2
    panel = {
        "param": x,
        "nll": kl + 3.0,
        "kl": kl,
        "kl_se": 0.01 + 0 * x,
        "entropy": 3.0,
    }
    panels = {"a": panel, "b": {**panel, "kl_exact": kl, "kl_floor": 0.1}}
    axes = figures.plot_likelihood_vs_kl(panels)
    assert len(axes) == 2 and axes[1].get_title() == "b"
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert {"KL, exact", "best KL in family", "KL + H(p_data)"} <= set(labels)
    shifted = next(
        line for line in axes[0].lines if line.get_label() == "KL + H(p_data)"
    )
    np.testing.assert_allclose(shifted.get_ydata(), kl + 3.0)


def test_plot_likelihood_vs_kl_needs_one_axes_per_panel():
    panel = {
        "param": [0, 1],
        "nll": [1, 2],
        "kl": [0, 1],
        "kl_se": [0, 0],
        "entropy": 1.0,
    }
    _, ax = plt.subplots()
    with pytest.raises(ValueError):
        figures.plot_likelihood_vs_kl({"a": panel, "b": panel}, axes=[ax])


def test_plot_response_kurtosis_rows_and_means():
    k = {"data": np.array([5.0, 7.0, 9.0]), "model": np.array([0.0, 0.1, -0.1])}
    ax = figures.plot_response_kurtosis(k, title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["data", "model"]
    means = [line for line in ax.lines if line.get_marker() == "|"]
    assert [float(m.get_xdata()[0]) for m in means] == [7.0, 0.0]
