"""Sphinx extension of the book: provenance footers, and stored errors fail the build.

The book renders stored outputs (``execute_notebooks: "off"``), so two facts about a
page come from ``python3 tasks.py execute`` rather than from the build:

- **Provenance.** Every notebook page ends with a collapsed ``<details>`` footer: the seed
  of its standard cell (``seed_everything(N)``), and, from
  ``data/execution_provenance.json``, when it was executed (UTC), how long it took and the
  versions of Python, lvmkit, torch, numpy, scipy, scikit-learn and Lightning it ran with.
  These are not notebook outputs: nbval compares outputs, and timings are banned there.
  A notebook without a record gets a footer that says so.
- **Execution errors fail the build.** A notebook with a stored ``error`` output stops
  the build with a message naming it, although nothing is executed.

It also drops inline scripts that two extensions registered twice (sphinx-thebe and
sphinx-togglebutton under Jupyter Book 1.x): a repeated ``const`` declaration is a
JavaScript error on every page.

Registered in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import SphinxError

__all__ = [
    "ExecutionErrorInNotebook",
    "error_outputs",
    "footer_html",
    "notebook_seed",
    "setup",
]

SEED = re.compile(r"seed_everything\(\s*(?:seed\s*=\s*)?(\d+)\s*\)")
# Label shown on the page -> key in the record's "versions".
PACKAGES = {
    "Python": "python",
    "lvmkit": "lvmkit",
    "torch": "torch",
    "numpy": "numpy",
    "scipy": "scipy",
    "scikit-learn": "scikit-learn",
    "Lightning": "pytorch-lightning",
}


class ExecutionErrorInNotebook(SphinxError):
    category = "Stored execution error (execution errors fail the build)"


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def notebook_seed(nb: dict[str, Any]) -> int | None:
    """The N of the first ``seed_everything(N)`` in the code cells, or None.

    Chapters call it in their standard cell, after the (removed) install cell.
    """
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            match = SEED.search(_source(cell))
            if match:
                return int(match.group(1))
    return None


def error_outputs(nb: dict[str, Any]) -> list[str]:
    """One line per stored ``error`` output: ``cell K: Name: value`` (K counts from 1)."""
    found = []
    for k, cell in enumerate(nb.get("cells", []), 1):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                found.append(f"cell {k}: {out.get('ename', '?')}: {out.get('evalue', '')}")
    return found


def footer_html(
    rel: str, seed: int | None, record: dict[str, Any] | None, seconds: float | None
) -> str:
    """The collapsed provenance footer of notebook ``rel`` (a path from the book root).

    Args:
        rel: the notebook, e.g. ``chapters/preface.ipynb``.
        seed: the seed its standard cell sets, or None if it sets none.
        record: its entry of ``data/execution_provenance.json`` (keys ``executed_utc``,
            ``seconds``, ``versions``), or None if it has none yet.
        seconds: its time in ``data/execution_times.json``, used when ``record`` is None.
    """
    esc = html.escape
    seed_text = f"seed {seed}" if seed is not None else "no seed_everything(N) in the first cell"
    if record is None:
        summary = f"Provenance: {seed_text} · no execution record yet"
        known = (
            f" The last recorded execution time is {seconds:.1f} s; its date and package"
            " versions were not recorded."
            if seconds is not None
            else ""
        )
        body = (
            f"<p>This notebook has no entry in <code>data/execution_provenance.json</code>."
            f"{esc(known)} <code>python3 tasks.py execute {esc(rel)}</code> re-executes it"
            " and records one.</p>"
        )
    else:
        versions = record.get("versions", {})
        date = str(record.get("executed_utc", "?")).replace("T", " ").removesuffix("Z")
        summary = (
            f"Provenance: {seed_text} · lvmkit {versions.get('lvmkit', '?')} · executed "
            f"{date[:16]} UTC in {float(record.get('seconds', float('nan'))):.1f} s"
        )
        items = "".join(
            f"<li>{esc(label)} {esc(str(versions[key]))}</li>"
            for label, key in PACKAGES.items()
            if key in versions
        )
        body = (
            f"<p>Executed top to bottom in a fresh kernel by <code>python3 tasks.py execute"
            f"</code> on {esc(date)} UTC, in {float(record.get('seconds', 0)):.1f} s of wall"
            f" clock, with:</p><ul>{items}</ul>"
            "<p>The outputs above are the stored ones; the book does not re-execute them.</p>"
        )
    return (
        f'<details class="lvmkit-provenance"><summary>{esc(summary)}</summary>'
        f"{body}</details>"
    )


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _notebook_docs(app: Sphinx) -> dict[str, Path]:
    env = app.env
    docs = {}
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix == ".ipynb":
            docs[docname] = path
    return docs


def check_errors(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Fail the build if any notebook of the book (not only the changed ones) stores an error."""
    bad = []
    for path in _notebook_docs(app).values():
        for line in error_outputs(json.loads(path.read_text())):
            bad.append(f"{path.relative_to(app.srcdir).as_posix()}: {line}")
    if bad:
        raise ExecutionErrorInNotebook(
            "execution errors fail the build, and these notebooks store error outputs "
            "(re-execute them with `python3 tasks.py execute NOTEBOOK`):\n  " + "\n  ".join(bad)
        )


def add_footer(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    path = Path(env.doc2path(env.docname))
    if path.suffix != ".ipynb":
        return
    root = Path(app.srcdir)
    record_path = root / app.config.provenance_file
    times_path = root / app.config.provenance_times_file
    for dep in (record_path, times_path):
        env.note_dependency(str(dep))  # a new record rebuilds the page
    rel = path.relative_to(root).as_posix()
    seconds = _read_json(times_path).get(rel)
    text = footer_html(
        rel,
        notebook_seed(json.loads(path.read_text())),
        _read_json(record_path).get(rel),
        seconds if isinstance(seconds, (int, float)) else None,
    )
    doctree.append(nodes.raw("", text, format="html"))


def drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Keep the first of identical script entries (same file or inline body, same attributes)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, kept = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", None) or {}
        # an inline script's filename is None or "", depending on who registered it
        name = str(getattr(js, "filename", js) or "")
        key = (name, tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept  # in place: the builder and later handlers hold this list


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("provenance_file", "data/execution_provenance.json", "env")
    app.add_config_value("provenance_times_file", "data/execution_times.json", "env")
    app.connect("env-before-read-docs", check_errors)
    app.connect("doctree-read", add_footer)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
