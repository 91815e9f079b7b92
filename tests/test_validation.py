"""Every public lvmkit entry point refuses invalid input with a message naming the argument.

``CASES`` is the registry: (public name, argument, invalid-input class, call). Each call
must raise ``ValueError`` or ``TypeError`` whose message contains the argument's name.
``test_every_public_entry_point_has_a_case`` walks ``__all__`` of every lvmkit module
and fails for a public function or class that takes arguments but has no case here
(and is not in ``EXEMPT``, with its reason). The run writes the table
``_build/validation-table.md`` (function | argument | invalid input | error).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest
import torch
from conftest import write_report
from torch.distributions import Independent, Laplace, Normal

import lvmkit
from lvmkit import (
    aggregate_posterior,
    artifacts,
    datasets,
    diagnostics,
    estimators,
    grid_posteriors,
    lasso,
    mcmc,
    mixtures,
    models,
    patches,
    plotting,
    prior_em,
    priors,
    probes,
    scramble,
    sparse_coding,
    sparse_em,
    structured_decoders,
    training,
    treeworld,
    two_sample,
    vae,
    validation,
)
from lvmkit.book import cached_models, figures, planted_bugs, score_table
from lvmkit.book import notebook as reproducibility
from lvmkit.book import part1_baselines as p1b
from lvmkit.book import part1_figures as p1f
from lvmkit.book import part1_probes as p1p
from lvmkit.book import part2_alternating as p2a
from lvmkit.book import part2_bayes_loop as p2bl
from lvmkit.book import part2_codes as p2c
from lvmkit.book import part3_figures as p3f
from lvmkit.book import part3_salt_pepper as p3sp
from lvmkit.book import part3_seeds as p3s
from lvmkit.book import part3_structure as p3st

NAN, INF = float("nan"), float("inf")
F64 = torch.float64
A = torch.randn(4, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
LG = models.LinearGaussian(A, 1.0, 0.5)
SLG = models.SparseLinearGaussian(A, 1.0, 1.0, 0.5)
IMG = torch.zeros(2, 4, dtype=F64)
META = torch.zeros(2, 4, device="meta")  # a tensor on another device than the model's
G = torch.Generator().manual_seed(0)
RNG = np.random.default_rng(0)
GRID = grid_posteriors.Grid2D(-2, 2, 5)
PRIOR2 = vae.make_prior("normal", 2, dtype=F64)
SCR = scramble.CellScramble.random(
    PRIOR2, 4, generator=torch.Generator().manual_seed(0)
)
VAE2 = vae.build_vae("bernoulli", 4, 2)
BFM = mixtures.BinaryFactorModel(np.full(2, 0.5), np.zeros((3, 2)), np.zeros(3))
WORLD = treeworld.TreeWorld.default()


def nan_like(shape, dtype=F64):
    t = torch.zeros(shape, dtype=dtype)
    t.view(-1)[0] = NAN
    return t


def _f(x):
    return -0.5 * (x * x).sum(-1), -x


class Case(NamedTuple):
    function: str
    argument: str
    invalid: str
    call: Callable[[], object]


C = Case
CASES: list[Case] = [
    # models
    C(
        "models.LinearGaussian",
        "A",
        "wrong ndim",
        lambda: models.LinearGaussian(torch.zeros(3)),
    ),
    C(
        "models.LinearGaussian",
        "A",
        "NaN",
        lambda: models.LinearGaussian(nan_like((2, 2))),
    ),
    C(
        "models.LinearGaussian",
        "A",
        "empty",
        lambda: models.LinearGaussian(torch.zeros(0, 2)),
    ),
    C(
        "models.LinearGaussian",
        "A",
        "float16 tensor",
        lambda: models.LinearGaussian(torch.zeros(2, 2, dtype=torch.float16)),
    ),
    C(
        "models.LinearGaussian",
        "A",
        "integer tensor",
        lambda: models.LinearGaussian(torch.zeros(2, 2, dtype=torch.int64)),
    ),
    C(
        "models.LinearGaussian",
        "noise_std",
        "non-positive",
        lambda: models.LinearGaussian(A, 1, 0),
    ),
    C(
        "models.LinearGaussian",
        "prior_scale",
        "Inf",
        lambda: models.LinearGaussian(A, INF),
    ),
    C(
        "models.LinearGaussian",
        "prior_scale",
        "not a number",
        lambda: models.LinearGaussian(A, "1"),
    ),
    C(
        "models.LinearGaussian",
        "images",
        "mismatched size (P)",
        lambda: LG.posterior(IMG[:, :3]),
    ),
    C("models.LinearGaussian", "images", "Inf", lambda: LG.posterior(IMG + INF)),
    C("models.LinearGaussian", "images", "other device", lambda: LG.posterior(META)),
    C(
        "models.LinearGaussian",
        "x",
        "integer tensor",
        lambda: LG.likelihood(torch.zeros(2, 3, dtype=torch.int64)),
    ),
    C("models.LinearGaussian", "n", "non-positive count", lambda: LG.sample(0)),
    C(
        "models.SparseLinearGaussian",
        "alpha",
        "non-positive",
        lambda: models.SparseLinearGaussian(A, alpha=0.0),
    ),
    C(
        "models.SparseLinearGaussian",
        "alpha",
        "NaN",
        lambda: models.SparseLinearGaussian(A, alpha=NAN),
    ),
    C(
        "models.SparseLinearGaussian",
        "images",
        "mismatched size (P)",
        lambda: SLG.log_posterior_and_grad(IMG[:, :2]),
    ),
    C(
        "models.check_finite",
        "value",
        "NaN",
        lambda: models.check_finite("value", nan_like(3)),
    ),
    C(
        "models.check_positive",
        "value",
        "non-positive",
        lambda: models.check_positive("value", -1),
    ),
    # priors
    C(
        "priors.GeneralizedGaussian",
        "alpha",
        "non-positive",
        lambda: priors.GeneralizedGaussian(0.0),
    ),
    C(
        "priors.GeneralizedGaussian",
        "alpha",
        "extreme (overflowing) alpha",
        lambda: priors.GeneralizedGaussian(1e-4),
    ),
    C(
        "priors.GeneralizedGaussian",
        "scale",
        "NaN",
        lambda: priors.GeneralizedGaussian(1.0, NAN),
    ),
    C(
        "priors.GeneralizedGaussian",
        "loc",
        "Inf",
        lambda: priors.GeneralizedGaussian(1.0, 1.0, INF),
    ),
    C(
        "priors.GeneralizedGaussian",
        "value",
        "probability outside [0, 1]",
        lambda: priors.GeneralizedGaussian(1.0).icdf(torch.tensor([1.5])),
    ),
    C(
        "priors.GeneralizedGaussian",
        "alpha",
        "overflows float32 (finite only in float64)",
        lambda: priors.GeneralizedGaussian(0.03),
    ),
    C(
        "priors.GeneralizedGaussian",
        "value",
        "NaN",
        lambda: priors.GeneralizedGaussian(1.0).icdf(torch.tensor([NAN])),
    ),
    # estimators
    C(
        "estimators.kl_gaussian",
        "p",
        "not Gaussian",
        lambda: estimators.kl_gaussian(Laplace(0.0, 1.0), Normal(0.0, 1.0)),
    ),
    C(
        "estimators.kl_gaussian",
        "p",
        "mismatched event shapes",
        lambda: estimators.kl_gaussian(PRIOR2, Normal(0.0, 1.0)),
    ),
    C(
        "estimators.mi_gaussian",
        "cov",
        "not square",
        lambda: estimators.mi_gaussian(np.eye(3)[:2], [0], [1]),
    ),
    C(
        "estimators.mi_gaussian",
        "cov",
        "near-singular",
        lambda: estimators.mi_gaussian(np.ones((2, 2)), [0], [1]),
    ),
    C(
        "estimators.mi_gaussian",
        "cov",
        "NaN",
        lambda: estimators.mi_gaussian(np.full((2, 2), NAN), [0], [1]),
    ),
    C(
        "estimators.mi_gaussian",
        "x_dims",
        "index out of range",
        lambda: estimators.mi_gaussian(np.eye(2), [5], [1]),
    ),
    C(
        "estimators.kl_monte_carlo",
        "n",
        "count < 2",
        lambda: estimators.kl_monte_carlo(Normal(0.0, 1.0), Normal(0.0, 1.0), 1),
    ),
    C(
        "estimators.kl_monte_carlo",
        "q",
        "not a distribution",
        lambda: estimators.kl_monte_carlo(Normal(0.0, 1.0), np.zeros(2), 10),
    ),
    C(
        "estimators.mi_from_posteriors",
        "log_prior",
        "mismatched sizes",
        lambda: estimators.mi_from_posteriors(torch.zeros(3), torch.zeros(4)),
    ),
    C(
        "estimators.mi_from_posteriors",
        "log_post",
        "NaN",
        lambda: estimators.mi_from_posteriors(nan_like(3), torch.zeros(3)),
    ),
    C(
        "estimators.mi_from_posteriors",
        "log_post",
        "empty",
        lambda: estimators.mi_from_posteriors(torch.zeros(0), torch.zeros(0)),
    ),
    C(
        "estimators.kl_knn",
        "y",
        "mismatched dimension",
        lambda: estimators.kl_knn(np.zeros((5, 2)), np.zeros((5, 3))),
    ),
    C(
        "estimators.kl_knn",
        "x",
        "Inf",
        lambda: estimators.kl_knn(np.full((5, 1), INF), np.zeros((5, 1))),
    ),
    C(
        "estimators.kl_knn",
        "k",
        "out of range",
        lambda: estimators.kl_knn(
            RNG.normal(size=(5, 1)), RNG.normal(size=(5, 1)), k=5
        ),
    ),
    C(
        "estimators.kl_knn",
        "k",
        "more than q's samples",
        lambda: estimators.kl_knn(
            RNG.normal(size=(9, 1)), RNG.normal(size=(3, 1)), k=4
        ),
    ),
    C(
        "estimators.mi_ksg",
        "x",
        "duplicate samples",
        lambda: estimators.mi_ksg(np.zeros((50, 1)), np.zeros((50, 1))),
    ),
    C(
        "estimators.mi_ksg",
        "y",
        "mismatched sizes",
        lambda: estimators.mi_ksg(np.zeros((5, 1)), np.zeros((6, 1))),
    ),
    C(
        "estimators.mi_ksg",
        "x",
        "wrong ndim",
        lambda: estimators.mi_ksg(np.zeros((5, 1, 1)), np.zeros((5, 1))),
    ),
    C(
        "estimators.kl_histogram_1d",
        "p_samples",
        "wrong ndim",
        lambda: estimators.kl_histogram_1d(np.zeros((10, 2)), np.zeros(10)),
    ),
    C(
        "estimators.kl_histogram_1d",
        "bins",
        "non-positive count",
        lambda: estimators.kl_histogram_1d(np.arange(10.0), np.arange(10.0), bins=0),
    ),
    # inference
    C(
        "lasso.fista",
        "images",
        "mismatched size (P)",
        lambda: lasso.fista(IMG[:, :3], A, 0.1),
    ),
    C("lasso.fista", "A", "NaN", lambda: lasso.fista(IMG, nan_like((4, 3)), 0.1)),
    C(
        "lasso.fista",
        "A",
        "integer tensor",
        lambda: lasso.fista(IMG, torch.ones(4, 3, dtype=torch.int32), 0.1),
    ),
    C("lasso.fista", "penalty", "negative", lambda: lasso.fista(IMG, A, -1.0)),
    C("lasso.fista", "images", "other device", lambda: lasso.fista(META, A, 0.1)),
    C(
        "lasso.fista",
        "x0",
        "wrong shape",
        lambda: lasso.fista(IMG, A, 0.1, x0=torch.zeros(2, 4, dtype=F64)),
    ),
    C(
        "lasso.fista",
        "gram",
        "inconsistent with A",
        lambda: lasso.fista(IMG, A, 0.1, gram=2 * A.T @ A),
    ),
    C("lasso.fista", "images", "empty", lambda: lasso.fista(IMG[:0], A, 0.1)),
    C(
        "lasso.lasso",
        "images",
        "mismatched size (P)",
        lambda: lasso.lasso(torch.zeros(2, 5, dtype=torch.float64), A, 0.1),
    ),
    C("lasso.lasso", "A", "NaN", lambda: lasso.lasso(IMG, nan_like((4, 3)), 0.1)),
    C("lasso.lasso", "penalty", "negative", lambda: lasso.lasso(IMG, A, -1.0)),
    C("lasso.lasso", "tol", "non-positive", lambda: lasso.lasso(IMG, A, 0.1, tol=0.0)),
    C(
        "lasso.lasso",
        "max_add",
        "non-positive count",
        lambda: lasso.lasso(IMG, A, 0.1, max_add=0),
    ),
    C(
        "lasso.lasso",
        "x0",
        "wrong shape",
        lambda: lasso.lasso(IMG, A, 0.1, x0=torch.zeros(1, 3, dtype=torch.float64)),
    ),
    C("lasso.lasso", "images", "other device", lambda: lasso.lasso(META, A, 0.1)),
    C(
        "lasso.lasso",
        "solver",
        "unknown name",
        lambda: lasso.lasso(IMG, A, 0.1, solver="lars"),
    ),
    C(
        "lasso.lasso",
        "gram",
        "inconsistent with A",
        lambda: lasso.lasso(IMG, A, 0.1, solver="active_set", gram=A.T @ A + 0.1),
    ),
    C(
        "lasso.lasso_homotopy",
        "images",
        "mismatched size (P)",
        lambda: lasso.lasso_homotopy(torch.zeros(2, 5, dtype=F64), A, 0.1),
    ),
    C(
        "lasso.lasso_homotopy",
        "A",
        "NaN",
        lambda: lasso.lasso_homotopy(IMG, nan_like((4, 3)), 0.1),
    ),
    C(
        "lasso.lasso_homotopy",
        "penalty",
        "negative",
        lambda: lasso.lasso_homotopy(IMG, A, -1.0),
    ),
    C(
        "lasso.lasso_homotopy",
        "tol",
        "non-positive",
        lambda: lasso.lasso_homotopy(IMG, A, 0.1, tol=0.0),
    ),
    C(
        "lasso.lasso_homotopy",
        "max_steps",
        "non-positive count",
        lambda: lasso.lasso_homotopy(IMG, A, 0.1, max_steps=0),
    ),
    C(
        "lasso.lasso_homotopy",
        "n_threads",
        "non-positive count",
        lambda: lasso.lasso_homotopy(IMG, A, 0.1, n_threads=0),
    ),
    C(
        "lasso.lasso_homotopy",
        "gram",
        "wrong shape",
        lambda: lasso.lasso_homotopy(IMG, A, 0.1, gram=torch.zeros(2, 2, dtype=F64)),
    ),
    C(
        "lasso.lasso_homotopy",
        "gram",
        "inconsistent with A",
        lambda: lasso.lasso_homotopy(IMG, A, 0.1, gram=torch.eye(3, dtype=F64)),
    ),
    C(
        "lasso.lasso_homotopy",
        "images",
        "other device",
        lambda: lasso.lasso_homotopy(META, A, 0.1),
    ),
    C(
        "lasso.lasso_objective",
        "x",
        "mismatched size (N)",
        lambda: lasso.lasso_objective(IMG, A, torch.zeros(2, 2, dtype=F64), 0.1),
    ),
    C(
        "mcmc.hmc",
        "x0",
        "wrong ndim",
        lambda: mcmc.hmc(_f, torch.zeros(3), n_samples=2),
    ),
    C("mcmc.hmc", "x0", "NaN", lambda: mcmc.hmc(_f, nan_like((2, 2)), n_samples=2)),
    C(
        "mcmc.hmc",
        "step_size",
        "non-positive",
        lambda: mcmc.hmc(_f, torch.zeros(2, 2), n_samples=2, step_size=0.0),
    ),
    C(
        "mcmc.hmc",
        "target_accept",
        "probability outside (0, 1)",
        lambda: mcmc.hmc(_f, torch.zeros(2, 2), n_samples=2, target_accept=1.5),
    ),
    C(
        "mcmc.hmc",
        "precond",
        "near-singular",
        lambda: mcmc.hmc(
            _f,
            torch.zeros(2, 2, dtype=F64),
            n_samples=2,
            precond=torch.ones(2, 2, dtype=F64),
        ),
    ),
    C(
        "mcmc.hmc",
        "n_samples",
        "non-positive count",
        lambda: mcmc.hmc(_f, torch.zeros(2, 2), n_samples=0),
    ),
    C(
        "mcmc.hmc",
        "log_prob_and_grad",
        "returns a scalar log density",
        lambda: mcmc.hmc(
            lambda x: (torch.tensor(0.0), -x), torch.zeros(2, 2), n_samples=2
        ),
    ),
    C(
        "mcmc.hmc",
        "log_prob_and_grad",
        "NaN at x0",
        lambda: mcmc.hmc(
            lambda x: (torch.full((2,), NAN), -x), torch.zeros(2, 2), n_samples=2
        ),
    ),
    C(
        "mcmc.sample_posterior",
        "images",
        "mismatched size (P)",
        lambda: mcmc.sample_posterior(SLG, IMG[:, :2]),
    ),
    C(
        "mcmc.sample_posterior",
        "model",
        "wrong type",
        lambda: mcmc.sample_posterior(LG, IMG),
    ),
    # diagnostics
    C(
        "diagnostics.run_average_posterior",
        "samples",
        "wrong ndim",
        lambda: diagnostics.run_average_posterior(torch.zeros(3, 4), PRIOR2),
    ),
    C(
        "diagnostics.run_average_posterior",
        "samples",
        "NaN",
        lambda: diagnostics.run_average_posterior(nan_like((2, 3, 2)), PRIOR2),
    ),
    C(
        "diagnostics.run_average_posterior",
        "n_bins",
        "non-positive count",
        lambda: diagnostics.run_average_posterior(
            torch.zeros(2, 3, 2), PRIOR2, n_bins=0
        ),
    ),
    C(
        "diagnostics.run_sbc",
        "n_sims",
        "too few",
        lambda: diagnostics.run_sbc(LG.sample, lambda i: i, 3),
    ),
    C(
        "diagnostics.run_mmd",
        "y",
        "mismatched dimension",
        lambda: diagnostics.run_mmd(torch.zeros(5, 2), torch.zeros(5, 3)),
    ),
    C(
        "diagnostics.run_mmd",
        "x",
        "NaN",
        lambda: diagnostics.run_mmd(nan_like((5, 2)), torch.zeros(5, 2)),
    ),
    C(
        "diagnostics.run_mmd",
        "bandwidth",
        "non-positive",
        lambda: diagnostics.run_mmd(
            torch.randn(5, 2), torch.randn(5, 2), bandwidth=0.0
        ),
    ),
    C(
        "diagnostics.information_gap_gaussian",
        "data_cov",
        "wrong shape",
        lambda: diagnostics.information_gap_gaussian(LG, torch.eye(3)),
    ),
    C(
        "diagnostics.information_gap_gaussian",
        "data_cov",
        "NaN",
        lambda: diagnostics.information_gap_gaussian(LG, nan_like((4, 4))),
    ),
    C(
        "book.planted_bugs.sbc_sparse_model",
        "bug",
        "unknown option",
        lambda: planted_bugs.sbc_sparse_model(SLG, 100, bug="typo"),
    ),
    C(
        "book.planted_bugs.sbc_sparse_model",
        "model",
        "wrong type",
        lambda: planted_bugs.sbc_sparse_model(LG, 100),
    ),
    C(
        "diagnostics.check_sbc",
        "level",
        "probability outside [0, 1]",
        lambda: diagnostics.check_sbc(
            diagnostics.SBCResult(np.zeros((1, 1)), 1, np.ones(1), 1.0), level=2.0
        ),
    ),
    C(
        "diagnostics.check_average_posterior",
        "n_stderr",
        "non-positive",
        lambda: diagnostics.check_average_posterior(
            diagnostics.AveragePosteriorResult(0.0, 1.0, np.zeros(1), np.zeros((1, 1))),
            -1.0,
        ),
    ),
    # grid posteriors
    C("grid_posteriors.Grid2D", "n", "too small", lambda: grid_posteriors.Grid2D(n=2)),
    C(
        "grid_posteriors.Grid2D",
        "hi",
        "not above lo",
        lambda: grid_posteriors.Grid2D(1.0, 0.0),
    ),
    C(
        "grid_posteriors.posterior_masses",
        "A",
        "wrong shape",
        lambda: grid_posteriors.posterior_masses(
            GRID, np.zeros(25), np.zeros((1, 3)), np.zeros((3, 3)), 1.0
        ),
    ),
    C(
        "grid_posteriors.posterior_masses",
        "noise_std",
        "non-positive",
        lambda: grid_posteriors.posterior_masses(
            GRID, np.zeros(25), np.zeros((1, 3)), np.zeros((3, 2)), 0.0
        ),
    ),
    C(
        "grid_posteriors.posterior_masses",
        "log_prior",
        "mismatched size (grid)",
        lambda: grid_posteriors.posterior_masses(
            GRID, np.zeros(24), np.zeros((1, 3)), np.zeros((3, 2)), 1.0
        ),
    ),
    C(
        "grid_posteriors.posterior_masses",
        "images",
        "NaN",
        lambda: grid_posteriors.posterior_masses(
            GRID, np.zeros(25), np.full((1, 3), NAN), np.zeros((3, 2)), 1.0
        ),
    ),
    C(
        "grid_posteriors.kl_masses",
        "q",
        "mismatched shapes",
        lambda: grid_posteriors.kl_masses(np.ones((2, 2)) / 4, np.ones((3, 3)) / 9),
    ),
    C(
        "grid_posteriors.kl_masses",
        "p",
        "probability outside [0, 1]",
        lambda: grid_posteriors.kl_masses(np.full((2, 2), 2.0), np.ones((2, 2)) / 4),
    ),
    C(
        "grid_posteriors.gaussian_fit_kl",
        "masses",
        "mismatched size (grid)",
        lambda: grid_posteriors.gaussian_fit_kl(GRID, np.ones((4, 4)) / 16),
    ),
    C(
        "grid_posteriors.count_modes",
        "masses",
        "wrong ndim",
        lambda: grid_posteriors.count_modes(np.zeros(3)),
    ),
    C(
        "grid_posteriors.count_modes",
        "rel_height",
        "probability outside [0, 1]",
        lambda: grid_posteriors.count_modes(np.ones((3, 3)), rel_height=2.0),
    ),
    C(
        "grid_posteriors.ring_log_density",
        "points",
        "wrong shape",
        lambda: grid_posteriors.ring_log_density(np.zeros((3, 3))),
    ),
    C(
        "grid_posteriors.ring_log_density",
        "width",
        "non-positive",
        lambda: grid_posteriors.ring_log_density(np.zeros((3, 2)), width=0.0),
    ),
    C(
        "grid_posteriors.sparse_log_density",
        "alpha",
        "non-positive",
        lambda: grid_posteriors.sparse_log_density(np.zeros((3, 2)), 0.0),
    ),
    C(
        "grid_posteriors.sparse_log_density",
        "points",
        "NaN",
        lambda: grid_posteriors.sparse_log_density(np.full((3, 2), NAN), 1.0),
    ),
    # datasets
    C(
        "datasets.load_digits_binary",
        "test_size",
        "probability outside (0, 1)",
        lambda: datasets.load_digits_binary(test_size=1.5),
    ),
    C(
        "datasets.render_shapes",
        "noise",
        "probability outside [0, 0.5)",
        lambda: datasets.render_shapes(*torch.zeros(4, 1), noise=0.7),
    ),
    C(
        "datasets.render_shapes",
        "scale",
        "non-positive",
        lambda: datasets.render_shapes(
            torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1)
        ),
    ),
    C(
        "datasets.render_shapes",
        "category",
        "probability outside [0, 1]",
        lambda: datasets.render_shapes(
            torch.full((1,), 2.0), torch.zeros(1), torch.zeros(1), torch.ones(1)
        ),
    ),
    C(
        "datasets.render_shapes",
        "x",
        "mismatched shapes",
        lambda: datasets.render_shapes(
            torch.zeros(1), torch.zeros(2), torch.zeros(1), torch.ones(1)
        ),
    ),
    C(
        "datasets.render_shapes",
        "x",
        "integer tensor",
        lambda: datasets.render_shapes(
            torch.zeros(1),
            torch.zeros(1, dtype=torch.int64),
            torch.zeros(1),
            torch.ones(1),
        ),
    ),
    C(
        "datasets.make_shapes",
        "n",
        "non-positive count",
        lambda: datasets.make_shapes(0, generator=torch.Generator()),
    ),
    C(
        "datasets.make_shapes",
        "generator",
        "wrong type",
        lambda: datasets.make_shapes(3, generator=RNG),
    ),
    C(
        "datasets.load_shapes_split",
        "n_train",
        "non-positive count",
        lambda: datasets.load_shapes_split(0, 10),
    ),
    # mixtures
    C(
        "mixtures.binary_configs",
        "k",
        "out of range",
        lambda: mixtures.binary_configs(0),
    ),
    C(
        "mixtures.CategoricalMixture",
        "probs",
        "probability outside [0, 1]",
        lambda: mixtures.CategoricalMixture(np.ones(1), np.full((1, 2, 2), 2.0)),
    ),
    C(
        "mixtures.CategoricalMixture",
        "weights",
        "mismatched sizes",
        lambda: mixtures.CategoricalMixture(np.ones(2) / 2, np.full((1, 2, 2), 0.5)),
    ),
    C(
        "mixtures.BinaryFactorModel",
        "prior_probs",
        "probability outside (0, 1)",
        lambda: mixtures.BinaryFactorModel(
            np.array([1.5]), np.zeros((3, 1)), np.zeros(3)
        ),
    ),
    C(
        "mixtures.BinaryFactorModel",
        "weights",
        "NaN",
        lambda: mixtures.BinaryFactorModel(
            np.array([0.5]), np.full((3, 1), NAN), np.zeros(3)
        ),
    ),
    C(
        "mixtures.BinaryFactorModel",
        "images",
        "mismatched size (P)",
        lambda: BFM.log_marginal(np.zeros((2, 4))),
    ),
    C(
        "mixtures.BinaryFactorModel",
        "images",
        "not binary",
        lambda: BFM.log_marginal(np.full((2, 3), 0.5)),
    ),
    C(
        "mixtures.BinaryFactorModel",
        "generator",
        "wrong type",
        lambda: BFM.sample(3, generator=G),
    ),
    C(
        "mixtures.AmortisedEncoder",
        "bias",
        "mismatched sizes",
        lambda: mixtures.AmortisedEncoder(np.zeros((2, 3)), np.zeros(3)),
    ),
    C(
        "mixtures.AmortisedEncoder",
        "weights",
        "Inf",
        lambda: mixtures.AmortisedEncoder(np.full((2, 3), INF), np.zeros(2)),
    ),
    # patches
    C(
        "patches.load_image",
        "name",
        "unknown option",
        lambda: patches.load_image("moon"),
    ),
    C(
        "patches.whiten_image",
        "img",
        "wrong ndim",
        lambda: patches.whiten_image(np.zeros(100)),
    ),
    C(
        "patches.whiten_image",
        "img",
        "NaN",
        lambda: patches.whiten_image(np.full((20, 20), NAN)),
    ),
    C(
        "patches.whiten_image",
        "f0",
        "non-positive",
        lambda: patches.whiten_image(np.zeros((20, 20)), 0.0),
    ),
    C(
        "patches.zca_whiten",
        "patches",
        "wrong ndim",
        lambda: patches.zca_whiten(torch.zeros(3)),
    ),
    C(
        "patches.zca_whiten",
        "eps",
        "non-positive",
        lambda: patches.zca_whiten(torch.randn(5, 2), eps=0.0),
    ),
    C(
        "patches.natural_patches",
        "n",
        "non-positive count",
        lambda: patches.natural_patches(0),
    ),
    C(
        "patches.natural_patches",
        "images",
        "unknown option",
        lambda: patches.natural_patches(2, images=("moon",)),
    ),
    # probes
    C(
        "probes.linear_probe_accuracy",
        "z_train",
        "NaN",
        lambda: probes.linear_probe_accuracy(
            np.full((4, 2), NAN), [0, 1, 0, 1], np.zeros((2, 2)), [0, 1]
        ),
    ),
    C(
        "probes.linear_probe_accuracy",
        "y_train",
        "mismatched sizes",
        lambda: probes.linear_probe_accuracy(
            np.zeros((4, 2)), [0, 1], np.zeros((2, 2)), [0, 1]
        ),
    ),
    C(
        "probes.knn_accuracy",
        "z_test",
        "wrong ndim",
        lambda: probes.knn_accuracy(
            np.zeros((4, 2)), [0, 1, 0, 1], np.zeros(2), [0, 1]
        ),
    ),
    C(
        "probes.knn_accuracy",
        "k",
        "out of range",
        lambda: probes.knn_accuracy(
            np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((2, 2)), [0, 1], k=9
        ),
    ),
    C(
        "probes.factor_r2",
        "f_test",
        "mismatched sizes",
        lambda: probes.factor_r2(
            np.zeros((4, 2)), np.zeros((4, 1)), np.zeros((2, 2)), np.zeros((3, 1))
        ),
    ),
    C(
        "probes.nearest_distance",
        "b",
        "mismatched dimension",
        lambda: probes.nearest_distance(np.zeros((3, 2)), np.zeros((3, 3))),
    ),
    C(
        "probes.neighbourhood_preservation",
        "k",
        "out of range",
        lambda: probes.neighbourhood_preservation(
            np.zeros((5, 2)), np.zeros((5, 2)), k=5
        ),
    ),
    C(
        "probes.aggregate_posterior_stats",
        "x",
        "NaN",
        lambda: probes.aggregate_posterior_stats(VAE2, nan_like((3, 4), torch.float32)),
    ),
    C(
        "probes.aggregate_posterior_stats",
        "n_samples",
        "non-positive count",
        lambda: probes.aggregate_posterior_stats(VAE2, torch.zeros(3, 4), 0),
    ),
    C(
        "probes.aggregate_posterior_stats",
        "x",
        "mismatched size (P)",
        lambda: probes.aggregate_posterior_stats(VAE2, torch.zeros(3, 5)),
    ),
    C(
        "probes.aggregate_posterior_stats",
        "x",
        "float64 data, float32 model",
        lambda: probes.aggregate_posterior_stats(VAE2, torch.zeros(3, 4, dtype=F64)),
    ),
    C(
        "probes.aggregate_posterior_stats",
        "x",
        "other device",
        lambda: probes.aggregate_posterior_stats(VAE2, META),
    ),
    C(
        "book.score_table.evaluate",
        "x_test",
        "mismatched size (P)",
        lambda: score_table.evaluate(
            VAE2,
            torch.zeros(3, 4),
            [0, 1, 0],
            torch.zeros(3, 5),
            [0, 1, 0],
            generator=G,
        ),
    ),
    C(
        "book.score_table.evaluate",
        "n_iw",
        "non-positive count",
        lambda: score_table.evaluate(
            VAE2,
            torch.zeros(3, 4),
            [0, 1, 0],
            torch.zeros(3, 4),
            [0, 1, 0],
            n_iw=0,
            generator=G,
        ),
    ),
    # reproducibility
    C(
        "book.seed_everything",
        "seed",
        "negative",
        lambda: reproducibility.seed_everything(-1),
    ),
    C(
        "diagnostics.effective_sample_size",
        "draws",
        "fewer than 4 draws",
        lambda: diagnostics.effective_sample_size(np.zeros((3, 2))),
    ),
    C(
        "vae.sample_prior",
        "n",
        "non-positive count",
        lambda: vae.sample_prior(vae.make_prior("normal", 2), 0),
    ),
    C("book.replicates", "values", "empty", lambda: reproducibility.replicates([])),
    C(
        "book.check_replicates",
        "values",
        "NaN",
        lambda: reproducibility.check_replicates([1.0, float("nan")], "m", above=0.0),
    ),
    C("plotting.as_array", "x", "not numbers", lambda: plotting.as_array(["a"], "x")),
    C(
        "plotting.tile_images",
        "images",
        "empty",
        lambda: plotting.tile_images(np.zeros((0, 4)), (2, 2), 2),
    ),
    C("book.sig", "digits", "non-positive count", lambda: reproducibility.sig(1.0, 0)),
    C("book.sig", "x", "not a number", lambda: reproducibility.sig("1.0")),
    C(
        "book.record",
        "name",
        "not an identifier",
        lambda: reproducibility.record("a b", 1.0),
    ),
    C("book.record", "x", "not a number", lambda: reproducibility.record("a", [1.0])),
    C("book.check", "message", "empty", lambda: reproducibility.check(True, "")),
    C(
        "book.check",
        "condition",
        "array of several values",
        lambda: reproducibility.check(np.array([True, False]), "m"),
    ),
    # scramble
    C(
        "scramble.CellScramble",
        "cells_per_dim",
        "too small",
        lambda: scramble.CellScramble.random(PRIOR2, 1, generator=G),
    ),
    C(
        "scramble.CellScramble",
        "permutation",
        "not a permutation",
        lambda: scramble.CellScramble(PRIOR2, 2, torch.zeros(4, dtype=torch.long)),
    ),
    C(
        "scramble.CellScramble",
        "prior",
        "wrong type",
        lambda: scramble.CellScramble(Normal(0.0, 1.0), 2, torch.arange(2)),
    ),
    C(
        "scramble.CellScramble",
        "z",
        "mismatched size (d)",
        lambda: SCR(torch.zeros(3, 3)),
    ),
    C("scramble.CellScramble", "z", "NaN", lambda: SCR(nan_like((3, 2)))),
    C(
        "scramble.CellScramble",
        "z",
        "integer tensor",
        lambda: SCR(torch.zeros(3, 2, dtype=torch.int64)),
    ),
    C(
        "scramble.ScrambledModel",
        "scramble",
        "mismatched latent dimension",
        lambda: scramble.ScrambledModel(vae.build_vae("bernoulli", 4, 3), SCR),
    ),
    C(
        "scramble.CellScramble",
        "permutation",
        "fractional (would be truncated)",
        lambda: scramble.CellScramble(PRIOR2, 2, torch.tensor([0.0, 1.5, 2.0, 3.0])),
    ),
    C("scramble.CellScramble", "z", "other device", lambda: SCR(META[:, :2])),
    C(
        "scramble.ScrambledModel",
        "scramble",
        "wrong type",
        lambda: scramble.ScrambledModel(vae.build_vae("bernoulli", 4, 2), "S"),
    ),
    # sparse coding
    C(
        "sparse_coding.learn_dictionary",
        "patches",
        "NaN",
        lambda: sparse_coding.learn_dictionary(nan_like((5, 4)), 3, 0.1),
    ),
    C(
        "sparse_coding.learn_dictionary",
        "penalty",
        "negative",
        lambda: sparse_coding.learn_dictionary(torch.zeros(5, 4), 3, -0.1),
    ),
    C(
        "sparse_coding.learn_dictionary",
        "A0",
        "wrong shape",
        lambda: sparse_coding.learn_dictionary(
            torch.zeros(5, 4), 3, 0.1, A0=torch.zeros(3, 3)
        ),
    ),
    C(
        "sparse_coding.learn_dictionary",
        "coder",
        "unknown name",
        lambda: sparse_coding.learn_dictionary(torch.zeros(5, 4), 3, 0.1, coder="omp"),
    ),
    C(
        "sparse_coding.learn_dictionary",
        "batch_size",
        "non-positive count",
        lambda: sparse_coding.learn_dictionary(torch.zeros(5, 4), 3, 0.1, batch_size=0),
    ),
    C(
        "sparse_coding.pca_components",
        "patches",
        "wrong ndim",
        lambda: sparse_coding.pca_components(torch.zeros(4)),
    ),
    C(
        "sparse_coding.pca_components",
        "n_components",
        "out of range",
        lambda: sparse_coding.pca_components(torch.randn(5, 3), 4),
    ),
    C(
        "sparse_coding.gabor",
        "params",
        "wrong shape",
        lambda: sparse_coding.gabor(np.zeros(3), 8),
    ),
    C(
        "sparse_coding.gabor",
        "size",
        "non-positive count",
        lambda: sparse_coding.gabor(np.ones(8), 0),
    ),
    C(
        "sparse_coding.fit_gabor",
        "atom",
        "not square",
        lambda: sparse_coding.fit_gabor(np.ones(10)),
    ),
    C(
        "sparse_coding.fit_gabor",
        "atom",
        "NaN",
        lambda: sparse_coding.fit_gabor(np.full(16, NAN)),
    ),
    C(
        "sparse_coding.fit_gabor",
        "max_sigma",
        "non-positive",
        lambda: sparse_coding.fit_gabor(np.arange(16.0), max_sigma=0.0),
    ),
    # training
    C("training.fit", "x_train", "NaN", lambda: training.fit(VAE2, nan_like((3, 4)))),
    C(
        "training.fit",
        "x_train",
        "mismatched size (P)",
        lambda: training.fit(VAE2, torch.zeros(3, 5)),
    ),
    C(
        "training.fit",
        "epochs",
        "non-positive count",
        lambda: training.fit(VAE2, torch.zeros(3, 4), epochs=0),
    ),
    C("training.LitVAE", "lr", "non-positive", lambda: training.LitVAE(VAE2, lr=0.0)),
    C("training.LitVAE", "beta", "negative", lambda: training.LitVAE(VAE2, beta=-1.0)),
    # tree world
    C(
        "treeworld.TreeWorld",
        "species_probs",
        "probability outside [0, 1]",
        lambda: treeworld.TreeWorld(
            np.array([2.0, -0.5, -0.5]),
            WORLD.trunk_probs,
            WORLD.branch_probs,
            WORLD.leaf_probs,
        ),
    ),
    C(
        "treeworld.TreeWorld",
        "pixel_on",
        "probability outside (0, 1)",
        lambda: treeworld.TreeWorld(
            WORLD.species_probs,
            WORLD.trunk_probs,
            WORLD.branch_probs,
            WORLD.leaf_probs,
            (0.0, 0.5, 0.5),
        ),
    ),
    C(
        "treeworld.TreeWorld",
        "images",
        "mismatched size (P)",
        lambda: WORLD.log_marginal(np.zeros((2, 10))),
    ),
    C(
        "treeworld.TreeWorld",
        "maps",
        "values outside {0, 1, 2}",
        lambda: WORLD.log_prob_leaves(np.full((1, 256), 5)),
    ),
    C(
        "treeworld.TreeWorld",
        "generator",
        "wrong type",
        lambda: WORLD.sample(2, generator=G),
    ),
    C(
        "treeworld.FlatFancyModel",
        "log_probs",
        "not normalised",
        lambda: treeworld.FlatFancyModel(np.zeros((2, 256)), np.zeros(2)),
    ),
    C(
        "treeworld.TextureModel",
        "marginals",
        "wrong shape",
        lambda: treeworld.TextureModel(np.ones((3, 3)) / 3),
    ),
    C(
        "treeworld.largest_part_fraction",
        "maps",
        "wrong shape",
        lambda: treeworld.largest_part_fraction(np.zeros((2, 3))),
    ),
    C(
        "treeworld.layer_maps",
        "config",
        "wrong shape",
        lambda: treeworld.layer_maps(np.zeros(3)),
    ),
    C(
        "treeworld.render",
        "s",
        "out of range",
        lambda: treeworld.render(5, 0, 0, 0, (0, 0, 0)),
    ),
    # vae
    C("vae.make_prior", "kind", "unknown option", lambda: vae.make_prior("cauchy", 2)),
    C("vae.make_prior", "n_latents", "negative", lambda: vae.make_prior("normal", -1)),
    C(
        "vae.GaussianEncoder",
        "n_latents",
        "non-positive count",
        lambda: vae.GaussianEncoder(4, 0),
    ),
    C(
        "vae.LinearGaussianEncoder",
        "n_pixels",
        "non-positive count",
        lambda: vae.LinearGaussianEncoder(0, 2),
    ),
    C(
        "vae.BernoulliMLP",
        "n_pixels",
        "non-positive count",
        lambda: vae.BernoulliMLP(2, 0),
    ),
    C("vae.MADE", "n_pixels", "too small", lambda: vae.MADE(1)),
    C("vae.RenderDecoder", "size", "too small", lambda: vae.RenderDecoder(2)),
    C(
        "vae.LinearGaussianDecoder",
        "A",
        "wrong ndim",
        lambda: vae.LinearGaussianDecoder(torch.zeros(3)),
    ),
    C(
        "vae.LinearGaussianDecoder",
        "noise_std",
        "non-positive",
        lambda: vae.LinearGaussianDecoder(A, 0.0),
    ),
    C(
        "vae.VAE",
        "prior",
        "unknown option",
        lambda: vae.VAE(
            vae.BernoulliMLP(2, 4), 2, vae.GaussianEncoder(4, 2), prior="cauchy"
        ),
    ),
    C("vae.VAE", "encoder", "missing", lambda: vae.VAE(vae.BernoulliMLP(2, 4), 2)),
    C("vae.VAE", "x", "mismatched size (P)", lambda: VAE2.terms(torch.zeros(3, 5))),
    C("vae.VAE", "x", "NaN", lambda: VAE2.loss(nan_like((3, 4), torch.float32))),
    C(
        "vae.VAE",
        "x",
        "float16 tensor",
        lambda: VAE2.terms(torch.zeros(3, 4, dtype=torch.float16)),
    ),
    C(
        "vae.elbo_terms",
        "x",
        "wrong ndim",
        lambda: vae.elbo_terms(VAE2, torch.zeros(4)),
    ),
    C(
        "vae.elbo_terms",
        "n_samples",
        "non-positive count",
        lambda: vae.elbo_terms(VAE2, torch.zeros(3, 4), 0),
    ),
    C(
        "vae.iw_log_likelihood",
        "n_samples",
        "non-positive count",
        lambda: vae.iw_log_likelihood(VAE2, torch.zeros(3, 4), 0),
    ),
    C(
        "vae.iw_log_likelihood",
        "x",
        "Inf",
        lambda: vae.iw_log_likelihood(VAE2, torch.full((3, 4), INF)),
    ),
    C(
        "vae.iw_log_likelihood",
        "x",
        "float64 data, float32 model",
        lambda: vae.iw_log_likelihood(VAE2, torch.zeros(3, 4, dtype=F64)),
    ),
    C(
        "vae.iw_log_likelihood",
        "x",
        "other device",
        lambda: vae.iw_log_likelihood(VAE2, META),
    ),
    C(
        "vae.mmd_rbf",
        "b",
        "mismatched dimension",
        lambda: vae.mmd_rbf(torch.zeros(3, 2), torch.zeros(3, 3)),
    ),
    C(
        "vae.mmd_rbf",
        "a",
        "too few rows",
        lambda: vae.mmd_rbf(torch.zeros(1, 2), torch.zeros(3, 2)),
    ),
    C(
        "vae.mmd_rbf",
        "b",
        "mixed float32/float64",
        lambda: vae.mmd_rbf(torch.zeros(3, 2), torch.zeros(3, 2, dtype=F64)),
    ),
    C("vae.build_vae", "decoder", "unknown option", lambda: vae.build_vae("gan", 4, 2)),
    C(
        "vae.build_vae",
        "n_pixels",
        "non-positive count",
        lambda: vae.build_vae("bernoulli", 0, 2),
    ),
    C(
        "book.cached_models.load_cached",
        "data",
        "unknown option",
        lambda: cached_models.load_cached("x", "cifar"),
    ),
    C(
        "book.cached_models.load_cached",
        "name",
        "unknown option",
        lambda: cached_models.load_cached("nope", "digits"),
    ),
    # artifacts
    C("artifacts.verify", "name", "wrong type", lambda: artifacts.verify(3)),
    C(
        "artifacts.load_npz",
        "name",
        "not in the manifest",
        lambda: artifacts.load_npz("x.npz"),
    ),
    C(
        "artifacts.load_weights",
        "name",
        "not in the manifest",
        lambda: artifacts.load_weights("x.pt"),
    ),
    C(
        "artifacts.load_json",
        "name",
        "not in the manifest",
        lambda: artifacts.load_json("x.json"),
    ),
    C(
        "artifacts.manifest",
        "directory",
        "no manifest there",
        lambda: artifacts.manifest(lvmkit.data_dir().parent),
    ),
    # validation (the checkers themselves)
    C(
        "validation.as_float_tensor",
        "v",
        "bool tensor",
        lambda: validation.as_float_tensor("v", torch.zeros(2, dtype=torch.bool)),
    ),
    C(
        "validation.as_float_array",
        "v",
        "strings",
        lambda: validation.as_float_array("v", ["a"]),
    ),
    C(
        "validation.check_int",
        "v",
        "not an integer",
        lambda: validation.check_int("v", 1.5),
    ),
    C(
        "validation.check_positive",
        "v",
        "bool",
        lambda: validation.check_positive("v", True),
    ),
    C(
        "validation.check_nonnegative",
        "v",
        "negative",
        lambda: validation.check_nonnegative("v", -1),
    ),
    C(
        "validation.check_probability",
        "v",
        "probability outside [0, 1]",
        lambda: validation.check_probability("v", 1.1),
    ),
    C(
        "validation.check_same_device",
        "a",
        "other device",
        lambda: validation.check_same_device(a=META, b=IMG),
    ),
    C(
        "validation.check_same_dtype",
        "b",
        "mixed float32/float64",
        lambda: validation.check_same_dtype(a=IMG.float(), b=IMG),
    ),
    C(
        "validation.check_gram",
        "gram",
        "inconsistent with A",
        lambda: validation.check_gram("gram", A.T @ A * 1.01, A),
    ),
    # plotting: data arguments are arrays of numbers, finite, of the right shape
    C(
        "plotting.plot_densities_1d",
        "densities",
        "mismatched sizes",
        lambda: plotting.plot_densities_1d(np.arange(3.0), {"a": np.ones(4)}),
    ),
    C(
        "plotting.plot_densities_1d",
        "grid",
        "NaN",
        lambda: plotting.plot_densities_1d(np.full(3, NAN), {"a": np.ones(3)}),
    ),
    C(
        "book.figures.plot_tree_rows",
        "rows",
        "mismatched sizes",
        lambda: figures.plot_tree_rows(
            {"a": np.zeros((2, 256)), "b": np.zeros((3, 256))}
        ),
    ),
    C(
        "book.figures.plot_reflection",
        "world/model panel",
        "NaN",
        lambda: figures.plot_reflection({"a": np.full(256, NAN)}, {"b": np.zeros(256)}),
    ),
    C(
        "book.figures.plot_learning_curves",
        "sizes",
        "Inf",
        lambda: figures.plot_learning_curves([1, INF], {"a": np.zeros(2)}),
    ),
    C(
        "book.figures.plot_prior_vs_average_posterior",
        "prior",
        "NaN",
        lambda: figures.plot_prior_vs_average_posterior(
            np.full(3, NAN), {"a": np.ones(3)}
        ),
    ),
    C(
        "book.figures.plot_likelihood_vs_kl",
        "panels[...][kl]",
        "NaN",
        lambda: figures.plot_likelihood_vs_kl(
            {
                "p": {
                    "param": np.ones(2),
                    "kl": np.full(2, NAN),
                    "kl_se": np.ones(2),
                    "entropy": 1.0,
                    "nll": np.ones(2),
                }
            }
        ),
    ),
    C(
        "book.figures.plot_response_kurtosis",
        "kurtosis",
        "NaN",
        lambda: figures.plot_response_kurtosis({"a": [NAN, 1.0]}),
    ),
    C(
        "book.figures.plot_posterior_tiling",
        "prior",
        "NaN",
        lambda: figures.plot_posterior_tiling(
            GRID, np.full((5, 5), NAN), np.ones((1, 5, 5))
        ),
    ),
    C(
        "book.figures.plot_complexity_sweep",
        "posterior_kl",
        "Inf",
        lambda: figures.plot_complexity_sweep([1.0, 2.0], [INF, 1.0], 1.0),
    ),
    C(
        "book.figures.plot_puzzle",
        "posteriors",
        "NaN",
        lambda: figures.plot_puzzle(
            GRID, np.full((2, 5, 5), NAN), np.ones((5, 5)), np.ones((5, 5))
        ),
    ),
    C(
        "book.figures.plot_sparse_priors_2d",
        "alphas",
        "non-positive",
        lambda: figures.plot_sparse_priors_2d([0.0]),
    ),
    C(
        "plotting.plot_tiles",
        "columns",
        "NaN",
        lambda: plotting.plot_tiles(np.full((16, 2), NAN)),
    ),
    C(
        "book.figures.plot_gabor_r2",
        "r2",
        "NaN",
        lambda: figures.plot_gabor_r2({"a": [NAN, 0.5]}, 0.5),
    ),
    C(
        "plotting.plot_rank_histograms",
        "results",
        "empty",
        lambda: plotting.plot_rank_histograms({}),
    ),
    C(
        "book.figures.plot_generate_vs_infer",
        "q_x",
        "NaN",
        lambda: figures.plot_generate_vs_infer(
            np.ones(5), np.full(5, NAN), np.ones(5), np.ones(5), epsilon="e", eta="h"
        ),
    ),
    C(
        "plotting.plot_marginals",
        "samples",
        "Inf",
        lambda: plotting.plot_marginals({"a": [INF, 0.0]}),
    ),
    C(
        "plotting.plot_trajectories",
        "series",
        "NaN",
        lambda: plotting.plot_trajectories([1, 2], {"a": [NAN, 1.0]}),
    ),
    C(
        "plotting.plot_image_grids",
        "images",
        "NaN",
        lambda: plotting.plot_image_grids({"a": np.full((2, 4), NAN)}, (2, 2)),
    ),
    C(
        "book.figures.plot_interpolations",
        "rows",
        "mismatched sizes",
        lambda: figures.plot_interpolations(
            {"a": np.zeros((2, 4)), "b": np.zeros((3, 4))}, (2, 2)
        ),
    ),
    C(
        "book.figures.plot_posterior_families",
        "prior",
        "NaN",
        lambda: figures.plot_posterior_families(
            np.arange(3.0), np.full(3, NAN), {"a": (np.ones((1, 3)), np.ones(3))}
        ),
    ),
    C(
        "book.figures.plot_salt_and_pepper",
        "codes",
        "wrong shape",
        lambda: figures.plot_salt_and_pepper({"a": np.zeros((3, 3))}, np.zeros(3)),
    ),
    C(
        "plotting.plot_rate_distortion",
        "points",
        "NaN",
        lambda: plotting.plot_rate_distortion({"a": (NAN, 1.0)}),
    ),
    C(
        "book.figures.plot_shapes",
        "factors",
        "wrong shape",
        lambda: figures.plot_shapes(np.zeros((2, 4)), np.zeros((2, 3)), (2, 2)),
    ),
    C(
        "book.figures.plot_benchmark_ratios",
        "rows",
        "non-positive ratio",
        lambda: figures.plot_benchmark_ratios(
            [
                {
                    "label": "a",
                    "ratio": 0.0,
                    "goal": 1.0,
                    "higher_is_better": True,
                    "goal_text": "",
                }
            ]
        ),
    ),
    C("plotting.new_axes", "ax", "wrong type", lambda: plotting.new_axes("axes")),
]

# Public callables that take no user data, or only a data-free option; each with its reason.
EXEMPT = {
    "plotting.use_style": "takes no arguments",
    "treeworld.enumerate_configs": "takes no arguments",
    "artifacts.ArtifactError": "an exception class",
    "validation.describe": "formats any object for an error message; accepts every input",
}
# The building blocks of the samplers and solvers: called by the validated entry points
# (hmc, sample_posterior, lasso) on inputs those have checked; a wrong input to them is a
# programming error inside lvmkit, not a user's.
EXEMPT.update(
    {
        f"mcmc.{n}": "a building block of hmc / sample_posterior"
        for n in (
            "ExactKinkSplitting",
            "Leapfrog",
            "acceptance_probability",
            "adapt_step_size",
            "build_step",
            "metropolis",
            "run_chains",
            "select",
            "v_flow",
        )
    }
)
EXEMPT["treeworld.image_log_likelihood"] = (
    "the inner kernel of the tree world's likelihoods, on inputs its callers checked"
)
EXEMPT.update(
    {
        f"lasso.{n}": "a building block of lasso (which validates)"
        for n in ("certificate_threshold", "kkt_violation", "lasso_active_set")
    }
)
EXEMPT.update(
    {
        f"book.planted_bugs.{n}": "an acceptance rule (a building block)"
        for n in ("accept_all", "forget_kinetic_energy")
    }
)
EXEMPT.update(
    {
        f"validation.{n}": "a checker itself (tests/test_validation.py tests it)"
        for n in (
            "as_data_batch",
            "as_model_data",
            "as_numpy_generator",
            "check_callable",
            "check_choice",
            "check_generator",
            "check_int_sizes",
        )
    }
)

RESULTS: list[tuple[Case, str]] = []


@pytest.fixture(scope="module", autouse=True)
def _write_table():
    """After the module's tests: write the table of every case and the error it gave."""
    yield
    rows = [
        "# Validation: each public function, the invalid inputs tried, the error each gives",
        "",
        "Generated by `tests/test_validation.py` (do not edit).",
        "",
        "| function | argument | invalid input | exception: message |",
        "|---|---|---|---|",
    ]
    for case, error in sorted(RESULTS, key=lambda r: (r[0].function, r[0].argument)):
        msg = error.replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| `lvmkit.{case.function}` | `{case.argument}` | {case.invalid} | {msg} |"
        )
    write_report("validation-table.md", "\n".join(rows) + "\n")


