"""Fit the sparse-coding dictionary of part 2 and write data/dictionary.npz.

Run from the repository root:  .venv/bin/python scripts/make_dictionary.py   (a few minutes)

Training data: 40 000 whitened 12 x 12 patches, lvmkit.patches.natural_patches(seed=0).
Dictionary: 144 atoms (complete, as Olshausen & Field 1997), lasso penalty 1.5, 800
minibatches of 256 patches, online dictionary learning (lvmkit.sparse_coding).
Then, on 2 000 held-out patches (seed=1): the pixel-noise standard deviation sigma is
the root mean squared residual of the MAP codes, and the prior scale is s = sigma^2 /
lambda, so that the lasso is exactly the MAP of the fitted SparseLinearGaussian.
Finally a localised Gabor is fitted to every atom and to every PCA component.

The run is single-threaded and seeded, so on one machine it is repeatable; its trajectory
may differ in the last digits across CPUs, hence tests/test_sparse_coding.py checks that
the stored dictionary reproduces the stored held-out objective, not the training run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from lvmkit.lasso import fista
from lvmkit.patches import natural_patches
from lvmkit.sparse_coding import fit_gabor, learn_dictionary, pca_components

OUT = Path(__file__).resolve().parents[1] / "data" / "dictionary.npz"
SIZE, N_ATOMS, PENALTY, N_TRAIN, N_HELDOUT = 12, 144, 1.5, 40_000, 2_000


def heldout_objective(A: torch.Tensor, heldout: torch.Tensor, penalty: float):
    """Mean lasso objective and RMS residual of the MAP codes of the held-out patches."""
    res = fista(heldout, A, penalty, n_iter=2000, tol=1e-9)
    resid = heldout - res.x @ A.T
    return float(res.objective.mean()), float(resid.square().mean().sqrt())


def main() -> None:
    torch.set_num_threads(1)
    train = natural_patches(N_TRAIN, SIZE, seed=0)
    heldout = natural_patches(N_HELDOUT, SIZE, seed=1)
    # coded by 60 FISTA iterations per step: how the stored dictionary was made
    print(
        f"learning a dictionary of {N_ATOMS} atoms on {N_TRAIN} patches (800 steps) ...",
        file=sys.stderr,
        flush=True,
    )
    fit = learn_dictionary(
        train.patches,
        N_ATOMS,
        PENALTY,
        n_steps=800,
        batch_size=256,
        coder="fista",
        fista_iter=60,
        generator=torch.Generator().manual_seed(0),
    )
    A = fit.A
    print("held-out objective, Gabor fits ...", file=sys.stderr, flush=True)
    obj, sigma = heldout_objective(A, heldout.patches, PENALTY)
    gab = [fit_gabor(A[:, i]) for i in range(N_ATOMS)]
    pcs = pca_components(train.patches)
    gab_pca = [fit_gabor(pcs[:, i]) for i in range(N_ATOMS)]
    np.savez_compressed(
        OUT,
        A=A.numpy(),
        penalty=PENALTY,
        noise_std=sigma,
        prior_scale=sigma**2 / PENALTY,
        heldout_objective=obj,
        train_objective=fit.objective,
        gabor_r2=np.array([g.r2 for g in gab]),
        gabor_params=np.stack([g.params for g in gab]),
        pca_r2=np.array([g.r2 for g in gab_pca]),
        train_probe=train.probe(),
        heldout_probe=heldout.probe(),
    )
    print(f"wrote {OUT.name}: held-out objective {obj:.4f}, sigma {sigma:.4f}")


if __name__ == "__main__":
    main()
