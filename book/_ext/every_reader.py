"""Keep the book usable for readers who do not read it with a mouse on a bright screen.

The theme's defaults leave out eight kinds of reader, and this extension fixes each one:

- Keyboard readers: the article header's buttons (the table of contents toggle, *Launch*
  and *Download* with their menus) drop the theme's focus ring, so a reader moving with Tab
  could not see where they were. ``static/every_reader.css`` draws the ring the rest of the
  page uses.
- Readers with low vision: ``model.summary()`` colours its layer names, shapes and counts
  (light blue, cyan, green) at 1.6 to 3.2:1 on the output's grey, below WCAG AA's 4.5:1.
  Its text takes the page's text colour, in light and dark mode alike. In dark mode the
  name over an ``lstm_lib.explain`` table stood at 1.7:1 on its light output box; it takes
  its table's dark text colour.
- Readers who print a chapter or save it as PDF (the *Download* menu's ``.pdf`` prints the
  page): the "Check yourself" answers were folded away on paper, with no way to open them,
  each hidden cell left a "Show code cell source" button, and a ``model.summary()`` table,
  which scrolls sideways on screen, lost its right edge on A4. In print the answers are
  unfolded, the buttons left out and those tables set smaller.
- Readers whose browser does not follow automatic redirects (an accessibility setting), and
  screen readers: the site's root page was a bare redirect, untitled, in no language and
  with nothing to follow. It now has a title, a language and a link to the first page.
- Screen-reader and voice-control readers: myst-nb labels every "Show code cell source"
  toggle "Toggle hidden content", a name the reader never sees; a screen reader announced
  what the toggle does, not what it shows, and a voice command naming the visible words
  found nothing. The label is dropped, so the toggle is named by its visible text.
- Screen-reader and voice-control readers of the header: its icon buttons (sidebar toggles,
  full screen, the colour mode) and the *Download* menu's items were named by their
  tooltip's theme words ("Toggle primary sidebar") or a bare ".ipynb". Each header control
  is named in the built HTML for what it does, its visible words included, so a page read
  without JavaScript, or by a tool that reads the HTML, carries the same names as one
  read in a browser.
- Screen-reader readers of the rest of the page: the sidebar (the book's title, search and
  chapters) sat in no landmark, and the search box and the sidebar drawers of a narrow
  screen opened as unnamed dialogs. In the built HTML, the sidebar is the book's navigation
  and each dialog is named.
- Screen-reader and keyboard readers of the theme's own controls (``static/every_reader.js``,
  what only the browser knows): the colour-mode button's name follows the mode, which a
  stored choice or a press changes, and the button kept no keyboard focus when pressed;
  the dialogs, closed, dropped keyboard focus to the top of the page instead of the button
  that opened them; and a figure scrolling sideways in its own box at phone width could not
  be scrolled from the keyboard. The button now says the mode, focus returns to the opener
  and a scrolling figure takes focus.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, Tag
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STYLESHEET = "every_reader.css"
SCRIPT = "every_reader.js"
#: The name myst-nb gives every hide-input toggle, over its visible "Show code cell source".
UNSEEN_TOGGLE_LABEL = ' aria-label="Toggle hidden content"'


def name_toggles_by_their_text(body: str) -> str:
    """``body`` with the hidden-cell toggles' unseen label dropped: each ``<summary>`` is
    then named by the words it shows ("Show code cell source")."""
    return body.replace(f"<summary{UNSEEN_TOGGLE_LABEL}>", "<summary>")


def _on_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "body" in context:
        context["body"] = name_toggles_by_their_text(context["body"])


#: What each of the header's controls does, by the class the theme gives it. A control not
#: listed here keeps a name the theme gave it ("Download this page" on the menu's button) or
#: takes its tooltip's words, which already name its action ("Launch on Binder").
HEADER_CONTROL_NAMES = {
    "primary-toggle": "Show or hide the book's chapters",
    "secondary-toggle": "Show or hide the contents of this page",
    "btn-fullscreen-button": "Show the page full screen, or leave full screen",
    "btn-download-notebook-button": "Download this page as a notebook",
    "btn-download-source-button": "Download this page's source",
    "btn-download-pdf-button": "Print this page or save it as PDF",
    "btn-source-repository-button": "Open the course's repository",
    "btn-source-file-button": "Show this page's source in the repository",
    "btn-source-edit-button": "Suggest an edit to this page",
    "btn-source-issues-button": "Open an issue about this page",
}
#: The colour-mode button's class, and what its name says of each mode.
COLOUR_MODE_BUTTON = "theme-switch-button"
MODE_NAMES = {"light": "light", "dark": "dark", "auto": "the system's setting"}
#: Controls every page's header holds: a page whose header lacks one was drawn from markup
#: this extension does not know, and its names would be left to the theme.
EVERY_HEADER_HAS = ("primary-toggle", "btn-fullscreen-button", COLOUR_MODE_BUTTON)
HEADER_CONTROLS = ".bd-header-article button, .bd-header-article a"
#: An attribute's value in a start tag, with its "=": quoted either way, or bare.
ATTRIBUTE_VALUE = r"""(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
START_TAG = re.compile(rf"""<[a-zA-Z][^\s/>]*(?:\s+[^\s"'>/=]+{ATTRIBUTE_VALUE})*\s*/?>""")


class ThemeMarkupChanged(ValueError):
    """A built page is not drawn as this extension expects: what it names is not there."""


class HeaderMarkupChanged(ThemeMarkupChanged):
    """The theme's header is not drawn as ``name_header_controls`` expects."""


class LandmarkMarkupChanged(ThemeMarkupChanged):
    """The theme's sidebar or dialogs are not drawn as ``name_landmarks`` expects."""


def colour_mode_name(mode: str) -> str:
    """The colour-mode button's name while ``mode`` (``light``, ``dark``, ``auto``) is on."""
    return f"Color mode: {MODE_NAMES.get(mode, mode)} (press to change)"


def _control_name(control: Tag, default_mode: str) -> dict[str, str]:
    """The attributes that name ``control``: empty where it keeps the theme's own name."""
    classes = control.get("class", [])
    if COLOUR_MODE_BUTTON in classes:
        # Its tooltip says the mode too. The script renames it from these as the mode changes.
        name = colour_mode_name(default_mode)
        named = {"aria-label": name, "data-bs-title": name}
        return named | {f"data-name-{mode}": colour_mode_name(mode) for mode in MODE_NAMES}
    known = next((name for key, name in HEADER_CONTROL_NAMES.items() if key in classes), None)
    if known is None and control.has_attr("aria-label"):
        return {}
    action = known or control.get("title") or control.get("data-bs-title")
    if not action:
        raise HeaderMarkupChanged(f"a header control has no name nor tooltip: {control}")
    # Its visible words stay in its name (WCAG 2.5.3), so a voice command saying them finds it.
    visible = " ".join(control.get_text(" ").split())
    shown = f" ({visible})" if visible and visible not in action else ""
    return {"aria-label": action + shown}


def _with_attributes(start_tag: str, attributes: dict[str, str]) -> str:
    """``start_tag`` (``<button class="...">``) with ``attributes`` set, any old values gone."""
    for name in attributes:
        start_tag = re.sub(rf"\s+{re.escape(name)}{ATTRIBUTE_VALUE}(?=[\s/>])", "", start_tag)
    tag_name = re.match(r"<[^\s/>]+", start_tag).group()
    added = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items())
    return tag_name + added + start_tag[len(tag_name) :]


