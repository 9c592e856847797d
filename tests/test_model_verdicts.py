"""Do model questions judge what their prompt asks: the layers, their options, shape and count?

The three model questions (08 q6 and q7, 09 q7) are judged against ``references/*.json``,
recorded by their check cells with :func:`lstm_lib.model_verdicts.model_reference`. The
examiner's three wrong designs (a Dense without its sigmoid, a repaired Keras 1 LSTM without
its activations, an Embedding that keeps ``input_length``) must score nothing, with a message
that says why; the solutions must score in full; each rule fires on its mistake and stays
silent elsewhere. The Keras 3 defaults the verdict assumes are checked against live Keras.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

import pytest
from conftest import ROOT, read_notebook, require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import shapes
from lstm_lib.model_verdicts import (
    DEFAULT_INITIALIZERS,
    DEFAULT_JUDGED,
    KERAS_DEFAULTS,
    compare_model,
    model_reference,
)
from lstm_lib.verdicts import Verdict, verdict

# (assignment, question) of every model question: each is judged by its layers, since a
# stack of other layers can have the same output shape and parameter count.
MODEL_QUESTIONS = sorted(
    (path.stem, question)
    for path in (ROOT / "references").glob("*.json")
    for question, entry in json.loads(path.read_text(encoding="utf-8"))["questions"].items()
    if entry["kind"] == "model"
)


def reference(assignment: str, question: str) -> dict[str, Any]:
    return copy.deepcopy(_reference(assignment, question))


@functools.cache
def _reference(assignment: str, question: str) -> dict[str, Any]:
    path = ROOT / "references" / f"{assignment}.json"
    return json.loads(path.read_text(encoding="utf-8"))["questions"][question]


def solution_answer(assignment: str, question: str) -> list[dict[str, Any]]:
    """The answer the solution notebook's answer cell writes (a fresh copy)."""
    return copy.deepcopy(_solution_answer(assignment, question))


@functools.cache
def _solution_answer(assignment: str, question: str) -> list[dict[str, Any]]:
    notebook = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    (cell,) = [
        c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == f"{question}-answer"
    ]
    namespace: dict[str, Any] = {}
    exec(cell.source, namespace)  # the course's own solution cell
    return namespace[f"answer_{question}"]


def judge(assignment: str, question: str, answer: Any, named: bool = True) -> Verdict:
    """The grader's verdict on ``answer``; ``named=False`` leaves out the recorded mistakes,
    to read what compare_model itself says."""
    ref = reference(assignment, question)
    mistakes = ref["mistakes"] if named else ()
    return verdict("model", answer, ref["expected"], ref["context"], mistakes)


def changed(answer: list[dict[str, Any]], index: int, **config: Any) -> list[dict[str, Any]]:
    """A copy of ``answer`` with ``config`` merged into layer ``index``'s config."""
    answer = copy.deepcopy(answer)
    answer[index]["config"].update(config)
    return answer


def without(answer: list[dict[str, Any]], index: int, *keys: str) -> list[dict[str, Any]]:
    answer = copy.deepcopy(answer)
    for key in keys:
        answer[index]["config"].pop(key, None)
    return answer


# ============================================================ the recorded references


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
def test_references_list_the_judged_layers(assignment: str, question: str) -> None:
    """Is every model question's reference recorded with its layers, so its options are
    judged, and are the classic options in it (Keras's effective values, not hand-typed)?"""
    expected = reference(assignment, question)["expected"]
    assert set(expected) == {"output_shape", "params", "layers"}
    for layer in expected["layers"]:
        assert set(layer) <= {"class_name", "config", "free"}
        for key in layer["config"]:
            assert key in DEFAULT_JUDGED[layer["class_name"]]
    if (assignment, question) != ("02-dense", "q7"):  # its prompt leaves the activation free
        for layer in expected["layers"]:
            assert "units" not in DEFAULT_JUDGED[layer["class_name"]] or (
                "activation" in layer["config"]
            )


def test_free_units_are_recorded_as_free() -> None:
    """Are 08 q7's second LSTM units left to the learner (and judged by the count)?"""
    layers = reference("08-putting-together", "q7")["expected"]["layers"]
    assert layers[2]["free"] == ["units"] and "units" not in layers[2]["config"]
    assert all("free" not in layer for index, layer in enumerate(layers) if index != 2)


# ============================================================ the solutions


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
def test_solution_scores_in_full(assignment: str, question: str) -> None:
    """Does the solution notebook's answer earn every point against the recorded reference?"""
    result = judge(assignment, question, solution_answer(assignment, question))
    assert result.correct and result.earned == 1.0, result.message
    assert result.message.startswith("Correct")


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
@pytest.mark.parametrize(
    ("where", "config"),
    [(0, {}), (1, {}), (1, "shape"), (-1, "shape")],
    ids=["first-without-a-shape", "second-without-a-shape", "second", "last"],
)
def test_an_input_layer_keras_refuses_earns_nothing(
    assignment: str, question: str, where: int, config: dict | str
) -> None:
    """Does the solution with an InputLayer that Keras refuses (one without a shape, or
    one anywhere but first, even with the shape it receives) earn nothing? Such an
    InputLayer once passed the shape through, and a model Keras cannot build scored full
    marks."""
    answer = solution_answer(assignment, question)
    if config == "shape":  # the shape the layers before it hand on
        rows = shapes.stack_shapes(
            answer, reference(assignment, question)["context"]["input_shape"]
        )
        config = {"batch_shape": list(rows[where - 1 if where > 0 else -1].output_shapes[0])}
    answer.insert(
        where if where >= 0 else len(answer), {"class_name": "InputLayer", "config": config}
    )
    result = judge(assignment, question, answer)
    assert not result.correct and result.earned == 0.0, result.message
    assert "InputLayer" in result.message, result.message


