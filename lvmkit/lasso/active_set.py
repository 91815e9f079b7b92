"""The batched active-set lasso solver (feature-sign search, Lee et al. 2007).

Pure torch, any device, warm-startable; see :func:`lvmkit.lasso.lasso` for the method.
"""

from __future__ import annotations

import torch

from lvmkit.lasso.core import (
    LassoResult,
    _kkt_parts,
    certificate_threshold,
    kkt_violation,
    lasso_objective,
)
from lvmkit.lasso.fista import fista

__all__ = ["lasso_active_set"]


def lasso_active_set(
    images: torch.Tensor,
    A: torch.Tensor,
    penalty: float,
    *,
    tol: float = 1e-9,
    max_iter: int = 100,
    max_add: int = 2,
    x0: torch.Tensor | None = None,
    gram: torch.Tensor | None = None,
    chunk_size: int = 2048,
) -> LassoResult:
    """The active-set solver of :func:`lvmkit.lasso.lasso` (``solver="active_set"``).

    Arguments as in :func:`lvmkit.lasso.lasso`, which validates them; this function does
    not (it is also the homotopy's fallback, on inputs already checked).

    Returns:
        :class:`~lvmkit.lasso.LassoResult`.
    """
    A = torch.as_tensor(A)
    images = torch.as_tensor(images, dtype=A.dtype)
    G = A.T @ A if gram is None else torch.as_tensor(gram, dtype=A.dtype)
    lam = float(penalty)
    b = images @ A
    x = torch.zeros_like(b) if x0 is None else x0.to(b.dtype).clone()
    thr = certificate_threshold(tol, b.dtype, b.shape[1])
    kkt = torch.empty(len(b), dtype=b.dtype)
    it_max = 0
    for start in range(0, len(b), int(chunk_size)):
        sl = slice(start, start + int(chunk_size))
        x[sl], kkt[sl], it = _active_set(
            b[sl], G, lam, x[sl], thr, int(max_iter), int(max_add)
        )
        it_max = max(it_max, it)
    left = kkt > thr
    if bool(left.any()):  # rare: finish with FISTA from where the active set stopped
        res = fista(images[left], A, lam, n_iter=20_000, tol=1e-12, x0=x[left], gram=G)
        x[left] = res.x
        kkt[left] = kkt_violation(b[left], G, res.x, lam)
    return LassoResult(x, lasso_objective(images, A, x, lam), it_max, kkt <= thr, kkt)


def _active_set(
    b: torch.Tensor,
    G: torch.Tensor,
    lam: float,
    x: torch.Tensor,
    tol: float,
    max_iter: int,
    max_add: int,
) -> tuple[torch.Tensor, torch.Tensor, int]:
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
                t[run] for t in (act, xa, ba, grad, nz, on, score, scale)
            )
        if not len(act):
            break
        it += 1
        n = len(act)
        # the support, padded with N
        count = nz.sum(1)
        ks = int(count.max())
        rows, cols = torch.nonzero(
            nz, as_tuple=True
        )  # row-major: each row's atoms in order
        S = torch.full((n, ks), N, dtype=torch.long)
        S[rows, torch.arange(len(rows)) - (torch.cumsum(count, 0) - count)[rows]] = cols
        theta_s = torch.sign(xa.gather(1, S))
        # the worst violators join, once the support itself is optimal
        tol_abs = tol * scale  # (n,): the relative tolerance in this image's units
        fix = on > tol_abs
        madd = int(n_add[act][~fix].max()) if bool((~fix).any()) else 0
        if madd:
            vals, add = torch.topk(score, min(madd, N), dim=1)
            ok = (
                (vals > tol_abs[:, None])
                & ~fix[:, None]
                & (torch.arange(add.shape[1]) < n_add[act][:, None])
            )
            add = torch.where(ok, add, N)
            theta_a = torch.where(
                ok, torch.sign(grad.gather(1, add.clamp(max=N - 1))), 0.0
            )
            idx = torch.cat([S, add], 1)
            theta = torch.cat([theta_s, theta_a], 1)
        else:
            idx, theta = S, theta_s
        # exact minimiser of the sign-fixed quadratic on the working set
        xs, bs = xa.gather(1, idx), ba.gather(1, idx)
        pad = idx == N
        Gs = torch.take(Ge, idx[:, :, None] * (N + 1) + idx[:, None, :])
        Gs = torch.where(
            pad[:, :, None] | pad[:, None, :], torch.eye(idx.shape[1], dtype=dt), Gs
        )
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
            vn, tn, sg = _sign_fixed_step(
                Gr, torch.where(out, 0.0, bs[r]), vr, torch.sign(vr), lam
            )
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
        kkt[act] = kkt_violation(be[act, :N], G, xe[act, :N], lam)
    return xe[:, :N], kkt, it


def _sign_fixed_step(
    Gs: torch.Tensor,
    bs: torch.Tensor,
    xs: torch.Tensor,
    theta: torch.Tensor,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
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


def _null_space_step(
    Gs: torch.Tensor,
    xs: torch.Tensor,
    theta: torch.Tensor,
    z: torch.Tensor,
    singular: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
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
