"""nbval compares numbers within their uncertainty, and every other character exactly.

A pytest plugin (registered by the repository's top-level ``conftest.py``; elsewhere
``pytest -p nbval_numeric`` with ``tests/`` on ``sys.path``). nbval stays the runner: it
re-executes each cell and compares the new text outputs with the stored ones. Before it
does, this plugin pairs each new text output with the stored one and tokenises both
into words and numbers:

* every character that is not part of a number (words, punctuation, line breaks, the
  number of outputs and their kinds) must be identical; runs of spaces may differ in
  length, because a table column widens when a number gains a digit;
* each number must lie within its tolerance of the stored number. The default is one
  unit in the last printed digit for a number printed with a decimal point or an
  exponent (``5.85`` +- 0.01, ``1.5e-14`` +- 1e-15): a deterministic value rounded
  for print may cross a rounding boundary when its last bits change. Integers are
  compared exactly.

A cell may declare wider tolerances for the quantities it computes by sampling or
training, in its metadata (visible in the notebook's JSON, with the reason)::

    "numeric_tolerance": [
      {"match": "eta = (?P<value>\\\\S+) \\\\+- (?P<se>\\\\S+)", "k": 1.0,
       "why": "Monte Carlo estimate; the printed +- is its standard error"},
      {"match": "q\\\\(x\\\\) (?P<value>\\\\S+)", "abs": 0.0003, "uncertainty": 0.0004,
       "why": "mean of 2000 draws; its Monte Carlo standard error is 0.0004"}
    ]

``match`` is a regular expression searched in the *stored* output; the numbers inside
its group ``value`` (or inside the whole match, without that group) get the rule's
tolerance: ``k`` times the number captured by the group ``se`` in the same match (the
uncertainty printed next to the quantity), or ``abs`` (``rel`` for a relative one) with
the ``uncertainty`` it derives from. ``k <= 1`` and ``abs <= uncertainty`` are enforced,
so no tolerance is wider than its quantity's own uncertainty, and a rule that matches
nothing in its cell's stored outputs is an error, so rules cannot go stale. Every rule
is listed with its reason by ``tests/test_nbval_numeric.py`` in
``_build/numeric-tolerances.md``; how many numbers each run compared exactly and within
a declared tolerance goes to ``_build/nbval-numbers.md``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

KEY = "numeric_tolerance"
# A free-standing number: not glued to a word (``part3``, ``fig-2``, ``12x12``).
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)")
SPACES = re.compile(r"[ \t]+")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")
GLUE_PREFIX = "application/papermill.record/"  # myst-nb's glue(..., display=False)


@dataclass(frozen=True)
class Rule:
    """One declared tolerance of a cell (see the module docstring)."""

    match: re.Pattern
    why: str
    k: float | None = None
    abs: float | None = None
    rel: float | None = None
    uncertainty: float | None = None
    glue: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: dict[str, Any], where: str = "") -> Rule:
        if not isinstance(spec, dict) or not isinstance(spec.get("match"), str):
            raise ValueError(
                f"{where}: a {KEY} rule needs a 'match' regular expression"
            )
        unknown = set(spec) - {"match", "why", "k", "abs", "rel", "uncertainty", "glue"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)} in {KEY} rule")
        why = spec.get("why")
        if not isinstance(why, str) or len(why.split()) < 3:
            raise ValueError(f"{where}: rule {spec['match']!r} needs a 'why' sentence")
        pattern = re.compile(spec["match"])
        glue = spec.get("glue", [])
        if not isinstance(glue, list) or not all(isinstance(g, str) for g in glue):
            raise ValueError(
                f"{where}: rule {spec['match']!r}: 'glue' must be a list of names"
            )
        glue = tuple(glue)
        kinds = [name for name in ("k", "abs", "rel") if name in spec]
        if len(kinds) != 1:
            raise ValueError(
                f"{where}: rule {spec['match']!r} needs exactly one of k, abs, rel"
            )
        value = float(spec[kinds[0]])
        if not value > 0:
            raise ValueError(f"{where}: rule {spec['match']!r}: {kinds[0]} must be > 0")
        if kinds == ["k"]:
            if "se" not in pattern.groupindex:
                raise ValueError(
                    f"{where}: rule {spec['match']!r} uses k without a group 'se'"
                )
            if value > 1:
                raise ValueError(
                    f"{where}: rule {spec['match']!r}: k = {value} is wider than the "
                    "quantity's printed uncertainty (k <= 1)"
                )
            return cls(pattern, why, k=value, glue=glue)
        unc = spec.get("uncertainty")
        if not isinstance(unc, int | float) or not unc > 0:
            raise ValueError(
                f"{where}: rule {spec['match']!r} with {kinds[0]} needs the 'uncertainty' "
                "it derives from (same units)"
            )
        if value > unc:
            raise ValueError(
                f"{where}: rule {spec['match']!r}: {kinds[0]} = {value} is wider than its "
                f"quantity's uncertainty {unc}"
            )
        return cls(pattern, why, **{kinds[0]: value}, uncertainty=float(unc), glue=glue)

    def spans(self, text: str) -> list[tuple[int, int, float | None]]:
        """(start, end, se) of every region of ``text`` this rule covers."""
        out = []
        for m in self.match.finditer(text):
            group = "value" if "value" in self.match.groupindex else 0
            start, end = m.span(group)
            se = None
            if self.k is not None:
                se_num = NUMBER.search(m.group("se") or "")
                if se_num is None:
                    continue
                se = float(se_num.group())
            out.append((start, end, se))
        return out

    def glue_span(
        self, text: str, value: str, context: str
    ) -> tuple[int, int, float | None]:
        """The whole of a glued value ``text`` (its number ``value``), with the standard
        error printed beside the same number in the cell's stored ``context``."""
        se = None
        if self.k is not None:
            for start, end, s in self.spans(context):
                nums = [float(t) for t, _, _ in split(context[start:end])[1]]
                if float(value) in nums:
                    se = s
                    break
            else:
                raise ValueError(
                    f"glued value {value} is not printed in its cell, so the "
                    f"standard error of rule {self.match.pattern!r} is unknown"
                )
        return 0, len(text), se

    def tolerance(self, ref: float, se: float | None) -> float:
        if self.k is not None:
            return self.k * abs(se)
        if self.abs is not None:
            return self.abs
        return self.rel * abs(ref)


