"""lstm_grader.report: one vocabulary of statuses, in the code and in the README."""

from __future__ import annotations

import re

from conftest import ROOT

from lstm_grader import report


def test_the_readme_lists_every_status_in_order() -> None:
    """Does the instructor guide name exactly the statuses the grader produces, most
    serious first?"""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = readme[readme.index("Statuses in `grades.csv`") :]
    paragraph = paragraph[: paragraph.index("\n\n")]
    named = [n for n in re.findall(r"`([a-z-]+)`", paragraph) if n in report.STATUSES]
    assert named == list(report.STATUSES)


def test_the_most_serious_status_wins() -> None:
    """Does a grader error outrank a flag, a flag a limit, and a limit a plain grade?"""
    assert report.final_status({"events": ["timed-out", "memory-limit"]}) == "memory-limit"
    assert report.final_status({"events": ["no-answers"], "flags": ["x"]}) == "flagged"
    assert report.final_status({"flags": ["x"], "grader_errors": ["y"]}) == "grader-error"
    assert report.final_status({"events": []}) == "graded"
