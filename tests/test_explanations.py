"""Explanations of expected values: derived from each question's context, never a crash.

Every question of every ``references/*.json`` gets an explanation that names the numbers
of its expected value; a few are checked word for word, and contexts of unforeseen forms
give a plain sentence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from lstm_lib.explanations import explain_answer, format_expected

REFERENCES = sorted((ROOT / "references").glob("*.json"))


def _questions() -> list[tuple[str, str, dict]]:
    found = []
    for path in REFERENCES:
        for question, entry in json.loads(path.read_text(encoding="utf-8"))["questions"].items():
            found.append((path.stem, question, entry))
    return found


QUESTIONS = _questions()


def _numbers(kind: str, expected) -> list[str]:
    """The numbers an explanation of this value has to mention."""
    if kind == "int":
        return [str(expected)]
    if kind == "shape":
        return [str(n) for n in expected if n is not None]
    if kind in ("shapes", "layer_shapes"):
        return [str(n) for shape in expected for n in shape if n is not None]
    if kind == "array":
        return [str(n) for n in np.asarray(expected).shape]
    if kind == "model":
        return [str(expected["params"])] + [str(n) for n in expected["output_shape"] if n]
    return []


def test_the_references_are_there() -> None:
    """Is there something to explain (the course's references are found)?"""
    assert len(QUESTIONS) > 50


@pytest.mark.parametrize(
    ("assignment", "question", "entry"), QUESTIONS, ids=[f"{a}-{q}" for a, q, _ in QUESTIONS]
)
def test_every_question_is_explained_with_its_numbers(assignment, question, entry) -> None:
    """Does each recorded question get a sentence that mentions its expected value's
    numbers (or the option or value itself), in text that formats as Python prints it?"""
    kind, expected, context = entry["kind"], entry["expected"], entry.get("context", {})
    text = explain_answer(kind, expected, context)
    assert isinstance(text, str) and text.strip().endswith("."), text
    words = set(re.findall(r"\d+", text))
    for number in _numbers(kind, expected):
        assert number in words, f"{assignment} {question}: {number} missing from {text!r}"
    if kind in ("choice", "value"):
        assert repr(expected) in text
    shown = format_expected(kind, expected)
    if kind == "shape":
        assert shown == repr(tuple(expected))
        assert shown in text
    if kind in ("shapes", "layer_shapes"):
        assert shown == repr([tuple(shape) for shape in expected])


def test_counts_are_written_out_term_by_term() -> None:
    """LSTM, GRU (both bias layouts), Embedding, Bidirectional and Dense on 3-D input:
    the formula with this question's numbers, ending in the count."""
    lstm = {"class_name": "LSTM", "config": {"units": 16}}
    assert explain_answer("int", 1600, {"layer": lstm, "input_shape": [None, 20, 8]}).startswith(
        "4 blocks × (8 features × 16 + 16 units × 16 + 16 bias) = 1600. "
    )
    gru = {"class_name": "GRU", "config": {"units": 8}}
    text = explain_answer("int", 360, {"layer": gru, "input_shape": [None, 10, 5]})
    assert text.startswith("3 blocks × (5 features × 8 + 8 units × 8 + 2 × 8 bias) = 360. ")
    assert "`reset_after=True`" in text and "two biases" in text
    old_gru = {"class_name": "GRU", "config": {"units": 8, "reset_after": False}}
    text = explain_answer("int", 336, {"layer": old_gru, "input_shape": [None, 10, 5]})
    assert text.startswith("3 blocks × (5 features × 8 + 8 units × 8 + 8 bias) = 336. ")
    embedding = {"class_name": "Embedding", "config": {"input_dim": 1000, "output_dim": 64}}
    text = explain_answer("int", 64000, {"layer": embedding, "input_shape": [None, 10]})
    assert text.startswith("input_dim × output_dim = 1000 × 64 = 64000. ")
    both = {"class_name": "Bidirectional", "config": {"layer": {**lstm, "config": {"units": 8}}}}
    text = explain_answer("int", 896, {"layer": both, "input_shape": [None, 10, 5]})
    assert text.startswith(
        "2 directions × 4 blocks × (5 features × 8 + 8 units × 8 + 8 bias) = 2 × 448 = 896. "
    )
    dense = {"class_name": "Dense", "config": {"units": 16}}
    text = explain_answer("int", 144, {"layer": dense, "input_shape": [None, 10, 8]})
    assert text.startswith("8 features × 16 units + 16 bias = 144. ")
    assert "each of the 10 timesteps" in text
    simple = {"class_name": "SimpleRNN", "config": {"units": 16, "use_bias": False}}
    text = explain_answer("int", 384, {"layer": simple, "input_shape": [None, 10, 8]})
    assert text.startswith("8 features × 16 + 16 units × 16 = 384. ")
    assert "`use_bias=False`" in text


def test_shapes_name_each_axis_and_the_flag_that_decides_it() -> None:
    """Is return_sequences named for a recurrent layer's shape, and each tensor of a list
    given its role?"""
    lstm = {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}}
    text = explain_answer("shape", [None, 8, 16], {"layer": lstm, "input_shape": [None, 8, 3]})
    assert text.startswith("(batch, timesteps, units) = (None, 8, 16): `return_sequences=True`")
    text = explain_answer("shape", [None, 16], {"features": 64, "timesteps": 10})
    assert text.startswith("(batch, last axis) = (None, 16).")
    assert "`return_sequences=False`" in text
    text = explain_answer(
        "shapes",
        [[None, 8, 16], [None, 16], [None, 16]],
        {"timesteps": 8, "roles": ["output", "h", "c"]},
    )
    assert text == (
        "3 tensors, in Keras's order: output: (None, 8, 16), (batch, timesteps, units), "
        "every step; h: (None, 16), (batch, units), after the last step; c: (None, 16), "
        "(batch, units), after the last step."
    )
    text = explain_answer(
        "shapes",
        [[3, 24], [6, 24], [24]],
        {"roles": ["the kernel W", "the recurrent kernel U", "the bias b"]},
    )
    assert text.startswith(
        "The kernel W (3, 24) = (3 features, 4 blocks × 6 units); the recurrent kernel U "
        "(6, 24) = (6 units, 4 blocks × 6 units); the bias b (24,) = (4 blocks × 6 units,)."
    )


