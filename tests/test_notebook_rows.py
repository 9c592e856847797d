"""lstm_grader.notebook_rows: nbgrader's OverwriteCells and SaveAutoGrades, rows loaded once.

Every case runs nbgrader's own preprocessor and the grader's version on the same input,
each against its own copy of one gradebook, and compares what they leave: the notebook,
the log, the rows of the gradebook, or the error. The inputs are the release version of an
assignment, changed the ways a learner can change it (edited locked cells, changed cell
types, points, ids and locks, deleted cells, errors in test cells, a grader's earlier
manual scores). Then what the grader's versions exist for: far fewer queries, one commit.
"""

from __future__ import annotations

import copy
import itertools
import logging
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import Course, make_course
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import OverwriteCells, SaveAutoGrades
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lstm_grader.notebook_rows import (
    NotebookRows,
    OverwriteCellsLoadedOnce,
    SaveAutoGradesAtOnce,
    _single,
)

ASSIGNMENT = "05-return-flags"
STUDENT = "learner"
#: How a learner can change one cell with nbgrader metadata.
CHANGES = (
    "keep",
    "edit",
    "retype",
    "repoint",
    "unlock",
    "lock",
    "delete",
    "rename",
    "grade",
    "error",
    "duplicate",
)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """The assignment generated into a course, with one learner's submission rows."""
    root = tmp_path_factory.mktemp("course")
    course = make_course(root, [ASSIGNMENT])
    with Gradebook(_url(root / "gradebook.db")) as gradebook:
        gradebook.update_or_create_student(STUDENT)
        gradebook.update_or_create_submission(ASSIGNMENT, STUDENT)
    return course


_copies = itertools.count()


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _copy_gradebook(course: Course, tmp_path: Path) -> str:
    """A gradebook of its own, copied from the course's."""
    target = tmp_path / f"gradebook-{next(_copies)}.db"
    shutil.copy(course.root / "gradebook.db", target)
    return _url(target)


def _resources(url: str) -> dict[str, Any]:
    return {
        "nbgrader": {
            "notebook": ASSIGNMENT,
            "assignment": ASSIGNMENT,
            "student": STUDENT,
            "db_url": url,
        }
    }


def _changed(release: nbformat.NotebookNode, changes: list[str]) -> nbformat.NotebookNode:
    """The release version with ``changes[i]`` made to its i-th cell with nbgrader metadata
    (the changes repeat when there are fewer of them than cells)."""
    notebook = copy.deepcopy(release)
    marked = [c for c in notebook.cells if "nbgrader" in c.metadata]
    deleted = []
    ids = [c.metadata.nbgrader["grade_id"] for c in marked]
    for cell, change in zip(marked, itertools.cycle(changes) if changes else [], strict=False):
        meta = cell.metadata.nbgrader
        if change == "duplicate":  # another cell's id, which DeduplicateIds would catch
            meta["grade_id"] = ids[(ids.index(meta["grade_id"]) + 1) % len(ids)]
        elif change == "edit":
            cell.source += "\n# changed"
        elif change == "retype":
            cell.cell_type = "markdown" if cell.cell_type == "code" else "code"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        elif change == "repoint" and meta.get("grade"):
            meta["points"] = float(meta.get("points", 0)) + 3
        elif change == "unlock":
            meta["locked"] = False
        elif change == "lock":
            meta["locked"] = True
        elif change == "delete":
            deleted.append(cell)
        elif change == "rename":
            meta["grade_id"] = meta["grade_id"] + "-renamed"
        elif change == "grade" and not meta.get("grade"):
            meta["grade"], meta["points"] = True, 1.0
        elif change == "error" and cell.cell_type == "code":
            cell.outputs = [
                nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
            ]
    notebook.cells = [c for c in notebook.cells if c not in deleted]
    return notebook


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "done", run()
    except Exception as error:  # the outcome compared is any error's type and message
        return type(error).__name__, str(error)


class _Log(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def _overwrite(kind: type, notebook: nbformat.NotebookNode, url: str) -> tuple[Any, list[str]]:
    handler = _Log()
    log = logging.getLogger(f"overwrite-{next(_copies)}")
    log.addHandler(handler)
    log.propagate = False
    preprocessor = kind(add_missing_cells=True, log=log)
    notebook = copy.deepcopy(notebook)
    outcome = _outcome(lambda: preprocessor.preprocess(notebook, _resources(url))[0])
    return outcome, handler.lines


def _rows(url: str) -> dict[str, tuple]:
    """Every grade's and comment's row of the learner's submission."""
    with Gradebook(url) as gradebook:
        submitted = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, STUDENT)
        rows = {
            f"grade {g.name}": (g.auto_score, g.manual_score, g.needs_manual_grade)
            for g in submitted.grades
        }
        rows.update(
            {f"comment {c.name}": (c.auto_comment, c.manual_comment) for c in submitted.comments}
        )
        return rows


