"""lstm_grader.gradebook_guard: a gradebook nbgrader cannot use stops autograde and
generate_feedback before they remove a learner's folder.

Fast tests check :func:`~lstm_grader.gradebook_guard.gradebook_problem` on SQLite files
made here, and the guard's installation. The slow tests grade two learners with nbgrader
in a throwaway course, then damage or lock its gradebook and run ``--force`` commands:
every earlier ``autograded/`` and ``feedback/`` folder must stay as it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Course, make_course, require_or_skip
from gradebook_damage import (
    DAMAGE_SAID,
    LOCKED,
    NOT_READABLE,
    course_files,
    damaged_bytes,
    empty_gradebook_file,
    held,
    sqlite_url,
    unwritable,
)
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.converters.base import BaseConverter

from lstm_grader.gradebook_guard import (
    LOCK_TIMEOUT_S,
    PAGES_CHECKED_ENV,
    GradebookUnusable,
    gradebook_problem,
    guard_gradebook,
    pages_checked_mark,
)

ASSIGNMENT = "05-return-flags"
STUDENTS = ("alice", "bob")


@pytest.fixture
def gradebook(tmp_path: Path) -> Path:
    """An empty gradebook with nbgrader's tables (nbgrader's schema, without the
    alembic version stamp, whose ``alembic`` run costs seconds)."""
    path = tmp_path / "gradebook.db"
    path.write_bytes(empty_gradebook_file())
    return path


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
    assert gradebook_problem(sqlite_url(gradebook), write=write) is None
    assert gradebook.read_bytes() == before


def test_a_file_that_is_not_a_database_is_named(gradebook: Path) -> None:
    """Random bytes (the probe's ``head -c 200000 /dev/urandom``): restore from a backup,
    not nbgrader's ``db upgrade``."""
    gradebook.write_bytes(os.urandom(200_000))
    problem = gradebook_problem(sqlite_url(gradebook), write=False)
    assert problem is not None
    assert problem.endswith(f"{NOT_READABLE} (file is not a database): restore it from a backup")
    assert "upgrade" not in problem


def _tableless(path: Path) -> None:
    """Make ``path`` a SQLite database without a table (a header and nothing more)."""
    other = sqlite3.connect(path)
    other.execute("PRAGMA user_version = 1")
    other.close()


def test_a_database_without_nbgraders_tables_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    _tableless(path)
    assert gradebook_problem(sqlite_url(path), write=True) == (
        f"{path} {NOT_READABLE} (it has none of its tables): restore it from a backup"
    )
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE student (id TEXT)")
    other.commit()
    other.close()
    problem = gradebook_problem(sqlite_url(path), write=True)
    assert problem is not None and "is not a complete nbgrader gradebook" in problem
    assert "grade_cells" in problem and "nbgrader db upgrade" in problem


def test_a_table_that_lost_a_column_is_named(gradebook: Path) -> None:
    """nbgrader finds its tables by name and names their columns only in its queries: a
    ``student`` table without ``email`` stopped every learner's grading with a raw
    SQLAlchemy error. Is the column named, with the table, before anything runs?"""
    other = sqlite3.connect(gradebook)
    other.execute("ALTER TABLE student RENAME COLUMN email TO mail")
    other.commit()
    other.close()
    before = gradebook.read_bytes()
    problem = gradebook_problem(sqlite_url(gradebook), write=True, new_allowed=True)
    assert problem == (
        f"{gradebook} is not a complete nbgrader gradebook (it lacks the columns email of "
        "student): restore it from a backup, or, if an older nbgrader made it, back it up "
        "and run `nbgrader db upgrade`"
    )
    assert gradebook.read_bytes() == before


def _with_rows(gradebook: Path) -> bytes:
    """Give ``gradebook`` a class of learners, pages of them (plain SQL, in nbgrader's
    own table); return its bytes."""
    connection = sqlite3.connect(gradebook)
    connection.executemany(
        "INSERT INTO student (id, first_name, last_name, email) VALUES (?, ?, ?, ?)",
        [
            (f"learner-{n:03}", "Ada", "Lovelace", f"learner-{n:03}@example.org" + " " * 150)
            for n in range(120)
        ],
    )
    connection.commit()
    connection.close()
    return gradebook.read_bytes()


@pytest.mark.parametrize("damage", ["cut-in-half", "page-overwritten", "cut-to-nothing"])
@pytest.mark.parametrize("new_allowed", [False, True], ids=["nbgrader", "lstm-grade"])
def test_a_damaged_gradebook_is_named_and_left_as_it_was(
    gradebook: Path, damage: str, new_allowed: bool
) -> None:
    """A page overwritten with garbage passed the check (its tables were listed) and
    failed every learner as a grader error, their earlier work removed; a gradebook cut to
    nothing was taken by lstm-grade for a course not graded yet and filled anew, every
    grade lost without a word. Is each named, with what to do, and left byte for byte?"""
    data = damaged_bytes(_with_rows(gradebook), damage, gradebook)
    gradebook.write_bytes(data)
    problem = gradebook_problem(sqlite_url(gradebook), write=True, new_allowed=new_allowed)
    assert problem is not None and problem.startswith(str(gradebook))
    assert "restore it from a backup" in problem
    assert gradebook.read_bytes() == data
    assert sorted(p.name for p in gradebook.parent.iterdir()) == ["gradebook.db"]


def test_the_pages_are_read_only_when_asked(gradebook: Path) -> None:
    """``pages=False`` is for a run that read this file's pages already: does it still
    check what the rest of the check reads, and skip the pages only?"""
    gradebook.write_bytes(damaged_bytes(_with_rows(gradebook), "page-overwritten", gradebook))
    problem = gradebook_problem(sqlite_url(gradebook), write=True)
    assert problem is not None and "is damaged (SQLite's check of its pages found: " in problem
    assert gradebook_problem(sqlite_url(gradebook), write=True, pages=False) is None
    _tableless(gradebook.parent / "other.db")
    problem = gradebook_problem(sqlite_url(gradebook.parent / "other.db"), write=True, pages=False)
    assert problem is not None and "it has none of its tables" in problem


@pytest.mark.parametrize("which", ["file", "folder"])
def test_an_unwritable_gradebook_or_folder_stops_a_writer_only(gradebook: Path, which: str) -> None:
    """As root, a read-only gradebook passed the write lock (which writes nothing) and
    lstm-grade then failed at its first write with a traceback blaming the course's
    configuration. Is the file, or its folder (SQLite's journal goes there), named for a
    command that writes, and left alone by one that only reads?"""
    before = gradebook.read_bytes()
    with unwritable(gradebook if which == "file" else gradebook.parent):
        problem = gradebook_problem(sqlite_url(gradebook), write=True, new_allowed=True)
        assert gradebook_problem(sqlite_url(gradebook), write=False) is None
    assert problem is not None and problem.endswith(
        "cannot be written: let the grader write to the gradebook and its folder "
        "(a read-only mount, `chattr +i` or its mode), then try again"
    )
    named = "the folder of the gradebook" if which == "folder" else "the gradebook"
    assert problem.startswith(f"{named} {gradebook} ")
    assert gradebook.read_bytes() == before


def test_a_journal_left_beside_the_gradebook_is_sqlites_to_settle(gradebook: Path) -> None:
    """A writer killed mid-transaction (a timed-out grading, a power cut) leaves its
    ``-journal``: SQLite rolls it back at the next opening, so the gradebook is as before
    the transaction, and the check passes. A ``-journal`` or ``-wal`` of garbage is no
    journal to SQLite: the gradebook is left as it is. Is each so?"""
    _with_rows(gradebook)
    before = _rows_of(gradebook)
    _kill_a_writer(gradebook)
    journal = gradebook.with_name("gradebook.db-journal")
    assert journal.stat().st_size > 0, "the killed writer left no journal"
    assert gradebook_problem(sqlite_url(gradebook), write=True) is None
    assert _rows_of(gradebook) == before and not journal.exists()
    for leftover in ("gradebook.db-journal", "gradebook.db-wal"):
        gradebook.with_name(leftover).write_bytes(os.urandom(8192))
        assert gradebook_problem(sqlite_url(gradebook), write=True) is None
        assert _rows_of(gradebook) == before
        gradebook.with_name(leftover).unlink(missing_ok=True)


def _kill_a_writer(gradebook: Path) -> None:
    """Leave a ``-journal`` beside ``gradebook``: a writer that changes every learner's row
    and is killed before it commits."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA cache_size = 1')  # pages reach the file mid-transaction\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "db.execute(\"UPDATE student SET email = 'changed' || randomblob(500)\")\n"
            "os._exit(0)\n",
            str(gradebook),
        ],
        check=True,
    )


def test_a_copy_put_back_beside_an_old_journal_is_changed_by_it(gradebook: Path) -> None:
    """The README tells an instructor who puts a copy back to delete the ``-journal``
    beside the damaged file first. Is that so: does SQLite apply a journal to whatever
    file it finds beside it, so that the copy put back is no longer the copy?"""
    copy = gradebook.read_bytes()
    _with_rows(gradebook)
    _kill_a_writer(gradebook)
    gradebook.write_bytes(copy)  # the journal left where it was
    gradebook_problem(sqlite_url(gradebook), write=True)
    assert gradebook.read_bytes() != copy


def _rows_of(gradebook: Path) -> list[tuple]:
    connection = sqlite3.connect(gradebook)
    try:
        return connection.execute("SELECT * FROM student ORDER BY id").fetchall()
    finally:
        connection.close()


def test_a_missing_gradebook_is_named_and_not_created(tmp_path: Path) -> None:
    """nbgrader would create an empty gradebook and fail every learner on it."""
    path = tmp_path / "gradebook.db"
    problem = gradebook_problem(sqlite_url(path), write=False)
    assert problem is not None and problem.startswith(f"there is no gradebook at {path}")
    assert not path.exists()


def test_a_gradebook_not_made_yet_passes_where_the_caller_makes_it(tmp_path: Path) -> None:
    """lstm-grade makes the gradebook before it grades: for it, no SQLite file is none of
    these problems (and no file is made by the check), while an empty file, a database
    without tables (an emptied gradebook, which nbgrader would fill anew), a partial
    gradebook or one that is not a database still is."""
    path = tmp_path / "gradebook.db"
    assert gradebook_problem(sqlite_url(path), write=True, new_allowed=True) is None
    assert not path.exists()
    path.write_bytes(b"")
    assert gradebook_problem(sqlite_url(path), write=True, new_allowed=True) == (
        f"{path} is an empty file, not a gradebook: restore it from a backup, or, if the "
        "course has no grades yet, delete it"
    )
    _tableless(path)
    problem = gradebook_problem(sqlite_url(path), write=True, new_allowed=True)
    assert problem is not None and "it has none of its tables" in problem
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE student (id TEXT)")
    other.commit()
    other.close()
    problem = gradebook_problem(sqlite_url(path), write=True, new_allowed=True)
    assert problem is not None and "is not a complete nbgrader gradebook" in problem
    path.write_bytes(b"not a database " * 400)
    problem = gradebook_problem(sqlite_url(path), write=True, new_allowed=True)
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
    problem = gradebook_problem(sqlite_url(gradebook), write=True, course_id="our-course")
    if foreign:
        assert problem is not None
        assert "not of this course ('our-course', nbgrader_config.py's course_id)" in problem
        assert "'their-course'" in problem
    else:
        assert problem is None
    assert gradebook_problem(sqlite_url(gradebook), write=True) is None
    assert gradebook.read_bytes() == before


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_an_exclusive_lock_is_reported_after_the_short_wait(
    gradebook: Path, locker: sqlite3.Connection, write: bool
) -> None:
    """A lock no reader gets past (``BEGIN EXCLUSIVE`` in a ``sqlite3`` shell) is named
    after the check's own wait, not the URL's 120 s."""
    locker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    problem = gradebook_problem(sqlite_url(gradebook, "?timeout=120"), write=write, timeout=0.3)
    assert time.monotonic() - started < 5
    assert problem is not None
    assert problem.startswith("the gradebook is locked by another program (")
    assert problem.endswith(": close the formgrader or the other grading run and try again")


def test_a_write_lock_stops_grading_only(gradebook: Path, locker: sqlite3.Connection) -> None:
    """Another program in the middle of writing still lets feedback read the scores, but
    autograde, which writes, is told."""
    locker.execute("BEGIN IMMEDIATE")
    assert gradebook_problem(sqlite_url(gradebook), write=False, timeout=0.3) is None
    problem = gradebook_problem(sqlite_url(gradebook), write=True, timeout=0.3)
    assert problem is not None and "locked by another program" in problem
    locker.execute("ROLLBACK")
    assert gradebook_problem(sqlite_url(gradebook), write=True, timeout=0.3) is None


def test_the_urls_shorter_timeout_is_kept(gradebook: Path, locker: sqlite3.Connection) -> None:
    locker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    problem = gradebook_problem(sqlite_url(gradebook, "?timeout=0.2"), write=True)
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
    """nbgrader's ``BaseConverter.convert_notebooks`` and the ``start`` of each application
    the guard checks replaced by recorders (restored after), so the guard wraps the
    recorders."""
    from lstm_grader.gradebook_guard import _checked_apps

    calls: list[str] = []

    def record(command) -> None:
        calls.append(type(command).__name__)

    monkeypatch.setattr(BaseConverter, "convert_notebooks", record)
    for app in _checked_apps():
        monkeypatch.setattr(app, "start", record)
    return calls


def _converter(kind: type, db_url: str, caplog) -> BaseConverter:
    """A real nbgrader converter of ``kind`` for the gradebook ``db_url``, logging where
    ``caplog`` reads."""
    from nbgrader.coursedir import CourseDirectory

    converter = kind(coursedir=CourseDirectory(db_url=db_url))
    converter.log = logging.getLogger(f"test-{kind.__name__}")
    return converter


def test_the_guard_stops_the_converters_before_they_start(
    tmp_path: Path, gradebook: Path, unchecked: list[str], caplog
) -> None:
    """Does a broken gradebook raise (nbgrader's apps exit 1 on it) with one error logged
    before nbgrader's conversion runs, a healthy one go on, and generate_assignment with
    ``--no-db``, which does not open the gradebook, pass unchecked?"""
    guard_gradebook()
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    for kind in (Autograde, GenerateFeedback, GenerateAssignment):
        caplog.clear()
        with pytest.raises(GradebookUnusable, match=NOT_READABLE):
            BaseConverter.convert_notebooks(_converter(kind, sqlite_url(broken), caplog))
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        assert caplog.records[0].getMessage().endswith("Nothing was removed or written.")
    assert unchecked == []
    BaseConverter.convert_notebooks(_converter(Autograde, sqlite_url(gradebook), caplog))
    no_database = _converter(GenerateAssignment, sqlite_url(broken), caplog)
    no_database.no_database = True
    BaseConverter.convert_notebooks(no_database)
    assert unchecked == ["Autograde", "GenerateAssignment"]


def test_generate_assignment_may_make_a_new_courses_gradebook(
    tmp_path: Path, unchecked: list[str], caplog
) -> None:
    """A new course's first ``generate_assignment`` makes its gradebook: does it go on
    where there is none, while autograde, which cannot grade into a new one, stops?"""
    guard_gradebook()
    missing = sqlite_url(tmp_path / "gradebook.db")
    BaseConverter.convert_notebooks(_converter(GenerateAssignment, missing, caplog))
    with pytest.raises(GradebookUnusable, match="there is no gradebook at "):
        BaseConverter.convert_notebooks(_converter(Autograde, missing, caplog))
    assert unchecked == ["GenerateAssignment"]
    assert not (tmp_path / "gradebook.db").exists()


def _app(kind: type, db_url: str) -> Any:
    """A real nbgrader application of ``kind`` for the gradebook ``db_url``, as its
    ``initialize`` leaves it, logging where ``caplog`` reads."""
    from nbgrader.coursedir import CourseDirectory

    app = kind()
    app.coursedir = CourseDirectory(db_url=db_url)
    app.log = logging.getLogger(f"test-{kind.__name__}")
    return app


def test_the_guard_stops_the_other_gradebook_commands_before_they_start(
    tmp_path: Path, gradebook: Path, unchecked: list[str], caplog
) -> None:
    """``nbgrader export``, ``collect`` and ``db student|assignment list|add|import|remove``
    open the gradebook themselves: does a broken one stop each with one logged error and
    exit status 1 before its own ``start`` runs, and a healthy one let it run?"""
    from lstm_grader.gradebook_guard import _checked_apps

    guard_gradebook()
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    apps = list(_checked_apps())
    assert {app.__name__ for app in apps} >= {
        "ExportApp",
        "CollectApp",
        "DbStudentListApp",
        "DbStudentAddApp",
        "DbStudentImportApp",
        "DbAssignmentListApp",
        "DbAssignmentAddApp",
    }
    for kind in apps:
        caplog.clear()
        with pytest.raises(SystemExit) as stopped:
            kind.start(_app(kind, sqlite_url(broken)))
        assert stopped.value.code == 1
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
            (
                "ERROR",
                f"{broken} {NOT_READABLE} (file is not a database): restore it from a "
                "backup. Nothing was removed or written.",
            )
        ]
    assert unchecked == []
    for kind in apps:
        kind.start(_app(kind, sqlite_url(gradebook)))
    assert unchecked == [app.__name__ for app in apps]


@pytest.mark.parametrize("before_duedate", [False, True])
def test_collect_is_checked_when_it_reads_the_due_date(
    tmp_path: Path, unchecked: list[str], before_duedate: bool
) -> None:
    """The course's collector opens the gradebook only for ``--before-duedate``: is a
    collection without it let through a gradebook it never reads, and one with it
    stopped?"""
    from nbgrader.apps.collectapp import CollectApp
    from traitlets.config import Config

    guard_gradebook()
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    app = _app(CollectApp, sqlite_url(broken))
    config = Config()
    config.ExchangeFactory.collect = "lstm_grader.collection.SafeExchangeCollect"
    config.ExchangeCollect.before_duedate = before_duedate
    app.update_config(config)
    if before_duedate:
        with pytest.raises(SystemExit):
            CollectApp.start(app)
        assert unchecked == []
    else:
        CollectApp.start(app)
        assert unchecked == ["CollectApp"]


def test_a_reader_needs_no_write_lock(
    gradebook: Path, locker: sqlite3.Connection, unchecked: list[str]
) -> None:
    """Another program writing the gradebook (holding SQLite's write lock) does not keep
    ``nbgrader export`` or a ``list`` from reading it: do they go on, where a command
    that writes waits for the lock?"""
    from nbgrader.apps.dbapp import DbAssignmentListApp, DbStudentListApp
    from nbgrader.apps.exportapp import ExportApp

    guard_gradebook()
    locker.execute("BEGIN IMMEDIATE")
    for kind in (ExportApp, DbStudentListApp, DbAssignmentListApp):
        kind.start(_app(kind, sqlite_url(gradebook, "?timeout=0.2")))
    assert unchecked == ["ExportApp", "DbStudentListApp", "DbAssignmentListApp"]


def test_guarding_twice_checks_once(
    gradebook: Path, unchecked: list[str], monkeypatch, caplog
) -> None:
    from lstm_grader import gradebook_guard

    checks: list[str] = []
    monkeypatch.setattr(
        gradebook_guard,
        "gradebook_problem",
        lambda url, write, pages, new_allowed: checks.append(url) or None,
    )
    guard_gradebook()
    guard_gradebook()
    BaseConverter.convert_notebooks(_converter(GenerateFeedback, sqlite_url(gradebook), caplog))
    assert checks == [sqlite_url(gradebook)] and unchecked == ["GenerateFeedback"]


def test_the_pages_are_read_once_per_grading_run(
    tmp_path: Path, gradebook: Path, unchecked: list[str], monkeypatch, caplog
) -> None:
    """Reading every page reads the whole gradebook: for each nbgrader run lstm-grade
    starts, one per submission, a large course's file would be read again. Does a
    command whose environment names this very file as checked (``PAGES_CHECKED_ENV``)
    skip its pages, while one naming nothing, another file, or the file another took the
    place of, reads them?"""
    from lstm_grader import gradebook_guard

    read: list[str] = []
    real = gradebook_guard._pages_problem
    monkeypatch.setattr(
        gradebook_guard,
        "_pages_problem",
        lambda connection, name: read.append(name) or real(connection, name),
    )
    guard_gradebook()
    other = tmp_path / "other.db"
    other.write_bytes(gradebook.read_bytes())

    def reads(mark: str | None) -> int:
        read.clear()
        if mark is None:
            monkeypatch.delenv(PAGES_CHECKED_ENV, raising=False)
        else:
            monkeypatch.setenv(PAGES_CHECKED_ENV, mark)
        BaseConverter.convert_notebooks(_converter(Autograde, sqlite_url(gradebook), caplog))
        return len(read)

    assert reads(None) == 1
    assert reads(pages_checked_mark(sqlite_url(gradebook))) == 0
    assert reads(pages_checked_mark(sqlite_url(other))) == 1
    mark = pages_checked_mark(sqlite_url(gradebook))
    other.replace(gradebook)  # a copy put in its place: another file, read again
    assert reads(mark) == 1
    assert pages_checked_mark(sqlite_url(tmp_path / "none.db")) is None
    assert pages_checked_mark("postgresql://grader@db/course") is None


def test_the_course_config_installs_the_guard(unchecked: list[str]) -> None:
    """Does reading the course's nbgrader_config.py (as every nbgrader app and the
    formgrader do) put the check in place?"""
    from traitlets.config.loader import PyFileConfigLoader

    from lstm_grader.gradebook_guard import _checked_apps

    methods = [BaseConverter.convert_notebooks, *(app.start for app in _checked_apps())]
    assert not any(getattr(m, "gradebook_checked_by_lstm_grader", False) for m in methods)
    root = Path(__file__).resolve().parents[1]
    PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    methods = [BaseConverter.convert_notebooks, *(app.start for app in _checked_apps())]
    assert all(getattr(m, "gradebook_checked_by_lstm_grader", False) for m in methods)


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


def _assert_stopped(course: Course, command: str, message: str, *, whole: bool = True) -> None:
    """Run ``command`` with --force: does it exit 1 with ``message`` as its one error
    line (or its start, unless ``whole``), no traceback and no advice to upgrade, leaving
    every learner's work as it was?"""
    work = _learners_work(course)
    assert {Path(p).parts[:2] for p in work} == {
        (kind, student) for kind in ("autograded", "feedback") for student in STUDENTS
    }
    started = time.monotonic()
    run = course.run(*COMMANDS[command], check=False, timeout=COMMAND_TIMEOUT_S)
    output = run.stdout + run.stderr
    errors = [line for line in output.splitlines() if "ERROR]" in line]
    assert run.returncode == 1, output
    if whole:
        assert errors == [f"[{APPS[command]} | ERROR] {message}"], output
    else:
        assert len(errors) == 1 and errors[0].startswith(f"[{APPS[command]} | ERROR] {message}")
        assert errors[0].endswith("restore it from a backup. Nothing was removed or written.")
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
def test_a_gradebook_with_a_page_overwritten_stops_the_command_before_it_removes_anything(
    course: Course, command: str
) -> None:
    """One page of the learners' table overwritten with garbage: the tables were still
    listed, and nbgrader went on. autograde removed each learner's folder and failed on
    that learner; generate_feedback removed and made every page again from a gradebook it
    could not wholly read, exit status 0. Is the damage found by reading the pages,
    before any folder is touched?"""
    gradebook = course.root / "gradebook.db"
    damaged = damaged_bytes(gradebook.read_bytes(), "page-overwritten", gradebook)
    gradebook.write_bytes(damaged)
    _assert_stopped(
        course,
        command,
        "gradebook.db is damaged (",
        whole=False,
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


# ------------------------------------------------------ slow: the other instructor commands
#: The course's own id (nbgrader_config.py), under which the exchange keeps submissions.
COURSE_ID = "keras-recurrent-layers"

#: Each command an instructor runs from the course root that opens the gradebook without
#: being a converter of autograde's kind, as run here.
INSTRUCTOR_COMMANDS = {
    "export": ("export",),
    "generate_assignment": ("generate_assignment", ASSIGNMENT, "--force"),
    "db student list": ("db", "student", "list"),
    "db student add": ("db", "student", "add", "dave"),
    "db student import": ("db", "student", "import", "students.csv"),
    "db student remove": ("db", "student", "remove", "bob"),
    "db assignment list": ("db", "assignment", "list"),
    "db assignment add": ("db", "assignment", "add", "extra"),
    "db assignment import": ("db", "assignment", "import", "assignments.csv"),
    "db assignment remove": ("db", "assignment", "remove", "spare"),
    "collect": ("collect", ASSIGNMENT, "--before-duedate"),
}
#: The application that logs each command's line.
INSTRUCTOR_APPS = {
    "export": "ExportApp",
    "generate_assignment": "GenerateAssignmentApp",
    "db student list": "DbStudentListApp",
    "db student add": "DbStudentAddApp",
    "db student import": "DbStudentImportApp",
    "db student remove": "DbStudentRemoveApp",
    "db assignment list": "DbAssignmentListApp",
    "db assignment add": "DbAssignmentAddApp",
    "db assignment import": "DbAssignmentImportApp",
    "db assignment remove": "DbAssignmentRemoveApp",
    "collect": "CollectApp",
}
#: Each command with the damage it meets: every command once, every damage at least once,
#: each lock and the read-only file on commands that must write.
DAMAGED_RUNS = [
    ("export", "page-overwritten"),
    ("generate_assignment", "cut-in-half"),
    ("db student list", "not-a-database"),
    ("db student add", "column-missing"),
    ("db student import", "read-only"),
    ("db student remove", "write-locked"),
    ("db assignment list", "locked"),
    ("db assignment add", "table-missing"),
    ("db assignment import", "page-overwritten"),
    ("db assignment remove", "cut-in-half"),
    ("collect", "not-a-database"),
]


def _instructor_course(course_factory) -> Course:
    """A course made by the test helpers, with what each instructor command works on: two
    learners and a spare assignment in the gradebook, rosters to import, a submission in
    the exchange to collect."""
    import datetime

    from nbgrader.api import Gradebook

    course = course_factory(ASSIGNMENT)
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in STUDENTS:
            gradebook.add_student(student)
        gradebook.add_assignment("spare")
    (course.root / "students.csv").write_text("id,first_name\ncarol,Carol\n")
    (course.root / "assignments.csv").write_text("name\nimported\n")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    stamp = f"{now:%Y-%m-%d %H:%M:%S.%f} UTC"
    inbound = course.root / "exchange" / COURSE_ID / "inbound" / f"bob+{ASSIGNMENT}+{stamp}+x1"
    inbound.mkdir(parents=True)
    (inbound / "timestamp.txt").write_text(stamp)
    release = course.layout.release(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    shutil.copy(release, inbound / release.name)
    return course


@pytest.mark.slow
@pytest.mark.parametrize(("command", "damage"), DAMAGED_RUNS)
def test_each_instructor_command_stops_on_a_damaged_gradebook_touching_nothing(
    course_factory, command: str, damage: str
) -> None:
    """nbgrader's export, generate_assignment, collect and db commands met a damaged,
    unwritable or locked gradebook with a traceback (or two minutes of waiting), some
    after writing grades-nbgrader.csv, emptying exercises/ or adding nbgrader's tables to
    the gradebook, some ending with status 0. Does each stop with one line, status 1,
    every file of the course (the gradebook included) as it was?"""
    course = _instructor_course(course_factory)
    gradebook = course.root / "gradebook.db"
    locks = damage in ("locked", "write-locked")
    # the files are read with the lock not yet held: closing any of the gradebook's file
    # descriptors in this process drops the POSIX locks SQLite holds on it
    before = None if not locks else course_files(course.root)
    with held(gradebook, damage):
        before = before or course_files(course.root)
        run = course.run(
            "nbgrader", *INSTRUCTOR_COMMANDS[command], check=False, timeout=COMMAND_TIMEOUT_S
        )
    output = run.stdout + run.stderr
    errors = [line for line in output.splitlines() if "ERROR]" in line or "CRITICAL]" in line]
    assert run.returncode == 1, output
    assert len(errors) == 1, output
    assert errors[0].startswith(f"[{INSTRUCTOR_APPS[command]} | ERROR] {DAMAGE_SAID[damage]}")
    assert errors[0].endswith(". Nothing was removed or written."), output
    # nbgrader's own advice to upgrade, which mends none of these (the check gives it
    # only for a gradebook lacking tables, as an older nbgrader's does)
    rest = output.replace(errors[0], "")
    assert "Traceback" not in output and "db upgrade" not in rest, output
    assert course_files(course.root) == before


def _students(course: Course) -> set[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gradebook:
        return {student.id for student in gradebook.students}


def _assignments(course: Course) -> set[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}", COURSE_ID) as gradebook:
        return {assignment.name for assignment in gradebook.assignments}


@pytest.mark.slow
def test_each_instructor_command_still_works_on_a_sound_gradebook(course_factory) -> None:
    """With the guard in place, does each command still do its work on a sound gradebook,
    without an error line?"""
    course = _instructor_course(course_factory)

    def run(command: str) -> str:
        result = course.run("nbgrader", *INSTRUCTOR_COMMANDS[command], timeout=COMMAND_TIMEOUT_S)
        output = result.stdout + result.stderr
        assert "ERROR]" not in output and "CRITICAL]" not in output, output
        return output

    assert "alice" in run("db student list") and "spare" in run("db assignment list")
    run("export")
    assert "alice" in (course.root / "grades-nbgrader.csv").read_text()
    run("db student add")
    run("db student import")
    run("db student remove")
    assert _students(course) == {"alice", "carol", "dave"}
    run("db assignment add")
    run("db assignment import")
    run("db assignment remove")
    assert _assignments(course) == {ASSIGNMENT, "extra", "imported"}
    run("collect")
    assert (course.root / "submitted" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    release = course.layout.release(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    made = release.stat().st_mtime_ns
    run("generate_assignment")
    assert release.stat().st_mtime_ns > made


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["read-only", "write-locked"])
def test_a_reader_works_on_a_gradebook_it_cannot_write(course_factory, damage: str) -> None:
    """A gradebook another program is writing, or that cannot be written (as root: `chattr
    +i`), is still read: do export and the lists go on, the gradebook as it was?"""
    course = _instructor_course(course_factory)
    gradebook = course.root / "gradebook.db"
    data = gradebook.read_bytes()
    with held(gradebook, damage):
        for command in ("export", "db student list"):
            run = course.run("nbgrader", *INSTRUCTOR_COMMANDS[command], timeout=COMMAND_TIMEOUT_S)
            assert "ERROR]" not in run.stdout + run.stderr
    assert (course.root / "grades-nbgrader.csv").is_file()
    assert gradebook.read_bytes() == data
