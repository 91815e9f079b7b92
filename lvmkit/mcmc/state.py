"""The types an HMC step passes around (blackjax style: state, info, energy change)."""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["EnergyChange", "HMCInfo", "HMCResult", "HMCState", "select"]


class HMCState(NamedTuple):
    """The state of ``B`` chains of a differentiable target.

    Attributes:
        position: Shape ``(B, N)`` (in the sampler's coordinates).
        log_prob: Unnormalised log density at ``position``, shape ``(B,)``.
        grad: Its gradient, shape ``(B, N)``.
    """

    position: torch.Tensor
    log_prob: torch.Tensor
    grad: torch.Tensor


class EnergyChange(NamedTuple):
    """What an integrator reports about a batch of proposals, for the acceptance rule.

    Attributes:
        log_ratio: ``-Delta H``, the log ratio of the joint density of position and
            momentum, proposal over current, shape ``(B,)``.
        potential_log_ratio: The same without the kinetic energy (the target's log
            ratio alone), shape ``(B,)``.
        proposal_finite: Whether the target's density is finite at the proposal, ``(B,)``.
    """

    log_ratio: torch.Tensor
    potential_log_ratio: torch.Tensor
    proposal_finite: torch.Tensor


class HMCInfo(NamedTuple):
    """What one step did, per chain.

    Attributes:
        accept_prob: Acceptance probability, shape ``(B,)``.
        accepted: Whether the proposal was accepted, shape ``(B,)``.
    """

    accept_prob: torch.Tensor
    accepted: torch.Tensor


class HMCResult(NamedTuple):
    """Output of a run of chains (:func:`~lvmkit.mcmc.run_chains`).

    Attributes:
        samples: Shape ``(S, B, N)``: ``S`` kept draws for each of ``B`` chains.
        accept_rate: Mean acceptance probability after warm-up, shape ``(B,)``.
        step_size: The adapted step size of each chain, shape ``(B,)``.
        log_prob: Unnormalised log density of each kept draw, shape ``(S, B)``.
    """

    samples: torch.Tensor
    accept_rate: torch.Tensor
    step_size: torch.Tensor
    log_prob: torch.Tensor


def select(
    accepted: torch.Tensor, proposal: NamedTuple, state: NamedTuple
) -> NamedTuple:
    """Field by field, the proposal where ``accepted`` (shape ``(B,)``), else the state."""
    fields = []
    for new, old in zip(proposal, state, strict=True):
        keep = accepted.reshape(-1, *([1] * (new.ndim - 1)))
        fields.append(torch.where(keep, new, old))
    return type(state)(*fields)
