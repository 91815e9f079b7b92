r"""Part 1's fair baselines: learners of the tree world's part maps, and chance levels.

The book's own pieces for *Hierarchies as priors* and *The world, the model and its
approximation* (issue 16); the general models they use live in
:mod:`lvmkit.treeworld` and :mod:`lvmkit.mixtures`.

* :func:`support_index`: the distinct part maps of the tree world (its known support)
  and the map index of each configuration.
* :func:`flat_table_log_prob`: a flat table over that support learned by counting,
  :math:`P(l) = (n_l + a) / (n + a |S|)` (Laplace smoothing for ``a = 1``); it can
  represent the true prior exactly, so its gap measures sample efficiency only.
* :func:`fit_tied_hierarchy`: a *misspecified* hierarchy with the world's renderer but
  a wrong branch and leaf model: branch geometry ignores the species and the trunk
  height, foliage ignores the species (:math:`P(b)`, :math:`P(c)` instead of
  :math:`P(b \mid s, h)`, :math:`P(c \mid s)`), learned by EM.
* :func:`fit_mixture_weighted`: EM for :class:`~lvmkit.mixtures.CategoricalMixture`
  with a weight per data point, so that a mixture can be fitted to the exact
  distribution (its capacity limit, no sampling error).
* :func:`exact_kl`: :math:`\mathrm{KL}(P \,\|\, Q)` over the support.
* :func:`chance_level`: the accuracy of the best guess of a world variable from
  other world variables only (majority class within each group), exact from the
  tables.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import numpy as np
from scipy.special import logsumexp

from lvmkit.mixtures import CategoricalMixture
from lvmkit.treeworld import TreeWorld, enumerate_configs
from lvmkit.treeworld.render import GRID

__all__ = [
    "chance_level",
    "exact_kl",
    "fit_mixture_weighted",
    "fit_tied_hierarchy",
    "flat_table_log_prob",
    "map_ids",
    "select_on_validation",
    "support_index",
]

VARIABLES = (
    "species",
    "trunk_x",
    "trunk_h",
    "branches",
    "leaf_left",
    "leaf_right",
    "leaf_crown",
)


@lru_cache(maxsize=1)
def support_index() -> tuple[np.ndarray, np.ndarray, dict]:
    """``(maps, inverse, index)``: distinct part maps ``(n_l, 256)``, the map index of each
    configuration ``(5832,)``, and a dict from a map's bytes to its index."""
    _, maps = enumerate_configs()
    uniq, inverse = np.unique(maps, axis=0, return_inverse=True)
    uniq.setflags(write=False)
    inverse = inverse.ravel()
    inverse.setflags(write=False)
    return uniq, inverse, {row.tobytes(): i for i, row in enumerate(uniq)}


def map_ids(maps) -> np.ndarray:
    """Support index of each part map, shape ``(n,)``; raises for a map off the support."""
    maps = np.asarray(maps, dtype=np.uint8)
    if maps.ndim != 2 or maps.shape[1] != 256:
        raise ValueError(f"maps must have shape (n, 256), got {maps.shape}")
    _, _, index = support_index()
    ids = np.array([index.get(row.tobytes(), -1) for row in maps])
    if np.any(ids < 0):
        raise ValueError("maps must lie in the support of the tree world")
    return ids


def flat_table_log_prob(
    train_maps, test_maps, *, pseudo_count: float = 1.0
) -> np.ndarray:
    """``log P(l)`` of test maps under the smoothed count table of the training maps.

    Args:
        train_maps: Training part maps, shape ``(n, 256)``, in the support.
        test_maps: Part maps to score, shape ``(m, 256)``, in the support.
        pseudo_count: ``a > 0`` added to every one of the ``|S|`` support entries.

    Returns:
        Shape ``(m,)``, in nats.
    """
    if not pseudo_count > 0:
        raise ValueError(f"pseudo_count must be > 0, got {pseudo_count}")
    n_support = len(support_index()[0])
    counts = np.bincount(map_ids(train_maps), minlength=n_support) + pseudo_count
    return np.log(counts[map_ids(test_maps)] / counts.sum())


