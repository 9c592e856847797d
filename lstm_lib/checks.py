"""Type-strict answer checks with feedback that names the mistake.

The exercises use this module in two places, with the same code:

* in the learner's kernel, where a test cell checks the *form* of an answer
  (:func:`expect_shape`, :func:`expect_int`, ...) and a "see it in Keras" cell
  compares the prediction with the value Keras computes live (:func:`reveal`);
* in the grader's own process, outside the learner's kernel, where
  :func:`verdict` compares the answer the kernel handed over as plain data
  (:func:`to_plain` / :func:`from_plain`) with the recorded reference.

Nothing here imports TensorFlow or matplotlib, so grading stays fast. Expected
values never live in this module: they are recorded from Keras next to the
instructor's material and passed in.
"""

from __future__ import annotations

import json
import math
import operator
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "RECORD_ENV",
    "answer_json",
    "AnswerError",
    "Verdict",
    "expect_array",
    "expect_choice",
    "expect_int",
    "expect_layer_specs",
    "expect_shape",
    "expect_shapes",
    "grade_answer",
    "from_plain",
    "keras_allowed",
    "reveal",
    "to_plain",
    "verdict",
]

#: When set to a file path, :func:`reveal` appends what Keras computed to that file
#: instead of judging the prediction: this is how reference values are recorded.
RECORD_ENV = "LSTM_COURSE_RECORD"

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
    """

    correct: bool
    message: str


# --------------------------------------------------------------------------- plain data


class _NotPlain(Exception):
    pass


def _type_name(value: Any) -> str:
    return type(value).__qualname__


def to_plain(value: Any) -> dict[str, Any]:
    """Encode an answer as tagged JSON-able data, accepting only exact built-in types.

    Look-alikes do not survive: a subclass of ``int`` or ``tuple``, an object whose
    ``__eq__`` always says yes, a NumPy scalar, all become ``{"t": "unsupported"}``.

    Parameters
    ----------
    value : Any
        The learner's answer.

    Returns
    -------
    dict
        ``{"t": <tag>, "v": <payload>}``; arrays also carry ``dtype`` and ``shape``.

    Examples
    --------
    >>> to_plain((None, 32))
    {'t': 'tuple', 'v': [{'t': 'none'}, {'t': 'int', 'v': 32}]}
    >>> to_plain(True)
    {'t': 'bool', 'v': True}
    >>> class Sneaky(int):
    ...     pass
    >>> to_plain(Sneaky(3))["t"]
    'unsupported'
    """
    try:
        return _encode(value, depth=0)
    except _NotPlain as exc:
        return {"t": "unsupported", "type": str(exc)}


def _encode(value: Any, depth: int) -> dict[str, Any]:
    if depth > 20:
        raise _NotPlain("nested too deeply")
    kind = type(value)  # exact types only: subclasses can override __eq__ and friends
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": value}
    if kind is float:
        return {"t": "float", "v": value}
    if kind is str:
        return {"t": "str", "v": value}
    if kind is tuple or kind is list:
        return {"t": kind.__name__, "v": [_encode(item, depth + 1) for item in value]}
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain("dict with non-string keys")
        return {"t": "dict", "v": {key: _encode(item, depth + 1) for key, item in value.items()}}
    if kind is np.ndarray:
        if value.dtype.kind not in "iuf":
            raise _NotPlain(f"ndarray of dtype {value.dtype}")
        return {
            "t": "ndarray",
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "v": value.astype(float).ravel().tolist()
            if value.dtype.kind == "f"
            else value.ravel().tolist(),
        }
    raise _NotPlain(_type_name(value))


def from_plain(data: Any) -> Any:
    """Decode what :func:`to_plain` produced, validating every tag.

    Raises ``ValueError`` on anything malformed, so data from an untrusted kernel
    cannot smuggle in an object of another type.

    Examples
    --------
    >>> from_plain(to_plain((None, 32)))
    (None, 32)
    """
    if not isinstance(data, dict) or type(data.get("t")) is not str:
        raise ValueError("malformed answer record")
    tag = data["t"]
    payload = data.get("v")
    if tag == "none":
        return None
    if tag == "bool" and type(payload) is bool:
        return payload
    if tag == "int" and type(payload) is int:
        return payload
    if tag == "float" and type(payload) in (int, float):
        if not _finite(payload):
            raise ValueError("NaN and infinity are not answers")
        return float(payload)
    if tag == "str" and type(payload) is str:
        return payload
    if tag in ("tuple", "list") and type(payload) is list:
        items = [from_plain(item) for item in payload]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and type(payload) is dict:
        return {str(key): from_plain(item) for key, item in payload.items()}
    if tag == "ndarray" and type(payload) is list:
        shape = data.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("malformed array shape")
        if not all(type(x) in (int, float) and _finite(x) for x in payload):
            raise ValueError("malformed array data (numbers only, all finite)")
        if math.prod(shape) != len(payload):
            raise ValueError("array data does not match its shape")
        return np.asarray(payload, dtype=float).reshape(shape)
    if tag == "unsupported":
        return _Unsupported(str(data.get("type", "object")))
    raise ValueError(f"malformed answer record (tag {tag!r})")


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float is no answer either
        return False


@dataclass(frozen=True)
class _Unsupported:
    """Stands for an answer whose type :func:`to_plain` refused."""

    type_name: str


def parse_answer_json(text: str) -> Any:
    """Parse an answer record's JSON text, refusing ``NaN`` and ``Infinity``.

    Examples
    --------
    >>> parse_answer_json('{"t": "int", "v": 3}')
    3
    """

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not an answer")

    return from_plain(json.loads(text, parse_constant=refuse))


# --------------------------------------------------------------------------- form checks


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
    lstm_lib.checks.AnswerError: [None, 32] is a list; write a shape as a tuple, e.g. (None, 32), as Keras prints it.
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
    lstm_lib.checks.AnswerError: A count is a plain int such as 32; got 32.0 (type float).
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
    from lstm_lib import shapes

    try:
        expect_layer_specs(answer)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    input_shape = tuple(context["input_shape"])
    try:
        rows = shapes.stack_shapes(answer, input_shape)
        if not rows:
            raise ValueError("it has no layer after its InputLayer.")
        output = _as_shape(rows[-1].output_shapes[0])
        params = sum(operator.index(row.params) for row in rows)
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict(False, f"This model does not build: {exc}")
    required = context.get("required_layers") or []
    classes = [row.class_name for row in rows]
    for class_name in required:
        if class_name not in classes:
            return Verdict(False, f"The specification asks for a {class_name} layer.")
    want_shape = _as_shape(expected["output_shape"])
    if output != want_shape:
        named = _shape_mistakes(output, want_shape, context)
        return Verdict(
            False, f"Your model outputs {output!r}, not {want_shape!r}. " + (named or "")
        )
    if "params" in expected and params != int(expected["params"]):
        return Verdict(
            False,
            f"Your model has {params} parameters; the specification asks "
            f"for exactly {int(expected['params'])}.",
        )
    return Verdict(True, f"Correct: outputs {output!r} with {params} parameters.")


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
        The learner's answer (decoded with :func:`from_plain` on the grader's side).
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


# --------------------------------------------------------------------------- kernel side


def keras_allowed() -> bool:
    """Whether a "see it in Keras" cell should run: not while nbgrader executes the notebook.

    nbgrader sets ``NBGRADER_EXECUTION`` when it autogrades or validates a notebook;
    grading must never pay for importing TensorFlow.

    Examples
    --------
    >>> isinstance(keras_allowed(), bool)
    True
    """
    return not os.environ.get("NBGRADER_EXECUTION")


def answer_json(value: Any) -> str:
    """Encode an answer for the grader: the JSON text of :func:`to_plain` (grading path only).

    The grader asks for it in the test cell's own execute request (as a
    ``user_expressions`` entry), so it reads the answer from that cell's reply and from
    nothing else: no display, print or background thread can stand in for it. The text
    is decoded type-strictly by :func:`parse_answer_json` in the grader's process.

    Examples
    --------
    >>> answer_json((None, 16))
    '{"t": "tuple", "v": [{"t": "none"}, {"t": "int", "v": 16}]}'
    """
    return json.dumps(to_plain(value), allow_nan=True)


def reveal(
    question: str,
    prediction: Any,
    actual: Any,
    *,
    kind: str,
    context: Mapping[str, Any] | None = None,
    mistakes: Sequence[Mapping[str, Any]] = (),
) -> Verdict | None:
    """Compare a prediction with the value Keras just computed, and print the verdict.

    Used by the "see it in Keras" cells after the learner has written a prediction.
    When the environment variable :data:`RECORD_ENV` names a file, nothing is judged:
    the Keras value, the kind, the context and the mistakes are recorded there as the
    question's reference (this is how ``references/*.json`` is made).

    Parameters
    ----------
    question : str
        The question id, e.g. ``"q3"``.
    prediction : Any
        The learner's answer.
    actual : Any
        What Keras produced, as plain Python data (a shape tuple, an int, an array...).
    kind, context, mistakes
        As for :func:`verdict`. A Keras layer in ``context["layer"]`` is stored as its
        spec.

    Returns
    -------
    Verdict or None
        None when recording.
    """
    context = _plain_context(context or {})
    record_path = os.environ.get(RECORD_ENV)
    if record_path:
        _append_record(record_path, question, kind, actual, context, mistakes)
        return None
    result = verdict(kind, prediction, actual, context, mistakes)
    mark = "✔" if result.correct else "✘"
    print(f"{mark} {question}: {result.message}")
    if not result.correct:
        print(f"  Keras says: {_show(actual)}")
    return result


def _show(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6)
    return repr(value)


def _plain_context(context: Mapping[str, Any]) -> dict[str, Any]:
    plain = dict(context)
    layer = plain.get("layer")
    if layer is not None and not isinstance(layer, dict):
        from lstm_lib import shapes

        plain["layer"] = shapes.layer_spec(layer)
    if plain.get("input_shape") is not None:
        plain["input_shape"] = list(plain["input_shape"])
    return plain


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def _append_record(
    path: str,
    question: str,
    kind: str,
    actual: Any,
    context: Mapping[str, Any],
    mistakes: Sequence[Mapping[str, Any]],
) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        data = {"questions": {}}
    data["questions"][question] = {
        "kind": kind,
        "expected": _jsonable(actual),
        "context": _jsonable(dict(context)),
        "mistakes": _jsonable([dict(m) for m in mistakes]),
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")


def grade_answer(question: str, value: Any) -> None:
    """Judge an answer against its recorded reference, in an instructor's own kernel.

    This is the line a hidden test region holds. The course's grader never runs it in a
    learner's kernel: it reads the line as a declaration and judges the answer in its
    own process. Run directly (``nbgrader validate`` on a notebook in ``solutions/``),
    it looks for ``references/<assignment>.json`` above the working folder, where
    ``<assignment>`` is the folder's name.

    Raises
    ------
    AnswerError
        If the answer is wrong, or no reference can be found.
    """
    if os.environ.get(RECORD_ENV):
        return  # the references are being recorded: there is nothing to compare with yet
    here = os.path.abspath(os.getcwd())
    assignment = os.path.basename(here)
    folder = here
    while True:
        candidate = os.path.join(folder, "references", f"{assignment}.json")
        if os.path.exists(candidate):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            raise AnswerError("reference values are only available to the grader")
        folder = parent
    with open(candidate, encoding="utf-8") as handle:
        entry = json.load(handle)["questions"][question]
    result = verdict(
        entry["kind"], value, entry["expected"], entry.get("context"), entry.get("mistakes", ())
    )
    if not result.correct:
        raise AnswerError(f"{question}: {result.message}")
