r"""Inference in the sparse linear Gaussian model, batched over many images.

Two functions do the work, both vectorised over a batch of ``B`` images so that one
matrix product serves every image at once:

* :func:`fista`: the MAP for ``alpha = 1``, i.e. the lasso
  ``min_x 1/2 |I - A x|^2 + lambda |x|_1`` (Beck & Teboulle 2009), with the Gram
  matrix ``A^T A`` and the Lipschitz constant computed once, and per-image adaptive
  restart (O'Donoghue & Candes 2015).
* :func:`lasso`: the same MAP solved exactly by a batched active-set method
  (feature-sign search, Lee et al. 2007) with an optimality certificate per image.
* :func:`hmc`: Hamiltonian Monte Carlo with a Metropolis correction, one chain per
  image, a fixed linear preconditioner and per-chain step sizes adapted during warm-up.
  :func:`sample_posterior` wires it to a :class:`~lvmkit.models.SparseLinearGaussian`;
  for the Laplace prior (``alpha = 1``) it offers (``method="laplace"``) a variant whose
  leapfrog step integrates the prior's kinks at ``x_i = 0`` exactly, so that long
  trajectories stay accurate.

Both return ``NamedTuple`` s (blackjax style).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from lvmkit import validation
from lvmkit.models import SparseLinearGaussian, check_finite, check_positive

__all__ = [
    "FistaResult",
    "HMCResult",
    "LassoResult",
    "fista",
    "hmc",
    "lasso",
    "lasso_objective",
    "sample_posterior",
]

_ACCEPT = ("metropolis", "none", "potential-only")
_METHODS = ("auto", "laplace", "hmc")


class FistaResult(NamedTuple):
    """Output of :func:`fista`.

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
    """Output of :func:`lasso`.

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


class HMCResult(NamedTuple):
    """Output of :func:`hmc`.

    Attributes:
        samples: Shape ``(S, B, N)``: ``S`` kept draws for each of ``B`` chains.
        accept_rate: Mean acceptance probability after warm-up, shape ``(B,)``.
        step_size: The adapted step size of each chain, shape ``(B,)``.
        log_prob: Unnormalised log density of each kept draw, shape ``(S, B)``.
    """

    samples: torch.Tensor
    accept_rate: torch.Tensor
    step_size: torch.Tensor
    log_prob: torch.Tensor


def lasso_objective(images: torch.Tensor, A: torch.Tensor, x: torch.Tensor,
                    penalty: float) -> torch.Tensor:
    """``1/2 |I - A x|^2 + lambda |x|_1`` per row; shapes ``(B, P)``, ``(P, N)``, ``(B, N)``."""
    _validate_lasso(images, A, x, penalty)
    r = images - x @ A.T
    return 0.5 * (r * r).sum(-1) + penalty * x.abs().sum(-1)


def fista(
    images: torch.Tensor, A: torch.Tensor, penalty: float, *, n_iter: int = 500,
    tol: float = 1e-7, x0: torch.Tensor | None = None, gram: torch.Tensor | None = None,
    lipschitz: float | None = None, chunk_size: int = 1024,
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
    check_positive("lipschitz", L)
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
    return FistaResult(x_all, lasso_objective(images, A, x_all, penalty), it_max, converged)


def lasso(
    images: torch.Tensor, A: torch.Tensor, penalty: float, *, tol: float = 1e-9,
    solver: str = "auto", max_iter: int = 100, max_add: int = 2,
    x0: torch.Tensor | None = None, gram: torch.Tensor | None = None,
    chunk_size: int = 2048,
) -> LassoResult:
    r"""Solve ``B`` lasso problems at once, exactly, with an optimality certificate each.

    .. math::
        \hat x(I) = \arg\min_x \tfrac12 \lVert I - A x\rVert^2 + \lambda \lVert x\rVert_1 ,

    the same problem as :func:`fista` (and scikit-learn's ``Lasso(alpha=lambda / P,
    fit_intercept=False)``), but solved to machine precision, because a sparse code has
    few nonzeros. Two exact solvers:

    - ``solver="homotopy"``: :func:`lvmkit.homotopy.lasso_homotopy`, each image's
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
    _validate_lasso_solve(images, A, penalty, tol, solver, max_iter, max_add, x0, gram,
                          chunk_size)
    if solver == "homotopy" or (solver == "auto" and x0 is None
                                and torch.as_tensor(A).device.type == "cpu"):
        from lvmkit.homotopy import lasso_homotopy

        return lasso_homotopy(images, A, penalty, tol=tol, gram=gram)
    A = torch.as_tensor(A)
    images = torch.as_tensor(images, dtype=A.dtype)
    G = A.T @ A if gram is None else torch.as_tensor(gram, dtype=A.dtype)
    lam = float(penalty)
    b = images @ A
    x = torch.zeros_like(b) if x0 is None else x0.to(b.dtype).clone()
    thr = _threshold(tol, b.dtype, b.shape[1])
    kkt = torch.empty(len(b), dtype=b.dtype)
    it_max = 0
    for start in range(0, len(b), int(chunk_size)):
        sl = slice(start, start + int(chunk_size))
        x[sl], kkt[sl], it = _active_set(b[sl], G, lam, x[sl], thr, int(max_iter),
                                         int(max_add))
        it_max = max(it_max, it)
    left = kkt > thr
    if bool(left.any()):  # rare: finish with FISTA from where the active set stopped
        res = fista(images[left], A, lam, n_iter=20_000, tol=1e-12, x0=x[left], gram=G)
        x[left] = res.x
        kkt[left] = _kkt(b[left], G, res.x, lam)
    return LassoResult(x, lasso_objective(images, A, x, lam), it_max, kkt <= thr, kkt)


