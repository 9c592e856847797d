"""The grading report kept for each submitted notebook, outside the kernel's reach."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstm_grader import safefiles

#: Every status a notebook can end with, most serious first, with what it means: the one
#: a notebook ends with is the first that applies. ``grades.csv``, the README and the
#: tests all take the vocabulary from here.
STATUSES = {
    "grader-error": "the grader failed, not the learner (a setup cell could not import "
    "lstm_lib in the sandbox, nbgrader crashed, a verdict raised, a killed collection left "
    "the submission set aside): see reason",
    "refused": "the submission holds links or special files, or the grader cannot reach "
    "or list it; nothing was opened",
    "flagged": "tampering the test cells cannot stop; marked for manual grading",
    "invalid-notebook": "the file is not a readable notebook",
    "missing": "the notebook was not submitted",
    "not-due-yet": "nothing was submitted yet, and the assignment is not due yet",
    "ungraded": "submitted, and not graded yet: grade its assignment with lstm-grade",
    "memory-limit": "the sandbox reached its memory limit",
    "process-limit": "the sandbox reached its limit on processes",
    "disk-limit": "the sandbox filled its tmpfs, wrote a file over the size limit, or made "
    "more files than it may hold (which stops the notebook)",
    "cpu-limit": "the sandbox used up its CPU time",
    "output-limit": "output was cut at the byte cap",
    "bad-message": "the kernel sent messages outside the Jupyter protocol; the grader "
    "dropped them (the report names the first)",
    "kernel-died": "the kernel died; points earned before are kept",
    "timed-out": "a cell or the notebook ran out of time; points earned before are kept",
    "no-answers": "no answer reached the grader (blank, or every answer cell failed)",
    "needs-manual-grade": "graded, with cells awaiting the instructor",
    "manually-graded": "the instructor's manual scores stand for some cells (see the formgrader)",
    "graded": "graded",
}


#: The longest reason ``grades.csv`` keeps for a notebook. A reason may quote what a
#: learner wrote (a cell's made-up id, a field nbformat refused), and the file is opened
#: in spreadsheets (at most 32,767 characters a cell) and by Python's ``csv`` module
#: (131,072 by default).
MAX_REASON_CHARS = 2_000


#: Characters a terminal acts on rather than shows (escape sequences that retitle the
#: window, clear the screen or write the clipboard; line breaks, the Unicode line and
#: paragraph separators too, at which Python's ``str.splitlines`` starts a new line of a
#: log it reads; every bidirectional control, the Arabic letter mark included, which
#: reorder what is shown), which a reason may quote from a learner's file names; and
#: lone surrogates, which stand for the bytes of a file name that is not UTF-8 (Python
#: decodes such names with ``surrogateescape``) and which no UTF-8 file can hold: one
#: learner's file named ``b"\xff"`` stopped ``grades.csv`` being written for the class.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on written as its escape.

    Examples
    --------
    >>> print(printable("a\\x1b]0;title\\x07b"))
    a\\x1b]0;title\\x07b
    """
    return _UNPRINTABLE.sub(lambda found: repr(found.group())[1:-1], text)


def shortened(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out.

    :func:`lstm_lib.judging.shorten_message` does the same for verdicts. The grader keeps
    its own so that it never imports ``lstm_lib`` to report: a course folder whose copy of
    ``lstm_lib`` cannot be imported must still get its "grader error" line.

    Examples
    --------
    >>> shortened("x" * 30, limit=10)
    'xxxxxxxxxx… (20 more characters left out)'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters left out)"


def read_report(path: Path) -> dict[str, Any]:
    """Read a report, or start an empty one."""
    try:
        return json.loads(safefiles.read_text(path))
    except (OSError, ValueError):
        return {"flags": [], "tampered_cells": [], "questions": {}, "events": []}


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write a report atomically, so a reader never sees half of one, and through no link."""
    safefiles.write_text(path, json.dumps(report, indent=1, sort_keys=True) + "\n")


def final_status(report: dict[str, Any]) -> str:
    """The most serious status the report's flags and events call for."""
    found = set(report.get("events", []))
    if report.get("flags"):
        found.add("flagged")
    if report.get("grader_errors"):
        found.add("grader-error")
    for status in STATUSES:
        if status in found:
            return status
    return "graded"


#: The statuses of a notebook whose grade stands as the gradebook has it.
GRADED_STATUSES = ("graded", "needs-manual-grade", "manually-graded")


@dataclass(frozen=True)
class Outcome:
    """What ``grades.csv`` says of one submitted notebook: a status of :data:`STATUSES`
    and the reason behind it, cut to :data:`MAX_REASON_CHARS` and :func:`printable`: an
    instructor reads it in a terminal, and it may quote a learner's file names."""

    status: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; add it to report.STATUSES")
        object.__setattr__(self, "reason", shortened(printable(self.reason)))


