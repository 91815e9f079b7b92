"""Seeding and rounding helpers."""

import math
import random

import numpy as np
import pytest
import torch

from lvmkit.reproducibility import seed_everything, sig


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

    from lvmkit.reproducibility import record

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
    from lvmkit.reproducibility import check

    check(True, "eta = 5.85 +- 0.44 nats, more than 5 standard errors")
    check([np.bool_(True), torch.tensor(True), np.array([1.0]) > 0], "three at once")
    check(1 < 2, "the cache is reproduced", label="cache checked")
    assert capsys.readouterr().out.splitlines() == [
        "✓ claim checked: eta = 5.85 +- 0.44 nats, more than 5 standard errors",
        "✓ claim checked: three at once",
        "✓ cache checked: the cache is reproduced",
    ]


def test_check_raises_naming_the_failed_condition(capsys):
    from lvmkit.reproducibility import check

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
def test_check_rejects_ambiguous_conditions_and_empty_messages(condition, message, error):
    from lvmkit.reproducibility import check

    with pytest.raises(error):
        check(condition, message)


def test_check_never_wraps_its_text(capsys):
    """A wrap that moved with a number's width would change words nbval compares."""
    from lvmkit.reproducibility import check

    check(True, "a long claim " * 12)
    assert len(capsys.readouterr().out.splitlines()) == 1
