"""Bayes' loop after a maximum-likelihood fit: write data/bayes_loop.npz.

Run from the repository root:  OMP_NUM_THREADS=1 .venv/bin/python scripts/make_bayes_loop.py
(about 20 minutes on one core).

1. Monte-Carlo EM (lvmkit.sparse_em) for the 144 Laplace scales of the sparse model
   with the cached dictionary A fixed, on N_EM whitened patches (seed 11), started from
   the MAP heuristic s = sigma^2 / lambda of data/dictionary.npz. The noise sigma is
   held at the dictionary's held-out residual: a joint run (also stored, JOINT_ITERS
   iterations) shows its ML estimate running towards 0. Stopping rule: the change
   max(|d log sigma|, |d mean log s|) below TOL for PATIENCE iterations in a row.
2. REPS replicates, each on fresh held-out patches (seed 20 + k) and fresh model images:
   eta (lvmkit.diagnostics.run_average_posterior) before and after the fit, and of the
   best-rescaled Laplace prior; the energy correlation of |x_i|, |x_j| under the average
   posterior (data and model images); epsilon = MMD^2 (model images vs a mix of model
   images and patches in proportion t) and eta along t; Bonus 1: MMD^2 to held-out
   patches (seed 40 + k) of images generated from r(x), from a factorised fit and from
   a Gaussian mixture fitted to the pooled posterior draws.
tests/test_bayes_loop.py checks that the first EM iteration is reproduced.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from lvmkit import sparse_em as em
from lvmkit.artifacts import load_npz
from lvmkit.patches import natural_patches

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lvmkit.book import part2_bayes_loop as bl

OUT = Path(__file__).resolve().parents[1] / "data" / "bayes_loop.npz"
N_EM, EM_SAMPLES, EM_WARMUP, TOL, PATIENCE, MAX_ITER, JOINT_ITERS = (
    600,
    5,
    100,
    0.005,
    3,
    40,
    6,
)
REPS, B = 5, 300
TS = (0.0, 0.25, 0.5, 0.75, 1.0)


def start():
    fit = load_npz("dictionary.npz")
    A = torch.from_numpy(fit["A"])
    s0 = torch.full((A.shape[1],), float(fit["prior_scale"]), dtype=torch.float64)
    return A, s0, float(fit["noise_std"])


def e_step(*args, **kw):
    return em.laplace_e_step(*args, n_samples=EM_SAMPLES, n_warmup=EM_WARMUP, **kw)


def em_fit(max_iter=MAX_ITER, joint=False, log=print):
    A, s0, sigma = start()
    images = natural_patches(N_EM, 12, seed=11).patches

    def m_step(I, A_, d):
        s, n = em.laplace_m_step(I, A_, d)
        return s, (n if joint else sigma)

    def cb(t, s, n):
        log(f"iter {t}: mean s {float(s.mean()):.4f}, sigma {n:.4f}")

    return em.mc_em(
        images,
        A,
        s0,
        sigma,
        e_step=e_step,
        m_step=m_step,
        tol=TOL,
        patience=PATIENCE,
        max_iter=max_iter,
        callback=cb,
        generator=torch.Generator().manual_seed(0 if not joint else 1),
    )


def main() -> None:
    torch.set_num_threads(1)
    A, s0, sigma = start()
    fit = em_fit()
    print("converged", fit.converged, "after", fit.n_iter)
    joint = em_fit(JOINT_ITERS, joint=True)
    out = {
        "scales_path": fit.scales_path.numpy(),
        "change": fit.change.numpy(),
        "converged": np.array(fit.converged),
        "scales": fit.scales.numpy(),
        "noise_std": np.array(sigma),
        "joint_noise_path": joint.noise_path.numpy(),
        "joint_scales_path": joint.scales_path.numpy(),
        "tol": np.array(TOL),
        "patience": np.array(PATIENCE),
        "ts": np.array(TS),
    }
    reps = [bl.replicate(A, s0, fit.scales, sigma, k, B, TS) for k in range(REPS)]
    for key in reps[0]:
        out[key] = np.stack([r[key] for r in reps])
    np.savez_compressed(OUT, **out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
