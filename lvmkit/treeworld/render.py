"""The tree world's structure: constants, rendering a configuration into its part
map, and the enumeration of all 5832 configurations."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "HEIGHT",
    "LEAF",
    "N_BRANCH",
    "N_LEAF",
    "N_SLOTS",
    "N_TRUNK_H",
    "N_TRUNK_X",
    "SKY",
    "SPECIES",
    "TRUNK_X",
    "WIDTH",
    "WOOD",
    "enumerate_configs",
    "layer_maps",
    "render",
]

HEIGHT = WIDTH = 16
SKY, WOOD, LEAF = 0, 1, 2
SPECIES = ("willow", "oak", "pine")
TRUNK_X = (5, 6, 7, 8, 9, 10)
TRUNK_HEIGHTS = ((6, 8, 10), (4, 5, 6), (9, 11, 13))
N_TRUNK_X, N_TRUNK_H, N_BRANCH, N_LEAF, N_SLOTS = 6, 3, 4, 3, 3
GRID = (len(SPECIES), N_TRUNK_X, N_TRUNK_H, N_BRANCH, N_LEAF, N_LEAF, N_LEAF)


def _paint(m: np.ndarray, y: int, x: int, value: int) -> None:
    """Wood overwrites anything; leaves grow only on sky. Off-canvas points are clipped."""
    if 0 <= y < HEIGHT and 0 <= x < WIDTH and (value == WOOD or m[y, x] == SKY):
        m[y, x] = value


def _disc(m: np.ndarray, cy: int, cx: int, r2: int) -> None:
    for y in range(cy - 3, cy + 4):
        for x in range(cx - 3, cx + 4):
            if (y - cy) ** 2 + (x - cx) ** 2 <= r2:
                _paint(m, y, x, LEAF)


def render(s: int, xi: int, hi: int, g: int, c: tuple[int, int, int]) -> np.ndarray:
    """Render one configuration into its part map ``l``, shape ``(16, 16)``, values 0/1/2.

    Args:
        s: Species index (0 willow, 1 oak, 2 pine).
        xi: Trunk column index into ``TRUNK_X``.
        hi: Trunk height level (0, 1, 2).
        g: Branch geometry (0..3).
        c: Foliage amount (0..2) of the left, right and crown slots.
    """
    for name, v, n in (
        ("s", s, 3),
        ("xi", xi, N_TRUNK_X),
        ("hi", hi, N_TRUNK_H),
        ("g", g, N_BRANCH),
    ):
        if isinstance(v, bool) or int(v) != v or not 0 <= v < n:
            raise ValueError(f"{name} must be an integer in [0, {n}), got {v}")
    if len(c) != N_SLOTS or any(int(v) != v or not 0 <= v < N_LEAF for v in c):
        raise ValueError(f"c must be {N_SLOTS} integers in [0, {N_LEAF}), got {c}")
    m = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    x, h = TRUNK_X[xi], TRUNK_HEIGHTS[s][hi]
    y0 = HEIGHT - h
    for y in range(y0, HEIGHT):
        _paint(m, y, x, WOOD)
    if s == 0:  # willow: limbs out to both sides, drooping tips, hanging strands
        spans = ((3, 3), (4, 4), (3, 4), (4, 3))[g]
        yb = y0 - 1
        _paint(m, yb, x, WOOD)
        for side, span, amount in ((-1, spans[0], c[0]), (1, spans[1], c[1])):
            for k in range(1, span + 1):
                _paint(m, yb + (k == span), x + side * k, WOOD)
            for k in range(1, span + 1):
                if k % 2 == span % 2:  # a strand every other pixel, always at the tip
                    top = yb + 1 + (k == span)
                    for y in range(top, yb + 2 + (1, 3, 5)[amount] + (k + 1) // 2):
                        _paint(m, y, x + side * k, LEAF)
        width = (1, 2, 3)[c[2]]
        for dx in range(-width, width + 1):
            _paint(m, yb - 1, x + dx, LEAF)
        if c[2] == 2:
            for dx in (-1, 0, 1):
                _paint(m, yb - 2, x + dx, LEAF)
    elif s == 1:  # oak: diagonal limbs, round clusters at the tips and on the crown
        spans = ((2, 2), (3, 3), (2, 3), (3, 2))[g]
        for y in (y0 - 1, y0 - 2):
            _paint(m, y, x, WOOD)
        for side, span in ((-1, spans[0]), (1, spans[1])):
            for k in range(1, span + 1):
                _paint(m, y0 - k, x + side * k, WOOD)
        for side, span, amount in ((-1, spans[0], c[0]), (1, spans[1], c[1])):
            _disc(m, y0 - span, x + side * span, (1, 2, 5)[amount])
        _disc(m, y0 - 3, x, (2, 5, 8)[c[2]])
    else:  # pine: horizontal tiers widening downwards, needles under them, a top tuft
        first, step = ((1, 1), (2, 1), (1, 2), (2, 2))[g]
        for i, y in enumerate(range(y0 + 2, HEIGHT - 2, 2)):
            w = min(5, first + step * i)
            for dx in range(1, w + 1):
                _paint(m, y, x - dx, WOOD)
                _paint(m, y, x + dx, WOOD)
            for side, amount in ((-1, c[0]), (1, c[1])):
                for dx in range(0, w + amount):
                    _paint(m, y + 1, x + side * dx, LEAF)
        _paint(m, y0 - 1, x, LEAF)
        if c[2] >= 1:
            _paint(m, y0 - 1, x - 1, LEAF)
            _paint(m, y0 - 1, x + 1, LEAF)
        if c[2] == 2:
            _paint(m, y0 - 2, x, LEAF)
    return m


def layer_maps(config) -> np.ndarray:
    """The layers of one tree drawn cumulatively: trunk, + branches, + leaves.

    Args:
        config: ``(s, xi, hi, g, c_left, c_right, c_crown)``.

    Returns:
        Part maps of shape ``(3, 256)``: the trunk alone, all the wood, the full map ``l``.
    """
    config = np.asarray(config)
    if config.shape != (7,):
        raise ValueError(
            f"config must have shape (7,): (s, xi, hi, g, c_left, c_right, c_crown),"
            f" got shape {config.shape}"
        )
    s, xi, hi, g, *c = (int(v) for v in config)
    full = render(s, xi, hi, g, tuple(c)).ravel()
    trunk = np.zeros_like(full).reshape(HEIGHT, WIDTH)
    trunk[HEIGHT - TRUNK_HEIGHTS[s][hi] :, TRUNK_X[xi]] = WOOD
    return np.stack([trunk.ravel(), np.where(full == WOOD, WOOD, SKY), full]).astype(
        np.uint8
    )


@lru_cache(maxsize=1)
def enumerate_configs() -> tuple[np.ndarray, np.ndarray]:
    """Every configuration of the upper layers and leaves, and its part map.

    Returns:
        ``(configs, maps)``: ``configs`` of shape ``(5832, 7)`` with columns
        ``(s, xi, hi, g, c_left, c_right, c_crown)`` in C order of ``GRID``, and
        ``maps`` of shape ``(5832, 256)`` (uint8, flattened part maps). Read-only.
    """
    configs = np.stack(
        np.meshgrid(*[np.arange(n) for n in GRID], indexing="ij"), -1
    ).reshape(-1, 7)
    maps = np.stack(
        [
            render(int(s), int(xi), int(hi), int(g), tuple(int(v) for v in c)).ravel()
            for s, xi, hi, g, *c in configs
        ]
    )
    configs.setflags(write=False)
    maps.setflags(write=False)
    return configs, maps


@lru_cache(maxsize=1)
def _unique_maps() -> tuple[np.ndarray, np.ndarray, dict]:
    """Distinct part maps, the map index of each configuration, and a bytes -> index dict."""
    _, maps = enumerate_configs()
    uniq, inverse = np.unique(maps, axis=0, return_inverse=True)
    index = {row.tobytes(): i for i, row in enumerate(uniq)}
    return uniq, inverse.ravel(), index
