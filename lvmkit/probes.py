r"""How useful and how self-consistent is a latent representation?

* :func:`linear_probe_accuracy`, :func:`knn_accuracy`: held-out accuracy of a
  logistic regression / k-nearest-neighbour classifier trained on codes (scikit-learn).
  Labels enter here, never in training.
* :func:`factor_r2`: held-out :math:`R^2` of a linear regression from codes to each
  known factor.
* :func:`neighbourhood_preservation`: mean fraction of each point's k nearest
  neighbours in one space that are also among its k nearest neighbours in another.
* :func:`aggregate_posterior_stats`: the mutual information :math:`I_q(x; z)` under
  the aggregate posterior :math:`q(z) = \frac1N \sum_n q(z \mid x_n)`, and
  :math:`\mathrm{KL}(q(z) \,\|\, p(z))`, by Monte Carlo. Both rest on the identity
  (Hoffman & Johnson's "ELBO surgery")

  .. math::
      \underbrace{\mathbb E_x \mathrm{KL}(q(z \mid x) \| p(z))}_{\text{rate}}
      = I_q(x; z) + \mathrm{KL}(q(z) \| p(z)).

  The MI estimate is at most :math:`\log N`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from lvmkit import validation
from lvmkit.estimators import mi_from_posteriors

__all__ = [
    "AggregateStats",
    "aggregate_posterior_stats",
    "factor_r2",
    "knn_accuracy",
    "linear_probe_accuracy",
    "nearest_distance",
    "neighbourhood_preservation",
]


def _np2d(name: str, a) -> np.ndarray:
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    if a.ndim != 2 or not np.isfinite(a).all():
        raise ValueError(f"{name} must be a finite 2-D array, got shape {a.shape}")
    return a


def _labels(name: str, y, z: np.ndarray) -> np.ndarray:
    y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if y.shape != (len(z),):
        raise ValueError(
            f"{name} must have shape ({len(z)},), one label per code, got {y.shape}"
        )
    return y


def _pair(z_train, y_train, z_test, y_test):
    zt, ze = _np2d("z_train", z_train), _np2d("z_test", z_test)
    if zt.shape[1] != ze.shape[1]:
        raise ValueError(
            f"z_test must have {zt.shape[1]} columns like z_train, got {ze.shape[1]}"
        )
    return zt, _labels("y_train", y_train, zt), ze, _labels("y_test", y_test, ze)


def linear_probe_accuracy(z_train, y_train, z_test, y_test) -> float:
    """Test accuracy of a standardised multinomial logistic regression on codes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    z_train, y_train, z_test, y_test = _pair(z_train, y_train, z_test, y_test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    clf.fit(z_train, y_train)
    return float(clf.score(z_test, y_test))


def knn_accuracy(z_train, y_train, z_test, y_test, k: int = 5) -> float:
    """Test accuracy of a k-nearest-neighbour classifier (Euclidean) on codes."""
    from sklearn.neighbors import KNeighborsClassifier

    z_train, y_train, z_test, y_test = _pair(z_train, y_train, z_test, y_test)
    k = validation.check_int("k", k, 1, len(z_train))
    clf = KNeighborsClassifier(n_neighbors=k).fit(z_train, y_train)
    return float(clf.score(z_test, y_test))


def factor_r2(z_train, f_train, z_test, f_test) -> np.ndarray:
    """Held-out R^2 of a linear regression from codes to each factor column, ``(F,)``."""
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import r2_score

    f_train, f_test = _np2d("f_train", f_train), _np2d("f_test", f_test)
    for name, f, z in (("f_train", f_train, z_train), ("f_test", f_test, z_test)):
        if len(f) != len(z):
            raise ValueError(
                f"{name} must have one row per code ({len(z)}), got {len(f)}"
            )
    reg = LinearRegression().fit(_np2d("z_train", z_train), f_train)
    return r2_score(
        f_test, reg.predict(_np2d("z_test", z_test)), multioutput="raw_values"
    )


def nearest_distance(a, b) -> np.ndarray:
    """For each row of ``a``, the L1 distance to its nearest row of ``b``, shape ``(n_a,)``.

    For binary images this counts the pixels in which an image differs from the closest
    reference image (the Hamming distance).
    """
    from scipy.spatial import cKDTree

    a, b = _np2d("a", a), _np2d("b", b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"b must have {a.shape[1]} columns like a, got {b.shape[1]}")
    return cKDTree(b).query(a, k=1, p=1)[0]


def neighbourhood_preservation(a, b, k: int = 10) -> float:
    """Mean over points of ``|kNN_a(i) ∩ kNN_b(i)| / k`` (1: same neighbours; ~k/n: random)."""
    from sklearn.neighbors import NearestNeighbors

    a, b = _np2d("a", a), _np2d("b", b)
    if a.shape[0] != b.shape[0] or not 1 <= k < a.shape[0]:
        raise ValueError("a and b need the same number of rows and 1 <= k < n")
    ia = (
        NearestNeighbors(n_neighbors=k + 1)
        .fit(a)
        .kneighbors(a, return_distance=False)[:, 1:]
    )
    ib = (
        NearestNeighbors(n_neighbors=k + 1)
        .fit(b)
        .kneighbors(b, return_distance=False)[:, 1:]
    )
    return float(
        np.mean([len(set(r) & set(s)) / k for r, s in zip(ia, ib, strict=True)])
    )


class AggregateStats(NamedTuple):
    """Monte Carlo estimates (nats per datum) with standard errors over data points."""

    rate: float
    mutual_information: float
    kl_aggregate_prior: float
    rate_se: float
    mi_se: float
    kl_se: float


@torch.no_grad()
def aggregate_posterior_stats(
    model, x: torch.Tensor, n_samples: int = 10, *, generator=None
) -> AggregateStats:
    r"""Rate, :math:`I_q(x; z)` and :math:`\mathrm{KL}(q(z) \| p(z))` on the data ``x``.

    For each datum and draw :math:`z \sim q(z \mid x_n)`:
    :math:`\log q(z \mid x_n) - \log q(z)` (MI) and :math:`\log q(z) - \log p(z)` (KL),
    with :math:`\log q(z) = \mathrm{logsumexp}_m \log q(z \mid x_m) - \log N`. Works for
    any model with the latent model protocol of :mod:`lvmkit.vae` (``n_latents > 0``).
    """
    x = validation.as_model_data(model, x)
    n_samples = validation.check_int("n_samples", n_samples, 1)
    n = x.shape[0]
    z, log_q = model.sample_posterior(
        x, n_samples, generator=generator
    )  # (S, N, d), (S, N)
    log_agg = torch.empty_like(log_q)
    for i in range(
        0, n, 64
    ):  # log q(z_{s,i} | x_m) for every m, 64 data points at a time
        lp = model.posterior_log_prob(x, z[:, i : i + 64, None, :])  # (S, C, N)
        log_agg[:, i : i + 64] = torch.logsumexp(lp, dim=-1) - math.log(n)
    log_p = model.prior().log_prob(z)
    rate = mi_from_posteriors(log_q.T, log_p.T)  # reference p(z): the rate
    mi = mi_from_posteriors(
        log_q.T, log_agg.T
    )  # reference q(z): the mutual information
    kl = mi_from_posteriors(log_agg.T, log_p.T)  # E_q(z) log q(z) / p(z)
    return AggregateStats(
        rate.value, mi.value, kl.value, rate.stderr, mi.stderr, kl.stderr
    )
