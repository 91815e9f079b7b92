"""Notebook hygiene: what nbval and the rendered book rely on.

nbval re-executes each notebook and compares outputs with the stored ones; the
book renders the stored outputs. Both only mean something if the stored outputs are
a complete, clean, top-to-bottom run.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402

NOTEBOOKS = tasks.toc_notebooks()
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")
MACHINE_PATH = re.compile(
    r"(?:^|[\s'\"(=])/(?:home|root|tmp|usr|work|Users|opt|var)/|[A-Z]:\\\\"
)
PROGRESS = re.compile(r"\d+%\|")
TIMING = re.compile(r"\b(?:CPU times|Wall time|\d+(?:\.\d+)? ?(?:ms|µs|s) ± )")


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def code_cells(path):
    nb = json.loads(path.read_text())
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]


# The first cell of every chapter, removed from the rendered page (tag remove-cell): a
# downloaded notebook opened on Colab (or anywhere without the book's environment) fetches
# the book and installs lvmkit; where lvmkit is importable (CI, Binder, a local .venv) it
# does nothing and prints nothing.
INSTALL_CELL = """\
# Outside the book's environment (e.g. Colab): clone the book and install lvmkit.
import importlib.util
import sys

if importlib.util.find_spec("lvmkit") is None:
    !git clone --quiet --depth 1 https://github.com/lvmkit/executable-essays essays
    %pip install --quiet -e essays
    sys.path.insert(0, "essays")"""


def text_of(output):
    if output["output_type"] == "stream":
        return "".join(output["text"])
    return "".join(output.get("data", {}).get("text/plain", ""))


def test_toc_lists_existing_files_only():
    for name in tasks.toc_files():
        path = ROOT / name
        assert (
            any(path.with_suffix(s).exists() for s in (".ipynb", ".md"))
            or path.exists()
        ), name


def test_toc_has_notebooks():
    assert NOTEBOOKS, "_toc.yml lists no notebook: nbval would compare nothing"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(NOTEBOOKS)
    stray = [
        p
        for p in (ROOT / "chapters").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p not in listed
    ]
    assert not stray, (
        f"notebooks missing from _toc.yml (untested, unrendered): {ids(stray)}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_executed_in_order_in_a_fresh_kernel(path):
    counts = [c["execution_count"] for c in code_cells(path)]
    assert None not in counts, "some code cells were never executed: store outputs"
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts {counts} are not 1..n"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_outputs_are_stored(path):
    cells = code_cells(path)
    assert sum(len(c["outputs"]) for c in cells) > 0, "no outputs stored"
    install, cells = cells[0], cells[1:]
    assert "".join(install["source"]) == INSTALL_CELL, (
        "the install cell is missing or changed"
    )
    assert "remove-cell" in install["metadata"].get("tags", [])
    assert install["outputs"] == [], (
        "the install cell must do nothing where lvmkit is installed"
    )
    first = "".join(cells[0]["source"])
    assert "seed_everything(" in first and "use_style()" in first, (
        "first cell is not the standard one"
    )
    assert any("seed = " in text_of(o) for o in cells[0]["outputs"]), (
        "seed not shown on the page"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_outputs_are_clean(path):
    for i, cell in enumerate(code_cells(path)):
        for out in cell["outputs"]:
            where = f"code cell {i}"
            assert out["output_type"] != "error", f"{where} stored an error"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"{where}: stderr"
            )
            txt = text_of(out)
            assert not ADDRESS.search(txt), f"{where} shows a memory address"
            assert not MACHINE_PATH.search(txt), f"{where} shows a machine path"
            assert not PROGRESS.search(txt), f"{where} shows a progress bar"
            assert not TIMING.search(txt), f"{where} shows a timing"
            data = out.get("data", {})
            assert not {"image/svg+xml", "application/pdf"} & set(data), (
                f"{where}: figures must be PNG"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_claims_are_asserted(path):
    sources = "\n".join("".join(c["source"]) for c in code_cells(path))
    assert "check(" in sources or "assert " in sources, (
        "a chapter closes each claim with a check (lvmkit.book.check)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_glued_values_are_rounded(path):
    """A glued raw float would make nbval depend on the last digits of the CPU's arithmetic."""
    for i, cell in enumerate(code_cells(path)):
        for out in cell["outputs"]:
            for mime, value in out.get("data", {}).items():
                if "papermill.record" in mime or "scrapbook" in out.get("metadata", {}):
                    if mime.endswith("text/plain"):
                        txt = "".join(value)
                        digits = re.findall(r"\d+\.(\d+)", txt)
                        assert all(len(d) <= 8 for d in digits), (
                            f"cell {i} glues unrounded {txt}"
                        )


