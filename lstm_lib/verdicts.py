"""Verdicts: compare an answer with its recorded reference and name the mistake.

The grader calls :func:`verdict` in its own process, outside the learner's kernel, on
an answer decoded from the wire format (:mod:`lstm_lib.answers`), against the value
recorded from Keras in ``references/``. A verdict first checks the *form* of the
answer with the same type-strict checks a test cell runs in the learner's kernel
(:func:`expect_shape`, :func:`expect_int`, ...), then its value, and when the answer is
wrong it names the classic confusion behind it (the time axis kept or dropped, the bias
or the recurrent kernel left out of a count, ...).

Nothing here imports TensorFlow or matplotlib, so grading stays fast. Expected values
never live in this module: they are recorded from Keras next to the instructor's
material and passed in.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_lib.answers import _type_name, _Unsupported, to_plain

__all__ = [
    "ARRAY_ATOL",
    "ARRAY_RTOL",
    "KINDS",
    "AnswerError",
    "Verdict",
    "expect_array",
    "expect_choice",
    "expect_int",
    "expect_layer_specs",
    "expect_shape",
    "expect_shapes",
    "verdict",
]

#: Tolerance for arrays, the same as the tests of the NumPy twins against Keras.
ARRAY_RTOL = 1e-5
ARRAY_ATOL = 1e-5


class AnswerError(AssertionError):
    """An answer has the wrong form or value; the message says what to change.

    It subclasses ``AssertionError`` so nbgrader counts it as a failed test.
    """


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one answer with its expected value.

    Attributes
    ----------
    correct : bool
        Whether the answer earns the question's points.
    message : str
        Feedback a learner can act on; names the confusion when it recognises one.
    score : float, optional
        For a question with parts (h and c, a list of shapes), the fraction of the parts
        that are right; ``None`` where the answer is judged whole (see :attr:`earned`).
    """

    correct: bool
    message: str
    score: float | None = None

    @property
    def earned(self) -> float:
        """The fraction of the question's points earned, from 0 to 1: ``score`` where a
        question gives credit per part, else 1 when correct and 0 when not."""
        if self.score is not None:
            return self.score
        return 1.0 if self.correct else 0.0


# --------------------------------------------------------------------------- form checks
# A test cell runs these in the learner's kernel (re-exported by lstm_lib.checks); each
# verdict runs them first, so a wrong form gets the same message in both places.


def _describe(value: Any) -> str:
    if isinstance(value, _Unsupported):
        return f"an object of type {value.type_name}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (type {_type_name(value)})"


def _is_plain_int(value: Any) -> bool:
    return type(value) is int


def _shape_problem(value: Any) -> str | None:
    if type(value) is list and all(_is_plain_int(n) or n is None for n in value):
        return (
            f"{value!r} is a list; write a shape as a tuple, "
            f"e.g. {tuple(value)!r}, as Keras prints it."
        )
    if type(value) is not tuple:
        return f"A shape is a tuple such as (None, 10, 32); got {_describe(value)}."
    for n in value:
        if not (n is None or _is_plain_int(n)):
            hint = " Convert it with int(...)." if isinstance(n, np.integer) else ""
            return (
                "Each entry of a shape is a plain int or None (for the batch axis); "
                f"{_describe(n)} is neither.{hint}"
            )
        if _is_plain_int(n) and n < 0:
            return f"Sizes are never negative; got {n} in {value!r}."
    return None


def expect_shape(value: Any) -> None:
    """Check that an answer is a shape: a tuple of plain ints or ``None``.

    Parameters
    ----------
    value : Any
        The learner's answer, e.g. ``(None, 10, 32)`` for ``(batch, timesteps, units)``.

    Raises
    ------
    AnswerError
        If it is not a tuple of plain ints and ``None``; the message says how to fix it.

    Examples
    --------
    >>> expect_shape((None, 32))
    >>> expect_shape([None, 32])
    Traceback (most recent call last):
    ...
    lstm_lib.verdicts.AnswerError: [None, 32] is a list; write a shape as a tuple, e.g. (None, 32), as Keras prints it.
    """  # noqa: E501
    problem = _shape_problem(value)
    if problem:
        raise AnswerError(problem)


