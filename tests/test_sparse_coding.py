"""Dictionary learning and Gabor fitting; the cached dictionary reproduces its metrics."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lvmkit.artifacts import load_npz
from lvmkit.patches import natural_patches
from lvmkit.sparse_coding import fit_gabor, gabor, learn_dictionary, pca_components

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

pytestmark = pytest.mark.usefixtures("one_thread")


def test_cached_dictionary_reproduces_stored_metrics():
    import make_dictionary as mk

    fit = load_npz("dictionary.npz")
    A = torch.from_numpy(fit["A"])
    assert A.shape == (144, 144)
    assert torch.allclose(
        A.norm(dim=0), torch.ones(144, dtype=torch.float64), atol=1e-6
    )
    heldout = natural_patches(mk.N_HELDOUT, mk.SIZE, seed=1)
    np.testing.assert_allclose(
        heldout.probe(), fit["heldout_probe"], rtol=0, atol=1e-12
    )
    obj, sigma = mk.heldout_objective(A, heldout.patches, float(fit["penalty"]))
    assert obj == pytest.approx(float(fit["heldout_objective"]), rel=1e-6)
    assert sigma == pytest.approx(float(fit["noise_std"]), rel=1e-6)
    for i in (0, 50):
        assert fit_gabor(A[:, i]).r2 == pytest.approx(fit["gabor_r2"][i], abs=1e-3)


def test_gabor_fit_recovers_a_gabor_and_rejects_noise():
    true = np.array([1.0, 5.2, 6.1, 0.7, 0.18, 0.4, 1.6, 2.2])
    img = gabor(true, 12)
    fit = fit_gabor(img)
    assert fit.r2 > 0.999
    noise = np.random.default_rng(0).standard_normal(144)
    assert fit_gabor(noise).r2 < 0.5


@pytest.mark.parametrize("coder", ["lasso", "fista"])
def test_learn_dictionary_reduces_objective_and_keeps_norms(coder):
    x = natural_patches(2000, 8, seed=0).patches
    res = learn_dictionary(
        x,
        64,
        0.5,
        n_steps=40,
        batch_size=128,
        coder=coder,
        generator=torch.Generator().manual_seed(0),
    )
    assert res.objective[-10:].mean() < 0.8 * res.objective[0]
    assert torch.all(res.A.norm(dim=0) <= 1 + 1e-9)


def test_exact_codes_are_the_lasso_minimisers():
    """With coder="lasso" the recorded objective of a step is the exact minimum: one
    step from a given dictionary reports what lasso reports for that minibatch."""
    from lvmkit.lasso import lasso

    x = natural_patches(500, 8, seed=1).patches
    A0 = torch.randn(
        64, 96, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    A0 = A0 / A0.norm(dim=0)
    gen = torch.Generator().manual_seed(2)
    res = learn_dictionary(x, 96, 0.4, n_steps=1, batch_size=64, A0=A0, generator=gen)
    idx = torch.randint(len(x), (64,), generator=torch.Generator().manual_seed(2))
    exact = float(lasso(x[idx], A0, 0.4).objective.mean())
    assert res.objective[0] == pytest.approx(exact, rel=1e-12)


def test_without_norm_constraint_the_scale_runs_away():
    """The degeneracy of intuition 3: atoms grow and codes shrink."""
    x = natural_patches(1000, 8, seed=0).patches
    res = learn_dictionary(
        x,
        64,
        0.5,
        n_steps=100,
        batch_size=128,
        method="sgd",
        lr=0.5,
        norm_constraint=False,
        generator=torch.Generator().manual_seed(0),
    )
    assert res.atom_norm[-1] > 1.5  # the atoms start at unit norm
    assert res.code_scale[-1] < 0.7 * res.code_scale[1]


def test_pca_components_are_orthonormal():
    pcs = pca_components(natural_patches(1000, 6, seed=0).patches)
    np.testing.assert_allclose((pcs.T @ pcs).numpy(), np.eye(36), atol=1e-10)


def test_atom_update_is_the_projected_minimiser():
    """With uncorrelated codes (diagonal xx) the atoms decouple: each moves to
    ix_j / xx_jj, projected onto the unit ball; atoms never used (xx_jj = 0) stay."""
    from lvmkit.sparse_coding import _update_atoms

    g = torch.Generator().manual_seed(3)
    A = torch.randn(10, 6, generator=g, dtype=torch.float64)
    diag = torch.tensor([2.0, 0.5, 1.0, 0.0, 4.0, 0.1], dtype=torch.float64)
    scale = torch.tensor(
        [1, 0.01, 1, 1, 1, 0.01]
    )  # some minimisers inside the unit ball
    ix = torch.randn(10, 6, generator=g, dtype=torch.float64) * scale
    new = _update_atoms(A, torch.diag(diag), ix)
    for j in range(6):
        if diag[j] == 0:
            assert torch.equal(new[:, j], A[:, j])
            continue
        u = ix[:, j] / diag[j]
        assert torch.allclose(new[:, j], u / max(float(u.norm()), 1.0), atol=1e-14)
