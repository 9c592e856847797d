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


def test_every_status_is_decided_by_notebook_outcome() -> None:
    """Can each status of the vocabulary be reached through notebook_outcome, the one
    place a status is decided, and does a grader failure outrank everything the learner
    did?"""
    reached = {
        report.notebook_outcome(grader_failure="nbgrader crashed").status,
        report.notebook_outcome(refused="a link").status,
        report.notebook_outcome(submitted=False).status,
        report.notebook_outcome(unreadable="not JSON").status,
        report.notebook_outcome(timed_out="took too long").status,
        report.notebook_outcome(report={"flags": ["tampered"]}).status,
        report.notebook_outcome(report={"grader_errors": ["verdict raised"]}).status,
        report.notebook_outcome(report={}, needs_manual_grade=True).status,
        report.notebook_outcome(report={}, manually_graded=True).status,
        report.notebook_outcome(report={}).status,
    }
    for event in report.STATUSES:
        reached.add(report.notebook_outcome(report={"events": [event]}).status)
    assert reached == set(report.STATUSES)
    blamed = report.notebook_outcome(
        grader_failure="nbgrader crashed", unreadable="x", report={"flags": ["y"]}
    )
    assert blamed == report.Outcome("grader-error", "nbgrader crashed")


def test_a_learner_who_handed_in_nothing_is_worded_by_notebook_outcome() -> None:
    """The roster's rows for a learner with no folder for an assignment were worded beside
    notebook_outcome. Does notebook_outcome say that nothing was submitted for the
    assignment, keep a due date still to come first, and leave a missing notebook of a
    submitted folder worded as it was?"""
    nothing = report.notebook_outcome(submitted=False, assignment_submitted=False)
    assert nothing == report.Outcome("missing", "nothing was submitted for this assignment")
    before_due = report.notebook_outcome(
        submitted=False, assignment_submitted=False, due_later="2027-01-30 23:59 UTC"
    )
    assert before_due == report.Outcome(
        "not-due-yet", "nothing was submitted yet; the assignment is due 2027-01-30 23:59 UTC"
    )
    one_notebook = report.notebook_outcome(submitted=False)
    assert one_notebook == report.Outcome("missing", report.STATUSES["missing"])


def test_the_reason_names_grader_errors_flags_and_limits_not_applied() -> None:
    """Does the reason carry the grader's own errors, then the flags, then the limits the
    host could not apply, so an instructor sees why without opening the report?"""
    outcome = report.notebook_outcome(
        report={
            "grader_errors": ["q2: verdict raised"],
            "flags": ["a test cell was edited"],
            "limits_not_applied": ["memory"],
        }
    )
    assert (
        outcome.reason == "q2: verdict raised; a test cell was edited; limits not applied: memory"
    )


def test_an_unknown_status_is_refused() -> None:
    """Does a status outside the vocabulary fail loudly instead of reaching grades.csv?"""
    import pytest

    with pytest.raises(ValueError, match="STATUSES"):
        report.Outcome("passed")


def test_every_status_but_graded_says_why() -> None:
    """Does every non-graded outcome carry a reason, even when the report has no detail
    (a kernel that died, a run that timed out inside the sandbox)?"""
    for status in report.STATUSES:
        outcome = report.notebook_outcome(report={"events": [status]})
        if outcome.status not in ("graded", "manually-graded"):
            assert outcome.reason, f"{outcome.status} has no reason"


def test_a_flagged_notebook_graded_by_hand_is_manually_graded() -> None:
    """Once the instructor has graded every flagged cell, does the row say so, keeping the
    flag in its reason; and while a cell still awaits them, does it stay flagged?"""
    flags = {"flags": ["cell 'q3' was edited although it is locked"]}
    done = report.notebook_outcome(report=flags, manually_graded=True)
    assert done.status == "manually-graded" and "q3" in done.reason
    waiting = report.notebook_outcome(report=flags, manually_graded=True, needs_manual_grade=True)
    assert waiting.status == "flagged"


def test_a_reason_quoting_a_learner_is_cut_to_fit_a_spreadsheet_cell() -> None:
    """A reason can quote what a learner wrote, without bound. Is it cut, saying so, so
    that grades.csv still opens in a spreadsheet and reads with Python's csv module at its
    default field limit?"""
    import csv
    import io

    flags = [f"cell {'g' * 50_000!r} is not in the released notebook"] * 5
    outcome = report.notebook_outcome(report={"flags": flags})
    assert outcome.status == "flagged"
    assert len(outcome.reason) <= report.MAX_REASON_CHARS + 50
    assert outcome.reason.endswith("more characters left out)")
    assert report.Outcome("flagged", "short").reason == "short"
    written = io.StringIO()
    csv.writer(written).writerow(["learner", outcome.status, outcome.reason])
    assert next(csv.reader(io.StringIO(written.getvalue())))[2] == outcome.reason


def test_a_reason_shows_what_a_terminal_would_act_on_as_escapes() -> None:
    """A reason may quote a learner's file name. Are escape sequences, line breaks and
    bidirectional overrides written as escapes, and other text kept as it is?"""
    name = "\x1b]52;c;Y2xpcGJvYXJk\x07notes\nline\u202eélan.ipynb"
    reason = report.Outcome("refused", f"entries: {name}: a symbolic link").reason
    assert reason == (
        "entries: \\x1b]52;c;Y2xpcGJvYXJk\\x07notes\\nline\\u202eélan.ipynb: a symbolic link"
    )


#: Unicode's bidirectional controls (the Bidi_Control property of PropList.txt).
BIDI_CONTROLS = "\u061c\u200e\u200f" + "".join(
    chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def test_no_learner_text_starts_a_line_or_turns_a_line_around() -> None:
    """A reason, and a line of collect's log, may quote a learner's file name. Is every
    character at which Python's str.splitlines (which reads logs) starts a new line, and
    every bidirectional control (the Arabic letter mark too), written as its escape, so
    that a name cannot add a line of its own or show a line in another order?"""
    breaks = [chr(code) for code in range(0x110000) if len(f"a{chr(code)}b".splitlines()) > 1]
    for char in [*breaks, *BIDI_CONTROLS]:
        assert char not in report.printable(f"a{char}b"), f"U+{ord(char):04X}"
    name = "notes\u2028ValueError: graded by hand\u061c.ipynb"
    reason = report.Outcome("refused", f"entries: {name}: a symbolic link").reason
    assert reason.splitlines() == [reason]
    assert reason.endswith("graded by hand\\u061c.ipynb: a symbolic link")


def test_a_missing_notebook_names_the_notebooks_handed_in_instead() -> None:
    """Does a missing notebook's reason name what the learner saved instead (three at
    most, the count of the rest), escaped, so the instructor can see a renamed file?"""
    names = ["Untitled.ipynb", "b.ipynb", "c\x1b.ipynb", "d.ipynb", "e.ipynb"]
    outcome = report.notebook_outcome(submitted=False, notebooks_instead=names)
    assert outcome.status == "missing"
    assert outcome.reason == (
        "the notebook was not submitted; the submission holds Untitled.ipynb, b.ipynb, "
        "c\\x1b.ipynb and 2 more instead"
    )
