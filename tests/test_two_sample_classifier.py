"""lvmkit.two_sample: the kNN classifier two-sample test at chance and at power."""

import torch
from stats import failure_rate, z_threshold

from lvmkit.two_sample import classifier_two_sample_test


def bernoulli_images(n, p, seed):
    return torch.bernoulli(
        torch.full((n, 36), p), generator=torch.Generator().manual_seed(seed)
    )


@failure_rate(1e-4, "one-sided z test of the accuracy against 1/2 at z_threshold(1e-4)")
def test_same_distribution_is_at_chance():
    a, b = bernoulli_images(400, 0.3, 0), bernoulli_images(400, 0.3, 1)
    r = classifier_two_sample_test(a, b)
    assert r.n == 800
    # cross-validated kNN accuracy under H0 has mean <= 1/2; its spread is about binomial
    assert r.accuracy < 0.5 + z_threshold(1e-4, two_sided=False) * 0.5 / r.n**0.5
    assert 0 < r.p_value <= 1


def test_different_distributions_are_told_apart():
    a, b = bernoulli_images(400, 0.3, 0), bernoulli_images(400, 0.6, 1)
    r = classifier_two_sample_test(a, b)
    assert r.accuracy > 0.9 and r.p_value < 1e-10 and 0 < r.stderr < 0.02