def figure_cells(path):
    return [
        c
        for c in code_cells(path)
        if any("image/png" in o.get("data", {}) for o in c["outputs"])
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_are_numbered_and_captioned(path):
    """Every figure renders as a numbered figure (myst-nb cell metadata) that the text cites."""
    markdown = "\n".join(
        "".join(c["source"])
        for c in json.loads(path.read_text())["cells"]
        if c["cell_type"] == "markdown"
    )
    for i, cell in enumerate(figure_cells(path)):
        fig = cell["metadata"].get("mystnb", {}).get("figure", {})
        assert fig.get("name", "").startswith("fig-"), (
            f"figure cell {i} has no fig-* label"
        )
        assert len(fig.get("caption", "")) > 20, (
            f"figure {fig.get('name')} has no caption"
        )
        assert f"{{numref}}`{fig['name']}`" in markdown, (
            f"{fig['name']} is never referenced"
        )
        assert "hide-input" in cell["metadata"].get("tags", []), (
            f"{fig['name']}: input shown"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_figures_are_opaque(path):
    """Opaque PNGs read the same on the book's light and dark themes."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    for cell in figure_cells(path):
        for out in cell["outputs"]:
            if "image/png" in out.get("data", {}):
                png = Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
                alpha = np.asarray(png.convert("RGBA"))[..., 3]
                assert alpha.min() == 255, "a figure has transparent pixels"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_markdown_has_no_control_characters(path):
    r"""Catches "\frac" turned into a form feed by an unescaped string."""
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        text = "".join(cell["source"])
        bad = re.search(r"[\x00-\x08\x0b-\x1f]", text)
        assert bad is None, f"cell {i} contains control character {bad.group()!r}"


def test_install_cell_is_valid_ipython():
    """The install cell's shell and pip magics sit inside an if: IPython must transform them."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(INSTALL_CELL)
    compile(code, "install-cell", "exec")
    assert "get_ipython().system('git clone" in code
    assert "run_line_magic('pip', 'install --quiet -e essays')" in code


# Page rules (CONTRIBUTING.md, "What a reader sees"): code and printed output fit the
# content column (88 characters), code is ruff-formatted, tables are HTML.
LINE_LIMIT = 88
RUFF_CONFIG = ROOT / "chapters" / "ruff.toml"
# A text table: at least 3 consecutive printed lines, each with an internal run of 2 or
# more spaces between non-space characters (columns aligned by padding). Print such
# rows as a pandas DataFrame instead: its text/plain form is what nbval compares, its
# text/html form is what the page shows.
PADDED = re.compile(r"\S {2,}\S")
TABLE_ROWS = 3


def ruff(*args):
    import subprocess

    exe = Path(sys.executable).with_name("ruff")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ruff"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=ROOT)


def printed_lines(cell):
    """The lines a reader sees as text under a cell: streams and plain-text results.

    Not glued values (never shown), figures, and not outputs with an HTML form (a
    DataFrame, a claim line of ``check``): the page shows their HTML, which wraps to the
    column and which the browser test measures.
    """
    for out in cell["outputs"]:
        data = out.get("data", {})
        if out.get("metadata", {}).get("scrapbook") or {"image/png", "text/html"} & set(
            data
        ):
            continue
        yield from text_of(out).splitlines()


def text_table(lines, rows=TABLE_ROWS):
    """The first block of ``rows`` consecutive padded lines, or None."""
    block = []
    for line in lines:
        block = [*block, line] if PADDED.search(line.rstrip()) else []
        if len(block) >= rows:
            return block
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_code_is_ruff_formatted_and_clean(path):
    rel = str(path.relative_to(ROOT))
    fmt = ruff("format", "--check", "--diff", "--config", str(RUFF_CONFIG), rel)
    assert fmt.returncode == 0, (
        f"run `ruff format --config chapters/ruff.toml {rel}`:\n"
        + (fmt.stdout + fmt.stderr)[-3000:]
    )
    lint = ruff(
        "check", "--config", str(RUFF_CONFIG), "--output-format", "concise", rel
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_line_wider_than_the_column(path):
    """No code line (but the pinned install cell) and no printed line over 88 characters."""
    long = []
    for i, cell in enumerate(code_cells(path)):
        source = "".join(cell["source"])
        if source != INSTALL_CELL:
            long += [
                f"code cell {i}: {line[:60]}..."
                for line in source.splitlines()
                if len(line) > LINE_LIMIT
            ]
        long += [
            f"output of code cell {i}: {line[:60]}..."
            for line in printed_lines(cell)
            if len(line) > LINE_LIMIT
        ]
    assert not long, f"{len(long)} lines over {LINE_LIMIT} characters:\n" + "\n".join(
        long
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_printed_text_tables(path):
    for i, cell in enumerate(code_cells(path)):
        for out in cell["outputs"]:
            if out["output_type"] == "stream":
                block = text_table("".join(out["text"]).splitlines())
                assert block is None, (
                    f"code cell {i} prints a text table; show a pandas DataFrame:\n"
                    + "\n".join(block)
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_semicolon_joined_statements(path):
    for i, cell in enumerate(code_cells(path)):
        lint = [
            line
            for line in "".join(cell["source"]).splitlines()
            if re.search(r";\s*[A-Za-z_]", line.split("#")[0])
            and not re.search(r"""["'][^"']*;[^"']*["']""", line)
        ]
        assert not lint, f"code cell {i} joins statements with ';': {lint}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_bookkeeping_is_hidden(path):
    """Glued values never display, and a cell that only records values is removed."""
    for i, cell in enumerate(code_cells(path)):
        tags = cell["metadata"].get("tags", [])
        for out in cell["outputs"]:
            if out.get("metadata", {}).get("scrapbook"):
                data = out.get("data", {})
                shown = [m for m in data if not m.startswith("application/papermill")]
                assert not shown, f"code cell {i} displays a glued value: use record()"
        lines = [
            ln
            for ln in "".join(cell["source"]).splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")
        ]
        if lines and all(re.match(r"\s*(record|glue)\(", ln) for ln in lines):
            assert "remove-cell" in tags, (
                f"code cell {i} only records values: tag remove-cell"
            )


def test_text_table_detector():
    assert text_table(["a  1  x", "b  2  y", "c  3  z"]) is not None
    assert text_table(["a  1", "b = 2", "c  3"]) is None
    assert text_table(["eta = 5.85 +- 0.44 nats", "  indented line", "x"]) is None
