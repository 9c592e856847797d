"""Do the general mistake rules name the learner's confusion, and only where it applies?

``lstm_lib.mistakes`` reads each question's own context (the Keras layer spec, the input
shape, the roles of a list of tensors) to name the confusion behind a wrong answer. These
tests ask, rule by rule, whether a rule fires where its confusion can happen, with the
question's numbers in its message, and stays silent where it cannot (an Embedding's shape is
never told about return_sequences, a weight's shape never about the batch size); whether
near-miss forms are told the form to use; whether a list of shapes earns credit per part;
and, over a bank of realistic wrong answers to the recorded questions in ``references/``,
whether nearly every one is named. No test imports TensorFlow.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lstm_lib import judging, mistakes, shapes
from lstm_lib.answers import from_plain, to_plain
from lstm_lib.explanations import explain_answer
from lstm_lib.verdicts import Verdict, verdict

PROPERTY = settings(deadline=None, max_examples=80)
REFERENCES = Path(__file__).resolve().parents[1] / "references"


def _load_references() -> dict[str, dict[str, Any]]:
    """Every recorded question, keyed like "04q1" (assignment number and question)."""
    questions = {}
    for path in sorted(REFERENCES.glob("*.json")):
        for name, question in json.loads(path.read_text())["questions"].items():
            questions[path.name[:2] + name] = question
    return questions


QUESTIONS = _load_references()


def judge(qid: str, answer: Any, recorded: bool = False) -> Verdict:
    """The verdict on an answer to a recorded question, decoded as the grader decodes it."""
    question = QUESTIONS[qid]
    return verdict(
        question["kind"],
        from_plain(to_plain(answer)),
        question["expected"],
        question["context"],
        question["mistakes"] if recorded else (),
    )


def layer(name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": name, "config": config}


def count_context(spec: dict[str, Any], input_shape: tuple) -> dict[str, Any]:
    context: dict[str, Any] = {"layer": spec, "input_shape": list(input_shape)}
    if len(input_shape) >= 3:
        context.update(timesteps=input_shape[1], features=input_shape[-1])
    return context


def says(kind: str, answer: Any, expected: Any, context: dict[str, Any]) -> str:
    result = verdict(kind, answer, expected, context)
    assert result.correct is False
    return result.message


LSTM = layer("LSTM", units=16)
LSTM_CONTEXT = count_context(LSTM, (None, 20, 8))  # 4 × (16 × (16 + 8) + 16) = 1600
GRU = layer("GRU", units=8)
GRU_CONTEXT = count_context(GRU, (None, 10, 5))  # 3 × (8 × (8 + 5) + 2 × 8) = 360
RNN = layer("SimpleRNN", units=16)
RNN_CONTEXT = count_context(RNN, (None, 10, 8))  # 16 × (16 + 8) + 16 = 400
DENSE3 = count_context(layer("Dense", units=16), (None, 10, 8))  # 8 × 16 + 16 = 144
DENSE2 = count_context(layer("Dense", units=16), (None, 8))
BI = count_context(layer("Bidirectional", layer=layer("LSTM", units=8)), (None, 10, 5))  # 896
EMB = {
    "layer": layer("Embedding", input_dim=1000, output_dim=64),
    "input_shape": [None, 10],
}  # 64000
EMB_MASK = {
    "layer": layer("Embedding", input_dim=1000, output_dim=64, mask_zero=True),
    "input_shape": [None, 10],
}


# ===================================================================== count rules


class TestCountRules:
    @pytest.mark.parametrize(
        ("context", "expected", "answer", "phrases"),
        [
            # timesteps (or a vocabulary size) used as the number of features
            (LSTM_CONTEXT, 1600, 4 * (16 * 36 + 16), ["timesteps (20) as the features", "= 8"]),
            (DENSE3, 144, 10 * 16 + 16, ["timesteps (10) as the features"]),
            (
                {**LSTM_CONTEXT, "vocabulary": 500},
                1600,
                4 * (16 * (16 + 500) + 16),
                ["vocabulary size (500) as the features", "features = 8"],
            ),
            # units and features swapped
            (LSTM_CONTEXT, 1600, 4 * (8 * (8 + 16) + 8), ["swaps units and features", "16"]),
            # the bias: sized by the input, left out, doubled, counted with use_bias=False
            (LSTM_CONTEXT, 1600, 1600 - 64 + 32, ["sizes the bias by the input", "units = 16"]),
            (LSTM_CONTEXT, 1600, 1536, ["leaves out the bias", "units = 16"]),
            (LSTM_CONTEXT, 1600, 1664, ["two bias vectors", "PyTorch", "units = 16"]),
            (
                count_context(layer("LSTM", units=8, use_bias=False), (None, 12, 5)),
                416,
                448,
                ["use_bias=False removes b", "units = 8"],
            ),
            (GRU_CONTEXT, 360, 336, ["with `reset_after=True`, this GRU keeps two", "units = 8"]),
            (
                count_context(layer("GRU", units=8, reset_after=False), (None, 10, 5)),
                336,
                360,
                ["with `reset_after=False`, this GRU keeps a single bias vector"],
            ),
            # gates: one only, the wrong number, another class's count
            (LSTM_CONTEXT, 1600, 400, ["count for one block", "multiply by 4", "units = 16"]),
            (LSTM_CONTEXT, 1600, 1200, ["counts 3 blocks", "LSTM has 4"]),
            (RNN_CONTEXT, 400, 1600, ["counts 4 blocks", "SimpleRNN has 1 block (no gates)"]),
            (GRU_CONTEXT, 360, 120, ["count for one block", "multiply by 3"]),
            (GRU_CONTEXT, 360, 480, ["timesteps (10) as the features"]),
            (
                LSTM_CONTEXT,
                1600,
                shapes.count_params(layer("GRU", units=16), (None, 20, 8)),
                ["count of a GRU", "LSTM 4, GRU 3"],
            ),
            # the recurrent kernel: left out, alone, sized units × features
            (LSTM_CONTEXT, 1600, 1600 - 1024, ["leaves out the recurrent kernel U", "16"]),
            (LSTM_CONTEXT, 1600, 512, ["kernel W alone", "features = 8"]),
            (LSTM_CONTEXT, 1600, 1600 - 1024 + 512, ["U as units × features", "units = 16"]),
            # timesteps multiplying the count; Dense counted as if it flattened
            (LSTM_CONTEXT, 1600, 32000, ["timesteps does not change", "timesteps = 20"]),
            (DENSE3, 144, 1440, ["timesteps does not change", "timesteps = 10"]),
            (DENSE3, 144, 10 * 8 * 16 + 16, ["does not flatten", "features = 8"]),
            # Bidirectional: once, four times, an inner confusion in both copies
            (BI, 896, 448, ["one direction only", "doubles", "units = 8"]),
            (BI, 896, 1792, ["four copies", "exactly two"]),
            (BI, 896, 2 * 112, ["In each direction, that is the count for one block"]),
            # Embedding: an extra row, mask_zero, a bias, the sequence length
            (EMB, 64000, 1001 * 64, ["no extra row", "input_dim = 1000", "output_dim = 64"]),
            (EMB_MASK, 64000, 1001 * 64, ["mask_zero=True adds no row"]),
            (EMB_MASK, 64000, 999 * 64, ["mask_zero=True removes no row"]),
            (EMB, 64000, 640, ["output_dim × timesteps", "(10)"]),
            (EMB, 64000, 1064, ["a product"]),
            (EMB, 64000, 640000, ["timesteps does not change", "same table"]),
        ],
        ids=lambda value: str(value)[:40] if not isinstance(value, dict) else "",
    )
    def test_rule_fires(
        self, context: dict[str, Any], expected: int, answer: int, phrases: list[str]
    ) -> None:
        """Does each count rule name its confusion, with the question's numbers?"""
        assert shapes.count_params(context["layer"], tuple(context["input_shape"])) == expected
        message = says("int", answer, expected, context)
        for phrase in phrases:
            assert phrase in message, message

    def test_rules_stay_silent_where_they_do_not_apply(self) -> None:
        """Does a rule keep quiet for a layer where its confusion cannot happen?"""
        # no timesteps in a 2-D Dense; no recurrent kernel in Dense; no bias with use_bias=False
        assert "timesteps" not in mistakes.explain_count(1440, 144, DENSE2).split(".")[0]
        assert "recurrent kernel" not in says("int", 128 - 16, 144, DENSE3)
        no_bias = count_context(layer("LSTM", units=8, use_bias=False), (None, 12, 5))
        assert "bias" not in (mistakes.count_mistake(416 - 32, 416, no_bias) or "")
        # an Embedding has no features: never "timesteps as the features", never gates
        for answer in range(63000, 65500, 7):
            message = mistakes.explain_count(answer, 64000, EMB)
            assert "as the features" not in message and "gate" not in message
        # units = features: nothing to swap; reset_after is GRU's alone
        same = count_context(layer("LSTM", units=8), (None, 20, 8))
        expected = shapes.count_params(same["layer"], (None, 20, 8))
        for answer in range(expected - 300, expected + 300):
            message = mistakes.count_mistake(answer, expected, same) or ""
            assert "swaps" not in message
            assert "reset_after" not in (mistakes.count_mistake(answer, 1600, LSTM_CONTEXT) or "")
        # one direction only is a Bidirectional's mistake
        assert "one direction" not in (mistakes.count_mistake(400, 800, LSTM_CONTEXT) or "")

    def test_fallback_says_what_the_count_is_made_of(self) -> None:
        """Without a named confusion, is the learner told the blocks and the numbers?"""
        message = says("int", 1217, 1600, LSTM_CONTEXT)
        assert message.startswith("1217 is too small for this count.")
        assert "4 blocks" in message and "features = 8, units = 16" in message
        message = says("int", 999, 896, BI)
        assert "too large" in message and "two copies" in message
        message = says("int", 70000, 64000, EMB)
        assert "input_dim × output_dim" in message and "input_dim = 1000" in message
        message = says("int", 200, 144, DENSE3)
        assert "features × units" in message and "play no part" in message
        message = says("int", 5, 10, {"noun": "number of weight arrays"})
        assert message == "5 is too small for the number of weight arrays."


# ===================================================================== shape rules

RNN_SHAPE = {
    "layer": layer("LSTM", units=16),
    "input_shape": [None, 10, 8],
    "features": 8,
    "timesteps": 10,
}
SEQ_SHAPE = {**RNN_SHAPE, "layer": layer("LSTM", units=16, return_sequences=True)}
EMB_SHAPE = {"layer": layer("Embedding", input_dim=1000, output_dim=64), "input_shape": [None, 10]}
BI_SHAPE = {**RNN_SHAPE, "layer": layer("Bidirectional", layer=layer("LSTM", units=8))}
BI_SUM = {
    **RNN_SHAPE,
    "layer": layer("Bidirectional", layer=layer("LSTM", units=8), merge_mode="sum"),
}
DENSE_SHAPE = {**RNN_SHAPE, "layer": layer("Dense", units=16)}


