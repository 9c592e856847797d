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
    pass


def _type_name(value: Any) -> str:
    return type(value).__qualname__


def _numpy_if_imported() -> ModuleType | None:
    # an ndarray or a NumPy scalar can exist only once NumPy is imported, so a check for
    # one never needs to import it (which costs a kernel a seventh of a CPU second)
    return sys.modules.get("numpy")


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
    raise _NotPlain(_type_name(value))


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
        if math.prod(shape) != len(payload):
            raise ValueError("array data does not match its shape")
        import numpy as np

        return np.asarray(payload, dtype=float).reshape(shape)
    if tag == "unsupported":
        return _Unsupported(_text(str(data.get("type", "object"))))
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