def name_header_controls(page: str, default_mode: str = "auto") -> str:
    """``page`` (a built page's HTML) with each control of its article header named for
    what it does: the sidebar toggles, full screen, the colour mode (named for
    ``default_mode``, the mode a first visit starts in) and the items of the *Launch* and
    *Download* menus. Only the controls' start tags change.

    Raises
    ------
    HeaderMarkupChanged
        If the page has no article header, its header lacks a control every header has, or
        a control has neither a name of ours, nor the theme's, nor a tooltip.
    """
    soup = BeautifulSoup(page, "html.parser")
    controls = soup.select(HEADER_CONTROLS)
    if not controls:
        raise HeaderMarkupChanged("the page has no controls in a .bd-header-article")
    for expected in EVERY_HEADER_HAS:
        if not any(expected in control.get("class", []) for control in controls):
            raise HeaderMarkupChanged(f"the header has no control of class {expected!r}")
    named = [(control, _control_name(control, default_mode)) for control in controls]
    return _set_attributes(page, named, HeaderMarkupChanged)


def _set_attributes(
    page: str, named: list[tuple[Tag, dict[str, str]]], changed: type[ThemeMarkupChanged]
) -> str:
    """``page`` with each tag of ``named`` (found in ``page`` by ``html.parser``) given its
    attributes in its start tag, and nothing else of ``page`` changed: the page is not
    written back from the parsed tree, which would respell every tag of it.

    Raises
    ------
    ThemeMarkupChanged
        ``changed``, if a tag's start tag is not where the parser found it.
    """
    line_starts = [0] + [match.end() for match in re.finditer("\n", page)]
    edits = []
    for tag, attributes in named:
        if not attributes:
            continue
        start = line_starts[tag.sourceline - 1] + tag.sourcepos
        start_tag = START_TAG.match(page, start)
        if start_tag is None or not start_tag.group().lower().startswith(f"<{tag.name}"):
            raise changed(f"no <{tag.name}> where the parser found one: {tag}")
        edits.append((start_tag.start(), start_tag.end(), attributes))
    for begin, end, attributes in sorted(edits, reverse=True):
        page = page[:begin] + _with_attributes(page[begin:end], attributes) + page[end:]
    return page


