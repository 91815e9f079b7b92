r"""The tree world W: species -> trunk -> branches -> leaves -> image, exact by enumeration.

The series' running example {cite}`lange2019part1` made small enough that every
probability in it is exact. A picture of a tree is generated top down:

* species ``s`` in {willow, oak, pine} with probabilities ``species_probs``;
* trunk ``t = (x, h)``: its column ``x`` (6 values) and a height level ``h`` (3 values,
  species-specific heights), ``P(t | s) = trunk_probs[s]``;
* branches ``b = g``: one of 4 branch geometries (spans of the left and right limbs,
  or the spread of a pine's tiers), ``P(b | s, h) = branch_probs[s, h]``;
* leaves: three foliage slots (left, right, crown), each with an amount ``c`` in
  {0, 1, 2} drawn i.i.d. from ``leaf_probs[s]``. Trunk, branches and foliage render
  deterministically into the *part map* ``l`` in {sky, wood, leaf}^(16x16), the lowest
  latent layer;
* image: each pixel is on independently with probability ``pixel_on[l_p]``, so
  ``P(Im | l) = prod_p P(Im_p | l_p)`` depends on the lowest layer only.

There are ``3 * 18 * 4 * 27 = 5832`` configurations of the upper layers and leaves, so

.. math::
    P(\mathrm{Im}) = \sum_s P(s) \sum_t P(t|s) \sum_b P(b|s,t) \sum_c P(c|s)\,
    P(\mathrm{Im} \mid l(s,t,b,c))

is an exact finite sum, and so is the induced prior on the lowest layer
``P_fancy(l) = sum over configurations rendering to l``. The structure (which
configuration renders to which map) is fixed; the parameters are the conditional
probability tables, which :meth:`TreeWorld.fit` learns from part maps by EM.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

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
    "FlatFancyModel",
    "TextureModel",
    "TreeSample",
    "TreeWorld",
    "enumerate_configs",
    "largest_part_fraction",
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
    for name, v, n in (("s", s, 3), ("xi", xi, N_TRUNK_X), ("hi", hi, N_TRUNK_H),
                       ("g", g, N_BRANCH)):
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
        raise ValueError(f"config must have shape (7,): (s, xi, hi, g, c_left, c_right, c_crown),"
                         f" got shape {config.shape}")
    s, xi, hi, g, *c = (int(v) for v in config)
    full = render(s, xi, hi, g, tuple(c)).ravel()
    trunk = np.zeros_like(full).reshape(HEIGHT, WIDTH)
    trunk[HEIGHT - TRUNK_HEIGHTS[s][hi] :, TRUNK_X[xi]] = WOOD
    return np.stack([trunk.ravel(), np.where(full == WOOD, WOOD, SKY), full]).astype(np.uint8)


@lru_cache(maxsize=1)
def enumerate_configs() -> tuple[np.ndarray, np.ndarray]:
    """Every configuration of the upper layers and leaves, and its part map.

    Returns:
        ``(configs, maps)``: ``configs`` of shape ``(5832, 7)`` with columns
        ``(s, xi, hi, g, c_left, c_right, c_crown)`` in C order of ``GRID``, and
        ``maps`` of shape ``(5832, 256)`` (uint8, flattened part maps). Read-only.
    """
    configs = np.stack(np.meshgrid(*[np.arange(n) for n in GRID], indexing="ij"), -1).reshape(-1, 7)
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


class TreeSample(NamedTuple):
    """Samples of the tree world: every layer, one row per tree.

    Attributes:
        configs: ``(n, 7)`` integer configurations ``(s, xi, hi, g, c_left, c_right, c_crown)``.
        maps: ``(n, 256)`` part maps ``l`` (uint8, 0 sky, 1 wood, 2 leaf).
        images: ``(n, 256)`` binary images (float64 0/1).
    """

    configs: np.ndarray
    maps: np.ndarray
    images: np.ndarray


def _check_probs(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    p = np.asarray(value, dtype=np.float64)
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if not np.allclose(p.sum(-1), 1.0, atol=1e-6):
        raise ValueError(f"{name} must sum to 1 along its last axis, got sums {p.sum(-1)}")
    p = p / p.sum(-1, keepdims=True)
    p.setflags(write=False)
    return p


def _check_images(images, n_pixels: int = HEIGHT * WIDTH) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != n_pixels:
        raise ValueError(f"images must have shape (n, {n_pixels}), got {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("images must be binary (0/1)")
    return x


def _check_maps(maps) -> np.ndarray:
    m = np.asarray(maps)
    if m.ndim == 1:
        m = m[None]
    if m.ndim != 2 or m.shape[1] != HEIGHT * WIDTH:
        raise ValueError(f"maps must have shape (n, {HEIGHT * WIDTH}), got {m.shape}")
    if not np.all(np.isin(m, (SKY, WOOD, LEAF))):
        raise ValueError("maps must take values 0 (sky), 1 (wood), 2 (leaf)")
    return m.astype(np.uint8)


def _rng(generator) -> np.random.Generator:
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is None:
        raise ValueError("pass generator= (a numpy.random.Generator) for reproducible draws")
    raise ValueError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")


def _check_pixel_on(pixel_on) -> np.ndarray:
    rho = np.asarray(pixel_on, dtype=np.float64)
    if rho.shape != (3,) or not np.all((rho > 0) & (rho < 1)):
        raise ValueError(f"pixel_on must be 3 probabilities strictly inside (0, 1), got {pixel_on}")
    rho.setflags(write=False)
    return rho


def image_log_likelihood(images: np.ndarray, maps: np.ndarray, pixel_on: np.ndarray) -> np.ndarray:
    r"""``log P(Im | l)`` for every image and map, shape ``(n_images, n_maps)``.

    .. math:: \log P(\mathrm{Im} \mid l) = \sum_p \mathrm{Im}_p \log\rho_{l_p}
              + (1 - \mathrm{Im}_p) \log(1 - \rho_{l_p}).
    """
    logit = np.log(pixel_on) - np.log1p(-pixel_on)
    weights = logit[maps]  # (n_maps, P)
    bias = np.log1p(-pixel_on)[maps].sum(1)
    return images @ weights.T + bias


def _sample_images(maps: np.ndarray, pixel_on: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(maps.shape) < pixel_on[maps]).astype(np.float64)


@dataclass(frozen=True)
class TreeWorld:
    """The tree world W with its conditional probability tables.

    Args:
        species_probs: ``P(s)``, shape ``(3,)``.
        trunk_probs: ``P(t | s)`` over ``(xi, hi)`` flattened, shape ``(3, 18)``.
        branch_probs: ``P(b | s, h)``, shape ``(3, 3, 4)``.
        leaf_probs: ``P(c | s)`` for each of the three foliage slots, shape ``(3, 3)``.
        pixel_on: ``P(Im_p = 1 | l_p)`` for sky, wood, leaf, each in (0, 1).

    Raises:
        ValueError: On a wrong shape, a negative or non-finite entry, a table that does
            not sum to one, or a pixel probability outside (0, 1).
    """

    species_probs: np.ndarray
    trunk_probs: np.ndarray
    branch_probs: np.ndarray
    leaf_probs: np.ndarray
    pixel_on: np.ndarray = (0.04, 0.95, 0.8)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "species_probs", _check_probs("species_probs", self.species_probs, (3,))
        )
        object.__setattr__(
            self, "trunk_probs", _check_probs("trunk_probs", self.trunk_probs, (3, 18))
        )
        object.__setattr__(
            self, "branch_probs", _check_probs("branch_probs", self.branch_probs, (3, 3, 4))
        )
        object.__setattr__(self, "leaf_probs", _check_probs("leaf_probs", self.leaf_probs, (3, 3)))
        object.__setattr__(self, "pixel_on", _check_pixel_on(self.pixel_on))

    @classmethod
    def default(cls) -> TreeWorld:
        """The book's world: trunks near the middle, species-specific branches and foliage."""
        x_pref = np.array([0.08, 0.17, 0.25, 0.25, 0.17, 0.08])
        h_pref = np.array([[0.25, 0.5, 0.25], [0.3, 0.4, 0.3], [0.2, 0.4, 0.4]])
        trunk = (x_pref[None, :, None] * h_pref[:, None, :]).reshape(3, 18)
        branch = np.array(
            [
                [[0.4, 0.1, 0.25, 0.25], [0.2, 0.4, 0.2, 0.2], [0.1, 0.6, 0.15, 0.15]],
                [[0.5, 0.1, 0.2, 0.2], [0.3, 0.3, 0.2, 0.2], [0.1, 0.5, 0.2, 0.2]],
                [[0.5, 0.2, 0.2, 0.1], [0.3, 0.3, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4]],
            ]
        )
        leaf = np.array([[0.2, 0.35, 0.45], [0.15, 0.35, 0.5], [0.3, 0.4, 0.3]])
        return cls(np.array([0.4, 0.35, 0.25]), trunk, branch, leaf)

    # ---- the joint over configurations -------------------------------------------------
    def log_config_probs(self) -> np.ndarray:
        """``log P(s, t, b, c)`` of every configuration, shape ``(5832,)`` (C order of GRID)."""
        with np.errstate(divide="ignore"):
            ls, lt = np.log(self.species_probs), np.log(self.trunk_probs).reshape(3, 6, 3)
            lb, lc = np.log(self.branch_probs), np.log(self.leaf_probs)
        out = (
            ls[:, None, None, None, None, None, None]
            + lt[:, :, :, None, None, None, None]
            + lb[:, None, :, :, None, None, None]
            + lc[:, None, None, None, :, None, None]
            + lc[:, None, None, None, None, :, None]
            + lc[:, None, None, None, None, None, :]
        )
        return out.reshape(-1)

    @property
    def n_parameters(self) -> int:
        """Free parameters of the tables: 2 + 3*17 + 9*3 + 3*2 = 86."""
        return 2 + 3 * 17 + 9 * 3 + 3 * 2

    # ---- the lowest layer ---------------------------------------------------------------
    def leaf_table(self, species: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The fancy prior ``P_fancy(l)`` as an explicit table over its support.

        Args:
            species: If given, the table of ``P_fancy(l | s = species)``.

        Returns:
            ``(maps, log_probs)``: the distinct part maps with non-zero probability, shape
            ``(n_l, 256)``, and their log probabilities, shape ``(n_l,)``.
        """
        uniq, inverse, _ = _unique_maps()
        logp = self.log_config_probs()
        if species is not None:
            configs, _ = enumerate_configs()
            logp = np.where(configs[:, 0] == self._species(species), logp, -np.inf)
            logp = logp - logsumexp(logp)
        table = np.full(len(uniq), -np.inf)
        for j in np.unique(inverse[np.isfinite(logp)]):
            table[j] = logsumexp(logp[inverse == j])
        keep = np.isfinite(table)
        return uniq[keep], table[keep]

    def log_prob_leaves(self, maps) -> np.ndarray:
        """``log P_fancy(l)`` for part maps of shape ``(n, 256)``; ``-inf`` outside the support."""
        maps = _check_maps(maps)
        _, inverse, index = _unique_maps()
        logp = self.log_config_probs()
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(index) + 1))
        out = np.full(len(maps), -np.inf)
        for i, row in enumerate(maps):
            j = index.get(row.tobytes())
            if j is not None:
                out[i] = logsumexp(logp[order[bounds[j] : bounds[j + 1]]])
        return out

    def leaf_marginals(self, species: int | None = None) -> np.ndarray:
        """Exact per-location marginals ``P(l_p = k)``, shape ``(256, 3)``."""
        maps, logp = self.leaf_table(species)
        w = np.exp(logp)
        return np.stack([w @ (maps == k) for k in (SKY, WOOD, LEAF)], -1)

    # ---- images -------------------------------------------------------------------------
    def log_joint_images(self, images) -> np.ndarray:
        """``log P(s, t, b, c, Im)`` for every image and configuration, shape ``(n, 5832)``."""
        images = _check_images(images)
        _, maps = enumerate_configs()
        return image_log_likelihood(images, maps, self.pixel_on) + self.log_config_probs()

    def log_marginal(self, images) -> np.ndarray:
        r"""Exact ``log P(Im)`` by the nested sums of the hierarchy, shape ``(n,)``.

        Sums the leaves out first, then branches, trunk and species, as in
        :math:`\sum_s P(s) \sum_t P(t|s) \sum_b P(b|t) \sum_l P(l|b) P(\mathrm{Im}|l)`.
        """
        images = _check_images(images)
        _, maps = enumerate_configs()
        ll = image_log_likelihood(images, maps, self.pixel_on).reshape(len(images), *GRID)
        with np.errstate(divide="ignore"):
            lc = np.log(self.leaf_probs)
            lb, lt = np.log(self.branch_probs), np.log(self.trunk_probs).reshape(3, 6, 3)
            ls = np.log(self.species_probs)
        ll = logsumexp(ll + lc[None, :, None, None, None, None, None, :], axis=-1)
        ll = logsumexp(ll + lc[None, :, None, None, None, None, :], axis=-1)
        ll = logsumexp(ll + lc[None, :, None, None, None, :], axis=-1)  # sum over leaves
        ll = logsumexp(ll + lb[None, :, None, :, :], axis=-1)  # over branches
        ll = logsumexp(ll + lt[None], axis=(-2, -1))  # over trunks
        return logsumexp(ll + ls[None], axis=-1)  # over species

    def posterior(self, images) -> dict[str, np.ndarray]:
        """Exact posterior marginals of species, trunk column, height and branches.

        Returns:
            Dict with ``species (n, 3)``, ``trunk_x (n, 6)``, ``trunk_h (n, 3)``,
            ``branches (n, 4)``: each row a distribution.
        """
        lj = self.log_joint_images(images)
        post = np.exp(lj - logsumexp(lj, axis=1, keepdims=True)).reshape(len(lj), *GRID)
        return {
            "species": post.sum((2, 3, 4, 5, 6, 7)),
            "trunk_x": post.sum((1, 3, 4, 5, 6, 7)),
            "trunk_h": post.sum((1, 2, 4, 5, 6, 7)),
            "branches": post.sum((1, 2, 3, 5, 6, 7)),
        }

    def sample(
        self, n: int, *, generator: np.random.Generator, species: int | None = None
    ) -> TreeSample:
        """Ancestral sampling: species, trunk, branches, foliage, part map, image.

        Args:
            n: Number of trees.
            generator: A ``numpy.random.Generator``.
            species: Fix the species (index or name) instead of drawing it.
        """
        rng = _rng(generator)
        n = _check_n(n)
        s = (
            np.full(n, self._species(species))
            if species is not None
            else rng.choice(3, size=n, p=self.species_probs)
        )
        t = np.array([rng.choice(18, p=self.trunk_probs[k]) for k in s])
        xi, hi = t // 3, t % 3
        g = np.array([rng.choice(4, p=self.branch_probs[k, h]) for k, h in zip(s, hi, strict=True)])
        c = np.stack([rng.choice(3, size=3, p=self.leaf_probs[k]) for k in s])
        configs = np.column_stack([s, xi, hi, g, c])
        _, all_maps = enumerate_configs()
        maps = all_maps[np.ravel_multi_index(configs.T, GRID)]
        return TreeSample(configs, maps, _sample_images(maps, self.pixel_on, rng))

    def sample_images(self, maps, *, generator: np.random.Generator) -> np.ndarray:
        """Render part maps into binary images, shape ``(n, 256)``."""
        return _sample_images(_check_maps(maps), self.pixel_on, _rng(generator))

    # ---- learning -----------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        maps,
        *,
        pseudo_count: float = 0.1,
        n_iter: int = 100,
        tol: float = 1e-8,
        pixel_on=(0.04, 0.95, 0.8),
    ) -> TreeWorld:
        """Learn the tables from part maps by EM (the upper layers are latent).

        E-step: the posterior over the configurations that render to each map; M-step:
        normalised expected counts plus ``pseudo_count`` per table entry (MAP under a
        symmetric Dirichlet). Where a map has one configuration, EM is counting.

        Args:
            maps: Training part maps, shape ``(n, 256)``; each must be in the support.
            pseudo_count: Dirichlet pseudo-count, > 0 so that unseen values keep mass.
            n_iter: Maximum EM iterations.
            tol: Stop when no table entry moves by more than ``tol``.
            pixel_on: Rendering probabilities of the returned world.
        """
        maps = _check_maps(maps)
        if not pseudo_count > 0:
            raise ValueError(f"pseudo_count must be > 0, got {pseudo_count}")
        _, inverse, index = _unique_maps()
        ids = np.array([index.get(row.tobytes(), -1) for row in maps])
        if np.any(ids < 0):
            raise ValueError("every training map must be in the support of the tree world")
        obs_count = np.bincount(ids, minlength=len(index)).astype(np.float64)
        flat = lambda k: np.full(k, 1.0 / k)  # noqa: E731
        world = cls(
            flat(3),
            np.tile(flat(18), (3, 1)),
            np.tile(flat(4), (3, 3, 1)),
            np.tile(flat(3), (3, 1)),
            pixel_on,
        )
        for _ in range(n_iter):
            logp = world.log_config_probs()
            norm = np.full(len(index), -np.inf)
            np.logaddexp.at(norm, inverse, logp)
            counts = (obs_count[inverse] * np.exp(logp - norm[inverse])).reshape(GRID)
            a = pseudo_count
            sp = counts.sum((1, 2, 3, 4, 5, 6)) + a
            tr = counts.sum((3, 4, 5, 6)).reshape(3, 18) + a
            br = counts.sum((1, 4, 5, 6)) + a
            lf = (
                counts.sum((1, 2, 3, 5, 6))
                + counts.sum((1, 2, 3, 4, 6))
                + counts.sum((1, 2, 3, 4, 5))
                + a
            )
            new = cls(
                sp / sp.sum(),
                tr / tr.sum(-1, keepdims=True),
                br / br.sum(-1, keepdims=True),
                lf / lf.sum(-1, keepdims=True),
                pixel_on,
            )
            delta = max(
                np.abs(getattr(new, f) - getattr(world, f)).max()
                for f in ("species_probs", "trunk_probs", "branch_probs", "leaf_probs")
            )
            world = new
            if delta < tol:
                break
        return world

    @staticmethod
    def _species(species) -> int:
        if isinstance(species, str):
            if species not in SPECIES:
                raise ValueError(f"species must be one of {SPECIES}, got {species!r}")
            return SPECIES.index(species)
        if int(species) not in (0, 1, 2):
            raise ValueError(f"species index must be 0, 1 or 2, got {species}")
        return int(species)


def _check_n(n) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    return int(n)


@dataclass(frozen=True)
class FlatFancyModel:
    """A flat model: a table ``P_fancy(l)`` over part maps, then ``P(Im | l)``; no upper layers.

    Args:
        maps: Distinct part maps, shape ``(n_l, 256)``.
        log_probs: Their log probabilities, shape ``(n_l,)``, summing to one.
        pixel_on: Rendering probabilities for sky, wood, leaf.
    """

    maps: np.ndarray
    log_probs: np.ndarray
    pixel_on: np.ndarray = (0.04, 0.95, 0.8)

    def __post_init__(self) -> None:
        maps = _check_maps(self.maps)
        logp = np.asarray(self.log_probs, dtype=np.float64)
        if logp.shape != (len(maps),) or np.any(np.isnan(logp)):
            raise ValueError(f"log_probs must have shape ({len(maps)},) without NaN")
        if abs(logsumexp(logp)) > 1e-6:
            raise ValueError("log_probs must be normalised (logsumexp = 0)")
        object.__setattr__(self, "maps", maps)
        object.__setattr__(self, "log_probs", logp)
        object.__setattr__(self, "pixel_on", _check_pixel_on(self.pixel_on))

    @classmethod
    def from_world(cls, world: TreeWorld, species: int | None = None) -> FlatFancyModel:
        """Sum the upper layers of ``world`` out into a table (optionally for one species)."""
        maps, logp = world.leaf_table(species)
        return cls(maps, logp, world.pixel_on)

    @property
    def n_parameters(self) -> int:
        """Free parameters of the table: one per map in the support, minus one."""
        return len(self.maps) - 1

    def log_marginal(self, images) -> np.ndarray:
        """``log P(Im) = log sum_l P_fancy(l) P(Im | l)``, shape ``(n,)``."""
        images = _check_images(images)
        return logsumexp(
            image_log_likelihood(images, self.maps, self.pixel_on) + self.log_probs, axis=1
        )

    def sample(self, n: int, *, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(maps, images)`` of shapes ``(n, 256)`` each."""
        rng = _rng(generator)
        idx = rng.choice(
            len(self.maps), size=_check_n(n), p=np.exp(self.log_probs - logsumexp(self.log_probs))
        )
        maps = self.maps[idx]
        return maps, _sample_images(maps, self.pixel_on, rng)


@dataclass(frozen=True)
class TextureModel:
    """Leaves without structure: each location's part drawn independently.

    ``P(l) = prod_p P(l_p)``, with the per-location marginals of a tree world, so the
    low-level statistics (how often each pixel is wood or leaf) match and all
    dependencies between locations are gone.

    Args:
        marginals: ``P(l_p = k)``, shape ``(256, 3)``, rows summing to one.
        pixel_on: Rendering probabilities for sky, wood, leaf.
    """

    marginals: np.ndarray
    pixel_on: np.ndarray = (0.04, 0.95, 0.8)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "marginals", _check_probs("marginals", self.marginals, (HEIGHT * WIDTH, 3))
        )
        object.__setattr__(self, "pixel_on", _check_pixel_on(self.pixel_on))

    @classmethod
    def from_world(cls, world: TreeWorld, species: int | None = None) -> TextureModel:
        """Match the exact per-location marginals of ``world`` (optionally of one species)."""
        return cls(world.leaf_marginals(species), world.pixel_on)

    @classmethod
    def fit(cls, maps, *, pseudo_count: float = 0.1, pixel_on=(0.04, 0.95, 0.8)) -> TextureModel:
        """Per-location frequencies of part maps ``(n, 256)`` plus ``pseudo_count``."""
        maps = _check_maps(maps)
        counts = np.stack([(maps == k).sum(0) for k in (SKY, WOOD, LEAF)], -1) + pseudo_count
        return cls(counts / counts.sum(-1, keepdims=True), pixel_on)

    def log_prob_leaves(self, maps) -> np.ndarray:
        """``log prod_p P(l_p)``, shape ``(n,)``."""
        maps = _check_maps(maps)
        with np.errstate(divide="ignore"):
            logm = np.log(self.marginals)
        return logm[np.arange(HEIGHT * WIDTH), maps].sum(1)

    def log_marginal(self, images) -> np.ndarray:
        """``log P(Im) = sum_p log sum_k P(l_p = k) P(Im_p | k)``: exact, it factorises."""
        images = _check_images(images)
        on = self.marginals @ self.pixel_on  # P(Im_p = 1)
        return images @ np.log(on) + (1 - images) @ np.log1p(-on)

    def sample(self, n: int, *, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(maps, images)`` of shapes ``(n, 256)`` each."""
        rng = _rng(generator)
        u = rng.random((_check_n(n), HEIGHT * WIDTH, 1))
        maps = (u > np.cumsum(self.marginals, -1)[None, :, :2]).sum(-1).astype(np.uint8)
        return maps, _sample_images(maps, self.pixel_on, rng)


def largest_part_fraction(maps) -> np.ndarray:
    """Share of a tree's non-sky cells in its largest 8-connected piece, shape ``(n,)``.

    A real tree is one piece (every leaf hangs on a branch, every branch on the trunk),
    so the statistic is 1; leaves scattered independently break into many pieces.
    """
    from scipy.ndimage import label

    maps = _check_maps(maps).reshape(-1, HEIGHT, WIDTH)
    out = np.ones(len(maps))
    for i, m in enumerate(maps):
        lab, k = label(m > 0, structure=np.ones((3, 3)))
        if k > 1:
            sizes = np.bincount(lab.ravel())[1:]
            out[i] = sizes.max() / sizes.sum()
        elif k == 0:
            out[i] = 0.0
    return out
