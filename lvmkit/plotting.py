"""Figures of the book: one ``plot_*`` function per figure.

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
    "new_axes",
    "plot_complexity_sweep",
    "plot_densities_1d",
    "plot_gabor_r2",
    "plot_generate_vs_infer",
    "plot_likelihood_vs_kl",
    "plot_marginals",
    "plot_posterior_tiling",
    "plot_puzzle",
    "plot_rank_histograms",
    "plot_response_kurtosis",
    "plot_sparse_priors_2d",
    "plot_tiles",
    "plot_trajectories",
    "use_style",
]
__all__ += ["plot_learning_curves", "plot_prior_vs_average_posterior", "plot_reflection",
            "plot_tree_rows"]
__all__ += ["plot_image_grids", "plot_interpolations", "plot_posterior_families",
            "plot_rate_distortion", "plot_salt_and_pepper", "plot_shapes"]  # part 3
__all__ += ["plot_benchmark_ratios"]  # performance page

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
            raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
        return ax
    _, ax = plt.subplots(**subplots_kw)
    return ax


def _np(x, name: str = "data") -> np.ndarray:
    """Plotted data as an array: numbers, not empty, finite (NaN/Inf would draw nothing)."""
    try:
        a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    except (TypeError, ValueError) as err:  # ragged sequences
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from err
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers, got dtype {a.dtype}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or Inf), got "
                         f"{int((~np.isfinite(a)).sum())} non-finite of {a.size}")
    return a


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
    grid = _np(grid, "grid")
    for label, dens in densities.items():
        dens = _np(dens, "densities")
        if dens.shape != grid.shape:
            raise ValueError(f"densities[{label!r}] must have the grid's shape {grid.shape}, got "
                             f"{dens.shape}")
        ax.plot(grid, dens, label=label, **styles.get(label, {}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# --- Part 1: tree world, W / M / Q (functions added below this line) ---

_PARTS_CMAP = mpl.colors.ListedColormap(["#f7f7f2", "#8c5a2b", "#3a9a5b"])


def _show_map(ax: plt.Axes, m, shape: tuple[int, int] = (16, 16)) -> None:
    ax.imshow(_np(m, "maps").reshape(shape), cmap=_PARTS_CMAP, vmin=0, vmax=2,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(False)


def _show_binary(ax: plt.Axes, x, shape: tuple[int, int] = (16, 16)) -> None:
    ax.imshow(_np(x, "images").reshape(shape), cmap="gray_r", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[:].set_visible(True)
    ax.spines[:].set_color("0.8")


def plot_tree_rows(rows: dict[str, Sequence], *, kind: str = "map", axes=None,
                   shape: tuple[int, int] = (16, 16), notes: dict[str, str] | None = None):
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
    arrays = {k: _np(v, "rows") for k, v in rows.items()}
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
        axes[r, 0].set_ylabel(label + (f"\n{notes[label]}" if notes and label in notes else ""),
                              rotation=0, ha="right", va="center", fontsize="small")
    return axes


def plot_reflection(world: dict[str, np.ndarray], model: dict[str, np.ndarray], *, axes=None,
                    world_kind: str | Sequence[str] = "map",
                    model_kind: str | Sequence[str] = "map",
                    title: str | None = None,
                    shape: tuple[int, int] = (16, 16)):
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
        _, axes = plt.subplots(2, ncols, figsize=(1.35 * ncols + 0.4, 3.3), squeeze=False)
    axes = np.asarray(axes).reshape(2, ncols)

    def draw(ax, panel, kind, flip):
        img = _np(panel, "world/model panel").reshape(shape)
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
            raise ValueError(f"kinds must be 'map', 'image' or 'features', one per panel: {kinds}")
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


def plot_learning_curves(sizes, curves: dict[str, np.ndarray], *, truth: float | None = None,
                         ax: plt.Axes | None = None, ylim: tuple[float, float] | None = None,
                         ylabel: str = "held-out log-likelihood (nats per tree)") -> plt.Axes:
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
    sizes = _np(sizes, "sizes")
    for label, vals in curves.items():
        vals = _np(vals, "curves").reshape(len(sizes), -1)
        line, = ax.plot(sizes, vals.mean(1), marker="o", label=label)
        if vals.shape[1] > 1:
            ax.fill_between(sizes, vals.min(1), vals.max(1), color=line.get_color(), alpha=0.25)
    if truth is not None:
        ax.axhline(truth, color="k", ls="--", lw=1, label="true world")
    ax.set_xscale("log")
    ax.set_xlabel("training trees")
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize="small")
    return ax


def plot_prior_vs_average_posterior(prior, averages: dict[str, np.ndarray], *,
                                    ax: plt.Axes | None = None, floor: float = 1e-6) -> plt.Axes:
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
    prior = np.maximum(_np(prior, "prior"), floor)
    for label, avg in averages.items():
        ax.scatter(prior, np.maximum(_np(avg, "averages"), floor), s=6, alpha=0.6, label=label)
    top = max(prior.max(), *(np.max(_np(a, "averages")) for a in averages.values()))
    lo, hi = prior.min() / 2, top * 2
    ax.plot([lo, hi], [lo, hi], color="k", lw=1, ls="--", label="q(z) = r(z)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("prior r(z) of a latent state")
    ax.set_ylabel("average posterior q(z)")
    ax.legend(fontsize="small", markerscale=2)
    return ax



# --- Part 2: sparse coding, Bayes' loop, intuitions 3-5 (functions below) ---


def plot_likelihood_vs_kl(panels: dict[str, dict], *, axes=None):
    """Negative mean log-likelihood and KL(p_data || r) against a model parameter.

    Each panel shows the negative mean log-likelihood of a data set, the Monte Carlo KL
    estimate with 2-standard-error bars, optionally the exact KL, and the KL shifted up
    by the data entropy H, which should lie on the likelihood curve.

    Args:
        panels: Title -> dict with keys ``param`` (G,), ``nll`` (G,), ``kl`` (G,),
            ``kl_se`` (G,), ``entropy`` (float), optional ``kl_exact`` (G,), ``kl_floor``
            (float, the smallest KL the family can reach) and ``xlabel``.
        axes: Sequence of ``len(panels)`` axes; a new row of panels if ``None``.
    """
    if axes is None:
        _, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
        axes = axes[0]
    for ax, (title, p) in zip(axes, panels.items(), strict=True):
        x, kl = _np(p["param"], "panels[...][param]"), _np(p["kl"], "panels[...][kl]")
        se, h = _np(p["kl_se"], "panels[...][kl_se]"), float(p["entropy"])
        ax.plot(x, _np(p["nll"], "panels[...][nll]"), "o-", ms=4, lw=2.5, alpha=0.6, color="C0",
                label="$-\\frac{1}{D}\\sum \\log r(I_i)$")
        ax.errorbar(x, kl, 2 * se, fmt="s", ms=3, color="C1", label="KL, Monte Carlo")
        if p.get("kl_exact") is not None:
            ax.plot(x, _np(p["kl_exact"], "panels[...][kl_exact]"), "--", color="C1", lw=1,
                    label="KL, exact")
        ax.plot(x, kl + h, ":", color="k", lw=1.2, label="KL + H(p_data)")
        if p.get("kl_floor") is not None:
            ax.axhline(float(p["kl_floor"]), color="tab:red", ls="--", lw=1,
                       label="best KL in family")
        i = int(np.argmin(_np(p["nll"], "panels[...][nll]")))
        ax.annotate("", (x[i], kl[i] + h), (x[i], kl[i]),
                    arrowprops={"arrowstyle": "<->", "color": "0.4"})
        ax.text(x[i], kl[i] + h / 2, f"  H = {h:.3g}", color="0.3", va="center")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xlabel(p.get("xlabel", "parameter"))
        ax.set_ylabel("nats")
        ax.set_title(title)
    for ax in axes:
        ax.legend(fontsize="small")
    return axes


def plot_response_kurtosis(kurtosis: dict[str, Sequence[float]], *, ax=None,
                           reference: float = 0.0, title: str | None = None):
    """Per-filter excess kurtosis of responses, one row of jittered dots per source.

    Args:
        kurtosis: Label -> excess kurtosis of each filter's responses, shape ``(F,)``.
        reference: Value marked by a vertical line (0: a Gaussian).
    """
    ax = new_axes(ax)
    rng = np.random.default_rng(0)
    labels = list(kurtosis)
    for row, label in enumerate(labels):
        k = _np(kurtosis[label], "kurtosis").ravel()
        ax.plot(k, row + 0.15 * rng.standard_normal(k.size), "o", ms=2.5, alpha=0.5,
                color=f"C{row}")
        ax.plot([k.mean()], [row], "k|", ms=22, mew=2)
    ax.axvline(reference, color="0.5", ls="--", lw=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel("excess kurtosis of filter responses (bar: mean)")
    if title:
        ax.set_title(title)
    return ax


def plot_posterior_tiling(
    grid, prior, posteriors, *, axes=None,
    titles: Sequence[str] = ("prior r(x)", "posteriors q(x | I)"), levels: int = 3,
):
    """Intuitions 4 and 5: a prior as an image beside a set of posteriors drawn as contours.

    Args:
        grid: A :class:`lvmkit.grid_posteriors.Grid2D`.
        prior: Cell masses of the prior, shape ``(n, n)``.
        posteriors: Cell masses, shape ``(M, n, n)``; each gets its own colour.
        axes: Two axes; a new 1 x 2 figure if ``None``.
        titles: Panel titles.
        levels: Contour levels per posterior (fractions of its maximum).

    Returns:
        The two axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7.0, 3.5), sharex=True, sharey=True)
    ext = grid.extent
    axes[0].imshow(_np(prior, "prior"), origin="lower", extent=ext, cmap="Greys")
    axes[1].imshow(_np(prior, "prior"), origin="lower", extent=ext, cmap="Greys", alpha=0.35)
    colours = plt.cm.tab10(np.arange(len(posteriors)) % 10)
    for post, col in zip(_np(posteriors, "posteriors"), colours, strict=True):
        lv = post.max() * np.array([0.1, 0.4, 0.8][:levels])
        axes[1].contour(grid.x1, grid.x2, post, levels=lv, colors=[col], linewidths=1.0)
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title)
        ax.set_xlabel("$x_1$")
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_2$")
    return axes


