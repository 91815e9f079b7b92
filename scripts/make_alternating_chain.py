"""Zhao et al.'s alternating chain and the filter energy correlation: write
data/alternating_chain.npz.

Run from the repository root:  .venv/bin/python scripts/make_alternating_chain.py
(about 8 minutes on one core).

Model: the cached dictionary A and noise sigma (data/dictionary.npz) with the Laplace
scales fitted by maximum likelihood (data/bayes_loop.npz, scripts/make_bayes_loop.py).
REPS replicates (lvmkit.book.part2_alternating.chain_replicate), each with its own
patches and seeds: the chain started at B whitened patches, x ~ q(x | I) by 100 Gibbs
sweeps at the first step and SWEEPS from the previous x after, I ~ p(I | x); at the
recorded STEPS the filter energy correlation of its images and their MMD^2 to B
held-out patches; the same statistic on mixes of patches and model images in
proportion TS. A control repeats replicate 0 with 4 x SWEEPS sweeps per step (up to
step 32): if the decay along the chain is the chain's and not the sampler's, the two
agree.
tests/test_alternating_chain.py re-runs replicate 0 and compares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from lvmkit.artifacts import load_npz

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lvmkit.book.part2_alternating import chain_replicate

OUT = Path(__file__).resolve().parents[1] / "data" / "alternating_chain.npz"
REPS, B, SWEEPS = 5, 300, 5
STEPS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256)
TS = (0.0, 0.25, 0.5, 0.75, 1.0)


def model():
    fit, loop = load_npz("dictionary.npz"), load_npz("bayes_loop.npz")
    return (
        torch.from_numpy(fit["A"]),
        torch.from_numpy(loop["scales"]),
        float(loop["noise_std"]),
    )


def replicate(k: int, sweeps: int = SWEEPS, steps=STEPS) -> dict:
    A, scales, sigma = model()
    return chain_replicate(A, scales, sigma, k, B, steps, TS, sweeps)


def main() -> None:
    torch.set_num_threads(1)
    reps = [replicate(k) for k in range(REPS)]
    out = {key: np.stack([r[key] for r in reps]) for key in reps[0]}
    control = replicate(0, 4 * SWEEPS, STEPS[:7])
    out["control_chain_ecorr"] = control["chain_ecorr"]
    out["sweeps"] = np.array(SWEEPS)
    out.update(steps=np.array(STEPS), ts=np.array(TS), n_images=np.array(B))
    np.savez_compressed(OUT, **out)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
