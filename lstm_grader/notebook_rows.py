"""nbgrader's ``OverwriteCells`` and ``SaveAutoGrades``, with one notebook's rows loaded
at once.

Both preprocessors ask the gradebook about one cell at a time. ``OverwriteCells`` looks up
each cell's source cell, and each graded cell's definition, with a query of three joined
tables per lookup. ``SaveAutoGrades`` looks up each grade and comment of the submission
with a query of seven, and commits after every cell. On a notebook of about thirty cells
that is some seventy queries and twenty commits. Each commit also expires every row the
session holds, so the next lookup reads them all again.

:class:`NotebookRows` loads the rows of one notebook (and of one learner's submission of
it) with one query per kind of row. It then answers ``find_source_cell``,
``find_graded_cell``, ``find_grade`` and ``find_comment`` from what it loaded. Each answer
is the very object nbgrader's own query would return: the same session loaded it, and its
identity map holds one object per row. A name loaded no row for, or more than one, goes to
nbgrader's own method, so what is missing or ambiguous fails as it always did, with the
same error.

:class:`SaveAutoGradesAtOnce` also commits once, after the last cell. A submission's
automatic scores are then saved together or, when grading fails part of the way through,
not at all: nbgrader's per-cell commits would have left part of them behind.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import (
    Assignment,
    Comment,
    Grade,
    Gradebook,
    GradeCell,
    Notebook,
    SolutionCell,
    SourceCell,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
    TaskCell,
)
from nbgrader.preprocessors import OverwriteCells, SaveAutoGrades


def notebook_cells(gradebook: Gradebook, kind: Any, notebook: str, assignment: str) -> Any:
    """The query of one notebook's cells of one kind (``BaseCell`` for every kind).

    Parameters
    ----------
    gradebook
        An open nbgrader ``Gradebook``; the query runs in its session.
    kind
        The cell class: ``SourceCell``, ``GradeCell``, ``TaskCell``, ``BaseCell``...
    notebook, assignment
        The notebook's and its assignment's names.
    """
    return (
        gradebook.db.query(kind)
        .join(Notebook, Notebook.id == kind.notebook_id)
        .join(Assignment, Assignment.id == Notebook.assignment_id)
        .filter(Notebook.name == notebook, Assignment.name == assignment)
    )


def _by_name(rows: Any) -> dict[str, list[Any]]:
    """``(object, name)`` rows grouped by name."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for found, name in rows:
        grouped[name].append(found)
    return grouped


def _single(grouped: dict[str, list[Any]], name: str) -> Any | None:
    """The one object loaded under ``name``; None for none or several."""
    found = grouped.get(name, ())
    return found[0] if len(found) == 1 else None


class NotebookRows:
    """A gradebook whose lookups of one notebook's cells, and of one submission's grades
    and comments, answer from rows loaded once; everything else goes to the gradebook.

    Parameters
    ----------
    gradebook
        An open nbgrader ``Gradebook``; the rows are loaded in its session.
    notebook, assignment
        The notebook whose cells are loaded.
    student
        Also load this learner's grades and comments of the notebook (None: cells only).
    """

    def __init__(
        self, gradebook: Gradebook, notebook: str, assignment: str, student: str | None = None
    ) -> None:
        self._gradebook = gradebook
        self._notebook = (notebook, assignment)
        self._student = student
        db = gradebook.db

        def cells(kind: Any) -> dict[str, list[Any]]:
            query = notebook_cells(gradebook, kind, notebook, assignment)
            return _by_name(query.add_columns(kind.name))

        def submitted(kind: Any, cell: Any) -> dict[str, list[Any]]:
            return _by_name(
                db.query(kind, cell.name)
                .join(cell, cell.id == kind.cell_id)
                .join(SubmittedNotebook, SubmittedNotebook.id == kind.notebook_id)
                .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                .join(
                    SubmittedAssignment,
                    SubmittedAssignment.id == SubmittedNotebook.assignment_id,
                )
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .join(Student, Student.id == SubmittedAssignment.student_id)
                .filter(
                    Notebook.name == notebook,
                    Assignment.name == assignment,
                    Student.id == student,
                )
            )

        self._source_cells = cells(SourceCell)
        self._grade_cells = cells(GradeCell)
        self._task_cells = cells(TaskCell)
        self._grades: tuple[dict[str, list[Any]], ...] = ()
        self._comments: tuple[dict[str, list[Any]], ...] = ()
        if student is not None:
            self._grades = (submitted(Grade, GradeCell), submitted(Grade, TaskCell))
            self._comments = (submitted(Comment, SolutionCell), submitted(Comment, TaskCell))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gradebook, name)

    def _first_of(self, kinds: tuple[dict[str, list[Any]], ...], name: str) -> Any | None:
        """What nbgrader's lookup tries in turn (a grade cell's row, then a task cell's):
        the first kind that loaded any row named ``name``, if it loaded exactly one."""
        for grouped in kinds:
            if name in grouped:
                return _single(grouped, name)
        return None

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SourceCell:
        """nbgrader's ``Gradebook.find_source_cell``."""
        if (notebook, assignment) == self._notebook:
            if (found := _single(self._source_cells, name)) is not None:
                return found
        return self._gradebook.find_source_cell(name, notebook, assignment)

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> Any:
        """nbgrader's ``Gradebook.find_graded_cell``: the grade cell, else the task cell."""
        if (notebook, assignment) == self._notebook:
            found = self._first_of((self._grade_cells, self._task_cells), name)
            if found is not None:
                return found
        return self._gradebook.find_graded_cell(name, notebook, assignment)

    def find_grade(self, grade_cell: str, notebook: str, assignment: str, student: str) -> Grade:
        """nbgrader's ``Gradebook.find_grade``."""
        if (notebook, assignment) == self._notebook and student == self._student:
            if (found := self._first_of(self._grades, grade_cell)) is not None:
                return found
        return self._gradebook.find_grade(grade_cell, notebook, assignment, student)

    def find_comment(
        self, solution_cell: str, notebook: str, assignment: str, student: str
    ) -> Comment:
        """nbgrader's ``Gradebook.find_comment``."""
        if (notebook, assignment) == self._notebook and student == self._student:
            if (found := self._first_of(self._comments, solution_cell)) is not None:
                return found
        return self._gradebook.find_comment(solution_cell, notebook, assignment, student)


