"""Tests of the discrete models M, the amortised Q and the categorical mixture."""

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, log_expit
from stats import bonferroni, failure_rate, z_threshold

from lvmkit.mixtures import (
    AmortisedEncoder,
    BinaryFactorModel,
    CategoricalMixture,
    binary_configs,
)


def small_model(k=3, p=6, seed=0):
    rng = np.random.default_rng(seed)
    return BinaryFactorModel(
        rng.uniform(0.2, 0.7, k),
        2 * rng.standard_normal((p, k)),
        rng.standard_normal(p),
    )


def test_binary_configs():
    z = binary_configs(3)
    assert z.shape == (8, 3) and len({tuple(r) for r in z}) == 8
    assert np.array_equal(z[5], [1, 0, 1])


def test_marginal_and_posterior_against_brute_force():
    model = small_model()
    x = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float)
    for xi, fast, post in zip(
        x, model.log_marginal(x), model.posterior(x), strict=True
    ):
        joint = []
        for z in itertools.product([0, 1], repeat=3):
            z = np.array(z)
            prior = np.prod(stats.bernoulli.pmf(z, model.prior_probs))
            lik = np.prod(
                stats.bernoulli.pmf(xi, expit(model.weights @ z + model.bias))
            )
            joint.append(prior * lik)
        joint = np.array(joint)  # itertools order: first latent is the slowest bit
        order = [int("".join(str(int(b)) for b in z), 2) for z in binary_configs(3)]
        assert fast == pytest.approx(np.log(joint.sum()), rel=1e-12)
        assert np.allclose(post, (joint / joint.sum())[order], atol=1e-12)


def test_probabilities_sum_to_one_over_all_images():
    model = small_model(k=2, p=5)
    images = binary_configs(5)
    assert np.exp(model.log_marginal(images)).sum() == pytest.approx(1.0, abs=1e-12)


@failure_rate(
    1e-3, "z test per latent state (sd <= sqrt(max prior / n)), Bonferroni over states"
)
def test_bayes_loop_closes_on_the_models_own_samples():
    """Average posterior over n = 20000 own samples vs the prior."""
    model = small_model()
    _, x = model.sample(20000, generator=np.random.default_rng(1))
    avg = model.posterior(x).mean(0)
    prior = np.exp(model.log_prior_states())
    assert prior.sum() == pytest.approx(1.0)
    z = z_threshold(bonferroni(1e-3, len(prior)))
    assert np.abs(avg - prior).max() < z * np.sqrt(prior.max() / 20000)


def test_em_fits_data_from_the_family():
    truth = BinaryFactorModel(
        np.array([0.3, 0.5]),
        np.c_[np.r_[np.full(8, 4.0), np.zeros(8)], np.r_[np.zeros(8), np.full(8, 4.0)]],
        np.full(16, -2.0),
    )
    _, train = truth.sample(1500, generator=np.random.default_rng(2))
    _, test = truth.sample(1000, generator=np.random.default_rng(3))
    fitted, trace = BinaryFactorModel.fit(
        train, 2, generator=np.random.default_rng(4), n_iter=30, l2=0.1
    )
    assert trace[-1] > trace[0] + 1.0
    assert fitted.log_marginal(test).mean() == pytest.approx(
        truth.log_marginal(test).mean(), abs=0.05
    )
    # z_k -> 1 - z_k (with W_k -> -W_k) gives the same model: compare min(pi, 1 - pi)
    folded = np.minimum(fitted.prior_probs, 1 - fitted.prior_probs)
    assert sorted(folded) == pytest.approx([0.3, 0.5], abs=0.05)


def test_elbo_is_a_bound_and_tight_for_the_exact_posterior():
    model = BinaryFactorModel(
        np.array([0.3]), np.linspace(-2, 2, 6)[:, None], np.linspace(1, -1, 6)
    )
    w, c = model.weights[:, 0], model.bias
    # with one latent the exact posterior is logistic-linear in the image
    v = (log_expit(w + c) - log_expit(c)) - (log_expit(-w - c) - log_expit(-c))
    d = np.log(0.3 / 0.7) + np.sum(log_expit(-w - c) - log_expit(-c))
    exact = AmortisedEncoder(v[None], np.array([d]))
    images = binary_configs(6)
    assert np.allclose(
        exact.elbo(model, images), model.log_marginal(images), atol=1e-10
    )
    worse = AmortisedEncoder(np.zeros((1, 6)), np.zeros(1))
    assert np.all(worse.elbo(model, images) < model.log_marginal(images) + 1e-12)


