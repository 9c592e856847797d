"""The student version nbgrader generates: its check mode, its note, its tags and its
sealed explanations (lstm_grader.student_version), through real `generate_assignment`."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, classic_mistakes, make_course, read_notebook

from lstm_grader.hidden import split_hidden
from lstm_grader.references import load_references
from lstm_grader.self_install import INSTALL_TAG, install_requirement
from lstm_grader.site import site_address
from lstm_grader.student_version import (
    CHECK_GUARD,
    HOW_CHECKED,
    HOW_CHECKED_ID,
    HOW_TO_WORK,
    SETUP_GUARD,
    sealed_entries,
    with_install_guard,
    without_named_mistakes,
)
from lstm_grader.synthetic import answered
from lstm_lib.checks import FEEDBACK_FILE
from lstm_lib.sealed import SEALED_FILE, read_sealed, unseal

ASSIGNMENT = "05-return-flags"


def _generate(tmp_path: Path, mode: str) -> Path:
    """A throwaway course whose ASSIGNMENT is generated in ``mode``; its release folder."""
    root = tmp_path / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    if mode != "practice":
        with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.CourseLayout.check_modes = {{{ASSIGNMENT!r}: {mode!r}}}\n")
        course.run("nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    return course.layout.release(ASSIGNMENT)


def _notebook(release: Path) -> nbformat.NotebookNode:
    return read_notebook(release / f"{ASSIGNMENT}.ipynb")


def _checks(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        c
        for c in notebook.cells
        if c.cell_type == "code"
        and c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata.get("nbgrader", {}).get("solution")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["practice", "graded"])
def test_the_student_version_is_set_up_for_its_mode(tmp_path: Path, mode: str) -> None:
    """Does the generated notebook set its mode in the setup cell, say after the
    introduction what the checks and Validate check, and tag every answer and check cell so
    that Run All goes past a form slip or an unanswered question?"""
    notebook = _notebook(_generate(tmp_path, mode))
    setup = next(c for c in notebook.cells if "lstm_lib.checks import" in c.source)
    assert f"use_mode({mode!r})" in setup.source
    assert setup.metadata.nbgrader.get("locked"), "the mode line is part of a locked cell"
    note_index = next(i for i, c in enumerate(notebook.cells) if c.get("id") == HOW_CHECKED_ID)
    assert notebook.cells[note_index].source == f"{HOW_TO_WORK}\n\n{HOW_CHECKED[mode]}"
    assert notebook.cells[note_index - 1].cell_type == "markdown"  # right after the intro
    assert "Validate" in HOW_CHECKED[mode] and "form" in HOW_CHECKED[mode]
    answers = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    checks = _checks(notebook)
    tagged = [*answers, *checks]
    assert answers and checks
    assert all("raises-exception" in c.metadata.get("tags", []) for c in tagged)
    # the book's Exercises page shows the questions, not the grading code
    assert all("remove-input" in c.metadata.get("tags", []) for c in [setup, *checks])
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert first_code.metadata["tags"] == [INSTALL_TAG, "remove-input"]
    assert install_requirement(site_address()) in first_code.source
    fetched = "['mistakes.sealed.json']" in first_code.source
    assert fetched == (mode == "practice"), "the sealed texts are fetched where they ship"


@pytest.mark.slow
def test_practice_mode_ships_explanations_sealed_and_nothing_readable(tmp_path: Path) -> None:
    """In practice mode, does every recorded explanation open for its own answer, while no
    file of the student folder holds a word of any explanation?"""
    release = _generate(tmp_path, "practice")
    assert not (release / FEEDBACK_FILE).exists()
    sealed = read_sealed(str(release))
    entries = list(sealed_entries(load_references(ROOT / "references", ASSIGNMENT)))
    assert entries, "the assignment records classic mistakes"
    for question, answer, message in entries:
        assert unseal(sealed, question, answer) == message
    everything = "".join(p.read_text() for p in release.rglob("*") if p.is_file())
    for _, _, message in entries:
        assert message[:40] not in everything


@pytest.mark.slow
def test_graded_mode_ships_no_explanations(tmp_path: Path) -> None:
    """In graded mode, is there neither a readable nor a sealed explanation to find?"""
    release = _generate(tmp_path, "graded")
    assert not (release / FEEDBACK_FILE).exists()
    assert not (release / SEALED_FILE).exists()


def _named_mistakes(tree: ast.AST) -> list[ast.keyword]:
    return [
        keyword
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "mistakes"
    ]


class _DropNamedMistakes(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        node.keywords = [k for k in node.keywords if k.arg != "mistakes"]
        return node


def test_student_check_cells_list_no_named_mistakes_and_change_nothing_else() -> None:
    """Does every solution check cell lose its mistakes= arguments, and only them, in
    the student version (the classic wrong answers tell a learner the right one by
    elimination), and does no committed student version still list them?"""
    sources = [
        cell.source
        for path in sorted((ROOT / "solutions").glob("*/*.ipynb"))
        for cell in _checks(read_notebook(path))
    ]
    assert sum(bool(_named_mistakes(ast.parse(source))) for source in sources) > 10
    for source in sources:
        stripped = ast.parse(without_named_mistakes(source))
        expected = _DropNamedMistakes().visit(ast.parse(source))
        assert ast.dump(stripped) == ast.dump(expected), source
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        for cell in _checks(read_notebook(path)):
            assert not _named_mistakes(ast.parse(cell.source)), (path.name, cell.source)


def test_student_check_cells_guard_their_opening_and_are_no_longer() -> None:
    """Does every committed student check cell open, after its docstring, with the two
    guarded lines in place of the solution's two (so that, run before the install cell, it
    says in one line what to run), keep every other line of its solution, and is no cell
    longer than its solution's? Does the setup cell open with its own guard?"""
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        student = read_notebook(ROOT / "exercises" / path.parent.name / path.name)
        solution_checks = {c.metadata.nbgrader["grade_id"]: c for c in _checks(read_notebook(path))}
        for cell in _checks(student):
            lines = cell.source.splitlines()
            solution, _ = split_hidden(solution_checks[cell.metadata.nbgrader["grade_id"]].source)
            expected = without_named_mistakes(solution).rstrip("\n").splitlines()
            assert tuple(lines[1:3]) == CHECK_GUARD, (path.name, cell.source)
            assert lines[:1] + lines[3:] == expected[:1] + expected[3:], (path.name, cell.source)
            assert len(lines) == len(expected), (path.name, cell.source)
        setup = next(
            c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"
        )
        assert setup.source.startswith(SETUP_GUARD), path.name


