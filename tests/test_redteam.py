"""The red-team suite: submissions that cheat, break or attack the grader.

Every sample submission is generated here from the return-flags solution: a correct
notebook with one attack added. The whole class is graded once through the course's real
grading path (``lstm-grade``, which runs ``nbgrader autograde`` with the preprocessors of
``nbgrader_config.py``), then each case asserts: the cheating or broken question earns 0,
every honest question keeps its points, the status says what happened, and the submitted
files are byte-identical afterwards.
"""

from __future__ import annotations

import copy
import csv
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from conftest import Course, make_course, require_or_skip

from lstm_grader.sandbox import bwrap_path
from lstm_grader.synthetic import answered

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
CELL_TIMEOUT = 5  # seconds per cell in this suite, so the endless loop costs little
WRONG_Q1 = "answer_q1 = (None, 8, 16)\n"


@dataclass
class Case:
    """One attack: how to make the submission and what the grader must conclude."""

    answers: dict[str, str] = field(default_factory=dict)
    edit: Callable[[nbformat.NotebookNode], None] | None = None
    zero: set[str] = field(default_factory=set)
    status: str | tuple[str, ...] = "graded"
    keep_before: str | None = None  # for crashes: cells before this one keep their points
    raw: Callable[[Path], None] | None = None  # replaces the notebook file entirely


