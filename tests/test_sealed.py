"""Tests for lstm_lib.sealed: explanations that open only for the answer they explain."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_grader.references import load_references
from lstm_lib import checks, verdicts
from lstm_lib.sealed import SEALED_FILE, canonical, read_sealed, seal, unseal

answers = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
    max_leaves=8,
)


@settings(deadline=None, max_examples=200)
@given(answers, answers, st.text(min_size=1, max_size=60))
def test_a_seal_opens_for_its_answer_and_no_other(answer, other, message) -> None:
    """Does each explanation open for its own answer, and for no different one?"""
    box = seal([("q1", answer, message)])
    assert unseal(box, "q1", answer) == message
    if canonical("q1", other) != canonical("q1", answer):
        assert unseal(box, "q1", other) is None
    assert unseal(box, "q2", answer) is None  # the question is part of the key


def test_the_sealed_file_holds_neither_answers_nor_messages() -> None:
    """Can nothing of an answer or its explanation be read off the sealed data?"""
    box = seal([("q3", "b", "Option b counts timesteps as features"), ("q3", (None, 16), "xyz")])
    text = json.dumps(box)
    for leak in ("timesteps", "features", "None", "null", "q3", "xyz"):
        assert leak not in text
    # a label is a hash and a sealed text base64, where digits such as "16" may fall by
    # chance: what must not be there is the bytes of an answer or a message
    sealed_bytes = b"".join(base64.b64decode(value) for value in box.values())
    for leak in (b"16", b"null", b"timesteps", b"xyz", b"message", b"value"):
        assert leak not in sealed_bytes


def test_tuples_and_lists_and_nearby_floats_are_one_answer() -> None:
    """Is a recorded list found by the learner's tuple, and an array within the checks'
    tolerance by its recorded value?"""
    box = seal(
        [("q1", [None, 8, 16], "time axis"), ("q5", [[0.12345678, -0.5]], "that is c, not h")]
    )
    assert unseal(box, "q1", (None, 8, 16)) == "time axis"
    assert unseal(box, "q5", np.array([[0.1234571, -0.5000001]])) == "that is c, not h"
    assert unseal(box, "q5", np.array([[0.2, -0.5]])) is None


def test_a_damaged_file_opens_nothing(tmp_path: Path) -> None:
    """Does a missing, malformed or tampered file give no explanation and no error?"""
    assert read_sealed(str(tmp_path)) == {}
    (tmp_path / SEALED_FILE).write_text("not json")
    assert read_sealed(str(tmp_path)) == {}
    box = seal([("q1", 3, "three")])
    label = next(iter(box))
    assert unseal({label: "@@not base64@@"}, "q1", 3) is None
    assert unseal({label: box[label][::-1]}, "q1", 3) != "three"
    # an array's label names its grid: a damaged one that no answer fits opens nothing
    answer = np.array([[1e10, -0.5]])
    for grid in ("1e-300,0.0", "5e-324,0.0", "inf,0.0", "nan,0.0", "0.0,0.0", "-1.0,x", "x,1"):
        assert unseal({f"{grid}@{'0' * 32}": box[label]}, "q1", answer, "array") is None


@settings(deadline=None, max_examples=200)
@given(
    recorded=st.text(alphabet="abcXYZ _-.", min_size=1, max_size=12).filter(str.strip),
    spaces=st.lists(st.sampled_from([" ", "  ", "\t", ""]), min_size=2, max_size=2),
    upper=st.booleans(),
)
def test_a_string_the_grader_names_opens_its_sealed_explanation(
    recorded: str, spaces: list[str], upper: bool
) -> None:
    """Does every string answer the grader matches to a recorded mistake ('No exception' for
    'no exception') open that mistake's sealed explanation in the notebook too?"""
    written = spaces[0] + (recorded.upper() if upper else recorded.lower()) + spaces[1]
    mistakes = [{"value": recorded, "message": "The recorded explanation."}]
    graded = verdicts.verdict("value", written, "TypeError!", mistakes=mistakes)
    box = seal([("q2", recorded, "The recorded explanation.")])
    opened = unseal(box, "q2", written)
    assert graded.message == "The recorded explanation."
    assert opened == graded.message


