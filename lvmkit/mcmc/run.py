"""The loop of an HMC run, written once: warm-up with step-size adaptation, thinning,
keeping. Any step built by :func:`~lvmkit.mcmc.hmc.build_step` runs in it."""

from __future__ import annotations

from collections.abc import Callable

import torch

from lvmkit.mcmc.state import HMCInfo, HMCResult

__all__ = ["adapt_step_size", "run_chains"]


def adapt_step_size(
    log_eps, log_eps_sum, n_avg: int, it: int, prob, n_warmup: int, target_accept: float
):
    """One warm-up step of the per-chain step-size adaptation (Robbins-Monro on log eps).

    The step size moves towards ``target_accept``; over the second half of warm-up the
    iterates are averaged, and the average is the step size used for sampling.
    """
    gain = 1.0 / (it + 10) ** 0.6
    log_eps = log_eps + 2.0 * gain * (prob - target_accept)
    if it >= n_warmup // 2:
        log_eps_sum = log_eps_sum + log_eps
        n_avg += 1
    if it == n_warmup - 1 and n_avg:
        log_eps = log_eps_sum / n_avg
    return log_eps, log_eps_sum, n_avg


def run_chains(
    step: Callable,
    state,
    *,
    log_step_size: torch.Tensor,
    n_samples: int,
    n_warmup: int,
    thin: int,
    target_accept: float,
    position: Callable,
    log_prob: Callable,
    generator: torch.Generator | None = None,
) -> HMCResult:
    """Run ``B`` chains in lock step: ``n_warmup`` adapting iterations, then keep draws.

    Args:
        step: ``step(state, log_step_size, *, generator) -> (state, HMCInfo)``.
        state: The chains' initial state.
        log_step_size: Initial log step size of each chain, shape ``(B,)``.
        n_samples: Draws kept per chain (after thinning).
        n_warmup: Adaptation iterations (discarded); the step size is frozen after them.
        thin: Keep every ``thin``-th iteration.
        target_accept: Mean acceptance probability aimed at in warm-up.
        position: ``state -> (B, N)`` draw to keep.
        log_prob: ``state -> (B,)`` log density to keep.
        generator: Source of randomness, passed to ``step``.

    Returns:
        :class:`~lvmkit.mcmc.HMCResult`.
    """
    log_eps = log_step_size
    log_eps_sum, n_avg = torch.zeros_like(log_eps), 0
    kept, kept_lp = [], []
    acc_sum = torch.zeros_like(log_eps)
    for it in range(n_warmup + n_samples * thin):
        state, info = step(state, log_eps, generator=generator)
        info: HMCInfo
        if it < n_warmup:
            log_eps, log_eps_sum, n_avg = adapt_step_size(
                log_eps,
                log_eps_sum,
                n_avg,
                it,
                info.accept_prob,
                n_warmup,
                target_accept,
            )
        else:
            acc_sum += info.accept_prob
            if (it - n_warmup + 1) % thin == 0:
                kept.append(position(state))
                kept_lp.append(log_prob(state))
    return HMCResult(
        torch.stack(kept),
        acc_sum / (n_samples * thin),
        torch.exp(log_eps),
        torch.stack(kept_lp),
    )
