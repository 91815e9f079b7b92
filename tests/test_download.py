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
    """Per code cell, its stream and text/plain outputs, streams coalesced as nbval does.

    A kernel may flush one cell's prints as one stream output or several; nbval joins
    consecutive outputs of the same stream before comparing, and so does this.
    """
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        parts: list[str] = []
        previous = None
        for o in cell["outputs"]:
            if o["output_type"] == "stream":
                text = "".join(o.get("text", ""))
                if previous == o["name"]:
                    parts[-1] += text
                else:
                    parts.append(text)
                previous = o["name"]
            else:
                parts.append("".join(o.get("data", {}).get("text/plain", "")))
                previous = None
        out.append(parts)
    return out


def test_data_dir_from_another_working_directory(tmp_path):
    code = "import lvmkit; print(lvmkit.data_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(out.stdout.strip()) == ROOT / "data" == lvmkit.data_dir()
    assert (Path(out.stdout.strip()) / "treeworld.npz").exists()


@pytest.mark.slow
def test_downloaded_preface_runs_in_a_fresh_folder(tmp_path):
    assert not tmp_path.is_relative_to(ROOT)
    path = tmp_path / "preface.ipynb"
    shutil.copy(
        ROOT / "chapters" / "preface.ipynb", path
    )  # exactly the download button's file
    stored = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    errors = [
        o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors, json.dumps(errors)[:2000]
    assert texts(nb) == texts(stored)
