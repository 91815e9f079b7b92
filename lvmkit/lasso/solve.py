"""The front door of the lasso: :func:`lasso` picks an exact solver."""

from __future__ import annotations

import torch

from lvmkit import validation
from lvmkit.lasso.active_set import lasso_active_set
from lvmkit.lasso.core import LassoResult
from lvmkit.lasso.homotopy import lasso_homotopy

__all__ = ["lasso"]


def lasso(
    images: torch.Tensor,
    A: torch.Tensor,
    penalty: float,
    *,
    tol: float = 1e-9,
    solver: str = "auto",
    max_iter: int = 100,
    max_add: int = 2,
    x0: torch.Tensor | None = None,
    gram: torch.Tensor | None = None,
    chunk_size: int = 2048,
) -> LassoResult:
    r"""Solve ``B`` lasso problems at once, exactly, with an optimality certificate each.

    .. math::
        \hat x(I) = \arg\min_x \tfrac12 \lVert I - A x\rVert^2 + \lambda \lVert x\rVert_1 ,

    the same problem as :func:`fista` (and scikit-learn's ``Lasso(alpha=lambda / P,
    fit_intercept=False)``), but solved to machine precision, because a sparse code has
    few nonzeros. Two exact solvers:

    - ``solver="homotopy"``: :func:`lvmkit.lasso.lasso_homotopy`, each image's
      regularisation path followed in compiled code (CPU, float64). The default
      (``"auto"``) on the CPU without a warm start: the fastest here.
    - ``solver="active_set"``: pure torch, batched, any device, uses ``x0``; the default
      (``"auto"``) on other devices or with a warm start. It is described below.

    The active-set solver is the feature-sign search of Lee, Battle, Raina & Ng (2007),
    run on all images in lock step, adding several atoms at a time. Each iteration, for
    every image still running:

    1. the gradient ``g = A^T I - G x`` (``G = A^T A``, one matrix product for the batch)
       gives the optimality conditions: ``g_j = lambda sign x_j`` on the support and
       ``|g_j| <= lambda`` off it;
    2. if the support is optimal, up to ``max_add`` of the worst violators join it with
       the sign of their gradient;
    3. the quadratic with those signs is minimised exactly on the (padded) working set,
       ``z = G_SS^{-1} (A_S^T I - lambda theta)``, by batched Cholesky factorisations of
       the gathered Gram submatrices;
    4. a line search from ``x`` to ``z`` over the points where a coefficient changes
       sign picks the lowest objective; coefficients that reach zero leave the support;
    5. while the chosen point is such a sign change, steps 3 and 4 repeat on the
       smaller support (feature-sign's inner loop), reusing the gathered Gram
       submatrix with the departed atoms padded out, so a sign fix costs one small
       factorisation rather than another pass over all ``N`` atoms.

    When the working set's Gram block is singular (its atoms are linearly dependent:
    more atoms than pixels, or an atom in the span of the others, as happens with a
    correlated dictionary at small ``lambda``), step 3 moves instead along a null
    direction of the block, which leaves the fit unchanged and lowers the penalty, to
    the first point where a coefficient reaches zero; that atom leaves and the working
    set is independent again.

    The objective never increases and each image stops once its certificate ``kkt``,
    the largest violation of the optimality conditions relative to the problem's scale
    ``max(lambda, |A^T I|_inf, | |x| |G| |_inf)``, is at most ``max(tol, 8 sqrt(N) eps)``
    (``eps`` of the dtype: the rounding floor of the gradient). That is a certificate,
    not a heuristic stopping rule, and it means the same in float32 and float64 and at
    any scale of the images, ``lambda`` and ``A``. An image that has not met it after
    ``max_iter`` iterations (or whose Gram block is singular with no null direction
    that lowers the objective, e.g. ``lambda = 0`` with ``N > P``) is finished by
    :func:`fista` from where it stopped and reported with its certificate.

    Args:
        images: Shape ``(B, P)``.
        A: Dictionary, shape ``(P, N)``.
        penalty: ``lambda >= 0``.
        tol: Optimality tolerance of the relative certificate (raised to the dtype's
            floor ``8 sqrt(N) eps`` where it is below; float32: about 7e-6 at N = 48).
        solver: ``"auto"``, ``"homotopy"`` or ``"active_set"`` (see above);
            ``max_iter``, ``max_add``, ``x0`` and ``chunk_size`` are the active-set
            solver's (the homotopy starts from zero, always).
        max_iter: Maximum number of active-set iterations.
        max_add: Atoms added to an image's support per iteration (at most). The
            default 2 was the fastest of 1, 2, 3, 4, 6, 8 and 12 on whitened 12x12
            patches with a 2x overcomplete learned dictionary.
        x0: Optional warm start, shape ``(B, N)``.
        gram: Optional precomputed ``A^T A``.
        chunk_size: Images solved together (speed only; the result does not depend on it).

    Returns:
        :class:`LassoResult`.
    """
    _validate_lasso_solve(
        images, A, penalty, tol, solver, max_iter, max_add, x0, gram, chunk_size
    )
    if solver == "homotopy" or (
        solver == "auto" and x0 is None and torch.as_tensor(A).device.type == "cpu"
    ):
        return lasso_homotopy(images, A, penalty, tol=tol, gram=gram)
    return lasso_active_set(
        images,
        A,
        penalty,
        tol=tol,
        max_iter=max_iter,
        max_add=max_add,
        x0=x0,
        gram=gram,
        chunk_size=chunk_size,
    )


def _validate_lasso_solve(
    images, A, penalty, tol, solver, max_iter, max_add, x0, gram, chunk_size
) -> None:
    """Every argument of :func:`lasso`, before any work."""
    if solver not in ("auto", "homotopy", "active_set"):
        raise ValueError(
            f"solver must be 'auto', 'homotopy' or 'active_set', got {solver!r}"
        )
    validation.check_same_device(images=images, A=A, x0=x0, gram=gram)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    P, N = A.shape
    images = validation.as_float_tensor("images", images, shape=("B", P))
    validation.check_nonnegative("penalty", penalty)
    validation.check_positive("tol", tol)
    for name, value in (
        ("max_iter", max_iter),
        ("max_add", max_add),
        ("chunk_size", chunk_size),
    ):
        validation.check_int(name, value, 1)
    if x0 is not None:
        validation.as_float_tensor("x0", x0, shape=(images.shape[0], N))
    if gram is not None:
        gram = validation.as_float_tensor("gram", gram, shape=(N, N))
        validation.check_gram("gram", gram, A)
