"""One SQLAlchemy engine per SQLite gradebook in a grading process, its SQL compiled
before the helper forks.

nbgrader opens the gradebook (:class:`nbgrader.api.Gradebook`) about nine times for each
notebook it autogrades, and each opening creates a new SQLAlchemy engine: a new dialect
that inspects SQLite on its first connection, and an empty cache of compiled statements.
Every opening therefore compiles again the queries the previous one compiled. In a child
forked for one submission, compiling and that first connection were about a third of
the gradebook's share of the child's CPU, paid anew by every submission.

- :func:`install` makes ``nbgrader.api.create_engine`` return one engine per SQLite
  gradebook file and set of options for the life of the process. nbgrader's
  ``Gradebook.close`` still disposes that engine's pool, so in the helper and the class
  command no connection outlives the opening that made it and none is open when the
  helper forks; what is kept is the dialect and the compiled statements, which hold no
  connection and no data.
- :func:`warm`, called by the helper before it forks, fills that cache by doing what
  autograding does (lookups of every kind, a submission, a score written) against a
  *scratch* gradebook: a new SQLite file in a private temporary folder, with nbgrader's
  schema and made-up rows. The course's gradebook is never opened by it, and nothing of
  it is copied. Each forked child then starts with those statements compiled.

- :func:`keep_connections`, called by each forked child first thing, lets the child's
  openings share one connection per gradebook and check the gradebook once: a closed
  gradebook's connection goes back to the engine's pool instead of being closed, and
  what nbgrader checks on every opening (its tables, the course's row) is checked at
  the first opening only. It is for a process that grades one submission and exits,
  never for one that forks or lives on.

Any other database (PostgreSQL) passes through: one engine per opening, as nbgrader
does. Nothing here changes what is read or written, only how often the same SQL is
compiled and the same connection made; a statement the warm-up missed is compiled in
the child, as before.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lstm_grader import safefiles

#: The shared engines, by gradebook URL and the options nbgrader created them with.
_ENGINES: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
#: During :func:`warm`: the gradebook URL whose connections go to a scratch file instead.
_REDIRECTS: dict[str, str] = {}
#: What :func:`warm` gave for each gradebook URL in this process: it runs once per URL.
_WARMED: dict[str, bool] = {}
#: Held while a shared engine is made: the class command's worker threads open the
#: gradebook at once, and each file must still get one engine.
_ENGINES_LOCK = threading.Lock()

#: Whether this process keeps its gradebook connections (see :func:`keep_connections`).
_KEEPING: list[bool] = [False]
#: The SQLite gradebooks (canonical URL, course id) opened in full since
#: :func:`keep_connections`: their tables and course row are there.
_CHECKED: set[tuple[str, str]] = set()
#: nbgrader's own ``Gradebook.__init__``, while :func:`keep_connections` replaces it.
_NBGRADER_INIT: list[Any] = []

#: The names the warm-up's made-up gradebook rows carry.
_WARM_UP_NAME = "warm-up"


def _sqlite_file(url: Any) -> str | None:
    """The canonical URL of a SQLite gradebook kept in a file, or None for any other.

    A relative path is made absolute here, from the folder this process is in now, as
    SQLAlchemy does when it creates an engine: a process in another folder gets
    another engine, for the file it would have opened."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):  # a URI names its own options: pass it through
        return None
    parsed = parsed.set(database=os.path.abspath(parsed.database))
    return parsed.render_as_string(hide_password=False)


def shared_create_engine(url: Any, **options: Any) -> Any:
    """``sqlalchemy.create_engine`` for nbgrader: the same engine again for the same
    SQLite gradebook file and options, a new one for anything else.

    Parameters
    ----------
    url
        The gradebook's database URL, e.g. ``sqlite:////course/gradebook.db``.
    **options
        ``create_engine``'s keyword arguments (nbgrader passes ``echo`` and ``future``).
    """
    # SQLAlchemy's own, never whatever nbgrader.api names now: that is this function
    create_engine = _sqlalchemy_create_engine()
    canonical = _sqlite_file(url)
    if canonical is None:
        return create_engine(url, **options)
    key = (canonical, tuple(sorted(options.items())))
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            from sqlalchemy import event

            engine = create_engine(url, **options)
            event.listen(engine, "do_connect", _redirect_during_warm_up(canonical))
            _keep_when_asked(engine)
            _ENGINES[key] = engine
    return engine


