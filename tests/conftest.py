"""Shared pytest configuration."""

import os

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # tests draw figures off screen
os.environ.setdefault("PYTHONHASHSEED", "0")


def pytest_collection_finish(session):
    """With --nbval, a run that collects no notebook cell must fail, not pass silently."""
    if session.config.getoption("--nbval", default=False):
        cells = [item for item in session.items if item.nodeid.split("::")[0].endswith(".ipynb")]
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
