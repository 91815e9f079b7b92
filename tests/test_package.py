"""The package: every public name imports, and ``import lvmkit`` stays light."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import lvmkit

MODULES = sorted(
    m.name.removeprefix("lvmkit.")
    for m in pkgutil.walk_packages(lvmkit.__path__, "lvmkit.")
)


def test_version_is_a_version_string():
    major, minor, patch = lvmkit.__version__.split(".")[:3]
    assert major.isdigit() and minor.isdigit() and patch[0].isdigit()


def test_there_are_modules():
    assert {"models", "estimators", "plotting", "book", "book.notebook"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_name_in_all_imports(name):
    module = importlib.import_module(f"lvmkit.{name}")
    assert hasattr(module, "__all__"), f"lvmkit.{name} has no __all__"
    assert len(set(module.__all__)) == len(module.__all__), (
        f"duplicates in lvmkit.{name}.__all__"
    )
    for public in module.__all__:
        assert hasattr(module, public), (
            f"lvmkit.{name}.__all__ names missing {public!r}"
        )


@pytest.mark.parametrize("name", MODULES)
def test_modules_have_docstrings(name):
    assert importlib.import_module(f"lvmkit.{name}").__doc__, (
        f"lvmkit.{name} has no docstring"
    )


def test_import_lvmkit_is_light():
    code = (
        "import sys, lvmkit; heavy = ['pytorch_lightning', 'lightning', 'matplotlib.pyplot', "
        "'seaborn', 'sklearn', 'skimage'] + [m for m in sys.modules if m.startswith('lvmkit.')]; "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_data_dir_points_at_the_repository_data(monkeypatch, tmp_path):
    assert (lvmkit.data_dir() / "README.md").exists()
    monkeypatch.setenv("LVMKIT_DATA", str(tmp_path))
    assert lvmkit.data_dir() == tmp_path
