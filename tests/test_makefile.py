"""The Makefile's commands as an instructor runs them in a fresh clone: ``make`` with the
kit's environment not activated, so only what the recipes themselves set is on ``PATH``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, copy_course

ASSIGNMENT = "02-dense"


@pytest.mark.slow
def test_make_exercises_works_unactivated_without_a_gradebook(tmp_path: Path) -> None:
    """In a course with no ``gradebook.db`` yet (a fresh clone) and a ``PATH`` without the
    kit's environment, does ``make exercises`` make the student version? nbgrader runs the
    ``alembic`` command by name when it creates the gradebook; without it on ``PATH`` the
    assignment fails and nbgrader deletes the committed student version."""
    course = tmp_path / "course"
    course.mkdir()
    layout = copy_course(course, [ASSIGNMENT]).layout
    shutil.copy(ROOT / "Makefile", course / "Makefile")
    # the install rule must see its stamp as newer than pyproject.toml, or make would reinstall
    (course / "pyproject.toml").touch()
    os.utime(course / "pyproject.toml", (0, 0))
    stamp = course / "installed-stamp"
    stamp.touch()
    venv = Path(sys.executable).parent.parent  # not resolved: the environment, not its base
    env = {
        "PATH": os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv / "bin"
        ),
        "HOME": str(tmp_path),
    }
    assert shutil.which("alembic", path=env["PATH"]) is None, "alembic is on PATH anyway"
    assert not (course / "gradebook.db").exists()

    result = subprocess.run(
        ["make", "exercises", f"VENV={venv}", f"STAMP={stamp}"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    student_version = layout.release(ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert student_version.exists(), result.stdout + result.stderr
    assert "### BEGIN SOLUTION" not in student_version.read_text()
    assert nbformat.read(student_version, as_version=4).cells


def _book_commands(stamp: Path, *changed: str, pages: Path | None = None) -> str:
    """The commands ``make book`` would run (``-n``) with ``stamp`` as the cache's stamp
    (and ``pages`` as the stamp of Sphinx's saved pages, when given), taking each of
    ``changed`` as just modified (``-W``) and the install as current."""
    what_if = [arg for path in changed for arg in ("-W", path)]
    stamps = [f"CACHE_STAMP={stamp}"] + ([f"DOCTREES_STAMP={pages}"] if pages else [])
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-o", ".venv/.installed-stamp"]
        + [*what_if, *stamps, "book"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("changed", "clears"),
    [
        ((), False),
        (("book/02-dense.md",), False),  # the cache itself sees a chapter's own change
        (("lstm_lib/plots/parameters.py",), True),
        (("lstm_lib/answers.py",), True),
        (("solutions/05-return-flags/05-return-flags.ipynb",), True),
        (("references/05-return-flags.json",), True),
    ],
)
def test_a_change_to_what_the_chapters_call_clears_the_execution_cache(
    tmp_path: Path, changed: tuple[str, ...], clears: bool
) -> None:
    """The execution cache keys a chapter on its own code: after a change to ``lstm_lib``
    (a figure redrawn), to the solutions or to the references, ``make book`` kept showing the
    old outputs and figures until ``_build`` was deleted by hand. Does such a change, and
    only such a change, clear the cache before the build?"""
    for path in changed:
        assert (ROOT / path).exists(), path
    stamp = tmp_path / "cache-stamp"
    stamp.touch()
    commands = _book_commands(stamp, *changed)
    assert ("rm -rf _build/.jupyter_cache" in commands) is clears, commands
    assert "jb build" in commands


@pytest.mark.parametrize(
    ("changed", "rewrites"),
    [
        ((), False),
        (("book/02-dense.md",), False),  # Sphinx itself sees a chapter's own change
        (("book/_ext/every_reader.py",), True),
        (("book/_ext/static/every_reader.js",), True),
        (("book/_ext/static/phone_width.css",), True),
        (("lstm_lib/explaining.py",), True),  # the cleared cache: outputs run anew
    ],
)
def test_a_change_to_the_books_extensions_or_outputs_writes_every_page_again(
    tmp_path: Path, changed: tuple[str, ...], rewrites: bool
) -> None:
    """Sphinx writes a page again only when its source changed: after a change to the book's
    extensions (the markup, styles and scripts of every page) or a cleared execution cache,
    ``make book`` reported "no targets are out of date" and kept every old page. Does such
    a change, and only such a change, drop Sphinx's saved environment before the build?"""
    for path in changed:
        assert (ROOT / path).exists(), path
    stamp, pages = tmp_path / "cache-stamp", tmp_path / "pages-stamp"
    stamp.touch()
    pages.touch()
    commands = _book_commands(stamp, *changed, pages=pages)
    assert ("rm -rf _build/.doctrees" in commands) is rewrites, commands
    assert "jb build" in commands
