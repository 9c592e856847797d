"""The answer wire format: what may cross from a learner's kernel to the grader.

This module is the grading trust boundary. In the learner's kernel,
:func:`answer_json` encodes an answer as tagged JSON text (:func:`to_plain`), which
accepts only exact built-in types and NumPy arrays of numbers. In the grader's own
process, :func:`parse_answer_json` decodes that text type-strictly
(:func:`from_plain`), so nothing but plain data ever reaches a verdict.

It imports only the standard library and NumPy, and no other ``lstm_lib`` module: the
grader loads a private copy of this file into the learner's kernel (see
``lstm_grader.preprocessors``), so that neither a redefined name nor a patched module
changes how an answer is encoded. NumPy is imported only to decode an array: a kernel
whose notebook never imported it encodes answers without paying for it.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["answer_json", "from_plain", "is_text", "parse_answer_json", "to_plain"]


class _NotPlain(Exception):
    """A value :func:`to_plain` refuses; for a type it refuses, where the value sits.

    ``at`` lists the steps from the answer down to it, outermost first, as
    ``[container, index or key]``; ``convert`` names the plain type a NumPy scalar
    converts to, or a shape object (TensorFlow's ``TensorShape``, a tuple or list
    subclass such as PyTorch's ``Size``). A refusal of the whole (nested too deeply) sits
    nowhere in particular.
    """

    def __init__(self, reason: str, convert: str | None = None, located: bool = True) -> None:
        super().__init__(reason)
        self.convert = convert
        self.located = located
        self.at: list[list[Any]] = []

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"t": "unsupported", "type": str(self)}
        if self.at:
            record["at"] = self.at
        if self.convert:
            record["convert"] = self.convert
        return record


#: The deepest an answer may nest, and so the most steps a refusal's position may hold.
_MAX_DEPTH = 20
#: What a refusal of an answer nested past :data:`_MAX_DEPTH` names in place of a type.
NESTED_TOO_DEEPLY = "nested too deeply"


def _type_name(value: Any) -> str:
    return type(value).__qualname__


def _numpy_if_imported() -> ModuleType | None:
    # an ndarray or a NumPy scalar can exist only once NumPy is imported, so a check for
    # one never needs to import it (which costs a kernel a seventh of a CPU second)
    return sys.modules.get("numpy")


def _as_said(text: str) -> str:
    """A string answer as a recorded wrong one is matched: without case, and with its runs
    of spaces as one ('No  exception' is the recorded 'no exception'). The grader matches
    recorded mistakes so, and a notebook opens their sealed explanations so: both must.

    Examples
    --------
    >>> _as_said("  No   Exception ")
    'no exception'
    """
    return " ".join(text.lower().split())


def to_plain(value: Any) -> dict[str, Any]:
    """Encode an answer as tagged JSON-able data, accepting only exact built-in types.

    Look-alikes do not survive: a subclass of ``int`` or ``tuple``, an object whose
    ``__eq__`` always says yes, a NumPy scalar, all become ``{"t": "unsupported"}``. A
    refused item inside a container keeps where it sits (``"at"``), and a NumPy scalar or
    a shape object the plain type to convert it with (``"convert"``), so feedback can say
    which item to fix and how.

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
    >>> to_plain(Sneaky(3))
    {'t': 'unsupported', 'type': 'Sneaky'}
    >>> to_plain((None, [1, Sneaky(3)]))
    {'t': 'unsupported', 'type': 'Sneaky', 'at': [['tuple', 1], ['list', 1]]}
    """
    try:
        return _encode(value, depth=0)
    except _NotPlain as exc:
        return exc.record()


def _item(container: str, key: Any, item: Any, depth: int) -> dict[str, Any]:
    """Encode one item of a container; a refusal of it records the step to it."""
    try:
        return _encode(item, depth + 1)
    except _NotPlain as exc:
        if exc.located:
            exc.at.insert(0, [container, key])
        raise


def _plain_type_of(value: Any, numpy: ModuleType) -> str | None:
    """The plain type a NumPy scalar converts to with the builtin of that name, if any."""
    for numpy_type, name in (
        (numpy.bool_, "bool"),
        (numpy.integer, "int"),
        (numpy.floating, "float"),
        (numpy.str_, "str"),
    ):
        if isinstance(value, numpy_type):
            return name
    return None


#: The largest int sent as it is; a larger one is sent as the next, which is as oversized
#: (``lstm_lib.judging.LARGEST_INT``; this module imports no other part of lstm_lib).
_LARGEST_INT = 2**63 - 1


def _encode(value: Any, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise _NotPlain(NESTED_TOO_DEEPLY, located=False)
    kind = type(value)  # exact types only: subclasses can override __eq__ and friends
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        if abs(value) > _LARGEST_INT:
            # past every size Keras stores, the grader needs only its sign; and the JSON of
            # an int of more than 4,300 digits is refused by Python itself
            return {"t": "int", "v": _LARGEST_INT + 1 if value > 0 else -_LARGEST_INT - 1}
        return {"t": "int", "v": value}
    if kind is float:
        return {"t": "float", "v": value}
    if kind is str:
        return {"t": "str", "v": value}
    if kind is tuple or kind is list:
        name = kind.__name__
        return {"t": name, "v": [_item(name, i, item, depth) for i, item in enumerate(value)]}
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise _NotPlain("dict with non-string keys")
        return {
            "t": "dict",
            "v": {key: _item("dict", key, item, depth) for key, item in value.items()},
        }
    numpy = _numpy_if_imported()
    if numpy is not None and kind is numpy.ndarray:
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
    convert = None
    if numpy is not None and isinstance(value, numpy.generic):
        convert = _plain_type_of(value, numpy)
    elif isinstance(value, tuple) or kind.__name__ == "TensorShape":
        # a weight's .shape under TensorFlow, or a tuple subclass: tuple(...) makes a shape
        convert = "tuple"
    elif isinstance(value, list):
        convert = "list"
    raise _NotPlain(_type_name(value), convert=convert)


def is_text(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: a lone surrogate (``"\\ud800"``, which JSON
    can spell) cannot, and a notebook holding one could not be saved.

    Examples
    --------
    >>> is_text("Embedding → LSTM"), is_text(chr(0xD800))
    (True, False)
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(text: str) -> str:
    if not is_text(text):
        raise ValueError("a string in the answer holds a lone surrogate, which is not text")
    return text


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
        return _text(payload)
    if tag in ("tuple", "list") and type(payload) is list:
        items = [from_plain(item) for item in payload]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and type(payload) is dict:
        return {_text(str(key)): from_plain(item) for key, item in payload.items()}
    if tag == "ndarray" and type(payload) is list:
        shape = data.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("malformed array shape")
        if not all(type(x) in (int, float) and _finite(x) for x in payload):
            raise ValueError("malformed array data (numbers only, all finite)")
        if _element_count(shape, at_most=len(payload)) != len(payload):
            raise ValueError("array data does not match its shape")
        import numpy as np

        return np.asarray(payload, dtype=float).reshape(shape)
    if tag == "unsupported":
        return _Unsupported(
            _text(str(data.get("type", "object"))),
            _position(data.get("at", [])),
            _conversion(data.get("convert")),
        )
    raise ValueError(f"malformed answer record (tag {tag!r})")


def _element_count(shape: list[int], at_most: int) -> int:
    """How many elements an array of ``shape`` holds, or ``at_most + 1`` once that is
    passed: the kernel chooses the shape, and the whole product of thousands of huge
    numbers took the grader seconds of arithmetic per answer."""
    if 0 in shape:
        return 0
    count = 1
    for size in shape:
        count *= size
        if count > at_most:
            return at_most + 1
    return count


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float is no answer either
        return False


def _position(at: Any) -> tuple[tuple[str, int | str], ...]:
    """A refusal's ``at``, validated: at most as many steps as an answer may nest."""
    if type(at) is not list or len(at) > _MAX_DEPTH + 1:
        raise ValueError("malformed position of a refused item")
    steps = []
    for step in at:
        if type(step) is not list or len(step) != 2:
            raise ValueError("malformed position of a refused item")
        container, key = step
        if container in ("tuple", "list") and type(key) is int and key >= 0:
            steps.append((container, key))
        elif container == "dict" and type(key) is str:
            steps.append((container, _text(key)))
        else:
            raise ValueError("malformed position of a refused item")
    return tuple(steps)


def _conversion(convert: Any) -> str | None:
    if convert is None or (
        type(convert) is str and convert in ("bool", "int", "float", "str", "tuple", "list")
    ):
        return convert
    raise ValueError("malformed conversion of a refused item")


@dataclass(frozen=True)
class _Unsupported:
    """Stands for an answer whose type :func:`to_plain` refused.

    ``at`` holds the steps to the refused item, outermost first, each ``(container, index
    or key)``; empty when the answer itself was refused. ``convert`` is the plain type a
    NumPy scalar converts to (``"int"`` for ``numpy.int64``), or a shape object
    (``"tuple"`` for a ``TensorShape``), else ``None``.
    """

    type_name: str
    at: tuple[tuple[str, int | str], ...] = ()
    convert: str | None = None


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
