"""Tests for lstm_lib.sealed: explanations that open only for the answer they explain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import verdicts
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
    for leak in ("timesteps", "features", "None", "16", "q3", "xyz"):
        assert leak not in text


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
