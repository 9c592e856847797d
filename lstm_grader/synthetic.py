"""Make submissions from the solutions: correct, blank or with a chosen answer changed.

Used by the tests and the benchmarks to build classes of realistic submissions.
"""

from __future__ import annotations

import re

import nbformat
from nbformat.notebooknode import NotebookNode

_SOLUTION_RE = re.compile(
    r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(?P<body>.*?)^[ \t]*### END SOLUTION[ \t]*\n?",
    re.MULTILINE | re.DOTALL,
)


def solution_sources(source: NotebookNode) -> dict[str, str]:
    """The source of each solution cell, markers removed, by ``grade_id``."""
    found = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            found[meta["grade_id"]] = _SOLUTION_RE.sub(lambda m: m.group("body"), cell.source)
    return found


def answered(
    release: NotebookNode, source: NotebookNode, overrides: dict[str, str] | None = None
) -> NotebookNode:
    """A copy of the released notebook with every answer cell filled in.

    Parameters
    ----------
    release : NotebookNode
        The student version (from ``exercises/``).
    source : NotebookNode
        The instructor's version (from ``solutions/``).
    overrides : dict, optional
        ``{grade_id: code}`` for answer cells that should hold something else, such as
        a classic mistake.
    """
    answers = {**solution_sources(source), **(overrides or {})}
    filled = nbformat.from_dict(release)
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id].rstrip("\n")
    return filled
