"""Verdicts: compare an answer with its recorded reference and name the mistake.

The grader calls :func:`verdict` in its own process, outside the learner's kernel, on
an answer decoded from the wire format (:mod:`lstm_lib.answers`), against the value
recorded from Keras in ``references/``. A verdict first checks the *form* of the
answer with the same type-strict checks a test cell runs in the learner's kernel
(:func:`expect_shape`, :func:`expect_int`, ...), telling a near miss (a shape written as a
string, a count as 16.0, an exception class for its name) exactly which form to use; then
its value. When the answer is wrong, :mod:`lstm_lib.mistakes` names the confusion behind
it from the question's context (the time axis kept or dropped, the bias or the recurrent
kernel left out of a count, ...), and a list of shapes earns credit per right part.

Nothing here imports TensorFlow or matplotlib, so grading stays fast. NumPy (and
:mod:`lstm_lib.mistakes`, which needs it) is imported only once an answer is judged:
a learner's kernel whose notebook uses no arrays runs the form checks without it.
Expected values never live in this module: they are recorded from Keras next to the
instructor's material and passed in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lstm_lib.answers import (
    _MAX_DEPTH,
    NESTED_TOO_DEEPLY,
    _as_said,
    _numpy_if_imported,
    _Unsupported,
    to_plain,
)

# the form checks and the verdict type live below both kinds of comparison; the
# public ones are this module's API too (lstm_lib.checks re-exports them from here)
from lstm_lib.judging import (
    _PLAIN_VALUES,
    LARGEST_INT,
    MAX_MESSAGE_CHARS,
    OVERSIZED_INT_MESSAGE,
    AnswerError,
    Verdict,
    _as_shape,
    _describe,
    _holds_oversized_int,
    _ignored_input_note,
    _int_problem,
    _is_numpy_scalar,
    _layer_spec_problem,
    _refused_item_message,
    _shape_problem,
    _shapes_problem,
    _steps,
    _string_shape_problem,
    expect_array,
    expect_choice,
    expect_int,
    expect_layer_spec,
    expect_layer_specs,
    expect_shape,
    expect_shapes,
    printable,
    sentence_start,
    shorten_message,
    with_article,
)

__all__ = [
    "ARRAY_ATOL",
    "ARRAY_RTOL",
    "KINDS",
    "LARGEST_INT",
    "MAX_MESSAGE_CHARS",
    "OVERSIZED_INT_MESSAGE",
    "AnswerError",
    "Verdict",
    "expect_array",
    "expect_choice",
    "expect_int",
    "expect_layer_spec",
    "expect_layer_specs",
    "expect_shape",
    "expect_shapes",
    "expect_value",
    "names_mistake",
    "printable",
    "sentence_start",
    "shorten_message",
    "unreadable_answer",
    "verdict",
    "with_article",
]

#: Tolerance for arrays, the same as the tests of the NumPy twins against Keras.
ARRAY_RTOL = 1e-5
ARRAY_ATOL = 1e-5

#: The form check of each kind of answer that has one (a choice is checked with its options).
_FORM_CHECKS: dict[str, Callable[[Any], None]] = {
    "int": expect_int,
    "shape": expect_shape,
    "shapes": expect_shapes,
    "array": expect_array,
    "model": expect_layer_specs,
}


def _form_is_right(kind: str, value: Any, context: Mapping[str, Any]) -> bool:
    """Whether an answer passes its kind's form check, the check a test cell runs first:
    only then may a recorded mistake's explanation speak for it, in the notebook (which
    opens a sealed explanation) and in the grader alike."""
    check = _FORM_CHECKS.get(kind)
    try:
        if kind == "choice":
            expect_choice(value, context.get("options") or [])
        elif check is not None:
            check(value)
    except AnswerError:
        return False
    return True


_EXCEPTION_SUFFIXES = ("Error", "Exception", "Warning")


def _name_near_miss(answer: str, expected: str) -> str | None:
    """A name written with extra decoration: "TypeError()", "builtins.TypeError", ..."""
    core = answer.strip().strip("'\"")
    for prefix in ("<class '", "builtins.", "keras.", "exceptions."):
        core = core.removeprefix(prefix)
    core = core.removesuffix("'>").removesuffix("()").split(":")[0].split("(")[0].strip()
    if answer != expected and answer.strip() == expected:
        return f"Write the name without spaces around it: {expected!r}."
    if answer != expected and core == expected:
        return (
            f"Write just the class's name as a plain string, {expected!r}: no quotes inside "
            "it, no module, no parentheses and no message."
        )
    if answer != expected and core.lower() == expected.lower():
        return (
            "Python names are case-sensitive: write the class's name with its capitals, "
            "as Python spells it (exception classes are written in CamelCase)."
        )
    return None


def _value_form(answer: Any, expected: Any) -> str | None:
    """A value question's answer of the wrong type, with the type to use."""
    if type(expected) is str and type(answer) is str:
        return _name_near_miss(answer, expected)
    if type(expected) is str:
        return f"Answer with a string, e.g. {'KeyError'!r}; got {_describe(answer)}."
    if type(expected) is dict and type(answer) is not dict:
        return _dict_form(answer, expected)
    if type(expected) is int and type(answer) is not int:
        return _int_problem(answer)
    if type(expected) is bool and type(answer) is not bool:
        return f"Answer with True or False; got {_describe(answer)}."
    if type(expected) is list and type(answer) is tuple:
        return f"Write it as a list, [...] rather than (...): {list(answer)!r}."
    return None