def test_choices_say_which_option_and_why_only_when_told() -> None:
    """The wrong options' texts never explain the right one; an explicit ``why`` does."""
    context = {"options": ["a", "b"], "why_not": {"a": "Not a: it is b."}}
    assert explain_answer("choice", "b", context) == "The right option is `'b'`."
    assert explain_answer("choice", "b", {**context, "why": {"b": "Because b."}}) == (
        "The right option is `'b'`. Because b."
    )


def test_models_arrays_and_values_get_a_plain_statement() -> None:
    """A model's output shape and count, an array's shape, a value verbatim."""
    text = explain_answer(
        "model",
        {"output_shape": [None, 1], "params": 25425},
        {"input_shape": [None, 20], "required_layers": ["Embedding", "LSTM", "Dense"]},
    )
    assert text.startswith(
        "Any stack of layers (with Embedding, LSTM and Dense) that turns (None, 20) into "
        "(None, 1) and holds exactly 25425 parameters in all is right"
    )
    assert "of shape (1, 2)" in explain_answer("array", [[0.5, 0.25]], {})
    assert explain_answer("value", "TypeError", {}).startswith(
        "The expected value is `'TypeError'`, found by running"
    )
    keywords = explain_answer("value", {"units": 128}, {})
    assert "Each key given its right value" in keywords and "exactly" not in keywords


@pytest.mark.parametrize(
    ("kind", "expected", "context"),
    [
        ("int", 10, {}),
        ("int", 10, {"layer": "not a layer", "input_shape": [None, 3]}),
        ("int", 99, {"layer": {"class_name": "LSTM", "config": {"units": 2}}, "input_shape": [1]}),
        ("int", 7, {"layer": {"class_name": "Conv1D", "config": {}}, "input_shape": [None, 3]}),
        ("shape", [None, 4], {"layer": {"class_name": "Nope"}, "input_shape": "x"}),
        ("shape", "oops", {"timesteps": "many"}),
        ("shapes", [[None, 4]], {"roles": "output"}),
        ("shapes", 5, {}),
        ("layer_shapes", [[None, 4]], None),
        ("choice", "x", {"why": 3}),
        ("model", {"params": "lots"}, {}),
        ("array", [[1, "a"]], {}),
        ("mystery", {"a": 1}, {"b": 2}),
    ],
)
def test_unforeseen_contexts_give_a_plain_sentence(kind, expected, context) -> None:
    """A context or value of a form nobody recorded yet never raises."""
    text = explain_answer(kind, expected, context)
    assert isinstance(text, str) and text


def test_a_count_the_context_does_not_give_is_not_explained_by_it() -> None:
    """If the formula would give another number, the explanation says only the value."""
    lstm = {"class_name": "LSTM", "config": {"units": 16}}
    assert explain_answer("int", 1234, {"layer": lstm, "input_shape": [None, 20, 8]}) == (
        "Keras gives `1234`."
    )


