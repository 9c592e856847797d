"""lstm_grader.release_guard: a refused generate_assignment leaves the release folder as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

ASSIGNMENT = "05-return-flags"


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` by relative path: its bytes and its mode."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mode)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_a_refused_generation_keeps_the_release_folder_and_a_good_one_replaces_it(
    course_factory,
) -> None:
    """``nbgrader generate_assignment --force`` removed ``exercises/NAME`` first, and again
    when it then failed: with the references not recorded, the course was left without the
    student version learners had been given. Does a refused generation exit 1 and leave
    the folder as it was, file by file, while a generation that works still replaces it?"""
    course = course_factory(ASSIGNMENT)
    release = course.layout.release(ASSIGNMENT)
    before = _snapshot(release)
    assert before, "the course has no student version to keep"

    references = course.layout.references_file(ASSIGNMENT)
    recorded = references.read_bytes()
    references.unlink()
    refused = course.run("nbgrader", "generate_assignment", ASSIGNMENT, "--force", check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "no reference values" in refused.stderr
    assert _snapshot(release) == before, "the refused generation changed the release folder"
    assert "Keeping the release folder" in refused.stderr

    # a generation that works makes the folder anew from the changed source
    references.write_bytes(recorded)
    (course.layout.source(ASSIGNMENT) / "notes.txt").write_text("read me\n", encoding="utf-8")
    course.run("nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    after = _snapshot(release)
    assert after.pop("notes.txt")[0] == b"read me\n"
    assert after.keys() == before.keys()
