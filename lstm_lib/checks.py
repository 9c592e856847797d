"""The notebook side of the answer checks: what runs in a learner's (or instructor's) kernel.

The exercises use the checks in two places, with the same code:

* in the learner's kernel, where a test cell checks the *form* of an answer
  (:func:`expect_shape`, :func:`expect_int`, ...) and a "see it in Keras" cell
  compares the prediction with the value Keras computes live (:func:`reveal`);
* in the grader's own process, outside the learner's kernel, where
  :func:`~lstm_lib.verdicts.verdict` compares the answer the kernel handed over as
  plain data (:mod:`lstm_lib.answers`) with the recorded reference.

This module holds the kernel side: :func:`reveal` (which also records reference values
when :data:`RECORD_ENV` is set), :func:`grade_answer` and :func:`keras_allowed`. It
re-exports, unchanged, the names a notebook imports from here: the form checks,
:class:`AnswerError`, :class:`Verdict` and :func:`verdict` from :mod:`lstm_lib.verdicts`,
and the wire format (:func:`to_plain`, :func:`from_plain`, :func:`parse_answer_json`,
:func:`answer_json`) from :mod:`lstm_lib.answers`.

Nothing here imports TensorFlow or matplotlib, so grading stays fast. Expected
values never live in this module: they are recorded from Keras next to the
instructor's material and passed in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lstm_lib.answers import answer_json, from_plain, parse_answer_json, to_plain
from lstm_lib.verdicts import (
    ARRAY_ATOL,
    ARRAY_RTOL,
    KINDS,
    AnswerError,
    Verdict,
    expect_array,
    expect_choice,
    expect_int,
    expect_layer_specs,
    expect_shape,
    expect_shapes,
    verdict,
)

__all__ = [
    "ARRAY_ATOL",
    "ARRAY_RTOL",
    "KINDS",
    "RECORD_ENV",
    "AnswerError",
    "Verdict",
    "answer_json",
    "expect_array",
    "expect_choice",
    "expect_int",
    "expect_layer_specs",
    "expect_shape",
    "expect_shapes",
    "from_plain",
    "grade_answer",
    "keras_allowed",
    "parse_answer_json",
    "reveal",
    "to_plain",
    "verdict",
]

#: When set to a file path, :func:`reveal` appends what Keras computed to that file
#: instead of judging the prediction: this is how reference values are recorded.
RECORD_ENV = "LSTM_COURSE_RECORD"


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
