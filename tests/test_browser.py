"""Does the built book work in a real browser, offline?

The book is built once with the README's command, served from ``_build/html`` on 127.0.0.1
and opened in headless Chromium (the system's, never a downloaded one) through Playwright.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

import pytest
import yaml
from conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, require_or_skip
from test_book import BUILD as BUILD_COMMAND
from test_book import HEADER_NAMES

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.slow

BUILD = ROOT / "_build" / "html"
# Bounded waits: a page of this book loads in well under a second from 127.0.0.1.
PAGE_TIMEOUT_MS = 30_000
IMAGE_TIMEOUT_MS = 10_000

# Lazy images load once scrolled to; this loads them all, waits (bounded) and returns the
# ones that did not decode.
BROKEN_IMAGES_JS = """async (timeout) => {
  const images = [...document.images];
  for (const image of images) { image.loading = "eager"; }
  window.scrollTo(0, document.body.scrollHeight);
  const settled = (image) => image.complete ? Promise.resolve() : new Promise((done) => {
    image.addEventListener("load", done, {once: true});
    image.addEventListener("error", done, {once: true});
  });
  await Promise.race([Promise.all(images.map(settled)),
                      new Promise((done) => setTimeout(done, timeout))]);
  return images.filter((image) => !(image.complete && image.naturalWidth > 0))
               .map((image) => image.currentSrc || image.src || image.outerHTML);
}"""

# Every TeX fragment the page holds, typeset by MathJax, and none in error.
MATH_JS = """async () => {
  const fragments = document.querySelectorAll(".math");
  if (fragments.length === 0) return {fragments: 0, untypeset: 0, errors: 0};
  await window.MathJax.startup.promise;
  const untypeset = [...fragments].filter((el) => !el.querySelector("mjx-container")).length;
  return {fragments: fragments.length, untypeset,
          errors: document.querySelectorAll("mjx-merror").length};
}"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def chromium_ready() -> None:
    """Skip (locally) or fail (under CI) when Playwright or the system Chromium is missing."""
    require_or_skip(
        importlib.util.find_spec("playwright") is not None, "the playwright Python package"
    )
    require_or_skip(Path(CHROMIUM).exists(), f"Chromium ({CHROMIUM})")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Build the book once, serve ``_build/html`` on a free port of 127.0.0.1; yield its URL."""
    chromium_ready()
    built = subprocess.run(BUILD_COMMAND, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if built.returncode != 0:
        pytest.fail(
            f"{' '.join(BUILD_COMMAND)} failed ({built.returncode}):\n"
            f"{built.stdout[-20_000:]}\n{built.stderr[-20_000:]}"
        )
    handler = functools.partial(_QuietHandler, directory=str(BUILD))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium context with a fresh profile; requests off 127.0.0.1 are refused.

    Its tests take it through ``browser``, which empties it first. A context of its own per
    test (``Browser.new_context``) would cost less still, but in such a context Chromium
    aborts the icon request of the root page, which redirects at once (``net::ERR_ABORTED``),
    and the offline test counts that as a failed request; a profile per test costs a
    Chromium launch per test.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        # The book must work offline: never let a request leave the machine (the page
        # listeners below record it as a failure).
        context.route(lambda url: not url.startswith(site), lambda route: route.abort())
        try:
            yield context
        finally:
            context.close()


@pytest.fixture()
def browser(site: str, chromium: BrowserContext) -> Iterator[BrowserContext]:
    """The module's Chromium context holding nothing an earlier test stored (see
    :func:`forget_what_was_stored`). Shared as it was, the context opened a test's pages in
    the colour mode an earlier test had picked."""
    forget_what_was_stored(chromium, site)
    yield chromium


def forget_what_was_stored(context: BrowserContext, site: str) -> None:
    """Leave ``context`` holding nothing of ``site``'s: no colour mode picked, no search
    terms to highlight, no cookie, no cached response, no tab left open (a tab keeps its
    session storage)."""
    for page in context.pages:
        if page.url != "about:blank":
            page.close()
    context.clear_cookies()
    page = context.new_page()
    try:
        devtools = context.new_cdp_session(page)
        origin = site.rstrip("/")
        devtools.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        devtools.send("Network.clearBrowserCache")
    finally:
        page.close()


def pick_dark_mode(page: Page) -> None:
    """Press the header's colour-mode button until the page is dark, as a reader would."""
    for _ in range(3):
        if page.evaluate(MODE_JS) == "dark":
            break
        page.locator(COLOUR_MODE_BUTTON).click()
    assert page.evaluate(MODE_JS) == "dark"


