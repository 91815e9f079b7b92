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
from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Independent, Laplace, Normal, kl_divergence

from lvmkit import validation
from lvmkit.vae.networks import (
    MADE,
    BernoulliMLP,
    GaussianEncoder,
    RenderDecoder,
)

__all__ = [
    "VAE",
    "ELBOTerms",
    "build_vae",
    "elbo_terms",
    "iw_log_likelihood",
    "make_prior",
    "mmd_rbf",
    "sample_prior",
]

PRIORS = ("normal", "laplace")


def make_prior(
    kind: str, n_latents: int, *, dtype=torch.float32, device=None
) -> Independent:
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

    def __init__(
        self,
        decoder: nn.Module,
        n_latents: int,
        encoder: nn.Module | None = None,
        prior: str = "normal",
    ):
        super().__init__()
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
        if n_latents < 0 or (n_latents > 0) != (encoder is not None):
            raise ValueError("an encoder is required exactly when n_latents > 0")
        self.decoder, self.encoder = decoder, encoder
        self.n_latents, self.prior_kind = int(n_latents), prior
        self.register_buffer("_ref", torch.zeros(()))

    # --- the latent model protocol -------------------------------------------------
    @property
    def n_pixels(self) -> int | None:
        """P of the decoder (``None`` for a decoder that does not say)."""
        return getattr(self.decoder, "n_pixels", None)

    def prior(self) -> Independent:
        """p(z), event shape ``(d,)``."""
        dtype = next(self.parameters()).dtype
        return make_prior(
            self.prior_kind, self.n_latents, dtype=dtype, device=self._ref.device
        )

    def posterior(self, x: torch.Tensor) -> Independent:
        """q(z | x), batch shape ``(B,)``, event shape ``(d,)``."""
        mu, sigma = self.encoder(x)
        return Independent(Normal(mu, sigma), 1)

    def sample_posterior(self, x: torch.Tensor, n_samples: int = 1, *, generator=None):
        """``z (S, B, d)`` ~ q(z | x) (reparametrised) and ``log q(z | x)`` ``(S, B)``."""
        q = self.posterior(x)
        eps = torch.randn(
            (n_samples, *q.base_dist.loc.shape),
            generator=generator,
            dtype=q.base_dist.loc.dtype,
            device=q.base_dist.loc.device,
        )
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
    def terms(
        self, x: torch.Tensor, *, n_samples: int = 1, generator=None
    ) -> ELBOTerms:
        """Distortion (Monte Carlo), rate (closed form) and ELBO per datum."""
        validation.as_data_batch("x", x, self.n_pixels)
        validation.check_int("n_samples", n_samples, 1)
        if self.n_latents == 0:
            logp = self.decoder.log_prob(x, None)[0]
            return ELBOTerms(logp, torch.zeros_like(logp), -logp)
        z, _ = self.sample_posterior(x, n_samples, generator=generator)
        distortion = -self.decoder.log_prob(x, z).mean(0)
        rate = kl_divergence(self.posterior(x), self.prior())
        return ELBOTerms(-(distortion + rate), rate, distortion)

    def loss(
        self, x: torch.Tensor, *, beta: float = 1.0, mmd_weight: float = 0.0
    ) -> torch.Tensor:
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
    n = validation.check_int("n", n, 1)
    base = prior.base_dist
    shape = (n, *base.loc.shape)
    if isinstance(base, Normal):
        return base.loc + base.scale * torch.randn(
            shape, generator=generator, dtype=base.loc.dtype, device=base.loc.device
        )
    u = torch.rand(
        shape, generator=generator, dtype=base.loc.dtype, device=base.loc.device
    )
    return base.icdf(u.clamp(1e-7, 1 - 1e-7))


def elbo_terms(
    model, x: torch.Tensor, n_samples: int = 1, *, generator=None
) -> ELBOTerms:
    """ELBO, rate and distortion by Monte Carlo for any latent model (protocol above).

    Rate here is the Monte Carlo estimate ``log q(z|x) - log p(z)`` averaged over
    ``n_samples`` draws, so a re-parametrised model gives identical numbers for the
    same draws.
    """
    validation.as_data_batch("x", x, getattr(model, "n_pixels", None))
    validation.check_int("n_samples", n_samples, 1)
    z, log_q = model.sample_posterior(x, n_samples, generator=generator)
    rate = (log_q - model.prior().log_prob(z)).mean(0)
    distortion = -model.decoder_log_prob(x, z).mean(0)
    return ELBOTerms(-(distortion + rate), rate, distortion)


@torch.no_grad()
def iw_log_likelihood(
    model, x: torch.Tensor, n_samples: int = 100, *, generator=None, chunk: int = 50
) -> torch.Tensor:
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
    validation.as_model_data(model, x)
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
        raise ValueError(
            f"b must have the dimension of a ({a.shape[1]}), got {b.shape[1]}"
        )
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


def build_vae(
    decoder: str,
    n_pixels: int,
    n_latents: int,
    *,
    prior: str = "normal",
    hidden: int = 256,
    image_side: int = 12,
) -> VAE:
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
            raise ValueError(
                "the render decoder needs n_latents = 4 and P = image_side**2"
            )
        dec = RenderDecoder(image_side)
    else:
        raise ValueError(f"decoder must be bernoulli, made or render, got {decoder!r}")
    enc = GaussianEncoder(n_pixels, n_latents) if n_latents else None
    return VAE(dec, n_latents, enc, prior=prior)
