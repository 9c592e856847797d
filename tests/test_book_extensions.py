"""Do the book's extensions (``book/_ext``) do their work on the markup the theme draws?

Their pure functions and build steps run here on small pages as the theme draws them, with no
book build, and ``make book``'s recipe, dry-run, is checked to write every page again after an
extension changes: what the built book itself carries is checked in ``test_book.py``.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from test_book import BUILD

BOOK = Path(__file__).resolve().parent.parent / "book"
HEADER_CONTROLS = ".bd-header-article button, .bd-header-article a"


def book_extension(name: str) -> ModuleType:
    """The book's extension ``book/_ext/<name>.py``, loaded from its file."""
    spec = importlib.util.spec_from_file_location(name, BOOK / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A header as the theme draws it, cut down to the controls every page's header holds.
THEME_HEADER = """<html><body><div class="bd-header-article">
<button class="sidebar-toggle primary-toggle btn btn-sm" title="Toggle primary sidebar">
  <span class="fa-solid fa-bars"></span></button>
<ul><li><a href="x.ipynb" class="btn btn-download-notebook-button dropdown-item"
   title="Download notebook file"><span class="btn__text-container">.ipynb</span></a></li>
<li><a href="https://mybinder.org/x" class="btn dropdown-item" title="Launch on Binder"
   ><img alt="Binder logo" src="b.svg"></a></li></ul>
<button onclick="toggleFullScreen()" class="btn btn-fullscreen-button" title="Fullscreen mode">
</button>
<button class="btn theme-switch-button pst-js-only" aria-label="Color mode"
  data-bs-title='Color mode'><i class="theme-switch" title="Light"></i></button>
<button class="btn search-button" title="Search" aria-label="Search"></button>
</div><p>The page's text, <em>untouched</em> &amp; as written.</p></body></html>
"""

# The rest of a page as the theme draws it: the search box's dialog, the sidebars' drawers
# and the primary sidebar, around THEME_HEADER, whose search button opens the search box and
# which gains the toggle of the page's contents (a chapter's header has it).
THEME_PAGE = (
    THEME_HEADER.replace(
        '<button class="btn search-button"',
        '<button class="sidebar-toggle secondary-toggle btn btn-sm"'
        ' title="Toggle secondary sidebar"><span class="fa-solid fa-list"></span></button>\n'
        '<button class="btn search-button search-button__button"',
    )
    .replace(
        "<html><body>",
        """<html><body>
<dialog id="pst-search-dialog">
  <form class="bd-search" action="search.html"><input type="search" name="q"></form>
</dialog>
<dialog id="pst-primary-sidebar-modal"></dialog>
<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">
  <a class="navbar-brand" href="index.html">The book</a>
  <nav class="bd-docs-nav" aria-label="Main"><ul><li><a href="01.html">One</a></li></ul></nav>
</div>
""",
    )
    .replace(
        "<p>The page's text",
        '<dialog id="pst-secondary-sidebar-modal"></dialog>\n'
        '<div id="pst-secondary-sidebar" class="bd-sidebar-secondary bd-toc"></div>\n'
        "<p>The page's text",
    )
)
# An exercise page's: no contents of its own, so neither the toggle nor its drawer.
THEME_PAGE_WITHOUT_CONTENTS = re.sub(
    r'<button class="sidebar-toggle secondary-toggle.*?</button>\n'
    r'|<dialog id="pst-secondary-sidebar-modal"></dialog>\n',
    "",
    THEME_PAGE,
    flags=re.S,
)
#: What each dialog the theme opens is named, by its id.
DIALOG_NAMES = {
    "pst-search-dialog": "Search this book",
    "pst-primary-sidebar-modal": "Book navigation",
    "pst-secondary-sidebar-modal": "Contents of this page",
}


def test_the_header_names_change_the_controls_start_tags_alone() -> None:
    """Does naming a header's controls give each its name, keep a name the theme gave a
    control it does not know (search), take a tooltip for one (Binder), change only the
    controls' start tags, and change nothing more when a page is named again (a page an
    earlier build wrote)?"""
    every_reader = book_extension("every_reader")
    named = every_reader.name_header_controls(THEME_HEADER, "light")
    soup = BeautifulSoup(named, "html.parser")
    names = [control.get("aria-label") for control in soup.select(HEADER_CONTROLS)]
    assert names == [
        "Show or hide the book's chapters",
        "Download this page as a notebook (.ipynb)",
        "Launch on Binder",
        "Show the page full screen, or leave full screen",
        "Color mode: light (press to change)",
        "Search",
    ]
    start_tag = re.compile(r"<(?:button|a)\b[^>]*>")
    assert start_tag.sub("", named) == start_tag.sub("", THEME_HEADER)
    assert every_reader.name_header_controls(named, "light") == named


@pytest.mark.parametrize(
    ("page", "dialogs"),
    [
        (THEME_PAGE, list(DIALOG_NAMES)),
        (THEME_PAGE_WITHOUT_CONTENTS, ["pst-search-dialog", "pst-primary-sidebar-modal"]),
    ],
    ids=["a chapter", "an exercise"],
)
def test_the_landmark_names_change_the_sidebars_and_dialogs_start_tags_alone(
    page: str, dialogs: list[str]
) -> None:
    """Does the primary sidebar become the book's navigation landmark, named "Book", and is
    each dialog the theme opens (the search box, the sidebars' drawers) named, with only
    their start tags changed and nothing more when a page is named again? Is a page without
    contents of its own, and so without their drawer, named all the same?"""
    every_reader = book_extension("every_reader")
    named = every_reader.name_landmarks(page)
    soup = BeautifulSoup(named, "html.parser")
    (landmark,) = soup.select("[role=navigation]")
    assert landmark.get("id") == "pst-primary-sidebar"
    assert landmark.get("aria-label") == "Book"
    assert {dialog["id"]: dialog.get("aria-label") for dialog in soup.select("dialog")} == {
        dialog: DIALOG_NAMES[dialog] for dialog in dialogs
    }
    start_tag = re.compile(r"<(?:div|dialog)\b[^>]*>")
    assert start_tag.sub("", named) == start_tag.sub("", page)
    assert every_reader.name_landmarks(named) == named


def name_written_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, markup: str
) -> tuple[Path, list[str]]:
    """A page written with ``markup``, after the build's naming step has run on it, and the
    warnings that step logged."""
    every_reader = book_extension("every_reader")
    page = tmp_path / "book" / "page.html"
    page.parent.mkdir()
    page.write_text(markup, encoding="utf-8")
    app = SimpleNamespace(
        outdir=str(tmp_path),
        builder=SimpleNamespace(format="html", get_target_uri=lambda name: f"{name}.html"),
        config=SimpleNamespace(html_context={"default_mode": "light"}),
        env=SimpleNamespace(found_docs={"book/page"}),
    )
    with caplog.at_level("WARNING"):
        every_reader._name_controls_and_landmarks_in_pages(app, None)
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    return page, warnings


