"""lstm_grader.gradebook_engines: nbgrader's openings of one SQLite gradebook share an
engine, no connection outlives an opening unless the process keeps them (a child: one
connection, tables checked once, no lock held between openings), and the warm-up
compiles the statements a real gradebook's lookups then find compiled, without ever
opening that gradebook."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from lstm_grader import gradebook_engines

# nbgrader's own update_or_create_submission makes SQLAlchemy warn about autoflush order
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(autouse=True)
def _installed() -> Iterator[None]:
    gradebook_engines.install()
    yield
    gradebook_engines.uninstall()


@pytest.fixture
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder :mod:`tempfile` makes scratch folders in, this test's alone: a warm-up
    that another process runs at the same time leaves its scratch gradebook in the shared
    one while it works, which is not this test's leftover."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _url(path: Path) -> str:
    return f"sqlite:///{path}?timeout=120"


def _course_gradebook(path: Path) -> str:
    """A gradebook with nbgrader's own rows, made with nbgrader's plain engines (the
    made-up names differ from the warm-up's, so nothing is found by accident)."""
    gradebook_engines.uninstall()
    path.write_bytes(_course_gradebook_file())
    gradebook_engines.install()
    return _url(path)


@functools.cache
def _course_gradebook_file() -> bytes:
    """The bytes of :func:`_course_gradebook`'s file, made once per test run (nbgrader's
    schema and rows are a few hundred SQLite writes) and copied for every test after.
    Call it with the shared engines uninstalled."""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gradebook.db"
        url = _url(path)
        # the schema first: a gradebook that finds no tables runs the alembic command
        schema = create_engine(url)
        Base.metadata.create_all(schema)
        schema.dispose()
        with Gradebook(url, "course") as gradebook:
            gradebook.update_or_create_student("ada")
            gradebook.update_or_create_assignment("05-return-flags")
            gradebook.update_or_create_notebook("05-return-flags", "05-return-flags")
            gradebook.update_or_create_grade_cell(
                "q1", "05-return-flags", "05-return-flags", max_score=2.0, cell_type="code"
            )
            gradebook.update_or_create_source_cell(
                "q1",
                "05-return-flags",
                "05-return-flags",
                cell_type="code",
                locked=True,
                source="assert True",
                checksum="c",
            )
            gradebook.update_or_create_submission("05-return-flags", "ada")
        return path.read_bytes()


def _lookups(url: str) -> None:
    """What autograding asks a gradebook, on the rows :func:`_course_gradebook` made."""
    from nbgrader.api import Gradebook

    with Gradebook(url, "course") as gradebook:
        gradebook.find_assignment("05-return-flags")
        notebook = gradebook.find_notebook("05-return-flags", "05-return-flags")
        assert [cell.name for cell in notebook.grade_cells] == ["q1"]
        gradebook.find_graded_cell("q1", "05-return-flags", "05-return-flags")
        gradebook.find_source_cell("q1", "05-return-flags", "05-return-flags")
        gradebook.find_submission("05-return-flags", "ada")
        submitted = gradebook.find_submission_notebook("05-return-flags", "05-return-flags", "ada")
        grade = gradebook.find_grade("q1", "05-return-flags", "05-return-flags", "ada")
        grade.auto_score = 2.0
        gradebook.db.commit()
        assert submitted.score == 2.0


def _compiled_anew(url: str) -> list[str]:
    """The statements :func:`_lookups` had to compile (SQLAlchemy's cache missed)."""
    from nbgrader.api import create_engine

    engine = create_engine(url, echo=False, future=True)
    missed: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if context is not None and context.cache_hit == context.dialect.CACHE_MISS:
            missed.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        _lookups(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return missed


def _open_files(path: Path) -> list[str]:
    """This process's open file descriptors on ``path`` or its journal."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


def test_openings_of_one_gradebook_share_an_engine(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    url = _course_gradebook(tmp_path / "gradebook.db")
    with Gradebook(url, "course") as first, Gradebook(url, "course") as second:
        assert first.engine is second.engine
    with Gradebook(_course_gradebook(tmp_path / "other.db"), "course") as other:
        assert other.engine is not first.engine


def test_a_relative_gradebook_is_the_file_in_the_folder_it_is_opened_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import create_engine

    engines = []
    for folder in ("a", "b", "a"):
        (tmp_path / folder).mkdir(exist_ok=True)
        monkeypatch.chdir(tmp_path / folder)
        engines.append(create_engine("sqlite:///gradebook.db", echo=False, future=True))
    assert engines[0] is engines[2]
    assert engines[0] is not engines[1]


def test_threads_opening_at_once_share_one_engine_and_never_loop(tmp_path: Path) -> None:
    """The class command's worker threads install and open the gradebook together: each
    file still gets one engine, and another database still gets SQLAlchemy's own (an
    install racing another must never take the shared function for SQLAlchemy's)."""
    from nbgrader.api import Gradebook

    url = _course_gradebook(tmp_path / "gradebook.db")
    gradebook_engines.uninstall()
    start = threading.Barrier(8)
    engines: list[object] = []
    other: list[object] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def open_together() -> None:
        start.wait()
        gradebook_engines.install()
        with Gradebook(url, "course") as gradebook:
            engines.append(gradebook.engine)
        import nbgrader.api

        other.append(nbgrader.api.create_engine("postgresql://grader@localhost/course"))

    try:
        threads = [threading.Thread(target=open_together) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert len(engines) == 8 and len({id(engine) for engine in engines}) == 1
    assert len(other) == 8 and len({id(engine) for engine in other}) == 8


def test_other_databases_get_an_engine_per_opening() -> None:
    from nbgrader.api import create_engine

    for url in ("postgresql://grader@localhost/course", "sqlite://", "sqlite:///:memory:"):
        assert create_engine(url) is not create_engine(url)


def test_no_connection_outlives_an_opening(tmp_path: Path) -> None:
    """What the helper forks holds no connection a child could share."""
    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    _lookups(url)
    assert _open_files(path) == []


def test_uninstall_gives_nbgrader_its_own_engines(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    url = _course_gradebook(tmp_path / "gradebook.db")
    gradebook_engines.uninstall()
    assert not gradebook_engines.installed()
    with Gradebook(url) as first, Gradebook(url) as second:
        assert first.engine is not second.engine


def test_the_warm_up_compiles_what_a_real_gradebook_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    assert gradebook_engines.warm(url, "course")
    assert _compiled_anew(url) == []


def test_without_the_warm_up_the_same_lookups_compile(tmp_path: Path) -> None:
    """The control of the test above: it can fail."""
    url = _course_gradebook(tmp_path / "gradebook.db")
    assert _compiled_anew(url) != []


def test_the_warm_up_never_opens_the_course_gradebook(tmp_path: Path, own_tempdir: Path) -> None:
    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    opened: list[str] = []
    engine_of = gradebook_engines.shared_create_engine(url, echo=False, future=True)

    @event.listens_for(engine_of, "connect")
    def record(dbapi_connection, record) -> None:
        opened.append(dbapi_connection.execute("PRAGMA database_list").fetchall()[0][2])

    assert gradebook_engines.warm(url, "course")
    assert opened, "the warm-up connected to nothing"
    assert str(path) not in opened
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert not list(Path(tempfile.gettempdir()).glob("lstm-gradebook-warm-*"))
    assert _open_files(path) == []
    # afterwards, the engine connects to the course's gradebook again
    _lookups(url)
    assert opened[-1] == str(path)


def test_a_gradebook_that_does_not_exist_yet_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.db"
    assert gradebook_engines.warm(_url(path))
    assert not path.exists()


def test_a_failed_warm_up_leaves_the_engine_on_the_course_gradebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(gradebook) -> None:
        raise RuntimeError("disk full")

    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    monkeypatch.setattr(gradebook_engines, "_autograde_like", fail)
    # a temporary folder of this test's own: another run on the machine warms up in /tmp
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert not gradebook_engines.warm(url, "course")
    assert not gradebook_engines.warm(url, "course")  # once per gradebook, not per request
    _lookups(url)  # finds the course's rows: it reads the real file
    assert not list(scratch.iterdir())


def test_nothing_is_warmed_before_install_or_for_other_databases(tmp_path: Path) -> None:
    assert not gradebook_engines.warm("postgresql://grader@localhost/course")
    assert not gradebook_engines.warm("not a url")
    gradebook_engines.uninstall()
    assert not gradebook_engines.warm(_url(tmp_path / "gradebook.db"))


def _connections_and_table_checks(url: str, openings: int) -> tuple[int, int]:
    """How many connections ``openings`` openings of ``url`` made, and how many times
    they asked SQLite whether a table exists."""
    from nbgrader.api import Gradebook, create_engine

    engine = create_engine(url, echo=False, future=True)
    counts = {"connect": 0, "table_info": 0}

    def connected(dbapi_connection, record) -> None:
        counts["connect"] += 1

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        counts["table_info"] += "table_info" in statement.lower()

    event.listen(engine, "connect", connected)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        for _ in range(openings):
            with Gradebook(url, "course") as gradebook:
                gradebook.find_student("ada")
    finally:
        event.remove(engine, "connect", connected)
        event.remove(engine, "before_cursor_execute", executed)
    return counts["connect"], counts["table_info"]


def test_a_child_that_keeps_connections_connects_and_checks_the_tables_once(
    tmp_path: Path,
) -> None:
    url = _course_gradebook(tmp_path / "gradebook.db")
    connections, first_checks = _connections_and_table_checks(url, 1)
    assert (connections, first_checks > 0) == (1, True)
    gradebook_engines.keep_connections()
    assert _connections_and_table_checks(url, 4) == (1, first_checks)


def test_without_keeping_each_opening_connects_and_checks_the_tables() -> None:
    """The control of the test above: it can fail."""
    with tempfile.TemporaryDirectory() as folder:
        url = _course_gradebook(Path(folder) / "gradebook.db")
        connections, checks = _connections_and_table_checks(url, 4)
        assert connections == 4
        assert checks == 4 * _connections_and_table_checks(url, 1)[1]


def test_a_kept_connection_holds_no_lock_between_openings(tmp_path: Path) -> None:
    """Another grader can write the gradebook while a child's connection waits in its pool."""
    import sqlite3

    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    gradebook_engines.keep_connections()
    _lookups(url)
    assert _open_files(path) != []  # kept
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # fails at once if any lock is held
        other.execute("UPDATE student SET first_name = 'Ada' WHERE id = 'ada'")
        other.execute("COMMIT")
    finally:
        other.close()
    from nbgrader.api import Gradebook

    with Gradebook(url, "course") as gradebook:  # and the kept connection sees the write
        assert gradebook.find_student("ada").first_name == "Ada"


def test_the_warm_up_leaves_no_connection_in_a_process_that_keeps_them(
    tmp_path: Path, own_tempdir: Path
) -> None:
    """Whatever this process keeps, the scratch gradebook's connections are closed."""
    gradebook_engines.keep_connections()
    assert gradebook_engines.warm(_url(tmp_path / "gradebook.db"))
    assert not list(Path(tempfile.gettempdir()).glob("lstm-gradebook-warm-*"))
    # a descriptor on a removed file still names it, followed by " (deleted)"
    assert _open_files(Path(os.path.realpath(tempfile.gettempdir()), "lstm-gradebook-warm-")) == []


def _statements_per_opening(url: str, course: str, openings: int) -> list[int]:
    """How many SQL statements each of ``openings`` openings of ``url`` ran while it
    opened (before anything was asked of it)."""
    from nbgrader.api import Gradebook, create_engine

    engine = create_engine(url, echo=False, future=True)
    statements: list[str] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    counts = []
    event.listen(engine, "before_cursor_execute", executed)
    try:
        for _ in range(openings):
            before = len(statements)
            gradebook = Gradebook(url, course)
            counts.append(len(statements) - before)
            gradebook.find_student("ada")
            gradebook.close()
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    return counts


def test_a_child_that_keeps_connections_checks_each_gradebook_at_its_first_opening(
    tmp_path: Path,
) -> None:
    url = _course_gradebook(tmp_path / "gradebook.db")
    gradebook_engines.keep_connections()
    first, *later = _statements_per_opening(url, "course", 4)
    assert first > 0
    assert later == [0, 0, 0]


def test_without_keeping_every_opening_looks_up_the_course() -> None:
    """The control of the test above: it can fail."""
    with tempfile.TemporaryDirectory() as folder:
        url = _course_gradebook(Path(folder) / "gradebook.db")
        assert all(count > 0 for count in _statements_per_opening(url, "course", 3))


def _courses(path: Path) -> set[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM course")}


def test_another_course_or_gradebook_is_checked_at_its_own_first_opening(tmp_path: Path) -> None:
    """Skipping the checks is per gradebook file and course id: each new one still gets
    its course row, as nbgrader's first opening makes it."""
    from nbgrader.api import Base, Gradebook
    from sqlalchemy import create_engine

    first, second = tmp_path / "one.db", tmp_path / "two.db"
    url = _course_gradebook(first)
    schema = create_engine(_url(second))  # nbgrader's tables, no course row yet
    Base.metadata.create_all(schema)
    schema.dispose()
    gradebook_engines.keep_connections()
    for _ in range(2):
        Gradebook(url, "course").close()
    Gradebook(url, "another").close()
    Gradebook(_url(second), "course").close()
    assert _courses(first) == {"course", "another"}
    assert _courses(second) == {"course"}


def test_the_warm_up_does_not_count_as_the_course_gradebooks_first_opening(
    tmp_path: Path,
) -> None:
    """The warm-up opens a scratch file under the course gradebook's URL: the course's
    own first opening must still make its tables and course row."""
    from nbgrader.api import Gradebook

    path = tmp_path / "gradebook.db"
    url = _course_gradebook(path)
    gradebook_engines.keep_connections()
    assert gradebook_engines.warm(url, "warmed-course")
    Gradebook(url, "warmed-course").close()
    assert "warmed-course" in _courses(path)


def test_uninstall_gives_nbgrader_its_own_opening(tmp_path: Path) -> None:
    import nbgrader.api

    own = nbgrader.api.Gradebook.__init__
    gradebook_engines.keep_connections()
    assert nbgrader.api.Gradebook.__init__ is not own
    gradebook_engines.uninstall()
    assert nbgrader.api.Gradebook.__init__ is own


def test_a_later_opening_is_the_gradebook_nbgrader_would_open(tmp_path: Path) -> None:
    """The shortcut sets what nbgrader's own opening sets, on the same engine: an
    nbgrader whose opening sets more fails here, not in a child."""
    from nbgrader.api import Gradebook

    url = _course_gradebook(tmp_path / "gradebook.db")
    theirs = Gradebook(url, "course")
    gradebook_engines.keep_connections()
    Gradebook(url, "course").close()  # the first opening: nbgrader's own
    ours = Gradebook(url, "course")
    try:
        assert set(vars(ours)) == set(vars(theirs))
        assert (ours.engine, ours.course_id, ours.authenticator) == (
            theirs.engine,
            theirs.course_id,
            theirs.authenticator,
        )
        assert ours.db.get_bind() is ours.engine
        assert ours.find_student("ada").id == "ada"
    finally:
        ours.close()
        theirs.close()