def book_pages() -> list[str]:
    """Every HTML page of the built book, relative to ``_build/html``.

    Skipped: Sphinx's asset folders (``_static`` holds template fragments, not pages) and
    hidden folders, which only a stale build can leave behind.
    """
    return sorted(
        path.relative_to(BUILD).as_posix()
        for path in BUILD.rglob("*.html")
        if not any(part.startswith((".", "_")) for part in path.relative_to(BUILD).parts[:-1])
    )


def toc_pages() -> list[str]:
    """The page each ``_toc.yml`` entry becomes."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return [f"{file}.html" for file in files]


def chapters() -> list[str]:
    """The book's chapter pages (``book/NN-topic.html``)."""
    return [page for page in toc_pages() if page.startswith("book/") and page[5:7].isdigit()]


def test_every_page_opens_offline_without_errors(site: str, browser) -> None:
    """Does every page load with HTTP 200 for itself and every request it makes, stay on
    127.0.0.1, log no console error, show every image and typeset every formula? And does
    every link between the book's pages land on a page (and anchor) that exists?"""
    pages = book_pages()
    missing = sorted(set(toc_pages()) - set(pages))
    assert not missing, f"table-of-contents entries without a built page: {missing}"

    problems: list[str] = []
    current = {"page": ""}

    def note(kind: str, detail: str) -> None:
        problems.append(f"{current['page']}: {kind}: {detail}")

    def on_request(request) -> None:
        if urlsplit(request.url).scheme not in ("data", "blob", "about") and not (
            request.url.startswith(site)
        ):
            note("request leaves 127.0.0.1 (the book must work offline)", request.url)

    page = browser.new_page()
    page.on("request", on_request)
    page.on("requestfailed", lambda r: note("request failed", f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and note(f"HTTP {r.status}", r.url))
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and note("console error", f"{m.text} (at {m.location.get('url', '?')})")
        ),
    )
    page.on("pageerror", lambda error: note("uncaught JavaScript exception", str(error)))

    links: dict[str, set[str]] = {}  # link target -> pages holding it
    anchors: dict[str, set[str]] = {}  # page URL -> the ids it holds
    try:
        for name in pages:
            current["page"] = name
            response = page.goto(site + name, wait_until="load")
            if response is None or response.status != 200:
                note("page status", str(response and response.status))
            # Settles the root index.html's redirect too, before the page is inspected.
            page.wait_for_load_state("networkidle")
            broken = page.evaluate(BROKEN_IMAGES_JS, IMAGE_TIMEOUT_MS)
            for source in broken:
                note("image not shown (naturalWidth 0)", source)
            math = page.evaluate(MATH_JS)
            if math["untypeset"] or math["errors"]:
                note("MathJax", f"{math}")
            page.wait_for_load_state("networkidle")  # what the scroll started
            # Without a declared icon every browser asks the server root for /favicon.ico (a
            # 404 in the console); Chromium under Playwright does not always ask, so look.
            icons = page.eval_on_selector_all("link[rel~='icon']", "els => els.map(e => e.href)")
            if not icons:
                note("no <link rel=icon>", "browsers will request /favicon.ico and get a 404")
            for icon in icons:
                links.setdefault(icon, set()).add(name)
            anchors[urldefrag(page.url).url] = set(
                page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
            )
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if href.startswith(site):
                    links.setdefault(href, set()).add(name)
    finally:
        page.close()

    # Links between pages: the target answers 200 and, for a page of the book, holds the anchor.
    request = browser.request
    for href, sources in sorted(links.items()):
        target, fragment = urldefrag(href)
        where = ", ".join(sorted(sources))
        if target in anchors:
            if fragment and fragment not in anchors[target]:
                problems.append(f"{where}: broken anchor: {href}")
            continue
        status = request.get(target).status
        if status != 200:
            problems.append(f"{where}: broken link (HTTP {status}): {href}")

    assert not problems, "the book in a browser:\n" + "\n".join(problems)


def test_search_finds_the_return_flags_chapter(site: str, browser) -> None:
    """Does the search page, offline, find ``return_state`` in the return-flags chapter?"""
    page = browser.new_page()
    try:
        page.goto(site + "search.html?q=return_state", wait_until="load")
        page.wait_for_selector("#search-results ul.search li a")
        page.wait_for_function(
            "() => document.querySelector('#search-results .search-summary')"
            " ?.textContent.includes('finished')"
        )
        results = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(e => e.href)"
        )
    finally:
        page.close()
    targets = [urldefrag(href).url.split("?")[0] for href in results]
    assert site + "book/05-return-flags.html" in targets, results


