"""Shared fixtures: the repository's assignments and throwaway course directories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Debian's Chromium (never a downloaded browser) and the flags it needs here: headless, as
#: root, and quiet on a machine with no network but loopback.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # Chromium refuses to run as root (CI) with its sandbox on
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def assignments() -> list[str]:
    """Every assignment with a solution notebook, in order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").exists())


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def classic_mistakes(assignment: str) -> dict[str, dict[str, str]]:
    path = ROOT / "tests" / "files" / "classic-mistakes" / f"{assignment}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def require_or_skip(available: bool, what: str) -> None:
    """Skip when a component is missing, except under CI, where missing means failure."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available on this machine")


class Course:
    """A throwaway copy of the course directory with its own gradebook."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        """Run a command (e.g. ``nbgrader autograde x``) from the course root."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        result = subprocess.run(
            list(args), cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def submit(
        self,
        student: str,
        assignment: str,
        notebook: nbformat.NotebookNode,
        name: str | None = None,
    ) -> Path:
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name or assignment}.ipynb"
        nbformat.write(notebook, path)
        return path

    def report(self, student: str, assignment: str, notebook: str | None = None) -> dict:
        path = (
            self.root / "grading_reports" / student / assignment / f"{notebook or assignment}.json"
        )
        return json.loads(path.read_text(encoding="utf-8"))

    def scores(
        self, student: str, assignment: str, notebook: str | None = None
    ) -> dict[str, float]:
        """Points per graded cell, from nbgrader's gradebook."""
        from nbgrader.api import Gradebook

        db_url = "sqlite:///" + str(self.root / "gradebook.db")
        with Gradebook(db_url) as gradebook:
            submission = gradebook.find_submission_notebook(
                notebook or assignment, assignment, student
            )
            return {grade.name: grade.score for grade in submission.grades}

    def release(self, assignment: str) -> nbformat.NotebookNode:
        return read_notebook(self.root / "exercises" / assignment / f"{assignment}.ipynb")

    def source(self, assignment: str) -> nbformat.NotebookNode:
        return read_notebook(self.root / "solutions" / assignment / f"{assignment}.ipynb")


def make_course(root: Path, names: list[str]) -> Course:
    """Copy the config, lstm references and the named assignments; generate student versions."""
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "references").mkdir()
    for name in names:
        shutil.copytree(SOLUTIONS / name, root / "solutions" / name)
        shutil.copy(ROOT / "references" / f"{name}.json", root / "references" / f"{name}.json")
    course = Course(root)
    for name in names:
        course.run("nbgrader", "generate_assignment", name, "--force")
    return course


@pytest.fixture
def course_factory(tmp_path: Path):
    """Build a throwaway course with the given assignments."""

    def factory(*names: str) -> Course:
        return make_course(tmp_path / "course", list(names))

    (tmp_path / "course").mkdir()
    return factory
