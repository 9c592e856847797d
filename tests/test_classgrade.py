"""``lstm-grade``: its pieces on tiny folders (fast), whole classes through real nbgrader (slow).

The slow tests run the installed ``lstm-grade`` command as an instructor does, from a
throwaway course root, on a class that mixes good submissions with every kind of broken one,
and once against a real PostgreSQL server.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import datetime as dt
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hypothesis
import nbformat
import pytest
from conftest import (
    Course,
    classic_mistakes,
    fill_disk,
    killed_while_writing,
    read_notebook,
    require_module,
    require_or_skip,
    small_disk,
    under_hard_limit,
)
from hypothesis import strategies as st

from lstm_grader import classgrade, grading_code, safefiles
from lstm_grader.classgrade import COLUMNS, ROW_FILE, Row, Submission
from lstm_grader.course import REPLACED_MARKER, CourseLayout, collection_entry_beside

ASSIGNMENT = "05-return-flags"
PG_BIN = Path("/usr/lib/postgresql/15/bin")

# --------------------------------------------------------------------------- fast: pieces


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_find_submissions_lists_each_student_folder_of_the_wanted_assignments(
    tmp_path: Path,
) -> None:
    """Does it find submitted/<student>/<assignment> for the wanted assignments only, sorted,
    a file in a submission's place too (to be refused, not skipped), ignoring stray files
    and other assignments, and nothing when submitted/ is absent?"""
    _touch(tmp_path / "nbgrader_config.py", "c = get_config()\n")
    layout = CourseLayout.from_root(tmp_path)
    assert classgrade.find_submissions(layout, ["a1"]) == []
    submitted = tmp_path / "submitted"
    _touch(submitted / "bob" / "a1" / "a1.ipynb")
    _touch(submitted / "alice" / "a1" / "a1.ipynb")
    _touch(submitted / "alice" / "a2" / "a2.ipynb")
    _touch(submitted / "alice" / "a3" / "a3.ipynb")
    _touch(submitted / "carol" / "a1")  # a file named like an assignment, not a folder
    (submitted / "dave").mkdir()  # a student who submitted nothing
    _touch(submitted / "notes.txt")  # a stray file beside the student folders

    found = classgrade.find_submissions(layout, ["a1", "a2"])

    assert found == [
        Submission("alice", "a1", submitted / "alice" / "a1"),
        Submission("alice", "a2", submitted / "alice" / "a2"),
        Submission("bob", "a1", submitted / "bob" / "a1"),
        Submission("carol", "a1", submitted / "carol" / "a1"),
    ]
    assert classgrade.find_submissions(layout, []) == []


_TINY_CONFIG = (
    "c = get_config()\n"
    "c.CourseDirectory.source_directory = 'instructor'\n"
    "c.CourseDirectory.release_directory = 'handout'\n"
    "c.CourseLayout.references_directory = 'recorded'\n"
)


def test_every_learner_who_submitted_is_in_the_gradebook_before_any_worker_grades(
    tmp_path: Path, monkeypatch
) -> None:
    """nbgrader's autograde looks its learner up and adds the id if missing. Two workers
    grading one new learner's two assignments at once could both miss it, and the second
    insert failed (UNIQUE constraint: a grader error in CI). Is every learner who
    submitted, and no id the grader refuses, in the gradebook before the first grading?"""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    _tiny_course(tmp_path)
    grader = classgrade.ClassGrader(
        tmp_path, workers=2, force=False, timeout=60, process_per_submission=True
    )
    url = grader.layout.db_url
    # the schema first: a gradebook that finds no tables runs the alembic command
    schema = create_engine(url)
    Base.metadata.create_all(schema)
    schema.dispose()
    with Gradebook(url) as gradebook:  # defined, so no nbgrader run generates them
        for assignment in ("a1", "a2"):
            gradebook.update_or_create_assignment(assignment)
            gradebook.add_notebook(assignment, assignment)
    seen: list[set[str]] = []

    def grade(submission: Submission, *, again: bool = False) -> list[Row]:
        with Gradebook(url) as gradebook:
            seen.append({student.id for student in gradebook.students})
        return [Row(submission.student, submission.assignment, "n", 0.0, 1.0, "graded", "", 0.1)]

    monkeypatch.setattr(grader, "grade", grade)
    monkeypatch.setattr(grader, "roster_rows", lambda assignments, submitted: [])
    submissions = [
        Submission(student, assignment, tmp_path / "submitted" / student / assignment)
        for student, assignment in (("alice", "a1"), ("alice", "a2"), ("bob", "a1"), ("-x", "a1"))
    ]
    grader.grade_all(submissions, progress=False)
    assert seen and all(students == {"alice", "bob"} for students in seen), seen


def _graded_cell(grade_id: str, points: float) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.metadata.nbgrader = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": grade_id,
        "points": points,
        "schema_version": 3,
    }
    return cell


def test_every_learner_has_a_row_for_every_released_assignment_with_its_status(
    tmp_path: Path,
) -> None:
    """grades.csv had no row for an assignment nobody had handed in or that the gradebook
    did not know yet, and called a learner ``missing`` before the due date: an instructor
    could not see who was missing what. Does every learner the gradebook knows get a row
    for every released notebook: ``not-due-yet`` before the due date (the learner's
    extension counted), ``missing`` after it or without one, ``ungraded`` for a submission
    never graded, with the notebook's maximum score even where the gradebook does not know
    the assignment; and do the totals leave what cannot be scored yet out of the maximum?"""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    _touch(tmp_path / "nbgrader_config.py", _TINY_CONFIG)
    for assignment in ("a1", "a2", "a3"):
        _touch(tmp_path / "recorded" / f"{assignment}.json", '{"questions": {}}')
        notebook = nbformat.v4.new_notebook(cells=[_graded_cell("q1", 2), _graded_cell("q2", 3)])
        for step in ("instructor", "handout"):
            (tmp_path / step / assignment).mkdir(parents=True)
            nbformat.write(notebook, tmp_path / step / assignment / f"{assignment}.ipynb")
    # alice handed a3 in; its assignment was never graded
    _touch(tmp_path / "submitted" / "alice" / "a3" / "a3.ipynb", "{}")
    grader = classgrade.ClassGrader(
        tmp_path, workers=1, force=False, timeout=60, process_per_submission=True
    )
    schema = create_engine(grader.layout.db_url)
    Base.metadata.create_all(schema)
    schema.dispose()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with Gradebook(grader.layout.db_url) as gradebook:
        for student in ("alice", "bob", "carol"):
            gradebook.update_or_create_student(student)
        # a1 was due yesterday, bob has two days more; a2 is due next week; the gradebook
        # does not know a3 yet
        gradebook.update_or_create_assignment("a1", duedate=now - dt.timedelta(days=1))
        gradebook.add_notebook("a1", "a1")
        gradebook.update_or_create_submission("a1", "bob", extension=dt.timedelta(days=2))
        gradebook.update_or_create_assignment("a2", duedate=now + dt.timedelta(days=7))
        gradebook.add_notebook("a2", "a2")

    rows = grader.recorded_rows(grader.layout.released_assignments())
    assert {(r.student, r.assignment): r.status for r in rows} == {
        ("alice", "a1"): "missing",
        ("bob", "a1"): "not-due-yet",
        ("carol", "a1"): "missing",
        ("alice", "a2"): "not-due-yet",
        ("bob", "a2"): "not-due-yet",
        ("carol", "a2"): "not-due-yet",
        ("alice", "a3"): "ungraded",
        ("bob", "a3"): "missing",
        ("carol", "a3"): "missing",
    }
    assert len(rows) == 9
    due = (now + dt.timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    by_place = {(r.student, r.assignment): r for r in rows}
    assert by_place["carol", "a2"].reason == (
        f"nothing was submitted yet; the assignment is due {due} UTC"
    )
    assert "lstm-grade" in by_place["alice", "a3"].reason
    assert by_place["carol", "a1"].reason == "nothing was submitted for this assignment"
    assert by_place["carol", "a3"].max_score == 5.0  # from the student version

    _, totals = classgrade.write_grades(tmp_path, sorted(rows, key=Row.sort_key))
    assert _read_csv(totals)[1:] == [
        # a max_total of what could be scored so far: alice's a3 awaits its grading
        ["alice", "0.0", "0.0", "0.0", "0.0", str(by_place["alice", "a1"].max_score)],
        ["bob", "0.0", "0.0", "0.0", "0.0", "5.0"],
        ["carol", "0.0", "0.0", "0.0", "0.0", str(by_place["carol", "a1"].max_score + 5.0)],
    ]


def _never_graded_class(root: Path, learners: int, absent: int = 0) -> classgrade.ClassGrader:
    """The grader of a class of ``learners`` (``s0``, ``s1``, ...) whose two-notebook
    submissions of ``a1`` were never graded, and ``absent`` more the gradebook knows who
    handed in nothing."""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    _touch(root / "nbgrader_config.py", _TINY_CONFIG)
    _touch(root / "recorded" / "a1.json", '{"questions": {}}')
    for name, points in (("a1", 2), ("a1-extra", 3)):
        notebook = nbformat.v4.new_notebook(cells=[_graded_cell("q1", points)])
        for step in ("instructor", "handout"):
            (root / step / "a1").mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, root / step / "a1" / f"{name}.ipynb")
    grader = classgrade.ClassGrader(
        root, workers=1, force=False, timeout=60, process_per_submission=True
    )
    schema = create_engine(grader.layout.db_url)
    Base.metadata.create_all(schema)
    schema.dispose()
    with Gradebook(grader.layout.db_url) as gradebook:
        gradebook.update_or_create_assignment("a1")
        gradebook.add_notebook("a1", "a1")
        gradebook.add_grade_cell("q1", "a1", "a1", max_score=7, cell_type="code")
        for i in range(learners):
            gradebook.update_or_create_student(f"s{i}")
            _touch(root / "submitted" / f"s{i}" / "a1" / "a1.ipynb", "{}")
        for i in range(absent):
            gradebook.update_or_create_student(f"absent{i}")
    return grader


def _gradebook_visits_for_recorded_rows(
    root: Path, learners: int, absent: int = 0
) -> tuple[int, list[Row]]:
    """How many times the grader opened the gradebook to list the rows of
    :func:`_never_graded_class`, and those rows."""
    grader = _never_graded_class(root, learners, absent)
    visits = 0
    opened = grader._gradebook

    def counted():
        nonlocal visits
        visits += 1
        return opened()

    grader._gradebook = counted
    rows = grader.recorded_rows(["a1"])
    return visits, rows


def test_a_notebooks_maximum_score_is_read_once_per_run_not_once_per_learner(
    tmp_path: Path,
) -> None:
    """Listing a class's rows asked the gradebook for each notebook's maximum score once
    per submission never graded: a class of 300 opened it 300 times per notebook. Does a
    class of five open it as often as a class of one, with the same maximum scores?"""
    alone, rows_alone = _gradebook_visits_for_recorded_rows(tmp_path / "one", 1)
    many, rows_many = _gradebook_visits_for_recorded_rows(tmp_path / "five", 5)
    assert many == alone
    assert len(rows_many) == 10
    for rows in (rows_alone, rows_many):
        # a1 from the gradebook, a1-extra (unknown to it) from the student version
        assert {(r.notebook, r.status, r.max_score) for r in rows} == {
            ("a1", "ungraded", 7.0),
            ("a1-extra", "ungraded", 3.0),
        }


def test_a_run_reads_the_maximum_scores_once_for_ungraded_and_missing_rows(
    tmp_path: Path,
) -> None:
    """The roster's rows read each notebook's maximum score again, though the ungraded
    rows of the same run had just read it. With a learner who handed in nothing beside
    one whose submission was never graded, is the gradebook opened twice (the maximum
    scores, the roster) and no more, with the same maximum score in both kinds of row?"""
    visits, rows = _gradebook_visits_for_recorded_rows(tmp_path, 1, absent=1)
    assert visits == 2
    assert sorted((r.student, r.notebook, r.status, r.max_score) for r in rows) == [
        ("absent0", "a1", "missing", 7.0),
        ("absent0", "a1-extra", "missing", 3.0),
        ("s0", "a1", "ungraded", 7.0),
        ("s0", "a1-extra", "ungraded", 3.0),
    ]


def _stand_in_grading() -> dict:
    """What a grading of :func:`_never_graded_class`'s ``a1`` found, as saved: each
    notebook unreadable, a status nothing else gives those submissions."""
    return {name: {"unreadable": "stand-in", "seconds": 0.1} for name in ("a1", "a1-extra")}


def test_a_submission_a_killed_collection_set_aside_is_a_grader_error_naming_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A collection killed between renaming s0's collected folder aside and the new one into
    place left s0 without a folder, and grading listed them as having handed in nothing, 0
    points. Is s0 instead a grader error, in grading and in the listed rows, whose reason
    names where the submission is and what to do; with nothing graded, no grade forgotten
    and nothing moved; and once the folder is back, is it graded as any other?"""
    grader = _never_graded_class(tmp_path, 2)
    folder = tmp_path / "submitted" / "s0" / "a1"
    aside = Path(collection_entry_beside(str(folder), REPLACED_MARKER))
    folder.rename(aside)
    submitted = {p: p.read_bytes() for p in (tmp_path / "submitted").rglob("*") if p.is_file()}
    calls = []

    def run(self, submission: Submission) -> dict:
        calls.append(("graded", submission.student))
        return _stand_in_grading()

    monkeypatch.setattr(classgrade.ClassGrader, "_run", run)
    monkeypatch.setattr(
        classgrade.ClassGrader, "_forget_grades", lambda self, s: calls.append(("forgot", s))
    )
    s0, _ = classgrade.find_submissions(grader.layout, ["a1"])
    assert (s0.student, s0.folder) == ("s0", folder)
    listed = [row for row in grader.recorded_rows(["a1"]) if row.student == "s0"]
    for rows in (grader.grade(s0), listed):
        assert [(r.notebook, r.status, r.score) for r in rows] == [
            ("a1", "grader-error", 0.0),
            ("a1-extra", "grader-error", 0.0),
        ]
        assert rows[0].reason == (
            "submitted/s0/a1 is not there: a collection (nbgrader zip_collect or collect) was "
            "killed as it replaced it, and left the submission collected before in "
            f"submitted/s0/{aside.name}; collecting again puts it back first (or rename it "
            "back to a1), then run lstm-grade again"
        )
    assert calls == []
    assert {p: p.read_bytes() for p in (tmp_path / "submitted").rglob("*") if p.is_file()} == (
        submitted
    )

    aside.rename(folder)
    assert {r.status for r in grader.grade(s0)} == {"invalid-notebook"}
    assert calls == [("graded", "s0")]


