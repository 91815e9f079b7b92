"""One ``plot_*`` function per figure of Part 1: the tree world, the world W, the
model M and its posterior Q.

Book-only: each function draws one figure of one chapter. They follow the house
conventions of :mod:`lvmkit.plotting` (``ax=None`` / ``axes=None``, return the axes,
no global style) and build on its primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from lvmkit.plotting import as_array, new_axes

__all__ = [
    "plot_learning_curves",
    "plot_prior_vs_average_posterior",
    "plot_reflection",
    "plot_tree_rows",
]


_PARTS_CMAP = mpl.colors.ListedColormap(["#f7f7f2", "#8c5a2b", "#3a9a5b"])


def _show_map(ax: plt.Axes, m, shape: tuple[int, int] = (16, 16)) -> None:
    ax.imshow(
        as_array(m, "maps").reshape(shape),
        cmap=_PARTS_CMAP,
        vmin=0,
        vmax=2,
        interpolation="nearest",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def _show_binary(ax: plt.Axes, x, shape: tuple[int, int] = (16, 16)) -> None:
    ax.imshow(
        as_array(x, "images").reshape(shape),
        cmap="gray_r",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(True)
    ax.spines[:].set_color("0.8")


def plot_tree_rows(
    rows: dict[str, Sequence],
    *,
    kind: str = "map",
    axes=None,
    shape: tuple[int, int] = (16, 16),
    notes: dict[str, str] | None = None,
):
    """Rows of trees, one row per model: part maps in colour or binary images.

    Args:
        rows: Row label -> array of shape ``(n, H*W)``; every row shows the same ``n``.
        kind: ``"map"`` (sky / wood / leaf colours) or ``"image"`` (binary pixels).
        axes: Array of axes of shape ``(len(rows), n)``; a new figure if ``None``.
        shape: Image shape ``(H, W)``.
        notes: Optional row label -> text written under the row's label.

    Returns:
        The array of axes.
    """
    if kind not in ("map", "image"):
        raise ValueError(f"kind must be 'map' or 'image', got {kind!r}")
    arrays = {k: as_array(v, "rows") for k, v in rows.items()}
    n = {len(v) for v in arrays.values()}
    if len(n) != 1:
        raise ValueError(f"rows must all hold the same number of trees, got {n}")
    n = n.pop()
    if axes is None:
        size = (1.0 * n + 1.2, 1.15 * len(rows))
        _, axes = plt.subplots(len(rows), n, figsize=size, squeeze=False)
    axes = np.asarray(axes).reshape(len(rows), n)
    show = _show_map if kind == "map" else _show_binary
    for r, (label, arr) in enumerate(arrays.items()):
        for i in range(n):
            show(axes[r, i], arr[i], shape)
        axes[r, 0].set_ylabel(
            label + (f"\n{notes[label]}" if notes and label in notes else ""),
            rotation=0,
            ha="right",
            va="center",
            fontsize="small",
        )
    return axes


def plot_reflection(
    world: dict[str, np.ndarray],
    model: dict[str, np.ndarray],
    *,
    axes=None,
    world_kind: str | Sequence[str] = "map",
    model_kind: str | Sequence[str] = "map",
    title: str | None = None,
    shape: tuple[int, int] = (16, 16),
):
    """The reflection metaphor built from real objects: W's layers above, M's below, mirrored.

    The top row shows the world's variables from the top of its hierarchy down to the
    image; the bottom row, flipped upside down like a reflection in water, shows what
    the model holds. ``model_kind="features"`` draws signed feature images (red +, blue -).

    Args:
        world: Panel title -> map or image of shape ``(H*W,)``, top row, left to right.
        model: Panel title -> panel of shape ``(H*W,)``, bottom row (at most as many).
        axes: Array of axes of shape ``(2, len(world))``; a new figure if ``None``.
        world_kind, model_kind: ``"map"``, ``"image"`` or ``"features"``, for every panel
            of the row or one per panel.
        title: Optional figure title.

    Returns:
        The array of axes.
    """
    ncols = max(len(world), len(model))
    if axes is None:
        _, axes = plt.subplots(
            2, ncols, figsize=(1.35 * ncols + 0.4, 3.3), squeeze=False
        )
    axes = np.asarray(axes).reshape(2, ncols)

    def draw(ax, panel, kind, flip):
        img = as_array(panel, "world/model panel").reshape(shape)
        img = img[::-1] if flip else img
        if kind == "features":
            v = np.abs(img).max() or 1.0
            ax.imshow(img, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        elif kind == "map":
            _show_map(ax, img, shape)
        else:
            _show_binary(ax, img, shape)

    for row, panels, kinds in ((0, world, world_kind), (1, model, model_kind)):
        kinds = [kinds] * len(panels) if isinstance(kinds, str) else list(kinds)
        if len(kinds) != len(panels) or not set(kinds) <= {"map", "image", "features"}:
            raise ValueError(
                f"kinds must be 'map', 'image' or 'features', one per panel: {kinds}"
            )
        for i in range(ncols):
            ax = axes[row, i]
            if i >= len(panels):
                ax.axis("off")
                continue
            name, panel = list(panels.items())[i]
            draw(ax, panel, kinds[i], flip=row == 1)
            if row == 0:
                ax.set_title(name, fontsize="small")
            else:
                ax.set_xlabel(name, fontsize="small")
                for spine in ax.spines.values():
                    spine.set_edgecolor("#4a7fb5")
    axes[0, 0].figure.patch.set_facecolor("white")
    label = {"xycoords": "axes fraction", "fontsize": "large", "weight": "bold"}
    axes[0, 0].annotate("W", (-0.35, 0.5), **label)
    axes[1, 0].annotate("M", (-0.35, 0.5), color="#4a7fb5", **label)
    if title:
        axes[0, 0].figure.suptitle(title)
    return axes


def plot_learning_curves(
    sizes,
    curves: dict[str, np.ndarray],
    *,
    truth: float | None = None,
    ax: plt.Axes | None = None,
    ylim: tuple[float, float] | None = None,
    ylabel: str = "held-out log-likelihood (nats per tree)",
) -> plt.Axes:
    """Held-out log-likelihood against training-set size, one line per model.

    Args:
        sizes: Training-set sizes, shape ``(S,)`` (log-scaled axis).
        curves: Label -> values of shape ``(S,)`` or ``(S, R)`` (R replicates: mean line,
            min-max band).
        truth: The true model's value, drawn as a dashed line.
        ax: Axes; a new figure if ``None``.
        ylim: Optional y limits.

    Returns:
        The axes drawn on.
    """
    ax = new_axes(ax)
    sizes = as_array(sizes, "sizes")
    for label, vals in curves.items():
        vals = as_array(vals, "curves").reshape(len(sizes), -1)
        (line,) = ax.plot(sizes, vals.mean(1), marker="o", label=label)
        if vals.shape[1] > 1:
            ax.fill_between(
                sizes, vals.min(1), vals.max(1), color=line.get_color(), alpha=0.25
            )
    if truth is not None:
        ax.axhline(truth, color="k", ls="--", lw=1, label="true world")
    ax.set_xscale("log")
    ax.set_xlabel("training trees")
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize="small")
    return ax


def plot_prior_vs_average_posterior(
    prior,
    averages: dict[str, np.ndarray],
    *,
    ax: plt.Axes | None = None,
    floor: float = 1e-6,
) -> plt.Axes:
    """Scatter of the average posterior of each latent state against its prior probability.

    Points on the diagonal mean ``q(z) = r(z)``: Bayes' loop closes.

    Args:
        prior: ``r(z)`` over the latent states, shape ``(S,)``.
        averages: Label -> average posterior ``q(z)``, shape ``(S,)``.
        ax: Axes; a new figure if ``None``.
        floor: Values below ``floor`` are drawn at ``floor`` (log axes).

    Returns:
        The axes drawn on.
    """
    ax = new_axes(ax)
    prior = np.maximum(as_array(prior, "prior"), floor)
    for label, avg in averages.items():
        ax.scatter(
            prior,
            np.maximum(as_array(avg, "averages"), floor),
            s=6,
            alpha=0.6,
            label=label,
        )
    top = max(
        prior.max(), *(np.max(as_array(a, "averages")) for a in averages.values())
    )
    lo, hi = prior.min() / 2, top * 2
    ax.plot([lo, hi], [lo, hi], color="k", lw=1, ls="--", label="q(z) = r(z)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("prior r(z) of a latent state")
    ax.set_ylabel("average posterior q(z)")
    ax.legend(fontsize="small", markerscale=2)
    return ax