def test_the_module_imports_no_heavy_library() -> None:
    """NumPy only: neither TensorFlow, Keras nor matplotlib comes with it."""
    import subprocess
    import sys

    code = (
        "import sys, lstm_lib.explanations; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'matplotlib')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(ROOT), capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def _reference(assignment: str, question: str) -> dict:
    path = ROOT / "references" / f"{assignment}.json"
    return json.loads(path.read_text(encoding="utf-8"))["questions"][question]


@pytest.mark.parametrize(
    ("assignment", "question", "shown"),
    [
        ("08-putting-together", "q6", ["`Dense(units=3, activation='softmax')`", "6427"]),
        ("08-putting-together", "q7", ["`LSTM(units=32, return_sequences=True)`", "units"]),
        ("09-keras2-to-keras3", "q7", ["recurrent_activation='hard_sigmoid'", "`Dropout("]),
    ],
)
def test_a_model_with_recorded_layers_says_its_layers_are_judged(
    assignment, question, shown
) -> None:
    """A model whose reference records its layers is judged layer by layer (class, order,
    options), so its explanation never says that any stack of that shape and count is right:
    it names the layers and options asked for."""
    entry = _reference(assignment, question)
    text = explain_answer(entry["kind"], entry["expected"], entry["context"])
    assert "Any stack" not in text
    assert "in this order" in text
    for words in shown:
        assert words in text
    output = format_expected("shape", entry["expected"]["output_shape"])
    assert output in text


def test_a_free_option_of_a_model_is_said_to_be_the_learners() -> None:
    """08 q7 leaves the second LSTM's units to the learner (the count fixes them): the
    explanation says so, and does not list a size for it."""
    entry = _reference("08-putting-together", "q7")
    text = explain_answer(entry["kind"], entry["expected"], entry["context"])
    assert "`units` of layer 3 (LSTM) is yours to choose" in text
    assert "25425" in text


def test_an_input_shape_is_explained_with_its_features() -> None:
    """A shape asked for as the layer's input (context ``role: "input"``, as 03 q5 needs)
    is (batch, timesteps, features), never told as an output with units."""
    text = explain_answer("shape", [32, 10, 1], {"role": "input"})
    assert text.startswith("(batch, timesteps, features) = (32, 10, 1)")
    assert "1 feature" in text and "units" not in text
    assert explain_answer("shape", [32, 10, 1], {}).startswith("(batch, timesteps, last axis)")


@pytest.mark.parametrize(
    ("assignment", "question", "free"),
    [
        ("02-dense", "q7", "`activation`"),
        ("05-return-flags", "q6", None),
        ("08-putting-together", "q6", None),
        ("08-putting-together", "q7", None),
        ("09-keras2-to-keras3", "q7", None),
    ],
)
def test_a_model_explanation_says_which_options_are_judged(assignment, question, free) -> None:
    """Only the options a reference records are judged (02 q7 leaves the activation free;
    unroll or an initializer is free everywhere): the explanation names the judged options
    it does not show and says the others are free, never that every option is judged."""
    entry = _reference(assignment, question)
    text = explain_answer(entry["kind"], entry["expected"], entry["context"])
    assert "an option not shown is judged" not in text, text
    assert "any other option is yours to choose" in text, text
    assert "`trainable`" in text, text
    if free:
        assert f"{free} included" in text, text
    else:
        assert "included" not in text, text


def test_a_models_count_is_written_out_layer_by_layer() -> None:
    """08 q3 and 06 q8: each layer's formula with its numbers, then the sum; a frozen
    layer named and left out where only trainable weights count."""
    questions = {
        name: json.loads((ROOT / "references" / f"{name}.json").read_text())["questions"]
        for name in ("08-putting-together", "06-embedding")
    }
    q3 = questions["08-putting-together"]["q3"]
    text = explain_answer(q3["kind"], q3["expected"], q3["context"])
    assert "Embedding: input_dim × output_dim = 500 × 8 = 4000" in text, text
    assert text.endswith("In all: 4000 + 1600 + 800 + 27 = 6427."), text
    q8 = questions["06-embedding"]["q8"]
    text = explain_answer(q8["kind"], q8["expected"], q8["context"])
    assert "frozen (trainable=False): not counted" in text, text
    assert text.endswith(f"= {q8['expected']}."), text


def test_a_units_question_shows_the_count_with_the_units_in() -> None:
    """04 q7 gives the count and asks for units: is the formula shown with the units in,
    giving the count the question gives?"""
    q7 = json.loads((ROOT / "references" / "04-lstm.json").read_text())["questions"]["q7"]
    text = explain_answer(q7["kind"], q7["expected"], q7["context"])
    assert text.startswith(f"With units = {q7['expected']}: 4 blocks × ("), text
    assert text.endswith(f"= {q7['context']['params']}, the count the question gives."), text


def test_one_unit_is_one_unit() -> None:
    """A Dense(1) on 4 features: "4 features × 1 unit", never "1 units"."""
    dense = {"class_name": "Dense", "config": {"units": 1}}
    text = explain_answer("int", 5, {"layer": dense, "input_shape": [None, 4]})
    assert text.startswith("4 features × 1 unit + 1 bias = 5."), text
    assert "1 units" not in text


def test_an_input_dim_question_counts_the_rows_from_the_ids() -> None:
    """06 q5 asks for the smallest input_dim: is it explained as one row per id, from the
    padding id 0 to the largest id?"""
    q5 = json.loads((ROOT / "references" / "06-embedding.json").read_text())["questions"]["q5"]
    text = explain_answer(q5["kind"], q5["expected"], q5["context"])
    assert text.startswith("The ids run from 0 (the padding id) to 20"), text
    assert f"20 + 1 = {q5['expected']} rows" in text, text
