"""environment.yml (conda route) and pyproject.toml (pip route) name the same dependencies."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0]
    name = name.lower().replace("_", "-")
    return CONDA_TO_PYPI.get(name, name)


def pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("book", "test", "dev"):
        reqs += project["optional-dependencies"][extra]
    return {_name(r) for r in reqs}


def environment_names() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-\[\]]+.*)$", line)
        if m and not m.group(1).startswith(("pip", "-", "python")):
            names.add(_name(m.group(1)))
    return names - {"pip"}


def test_same_dependencies():
    assert environment_names() == pyproject_names()


def test_torch_range_admits_the_pinned_install_wheel():
    text = (ROOT / "tasks.py").read_text()
    pinned = re.search(r'"LVMKIT_TORCH", "torch==([0-9.]+)"', text).group(1)
    spec = next(
        r
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
        if _name(r) == "torch"
    )
    lo, hi = re.search(r">=([0-9.]+),<([0-9.]+)", spec).groups()

    def key(v):
        return tuple(int(p) for p in v.split("."))

    assert key(lo) <= key(pinned) < key(hi)


def test_binder_environment_runs_the_notebooks():
    """binder/ (repo2docker) has lvmkit's runtime dependencies, the kernel and glue, and
    postBuild installs lvmkit itself (repo2docker installs environment.yml before it
    copies the repository, so `-e .` cannot go there)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    text = (ROOT / "binder" / "environment.yml").read_text()
    names = set()
    for line in text.split("\ndependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-\[\]]+.*)$", line)
        if m and not m.group(1).startswith(("pip", "-", "python")):
            names.add(_name(m.group(1)))
    assert names == runtime | {"myst-nb", "ipykernel"}
    assert re.search(r"^\s+-\s+python=3\.\d+$", text, re.M), "repo2docker needs an exact python"
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert re.search(r"pip install .*-e \.\s*$", post.read_text(), re.M)