def _told_in_the_notebook(
    folder: Path,
    question: str,
    answer: Any,
    expected: Any,
    kind: str,
    context: dict[str, Any] | None = None,
) -> verdicts.Verdict:
    """What a practice-mode check cell tells ``answer`` in a student folder ``folder``."""
    assert not os.environ.get(checks.RECORD_ENV)
    checks.use_mode("practice")
    with contextlib.chdir(folder), contextlib.redirect_stdout(io.StringIO()):
        told = checks.reveal(question, answer, expected, kind=kind, context=context)
    assert told is not None
    return told


#: Recorded entries on a rounding boundary of the old three decimals (0.0125), near one,
#: and anywhere, of the sizes the course's arrays have.
_ENTRIES = st.one_of(
    st.integers(-2000, 2000).map(lambda k: k / 1000 + 0.0005),
    st.tuples(st.integers(-2000, 2000), st.floats(-3e-5, 3e-5)).map(
        lambda pair: pair[0] / 1000 + 0.0005 + pair[1]
    ),
    st.floats(-20, 20, allow_nan=False),
)


@settings(deadline=None, max_examples=150)
@given(
    recorded=st.lists(_ENTRIES, min_size=1, max_size=18),
    shifts=st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=18, max_size=18),
    rows=st.sampled_from([1, 2]),
)
def test_an_array_is_named_in_the_notebook_exactly_where_the_grader_names_it(
    recorded: list[float], shifts: list[float], rows: int
) -> None:
    """Is an array answer within the grader's tolerance of a classic mistake told that
    mistake's explanation in a practice notebook, on either side of any rounding boundary
    (0.0124999 for 0.0125001), and one past the tolerance told what the grader tells it?"""
    values = np.array(recorded * rows).reshape(rows, len(recorded))
    tolerance = verdicts.ARRAY_ATOL + verdicts.ARRAY_RTOL * np.abs(values)
    # each entry moved by up to one and a half tolerances: within it, at its edge, past it
    moved = values + np.resize(np.array(shifts), values.shape) * tolerance
    expected = np.full(values.shape, 50.0)
    mistakes = [{"value": values.tolist(), "message": "Named: the classic slip."}]
    graded = verdicts.verdict("array", moved, expected.tolist(), {}, mistakes)
    with tempfile.TemporaryDirectory() as folder:
        box = seal([("q5", values.tolist(), "Named: the classic slip.")])
        Path(folder, SEALED_FILE).write_text(json.dumps(box))
        told = _told_in_the_notebook(Path(folder), "q5", moved, expected.tolist(), "array")
    assert (told.correct, told.message, told.score) == (
        graded.correct,
        graded.message,
        graded.score,
    )


def test_a_value_across_a_rounding_boundary_opens_its_explanation(tmp_path: Path) -> None:
    """Is 0.0124999, within the tolerance of the classic mistake 0.0125001, told that
    mistake in the notebook as the grader tells it, and 0.0125 + 3e-5 told neither?"""
    mistakes = [{"value": [[0.0125001, -0.5]], "message": "Named: that is c, not h."}]
    box = seal([("q5", [[0.0125001, -0.5]], "Named: that is c, not h.")])
    (tmp_path / SEALED_FILE).write_text(json.dumps(box))
    for answer, named in (([[0.0124999, -0.5]], True), ([[0.0125301, -0.5]], False)):
        array = np.array(answer)
        graded = verdicts.verdict("array", array, [[0.9, 0.9]], {}, mistakes)
        told = _told_in_the_notebook(tmp_path, "q5", array, [[0.9, 0.9]], "array")
        assert (graded.message == "Named: that is c, not h.") is named
        assert told.message == graded.message


