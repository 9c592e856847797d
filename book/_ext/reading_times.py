"""Rebuild the home page whenever a chapter changes: its reading-time table counts them.

``book/index.md`` computes each chapter's words and code cells in a code cell, at build
time, and runs with ``execution_mode: force`` (its front matter) so the execution cache
never serves an old count. Sphinx, though, only rereads a page whose own source changed;
this extension marks the home page outdated whenever a chapter is added or changed.
"""

from __future__ import annotations

from typing import Any

HOME = "book/index"


def _home_counts_chapters(
    app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    touched = added | changed | removed
    if HOME not in touched and any(name.startswith("book/") for name in touched):
        return [HOME]
    return []


def setup(app: Any) -> dict[str, Any]:
    """Mark the home page outdated with any chapter."""
    app.connect("env-get-outdated", _home_counts_chapters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
