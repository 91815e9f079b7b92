"""Tests of the tree world: exact oracles by brute force, samplers, validation."""

import numpy as np
import pytest
from scipy import stats

from lvmkit.treeworld import (
    HEIGHT,
    LEAF,
    SKY,
    WIDTH,
    WOOD,
    FlatFancyModel,
    TextureModel,
    TreeWorld,
    enumerate_configs,
    largest_part_fraction,
    layer_maps,
    render,
)
from lvmkit.treeworld.render import GRID

WORLD = TreeWorld.default()


def brute_log_prior(world, cfg):
    s, xi, hi, g, *c = cfg
    p = (
        world.species_probs[s]
        * world.trunk_probs[s, 3 * xi + hi]
        * world.branch_probs[s, hi, g]
    )
    return np.log(p * np.prod([world.leaf_probs[s, k] for k in c]))


def brute_log_lik(world, image, m):
    rho = world.pixel_on[m]
    return float(np.sum(np.log(np.where(image == 1, rho, 1 - rho))))


def test_enumeration_is_the_grid_and_renders():
    configs, maps = enumerate_configs()
    assert configs.shape == (int(np.prod(GRID)), 7) and maps.shape == (
        len(configs),
        HEIGHT * WIDTH,
    )
    i = 1234
    assert np.array_equal(
        maps[i], render(*configs[i, :4], tuple(configs[i, 4:])).ravel()
    )
    assert set(np.unique(maps)) == {SKY, WOOD, LEAF}
    trunk, wood, full = layer_maps(configs[i])
    assert np.array_equal(full, maps[i]) and np.all(wood[trunk == WOOD] == WOOD)


def test_exact_marginal_against_brute_force_enumeration():
    configs, maps = enumerate_configs()
    images = WORLD.sample(3, generator=np.random.default_rng(0)).images
    logp = np.array([brute_log_prior(WORLD, c) for c in configs])
    for image, fast in zip(images, WORLD.log_marginal(images), strict=True):
        terms = logp + np.array([brute_log_lik(WORLD, image, m) for m in maps])
        brute = np.logaddexp.reduce(terms)
        assert fast == pytest.approx(brute, rel=1e-12)


def test_fancy_prior_against_brute_force_and_flat_model_agrees():
    configs, maps = enumerate_configs()
    sample = WORLD.sample(4, generator=np.random.default_rng(1))
    logp = np.array([brute_log_prior(WORLD, c) for c in configs])
    for m, fast in zip(sample.maps, WORLD.log_prob_leaves(sample.maps), strict=True):
        same = np.all(maps == m, axis=1)
        assert fast == pytest.approx(np.logaddexp.reduce(logp[same]), rel=1e-12)
    table_maps, table_logp = WORLD.leaf_table()
    assert np.exp(table_logp).sum() == pytest.approx(1.0, abs=1e-12)
    assert len(np.unique(table_maps, axis=0)) == len(table_maps)
    flat = FlatFancyModel.from_world(WORLD)
    assert np.allclose(
        flat.log_marginal(sample.images), WORLD.log_marginal(sample.images), rtol=1e-12
    )
    outside = np.full((1, HEIGHT * WIDTH), LEAF)
    assert WORLD.log_prob_leaves(outside)[0] == -np.inf


def test_posterior_is_normalised_and_matches_brute_force():
    image = WORLD.sample(1, generator=np.random.default_rng(2)).images
    post = WORLD.posterior(image)
    for v in post.values():
        assert v.shape[0] == 1 and v.sum() == pytest.approx(1.0, abs=1e-12)
    lj = WORLD.log_joint_images(image)[0]
    configs, _ = enumerate_configs()
    brute = [
        np.exp(np.logaddexp.reduce(lj[configs[:, 0] == s]) - np.logaddexp.reduce(lj))
        for s in range(3)
    ]
    assert np.allclose(post["species"][0], brute, atol=1e-12)


def test_sampler_matches_exact_marginals():
    """Chi-square and z tests at fixed seed; each would fail with prob. < 1e-3 if correct."""
    n = 20000
    sample = WORLD.sample(n, generator=np.random.default_rng(3))
    counts = np.bincount(sample.configs[:, 0], minlength=3)
    assert stats.chisquare(counts, n * WORLD.species_probs).pvalue > 1e-3
    on = WORLD.leaf_marginals() @ WORLD.pixel_on  # exact P(Im_p = 1)
    z = (sample.images.mean(0) - on) / np.sqrt(on * (1 - on) / n)
    assert np.abs(z).max() < 5.0
    leaf = WORLD.leaf_marginals()[:, LEAF]
    z = (np.mean(sample.maps == LEAF, 0) - leaf) / np.sqrt(
        np.maximum(leaf * (1 - leaf), 1e-12) / n
    )
    assert np.abs(z).max() < 5.0


