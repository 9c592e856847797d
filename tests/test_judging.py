"""Do verdicts stay readable and honest whatever a learner's answer holds?"""

from __future__ import annotations

import json

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from lstm_lib import verdicts
from lstm_lib.judging import MAX_MESSAGE_CHARS, Verdict, printable


@given(st.text())
def test_every_message_is_printable_and_bounded(text: str) -> None:
    """Whatever a message quotes, is each character of it printable (no control character,
    line break or bidirectional override) and the whole within the length cap?"""
    message = Verdict(False, text).message
    assert message.isprintable()
    assert len(message) <= MAX_MESSAGE_CHARS + 50


@given(st.text())
def test_printable_text_is_kept_as_written(text: str) -> None:
    """Is text that is already printable (Greek letters, ×, dashes) left as it is, and is
    making text printable done once for all (a message quoted twice is not escaped twice)?"""
    if text.isprintable():
        assert printable(text) == text
    assert printable(printable(text)) == printable(text)


def test_a_class_name_that_imitates_a_verdict_is_shown_escaped() -> None:
    """05 q7 with a class name holding a right-to-left override, a line break and a
    terminal colour code, written to look like a second, green "Correct" line: is it shown
    escaped, on one line?"""
    question = json.loads((ROOT / "references" / "05-return-flags.json").read_text())["questions"][
        "q7"
    ]
    answer = {"class_name": "\u202eMTSL\n\x1b[32mCorrect: all right", "config": {"units": 4}}
    result = verdicts.verdict(question["kind"], answer, question["expected"], question["context"])
    assert not result.correct
    assert "\\u202eMTSL\\n\\x1b[32mCorrect" in result.message, result.message
    assert result.message.isprintable()


def test_one_shape_written_as_a_list_where_a_list_of_shapes_is_asked_is_told_so() -> None:
    """05 q3 answered [None, 16] (one shape in a list's brackets) was told "Item 1 of your
    list: A shape is a tuple ...; got None", which is true but leaves the learner looking
    for a None they meant. Is it told it wrote one shape, and how a list of shapes looks,
    in the notebook's form check and from the grader alike?"""
    import pytest

    from lstm_lib.judging import AnswerError, expect_shapes

    told = (
        "[None, 16] is a single shape, written as a list; this question wants a list of "
        "shapes, one tuple per returned tensor or weight, e.g. [(None, 16), ...]."
    )
    with pytest.raises(AnswerError) as raised:
        expect_shapes([None, 16])
    assert str(raised.value) == told
    expected = [[None, 16], [None, 16], [None, 16]]
    assert verdicts.verdict("shapes", [None, 16], expected).message == told
    # ints alone may be one-axis shapes written (16), which Python reads as 16
    with pytest.raises(AnswerError, match=r"Item 1 of your list: .*\(16,\)"):
        expect_shapes([16, 16])


def test_a_count_written_as_people_write_numbers_is_told_how_python_reads_it() -> None:
    """A learner writes 6,427 (Python reads the tuple (6, 427)), "64,000" or the count's
    formula in quotes; each was told only "A count is a plain int such as 32; got ...".
    Is each told what Python made of it and what to write, the same in the notebook's
    form check and from the grader, and a tuple that groups no thousands not so?"""
    import pytest

    from lstm_lib.judging import AnswerError, expect_int

    told = {
        (6, 427): "Python reads 6,427 as values separated by commas, which makes a tuple: "
        "write the number without commas, 6427 (or 6_427).",
        (64, 0): "Python reads 64,000 as values separated by commas, which makes a tuple: "
        "write the number without commas, 64000 (or 64_000).",
        "64,000": "Write the number without quotes or commas: 64000.",
        "4 * (16 * (16 + 8) + 16)": "Write the expression without quotes: Python then "
        "works it out.",
    }
    for answer, hint in told.items():
        with pytest.raises(AnswerError) as raised:
            expect_int(answer)
        assert str(raised.value).endswith(hint), raised.value
        assert verdicts.verdict("int", answer, 6427).message == str(raised.value)
    for answer in [(1, 45), (2, 3), (1000, 200), "4 * x", "__import__('os')"]:
        with pytest.raises(AnswerError) as raised:
            expect_int(answer)
        assert str(raised.value).endswith(")."), raised.value


def test_a_layer_written_otherwise_than_as_a_layer_dict_is_told_how_to_write_it() -> None:
    """A learner who built the layer in Keras writes its get_config() (no class), another
    {"LSTM": {"units": 16}}, another the call "LSTM(16)", another a config that is no
    dict; each was told only that a layer is a dict with a 'class_name' (and a config of
    7 that "'int' object is not iterable" by the grader). Is each told what to write, in
    a model's list and as one layer, the same in the notebook and from the grader?"""
    import pytest

    from lstm_lib.judging import AnswerError, expect_layer_spec, expect_layer_specs

    told = {
        "get_config": (
            {"name": "lstm", "trainable": True, "units": 16},
            "keras.layers.serialize(layer) gives the whole layer dict.",
        ),
        "keyed by class": (
            {"LSTM": {"units": 16}},
            'Put the class and the options under keys of their own: {"class_name": "LSTM", '
            '"config": {...}}.',
        ),
        "call": (
            "keras.layers.LSTM(16, return_sequences=True)",
            'Write the layer as a dict, not as its call: {"class_name": "LSTM", "config": '
            '{...}}, with the call\'s arguments in "config", each by its name.',
        ),
        "config no dict": (
            {"class_name": "LSTM", "config": 16},
            "'config' should be a dict of the layer's options, e.g. {\"units\": 8}; got 16 "
            "(type int).",
        ),
    }
    model_context = {"input_shape": [None, 8, 3]}
    for layer, hint in told.values():
        with pytest.raises(AnswerError) as as_one:
            expect_layer_spec(layer)
        assert str(as_one.value).endswith(hint), as_one.value
        graded = verdicts.verdict("layer_shapes", layer, [[None, 16]], model_context)
        assert graded.message == str(as_one.value)
        with pytest.raises(AnswerError) as in_a_model:
            expect_layer_specs([layer])
        assert str(in_a_model.value).endswith(hint), in_a_model.value
        graded = verdicts.verdict("model", [layer], {"output_shape": [None, 16]}, model_context)
        assert graded.message == str(in_a_model.value)


def test_a_list_of_arrays_where_shapes_are_asked_is_judged_without_error() -> None:
    """Looking for a None in [array([])] compared the array with None, which NumPy
    answers with an array whose truth value Python refuses: the verdict raised, which the
    grader reports as its own error. Is it judged like any other wrong form?"""
    import numpy as np

    answer = [np.array([])]
    assert not verdicts.verdict("shapes", answer, [[None, 16]]).correct


def test_a_count_set_to_what_only_prints_is_told_so() -> None:
    """``answer_q3 = model.summary()`` prints the table, Total params and all, and sets
    the answer to None, which was told only "got None (type NoneType)". Is the learner
    told where the None came from, in the notebook and from the grader alike?"""
    import pytest

    from lstm_lib.judging import AnswerError, expect_int

    with pytest.raises(AnswerError) as raised:
        expect_int(None)
    assert "model.summary()" in str(raised.value)
    assert verdicts.verdict("int", None, 6427).message == str(raised.value)
