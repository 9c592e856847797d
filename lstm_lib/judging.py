"""Judging's shared vocabulary: the form checks an answer must pass, the error they raise
and the verdict a comparison returns.

A test cell runs the form checks (:func:`expect_shape`, :func:`expect_int`, ...) in the
learner's kernel, re-exported by :mod:`lstm_lib.checks`; the grader's comparisons
(:mod:`lstm_lib.verdicts`, and :mod:`lstm_lib.model_verdicts` for model questions) run
the same checks first, so a wrong form gets the same message in both places. Both build
their :class:`Verdict` from here, and neither imports the other's internals through a
loop. Nothing here imports NumPy: it is looked up only if the learner's code imported it.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lstm_lib.answers import _numpy_if_imported, _type_name, _Unsupported

__all__ = [
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
    "printable",
    "sentence_start",
    "shorten_message",
    "with_article",
]


class AnswerError(AssertionError):
    """An answer has the wrong form or value; the message says what to change.

    It subclasses ``AssertionError`` so nbgrader counts it as a failed test. In Jupyter it
    shows as its one-line message: the traceback through the course's code would only hide
    what to change.
    """

    def _render_traceback_(self) -> list[str]:
        # IPython's hook for how an exception is displayed
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


#: The longest verdict message kept. Messages quote the answer, and an answer may be a
#: tuple of 60,000 items or a string of a million characters; the longest message any
#: recorded mistake or rule writes about a real slip is a few hundred characters.
MAX_MESSAGE_CHARS = 2_000


def shorten_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out.

    Examples
    --------
    >>> shorten_message("ab" * 10, limit=12)
    'abababababab… (8 more characters left out)'
    >>> shorten_message("short")
    'short'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters left out)"


def printable(text: str) -> str:
    """``text`` with each character a terminal or a page acts on written as its escape:
    control characters (ESC opens a terminal's colour codes), line breaks, and the
    bidirectional overrides that show text in another order than it is written. A message
    may quote what a learner wrote, and must not pass for another.

    Examples
    --------
    >>> print(printable("a \\u202eMTSL\\n\\x1b[32mCorrect"))
    a \\u202eMTSL\\n\\x1b[32mCorrect
    >>> printable("σ(x) × 2 — ok")
    'σ(x) × 2 — ok'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def with_article(word: str) -> str:
    """``word`` after "a" or "an", as it is said aloud.

    Examples
    --------
    >>> [with_article(name) for name in ("LSTM", "GRU", "Embedding", "SimpleRNN", "RNN")]
    ['an LSTM', 'a GRU', 'an Embedding', 'a SimpleRNN', 'an RNN']
    >>> [with_article(name) for name in ("LSTMCell", "GRUCell", "Flatten")]
    ['an LSTMCell', 'a GRUCell', 'a Flatten']
    """
    # "an LSTM" (el-es-tee-em) and "an RNN" (ar-en-en), but "a GRU" (gee-ar-you): a name
    # that opens with two capitals opens with letters said one by one
    spelled = word[:2].isupper() and word[:1] in "FHLMNRSX"
    return f"an {word}" if word[:1] in "AEIOU" or spelled else f"a {word}"


def _ignored_input_note(key: str) -> str:
    """The note for a layer's ``input_shape`` or ``input_dim`` where the question gives the
    Input: Keras 3 warns and builds on the given input, so the answer is judged without it."""
    return (
        f"Keras 3 ignores {key} here, with a warning, because the question gives the "
        "Input; leave it out."
    )


def sentence_start(text: str) -> str:
    """``text`` with its first letter upper-case and the rest kept, to open a sentence.

    Examples
    --------
    >>> sentence_start(with_article("LSTM"))
    'An LSTM'
    >>> sentence_start("units ('8') give 8")
    "Units ('8') give 8"
    """
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one answer with its expected value.

    Attributes
    ----------
    correct : bool
        Whether the answer earns the question's points.
    message : str
        Feedback a learner can act on; names the confusion when it recognises one. It is
        made :func:`printable` and cut to :data:`MAX_MESSAGE_CHARS` (see
        :func:`shorten_message`), whatever quoted it.
    score : float, optional
        For a question with parts (h and c, a list of shapes), the fraction of the parts
        that are right; ``None`` where the answer is judged whole (see :attr:`earned`).
    printed : bool, default False
        Whether the learner has read it already (:func:`lstm_lib.checks.reveal` prints
        it): a notebook then shows nothing more for it where a check cell ends with it.
    """

    correct: bool
    message: str
    score: float | None = None
    printed: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # the one place every message passes, the grader's own included
        object.__setattr__(self, "message", shorten_message(printable(self.message)))

    def _ipython_display_(self) -> None:
        # a check cell ends with reveal(...): its value would repeat the printed verdict
        # as a raw Out[n]: Verdict(correct=..., message=...)
        if not self.printed:
            from IPython.display import display

            display({"text/plain": repr(self)}, raw=True)

    @property
    def earned(self) -> float:
        """The fraction of the question's points earned, from 0 to 1: ``score`` where a
        question gives credit per part, else 1 when correct and 0 when not."""
        if self.score is not None:
            return self.score
        return 1.0 if self.correct else 0.0


#: The largest whole number an answer may hold: Keras stores sizes and counts in 64 bits.
LARGEST_INT = 2**63 - 1
#: What an answer holding a larger one is told, by the form checks and by every verdict.
OVERSIZED_INT_MESSAGE = (
    "Your answer holds a whole number too large to be any size or count in Keras (it "
    "needs more than 64 bits): check for extra digits."
)


def _holds_oversized_int(answer: Any) -> bool:
    """Whether a plain answer holds an ``int`` past :data:`LARGEST_INT` either way.

    No size or count in Keras is one, and Python refuses to print an ``int`` of more than
    4,300 digits, which the messages about a wrong answer would. Walked without
    recursion, and each container once: in a learner's own kernel an answer may nest to
    any depth, or hold itself.
    """
    pending = [answer]
    walked: set[int] = set()
    while pending:
        value = pending.pop()
        if type(value) is int and abs(value) > LARGEST_INT:
            return True
        if type(value) in (tuple, list, dict) and id(value) not in walked:
            walked.add(id(value))
            pending.extend(value)
            if type(value) is dict:
                pending.extend(value.values())
    return False


# --------------------------------------------------------------------------- form checks
# A test cell runs these in the learner's kernel (re-exported by lstm_lib.checks); each
# verdict runs them first, so a wrong form gets the same message in both places.


def _refused(value: _Unsupported) -> str:
    """What a refused item is: "a NumPy int64", or "an object of type Sneaky"."""
    name = shorten_message(value.type_name, 80)
    return f"a NumPy {name}" if _is_numpy_scalar(value) else f"an object of type {name}"


def _is_numpy_scalar(value: _Unsupported) -> bool:
    """Whether a refused item is a NumPy scalar (one number), not a shape object.

    Examples
    --------
    >>> _is_numpy_scalar(_Unsupported("int64", (), "int"))
    True
    >>> _is_numpy_scalar(_Unsupported("TensorShape", (), "tuple"))
    False
    """
    return value.convert in ("bool", "int", "float", "str")


#: The plain types a refused item converts to (:func:`lstm_lib.answers.to_plain`), as said.
_PLAIN_TYPES = {
    "bool": "a bool",
    "int": "an int",
    "float": "a float",
    "str": "a str",
    "tuple": "a tuple",
    "list": "a list",
}
#: The most steps down to a refused item a message spells out; deeper ones get a depth.
_SPELLED_STEPS = 3


def _steps(at: Sequence[tuple[str, int | str]]) -> str:
    """The way down to a refused item, innermost first: "item 2", "the 'units' entry of
    item 1" (items counted from 1, as said aloud)."""
    return " of ".join(
        f"the {shorten_message(repr(key), 40)} entry" if container == "dict" else f"item {key + 1}"
        for container, key in reversed(at)
    )


#: What an answer may be made of, for an answer or an item the wire format refused.
_PLAIN_VALUES = (
    "answer with plain Python values (tuples, ints, lists, dicts, strings), or a NumPy "
    "array of numbers where the question asks for an array."
)


def _refused_item_message(value: _Unsupported) -> str | None:
    """What to change about an answer one item of which the wire format refused: where the
    item sits and, for a NumPy scalar, the builtin to write around it; ``None`` when the
    answer itself was refused.

    Examples
    --------
    >>> _refused_item_message(_Unsupported("int64", (("tuple", 1),), "int"))
    'Item 2 of your tuple is a NumPy int64, not an int: write int(...) around it.'
    >>> _refused_item_message(_Unsupported("int64", (), "int"))
    'Your answer is a NumPy int64, not an int: write int(...) around it.'
    """
    if not value.at:
        if value.convert:  # the answer is one NumPy scalar: np.prod, np.sum and .sum() give one
            return (
                f"Your answer is {_refused(value)}, not {_PLAIN_TYPES[value.convert]}: write "
                f"{value.convert}(...) around it."
            )
        return None
    outer = value.at[0][0]
    if len(value.at) > _SPELLED_STEPS:
        where = f"An item nested {len(value.at)} levels deep in your {outer}"
    else:
        where = _steps(value.at)
        where = f"{where[:1].upper()}{where[1:]} of your {outer}"
    if value.convert:
        return (
            f"{where} is {_refused(value)}, not {_PLAIN_TYPES[value.convert]}: write "
            f"{value.convert}(...) around it."
        )
    return f"{where} is {_refused(value)}; {_PLAIN_VALUES}"


def _describe(value: Any) -> str:
    if isinstance(value, _Unsupported):
        if not value.at:  # the answer itself, NumPy scalar or not
            return f"an object of type {shorten_message(value.type_name, 80)}"
        outer = with_article(value.at[0][0])
        if len(value.at) > _SPELLED_STEPS:
            return f"{outer} with {_refused(value)} nested {len(value.at)} levels deep"
        return f"{outer} with {_refused(value)} as {_steps(value.at)}"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int past Python's digit limit, deep nesting
        return f"an object of type {_type_name(value)}"
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (type {_type_name(value)})"


def _is_plain_int(value: Any) -> bool:
    return type(value) is int


def _is_numpy_integer(value: Any) -> bool:
    numpy = _numpy_if_imported()
    return numpy is not None and isinstance(value, numpy.integer)


def _shape_problem(value: Any) -> str | None:
    if _holds_oversized_int(value):
        return OVERSIZED_INT_MESSAGE
    if type(value) is str and (hint := _string_shape_problem(value, many=False)):
        return hint
    if type(value) is list and all(_is_plain_int(n) or n is None for n in value):
        return (
            f"{value!r} is a list; write a shape as a tuple, "
            f"e.g. {tuple(value)!r}, as Keras prints it."
        )
    if _is_plain_int(value):
        # (16) is 16 in Python: the parentheses group, the comma makes the tuple
        return (
            f"A shape is a tuple such as (None, 10, 32); got {value!r} (type int). For a "
            f"shape with one axis, write ({value!r},): in Python, ({value!r}) is just "
            f"{value!r}."
        )
    if type(value) is not tuple:
        return f"A shape is a tuple such as (None, 10, 32); got {_describe(value)}."
    for n in value:
        if not (n is None or _is_plain_int(n)):
            hint = " Convert it with int(...)." if _is_numpy_integer(n) else ""
            return (
                "Each entry of a shape is a plain int or None (for the batch axis); "
                f"{_describe(n)} is neither.{hint}"
            )
        if _is_plain_int(n) and n < 0:
            reshape = (
                " (-1 is how reshape is told to work a size out; a shape Keras reports "
                "holds the size itself, or None for the batch)"
                if n == -1
                else ""
            )
            return f"Sizes are never negative; got {n} in {value!r}{reshape}."
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
    lstm_lib.judging.AnswerError: [None, 32] is a list; write a shape as a tuple, e.g. (None, 32), as Keras prints it.
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
    problem = _shapes_problem(value)
    if problem:
        raise AnswerError(problem)


def expect_int(value: Any) -> None:
    """Check that an answer is a plain ``int`` (not a bool, float or NumPy integer).

    Examples
    --------
    >>> expect_int(32)
    >>> expect_int(32.0)
    Traceback (most recent call last):
    ...
    lstm_lib.judging.AnswerError: A count is a plain int such as 32; got 32.0 (type float). Write it without the decimal point: 32.
    """  # noqa: E501
    problem = _int_problem(value)
    if problem:
        raise AnswerError(problem)


def expect_choice(value: Any, options: Sequence[str]) -> None:
    """Check that an answer is one of the offered options (a string).

    Examples
    --------
    >>> expect_choice("b", ["a", "b", "c"])
    """
    if type(value) is not str or value not in options:
        listed = ", ".join(repr(option) for option in options)
        near = [
            option for option in options if type(value) is str and _loose(value) == _loose(option)
        ]
        hint = f" Write it exactly as offered: {near[0]!r}." if near else ""
        raise AnswerError(f"Answer with one of {listed}; got {_describe(value)}.{hint}")


def _loose(text: str) -> str:
    """A string without case, quotes, spaces, hyphens and underscores, to spot near misses."""
    return "".join(ch for ch in text.lower() if ch not in " '\"-_")


def expect_array(value: Any, shape: tuple[int, ...] | None = None) -> None:
    """Check that an answer is a NumPy array of numbers, of the given shape if one is given.

    Examples
    --------
    >>> import numpy as np
    >>> expect_array(np.zeros((1, 2)), shape=(1, 2))
    """
    numpy = _numpy_if_imported()
    if numpy is None or type(value) is not numpy.ndarray or value.dtype.kind not in "iuf":
        raise AnswerError(f"Answer with a NumPy array of numbers; got {_describe(value)}.")
    if shape is not None and value.shape != tuple(shape):
        raise AnswerError(
            f"This array should have shape {tuple(shape)}; yours has shape {value.shape}."
        )
    if not numpy.all(numpy.isfinite(value)):
        raise AnswerError("Your array contains NaN or infinity; every entry should be finite.")


#: A layer written as its call, "LSTM(16)" or "keras.layers.LSTM(16, ...)".
_LAYER_CALL = re.compile(r"\s*(?:keras\.)?(?:layers\.)?([A-Z][A-Za-z0-9]*)\s*\(")


def _layer_dict_hint(value: Any) -> str:
    """How to turn what a learner wrote for one layer into its layer dict: a layer's
    ``get_config()`` (no class), a dict keyed by the class, the call as a string."""
    if type(value) is dict and "class_name" not in value:
        if "name" in value or "trainable" in value:
            return (
                " That is a layer's get_config(), which leaves out its class: "
                "keras.layers.serialize(layer) gives the whole layer dict."
            )
        if len(value) == 1 and type(next(iter(value.values()))) is dict:
            name = printable(str(next(iter(value))))[:40]
            return (
                f' Put the class and the options under keys of their own: {{"class_name": '
                f'"{name}", "config": {{...}}}}.'
            )
    if type(value) is str and (call := _LAYER_CALL.match(value)):
        return (
            f' Write the layer as a dict, not as its call: {{"class_name": "{call.group(1)}", '
            '"config": {...}}, with the call\'s arguments in "config", each by its name.'
        )
    return ""


def _config_problem(spec: dict) -> str | None:
    """What is wrong with a layer dict's ``config``, if anything."""
    if type(spec.get("config", {})) is dict:
        return None
    return (
        "'config' should be a dict of the layer's options, e.g. {\"units\": 8}; got "
        f"{_describe(spec['config'])}."
    )


def _layer_spec_problem(value: Any) -> str | None:
    """What is wrong with the form of one layer's answer (a layer dict), if anything."""
    if type(value) is dict and type(value.get("class_name")) is str:
        return _config_problem(value)
    listed = (
        " Write the layer dict itself, without the list around it: the question asks for "
        "one layer, not a model."
        if type(value) is list and len(value) == 1 and type(value[0]) is dict
        else _layer_dict_hint(value)
    )
    return (
        'Describe the layer as a dict, e.g. {"class_name": "LSTM", "config": {"units": 8}}; '
        f"got {_describe(value)}.{listed}"
    )


def expect_layer_spec(value: Any) -> None:
    """Check that an answer is one layer's specification: a dict with a ``"class_name"``.

    Its ``"config"`` holds the options that differ from Keras's defaults, as
    ``keras.layers.serialize`` writes them; whether Keras builds it is judged with its
    value.

    Examples
    --------
    >>> expect_layer_spec({"class_name": "LSTM", "config": {"units": 8}})
    >>> expect_layer_spec([{"class_name": "LSTM", "config": {"units": 8}}])
    Traceback (most recent call last):
    ...
    lstm_lib.judging.AnswerError: Describe the layer as a dict, e.g. {"class_name": "LSTM", "config": {"units": 8}}; got [{'class_name': 'LSTM', 'config': {'units': 8}}] (type list). Write the layer dict itself, without the list around it: the question asks for one layer, not a model.
    """  # noqa: E501
    problem = _layer_spec_problem(value)
    if problem:
        raise AnswerError(problem)


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
            f"got {_describe(value)}.{_whole_model_note(value)}"
        )
    for index, spec in enumerate(value, start=1):
        if type(spec) is not dict or type(spec.get("class_name")) is not str:
            raise AnswerError(
                f"Layer {index} should be a dict with a 'class_name' string; got "
                f"{_describe(spec)}.{_layer_dict_hint(spec)}"
            )
        problem = _config_problem(spec)
        if problem:
            raise AnswerError(f"Layer {index}: {problem}")


def _whole_model_note(value: Any) -> str:
    """Where a model answer is a whole Sequential model's config, which its list of layers
    sits in, the way to that list: a learner who built the model in Keras writes
    ``model.get_config()`` or ``keras.layers.serialize(model)``."""
    if type(value) is not dict:
        return ""
    if type(value.get("config")) is dict and type(value["config"].get("layers")) is list:
        return (
            f" That is a whole {printable(str(value.get('class_name', 'model')))[:40]}'s "
            "config: its list of layers is its ['config']['layers'] (for a Keras model, "
            "model.get_config()['layers'])."
        )
    if type(value.get("layers")) is list:
        return (
            " That is a whole model's config: its list of layers is its ['layers'] (for a "
            "Keras model, model.get_config()['layers'])."
        )
    return ""


def _as_shape(value: Any) -> tuple:
    return tuple(None if n is None else operator.index(n) for n in value)


# --------------------------------------------------------------------------- near misses
# An answer of nearly the right form (a shape written as a string, a count as 16.0) is
# told exactly which form to use, before its value is looked at.


#: The longest string read for the literal it spells: a shape, a list of shapes or a count
#: written in quotes is far shorter, and Python's parser takes time growing with the
#: square of some texts' length (an f-string of many fields), which a learner chooses.
_MAX_LITERAL_CHARS = 1_000


def _literal(text: str) -> Any:
    """The Python literal a string spells, or None: "(None, 16)" -> (None, 16)."""
    if len(text) > _MAX_LITERAL_CHARS:
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _string_shape_problem(value: str, many: bool) -> str | None:
    spelled = _literal(value)
    if type(spelled) in (tuple, list):
        if many:
            shapes_ = [tuple(item) for item in spelled if type(item) in (tuple, list)]
            if shapes_ and len(shapes_) == len(spelled):
                return f"{value!r} is a string; write the list itself, without quotes: {shapes_!r}."
        elif _shape_problem(tuple(spelled)) is None:
            return (
                f"{value!r} is a string; write the tuple itself, without quotes: "
                f"{tuple(spelled)!r}."
            )
    return None


def _shapes_problem(value: Any) -> str | None:
    """What is wrong with the form of a list of shapes, or None."""
    if _holds_oversized_int(value):
        return OVERSIZED_INT_MESSAGE
    if type(value) is str:
        hint = _string_shape_problem(value, many=True)
        if hint:
            return hint
    if type(value) is tuple and value and all(type(item) in (tuple, list) for item in value):
        return (
            "Write the shapes as a list, one tuple per returned tensor, in Keras's order: "
            f"[...] rather than (...), e.g. {[tuple(item) for item in value]!r}."
        )
    if type(value) is tuple and value and all(_is_plain_int(n) or n is None for n in value):
        return (
            f"{value!r} is a single shape; this question wants a list of shapes, one per "
            f"returned tensor or weight, e.g. [{value!r}, ...]."
        )
    if type(value) is not list:
        return (
            "Write the shapes as a list, one tuple per returned tensor, in Keras's order, "
            f"e.g. [(None, 4), (None, 4)]; got {_describe(value)}."
        )
    if any(n is None for n in value) and all(_is_plain_int(n) or n is None for n in value):
        # [None, 16] holds a batch axis: one shape in a list's brackets, not a list of them
        # ([16, 16] may be 1-D shapes written (16), and is told so item by item)
        return (
            f"{value!r} is a single shape, written as a list; this question wants a list of "
            f"shapes, one tuple per returned tensor or weight, e.g. [{tuple(value)!r}, ...]."
        )
    for index, shape in enumerate(value):
        problem = _shape_problem(shape)
        if problem:
            return f"Item {index + 1} of your list: {problem}"
    return None


def _int_problem(value: Any) -> str | None:
    if _holds_oversized_int(value):
        return OVERSIZED_INT_MESSAGE
    if _is_plain_int(value):
        return None
    numpy = _numpy_if_imported()
    if numpy is not None and isinstance(value, numpy.ndarray) and value.ndim == 0:
        # an array crosses to the grader as floats, so its own repr would misquote an int
        whole = bool(numpy.isfinite(value)) and float(value).is_integer()
        return "A count is a plain int such as 32; got a NumPy array holding one number" + (
            f" ({int(value)}): write int(...) around it." if whole else "."
        )
    start = f"A count is a plain int such as 32; got {_describe(value)}."
    if _is_numpy_integer(value):
        return f"{start} Convert it with int(...)."
    if type(value) is bool:
        return f"{start} True and False are bools, not counts: write the number."
    if value is None:
        # answer_q3 = model.summary() prints the count it was meant to hold
        return (
            f"{start} None is what a function that only prints gives back, such as print(...) "
            "or model.summary(): write the number itself."
        )
    if type(value) is float and value.is_integer():
        return f"{start} Write it without the decimal point: {int(value)}."
    if type(value) is float:
        return f"{start} A count is a whole number; {value} is not one."
    if type(value) is str and _is_plain_int(_literal(value)):
        return f"{start} Write the number without quotes: {_literal(value)}."
    grouped = _thousands_grouped(value)
    if grouped is not None:
        return (
            f"{start} Python reads {grouped:,} as values separated by commas, which makes a "
            f"tuple: write the number without commas, {grouped} (or {grouped:_})."
        )
    if type(value) is str and _is_plain_int(without_commas := _literal(value.replace(",", ""))):
        return f"{start} Write the number without quotes or commas: {without_commas}."
    if type(value) is str and _is_int_expression(value):
        return f"{start} Write the expression without quotes: Python then works it out."
    return start


def _thousands_grouped(value: Any) -> int | None:
    """The number a count written with a thousands comma (``1,600``) meant, which Python
    read as the tuple ``(1, 600)``; None for any other value.

    Examples
    --------
    >>> _thousands_grouped((6, 427))
    6427
    >>> _thousands_grouped((64, 0))  # 64,000
    64000
    >>> _thousands_grouped((1, 2)) is None  # a comma then one digit groups no thousands
    True
    """
    if type(value) is not tuple or len(value) < 2 or not all(_is_plain_int(n) for n in value):
        return None
    first, *groups = value
    # each group after a comma is three digits: 000 (Python's 0) or 100 to 999, since
    # Python 3 refuses 045, so (1, 45) was written otherwise
    if not 0 < first < 1000 or not all(group == 0 or 100 <= group <= 999 for group in groups):
        return None
    return int(str(first) + "".join(f"{group:03d}" for group in groups))


def _is_int_expression(text: str) -> bool:
    """Whether ``text`` is arithmetic on whole numbers only (``"4 * (16 + 8)"``)."""
    if len(text) > _MAX_LITERAL_CHARS:
        return False
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.Constant)
    return any(isinstance(node, ast.BinOp) for node in ast.walk(tree)) and all(
        isinstance(node, allowed)
        and (not isinstance(node, ast.Constant) or _is_plain_int(node.value))
        for node in ast.walk(tree)
    )
