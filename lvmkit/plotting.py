"""The book's plotting style and reusable plot primitives.

The figures of one chapter live in :mod:`lvmkit.book.figures`; this module holds
what any of them (or a reader's own figure) reuses: image tiles and grids, 1-D
densities, marginals, rank histograms, trajectories, the rate-distortion plane.

Conventions (house style): every function takes ``ax=None`` (or ``axes=None`` for a
multi-panel figure), draws only on the axes it is given or creates, returns them, and
changes no global style. :func:`use_style` is the one exception: the first cell of
every chapter calls it once so that all pages look alike.

Importing this module imports matplotlib; ``import lvmkit`` does not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = [
    "as_array",
    "new_axes",
    "plot_densities_1d",
    "plot_image_grids",
    "plot_marginals",
    "plot_rank_histograms",
    "plot_rate_distortion",
    "plot_tiles",
    "plot_trajectories",
    "tile_images",
    "use_style",
]

_STYLE = {
    "figure.figsize": (6.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
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
        if not isinstance(ax, plt.Axes):
            raise TypeError(
                f"ax must be a matplotlib Axes or None, got {type(ax).__name__}"
            )
        return ax
    _, ax = plt.subplots(**subplots_kw)
    return ax


def as_array(x, name: str = "data") -> np.ndarray:
    """Plotted data as an array: numbers, not empty, finite (NaN/Inf would draw nothing)."""
    try:
        a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    except (TypeError, ValueError) as err:  # ragged sequences
        raise TypeError(
            f"{name} must be an array of numbers, got {type(x).__name__}"
        ) from err
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers, got dtype {a.dtype}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(
            f"{name} must be finite (no NaN or Inf), got "
            f"{int((~np.isfinite(a)).sum())} non-finite of {a.size}"
        )
    return a


def plot_densities_1d(
    grid,
    densities: dict[str, Sequence[float]],
    *,
    ax: plt.Axes | None = None,
    styles: dict[str, dict] | None = None,
    xlabel: str = "x",
    title: str | None = None,
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
    grid = as_array(grid, "grid")
    for label, dens in densities.items():
        dens = as_array(dens, "densities")
        if dens.shape != grid.shape:
            raise ValueError(
                f"densities[{label!r}] must have the grid's shape {grid.shape}, got "
                f"{dens.shape}"
            )
        ax.plot(grid, dens, label=label, **styles.get(label, {}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# --- Part 2: sparse coding, Bayes' loop, intuitions 3-5 (functions below) ---


def plot_tiles(
    columns, *, n_cols: int | None = None, ax=None, title: str | None = None
):
    """Show the columns of ``columns (P, K)`` (square patches or atoms) as a tiled image,
    each tile scaled to its own maximum absolute value (grey = 0)."""
    c = as_array(columns, "columns")
    P, K = c.shape
    side = round(np.sqrt(P))
    n_cols = n_cols or int(np.ceil(np.sqrt(K)))
    n_rows = int(np.ceil(K / n_cols))
    canvas = np.full((n_rows * (side + 1) + 1, n_cols * (side + 1) + 1), np.nan)
    for k in range(K):
        r, q = divmod(k, n_cols)
        tile = c[:, k].reshape(side, side)
        canvas[
            1 + r * (side + 1) : 1 + r * (side + 1) + side,
            1 + q * (side + 1) : 1 + q * (side + 1) + side,
        ] = tile / (np.abs(tile).max() + 1e-12)
    ax = new_axes(ax, figsize=(0.45 * n_cols + 0.5, 0.45 * n_rows + 0.5))
    cmap = mpl.colormaps["gray"].with_extremes(bad="white")
    ax.imshow(canvas, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_rank_histograms(results: dict, *, axes=None, latent: int | None = None):
    """SBC rank histograms (all latents pooled, or one ``latent``), one panel per result.

    Args:
        results: Label -> :class:`lvmkit.diagnostics.SBCResult` (at least one).
    """
    if not results:
        raise ValueError("results must hold at least one SBCResult, got an empty dict")
    if axes is None:
        _, axes = plt.subplots(
            1, len(results), figsize=(2.4 * len(results), 2.6), sharey=True
        )
    for ax, (label, res) in zip(np.atleast_1d(axes), results.items(), strict=True):
        ranks = res.ranks.ravel() if latent is None else res.ranks[:, latent]
        bins = np.arange(res.n_post + 2) - 0.5
        ax.hist(
            ranks, bins=bins, density=True, color="C0" if res.p_value >= 0.01 else "C3"
        )
        ax.axhline(1 / (res.n_post + 1), color="k", ls="--", lw=1)
        ax.set_title(f"{label}\np = {res.p_value:.2g}")
        ax.set_xlabel("rank")
    np.atleast_1d(axes)[0].set_ylabel("frequency")
    return axes


def plot_marginals(
    samples: dict[str, Sequence[float]],
    *,
    ax=None,
    bins: int = 80,
    lim: float = 4.0,
    densities: dict | None = None,
    title: str | None = None,
):
    """Histograms (log scale) of pooled latent samples, with optional density curves.

    Args:
        samples: Label -> samples.
        densities: Label -> ``(grid, density)`` drawn as lines.
    """
    ax = new_axes(ax)
    edges = np.linspace(-lim, lim, bins + 1)
    for label, s in samples.items():
        ax.hist(
            as_array(s, "samples").ravel(),
            bins=edges,
            density=True,
            histtype="step",
            lw=1.5,
            label=label,
        )
    for label, (g, dens) in (densities or {}).items():
        ax.plot(
            as_array(g, "densities"),
            as_array(dens, "densities"),
            "--",
            lw=1.2,
            label=label,
        )
    ax.set_yscale("log")
    ax.set_xlabel("latent value")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_trajectories(
    steps,
    series: dict[str, Sequence[float]],
    *,
    ax=None,
    xlabel: str = "iteration",
    ylabel: str = "",
    logy: bool = False,
):
    """Line plot of several named sequences against ``steps``."""
    ax = new_axes(ax)
    for label, v in series.items():
        ax.plot(
            as_array(steps, "steps"), as_array(v, "series"), "o-", ms=3, label=label
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax


# --- Part 3: mutual information, VAEs, salt-and-pepper posteriors (functions below) ---


def tile_images(images, shape: tuple[int, int], ncols: int) -> np.ndarray:
    images = as_array(images, "images").reshape(-1, *shape)
    n, (h, w) = len(images), shape
    nrows = -(-n // ncols)
    canvas = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), 0.2)
    for i, im in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = im
    return canvas


def plot_image_grids(
    grids: dict[str, Sequence],
    shape: tuple[int, int],
    *,
    ncols: int = 8,
    axes=None,
    panel_width: float = 3.0,
) -> np.ndarray:
    """One panel per entry: flattened images ``(n, H*W)`` tiled ``ncols`` to a row.

    Args:
        grids: Panel title -> images of shape ``(n, H * W)`` with values in [0, 1].
        shape: ``(H, W)``.
        ncols: Images per row.
        axes: ``len(grids)`` axes; a new row of panels if ``None``.
        panel_width: Width of each new panel in inches (when ``axes`` is ``None``).

    Returns:
        The array of axes.
    """
    if axes is None:
        _, axes = plt.subplots(
            1, len(grids), figsize=(panel_width * len(grids), 3.2), squeeze=False
        )
    axes = np.ravel(axes)
    if len(axes) != len(grids):
        raise ValueError(f"need {len(grids)} axes, got {len(axes)}")
    for ax, (title, images) in zip(axes, grids.items(), strict=True):
        ax.imshow(
            tile_images(images, shape, ncols),
            cmap="gray_r",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_title(title)
        ax.set_axis_off()
    return axes


def plot_rate_distortion(
    points: dict[str, tuple[float, float]],
    *,
    ax=None,
    elbo_levels: Sequence[float] = (),
) -> plt.Axes:
    """Models on the rate-distortion plane with lines of constant ELBO ``-(D + R)``.

    Args:
        points: Label -> ``(rate, distortion)`` in nats.
        ax: Axes; a new figure if ``None``.
        elbo_levels: ELBO values for the dotted diagonals ``D = -ELBO - R``.
    """
    ax = new_axes(ax)
    rates = as_array([r for r, _ in points.values()], "points")
    dists = as_array([d for _, d in points.values()], "points")
    r_max = max(rates.max() * 1.15, 1.0)
    grid = np.linspace(0, r_max, 2)
    for k, e in enumerate(elbo_levels):
        levels = ", ".join(f"{v:g}" for v in elbo_levels)
        ax.plot(
            grid,
            -e - grid,
            color="0.6",
            lw=0.8,
            ls=":",
            label=f"constant ELBO: {levels} nats" if k == 0 else None,
        )
    # labels of points with nearly equal rate are spread vertically (one text height
    # apart, with a leader line) so they do not overlap; a white box keeps the dotted
    # lines from running through them
    gap = 0.075 * (dists.max() - dists.min() + 1.0)
    label_y = dists.copy()
    order = np.argsort(dists)
    for a, b in itertools.pairwise(order):
        if abs(rates[a] - rates[b]) < 0.25 * r_max and label_y[b] - label_y[a] < gap:
            label_y[b] = label_y[a] + gap
    for i, (label, (r, d)) in enumerate(points.items()):
        ax.scatter([r], [d], color=f"C{i % 10}", s=30, zorder=3)
        moved = abs(label_y[i] - d) > 1e-9
        ax.annotate(
            label,
            (r, d),
            xytext=(r + 0.05 * r_max, label_y[i]),
            fontsize="x-small",
            color=f"C{i % 10}",
            va="center",
            zorder=4,
            bbox={
                "boxstyle": "round,pad=0.15",
                "fc": "white",
                "ec": "none",
                "alpha": 0.85,
            },
            arrowprops={
                "arrowstyle": "-",
                "color": "0.5",
                "lw": 0.6,
                "shrinkA": 0,
                "shrinkB": 3,
            }
            if moved
            else None,
        )
    if elbo_levels:
        ax.legend(loc="lower left", fontsize="x-small")
    ax.set(
        xlabel="rate R (nats)",
        ylabel="distortion D (nats)",
        xlim=(-0.05 * r_max, r_max),
    )
    return ax
