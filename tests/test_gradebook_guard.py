"""lstm_grader.gradebook_guard: a gradebook nbgrader cannot use stops autograde and
generate_feedback before they remove a learner's folder.

Fast tests check :func:`~lstm_grader.gradebook_guard.gradebook_problem` on SQLite files
made here, and the guard's installation. The slow tests grade two learners with nbgrader
in a throwaway course, then damage or lock its gradebook and run ``--force`` commands:
every earlier ``autograded/`` and ``feedback/`` folder must stay as it was.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Course, make_course, require_or_skip
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.converters.base import BaseConverter

from lstm_grader.gradebook_guard import (
    LOCK_TIMEOUT_S,
    GradebookUnusable,
    gradebook_problem,
    guard_gradebook,
)

ASSIGNMENT = "05-return-flags"
STUDENTS = ("alice", "bob")
NOT_READABLE = "is not a readable nbgrader gradebook"
LOCKED = (
    "the gradebook is locked by another program (gradebook.db, still locked after 10 s): "
    "close the formgrader or the other grading run and try again. Nothing was removed or written."
)


def _url(path: Path, query: str = "") -> str:
    return f"sqlite:///{path}{query}"


@pytest.fixture
def gradebook(tmp_path: Path) -> Path:
    """An empty gradebook with nbgrader's tables (nbgrader's schema, without the
    alembic version stamp, whose ``alembic`` run costs seconds)."""
    path = tmp_path / "gradebook.db"
    path.write_bytes(_empty_gradebook_file())
    return path


@functools.cache
def _empty_gradebook_file() -> bytes:
    """The bytes of the ``gradebook`` fixture's file, made once per test run (nbgrader's
    schema is dozens of SQLite statements) and copied for every test after."""
    import sqlalchemy
    from nbgrader.api import Base

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gradebook.db"
        engine = sqlalchemy.create_engine(_url(path))
        Base.metadata.create_all(engine)
        engine.dispose()
        return path.read_bytes()


@pytest.fixture
def locker(gradebook: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the gradebook, in autocommit mode: the test takes a lock."""
    connection = sqlite3.connect(gradebook, isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


# --------------------------------------------------------------------------- fast: the check
@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_healthy_gradebook_passes(gradebook: Path, write: bool) -> None:
    before = gradebook.read_bytes()
    assert gradebook_problem(_url(gradebook), write=write) is None
    assert gradebook.read_bytes() == before


def test_a_file_that_is_not_a_database_is_named(gradebook: Path) -> None:
    """Random bytes (the probe's ``head -c 200000 /dev/urandom``): restore from a backup,
    not nbgrader's ``db upgrade``."""
    gradebook.write_bytes(os.urandom(200_000))
    problem = gradebook_problem(_url(gradebook), write=False)
    assert problem is not None
    assert problem.endswith(f"{NOT_READABLE} (file is not a database): restore it from a backup")
    assert "upgrade" not in problem


def test_a_database_without_nbgraders_tables_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    path.write_bytes(b"")  # SQLite reads an empty file as an empty database
    assert gradebook_problem(_url(path), write=True) == (
        f"{path} {NOT_READABLE} (it has none of its tables): restore it from a backup"
    )
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE student (id TEXT)")
    other.commit()
    other.close()
    problem = gradebook_problem(_url(path), write=True)
    assert problem is not None and "is not a complete nbgrader gradebook" in problem
    assert "grade_cells" in problem and "nbgrader db upgrade" in problem


def test_a_missing_gradebook_is_named_and_not_created(tmp_path: Path) -> None:
    """nbgrader would create an empty gradebook and fail every learner on it."""
    path = tmp_path / "gradebook.db"
    problem = gradebook_problem(_url(path), write=False)
    assert problem is not None and problem.startswith(f"there is no gradebook at {path}")
    assert not path.exists()


def test_a_gradebook_not_made_yet_passes_where_the_caller_makes_it(tmp_path: Path) -> None:
    """lstm-grade makes the gradebook before it grades: for it, no SQLite file, or an
    empty database, is none of these problems (and no file is made by the check), while a
    partial gradebook or one that is not a database still is."""
    path = tmp_path / "gradebook.db"
    assert gradebook_problem(_url(path), write=True, new_allowed=True) is None
    assert not path.exists()
    path.write_bytes(b"")
    assert gradebook_problem(_url(path), write=True, new_allowed=True) is None
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE student (id TEXT)")
    other.commit()
    other.close()
    problem = gradebook_problem(_url(path), write=True, new_allowed=True)
    assert problem is not None and "is not a complete nbgrader gradebook" in problem
    path.write_bytes(b"not a database " * 400)
    problem = gradebook_problem(_url(path), write=True, new_allowed=True)
    assert problem is not None and NOT_READABLE in problem


def _hold_assignments(gradebook: Path, *courses: str) -> None:
    """Give ``gradebook`` one assignment of each of ``courses`` (plain SQL: nbgrader's
    ``Gradebook`` would add a course of its own)."""
    connection = sqlite3.connect(gradebook)
    connection.executemany(
        "INSERT INTO assignment (id, name, course_id) VALUES (?, ?, ?)",
        [(f"id-{course}", f"hw-{course}", course) for course in courses],
    )
    connection.commit()
    connection.close()


@pytest.mark.parametrize(
    ("held", "foreign"),
    [
        ((), False),
        (("default_course",), False),
        (("our-course",), False),
        (("their-course", "our-course"), False),
        (("their-course",), True),
        (("their-course", "default_course", "another"), True),
    ],
)
def test_another_courses_gradebook_is_named_only_when_asked(
    gradebook: Path, held: tuple[str, ...], foreign: bool
) -> None:
    """With ``course_id``, a gradebook whose assignments are none of this course's (nor
    nbgrader's ``default_course``) is named, with the courses it holds, and left as it
    was; without ``course_id`` (nbgrader's converters) the course is not checked."""
    _hold_assignments(gradebook, *held)
    before = gradebook.read_bytes()
    problem = gradebook_problem(_url(gradebook), write=True, course_id="our-course")
    if foreign:
        assert problem is not None
        assert "not of this course ('our-course', nbgrader_config.py's course_id)" in problem
        assert "'their-course'" in problem
    else:
        assert problem is None
    assert gradebook_problem(_url(gradebook), write=True) is None
    assert gradebook.read_bytes() == before


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_an_exclusive_lock_is_reported_after_the_short_wait(
    gradebook: Path, locker: sqlite3.Connection, write: bool
) -> None:
    """A lock no reader gets past (``BEGIN EXCLUSIVE`` in a ``sqlite3`` shell) is named
    after the check's own wait, not the URL's 120 s."""
    locker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    problem = gradebook_problem(_url(gradebook, "?timeout=120"), write=write, timeout=0.3)
    assert time.monotonic() - started < 5
    assert problem is not None
    assert problem.startswith("the gradebook is locked by another program (")
    assert problem.endswith(": close the formgrader or the other grading run and try again")


def test_a_write_lock_stops_grading_only(gradebook: Path, locker: sqlite3.Connection) -> None:
    """Another program in the middle of writing still lets feedback read the scores, but
    autograde, which writes, is told."""
    locker.execute("BEGIN IMMEDIATE")
    assert gradebook_problem(_url(gradebook), write=False, timeout=0.3) is None
    problem = gradebook_problem(_url(gradebook), write=True, timeout=0.3)
    assert problem is not None and "locked by another program" in problem
    locker.execute("ROLLBACK")
    assert gradebook_problem(_url(gradebook), write=True, timeout=0.3) is None


def test_the_urls_shorter_timeout_is_kept(gradebook: Path, locker: sqlite3.Connection) -> None:
    locker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    problem = gradebook_problem(_url(gradebook, "?timeout=0.2"), write=True)
    assert time.monotonic() - started < LOCK_TIMEOUT_S / 2
    assert problem is not None and "still locked after 0.2 s" in problem


def test_an_unreachable_server_is_named_without_its_password() -> None:
    """A PostgreSQL gradebook is checked for a connection (and tables), never for SQLite's
    locks; the URL is shown with its password hidden."""
    problem = gradebook_problem("postgresql://grader:s3cret@127.0.0.1:1/course", write=True)
    assert problem is not None and "postgresql://grader:***@127.0.0.1:1/course" in problem
    assert "s3cret" not in problem


def test_an_in_memory_gradebook_is_not_checked() -> None:
    assert gradebook_problem("sqlite://", write=True) is None
    assert gradebook_problem("sqlite:///:memory:", write=True) is None


# --------------------------------------------------------------------------- fast: the guard
@pytest.fixture
def unchecked(monkeypatch) -> list[str]:
    """nbgrader's ``BaseConverter.convert_notebooks`` replaced by a recorder (restored
    after), so the guard wraps the recorder."""
    calls: list[str] = []

    def convert_notebooks(converter) -> None:
        calls.append(type(converter).__name__)

    monkeypatch.setattr(BaseConverter, "convert_notebooks", convert_notebooks)
    return calls


def _converter(kind: type, db_url: str, caplog) -> BaseConverter:
    """A real nbgrader converter of ``kind`` for the gradebook ``db_url``, logging where
    ``caplog`` reads."""
    from nbgrader.coursedir import CourseDirectory

    converter = kind(coursedir=CourseDirectory(db_url=db_url))
    converter.log = logging.getLogger(f"test-{kind.__name__}")
    return converter


def test_the_guard_stops_autograde_and_feedback_before_they_start(
    tmp_path: Path, gradebook: Path, unchecked: list[str], caplog
) -> None:
    """Does a broken gradebook raise (nbgrader's apps exit 1 on it) with one error logged
    before nbgrader's conversion runs, a healthy one go on, and a converter that does not
    use the gradebook this way pass unchecked?"""
    guard_gradebook()
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    for kind in (Autograde, GenerateFeedback):
        caplog.clear()
        with pytest.raises(GradebookUnusable, match=NOT_READABLE):
            BaseConverter.convert_notebooks(_converter(kind, _url(broken), caplog))
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        assert caplog.records[0].getMessage().endswith("Nothing was removed or written.")
    assert unchecked == []
    BaseConverter.convert_notebooks(_converter(Autograde, _url(gradebook), caplog))
    BaseConverter.convert_notebooks(_converter(GenerateAssignment, _url(broken), caplog))
    assert unchecked == ["Autograde", "GenerateAssignment"]


def test_guarding_twice_checks_once(
    gradebook: Path, unchecked: list[str], monkeypatch, caplog
) -> None:
    from lstm_grader import gradebook_guard

    checks: list[str] = []
    monkeypatch.setattr(
        gradebook_guard, "gradebook_problem", lambda url, write: checks.append(url) or None
    )
    guard_gradebook()
    guard_gradebook()
    BaseConverter.convert_notebooks(_converter(GenerateFeedback, _url(gradebook), caplog))
    assert checks == [_url(gradebook)] and unchecked == ["GenerateFeedback"]


def test_the_course_config_installs_the_guard(unchecked: list[str]) -> None:
    """Does reading the course's nbgrader_config.py (as every nbgrader app and the
    formgrader do) put the check in place?"""
    from traitlets.config.loader import PyFileConfigLoader

    assert not getattr(BaseConverter.convert_notebooks, "gradebook_checked_by_lstm_grader", False)
    root = Path(__file__).resolve().parents[1]
    PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    assert getattr(BaseConverter.convert_notebooks, "gradebook_checked_by_lstm_grader", False)


# --------------------------------------------------------------------------- slow: nbgrader
#: The commands that removed every learner's folder before the guard; the formgrader's
#: buttons and lstm-grade run them with --force too.
COMMANDS = {
    "generate_feedback": ("nbgrader", "generate_feedback", ASSIGNMENT, "--force"),
    "autograde": ("nbgrader", "autograde", ASSIGNMENT, "--force"),
}
APPS = {"generate_feedback": "GenerateFeedbackApp", "autograde": "AutogradeApp"}
#: Long enough for a command that starts, waits LOCK_TIMEOUT_S and stops on a loaded host;
#: shorter than nbgrader's own 120 s wait for one learner on a locked gradebook.
COMMAND_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> Path:
    """A course where two learners are autograded and have their feedback."""
    from lstm_grader.sandbox import bwrap_path
    from lstm_grader.synthetic import answered

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path_factory.mktemp("gradebook-guard") / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    submission = answered(course.release(ASSIGNMENT), course.source(ASSIGNMENT))
    for student in STUDENTS:
        course.submit(student, ASSIGNMENT, submission)
    course.run("nbgrader", "autograde", ASSIGNMENT)
    course.run("nbgrader", "generate_feedback", ASSIGNMENT)
    return root


@pytest.fixture
def course(graded_course: Path, tmp_path: Path) -> Course:
    """A copy of the graded course of this test's own."""
    shutil.copytree(graded_course, tmp_path / "course", symlinks=True)
    return Course(tmp_path / "course")


def _learners_work(course: Course) -> dict[str, str]:
    """Each file of the learners' autograded and feedback folders, by path, with a hash
    of its contents."""
    found = {}
    for kind in ("autograded", "feedback"):
        for path in sorted((course.root / kind).rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[str(path.relative_to(course.root))] = digest
    return found


def _assert_stopped(course: Course, command: str, message: str) -> None:
    """Run ``command`` with --force: does it exit 1 with ``message`` as its one error
    line, no traceback and no advice to upgrade, leaving every learner's work as it was?"""
    work = _learners_work(course)
    assert {Path(p).parts[:2] for p in work} == {
        (kind, student) for kind in ("autograded", "feedback") for student in STUDENTS
    }
    started = time.monotonic()
    run = course.run(*COMMANDS[command], check=False, timeout=COMMAND_TIMEOUT_S)
    output = run.stdout + run.stderr
    errors = [line for line in output.splitlines() if "ERROR]" in line]
    assert run.returncode == 1, output
    assert errors == [f"[{APPS[command]} | ERROR] {message}"], output
    assert "Traceback" not in output and "db upgrade" not in output, output
    assert "Removing" not in output, output
    assert _learners_work(course) == work
    assert time.monotonic() - started < COMMAND_TIMEOUT_S


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_corrupt_gradebook_stops_the_command_before_it_removes_anything(
    course: Course, command: str
) -> None:
    """The probe: random bytes in gradebook.db, then ``--force``. nbgrader removed every
    learner's folder and printed tracebacks and ``nbgrader db upgrade``."""
    gradebook = course.root / "gradebook.db"
    gradebook.write_bytes(os.urandom(200_000))
    damaged = gradebook.read_bytes()
    _assert_stopped(
        course,
        command,
        f"gradebook.db {NOT_READABLE} (file is not a database): restore it from a backup. "
        "Nothing was removed or written.",
    )
    assert gradebook.read_bytes() == damaged


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_locked_gradebook_stops_the_command_at_once(course: Course, command: str) -> None:
    """The probe: a ``sqlite3`` shell holding ``BEGIN EXCLUSIVE``. nbgrader waited two
    minutes per learner, then removed that learner's folder."""
    holder = sqlite3.connect(course.root / "gradebook.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        _assert_stopped(course, command, LOCKED)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.slow
def test_a_healthy_gradebook_still_regrades_and_regenerates(course: Course) -> None:
    """With the guard in place, do ``--force`` runs on a healthy gradebook still replace
    every learner's autograded and feedback files?"""
    before = {path: (course.root / path).stat().st_mtime_ns for path in _learners_work(course)}
    time.sleep(0.05)
    for command in ("autograde", "generate_feedback"):
        run = course.run(*COMMANDS[command], timeout=600)
        assert "ERROR]" not in run.stdout + run.stderr
    after = {path: (course.root / path).stat().st_mtime_ns for path in _learners_work(course)}
    assert set(after) == set(before)
    assert all(after[path] > before[path] for path in before)
    assert course.scores("alice", ASSIGNMENT) == course.scores("bob", ASSIGNMENT)


def test_the_readme_states_the_wait() -> None:
    """Does the instructor guide give the check's wait as the code has it?"""
    guide = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"still holds it locked after {LOCK_TIMEOUT_S:g} s" in guide