# lvmkit.prior_em: r <- q as Monte-Carlo EM
CASES += [
    C(
        "prior_em.fit_generalized_gaussian",
        "draws",
        "NaN",
        lambda: prior_em.fit_generalized_gaussian(nan_like((5, 2))),
    ),
    C(
        "prior_em.fit_generalized_gaussian",
        "groups",
        "wrong shape",
        lambda: prior_em.fit_generalized_gaussian(
            np.ones((5, 2)), np.zeros(3, dtype=int)
        ),
    ),
    C(
        "prior_em.gg_prior",
        "alpha",
        "negative",
        lambda: prior_em.gg_prior(np.array([-1.0, 1.0]), np.ones(2)),
    ),
    C(
        "prior_em.posterior_sampler",
        "noise_std",
        "negative",
        lambda: prior_em.posterior_sampler(A, -1.0),
    ),
    C(
        "prior_em.posterior_sampler",
        "A",
        "NaN",
        lambda: prior_em.posterior_sampler(nan_like((4, 3)), 1.0),
    ),
    C(
        "prior_em.run_prior_em",
        "images",
        "NaN",
        lambda: prior_em.run_prior_em(
            prior_em.posterior_sampler(A, 1.0), nan_like((2, 4)), 2.0, 1.0
        ),
    ),
    C(
        "prior_em.likelihood_gain",
        "draws",
        "NaN",
        lambda: prior_em.likelihood_gain(
            torch.full((2, 3, 2), float("nan")),
            prior_em.gg_prior(np.ones(2), np.ones(2)),
            prior_em.gg_prior(np.ones(2), np.ones(2)),
        ),
    ),
    C(
        "prior_em.likelihood_gain",
        "old",
        "a torch.distributions.Distribution",
        lambda: prior_em.likelihood_gain(
            torch.zeros(2, 3, 2), None, prior_em.gg_prior(np.ones(2), np.ones(2))
        ),
    ),
    C(
        "prior_em.run_prior_em",
        "max_iter",
        "non-positive count",
        lambda: prior_em.run_prior_em(
            prior_em.posterior_sampler(A, 1.0), IMG, 2.0, 1.0, max_iter=0
        ),
    ),
]


