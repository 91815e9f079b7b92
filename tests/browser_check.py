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


@dataclass(frozen=True)
class Problem:
    page: str  # path of the page inside the site, e.g. "chapters/preface.html"
    kind: str  # console | network | image | math | link | navigation
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


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
        if not p.relative_to(site).parts[0].startswith(("_static", "_sources", "_images"))
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
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
            target = site / rel if parts.path else site / page
            if parts.path and (rel.startswith("..") or not target.exists()):
                problems.append(Problem(page, "link", f"{href}: no file {rel}"))
                continue
            if target.is_dir():
                target = target / "index.html"
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                if fragment not in _parse(target, cache).ids:
                    problems.append(Problem(page, "link", f"{href}: no anchor #{fragment}"))
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


def check_site(
    site: Path,
    *,
    pages: list[str] | None = None,
    toc: list[str] | None = None,
    screenshots: dict[str, Path] | None = None,
    viewport: tuple[int, int] = (1280, 900),
) -> list[Problem]:
    """Open ``pages`` of the built ``site`` offline in headless Chromium; return the problems.

    Args:
        site: a built HTML site (the folder with ``index.html``).
        pages: pages to check, relative to ``site`` (default: every page).
        toc: pages the sidebar of every checked page must link to (default: none).
        screenshots: page -> PNG path; the page is captured there after the checks (a
            ``#fragment`` in the key scrolls to that anchor first).
        viewport: browser window size in CSS pixels.

    Returns:
        Every problem found, in page order (empty if the site reads cleanly offline).
    """
    from playwright.sync_api import sync_playwright

    site = Path(site).resolve()
    pages = site_pages(site) if pages is None else pages
    problems = check_links(site, pages)
    shots = {}
    for key, path in (screenshots or {}).items():
        page, _, fragment = key.partition("#")
        shots[page] = (fragment, Path(path))
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
                problems += _check_page(context, site, page_name, toc or [], shots.get(page_name))
        finally:
            browser.close()
    return problems


def _check_page(context, site: Path, name: str, toc: list[str], shot) -> list[Problem]:
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
    page.on("pageerror", lambda e: problems.append(Problem(name, "console", str(e)[:300])))
    try:
        page.goto((site / name).as_uri(), wait_until="load", timeout=30_000)
        if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=20_000,
            )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        found = page.evaluate(_INSPECT)
        problems += [Problem(name, "image", f"not loaded: {src}") for src in found["images"]]
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
        if shot is not None:
            fragment, path = shot
            path.parent.mkdir(parents=True, exist_ok=True)
            if fragment:
                page.evaluate("id => document.getElementById(id).scrollIntoView()", fragment)
                page.wait_for_timeout(200)
            page.screenshot(path=str(path))
    except Exception as exc:  # a page that cannot even be inspected is a problem too
        problems.append(Problem(name, "console", f"could not inspect the page: {exc}"[:300]))
    finally:
        page.close()
    return problems


if __name__ == "__main__":
    found = check_site(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "_build" / "html"),
                       toc=toc_pages())  # fmt: skip
    print("\n".join(map(str, found)) or "no problems")
    sys.exit(1 if found else 0)