def _flags_set(answer: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Each flag (return_sequences, use_bias...) a model answer sets: (its config, key)."""
    return [
        (spec["config"], key)
        for spec in answer
        for key, value in spec.get("config", {}).items()
        if key in shapes._FLAGS and isinstance(value, bool)
    ]


#: The model questions whose solution sets a flag.
FLAGGED_MODEL_QUESTIONS = [
    (assignment, question)
    for assignment, question in MODEL_QUESTIONS
    if _flags_set(_solution_answer(assignment, question))
]


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
@pytest.mark.parametrize(
    "units", [[8.0, 16.0], [], [[16.0]]], ids=["several-numbers", "empty", "nested"]
)
def test_units_written_as_an_array_earn_nothing_without_a_grader_error(
    assignment: str, question: str, units: list
) -> None:
    """An array crosses to the grader as a NumPy array, and the note on a model that does
    not build compares each layer's units with the question's: an array of several
    numbers, or none, has no truth, and the comparison raised, a grader error. Is every
    layer's units as such an array told, as a model that does not build?"""
    import numpy as np

    for index, spec in enumerate(solution_answer(assignment, question)):
        if "units" not in spec["config"]:
            continue
        answer = solution_answer(assignment, question)
        answer[index]["config"]["units"] = np.array(units)
        result = judge(assignment, question, answer)
        assert not result.correct and result.earned == 0.0, result.message
        assert "does not build" in result.message, result.message


@pytest.mark.parametrize(("assignment", "question"), FLAGGED_MODEL_QUESTIONS)
def test_a_quoted_flag_is_told_to_lose_its_quotes_never_that_the_model_fails(
    assignment: str, question: str
) -> None:
    """Keras builds a layer whose flag is the string 'True' or 'False', reading either as
    True. Does the solution with each flag it sets quoted earn nothing, told to write the
    flag without quotes, never that its model does not build?"""
    answer = solution_answer(assignment, question)
    flagged = _flags_set(answer)
    for config, key in flagged:
        config[key] = str(config[key])
    result = judge(assignment, question, answer)
    assert not result.correct and result.earned == 0.0, result.message
    assert result.message.startswith("This model is not judged as written: "), result.message
    assert "does not build" not in result.message
    assert "without quotes" in result.message


@pytest.mark.parametrize(("assignment", "question"), FLAGGED_MODEL_QUESTIONS)
def test_a_flag_written_as_1_or_0_is_judged_as_the_layer_keras_builds(
    assignment: str, question: str
) -> None:
    """Keras builds return_sequences=1 as it builds True, and the layer questions (05 q7)
    judged it so, while the model questions refused it, saying the prompt asked for True
    (05 q6's asks what the next LSTM must receive). Does the solution with each flag written
    1 or 0 earn full marks, and a flag of 2 earn nothing, told as the question's layer's?"""
    answer = solution_answer(assignment, question)
    flagged = _flags_set(answer)
    for config, key in flagged:
        config[key] = int(config[key])
    result = judge(assignment, question, answer)
    assert result.correct, result.message
    config, key = flagged[0]
    config[key] = 2
    result = judge(assignment, question, answer)
    assert not result.correct, result.message
    assert "the prompt asks for" not in result.message, result.message


@pytest.mark.parametrize(("assignment", "question"), FLAGGED_MODEL_QUESTIONS)
@pytest.mark.parametrize("falsy", [None, 0], ids=["none", "zero"])
def test_a_flag_written_none_0_or_1_is_said_back_as_written(
    assignment: str, question: str, falsy: int | None
) -> None:
    """A flag written None, 0 or 1 is judged as the bool Keras reads it as: is it said
    back as the learner wrote it (use_bias=0), never as that bool (use_bias=False), which
    the learner did not write?"""
    for index, (_, key) in enumerate(_flags_set(solution_answer(assignment, question))):
        answer = solution_answer(assignment, question)
        config, _ = _flags_set(answer)[index]
        read_as = not config[key]
        config[key] = 1 if read_as else falsy
        result = judge(assignment, question, answer, named=False)
        assert not result.correct, (key, result.message)
        if f"{key}=" in result.message:  # a free option (02 q7's use_bias) is told by its count
            assert f"{key}={config[key]!r} (which Keras reads as {read_as})" in result.message, (
                key,
                result.message,
            )
        for said in (f"has {key}={read_as}", f"with {key}={read_as}", f"states: {key}={read_as}"):
            assert said not in result.message, (key, result.message)


def test_a_quoted_flag_builds_in_keras(keras: Any) -> None:
    """What the message above rests on: does Keras build an LSTM with
    return_sequences='False', reading it as True?"""
    layer = keras.layers.LSTM(4, return_sequences="False")
    assert tuple(layer.compute_output_shape((None, 5, 3))) == (None, 5, 4)


def _recurrent_positions(answer: list[dict[str, Any]]) -> list[tuple[int, str | None]]:
    """Where an LSTM or GRU stands in ``answer``: (layer index, None) for a plain one,
    (layer index, "layer") for one a Bidirectional wraps."""
    found: list[tuple[int, str | None]] = []
    for index, spec in enumerate(answer):
        if spec["class_name"] in ("LSTM", "GRU"):
            found.append((index, None))
        inner = (spec.get("config") or {}).get("layer")
        if isinstance(inner, dict) and inner.get("class_name") in ("LSTM", "GRU"):
            found.append((index, "layer"))
    return found


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
@pytest.mark.parametrize("use_cudnn", [True, False, "auto"])
def test_a_layer_that_runs_only_through_cudnn_earns_nothing(
    assignment: str, question: str, use_cudnn: bool | str
) -> None:
    """With use_cudnn=True an LSTM or GRU builds, but each call raises where cuDNN cannot
    run it (on a CPU; with 09 q7's sigmoid activations, everywhere): does the solution
    with it written on any recurrent layer earn nothing, saying why, while False and
    'auto', which run everywhere, stay right?"""
    for index, wrapped in _recurrent_positions(solution_answer(assignment, question)):
        answer = solution_answer(assignment, question)
        layer = answer[index]["config"][wrapped] if wrapped else answer[index]
        layer["config"]["use_cudnn"] = use_cudnn
        result = judge(assignment, question, answer)
        if use_cudnn is True:
            assert not result.correct and result.earned == 0.0, result.message
            assert "use_cudnn=True" in result.message, result.message
        else:
            assert result.correct, result.message


def test_a_noise_shape_of_the_inputs_size_drops_as_the_default_does() -> None:
    """The claim behind reading such a noise_shape as None: with the same seed, does a
    Dropout given, at each axis, None or the input's size drop exactly the entries the
    default drops, and one that shares the mask along an axis drop others?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    import numpy as np

    inputs = keras.ops.ones((4, 32))

    def dropped(noise_shape: Any) -> np.ndarray:
        layer = keras.layers.Dropout(0.5, noise_shape=noise_shape, seed=3)
        return keras.ops.convert_to_numpy(layer(inputs, training=True)) == 0

    default = dropped(None)
    assert (dropped([None, 32]) == default).all()
    assert (dropped((None, None)) == default).all()
    assert (dropped([None, 1]) != default).any()


def test_a_layer_written_to_run_only_through_cudnn_cannot_run_on_a_cpu() -> None:
    """The claim behind the rule above: on a machine without cuDNN, does calling an LSTM or
    GRU made with use_cudnn=True raise a ValueError, though Keras builds it?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    if keras.distribution.list_devices("gpu"):
        pytest.skip("this machine has a GPU, where cuDNN may run the layer")
    for layer_class in (keras.layers.LSTM, keras.layers.GRU):
        layer = layer_class(4, use_cudnn=True)
        keras.Sequential([keras.Input((3, 2)), layer])  # builds
        with pytest.raises(ValueError, match="use_cudnn=True"):
            layer(keras.ops.zeros((1, 3, 2)))


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
def test_every_option_written_out_is_still_right(assignment: str, question: str) -> None:
    """Is an answer that writes each judged option with the default value judged as one
    that leaves it out (the learner's left-out options are read as Keras's defaults)?"""
    ref = reference(assignment, question)["expected"]
    answer = copy.deepcopy(solution_answer(assignment, question))
    for spec, layer in zip(answer, ref["layers"], strict=True):
        spec["config"].update(layer["config"])
    assert judge(assignment, question, answer).correct


# ============================================================ the examiner's cases

Q7_08 = ("08-putting-together", "q7")
Q7_09 = ("09-keras2-to-keras3", "q7")
Q6_08 = ("08-putting-together", "q6")


class TestExaminerCases:
    def test_dense_without_sigmoid(self) -> None:
        """08 q7 without the sigmoid: right shape and count, but it outputs a logit."""
        answer = without(solution_answer(*Q7_08), 3, "activation")
        for named in (True, False):
            result = judge(*Q7_08, answer, named=named)
            assert not result.correct and result.earned == 0.0
            assert "outputs a logit, not a probability" in result.message
            assert "sigmoid" in result.message

    def test_repair_that_drops_the_activations(self) -> None:
        """09 q7 with a plain LSTM(32): the old activation and recurrent_activation are lost."""
        answer = without(solution_answer(*Q7_09), 1, "activation", "recurrent_activation")
        result = judge(*Q7_09, answer)
        assert result.earned == 0.0
        assert result.message.startswith(
            "The old LSTM used activation='sigmoid' and recurrent_activation='hard_sigmoid'; "
            "the repair keeps the old layer's options, so keep both"
        )
        own = judge(*Q7_09, answer, named=False)
        assert own.earned == 0.0
        assert "leaves out activation and recurrent_activation" in own.message
        assert "defaults 'tanh' and 'sigmoid'" in own.message
        assert (
            "The old LSTM used activation='sigmoid' and recurrent_activation='hard_sigmoid'; "
            "the repair keeps the old layer's options, so keep both" in own.message
        )

    @pytest.mark.parametrize(
        ("noise_shape", "same"),
        [([None, 32], True), ((None, None), True), ([None, 1], False), ([8, 32], False)],
    )
    def test_repair_whose_dropout_names_the_full_noise_shape(
        self, noise_shape: Any, same: bool
    ) -> None:
        """09 q7's Dropout sees (batch, 32): is a noise_shape that draws one mask entry per
        input entry, as the old noise_shape=None does, right, and one that shares a mask
        along an axis or fixes the batch size wrong?"""
        answer = changed(solution_answer(*Q7_09), 2, noise_shape=noise_shape)
        result = judge(*Q7_09, answer)
        assert result.correct is same, result.message
        if not same:
            assert "noise_shape" in result.message

    def test_repair_that_drops_one_activation(self) -> None:
        """Does a repair without only recurrent_activation (an answer no mistake records)
        fail too, naming that one option?"""
        answer = without(solution_answer(*Q7_09), 1, "recurrent_activation")
        result = judge(*Q7_09, answer)
        assert result.earned == 0.0
        assert "leaves out recurrent_activation" in result.message
        assert "recurrent_activation='hard_sigmoid'" in result.message

    def test_repair_that_keeps_input_length(self) -> None:
        """09 q7 whose Embedding keeps input_length: it builds, but Keras 3 ignores it."""
        answer = changed(solution_answer(*Q7_09), 0, input_length=40)
        for named in (True, False):
            result = judge(*Q7_09, answer, named=named)
            assert result.earned == 0.0
            assert "input_length" in result.message and "ignores" in result.message
            assert "keras.Input(shape=(40,))" in result.message

    def test_dense_without_softmax(self) -> None:
        """08 q6 that loses the given model's softmax: right shape and count, no probabilities."""
        answer = without(solution_answer(*Q6_08), 3, "activation")
        result = judge(*Q6_08, answer, named=False)
        assert result.earned == 0.0
        assert "3 scores (logits), not probabilities" in result.message
        assert "activation='softmax'" in result.message
        assert "Dense layer lost its softmax" in judge(*Q6_08, answer).message


# ============================================================ each rule, where it fires


class TestLayerSequence:
    def test_missing_layer(self) -> None:
        answer = solution_answer(*Q7_09)
        result = judge(*Q7_09, answer[:2] + answer[3:])
        assert not result.correct
        assert "missing a Dropout after the LSTM (your layer 2)" in result.message

    def test_extra_layer(self) -> None:
        answer = solution_answer(*Q7_09)
        extra = {"class_name": "Dropout", "config": {"rate": 0.2}}
        result = judge(*Q7_09, [*answer[:3], extra, *answer[3:]])
        assert not result.correct
        assert "Your layer 4 (Dropout) is one too many" in result.message

    def test_wrong_order(self) -> None:
        answer = solution_answer(*Q7_09)
        answer[2], answer[3] = answer[3], answer[2]
        result = judge(*Q7_09, answer)
        assert not result.correct
        assert result.message.startswith("The right layers in the wrong order.")
        assert "Embedding, LSTM, Dropout, Dense, Activation" in result.message

    def test_replaced_layer(self) -> None:
        answer = solution_answer(*Q7_08)
        answer[2] = {"class_name": "GRU", "config": {"units": 16}}
        result = judge(*Q7_08, answer)
        assert not result.correct
        assert "Your layer 3 is a GRU; the model has an LSTM there." in result.message

    def test_dense_in_place_of_an_activation_layer(self) -> None:
        """The old model.add(Activation('sigmoid')) is a layer of its own: folding it into
        the Dense changes the layers the repair asks for."""
        answer = solution_answer(*Q7_09)
        dense = {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}
        folded = [*answer[:3], dense]
        result = judge(*Q7_09, folded)
        assert not result.correct and "missing an Activation after the Dense" in result.message

    def test_time_distributed_dense_is_the_dense(self) -> None:
        """08 q6's prompt offers TimeDistributed: a TimeDistributed Dense is judged as the
        Dense it wraps, options included."""
        answer = solution_answer(*Q6_08)
        wrapped = {"class_name": "TimeDistributed", "config": {"layer": answer[3]}}
        assert judge(*Q6_08, [*answer[:3], wrapped]).correct
        dense = {"class_name": "Dense", "config": {"units": 3}}
        bare = {"class_name": "TimeDistributed", "config": {"layer": dense}}
        result = judge(*Q6_08, [*answer[:3], bare], named=False)
        assert not result.correct and "activation='softmax'" in result.message

    def test_input_layer_is_not_a_layer_of_the_sequence(self) -> None:
        """A learner who starts with the InputLayer anyway is judged on the layers after it."""
        answer = solution_answer(*Q7_09)
        start = {"class_name": "InputLayer", "config": {"batch_shape": [None, 40]}}
        assert judge(*Q7_09, [start, *answer]).correct


class TestJudgedOptions:
    @pytest.mark.parametrize(
        ("index", "option", "value", "words"),
        [
            (1, "return_sequences", False, "return_sequences=False, so it passes on only"),
            (2, "return_sequences", True, "has return_sequences=True, so it hands on every"),
            (1, "activation", "relu", "activation='relu'; the question's layer keeps Keras's"),
            (0, "mask_zero", True, "has mask_zero=True; the question's layer keeps Keras's"),
            (2, "go_backwards", True, "go_backwards=True"),
            (3, "use_bias", False, "use_bias=False"),
            (0, "output_dim", 8, "output_dim=8; the question's layer has output_dim=16"),
        ],
    )
    def test_an_option_off_the_prompt_is_named(
        self, index: int, option: str, value: Any, words: str
    ) -> None:
        result = judge(*Q7_08, changed(solution_answer(*Q7_08), index, **{option: value}))
        assert not result.correct
        assert words in result.message

    def test_free_units_are_judged_by_the_count(self) -> None:
        """08 q7's second LSTM units are the learner's: a wrong choice is told by the count,
        not as an option off the prompt."""
        result = judge(*Q7_08, changed(solution_answer(*Q7_08), 2, units=17))
        assert not result.correct
        assert result.message.startswith(
            "Your model has 25690 parameters; the specification asks for exactly 25425."
        )
        # the one free layer is named with what its count is made of, never its units
        assert "Layer 3 (LSTM)" in result.message and "features = 32" in result.message
        assert "units = " not in result.message

    def test_required_option_left_out(self) -> None:
        result = judge(*Q7_09, without(solution_answer(*Q7_09), 2, "rate"))
        assert not result.correct and "has no rate, which Keras requires" in result.message

    def test_dropout_rate_is_judged(self) -> None:
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), 2, rate=0.2))
        assert not result.correct and "The old Dropout used rate=0.5" in result.message

    def test_default_written_out_or_none_activation_is_silent(self) -> None:
        """activation=None is Keras's "linear", as is leaving it out: no mistake named."""
        answer = changed(solution_answer(*Q7_09), 3, activation=None, use_bias=True)
        assert judge(*Q7_09, answer).correct
        answer = changed(solution_answer(*Q7_08), 1, activation="tanh", dropout=0)
        assert judge(*Q7_08, answer).correct