def test_exercise_links_reach_the_student_notebooks(site: str, browser) -> None:
    """Does every link a chapter's text makes to a graded notebook resolve, and does the
    download it leads to serve the committed student notebook, byte for byte? Does each
    chapter with an assignment of its own link it?

    A chapter's Markdown link to ``../exercises/NN/NN.ipynb`` is a link to a document of the
    book, so Sphinx renders it as a link to the notebook's page; that page's download button
    links the ``.ipynb`` itself (``_sources/exercises/NN/NN.ipynb``). A chapter linking an
    ``.ipynb`` directly is checked the same way. The navigation's links to the notebooks are
    the same on every page; the page test checks them.
    """
    request = browser.request
    page = browser.new_page()
    problems: list[str] = []
    linked: dict[str, set[str]] = {}  # chapter -> the notebooks its text links
    downloads: dict[str, list[str]] = {}  # link -> the .ipynb URLs it offers
    try:
        for chapter in chapters():
            page.goto(site + chapter, wait_until="load")
            hrefs = page.eval_on_selector_all(
                "article.bd-article a[href]", "els => els.map(e => e.href)"
            )
            for href in {urldefrag(h).url for h in hrefs if h.startswith(site + "exercises/")}:
                path = urlsplit(href).path
                if path.endswith((".ipynb", ".html")):
                    linked.setdefault(chapter, set()).add(href)
        for href in sorted(set().union(*linked.values())):
            if href.endswith(".ipynb"):
                downloads[href] = [href]
                continue
            response = page.goto(href, wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"exercise page HTTP {response and response.status}: {href}")
                continue
            offered = page.eval_on_selector_all("a[href$='.ipynb']", "els => els.map(e => e.href)")
            # The book's own copy; the launch buttons (Binder, Colab) point elsewhere.
            downloads[href] = sorted({d for d in offered if d.startswith(site)})
            if not downloads[href]:
                problems.append(f"{href} offers no .ipynb download")
    finally:
        page.close()

    for href, offered in sorted(downloads.items()):
        slug = urlsplit(href).path.rsplit("/", 2)[-2]
        committed = ROOT / "exercises" / slug / f"{slug}.ipynb"
        for download in offered:
            response = request.get(download)
            if response.status != 200:
                problems.append(f"{href}: download HTTP {response.status}: {download}")
            elif not committed.exists() or response.body() != committed.read_bytes():
                problems.append(f"{href}: {download} is not {committed.relative_to(ROOT)}")

    for chapter in chapters():
        slug = Path(chapter).stem
        if (ROOT / "exercises" / slug / f"{slug}.ipynb").exists():
            slugs = {urlsplit(h).path.rsplit("/", 2)[-2] for h in linked.get(chapter, ())}
            if slug not in slugs:
                problems.append(f"{chapter}: its text never links exercises/{slug}/{slug}.ipynb")
    assert linked, "no chapter links a graded notebook"
    assert not problems, "\n".join(problems)


def test_home_page_and_lstm_chapter_render(site: str, browser, tmp_path: Path) -> None:
    """Do the home page and the LSTM chapter render their title, typeset formulas and
    figures? Full-page screenshots are kept in this test's temporary folder for a human
    to look at."""
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    try:
        for name, shot in (("book/index.html", "index.png"), ("book/04-lstm.html", "lstm.png")):
            page.goto(site + name, wait_until="load")
            assert page.locator("article.bd-article h1").first.is_visible(), name
            assert not page.evaluate(BROKEN_IMAGES_JS, IMAGE_TIMEOUT_MS), name
            math = page.evaluate(MATH_JS)
            assert not math["untypeset"] and not math["errors"], (name, math)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=tmp_path / shot, full_page=True)
            if name.endswith("04-lstm.html"):
                assert math["fragments"] > 0, "the LSTM chapter lost its formulas"
                figures = page.locator("figure img, .cell_output img")
                assert figures.count() > 0, "the LSTM chapter lost its figures"
                box = figures.first.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 100, box
    finally:
        page.close()
    print(f"screenshots: {tmp_path / 'index.png'} {tmp_path / 'lstm.png'}")


# --- a phone's width ----------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
#: Figures are drawn with 9 pt text at the smallest (``lstm_lib.plots._style._SMALL``);
#: in an SVG that is 12 px at the image's natural size (96 px per 72 pt).
SMALLEST_FIGURE_TEXT_NATURAL_PX = 9 * 96 / 72
MIN_FIGURE_TEXT_CSS_PX = 7
# Chapters whose figures are drawn as SVG (the others' are re-run by their own editors).
SVG_CHAPTERS = [
    "book/01-start-here.html",
    "book/02-dense.html",
    "book/03-simplernn.html",
    "book/05-return-flags.html",
    "book/06-embedding.html",
    "book/07-gru-bidirectional.html",
    "book/09-keras2-to-keras3.html",
]