@settings(deadline=None, max_examples=200)
@given(answer=answers, written=answers)
def test_an_answer_is_named_in_the_notebook_exactly_where_the_grader_names_it(
    answer: Any, written: Any
) -> None:
    """Does every answer that is no array open a sealed explanation exactly where the
    grader names the recorded mistake: tuples for the recorded lists at any depth, a
    string in another case, and a choice's option only as offered?"""
    recorded = json.loads(json.dumps(written))  # a reference holds JSON: lists, no tuples
    box = seal([("q1", recorded, "Named.")])
    named = verdicts.names_mistake("value", answer, recorded)
    assert named is (canonical("q1", answer) == canonical("q1", recorded))
    assert (unseal(box, "q1", answer, "value") == "Named.") is named
    as_offered = type(answer) is str and answer == recorded
    assert (unseal(box, "q1", answer, "choice") == "Named.") is as_offered


def _recorded_array_mistakes() -> list[Any]:
    """Each array mistake a committed practice-mode student version seals."""
    cases = []
    for folder in sorted((ROOT / "exercises").iterdir()):
        if not (folder / SEALED_FILE).is_file():
            continue
        for question, ref in load_references(ROOT / "references", folder.name).items():
            if ref.kind != "array":
                continue
            cases += [
                pytest.param(folder.name, question, index, id=f"{folder.name}-{question}-{index}")
                for index, mistake in enumerate(ref.mistakes)
                if mistake.get("message")
            ]
    return cases


@pytest.mark.parametrize(("assignment", "question", "index"), _recorded_array_mistakes())
def test_a_student_version_names_each_array_mistake_within_tolerance(
    assignment: str, question: str, index: int
) -> None:
    """Does the committed student version open each recorded array mistake's explanation
    for answers within the grader's tolerance of it, each entry pushed up, down or both
    ways to nine tenths of its tolerance, and give the grader's message for each?"""
    ref = load_references(ROOT / "references", assignment)[question]
    sealed = read_sealed(str(ROOT / "exercises" / assignment))
    recorded = np.asarray(ref.mistakes[index]["value"], dtype=float)
    tolerance = verdicts.ARRAY_ATOL + verdicts.ARRAY_RTOL * np.abs(recorded)
    signs = np.resize(np.array([1.0, -1.0]), recorded.shape)
    for push in (np.ones_like(recorded), -np.ones_like(recorded), signs, -signs):
        answer = recorded + 0.9 * push * tolerance
        graded = verdicts.verdict("array", answer, ref.expected, ref.context, ref.mistakes)
        assert graded.message == ref.mistakes[index]["message"]
        assert unseal(sealed, question, answer, "array") == graded.message


def test_an_rnn_around_a_cell_is_told_its_sealed_mistake_as_the_grader_tells_it(
    tmp_path: Path,
) -> None:
    """07 q9's classic mistake written with an RNN around an LSTMCell is judged as the LSTM
    it equals: does the practice check, in the committed student version's folder, open
    that mistake's explanation and add the grader's note on the cell, word for word?"""
    ref = load_references(ROOT / "references", "07-gru-bidirectional")["q9"]
    mistake = ref.mistakes[0]["value"]
    inner = dict(mistake["config"]["layer"]["config"])
    cell = {"class_name": "LSTMCell", "config": {"units": inner.pop("units")}}
    answer = {
        **mistake,
        "config": {
            **mistake["config"],
            "layer": {"class_name": "RNN", "config": {**inner, "cell": cell}},
        },
    }
    graded = verdicts.verdict("layer_shapes", answer, ref.expected, ref.context, ref.mistakes)
    assert graded.message.startswith(ref.mistakes[0]["message"])
    assert "LSTMCell" in graded.message
    folder = tmp_path / "07"
    shutil.copytree(ROOT / "exercises" / "07-gru-bidirectional", folder)
    told = _told_in_the_notebook(
        folder, "q9", answer, ref.expected, "layer_shapes", dict(ref.context)
    )
    assert (told.correct, told.message) == (False, graded.message)
