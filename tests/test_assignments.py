"""Checks of the graded assignments: their structure, their references and real autograding."""

from __future__ import annotations

import ast
import json
import re
import sys

import nbformat
import pytest
from conftest import (
    KERAS_POSITIONAL_ARGUMENTS,
    ROOT,
    assignments,
    classic_mistakes,
    layer_call_options,
    read_notebook,
    solution_answer,
)

from lstm_grader.hidden import graded_answers, split_hidden
from lstm_grader.record import declared_questions
from lstm_grader.references import load_references
from lstm_grader.self_install import INSTALL_TAG
from lstm_grader.synthetic import answered, solution_sources
from lstm_lib import checks, verdicts

ASSIGNMENTS = assignments()
#: The calls that compare a prediction with live Keras: only a question's check cell makes them.
REVEALS = ("reveal", "reveal_layer")


def _nbgrader(cell: nbformat.NotebookNode) -> dict:
    return cell.metadata.get("nbgrader", {})


def _test_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        c
        for c in notebook.cells
        if c.cell_type == "code" and _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")
    ]


def _solution(assignment: str) -> nbformat.NotebookNode:
    return read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def _feedback(assignment: str) -> dict[str, dict[str, str]]:
    path = ROOT / "solutions" / assignment / checks.FEEDBACK_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _calls(tree: ast.AST, *names: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
    ]


