"""Small image data sets for part 3: one real, one synthetic with known factors.

Both stand in for the post's unlabelled "cats and dogs": two (or ten) categories of
images that a latent variable model is trained on *without* labels. The labels (and,
for the synthetic set, every generative factor) are returned only so that a
representation can be scored afterwards.

* :func:`load_digits_binary`: scikit-learn's bundled 8 x 8 handwritten digits
  (1797 images, shipped with the package, nothing downloaded), scaled to [0, 1] and
  binarised at 0.5, with a fixed stratified train/test split.
* :func:`make_shapes`: ``size x size`` binary images of a square or a plus sign
  ("category"), drawn at a random position and scale. The rendering
  :func:`render_shapes` is differentiable, so the same process serves as the
  rigid, domain-specific decoder of the last chapter of part 3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = [
    "SHAPE_FACTORS",
    "ImageSplit",
    "Shapes",
    "load_digits_binary",
    "load_shapes_split",
    "make_shapes",
    "render_shapes",
]

#: Names of the columns of :attr:`Shapes.factors`.
SHAPE_FACTORS = ("category", "x", "y", "scale")


class ImageSplit(NamedTuple):
    """A train/test split of flattened images with labels kept aside for evaluation.

    Attributes:
        x_train: Images, shape ``(n_train, P)``, float32 in [0, 1].
        y_train: Labels, shape ``(n_train,)``, int64 (never used in training).
        x_test: Images, shape ``(n_test, P)``.
        y_test: Labels, shape ``(n_test,)``.
        shape: Image shape ``(H, W)``.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    shape: tuple[int, int]


