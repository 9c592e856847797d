"""Do the verdicts judge every kind of question, and name the learner's mistake?

The grader judges each decoded answer with ``lstm_lib.verdicts.verdict`` in its own
process. These tests ask whether the form checks a test cell runs (``expect_*``) say how to
fix a badly written answer, whether every kind of question gives the message that names the
classic confusion behind a wrong answer, and whether no plain data makes a verdict raise.
No test here imports TensorFlow: the verdicts must work without it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_answers import SneakyArray, SneakyInt, SneakyStr, SneakyTuple, plain_values
from test_mistakes import QUESTIONS
from test_model_verdicts import solution_answer

from lstm_grader.references import load_references
from lstm_lib import judging, verdicts
from lstm_lib.answers import answer_json, from_plain, parse_answer_json, to_plain
from lstm_lib.verdicts import AnswerError, Verdict

# Bounded on purpose: these run in the quick suite (make check).
PROPERTY = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
GARBAGE = settings(PROPERTY, max_examples=60)


# ===================================================================== form checks

LSTM_8 = {"class_name": "LSTM", "config": {"units": 8}}


class TestFormChecks:
    @pytest.mark.parametrize("value", [(None, 32), (None, 10, 32), (32, 10, 1), (0,), ()])
    def test_expect_shape_accepts_tuples(self, value: tuple) -> None:
        """Is a tuple of plain ints and None accepted as a shape?"""
        verdicts.expect_shape(value)

    @pytest.mark.parametrize(
        ("value", "phrases"),
        [
            ([None, 32], ["is a list", "write a shape as a tuple", "(None, 32)"]),
            ("(None, 32)", ["is a string", "without quotes: (None, 32)"]),
            ("thirty-two", ["A shape is a tuple such as (None, 10, 32)", "type str"]),
            (32, ["A shape is a tuple", "32 (type int)", "write (32,)", "(32) is just 32"]),
            (np.array([1, 2]), ["A shape is a tuple"]),
            (SneakyTuple((None, 32)), ["A shape is a tuple", "SneakyTuple"]),
            ((None, np.int64(32)), ["plain int or None", "Convert it with int(...)"]),
            ((None, 32.0), ["plain int or None", "32.0 (type float)"]),
            ((None, True), ["plain int or None", "True (type bool)"]),
            ((None, "32"), ["plain int or None"]),
            ((None, -3), ["never negative", "-3"]),
            ((-1, 10, 1), ["never negative", "-1 is how reshape is told to work a size out"]),
        ],
        ids=repr,
    )
    def test_expect_shape_refuses(self, value: Any, phrases: list[str]) -> None:
        """Does a wrong form of shape get a message that says how to write it?"""
        with pytest.raises(AnswerError) as info:
            verdicts.expect_shape(value)
        for phrase in phrases:
            assert phrase in str(info.value)

    def test_answer_error_is_an_assertion_error(self) -> None:
        """Does nbgrader count an AnswerError as a failed test (an AssertionError)?"""
        assert issubclass(AnswerError, AssertionError)

    def test_expect_shapes(self) -> None:
        """Is a list of shapes accepted, and a tuple of them or a bad item refused by name?"""
        verdicts.expect_shapes([(None, 4), (None, 4), (None, 4)])
        verdicts.expect_shapes([])
        with pytest.raises(AnswerError, match=r"Write the shapes as a list, one tuple"):
            verdicts.expect_shapes(((None, 4), (None, 4)))
        with pytest.raises(AnswerError, match=r"Item 2 of your list: \[None, 4\] is a list"):
            verdicts.expect_shapes([(None, 4), [None, 4]])
        with pytest.raises(AnswerError, match=r"Item 1 of your list: A shape is a tuple"):
            verdicts.expect_shapes([4])

    @pytest.mark.parametrize(
        ("value", "phrases"),
        [
            (32.0, ["A count is a plain int such as 32", "32.0 (type float)"]),
            (True, ["plain int", "True (type bool)"]),
            (np.int64(32), ["plain int", "Convert it with int(...)"]),
            ("32", ["plain int", "'32' (type str)"]),
            (SneakyInt(32), ["plain int", "SneakyInt"]),
            (None, ["plain int", "None (type NoneType)"]),
        ],
        ids=repr,
    )
    def test_expect_int_refuses(self, value: Any, phrases: list[str]) -> None:
        """Is only a plain int a count: not a float, bool, string or NumPy integer?"""
        verdicts.expect_int(32)
        with pytest.raises(AnswerError) as info:
            verdicts.expect_int(value)
        for phrase in phrases:
            assert phrase in str(info.value)

    def test_expect_choice(self) -> None:
        """Is one of the options accepted, and anything else told which options there are?"""
        verdicts.expect_choice("b", ["a", "b", "c"])
        for wrong in ("d", "B", SneakyStr("b"), 1, None, ["b"]):
            with pytest.raises(AnswerError, match=r"Answer with one of 'a', 'b', 'c'; got"):
                verdicts.expect_choice(wrong, ["a", "b", "c"])

    def test_expect_array(self) -> None:
        """Is a finite numeric array of the right shape accepted, and other forms refused?"""
        verdicts.expect_array(np.zeros((1, 2)), shape=(1, 2))
        verdicts.expect_array(np.arange(3))
        verdicts.expect_array(np.zeros((2, 2), dtype=np.float32), shape=[2, 2])
        for wrong in ([[0.0, 0.0]], 0.0, np.array(["a"]), np.zeros(2).view(SneakyArray)):
            with pytest.raises(AnswerError, match="Answer with a NumPy array of numbers"):
                verdicts.expect_array(wrong)
        with pytest.raises(
            AnswerError, match=r"should have shape \(1, 2\); yours has shape \(2,\)"
        ):
            verdicts.expect_array(np.zeros(2), shape=(1, 2))
        for bad in (np.nan, np.inf):
            with pytest.raises(AnswerError, match="NaN or infinity"):
                verdicts.expect_array(np.array([1.0, bad]))

    def test_expect_layer_specs(self) -> None:
        """Is a list of layer dicts accepted, and each wrong form named with its position?"""
        verdicts.expect_layer_specs([{"class_name": "LSTM", "config": {"units": 8}}])
        verdicts.expect_layer_specs([{"class_name": "Dense"}])
        for wrong in ([], {"class_name": "LSTM"}, "LSTM(8)", None):
            with pytest.raises(AnswerError, match="Describe the model as a list of layer dicts"):
                verdicts.expect_layer_specs(wrong)
        with pytest.raises(AnswerError, match="Layer 2 should be a dict with a 'class_name'"):
            verdicts.expect_layer_specs([{"class_name": "LSTM"}, {"class": "Dense"}])
        with pytest.raises(AnswerError, match="Layer 1 should be a dict"):
            verdicts.expect_layer_specs([("LSTM", {"units": 8})])
        with pytest.raises(AnswerError, match="Layer 1: 'config' should be a dict"):
            verdicts.expect_layer_specs([{"class_name": "LSTM", "config": [8]}])

    @pytest.mark.parametrize(
        ("whole", "way"),
        [
            (  # keras.layers.serialize(model)
                {"module": "keras", "class_name": "Sequential", "config": {"layers": [LSTM_8]}},
                "['config']['layers']",
            ),
            ({"name": "sequential", "trainable": True, "layers": [LSTM_8]}, "['layers']"),
        ],
    )
    def test_a_whole_models_config_is_told_where_its_layers_are(
        self, whole: dict, way: str
    ) -> None:
        """Is a model answer written as the whole model's config (model.get_config(), or
        keras.layers.serialize(model)) told where its list of layers is, and judged alike in
        the notebook's form check and by the grader?"""
        with pytest.raises(AnswerError) as told:
            verdicts.expect_layer_specs(whole)
        assert f"its list of layers is its {way}" in str(told.value)
        assert "model.get_config()['layers']" in str(told.value)
        graded = verdicts.verdict(
            "model",
            whole,
            {"output_shape": [None, 8], "params": 384},
            {"input_shape": [None, 4, 3]},
        )
        assert graded.message == str(told.value)


# ===================================================================== verdicts

LSTM16 = {"class_name": "LSTM", "config": {"units": 16}}
# LSTM(16) on 3 features: 4 × (16 × (16 + 3) + 16) = 1280.
LSTM_COUNT = {"layer": LSTM16, "input_shape": [None, 8, 3]}
SHAPE_CONTEXT = {"features": 8, "timesteps": 10, "input_shape": [None, 10, 8]}
STACK = [
    {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}},
    {"class_name": "LSTM", "config": {"units": 8}},
]
MODEL_EXPECTED = {"output_shape": [None, 8], "params": 2080}
MODEL_CONTEXT = {"input_shape": [None, 8, 3], "required_layers": ["LSTM"]}
LAYER_EXPECTED = [[None, 5, 4], [None, 4], [None, 4]]
LAYER_CONTEXT = {
    "input_shape": [None, 5, 2],
    "features": 2,
    "timesteps": 5,
    "roles": ["output", "h", "c"],
    "required_layers": ["LSTM"],
}
LAYER_ANSWER = {
    "class_name": "LSTM",
    "config": {"units": 4, "return_sequences": True, "return_state": True},
}

# kind -> (a right answer, a wrong answer, expected as recorded JSON, context)
CASES: dict[str, tuple[Any, Any, Any, dict[str, Any]]] = {
    "shape": ((None, 10, 16), (None, 16), [None, 10, 16], SHAPE_CONTEXT),
    "shapes": (
        [(None, 16), (None, 16), (None, 16)],
        [(None, 16)],
        [[None, 16], [None, 16], [None, 16]],
        {"roles": ["output", "h", "c"]},
    ),
    "int": (1280, 1281, 1280, LSTM_COUNT),
    "choice": ("b", "a", "b", {"options": ["a", "b", "c"], "why_not": {"a": "Not a: why."}}),
    "array": (np.array([[1.0, 2.0]]), np.array([[1.0, 3.0]]), [[1.0, 2.0]], {}),
    "model": (STACK, STACK[1:], MODEL_EXPECTED, MODEL_CONTEXT),
    "layer_shapes": (LAYER_ANSWER, LSTM16, LAYER_EXPECTED, LAYER_CONTEXT),
    "value": (
        {"units": 128, "activation": "sigmoid"},
        {"units": 128, "activation": "tanh"},
        {"activation": "sigmoid", "units": 128},
        {},
    ),
}


