"""lvmkit outside the repository: the wheel, installed non-editable in a fresh venv, runs
a chapter copied to a temporary folder, with the cached data it carries (no download).

The fresh venv gets lvmkit from the wheel only (``pip install --no-deps``); its other
dependencies (torch, numpy, ...) come from the project's ``.venv`` through one ``.pth``
line, which adds that folder to ``sys.path`` without processing the ``.pth`` files in it,
so the project's editable install of lvmkit is not seen.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = (
    ROOT / "chapters" / "part1" / "hierarchies-as-priors.ipynb"
)  # loads treeworld.npz
SOURCES = ("pyproject.toml", "README.md", "lvmkit", "data")


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out


def _clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "LVMKIT_DATA", "VIRTUAL_ENV")
    }
    env["OMP_NUM_THREADS"] = "1"
    return env


def test_the_wheel_carries_every_cached_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = {
        Path(p).name
        for p in config["tool"]["setuptools"]["data-files"]["share/lvmkit/data"]
    }
    manifest = json.loads((ROOT / "data" / "MANIFEST.json").read_text())
    cached = {e["path"] for e in manifest["files"]} - {
        "execution_times.json",
        "execution_provenance.json",
    }
    assert cached | {"MANIFEST.json", "SHA256SUMS"} == shipped


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:  # build from a copy: no build/ or egg-info in the checkout
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(
                path, src / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(path, src / name)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            tmp / "dist",
            src,
        ],
        env=_clean_env(),
    )
    wheel = next((tmp / "dist").glob("lvmkit-*.whl"))
    venv.create(tmp / "venv", with_pip=False)
    py = tmp / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            py,
            "install",
            "--no-deps",
            "--quiet",
            wheel,
        ],
        env=_clean_env(),
    )
    purelib = _run(
        [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
    ).stdout.strip()
    Path(purelib, "project_dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    return py


def test_lvmkit_comes_from_the_wheel_with_its_data(wheel_python, tmp_path):
    code = (
        "import lvmkit, sys; from lvmkit.artifacts import load_npz; "
        "print(lvmkit.__file__); print(lvmkit.data_dir()); "
        "print(sorted(load_npz('treeworld.npz'))[:1])"
    )
    out = _run([wheel_python, "-c", code], cwd=tmp_path, env=_clean_env()).stdout.split(
        "\n"
    )
    venv_dir = wheel_python.parents[1]
    assert Path(out[0]).is_relative_to(venv_dir), out[0]
    assert Path(out[1]).is_relative_to(venv_dir), out[1]
    assert not Path(out[1]).is_relative_to(ROOT)


@pytest.mark.slow
def test_a_chapter_copied_out_of_the_repository_runs(wheel_python, tmp_path):
    """Execute the chapter top to bottom in a kernel of the fresh venv, in a folder
    outside the repository: no error, the same printed text as the stored outputs."""
    nb = json.loads(CHAPTER.read_text())
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "id": "where",
            "outputs": [],
            "source": [
                "import sys, lvmkit\n",
                "print(sys.executable)\n",
                "print(lvmkit.__file__)",
            ],
        }
    )
    (tmp_path / "chapter.ipynb").write_text(json.dumps(nb))
    code = (
        "import nbformat, nbclient; nb = nbformat.read('chapter.ipynb', as_version=4); "
        "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', "
        "resources={'metadata': {'path': '.'}}).execute(); "
        "nbformat.write(nb, 'executed.ipynb')"
    )
    _run([wheel_python, "-c", code], cwd=tmp_path, env=_clean_env())
    ran = json.loads((tmp_path / "executed.ipynb").read_text())
    where = "".join(ran["cells"][-1]["outputs"][0]["text"]).split("\n")
    venv_dir = wheel_python.parents[1]
    assert Path(where[0]).parent.parent == venv_dir, where[0]
    assert Path(where[1]).is_relative_to(venv_dir), where[1]

    def streams(cells):
        return [
            "".join(o["text"])
            for c in cells
            if c["cell_type"] == "code"
            for o in c.get("outputs", [])
            if o["output_type"] == "stream"
        ]

    stored, got = streams(nb["cells"][:-1]), streams(ran["cells"][:-1])
    assert got == stored
