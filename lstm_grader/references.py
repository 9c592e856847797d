"""Load the reference values recorded from Keras for an assignment."""

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
        The checker, one of :data:`lstm_lib.checks.KINDS`.
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


def load_references(references_directory: str | Path, assignment: str) -> dict[str, Reference]:
    """Read ``references/<assignment>.json`` into ``{question id: Reference}``.

    Raises
    ------
    FileNotFoundError
        With a message saying how to record the file, when it does not exist.
    """
    path = references_path(references_directory, assignment)
    if not path.exists():
        raise FileNotFoundError(
            f"no reference values for assignment {assignment!r} at {path}; record them with "
            f"`python -m lstm_grader.record {assignment}`"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        question: Reference(
            kind=entry["kind"],
            expected=entry["expected"],
            context=entry.get("context", {}),
            mistakes=entry.get("mistakes", []),
        )
        for question, entry in data["questions"].items()
    }