# the book's part-2 codes (lvmkit.book.part2_codes)
_P2 = "book.part2_codes"
CASES += [
    C(
        f"{_P2}.map_prior_em",
        "images",
        "NaN",
        lambda: p2c.map_prior_em(nan_like((2, 4)), A, 1.0, 1.0),
    ),
    C(
        f"{_P2}.axis_preference",
        "family",
        "unknown",
        lambda: p2c.axis_preference(
            np.ones((4, 2)), np.ones((4, 2)), np.eye(2), "flow"
        ),
    ),
    C(
        f"{_P2}.energy_correlations",
        "codes",
        "NaN",
        lambda: p2c.energy_correlations(
            nan_like((5, 3)), generator=np.random.default_rng()
        ),
    ),
    C(
        f"{_P2}.plot_weighted_sum",
        "patch",
        "NaN",
        lambda: p2c.plot_weighted_sum(
            np.full(4, NAN), np.ones((4, 2)), np.ones(2), np.ones(4)
        ),
    ),
    C(
        f"{_P2}.plot_gabor_distributions",
        "r2",
        "NaN",
        lambda: p2c.plot_gabor_distributions({}, np.full(3, NAN), np.ones(3), 0.8),
    ),
    C(
        f"{_P2}.plot_energy_correlations",
        "observed",
        "NaN",
        lambda: p2c.plot_energy_correlations(
            np.full(3, NAN), np.ones(3), np.eye(2), []
        ),
    ),
    C(
        f"{_P2}.plot_prior_em",
        "steps_alpha",
        "a list",
        lambda: p2c.plot_prior_em([1.0], {}, np.zeros((1, 2))),
    ),
]


