"""Check a built HTML book the way a reader's browser sees it, offline.

``check_site(site)`` opens every page of a built site (``_build/html``) from ``file://``
in headless Chromium (the system's, driven by playwright; never a downloaded browser),
with every request that is not a local file blocked, and returns the problems it finds:

- ``console``: a console error or an uncaught JavaScript exception;
- ``network``: a request for anything but a local file (the book must read offline);
- ``image``: an ``<img>`` that did not load (``naturalWidth == 0``);
- ``math``: an equation MathJax did not typeset (no ``mjx-container`` in a ``.math``
  element, a MathJax error, or raw ``\\(``, ``\\[``, ``$$`` or ``$...\\cmd...$`` left in
  the text);
- ``link``: an internal link whose file or ``#anchor`` does not exist (checked from the
  HTML, without the browser);
- ``navigation``: a chapter of ``_toc.yml`` the sidebar does not link to.

With ``layout=True`` it also measures the rendered layout at the given viewport width
(``LAYOUT_KINDS``; each problem carries that width):

- ``overflow``: a code block (``div.highlight pre``), a cell output or a table wider than
  its column: it scrolls sideways (``scrollWidth > clientWidth`` of the element or of its
  scroll container) or its right edge lies beyond the content box of the page's
  ``article``; reported with the overflow in CSS px and the longest line;
- ``overlap``: a margin note (``aside.margin``, ``.sidebar``, ``.cell.tag_margin``, ...)
  whose box intersects the box of a code cell (``div.cell``) or of one of its outputs, a
  figure, an image, a table, a display equation, or the painted lines of a paragraph,
  list item or heading. Text that wraps around a floated note is fine (its lines avoid
  the note); a code cell is not: its box runs under the note, and its input and output
  (flex and scroll boxes) are either covered or squeezed into what the note leaves;
- ``bare-number``: a visible cell output whose whole text is one number (``7.9``,
  ``'5.8'``, ``-20.4``, ``13 %``): a ``glue()`` displayed by mistake. Outputs of hidden
  cells (``remove-*`` tags, or folded in a closed ``<details>``) are not rendered visible
  and are not reported;
- ``figure-size``: an image in the content rendered narrower than ``MIN_FIGURE_SCALE``
  of its natural width (its text shrinks by the same factor).

Used by ``tests/test_browser.py``; run it by hand with
``.venv/bin/python tests/browser_check.py _build/html``.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ALLOWED_SCHEMES = ("file:", "data:", "blob:", "about:")
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")
LAYOUT_KINDS = ("overflow", "overlap", "bare-number", "figure-size")
# The book's figures are PNGs at 100 dpi (lvmkit.plotting.use_style) whose tick labels are
# 11 pt = 15.3 px at natural size; the smallest text the style uses is x-small legends and
# annotations, 5.8 pt = 8.0 px. Shown at half its natural width, a figure's tick labels
# are 7.6 CSS px, the size of that smallest text: anything smaller is not legible without
# zooming, so a figure must be rendered at >= 0.5 of its natural width.
MIN_FIGURE_SCALE = 0.5
TOLERANCE_PX = 1  # sub-pixel rounding of boxes is not a defect


@dataclass(frozen=True)
class Problem:
    page: str  # path of the page inside the site, e.g. "chapters/preface.html"
    kind: str  # console | network | image | math | link | navigation, or a LAYOUT_KINDS
    detail: str
    width: int | None = None  # viewport width of a layout problem, in CSS px

    def __str__(self) -> str:
        at = f" @{self.width}px" if self.width is not None else ""
        return f"{self.page}{at}: {self.kind}: {self.detail}"


def chromium() -> Path | None:
    """The system's Chromium executable, or None."""
    for candidate in (os.environ.get("LVMKIT_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):  # fmt: skip
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def site_pages(site: Path) -> list[str]:
    """Every HTML page of a built site (not the theme's templates under _static/)."""
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site)
        .parts[0]
        .startswith(("_static", "_sources", "_images"))
    )


