"""Acceptance rules of an HMC step: ``rule(energy, *, generator) -> (prob, accepted)``.

An acceptance rule receives the :class:`~lvmkit.mcmc.hmc.EnergyChange` of a batch of
proposals and returns the acceptance probability and the decision of each chain, both
of shape ``(B,)``. The library has one, :func:`metropolis`; rules that are wrong on
purpose (the SBC chapter's planted bugs) are built outside the library
(:mod:`lvmkit.book.planted_bugs`) and passed in the same way.
"""

from __future__ import annotations

import torch

from lvmkit.mcmc.state import EnergyChange

__all__ = ["acceptance_probability", "metropolis"]


def acceptance_probability(log_ratio: torch.Tensor) -> torch.Tensor:
    """``min(1, exp(log_ratio))``, shape ``(B,)``; a NaN ratio counts as rejection."""
    log_ratio = torch.nan_to_num(log_ratio, nan=-torch.inf)
    return torch.exp(torch.clamp(log_ratio, max=0.0))


def metropolis(
    energy: EnergyChange, *, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Metropolis test on the joint density of position and momentum.

    Accepts each proposal with probability ``min(1, exp(-Delta H))``
    (``energy.log_ratio``), deciding with one uniform draw per chain.

    Returns:
        ``(prob, accepted)``, shapes ``(B,)`` (float) and ``(B,)`` (bool).
    """
    prob = acceptance_probability(energy.log_ratio)
    return prob, torch.rand(len(prob), generator=generator, dtype=prob.dtype) < prob