FIGURES_JS = """async () => {
  const images = [...document.querySelectorAll("div.cell_output img")];
  for (const image of images) { image.loading = "eager"; }
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.map((image) => ({
    src: image.currentSrc || image.src,
    natural: image.naturalWidth,
    shown: image.getBoundingClientRect().width,
  }));
}"""

# Code blocks (sources and printed outputs) whose text runs past their visible width. A
# table Keras draws with box characters (model.summary(), an HTML output) keeps its lines
# whole, since wrapped its columns fall apart: it may be wider than the column if it scrolls
# sideways in its own box.
CUT_CODE_JS = """() => [...document.querySelectorAll("div.highlight pre, div.cell_output pre")]
  .filter((pre) => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .filter((pre) => !(pre.closest("div.output.text_html")
                     && ["auto", "scroll"].includes(getComputedStyle(pre).overflowX)))
  .map((pre) => pre.textContent.trim().split("\\n")[0].slice(0, 80))"""

# Search controls a reader can see, and where: in a header bar, or elsewhere.
SEARCH_JS = """() => [...document.querySelectorAll(
    ".search-button, .search-button-field, form.bd-search, input[type=search]")]
  .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().width > 0
                  && !el.closest("dialog"))
  .map((el) => ({header: Boolean(el.closest("header, .bd-header, .bd-header-article")),
                 top: el.getBoundingClientRect().top}))"""

HEADER_BARS_JS = """() => [...document.querySelectorAll("header.bd-header, .bd-header-article")]
  .filter((el) => el.getBoundingClientRect().height > 0).length"""


@pytest.fixture()
def phone(browser):
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    try:
        yield page
    finally:
        page.close()


@pytest.mark.parametrize("chapter", SVG_CHAPTERS)
def test_phone_width_figures_are_svg_with_legible_text(site: str, phone, chapter: str) -> None:
    """At 390 px, is every figure of the chapter an SVG, shown wide enough that its smallest
    (9 pt) text is at least ~7 CSS px high, and scrollable rather than cut if wider?"""
    phone.goto(site + chapter, wait_until="load")
    figures = phone.evaluate(FIGURES_JS)
    assert figures, f"{chapter}: no figure"
    for figure in figures:
        assert urlsplit(figure["src"]).path.endswith(".svg"), figure
        scale = figure["shown"] / figure["natural"]
        text_px = scale * SMALLEST_FIGURE_TEXT_NATURAL_PX
        assert text_px >= MIN_FIGURE_TEXT_CSS_PX, (chapter, figure, round(text_px, 1))
    # A figure wider than the column scrolls inside its own box: the page itself does not.
    overflow = phone.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{chapter}: the page scrolls sideways by {overflow} px"


@pytest.mark.parametrize("chapter", chapters())
def test_phone_width_code_wraps_instead_of_being_cut(site: str, phone, chapter: str) -> None:
    """At 390 px, does every code block and printed output wrap its long lines, so that no
    block hides text past its right edge (a box-drawn table scrolls in its own box), and
    does the page itself never scroll sideways?"""
    phone.goto(site + chapter, wait_until="load")
    cut = phone.evaluate(CUT_CODE_JS)
    assert not cut, f"{chapter}: code blocks cut at the right edge: {cut}"
    overflow = phone.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{chapter}: the page scrolls sideways by {overflow} px"


# Cells of lstm_lib.explain's tables (beyond the layer names) whose text takes more than one
# line: a shape broken as "(None," over "16)".
BROKEN_TABLE_CELLS_JS = """() => {
  const cells = [...document.querySelectorAll(
    "table.lstm-lib-model-table td, table.lstm-lib-model-table th:not(:first-child)")];
  const lines = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    return new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size;
  };
  return {tables: document.querySelectorAll("table.lstm-lib-model-table").length,
          broken: cells.filter((cell) => lines(cell) > 1).map((cell) => cell.textContent)};
}"""


