"""Checking the gradebook before nbgrader's autograde or generate_feedback removes anything.

With ``--force`` (which the formgrader's buttons and ``lstm-grade`` always pass),
nbgrader's converters remove a learner's ``autograded/`` or ``feedback/`` folder first and
open the gradebook afterwards. A gradebook that is not a database, is damaged, or is
locked by another program then fails the learner, and nbgrader's failure handling
removes the folder again: the earlier feedback or autograded work of every learner (a
damaged file, which nbgrader goes on past) or of the first (a lock, which stops it) was
lost, after raw tracebacks, nbgrader's advice to run ``nbgrader db upgrade`` (which
cannot mend any of these) and, for a lock, two minutes of waiting (the course's SQLite
timeout).

:func:`guard_gradebook` puts :func:`gradebook_problem` in front of the conversion: once
per command, before the first learner's folder is touched, the gradebook must open, hold
nbgrader's tables with their columns and, for autograde, which writes scores, take a write
lock (taken and released at once). If it cannot, the command logs one line saying what is
wrong and what to do, and exits with status 1 having removed and written nothing. The
course's ``nbgrader_config.py`` calls it, so plain ``nbgrader``, the formgrader and
``lstm-grade`` are all checked.

Only what applies is checked: a SQLite file fully, its pages too (``PRAGMA quick_check``:
a page overwritten or cut off is otherwise met learner by learner, half-way through a
grading run); any other database (PostgreSQL) for a connection and nbgrader's tables,
since its server keeps its own pages and its writers do not lock readers or one another
out of a whole database.

A SQLite file's pages are read whole by that check, so it is made once per run:
``lstm-grade`` checks them before it grades, and tells the nbgrader runs it starts which
file it checked (:data:`PAGES_CHECKED_ENV`); each of them checks the rest again, and reads
the pages only of another file (one put in the gradebook's place since).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.request import pathname2url

from nbgrader.converters.base import NbGraderException

#: The longest the check waits for another program's lock on a SQLite gradebook, in
#: seconds. Parallel graders (``lstm-grade --workers N``) hold the gradebook for a
#: single commit of a few milliseconds, so a lock still held after this long is the
#: formgrader, another grading run or a SQLite shell keeping it: the instructor hears so
#: at once instead of after the course's 120 s timeout per learner. The gradebook URL's
#: own ``timeout``, when shorter, is used instead.
LOCK_TIMEOUT_S = 10.0

#: Set, in the environment of the nbgrader runs ``lstm-grade`` starts, to the identity of
#: the SQLite gradebook file whose pages it checked before grading
#: (:func:`pages_checked_mark`): those runs do not read the same file's pages again.
PAGES_CHECKED_ENV = "LSTM_GRADE_GRADEBOOK_PAGES_CHECKED"

#: How every line the check stops a command or a formgrader request with ends.
NOTHING_TOUCHED = "Nothing was removed or written."

#: What an instructor is told to do about each kind of problem.
_RESTORE = "restore it from a backup"
_LOCKED = "close the formgrader or the other grading run and try again"


class GradebookUnusable(NbGraderException):
    """The gradebook cannot be used by this command; nothing was removed or written.

    A subclass of nbgrader's ``NbGraderException``, which nbgrader's applications turn
    into exit status 1 without a traceback.
    """


def _nbgrader_tables() -> dict[str, set[str]]:
    """The tables of nbgrader's gradebook schema (``nbgrader.api``), each with its columns."""
    from nbgrader.api import Base

    return {name: set(table.columns.keys()) for name, table in Base.metadata.tables.items()}