class TestVerdictKinds:
    def test_every_kind_is_covered(self) -> None:
        """Does this file test every kind of question verdict understands?"""
        assert set(CASES) == set(verdicts.KINDS)

    @pytest.mark.parametrize("kind", sorted(CASES))
    def test_right_answer(self, kind: str) -> None:
        """Is the right answer, decoded as the grader decodes it, judged correct?"""
        right, _, expected, context = CASES[kind]
        result = verdicts.verdict(kind, from_plain(to_plain(right)), expected, context)
        assert isinstance(result, Verdict)
        assert result.correct is True
        assert result.message.startswith("Correct")

    @pytest.mark.parametrize("kind", sorted(CASES))
    def test_wrong_answer(self, kind: str) -> None:
        """Is a wrong answer judged wrong, with a message that is more than a bare no?"""
        _, wrong, expected, context = CASES[kind]
        result = verdicts.verdict(kind, from_plain(to_plain(wrong)), expected, context)
        assert result.correct is False
        assert result.message and not result.message.startswith("Correct")

    def test_unknown_kind(self) -> None:
        """Is a question of an unknown kind an instructor's error, raised at once?"""
        with pytest.raises(ValueError, match="unknown question kind"):
            verdicts.verdict("shpae", (None, 1), [None, 1])

    @pytest.mark.parametrize("kind", sorted(CASES))
    def test_unsupported_answer(self, kind: str) -> None:
        """Does an answer of a refused type get told to use plain values, for every kind?"""
        _, _, expected, context = CASES[kind]
        answer = from_plain(to_plain(SneakyInt(1280)))
        result = verdicts.verdict(kind, answer, expected, context)
        assert not result.correct
        assert "an object of type SneakyInt" in result.message
        assert "plain Python values" in result.message

    def test_value_is_type_strict(self) -> None:
        """Does a value question tell 1 from True and a tuple from a list?"""
        assert verdicts.verdict("value", "TypeError", "TypeError").correct
        assert not verdicts.verdict("value", True, 1).correct
        assert not verdicts.verdict("value", 1, 1.0).correct
        assert not verdicts.verdict("value", ("a",), ["a"]).correct
        assert verdicts.verdict("value", ["a"], ["a"]).correct
        assert "is a string, as asked, but not the right one" in (
            verdicts.verdict("value", "x", "y").message
        )


