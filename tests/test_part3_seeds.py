"""The seeded part-3 digits cache: reloading reproduces the stored metrics; it is complete."""

import pytest
import torch

from lvmkit.artifacts import load_weights
from lvmkit.book import part3_seeds as sweep
from lvmkit.book.score_table import evaluate
from lvmkit.datasets import load_digits_binary
from lvmkit.vae import iw_log_likelihood

CHECKED = [("fact", 0), ("made", 1), ("warm", 2), ("made_w16", 3)]


@pytest.mark.parametrize("name,seed", CHECKED)
def test_cached_seeded_weights_reproduce_stored_metrics(name, seed):
    vae, rec = sweep.load_seeded(name, seed)
    split = load_digits_binary()
    with torch.no_grad():
        m = evaluate(
            vae,
            *split[:4],
            n_iw=50,
            n_mi_samples=5,
            generator=torch.Generator().manual_seed(0),
        )
        ll = iw_log_likelihood(
            vae, split.x_test, 50, generator=torch.Generator().manual_seed(1)
        )
    for key in ("test_ll", "train_ll", "elbo", "rate", "mi", "kl_agg"):
        assert m[key] == pytest.approx(rec["metrics"][key], rel=1e-4, abs=1e-3), key
    assert abs(m["linear_probe"] - rec["metrics"]["linear_probe"]) <= 0.01
    assert torch.allclose(ll, torch.tensor(rec["test_ll_per_image"]), atol=1e-3)


def test_every_model_of_the_sweep_is_cached_at_its_seeds():
    records = sweep.seeded_records()
    weights = load_weights("part3_digits_seeds.pt")
    assert set(records) == set(weights)
    for name, spec in sweep.SWEEP.items():
        assert sweep.seeds_of(records, name) == sorted(spec[-1]), name
    for rec in records.values():
        assert rec["best_epoch"] <= rec["epochs_run"] <= sweep.MAX_EPOCHS
        assert len(rec["test_ll_per_image"]) == 540