#: The primary sidebar (the book's title, search and chapter list) is the book's navigation:
#: the theme draws it as a bare ``<div>``, in no landmark, which a screen reader's list of
#: regions skips.
SIDEBAR_ID = "pst-primary-sidebar"
SIDEBAR_LANDMARK = {"role": "navigation", "aria-label": "Book"}
#: The dialogs the theme opens, by id, each with its name and the header control that opens
#: it: the search box and, on a narrow screen, the two sidebars as drawers. The theme leaves
#: them unnamed. A page draws a dialog where it draws the control that opens it.
DIALOGS = {
    "pst-search-dialog": ("Search this book", "search-button__button"),
    "pst-primary-sidebar-modal": ("Book navigation", "primary-toggle"),
    "pst-secondary-sidebar-modal": ("Contents of this page", "secondary-toggle"),
}


def name_landmarks(page: str) -> str:
    """``page`` (a built page's HTML) with its primary sidebar made the book's navigation
    landmark (``role="navigation"``, named "Book") and each dialog the theme opens (the
    search box, the sidebars' drawers) named. Only their start tags change.

    Raises
    ------
    LandmarkMarkupChanged
        If the page has no primary sidebar, or lacks the dialog one of its controls opens.
    """
    soup = BeautifulSoup(page, "html.parser")
    sidebar = soup.find("div", id=SIDEBAR_ID)
    if sidebar is None:
        raise LandmarkMarkupChanged(f"the page has no <div id={SIDEBAR_ID!r}>")
    named = [(sidebar, SIDEBAR_LANDMARK)]
    for dialog_id, (name, opener) in DIALOGS.items():
        dialog = soup.find("dialog", id=dialog_id)
        if dialog is None and soup.select_one(f".{opener}") is not None:
            raise LandmarkMarkupChanged(
                f"the page has a .{opener} control but no <dialog id={dialog_id!r}> it opens"
            )
        if dialog is not None:
            named.append((dialog, {"aria-label": name}))
    return _set_attributes(page, named, LandmarkMarkupChanged)