# lvmkit.two_sample: the kernel two-sample test
CASES += [
    C(
        "two_sample.mmd_test",
        "a",
        "NaN",
        lambda: two_sample.mmd_test(
            np.full((3, 2), NAN), np.zeros((3, 2)), generator=G
        ),
    ),
    C(
        "two_sample.mmd_test",
        "b",
        "wrong width",
        lambda: two_sample.mmd_test(np.zeros((3, 2)), np.zeros((3, 3)), generator=G),
    ),
    C(
        "two_sample.mmd_test",
        "bandwidth",
        "non-positive",
        lambda: two_sample.mmd_test(
            np.zeros((3, 2)), np.ones((3, 2)), bandwidth=0.0, generator=G
        ),
    ),
    C(
        "two_sample.mmd_test",
        "generator",
        "not a generator",
        lambda: two_sample.mmd_test(np.zeros((3, 2)), np.ones((3, 2)), generator=0),
    ),
    C(
        "two_sample.median_bandwidth",
        "a",
        "wrong ndim",
        lambda: two_sample.median_bandwidth(np.zeros(3), np.zeros((3, 1))),
    ),
]


# the book's seeded part-3 digits models (lvmkit.book.part3_seeds, part3_figures)
_P3 = "book.part3_seeds"
_REC = {}
CASES += [
    C(f"{_P3}.key", "name", "unknown model", lambda: p3s.key("vae", 0)),
    C(f"{_P3}.train_one", "name", "unknown model", lambda: p3s.train_one("vae", 0)),
    C(f"{_P3}.load_seeded", "name", "unknown model", lambda: p3s.load_seeded("vae", 0)),
    C(f"{_P3}.seeds_of", "name", "unknown model", lambda: p3s.seeds_of(_REC, "vae")),
    C(f"{_P3}.values", "name", "unknown model", lambda: p3s.values(_REC, "vae", "mi")),
    C(
        f"{_P3}.paired_ll",
        "a",
        "unknown model",
        lambda: p3s.paired_ll(_REC, "vae", "vae"),
    ),
    C(
        f"{_P3}.table",
        "rows",
        "unknown model",
        lambda: p3s.table(_REC, {"x": "vae"}, {"MI": "mi"}),
    ),
    C(
        f"{_P3}.curve",
        "names",
        "unknown model",
        lambda: p3s.curve(_REC, {1: "vae"}, "mi"),
    ),
    C(f"{_P3}.compact", "state", "a list", lambda: p3s.compact([], {})),
    C(
        f"{_P3}.seeded_records",
        "directory",
        "no manifest",
        lambda: p3s.seeded_records("/nonexistent"),
    ),
    C(
        "book.part3_figures.plot_capacity_sweep",
        "axes",
        "one axis",
        lambda: p3f.plot_capacity_sweep({}, {}, axes=[None]),
    ),
    C(
        "book.part3_figures.plot_rd_frontier",
        "points",
        "NaN",
        lambda: p3f.plot_rd_frontier({"a": (NAN, 0.0, 1.0, 0.0)}, (1.0, 0.1)),
    ),
]
EXEMPT[f"{_P3}.fit_val_split"] = "takes no arguments"