def test_phone_width_explain_tables_keep_shapes_and_formulas_whole(site: str, phone) -> None:
    """At 390 px, does every ``lstm_lib.explain`` table of the book keep each shape, count
    and formula on one line (the table scrolls sideways in its box), rather than break
    ``(None, 16)`` or ``8 × 16 + 16 = 144`` over lines a reader must piece together?"""
    tables = 0
    broken: dict[str, list[str]] = {}
    for chapter in chapters():
        phone.goto(site + chapter, wait_until="load")
        found = phone.evaluate(BROKEN_TABLE_CELLS_JS)
        tables += found["tables"]
        if found["broken"]:
            broken[chapter] = found["broken"][:5]
    assert tables, "no lstm_lib.explain table in the book"
    assert not broken, f"cells broken over lines at phone width: {broken}"


@pytest.mark.parametrize("width", [PHONE["width"], 1280])
def test_one_search_box_and_no_header_bar_of_its_own(site: str, browser, width: int) -> None:
    """On a chapter page, at a phone's width and a desktop's, does the reader see exactly one
    search control, and no extra header bar holding only a search box (pydata-sphinx-theme's
    ``navbar_persistent``)?"""
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    try:
        page.goto(site + "book/05-return-flags.html", wait_until="load")
        searches = page.evaluate(SEARCH_JS)
        bars = page.evaluate(HEADER_BARS_JS)
    finally:
        page.close()
    assert len(searches) == 1, searches
    assert bars == 1, f"{bars} header bars at {width} px"
    if width == PHONE["width"]:
        assert searches[0]["header"], "at phone width the search sits in the header"


# --- readers who do not use a mouse, see less well, or print ------------------------------

# The focused element's box, and where it sits: the page's header and sidebars, or the text.
FOCUSED_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height,
          name: (e.getAttribute("aria-label") || e.innerText || e.tagName).trim().slice(0, 60),
          inText: Boolean(e.closest("article.bd-article"))};
}"""


def _ring_clip(box: dict) -> dict:
    """The focused element's box with room around it for a focus ring drawn outside it."""
    return {
        "x": max(0, box["x"] - 6),
        "y": max(0, box["y"] - 6),
        "width": box["width"] + 12,
        "height": box["height"] + 12,
    }


def test_every_control_before_the_text_shows_keyboard_focus(site: str, browser) -> None:
    """Moving with Tab from the top of a chapter to its text, and through the items of the
    *Launch* and *Download* menus opened with Enter, does every control the reader lands on
    look different focused than not (a visible focus ring, WCAG 2.4.7)?"""
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    unseen: list[str] = []
    try:
        page.goto(site + "book/02-dense.html", wait_until="networkidle")
        menus = []
        for _ in range(60):
            page.keyboard.press("Tab")
            box = page.evaluate(FOCUSED_JS)
            if box is None or box["inText"]:
                break
            if box["width"] < 1 or box["height"] < 1:
                continue
            focused = page.screenshot(clip=_ring_clip(box), animations="disabled")
            page.evaluate("() => document.activeElement.blur()")
            # Tab goes on from the blurred control: the browser keeps its place.
            if focused == page.screenshot(clip=_ring_clip(box), animations="disabled"):
                unseen.append(box["name"])
            if box["name"] in ("Launch interactive content", "Download this page"):
                menus.append(box["name"])
        assert menus == ["Launch interactive content", "Download this page"], menus
        for menu in menus:
            page.locator(f"button[aria-label='{menu}']").focus()
            page.keyboard.press("Enter")
            page.keyboard.press("ArrowDown")
            first = page.evaluate(FOCUSED_JS)
            focused = page.screenshot(clip=_ring_clip(first), animations="disabled")
            page.keyboard.press("ArrowDown")  # the next item, or the first again (one item)
            if page.evaluate(FOCUSED_JS) == first:
                page.keyboard.press("ArrowUp")
            if page.evaluate(FOCUSED_JS) != first and focused == page.screenshot(
                clip=_ring_clip(first), animations="disabled"
            ):
                unseen.append(f"{menu} menu: {first['name']}")
            page.keyboard.press("Escape")
    finally:
        page.close()
    assert not unseen, f"controls that look the same focused and not: {unseen}"


