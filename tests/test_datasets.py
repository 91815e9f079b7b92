"""The part-3 data sets: fixed splits, binary pixels, factors that match the images."""

import pytest
import torch
from stats import assert_in_stderr, failure_rate

from lvmkit.datasets import (
    SHAPE_FACTORS,
    load_digits_binary,
    load_shapes_split,
    make_shapes,
    render_shapes,
)


def test_digits_split_is_fixed_binary_and_stratified():
    a, b = load_digits_binary(), load_digits_binary()
    assert (
        a.x_train.shape == (1257, 64)
        and a.x_test.shape == (540, 64)
        and a.shape == (8, 8)
    )
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert set(a.x_train.unique().tolist()) == {0.0, 1.0}
    counts = torch.bincount(a.y_test, minlength=10)
    assert counts.min() >= 50 and counts.max() <= 56
    grey = load_digits_binary(binarize=False)
    assert (
        grey.x_train.min() >= 0
        and grey.x_train.max() <= 1
        and len(grey.x_train.unique()) == 17
    )
    with pytest.raises(ValueError, match="test_size"):
        load_digits_binary(test_size=1.5)


@failure_rate(1e-4, "z test of the category frequency (Bernoulli(1/2)) over 400 draws")
def test_shapes_factors_explain_the_images():
    s = make_shapes(400, generator=torch.Generator().manual_seed(0))
    assert s.images.shape == (400, 144) and s.factors.shape == (400, len(SHAPE_FACTORS))
    cat, x, _, scale = s.factors.T
    assert set(cat.tolist()) == {0.0, 1.0}
    assert_in_stderr(cat.mean(), 0.5, (0.25 / len(cat)) ** 0.5, 1e-4)
    assert ((scale >= 2) & (scale <= 4)).all()
    assert ((x - scale >= -1e-6) & (x + scale <= 11 + 1e-6)).all()
    # the image's centre of mass tracks the position factor
    grid = torch.arange(12.0)
    mass = s.images.view(-1, 12, 12)
    cx = (mass.sum(1) * grid).sum(1) / mass.sum((1, 2))
    assert torch.corrcoef(torch.stack([cx, x]))[0, 1] > 0.9
    # squares fill more of their bounding box than plus signs of the same scale
    p_sq = render_shapes(
        torch.tensor(0.0), torch.tensor(5.5), torch.tensor(5.5), torch.tensor(3.0)
    )
    p_pl = render_shapes(
        torch.tensor(1.0), torch.tensor(5.5), torch.tensor(5.5), torch.tensor(3.0)
    )
    assert p_sq.sum() > 1.5 * p_pl.sum()
    assert ((p_sq >= 0.01 - 1e-7) & (p_sq <= 0.99 + 1e-7)).all()


def test_shapes_split_is_reproducible():
    (a, fa, _), (b, fb, _) = load_shapes_split(100, 20), load_shapes_split(100, 20)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(fa, fb)
    assert torch.equal(a.y_train, fa[:, 0].long())
    with pytest.raises(ValueError, match="positive"):
        make_shapes(0, generator=torch.Generator())
