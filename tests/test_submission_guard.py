"""lstm_grader.submission_guard: a submission nbgrader must not open is refused before
nbgrader's autograde reads or copies anything in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT
from nbgrader.converters.autograde import Autograde

from lstm_grader import submission_guard
from lstm_grader.submission_guard import (
    RefusedSubmission,
    guard_autograde,
    is_safe_student_id,
    refusal_message,
    refused_entries,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "submitted" / "mallory" / "05-return-flags"
    path.mkdir(parents=True)
    (path / "05-return-flags.ipynb").write_text("{}")
    return path


def test_a_plain_submission_is_not_refused(folder: Path) -> None:
    (folder / "timestamp.txt").write_text("2026-01-05 14:03:27.000000 UTC\n")
    (folder / "notes.txt").write_text("my notes")
    assert refused_entries(folder) == []


def test_links_special_files_and_a_bad_timestamp_are_named(folder: Path) -> None:
    """Is every entry nbgrader would follow, block on or fail on named once, with why?"""
    (folder / "data.csv").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe")
    (folder / "timestamp.txt").write_text("2020-01-01 00:00:00 ../../../etc/shadow")
    refused = refused_entries(folder)
    assert [line.split(": ", 1)[0] for line in refused] == ["data.csv", "pipe", "timestamp.txt"]
    assert "neither an offset nor a zone name" in refused[2]


def test_a_linked_timestamp_is_named_once(folder: Path) -> None:
    (folder / "timestamp.txt").symlink_to("/dev/zero")
    assert refused_entries(folder) == ["timestamp.txt: a symbolic link"]


@pytest.mark.parametrize("level", [0, 1], ids=["assignment-folder", "student-folder"])
def test_a_submission_reached_through_a_link_is_refused(tmp_path: Path, level: int) -> None:
    """Is a submission folder, or the student's folder above it, that is a link refused
    (nbgrader would grade whatever it points at)?"""
    elsewhere = tmp_path / "elsewhere" / "05-return-flags"
    elsewhere.mkdir(parents=True)
    student = tmp_path / "submitted" / "mallory"
    if level == 0:
        student.mkdir(parents=True)
        (student / "05-return-flags").symlink_to(elsewhere)
    else:
        student.parent.mkdir(parents=True)
        student.symlink_to(elsewhere.parent)
    refused = refused_entries(student / "05-return-flags")
    assert len(refused) == 1 and refused[0].endswith(": a symbolic link")


def test_the_message_is_printable_and_bounded() -> None:
    refused = [f"\x1b]0;pwned\x07name{i}: a symbolic link" for i in range(9)]
    message = refusal_message(refused)
    assert message.isprintable()
    assert "and 4 more" in message and "name5" not in message


@pytest.fixture
def unguarded(monkeypatch) -> list[tuple[str, str]]:
    """nbgrader's ``Autograde.init_assignment`` replaced by a recorder (restored after)."""
    calls: list[tuple[str, str]] = []

    def init_assignment(converter, assignment_id: str, student_id: str) -> None:
        calls.append((assignment_id, student_id))

    monkeypatch.setattr(Autograde, "init_assignment", init_assignment)
    return calls


def _converter(folder: Path) -> SimpleNamespace:
    return SimpleNamespace(_format_source=lambda assignment_id, student_id: str(folder))


def test_the_guard_stops_nbgrader_before_it_starts(folder: Path, unguarded) -> None:
    """Does a refused submission raise before nbgrader's own init_assignment runs, and a
    plain one go on to it?"""
    guard_autograde()
    (folder / "data.csv").symlink_to("/dev/zero")
    with pytest.raises(RefusedSubmission, match="data.csv: a symbolic link"):
        Autograde.init_assignment(_converter(folder), "05-return-flags", "mallory")
    assert unguarded == []
    (folder / "data.csv").unlink()
    Autograde.init_assignment(_converter(folder), "05-return-flags", "mallory")
    assert unguarded == [("05-return-flags", "mallory")]


def test_guarding_twice_checks_once(folder: Path, unguarded, monkeypatch) -> None:
    checks: list[str] = []
    monkeypatch.setattr(
        submission_guard, "refused_entries", lambda path: checks.append(str(path)) or []
    )
    guard_autograde()
    guard_autograde()
    Autograde.init_assignment(_converter(folder), "05-return-flags", "mallory")
    assert checks == [str(folder)] and len(unguarded) == 1


def test_the_course_config_installs_the_guard(unguarded) -> None:
    """Does reading the course's nbgrader_config.py (as every nbgrader app and the
    formgrader do) put the guard in place?"""
    from traitlets.config.loader import PyFileConfigLoader

    assert not getattr(Autograde.init_assignment, "guarded_by_lstm_grader", False)
    root = Path(__file__).resolve().parents[1]
    PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    assert getattr(Autograde.init_assignment, "guarded_by_lstm_grader", False)


def test_safe_student_id_rules() -> None:
    """Does the safe-id check accept LMS and Unix ids and refuse path tricks,
    options, nbgrader --student patterns and an id that starts a spreadsheet formula
    (nbgrader export writes ids unescaped: '@A1-B1' was one)?"""
    assert all(map(is_safe_student_id, ["alice", "john_doe", "a.b@c.org", "s123-x", "_x"]))
    assert not any(
        map(
            is_safe_student_id,
            [
                "",
                ".",
                "..",
                "a/b",
                "a\\b",
                ".x",
                "a..b",
                "-x",
                "@A1-B1",
                "a\nb",
                "a+b",
                "x" * 129,
                "*",
                "a?",
                "[ab]",
            ],
        )
    )


