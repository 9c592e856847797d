"""The grading report kept for each submitted notebook, outside the kernel's reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lstm_grader import safefiles

#: Report folder under the course root; the grading kernel never sees it.
REPORTS_DIRECTORY = "grading_reports"

#: Every status a notebook can end with, most serious first, with what it means: the one
#: a notebook ends with is the first that applies. ``grades.csv``, the README and the
#: tests all take the vocabulary from here.
STATUSES = {
    "grader-error": "the grader failed, not the learner (a setup cell could not import "
    "lstm_lib in the sandbox, nbgrader crashed, a verdict raised): see reason",
    "refused": "the submission folder holds links or special files; nothing was opened",
    "flagged": "tampering the test cells cannot stop; marked for manual grading",
    "invalid-notebook": "the file is not a readable notebook",
    "missing": "the notebook was not submitted",
    "memory-limit": "the sandbox reached its memory limit",
    "process-limit": "the sandbox reached its limit on processes",
    "disk-limit": "the sandbox filled its tmpfs or wrote a file over the size limit",
    "cpu-limit": "the sandbox used up its CPU time",
    "output-limit": "output was cut at the byte cap",
    "kernel-died": "the kernel died; points earned before are kept",
    "timed-out": "a cell or the notebook ran out of time; points earned before are kept",
    "no-answers": "no answer reached the grader (blank, or every answer cell failed)",
    "needs-manual-grade": "graded, with cells awaiting the instructor",
    "graded": "graded",
}


def report_path(root: str | Path, student: str, assignment: str, notebook: str) -> Path:
    """``grading_reports/<student>/<assignment>/<notebook>.json`` under the course root."""
    return Path(root) / REPORTS_DIRECTORY / student / assignment / f"{notebook}.json"


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
