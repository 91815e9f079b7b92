"""Generative models with exact oracles.

A model here is a small frozen dataclass that owns its parameters and returns
``torch.distributions`` objects: the prior ``r(x)``, the likelihood ``p(I | x)``, and
where a closed form exists the marginal ``r(I)`` and the posterior ``q(x | I)``.

The notation follows the book's preface: ``x`` in R^N are latents, ``I`` in R^P an
image (or any observation), ``A`` a ``P x N`` matrix of features.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from lvmkit import validation

__all__ = ["LinearGaussian", "SparseLinearGaussian", "check_finite", "check_positive"]


def check_finite(name: str, value: torch.Tensor) -> torch.Tensor:
    """Raise ``ValueError`` unless every entry of ``value`` is finite."""
    if not torch.is_tensor(value):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} must be finite (no NaN or Inf)")
    return value


def check_positive(name: str, value: float) -> float:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (``TypeError`` if it is
    not a real number); see :func:`lvmkit.validation.check_positive`."""
    return validation.check_positive(name, value)


@dataclass(frozen=True)
class LinearGaussian:
    r"""The linear Gaussian model, the exact oracle of the book.

    .. math::
        x \sim \mathcal N(0, s^2 I_N), \qquad I \mid x \sim \mathcal N(A x, \sigma^2 I_P).

    Everything is Gaussian, so the marginal and the posterior are exact:

    .. math::
        r(I) = \mathcal N(0, s^2 A A^\top + \sigma^2 I_P),

        q(x \mid I) = \mathcal N(S A^\top I / \sigma^2, S), \quad
        S = (A^\top A / \sigma^2 + I_N / s^2)^{-1}.

    Args:
        A: Feature matrix, shape ``(P, N)``.
        prior_scale: Prior standard deviation ``s > 0``.
        noise_std: Pixel-noise standard deviation ``sigma > 0``.
    """

    A: torch.Tensor
    prior_scale: float = 1.0
    noise_std: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "A", _check_matrix(self.A))
        object.__setattr__(
            self, "prior_scale", check_positive("prior_scale", self.prior_scale)
        )
        object.__setattr__(
            self, "noise_std", check_positive("noise_std", self.noise_std)
        )

    @property
    def n_pixels(self) -> int:
        """P, the dimension of an observation."""
        return self.A.shape[0]

    @property
    def n_latents(self) -> int:
        """N, the number of latents."""
        return self.A.shape[1]

    def prior(self) -> Independent:
        """The prior r(x) = N(0, s^2 I_N), event shape ``(N,)``."""
        zeros = self.A.new_zeros(self.n_latents)
        return Independent(Normal(zeros, self.prior_scale * torch.ones_like(zeros)), 1)

    def likelihood(self, x: torch.Tensor) -> Independent:
        """p(I | x) = N(A x, sigma^2 I_P) for latents ``x`` of shape ``(..., N)``."""
        x = self._check_last_dim("x", x, self.n_latents)
        mean = x @ self.A.T
        return Independent(Normal(mean, self.noise_std * torch.ones_like(mean)), 1)

    def marginal(self) -> MultivariateNormal:
        """The exact marginal r(I) = N(0, s^2 A A^T + sigma^2 I_P)."""
        cov = self.prior_scale**2 * self.A @ self.A.T
        cov = cov + self.noise_std**2 * torch.eye(self.n_pixels, dtype=self.A.dtype)
        return MultivariateNormal(
            self.A.new_zeros(self.n_pixels), covariance_matrix=cov
        )

    def posterior_cov(self) -> torch.Tensor:
        """S = (A^T A / sigma^2 + I / s^2)^{-1}, shape ``(N, N)`` (the same for every I)."""
        prec = self.A.T @ self.A / self.noise_std**2
        prec = (
            prec + torch.eye(self.n_latents, dtype=self.A.dtype) / self.prior_scale**2
        )
        return torch.cholesky_inverse(torch.linalg.cholesky(prec))

    def posterior(self, images: torch.Tensor) -> MultivariateNormal:
        """The exact posterior q(x | I) for images of shape ``(..., P)``; batch shape ``(...)``."""
        images = self._check_last_dim("images", images, self.n_pixels)
        cov = self.posterior_cov()
        mean = images @ (self.A @ cov) / self.noise_std**2
        return MultivariateNormal(
            mean, covariance_matrix=cov.expand(*mean.shape[:-1], -1, -1)
        )

    def sample(self, n: int, *, generator: torch.Generator | None = None):
        """Draw ``n`` pairs ``(x, I)`` from the joint r(x) p(I | x).

        Returns:
            ``(x, images)`` of shapes ``(n, N)`` and ``(n, P)``.
        """
        n = validation.check_int("n", n, 1)
        dtype = self.A.dtype
        x = self.prior_scale * torch.randn(
            n, self.n_latents, generator=generator, dtype=dtype
        )
        noise = self.noise_std * torch.randn(
            n, self.n_pixels, generator=generator, dtype=dtype
        )
        return x, x @ self.A.T + noise

    def _check_last_dim(
        self, name: str, value: torch.Tensor, size: int
    ) -> torch.Tensor:
        return _check_last_dim(self.A, name, value, size)


