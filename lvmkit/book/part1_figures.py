"""Part 1's figure of the learning curves with fair baselines (one figure, one function)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_gap_curves"]


def plot_gap_curves(
    sizes,
    gaps: dict[str, np.ndarray],
    *,
    floors: dict[str, float] | None = None,
    ax: plt.Axes | None = None,
    ylabel: str = "nats per tree short of the true world",
) -> plt.Axes:
    """Shortfall from the truth against training-set size, mean and standard error.

    Args:
        sizes: Training-set sizes, shape ``(S,)`` (log axis).
        gaps: Label -> shortfall (truth minus held-out log-likelihood), shape ``(S, R)``
            over ``R >= 2`` replicates: the mean is drawn with error bars of one
            standard error (log axis).
        floors: Label (of ``gaps``) -> the shortfall with unlimited data, drawn as a
            dotted line in the curve's colour.
        ax: Axes; a new figure if ``None``.
        ylabel: The y label.

    Returns:
        The axes drawn on.
    """
    sizes = np.asarray(sizes, float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, vals in gaps.items():
        vals = np.asarray(vals, float)
        if vals.shape[0] != len(sizes) or vals.ndim != 2 or vals.shape[1] < 2:
            raise ValueError(
                f"gaps[{label!r}] must have shape ({len(sizes)}, R >= 2), "
                f"got {vals.shape}"
            )
        mean = vals.mean(1)
        se = vals.std(1, ddof=1) / np.sqrt(vals.shape[1])
        bars = ax.errorbar(
            sizes, mean, yerr=se, marker="o", ms=4, capsize=3, label=label
        )
        if floors and label in floors:
            ax.axhline(floors[label], color=bars.lines[0].get_color(), ls=":", lw=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training trees")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", loc="lower left")
    return ax
