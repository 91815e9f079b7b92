"""Sphinx extension of the book: the Claims ledger page, built from the notebooks.

Every claim of the series has an entry in ``chapters/claims/part*.yml`` (``id``,
``outline``, ``post``), keyed to an item of ``chapters/claims/outline.yml``. The cell
that checks a claim carries, in its metadata, ``"claim": {"id", "verdict", "measured",
"note"}`` (or a list of such dicts when one check settles several entries); ``measured``
is a short text in which ``{name}`` stands for a value glued in the same notebook
(``lvmkit.book.record``). See CONTRIBUTING.md, "Claims ledger".

- The directive ``{claims-ledger}`` (in ``chapters/claims-ledger.md``) renders one row
  per outline item: the item, what the post says, what the book measured (the template
  filled with the glued values of the stored outputs), the verdict and a link to each
  asserting cell; verdict counts stand above the table. An entry that no cell checks
  reads "not yet checked". The page depends on the yml files and every notebook, so a
  changed notebook rebuilds it: it cannot drift from them.
- On every notebook page, each asserting cell gets the HTML anchor ``claim-<id>`` (the
  second cell of the same id on a page ``claim-<id>-2``, and so on), which the ledger
  links to.

Everything but the Sphinx glue is plain functions of the files, which
``tests/test_claims.py`` uses too. Registered in ``_config.yml`` under
``sphinx: local_extensions``.
"""

from __future__ import annotations

import ast
import html
import json
import posixpath
import re
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

__all__ = [
    "VERDICTS",
    "Check",
    "anchors",
    "claims_of_cell",
    "collect_checks",
    "fill",
    "glued_values",
    "ledger_html",
    "load_entries",
    "load_outline",
    "setup",
]

CLAIMS_DIR = "chapters/claims"
# verdict -> how the page says it
VERDICTS = {
    "identity": "an identity, checked exactly",
    "reproduced": "reproduced",
    "caveats": "reproduced with caveats",
    "not-reproduced": "not reproduced",
}
UNCHECKED = "not yet checked"
NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
GLUE_MIME = "application/papermill.record/text/plain"


class Check(NamedTuple):
    """One asserting cell of one entry."""

    notebook: str  # path from the book root, e.g. chapters/part2/bayes-loop.ipynb
    cell: int  # index of the cell in the notebook
    anchor: str  # HTML id of the cell on its page
    claim: dict[str, Any]  # the cell's claim metadata for this entry
    measured: str  # the template with the glued values filled in


def load_outline(root: Path) -> list[dict[str, str]]:
    """The outline items, ``[{key, title}, ...]``, in the order of the series."""
    return yaml.safe_load((Path(root) / CLAIMS_DIR / "outline.yml").read_text()) or []


def load_entries(root: Path) -> list[dict[str, Any]]:
    """Every entry of ``chapters/claims/part*.yml``, each with ``file`` added."""
    entries = []
    for path in sorted((Path(root) / CLAIMS_DIR).glob("part*.yml")):
        for entry in yaml.safe_load(path.read_text()) or []:
            entries.append({**entry, "file": path.name})
    return entries


def claims_of_cell(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim dicts in a cell's metadata (none, one, or a list)."""
    claim = cell.get("metadata", {}).get("claim")
    if claim is None:
        return []
    return list(claim) if isinstance(claim, list) else [claim]


def glued_values(nb: dict[str, Any]) -> dict[str, str]:
    """Name -> text of every value glued in the notebook's stored outputs.

    The text is what ``{glue:text}`name``` shows: the stored ``text/plain``, with the
    quotes of a string removed.
    """
    values = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) or []:
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            data = out.get("data", {})
            text = data.get(GLUE_MIME, data.get("text/plain"))
            if name is None or text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            try:
                value = ast.literal_eval(text)
            except (SyntaxError, ValueError):
                value = text
            values[name] = str(value)
    return values