def test_sleep_phase_encoder_is_close_on_the_models_samples():
    model = small_model(k=3, p=12, seed=5)
    encoder = AmortisedEncoder.fit_sleep(
        model, 3000, generator=np.random.default_rng(6)
    )
    _, x = model.sample(500, generator=np.random.default_rng(7))
    gap = model.log_marginal(x) - encoder.elbo(model, x)
    assert np.all(gap > -1e-10) and gap.mean() < 0.5
    q = encoder.probs(x)
    assert q.shape == (500, 3) and np.all((q > 0) & (q < 1))


def test_categorical_mixture_normalised_and_fits():
    rng = np.random.default_rng(8)
    truth = CategoricalMixture(
        np.array([0.4, 0.6]),
        np.array([[[0.9, 0.05, 0.05]] * 4, [[0.05, 0.05, 0.9]] * 4]),
    )
    all_x = np.array(list(itertools.product(range(3), repeat=4)))
    assert np.exp(truth.log_prob(all_x)).sum() == pytest.approx(1.0, abs=1e-12)
    brute = np.log(0.4 * 0.9**4 + 0.6 * 0.05**4)
    assert truth.log_prob(np.zeros((1, 4)))[0] == pytest.approx(brute, rel=1e-12)
    train, test = truth.sample(3000, generator=rng), truth.sample(2000, generator=rng)
    fitted = CategoricalMixture.fit(train, 2, 3, generator=rng, pseudo_count=0.01)
    assert fitted.log_prob(test).mean() == pytest.approx(
        truth.log_prob(test).mean(), abs=0.03
    )
    assert fitted.n_parameters == 1 + 2 * 4 * 2


def test_validation():
    with pytest.raises(ValueError, match="inside"):
        BinaryFactorModel(np.array([0.0, 0.5]), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="expected"):
        BinaryFactorModel(np.array([0.5, 0.5]), np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        BinaryFactorModel(np.array([0.5]), np.full((4, 1), np.nan), np.zeros(4))
    model = small_model()
    with pytest.raises(ValueError, match="binary"):
        model.log_marginal(np.full((1, 6), 0.5))
    with pytest.raises(ValueError, match="shape"):
        model.log_marginal(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="generator"):
        model.sample(3, generator=None)
    with pytest.raises(ValueError, match="sum to 1"):
        CategoricalMixture(np.array([0.5, 0.4]), np.full((2, 3, 2), 0.5))
    with pytest.raises(ValueError, match="integers"):
        CategoricalMixture(np.array([1.0]), np.full((1, 3, 2), 0.5)).log_prob(
            np.full((1, 3), 2)
        )
    with pytest.raises(ValueError, match="pseudo_count"):
        CategoricalMixture.fit(
            np.zeros((3, 2)), 2, 2, generator=np.random.default_rng(0), pseudo_count=0
        )


def test_cached_models_reproduce_their_stored_metrics():
    from lvmkit.artifacts import load_npz
    from lvmkit.treeworld import TreeWorld

    cache = load_npz("treeworld.npz")
    model = BinaryFactorModel(
        cache["m_prior_probs"], cache["m_weights"], cache["m_bias"]
    )
    world = TreeWorld.default()
    test = world.sample(1000, generator=np.random.default_rng(2)).images
    assert model.log_marginal(test).mean() == pytest.approx(
        float(cache["m_test_ll"]), rel=1e-10
    )
    maps = world.sample(3000, generator=np.random.default_rng(100)).maps[:300]
    test_maps = world.sample(2000, generator=np.random.default_rng(99)).maps
    refit = TreeWorld.fit(maps).log_prob_leaves(test_maps).mean()
    assert refit == pytest.approx(cache["curve_hier"][3, 0], rel=1e-10)
