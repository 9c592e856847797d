"""Title each exercise page's "Chapter:" link with the chapter's own title.

Every student notebook opens with a line such as
``Chapter: [The LSTM layer](../../book/04-lstm.md)``, typed by hand in its solution notebook:
some name the chapter by its full title, others by a short form of it, so the Exercises pages
of the book named the same kind of thing two ways.
On those pages this extension replaces the link's words with the title of the chapter it
leads to, read from the chapter's ``# Title``, so there is one place a chapter's name is
written and every page shows it the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from docutils import nodes

EXERCISES = "exercises/"
CHAPTERS = "book/"
LABEL = "Chapter:"


def chapter_link(paragraph: nodes.paragraph) -> nodes.reference | None:
    """The link of a paragraph that starts with ``Chapter:``, or None for any other."""
    if not paragraph.astext().startswith(LABEL):
        return None
    links = [child for child in paragraph.children if isinstance(child, nodes.reference)]
    return links[0] if len(links) == 1 else None


def _title_chapter_links(app: Any, doctree: nodes.document, docname: str) -> None:
    if not docname.startswith(EXERCISES):
        return
    env = app.env
    # A link's address as this page's HTML writes it, for each chapter it can lead to.
    chapters = {
        app.builder.get_relative_uri(docname, chapter): chapter
        for chapter in env.found_docs
        if chapter.startswith(CHAPTERS) and chapter in env.titles
    }
    for paragraph in doctree.findall(nodes.paragraph):
        link = chapter_link(paragraph)
        if link is None:
            continue
        chapter = chapters.get(link.get("refuri", "").split("#")[0])
        if chapter is None:
            continue
        title = env.titles[chapter]
        # The title keeps its markup (`return_sequences` stays code), in the span the
        # theme gives a link to a page.
        words = nodes.inline("", "", *copy.deepcopy(title.children), classes=["std", "std-doc"])
        del link[:]
        link += words


def _exercises_name_chapters(
    app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    # A chapter's new title reaches the exercise pages only if they are written again.
    if any(name.startswith(CHAPTERS) for name in added | changed | removed):
        return sorted(name for name in env.found_docs if name.startswith(EXERCISES))
    return []


def setup(app: Any) -> dict[str, Any]:
    """Title the exercise pages' chapter links when pages are written."""
    app.connect("doctree-resolved", _title_chapter_links)
    app.connect("env-get-outdated", _exercises_name_chapters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