def expect_shapes(value: Any) -> None:
    """Check that an answer is a list of shapes, one per tensor a layer returns.

    Examples
    --------
    >>> expect_shapes([(None, 4), (None, 4), (None, 4)])
    """
    if type(value) is not list:
        raise AnswerError(
            "Write the shapes as a list, one tuple per returned tensor, in Keras's order, "
            f"e.g. [(None, 4), (None, 4)]; got {_describe(value)}."
        )
    for index, shape in enumerate(value):
        problem = _shape_problem(shape)
        if problem:
            raise AnswerError(f"Item {index} of your list: {problem}")


def expect_int(value: Any) -> None:
    """Check that an answer is a plain ``int`` (not a bool, float or NumPy integer).

    Examples
    --------
    >>> expect_int(32)
    >>> expect_int(32.0)
    Traceback (most recent call last):
    ...
    lstm_lib.verdicts.AnswerError: A count is a plain int such as 32; got 32.0 (type float).
    """
    if not _is_plain_int(value):
        hint = " Convert it with int(...)." if isinstance(value, np.integer) else ""
        raise AnswerError(f"A count is a plain int such as 32; got {_describe(value)}.{hint}")


def expect_choice(value: Any, options: Sequence[str]) -> None:
    """Check that an answer is one of the offered options (a string).

    Examples
    --------
    >>> expect_choice("b", ["a", "b", "c"])
    """
    if type(value) is not str or value not in options:
        listed = ", ".join(repr(option) for option in options)
        raise AnswerError(f"Answer with one of {listed}; got {_describe(value)}.")


def expect_array(value: Any, shape: tuple[int, ...] | None = None) -> None:
    """Check that an answer is a NumPy array of numbers, of the given shape if one is given.

    Examples
    --------
    >>> expect_array(np.zeros((1, 2)), shape=(1, 2))
    """
    if type(value) is not np.ndarray or value.dtype.kind not in "iuf":
        raise AnswerError(f"Answer with a NumPy array of numbers; got {_describe(value)}.")
    if shape is not None and value.shape != tuple(shape):
        raise AnswerError(
            f"This array should have shape {tuple(shape)}; yours has shape {value.shape}."
        )
    if not np.all(np.isfinite(value)):
        raise AnswerError("Your array contains NaN or infinity; every entry should be finite.")


def expect_layer_specs(value: Any) -> None:
    """Check that an answer is a model specification: a list of layer dicts.

    Each dict has a ``"class_name"`` (e.g. ``"LSTM"``) and a ``"config"`` dict with the
    options that differ from Keras's defaults, as ``keras.layers.serialize`` writes them.

    Examples
    --------
    >>> expect_layer_specs([{"class_name": "LSTM", "config": {"units": 8}}])
    """
    if type(value) is not list or not value:
        raise AnswerError(
            "Describe the model as a list of layer dicts, e.g. "
            '[{"class_name": "LSTM", "config": {"units": 8}}]; '
            f"got {_describe(value)}."
        )
    for index, spec in enumerate(value):
        if type(spec) is not dict or type(spec.get("class_name")) is not str:
            raise AnswerError(
                f"Layer {index} should be a dict with a 'class_name' string; got {_describe(spec)}."
            )
        if type(spec.get("config", {})) is not dict:
            raise AnswerError(f"Layer {index}: 'config' should be a dict.")


# --------------------------------------------------------------------------- diagnosis