def test_species_conditioning():
    sample = WORLD.sample(50, generator=np.random.default_rng(4), species="pine")
    assert np.all(sample.configs[:, 0] == 2)
    _maps, logp = WORLD.leaf_table(species=0)
    assert np.exp(logp).sum() == pytest.approx(1.0)


def test_texture_model_matches_per_location_marginals():
    texture = TextureModel.from_world(WORLD, species=0)
    assert np.allclose(texture.marginals, WORLD.leaf_marginals(0))
    maps, images = texture.sample(20000, generator=np.random.default_rng(5))
    freq = np.stack([(maps == k).mean(0) for k in (SKY, WOOD, LEAF)], -1)
    assert np.abs(freq - texture.marginals).max() < 0.02
    x = images[:2]
    p = texture.marginals
    brute = [
        np.sum(
            np.log(np.where(xi == 1, p @ texture.pixel_on, p @ (1 - texture.pixel_on)))
        )
        for xi in x
    ]
    assert np.allclose(texture.log_marginal(x), brute, rtol=1e-12)
    fitted = TextureModel.fit(maps, pseudo_count=1e-9)
    assert np.allclose(fitted.marginals, freq, atol=1e-9)


def test_em_recovers_the_tables():
    maps = WORLD.sample(20000, generator=np.random.default_rng(6)).maps
    fitted = TreeWorld.fit(maps, pseudo_count=0.01)
    assert np.abs(fitted.species_probs - WORLD.species_probs).max() < 0.02
    assert np.abs(fitted.leaf_probs - WORLD.leaf_probs).max() < 0.02
    assert np.abs(fitted.branch_probs - WORLD.branch_probs).max() < 0.06
    test = WORLD.sample(500, generator=np.random.default_rng(7)).maps
    assert fitted.log_prob_leaves(test).mean() == pytest.approx(
        WORLD.log_prob_leaves(test).mean(), abs=0.05
    )


def test_largest_part_fraction():
    m = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    m[0, 0:3] = LEAF
    m[10, 10] = WOOD
    assert largest_part_fraction(m.ravel()[None])[0] == pytest.approx(0.75)
    assert (
        largest_part_fraction(
            WORLD.sample(20, generator=np.random.default_rng(8)).maps
        ).min()
        == 1.0
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"species_probs": [0.5, 0.5]}, "species_probs must have shape"),
        ({"species_probs": [0.5, 0.6, -0.1]}, "non-negative"),
        ({"species_probs": [0.5, 0.2, 0.2]}, "sum to 1"),
        ({"species_probs": [np.nan, 0.5, 0.5]}, "finite"),
        ({"trunk_probs": np.ones((3, 17)) / 17}, "trunk_probs must have shape"),
        ({"pixel_on": (0.0, 0.9, 0.8)}, "pixel_on"),
        ({"pixel_on": (0.1, 0.9)}, "pixel_on"),
    ],
)
def test_bad_parameters_are_rejected(kwargs, match):
    params = {
        f: getattr(WORLD, f)
        for f in (
            "species_probs",
            "trunk_probs",
            "branch_probs",
            "leaf_probs",
            "pixel_on",
        )
    }
    with pytest.raises(ValueError, match=match):
        TreeWorld(**{**params, **kwargs})


def test_bad_inputs_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="binary"):
        WORLD.log_marginal(np.full((1, 256), 0.5))
    with pytest.raises(ValueError, match="shape"):
        WORLD.log_marginal(np.zeros((1, 100)))
    with pytest.raises(ValueError, match="values 0"):
        WORLD.log_prob_leaves(np.full((1, 256), 3))
    with pytest.raises(ValueError, match="species"):
        WORLD.sample(2, generator=rng, species="birch")
    with pytest.raises(ValueError, match="positive integer"):
        WORLD.sample(0, generator=rng)
    with pytest.raises(ValueError, match="generator"):
        WORLD.sample(2, generator=None)
    with pytest.raises(ValueError, match="support"):
        TreeWorld.fit(np.full((1, 256), LEAF))
    with pytest.raises(ValueError, match="normalised"):
        FlatFancyModel(np.zeros((2, 256)), np.log([0.5, 0.6]))