def test_the_build_names_the_header_and_the_landmarks_in_the_written_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Does the build's last step write into a built page both its header's names and its
    landmarks, warning of nothing, so that the page carries them with no script run?"""
    every_reader = book_extension("every_reader")
    page, warnings = name_written_page(tmp_path, caplog, THEME_PAGE)
    assert not warnings, warnings
    written = page.read_text(encoding="utf-8")
    expected = every_reader.name_landmarks(every_reader.name_header_controls(THEME_PAGE, "light"))
    assert written == expected != THEME_PAGE
    soup = BeautifulSoup(written, "html.parser")
    assert soup.select_one("#pst-primary-sidebar[role=navigation][aria-label=Book]")
    assert soup.select_one(".primary-toggle")["aria-label"] == "Show or hide the book's chapters"


# Each change of the theme's header the build must notice, and the page it gives.
HEADER_CHANGES = [
    ("no article header", THEME_PAGE.replace("bd-header-article", "bd-header-page")),
    ("the sidebar toggle renamed", THEME_PAGE.replace("primary-toggle", "start-toggle")),
    ("no full-screen button", THEME_PAGE.replace("btn-fullscreen-button", "btn-zoom")),
    ("no colour-mode button", THEME_PAGE.replace("theme-switch-button", "mode-button")),
    (
        "a control without a name or a tooltip",
        THEME_PAGE.replace(
            'aria-label="Search"></button>\n</div>',
            'aria-label="Search"></button>\n<button class="btn btn-new"><i></i></button></div>',
        ),
    ),
]
# Each change of the theme's sidebar and dialogs the build must notice, and the page it gives.
LANDMARK_CHANGES = [
    ("no primary sidebar", THEME_PAGE.replace('id="pst-primary-sidebar"', 'id="pst-sidebar"')),
    (
        "no search dialog",
        THEME_PAGE.replace('<dialog id="pst-search-dialog">', '<dialog id="pst-find">'),
    ),
    (
        "no drawer for the chapters",
        THEME_PAGE.replace('id="pst-primary-sidebar-modal"', 'id="pst-primary-drawer"'),
    ),
    (
        "no drawer for the page's contents",
        THEME_PAGE.replace('id="pst-secondary-sidebar-modal"', 'id="pst-secondary-drawer"'),
    ),
]
# The words by which the build's warning names what each change took away.
WARNED = {
    "no article header": "bd-header-article",
    "the sidebar toggle renamed": "'primary-toggle'",
    "no full-screen button": "'btn-fullscreen-button'",
    "no colour-mode button": "'theme-switch-button'",
    "a control without a name or a tooltip": "no name nor tooltip",
    "no primary sidebar": "'pst-primary-sidebar'",
    "no search dialog": "'pst-search-dialog'",
    "no drawer for the chapters": "'pst-primary-sidebar-modal'",
    "no drawer for the page's contents": "'pst-secondary-sidebar-modal'",
}


def assert_the_build_warns_and_leaves_the_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: str, page: str
) -> None:
    assert page != THEME_PAGE, f"{change}: the change changed nothing"
    written, warnings = name_written_page(tmp_path, caplog, page)
    assert any(WARNED[change] in warning for warning in warnings), f"{change}: {warnings}"
    assert written.read_text(encoding="utf-8") == page, f"{change}: the page was changed"


@pytest.mark.parametrize(("change", "header"), HEADER_CHANGES)
def test_a_header_the_theme_draws_otherwise_fails_the_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: str, header: str
) -> None:
    """If the theme's header changes (its controls lose the classes the build names them
    by, or come without a name or a tooltip), does the build warn, naming what it missed,
    which fails ``make book`` (warnings are errors), rather than publish pages whose controls
    only a tooltip names? Is the page left whole, not named in part?"""
    assert_the_build_warns_and_leaves_the_page(tmp_path, caplog, change, header)


@pytest.mark.parametrize(("change", "page"), LANDMARK_CHANGES)
def test_a_sidebar_or_dialog_the_theme_draws_otherwise_fails_the_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, change: str, page: str
) -> None:
    """If the theme's sidebar or one of its dialogs loses the id the build finds it by, or
    a page draws a control with no dialog for it to open, does the build warn, naming what it
    missed, rather than publish pages whose sidebar is in no landmark or whose dialogs are
    unnamed? Is the page left whole, its header not named alone?"""
    assert_the_build_warns_and_leaves_the_page(tmp_path, caplog, change, page)


@pytest.mark.parametrize(
    ("extension", "stylesheet"),
    [
        ("phone_width", "phone_width.css"),
        ("readable_errors", "readable_errors.css"),
        ("every_reader", "every_reader.css"),
        ("every_reader", "every_reader.js"),
    ],
)
def test_an_edited_stylesheet_replaces_its_old_copy_in_the_build(
    tmp_path: Path, extension: str, stylesheet: str
) -> None:
    """When a book extension's stylesheet has been edited since the last build, does the
    next build start with the new one in ``_static``, rather than the old copy (Sphinx 7.4
    never overwrites it) or none (it copies nothing when no page is out of date), which
    would leave readers without the wrapping, focus rings or print rules it carries?"""
    module = book_extension(extension)
    copy = tmp_path / "_static" / stylesheet
    copy.parent.mkdir()
    copy.write_text("/* the stylesheet as it was at the last build */\n", encoding="utf-8")
    module._refresh_copy(SimpleNamespace(outdir=str(tmp_path)))
    assert copy.read_bytes() == (BOOK / "_ext" / "static" / stylesheet).read_bytes()


def test_the_book_tests_build_as_make_book_does(tmp_path: Path) -> None:
    """Do the book's tests build with ``make book``'s own recipe, so that after a change to
    ``book/_ext`` Sphinx's saved pages are dropped for them too? A direct ``jb build`` kept
    every old page, and a test read markup the extension under test had never written."""
    stamps = [f"CACHE_STAMP={tmp_path / 'cache'}", f"DOCTREES_STAMP={tmp_path / 'pages'}"]
    for stamp in stamps:
        Path(stamp.partition("=")[2]).touch()
    changed = ["-W", "book/_ext/static/every_reader.js"]
    dry_run = subprocess.run(
        [BUILD[0], "-n", *changed, *stamps, *BUILD[1:]],
        cwd=BOOK.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert "rm -rf _build/.doctrees" in dry_run.stdout, dry_run.stdout
    assert "jb build" in dry_run.stdout, dry_run.stdout