def _check_cells(notebook: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Each graded question id (``q5_h`` too) mapped to the check cell that grades it."""
    cells = {}
    for cell in _test_cells(notebook):
        _, hidden = split_hidden(cell.source + "\n")
        for answer in graded_answers(hidden):
            cells[answer.question] = cell
    return cells


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
        grade_id = _nbgrader(cell)["grade_id"]
        visible, hidden = split_hidden(cell.source + "\n")
        assert graded_answers(hidden), f"{grade_id}: no grade_answer line"
        first_line = visible.strip().splitlines()[0]
        assert re.fullmatch(r'""".+"""', first_line), "a test cell opens with a one-line docstring"
        assert not first_line.startswith(f'"""{grade_id}:'), f"{grade_id}: the id needs no prefix"
        assert _nbgrader(cell).get("locked") and _nbgrader(cell).get("points", 0) > 0
        for call in _calls(ast.parse(hidden), "grade_answer"):
            question = call.args[0].value
            assert not (
                len(call.args) == 2 and ast.unparse(call.args[1]) == checks.answer_name(question)
            ), f'{grade_id}: grade_answer("{question}") already grades answer_{question}'


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_question_is_a_prompt_an_answer_and_a_check(assignment: str) -> None:
    """Is every question three cells, ``qN-prompt``, ``qN-answer`` and right after it the
    check ``qN``, and does only a check cell compare with Keras?

    A question's data cells (``qN-data...``) may stand beside it; no other cell has its id.
    """
    notebook = _solution(assignment)
    ids = [_nbgrader(c).get("grade_id") for c in notebook.cells]
    checks_cells = _test_cells(notebook)
    for check in checks_cells:
        question = _nbgrader(check)["grade_id"]
        prompt_id, answer_id = f"{question}-prompt", f"{question}-answer"
        for grade_id in (prompt_id, answer_id, question):
            assert ids.count(grade_id) == 1, f"{assignment}: {ids.count(grade_id)} × {grade_id}"
        others = [i for i in ids if i and i.startswith(f"{question}-")]
        others = [i for i in others if i not in (prompt_id, answer_id)]
        assert all(i.startswith(f"{question}-data") for i in others), others
        prompt, answer = (notebook.cells[ids.index(i)] for i in (prompt_id, answer_id))
        assert prompt.cell_type == "markdown" and _nbgrader(prompt).get("locked")
        assert answer.cell_type == "code" and _nbgrader(answer).get("solution")
        assert ids.index(prompt_id) < ids.index(answer_id)
        assert ids.index(question) == ids.index(answer_id) + 1, (
            f"{assignment}: {question}'s check must follow its answer cell"
        )
    for cell in notebook.cells:
        if cell.cell_type == "code" and not any(cell is c for c in checks_cells):
            assert not _calls(ast.parse(cell.source), *REVEALS, "keras_allowed"), (
                f"{assignment}: only a check cell compares with Keras:\n{cell.source[:200]}"
            )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_code_cell_is_an_answer_or_locked(assignment: str) -> None:
    """Is each code cell the learner's (an answer cell) or the course's and locked (setup,
    data, check)? A course cell without nbgrader's metadata (a question's data, 04's q5
    and 08's q7 once) is neither restored nor flagged when a learner edits it."""
    for cell in _solution(assignment).cells:
        if cell.cell_type == "code":
            meta = _nbgrader(cell)
            assert meta.get("solution") or meta.get("locked"), (
                f"{assignment}: a code cell that is neither an answer nor locked:\n"
                f"{cell.source[:200]}"
            )


#: Values a data cell gives that its check may read directly. None: 08's ``SPEC`` was one
#: (the learner is told not to change it), until a learner who had changed it, or who
#: restarted the kernel and skipped its cell, got a traceback from the check.
CONSTANTS: set[str] = set()


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """The names ``tree`` reads, and the names it binds anywhere in it: assignments,
    parameters, functions and imports."""
    read, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return read, bound


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_check_reads_a_data_cells_values_only_through_their_copies(assignment: str) -> None:
    """Does every check cell read the values a data cell assigns only through that cell's
    ``given_<question>`` copies? A learner's answer cell may reuse a data name
    (``x = x @ kernel + bias``, or ``series = series.reshape(...)`` as 03's q5 invites); a
    check that read ``x`` then told a right answer it was wrong while practising, where
    grading, against the recorded reference, scored it right."""
    data: set[str] = set()
    for cell in _solution(assignment).cells:
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        visible, _ = split_hidden(cell.source + "\n")
        tree = ast.parse(visible)
        if meta.get("grade") and not meta.get("solution"):
            read, bound = _names(tree)
            reached = sorted((read - bound) & data - CONSTANTS)
            assert not reached, (
                f"{assignment} {meta['grade_id']}: the check reads {reached} as the learner's "
                "cells left them; read the data cell's given_<question> copies instead"
            )
        elif meta.get("locked"):
            data |= {
                target.id
                for node in ast.walk(tree)
                if isinstance(node, ast.Assign)
                for target in node.targets
                for target in ast.walk(target)
                if isinstance(target, ast.Name) and not target.id.startswith("given_")
            }


def _data_cell_names(assignment: str) -> tuple[set[str], set[str]]:
    """The names the locked cells around the questions give the learner: the ones they
    assign (``x``, ``kernel``), and the ones they import (``np``)."""
    assigned: set[str] = set()
    imported: set[str] = set()
    for cell in _solution(assignment).cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or not meta.get("locked") or meta.get("grade"):
            continue
        if meta.get("grade_id") == "setup" or "install-course-library" in cell.metadata.get(
            "tags", []
        ):
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                imported |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return {name for name in assigned if not name.startswith("given_")}, imported


def _check_trees(assignment: str) -> list[tuple[str, ast.Module]]:
    return [
        (_nbgrader(cell)["grade_id"], ast.parse(split_hidden(cell.source + "\n")[0]))
        for cell in _solution(assignment).cells
        if cell.cell_type == "code"
        and _nbgrader(cell).get("grade")
        and not _nbgrader(cell).get("solution")
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_check_leaves_the_data_cells_names_to_the_learner(assignment: str) -> None:
    """Does no check cell rebind, in the learner's namespace, a name a data cell gives
    the learner? 02's q5 check bound ``x`` to a (2, 10, 8) sample: a learner who ran
    Q6's data cell, then went back to run Q5's check again, had Q6's ``x`` replaced, and
    their answer ``x @ kernel + bias`` failed with a matmul error."""
    assigned, _ = _data_cell_names(assignment)
    for question, tree in _check_trees(assignment):
        # only the cell's own statements bind in the learner's namespace; an import binds
        # the same module the data cell imported
        bound = {
            node.id
            for statement in tree.body
            if not isinstance(statement, ast.FunctionDef | ast.Import | ast.ImportFrom)
            for node in ast.walk(statement)
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
        }
        clobbered = sorted(bound & assigned)
        assert not clobbered, (
            f"{assignment} {question}: the check rebinds {clobbered}, which a data cell gives "
            "the learner; name its own values otherwise"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_check_imports_the_modules_it_uses(assignment: str) -> None:
    """Does every check cell import the modules it uses, rather than use a data cell's
    ``import numpy as np``? 03's q5 and q6, 04's q5 and 06's q4 called ``np`` as the learner's
    cells left it, so a learner who had bound ``np`` to something else got a traceback
    from inside the check (``'NoneType' object has no attribute 'asarray'``)."""
    _, imported = _data_cell_names(assignment)
    for question, tree in _check_trees(assignment):
        read, bound = _names(tree)
        borrowed = sorted((read - bound) & imported)
        assert not borrowed, (
            f"{assignment} {question}: the check uses {borrowed} as a data cell imported "
            "them; import them in the check, under `if keras_allowed():`"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_check_says_to_run_the_setup_cell_before_using_its_names(assignment: str) -> None:
    """After a kernel restart, a check cell run before the setup cell showed a NameError
    traceback on its first check (``expect_int``). Does every check cell, after the line
    saying what it checks, first call ``say_what_to_run()``, imported in the cell itself,
    so that such a run says in one line to run the setup cell?"""
    guard = ast.parse("from lstm_lib.checks import say_what_to_run\nsay_what_to_run()").body
    for question, tree in _check_trees(assignment):
        docstring, *opening = tree.body[:3]
        assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant), (
            f"{assignment} {question}: a check opens with the line saying what it checks"
        )
        assert [ast.dump(node) for node in opening] == [ast.dump(node) for node in guard], (
            f"{assignment} {question}: open the check with `from lstm_lib.checks import "
            "say_what_to_run` and `say_what_to_run()`, before anything the setup cell binds"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_check_tests_the_form_with_a_form_check(assignment: str) -> None:
    """Does no check cell test an answer with a bare ``assert``? 03 q7, 05 q7 and 07 q9
    asserted ``isinstance(answer_q7, dict)``: a learner who wrote the layer in a list saw
    an AssertionError traceback, and a message the grader did not give."""
    for question, tree in _check_trees(assignment):
        asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
        assert not asserts, (
            f"{assignment} {question}: line {asserts[0]} asserts; call the form check of the "
            "answer's kind (expect_layer_spec for a layer dict)"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_keras_is_imported_only_under_keras_allowed(assignment: str) -> None:
    """Is every import of Keras or TensorFlow inside ``if keras_allowed():``, so that
    grading and validating never import TensorFlow?"""
    for cell in _solution(assignment).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        guarded = {
            id(node)
            for branch in ast.walk(tree)
            if isinstance(branch, ast.If) and _calls(branch.test, "keras_allowed")
            for statement in branch.body
            for node in ast.walk(statement)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            if any(m.split(".")[0] in ("keras", "tensorflow") for m in modules):
                assert id(node) in guarded, (
                    f"{assignment}: line {node.lineno} imports Keras outside `if keras_allowed():`"
                    f"\n{cell.source[:200]}"
                )


#: How a check cell shows an exception's class: by its name, or by its repr.
_NAMES_AN_EXCEPTION = re.compile(r"__name__|!r\}|\brepr\(")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_cell_before_a_question_names_the_exception_it_asks_for(assignment: str) -> None:
    """A question that asks which exception Keras raises (09 q2) is not answered by an
    earlier cell: no cell before its prompt states the class, and no check before it shows
    an exception's class (09 q1's check once printed the TypeError of the old call it
    tries, which is q2's answer)."""
    asked = {
        question: reference.expected
        for question, reference in load_references(ROOT / "references", assignment).items()
        if isinstance(reference.expected, str)
        and re.fullmatch(r"[A-Z]\w*(Error|Exception|Warning)", reference.expected)
    }
    cells = _solution(assignment).cells
    for question, exception in asked.items():
        prompt = next(
            index
            for index, cell in enumerate(cells)
            if _nbgrader(cell).get("grade_id") == f"{question}-prompt"
        )
        for cell in cells[:prompt]:
            where = f"{assignment}: {_nbgrader(cell).get('grade_id')}, before {question}"
            assert exception not in cell.source, f"{where} states {exception}"
            if _nbgrader(cell).get("grade"):
                assert not _NAMES_AN_EXCEPTION.search(cell.source), (
                    f"{where} shows an exception's class"
                )


#: Ways to say that a layer call returns a list, which Keras 3 never does: with
#: return_state, or a Bidirectional with merge_mode=None, it returns a tuple
#: (test_book_claims: test_05_return_state_returns_a_tuple_eager_and_symbolic,
#: test_07_return_state_returns_a_tuple, test_07_bidirectional_merge_mode_none_...).
_RETURNED_AS_A_LIST = re.compile(
    r"\blist of (\w+ )?tensors|\breturns `\[|\blist \[(output|seq)\b", re.IGNORECASE
)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_prompts_and_explanations_call_several_returned_tensors_a_tuple(assignment: str) -> None:
    """Keras 3's recurrent layers return their output and states as a tuple: does no prompt
    or feedback text call them a list (05 q3, q5, q8 and 07 q3, q6, q8 once did)?"""
    texts = [cell.source for cell in _solution(assignment).cells if cell.cell_type == "markdown"]
    texts += [text for entries in _feedback(assignment).values() for text in entries.values()]
    for text in texts:
        assert not _RETURNED_AS_A_LIST.search(text), f"{assignment}: {text[:200]}"


def _texts(cell: nbformat.NotebookNode) -> list[str]:
    """Where a feedback text could hide in a cell: its source, and for code every string
    literal (implicitly concatenated pieces come out joined) and f-string template."""
    texts = [cell.source]
    if cell.cell_type == "code":
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                texts.append(
                    "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
                )
    return texts


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_text_stays_out_of_the_notebooks(assignment: str) -> None:
    """Is no explanation of feedback.json, or a long piece of one, written in a cell of the
    solution or the student notebook, where a learner could read it before answering?"""
    messages = [m for entry in _feedback(assignment).values() for m in entry.values()]
    assert messages, f"{assignment} has no {checks.FEEDBACK_FILE}"
    for folder in ("solutions", "exercises"):
        notebook = read_notebook(ROOT / folder / assignment / f"{assignment}.ipynb")
        for cell in notebook.cells:
            for text in _texts(cell):
                for message in messages:
                    leak = message in text or (
                        cell.cell_type == "code" and len(text) >= 40 and text in message
                    )
                    assert not leak, f"{folder}/{assignment}: a cell holds {message[:60]!r}..."


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_entries_match_what_the_checks_name(assignment: str) -> None:
    """Does every named mistake, variant and wrong option of a check cell have its text in
    feedback.json, and is every text there named by its question's check cell?"""
    source = _solution(assignment)
    feedback = _feedback(assignment)
    refs = load_references(ROOT / "references", assignment)
    checks_by_question = _check_cells(source)
    assert set(feedback) <= set(checks_by_question), "feedback for questions no cell grades"
    for question, cell in checks_by_question.items():
        tree = ast.parse(cell.source)
        named = set()
        for call in _calls(tree, *REVEALS):
            if ast.literal_eval(call.args[0]) != question:
                continue
            for keyword in call.keywords:
                if keyword.arg in ("mistakes", "variants"):
                    assert isinstance(keyword.value, ast.Dict), (
                        f"{question}: name each mistake: {keyword.arg}={{name: ...}}"
                    )
                    named |= {ast.literal_eval(key) for key in keyword.value.keys}
        options = set()
        for call in _calls(tree, "expect_choice"):
            options |= set(ast.literal_eval(call.args[1]))
        wrong_options = {option for option in options if option != refs[question].expected}
        written = set(feedback.get(question, {}))
        assert named | wrong_options <= written, (
            f"{question}: no text in {checks.FEEDBACK_FILE} for {named | wrong_options - written}"
        )
        assert written <= named | options, (
            f"{question}: {checks.FEEDBACK_FILE} explains {written - named - options}, "
            "which its check cell never names"
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


@pytest.mark.parametrize("answer", [(1000 + 1) * 64, 1000 * 64 + 64])
def test_an_embedding_count_one_row_too_large_is_told_both_readings(answer: int) -> None:
    """Is 06 q3's count one row too large told what either learner meant to add, a bias
    or a row for padding (both give (input_dim + 1) × output_dim), not only that an
    Embedding has no bias, which tells the padding learner a reason they never had?"""
    ref = load_references(ROOT / "references", "06-embedding")["q3"]
    verdict = checks.verdict(ref.kind, answer, ref.expected, ref.context, ref.mistakes)
    assert not verdict.correct
    assert "no bias" in verdict.message
    assert "no extra row for padding" in verdict.message


def _solved_namespace(assignment: str) -> dict:
    """Run the solution's own code cells (not the checks) as a learner's kernel would."""
    source = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    solutions = solution_sources(source)
    namespace: dict = {}
    for cell in source.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
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


# --------------------------------------------------------------------------- design answers

#: The kinds whose reference is the learner's design (layers to choose, keywords to name).
DESIGN_KINDS = ("model", "layer_shapes", "value")
_UNREADABLE = object()


def _literal(node: ast.AST) -> object:
    """A node's value when the cell writes it literally, else ``_UNREADABLE``."""
    mention = _layer_mention(node)
    if mention is not None:
        return mention
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNREADABLE


def _layer_mention(node: ast.AST) -> dict | None:
    """The layer a call ``keras.layers.LSTM(16, ...)`` or a literal layer dict
    ``{"class_name": "LSTM", "config": {...}}`` writes: its class and the options the cell
    writes literally (an option set from a variable is left out: the cell does not state it)."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in KERAS_POSITIONAL_ARGUMENTS:
            return None
        config = layer_call_options(node, _literal)
        return {
            "class_name": name,
            "config": {k: v for k, v in config.items() if v is not _UNREADABLE},
        }
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        items = dict(zip((k.value for k in node.keys), node.values, strict=True))
        if not isinstance(items.get("class_name"), ast.Constant) or not isinstance(
            items.get("config"), ast.Dict
        ):
            return None
        config = _plain_dict(items["config"])
        return {"class_name": items["class_name"].value, "config": config}
    return None


def _plain_dict(node: ast.Dict) -> dict:
    """The items of a dict literal that the cell writes literally."""
    found = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if isinstance(key, ast.Constant):
            literal = _literal(value)
            if literal is not _UNREADABLE:
                found[key.value] = literal
    return found


def _covers(mention: object, layer: dict) -> bool:
    """Does a layer the cell writes state every option of ``layer`` (a layer dict of the
    answer), a wrapped layer included?"""
    if not isinstance(mention, dict) or mention.get("class_name") != layer["class_name"]:
        return False
    config = mention.get("config", {})
    for key, value in layer.get("config", {}).items():
        if key not in config:
            return False
        if isinstance(value, dict) and "class_name" in value:
            if not _covers(config[key], value):
                return False
        elif config[key] != value or type(config[key]) is not type(value):
            return False
    return True


def _stated_parts(answer: object, prompt: str) -> list[tuple[str, object]]:
    """What a check cell must not write for a design answer: ``("stack", layers)`` (every
    layer of the answer, each with all its options), ``("layer", layer)`` (a wrapper's
    layer, whose options the learner chooses too), ``("pair", (key, value))`` (a keyword of
    a keyword-dict answer that the prompt does not name, with its value) or ``("value", v)``."""
    if isinstance(answer, dict) and "class_name" in answer:
        answer = [answer]
    if isinstance(answer, list) and all(isinstance(a, dict) and "class_name" in a for a in answer):
        parts: list[tuple[str, object]] = [("stack", answer)]
        for layer in answer:
            inner = layer.get("config", {}).get("layer")
            if isinstance(inner, dict):
                parts.append(("layer", inner))
        return parts
    if isinstance(answer, dict):
        words = set(re.findall(r"\w+", prompt))
        return [("stack-dict", answer)] + [
            ("pair", (key, value)) for key, value in answer.items() if key not in words
        ]
    return [("value", answer)]


def _states(tree: ast.AST, kind: str, part: object) -> bool:
    """Does the cell's code state ``part`` of the answer (see :func:`_stated_parts`)?"""
    mentions = [m for m in map(_layer_mention, ast.walk(tree)) if m is not None]
    dicts = [_plain_dict(node) for node in ast.walk(tree) if isinstance(node, ast.Dict)]
    calls = [
        {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    ]
    if kind == "stack":
        return all(any(_covers(m, layer) for m in mentions) for layer in part)
    if kind == "layer":
        return any(_covers(m, part) for m in mentions)
    if kind in ("stack-dict", "pair"):
        wanted = dict(part) if kind == "stack-dict" else dict([part])
        return any(
            all(key in found and found[key] == value for key, value in wanted.items())
            for found in dicts + calls
        )
    return any(
        isinstance(node, ast.Constant) and node.value == part and type(node.value) is type(part)
        for node in ast.walk(tree)
    )


def _design_questions() -> list[tuple[str, str]]:
    return [
        (assignment, question)
        for assignment in ASSIGNMENTS
        for question, ref in load_references(ROOT / "references", assignment).items()
        if ref.kind in DESIGN_KINDS
    ]


@pytest.mark.parametrize(("assignment", "question"), _design_questions())
def test_check_cells_do_not_state_a_design_answer(assignment: str, question: str) -> None:
    """Does the visible part of a design question's check cell, as the student version
    carries it, leave out the answer: the layers with the options the learner must choose
    (a reference written as ``keras.layers.LSTM(4, return_state=True)`` or as a layer dict),
    a wrapped layer's options, or the keyword the learner must name with its value?
    Finding the reference by trying candidates in Keras is fine: it states none of them."""
    answer = eval(_answer_name(assignment, question), _solved_namespace(assignment))
    student = read_notebook(ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    grade_id = _nbgrader(_check_cells(_solution(assignment))[question])["grade_id"]
    cells = {_nbgrader(c).get("grade_id"): c.source for c in student.cells}
    visible, _ = split_hidden(cells[grade_id] + "\n")
    prompt = cells[f"{grade_id}-prompt"]
    tree = ast.parse(visible)
    stated = [
        (kind, part) for kind, part in _stated_parts(answer, prompt) if _states(tree, kind, part)
    ]
    assert not stated, f"{assignment} {question}: the check cell states the answer: {stated}"


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
    # in the sandbox the course library is there: the install step does nothing, offline
    (install,) = [c for c in autograded.cells if INSTALL_TAG in c.metadata.get("tags", [])]
    assert install.outputs == [], install.outputs

    assert set(course.scores("blank", assignment).values()) == {0.0}
    assert course.report("blank", assignment)["status"] == "no-answers"

    questions_of_cell: dict[str, list[str]] = {}
    for question, cell in question_cell.items():
        questions_of_cell.setdefault(cell, []).append(question)
    for question, mistake in mistakes.items():
        student = f"mistake-{question}"
        scores = course.scores(student, assignment)
        lost = question_cell[question]
        # a cell keeps the share its right answers and right parts earn, and no more
        report = course.report(student, assignment)["questions"]
        shares = [report[q]["score"] for q in questions_of_cell[lost]]
        kept = full[lost] * sum(shares) / len(shares)
        assert report[question]["score"] < 1, f"{student}: the mistake earned in full"
        assert scores[lost] == pytest.approx(kept, abs=0.01), (
            f"{student}: {lost} scored {scores[lost]}"
        )
        others = {cell: s for cell, s in scores.items() if cell != lost}
        assert others == {cell: full[cell] for cell in others}, f"{student} lost other points"
        message = course.report(student, assignment)["questions"][question]["message"]
        assert mistake["message"] in message


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_an_array_check_that_states_its_shape_records_it(assignment: str) -> None:
    """Does every check that gives ``expect_array`` the shape its prompt states record
    ``shape_in_prompt`` for its verdict, so that the verdict (in the notebook and from the
    grader alike) tells a wrong shape the shape asked for, and does no other do so?"""
    for question, tree in _check_trees(assignment):
        stated = any(
            any(keyword.arg == "shape" for keyword in call.keywords)
            for call in _calls(tree, "expect_array")
        )
        source = ast.unparse(tree)
        assert stated == ("'shape_in_prompt': True" in source), (
            f"{assignment} {question}: expect_array(..., shape=...) and "
            '"shape_in_prompt": True in the context go together'
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_bidirectional_count_tells_its_two_misreadings_apart(assignment: str) -> None:
    """07 q5 asked for Bidirectional(LSTM(8))'s count on (batch, 10, 5), where 2 × features
    equals the timesteps: a learner who read each copy as taking both directions' 10
    features was told they had used the timesteps as the features, one number for two
    misreadings. Do a Bidirectional count's timesteps differ from 2 × features, and is each
    misreading told its own slip?"""
    path = ROOT / "references" / f"{assignment}.json"
    for question, entry in json.loads(path.read_text(encoding="utf-8"))["questions"].items():
        context = entry.get("context") or {}
        layer = context.get("layer") or {}
        if entry["kind"] != "int" or layer.get("class_name") != "Bidirectional":
            continue
        timesteps, features = context["timesteps"], context["features"]
        assert timesteps != 2 * features, (
            f"{assignment} {question}: 2 × features equals the timesteps ({timesteps}); "
            "change the data so the two misreadings give two counts"
        )
        inner = layer["config"]["layer"]["config"]["units"]

        def count(width: int, units: int = inner) -> int:
            return 2 * 4 * (units * (units + width) + units)

        doubled = verdicts.verdict(
            "int", count(2 * features), entry["expected"], context, entry["mistakes"]
        ).message
        swapped = verdicts.verdict(
            "int", count(timesteps), entry["expected"], context, entry["mistakes"]
        ).message
        assert f"2 × {features} = {2 * features} features" in doubled
        assert f"timesteps ({timesteps}) as the features" in swapped


def test_the_largest_layer_hint_counts_each_layer_by_its_own_rule() -> None:
    """08 q4 answered "LSTM(16)" was told to count it with the LSTM formula, "then count
    every other layer the same way": the Embedding, the right answer, is no LSTM, and a
    learner who applied the LSTM formula to it found a wrong size. Does the hint send
    each layer to its own rule?"""
    hint = _feedback("08-putting-together")["q4"]["LSTM(16)"]
    assert "the same way" not in hint
    assert "its own rule" in hint


#: A kernel's start-up where Python cannot import the course library, as in a fresh Colab
#: runtime before the install cell: every import of ``lstm_lib`` fails as a missing one does.
_WITHOUT_COURSE_LIBRARY = """\
import sys


class NoCourseLibrary:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "lstm_lib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoCourseLibrary())
from ipykernel import kernelapp

kernelapp.launch_new_instance()
"""


def _student(assignment: str) -> nbformat.NotebookNode:
    return read_notebook(ROOT / "exercises" / assignment / f"{assignment}.ipynb")


def _setup_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if _nbgrader(c).get("grade_id") == "setup")


def _run_out_of_order(
    cells: list[nbformat.NotebookNode], kernel: str, cwd: str
) -> list[nbformat.NotebookNode]:
    """``cells`` run in one fresh kernel in the order given, each allowed to fail."""
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.from_dict(dict(c)) for c in cells])
    for cell in notebook.cells:
        cell.outputs = []
    NotebookClient(notebook, timeout=120, kernel_name=kernel, allow_errors=True).execute(cwd=cwd)
    return notebook.cells


def _shown(cell: nbformat.NotebookNode) -> list[str]:
    """The lines a learner reads under ``cell``: its streams and its error's traceback."""
    lines: list[str] = []
    for output in cell.outputs:
        text = output.get("text") or "\n".join(output.get("traceback", []))
        lines += [line for line in text.splitlines() if line.strip()]
    return lines


def test_a_cell_run_before_the_install_cell_says_in_one_line_to_run_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a fresh Colab runtime, a learner who ran a check cell (or the setup cell) before
    the install cell read ``ModuleNotFoundError: No module named 'lstm_lib'`` under a
    traceback, which Colab follows with advice to pip-install a package of that name. In a
    kernel whose Python cannot import lstm_lib, does every student check cell and setup
    cell, run first, say in one line to run the first code cell (the install cell), and
    still fail as nbgrader reads a failure? And after a kernel restart, where lstm_lib is
    installed, does a check run before the setup cell still say to run that cell?"""
    from nbgrader.utils import determine_grade

    spec = tmp_path / "jupyter" / "kernels" / "no-course-library"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", _WITHOUT_COURSE_LIBRARY, "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "fresh", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    checks_first = [
        cell for assignment in ASSIGNMENTS for cell in _test_cells(_student(assignment))
    ]
    setups = [_setup_cell(_student(assignment)) for assignment in ASSIGNMENTS]
    ran = _run_out_of_order(checks_first + setups, "no-course-library", str(tmp_path))
    for cell in ran[: len(checks_first)]:
        question = _nbgrader(cell)["grade_id"]
        assert _shown(cell) == [
            "UsageError: The course library is not installed in this Python yet: run this "
            "notebook's first code cell, which installs it, then the setup cell below it and "
            "this check again."
        ], (question, cell.outputs)
        assert determine_grade(cell)[0] == 0, f"{question}: nbgrader would read a pass"
    for cell in ran[len(checks_first) :]:
        (error,) = cell.outputs
        assert error.output_type == "error" and error.ename == "CourseLibraryMissing"
        assert _shown(cell) == [
            "CourseLibraryMissing: The course library is not installed in this Python yet: "
            "run this notebook's first code cell, which installs it, then this cell again."
        ]
    # after a restart: the library is there, the setup cell has not run
    restarted = _run_out_of_order(checks_first, "python3", str(tmp_path))
    for cell in restarted:
        (line,) = _shown(cell)
        assert "is not defined: run the setup cell first" in line, (cell.source, line)
        assert determine_grade(cell)[0] == 0


#: Keys of a question's context whose numbers are the question's data.
_DATA_KEYS = ("units", "input_dim", "output_dim", "features", "timesteps", "vocabulary")


def _other_data(value: object, scale: int, shift: int) -> object:
    """``value`` (a context, or part of one) with each of its data numbers ``n`` made
    ``scale * n + shift``: the same question on other data."""
    if isinstance(value, dict):
        return {
            key: (
                scale * item + shift
                if key in _DATA_KEYS and isinstance(item, int) and not isinstance(item, bool)
                else [n if n is None or i == 0 else scale * n + shift for i, n in enumerate(item)]
                if key in ("input_shape", "batch_shape") and isinstance(item, list)
                else _other_data(item, scale, shift)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_other_data(item, scale, shift) for item in value]
    return value


def _right_count(context: dict) -> int | None:
    """The count Keras gives for a question's layer or model, from lstm_lib.shapes."""
    from lstm_lib import shapes

    try:
        if isinstance(context.get("model"), list):
            rows = shapes.stack_shapes(context["model"], tuple(context["input_shape"]))
            trainable_only = bool(context.get("trainable_only"))
            return sum(
                int(row.params) - (int(row.non_trainable_params) if trainable_only else 0)
                for row in rows
            )
        return shapes.count_params(context["layer"], tuple(context["input_shape"]))
    except (ValueError, TypeError, KeyError):
        return None


def _readings(expected: int, context: dict) -> dict[str, int]:
    """Each misreading lstm_lib.mistakes recognises for a count question, by its message
    with the numbers left out (the same misreading on any data), with the count it gives."""
    from lstm_lib.mistakes import count_readings

    return {
        re.sub(r"[0-9]+", "#", message): value
        for value, message in reversed(count_readings(expected, context))
    }


def _recorded_questions(kind: str) -> list[tuple[str, str, dict]]:
    """Every recorded question of ``kind`` ("int", "array", ...) as (assignment, id, entry)."""
    found = []
    for assignment in ASSIGNMENTS:
        path = ROOT / "references" / f"{assignment}.json"
        for question, entry in json.loads(path.read_text(encoding="utf-8"))["questions"].items():
            if entry["kind"] == kind:
                found.append((assignment, question, entry))
    return found


@pytest.mark.parametrize(
    ("assignment", "question", "entry"),
    _recorded_questions("int"),
    ids=[f"{a}-{q}" for a, q, _ in _recorded_questions("int")],
)
def test_no_two_misreadings_give_one_count(assignment: str, question: str, entry: dict) -> None:
    """02 q3 asked for Dense(16)'s count on (batch, 10, 8): 160 is two bias vectors and
    also timesteps × units, the numbers the layer outputs per sample, so a learner who
    counted the outputs was told they had counted two biases. For every recorded count
    question, does each misreading lstm_lib.mistakes recognises give a count of its own on
    the question's data, and none the right count? Two misreadings that give one count on
    any data (one block, a SimpleRNN's count) are one slip told two ways, not a
    coincidence: they are told apart by the same question on other data."""
    context, expected = entry.get("context") or {}, entry["expected"]
    readings = _readings(expected, context)
    assert expected not in readings.values(), (
        f"{assignment} {question}: a misreading gives the right count {expected}: "
        f"{[m for m, v in readings.items() if v == expected]}"
    )
    others = []
    for scale, shift in ((2, 3), (3, 1), (5, 2)):
        other = _other_data(context, scale, shift)
        right = _right_count(other) if "solve_for" not in context else None
        if right is not None:
            others.append(_readings(right, other))
    coincidences = [
        (first, second, value)
        for first, value in readings.items()
        for second, same in readings.items()
        if first < second
        and same == value
        and not any(
            first in other and second in other and other[first] == other[second] for other in others
        )
    ]
    assert not coincidences, (
        f"{assignment} {question}: two misreadings give one count on this question's data; "
        "change the data, or tell both in one message: "
        + "; ".join(f"{value}: {first!r} and {second!r}" for first, second, value in coincidences)
    )


def _array_slips(context: dict) -> list[tuple[object, str]]:
    """Each classic slip lstm_lib.mistakes recomputes for an array question, with its array."""
    from lstm_lib.mistakes import _ARRAY_TWINS

    twin = _ARRAY_TWINS.get(str(context.get("twin")))
    return list(twin(context)) if twin else []


@pytest.mark.parametrize(
    ("assignment", "question", "entry"),
    _recorded_questions("array"),
    ids=[f"{a}-{q}" for a, q, _ in _recorded_questions("array")],
)
def test_no_two_slips_give_one_array(assignment: str, question: str, entry: dict) -> None:
    """As for counts: on an array question's own inputs and weights, does each classic slip
    lstm_lib.mistakes recomputes give an array of its own, and none the right one (a zero
    bias would make the array without the bias the right array)?"""
    import numpy as np

    expected = np.asarray(entry["expected"], dtype=float)
    slips = [
        (np.asarray(value, dtype=float), message)
        for value, message in _array_slips(entry["context"])
    ]
    assert slips, f"{assignment} {question}: no slip is recomputed for this array question"

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-5))

    right = [message for value, message in slips if same(value, expected)]
    assert not right, f"{assignment} {question}: a slip gives the right array: {right}"
    coincidences = [
        (first, second)
        for i, (value, first) in enumerate(slips)
        for other, second in slips[i + 1 :]
        if first != second and same(value, other)
    ]
    assert not coincidences, f"{assignment} {question}: two slips give one array: {coincidences}"


# ----------------------------------------------------------------- shapes, lists and designs
# A shape's message comes from axis-by-axis rules, not from one named misreading, so each
# misreading a learner makes of a shape question is written out here: the shape it gives,
# made from the question's sizes, and the words by which a message tells it. The sizes are
# named, not read off the recorded shape, so the same misreading can be made on other sizes
# (``_GENERIC``), where two misreadings that coincide only by the question's numbers part.

#: Sizes no question uses and no two of which coincide, sums and doubles included.
_GENERIC = {"batch": 1031, "timesteps": 1009, "features": 1013, "units": 1019, "axis": 1021}


def _shape_sizes(expected: list, context: dict, role: str | None = None) -> dict:
    """The sizes a shape question (or the tensor ``role`` of a list) is made of, by name
    (``None`` where the question has none), and the names of the expected shape's axes."""
    from lstm_lib import mistakes

    shape = tuple(expected)
    f = mistakes.facts(context, shape)
    names = mistakes._axis_names(shape, f, role)
    by_name = dict(zip(names, shape, strict=True)) if len(names) == len(shape) else {}
    units = f.units
    if units is None and "units" in by_name:
        units = by_name["units"]
    if units is None and "2 × units" in by_name:
        units = by_name["2 × units"] // 2
    if units is None and "output_dim" in by_name:
        units = by_name["output_dim"]
    return {
        "names": names,
        "batch": shape[0],
        "timesteps": f.timesteps,
        "features": f.features,
        "units": units,
        "gates": f.gates if f.gates and f.gates > 1 else None,
        "merge_mode": f.merge_mode,
        "embedding": f.embedding,
        "input": f.input_shape,
        "reads": mistakes.asks_input(f, role),
        "state": mistakes._names_a_state(role),
        "units_recorded": (f.units or f.output_dim) is not None,
        "ids": [n for name, n in by_name.items() if name.startswith("axis ")],
    }


def _generic_sizes(sizes: dict) -> dict:
    """The same question on sizes of their own (``_GENERIC``): a fixed batch stays fixed."""
    generic = dict(sizes)
    for name in ("timesteps", "features", "units"):
        if sizes[name] is not None:
            generic[name] = _GENERIC[name]
    if sizes["batch"] is not None:
        generic["batch"] = _GENERIC["batch"]
    generic["ids"] = [_GENERIC["axis"] + 2 * i for i in range(len(sizes["ids"]))]
    if sizes["input"] is not None:
        ids = iter(generic["ids"])
        generic["input"] = tuple(
            None
            if i == 0 and n is None
            else generic["batch"]
            if i == 0
            else generic["features"]
            if i == len(sizes["input"]) - 1 and not sizes["embedding"]
            else generic["timesteps"]
            if i == 1 and not sizes["ids"]
            else next(ids)
            for i, n in enumerate(sizes["input"])
        )
    return generic


def _shape_of(sizes: dict) -> tuple:
    """The expected shape, made from the sizes by the names of its axes."""
    ids = iter(sizes["ids"])
    made = {
        "batch": sizes["batch"],
        "timesteps": sizes["timesteps"],
        "features": sizes["features"],
        "units": sizes["units"],
        "output_dim": sizes["units"],
        "2 × units": 2 * sizes["units"] if sizes["units"] else None,
    }
    return tuple(next(ids) if name.startswith("axis ") else made[name] for name in sizes["names"])


#: The words by which a message tells each misreading (any one of them will do).
_SHAPE_WORDS = {
    "batch left out": ("batch",),
    "batch written as a number, or left open": ("batch", "None"),
    "features as the last axis": ("features",),
    "timesteps as the last axis": ("timesteps",),
    "the time axis dropped": ("time axis", "sequence axis"),
    "the time axis written twice": ("twice", "adds a time axis"),
    "the time axis kept": ("time axis", "return_sequences"),
    "timesteps and the last axis swapped": ("wrong order",),
    "the batch after the last axis": ("wrong order",),
    "features as the time axis": ("features",),
    "units as the time axis": ("is the units", "output_dim)", "is output_dim"),
    "the input for the output": ("input", "going into"),
    "the ids for the output": ("input", "ids"),
    "an axis of the ids as the last axis": ("axis of the ids",),
    "the gates' blocks as the width": ("blocks",),
    "one direction for the merged output": ("one direction",),
    "both directions side by side, not merged": ("'concat'",),
    "timesteps and features swapped": ("timestep",),
    "units as the features": ("units",),
    "no feature axis": ("2-D", "axes", "no features axis"),
}


def _shape_readings(sizes: dict) -> dict[str, tuple]:
    """Each misreading of a shape question, with the shape it gives on these sizes."""
    e = _shape_of(sizes)
    batch, time, features, units = (sizes[k] for k in ("batch", "timesteps", "features", "units"))
    other_batch = 32 if batch is None else None
    found: dict[str, tuple] = {
        "batch left out": e[1:],
        "batch written as a number, or left open": (other_batch, *e[1:]),
    }
    if sizes["reads"]:  # the shape a layer reads, (batch, timesteps, features)
        found["timesteps and features swapped"] = (batch, e[2], e[1])
        found["no feature axis"] = e[:2]
        if units is not None and units != features:
            found["units as the features"] = (batch, e[1], units)
        return found
    if features is not None:
        found["features as the last axis"] = (*e[:-1], features)
    if sizes["ids"]:  # ids of more axes than (batch, timesteps) name them by number
        found["an axis of the ids as the last axis"] = (*e[:-1], sizes["ids"][0])
    elif time is not None and features is None and len(e) == 2:
        # a model that reads ids, (batch, timesteps): that shape is the ids themselves
        found["the ids for the output"] = (e[0], time)
    elif time is not None:
        found["timesteps as the last axis"] = (*e[:-1], time)
    if "timesteps" in sizes["names"]:
        found["the time axis dropped"] = (e[0], *e[2:])
        found["the time axis written twice"] = (*e[:2], *e[1:])
        found["timesteps and the last axis swapped"] = (e[0], e[2], e[1], *e[3:])
        if features is not None:
            found["features as the time axis"] = (e[0], features, *e[2:])
        if sizes["units_recorded"]:
            # named only where the context records the layer: where it records the shape
            # alone (04 q6 asks which number is units), "32 is the units" would answer it
            found["units as the time axis"] = (e[0], units, *e[2:])
    elif time is not None and len(e) == 2:
        found["the time axis kept"] = (e[0], time, e[1])
    if len(e) == 2:
        found["the batch after the last axis"] = (e[1], e[0])
    if sizes["input"] is not None:
        found["the input for the output"] = tuple(sizes["input"])
    merged = sizes["names"][-1] == "2 × units"
    if sizes["gates"] and units:
        found["the gates' blocks as the width"] = (*e[:-1], sizes["gates"] * e[-1])
    if merged and units:
        found["one direction for the merged output"] = (*e[:-1], units)
    if sizes["merge_mode"] in ("sum", "mul", "ave") and units and not sizes["state"]:
        found["both directions side by side, not merged"] = (*e[:-1], 2 * units)
    return found


def _told(message: str, reading: str, same_on_any_data: set[str]) -> bool:
    """Whether a message tells a misreading, or one it always coincides with."""
    return any(
        word in message for name in {reading, *same_on_any_data} for word in _SHAPE_WORDS[name]
    )


@pytest.mark.parametrize(
    ("assignment", "question", "entry"),
    _recorded_questions("shape"),
    ids=[f"{a}-{q}" for a, q, _ in _recorded_questions("shape")],
)
def test_each_misreading_of_a_shape_is_told(assignment: str, question: str, entry: dict) -> None:
    """05 q2 asked for LSTM(16, return_sequences=True)'s shape: (None, 8, 8, 16), the time
    axis written twice, was told it was "the shape with return_sequences=True" and that the
    output asked for "keeps only the last step", both untrue of the question; 06 q2's
    (None, 4, 6, 4) was told the timesteps (4) were "the axis before" the last, which is 6.
    For every recorded shape question and each misreading a learner makes of it (batch left
    out or fixed, the time axis dropped, kept or doubled, features or timesteps as the last
    axis, axes swapped, the input given back, the gates' blocks, one direction of two), is
    the shape it gives wrong, and its message one that names that misreading, both of two
    misreadings that give one shape only on this question's sizes?"""
    expected, context = tuple(entry["expected"]), entry["context"]
    sizes = _shape_sizes(entry["expected"], context)
    assert _shape_of(sizes) == expected, f"{assignment} {question}: the sizes do not make it"
    readings = _shape_readings(sizes)
    generic = _shape_readings(_generic_sizes(sizes))
    problems = []
    for reading, shape in readings.items():
        if shape == expected:
            problems.append(f"{reading} gives the right shape {shape}")
            continue
        result = verdicts.verdict("shape", shape, entry["expected"], context, entry["mistakes"])
        always = {other for other in generic if generic[other] == generic[reading]}
        coinciding = {
            other
            for other, same in readings.items()
            if same == shape and other not in always | {reading}
        }
        if result.correct:
            problems.append(f"{reading} {shape} is judged right")
        elif not _told(result.message, reading, always):
            problems.append(f"{reading} {shape} is told {result.message!r}")
        for other in sorted(coinciding):
            if not _told(result.message, other, set()):
                problems.append(
                    f"{shape} is both {reading} and {other}, but the message names only one: "
                    f"{result.message!r}"
                )
        # the same slip with the batch written wrong too, as often as not: both are told
        if "batch" in reading or len(shape) < 2 or shape[0] != expected[0]:
            continue
        # a batch size no size of the question equals: 32 for 04 q6 is also its units
        sizes_used = {sizes[key] for key in ("timesteps", "features", "units")} | set(expected)
        batch = next(n for n in (32, 64, 100, 128) if n not in sizes_used)
        both = (batch if expected[0] is None else None, *shape[1:])
        if both in readings.values():
            continue  # another single slip, told above
        result = verdicts.verdict("shape", both, entry["expected"], context, entry["mistakes"])
        if not (_told(result.message, reading, always) and "batch" in result.message):
            problems.append(f"{reading} with a wrong batch, {both}, is told {result.message!r}")
    assert not problems, f"{assignment} {question}: " + "; ".join(problems)


#: The words by which a message tells each misreading of a list of shapes.
_LIST_WORDS = {
    "the output only": ("output only", "one tensor"),
    "a state left out": ("leaves out", "one state", "your list has"),
    "one tensor too many": ("your list has", "whole tuple", "no cell state"),
    "the states before the output": ("wrong order",),
    "every weight transposed": ("transposed",),
    "one block for the gates' arrays": ("one block",),
    "the recurrent kernel left out": ("recurrent kernel",),
    "the bias left out": ("bias",),
    "two bias vectors": ("second bias",),
}


def _list_readings(expected: list[tuple], context: dict) -> dict[str, list[tuple]]:
    """Each misreading of a whole list of shapes: its count of tensors, their order, and for
    weights the transposes and the one block of a gated layer."""
    roles = [str(role) for role in context.get("roles") or []]
    weights = any(word in role for role in roles for word in ("kernel", "bias"))
    if weights:
        found = {"every weight transposed": [shape[::-1] for shape in expected]}
        if len(expected) == 3:
            found["the recurrent kernel left out"] = [expected[0], expected[2]]
            found["the bias left out"] = expected[:2]
            found["two bias vectors"] = [*expected, expected[2]]
            units = expected[1][0]
            if expected[2][0] > units:  # gated: the blocks side by side
                found["one block for the gates' arrays"] = [
                    (expected[0][0], units),
                    (units, units),
                    (units,),
                ]
        return found
    found = {"a state left out": expected[:-1], "one tensor too many": [*expected, expected[-1]]}
    if roles and roles[0].split()[-1] == "output":
        found["the output only"] = expected[:1]
        if expected[0] != expected[1]:
            found["the states before the output"] = [*expected[1:], expected[0]]
    return found


@pytest.mark.parametrize(
    ("assignment", "question", "entry"),
    _recorded_questions("shapes"),
    ids=[f"{a}-{q}" for a, q, _ in _recorded_questions("shapes")],
)
def test_each_misreading_of_a_list_of_shapes_is_told(
    assignment: str, question: str, entry: dict
) -> None:
    """As for one shape, over every recorded list of shapes (return_state's tuples, a
    Bidirectional's five, initial_state, weights): is each misreading of the list (the
    output alone, a state left out or added, the states first, every weight transposed, one
    gate's block, a bias too many) and each misreading of one tensor in it, the others
    right, told by its message, and both of two that coincide only on the question's sizes?"""
    expected = [tuple(shape) for shape in entry["expected"]]
    context = entry["context"]
    judged = verdicts.verdict  # the checks' verdict, as the grader gives it
    roles = [str(role) for role in context.get("roles") or []]
    parts = context.get("parts") or []
    problems = []
    lists = _list_readings(expected, context)
    for reading, answer in lists.items():
        result = judged("shapes", answer, entry["expected"], context, entry["mistakes"])
        # two readings of one list (the output alone is a list of two with its state left
        # out) are one answer, told by either
        words = [word for other in lists if lists[other] == answer for word in _LIST_WORDS[other]]
        if answer == expected or result.correct:
            problems.append(f"{reading} {answer} is judged right")
        elif not any(word in result.message for word in words):
            problems.append(f"{reading} {answer} is told {result.message!r}")
    weights = any(word in role for role in roles for word in ("kernel", "bias"))
    for i, shape in enumerate([] if weights else expected):
        role = roles[i] if i < len(roles) else None
        part = {**context, **parts[i]} if i < len(parts) else context
        sizes = _shape_sizes(list(shape), part, role)
        readings = _shape_readings(sizes)
        generic = _shape_readings(_generic_sizes(sizes))
        for reading, wrong in readings.items():
            if wrong == shape:
                problems.append(f"{role}: {reading} gives the right shape {wrong}")
                continue
            answer = [*expected[:i], wrong, *expected[i + 1 :]]
            result = judged("shapes", answer, entry["expected"], context, entry["mistakes"])
            always = {other for other in generic if generic[other] == generic[reading]}
            coinciding = {o for o, same in readings.items() if same == wrong} - always
            if result.correct:
                problems.append(f"{role}: {reading} {wrong} is judged right")
            elif not _told(result.message, reading, always):
                problems.append(f"{role}: {reading} {wrong} is told {result.message!r}")
            for other in sorted(coinciding - {reading}):
                if not _told(result.message, other, set()):
                    problems.append(
                        f"{role}: {wrong} is both {reading} and {other}, but the message "
                        f"names only one: {result.message!r}"
                    )
    assert not problems, f"{assignment} {question}: " + "; ".join(problems)


#: The words by which a message tells each misreading of a layer or a model design.
_DESIGN_WORDS = {
    "return_sequences flipped": ("return_sequences",),
    "return_state added": ("return_state",),
    "return_state left out": ("return_state",),
    "units as the features": ("features",),
    "units as the timesteps": ("timesteps",),
    "units doubled": ("units",),
    "merge_mode left at 'concat'": ("'concat'",),
    "merge_mode=None": ("merge_mode=None",),
    "a GRU wrapped": ("GRU",),
    "the layer unwrapped": ("asks for a Bidirectional",),
    "a layer left out": ("missing",),
    "a layer twice": ("one too many",),
    "two layers swapped": ("wrong order", "Embedding first", "layer before it"),
    "the units of two layers swapped": ("units",),
    "the activation left out": ("activation",),
    "input_dim and output_dim swapped": ("input_dim",),
}


def _with(spec: dict, **changes: object) -> dict:
    config = {**spec["config"], **changes}
    return {"class_name": spec["class_name"], "config": config}


def _layer_readings(right: dict, context: dict) -> dict[str, dict]:
    """Each misreading of an inverse question's one layer, made from the right layer."""
    found = {}
    wrapped = right["class_name"] == "Bidirectional"
    inner = right["config"]["layer"] if wrapped else right

    def rewrap(layer: dict) -> dict:
        return _with(right, layer=layer) if wrapped else layer

    config = inner["config"]
    found["return_sequences flipped"] = rewrap(
        _with(inner, return_sequences=not config.get("return_sequences", False))
    )
    if config.get("return_state"):
        found["return_state left out"] = rewrap(_with(inner, return_state=False))
    else:
        found["return_state added"] = rewrap(_with(inner, return_state=True))
    for name, size in (("features", context["features"]), ("timesteps", context["timesteps"])):
        if size != config["units"]:
            found[f"units as the {name}"] = rewrap(_with(inner, units=size))
    found["units doubled"] = rewrap(_with(inner, units=2 * config["units"]))
    if wrapped:
        found["merge_mode left at 'concat'"] = {
            "class_name": "Bidirectional",
            "config": {"layer": inner},
        }
        found["merge_mode=None"] = _with(right, merge_mode=None)
        found["a GRU wrapped"] = rewrap({"class_name": "GRU", "config": config})
        found["the layer unwrapped"] = inner
    return found


def _model_readings(right: list[dict]) -> dict[str, list[dict]]:
    """Each misreading of a model design, made from the right model: a flag, a layer, an
    order or a size that a learner gets wrong while the rest stays right."""
    found: dict[str, list[dict]] = {}
    recurrent = [i for i, layer in enumerate(right) if layer["class_name"] in ("LSTM", "GRU")]
    for i in recurrent:
        flipped = not right[i]["config"].get("return_sequences", False)
        found[f"return_sequences flipped, layer {i + 1}"] = [
            *right[:i],
            _with(right[i], return_sequences=flipped),
            *right[i + 1 :],
        ]
        found[f"return_state added, layer {i + 1}"] = [
            *right[:i],
            _with(right[i], return_state=True),
            *right[i + 1 :],
        ]
    for i in range(len(right) if len(right) > 1 else 0):  # an empty list is no model
        found[f"a layer left out, layer {i + 1}"] = right[:i] + right[i + 1 :]
    found["a layer twice, the last"] = [*right, right[-1]]
    for i in range(len(right) - 1):
        if right[i] != right[i + 1]:
            found[f"two layers swapped, layers {i + 1} and {i + 2}"] = [
                *right[:i],
                right[i + 1],
                right[i],
                *right[i + 2 :],
            ]
    if len(recurrent) == 2:
        first, second = (right[i]["config"]["units"] for i in recurrent)
        if first != second:
            swapped = list(right)
            swapped[recurrent[0]] = _with(right[recurrent[0]], units=second)
            swapped[recurrent[1]] = _with(right[recurrent[1]], units=first)
            found["the units of two layers swapped"] = swapped
    for i, layer in enumerate(right):
        config = layer["config"]
        if layer["class_name"] == "Dense" and config.get("activation"):
            plain = {key: value for key, value in config.items() if key != "activation"}
            found[f"the activation left out, layer {i + 1}"] = [
                *right[:i],
                {"class_name": "Dense", "config": plain},
                *right[i + 1 :],
            ]
        if layer["class_name"] == "Embedding":
            found["input_dim and output_dim swapped"] = [
                *right[:i],
                _with(layer, input_dim=config["output_dim"], output_dim=config["input_dim"]),
                *right[i + 1 :],
            ]
    return found


_DESIGN_QUESTIONS = _recorded_questions("layer_shapes") + _recorded_questions("model")


@pytest.mark.parametrize(
    ("assignment", "question", "entry"),
    _DESIGN_QUESTIONS,
    ids=[f"{a}-{q}" for a, q, _ in _DESIGN_QUESTIONS],
)
def test_each_misreading_of_a_design_is_told(assignment: str, question: str, entry: dict) -> None:
    """For every recorded inverse question (one layer that returns given shapes) and model
    design, starting from the instructor's answer: is each misreading a learner makes of it
    (a return flag flipped or added, the units taken from the features or the timesteps,
    the default merge_mode, a layer left out, doubled or swapped with the next, two layers'
    units swapped, an activation or an Embedding's sizes lost) judged wrong, with a message
    that names it? Two misreadings that make one answer are told by either's words."""
    kind = entry["kind"]
    right = solution_answer(assignment, question)
    judged = verdicts.verdict(kind, right, entry["expected"], entry["context"], entry["mistakes"])
    assert judged.correct, f"{assignment} {question}: the solution is judged {judged.message!r}"
    readings = (
        _layer_readings(right, entry["context"])
        if kind == "layer_shapes"
        else _model_readings(right)
    )
    problems = []
    for reading, answer in readings.items():
        result = verdicts.verdict(
            kind, answer, entry["expected"], entry["context"], entry["mistakes"]
        )
        words = [
            word
            for other, same in readings.items()
            if same == answer
            for word in _DESIGN_WORDS[other.split(",")[0]]
        ]
        if result.correct:
            problems.append(f"{reading} is judged right: {answer}")
        elif not any(word in result.message for word in words):
            problems.append(f"{reading} is told {result.message!r}")
    assert not problems, f"{assignment} {question}: " + "; ".join(problems)


#: Answers to 08-putting-together written as a learner might, each with its verdict: a right
#: answer in a form the grader takes (a design written by keras.layers.serialize), in one it
#: tells how to write (a list for a shape, a NumPy count, an option in another case, a tuple
#: of shapes), and a wrong design once judged right (an initializer written None).
NOTABLE_ANSWERS = {
    "q1-answer": "answer_q1 = [None, 30, 8]",
    "q3-answer": "import numpy as np\nanswer_q3 = np.int64(6427)",
    "q4-answer": 'answer_q4 = "embedding"',
    "q5-answer": "answer_q5 = ((None, 30, 16), (None, 30, 3))",
    "q6-answer": (
        "import keras\n"
        "answer_q6 = [keras.layers.serialize(layer) for layer in (\n"
        "    keras.layers.Embedding(500, 8),\n"
        "    keras.layers.LSTM(16, return_sequences=True),\n"
        "    keras.layers.LSTM(8, return_sequences=True),\n"
        '    keras.layers.Dense(3, activation="softmax"))]'
    ),
    "q7-answer": (
        "answer_q7 = [\n"
        '    {"class_name": "Embedding", "config": {"input_dim": 1000, "output_dim": 16}},\n'
        '    {"class_name": "LSTM", "config": {"units": 32, "return_sequences": True}},\n'
        '    {"class_name": "LSTM", "config": {"units": 16, "recurrent_initializer": None}},\n'
        '    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}},\n'
        "]"
    ),
}


def _check_verdict(cell: nbformat.NotebookNode) -> tuple[bool, str]:
    """What a practice check cell told the learner: right or not, and the message."""
    for output in cell.outputs:
        if output.output_type == "error":
            assert output.ename == "AnswerError", (output.ename, output.evalue)
            return False, output.evalue
    text = "".join(output.get("text", "") for output in cell.outputs)
    question = _nbgrader(cell)["grade_id"]
    for line in text.splitlines():
        for mark, correct in (("✔", True), ("✘", False)):
            if line.startswith(f"{mark} {question}: "):
                return correct, line.removeprefix(f"{mark} {question}: ")
    raise AssertionError(f"{question}: no verdict in {text!r}")


@pytest.mark.slow
def test_a_check_cell_and_lstm_grade_agree_on_answers_written_as_learners_write_them(
    course_factory,
) -> None:
    """A learner reads the check cell's verdict, and the instructor's lstm-grade gives the
    grade. For a design written out by keras.layers.serialize, a shape written as a list, a
    count left a NumPy int, an option in another case, shapes in a tuple and a design with
    an initializer written None, does the check cell, run in a real kernel against live
    Keras, say what lstm-grade then says: the same verdict, in the same words?"""
    from nbclient import NotebookClient

    assignment = "08-putting-together"
    course = course_factory(assignment)
    notebook = answered(course.release(assignment), course.source(assignment), NOTABLE_ANSWERS)
    course.submit("notable", assignment, notebook)

    ran = nbformat.from_dict(notebook)
    folder = course.layout.release(assignment)
    NotebookClient(ran, timeout=600, kernel_name="python3", allow_errors=True).execute(
        cwd=str(folder)
    )
    in_notebook = {_nbgrader(cell)["grade_id"]: _check_verdict(cell) for cell in _test_cells(ran)}

    course.run("lstm-grade", assignment, "--workers", "1", "--no-progress", timeout=1800)
    graded = course.report("notable", assignment)["questions"]
    for answer_cell in NOTABLE_ANSWERS:
        question = answer_cell.removesuffix("-answer")
        correct, message = in_notebook[question]
        assert correct == (graded[question]["score"] == 1), (question, message, graded[question])
        assert message == graded[question]["message"], (question, message, graded[question])
    assert in_notebook["q6"][0] is True
    assert not any(in_notebook[q][0] for q in ("q1", "q3", "q4", "q5", "q7"))
    assert "glorot_uniform" in in_notebook["q7"][1]