class TestShapeRules:
    @pytest.mark.parametrize(
        ("answer", "expected", "context", "phrases"),
        [
            ((None, 10, 16), (None, 16), RNN_SHAPE, ["keeps the time axis", "return_sequences"]),
            ((None, 16), (None, 10, 16), SEQ_SHAPE, ["drops the time axis", "return_sequences"]),
            ((None, 16), (None, 10, 16), DENSE_SHAPE, ["Dense never removes an axis"]),
            ((None, 160), (None, 10, 16), DENSE_SHAPE, ["merges two axes", "10 × 16"]),
            ((16,), (None, 16), RNN_SHAPE, ["leaves out the batch axis"]),
            ((32, 16), (None, 16), RNN_SHAPE, ["batch size", "None rather than 32"]),
            ((10, 16), (None, 16), RNN_SHAPE, ["where the batch axis goes", "timesteps (10)"]),
            ((8, 16), (None, 16), RNN_SHAPE, ["kernel W", "(features, units)"]),
            ((None, 4), (2, 4), {"timesteps": 3}, ["real size"]),
            ((None, 8), (None, 16), RNN_SHAPE, ["`units`, not the 8 input features"]),
            ((None, 10), (None, 16), RNN_SHAPE, ["timesteps = 10"]),
            (
                (None, 64),
                (None, 16),
                RNN_SHAPE,
                ["4 blocks (three gates and the candidate) are inside"],
            ),
            ((None, 16, 10), (None, 10, 16), SEQ_SHAPE, ["wrong order", "(batch, timesteps"]),
            (
                (None, 8, 16),
                (None, 10, 16),
                SEQ_SHAPE,
                ["Axis 1 is the timesteps", "length of the input sequence"],
            ),
            ((None, 8), (None, 16), BI_SHAPE, ["one direction", "2 × units (units = 8"]),
            ((None, 16), (None, 8), BI_SUM, ["'concat' shape", "'sum'", "one direction's units"]),
            ((None, 10), (None, 10, 64), EMB_SHAPE, ["Embedding's input", "adds an axis"]),
            ((None, 64), (None, 10, 64), EMB_SHAPE, ["loses the time axis", "one per timestep"]),
            (
                (None, 10, 1000),
                (None, 10, 64),
                EMB_SHAPE,
                ["The last axis is output_dim", "input_dim, 1000"],
            ),
            ((None, 1000, 64), (None, 10, 64), EMB_SHAPE, ["1000 is input_dim", "one step per id"]),
            (
                (None, 24, 8),
                (None, 4, 6, 8),
                {
                    "layer": layer("Embedding", input_dim=50, output_dim=8),
                    "input_shape": [None, 4, 6],
                },
                ["merges two axes", "4 × 6", "adds output_dim"],
            ),
            (
                (None, 30, 500),
                (None, 30, 16),
                {**SEQ_SHAPE, "vocabulary": 500},
                ["500 is the Embedding's vocabulary size"],
            ),
        ],
        ids=repr,
    )
    def test_rule_fires(
        self, answer: tuple, expected: tuple, context: dict[str, Any], phrases: list[str]
    ) -> None:
        """Does each shape rule name its confusion, with the question's numbers?"""
        message = says("shape", answer, list(expected), context)
        for phrase in phrases:
            assert phrase in message, message

    def test_embedding_never_told_about_return_sequences(self) -> None:
        """Is an Embedding's wrong shape never explained with return_sequences?"""
        expected = (None, 10, 64)
        for answer in [(None, 64), (None, 10), (None, 10, 64, 1), (None, 1, 10, 64), (None, 10, 1)]:
            assert "return_sequences" not in says("shape", answer, list(expected), EMB_SHAPE)
        # and without a layer: an output one axis longer than the ids is an Embedding's
        bare = {"input_shape": [None, 30]}
        assert "return_sequences" not in says("shape", (None, 8), [None, 30, 8], bare)

    def test_state_never_told_to_keep_time(self) -> None:
        """Is a state given a time axis told that states are (batch, units) whatever the flags?"""
        context = {"roles": ["output", "h", "c"], "features": 3, "timesteps": 8}
        result = verdict(
            "shapes",
            [(None, 8, 16), (None, 8, 16), (None, 16)],
            [[None, 8, 16]] + [[None, 16]] * 2,
            context,
        )
        assert "a state is the value after the last step" in result.message
        assert "`return_sequences=True`. This layer" not in result.message

    def test_fallback_names_each_axis(self) -> None:
        """Without a named confusion, does the message say which axes are right and which not?"""
        message = says("shape", (None, 3, 7), [None, 10, 16], SEQ_SHAPE)
        assert "the batch axis is right" in message
        assert "the timesteps axis is wrong (3 is not its size)" in message
        assert "the input's number of timesteps" in message and "the layer's units" in message
        assert "10" not in message and "16" not in message  # never the expected sizes
        message = says("shape", (None, 1, 2, 3), [None, 10, 16], SEQ_SHAPE)
        assert "has 4 axes; this output has 3" in message

    @pytest.mark.parametrize(
        ("answer", "phrases"),
        [
            ([(3, 6), (6, 6), (6,)], ["shapes of one block", "4 · units"]),
            ([(24, 3), (24, 6), (24,)], ["transposed", "PyTorch"]),
            ([(24, 3), (6, 24), (24,)], ["(24, 3) is transposed", "(features, 4 × units)"]),
            ([(3, 6), (6, 24), (24,)], ["is one block", "4 · units columns"]),
            ([(3, 24), (3, 24), (24,)], ["U multiplies the previous state", "(the features)"]),
            ([(5, 24), (6, 24), (24,)], ["one row per input feature", "the features, not 5"]),
            ([(3, 24), (6, 24), (12,)], ["sizes the bias by the input", "features = 3"]),
            ([(9, 24), (24,)], ["concatenation view"]),
            ([(3, 24), (24,)], ["leaves out the recurrent kernel U", "3 arrays"]),
            ([(3, 6)] * 4 + [(6, 6)] * 4 + [(6,)] * 4, ["per-block weights, 12 arrays"]),
            ([(3, 24), (6, 24)], ["leaves out the bias b"]),
        ],
        ids=repr,
    )
    def test_weight_rules(self, answer: list, phrases: list[str]) -> None:
        """Are the weight shapes of an LSTM(6) on 3 features named by their confusion?"""
        context = {"roles": ["the kernel W", "the recurrent kernel U", "the bias b"]}
        message = says("shapes", answer, [[3, 24], [6, 24], [24]], context)
        for phrase in phrases:
            assert phrase in message, message
        assert "batch" not in message

    def test_kernel_from_timesteps(self) -> None:
        """Is a kernel with timesteps rows told so, when the timesteps are known?"""
        context = {
            "roles": ["the kernel W", "the recurrent kernel U", "the bias b"],
            "timesteps": 7,
        }
        message = says("shapes", [(7, 24), (6, 24), (24,)], [[3, 24], [6, 24], [24]], context)
        assert "features, not timesteps (7)" in message and "batch" not in message

    def test_gru_bias_rows(self) -> None:
        """Is a GRU's reset_after bias (2, 3·units) told from one vector, both ways?"""
        context = {"roles": ["the kernel W", "the recurrent kernel U", "the bias b"]}
        expected = [[5, 24], [8, 24], [2, 24]]
        assert "two bias rows" in says("shapes", [(5, 24), (8, 24), (24,)], expected, context)
        expected = [[5, 24], [8, 24], [24]]
        assert "one vector" in says("shapes", [(5, 24), (8, 24), (2, 24)], expected, context)


# ===================================================================== lists of shapes

OUT_H_C = {"roles": ["output", "h", "c"], "features": 3, "timesteps": 8}
BI_FIVE = ["the merged output", "forward h", "forward c", "backward h", "backward c"]


class TestListRules:
    def test_output_only(self) -> None:
        """Is one shape where return_state gives three told it is the output only?"""
        message = says("shapes", [(None, 16)], [[None, 16]] * 3, OUT_H_C)
        assert "(None, 16) is the output only" in message
        assert "[output, h, c], 3 tensors" in message
        assert "not one" not in message

    def test_c_missing_and_gru_has_no_c(self) -> None:
        """Is an LSTM's missing c named, and a GRU given a c told it has none?"""
        message = says("shapes", [(None, 16), (None, 16)], [[None, 16]] * 3, OUT_H_C)
        assert "leaves out the cell state c" in message
        gru = {"roles": ["output", "h"], "features": 5, "timesteps": 10}
        message = says(
            "shapes", [(None, 10, 8), (None, 8), (None, 8)], [[None, 10, 8], [None, 8]], gru
        )
        assert "Only an LSTM has a cell state c" in message and "[output, h]" in message

    def test_states_in_the_wrong_order(self) -> None:
        """Is a list in the wrong order told Keras's order: output, then h, then c?"""
        expected = [[None, 8, 16], [None, 16], [None, 16]]
        message = says("shapes", [(None, 16), (None, 8, 16), (None, 16)], expected, OUT_H_C)
        assert "wrong order" in message and "h before c" in message

    def test_bidirectional_lists(self) -> None:
        """Are one copy's three tensors, stacked directions and doubled states named?"""
        context = {"roles": BI_FIVE, "features": 5, "timesteps": 10}
        expected = [[None, 16]] + [[None, 8]] * 4
        message = says("shapes", [(None, 16), (None, 8), (None, 8)], expected, context)
        assert "what one LSTM returns" in message and "5 tensors" in message
        message = says("shapes", [(None, 16), (None, 2, 8), (None, 2, 8)], expected, context)
        assert "stacks the two directions" in message
        message = says("shapes", [(None, 16), (None, 16, 8), (None, 16, 8)], expected, context)
        assert message  # stacked along a new axis of another size is still judged
        message = says("shapes", [(None, 16)] * 5, expected, context)
        assert "each state belongs to one direction" in message
        assert message.count("Tensors 2, 3, 4, 5") == 1  # the same mistake is said once

    def test_a_concatenated_output_is_named_twice_as_wide_and_each_state_not(self) -> None:
        """07 q6: does a merged output that kept the time axis hear it is (batch,
        2 × units)-shaped, the width of both directions (it once heard (batch, units),
        which points to the width of one), while a state told its shape is (batch, units)?"""
        right = [(None, 16)] + [(None, 8)] * 4
        result = judge("07q6", [(None, 10, 16), *right[1:]], recorded=True)
        assert "(batch, 2 × units)-shaped" in result.message, result.message
        result = judge("07q6", [right[0], (None, 10, 8), *right[2:]], recorded=True)
        assert "(batch, units)" in result.message and "2 × units" not in result.message

    def test_parts_are_named_by_role(self) -> None:
        """Does a wrong part get named by its role and the right ones called right?"""
        expected = [[None, 8, 16], [None, 16], [None, 16]]
        result = verdict("shapes", [(None, 16), (None, 16), (None, 16)], expected, OUT_H_C)
        assert result.message.startswith("Tensor 1 (output): (None, 16) drops the time axis")
        assert result.message.endswith("The other parts are right: h, c (2 of 3).")


class TestPartialCredit:
    def test_scores_per_part(self) -> None:
        """Does a list of shapes earn k/n for k right parts of n, and 0 for none?"""
        expected = [[None, 8, 16], [None, 16], [None, 16]]
        result = verdict("shapes", [(None, 8, 16), (None, 16), (None, 3)], expected, OUT_H_C)
        assert (result.correct, result.score) == (False, pytest.approx(2 / 3))
        assert result.earned == pytest.approx(2 / 3)
        result = verdict("shapes", [(None, 3), (None, 3), (None, 3)], expected, OUT_H_C)
        assert (result.correct, result.score, result.earned) == (False, 0.0, 0.0)
        result = verdict("shapes", [(None, 8, 16), (None, 16), (None, 16)], expected, OUT_H_C)
        assert result.correct is True and result.earned == 1.0

    def test_the_right_shapes_in_another_order_keep_each_part_in_its_place(self) -> None:
        """Does a reordered list earn its parts in their right places, never less than a
        list with more wrong shapes, and is it still told the order?"""
        expected = [[None, 8, 16], [None, 16], [None, 16]]
        reordered = verdict("shapes", [(None, 16), (None, 8, 16), (None, 16)], expected, OUT_H_C)
        repeated = verdict("shapes", [(None, 8, 16)] * 3, expected, OUT_H_C)
        assert reordered.score == pytest.approx(1 / 3)
        assert reordered.score >= repeated.score
        assert "wrong order" in reordered.message and "In the right place: c" in reordered.message
        five = [[None, 16]] + [[None, 8]] * 4
        roles = {"roles": ["output", "forward h", "forward c", "backward h", "backward c"]}
        output_last = verdict("shapes", [(None, 8)] * 4 + [(None, 16)], five, roles)
        one_direction = verdict("shapes", [(None, 16)] * 5, five, roles)
        assert output_last.score == pytest.approx(3 / 5)
        assert output_last.score > one_direction.score

    def test_a_square_kernel_right_only_by_transposing_earns_nothing(self) -> None:
        """With every kernel transposed, does the square U, equal to its own transpose, earn
        nothing while the bias, not transposed, earns its part?"""
        expected = [[3, 8], [8, 8], [8]]
        roles = {"roles": ["kernel W", "recurrent kernel U", "bias b"]}
        result = verdict("shapes", [(8, 3), (8, 8), (8,)], expected, roles)
        assert result.score == pytest.approx(1 / 3)
        assert "transposed" in result.message and "b (1 of 3)" in result.message

    def test_wrong_length_earns_nothing(self) -> None:
        """Is a list of another length given 0, as documented (the count is the question)?"""
        expected = [[None, 16]] * 3
        for answer in ([(None, 16)], [(None, 16)] * 2, [(None, 16)] * 4):
            assert verdict("shapes", answer, expected, OUT_H_C).earned == 0.0

    def test_recorded_mistake_keeps_the_score(self) -> None:
        """Does a recorded message replace the text but keep the credit for right parts?"""
        recorded = [{"value": [[None, 30, 8], [None, 3]], "message": "Dense keeps time."}]
        result = verdict(
            "shapes",
            [(None, 30, 8), (None, 3)],
            [[None, 30, 8], [None, 30, 3]],
            {"roles": ["the upper LSTM", "the Dense layer"]},
            recorded,
        )
        assert result.message == "Dense keeps time." and result.score == 0.5


