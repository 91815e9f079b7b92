r"""A measure-preserving, invertible map of latent space that destroys neighbourhoods.

For a factorised prior :math:`p(z) = \prod_i p_i(z_i)` with CDFs :math:`F_i`,

.. math::
    S(z) = F^{-1}\big(\pi(F(z))\big),

where :math:`F(z) = (F_1(z_1), \dots, F_d(z_d))` maps the prior to the uniform
distribution on the unit cube, and :math:`\pi` cuts the cube into :math:`M^d` equal
cells and moves each cell (rigidly, keeping the offset inside it) to the cell given by a
fixed random permutation. :math:`\pi` preserves the uniform measure, hence
:math:`S_\# p = p`, and :math:`S^{-1} = F^{-1} \circ \pi^{-1} \circ F`.

Composing a trained VAE with :math:`S` (decoder :math:`p(x \mid S^{-1}(z))`, posterior
:math:`S_\# q(\cdot \mid x)`) leaves the prior, the marginal likelihood, the rate
and the mutual information unchanged, because density ratios are invariant:
:math:`q'(z' \mid x) / p(z') = q(z \mid x) / p(z)` at :math:`z' = S(z)`. Only the
geometry changes: each posterior is shattered into fragments scattered over the whole
space ("salt and pepper"). :class:`ScrambledModel` implements this composition with the
latent model protocol of :mod:`lvmkit.vae`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Independent, Laplace, Normal

from lvmkit import validation

__all__ = ["CellScramble", "ScrambledModel"]

_EPS = 1e-15


def _cdf(base, z: torch.Tensor) -> torch.Tensor:
    if isinstance(base, Normal):
        return torch.special.ndtr((z - base.loc) / base.scale)
    if isinstance(base, Laplace):
        t = (z - base.loc) / base.scale
        return torch.where(t < 0, 0.5 * torch.exp(t), 1 - 0.5 * torch.exp(-t))
    raise ValueError(
        f"only Normal and Laplace priors are supported, got {type(base).__name__}"
    )


def _icdf(base, u: torch.Tensor) -> torch.Tensor:
    u = u.clamp(_EPS, 1 - _EPS)
    if isinstance(base, Normal):
        return base.loc + base.scale * torch.special.ndtri(u)
    t = torch.where(u < 0.5, torch.log(2 * u), -torch.log(2 * (1 - u)))
    return base.loc + base.scale * t


@dataclass(frozen=True)
class CellScramble:
    """The map :math:`S` for a given factorised prior.

    Args:
        prior: ``Independent(Normal | Laplace, 1)`` with event shape ``(d,)``.
        cells_per_dim: ``M``, cells per axis of the unit cube (``M^d <= 2**24``).
        permutation: Permutation of ``range(M^d)``, an integer tensor (a float one is
            refused rather than truncated); see :meth:`random`.

    ``S`` and ``S^{-1}`` are computed in float64 and returned in ``z``'s dtype, on the
    prior's device (``z`` must be there). Cells are half-open in CDF space, and each
    output is placed (to the last ulp of its dtype) inside the cell it is sent to, so
    ``S^{-1}(S(z))`` is ``z`` up to rounding for every ``z``, cell boundaries included
    (``z = 0`` is one whenever ``M`` is even), wherever the prior's CDF is not saturated
    (about ``|z| < 8`` for the normal prior).
    """

    prior: Independent
    cells_per_dim: int
    permutation: torch.Tensor

    def __post_init__(self) -> None:
        d = self.prior.event_shape[0] if len(self.prior.event_shape) == 1 else -1
        if d < 1 or not isinstance(self.prior.base_dist, (Normal, Laplace)):
            raise ValueError(
                "prior must be Independent(Normal or Laplace, 1) with d >= 1"
            )
        object.__setattr__(
            self,
            "cells_per_dim",
            validation.check_int("cells_per_dim", self.cells_per_dim, 2),
        )
        n_cells = self.cells_per_dim**d
        raw = self.permutation
        if isinstance(raw, (bool, str, bytes)) or raw is None:
            raise TypeError(
                f"permutation must hold integers, got {validation.describe(raw)}"
            )
        try:
            raw = torch.as_tensor(raw)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(
                f"permutation must hold integers, got "
                f"{validation.describe(self.permutation)}"
            ) from err
        if raw.is_floating_point() or raw.is_complex() or raw.dtype == torch.bool:
            # as_tensor(..., dtype=long) would truncate 1.7 to 1 without a word
            raise TypeError(
                f"permutation must be an integer tensor (e.g. torch.randperm), "
                f"got {validation.describe(self.permutation)}"
            )
        base = self.prior.base_dist
        perm = raw.to(torch.long).to(base.loc.device)
        if perm.shape != (n_cells,) or not torch.equal(
            perm.sort().values, torch.arange(n_cells, device=perm.device)
        ):
            raise ValueError(f"permutation must be a permutation of range({n_cells})")
        object.__setattr__(self, "permutation", perm)
        object.__setattr__(self, "_inverse", torch.argsort(perm))
        object.__setattr__(
            self, "_base", type(base)(base.loc.double(), base.scale.double())
        )

    @classmethod
    def random(
        cls, prior: Independent, cells_per_dim: int, *, generator: torch.Generator
    ) -> CellScramble:
        """A uniformly random permutation of the ``M^d`` cells."""
        d = prior.event_shape[0]
        validation.check_int("cells_per_dim", cells_per_dim, 2)
        if cells_per_dim < 2 or cells_per_dim**d > 2**24:
            raise ValueError(
                f"need 2 <= cells_per_dim and cells_per_dim**d <= 2**24, got "
                f"{cells_per_dim}**{d}"
            )
        return cls(
            prior, cells_per_dim, torch.randperm(cells_per_dim**d, generator=generator)
        )

    @property
    def n_latents(self) -> int:
        return self.prior.event_shape[0]

    def _cells(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cell index ``(..., d)`` (int64) and offset in ``[0, 1)`` of each coordinate.

        Cells are half-open, ``[k / M, (k + 1) / M)`` in CDF space, the top one closed.
        """
        M = self.cells_per_dim
        u = _cdf(self._base, z.double()) * M
        cell = u.floor().clamp(0, M - 1)
        return cell.long(), (u - cell).clamp(0.0, 1.0)

    def _move(self, z: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
        validation.check_same_device(z=z, prior=self._base.loc)
        z = validation.as_float_tensor("z", z, shape=(..., self.n_latents))
        M, dtype = self.cells_per_dim, z.dtype
        cell, offset = self._cells(z)
        weights = M ** torch.arange(self.n_latents, dtype=torch.long, device=z.device)
        new = perm[(cell * weights).sum(-1)]
        new_cell = (new[..., None] // weights) % M
        out = _icdf(self._base, (new_cell.double() + offset) / M).to(dtype)
        # The output must lie in the cell it was sent to, in its own dtype, or the inverse
        # reads the neighbouring cell: a point on a boundary (offset 0, e.g. z = 0 when M
        # is even) comes back from F^{-1} and the rounding to ``dtype`` a few ulps to
        # either side. Move such a point towards its cell by steps that double from
        # eps (|z| + s) (F is monotone: the first step that lands inside is at most twice
        # the distance needed, a few ulps).
        got = self._cells(out)[0]
        bad = got != new_cell
        if bool(bad.any()):
            start = out
            direction = torch.where(got < new_cell, 1.0, -1.0).to(dtype)
            h = torch.finfo(dtype).eps * (start.abs() + self._base.scale.to(dtype))
            for i in range(64):
                out = torch.where(bad, start + direction * h * 2.0**i, out)
                bad = self._cells(out)[0] != new_cell
                if not bool(bad.any()):
                    break
        return out

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """S(z) for ``z (..., d)``, computed in float64, returned in ``z``'s dtype."""
        return self._move(z, self.permutation)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """S^{-1}(z)."""
        return self._move(z, self._inverse)


class ScrambledModel:
    """A latent model composed with a :class:`CellScramble`: same p(x), same I(x; z).

    Implements the latent model protocol of :mod:`lvmkit.vae` (``n_latents``,
    ``prior``, ``sample_posterior``, ``posterior_log_prob``, ``decoder_log_prob``)
    plus ``code`` (the point representation ``S(mu(x))``) and ``decoder_probs``.
    """

    def __init__(self, model, scramble: CellScramble):
        if not isinstance(scramble, CellScramble):
            raise TypeError(
                f"scramble must be a CellScramble, got {validation.describe(scramble)}"
            )
        if model.n_latents != scramble.n_latents:
            raise ValueError(
                f"scramble must have the model's latent dimension "
                f"{model.n_latents}, got {scramble.n_latents}"
            )
        self.model, self.scramble, self.n_latents = model, scramble, model.n_latents

    @property
    def n_pixels(self) -> int | None:
        """P of the wrapped model."""
        return getattr(self.model, "n_pixels", None)

    def prior(self) -> Independent:
        return self.model.prior()

    def _log_ratio(self, z_new: torch.Tensor, z_old: torch.Tensor) -> torch.Tensor:
        prior = self.prior()
        return prior.log_prob(z_new) - prior.log_prob(z_old)

    def sample_posterior(self, x: torch.Tensor, n_samples: int = 1, *, generator=None):
        """``z' = S(z)``, ``z ~ q(z | x)``, and ``log q'(z' | x)`` by change of variables."""
        z, log_q = self.model.sample_posterior(x, n_samples, generator=generator)
        z_new = self.scramble(z)
        return z_new, log_q + self._log_ratio(z_new, z)

    def posterior_log_prob(self, x: torch.Tensor, z_new: torch.Tensor) -> torch.Tensor:
        z = self.scramble.inverse(z_new)
        return self.model.posterior_log_prob(x, z) + self._log_ratio(z_new, z)

    def decoder_log_prob(self, x: torch.Tensor, z_new: torch.Tensor) -> torch.Tensor:
        return self.model.decoder_log_prob(x, self.scramble.inverse(z_new))

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The point code ``S(mu(x))``, shape ``(B, d)``."""
        return self.scramble(self.model.posterior(x).base_dist.loc)

    def decoder_probs(self, z_new: torch.Tensor) -> torch.Tensor:
        """E[x | z'] = the original decoder's mean at S^{-1}(z')."""
        return self.model.decoder.probs(self.scramble.inverse(z_new))
