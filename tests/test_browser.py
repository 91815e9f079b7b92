"""The built book in a real browser, offline: every page, and the checker's own teeth.

Builds the book into a temporary folder (or reuses ``_build/html`` when it is newer than
every input), opens every page from ``file://`` in headless Chromium with the network
blocked (``tests/browser_check.py``), at 1280 px and at 412 px wide, and keeps screenshots
under ``_build/screenshots/``: every chapter at both widths (``<page>-<width>.png``, the
top SHOT_VIEWPORTS viewport heights) and three views at 1280 px. The layout of every page
(``browser_check.LAYOUT_KINDS``) is written to ``_build/layout-report.md``. Skips, saying
why, without playwright or a system Chromium (``python3 tasks.py test`` installs Debian's
chromium when it runs as root).
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
from conftest import write_report  # noqa: E402

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (test extra)"
)
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
WIDTHS = (1280, 412)
SHOT_VIEWPORTS = 4  # a chapter's screenshot: its top 4 viewport heights (900 px each)
SHOTS = ROOT / "_build" / "screenshots"
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


def shot_name(page: str, width: int) -> str:
    """``chapters/part2/bayes-loop.html`` at 412 px -> ``part2-bayes-loop-412.png``."""
    stem = page.removeprefix("chapters/").removesuffix(".html").replace("/", "-")
    return f"{stem}-{width}.png"


@pytest.fixture(scope="module")
def reading(site) -> dict[int, list[browser_check.Problem]]:
    """Every page at each width, layout checks included (one browser run per width)."""
    toc = browser_check.toc_pages()
    assert set(toc) <= set(browser_check.site_pages(site)), "chapters not built"
    found = {}
    for width in WIDTHS:
        # "page#" (an empty fragment) is the page's top too, as a key of its own: the
        # chapter's shot does not replace a SCREENSHOTS view of the same page
        shots = {f"{page}#": SHOTS / shot_name(page, width) for page in toc}
        if width == WIDTHS[0]:
            shots |= {k: SHOTS / v for k, v in SCREENSHOTS.items()}
        found[width] = browser_check.check_site(
            site,
            toc=toc,
            screenshots=shots,
            viewport=(width, 900),
            layout=True,
            screenshot_viewports=SHOT_VIEWPORTS,
        )
    everything = [p for width in WIDTHS for p in found[width]]
    write_report("layout-report.md", browser_check.layout_report(everything, WIDTHS))
    return found


def test_every_page_reads_offline(reading):
    problems = [
        p
        for w in WIDTHS
        for p in reading[w]
        if p.kind not in browser_check.LAYOUT_KINDS
    ]
    assert not problems, "\n".join(map(str, problems))
    for name in SCREENSHOTS.values():
        assert (SHOTS / name).stat().st_size > 10_000, name
    for page in browser_check.toc_pages():
        for width in WIDTHS:
            assert (SHOTS / shot_name(page, width)).stat().st_size > 10_000, (
                page,
                width,
            )


def exempt(problem) -> bool:
    """Layout findings the book accepts, each for a stated reason.

    - Sphinx's generated index (genindex.html) is not a page of the book.
    - At 412 px: a display equation may scroll inside its own box (MathJax 3 breaks no
      lines), and a figure fills the column at less than half its natural width (a phone
      reader zooms); at 1280 px both are checked.
    """
    if problem.page.endswith("genindex.html"):
        return True
    narrow = problem.width is not None and problem.width < 992
    return narrow and (
        problem.kind == "figure-size" or problem.detail.startswith("equation")
    )


def test_layout_of_every_page(reading):
    """No code, output or table wider than its column, no margin note over the content, no
    bare-number output, no figure shrunk below half its size (_build/layout-report.md)."""
    problems = [p for w in WIDTHS for p in reading[w]
                if p.kind in browser_check.LAYOUT_KINDS and not exempt(p)]  # fmt: skip
    assert not problems, f"{len(problems)} layout problems:\n" + "\n".join(
        map(str, problems)
    )


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
    assert (
        f"https://mybinder.org/v2/gh/{repo}/main?urlpath=lab/tree/chapters/preface.ipynb"
        in page
    )
    assert (
        f"https://colab.research.google.com/github/{repo}/blob/main/chapters/preface.ipynb"
        in (page)
    )
    assert '<details class="lvmkit-provenance"><summary>Provenance: seed 0' in page


@pytest.fixture
def broken(site, tmp_path) -> Path:
    """A copy of the site whose pages can be edited (the assets are linked, not copied)."""
    copy = tmp_path / "html"
    shutil.copytree(
        site, copy, ignore=shutil.ignore_patterns("_static", "_images", "_sources")
    )
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
    maths = re.findall(
        r'<span class="math notranslate nohighlight">(\\\(.+?\\\))</span>', text
    )
    edit(page, maths[0], r"\(x^{1}^{2}\)")  # (b) a TeX error
    edit(page, maths[1], r"\(\undefinedmacro x\)")  # (b) an undefined macro
    edit(
        page, maths[-1], r"\(\frac{1}{\)"
    )  # (b) unbalanced: MathJax cannot even find it
    link = re.search(
        r'<a class="reference internal" href="([^"#]+\.html)"', text
    ).group(1)
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
    assert (
        browser_check.check_site(broken, pages=[name], toc=["chapters/preface.html"])
        == []
    )
    # (b) the MathJax script removed: the equations stay TeX source
    text, n = re.subn(
        r'<script[^>]*src="[^"]*mathjax/tex-chtml\.js[^"]*"></script>', "", text
    )
    assert n == 1
    # the sidebar loses its link to the preface
    text, n = re.subn(
        r'<a class="reference internal" href="\.\./preface\.html">', "<a>", text
    )
    assert n == 1
    page.write_text(text)
    found = kinds(
        browser_check.check_site(broken, pages=[name], toc=["chapters/preface.html"])
    )
    assert any(d.startswith("not typeset") for d in found["math"]), found
    assert found["navigation"] == ["sidebar has no link to chapters/preface.html"], (
        found
    )


# A page of the book's own structure (myst-nb's cell markup) inside a real built page, with
# the real theme's CSS and the book's _static/layout.css: clean at both widths as written.
CODE_CELL = """<div class="cell docutils container">
<div class="cell_input docutils container">
<div class="highlight-ipython3 notranslate"><div class="highlight"><pre><span></span>{code}
</pre></div></div></div>
<div class="cell_output docutils container">{outputs}</div>
</div>"""
STREAM = """<div class="output stream highlight-myst-ansi notranslate"><div class="highlight"><pre>
<span></span>{text}
</pre></div></div>"""
PLAIN = STREAM.replace("output stream", "output text_plain")
FIXTURE = """<section id="fixture">
<h1>A page of the book's structure</h1>
<p>{prose}</p>
{aside}
{cell}
<p>{prose}</p>
<div class="cell tag_hide-output docutils container">
<details class="hide below-input"><summary>Show code cell output</summary>
<div class="cell_output docutils container">{hidden_number}</div></details></div>
<figure class="align-default" id="fig-fixture"><img alt="a figure" src="fixture.png" {img_style}/>
<figcaption><p>A figure at its natural size where the column allows.</p></figcaption></figure>
<div class="pst-scrollable-table-container"><table class="table">
<thead><tr>{head}</tr></thead><tbody><tr>{row}</tr></tbody></table></div>
{extra}
</section>"""
PROSE = (
    "Prose that wraps around whatever floats beside it, long enough to take several "
    "lines at the narrow width and a couple at the wide one. "
) * 2


def fixture_page(
    real: str,
    *,
    code="x = 1\nprint(x)",
    outputs=None,
    cols=4,
    extra="",
    img_style="",
    aside_style="",
    css=True,
) -> str:
    aside = re.search(r'<aside class="margin sidebar">.*?</aside>', real, re.S).group(0)
    if aside_style:
        aside = aside.replace(
            '<aside class="margin sidebar">',
            f'<aside class="margin sidebar" style="{aside_style}">',
        )
    body = FIXTURE.format(
        prose=PROSE,
        aside=aside,
        img_style=img_style,
        extra=extra,
        cell=CODE_CELL.format(
            code=code, outputs=outputs or STREAM.format(text="x = 1")
        ),
        hidden_number=PLAIN.format(text="7.9"),
        head="".join(f"<th>col {i}</th>" for i in range(cols)),
        row="".join(f"<td>{i / 7:.4f}</td>" for i in range(cols)),
    )
    page = re.sub(
        r'(<article class="bd-article">).*?(</article>)',
        lambda m: m.group(1) + body + m.group(2),
        real,
        count=1,
        flags=re.S,
    )
    if not css:
        page, n = re.subn(
            r'<link[^>]*href="[^"]*_static/layout\.css[^"]*"[^>]*>', "", page
        )
        assert n == 1
    return page


def test_layout_checker_reports_each_planted_defect(broken):
    """Each layout defect, planted in its own copy of a page of the book's structure, is
    reported at the width where it shows; the page without defects is clean at both."""
    import matplotlib.pyplot as plt

    folder = broken / "chapters" / "part2"
    real = (folder / "bayes-loop.html").read_text()
    fig = plt.figure(
        figsize=(5.0, 3.0), dpi=100
    )  # 500 px: as the book's figures are made
    fig.add_subplot().plot([0, 1], [0, 1])
    fig.savefig(folder / "fixture.png")
    plt.close(fig)
    wide = "y = " + " + ".join(f"coefficient_{i}" for i in range(10))  # 161 characters
    pages = {
        "clean": fixture_page(real),
        "wide-code": fixture_page(real, code=wide),
        "wide-table": fixture_page(real, cols=30),
        "bare-number": fixture_page(
            real, outputs=PLAIN.format(text="7.9") + PLAIN.format(text="'5.8'")
        ),
        "note-over-code": fixture_page(
            real, css=False
        ),  # the theme's own float at 412 px
        "note-shifted": fixture_page(real, aside_style="left: -420px"),
        "small-figure": fixture_page(real, img_style='style="width: 20%" '),
    }
    for key, html in pages.items():
        (folder / f"fixture-{key}.html").write_text(html)
    names = {key: f"chapters/part2/fixture-{key}.html" for key in pages}
    found = {}
    for width in WIDTHS:
        for p in browser_check.check_site(
            broken, pages=list(names.values()), viewport=(width, 900), layout=True
        ):
            if p.kind in browser_check.LAYOUT_KINDS:
                found.setdefault((p.page.split("fixture-")[1][:-5], width), []).append(
                    p
                )

    def at(key, width) -> dict[str, list[str]]:
        return kinds(found.get((key, width), []))

    report = "\n".join(str(p) for problems in found.values() for p in problems)

    assert not at("clean", 1280) and not at("clean", 412), report
    # (a) a code line wider than the column: caught at 1280 px; below 992 px
    # _static/layout.css wraps long lines instead, so nothing scrolls there
    assert any(
        d.startswith("code scrolls sideways") and "line 161 chars" in d
        for d in at("wide-code", 1280)["overflow"]
    ), report
    assert "overflow" not in at("wide-code", 412), report
    for width in WIDTHS:  # and a wide table, at both widths
        tables = at("wide-table", width)["overflow"]
        assert any(d.startswith("table scrolls sideways") for d in tables), report
        # (b) stray glued numbers, each reported; the folded one is not
        numbers = {"bare-number": ['output "7.9"', "output \"'5.8'\""]}
        assert at("bare-number", width) == numbers, report
        # a figure shrunk to a fifth of its natural width
        assert list(at("small-figure", width)) == ["figure-size"], report
    # (c) a margin note over a code cell: the theme's float beside the first cell at 412 px
    # (what _static/layout.css prevents), and a note pushed over the cell at 1280 px
    assert at("note-over-code", 1280) == {}, report
    assert any(
        "intrudes into code cell" in d for d in at("note-over-code", 412)["overlap"]
    ), report
    assert any(
        "intrudes into code cell" in d for d in at("note-shifted", 1280)["overlap"]
    ), report