class _CommitAtEnd:
    """A session whose ``commit`` waits for :meth:`commit_now`."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._asked = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def commit(self) -> None:
        self._asked = True

    def commit_now(self) -> None:
        """Commit, once, if anything asked to."""
        if self._asked:
            self._session.commit()


def grade_id_of(cell: NotebookNode) -> str | None:
    """A cell's nbgrader ``grade_id``, or None where it has none that is a string
    (nbgrader metadata that is not a mapping included)."""
    nbgrader_meta = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = nbgrader_meta.get("grade_id") if isinstance(nbgrader_meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _grade_ids(nb: NotebookNode) -> dict[str, int]:
    """Where each cell with an nbgrader ``grade_id`` sits in the notebook."""
    return {
        grade_id: index
        for index, cell in enumerate(nb.cells)
        if (grade_id := grade_id_of(cell)) is not None
    }


class OverwriteCellsLoadedOnce(OverwriteCells):
    """nbgrader's ``OverwriteCells``: the same checks, restorations and log, with the
    notebook's cells loaded once (:class:`NotebookRows`)."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        with Gradebook(self.db_url) as gradebook:
            self.gradebook = NotebookRows(gradebook, self.notebook_id, self.assignment_id)
            nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
            if self.add_missing_cells:
                # nbgrader took the grade_id from cells the gradebook does not know; its
                # re-adding would fail on what is left of their nbgrader metadata
                for cell in nb.cells:
                    if "nbgrader" in cell.metadata and "grade_id" not in cell.metadata.nbgrader:
                        del cell.metadata["nbgrader"]
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources

    def add_missing_grade_cells(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Add the grade cells a submission lacks back, each after the nearest earlier
        cell of the source notebook that the submission still holds (at the top if none).

        nbgrader's own version looks for the cell just before the missing one only, and
        fails with a ``KeyError`` when that one is gone too (a learner who deleted a
        whole question, its answer cell with its test cell), so the whole notebook went
        ungraded.
        """
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = list(source_nb.source_cells)
        order = [cell.name for cell in source_cells]
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        held = _grade_ids(nb)
        for index, name in enumerate(order):
            if name not in grade_cells or name in held:
                continue
            self.log.warning(f"Missing grade cell {name} encountered, adding to notebook")
            missing = self.missing_cell_transform(
                source_cells[index], grade_cells[name].max_score, is_solution=name in solution_ids
            )
            earlier = [held[kept] for kept in reversed(order[:index]) if kept in held]
            nb.cells.insert(earlier[0] + 1 if earlier else 0, missing)
            held = _grade_ids(nb)
        return nb, resources


class SaveAutoGradesAtOnce(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades``: the same scores and comments, from the submission's
    rows loaded once (:class:`NotebookRows`) and saved in one commit."""

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        with Gradebook(self.db_url) as gradebook:
            session = _CommitAtEnd(gradebook.db)
            self.gradebook = NotebookRows(
                gradebook, self.notebook_id, self.assignment_id, self.student_id
            )
            self.gradebook.db = session  # what nbgrader's per-cell commits go through
            nb, resources = super(SaveAutoGrades, self).preprocess(nb, resources)
            session.commit_now()
        return nb, resources
