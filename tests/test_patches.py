"""Natural patches: deterministic, whitened, and the cache's provenance matches."""

import numpy as np
import pytest
import torch

from lvmkit.artifacts import load_npz
from lvmkit.patches import IMAGES, load_image, natural_patches, whiten_image, zca_whiten


def test_patches_are_deterministic_and_match_the_dictionary_cache():
    a = natural_patches(400, 12, seed=0)
    b = natural_patches(400, 12, seed=0)
    assert torch.equal(a.patches, b.patches) and a.patches.shape == (400, 144)
    assert not torch.allclose(natural_patches(400, 12, seed=1).patches, a.patches)
    fit = load_npz("dictionary.npz")
    train = natural_patches(40_000, 12, seed=0)
    # floating-point results: within 1e-12 (two BLAS kernels differ by 5e-15), not bytes
    np.testing.assert_allclose(train.probe(), fit["train_probe"], rtol=0, atol=1e-12)
    assert len(set(train.sources[np.linspace(0, 39_999, 16).astype(int)])) == len(
        train.images
    )


def test_whitening_flattens_the_spectrum_and_patches_are_heavy_tailed():
    img = load_image("camera")
    w = whiten_image(img)
    assert (
        w.shape == img.shape and abs(w.mean()) < 1e-9 and w.std() == pytest.approx(1.0)
    )
    spec = np.abs(np.fft.fft2(img - img.mean())) ** 2
    wspec = np.abs(np.fft.fft2(w)) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(512), np.fft.fftfreq(512)))
    lo, mid = (f > 0.01) & (f < 0.03), (f > 0.1) & (f < 0.15)
    assert spec[lo].mean() / spec[mid].mean() > 30  # natural image: steep spectrum
    assert wspec[lo].mean() / wspec[mid].mean() < 3  # whitened: roughly flat
    x = natural_patches(2000, 8, seed=0).patches.numpy().ravel()
    assert (
        (x - x.mean()) ** 4
    ).mean() / x.var() ** 2 > 4  # kurtosis above Gaussian's 3


def test_zca_whitening_gives_identity_covariance():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((3000, 6)) @ rng.standard_normal((6, 6)))
    z = zca_whiten(x, eps=1e-12)
    cov = (z.T @ z / len(z)).numpy()
    np.testing.assert_allclose(cov, np.eye(6), atol=1e-6)


def test_validation():
    with pytest.raises(ValueError):
        load_image("not-a-photo")
    with pytest.raises(ValueError):
        natural_patches(0)
    assert len(IMAGES) >= 5
