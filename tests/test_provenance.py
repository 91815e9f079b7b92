"""The book's Sphinx extension (_ext/provenance.py) and the records tasks.py writes for it.

Provenance footers (seed, date, time, versions) are rendered at build time, never as
notebook outputs; a notebook with a stored error output fails the build.
"""

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "_ext"))
import provenance  # noqa: E402

import tasks  # noqa: E402

RECORD = {
    "executed_utc": "2026-01-02T03:04:05Z",
    "seconds": 12.34,
    "versions": {
        "python": "3.11.2",
        "lvmkit": "0.1.0",
        "torch": "2.13.0",
        "numpy": "2.1.0",
    },
}


def notebook(first: str, outputs: list | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(first, execution_count=1)
    cell.outputs = outputs or [
        nbformat.v4.new_output("stream", name="stdout", text="hi\n")
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter\n\nText."), cell]
    return nb


def test_seed_is_read_from_the_first_cell_that_sets_one():
    assert provenance.notebook_seed(notebook("g = seed_everything(7)  # prints")) == 7
    assert provenance.notebook_seed(notebook("g = seed_everything(seed=12)")) == 12
    assert provenance.notebook_seed(notebook("print(1)")) is None


@pytest.mark.parametrize("path", tasks.toc_notebooks(), ids=lambda p: p.name)
def test_every_chapter_has_a_seed_for_its_footer(path):
    assert provenance.notebook_seed(json.loads(path.read_text())) is not None


def test_error_outputs_are_found():
    err = nbformat.v4.new_output(
        "error", ename="ValueError", evalue="bad alpha", traceback=[]
    )
    assert provenance.error_outputs(notebook("1/0", [err])) == [
        "cell 2: ValueError: bad alpha"
    ]
    assert provenance.error_outputs(notebook("1")) == []


def test_footer_with_a_record_lists_date_time_seed_and_versions():
    html = provenance.footer_html("chapters/x.ipynb", 0, RECORD, None)
    assert html.startswith('<details class="lvmkit-provenance"><summary>')
    for text in (
        "seed 0",
        "lvmkit 0.1.0",
        "2026-01-02 03:04 UTC",
        "12.3 s",
        "torch 2.13.0",
        "Python 3.11.2",
        "numpy 2.1.0",
    ):
        assert text in html, text


def test_footer_without_a_record_says_so():
    html = provenance.footer_html("chapters/x.ipynb", 3, None, 6.4)
    assert "seed 3" in html and "no execution record yet" in html and "6.4 s" in html
    assert "python3 tasks.py execute chapters/x.ipynb" in html


def test_tasks_records_date_and_versions_next_to_the_times(tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "RECORDS", tmp_path / "execution_provenance.json")
    # the environment running this test (.venv, or .venv-newest under --perturb newest)
    monkeypatch.setattr(tasks, "PY", Path(sys.executable))
    versions = tasks.package_versions()
    for name in (
        "lvmkit",
        "torch",
        "numpy",
        "scipy",
        "scikit-learn",
        "pytorch-lightning",
    ):
        assert versions[name] == version(name), name
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    tasks.record("chapters/a.ipynb", 1.26, versions)
    tasks.record("chapters/b.ipynb", 2.0, versions)
    records = json.loads(tasks.RECORDS.read_text())
    assert list(records) == ["chapters/a.ipynb", "chapters/b.ipynb"]
    assert records["chapters/a.ipynb"]["seconds"] == 1.3
    assert records["chapters/a.ipynb"]["executed_utc"].endswith("Z")
    # the times file keeps its flat form: the execution-statistics page sums its values
    times = json.loads(tasks.TIMES.read_text())
    assert all(isinstance(v, (int, float)) for v in times.values())


def build(src: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-b",
            "html",
            "-W",
            "-q",
            "-E",
            str(src),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def mini_book(tmp_path):
    """A two-notebook Sphinx project with myst-nb and the extension, like the book."""
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
        "extensions = ['myst_nb', 'provenance']\nnb_execution_mode = 'off'\n"
        "exclude_patterns = ['data']\n"
    )
    (src / "index.md").write_text("# Book\n\n```{toctree}\nrecorded\nunrecorded\n```\n")
    nbformat.write(notebook("g = seed_everything(3)"), src / "recorded.ipynb")
    nbformat.write(notebook("g = seed_everything(5)"), src / "unrecorded.ipynb")
    (src / "data" / "execution_provenance.json").write_text(
        json.dumps({"recorded.ipynb": RECORD})
    )
    (src / "data" / "execution_times.json").write_text(
        json.dumps({"recorded.ipynb": 12.3})
    )
    return src


def test_build_renders_the_footers(mini_book, tmp_path):
    result = build(mini_book, tmp_path / "html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "html" / "recorded.html").read_text()
    assert '<details class="lvmkit-provenance"><summary>Provenance: seed 3' in page
    assert "torch 2.13.0" in page and "2026-01-02 03:04 UTC" in page
    other = (tmp_path / "html" / "unrecorded.html").read_text()
    assert "seed 5 · no execution record yet" in other
    assert "lvmkit-provenance" not in (tmp_path / "html" / "index.html").read_text()


def test_stored_execution_error_fails_the_build(mini_book, tmp_path):
    err = nbformat.v4.new_output(
        "error", ename="RuntimeError", evalue="boom", traceback=[]
    )
    nbformat.write(
        notebook("g = seed_everything(5)", [err]), mini_book / "unrecorded.ipynb"
    )
    result = build(mini_book, tmp_path / "html")
    assert result.returncode != 0
    assert "execution errors fail the build" in result.stderr
    assert "unrecorded.ipynb: cell 2: RuntimeError: boom" in result.stderr