@pytest.mark.parametrize(
    "layer",
    [
        {"class_name": "LSTM", "config": {"units": 17}},
        {"class_name": "LSTM", "config": {"units": 17, "use_bias": False}},
        {"class_name": "LSTM", "config": {"units": 8}},
    ],
    ids=lambda layer: "-".join(
        [layer["class_name"], *map("{0[0]}={0[1]}".format, layer["config"].items())]
    ),
)
def test_free_layer_formula_gives_the_count_it_quotes(layer: dict[str, Any]) -> None:
    """08 q7's free LSTM: does the formula the message writes, worked out with that layer's
    units and features, give the count it quotes (use_bias=False: no bias term)? A layer of
    another class in its place gets no formula: no units give the count (see
    test_a_layer_of_another_class_is_not_told_to_choose_its_free_option)."""
    answer = solution_answer(*Q7_08)
    answer[2] = copy.deepcopy(layer)
    result = judge(*Q7_08, answer)
    assert not result.correct
    found = re.search(r"its count \((\d+) here\) is (.+?), with features = (\d+)", result.message)
    assert found, result.message
    count, formula, features = int(found[1]), found[2], int(found[3])
    units = layer["config"]["units"]
    worked = (
        formula.replace("×", "*").replace("units", str(units)).replace("features", str(features))
    )
    assert set(worked) <= set("0123456789 +*()"), formula
    assert eval(worked) == count, f"{formula} with units={units}, features={features}"


class TestIgnoredAndOldArguments:
    def test_input_dim_on_a_later_layer(self) -> None:
        """09 q7's repair keeps nothing Keras 3 only ignores: an input_dim on its LSTM is wrong."""
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), 1, input_dim=16))
        assert not result.correct
        assert "Layer 2 (LSTM): Keras 3 ignores input_dim=16" in result.message

    def test_input_shape_on_a_later_layer(self) -> None:
        """08 q7 gives the Input: Keras 3 ignores a layer's input_shape, the model is right."""
        result = judge(*Q7_08, changed(solution_answer(*Q7_08), 2, input_shape=[20, 32]))
        assert result.correct and "Keras 3 ignores input_shape here" in result.message

    def test_embeddings_input_dim_is_its_vocabulary(self) -> None:
        """Embedding's input_dim is its own argument, never the Keras 2 input option."""
        result = judge(*Q7_09, solution_answer(*Q7_09))
        assert result.correct and "input_dim" not in result.message

    def test_first_layer_input_shape(self) -> None:
        """The question gives the Input, so Keras 3 ignores input_shape on the first layer
        too, whatever its value; 09 q7's repair keeps nothing Keras only ignores."""
        answer = solution_answer(*Q7_09)
        for shape in ([40], [30]):
            result = judge(*Q7_09, changed(answer, 0, input_shape=shape))
            assert not result.correct
            assert f"Keras 3 ignores input_shape={shape!r}" in result.message
            assert "the question's input is" not in result.message

    def test_implementation_is_a_note_even_in_a_repair(self) -> None:
        """Keras 3 takes implementation=2 and computes the same outputs with it (the book's
        chapter 04 shows it), so the repaired model is right, with a note, and no message
        says Keras ignores it."""
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), 1, implementation=2))
        assert result.correct, result.message
        assert "not what it computes" in result.message
        assert "ignores implementation" not in result.message

    @pytest.mark.parametrize(
        ("index", "old", "new"),
        [
            (1, "output_dim", "units"),
            (1, "inner_activation", "recurrent_activation"),
            (1, "init", "kernel_initializer"),
            (1, "dropout_W", "dropout"),
            (1, "dropout_U", "recurrent_dropout"),
            (1, "W_regularizer", "kernel_regularizer"),
            (3, "output_dim", "units"),
            (0, "init", "embeddings_initializer"),
        ],
    )
    def test_keras1_names_are_told_their_keras3_names(self, index: int, old: str, new: str) -> None:
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), index, **{old: "x"}))
        assert not result.correct
        assert f"no argument {old!r}" in result.message and f"calls it {new!r}" in result.message

    def test_border_mode_is_named(self) -> None:
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), 1, border_mode="same"))
        assert not result.correct
        assert "border_mode is the Keras 1 name of padding" in result.message

    def test_typo_is_named(self) -> None:
        result = judge(*Q7_09, changed(solution_answer(*Q7_09), 1, activaton="sigmoid"))
        assert not result.correct
        assert "no argument 'activaton'; did you mean 'activation'?" in result.message

    def test_silent_on_the_solutions(self) -> None:
        """No rule fires on a right answer: its message is the bare 'Correct' line."""
        for assignment, question in MODEL_QUESTIONS:
            message = judge(assignment, question, solution_answer(assignment, question)).message
            assert message.startswith("Correct") and message.count(".") == 1, message


def test_reference_without_layers_is_judged_as_before() -> None:
    """A reference recorded before layers were judged keeps its old verdict: the required
    classes, shape and count only."""
    answer = [{"class_name": "LSTM", "config": {"units": 8, "activation": "relu"}}]
    expected = {"output_shape": [None, 8], "params": 384}
    context = {"input_shape": [None, 8, 3], "required_layers": ["LSTM"]}
    assert compare_model(answer, expected, context).correct
    context["required_layers"] = ["GRU"]
    assert compare_model(answer, expected, context).message == (
        "The specification asks for a GRU layer."
    )


# ============================================================ property


def judged_options() -> list[tuple[str, str, int, str]]:
    """Every (assignment, question, layer index, key) a model question judges."""
    found = []
    for assignment, question in MODEL_QUESTIONS:
        for index, layer in enumerate(reference(assignment, question)["expected"]["layers"]):
            found += [(assignment, question, index, key) for key in layer["config"]]
    return found


ACTIVATIONS = ["linear", "relu", "sigmoid", "softmax", "tanh", "hard_sigmoid", "elu", "selu"]


def other_value(value: Any) -> st.SearchStrategy[Any]:
    """Values Keras would take for an option whose reference value is ``value``, all
    different from it in what Keras builds (a flag written 1 builds what True does, so the
    other flag is written both ways)."""
    if isinstance(value, bool):
        return st.sampled_from([not value, int(not value)])
    if isinstance(value, int):
        others = st.integers(1, 64).filter(lambda n: n != value)
        return others | st.just(bool(value)) if value in (0, 1) else others
    if isinstance(value, float):
        return st.floats(0.0, 0.9, allow_nan=False).filter(lambda x: abs(x - value) > 1e-6)
    if isinstance(value, str):
        return st.sampled_from([name for name in ACTIVATIONS if name != value])
    if value is None:
        return st.just([None, 1])
    raise AssertionError(f"no strategy for {value!r}")


@st.composite
def one_option_changed(draw: st.DrawFn) -> tuple[str, str, list[dict[str, Any]], str]:
    assignment, question, index, key = draw(st.sampled_from(judged_options()))
    layers = reference(assignment, question)["expected"]["layers"]
    value = draw(other_value(layers[index]["config"][key]))
    answer = changed(solution_answer(assignment, question), index, **{key: value})
    return assignment, question, answer, key


@settings(max_examples=80, deadline=None)
@given(case=one_option_changed())
def test_any_judged_option_changed_is_wrong_and_named(case: tuple) -> None:
    """Whatever judged option of whatever model question moves away from the reference,
    is the answer wrong, and does the message name that option?"""
    assignment, question, answer, key = case
    result = judge(assignment, question, answer)
    assert not result.correct
    assert key in result.message


# ============================================================ against live Keras


@pytest.fixture(scope="module")
def keras() -> Any:
    return require_module("keras", "Keras (pip install .[keras])")


INPUT_DTYPES = ["float32", "float64", "int32", "bool", "string"]


def input_dtype_cases() -> list[Any]:
    """Every model question with every InputLayer dtype; the quick run keeps two per question.

    Each case predicts and trains a Keras model (about 0.7 s of graph tracing). The judge
    takes one path for dtype='string' (the model cannot run) and one for every other dtype,
    so the quick run keeps, for each question, 'string' and one numeric dtype, rotating so
    each numeric dtype still meets Keras in some model; `make test` runs the full matrix.
    """
    numeric = [dtype for dtype in INPUT_DTYPES if dtype != "string"]
    cases = []
    for number, (assignment, question) in enumerate(MODEL_QUESTIONS):
        quick = {"string", numeric[number % len(numeric)]}
        cases.extend(
            pytest.param(
                assignment,
                question,
                dtype,
                id=f"{dtype}-{assignment}-{question}",
                marks=() if dtype in quick else pytest.mark.slow,
            )
            for dtype in INPUT_DTYPES
        )
    return cases