def _tied_m_step(counts: np.ndarray, a: float, pixel_on) -> TreeWorld:
    """M-step of the misspecified hierarchy: b pooled over (s, h), c pooled over s."""
    sp = counts.sum((1, 2, 3, 4, 5, 6)) + a
    tr = counts.sum((3, 4, 5, 6)).reshape(3, 18) + a
    br = counts.sum((0, 1, 2, 4, 5, 6)) + a  # P(b): one row for every (s, h)
    lf = counts.sum((0, 1, 2, 3, 5, 6)) + counts.sum((0, 1, 2, 3, 4, 6))
    lf = lf + counts.sum((0, 1, 2, 3, 4, 5)) + a  # P(c): one row for every s
    return TreeWorld(
        sp / sp.sum(),
        tr / tr.sum(-1, keepdims=True),
        np.broadcast_to(br / br.sum(), (3, 3, 4)).copy(),
        np.broadcast_to(lf / lf.sum(), (3, 3)).copy(),
        pixel_on,
    )


def fit_tied_hierarchy(
    maps=None,
    *,
    weights=None,
    pseudo_count: float = 0.1,
    n_iter: int = 200,
    tol: float = 1e-9,
    pixel_on=(0.04, 0.95, 0.8),
) -> TreeWorld:
    """EM for the misspecified hierarchy (wrong branch and leaf model).

    Same renderer and E-step as :meth:`lvmkit.treeworld.TreeWorld.fit`; the M-step
    pools the branch table over species and trunk height and the foliage table over
    species, so the fitted world has ``P(b | s, h) = P(b)`` and ``P(c | s) = P(c)``.

    Args:
        maps: Training part maps, shape ``(n, 256)``; or ``None`` with ``weights``.
        weights: Instead of maps, a weight per support map, shape ``(n_l,)`` (e.g. the
            exact ``P_fancy``: the population fit, the family's best member).
        pseudo_count: Dirichlet pseudo-count per table entry (> 0).
        n_iter: Maximum EM iterations.
        tol: Stop when no table entry moves by more than ``tol``.
        pixel_on: Rendering probabilities of the returned world.
    """
    if not pseudo_count > 0:
        raise ValueError(f"pseudo_count must be > 0, got {pseudo_count}")
    uniq, inverse, _ = support_index()
    if (maps is None) == (weights is None):
        raise ValueError("give exactly one of maps= and weights=")
    if maps is not None:
        obs = np.bincount(map_ids(maps), minlength=len(uniq)).astype(np.float64)
    else:
        obs = np.asarray(weights, dtype=np.float64)
        if obs.shape != (len(uniq),) or np.any(obs < 0) or not np.all(np.isfinite(obs)):
            raise ValueError(f"weights must be {len(uniq)} finite non-negative numbers")
    world = _tied_m_step(np.ones(GRID), pseudo_count, pixel_on)
    for _ in range(n_iter):
        logp = world.log_config_probs()
        norm = np.full(len(uniq), -np.inf)
        np.logaddexp.at(norm, inverse, logp)
        counts = (obs[inverse] * np.exp(logp - norm[inverse])).reshape(GRID)
        new = _tied_m_step(counts, pseudo_count, pixel_on)
        delta = max(
            np.abs(getattr(new, f) - getattr(world, f)).max()
            for f in ("species_probs", "trunk_probs", "branch_probs", "leaf_probs")
        )
        world = new
        if delta < tol:
            break
    return world


