"""Keep the book usable for readers who do not read it with a mouse on a bright screen.

The theme's defaults leave out three kinds of reader, and this extension fixes each one:

- Keyboard readers: the article header's buttons (the table of contents toggle, *Launch*
  and *Download* with their menus) drop the theme's focus ring, so a reader moving with Tab
  could not see where they were. ``static/every_reader.css`` draws the ring the rest of the
  page uses.
- Readers with low vision: ``model.summary()`` colours its layer names, shapes and counts
  (light blue, cyan, green) at 1.6 to 3.2:1 on the output's grey, below WCAG AA's 4.5:1.
  Its text takes the page's text colour, in light and dark mode alike.
- Readers who print a chapter or save it as PDF (the *Download* menu's ``.pdf`` prints the
  page): the "Check yourself" answers were folded away on paper, with no way to open them,
  and each hidden cell left a "Show code cell source" button. In print the answers are
  unfolded and the buttons left out.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
STYLESHEET = "every_reader.css"


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
    """Add the stylesheet for keyboard, low-vision and print readers."""
    app.connect("config-inited", _add_static_path)
    app.connect("builder-inited", _refresh_copy)
    app.add_css_file(STYLESHEET)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