def plot_complexity_sweep(noise_stds, posterior_kl, prior_kl: float, *, ax=None,
                          xlabel: str = "likelihood noise $\\sigma$") -> plt.Axes:
    """Posterior non-Gaussianity (KL to its Gaussian fit) against the likelihood's width.

    Args:
        noise_stds: Shape ``(K,)``.
        posterior_kl: Mean KL(posterior || Gaussian fit), shape ``(K,)`` or ``(K, 3)``
            (mean, lower, upper quantile).
        prior_kl: The same statistic for the prior (drawn as a horizontal line).
    """
    ax = new_axes(ax)
    s, k = _np(noise_stds, "noise_stds"), _np(posterior_kl, "posterior_kl")
    mean = k if k.ndim == 1 else k[:, 0]
    ax.plot(s, mean, "o-", label="posteriors (mean over data)")
    if k.ndim == 2:
        ax.fill_between(s, k[:, 1], k[:, 2], alpha=0.25, label="10-90 % of data")
    ax.axhline(prior_kl, color="k", ls="--", label="prior")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("KL to best Gaussian (nats)")
    ax.legend()
    return ax


def plot_puzzle(grid, posteriors, average, prior, *, axes=None):
    """Intuition 5: multimodal posteriors (left), their average (middle), the prior (right).

    The middle and right panels show log masses over a 10-nat range.

    Args:
        grid: The :class:`~lvmkit.grid_posteriors.Grid2D`.
        posteriors: Cell masses of a few posteriors, ``(M, n, n)``.
        average: Average posterior over many model images, ``(n, n)``.
        prior: Prior cell masses, ``(n, n)``.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(9.0, 3.3), sharex=True, sharey=True)
    ext = grid.extent
    total = _np(posteriors, "posteriors").sum(0)
    axes[0].imshow(np.sqrt(total / total.max()), origin="lower", extent=ext, cmap="Greys",
                   alpha=0.4)
    colours = plt.cm.tab10(np.arange(len(posteriors)) % 10)
    for post, col in zip(_np(posteriors, "posteriors"), colours, strict=True):
        axes[0].contour(grid.x1, grid.x2, post, levels=post.max() * np.array([0.1, 0.5]),
                        colors=[col], linewidths=1.0)
    log_p = np.log(np.maximum(_np(prior, "prior"), 1e-300))
    top = log_p.max()
    for ax, m in ((axes[1], _np(average, "average")), (axes[2], _np(prior, "prior"))):
        ax.imshow(np.log(np.maximum(m, 1e-300)), origin="lower", extent=ext, cmap="magma",
                  vmin=top - 10, vmax=top)
    names = ("posteriors q(x | I)", "average posterior q(x)", "prior r(x)")
    for ax, t in zip(axes, names, strict=True):
        ax.set_title(t)
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    return axes


def plot_sparse_priors_2d(alphas: Sequence[float], *, lim: float = 3.0, n: int = 201,
                          axes=None):
    """The 2-D densities ``r(x) ∝ exp(-|x_1|^a - |x_2|^a)`` for several shapes ``a``.

    Each panel shows the log density (clipped 8 nats below its peak), so the
    concentration of mass along the axes for ``a < 1`` is visible.
    """
    from lvmkit.grid_posteriors import Grid2D, sparse_log_density

    alphas = _np(alphas, "alphas")
    if alphas.ndim != 1 or not (alphas > 0).all():
        raise ValueError(f"alphas must be a list of shapes > 0, got {alphas}")
    if axes is None:
        _, axes = plt.subplots(1, len(alphas), figsize=(2.3 * len(alphas), 2.5),
                               sharex=True, sharey=True)
    grid = Grid2D(-lim, lim, n)
    for ax, a in zip(np.atleast_1d(axes), alphas, strict=True):
        ld = sparse_log_density(grid.points, a).reshape(n, n)
        ax.imshow(np.maximum(ld - ld.max(), -8), origin="lower", extent=grid.extent,
                  cmap="magma")
        ax.set_title(rf"$\alpha = {a:g}$")
        ax.set_xlabel("$x_1$")
    np.atleast_1d(axes)[0].set_ylabel("$x_2$")
    return axes


def plot_tiles(columns, *, n_cols: int | None = None, ax=None, title: str | None = None):
    """Show the columns of ``columns (P, K)`` (square patches or atoms) as a tiled image,
    each tile scaled to its own maximum absolute value (grey = 0)."""
    c = _np(columns, "columns")
    P, K = c.shape
    side = round(np.sqrt(P))
    n_cols = n_cols or int(np.ceil(np.sqrt(K)))
    n_rows = int(np.ceil(K / n_cols))
    canvas = np.full((n_rows * (side + 1) + 1, n_cols * (side + 1) + 1), np.nan)
    for k in range(K):
        r, q = divmod(k, n_cols)
        tile = c[:, k].reshape(side, side)
        canvas[1 + r * (side + 1): 1 + r * (side + 1) + side,
               1 + q * (side + 1): 1 + q * (side + 1) + side] = tile / (np.abs(tile).max() + 1e-12)
    ax = new_axes(ax, figsize=(0.45 * n_cols + 0.5, 0.45 * n_rows + 0.5))
    cmap = mpl.colormaps["gray"].with_extremes(bad="white")
    ax.imshow(canvas, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_gabor_r2(r2: dict[str, Sequence[float]], threshold: float, *, ax=None):
    """Empirical CDFs of the Gabor goodness of fit (R^2) of several sets of atoms."""
    ax = new_axes(ax)
    for label, vals in r2.items():
        v = np.sort(_np(vals, "r2"))
        ax.plot(v, np.arange(1, len(v) + 1) / len(v), label=label, drawstyle="steps-post")
    ax.axvline(threshold, color="k", ls=":", label=f"good fit: $R^2 \\geq {threshold:g}$")
    ax.set_xlabel("$R^2$ of the best-fitting localised Gabor")
    ax.set_ylabel("fraction of atoms")
    ax.legend()
    return ax


def plot_rank_histograms(results: dict, *, axes=None, latent: int | None = None):
    """SBC rank histograms (all latents pooled, or one ``latent``), one panel per result.

    Args:
        results: Label -> :class:`lvmkit.diagnostics.SBCResult` (at least one).
    """
    if not results:
        raise ValueError("results must hold at least one SBCResult, got an empty dict")
    if axes is None:
        _, axes = plt.subplots(1, len(results), figsize=(2.4 * len(results), 2.6), sharey=True)
    for ax, (label, res) in zip(np.atleast_1d(axes), results.items(), strict=True):
        ranks = res.ranks.ravel() if latent is None else res.ranks[:, latent]
        bins = np.arange(res.n_post + 2) - 0.5
        ax.hist(ranks, bins=bins, density=True, color="C0" if res.p_value >= 0.01 else "C3")
        ax.axhline(1 / (res.n_post + 1), color="k", ls="--", lw=1)
        ax.set_title(f"{label}\np = {res.p_value:.2g}")
        ax.set_xlabel("rank")
    np.atleast_1d(axes)[0].set_ylabel("frequency")
    return axes


def plot_generate_vs_infer(r_x, q_x, model_images, data_images, *, epsilon: str, eta: str,
                           axes=None, bins: int = 60, latent_lim: float = 4.0,
                           pixel_lim: float = 4.0):
    """The two sides of Bayes' loop with measured errors (the post's generate_vs_infer).

    Top row: latent marginals (pooled over latents); bottom row: pixel marginals. Left
    (generative side): r(x) and the model's images r(I). Right (inference side): the
    average posterior q(x) against r(x), and the data p(I) against r(I). ``epsilon``
    and ``eta`` are the measured mismatches, printed on the panels.

    Args:
        r_x, q_x: Latent samples from r(x) and from q(x), any shape.
        model_images, data_images: Pixel values of model samples and of the data.
        epsilon, eta: Text of the measured values (e.g. "0.12 ± 0.01").
        latent_lim, pixel_lim: Half-width of the histograms' range in each row.
    """
    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(7.5, 4.6), sharex="row")
    kw = {"bins": np.linspace(-latent_lim, latent_lim, bins + 1), "density": True,
          "histtype": "step", "lw": 1.5}
    kw_pix = {**kw, "bins": np.linspace(-pixel_lim, pixel_lim, bins + 1)}
    (a, b), (c, d) = axes
    a.hist(_np(r_x, "r_x").ravel(), color="C0", label="r(x)", **kw)
    a.set_title("generative side: sample x ~ r(x)", color="C0")
    c.hist(_np(model_images, "model_images").ravel(), color="C0", label="r(I) (model)", **kw_pix)
    c.set_title("... then I ~ p(I | x)", color="C0")
    b.hist(_np(r_x, "r_x").ravel(), color="C0", label="r(x)", **kw)
    b.hist(_np(q_x, "q_x").ravel(), color="C2", label="q(x) (avg. posterior)", **kw)
    b.set_title(f"inference side: $\\eta$ = {eta}", color="C2")
    d.hist(_np(model_images, "model_images").ravel(), color="C0", label="r(I) (model)", **kw_pix)
    d.hist(_np(data_images, "data_images").ravel(), color="C2", label="p(I) (data)", **kw_pix)
    d.set_title(f"data vs model: $\\epsilon$ = {epsilon}", color="C2")
    for ax in (a, b):
        ax.set_yscale("log")
        ax.set_xlabel("latent value")
        ax.legend(fontsize="small")
    for ax in (c, d):
        ax.set_yscale("log")
        ax.set_xlabel("pixel value")
        ax.legend(fontsize="small")
    return axes


def plot_marginals(samples: dict[str, Sequence[float]], *, ax=None, bins: int = 80,
                   lim: float = 4.0, densities: dict | None = None, title: str | None = None):
    """Histograms (log scale) of pooled latent samples, with optional density curves.

    Args:
        samples: Label -> samples.
        densities: Label -> ``(grid, density)`` drawn as lines.
    """
    ax = new_axes(ax)
    edges = np.linspace(-lim, lim, bins + 1)
    for label, s in samples.items():
        ax.hist(_np(s, "samples").ravel(), bins=edges, density=True, histtype="step", lw=1.5,
                label=label)
    for label, (g, dens) in (densities or {}).items():
        ax.plot(_np(g, "densities"), _np(dens, "densities"), "--", lw=1.2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("latent value")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_trajectories(steps, series: dict[str, Sequence[float]], *, ax=None,
                      xlabel: str = "iteration", ylabel: str = "", logy: bool = False):
    """Line plot of several named sequences against ``steps``."""
    ax = new_axes(ax)
    for label, v in series.items():
        ax.plot(_np(steps, "steps"), _np(v, "series"), "o-", ms=3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax



# --- Part 3: mutual information, VAEs, salt-and-pepper posteriors (functions below) ---


def _tile(images, shape: tuple[int, int], ncols: int) -> np.ndarray:
    images = _np(images, "images").reshape(-1, *shape)
    n, (h, w) = len(images), shape
    nrows = -(-n // ncols)
    canvas = np.full((nrows * (h + 1) - 1, ncols * (w + 1) - 1), 0.2)
    for i, im in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = im
    return canvas


def plot_image_grids(grids: dict[str, Sequence], shape: tuple[int, int], *, ncols: int = 8,
                     axes=None) -> np.ndarray:
    """One panel per entry: flattened images ``(n, H*W)`` tiled ``ncols`` to a row.

    Args:
        grids: Panel title -> images of shape ``(n, H * W)`` with values in [0, 1].
        shape: ``(H, W)``.
        ncols: Images per row.
        axes: ``len(grids)`` axes; a new row of panels if ``None``.

    Returns:
        The array of axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, len(grids), figsize=(3.0 * len(grids), 3.2), squeeze=False)
    axes = np.ravel(axes)
    if len(axes) != len(grids):
        raise ValueError(f"need {len(grids)} axes, got {len(axes)}")
    for ax, (title, images) in zip(axes, grids.items(), strict=True):
        ax.imshow(_tile(images, shape, ncols), cmap="gray_r", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(title)
        ax.set_axis_off()
    return axes


def plot_interpolations(rows: dict[str, Sequence], shape: tuple[int, int], *,
                        axes=None) -> np.ndarray:
    """Image strips, one per row: decoded images along a path in latent space.

    Args:
        rows: Row title -> images of shape ``(T, H * W)`` in [0, 1].
        shape: ``(H, W)``.
        axes: ``len(rows)`` axes stacked vertically; new ones if ``None``.
    """
    n = {len(_np(v, "rows")) for v in rows.values()}
    if len(n) != 1:
        raise ValueError(f"rows must all have the same number of images, got {n}")
    n = n.pop()
    if axes is None:
        _, axes = plt.subplots(len(rows), 1, figsize=(0.55 * n + 0.5, 1.0 * len(rows) + 0.3),
                               squeeze=False)
    axes = np.ravel(axes)
    for ax, (title, images) in zip(axes, rows.items(), strict=True):
        ax.imshow(_tile(images, shape, n), cmap="gray_r", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(title, fontsize="small", loc="left")
        ax.set_axis_off()
    return axes


def plot_posterior_families(grid, prior, families: dict[str, tuple], *, axes=None,
                            xlabel: str = "z") -> np.ndarray:
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
        _, axes = plt.subplots(1, len(families), figsize=(4.0 * len(families), 3.2),
                               sharey=True, squeeze=False)
    axes = np.ravel(axes)
    grid, prior = _np(grid, "grid"), _np(prior, "prior")
    for ax, (title, (posts, avg)) in zip(axes, families.items(), strict=True):
        posts = _np(posts, "families")
        scale = min(1.0, 1.6 * prior.max() / posts.max())  # very narrow ones are shrunk
        for k, p in enumerate(posts):
            label = "posteriors" + (f" (x{scale:.2g})" if scale < 1 else "")
            ax.plot(grid, p * scale, color="C0", lw=0.8, alpha=0.6, label=label if k == 0 else None)
        ax.plot(grid, prior, color="k", lw=2.5, label="prior p(z)")
        ax.plot(grid, _np(avg, "families"), color="C1", lw=1.5, ls="--", label="average posterior")
        ax.set(title=title, xlabel=xlabel, ylim=(0, 2.5 * prior.max()))
        ax.legend(loc="upper left", fontsize="x-small")
    axes[0].set_ylabel("density")
    return axes


def plot_salt_and_pepper(codes: dict[str, Sequence], labels, *, axes=None, lim: float = 3.0,
                         cbar_label: str = "held-out label") -> np.ndarray:
    """2-D codes coloured by a held-out label, one panel per representation.

    Args:
        codes: Panel title -> codes of shape ``(n, 2)``.
        labels: Integer labels, shape ``(n,)`` (used for colour only).
        axes: ``len(codes)`` axes; new panels if ``None``.
        lim: Axis limits ``[-lim, lim]``.
        cbar_label: Label of the colour bar.
    """
    if axes is None:
        _, axes = plt.subplots(1, len(codes), figsize=(3.6 * len(codes), 3.6), squeeze=False)
    axes = np.ravel(axes)
    labels = _np(labels, "labels")
    for ax, (title, z) in zip(axes, codes.items(), strict=True):
        z = _np(z, "codes")
        if z.ndim != 2 or z.shape[1] != 2:
            raise ValueError(f"codes {title!r} must have shape (n, 2), got {z.shape}")
        sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), title=title, xlabel="$z_1$", ylabel="$z_2$")
        ax.set_aspect("equal")
    n_colours = int(labels.max()) + 1
    plt.colorbar(sc, ax=axes[-1], ticks=range(n_colours), label=cbar_label)
    return axes


