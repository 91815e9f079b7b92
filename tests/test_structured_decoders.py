"""Structured shapes decoders (lvmkit.structured_decoders): exact geometric oracles."""

import math

import pytest
import torch

from lvmkit.datasets import render_shapes
from lvmkit.structured_decoders import (
    DiskRenderDecoder,
    TemplateDecoder,
    build_structured_vae,
    render_square_disk,
)
from lvmkit.vae import MADE, VAE


def factors(c, x, y, s):
    return [torch.tensor([v], dtype=torch.float64) for v in (c, x, y, s)]


def test_square_disk_draws_the_data_square_and_a_disk():
    sq = render_square_disk(*factors(0.0, 5.5, 5.5, 3.0))
    assert torch.allclose(sq, render_shapes(*factors(0.0, 5.5, 5.5, 3.0)))
    disk = render_square_disk(*factors(1.0, 5.5, 5.5, 3.0), sharpness=50.0).reshape(
        12, 12
    )
    assert disk[5, 5] > 0.98 and disk[4, 4] > 0.98  # centre, and radius 2.1 < 3
    assert disk[3, 8] < 0.02 and disk[8, 8] < 0.02  # corners of the square: radius 3.54
    plus = render_shapes(*factors(1.0, 5.5, 5.5, 3.0), sharpness=50.0).reshape(12, 12)
    assert (disk - plus).abs().max() > 0.9  # no setting makes a plus sign


def test_disk_render_decoder_is_a_normalised_bernoulli_decoder():
    dec = DiskRenderDecoder(12)
    z = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(0))
    p = dec.probs(z)
    assert p.shape == (3, 5, 144) and bool(((p > 0) & (p < 1)).all())
    x = torch.bernoulli(
        torch.full((5, 144), 0.5), generator=torch.Generator().manual_seed(1)
    )
    expected = (x * p.log() + (1 - x) * (1 - p).log()).sum(-1)
    assert torch.allclose(dec.log_prob(x, z), expected)
    assert sum(t.numel() for t in dec.parameters()) == 9


def indicator_template(dec: TemplateDecoder, half: float = 0.5) -> None:
    """Both templates: logit +30 inside the square |u|, |v| < half, -30 outside; no flips."""
    side = dec.templates.shape[-1]
    u = (2 * torch.arange(side) + 1) / side - 1
    inside = (u.abs()[None, :] < half) & (u.abs()[:, None] < half)
    with torch.no_grad():
        dec.templates.copy_(torch.where(inside, 30.0, -30.0).expand(2, -1, -1))
        dec.noise_logit.fill_(-40.0)
        dec.gain.zero_()


def set_factors(dec: TemplateDecoder, x: float, y: float, s: float) -> None:
    with torch.no_grad():
        dec.offset.copy_(torch.tensor([0.0, x, y, math.log(math.expm1(s - 0.5))]))


def test_template_decoder_places_a_square_template_exactly():
    """An indicator template of half-width 1/2 at scale s draws the pixels within s."""
    dec = TemplateDecoder(12, 24)
    indicator_template(dec)
    set_factors(dec, 5.5, 5.5, 3.0)
    with torch.no_grad():
        img = dec.probs(torch.zeros(1, 4))[0].reshape(12, 12)
    grid = torch.arange(12.0)
    want = ((grid - 5.5).abs()[None, :] < 3) & ((grid - 5.5).abs()[:, None] < 3)
    assert torch.allclose(img, want.float(), atol=1e-6)


def test_template_decoder_translates_by_whole_pixels_exactly():
    dec = TemplateDecoder(12, 24)
    indicator_template(dec)
    set_factors(dec, 5.5, 4.5, 2.0)
    with torch.no_grad():
        a = dec.probs(torch.zeros(1, 4))[0].reshape(12, 12)
        set_factors(dec, 6.5, 4.5, 2.0)  # one pixel to the right
        b = dec.probs(torch.zeros(1, 4))[0].reshape(12, 12)
    assert torch.allclose(torch.roll(a, 1, dims=1), b, atol=1e-6)
    assert float(a.sum()) == pytest.approx(
        16.0, abs=1e-4
    )  # 4 x 4 pixels within 2 of the centre


def test_template_decoder_protocol_and_gradients():
    dec = TemplateDecoder(12, generator=torch.Generator().manual_seed(0))
    z = torch.randn(
        2, 3, 4, generator=torch.Generator().manual_seed(1), requires_grad=True
    )
    x = torch.zeros(3, 144)
    lp = dec.log_prob(x, z)
    assert lp.shape == (2, 3) and bool(torch.isfinite(lp).all())
    lp.sum().backward()
    assert dec.templates.grad.abs().sum() > 0 and z.grad[..., 1:3].abs().sum() > 0
    s = dec.sample(torch.zeros(4, 4), generator=torch.Generator().manual_seed(2))
    assert s.shape == (4, 144) and set(s.unique().tolist()) <= {0.0, 1.0}


def test_build_structured_vae():
    vae = build_structured_vae(
        "template", 144, 4, generator=torch.Generator().manual_seed(0)
    )
    assert isinstance(vae, VAE) and isinstance(vae.decoder, TemplateDecoder)
    assert isinstance(
        build_structured_vae("render_disk", 144, 4).decoder, DiskRenderDecoder
    )
    assert isinstance(build_structured_vae("made", 144, 0).decoder, MADE)
    x = torch.zeros(5, 144)
    assert vae.terms(x).elbo.shape == (5,)
