"""Size limits of lvmkit (CONTRIBUTING.md, *Size*): modules and functions stay readable.

A module holds at most 450 lines (aim at 400). A function holds at most 60 lines of
code, its docstring not counted; the few longer ones are listed in ``LONGER`` with
their length today (after ``ruff format`` at 88 columns), so that they can only
shrink and no new one appears.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lvmkit"
MODULE_LINES = 450
FUNCTION_LINES = 60
# function -> its length today (code lines, docstring excluded); may only shrink
LONGER = {
    "lasso/homotopy.py:_follow_paths": 138,  # one compiled (numba) loop over the path
    "lasso/active_set.py:_active_set": 96,  # the lock-step loop of feature-sign search
    "sparse_coding.py:learn_dictionary": 71,
    "plotting.py:plot_rate_distortion": 65,
    "sparse_coding.py:fit_gabor": 62,
    "treeworld/render.py:render": 61,
    "lasso/homotopy.py:lasso_homotopy": 61,
}
FILES = sorted(PACKAGE.rglob("*.py"))


def code_lines(node: ast.AST) -> int:
    """Lines of a function without its docstring."""
    n = node.end_lineno - node.lineno + 1
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        n -= body[0].end_lineno - body[0].lineno + 1
    return n


def functions():
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield (
                    f"{path.relative_to(PACKAGE).as_posix()}:{node.name}",
                    code_lines(node),
                )


@pytest.mark.parametrize(
    "path", FILES, ids=[p.relative_to(PACKAGE).as_posix() for p in FILES]
)
def test_module_size(path):
    n = len(path.read_text().splitlines())
    assert n <= MODULE_LINES, (
        f"{path.name} has {n} lines (at most {MODULE_LINES}): split it"
    )


def test_function_size():
    too_long = {
        name: n for name, n in functions() if n > LONGER.get(name, FUNCTION_LINES)
    }
    assert not too_long, f"functions over {FUNCTION_LINES} code lines: {too_long}"
