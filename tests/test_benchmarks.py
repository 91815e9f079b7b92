"""The benchmark suite (benchmarks/): its statistics, its verdicts, and a quick smoke run.

The full run takes about 15 minutes and is not part of the tests; here the runner
runs every row on tiny sizes with one thread (the rows' own correctness checks, e.g.
lvmkit's lasso objective against scikit-learn's LARS, must pass), and the pieces
that decide a verdict are checked against known answers.
"""

import json

import numpy as np
import pytest
import torch
from stats import failure_rate

from benchmarks import common, posterior_sampling, run


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: thread wake-ups would dominate
    yield
    torch.set_num_threads(before)


def test_ess_matches_ar1_closed_form():
    """AR(1) with coefficient phi has ESS = S (1 - phi) / (1 + phi); iid draws have ESS = S.
    With 40 series of 4,000 draws the mean ESS is within 10 % (fixed seed)."""
    rng = np.random.default_rng(0)
    S, phi = 4000, 0.6
    e = rng.standard_normal((S, 40))
    x = np.empty_like(e)
    x[0] = e[0] / np.sqrt(1 - phi**2)
    for t in range(1, S):
        x[t] = phi * x[t - 1] + e[t]
    assert common.ess(x).mean() == pytest.approx(S * (1 - phi) / (1 + phi), rel=0.1)
    assert common.ess(rng.standard_normal((S, 40))).mean() == pytest.approx(S, rel=0.1)
    assert common.ess(rng.standard_normal((100, 2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match="at least 4"):
        common.ess(np.zeros((3, 2)))


@failure_rate(0.01, "benchmarks.posterior_sampling.sbc at its level 0.01")
def test_sbc_accepts_exact_draws_and_rejects_overconfident_ones():
    """Draws from the true posterior (here the prior: no data) pass; draws half as wide fail.
    Fixed seed; the correct case fails with probability about 1 %."""
    rng = np.random.default_rng(1)
    truth = rng.laplace(size=(800, 6))
    exact = rng.laplace(size=(100, 800, 6))
    assert posterior_sampling.sbc(exact, truth)["passed"]
    assert not posterior_sampling.sbc(0.5 * exact, truth)["passed"]


def test_make_row_verdicts():
    goal = {"text": ">= 10x", "value": 10.0, "higher_is_better": True}
    ok = [common.check("gap", 1e-6, 1e-4)]
    met = common.make_row(
        "a",
        "A",
        checks=ok,
        peer=None,
        lvmkit=None,
        ratio=12.0,
        ratio_meaning="",
        goal=goal,
    )
    assert met["met"] and met["status"] == "met"
    missed = common.make_row(
        "a",
        "A",
        checks=ok,
        peer=None,
        lvmkit=None,
        ratio=4.0,
        ratio_meaning="",
        goal=goal,
    )
    assert missed["met"] is False and missed["shortfall"] == pytest.approx(2.5)
    assert "factor 2.5 below the goal 10" in missed["status"]
    low = {"text": "<= 1.1", "value": 1.1, "higher_is_better": False}
    over = common.make_row(
        "a",
        "A",
        checks=ok,
        peer=None,
        lvmkit=None,
        ratio=1.32,
        ratio_meaning="",
        goal=low,
    )
    assert over["shortfall"] == pytest.approx(1.2)
    bad = common.make_row(
        "a",
        "A",
        checks=[common.check("gap", 1e-2, 1e-4)],
        peer=None,
        lvmkit=None,
        ratio=99.0,
        ratio_meaning="",
        goal=goal,
    )
    assert not bad["correct"] and bad["ratio"] is None and "FAILED" in bad["status"]
    assert not common.check("nan", float("nan"), 1.0)["passed"]


def test_quick_run_of_every_row_but_nuts(tmp_path, one_thread, capsys):
    rows = [r for r in run.ROWS if r != "posterior_sampling"]
    out = tmp_path / "results.json"
    argv = ["--quick", "--output", str(out)] + [a for r in rows for a in ("--only", r)]
    assert run.main(argv) == 0, capsys.readouterr().out
    result = json.loads(out.read_text())
    assert [r["name"] for r in result["rows"]] == rows
    assert {"cpu", "cores", "torch", "sklearn", "date"} <= set(result["machine"])
    for row in result["rows"]:
        assert row["correct"], row["checks"]
        assert row["ratio"] is not None and row["ratio"] > 0
        for part in ("peer", "lvmkit"):
            assert row[part]["min"] <= row[part]["median"] <= row[part]["max"]
        assert (
            row["status"] in ("met", "reported (no speed goal)")
            or "missed" in row["status"]
        )
    table = capsys.readouterr().out
    assert all(r in table for r in rows)


def test_quick_posterior_sampling_row(one_thread):
    pytest.importorskip("numpyro")
    row = posterior_sampling.run(common.Config.quick_config(), {})
    assert row["correct"], row["checks"]
    assert row["peer"]["figure"] > 0 and row["lvmkit"]["figure"] > 0
