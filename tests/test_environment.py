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
    pinned = re.search(r'^TORCH_VERSION = "([0-9.]+)"', text, re.M).group(1)
    spec = next(
        r
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
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
    assert re.search(r"^\s+-\s+python=3\.\d+$", text, re.M), (
        "repo2docker needs an exact python"
    )
    post = ROOT / "binder" / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert re.search(r"pip install .*-e \.\s*$", post.read_text(), re.M)


def lock_pins() -> dict[str, tuple[str, str]]:
    """requirements-lock.txt as {name: (version, environment marker)}."""
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.*))?$", line)
        if m:
            name = m.group(1).lower().replace("_", "-")
            assert name not in pins, f"{name} is pinned twice in the lock"
            pins[name] = (m.group(2), m.group(3) or "")
    return pins


def test_lock_satisfies_pyproject_ranges():
    """Every dependency of lvmkit and its book/test/dev extras is pinned in the lock at
    a version its range in pyproject.toml admits (markers evaluated for this machine),
    except torch, which tasks.py installs on its own."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("book", "test", "dev"):
        reqs += project["optional-dependencies"][extra]
    pins = lock_pins()
    for text in reqs:
        req = Requirement(text)
        name = req.name.lower().replace("_", "-")
        if name == "torch":
            continue
        assert name in pins, f"{name} ({text}) is not in requirements-lock.txt"
        version, marker = pins[name]
        assert not marker or Marker(marker).evaluate(), (
            f"{name} is locked only for {marker}"
        )
        assert req.specifier.contains(version, prereleases=True), (
            f"the lock pins {name}=={version}, outside pyproject.toml's {req.specifier}"
        )


def test_lock_leaves_torch_and_its_build_variant_to_pip():
    """The lock must serve both the CPU wheel and the default (CUDA) build of torch."""
    unlocked = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*)$")
    assert not [name for name in lock_pins() if unlocked.match(name)]


def test_installed_environment_is_the_lock():
    """The environment the tests run in holds the lock's versions (tasks.py installs
    it so): drift between the lock and what actually ran would hide here."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.markers import Marker

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip(
            f"not the locked .venv but {sys.prefix} (conda, or --perturb newest)"
        )
    wrong = {}
    for name, (pinned, marker) in lock_pins().items():
        if marker and not Marker(marker).evaluate():
            continue
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != pinned:
            wrong[name] = (pinned, have)
    assert not wrong, (
        f"installed versions differ from the lock (pinned, installed): {wrong}"
    )