# Text of a cell's output (a span model.summary() colours itself, a table's caption or
# cells, printed text) whose colour stands out from its background by less than WCAG AA's
# 4.5:1.
PALE_OUTPUT_JS = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = (c) => {
      c /= 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const texts = ["pre", "pre span[style*='color']", "caption", "th", "td"]
    .map((selector) => `div.cell_output ${selector}`).join(", ");
  return [...document.querySelectorAll(texts)]
    .filter((span) => span.textContent.trim())
    .map((span) => {
      const [a, b] = [luminance(rgb(getComputedStyle(span).color)), luminance(background(span))];
      return {text: span.textContent.trim().slice(0, 40),
              ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)};
    })
    .filter((span) => span.ratio < 4.5);
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("chapter", chapters())
def test_printed_outputs_read_at_wcag_aa_contrast(
    site: str, browser, chapter: str, mode: str
) -> None:
    """In the light mode and in the dark one a reader can switch to, does every piece of a
    cell's output (the layer names, shapes and counts ``model.summary()`` colours, the name
    ``lstm_lib.explain`` captions its table with, printed text) stand out from its
    background by 4.5:1 or more, for a reader with low vision?"""
    page = browser.new_page()
    try:
        page.goto(site + chapter, wait_until="load")
        # What the theme's colour-mode button sets.
        page.evaluate(
            "(mode) => { document.documentElement.dataset.theme = mode;"
            " document.documentElement.dataset.mode = mode; }",
            mode,
        )
        pale = page.evaluate(PALE_OUTPUT_JS)
    finally:
        page.close()
    assert not pale, f"{chapter} ({mode}): output text below 4.5:1: {pale}"


# Printed: the "Check yourself" answers shown, no "Show code cell source" button.
PRINTED_JS = """() => ({
  answers: [...document.querySelectorAll("details.sd-dropdown .sd-summary-content")]
    .map((answer) => answer.checkVisibility()),
  toggles: [...document.querySelectorAll("div.cell details.hide > summary")]
    .filter((summary) => summary.checkVisibility()).length,
})"""


#: An A4 page's printable width in CSS px: 210 mm at 96 px per inch, less Chromium's default
#: margins of 0.4 in on either side.
A4_PRINTABLE = {"width": 718, "height": 1046}

# Blocks of code or printed output whose text runs past their width: on paper, where
# nothing scrolls, that text is lost.
CUT_ON_PAPER_JS = """() => [...document.querySelectorAll("pre, table")]
  .filter((block) => block.offsetParent !== null && block.scrollWidth > block.clientWidth + 1)
  .map((block) => block.textContent.trim().slice(0, 60))"""


@pytest.mark.parametrize("chapter", chapters())
def test_a_printed_chapter_fits_its_code_and_outputs_on_a4(
    site: str, browser, chapter: str
) -> None:
    """Printed on A4 (or saved as PDF), does every block of code and printed output fit the
    page's width, including the box-drawn ``model.summary()`` tables that scroll sideways
    on screen but cannot on paper?"""
    page = browser.new_page()
    page.set_viewport_size(A4_PRINTABLE)
    try:
        page.goto(site + chapter, wait_until="load")
        page.emulate_media(media="print")
        cut = page.evaluate(CUT_ON_PAPER_JS)
    finally:
        page.close()
    assert not cut, f"{chapter}: blocks cut at the paper's edge: {cut}"


@pytest.mark.parametrize("chapter", chapters())
def test_a_printed_chapter_shows_its_answers_and_no_toggles(
    site: str, browser, chapter: str
) -> None:
    """Printed, or saved as PDF (the *Download* menu's ``.pdf`` prints the page), does a
    chapter show its "Check yourself" answers, which paper cannot unfold, and leave out the
    "Show code cell source" buttons, which paper cannot press?"""
    page = browser.new_page()
    try:
        page.goto(site + chapter, wait_until="load")
        page.emulate_media(media="print")
        printed = page.evaluate(PRINTED_JS)
        page.emulate_media(media="screen")
        on_screen = page.evaluate(PRINTED_JS)
    finally:
        page.close()
    assert all(printed["answers"]), f"{chapter}: answers folded on paper: {printed}"
    assert printed["toggles"] == 0, f"{chapter}: {printed['toggles']} toggle buttons on paper"
    # On screen the answers still wait for a click.
    assert not any(on_screen["answers"]), chapter


# --- the axe-core audit, and the theme's controls -----------------------------------------

#: Every rule axe-core runs by default (WCAG 2 A and AA, and its best practices), none
#: disabled; experimental rules are left out, as axe does.
AXE_OPTIONS = {"resultTypes": ["violations"]}

# How a reader sees the book: a desktop in the default light mode, and a phone in dark mode
# (figures scroll in their own boxes there, and the sidebars become drawers).
AXE_VIEWS = {
    "desktop-light": ({"width": 1280, "height": 900}, "light"),
    "phone-dark": (PHONE, "dark"),
}


