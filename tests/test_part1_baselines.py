"""Part 1's baselines (lvmkit.book.part1_*): oracles, and the cache they wrote."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lvmkit.artifacts import load_npz
from lvmkit.book.part1_baselines import (
    chance_level,
    exact_kl,
    fit_mixture_weighted,
    fit_tied_hierarchy,
    flat_table_log_prob,
    map_ids,
    select_on_validation,
    support_index,
)
from lvmkit.book.part1_figures import plot_gap_curves
from lvmkit.book.part1_probes import posterior_marginals
from lvmkit.mixtures import BinaryFactorModel, CategoricalMixture
from lvmkit.treeworld import TreeWorld

WORLD = TreeWorld.default()
UNIQ = support_index()[0]
LOG_P = WORLD.log_prob_leaves(UNIQ)


def test_flat_table_is_normalised_over_the_support_and_counts():
    train = WORLD.sample(50, generator=np.random.default_rng(0)).maps
    logp = flat_table_log_prob(train, UNIQ, pseudo_count=0.5)
    assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-12)
    counts = np.bincount(map_ids(train), minlength=len(UNIQ))
    assert np.allclose(np.exp(logp), (counts + 0.5) / (50 + 0.5 * len(UNIQ)))
    with pytest.raises(ValueError, match="support"):
        map_ids(np.full((1, 256), 2))
    with pytest.raises(ValueError, match="pseudo_count"):
        flat_table_log_prob(train, train, pseudo_count=0)


def test_tied_hierarchy_ties_its_tables_and_is_the_family_optimum():
    weights = np.exp(LOG_P) / np.exp(LOG_P).sum()
    tied = fit_tied_hierarchy(weights=weights, pseudo_count=1e-9, n_iter=2000)
    assert np.allclose(tied.branch_probs, tied.branch_probs[0, 0])
    assert np.allclose(tied.leaf_probs, tied.leaf_probs[0])
    # oracle: the pooled true tables (exact where each map has one configuration)
    h_given_s = WORLD.trunk_probs.reshape(3, 6, 3).sum(1)
    joint_sh = WORLD.species_probs[:, None] * h_given_s
    p_b = np.einsum("sh,shb->b", joint_sh, WORLD.branch_probs)
    p_c = WORLD.species_probs @ WORLD.leaf_probs
    pooled = TreeWorld(
        WORLD.species_probs,
        WORLD.trunk_probs,
        np.broadcast_to(p_b, (3, 3, 4)).copy(),
        np.broadcast_to(p_c, (3, 3)).copy(),
    )
    kl_em = exact_kl(LOG_P, tied.log_prob_leaves(UNIQ))
    kl_oracle = exact_kl(LOG_P, pooled.log_prob_leaves(UNIQ))
    assert kl_oracle - 0.01 < kl_em <= kl_oracle + 1e-7
    assert exact_kl(LOG_P, LOG_P) == 0
    with pytest.raises(ValueError, match="exactly one"):
        fit_tied_hierarchy()


def test_weighted_mixture_em_is_categorical_mixture_em_with_equal_weights():
    x = WORLD.sample(40, generator=np.random.default_rng(1)).maps
    ref = CategoricalMixture.fit(
        x,
        3,
        3,
        generator=np.random.default_rng(2),
        n_iter=30,
        pseudo_count=0.1,
        tol=1e-7,
    )
    got = fit_mixture_weighted(
        x,
        np.full(40, 1 / 40),
        3,
        3,
        generator=np.random.default_rng(2),
        n_iter=30,
        pseudo_count=0.1 / 40,
        tol=1e-7,
    )
    assert np.allclose(got.weights, ref.weights) and np.allclose(got.probs, ref.probs)
    with pytest.raises(ValueError, match="weights"):
        fit_mixture_weighted(x, np.ones(40), 3, 3, generator=np.random.default_rng(0))


def test_chance_levels_against_the_tables():
    assert chance_level(WORLD, "species") == pytest.approx(WORLD.species_probs.max())
    h_given_s = WORLD.trunk_probs.reshape(3, 6, 3).sum(1)
    joint_sh = WORLD.species_probs[:, None] * h_given_s
    expected = np.sum(joint_sh * WORLD.branch_probs.max(-1))
    assert chance_level(WORLD, "branches", ("species", "trunk_h")) == pytest.approx(
        expected
    )
    with pytest.raises(ValueError, match="target and given"):
        chance_level(WORLD, "colour")


def test_select_on_validation():
    test = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    val = np.array([[0.0, 9.0, 1.0], [7.0, 0.0, 0.0]])
    assert select_on_validation(test, val).tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="shape"):
        select_on_validation(test, val[:1])


def test_posterior_marginals_agree_with_the_world():
    images = WORLD.sample(20, generator=np.random.default_rng(3)).images
    ours, ref = posterior_marginals(WORLD, images), WORLD.posterior(images)
    for name in ("species", "trunk_x", "trunk_h", "branches"):
        assert np.allclose(ours[name], ref[name])
    assert all(np.allclose(v.sum(1), 1) for v in ours.values())


def test_plot_gap_curves():
    gaps = {
        "a": np.array([[1.0, 1.2], [0.5, 0.6]]),
        "b": np.array([[3.0, 3.1], [2.0, 2.2]]),
    }
    ax = plot_gap_curves([10, 100], gaps, floors={"a": 0.3})
    assert len(ax.containers) == 2 and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="shape"):
        plot_gap_curves([10, 100, 1000], gaps)
    plt.close("all")


def test_cache_reproduces_the_script():
    """Re-running pieces of scripts/make_part1_replicates.py gives the cached values."""
    cache = load_npz("part1_replicates.npz")
    test = WORLD.sample(2000, generator=np.random.default_rng(99)).maps
    val = WORLD.sample(1000, generator=np.random.default_rng(98)).maps
    maps = WORLD.sample(3000, generator=np.random.default_rng(101)).maps[
        :100
    ]  # replicate 1
    i, r = list(cache["sizes"]).index(100), 1
    got = fit_tied_hierarchy(maps, pseudo_count=1.0).log_prob_leaves(val).mean()
    assert got == pytest.approx(cache["tied_val"][i, r, 1], rel=1e-10)
    got = TreeWorld.fit(maps, pseudo_count=10.0).log_prob_leaves(test).mean()
    assert got == pytest.approx(cache["hier_test"][i, r, 2], rel=1e-10)
    got = flat_table_log_prob(maps, test, pseudo_count=0.1).mean()
    assert got == pytest.approx(cache["table_test"][i, r, 1], rel=1e-10)
    mix = CategoricalMixture.fit(
        maps, 8, 3, generator=np.random.default_rng(r), n_iter=100
    )
    assert mix.log_prob(val).mean() == pytest.approx(
        cache["mixture_val"][i, r, 1], rel=1e-8
    )
    weights = np.exp(LOG_P) / np.exp(LOG_P).sum()
    tied = fit_tied_hierarchy(weights=weights, pseudo_count=1e-9, n_iter=2000)
    assert exact_kl(LOG_P, tied.log_prob_leaves(UNIQ)) == pytest.approx(
        float(cache["tied_pop_kl"]), rel=1e-8
    )
    images = WORLD.sample(1000, generator=np.random.default_rng(2)).images
    for k in range(len(cache["m_test_ll"])):
        m = BinaryFactorModel(
            cache["m_prior_probs"][k], cache["m_weights"][k], cache["m_bias"][k]
        )
        assert m.log_marginal(images).mean() == pytest.approx(
            cache["m_test_ll"][k], rel=1e-10
        )
