"""The networks of a VAE: Gaussian encoders and the decoders (Bernoulli MLP, MADE, the
shapes' renderer, the linear Gaussian decoder). Every decoder has ``n_pixels``."""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn
from torch.distributions import Normal

from lvmkit import validation
from lvmkit.datasets import render_shapes

__all__ = [
    "MADE",
    "BernoulliMLP",
    "GaussianEncoder",
    "LinearGaussianDecoder",
    "LinearGaussianEncoder",
    "RenderDecoder",
]


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ELU())
    return nn.Sequential(*layers)


class GaussianEncoder(nn.Module):
    """MLP encoder: ``x (B, P) -> (mu, sigma)`` of shapes ``(B, d)``."""

    def __init__(self, n_pixels: int, n_latents: int, hidden: int = 128):
        super().__init__()
        validation.check_int_sizes(
            n_pixels=n_pixels, n_latents=n_latents, hidden=hidden
        )
        self.net = _mlp([n_pixels, hidden, hidden, 2 * n_latents])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.net(x).chunk(2, dim=-1)
        return mu, nn.functional.softplus(raw) + 1e-4


class LinearGaussianEncoder(nn.Module):
    """Linear encoder ``mu = W x`` with a learned, input-independent diagonal sigma."""

    def __init__(self, n_pixels: int, n_latents: int):
        super().__init__()
        validation.check_int_sizes(n_pixels=n_pixels, n_latents=n_latents)
        self.W = nn.Parameter(torch.zeros(n_latents, n_pixels, dtype=torch.float64))
        self.log_sigma = nn.Parameter(torch.zeros(n_latents, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x @ self.W.T
        return mu, self.log_sigma.exp().expand_as(mu)


class BernoulliMLP(nn.Module):
    """Factorised Bernoulli decoder: pixels independent given ``z``."""

    def __init__(self, n_latents: int, n_pixels: int, hidden: int = 128):
        super().__init__()
        validation.check_int_sizes(
            n_latents=n_latents, n_pixels=n_pixels, hidden=hidden
        )
        self.net = _mlp([n_latents, hidden, hidden, n_pixels])

    @property
    def n_pixels(self) -> int:
        """P, the number of pixels it models."""
        return self.net[-1].out_features

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) for ``x (B, P)``, ``z (S, B, d)``; returns ``(S, B)``."""
        logits = self.net(z)
        return -nn.functional.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)

    def probs(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel-on probabilities E[x | z], shape ``(..., P)``."""
        return torch.sigmoid(self.net(z))

    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """x ~ p(x | z) for ``z (n, d)``; returns ``(n, P)``."""
        return torch.bernoulli(self.probs(z), generator=generator)


class MADE(nn.Module):
    r"""Masked autoencoder for distribution estimation, conditioned on ``z``.

    Pixel :math:`i` (raster order) gets logit :math:`f_i(x_{<i}, z)`, so
    :math:`\log p(x \mid z) = \sum_i \log \mathrm{Bern}(x_i; \sigma(f_i))` is an
    exact, normalised density. Hidden unit :math:`k` has degree
    :math:`m_k \in \{1, \dots, P-1\}` (assigned cyclically, no randomness); a weight
    from input :math:`j` (degree :math:`j`, 1-based) to unit :math:`k` is kept iff
    :math:`m_k \ge j`, from unit :math:`k` to output :math:`i` iff :math:`i > m_k`.
    A direct input-to-output layer is masked strictly lower-triangular. ``z`` enters
    every hidden layer and the output layer unmasked (it is not an output). With
    ``n_latents = 0`` the model is an unconditional density over pixels.
    """

    def __init__(
        self, n_pixels: int, n_latents: int = 0, hidden: int = 256, n_hidden: int = 2
    ):
        super().__init__()
        validation.check_int("n_pixels", n_pixels, 2)
        validation.check_int("n_latents", n_latents, 0)
        validation.check_int("hidden", hidden, 1)
        validation.check_int("n_hidden", n_hidden, 1)
        self.n_pixels, self.n_latents = n_pixels, n_latents
        deg_in = torch.arange(1, n_pixels + 1)
        deg_h = torch.arange(hidden) % (n_pixels - 1) + 1
        sizes = [n_pixels] + [hidden] * n_hidden
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.cond = (
            nn.ModuleList(
                nn.Linear(n_latents, hidden, bias=False) for _ in range(n_hidden)
            )
            if n_latents
            else None
        )
        self.out = nn.Linear(hidden, n_pixels)
        self.cond_out = (
            nn.Linear(n_latents, n_pixels, bias=False) if n_latents else None
        )
        self.direct = nn.Linear(n_pixels, n_pixels, bias=False)
        masks = [(deg_h[:, None] >= deg_in[None, :])]
        masks += [(deg_h[:, None] >= deg_h[None, :])] * (n_hidden - 1)
        for i, m in enumerate(masks):
            self.register_buffer(f"mask{i}", m.float())
        self.register_buffer("mask_out", (deg_in[:, None] > deg_h[None, :]).float())
        self.register_buffer("mask_direct", (deg_in[:, None] > deg_in[None, :]).float())

    def logits(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(..., P)``; output ``i`` depends on ``x[..., :i]`` and ``z`` only."""
        h = x
        for i, layer in enumerate(self.layers):
            pre = nn.functional.linear(
                h, layer.weight * getattr(self, f"mask{i}"), layer.bias
            )
            if self.cond is not None:
                pre = pre + self.cond[i](z)
            h = nn.functional.elu(pre)
        out = nn.functional.linear(h, self.out.weight * self.mask_out, self.out.bias)
        if self.cond_out is not None:
            out = out + self.cond_out(z)
        return out + nn.functional.linear(x, self.direct.weight * self.mask_direct)

    def log_prob(self, x: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | z) for ``x (B, P)`` and ``z (S, B, d)`` (or None); shape ``(S, B)``."""
        if z is None:
            z = x.new_zeros(1, x.shape[0], 0)
        xs = x.expand(z.shape[0], *x.shape)
        logits = self.logits(xs, z)
        return -nn.functional.binary_cross_entropy_with_logits(
            logits, xs, reduction="none"
        ).sum(-1)

    @torch.no_grad()
    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        """Ancestral sampling, one pixel per pass; ``z (n, d)`` -> ``(n, P)``."""
        x = z.new_zeros(z.shape[0], self.n_pixels)
        for i in range(self.n_pixels):
            p = torch.sigmoid(self.logits(x, z)[:, i])
            x[:, i] = torch.bernoulli(p, generator=generator)
        return x


class RenderDecoder(nn.Module):
    r"""Rigid decoder: the latents *are* the factors of :func:`render_shapes`.

    :math:`z \mapsto` (category :math:`\sigma(a_0 z_0 + b_0)`, centre and scale by
    affine maps of :math:`z_1, z_2, z_3`), then the fixed renderer. Only 9 numbers
    are learned (gains, offsets and edge sharpness); nothing else can be expressed.
    """

    def __init__(self, size: int = 12):
        super().__init__()
        self.size = validation.check_int("size", size, 4)
        self.gain = nn.Parameter(torch.tensor([4.0, 2.0, 2.0, 0.5]))
        self.offset = nn.Parameter(
            torch.tensor([0.0, (size - 1) / 2, (size - 1) / 2, 3.0])
        )
        self.log_sharpness = nn.Parameter(torch.tensor(math.log(5.0)))

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``z (..., 4)`` to (category probability, x, y, scale)."""
        f = z * self.gain + self.offset
        scale = nn.functional.softplus(f[..., 3]) + 0.5
        return torch.stack([torch.sigmoid(f[..., 0]), f[..., 1], f[..., 2], scale], -1)

    def probs(self, z: torch.Tensor) -> torch.Tensor:
        f = self.factors(z)
        return render_shapes(
            f[..., 0],
            f[..., 1],
            f[..., 2],
            f[..., 3],
            size=self.size,
            sharpness=self.log_sharpness.exp(),
        )

    @property
    def n_pixels(self) -> int:
        """P, the number of pixels it models."""
        return self.size**2

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        p = self.probs(z)
        return (x * p.log() + (1 - x) * (1 - p).log()).sum(-1)

    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        return torch.bernoulli(self.probs(z), generator=generator)


class LinearGaussianDecoder(nn.Module):
    """p(x | z) = N(A z, noise_std^2 I): the decoder of :class:`lvmkit.models.LinearGaussian`."""

    def __init__(self, A: torch.Tensor, noise_std: float = 1.0):
        super().__init__()
        A = validation.as_float_tensor("A", A, ndim=2, dtype=torch.float64)
        self.A = nn.Parameter(A.clone())
        self.noise_std = validation.check_positive("noise_std", noise_std)

    @property
    def n_pixels(self) -> int:
        """P, the number of pixels it models."""
        return self.A.shape[0]

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return Normal(z @ self.A.T, self.noise_std).log_prob(x).sum(-1)

    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        mean = z @ self.A.T
        return mean + self.noise_std * torch.randn(
            mean.shape, generator=generator, dtype=mean.dtype
        )
