"""The grading report kept for each submitted notebook, outside the kernel's reach."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: Report folder under the course root; the grading kernel never sees it.
REPORTS_DIRECTORY = "grading_reports"

#: Statuses, most serious first: the one a notebook ends with is the first that applies.
STATUSES = (
    "flagged",
    "invalid-notebook",
    "missing",
    "kernel-died",
    "timed-out",
    "needs-manual-grade",
    "graded",
)


def report_path(root: str | Path, student: str, assignment: str, notebook: str) -> Path:
    """``grading_reports/<student>/<assignment>/<notebook>.json`` under the course root."""
    return Path(root) / REPORTS_DIRECTORY / student / assignment / f"{notebook}.json"


def read_report(path: Path) -> dict[str, Any]:
    """Read a report, or start an empty one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"flags": [], "tampered_cells": [], "questions": {}, "events": []}


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write a report atomically, so a reader never sees half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, path)


def final_status(report: dict[str, Any]) -> str:
    """The most serious status the report's flags and events call for."""
    found = set(report.get("events", []))
    if report.get("flags"):
        found.add("flagged")
    for status in STATUSES:
        if status in found:
            return status
    return "graded"
