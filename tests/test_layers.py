"""The layers of lvmkit: import-linter's contracts (pyproject.toml) hold, a planted
violation breaks them, and no lvmkit module imports itself back through others."""

from __future__ import annotations

import graphlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_general_module_importing_the_book_breaks_a_contract(tmp_path):
    """Plant the violation the contracts exist for: a general module imports lvmkit.book."""
    shutil.copytree(
        ROOT / "lvmkit",
        tmp_path / "lvmkit",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    models = tmp_path / "lvmkit" / "models.py"
    models.write_text(
        models.read_text() + "\n\nfrom lvmkit.book import sig  # planted\n"
    )
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "No general module imports lvmkit.book BROKEN" in out.stdout
    assert "lvmkit.models -> lvmkit.book" in out.stdout


def test_no_import_cycle():
    """Module-level and function-level imports alike (a lazy import hides a cycle from
    Python, not from a reader): the import graph of lvmkit is acyclic."""
    graph = grimp.build_graph("lvmkit", cache_dir=None)
    order = graphlib.TopologicalSorter(
        {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    )
    try:
        order.prepare()
    except graphlib.CycleError as err:
        raise AssertionError(f"import cycle: {' -> '.join(err.args[1])}") from None