def _save(kind: type, notebook: nbformat.NotebookNode, url: str) -> tuple[Any, dict]:
    outcome = _outcome(lambda: kind().preprocess(copy.deepcopy(notebook), _resources(url))[0])
    return outcome, _rows(url)


def _set_manual_scores(url: str, names: list[str]) -> None:
    with Gradebook(url) as gradebook:
        for name in names:
            gradebook.find_grade(name, ASSIGNMENT, ASSIGNMENT, STUDENT).manual_score = 0.5
        gradebook.db.commit()


CHANGE_LISTS = st.lists(st.sampled_from(CHANGES), min_size=1, max_size=12)


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=CHANGE_LISTS)
def test_overwriting_cells_does_what_nbgrader_does(
    course: Course, tmp_path: Path, changes: list[str]
) -> None:
    """The same notebook out (locked cells restored, types, points and locks put back,
    deleted test cells re-added), the same warnings, or the same error."""
    notebook = _changed(course.release(ASSIGNMENT), changes)
    url = _copy_gradebook(course, tmp_path)
    ours, theirs = (
        _overwrite(kind, notebook, url) for kind in (OverwriteCellsLoadedOnce, OverwriteCells)
    )
    if theirs[0][0] == "KeyError":  # nbgrader's re-adding fails where ours does not
        _assert_test_cells_restored(course.release(ASSIGNMENT), ours[0])
    else:
        assert ours == theirs


def _grade_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        c["metadata"]["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c["metadata"]
    ]


def _assert_test_cells_restored(release: nbformat.NotebookNode, outcome: tuple[str, Any]) -> None:
    """Every test cell of the release is in the notebook once, after the cell that comes
    before it in the release or, where that one is gone too, the nearest earlier one kept."""
    assert outcome[0] == "done", outcome
    released, held = _grade_ids(release), _grade_ids(outcome[1])
    tests = [
        c.metadata.nbgrader["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")
    ]
    for grade_id in tests:
        assert held.count(grade_id) == 1, grade_id
        kept_before = [g for g in released[: released.index(grade_id)] if g in held]
        position = held.index(grade_id)
        if kept_before:
            assert held[position - 1] in kept_before, (grade_id, held)
        else:
            assert position == 0 or held[position - 1] not in released, (grade_id, held)


@pytest.mark.slow
def test_a_whole_deleted_question_is_restored_where_nbgrader_fails(
    course: Course, tmp_path: Path
) -> None:
    """A learner who deleted a question's answer cell with its test cell: nbgrader's
    re-adding looks for the answer cell, fails with a KeyError and leaves the notebook
    ungraded; ours puts the test cell back after the question's prompt."""
    release = course.release(ASSIGNMENT)
    notebook = copy.deepcopy(release)
    notebook.cells = [
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") not in ("q4-answer", "q4")
    ]
    url = _copy_gradebook(course, tmp_path)
    theirs = _overwrite(OverwriteCells, notebook, url)
    assert theirs[0] == ("KeyError", "'q4-answer'")
    ours = _overwrite(OverwriteCellsLoadedOnce, notebook, url)
    _assert_test_cells_restored(release, ours[0])
    held = _grade_ids(ours[0][1])
    assert held[held.index("q4") - 1] == "q4-prompt"
    assert "WARNING Missing grade cell q4 encountered, adding to notebook" in ours[1]