def rules_of(metadata: dict[str, Any], where: str = "") -> list[Rule]:
    """The declared rules of a cell's metadata (an empty list when none)."""
    specs = metadata.get(KEY, [])
    if not isinstance(specs, list):
        raise ValueError(f"{where}: metadata {KEY} must be a list of rules")
    return [Rule.parse(s, where) for s in specs]


def last_digit(token: str) -> float:
    """One unit in the last printed digit of a decimal number; 0 for an integer."""
    mantissa, _, exp = token.lower().partition("e")
    if "." not in mantissa and not exp:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exp or 0) - decimals)


@dataclass
class Comparison:
    """The outcome of comparing one stored text with its re-computed version."""

    ok: bool
    exact: int = 0  # numbers identical as printed
    default: int = 0  # numbers within one unit of their last digit (not identical)
    declared: int = 0  # numbers covered by a declared rule
    why: str = ""


def split(text: str) -> tuple[list[str], list[tuple[str, int, int]]]:
    """The text between numbers (spaces collapsed) and the numbers with their spans."""
    words, numbers, last = [], [], 0
    for m in NUMBER.finditer(text):
        words.append(SPACES.sub(" ", text[last : m.start()]))
        numbers.append((m.group(), m.start(), m.end()))
        last = m.end()
    words.append(SPACES.sub(" ", text[last:]))
    return words, numbers


def compare_text(
    ref: str,
    test: str,
    rules: list[Rule] = (),
    glue: str | None = None,
    context: str = "",
) -> Comparison:
    """Compare a stored text output ``ref`` with a re-computed ``test``.

    Words must agree exactly (runs of spaces may differ in length); each number must be
    within its tolerance: the tolerance of the rule whose region of ``ref`` contains it,
    else one unit in the stored number's last printed digit (integers: exactly). A value
    glued under the name ``glue`` takes the tolerance of the rule that lists that name,
    with the standard error printed beside it in ``context`` (the cell's stored text).
    """
    ref_words, ref_nums = split(ref)
    test_words, test_nums = split(test)
    if ref_words != test_words:
        for a, b in zip(ref_words, test_words, strict=False):
            if a != b:
                return Comparison(False, why=f"text differs: {a!r} stored, {b!r} now")
        return Comparison(False, why="a different number of numbers or lines")
    if glue is not None:
        covered = [
            (*rule.glue_span(ref, ref_nums[0][0], context), rule)
            for rule in rules
            if glue in rule.glue and len(ref_nums) == 1
        ]
    else:
        covered = [(s, e, se, rule) for rule in rules for s, e, se in rule.spans(ref)]
    result = Comparison(True)
    for (r_tok, start, end), (t_tok, _, _) in zip(ref_nums, test_nums, strict=True):
        r, t = float(r_tok), float(t_tok)
        region = next((c for c in covered if c[0] <= start and end <= c[1]), None)
        if region is not None:  # never stricter than the precision it was printed with
            tol = max(region[3].tolerance(r, region[2]), last_digit(r_tok))
            result.declared += 1
        elif r_tok == t_tok:
            result.exact += 1
            continue
        else:
            tol = last_digit(r_tok)
            result.default += 1
        if not math.isfinite(t) or abs(t - r) > tol * (1 + 1e-9) + 1e-300:
            kind = "declared" if region is not None else "default"
            result.ok = False
            result.why = (
                f"{t_tok} now, {r_tok} stored: outside the {kind} tolerance {tol:.3g}"
            )
            return result
    return result


