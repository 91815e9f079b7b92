r"""Structured decoders for the synthetic shapes that are *not* the data's own renderer.

:class:`lvmkit.vae.RenderDecoder` is the exact generator of
:func:`lvmkit.datasets.make_shapes`: an oracle. Two decoders here keep some of its
structure and drop the rest, so that "structure beats flexibility" can be tested
without the oracle:

* :class:`DiskRenderDecoder` -- rigid but **misspecified**: the same latent layout
  (category, centre, scale) and the same soft-edge renderer, with the wrong shape set
  (square or *disk*, where the data hold squares and plus signs).
* :class:`TemplateDecoder` -- **partly rigid**: two *learned* templates (logit images
  of ``template_side`` squared pixels), mixed by the category latent and moved by a
  spatial transformer (Jaderberg et al. 2015): a scale-and-translate
  :func:`torch.nn.functional.affine_grid` and a bilinear
  :func:`torch.nn.functional.grid_sample`. The geometry (objects are moved and scaled)
  is built in; the appearance is learned from the data.

Both follow the decoder protocol of :class:`lvmkit.vae.VAE` (``log_prob(x, z)`` of
shape ``(S, B)``, ``probs(z)``, ``sample(z, generator=)``) and need ``n_latents = 4``.
:func:`build_structured_vae` builds a :class:`lvmkit.vae.VAE` around any decoder name
of :data:`STRUCTURED_DECODERS` or of :func:`lvmkit.vae.build_vae`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lvmkit import validation
from lvmkit.vae import VAE, GaussianEncoder, RenderDecoder, build_vae

__all__ = [
    "STRUCTURED_DECODERS",
    "DiskRenderDecoder",
    "TemplateDecoder",
    "build_structured_vae",
    "render_square_disk",
]


def render_square_disk(
    category: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    scale: torch.Tensor,
    *,
    size: int = 12,
    sharpness: float | torch.Tensor = 5.0,
    noise: float = 0.01,
) -> torch.Tensor:
    r"""Pixel-on probabilities of a square / disk image (the misspecified shape set).

    Like :func:`lvmkit.datasets.render_shapes` with the plus sign replaced by a disk of
    radius ``s``: :math:`\mathrm{disk} = \sigma(k (s - \sqrt{a^2 + b^2}))`, mixed as
    :math:`c\,\mathrm{disk} + (1 - c)\,\mathrm{square}`.

    Returns:
        Probabilities of shape ``(..., size * size)`` (row-major).
    """
    if not 0 <= noise < 0.5:
        raise ValueError(f"noise must be in [0, 0.5), got {noise}")
    factors = {"category": category, "x": x, "y": y, "scale": scale}
    for name, t in factors.items():
        validation.as_float_tensor(name, t)
        if t.shape != x.shape:
            raise ValueError(
                f"{name} must have the shape of x {tuple(x.shape)}, got "
                f"{tuple(t.shape)}"
            )
    if bool(((category < 0) | (category > 1)).any()):
        raise ValueError("category must be probabilities in [0, 1]")
    if not bool((scale > 0).all()):
        raise ValueError(f"scale must be > 0, got a minimum of {float(scale.min())}")
    grid = torch.arange(size, dtype=x.dtype, device=x.device)
    a = (grid - x[..., None]).abs()[..., None, :]
    b = (grid - y[..., None]).abs()[..., :, None]
    s = scale[..., None, None]
    square = torch.sigmoid(sharpness * (s - a)) * torch.sigmoid(sharpness * (s - b))
    disk = torch.sigmoid(sharpness * (s - torch.sqrt(a**2 + b**2 + 1e-12)))
    c = category[..., None, None]
    img = noise + (1 - 2 * noise) * (c * disk + (1 - c) * square)
    return img.reshape(*img.shape[:-2], size * size)


class DiskRenderDecoder(RenderDecoder):
    """Rigid, misspecified: :class:`lvmkit.vae.RenderDecoder` drawing squares or disks.

    The same 9 learned numbers (gains, offsets, edge sharpness); only the shape set is
    wrong, so no setting of them reproduces a plus sign.
    """

    def probs(self, z: torch.Tensor) -> torch.Tensor:
        f = self.factors(z)
        return render_square_disk(
            f[..., 0],
            f[..., 1],
            f[..., 2],
            f[..., 3],
            size=self.size,
            sharpness=self.log_sharpness.exp(),
        )


class TemplateDecoder(nn.Module):
    r"""Partly rigid: learned templates moved and scaled by a spatial transformer.

    :math:`z \mapsto` category weight :math:`c = \sigma(a_0 z_0 + b_0)`, centre
    :math:`(x, y)` in pixels and half-width :math:`s` (affine maps of
    :math:`z_1, z_2, z_3`, softplus for :math:`s`), as in
    :class:`lvmkit.vae.RenderDecoder`. Template :math:`T_j` (``template_side`` squared
    logits, :math:`j = 0, 1`) covers :math:`[-1, 1]^2` in its own frame, the object's
    nominal half-width being ``1/2`` there; the image pixel at normalised position
    :math:`u` reads the template at :math:`(u - u_c) / k` with :math:`u_c` the centre
    and :math:`k = 4 s / \text{size}` (bilinear, zero outside the template). Then
    :math:`p = \epsilon + (1 - 2\epsilon)\,[c\,\sigma(T_1) + (1 - c)\,\sigma(T_0)]`
    with a learned flip rate :math:`\epsilon \in (0, 1/2)`.

    Args:
        size: Image side length.
        template_side: Resolution of each learned template.
        generator: Randomness of the template initialisation (a centred blob plus
            small noise, so the two templates differ).
    """

    def __init__(
        self,
        size: int = 12,
        template_side: int = 24,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.size = validation.check_int("size", size, 4)
        side = validation.check_int("template_side", template_side, 4)
        self.gain = nn.Parameter(torch.tensor([4.0, 2.0, 2.0, 0.5]))
        self.offset = nn.Parameter(
            torch.tensor([0.0, (size - 1) / 2, (size - 1) / 2, 3.0])
        )
        u = (2 * torch.arange(side) + 1) / side - 1
        r2 = u[None, :] ** 2 + u[:, None] ** 2
        blob = 3.0 - 12.0 * r2  # logit > 0 inside radius 1/2: a generic centred object
        noise = 0.5 * torch.randn(2, side, side, generator=generator)
        self.templates = nn.Parameter(blob + noise)
        self.noise_logit = nn.Parameter(torch.tensor(math.log(0.02 / 0.98)))

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``z (..., 4)`` to (category weight, x, y, scale), as RenderDecoder."""
        f = z * self.gain + self.offset
        scale = nn.functional.softplus(f[..., 3]) + 0.5
        return torch.stack([torch.sigmoid(f[..., 0]), f[..., 1], f[..., 2], scale], -1)

    def probs(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel-on probabilities, shape ``(..., size * size)``."""
        batch = z.shape[:-1]
        f = self.factors(z.reshape(-1, 4))
        n = f.shape[0]
        k = 4 * f[:, 3] / self.size
        centre = (2 * f[:, 1:3] + 1) / self.size - 1  # pixel units -> [-1, 1]
        theta = torch.zeros(n, 2, 3, dtype=z.dtype, device=z.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1 / k
        theta[:, :, 2] = -centre / k[:, None]
        grid = nn.functional.affine_grid(
            theta, [n, 2, self.size, self.size], align_corners=False
        )
        tmpl = torch.sigmoid(self.templates).to(z.dtype)[None].expand(n, -1, -1, -1)
        img = nn.functional.grid_sample(
            tmpl, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )  # (n, 2, H, W)
        c = f[:, 0, None, None]
        mixed = c * img[:, 1] + (1 - c) * img[:, 0]
        eps = 0.5 * torch.sigmoid(self.noise_logit)
        p = eps + (1 - 2 * eps) * mixed
        return p.reshape(*batch, self.size * self.size)

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) for ``x (B, P)``, ``z (S, B, 4)``; returns ``(S, B)``."""
        p = self.probs(z)
        return (x * p.log() + (1 - x) * (1 - p).log()).sum(-1)

    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x | z) for ``z (n, 4)``; returns ``(n, P)``."""
        return torch.bernoulli(self.probs(z), generator=generator)


STRUCTURED_DECODERS = ("render_disk", "template")


def build_structured_vae(
    decoder: str,
    n_pixels: int,
    n_latents: int,
    *,
    prior: str = "normal",
    image_side: int = 12,
    generator: torch.Generator | None = None,
) -> VAE:
    """A VAE with a decoder of :data:`STRUCTURED_DECODERS` (or any of ``build_vae``).

    Args:
        decoder: ``"render_disk"`` (:class:`DiskRenderDecoder`), ``"template"``
            (:class:`TemplateDecoder`), or a name :func:`lvmkit.vae.build_vae` knows.
        n_pixels: P (``image_side**2`` for the structured decoders).
        n_latents: d (4 for the structured decoders).
        prior: ``"normal"`` or ``"laplace"``.
        image_side: Side of the square image.
        generator: Initialisation randomness of the template decoder.
    """
    if decoder not in STRUCTURED_DECODERS:
        return build_vae(
            decoder, n_pixels, n_latents, prior=prior, image_side=image_side
        )
    if n_latents != 4 or n_pixels != image_side**2:
        raise ValueError(
            f"the {decoder} decoder needs n_latents = 4 and P = image_side**2, "
            f"got n_latents = {n_latents}, P = {n_pixels}"
        )
    if decoder == "render_disk":
        dec: nn.Module = DiskRenderDecoder(image_side)
    else:
        dec = TemplateDecoder(image_side, generator=generator)
    return VAE(dec, n_latents, GaussianEncoder(n_pixels, n_latents), prior=prior)