# ===================================================================== values and forms


class TestValueRules:
    EXPECTED = {"activation": "sigmoid", "recurrent_activation": "hard_sigmoid", "units": 128}

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("output_dim", "units"),
            ("inner_activation", "recurrent_activation"),
            ("init", "kernel_initializer"),
            ("dropout_W", "dropout"),
            ("dropout_U", "recurrent_dropout"),
        ],
    )
    def test_keras1_names(self, old: str, new: str) -> None:
        """Is each Keras 1/2 argument name told its Keras 3 name?"""
        answer = {**self.EXPECTED, old: 1}
        message = says("value", answer, self.EXPECTED, {})
        assert f"{old} is the Keras 1/2 name of {new}" in message
        assert f"Keras 3 calls it {new}" in message

    def test_one_old_name_left_out_is_told_in_the_singular(self) -> None:
        """09 q5 answered ``{"input": "inputs"}`` was told to keep output "as the key and
        give each its Keras 3 name": one key has no "each". Is the sentence in the singular
        for one name and in the plural for two?"""
        model = {"input": "inputs", "output": "outputs"}
        message = says("value", {"input": "inputs"}, model, {})
        assert "keep it as the key and give it its Keras 3 name as value." in message
        message = says("value", {}, model, {})
        assert "keep them as the keys and give each its Keras 3 name as value." in message

    def test_dict_rules(self) -> None:
        """Are input_length, swapped values, missing keys and plural names named?"""
        message = says("value", {**self.EXPECTED, "input_length": 40}, self.EXPECTED, {})
        assert "input_length is gone in Keras 3" in message
        swapped = {**self.EXPECTED, "activation": "hard_sigmoid", "recurrent_activation": "sigmoid"}
        message = says("value", swapped, self.EXPECTED, {})
        assert "units is right." in message and "swapped" in message
        message = says("value", {"units": 128, "activation": "sigmoid"}, self.EXPECTED, {})
        assert "Missing: recurrent_activation" in message
        model = {"input": "inputs", "output": "outputs"}
        message = says("value", {"input": "inputs", "output": "output"}, model, {})
        assert message.startswith("input is right.") and "Keras 3 calls it outputs" in message

    def test_a_required_keyword_left_out_is_not_said_to_keep_a_default(self) -> None:
        """units has no default (Keras raises TypeError without it, chapter 9's Q2): is a
        dict without it told so, where an option left out keeps its default?"""
        message = says(
            "value", {"activation": "sigmoid"}, {"units": 8, "activation": "sigmoid"}, {}
        )
        assert "Missing: units, which Keras requires" in message and "default)" not in message
        message = says("value", {"units": 8}, {"units": 8, "activation": "sigmoid"}, {})
        assert "Missing: activation (leaving it out keeps Keras's default)." in message

    def test_names_right_but_for_case_or_separators(self) -> None:
        """Are a keyword and a value right but for case, spaces or underscores told so?"""
        message = says(
            "value",
            {"Units": 128, "activation": "Sigmoid", "recurrent_activation": "hard sigmoid"},
            self.EXPECTED,
            {},
        )
        assert "'Units' should be 'units'" in message and "Missing" not in message
        assert "'Sigmoid' should be 'sigmoid' and 'hard sigmoid' should be 'hard_sigmoid'" in (
            message
        )
        for answer in ("Type Error", "TypeError exception"):
            assert "names it, but not as Python writes it" in says("value", answer, "TypeError", {})
        # naming it among others, or denying it, is not naming it: the spelling stays untold
        for answer in ("not a TypeError", "ValueError or TypeError", "No TypeError"):
            assert "'TypeError'" not in says("value", answer, "TypeError", {}), answer
        message = says(
            "value", {"recurrent activation": "sigmoid"}, {"recurrent_activation": "sigmoid"}, {}
        )
        assert "'recurrent activation' should be 'recurrent_activation'" in message
        assert "case-sensitive" not in message

    def test_a_recorded_string_mistake_matches_in_any_case(self) -> None:
        """Is 'No exception' told the recorded message of 'no exception'?"""
        recorded = judge("09q2", "no exception", recorded=True).message
        for answer in ("No exception", "NO  EXCEPTION", " no exception "):
            assert judge("09q2", answer, recorded=True).message == recorded

    def test_exception_names(self) -> None:
        """Is an exception class, an instance or a decorated name told to write the name?"""
        for answer in (TypeError, TypeError("missing units")):
            message = says("value", from_plain(to_plain(answer)), "TypeError", {})
            assert "not its name" in message and "as a string" in message
        for answer in ("TypeError()", "builtins.TypeError", "<class 'TypeError'>", "TypeError: x"):
            assert "just the class's name" in says("value", answer, "TypeError", {})
        assert "case-sensitive" in says("value", "typeerror", "TypeError", {})
        for answer in (" TypeError", "TypeError ", "TypeError\n"):
            assert "without spaces around it" in says("value", answer, "TypeError", {})
        message = says("value", "ValueError", "TypeError", {})
        assert "is a string, as asked" in message
        # an unrelated refused object is still told to use plain values
        sneaky = from_plain({"t": "unsupported", "type": "Sneaky"})
        assert "plain Python values" in says("value", sneaky, {"units": 1}, {})


#: Answers of nearly the right form, and what the message must say.
NEAR_MISS_FORMS = [
    ("shape", "(None, 16)", [None, 16], ["without quotes", "(None, 16)"]),
    ("shape", [None, 16], [None, 16], ["is a list", "(None, 16)"]),
    ("shape", (None, np.int64(16)), [None, 16], ["Convert it with int(...)"]),
    ("shape", (None, 16.0), [None, 16], ["plain int or None"]),
    ("shapes", "[(None, 16), (None, 16)]", [[None, 16]] * 2, ["without quotes"]),
    ("shapes", ((None, 16), (None, 16)), [[None, 16]] * 2, ["[...] rather than (...)"]),
    ("shapes", (None, 16), [[None, 16]] * 2, ["a single shape", "list of shapes"]),
    ("int", 16.0, 16, ["without the decimal point: 16"]),
    ("int", 16.5, 16, ["whole number"]),
    ("int", np.int64(16), 16, ["Convert it with int(...)"]),
    ("int", True, 1, ["bools, not counts"]),
    ("int", "16", 16, ["without quotes: 16"]),
    ("value", 1, "TypeError", ["Answer with a string"]),
    ("value", ["units"], {"units": 1}, ["dict of keyword arguments"]),
    ("value", (1, 2), [1, 2], ["Write it as a list"]),
]
#: The form check each kind's practice check cell runs first.
FORM_CHECKS = {
    "shape": judging.expect_shape,
    "shapes": judging.expect_shapes,
    "int": judging.expect_int,
}


class TestNearMissForms:
    @pytest.mark.parametrize(("kind", "answer", "expected", "phrases"), NEAR_MISS_FORMS, ids=repr)
    def test_told_the_form(self, kind: str, answer: Any, expected: Any, phrases: list[str]) -> None:
        """Is a nearly right form told exactly which form to use?"""
        message = says(kind, answer, expected, {})
        for phrase in phrases:
            assert phrase in message, message

    @pytest.mark.parametrize(
        ("kind", "answer", "expected", "phrases"),
        [case for case in NEAR_MISS_FORMS if case[0] in FORM_CHECKS],
        ids=repr,
    )
    def test_practice_tells_the_form_as_grading_does(
        self, kind: str, answer: Any, expected: Any, phrases: list[str]
    ) -> None:
        """Does the form check a practice run makes first tell a nearly right form what
        grading tells it (a shape in quotes was told only "A shape is a tuple...")?"""
        with pytest.raises(judging.AnswerError) as told:
            FORM_CHECKS[kind](answer)
        for phrase in phrases:
            assert phrase in str(told.value), told.value

    def test_choice_near_miss(self) -> None:
        """Is a choice that differs only in case or separators told the exact option?"""
        context = {"options": ["output-h", "output-c", "none"]}
        message = says("choice", "Output_H", "output-c", context)
        assert "Write it exactly as offered: 'output-h'" in message


# ===================================================================== properties

RECURRENT = st.sampled_from(["SimpleRNN", "LSTM", "GRU"])