def test_the_guard_replaces_only_the_opening_it_knows() -> None:
    """Is a check cell that does not open with the two lines left as it was?"""
    plain = '"""Is it right?"""\nexpect_int(answer_q1)\n'
    assert with_install_guard(plain) == plain
    assert with_install_guard("not python (") == "not python ("
    indented = '"""Doc."""\nif True:\n    from lstm_lib.checks import say_what_to_run\n'
    assert with_install_guard(indented) == indented


def test_the_committed_student_versions_carry_no_plain_explanations() -> None:
    """Is the plain feedback.json absent from every committed student folder?"""
    assert not list((ROOT / "exercises").glob(f"*/{FEEDBACK_FILE}"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["practice", "graded"])
def test_a_learner_runs_the_student_version(tmp_path: Path, mode: str) -> None:
    """In a real kernel, run top to bottom with one classic mistake and one form slip: does
    the run go on past the slip; in practice mode is the mistake named without the value;
    in graded mode is only the form checked, with no value shown?"""
    from nbclient import NotebookClient

    release = _generate(tmp_path, mode)
    source = read_notebook(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    mistake_question, mistake = next(iter(classic_mistakes(ASSIGNMENT).items()))
    slip_cell = next(
        c.metadata.nbgrader["grade_id"]
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
        and c.metadata.nbgrader["grade_id"] != mistake["cell"]
    )
    slip = f"answer_{slip_cell.removesuffix('-answer')} = 'not a valid answer'"
    notebook = answered(
        _notebook(release), source, {mistake["cell"]: mistake["code"], slip_cell: slip}
    )
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute(cwd=str(release))
    outputs = {
        c.metadata.nbgrader["grade_id"]: "".join(
            o.get("text", "") + o.get("evalue", "") for o in c.outputs
        )
        for c in _checks(notebook)
    }
    last = list(outputs)[-1]
    assert outputs[last], "Run All stopped before the last check"
    slip_check = slip_cell.removesuffix("-answer")
    assert "not a valid answer" in outputs[slip_check]
    said = outputs[mistake_question.split("_")[0]]
    if mode == "practice":
        assert mistake["message"] in said
        assert "show_answer" in said
    else:
        assert mistake["message"] not in said
        assert "form is right" in said and "graded after you submit" in said
    streams = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("name")]
    assert all(o["name"] == "stdout" for o in streams), "TensorFlow wrote to stderr"


@pytest.mark.slow
def test_an_assignment_that_is_only_its_notebook_gets_its_sealed_explanations(
    tmp_path: Path,
) -> None:
    """A new assignment whose folder holds nothing but the notebook (no feedback.json yet)
    is generated, with its sealed explanations beside the student version."""
    root = tmp_path / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    source = course.layout.source(ASSIGNMENT)
    for path in source.iterdir():
        if path.suffix != ".ipynb":
            path.unlink()
    release = course.layout.release(ASSIGNMENT)
    shutil.rmtree(release)
    course.run("nbgrader", "generate_assignment", ASSIGNMENT, "--force")
    assert read_sealed(str(release)), "no sealed explanations in the release"
    assert (release / f"{ASSIGNMENT}.ipynb").is_file()