def _test_cell(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def _delete(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        del nb.cells[_test_cell(nb, grade_id)]

    return edit


def _duplicate(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        index = _test_cell(nb, grade_id)
        twin = copy.deepcopy(nb.cells[index])
        twin["id"] = "duplicated-cell"
        nb.cells.insert(index + 1, twin)

    return edit


def _retype(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        index = _test_cell(nb, grade_id)
        old = nb.cells[index]
        new = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata)
        new["id"] = old.get("id", "retyped")
        new.metadata["nbgrader"]["cell_type"] = "markdown"
        nb.cells[index] = new

    return edit


def _rewrite(grade_id: str, source: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        nb.cells[_test_cell(nb, grade_id)].source = source

    return edit


def _metadata(grade_id: str, change: Callable[[dict], None]) -> Callable:
    def edit(nb: nbformat.NotebookNode) -> None:
        change(nb.cells[_test_cell(nb, grade_id)].metadata)

    return edit


def _truncate(path: Path) -> None:
    path.write_text(path.read_text()[: len(path.read_text()) // 2])


def _schema_invalid(path: Path) -> None:
    text = path.read_text().replace('"cell_type": "markdown"', '"cell_type": "slides"', 1)
    path.write_text(text)


def _rename(path: Path) -> None:
    path.rename(path.with_name("my-answers.ipynb"))


def _remove(path: Path) -> None:
    path.unlink()


def _escape_attempts(course_root: Path, port: int) -> str:
    targets = [
        course_root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course_root / "references" / f"{ASSIGNMENT}.json",
        course_root / "gradebook.db",
        course_root / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course_root / "nbgrader_config.py",
    ]
    writes = [
        course_root / "pwned.txt",
        course_root / "submitted" / "honest" / ASSIGNMENT / "pwned.txt",
        course_root / "references" / "pwned.json",
    ]
    return (
        "import os, socket\n"
        f"for target in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        open(target, 'rb').read(10)\n"
        "        print('LEAK read', target)\n"
        "    except OSError:\n"
        "        pass\n"
        f"for target in {[str(t) for t in writes]!r}:\n"
        "    try:\n"
        "        open(target, 'w').write('x')\n"
        "        print('LEAK wrote', target)\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('LEAK network')\n"
        "except OSError:\n"
        "    pass\n"
        "open('my-own-scratch.txt', 'w').write('fine')\n"
        "answer_q1 = (None, 16)\n"
    )


def _cases(course_root: Path, port: int) -> dict[str, Case]:
    return {
        # 1. redefining helpers and names the test cells use
        "redefine-helpers": Case(
            answers={"q1-answer": WRONG_Q1 + (
                "def expect_shape(*args, **kwargs): pass\n"
                "def grade_answer(*args, **kwargs): pass\n"
                "def reveal(*args, **kwargs): pass\n"
                "keras_allowed = lambda: False\n"
                "__import__ = None\n")},
            zero={"q1"}),
        # 2. monkeypatching lstm_lib.checks, numpy, numpy.testing, builtins, math
        "patch-checks": Case(
            answers={"q1-answer": WRONG_Q1 + (
                "import lstm_lib.checks as checks\n"
                "checks.verdict = lambda *a, **k: checks.Verdict(True, 'Correct')\n"
                "checks.to_plain = lambda value: {'t': 'tuple', 'v': [{'t': 'none'}]}\n"
                "checks.expect_shape = lambda *a, **k: None\n")},
            zero={"q1"}),
        "patch-numpy-math-builtins": Case(
            answers={"q1-answer": WRONG_Q1 + (
                "import builtins, math, numpy, numpy.testing\n"
                "numpy.allclose = lambda *a, **k: True\n"
                "numpy.array_equal = lambda *a, **k: True\n"
                "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                "numpy.testing.assert_array_equal = lambda *a, **k: None\n"
                "math.isclose = lambda *a, **k: True\n"
                "builtins.AssertionError = type('Harmless', (Exception,), {})\n")},
            zero={"q1"}),
        # 3. answers that claim equality with anything
        "always-equal": Case(
            answers={"q1-answer": (
                "class Anything:\n"
                "    def __eq__(self, other): return True\n"
                "    def __ne__(self, other): return False\n"
                "    __hash__ = object.__hash__\n"
                "answer_q1 = Anything()\n")},
            zero={"q1"}),
        "subclass-tricks": Case(
            answers={
                "q1-answer": (
                    "class Sneaky(int):\n"
                    "    def __eq__(self, other): return True\n"
                    "    __hash__ = int.__hash__\n"
                    "answer_q1 = (None, Sneaky(3))\n"),
                "q2-answer": (
                    "class Shape(tuple):\n"
                    "    def __eq__(self, other): return True\n"
                    "    __hash__ = tuple.__hash__\n"
                    "answer_q2 = Shape((None,))\n"),
            },
            zero={"q1", "q2"}),
        "nan": Case(answers={"q1-answer": "answer_q1 = (None, float('nan'))\n"}, zero={"q1"}),
        # 4. IPython hooks that change later cells
        "input-transformer": Case(
            answers={"q1-answer": WRONG_Q1 + (
                "def blank_q1_test(lines):\n"
                "    return ['pass\\n'] if any(\"'q1'\" in line for line in lines) else lines\n"
                "get_ipython().input_transformers_post.append(blank_q1_test)\n")},
            zero={"q1"}),
        "pre-run-cell": Case(
            answers={"q1-answer": WRONG_Q1 + (
                "get_ipython().events.register(\n"
                "    'pre_run_cell', lambda *a: print('✔ q1: Correct: (None, 16).'))\n")},
            zero={"q1"}),
        "custom-exception-handler": Case(
            answers={"q1-answer": (
                "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                "get_ipython().showtraceback = lambda *a, **k: None\n")},
            zero={"q1"}),
        # 5. test cells deleted, duplicated, retyped, edited; metadata edited; ids renamed
        "delete-test-cell": Case(edit=_delete("q1"), zero={"q1"}, status="flagged"),
        "duplicate-test-cell": Case(edit=_duplicate("q2"), zero={"q2"}, status="flagged"),
        "retype-test-cell": Case(edit=_retype("q3"), zero={"q3"}, status="flagged"),
        "edit-test-cell": Case(edit=_rewrite("q4", '"""q4"""\npass'), zero={"q4"},
                               status="flagged"),
        "strip-metadata": Case(
            edit=_metadata("q5", lambda meta: meta.pop("nbgrader")), zero={"q5"},
            status="flagged"),
        "rename-grade-id": Case(
            edit=_metadata("q6", lambda meta: meta["nbgrader"].update(grade_id="q6-mine")),
            zero={"q6"}, status="flagged"),
        "inflate-points": Case(
            edit=_metadata("q7", lambda meta: meta["nbgrader"].update(points=100)),
            zero={"q7"}, status="flagged"),
        # 6. endless loops, memory bombs, exits and kills
        "endless-loop": Case(answers={"q3-answer": "while True:\n    pass\n"},
                             keep_before="q3", status="timed-out"),
        "memory-bomb": Case(
            answers={"q3-answer": "hog = []\nwhile True:\n    hog.append(bytearray(10**8))\n"},
            zero={"q3"}, status=("graded", "kernel-died", "timed-out")),
        "os-exit": Case(answers={"q3-answer": "import os\nos._exit(1)\n"},
                        keep_before="q3", status="kernel-died"),
        "sys-exit": Case(answers={"q3-answer": "import sys\nsys.exit(3)\n"}, zero={"q3"}),
        "kill-kernel": Case(
            answers={"q3-answer": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
            keep_before="q3", status="kernel-died"),
        # 7. floods of output
        "many-lines": Case(answers={"q3-answer": (
            "answer_q3 = [(None, 16), (None, 16), (None, 16)]\n"
            "for i in range(200_000):\n    print(i)\n")}),
        "huge-line": Case(answers={"q3-answer": (
            "answer_q3 = [(None, 16), (None, 16), (None, 16)]\n"
            "print('x' * 30_000_000)\n")}),
        # warnings that Keras or NumPy print never cost a correct answer its points
        "noisy-warnings": Case(answers={"q1-answer": (
            "import sys, warnings\n"
            "import numpy as np\n"
            "warnings.warn('a deprecation a library printed', DeprecationWarning)\n"
            "np.log(np.zeros(1))\n"
            "print('W0000 a TensorFlow-style log line', file=sys.stderr)\n"
            "answer_q1 = (None, 16)\n")}),
        # 8. malformed and missing notebooks
        "truncated-json": Case(raw=_truncate, status="invalid-notebook"),
        "schema-invalid": Case(raw=_schema_invalid, status="invalid-notebook"),
        "missing-notebook": Case(raw=_remove, status="missing"),
        "renamed-notebook": Case(raw=_rename, status="missing"),
        # 9. reading the course's files, writing outside the working folder, the network
        "escape": Case(answers={"q1-answer": _escape_attempts(course_root, port)}),
    }


@dataclass
class Graded:
    course: Course
    cases: dict[str, Case]
    rows: dict[str, dict[str, str]]
    before: dict[Path, bytes]
    after: dict[Path, bytes]
    full: dict[str, float]


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path_factory.mktemp("redteam")
    course = make_course(root, [ASSIGNMENT])
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    cases = _cases(root, port)
    course.submit("honest", ASSIGNMENT, answered(release, source))
    for name, case in cases.items():
        notebook = answered(release, source, case.answers)
        if case.edit:
            case.edit(notebook)
        path = course.submit(name, ASSIGNMENT, notebook)
        if case.raw:
            case.raw(path)
    before = _snapshot(root / "submitted")
    try:
        course.run(sys.executable, "-m", "lstm_grader.classgrade", ASSIGNMENT,
                   "--workers", "2", "--no-progress", timeout=1800)
    finally:
        listener.close()
    after = _snapshot(root / "submitted")
    with (root / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return Graded(course, cases, rows, before, after, course.scores("honest", ASSIGNMENT))


CASE_NAMES = list(_cases(Path("/nowhere"), 0))


def test_the_honest_submission_earns_full_marks(graded: Graded) -> None:
    """Does the untouched correct notebook, graded beside the attacks, earn every point?"""
    row = graded.rows["honest"]
    assert row["status"] == "graded"
    assert float(row["score"]) == float(row["max_score"]) == sum(graded.full.values())


def test_submitted_files_are_byte_identical(graded: Graded) -> None:
    """Are the submitted files exactly as they were before grading, attacks included?"""
    assert graded.before == graded.after


@pytest.mark.parametrize("name", CASE_NAMES)
def test_attack(graded: Graded, name: str) -> None:
    """Does the attack earn nothing it did not earn, cost no honest question, and show in
    the status?"""
    case = graded.cases[name]
    row = graded.rows[name]
    statuses = (case.status,) if isinstance(case.status, str) else case.status
    assert row["status"] in statuses, f"{name}: status {row['status']!r} ({row['reason']})"
    if case.raw:
        assert float(row["score"]) == 0.0
        return
    scores = graded.course.scores(name, ASSIGNMENT)
    cells = list(graded.full)
    lost = set(case.zero)
    if row["status"] in ("kernel-died", "timed-out") and not case.keep_before:
        case.keep_before = min(case.zero)  # a crash costs the cells after it, no more
    if case.keep_before:
        lost |= set(cells[cells.index(case.keep_before):])
    for cell in cells:
        expected = 0.0 if cell in lost else graded.full[cell]
        assert (scores.get(cell) or 0.0) == expected, f"{name}: {cell} scored {scores.get(cell)}"
    if row["status"] == "flagged":
        assert row["reason"], "a flagged submission says why"
        from nbgrader.api import Gradebook

        with Gradebook("sqlite:///" + str(graded.course.root / "gradebook.db")) as gradebook:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name)
            assert notebook.needs_manual_grade, "flagged submissions await manual review"


@pytest.mark.parametrize("name", ["many-lines", "huge-line"])
def test_output_is_capped_in_bytes(graded: Graded, name: str) -> None:
    """Is a flood of output cut to the cap instead of reaching the autograded notebook?"""
    path = graded.course.root / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 3_000_000
    assert "output truncated" in path.read_text().lower()


def test_the_kernel_cannot_reach_the_course_or_the_network(graded: Graded) -> None:
    """Does a kernel that tries to read solutions, references, the gradebook and other
    students, write outside its folder, or connect to the host, fail at every step?"""
    path = graded.course.root / "autograded" / "escape" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = path.read_text()
    # writes may land in the sandbox's private /tmp, which vanishes with it: what counts is
    # that nothing was read, nothing reached the host's files, and no connection was made
    assert "LEAK read" not in text.replace("print('LEAK read", "")
    assert "LEAK network" not in text.replace("print('LEAK network", "")
    assert not (graded.course.root / "pwned.txt").exists()
    assert not (graded.course.root / "references" / "pwned.json").exists()
    assert (path.parent / "my-own-scratch.txt").exists(), "its own folder stays writable"


def test_validate_still_works_without_the_sandbox(graded: Graded, tmp_path: Path) -> None:
    """Can a learner still run `nbgrader validate` on their own notebook, no sandbox needed?"""
    learner = tmp_path / "learner"
    learner.mkdir()
    release, source = graded.course.release(ASSIGNMENT), graded.course.source(ASSIGNMENT)
    nbformat.write(answered(release, source), learner / f"{ASSIGNMENT}.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", f"{ASSIGNMENT}.ipynb"],
        cwd=learner, capture_output=True, text=True, timeout=600,
    )
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout


def test_without_a_sandbox_the_grader_says_so_and_still_grades(graded: Graded) -> None:
    """Where bubblewrap is unavailable, does grading warn loudly at start and still give a
    correct notebook full marks?"""
    course = graded.course
    env_student = "no-sandbox"
    course.submit(env_student, ASSIGNMENT, answered(course.release(ASSIGNMENT),
                                                    course.source(ASSIGNMENT)))
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--student", env_student],
        cwd=course.root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "LSTM_GRADER_BWRAP": "none"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "NO SANDBOX" in result.stderr
    assert course.scores(env_student, ASSIGNMENT) == graded.full
