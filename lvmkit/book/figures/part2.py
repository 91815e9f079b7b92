"""One ``plot_*`` function per figure of Part 2: sparse coding, the Bayes loop, simple
and complex posteriors.

Book-only: each function draws one figure of one chapter. They follow the house
conventions of :mod:`lvmkit.plotting` (``ax=None`` / ``axes=None``, return the axes,
no global style) and build on its primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from lvmkit.plotting import as_array, new_axes

__all__ = [
    "plot_complexity_sweep",
    "plot_gabor_r2",
    "plot_generate_vs_infer",
    "plot_likelihood_vs_kl",
    "plot_posterior_tiling",
    "plot_puzzle",
    "plot_response_kurtosis",
    "plot_sparse_priors_2d",
]


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
        _, axes = plt.subplots(
            1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False
        )
        axes = axes[0]
    for ax, (title, p) in zip(axes, panels.items(), strict=True):
        x, kl = (
            as_array(p["param"], "panels[...][param]"),
            as_array(p["kl"], "panels[...][kl]"),
        )
        se, h = as_array(p["kl_se"], "panels[...][kl_se]"), float(p["entropy"])
        ax.plot(
            x,
            as_array(p["nll"], "panels[...][nll]"),
            "o-",
            ms=4,
            lw=2.5,
            alpha=0.6,
            color="C0",
            label="$-\\frac{1}{D}\\sum \\log r(I_i)$",
        )
        ax.errorbar(x, kl, 2 * se, fmt="s", ms=3, color="C1", label="KL, Monte Carlo")
        if p.get("kl_exact") is not None:
            ax.plot(
                x,
                as_array(p["kl_exact"], "panels[...][kl_exact]"),
                "--",
                color="C1",
                lw=1,
                label="KL, exact",
            )
        ax.plot(x, kl + h, ":", color="k", lw=1.2, label="KL + H(p_data)")
        if p.get("kl_floor") is not None:
            ax.axhline(
                float(p["kl_floor"]),
                color="tab:red",
                ls="--",
                lw=1,
                label="best KL in family",
            )
        i = int(np.argmin(as_array(p["nll"], "panels[...][nll]")))
        ax.annotate(
            "",
            (x[i], kl[i] + h),
            (x[i], kl[i]),
            arrowprops={"arrowstyle": "<->", "color": "0.4"},
        )
        ax.text(x[i], kl[i] + h / 2, f"  H = {h:.3g}", color="0.3", va="center")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xlabel(p.get("xlabel", "parameter"))
        ax.set_ylabel("nats")
        ax.set_title(title)
    for ax in axes:
        ax.legend(fontsize="small")
    return axes


def plot_response_kurtosis(
    kurtosis: dict[str, Sequence[float]],
    *,
    ax=None,
    reference: float = 0.0,
    title: str | None = None,
):
    """Per-filter excess kurtosis of responses, one row of jittered dots per source.

    Args:
        kurtosis: Label -> excess kurtosis of each filter's responses, shape ``(F,)``.
        reference: Value marked by a vertical line (0: a Gaussian).
    """
    ax = new_axes(ax)
    rng = np.random.default_rng(0)
    labels = list(kurtosis)
    for row, label in enumerate(labels):
        k = as_array(kurtosis[label], "kurtosis").ravel()
        ax.plot(
            k,
            row + 0.15 * rng.standard_normal(k.size),
            "o",
            ms=2.5,
            alpha=0.5,
            color=f"C{row}",
        )
        ax.plot([k.mean()], [row], "k|", ms=22, mew=2)
    ax.axvline(reference, color="0.5", ls="--", lw=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel("excess kurtosis of filter responses (bar: mean)")
    if title:
        ax.set_title(title)
    return ax


def plot_posterior_tiling(
    grid,
    prior,
    posteriors,
    *,
    axes=None,
    titles: Sequence[str] = ("prior r(x)", "posteriors q(x | I)"),
    levels: int = 3,
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
    axes[0].imshow(as_array(prior, "prior"), origin="lower", extent=ext, cmap="Greys")
    axes[1].imshow(
        as_array(prior, "prior"), origin="lower", extent=ext, cmap="Greys", alpha=0.35
    )
    colours = plt.cm.tab10(np.arange(len(posteriors)) % 10)
    for post, col in zip(as_array(posteriors, "posteriors"), colours, strict=True):
        lv = post.max() * np.array([0.1, 0.4, 0.8][:levels])
        axes[1].contour(grid.x1, grid.x2, post, levels=lv, colors=[col], linewidths=1.0)
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title)
        ax.set_xlabel("$x_1$")
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_2$")
    return axes


def plot_complexity_sweep(
    noise_stds,
    posterior_kl,
    prior_kl: float,
    *,
    ax=None,
    xlabel: str = "likelihood noise $\\sigma$",
) -> plt.Axes:
    """Posterior non-Gaussianity (KL to its Gaussian fit) against the likelihood's width.

    Args:
        noise_stds: Shape ``(K,)``.
        posterior_kl: Mean KL(posterior || Gaussian fit), shape ``(K,)`` or ``(K, 3)``
            (mean, lower, upper quantile).
        prior_kl: The same statistic for the prior (drawn as a horizontal line).
    """
    ax = new_axes(ax)
    s, k = as_array(noise_stds, "noise_stds"), as_array(posterior_kl, "posterior_kl")
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
    total = as_array(posteriors, "posteriors").sum(0)
    axes[0].imshow(
        np.sqrt(total / total.max()),
        origin="lower",
        extent=ext,
        cmap="Greys",
        alpha=0.4,
    )
    colours = plt.cm.tab10(np.arange(len(posteriors)) % 10)
    for post, col in zip(as_array(posteriors, "posteriors"), colours, strict=True):
        axes[0].contour(
            grid.x1,
            grid.x2,
            post,
            levels=post.max() * np.array([0.1, 0.5]),
            colors=[col],
            linewidths=1.0,
        )
    log_p = np.log(np.maximum(as_array(prior, "prior"), 1e-300))
    top = log_p.max()
    for ax, m in (
        (axes[1], as_array(average, "average")),
        (axes[2], as_array(prior, "prior")),
    ):
        ax.imshow(
            np.log(np.maximum(m, 1e-300)),
            origin="lower",
            extent=ext,
            cmap="magma",
            vmin=top - 10,
            vmax=top,
        )
    names = ("posteriors q(x | I)", "average posterior q(x)", "prior r(x)")
    for ax, t in zip(axes, names, strict=True):
        ax.set_title(t)
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    return axes


def plot_sparse_priors_2d(
    alphas: Sequence[float], *, lim: float = 3.0, n: int = 201, axes=None
):
    """The 2-D densities ``r(x) ∝ exp(-|x_1|^a - |x_2|^a)`` for several shapes ``a``.

    Each panel shows the log density (clipped 8 nats below its peak), so the
    concentration of mass along the axes for ``a < 1`` is visible.
    """
    from lvmkit.grid_posteriors import Grid2D, sparse_log_density

    alphas = as_array(alphas, "alphas")
    if alphas.ndim != 1 or not (alphas > 0).all():
        raise ValueError(f"alphas must be a list of shapes > 0, got {alphas}")
    if axes is None:
        _, axes = plt.subplots(
            1, len(alphas), figsize=(2.3 * len(alphas), 2.5), sharex=True, sharey=True
        )
    grid = Grid2D(-lim, lim, n)
    for ax, a in zip(np.atleast_1d(axes), alphas, strict=True):
        ld = sparse_log_density(grid.points, a).reshape(n, n)
        ax.imshow(
            np.maximum(ld - ld.max(), -8),
            origin="lower",
            extent=grid.extent,
            cmap="magma",
        )
        ax.set_title(rf"$\alpha = {a:g}$")
        ax.set_xlabel("$x_1$")
    np.atleast_1d(axes)[0].set_ylabel("$x_2$")
    return axes


def plot_gabor_r2(r2: dict[str, Sequence[float]], threshold: float, *, ax=None):
    """Empirical CDFs of the Gabor goodness of fit (R^2) of several sets of atoms."""
    ax = new_axes(ax)
    for label, vals in r2.items():
        v = np.sort(as_array(vals, "r2"))
        ax.plot(
            v, np.arange(1, len(v) + 1) / len(v), label=label, drawstyle="steps-post"
        )
    ax.axvline(
        threshold, color="k", ls=":", label=f"good fit: $R^2 \\geq {threshold:g}$"
    )
    ax.set_xlabel("$R^2$ of the best-fitting localised Gabor")
    ax.set_ylabel("fraction of atoms")
    ax.legend()
    return ax


def plot_generate_vs_infer(
    r_x,
    q_x,
    model_images,
    data_images,
    *,
    epsilon: str,
    eta: str,
    axes=None,
    bins: int = 60,
    latent_lim: float = 4.0,
    pixel_lim: float = 4.0,
):
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
    kw = {
        "bins": np.linspace(-latent_lim, latent_lim, bins + 1),
        "density": True,
        "histtype": "step",
        "lw": 1.5,
    }
    kw_pix = {**kw, "bins": np.linspace(-pixel_lim, pixel_lim, bins + 1)}
    (a, b), (c, d) = axes
    a.hist(as_array(r_x, "r_x").ravel(), color="C0", label="r(x)", **kw)
    a.set_title("generative side: sample x ~ r(x)", color="C0")
    c.hist(
        as_array(model_images, "model_images").ravel(),
        color="C0",
        label="r(I) (model)",
        **kw_pix,
    )
    c.set_title("... then I ~ p(I | x)", color="C0")
    b.hist(as_array(r_x, "r_x").ravel(), color="C0", label="r(x)", **kw)
    b.hist(
        as_array(q_x, "q_x").ravel(), color="C2", label="q(x) (avg. posterior)", **kw
    )
    b.set_title(f"inference side: $\\eta$ = {eta}", color="C2")
    d.hist(
        as_array(model_images, "model_images").ravel(),
        color="C0",
        label="r(I) (model)",
        **kw_pix,
    )
    d.hist(
        as_array(data_images, "data_images").ravel(),
        color="C2",
        label="p(I) (data)",
        **kw_pix,
    )
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