def toc_pages() -> list[str]:
    """The HTML page of every chapter in _toc.yml (without the root page)."""
    sys.path.insert(0, str(ROOT))
    import tasks

    names = tasks.toc_files()
    return [f"{Path(n).with_suffix('').as_posix()}.html" for n in names[1:]]


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])


def _parse(path: Path, cache: dict[Path, _Anchors]) -> _Anchors:
    if path not in cache:
        parser = _Anchors()
        parser.feed(path.read_text(errors="replace"))
        cache[path] = parser
    return cache[path]


def check_links(site: Path, pages: list[str]) -> list[Problem]:
    """Internal links of ``pages``: the target file exists and so does its #anchor."""
    problems, cache = [], {}
    for page in pages:
        for href in _parse(site / page, cache).links:
            if not href or href == "#" or EXTERNAL.match(href):
                continue
            parts = urlsplit(href)
            rel = posixpath.normpath(
                posixpath.join(posixpath.dirname(page), unquote(parts.path))
            )
            target = site / rel if parts.path else site / page
            if parts.path and (rel.startswith("..") or not target.exists()):
                problems.append(Problem(page, "link", f"{href}: no file {rel}"))
                continue
            if target.is_dir():
                target = target / "index.html"
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                if fragment not in _parse(target, cache).ids:
                    problems.append(
                        Problem(page, "link", f"{href}: no anchor #{fragment}")
                    )
    return problems


# Runs in the page once it has loaded and MathJax (if any) has finished typesetting.
_INSPECT = r"""async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
  const images = imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                     .map(i => i.getAttribute('src'));
  const math = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container'))
      math.push('not typeset: ' + el.textContent.trim().slice(0, 80));
  }
  // MathJax's own record of every equation: its TeX source and its internal MathML. A TeX
  // error typesets as <merror>; an undefined macro (the noundefined package) as red text.
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    for (const item of MathJax.startup.document.math) {
      const mml = MathJax.startup.toMML(item.root);
      let tex = JSON.stringify(item.math.slice(0, 80));
      const ctrl = /[\x00-\x08\x0b\x0c\x0e-\x1f]/.exec(item.math);  // e.g. "\f" typed in a str
      const hex = ctrl && ctrl[0].charCodeAt(0).toString(16).padStart(4, '0');
      if (ctrl) tex += ` (control character U+${hex})`;
      const err = /<merror[^>]*?(?:data-mjx-error="([^"]*)")?[^>]*>/.exec(mml);
      if (err) math.push(`MathJax error: ${err[1] || 'merror'} in ${tex}`);
      const undef = /<mtext[^>]*mathcolor="red"[^>]*>(\\[a-zA-Z]+)/.exec(mml);
      if (undef) math.push(`MathJax error: undefined ${undef[1]} in ${tex}`);
    }
  }
  for (const el of document.querySelectorAll('mjx-merror'))
    if (!(window.MathJax && MathJax.startup && MathJax.startup.document))
      math.push('MathJax error: ' + el.textContent.slice(0, 80));
  const raw = /\\\(|\\\[|\$\$|\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$/;
  const skip = 'pre, code, script, style, textarea, mjx-container, .math, .highlight, .sig';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (raw.test(n.nodeValue) && !n.parentElement.closest(skip))
      math.push('raw TeX in text: ' + n.nodeValue.trim().slice(0, 80));
  }
  const nav = Array.from(document.querySelectorAll('nav.bd-docs-nav a[href]')).map(a => a.href);
  return {images, math, nav};
}"""


