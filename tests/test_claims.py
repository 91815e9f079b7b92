"""The claims ledger: every outline item has an entry, every entry is checked by a cell.

The ledger (CONTRIBUTING.md, "Claims ledger") is three kinds of files that must agree:
``chapters/claims/outline.yml`` (the series' items), ``chapters/claims/part*.yml`` (one
entry per item) and the ``claim`` metadata of the notebooks' asserting cells. The page
``chapters/claims-ledger.md`` is rendered from them by ``_ext/claims.py``, whose
functions these tests use too.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "_ext"))
import claims  # noqa: E402

import tasks  # noqa: E402

NOTEBOOKS = [p.relative_to(ROOT).as_posix() for p in tasks.toc_notebooks()]
OUTLINE = claims.load_outline(ROOT)
ENTRIES = claims.load_entries(ROOT)
CHECKS = claims.collect_checks(ROOT, NOTEBOOKS)
ID = re.compile(r"^p([123])-[a-z0-9]+(?:-[a-z0-9]+)*$")


def test_outline_keys_are_unique_and_titled():
    keys = [item["key"] for item in OUTLINE]
    assert len(keys) == len(set(keys)), "duplicate outline keys"
    assert all(item.get("title") for item in OUTLINE), "an outline item has no title"
    for part in ("Part 1", "Part 2", "Part 3"):
        assert any(k.startswith(part + ",") for k in keys), f"{part} has no outline items"


def test_entries_are_well_formed():
    ids = [e.get("id") for e in ENTRIES]
    assert len(ids) == len(set(ids)), "duplicate entry ids"
    for e in ENTRIES:
        assert set(e) >= {"id", "outline", "post", "file"}, e
        match = ID.match(str(e["id"]))
        assert match, f"{e['id']}: not kebab-case with a p1-/p2-/p3- prefix"
        assert e["file"] == f"part{match.group(1)}.yml", f"{e['id']} is in {e['file']}"
        assert e["outline"].startswith(f"Part {match.group(1)},"), e["id"]
        assert len(e["post"]) > 30, f"{e['id']}: say what the post claims"


def test_every_entry_keys_to_an_outline_item():
    keys = {item["key"] for item in OUTLINE}
    stray = [(e["id"], e["outline"]) for e in ENTRIES if e["outline"] not in keys]
    assert not stray, f"entries whose outline item is not in outline.yml: {stray}"


def test_every_outline_item_has_an_entry():
    covered = {e["outline"] for e in ENTRIES}
    missing = [item["key"] for item in OUTLINE if item["key"] not in covered]
    assert not missing, f"outline items without an entry in chapters/claims/: {missing}"


def test_every_entry_is_checked_by_a_cell():
    unchecked = [e["id"] for e in ENTRIES if not CHECKS.get(e["id"])]
    assert not unchecked, f"entries that no cell checks ('not yet checked'): {unchecked}"


def test_every_cell_claim_is_an_entry():
    ids = {e["id"] for e in ENTRIES}
    stray = [(c.notebook, c.cell, cid) for cid, cs in CHECKS.items() for c in cs
             if cid not in ids]
    assert not stray, f"cells claim ids that no yml entry has: {stray}"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_claim_metadata_is_valid(path):
    nb = json.loads((ROOT / path).read_text())
    glued = claims.glued_values(nb)
    for i, cell in enumerate(nb["cells"]):
        for claim in claims.claims_of_cell(cell):
            where = f"cell {i}, claim {claim.get('id')}"
            assert cell["cell_type"] == "code", where
            assert set(claim) <= {"id", "verdict", "measured", "note"}, where
            assert claim.get("verdict") in claims.VERDICTS, f"{where}: verdict"
            if claim["verdict"] == "caveats":
                assert claim.get("note"), f"{where}: a 'caveats' verdict says them in note"
            assert claim.get("measured"), f"{where}: what the book measured"
            _, missing = claims.fill(claim["measured"] + claim.get("note", ""), glued)
            assert not missing, f"{where}: {missing} are not glued in this notebook"
            source = "".join(cell["source"])
            assert "check(" in source or "check_replicates(" in source or "assert " in source, (
                f"{where} asserts nothing")


def test_cells_of_one_entry_agree_on_the_verdict():
    for cid, cells in CHECKS.items():
        verdicts = {c.claim["verdict"] for c in cells}
        assert len(verdicts) == 1, f"{cid}: cells disagree: {verdicts}"


def test_ledger_renders_every_item_with_counts_and_links():
    page = claims.ledger_html(OUTLINE, ENTRIES, CHECKS, "chapters/claims-ledger")
    assert page.count("<tr id=") == len(OUTLINE) + sum(
        max(0, sum(e["outline"] == item["key"] for e in ENTRIES) - 1) for item in OUTLINE
    )
    assert f"{len(OUTLINE)} claims" in page or "claims, one per item" in page
    for cid, cells in CHECKS.items():
        for c in cells:
            href = f'{c.notebook.removesuffix(".ipynb").removeprefix("chapters/")}.html'
            assert f'href="{href}#{c.anchor}"' in page, (cid, href)
    assert "{" not in re.sub(r"<style>.*?</style>", "", page), "an unfilled {name}"


def test_ledger_says_not_yet_checked_and_fills_glued_values():
    outline = [{"key": "Part 1, a", "title": "a"}, {"key": "Part 1, b", "title": "b"}]
    entries = [
        {"id": "p1-a", "outline": "Part 1, a", "post": "says a"},
        {"id": "p1-b", "outline": "Part 1, b", "post": "says b"},
    ]
    measured, missing = claims.fill("eta = {eta} +- {se} nats", {"eta": "5.85", "se": "0.44"})
    assert (measured, missing) == ("eta = 5.85 +- 0.44 nats", [])
    assert claims.fill("{nope}", {})[1] == ["nope"]
    check = claims.Check("chapters/part2/x.ipynb", 3, "claim-p1-a",
                         {"id": "p1-a", "verdict": "reproduced"}, measured)
    page = claims.ledger_html(outline, entries, {"p1-a": [check]}, "chapters/claims-ledger")
    assert 'href="part2/x.html#claim-p1-a"' in page and "eta = 5.85 +- 0.44 nats" in page
    assert "<strong>1</strong> reproduced" in page
    assert "<strong>1</strong> not yet checked" in page and "no cell checks" in page


def test_anchors_number_repeated_ids_on_a_page():
    meta = {"claim": [{"id": "p2-x"}, {"id": "p2-y"}]}
    nb = {"cells": [{"cell_type": "code", "metadata": meta},
                    {"cell_type": "markdown", "metadata": {}},
                    {"cell_type": "code", "metadata": {"claim": {"id": "p2-x"}}}]}
    assert [(i, a) for i, a, _ in claims.anchors(nb)] == [
        (0, "claim-p2-x"), (0, "claim-p2-y"), (2, "claim-p2-x-2")]


def test_glued_values_read_stored_records():
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "a"}},
         "data": {"application/papermill.record/text/plain": "5.85"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "s"}},
         "data": {"application/papermill.record/text/plain": "'below 1e-9'"}},
    ]}]}
    assert claims.glued_values(nb) == {"a": "5.85", "s": "below 1e-9"}


def test_ledger_page_is_in_the_toc_and_the_extension_registered():
    assert "chapters/claims-ledger" in tasks.toc_files()
    config = (ROOT / "_config.yml").read_text()
    assert re.search(r"^\s+claims: _ext$", config, re.M)
    assert "```{claims-ledger}" in (ROOT / "chapters/claims-ledger.md").read_text()