class TestNamedMistakes:
    @pytest.mark.parametrize(
        ("answer", "expected", "phrases"),
        [
            (
                (None, 10, 32),
                [None, 32],
                ["(None, 10, 32) keeps the time axis", "return_sequences=True"],
            ),
            (
                (None, 32),
                [None, 10, 32],
                ["(None, 32) drops the time axis", "(batch, timesteps, units)"],
            ),
            ((10, 32), [None, 10, 32], ["leaves out the batch axis", "None"]),
            ((32,), [None, 32], ["leaves out the batch axis"]),
            ((32, 10, 16), [None, 10, 16], ["batch size", "does not fix", "None"]),
            ((None, 8), [None, 16], ["`units`, not the 8 input features"]),
            ((None, 10, 8), [None, 10, 16], ["`units`, not the 8 input features"]),
            ((None, 10), [None, 16], ["number of timesteps is an axis of the input"]),
            ((None, 16, 10), [None, 10, 16], ["wrong order", "(batch, timesteps, units)"]),
            (
                (None, 3, 7),
                [None, 5, 9],
                ["the batch axis is right", "timesteps axis is wrong (3 is not its size)"],
            ),
        ],
        ids=repr,
    )
    def test_shape_confusions(self, answer: tuple, expected: list, phrases: list[str]) -> None:
        """Does each classic shape confusion get the message that names it?"""
        result = verdicts.verdict("shape", answer, expected, SHAPE_CONTEXT)
        assert not result.correct
        for phrase in phrases:
            assert phrase in result.message, result.message

    def test_return_state_count(self) -> None:
        """Does a single shape where return_state gives three say so, and count them?"""
        expected = [[None, 16], [None, 16], [None, 16]]
        result = verdicts.verdict("shapes", [(None, 16)], expected)
        assert "(None, 16) is the output only" in result.message
        assert "With `return_state=True`" in result.message and "3 tensors" in result.message
        assert "not one" not in result.message
        result = verdicts.verdict("shapes", [(None, 16), (None, 16)], expected)
        assert "holds 3 tensors" in result.message and "your list has 2" in result.message
        # 07 q10 asks what initial_state takes, which no call returns
        initial_state = verdicts.verdict(
            "shapes",
            [(None, 9, 16), (None, 16), (None, 16)],
            [[None, 16], [None, 16]],
            {"roles": ["h", "c"]},
        )
        assert initial_state.message == (
            "Keras's list here holds 2 tensors, in its order (h, c); your list has 3."
        )

    def test_shapes_name_the_tensor(self) -> None:
        """Does a wrong shape in a list say which tensor, by its role, and what is wrong?"""
        expected = [[None, 8, 16], [None, 16], [None, 16]]
        context = {"roles": ["output", "h", "c"], "features": 3, "timesteps": 8}
        result = verdicts.verdict("shapes", [(None, 16), (None, 16), (None, 16)], expected, context)
        assert result.message.startswith("Tensor 1 (output): (None, 16) drops the time axis")
        result = verdicts.verdict(
            "shapes", [(None, 8, 16), (None, 16), (None, 3)], expected, context
        )
        assert result.message.startswith("Tensor 3 (c): The last axis of a state is `units`")
        result = verdicts.verdict("shapes", [(None, 8, 16), (7, 7)], [[None, 8, 16], [None, 16]])
        assert result.message.startswith("Tensor 2 (a state): (7, 7): the batch axis is wrong")
        assert result.message.endswith("The other parts are right: the output (1 of 2).")
        assert result.score == 0.5

    @pytest.mark.parametrize(
        ("answer", "phrase"),
        [
            (320, "the count for one block"),
            (1216, "leaves out the bias"),
            (1280 * 8, "timesteps does not change the parameter count"),
            (4 * (16 * 3 + 16), "leaves out the recurrent kernel U"),
            (1000, "1000 is too small for this count. An LSTM's count is 4 blocks"),
        ],
    )
    def test_lstm_count_confusions(self, answer: int, phrase: str) -> None:
        """Does each classic LSTM counting mistake get its own message?"""
        result = verdicts.verdict("int", answer, 1280, LSTM_COUNT)
        assert not result.correct
        assert phrase in result.message, result.message

    def test_count_without_a_layer(self) -> None:
        """Without a layer in the context, is the wrong count still answered plainly?"""
        result = verdicts.verdict("int", 7, 10, {"noun": "number of weight arrays"})
        assert result.message == "7 is too small for the number of weight arrays."

    def test_dense_count_without_bias(self) -> None:
        """Does Dense(16) on 8 features counted as 8 × 16 name the missing bias?"""
        layer = {"class_name": "Dense", "config": {"units": 16}}
        result = verdicts.verdict("int", 128, 144, {"layer": layer, "input_shape": [None, 8]})
        assert "leaves out the bias" in result.message

    def test_gru_reset_after_flipped(self) -> None:
        """Does the GRU count for the other reset_after say what this GRU's flag keeps,
        both ways, never that the answer is the other flag's count (07 q1 and q2 each ask
        one of them)?"""
        context = {
            "layer": {"class_name": "GRU", "config": {"units": 8}},
            "input_shape": [None, 10, 5],
        }
        result = verdicts.verdict("int", 336, 360, context)
        assert "with `reset_after=True`, this GRU keeps two bias vectors" in result.message
        assert "reset_after=False" not in result.message
        old = {
            "layer": {"class_name": "GRU", "config": {"units": 8, "reset_after": False}},
            "input_shape": [None, 10, 5],
        }
        result = verdicts.verdict("int", 360, 336, old)
        assert "with `reset_after=False`, this GRU keeps a single bias vector" in result.message
        assert "reset_after=True" not in result.message

    def test_bidirectional_one_direction(self) -> None:
        """Does counting one direction of a Bidirectional say the count doubles?"""
        layer = {
            "class_name": "Bidirectional",
            "config": {"layer": {"class_name": "LSTM", "config": {"units": 8}}},
        }
        context = {"layer": layer, "input_shape": [None, 10, 5]}
        assert verdicts.verdict("int", 896, 896, context).correct
        result = verdicts.verdict("int", 448, 896, context)
        assert "one direction only" in result.message and "doubles" in result.message

    def test_recorded_mistakes_exact(self) -> None:
        """Does a recorded wrong answer get its recorded message, matched exactly?"""
        mistakes = [
            {"value": [32, 10, 1], "message": "That is batch_input_shape."},
            {"value": {"units": 128}, "message": "Keep the activations."},
            {"value": 30, "message": "Thirty."},
            {"value": [[None, 16], [None, 16]], "message": "Two states."},
        ]
        assert (
            verdicts.verdict("shape", (32, 10, 1), [None, 10, 1], mistakes=mistakes).message
            == "That is batch_input_shape."
        )
        assert (
            verdicts.verdict("value", {"units": 128}, {"units": 1}, mistakes=mistakes).message
            == "Keep the activations."
        )
        assert verdicts.verdict("int", 30, 31, mistakes=mistakes).message == "Thirty."
        assert (
            verdicts.verdict(
                "shapes", [(None, 16), (None, 16)], [[None, 8]], mistakes=mistakes
            ).message
            == "Two states."
        )
        # exact means exact: 30.0 is not 30, (32, 10, 2) is not (32, 10, 1)
        assert verdicts.verdict("value", 30.0, 31, mistakes=mistakes).message != "Thirty."
        assert (
            "batch_input_shape"
            not in verdicts.verdict("shape", (32, 10, 2), [None, 10, 1], mistakes=mistakes).message
        )

    @PROPERTY
    @given(
        mistake=st.lists(st.one_of(st.none(), st.integers(1, 512)), min_size=1, max_size=4).map(
            tuple
        ),
        expected=st.lists(st.one_of(st.none(), st.integers(1, 512)), min_size=1, max_size=4),
        shapes=st.booleans(),
    )
    def test_recorded_mistake_in_another_form_is_told_its_form(
        self, mistake: tuple, expected: list, shapes: bool
    ) -> None:
        """Is a recorded wrong shape written as a list told its form, as the test cell's form
        check tells it in the notebook, rather than the recorded mistake's explanation?"""
        if list(mistake) == expected:
            return
        kind = "shapes" if shapes else "shape"
        recorded = [list(mistake)] if shapes else list(mistake)
        reference = [expected] if shapes else expected
        mistakes = [{"value": recorded, "message": "The recorded explanation."}]
        written = (mistake,) if shapes else list(mistake)  # a tuple of shapes, a list shape
        result = verdicts.verdict(kind, written, reference, mistakes=mistakes)
        form_check = verdicts.expect_shapes if shapes else verdicts.expect_shape
        with pytest.raises(AnswerError) as told:
            form_check(written)
        assert not result.correct
        assert result.message == str(told.value)
        right_form = [mistake] if shapes else mistake
        named = verdicts.verdict(kind, right_form, reference, mistakes=mistakes)
        assert named.message == "The recorded explanation."

    def test_recorded_mistakes_never_override_a_right_answer(self) -> None:
        """Is a right answer right even if it was also recorded as a mistake?"""
        mistakes = [{"value": [None, 16], "message": "wrong"}]
        assert verdicts.verdict("shape", (None, 16), [None, 16], mistakes=mistakes).correct

    def test_recorded_array_mistakes_within_tolerance(self) -> None:
        """Is an array recorded as a mistake (h and c swapped) matched within 1e-5, only?"""
        expected = [[0.1, 0.2]]
        swapped = [[0.7, -0.3]]
        mistakes = [{"value": swapped, "message": "That is c, not h."}]
        near = np.array(swapped) + 5e-6
        assert (
            verdicts.verdict("array", near, expected, mistakes=mistakes).message
            == "That is c, not h."
        )
        far = np.array(swapped) + 1e-3
        result = verdicts.verdict("array", far, expected, mistakes=mistakes)
        assert "Not within the tolerance" in result.message
        other_shape = np.array(swapped).ravel()
        result = verdicts.verdict("array", other_shape, expected, mistakes=mistakes)
        assert "Your array has shape (2,)" in result.message
        assert "(1, 2)" not in result.message

    def test_array_messages(self) -> None:
        """Does a wrong array say where the largest difference is, within 1e-5 otherwise?"""
        expected = [[1.0, 2.0, 3.0]]
        assert verdicts.verdict("array", np.array([[1.0, 2.0, 3.0 + 5e-6]]), expected).correct
        result = verdicts.verdict("array", np.array([[1.0, 2.5, 3.0]]), expected)
        assert result.message == (
            "Not within the tolerance of the Keras value (1e-5 + 1e-5 × |Keras value| per entry): "
            "1 of 3 entries differ, at (0, 1)."
        )
        result = verdicts.verdict("array", [[1.0, 2.0, 3.0]], expected)
        assert "Answer with a NumPy array of numbers" in result.message

    def test_choice_messages(self) -> None:
        """Does a wrong choice get its 'why not', and an unlisted one the list of options?"""
        _, _, expected, context = CASES["choice"]
        assert verdicts.verdict("choice", "a", expected, context).message == "Not a: why."
        assert (
            verdicts.verdict("choice", "c", expected, context).message
            == "'c' is not the right choice."
        )
        assert (
            "Answer with one of 'a', 'b', 'c'"
            in verdicts.verdict("choice", "d", expected, context).message
        )

    def test_model_that_does_not_build(self) -> None:
        """Does a model spec that Keras would refuse say why, naming the layer?"""
        unstacked = [
            {"class_name": "LSTM", "config": {"units": 16}},
            {"class_name": "LSTM", "config": {"units": 8}},
        ]
        result = verdicts.verdict("model", unstacked, MODEL_EXPECTED, MODEL_CONTEXT)
        assert result.message.startswith("This model does not build: Layer 2")
        assert "return_sequences=False" in result.message
        result = verdicts.verdict(
            "model",
            [{"class_name": "Conv1D", "config": {"filters": 4}}],
            MODEL_EXPECTED,
            MODEL_CONTEXT,
        )
        # Keras builds a Conv1D: the verdict says the question's model has none, not that
        # the model does not build
        assert "does not build" not in result.message
        assert result.message.startswith("Layer 1 is a Conv1D, a layer the question's model")
        result = verdicts.verdict(
            "model",
            [{"class_name": "CuDNNLSTM", "config": {"units": 8}}],
            MODEL_EXPECTED,
            MODEL_CONTEXT,
        )
        assert "Keras 3 has no CuDNNLSTM" in result.message and "write LSTM" in result.message

    def test_model_messages(self) -> None:
        """Does a wrong model say what it outputs, or how many parameters it has?"""
        sequences = [
            STACK[0],
            {"class_name": "LSTM", "config": {"units": 8, "return_sequences": True}},
        ]
        result = verdicts.verdict("model", sequences, MODEL_EXPECTED, MODEL_CONTEXT)
        assert result.message.startswith("Your model outputs (None, 8, 8), not (None, 8).")
        assert "keeps the time axis" in result.message
        result = verdicts.verdict("model", STACK[1:], MODEL_EXPECTED, MODEL_CONTEXT)
        assert result.message == (
            "Your model has 384 parameters; the specification asks for exactly 2080."
        )
        result = verdicts.verdict(
            "model", [{"class_name": "GRU", "config": {"units": 8}}], MODEL_EXPECTED, MODEL_CONTEXT
        )
        assert result.message == "The specification asks for an LSTM layer."
        result = verdicts.verdict("model", {"class_name": "LSTM"}, MODEL_EXPECTED, MODEL_CONTEXT)
        assert "Describe the model as a list of layer dicts" in result.message

    def test_model_of_only_an_input_layer(self) -> None:
        """Does a model spec with nothing after its InputLayer get a verdict, not an
        IndexError (stack_shapes gives no rows, and _compare_model reads rows[-1])?

        Every recorded model question sets required_layers, which answers first today.
        """
        answer = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 3]}}]
        for context in (MODEL_CONTEXT, {"input_shape": [None, 8, 3]}):
            assert verdicts.verdict("model", answer, MODEL_EXPECTED, context).correct is False

    @pytest.mark.parametrize("target", [[-1, "ab"], [[2]], [-1, None]], ids=repr)
    def test_model_with_a_non_numeric_reshape(self, target: list) -> None:
        """Does a Reshape whose target_shape is not numbers get a verdict, not an exception?

        The shape rules pass such a target through when the input size is unknown, and
        the checks then call int() on it outside their try block.
        """
        answer = [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, None]}},
            {"class_name": "Embedding", "config": {"input_dim": 10, "output_dim": 4}},
            {"class_name": "Reshape", "config": {"target_shape": target}},
        ]
        context = {"input_shape": [None, 20], "required_layers": ["Embedding"]}
        result = verdicts.verdict(
            "model", answer, {"output_shape": [None, 1], "params": 40}, context
        )
        assert result.correct is False
        result = verdicts.verdict(
            "layer_shapes",
            {"class_name": "Reshape", "config": {"target_shape": target}},
            [[None, 7]],
            {"input_shape": [None, None, 3]},
        )
        assert result.correct is False

    def test_layer_shapes_messages(self) -> None:
        """Does an inverse question name a wrong class, a missing flag or a layer that
        does not build?"""
        result = verdicts.verdict(
            "layer_shapes",
            {
                "class_name": "GRU",
                "config": {"units": 4, "return_sequences": True, "return_state": True},
            },
            LAYER_EXPECTED,
            LAYER_CONTEXT,
        )
        assert "A GRU has no cell state c" in result.message
        # another class that returns the very shapes asked for is still another class
        summed = {
            "class_name": "Bidirectional",
            "config": {
                "layer": {
                    "class_name": "SimpleRNN",
                    "config": {"units": 4, "return_sequences": True, "return_state": True},
                },
                "merge_mode": "sum",
            },
        }
        result = verdicts.verdict("layer_shapes", summed, LAYER_EXPECTED, LAYER_CONTEXT)
        assert not result.correct
        assert result.message == "The question asks for an LSTM layer; yours is a Bidirectional."
        wrapper = {
            **LAYER_CONTEXT,
            "required_layers": ["Bidirectional"],
            "wrapped_layers": ["LSTM"],
        }
        expected = [[None, 5, 4], [None, 4], [None, 4]]
        assert verdicts.verdict("layer_shapes", summed, expected, wrapper).message == (
            "The question asks for a Bidirectional around an LSTM layer; yours is around "
            "a SimpleRNN."
        )
        no_state = {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True}}
        result = verdicts.verdict("layer_shapes", no_state, LAYER_EXPECTED, LAYER_CONTEXT)
        assert result.message.startswith(
            "Your layer returns (None, 5, 4). Without return_state=True the layer returns its "
            "output only"
        )
        result = verdicts.verdict(
            "layer_shapes", {"class_name": "LSTM", "config": {}}, LAYER_EXPECTED, LAYER_CONTEXT
        )
        assert result.message.startswith("This layer does not build on this input:")
        # Keras builds a quoted flag, reading 'True' and 'False' alike as True
        quoted = {
            "class_name": "LSTM",
            "config": {**LAYER_ANSWER["config"], "return_state": "True"},
        }
        result = verdicts.verdict("layer_shapes", quoted, LAYER_EXPECTED, LAYER_CONTEXT)
        assert not result.correct and result.message == (
            "This layer is not judged as written: LSTM's return_state 'True' is a string, and "
            "Keras reads any non-empty string as True: write True without quotes."
        )
        result = verdicts.verdict("layer_shapes", [LAYER_ANSWER], LAYER_EXPECTED, LAYER_CONTEXT)
        assert result.message.startswith("Describe the layer as a dict")


# --- never raising on garbage -----------------------------------------------------------

CLASS_NAMES = st.sampled_from(
    [
        "Dense",
        "SimpleRNN",
        "LSTM",
        "GRU",
        "Embedding",
        "Bidirectional",
        "TimeDistributed",
        "InputLayer",
        "Dropout",
        "Flatten",
        "Reshape",
        "RepeatVector",
        "Concatenate",
        "Add",
        "Conv1D",
        "RNN",
        "LSTMCell",
        "SimpleRNNCell",
        "",
    ]
)
CONFIG_KEYS = st.sampled_from(
    [
        "units",
        "return_sequences",
        "return_state",
        "use_bias",
        "reset_after",
        "stateful",
        "merge_mode",
        "target_shape",
        "input_dim",
        "output_dim",
        "n",
        "axis",
        "batch_shape",
        "shape",
        "layer",
        "backward_layer",
        "cell",
        "name",
    ]
)
JUNK = (
    st.none()
    | st.booleans()
    | st.integers(-3, 40)
    | st.text(max_size=3)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.lists(st.none() | st.integers(-2, 12) | st.text(max_size=2), max_size=4)
)
layer_specs = st.recursive(
    st.builds(
        lambda name, config: {"class_name": name, "config": config},
        CLASS_NAMES,
        st.dictionaries(CONFIG_KEYS, JUNK, max_size=6),
    ),
    lambda inner: st.builds(
        lambda name, config, key, sub: {"class_name": name, "config": {**config, key: sub}},
        CLASS_NAMES,
        st.dictionaries(CONFIG_KEYS, JUNK, max_size=4),
        st.sampled_from(["layer", "backward_layer", "cell"]),
        inner,
    ),
    max_leaves=4,
)
garbage = (
    plain_values
    | layer_specs
    | st.lists(layer_specs, min_size=1, max_size=4)
    | st.text(max_size=10).map(lambda name: from_plain({"t": "unsupported", "type": name}))
)
MISTAKES = [
    {"value": [None, 16], "message": "recorded shape"},
    {"value": [[None, 16]], "message": "recorded shapes"},
    {"value": 320, "message": "recorded count"},
    {"value": [[1.0, 3.0]], "message": "recorded array"},
    {"value": {"units": 128}, "message": "recorded value"},
    {"value": None, "message": "recorded None"},
]


