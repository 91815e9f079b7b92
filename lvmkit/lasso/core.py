r"""The lasso problem itself: objective, optimality certificate, result types.

Every solver of :mod:`lvmkit.lasso` (FISTA, the active set, the homotopy) minimises

.. math:: \tfrac12 \lVert I - A x\rVert^2 + \lambda \lVert x\rVert_1

for a batch of images ``I (B, P)`` and a dictionary ``A (P, N)``, and reports the same
certificate, :func:`kkt_violation`: the largest violation of the optimality conditions
relative to the problem's scale. This module imports no solver, so the solvers import
it and not each other's front door (no import cycle).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from lvmkit import validation

__all__ = [
    "FistaResult",
    "LassoResult",
    "certificate_threshold",
    "kkt_violation",
    "lasso_objective",
]


class FistaResult(NamedTuple):
    """Output of :func:`~lvmkit.lasso.fista`.

    Attributes:
        x: Minimisers, shape ``(B, N)``.
        objective: ``1/2 |I - A x|^2 + lambda |x|_1`` at ``x``, shape ``(B,)``.
        n_iter: Iterations run.
        converged: Whether each image met the tolerance, shape ``(B,)``.
    """

    x: torch.Tensor
    objective: torch.Tensor
    n_iter: int
    converged: torch.Tensor


class LassoResult(NamedTuple):
    """Output of :func:`~lvmkit.lasso.lasso`.

    Attributes:
        x: Minimisers, shape ``(B, N)``.
        objective: ``1/2 |I - A x|^2 + lambda |x|_1`` at ``x``, shape ``(B,)``.
        n_iter: Iterations of the slowest image (active-set iterations, or linear pieces
            of the path for the homotopy).
        converged: Whether each image's optimality certificate holds, shape ``(B,)``.
        kkt: The certificate: largest violation of the optimality conditions
            (``|g_j - lambda sign x_j|`` on the support, ``|g_j| - lambda`` off it, with
            ``g = A^T (I - A x)``) divided by the problem's scale
            ``max(lambda, |A^T I|_inf, | |x| |A^T A| |_inf)``, shape ``(B,)``.
    """

    x: torch.Tensor
    objective: torch.Tensor
    n_iter: int
    converged: torch.Tensor
    kkt: torch.Tensor


def lasso_objective(
    images: torch.Tensor, A: torch.Tensor, x: torch.Tensor, penalty: float
) -> torch.Tensor:
    """``1/2 |I - A x|^2 + lambda |x|_1`` per row; shapes ``(B, P)``, ``(P, N)``, ``(B, N)``."""
    _validate_lasso(images, A, x, penalty)
    r = images - x @ A.T
    return 0.5 * (r * r).sum(-1) + penalty * x.abs().sum(-1)


def _kkt_parts(
    b: torch.Tensor, G: torch.Tensor, x: torch.Tensor, lam: float, G_abs: torch.Tensor
):
    r"""The pieces of the lasso certificate for rows ``x (B, N)``, ``b = I A (B, N)``.

    Returns ``(grad, nz, on, score, scale)``: the gradient ``g = b - x G``, the support,
    the largest on-support violation ``max |g_j - lambda sign x_j|`` ``(B,)``, the
    off-support violations ``|g_j| - lambda`` (``-inf`` on the support) ``(B, N)``, and
    the scale the violations are measured against, ``(B,)``:

    .. math:: s = \max\bigl(\lambda, \lVert A^\top I\rVert_\infty,
              \lVert\, \lvert x\rvert\, \lvert G\rvert \rVert_\infty\bigr),

    the size of the terms that ``g`` is computed from (so ``eps * s`` is the rounding
    floor of ``g``; ``lambda_max = |A^T I|_inf``). ``s`` scales with the problem (images
    and ``lambda`` times ``c``, or ``A`` times ``c``): the relative certificate does not.
    """
    grad = b - x @ G
    nz = x != 0
    on = torch.where(nz, (grad - lam * torch.sign(x)).abs(), 0.0).amax(-1)
    score = torch.where(nz, -torch.inf, grad.abs() - lam)
    scale = torch.maximum(b.abs().amax(-1), (x.abs() @ G_abs).amax(-1)).clamp(min=lam)
    scale = torch.where(scale > 0, scale, 1.0)  # a zero image at lambda = 0
    return grad, nz, on, score, scale


def kkt_violation(
    b: torch.Tensor, G: torch.Tensor, x: torch.Tensor, lam: float
) -> torch.Tensor:
    """The lasso certificate of every solver: the largest violation of the optimality
    conditions relative to the problem's scale (see :func:`_kkt_parts`), shape ``(B,)``."""
    _, _, on, score, scale = _kkt_parts(b, G, x, lam, G.abs())
    return torch.maximum(on, score.amax(-1).clamp(min=0.0)) / scale


def certificate_threshold(tol: float, dtype: torch.dtype, n_atoms: int) -> float:
    """The relative tolerance a certificate is held to: ``tol``, but never below the
    rounding floor of the gradient in ``dtype``, ``8 sqrt(N) eps`` (float64: 1.2e-14 at
    N = 48; float32: 6.6e-6), so that ``tol`` means the same in either dtype."""
    return max(float(tol), 8.0 * n_atoms**0.5 * torch.finfo(dtype).eps)


def _validate_lasso(images, A, x, penalty) -> None:
    validation.check_same_device(images=images, A=A, x=x)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    validation.as_float_tensor("images", images, shape=("B", A.shape[0]))
    validation.as_float_tensor("x", x, shape=("B", A.shape[1]))
    validation.check_nonnegative("penalty", penalty)
    validation.check_same_device(images=images, A=A, x=x)
