"""Variational autoencoders in plain torch (front door).

Which file holds what: :mod:`~lvmkit.vae.model` (:class:`VAE`, the priors, the ELBO
terms, the importance-weighted likelihood, the MMD, :func:`build_vae`) and
:mod:`~lvmkit.vae.networks` (the encoders and decoders). Every model that the
evaluation functions take follows the latent model protocol of :mod:`lvmkit.models`
(``n_latents``, ``n_pixels``, ``prior()``, ``sample_posterior``, ``posterior_log_prob``,
``decoder_log_prob``).
"""

from lvmkit.vae.model import (
    VAE,
    ELBOTerms,
    build_vae,
    elbo_terms,
    iw_log_likelihood,
    make_prior,
    mmd_rbf,
    sample_prior,
)
from lvmkit.vae.networks import (
    MADE,
    BernoulliMLP,
    GaussianEncoder,
    LinearGaussianDecoder,
    LinearGaussianEncoder,
    RenderDecoder,
)

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
    "sample_prior",
]