@pytest.mark.parametrize(("assignment", "question", "dtype"), input_dtype_cases())
def test_an_input_layer_of_any_dtype_earns_the_point_exactly_where_keras_runs_the_model(
    keras: Any, assignment: str, question: str, dtype: str
) -> None:
    """Keras builds a model whose InputLayer holds strings, with the shapes and count of
    its numeric twin, but cannot predict or train with it. Does the solution behind an
    InputLayer of each dtype earn its point exactly where Keras predicts and trains with
    the model (02 q7 asks for a model that turns an input into an output)?"""
    import numpy as np

    entry = reference(assignment, question)
    batch_shape = entry["context"]["input_shape"]
    start = {"class_name": "InputLayer", "config": {"batch_shape": batch_shape, "dtype": dtype}}
    answer = [start, *solution_answer(assignment, question)]
    sample = [2, *batch_shape[1:]]
    data = np.full(sample, "1") if dtype == "string" else np.ones(sample, dtype=dtype)
    keras.backend.clear_session(free_memory=False)
    try:
        model = keras.Sequential(
            [getattr(keras.layers, spec["class_name"])(**spec["config"]) for spec in answer]
        )
        target = model.predict(data, verbose=0)
        model.compile("sgd", "mse")
        model.fit(data, target, epochs=1, verbose=0)
    except Exception:  # any error stops the learner's model
        runs = False
    else:
        runs = True
    result = judge(assignment, question, answer)
    assert result.correct == runs, result.message


#: Options Keras 3 takes and, in the course's models (float32, no mask, no LoRA), does not
#: use: each with a value other than its default, for the layers that take it.
UNUSED_OPTIONS = {
    "zero_output_for_mask": (True, ("SimpleRNN", "LSTM", "GRU")),
    "autocast": (False, ("SimpleRNN", "LSTM", "GRU", "Dense", "Embedding", "Dropout")),
    "lora_alpha": (7, ("Dense", "Embedding")),
}


#: Each case builds two Keras models and predicts with both (about 1.3 s of graph tracing).
#: The judge takes an option by one path per option, whatever the question, so the quick
#: run keeps each option once, on a model holding every class of the course's models that
#: takes it: zero_output_for_mask on LSTMs (the one recurrent class there), autocast on
#: 09 q7's Embedding, LSTM, Dropout and Dense, lora_alpha on 08 q6's Embedding and Dense.
#: `make test` runs every question with every option.
_QUICK_UNUSED_OPTIONS = {
    ("05-return-flags", "q6", "zero_output_for_mask"),
    ("09-keras2-to-keras3", "q7", "autocast"),
    ("08-putting-together", "q6", "lora_alpha"),
}


def unused_option_cases() -> list[Any]:
    """Every model question with every option of :data:`UNUSED_OPTIONS` one of its layers
    takes; the quick run keeps :data:`_QUICK_UNUSED_OPTIONS`."""
    return [
        pytest.param(
            assignment,
            question,
            option,
            id=f"{assignment}-{question}-{option}",
            marks=()
            if (assignment, question, option) in _QUICK_UNUSED_OPTIONS
            else pytest.mark.slow,
        )
        for assignment, question in MODEL_QUESTIONS
        for option, (_, classes) in sorted(UNUSED_OPTIONS.items())
        if any(spec["class_name"] in classes for spec in _solution_answer(assignment, question))
    ]


@pytest.mark.parametrize(("assignment", "question", "option"), unused_option_cases())
def test_an_option_keras_does_not_use_here_keeps_the_point_and_the_outputs(
    keras: Any, assignment: str, question: str, option: str
) -> None:
    """zero_output_for_mask acts only on a mask, autocast only on an input of another float
    dtype, lora_alpha only beside lora_rank: does the solution with the option set on
    every layer that takes it give Keras's model the same outputs, with the same weights,
    and earn full marks, as the model it does not change?"""
    import numpy as np

    value, classes = UNUSED_OPTIONS[option]
    entry = reference(assignment, question)
    plain = solution_answer(assignment, question)
    changed = solution_answer(assignment, question)
    for spec in changed:
        if spec["class_name"] in classes:
            spec["config"][option] = value

    def model(answer: list[dict[str, Any]]) -> Any:
        return keras.Sequential(
            [keras.Input(shape=tuple(entry["context"]["input_shape"][1:]))]
            + [getattr(keras.layers, spec["class_name"])(**spec["config"]) for spec in answer]
        )

    keras.backend.clear_session(free_memory=False)
    before, after = model(plain), model(changed)
    after.set_weights(before.get_weights())
    data = np.random.default_rng(0).integers(1, 5, (2, *entry["context"]["input_shape"][1:]))
    np.testing.assert_array_equal(
        after.predict(data.astype("float32"), verbose=0),
        before.predict(data.astype("float32"), verbose=0),
    )
    result = judge(assignment, question, changed)
    assert result.correct, result.message


# The arguments each class cannot be built without.
MINIMAL: dict[str, dict[str, Any]] = {
    "Dense": {"units": 2},
    "SimpleRNN": {"units": 2},
    "LSTM": {"units": 2},
    "GRU": {"units": 2},
    "Embedding": {"input_dim": 5, "output_dim": 2},
    "Dropout": {"rate": 0.5},
    "Activation": {"activation": "relu"},
    "Flatten": {},
    "Reshape": {"target_shape": (2,)},
    "RepeatVector": {"n": 2},
    "Concatenate": {},
}


def build(keras: Any, class_name: str) -> Any:
    if class_name in ("Bidirectional", "TimeDistributed"):
        return getattr(keras.layers, class_name)(keras.layers.LSTM(2))
    return getattr(keras.layers, class_name)(**MINIMAL[class_name])


@pytest.mark.parametrize("class_name", sorted(KERAS_DEFAULTS))
def test_defaults_agree_with_keras(keras: Any, class_name: str) -> None:
    """Is each default the verdict assumes for a left-out option what Keras 3 writes in the
    config of a layer built without it?"""
    config = build(keras, class_name).get_config()
    for key, default in KERAS_DEFAULTS[class_name].items():
        assert key in config, f"{class_name} has no option {key!r}"
        assert config[key] == default and type(config[key]) is type(default), (class_name, key)


@pytest.mark.parametrize("class_name", sorted(DEFAULT_JUDGED))
def test_every_judged_option_has_a_default_or_is_required(keras: Any, class_name: str) -> None:
    """A judged option a learner may leave out must have its default in the table; the
    others are ones Keras cannot build the layer without (or a wrapper's layer)."""
    required = set(MINIMAL.get(class_name, {})) | {"layer"}
    config = build(keras, class_name).get_config()
    for key in DEFAULT_JUDGED[class_name]:
        assert key in config, f"{class_name} has no option {key!r}"
        assert key in KERAS_DEFAULTS[class_name] or key in required, (class_name, key)


@pytest.mark.parametrize("class_name", sorted(DEFAULT_INITIALIZERS))
def test_default_initializers_regularizers_and_constraints_agree_with_keras(
    keras: Any, class_name: str
) -> None:
    """Is every initializer the verdict takes as a layer's default the class and config
    Keras 3 writes for a layer built without it, and every regularizer and constraint of
    the layer None by default, so that exactly these options are read as kept defaults?"""
    import inspect

    config = build(keras, class_name).get_config()
    parameters = inspect.signature(getattr(keras.layers, class_name)).parameters
    initializers = [key for key in parameters if key.endswith("_initializer")]
    assert sorted(initializers) == sorted(DEFAULT_INITIALIZERS[class_name])
    for key, (default_class, default_config) in DEFAULT_INITIALIZERS[class_name].items():
        assert config[key]["class_name"] == default_class, (class_name, key)
        written = {k: v for k, v in config[key]["config"].items() if k != "seed"}
        assert written == default_config, (class_name, key)
    for key in parameters:
        if key.endswith(("_regularizer", "_constraint")):
            assert parameters[key].default is None and config.get(key) is None, (class_name, key)


#: The weight each initializer draws, as the layer (or its cell) names it.
INITIALIZED_WEIGHT = {
    "kernel_initializer": "kernel",
    "recurrent_initializer": "recurrent_kernel",
    "bias_initializer": "bias",
    "embeddings_initializer": "embeddings",
}


@pytest.mark.parametrize(
    ("class_name", "key"),
    [(name, key) for name, defaults in sorted(DEFAULT_INITIALIZERS.items()) for key in defaults],
)
def test_an_initializer_written_none_is_drawn_with_glorot_uniform(
    keras: Any, class_name: str, key: str
) -> None:
    """``recurrent_initializer=None`` reads as "the default", and the verdict took it so.
    Does Keras 3 draw such a weight with glorot_uniform instead (within its limit, and
    neither orthogonal, nor zeros, nor within Embedding's 0.05), so that None keeps a
    layer's default only where that default is glorot_uniform, as the verdict now says?"""
    import numpy as np

    from lstm_lib.model_verdicts import _keeps_default

    keras.utils.set_random_seed(0)  # the draws below are then the same on every run
    sizes = {"input_dim": 1000, "output_dim": 16} if class_name == "Embedding" else {"units": 8}
    # an LSTM adds its forget gate's 1s to the bias initializer's draw, which None lacks
    forget = (
        {"unit_forget_bias": False} if (class_name, key) == ("LSTM", "bias_initializer") else {}
    )

    def drawn(**written: Any) -> Any:
        layer = getattr(keras.layers, class_name)(**sizes, **forget, **written)
        layer.build({"Dense": (None, 8), "Embedding": (None, 5)}.get(class_name, (None, 5, 8)))
        return getattr(getattr(layer, "cell", layer), INITIALIZED_WEIGHT[key]).numpy()

    def like_the_default(weight: Any) -> bool:
        """Whether a weight has what its default initializer gives every draw."""
        if default_class == "Orthogonal":
            # rows or columns orthonormal, whichever are fewer
            gram = weight @ weight.T if weight.shape[0] <= weight.shape[1] else weight.T @ weight
            return bool(np.allclose(gram, np.eye(len(gram)), atol=1e-4))
        if default_class == "Zeros":
            return not np.any(weight)
        if default_class == "RandomUniform":
            return bool(np.abs(weight).max() <= 0.05)
        return True

    default_class = DEFAULT_INITIALIZERS[class_name][key][0]
    assert like_the_default(drawn()), (class_name, key)  # the test can tell the default
    weight = drawn(**{key: None})
    fan_in, fan_out = weight.shape if weight.ndim == 2 else (weight.shape[0],) * 2
    assert np.abs(weight).max() <= np.sqrt(6 / (fan_in + fan_out)), (class_name, key)
    keeps = default_class == "GlorotUniform"
    assert like_the_default(weight) is keeps, (class_name, key)
    assert _keeps_default(class_name, key, None) is keeps