# structured decoders, large-mixture aggregate posterior, classifier two-sample test
CASES += [
    C(
        "aggregate_posterior.aggregate_stats",
        "x_mix",
        "NaN",
        lambda: aggregate_posterior.aggregate_stats(
            VAE2, nan_like((3, 4), torch.float32), torch.zeros(2, 4)
        ),
    ),
    C(
        "aggregate_posterior.aggregate_stats",
        "x_query",
        "mismatched size (P)",
        lambda: aggregate_posterior.aggregate_stats(
            VAE2, torch.zeros(3, 4), torch.zeros(2, 5)
        ),
    ),
    C(
        "aggregate_posterior.aggregate_stats",
        "n_samples",
        "non-positive count",
        lambda: aggregate_posterior.aggregate_stats(
            VAE2, torch.zeros(3, 4), torch.zeros(2, 4), 0
        ),
    ),
    C(
        "two_sample.classifier_two_sample_test",
        "a",
        "NaN",
        lambda: two_sample.classifier_two_sample_test(
            np.full((20, 3), NAN), np.zeros((20, 3))
        ),
    ),
    C(
        "two_sample.classifier_two_sample_test",
        "b",
        "mismatched dimension",
        lambda: two_sample.classifier_two_sample_test(
            np.zeros((20, 3)), np.zeros((20, 2))
        ),
    ),
    C(
        "two_sample.classifier_two_sample_test",
        "k",
        "non-positive count",
        lambda: two_sample.classifier_two_sample_test(
            np.zeros((20, 3)), np.zeros((20, 3)), k=0
        ),
    ),
    C(
        "structured_decoders.render_square_disk",
        "scale",
        "non-positive scale",
        lambda: structured_decoders.render_square_disk(
            *torch.zeros(3, 2), torch.zeros(2)
        ),
    ),
    C(
        "structured_decoders.DiskRenderDecoder",
        "size",
        "too small",
        lambda: structured_decoders.DiskRenderDecoder(2),
    ),
    C(
        "structured_decoders.TemplateDecoder",
        "template_side",
        "too small",
        lambda: structured_decoders.TemplateDecoder(12, 2),
    ),
    C(
        "structured_decoders.build_structured_vae",
        "n_latents",
        "not 4",
        lambda: structured_decoders.build_structured_vae("template", 144, 3),
    ),
]


