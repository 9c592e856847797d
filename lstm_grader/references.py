"""Read and write the reference values recorded from Keras, against one schema.

``references/<assignment>.json`` is ``{"questions": {<id>: {"kind", "expected",
"context", "mistakes"}}}``: ``kind`` one of :data:`lstm_lib.verdicts.KINDS`, ``expected``
the value Keras produced as JSON data, ``context`` a dict, ``mistakes`` a list of dicts
with a ``message``. This module is the only reader and writer of that format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Reference:
    """What one question is graded against: recorded from live Keras, never typed by hand.

    Attributes
    ----------
    kind : str
        The checker, one of :data:`lstm_lib.verdicts.KINDS`.
    expected : Any
        The value Keras produced, as JSON data.
    context : dict
        What the feedback may use to name a mistake (layer spec, input shape, ...).
    mistakes : list of dict
        Recorded classic wrong answers with their messages.
    """

    kind: str
    expected: Any
    context: dict[str, Any]
    mistakes: list[dict[str, Any]]


def references_path(references_directory: str | Path, assignment: str) -> Path:
    """Where an assignment's references live: ``references/<assignment>.json``."""
    return Path(references_directory) / f"{assignment}.json"


class ReferenceFileError(ValueError):
    """A references file that does not follow the schema; the message says where and how."""


def _check_entry(path: Path, question: Any, entry: Any) -> None:
    from lstm_lib.verdicts import KINDS

    where = f"{path}: question {question!r}"
    if not isinstance(question, str) or not isinstance(entry, dict):
        raise ReferenceFileError(f"{where}: each question maps an id to an object")
    for key in ("kind", "expected"):
        if key not in entry:
            raise ReferenceFileError(
                f"{where} has no {key!r}; record it again with `python -m lstm_grader.record`"
            )
    if entry["kind"] not in KINDS:
        raise ReferenceFileError(f"{where}: kind {entry['kind']!r} is not one of {KINDS}")
    if not isinstance(entry.get("context", {}), dict):
        raise ReferenceFileError(f"{where}: 'context' must be an object")
    mistakes = entry.get("mistakes", [])
    if not isinstance(mistakes, list) or not all(
        isinstance(m, dict) and isinstance(m.get("message"), str) for m in mistakes
    ):
        raise ReferenceFileError(f"{where}: 'mistakes' must be a list of objects with a message")


def load_references(references_directory: str | Path, assignment: str) -> dict[str, Reference]:
    """Read ``references/<assignment>.json`` into ``{question id: Reference}``.

    Raises
    ------
    FileNotFoundError
        With a message saying how to record the file, when it does not exist.
    ReferenceFileError
        When the file is not valid JSON or does not follow the schema, saying where.
    """
    path = references_path(references_directory, assignment)
    if not path.exists():
        raise FileNotFoundError(
            f"no reference values for assignment {assignment!r} at {path}; record them with "
            f"`python -m lstm_grader.record {assignment}`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReferenceFileError(f"{path} is not valid JSON ({exc})") from None
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, dict):
        raise ReferenceFileError(f"{path} has no 'questions' object")
    for question, entry in questions.items():
        _check_entry(path, question, entry)
    return {
        question: Reference(
            kind=entry["kind"],
            expected=entry["expected"],
            context=entry.get("context", {}),
            mistakes=entry.get("mistakes", []),
        )
        for question, entry in questions.items()
    }


def write_references(
    references_directory: str | Path, assignment: str, data: dict[str, Any]
) -> Path:
    """Check ``data["questions"]`` against the schema and write
    ``references/<assignment>.json`` (sorted keys, so diffs stay small)."""
    path = references_path(references_directory, assignment)
    for question, entry in data["questions"].items():
        _check_entry(path, question, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