def test_a_model_with_options_the_question_keeps_at_their_defaults_set_otherwise_is_wrong(
    keras: Any,
) -> None:
    """08 q6 keeps "every other option as it is", and 09 q7's repair must behave as the old
    model did. Does a solution with an initializer, regularizer, constraint or dtype set
    otherwise score nothing, naming each, while the same model written out whole as Keras's
    get_config() writes it (every default explicit) stays correct?"""
    for assignment, question, layer, key, value in [
        ("08-putting-together", "q6", 1, "kernel_initializer", "zeros"),
        ("08-putting-together", "q6", 0, "embeddings_regularizer", "l2"),
        ("08-putting-together", "q6", 0, "dtype", "float16"),
        ("08-putting-together", "q7", 2, "recurrent_constraint", "non_neg"),
        ("09-keras2-to-keras3", "q7", 0, "dtype", "float64"),
        ("09-keras2-to-keras3", "q7", 1, "kernel_initializer", "zeros"),
        ("09-keras2-to-keras3", "q7", 3, "bias_initializer", {"class_name": "Ones"}),
        (
            "09-keras2-to-keras3",
            "q7",
            1,
            "recurrent_initializer",
            {"class_name": "Orthogonal", "config": {"gain": 2.0}},
        ),
    ]:
        entry = reference(assignment, question)
        answer = solution_answer(assignment, question)
        answer[layer]["config"][key] = value
        result = compare_model(answer, entry["expected"], entry["context"])
        assert not result.correct, (assignment, question, key, value)
        assert f"{key}={shapes._shown(value)}" in result.message, result.message
        if entry["context"].get("repair"):
            assert "which the old model did not set" in result.message, result.message
    entry = reference("08-putting-together", "q6")
    model = keras.Sequential(
        [
            keras.Input(shape=(30,)),
            keras.layers.Embedding(500, 8),
            keras.layers.LSTM(16, return_sequences=True),
            keras.layers.LSTM(8, return_sequences=True),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    written_out = [
        {"class_name": type(layer).__name__, "config": layer.get_config()} for layer in model.layers
    ]
    result = compare_model(written_out, entry["expected"], entry["context"])
    assert result.correct, result.message


@pytest.mark.parametrize(
    ("assignment", "question", "layer", "key", "value"),
    [
        ("09-keras2-to-keras3", "q7", 2, "dtype", "int32"),
        ("09-keras2-to-keras3", "q7", 4, "dtype", "float16"),
        ("09-keras2-to-keras3", "q7", 2, "activity_regularizer", "l1"),
        ("09-keras2-to-keras3", "q7", 4, "activity_regularizer", "l2"),
        ("09-keras2-to-keras3", "q7", 0, "weights", "zeros"),
        ("08-putting-together", "q6", 0, "weights", "zeros in a list"),
        ("08-putting-together", "q7", 0, "weights", "zeros"),
    ],
)
def test_an_option_kept_at_its_default_is_judged_on_layers_without_weights_too(
    keras: Any, assignment: str, question: str, layer: int, key: str, value: Any
) -> None:
    """A Dropout computing in int32, an Activation with an activity regularizer, an
    Embedding started from a given matrix: does Keras build each layer otherwise than its
    default, and does the solution so changed, sent as the grader reads it, score nothing
    while naming the option, where the same model written out whole as get_config() writes
    it (the dtype policy of every layer explicit) stays correct?"""
    import numpy as np

    from lstm_lib.answers import answer_json, parse_answer_json

    entry = reference(assignment, question)
    answer = solution_answer(assignment, question)
    spec = answer[layer]
    if key == "weights":
        config = spec["config"]
        matrix = np.zeros((config["input_dim"], config["output_dim"]))
        value = [matrix] if value == "zeros in a list" else matrix
    built = getattr(keras.layers, spec["class_name"])(**spec["config"], **{key: value})
    default = getattr(keras.layers, spec["class_name"])(**spec["config"])
    if key == "weights":  # the oracle: Keras starts from the given matrix
        assert np.array_equal(built.get_weights()[0], matrix)
    elif key == "dtype":
        assert built.dtype_policy.name != default.dtype_policy.name
    else:
        assert built.activity_regularizer is not None and default.activity_regularizer is None
    spec["config"][key] = value
    result = verdict(
        "model",
        parse_answer_json(answer_json(answer)),
        entry["expected"],
        entry["context"],
        entry["mistakes"],
    )
    assert not result.correct and result.earned == 0, result.message
    named = "starting weights" if key == "weights" else f"{key}={shapes._shown(value)}"
    assert f"Layer {layer + 1} ({spec['class_name']}" in result.message, result.message
    assert named in result.message, result.message
    model = keras.Sequential(
        [keras.Input(shape=tuple(entry["context"]["input_shape"][1:]))]
        + [
            getattr(keras.layers, item["class_name"])(**item["config"])
            for item in solution_answer(assignment, question)
        ]
    )
    written_out = [
        {"class_name": type(item).__name__, "config": item.get_config()} for item in model.layers
    ]
    result = compare_model(written_out, entry["expected"], entry["context"])
    assert result.correct, result.message


def test_a_time_distributed_dense_is_judged_with_its_wrapper_s_own_options(keras: Any) -> None:
    """08 q6 takes a TimeDistributed Dense as the Dense: is a dtype set on the wrapper,
    which Keras builds the wrapper under, still named as a change the model does not have?"""
    wrapper = keras.layers.TimeDistributed(keras.layers.Dense(3), dtype="float16")
    assert wrapper.dtype_policy.name == "float16"
    answer = solution_answer("08-putting-together", "q6")
    answer[3] = {"class_name": "TimeDistributed", "config": {"layer": answer[3]}}
    assert judge("08-putting-together", "q6", answer).correct
    answer[3]["config"]["dtype"] = "float16"
    result = judge("08-putting-together", "q6", answer)
    assert not result.correct and "dtype='float16'" in result.message, result.message


@pytest.mark.parametrize("name", sorted(shapes._ACTIVATION_NAMES))
def test_an_activation_is_judged_by_the_name_keras_stores_however_written(
    keras: Any, name: str
) -> None:
    """An activation written by name, as an alias or as the dict
    keras.saving.serialize_keras_object writes: is it read as the name a layer's
    get_config() stores for it, so that a model judged on it scores as the same model?"""
    from lstm_lib.model_verdicts import _plain_value

    forms: list[Any] = [name]
    if name in shapes._ACTIVATION_DICT_NAMES:
        forms += [
            keras.saving.serialize_keras_object(keras.activations.get(name)),
            {"class_name": "function", "config": name, "module": "keras.activations"},
            {"class_name": name, "config": {}, "module": "keras.activations"},
        ]
    for form in forms:
        stored = keras.layers.Dense(2, activation=form).get_config()["activation"]
        assert _plain_value("activation", form) == stored, form
    answer = solution_answer("09-keras2-to-keras3", "q7")
    for form in forms:
        answer[4]["config"]["activation"] = form
        result = judge("09-keras2-to-keras3", "q7", answer)
        assert result.correct == (keras.activations.get(name) is keras.activations.sigmoid), (
            form,
            result.message,
        )


@pytest.mark.parametrize(
    "policy",
    [
        {"class_name": "FloatDTypePolicy", "config": {"name": "float32"}},
        {"class_name": "DTypePolicy", "config": None},
        {"module": "keras", "class_name": "DTypePolicy", "config": {}},
    ],
    ids=repr,
)
def test_a_serialized_default_dtype_is_the_default(keras: Any, policy: dict[str, Any]) -> None:
    """Is a dtype dict Keras reads as its default float32 policy, however written, judged
    as the default the question's model keeps, not as a change?"""
    assert keras.layers.Dense(1, dtype=policy).dtype_policy.name == "float32"
    answer = changed(solution_answer("09-keras2-to-keras3", "q7"), 3, dtype=policy)
    result = judge("09-keras2-to-keras3", "q7", answer)
    assert result.correct, result.message


@pytest.mark.parametrize(
    ("assignment", "question", "index", "key"),
    [
        option
        for option in judged_options()
        if option[3] in shapes._FLAGS
        and reference(option[0], option[1])["expected"]["layers"][option[2]]["config"][option[3]]
        is False
    ],
)
def test_a_flag_written_none_is_judged_as_keras_builds_it(
    keras: Any, assignment: str, question: str, index: int, key: str
) -> None:
    """Keras tests a flag for truth, so None builds the layer False does, and the layer
    questions take it so: does a model question judge a flag the question keeps False,
    written None, as the same model Keras builds?"""
    entry = reference(assignment, question)
    answer = solution_answer(assignment, question)
    answer[index]["config"][key] = None
    model = keras.Sequential(
        [keras.Input(shape=tuple(entry["context"]["input_shape"][1:]))]
        + [getattr(keras.layers, spec["class_name"])(**spec["config"]) for spec in answer]
    )
    assert tuple(model.output_shape) == tuple(entry["expected"]["output_shape"])
    assert model.count_params() == entry["expected"]["params"]
    assert not getattr(model.layers[index], key)
    result = judge(assignment, question, answer)
    assert result.correct, result.message


def test_model_reference_reads_the_keras_model(keras: Any) -> None:
    """Does model_reference record Keras's effective values (a Dense without activation
    says "linear"), a wrapper's layer, free options, and plain JSON data?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(7, 3)),
            keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
            keras.layers.TimeDistributed(keras.layers.Dense(2)),
            keras.layers.GRU(5),
            keras.layers.Dense(1),
        ]
    )
    ref = model_reference(model, judged={"GRU": ["units", "reset_after"]}, free={2: ["units"]})
    assert ref["output_shape"] == (None, 1) and ref["params"] == model.count_params()
    bidirectional, distributed, gru, dense = ref["layers"]
    assert bidirectional["config"]["merge_mode"] == "concat"
    assert bidirectional["config"]["layer"]["config"]["return_sequences"] is True
    assert distributed["config"]["layer"]["config"]["activation"] == "linear"
    assert gru == {"class_name": "GRU", "config": {"reset_after": True}, "free": ["units"]}
    assert dense["config"]["activation"] == "linear"
    json.dumps(ref)
    answer = [shapes.layer_spec(layer) for layer in model.layers]
    assert compare_model(answer, ref, {"input_shape": [None, 7, 3]}).correct


@pytest.mark.parametrize(("assignment", "question"), MODEL_QUESTIONS)
def test_solution_builds_in_keras_as_the_reference(
    keras: Any, assignment: str, question: str
) -> None:
    """Does Keras build the solution answer into a model whose reference is the recorded
    one (free options aside), so the reference asks for what a right answer builds?"""
    ref = reference(assignment, question)
    layers = [
        getattr(keras.layers, spec["class_name"])(**spec["config"])
        for spec in solution_answer(assignment, question)
    ]
    inputs = keras.Input(shape=tuple(ref["context"]["input_shape"][1:]))
    mine = json.loads(json.dumps(model_reference(keras.Sequential([inputs, *layers]))))
    expected = ref["expected"]
    for index, layer in enumerate(expected["layers"]):
        for key in layer.pop("free", ()):
            layer["config"][key] = mine["layers"][index]["config"][key]
        # a check cell may judge fewer options than the default (02 q7 leaves the
        # activation free): compare what the reference judges
        judged = mine["layers"][index]["config"]
        mine["layers"][index]["config"] = {key: judged.get(key) for key in layer["config"]}
    assert mine == expected


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 50),
    st.floats(allow_nan=True),
    st.sampled_from(["tanh", "sigmoid", "linear", "concat", ""]),
    st.lists(st.one_of(st.none(), st.integers(-2, 40)), max_size=3),
)
KEYS = sorted(
    {key for keys in DEFAULT_JUDGED.values() for key in keys}
    | {"input_length", "input_shape", "input_dim", "implementation", "output_dim", "init"}
)
LAYER = st.fixed_dictionaries(
    {
        "class_name": st.sampled_from(
            ["Embedding", "LSTM", "GRU", "Dense", "Dropout", "Activation", "InputLayer"]
        ),
        "config": st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    question=st.sampled_from(MODEL_QUESTIONS),
    answer=st.lists(LAYER, min_size=1, max_size=6)
    | st.builds(
        lambda base, index, key, value: changed(base, index % len(base), **{key: value}),
        st.sampled_from([solution_answer(*q) for q in MODEL_QUESTIONS]),
        st.integers(0, 4),
        st.sampled_from(KEYS),
        VALUES,
    ),
)
def test_verdict_never_raises(question: tuple[str, str], answer: list) -> None:
    """Whatever layers and options a learner writes, does a model question with judged
    layers return a verdict with a message rather than raise?"""
    result = judge(*question, answer)
    assert type(result.correct) is bool and type(result.message) is str and result.message


# ============================================ other stacks with the question's shape and count


def _layer(class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": config}


def keras_outcome(keras: Any, answer: list[dict[str, Any]], input_shape: list) -> Any:
    """What Keras makes of a learner's stack: ``(output shapes, count)``, or None if it
    refuses to build it."""
    keras.backend.clear_session(free_memory=False)
    try:
        model = keras.Sequential(
            [
                keras.Input(shape=tuple(input_shape[1:])),
                *(getattr(keras.layers, spec["class_name"])(**spec["config"]) for spec in answer),
            ]
        )
    except ValueError:
        return None
    return [tuple(t.shape) for t in model.outputs], model.count_params()


SAME_SHAPE_AND_COUNT = {
    "another class first": (
        ("05-return-flags", "q6"),
        [_layer("SimpleRNN", units=28, return_sequences=True), _layer("LSTM", units=8)],
        "Your layer 1 is a SimpleRNN; the model has an LSTM there.",
    ),
    "two Dense layers for one": (
        ("02-dense", "q7"),
        [_layer("Dense", units=2, use_bias=False), _layer("Dense", units=4)],
        "Your layer 2 (Dense) is one too many",
    ),
    "a relu on the first LSTM": (
        ("05-return-flags", "q6"),
        [
            _layer("LSTM", units=16, return_sequences=True, activation="relu"),
            _layer("LSTM", units=8),
        ],
        "activation",
    ),
}
KERAS_REFUSES = {
    "a layer after one that returns its states": (
        ("05-return-flags", "q6"),
        [
            _layer("LSTM", units=16, return_sequences=True, return_state=True),
            _layer("LSTM", units=8),
        ],
        "receives the 3 tensors layer 1 returns",
    ),
    "an initializer Keras does not know": (
        ("08-putting-together", "q6"),
        [
            _layer("Embedding", input_dim=500, output_dim=8, embeddings_initializer="bogus"),
            _layer("LSTM", units=16, return_sequences=True),
            _layer("LSTM", units=8, return_sequences=True),
            _layer("Dense", units=3, activation="softmax"),
        ],
        "embeddings_initializer 'bogus' is not a name Keras 3 knows",
    ),
    "an activation spelt with a capital": (
        ("08-putting-together", "q7"),
        [
            _layer("Embedding", input_dim=1000, output_dim=16),
            _layer("LSTM", units=32, return_sequences=True),
            _layer("LSTM", units=16, activation="Tanh"),
            _layer("Dense", units=1, activation="sigmoid"),
        ],
        "did you mean 'tanh'?",
    ),
}


@pytest.mark.parametrize("case", sorted(SAME_SHAPE_AND_COUNT))
def test_another_stack_with_the_same_shape_and_count_is_wrong(keras: Any, case: str) -> None:
    """Does a stack Keras builds to the question's output shape and parameter count, but
    that is not the model asked for, earn nothing, with the difference named?"""
    question, answer, words = SAME_SHAPE_AND_COUNT[case]
    ref = reference(*question)
    built = keras_outcome(keras, answer, ref["context"]["input_shape"])
    assert built == ([tuple(ref["expected"]["output_shape"])], ref["expected"]["params"])
    result = judge(*question, answer)
    assert not result.correct and result.earned == 0.0
    assert words in result.message


@pytest.mark.parametrize("case", sorted(KERAS_REFUSES))
def test_a_stack_keras_refuses_is_wrong(keras: Any, case: str) -> None:
    """Does a stack that Keras refuses to build earn nothing, saying why?"""
    question, answer, words = KERAS_REFUSES[case]
    assert keras_outcome(keras, answer, reference(*question)["context"]["input_shape"]) is None
    result = judge(*question, answer)
    assert not result.correct and result.earned == 0.0
    assert "This model does not build" in result.message and words in result.message


def test_a_model_that_returns_its_states_is_not_one_output(keras: Any) -> None:
    """A last layer with return_state=True gives the model three outputs, the first of the
    asked shape: is it wrong, naming the flag?"""
    answer = [
        _layer("LSTM", units=16, return_sequences=True),
        _layer("LSTM", units=8, return_state=True),
    ]
    built = keras_outcome(keras, answer, [None, 8, 3])
    assert built is not None and built[0] == [(None, 8)] * 3
    told = (
        "Your model returns 3 tensors, (None, 8), (None, 8), (None, 8): its last layer "
        "returns its output, then its states: return_state=True. The model's output is one "
        "tensor, (None, 8)."
    )
    result = judge("05-return-flags", "q6", answer)
    assert not result.correct and told in result.message
    # judged by shape and count alone, as a reference without layers is
    expected = {key: value for key, value in reference("05-return-flags", "q6")["expected"].items()}
    del expected["layers"]
    result = compare_model(answer, expected, {"input_shape": [None, 8, 3]})
    assert not result.correct and result.message == told


def test_a_dense_of_the_asked_size_may_have_any_activation() -> None:
    """02 q7 asks for one Dense layer with the shape and count: is its activation, which
    changes neither, the learner's choice?"""
    answer = [_layer("Dense", units=4, use_bias=False, activation="relu")]
    assert judge("02-dense", "q7", answer).correct


def test_an_option_that_alone_makes_the_count_wrong_is_not_told_to_solve_for_units() -> None:
    """08 q7 with the second LSTM's units right but use_bias=False: fixing use_bias alone
    gives the asked count, so the learner is not told to solve for a size."""
    answer = changed(solution_answer(*Q7_08), 2, use_bias=False)
    message = judge(*Q7_08, answer, named=False).message
    assert "use_bias=False; the question's layer keeps Keras's default use_bias=True" in message
    assert "Solve for" not in message and "fixed by the prompt, so the difference" not in message
    assert "the units you chose need no change" in message, message


def test_free_units_count_is_told_truthfully() -> None:
    """08 q7 with units 17: the Dense after the free LSTM counts units + 1 too, so the other
    layers' counts are not all fixed by the prompt; the message says what is fixed."""
    message = judge(*Q7_08, changed(solution_answer(*Q7_08), 2, units=17), named=False).message
    assert "The other layers are fixed by the prompt" not in message, message
    assert "layers after it" in message and "Solve for the units" in message, message
    # units wrong and use_bias off: the count is told for the layer as the prompt asks it
    answer = changed(solution_answer(*Q7_08), 2, units=17, use_bias=False)
    message = judge(*Q7_08, answer, named=False).message
    assert "4 × (units × (units + features) + units)" in message, message


def test_a_wrapped_layer_in_the_wrong_place_names_its_wrapper() -> None:
    """05 q6 answered [TimeDistributed(Dense(16)), LSTM(8)]: the first layer is a
    TimeDistributed around a Dense, not a Dense."""
    answer = [
        _layer("TimeDistributed", layer=_layer("Dense", units=16)),
        _layer("LSTM", units=8),
    ]
    message = judge("05-return-flags", "q6", answer).message
    assert "Your layer 1 is a TimeDistributed around a Dense; the model has an LSTM there." in (
        message
    ), message
    assert "yours is TimeDistributed(Dense), LSTM" in message, message


def test_a_free_use_bias_is_not_called_a_size() -> None:
    """02 q7 leaves use_bias to the learner: a wrong count is not told to solve for a size."""
    message = judge("02-dense", "q7", [_layer("Dense", units=4)], named=False).message
    assert "exactly 24" in message and "size" not in message, message


# ================================== options Keras ignores when the question gives the Input


INPUT_OPTION_IGNORED = (
    "Keras 3 ignores {key} here, with a warning, because the question gives the Input; "
    "leave it out."
)


@pytest.mark.parametrize(
    ("question", "answer", "key"),
    [
        (("02-dense", "q7"), [_layer("Dense", units=4, use_bias=False, input_dim=6)], "input_dim"),
        (
            ("02-dense", "q7"),
            [_layer("Dense", units=4, use_bias=False, input_shape=[6])],
            "input_shape",
        ),
        (
            ("05-return-flags", "q6"),
            [
                _layer("LSTM", units=16, return_sequences=True, input_shape=[5, 3]),
                _layer("LSTM", units=8),
            ],
            "input_shape",
        ),
        (
            Q7_08,
            changed(solution_answer(*Q7_08), 2, input_shape=[20, 32]),
            "input_shape",
        ),
    ],
)
def test_an_input_option_is_ignored_where_the_input_is_given(
    keras: Any, question: tuple[str, str], answer: list, key: str
) -> None:
    """The check cell puts keras.Input first, so Keras 3 ignores a layer's input_dim or
    input_shape (with a warning) and builds the model on the given input: judged as Keras
    builds it, right with a true note, never "builds the model on inputs of shape ..."."""
    ref = reference(*question)
    built = keras_outcome(keras, answer, ref["context"]["input_shape"])
    assert built == ([tuple(ref["expected"]["output_shape"])], ref["expected"]["params"])
    result = judge(*question, answer)
    assert result.correct, result.message
    assert INPUT_OPTION_IGNORED.format(key=key) in result.message, result.message
    assert "makes Keras build" not in result.message


@pytest.mark.parametrize(
    ("index", "option", "key"),
    [
        (0, {"input_shape": [40]}, "input_shape"),
        (0, {"input_shape": [30]}, "input_shape"),
        (1, {"input_dim": 16}, "input_dim"),
    ],
)
def test_a_repair_keeps_no_input_option_keras_ignores(index: int, option: dict, key: str) -> None:
    """09 q7's prompt asks for nothing that Keras 3 only ignores, and judges input_length so:
    input_shape and input_dim are judged the same, whatever their value."""
    answer = changed(solution_answer(*Q7_09), index, **option)
    for named in (True, False):
        result = judge(*Q7_09, answer, named=named)
        assert not result.correct, result.message
        assert f"Keras 3 ignores {key}" in result.message, result.message
        assert "the repair keeps nothing Keras 3 only ignores" in result.message
        assert "makes Keras build" not in result.message
        assert "any layer but the first" not in result.message


# ================================== no free-option hint where the layer is of another class


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (("02-dense", "q7"), [_layer("SimpleRNN", units=4, return_sequences=True, use_bias=False)]),
        (
            Q7_08,
            [
                _layer("Embedding", input_dim=1000, output_dim=16),
                _layer("LSTM", units=32, return_sequences=True),
                _layer("GRU", units=16),
                _layer("Dense", units=1, activation="sigmoid"),
            ],
        ),
        (
            Q7_08,
            [
                _layer("Embedding", input_dim=1000, output_dim=16),
                _layer("LSTM", units=32, return_sequences=True),
                _layer("Bidirectional", layer=_layer("LSTM", units=8)),
                _layer("Dense", units=1, activation="sigmoid"),
            ],
        ),
    ],
)
def test_a_layer_of_another_class_is_not_told_to_choose_its_free_option(
    question: tuple[str, str], answer: list
) -> None:
    """Where the free option's layer is not of the class asked for, no value of that option
    gives the count: the message names the class, not an option to solve for."""
    result = judge(*question, answer, named=False)
    assert not result.correct
    assert "the model has" in result.message, result.message
    for words in ("Solve for", "Choose the", "you chose for Layer", "layer below"):
        assert words not in result.message, result.message


