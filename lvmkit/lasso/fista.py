"""FISTA with adaptive restart for a batch of lasso problems (Beck & Teboulle 2009)."""

from __future__ import annotations

import torch

from lvmkit import validation
from lvmkit.lasso.core import FistaResult, lasso_objective

__all__ = ["fista"]


def fista(
    images: torch.Tensor,
    A: torch.Tensor,
    penalty: float,
    *,
    n_iter: int = 500,
    tol: float = 1e-7,
    x0: torch.Tensor | None = None,
    gram: torch.Tensor | None = None,
    lipschitz: float | None = None,
    chunk_size: int = 1024,
) -> FistaResult:
    r"""Solve ``B`` lasso problems at once by FISTA with adaptive restart.

    .. math::
        \hat x(I) = \arg\min_x \tfrac12 \lVert I - A x\rVert^2 + \lambda \lVert x\rVert_1 .

    This is the MAP of :class:`~lvmkit.models.SparseLinearGaussian` with ``alpha = 1``
    and ``lambda = sigma^2 / s``. It equals scikit-learn's ``Lasso(alpha=lambda / P,
    fit_intercept=False)``, whose objective is ours divided by ``P``.

    Each iteration is one fused product ``y (I - G / L) + I A / L`` (``G = A^T A``)
    and a soft threshold. Images are solved in blocks of ``chunk_size`` rows (a working
    set that stays in cache), and every 10 iterations the images that have met the
    tolerance leave the block, so the cost is the sum of the images' own iteration
    counts rather than the batch size times the slowest one.

    Args:
        images: Shape ``(B, P)``.
        A: Dictionary, shape ``(P, N)``.
        penalty: ``lambda >= 0``.
        n_iter: Maximum number of iterations.
        tol: An image stops once ``max |x_k - x_{k-1}| <= tol * max(1, max |x_k|)``
            (checked every 10 iterations).
        x0: Optional warm start, shape ``(B, N)``.
        gram: Optional precomputed ``A^T A`` (reused across calls in dictionary learning).
        lipschitz: Optional precomputed largest eigenvalue of ``A^T A``.
        chunk_size: Images per block (speed only; the result does not depend on it).

    Returns:
        :class:`FistaResult` (``n_iter``: iterations of the slowest image).
    """
    _validate_fista(images, A, penalty, n_iter, tol, x0, gram, lipschitz, chunk_size)
    A = torch.as_tensor(A)
    images = torch.as_tensor(images, dtype=A.dtype)
    G = A.T @ A if gram is None else gram
    L = float(torch.linalg.eigvalsh(G)[-1]) if lipschitz is None else float(lipschitz)
    validation.check_positive("lipschitz", L)
    M = torch.eye(G.shape[0], dtype=G.dtype) - G / L  # y - (y G - b) / L = y M + b / L
    b_L = images @ A / L
    thr = penalty / L
    x_all = torch.zeros_like(b_L) if x0 is None else x0.clone().to(b_L.dtype)
    converged = torch.zeros(len(b_L), dtype=torch.bool)
    it_max = 0
    for start in range(0, len(b_L), int(chunk_size)):
        idx = torch.arange(start, min(start + int(chunk_size), len(b_L)))
        c, x = b_L[idx], x_all[idx]
        y, t = x.clone(), torch.ones(len(x), 1, dtype=x.dtype)
        it = 0
        for it in range(1, n_iter + 1):
            x_new = torch.nn.functional.softshrink(torch.addmm(c, y, M), thr)
            dx = x_new - x
            # restart momentum where it points uphill (O'Donoghue & Candes 2015)
            restart = torch.linalg.vecdot(y - x_new, dx)[:, None] > 0
            t_new = torch.where(restart, 1.0, 0.5 * (1 + torch.sqrt(1 + 4 * t * t)))
            mom = torch.where(restart, 0.0, (t - 1) / t_new)
            y = torch.addcmul(x_new, mom, dx)
            x, t = x_new, t_new
            if it % 10 == 0 or it == n_iter:
                done = dx.abs().amax(-1) <= tol * torch.clamp(x.abs().amax(-1), min=1.0)
                if bool(done.any()) or it == n_iter:
                    x_all[idx] = x
                    converged[idx[done]] = True
                    if bool(done.all()):
                        break
                    keep = ~done  # converged images leave the block
                    idx, c, x, y, t = idx[keep], c[keep], x[keep], y[keep], t[keep]
        it_max = max(it_max, it)
    return FistaResult(
        x_all, lasso_objective(images, A, x_all, penalty), it_max, converged
    )


def _validate_fista(
    images, A, penalty, n_iter, tol, x0, gram, lipschitz, chunk_size
) -> None:
    """Every argument of :func:`fista`, before any work: name, expectation, value."""
    validation.check_same_device(images=images, A=A, x0=x0, gram=gram)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    P, N = A.shape
    images = validation.as_float_tensor("images", images, shape=("B", P))
    validation.check_nonnegative("penalty", penalty)
    validation.check_int("n_iter", n_iter, 1)
    validation.check_nonnegative("tol", tol)
    validation.check_int("chunk_size", chunk_size, 1)
    if x0 is not None:
        validation.as_float_tensor("x0", x0, shape=(images.shape[0], N))
    if gram is not None:
        gram = validation.as_float_tensor("gram", gram, shape=(N, N))
        validation.check_gram("gram", gram, A)
    if lipschitz is not None:
        validation.check_positive("lipschitz", lipschitz)
    validation.check_same_device(images=images, A=A, x0=x0, gram=gram)
