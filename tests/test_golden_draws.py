"""Golden pins of the samplers' random streams (recorded before lvmkit's restructuring).

The part-2 chapters print numbers that depend on the exact order of the samplers'
draws (step-size jitter ``rand(B, 1)``, momentum ``randn(B, N)``, then the acceptance
uniform ``rand(B)``, none for the unadjusted planted bug). These tests run each sampler
and each planted bug on a fixed seed and compare the draws, the state of the
generator afterwards (how many numbers were consumed) and the SBC ranks with values
stored in ``tests/golden/sampler_draws.npz``. Regenerate only on purpose:
``python tests/test_golden_draws.py --write``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lvmkit.book.planted_bugs import accept_all, forget_kinetic_energy, sbc_sparse_model
from lvmkit.mcmc import metropolis, sample_posterior
from lvmkit.models import SparseLinearGaussian

GOLDEN = Path(__file__).parent / "golden" / "sampler_draws.npz"
# the acceptance rules, by the names of the string option they replaced (accept=...)
RULES = {
    "metropolis": metropolis,
    "none": accept_all,
    "potential-only": forget_kinetic_energy,
}
CASES = [
    (m, a) for m in ("hmc", "laplace") for a in ("metropolis", "none", "potential-only")
]
BUGS = (None, "noise-variance", "no-metropolis", "potential-only")


def _model() -> SparseLinearGaussian:
    A = torch.randn(
        6, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    return SparseLinearGaussian(A / 2, alpha=1.0, noise_std=0.5)


def _draws(method: str, accept: str) -> dict[str, np.ndarray]:
    model = _model()
    g = torch.Generator().manual_seed(11)
    _, images = model.sample(3, generator=g)
    res = sample_posterior(
        model,
        images,
        n_samples=7,
        n_warmup=9,
        thin=2,
        acceptance=RULES[accept],
        method=method,
        generator=g,
    )
    return {
        "samples": res.samples.numpy(),
        "step_size": res.step_size.numpy(),
        "after": torch.rand(4, generator=g, dtype=torch.float64).numpy(),
    }


def _ranks(bug) -> dict[str, np.ndarray]:
    g = torch.Generator().manual_seed(5)
    res = sbc_sparse_model(
        _model(), 25, bug=bug, n_post=7, thin=2, n_warmup=10, generator=g
    )
    return {
        "ranks": np.asarray(res.ranks),
        "after": torch.rand(4, generator=g, dtype=torch.float64).numpy(),
    }


def _all() -> dict[str, np.ndarray]:
    out = {}
    for method, accept in CASES:
        for k, v in _draws(method, accept).items():
            out[f"{method}/{accept}/{k}"] = v
    for bug in BUGS:
        for k, v in _ranks(bug).items():
            out[f"sbc/{bug}/{k}"] = v
    return out


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as f:
        return dict(f)


@pytest.mark.parametrize(("method", "accept"), CASES)
def test_sampler_draws_are_unchanged(golden, method, accept):
    for k, v in _draws(method, accept).items():
        np.testing.assert_allclose(
            v, golden[f"{method}/{accept}/{k}"], rtol=1e-10, atol=1e-12
        )


@pytest.mark.parametrize("bug", BUGS)
def test_sbc_ranks_of_the_planted_bugs_are_unchanged(golden, bug):
    got = _ranks(bug)
    np.testing.assert_array_equal(got["ranks"], golden[f"sbc/{bug}/ranks"])
    np.testing.assert_allclose(got["after"], golden[f"sbc/{bug}/after"], rtol=1e-12)


if __name__ == "__main__" and "--write" in sys.argv:
    torch.set_num_threads(1)
    np.savez(GOLDEN, **_all())