def keep_connections() -> None:
    """From now on, in this process, closing a gradebook keeps its connection for the
    next opening, and each SQLite gradebook's tables and course row are checked at its
    first opening only.

    nbgrader opens and closes the gradebook about ten times per notebook; each opening
    connects anew, lists the database's tables, asks SQLite whether each of its own
    exists (creating any that is missing) and looks up the course's row (creating it if
    missing). A forked child grades one submission and exits, so it can keep one
    connection per gradebook for its whole life: the connection holds no transaction
    between openings (closing a gradebook ends its session, and the pool rolls back
    what it gets back), the process's exit closes it, and the tables and the course
    row, once there, stay: nothing in nbgrader removes them.

    Call it only in a process that grades one submission and exits (the helper's
    children, whose only forks start the kernel and exec at once; SQLite's descriptors
    are closed on exec): a process that forks workers would hand them its connections,
    and one that lives on would hold them open.
    """
    _KEEPING[0] = True
    import nbgrader.api

    if not _NBGRADER_INIT:
        _NBGRADER_INIT.append(nbgrader.api.Gradebook.__init__)
        nbgrader.api.Gradebook.__init__ = _open_checked_once


def _open_checked_once(
    gradebook: Any, db_url: str, course_id: str = "default_course", authenticator: Any = None
) -> None:
    """``nbgrader.api.Gradebook.__init__`` for a process that keeps its connections: the
    first opening of a SQLite gradebook (and course) is nbgrader's own; a later one
    makes the same engine and session and skips the checks the first one made."""
    try:
        canonical = _sqlite_file(db_url)
    except Exception:  # a URL SQLAlchemy cannot read: nbgrader will say so
        canonical = None
    key = (canonical or "", course_id)
    if canonical is None or key not in _CHECKED:
        _NBGRADER_INIT[0](gradebook, db_url, course_id, authenticator)
        # the warm-up's scratch gradebook stands for the course's, which is still unchecked
        if canonical is not None and canonical not in _REDIRECTS:
            _CHECKED.add(key)
        return
    import nbgrader.api
    from sqlalchemy.orm import scoped_session, sessionmaker

    # nbgrader's __init__ (0.9) up to its checks, and what it sets after them
    gradebook.engine = nbgrader.api.create_engine(db_url, echo=False, future=True)
    gradebook.db = scoped_session(sessionmaker(autoflush=True, bind=gradebook.engine, future=True))
    gradebook.course_id = course_id
    gradebook.authenticator = authenticator


def _keep_when_asked(engine: Any) -> None:
    """Make ``engine`` keep its pool, and remember the tables it found, once
    :func:`keep_connections` is in effect; before, it behaves as SQLAlchemy's own."""
    dispose = engine.dispose
    has_table = engine.dialect.has_table
    found: set[tuple[str | None, str]] = set()

    def dispose_unless_kept(close: bool = True) -> None:
        if not _KEEPING[0]:
            dispose(close)

    def has_table_once(
        connection: Any, table_name: str, schema: str | None = None, **kw: Any
    ) -> bool:
        if not _KEEPING[0]:
            return has_table(connection, table_name, schema=schema, **kw)
        if (schema, table_name) in found:
            return True
        exists = has_table(connection, table_name, schema=schema, **kw)
        if exists:
            found.add((schema, table_name))
        return exists

    engine.dispose = dispose_unless_kept
    engine.dialect.has_table = has_table_once


def _dispose(engine: Any) -> None:
    """Close ``engine``'s connections whether or not this process keeps them."""
    type(engine).dispose(engine)


def _sqlalchemy_create_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine


