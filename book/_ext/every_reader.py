"""Keep the book usable for readers who do not read it with a mouse on a bright screen.

The theme's defaults leave out six kinds of reader, and this extension fixes each one:

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
- Screen-reader and keyboard readers of the theme's own controls (``static/every_reader.js``,
  as the theme builds them in the browser): the colour-mode button was named "Color mode"
  whatever the mode, and lost keyboard focus when pressed; the search box and the sidebar
  drawers of a narrow screen opened as unnamed dialogs and, closed, dropped keyboard focus
  to the top of the page instead of the button that opened them; the sidebar (the book's
  title, search and chapters) sat in no landmark; and a figure scrolling sideways in its
  own box at phone width could not be scrolled from the keyboard; and the header's icon
  buttons (sidebar toggles, full screen) and the *Download* menu's items were named by
  their tooltip's theme words ("Toggle primary sidebar") or a bare ".ipynb". The button now
  says the mode, focus returns to the opener, the dialogs are named, the sidebar is the
  book's navigation, a scrolling figure takes focus and each header control is named for
  what it does, its visible words included.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

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
    theme's controls; name the toggles; write a root page that says what it is."""
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _refresh_copy)
    app.connect("html-page-context", _on_page)
    # Before sphinx-external-toc's own handler (priority 500), which then leaves it be.
    app.connect("build-finished", _write_root_page, priority=400)
    app.add_css_file(STYLESHEET)
    # Deferred: it runs after the theme's scripts have built the controls it names.
    app.add_js_file(SCRIPT, loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
