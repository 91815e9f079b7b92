"""Row 4: KL and mutual-information estimators against closed forms on Gaussians.

Mutual information: ``x, y`` in R^d with ``corr(x_i, y_i) = rho`` and nothing else,
so ``I(x; y) = -d/2 log(1 - rho^2)``; ``rho`` is set for each target of 0.1 to 10 nats.
Estimators: lvmkit's KSG (:func:`~lvmkit.estimators.mi_ksg`, k = 3), scikit-learn's
``mutual_info_regression`` (also KSG, k = 3; it takes one target variable, so only
d = 1 is possible; for d > 1 it returns one MI per feature, not the joint MI), and
:func:`~lvmkit.estimators.mi_from_posteriors` for the Gaussian channel ``y = x + noise``
whose posterior is known (a density-based estimator).

KL: ``KL(N(mu, I) || N(0, I)) = |mu|^2 / 2`` by :func:`~lvmkit.estimators.kl_knn`
(samples only) and :func:`~lvmkit.estimators.kl_monte_carlo` (densities).

For each (estimator, d, nats): bias (mean minus truth) and spread (standard deviation)
over independent repeats. An estimator *breaks down* where ``|bias| > max(10 % of the
truth, 0.05 nats)``. Correctness check: at d = 1 and 1 nat, lvmkit's KSG and
scikit-learn's agree within 0.05 nats and both lie within 0.1 nats of the truth.
The speed figure is the time of one d = 1 MI estimate (no goal).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.distributions import Independent, Normal

from benchmarks.common import check, make_row, summary

NAME = "information"
TITLE = "MI / KL estimators (bias vs closed forms)"


def _broken(bias: float, truth: float) -> bool:
    return abs(bias) > max(0.1 * truth, 0.05)


def _mi_pairs(d: int, nats: float, n: int, rng: np.random.Generator):
    rho = np.sqrt(1 - np.exp(-2 * nats / d))
    x = rng.standard_normal((n, d))
    y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    return x, y


def _mi_posterior(d: int, nats: float, n: int, seed: int) -> float:
    from lvmkit.estimators import mi_from_posteriors

    # y = x + e, x ~ N(0, I), e ~ N(0, s2 I): I = d/2 log(1 + 1/s2)
    s2 = 1.0 / np.expm1(2 * nats / d)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = x + np.sqrt(s2) * torch.randn(n, d, generator=g, dtype=torch.float64)
    post_var = s2 / (1 + s2)
    post = Independent(Normal(y / (1 + s2), torch.full_like(y, np.sqrt(post_var))), 1)
    z = post.mean + post.stddev * torch.randn(n, d, generator=g, dtype=torch.float64)
    prior = Independent(
        Normal(torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)),
        1,
    )
    # the marginal of y's posterior mixture is the prior, so this is I(x; y) in expectation
    return mi_from_posteriors(post.log_prob(z), prior.log_prob(z)).value


def _kl_pair(d: int, nats: float, n: int, seed: int):
    from lvmkit.estimators import kl_knn, kl_monte_carlo

    mu = torch.full((d,), np.sqrt(2 * nats / d), dtype=torch.float64)
    one = torch.ones(d, dtype=torch.float64)
    p = Independent(Normal(mu, one), 1)
    q = Independent(Normal(torch.zeros_like(mu), one), 1)
    g = torch.Generator().manual_seed(seed)
    xp = mu + torch.randn(n, d, generator=g, dtype=torch.float64)
    xq = torch.randn(n, d, generator=g, dtype=torch.float64)
    return kl_knn(xp.numpy(), xq.numpy(), k=1), kl_monte_carlo(
        p, q, n, generator=g
    ).value


def run(cfg, ctx: dict) -> dict:
    from sklearn.feature_selection import mutual_info_regression

    from lvmkit.estimators import mi_ksg

    est: dict[str, dict] = {
        k: {}
        for k in (
            "lvmkit mi_ksg",
            "sklearn mutual_info_regression",
            "lvmkit mi_from_posteriors",
            "lvmkit kl_knn",
            "lvmkit kl_monte_carlo",
        )
    }
    t_sk, t_lv = [], []
    for d in cfg.mi_dims:
        for nats in cfg.mi_nats:
            vals: dict[str, list] = {k: [] for k in est}
            for r in range(cfg.mi_reps):
                seed = 1000 * d + 10 * int(10 * nats) + r
                x, y = _mi_pairs(d, nats, cfg.mi_n, np.random.default_rng(seed))
                t0 = time.perf_counter()
                vals["lvmkit mi_ksg"].append(mi_ksg(x, y, k=3))
                (t_lv.append(time.perf_counter() - t0) if d == 1 else None)
                if d == 1:
                    t0 = time.perf_counter()
                    vals["sklearn mutual_info_regression"].append(
                        float(
                            mutual_info_regression(
                                x, y[:, 0], n_neighbors=3, random_state=r
                            )[0]
                        )
                    )
                    t_sk.append(time.perf_counter() - t0)
                vals["lvmkit mi_from_posteriors"].append(
                    _mi_posterior(d, nats, cfg.mi_n, seed)
                )
                knn, mc = _kl_pair(d, nats, cfg.mi_n, seed)
                vals["lvmkit kl_knn"].append(knn)
                vals["lvmkit kl_monte_carlo"].append(mc)
            for k, v in vals.items():
                if v:
                    bias, sd = float(np.mean(v) - nats), float(np.std(v, ddof=1))
                    est[k][f"{d}D {nats:g} nats"] = {
                        "d": d,
                        "nats": nats,
                        "bias": bias,
                        "spread": sd,
                        "broken": _broken(bias, nats),
                    }
    breakdown = {
        k: [
            c
            for c, r in sorted(
                cells.items(), key=lambda kv: (kv[1]["d"], kv[1]["nats"])
            )
            if r["broken"]
        ]
        for k, cells in est.items()
    }
    ref = f"1D {1.0:g} nats"
    lv1 = est["lvmkit mi_ksg"].get(ref, {"bias": np.nan})
    sk1 = est["sklearn mutual_info_regression"].get(ref, {"bias": np.nan})
    checks = [
        check(
            "lvmkit KSG vs sklearn at 1-D, 1 nat (|difference of means|, nats)",
            abs(lv1["bias"] - sk1["bias"]),
            0.05,
        ),
        check("lvmkit KSG |bias| at 1-D, 1 nat (nats)", abs(lv1["bias"]), 0.1),
        check("sklearn |bias| at 1-D, 1 nat (nats)", abs(sk1["bias"]), 0.1),
    ]
    peer = {
        "name": "sklearn mutual_info_regression (1-D, per estimate)",
        "unit": "s",
        **summary(t_sk),
    }
    peer["figure"] = peer["median"]
    lv = {
        "name": "lvmkit.estimators.mi_ksg (1-D, per estimate)",
        "unit": "s",
        **summary(t_lv),
    }
    lv["figure"] = lv["median"]
    details = {
        "n_samples": cfg.mi_n,
        "repeats": cfg.mi_reps,
        "estimators": est,
        "breakdown": breakdown,
        "breakdown_rule": "|bias| > max(0.1 x truth, 0.05 nats)",
    }
    return make_row(
        NAME,
        TITLE,
        checks=checks,
        peer=peer,
        lvmkit=lv,
        ratio=peer["median"] / lv["median"],
        ratio_meaning="speed-up per estimate (sklearn time / lvmkit time)",
        goal=None,
        details=details,
    )