# Runs in the page after _INSPECT (images decoded, MathJax done): the layout checks.
_LAYOUT = r"""({tol, minScale}) => {
  const out = [];
  const article = document.querySelector('article.bd-article') || document.querySelector('main')
                  || document.body;
  const acs = getComputedStyle(article), abox = article.getBoundingClientRect();
  const colRight = abox.right - parseFloat(acs.paddingRight || 0);
  const shown = el => {
    if (!el.getClientRects().length) return false;
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.visibility === 'hidden' || cs.display === 'none' || parseFloat(cs.opacity) === 0)
        return false;
    }
    return true;
  };
  const text = el => (el.innerText || el.textContent || '').replace(/\u00a0/g, ' ');
  const tex = new Map();  // a typeset equation's TeX source, for the report
  if (window.MathJax && MathJax.startup && MathJax.startup.document)
    for (const item of MathJax.startup.document.math) tex.set(item.typesetRoot, item.math);
  const snippet = el => {
    const root = el.matches('mjx-container') ? el : el.querySelector('mjx-container');
    if (root && tex.has(root)) {
      const t = tex.get(root).replace(/\s+/g, ' ').trim();
      return {line: t.slice(0, 60), chars: t.length};
    }
    const lines = text(el).split('\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    return {line: longest.trim().slice(0, 60), chars: longest.replace(/\s+$/, '').length};
  };
  const scroller = el => {
    for (let e = el.parentElement; e && e !== article; e = e.parentElement) {
      if (/(auto|scroll|hidden)/.test(getComputedStyle(e).overflowX)) return e;
    }
    return null;
  };
  const margins = Array.from(article.querySelectorAll(
      'aside, .margin, .sidebar, .cell.tag_margin, .cell.tag_popout, .marginnote, .sidenote'))
    .filter(shown);
  const inMargin = el => margins.some(m => m.contains(el));

  // 1. overflow: code blocks, outputs, tables wider than their column
  const reported = [];
  const candidates = [];
  for (const el of article.querySelectorAll('div.highlight pre'))
    candidates.push([el, el.closest('.cell_output') ? 'output' : 'code']);
  for (const el of article.querySelectorAll('table')) candidates.push([el, 'table']);
  for (const el of article.querySelectorAll('.cell_output > .output, .cell_output > div'))
    candidates.push([el, 'output']);
  for (const el of article.querySelectorAll('img, figure'))
    candidates.push([el, el.closest('.cell_output') ? 'output' : 'figure']);
  for (const el of article.querySelectorAll('div.math, mjx-container[display]'))
    candidates.push([el, 'equation']);
  for (const [el, kind] of candidates) {
    if (!shown(el) || inMargin(el) || reported.some(r => el.contains(r) || r.contains(el)))
      continue;
    const sc = scroller(el);
    let over = el.scrollWidth - el.clientWidth, how = 'scrolls sideways';
    if (sc && sc.scrollWidth - sc.clientWidth > over) over = sc.scrollWidth - sc.clientWidth;
    const right = (sc || el).getBoundingClientRect().right - colRight;
    if (right > over) { over = right; how = 'sticks out of the column'; }
    if (over > tol) {
      reported.push(el);
      const s = snippet(el);
      out.push({kind: 'overflow', detail:
        `${kind} ${how} by ${Math.round(over)} px (longest line ${s.chars} chars): ` +
        JSON.stringify(s.line)});
    }
  }

  // 2. overlap: a margin note's box against the boxes of the content around it
  const boxes = (el) => {
    if (el.matches('p, li, h1, h2, h3, h4, h5, h6, dt, dd')) {
      const range = document.createRange();
      range.selectNodeContents(el);
      return Array.from(range.getClientRects()).filter(r => r.width > 0 && r.height > 0);
    }
    return [el.getBoundingClientRect()];
  };
  const targets = [
    ['code cell', 'div.cell'], ['output', '.cell_output > *'],
    ['figure', 'figure, img:not(figure img):not(.cell_output img)'],
    ['table', 'table'], ['equation', 'div.math, mjx-container[display]'],
    ['paragraph', 'p, li, dt, dd'], ['heading', 'h1, h2, h3, h4, h5, h6'],
  ];
  const outer = margins.filter(m => !margins.some(o => o !== m && o.contains(m)));
  for (const m of outer) {
    const mb = m.getBoundingClientRect();
    for (const [kind, sel] of targets) {
      for (const el of article.querySelectorAll(sel)) {
        if (m.contains(el) || el.contains(m) || inMargin(el) || !shown(el)) continue;
        let best = 0, bw = 0, bh = 0;
        for (const b of boxes(el)) {
          const w = Math.min(mb.right, b.right) - Math.max(mb.left, b.left);
          const h = Math.min(mb.bottom, b.bottom) - Math.max(mb.top, b.top);
          if (w > tol && h > tol && w * h > best) { best = w * h; bw = w; bh = h; }
        }
        if (best > 0)
          out.push({kind: 'overlap', detail:
            `margin note ${JSON.stringify(text(m).trim().slice(0, 40))} intrudes into ${kind} ` +
            `${JSON.stringify(text(el).trim().slice(0, 40))} ` +
            `by ${Math.round(bw)}x${Math.round(bh)} px`});
      }
    }
  }

  // 3. bare numbers: a visible output that is one number and nothing else
  const number = /^(['"]?)[-+\u2212]?(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*%?\1$/;
  for (const el of article.querySelectorAll('.cell_output > .output, .cell_output > div')) {
    if (!shown(el)) continue;
    const t = text(el).trim();
    if (number.test(t)) out.push({kind: 'bare-number', detail: `output ${JSON.stringify(t)}`});
  }

  // 4. figures rendered too small for their text
  for (const img of article.querySelectorAll('img')) {
    if (!shown(img) || !img.naturalWidth) continue;
    const w = img.getBoundingClientRect().width, scale = w / img.naturalWidth;
    if (scale < minScale)
      out.push({kind: 'figure-size', detail:
        `${img.getAttribute('src')} rendered ${Math.round(w)} px of ${img.naturalWidth} px ` +
        `natural (scale ${scale.toFixed(2)} < ${minScale})`});
  }
  return out;
}"""