def _dict_form(answer: Any, expected: dict[Any, Any]) -> str:
    """What to write instead of ``answer`` where a dict is asked: a dict of keyword
    arguments, or, where every key the question gives is an old Keras name (09 q5's
    ``{"input": ..., "output": ...}``), a table from each old keyword to its new name.

    The example is the question's own first key, never another question's answer: a
    table's message showing ``{'units': 8}`` told a learner what ``output_dim`` became.

    Examples
    --------
    >>> print(_dict_form("inputs", {"input": "..."}))
    Answer with a dict from each old keyword the question names to its Keras 3 name, as a string, e.g. {'input': ...}; got 'inputs' (type str).
    """  # noqa: E501
    from lstm_lib.mistakes import KERAS3_NAMES  # NumPy, read only for a slip of this form

    if expected and all(type(key) is str and key in KERAS3_NAMES for key in expected):
        return (
            "Answer with a dict from each old keyword the question names to its Keras 3 "
            f"name, as a string, e.g. {{{next(iter(expected))!r}: ...}}; got {_describe(answer)}."
        )
    return (
        "Answer with a dict of keyword arguments, from each name to its value, e.g. "
        f"{{'units': 8}}; got {_describe(answer)}."
    )


def expect_value(value: Any, example: Any) -> None:
    """Check that a value question's answer is plain data of the type of ``example``.

    A value question's answer is exact plain data, judged whole: a dict of keyword
    arguments, or a name as a string. ``example`` is any value of the asked type, never
    the answer (a check cell's source is the learner's to read).

    Parameters
    ----------
    value : Any
        The learner's answer.
    example : Any
        A value of the type the question asks for, e.g. ``{"units": 8}`` or ``"KeyError"``.

    Raises
    ------
    AnswerError
        If the answer is of another type; the message is the grader's (see :func:`verdict`).

    Examples
    --------
    >>> expect_value({"units": 128}, {"units": 8})
    >>> expect_value("units=128", {"units": 8})
    Traceback (most recent call last):
    ...
    lstm_lib.judging.AnswerError: Answer with a dict of keyword arguments, from each name to its value, e.g. {'units': 8}; got 'units=128' (type str).
    """  # noqa: E501
    if type(value) is type(example):
        return  # what a value of the right type holds is judged with its value
    problem = _value_form(value, example)
    if problem:
        raise AnswerError(problem)


