"""The book's API reference page has one autodoc section per lvmkit module."""

import pkgutil
import re
from pathlib import Path

import lvmkit

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_has_a_section():
    page = (ROOT / "chapters" / "api-reference.md").read_text()
    documented = re.findall(r"^\.\. automodule:: (lvmkit(?:\.\w+)+)$", page, re.M)
    modules = sorted(m.name for m in pkgutil.walk_packages(lvmkit.__path__, "lvmkit."))
    assert sorted(documented) == modules, "run `python scripts/api_reference.py`"
    for name in documented:
        assert f"## {name}\n" in page, name
    assert "chapters/api-reference" in (ROOT / "_toc.yml").read_text()
