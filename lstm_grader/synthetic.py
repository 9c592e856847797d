"""Make submissions from the solutions: correct, blank or with a chosen answer changed.

Used by the tests and the benchmarks to build classes of realistic submissions.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from lstm_grader.hidden import solution_delimiters


def solution_sources(source: NotebookNode, config: Any = None) -> dict[str, str]:
    """The source of each solution cell, delimiter lines removed, by ``grade_id``.

    ``config`` is the course's configuration, whose solution delimiters are used
    (default: nbgrader's).
    """
    begin, end = solution_delimiters(config)
    found = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [
                line for line in cell.source.split("\n") if begin not in line and end not in line
            ]
            found[meta["grade_id"]] = "\n".join(lines)
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
