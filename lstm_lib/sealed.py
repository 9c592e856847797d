"""Sealed feedback: a mistake's explanation that a learner can read only by making it.

A practice-mode student notebook names a learner's classic mistake in the check cell,
but the explanations of every wrong answer (and every wrong option of a multiple-choice
question) must not be readable in the notebook's folder before the learner gives that
answer: otherwise the list of wrong answers gives the right one away. So the student
version carries each explanation encrypted with a key derived from the wrong answer
itself (:func:`seal`); the check cell derives the key from the learner's answer and
opens only the explanation of the answer given (:func:`unseal`).

The notebook must name a mistake exactly where the grader names it. An array is a
recorded mistake within the grader's tolerance (:func:`lstm_lib.verdicts.names_mistake`),
and a key rounded to fixed decimals would miss every answer within tolerance on the
other side of a rounding boundary (0.0124999 for 0.0125001). So an array is sealed under
its cells on a grid of its own (:func:`_grid`): a step and an offset, written beside the
seal, that keep each recorded entry farther from a cell's edge than twice the tolerance,
so that every answer within tolerance falls in the recorded cells. The sealed text holds
the recorded value too: once opened, it is compared with the answer by the grader's own
rule, so an answer in the right cells but past the tolerance opens nothing either.

This is not meant to withstand a learner who tries every answer in code: doing that is
trying every answer, which the practice loop allows anyway. What it keeps out of reach
is reading the answer off the folder without trying anything. Grading never reads it.

The standard library and NumPy only (NumPy only for an answer that is an array).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lstm_lib.answers import _as_said, _numpy_if_imported
from lstm_lib.verdicts import ARRAY_ATOL, ARRAY_RTOL, names_mistake

__all__ = ["SEALED_FILE", "canonical", "read_sealed", "seal", "unseal"]

#: The file, beside a practice-mode student notebook, of its sealed explanations.
SEALED_FILE = "mistakes.sealed.json"

#: The finest grid an array is sealed on: coarser grids are used only where an array has
#: too many entries, or too large ones, for this one to keep them all from its edges.
_FINEST_STEP = 1e-3
_DOMAIN = b"lstm-course sealed feedback v2\0"
#: Between a grid's step and offset and the key's hash, in an array's label.
_GRID_MARK = "@"
#: Between the sealed texts of one label (answers the canonical form does not tell apart).
_SEPARATOR = " "


def _untagged(value: Any) -> Any:
    """An answer as JSON data in which a tuple and a list are the same (recorded
    references hold lists where the learner writes tuples); the grader's own rule then
    tells them apart where it does (:func:`lstm_lib.verdicts.names_mistake`)."""
    numpy = _numpy_if_imported()
    if numpy is not None and isinstance(value, numpy.ndarray):
        return _untagged(value.tolist())
    if numpy is not None and isinstance(value, numpy.generic):
        return _untagged(value.item())
    if isinstance(value, tuple | list):
        return [_untagged(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _untagged(item) for key, item in value.items()}
    if isinstance(value, float):
        return 0.0 if value == 0 else value  # -0.0 and 0.0 are one answer, as to the grader
    if value is None or isinstance(value, bool | int | str):
        return value
    return f"<{type(value).__qualname__}>"


def canonical(question: str, answer: Any) -> bytes:
    """The bytes an answer to ``question`` is sealed under (an array's, on its grid, by
    :func:`_array_keys`).

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


def _secret(data: bytes) -> tuple[str, bytes]:
    secret = hashlib.sha256(b"key\0" + data).digest()
    return hashlib.sha256(b"label\0" + secret).hexdigest()[:32], secret


def _stream(secret: bytes, length: int) -> bytes:
    return hashlib.shake_256(b"stream\0" + secret).digest(length)


def _as_float_array(value: Any) -> Any:
    """``value`` as the grader compares it with an array answer (a float array), or None
    when it is none, or holds a number no finite answer is within tolerance of."""
    numpy = _numpy_if_imported()
    if numpy is None:
        import numpy
    try:
        array = numpy.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return None
    return array if bool(numpy.all(numpy.isfinite(array))) else None


