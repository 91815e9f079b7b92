"""Lightning training smoke test, and the cached part-3 weights reproduce their metrics."""

import math

import pytest
import torch

from lvmkit.artifacts import load_json, load_weights
from lvmkit.book.cached_models import load_cached
from lvmkit.book.score_table import evaluate
from lvmkit.datasets import load_digits_binary, load_shapes_split
from lvmkit.training import fit
from lvmkit.vae import build_vae

# Lightning 2.6 calls a torch pytree helper that torch 2.13 deprecates; not our code.
LIGHTNING_PYTREE = "ignore:.*isinstance\\(treespec, LeafSpec\\).*"


@pytest.mark.filterwarnings(LIGHTNING_PYTREE)
@pytest.mark.parametrize("decoder,d", [("bernoulli", 2), ("made", 2), ("made", 0)])
def test_fast_dev_run(decoder, d):
    torch.manual_seed(0)
    vae = build_vae(decoder, 64, d, hidden=32)
    x = load_digits_binary().x_train[:64]
    before = [p.clone() for p in vae.parameters()]
    lit = fit(
        vae, x, epochs=1, batch_size=32, fast_dev_run=True, mmd_weight=1.0 if d else 0.0
    )
    assert len(lit.history) == 1 and math.isfinite(lit.history[0])
    assert any(
        not torch.equal(a, b) for a, b in zip(before, vae.parameters(), strict=True)
    )


@pytest.mark.parametrize("progress", [False, True])
def test_fit_is_quiet_unless_progress_is_asked_for(progress, capfd):
    torch.manual_seed(0)
    vae = build_vae("bernoulli", 64, 2, hidden=16)
    x = load_digits_binary().x_train[:64]
    lit = fit(vae, x, epochs=1, batch_size=32, fast_dev_run=True, progress=progress)
    out, err = capfd.readouterr()
    assert (lit.trainer.progress_bar_callback is not None) is progress
    assert ("it/s" in out + err or "Epoch" in out + err) is progress


def test_litvae_attribute_fast_path_keeps_module_semantics():
    """The hook-name shortcut stores what nn.Module would store, and only that name."""
    from lvmkit.training import LitVAE

    lit = LitVAE(build_vae("bernoulli", 4, 2))
    lit._current_fx_name = "training_step"
    assert lit.__dict__["_current_fx_name"] == "training_step"
    lit.extra = torch.nn.Linear(2, 2)  # other names still register submodules
    assert "extra" in lit._modules and "extra" not in lit.__dict__


def test_fit_rejects_bad_input():
    vae = build_vae("bernoulli", 4, 2)
    with pytest.raises(ValueError, match="finite"):
        fit(vae, torch.full((3, 4), float("nan")))
    with pytest.raises(ValueError, match="decoder"):
        build_vae("pixelcnn", 4, 2)


CACHED = [
    ("digits", "digits_bernoulli"),
    ("digits", "digits_made_warm"),
    ("shapes", "shapes_render"),
]


@pytest.mark.parametrize("data,name", CACHED)
def test_cached_weights_reproduce_stored_metrics(data, name):
    """Loading with weights_only=True and re-evaluating gives the numbers saved at training."""
    vae, rec = load_cached(name, data)
    split = load_digits_binary() if data == "digits" else load_shapes_split()[0]
    with torch.no_grad():
        m = evaluate(
            vae,
            *split[:4],
            n_iw=50,
            n_mi_samples=5,
            generator=torch.Generator().manual_seed(0),
        )
    for key in ("test_ll", "train_ll", "elbo", "rate", "mi", "kl_agg"):
        assert m[key] == pytest.approx(rec["metrics"][key], rel=1e-4, abs=1e-3), key
    for key in (
        "linear_probe",
        "knn",
    ):  # a code on a class boundary may flip on another CPU
        assert abs(m[key] - rec["metrics"][key]) <= 0.01, key


def test_cache_lists_every_model_with_its_config():
    for data in ("digits", "shapes"):
        records = load_json(f"part3_{data}.json")
        weights = load_weights(f"part3_{data}.pt")
        assert set(records) == set(weights)
        for rec in records.values():
            assert rec["config"]["data"] == data and rec["metrics"]["test_ll"] < 0


def test_fit_trains_with_ddp_on_two_cpu_processes(tmp_path):
    """Issue 18: ``fit(..., accelerator="cpu", devices=2, strategy="ddp")`` trains on two
    gloo processes. Lightning's DDP launcher re-executes the calling script for rank 1,
    so the call runs in a helper script (``tests/ddp_fit_script.py``) in a subprocess,
    not inside pytest (which it would re-execute). ``PYTHONWARNINGS=error`` makes every
    warning fatal in both processes, as ``filterwarnings = error`` does here."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).with_name("ddp_fit_script.py")
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert (r0["rank"], r1["rank"], r0["world"]) == (0, 1, 2)
    for key, value in r0["in_training"].items():
        assert torch.equal(value, r1["in_training"][key]), (
            key
        )  # identical on both ranks
        assert torch.equal(value, r0["returned"][key]), key  # what the caller gets back
        assert torch.equal(value, r1["returned"][key]), key
    for r in (r0, r1):
        h = r["history"]
        assert len(h) == 6 * 4  # 256 images / 2 ranks / batches of 32, 6 epochs
        assert sum(h[-4:]) < 0.95 * sum(h[:4])  # the loss falls on each rank (by 9 %)
