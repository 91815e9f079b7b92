"""The cached shapes models of "Structure without an oracle" (scripts/make_part3_shapes.py)
reproduce the metrics stored at training when reloaded (float16, weights_only=True)."""

import pytest
import torch

from lvmkit.artifacts import load_json, load_weights
from lvmkit.book.part3_structure import CACHE, load_shapes_model, model_metrics

CACHED = ["render_disk_n20000_s0", "template_n20000_s1", "bernoulli_n500_s2"]


@pytest.mark.parametrize("name", CACHED)
def test_cached_weights_reproduce_stored_metrics(name):
    vae, rec = load_shapes_model(name)
    m = model_metrics(vae, rec["config"]["n_train"])
    for key in (
        "test_ll",
        "train_ll",
        "elbo",
        "rate",
        "mi",
        "kl_agg",
        "mi_21000",
        "kl_21000",
        "r2_x",
        "r2_scale",
    ):
        assert m[key] == pytest.approx(rec["metrics"][key], rel=1e-4, abs=1e-3), key
    for key in (
        "linear_probe",
        "knn",
        "c2st",
    ):  # a point on a boundary may flip elsewhere
        assert abs(m[key] - rec["metrics"][key]) <= 0.01, key


def test_cache_holds_every_planned_model_in_float16():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "make_part3_shapes.py"
    spec = importlib.util.spec_from_file_location("make_part3_shapes", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    records, weights = load_json(f"{CACHE}.json"), load_weights(f"{CACHE}.pt")
    assert set(records) == set(weights)
    assert {name for name, *_ in script.plan(script.SEEDS)} <= set(records)
    for name, state in weights.items():
        assert all(t.dtype == torch.float16 for t in state.values()), name
        assert records[name]["steps"] <= 1584, (
            name
        )  # the equal budget (1580, whole passes)
    size = (path.parents[1] / "data" / f"{CACHE}.pt").stat().st_size
    assert size < 20e6