def _grid(recorded: Any) -> tuple[float, float]:
    """A step and an offset that keep every entry of ``recorded`` (a float array) more
    than twice its tolerance from the edges of its cell.

    An answer is within tolerance of ``recorded`` where each entry differs by at most
    ``ARRAY_ATOL + ARRAY_RTOL * |recorded|``; twice that leaves room for rounding. The
    step grows tenfold until the entries' forbidden bands cover at most half of a cell;
    then, of ``4 * n + 4`` evenly spaced offsets, one lies in the largest free gap (the
    free half of the cell is at most ``n`` gaps), and the one farthest from every band is
    kept.
    """
    import numpy as np

    values = recorded.ravel()
    if not values.size:
        return _FINEST_STEP, 0.0
    margins = 2 * (ARRAY_ATOL + ARRAY_RTOL * np.abs(values))
    step = _FINEST_STEP
    while True:
        if 4 * float(margins.sum()) <= step:
            positions = np.mod(values, step)
            offsets = np.arange(4 * values.size + 4) * (step / (4 * values.size + 4))
            apart = np.abs(positions[None, :] - offsets[:, None])
            apart = np.minimum(apart, step - apart)  # around the cell's circle
            slack = (apart - margins[None, :]).min(axis=1)
            best = int(np.argmax(slack))
            if slack[best] > 0:
                return step, float(offsets[best])
        step *= 10


def _cells(array: Any, step: float, offset: float) -> list[int] | None:
    """Each entry's cell on the grid, or None where a grid (one a damaged file names)
    puts an entry past every number a cell can have."""
    import numpy as np

    with np.errstate(all="ignore"):
        cells = np.floor((array.ravel() - offset) / step)
    if not np.all(np.isfinite(cells)):
        return None
    return [int(cell) for cell in cells]


def _array_key(question: str, array: Any, step: float, offset: float) -> tuple[str, bytes] | None:
    """The label and secret of a float array on the grid ``(step, offset)`` (None if the
    grid cannot hold it)."""
    cells = _cells(array, step, offset)
    if cells is None:
        return None
    text = json.dumps(
        [question, "array", repr(step), repr(offset), list(array.shape), cells],
        separators=(",", ":"),
    )
    label, secret = _secret(_DOMAIN + text.encode("utf-8"))
    return f"{step!r},{offset!r}{_GRID_MARK}{label}", secret


def _keys(question: str, answer: Any, recorded: bool) -> Iterator[tuple[str, bytes]]:
    """Every key a recorded value is sealed under, or (not ``recorded``) the key an
    answer that is no array opens a seal with.

    A recorded value is sealed under its canonical form and, where it is an array of
    floats the grader compares an array answer with, under its cells on its own grid (an
    array answer's keys, one per grid in the sealed file, are made by :func:`unseal`).
    """
    yield _secret(canonical(question, answer))
    if recorded and _holds_float(answer):
        array = _as_float_array(answer)
        key = None if array is None else _array_key(question, array, *_grid(array))
        if key is not None:
            yield key


def _holds_float(value: Any) -> bool:
    """Whether a recorded value holds a float, as an array recorded from Keras does: a
    count or a shape holds none, and is sealed under its exact form only, so that no grid
    beside it hints at its size.

    Examples
    --------
    >>> _holds_float([[0.5, -1.0]]), _holds_float([None, 16]), _holds_float(448)
    (True, False, False)
    """
    numpy = _numpy_if_imported()
    if type(value) is float or (numpy is not None and isinstance(value, numpy.ndarray)):
        return True
    if type(value) in (list, tuple):
        return any(_holds_float(item) for item in value)
    return False


def _encrypt(secret: bytes, text: str) -> str:
    data = text.encode("utf-8")
    cipher = bytes(a ^ b for a, b in zip(data, _stream(secret, len(data)), strict=True))
    return base64.b64encode(cipher).decode("ascii")


