"""Seeding and rounding helpers."""

import contextlib
import io
import math
import random

import numpy as np
import pytest
import torch
from stats import failure_rate

from lvmkit.book import seed_everything, sig


def test_seed_everything_seeds_all_generators_and_prints(capsys):
    g = seed_everything(7)
    first = (
        random.random(),
        np.random.rand(),  # noqa: NPY002 - checks the legacy global RNG
        torch.rand(1).item(),
        torch.rand(1, generator=g).item(),
    )
    assert capsys.readouterr().out == "seed = 7\n"
    g = seed_everything(7, verbose=False)
    second = (
        random.random(),
        np.random.rand(),  # noqa: NPY002 - checks the legacy global RNG
        torch.rand(1).item(),
        torch.rand(1, generator=g).item(),
    )
    assert first == second
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(bad)


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [
        (0.0123456, 3, 0.0123),
        (98765.4, 2, 99000.0),
        (-1.23456, 4, -1.235),
        (0.0, 3, 0.0),
        (torch.tensor(2.71828), 2, 2.7),
        (np.float32(3.14159), 3, 3.14),
    ],
)
def test_sig(x, digits, expected):
    assert sig(x, digits) == expected


def test_sig_passes_non_finite_and_rejects_bad_digits():
    assert math.isnan(sig(float("nan")))
    assert sig(float("inf")) == float("inf")
    with pytest.raises(ValueError, match="digits"):
        sig(1.0, 0)


def test_record_glues_a_rounded_value_and_displays_nothing(monkeypatch):
    import myst_nb

    from lvmkit.book import record

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: calls.append((a, k)))
    record("eta", 5.8512345)
    record("n", np.int64(540))
    record("label", "Laplace")
    record("p", 0.123456, digits=2)
    assert calls == [
        (("eta", 5.85), {"display": False}),
        (("n", 540), {"display": False}),
        (("label", "Laplace"), {"display": False}),
        (("p", 0.12), {"display": False}),
    ]
    with pytest.raises(ValueError, match="name"):
        record("not a name", 1.0)
    with pytest.raises(TypeError, match="real number"):
        record("x", [1.0])


def test_check_prints_one_line_when_the_claim_holds(capsys):
    from lvmkit.book import check

    check(True, "eta = 5.85 +- 0.44 nats, more than 5 standard errors")
    check([np.bool_(True), torch.tensor(True), np.array([1.0]) > 0], "three at once")
    check(1 < 2, "the cache is reproduced", label="cache checked")
    assert capsys.readouterr().out.splitlines() == [
        "✓ claim checked: eta = 5.85 +- 0.44 nats, more than 5 standard errors",
        "✓ claim checked: three at once",
        "✓ cache checked: the cache is reproduced",
    ]


def test_check_raises_naming_the_failed_condition(capsys):
    from lvmkit.book import check

    with pytest.raises(AssertionError, match=r"claim checked failed \(the condition"):
        check(False, "never")
    with pytest.raises(AssertionError, match=r"condition 1 is false\): two"):
        check([True, np.bool_(False), True], "two")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("condition", "message", "error"),
    [
        (np.array([True, False]), "x", TypeError),
        (torch.tensor([True, True]), "x", TypeError),
        (1.0, "x", TypeError),
        (True, "", ValueError),
        (True, None, ValueError),
        ([], "x", ValueError),
    ],
)
def test_check_rejects_ambiguous_conditions_and_empty_messages(
    condition, message, error
):
    from lvmkit.book import check

    with pytest.raises(error):
        check(condition, message)


def test_check_never_wraps_its_text(capsys):
    """A wrap that moved with a number's width would change words nbval compares."""
    from lvmkit.book import check

    check(True, "a long claim " * 12)
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_replicates_matches_numpy_and_scipy():
    from scipy import stats

    from lvmkit.book import replicates

    v = np.array([1.0, 2.5, 0.5, 3.0, 2.0])
    r = replicates(v)
    assert r.n == 5 and r.mean == pytest.approx(v.mean())
    assert r.se == pytest.approx(stats.sem(v))
    assert str(r) == f"{r.mean:.3g} ± {r.se:.2g} (n = 5)"
    assert np.isnan(replicates([4.0]).se)


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0]], [1.0, float("nan")]])
def test_replicates_rejects_bad_values(bad):
    from lvmkit.book import replicates

    with pytest.raises(ValueError, match="values"):
        replicates(bad)


def test_check_replicates_is_the_one_sided_t_test(capsys):
    from scipy import stats

    from lvmkit.book import check_replicates

    v = np.array([1.0, 1.4, 0.8, 1.2, 1.1])
    # The check passes exactly when scipy's one-sided t test rejects mean <= threshold.
    for threshold in np.linspace(0.5, 1.2, 15):
        p = stats.ttest_1samp(v, threshold, alternative="greater").pvalue
        if p < 0.05:
            check_replicates(v, "mean above", above=float(threshold), rate=0.05)
        else:
            with pytest.raises(AssertionError, match="mean above"):
                check_replicates(v, "mean above", above=float(threshold), rate=0.05)
    for threshold in np.linspace(1.0, 1.8, 15):
        p = stats.ttest_1samp(v, threshold, alternative="less").pvalue
        if p < 0.05:
            check_replicates(v, "mean below", below=float(threshold), rate=0.05)
        else:
            with pytest.raises(AssertionError):
                check_replicates(v, "mean below", below=float(threshold), rate=0.05)
    out = capsys.readouterr().out
    assert "one-sided t test, failure rate 0.05" in out and "(n = 5)" in out


@failure_rate(1e-6, "binomial count of 2000 null trials within 5 sd of 200")
def test_check_replicates_declared_rate_holds_under_the_null():
    """At the threshold, the check passes in about ``rate`` of fresh replicate sets."""
    from lvmkit.book import check_replicates

    rng = np.random.default_rng(0)
    passed = 0
    trials = 2000
    for _ in range(trials):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                check_replicates(rng.normal(size=5), "null", above=0.0, rate=0.1)
            passed += 1
        except AssertionError:
            pass
    # binomial(2000, 0.1): sd 13.4; 5 sd either side fails with probability < 1e-6
    assert abs(passed - 200) < 5 * 13.4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"above": 0.0, "rate": 0.7}, "rate"),
        ({}, "above="),
        ({"above": 0.0, "rate": 1}, "rate"),
    ],
)
def test_check_replicates_rejects_bad_arguments(kwargs, match):
    from lvmkit.book import check_replicates

    with pytest.raises(ValueError, match=match):
        check_replicates([1.0, 2.0, 3.0], "m", **kwargs)
    with pytest.raises(ValueError, match="3 replicates"):
        check_replicates([1.0, 2.0], "m", above=0.0)
