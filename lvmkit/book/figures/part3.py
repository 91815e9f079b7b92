"""One ``plot_*`` function per figure of Part 3: VAEs (collapse, salt and pepper,
mutual information, training).

Book-only: each function draws one figure of one chapter. They follow the house
conventions of :mod:`lvmkit.plotting` (``ax=None`` / ``axes=None``, return the axes,
no global style) and build on its primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from lvmkit.plotting import as_array, tile_images

__all__ = [
    "plot_interpolations",
    "plot_posterior_families",
    "plot_salt_and_pepper",
    "plot_shapes",
]


def plot_interpolations(
    rows: dict[str, Sequence], shape: tuple[int, int], *, axes=None
) -> np.ndarray:
    """Image strips, one per row: decoded images along a path in latent space.

    Args:
        rows: Row title -> images of shape ``(T, H * W)`` in [0, 1].
        shape: ``(H, W)``.
        axes: ``len(rows)`` axes stacked vertically; new ones if ``None``.
    """
    n = {len(as_array(v, "rows")) for v in rows.values()}
    if len(n) != 1:
        raise ValueError(f"rows must all have the same number of images, got {n}")
    n = n.pop()
    if axes is None:
        _, axes = plt.subplots(
            len(rows), 1, figsize=(0.55 * n + 0.5, 1.0 * len(rows) + 0.3), squeeze=False
        )
    axes = np.ravel(axes)
    for ax, (title, images) in zip(axes, rows.items(), strict=True):
        ax.imshow(
            tile_images(images, shape, n),
            cmap="gray_r",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_title(title, fontsize="small", loc="left")
        ax.set_axis_off()
    return axes


def plot_posterior_families(
    grid, prior, families: dict[str, tuple], *, axes=None, xlabel: str = "z"
) -> np.ndarray:
    """Posteriors ``q(z | y)`` of several ``y``, their measured average, and the prior.

    Args:
        grid: Points, shape ``(G,)``.
        prior: Prior density on ``grid``, shape ``(G,)``.
        families: Panel title -> ``(posteriors (K, G), average (G,))``.
        axes: ``len(families)`` axes; new panels if ``None``.

    Returns:
        The array of axes.
    """
    if axes is None:
        _, axes = plt.subplots(
            1,
            len(families),
            figsize=(4.0 * len(families), 3.2),
            sharey=True,
            squeeze=False,
        )
    axes = np.ravel(axes)
    grid, prior = as_array(grid, "grid"), as_array(prior, "prior")
    for ax, (title, (posts, avg)) in zip(axes, families.items(), strict=True):
        posts = as_array(posts, "families")
        scale = min(1.0, 1.6 * prior.max() / posts.max())  # very narrow ones are shrunk
        for k, p in enumerate(posts):
            label = "posteriors" + (f" (x{scale:.2g})" if scale < 1 else "")
            ax.plot(
                grid,
                p * scale,
                color="C0",
                lw=0.8,
                alpha=0.6,
                label=label if k == 0 else None,
            )
        ax.plot(grid, prior, color="k", lw=2.5, label="prior p(z)")
        ax.plot(
            grid,
            as_array(avg, "families"),
            color="C1",
            lw=1.5,
            ls="--",
            label="average posterior",
        )
        ax.set(title=title, xlabel=xlabel, ylim=(0, 2.5 * prior.max()))
        ax.legend(loc="upper left", fontsize="x-small")
    axes[0].set_ylabel("density")
    return axes


def plot_salt_and_pepper(
    codes: dict[str, Sequence],
    labels,
    *,
    axes=None,
    lim: float = 3.0,
    cbar_label: str = "held-out label",
) -> np.ndarray:
    """2-D codes coloured by a held-out label, one panel per representation.

    Args:
        codes: Panel title -> codes of shape ``(n, 2)``.
        labels: Integer labels, shape ``(n,)`` (used for colour only).
        axes: ``len(codes)`` axes; new panels if ``None``.
        lim: Axis limits ``[-lim, lim]``.
        cbar_label: Label of the colour bar.
    """
    if axes is None:
        _, axes = plt.subplots(
            1, len(codes), figsize=(3.6 * len(codes), 3.6), squeeze=False
        )
    axes = np.ravel(axes)
    labels = as_array(labels, "labels")
    for ax, (title, z) in zip(axes, codes.items(), strict=True):
        z = as_array(z, "codes")
        if z.ndim != 2 or z.shape[1] != 2:
            raise ValueError(f"codes {title!r} must have shape (n, 2), got {z.shape}")
        sc = ax.scatter(
            z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5
        )
        ax.set(
            xlim=(-lim, lim),
            ylim=(-lim, lim),
            title=title,
            xlabel="$z_1$",
            ylabel="$z_2$",
        )
        ax.set_aspect("equal")
    n_colours = int(labels.max()) + 1
    plt.colorbar(sc, ax=axes[-1], ticks=range(n_colours), label=cbar_label)
    return axes


def plot_shapes(
    images, factors, shape: tuple[int, int], *, n: int = 16, ncols: int = 8, ax=None
) -> plt.Axes:
    """A grid of data images, each titled with the factors that generated it.

    Args:
        images: Flattened binary images, shape ``(N, H * W)``; the first ``n`` are shown.
        factors: Shape ``(N, 4)``: category (0 = square, 1 = plus), x, y, scale.
        shape: ``(H, W)``.
        n: Number of images shown.
        ncols: Images per row.
        ax: Axes; a new figure if ``None``.

    Returns:
        The array of image axes, one per image shown.
    """
    images, factors = as_array(images, "images"), as_array(factors, "factors")
    if factors.ndim != 2 or factors.shape[1] != 4 or len(factors) != len(images):
        raise ValueError(
            f"factors must have shape ({len(images)}, 4), got {factors.shape}"
        )
    n = min(n, len(images))
    nrows = -(-n // ncols)
    if ax is None:
        fig = plt.figure(figsize=(0.95 * ncols, 1.15 * nrows + 0.1))
    else:
        fig = ax.figure
        ax.set_axis_off()
    grid = (
        ax.get_subplotspec().subgridspec(nrows, ncols)
        if ax is not None
        else fig.add_gridspec(nrows, ncols)
    )
    axes = []
    for i in range(n):
        sub = fig.add_subplot(grid[divmod(i, ncols)])
        c, _x, _y, s = factors[i]
        sub.imshow(
            images[i].reshape(shape),
            cmap="gray_r",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        sub.set_title(
            f"{'plus' if c > 0.5 else 'square'}\ns = {s:.1f}", fontsize="x-small", pad=2
        )
        sub.set_axis_off()
        axes.append(sub)
    return np.array(axes)
