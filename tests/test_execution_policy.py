"""The execution rule has teeth: nbval really compares, and unexecuted notebooks fail.

These tests run nbval on a tampered copy of the preface in a subprocess, exactly as
``python3 tasks.py test`` runs it on the real chapters.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PREFACE = ROOT / "chapters" / "preface.ipynb"


def run_nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "--rootdir",
            str(path.parent),
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=600,
    )


def tamper_first_number(nb: dict) -> dict:
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", []))
            if out.get("output_type") == "stream" and "posterior variance:" in text:
                out["text"] = [text.replace("0.2 ", "0.3 ")]
                return nb
    raise AssertionError("the preface no longer prints 'posterior variance:'")


@pytest.mark.slow
def test_changed_stored_number_fails_nbval(tmp_path):
    nb = tamper_first_number(json.loads(PREFACE.read_text()))
    path = tmp_path / "tampered.ipynb"
    path.write_text(json.dumps(nb))
    result = run_nbval(path)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "0.3" in result.stdout and "0.2" in result.stdout


def test_notebook_without_outputs_fails_hygiene(tmp_path):
    sys.path.insert(0, str(ROOT / "tests"))
    import test_notebooks as hygiene

    nb = json.loads(PREFACE.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path = tmp_path / "stripped.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(AssertionError, match="never executed"):
        hygiene.test_executed_in_order_in_a_fresh_kernel(path)
    with pytest.raises(AssertionError, match="no outputs"):
        hygiene.test_outputs_are_stored(path)