def _text_fields(outputs: list[Any]) -> dict[str, list[tuple[Any, str]]]:
    """Per output field (stream name or MIME type), its (container, key) slots in order."""
    fields: dict[str, list[tuple[Any, str]]] = {}
    for out in outputs:
        if out.get("output_type") == "stream":
            fields.setdefault(f"stream:{out['name']}", []).append((out, "text"))
        for mime in (*TEXT_MIMES, *(GLUE_PREFIX + m for m in TEXT_MIMES)):
            if isinstance(out.get("data", {}).get(mime), str):
                fields.setdefault(mime, []).append((out["data"], mime))
    return fields


def _glue_names(outputs: list[Any]) -> dict[int, str]:
    """id() of each output's data dict -> the name it was glued under (myst-nb)."""
    names = {}
    for out in outputs:
        name = out.get("metadata", {}).get("scrapbook", {}).get("name")
        if name is not None and "data" in out:
            names[id(out["data"])] = name
    return names


def stored_text(outputs: list[Any]) -> str:
    """All text of a cell's outputs but its glued values: what rules are matched in."""
    glued = _glue_names(outputs)
    return "\n".join(
        c[k]
        for slots in _text_fields(outputs).values()
        for c, k in slots
        if id(c) not in glued
    )


def align(
    ref: list[Any], test: list[Any], rules: list[Rule]
) -> tuple[list[Any], Comparison]:
    """A copy of ``test`` in which every text that matches ``ref`` within tolerance is
    replaced by the stored text, so that nbval's own comparison passes on it and still
    reports, with its usual diff, every text that does not.
    """
    test = copy.deepcopy(test)
    total = Comparison(True)
    ref_fields, test_fields = _text_fields(ref), _text_fields(test)
    glued, context = _glue_names(ref), stored_text(ref)
    for field, ref_slots in ref_fields.items():
        test_slots = test_fields.get(field, [])
        if len(test_slots) != len(ref_slots):
            continue  # nbval reports the missing or extra output
        for (rc, rk), (tc, tk) in zip(ref_slots, test_slots, strict=True):
            cmp = compare_text(rc[rk], tc[tk], rules, glued.get(id(rc)), context)
            total.exact += cmp.exact
            total.default += cmp.default
            total.declared += cmp.declared
            if cmp.ok:
                tc[tk] = rc[rk]
            elif total.ok:
                total.ok, total.why = False, f"{field}: {cmp.why}"
    return test, total


def check_rules(rules: list[Rule], outputs: list[Any], where: str) -> None:
    """Every rule matches the stored outputs, and every name it lists was glued there."""
    text, glued = stored_text(outputs), set(_glue_names(outputs).values())
    for rule in rules:
        if not rule.spans(text):
            raise ValueError(
                f"{where}: rule {rule.match.pattern!r} matches no stored output"
            )
        if set(rule.glue) - glued:
            raise ValueError(
                f"{where}: rule {rule.match.pattern!r} lists names not glued "
                f"in the cell: {sorted(set(rule.glue) - glued)}"
            )


def _install() -> None:
    from nbval.plugin import IPyNbCell, coalesce_streams

    if getattr(IPyNbCell, "_numeric_aware", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        where = f"{self.fspath.basename} cell {self.cell_num}"
        rules = rules_of(self.cell.get("metadata", {}), where)
        ref = coalesce_streams(copy.deepcopy(ref))
        check_rules(rules, ref, where)
        aligned, cmp = align(ref, test, rules)
        self.user_properties.append(
            ("nbval_numbers", json.dumps([cmp.exact, cmp.default, cmp.declared]))
        )
        ok = original(self, aligned, ref, skip_compare)
        if not ok and cmp.why:
            self.comparison_traceback.insert(0, f"numeric comparison: {cmp.why}")
        return ok

    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell._numeric_aware = True


_COUNTS: dict[str, list[int]] = {}


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("nbval") or config.getoption("nbval", False):
        _install()


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "nbval_numbers":
            notebook = report.nodeid.split("::")[0]
            counts = _COUNTS.setdefault(notebook, [0, 0, 0])
            for i, n in enumerate(json.loads(value)):
                counts[i] += n


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _COUNTS or hasattr(session.config, "workerinput"):
        return  # nothing compared, or an xdist worker (the controller writes the table)
    rows = [
        "| notebook | numbers identical | within one last digit | within a declared "
        "tolerance |",
        "|---|---|---|---|",
    ]
    totals = [0, 0, 0]
    for nb, counts in sorted(_COUNTS.items()):
        rows.append(f"| {nb} | " + " | ".join(map(str, counts)) + " |")
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    rows.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + " |")
    out = Path(session.config.rootpath) / "_build" / "nbval-numbers.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        "Numbers in notebook outputs compared by nbval in the last run "
        "(tests/nbval_numeric.py)\n\n" + "\n".join(rows) + "\n"
    )
