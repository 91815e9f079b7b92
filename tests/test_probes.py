"""Probes against constructed codes, and the aggregate-posterior estimators against a
linear Gaussian model whose mutual information is known in closed form.

Statistical tests use fixed seeds; tolerances are >= 5 standard errors (declared
failure rate < 1e-6 per assertion for a fresh seed) plus the estimator's known bias.
"""

import math

import numpy as np
import pytest
import torch
from stats import bonferroni, failure_rate, z_threshold

from lvmkit import estimators as est
from lvmkit.models import LinearGaussian
from lvmkit.probes import (
    aggregate_posterior_stats,
    factor_r2,
    knn_accuracy,
    linear_probe_accuracy,
    neighbourhood_preservation,
)
from lvmkit.vae import VAE, LinearGaussianDecoder, LinearGaussianEncoder


def test_probes_on_informative_and_useless_codes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    good = np.eye(3)[y] * 3 + rng.normal(size=(600, 3))
    bad = rng.normal(size=(600, 3))
    args = (slice(0, 400), slice(400, 600))
    tr, te = args
    assert linear_probe_accuracy(good[tr], y[tr], good[te], y[te]) > 0.9
    assert knn_accuracy(good[tr], y[tr], good[te], y[te]) > 0.9
    assert linear_probe_accuracy(bad[tr], y[tr], bad[te], y[te]) < 0.5
    f = np.c_[good @ [1.0, 2.0, 0.0], rng.normal(size=600)]
    r2 = factor_r2(good[tr], f[tr], good[te], f[te])
    assert r2[0] > 0.99 and r2[1] < 0.05
    with pytest.raises(ValueError, match="2-D"):
        knn_accuracy(good[tr, 0], y[tr], good[te], y[te])


def test_neighbourhood_preservation_extremes():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 2))
    assert neighbourhood_preservation(a, 3 * a + 1, k=10) == 1.0
    shuffled = a[rng.permutation(300)]
    # random neighbours: expected overlap k / (n - 1) = 0.033
    assert neighbourhood_preservation(a, shuffled, k=10) < 0.1


@failure_rate(
    1e-6, "three z tests at z_threshold(bonferroni(1e-6, 3)) plus the known bias"
)
@torch.no_grad()
def test_aggregate_stats_recover_linear_gaussian_mi():
    """Exact posterior encoder: rate = I(x; z) (closed form), KL(q(z) || p(z)) ~ 0."""
    A = torch.tensor([[1.0, 0.0], [0.0, 0.6], [0.5, 0.5]], dtype=torch.float64)
    U, s, _ = torch.linalg.svd(A, full_matrices=False)
    A = U * s  # A V: orthogonal columns, so the exact posterior covariance is diagonal
    model = LinearGaussian(A, prior_scale=1.0, noise_std=0.8)
    vae = VAE(LinearGaussianDecoder(A, 0.8), 2, LinearGaussianEncoder(3, 2)).double()
    S = model.posterior_cov()
    vae.encoder.W.copy_((A @ S).T / 0.8**2)
    vae.encoder.log_sigma.copy_(0.5 * torch.diagonal(S).log())
    _, x = model.sample(1500, generator=torch.Generator().manual_seed(0))
    cov = torch.cat(
        [
            torch.cat([torch.eye(2, dtype=A.dtype), A.T], 1),
            torch.cat([A, A @ A.T + 0.64 * torch.eye(3, dtype=A.dtype)], 1),
        ]
    )
    mi = est.mi_gaussian(cov, [0, 1], [2, 3, 4])
    st = aggregate_posterior_stats(
        vae, x, 20, generator=torch.Generator().manual_seed(1)
    )
    z = z_threshold(bonferroni(1e-6, 3))
    assert abs(st.rate - mi) < z * st.rate_se
    # q(z) estimated from 1500 posteriors: slight upward bias of KL, bounded by log N
    assert abs(st.mutual_information - mi) < z * st.mi_se + 0.05
    assert -z * st.kl_se < st.kl_aggregate_prior < 0.05 + z * st.kl_se
    assert math.isclose(
        st.rate, st.mutual_information + st.kl_aggregate_prior, abs_tol=1e-9
    )
