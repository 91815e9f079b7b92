r"""Kernel two-sample test: are two sets of samples drawn from the same distribution?

:func:`mmd_test` estimates the squared maximum mean discrepancy (Gretton et al. 2012)

.. math::
    \mathrm{MMD}^2(P, Q) &= \mathbb E\,k(a, a') + \mathbb E\,k(b, b')
        - 2\,\mathbb E\,k(a, b),
    \\
    k(u, v) &= \exp\!\big(-\|u - v\|^2 / (2\sigma^2)\big),

without bias (the diagonal terms left out) and its permutation p-value. For judging a
generative model, compare its samples with *held-out* data: a model that memorised its
training set scores like a fresh sample of the data distribution, never better, unlike
the distance to the nearest training example.

:func:`classifier_two_sample_test` asks the same question with a classifier
(Lopez-Paz & Oquab 2017): pool ``a`` (label 0) and ``b`` (label 1) and estimate a
k-nearest-neighbour vote's cross-validated accuracy under the L1 (for binary images,
Hamming) distance; under :math:`H_0: P_a = P_b` it is 1/2, and a model that copies its
training images scores 1/2 at best against held-out data, never better.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = [
    "MMDTest",
    "TwoSampleResult",
    "classifier_two_sample_test",
    "median_bandwidth",
    "mmd_test",
]


class MMDTest(NamedTuple):
    """Unbiased squared MMD, its permutation p-value and the kernel bandwidth used."""

    mmd2: float
    p_value: float
    bandwidth: float


def _pair(a, b) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.as_tensor(validation.as_float_array("a", a, ndim=2, min_rows=2))
    b = torch.as_tensor(validation.as_float_array("b", b, ndim=2, min_rows=2))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b must have the {a.shape[1]} columns of a, got {b.shape[1]}")
    return a, b


def median_bandwidth(a, b) -> float:
    r"""The median heuristic: :math:`\sigma` = the median distance between rows of
    ``a`` and rows of ``b`` (shapes ``(n, d)``, ``(m, d)``)."""
    a, b = _pair(a, b)
    return float(torch.cdist(a, b).median())


def _mmd2(gram: torch.Tensor, idx: torch.Tensor, n: int) -> torch.Tensor:
    """Unbiased MMD^2 for each row of ``idx`` (a permutation; first ``n`` = sample a)."""
    m = gram.shape[0] - n
    k = gram[idx[:, :, None], idx[:, None, :]]  # (R, N, N)
    kaa, kbb, kab = k[:, :n, :n], k[:, n:, n:], k[:, :n, n:]
    taa = (kaa.sum((1, 2)) - kaa.diagonal(dim1=1, dim2=2).sum(1)) / (n * (n - 1))
    tbb = (kbb.sum((1, 2)) - kbb.diagonal(dim1=1, dim2=2).sum(1)) / (m * (m - 1))
    return taa + tbb - 2 * kab.mean((1, 2))


def mmd_test(
    a,
    b,
    *,
    bandwidth: float | None = None,
    n_permutations: int = 200,
    generator: torch.Generator,
) -> MMDTest:
    """Squared MMD between the rows of ``a (n, d)`` and ``b (m, d)``, with a p-value.

    Args:
        a, b: Samples, one per row (e.g. binary images, flattened).
        bandwidth: Kernel width sigma; the median heuristic on ``(a, b)`` if ``None``
            (pass a fixed one to compare several models against the same data).
        n_permutations: Random relabellings of the pooled samples for the p-value.
        generator: Source of the permutations.

    Returns:
        :class:`MMDTest`; ``p_value = (1 + #{permuted >= observed}) / (1 + R)``.
    """
    a, b = _pair(a, b)
    n_permutations = validation.check_int("n_permutations", n_permutations, 1)
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator, got {validation.describe(generator)}"
        )
    sigma = (
        median_bandwidth(a, b)
        if bandwidth is None
        else validation.check_positive("bandwidth", bandwidth)
    )
    pooled = torch.cat([a, b])
    gram = torch.exp(-torch.cdist(pooled, pooled).pow(2) / (2 * sigma**2))
    n, total = len(a), len(pooled)
    observed = float(_mmd2(gram, torch.arange(total)[None], n)[0])
    null = []
    for start in range(0, n_permutations, 20):
        r = min(20, n_permutations - start)
        idx = torch.stack(
            [torch.randperm(total, generator=generator) for _ in range(r)]
        )
        null.append(_mmd2(gram, idx, n))
    null = torch.cat(null).numpy()
    p = float((1 + np.sum(null >= observed)) / (1 + n_permutations))
    return MMDTest(observed, p, sigma)


class TwoSampleResult(NamedTuple):
    """Cross-validated accuracy, its binomial standard error and the one-sided p-value
    of accuracy > 1/2 under the null (normal approximation)."""

    accuracy: float
    stderr: float
    p_value: float
    n: int


def _rows(name: str, a) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if a.ndim != 2 or len(a) < 10 or not np.isfinite(a).all():
        raise ValueError(
            f"{name} must be a finite 2-D array with at least 10 rows, got "
            f"shape {a.shape}"
        )
    return a


def classifier_two_sample_test(
    a, b, *, k: int = 10, folds: int = 5, seed: int = 0
) -> TwoSampleResult:
    """kNN classifier two-sample test between the rows of ``a`` and ``b``.

    Args:
        a, b: Samples, ``(n_a, P)`` and ``(n_b, P)``; use equal sizes (chance = 1/2).
        k: Neighbours of the vote (odd ``k`` avoids ties; even works).
        folds: Stratified cross-validation folds (shuffled with ``seed``).
        seed: Fold assignment.

    Returns:
        A :class:`TwoSampleResult`; accuracy near 1/2 means indistinguishable.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier

    a, b = _rows("a", a), _rows("b", b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b must have {a.shape[1]} columns like a, got {b.shape[1]}")
    validation.check_int("k", k, 1)
    validation.check_int("folds", folds, 2)
    x = np.concatenate([a, b]).astype(np.float64)
    y = np.r_[np.zeros(len(a)), np.ones(len(b))]
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    clf = KNeighborsClassifier(n_neighbors=k, metric="manhattan")
    pred = cross_val_predict(clf, x, y, cv=cv)
    acc = float((pred == y).mean())
    n = len(y)
    se = math.sqrt(max(acc * (1 - acc), 1e-12) / n)
    p = 0.5 * math.erfc((acc - 0.5) / math.sqrt(0.25 / n) / math.sqrt(2))
    return TwoSampleResult(acc, se, p, n)