def fill(template: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """``template`` with each ``{name}`` replaced by its glued value; and the missing names."""
    missing = [n for n in NAME.findall(template) if n not in values]
    return NAME.sub(lambda m: values.get(m.group(1), "{" + m.group(1) + "?}"), template), missing


def anchors(nb: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """``(cell index, HTML id, claim)`` for every claim of every cell, in page order."""
    seen: Counter[str] = Counter()
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        for claim in claims_of_cell(cell):
            cid = str(claim.get("id", ""))
            seen[cid] += 1
            anchor = f"claim-{cid}" if seen[cid] == 1 else f"claim-{cid}-{seen[cid]}"
            found.append((i, anchor, claim))
    return found


def collect_checks(root: Path, notebooks: list[str]) -> dict[str, list[Check]]:
    """Entry id -> its asserting cells across ``notebooks`` (paths from ``root``)."""
    checks: dict[str, list[Check]] = {}
    for rel in notebooks:
        nb = json.loads((Path(root) / rel).read_text())
        values = glued_values(nb)
        for cell, anchor, claim in anchors(nb):
            measured, _ = fill(str(claim.get("measured", "")), values)
            if claim.get("note"):  # a note may quote glued values too
                claim = {**claim, "note": fill(str(claim["note"]), values)[0]}
            checks.setdefault(str(claim.get("id")), []).append(
                Check(rel, cell, anchor, claim, measured)
            )
    return checks


def _badge(verdict: str | None) -> str:
    label = VERDICTS.get(verdict or "", UNCHECKED)
    return f'<span class="claim-verdict claim-{html.escape(verdict or "unchecked")}">{label}</span>'


def ledger_html(
    outline: list[dict[str, str]],
    entries: list[dict[str, Any]],
    checks: dict[str, list[Check]],
    page: str,
) -> str:
    """The ledger: verdict counts, then one table row per outline item.

    ``page`` is the ledger's own document name (``chapters/claims-ledger``); links to
    the notebooks' pages are relative to it. An item's verdict is that of its first
    asserting cell (the cells of one entry should agree; the test checks they do).
    """
    esc = html.escape
    by_key: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_key.setdefault(str(entry.get("outline")), []).append(entry)
    rows, counts = [], Counter()
    here = posixpath.dirname(page)
    for item in outline:
        key = item["key"]
        for entry in by_key.get(key) or [{"id": None, "post": ""}]:
            cells = checks.get(str(entry["id"]), []) if entry["id"] else []
            verdict = cells[0].claim.get("verdict") if cells else None
            counts[VERDICTS.get(verdict or "", UNCHECKED)] += 1
            measured = "".join(
                f'<p>{esc(c.measured)} <a class="claim-link" href="'
                f'{esc(posixpath.relpath(c.notebook.removesuffix(".ipynb"), here))}.html'
                f'#{esc(c.anchor)}">(cell)</a></p>'
                for c in cells
            ) or "<p>no cell checks this claim yet</p>"
            notes = "".join(
                f'<p class="claim-note">{esc(str(c.claim["note"]))}</p>'
                for c in cells if c.claim.get("note")
            )
            ident = f'<br><code>{esc(entry["id"])}</code>' if entry["id"] else ""
            rows.append(
                f'<tr id="ledger-{esc(entry["id"] or key)}"><td><strong>{esc(key)}</strong>'
                f'<br>{esc(item.get("title", ""))}{ident}</td>'
                f'<td>{esc(str(entry.get("post", "")))}</td><td>{measured}</td>'
                f"<td>{_badge(verdict)}{notes}</td></tr>"
            )
    order = [*VERDICTS.values(), UNCHECKED]
    summary = "".join(
        f"<li><strong>{counts[label]}</strong> {esc(label)}</li>"
        for label in order if counts[label] or label != UNCHECKED
    )
    total = sum(counts.values())
    return (
        f'<div class="claims-ledger"><p>{total} claims, one per item of the outline:</p>'
        f'<ul class="claim-counts">{summary}</ul>'
        '<div class="pst-scrollable-table-container"><table class="table claims-table">'
        '<colgroup><col style="width: 24%"><col style="width: 30%"><col style="width: 32%">'
        '<col style="width: 14%"></colgroup>'
        "<thead><tr><th>outline item</th><th>what the post says</th>"
        "<th>what the book measured</th><th>verdict</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></div>"
    )


def _notebooks(app: Sphinx) -> list[str]:
    env = app.env
    root = Path(app.srcdir)
    found = []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix == ".ipynb":
            found.append(path.relative_to(root).as_posix())
    return found


class ClaimsLedger(SphinxDirective):
    """``{claims-ledger}``: the table of every claim, from the yml files and notebooks."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        notebooks = _notebooks(self.env.app)
        for dep in [*sorted((root / CLAIMS_DIR).glob("*.yml")), *notebooks]:
            self.env.note_dependency(str(root / dep))
        text = ledger_html(
            load_outline(root),
            load_entries(root),
            collect_checks(root, notebooks),
            self.env.docname,
        )
        return [nodes.raw("", text, format="html")]


def add_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Give every asserting cell of a notebook page its ``claim-<id>`` anchor."""
    path = Path(app.env.doc2path(app.env.docname))
    if path.suffix != ".ipynb":
        return
    by_cell: dict[int, list[str]] = {}
    for cell, anchor, _ in anchors(json.loads(path.read_text())):
        by_cell.setdefault(cell, []).append(anchor)
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") == "cell_code" and node.get("cell_index") in by_cell:
            node["ids"].extend(by_cell[node["cell_index"]])


CSS = """
.claims-table td { vertical-align: top; font-size: 0.9em; }
.claims-table td p { margin: 0 0 0.3em 0; }
.claim-verdict { font-weight: 600; }
.claim-identity { color: #1565c0; } .claim-reproduced { color: #2e7d32; }
.claim-caveats { color: #b26a00; } .claim-not-reproduced { color: #c62828; }
.claim-unchecked { color: #6d6d6d; }
.claim-note { font-size: 0.9em; opacity: 0.85; }
.claim-counts { columns: 2; }
.claims-table .claim-verdict { white-space: normal; }
@media (max-width: 767.98px) {
  .claims-table, .claims-table tbody, .claims-table tr, .claims-table td { display: block; }
  .claims-table thead, .claims-table colgroup { display: none; }
  .claims-table tr { border-bottom: 2px solid var(--pst-color-border, #ccc); }
}
"""


def add_css(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if pagename.endswith("claims-ledger") and "body" in context:
        context["body"] = f"<style>{CSS}</style>" + context.get("body", "")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("claims-ledger", ClaimsLedger)
    app.connect("doctree-read", add_anchors)
    app.connect("html-page-context", add_css)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
