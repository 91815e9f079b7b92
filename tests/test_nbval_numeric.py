"""The numeric-aware nbval comparison (tests/nbval_numeric.py) and every declared tolerance.

Three tiers: the comparison of two texts (exact cases); nbval end to end on a small
notebook whose stored outputs are tampered with (a number outside its tolerance, a word,
a missing line, an extra output all fail; a number inside passes); and the table of
every tolerance the book's notebooks declare, each with its reason, checked against
the stored outputs and written to ``_build/numeric-tolerances.md``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval_numeric import KEY, Rule, check_rules, compare_text, rules_of

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402

SE_RULE = {"match": r"eta = (?P<value>\S+) \+- (?P<se>\S+)", "k": 0.5,
           "why": "Monte Carlo estimate; the printed +- is its standard error"}  # fmt: skip


@pytest.mark.parametrize(
    ("ref", "test", "ok"),
    [
        ("eta = 5.85 nats", "eta = 5.85 nats", True),
        ("eta = 5.85 nats", "eta = 5.86 nats", True),  # one unit in the last digit
        ("eta = 5.85 nats", "eta = 5.87 nats", False),
        ("1.5e-14", "1.6e-14", True),
        ("1.5e-14", "1.7e-14", False),
        ("n = 540 digits", "n = 541 digits", False),  # integers are exact
        ("eta = 5.85 nats", "beta = 5.85 nats", False),  # a word
        ("eta = 5.85 nats", "eta = 5.85 bits", False),
        ("a 1.0\nb 2.0\n", "a 1.0\n", False),  # a missing line
        ("a 1.0\n", "a 1.0\nb 2.0\n", False),  # a new line
        ("|  5.85 |", "| 10.2 |", False),  # the column widens; the number is far off
        ("|  5.85 |", "| 5.86 |", True),  # runs of spaces may change length
        (
            "part3 fig-2 12x12",
            "part4 fig-2 12x12",
            False,
        ),  # digits inside words are text
        ("-0.00", "0.00", True),
        ("1.0", "nan", False),
    ],
)
def test_compare_text_defaults(ref, test, ok):
    assert compare_text(ref, test).ok is ok


def test_a_declared_rule_widens_only_its_own_numbers():
    rules = [Rule.parse(SE_RULE)]
    ref = "eta = 5.85 +- 0.44 nats; acceptance 0.8"
    inside = compare_text(ref, "eta = 6.05 +- 0.45 nats; acceptance 0.8", rules)
    assert inside.ok and inside.declared == 1  # 0.2 <= 0.5 * 0.44
    assert not compare_text(ref, "eta = 6.10 +- 0.44 nats; acceptance 0.8", rules).ok
    # the standard error and the acceptance rate keep the default tolerance
    assert not compare_text(ref, "eta = 5.85 +- 0.46 nats; acceptance 0.8", rules).ok
    assert not compare_text(ref, "eta = 5.85 +- 0.44 nats; acceptance 0.6", rules).ok


def test_an_absolute_rule_and_a_glued_value():
    rules = [Rule.parse({"match": r"q\(x\) (?P<value>\S+)", "abs": 3e-4, "uncertainty": 4e-4,
                         "why": "seed spread of the estimate", "glue": ["mmd_q"]})]  # fmt: skip
    assert compare_text("q(x) 0.0023", "q(x) 0.0025", rules).ok
    assert not compare_text("q(x) 0.0023", "q(x) 0.0027", rules).ok
    assert compare_text(
        "'0.0023'", "'0.0025'", rules, glue="mmd_q", context="q(x) 0.0023"
    ).ok
    assert not compare_text("'0.0023'", "'0.0025'", rules, glue="other", context="").ok
    se = [Rule.parse({**SE_RULE, "glue": ["eta"]})]
    assert compare_text(
        "'5.85'", "'6.05'", se, glue="eta", context="eta = 5.85 +- 0.44"
    ).ok
    with pytest.raises(ValueError, match="not printed"):
        compare_text("'5.85'", "'6.05'", se, glue="eta", context="eta = 5.9 +- 0.44")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({**SE_RULE, "k": 1.5}, "wider than the quantity's printed uncertainty"),
        ({**SE_RULE, "match": r"eta = (?P<value>\S+)"}, "without a group 'se'"),
        ({"match": "x (?P<value>\\S+)", "abs": 0.2, "uncertainty": 0.1, "why": "a b c"},
         "wider than its quantity's uncertainty"),
        ({"match": "x (?P<value>\\S+)", "abs": 0.2, "why": "a b c"}, "needs the 'uncertainty'"),
        ({**SE_RULE, "why": ""}, "needs a 'why' sentence"),
        ({**SE_RULE, "abs": 0.1}, "exactly one of"),
        ({**SE_RULE, "tol": 0.1}, "unknown keys"),
    ],
)  # fmt: skip
def test_rules_that_are_too_wide_or_unexplained_are_refused(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Rule.parse(spec)


def _notebook(path: Path, stored: list[dict], rules: list[dict] | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'print("eta = 5.85 +- 0.44 nats")\nprint("n = 540")'
    )
    cell.execution_count = 1
    cell.outputs = [nbformat.from_dict(o) for o in stored]
    if rules:
        cell.metadata[KEY] = rules
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    nbformat.write(nb, path)


def _stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_nbval_end_to_end_on_tampered_outputs(tmp_path):
    """nbval with the plugin, on one notebook per tampering; a real kernel runs each."""
    true = "eta = 5.85 +- 0.44 nats\nn = 540\n"
    cases = {
        "untouched": ([_stream(true)], True),
        "inside": ([_stream(true.replace("5.85", "5.99"))], True),  # 0.14 <= 0.22
        "outside": ([_stream(true.replace("5.85", "6.15"))], False),  # 0.30 > 0.22
        "word": ([_stream(true.replace("nats", "bits"))], False),
        "line": ([_stream("eta = 5.85 +- 0.44 nats\n")], False),
        "output": ([_stream(true), {"output_type": "execute_result", "execution_count": 1,
                                    "data": {"text/plain": "3"}, "metadata": {}}], False),
        "count": ([_stream(true.replace("540", "541"))], False),
    }  # fmt: skip
    for name, (stored, _) in cases.items():
        _notebook(tmp_path / f"{name}.ipynb", stored, [SE_RULE])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "nbval_numeric",
         "-p", "no:cacheprovider", "-rA", "-q", *[f"{n}.ipynb" for n in cases]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    for name, (_, passes) in cases.items():
        verdict = "PASSED" if passes else "FAILED"
        assert re.search(rf"^{verdict} {name}\.ipynb::Cell 0", result.stdout, re.M), (
            f"{name}: expected {verdict}\n{result.stdout[-4000:]}"
        )
    assert "numeric comparison: stream:stdout: 5.85 now, 6.15 stored" in result.stdout


def declared_rules() -> list[tuple[str, int, Rule]]:
    """Every rule declared in the book's notebooks: (notebook, code cell number, rule)."""
    out = []
    for path in tasks.toc_notebooks():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for i, cell in enumerate(code):
            where = f"{path.relative_to(ROOT)} cell {i}"
            rules = rules_of(cell.metadata, where)
            check_rules(rules, cell.outputs, where)
            out += [(str(path.relative_to(ROOT)), i, rule) for rule in rules]
    return out


def test_every_declared_tolerance_is_reasoned_and_no_wider_than_its_uncertainty():
    rows = ["| notebook | cell | numbers in | tolerance | uncertainty | glued names | why |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    rules = declared_rules()
    for nb, cell, rule in rules:  # Rule.parse refused k > 1 and abs > uncertainty
        if rule.k is not None:
            tol, unc = f"{rule.k:g} x the printed +-", "the printed +- (standard error)"
        else:
            tol = f"{rule.abs:g}" if rule.abs is not None else f"{rule.rel:g} relative"
            unc = f"{rule.uncertainty:g}"
        pattern = rule.match.pattern.replace("|", "\\|")
        rows.append(f"| {nb} | {cell} | `{pattern}` | {tol} | {unc} | "
                    f"{', '.join(rule.glue) or '-'} | {rule.why} |")  # fmt: skip
    out = ROOT / "_build" / "numeric-tolerances.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        "Every tolerance declared by a notebook cell (metadata `numeric_tolerance`); all "
        "other numbers are compared to one unit in their last printed digit (integers "
        f"exactly). {len(rules)} rules.\n\n" + "\n".join(rows) + "\n"
    )
    assert rules, (
        "no notebook declares a tolerance: the Monte Carlo cells would be byte-exact"
    )
