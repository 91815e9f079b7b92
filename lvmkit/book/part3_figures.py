"""Figures of part 3's digits chapters over seeds: the capacity sweep and the R-D plane.

Each function draws what it is given (means and standard errors over training seeds)
on the axes it is given, and returns them; the chapters compute the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_capacity_sweep", "plot_rd_frontier"]

Series = tuple[Sequence[float], Sequence[float], Sequence[float]]  # x, mean, se


def _errorbars(ax, series: Mapping[str, Series], start: int = 0) -> None:
    for i, (label, (x, m, se)) in enumerate(series.items()):
        ax.errorbar(
            np.asarray(x, float),
            np.asarray(m, float),
            yerr=np.asarray(se, float),
            marker="o",
            ms=4,
            capsize=3,
            lw=1.2,
            color=f"C{(i + start) % 10}",
            label=label,
        )


def plot_capacity_sweep(
    information: Mapping[str, Series],
    likelihood: Mapping[str, Series],
    references: Mapping[str, tuple[float, float]] | None = None,
    *,
    axes=None,
    xlabel: str = "MADE hidden width",
):
    """Two panels against decoder capacity: rate and MI (left), held-out log p(x) (right).

    Args:
        information: Label -> ``(widths, means, standard errors)`` (nats), left panel.
        likelihood: The same for the held-out log-likelihood, right panel.
        references: Label -> ``(mean, se)`` drawn as a horizontal band on the right
            panel (a model without a width, e.g. the factorised VAE).
        axes: Two axes; a new figure if ``None``.
        xlabel: The capacity axis' label (log scale).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(7.6, 3.2), layout="constrained")
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 axes, got {len(axes)}")
    left, right = axes
    _errorbars(left, information)
    left.axhline(0, color="0.6", lw=0.8, ls=":")
    left.set(
        xscale="log",
        xlabel=xlabel,
        ylabel="nats per image",
        title="rate and MI (mean ± s.e. over seeds)",
    )
    left.legend(fontsize="x-small")
    _errorbars(right, likelihood, start=len(information))
    k = len(information) + len(likelihood)
    for i, (label, (m, se)) in enumerate((references or {}).items()):
        c = f"C{(k + i) % 10}"
        right.axhline(m, color=c, lw=1, ls="--", label=label)
        right.axhspan(m - se, m + se, color=c, alpha=0.2, lw=0)
    right.set(
        xscale="log",
        xlabel=xlabel,
        ylabel="held-out log p(x) (nats)",
        title="held-out likelihood",
    )
    right.legend(fontsize="x-small")
    for ax in axes:
        widths = sorted(
            {w for s in [*information.values(), *likelihood.values()] for w in s[0]}
        )
        ax.set_xticks(widths, [f"{w:g}" for w in widths])
        ax.minorticks_off()
    return axes


def plot_rd_frontier(
    points: Mapping[str, tuple[float, float, float, float]],
    entropy: tuple[float, float],
    *,
    ax=None,
    annotate: bool = True,
):
    """Models on the (R, D) plane with error bars, and the bound ``D >= H - R``.

    Args:
        points: Label -> ``(R mean, R se, D mean, D se)`` in nats (over seeds).
        entropy: ``(H, se)``: the data entropy estimated by the best density model's
            held-out ``-log p(x)``; the line ``D = H - R`` (band: one s.e.) bounds
            every model's point from below, and the region under it is shaded.
        ax: Axes; a new figure if ``None``.
        annotate: Write each label next to its point.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    arr = np.array(list(points.values()), dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 4 or not np.isfinite(arr).all():
        raise ValueError("points must map labels to finite (R, R se, D, D se)")
    h, h_se = entropy
    r_max = max(arr[:, 0].max() * 1.12, 1.0)
    grid = np.linspace(0, r_max, 50)
    ax.fill_between(grid, 0, h - grid, color="0.9", lw=0, label="D < H - R: impossible")
    ax.plot(grid, h - grid, color="k", lw=1, label=f"D = H - R, H = {h:.2f} nats")
    ax.fill_between(
        grid, h - h_se - grid, h + h_se - grid, color="0.5", alpha=0.3, lw=0
    )
    colours = [f"C{i}" for i in (0, 1, 2, 3, 4, 5, 6, 9)]  # no grey, no pale yellow
    collapsed = []
    for i, (label, (r, rse, d, dse)) in enumerate(points.items()):
        c = colours[i % len(colours)]
        ax.errorbar(
            [r], [d], xerr=[rse], yerr=[dse], marker="o", ms=4, capsize=2, color=c, lw=1
        )
        if not annotate:
            continue
        if r < 0.05 * r_max:  # collapsed models pile up at R = 0: one label for all
            collapsed.append((label, d))
        else:
            ax.annotate(
                label,
                (r, d),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize="x-small",
                color=c,
            )
    if collapsed:
        text = "R ≈ 0: " + ", ".join(label for label, _ in collapsed)
        ax.annotate(
            text,
            (0, max(d for _, d in collapsed)),
            xytext=(8, 6),
            textcoords="offset points",
            fontsize="x-small",
            color="0.2",
        )
    lo = max(0.0, arr[:, 2].min() - 1.5)
    ax.set(
        xlabel="rate R (nats)",
        ylabel="distortion D (nats)",
        xlim=(-0.02 * r_max, r_max),
        ylim=(lo, arr[:, 2].max() + 1.0),
    )
    ax.legend(loc="upper right", fontsize="x-small")
    return ax
