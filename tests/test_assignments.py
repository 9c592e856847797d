"""Checks of the graded assignments: their structure, their references and real autograding."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT, assignments, classic_mistakes, read_notebook

from lstm_grader.hidden import graded_answers, split_hidden
from lstm_grader.record import declared_questions
from lstm_grader.references import load_references
from lstm_grader.synthetic import answered, solution_sources
from lstm_lib import checks

ASSIGNMENTS = assignments()
KERAS_WORDS = re.compile(r"\b(keras|tensorflow)\b")


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _test_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        c
        for c in notebook.cells
        if c.cell_type == "code" and _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_are_stored_without_outputs(assignment: str) -> None:
    """Are the solution and student notebooks stored without outputs or execution counts?"""
    for folder in ("solutions", "exercises"):
        notebook = read_notebook(ROOT / folder / assignment / f"{assignment}.ipynb")
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{folder}/{assignment}: a cell has outputs"
                assert cell.execution_count is None, f"{folder}/{assignment}: execution count"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_question_has_a_recorded_reference(assignment: str) -> None:
    """Does every grade_answer line have a reference value recorded from Keras, and no more?"""
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    declared = declared_questions(source)
    refs = load_references(ROOT / "references", assignment)
    assert len(declared) == len(set(declared)), "a question id is graded twice"
    assert sorted(declared) == sorted(refs)
    for question, ref in refs.items():
        assert ref.kind in checks.KINDS, f"{question}: unknown kind {ref.kind}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_hold_only_declarations_in_hidden_regions(assignment: str) -> None:
    """Does every test cell declare its graded answers, with nothing else hidden?"""
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    cells = _test_cells(source)
    assert len(cells) >= 6, f"{assignment} has {len(cells)} graded questions; at least 6"
    for cell in cells:
        visible, hidden = split_hidden(cell.source + "\n")
        assert graded_answers(hidden), f"{_nbgrader(cell)['grade_id']}: no grade_answer line"
        first_line = visible.strip().splitlines()[0]
        assert first_line.startswith('"""'), "a test cell opens with a one-line docstring"
        assert _nbgrader(cell).get("locked") and _nbgrader(cell).get("points", 0) > 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_keras_runs_only_in_see_it_cells(assignment: str) -> None:
    """Is every cell that touches Keras guarded so that grading never imports TensorFlow?"""
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    for cell in source.cells:
        if cell.cell_type != "code" or not KERAS_WORDS.search(cell.source):
            continue
        if _nbgrader(cell).get("grade") or _nbgrader(cell).get("solution"):
            code = [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith("#")]
            assert not any("import keras" in ln or "import tensorflow" in ln for ln in code), (
                f"{_nbgrader(cell).get('grade_id')}: graded cells must not import Keras"
            )
            continue
        assert "if keras_allowed():" in cell.source, (
            f"{assignment}: a cell uses Keras without `if keras_allowed():`\n{cell.source[:200]}"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_classic_mistakes_are_named_by_the_verdict(assignment: str) -> None:
    """Does the grader's verdict name the classic confusion of every question?

    This judges the mistakes in-process against the recorded references (fast); the slow
    test below does the same through real nbgrader.
    """
    refs = load_references(ROOT / "references", assignment)
    mistakes = classic_mistakes(assignment)
    assert sorted(mistakes) == sorted(refs), "one classic mistake per question"
    for question, mistake in mistakes.items():
        namespace = _solved_namespace(assignment)
        exec(mistake["code"], namespace)  # test data written by the course team
        answer = eval(_answer_name(assignment, question), namespace)
        ref = refs[question]
        verdict = checks.verdict(
            ref.kind,
            checks.from_plain(checks.to_plain(answer)),
            ref.expected,
            ref.context,
            ref.mistakes,
        )
        assert not verdict.correct, f"{question}: the classic mistake was accepted"
        assert mistake["message"] in verdict.message, (
            f"{question}: expected the feedback to contain {mistake['message']!r}, "
            f"got {verdict.message!r}"
        )


def _solved_namespace(assignment: str) -> dict:
    """Run the solution's own code cells (not tests, not Keras) as a learner's kernel would."""
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    solutions = solution_sources(source)
    namespace: dict = {}
    for cell in source.cells:
        if cell.cell_type != "code" or "keras_allowed()" in cell.source:
            continue
        meta = _nbgrader(cell)
        if meta.get("grade") and not meta.get("solution"):
            continue
        exec(solutions.get(meta.get("grade_id"), cell.source), namespace)
    return namespace


def _answer_name(assignment: str, question: str) -> str:
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    for cell in _test_cells(source):
        _, hidden = split_hidden(cell.source + "\n")
        for answer in graded_answers(hidden):
            if answer.question == question:
                return answer.expression
    raise KeyError(question)


# --------------------------------------------------------------------------- real nbgrader


def _comparable(notebook: nbformat.NotebookNode) -> list[dict]:
    return [
        {"type": c.cell_type, "source": c.source, "nbgrader": _nbgrader(c)} for c in notebook.cells
    ]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_assignment_grades_as_designed(assignment: str, course_factory) -> None:
    """Through real nbgrader: is the committed student version what generate_assignment
    makes; does the solution pass validate; does a correct notebook earn full marks
    without importing TensorFlow; does a blank one earn 0; and does each classic
    mistake lose only its own question, with feedback naming it?"""
    course = course_factory(assignment)
    release = course.release(assignment)
    committed = read_notebook(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    assert _comparable(release) == _comparable(committed), (
        f"exercises/{assignment} is stale: run `nbgrader generate_assignment {assignment} --force`"
    )

    validate = course.run(
        "nbgrader", "validate", f"solutions/{assignment}/{assignment}.ipynb", check=False
    )
    assert "Success! Your notebook passes all the tests." in validate.stdout, validate.stdout

    source = course.source(assignment)
    correct = answered(release, source)
    correct.cells.append(
        nbformat.v4.new_code_cell(
            "import sys\nprint('HEAVY', sorted({m.split('.')[0] for m in sys.modules}"
            " & {'tensorflow', 'keras', 'matplotlib'}))"
        )
    )
    course.submit("correct", assignment, correct)
    course.submit("blank", assignment, release)
    mistakes = classic_mistakes(assignment)
    for question, mistake in mistakes.items():
        wrong = answered(release, source, {mistake["cell"]: mistake["code"]})
        course.submit(f"mistake-{question}", assignment, wrong)

    before = {p: p.read_bytes() for p in (course.root / "submitted").rglob("*") if p.is_file()}
    result = course.run("nbgrader", "autograde", assignment)
    after = {p: p.read_bytes() for p in (course.root / "submitted").rglob("*") if p.is_file()}
    assert before == after, "autograding changed the submitted files"
    assert "error" not in result.stderr.lower().replace("errors=", ""), result.stderr[-3000:]

    refs = load_references(ROOT / "references", assignment)
    question_cell = {q: course.report("correct", assignment)["questions"][q]["cell"] for q in refs}
    full = course.scores("correct", assignment)
    max_points = {
        c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"] for c in _test_cells(source)
    }
    assert full == {cell: float(points) for cell, points in max_points.items()}
    assert course.report("correct", assignment)["status"] == "graded"

    autograded = read_notebook(
        course.root / "autograded" / "correct" / assignment / f"{assignment}.ipynb"
    )
    printed = "".join(o.get("text", "") for o in autograded.cells[-1].outputs)
    assert "HEAVY []" in printed, f"grading imported TensorFlow or matplotlib: {printed!r}"

    assert set(course.scores("blank", assignment).values()) == {0.0}
    assert course.report("blank", assignment)["status"] == "no-answers"

    for question, mistake in mistakes.items():
        student = f"mistake-{question}"
        scores = course.scores(student, assignment)
        lost = question_cell[question]
        assert scores[lost] == 0.0, f"{student} kept the points of {lost}"
        others = {cell: s for cell, s in scores.items() if cell != lost}
        assert others == {cell: full[cell] for cell in others}, f"{student} lost other points"
        message = course.report(student, assignment)["questions"][question]["message"]
        assert mistake["message"] in message