def plot_rate_distortion(points: dict[str, tuple[float, float]], *, ax=None,
                         elbo_levels: Sequence[float] = ()) -> plt.Axes:
    """Models on the rate-distortion plane with lines of constant ELBO ``-(D + R)``.

    Args:
        points: Label -> ``(rate, distortion)`` in nats.
        ax: Axes; a new figure if ``None``.
        elbo_levels: ELBO values for the dotted diagonals ``D = -ELBO - R``.
    """
    ax = new_axes(ax)
    rates = _np([r for r, _ in points.values()], "points")
    dists = _np([d for _, d in points.values()], "points")
    r_max = max(rates.max() * 1.15, 1.0)
    grid = np.linspace(0, r_max, 2)
    for k, e in enumerate(elbo_levels):
        levels = ", ".join(f"{v:g}" for v in elbo_levels)
        ax.plot(grid, -e - grid, color="0.6", lw=0.8, ls=":",
                label=f"constant ELBO: {levels} nats" if k == 0 else None)
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
        ax.annotate(label, (r, d), xytext=(r + 0.05 * r_max, label_y[i]), fontsize="x-small",
                    color=f"C{i % 10}", va="center", zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6,
                                "shrinkA": 0, "shrinkB": 3} if moved else None)
    if elbo_levels:
        ax.legend(loc="lower left", fontsize="x-small")
    ax.set(xlabel="rate R (nats)", ylabel="distortion D (nats)", xlim=(-0.05 * r_max, r_max))
    return ax