@pytest.mark.parametrize("kind", sorted(CASES))
@GARBAGE
@given(answer=garbage)
@example(answer=[{"class_name": "InputLayer", "config": {}}])
@example(answer={"class_name": "Reshape", "config": {"target_shape": [-1, "ab"]}})
@example(
    answer=[
        {"class_name": "InputLayer", "config": {"batch_shape": [None, None, 3]}},
        {"class_name": "Reshape", "config": {"target_shape": [-1, "ab"]}},
    ]
)
def test_verdict_never_raises(kind: str, answer: Any) -> None:
    """Whatever plain data a learner hands over, does every kind of question return a
    Verdict (right or wrong, with a message) rather than raise?

    The contexts leave out required_layers, which would refuse most garbage before the
    shape rules see it, and the inverse question gets an input of unknown length.
    """
    _, _, expected, context = CASES[kind]
    context = {key: value for key, value in context.items() if key != "required_layers"}
    if kind == "layer_shapes":
        context["input_shape"] = [None, None, 3]
    result = verdicts.verdict(kind, answer, expected, context, MISTAKES)
    assert isinstance(result, Verdict)
    assert type(result.correct) is bool
    assert type(result.message) is str and result.message


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["SimpleRNN", "LSTM", "GRU"]),
    units=st.integers(1, 64),
    features=st.integers(1, 64),
    use_bias=st.booleans(),
    reset_after=st.booleans(),
)
def test_left_out_blocks_are_named_for_every_layer_and_flag(
    name: str, units: int, features: int, use_bias: bool, reset_after: bool
) -> None:
    """For every recurrent layer and flag (GRU's reset_after included), is a count that
    leaves out the recurrent kernel, or the bias, named as exactly that, with the blocks
    taken from lstm_lib.shapes rather than a second copy of the arithmetic?"""
    from lstm_lib import shapes

    config: dict[str, Any] = {"units": units, "use_bias": use_bias}
    if name == "GRU":
        config["reset_after"] = reset_after
    layer = {"class_name": name, "config": config}
    context = {"layer": layer, "input_shape": [None, 7, features]}
    expected = shapes.count_params(layer, (None, 7, features))
    terms = shapes.param_terms(layer, (None, 7, features))
    assert sum(terms.values()) == expected
    from lstm_lib import mistakes

    # A count two confusions give alike (units of 1, where a bias is as large as a row of
    # U) is named by the rule tried first; the rule for the left-out block must know it.
    candidates = mistakes.iter_count_candidates(expected, context)

    def named_as(value: int, phrase: str) -> None:
        messages = [message for count, message in candidates if count == value]
        assert any(phrase in message for message in messages), messages
        assert mistakes.count_mistake(value, expected, context) == messages[0]

    named_as(expected - terms["recurrent_kernel"], "recurrent kernel U")
    if terms["bias"]:
        named_as(expected - terms["bias"], "leaves out the bias")


def test_an_answer_error_shows_as_its_message_in_jupyter() -> None:
    """Does IPython show a form slip as one line naming the error and what to change?"""
    error = AnswerError("A shape is a tuple such as (None, 10, 32).")
    lines = error._render_traceback_()
    assert len(lines) == 1
    assert "AnswerError" in lines[0] and lines[0].endswith(
        "A shape is a tuple such as (None, 10, 32)."
    )


def test_the_form_checks_are_public_here_as_in_judging() -> None:
    """Does ``verdicts.__all__`` list each public name of :mod:`lstm_lib.judging` it
    re-exports, as that very object? (A literal, so that linters and the API docs see
    it; this keeps it from drifting when judging gains a check.)"""
    from lstm_lib import judging

    missing = sorted(set(judging.__all__) - set(verdicts.__all__))
    assert not missing, f"add to lstm_lib.verdicts.__all__ (and import): {missing}"
    for name in judging.__all__:
        assert getattr(verdicts, name) is getattr(judging, name)
    assert len(set(verdicts.__all__)) == len(verdicts.__all__)


oversized_ints = st.builds(
    lambda bits, sign: sign * 2**bits, st.integers(63, 16_000), st.sampled_from([1, -1])
)
#: Where a learner's answer may hold one: alone, in a shape, in a list of shapes, in a
#: config dict (a dict's keys cross over as strings).
placings = st.sampled_from(
    [
        lambda n: n,
        lambda n: (None, n),
        lambda n: [(None, 16), (None, n)],
        lambda n: {"units": n},
        lambda n: [{"class_name": "LSTM", "config": {"units": n}}],
    ]
)


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
@settings(max_examples=8, deadline=None)
@given(number=oversized_ints, place=placings)
def test_an_int_past_64_bits_gets_its_own_message_on_every_question(
    qid: str, number: int, place: Any
) -> None:
    """Does a whole number no Keras size or count could be (an extra zero too many, or
    thousands of digits, which Python refuses to print) get one plain message on every
    recorded question, as the grader decodes it, instead of an explanation computed from
    it or a crash?"""
    question = QUESTIONS[qid]
    answer = from_plain(to_plain(place(number)))
    result = verdicts.verdict(
        question["kind"], answer, question["expected"], question["context"], question["mistakes"]
    )
    assert result == Verdict(False, verdicts.OVERSIZED_INT_MESSAGE)


@pytest.mark.parametrize(
    "check", [verdicts.expect_int, verdicts.expect_shape, verdicts.expect_shapes]
)
@pytest.mark.parametrize(
    "answer",
    [10**5000, (None, 10**5000), [(None, 2**64)], [10**5000]],
    ids=["count", "shape", "shapes", "list"],  # pytest's own ids would print the int
)
def test_the_form_checks_name_an_int_past_64_bits(check: Any, answer: Any) -> None:
    """Does a test cell's form check in the learner's kernel say the same, rather than
    raise Python's own error about printing a long int?"""
    with pytest.raises(AnswerError, match="too large to be any size or count"):
        check(answer)


def test_an_answer_that_holds_itself_is_judged_in_the_learners_kernel() -> None:
    """A list can hold itself in a learner's kernel, where the form checks run. Does
    the check for oversized numbers still end, with the usual message on the form?"""
    answer: list = [None, 16]
    answer.append(answer)
    with pytest.raises(AnswerError, match="write a shape as a tuple|A shape is a tuple"):
        verdicts.expect_shape(answer)
    assert not verdicts.verdict("shape", answer, [None, 16]).correct


@pytest.mark.parametrize("kind", ["shape", "shapes", "value", "model"])
def test_an_answer_that_holds_itself_is_told_so_by_the_grader(kind: str) -> None:
    """The wire format refuses an answer nested past its depth, which a list appended to
    itself is: does the grader's verdict say so, rather than call it "an object of type
    nested too deeply"?"""
    answer: list = [(None, 16)]
    answer.append(answer)
    result = verdicts.verdict(kind, parse_answer_json(answer_json(answer)), [None, 16])
    assert not result.correct
    assert "holds itself" in result.message, result.message
    assert "of type" not in result.message, result.message


def test_the_largest_int_keras_holds_is_still_judged() -> None:
    """Is a count of exactly 2**63 - 1 still an answer, wrong with its usual message?"""
    result = verdicts.verdict("int", verdicts.LARGEST_INT, 320, {})
    assert result.message != verdicts.OVERSIZED_INT_MESSAGE


#: Answers far larger than any a question asks for; each quoted whole would make a
#: message of thousands of characters.
HUGE_ANSWERS = {
    "wide tuple": tuple([None] * 3_000),
    "long string": "x" * 5_000,
    "big dict": {str(i): i for i in range(1_000)},
    "many shapes": [(None, 16)] * 1_000,
    "long type name": from_plain({"t": "unsupported", "type": "T" * 5_000}),
}


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_a_huge_answer_gets_a_message_of_bounded_length(qid: str) -> None:
    """Is every verdict's message, which quotes the answer, cut to MAX_MESSAGE_CHARS and
    says so, whatever the size of the answer, so that nine such answers cannot fill the
    autograded notebook and its feedback page?"""
    question = QUESTIONS[qid]
    for name, answer in HUGE_ANSWERS.items():
        result = verdicts.verdict(
            question["kind"], answer, question["expected"], question["context"]
        )
        assert len(result.message) <= verdicts.MAX_MESSAGE_CHARS + 50, (name, result)


def test_a_verdict_keeps_a_message_within_the_limit_whole() -> None:
    """Does a verdict cut only a message past the limit, and say how much it left out?"""
    assert Verdict(False, "ab" * 100).message == "ab" * 100
    cut = Verdict(False, "y" * (verdicts.MAX_MESSAGE_CHARS + 1234)).message
    assert cut.startswith("y" * verdicts.MAX_MESSAGE_CHARS)
    assert cut.endswith("(1,234 more characters left out)")


def _grader_verdict(qid: str, value: Any) -> Verdict:
    """The verdict on ``value`` as the grader reaches it: encoded in the learner's kernel as
    JSON text and decoded in the grader's process."""
    question = QUESTIONS[qid]
    answer = parse_answer_json(answer_json(value))
    return verdicts.verdict(
        question["kind"], answer, question["expected"], question["context"], question["mistakes"]
    )


class TensorShape:
    """Stands for TensorFlow's TensorShape, which no test here imports: a weight's
    ``.shape`` under the TensorFlow backend, no tuple."""

    def __init__(self, dims: tuple) -> None:
        self.dims = dims