# the book's part-3 structure page and salt-and-pepper helpers
_SP, _ST = "book.part3_salt_pepper", "book.part3_structure"
CASES += [
    C(f"{_SP}.describe", "r", "a list", lambda: p3sp.describe([1.0])),
    C(
        f"{_SP}.lagrangian_terms",
        "x_test",
        "NaN",
        lambda: p3sp.lagrangian_terms(
            VAE2, nan_like((3, 4), torch.float32), torch.zeros(3, 4), seed=0
        ),
    ),
    C(
        f"{_SP}.mmd_replicates",
        "n",
        "non-positive count",
        lambda: p3sp.mmd_replicates(VAE2, torch.zeros(3, 4), 0, seed=0),
    ),
    C(
        f"{_SP}.neighbourhoods",
        "x",
        "NaN",
        lambda: p3sp.neighbourhoods(VAE2, nan_like((3, 4), torch.float32)),
    ),
    C(f"{_SP}.seed_groups", "records", "a list", lambda: p3sp.seed_groups([])),
    C(f"{_ST}.values", "key", "unknown model", lambda: p3st.values({}, "nope", "mi")),
    C(
        f"{_ST}.criteria_table",
        "kinds",
        "a list",
        lambda: p3st.criteria_table({}, {"a": "b"}, kinds=["x"]),
    ),
    C(
        f"{_ST}.load_shapes_model",
        "name",
        "unknown model",
        lambda: p3st.load_shapes_model("nope"),
    ),
    C(
        f"{_ST}.model_metrics",
        "n_train",
        "non-positive count",
        lambda: p3st.model_metrics(VAE2, 0),
    ),
    C(
        f"{_ST}.plot_data_size_sweep",
        "kinds",
        "a list",
        lambda: p3st.plot_data_size_sweep({}, ["a"], {"m": "x"}),
    ),
    C(
        f"{_ST}.shapes_records",
        "directory",
        "no manifest",
        lambda: p3st.shapes_records("/nonexistent"),
    ),
    C(
        f"{_ST}.t_bound",
        "rate",
        "above 1/2",
        lambda: p3st.t_bound([1.0, 2.0, 3.0], 2.0),
    ),
    C(
        f"{_ST}.template_correlations",
        "decoder",
        "not a template decoder",
        lambda: p3st.template_correlations(VAE2.decoder),
    ),
]


