"""The book's API reference page has one autodoc section per lvmkit module."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_has_a_section():
    page = (ROOT / "chapters" / "api-reference.md").read_text()
    documented = re.findall(r"^\.\. automodule:: lvmkit\.(\w+)$", page, re.M)
    modules = sorted(p.stem for p in (ROOT / "lvmkit").glob("*.py") if p.stem != "__init__")
    assert sorted(documented) == modules
    for name in documented:
        assert f"## lvmkit.{name}\n" in page, name
    assert "chapters/api-reference" in (ROOT / "_toc.yml").read_text()
