r"""Classifier two-sample test: can a classifier tell model samples from held-out data?

A sample-quality measure that does not reward memorisation compares samples with data
the model never saw. Lopez-Paz & Oquab (2017): pool ``a`` (label 0) and ``b`` (label 1),
estimate a classifier's accuracy by cross-validation; under :math:`H_0: P_a = P_b` it
is 1/2 (a model that copies its training images scores 1/2 at best, like a perfect
model, never better). Here the classifier is a k-nearest-neighbour vote under the L1
(Hamming, for binary images) distance, a nonparametric test that sees local image
structure.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = ["TwoSampleResult", "classifier_two_sample_test"]


class TwoSampleResult(NamedTuple):
    """Cross-validated accuracy, its binomial standard error and the one-sided p-value
    of accuracy > 1/2 under the null (normal approximation)."""

    accuracy: float
    stderr: float
    p_value: float
    n: int


def _np(name: str, a) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if a.ndim != 2 or len(a) < 10 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a finite 2-D array with at least 10 rows, got "
                         f"shape {a.shape}")
    return a


def classifier_two_sample_test(a, b, *, k: int = 10, folds: int = 5,
                               seed: int = 0) -> TwoSampleResult:
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

    a, b = _np("a", a), _np("b", b)
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