def _name_controls_and_landmarks_in_pages(app: Any, exception: Exception | None) -> None:
    # The theme draws the header, the sidebar and the dialogs from templates and macros of
    # its own, and Sphinx hands no page over once drawn: their names are set in the written
    # files. Every page is read (a page written by an earlier build is named already, and
    # naming it again changes nothing), so a page Sphinx left as it was keeps its names too.
    if exception is not None or app.builder.format != "html":
        return
    default_mode = app.config.html_context.get("default_mode", "auto")
    outdir = Path(app.outdir)
    documents = {outdir / app.builder.get_target_uri(name) for name in app.env.found_docs}
    for path in sorted(outdir.rglob("*.html")):
        if path.relative_to(outdir).parts[0] in ("_static", "_sources", "_images"):
            continue
        page = path.read_text(encoding="utf-8")
        if path not in documents and "bd-header-article" not in page:
            continue  # the root page, which sends the reader on
        try:
            named = name_landmarks(name_header_controls(page, default_mode))
        except ThemeMarkupChanged as error:
            # The page is left whole: one named in part would pass for one named in full.
            LOGGER.warning(
                f"every_reader: the page's controls and landmarks are left unnamed: {error}. "
                "The theme's markup has changed; book/_ext/every_reader.py names them by the "
                "theme's classes and ids.",
                location=str(path),
            )
            continue
        if named != page:
            path.write_text(named, encoding="utf-8")


ROOT_PAGE = """\
<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="Refresh" content="0; url={target}">
<link rel="icon" href="_static/{icon}">
</head>
<body>
<p><a href="{target}">{title}</a></p>
</body>
</html>
"""


def root_page(title: str, language: str, target: str, icon: str) -> str:
    """The page at the site's root, which sends the reader on to the book's first page:
    titled and in a declared language for a screen reader, and with a link to follow where
    the reader's browser does not follow automatic redirects."""
    return ROOT_PAGE.format(
        title=html.escape(title), language=html.escape(language), target=target, icon=icon
    )


def _write_root_page(app: Any, exception: Exception | None) -> None:
    # sphinx-external-toc writes a bare redirect here, only where no file is: no title, no
    # language and nothing to click, a blank page for a reader who has turned automatic
    # redirects off. Ours is written first, and replaces a bare one an earlier build left.
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    page = Path(app.outdir) / "index.html"
    if page.exists() and "<title>" in page.read_text(encoding="utf-8"):
        return
    target = f"{app.config.root_doc}.html"
    title = app.config.html_title or app.config.project
    icon = Path(app.config.html_favicon or "favicon.svg").name
    page.write_text(root_page(title, app.config.language or "en", target, icon), encoding="utf-8")


def _add_static_path(app: Any, config: Any) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def _refresh_copy(app: Any) -> None:
    # Sphinx 7.4 does not overwrite a static file already in the output, and copies none
    # when no page is out of date: an edited file is written over the old copy here.
    for name in (STYLESHEET, SCRIPT):
        copy = Path(app.outdir) / "_static" / name
        if copy.exists() and copy.read_bytes() != (STATIC / name).read_bytes():
            shutil.copyfile(STATIC / name, copy)


def setup(app: Any) -> dict[str, Any]:
    """Add the stylesheet for keyboard, low-vision and print readers and the script for the
    theme's controls; name the toggles, the header's controls, the sidebar's landmark and the
    dialogs; write a root page that says what it is."""
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _refresh_copy)
    app.connect("html-page-context", _on_page)
    # Before sphinx-external-toc's own handler (priority 500), which then leaves it be.
    app.connect("build-finished", _write_root_page, priority=400)
    app.connect("build-finished", _name_controls_and_landmarks_in_pages)
    app.add_css_file(STYLESHEET)
    # Deferred: it runs after the theme's scripts have built the controls it names.
    app.add_js_file(SCRIPT, loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
