"""The cached Bayes'-loop fit (data/bayes_loop.npz) is what scripts/make_bayes_loop.py
computes: its first EM iteration is reproduced, and the stored summaries are coherent."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from stats import bonferroni, failure_rate, z_threshold

from lvmkit.artifacts import load_npz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

pytestmark = pytest.mark.usefixtures("one_thread")


@failure_rate(0.01, "z bound (Bonferroni over 144 latents) on mean |x| of 3000 draws")
def test_cache_reproduces_the_first_em_iteration():
    """The start is exact; the first M step is a Monte Carlo mean of |x| over
    N_EM x EM_SAMPLES draws, and another BLAS kernel changes the chains' last bits and,
    through their chaos, the draws: it is compared within its Monte Carlo error (|x|
    of a Laplace has coefficient of variation 1; x1.5 for correlated draws)."""
    import make_bayes_loop as mk

    cache = load_npz("bayes_loop.npz")
    fit = mk.em_fit(max_iter=1, log=lambda *a: None)
    path = fit.scales_path.numpy()
    np.testing.assert_allclose(path[0], cache["scales_path"][0], rtol=1e-12, atol=0)
    z = z_threshold(bonferroni(0.01, path.shape[1]))
    rtol = z * 1.5 / np.sqrt(mk.N_EM * mk.EM_SAMPLES)
    np.testing.assert_allclose(path[1], cache["scales_path"][1], rtol=rtol, atol=0)


def test_cache_is_converged_by_its_stated_rule():
    cache = load_npz("bayes_loop.npz")
    k = int(cache["patience"])
    assert bool(cache["converged"])
    assert np.all(cache["change"][-k:] < float(cache["tol"]))
    final = cache["scales_path"][-k:].mean(0)
    np.testing.assert_allclose(cache["scales"], final, rtol=1e-12)
    assert cache["eta_t"].shape == (5, len(cache["ts"]))


def test_replicate_smoke():
    """One tiny replicate runs and returns finite numbers (the script's code path)."""
    import make_bayes_loop as mk

    from lvmkit.book import part2_bayes_loop as bl

    A, s0, sigma = mk.start()
    out = bl.replicate(A, s0, 5 * s0, sigma, 0, 20, (0.0, 1.0))
    assert all(np.all(np.isfinite(v)) for v in out.values())
    assert torch.is_tensor(A)
