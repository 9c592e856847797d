"""lstm_grader.formgrader_checks: the formgrader opens no gradebook the course's check refuses.

Fast tests of the opening check (:class:`lstm_grader.gradebook_guard.OpeningCheck`) on
SQLite files made here, and of the wrappers put in front of nbgrader's two openings; the
real formgrader is asked over HTTP in tests/test_formgrader_gradebook.py.
"""

from __future__ import annotations

import os
import sqlite3
import types
from pathlib import Path
from typing import Any

import pytest
from gradebook_damage import (
    DAMAGE_SAID,
    damage_file,
    empty_gradebook_file,
    sqlite_url,
    unwritable,
)
from nbgrader.apps.api import NbGraderAPI
from nbgrader.server_extensions.formgrader.base import BaseHandler

from lstm_grader import gradebook_guard
from lstm_grader.formgrader_checks import (
    _KEPT_FILE,
    GradebookRefused,
    check_formgrader_openings,
)
from lstm_grader.gradebook_guard import (
    NOTHING_TOUCHED,
    OpeningCheck,
    guard_gradebook,
    pages_checked_mark,
)

EMPTIED_SAID = "gradebook.db is an empty file, not a gradebook: "


@pytest.fixture
def gradebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sound, empty gradebook, in the current folder (the formgrader's course root), so
    the lines name it as ``gradebook.db``."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "gradebook.db"
    path.write_bytes(empty_gradebook_file())
    return path


@pytest.fixture
def pages_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every reading of a SQLite file's pages (``PRAGMA quick_check``), by file name."""
    read: list[str] = []
    real = gradebook_guard._pages_problem

    def counted(connection: sqlite3.Connection, name: str) -> str | None:
        read.append(name)
        return real(connection, name)

    monkeypatch.setattr(gradebook_guard, "_pages_problem", counted)
    return read


# ------------------------------------------------------------------------ the opening check
@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_sound_gradebook_opens(gradebook: Path, write: bool) -> None:
    assert OpeningCheck().problem(sqlite_url(gradebook), write=write) is None


@pytest.mark.parametrize(
    "damage", ["cut-to-nothing", "page-overwritten", "not-a-database", "table-missing"]
)
def test_a_damaged_gradebook_is_refused_and_left_as_it_was(gradebook: Path, damage: str) -> None:
    """nbgrader's Gradebook filled an emptied file with empty tables and gave one missing a
    table that table back, empty. Is each refused with the check's line, byte for byte
    untouched?"""
    if damage == "cut-to-nothing":
        gradebook.write_bytes(b"")
    else:
        damage_file(gradebook, damage)
    data = gradebook.read_bytes()
    line = OpeningCheck().problem(sqlite_url(gradebook), write=False)
    said = EMPTIED_SAID if damage == "cut-to-nothing" else DAMAGE_SAID[damage]
    assert line is not None and line.startswith(said), line
    assert line.endswith(f". {NOTHING_TOUCHED}") and "\n" not in line
    assert gradebook.read_bytes() == data
    assert sorted(p.name for p in gradebook.parent.iterdir()) == ["gradebook.db"]


def test_a_missing_gradebook_is_a_new_course_and_is_not_made(tmp_path: Path) -> None:
    """A course with no gradebook file yet is new: nbgrader makes it as it opens. Does the
    check pass it, making nothing itself?"""
    missing = tmp_path / "gradebook.db"
    assert OpeningCheck().problem(sqlite_url(missing), write=True) is None
    assert not missing.exists()


def test_an_unwritable_gradebook_is_refused_to_a_writer_only(gradebook: Path) -> None:
    with unwritable(gradebook):
        check = OpeningCheck()
        assert check.problem(sqlite_url(gradebook), write=False) is None
        line = check.problem(sqlite_url(gradebook), write=True)
    assert line is not None and line.startswith(DAMAGE_SAID["read-only"]), line


def test_the_pages_are_read_once_per_file_and_the_tables_at_every_opening(
    gradebook: Path, pages_read: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The formgrader opens the gradebook on nearly every request: are the pages read only
    when the file is not the one found sound last time (written since, or another put in
    its place), and the tables, which nbgrader would make up, checked every time?"""
    tables_read: list[str] = []
    real_tables = gradebook_guard._tables_problem

    def counted(found: Any, name: str, new_allowed: bool = False) -> str | None:
        tables_read.append(name)
        return real_tables(found, name, new_allowed)

    monkeypatch.setattr(gradebook_guard, "_tables_problem", counted)
    check, url = OpeningCheck(), sqlite_url(gradebook)
    for _ in range(3):
        assert check.problem(url, write=True) is None
    assert (len(pages_read), len(tables_read)) == (1, 3)
    connection = sqlite3.connect(gradebook)
    connection.execute("INSERT INTO student (id) VALUES ('carol')")
    connection.commit()
    connection.close()
    assert check.problem(url, write=False) is None
    assert len(pages_read) == 2
    other = gradebook.parent / "other.db"
    other.write_bytes(gradebook.read_bytes())
    os.replace(other, gradebook)
    assert check.problem(url, write=False) is None
    assert (len(pages_read), len(tables_read)) == (3, 5)


def test_a_file_damaged_after_it_was_found_sound_is_read_again(gradebook: Path) -> None:
    """A page overwritten while the formgrader runs: is it found at the next opening,
    though the file was found sound before?"""
    check, url = OpeningCheck(), sqlite_url(gradebook)
    assert check.problem(url, write=False) is None
    damage_file(gradebook, "page-overwritten")
    line = check.problem(url, write=False)
    assert line is not None and line.startswith(DAMAGE_SAID["page-overwritten"]), line


# ------------------------------------------------------------------------ the formgrader's wrappers
class _Kept:
    """A stand-in for the ``Gradebook`` the formgrader keeps: it records being closed."""

    closed = False

    def close(self) -> None:
        self.closed = True


def _handler(db_url: str, method: str, kept: Any = None) -> Any:
    """What ``BaseHandler.gradebook`` reads of a request's handler."""
    return types.SimpleNamespace(
        db_url=db_url,
        settings={"nbgrader_gradebook": kept, _KEPT_FILE: pages_checked_mark(db_url)},
        request=types.SimpleNamespace(method=method),
        coursedir=types.SimpleNamespace(course_id="course"),
        log=types.SimpleNamespace(debug=lambda *args: None),
    )


def test_the_kept_gradebook_is_not_opened_on_a_damaged_file(gradebook: Path) -> None:
    """Is the gradebook the server keeps refused (and closed, so the file restored is
    opened anew) when the file is damaged, and the request stopped with the line?"""
    check_formgrader_openings(OpeningCheck().problem, lambda api: True, pages_checked_mark)
    damage_file(gradebook, "table-missing")
    kept = _Kept()
    handler = _handler(sqlite_url(gradebook), "PUT", kept)
    with pytest.raises(GradebookRefused) as refused:
        BaseHandler.gradebook.fget(handler)
    assert refused.value.line.startswith(DAMAGE_SAID["table-missing"])
    assert refused.value.status_code == 500
    assert kept.closed and handler.settings["nbgrader_gradebook"] is None


def test_the_kept_gradebook_is_checked_once_per_request(gradebook: Path) -> None:
    """A request reaches the kept gradebook several times (find, then commit): is it
    checked at the first and handed over after?"""
    check_formgrader_openings(OpeningCheck().problem, lambda api: True, pages_checked_mark)
    kept = _Kept()
    handler = _handler(sqlite_url(gradebook), "PUT", kept)
    assert BaseHandler.gradebook.fget(handler) is kept
    damage_file(gradebook, "table-missing")
    assert BaseHandler.gradebook.fget(handler) is kept
    with pytest.raises(GradebookRefused):
        BaseHandler.gradebook.fget(_handler(sqlite_url(gradebook), "GET", kept))


def test_the_kept_gradebook_is_opened_anew_on_a_file_put_in_its_place(gradebook: Path) -> None:
    """A copy moved back over the gradebook (``mv``) is another file: the gradebook the
    server kept went on writing the one removed, every edit lost. Is it closed, and the
    file now in place opened?"""
    check_formgrader_openings(OpeningCheck().problem, lambda api: True, pages_checked_mark)
    kept = _Kept()
    handler = _handler(sqlite_url(gradebook), "PUT", kept)
    copy = gradebook.parent / "copy.db"
    copy.write_bytes(gradebook.read_bytes())
    os.replace(copy, gradebook)
    opened = BaseHandler.gradebook.fget(handler)
    try:
        assert kept.closed and opened is not kept
        assert handler.settings[_KEPT_FILE] == pages_checked_mark(sqlite_url(gradebook))
    finally:
        opened.close()


def test_the_apis_new_gradebook_is_not_opened_on_an_emptied_file(gradebook: Path) -> None:
    """``NbGraderAPI.gradebook`` made a new ``Gradebook`` (and so nbgrader's tables) for
    every listing: is an emptied file refused and left empty?"""
    check_formgrader_openings(OpeningCheck().problem, lambda api: True, pages_checked_mark)
    gradebook.write_bytes(b"")
    api = types.SimpleNamespace(
        coursedir=types.SimpleNamespace(db_url=sqlite_url(gradebook)), course_id="course"
    )
    with pytest.raises(GradebookRefused) as refused:
        NbGraderAPI.gradebook.fget(api)
    assert refused.value.line.startswith(EMPTIED_SAID)
    assert gradebook.read_bytes() == b""


def test_a_percent_sign_in_the_line_is_kept() -> None:
    """Tornado formats the logged message with %: does a % in a path survive as it is?"""
    refused = GradebookRefused("/courses/100%/gradebook.db is damaged")
    assert refused.log_message % () == refused.line


def test_the_course_config_installs_the_formgrader_checks() -> None:
    """Does the guard every nbgrader process installs through ``nbgrader_config.py`` put
    the check in front of both openings, once however often it is called?"""
    guard_gradebook()
    installed = (
        BaseHandler.gradebook.fget,
        NbGraderAPI.gradebook.fget,
        NbGraderAPI.collect,
        BaseHandler.prepare,
        BaseHandler.write_error,
    )
    guard_gradebook()
    check_formgrader_openings(OpeningCheck().problem, lambda api: True, pages_checked_mark)
    assert (
        BaseHandler.gradebook.fget,
        NbGraderAPI.gradebook.fget,
        NbGraderAPI.collect,
        BaseHandler.prepare,
        BaseHandler.write_error,
    ) == installed
    assert all(
        getattr(wrapper, "checks_the_gradebook_for_lstm_grader", False) for wrapper in installed
    )
