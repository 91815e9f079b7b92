"""The bugs the SBC chapter plants on purpose, to show that the diagnostic sees them.

Book-only. Each bug is built here from the library's parts, never switched on inside
the library's code: a model whose noise is wrong (inference assumes half the true
noise standard deviation) and acceptance rules that are wrong (every proposal
accepted; the kinetic energy forgotten in the Metropolis ratio).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from lvmkit import validation
from lvmkit.diagnostics import SBCResult, run_sbc
from lvmkit.mcmc import (
    EnergyChange,
    acceptance_probability,
    metropolis,
    sample_posterior,
)
from lvmkit.models import SparseLinearGaussian

__all__ = ["BUGS", "accept_all", "forget_kinetic_energy", "sbc_sparse_model"]

BUGS = (None, "noise-variance", "no-metropolis", "potential-only")


def accept_all(energy: EnergyChange, *, generator: torch.Generator | None = None):
    """Wrong on purpose: every finite proposal is accepted (unadjusted HMC).

    Draws nothing. The reported probability is still Metropolis's, so acceptance rates
    read as they would.
    """
    return acceptance_probability(energy.log_ratio), energy.proposal_finite


def forget_kinetic_energy(
    energy: EnergyChange, *, generator: torch.Generator | None = None
):
    """Wrong on purpose: the Metropolis test on the target's log ratio alone."""
    return metropolis(
        energy._replace(log_ratio=energy.potential_log_ratio), generator=generator
    )


_ACCEPTANCE = {"no-metropolis": accept_all, "potential-only": forget_kinetic_energy}


def sbc_sparse_model(
    model: SparseLinearGaussian,
    n_sims: int,
    *,
    bug: str | None = None,
    n_post: int = 19,
    thin: int = 15,
    n_warmup: int = 300,
    method: str = "hmc",
    generator: torch.Generator | None = None,
) -> SBCResult:
    """SBC of :func:`~lvmkit.mcmc.sample_posterior` on a sparse model, bugs planted.

    Ranks every latent and, as an extra column, the log-likelihood ``log p(I | x)``.

    Args:
        model: The model that generates the simulations.
        n_sims: Number of simulations (all inferred in one batch).
        bug: ``None`` (correct code); ``"noise-variance"``: inference assumes half the
            true noise standard deviation; ``"no-metropolis"``: every HMC proposal is
            accepted; ``"potential-only"``: the acceptance ratio forgets the kinetic
            energy.
        n_post: Posterior draws per simulation (after thinning by ``thin``).
        thin: Thinning of the chains (draws closer than about 10 iterations are still
            correlated enough to bend the rank histogram of a 144-latent model).
        n_warmup: Warm-up iterations.
        method: The sampler of :func:`~lvmkit.mcmc.sample_posterior` under test.
        generator: Source of randomness.

    Returns:
        :class:`SBCResult`.
    """
    if not isinstance(model, SparseLinearGaussian):
        raise TypeError(
            f"model must be a SparseLinearGaussian, got {validation.describe(model)}"
        )
    if bug not in BUGS:
        raise ValueError(f"bug must be one of {BUGS}, got {bug!r}")
    infer_model = (
        replace(model, noise_std=model.noise_std / 2)
        if bug == "noise-variance"
        else model
    )
    acceptance = _ACCEPTANCE.get(bug, metropolis)

    def infer(images):
        return sample_posterior(
            infer_model,
            images,
            n_samples=n_post,
            n_warmup=n_warmup,
            thin=thin,
            acceptance=acceptance,
            method=method,
            generator=generator,
        ).samples

    def loglik(x, images):
        return -0.5 * (images - x @ model.A.T).square().sum(-1)

    return run_sbc(
        lambda n: model.sample(n, generator=generator),
        infer,
        n_sims,
        n_bins=(n_post + 1) // 2 if (n_post + 1) % 10 else 10,
        quantity=loglik,
    )