@pytest.mark.parametrize(
    ("qid", "value", "message"),
    [
        (
            "05q1",
            (None, np.int64(16)),
            "Item 2 of your tuple is a NumPy int64, not an int: write int(...) around it.",
        ),
        (
            "05q1",
            [np.float32(1.0), 16],
            "Item 1 of your list is a NumPy float32, not a float: write float(...) around it.",
        ),
        (
            "08q7",
            [{"class_name": "LSTM", "config": {"units": np.int64(8)}}],
            "The 'units' entry of the 'config' entry of item 1 of your list is a NumPy int64, "
            "not an int: write int(...) around it.",
        ),
        (
            "05q1",
            (None, SneakyInt(16)),
            "Item 2 of your tuple is an object of type SneakyInt; answer with plain Python "
            "values (tuples, ints, lists, dicts, strings), or a NumPy array of numbers where "
            "the question asks for an array.",
        ),
        (
            "02q3",  # what np.prod and np.sum return
            np.int64(144),
            "Your answer is a NumPy int64, not an int: write int(...) around it.",
        ),
        (
            "02q3",  # np.prod(()) is 1.0, and a mean is a float: a count wants int(...)
            np.float64(144.0),
            "Your answer is a NumPy float64, not an int: write int(...) around it.",
        ),
        (
            "05q1",
            SneakyInt(16),
            "Your answer is an object of type SneakyInt; answer with plain Python values "
            "(tuples, ints, lists, dicts, strings), or a NumPy array of numbers where the "
            "question asks for an array.",
        ),
        (
            "05q1",
            np.matrix([[16]]),
            "Your answer is a NumPy matrix; make it an array with np.asarray(...).",
        ),
        (
            "04q3",  # [w.shape for w in layer.weights] under TensorFlow
            [TensorShape((3, 24)), (6, 24), (24,)],
            "Item 1 of your list is an object of type TensorShape, not a tuple: write "
            "tuple(...) around it.",
        ),
        (
            "05q1",
            SneakyTuple((None, 16)),
            "Your answer is an object of type SneakyTuple, not a tuple: write tuple(...) "
            "around it.",
        ),
        (
            "02q6",  # tuple(...) makes no array
            TensorShape((2, 3)),
            "Your answer is an object of type TensorShape; answer with plain Python values "
            "(tuples, ints, lists, dicts, strings), or a NumPy array of numbers where the "
            "question asks for an array.",
        ),
    ],
)
def test_a_refused_item_is_told_where_it_sits(qid: str, value: Any, message: str) -> None:
    """05 q1 answered (None, np.int64(16)): is the learner told which item is not plain and,
    for a NumPy scalar or a shape object (TensorFlow's TensorShape), what to write around
    it, after the answer crossed from the kernel as JSON, the answer itself too (a count
    from np.prod is a NumPy int64)?"""
    result = _grader_verdict(qid, value)
    assert not result.correct
    assert result.message == message


def test_a_deeply_nested_refused_item_is_told_its_depth() -> None:
    value = [[[[(None, np.int64(3))]]]]
    result = _grader_verdict("05q1", value)
    assert result.message.startswith("An item nested 5 levels deep in your list is a NumPy int64")
    assert judging._describe(parse_answer_json(answer_json((None, np.int64(3))))) == (
        "a tuple with a NumPy int64 as item 2"
    )


# --- a layer answer is told by the learner's own layer ----------------------------------


