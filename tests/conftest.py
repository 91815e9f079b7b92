"""Shared pytest configuration."""

import os
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # tests draw figures off screen
os.environ.setdefault("PYTHONHASHSEED", "0")


def pytest_collection_finish(session):
    """With --nbval, a run that collects no notebook cell must fail, not pass silently."""
    if session.config.getoption("--nbval", default=False):
        cells = [
            item
            for item in session.items
            if item.nodeid.split("::")[0].endswith(".ipynb")
        ]
        if not cells:
            raise RuntimeError("--nbval was given but no notebook cells were collected")


@pytest.fixture
def one_thread():
    """Run a test with one torch thread.

    The sampler and solver tests work on small matrices: one thread is fastest, and it
    keeps them immune to the oversubscription of a busy machine (or of pytest-xdist).
    """
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# --- reports written by the test run (the lead's evidence, not test inputs) -----------

BUILD = Path(__file__).resolve().parents[1] / "_build"


def write_report(name: str, text: str) -> Path:
    """Write ``_build/<name>`` atomically (pytest-xdist workers may write the same file)."""
    BUILD.mkdir(exist_ok=True)
    path = BUILD / name
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def pytest_collection_modifyitems(session, config, items):
    """List every statistical test (``failure_rate`` mark) with its declared failure rate."""
    rows = []
    for item in items:
        mark = item.get_closest_marker("failure_rate")
        if mark is not None:
            rate, how = mark.args
            rows.append(f"| `{item.nodeid}` | {rate:.3g} | {how} |")
    if rows:
        write_report(
            "statistical-tests.md",
            "\n".join(
                [
                    "# Statistical tests and their declared failure rates",
                    "",
                    "Fixed seeds; each threshold is derived from the rate by `tests/stats.py`.",
                    "",
                    "| test | failure rate (fresh seed) | threshold derived by |",
                    "|---|---|---|",
                    *rows,
                    "",
                ]
            ),
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "failure_rate(rate, how): a statistical test's declared failure rate"
    )
