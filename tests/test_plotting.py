"""Smoke tests of the shared plotting helpers (part-specific ones: test_plotting_part*.py)."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lvmkit import plotting


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_use_style_sets_png_friendly_rcparams():
    with mpl.rc_context():
        plotting.use_style()
        assert mpl.rcParams["figure.dpi"] == 100
        assert mpl.rcParams["axes.spines.top"] is False


def test_plot_densities_1d_draws_each_density_and_changes_no_style():
    before = dict(mpl.rcParams)
    grid = np.linspace(-3, 3, 50)
    ax = plotting.plot_densities_1d(
        grid, {"a": np.exp(-(grid**2)), "b": np.ones(50)}, title="t"
    )
    assert len(ax.lines) == 2 and ax.get_title() == "t"
    assert dict(mpl.rcParams) == before


def test_plot_densities_1d_uses_given_axes_and_checks_shapes():
    _, ax = plt.subplots()
    assert plotting.plot_densities_1d([0, 1], {"a": [1, 2]}, ax=ax) is ax
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_densities_1d([0, 1], {"a": [1, 2, 3]}, ax=ax)
