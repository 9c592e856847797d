"""Does grading leave a learner the names a practice run's check cells built?

Which check cells run again is read from the sources here; the replay itself runs in a
fresh interpreter with ``NBGRADER_EXECUTION`` set, as in the grading kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

from lstm_grader import check_names
from lstm_grader.check_names import assigned_names, cells_to_replay, replay_source
from lstm_grader.hidden import split_hidden

ROOT = Path(__file__).resolve().parent.parent


def test_magics_and_shell_lines_do_not_hide_a_cells_names() -> None:
    """A learner's cell with ``%matplotlib inline`` or ``!pip`` is no Python: are its
    other lines still read?"""
    cell = "%matplotlib inline\n!pip list\nanswer_q3 = model.count_params()\n"
    assert cells_to_replay([(True, "model = build()"), (False, cell)]) == {0}
    assert assigned_names(cell) == {"answer_q3"}
    assert assigned_names("x = (") == set()


@pytest.mark.parametrize(
    ("learner", "replayed"),
    [
        ("answer_q3 = model.count_params()", {"q2"}),
        ("answer_q3 = sum(layer.count_params() for layer in model.layers)", {"q2"}),
        ("import keras\nmodel = keras.Sequential()\nanswer_q3 = model.count_params()", set()),
        ("answer_q3 = model.count_params()\nmodel = None", {"q2"}),
        ("answer_q3 = 6427", set()),
        ("answer_q3 = keras.Sequential().count_params()", set()),
    ],
    ids=["method", "in-a-generator", "own-model-first", "own-model-after", "a-number", "import"],
)
def test_the_check_cell_whose_model_a_learner_uses_is_replayed(
    learner: str, replayed: set[str]
) -> None:
    """In 08, q2's check builds ``model``. Is that check cell, and only it, run again where
    a learner's q3 answer reads ``model`` before binding it, and none where the answer
    builds its own first, is a number, or uses only a name the check cell imported (bound
    by the hand-over already)?"""
    assert _replayed("08-putting-together", {"q3-answer": learner}) == replayed


@pytest.mark.parametrize("assignment", sorted(p.name for p in (ROOT / "solutions").iterdir()))
def test_the_courses_own_answers_and_data_cells_replay_no_check(assignment: str) -> None:
    """Does grading a solution run no check cell again, so that it never pays for Keras
    (02's q6 data cell binds ``x`` and then reads it, as q5's check had bound ``x``)?"""
    assert _replayed(assignment, {}) == set()


def _replayed(assignment: str, answers: dict[str, str]) -> set[str]:
    """The grade ids of the check cells grading would run again in the solution notebook
    of ``assignment``, with ``answers`` in place of some answer cells."""
    notebook = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    cells = []
    for cell in code:
        meta = cell.metadata.get("nbgrader", {})
        is_check = bool(meta.get("grade")) and not meta.get("solution")
        source = split_hidden(cell.source + "\n")[0] if is_check else cell.source
        cells.append((is_check, answers.get(meta.get("grade_id"), source)))
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in code]
    return {ids[index] for index in cells_to_replay(cells)}


PROBE = """
import json, os, sys
namespace = {"answer_q2": (None, 16)}
exec(%r, namespace)
exec(%r, namespace)
print(json.dumps({
    "model": namespace.get("model"),
    "names": sorted(name for name in namespace if name != "__builtins__"),
    "during": namespace.get("seen_during"),
    "after": os.environ.get("NBGRADER_EXECUTION"),
}))
"""


def test_the_replay_runs_as_practice_swallows_errors_and_leaves_no_name_behind() -> None:
    """Does the replayed check cell run with nbgrader's variable out of the way (as in a
    practice run, so ``keras_allowed()`` can say yes), get it back afterwards, lose only
    what follows an error in the check (a malformed answer stops a practice run there
    too), and leave none of its own names?"""
    check = (
        "import os\n"
        "seen_during = os.environ.get('NBGRADER_EXECUTION')\n"
        "model = 'built'\n"
        "raise ValueError('a malformed answer')\n"
        "later = 1\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (replay_source(check), "pass")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NBGRADER_EXECUTION": "autograde"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "model": "built",
        "names": ["answer_q2", "model", "os", "seen_during"],
        "during": None,
        "after": "autograde",
    }


def test_a_magic_line_is_matched_within_its_own_line() -> None:
    """Does the pattern for magics and shell lines stay within a line? An indent that ran
    across newlines made each blank line start a search over all that followed: a learner's
    cell of 60,000 blank lines took the grader 18 s, 330,000 lines about 9 minutes."""
    cell = "a = 1\n\n\n  %time b = 2\n\t!ls\n\n"
    assert [m.group() for m in check_names._MAGIC_LINE.finditer(cell)] == ["  %time b = 2", "\t!ls"]


def test_learner_code_past_the_budget_is_not_parsed_and_replays_every_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A syntax tree takes about a kilobyte per character of learner code, in the grader's
    own process (a 3 MB cell took it to 2 GB): is code past the budget left unparsed and
    taken to read every name, so every check cell before it is replayed?"""
    parsed: list[int] = []
    parse = check_names._parsed
    monkeypatch.setattr(
        check_names, "_parsed", lambda source: parsed.append(len(source)) or parse(source)
    )
    budget = check_names.MAX_ANALYSED_CHARS
    cells = [
        (True, "model = build()"),
        (False, "answer_q1 = 1\n"),
        (True, "layer = build()"),
        (False, "a\n" * (budget // 2)),
        (True, "late = build()"),
    ]
    assert cells_to_replay(cells) == {0, 2}
    assert max(parsed) < budget
    assert cells_to_replay(cells[:3] + [(False, "answer_q2 = 2\n")]) == set()


#: Cells nested deeply, each with whether every supported Python's parser refuses it: a
#: chain of attributes or calls is past the depth of Python 3.11's and 3.12's, and Python
#: 3.13 parses it.
_DEEP_CELLS = {
    "attributes": ("x = a" + ".a" * 5000, False),
    "calls": ("x = f" + "()" * 5000, False),
    "sum": ("x = " + "+".join(["1"] * 20_000), True),
    "signs": ("x = " + "-" * 20000 + "1", True),
}


def _runs(source: str) -> bool:
    """Whether this Python compiles ``source``, as the learner's kernel would have to."""
    try:
        compile(source, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@pytest.mark.parametrize(("cell", "refused_everywhere"), _DEEP_CELLS.values(), ids=_DEEP_CELLS)
def test_a_cell_nested_past_the_parsers_depth_reads_and_binds_nothing(
    cell: str, refused_everywhere: bool
) -> None:
    """A learner's cell nested past Python's parser depth cannot run, and once made the
    grader's replay analysis raise a RecursionError, so the whole notebook scored 0 as a
    grader error. Is such a cell read as binding and reading nothing, the check before it
    not replayed; and one as deep that this Python does run read for what it binds, without
    raising?"""
    runs = _runs(cell)
    assert not (runs and refused_everywhere)
    assert assigned_names(cell) == ({"x"} if runs else set())
    assert cells_to_replay([(True, "model = build()"), (False, cell)]) == set()


def test_what_the_parser_warns_of_in_a_learners_cell_is_not_the_graders_to_print() -> None:
    """A learner's cell of invalid escapes (``'\\d'``) made Python's parser warn once per line
    each time the grader read it (on Python 3.12 and later, where the warning shows): is
    the cell still read for its names, with no warning left for the grading log?"""
    learner = "".join(f"pattern_{i} = '\\d+'\n" for i in range(200)) + "answer_q1 = model\n"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cells_to_replay([(True, "model = build()"), (False, learner)]) == {0}
    assert caught == []
