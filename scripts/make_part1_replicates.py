"""Replicated learning curves, fair baselines and replicated M/Q fits for part 1.

Run from the repository root: ``.venv/bin/python scripts/make_part1_replicates.py``
(about 15 minutes on one core; float64, seeded, ``OMP_NUM_THREADS=1``). Writes
``data/part1_replicates.npz``; the chapters of part 1 load it.

Learning curves on part maps (nats per tree, exact): for each training size in
``sizes`` and each replicate ``r`` (training maps: the first ``n`` of 3000 drawn with
``numpy.random.default_rng(100 + r)``, as in ``treeworld.npz``; the 2000 test maps from
``default_rng(99)``; 1000 *validation* maps from ``default_rng(98)``, used only to
choose a number of components or a pseudo-count), arrays of shape ``(sizes, reps)``:

* ``hier_test``, ``hier_val`` ``(sizes, reps, hier_pseudo_counts)``: the hierarchy with
  the world's structure, its tables learned by EM (``TreeWorld.fit``) with each
  Dirichlet pseudo-count of ``hier_pseudo_counts``; ``tied_test``, ``tied_val``: the
  same for the misspecified hierarchy (branch geometry ignores species and trunk
  height, foliage ignores species; ``fit_tied_hierarchy``); ``texture``
  ``(sizes, reps)``: independent locations (``TextureModel.fit``).
* ``table_test``, ``table_val`` ``(sizes, reps, pseudo_counts)``: the flat count table
  over the 5814 maps of the known support, smoothed by each of ``pseudo_counts``.
* ``mixture_test``, ``mixture_val`` ``(sizes, reps, components)``: categorical mixtures
  (``CategoricalMixture.fit``, 100 EM iterations, initial responsibilities from
  ``default_rng(r)``).
* ``truth_test``, ``truth_val``: the true world's mean log P(l) on the same maps.
* ``tied_pop_kl``: KL(world || best misspecified hierarchy), the tied model fitted to
  the exact distribution; ``mixture_pop_kl`` ``(components,)``: KL(world || mixture
  fitted to the exact distribution by weighted EM, ``default_rng(0)``), each exact.

Replicated M and Q of *The world, the model and its approximation*: replicate ``r`` of
``m_reps`` fits ``BinaryFactorModel`` (K = 10, 60 EM iterations, initial weights from
``default_rng(r)``) on 2000 images of the default world from ``default_rng(1)`` for
``r = 0`` (the model of ``treeworld.npz``) and ``default_rng(200 + r)`` otherwise, and
Q to 5000 of its samples (``default_rng(3)`` for ``r = 0``, ``default_rng(300 + r)``
otherwise): ``m_prior_probs (R, 10)``, ``m_weights (R, 256, 10)``, ``m_bias (R, 256)``,
``q_weights (R, 10, 256)``, ``q_bias (R, 10)``, and ``m_test_ll (R,)``, the mean exact
log-likelihood of the 1000 held-out images of ``default_rng(2)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lvmkit.book.part1_baselines import (
    exact_kl,
    fit_mixture_weighted,
    fit_tied_hierarchy,
    flat_table_log_prob,
    support_index,
)
from lvmkit.mixtures import AmortisedEncoder, BinaryFactorModel, CategoricalMixture
from lvmkit.treeworld import TextureModel, TreeWorld

OUT = Path(__file__).resolve().parents[1] / "data" / "part1_replicates.npz"
SIZES = (10, 30, 100, 300, 1000, 3000)
COMPONENTS = (2, 8, 32, 128, 512)
PSEUDO_COUNTS = (0.01, 0.1, 1.0)
HIER_PSEUDO_COUNTS = (0.1, 1.0, 10.0)
REPLICATES = 5


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def learning_curves(world: TreeWorld) -> dict:
    test = world.sample(2000, generator=np.random.default_rng(99)).maps
    val = world.sample(1000, generator=np.random.default_rng(98)).maps
    shape = (len(SIZES), REPLICATES)
    out = {"texture": np.zeros(shape)}
    for k in ("hier_test", "hier_val", "tied_test", "tied_val"):
        out[k] = np.zeros((*shape, len(HIER_PSEUDO_COUNTS)))
    for k in ("table_test", "table_val"):
        out[k] = np.zeros((*shape, len(PSEUDO_COUNTS)))
    for k in ("mixture_test", "mixture_val"):
        out[k] = np.zeros((*shape, len(COMPONENTS)))
    for r in range(REPLICATES):
        pool = world.sample(max(SIZES), generator=np.random.default_rng(100 + r)).maps
        for i, n in enumerate(SIZES):
            maps = pool[:n]
            for j, a in enumerate(HIER_PSEUDO_COUNTS):
                for key, fit in (("hier", TreeWorld.fit), ("tied", fit_tied_hierarchy)):
                    learned = fit(maps, pseudo_count=a)
                    out[f"{key}_test"][i, r, j] = learned.log_prob_leaves(test).mean()
                    out[f"{key}_val"][i, r, j] = learned.log_prob_leaves(val).mean()
            out["texture"][i, r] = TextureModel.fit(maps).log_prob_leaves(test).mean()
            for j, a in enumerate(PSEUDO_COUNTS):
                out["table_test"][i, r, j] = flat_table_log_prob(
                    maps, test, pseudo_count=a
                ).mean()
                out["table_val"][i, r, j] = flat_table_log_prob(
                    maps, val, pseudo_count=a
                ).mean()
            for j, k in enumerate(COMPONENTS):
                mix = CategoricalMixture.fit(
                    maps, k, 3, generator=np.random.default_rng(r), n_iter=100
                )
                out["mixture_test"][i, r, j] = mix.log_prob(test).mean()
                out["mixture_val"][i, r, j] = mix.log_prob(val).mean()
            row = {
                k: np.round(out[f"{k}_test"][i, r], 3)
                for k in ("hier", "tied", "table")
            }
            log(
                f"n = {n:5d} replicate {r}: {row}, "
                f"mixtures {np.round(out['mixture_test'][i, r], 2)}"
            )
    out["truth_test"] = world.log_prob_leaves(test).mean()
    out["truth_val"] = world.log_prob_leaves(val).mean()
    return out


def population_fits(world: TreeWorld) -> dict:
    uniq, _, _ = support_index()
    log_p = world.log_prob_leaves(uniq)
    weights = np.exp(log_p)
    weights = weights / weights.sum()
    tied = fit_tied_hierarchy(weights=weights, pseudo_count=1e-9, n_iter=2000)
    out = {"tied_pop_kl": exact_kl(log_p, tied.log_prob_leaves(uniq))}
    kls = []
    for k in COMPONENTS:
        mix = fit_mixture_weighted(
            uniq, weights, k, 3, generator=np.random.default_rng(0)
        )
        kls.append(exact_kl(log_p, mix.log_prob(uniq)))
        log(f"population mixture K = {k}: KL {kls[-1]:.3f} nats")
    out["mixture_pop_kl"] = np.array(kls)
    log(f"population tied hierarchy: KL {out['tied_pop_kl']:.4f} nats")
    return out


def m_replicates(world: TreeWorld) -> dict:
    test = world.sample(1000, generator=np.random.default_rng(2)).images
    keys = ("m_prior_probs", "m_weights", "m_bias", "q_weights", "q_bias", "m_test_ll")
    out = {k: [] for k in keys}
    for r in range(REPLICATES):
        rng_train = np.random.default_rng(1 if r == 0 else 200 + r)
        train = world.sample(2000, generator=rng_train).images
        model, _ = BinaryFactorModel.fit(
            train, 10, generator=np.random.default_rng(r), n_iter=60
        )
        rng_q = np.random.default_rng(3 if r == 0 else 300 + r)
        encoder = AmortisedEncoder.fit_sleep(model, 5000, generator=rng_q)
        for k, v in zip(
            keys,
            (
                model.prior_probs,
                model.weights,
                model.bias,
                encoder.weights,
                encoder.bias,
                model.log_marginal(test).mean(),
            ),
            strict=True,
        ):
            out[k].append(v)
        log(f"M replicate {r}: held-out log-likelihood {out['m_test_ll'][-1]:.3f}")
    return {k: np.array(v) for k, v in out.items()}


def main() -> None:
    world = TreeWorld.default()
    arrays = {
        "sizes": np.array(SIZES),
        "components": np.array(COMPONENTS),
        "pseudo_counts": np.array(PSEUDO_COUNTS),
        "hier_pseudo_counts": np.array(HIER_PSEUDO_COUNTS),
        **population_fits(world),
        **learning_curves(world),
        **m_replicates(world),
    }
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT.name}")


if __name__ == "__main__":
    main()