# lvmkit.sparse_em: Monte-Carlo EM for the sparse model's prior scales and noise
CASES += [
    C(
        "sparse_em.laplace_e_step",
        "scales",
        "non-positive",
        lambda: sparse_em.laplace_e_step(IMG, A, -torch.ones(3, dtype=F64), 0.5),
    ),
    C(
        "sparse_em.gaussian_e_step",
        "noise_std",
        "non-positive",
        lambda: sparse_em.gaussian_e_step(IMG, A, torch.ones(3, dtype=F64), 0.0),
    ),
    C(
        "sparse_em.laplace_m_step",
        "draws",
        "wrong shape",
        lambda: sparse_em.laplace_m_step(IMG, A, torch.zeros(2, 3, dtype=F64)),
    ),
    C(
        "sparse_em.gaussian_m_step",
        "draws",
        "wrong shape",
        lambda: sparse_em.gaussian_m_step(IMG, A, torch.zeros(2, 3, dtype=F64)),
    ),
    C(
        "sparse_em.mc_em",
        "tol",
        "non-positive",
        lambda: sparse_em.mc_em(
            IMG,
            A,
            torch.ones(3, dtype=F64),
            0.5,
            e_step=sparse_em.gaussian_e_step,
            m_step=sparse_em.gaussian_m_step,
            tol=0.0,
        ),
    ),
    C(
        "sparse_em.gaussian_marginal_loglik",
        "images",
        "wrong shape",
        lambda: sparse_em.gaussian_marginal_loglik(
            torch.zeros(2, 5, dtype=F64), A, torch.ones(3, dtype=F64), 0.5
        ),
    ),
    C(
        "sparse_em.energy_correlation",
        "draws",
        "wrong shape",
        lambda: sparse_em.energy_correlation(torch.zeros(2, 3, dtype=F64)),
    ),
]


