r"""Sparse priors: the generalised Gaussian family.

The sparse linear Gaussian model of part 2 puts an independent prior on each latent,

.. math::
    r(x) \propto \exp\bigl(-\lvert (x - \mu) / s \rvert^{\alpha}\bigr),

with shape ``alpha > 0`` and scale ``s > 0``. ``alpha = 2`` is a Gaussian (standard
deviation ``s / sqrt(2)``), ``alpha = 1`` the Laplace distribution, and ``alpha < 1``
concentrates the mass ever more sharply at zero with heavier tails: a sparse prior.
The normalised density is

.. math::
    r(x) = \frac{\alpha}{2 s \Gamma(1/\alpha)} \exp\bigl(-\lvert (x-\mu)/s \rvert^{\alpha}\bigr),

the same parametrisation as :data:`scipy.stats.gennorm` (``beta = alpha``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import gammaincinv
from torch.distributions import Distribution, constraints
from torch.distributions.utils import broadcast_all

from lvmkit import validation

__all__ = ["GeneralizedGaussian"]

#: Smallest shape accepted in any dtype (see :class:`GeneralizedGaussian`); in float32
#: the overflow bound of :func:`_check_representable` is stricter (about 0.08).
MIN_ALPHA = 0.02


def _check_representable(alpha, scale, loc, dtype: torch.dtype) -> None:
    r"""Refuse parameters whose variance or extreme samples overflow ``dtype``.

    Computed in float64 with log-gamma, for every element: the log variance
    ``2 log s + lgamma(3/alpha) - lgamma(1/alpha)`` and the log of the largest sample
    magnitude that :meth:`GeneralizedGaussian.rsample` can draw in ``dtype``,
    ``log(|mu| + s q^{1/alpha})`` with ``q`` the Gamma(1/alpha) quantile at
    ``1 - eps(dtype)``, must stay below ``log(finfo(dtype).max)`` less a margin of
    ``log 16`` (room for the arithmetic done on them). So whatever ``alpha`` is accepted
    gives a finite variance and finite samples in the dtype in use.
    """
    a, s, m = (torch.as_tensor(v, dtype=torch.float64) for v in (alpha, scale, loc))
    a, s, m = torch.broadcast_tensors(a, s, m)
    log_max = math.log(torch.finfo(dtype).max) - math.log(16.0)
    log_var = 2 * torch.log(s) + torch.lgamma(3 / a) - torch.lgamma(1 / a)
    q = torch.as_tensor(gammaincinv((1 / a).numpy(), 1 - torch.finfo(dtype).eps))
    log_x = torch.logaddexp(torch.log(m.abs()), torch.log(s) + torch.log(q) / a)
    bad = ~((log_var < log_max) & (log_x < log_max))
    if bool(bad.any()):
        worst = float(a[bad].min())
        raise ValueError(
            f"alpha must be large enough for the variance and the samples to be "
            f"finite in {dtype} (with this scale), got alpha = {worst:.3g}; use "
            f"a larger alpha or float64 parameters"
        )


class GeneralizedGaussian(Distribution):
    r"""Generalised Gaussian (exponential power) distribution, scalar event.

    If ``G ~ Gamma(1/alpha, 1)`` and ``S`` is a random sign, then
    ``mu + s * S * G**(1/alpha)`` has this distribution; sampling uses that identity
    (reparameterised in ``s``, ``mu`` and, through :class:`torch.distributions.Gamma`,
    in ``alpha``).

    Args:
        alpha: Shape ``> 0`` (tensor or float; broadcasts with the others).
        scale: Scale ``s > 0``.
        loc: Location ``mu`` (default 0).
        validate_args: As for every torch distribution.

    Use ``torch.distributions.Independent(GeneralizedGaussian(...), 1)`` for a vector
    of independent latents.

    Small shapes overflow: the variance grows like ``Gamma(3/alpha) / Gamma(1/alpha)`` and
    samples like ``G**(1/alpha)``. ``alpha >= MIN_ALPHA`` (0.02) is required, and in
    addition the variance and the largest drawable sample must be finite in the
    parameters' dtype (float32 for Python floats: ``alpha`` above about 0.08 at unit
    scale; float64: every ``alpha >= 0.02``); otherwise ``ValueError``.
    """

    arg_constraints = {  # noqa: RUF012 (torch.distributions convention)
        "alpha": constraints.positive,
        "scale": constraints.positive,
        "loc": constraints.real,
    }
    support = constraints.real
    has_rsample = True

    def __init__(self, alpha, scale=1.0, loc=0.0, validate_args=None):
        for name, value in (("alpha", alpha), ("scale", scale)):
            v = torch.as_tensor(value, dtype=torch.get_default_dtype())
            if not torch.isfinite(v).all() or (v <= 0).any():
                raise ValueError(f"{name} must be finite and > 0, got {value}")
        if (torch.as_tensor(alpha, dtype=torch.float64) < MIN_ALPHA).any():
            # Gamma(3/alpha) / Gamma(1/alpha) (the variance) and the samples' g**(1/alpha)
            # overflow float64 below this: refuse rather than return inf.
            raise ValueError(
                f"alpha must be >= {MIN_ALPHA} (smaller shapes overflow), got {alpha}"
            )
        if not torch.isfinite(
            torch.as_tensor(loc, dtype=torch.get_default_dtype())
        ).all():
            raise ValueError(f"loc must be finite, got {loc}")
        self.alpha, self.scale, self.loc = broadcast_all(alpha, scale, loc)
        # the dtype the distribution computes in (float32 for Python floats): its range
        _check_representable(
            self.alpha.detach().cpu(),
            self.scale.detach().cpu(),
            self.loc.detach().cpu(),
            self.alpha.dtype,
        )
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedGaussian, _instance)
        batch_shape = torch.Size(batch_shape)
        new.alpha = self.alpha.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        super(GeneralizedGaussian, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> torch.Tensor:
        return self.loc

    @property
    def mode(self) -> torch.Tensor:
        return self.loc

    @property
    def variance(self) -> torch.Tensor:
        """s^2 Gamma(3/alpha) / Gamma(1/alpha)."""
        a = self.alpha
        return self.scale**2 * torch.exp(torch.lgamma(3 / a) - torch.lgamma(1 / a))

    def _log_norm(self) -> torch.Tensor:
        a = self.alpha
        return (
            torch.log(a) - math.log(2.0) - torch.log(self.scale) - torch.lgamma(1 / a)
        )

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        """``log r(x) = log(alpha / (2 s Gamma(1/alpha))) - |(x - mu)/s|^alpha``."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc).abs() / self.scale
        return self._log_norm() - z**self.alpha

    def rsample(self, sample_shape=(), *, generator: torch.Generator | None = None):
        """Draw samples of shape ``sample_shape + batch_shape``.

        With ``generator`` given, the draw is reproducible (Gamma variates come from the
        inverse CDF of uniforms, so the path is not differentiable in ``alpha``).
        """
        shape = self._extended_shape(torch.Size(sample_shape))
        a = self.alpha.expand(shape)
        if generator is None:
            g = torch.distributions.Gamma(1 / a, torch.ones_like(a)).rsample()
            sign = torch.where(torch.rand(shape, dtype=a.dtype) < 0.5, -1.0, 1.0)
        else:
            u = torch.rand(shape, generator=generator, dtype=a.dtype)
            sign = torch.where(
                torch.rand(shape, generator=generator, dtype=a.dtype) < 0.5, -1.0, 1.0
            )
            g = torch.as_tensor(
                gammaincinv(1 / a.detach().numpy(), u.numpy()), dtype=a.dtype
            )
        return self.loc + self.scale * sign * g ** (1 / a)

    def sample(self, sample_shape=(), *, generator: torch.Generator | None = None):
        with torch.no_grad():
            return self.rsample(sample_shape, generator=generator)

    def cdf(self, value: torch.Tensor) -> torch.Tensor:
        """``F(x) = 1/2 + sign(x - mu) P(1/alpha, |(x - mu)/s|^alpha) / 2``, P the regularised
        lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        p = torch.special.gammainc(1 / self.alpha, (d.abs() / self.scale) ** self.alpha)
        return 0.5 + 0.5 * torch.sign(d) * p

    def icdf(self, value: torch.Tensor) -> torch.Tensor:
        """Quantile function (through :func:`scipy.special.gammaincinv`; not differentiable).

        Raises:
            ValueError: ``value`` is not finite or lies outside ``[0, 1]``.
        """
        value = validation.as_float_tensor("value", value, dtype=self.alpha.dtype)
        if ((value < 0) | (value > 1)).any():
            raise ValueError(
                "value must be probabilities in [0, 1] for icdf, got "
                f"min {float(value.min()):.3g}, max {float(value.max()):.3g}"
            )
        v, a, s, m = torch.broadcast_tensors(value, self.alpha, self.scale, self.loc)
        q = np.abs(2 * v.detach().numpy() - 1)
        g = torch.as_tensor(gammaincinv(1 / a.detach().numpy(), q), dtype=a.dtype)
        return m + torch.sign(v - 0.5) * s * g ** (1 / a)

    def entropy(self) -> torch.Tensor:
        """H = 1/alpha - log(alpha / (2 s Gamma(1/alpha)))."""
        return 1 / self.alpha - self._log_norm()
