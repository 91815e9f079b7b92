"""Markov chain Monte Carlo: HMC as state, a pure step and one run loop.

Which file holds what:

* :mod:`~lvmkit.mcmc.state`: :class:`HMCState`, :class:`HMCInfo`,
  :class:`EnergyChange`, :class:`HMCResult`.
* :mod:`~lvmkit.mcmc.integrators`: :class:`Leapfrog` (any differentiable log density)
  and :class:`ExactKinkSplitting` (Gaussian likelihood, Laplace prior: the kinks at
  ``x_i = 0`` integrated exactly), interchangeable.
* :mod:`~lvmkit.mcmc.acceptance`: :func:`metropolis`; a rule is
  ``rule(energy, *, generator) -> (prob, accepted)``, passed to :func:`build_step`.
* :mod:`~lvmkit.mcmc.hmc`: :func:`build_step` (integrator + acceptance -> step) and
  :func:`hmc` (a differentiable log density, linear preconditioner).
* :mod:`~lvmkit.mcmc.run`: :func:`run_chains`, the loop (warm-up with step-size
  adaptation, thinning, keeping), written once.
* :mod:`~lvmkit.mcmc.gibbs`: :func:`gibbs`, Metropolis-within-Gibbs for a linear
  Gaussian likelihood and any factorised prior (no gradients: cusps and infinite
  slopes at 0 are harmless), as a state, a pure sweep and a loop.
* :mod:`~lvmkit.mcmc.elliptical`: :func:`build_elliptical_step`, elliptical slice
  sampling along the posterior's Gaussian ellipse (the joint move that
  :func:`gibbs` adds to its single-latent updates).
* :mod:`~lvmkit.mcmc.sparse_posterior`: :func:`sample_posterior` for a
  :class:`~lvmkit.models.SparseLinearGaussian` (start, preconditioner, integrator).

A step draws, in this order: the step-size jitter ``rand(B, 1)``, the momentum
``randn(B, N)``, then the acceptance rule's draws (``rand(B)`` for Metropolis).
"""

from lvmkit.mcmc.acceptance import acceptance_probability, metropolis
from lvmkit.mcmc.elliptical import build_elliptical_step
from lvmkit.mcmc.gibbs import GibbsInfo, GibbsResult, GibbsState, build_sweep, gibbs
from lvmkit.mcmc.hmc import build_step, hmc
from lvmkit.mcmc.integrators import ExactKinkSplitting, KinkState, Leapfrog, v_flow
from lvmkit.mcmc.run import adapt_step_size, run_chains
from lvmkit.mcmc.sparse_posterior import sample_posterior
from lvmkit.mcmc.state import EnergyChange, HMCInfo, HMCResult, HMCState, select

__all__ = [
    "EnergyChange",
    "ExactKinkSplitting",
    "GibbsInfo",
    "GibbsResult",
    "GibbsState",
    "HMCInfo",
    "HMCResult",
    "HMCState",
    "KinkState",
    "Leapfrog",
    "acceptance_probability",
    "adapt_step_size",
    "build_elliptical_step",
    "build_step",
    "build_sweep",
    "gibbs",
    "hmc",
    "metropolis",
    "run_chains",
    "sample_posterior",
    "select",
    "v_flow",
]
