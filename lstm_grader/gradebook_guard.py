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
nbgrader's tables and, for autograde, which writes scores, take a write lock (taken and
released at once). If it cannot, the command logs one line saying what is wrong and what
to do, and exits with status 1 having removed and written nothing. The course's
``nbgrader_config.py`` calls it, so plain ``nbgrader``, the formgrader and ``lstm-grade``
are all checked.

Only what applies is checked: a SQLite file fully; any other database (PostgreSQL) for a
connection and nbgrader's tables, since its writers do not lock readers or one another
out of a whole database.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any
from urllib.request import pathname2url

from nbgrader.converters.base import NbGraderException

#: The longest the check waits for another program's lock on a SQLite gradebook, in
#: seconds. Parallel graders (``lstm-grade --workers N``) hold the gradebook for a
#: single commit of a few milliseconds, so a lock still held after this long is the
#: formgrader, another grading run or a SQLite shell keeping it: the instructor hears so
#: at once instead of after the course's 120 s timeout per learner. The gradebook URL's
#: own ``timeout``, when shorter, is used instead.
LOCK_TIMEOUT_S = 10.0

#: What an instructor is told to do about each kind of problem.
_RESTORE = "restore it from a backup"
_LOCKED = "close the formgrader or the other grading run and try again"


class GradebookUnusable(NbGraderException):
    """The gradebook cannot be used by this command; nothing was removed or written.

    A subclass of nbgrader's ``NbGraderException``, which nbgrader's applications turn
    into exit status 1 without a traceback.
    """


def _nbgrader_tables() -> set[str]:
    """The tables of nbgrader's gradebook schema (``nbgrader.api``)."""
    from nbgrader.api import Base

    return set(Base.metadata.tables)


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
    if primary == sqlite3.SQLITE_CANTOPEN:
        return (
            f"the gradebook {name} cannot be opened ({detail}): check that the grader may "
            "read and write it and its folder"
        )
    return f"{name} is not a readable nbgrader gradebook ({detail}): {_RESTORE}"


def _tables_problem(found: set[str], name: str, new_allowed: bool = False) -> str | None:
    """Why a database holding the tables ``found`` is not a gradebook nbgrader can use
    (an empty one is, when ``new_allowed``: nbgrader makes its tables)."""
    expected = _nbgrader_tables()
    missing = sorted(expected - found)
    if not missing or (new_allowed and not found):
        return None
    if len(missing) == len(expected):
        return (
            f"{name} is not a readable nbgrader gradebook (it has none of its tables): {_RESTORE}"
        )
    # a gradebook from an older nbgrader lacks the tables added since; only then is
    # nbgrader's own advice the right one
    return (
        f"{name} is not a complete nbgrader gradebook (it lacks the tables "
        f"{', '.join(missing)}): {_RESTORE}, or, if an older nbgrader made it, back it up "
        "and run `nbgrader db upgrade`"
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


def _sqlite_problem(
    path: str, write: bool, timeout: float, new_allowed: bool, course_id: str | None
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
    # mode=rw: never create the file; isolation_level=None: no transaction but our own
    uri = "file:" + pathname2url(os.path.abspath(path)) + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as error:
        return _sqlite_error_problem(error, name, timeout)
    try:
        found = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        problem = _tables_problem(found, name, new_allowed)
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
            found = set(sqlalchemy.inspect(connection).get_table_names())
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
) -> str | None:
    """Why the gradebook at ``db_url`` cannot be used now, or None when it can.

    Parameters
    ----------
    db_url : str
        The gradebook's SQLAlchemy URL, as in ``CourseDirectory.db_url``; a relative
        SQLite path is read from the current folder, as nbgrader's own opening does.
    write : bool
        Whether the command writes the gradebook: a SQLite gradebook must then also take
        a write lock (``BEGIN IMMEDIATE``, rolled back at once).
    timeout : float, optional
        The longest, in seconds, to wait for another program's lock on a SQLite
        gradebook (or to connect to a server); the URL's own SQLite ``timeout`` when
        shorter.
    new_allowed : bool, optional
        Whether a gradebook not made yet (no SQLite file, or a database without any
        table) is one the caller makes, as ``lstm-grade`` does before it grades: then it
        is no problem. nbgrader's converters cannot: for them it is one.
    course_id : str, optional
        The course that will write the gradebook, when the caller must not write another
        course's: a gradebook holding assignments, none of them this course's (nor
        nbgrader's ``default_course``), is then a problem. Not checked when None.

    Returns
    -------
    str or None
        One line saying what is wrong and what to do, or None. Nothing is created or
        written either way: a missing SQLite file is reported (or passed), not made.
    """
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return _server_problem(url, timeout, new_allowed, course_id)
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None  # in memory (nothing to lose), or a URI naming its own options
    own = url.query.get("timeout")
    if isinstance(own, str):
        try:
            timeout = min(timeout, float(own))
        except ValueError:
            pass  # SQLAlchemy will refuse it when nbgrader connects
    return _sqlite_problem(os.path.abspath(database), write, timeout, new_allowed, course_id)


def _checked_converters() -> dict[type, bool]:
    """The converters checked, and whether each writes the gradebook. Feedback only reads
    scores (GetGrades), so a gradebook another program is merely writing does not stop
    it."""
    from nbgrader.converters import Autograde, GenerateFeedback

    return {Autograde: True, GenerateFeedback: False}


def guard_gradebook() -> None:
    """Make nbgrader's ``autograde`` and ``generate_feedback`` check the gradebook with
    :func:`gradebook_problem` before they remove or write anything.

    The check runs once per command, in front of ``BaseConverter.convert_notebooks``
    (which nbgrader calls once, after finding the submissions and before touching the
    first learner's folder). A problem is logged as one error line and raised as
    :class:`GradebookUnusable`, so the command exits with status 1 and every folder
    stays as it was. Other converters are left alone. Calling it again changes nothing.
    """
    from lstm_grader.converter_checks import check_before_converting

    def problem_of(converter: Any) -> str | None:
        writes = next(
            (w for kind, w in _checked_converters().items() if isinstance(converter, kind)),
            None,
        )
        if writes is None:
            return None
        problem = gradebook_problem(converter.coursedir.db_url, write=writes)
        return f"{problem}. Nothing was removed or written." if problem else None

    check_before_converting("gradebook_checked_by_lstm_grader", problem_of, GradebookUnusable)
