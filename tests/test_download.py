"""A reader downloads a chapter's .ipynb and runs it, unchanged, outside the repository.

The environment is the project's (the README's install); the notebook must find lvmkit
and its cached data from any working directory.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import lvmkit

ROOT = Path(__file__).resolve().parents[1]


def texts(nb) -> list[list[str]]:
    """Per code cell, its stream and text/plain outputs (what nbval compares)."""
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            out.append([
                "".join(o.get("text", "")) if o["output_type"] == "stream"
                else "".join(o.get("data", {}).get("text/plain", ""))
                for o in cell["outputs"]
            ])  # fmt: skip
    return out


def test_data_dir_from_another_working_directory(tmp_path):
    code = "import lvmkit; print(lvmkit.data_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert Path(out.stdout.strip()) == ROOT / "data" == lvmkit.data_dir()
    assert (Path(out.stdout.strip()) / "treeworld.npz").exists()


@pytest.mark.slow
def test_downloaded_preface_runs_in_a_fresh_folder(tmp_path):
    assert not tmp_path.is_relative_to(ROOT)
    path = tmp_path / "preface.ipynb"
    shutil.copy(ROOT / "chapters" / "preface.ipynb", path)  # exactly the download button's file
    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, json.dumps(errors)[:2000]
    assert texts(nb) == texts(stored)
