r"""Variational autoencoders in plain torch: the module owns the maths.

A :class:`VAE` couples a prior :math:`p(z)`, a Gaussian encoder
:math:`q(z \mid x) = \mathcal N(\mu(x), \mathrm{diag}\,\sigma^2(x))` and a decoder
:math:`p(x \mid z)`. Per datum, with :math:`z \sim q(z \mid x)`,

.. math::
    D = -\mathbb E_q \log p(x \mid z) \;\text{(distortion)}, \qquad
    R = \mathrm{KL}(q(z \mid x) \,\|\, p(z)) \;\text{(rate)},

    \mathrm{ELBO} = -(D + R) \le \log p(x),

and the training loss is :math:`D + \beta R + \lambda\,\mathrm{MMD}(q(z), p(z))`
(:math:`\beta = 1, \lambda = 0`: the ELBO; :math:`\beta < 1` with :math:`\lambda > 0`:
InfoVAE, Zhao et al. 2017, with the aggregate posterior pulled to the prior by a kernel
MMD). :func:`iw_log_likelihood` is the importance-weighted estimate of Burda et al.

Decoders: :class:`BernoulliMLP` (factorised pixels), :class:`MADE` (autoregressive
over pixels, Germain et al. 2015; with ``n_latents=0`` a full density model with no
latents at all), :class:`RenderDecoder` (the rigid renderer of the synthetic shapes),
:class:`LinearGaussianDecoder` (the linear Gaussian model, checkable against
:class:`lvmkit.models.LinearGaussian`).

Every evaluation function takes any object with the *latent model protocol*
(``n_latents``, ``prior()``, ``sample_posterior``, ``posterior_log_prob``,
``decoder_log_prob``), so a re-parametrised model (:mod:`lvmkit.scramble`) is
evaluated by exactly the same code.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Independent, Laplace, Normal, kl_divergence

from lvmkit import validation
from lvmkit.datasets import render_shapes

__all__ = [
    "MADE",
    "VAE",
    "BernoulliMLP",
    "ELBOTerms",
    "GaussianEncoder",
    "LinearGaussianDecoder",
    "LinearGaussianEncoder",
    "RenderDecoder",
    "build_vae",
    "elbo_terms",
    "iw_log_likelihood",
    "make_prior",
    "mmd_rbf",
]

PRIORS = ("normal", "laplace")


def _check_data(x: torch.Tensor, n_pixels: int | None = None, *,
                name: str = "x") -> torch.Tensor:
    """Validate a batch of observations at the public boundary: a finite float32/64 tensor
    of shape ``(B, P)``."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a tensor of shape (B, {n_pixels or 'P'}), got "
                        f"{validation.describe(x)}")
    return validation.as_float_tensor(name, x, shape=("B", n_pixels or "P"))


def _reference_tensor(model) -> torch.Tensor | None:
    """A tensor of the model's (dtype, device): its prior's mean, else a parameter."""
    if getattr(model, "n_latents", 0):
        return model.prior().mean
    inner = getattr(model, "model", model)  # e.g. a ScrambledModel wraps its model
    params = getattr(inner, "parameters", None)
    return next(iter(params()), None) if callable(params) else None


def _check_model_data(model, x, name: str = "x") -> torch.Tensor:
    """``x`` of shape ``(B, P)`` (P the model's, where known), finite, on the model's
    device and of its dtype (mixed float32/float64 fails deep in torch otherwise)."""
    ref = _reference_tensor(model)
    if torch.is_tensor(x) and ref is not None:
        validation.check_same_device(**{name: x, "model": ref})
    x = _check_data(x, _n_pixels(model), name=name)
    if ref is not None and x.dtype != ref.dtype:
        raise TypeError(f"{name} must have the model's dtype {ref.dtype}, got {x.dtype} "
                        f"(convert with .to({ref.dtype}) or the model with .double()/.float())")
    return x


def _n_pixels(model) -> int | None:
    """P of a model's decoder, where it can be read off (``None`` otherwise)."""
    if not hasattr(model, "decoder") and hasattr(model, "model"):  # a wrapped model
        return _n_pixels(model.model)
    dec = getattr(model, "decoder", None)
    if isinstance(dec, MADE):
        return dec.n_pixels
    if isinstance(dec, RenderDecoder):
        return dec.size**2
    if isinstance(dec, BernoulliMLP):
        return dec.net[-1].out_features
    if isinstance(dec, LinearGaussianDecoder):
        return dec.A.shape[0]
    return None