def _shape_mistakes(answer: tuple, expected: tuple, context: Mapping[str, Any]) -> str | None:
    """Name the classic confusions between two shapes, or return None."""
    if len(answer) == len(expected) + 1 and len(expected) >= 2:
        if answer[:1] + answer[2:] == expected:
            return (
                f"{answer!r} keeps the time axis: that is the shape with "
                "`return_sequences=True`. This layer returns only the last step, "
                f"so the answer is (batch, units)-shaped."
            )
    if len(answer) + 1 == len(expected) and len(expected) >= 3:
        if expected[:1] + expected[2:] == answer:
            return (
                f"{answer!r} drops the time axis, but `return_sequences=True` returns "
                "the output at every step: (batch, timesteps, units)."
            )
    if answer == expected[1:]:
        return (
            f"{answer!r} leaves out the batch axis. Keras shapes start with the batch "
            "size, which is None until data arrives."
        )
    if len(answer) == len(expected) and answer[1:] == expected[1:]:
        if expected[0] is None and answer[0] is not None:
            return (
                f"The first entry is the batch size, which the model does not fix: "
                f"Keras writes it as None, so {expected[0]!r} rather than {answer[0]!r}."
            )
    if len(answer) == len(expected) and answer[:-1] == expected[:-1]:
        features = context.get("features")
        if features is not None and answer[-1] == features and expected[-1] != features:
            return (
                f"The last axis of the output is `units`, not the {features} input "
                "features: each of the layer's units produces one number per step."
            )
        timesteps = context.get("timesteps")
        if timesteps is not None and answer[-1] == timesteps:
            return (
                "The last axis is `units`; the number of timesteps is an axis of the "
                "input, not the size of the layer's output."
            )
    if len(answer) == len(expected) and sorted(map(str, answer)) == sorted(map(str, expected)):
        return f"The right sizes in the wrong order: Keras orders the axes as {_axes(expected)}."
    return None


def _axes(shape: tuple) -> str:
    return "(batch, timesteps, units)" if len(shape) == 3 else "(batch, ..., last axis)"


def _count_mistakes(answer: int, expected: int, context: Mapping[str, Any]) -> str | None:
    """Name the classic parameter-count confusions, from the layer spec in the context."""
    layer = context.get("layer")
    input_shape = context.get("input_shape")
    if layer is None or input_shape is None:
        return None
    from lstm_lib import shapes  # a sibling module; NumPy only

    input_shape = tuple(input_shape)
    spec = shapes.layer_spec(layer)
    name = spec["class_name"]
    config = spec["config"]
    inner = config.get("layer") if name in ("Bidirectional", "TimeDistributed") else None

    def count(variant: Mapping[str, Any]) -> int | None:
        try:
            return shapes.count_params(variant, input_shape)
        except (ValueError, KeyError, TypeError):
            return None

    def with_config(**changes: Any) -> dict[str, Any]:
        return {"class_name": name, "config": {**config, **changes}}

    candidates: list[tuple[int | None, str]] = []
    if name == "Bidirectional" and inner is not None:
        candidates.append(
            (
                count(inner),
                "That counts one direction only: Bidirectional holds two copies of the layer, "
                "a forward and a backward one, so the count doubles.",
            )
        )
    if name == "GRU":
        flipped = not config.get("reset_after", True)
        candidates.append(
            (
                count(with_config(reset_after=flipped)),
                "That is the count for `reset_after="
                f"{flipped}`. With reset_after={not flipped}, GRU keeps "
                + (
                    "two bias vectors (input and recurrent), 2 × 3 × units biases."
                    if not flipped
                    else "a single bias vector of 3 × units."
                ),
            )
        )
    gates = {"LSTM": 4, "GRU": 3}.get(name)
    if gates and expected % gates == 0:
        candidates.append(
            (
                expected // gates,
                f"That is the count for one gate. {name} has {gates} gated blocks, each with "
                f"its own kernel, recurrent kernel and bias: multiply by {gates}.",
            )
        )
    # the blocks Keras stores, from shapes: "you left out X" is the total without X
    try:
        terms = shapes.param_terms(spec, input_shape)
    except (ValueError, KeyError, TypeError):
        terms = {}
    if terms.get("bias"):
        candidates.append(
            (
                expected - terms["bias"],
                "That leaves out the bias: each unit (and each gate) has one bias term "
                "when use_bias=True, the default"
                + (
                    " (a GRU with reset_after=True has two: input and recurrent)."
                    if name == "GRU" and config.get("reset_after", True)
                    else "."
                ),
            )
        )
    timesteps = input_shape[1] if len(input_shape) >= 3 else None
    if name in ("SimpleRNN", "LSTM", "GRU") and timesteps:
        candidates.append(
            (
                expected * timesteps,
                "The number of timesteps does not change the parameter count: the same "
                "weights are reused at every step.",
            )
        )
    if terms.get("recurrent_kernel"):
        candidates.append(
            (
                expected - terms["recurrent_kernel"],
                "That leaves out the recurrent kernel U (units × units per gate): a "
                "recurrent layer also weighs its previous output h(t-1).",
            )
        )
    for value, message in candidates:
        if value is not None and value == answer and value != expected:
            return message
    return None


