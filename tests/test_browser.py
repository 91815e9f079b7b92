"""The built book in a real browser, offline: every page, and the checker's own teeth.

Builds the book into a temporary folder (or reuses ``_build/html`` when it is newer than
every input), opens every page from ``file://`` in headless Chromium with the network
blocked (``tests/browser_check.py``), and keeps screenshots of three pages under
``_build/screenshots/``. Skips, saying why, without playwright or a system Chromium
(``python3 tasks.py test`` installs Debian's chromium when it runs as root).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
import browser_check  # noqa: E402

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
if browser_check.chromium() is None:
    pytest.skip(
        "no system Chromium (/usr/bin/chromium): `apt-get install -y chromium`, which "
        "`python3 tasks.py test` does when it runs as root",
        allow_module_level=True,
    )

SCREENSHOTS = {
    "index.html": "index.png",
    "chapters/part2/sparse-coding.html#learning-the-dictionary": "sparse-coding.png",
    "chapters/part2/bayes-loop.html": "bayes-loop.png",
}
# What the book is built from: a built site older than any of these is stale.
INPUTS = ["_config.yml", "_toc.yml", "index.md", "references.bib", "chapters", "lvmkit", "_static",
          "_ext", "data/execution_times.json", "data/execution_provenance.json"]  # fmt: skip


def newest_input() -> float:
    times = []
    for name in INPUTS:
        path = ROOT / name
        files = path.rglob("*") if path.is_dir() else [path]
        times += [f.stat().st_mtime for f in files if f.is_file()]
    return max(times)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    built = ROOT / "_build" / "html"
    index = built / "index.html"
    if index.exists() and index.stat().st_mtime > newest_input():
        return built
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [jb, "build", ROOT, "--path-output", out, "--warningiserror", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html"


def test_every_page_reads_offline(site):
    shots = ROOT / "_build" / "screenshots"
    pages = browser_check.site_pages(site)
    toc = browser_check.toc_pages()
    assert set(toc) <= set(pages), f"chapters not built: {sorted(set(toc) - set(pages))}"
    problems = browser_check.check_site(
        site, toc=toc, screenshots={k: shots / v for k, v in SCREENSHOTS.items()}
    )
    assert not problems, "\n".join(map(str, problems))
    for name in SCREENSHOTS.values():
        assert (shots / name).stat().st_size > 10_000, name


def test_mathjax_is_served_by_the_site(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    for page in browser_check.site_pages(site):
        text = (site / page).read_text()
        scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", text)
        assert not [s for s in scripts if browser_check.EXTERNAL.match(s)], page


def test_chapters_have_download_and_launch_buttons(site):
    page = (site / "chapters" / "preface.html").read_text()
    assert 'href="../_sources/chapters/preface.ipynb"' in page
    assert (site / "_sources" / "chapters" / "preface.ipynb").exists()
    repo = "lvmkit/executable-essays"
    assert f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/chapters/preface.ipynb" in page
    assert f"https://colab.research.google.com/github/{repo}/blob/main/chapters/preface.ipynb" in (
        page
    )
    assert '<details class="lvmkit-provenance"><summary>Provenance: seed 0' in page


@pytest.fixture
def broken(site, tmp_path) -> Path:
    """A copy of the site whose pages can be edited (the assets are linked, not copied)."""
    copy = tmp_path / "html"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("_static", "_images", "_sources"))
    for name in ("_static", "_images", "_sources"):
        if (site / name).exists():
            (copy / name).symlink_to(site / name)
    return copy


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count))


def kinds(problems) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.kind, []).append(p.detail)
    return out


def test_checker_reports_each_defect(broken):
    """Each defect class, planted in a copy of a real page, is reported; the intact page
    of the same copy is clean, so the reports come from the defects."""
    name = "chapters/part2/sparse-coding.html"
    page = broken / name
    assert browser_check.check_site(broken, pages=[name]) == []
    text = page.read_text()
    img = re.search(r'<img[^>]* src="([^"]+\.png)"', text).group(1)
    edit(page, f'src="{img}"', 'src="../../_images/no-such-figure.png"')  # (a) image
    maths = re.findall(r'<span class="math notranslate nohighlight">(\\\(.+?\\\))</span>', text)
    edit(page, maths[0], r"\(x^{1}^{2}\)")  # (b) a TeX error
    edit(page, maths[1], r"\(\undefinedmacro x\)")  # (b) an undefined macro
    edit(page, maths[-1], r"\(\frac{1}{\)")  # (b) unbalanced: MathJax cannot even find it
    link = re.search(r'<a class="reference internal" href="([^"#]+\.html)"', text).group(1)
    edit(page, f'href="{link}"', 'href="no-such-page.html"')  # (c) a link to no file
    edit(page, 'href="#', 'href="#no-such-anchor', 1)  # (c) a link to no anchor
    edit(page, "</head>", '<script src="https://cdn.example.org/x.js"></script></head>')
    found = kinds(browser_check.check_site(broken, pages=[name]))
    assert any("no-such-figure.png" in d for d in found["image"]), found
    assert 'MathJax error: merror in "x^{1}^{2}"' in found["math"], found
    assert any(d.startswith("MathJax error: undefined") for d in found["math"]), found
    assert any(d == r"not typeset: \(\frac{1}{\)" for d in found["math"]), found
    assert any("no-such-page.html" in d for d in found["link"]), found
    assert any("#no-such-anchor" in d for d in found["link"]), found
    assert any("cdn.example.org" in d for d in found["network"]), found


def test_checker_reports_math_without_mathjax_and_a_lost_chapter(broken):
    name = "chapters/part2/bayes-loop.html"
    page = broken / name
    text = page.read_text()
    assert browser_check.check_site(broken, pages=[name], toc=["chapters/preface.html"]) == []
    # (b) the MathJax script removed: the equations stay TeX source
    text, n = re.subn(r'<script[^>]*src="[^"]*mathjax/tex-chtml\.js[^"]*"></script>', "", text)
    assert n == 1
    # the sidebar loses its link to the preface
    text, n = re.subn(r'<a class="reference internal" href="\.\./preface\.html">', "<a>", text)
    assert n == 1
    page.write_text(text)
    found = kinds(browser_check.check_site(broken, pages=[name], toc=["chapters/preface.html"]))
    assert any(d.startswith("not typeset") for d in found["math"]), found
    assert found["navigation"] == ["sidebar has no link to chapters/preface.html"], found