def _layer(name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": name, "config": config}


def _bidirectional(inner: dict[str, Any], **config: Any) -> dict[str, Any]:
    return {"class_name": "Bidirectional", "config": {"layer": inner, **config}}


def _on(qid: str, answer: Any) -> Verdict:
    question = QUESTIONS[qid]
    return verdicts.verdict(question["kind"], answer, question["expected"], question["context"], ())


def test_a_summed_bidirectional_is_told_its_own_units() -> None:
    """07 q9 with merge_mode='sum' and units 4 (or 16): every tensor is units wide, so the
    units are wrong, not the merge mode; is the learner's merge_mode and units named, never
    'concat' or 'the shape of one direction'?"""
    for units in (4, 16):
        answer = _bidirectional(_layer("LSTM", units=units, return_state=True), merge_mode="sum")
        message = _on("07q9", answer).message
        assert (
            "With merge_mode='sum' the output and every state are units wide: your units "
            f"({units}) give {units} where 8 is asked." in message
        ), message
        assert "concat" not in message and "one direction" not in message, message


def test_a_concatenated_bidirectional_is_told_its_merge_mode() -> None:
    """03 q7 answered with a Bidirectional SimpleRNN(7): the default merge_mode='concat'
    puts both directions side by side (2 × 7), not a wrong number of units; 07 q9 with
    units 4 and the default: a right output, but the states are units wide."""
    message = _on("03q7", _bidirectional(_layer("SimpleRNN", units=7))).message
    assert "merge_mode='concat'" in message and "default" in message, message
    assert "2 × your units (7) = 14" in message, message
    assert "not its size" not in message, message
    message = _on("07q9", _bidirectional(_layer("LSTM", units=4, return_state=True))).message
    assert "merge_mode='concat'" in message and "your units (4)" in message, message
    assert "states" in message and "not its size" not in message, message


def test_a_plain_layer_of_other_units_is_told_its_units() -> None:
    """05 q7 answered with LSTM(8): the output and both states are 8 wide, by its units."""
    answer = _layer("LSTM", units=8, return_sequences=True, return_state=True)
    message = _on("05q7", answer).message
    assert "your units (8) give 8 where 4 is asked" in message, message


def test_a_bidirectional_for_one_lstm_is_told_what_it_returns() -> None:
    """05 q7 answered with a Bidirectional LSTM: five tensors, the merged output and both
    directions' states; the learner wrote a layer, not a list, and the question asks for
    one LSTM layer."""
    answer = _bidirectional(_layer("LSTM", units=2, return_sequences=True, return_state=True))
    message = _on("05q7", answer).message
    assert "your list" not in message, message
    assert "merged output" in message and "both directions' states" in message, message
    assert "The question asks for an LSTM layer; yours is a Bidirectional." in message


@pytest.mark.parametrize(
    "answer",
    [
        _layer("Dropout", rate=0.5),
        {"class_name": "Flatten", "config": {}},
        _layer("Activation", activation="tanh"),
    ],
    ids=["Dropout", "Flatten", "Activation"],
)
def test_a_layer_without_units_is_not_told_about_units(answer: dict) -> None:
    """03 q7 answered with a Dropout, a Flatten or an Activation: is it told that the layer
    has no units, never that its units axis or the layer before it is wrong?"""
    message = _on("03q7", answer).message
    assert "has no units" in message, message
    assert "units axis" not in message and "layer before" not in message, message
    assert _on("03q7", answer).correct is False


def test_a_time_distributed_dense_is_told_it_keeps_the_time_axis() -> None:
    """03 q7 with TimeDistributed(Dense(7)): the wrapper keeps the time axis; the answer
    has no return_sequences to blame."""
    answer = {"class_name": "TimeDistributed", "config": {"layer": _layer("Dense", units=7)}}
    message = _on("03q7", answer).message
    assert "TimeDistributed applies its Dense at every step" in message, message
    assert "return_sequences" not in message, message


def test_a_wrapped_layer_reading_backwards_earns_nothing() -> None:
    """07 q9 and 03 q7 with a wrapped layer that has go_backwards=True: Keras makes the
    backward copy with go_backwards=True too and refuses the pair; right shapes or not."""
    answer = _bidirectional(
        _layer("LSTM", units=8, return_state=True, go_backwards=True), merge_mode="sum"
    )
    result = _on("07q9", answer)
    assert result.correct is False and "leave go_backwards out" in result.message
    answer = _bidirectional(_layer("SimpleRNN", units=7, go_backwards=True), merge_mode="sum")
    assert _on("03q7", answer).correct is False


def test_each_direction_is_told_its_own_states() -> None:
    """05 q7 with an LSTM forward and a GRU backward_layer: the backward direction returns
    h alone, never "backward h and c"."""
    flags = {"units": 4, "return_sequences": True, "return_state": True}
    answer = _bidirectional(
        _layer("LSTM", **flags), backward_layer=_layer("GRU", **flags, go_backwards=True)
    )
    message = _on("05q7", answer).message
    assert "forward h and c, then backward h)" in message, message


def test_merge_mode_beside_the_config_is_named() -> None:
    """07 q9 with merge_mode written beside "config": is the learner told where it went,
    not that the default 'concat' was chosen?"""
    answer = {
        "class_name": "Bidirectional",
        "config": {"layer": _layer("LSTM", units=8, return_state=True)},
        "merge_mode": "sum",
    }
    message = _on("07q9", answer).message
    assert "'merge_mode' sits beside 'config'" in message, message


def test_an_input_shape_on_the_answer_layer_is_noted() -> None:
    """05 q7 with input_shape=(5, 3) on the LSTM: Keras 3 ignores it (the input is given)
    and builds the asked layer, so it is right, with a note to leave it out."""
    answer = _layer("LSTM", units=4, return_sequences=True, return_state=True, input_shape=(5, 3))
    result = _on("05q7", answer)
    assert result.correct and "Keras 3 ignores input_shape here" in result.message


def test_a_long_string_answer_is_never_parsed_for_the_literal_it_spells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shape or count written in quotes is told its form; is a string far longer than any
    of those (an f-string of many fields, whose parse costs the square of its length) judged
    without the parser?"""

    def parse(text: str) -> object:
        raise AssertionError(f"parsed {text[:20]!r}")

    monkeypatch.setattr(judging.ast, "literal_eval", parse)
    for kind, expected in (("shape", [None, 16]), ("shapes", [[None, 16]]), ("int", 16)):
        result = verdicts.verdict(kind, "f'" + "{1}" * 100_000 + "'", expected)
        assert result.correct is False and result.message


def test_a_layer_class_in_the_wrong_case_keeps_its_spelling_hint() -> None:
    """05 q7 answered with 'lstm': is the learner told that class names are case-sensitive,
    with the spelling, rather than only that the question asks for another class?"""
    question = QUESTIONS["05q7"]
    answer = {"class_name": "lstm", "config": {"units": 16}}
    result = verdicts.verdict(question["kind"], answer, question["expected"], question["context"])
    assert "case-sensitive" in result.message and "'LSTM'" in result.message


def around_cell(cell_name: str, cell_config: dict, **options: Any) -> dict:
    """``keras.layers.RNN(cell, **options)`` as a learner writes it in a dict."""
    return {
        "class_name": "RNN",
        "config": {"cell": {"class_name": cell_name, "config": cell_config}, **options},
    }


def test_an_rnn_around_the_right_cell_earns_the_points_with_a_note() -> None:
    """Is RNN(LSTMCell), which chapter 4 shows to be LSTM, judged as that LSTM, as a layer,
    inside a Bidirectional and inside a model, and told so?"""
    looped = around_cell("LSTMCell", {"units": 4}, return_sequences=True, return_state=True)
    result = verdicts.verdict("layer_shapes", looped, LAYER_EXPECTED, LAYER_CONTEXT)
    assert result.correct, result.message
    assert result.message.endswith(
        "(Judged an RNN around an LSTMCell as the LSTM layer it equals: the same weights and "
        "the same outputs.)"
    )
    wrapped = {"class_name": "Bidirectional", "config": {"layer": looped, "merge_mode": "sum"}}
    context = {**LAYER_CONTEXT, "required_layers": ["Bidirectional"], "wrapped_layers": ["LSTM"]}
    expected = [[None, 5, 4], [None, 4], [None, 4], [None, 4], [None, 4]]
    assert verdicts.verdict("layer_shapes", wrapped, expected, context).correct
    stack = [around_cell("LSTMCell", {"units": 16}, return_sequences=True), STACK[1]]
    result = verdicts.verdict("model", stack, MODEL_EXPECTED, MODEL_CONTEXT)
    assert result.correct, result.message
    assert "around an LSTMCell as the LSTM layer" in result.message


def test_an_rnn_around_another_cell_is_told_the_layer_it_equals() -> None:
    """Is a GRUCell answer to an LSTM question wrong for the GRU's missing c, and a cell
    given the RNN's options told where they belong, as Keras refuses them?"""
    looped = around_cell("GRUCell", {"units": 4}, return_sequences=True, return_state=True)
    result = verdicts.verdict("layer_shapes", looped, LAYER_EXPECTED, LAYER_CONTEXT)
    assert not result.correct
    assert "A GRU has no cell state c" in result.message
    assert "around a GRUCell as the GRU layer" in result.message
    misplaced = around_cell("LSTMCell", {"units": 4, "return_sequences": True})
    result = verdicts.verdict("layer_shapes", misplaced, LAYER_EXPECTED, LAYER_CONTEXT)
    assert result.message == (
        "This layer does not build on this input: LSTMCell has no argument "
        "'return_sequences': it is an option of the RNN around the cell; write it in the "
        "RNN's config."
    )
    stacked = {"class_name": "RNN", "config": {"cell": [looped["config"]["cell"]] * 2}}
    result = verdicts.verdict("layer_shapes", stacked, LAYER_EXPECTED, LAYER_CONTEXT)
    assert result.message == "The question asks for an LSTM layer; yours is an RNN."
    any_class = {key: value for key, value in LAYER_CONTEXT.items() if key != "required_layers"}
    result = verdicts.verdict("layer_shapes", stacked, LAYER_EXPECTED, any_class)
    assert not result.correct and "StackedRNNCells" in result.message


@pytest.mark.parametrize(
    ("qid", "value", "told", "not_told"),
    [
        (
            "02q6",
            np.float32(3),
            "Your answer is one number (a NumPy float32); the question asks for an array. A sum",
            "float(...)",
        ),
        (
            "02q3",
            np.array(144),
            "got a NumPy array holding one number (144): write int(...) around it.",
            "144.",
        ),
        (
            "02q6",
            np.zeros(6),
            "It holds as many numbers, laid out in fewer axes: a reshape or flatten",
            "summed",
        ),
        (
            "06q4",
            np.zeros((2, 9)),
            "It holds as many numbers, laid out in fewer axes",
            "summed",
        ),
        (
            "03q6",
            np.zeros(2),
            "without an axis of size 1: an index such as [0], or a squeeze, dropped it",
            "reshape",
        ),
    ],
)
def test_a_numpy_form_is_told_what_it_is(qid: str, value: Any, told: str, not_told: str) -> None:
    """A NumPy scalar where an array is asked is told it is one number (writing float(...)
    around it would not help); a 0-d array where a count is asked is quoted as the int it
    holds; an array of the right size in fewer axes is told it was reshaped, not reduced,
    and one that lost only an axis of size 1 (03 q6's h_2[0], told "a reshape or flatten")
    that an index or a squeeze dropped it."""
    message = _grader_verdict(qid, value).message
    assert told in message and not_told not in message, message


@pytest.mark.parametrize(
    "value",
    [
        np.zeros(18),
        np.zeros((6, 3)),
        np.zeros((2, 3)),
        np.zeros((2, 3, 4)),
        np.zeros((2, 3, 3, 1)),
        np.float32(1.0),
    ],
    ids=["flat", "merged", "summed", "wide", "extra-axis", "scalar"],
)
def test_an_array_of_the_wrong_shape_is_not_told_the_shape_keras_gives(value: Any) -> None:
    """06 q4's prompt leaves the Embedding output's shape for the learner to work out
    ("think first about its shape"): does a wrong-shaped answer learn how its shape differs,
    never the shape itself?"""
    expected = np.asarray(QUESTIONS["06q4"]["expected"]).shape
    message = _grader_verdict("06q4", value).message
    assert str(expected) not in message, message
    assert message.startswith(("Your array has shape", "Your answer is one number")), message


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_layer_answer_that_runs_only_through_cudnn_earns_nothing(wrapped: bool) -> None:
    """An inverse question's right layer with use_cudnn=True, alone or inside a
    Bidirectional, builds but cannot be called on a CPU: does it earn nothing, saying why,
    while use_cudnn=False stays right?"""
    context = dict(LAYER_CONTEXT, required_layers=["LSTM", "Bidirectional"])
    for use_cudnn, correct in ((True, False), (False, True)):
        layer = copy.deepcopy(LAYER_ANSWER)
        layer["config"]["use_cudnn"] = use_cudnn
        if wrapped:
            layer["config"]["units"] = 2
            layer = {"class_name": "Bidirectional", "config": {"layer": layer}}
            expected = [[None, 5, 4], [None, 2], [None, 2], [None, 2], [None, 2]]
        else:
            expected = LAYER_EXPECTED
        result = verdicts.verdict("layer_shapes", layer, expected, context)
        assert result.correct is correct, result.message
        assert correct or "use_cudnn=True" in result.message, result.message


def test_an_answer_is_encoded_once_whatever_the_number_of_recorded_mistakes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """09 q1 records five mistakes: is a wrong answer encoded as plain data once to compare
    with them all, and once to compare with the reference (an answer near the size cap
    took 0.1 s each time, so 0.7 s of the grader's CPU for one question)?"""
    answer = {"units": 128, "activation": "relu", "inner": list(range(1000))}
    encoded = []
    plain = verdicts.to_plain
    monkeypatch.setattr(
        verdicts, "to_plain", lambda value: encoded.append(value is answer) or plain(value)
    )
    question = QUESTIONS["09q1"]
    assert len(question["mistakes"]) >= 2
    verdicts.verdict(
        question["kind"], answer, question["expected"], question["context"], question["mistakes"]
    )
    assert encoded.count(True) <= 2, encoded


def test_a_square_kernel_right_only_by_transposing_is_told_why_it_earns_nothing() -> None:
    """03 q4 with every kernel transposed: the square recurrent kernel matches by the
    transpose's luck, so it earns nothing, and the feedback says so instead of leaving it
    out of the parts it lists as right."""
    result = _grader_verdict("03q4", [(16, 8), (16, 16), (16,)])
    assert result.earned == pytest.approx(1 / 3)
    assert "In the right place: the bias b (1 of 3)." in result.message
    assert (
        "The recurrent kernel U matches only because a square matrix transposed keeps its "
        "shape (16, 16), so it earns nothing here." in result.message
    ), result.message


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("seed", "x", "LSTM's seed 'x' is not one Keras 3 takes: write an integer"),
        (
            "kernel_regularizer",
            {"class_name": "L1L2", "config": {"l1": "a"}},
            "L1L2's l1 'a' is not one Keras 3 takes: write a number 0 or above",
        ),
    ],
)
def test_a_layer_with_an_option_value_keras_refuses_earns_nothing(
    option: str, value: Any, message: str
) -> None:
    """Is a layer-shape answer whose seed or regularizer config Keras 3 refuses wrong,
    with the reason, however right its shapes?"""
    answer = {"class_name": "LSTM", "config": {**LAYER_ANSWER["config"], option: value}}
    result = verdicts.verdict("layer_shapes", answer, LAYER_EXPECTED, LAYER_CONTEXT)
    assert not result.correct and result.earned == 0.0, result.message
    assert message in result.message, result.message


@pytest.mark.parametrize(
    ("written", "said"), [(True, "=True "), (1, "=1 (which Keras reads as True)")]
)
def test_a_layer_question_says_return_sequences_back_as_written(written: Any, said: str) -> None:
    """A layer that keeps the time axis the question drops is told which flag did it: is
    return_sequences written 1 quoted as 1, read as True, not as a True never written?"""
    layer = {"class_name": "SimpleRNN", "config": {"units": 7, "return_sequences": written}}
    context = {"input_shape": [None, 20, 3], "features": 3, "timesteps": 20}
    result = verdicts.verdict("layer_shapes", layer, [[None, 7]], context)
    assert not result.correct
    assert f"return_sequences{said}" in result.message, result.message


@pytest.mark.parametrize(
    "class_name",
    [np.array([1.0, 2.0]), np.zeros(0), np.ones((2, 2))],
    ids=["two-numbers", "empty", "square"],
)
def test_a_class_name_written_as_an_array_is_told_without_a_grader_error(
    class_name: np.ndarray,
) -> None:
    """An RNN around a cell is read as its layer before the form is checked, and that
    reading compared the class name with "RNN": an array of several numbers, or none,
    has no truth, and the grader failed. Is the model told its layer needs a class name?"""
    answer = [{"class_name": class_name, "config": {"units": 4}}]
    expected = {"output_shape": [None, 4], "params": 80}
    result = verdicts.verdict("model", answer, expected, {"input_shape": [None, 5, 3]})
    assert not result.correct
    assert "'class_name' string" in result.message, result.message


@pytest.mark.parametrize(
    "value",
    [np.array([1.0, 2.0]), np.zeros(0), np.array(128.0)],
    ids=["two-numbers", "empty", "one-number"],
)
def test_a_dict_value_written_as_an_array_is_judged_without_a_grader_error(
    value: np.ndarray,
) -> None:
    """A dict of arguments is explained key by key, comparing each value with the one
    asked for: an array of several numbers, or none, has no truth, and the comparison
    raised, a grader error. Is such a value judged wrong, and the dict's other values
    still credited?"""
    expected = {"units": 128, "activation": "sigmoid"}
    answer = parse_answer_json(answer_json({"units": value, "activation": "sigmoid"}))
    result = verdicts.verdict("value", answer, expected)
    assert not result.correct
    assert result.earned == 0.5, result


