"""Overlapping text in a matplotlib figure: the figure-side half of the layout checks.

Overlapping tick or point labels cannot be measured reliably from a PNG, but matplotlib
knows where it drew every piece of text. ``text_overlaps(fig)`` draws the figure with its
own renderer (``fig.canvas.get_renderer()``), collects the window extent of every visible,
non-empty ``Text`` artist (titles, axis labels, tick labels inside the view limits,
annotations, legend entries, colour-bar labels, figure titles) and returns each pair
whose boxes intersect by more than ``tol`` pixels in both directions, named by their
axes and role. Used by ``tests/test_figure_text.py``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.text import Text

TOL_PX = 1.0  # boxes that merely touch (anti-aliasing, rounding) do not overlap


@dataclass(frozen=True)
class Overlap:
    first: str  # e.g. "axes 0 annotation 'beta = 1'"
    second: str
    width_px: float
    height_px: float

    def __str__(self) -> str:
        return f"{self.first} overlaps {self.second} ({self.width_px:.0f}x{self.height_px:.0f} px)"


def _tick_texts(ax) -> tuple[set[int], dict[int, str]]:
    """Ids of tick labels outside the view limits (not drawn), and the role of the rest."""
    hidden, roles = set(), {}
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        lo, hi = sorted(axis.get_view_interval())
        span = (hi - lo) or 1.0
        for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
            inside = lo - 1e-9 * span <= tick.get_loc() <= hi + 1e-9 * span
            for label in (tick.label1, tick.label2):
                (roles.__setitem__(id(label), f"{name}-tick label") if inside
                 else hidden.add(id(label)))  # fmt: skip
        roles[id(axis.label)] = f"{name}label"
    for title in (ax.title, ax._left_title, ax._right_title):
        roles[id(title)] = "title"
    return hidden, roles


def visible_texts(fig: Figure) -> list[tuple[str, Text]]:
    """Every drawn, non-empty Text of ``fig``, with a name saying where it is."""
    fig.canvas.draw()  # lays out the figure (constrained layout, tick positions)
    axes_index = {id(ax): i for i, ax in enumerate(fig.axes)}
    hidden, roles = set(), {}
    for ax in fig.axes:
        h, r = _tick_texts(ax)
        hidden |= h
        roles.update(r)
    out = []
    for t in fig.findobj(Text):
        if id(t) in hidden or not t.get_visible() or not t.get_text().strip():
            continue
        where = f"axes {axes_index[id(t.axes)]}" if id(t.axes) in axes_index else "figure"
        role = roles.get(id(t)) or ("annotation" if type(t).__name__ == "Annotation" else "text")
        out.append((f"{where} {role} {t.get_text()[:40]!r}", t))
    return out


def text_overlaps(fig: Figure, *, tol: float = TOL_PX) -> list[Overlap]:
    """Pairs of visible text artists of ``fig`` whose drawn boxes intersect."""
    texts = visible_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [(name, t.get_window_extent(renderer)) for name, t in texts]
    found = []
    for (n1, b1), (n2, b2) in itertools.combinations(boxes, 2):
        w = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        h = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        if w > tol and h > tol:
            found.append(Overlap(n1, n2, float(w), float(h)))
    return found