def _redirect_during_warm_up(canonical: str) -> Any:
    """A ``do_connect`` listener: while :func:`warm` runs for this gradebook, connect to
    its scratch file instead (SQLAlchemy's documented hook for changing connect args)."""

    def redirect(dialect: Any, record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        scratch = _REDIRECTS.get(canonical)
        if scratch is None:
            return
        from sqlalchemy.engine import make_url

        scratch_args, scratch_params = dialect.create_connect_args(make_url(scratch))
        cargs[:] = scratch_args
        cparams.clear()
        cparams.update(scratch_params)

    return redirect


def install() -> None:
    """Make nbgrader's gradebooks share one engine per SQLite file in this process.

    Idempotent, and safe from several threads at once. nbgrader.api imports
    ``create_engine`` by name and calls it in ``Gradebook.__init__``; that name is the
    one replaced."""
    import nbgrader.api

    nbgrader.api.create_engine = shared_create_engine


def uninstall() -> None:
    """Give nbgrader back SQLAlchemy's ``create_engine`` and forget every shared engine."""
    import nbgrader.api

    nbgrader.api.create_engine = _sqlalchemy_create_engine()
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            _dispose(engine)
        _ENGINES.clear()
        _WARMED.clear()
    _KEEPING[0] = False
    _CHECKED.clear()
    if _NBGRADER_INIT:
        nbgrader.api.Gradebook.__init__ = _NBGRADER_INIT.pop()


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    import nbgrader.api

    return nbgrader.api.create_engine is shared_create_engine


@contextlib.contextmanager
def _scratch_gradebook(canonical: str) -> Iterator[None]:
    """While open, connections to ``canonical``'s shared engine go to a new SQLite file
    with nbgrader's schema and no rows, in a private temporary folder removed afterwards."""
    from nbgrader.api import Base

    folder = Path(tempfile.mkdtemp(prefix="lstm-gradebook-warm-"))
    scratch = f"sqlite:///{folder / 'gradebook.db'}"
    try:
        # nbgrader's schema made here: a gradebook that finds no tables stamps itself
        # with alembic's version, which runs the alembic command
        schema_engine = _sqlalchemy_create_engine()(scratch)
        Base.metadata.create_all(schema_engine)
        schema_engine.dispose()
        _REDIRECTS[canonical] = scratch
        yield
    finally:
        _REDIRECTS.pop(canonical, None)
        for engine in _engines_for(canonical):
            _dispose(engine)
        safefiles.remove_tree(folder)


def _engines_for(canonical: str) -> list[Any]:
    """The shared engines of one gradebook (one per set of options)."""
    return [engine for (url, _), engine in _ENGINES.items() if url == canonical]


def warm(url: str, course_id: str = "default_course") -> bool:
    """Compile, in this process, the SQL autograding runs on gradebook ``url``, against a
    scratch gradebook; the course's own is not opened.

    Parameters
    ----------
    url
        The gradebook's database URL. Only SQLite files are warmed.
    course_id
        The course id nbgrader opens the gradebook with (its ``CourseDirectory.course_id``).

    Returns
    -------
    bool
        Whether the statements are compiled: False for another database, before
        :func:`install`, or when the warm-up failed (children then compile for themselves).
    """
    try:
        canonical = _sqlite_file(url)
    except Exception:  # a URL SQLAlchemy cannot read: nbgrader will say so
        return False
    if canonical is None or not installed():
        return False
    if canonical not in _WARMED:
        _WARMED[canonical] = _compile_for(url, canonical, course_id)
    return _WARMED[canonical]


def _compile_for(url: str, canonical: str, course_id: str) -> bool:
    from nbgrader.api import Gradebook

    try:
        with warnings.catch_warnings():
            # nbgrader's own submission code makes SQLAlchemy warn about autoflush order
            warnings.simplefilter("ignore")
            with _scratch_gradebook(canonical):
                with Gradebook(url, course_id) as gradebook:
                    _autograde_like(gradebook)
                # a second opening compiles what one does on a gradebook that has rows
                with Gradebook(url, course_id) as gradebook:
                    _autograde_like(gradebook)
    except Exception:  # an optimisation only: children compile for themselves
        return False
    return True


def _autograde_like(gradebook: Any) -> None:
    """The gradebook calls autograding and the class command's report make, on made-up
    rows: nbgrader's ``Autograde``, ``OverwriteCells``, ``SaveAutoGrades`` and
    ``AssignLatePenalties``, this grader's checks and its loading of a notebook's rows
    (:class:`~lstm_grader.notebook_rows.NotebookRows`), and the scores read back."""
    from nbgrader.api import MissingEntry

    name = _WARM_UP_NAME
    gradebook.update_or_create_student(name)
    gradebook.update_or_create_assignment(name)
    gradebook.update_or_create_notebook(name, name)
    gradebook.update_or_create_grade_cell(name, name, name, max_score=1.0, cell_type="code")
    gradebook.update_or_create_solution_cell(name, name, name)
    gradebook.update_or_create_source_cell(
        name, name, name, cell_type="code", locked=False, source="", checksum=""
    )
    task = f"{name}-task"
    gradebook.update_or_create_task_cell(task, name, name, max_score=1.0, cell_type="markdown")
    gradebook.update_or_create_source_cell(
        task, name, name, cell_type="markdown", locked=True, source="", checksum=""
    )
    gradebook.update_or_create_submission(name, name)
    gradebook.find_student(name)
    assignment = gradebook.find_assignment(name)
    _ = [n.name for n in assignment.notebooks]
    notebook = gradebook.find_notebook(name, name)
    _ = (notebook.max_score, [c.name for c in notebook.grade_cells])
    _ = [c.name for c in notebook.task_cells]
    for cell in (name, task):
        gradebook.find_graded_cell(cell, name, name)
        gradebook.find_source_cell(cell, name, name)
    gradebook.find_grade_cell(name, name, name)
    gradebook.find_solution_cell(name, name, name)
    gradebook.find_task_cell(task, name, name)
    submission = gradebook.find_submission(name, name)
    _ = (submission.late_submission_penalty, submission.total_seconds_late)
    submitted = gradebook.find_submission_notebook(name, name, name)
    grade = gradebook.find_grade(name, name, name, name)
    grade.auto_score = 1.0
    gradebook.find_grade(task, name, name, name)
    comment = gradebook.find_comment(name, name, name, name)
    comment.auto_comment = name
    gradebook.db.commit()
    _ = (submitted.score, submitted.max_score, submitted.needs_manual_grade)
    # the grader's own versions of OverwriteCells and SaveAutoGrades load the rows at once
    from lstm_grader.notebook_rows import NotebookRows

    NotebookRows(gradebook, name, name, name)
    _ = [g.manual_score for g in submitted.grades]
    with contextlib.suppress(MissingEntry):
        gradebook.find_submission_notebook(name, name, f"{name}-nobody")