def test_a_run_with_a_set_aside_submission_grades_the_others_and_exits_with_grader_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does lstm-grade, with s0's submission set aside by a killed collection, still grade
    s1, write grades.csv with s0's rows as grader errors, and exit with status 3, so a
    script running it does not take the run for a success?"""
    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    monkeypatch.setattr(classgrade.ClassGrader, "_run", lambda self, s: _stand_in_grading())
    _never_graded_class(tmp_path, 2)
    folder = tmp_path / "submitted" / "s0" / "a1"
    folder.rename(collection_entry_beside(str(folder), REPLACED_MARKER))

    status = classgrade.main(["a1", "--root", str(tmp_path), "--no-progress"])

    assert status == classgrade.EXIT_GRADER_ERRORS
    assert "the grader itself failed on 2 notebook(s) (s0/a1/a1, s0/a1/a1-extra" in (
        capsys.readouterr().err
    )
    with (tmp_path / classgrade.GRADES_FILE).open(encoding="utf-8") as handle:
        written = {(row["student"], row["notebook"]): row for row in csv.DictReader(handle)}
    assert {place: row["status"] for place, row in written.items()} == {
        ("s0", "a1"): "grader-error",
        ("s0", "a1-extra"): "grader-error",
        ("s1", "a1"): "invalid-notebook",
        ("s1", "a1-extra"): "invalid-notebook",
    }
    assert "collecting again puts it back first" in written["s0", "a1"]["reason"]


_DAMAGED_RECORDS = {
    "empty": b"",
    "cut short": b'{"fingerprint": "0123',
    "not UTF-8": b"\xff\xfe{}",
    "a list": b"[]",
    "no facts": b'{"fingerprint": "0123"}',
    "facts of the wrong kind": b'{"fingerprint": "0123", "facts": {"a1": 3}}',
    "fingerprint of the wrong kind": b'{"fingerprint": 7, "facts": {}}',
}


@pytest.mark.parametrize("damage", _DAMAGED_RECORDS.values(), ids=_DAMAGED_RECORDS.keys())
def test_a_damaged_grading_record_is_graded_again_not_a_grader_error_at_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes
) -> None:
    """A submission's record of its last grading (cut short, emptied, edited by hand)
    that was not JSON raised at every run, so the learner stayed a grader error however
    often lstm-grade ran again, and listing the class's rows stopped the run. Is such a
    record listed as ungraded, beside a classmate's sound one, and is that submission
    graded again, once, its new record then kept?"""
    grader = _never_graded_class(tmp_path, 2)
    damaged, sound = classgrade.find_submissions(grader.layout, ["a1"])
    grader._state_file(damaged).parent.mkdir(parents=True)
    grader._state_file(damaged).write_bytes(damage)
    record = {"fingerprint": "0123", "facts": _stand_in_grading()}
    grader._state_file(sound).parent.mkdir(parents=True)
    grader._state_file(sound).write_text(json.dumps(record), encoding="utf-8")

    listed = {(r.student, r.notebook): r.status for r in grader.recorded_rows(["a1"])}
    assert listed == {
        ("s0", "a1"): "ungraded",
        ("s0", "a1-extra"): "ungraded",
        ("s1", "a1"): "invalid-notebook",
        ("s1", "a1-extra"): "invalid-notebook",
    }

    graded = []

    def run(self, submission: Submission) -> dict:
        graded.append(submission.student)
        return _stand_in_grading()

    monkeypatch.setattr(classgrade.ClassGrader, "_run", run)
    for _ in range(2):
        rows = grader.grade(damaged)
        assert {r.status for r in rows} == {"invalid-notebook"}
    assert graded == ["s0"]  # graded again at the first run, its new record kept after


def test_grading_a_submission_removes_what_a_killed_run_left_beside_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed outright while it wrote a submission's record left a hidden partial
    file in its reports folder. Is it gone once the submission is graded again, with the
    new record written?"""
    grader = _never_graded_class(tmp_path, 1)
    (submission,) = classgrade.find_submissions(grader.layout, ["a1"])
    record = grader._state_file(submission)
    record.parent.mkdir(parents=True)
    killed_while_writing(record)
    (partial,) = os.listdir(record.parent)
    assert partial.endswith(".partial") and not record.exists()
    monkeypatch.setattr(safefiles, "LEFTOVER_AGE", 0.0)  # what the killed run left is old
    monkeypatch.setattr(classgrade.ClassGrader, "_run", lambda self, s: _stand_in_grading())

    grader.grade(submission)

    assert os.listdir(record.parent) == [record.name]


def test_one_learners_record_that_cannot_be_listed_is_their_grader_error_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing the rows an earlier grading left (the assignments a run does not grade)
    caught no error per submission: one learner's record that could not be turned into
    rows stopped the run before grades.csv was written. Is that learner's row a grader
    error naming the cause, with the classmate's row as it was?"""
    grader = _never_graded_class(tmp_path, 2)
    ungraded_rows = classgrade.ClassGrader._ungraded_rows

    def ungraded_unless_s0(self, submission: Submission, max_scores: dict) -> list[Row]:
        if submission.student == "s0":
            raise PermissionError(13, "Permission denied", "class-rows.json")
        return ungraded_rows(self, submission, max_scores)

    monkeypatch.setattr(classgrade.ClassGrader, "_ungraded_rows", ungraded_unless_s0)
    rows = {(r.student, r.notebook): r for r in grader.recorded_rows(["a1"])}
    assert {place: row.status for place, row in rows.items()} == {
        ("s0", "a1"): "grader-error",
        ("s0", "a1-extra"): "grader-error",
        ("s1", "a1"): "ungraded",
        ("s1", "a1-extra"): "ungraded",
    }
    assert "Permission denied" in rows["s0", "a1"].reason
    assert rows["s1", "a1"].max_score == 7.0


def test_the_gradebooks_pages_are_checked_once_and_the_nbgrader_runs_told(
    tmp_path: Path,
) -> None:
    """A damaged gradebook stops the run before anything is graded; a sound one's pages
    are read once, here, and each nbgrader run the grader starts is told which file was
    checked, so that it does not read them again. Is the mark in their environment only
    after a check that passed, and never one an earlier environment carried?"""
    from nbgrader.api import Base
    from sqlalchemy import create_engine

    from lstm_grader.gradebook_guard import PAGES_CHECKED_ENV, pages_checked_mark

    _touch(tmp_path / "nbgrader_config.py", _TINY_CONFIG)
    grader = classgrade.ClassGrader(
        tmp_path, workers=1, force=False, timeout=60, process_per_submission=True
    )
    db_url = grader.layout.db_url
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PAGES_CHECKED_ENV, "0:0")  # left by whatever started this grader
        assert grader.setup_problems([]) == []  # no gradebook yet: this run makes one
        assert PAGES_CHECKED_ENV not in grader._env()
        schema = create_engine(db_url)
        Base.metadata.create_all(schema)
        schema.dispose()
        assert grader.setup_problems([]) == []
        assert grader._env()[PAGES_CHECKED_ENV] == pages_checked_mark(db_url)
        gradebook = tmp_path / "gradebook.db"
        gradebook.write_bytes(gradebook.read_bytes()[:4096])  # cut after its first page
        (problem,) = grader.setup_problems([])
        assert problem.startswith("gradebook.db ") or problem.startswith(f"{gradebook} ")
        assert "restore it from a backup" in problem
        assert PAGES_CHECKED_ENV not in grader._env()


def _tiny_course(root: Path) -> Submission:
    """A course whose folders are not the defaults, so only a layout read from its config
    finds them."""
    _touch(root / "nbgrader_config.py", _TINY_CONFIG)
    _touch(root / "instructor" / "a1" / "a1.ipynb", '{"source": 1}')
    _touch(root / "recorded" / "a1.json", '{"questions": {}}')
    _touch(root / "submitted" / "alice" / "a1" / "a1.ipynb", '{"answer": 1}')
    _touch(root / "submitted" / "bob" / "a1" / "a1.ipynb", '{"answer": 1}')
    return Submission("alice", "a1", root / "submitted" / "alice" / "a1")


def test_fingerprint_changes_exactly_when_something_the_grade_depends_on_changes(
    tmp_path: Path,
) -> None:
    """Is the fingerprint stable, and does it change when the submitted notebook, a new file in
    the submission, the solution, the release, the references, the config, the grading code
    or the gradebook and sandbox settings change, but not when another student's submission
    does?"""
    alice = _tiny_course(tmp_path)
    layout = CourseLayout.from_root(tmp_path)
    first = classgrade.fingerprint(layout, alice)
    assert classgrade.fingerprint(layout, alice) == first

    _touch(tmp_path / "submitted" / "bob" / "a1" / "a1.ipynb", '{"answer": 2}')
    assert classgrade.fingerprint(layout, alice) == first, "another student's file counted"

    seen = {first}
    changes = [
        ("submitted/alice/a1/a1.ipynb", '{"answer": 2}'),
        ("submitted/alice/a1/data/extra.csv", "1,2"),
        ("instructor/a1/a1.ipynb", '{"source": 2}'),
        ("recorded/a1.json", '{"questions": {"q1": 1}}'),
        ("nbgrader_config.py", _TINY_CONFIG + "c.Execute.timeout = 5\n"),
        ("handout/a1/a1.ipynb", '{"released": 2}'),
        ("lstm_lib/checks.py", "# a fixed verdict\n"),
        ("lstm_grader/preprocessors.py", "# a fixed pipeline\n"),
    ]
    # a course copy holding its own grading code grades with it (see _package_folder)
    for package in grading_code.GRADING_PACKAGES:
        _touch(tmp_path / package / "__init__.py", "")
    first = classgrade.fingerprint(layout, alice)
    seen = {first}
    for relative, text in changes:
        _touch(tmp_path / relative, text)
        now = classgrade.fingerprint(layout, alice)
        assert now not in seen, f"changing {relative} did not change the fingerprint"
        seen.add(now)
    for settings in (
        {"NBGRADER_DB_URL": "postgresql://grader@db/course"},
        {"LSTM_GRADER_UNSAFE_NO_SANDBOX": "1"},
    ):
        now = classgrade.fingerprint(layout, alice, settings=settings)
        assert now not in seen, f"{settings} did not change the fingerprint"
        seen.add(now)

    # The same bytes again give the same fingerprint: it hashes content, not modification times.
    before = classgrade.fingerprint(layout, alice)
    notebook = tmp_path / "submitted" / "alice" / "a1" / "a1.ipynb"
    os.utime(notebook, (1, 1))
    assert classgrade.fingerprint(layout, alice) == before


def test_bytes_moved_from_a_files_content_into_the_next_files_name_change_the_fingerprint(
    tmp_path: Path,
) -> None:
    """A notebook whose content ended in 'submitted/alice/a1/zz' hashed as the notebook
    cut before those bytes plus a file named zz: a changed submission kept its old grade.
    Does each file count as its own record, whatever its neighbours hold?"""
    alice = _tiny_course(tmp_path)
    layout = CourseLayout.from_root(tmp_path)
    notebook = alice.folder / "a1.ipynb"
    notebook.write_text('{"answer": 1} submitted/alice/a1/zz', encoding="utf-8")
    whole = classgrade.fingerprint(layout, alice)
    notebook.write_text('{"answer": 1} ', encoding="utf-8")
    _touch(alice.folder / "zz", "")
    assert classgrade.fingerprint(layout, alice) != whole


