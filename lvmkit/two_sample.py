r"""Kernel two-sample test: are two sets of samples drawn from the same distribution?

:func:`mmd_test` estimates the squared maximum mean discrepancy (Gretton et al. 2012)

.. math::
    \mathrm{MMD}^2(P, Q) = \mathbb E\,k(a, a') + \mathbb E\,k(b, b') - 2\,\mathbb E\,k(a, b),
    \qquad k(u, v) = \exp\!\big(-\|u - v\|^2 / (2\sigma^2)\big),

without bias (the diagonal terms left out) and its permutation p-value. For judging a
generative model, compare its samples with *held-out* data: a model that memorised its
training set scores like a fresh sample of the data distribution, never better, unlike
the distance to the nearest training example.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation

__all__ = ["MMDTest", "median_bandwidth", "mmd_test"]


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
