"""The compiled lasso homotopy against scikit-learn's LARS path and the active-set solver."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import lars_path

from lvmkit.lasso import lasso, lasso_homotopy, lasso_objective

pytestmark = pytest.mark.usefixtures("one_thread")
F64 = torch.float64


@pytest.fixture
def no_fallback(monkeypatch):
    """Fail if the homotopy hands any image to the active-set solver: the certificate
    must hold for the path itself, or a bug in it would be hidden by the fallback."""
    import lvmkit.lasso.homotopy

    def refuse(*args, **kwargs):
        raise AssertionError("the homotopy fell back to the active-set solver")

    monkeypatch.setattr(lvmkit.lasso.homotopy, "lasso_active_set", refuse)


def _problem(seed, P=30, N=60, B=40):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(P, N, generator=g, dtype=F64) / P**0.5
    A[:, 1] = 0.95 * A[:, 0] + 0.05 * A[:, 1]  # a coherent pair
    images = torch.randn(B, P, generator=g, dtype=F64)
    return A, images


@pytest.mark.parametrize("lam", [0.02, 0.15, 0.6])
def test_matches_sklearn_lars_path_at_lambda(lam, no_fallback):
    """Exact oracle: scikit-learn's LARS-lasso path evaluated at the same penalty (its
    alpha is ours divided by the number of pixels)."""
    A, images = _problem(1)
    res = lasso_homotopy(images, A, lam)
    assert bool(res.converged.all()) and float(res.kkt.max()) <= 1e-9
    P = A.shape[0]
    for b in range(0, len(images), 4):
        _, _, coefs = lars_path(
            A.numpy(), images[b].numpy(), alpha_min=lam / P, method="lasso"
        )
        ref = torch.as_tensor(coefs[:, -1])
        assert torch.allclose(res.x[b], ref, atol=1e-9)
        exact = lasso_objective(images[b : b + 1], A, ref[None], lam)
        assert float(res.objective[b]) == pytest.approx(float(exact), rel=1e-12)


def test_agrees_with_the_active_set_solver_and_its_own_objective():
    A, images = _problem(2, P=40, N=120, B=200)
    A[:, 5] = A[:, 4]  # an exact duplicate: passed over, never joins twice
    act = lasso(images, A, 0.3, solver="active_set")
    hom = lasso_homotopy(images, A, 0.3)
    assert torch.allclose(hom.objective, act.objective, rtol=1e-12)

    def merged(x):  # a duplicated pair's split is not unique, its sum is
        return torch.cat([x[:, :4], x[:, 4:5] + x[:, 5:6], x[:, 6:]], 1)

    assert torch.allclose(merged(hom.x), merged(act.x), atol=1e-10)
    # the objective the kernel accumulates is the one lasso_objective computes
    assert torch.allclose(
        hom.objective, lasso_objective(images, A, hom.x, 0.3), rtol=1e-12
    )
    assert hom.n_iter >= int((hom.x != 0).sum(1).max())  # one piece per atom at least


def test_zero_code_above_lambda_max_and_first_atom_below_it(no_fallback):
    A, images = _problem(3, B=5)
    lam_max = (images @ A).abs().amax(1)
    res = lasso_homotopy(images, A, float(lam_max.max()) * 1.01)
    assert bool((res.x == 0).all()) and res.n_iter == 0
    one = lasso_homotopy(images[:1], A, float(lam_max[0]) * 0.999)
    assert int((one.x != 0).sum()) == 1  # just below lambda_max: only the best atom
    assert int(one.x.abs().argmax()) == int((images[0] @ A).abs().argmax())


def test_a_path_cut_short_is_finished_by_the_active_set_solver():
    A, images = _problem(4)
    short = lasso_homotopy(images, A, 0.05, max_steps=2)
    full = lasso_homotopy(images, A, 0.05)
    assert bool(short.converged.all())  # certified after the fallback
    assert torch.allclose(short.x, full.x, atol=1e-9)


def test_threads_and_float32(no_fallback):
    A, images = _problem(5, B=300)
    one = lasso_homotopy(images, A, 0.2, n_threads=1)
    two = lasso_homotopy(images, A, 0.2, n_threads=2)
    assert torch.equal(one.x, two.x)  # blocks of images are independent
    f32 = lasso_homotopy(images.float(), A.float(), 0.2, tol=1e-5)
    assert f32.x.dtype == torch.float32 and bool(f32.converged.all())
    assert torch.allclose(f32.x.double(), one.x, atol=1e-5)


def test_refuses_bad_arguments():
    A, images = _problem(6, B=2)
    with pytest.raises(ValueError, match="penalty"):
        lasso_homotopy(images, A, -1.0)
    with pytest.raises(ValueError, match="images"):
        lasso_homotopy(images[:, :5], A, 0.1)
    with pytest.raises(ValueError, match="max_steps"):
        lasso_homotopy(images, A, 0.1, max_steps=0)
    with pytest.raises(ValueError, match="solver"):
        lasso(images, A, 0.1, solver="lars")
    assert np.isfinite(lasso_homotopy(images, A, 0.1).objective.numpy()).all()


def test_duplicates_and_interpolation_certify_without_fallback(no_fallback):
    """Atoms in the span of the support are passed over: an exact duplicate, and
    lambda = 0 with more atoms than pixels (the path ends interpolating the image)."""
    A, images = _problem(7, P=12, N=30, B=20)
    A[:, 3] = A[:, 2]
    dup = lasso_homotopy(images, A, 0.1)
    assert bool(dup.converged.all())
    zero = lasso_homotopy(images, A, 0.0, tol=1e-8)
    assert bool(zero.converged.all())
    assert torch.allclose(zero.x @ A.T, images, atol=1e-7)
