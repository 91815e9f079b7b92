"""ruff lints and formats (88 columns) the code: lvmkit, tests, benchmarks, scripts.

The notebooks are checked with ``chapters/ruff.toml`` by ``tests/test_notebooks.py``.
Fix with ``ruff check --fix lvmkit tests benchmarks scripts`` and ``ruff format ...``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")
PATHS = ["lvmkit", "tests", "benchmarks", "scripts"]


@pytest.mark.parametrize(
    "command", [["check"], ["format", "--check"]], ids=["check", "format"]
)
def test_ruff(command):
    out = subprocess.run(
        [str(RUFF), *command, *PATHS], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
