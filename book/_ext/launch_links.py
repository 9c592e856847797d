"""Keep only launch buttons that can open the page they sit on.

Colab opens ``.ipynb`` files only, so on a chapter written as MyST Markdown its button
would lead to an error page; the theme adds it to every notebook-like page. This drops it
from pages whose source is not an ``.ipynb`` (the student notebooks keep it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

UNSUPPORTED_ON_TEXT_NOTEBOOKS = {"Colab"}


def _drop_unopenable(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    if Path(str(app.env.doc2path(pagename))).suffix == ".ipynb":
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "launch-buttons":
            group["buttons"] = [
                button
                for button in group["buttons"]
                if button.get("text") not in UNSUPPORTED_ON_TEXT_NOTEBOOKS
            ]
    context["header_buttons"] = [
        group
        for group in context.get("header_buttons", [])
        if group.get("label") != "launch-buttons" or group["buttons"]
    ]


def setup(app: Any) -> dict[str, Any]:
    """Register the filter after the theme has added its launch buttons (priority 501)."""
    app.connect("html-page-context", _drop_unopenable, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
