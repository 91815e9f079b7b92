"""The tree world W itself: its probability tables, exact posteriors and marginals by
enumeration, sampling, and EM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from lvmkit import validation
from lvmkit.treeworld.pixels import (
    _check_images,
    _check_maps,
    _check_n,
    _check_pixel_on,
    _check_probs,
    _sample_images,
    image_log_likelihood,
)
from lvmkit.treeworld.render import (
    GRID,
    LEAF,
    SKY,
    SPECIES,
    WOOD,
    _unique_maps,
    enumerate_configs,
)

__all__ = ["TreeSample", "TreeWorld"]


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
            self,
            "species_probs",
            _check_probs("species_probs", self.species_probs, (3,)),
        )
        object.__setattr__(
            self, "trunk_probs", _check_probs("trunk_probs", self.trunk_probs, (3, 18))
        )
        object.__setattr__(
            self,
            "branch_probs",
            _check_probs("branch_probs", self.branch_probs, (3, 3, 4)),
        )
        object.__setattr__(
            self, "leaf_probs", _check_probs("leaf_probs", self.leaf_probs, (3, 3))
        )
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
            ls, lt = (
                np.log(self.species_probs),
                np.log(self.trunk_probs).reshape(3, 6, 3),
            )
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
        return (
            image_log_likelihood(images, maps, self.pixel_on) + self.log_config_probs()
        )

    def log_marginal(self, images) -> np.ndarray:
        r"""Exact ``log P(Im)`` by the nested sums of the hierarchy, shape ``(n,)``.

        Sums the leaves out first, then branches, trunk and species, as in
        :math:`\sum_s P(s) \sum_t P(t|s) \sum_b P(b|t) \sum_l P(l|b) P(\mathrm{Im}|l)`.
        """
        images = _check_images(images)
        _, maps = enumerate_configs()
        ll = image_log_likelihood(images, maps, self.pixel_on).reshape(
            len(images), *GRID
        )
        with np.errstate(divide="ignore"):
            lc = np.log(self.leaf_probs)
            lb, lt = (
                np.log(self.branch_probs),
                np.log(self.trunk_probs).reshape(3, 6, 3),
            )
            ls = np.log(self.species_probs)
        ll = logsumexp(ll + lc[None, :, None, None, None, None, None, :], axis=-1)
        ll = logsumexp(ll + lc[None, :, None, None, None, None, :], axis=-1)
        ll = logsumexp(
            ll + lc[None, :, None, None, None, :], axis=-1
        )  # sum over leaves
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
        rng = validation.as_numpy_generator("generator", generator)
        n = _check_n(n)
        s = (
            np.full(n, self._species(species))
            if species is not None
            else rng.choice(3, size=n, p=self.species_probs)
        )
        t = np.array([rng.choice(18, p=self.trunk_probs[k]) for k in s])
        xi, hi = t // 3, t % 3
        g = np.array(
            [
                rng.choice(4, p=self.branch_probs[k, h])
                for k, h in zip(s, hi, strict=True)
            ]
        )
        c = np.stack([rng.choice(3, size=3, p=self.leaf_probs[k]) for k in s])
        configs = np.column_stack([s, xi, hi, g, c])
        _, all_maps = enumerate_configs()
        maps = all_maps[np.ravel_multi_index(configs.T, GRID)]
        return TreeSample(configs, maps, _sample_images(maps, self.pixel_on, rng))

    def sample_images(self, maps, *, generator: np.random.Generator) -> np.ndarray:
        """Render part maps into binary images, shape ``(n, 256)``."""
        return _sample_images(
            _check_maps(maps),
            self.pixel_on,
            validation.as_numpy_generator("generator", generator),
        )

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
            raise ValueError(
                "every training map must be in the support of the tree world"
            )
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