def _decrypt(secret: bytes, text: str) -> str | None:
    try:
        cipher = base64.b64decode(text, validate=True)
        data = bytes(a ^ b for a, b in zip(cipher, _stream(secret, len(cipher)), strict=True))
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def seal(entries: Iterable[tuple[str, Any, str]]) -> dict[str, str]:
    """Seal explanations, each under the answer it explains.

    Parameters
    ----------
    entries : iterable of (question, answer, message)
        A classic wrong answer (or wrong option) of a question and its explanation, in
        the order the grader tries them: where an answer is two of a question's recorded
        mistakes, the first one's explanation opens, as the grader names the first.

    Returns
    -------
    dict
        ``{label: sealed text}``, JSON-able; neither holds the answer or the message
        (an array's label starts with its grid's step and offset, which say nothing of
        which cell each entry is in).
    """
    sealed: dict[str, str] = {}
    ranks: dict[str, int] = {}
    for question, answer, message in entries:
        rank = ranks[question] = ranks.get(question, -1) + 1
        text = json.dumps({"rank": rank, "value": _untagged(answer), "message": message})
        for label, secret in _keys(question, answer, recorded=True):
            cipher = _encrypt(secret, text)
            sealed[label] = f"{sealed[label]}{_SEPARATOR}{cipher}" if label in sealed else cipher
    return sealed


def _grids(sealed: Mapping[str, str]) -> list[tuple[float, float]]:
    """The grids of the arrays sealed in ``sealed``, each once, as their labels give them."""
    grids: dict[tuple[float, float], None] = {}
    for label in sealed:
        grid, mark, _ = label.partition(_GRID_MARK)
        step_text, comma, offset_text = grid.partition(",")
        if not mark or not comma:
            continue
        try:
            step, offset = float(step_text), float(offset_text)
        except ValueError:
            continue
        if math.isfinite(step) and math.isfinite(offset) and step > 0:
            grids[(step, offset)] = None
    return list(grids)


def unseal(
    sealed: Mapping[str, str], question: str, answer: Any, kind: str | None = None
) -> str | None:
    """The explanation the grader gives this answer to ``question``, if it is sealed here.

    Parameters
    ----------
    sealed : mapping
        Sealed explanations, as :func:`seal` or :func:`read_sealed` gives them.
    question : str
        The question id, e.g. ``"q3"``.
    answer : Any
        The learner's answer, as the grader reads it (through the wire format).
    kind : str, optional
        The question's kind (as for :func:`lstm_lib.verdicts.verdict`): a choice's option
        is named only when written exactly as offered, as the grader names it.

    Returns
    -------
    str or None
        The explanation of the first recorded mistake the grader takes ``answer`` for.

    Examples
    --------
    >>> box = seal([("q1", (None, 8, 16), "That keeps the time axis.")])
    >>> unseal(box, "q1", (None, 8, 16))
    'That keeps the time axis.'
    >>> unseal(box, "q1", (None, 16)) is None
    True
    """
    numpy = _numpy_if_imported()
    if numpy is not None and type(answer) is numpy.ndarray:
        array = _as_float_array(answer)
        grids = _grids(sealed) if array is not None else []
        keys = [key for grid in grids if (key := _array_key(question, array, *grid)) is not None]
    else:
        keys = list(_keys(question, answer, recorded=False))
    found: list[tuple[int, str]] = []
    for label, secret in keys:
        texts = sealed.get(label)
        if not isinstance(texts, str):
            continue
        for text in texts.split(_SEPARATOR):
            opened = _opened(secret, text)
            if opened is not None and names_mistake(kind, answer, opened[1]):
                found.append((opened[0], opened[2]))
    return min(found)[1] if found else None


def _opened(secret: bytes, text: str) -> tuple[int, Any, str] | None:
    """A sealed text's rank, recorded value and message, or None if it does not open."""
    plain = _decrypt(secret, text)
    if plain is None:
        return None
    try:
        data = json.loads(plain)
    except ValueError:
        return None
    if (
        not isinstance(data, dict)
        or type(data.get("rank")) is not int
        or "value" not in data
        or type(data.get("message")) is not str
    ):
        return None
    return data["rank"], data["value"], data["message"]


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