def _unsupported_message(answer: _Unsupported, expected: Any, kind: str = "value") -> str:
    """An object the wire format refused; a class where its name is expected is named, and
    a refused item inside the answer is told where it sits."""
    if kind == "array" and not _is_numpy_scalar(answer):
        # tuple(...) around a shape object makes no array
        answer = dataclasses.replace(answer, convert=None)
    if kind == "array" and not answer.at and answer.convert:
        # a NumPy scalar where an array is asked: converting it would not help. The
        # array's shape is not named: where a prompt leaves it out, it is part of the question.
        return (
            f"Your answer is one number (a NumPy {shorten_message(answer.type_name, 40)}); "
            "the question asks for an array. A sum, mean or indexing may have reduced it."
        )
    if kind == "int" and not answer.at and answer.convert == "float":
        # float(...) would make a float, which a count is not either: a count is an int
        answer = dataclasses.replace(answer, convert="int")
    if kind == "array" and not answer.at and _is_tensor_name(answer.type_name):
        # what a Keras layer, keras.ops or TensorFlow returns: the learner computed with Keras
        return (
            f"Your answer is a tensor (type {shorten_message(answer.type_name, 40)}), not a "
            "NumPy array: make it one with keras.ops.convert_to_numpy(...), or np.asarray(...)."
        )
    if kind in ("model", "layer_shapes", "value") and not answer.convert:
        told = _layer_object_message(answer, kind)
        if told:
            return told
    located = _refused_item_message(answer)
    if located:
        return located
    name = answer.type_name
    if name == NESTED_TOO_DEEPLY:
        # no type to name: a list appended to itself nests without end
        return (
            f"Your answer nests containers more than {_MAX_DEPTH} deep, or holds itself (as a "
            f"list appended to itself does); {_PLAIN_VALUES}"
        )
    if type(expected) is str and (name == "type" or name.endswith(_EXCEPTION_SUFFIXES)):
        what = "an exception class" if name == "type" else f"a {name} object"
        return (
            f"Your answer is {what}, not its name: write the class's name as a string, "
            'in quotes, e.g. "KeyError".'
        )
    if name == "matrix":
        return "Your answer is a NumPy matrix; make it an array with np.asarray(...)."
    return f"Your answer is {_describe(answer)}; {_PLAIN_VALUES}"


def _is_tensor_name(name: str) -> bool:
    """Whether a refused object's type is a tensor or a variable of Keras or TensorFlow
    (``EagerTensor``, ``Variable``, ``ResourceVariable``), which converts to an array.

    Examples
    --------
    >>> _is_tensor_name("EagerTensor"), _is_tensor_name("Variable"), _is_tensor_name("range")
    (True, True, False)
    """
    return name.endswith(("Tensor", "Variable"))


def _layer_object_message(answer: _Unsupported, kind: str) -> str | None:
    """What to write instead of a Python object in a layer or model answer: a Keras layer
    where a layer dict belongs, or a function (an activation) where its name belongs. Keras
    takes both, so "plain values" alone would not say what to write instead."""
    if answer.type_name == NESTED_TOO_DEEPLY:
        return None
    name = shorten_message(answer.type_name, 80)
    if answer.at and answer.at[-1][0] == "dict" and "activation" in str(answer.at[-1][1]):
        where = _steps(answer.at)
        return (
            f"{where[:1].upper()}{where[1:]} of your {answer.at[0][0]} is an object of type "
            f"{name}. Keras takes a function there, but an answer is plain data: write the "
            "activation by its name, as a string such as 'tanh'."
        )
    if kind == "value":
        return None  # a dict of keyword arguments holds no layer
    layer_slot = (
        not answer.at
        or answer.at[-1] == ("dict", "layer")
        or (len(answer.at) == 1 and answer.at[0][0] == "list" and kind == "model")
    )
    if not layer_slot:
        return None
    located = (
        _refused_item_message(answer) or f"Your answer is {_describe(answer)}; {_PLAIN_VALUES}"
    )
    return (
        f"{located} A Keras layer is written as a layer dict, "
        '{"class_name": ..., "config": {...}}, as keras.layers.serialize(layer) writes it.'
    )


# --------------------------------------------------------------------------- verdicts