def fit_mixture_weighted(
    x,
    weights,
    n_components: int,
    n_values: int,
    *,
    generator: np.random.Generator,
    n_iter: int = 300,
    pseudo_count: float = 1e-6,
    tol: float = 1e-9,
) -> CategoricalMixture:
    """EM for a categorical mixture on weighted data (weights summing to one).

    With ``x`` the support and ``weights`` its exact probabilities this fits the
    mixture to the distribution itself: what ``K`` components can do with unlimited
    data (up to EM's local optimum).

    Args:
        x: Data, integers in ``[0, n_values)``, shape ``(n, D)``.
        weights: Non-negative weights, shape ``(n,)``, summing to one.
        n_components: Number of components K.
        n_values: Number of values V of each site.
        generator: Seeds the initial responsibilities.
        n_iter: Maximum iterations.
        pseudo_count: Dirichlet pseudo-count (> 0), in units of the total weight.
        tol: Stop when the weighted log-likelihood improves by less than ``tol``.
    """
    if not isinstance(generator, np.random.Generator):
        raise ValueError("generator must be a numpy.random.Generator")
    w = np.asarray(weights, dtype=np.float64)
    x = np.asarray(x)
    if w.shape != (len(x),) or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise ValueError(f"weights must be {len(x)} non-negative numbers summing to 1")
    k, v = int(n_components), int(n_values)
    oh = (
        (x.astype(int)[..., None] == np.arange(v))
        .reshape(len(x), -1)
        .astype(np.float64)
    )
    resp = generator.dirichlet(np.ones(k), size=len(x))
    last = -np.inf
    for _ in range(n_iter):
        wr = resp * w[:, None]
        probs = (wr.T @ oh + pseudo_count).reshape(k, x.shape[1], v)
        probs = probs / probs.sum(-1, keepdims=True)
        mix = (wr.sum(0) + pseudo_count) / (1 + k * pseudo_count)
        logj = oh @ np.log(probs).reshape(k, -1).T + np.log(mix)
        norm = logsumexp(logj, axis=1, keepdims=True)
        resp = np.exp(logj - norm)
        ll = float(w @ norm[:, 0])
        if ll - last < tol:
            break
        last = ll
    return CategoricalMixture(mix, probs)


def exact_kl(log_p, log_q) -> float:
    """``KL(P || Q) = sum_l P(l) (log P(l) - log Q(l))`` over a support, in nats."""
    log_p, log_q = np.asarray(log_p, float), np.asarray(log_q, float)
    if log_p.shape != log_q.shape:
        raise ValueError(
            f"log_p and log_q must have one shape, got {log_p.shape}, {log_q.shape}"
        )
    p = np.exp(log_p)
    return float(np.sum(p * (log_p - log_q)))


def chance_level(world: TreeWorld, target: str, given: tuple[str, ...] = ()) -> float:
    """Exact accuracy of guessing ``target`` from the ``given`` world variables alone.

    The Bayes-optimal guess from ``given`` is the most probable ``target`` value within
    each group of ``given`` values; its accuracy is
    ``sum_g max_y P(given = g, target = y)``. With ``given = ()`` it is the majority
    class. Variables: ``species, trunk_x, trunk_h, branches, leaf_left, leaf_right,
    leaf_crown`` (the columns of a configuration).
    """
    for name in (target, *given):
        if name not in VARIABLES:
            raise ValueError(
                f"target and given must be among {VARIABLES}, got {name!r}"
            )
    configs, _ = enumerate_configs()
    p = np.exp(world.log_config_probs())
    col, cols = VARIABLES.index(target), [VARIABLES.index(g) for g in given]
    table: dict = defaultdict(lambda: np.zeros(GRID[col]))
    for key, y, w in zip(map(tuple, configs[:, cols]), configs[:, col], p, strict=True):
        table[key][y] += w
    return float(sum(v.max() for v in table.values()))


def select_on_validation(test, val) -> np.ndarray:
    """Test values of the setting that scores best on the validation maps.

    Args:
        test, val: Scores of shape ``(..., settings)`` (e.g. sizes x replicates x
            numbers of components), higher is better.

    Returns:
        Shape ``(...)``: for each leading index, ``test`` at ``argmax(val)``.
    """
    test, val = np.asarray(test, float), np.asarray(val, float)
    if test.shape != val.shape or test.ndim < 1:
        raise ValueError(
            f"test and val must share one shape, got {test.shape}, {val.shape}"
        )
    return np.take_along_axis(test, val.argmax(-1)[..., None], -1)[..., 0]