def check_site(
    site: Path,
    *,
    pages: list[str] | None = None,
    toc: list[str] | None = None,
    screenshots: dict[str, Path] | None = None,
    viewport: tuple[int, int] = (1280, 900),
    layout: bool = False,
    screenshot_viewports: int = 1,
) -> list[Problem]:
    """Open ``pages`` of the built ``site`` offline in headless Chromium; return the problems.

    Args:
        site: a built HTML site (the folder with ``index.html``).
        pages: pages to check, relative to ``site`` (default: every page).
        toc: pages the sidebar of every checked page must link to (default: none).
        screenshots: page -> PNG path; the page is captured there after the checks (a
            ``#fragment`` in the key scrolls to that anchor first and captures one
            viewport; without one, the top ``screenshot_viewports`` viewport heights).
            A page may be captured several times (``page``, ``page#a``, ...).
        viewport: browser window size in CSS pixels.
        layout: also run the layout checks (``LAYOUT_KINDS``) at this viewport.
        screenshot_viewports: how many viewport heights a page's screenshot covers.

    Returns:
        Every problem found, in page order (empty if the site reads cleanly offline).
    """
    from playwright.sync_api import sync_playwright

    site = Path(site).resolve()
    pages = site_pages(site) if pages is None else pages
    problems = check_links(site, pages)
    shots: dict[str, list[tuple[str, Path]]] = {}
    for key, path in (screenshots or {}).items():
        page, _, fragment = key.partition("#")
        shots.setdefault(page, []).append((fragment, Path(path)))
    exe = chromium()
    if exe is None:
        raise RuntimeError("no Chromium found (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
            )
            for page_name in pages:
                problems += _check_page(
                    context,
                    site,
                    page_name,
                    toc or [],
                    shots.get(page_name, []),
                    layout=layout,
                    shot_height=screenshot_viewports * viewport[1],
                )
        finally:
            browser.close()
    return problems


