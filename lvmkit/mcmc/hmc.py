"""Hamiltonian Monte Carlo as a pure step, with the integrator and the acceptance rule
passed in (blackjax style), and :func:`hmc`, the sampler for any differentiable log
density with a linear preconditioner."""

from __future__ import annotations

from collections.abc import Callable

import torch

from lvmkit import validation
from lvmkit.mcmc.acceptance import metropolis
from lvmkit.mcmc.integrators import Leapfrog
from lvmkit.mcmc.run import run_chains
from lvmkit.mcmc.state import HMCInfo, HMCResult, select

__all__ = ["build_step", "hmc"]


def build_step(integrator, acceptance: Callable = metropolis) -> Callable:
    """One HMC step: ``step(state, log_step_size, *, generator) -> (state, HMCInfo)``.

    Each call draws, in this order, the step-size jitter (``rand(B, 1)``: the step size
    of each chain times a factor in ``[0.9, 1.1)``), the momentum (in
    ``integrator.propose``) and whatever ``acceptance`` draws (one uniform per chain for
    :func:`~lvmkit.mcmc.acceptance.metropolis`).

    Args:
        integrator: See :mod:`lvmkit.mcmc.integrators`.
        acceptance: ``rule(EnergyChange, *, generator) -> (prob, accepted)``.
    """

    def step(state, log_step_size: torch.Tensor, *, generator=None):
        B, dt = log_step_size.shape[0], log_step_size.dtype
        jitter = 0.9 + 0.2 * torch.rand(B, 1, generator=generator, dtype=dt)
        eps = torch.exp(log_step_size)[:, None] * jitter
        proposal, energy = integrator.propose(state, eps, generator=generator)
        prob, accepted = acceptance(energy, generator=generator)
        return select(accepted, proposal, state), HMCInfo(prob, accepted)

    return step


def hmc(
    log_prob_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    x0: torch.Tensor,
    *,
    n_samples: int,
    n_warmup: int = 200,
    n_leapfrog: int = 8,
    step_size: float = 0.2,
    precond: torch.Tensor | None = None,
    target_accept: float = 0.8,
    thin: int = 1,
    acceptance: Callable = metropolis,
    generator: torch.Generator | None = None,
) -> HMCResult:
    r"""Hamiltonian Monte Carlo, one chain per row of ``x0``, all chains in lock step.

    The sampler runs in whitened coordinates ``u`` with ``x = u C^T`` (``C = precond``,
    e.g. a Cholesky factor of a Gaussian approximation of the posterior covariance), so
    an identity mass matrix in ``u`` is the mass matrix ``(C C^T)^{-1}`` in ``x``. Each
    iteration draws a momentum, runs ``n_leapfrog`` leapfrog steps with a step size
    jittered by +-10 %, and accepts with probability ``min(1, exp(-Delta H))``. During
    warm-up each chain adapts its own step size (Robbins-Monro on the log step size,
    towards ``target_accept``); afterwards it is frozen, so the kept draws form a valid
    Markov chain whose stationary law is the target.

    Args:
        log_prob_and_grad: ``x (B, N) -> (log p (B,), grad (B, N))``, unnormalised.
        x0: Initial states, shape ``(B, N)``.
        n_samples: Draws kept per chain (after thinning).
        n_warmup: Adaptation iterations (discarded).
        n_leapfrog: Leapfrog steps per iteration.
        step_size: Initial step size in ``u`` coordinates.
        precond: ``C``, shape ``(N, N)``; identity if ``None``.
        target_accept: Mean acceptance probability aimed at in warm-up.
        thin: Keep every ``thin``-th iteration.
        acceptance: The acceptance rule (:mod:`lvmkit.mcmc.acceptance`), default
            :func:`~lvmkit.mcmc.acceptance.metropolis`.
        generator: Source of randomness.

    Returns:
        :class:`~lvmkit.mcmc.HMCResult`.
    """
    _validate_hmc(
        log_prob_and_grad,
        x0,
        n_samples,
        n_warmup,
        n_leapfrog,
        step_size,
        precond,
        target_accept,
        thin,
        acceptance,
        generator,
    )
    x0 = torch.as_tensor(x0)
    B, N = x0.shape
    dt = x0.dtype
    C = (
        torch.eye(N, dtype=dt)
        if precond is None
        else torch.as_tensor(precond, dtype=dt)
    )
    Cinv = torch.linalg.inv(C)

    def f(u):
        lp, g = log_prob_and_grad(u @ C.T)
        return lp, g @ C

    integrator = Leapfrog(f, n_leapfrog)
    state = integrator.init(x0 @ Cinv.T)
    _check_log_density(state.log_prob, state.grad, B, N)
    log_eps = torch.full((B,), float(torch.log(torch.tensor(step_size))), dtype=dt)
    return run_chains(
        build_step(integrator, acceptance),
        state,
        log_step_size=log_eps,
        n_samples=n_samples,
        n_warmup=n_warmup,
        thin=thin,
        target_accept=target_accept,
        position=lambda s: s.position @ C.T,
        log_prob=integrator.log_prob,
        generator=generator,
    )


def _validate_hmc(
    log_prob_and_grad,
    x0,
    n_samples,
    n_warmup,
    n_leapfrog,
    step_size,
    precond,
    target_accept,
    thin,
    acceptance,
    generator,
) -> None:
    """Every argument of :func:`hmc`, before any work."""
    validation.check_callable("log_prob_and_grad", log_prob_and_grad)
    validation.check_callable("acceptance", acceptance)
    x0 = validation.as_float_tensor("x0", x0, shape=("B", "N"))
    validation.check_int("n_samples", n_samples, 1)
    validation.check_int("n_warmup", n_warmup, 0)
    validation.check_int("n_leapfrog", n_leapfrog, 1)
    validation.check_int("thin", thin, 1)
    validation.check_positive("step_size", step_size)
    validation.check_probability(
        "target_accept", target_accept, open_low=True, open_high=True
    )
    if precond is not None:
        C = validation.as_float_tensor(
            "precond", precond, shape=(x0.shape[1], x0.shape[1])
        )
        validation.check_same_device(x0=x0, precond=C)
        cond = float(torch.linalg.cond(C.double()))
        if not cond <= 1e12:  # also catches NaN / inf
            raise ValueError(
                f"precond must be well conditioned (condition number <= 1e12), "
                f"got {cond:.3g}"
            )
    validation.check_generator("generator", generator)


def _check_log_density(lp, g, B: int, N: int) -> None:
    """What ``log_prob_and_grad`` returned at ``x0``: shapes ``(B,)``, ``(B, N)``, finite.

    A scalar log density would be broadcast over the chains without a word, and a
    non-finite one at the start freezes every chain (each proposal compares with NaN).
    """
    name = "log_prob_and_grad"
    for what, value, shape in (("log density", lp, (B,)), ("gradient", g, (B, N))):
        if not torch.is_tensor(value) or tuple(value.shape) != shape:
            raise ValueError(
                f"{name} must return a {what} of shape {shape} at x0, got "
                f"{validation.describe(value)}"
            )
        if not bool(torch.isfinite(value).all()):
            raise ValueError(
                f"{name} must return a finite {what} at x0 (start the chains "
                f"where the density is positive), got "
                f"{int((~torch.isfinite(value)).sum())} non-finite of {value.numel()}"
            )