def _display_path(path: str) -> str:
    """``path`` as the instructor named it from the course root: relative when inside
    the current folder (nbgrader's converters run from the course root), else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def _sqlite_error_problem(error: sqlite3.Error, name: str, waited: float) -> str:
    """One line for a SQLite error met while checking the gradebook ``name``."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    detail = str(error)
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in detail:
        return (
            f"the gradebook is locked by another program ({name}, still locked after "
            f"{waited:g} s): {_LOCKED}"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return (
            f"the gradebook {name} cannot be written ({detail}): let the grader write to it "
            "and to its folder, then try again"
        )
    if primary == sqlite3.SQLITE_CORRUPT:
        return f"{name} is damaged ({detail}): {_RESTORE}"
    if primary == sqlite3.SQLITE_CANTOPEN:
        return (
            f"the gradebook {name} cannot be opened ({detail}): check that the grader may "
            "read and write it and its folder"
        )
    return f"{name} is not a readable nbgrader gradebook ({detail}): {_RESTORE}"


def _tables_problem(
    found: Mapping[str, set[str]], name: str, new_allowed: bool = False
) -> str | None:
    """Why a database holding the tables ``found`` (each with its columns) is not a
    gradebook nbgrader can use (an empty one is, when ``new_allowed``: nbgrader makes its
    tables).

    nbgrader makes whatever table it misses, empty, as it opens a gradebook, and fails on
    a missing column only when a query names it: a gradebook without its ``grade`` table
    lost every score without a word, and one whose ``student`` table lost a column failed
    every learner it graded."""
    expected = _nbgrader_tables()
    missing = sorted(set(expected) - set(found))
    if new_allowed and not found:
        return None
    if len(missing) == len(expected):
        return (
            f"{name} is not a readable nbgrader gradebook (it has none of its tables): {_RESTORE}"
        )
    lacking = [f"the tables {', '.join(missing)}"] if missing else []
    lacking += [
        f"the columns {', '.join(sorted(expected[table] - columns))} of {table}"
        for table, columns in sorted(found.items())
        if table in expected and expected[table] - columns
    ]
    if not lacking:
        return None
    # a gradebook from an older nbgrader lacks the tables and columns added since; only
    # then is nbgrader's own advice the right one
    return (
        f"{name} is not a complete nbgrader gradebook (it lacks {'; '.join(lacking)}): "
        f"{_RESTORE}, or, if an older nbgrader made it, back it up and run "
        "`nbgrader db upgrade`"
    )


#: The query for the courses a gradebook holds assignments of: plain SQL, because
#: nbgrader's ``Gradebook`` adds its own course as it opens, and another course's gradebook
#: must be left as it is.
_COURSES_QUERY = "SELECT DISTINCT course_id FROM assignment"


def _course_problem(courses: set[str], course_id: str, name: str) -> str | None:
    """Why a gradebook holding assignments of ``courses`` is another course's, or None:
    it holds assignments, none of them ``course_id``'s (one database may hold several
    courses) or nbgrader's ``default_course``, which a gradebook opened without a course id
    writes."""
    if not courses - {"default_course"} or course_id in courses:
        return None
    return (
        f"the gradebook ({name}) holds the grades of {', '.join(map(repr, sorted(courses)))}, "
        f"not of this course ({course_id!r}, nbgrader_config.py's course_id): restore this "
        "course's gradebook, or point --db-url at it"
    )


#: The most problems ``PRAGMA quick_check`` is asked for: the first is named.
_PAGE_PROBLEMS = 3


def _pages_problem(connection: sqlite3.Connection, name: str) -> str | None:
    """Why the SQLite gradebook ``name``, open on ``connection``, is damaged, or None:
    ``PRAGMA quick_check`` reads every page of the file, finding a page overwritten, cut
    off or wrongly linked that reading nbgrader's tables alone does not reach."""
    found = [row[0] for row in connection.execute(f"PRAGMA quick_check({_PAGE_PROBLEMS})")]
    if found == ["ok"] or not found:
        return None
    # each problem's words, without the "*** in database main ***" heading
    first = " ".join(str(found[0]).replace("*** in database main ***", "").split())
    return f"{name} is damaged (SQLite's check of its pages found: {first}): {_RESTORE}"


def _unwritable_problem(path: str, name: str) -> str | None:
    """Why the gradebook file ``path`` or its folder (where SQLite writes its journal)
    cannot be written, or None. ``os.access`` answers for this process, as root too: an
    immutable file or a read-only mount refuses root, which SQLite would see only at the
    first score written, after the grading run had begun."""
    folder = os.path.dirname(path)
    if not os.access(path, os.W_OK):
        what = f"the gradebook {name}"
    elif not os.access(folder, os.W_OK | os.X_OK):
        what = f"the folder of the gradebook {name} (where SQLite keeps its journal)"
    else:
        return None
    return (
        f"{what} cannot be written: let the grader write to the gradebook and its folder "
        "(a read-only mount, `chattr +i` or its mode), then try again"
    )


def _sqlite_problem(
    path: str,
    write: bool,
    timeout: float,
    new_allowed: bool,
    course_id: str | None,
    pages: bool = True,
) -> str | None:
    """:func:`gradebook_problem` for a SQLite gradebook in the file ``path``."""
    name = _display_path(path)
    if not os.path.exists(path):
        if new_allowed:
            return None
        # nbgrader would create an empty gradebook here and fail every learner on it
        return (
            f"there is no gradebook at {name}: {_RESTORE}, or, for a new course, run "
            "`nbgrader generate_assignment` first"
        )
    if os.path.getsize(path) == 0:
        # SQLite reads an empty file as a database without tables, which nbgrader fills
        # with empty ones: a gradebook cut to nothing would lose every grade in silence
        return (
            f"{name} is an empty file, not a gradebook: {_RESTORE}, or, if the course has "
            "no grades yet, delete it"
        )
    if write and (problem := _unwritable_problem(path, name)):
        return problem
    # mode=rw: never create the file; isolation_level=None: no transaction but our own
    uri = "file:" + pathname2url(os.path.abspath(path)) + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as error:
        return _sqlite_error_problem(error, name, timeout)
    try:
        problem = _pages_problem(connection, name) if pages else None
        if problem is None:
            found = {
                table: {column[1] for column in connection.execute(_COLUMNS_QUERY, (table,))}
                for (table,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
            # a SQLite gradebook not made yet has no file: a file without tables is one
            # emptied, whose grades nbgrader's new tables would replace in silence
            problem = _tables_problem(found, name)
        if problem is None and course_id is not None and "assignment" in found:
            courses = {course for (course,) in connection.execute(_COURSES_QUERY)}
            problem = _course_problem(courses, course_id, name)
        if problem is None and write:
            # the lock nbgrader's first write takes, released at once: nothing is written
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        return problem
    except sqlite3.Error as error:
        return _sqlite_error_problem(error, name, timeout)
    finally:
        connection.close()


#: A SQLite table's columns, one row each, the name second.
_COLUMNS_QUERY = "SELECT * FROM pragma_table_info(?)"


def _server_problem(
    url: Any, timeout: float, new_allowed: bool, course_id: str | None
) -> str | None:
    """:func:`gradebook_problem` for a database server's gradebook (PostgreSQL): it can be
    reached and holds nbgrader's tables."""
    import sqlalchemy

    shown = url.render_as_string(hide_password=True)
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # libpq waits for an unreachable host as long as the network does
        connect_args["connect_timeout"] = max(1, round(timeout))
    try:
        engine = sqlalchemy.create_engine(url, connect_args=connect_args)
    except Exception as error:  # no driver, or options the driver refuses
        return f"the gradebook {shown} cannot be opened ({error}): correct NBGRADER_DB_URL"
    try:
        with engine.connect() as connection:
            inspector = sqlalchemy.inspect(connection)
            found = {
                table: {column["name"] for column in inspector.get_columns(table)}
                for table in inspector.get_table_names()
            }
            problem = _tables_problem(found, shown, new_allowed)
            if problem is None and course_id is not None and "assignment" in found:
                rows = connection.execute(sqlalchemy.text(_COURSES_QUERY))
                problem = _course_problem({course for (course,) in rows}, course_id, shown)
    except sqlalchemy.exc.SQLAlchemyError as error:
        detail = " ".join(str(getattr(error, "orig", None) or error).split())
        return (
            f"the gradebook database {shown} cannot be reached ({detail}): start the "
            "database server or correct NBGRADER_DB_URL, then try again"
        )
    finally:
        engine.dispose()
    return problem


def gradebook_problem(
    db_url: str,
    write: bool,
    timeout: float = LOCK_TIMEOUT_S,
    *,
    new_allowed: bool = False,
    course_id: str | None = None,
    pages: bool = True,
) -> str | None:
    """Why the gradebook at ``db_url`` cannot be used now, or None when it can.

    Parameters
    ----------
    db_url : str
        The gradebook's SQLAlchemy URL, as in ``CourseDirectory.db_url``; a relative
        SQLite path is read from the current folder, as nbgrader's own opening does.
    write : bool
        Whether the command writes the gradebook: a SQLite gradebook and its folder must
        then also be writable, and the file take a write lock (``BEGIN IMMEDIATE``,
        rolled back at once).
    timeout : float, optional
        The longest, in seconds, to wait for another program's lock on a SQLite
        gradebook (or to connect to a server); the URL's own SQLite ``timeout`` when
        shorter.
    new_allowed : bool, optional
        Whether a gradebook not made yet (no SQLite file, or a server's database without
        any table) is one the caller makes, as ``lstm-grade`` does before it grades: then
        it is no problem. nbgrader's converters cannot: for them it is one. An empty
        SQLite file, or one without tables, is a problem either way: a gradebook emptied
        by accident would otherwise be filled anew, its grades lost in silence.
    course_id : str, optional
        The course that will write the gradebook, when the caller must not write another
        course's: a gradebook holding assignments, none of them this course's (nor
        nbgrader's ``default_course``), is then a problem. Not checked when None.
    pages : bool, optional
        Whether a SQLite gradebook's pages are checked (``PRAGMA quick_check``, which
        reads the whole file): False where this run checked them already.

    Returns
    -------
    str or None
        One line saying what is wrong and what to do, or None. Nothing is created or
        written either way: a missing SQLite file is reported (or passed), not made. (A
        transaction a crashed writer left half-done, in a ``-journal`` beside the file, is
        rolled back by SQLite as the check opens it, as by any opening: the file is then
        as that writer found it.)
    """
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return _server_problem(url, timeout, new_allowed, course_id)
    path = _sqlite_path(db_url)
    if path is None:
        return None  # in memory (nothing to lose), or a URI naming its own options
    own = url.query.get("timeout")
    if isinstance(own, str):
        try:
            timeout = min(timeout, float(own))
        except ValueError:
            pass  # SQLAlchemy will refuse it when nbgrader connects
    return _sqlite_problem(path, write, timeout, new_allowed, course_id, pages)


def _sqlite_path(db_url: str) -> str | None:
    """The absolute path of the file a SQLite gradebook URL names, or None for any other
    gradebook (a server's, one in memory, a URI naming its own options)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else os.path.abspath(database)


def pages_checked_mark(db_url: str) -> str | None:
    """What :data:`PAGES_CHECKED_ENV` holds once the pages of the SQLite gradebook at
    ``db_url`` were checked: the file's device and inode, so that a file put in its place
    since is checked again. None where there is no such file (nothing to mark).

    Parameters
    ----------
    db_url : str
        The gradebook's SQLAlchemy URL, as for :func:`gradebook_problem`.

    Returns
    -------
    str or None
        ``"<device>:<inode>"``, or None.
    """
    path = _sqlite_path(db_url)
    try:
        found = os.stat(path) if path is not None else None
    except OSError:
        return None
    return None if found is None else f"{found.st_dev}:{found.st_ino}"


class _FileIdentity(NamedTuple):
    """What changes when a file is written or another is put in its place: its device
    and inode, size, and times of last change (``ctime`` cannot be set back by a user)."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int


def _file_identity(path: str) -> _FileIdentity | None:
    """The :class:`_FileIdentity` of the file ``path``, or None where there is none."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return _FileIdentity(
        found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns
    )


class OpeningCheck:
    """The check of the gradebook before each opening by a program that opens it again
    and again (the formgrader, on nearly every request).

    nbgrader's ``Gradebook`` makes every table it misses as it opens, empty: opened on a
    gradebook emptied or missing a table, it makes a database the course's check then
    passes, every grade lost in silence. Each opening is checked as a new course's
    command is, but cheaply where it can be: the tables and columns are read at every
    opening (that is what ``create_all`` would make up); a SQLite file's pages
    (``PRAGMA quick_check``, a read of the whole file) only when the file is not the one
    found sound last time, by device, inode, size and times, so a file written,
    damaged or replaced since is read again. A missing SQLite file (or a database server's
    database without tables) is a new course, which nbgrader makes.
    """

    def __init__(self) -> None:
        self._sound: dict[str, _FileIdentity] = {}

    def problem(self, db_url: str, write: bool) -> str | None:
        """Why nbgrader must not open the gradebook at ``db_url`` now, or None.

        Parameters
        ----------
        db_url : str
            The gradebook's SQLAlchemy URL, as in ``CourseDirectory.db_url``.
        write : bool
            Whether the opening is to write: a SQLite gradebook and its folder must then
            be writable. No write lock is taken: nbgrader's own opening waits for one.

        Returns
        -------
        str or None
            One line saying what is wrong, what to do, and that nothing was touched
            (ending in :data:`NOTHING_TOUCHED`), or None.
        """
        path = _sqlite_path(db_url)
        before = _file_identity(path) if path is not None else None
        pages = before is None or self._sound.get(path or "") != before
        problem = gradebook_problem(db_url, write=False, new_allowed=True, pages=pages)
        if problem is None and write and path is not None and before is not None:
            problem = _unwritable_problem(path, _display_path(path))
        if path is not None:
            # the identity from before the check: a change made while it read is read again
            if problem is None and before is not None:
                self._sound[path] = before
            else:
                self._sound.pop(path, None)
        return f"{problem}. {NOTHING_TOUCHED}" if problem else None


def _always(command: Any) -> bool:
    """Every run of the command opens the gradebook."""
    return True


class _Use(NamedTuple):
    """How a command uses the gradebook: whether it writes it, whether it makes one
    where there is none yet (nbgrader's tables in a new SQLite file), as a new course's
    first command does, and whether this run opens it at all."""

    writes: bool
    makes: bool = False
    opens: Callable[[Any], bool] = _always


_READS = _Use(writes=False)
_WRITES = _Use(writes=True)
_MAKES = _Use(writes=True, makes=True)


def _collect_opens_gradebook(app: Any) -> bool:
    """Whether ``nbgrader collect`` opens the gradebook: nbgrader's own collector does every
    time; the course's (:class:`lstm_grader.collection.SafeExchangeCollect`) only for the
    due date ``--before-duedate`` asks for, so a collection without it is not stopped by a
    gradebook it never reads."""
    from nbgrader.exchange import ExchangeFactory

    from lstm_grader.collection import SafeExchangeCollect

    collector = ExchangeFactory(parent=app).collect(coursedir=app.coursedir, parent=app)
    return collector.before_duedate or not isinstance(collector, SafeExchangeCollect)


def _checked_converters() -> dict[type, _Use]:
    """The converters checked, and how each uses the gradebook. Feedback only reads
    scores (GetGrades), so a gradebook another program is merely writing does not stop
    it; generate_assignment writes the assignment's cells, and makes a new course's
    gradebook, unless told ``--no-db``."""
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback

    return {
        Autograde: _WRITES,
        GenerateFeedback: _READS,
        GenerateAssignment: _MAKES._replace(opens=lambda converter: not converter.no_database),
    }


def _checked_apps() -> dict[type, _Use]:
    """nbgrader's applications that open the gradebook themselves, not through a
    converter, and how each uses it. ``collect`` only reads the assignment's due date;
    ``db upgrade`` is left alone: it is the mending that the check's advice names for an
    older gradebook."""
    from nbgrader.apps.collectapp import CollectApp
    from nbgrader.apps.dbapp import (
        DbAssignmentAddApp,
        DbAssignmentImportApp,
        DbAssignmentListApp,
        DbAssignmentRemoveApp,
        DbStudentAddApp,
        DbStudentImportApp,
        DbStudentListApp,
        DbStudentRemoveApp,
    )
    from nbgrader.apps.exportapp import ExportApp

    return {
        ExportApp: _READS,
        CollectApp: _READS._replace(opens=_collect_opens_gradebook),
        DbStudentListApp: _READS,
        DbAssignmentListApp: _READS,
        DbStudentAddApp: _MAKES,
        DbStudentImportApp: _MAKES,
        DbAssignmentAddApp: _MAKES,
        DbAssignmentImportApp: _MAKES,
        DbStudentRemoveApp: _WRITES,
        DbAssignmentRemoveApp: _WRITES,
    }


def _command_problem(command: Any, checked: Mapping[type, _Use]) -> str | None:
    """:func:`gradebook_problem` for the nbgrader converter or application ``command``,
    used as ``checked`` says (None for one it does not name), ending in what was left
    alone."""
    use = next((u for kind, u in checked.items() if isinstance(command, kind)), None)
    if use is None or not use.opens(command):
        return None
    db_url = command.coursedir.db_url
    # an lstm-grade run checked this file's pages before it started this command
    checked_mark = os.environ.get(PAGES_CHECKED_ENV)
    pages = checked_mark is None or checked_mark != pages_checked_mark(db_url)
    problem = gradebook_problem(db_url, write=use.writes, pages=pages, new_allowed=use.makes)
    return f"{problem}. {NOTHING_TOUCHED}" if problem else None


def guard_gradebook() -> None:
    """Make nbgrader's commands that use the gradebook check it with
    :func:`gradebook_problem` before they remove, read or write anything.

    The converters (``generate_assignment``, ``autograde``, ``generate_feedback``) are
    checked in front of ``BaseConverter.convert_notebooks`` (which nbgrader calls once,
    after finding the submissions and before touching the first learner's folder); a
    problem is logged as one error line and raised as :class:`GradebookUnusable`. The
    applications that open the gradebook themselves (``export``, ``collect``, and ``db
    student`` and ``db assignment``'s ``list``, ``add``, ``import`` and ``remove``) are
    checked in front of their ``start``, and stop with nbgrader's own one logged line.
    Either way the command exits with status 1 and every file stays as it was; a command
    that only reads needs no write lock. Other commands are left alone. Calling it again
    changes nothing. The formgrader's own openings of the gradebook, outside any
    command, are checked before each one
    (:func:`lstm_grader.formgrader_checks.check_formgrader_openings`). A SQLite
    gradebook's pages are not read again where
    :data:`PAGES_CHECKED_ENV` says the ``lstm-grade`` run that started the command
    checked this very file.
    """
    from lstm_grader.converter_checks import check_before_converting, check_before_starting

    flag = "gradebook_checked_by_lstm_grader"
    converters = _checked_converters()
    check_before_converting(
        flag, lambda command: _command_problem(command, converters), GradebookUnusable
    )
    apps = _checked_apps()
    check_before_starting(apps, flag, lambda command: _command_problem(command, apps))
    from lstm_grader.formgrader_checks import check_formgrader_openings

    check_formgrader_openings(OpeningCheck().problem, _collect_opens_gradebook, pages_checked_mark)
