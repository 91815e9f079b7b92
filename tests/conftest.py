"""Shared pytest configuration."""

import os

import matplotlib

matplotlib.use("Agg")  # tests draw figures off screen
os.environ.setdefault("PYTHONHASHSEED", "0")


def pytest_collection_finish(session):
    """With --nbval, a run that collects no notebook cell must fail, not pass silently."""
    if session.config.getoption("--nbval", default=False):
        cells = [item for item in session.items if item.nodeid.split("::")[0].endswith(".ipynb")]
        if not cells:
            raise RuntimeError("--nbval was given but no notebook cells were collected")