def test_a_notebook_nested_past_the_limit_is_named_however_deep_it_goes() -> None:
    """Is a notebook nested just past the limit, or far past Python's recursion limit,
    named without recursing, and one at the limit not?"""
    at_limit: list = []
    for _ in range(submission_guard.MAX_NOTEBOOK_DEPTH - 3):  # with the notebook and metadata
        at_limit = [at_limit]
    assert submission_guard.notebook_too_large({"cells": [], "metadata": {"a": at_limit}}) is None
    past: list = [at_limit]
    assert submission_guard.notebook_too_large({"cells": [], "metadata": {"a": past}})
    far: list = []
    for _ in range(100_000):
        far = [far]
    assert submission_guard.notebook_too_large({"cells": [{"metadata": {"a": far}}]})


def test_a_notebook_of_too_many_json_values_is_refused_before_it_is_parsed(
    folder: Path,
) -> None:
    """Five million empty mappings in one cell's metadata (14 MiB) made nbconvert's copies
    take 10 GB of the grader's memory. Is a notebook past the count refused, saying how to
    mend it, while long outputs (one string, however many commas it holds) are not?"""
    notebook = folder / "05-return-flags.ipynb"
    talkative = '{"cells": [{"outputs": ["' + "0, " * 500_000 + '"]}]}'
    notebook.write_text(talkative)
    assert refused_entries(folder) == []
    many = submission_guard.MAX_NOTEBOOK_VALUES
    notebook.write_text('{"cells": [], "metadata": {"x": [' + "{}," * many + "{}]}}")
    (line,) = refused_entries(folder)
    assert line.startswith(f"05-return-flags.ipynb: it holds {2 * many + 6:,} JSON values")
    assert line.endswith("(clear its outputs, save it and submit again)")


def test_nbgrader_autograde_copies_none_of_a_learners_other_files(
    folder: Path, tmp_path: Path
) -> None:
    """The formgrader serves ``autograded/`` from the Jupyter server's origin, so a
    learner's page copied there ran as the instructor. Once guarded, does nbgrader's
    copying of a submission's other files copy only ``timestamp.txt`` and
    ``submission_secret.txt`` for autograde (release_feedback reads both from the feedback
    folder), and still copy everything for
    the other converters (generate_feedback copies the graded folder)?"""
    from nbgrader.converters.base import BaseConverter

    guard_autograde()
    (folder / "notes.html").write_text("<script>fetch('/api/contents')</script>")
    (folder / "timestamp.txt").write_text("2026-01-05 14:03:27.000000 UTC\n")
    (folder / "submission_secret.txt").write_text("c2VjcmV0")
    destination = tmp_path / "copy"

    def converter(kind: type) -> object:
        made = object.__new__(kind)
        made.__dict__.update(
            _format_source=lambda *ids: str(folder),
            _format_dest=lambda *ids: str(destination),
            coursedir=SimpleNamespace(ignore=[]),
            log=SimpleNamespace(info=lambda *args: None),
        )
        return made

    BaseConverter.init_assignment(converter(Autograde), "05-return-flags", "mallory")
    copied = sorted(p.name for p in destination.iterdir())
    assert copied == ["submission_secret.txt", "timestamp.txt"]

    class OtherConverter:
        pass

    BaseConverter.init_assignment(converter(OtherConverter), "05-return-flags", "mallory")
    assert (destination / "notes.html").is_file()


#: Reads a notebook whose 50 cells share one id, and one cell without an id, after the
#: ``{quieting}`` statement, in a Python of its own (the warnings' filters are the process's);
#: prints how many ids the cells then have.
READ_REPAIRED_NOTEBOOK = """
import json
import nbformat
{quieting}
shared = {{"cell_type": "markdown", "id": "LEARNER-CHOSEN-ID", "metadata": {{}}, "source": "n"}}
without = {{"cell_type": "markdown", "metadata": {{}}, "source": "n"}}
cells = [shared] * 50 + [without]
text = json.dumps({{"cells": cells, "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}})
print(len({{cell.id for cell in nbformat.reads(text, as_version=4).cells}}))
"""

QUIETINGS = {
    "none": "",
    "called": "from lstm_grader.submission_guard import quiet_notebook_repairs\n"
    "quiet_notebook_repairs()\nquiet_notebook_repairs()",
    "course config": "from traitlets.config.loader import PyFileConfigLoader\n"
    f"PyFileConfigLoader('nbgrader_config.py', path={str(ROOT)!r}).load_config()",
}


@pytest.mark.parametrize("quieting", QUIETINGS)
def test_cell_ids_are_repaired_without_a_warning_per_cell(quieting: str) -> None:
    """nbformat gives each repeated or missing cell id one of its own as it reads, warning
    per cell with the learner's id: after ``quiet_notebook_repairs`` (called once or twice,
    or by the course's config, as every nbgrader command reads it) is the repair still made,
    with nothing written? Without it, nbformat's warnings show what it keeps out."""
    run = subprocess.run(
        [sys.executable, "-c", READ_REPAIRED_NOTEBOOK.format(quieting=QUIETINGS[quieting])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert run.stdout.split() == ["51"]
    if quieting == "none":
        assert run.stderr.count("LEARNER-CHOSEN-ID") == 49 and "missing an id" in run.stderr
    else:
        assert run.stderr == ""