def plot_shapes(images, factors, shape: tuple[int, int], *, n: int = 16, ncols: int = 8,
                ax=None) -> plt.Axes:
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
    images, factors = _np(images, "images"), _np(factors, "factors")
    if factors.ndim != 2 or factors.shape[1] != 4 or len(factors) != len(images):
        raise ValueError(f"factors must have shape ({len(images)}, 4), got {factors.shape}")
    n = min(n, len(images))
    nrows = -(-n // ncols)
    if ax is None:
        fig = plt.figure(figsize=(0.95 * ncols, 1.15 * nrows + 0.1))
    else:
        fig = ax.figure
        ax.set_axis_off()
    grid = (ax.get_subplotspec().subgridspec(nrows, ncols) if ax is not None
            else fig.add_gridspec(nrows, ncols))
    axes = []
    for i in range(n):
        sub = fig.add_subplot(grid[divmod(i, ncols)])
        c, _x, _y, s = factors[i]
        sub.imshow(images[i].reshape(shape), cmap="gray_r", vmin=0, vmax=1,
                   interpolation="nearest")
        sub.set_title(f"{'plus' if c > 0.5 else 'square'}\ns = {s:.1f}", fontsize="x-small",
                      pad=2)
        sub.set_axis_off()
        axes.append(sub)
    return np.array(axes)


def plot_benchmark_ratios(rows: Sequence[dict], *, ax=None) -> plt.Axes:
    """Each benchmark's measured ratio relative to its goal, on a log axis.

    A bar's length is the measured ratio divided by the goal (the goal divided by the
    ratio where lower is better), so 1 is the goal exactly and a bar to the right of it
    met its goal. Rows without a goal are listed at the bottom without a bar.

    Args:
        rows: Dicts with ``label``, ``ratio``, ``goal`` (a number or ``None``),
            ``higher_is_better`` (bool) and ``goal_text`` (e.g. ``">= 10x"``).
        ax: Axes; a new figure if ``None``.

    Returns:
        The axes.
    """
    if not rows:
        raise ValueError("rows must not be empty")
    ax = new_axes(ax, figsize=(6.4, 0.55 * len(rows) + 1.0))
    labels, margins = [], []
    for r in rows:
        ratio = float(r["ratio"])
        if not np.isfinite(ratio) or ratio <= 0:
            raise ValueError(f"rows: the ratio of {r['label']!r} must be positive, got {ratio}")
        goal = r.get("goal")
        labels.append(r["label"])
        if goal is None:
            margins.append(np.nan)
        else:
            margins.append(ratio / goal if r["higher_is_better"] else goal / ratio)
    margins = np.array(margins)
    y = np.arange(len(rows))[::-1]
    has = np.isfinite(margins)
    colours = np.where(margins[has] >= 1, "C2", "C3")
    ax.barh(y[has], np.log10(margins[has]), color=colours, height=0.6)
    ax.axvline(0, color="k", lw=1)
    span = max(np.abs(np.log10(margins[has])).max(), 0.1) if has.any() else 1.0
    for yi, m, r in zip(y, margins, rows, strict=True):
        ratio = f"{float(r['ratio']):.3g}"
        if np.isfinite(m):
            text = f"{ratio} (goal {r['goal_text']})"
            x = max(np.log10(m), 0) + 0.03 * span
        else:
            text, x = f"{ratio} (no goal)", 0.03 * span
        ax.text(x, yi, text, va="center", fontsize="x-small")
    ax.set_yticks(y, labels, fontsize="small")
    lo = min(-0.25 * span, np.log10(margins[has]).min() * 1.2 if has.any() else 0)
    ax.set_xlim(lo, 1.9 * span)
    ticks = [t for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20) if lo <= np.log10(t) <= span]
    ax.set_xticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlabel("measured ratio relative to its goal (1 = goal; right of 1: met)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax
