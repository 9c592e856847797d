"""Record each question's reference value from live Keras by running the solution notebook.

Usage, from the repository root::

    python -m lstm_grader.record                 # every assignment in solutions/
    python -m lstm_grader.record 05-return-flags # one assignment

Each question's check cell calls :func:`lstm_lib.checks.reveal` (or
:func:`~lstm_lib.checks.reveal_layer`) under ``if keras_allowed():``; with
``LSTM_COURSE_RECORD`` set, ``reveal`` stores what Keras computed, and the text of each
named mistake from the assignment's ``feedback.json``, instead of judging.
The result, ``references/<assignment>.json``, is the only origin of the values learners
are graded against; ``tests/test_references.py`` records them again and compares.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from lstm_grader.course import CourseLayout, load_config
from lstm_grader.hidden import graded_answers, hidden_test_delimiters, split_hidden
from lstm_grader.references import write_references
from lstm_lib.checks import RECORD_ENV


def solution_notebook(root: Path, assignment: str) -> Path:
    """The instructor's notebook of an assignment (by default
    ``solutions/<assignment>/<assignment>.ipynb``; the folder is the course's
    ``CourseDirectory.source_directory``)."""
    return CourseLayout.from_root(root).source(assignment) / f"{assignment}.ipynb"


def declared_questions(notebook: nbformat.NotebookNode, config: Any = None) -> list[str]:
    """The question ids the notebook's hidden test regions grade, in order, found with the
    hidden-test delimiters of ``config`` (default: nbgrader's)."""
    delimiters = hidden_test_delimiters(config)
    questions = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            _, hidden = split_hidden(cell.source + "\n", delimiters)
            questions += [answer.question for answer in graded_answers(hidden)]
    return questions


def record_assignment(root: Path, assignment: str, timeout: int = 600) -> dict[str, Any]:
    """Run an assignment's solution notebook with recording on; return the references.

    Raises
    ------
    RuntimeError
        If a graded question has no recorded value, or a recorded one is not graded.
    """
    path = solution_notebook(root, assignment)
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as scratch:
        record_file = Path(scratch) / "record.json"
        env_before = os.environ.get(RECORD_ENV)
        os.environ[RECORD_ENV] = str(record_file)
        os.environ.pop("NBGRADER_EXECUTION", None)
        # the kernel inherits this: TensorFlow's start-up and CUDA-probe lines are noise here
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            client = NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            # the kernel's own stderr carries only TensorFlow's C++ start-up lines (absl
            # prints them whatever TF_CPP_MIN_LOG_LEVEL says); errors come back as outputs
            client.execute(stderr=subprocess.DEVNULL)
        finally:
            if env_before is None:
                os.environ.pop(RECORD_ENV, None)
            else:
                os.environ[RECORD_ENV] = env_before
        recorded = json.loads(record_file.read_text(encoding="utf-8"))["questions"]
    declared = declared_questions(notebook, load_config(root))
    missing = [q for q in declared if q not in recorded]
    extra = [q for q in recorded if q not in declared]
    if missing or extra:
        raise RuntimeError(
            f"{assignment}: graded questions without a recorded value: {missing}; "
            f"recorded values no test cell grades: {extra}"
        )
    from importlib.metadata import version  # the release, without importing TensorFlow here

    return {
        "assignment": assignment,
        "keras_version": version("keras"),
        "questions": {question: recorded[question] for question in declared},
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--root", default=".", help="the course root (default: .)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    layout = CourseLayout.from_root(root)
    assignments = args.assignments or [
        name for name in layout.source_assignments() if solution_notebook(root, name).exists()
    ]
    for assignment in assignments:
        record = record_assignment(root, assignment)
        target = write_references(layout.references_file(assignment).parent, assignment, record)
        print(f"recorded {target.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