def test_the_first_layers_features_come_from_the_input() -> None:
    """02 q7's one Dense takes the input, not a layer below it."""
    message = judge("02-dense", "q7", [_layer("Dense", units=4)], named=False).message
    assert "features × units + units, with features = 6 from the input" in message, message
    assert "layer below" not in message, message


# ================================== shape hints only where they are about the learner's layer


def test_an_extra_last_layer_is_named_not_explained_as_the_asked_one() -> None:
    """08 q6 with a Flatten appended: the Flatten flattens; the message names it as the
    extra last layer instead of saying nothing was flattened."""
    answer = [*solution_answer(*Q6_08), _layer("Flatten")]
    message = judge(*Q6_08, answer, named=False).message
    assert "nothing is flattened" not in message, message
    assert "keeps every axis" not in message, message
    assert "Your model outputs (None, 90), not (None, 30, 3)" in message, message
    assert "your last layer, a Flatten, is not the model's last layer" in message, message


def test_a_model_without_its_embedding_is_told_to_add_it() -> None:
    """08 q6 without the Embedding: token ids need the Embedding to become a sequence of
    vectors; no reshape is the fix."""
    answer = solution_answer(*Q6_08)[1:]
    message = judge(*Q6_08, answer, named=False).message
    assert "reshape" not in message, message
    assert "Embedding" in message and "(None, 30, 8)" in message, message


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (("02-dense", "q7"), [_layer("Flatten"), _layer("Dense", units=4, use_bias=False)]),
        (
            ("05-return-flags", "q6"),
            [
                _layer("LSTM", units=16, return_sequences=True),
                _layer("TimeDistributed", layer=_layer("Dense", units=8)),
            ],
        ),
    ],
)
def test_return_sequences_is_told_only_of_a_recurrent_last_layer(
    question: tuple[str, str], answer: list
) -> None:
    """A Flatten or a TimeDistributed Dense set the time axis, not a return_sequences flag."""
    message = judge(*question, answer, named=False).message
    assert "return_sequences" not in message, message


