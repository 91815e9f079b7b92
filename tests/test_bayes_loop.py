"""The cached Bayes'-loop fit (data/bayes_loop.npz) is what scripts/make_bayes_loop.py
computes: its first EM iteration is reproduced, and the stored summaries are coherent."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lvmkit.artifacts import load_npz

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

pytestmark = pytest.mark.usefixtures("one_thread")


def test_cache_reproduces_the_first_em_iteration():
    import make_bayes_loop as mk

    cache = load_npz("bayes_loop.npz")
    fit = mk.em_fit(max_iter=1, log=lambda *a: None)
    np.testing.assert_allclose(
        fit.scales_path.numpy(), cache["scales_path"][:2], rtol=1e-9, atol=0
    )


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