@st.composite
def recurrent_contexts(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    name = draw(RECURRENT)
    config: dict[str, Any] = {"units": draw(st.integers(1, 64)), "use_bias": draw(st.booleans())}
    if name == "GRU":
        config["reset_after"] = draw(st.booleans())
    spec = layer(name, **config)
    if draw(st.booleans()):
        spec = layer("Bidirectional", layer=spec)
    input_shape = (None, draw(st.integers(1, 50)), draw(st.integers(1, 64)))
    return count_context(spec, input_shape), shapes.count_params(spec, input_shape)


@PROPERTY
@given(
    name=RECURRENT,
    units=st.integers(1, 64),
    features=st.integers(1, 64),
    timesteps=st.integers(2, 60),
    use_bias=st.booleans(),
)
def test_timesteps_as_features_is_named(
    name: str, units: int, features: int, timesteps: int, use_bias: bool
) -> None:
    """For any recurrent layer, is the count computed with timesteps in place of features
    named as exactly that (unless a rule tried earlier gives the same count)?"""
    assume(timesteps != features)
    spec = layer(name, units=units, use_bias=use_bias)
    context = count_context(spec, (None, timesteps, features))
    expected = shapes.count_params(spec, (None, timesteps, features))
    wrong = shapes.count_params(spec, (None, timesteps, timesteps))
    first = next(
        msg for value, msg in mistakes.iter_count_candidates(expected, context) if value == wrong
    )
    assume("as the features" in first)
    message = says("int", wrong, expected, context)
    assert f"timesteps ({timesteps}) as the features" in message
    assert f"features = {features}" in message


@PROPERTY
@given(data=recurrent_contexts(), answer=st.integers(0, 200_000))
def test_every_wrong_count_names_a_number_of_the_question(
    data: tuple[dict[str, Any], int], answer: int
) -> None:
    """Does every wrong count get a message with a number from the question's context,
    never a bare "is not the count"? And is the right count always right?"""
    context, expected = data
    assert verdict("int", expected, expected, context).correct is True
    assume(answer != expected)
    message = says("int", answer, expected, context)
    f = mistakes.facts(context)
    numbers = {f.units, f.features, f.timesteps} - {None}
    assert any(re.search(rf"\b{n}\b", message) for n in numbers), message
    assert "is not the count" not in message


@PROPERTY
@given(
    input_dim=st.integers(2, 5000),
    output_dim=st.integers(1, 256),
    timesteps=st.integers(1, 50),
    mask_zero=st.booleans(),
    answer=st.lists(st.none() | st.integers(1, 6000), min_size=1, max_size=4).map(tuple),
)
def test_embedding_shapes_never_mention_return_sequences(
    input_dim: int, output_dim: int, timesteps: int, mask_zero: bool, answer: tuple
) -> None:
    """For any Embedding, is a wrong output shape never explained with return_sequences,
    and the right one always right?"""
    spec = layer("Embedding", input_dim=input_dim, output_dim=output_dim, mask_zero=mask_zero)
    context = {"layer": spec, "input_shape": [None, timesteps]}
    expected = shapes.output_shapes(spec, (None, timesteps))[0]
    assert verdict("shape", expected, list(expected), context).correct is True
    variants = [answer, (None, output_dim), (None, timesteps, input_dim), (None, timesteps)]
    for wrong in variants:
        if wrong != expected:
            message = says("shape", wrong, list(expected), context)
            assert "return_sequences" not in message
            assert "is not the shape" not in message


@PROPERTY
@given(
    gates=st.sampled_from([1, 3, 4]),
    units=st.integers(1, 32),
    features=st.integers(1, 32),
    answer=st.lists(
        st.lists(st.integers(1, 200), min_size=1, max_size=3).map(tuple), min_size=1, max_size=4
    ),
)
def test_weight_shapes_never_mention_the_batch(
    gates: int, units: int, features: int, answer: list[tuple]
) -> None:
    """Are weight shapes (W, U, b), which have no batch axis, never told about the batch?"""
    expected = [[features, gates * units], [units, gates * units], [gates * units]]
    context = {"roles": ["the kernel W", "the recurrent kernel U", "the bias b"]}
    truth = [tuple(shape) for shape in expected]
    assert verdict("shapes", truth, expected, context).correct is True
    variants = [
        answer,
        [truth[0][::-1], truth[1], truth[2]],
        [(features, units), truth[1], truth[2]],
    ]
    for wrong in variants:
        if wrong != truth:
            result = verdict("shapes", wrong, expected, context)
            assert result.correct is False
            assert "batch" not in result.message.lower(), result.message


@PROPERTY
@given(
    name=RECURRENT,
    units=st.integers(1, 40),
    timesteps=st.integers(1, 30),
    features=st.integers(1, 40),
    sequences=st.booleans(),
    state=st.booleans(),
    answer=st.lists(st.none() | st.integers(1, 80), min_size=1, max_size=4).map(tuple),
)
def test_right_shapes_right_and_wrong_ones_explained(
    name: str,
    units: int,
    timesteps: int,
    features: int,
    sequences: bool,
    state: bool,
    answer: tuple,
) -> None:
    """For any recurrent layer and flags, is the right list of shapes right, and a wrong
    shape in its place explained by axis, never with a bare "is not the shape"?"""
    spec = layer(name, units=units, return_sequences=sequences, return_state=state)
    input_shape = (None, timesteps, features)
    context = {**count_context(spec, input_shape), "roles": ["output", "h", "c"][: 1 + state]}
    outputs = shapes.output_shapes(spec, input_shape)
    assert verdict("shapes", outputs, [list(s) for s in outputs], context).correct is True
    assert verdict("shape", outputs[0], list(outputs[0]), context).correct is True
    if answer != outputs[0]:
        message = says("shape", answer, list(outputs[0]), context)
        assert "is not the shape" not in message and "is not its shape" not in message


def test_every_recorded_answer_is_right() -> None:
    """Is the recorded expected value of every reference question judged correct?"""
    for qid, question in QUESTIONS.items():
        expected, kind = question["expected"], question["kind"]
        if kind == "shape":
            answer: Any = tuple(expected)
        elif kind == "shapes":
            answer = [tuple(shape) for shape in expected]
        elif kind in ("int", "choice", "value"):
            answer = expected
        elif kind == "array":
            answer = np.asarray(expected, dtype=float)
        else:
            continue  # model and layer_shapes answers are specs, not the recorded shapes
        result = verdict(kind, answer, expected, question["context"], question["mistakes"])
        assert result.correct is True, qid


def test_recorded_mistakes_still_come_first() -> None:
    """Does every recorded mistake still get its recorded message, before the rules?"""
    for qid, question in QUESTIONS.items():
        for mistake in question["mistakes"]:
            value = mistake["value"]
            if question["kind"] == "shape":
                value = tuple(value)
            elif question["kind"] == "shapes":
                value = [tuple(shape) for shape in value]
            elif question["kind"] == "array":
                value = np.asarray(value, dtype=float)
            result = judge(qid, value, recorded=True)
            assert result.message == mistake["message"], qid


def test_the_embedding_counted_into_the_lstm_is_named() -> None:
    """06 q7 asks for the LSTM's parameters after Embedding(1000, 32): is an answer that
    adds the Embedding's table (1000 x 32) told so? The context holds the LSTM alone, so a
    general rule cannot know the table's size; the question records the mistake."""
    result = judge("06q7", 1000 * 32 + QUESTIONS["06q7"]["expected"], recorded=True)
    assert result.correct is False and result.earned == 0
    assert "adds the Embedding's table, input_dim × output_dim weights," in result.message
    assert str(QUESTIONS["06q7"]["expected"]) not in result.message


# ===================================================================== the bank
# Wrong answers learners give to the recorded questions, each with the phrase its verdict
# must contain. Judged by the general rules alone: the recorded mistakes are left out.

BANK: list[tuple[str, Any, str]] = [
    # 02: Dense
    ("02q1", (None, 8), "not the 8 input features"),
    ("02q1", (8, 16), "kernel W"),
    ("02q1", (16,), "leaves out the batch axis"),
    ("02q1", "(None, 16)", "without quotes"),
    ("02q1", [None, 16], "write a shape as a tuple"),
    ("02q2", (None, 16), "Dense never removes an axis"),
    ("02q2", (None, 192), "merges two axes"),
    ("02q2", (None, 12, 8), "not the 8 input features"),
    ("02q2", (None, 12, 12), "timesteps = 12"),
    ("02q2", (32, 12, 16), "batch size"),
    ("02q3", 1728, "timesteps does not change"),
    ("02q3", 208, "timesteps (12) as the features"),
    ("02q3", 1552, "does not flatten"),
    ("02q3", 128, "leaves out the bias"),
    ("02q3", 144.0, "without the decimal point"),
    ("02q3", "144", "without quotes"),
    ("02q4", 144, "use_bias=False removes b"),
    # 03: SimpleRNN
    ("03q1", (None, 10, 16), "return_sequences=True"),
    ("03q1", (None, 8), "not the 8 input features"),
    ("03q1", (32, 16), "batch size"),
    ("03q2", 144, "recurrent kernel U"),
    ("03q2", 384, "leaves out the bias"),
    ("03q2", 4000, "timesteps does not change"),
    ("03q2", 1600, "4 blocks"),
    ("03q2", 432, "timesteps (10) as the features"),
    ("03q2", 416, "two bias vectors"),
    ("03q2", 272, "units × features"),
    ("03q2", 128, "kernel W alone"),
    ("03q2", 392, "sizes the bias by the input"),
    ("03q2", 200, "swaps units and features"),
    ("03q3", "Units", "exactly as offered"),
    ("03q4", [(10, 16), (16, 16), (16,)], "one row per input feature"),
    ("03q4", [(16, 8), (16, 16), (16,)], "transposed"),
    ("03q4", [(8, 16), (8, 16), (16,)], "units numbers"),
    ("03q4", [(8, 16), (16,)], "leaves out the recurrent kernel U"),
    ("03q4", [(8, 16), (16, 16), (8,)], "sizes the bias by the input"),
    ("03q4", ((8, 16), (16, 16), (16,)), "[...] rather than (...)"),
    ("03q5", (32, 1, 10), "wrong order"),
    ("03q5", (None, 10, 1), "real size"),
    ("03q5", (10, 1), "leaves out the batch axis"),
    # 04: LSTM
    ("04q1", 400, "count for one block"),
    ("04q1", 1200, "3 blocks"),
    ("04q1", 1536, "leaves out the bias"),
    ("04q1", 32000, "timesteps does not change"),
    ("04q1", 1664, "two bias vectors"),
    ("04q1", 800, "swaps units and features"),
    ("04q1", 2368, "timesteps (20) as the features"),
    ("04q1", 512, "kernel W alone"),
    ("04q1", 1088, "units × features"),
    ("04q1", 576, "recurrent kernel U"),
    ("04q2", 448, "use_bias=False removes b"),
    ("04q2", 104, "count for one block"),
    ("04q3", [(3, 6), (6, 6), (6,)], "shapes of one block"),
    ("04q3", [(24, 3), (24, 6), (24,)], "transposed"),
    ("04q3", [(7, 24), (6, 24), (24,)], "one row per input feature"),
    ("04q3", [(9, 24), (24,)], "concatenation view"),
    ("04q3", [(3, 6)] * 4 + [(6, 6)] * 4 + [(6,)] * 4, "per-block weights"),
    ("04q3", [(3, 24), (3, 24), (24,)], "units numbers"),
    ("04q6", (None, 64), "not the 64 input features"),
    ("04q6", (32,), "leaves out the batch axis"),
    ("04q7", 10.0, "without the decimal point"),
    # 05: return flags
    ("05q1", (None, 8, 16), "return_sequences=True"),
    ("05q2", (None, 16), "drops the time axis"),
    ("05q2", (None, 16, 8), "wrong order"),
    ("05q3", [(None, 16)], "is the output only"),
    ("05q3", [(None, 16), (None, 16)], "leaves out the cell state c"),
    ("05q3", [(None, 8, 16), (None, 16), (None, 16)], "keeps the time axis"),
    ("05q3", (None, 16), "a single shape"),
    ("05q3", [[None, 16], [None, 16], [None, 16]], "is a list"),
    ("05q4", [(None, 16), (None, 8, 16), (None, 16)], "wrong order"),
    ("05q4", [(None, 8, 16)] * 3, "a state is the value after the last step"),
    ("05q5", "output_h", "exactly as offered"),
    # 06: Embedding
    ("06q1", (None, 64), "loses the time axis"),
    ("06q1", (None, 10, 1000), "input_dim, 1000"),
    ("06q1", (None, 1000, 64), "1000 is input_dim"),
    ("06q1", (None, 10), "Embedding's input"),
    ("06q2", (None, 24, 8), "merges two axes"),
    ("06q2", (None, 4, 6, 50), "input_dim, 50"),
    ("06q3", 640000, "timesteps does not change"),
    ("06q3", 64064, "no extra row"),
    ("06q3", 1064, "a product"),
    ("06q3", 640, "output_dim × timesteps"),
    ("06q6", (None, 10, 16), "return_sequences=True"),
    ("06q7", 1728, "timesteps (10) as the features"),
    ("06q7", 784, "count for one block"),
    # 07: GRU and Bidirectional
    ("07q1", 456, "reset_after=False"),
    ("07q1", 160, "count for one block"),
    ("07q1", 528, "timesteps (12) as the features"),
    ("07q2", 480, "reset_after=True"),
    ("07q2", 608, "4 blocks"),
    ("07q3", [(None, 10, 8), (None, 8), (None, 8)], "Only an LSTM has a cell state c"),
    ("07q3", [(None, 10, 8)], "is the output only"),
    ("07q5", 448, "one direction only"),
    ("07q5", 1792, "four copies"),
    ("07q5", 1216, "timesteps (10) as the features"),
    ("07q6", [(None, 16), (None, 8), (None, 8)], "what one LSTM returns"),
    ("07q6", [(None, 16), (None, 2, 8), (None, 2, 8)], "stacks the two directions"),
    ("07q6", [(None, 16)] * 5, "each state belongs to one direction"),
    ("07q6", [(None, 8)] * 5, "side by side"),
    (
        "07q9",
        layer("Bidirectional", layer=layer("LSTM", units=8, return_state=True)),
        "'concat' shape",
    ),
    # 08: putting it together
    ("08q1", (None, 30), "Embedding's input"),
    ("08q1", (None, 8), "loses the time axis"),
    ("08q5", [(None, 30, 16), (None, 3)], "Dense never removes an axis"),
    # 09: Keras 2 to Keras 3
    (
        "09q1",
        {"activation": "sigmoid", "inner_activation": "hard_sigmoid", "output_dim": 128},
        "output_dim is the Keras 1/2 name of units",
    ),
    (
        "09q1",
        {"activation": "sigmoid", "inner_activation": "hard_sigmoid", "units": 128},
        "Keras 3 calls it recurrent_activation",
    ),
    (
        "09q1",
        {"activation": "hard_sigmoid", "recurrent_activation": "sigmoid", "units": 128},
        "swapped",
    ),
    ("09q1", {"recurrent_activation": "hard_sigmoid", "units": 128}, "Missing: activation"),
    ("09q2", TypeError, "not its name"),
    ("09q2", "TypeError()", "just the class's name"),
    ("09q2", "typeerror", "case-sensitive"),
    ("09q5", {"input": "input", "output": "output"}, "Keras 3 calls it inputs"),
    ("09q5", {"input": "inputs", "output": "output"}, "Keras 3 calls it outputs"),
    ("09q6", (None, 4), "real size"),
    ("09q8", (None, 1), "real size"),
]


def test_bank_is_named() -> None:
    """Is at least 95% of the bank of realistic wrong answers named by its confusion, by
    the general rules alone, and does none of them earn the question's points?"""
    assert len(BANK) >= 60
    assert {qid[:2] for qid, _, _ in BANK} >= {f"0{n}" for n in range(2, 10)}
    missed = []
    for qid, answer, phrase in BANK:
        result = judge(qid, answer)
        assert result.correct is False, (qid, answer)
        assert result.earned < 1, (qid, answer)
        if phrase not in result.message:
            missed.append((qid, answer, phrase, result.message))
    named = 1 - len(missed) / len(BANK)
    assert named >= 0.95, "\n".join(map(repr, missed))


# An LSTM's four blocks are three gates and the candidate, a GRU's three are two gates and
# the candidate (chapters 4 and 7): a count of blocks is never a count of gates.
_BLOCKS_AS_GATES = re.compile(
    r"\b(?:[34]|three|four) gates\b(?! and the candidate)|per gate|"
    r"one gate's|per-gate|gates side by side"
)


def test_blocks_are_never_counted_as_gates() -> None:
    """Does no message or explanation of the bank's wrong answers, nor of its questions'
    right answers, call the gated blocks of an LSTM or a GRU gates?"""
    said = []
    for qid, answer, _ in BANK:
        question = QUESTIONS[qid]
        said.append(judge(qid, answer).message)
        said.append(
            explain_answer(question["kind"], question["expected"], question.get("context")) or ""
        )
    wrong = sorted({text for text in said if _BLOCKS_AS_GATES.search(text)})
    assert not wrong, "\n".join(wrong)


def _spelled(value: Any) -> str:
    """How a message would spell an expected value: a shape as a tuple, a list of shapes as a
    list of tuples, a count as a number."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return repr([tuple(v) for v in value])
    if isinstance(value, list):
        return repr(tuple(value))
    return repr(value)


def _as_written(answer: Any) -> Any:
    """The answer with its form mended (a list for a tuple, a quoted shape), to tell a
    message echoing the learner's own value from one giving the expected value away."""
    if isinstance(answer, str):
        try:
            return _as_written(ast.literal_eval(answer))
        except (ValueError, SyntaxError):
            return answer
    if isinstance(answer, list | tuple):
        return [_as_written(item) for item in answer]
    return answer


@pytest.mark.parametrize("recorded", [False, True])
def test_no_message_gives_the_expected_value_away(recorded: bool) -> None:
    """Practice mode prints a verdict before any reveal: does no message on a wrong answer
    of the bank state the whole expected value the learner did not write?"""
    leaks = []
    for qid, answer, _ in BANK:
        question = QUESTIONS[qid]
        if question["kind"] not in ("shape", "shapes", "int"):
            continue
        expected = question["expected"]
        mended = _as_written(answer)
        if mended == _as_written(expected) or mended == expected:
            continue  # a form slip on the right value: the message may echo it
        message = judge(qid, answer, recorded=recorded).message
        if _spelled(expected) in message:
            leaks.append((qid, answer, message))
    leaks += _recorded_leaks()
    assert not leaks, "\n".join(map(repr, leaks))


def _wrong_parts(value: Any, expected: list) -> list[Any]:
    """The expected parts a named mistake's value gets wrong (all of them for a non-list):
    a text may explain a part the learner wrote, never spell one the learner missed."""
    if not (isinstance(value, list) and expected and isinstance(expected[0], list)):
        return [expected]
    return [part for i, part in enumerate(expected) if i >= len(value) or value[i] != part]


def _recorded_leaks() -> list[tuple[str, str, str]]:
    """Every recorded text of every reference (choice options' why_not, named mistakes)
    that states the expected answer: a choice text quoting the right option's key, a
    shape or count text spelling the expected value (or a part the mistake missed)."""
    leaks = []
    for qid, question in QUESTIONS.items():
        expected = question["expected"]
        if question["kind"] == "choice":
            texts = list(question["context"].get("why_not", {}).values())
            texts += [m["message"] for m in question["mistakes"]]
            quoted = re.compile(rf"""['"`]{re.escape(str(expected))}['"`]""")
            leaks += [(qid, expected, t) for t in texts if quoted.search(t)]
        elif question["kind"] in ("shape", "shapes", "int"):
            for mistake in question["mistakes"]:
                for part in _wrong_parts(mistake["value"], expected):
                    spelled = re.escape(_spelled(part))
                    if re.search(rf"(?<![\d.]){spelled}(?!\.?\d)", mistake["message"]):
                        leaks.append((qid, _spelled(part), mistake["message"]))
    return leaks


def test_recorded_leak_check_fires_and_stays_silent() -> None:
    """Does the recorded-text check catch a quoted right option, a spelled count and a
    missed part, and leave alone a wrong option, a larger number and a part written right?"""
    choice = {"kind": "choice", "expected": "output-h", "mistakes": []}
    QUESTIONS["__probe"] = {**choice, "context": {"why_not": {"none": "It is 'output-h'."}}}
    QUESTIONS["__count"] = {
        "kind": "int",
        "expected": 21,
        "context": {},
        "mistakes": [
            {"value": 20, "message": "The table needs 21 rows."},
            {"value": 19, "message": "Not 210 or 1.21, and not 'output-h'."},
        ],
    }
    QUESTIONS["__shapes"] = {
        "kind": "shapes",
        "expected": [[8, 16], [16, 16], [16]],
        "context": {},
        "mistakes": [
            {"value": [[8, 16], [8, 16], [16]], "message": "U is (16, 16)."},
            {"value": [[8, 16], [8, 16], [16]], "message": "W (8, 16) is right."},
        ],
    }
    try:
        leaks = [leak for leak in _recorded_leaks() if leak[0].startswith("__")]
    finally:
        for key in ("__probe", "__count", "__shapes"):
            del QUESTIONS[key]
    assert [leak[0] for leak in leaks] == ["__probe", "__count", "__shapes"], leaks


# ===================================================================== misleading rules
# Each of these rules once fired where its confusion could not happen; the rule behind it is
# now read from the question's context, and these tests pin both sides.


@PROPERTY
@given(
    name=st.sampled_from(["Dense", "SimpleRNN", "LSTM", "GRU"]),
    units=st.integers(1, 64),
    features=st.integers(1, 64),
    timesteps=st.integers(2, 60),
)
def test_kernel_shape_is_never_told_a_time_axis(
    name: str, units: int, features: int, timesteps: int
) -> None:
    """Is (batch, features, units) told it is the kernel's shape where the features are not
    the timesteps (always, for a Dense on (batch, features)), and (batch, timesteps, units)
    told it keeps the time axis?"""
    assume(features != timesteps)
    flat = name == "Dense" and units % 2  # Dense reads (batch, features) too
    input_shape = (None, features) if flat else (None, timesteps, features)
    spec = layer(name, units=units)
    context = {**count_context(spec, input_shape), "features": features}
    expected = shapes.output_shapes(spec, input_shape)[0]
    kernel_like = (None, features, *expected[1:])
    if kernel_like != expected and len(expected) == 2:
        message = says("shape", kernel_like, list(expected), context)
        assert "kernel's shape" in message, message
        assert "time axis:" not in message and "keeps the time axis" not in message
    if not flat and len(expected) == 2 and name != "Dense":
        message = says("shape", (None, timesteps, units), list(expected), context)
        assert "keeps the time axis" in message


@PROPERTY
@given(
    batch=st.integers(1, 64),
    rest=st.lists(st.integers(1, 40), min_size=1, max_size=2).map(tuple),
)
def test_a_fixed_batch_is_never_told_none(batch: int, rest: tuple) -> None:
    """Where the batch is a real number (a real array, a batch_shape), is a missing or None
    batch never told "None until data arrives", and never given the number?"""
    assume(len({batch, *rest}) == len(rest) + 1)  # no size stands for another
    expected = (batch, *rest)
    for wrong in (rest, (None, *rest)):
        if len(wrong) >= 1 and wrong != expected:
            message = says("shape", wrong, list(expected), {"timesteps": rest[0]})
            assert "None until data arrives" not in message
            assert "real" in message
            assert not re.search(rf"(size, |is |= ){batch}\b", message), message


def test_bidirectional_concat_is_never_told_batch_units() -> None:
    """Is a concat Bidirectional's output never described as (batch, units), and the two
    directions put on another axis named?"""
    context = judge_context("07q4")
    for answer in [(None, 2, 8), (None, 8, 2), (None, 10, 16), (None, 16, 1), (3, 16, 2)]:
        message = says("shape", answer, [None, 16], context)
        assert "(batch, units)" not in message, message
    assert "on a new axis of size 2" in judge("07q4", (None, 2, 8)).message
    assert "2 × units" in judge("07q4", (None, 10, 16)).message
    assert "on the time axis (20 = 2 × timesteps)" in judge("07q7", (None, 20, 8)).message


def judge_context(qid: str) -> dict[str, Any]:
    return QUESTIONS[qid]["context"]


def test_states_only_lists_are_told_about_states() -> None:
    """Is h alone, where the question asks for the states [h, c], told an LSTM has two
    states, never about return_state and the output?"""
    message = judge("07q10", [(None, 16)]).message
    assert "one state" in message and "two, h and c" in message
    assert "output only" not in message and "return_state" not in message
    # where the list does start with the output, the old message stays
    assert "is the output only" in judge("05q3", [(None, 16)]).message


@PROPERTY
@given(
    keys=st.lists(
        st.text("abcdefgh_", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
    ),
    data=st.data(),
)
def test_a_reversed_mapping_is_named(keys: list[str], data: st.DataObject) -> None:
    """Is a dict with its keys and values swapped told the mapping is reversed, and is no
    other dict told so?"""
    values = [key.upper() + "s" for key in keys]
    expected = dict(zip(keys, values, strict=True))
    reversed_ = {value: key for key, value in expected.items()}
    message = says("value", reversed_, expected, {})
    assert "mapping is reversed" in message and "Missing" not in message
    other = data.draw(st.sampled_from(keys))
    assert "reversed" not in says("value", {**expected, other: "zzz"}, expected, {})


# ===================================================================== counts off the patterns

DENSE_NO_BIAS = count_context(layer("Dense", units=16, use_bias=False), (None, 8))  # 128


class TestMoreCountRules:
    @pytest.mark.parametrize(
        ("qid", "answer", "phrases"),
        [
            ("02q4", 24, ["adds features and units", "features × units"]),
            ("02q3", 160, ["two bias vectors", "A Dense layer keeps one"]),
            ("02q3", 192, ["numbers the layer outputs for one sample", "(12 × 16)"]),
            ("07q5", 1408, ["one LSTM with 2 × units", "two copies"]),
            ("07q5", 960, ["In each direction", "two bias vectors"]),
            ("04q2", 104, ["no bias: use_bias=False"]),
            # a model's total: a layer left out, a frozen layer counted, timesteps as features
            ("08q3", 6400, ["leaves out the Dense(3) layer"]),
            ("08q3", 2427, ["leaves out the Embedding(500, 8) layer"]),
            ("08q3", 8283, ["timesteps (30) as the features of every LSTM layer"]),
            ("08q3", 6171, ["features of the Embedding(500, 8) layer's output"]),
            ("06q8", 208, ["leaves out the Dense(1) layer"]),
            ("06q8", 277, ["timesteps (12) as the features of the LSTM layer"]),
            ("06q8", 1013, ["frozen", "trainable=False"]),
            # a size solved from a count
            ("04q7", 40, ["4 × units", "width of W and U"]),
            ("04q7", 12, ["units = 12", "864 parameters, more than 640", "fewer units"]),
            ("06q5", 22, ["row the table does not need", "no extra row"]),
            ("06q5", 30, ["too large for input_dim"]),
        ],
        ids=repr,
    )
    def test_rule_fires(self, qid: str, answer: int, phrases: list[str]) -> None:
        """Is each count outside the recorded patterns named, with the question's blocks?"""
        message = judge(qid, answer).message
        for phrase in phrases:
            assert phrase in message, message

    def test_a_units_question_never_calls_units_a_count(self) -> None:
        """Is a units answer never told "too large for the count" or to write the formula?"""
        for answer in range(1, 80):
            if answer != 10:
                message = judge("04q7", answer).message
                assert "the count;" not in message and "for the count" not in message
                assert "term by term" not in message

    def test_model_fallback_names_each_layer(self) -> None:
        """Without a named slip, is a model's total told each layer's blocks and input?"""
        message = judge("08q3", 6000).message
        assert message.startswith("6000 is too small for this model's total.")
        for phrase in ["Embedding(500, 8)", "LSTM(16) on 8 features", "LSTM(8) on 16 features"]:
            assert phrase in message, message


@st.composite
def stacked_models(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """Embedding -> one or two recurrent layers -> Dense, with the model's ids input."""
    timesteps = draw(st.integers(2, 40))
    model = [
        layer("Embedding", input_dim=draw(st.integers(2, 300)), output_dim=draw(st.integers(1, 24)))
    ]
    depth = draw(st.integers(1, 2))
    for level in range(depth):
        config: dict[str, Any] = {"units": draw(st.integers(1, 24))}
        if level < depth - 1:
            config["return_sequences"] = True
        model.append(layer(draw(RECURRENT), **config))
    model.append(layer("Dense", units=draw(st.integers(1, 6))))
    input_shape = (None, timesteps)
    total = sum(row.params for row in shapes.stack_shapes(model, input_shape))
    return {"model": model, "input_shape": list(input_shape)}, total


@PROPERTY
@given(data=stacked_models(), answer=st.integers(0, 300_000))
def test_model_counts_name_left_out_layers_and_never_the_total(
    data: tuple[dict[str, Any], int], answer: int
) -> None:
    """For any Embedding-recurrent-Dense stack, is every layer left out of the total named
    (unless an earlier rule gives the same count), and does no message state the total?"""
    context, total = data
    rows = shapes.stack_shapes(context["model"], tuple(context["input_shape"]))
    for row in rows:
        first = mistakes.count_mistake(total - row.params, total, context)
        assert first, (row.class_name, total - row.params)
    assume(answer != total)
    message = says("int", answer, total, context)
    assert not re.search(rf"\b{total}\b", message), message
    assert "is not the count" not in message


# ===================================================================== arrays

LSTM_STEP_SLIPS = [
    ("h", "tanh_c", "left out the tanh on c_t"),
    ("h", "order", "TensorFlow 1's gate order, i, c, f, o"),
    ("c", "order", "TensorFlow 1's gate order, i, c, f, o"),
    ("h", "tanh_gates", "use the sigmoid (recurrent_activation), not tanh"),
    ("h", "recurrent", "recurrent term h_prev @ U"),
    ("c", "forget", "forget term f * c_prev"),
    ("c", "candidate", "uses tanh, not the sigmoid"),
    ("h", "bias", "leaves out the bias b"),
    ("c", "swap", "That is h_t, not c_t"),
]


def _lstm_step_variant(inputs: dict[str, np.ndarray], slip: str) -> dict[str, np.ndarray]:
    """One LSTM step with a classic slip, written out as a learner would (not with the
    library's code), to check the rule against an independent computation."""

    def sig(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    x_t, h, c_prev = inputs["x_t"], inputs["h_prev"], inputs["c_prev"]
    W, U, b = inputs["kernel"], inputs["recurrent_kernel"], inputs["bias"]
    u = U.shape[0]
    z = x_t @ W + (0 if slip == "recurrent" else h @ U) + (0 if slip == "bias" else b)
    order = "icfo" if slip == "order" else slip.removeprefix("order:") if ":" in slip else "ifco"
    block = {g: z[:, k * u : (k + 1) * u] for k, g in enumerate(order)}
    gate = np.tanh if slip == "tanh_gates" else sig
    cand = sig(block["c"]) if slip == "candidate" else np.tanh(block["c"])
    c = (0 if slip == "forget" else gate(block["f"]) * c_prev) + gate(block["i"]) * cand
    h_new = gate(block["o"]) * (c if slip == "tanh_c" else np.tanh(c))
    if slip == "swap":
        return {"h": c, "c": h_new}
    return {"h": h_new, "c": c}


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    units=st.integers(1, 4),
    features=st.integers(1, 4),
    case=st.sampled_from(LSTM_STEP_SLIPS),
)
def test_lstm_step_slips_are_named(seed: int, units: int, features: int, case: tuple) -> None:
    """For any weights, is each classic slip of a hand-computed LSTM step named (unless it
    gives the right numbers, or another slip's, for these weights)?"""
    which, slip, phrase = case
    rng = np.random.default_rng(seed)
    inputs = {
        "x_t": rng.normal(size=(1, features)),
        "h_prev": rng.normal(size=(1, units)),
        "c_prev": rng.normal(size=(1, units)),
        "kernel": rng.normal(scale=0.5, size=(features, 4 * units)),
        "recurrent_kernel": rng.normal(scale=0.5, size=(units, 4 * units)),
        "bias": rng.normal(scale=0.5, size=(4 * units,)),
    }
    context = {"twin": "lstm_step", "output": which, **{k: v.tolist() for k, v in inputs.items()}}
    right = _lstm_step_variant(inputs, "")[which]
    wrong = _lstm_step_variant(inputs, slip)[which]
    assume(not np.allclose(right, wrong, atol=1e-4))
    result = verdict("array", wrong, right.tolist(), context)
    assert result.correct is False
    first = mistakes.array_mistake(wrong, right, context)
    assume(first is not None and phrase in first or first is None)
    assert phrase in result.message, result.message
    assert verdict("array", right, right.tolist(), context).correct is True


@PROPERTY
@given(
    seed=st.integers(0, 10_000),
    units=st.integers(1, 4),
    order=st.sampled_from(sorted({"".join(p) for p in itertools.permutations("ifco")} - {"ifco"})),
    which=st.sampled_from(["h", "c"]),
)
def test_a_wrong_gate_order_is_named_without_keras_order(
    seed: int, units: int, order: str, which: str
) -> None:
    """Is an LSTM step computed in any wrong gate order told which blocks it misplaced,
    and sent to the chapter, without the message stating Keras's order i, f, c, o: which
    block is the forget gate is a question of its own (04 q4)?"""
    rng = np.random.default_rng(seed)
    inputs = {
        "x_t": rng.normal(size=(1, 3)),
        "h_prev": rng.normal(size=(1, units)),
        "c_prev": rng.normal(size=(1, units)),
        "kernel": rng.normal(scale=0.5, size=(3, 4 * units)),
        "recurrent_kernel": rng.normal(scale=0.5, size=(units, 4 * units)),
        "bias": rng.normal(scale=0.5, size=(4 * units,)),
    }
    context = {"twin": "lstm_step", "output": which, **{k: v.tolist() for k, v in inputs.items()}}
    right = _lstm_step_variant(inputs, "")[which]
    wrong = _lstm_step_variant(inputs, f"order:{order}")[which]
    assume(not np.allclose(right, wrong, atol=1e-4))
    first = mistakes.array_mistake(wrong, right, context)
    assume(first is not None and "order" in first)
    message = verdict("array", wrong, right.tolist(), context).message
    assert not re.search(r"i,\s*f,\s*c~?,\s*o", message), message
    assert "the order the chapter lists" in message
    misplaced = [g for g, keras in zip(order, "ifco", strict=True) if g != keras]
    if len(misplaced) == 2:
        assert "in each other's place" in message


@pytest.mark.parametrize(
    ("qid", "make", "phrase"),
    [
        ("02q6", lambda c: np.maximum(c["x"] @ c["kernel"], 0), "without the bias b"),
        ("02q6", lambda c: np.maximum(c["x"] @ c["kernel"] + c["bias"], 0).T, "(units, batch)"),
        (
            "03q6",
            lambda c: np.tanh(
                c["x"][:, 1] @ c["kernel"]
                + np.tanh(c["x"][:, 0] @ c["kernel"] + c["bias"]) @ c["recurrent_kernel"].T
                + c["bias"]
            ),
            "U transposed",
        ),
        (
            "06q4",
            lambda c: c["table"][c["ids"].astype(int)].mean(axis=1),
            "averages over the timesteps",
        ),
        ("06q4", lambda c: c["table"][c["ids"].astype(int).T], "ids transposed"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_array_slips_of_the_recorded_questions(qid: str, make: Any, phrase: str) -> None:
    """Are the classic slips of the recorded array questions named, from the inputs and
    weights their context records?"""
    context = {
        k: np.asarray(v) if isinstance(v, list) else v for k, v in judge_context(qid).items()
    }
    message = judge(qid, np.asarray(make(context), dtype=float)).message
    assert phrase in message, message


def test_array_fallback_says_how_entries_differ() -> None:
    """Without a named slip, is a wrong array told how it differs, never the values?"""
    expected = np.array([[0.25, -0.5, 0.75]])
    assert "wrong sign" in says("array", -expected, expected.tolist(), {})
    assert "2 times" in says("array", 2 * expected, expected.tolist(), {})
    assert "same amount" in says("array", expected + 0.1, expected.tolist(), {})
    assert "wrong places" in says("array", expected[:, ::-1], expected.tolist(), {})
    message = says("array", np.array([[0.25, 0.5, 0.9]]), expected.tolist(), {})
    assert "2 of 3 entries differ" in message and "0.75" not in message


# ===================================================================== credit and generic cases


def test_layer_shapes_name_right_parts_without_a_share() -> None:
    """Is a layer answer, judged whole, never told "(k of n)" while it earns nothing?"""
    result = judge("05q7", layer("LSTM", units=4, return_state=True))
    assert result.earned == 0.0 and " of 3)" not in result.message
    assert "The other parts are right: h, c." in result.message


def test_value_dicts_earn_per_key() -> None:
    """Does a dict earn one part per right value, out of the asked keys and the keys it
    adds, so that an added key never costs more than a wrong value?"""
    assert judge("09q5", {"input": "inputs", "output": "output"}).earned == 0.5
    assert judge("09q5", {"input": "input", "output": "output"}).earned == 0.0
    result = judge("09q1", {"units": 128, "activation": "sigmoid", "inner_activation": "x"})
    assert result.earned == pytest.approx(2 / 4)
    result = judge("09q1", {"units": 128, "activation": "sigmoid", "recurrent_activation": "x"})
    assert result.earned == pytest.approx(2 / 3)
    asked = {"units": 128, "activation": "sigmoid", "recurrent_activation": "hard_sigmoid"}
    with_a_default = judge("09q1", {**asked, "return_sequences": False})
    swapped = judge("09q1", {**asked, "activation": "hard_sigmoid", "recurrent_activation": "x"})
    assert not with_a_default.correct and "Not asked for: return_sequences" in (
        with_a_default.message
    )
    assert with_a_default.earned == pytest.approx(3 / 4)
    assert swapped.earned < with_a_default.earned
    assert judge("09q1", {"output_dim": 128, "inner_activation": "hard_sigmoid"}).earned == 0


def test_a_number_in_quotes_is_told_its_type() -> None:
    """Is "128" for units told that it is a string, as 128.0 is told it is a float?"""
    message = judge(
        "09q1", {"units": "128", "activation": "sigmoid", "recurrent_activation": "hard_sigmoid"}
    ).message
    assert "'128' is a string; the value must be the int 128" in message


@pytest.mark.parametrize(
    ("qid", "answer", "phrases"),
    [
        (
            "02q7",
            [layer("TimeDistributed", layer=layer("Dense", units=4, use_bias=False))],
            ["TimeDistributed is not needed", "already acts on every timestep"],
        ),
        ("03q7", layer("LSTM", units=7, return_state=True), ["return_state=True", "leave"]),
        (
            "05q6",
            [layer("LSTM", units=16, return_state=True), layer("LSTM", units=8)],
            ["return_state is not return_sequences"],
        ),
        (
            "05q7",
            layer("GRU", units=4, return_sequences=True, return_state=True),
            ["A GRU has no cell state c"],
        ),
        ("06q6", (None, 10, 32), ["shape going into the layer"]),
        ("09q6", (3, 4), ["puts the timesteps (3) where the batch axis goes"]),
        ("09q5", {"inputs": "input", "outputs": "output"}, ["mapping is reversed"]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_examiner_generic_cases_are_named(qid: str, answer: Any, phrases: list[str]) -> None:
    """Are the answers an examiner found told only generically now named?"""
    message = judge(qid, answer).message
    for phrase in phrases:
        assert phrase in message, message


GIVEAWAY_BANK: list[tuple[str, Any]] = [
    ("07q7", (None, 20, 8)),
    ("07q7", (None, 10, 5)),
    ("09q6", (3, 4)),
    ("09q6", (None, 4)),
    ("03q5", (None, 10, 1)),
    ("03q5", (10, 1)),
    ("07q4", (None, 2, 8)),
    ("06q2", (None, 4, 6, 50)),
    ("05q2", (None, 3, 16)),
    ("07q6", [(None, 8)] * 5),
    ("04q3", [(3, 6), (6, 24), (24,)]),
    ("04q3", [(5, 24), (6, 24), (24,)]),
    ("02q4", 24),
    ("04q7", 40),
    ("04q7", 9),
    ("08q3", 6000),
    ("06q8", 300),
]


def _wrong_axis_values(answer: Any, expected: Any) -> set[int]:
    """The expected sizes at the places where a shape (or list of shapes) is wrong."""
    if isinstance(expected, list) and expected and isinstance(expected[0], list):
        found: set[int] = set()
        for mine, theirs in zip(answer, expected, strict=False):
            found |= _wrong_axis_values(mine, theirs)
        return found
    if isinstance(expected, list) and isinstance(answer, tuple) and len(answer) == len(expected):
        return {e for a, e in zip(answer, expected, strict=True) if a != e and e is not None}
    return set()


@pytest.mark.parametrize(("qid", "answer"), GIVEAWAY_BANK, ids=repr)
def test_no_message_states_a_wrong_part_value(qid: str, answer: Any) -> None:
    """Does no message state the size a wrong axis should have ("= 16", "it is 2 here"), or
    a count's total, where that size or total is the answer?"""
    question = QUESTIONS[qid]
    message = judge(qid, answer).message
    expected = question["expected"]
    assert _spelled(expected) not in message, message
    if question["kind"] == "int":
        assert not re.search(rf"\b{expected}\b", message), message
    for value in _wrong_axis_values(answer, expected):
        assert not re.search(rf"(= |it is |size, |is ){value}\b", message), (value, message)


def test_model_messages_never_state_another_questions_total() -> None:
    """Is a model whose layers the prompt gives never told the total, the answer of the
    count question on the same model (08 q6 and 08 q3)?"""
    total = QUESTIONS["08q3"]["expected"]
    answer = [
        layer("Embedding", input_dim=8, output_dim=500),
        layer("LSTM", units=16, return_sequences=True),
        layer("LSTM", units=8, return_sequences=True),
        layer("Dense", units=3, activation="softmax"),
    ]
    message = judge("08q6", answer).message
    assert str(total) not in message and "more than the model" in message
    # an inverse question gives its count in the prompt: that one is still said
    assert "exactly 24" in judge("02q7", [layer("Dense", units=4)]).message


# --------------------------------------------------------------------------- review fixes


def test_a_dict_value_of_another_type_is_not_called_right() -> None:
    """The score of a dict compares each value with its type (128.0 is not 128, True is not
    1), so the message never calls such a value right: it names the type to use."""
    result = judge(
        "09q1", {"units": 128.0, "activation": "sigmoid", "recurrent_activation": "hard_sigmoid"}
    )
    assert result.score is not None and result.score < 1
    assert "units, activation and recurrent_activation are right" not in result.message
    assert "activation and recurrent_activation are right" in result.message
    assert "the int 128" in result.message
    message = mistakes.explain_value({"units": True}, {"units": 1}, {})
    assert "is right" not in message and "the int 1" in message
    message = mistakes.explain_value({"flag": 1}, {"flag": True}, {})
    assert "is right" not in message and "True" in message


def test_a_missing_old_keyword_is_not_said_to_keep_a_default() -> None:
    """09 q5 maps the old keywords input and output to their Keras 3 names: a dict keyed by
    other names misses keys the question gives, not options whose default Keras keeps."""
    message = judge("09q5", {"inputs": "inputs", "outputs": "outputs"}).message
    assert "default" not in message
    assert "input and output" in message and "keys" in message


INPUT_CONTEXT = {
    "role": "input",
    "layer": layer("SimpleRNN", units=4),
    "features": 1,
    "timesteps": 10,
}


def test_an_input_shape_names_its_axes_batch_timesteps_features() -> None:
    """A shape asked for as a layer's input (context ``role: "input"``) has a features axis,
    not a units axis: the layer's units are told as such, and a wrong length names
    (batch, timesteps, features)."""
    message = says("shape", (32, 10, 4), [32, 10, 1], INPUT_CONTEXT)
    assert "units axis" not in message and "4 is the layer's units" in message
    assert "the input's last axis is the features" in message
    message = says("shape", (32, 5, 2), [32, 10, 1], INPUT_CONTEXT)
    assert "units" not in message and "the features axis is wrong" in message
    message = says("shape", (32, 10, 1, 1), [32, 10, 1], INPUT_CONTEXT)
    assert "(batch, timesteps, features)" in message and "units" not in message
    message = says("shape", (32, 10), [32, 10, 1], {"role": "input"})
    assert "return_sequences" not in message and "features" in message


def test_an_embedding_output_of_rank_four_is_not_named_as_three_axes() -> None:
    """06 q2's ids are (None, 4, 6), so its output has four axes: the messages name four."""
    for answer in [(None, 4, 6), (None, 6, 8)]:
        message = judge("06q2", answer).message
        assert "(batch, timesteps, output_dim)" not in message, message
        assert "output_dim" in message


@pytest.mark.parametrize(
    ("qid", "answer"),
    [("05q2", (None, None, 16)), ("05q1", (None, None)), ("03q5", (None, 1, 10))],
)
def test_a_none_axis_is_told_in_plain_words(qid: str, answer: Any) -> None:
    """None written for a fixed axis is told as a size left open, not "None is None"."""
    message = judge(qid, answer).message
    assert "None is None" not in message and "placeholder)" not in message
    assert "None" in message and "open" in message


def test_an_all_zero_array_is_not_a_scale_slip() -> None:
    """Zeros are not "right up to a scale factor": the message says every entry is 0."""
    message = judge("03q6", np.zeros((1, 2))).message
    assert "scale factor" not in message and "0 times" not in message
    assert "every entry of your array is 0" in message.lower()


def test_a_near_miss_array_is_not_a_scale_slip_of_one() -> None:
    """An array 0.1% off is close but outside the tolerance: never "1 times the Keras
    value"; the message gives the largest difference."""
    expected = np.asarray(QUESTIONS["04q5_c"]["expected"])
    message = judge("04q5_c", expected * 1.001).message
    assert "1 times" not in message and "scale factor" not in message
    assert "close" in message and "largest difference" in message
    largest = float(np.max(np.abs(expected * 0.001)))
    assert f"{largest:.2g}" in message


@pytest.mark.parametrize("qid", ["03q6", "04q5_h", "04q5_c"])
@pytest.mark.parametrize("decimals", [2, 3, 4])
def test_an_array_copied_rounded_is_told_so_not_an_offset(qid: str, decimals: int) -> None:
    """The Keras value rounded (copied from a printout) is told that, with the number of
    decimals, never a constant offset or a scale, which the median of a few rounding
    errors would fit; a small real offset is still called close, not an added term."""
    expected = np.asarray(QUESTIONS[qid]["expected"])
    message = judge(qid, expected + 2e-4).message
    assert "close to the Keras value" in message and "same amount" not in message
    result = judge(qid, np.round(expected, decimals))
    if not result.correct:  # rounding to 4 decimals can stay within the tolerance
        assert f"rounded to {decimals} decimals" in result.message
        assert "same amount" not in result.message and "times the Keras" not in result.message


def test_gates_are_not_said_per_direction_for_a_one_directional_layer() -> None:
    """05 q1 is a plain LSTM: its 4 × units last axis is told without "per direction"."""
    message = judge("05q1", (None, 64)).message
    assert "4 blocks (three gates and the candidate)" in message and "per direction" not in message
    bidirectional = layer("Bidirectional", layer=layer("LSTM", units=16), merge_mode="sum")
    context = count_context(bidirectional, (None, 8, 3))
    assert "per direction" in says("shape", (None, 64), [None, 16], context)


def test_a_gru_units_question_states_the_gru_formula() -> None:
    """Solving a GRU's count for units: Keras 3's GRU (reset_after=True) has two biases per
    block, so the formula told has 2 × units, the one its count comes from."""
    context = {**GRU_CONTEXT, "solve_for": "units", "params": 360}
    message = says("int", 120, 8, context)
    assert "3 × (units × (units + features) + 2 × units) = 360" in message
    lstm = {**LSTM_CONTEXT, "solve_for": "units", "params": 1600}
    assert "4 × (units × (units + features) + units) = 1600" in says("int", 400, 16, lstm)


def test_layer_names_take_the_article_judging_gives() -> None:
    """One article rule for the whole library: the messages say "An LSTM", "A GRU",
    "A SimpleRNN" as before, from lstm_lib.judging.with_article (which also says "an RNN"),
    not from an article helper of the mistakes module's own."""
    assert not hasattr(mistakes, "_a")
    assert mistakes.with_article.__module__ == "lstm_lib.judging"
    assert "An LSTM's count is 4 blocks" in says("int", 12345, 1600, LSTM_CONTEXT)
    assert "A GRU's count is 3 blocks" in says("int", 12345, 360, GRU_CONTEXT)
    assert "A SimpleRNN's count is one block" in says("int", 12345, 400, RNN_CONTEXT)
    units = {**LSTM_CONTEXT, "solve_for": "units", "params": 1600}
    assert says("int", 21, 16, units).startswith("An LSTM with units = 21 on 8 features")


@pytest.mark.parametrize("recorded", [False, True])
def test_03_q5_is_judged_as_the_input_it_asks_for(recorded: bool) -> None:
    """03 q5 asks for the shape SimpleRNN(4) reads: its context says so (role "input"), so
    its axes are (batch, timesteps, features) and a 4 there is the layer's units misplaced,
    never a units axis of the wrong size."""
    context = QUESTIONS["03q5"]["context"]
    assert context["role"] == "input"
    assert context["layer"]["class_name"] == "SimpleRNN"
    assert context["layer"]["config"]["units"] == 4
    message = judge("03q5", (32, 10, 4), recorded).message
    assert "units axis" not in message and "4 is the layer's units" in message
    assert "the input's last axis is the features" in message
    for wrong_length in [(32, 10, 1, 1), (32, 1, 10, 1), (320, 1)]:
        message = judge("03q5", wrong_length, recorded).message
        assert "(batch, timesteps, features)" in message, message
        assert "units" not in message, message


def test_a_list_of_several_layers_outputs_is_not_told_about_states() -> None:
    """08 q5 asks for the outputs of two layers: is a wrong list told as that, never as a
    layer's output and states (return_state, "then the state h")?"""
    for answer, words in [
        ([(None, 30, 3), (None, 30, 16)], "The right shapes in the wrong order"),
        ([(None, 30, 16)], "The question asks for 2 shapes"),
    ]:
        message = judge("08q5", answer).message
        assert words in message
        assert "state" not in message and "return_state" not in message, message


def test_a_rounded_root_is_not_told_as_an_exact_solution() -> None:
    """04 q7 (units from a count): is 7, the nearest whole number to the root found with
    the timesteps as the features (588 against 640), told that it solves it about, not
    exactly; and 8, further off (704), told its own count instead of a slip it would need
    more rounding to show?"""
    message = judge("04q7", 7).message
    assert "That solves (about) the count with the timesteps" in message, message
    message = judge("04q7", 8).message
    assert "timesteps" not in message and "units = 8 on 5 features holds 448" in message


def test_a_simple_rnn_weight_is_never_said_to_hold_gates() -> None:
    """A SimpleRNN has no gates: are its transposed weights told as (features, units)?"""
    message = judge("03q4", [(16, 8), (16, 16), (16,)]).message
    assert "gate" not in message, message


def test_a_models_gru_is_counted_with_its_two_biases() -> None:
    """A model count told layer by layer: a GRU (reset_after=True, Keras 3's default) has
    two biases per block, so its term is written with + 2 × units."""
    model = [layer("GRU", units=8), layer("Dense", units=1)]
    context = {"model": model, "input_shape": [None, 10, 5]}
    expected = sum(row.params for row in shapes.stack_shapes(model, (None, 10, 5)))
    message = says("int", expected + 12_345, expected, context)
    assert "3 × (features × units + units × units + 2 × units)" in message, message


def test_a_sequence_of_outputs_is_not_called_one_state() -> None:
    """07 q10 asks for the states [h, c]; is the decoder's sequence (None, 9, 16) told it
    is a sequence of outputs, not "one state", which a lone (None, 16) still is?"""
    message = judge("07q10", [(None, 9, 16)]).message
    assert "time axis" in message and "one state" not in message
    assert "That is one state" in judge("07q10", [(None, 16)]).message


def test_a_count_two_confusions_give_alike_names_both() -> None:
    """06 q7's LSTM reads twice its units as features, so a bias sized by the input and
    PyTorch's two bias vectors give the same wrong count: are both confusions named?"""
    message = judge("06q7", 3200).message
    assert "sizes the bias by the input" in message, message
    assert "two bias vectors, as PyTorch stores them" in message, message


def test_several_options_left_out_are_told_in_the_plural() -> None:
    """09 q1 answered with an empty dict: are the two left-out activations told as them?"""
    message = judge("09q1", {}).message
    assert "Missing: activation and recurrent_activation (leaving them out keeps" in message


def test_where_a_name_from_elsewhere_comes_from_is_true_of_keras() -> None:
    """09 q5's message says where input_tensor is a keyword. Is it one of InputLayer and of
    keras.applications, and not of keras.Input (whose keyword is tensor), as said?"""
    import inspect

    from conftest import require_module

    keras = require_module("keras", "Keras (pip install .[keras])")
    where, _new = mistakes.NOT_KERAS["input_tensor"]
    assert where == "a keyword of keras.layers.InputLayer and keras.applications"
    assert "input_tensor" in inspect.signature(keras.layers.InputLayer).parameters
    assert "input_tensor" in inspect.signature(keras.applications.MobileNetV2).parameters
    assert "input_tensor" not in inspect.signature(keras.Input).parameters


@pytest.mark.parametrize("qid", ["02q6", "03q6", "04q5_h", "04q5_c"])
def test_an_array_of_another_shape_is_told_the_shape_its_prompt_states(qid: str) -> None:
    """These prompts state the array's shape, and their check cells told a wrong shape
    "should have shape (1, 2)" only where no verdict followed; the verdict (the grader's,
    and now the notebook's) said "not the shape of Keras's array" and left the learner
    to find the prompt again. Is the shape the prompt states said, and only there?"""
    question = _load_references()[qid]
    assert question["context"]["shape_in_prompt"] is True
    expected = np.asarray(question["expected"], dtype=float)
    answer = np.zeros((3, 3, 3))
    told = verdict("array", answer, question["expected"], question["context"]).message
    assert told.startswith(
        f"Your array has shape (3, 3, 3); the question asks for shape {expected.shape}."
    )
    unstated = {**question["context"], "shape_in_prompt": False}
    told = verdict("array", answer, question["expected"], unstated).message
    assert str(expected.shape) not in told


def test_a_models_layer_slip_reads_as_one_sentence() -> None:
    """08 q3 answered with the first LSTM reading the 30 timesteps as its features was told
    "In the LSTM(16) layer: That uses the timesteps (30) as the features", two sentences
    glued by a colon. Does it read as one, "In the LSTM(16) layer, that uses ..."?"""
    answer = 500 * 8 + 4 * (16 * (16 + 30) + 16) + 4 * (8 * (8 + 16) + 8) + 8 * 3 + 3
    message = judge("08q3", answer).message
    assert "In the LSTM(16) layer, that uses the timesteps (30) as the features" in message
    assert ": That" not in message


def test_a_state_of_another_rank_is_called_a_state() -> None:
    """07 q10 asks which tensors go into initial_state; the encoder's sequence written for h,
    (None, 12, 16), was told "this output has 2" axes, though q10 asks for no output. Is it
    told that a state has 2?"""
    message = judge("07q10", [(None, 12, 16), (None, 16)]).message
    assert "(None, 12, 16) has 3 axes; a state has 2: (batch, units)" in message, message
    assert "this output" not in message


class TestOneCountTwoReadings:
    """Where two misreadings give one count on any data of a kind, the count names both."""

    def test_counting_the_output_is_its_own_misreading(self) -> None:
        """Is a Dense count written as the numbers its output holds per sample (timesteps ×
        units) told so, and not that it counts two bias vectors (02 q3 on (batch, 10, 8),
        where both were 160)?"""
        context = count_context(layer("Dense", units=16), (None, 12, 8))
        said = mistakes.count_mistake(192, 144, context)
        assert said and "numbers the layer outputs for one sample" in said and "12 × 16" in said
        assert "two bias vectors" in str(mistakes.count_mistake(160, 144, context))
        # a Bidirectional's merged output is told whole, not as each direction's slip
        lstm = layer("LSTM", units=8, return_sequences=True)
        both = count_context(layer("Bidirectional", layer=lstm), (None, 12, 5))
        said = str(mistakes.count_mistake(192, 896, both))
        assert said.startswith("That counts the numbers") and "(12 × 16)" in said

    def test_an_lstm_with_units_twice_its_features_names_the_swap_and_two_blocks(self) -> None:
        """LSTM(16) on 8 features: units and features swapped, and 2 blocks of 4, both give
        800. Is 800 told both, and is the 2-block reading not listed again on its own?"""
        context = count_context(layer("LSTM", units=16), (None, 10, 8))
        said = str(mistakes.count_mistake(800, 1600, context))
        assert "swaps units and features" in said and "counts 2 blocks" in said
        assert [value for value, _ in mistakes.count_readings(1600, context)].count(800) == 1

    def test_a_dense_of_one_unit_names_a_second_bias_and_the_sum(self) -> None:
        """Dense(1) on 4 features: a second bias and features + units for features × units
        both add one. Is that count told both, once?"""
        context = count_context(layer("Dense", units=1), (None, 4))
        said = str(mistakes.count_mistake(6, 5, context))
        assert "two bias vectors" in said and "adds features and units" in said
        assert [value for value, _ in mistakes.count_readings(5, context)].count(6) == 1

    def test_a_bias_sized_by_the_input_is_one_reading_with_two_biases(self) -> None:
        """LSTM(16) on 32 features: a bias sized by the input and two bias vectors give one
        count; is it listed once, naming both?"""
        context = count_context(layer("LSTM", units=16), (None, 10, 32))
        readings = [m for v, m in mistakes.count_readings(3136, context) if v == 3200]
        assert len(readings) == 1 and "Or it counts two bias vectors" in readings[0]

    def test_two_layers_slips_that_give_one_total_are_both_named(self) -> None:
        """08 q3's 6027 is 3 blocks in the LSTM(16) layer and 2 in the LSTM(8) one: is the
        total told both layers' slips, and listed once?"""
        model = [
            layer("Embedding", input_dim=500, output_dim=8),
            layer("LSTM", units=16, return_sequences=True),
            layer("LSTM", units=8),
            layer("Dense", units=3, activation="softmax"),
        ]
        context = {"model": model, "input_shape": [None, 30]}
        said = str(mistakes.count_mistake(6027, 6427, context))
        assert "In the LSTM(16) layer" in said and "Or, in the LSTM(8) layer" in said
        assert [value for value, _ in mistakes.count_readings(6427, context)].count(6027) == 1


@pytest.mark.parametrize(
    ("qid", "answer", "phrases", "untrue"),
    [
        # the merged output of Bidirectional(LSTM(8)) is 2 × units wide, its states units
        ("07q4", (None, 5), ["output is 2 × units, not the 5 input features"], "is `units`"),
        ("07q4", (None, 10), ["last axis is 2 × units"], "is `units`"),
        (
            "07q6",
            [(16, None), (8, None), (8, None), (8, None), (8, None)],
            ["(batch, 2 × units). Tensors 2, 3, 4, 5", "orders the axes as (batch, units)."],
            "backward c): The right sizes in the wrong order: Keras orders the axes as "
            "(batch, 2 × units)",
        ),
        # Dense on a sequence keeps the time axis: the timesteps are a size of its output
        ("02q2", (None, 12, 12), ["the length of each sequence"], "not the size of"),
        # ids of shape (batch, 4, 6): 4 is axis 1, and the axis before the last is 6
        ("06q2", (None, 4, 6, 4), ["4 is the size of an axis of the ids"], "the timesteps"),
        ("06q2", (None, 4, 4, 8), ["(4 is the size of axis 1 of the ids)"], "the timesteps"),
        # return_sequences=True is what the question asks: the answer doubled the time axis
        ("05q2", (None, 8, 8, 16), ["writes the time axis twice"], "only the last step"),
        ("06q1", (None, 10, 10, 64), ["writes the time axis twice"], "has 4 axes"),
        # a batch size written with another slip: both told, and 32 is a batch size, not
        # the "2 × units" it happens to equal for LSTM(16)
        ("05q1", (32, 8, 16), ["keeps the time axis", "None, not 32."], "has 3 axes"),
        ("05q1", (32, 3), ["not the 3 input features", "None, not 32."], "2 × units"),
        ("05q1", (32, 12), ["32 is a batch size"], "2 × units"),
        ("05q1", (16, 8), ["timesteps", "None, not 16 (16 is the units)"], "units axis is wrong"),
        # no batch at all: the first size is output_dim, not a batch, and this is no input
        ("06q1", (64, 10), ["has 2 axes"], "is the Embedding's input"),
        ("08q1", (8, 30), ["has 2 axes"], "is the Embedding's input"),
        # 16 on 05 q2's time axis is LSTM(16)'s units, not the 2 × timesteps it equals; the
        # context records only the shape, so the units are not named (04 q6 asks for them)
        ("05q2", (None, 16, 16), ["(16 is not its size)"], "2 × timesteps"),
        ("04q6", (32, 10), ["None, not 32."], "32 is the units"),
        # a double is a reading of two directions only: Dense(16) has one
        ("02q1", (None, 32), ["32 is not its size"], "2 × units"),
    ],
    ids=[
        "07q4-features",
        "07q4-timesteps",
        "07q6-transposed",
        "02q2-timesteps",
        "06q2-last",
        "06q2-axis2",
        "05q2-twice",
        "06q1-twice",
        "05q1-batch-and-time",
        "05q1-batch-and-features",
        "05q1-batch-size",
        "05q1-units-first",
        "06q1-no-batch",
        "08q1-no-batch",
        "05q2-units-as-time",
        "04q6-units-not-named",
        "02q1-no-double",
    ],
)
def test_a_shape_message_is_true_of_the_question(
    qid: str, answer: Any, phrases: list[str], untrue: str
) -> None:
    """A learner's shapes, told something untrue of the question they answered: the merged
    output of a Bidirectional called `units` wide, its states' axes called (batch,
    2 × units), a Dense on a sequence told the timesteps are "not the size of the layer's
    output", ids of shape (batch, 4, 6) told 4 is the axis before the last, and a time axis
    written twice told it is "the shape with return_sequences=True" on a question that sets
    it. Is each told what is true of its question instead?"""
    message = judge(qid, answer).message
    for phrase in phrases:
        assert phrase in message, message
    assert untrue not in message, message


@pytest.mark.parametrize(
    ("shape", "phrase"),
    [((2, 3), "the shape of the ids"), ((5, 3), "the shape of the whole table")],
)
def test_a_lookup_of_the_ids_or_the_table_shape_is_told_so(shape: tuple, phrase: str) -> None:
    """06 q4 asks for Embedding(5, 3)'s output on ids of shape (2, 3): an array of the ids'
    shape was told "one axis fewer: something summed or averaged an axis away", a guess at a
    reduction no learner wrote. Is an array of the ids' shape, or of the table's, told that
    it is that shape and what the lookup returns instead?"""
    message = judge("06q4", np.zeros(shape)).message
    assert phrase in message, message
    assert "summed or averaged" not in message, message