def _check_sizes(**sizes: int) -> None:
    for name, v in sizes.items():
        validation.check_int(name, v, 1)


def make_prior(kind: str, n_latents: int, *, dtype=torch.float32, device=None) -> Independent:
    """Unit-variance factorised prior: ``"normal"`` N(0, 1) or ``"laplace"`` (sparse).

    The Laplace prior has scale ``1 / sqrt(2)`` so both priors have variance 1.
    Event shape ``(n_latents,)``.
    """
    if kind not in PRIORS:
        raise ValueError(f"kind must be a prior in {PRIORS}, got {kind!r}")
    validation.check_int("n_latents", n_latents, 0)
    zeros = torch.zeros(n_latents, dtype=dtype, device=device)
    if kind == "normal":
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)
    return Independent(Laplace(zeros, torch.full_like(zeros, 2**-0.5)), 1)


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
        _check_sizes(n_pixels=n_pixels, n_latents=n_latents, hidden=hidden)
        self.net = _mlp([n_pixels, hidden, hidden, 2 * n_latents])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, raw = self.net(x).chunk(2, dim=-1)
        return mu, nn.functional.softplus(raw) + 1e-4


class LinearGaussianEncoder(nn.Module):
    """Linear encoder ``mu = W x`` with a learned, input-independent diagonal sigma."""

    def __init__(self, n_pixels: int, n_latents: int):
        super().__init__()
        _check_sizes(n_pixels=n_pixels, n_latents=n_latents)
        self.W = nn.Parameter(torch.zeros(n_latents, n_pixels, dtype=torch.float64))
        self.log_sigma = nn.Parameter(torch.zeros(n_latents, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = x @ self.W.T
        return mu, self.log_sigma.exp().expand_as(mu)


class BernoulliMLP(nn.Module):
    """Factorised Bernoulli decoder: pixels independent given ``z``."""

    def __init__(self, n_latents: int, n_pixels: int, hidden: int = 128):
        super().__init__()
        _check_sizes(n_latents=n_latents, n_pixels=n_pixels, hidden=hidden)
        self.net = _mlp([n_latents, hidden, hidden, n_pixels])

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) for ``x (B, P)``, ``z (S, B, d)``; returns ``(S, B)``."""
        logits = self.net(z)
        return -nn.functional.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none").sum(-1)

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

    def __init__(self, n_pixels: int, n_latents: int = 0, hidden: int = 256, n_hidden: int = 2):
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
        self.cond = nn.ModuleList(nn.Linear(n_latents, hidden, bias=False)
                                  for _ in range(n_hidden)) if n_latents else None
        self.out = nn.Linear(hidden, n_pixels)
        self.cond_out = nn.Linear(n_latents, n_pixels, bias=False) if n_latents else None
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
            pre = nn.functional.linear(h, layer.weight * getattr(self, f"mask{i}"), layer.bias)
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
            logits, xs, reduction="none").sum(-1)

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
        self.offset = nn.Parameter(torch.tensor([0.0, (size - 1) / 2, (size - 1) / 2, 3.0]))
        self.log_sharpness = nn.Parameter(torch.tensor(math.log(5.0)))

    def factors(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``z (..., 4)`` to (category probability, x, y, scale)."""
        f = z * self.gain + self.offset
        scale = nn.functional.softplus(f[..., 3]) + 0.5
        return torch.stack([torch.sigmoid(f[..., 0]), f[..., 1], f[..., 2], scale], -1)

    def probs(self, z: torch.Tensor) -> torch.Tensor:
        f = self.factors(z)
        return render_shapes(f[..., 0], f[..., 1], f[..., 2], f[..., 3], size=self.size,
                             sharpness=self.log_sharpness.exp())

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

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return Normal(z @ self.A.T, self.noise_std).log_prob(x).sum(-1)

    def sample(self, z: torch.Tensor, *, generator=None) -> torch.Tensor:
        mean = z @ self.A.T
        return mean + self.noise_std * torch.randn(mean.shape, generator=generator,
                                                   dtype=mean.dtype)


class ELBOTerms(NamedTuple):
    """Per-datum terms, each of shape ``(B,)``: ``elbo = -(distortion + rate)``."""

    elbo: torch.Tensor
    rate: torch.Tensor
    distortion: torch.Tensor


class VAE(nn.Module):
    """Prior + Gaussian encoder + decoder; ``n_latents = 0`` means no latents (MADE only).

    Args:
        decoder: Any module with ``log_prob(x, z) -> (S, B)`` and ``sample(z, generator=)``.
        n_latents: Latent dimension ``d`` (0 allowed only for a :class:`MADE` decoder).
        encoder: Module ``x -> (mu, sigma)``; required when ``n_latents > 0``.
        prior: ``"normal"`` or ``"laplace"``.
    """

    def __init__(self, decoder: nn.Module, n_latents: int, encoder: nn.Module | None = None,
                 prior: str = "normal"):
        super().__init__()
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
        if n_latents < 0 or (n_latents > 0) != (encoder is not None):
            raise ValueError("an encoder is required exactly when n_latents > 0")
        self.decoder, self.encoder = decoder, encoder
        self.n_latents, self.prior_kind = int(n_latents), prior
        self.register_buffer("_ref", torch.zeros(()))

    # --- the latent model protocol -------------------------------------------------
    def prior(self) -> Independent:
        """p(z), event shape ``(d,)``."""
        dtype = next(self.parameters()).dtype
        return make_prior(self.prior_kind, self.n_latents, dtype=dtype, device=self._ref.device)

    def posterior(self, x: torch.Tensor) -> Independent:
        """q(z | x), batch shape ``(B,)``, event shape ``(d,)``."""
        mu, sigma = self.encoder(x)
        return Independent(Normal(mu, sigma), 1)

    def sample_posterior(self, x: torch.Tensor, n_samples: int = 1, *, generator=None):
        """``z (S, B, d)`` ~ q(z | x) (reparametrised) and ``log q(z | x)`` ``(S, B)``."""
        q = self.posterior(x)
        eps = torch.randn((n_samples, *q.base_dist.loc.shape), generator=generator,
                          dtype=q.base_dist.loc.dtype, device=q.base_dist.loc.device)
        z = q.base_dist.loc + q.base_dist.scale * eps
        return z, q.log_prob(z)

    def posterior_log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log q(z | x), broadcasting ``z (..., d)`` against the batch of ``x``."""
        return self.posterior(x).log_prob(z)

    def decoder_log_prob(self, x: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        """log p(x | z), ``(S, B)``."""
        return self.decoder.log_prob(x, z)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The point representation of ``x``: the posterior mean, shape ``(B, d)``."""
        return self.posterior(x).base_dist.loc

    # --- training objective --------------------------------------------------------
    def terms(self, x: torch.Tensor, *, n_samples: int = 1, generator=None) -> ELBOTerms:
        """Distortion (Monte Carlo), rate (closed form) and ELBO per datum."""
        _check_data(x, _n_pixels(self))
        validation.check_int("n_samples", n_samples, 1)
        if self.n_latents == 0:
            logp = self.decoder.log_prob(x, None)[0]
            return ELBOTerms(logp, torch.zeros_like(logp), -logp)
        z, _ = self.sample_posterior(x, n_samples, generator=generator)
        distortion = -self.decoder.log_prob(x, z).mean(0)
        rate = kl_divergence(self.posterior(x), self.prior())
        return ELBOTerms(-(distortion + rate), rate, distortion)

    def loss(self, x: torch.Tensor, *, beta: float = 1.0, mmd_weight: float = 0.0) -> torch.Tensor:
        """Mean over the batch of ``D + beta R``, plus ``mmd_weight * MMD(q(z), p(z))``."""
        t = self.terms(x)
        loss = (t.distortion + beta * t.rate).mean()
        if mmd_weight > 0 and self.n_latents > 0:
            z, _ = self.sample_posterior(x)
            prior_z = self.prior().sample((x.shape[0],))
            loss = loss + mmd_weight * mmd_rbf(z[0], prior_z)
        return loss

    @torch.no_grad()
    def sample(self, n: int, *, generator=None) -> torch.Tensor:
        """x ~ p(x) = int p(x | z) p(z) dz; shape ``(n, P)``."""
        z = sample_prior(self.prior(), n, generator=generator)
        return self.decoder.sample(z, generator=generator)


def sample_prior(prior: Independent, n: int, *, generator=None) -> torch.Tensor:
    """Draw ``(n, d)`` from a factorised Normal or Laplace prior with a generator."""
    base = prior.base_dist
    shape = (n, *base.loc.shape)
    if isinstance(base, Normal):
        return base.loc + base.scale * torch.randn(shape, generator=generator,
                                                   dtype=base.loc.dtype, device=base.loc.device)
    u = torch.rand(shape, generator=generator, dtype=base.loc.dtype, device=base.loc.device)
    return base.icdf(u.clamp(1e-7, 1 - 1e-7))


def elbo_terms(model, x: torch.Tensor, n_samples: int = 1, *, generator=None) -> ELBOTerms:
    """ELBO, rate and distortion by Monte Carlo for any latent model (protocol above).

    Rate here is the Monte Carlo estimate ``log q(z|x) - log p(z)`` averaged over
    ``n_samples`` draws, so a re-parametrised model gives identical numbers for the
    same draws.
    """
    _check_data(x, _n_pixels(model))
    validation.check_int("n_samples", n_samples, 1)
    z, log_q = model.sample_posterior(x, n_samples, generator=generator)
    rate = (log_q - model.prior().log_prob(z)).mean(0)
    distortion = -model.decoder_log_prob(x, z).mean(0)
    return ELBOTerms(-(distortion + rate), rate, distortion)


@torch.no_grad()
def iw_log_likelihood(model, x: torch.Tensor, n_samples: int = 100, *, generator=None,
                      chunk: int = 50) -> torch.Tensor:
    r"""Importance-weighted estimate of :math:`\log p(x)` per datum (Burda et al. 2016).

    .. math::
        \log \frac1K \sum_{k=1}^K \frac{p(x \mid z_k)\, p(z_k)}{q(z_k \mid x)},
        \quad z_k \sim q(z \mid x),

    a lower bound in expectation that tightens as ``K = n_samples`` grows. For a model
    without latents it is the exact ``log p(x)``.

    Returns:
        Shape ``(B,)``.
    """
    validation.check_int("n_samples", n_samples, 1)
    validation.check_int("chunk", chunk, 1)
    _check_model_data(model, x)
    if model.n_latents == 0:
        return model.decoder_log_prob(x, None)[0]
    parts = []
    for start in range(0, n_samples, chunk):
        k = min(chunk, n_samples - start)
        z, log_q = model.sample_posterior(x, k, generator=generator)
        parts.append(model.decoder_log_prob(x, z) + model.prior().log_prob(z) - log_q)
    log_w = torch.cat(parts, 0)
    return torch.logsumexp(log_w, 0) - math.log(n_samples)


def mmd_rbf(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""Unbiased squared MMD between samples ``a (n, d)`` and ``b (m, d)``.

    Gaussian kernel :math:`k(u, v) = \exp(-\|u - v\|^2 / (2d))` (bandwidth matched to
    a unit-variance prior in ``d`` dimensions).
    """
    a = validation.as_float_tensor("a", a, ndim=2, min_rows=2)
    b = validation.as_float_tensor("b", b, ndim=2, min_rows=2)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b must have the dimension of a ({a.shape[1]}), got {b.shape[1]}")
    validation.check_same_device(a=a, b=b)
    validation.check_same_dtype(a=a, b=b)
    d = a.shape[-1]

    def k(u, v):
        return torch.exp(-torch.cdist(u, v).pow(2) / (2 * d))

    n, m = a.shape[0], b.shape[0]
    kaa, kbb = k(a, a), k(b, b)
    taa = (kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
    tbb = (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
    return taa + tbb - 2 * k(a, b).mean()


def build_vae(decoder: str, n_pixels: int, n_latents: int, *, prior: str = "normal",
              hidden: int = 256, image_side: int = 12) -> VAE:
    """Build an (untrained) VAE from a small JSON-able configuration.

    Args:
        decoder: ``"bernoulli"`` (:class:`BernoulliMLP`), ``"made"`` (:class:`MADE`) or
            ``"render"`` (:class:`RenderDecoder`, needs ``n_latents = 4``).
        n_pixels: P.
        n_latents: d (0 only with ``"made"``).
        prior: ``"normal"`` or ``"laplace"``.
        hidden: Hidden width of MADE (the MLPs use 128).
        image_side: Side of the square image (render decoder only).
    """
    validation.check_int("n_pixels", n_pixels, 1)
    validation.check_int("n_latents", n_latents, 0)
    if decoder == "bernoulli":
        dec = BernoulliMLP(n_latents, n_pixels)
    elif decoder == "made":
        dec = MADE(n_pixels, n_latents, hidden=hidden)
    elif decoder == "render":
        if n_latents != 4 or n_pixels != image_side**2:
            raise ValueError("the render decoder needs n_latents = 4 and P = image_side**2")
        dec = RenderDecoder(image_side)
    else:
        raise ValueError(f"decoder must be bernoulli, made or render, got {decoder!r}")
    enc = GaussianEncoder(n_pixels, n_latents) if n_latents else None
    return VAE(dec, n_latents, enc, prior=prior)
