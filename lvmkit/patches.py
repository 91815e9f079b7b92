r"""Whitened natural-image patches from the photographs bundled with scikit-image.

Olshausen & Field (1997) trained their sparse code on patches of natural images that
had been filtered with

.. math::
    R(f) = f \, e^{-(f / f_0)^4},

a ramp that flattens (whitens) the ``1/f`` amplitude spectrum of natural images, times
a steep low-pass roll-off that suppresses the noise and aliasing near the Nyquist
frequency. They used ``f_0 = 200`` cycles per 512-pixel picture, i.e. 0.39 cycles per
pixel. The default here is lower, 0.2 cycles per pixel: the scikit-image photographs
carry compression and sensor noise near the Nyquist frequency, and with 0.39 the atoms
learned in :mod:`lvmkit.sparse_coding` were dominated by that noise in our runs.

Nothing is downloaded: the photographs ship inside scikit-image (``skimage.data``), and
the patches are regenerated deterministically from a seed (same seed, same patches).
:data:`IMAGES` lists the photographs; :func:`natural_patches` returns the patches.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = [
    "IMAGES",
    "PatchSet",
    "load_image",
    "natural_patches",
    "whiten_image",
    "zca_whiten",
]

#: scikit-image photographs used (natural scenes and textures; no drawings or text).
IMAGES = (
    "camera",
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "grass",
    "gravel",
    "brick",
)


class PatchSet(NamedTuple):
    """Patches and their provenance.

    Attributes:
        patches: Shape ``(n, size * size)``, float64, rows are flattened patches
            (row-major), overall pixel variance 1.
        size: Patch side in pixels.
        sources: Index into ``images`` of the photograph each patch came from, ``(n,)``.
        images: The scikit-image photograph names used.

    The patches are computed in floating point (colour conversion, FFT filtering), so
    their last bits depend on the library versions and the CPU's BLAS kernels (about
    5e-15 here); compare them with a tolerance (``probe``), never by their bytes.
    """

    patches: torch.Tensor
    size: int
    sources: np.ndarray
    images: tuple[str, ...]

    def probe(self, k: int = 16) -> np.ndarray:
        """``k`` patches spread evenly over the set (every photograph), ``(k, size**2)``:
        what a cache stores to recognise the same patches within a tolerance."""
        validation.check_int("k", k, 1)
        idx = np.linspace(0, len(self.patches) - 1, min(k, len(self.patches))).astype(
            int
        )
        return self.patches[idx].numpy()


def load_image(name: str) -> np.ndarray:
    """A scikit-image photograph as a float64 grey-level array in [0, 1]."""
    import skimage.data
    from skimage.color import rgb2gray

    if name not in IMAGES:
        raise ValueError(f"name must be one of {IMAGES}, got {name!r}")
    img = getattr(skimage.data, name)()
    if img.ndim == 3:
        img = rgb2gray(img[..., :3])
    else:
        img = img.astype(np.float64) / 255.0
    return np.asarray(img, dtype=np.float64)


def whiten_image(img: np.ndarray, f0: float = 0.2) -> np.ndarray:
    r"""Filter an image with ``R(f) = f exp(-(f/f_0)^4)`` (Olshausen & Field 1997).

    Args:
        img: 2-D grey-level image.
        f0: Roll-off frequency in cycles per pixel.

    Returns:
        The filtered image, zero mean and unit variance, same shape.
    """
    img = validation.as_float_array("img", img)
    if img.ndim != 2 or min(img.shape) < 16:
        raise ValueError(
            f"img must be a 2-D image of side >= 16, got shape {img.shape}"
        )
    if not f0 > 0:
        raise ValueError(f"f0 must be > 0, got {f0}")
    fy = np.fft.fftfreq(img.shape[0])[:, None]
    fx = np.fft.fftfreq(img.shape[1])[None, :]
    f = np.sqrt(fx**2 + fy**2)
    filt = f * np.exp(-((f / f0) ** 4))
    out = np.real(np.fft.ifft2(np.fft.fft2(img - img.mean()) * filt))
    return (out - out.mean()) / out.std()


def zca_whiten(patches: torch.Tensor, eps: float = 1e-2) -> torch.Tensor:
    r"""ZCA-whiten rows: ``X (C + eps I)^{-1/2}`` with ``C`` the pixel covariance.

    An alternative to the Fourier filter of :func:`whiten_image` (with
    ``eps`` relative to the mean eigenvalue to damp the highest, noisiest frequencies).
    """
    validation.check_positive("eps", eps)
    X = torch.as_tensor(patches, dtype=torch.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(
            f"patches must have shape (n, P) with n >= 2, got {tuple(X.shape)}"
        )
    X = X - X.mean(0)
    evals, evecs = torch.linalg.eigh(X.T @ X / len(X))
    w = evecs @ torch.diag((evals + eps * evals.mean()).rsqrt()) @ evecs.T
    return X @ w


def natural_patches(
    n: int,
    size: int = 12,
    *,
    seed: int = 0,
    border: int = 16,
    images: tuple[str, ...] = IMAGES,
    f0: float = 0.2,
) -> PatchSet:
    """Draw ``n`` whitened patches, equally many from each photograph.

    Each photograph is whitened as a whole with :func:`whiten_image` (so the periodic
    boundary of the FFT only touches a ``border`` we never sample), then patch corners
    are drawn uniformly by ``numpy.random.default_rng(seed)``. The patches are scaled so
    that the overall pixel variance is 1.

    Args:
        n: Number of patches (a multiple of ``len(images)`` is not required).
        size: Patch side in pixels.
        seed: Seed of the patch positions.
        border: Pixels excluded at each image edge.
        images: Photograph names, a subset of :data:`IMAGES`.
        f0: Roll-off frequency of the whitening filter.

    Returns:
        :class:`PatchSet`.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    if int(size) != size or size < 2:
        raise ValueError(f"size must be an integer >= 2, got {size}")
    unknown = [name for name in images if name not in IMAGES]
    if not images or unknown:
        raise ValueError(f"images must be a non-empty subset of {IMAGES}, got {images}")
    validation.check_int("border", border, 0)
    rng = np.random.default_rng(seed)
    sources = np.sort(np.arange(n) % len(images))
    out = np.empty((n, size * size))
    for k, name in enumerate(images):
        img = whiten_image(load_image(name), f0)
        idx = np.flatnonzero(sources == k)
        hi_r, hi_c = img.shape[0] - border - size, img.shape[1] - border - size
        rows = rng.integers(border, hi_r + 1, len(idx))
        cols = rng.integers(border, hi_c + 1, len(idx))
        for i, r, c in zip(idx, rows, cols, strict=True):
            out[i] = img[r : r + size, c : c + size].ravel()
    out /= out.std()
    return PatchSet(torch.from_numpy(out), int(size), sources, tuple(images))
