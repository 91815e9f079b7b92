"""Fit the part 1 models on the tree world and cache them in data/treeworld.npz.

Run from the repository root: ``.venv/bin/python scripts/make_treeworld.py`` (a few minutes
on 2 cores). Everything is float64 and seeded; EM from a random start is still a
training trajectory, so the chapters load its result instead of re-running it.

Contents of the archive:

* ``m_prior_probs, m_weights, m_bias``: the model M (:class:`lvmkit.mixtures.BinaryFactorModel`,
  K = 10 binary features) fit by 60 EM iterations on 2000 images of the default world
  (``numpy.random.default_rng(1)``); ``m_trace`` its training log-likelihood per iteration;
  ``m_test_ll`` its mean exact log-likelihood on 1000 held-out images (``default_rng(2)``).
* ``q_weights, q_bias``: the amortised encoder Q fit to 5000 samples of M (``default_rng(3)``).
* ``curve_*``: learning curves on part maps. For each training size in ``curve_sizes`` and
  each replicate ``r`` (training maps from ``default_rng(100 + r)``; the 2000 test maps
  from ``default_rng(99)``): mean held-out ``log P(l)`` in nats of the hierarchy fit by EM
  (``curve_hier``), of a categorical mixture with ``curve_components`` components
  (``curve_mixture``, shape sizes x replicates x components), and of the texture model
  (``curve_texture``); ``curve_truth`` is the true world's value on the same test maps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lvmkit.mixtures import AmortisedEncoder, BinaryFactorModel, CategoricalMixture
from lvmkit.treeworld import TextureModel, TreeWorld

OUT = Path(__file__).resolve().parents[1] / "data" / "treeworld.npz"
SIZES = (10, 30, 100, 300, 1000, 3000)
COMPONENTS = (8, 32, 128)
REPLICATES = 2


def fit_m_and_q(world: TreeWorld) -> dict:
    train = world.sample(2000, generator=np.random.default_rng(1)).images
    test = world.sample(1000, generator=np.random.default_rng(2)).images
    model, trace = BinaryFactorModel.fit(
        train, 10, generator=np.random.default_rng(0), n_iter=60
    )
    encoder = AmortisedEncoder.fit_sleep(
        model, 5000, generator=np.random.default_rng(3)
    )
    return {
        "m_prior_probs": model.prior_probs,
        "m_weights": model.weights,
        "m_bias": model.bias,
        "m_trace": trace,
        "m_test_ll": model.log_marginal(test).mean(),
        "q_weights": encoder.weights,
        "q_bias": encoder.bias,
    }


def learning_curves(world: TreeWorld) -> dict:
    test = world.sample(2000, generator=np.random.default_rng(99)).maps
    hier = np.zeros((len(SIZES), REPLICATES))
    texture = np.zeros_like(hier)
    mixture = np.zeros((len(SIZES), REPLICATES, len(COMPONENTS)))
    for r in range(REPLICATES):
        pool = world.sample(max(SIZES), generator=np.random.default_rng(100 + r)).maps
        for i, n in enumerate(SIZES):
            maps = pool[:n]
            hier[i, r] = TreeWorld.fit(maps).log_prob_leaves(test).mean()
            texture[i, r] = TextureModel.fit(maps).log_prob_leaves(test).mean()
            for j, k in enumerate(COMPONENTS):
                mix = CategoricalMixture.fit(
                    maps, k, 3, generator=np.random.default_rng(r), n_iter=100
                )
                mixture[i, r, j] = mix.log_prob(test).mean()
            print(
                f"n = {n:5d} replicate {r}: hierarchy {hier[i, r]:.2f}, "
                f"mixtures {np.round(mixture[i, r], 2)}, texture {texture[i, r]:.2f}",
                file=sys.stderr,
                flush=True,
            )
    return {
        "curve_sizes": np.array(SIZES),
        "curve_components": np.array(COMPONENTS),
        "curve_hier": hier,
        "curve_texture": texture,
        "curve_mixture": mixture,
        "curve_truth": world.log_prob_leaves(test).mean(),
    }


def main() -> None:
    world = TreeWorld.default()
    arrays = {**fit_m_and_q(world), **learning_curves(world)}
    np.savez_compressed(OUT, **arrays)
    print(
        f"wrote {OUT.name}: M test log-likelihood {arrays['m_test_ll']:.3f} nats/image"
    )


if __name__ == "__main__":
    main()