def notebook_outcome(
    *,
    refused: str | None = None,
    submitted: bool = True,
    assignment_submitted: bool = True,
    due_later: str | None = None,
    graded_yet: bool = True,
    notebooks_instead: Sequence[str] = (),
    unreadable: str | None = None,
    timed_out: str | None = None,
    grader_failure: str | None = None,
    report: dict[str, Any] | None = None,
    needs_manual_grade: bool = False,
    manually_graded: bool = False,
) -> Outcome:
    """The one place a notebook's final status is decided, from what happened to it.

    Every status but ``graded`` comes with a reason: the details known, else what the
    status means (:data:`STATUSES`).

    Parameters
    ----------
    refused
        Why the submission folder was not opened (links, special files), if it was not.
    submitted
        Whether the notebook was submitted at all.
    assignment_submitted
        Whether anything was submitted for the notebook's assignment: a learner on the
        roster who handed in no folder is told so, not that one notebook is missing.
    due_later
        When the assignment is due, if that is still to come: a learner who has not
        submitted yet is not missing it.
    graded_yet
        Whether the submission was graded at all (an assignment not graded since it was
        handed in has no grade to show).
    notebooks_instead
        The other notebooks the submission holds, when it was not (a learner who saved
        under another name): the first three are named.
    unreadable
        Why the file is not a readable notebook, if it is not.
    timed_out
        Why grading the submission was stopped for taking too long, if it was.
    grader_failure
        What went wrong in the grader itself (nbgrader crashed, no score was recorded).
    report
        The notebook's grading report, as the preprocessors left it.
    needs_manual_grade
        Whether the gradebook holds cells awaiting the instructor.
    manually_graded
        Whether the instructor's manual score stands for some cell, none awaiting.

    Examples
    --------
    >>> notebook_outcome(submitted=False)
    Outcome(status='missing', reason='the notebook was not submitted')
    >>> notebook_outcome(submitted=False, due_later="2027-01-30 23:59 UTC").reason
    'nothing was submitted yet; the assignment is due 2027-01-30 23:59 UTC'
    >>> notebook_outcome(submitted=False, notebooks_instead=["Untitled.ipynb"]).reason
    'the notebook was not submitted; the submission holds Untitled.ipynb instead'
    >>> notebook_outcome(submitted=False, assignment_submitted=False)
    Outcome(status='missing', reason='nothing was submitted for this assignment')
    >>> notebook_outcome(report={"events": ["kernel-died"], "flags": []}).reason
    'the kernel died; points earned before are kept'
    >>> notebook_outcome(report={"events": []}, needs_manual_grade=True).status
    'needs-manual-grade'
    >>> notebook_outcome(report={"flags": ["cell 'q3' was edited"]}, manually_graded=True)
    Outcome(status='manually-graded', reason="cell 'q3' was edited; graded by hand")
    """
    if grader_failure:
        return Outcome("grader-error", grader_failure)
    if refused:
        return Outcome("refused", refused)
    if not submitted and due_later:
        return Outcome(
            "not-due-yet", f"nothing was submitted yet; the assignment is due {due_later}"
        )
    if not submitted and not assignment_submitted:
        return Outcome("missing", "nothing was submitted for this assignment")
    if not submitted:
        instead = ", ".join(notebooks_instead[:3]) + (
            f" and {len(notebooks_instead) - 3} more" if len(notebooks_instead) > 3 else ""
        )
        return Outcome(
            "missing",
            STATUSES["missing"]
            + (f"; the submission holds {instead} instead" if notebooks_instead else ""),
        )
    if not graded_yet:
        return Outcome("ungraded", STATUSES["ungraded"])
    if unreadable:
        return Outcome("invalid-notebook", unreadable)
    if timed_out:
        return Outcome("timed-out", timed_out)
    report = report or {}
    reasons = list(report.get("grader_errors", [])) + list(report.get("flags", []))
    if report.get("stopped_by"):
        reasons.append(str(report["stopped_by"]))
    not_applied = report.get("limits_not_applied", [])
    if not_applied:
        reasons.append("limits not applied: " + ", ".join(not_applied))
    status = final_status(report)
    if status == "flagged" and manually_graded and not needs_manual_grade:
        status = "manually-graded"
        reasons.append("graded by hand")
    elif status == "graded" and needs_manual_grade:
        status = "needs-manual-grade"
    elif status == "graded" and manually_graded:
        status = "manually-graded"
    if status not in ("graded", "manually-graded") and not reasons:
        reasons.append(STATUSES[status])
    return Outcome(status, "; ".join(reasons))
