"""The lowest layer of the tree world: pixels from a part map, and the checks of the
tree world's inputs (part maps, images, probability tables, generators)."""

from __future__ import annotations

import numpy as np

from lvmkit.treeworld.render import HEIGHT, LEAF, SKY, WIDTH, WOOD

__all__ = ["image_log_likelihood"]


def _check_probs(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    p = np.asarray(value, dtype=np.float64)
    if p.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    if not np.allclose(p.sum(-1), 1.0, atol=1e-6):
        raise ValueError(
            f"{name} must sum to 1 along its last axis, got sums {p.sum(-1)}"
        )
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


def _check_pixel_on(pixel_on) -> np.ndarray:
    rho = np.asarray(pixel_on, dtype=np.float64)
    if rho.shape != (3,) or not np.all((rho > 0) & (rho < 1)):
        raise ValueError(
            f"pixel_on must be 3 probabilities strictly inside (0, 1), got {pixel_on}"
        )
    rho.setflags(write=False)
    return rho


def image_log_likelihood(
    images: np.ndarray, maps: np.ndarray, pixel_on: np.ndarray
) -> np.ndarray:
    r"""``log P(Im | l)`` for every image and map, shape ``(n_images, n_maps)``.

    .. math:: \log P(\mathrm{Im} \mid l) = \sum_p \mathrm{Im}_p \log\rho_{l_p}
              + (1 - \mathrm{Im}_p) \log(1 - \rho_{l_p}).
    """
    logit = np.log(pixel_on) - np.log1p(-pixel_on)
    weights = logit[maps]  # (n_maps, P)
    bias = np.log1p(-pixel_on)[maps].sum(1)
    return images @ weights.T + bias


def _sample_images(
    maps: np.ndarray, pixel_on: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    return (rng.random(maps.shape) < pixel_on[maps]).astype(np.float64)


def _check_n(n) -> int:
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    return int(n)
