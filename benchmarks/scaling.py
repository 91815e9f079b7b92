"""Row 6: scaling of sparse inference and dictionary learning, and FISTA's FLOP rate.

* Inference: time of the exact :func:`~lvmkit.lasso.lasso` (its CPU default, the
  homotopy) and of :func:`~lvmkit.lasso.fista` to its tolerance (1e-3, the setting
  row 1 verifies) as the number of patches grows, with the learned 288-atom
  dictionary; and, as the dictionary grows (unit-norm random dictionaries of 144 to 576
  atoms), FISTA's time per iteration (fixed iteration count) and the lasso's time.
* Dictionary learning: wall time of one pass over the patches (``n / 256`` minibatch
  steps) of :func:`~lvmkit.sparse_coding.learn_dictionary`, and time per step as the
  dictionary grows.
* FLOP rate: FISTA's useful work is one ``(n, N) x (N, N)`` product with the Gram
  matrix per iteration (``2 n N^2`` flops; the element-wise work is not counted),
  plus ``I A`` once. Its achieved rate on 10,000 patches is compared with the
  machine's rate on a large square float64 matrix product, measured in the same run.
"""

from __future__ import annotations

import time

import torch

from benchmarks.common import (
    PENALTY,
    check,
    dictionary,
    make_row,
    patches,
    summary,
    timed,
)

NAME = "scaling"
TITLE = "Scaling; FISTA FLOP rate vs machine matmul rate"
GOAL = {
    "text": ">= 50% of the measured matmul rate",
    "value": 0.5,
    "higher_is_better": True,
}
TOL, FIXED_ITERS = 1e-3, 200


def matmul_rate(n: int, repeats: int) -> dict:
    """GFLOP/s of an ``n x n`` float64 matrix product (median over repeats)."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    b = torch.randn(n, n, generator=g, dtype=torch.float64)
    a @ b  # warm up
    times, _ = timed(lambda: a @ b, repeats)
    return summary([2 * n**3 / t / 1e9 for t in times])


def run(cfg, ctx: dict) -> dict:
    from lvmkit.lasso import fista, lasso
    from lvmkit.sparse_coding import learn_dictionary

    A = dictionary(cfg, ctx)
    P, N = A.shape
    n_flop = min(10_000, max(cfg.scale_n))
    X = patches(n_flop, cfg.patch_side, seed=3)
    mm = matmul_rate(128 if cfg.quick else 2048, cfg.repeats)
    fixed = lambda: fista(X, A, PENALTY, n_iter=FIXED_ITERS, tol=0.0)  # noqa: E731
    fixed()  # warm up
    t_fixed, res_fixed = timed(fixed, cfg.repeats)
    flops = 2 * n_flop * N * N * res_fixed.n_iter + 2 * n_flop * P * N
    rates = summary([flops / t / 1e9 for t in t_fixed])
    mm_after = matmul_rate(128 if cfg.quick else 2048, cfg.repeats)
    converged = fista(X, A, PENALTY, n_iter=5000, tol=1e-6).objective.sum()
    gap = float((res_fixed.objective.sum() - converged) / converged)
    checks = [
        check(
            f"FISTA after {FIXED_ITERS} iterations is a real solve "
            "(relative objective gap to converged)",
            gap,
            1e-3,
        )
    ]

    by_n = []
    for n in cfg.scale_n:
        Xn = patches(n, cfg.patch_side, seed=3)
        t, r = timed(
            lambda Xn=Xn: fista(Xn, A, PENALTY, n_iter=5000, tol=TOL),
            1 if n >= 30_000 else 2,
        )
        t_exact, _ = timed(lambda Xn=Xn: lasso(Xn, A, PENALTY), 1 if n >= 30_000 else 2)
        by_n.append(
            {
                "n": n,
                "seconds": summary(t)["median"],
                "iterations": int(r.n_iter),
                "seconds_per_iteration": summary(t)["median"] / r.n_iter,
                "lasso_seconds": summary(t_exact)["median"],
            }
        )
    by_atoms = []
    g = torch.Generator().manual_seed(10)
    for k in cfg.scale_atoms:
        Ak = torch.randn(P, k, generator=g, dtype=torch.float64)
        Ak = Ak / Ak.norm(dim=0)
        t, r = timed(lambda Ak=Ak: fista(X, Ak, PENALTY, n_iter=30, tol=0.0), 2)
        s = summary(t)["median"]
        t_exact, _ = timed(lambda Ak=Ak: lasso(X, Ak, PENALTY), 1)
        by_atoms.append(
            {
                "n_atoms": k,
                "seconds_per_iteration": s / r.n_iter,
                "gflops": 2 * n_flop * k * k * r.n_iter / s / 1e9,
                "lasso_seconds": t_exact[0],
            }
        )
    dl_by_n = []
    for n in cfg.scale_n:
        Xn = patches(n, cfg.patch_side, seed=3)
        steps = max(1, n // 256)
        t0 = time.perf_counter()
        learn_dictionary(
            Xn,
            N,
            PENALTY,
            n_steps=steps,
            batch_size=256,
            A0=A,
            generator=torch.Generator().manual_seed(11),
        )
        dl_by_n.append({"n": n, "steps": steps, "seconds": time.perf_counter() - t0})
    dl_by_atoms = []
    for k in cfg.scale_atoms:
        t0 = time.perf_counter()
        learn_dictionary(
            X,
            k,
            PENALTY,
            n_steps=10,
            batch_size=256,
            generator=torch.Generator().manual_seed(12),
        )
        dl_by_atoms.append(
            {"n_atoms": k, "seconds_per_step": (time.perf_counter() - t0) / 10}
        )

    peer_rate = summary(mm["values"] + mm_after["values"])
    peer = {
        "name": f"torch float64 matmul {128 if cfg.quick else 2048}^2 (machine rate)",
        "unit": "GFLOP/s",
        "figure": peer_rate["median"],
        **peer_rate,
    }
    lv = {
        "name": f"lvmkit fista, {n_flop} patches x {N} atoms",
        "unit": "GFLOP/s",
        "figure": rates["median"],
        **rates,
    }
    details = {
        "fista_flops_per_run": flops,
        "fixed_iterations": FIXED_ITERS,
        "matmul_before": mm,
        "matmul_after": mm_after,
        "inference_by_n": by_n,
        "inference_by_atoms": by_atoms,
        "dictionary_by_n": dl_by_n,
        "dictionary_by_atoms": dl_by_atoms,
        "tol": TOL,
    }
    return make_row(
        NAME,
        TITLE,
        checks=checks,
        peer=peer,
        lvmkit=lv,
        ratio=lv["median"] / peer["median"],
        ratio_meaning="fraction of the machine's matmul rate",
        goal=GOAL,
        details=details,
    )