def _shapes_list_mistakes(answer: list, expected: list, context: Mapping[str, Any]) -> str | None:
    if len(answer) != len(expected):
        if len(expected) > 1 and len(answer) == 1:
            return (
                "With `return_state=True` the layer returns the output followed by its final "
                f"state(s): {len(expected)} tensors here, not one."
            )
        return (
            f"This call returns {len(expected)} tensor(s), in Keras's order "
            "(the output first, then the states); your list has "
            f"{len(answer)}."
        )
    for index, (mine, theirs) in enumerate(zip(answer, expected, strict=True)):
        if mine != theirs:
            named = _shape_mistakes(mine, theirs, context)
            prefix = f"Tensor {index} ({_tensor_role(index, context)}): "
            return prefix + (named or f"{mine!r} is not its shape.")
    return None


def _tensor_role(index: int, context: Mapping[str, Any]) -> str:
    roles = context.get("roles")
    if isinstance(roles, list) and index < len(roles):
        return str(roles[index])
    return "the output" if index == 0 else "a state"


# --------------------------------------------------------------------------- verdicts


def _compare_shape(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    problem = _shape_problem(answer)
    if problem:
        return Verdict(False, problem)
    expected = _as_shape(expected)
    if answer == expected:
        return Verdict(True, f"Correct: {expected!r}.")
    return Verdict(
        False,
        _shape_mistakes(answer, expected, context)
        or f"{answer!r} is not the shape this layer returns; check each axis.",
    )


def _as_shape(value: Any) -> tuple:
    return tuple(None if n is None else operator.index(n) for n in value)


def _compare_shapes(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    try:
        expect_shapes(answer)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    expected = [_as_shape(shape) for shape in expected]
    if answer == expected:
        return Verdict(True, "Correct: " + ", ".join(map(repr, expected)) + ".")
    return Verdict(
        False,
        _shapes_list_mistakes(answer, expected, context)
        or "These are not the shapes this call returns.",
    )


def _compare_int(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    try:
        expect_int(answer)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    if answer == int(expected):
        return Verdict(True, f"Correct: {int(expected)}.")
    noun = context.get("noun", "count")
    hint = "; write the formula out term by term" if noun == "count" else ""
    return Verdict(
        False,
        _count_mistakes(answer, int(expected), context) or f"{answer} is not the {noun}{hint}.",
    )


def _compare_choice(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    options = context.get("options") or [expected]
    try:
        expect_choice(answer, options)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    if answer == expected:
        return Verdict(True, f"Correct: {expected!r}.")
    why = (context.get("why_not") or {}).get(answer)
    return Verdict(False, why or f"{answer!r} is not the right choice.")


def _compare_array(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    expected = np.asarray(expected, dtype=float)
    try:
        expect_array(answer, shape=expected.shape)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    if np.allclose(answer, expected, rtol=ARRAY_RTOL, atol=ARRAY_ATOL):
        return Verdict(True, "Correct, within 1e-5.")
    worst = int(np.argmax(np.abs(np.asarray(answer, dtype=float) - expected)))
    index = np.unravel_index(worst, expected.shape)
    return Verdict(
        False,
        f"Not within 1e-5 of the Keras value; the largest difference is at "
        f"index {tuple(int(i) for i in index)}.",
    )


def _compare_model(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    from lstm_lib.model_verdicts import compare_model  # imports this module

    return compare_model(answer, expected, context)


def _compare_layer_shapes(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """An inverse question: the answer is a layer spec whose outputs must have these shapes."""
    from lstm_lib import shapes

    if type(answer) is not dict or type(answer.get("class_name")) is not str:
        return Verdict(
            False,
            "Describe the layer as a dict, e.g. "
            '{"class_name": "LSTM", "config": {"units": 8}}; '
            f"got {_describe(answer)}.",
        )
    required = context.get("required_layers") or []
    if required and answer["class_name"] not in required:
        return Verdict(
            False,
            f"The question asks for a {' or '.join(required)} layer; "
            f"yours is a {answer['class_name']}.",
        )
    try:
        produced = [
            _as_shape(shape)
            for shape in shapes.output_shapes(answer, tuple(context["input_shape"]))
        ]
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict(False, f"This layer does not build on this input: {exc}")
    wanted = [_as_shape(shape) for shape in expected]
    listed = ", ".join(map(repr, produced))
    if produced == wanted:
        return Verdict(True, f"Correct: this layer returns {listed}.")
    named = _shapes_list_mistakes(produced, wanted, context)
    return Verdict(False, f"Your layer returns {listed}. " + (named or ""))


def _compare_value(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """Exact comparison of plain data (bools, strings, dicts of them)."""
    if to_plain(answer) == to_plain(expected):
        return Verdict(True, f"Correct: {answer!r}.")
    return Verdict(False, f"{_describe(answer)} is not the answer.")


_COMPARERS: dict[str, Callable[[Any, Any, Mapping[str, Any]], Verdict]] = {
    "shape": _compare_shape,
    "shapes": _compare_shapes,
    "int": _compare_int,
    "choice": _compare_choice,
    "array": _compare_array,
    "model": _compare_model,
    "layer_shapes": _compare_layer_shapes,
    "value": _compare_value,
}

#: The kinds of question :func:`verdict` understands.
KINDS = tuple(_COMPARERS)


def verdict(
    kind: str,
    answer: Any,
    expected: Any,
    context: Mapping[str, Any] | None = None,
    mistakes: Sequence[Mapping[str, Any]] = (),
) -> Verdict:
    """Compare an answer with the expected value and say what is wrong, if anything.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`: ``"shape"``, ``"shapes"`` (a list of shapes),
        ``"int"``, ``"choice"``, ``"array"``, ``"model"`` (a list of layer specs),
        ``"layer_shapes"`` (a layer spec that must produce the expected shapes) or
        ``"value"`` (exact plain data).
    answer : Any
        The learner's answer (decoded with :func:`~lstm_lib.answers.from_plain` on the
        grader's side).
    expected : Any
        The value recorded from Keras, as JSON data.
    context : mapping, optional
        What the diagnosis may use: the ``layer`` spec and ``input_shape`` for counts,
        ``features`` and ``timesteps`` for shapes, ``options`` for choices.
    mistakes : sequence of mappings, optional
        Recorded wrong answers, each ``{"value": ..., "message": ...}``, that name a
        confusion specific to this question.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> verdict("shape", (None, 10, 32), [None, 32]).message.split(":")[0]
    '(None, 10, 32) keeps the time axis'
    >>> verdict("int", 32, 32).correct
    True
    """
    if kind not in _COMPARERS:
        raise ValueError(f"unknown question kind {kind!r}; expected one of {KINDS}")
    context = dict(context or {})
    if isinstance(answer, _Unsupported):
        return Verdict(
            False,
            f"Your answer is {_describe(answer)}; answer with plain Python "
            "values (tuples, ints, lists, dicts) or a NumPy array.",
        )
    result = _COMPARERS[kind](answer, expected, context)
    if result.correct:
        return result
    for mistake in mistakes:
        if _matches(answer, mistake.get("value")):
            return Verdict(False, str(mistake.get("message", result.message)))
    return result


def _matches(answer: Any, recorded: Any) -> bool:
    """Whether an answer is a recorded mistake: arrays within tolerance, the rest exactly."""
    if type(answer) is np.ndarray:
        try:
            value = np.asarray(recorded, dtype=float)
        except (TypeError, ValueError):
            return False
        return value.shape == answer.shape and bool(
            np.allclose(answer, value, rtol=ARRAY_RTOL, atol=ARRAY_ATOL)
        )
    return to_plain(_coerce_like(recorded, answer)) == to_plain(answer)


def _coerce_like(recorded: Any, answer: Any) -> Any:
    """Recorded JSON has lists where the answer has tuples: give it the answer's form."""
    if type(answer) is tuple and isinstance(recorded, list):
        return tuple(_coerce_like(item, None) for item in recorded)
    if type(answer) is list and isinstance(recorded, list):
        return [
            _coerce_like(item, sub)
            for item, sub in zip(recorded, answer + [None] * len(recorded), strict=False)
        ]
    return recorded
