r"""The lasso by homotopy: the LARS path with the lasso modification, compiled.

The lasso solution ``x(lambda) = argmin_x 1/2 |I - A x|^2 + lambda |x|_1`` is piecewise
linear in ``lambda`` (Osborne, Presnell & Turlach 2000; Efron, Hastie, Johnstone &
Tibshirani 2004). Starting from ``lambda_0 = max_j |a_j^T I|``, where ``x = 0``, the path
is followed down to the requested ``lambda``. On each linear piece, with support ``S``
and signs ``s``, the correlations ``c = A^T (I - A x)`` satisfy ``c_S = lambda s``, and

.. math::
    \frac{d x_S}{d(-\lambda)} = w = G_{SS}^{-1} s, \qquad
    \frac{d c}{d(-\lambda)} = -G_{:S}\, w \qquad (G = A^T A).

A piece ends when an inactive correlation reaches ``+-lambda`` (the atom joins with
that sign) or an active coefficient reaches zero (the atom leaves): both are found in
closed form. The Cholesky factor of ``G_SS`` is extended by one row when an atom joins
(``O(k^2)``) and rebuilt when one leaves, so a piece costs ``O(N k + k^2)`` for a
support of ``k`` atoms. A sparse code (a few dozen atoms of hundreds) is reached in a
few dozen pieces, which is why this beats iterative solvers on natural-image patches.

At the end the coefficients are recomputed exactly on the final support and signs, and
every image carries the same optimality certificate as :func:`lvmkit.lasso.lasso`:
the largest violation of ``|c_j - lambda sign x_j| = 0`` on the support and
``|c_j| <= lambda`` off it. An atom whose column is (numerically) in the span of the
support is passed over when it would join (a duplicated atom, or ``lambda = 0`` with
more atoms than pixels); an image whose certificate fails is finished by the batched
active-set solver from where the path stopped.

The loop over images runs in compiled code (numba), one thread per block of images;
the only dense product, ``A^T I`` for the batch, is one BLAS call.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import torch

from lvmkit import validation
from lvmkit.lasso.active_set import lasso_active_set
from lvmkit.lasso.core import LassoResult, certificate_threshold, kkt_violation

__all__ = ["lasso_homotopy"]

_JOIN, _LEAVE, _END = 1, 2, 0


def lasso_homotopy(
    images: torch.Tensor,
    A: torch.Tensor,
    penalty: float,
    *,
    tol: float = 1e-9,
    max_steps: int | None = None,
    gram: torch.Tensor | None = None,
    n_threads: int | None = None,
):
    r"""Solve ``B`` lasso problems exactly by following each one's regularisation path.

    Same problem, result type and certificate as :func:`lvmkit.lasso.lasso`
    (``1/2 |I - A x|^2 + lambda |x|_1`` per row), computed in float64 on the CPU
    (inputs on another device are copied there, and the results back).

    Args:
        images: Shape ``(B, P)``.
        A: Dictionary, shape ``(P, N)``.
        penalty: ``lambda >= 0``.
        tol: Optimality tolerance of the certificate (relative to the problem's scale,
            as in :func:`lvmkit.lasso.lasso`, which computes the certificate for both).
        max_steps: Most linear pieces per image (default ``4 N + 20``); an image that
            needs more is finished by the active-set solver.
        gram: Optional precomputed ``A^T A``.
        n_threads: Threads over blocks of images (default ``torch.get_num_threads()``).

    Returns:
        :class:`lvmkit.lasso.LassoResult` (``n_iter``: pieces of the longest path),
        with tensors of ``A``'s dtype on ``A``'s device (for float32 inputs the
        certificate is that of the float64 solution before rounding).
    """
    _validate(images, A, penalty, tol, max_steps, gram, n_threads)
    dtype, device = torch.as_tensor(A).dtype, torch.as_tensor(A).device

    def cpu64(t):
        return torch.as_tensor(t).detach().to("cpu", torch.float64)

    A64, I64 = cpu64(A), cpu64(images)
    G = A64.T @ A64 if gram is None else cpu64(gram)
    N = A64.shape[1]
    lam = float(penalty)
    C0 = (I64 @ A64).numpy()
    Gn = np.ascontiguousarray(G.numpy())
    B = C0.shape[0]
    X = np.zeros((B, N))
    kkt = np.zeros(B)
    obj = 0.5 * (I64 * I64).sum(1).numpy()  # 1/2 |I|^2; the kernel adds the rest
    steps = np.zeros(B, dtype=np.int64)
    n_threads = torch.get_num_threads() if n_threads is None else int(n_threads)
    n_blocks = max(1, min(n_threads, B // 64))
    bounds = np.linspace(0, B, n_blocks + 1).astype(int)
    limit = 4 * N + 20 if max_steps is None else int(max_steps)

    def solve(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        _follow_paths(
            C0[lo:hi], Gn, lam, limit, X[lo:hi], kkt[lo:hi], obj[lo:hi], steps[lo:hi]
        )

    if n_blocks == 1:
        solve(0)
    else:
        with ThreadPoolExecutor(n_blocks) as pool:
            list(pool.map(solve, range(n_blocks)))
    x, obj_t = torch.from_numpy(X), torch.from_numpy(obj)
    kkt_t = kkt_violation(
        torch.from_numpy(C0), G, x, lam
    )  # the certificate every solver reports
    thr = certificate_threshold(tol, torch.float64, N)
    left = kkt_t > thr
    if bool(
        left.any()
    ):  # rare: the active-set solver finishes from where the path stopped
        res = lasso_active_set(I64[left], A64, lam, tol=tol, x0=x[left], gram=G)
        x[left], kkt_t[left], obj_t[left] = res.x, res.kkt, res.objective
    return LassoResult(
        x.to(device, dtype),
        obj_t.to(device, dtype),
        int(steps.max(initial=0)),
        (kkt_t <= thr).to(device),
        kkt_t.to(device, dtype),
    )


_jit = numba.njit(cache=True, nogil=True)  # compiled on first use, cached on disk


@_jit
def _follow_paths(C0, G, lam, max_steps, X, KKT, OBJ, STEPS):
    """Follow the lasso path of every row of ``C0 = I A`` down to ``lam``.

    Writes the solutions to ``X`` (zeros on entry), the certificates to ``KKT``, the
    objectives to ``OBJ`` (which holds ``1/2 |I|^2`` on entry) and the number of linear
    pieces to ``STEPS``.
    """
    B, N = C0.shape
    L = np.zeros((N, N))  # Cholesky factor of G[act][:, act], lower triangular
    act = np.zeros(N, np.int64)
    s = np.zeros(N)
    w = np.zeros(N)
    y = np.zeros(N)
    a = np.zeros(N)
    c = np.zeros(N)
    state = np.zeros(
        N, np.int64
    )  # 0 off the support, 1 on it, 2 passed over (degenerate)
    for b in range(B):
        for j in range(N):
            c[j] = C0[b, j]
            state[j] = 0
        k = 0
        lam_cur = 0.0
        first = 0
        for j in range(N):
            if abs(c[j]) > lam_cur:
                lam_cur = abs(c[j])
                first = j
        n_steps = 0
        if lam_cur > lam:
            act[0] = first
            s[0] = 1.0 if c[first] > 0 else -1.0
            L[0, 0] = math.sqrt(G[first, first])
            state[first] = 1
            k = 1
            left = -1  # the atom that has just left may not rejoin on the next piece
            while n_steps < max_steps:
                n_steps += 1
                _cho_solve(L, k, s, y, w)
                for j in range(N):
                    a[j] = 0.0
                for i in range(k):
                    wi = w[i]
                    gi = act[i]
                    for j in range(N):
                        a[j] += wi * G[gi, j]
                gamma = lam_cur - lam
                event = _END
                who = -1
                sign = 0.0
                for j in range(
                    N
                ):  # g < gamma tested as n < gamma d (d > 0): no division
                    if state[j] != 0 or j == left:
                        continue
                    n1, d1 = lam_cur - c[j], 1.0 - a[j]
                    if d1 > 0.0 and 0.0 < n1 < gamma * d1:
                        gamma, event, who, sign = n1 / d1, _JOIN, j, 1.0
                    n2, d2 = lam_cur + c[j], 1.0 + a[j]
                    if d2 > 0.0 and 0.0 < n2 < gamma * d2:
                        gamma, event, who, sign = n2 / d2, _JOIN, j, -1.0
                for i in range(k):
                    xi = X[b, act[i]]
                    if xi * w[i] < 0.0:
                        g = -xi / w[i]
                        if g < gamma:
                            gamma, event, who = g, _LEAVE, i
                for i in range(k):
                    X[b, act[i]] += gamma * w[i]
                for j in range(N):
                    c[j] -= gamma * a[j]
                lam_cur -= gamma
                left = -1
                if event == _END:
                    break
                if event == _LEAVE:
                    j = act[who]
                    X[b, j] = 0.0
                    state[j] = 0
                    left = j
                    for i in range(who, k - 1):
                        act[i] = act[i + 1]
                        s[i] = s[i + 1]
                    k -= 1
                    for j2 in range(
                        N
                    ):  # a passed-over atom may fit the smaller support
                        if state[j2] == 2:
                            state[j2] = 0
                    _cholesky(G, act, k, L)
                else:
                    j = who
                    dd = G[j, j]
                    for i in range(k):
                        v = G[act[i], j]
                        for m in range(i):
                            v -= L[i, m] * L[k, m]
                        L[k, i] = v / L[i, i]
                        dd -= L[k, i] * L[k, i]
                    if dd <= 1e-10 * G[j, j]:
                        state[j] = 2
                    else:
                        L[k, k] = math.sqrt(dd)
                        act[k] = j
                        s[k] = sign
                        state[j] = 1
                        k += 1
            # the exact minimiser on the final support and signs, if it keeps the signs
            for i in range(k):
                a[i] = C0[b, act[i]] - lam * s[i]
            _cho_solve(L, k, a, y, w)
            keeps = True
            for i in range(k):
                if w[i] * s[i] <= 0.0:
                    keeps = False
            if keeps:
                for i in range(k):
                    X[b, act[i]] = w[i]
        # the certificate, from correlations recomputed from scratch
        for j in range(N):
            c[j] = C0[b, j]
        for i in range(k):
            xi = X[b, act[i]]
            gi = act[i]
            for j in range(N):
                c[j] -= xi * G[gi, j]
        # 1/2 |I - A x|^2 = 1/2 |I|^2 - x.c0 + 1/2 x.G x, and G x = c0 - c
        worst = 0.0
        for i in range(k):
            xi = X[b, act[i]]
            OBJ[b] += lam * abs(xi) - 0.5 * xi * (C0[b, act[i]] + c[act[i]])
        for j in range(N):
            xj = X[b, j]
            if xj > 0.0:
                v = abs(c[j] - lam)
            elif xj < 0.0:
                v = abs(c[j] + lam)
            else:
                v = abs(c[j]) - lam
            if v > worst:
                worst = v
        KKT[b] = worst
        STEPS[b] = n_steps


@_jit
def _cho_solve(L, k, rhs, y, out):
    """``out[:k] = (L L^T)^{-1} rhs[:k]`` for the leading ``k x k`` block of ``L``."""
    for i in range(k):
        v = rhs[i]
        for m in range(i):
            v -= L[i, m] * y[m]
        y[i] = v / L[i, i]
    for i in range(k - 1, -1, -1):
        v = y[i]
        for m in range(i + 1, k):
            v -= L[m, i] * out[m]
        out[i] = v / L[i, i]


@_jit
def _cholesky(G, act, k, L):
    """Cholesky factor of ``G[act[:k]][:, act[:k]]`` into the leading block of ``L``."""
    for i in range(k):
        for j in range(i + 1):
            v = G[act[i], act[j]]
            for m in range(j):
                v -= L[i, m] * L[j, m]
            if i == j:
                L[i, i] = math.sqrt(max(v, 1e-300))
            else:
                L[i, j] = v / L[j, j]


def _validate(images, A, penalty, tol, max_steps, gram, n_threads) -> None:
    """Every argument of :func:`lasso_homotopy`, before any work."""
    validation.check_same_device(images=images, A=A, gram=gram)
    A = validation.as_float_tensor("A", A, shape=("P", "N"))
    P, N = A.shape
    validation.as_float_tensor("images", images, shape=("B", P))
    validation.check_nonnegative("penalty", penalty)
    validation.check_positive("tol", tol)
    if max_steps is not None:
        validation.check_int("max_steps", max_steps, 1)
    if n_threads is not None:
        validation.check_int("n_threads", n_threads, 1)
    if gram is not None:
        gram = validation.as_float_tensor("gram", gram, shape=(N, N))
        validation.check_gram("gram", gram, A)