def load_digits_binary(
    *, binarize: bool = True, test_size: float = 0.3, seed: int = 0
) -> ImageSplit:
    """scikit-learn's 8 x 8 digits, flattened to 64 pixels, with a fixed split.

    Pixel values 0..16 are divided by 16; with ``binarize`` they are thresholded at
    0.5, so that a factorised Bernoulli likelihood is an exact density.

    Args:
        binarize: Threshold at 0.5 (default) or keep grey values in [0, 1].
        test_size: Fraction of the 1797 images held out, in (0, 1).
        seed: Seed of the stratified split (the split is fixed for a given seed).

    Returns:
        An :class:`ImageSplit` (1257 train and 540 test images for the defaults).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    digits = load_digits()
    x = digits.data.astype(np.float32) / 16.0
    if binarize:
        x = (x > 0.5).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, digits.target, test_size=test_size, random_state=seed, stratify=digits.target
    )
    return ImageSplit(
        torch.from_numpy(x_tr),
        torch.from_numpy(y_tr).long(),
        torch.from_numpy(x_te),
        torch.from_numpy(y_te).long(),
        (8, 8),
    )


def render_shapes(
    category: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    scale: torch.Tensor,
    *,
    size: int = 12,
    sharpness: float | torch.Tensor = 5.0,
    noise: float = 0.01,
) -> torch.Tensor:
    r"""Pixel-on probabilities of a square / plus image, differentiable in every factor.

    With pixel centres :math:`(u, v)` and offsets :math:`a = |u - x|`, :math:`b = |v - y|`,
    a soft indicator :math:`\mathrm{in}(t, h) = \sigma(k (h - t))` gives

    .. math::
        \mathrm{square} = \mathrm{in}(a, s)\,\mathrm{in}(b, s),

        \mathrm{plus} = 1 - (1 - \mathrm{in}(a, s)\,\mathrm{in}(b, s/3))
                            (1 - \mathrm{in}(a, s/3)\,\mathrm{in}(b, s)),

    mixed as :math:`c\,\mathrm{plus} + (1 - c)\,\mathrm{square}` and squeezed into
    ``[noise, 1 - noise]`` (pixel flips keep every image possible).

    Args:
        category: Probability of "plus", shape ``(...)`` in [0, 1] (0 or 1 for data).
        x, y: Centre in pixel units (0 = first pixel centre), shape ``(...)``.
        scale: Half-width ``s`` in pixels, shape ``(...)``, > 0.
        size: Image side length.
        sharpness: Edge sharpness ``k`` (per pixel); a tensor keeps it learnable.
        noise: Flip probability, in [0, 0.5).

    Returns:
        Probabilities of shape ``(..., size * size)`` (row-major).
    """
    if not 0 <= noise < 0.5:
        raise ValueError(f"noise must be in [0, 0.5), got {noise}")
    _check_factors(category, x, y, scale)
    grid = torch.arange(size, dtype=x.dtype, device=x.device)
    a = (grid - x[..., None]).abs()[..., None, :]  # (..., 1, W): column offsets
    b = (grid - y[..., None]).abs()[..., :, None]  # (..., H, 1): row offsets
    s = scale[..., None, None]

    def inside(t, h):
        return torch.sigmoid(sharpness * (h - t))

    square = inside(a, s) * inside(b, s)
    plus = 1 - (1 - inside(a, s) * inside(b, s / 3)) * (
        1 - inside(a, s / 3) * inside(b, s)
    )
    c = category[..., None, None]
    img = c * plus + (1 - c) * square
    img = noise + (1 - 2 * noise) * img
    return img.reshape(*img.shape[:-2], size * size)


def _check_factors(category, x, y, scale) -> None:
    factors = {"category": category, "x": x, "y": y, "scale": scale}
    for name, t in factors.items():
        validation.as_float_tensor(name, t)
        if t.shape != x.shape:
            raise ValueError(
                f"{name} must have the shape of x {tuple(x.shape)}, got "
                f"{tuple(t.shape)}"
            )
    validation.check_same_device(**factors)
    if bool(((category < 0) | (category > 1)).any()):
        raise ValueError("category must be probabilities in [0, 1]")
    if not bool((scale > 0).all()):
        raise ValueError("scale must be > 0")


class Shapes(NamedTuple):
    """Synthetic two-category images with their generative factors.

    Attributes:
        images: Binary images, shape ``(n, size * size)``, float32.
        factors: Shape ``(n, 4)``, columns :data:`SHAPE_FACTORS` (category 0 = square,
            1 = plus; x, y in pixels; scale = half-width in pixels).
        shape: Image shape ``(size, size)``.
    """

    images: torch.Tensor
    factors: torch.Tensor
    shape: tuple[int, int]

    @property
    def labels(self) -> torch.Tensor:
        """The category, shape ``(n,)``, int64."""
        return self.factors[:, 0].long()


def make_shapes(n: int, *, size: int = 12, generator: torch.Generator) -> Shapes:
    """Sample ``n`` images from the known process: category, position, scale, pixels.

    Factors are independent: category ~ Bernoulli(1/2), scale ~ U(2, 4),
    x, y ~ U(scale, size - 1 - scale) (the shape stays inside the image), and each
    pixel ~ Bernoulli(:func:`render_shapes`).

    Args:
        n: Number of images (positive).
        size: Image side length (at least 8).
        generator: Source of randomness (keyword-only, required for reproducibility).

    Returns:
        A :class:`Shapes` tuple.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n}")
    if size < 8:
        raise ValueError(f"size must be >= 8, got {size}")
    validation.check_generator("generator", generator, required=True)
    u = torch.rand(n, 4, generator=generator)
    category = (u[:, 0] < 0.5).float()
    scale = 2.0 + 2.0 * u[:, 1]
    span = size - 1 - 2 * scale
    x = scale + span * u[:, 2]
    y = scale + span * u[:, 3]
    probs = render_shapes(category, x, y, scale, size=size)
    images = torch.bernoulli(probs, generator=generator)
    factors = torch.stack([category, x, y, scale], dim=1)
    return Shapes(images, factors, (size, size))


def load_shapes_split(
    n_train: int = 20000, n_test: int = 1000, *, seed: int = 1
) -> tuple[ImageSplit, torch.Tensor, torch.Tensor]:
    """The fixed synthetic data of part 3: :func:`make_shapes` with ``seed``, split.

    Returns:
        ``(split, factors_train, factors_test)``; ``split.y_*`` are the categories and
        the factor tensors have the columns :data:`SHAPE_FACTORS`.
    """
    validation.check_int("n_train", n_train, 1)
    validation.check_int("n_test", n_test, 1)
    s = make_shapes(n_train + n_test, generator=torch.Generator().manual_seed(seed))
    n = n_train
    split = ImageSplit(s.images[:n], s.labels[:n], s.images[n:], s.labels[n:], s.shape)
    return split, s.factors[:n], s.factors[n:]