@dataclass(frozen=True)
class SparseLinearGaussian:
    r"""The sparse linear Gaussian image model of part 2 (Olshausen & Field 1997).

    .. math::
        r(x) = \prod_i \frac{\alpha}{2 s \Gamma(1/\alpha)} e^{-\lvert x_i / s\rvert^\alpha},
        \qquad I \mid x \sim \mathcal N(A x, \sigma^2 I_P).

    With ``alpha = 2`` it is a :class:`LinearGaussian` with prior standard deviation
    ``s / sqrt(2)`` (see :meth:`as_linear_gaussian`); otherwise neither the marginal
    r(I) nor the posterior q(x | I) has a closed form, and inference is by
    optimisation (:func:`lvmkit.lasso.fista` for the MAP when ``alpha = 1``) or
    sampling (:func:`lvmkit.mcmc.hmc` with :meth:`log_posterior_and_grad`).

    Args:
        A: Dictionary, shape ``(P, N)`` (columns are the features A_i).
        alpha: Prior shape ``> 0``.
        prior_scale: Prior scale ``s > 0``.
        noise_std: Pixel-noise standard deviation ``sigma > 0``.
    """

    A: torch.Tensor
    alpha: float = 1.0
    prior_scale: float = 1.0
    noise_std: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "A", _check_matrix(self.A))
        for name in ("alpha", "prior_scale", "noise_std"):
            object.__setattr__(self, name, check_positive(name, getattr(self, name)))

    @property
    def n_pixels(self) -> int:
        """P, the dimension of an image."""
        return self.A.shape[0]

    @property
    def n_latents(self) -> int:
        """N, the number of features."""
        return self.A.shape[1]

    @property
    def lasso_penalty(self) -> float:
        """``lambda = sigma^2 / s``: for alpha = 1 the MAP minimises
        ``1/2 |I - A x|^2 + lambda |x|_1``."""
        return self.noise_std**2 / self.prior_scale

    def prior(self) -> Independent:
        """r(x), event shape ``(N,)``."""
        from lvmkit.priors import GeneralizedGaussian

        ones = self.A.new_ones(self.n_latents)
        return Independent(
            GeneralizedGaussian(self.alpha * ones, self.prior_scale * ones), 1
        )

    def likelihood(self, x: torch.Tensor) -> Independent:
        """p(I | x) = N(A x, sigma^2 I_P) for latents of shape ``(..., N)``."""
        x = _check_last_dim(self.A, "x", x, self.n_latents)
        mean = x @ self.A.T
        return Independent(Normal(mean, self.noise_std * torch.ones_like(mean)), 1)

    def sample(self, n: int, *, generator: torch.Generator | None = None):
        """Draw ``n`` pairs ``(x, I)`` from r(x) p(I | x); shapes ``(n, N)`` and ``(n, P)``."""
        n = validation.check_int("n", n, 1)
        x = (
            self.prior()
            .base_dist.sample((int(n),), generator=generator)
            .to(self.A.dtype)
        )
        noise = self.noise_std * torch.randn(
            n, self.n_pixels, generator=generator, dtype=self.A.dtype
        )
        return x, x @ self.A.T + noise

    def log_posterior_and_grad(self, images: torch.Tensor):
        """Return ``f(x) -> (log r(x) + log p(I | x) + const, gradient)`` for a batch.

        Args:
            images: Shape ``(B, P)``. ``f`` takes ``x`` of shape ``(..., B, N)``.

        The gradient of ``|x|^alpha`` at 0 is taken as 0 (a measure-zero set).
        """
        images = _check_last_dim(self.A, "images", images, self.n_pixels)
        A, a, s, var = self.A, self.alpha, self.prior_scale, self.noise_std**2
        IA = images @ A / var
        G = A.T @ A / var

        def f(x: torch.Tensor):
            z = x.abs() / s
            xG = x @ G
            lp = -(z**a).sum(-1) - 0.5 * (x * xG).sum(-1) + (x * IA).sum(-1)
            gz = (
                torch.where(z > 0, z ** (a - 1), torch.zeros_like(z)) if a != 1 else 1.0
            )
            grad = -(a / s) * torch.sign(x) * gz - xG + IA
            return lp, grad

        return f

    def as_linear_gaussian(self) -> LinearGaussian:
        """The same model as a :class:`LinearGaussian` (only for ``alpha = 2``)."""
        if self.alpha != 2:
            raise ValueError(f"only alpha = 2 is Gaussian, got alpha = {self.alpha}")
        return LinearGaussian(self.A, self.prior_scale / 2**0.5, self.noise_std)


def _check_matrix(A) -> torch.Tensor:
    """A feature matrix: float32/64 tensor (or real array; integers become float64),
    shape ``(P, N)``, finite."""
    if not torch.is_tensor(A) and not isinstance(A, torch.Tensor):
        A = torch.as_tensor(A)
        if not A.is_floating_point() and A.dtype != torch.bool:
            A = A.double()
    return validation.as_float_tensor("A", A, shape=("P", "N"))


def _check_last_dim(A: torch.Tensor, name: str, value, size: int) -> torch.Tensor:
    validation.check_same_device(A=A, **{name: value})
    value = validation.as_float_tensor(name, value, shape=(..., size))
    return value.to(A.dtype)