def axe_script() -> str:
    """axe-core's script, as the ``axe-playwright-python`` package ships it (no download)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    require_or_skip(spec is not None, "the axe-playwright-python package (axe-core)")
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page) -> list[str]:
    """axe-core's findings on the page as it stands, one line per rule broken."""
    page.evaluate(axe_script())
    results = page.evaluate("(options) => axe.run(document, options)", AXE_OPTIONS)
    return [
        f"{rule['id']} ({rule['impact']}, {len(rule['nodes'])}x): {rule['help']}: "
        f"{[node['target'] for node in rule['nodes'][:3]]}"
        for rule in results["violations"]
    ]


@pytest.fixture()
def view_page(browser, request):
    """A page of the given view's size whose theme starts in the view's colour mode."""
    size, mode = AXE_VIEWS[request.param]
    page = browser.new_page()
    page.set_viewport_size(size)
    # What the colour-mode button stores, read by the theme before the page is drawn.
    page.add_init_script(f"localStorage.setItem('mode', '{mode}')")
    try:
        yield page
    finally:
        page.close()


@pytest.mark.parametrize("view_page", list(AXE_VIEWS), indirect=True)
def test_every_page_passes_the_axe_audit(site: str, view_page) -> None:
    """Does every page of the book break none of axe-core's rules (WCAG 2 A and AA and axe's
    best practices, none disabled), on a desktop in light mode and a phone in dark mode:
    named buttons, landmarks around all content, scrolling boxes reachable by keyboard,
    table headers that name something, enough contrast?"""
    problems: list[str] = []
    for name in book_pages():
        view_page.goto(site + name, wait_until="networkidle")
        problems += [f"{name}: {finding}" for finding in axe_violations(view_page)]
    assert not problems, "axe-core:\n" + "\n".join(problems)


FOCUSED_CLASSES_JS = "() => document.activeElement && document.activeElement.className"
COLOUR_MODE_BUTTON = ".bd-header-article .theme-switch-button"
MODE_JS = "() => document.documentElement.dataset.mode"


def test_the_colour_mode_button_says_the_mode_and_keeps_focus(site: str, browser) -> None:
    """Is the colour-mode button named with the mode it has on (light, dark, the system's
    setting), renamed as a keyboard reader presses it, and still focused after each press,
    so that a screen reader announces the new mode? Are the search box's and the drawers'
    dialogs named, and is the sidebar the book's navigation?"""
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    try:
        page.goto(site + "book/02-dense.html", wait_until="networkidle")
        button = page.locator(COLOUR_MODE_BUTTON)
        heard = []
        for _ in range(3):
            mode = page.evaluate(MODE_JS)
            name = button.get_attribute("aria-label")
            heard.append((mode, name))
            spoken = {"light": "light", "dark": "dark", "auto": "the system's setting"}[mode]
            assert page.get_by_role("button", name=f"Color mode: {spoken}").count() == 1, heard
            button.focus()
            page.keyboard.press("Enter")
            assert "theme-switch-button" in page.evaluate(FOCUSED_CLASSES_JS), heard
        assert {mode for mode, _ in heard} == {"light", "dark", "auto"}, heard
        for dialog, name in (
            ("pst-search-dialog", "Search this book"),
            ("pst-primary-sidebar-modal", "Book navigation"),
            ("pst-secondary-sidebar-modal", "Contents of this page"),
        ):
            found = page.get_by_role("dialog", name=name, include_hidden=True)
            assert found.get_attribute("id") == dialog, name
        book = page.get_by_role("navigation", name="Book", exact=True)
        assert book.get_attribute("id") == "pst-primary-sidebar"
    finally:
        page.close()


def test_the_colour_mode_a_reader_picks_holds_on_the_next_page(site: str, browser) -> None:
    """Does the colour mode a reader picks with the header's button (dark, here) hold on the
    next page they open, the theme having stored it in the browser's local storage?"""
    page = browser.new_page()
    try:
        page.goto(site + "book/02-dense.html", wait_until="networkidle")
        pick_dark_mode(page)
        page.goto(site + "book/03-simplernn.html", wait_until="networkidle")
        assert page.evaluate(MODE_JS) == "dark"
        assert page.evaluate("() => localStorage.getItem('mode')") == "dark"
        assert page.get_by_role("button", name="Color mode: dark").count() == 1
    finally:
        page.close()


def test_a_first_visit_opens_in_the_books_default_mode(site: str, browser) -> None:
    """Does a reader's first visit open in the book's default mode, light, with nothing
    stored, although this browser picked dark before? What one test stores (a colour mode,
    Sphinx's search terms to highlight) is forgotten before the next, as here (no cookie, no
    local storage of any origin; session storage is a tab's own), so it reaches no other."""
    page = browser.new_page()
    try:
        page.goto(site + "book/03-simplernn.html", wait_until="networkidle")
        pick_dark_mode(page)
    finally:
        page.close()
    forget_what_was_stored(browser, site)
    stored = browser.storage_state()
    assert stored["cookies"] == [], stored
    assert not [origin for origin in stored["origins"] if origin.get("localStorage")], stored
    page = browser.new_page()
    try:
        page.goto(site + "book/02-dense.html", wait_until="networkidle")
        assert page.evaluate(MODE_JS) == "light"
        assert page.get_by_role("button", name="Color mode: light").count() == 1
    finally:
        page.close()