def test_fingerprint_takes_any_file_name_and_size(tmp_path: Path) -> None:
    """A file name that is not UTF-8 and a sparse file of terabytes (never read for
    grading) each change the fingerprint, without failing it or reading the terabytes."""
    alice = _tiny_course(tmp_path)
    layout = CourseLayout.from_root(tmp_path)
    seen = {classgrade.fingerprint(layout, alice)}
    folder = os.fsencode(alice.folder)
    os.close(os.open(folder + b"/notes-\xff.txt", os.O_CREAT | os.O_WRONLY, 0o644))
    seen.add(classgrade.fingerprint(layout, alice))
    with open(alice.folder / "huge.bin", "wb") as handle:
        handle.truncate(2**40)
    seen.add(classgrade.fingerprint(layout, alice))
    with open(alice.folder / "huge.bin", "wb") as handle:
        handle.truncate(2**40 + 1)
    seen.add(classgrade.fingerprint(layout, alice))
    assert len(seen) == 4


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_by_default_two_submissions_are_graded_at_once_per_core_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cores this process may not run on add no workers."""
    monkeypatch.setattr(classgrade, "_memory_bytes", lambda: 2**40)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert classgrade.default_workers(2048) == classgrade.WORKERS_PER_CORE * 3 == 6
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert classgrade.default_workers(2048) == classgrade.WORKERS_PER_CORE * 64
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert classgrade.default_workers(2048) == classgrade.WORKERS_PER_CORE


def test_by_default_no_more_kernels_run_than_the_memory_holds_at_their_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """16 cores but 20 GiB: 10 kernels of 2 GiB, not 32; never fewer than one; the
    sandbox's own limit when none is named; no cap where the memory is unknown."""
    from lstm_grader.sandbox import SandboxKernelManager

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(classgrade, "_memory_bytes", lambda: 20 * 2**30)
    assert classgrade.default_workers(2048) == 10
    assert classgrade.default_workers(64 * 1024) == 1
    limit = SandboxKernelManager.memory_limit_mb.default_value
    assert classgrade.default_workers() == min(32, 20 * 1024 // limit)
    monkeypatch.setattr(classgrade, "_memory_bytes", lambda: None)
    assert classgrade.default_workers(2048) == 32


def test_the_memory_a_grader_may_use_is_the_smaller_of_the_host_and_its_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lstm_grader import cgroups

    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    monkeypatch.setattr(cgroups, "memory_limit", lambda: None)
    assert classgrade._memory_bytes() == physical
    monkeypatch.setattr(cgroups, "memory_limit", lambda: 3 * 2**30)
    assert classgrade._memory_bytes() == min(physical, 3 * 2**30)


def test_write_grades_writes_one_row_per_notebook_and_one_total_per_student(
    tmp_path: Path,
) -> None:
    """Does grades.csv carry every column for every notebook, and grades_totals.csv one row per
    student with a column per assignment (0 where a student has none), the total and the
    maximum?"""
    rows = [
        Row("alice", "a1", "a1", 3.0, 4.0, "graded", "", 1.5),
        Row("alice", "a2", "a2-part1", 1.0, 2.0, "graded", "", 1.0),
        Row("alice", "a2", "a2-part2", 2.0, 2.0, "flagged", "cell 'q1' was deleted", 1.0),
        Row("bob", "a1", "a1", 0.0, 4.0, "missing", "a1.ipynb was not submitted", 0.0),
    ]

    grades, totals = classgrade.write_grades(tmp_path, rows)

    assert grades == tmp_path / "grades.csv" and totals == tmp_path / "grades_totals.csv"
    table = _read_csv(grades)
    assert table[0] == list(COLUMNS)
    assert table[1:] == [[str(getattr(r, c)) for c in COLUMNS] for r in rows]
    assert table[3][COLUMNS.index("reason")] == "cell 'q1' was deleted"

    assert _read_csv(totals) == [
        ["student", "a1", "a2", "total", "max_total"],
        ["alice", "3.0", "3.0", "6.0", "8.0"],
        ["bob", "0.0", "0.0", "0.0", "4.0"],
    ]


@pytest.mark.parametrize(
    ("student", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("a\nb\x1b[2J", "a\\nb\\x1b[2J"),
        ("@A1", "'@A1"),  # a safe id, but Excel may still read it as a reference
    ],
)
def test_grades_files_never_hold_a_formula_or_a_control_character(
    tmp_path: Path, student: str, written: str
) -> None:
    """A student folder's name is the one cell of the grades files a course does not
    choose. Is a name a spreadsheet would run as a formula written with a leading ',
    and a control character as its escape, in both files?"""
    rows = [Row(student, "a1", "a1", 0.0, 4.0, "refused", "why", 0.0)]
    grades, totals = classgrade.write_grades(tmp_path, rows)
    assert _read_csv(grades)[1][0] == written
    assert _read_csv(totals)[1][0] == written


def test_write_grades_with_no_rows_writes_the_headers_only(tmp_path: Path) -> None:
    """Does a class without submissions still get both files, with headers?"""
    grades, totals = classgrade.write_grades(tmp_path, [])
    assert _read_csv(grades) == [list(COLUMNS)]
    assert _read_csv(totals) == [["student", "total", "max_total"]]


def _notebook_text() -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer_q1 = (None, 16)")])
    return nbformat.writes(notebook)


@pytest.mark.parametrize(
    ("name", "mutate", "expected"),
    [
        ("truncated", lambda text: text[: len(text) // 2], "NotJSONError"),
        ("empty", lambda text: "", "NotJSONError"),
        ("not-json", lambda text: "print('hello')\n", "NotJSONError"),
        ("json-list", lambda text: "[]", "Error"),
        (
            "unknown-cell-type",
            lambda text: text.replace('"cell_type": "code"', '"cell_type": "answer"'),
            "ValidationError",
        ),
        (
            "cell-without-outputs",
            lambda text: _edit_json(text, lambda nb: nb["cells"][0].pop("outputs")),
            "ValidationError",
        ),
        (
            "no-cells",
            lambda text: _edit_json(text, lambda nb: nb.pop("cells")),
            "ValidationError",
        ),
        (
            "unknown-top-level-key",
            lambda text: _edit_json(text, lambda nb: nb.update(answers=[1])),
            "ValidationError",
        ),
        ("json-array", lambda text: "[" + text + "]", "NotJSONError"),
        ("json-number", lambda text: "42", "NotJSONError"),
        ("empty-object", lambda text: "{}", "NotJSONError"),
        (
            # valid JSON that nbgrader reads, then cannot write as the graded copy
            "lone-surrogate",
            lambda text: _edit_json(text, lambda nb: nb["cells"][0].update(source="a \ud800")),
            "UnicodeEncodeError",
        ),
    ],
)
def test_readable_notebook_names_why_a_file_is_not_a_notebook(
    tmp_path: Path, name: str, mutate, expected: str
) -> None:
    """Does readable_notebook return a short one-line reason for truncated JSON, non-JSON and
    schema-invalid notebooks, and None for a valid one?"""
    good = _touch(tmp_path / "good.ipynb", _notebook_text())
    assert classgrade.readable_notebook(good) is None

    broken = _touch(tmp_path / f"{name}.ipynb", mutate(_notebook_text()))
    reason = classgrade.readable_notebook(broken)

    assert reason is not None, f"{name} was accepted as a notebook"
    assert expected in reason.split(":")[0], reason
    assert "\n" not in reason and len(reason) < 300


@pytest.mark.parametrize(
    ("name", "encode", "expected"),
    [
        ("bom", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), "byte-order mark"),
        ("utf-16", lambda text: text.encode("utf-16"), "the file is UTF-16 text"),
        ("latin-1", lambda text: text.replace("None", "Non\xe9").encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_notebook_saved_in_an_encoding_jupyter_cannot_read_is_named(
    tmp_path: Path, name: str, encode, expected: str
) -> None:
    """A notebook an editor saved as UTF-8 with a byte-order mark, as UTF-16 or as Latin-1
    opens in no Jupyter: is that said in words, with what to do, instead of as the
    decoder's error?"""
    path = tmp_path / f"{name}.ipynb"
    path.write_bytes(encode(_notebook_text()))
    reason = classgrade.readable_notebook(path)
    assert reason is not None and expected in reason, reason
    assert "download the notebook again from Jupyter" in reason
    assert "\n" not in reason and len(reason) < 300


def test_readable_notebook_validates_a_notebook_once(tmp_path: Path, monkeypatch) -> None:
    """The class command reads every submitted notebook before grading it, in the process
    all workers share: one schema validation per notebook, valid or not, with the invalid
    one still named."""
    calls = []
    validate = nbformat.validate

    def counting(*args, **kwargs):
        calls.append(args)
        return validate(*args, **kwargs)

    good = _touch(tmp_path / "good.ipynb", _notebook_text())
    invalid = _edit_json(_notebook_text(), lambda nb: nb.update(answers=[1]))
    invalid = _touch(tmp_path / "invalid.ipynb", invalid)
    monkeypatch.setattr(nbformat, "validate", counting)
    assert classgrade.readable_notebook(good) is None
    assert len(calls) == 1
    reason = classgrade.readable_notebook(invalid)
    assert reason is not None and reason.startswith("NotebookValidationError: ")
    assert len(calls) == 2


@pytest.mark.parametrize("depth", [250, 490])
def test_readable_notebook_names_a_notebook_nested_deeper_than_jupyter_writes(
    tmp_path: Path, depth: int
) -> None:
    """A notebook whose metadata nests 490 deep passed this check, in the class command's
    process, then failed nbformat's own reading in nbgrader's (a deeper stack), graded as
    the grader's error. Is one nested past the limit named as not gradable here, however
    deep this process's stack (nbformat's own failure may come first), and one within it
    not?"""
    text = _edit_json(_notebook_text(), lambda nb: nb["metadata"].update(deep="DEEP"))
    deep = text.replace('"DEEP"', "[" * depth + "]" * depth)
    reason = classgrade.readable_notebook(_touch(tmp_path / "deep.ipynb", deep))
    assert reason is not None
    assert "levels deep" in reason or reason.startswith("RecursionError"), reason
    assert depth > 300 or "levels deep" in reason, reason
    shallow = text.replace('"DEEP"', "[" * 40 + "]" * 40)
    assert classgrade.readable_notebook(_touch(tmp_path / "shallow.ipynb", shallow)) is None


def _edit_json(text: str, change) -> str:
    data = json.loads(text)
    change(data)
    return json.dumps(data)


# --------------------------------------------------------------------------- slow: a class

#: Seconds a single cell may run in the test course. The real config's 30 s would make each
#: endless-loop grading take about 40 s, twice per test; 5 s proves the same path.
CELL_TIMEOUT = 5


def _points(cell: nbformat.NotebookNode) -> float:
    meta = cell.metadata.get("nbgrader", {})
    is_test = cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
    return float(meta.get("points", 0)) if is_test else 0.0


def _points_before(notebook: nbformat.NotebookNode, grade_id: str) -> float:
    """Points of the test cells that run before the cell ``grade_id``."""
    total = 0.0
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return total
        total += _points(cell)
    raise KeyError(grade_id)


def _next_test_cell_points(notebook: nbformat.NotebookNode, grade_id: str) -> float:
    """Points of the first test cell after the answer cell ``grade_id``: what a wrong answer
    there loses."""
    cells = notebook.cells
    start = next(
        i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )
    return next(_points(c) for c in cells[start + 1 :] if _points(c))


def submit_class(course: Course, *, endless_loop: bool = True) -> dict[str, tuple[str, float]]:
    """Submit a class with every kind of submission; return {student: (status, score)}."""
    release = course.release(ASSIGNMENT)
    full = sum(_points(c) for c in release.cells)
    mistake = classic_mistakes(ASSIGNMENT)["q1"]
    expected: dict[str, tuple[str, float]] = {}

    def add(student: str, notebook, status: str, score: float) -> Path:
        expected[student] = (status, score)
        return course.submit(student, ASSIGNMENT, notebook)

    add("s01-correct", answered_notebook(course), "graded", full)
    add(
        "s02-partial",
        answered_notebook(course, {mistake["cell"]: mistake["code"]}),
        "graded",
        full - _next_test_cell_points(release, mistake["cell"]),
    )
    # nothing answered: no answer reaches the grader, which says so loudly
    add("s03-blank", release, "no-answers", 0.0)
    truncated = add("s04-truncated", answered_notebook(course), "invalid-notebook", 0.0)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    # A learner who saved under another name: the expected notebook is missing.
    wrong_name = add("s05-missing", answered_notebook(course), "missing", 0.0)
    wrong_name.rename(wrong_name.with_name("Untitled.ipynb"))
    if endless_loop:
        add(
            "s06-endless-loop",
            answered_notebook(course, {"q3-answer": "while True:\n    pass"}),
            "timed-out",
            _points_before(release, "q3-answer"),
        )
    add(
        "s07-kernel-killer",
        answered_notebook(course, {"q4-answer": "import os; os._exit(1)"}),
        "kernel-died",
        _points_before(release, "q4-answer"),
    )
    add("s08-correct", answered_notebook(course), "graded", full)
    assert 0 < expected["s02-partial"][1] < full
    assert 0 < expected["s07-kernel-killer"][1] < full
    return expected


def answered_notebook(course: Course, overrides: dict[str, str] | None = None):
    from lstm_grader.synthetic import answered

    return answered(course.release(ASSIGNMENT), course.source(ASSIGNMENT), overrides)


def lstm_grade(course: Course, *args: str, db_url: str | None = None) -> str:
    """Run ``lstm-grade ASSIGNMENT --workers 2 --no-progress ARGS`` from the course root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = ["lstm-grade", ASSIGNMENT, "--workers", "2", "--no-progress", *args]
    if db_url:
        command += ["--db-url", db_url]
    result = subprocess.run(
        command, cwd=course.root, env=env, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, f"lstm-grade failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def grade_rows(course: Course) -> dict[str, dict[str, str]]:
    with (course.root / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_student = {row["student"]: row for row in rows}
    assert len(by_student) == len(rows), "a student has more than one row for one notebook"
    return by_student


def row_stamps(course: Course) -> dict[str, int]:
    """When each student's rows were last computed (the state file lstm-grade rewrites)."""
    return {
        path.parent.parent.name: path.stat().st_mtime_ns
        for path in (course.root / "grading_reports").glob(f"*/{ASSIGNMENT}/{ROW_FILE}")
    }


def give_q3_full_marks_by_hand(course: Course, student: str) -> None:
    """What the formgrader's score box stores when the instructor gives q3 full marks."""
    from nbgrader.api import Gradebook

    with Gradebook(_gradebook_url(course)) as gradebook:
        grade = gradebook.find_grade("q3", ASSIGNMENT, ASSIGNMENT, student)
        grade.manual_score = grade.max_score
        grade.needs_manual_grade = False
        gradebook.db.commit()


def _why_not_graded(course: Course, rows: list[dict[str, str]]) -> str:
    """For a failing test: each row not graded, with its reason and the end of its
    submission's nbgrader log, which a run in CI leaves nowhere else to read."""
    told = []
    for row in rows:
        if row["status"] in ("graded", "missing"):
            continue
        log = course.layout.reports(row["student"], row["assignment"]) / "autograde.log"
        tail = log.read_text(encoding="utf-8")[-3000:] if log.exists() else "(no log)"
        told.append(f"{row['student']}/{row['assignment']}: {row['reason']}\n{tail}")
    return "\n\n".join(told)


def _without_seconds(rows: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {s: {k: v for k, v in row.items() if k != "seconds"} for s, row in rows.items()}


def _submitted_bytes(course: Course) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (course.root / "submitted").rglob("*") if p.is_file()}


def _limit_cell_time(course: Course) -> None:
    with (course.root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")


@pytest.mark.slow
def test_a_class_with_broken_submissions_is_graded_and_regraded_only_when_changed(
    course_factory,
) -> None:
    """lstm-grade on a class of correct, partial, blank, truncated, missing, endless-loop and
    kernel-killing submissions: one row per student with the right status and score, totals
    that add up, the broken ones not stopping the others and nothing submitted modified; a
    second run regrades nothing, a changed submission alone is regraded, --force regrades all."""
    course = course_factory(ASSIGNMENT)
    _limit_cell_time(course)
    expected = submit_class(course)
    full = expected["s01-correct"][1]
    submitted_before = _submitted_bytes(course)
    # a learner on the roster who hands in nothing still gets a row, with 0
    course.run("nbgrader", "db", "student", "add", "s09-roster")
    expected["s09-roster"] = ("missing", 0.0)

    out = lstm_grade(course)

    rows = grade_rows(course)
    assert sorted(rows) == sorted(expected)
    got = {s: (row["status"], float(row["score"])) for s, row in rows.items()}
    assert got == expected
    assert rows["s09-roster"]["reason"] == "nothing was submitted for this assignment"
    for student, row in rows.items():
        assert row["status"] == "graded" or row["reason"], f"{student}: {row['status']}, no reason"
    # nbgrader's own export lists every learner grades.csv lists, with the same score
    course.run("nbgrader", "export", "--to", "export.csv")
    with (course.root / "export.csv").open(newline="", encoding="utf-8") as handle:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)}
    assert exported == {s: score for s, (_status, score) in expected.items()}
    for student, row in rows.items():
        assert row["assignment"] == ASSIGNMENT and row["notebook"] == ASSIGNMENT, student
        assert float(row["max_score"]) == full, f"{student}: max_score {row['max_score']}"
    assert "NotJSONError" in rows["s04-truncated"]["reason"]
    assert rows["s05-missing"]["reason"] == (
        "the notebook was not submitted; the submission holds Untitled.ipynb instead"
    )
    assert float(rows["s06-endless-loop"]["seconds"]) >= CELL_TIMEOUT
    # the cell that ran out of time is named, where the instructor and the learner look
    endless = rows["s06-endless-loop"]["reason"]
    assert "('while True:') ran past the 5 s a cell may take while graded" in endless
    endless_report = course.report("s06-endless-loop", ASSIGNMENT)
    assert endless_report["stopped_by"] in endless
    # how long its sandbox waited for a CPU in that cell: what decides whether a timeout
    # beside others is graded again alone
    waited = endless_report["timeout_cpu_wait"]
    assert waited["limit_seconds"] == CELL_TIMEOUT
    assert isinstance(waited["waited_seconds"], float) and waited["waited_seconds"] >= 0
    later = endless_report["questions"]["q4"]["message"]
    assert later == f"Not graded: {endless_report['stopped_by']}, so this cell did not run."
    graded_copy = course.root / "autograded" / "s06-endless-loop" / ASSIGNMENT
    stopped = [
        output["evalue"]
        for cell in read_notebook(graded_copy / f"{ASSIGNMENT}.ipynb").cells
        for output in cell.get("outputs", [])
        if output.get("ename") == "CellTimeoutError"
    ]
    assert len(stopped) == 1 and stopped[0].startswith("Grading stopped this cell after 5 s")
    assert f"{len(expected) - 1} submissions, {len(expected)} notebooks" in out
    # The grader's report says the same as grades.csv, question by question.
    killed = course.report("s07-kernel-killer", ASSIGNMENT)
    assert killed["status"] == "kernel-died"
    assert not killed["questions"]["q4"]["correct"]
    assert killed["questions"]["q3"]["correct"]

    with (course.root / "grades_totals.csv").open(newline="", encoding="utf-8") as handle:
        totals = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(totals) == sorted(expected), "a learner is missing from the totals"
    for student, (_status, score) in expected.items():
        assert float(totals[student][ASSIGNMENT]) == score
        assert float(totals[student]["total"]) == score
        assert float(totals[student]["max_total"]) == full
    assert _submitted_bytes(course) == submitted_before, "grading modified a submitted file"

    # A second run regrades nothing: same rows, no state file rewritten, no autograde.
    grades_before = (course.root / "grades.csv").read_bytes()
    stamps = row_stamps(course)
    submitters = sorted(s for s in expected if s != "s09-roster")
    assert sorted(stamps) == submitters, "each submission keeps its rows"
    autograded = course.root / "autograded" / "s01-correct" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    autograded_stamp = autograded.stat().st_mtime_ns
    lstm_grade(course)
    assert (course.root / "grades.csv").read_bytes() == grades_before
    assert row_stamps(course) == stamps, "an unchanged submission was regraded"
    assert autograded.stat().st_mtime_ns == autograded_stamp

    # Changing one submission regrades that one only.
    time.sleep(0.05)  # so a rewritten file gets a new modification time on coarse clocks
    course.submit("s03-blank", ASSIGNMENT, answered_notebook(course))
    lstm_grade(course)
    after_change = grade_rows(course)
    changed = {s for s in stamps if row_stamps(course)[s] != stamps[s]}
    assert changed == {"s03-blank"}
    assert (after_change["s03-blank"]["status"], float(after_change["s03-blank"]["score"])) == (
        "graded",
        full,
    )
    assert {s: r for s, r in after_change.items() if s != "s03-blank"} == {
        s: r for s, r in rows.items() if s != "s03-blank"
    }

    # --force regrades everyone, with the same results.
    stamps = row_stamps(course)
    time.sleep(0.05)
    lstm_grade(course, "--force")
    forced = grade_rows(course)
    assert all(row_stamps(course)[s] != stamps[s] for s in stamps), "--force skipped someone"
    assert _without_seconds(forced) == _without_seconds(after_change)


# --------------------------------------------------------------------------- slow: PostgreSQL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_available() -> bool:
    import sqlalchemy

    try:  # the driver SQLAlchemy picks for a bare postgresql:// URL (psycopg 3 since 2.1)
        sqlalchemy.create_engine("postgresql://grader@localhost/course").dispose()
    except ImportError:
        return False
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return all((PG_BIN / tool).exists() for tool in ("initdb", "pg_ctl", "psql")) and bool(
        shutil.which("runuser")
    )


@pytest.fixture
def postgres_url():
    """A real PostgreSQL server on a free localhost port, run as the postgres user, with a
    database ``course`` owned by a role ``grader``; stopped and removed afterwards."""
    require_or_skip(os.geteuid() == 0, "root, to run the PostgreSQL server as its own user")
    require_or_skip(_postgres_available(), "PostgreSQL 15 (initdb, pg_ctl) and its Python driver")
    base = Path(tempfile.mkdtemp(prefix="lstm-pg-"))
    shutil.chown(base, "postgres", "postgres")
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def as_postgres(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        log_text = log.read_text(errors="replace") if log.exists() else ""
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}\n{log_text}"
        return result

    as_postgres(
        str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(
        str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"
    )
    try:
        psql = [
            str(PG_BIN / "psql"),
            "-h",
            str(base),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "postgres",
            "-c",
        ]
        as_postgres(*psql, "CREATE ROLE grader LOGIN PASSWORD 'grader'")
        as_postgres(*psql, "CREATE DATABASE course OWNER grader")
        # The README's form of the URL: SQLAlchemy picks the driver.
        yield f"postgresql://grader:grader@127.0.0.1:{port}/course"
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)


def _cell_scores(db_url: str, students: list[str]) -> dict[str, dict[str, float]]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(db_url) as gradebook:
        for student in students:
            try:
                found = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            except Exception:  # not in this gradebook: a missing or unreadable submission
                continue
            scores[student] = {grade.name: grade.score for grade in found.grades}
    return scores


@pytest.mark.slow
def test_a_postgresql_gradebook_gives_the_same_grades_as_sqlite(
    course_factory, postgres_url: str, monkeypatch
) -> None:
    """A course graded into SQLite moves to a real PostgreSQL server mid-course (--db-url,
    no --force): is every submission graded again into the new gradebook (none reused from
    the old one's cache), are grades.csv, the totals and every cell's score equal, and is
    the SQLite gradebook left as it was?"""
    # nbgrader's Gradebook runs the `alembic` command for any database but SQLite.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    course = course_factory(ASSIGNMENT)
    expected = submit_class(course, endless_loop=False)
    lstm_grade(course)
    sqlite_rows = grade_rows(course)
    sqlite_totals = (course.root / "grades_totals.csv").read_text()
    assert {s: (r["status"], float(r["score"])) for s, r in sqlite_rows.items()} == expected
    students = sorted(expected)
    sqlite_url = _gradebook_url(course)
    sqlite_scores = _cell_scores(sqlite_url, students)
    stamps = row_stamps(course)

    time.sleep(0.05)
    lstm_grade(course, db_url=postgres_url)

    assert all(row_stamps(course)[s] != stamps[s] for s in stamps), "a cached row was reused"
    assert _without_seconds(grade_rows(course)) == _without_seconds(sqlite_rows)
    assert (course.root / "grades_totals.csv").read_text() == sqlite_totals
    graded = {
        s
        for s, (status, _) in expected.items()
        if status in ("graded", "kernel-died", "no-answers")
    }
    assert graded <= set(sqlite_scores)
    assert _cell_scores(postgres_url, students) == sqlite_scores
    assert _cell_scores(sqlite_url, students) == sqlite_scores, "the move changed SQLite"


@pytest.mark.slow
def test_a_due_date_set_in_a_new_gradebook_before_grading_leaves_the_class_gradable(
    course_factory,
) -> None:
    """An instructor who moves a course to a new gradebook sets each due date there first
    (`nbgrader db assignment add --duedate`), which defines the assignment without its
    notebooks; a run before this was fixed also left a submission row with no notebook,
    and an extension given to it. Does lstm-grade grade the class in full (it gave every
    learner a grader error, "No notebooks found", run after run), keep the due date and
    the extension, and leave the release folder in place?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    expected = {"s01-correct": answered_notebook(course), "s02-blank": course.release(ASSIGNMENT)}
    for student, notebook in expected.items():
        course.submit(student, ASSIGNMENT, notebook)
    new_url = "sqlite:///" + str(course.root / "moved.db")
    course.run(
        "nbgrader",
        "db",
        "assignment",
        "add",
        ASSIGNMENT,
        "--duedate=2027-01-30 23:59 UTC",
        f"--CourseDirectory.db_url={new_url}",
    )
    with Gradebook(new_url) as gradebook:
        gradebook.add_student("s02-blank")
        with gradebook.db.no_autoflush:  # as nbgrader builds a submission: no half-made flush
            gradebook.add_submission(ASSIGNMENT, "s02-blank", extension=dt.timedelta(days=2))
    release = course.layout.release(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    released = release.read_bytes()

    lstm_grade(course, db_url=new_url)

    rows = grade_rows(course)
    full = sum(_points(c) for c in course.release(ASSIGNMENT).cells)
    assert (rows["s01-correct"]["status"], float(rows["s01-correct"]["score"])) == (
        "graded",
        full,
    )
    assert rows["s02-blank"]["status"] == "no-answers"
    assert release.read_bytes() == released
    with Gradebook(new_url) as gradebook:
        assignment = gradebook.find_assignment(ASSIGNMENT)
        assert [notebook.name for notebook in assignment.notebooks] == [ASSIGNMENT]
        assert assignment.duedate == dt.datetime(2027, 1, 30, 23, 59)
        extension = gradebook.find_submission(ASSIGNMENT, "s02-blank").extension
        assert extension == dt.timedelta(days=2)


@pytest.mark.slow
def test_an_unknown_assignment_or_a_broken_gradebook_is_named(course_factory) -> None:
    """Does lstm-grade, given an assignment the course lacks or a gradebook that is not a
    database, grade nothing and say which it is, with the course's assignments listed or
    what to do?"""
    course = course_factory(ASSIGNMENT)
    grade = [sys.executable, "-m", "lstm_grader.classgrade", "--no-progress"]
    run = course.run(*grade, "05-retrun-flags", check=False, timeout=300)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "lstm-grade: nothing was graded: the course has no assignment '05-retrun-flags' "
        f"(it has: {ASSIGNMENT})"
    ]
    (course.root / "gradebook.db").write_bytes(b"not a database " * 400)
    run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
    assert run.returncode == 2
    first, why = run.stderr.strip().splitlines()
    assert first == "lstm-grade: nothing was graded:"
    assert "not a database" in why and "restore it from a backup" in why
    assert not (course.root / "grades.csv").exists()


@pytest.mark.slow
def test_a_damaged_gradebook_grades_nothing_changes_nothing_and_says_what_to_do(
    course_factory,
) -> None:
    """After a graded run, the gradebook is cut to nothing, has a page overwritten, loses
    a column, or cannot be written (as root too). Before, lstm-grade filled an emptied
    one anew without a word, graded every learner as a grader error on the overwritten
    page (their autograded work removed), and stopped on the other two with a raw
    SQLAlchemy error or a traceback blaming the course's configuration. Does each run now
    grade nothing, say in one line what is wrong with gradebook.db and what to do, and
    leave the gradebook, the grades files and every learner's folders as they were?"""
    from test_gradebook_guard import damaged_bytes, unwritable

    course = course_factory(ASSIGNMENT)
    for student in ("alice", "bob"):
        course.submit(student, ASSIGNMENT, answered_notebook(course))
    lstm_grade(course)
    gradebook = course.root / "gradebook.db"
    sound = gradebook.read_bytes()

    def kept() -> dict[str, bytes]:
        return {
            str(path.relative_to(course.root)): path.read_bytes()
            for kind in ("submitted", "autograded", "feedback", "grading_reports")
            for path in sorted((course.root / kind).rglob("*"))
            if path.is_file()
        } | {name: (course.root / name).read_bytes() for name in ("grades.csv", "gradebook.db")}

    def renamed_column() -> bytes:
        import sqlite3

        connection = sqlite3.connect(gradebook)
        connection.execute("ALTER TABLE student RENAME COLUMN email TO mail")
        connection.commit()
        connection.close()
        return gradebook.read_bytes()

    damages = {
        "cut-to-nothing": (
            "gradebook.db is an empty file, not a gradebook: restore it from "
            "a backup, or, if the course has no grades yet, delete it"
        ),
        "page-overwritten": "gradebook.db is damaged (",
        "renamed-column": (
            "gradebook.db is not a complete nbgrader gradebook (it lacks the "
            "columns email of student): restore it from a backup"
        ),
        "unwritable": "the gradebook gradebook.db cannot be written: let the grader write",
    }
    grade = [sys.executable, "-m", "lstm_grader.classgrade", "--no-progress", "--force"]
    for damage, said in damages.items():
        gradebook.write_bytes(sound)
        if damage == "renamed-column":
            renamed_column()
        elif damage != "unwritable":
            gradebook.write_bytes(damaged_bytes(sound, damage, gradebook))
        before = kept()
        with unwritable(gradebook) if damage == "unwritable" else contextlib.nullcontext():
            run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
        assert run.returncode == 2, (damage, run.stdout, run.stderr)
        first, why = run.stderr.strip().splitlines()
        assert first == "lstm-grade: nothing was graded:", damage
        assert why.strip().startswith(said), (damage, why)
        assert kept() == before, f"{damage}: a file changed"
        assert sorted(p.name for p in course.root.glob("gradebook.db*")) == ["gradebook.db"]
    gradebook.write_bytes(sound)  # the backup put back: the run grades again
    run = course.run(*grade, ASSIGNMENT, check=False, timeout=600)
    assert run.returncode == 0, run.stderr


@pytest.mark.slow
def test_missing_references_or_another_courses_gradebook_grade_nothing_and_say_why(
    course_factory, monkeypatch
) -> None:
    """With an assignment's references missing or unreadable, or the gradebook locked by
    another program or another course's, does lstm-grade grade nothing (earlier grading
    and the gradebook untouched) and say why in a line each, instead of grading every
    learner as a grader error?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    course.submit("alice", ASSIGNMENT, answered_notebook(course))
    lstm_grade(course)
    graded = (course.root / "grades.csv").read_bytes()
    autograded = course.root / "autograded" / "alice" / ASSIGNMENT
    assert autograded.exists()
    grade = [sys.executable, "-m", "lstm_grader.classgrade", "--no-progress", "--force"]
    references = course.root / "references" / f"{ASSIGNMENT}.json"
    recorded = references.read_bytes()
    for broken, why in ((None, "no reference values"), (b"{not json", "is not valid JSON")):
        if broken is None:
            references.unlink()
        else:
            references.write_bytes(broken)
        run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
        assert run.returncode == 2, run.stderr
        first, reason = run.stderr.strip().splitlines()
        assert first == "lstm-grade: nothing was graded:"
        assert why in reason and ASSIGNMENT in reason
        assert (course.root / "grades.csv").read_bytes() == graded
        assert autograded.exists()
    references.write_bytes(recorded)

    # the formgrader, or another program, holding the gradebook: named, not waited on
    import sqlite3

    holder = sqlite3.connect(course.root / "gradebook.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
    finally:
        holder.close()
    assert run.returncode == 2, run.stderr
    assert "the gradebook is locked by another program" in run.stderr
    assert (course.root / "grades.csv").read_bytes() == graded
    assert autograded.exists()

    ours = course.root / "gradebook.db"
    ours.rename(course.root / "ours.db")
    # nbgrader runs alembic by name to make a gradebook
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with Gradebook(f"sqlite:///{ours}", course_id="another-course") as other:
        other.update_or_create_assignment("their-assignment")
        other.update_or_create_student("xavier")
    before = ours.read_bytes()
    run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "holds the grades of 'another-course', not of this course" in run.stderr
    assert ours.read_bytes() == before, "another course's gradebook was written to"
    assert (course.root / "grades.csv").read_bytes() == graded


@pytest.mark.slow
def test_a_lost_gradebook_is_filled_again_and_unwritable_grades_are_named(course_factory) -> None:
    """After grading, the gradebook is deleted: does the next run, without --force, grade
    again (not report every cached submission as a grader error)? With grades.csv not
    writable, does it say so in one line, exit 1, and keep the grades in the gradebook? And
    does nbgrader export, without --to, leave lstm-grade's grades.csv alone?"""
    course = course_factory(ASSIGNMENT)
    course.submit("alice", ASSIGNMENT, answered_notebook(course))
    lstm_grade(course)
    assert grade_rows(course)["alice"]["status"] == "graded"
    full = grade_rows(course)["alice"]["score"]
    (course.root / "gradebook.db").unlink()
    lstm_grade(course)
    assert (grade_rows(course)["alice"]["status"], grade_rows(course)["alice"]["score"]) == (
        "graded",
        full,
    )

    ours = (course.root / "grades.csv").read_bytes()
    course.run("nbgrader", "export", timeout=300)
    assert (course.root / "grades.csv").read_bytes() == ours
    assert (
        (course.root / "grades-nbgrader.csv").read_text(encoding="utf-8").startswith("assignment,")
    )

    (course.root / "grades.csv").unlink()
    (course.root / "grades.csv").mkdir()  # a path that cannot be replaced by a file
    grade = [sys.executable, "-m", "lstm_grader.classgrade", "--no-progress", "--force"]
    run = course.run(*grade, ASSIGNMENT, check=False, timeout=300)
    assert run.returncode == 1
    [line] = run.stderr.strip().splitlines()
    assert line == (
        "lstm-grade: the grades were kept in the gradebook, but grades.csv and "
        "grades_totals.csv were not written: cannot use grades.csv (Is a directory): a folder "
        "stands where a file belongs: move the folder away, then run lstm-grade again (it "
        "grades nothing already graded)"
    )
    assert course.scores("alice", ASSIGNMENT)


@pytest.mark.slow
def test_a_disk_that_fills_up_stops_the_run_in_a_line_and_loses_nothing(tmp_path: Path) -> None:
    """The course and its gradebook on a disk that fills up, with from nothing to a few
    tens of kB left. On a full disk the run ended in a traceback from the grading lock; a
    little further, grades.csv was written and the totals beside it were not. At every
    point, does the run end with lines of its own, no traceback, the submissions unchanged
    and the two grades files both written or neither; and once there is room, does the next
    run grade both learners in full?"""
    from conftest import make_course

    with small_disk(tmp_path / "disk") as disk:
        (disk / "course").mkdir()
        course = make_course(disk / "course", [ASSIGNMENT])
        for student in ("ann", "bob"):
            course.submit(student, ASSIGNMENT, answered_notebook(course))
        submitted = _submitted_bytes(course)
        grades_files = [course.root / "grades.csv", course.root / "grades_totals.csv"]
        command = ["lstm-grade", ASSIGNMENT, "--workers", "2", "--no-progress", "--force"]
        statuses = {}
        for leave in range(0, 56 * 1024, 4 * 1024):  # a page at a time
            filler = fill_disk(disk, leave)
            run = course.run(*command, check=False, timeout=300)
            filler.unlink()
            told = f"{leave} bytes left:\n{run.stdout}\n{run.stderr}"
            statuses[leave] = run.returncode
            assert run.returncode in (0, 1, 2, 3), told
            assert "Traceback" not in run.stderr, told
            assert all(line.startswith("lstm-grade: ") for line in run.stderr.splitlines()), told
            if leave == 0:  # the run's first write
                assert run.stderr == (
                    "lstm-grade: nothing was graded: cannot use .lstm-grade.lock (No space left "
                    "on device): the disk is full: free some space on it, then run lstm-grade "
                    "again\n"
                ), told
            if run.returncode in (1, 2):  # the line says what stopped it: the disk
                assert "free some space on it" in run.stderr, told
            assert _submitted_bytes(course) == submitted, told
            written = [path.exists() for path in grades_files]
            assert written == [run.returncode in (0, 3)] * 2, told
            for path in grades_files:
                path.unlink(missing_ok=True)
        assert {1, 2} <= set(statuses.values()), f"the disk never filled at a point: {statuses}"

        lstm_grade(course)
        rows = grade_rows(course)
        assert {student: row["status"] for student, row in rows.items()} == {
            "ann": "graded",
            "bob": "graded",
        }
        assert rows["ann"]["score"] == rows["ann"]["max_score"]
        assert rows["bob"]["score"] == rows["bob"]["max_score"]


@pytest.mark.slow
def test_a_low_soft_limit_of_open_files_does_not_fail_the_class(tmp_path: Path) -> None:
    """Started with a low soft limit of open files under a higher hard one (``ulimit -Sn``),
    lstm-grade ran out of files as it graded: every notebook a grader error reading "Too
    many open files", and running it again met the same. Does it raise its own soft limit
    and grade the class in full?"""
    import resource

    from conftest import make_course

    from lstm_grader.sandbox import _system_program

    prlimit = _system_program("prlimit")
    require_or_skip(prlimit is not None, "prlimit (util-linux)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    require_or_skip(hard >= 1024, "a hard limit of open files the sandbox's kernels fit in")
    course = make_course(tmp_path, [ASSIGNMENT])
    for student in ("ann", "bob"):
        course.submit(student, ASSIGNMENT, answered_notebook(course))
    run = course.run(
        str(prlimit),
        f"--nofile={LOW_SOFT_OPEN_FILES}:{hard}",
        "--",
        *["lstm-grade", ASSIGNMENT, "--workers", "2", "--no-progress"],
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = grade_rows(course)
    assert {student: row["status"] for student, row in rows.items()} == {
        "ann": "graded",
        "bob": "graded",
    }
    assert rows["ann"]["score"] == rows["ann"]["max_score"]


#: A soft limit of open files lstm-grade starts under but cannot grade within.
LOW_SOFT_OPEN_FILES = 24


def _processes_of(root: Path) -> list[str]:
    """The command lines of the processes working in ``root`` or naming it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if cwd == str(root) or cwd.startswith(f"{root}/") or str(root) in command:
            found.append(command)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigint-to-lstm-grade", "sigterm-then-ctrl-c"])
def test_an_interrupted_run_stops_at_once_and_the_next_run_grades_the_rest(
    course_factory, how: str
) -> None:
    """Stopped in the middle of a class, by Ctrl-C (SIGINT to lstm-grade and its helpers,
    as a terminal sends it), by SIGINT to lstm-grade alone, or by SIGTERM (a scheduler's
    stop) followed by an impatient Ctrl-C: does lstm-grade stop at once, without waiting
    for the submissions being graded, leave no process behind, say so in one line, write
    no grades.csv, and does the next run, without --force, keep what was graded and grade
    the rest, those cut off mid-grading included, to the same grades as an uninterrupted
    run?"""
    import signal

    course = course_factory(ASSIGNMENT)
    slow = {"q1-answer": "import time\ntime.sleep(20)\nanswer_q1 = (None, 8, 16)\n"}
    for i in range(6):
        course.submit(f"s{i}", ASSIGNMENT, answered_notebook(course, slow if i % 2 else None))
    release = course.release(ASSIGNMENT)
    full = sum(_points(cell) for cell in release.cells)
    wrong_q1 = full - sum(
        _points(cell)
        for cell in release.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = ["lstm-grade", ASSIGNMENT, "--workers", "2", "--no-progress"]
    run = subprocess.Popen(
        command,
        cwd=course.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not row_stamps(course) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row_stamps(course), "nothing was graded within 300 s"
    time.sleep(1)  # a slow submission is being graded now
    stopped = time.monotonic()
    if how == "ctrl-c":
        os.killpg(run.pid, signal.SIGINT)
    elif how == "sigint-to-lstm-grade":
        os.kill(run.pid, signal.SIGINT)
    else:
        os.kill(run.pid, signal.SIGTERM)
        time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.kill(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert time.monotonic() - stopped < 10, "it waited for the submissions being graded"
    assert run.returncode == (143 if how.startswith("sigterm") else 130)
    assert stderr.strip().splitlines() == [
        "lstm-grade: interrupted; grades.csv was not written. What was graded is kept: "
        "the next run grades only the rest."
    ]
    assert not (course.root / "grades.csv").exists()
    time.sleep(2)  # what dies with its parent has gone by now
    assert _processes_of(course.root) == []
    kept = row_stamps(course)
    assert 0 < len(kept) < 6
    # a submission cut off mid-grading leaves nothing generate_feedback could make a page of
    left = [
        student
        for student in (f"s{i}" for i in range(6))
        if student not in kept and (course.root / "autograded" / student / ASSIGNMENT).exists()
    ]
    assert left == [], f"half-graded copies left in autograded/: {left}"
    lstm_grade(course)
    rows = grade_rows(course)
    assert {s: (r["status"], float(r["score"])) for s, r in rows.items()} == {
        f"s{i}": ("graded", wrong_q1 if i % 2 else full) for i in range(6)
    }
    assert {s: t for s, t in row_stamps(course).items() if s in kept} == kept, "regraded"


def test_the_readme_postgresql_url_loads_with_the_installed_driver() -> None:
    """Can SQLAlchemy load a driver for the gradebook URL the README tells instructors to set
    (no connection is made)?"""
    import re

    import sqlalchemy

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    urls = re.findall(r"NBGRADER_DB_URL=(postgresql[^`\s]*)", readme)
    assert urls, "the README no longer documents a PostgreSQL gradebook URL"
    for url in urls:
        sqlalchemy.create_engine(url).dispose()


@pytest.mark.slow
def test_grading_one_assignment_keeps_the_other_assignments_rows_and_totals(
    course_factory,
) -> None:
    """After ``--all``, an instructor regrades one assignment. Do ``grades.csv`` and the
    totals, the file for the learning-management system, still hold every assignment's
    rows, a missing one included (they held only the regraded assignment's, and the
    maximum total fell with them)?"""
    from lstm_grader.synthetic import answered

    other = "02-dense"
    course = course_factory(ASSIGNMENT, other)
    for assignment, students in ((ASSIGNMENT, ("alice", "bob")), (other, ("alice",))):
        notebook = answered(course.release(assignment), course.source(assignment))
        for student in students:
            course.submit(student, assignment, notebook)

    def run(*args: str) -> tuple[list[dict[str, str]], str]:
        course.run("lstm-grade", *args, "--workers", "2", "--no-progress", timeout=1200)
        with (course.root / "grades.csv").open(newline="", encoding="utf-8") as handle:
            rows = [
                {k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(handle)
            ]
        return rows, (course.root / "grades_totals.csv").read_text(encoding="utf-8")

    whole, whole_totals = run("--all")
    assert {(r["student"], r["assignment"], r["status"]) for r in whole} == {
        ("alice", ASSIGNMENT, "graded"),
        ("bob", ASSIGNMENT, "graded"),
        ("alice", other, "graded"),
        ("bob", other, "missing"),
    }, _why_not_graded(course, whole)
    assert run(ASSIGNMENT, "--force") == (whole, whole_totals)


@pytest.mark.slow
def test_defining_an_assignment_in_the_gradebook_leaves_the_release_folder_as_it_is(
    course_factory,
) -> None:
    """lstm-grade defines an assignment the gradebook does not know by running nbgrader's
    generate_assignment, which rewrote ``exercises/NAME`` from the source as it is now: an
    edit made since the release replaced, without a word, the version learners were given.
    Is the assignment defined while the release folder stays byte for byte; and does a
    source nbgrader cannot convert stop lstm-grade with one line naming the assignment and
    what to do (it was a CalledProcessError blamed on the course's configuration)?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    release = course.layout.release(ASSIGNMENT)
    given = {path.name: path.read_bytes() for path in release.iterdir()}

    def forget_assignment() -> None:
        with Gradebook(_gradebook_url(course)) as gradebook:
            gradebook.remove_assignment(ASSIGNMENT)

    forget_assignment()
    source = course.layout.source(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    edited = read_notebook(source)
    edited.cells.insert(0, nbformat.v4.new_markdown_cell("A note added after the release."))
    nbformat.write(edited, source)
    grader = classgrade.ClassGrader(course.root, workers=1, force=False, timeout=600)
    grader._prepare_gradebook({ASSIGNMENT}, set())
    with Gradebook(_gradebook_url(course)) as gradebook:
        assert gradebook.find_notebook(ASSIGNMENT, ASSIGNMENT).max_score > 0
    assert {path.name: path.read_bytes() for path in release.iterdir()} == given

    forget_assignment()
    source.write_text("{not a notebook", encoding="utf-8")
    result = course.run("lstm-grade", ASSIGNMENT, "--no-progress", check=False)
    assert result.returncode == classgrade.EXIT_NOTHING_GRADED, result.stderr
    said = result.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("lstm-grade: nothing was graded: "), said
    assert f"does not define '{ASSIGNMENT}' yet" in said[0]
    assert "fix the source and run lstm-grade again" in said[0]
    assert {path.name: path.read_bytes() for path in release.iterdir()} == given


# --------------------------------------------------------------------------- slow: manual grading


def _gradebook_url(course: Course) -> str:
    return "sqlite:///" + str(course.root / "gradebook.db")


@pytest.mark.slow
def test_names_a_check_cell_imported_are_there_while_grading(course_factory) -> None:
    """In a practice run the check cells run ``import keras`` and ``import numpy as np``,
    and a learner's later cells may use those names without importing them. Does such a
    notebook score while graded, where no check cell runs, as it runs on the learner's
    machine (it scored 0 for those answers, with a NameError)?"""
    require_module("keras", "Keras (pip install .[keras])")
    course = course_factory(ASSIGNMENT)
    relying = answered_notebook(
        course,
        {
            "q3-answer": (
                "outputs = keras.layers.LSTM(16, return_state=True)(keras.Input(shape=(8, 3)))\n"
                "answer_q3 = [tuple(output.shape) for output in outputs]\n"
            ),
            "q9-answer": 'answer_q9 = "error-ndim" if np.ndim(np.zeros((2, 3))) == 2 else ""\n',
        },
    )
    course.submit("s-relying", ASSIGNMENT, relying)
    course.submit("s-plain", ASSIGNMENT, answered_notebook(course))
    lstm_grade(course)
    rows = grade_rows(course)
    assert rows["s-relying"]["status"] == "graded", rows["s-relying"]["reason"]
    assert rows["s-relying"]["score"] == rows["s-plain"]["score"] == rows["s-plain"]["max_score"]


@pytest.mark.slow
def test_a_model_a_check_cell_built_is_there_while_grading(course_factory) -> None:
    """In 08 the q2 check builds ``model``, and a learner's q3 answer may read it
    (``model.count_params()``): the notebook runs whole in practice. Does it score while
    graded, as the same answer written as a number does (it scored 0, with a NameError)?"""
    require_module("keras", "Keras (pip install .[keras])")
    from lstm_grader.synthetic import answered

    assignment = "08-putting-together"
    course = course_factory(assignment)
    release, source = course.release(assignment), course.source(assignment)
    relying = answered(release, source, {"q3-answer": "answer_q3 = model.count_params()\n"})
    course.submit("s-relying", assignment, relying)
    course.submit("s-plain", assignment, answered(release, source))
    course.run("lstm-grade", assignment, "--workers", "2", "--no-progress", timeout=1200)
    with (course.root / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["s-relying"]["status"] == "graded", rows["s-relying"]["reason"]
    assert rows["s-relying"]["score"] == rows["s-plain"]["score"] == rows["s-plain"]["max_score"]


@pytest.mark.slow
def test_a_flagged_submission_graded_by_hand_keeps_its_manual_score(course_factory) -> None:
    """A learner edits a locked test cell. Is the submission flagged in nbgrader's own
    fields, with only that cell awaiting the instructor, the reason and the learner's
    version under it; does a score given by hand reach grades.csv, the totals and nbgrader's
    export, and survive a --force regrade; and does a changed answer ask for it again? And
    is a notebook saved with CRLF line endings everywhere (VS Code on Windows) no edit?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    tampered = answered_notebook(course)
    q3 = next(c for c in tampered.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3")
    q3.source = '"""q3, checked my way"""\nprint("trust me")\n'
    course.submit("s-flagged", ASSIGNMENT, tampered)
    course.submit("s-plain", ASSIGNMENT, answered_notebook(course))
    windows = answered_notebook(course)
    for cell in windows.cells:
        cell.source = "".join(cell.source).replace("\n", "\r\n")
    course.submit("s-windows", ASSIGNMENT, windows)

    lstm_grade(course)
    rows = grade_rows(course)
    assert rows["s-windows"]["status"] == "graded", rows["s-windows"]["reason"]
    assert rows["s-windows"]["score"] == rows["s-plain"]["score"]
    assert rows["s-flagged"]["status"] == "flagged"
    assert "cell 'q3' was edited although it is locked" in rows["s-flagged"]["reason"]
    assert rows["s-plain"]["status"] == "graded"
    q3_points = _points(q3)
    assert q3_points > 0
    full = float(rows["s-plain"]["score"])
    assert float(rows["s-flagged"]["score"]) == full - q3_points
    with Gradebook(_gradebook_url(course)) as gradebook:
        notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "s-flagged")
        assert notebook.flagged, "the formgrader's Flagged column would be empty"
        assert {g.name for g in notebook.grades if g.needs_manual_grade} == {"q3"}
    graded = read_notebook(
        course.root / "autograded" / "s-flagged" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    )
    shown = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3")
    note = "".join(o.get("text", "") for o in shown.outputs)
    assert "Flagged for the instructor: cell 'q3' was edited although it is locked" in note
    assert 'print("trust me")' in note, "the learner's version is not shown"
    assert 'print("trust me")' not in shown.source, "the restored cell shows the learner's code"

    # The instructor gives q3 full marks in the formgrader (what its score box stores).
    give_q3_full_marks_by_hand(course, "s-flagged")

    for args in ((), ("--force",)):
        lstm_grade(course, *args)
        rows = grade_rows(course)
        assert (rows["s-flagged"]["status"], float(rows["s-flagged"]["score"])) == (
            "manually-graded",
            full,
        ), args
        assert "graded by hand" in rows["s-flagged"]["reason"]
        with Gradebook(_gradebook_url(course)) as gradebook:
            grade = gradebook.find_grade("q3", ASSIGNMENT, ASSIGNMENT, "s-flagged")
            assert grade.manual_score == grade.max_score and not grade.needs_manual_grade, args
    with (course.root / "grades_totals.csv").open(newline="", encoding="utf-8") as handle:
        totals = {row["student"]: float(row["total"]) for row in csv.DictReader(handle)}
    assert totals["s-flagged"] == full
    course.run("nbgrader", "export", "--to", "export.csv")
    with (course.root / "export.csv").open(newline="", encoding="utf-8") as handle:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)}
    assert exported["s-flagged"] == full

    # The learner hands in a different answer to q3: the manual score must be looked at again.
    time.sleep(0.05)
    changed = answered_notebook(course, {"q3-answer": "answer_q3 = (None, 1)"})
    q3 = next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3")
    q3.source = '"""q3, checked my way"""\nprint("trust me")\n'
    course.submit("s-flagged", ASSIGNMENT, changed)
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "flagged"
    with Gradebook(_gradebook_url(course)) as gradebook:
        grade = gradebook.find_grade("q3", ASSIGNMENT, ASSIGNMENT, "s-flagged")
        assert grade.needs_manual_grade


@pytest.mark.slow
def test_a_manual_score_awaits_the_instructor_again_when_an_added_cell_changes_the_answer(
    course_factory,
) -> None:
    """A flagged submission's q3 is graded by hand. The learner hands in again with the
    same answer cells, and a cell of their own before the check that gives q3 another
    answer. Does the manual score await the instructor again, as for a changed answer cell?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)

    def handed_in(*added: str) -> nbformat.NotebookNode:
        notebook = answered_notebook(course)
        at = next(
            i
            for i, c in enumerate(notebook.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") == "q3"
        )
        notebook.cells[at].source = '"""q3, checked my way"""\nprint("trust me")\n'
        notebook.cells[at:at] = [nbformat.v4.new_code_cell(code) for code in added]
        return notebook

    course.submit("s-flagged", ASSIGNMENT, handed_in())
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "flagged"
    give_q3_full_marks_by_hand(course, "s-flagged")
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "manually-graded"

    time.sleep(0.05)
    course.submit("s-flagged", ASSIGNMENT, handed_in("answer_q3 = (None, 1)"))
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "flagged"
    with Gradebook(_gradebook_url(course)) as gradebook:
        assert gradebook.find_grade("q3", ASSIGNMENT, ASSIGNMENT, "s-flagged").needs_manual_grade


@pytest.mark.slow
def test_a_manual_score_awaits_the_instructor_again_when_a_file_beside_the_notebook_changes(
    course_factory,
) -> None:
    """A flagged submission's q3 answer is read from a file handed in beside the notebook,
    and q3 is graded by hand. The learner hands in again with the same notebook and another
    answer in that file. Does the manual score await the instructor again, as for a changed
    answer cell, while a new timestamp alone leaves it standing?"""
    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    notebook = answered_notebook(course, {"q3-answer": "answer_q3 = eval(open('q3.txt').read())"})
    q3 = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3")
    q3.source = '"""q3, checked my way"""\nprint("trust me")\n'
    folder = course.submit("s-flagged", ASSIGNMENT, notebook).parent
    (folder / "q3.txt").write_text("(None, 1)", encoding="utf-8")
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "flagged"
    give_q3_full_marks_by_hand(course, "s-flagged")
    time.sleep(0.05)
    (folder / "timestamp.txt").write_text("2026-12-05 11:00:00.000000 UTC", encoding="utf-8")
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "manually-graded"

    time.sleep(0.05)
    (folder / "q3.txt").write_text("(None, 2)", encoding="utf-8")
    lstm_grade(course)
    assert grade_rows(course)["s-flagged"]["status"] == "flagged"
    with Gradebook(_gradebook_url(course)) as gradebook:
        assert gradebook.find_grade("q3", ASSIGNMENT, ASSIGNMENT, "s-flagged").needs_manual_grade


# --------------------------------------------------------------------------- slow: preloaded or not


@pytest.mark.slow
def test_preloaded_helpers_and_a_process_per_submission_give_the_same_grades(
    course_factory,
) -> None:
    """The same class (correct, partial, blank, truncated, missing and kernel-killing
    submissions) graded by the preloaded helpers, lstm-grade's default, then with
    --cold-kernels and with --process-per-submission, both --force: did each run take its
    own path (kernels started ahead only in the default run, when the grader is root), was
    every submission regraded, and are the grades.csv rows equal on everything but the
    seconds, and right?"""
    course = course_factory(ASSIGNMENT)
    expected = submit_class(course, endless_loop=False)
    log = course.root / "grading_reports" / "s01-correct" / ASSIGNMENT / "autograde.log"
    columns = ("student", "assignment", "notebook", "score", "max_score", "status", "reason")

    def table() -> dict[str, tuple[str, ...]]:
        return {s: tuple(row[c] for c in columns) for s, row in grade_rows(course).items()}

    def warm_logs() -> int:
        logs = (course.root / "grading_reports").glob(f"*/{ASSIGNMENT}/autograde.log")
        return sum("started ahead of this submission" in p.read_text("utf-8") for p in logs)

    lstm_grade(course, "--workers", "2")
    preloaded = table()
    preloaded_command = log.read_text(encoding="utf-8").splitlines()[0]
    if os.geteuid() == 0:
        assert warm_logs() > 0, "no submission got a kernel started ahead of it"
    lstm_grade(course, "--cold-kernels", "--force")
    assert warm_logs() == 0
    assert table() == preloaded
    stamps = row_stamps(course)
    time.sleep(0.05)  # so a rewritten state file gets a new modification time
    lstm_grade(course, "--process-per-submission", "--force")
    separate = table()
    separate_command = log.read_text(encoding="utf-8").splitlines()[0]

    assert preloaded_command.startswith("$ nbgrader autograde"), preloaded_command
    assert separate_command != preloaded_command, "both runs graded the same way"
    assert all(row_stamps(course)[s] != stamps[s] for s in stamps), "--force skipped someone"
    assert separate == preloaded
    assert {s: (row[5], float(row[3])) for s, row in preloaded.items()} == expected


def _with_alembic_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbgrader creates a gradebook by running ``alembic`` from the PATH."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


#: Folder names nbgrader's ``--student`` would read as a pattern or an option.
_NOT_STUDENT_IDS = ("*", "a?", "[ab]", "-x", "--force", "a..b", ".alice", "..x")


def test_a_folder_not_named_as_a_student_id_or_not_a_folder_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbgrader reads ``--student`` as a pattern: a folder named ``*`` would grade, and
    rewrite, every other learner's work, and ``-x`` would be read as an option. Is each
    such folder refused, saying why, without nbgrader being run or anything kept under
    its name? And is ``submitted/<student>/<assignment>`` that is a file a refused row
    that says it is not a folder, rather than a learner left out in silence?"""
    _tiny_course(tmp_path)
    _touch(tmp_path / "handout" / "a1" / "a1.ipynb", '{"release": 1}')
    _with_alembic_on_path(monkeypatch)
    for student in _NOT_STUDENT_IDS:
        _touch(tmp_path / "submitted" / student / "a1" / "a1.ipynb", '{"answer": 1}')
    _touch(tmp_path / "submitted" / "carol" / "a1", '{"answer": 1}')
    grader = classgrade.ClassGrader(
        tmp_path, workers=1, force=True, timeout=60, process_per_submission=True
    )

    def autograde(submission: Submission) -> None:
        raise AssertionError(f"nbgrader was run for {submission.student!r}")

    monkeypatch.setattr(grader, "_autograde", autograde)
    found = {
        s.student: s
        for s in classgrade.find_submissions(grader.layout, ["a1"])
        if s.student not in ("alice", "bob")
    }
    assert set(found) == {*_NOT_STUDENT_IDS, "carol"}

    for student in _NOT_STUDENT_IDS:
        (row,) = grader.grade(found[student])
        assert (row.status, row.score) == ("refused", 0.0), student
        assert "is not a student id" in row.reason and repr(student) in row.reason
        assert not (tmp_path / "grading_reports" / student).exists()
    (row,) = grader.grade(found["carol"])
    assert (row.student, row.status, row.score) == ("carol", "refused", 0.0)
    assert "submitted/carol/a1 is not a folder" in row.reason
    assert not (tmp_path / "autograded").exists()


def test_file_names_that_are_not_utf8_reach_grades_csv_as_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name on disk is bytes, and Python reads one that is not UTF-8 with lone
    surrogates, which no UTF-8 file can hold. A learner's FIFO named ``b"\\xff"``, or a
    student folder of such a name, is refused, and its reason quotes the name: does
    ``grades.csv`` still get written for the whole class, with the byte as its escape?
    (It stopped at a ``UnicodeEncodeError`` on every run, leaving no grades file.)"""
    _tiny_course(tmp_path)
    _touch(tmp_path / "handout" / "a1" / "a1.ipynb", '{"release": 1}')
    _with_alembic_on_path(monkeypatch)
    submitted = os.fsencode(tmp_path / "submitted")
    os.mkfifo(submitted + b"/bob/a1/\xff.fifo")
    os.makedirs(submitted + b"/\xfe/a1")
    grader = classgrade.ClassGrader(
        tmp_path, workers=1, force=True, timeout=60, process_per_submission=True
    )

    def autograde(submission: Submission) -> None:
        raise AssertionError(f"nbgrader was run for {submission.student!r}")

    monkeypatch.setattr(grader, "_autograde", autograde)
    found = {s.student: s for s in classgrade.find_submissions(grader.layout, ["a1"])}
    rows = [row for student in ("bob", "\udcfe") for row in grader.grade(found[student])]
    assert [row.status for row in rows] == ["refused", "refused"]
    grades, _ = classgrade.write_grades(tmp_path, rows)
    with grades.open(encoding="utf-8") as handle:
        written = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(written) == {"bob", "\\udcfe"}
    assert "\\udcff.fifo: not a regular file" in written["bob"]["reason"]
    assert "'\\\\udcfe' is not a student id" in written["\\udcfe"]["reason"]


def test_a_second_run_on_a_course_being_graded_stops_at_once_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two runs at once would write the same gradebook and grades files. Does a run that
    finds the course's lock held grade nothing, name the holder, and leave its lock to it;
    and does the lock come free with its holder?"""
    import fcntl

    _tiny_course(tmp_path)
    fd = os.open(tmp_path / classgrade.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")

    status = classgrade.main(["a1", "--root", str(tmp_path), "--no-progress"])

    assert status == 2
    err = capsys.readouterr().err
    assert "another lstm-grade run is grading this course (pid 4242)" in err
    assert not (tmp_path / "grades.csv").exists()
    os.close(fd)
    taken = classgrade._lock_course(tmp_path)
    assert isinstance(taken, int)
    assert (tmp_path / classgrade.LOCK_FILE).read_text() == str(os.getpid())
    os.close(taken)


def test_a_run_removes_what_a_run_killed_while_writing_the_grades_left_beside_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run killed outright while it wrote grades.csv and grades_totals.csv left hidden files
    beside them, which no later run took away. Does the next run, once it holds the
    course's lock, remove them and say so, before anything else (here an unknown
    assignment, which grades nothing)?"""
    _tiny_course(tmp_path)
    grades, totals = tmp_path / classgrade.GRADES_FILE, tmp_path / classgrade.TOTALS_FILE
    for target in (grades, totals):
        target.write_text("old")
    killed_while_writing(grades, totals)
    left = sorted(name for name in os.listdir(tmp_path) if name.startswith("."))
    assert len(left) == 3, left
    monkeypatch.setattr(safefiles, "LEFTOVER_AGE", 0.0)  # what the killed run left is old

    status = classgrade.main(["no-such-assignment", "--root", str(tmp_path), "--no-progress"])

    assert status == 2
    said = capsys.readouterr().err.splitlines()
    assert said[0] == (
        f"lstm-grade: removed what a run killed while it wrote {classgrade.GRADES_FILE} and "
        f"{classgrade.TOTALS_FILE} left beside them: {', '.join(left)}"
    ), said
    assert "has no assignment 'no-such-assignment'" in said[1], said
    assert sorted(name for name in os.listdir(tmp_path) if name.startswith(".")) == [
        classgrade.LOCK_FILE
    ]
    assert (grades.read_text(), totals.read_text()) == ("new", "old")


def test_a_submission_that_ran_out_of_time_beside_others_is_graded_again_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cell's limit is wall-clock time, which classmates' kernels stretch: three busy
    loops beside it made an honest notebook, 10 of 10 alone, run out of time and score 0.
    Is each submission that ran out of time while others ran graded again, alone and
    afresh (not read back from the run before), its second result the one that stands;
    and is a timeout read back from an earlier run (dave's) left as it was?"""
    import threading

    from lstm_grader import sandbox

    _tiny_course(tmp_path)
    # two at once, as where kernels have uids or groups of their own; an ordinary user's
    # grader without a group grades one at a time, and nothing would run beside another
    monkeypatch.setattr(sandbox, "kernels_share_a_process_limit", lambda: False)
    grader = classgrade.ClassGrader(
        tmp_path, workers=2, force=False, timeout=60, process_per_submission=True
    )
    running: list[str] = []
    lock = threading.Lock()
    calls: list[tuple[str, bool, bool]] = []

    def grade(submission: Submission, *, again: bool = False) -> list[Row]:
        if submission.student == "dave":  # unchanged since a run that timed out
            return [Row("dave", "a1", "a1", 0.0, 1.0, "timed-out", "earlier", 9.0)]
        grader._graded_now.add((submission.student, submission.assignment))
        with lock:
            running.append(submission.student)
        time.sleep(0.5)
        with lock:
            beside_others = len(running) > 1
            calls.append((submission.student, beside_others, again))
            running.remove(submission.student)
        status = "timed-out" if beside_others else "graded"
        return [Row(submission.student, "a1", "a1", 0.0, 1.0, status, "", 0.5)]

    monkeypatch.setattr(grader, "grade", grade)
    monkeypatch.setattr(grader, "_prepare_gradebook", lambda assignments, students: {})
    monkeypatch.setattr(grader, "roster_rows", lambda assignments, submitted: [])
    submissions = [
        Submission(student, "a1", tmp_path / "submitted" / student / "a1")
        for student in ("alice", "bob", "carol", "dave")
    ]
    rows = grader.grade_all(submissions, progress=False)
    statuses = {row.student: row.status for row in rows}
    assert statuses == {"alice": "graded", "bob": "graded", "carol": "graded", "dave": "timed-out"}
    late = [student for student, beside, _again in calls if beside]
    assert late, "no submission was graded beside another"
    assert all((student, False, True) in calls for student in late), calls
    assert "Grading again, one at a time, " in capsys.readouterr().out


def test_a_submission_that_ran_out_of_time_on_its_own_costs_one_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endless loop ran out of time beside others and was graded again alone, to run
    out of time again: it cost the time limit twice. Is a submission whose sandbox did not
    wait for a CPU during the limit it ran past graded once, and one that waited only for
    its own quota (more busy processes than cores it may use: all of its CPU used), while
    one that waited long (held up by the host), or whose wait was not measured, is still
    graded again alone?"""
    from lstm_grader import report, sandbox

    _tiny_course(tmp_path)
    monkeypatch.setattr(sandbox, "kernels_share_a_process_limit", lambda: False)
    grader = classgrade.ClassGrader(
        tmp_path, workers=2, force=False, timeout=60, process_per_submission=True
    )
    waits = {"looping": 0.3, "held-up": 9.0, "unmeasured": None, "self-contending": 15.0}
    # CPU time used between the readings: all of a one-core quota, or far less of it
    used = {"held-up": 20.0, "self-contending": 30.0}
    calls: list[tuple[str, bool]] = []

    def grade(submission: Submission, *, again: bool = False) -> list[Row]:
        student = submission.student
        grader._graded_now.add((student, submission.assignment))
        calls.append((student, again))
        path = grader.layout.report_file(student, "a1", "a1")
        path.parent.mkdir(parents=True, exist_ok=True)
        measured = {"limit_seconds": 30, "waited_seconds": waits[student]}
        if student in used:
            measured.update(used_cpu_seconds=used[student], elapsed_seconds=30.05, cpus=1.0)
        report.write_report(path, {"timeout_cpu_wait": measured})
        # alone, only the endless loops run out of time again
        endless = student in ("looping", "self-contending")
        status = "timed-out" if endless or not again else "graded"
        return [Row(student, "a1", "a1", 0.0, 1.0, status, "", 0.5)]

    monkeypatch.setattr(grader, "grade", grade)
    monkeypatch.setattr(grader, "_prepare_gradebook", lambda assignments, students: {})
    monkeypatch.setattr(grader, "roster_rows", lambda assignments, submitted: [])
    submissions = [
        Submission(student, "a1", tmp_path / "submitted" / student / "a1") for student in waits
    ]
    rows = grader.grade_all(submissions, progress=False)
    assert {row.student: row.status for row in rows} == {
        "looping": "timed-out",
        "held-up": "graded",
        "unmeasured": "graded",
        "self-contending": "timed-out",
    }
    assert sorted(calls) == [
        ("held-up", False),
        ("held-up", True),
        ("looping", False),
        ("self-contending", False),
        ("unmeasured", False),
        ("unmeasured", True),
    ]


def _wait(waited: Any, limit: Any = 30, **cpu: Any) -> dict[str, Any]:
    """A grading report whose notebook ran past ``limit`` having waited ``waited`` for a
    CPU, with the CPU readings ``cpu`` (``used_cpu_seconds``, ``elapsed_seconds``,
    ``cpus``) beside the wait."""
    return {"timeout_cpu_wait": {"limit_seconds": limit, "waited_seconds": waited, **cpu}}


@pytest.mark.parametrize(
    ("notebook_report", "held_up"),
    [
        # all of a one-core quota used, however long its own processes waited
        (_wait(30.0, used_cpu_seconds=30.0, elapsed_seconds=30.1, cpus=1.0), False),
        # two cores' quota, used to within less than 5 % of the limit
        (_wait(40.0, used_cpu_seconds=59.0, elapsed_seconds=30.0, cpus=2.0), False),
        # the host took part of its core while it waited
        (_wait(10.0, used_cpu_seconds=20.0, elapsed_seconds=30.0, cpus=1.0), True),
        (_wait(10.0, used_cpu_seconds=28.5, elapsed_seconds=30.0, cpus=1.0), True),
        # short of its quota, but hardly waited: its own sleep or input, not the host
        (_wait(0.5, used_cpu_seconds=1.0, elapsed_seconds=30.0, cpus=1.0), False),
        # no quota or no use read (no control group): the wait alone decides, as before
        (_wait(10.0, used_cpu_seconds=30.0, elapsed_seconds=30.0), True),
        (_wait(10.0, elapsed_seconds=30.0, cpus=1.0), True),
        (_wait(10.0, used_cpu_seconds=None, elapsed_seconds=30.0, cpus=1.0), True),
        (_wait(0.2, used_cpu_seconds="30", elapsed_seconds=30.0, cpus=1.0), False),
        # nothing measured: graded again, as before
        (_wait(None, used_cpu_seconds=30.0, elapsed_seconds=30.0, cpus=1.0), True),
        ({}, True),
    ],
)
def test_a_timeout_reads_as_held_up_only_where_the_host_kept_the_sandbox_from_its_quota(
    notebook_report: dict[str, Any], held_up: bool
) -> None:
    """A notebook that keeps more processes busy than its sandbox's CPU quota allows waits
    for a CPU of its own making, and read as held up: graded again, it cost its limit twice.
    Is a timeout taken for held up only where the sandbox waited and also used less than
    its quota allowed, by the wait alone where its CPU use or quota was not read, and
    always where nothing was measured?"""
    assert classgrade.timed_out_beside_others(notebook_report) is held_up


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    limit=st.integers(1, 3600),
    waited=st.floats(0, 1e5, allow_nan=False),
    cpus=st.sampled_from([0.5, 1.0, 1.5, 2.0, 4.0]),
    late=st.floats(0, 5, allow_nan=False),
    idle=st.floats(0, 1, allow_nan=False),
)
def test_the_cpu_use_only_ever_takes_a_wait_for_the_notebooks_own(
    limit: int, waited: float, cpus: float, late: float, idle: float
) -> None:
    """Over many limits, quotas and waits: does a sandbox that used all its quota allowed
    between the readings never read as held up; and do the CPU readings never make held up
    a timeout the wait alone would not (no notebook gains a second grading from them)?"""
    elapsed = limit + late
    full = _wait(waited, limit, used_cpu_seconds=cpus * elapsed, elapsed_seconds=elapsed, cpus=cpus)
    assert not classgrade.timed_out_beside_others(full)
    used = cpus * elapsed * idle
    some = _wait(waited, limit, used_cpu_seconds=used, elapsed_seconds=elapsed, cpus=cpus)
    if classgrade.timed_out_beside_others(some):
        assert classgrade.timed_out_beside_others(_wait(waited, limit))


def test_grader_errors_give_their_own_exit_status_after_grading_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script running lstm-grade must tell a run where the grader itself failed on a
    submission from one where only learners' notebooks were bad. Does a run with a
    grader-error row still write every row to grades.csv, name the failed notebook and
    the command that grades it again (its assignment's, though an earlier run left the
    row), and exit with its own status (3), while a run of learners' failures alone
    exits 0?"""
    from lstm_grader import sandbox

    statuses = {"alice": "grader-error", "bob": "invalid-notebook"}
    # the rows an earlier grading of another assignment left
    recorded = [Row("carol", "a2", "a2", 0.0, 1.0, "grader-error", "why", 0.1)]

    def grade_all(self, submissions, progress=True, assignments=None) -> list[Row]:
        return [
            Row(s.student, s.assignment, "a1", 0.0, 1.0, statuses[s.student], "why", 0.1)
            for s in submissions
        ]

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    monkeypatch.setattr(classgrade.ClassGrader, "grade_all", grade_all)
    monkeypatch.setattr(classgrade.ClassGrader, "setup_problems", lambda self, subs: [])
    monkeypatch.setattr(classgrade.ClassGrader, "recorded_rows", lambda self, names: recorded)

    def run(root: Path) -> int:
        # a course each: a run keeps its course's lock for the rest of its process
        _tiny_course(root)
        return classgrade.main(
            ["a1", "--root", str(root), "--no-progress", "--process-per-submission"]
        )

    assert run(tmp_path / "failed") == classgrade.EXIT_GRADER_ERRORS == 3
    err = capsys.readouterr().err
    assert "the grader itself failed on 2 notebook(s) (alice/a1/a1, carol/a2/a2" in err
    assert "run lstm-grade a1 a2 to grade them again" in err
    with (tmp_path / "failed" / "grades.csv").open(newline="", encoding="utf-8") as handle:
        written = {row["student"]: row["status"] for row in csv.DictReader(handle)}
    assert written == statuses | {"carol": "grader-error"}

    statuses["alice"] = "graded"
    recorded.clear()
    assert run(tmp_path / "learners") == 0
    assert "grader itself failed" not in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["setup", "gradebook", "grading"])
def test_a_grader_error_says_whether_anything_was_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stage: str
) -> None:
    """An error no submission's own handling caught: before grading began (the gradebook
    being prepared included), nothing was graded (2), and the line guesses no cause (it
    blamed the course's configuration); once it began, each submission graded so far is
    in the gradebook, so the line must not say that nothing was, and the run exits as one
    whose grades.csv was not written (1). Is each said, with the error, and no grades.csv
    written?"""
    from lstm_grader import sandbox

    def fail(*args, **kwargs):
        raise RuntimeError("the disk went away")

    def fail_once_grading(self, *args, **kwargs):
        self.grading_began = True  # as grade_all marks it, with the gradebook prepared
        fail()

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    monkeypatch.setattr(classgrade.ClassGrader, "setup_problems", lambda self, subs: [])
    if stage == "setup":
        monkeypatch.setattr(classgrade, "find_submissions", fail)
    elif stage == "gradebook":
        monkeypatch.setattr(classgrade.ClassGrader, "_prepare_gradebook", fail)
    else:
        monkeypatch.setattr(classgrade.ClassGrader, "grade_all", fail_once_grading)
    _tiny_course(tmp_path)
    status = classgrade.main(
        ["a1", "--root", str(tmp_path), "--no-progress", "--process-per-submission"]
    )
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "(RuntimeError: the disk went away)" in said[0], said
    if stage != "grading":
        assert status == classgrade.EXIT_NOTHING_GRADED
        assert said[0] == (
            "lstm-grade: grader error before grading began, nothing was graded "
            "(RuntimeError: the disk went away)"
        )
    else:
        assert status == classgrade.EXIT_GRADES_NOT_WRITTEN
        assert "nothing was graded" not in said[0]
        assert "what was graded is kept in the gradebook" in said[0]
        assert said[0].endswith("the next run grades only the rest")
    assert not (tmp_path / classgrade.GRADES_FILE).exists()


def _tiny_course_beside_its_gradebook(root: Path) -> list[str]:
    """A tiny course whose assignments a1 and a2 are released, with its SQLite gradebook
    outside it (so the course folder's state alone decides what fails), and its grading
    lock taken once: the arguments that grade its a1 with that gradebook."""
    _tiny_course(root / "course")
    for assignment in ("a1", "a2"):
        _touch(root / "course" / "handout" / assignment / f"{assignment}.ipynb", "{}")
    (root / "gradebook").mkdir()
    (root / "course" / classgrade.LOCK_FILE).touch()
    url = f"sqlite:///{root / 'gradebook' / 'gradebook.db'}"
    return ["a1", "--root", str(root / "course"), "--db-url", url, "--no-progress"]


def _course_files(root: Path) -> dict[str, bytes | None]:
    """Every entry below ``root``, a file's bytes (None for a folder), but the grading
    lock, which holds the pid of the run that took it last."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
        if path.name != classgrade.LOCK_FILE
    }


def test_a_course_folder_that_cannot_be_written_stops_the_run_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The course folder cannot be written (``chattr +i`` for root, its mode otherwise)
    while the gradebook, elsewhere, can: defining an assignment the gradebook lacks then
    could not make its scratch folder, and lstm-grade ended in a raw traceback. Does it
    now grade nothing (2), say in one line which folder refused what and what to do, and
    leave every file as it was?"""
    from test_gradebook_guard import unwritable

    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    args = _tiny_course_beside_its_gradebook(tmp_path)
    course = tmp_path / "course"
    before = _course_files(course)
    with unwritable(course):
        status = classgrade.main([*args, "--process-per-submission"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert status == classgrade.EXIT_NOTHING_GRADED, line
    assert line.startswith("lstm-grade: nothing was graded: cannot make .lstm-grade-define-")
    assert line.endswith(
        f" in {course} ({os.strerror(errno.EPERM if os.geteuid() == 0 else errno.EACCES)}): "
        "let the grader read and write it (its mode, a read-only mount or `chattr +i` stops "
        "it), then run lstm-grade again"
    ), line
    assert _course_files(course) == before


@pytest.mark.parametrize("when", ["before-grading", "after-grading"])
def test_a_submitted_folder_that_cannot_be_listed_is_named_never_read_as_empty(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    when: str,
) -> None:
    """``submitted`` is a file, not a folder: before grading, a listing by pattern found
    no submission in it, and the run wrote grades.csv with nobody's work graded, exit 0;
    replaced mid-run, as the other assignments' rows were read, it ended in a raw
    traceback. Is it named in one line saying what to do, nothing was graded before
    grading (2), and after, the line says what was graded is kept and grades.csv was not
    written (1), never that nothing was graded?"""
    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    args = _tiny_course_beside_its_gradebook(tmp_path)
    submitted = tmp_path / "course" / "submitted"
    graded: list[str] = []

    def grade_all(self, submissions, progress=True, assignments=None) -> list[Row]:
        self.grading_began = True
        graded.extend(s.student for s in submissions)
        shutil.rmtree(submitted)  # replaced while the class was graded
        submitted.write_text("not a folder")
        return [Row(s.student, "a1", "a1", 1.0, 1.0, "graded", "", 0.1) for s in submissions]

    if when == "before-grading":
        shutil.rmtree(submitted)
        submitted.write_text("not a folder")
    else:
        monkeypatch.setattr(classgrade.ClassGrader, "grade_all", grade_all)
    status = classgrade.main([*args, "--process-per-submission"])
    [line] = capsys.readouterr().err.strip().splitlines()
    what_to_do = (
        "a file stands where a folder belongs: move the file away, then run lstm-grade again"
    )
    if when == "before-grading":
        assert status == classgrade.EXIT_NOTHING_GRADED, line
        assert line == (
            "lstm-grade: nothing was graded: cannot use submitted (Not a directory): " + what_to_do
        )
    else:
        assert graded == ["alice", "bob"]
        assert status == classgrade.EXIT_GRADES_NOT_WRITTEN, line
        assert line == (
            "lstm-grade: the run stopped part-way: cannot use submitted (Not a directory): "
            "what was graded is kept in the gradebook, grades.csv was not written; "
            + what_to_do
            + ": it grades only the rest"
        )
    assert not (tmp_path / "course" / classgrade.GRADES_FILE).exists()


def test_kernel_limits_the_grader_may_not_give_stop_the_run_before_grading(
    tmp_path: Path,
) -> None:
    """Started under a lower hard limit of open files than the sandbox gives each process
    (``LimitNOFILE=512`` in a service), and unable to raise it, lstm-grade had every kernel
    die and every notebook a grader error. Does it grade nothing (2), saying in one line
    which limit, its setting and what to do, with every file of the course as it was?"""
    _tiny_course(tmp_path)
    before = _course_files(tmp_path)
    command = [sys.executable, "-m", "lstm_grader.classgrade", "a1", "--no-progress"]
    run = subprocess.run(
        [*under_hard_limit(512), *command, "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == classgrade.EXIT_NOTHING_GRADED, run.stderr
    assert run.stderr.splitlines() == [
        "lstm-grade: nothing was graded:",
        "  the sandbox's limits for each process are above the grader's own hard limits, "
        "which it may not raise: nofile 1024 (c.SandboxKernelManager.open_files) above its "
        "512. Start the grader with higher ones (`ulimit -H`, or a service's Limit...= "
        "settings), or lower those settings",
    ]
    assert _course_files(tmp_path) == before


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("c.CourseDirectory.course_id = undefined_name", "(NameError: name 'undefined_name'"),
        ("c.CourseDirectory.course_id = (", "(SyntaxError: '(' was never closed"),
    ],
    ids=["name-error", "syntax-error"],
)
def test_a_configuration_file_that_cannot_be_run_is_named_with_its_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    said: str,
) -> None:
    """A ``nbgrader_config.py`` that stops with an error was worded as "the course's
    configuration or library cannot be loaded". Does the line name the file, its line and
    the error, and grade nothing?"""
    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    _tiny_course(tmp_path)
    config = tmp_path / "nbgrader_config.py"
    config.write_text(_TINY_CONFIG + setting + "\n", encoding="utf-8")
    line_of_setting = len(_TINY_CONFIG.splitlines()) + 1
    status = classgrade.main(["a1", "--root", str(tmp_path), "--process-per-submission"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert status == classgrade.EXIT_NOTHING_GRADED
    assert line.startswith(
        f"lstm-grade: nothing was graded: the course's configuration {config.resolve()} "
        f"stopped at its line {line_of_setting} {said}"
    ), line
    assert line.endswith("): fix it, then run lstm-grade again"), line
    assert not (tmp_path / classgrade.GRADES_FILE).exists()


def test_a_setting_of_the_wrong_type_names_the_configuration_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting of nbgrader's own with a value of the wrong type was named without the
    file it is in. Is the course's ``nbgrader_config.py`` named before traitlets' words?"""
    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    _tiny_course(tmp_path)
    config = tmp_path / "nbgrader_config.py"
    config.write_text(_TINY_CONFIG + "c.CourseDirectory.course_id = 5\n", encoding="utf-8")
    status = classgrade.main(["a1", "--root", str(tmp_path), "--process-per-submission"])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert status == classgrade.EXIT_NOTHING_GRADED
    assert line == (
        f"lstm-grade: nothing was graded: {config.resolve()}: The 'course_id' trait of a "
        "CourseDirectory instance expected a unicode string, not the int 5."
    )


@pytest.mark.parametrize("roster", ["alice", "nobody"])
def test_a_learner_the_gradebook_refuses_is_named_and_the_others_are_graded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    roster: str,
) -> None:
    """A gradebook that refuses a learner (here a trigger of its own admits only the
    registrar's roster) made nbgrader raise InvalidEntry as lstm-grade added the learners
    who submitted: the run printed nbgrader's traceback and said a grader error had stopped
    it part-way, what was graded kept, though nothing was; later it stopped the whole
    class. Is the refused learner's row now a grader error saying which learner was
    refused, the database's words and the ``nbgrader db`` command that must succeed, while
    the others are graded (3)? And when every learner is refused, is nothing graded (2),
    with that line?"""
    import sqlite3

    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    _tiny_course(tmp_path)
    _touch(tmp_path / "handout" / "a1" / "a1.ipynb", "{}")  # released: its notebooks' rows
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    schema = create_engine(url)
    Base.metadata.create_all(schema)
    schema.dispose()
    with Gradebook(url) as gradebook:  # defined, so no nbgrader run generates it
        gradebook.update_or_create_assignment("a1")
        gradebook.add_notebook("a1", "a1")
    database = sqlite3.connect(tmp_path / "gradebook.db")
    database.execute(
        f"CREATE TRIGGER roster BEFORE INSERT ON student WHEN NEW.id <> '{roster}' "
        "BEGIN SELECT RAISE(ABORT, 'not on the registrar''s roster'); END"
    )
    database.commit()
    database.close()
    graded: list[str] = []

    def grade(self, submission: Submission, **kw: object) -> list[Row]:
        graded.append(submission.student)
        return [Row(submission.student, "a1", "a1", 1.0, 1.0, "graded", "", 0.1)]

    monkeypatch.setattr(classgrade.ClassGrader, "grade", grade)
    status = classgrade.main(
        ["a1", "--root", str(tmp_path), "--no-progress", "--process-per-submission"]
    )
    said = capsys.readouterr().err.strip().splitlines()
    refused = (
        "the gradebook refused to add the learner {} ((sqlite3.IntegrityError) not on the "
        "registrar's roster): make it take the change (`nbgrader db student add {}` must "
        "succeed), then run lstm-grade again"
    )
    if roster == "nobody":
        assert said == ["lstm-grade: nothing was graded: " + refused.format("'alice'", "alice")]
        assert status == classgrade.EXIT_NOTHING_GRADED
        assert not graded
        assert not (tmp_path / classgrade.GRADES_FILE).exists()
    else:
        assert status == classgrade.EXIT_GRADER_ERRORS, said
        assert graded == ["alice"]
        with (tmp_path / classgrade.GRADES_FILE).open(encoding="utf-8") as grades:
            rows = {row["student"]: row for row in csv.DictReader(grades)}
        assert rows["alice"]["status"] == "graded"
        assert rows["bob"]["status"] == "grader-error"
        assert rows["bob"]["reason"] == refused.format("'bob'", "bob")
        assert float(rows["bob"]["score"]) == 0.0
        assert len(said) == 1 and "bob/a1/a1" in said[0], said
    # nbgrader's own notice, a traceback on the terminal of a run that logs nowhere else
    assert not [r for r in caplog.records if "Rolling back session" in r.getMessage()]


def test_too_many_open_files_says_to_raise_the_hard_limit(tmp_path: Path) -> None:
    """lstm-grade raises its own soft limit of open files to the hard one, so the line for
    running out said to raise "the limit (`ulimit -n`)", which is already as high as it
    goes. Does it name the hard limit?"""
    exc = OSError(errno.EMFILE, os.strerror(errno.EMFILE), str(tmp_path / "grades.csv"))
    assert classgrade._os_error_words(exc, tmp_path) == (
        f"cannot make grades.csv in {tmp_path} (Too many open files)",
        "too many files are open: raise the grader's hard limit (`ulimit -Hn`) or give fewer "
        "--workers",
    )


def test_a_gradebook_whose_disk_is_full_says_to_free_space_not_to_mend_the_gradebook(
    tmp_path: Path,
) -> None:
    """A gradebook that cannot grow (SQLite's "database or disk is full", here its page
    limit reached for real) refused a learner, and the line said to make the gradebook
    take the change, the ``nbgrader db`` command to run, which a full disk fails too. Does
    it now say the disk is full and to free some space, with the database's words?"""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    schema = create_engine(url)  # made here: nbgrader would run `alembic` by name
    Base.metadata.create_all(schema)
    schema.dispose()
    with Gradebook(url) as gradebook:
        pages = gradebook.db.execute(text("PRAGMA page_count")).scalar()
        gradebook.db.execute(text(f"PRAGMA max_page_count = {pages}"))
        with (
            pytest.raises(classgrade.GradebookRefused) as refused,
            classgrade._refused_as("add the learner 'bob'", "nbgrader db student add bob"),
        ):
            gradebook.update_or_create_student("bob", first_name="b" * 100_000)
    assert str(refused.value) == (
        "the gradebook refused to add the learner 'bob' ((sqlite3.OperationalError) database "
        "or disk is full): the disk under the gradebook is full: free some space on it, then "
        "run lstm-grade again"
    )


def test_a_library_that_cannot_be_imported_is_named_not_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """nbgrader's gradebook module cannot be imported (an environment without the grading
    extra, or a broken one): the line blamed "the course's configuration or library". Does
    it now say a library cannot be imported, which, and how to install it?"""
    from lstm_grader import sandbox

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    monkeypatch.setitem(sys.modules, "nbgrader.api", None)  # the import machinery refuses it
    _tiny_course(tmp_path)
    status = classgrade.main(
        ["a1", "--root", str(tmp_path), "--no-progress", "--process-per-submission"]
    )
    [line] = capsys.readouterr().err.strip().splitlines()
    assert status == classgrade.EXIT_NOTHING_GRADED
    assert line == (
        "lstm-grade: nothing was graded: a library the grader needs cannot be imported "
        "(ModuleNotFoundError: import of nbgrader.api halted; None in sys.modules): install "
        "the course kit with its grading extra (`lstm-course[grading]`) in the environment "
        "lstm-grade runs from, then run lstm-grade again"
    )


def test_a_scheduler_that_cannot_be_reached_keeps_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Is a --scheduler address where nothing listens still told as the Dask scheduler
    that cannot be reached, not as a file of the course?"""
    require_module("distributed", "Dask distributed (pip install .[grading])")
    from functools import partial

    from lstm_grader import cluster

    with socket.socket() as free:  # a port nothing listens on once closed
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    monkeypatch.setattr(
        cluster, "connect_scheduler", partial(cluster.connect_scheduler, timeout_s=2)
    )
    _tiny_course(tmp_path)
    status = classgrade.main(["a1", "--root", str(tmp_path), "--scheduler", address])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert status == classgrade.EXIT_NOTHING_GRADED
    assert line.startswith(
        f"lstm-grade: cannot reach the Dask scheduler at {address}, nothing was graded (OSError: "
    ), line
    assert line.endswith(
        "start the scheduler (`dask scheduler`), or give --scheduler the address it printed "
        "as 'Scheduler at' (not its dashboard's), then try again"
    )


def test_the_help_names_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    """Does ``lstm-grade --help`` say what each exit status means, grader errors included?"""
    with pytest.raises(SystemExit):
        classgrade.main(["--help"])
    out = capsys.readouterr().out
    for status in ("0", "1", "2", "3", "130, 143"):
        assert f"\n  {status} " in out, status
    assert "grader-error" in out


def test_a_new_process_per_submission_leaves_its_turn_wait_out_of_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a new process per submission, is a run whose kernel waited for its user's
    turn (another grader of the user held it) longer than --timeout still let finish,
    while a run as slow without waiting is stopped?"""
    from types import SimpleNamespace

    from lstm_grader import sandbox

    notes = tmp_path / "waits"
    notes.touch()
    env = {**os.environ, sandbox.TURN_WAITS_ENV: str(notes)}
    grader = SimpleNamespace(root=Path(__file__).resolve().parents[1], timeout=2)
    waits_then_runs = (
        "import time\n"
        "from lstm_grader import sandbox\n"
        "asked = time.monotonic()\n"
        "sandbox._note_turn_wait(asked, None)\n"
        "time.sleep(3.5)\n"
        "sandbox._note_turn_wait(asked, time.monotonic())\n"
        "print('graded')\n"
    )
    monkeypatch.setattr(classgrade, "_NBGRADER_MAIN", waits_then_runs)
    # both runs at once, each timed from its own start: the test then lasts as long as the
    # turn, not the turn and the limit one after the other
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        waits = pool.submit(classgrade.ClassGrader._autograde_in_new_process, grader, [], env)
        # its run noting the wait has started with its command: the slow one may replace it
        given_up = time.monotonic() + 60
        while not notes.read_text() and not waits.done() and time.monotonic() < given_up:
            time.sleep(0.05)
        monkeypatch.setattr(classgrade, "_NBGRADER_MAIN", "import time; time.sleep(30)")
        outcome, _ = classgrade.ClassGrader._autograde_in_new_process(grader, [], env)
        assert outcome == "timed-out"
        outcome, log = waits.result()
    assert (outcome, log.split()[-1]) == ("ran", "graded")