@pytest.mark.parametrize(
    ("answer", "position"),
    [
        ([5], 1),
        ([_layer("Dense", units=4), 5], 2),
        ([_layer("Dense", units=4), {"class_name": "Dense", "config": 3}], 2),
    ],
)
def test_a_malformed_layer_is_counted_from_one(answer: list, position: int) -> None:
    message = judge("02-dense", "q7", answer).message
    assert message.startswith(f"Layer {position}"), message


@pytest.mark.parametrize(
    ("index", "option", "key"),
    [(0, {"input_length": 30}, "input_length")],
)
def test_an_option_keras_ignores_is_a_note_outside_a_repair(
    index: int, option: dict, key: str
) -> None:
    """08 q6 is not a repair: an Embedding's input_length, which Keras 3 ignores, leaves
    the model Keras builds right, with a note; the repair 09 q7 still judges it wrong."""
    result = judge(*Q6_08, changed(solution_answer(*Q6_08), index, **option))
    assert result.correct, result.message
    assert f"Keras 3 ignores {key} here" in result.message, result.message
    repaired = judge(*Q7_09, changed(solution_answer(*Q7_09), index, **option))
    assert not repaired.correct and key in repaired.message, repaired.message


def test_a_model_that_does_not_build_is_also_told_its_swapped_units() -> None:
    """05 q6 written [LSTM(8), LSTM(16)]: the build error (no return_sequences) hides a
    second slip, the units in the other order. Is that told too, and only where the layers
    are the question's classes in its order?"""
    answer = [
        {"class_name": "LSTM", "config": {"units": 8}},
        {"class_name": "LSTM", "config": {"units": 16}},
    ]
    message = judge("05-return-flags", "q6", answer).message
    assert message.startswith("This model does not build")
    assert "layer 1 has units=8 where the prompt asks for 16" in message
    assert "layer 2 has units=16 where the prompt asks for 8" in message
    right_units = [
        {"class_name": "LSTM", "config": {"units": 16}},
        {"class_name": "LSTM", "config": {"units": 8}},
    ]
    assert "Also," not in judge("05-return-flags", "q6", right_units).message


def test_the_units_note_counts_layers_as_the_build_error_does() -> None:
    """With an InputLayer written first, does the note number the LSTMs 2 and 3, as the
    build error numbers every layer written?"""
    answer = [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 10, 3]}},
        {"class_name": "LSTM", "config": {"units": 8}},
        {"class_name": "LSTM", "config": {"units": 16}},
    ]
    message = judge("05-return-flags", "q6", answer).message
    assert "layer 2 has units=8 where the prompt asks for 16" in message, message


def test_a_default_the_prompt_leaves_unsaid_is_told_as_kept_not_as_asked() -> None:
    """A changed option the prompt never names (trainable, dropout) is told as the Keras
    default the question's layer keeps; an option the prompt sets is told as asked, and both
    together in one sentence."""
    frozen = [_layer("Dense", units=4, use_bias=False, trainable=False)]
    message = judge("02-dense", "q7", frozen).message
    assert message.endswith("the question's layer keeps Keras's default trainable=True."), message
    assert "the prompt asks for" not in message
    both = changed(solution_answer(*Q7_08), 0, output_dim=8, mask_zero=True)
    message = judge(*Q7_08, both).message
    assert (
        "the question's layer has output_dim=16 and keeps Keras's default mask_zero=False."
        in message
    ), message


@pytest.mark.parametrize(
    ("class_name", "told"),
    [
        ("dense", "class names are case-sensitive, did you mean 'Dense'?"),
        ("keras.layers.Dense", "a spec names the class alone, 'Dense'."),
    ],
)
def test_a_model_layer_class_misspelt_is_told_how_to_write_it(class_name: str, told: str) -> None:
    """A model layer's class in the wrong case, or with its module path, is told what to
    write, not that the question's model does not use it: the stack keeps what the layer's
    error carries."""
    answer = [{"class_name": class_name, "config": {"units": 4, "use_bias": False}}]
    result = judge("02-dense", "q7", answer)
    assert not result.correct and told in result.message, result.message
    assert "does not use" not in result.message


@pytest.mark.parametrize(
    ("question", "answer", "told"),
    [
        (
            ("02-dense", "q7"),
            [_layer("Dense", units=4, use_bias=False, lora_rank=2)],
            "This model cannot be judged here: Layer 1 ('dense', Dense): Dense with lora_rank=2",
        ),
        (
            ("02-dense", "q7"),
            [_layer("Dense", units=4, use_bias=False, dtype="int32")],
            "Dense's dtype 'int32' makes its weights integers",
        ),
        (
            ("05-return-flags", "q6"),
            [
                _layer("LSTM", units=16, return_sequences=True, name="twin"),
                _layer("LSTM", units=8, name="twin"),
            ],
            "Layer 2 ('twin', LSTM) has the name of layer 1",
        ),
    ],
)
def test_a_model_keras_does_not_build_as_counted_earns_nothing(
    question: tuple[str, str], answer: list[dict[str, Any]], told: str
) -> None:
    """A model with the asked shapes and counts on paper, which Keras builds with other
    weights (LoRA) or not at all (integer weights, two layers of one name), earns nothing
    and is told why."""
    result = judge(*question, answer)
    assert not result.correct and result.earned == 0
    assert told in result.message, result.message


