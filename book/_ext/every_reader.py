"""Keep the book usable for readers who do not read it with a mouse on a bright screen.

The theme's defaults leave out four kinds of reader, and this extension fixes each one:

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
- Screen-reader and voice-control readers: myst-nb labels every "Show code cell source"
  toggle "Toggle hidden content", a name the reader never sees; a screen reader announced
  what the toggle does, not what it shows, and a voice command naming the visible words
  found nothing. The label is dropped, so the toggle is named by its visible text.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
STYLESHEET = "every_reader.css"
#: The name myst-nb gives every hide-input toggle, over its visible "Show code cell source".
UNSEEN_TOGGLE_LABEL = ' aria-label="Toggle hidden content"'


def name_toggles_by_their_text(body: str) -> str:
    """``body`` with the hidden-cell toggles' unseen label dropped: each ``<summary>`` is
    then named by the words it shows ("Show code cell source")."""
    return body.replace(f"<summary{UNSEEN_TOGGLE_LABEL}>", "<summary>")


def _on_page(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "body" in context:
        context["body"] = name_toggles_by_their_text(context["body"])


def _add_static_path(app: Any, config: Any) -> None:
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def _refresh_copy(app: Any) -> None:
    # Sphinx 7.4 does not overwrite a static file already in the output, and copies none
    # when no page is out of date: an edited stylesheet is written over the old copy here.
    copy = Path(app.outdir) / "_static" / STYLESHEET
    if copy.exists() and copy.read_bytes() != (STATIC / STYLESHEET).read_bytes():
        shutil.copyfile(STATIC / STYLESHEET, copy)


def setup(app: Any) -> dict[str, Any]:
    """Add the stylesheet for keyboard, low-vision and print readers; name the toggles."""
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _refresh_copy)
    app.connect("html-page-context", _on_page)
    app.add_css_file(STYLESHEET)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