# the book's Bayes' loop after the ML fit (lvmkit.book.part2_bayes_loop)
_BL = "book.part2_bayes_loop"
CASES += [
    C(
        f"{_BL}.laplace_prior",
        "scales",
        "negative",
        lambda: p2bl.laplace_prior(-torch.ones(3, dtype=F64)),
    ),
    C(
        f"{_BL}.sample_laplace",
        "generator",
        "missing",
        lambda: p2bl.sample_laplace(torch.ones(3, dtype=F64), 2, None),
    ),
    C(
        f"{_BL}.replicate",
        "B",
        "one patch",
        lambda: p2bl.replicate(A, None, None, 0.5, 0, 1, [0.0]),
    ),
    C(
        f"{_BL}.plot_loop",
        "x",
        "NaN",
        lambda: p2bl.plot_loop(np.full(3, NAN), None, None, None, None),
    ),
    C(
        f"{_BL}.plot_eps_eta",
        "eps",
        "NaN",
        lambda: p2bl.plot_eps_eta(np.full(3, NAN), None, None, None, None, 0.0, 0.0),
    ),
    C(
        f"{_BL}.plot_em_path",
        "scales_path",
        "wrong ndim",
        lambda: p2bl.plot_em_path(np.zeros(3), None, 0.1, None),
    ),
    C(
        f"{_BL}.plot_energy_corr",
        "corr_data",
        "NaN",
        lambda: p2bl.plot_energy_corr(np.full((2, 2), NAN), np.zeros((2, 2))),
    ),
]

# Metropolis-within-Gibbs (lvmkit.mcmc.gibbs) and the book's alternating chain
_GG3 = priors.GeneralizedGaussian(torch.full((3,), 0.5), torch.ones(3))
_P2A = "book.part2_alternating"
CASES += [
    C(
        "mcmc.gibbs",
        "x0",
        "wrong shape",
        lambda: mcmc.gibbs(
            torch.ones(4, 3),
            1.0,
            _GG3,
            torch.zeros(2, 4),
            torch.zeros(2, 2),
            n_samples=1,
        ),
    ),
    C(
        "mcmc.gibbs",
        "images",
        "wrong shape",
        lambda: mcmc.gibbs(
            torch.ones(4, 3),
            1.0,
            _GG3,
            torch.zeros(2, 5),
            torch.zeros(2, 3),
            n_samples=1,
        ),
    ),
    C(
        "mcmc.gibbs",
        "n_samples",
        "zero",
        lambda: mcmc.gibbs(
            torch.ones(4, 3),
            1.0,
            _GG3,
            torch.zeros(2, 4),
            torch.zeros(2, 3),
            n_samples=0,
        ),
    ),
    C(
        "mcmc.build_sweep",
        "noise_std",
        "negative",
        lambda: mcmc.build_sweep(torch.ones(4, 3), -1.0, _GG3),
    ),
    C(
        "mcmc.build_sweep",
        "prior",
        "wrong batch shape",
        lambda: mcmc.build_sweep(torch.ones(4, 3), 1.0, Normal(torch.zeros(2), 1.0)),
    ),
    C(
        "mcmc.build_sweep",
        "A",
        "zero column",
        lambda: mcmc.build_sweep(torch.zeros(4, 3), 1.0, _GG3),
    ),
    C(
        "mcmc.build_elliptical_step",
        "noise_std",
        "zero",
        lambda: mcmc.build_elliptical_step(
            torch.ones(4, 3), 0.0, _GG3, torch.zeros(2, 4)
        ),
    ),
    C(
        "mcmc.build_elliptical_step",
        "prior",
        "infinite variance",
        lambda: mcmc.build_elliptical_step(
            torch.ones(4, 3),
            1.0,
            torch.distributions.StudentT(torch.ones(3)),
            torch.zeros(2, 4),
        ),
    ),
    C(
        f"{_P2A}.filter_energy_correlation",
        "scales",
        "wrong shape",
        lambda: p2a.filter_energy_correlation(
            torch.zeros(5, 4), torch.ones(4, 3), torch.ones(2), 1.0
        ),
    ),
    C(
        f"{_P2A}.filter_energy_correlation",
        "noise_std",
        "zero",
        lambda: p2a.filter_energy_correlation(
            torch.zeros(5, 4), torch.ones(4, 3), torch.ones(3), 0.0
        ),
    ),
    C(
        f"{_P2A}.alternating_chain",
        "record",
        "negative",
        lambda: p2a.alternating_chain(
            torch.ones(4, 3), torch.ones(3), 1.0, torch.zeros(2, 4), (-1,)
        ),
    ),
    C(
        f"{_P2A}.alternating_chain",
        "sweeps",
        "zero",
        lambda: p2a.alternating_chain(
            torch.ones(4, 3), torch.ones(3), 1.0, torch.zeros(2, 4), (1,), sweeps=0
        ),
    ),
    C(
        f"{_P2A}.chain_replicate",
        "B",
        "too small",
        lambda: p2a.chain_replicate(
            torch.ones(144, 3), torch.ones(3), 1.0, 0, 1, (0,), (0.0,)
        ),
    ),
    C(
        f"{_P2A}.plot_eps_energy",
        "gap",
        "NaN",
        lambda: p2a.plot_eps_energy([NAN], [0.0], [0.0], [0.0], [0.0]),
    ),
    C(
        f"{_P2A}.plot_alternating_chain",
        "steps",
        "NaN",
        lambda: p2a.plot_alternating_chain(
            [NAN], [0.0], [0.0], [0.0], [0.0], (0, 0), (0, 0), (0, 0)
        ),
    ),
    C(
        f"{_P2A}.loop_mixes",
        "B",
        "zero",
        lambda: p2a.loop_mixes(torch.ones(144, 3), torch.ones(3), 1.0, 0, 0, (0.0,)),
    ),
]

# the book's part-1 baselines, probes and figure (lvmkit.book.part1_*)
_P1 = "book.part1_baselines"
CASES += [
    C(f"{_P1}.map_ids", "maps", "wrong shape", lambda: p1b.map_ids(np.zeros((2, 5)))),
    C(
        f"{_P1}.flat_table_log_prob",
        "pseudo_count",
        "zero",
        lambda: p1b.flat_table_log_prob(
            np.zeros((1, 256)), np.zeros((1, 256)), pseudo_count=0.0
        ),
    ),
    C(
        f"{_P1}.fit_tied_hierarchy",
        "pseudo_count",
        "zero",
        lambda: p1b.fit_tied_hierarchy(np.zeros((1, 256)), pseudo_count=0.0),
    ),
    C(
        f"{_P1}.fit_mixture_weighted",
        "generator",
        "an int",
        lambda: p1b.fit_mixture_weighted(
            np.zeros((2, 3), int), [0.5, 0.5], 2, 2, generator=0
        ),
    ),
    C(
        f"{_P1}.exact_kl",
        "log_p",
        "mismatched shapes",
        lambda: p1b.exact_kl([0.0], [0.0, 1.0]),
    ),
    C(
        f"{_P1}.chance_level",
        "target",
        "unknown variable",
        lambda: p1b.chance_level(WORLD, "height"),
    ),
    C(
        f"{_P1}.select_on_validation",
        "test",
        "mismatched shapes",
        lambda: p1b.select_on_validation(np.zeros((2, 3)), np.zeros((2, 4))),
    ),
    C(
        "book.part1_probes.posterior_marginals",
        "images",
        "wrong shape",
        lambda: p1p.posterior_marginals(WORLD, np.zeros((2, 5))),
    ),
    C(
        "book.part1_probes.probe_replicate",
        "generator",
        "an int",
        lambda: p1p.probe_replicate(WORLD, None, None, generator=0),
    ),
    C(
        "book.part1_figures.plot_gap_curves",
        "gaps",
        "one replicate",
        lambda: p1f.plot_gap_curves([1, 2], {"a": np.zeros((2, 1))}),
    ),
]
EXEMPT[f"{_P1}.support_index"] = "takes no arguments"


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.function}-{c.argument}-{c.invalid}" for c in CASES]
)
@pytest.mark.filterwarnings("ignore::UserWarning")  # Lightning may warn before refusing
def test_invalid_input_is_refused_with_a_message_naming_the_argument(case):
    with pytest.raises((ValueError, TypeError)) as err:
        case.call()
    message = str(err.value)
    assert re.search(rf"(?<![\w.]){re.escape(case.argument)}(?!\w)", message), (
        f"message does not name {case.argument!r}: {message}"
    )
    RESULTS.append((case, f"{type(err.value).__name__}: {message}"))
    import matplotlib.pyplot as plt

    plt.close("all")


def _public_modules():
    """Every lvmkit module whose names its package's front door does not re-export."""
    out = []
    for info in pkgutil.walk_packages(lvmkit.__path__, "lvmkit."):
        module = importlib.import_module(info.name)
        parent = importlib.import_module(info.name.rsplit(".", 1)[0])
        if parent is not lvmkit and all(
            getattr(parent, n, None) is getattr(module, n) for n in module.__all__
        ):
            continue  # re-exported by the front door: listed under the package's name
        out.append((info.name.removeprefix("lvmkit."), module))
    return out


def public_callables():
    """(module.name, object) for every public function or class of every lvmkit module."""
    out = []
    for mod_name, module in _public_modules():
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, tuple):
                continue  # NamedTuple results: built by lvmkit, not from user input
            if callable(obj):  # functions, classes, lru_cache-wrapped functions
                out.append((f"{mod_name}.{name}", obj))
    return out


def test_every_public_entry_point_has_a_case():
    covered = {c.function for c in CASES}
    missing = [
        name for name, _ in public_callables() if name not in covered | set(EXEMPT)
    ]
    assert not missing, f"public entry points without a validation case: {missing}"
    stale = (covered | set(EXEMPT)) - {name for name, _ in public_callables()}
    assert not stale, f"cases for names that are not public: {sorted(stale)}"


def test_valid_inputs_still_pass_the_checkers():
    """The checkers never alter a valid float tensor (no copy, same dtype)."""
    t = torch.zeros(3, 2, dtype=torch.float32)
    assert validation.as_float_tensor("t", t, shape=("n", 2)) is t
    assert validation.as_float_array("a", [[1, 2]], shape=(1, 2)).dtype == np.float64
    assert validation.check_probability("p", 0.0) == 0.0
    assert validation.check_int("n", 3.0, 1) == 3
    assert isinstance(Independent(Normal(torch.zeros(2), 1.0), 1), Independent)
