"""Figures of the book: one ``plot_*`` function per figure.

Conventions (house style): every function takes ``ax=None`` (or ``axes=None`` for a
multi-panel figure), draws only on the axes it is given or creates, returns them, and
changes no global style. :func:`use_style` is the one exception: the first cell of
every chapter calls it once so that all pages look alike.

Importing this module imports matplotlib; ``import lvmkit`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["new_axes", "plot_densities_1d", "use_style"]

_STYLE = {
    "figure.figsize": (6.0, 3.6),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "axes.labelsize": "medium",
    "legend.frameon": False,
    "image.cmap": "gray",
    "font.size": 10,
}


def use_style() -> None:
    """Set the book's plotting style (seaborn ``ticks`` theme, compact PNG figures).

    Called once in the first cell of each chapter. Inline figures are PNG, which nbval
    does not compare byte for byte.
    """
    import seaborn as sns

    sns.set_theme(style="ticks", context="notebook", palette="colorblind")
    mpl.rcParams.update(_STYLE)
    try:  # only inside IPython: make sure inline figures are PNG
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    except ImportError:  # pragma: no cover - IPython is always there in a notebook
        pass


def new_axes(ax: plt.Axes | None = None, **subplots_kw) -> plt.Axes:
    """Return ``ax`` if given, else the axes of a new figure."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(**subplots_kw)
    return ax


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def plot_densities_1d(
    grid, densities: dict[str, Sequence[float]], *, ax: plt.Axes | None = None,
    styles: dict[str, dict] | None = None, xlabel: str = "x", title: str | None = None,
) -> plt.Axes:
    """Plot several 1-D densities on a shared grid.

    Args:
        grid: Points, shape ``(G,)``.
        densities: Label -> density values on ``grid``, each of shape ``(G,)``.
        ax: Axes to draw on; a new figure if ``None``.
        styles: Optional label -> keyword arguments for ``ax.plot``.
        xlabel: Label of the x axis.
        title: Optional title.

    Returns:
        The axes drawn on.
    """
    ax = new_axes(ax)
    styles = styles or {}
    grid = _np(grid)
    for label, dens in densities.items():
        dens = _np(dens)
        if dens.shape != grid.shape:
            raise ValueError(f"density {label!r} has shape {dens.shape}, expected {grid.shape}")
        ax.plot(grid, dens, label=label, **styles.get(label, {}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# --- Part 1: tree world, W / M / Q (functions added below this line) ---


# --- Part 2: sparse coding, Bayes' loop, intuitions 3-5 (functions added below this line) ---


# --- Part 3: mutual information, VAEs, salt-and-pepper posteriors (functions added below this line) ---