def _compare_shape(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    problem = _shape_problem(answer)
    if problem and type(answer) is str:
        problem = _string_shape_problem(answer, many=False) or problem
    if problem:
        return Verdict(False, problem)
    expected = _as_shape(expected)
    if answer == expected:
        return Verdict(True, f"Correct: {expected!r}.")
    from lstm_lib import mistakes  # and NumPy: only once a wrong answer is explained

    return Verdict(False, mistakes.explain_shape(answer, expected, context))


def _parts(
    answer: list[tuple], expected: list[tuple], context: Mapping[str, Any], credit: bool = True
) -> tuple[str, int]:
    """The message on a list of shapes and how many of its parts are right.

    A list of another length earns nothing: the number of tensors (return_state, a GRU's
    missing c, Bidirectional's five) or of weight arrays is itself what these questions ask,
    so no alignment of a shorter or longer list is credited. A list of the right length
    earns one part per shape in its right place (the right shapes in another order too),
    except a square kernel that is right only because every kernel is transposed (see
    :func:`lstm_lib.mistakes.coincidental_parts`). Without ``credit`` (a question judged
    whole) the right parts are still named, without a share ("k of n").
    """
    from lstm_lib import mistakes

    whole = mistakes.list_mistake(answer, expected, context)
    if len(answer) != len(expected):
        return whole or "", 0
    coincidental = mistakes.coincidental_parts(answer, expected, context)
    right = [
        i
        for i, (mine, theirs) in enumerate(zip(answer, expected, strict=True))
        if mine == theirs and i not in coincidental
    ]
    roles = context.get("roles") if isinstance(context.get("roles"), list) else []
    parts = context.get("parts") if isinstance(context.get("parts"), list) else []

    def part_context(i: int) -> Mapping[str, Any]:
        # the tensors of different layers read different inputs: a Dense after an LSTM(16)
        # reads 16 features where the LSTM read 8, and a part is explained with its own
        extra = parts[i] if i < len(parts) and isinstance(parts[i], Mapping) else {}
        return {**context, **extra} if extra else context

    def role(i: int) -> str:
        return str(roles[i]) if i < len(roles) else ("the output" if i == 0 else "a state")

    noun = "Array" if mistakes.facts(context).weights else "Tensor"
    lines = [whole] if whole else []
    # counted from 1, as said aloud, as every other message counts items and layers
    if not whole:
        # parts wrong the same way (four states of the same wrong shape) get one line
        groups: dict[tuple, list[int]] = {}
        for i in range(len(expected)):
            if i not in right:
                key = (answer[i], expected[i], repr(part_context(i) if parts else None))
                groups.setdefault(key, []).append(i)
        for indices in groups.values():
            first = indices[0]
            where = (
                f"{noun} {first + 1} ({role(first)})"
                if len(indices) == 1
                else f"{noun}s {', '.join(str(i + 1) for i in indices)} "
                f"({', '.join(role(i) for i in indices)})"
            )
            explained = mistakes.explain_shape(
                answer[first], expected[first], part_context(first), role(first)
            )
            lines.append(f"{where}: {explained}")
    if right and len(right) < len(expected):
        names = ", ".join(role(i) for i in right)
        share = f" ({len(right)} of {len(expected)})" if credit else ""
        # after a message on the whole list (reordered), "the other parts" would be none
        lead = "In the right place" if whole else "The other parts are right"
        lines.append(f"{lead}: {names}{share}.")
    for i in sorted(coincidental):
        lines.append(
            f"{sentence_start(role(i))} matches only because a square matrix "
            f"transposed keeps its shape {answer[i]!r}, so it earns nothing here."
        )
    return " ".join(lines), len(right)


def _compare_shapes(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    problem = _shapes_problem(answer)
    if problem:
        return Verdict(False, problem)
    expected = [_as_shape(shape) for shape in expected]
    if answer == expected:
        return Verdict(True, "Correct: " + ", ".join(map(repr, expected)) + ".")
    from lstm_lib import mistakes

    context = mistakes.weight_facts(context, expected)
    message, right = _parts(answer, expected, context)
    return Verdict(False, message, right / len(expected) if expected else 0.0)


def _compare_int(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    problem = _int_problem(answer)
    if problem:
        return Verdict(False, problem)
    if answer == int(expected):
        return Verdict(True, f"Correct: {int(expected)}.")
    from lstm_lib import mistakes

    return Verdict(False, mistakes.explain_count(answer, int(expected), context))


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
    """An array within the tolerance; a wrong one (of any shape) is explained by
    :func:`lstm_lib.mistakes.explain_array`, which recomputes the classic slips from the
    inputs and weights in the context."""
    import numpy as np

    from lstm_lib import mistakes
    from lstm_lib.mistakes import tolerance_text

    expected = np.asarray(expected, dtype=float)
    try:
        expect_array(answer)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    if answer.shape == expected.shape and np.allclose(
        answer, expected, rtol=ARRAY_RTOL, atol=ARRAY_ATOL
    ):
        return Verdict(
            True, f"Correct, within the tolerance ({tolerance_text(ARRAY_RTOL, ARRAY_ATOL)})."
        )
    return Verdict(False, mistakes.explain_array(answer, expected, context, ARRAY_RTOL, ARRAY_ATOL))


def _compare_model(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    from lstm_lib.model_verdicts import compare_model  # and NumPy: only for a model question

    return compare_model(answer, expected, context)


def _compare_layer_shapes(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """An inverse question: the answer is a layer spec whose outputs must have these shapes.

    The layer is judged whole, as a model is: one choice of class and flags makes every
    returned tensor, so a layer with some of them right earns nothing, and its message names
    the right tensors without a share. Its class must be one of the context's
    ``required_layers`` and, for a wrapper, the layers it wraps one of ``wrapped_layers``,
    when the question names them: another class can return the same shapes. The number of
    tensors is told by the flag or class that sets it (return_state, a GRU's missing c), not
    as a list the learner wrote.
    """
    from lstm_lib import shapes

    problem = _layer_spec_problem(answer)  # the check cell's form check, expect_layer_spec
    if problem:
        return Verdict(False, problem)
    try:
        produced = [
            _as_shape(shape)
            for shape in shapes.output_shapes(answer, tuple(context["input_shape"]))
        ]
    except shapes.UnsupportedLayerError as exc:
        # a layer of a class no question uses (Conv1D, stacked cells): first, that it is not
        # the class asked for, which is all a verdict can say of it
        wrong_class = _class_problem(answer, context)
        told_by_shapes = answer["class_name"] in shapes._GONE_LAYERS or exc.recased is not None
        if wrong_class and not told_by_shapes:
            return wrong_class
        return Verdict(False, f"This layer cannot be judged here: {exc}")
    except shapes.FlagNotBoolError as exc:
        return Verdict(False, f"This layer is not judged as written: {exc}")
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict(False, f"This layer does not build on this input: {exc}")
    wanted = [_as_shape(shape) for shape in expected]
    listed = ", ".join(map(repr, produced))
    if produced == wanted:
        written = answer.get("config") if isinstance(answer.get("config"), dict) else {}
        ignored = [key for key in shapes._ANY_LAYER_LEGACY if key in written]
        note = (
            f" {_ignored_input_note(ignored[0])}"
            if ignored and answer["class_name"] != "Embedding"
            else ""
        )
        from lstm_lib.model_verdicts import cudnn_only_problem

        parts = [("Your layer", written)] + [
            (f"Your layer's {key}", part["config"])
            for key in ("layer", "backward_layer")
            if type(part := written.get(key)) is dict and type(part.get("config")) is dict
        ]
        cudnn = next(filter(None, (cudnn_only_problem(*part) for part in parts)), None)
        return (
            _class_problem(answer, context)
            or (Verdict(False, cudnn) if cudnn else None)
            or Verdict(True, f"Correct: this layer returns {listed}.{note}")
        )
    from lstm_lib.model_verdicts import layer_shapes_problem

    # the learner's layer, not the question's, made these shapes: its own options tell why
    wrong_class = _class_problem(answer, context)
    message = _tensor_count_problem(answer, produced, wanted, context) or ""
    required = context.get("required_layers") or []
    if wrong_class and required and answer["class_name"] not in required:
        # another class altogether: its sizes are beside the point, its number of tensors not
        return Verdict(
            False, f"Your layer returns {listed}. {wrong_class.message} {message}".strip()
        )
    if not message and answer["class_name"] not in shapes._LAYERS_WITH_UNITS:
        # a Dropout, a Flatten...: no option of it could make the widths asked
        return Verdict(
            False,
            f"Your layer returns {listed}. {sentence_start(with_article(answer['class_name']))} "
            "has no units: what it "
            "returns follows from its input alone. The shapes asked come from a layer with "
            "units.",
        )
    told = layer_shapes_problem(answer, produced, wanted, context) if not message else None
    if told:
        roles = context.get("roles") if isinstance(context.get("roles"), list) else []
        right = [
            str(roles[i]) for i in range(min(len(roles), len(wanted))) if produced[i] == wanted[i]
        ]
        message = f"{told} The other parts are right: {', '.join(right)}." if right else told
    if not message:
        judged = {key: value for key, value in context.items() if key != "layer"}
        message, _ = _parts(produced, wanted, judged, credit=False)
        if len(produced) != len(wanted) and "your list" in message:
            # the learner wrote a layer, not a list of shapes
            message = f"It returns {len(produced)} tensors; the question asks for {len(wanted)}."
    if wrong_class:
        message = f"{message} {wrong_class.message}"
    return Verdict(False, f"Your layer returns {listed}. {message.strip()}".strip())


def _class_problem(answer: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict | None:
    """A layer of another class than the question asks for (which may return the same
    shapes: a Bidirectional SimpleRNN summed, for one LSTM), or None."""
    required = context.get("required_layers") or []
    if required and answer["class_name"] not in required:
        return Verdict(
            False,
            f"The question asks for {with_article(' or '.join(required))} layer; "
            f"yours is {with_article(answer['class_name'])}.",
        )
    wrapped = context.get("wrapped_layers") or []
    config = answer.get("config")
    inner = [
        part["class_name"]
        for key in ("layer", "backward_layer")
        if type(config) is dict
        and type(part := config.get(key)) is dict
        and type(part.get("class_name")) is str
    ]
    if wrapped and (not inner or any(name not in wrapped for name in inner)):
        around = f"around {' and '.join(map(with_article, inner))}" if inner else "around no layer"
        return Verdict(
            False,
            f"The question asks for {with_article(answer['class_name'])} around "
            f"{with_article(' or '.join(wrapped))} layer; yours is {around}.",
        )
    return None


def _tensor_count_problem(
    answer: Mapping[str, Any], produced: list[tuple], wanted: list[tuple], context: Mapping
) -> str | None:
    """Why a layer returns another number of tensors than asked, by its class and flags."""
    from lstm_lib import shapes

    if len(produced) == len(wanted):
        return None
    name = answer["class_name"]
    config = answer.get("config") or {}
    wrapped = name == "Bidirectional" and isinstance(config.get("layer"), Mapping)
    if wrapped:
        name, config = config["layer"]["class_name"], config["layer"].get("config") or {}
        if answer.get("config", {}).get("merge_mode", "concat") is None:
            return (
                "merge_mode=None returns the forward and backward outputs as two tensors, "
                "before the states; the question asks for one merged output."
            )
    roles = [str(role).lower() for role in context.get("roles") or []]
    wants_c = any(role.split()[-1:] == ["c"] for role in roles)
    states = config.get("return_state", False)
    if name not in shapes._RECURRENT_GATES:
        return (
            f"{sentence_start(with_article(name))} returns one tensor; the "
            f"question asks for {len(wanted)}, an output and the final states that a recurrent "
            "layer returns with return_state=True."
            if len(wanted) > 1 and len(produced) == 1
            else None
        )
    if wrapped and states:
        backward = answer.get("config", {}).get("backward_layer")
        behind = backward.get("class_name") if isinstance(backward, Mapping) else name
        ahead_states, behind_states = ("h and c" if n == "LSTM" else "h" for n in (name, behind))
        said = (
            "A Bidirectional returns its merged output, then both directions' states "
            f"(forward {ahead_states}, then backward {behind_states}): {len(produced)} "
            f"tensors, where the question asks for {len(wanted)}."
        )
        return f"{said} Leave return_state off for the output alone." if len(wanted) == 1 else said
    if len(wanted) == 1 and states:
        return (
            "return_state=True makes the layer return its final states after the output "
            f"({'h and c' if name == 'LSTM' else 'h'}); the question asks for the output alone, "
            "so leave return_state off."
        )
    if len(wanted) > 1 and not states:
        return (
            "Without return_state=True the layer returns its output only; the question asks "
            "for the final states after it."
        )
    if wants_c and name in ("GRU", "SimpleRNN"):
        return (
            f"A {name} has no cell state c: with "
            "return_state=True it returns [output, h]. The output, h and c the question asks "
            "for come from an LSTM, the layer with two states."
        )
    if not wants_c and name == "LSTM" and roles:
        return (
            "An LSTM returns two states, h and c, after its output; the question asks for one "
            "state, h, as a GRU or a SimpleRNN returns."
        )
    return None


def _compare_value(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """Exact comparison of plain data (bools, strings, dicts of them).

    A dict is judged per key: it earns one part per expected key whose value is right, out
    of the expected keys and the keys it adds. A key it adds costs a part even when Keras
    would accept it, since which keys the question asks for is itself what these questions
    teach (``units``, not ``output_dim``), but it never costs more than a wrong value does.
    """
    if to_plain(answer) == to_plain(expected):
        return Verdict(True, f"Correct: {answer!r}.")
    from lstm_lib import mistakes

    form = _value_form(answer, expected)
    message = form or mistakes.explain_value(answer, expected, context)
    score = None
    if form is None and type(answer) is dict and type(expected) is dict and expected:
        right = sum(
            key in answer and to_plain(answer[key]) == to_plain(expected[key]) for key in expected
        )
        score = right / len(set(answer) | set(expected))
    return Verdict(False, message, score)


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
    explain: Callable[[Any], str | None] | None = None,
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
        ``features`` and ``timesteps`` for shapes, ``roles`` for lists of shapes (and
        ``parts``, one dict per shape that overrides the context for it, where the shapes
        are of layers that read different inputs),
        ``options`` for choices (see :func:`lstm_lib.mistakes.facts`); for an
        ``"array"`` question, ``shape_in_prompt`` when the prompt states the array's shape
        (a wrong shape is then told it); for a ``"layer_shapes"`` or ``"model"``
        question, ``required_layers`` (the classes the question asks for) and, for a
        wrapper, ``wrapped_layers`` (the classes it may wrap).
    mistakes : sequence of mappings, optional
        Recorded wrong answers, each ``{"value": ..., "message": ...}``, that name a
        confusion specific to this question; they are tried before the general rules of
        :mod:`lstm_lib.mistakes`.
    explain : callable, optional
        ``explain(answer)``: a recorded mistake's explanation of a wrong answer of the
        right form that none of ``mistakes`` names, or None; the answer is the one judged
        (an RNN around a cell read as its layer). A practice notebook opens its sealed
        explanations so (:func:`lstm_lib.sealed.unseal`), which match an answer as
        :func:`names_mistake` does, so the notebook names the mistake the grader names.

    Returns
    -------
    Verdict
        For ``"shapes"``, a wrong list of the right length has ``score``, the fraction of
        its shapes that are right; for a ``"value"`` dict, a wrong dict has its right
        values' share of the expected keys and the keys it adds.
        ``"layer_shapes"`` and ``"model"`` answers are judged whole, an ``RNN`` around one
        cell as the layer it equals (see :func:`lstm_lib.shapes.as_recurrent_layer`), with
        a note that says so. An answer holding
        an ``int`` past :data:`LARGEST_INT` is told :data:`OVERSIZED_INT_MESSAGE` on any
        kind, and every message is cut to :data:`MAX_MESSAGE_CHARS`.

    Examples
    --------
    >>> verdict("shape", (None, 10, 32), [None, 32]).message.split(":")[0]
    '(None, 10, 32) keeps the time axis'
    >>> verdict("int", 32, 32).correct
    True
    >>> verdict("shapes", [(None, 16), (None, 8)], [[None, 16], [None, 16]],
    ...         {"roles": ["output", "h"]}).score
    0.5
    """
    if kind not in _COMPARERS:
        raise ValueError(f"unknown question kind {kind!r}; expected one of {KINDS}")
    context = dict(context or {})
    if isinstance(answer, _Unsupported):
        return Verdict(False, _unsupported_message(answer, expected, kind))
    if _holds_oversized_int(answer):
        return Verdict(False, OVERSIZED_INT_MESSAGE)
    answer, cell_note = _cells_as_layers(kind, answer)
    result = _COMPARERS[kind](answer, expected, context)
    # a recorded mistake in another form ([None, 16] for the shape (None, 16)) is told its
    # form first, as the test cell's form check tells it in the notebook
    if not result.correct and _form_is_right(kind, answer, context):
        encoded: list[Any] = []  # the answer's plain form, made once for every mistake
        for mistake in mistakes:
            if _matches(answer, mistake.get("value"), encoded):
                result = Verdict(False, str(mistake.get("message", result.message)), result.score)
                break
        else:
            told = explain(answer) if explain is not None else None
            if told:
                result = Verdict(False, told, result.score)
    if cell_note:
        result = Verdict(result.correct, f"{result.message} {cell_note}", result.score)
    return result


def _cells_as_layers(kind: str, answer: Any) -> tuple[Any, str]:
    """A layer answer with each RNN around one cell read as the layer it equals, and a
    note saying so (the messages then speak of that layer)."""
    if kind not in ("layer_shapes", "model"):
        return answer, ""
    from lstm_lib import shapes

    if kind == "layer_shapes":
        answer, cells = shapes.as_recurrent_layer(answer)
    elif type(answer) is list:
        rewritten = [shapes.as_recurrent_layer(layer) for layer in answer]
        answer = [layer for layer, _ in rewritten]
        cells = tuple(cell for _, found in rewritten for cell in found)
    else:
        cells = ()
    if not cells:
        return answer, ""
    named = ", ".join(
        f"an RNN around {with_article(cell)} as the {shapes._CELL_LAYERS[cell]} layer it equals"
        for cell in dict.fromkeys(cells)
    )
    return answer, f"(Judged {named}: the same weights and the same outputs.)"


def unreadable_answer(reason: object) -> Verdict:
    """The verdict on an answer the wire format cannot carry (a NaN or an infinity in it,
    which :func:`~lstm_lib.answers.parse_answer_json` refuses): no answer, so no point.
    The grader gives it to the answer a kernel hands over, and a practice notebook's check
    to the answer it reads the same way.

    Examples
    --------
    >>> unreadable_answer("NaN and infinity are not answers").message
    'The answer could not be read as plain data (NaN and infinity are not answers).'
    """
    return Verdict(False, f"The answer could not be read as plain data ({reason}).")


def names_mistake(kind: str | None, answer: Any, recorded: Any) -> bool:
    """Whether the grader tells ``answer`` the explanation recorded for ``recorded``.

    A question's recorded mistake names an array within the tolerance, a string without
    case or extra spaces, anything else as exactly the same plain data (a recorded list
    standing for a tuple); a choice question's wrong option names only itself, written
    exactly as offered.

    Parameters
    ----------
    kind : str or None
        The question's kind, one of :data:`KINDS` (None for any but ``"choice"``).
    answer : Any
        The learner's answer, as the grader reads it.
    recorded : Any
        The recorded mistake's value (or the wrong option), as JSON data.

    Examples
    --------
    >>> names_mistake("shape", (None, 16), [None, 16]), names_mistake("choice", "B", "b")
    (True, False)
    """
    if kind == "choice":
        return type(answer) is str and answer == recorded
    return _matches(answer, recorded, [])


def _matches(answer: Any, recorded: Any, encoded: list[Any]) -> bool:
    """Whether an answer is a recorded mistake: arrays within tolerance, the rest exactly,
    as plain data (``encoded`` keeps the answer's, made at the first call: an answer near
    the size cap took 0.1 s to encode, once per recorded mistake)."""
    numpy = _numpy_if_imported()
    if type(answer) is str and type(recorded) is str:
        # 'No exception' is the recorded 'no exception' however it is capitalised or spaced
        return _as_said(answer) == _as_said(recorded)
    if numpy is not None and type(answer) is numpy.ndarray:
        try:
            value = numpy.asarray(recorded, dtype=float)
        except (TypeError, ValueError):
            return False
        return value.shape == answer.shape and bool(
            numpy.allclose(answer, value, rtol=ARRAY_RTOL, atol=ARRAY_ATOL)
        )
    if not encoded:
        encoded.append(to_plain(answer))
    return to_plain(_coerce_like(recorded, answer)) == encoded[0]


def _coerce_like(recorded: Any, answer: Any) -> Any:
    """Recorded JSON has lists where the answer has tuples: give it the answer's form, at
    every depth (a layer dict's ``(10, 8)`` inside a model's list is recorded ``[10, 8]``).

    Examples
    --------
    >>> _coerce_like([None, [None, 2]], (None, (None, 2)))
    (None, (None, 2))
    """
    if isinstance(recorded, list) and type(answer) in (tuple, list):
        items = [
            _coerce_like(item, sub)
            for item, sub in zip(recorded, list(answer) + [None] * len(recorded), strict=False)
        ]
        return tuple(items) if type(answer) is tuple else items
    if isinstance(recorded, dict) and type(answer) is dict:
        return {key: _coerce_like(item, answer.get(key)) for key, item in recorded.items()}
    return recorded
