"""One ``plot_*`` function per figure of the performance page (benchmark ratios).

Book-only: each function draws one figure of one chapter. They follow the house
conventions of :mod:`lvmkit.plotting` (``ax=None`` / ``axes=None``, return the axes,
no global style) and build on its primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from lvmkit.plotting import new_axes

__all__ = ["plot_benchmark_ratios"]


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
            raise ValueError(
                f"rows: the ratio of {r['label']!r} must be positive, got {ratio}"
            )
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
    ticks = [
        t
        for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20)
        if lo <= np.log10(t) <= span
    ]
    ax.set_xticks(np.log10(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlabel("measured ratio relative to its goal (1 = goal; right of 1: met)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax
