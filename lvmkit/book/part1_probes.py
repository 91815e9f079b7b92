"""Part 1's linear probes: W's variables read from M, Q, raw pixels and W's posterior.

The book's own experiment driver for *The world, the model and its approximation*: one
replicate trains a logistic-regression probe (scikit-learn) per world variable and
feature set on 1000 trees and scores it on 1000 others; :func:`posterior_marginals`
gives W's exact posterior of every variable, the best any reader of the image can do.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from lvmkit.book.part1_baselines import VARIABLES
from lvmkit.mixtures import AmortisedEncoder, BinaryFactorModel
from lvmkit.treeworld import TreeWorld
from lvmkit.treeworld.render import GRID

__all__ = ["VARIABLES", "posterior_marginals", "probe_replicate"]


def posterior_marginals(world: TreeWorld, images) -> dict[str, np.ndarray]:
    """Exact posterior marginal of each of W's seven variables, each ``(n, values)``."""
    lj = world.log_joint_images(images)
    post = np.exp(lj - logsumexp(lj, axis=1, keepdims=True)).reshape(len(lj), *GRID)
    axes = range(1, len(GRID) + 1)
    return {
        name: post.sum(tuple(a for a in axes if a != i + 1))
        for i, name in enumerate(VARIABLES)
    }


def probe_replicate(
    world: TreeWorld,
    model: BinaryFactorModel,
    encoder: AmortisedEncoder,
    *,
    generator: np.random.Generator,
    n_train: int = 1000,
    n_test: int = 1000,
) -> dict[tuple[str, str], float]:
    """Held-out probe accuracies of one replicate, keyed ``(variable, reader)``.

    Readers: ``"W posterior"`` (argmax of the exact posterior), ``"M posterior"``
    (probe on M's posterior means), ``"Q"`` (probe on Q's probabilities) and
    ``"raw pixels"`` (probe on the image).
    """
    from sklearn.linear_model import LogisticRegression

    probe = world.sample(n_train + n_test, generator=generator)
    train, held = slice(0, n_train), slice(n_train, n_train + n_test)
    features = {
        "M posterior": model.posterior_means(probe.images),
        "Q": encoder.probs(probe.images),
        "raw pixels": probe.images,
    }
    post = posterior_marginals(world, probe.images[held])
    acc = {}
    for col, name in enumerate(VARIABLES):
        y = probe.configs[:, col]
        acc[name, "W posterior"] = float(np.mean(post[name].argmax(1) == y[held]))
        for reader, f in features.items():
            clf = LogisticRegression(max_iter=2000).fit(f[train], y[train])
            acc[name, reader] = float(clf.score(f[held], y[held]))
    return acc