# ===================================================================== objects Keras takes


class LSTM:
    """Stands for a Keras layer object: the wire format refuses it by its type name."""


class Sequential:
    """Stands for a Keras model object."""


def tanh(x: float) -> float:
    """Stands for keras.activations.tanh, a function Keras takes as an activation."""
    return x


def _wired(value: Any) -> Any:
    return parse_answer_json(answer_json(value))


OBJECT_MODEL = {"output_shape": [None, 8], "params": 2080}
OBJECT_CONTEXT = {"input_shape": [None, 8, 3]}


class TestObjectsKerasTakes:
    @pytest.mark.parametrize(
        ("kind", "answer", "expected", "context", "words"),
        [
            (
                "layer_shapes",
                LSTM(),
                [[None, 4]],
                OBJECT_CONTEXT,
                "Your answer is an object of type LSTM; answer with plain Python values",
            ),
            (
                "model",
                [LSTM(), {"class_name": "LSTM", "config": {"units": 8}}],
                OBJECT_MODEL,
                OBJECT_CONTEXT,
                "Item 1 of your list is an object of type LSTM; answer with plain",
            ),
            (
                "model",
                Sequential(),
                OBJECT_MODEL,
                OBJECT_CONTEXT,
                "A Keras layer is written as a layer dict",
            ),
            (
                "layer_shapes",
                {"class_name": "Bidirectional", "config": {"layer": LSTM()}},
                [[None, 4]],
                OBJECT_CONTEXT,
                "The 'layer' entry of the 'config' entry of your dict is an object of type LSTM;",
            ),
        ],
    )
    def test_a_layer_object_is_told_to_become_a_layer_dict(
        self, kind: str, answer: Any, expected: Any, context: dict, words: str
    ) -> None:
        """Is a Keras layer or model object, which Keras builds but no answer can carry, told
        how to write it as plain data (a layer dict, as keras.layers.serialize writes one)?"""
        result = verdicts.verdict(kind, _wired(answer), expected, context)
        assert not result.correct
        assert words in result.message
        assert "keras.layers.serialize" in result.message

    @pytest.mark.parametrize("kind", ["model", "value"])
    def test_a_function_as_activation_is_told_to_use_its_name(self, kind: str) -> None:
        """Is an activation written as the function (which Keras takes) told to write its
        name, not that the model does not build or that any plain value would do?"""
        config = {"units": 16, "return_sequences": True, "activation": tanh}
        if kind == "model":
            answer: Any = [{"class_name": "LSTM", "config": config}]
            expected: Any = OBJECT_MODEL
        else:
            answer, expected = config, {"units": 16, "activation": "tanh"}
        result = verdicts.verdict(kind, _wired(answer), expected, OBJECT_CONTEXT)
        assert not result.correct
        assert "The 'activation' entry of" in result.message
        assert "write the activation by its name" in result.message
        assert "does not build" not in result.message


@PROPERTY
@given(
    lower_features=st.integers(2, 40),
    lower_units=st.integers(2, 40),
    dense_units=st.integers(2, 40),
    timesteps=st.integers(2, 40),
)
def test_each_part_of_a_stack_is_explained_with_its_own_input(
    lower_features: int, lower_units: int, dense_units: int, timesteps: int
) -> None:
    """Is each part of a list of shapes from different layers (a Dense reading an LSTM's
    sequence) explained with the features that layer reads: a Dense whose units were
    written as its input's size is told it kept the LSTM's units, never the LSTM's input?"""
    if len({lower_features, lower_units, dense_units, timesteps}) < 4:
        return
    context = {
        "timesteps": timesteps,
        "roles": ["the lower LSTM", "the Dense layer"],
        "parts": [{"features": lower_features}, {"features": lower_units}],
    }
    expected = [[None, timesteps, lower_units], [None, timesteps, dense_units]]
    kept = verdicts.verdict(
        "shapes",
        [(None, timesteps, lower_units), (None, timesteps, lower_units)],
        expected,
        context,
    )
    assert f"not the {lower_units} input features" in kept.message
    assert kept.score == 0.5
    other = verdicts.verdict(
        "shapes",
        [(None, timesteps, lower_units), (None, timesteps, lower_features)],
        expected,
        context,
    )
    assert f"not the {lower_features} input features" not in other.message
    assert "Tensor 2 (the Dense layer)" in other.message


@pytest.mark.parametrize("type_name", ["EagerTensor", "Variable", "ResourceVariable"])
def test_an_array_answer_computed_as_a_tensor_is_told_to_convert_it(type_name: str) -> None:
    """02 q6 computed with the layer itself, ``answer_q6 = layer(x)``, or with keras.ops,
    is a tensor, which the wire format refuses: it was told to answer with plain values or
    a NumPy array, without how to get one. Is it told the conversion to write?"""
    from lstm_lib.answers import _Unsupported

    refused = _Unsupported(type_name, (), None)
    message = verdicts.verdict("array", refused, [[1.0, 2.0, 3.0]] * 2).message
    assert message == (
        f"Your answer is a tensor (type {type_name}), not a NumPy array: make it one with "
        "keras.ops.convert_to_numpy(...), or np.asarray(...)."
    )
    # a shape question's tensor is no array to convert
    assert "convert_to_numpy" not in verdicts.verdict("shape", refused, [None, 3]).message


# ====================================================== a changed answer earns nothing
# A wrong answer judged right gives a learner a point not earned. Every recorded question
# is asked here with its right answer changed in one of the ways a learner's answer differs
# from it: another size, count, option or layer, another type for the same number, a list
# reordered, an entry dropped or added. None of these is one of the documented
# equivalences (an RNN around a cell for its layer, a flag written 0, 1 or None, a
# layer dict written out whole, an array within the tolerance), so none may be correct,
# whether judged as written or as the grader reads it from the wire.


def _recorded_questions() -> dict[str, Any]:
    """Every recorded question, by ``"<assignment> <question>"``, as the grader loads it."""
    return {
        f"{path.stem} {question}": reference
        for path in sorted((ROOT / "references").glob("*.json"))
        for question, reference in load_references(ROOT / "references", path.stem).items()
    }


RECORDED = _recorded_questions()


def _right_answer(qid: str) -> Any:
    """The right answer as a learner writes it: the solution's own for a layer or a design."""
    reference = RECORDED[qid]
    if reference.kind in ("model", "layer_shapes"):
        return solution_answer(*qid.split())
    if reference.kind == "shape":
        return tuple(reference.expected)
    if reference.kind == "shapes":
        return [tuple(shape) for shape in reference.expected]
    if reference.kind == "array":
        return np.asarray(reference.expected, dtype=float)
    return copy.deepcopy(reference.expected)


def _same_plain(one: Any, other: Any) -> bool:
    """Whether two answers are the same plain data, types and all (True is not 1)."""
    return to_plain(one) == to_plain(other)


#: Entries that stand where a size, a count or a name stood: plain values of other types,
#: NumPy scalars, containers, a huge int.
OTHER_ENTRIES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=4),
    st.integers(0, 64).map(np.int64),
    st.integers(0, 64).map(np.float32),
    st.just(2**70),
    st.lists(st.integers(0, 4), max_size=2),
    st.integers(0, 64).map(lambda n: (n,)),
)


#: Numbers no answer holds: the wire refuses them, and so does a form check.
NOT_FINITE = st.sampled_from([float("nan"), float("inf"), -float("inf")])


def _changed_entry(original: Any) -> st.SearchStrategy:
    """Another entry than ``original``: any value but the same plain data."""
    changed = OTHER_ENTRIES | NOT_FINITE
    if type(original) is int:
        changed = st.one_of(
            changed,
            st.integers(1, 5).map(lambda k: original + k),
            st.just(float(original)),
            st.just(str(original)),
        )
    return changed.filter(lambda value: not _same_plain(value, original))


def _changed_sequence(right: Any, entry: Any) -> st.SearchStrategy:
    """``right`` (a tuple or a list) with one entry changed by ``entry``, one dropped, one
    added, two unequal entries swapped, or written as the other kind of sequence."""
    kind = type(right)
    n = len(right)
    options = [
        st.integers(0, n - 1).flatmap(
            lambda i: entry(right[i]).map(lambda new: kind([*right[:i], new, *right[i + 1 :]]))
        ),
        st.integers(0, n - 1).map(lambda i: kind([*right[:i], *right[i + 1 :]])),
        OTHER_ENTRIES.map(lambda new: kind([*right, new])),
        st.just(list(right) if kind is tuple else tuple(right)),
    ]
    unequal = [
        (i, j) for i in range(n) for j in range(i + 1, n) if not _same_plain(right[i], right[j])
    ]
    if unequal:
        options.append(
            st.sampled_from(unequal).map(
                lambda ij: kind(
                    right[ij[1]] if k == ij[0] else right[ij[0]] if k == ij[1] else item
                    for k, item in enumerate(right)
                )
            )
        )
    return st.one_of(options)


def _changed_array(right: np.ndarray) -> st.SearchStrategy:
    """The array with one entry moved past the tolerance, another shape, or another form."""
    size = right.size

    def moved(index: int, factor: float) -> np.ndarray:
        array = right.copy().ravel()
        tolerance = verdicts.ARRAY_ATOL + verdicts.ARRAY_RTOL * abs(array[index])
        array[index] += 2 * tolerance * factor
        return array.reshape(right.shape)

    return st.one_of(
        st.builds(moved, st.integers(0, size - 1), st.sampled_from([1, -1, 10, -1e4, 1e6])),
        st.just(right[None]),
        st.just(right.reshape(-1)[:-1]) if size > 1 else st.just(right.reshape(1, -1, 1)),
        st.just(right.tolist()),
        st.just(right.ravel()[0]),
        st.just(np.zeros_like(right)),
        st.just(right.astype(bool)),
        st.builds(
            lambda index, bad: _with_entry(right, index, bad), st.integers(0, size - 1), NOT_FINITE
        ),
        st.just(right.astype(np.float32).T)
        if right.ndim == 2 and right.shape[0] != right.shape[1]
        else st.just(right.T.copy() + 1),
    ).filter(
        lambda array: (
            not isinstance(array, np.ndarray)
            or array.shape != right.shape
            or not np.allclose(array, right, rtol=verdicts.ARRAY_RTOL, atol=verdicts.ARRAY_ATOL)
        )
    )


def _with_entry(right: np.ndarray, index: int, value: float) -> np.ndarray:
    array = right.copy().ravel()
    array[index] = value
    return array.reshape(right.shape)


