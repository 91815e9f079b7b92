r"""Exact posteriors of two-latent models on a grid.

With two latents, a posterior can be computed exactly (up to the grid's resolution) by
evaluating ``log r(x) + log p(I | x)`` on a fine grid and normalising. Intuitions 4 and
5 use this to measure how complicated posteriors are, without any sampler in the way:

* :class:`Grid2D`: the grid, its points and cell area;
* :func:`posterior_masses`: posterior cell masses for a batch of observations;
* :func:`kl_masses`: KL between two distributions given as cell masses;
* :func:`gaussian_fit_kl`: KL from a distribution to its moment-matched Gaussian (0 for
  a Gaussian; a measure of non-Gaussianity, hence of "complexity");
* :func:`count_modes`: number of local maxima above a relative height;
* :func:`ring_log_density`, :func:`sparse_log_density`: the two priors of the chapter.

Distributions on the grid are arrays of cell masses ``(..., n, n)`` that sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.special import gammaln, logsumexp

from lvmkit import validation

__all__ = [
    "Grid2D",
    "count_modes",
    "gaussian_fit_kl",
    "kl_masses",
    "posterior_masses",
    "ring_log_density",
    "sparse_log_density",
]


@dataclass(frozen=True)
class Grid2D:
    """A square ``n x n`` grid of cell centres on ``center + [lo, hi]^2``.

    Args:
        lo, hi: Range of both coordinates (relative to ``center``).
        n: Points per axis.
        center: Offset of the grid, ``(c1, c2)``; a local grid for a narrow posterior.
    """

    lo: float = -4.0
    hi: float = 4.0
    n: int = 201
    center: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lo) and np.isfinite(self.hi) and self.hi > self.lo):
            raise ValueError(f"need finite lo < hi, got {self.lo}, {self.hi}")
        if int(self.n) != self.n or self.n < 3:
            raise ValueError(f"n must be an integer >= 3, got {self.n}")

    @property
    def axis(self) -> np.ndarray:
        """Coordinates along one axis relative to the centre, shape ``(n,)``."""
        return np.linspace(self.lo, self.hi, self.n)

    @property
    def x1(self) -> np.ndarray:
        """Coordinates of the first latent (image columns), shape ``(n,)``."""
        return self.axis + self.center[0]

    @property
    def x2(self) -> np.ndarray:
        """Coordinates of the second latent (image rows), shape ``(n,)``."""
        return self.axis + self.center[1]

    @property
    def extent(self) -> list[float]:
        """``[x1_min, x1_max, x2_min, x2_max]`` for ``imshow``."""
        return [self.x1[0], self.x1[-1], self.x2[0], self.x2[-1]]

    @property
    def points(self) -> np.ndarray:
        """All points, shape ``(n * n, 2)``; row-major: x1 varies along columns."""
        x1, x2 = np.meshgrid(self.x1, self.x2, indexing="xy")
        return np.stack([x1.ravel(), x2.ravel()], 1)

    @property
    def cell_area(self) -> float:
        step = (self.hi - self.lo) / (self.n - 1)
        return step * step

    def normalise(self, log_density: np.ndarray) -> np.ndarray:
        """Cell masses from log densities on the points, shape ``(..., n, n)``."""
        ld = np.asarray(log_density, dtype=float).reshape(
            *np.shape(log_density)[:-1], -1
        )
        m = np.exp(ld - logsumexp(ld, axis=-1, keepdims=True))
        return m.reshape(*m.shape[:-1], self.n, self.n)


def posterior_masses(
    grid: Grid2D,
    log_prior: np.ndarray,
    images: np.ndarray,
    A: np.ndarray,
    noise_std: float,
) -> np.ndarray:
    r"""Exact posteriors ``q(x | I_m) ∝ r(x) N(I_m; A x, sigma^2 I)`` on the grid.

    Args:
        grid: The grid of ``x`` (two latents).
        log_prior: ``log r`` at ``grid.points``, shape ``(n * n,)``.
        images: Observations, shape ``(M, P)``.
        A: Shape ``(P, 2)``.
        noise_std: ``sigma > 0``.

    Returns:
        Cell masses, shape ``(M, n, n)``.
    """
    images = np.atleast_2d(validation.as_float_array("images", images, ndim=(1, 2)))
    A = validation.as_float_array("A", A, ndim=2)
    log_prior = np.asarray(log_prior, dtype=float)
    if log_prior.shape != (grid.n * grid.n,) or np.isnan(log_prior).any():
        raise ValueError(
            f"log_prior must have shape ({grid.n * grid.n},) without NaN, got "
            f"shape {log_prior.shape}"
        )
    if A.ndim != 2 or A.shape[1] != 2 or images.shape[1] != A.shape[0]:
        raise ValueError(
            f"need A (P, 2) and images (M, P); got {A.shape}, {images.shape}"
        )
    if not noise_std > 0:
        raise ValueError(f"noise_std must be > 0, got {noise_std}")
    pred = grid.points @ A.T  # (G, P)
    d2 = ((images[:, None, :] - pred[None]) ** 2).sum(-1)
    return grid.normalise(np.asarray(log_prior)[None] - 0.5 * d2 / noise_std**2)


def kl_masses(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) in nats between cell masses over the last two axes (0 log 0 = 0)."""
    p = validation.as_float_array("p", p, ndim=range(2, 8))
    q = validation.as_float_array("q", q, ndim=range(2, 8))
    if p.shape != q.shape:
        raise ValueError(f"q must have the shape of p {p.shape}, got {q.shape}")
    for name, m in (("p", p), ("q", q)):
        if (m < 0).any() or (m > 1 + 1e-9).any():
            raise ValueError(
                f"{name} must be cell masses (probabilities in [0, 1]), got range "
                f"[{m.min():.3g}, {m.max():.3g}]"
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return t.sum(axis=(-2, -1))


def gaussian_fit_kl(grid: Grid2D, masses: np.ndarray) -> np.ndarray:
    """KL(p || N(mean_p, cov_p)) on the grid: 0 for a Gaussian, larger when p is not.

    Args:
        grid: The grid.
        masses: Shape ``(..., n, n)``.

    Returns:
        Shape ``(...)``.
    """
    p = validation.as_float_array("masses", masses, shape=(..., grid.n, grid.n))
    flat = p.reshape(*p.shape[:-2], -1)
    pts = grid.points
    mean = flat @ pts
    d = pts[None] - mean.reshape(-1, 1, 2)
    w = flat.reshape(-1, flat.shape[-1])
    cov = np.einsum("bg,bgi,bgj->bij", w, d, d) + 1e-4 * grid.cell_area * np.eye(2)
    icov = np.linalg.inv(cov)
    log_g = -0.5 * np.einsum("bgi,bij,bgj->bg", d, icov, d)
    g = grid.normalise(log_g).reshape(*p.shape)
    return kl_masses(p, g)


def count_modes(masses: np.ndarray, rel_height: float = 0.05) -> int:
    """Number of local maxima (8-neighbourhood plateaus) above ``rel_height * max``."""
    p = validation.as_float_array("masses", masses)
    if p.ndim != 2:
        raise ValueError(f"masses must be 2-D, got shape {p.shape}")
    validation.check_probability("rel_height", rel_height)
    peak = p == ndimage.maximum_filter(p, size=3, mode="constant", cval=-np.inf)
    peak &= p >= rel_height * p.max()
    return int(ndimage.label(peak, structure=np.ones((3, 3)))[1])


def ring_log_density(
    points: np.ndarray,
    radius: float = 2.5,
    width: float = 0.35,
    n_bumps: int = 3,
    bump: float = 1.5,
) -> np.ndarray:
    """Unnormalised log density of a ring with ``n_bumps`` denser arcs.

    ``-(|x| - radius)^2 / (2 width^2) + bump * cos(n_bumps * angle)``: a curved, non-convex,
    multi-modal prior that no Gaussian resembles.
    """
    x = validation.as_float_array("points", points, shape=("n", 2))
    validation.check_positive("radius", radius)
    validation.check_positive("width", width)
    validation.check_int("n_bumps", n_bumps, 0)
    r = np.hypot(x[:, 0], x[:, 1])
    ang = np.arctan2(x[:, 1], x[:, 0])
    return -0.5 * ((r - radius) / width) ** 2 + bump * np.cos(n_bumps * ang)


def sparse_log_density(
    points: np.ndarray, alpha: float, scale: float = 1.0
) -> np.ndarray:
    """Normalised log density of two i.i.d. generalised Gaussians (shape ``alpha``)."""
    if not alpha > 0 or not scale > 0:
        raise ValueError(f"alpha and scale must be > 0, got {alpha}, {scale}")
    x = validation.as_float_array("points", points, shape=(..., 2))
    lognorm = np.log(alpha) - np.log(2 * scale) - gammaln(1 / alpha)
    return 2 * lognorm - (np.abs(x / scale) ** alpha).sum(-1)
