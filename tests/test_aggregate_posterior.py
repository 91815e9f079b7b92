"""lvmkit.aggregate_posterior against lvmkit.probes and the scramble's invariance."""

import math

import pytest
import torch

from lvmkit.aggregate_posterior import aggregate_stats
from lvmkit.probes import aggregate_posterior_stats
from lvmkit.scramble import CellScramble, ScrambledModel
from lvmkit.vae import build_vae


def model_and_data():
    torch.manual_seed(0)
    vae = build_vae("bernoulli", 16, 2).eval()
    x = torch.bernoulli(
        torch.full((60, 16), 0.3), generator=torch.Generator().manual_seed(1)
    )
    return vae, x


def test_equals_probes_when_the_mixture_is_the_query_set():
    vae, x = model_and_data()
    a = aggregate_stats(vae, x, x, 3, generator=torch.Generator().manual_seed(2))
    b = aggregate_posterior_stats(vae, x, 3, generator=torch.Generator().manual_seed(2))
    for got, want in zip(a[:6], b, strict=True):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-7)


def test_rate_splits_into_mi_and_kl_and_mi_is_at_most_log_m():
    vae, x = model_and_data()
    s = aggregate_stats(vae, x, x[:10], 2, generator=torch.Generator().manual_seed(3))
    assert s.rate == pytest.approx(
        s.mutual_information + s.kl_aggregate_prior, abs=1e-5
    )
    assert s.mutual_information <= math.log(len(x)) + 1e-6 and s.n_mixture == 60


def test_protocol_path_gives_the_scrambled_model_the_same_numbers():
    """A ScrambledModel has no ``posterior``: the protocol path, and the invariance."""
    vae, x = model_and_data()
    scr = ScrambledModel(
        vae,
        CellScramble.random(vae.prior(), 8, generator=torch.Generator().manual_seed(4)),
    )
    a = aggregate_stats(vae, x, x[:10], 2, generator=torch.Generator().manual_seed(5))
    b = aggregate_stats(scr, x, x[:10], 2, generator=torch.Generator().manual_seed(5))
    for got, want in zip(b[:6], a[:6], strict=True):
        assert got == pytest.approx(want, rel=1e-4, abs=1e-5)