@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=CHANGE_LISTS, manual=st.lists(st.integers(0, 30), max_size=4))
def test_saving_scores_does_what_nbgrader_does(
    course: Course, tmp_path: Path, changes: list[str], manual: list[int]
) -> None:
    """The same automatic scores, review marks and comments (with earlier manual scores
    kept and marked for review), or the same error and no score saved."""
    release = course.release(ASSIGNMENT)
    notebook = _changed(
        release, [c for c in changes if c in ("keep", "edit", "error", "duplicate")]
    )
    graded = [
        c.metadata.nbgrader["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    theirs, ours = _copy_gradebook(course, tmp_path), _copy_gradebook(course, tmp_path)
    for url in (theirs, ours):
        _set_manual_scores(url, sorted({graded[i % len(graded)] for i in manual}))
    before = _rows(ours)
    outcome, saved = _save(SaveAutoGradesAtOnce, notebook, ours)
    assert outcome == _save(SaveAutoGrades, notebook, theirs)[0]
    if outcome[0] == "done":
        assert saved == _rows(theirs)
    else:  # nbgrader's per-cell commits may have saved part; one commit saves none
        assert saved == before


def test_a_cell_not_in_the_gradebook_fails_as_in_nbgrader(course: Course, tmp_path: Path) -> None:
    """A cell marked as graded that the gradebook holds no grade cell for: nbgrader's own
    lookup answers, with its MissingEntry."""
    notebook = course.release(ASSIGNMENT)
    solution = next(
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution") and not c.metadata.nbgrader.get("grade")
    )
    solution.metadata.nbgrader.update(grade=True, points=1.0)
    url = _copy_gradebook(course, tmp_path)
    ours = _overwrite(OverwriteCellsLoadedOnce, notebook, url)
    assert ours[0][0] == "MissingEntry"
    assert ours == _overwrite(OverwriteCells, notebook, url)


def test_the_scores_are_saved_in_one_commit_or_none(course: Course, tmp_path: Path) -> None:
    """One commit for the whole notebook. A grade row that is missing (nbgrader's
    MissingEntry, as nbgrader raises it) leaves no score of the notebook saved; nbgrader's
    per-cell commits would have left those before it."""
    notebook = course.release(ASSIGNMENT)
    notebook = _changed(notebook, ["error"])
    url = _copy_gradebook(course, tmp_path)
    opening = _count(url, "commit", lambda: Gradebook(url).close())
    for kind, commits in ((SaveAutoGradesAtOnce, 1), (SaveAutoGrades, len(_rows(url)))):

        def run(kind: type = kind) -> None:
            kind().preprocess(copy.deepcopy(notebook), _resources(url))

        assert _count(url, "commit", run) - opening == commits

    before = _rows(url)
    last = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")][-1]
    with Gradebook(url) as gradebook:
        grade = gradebook.find_grade(
            last.metadata.nbgrader["grade_id"], ASSIGNMENT, ASSIGNMENT, STUDENT
        )
        gradebook.db.delete(grade)
        gradebook.db.commit()
    cleared = {
        k: v for k, v in before.items() if k != f"grade {last.metadata.nbgrader['grade_id']}"
    }
    with pytest.raises(MissingEntry):
        SaveAutoGradesAtOnce().preprocess(_changed(notebook, ["keep", "error"]), _resources(url))
    assert _rows(url) == cleared


def _count(url: str, what: str, run: Any) -> int:
    """How many ``what`` events (``"selects"``, ``"commit"``) the engines saw while ``run``
    ran."""
    seen = []

    def note(*args: Any) -> None:
        if what != "selects" or args[2].lstrip().upper().startswith("SELECT"):
            seen.append(1)

    name = "before_cursor_execute" if what == "selects" else what
    event.listen(Engine, name, note)
    try:
        run()
    finally:
        event.remove(Engine, name, note)
    return len(seen)


def test_each_kind_of_row_is_loaded_once_not_once_per_cell(course: Course, tmp_path: Path) -> None:
    """nbgrader reads the gradebook once per cell (or more); the grader's versions read it
    once per kind of row, however many cells the notebook has."""
    notebook = course.release(ASSIGNMENT)
    url = _copy_gradebook(course, tmp_path)
    marked = [c.metadata.nbgrader for c in notebook.cells if "nbgrader" in c.metadata]
    per_cell = {
        OverwriteCells: sum("grade_id" in m for m in marked),
        SaveAutoGrades: sum(bool(m.get("grade")) + bool(m.get("solution")) for m in marked),
    }
    loads = {OverwriteCellsLoadedOnce: 3, SaveAutoGradesAtOnce: 7}

    def selects(kind: type) -> int:
        def run() -> None:
            kind().preprocess(copy.deepcopy(notebook), _resources(url))

        return _count(url, "selects", run) - opening

    opening = _count(url, "selects", lambda: Gradebook(url).close())
    for theirs, ours in (
        (OverwriteCells, OverwriteCellsLoadedOnce),
        (SaveAutoGrades, SaveAutoGradesAtOnce),
    ):
        assert selects(theirs) >= per_cell[theirs] > loads[ours]
        assert selects(ours) == loads[ours]


def test_lookups_outside_the_loaded_notebook_go_to_the_gradebook(
    course: Course, tmp_path: Path
) -> None:
    """Another notebook, assignment or learner than the one loaded: nbgrader's own lookup,
    with its own error for what does not exist."""
    url = _copy_gradebook(course, tmp_path)
    with Gradebook(url) as gradebook:
        rows = NotebookRows(gradebook, ASSIGNMENT, ASSIGNMENT, STUDENT)
        name = next(iter(rows._source_cells))
        assert rows.find_source_cell(name, ASSIGNMENT, ASSIGNMENT) is gradebook.find_source_cell(
            name, ASSIGNMENT, ASSIGNMENT
        )
        for call in (
            lambda: rows.find_source_cell(name, "other", ASSIGNMENT),
            lambda: rows.find_graded_cell(name, ASSIGNMENT, "other"),
            lambda: rows.find_grade(name, ASSIGNMENT, ASSIGNMENT, "someone-else"),
            lambda: rows.find_comment("no-such-cell", ASSIGNMENT, ASSIGNMENT, STUDENT),
        ):
            with pytest.raises(MissingEntry):
                call()


def test_a_name_with_several_rows_goes_to_nbgrader() -> None:
    """The gradebook's constraints allow one row per name; should a gradebook hold more,
    the loaded rows answer nothing and nbgrader's lookup raises as it always did."""
    assert _single({"q1": ["one"]}, "q1") == "one"
    assert _single({"q1": ["one", "two"]}, "q1") is None
    assert _single({}, "q1") is None
