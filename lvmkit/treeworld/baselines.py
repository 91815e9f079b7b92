"""The tree world's rivals: a flat model with the fancy prior's marginal over part maps,
a texture model of independent pixels, and the fraction of a map in its largest part."""

from __future__ import annotations

from dataclasses import dataclass

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
from lvmkit.treeworld.render import HEIGHT, LEAF, SKY, WIDTH, WOOD
from lvmkit.treeworld.world import TreeWorld

__all__ = ["FlatFancyModel", "TextureModel", "largest_part_fraction"]


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
            image_log_likelihood(images, self.maps, self.pixel_on) + self.log_probs,
            axis=1,
        )

    def sample(
        self, n: int, *, generator: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(maps, images)`` of shapes ``(n, 256)`` each."""
        rng = validation.as_numpy_generator("generator", generator)
        idx = rng.choice(
            len(self.maps),
            size=_check_n(n),
            p=np.exp(self.log_probs - logsumexp(self.log_probs)),
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
            self,
            "marginals",
            _check_probs("marginals", self.marginals, (HEIGHT * WIDTH, 3)),
        )
        object.__setattr__(self, "pixel_on", _check_pixel_on(self.pixel_on))

    @classmethod
    def from_world(cls, world: TreeWorld, species: int | None = None) -> TextureModel:
        """Match the exact per-location marginals of ``world`` (optionally of one species)."""
        return cls(world.leaf_marginals(species), world.pixel_on)

    @classmethod
    def fit(
        cls, maps, *, pseudo_count: float = 0.1, pixel_on=(0.04, 0.95, 0.8)
    ) -> TextureModel:
        """Per-location frequencies of part maps ``(n, 256)`` plus ``pseudo_count``."""
        maps = _check_maps(maps)
        counts = (
            np.stack([(maps == k).sum(0) for k in (SKY, WOOD, LEAF)], -1) + pseudo_count
        )
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

    def sample(
        self, n: int, *, generator: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(maps, images)`` of shapes ``(n, 256)`` each."""
        rng = validation.as_numpy_generator("generator", generator)
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