# Each control of a page's header as the reader's screen reader names it (HEADER_NAMES, which
# the built HTML carries already). The words shown are innerText: the colour-mode button's
# icons hold their unshown titles as text content.
HEADER_CONTROLS_JS = """() => [...document.querySelectorAll(
    ".bd-header-article button, .bd-header-article a")].map((control) => ({
  classes: control.className,
  label: control.getAttribute("aria-label"),
  text: control.innerText.trim(),
}))"""


@pytest.mark.parametrize("name", list(HEADER_NAMES))
def test_the_header_buttons_are_named_for_what_they_do(site: str, browser, name: str) -> None:
    """Does every button and link of a page's header (the sidebar toggles, full screen, the
    *Launch* and *Download* menus and their items) carry a name (``aria-label``) that says
    what pressing it does and holds the words it shows, so that a screen reader announces
    more than a tooltip's "Toggle primary sidebar" or a bare ".ipynb", and a voice command
    saying the visible words finds it?"""
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    try:
        page.goto(site + name, wait_until="networkidle")
        controls = page.evaluate(HEADER_CONTROLS_JS)
        heard = {
            expected: page.get_by_role(role, name=expected, exact=True, include_hidden=True).count()
            for role, expected in HEADER_NAMES[name]
        }
    finally:
        page.close()
    assert controls, f"{name}: no header controls"
    unnamed = [control for control in controls if not control["label"]]
    assert not unnamed, f"{name}: header controls named by their tooltip alone: {unnamed}"
    unspoken = [c for c in controls if c["text"] and c["text"] not in c["label"]]
    assert not unspoken, f"{name}: names that leave out the words shown: {unspoken}"
    assert all(count == 1 for count in heard.values()), f"{name}: {heard}"


# Where to click to close a drawer on its backdrop: beside the drawer, on the other side.
DRAWERS = {
    ".primary-toggle": ("pst-primary-sidebar-modal", {"x": PHONE["width"] - 10, "y": 400}),
    ".secondary-toggle": ("pst-secondary-sidebar-modal", {"x": 10, "y": 400}),
}


@pytest.mark.parametrize("closed_by", ["Escape", "backdrop"])
@pytest.mark.parametrize("toggle", list(DRAWERS))
def test_a_closed_drawer_gives_focus_back_to_its_button(
    site: str, phone, toggle: str, closed_by: str
) -> None:
    """At phone width, when a sidebar drawer opened from the keyboard closes (Escape, or a
    tap on the page beside it), does keyboard focus return to the button that opened it,
    rather than fall to the top of the page? And does the page with a drawer open break
    none of axe-core's rules?"""
    dialog_id, beside = DRAWERS[toggle]
    phone.goto(site + "book/02-dense.html", wait_until="networkidle")
    phone.locator(toggle).focus()
    phone.keyboard.press("Enter")
    dialog = phone.locator(f"#{dialog_id}")
    dialog.wait_for(state="visible")
    assert not axe_violations(phone), f"{toggle}'s drawer open"
    if closed_by == "Escape":
        phone.keyboard.press("Escape")
    else:
        phone.mouse.click(beside["x"], beside["y"])
    dialog.wait_for(state="hidden")
    phone.wait_for_function(
        "(toggle) => document.activeElement === document.querySelector(toggle)",
        arg=toggle,
        timeout=5_000,
    )


def test_a_closed_search_box_gives_focus_back_to_its_button(site: str, phone) -> None:
    """When the search box, opened from the keyboard with the header's search button, closes
    (Escape), does keyboard focus return to that button?"""
    phone.goto(site + "book/02-dense.html", wait_until="networkidle")
    button = phone.locator(".bd-header-article .search-button")
    button.focus()
    phone.keyboard.press("Enter")
    phone.locator("#pst-search-dialog").wait_for(state="visible")
    phone.keyboard.press("Escape")
    phone.locator("#pst-search-dialog").wait_for(state="hidden")
    phone.wait_for_function(
        "() => document.activeElement"
        " === document.querySelector('.bd-header-article .search-button')",
        timeout=5_000,
    )