def _kkt_parts(b: torch.Tensor, G: torch.Tensor, x: torch.Tensor, lam: float,
               G_abs: torch.Tensor):
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


def _kkt(b: torch.Tensor, G: torch.Tensor, x: torch.Tensor, lam: float) -> torch.Tensor:
    """The lasso certificate of every solver: the largest violation of the optimality
    conditions relative to the problem's scale (see :func:`_kkt_parts`), shape ``(B,)``."""
    _, _, on, score, scale = _kkt_parts(b, G, x, lam, G.abs())
    return torch.maximum(on, score.amax(-1).clamp(min=0.0)) / scale


def _threshold(tol: float, dtype: torch.dtype, n_atoms: int) -> float:
    """The relative tolerance a certificate is held to: ``tol``, but never below the
    rounding floor of the gradient in ``dtype``, ``8 sqrt(N) eps`` (float64: 1.2e-14 at
    N = 48; float32: 6.6e-6), so that ``tol`` means the same in either dtype."""
    return max(float(tol), 8.0 * n_atoms**0.5 * torch.finfo(dtype).eps)


def _active_set(b: torch.Tensor, G: torch.Tensor, lam: float, x: torch.Tensor, tol: float,
                max_iter: int, max_add: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The loop of :func:`lasso` on one block of rows; returns ``(x, kkt, iterations)``.

    Working sets are padded to a common size with the index ``N`` of an extra dummy
    coordinate (zero code, zero right-hand side, identity block of the Gram matrix), so
    padding solves to exactly zero.
    """
    B, N = b.shape
    dt = b.dtype
    Ge = torch.zeros(N + 1, N + 1, dtype=dt)
    Ge[:N, :N] = G
    be = torch.cat([b, torch.zeros(B, 1, dtype=dt)], 1)
    xe = torch.cat([x, torch.zeros(B, 1, dtype=dt)], 1)
    kkt = torch.full((B,), torch.inf, dtype=dt)
    n_add = torch.full((B,), max_add, dtype=torch.long)
    act = torch.arange(B)
    xa, ba = xe, be  # the rows of act (written back to xe when they leave)
    it = 0
    G_abs = G.abs()
    while len(act) and it < max_iter:
        grad, nz, on, score, scale = _kkt_parts(ba[:, :N], G, xa[:, :N], lam, G_abs)
        kkt[act] = torch.maximum(on, score.amax(1).clamp(min=0.0)) / scale
        run = kkt[act] > tol
        if not bool(run.all()):
            xe[act[~run]] = xa[~run]
            act, xa, ba, grad, nz, on, score, scale = (
                t[run] for t in (act, xa, ba, grad, nz, on, score, scale))
        if not len(act):
            break
        it += 1
        n = len(act)
        # the support, padded with N
        count = nz.sum(1)
        ks = int(count.max())
        rows, cols = torch.nonzero(nz, as_tuple=True)  # row-major: each row's atoms in order
        S = torch.full((n, ks), N, dtype=torch.long)
        S[rows, torch.arange(len(rows)) - (torch.cumsum(count, 0) - count)[rows]] = cols
        theta_s = torch.sign(xa.gather(1, S))
        # the worst violators join, once the support itself is optimal
        tol_abs = tol * scale  # (n,): the relative tolerance in this image's units
        fix = on > tol_abs
        madd = int(n_add[act][~fix].max()) if bool((~fix).any()) else 0
        if madd:
            vals, add = torch.topk(score, min(madd, N), dim=1)
            ok = ((vals > tol_abs[:, None]) & ~fix[:, None]
                  & (torch.arange(add.shape[1]) < n_add[act][:, None]))
            add = torch.where(ok, add, N)
            theta_a = torch.where(ok, torch.sign(grad.gather(1, add.clamp(max=N - 1))), 0.0)
            idx = torch.cat([S, add], 1)
            theta = torch.cat([theta_s, theta_a], 1)
        else:
            idx, theta = S, theta_s
        # exact minimiser of the sign-fixed quadratic on the working set
        xs, bs = xa.gather(1, idx), ba.gather(1, idx)
        pad = idx == N
        Gs = torch.take(Ge, idx[:, :, None] * (N + 1) + idx[:, None, :])
        Gs = torch.where(pad[:, :, None] | pad[:, None, :], torch.eye(idx.shape[1], dtype=dt), Gs)
        v, tstar, singular = _sign_fixed_step(Gs, bs, xs, theta, lam)
        # feature-sign's inner loop: while the step stopped where a coefficient changed
        # sign (and left the support), minimise again on the smaller support; this needs
        # only the working set's Gram block, with the coefficients that left padded out
        r = torch.nonzero((tstar[:, 0] > 0) & (tstar[:, 0] < 1) & ~singular)[:, 0]
        eye = torch.eye(idx.shape[1], dtype=dt)
        while len(r):
            vr = v[r]
            out = vr == 0
            Gr = torch.where(out[:, :, None] | out[:, None, :], eye, Gs[r])
            vn, tn, sg = _sign_fixed_step(Gr, torch.where(out, 0.0, bs[r]), vr,
                                          torch.sign(vr), lam)
            v[r] = vn
            r = r[(tn[:, 0] > 0) & (tn[:, 0] < 1) & ~sg]
        xa = xa.scatter(1, idx, v)
        # no progress: add one atom at a time (feature-sign's own rule); else give up
        stalled = (tstar[:, 0] == 0) | singular
        give_up = stalled & ((n_add[act] == 1) | fix | singular)
        n_add[act[stalled]] = 1
        if bool(give_up.any()):
            xe[act[give_up]] = xa[give_up]
            act, xa, ba = act[~give_up], xa[~give_up], ba[~give_up]
    if len(act):
        xe[act] = xa
        kkt[act] = _kkt(be[act, :N], G, xe[act, :N], lam)
    return xe[:, :N], kkt, it


def _sign_fixed_step(Gs: torch.Tensor, bs: torch.Tensor, xs: torch.Tensor, theta: torch.Tensor,
                     lam: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One feature-sign step on padded working sets of ``n`` rows and size ``k``.

    Minimises the quadratic with the signs ``theta`` fixed, ``z = Gs^{-1} (bs - lam theta)``,
    then searches the segment from ``xs`` to ``z`` over the points where a coefficient
    changes sign (and both end points) for the lowest objective.

    Args:
        Gs: Gram blocks, shape ``(n, k, k)`` (padding rows and columns: identity).
        bs: ``A_S^T I``, shape ``(n, k)`` (zero at padding).
        xs: Current coefficients, shape ``(n, k)``.
        theta: Signs, shape ``(n, k)`` (zero at padding).
        lam: ``lambda``.

    Returns:
        ``(v, tstar, singular)``: the new coefficients ``(n, k)`` (exact zeros where a
        coefficient reached zero at the chosen point), the chosen step ``(n, 1)`` and
        whether the Gram block was singular ``(n,)`` (then ``v = xs``).
    """
    n, dt = len(xs), xs.dtype
    Lc, info = torch.linalg.cholesky_ex(Gs)
    # numerically singular too: a pivot below 1e-12 of the largest diagonal entry (the
    # solve would be noise, and so would the objective compared in the line search)
    pivot = Lc.diagonal(dim1=-2, dim2=-1).amin(-1) ** 2
    singular = (info != 0) | ~(pivot > 1e-12 * Gs.diagonal(dim1=-2, dim2=-1).amax(-1))
    z = torch.cholesky_solve((bs - lam * theta)[..., None], Lc)[..., 0]
    z = torch.where(singular[:, None], xs, z)
    if bool(singular.any()):
        z, singular = _null_space_step(Gs, xs, theta, z, singular)
    d = z - xs
    s1 = (d * ((Gs @ xs[..., None])[..., 0] - bs)).sum(-1)
    s2 = (d * (Gs @ d[..., None])[..., 0]).sum(-1)
    cross = (xs != 0) & (xs * z < 0)
    tb = torch.where(cross, xs / torch.where(cross, xs - z, 1.0), 1.0)
    T = torch.cat([torch.ones(n, 1, dtype=dt), tb, torch.zeros(n, 1, dtype=dt)], 1)
    V = xs[:, None, :] + T[..., None] * d[:, None, :]
    F = T * s1[:, None] + 0.5 * T * T * s2[:, None] + lam * V.abs().sum(-1)
    tstar = T.gather(1, F.argmin(1, keepdim=True))
    v = torch.where(tstar == 1.0, z, xs + tstar * d)
    v = torch.where(cross & (tb == tstar), 0.0, v)  # exact zeros leave the support
    return v, tstar, singular


def _null_space_step(Gs: torch.Tensor, xs: torch.Tensor, theta: torch.Tensor, z: torch.Tensor,
                     singular: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Targets for working sets whose Gram block is singular: a step that drops an atom.

    A singular block means the working set's atoms are linearly dependent (e.g. more
    atoms than pixels, or one in the span of the others, frequent with a correlated
    dictionary at small ``lambda``). Along a null direction ``d`` (``G_SS d = 0``, so
    ``A_S d = 0``) the fit does not change and the sign-fixed objective changes
    linearly, by ``lambda theta^T d``; ``d = -P_0 theta`` (``P_0`` the projector on the
    null space, eigenvalues below ``100 k eps`` of the largest) decreases it. The target
    is the first point on ``xs + t d`` where a coefficient reaches zero (set exactly to
    zero there): that atom leaves, the set becomes independent again, and the line
    search of :func:`_sign_fixed_step` compares this point with the others as usual.
    Rows without such a direction (``P_0 theta = 0`` or no coefficient shrinking) stay
    flagged singular.

    Returns:
        ``(z, singular)`` updated for the rows that were singular.
    """
    rows = torch.nonzero(singular)[:, 0]
    k = Gs.shape[-1]
    w, Q = torch.linalg.eigh(Gs[rows])
    null = w <= 100 * k * torch.finfo(Gs.dtype).eps * w[:, -1:]
    Qn = Q * null[:, None, :].to(Q.dtype)
    d = -(Qn @ (Qn.transpose(-1, -2) @ theta[rows][..., None]))[..., 0]
    x = xs[rows]
    shrink = (x * d < 0) & (theta[rows] != 0)
    t = torch.where(shrink, -x / torch.where(shrink, d, 1.0), torch.inf)
    t_min, j = t.min(-1)
    ok = torch.isfinite(t_min)
    target = x + t_min.clamp(max=torch.finfo(x.dtype).max)[:, None] * d
    target = target.scatter(1, j[:, None], 0.0)  # the atom that reaches zero leaves
    z = z.clone()
    z[rows[ok]] = target[ok]
    singular = singular.clone()
    singular[rows[ok]] = False
    return z, singular


def hmc(
    log_prob_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    x0: torch.Tensor, *, n_samples: int, n_warmup: int = 200, n_leapfrog: int = 8,
    step_size: float = 0.2, precond: torch.Tensor | None = None, target_accept: float = 0.8,
    thin: int = 1, accept: str = "metropolis", generator: torch.Generator | None = None,
) -> HMCResult:
    r"""Hamiltonian Monte Carlo, one chain per row of ``x0``, all chains in lock step.

    The sampler runs in whitened coordinates ``u`` with ``x = u C^T`` (``C = precond``,
    e.g. a Cholesky factor of a Gaussian approximation of the posterior covariance), so
    an identity mass matrix in ``u`` is the mass matrix ``(C C^T)^{-1}`` in ``x``. Each
    iteration draws a momentum, runs ``n_leapfrog`` leapfrog steps with a step size
    jittered by +-10 %, and accepts with probability ``min(1, exp(-Delta H))``. During
    warm-up each chain adapts its own step size (Robbins-Monro on the log step size,
    towards ``target_accept``); afterwards it is frozen, so the kept draws form a valid
    Markov chain whose stationary law is the target.

    Args:
        log_prob_and_grad: ``x (B, N) -> (log p (B,), grad (B, N))``, unnormalised.
        x0: Initial states, shape ``(B, N)``.
        n_samples: Draws kept per chain (after thinning).
        n_warmup: Adaptation iterations (discarded).
        n_leapfrog: Leapfrog steps per iteration.
        step_size: Initial step size in ``u`` coordinates.
        precond: ``C``, shape ``(N, N)``; identity if ``None``.
        target_accept: Mean acceptance probability aimed at in warm-up.
        thin: Keep every ``thin``-th iteration.
        accept: ``"metropolis"`` (correct). Two wrong variants exist only for the
            diagnostics chapter's planted bugs: ``"none"`` accepts every proposal
            (unadjusted HMC) and ``"potential-only"`` forgets the kinetic energy in
            ``Delta H``.
        generator: Source of randomness.

    Returns:
        :class:`HMCResult`.
    """
    _validate_hmc(log_prob_and_grad, x0, n_samples, n_warmup, n_leapfrog, step_size, precond,
                  target_accept, thin, generator)
    x0 = check_finite("x0", torch.as_tensor(x0))
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (B, N), got {tuple(x0.shape)}")
    if accept not in _ACCEPT:
        raise ValueError(f"accept must be one of {_ACCEPT}, got {accept!r}")
    for name, v in (("n_samples", n_samples), ("n_leapfrog", n_leapfrog), ("thin", thin)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v}")
    if int(n_warmup) != n_warmup or n_warmup < 0:
        raise ValueError(f"n_warmup must be a non-negative integer, got {n_warmup}")
    check_positive("step_size", step_size)
    if not 0 < target_accept < 1:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}")
    B, N = x0.shape
    dt = x0.dtype
    C = torch.eye(N, dtype=dt) if precond is None else torch.as_tensor(precond, dtype=dt)
    if C.shape != (N, N):
        raise ValueError(f"precond must have shape ({N}, {N}), got {tuple(C.shape)}")
    Cinv = torch.linalg.inv(C)

    def f(u):
        lp, g = log_prob_and_grad(u @ C.T)
        return lp, g @ C

    u = x0 @ Cinv.T
    lp, g = f(u)
    _check_log_density(lp, g, B, N)
    log_eps = torch.full((B,), float(torch.log(torch.tensor(step_size))), dtype=dt)
    log_eps_sum = torch.zeros(B, dtype=dt)
    n_avg = 0
    kept, kept_lp = [], []
    acc_sum = torch.zeros(B, dtype=dt)
    total = n_warmup + n_samples * thin
    for it in range(total):
        warm = it < n_warmup
        jitter = 0.9 + 0.2 * torch.rand(B, 1, generator=generator, dtype=dt)
        eps = torch.exp(log_eps)[:, None] * jitter
        p = torch.randn(B, N, generator=generator, dtype=dt)
        u_new, p_new = u, p + 0.5 * eps * g
        for k in range(n_leapfrog):
            u_new = u_new + eps * p_new
            lp_new, g_new = f(u_new)
            if k < n_leapfrog - 1:
                p_new = p_new + eps * g_new
        p_new = p_new + 0.5 * eps * g_new
        kin0, kin1 = 0.5 * (p * p).sum(-1), 0.5 * (p_new * p_new).sum(-1)
        prob, ok = _metropolis(lp_new - lp if accept == "potential-only"
                               else lp_new - kin1 - lp + kin0,
                               torch.isfinite(lp_new), accept, generator)
        u = torch.where(ok[:, None], u_new, u)
        lp = torch.where(ok, lp_new, lp)
        g = torch.where(ok[:, None], g_new, g)
        if warm:
            log_eps, log_eps_sum, n_avg = _adapt_step_size(
                log_eps, log_eps_sum, n_avg, it, prob, n_warmup, target_accept)
        else:
            acc_sum += prob
            if (it - n_warmup + 1) % thin == 0:
                kept.append(u @ C.T)
                kept_lp.append(lp)
    return HMCResult(torch.stack(kept), acc_sum / (n_samples * thin), torch.exp(log_eps),
                     torch.stack(kept_lp))


def sample_posterior(
    model: SparseLinearGaussian, images: torch.Tensor, *, n_samples: int = 100,
    n_warmup: int = 200, n_leapfrog: int | None = None, thin: int = 1,
    accept: str = "metropolis", method: str = "hmc", generator: torch.Generator | None = None,
) -> HMCResult:
    r"""Draw from q(x | I) of a sparse linear Gaussian model for a batch of images.

    Two samplers, one chain per image, both started at a draw from the Gaussian
    approximation of the posterior whose precision is ``A^T A / sigma^2 + I / v``
    (``v`` the prior variance):

    * ``"laplace"`` (``alpha = 1`` only): HMC whose leapfrog step integrates the kinks of
      the Laplace prior exactly (see :func:`_laplace_hmc`). With a diagonal mass matrix
      the flow of the kinetic energy plus ``|x|_1 / s`` separates into one particle per
      latent in a V-shaped potential, which has a closed form however often it crosses
      0; only the smooth Gaussian likelihood is split off as kicks, so the energy error
      stays second order in the step size and long trajectories are accepted.
    * ``"hmc"``: :func:`hmc` preconditioned with that Gaussian approximation (any
      ``alpha``). For ``alpha = 1`` its leapfrog crosses the kinks of ``|x_i|``, whose
      energy errors are first order in the step size: the step size shrinks with the
      number of latents and the chains mix slowly.

    ``"auto"`` is ``"laplace"`` for ``alpha = 1`` and ``"hmc"`` otherwise. The default
    stays ``"hmc"``: the part-2 chapters' short chains (a few hundred iterations) were
    calibrated with it, and some of their printed estimates move with the sampler.

    Args:
        model: The model (any ``alpha``; mixing is best for ``alpha >= 1``).
        images: Shape ``(B, P)``.
        n_leapfrog: Leapfrog steps per iteration; ``None``: 32 for ``"laplace"``, 8 for
            ``"hmc"``.
        method: ``"hmc"`` (default), ``"laplace"`` or ``"auto"``.
        n_samples, n_warmup, thin, accept, generator: As in :func:`hmc`.

    Returns:
        :class:`HMCResult` with ``samples`` of shape ``(n_samples, B, N)``.
    """
    _validate_sample_posterior(model, images)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if method == "laplace" and model.alpha != 1:
        raise ValueError(f"method 'laplace' needs alpha = 1 (a Laplace prior), "
                         f"got alpha = {model.alpha}")
    if method == "auto":
        method = "laplace" if model.alpha == 1 else "hmc"
    if n_leapfrog is None:
        n_leapfrog = 32 if method == "laplace" else 8
    images = torch.as_tensor(images, dtype=model.A.dtype)
    var = float(model.prior().base_dist.variance[0])
    A, s2 = model.A, model.noise_std**2
    prec = A.T @ A / s2 + torch.eye(model.n_latents, dtype=A.dtype) / var
    L = torch.linalg.cholesky(prec)
    C = torch.linalg.solve_triangular(L, torch.eye(model.n_latents, dtype=A.dtype),
                                      upper=False).T  # C C^T = prec^{-1}
    mean = images @ A / s2 @ (C @ C.T)
    x0 = mean + torch.randn(mean.shape, generator=generator, dtype=A.dtype) @ C.T
    if method == "laplace":
        return _laplace_hmc(model, images, x0, mass=torch.diagonal(prec).clone(),
                            n_samples=n_samples, n_warmup=n_warmup, n_leapfrog=n_leapfrog,
                            thin=thin, accept=accept, generator=generator)
    return hmc(model.log_posterior_and_grad(images), x0, n_samples=n_samples,
               n_warmup=n_warmup, n_leapfrog=n_leapfrog, precond=C, thin=thin,
               accept=accept, generator=generator, step_size=0.5)


def _v_flow(sg: torch.Tensor, y: torch.Tensor, w: torch.Tensor, tau: torch.Tensor,
            acc: torch.Tensor, two_over_acc: torch.Tensor):
    r"""Exact flow, for time ``tau``, of ``m w^2 / 2 + |x| / s`` for each latent separately.

    A latent is kept as its side ``sg = sign(x)`` (+-1), its distance ``y = |x| >= 0``
    and its outward velocity ``w = sg dx/dt``. It decelerates at ``acc = 1 / (s m)``
    while it moves away from 0 and accelerates at the same rate towards it: with
    ``u = sqrt(w^2 + 2 acc y)`` (its speed at 0, conserved) it runs the parabola
    ``y(r) = u r - acc r^2 / 2`` on one side, ``r`` the time since it last crossed 0,
    for ``2 u / acc`` before crossing to the other side, where the same parabola
    starts again. The state is ``r0 = (u - w) / acc``; after ``tau`` it is
    ``r0 + tau`` less ``k`` whole excursions, and the side has flipped ``k`` times.

    Args:
        sg, y, w: Shape ``(B, N)``. tau: Shape ``(B, 1)``.
        acc, two_over_acc: ``1 / (s m)`` and its inverse doubled, shape ``(N,)``.

    Returns:
        ``(sg, y, w)`` after ``tau``.
    """
    u = torch.sqrt(w * w + 2.0 * acc * y)
    half = u * two_over_acc                      # duration of one excursion
    r = (u - w) / acc + tau
    k = torch.floor(r / half)
    r = r - k * half
    flips = k - 2.0 * torch.floor(0.5 * k)       # k mod 2
    sg = sg * (1.0 - 2.0 * flips)
    return sg, (r * (u - 0.5 * acc * r)).clamp_(min=0.0), u - acc * r


def _laplace_hmc(
    model: SparseLinearGaussian, images: torch.Tensor, x0: torch.Tensor, *,
    mass: torch.Tensor, n_samples: int, n_warmup: int, n_leapfrog: int, thin: int,
    accept: str, generator: torch.Generator | None, target_accept: float = 0.8,
) -> HMCResult:
    r"""HMC for the Laplace-prior posterior with the prior's kinks integrated exactly.

    The Hamiltonian, with a diagonal mass ``m`` (shape ``(N,)``), is

    .. math::
        H(x, v) = \underbrace{\tfrac12 x^\top G x - b^\top x}_{\text{likelihood}}
        + \underbrace{\sum_i \tfrac12 m_i v_i^2 + \lvert x_i\rvert / s}_{\text{exact}},
        \qquad G = A^\top A / \sigma^2, \; b = A^\top I / \sigma^2 .

    One step is Strang's splitting: half a kick ``v += eps/2 m^{-1} (b - G x)``, the
    exact flow of the second part for ``eps`` (:func:`_v_flow`), half a kick. Each part
    is the exact flow of a Hamiltonian, so the step is symplectic and reversible and the
    Metropolis test on ``H`` makes the chain exact; since the non-smooth part is never
    split, the energy error is that of leapfrog on the smooth likelihood, second order
    in ``eps``. One ``(B, N) x (N, N)`` product per step. Step sizes are adapted per
    chain during warm-up as in :func:`hmc` (and jittered by +-10 %).

    Args:
        x0: Initial states ``(B, N)``.
        mass: Diagonal mass ``m``, shape ``(N,)``.
        n_samples, n_warmup, n_leapfrog, thin, accept, generator, target_accept: As in
            :func:`hmc`.

    Returns:
        :class:`HMCResult`.
    """
    for name, v in (("n_samples", n_samples), ("n_leapfrog", n_leapfrog), ("thin", thin)):
        validation.check_int(name, v, 1)
    validation.check_int("n_warmup", n_warmup, 0)
    if accept not in _ACCEPT:
        raise ValueError(f"accept must be one of {_ACCEPT}, got {accept!r}")
    A, dt = model.A, model.A.dtype
    B, N = x0.shape
    s2, s = model.noise_std**2, model.prior_scale
    G = A.T @ A / s2
    b = images @ A / s2
    acc = 1.0 / (s * mass)
    two_over_acc = 2.0 / acc
    inv_m = 1.0 / mass

    def potential(x, xG):
        return 0.5 * (x * xG).sum(-1) - (x * b).sum(-1) + x.abs().sum(-1) / s

    sg = torch.where(x0 >= 0, 1.0, -1.0).to(dt)
    y, x = x0.abs(), x0
    xG = x @ G
    U = potential(x, xG)
    log_eps = torch.full((B, 1), -1.0, dtype=dt)
    log_eps_sum, n_avg = torch.zeros(B, 1, dtype=dt), 0
    kept, kept_lp = [], []
    acc_sum = torch.zeros(B, dtype=dt)
    for it in range(n_warmup + n_samples * thin):
        warm = it < n_warmup
        eps = torch.exp(log_eps) * (0.9 + 0.2 * torch.rand(B, 1, generator=generator, dtype=dt))
        v = torch.randn(B, N, generator=generator, dtype=dt) * inv_m.sqrt()
        kin0 = 0.5 * (mass * v * v).sum(-1)
        sg1, y1, w1 = sg, y, sg * v
        half = 0.5 * eps * inv_m
        gx = b - xG
        for _ in range(n_leapfrog):
            w1 = w1 + sg1 * half * gx
            sg1, y1, w1 = _v_flow(sg1, y1, w1, eps, acc, two_over_acc)
            x1 = sg1 * y1
            xG1 = x1 @ G
            gx = b - xG1
            w1 = w1 + sg1 * half * gx
        U1 = potential(x1, xG1)
        kin1 = 0.5 * (mass * w1 * w1).sum(-1)
        prob, ok = _metropolis(U - U1 if accept == "potential-only" else U + kin0 - U1 - kin1,
                               torch.isfinite(U1), accept, generator)
        okc = ok[:, None]
        sg, y = torch.where(okc, sg1, sg), torch.where(okc, y1, y)
        xG, U = torch.where(okc, xG1, xG), torch.where(ok, U1, U)
        if warm:
            log_eps, log_eps_sum, n_avg = _adapt_step_size(
                log_eps, log_eps_sum, n_avg, it, prob[:, None], n_warmup, target_accept)
        else:
            acc_sum += prob
            if (it - n_warmup + 1) % thin == 0:
                kept.append(sg * y)
                kept_lp.append(-U)
    return HMCResult(torch.stack(kept), acc_sum / (n_samples * thin), torch.exp(log_eps[:, 0]),
                     torch.stack(kept_lp))


# --- input validation (kept apart from the numerical code above) -----------------------


def _validate_lasso(images, A, x, penalty) -> None:
    validation.check_same_device(images=images, A=A, x=x)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    validation.as_float_tensor("images", images, shape=("B", A.shape[0]))
    validation.as_float_tensor("x", x, shape=("B", A.shape[1]))
    validation.check_nonnegative("penalty", penalty)
    validation.check_same_device(images=images, A=A, x=x)


def _validate_fista(images, A, penalty, n_iter, tol, x0, gram, lipschitz, chunk_size) -> None:
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



def _metropolis(log_ratio: torch.Tensor, proposal_finite: torch.Tensor, accept: str,
                generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The acceptance probability and decision of one batched Metropolis test.

    ``log_ratio`` is the log of the target-times-momentum density ratio (shape ``(B,)``,
    NaN counts as rejection). ``accept="none"`` (a planted bug) keeps every finite
    proposal; otherwise a uniform draw decides.
    """
    log_ratio = torch.nan_to_num(log_ratio, nan=-torch.inf)
    prob = torch.exp(torch.clamp(log_ratio, max=0.0))
    if accept == "none":
        return prob, proposal_finite
    return prob, torch.rand(len(prob), generator=generator, dtype=prob.dtype) < prob


def _adapt_step_size(log_eps, log_eps_sum, n_avg: int, it: int, prob, n_warmup: int,
                     target_accept: float):
    """One warm-up step of the per-chain step-size adaptation (Robbins-Monro on log eps).

    The step size moves towards ``target_accept``; over the second half of warm-up the
    iterates are averaged, and the average is the step size used for sampling.
    """
    gain = 1.0 / (it + 10) ** 0.6
    log_eps = log_eps + 2.0 * gain * (prob - target_accept)
    if it >= n_warmup // 2:
        log_eps_sum = log_eps_sum + log_eps
        n_avg += 1
    if it == n_warmup - 1 and n_avg:
        log_eps = log_eps_sum / n_avg
    return log_eps, log_eps_sum, n_avg

def _validate_lasso_solve(images, A, penalty, tol, solver, max_iter, max_add, x0, gram,
                          chunk_size) -> None:
    """Every argument of :func:`lasso`, before any work."""
    if solver not in ("auto", "homotopy", "active_set"):
        raise ValueError(f"solver must be 'auto', 'homotopy' or 'active_set', got {solver!r}")
    validation.check_same_device(images=images, A=A, x0=x0, gram=gram)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    P, N = A.shape
    images = validation.as_float_tensor("images", images, shape=("B", P))
    validation.check_nonnegative("penalty", penalty)
    validation.check_positive("tol", tol)
    for name, value in (("max_iter", max_iter), ("max_add", max_add), ("chunk_size", chunk_size)):
        validation.check_int(name, value, 1)
    if x0 is not None:
        validation.as_float_tensor("x0", x0, shape=(images.shape[0], N))
    if gram is not None:
        gram = validation.as_float_tensor("gram", gram, shape=(N, N))
        validation.check_gram("gram", gram, A)


def _validate_hmc(log_prob_and_grad, x0, n_samples, n_warmup, n_leapfrog, step_size, precond,
                  target_accept, thin, generator) -> None:
    """Every argument of :func:`hmc`, before any work."""
    if not callable(log_prob_and_grad):
        raise TypeError(f"log_prob_and_grad must be callable, got "
                        f"{validation.describe(log_prob_and_grad)}")
    x0 = validation.as_float_tensor("x0", x0, shape=("B", "N"))
    validation.check_int("n_samples", n_samples, 1)
    validation.check_int("n_warmup", n_warmup, 0)
    validation.check_int("n_leapfrog", n_leapfrog, 1)
    validation.check_int("thin", thin, 1)
    validation.check_positive("step_size", step_size)
    validation.check_probability("target_accept", target_accept, open_low=True, open_high=True)
    if precond is not None:
        C = validation.as_float_tensor("precond", precond, shape=(x0.shape[1], x0.shape[1]))
        validation.check_same_device(x0=x0, precond=C)
        cond = float(torch.linalg.cond(C.double()))
        if not cond <= 1e12:  # also catches NaN / inf
            raise ValueError(f"precond must be well conditioned (condition number <= 1e12), "
                             f"got {cond:.3g}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got "
                        f"{validation.describe(generator)}")


def _check_log_density(lp, g, B: int, N: int) -> None:
    """What ``log_prob_and_grad`` returned at ``x0``: shapes ``(B,)``, ``(B, N)``, finite.

    A scalar log density would be broadcast over the chains without a word, and a
    non-finite one at the start freezes every chain (each proposal compares with NaN).
    """
    name = "log_prob_and_grad"
    for what, value, shape in (("log density", lp, (B,)), ("gradient", g, (B, N))):
        if not torch.is_tensor(value) or tuple(value.shape) != shape:
            raise ValueError(f"{name} must return a {what} of shape {shape} at x0, got "
                             f"{validation.describe(value)}")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} must return a finite {what} at x0 (start the chains "
                             f"where the density is positive), got "
                             f"{int((~torch.isfinite(value)).sum())} non-finite of {value.numel()}")


def _validate_sample_posterior(model, images) -> None:
    if not isinstance(model, SparseLinearGaussian):
        raise TypeError(f"model must be a SparseLinearGaussian, got {validation.describe(model)}")
    validation.check_same_device(images=images, A=model.A)
    images = validation.as_float_tensor("images", images, shape=("B", model.n_pixels))
    validation.check_same_device(images=images, A=model.A)