def _check_page(
    context,
    site: Path,
    name: str,
    toc: list[str],
    shots,
    *,
    layout: bool,
    shot_height: int,
) -> list[Problem]:
    problems: list[Problem] = []
    page = context.new_page()

    def route(r):
        url = r.request.url
        if url.startswith(ALLOWED_SCHEMES):
            r.continue_()
        else:
            problems.append(Problem(name, "network", f"request blocked: {url}"))
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(
        Problem(name, "console", m.text[:300])))  # fmt: skip
    page.on(
        "pageerror", lambda e: problems.append(Problem(name, "console", str(e)[:300]))
    )
    try:
        page.goto((site / name).as_uri(), wait_until="load", timeout=30_000)
        if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=20_000,
            )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        found = page.evaluate(_INSPECT)
        problems += [
            Problem(name, "image", f"not loaded: {src}") for src in found["images"]
        ]
        problems += [Problem(name, "math", m) for m in found["math"]]
        linked = set()
        for url in found["nav"]:
            parts = urlsplit(url)
            if parts.scheme == "file":
                path = Path(unquote(parts.path))
                if path.is_relative_to(site):
                    linked.add(path.relative_to(site).as_posix())
        problems += [
            Problem(name, "navigation", f"sidebar has no link to {t}")
            for t in toc
            if t not in linked
        ]
        if layout:
            width = page.viewport_size["width"]
            found = page.evaluate(
                _LAYOUT, {"tol": TOLERANCE_PX, "minScale": MIN_FIGURE_SCALE}
            )
            problems += [Problem(name, f["kind"], f["detail"], width) for f in found]
        for fragment, path in sorted(shots, key=lambda s: bool(s[0])):
            path.parent.mkdir(parents=True, exist_ok=True)
            if fragment:
                page.evaluate(
                    "id => document.getElementById(id).scrollIntoView()", fragment
                )
                page.wait_for_timeout(200)
                page.screenshot(path=str(path))
            else:
                size = page.viewport_size
                height = page.evaluate("() => document.documentElement.scrollHeight")
                clip = {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": min(max(height, size["height"]), shot_height),
                }
                page.screenshot(path=str(path), full_page=True, clip=clip)
    except Exception as exc:  # a page that cannot even be inspected is a problem too
        problems.append(
            Problem(name, "console", f"could not inspect the page: {exc}"[:300])
        )
    finally:
        page.close()
    return problems


def layout_report(problems: list[Problem], widths: tuple[int, ...]) -> str:
    """Markdown: the layout problems counted per kind and width, per page, then each one."""
    found = [p for p in problems if p.kind in LAYOUT_KINDS]
    cols = [(k, w) for k in LAYOUT_KINDS for w in widths]

    def count(rows) -> str:
        return " | ".join(
            str(sum(p.kind == k and p.width == w for p in rows)) for k, w in cols
        )

    head = "| | " + " | ".join(f"{k} @{w}" for k, w in cols) + " |"
    rule = "|---" * (len(cols) + 1) + "|"
    lines = [
        "# Layout of the built book (tests/browser_check.py)",
        "",
        f"Viewport widths {', '.join(f'{w} px' for w in widths)}; {len(found)} problems. "
        f"Figures must render at >= {MIN_FIGURE_SCALE} of their natural width; boxes may "
        f"overlap or overflow by {TOLERANCE_PX} px.",
        "",
        head,
        rule,
        f"| **all pages** | {count(found)} |",
    ]
    for page in sorted({p.page for p in found}):
        lines.append(f"| {page} | {count([p for p in found if p.page == page])} |")
    lines += ["", "## Every problem", ""]
    lines += [
        f"- {p}" for p in sorted(found, key=lambda p: (p.page, p.width or 0, p.kind))
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--layout"]
    site = Path(args[0] if args else ROOT / "_build" / "html")
    if "--layout" in sys.argv:  # the layout checks too, at both widths
        found = []
        for w in (1280, 412):
            found += check_site(site, toc=toc_pages(), viewport=(w, 900), layout=True)
    else:
        found = check_site(site, toc=toc_pages())
    print("\n".join(map(str, found)) or "no problems")
    sys.exit(1 if found else 0)
