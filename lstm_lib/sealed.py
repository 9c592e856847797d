"""Sealed feedback: a mistake's explanation that a learner can read only by making it.

A practice-mode student notebook names a learner's classic mistake in the check cell,
but the explanations of every wrong answer (and every wrong option of a multiple-choice
question) must not be readable in the notebook's folder before the learner gives that
answer: otherwise the list of wrong answers gives the right one away. So the student
version carries each explanation encrypted with a key derived from the wrong answer
itself (:func:`seal`); the check cell derives the key from the learner's answer and
opens only the explanation of the answer given (:func:`unseal`).

This is not meant to withstand a learner who tries every answer in code: doing that is
trying every answer, which the practice loop allows anyway. What it keeps out of reach
is reading the answer off the folder without trying anything. Grading never reads it.

The standard library and NumPy only (NumPy only for an answer that is an array).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from lstm_lib.answers import _as_said, _numpy_if_imported

__all__ = ["SEALED_FILE", "canonical", "read_sealed", "seal", "unseal"]

#: The file, beside a practice-mode student notebook, of its sealed explanations.
SEALED_FILE = "mistakes.sealed.json"

#: Decimals an array answer is compared to when opening a seal: coarse enough that a
#: value within the checks' 1e-5 tolerance finds the same seal, fine enough that two
#: different classic mistakes never share one.
_DECIMALS = 3
_DOMAIN = b"lstm-course sealed feedback v1\0"


def _untagged(value: Any) -> Any:
    """An answer as JSON data in which a tuple and a list, or an array and nested lists,
    are the same: recorded references hold lists where the learner writes tuples."""
    numpy = _numpy_if_imported()
    if numpy is not None and isinstance(value, numpy.ndarray):
        return _untagged(numpy.round(value.astype(float), _DECIMALS).tolist())
    if numpy is not None and isinstance(value, numpy.generic):
        return _untagged(value.item())
    if isinstance(value, tuple | list):
        return [_untagged(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _untagged(item) for key, item in value.items()}
    if isinstance(value, float):
        rounded = round(value, _DECIMALS)
        return 0.0 if rounded == 0 else rounded  # -0.0 and 0.0 are one answer
    if value is None or isinstance(value, bool | int | str):
        return value
    return f"<{type(value).__qualname__}>"


def canonical(question: str, answer: Any) -> bytes:
    """The bytes an answer to ``question`` is sealed under.

    Examples
    --------
    >>> canonical("q1", (None, 16)) == canonical("q1", [None, 16])
    True
    >>> canonical("q2", "No  Exception") == canonical("q2", "no exception")
    True
    """
    if type(answer) is str:
        # a string is matched with a recorded mistake without case or extra spaces
        # (lstm_lib.verdicts), so its explanation opens for every answer the grader names
        answer = _as_said(answer)
    text = json.dumps([question, _untagged(answer)], sort_keys=True, separators=(",", ":"))
    return _DOMAIN + text.encode("utf-8")


def _keys(question: str, answer: Any) -> tuple[str, bytes]:
    secret = hashlib.sha256(b"key\0" + canonical(question, answer)).digest()
    label = hashlib.sha256(b"label\0" + secret).hexdigest()[:32]
    return label, secret


def _stream(secret: bytes, length: int) -> bytes:
    return hashlib.shake_256(b"stream\0" + secret).digest(length)


def seal(entries: Iterable[tuple[str, Any, str]]) -> dict[str, str]:
    """Seal explanations, each under the answer it explains.

    Parameters
    ----------
    entries : iterable of (question, answer, message)
        A classic wrong answer (or wrong option) of a question and its explanation.

    Returns
    -------
    dict
        ``{label: sealed text}``, JSON-able; neither holds the answer or the message.
    """
    sealed = {}
    for question, answer, message in entries:
        label, secret = _keys(question, answer)
        data = message.encode("utf-8")
        cipher = bytes(a ^ b for a, b in zip(data, _stream(secret, len(data)), strict=True))
        sealed[label] = base64.b64encode(cipher).decode("ascii")
    return sealed


def unseal(sealed: Mapping[str, str], question: str, answer: Any) -> str | None:
    """The explanation sealed under this answer to ``question``, or None.

    Examples
    --------
    >>> box = seal([("q1", (None, 8, 16), "That keeps the time axis.")])
    >>> unseal(box, "q1", (None, 8, 16))
    'That keeps the time axis.'
    >>> unseal(box, "q1", (None, 16)) is None
    True
    """
    label, secret = _keys(question, answer)
    text = sealed.get(label)
    if not isinstance(text, str):
        return None
    try:
        cipher = base64.b64decode(text, validate=True)
        data = bytes(a ^ b for a, b in zip(cipher, _stream(secret, len(cipher)), strict=True))
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def read_sealed(folder: str | None = None) -> dict[str, str]:
    """The sealed explanations beside the notebook (``{}`` when there are none).

    Parameters
    ----------
    folder : str, optional
        Where :data:`SEALED_FILE` is (default: the working folder, the notebook's own).
    """
    path = os.path.join(folder or os.getcwd(), SEALED_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}
