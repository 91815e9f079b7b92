"""Overlapping text in a matplotlib figure: the figure-side half of the layout checks.

Overlapping tick or point labels cannot be measured reliably from a PNG, but matplotlib
knows where it drew every piece of text. ``text_overlaps(fig)`` draws the figure with its
own renderer (``fig.canvas.get_renderer()``), collects the window extent of every visible,
non-empty ``Text`` artist (titles, axis labels, tick labels inside the view limits,
annotations, legend entries, colour-bar labels, figure titles) and returns each pair
whose glyphs overlap or touch (``text_overlaps``: thresholds there), named by their
axes and role. Used by ``tests/test_figure_text.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

TOL_PX = 1.0  # boxes that merely touch (anti-aliasing, rounding) do not overlap
# A text's extent spans the font's whole ascent and descent, more than its glyphs: boxes
# of adjacent tick labels, or of lines set solid, share a pixel row without any letter
# touching another. So two texts whose boxes intersect are drawn alone, each on a blank
# canvas of the figure's size, and overlap when their glyphs' ink (alpha > INK_ALPHA)
# overlaps or touches: at least one pixel of one within INK_GAP_PX of the other's.
INK_ALPHA = 40
INK_GAP_PX = 1


@dataclass(frozen=True)
class Overlap:
    first: str  # e.g. "axes 0 annotation 'beta = 1'"
    second: str
    width_px: float  # intersection of the two boxes
    height_px: float
    ink_px: int  # pixels of the second text's ink within INK_GAP_PX of the first's

    def __str__(self) -> str:
        return (
            f"{self.first} overlaps {self.second} (boxes {self.width_px:.0f}x"
            f"{self.height_px:.0f} px, {self.ink_px} px of ink touching)"
        )


def _tick_texts(ax) -> tuple[set[int], dict[int, str]]:
    """Ids of tick labels outside the view limits (not drawn), and the role of the rest
    (tick labels have no ``.axes``: the role names the axes)."""
    hidden, roles = set(), {}
    where = f"axes {ax.figure.axes.index(ax)}"
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        lo, hi = sorted(axis.get_view_interval())
        span = (hi - lo) or 1.0
        for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
            inside = lo - 1e-9 * span <= tick.get_loc() <= hi + 1e-9 * span
            for label in (tick.label1, tick.label2):
                (roles.__setitem__(id(label), f"{where} {name}-tick label") if inside
                 else hidden.add(id(label)))  # fmt: skip
        roles[id(axis.label)] = f"{where} {name}label"
    for title in (ax.title, ax._left_title, ax._right_title):
        roles[id(title)] = f"{where} title"
    return hidden, roles


def visible_texts(fig: Figure) -> list[tuple[str, Text]]:
    """Every drawn, non-empty Text of ``fig``, with a name saying where it is."""
    fig.canvas.draw()  # lays out the figure (constrained layout, tick positions)
    hidden, roles = set(), {}
    for ax in fig.axes:
        h, r = _tick_texts(ax)
        hidden |= h
        roles.update(r)
    out = []
    for t in fig.findobj(Text):
        if id(t) in hidden or not t.get_visible() or not t.get_text().strip():
            continue
        role = roles.get(id(t))
        if role is None:
            where = f"axes {fig.axes.index(t.axes)}" if t.axes in fig.axes else "figure"
            role = f"{where} {'annotation' if type(t).__name__ == 'Annotation' else 'text'}"
        out.append((f"{role} {t.get_text()[:40]!r}", t))
    return out


def _ink(fig: Figure, t: Text, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Where ``t`` alone puts ink on a canvas of ``fig``'s size, and that grown by ``gap``."""
    width, height = fig.canvas.get_width_height()
    renderer = RendererAgg(width, height, fig.dpi)
    t.draw(renderer)
    ink = np.asarray(renderer.buffer_rgba())[..., 3] > INK_ALPHA
    grown = ink.copy()
    for _ in range(gap):
        g = grown.copy()
        g[1:] |= grown[:-1]
        g[:-1] |= grown[1:]
        g[:, 1:] |= grown[:, :-1]
        g[:, :-1] |= grown[:, 1:]
        grown = g
    return ink, grown


def text_overlaps(
    fig: Figure, *, tol: float = TOL_PX, gap: int = INK_GAP_PX
) -> list[Overlap]:
    """Pairs of visible text artists of ``fig`` that overlap: their boxes intersect by more
    than ``tol`` px both ways and their glyphs overlap or come within ``gap`` px."""
    texts = visible_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [(name, t, t.get_window_extent(renderer)) for name, t in texts]
    found = []
    for (n1, t1, b1), (n2, t2, b2) in itertools.combinations(boxes, 2):
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if w > tol and h > tol:
            touching = int((_ink(fig, t1, gap)[1] & _ink(fig, t2, 0)[0]).sum())
            if touching:
                found.append(Overlap(n1, n2, float(w), float(h), touching))
    return found
