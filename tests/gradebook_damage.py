"""Gradebooks damaged as a course meets them, for the tests of the course's gradebook check.

Shared by the tests of the check itself (tests/test_gradebook_guard.py), of nbgrader's
commands and of the formgrader (tests/test_formgrader_gradebook.py,
tests/test_formgrader_checks.py): a sound gradebook's bytes, each damage (a page
overwritten, the file cut in half or to nothing, not a database, a table or a column
gone, unwritable, locked), what the check's line says of each, and a snapshot of a
course's files to prove that nothing changed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_or_skip

NOT_READABLE = "is not a readable nbgrader gradebook"
LOCKED = (
    "the gradebook is locked by another program (gradebook.db, still locked after 10 s): "
    "close the formgrader or the other grading run and try again. Nothing was removed or written."
)


def sqlite_url(path: Path, query: str = "") -> str:
    """The SQLAlchemy URL of the SQLite gradebook file ``path``, with ``query`` after."""
    return f"sqlite:///{path}{query}"


@functools.cache
def empty_gradebook_file() -> bytes:
    """The bytes of an empty gradebook with nbgrader's tables (nbgrader's schema, without
    the alembic version stamp, whose ``alembic`` run costs seconds), made once per test
    run (the schema is dozens of SQLite statements) and copied for every test after."""
    import sqlalchemy
    from nbgrader.api import Base

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gradebook.db"
        engine = sqlalchemy.create_engine(sqlite_url(path))
        Base.metadata.create_all(engine)
        engine.dispose()
        return path.read_bytes()


def damaged_bytes(data: bytes, damage: str, gradebook: Path) -> bytes:
    """``data``, a gradebook's bytes, damaged as ``damage`` says: cut in half, one table's
    page overwritten with random bytes, or cut to nothing."""
    if damage == "cut-in-half":
        return data[: len(data) // 2]
    if damage == "cut-to-nothing":
        return b""
    # the first page of the learners' table: the list of tables (page 1) still reads
    connection = sqlite3.connect(gradebook)
    (root,) = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'student'"
    ).fetchone()
    (size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    start = (root - 1) * size
    return data[:start] + os.urandom(size) + data[start + size :]


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """``path`` unwritable for this process while open: immutable (``chattr +i``) for
    root, whom a mode does not stop; read-only by its mode otherwise. Put back after,
    however the test ends."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        require_or_skip(chattr is not None, "chattr (e2fsprogs)")
        made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            # chattr is a component CI installs; a filesystem without immutable files (an
            # overlay, tmpfs) is the machine's, which no install changes
            pytest.skip(f"this filesystem has no immutable files ({made.stderr.strip()})")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(mode & 0o555)
        try:
            yield
        finally:
            path.chmod(mode)


#: What the one line says of each damage (the rest: the file's name, what to do, and that
#: nothing was removed or written).
DAMAGE_SAID = {
    "cut-in-half": "gradebook.db ",
    "page-overwritten": "gradebook.db is damaged (",
    "not-a-database": f"gradebook.db {NOT_READABLE} (file is not a database): ",
    "table-missing": "gradebook.db is not a complete nbgrader gradebook (it lacks the tables grade",
    "column-missing": "gradebook.db is not a complete nbgrader gradebook (it lacks the columns ",
    "read-only": "the gradebook gradebook.db cannot be written: ",
    "locked": LOCKED,
    "write-locked": LOCKED,
}


def course_files(root: Path) -> dict[str, tuple[bool, int, str | None]]:
    """Every entry under ``root``, by path: whether a folder, its mtime and its contents'
    hash. nbgrader's own log of each command is left out: it is the command's to write."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.name == ".nbgrader.log":
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        found[str(path.relative_to(root))] = (path.is_dir(), path.lstat().st_mtime_ns, digest)
    return found


def damage_file(gradebook: Path, damage: str) -> None:
    """Damage ``gradebook`` as ``damage`` says (the damages of the file itself)."""
    if damage in ("cut-in-half", "page-overwritten"):
        gradebook.write_bytes(damaged_bytes(gradebook.read_bytes(), damage, gradebook))
    elif damage == "not-a-database":
        gradebook.write_bytes(os.urandom(gradebook.stat().st_size))
    else:
        connection = sqlite3.connect(gradebook)
        if damage == "table-missing":
            connection.execute("DROP TABLE grade")
        else:
            connection.execute("ALTER TABLE student DROP COLUMN email")
        connection.commit()
        connection.close()


@contextlib.contextmanager
def held(gradebook: Path, damage: str) -> Iterator[None]:
    """The gradebook as ``damage`` leaves it while a command runs: locked by another
    program, or unwritable, for the time of the block; else damaged for good."""
    if damage in ("locked", "write-locked"):
        holder = sqlite3.connect(gradebook, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE" if damage == "locked" else "BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    elif damage == "read-only":
        with unwritable(gradebook):
            yield
    else:
        damage_file(gradebook, damage)
        yield