def test_no_activation_is_said_back_as_written() -> None:
    """A recurrent layer written with activation=None, which Keras stores as 'linear', is
    told it has no activation, not quoted as an activation the learner never wrote."""
    answer = changed(solution_answer(*Q7_08), 1, activation=None)
    message = judge(*Q7_08, answer).message
    assert "has no activation (activation=None, which Keras stores as 'linear')" in message


REFUSED_VALUES = [
    ("seed", "x", "seed 'x' is not one Keras 3 takes: write an integer"),
    (
        "kernel_regularizer",
        {"class_name": "L1", "config": {"l1": -1}},
        "L1's l1 -1 is not one Keras 3 takes: write a number 0 or above",
    ),
]


def _first_layer_taking(option: str, answer: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next(
        (spec for spec in answer if option in shapes._accepted_arguments(spec["class_name"])),
        None,
    )


@pytest.mark.parametrize(
    ("assignment", "question", "option", "value", "message"),
    [
        (assignment, question, *refused)
        for assignment, question in MODEL_QUESTIONS
        for refused in REFUSED_VALUES
        # a question whose solution has no layer taking the option cannot be given it
        if _first_layer_taking(refused[0], _solution_answer(assignment, question)) is not None
    ],
)
def test_an_option_value_keras_refuses_earns_nothing(
    assignment: str, question: str, option: str, value: Any, message: str
) -> None:
    """Does the solution with a seed or a regularizer config Keras 3 refuses on its first
    layer that takes one earn nothing, saying why? Such values once passed, and a model
    Keras cannot build scored full marks."""
    answer = solution_answer(assignment, question)
    layer = _first_layer_taking(option, answer)
    assert layer is not None
    layer["config"][option] = value
    result = judge(assignment, question, answer)
    assert not result.correct and result.earned == 0.0, result.message
    assert message in result.message, result.message


@pytest.mark.parametrize(
    ("assignment", "question", "flags", "said"),
    [
        ("05-return-flags", "q6", (True, True), "(None, 8, 8), not (None, 8)"),
        ("08-putting-together", "q6", (True, False), "(None, 3), not (None, 30, 3)"),
    ],
)
def test_a_layers_return_sequences_is_told_once(
    assignment: str, question: str, flags: tuple[bool, bool], said: str
) -> None:
    """A stack whose upper LSTM hands on the wrong thing was told so twice: "Layer 2 (LSTM)
    has return_sequences=True, so it hands on every timestep ...", then of the output
    "(None, 8, 8) keeps the time axis: that is the shape with `return_sequences=True`".
    Is it told once, with the shape the model outputs?"""
    answer = copy.deepcopy(solution_answer(assignment, question))
    recurrent = [spec for spec in answer if spec["class_name"] == "LSTM"]
    for spec, flag in zip(recurrent, flags, strict=True):
        spec["config"]["return_sequences"] = flag
    ref = reference(assignment, question)
    message = verdict("model", answer, ref["expected"], ref["context"]).message
    assert message.count("return_sequences") == 1, message
    assert f"Your model outputs {said}" in message


#: A layer's options Keras reads only through its bias, each with values Keras takes, one
#: it refuses, and options beside them that act without a bias.
BIAS_OPTION_CASES = {
    "bias_initializer-ones": {"bias_initializer": "ones"},
    "bias_initializer-constant": {
        "bias_initializer": {"class_name": "Constant", "config": {"value": 3.0}}
    },
    "bias_initializer-none": {"bias_initializer": None},
    "bias_regularizer-l2": {"bias_regularizer": "l2"},
    "bias_constraint-non_neg": {"bias_constraint": "non_neg"},
    "bias_initializer-unknown": {"bias_initializer": "bogus"},
    "kernel_regularizer-l2": {"kernel_regularizer": "l2"},
    "activity_regularizer-l2": {"activity_regularizer": "l2"},
    "bias-with-use_bias-0": {"use_bias": 0, "bias_initializer": "ones"},
    "bias-with-use_bias-true": {"use_bias": True, "bias_initializer": "ones"},
}


@pytest.mark.parametrize("name", sorted(BIAS_OPTION_CASES))
def test_a_bias_option_of_a_layer_without_bias_is_judged_as_keras_builds_it(
    keras: Any, name: str
) -> None:
    """02 q7 asks for a Dense layer that holds only its kernel: does the solution with an
    option Keras reads only through a bias earn its point exactly where Keras builds the
    solution's model (the same weights, outputs and losses), and no option Keras refuses
    or that changes the model (a kernel regularizer adds a loss)?"""
    import numpy as np

    entry = reference("02-dense", "q7")
    answer = solution_answer("02-dense", "q7")
    answer[0]["config"].update(BIAS_OPTION_CASES[name])
    shape = tuple(entry["context"]["input_shape"][1:])
    data = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    keras.backend.clear_session(free_memory=False)

    def model(specs: list[dict[str, Any]]) -> Any:
        return keras.Sequential(
            [keras.Input(shape=shape)]
            + [getattr(keras.layers, spec["class_name"])(**spec["config"]) for spec in specs]
        )

    plain = model(solution_answer("02-dense", "q7"))
    try:
        mine = model(answer)
    except ValueError:  # an identifier Keras cannot interpret
        same = False
    else:
        same = [w.shape for w in mine.weights] == [w.shape for w in plain.weights]
        if same:
            mine.set_weights(plain.get_weights())
            same = np.array_equal(mine.predict(data, verbose=0), plain.predict(data, verbose=0))
            mine(data)
            same = same and not mine.losses
    result = judge("02-dense", "q7", answer)
    assert result.correct == same, result.message


#: The recurrent layers a layer question's answer holds, inside a Bidirectional too.
_RECURRENT = ("SimpleRNN", "LSTM", "GRU")


@pytest.mark.parametrize(
    ("assignment", "question", "name"),
    [
        pytest.param(
            assignment,
            question,
            name,
            id=f"{assignment}-{question}-{name}",
            marks=() if name in ("'x'", "array-of-two", "None") else pytest.mark.slow,
        )
        for assignment, question in [
            ("03-simplernn", "q7"),
            ("05-return-flags", "q7"),
            ("07-gru-bidirectional", "q9"),
        ]
        for name in ("True", "None", "'x'", "[]", "{'a': 1}", "array-of-two", "empty-array")
    ],
)
def test_zero_output_for_mask_of_any_value_keeps_a_layer_answer_s_point_and_outputs(
    keras: Any, assignment: str, question: str, name: str
) -> None:
    """Keras reads zero_output_for_mask only for a mask, which no layer question's input
    has: does a layer answer with any value of it, on its own or inside a Bidirectional,
    give Keras's layer the same outputs with the same weights, and earn the point?"""
    import numpy as np

    values = {
        "True": True,
        "None": None,
        "'x'": "x",
        "[]": [],
        "{'a': 1}": {"a": 1},
        "array-of-two": np.array([1.0, 2.0]),
        "empty-array": np.zeros(0),
    }
    entry = reference(assignment, question)
    plain = solution_answer(assignment, question)
    changed = solution_answer(assignment, question)
    for spec in (changed, changed["config"].get("layer")):
        if isinstance(spec, dict) and spec["class_name"] in _RECURRENT:
            spec["config"]["zero_output_for_mask"] = values[name]
    assert changed != plain
    from lstm_lib.answers import from_plain, to_plain
    from lstm_lib.designs import build_model

    shape = tuple(entry["context"]["input_shape"])
    keras.backend.clear_session(free_memory=False)
    before, after = build_model([plain], shape), build_model([changed], shape)
    after.set_weights(before.get_weights())
    data = np.random.default_rng(0).normal(size=(2, *shape[1:])).astype("float32")
    outputs = [keras.tree.flatten(m.predict(data, verbose=0)) for m in (before, after)]
    for mine, theirs in zip(*outputs, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    result = verdict(
        entry["kind"],
        from_plain(to_plain(changed)),
        entry["expected"],
        entry["context"],
        entry["mistakes"],
    )
    assert result.correct, result.message


@pytest.mark.parametrize(
    ("assignment", "question"),
    [("08-putting-together", "q6"), ("09-keras2-to-keras3", "q7")],
)
def test_no_embedding_that_earns_a_point_makes_a_mask(
    keras: Any, assignment: str, question: str
) -> None:
    """zero_output_for_mask, which the grader leaves unjudged, acts only on a mask: does
    every mask_zero a model question's Embedding earns its point with leave Keras's
    Embedding without a mask, so that no earning model computes with one?"""
    import numpy as np

    for value in (True, False, None, 0, 1, "", "False", [], [0], 0.0, np.array(0.0)):
        answer = solution_answer(assignment, question)
        answer[0]["config"]["mask_zero"] = value
        if not judge(assignment, question, answer).correct:
            continue
        layer = keras.layers.Embedding(**answer[0]["config"])
        assert layer.compute_mask(np.zeros((1, 3), dtype="int32")) is None, value


@pytest.mark.parametrize(
    ("assignment", "question"),
    [
        *MODEL_QUESTIONS,
        ("03-simplernn", "q7"),
        ("05-return-flags", "q7"),
        ("07-gru-bidirectional", "q9"),
    ],
)
def test_a_right_design_as_keras_writes_it_keeps_its_point(
    keras: Any, assignment: str, question: str
) -> None:
    """Is a design question's solution, written as Keras writes it (each layer as
    keras.layers.serialize gives it, every option spelt out, through JSON; and a model as
    its get_config() lists its layers, InputLayer first), still judged right, both as
    written and as the grader reads it?"""
    from lstm_lib.answers import from_plain, to_plain
    from lstm_lib.designs import build_model

    entry = reference(assignment, question)
    solution = solution_answer(assignment, question)
    specs = solution if isinstance(solution, list) else [solution]
    keras.backend.clear_session(free_memory=False)
    model = build_model(specs, tuple(entry["context"]["input_shape"]))
    written = json.loads(json.dumps([keras.layers.serialize(layer) for layer in model.layers]))
    forms = [written if isinstance(solution, list) else written[0]]
    if isinstance(solution, list):
        forms.append(json.loads(json.dumps(model.get_config()["layers"])))
    for answer in forms:
        for read in (answer, from_plain(to_plain(answer))):
            result = verdict(
                entry["kind"], read, entry["expected"], entry["context"], entry["mistakes"]
            )
            assert result.correct, result.message