def _misspelt(key: str) -> st.SearchStrategy:
    """A key as a learner mistypes it: a letter dropped or added, capitalised, camelCase."""
    camel = "".join(part.capitalize() if i else part for i, part in enumerate(key.split("_")))
    return st.sampled_from(
        [key[:-1], f"{key}s", key.capitalize(), key.upper(), camel, key.replace("_", " ")]
    ).filter(lambda other: other != key)


def _misspelt_dict(right: dict[str, Any]) -> st.SearchStrategy:
    """``right`` with one key misspelt, its value kept."""
    return st.sampled_from(sorted(right)).flatmap(
        lambda key: _misspelt(key).map(
            lambda other: {(other if k == key else k): v for k, v in right.items()}
        )
    )


def _misspelt_designs(qid: str) -> st.SearchStrategy:
    """A design question's solution with one layer dict mistyped: a config key, the
    ``class_name`` or ``config`` key, or the class's name in another case."""
    reference = RECORDED[qid]
    right = _right_answer(qid)
    layers = right if reference.kind == "model" else [right]

    def replaced(index: int, layer: dict[str, Any]) -> Any:
        design = copy.deepcopy(layers)
        design[index] = layer
        return design if reference.kind == "model" else design[0]

    def mistyped(index: int) -> st.SearchStrategy:
        layer = layers[index]
        name = layer["class_name"]
        return st.one_of(
            _misspelt_dict(layer["config"]).map(lambda config: {**layer, "config": config}),
            _misspelt_dict(layer),
            st.sampled_from([name.lower(), name.upper(), f"keras.layers.{name}"])
            .filter(lambda other: other != name)
            .map(lambda other: {**layer, "class_name": other}),
        ).map(lambda changed: replaced(index, changed))

    return st.integers(0, len(layers) - 1).flatmap(mistyped)


def _changed_scalar(right: Any, reference: Any) -> st.SearchStrategy:
    """Another count, option, name or dict of keyword arguments than ``right``."""
    if type(right) is dict:
        keys = sorted(right)
        return st.one_of(
            st.sampled_from(keys).flatmap(
                lambda key: _changed_entry(right[key]).map(lambda new: {**right, key: new})
            ),
            st.sampled_from(keys).map(lambda key: {k: v for k, v in right.items() if k != key}),
            st.builds(lambda value: {**right, "return_sequences": value}, st.booleans()),
            st.just(str(right)),
            _misspelt_dict(right),
            st.just(list(right.items())),
            st.sampled_from(keys).map(lambda key: {**right, key: (right[key],)}),
        )
    if type(right) is str:
        options = (reference.context.get("options") or []) if reference.kind == "choice" else []
        return st.one_of(
            st.sampled_from([*options, right.upper(), right.lower(), f" {right}", f"{right}."]),
            st.text(max_size=12),
            _changed_entry(right),
        ).filter(lambda value: not _same_plain(value, right))
    return _changed_entry(right)


@functools.cache
def _changed_answers(qid: str) -> st.SearchStrategy:
    """Answers to a recorded question that differ from its right answer, each wrong.

    One strategy per question, kept for every example drawn from it: built afresh, it read
    the solution notebook and Hypothesis checked it again, most of the property's time.
    """
    reference = RECORDED[qid]
    right = _right_answer(qid)
    if reference.kind == "shape":
        return _changed_sequence(right, _changed_entry)
    if reference.kind == "shapes":
        return _changed_sequence(
            right, lambda shape: _changed_sequence(shape, _changed_entry) | OTHER_ENTRIES
        )
    if reference.kind == "array":
        return _changed_array(right)
    if reference.kind in ("model", "layer_shapes"):
        changes = changed_designs(qid)
        return st.sampled_from(changes) | _misspelt_designs(qid)
    return _changed_scalar(right, reference)


#: Activations a changed design may take instead of the one it has.
OTHER_ACTIVATIONS = ("relu", "tanh", "sigmoid", "softmax", "elu", "hard_sigmoid", "linear")


def _layer_config(spec: dict[str, Any]) -> dict[str, Any]:
    """The config a judged option of a layer dict is set in: a wrapper's wrapped layer."""
    config = spec["config"]
    inner = config.get("layer")
    return inner["config"] if isinstance(inner, dict) else config


def changed_designs(qid: str) -> list[Any]:
    """Designs one change away from a design question's solution, none of them right.

    Each judged option of each layer set otherwise (a flag flipped, a size, a rate or an
    activation changed), each initializer whose default is not glorot_uniform written
    None (Keras then draws it with glorot_uniform) or "ones" (a bias's only where the layer
    has one), and, for a model, each layer
    dropped, repeated or swapped with a neighbour of another class; for one layer, the
    flags and the size that set the shapes it returns.
    """
    from lstm_lib.model_verdicts import DEFAULT_INITIALIZERS

    reference = RECORDED[qid]
    right = _right_answer(qid)
    layers = right if reference.kind == "model" else [right]
    changes: list[Any] = []

    def with_option(index: int, key: str, value: Any) -> Any:
        design = copy.deepcopy(layers)
        _layer_config(design[index])[key] = value
        return design if reference.kind == "model" else design[0]

    if reference.kind == "model":
        for index, entry in enumerate(reference.expected["layers"]):
            free = set(entry.get("free", ()))
            for key, value in entry["config"].items():
                if key in free:
                    continue
                if type(value) is bool:
                    changes.append(with_option(index, key, not value))
                elif type(value) is int:
                    changes += [with_option(index, key, value + k) for k in (1, -1)]
                elif type(value) is float:
                    changes.append(with_option(index, key, value + 0.25))
                elif key.endswith("activation"):
                    changes += [
                        with_option(index, key, other)
                        for other in OTHER_ACTIVATIONS
                        if other != value
                    ]
            class_name = layers[index]["class_name"]
            without_bias = not _layer_config(layers[index]).get("use_bias", True)
            for key, (default_class, _) in DEFAULT_INITIALIZERS.get(class_name, {}).items():
                if without_bias and key == "bias_initializer":
                    continue  # no bias is drawn: Keras builds the same layer (02 q7)
                changes.append(with_option(index, key, "ones"))
                if default_class != "GlorotUniform":
                    changes.append(with_option(index, key, None))
        for index in range(len(layers)):
            changes.append(layers[:index] + layers[index + 1 :])
            changes.append(layers[: index + 1] + layers[index:])
            if (
                index + 1 < len(layers)
                and layers[index]["class_name"] != layers[index + 1]["class_name"]
            ):
                swapped = copy.deepcopy(layers)
                swapped[index], swapped[index + 1] = swapped[index + 1], swapped[index]
                changes.append(swapped)
    else:
        config = _layer_config(right)
        changes += [with_option(0, "units", config["units"] + k) for k in (1, -1)]
        for flag in ("return_sequences", "return_state"):
            changes.append(with_option(0, flag, not config.get(flag, False)))
        if right["class_name"] == "Bidirectional":
            concatenated = copy.deepcopy(right)
            concatenated["config"]["merge_mode"] = "concat"
            changes.append(concatenated)
        changes.append({"class_name": "Dense", "config": {"units": config["units"]}})
    return changes


def _judged_both_ways(qid: str, answer: Any) -> list[Verdict]:
    """The verdict on an answer as written, and as the grader reads it from the wire."""
    reference = RECORDED[qid]
    judge = [reference.kind, reference.expected, reference.context, reference.mistakes]
    as_written = verdicts.verdict(judge[0], answer, *judge[1:])
    try:
        read = parse_answer_json(answer_json(answer))
    except ValueError:  # NaN or infinity: the grader reads no answer, which earns nothing
        return [as_written]
    return [as_written, verdicts.verdict(judge[0], read, *judge[1:])]


@pytest.mark.parametrize("qid", sorted(RECORDED))
def test_every_recorded_question_takes_its_right_answer(qid: str) -> None:
    """Is the right answer the changes below start from judged right, both ways? (Else
    every change of it would be wrong for nothing.)"""
    for result in _judged_both_ways(qid, _right_answer(qid)):
        assert result.correct, (qid, result.message)


@pytest.mark.parametrize("qid", sorted(RECORDED))
@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_a_changed_answer_is_never_correct(qid: str, data: st.DataObject) -> None:
    """Does every answer that differs from a recorded question's right answer (outside the
    documented equivalences) earn nothing, as written and as the grader reads it?"""
    answer = data.draw(_changed_answers(qid), label="answer")
    for result in _judged_both_ways(qid, answer):
        assert not result.correct, (qid, answer, result.message)
        assert result.earned < 1, (qid, answer, result.message)


@pytest.mark.parametrize(
    "qid", sorted(qid for qid, ref in RECORDED.items() if ref.kind in ("model", "layer_shapes"))
)
def test_every_design_one_change_away_is_wrong(qid: str) -> None:
    """The property above draws some of a design's changes; are all of them wrong? An
    LSTM's recurrent_initializer, a Dense's bias_initializer or Embedding's
    embeddings_initializer written None was judged as the default, where Keras draws the
    weight with glorot_uniform instead."""
    for answer in changed_designs(qid):
        for result in _judged_both_ways(qid, answer):
            assert not result.correct, (qid, answer, result.message)


def _array_forms() -> list[tuple[str, str]]:
    """Each array question with each form its right array may take (integers only where
    every entry is whole)."""
    cases = []
    for qid in sorted(qid for qid, ref in RECORDED.items() if ref.kind == "array"):
        right = _right_answer(qid)
        forms = ["float32", "big-endian", "fortran-order", "strided-view"]
        if np.array_equal(right, np.round(right)):
            forms.append("integers-where-whole")
        cases += [(qid, form) for form in forms]
    return cases


@pytest.mark.parametrize(("qid", "form"), _array_forms())
def test_a_right_array_in_another_form_keeps_its_point(qid: str, form: str) -> None:
    """Is a right array still right however NumPy holds it: computed in float32 as Keras
    computes, big-endian, in Fortran order, as a strided view of a larger array, or as
    integers where every entry is whole (02 q6's relu of whole numbers)?"""
    right = _right_answer(qid)
    answer = {
        "float32": lambda: right.astype(np.float32),
        "big-endian": lambda: right.astype(">f8"),
        "fortran-order": lambda: np.asfortranarray(right),
        "strided-view": lambda: np.repeat(right, 2, axis=-1)[..., ::2],
        "integers-where-whole": lambda: right.astype(np.int64),
    }[form]()
    assert answer.shape == right.shape
    for result in _judged_both_ways(qid, answer):
        assert result.correct, (qid, form, result.message)
