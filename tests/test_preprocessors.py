"""lstm_grader.preprocessors, piece by piece: judging, hand-over and sanitizing, without a
kernel. The whole pipeline through real nbgrader is in test_redteam.py and test_classgrade.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from traitlets.config import Config

from lstm_grader import preprocessors, report
from lstm_grader.course import CourseLayout
from lstm_lib import checks, verdicts

ASSIGNMENT = "a1"


def _test_cell(grade_id: str, question: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(
        f'"""{grade_id}"""\n### BEGIN HIDDEN TESTS\ngrade_answer("{question}", answer_{question})\n'
        "### END HIDDEN TESTS\n"
    )
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


def _reply(value: object) -> dict:
    text = repr(checks.answer_json(value))
    return {"status": "ok", "data": {"text/plain": text}, "metadata": {}}


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "references").mkdir()
    entry = {"kind": "shape", "expected": [None, 16], "context": {}, "mistakes": []}
    (tmp_path / "references" / f"{ASSIGNMENT}.json").write_text(
        json.dumps({"questions": {"q1": entry, "q2": entry}})
    )
    return tmp_path


def _judge(course: Path, cells: list, replies: dict, *, staged_questions: dict) -> tuple:
    notebook = nbformat.v4.new_notebook(cells=cells)
    config = Config()
    config.CourseDirectory.root = str(course)
    resources = {"nbgrader": {"student": "s", "assignment": ASSIGNMENT, "notebook": "nb"}}
    staged = preprocessors.StageAnswers(config=config)
    notebook, resources = staged.preprocess(notebook, resources)
    state = resources[preprocessors._STATE]
    for grade_id, questions in staged_questions.items():
        state["replies"][grade_id] = {"status": "ok", "error": None, "user_expressions": questions}
    state["replies"].update(replies)
    judge = preprocessors.JudgeAnswers(config=config)
    notebook, resources = judge.preprocess(notebook, resources)
    path = CourseLayout(config=config).report_file("s", ASSIGNMENT, "nb")
    return notebook, report.read_report(path)


def test_the_kernel_manager_knows_the_release_of_the_assignment_graded(course: Path) -> None:
    """Is each notebook's kernel told its assignment's release folder, where the files a
    submission lacks are staged from (see sandbox.submission_files)?"""
    config = Config()
    config.CourseDirectory.root = str(course)
    execute = preprocessors.SandboxedExecute(config=config)
    execute.nb = nbformat.v4.new_notebook()
    execute.resources = {
        "nbgrader": {"student": "s", "assignment": ASSIGNMENT, "notebook": "nb"},
        "metadata": {"path": str(course)},
    }
    km = execute.create_kernel_manager()
    assert km.released_folder == str(CourseLayout(config=config).release(ASSIGNMENT))


def test_answers_come_only_from_the_cells_own_reply(course: Path) -> None:
    """Is a test cell's answer read from its own reply, right or wrong, and does a test
    cell whose reply carried nothing get 'no answer', never another cell's value?"""
    cells = [_test_cell("t1", "q1"), _test_cell("t2", "q2")]
    notebook, found = _judge(
        course, cells, {}, staged_questions={"t1": {"q1": _reply((None, 16))}, "t2": {}}
    )
    assert found["questions"]["q1"]["correct"] is True
    assert found["questions"]["q2"]["correct"] is False
    assert "No answer reached the grader" in found["questions"]["q2"]["message"]
    assert found["status"] == "graded"
    assert notebook.cells[0].source.strip() == '"""t1"""', "the hidden region is gone"


def test_a_notebook_with_no_answer_at_all_is_loud(course: Path) -> None:
    """When no answer reached the grader, is the status no-answers, not a quiet graded?"""
    cells = [_test_cell("t1", "q1"), _test_cell("t2", "q2")]
    error = {"status": "error", "ename": "NameError", "evalue": "answer_q1", "traceback": []}
    _, found = _judge(course, cells, {}, staged_questions={"t1": {"q1": error}, "t2": {}})
    assert found["status"] == "no-answers"
    assert "NameError" in found["questions"]["q1"]["message"]


def test_a_failure_while_judging_costs_that_question_only(course: Path) -> None:
    """Does a question the grader cannot judge (no recorded reference) score 0 alone, while
    the others are judged, and the notebook say grader-error with the reason?"""
    cells = [_test_cell("t1", "q1"), _test_cell("t3", "q3")]
    _, found = _judge(
        course,
        cells,
        {},
        staged_questions={"t1": {"q1": _reply((None, 16))}, "t3": {"q3": _reply((None, 16))}},
    )
    assert found["questions"]["q1"]["correct"] is True
    assert found["questions"]["q3"]["correct"] is False
    assert found["status"] == "grader-error"
    assert any("q3" in line for line in found["grader_errors"])


@pytest.mark.parametrize(
    "text",
    [
        "'" + "x" * (preprocessors.MAX_ANSWER_CHARS + 10) + "'",  # too large to read
        "__import__('os').system('true')",  # not a literal: never evaluated
        "42",  # a literal, but not an encoded answer
        repr(json.dumps({"t": "float", "v": float("nan")})),  # NaN is never an answer
    ],
)
def test_forged_replies_are_refused_unread(course: Path, text: str) -> None:
    """Is a reply that is too large, not a literal, not an encoded answer, or NaN refused
    without being evaluated, and does a notebook whose only reply is one say no-answers
    rather than a quiet graded 0?"""
    forged = {"status": "ok", "data": {"text/plain": text}, "metadata": {}}
    _, found = _judge(course, [_test_cell("t1", "q1")], {}, staged_questions={"t1": {"q1": forged}})
    assert found["questions"]["q1"]["correct"] is False
    assert found["status"] == "no-answers"


@pytest.mark.parametrize(
    "forged",
    [
        {"status": "ok", "data": [1]},
        {"status": "ok", "data": "text"},
        {"status": "ok", "data": {"text/plain": ["'x'"]}},
        {"status": "ok"},
        {"status": "error", "ename": ["E"]},
        "ok",
        None,
    ],
    ids=["data-a-list", "data-a-string", "text-a-list", "no-data", "odd-error", "a-string", "none"],
)
def test_a_malformed_expression_result_is_no_answer_never_a_grader_error(
    course: Path, forged: object
) -> None:
    """The kernel chooses each expression's result inside a well-formed reply (a patched
    user_expressions returns anything): is a result of any shape read as no answer, the
    notebook no-answers, and never the grader's own error, which stops lstm-grade with
    its own exit status and sends the instructor looking for a bug?"""
    _, found = _judge(course, [_test_cell("t1", "q1")], {}, staged_questions={"t1": {"q1": forged}})
    assert found["questions"]["q1"]["correct"] is False
    assert found["grader_errors"] == [], found["grader_errors"]
    assert found["status"] == "no-answers", found["status"]


@pytest.mark.parametrize(
    "text",
    [
        "f'" + "{1}" * 300_000 + "'",  # an f-string: its parse costs the square of its length
        "'a'" + "[0]" * 300_000,  # a chain of subscripts after a string
        "'a' 'b'",  # two literals, joined by the parser
        '"""a"""',  # not the form repr writes
        "'a\n'",  # a line break inside: repr never writes one
    ],
    ids=["f-string", "subscripts", "joined", "triple-quoted", "two-lines"],
)
def test_a_reply_other_than_one_string_literal_is_never_parsed(
    course: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel chooses the text of its reply; Python's parser takes time growing with
    the square of some texts' length. Is anything but one plain string literal, as repr
    writes it, refused before the parser sees it?"""

    def parse(text: str) -> object:
        raise AssertionError(f"parsed {text[:20]!r}")

    monkeypatch.setattr(preprocessors.ast, "literal_eval", parse)
    forged = {"status": "ok", "data": {"text/plain": text}, "metadata": {}}
    _, found = _judge(course, [_test_cell("t1", "q1")], {}, staged_questions={"t1": {"q1": forged}})
    assert found["questions"]["q1"]["correct"] is False
    assert "did not hand over an encoded answer" in found["questions"]["q1"]["message"]


@pytest.mark.parametrize(
    "result",
    [
        # the encoder replaced in the kernel: a record whose tag the grader quotes
        {"status": "ok", "data": {"text/plain": repr(json.dumps({"t": "x" * 900_000}))}},
        # an error the kernel made up, whose text the grader quotes
        {"status": "error", "ename": "E" * 100_000, "evalue": "v" * 900_000, "traceback": []},
    ],
    ids=["quoted-tag", "quoted-error"],
)
def test_what_a_kernel_makes_the_grader_quote_is_cut(course: Path, result: dict) -> None:
    """A verdict on a reply the grader could not use quotes the reply. Is what it keeps
    for the notebook and the report cut to the verdicts' limit?"""
    notebook, found = _judge(
        course, [_test_cell("t1", "q1")], {}, staged_questions={"t1": {"q1": result}}
    )
    message = found["questions"]["q1"]["message"]
    assert found["questions"]["q1"]["correct"] is False
    assert len(message) <= verdicts.MAX_MESSAGE_CHARS + 50 and message.endswith("left out)")
    assert len(json.dumps(notebook.cells[0].outputs)) < 3 * verdicts.MAX_MESSAGE_CHARS


def test_made_up_grade_ids_are_quoted_short_and_counted() -> None:
    """A learner can add cells with grade ids of any length and number. Do the flags
    quote the first few, each cut short, and count the rest?"""
    released = nbformat.v4.new_notebook(cells=[_test_cell("t1", "q1")])
    submitted = nbformat.v4.new_notebook(cells=[_test_cell("t1", "q1")])
    for number in range(300):
        made_up = nbformat.v4.new_markdown_cell("mine")
        made_up.metadata["nbgrader"] = {"grade_id": f"{number:03}" + "g" * 100_000}
        submitted.cells.append(made_up)
    flags, tampered = preprocessors.compare_with_release(submitted, released)
    assert not tampered
    assert len(flags) == preprocessors.MAX_UNKNOWN_IDS_LISTED + 1
    assert all(len(flag) < 300 for flag in flags)
    assert flags[0].startswith("cell '000ggg") and "more characters left out" in flags[0]
    assert flags[-1].startswith("290 more cells are not in the released notebook")


def test_line_endings_alone_are_no_edit_of_a_locked_cell() -> None:
    """VS Code on Windows may save a notebook's lines with ``\\r\\n``. Is a test cell that
    differs from the release only there neither flagged nor zeroed, its answer digest
    unchanged, while a real edit still is both?"""
    released = nbformat.v4.new_notebook(cells=[_test_cell("t1", "q1")])
    windows = nbformat.v4.new_notebook(cells=[_test_cell("t1", "q1")])
    windows.cells[0].source = windows.cells[0].source.replace("\n", "\r\n")
    assert preprocessors.compare_with_release(windows, released) == ([], set())
    assert preprocessors.learner_versions(windows, released) == {}
    assert preprocessors.answer_digests(windows) == preprocessors.answer_digests(released)
    edited = nbformat.v4.new_notebook(cells=[_test_cell("t1", "q1")])
    edited.cells[0].source = edited.cells[0].source.replace("t1", "mine")
    flags, tampered = preprocessors.compare_with_release(edited, released)
    assert flags == ["cell 't1' was edited although it is locked"] and tampered == {"t1"}


def test_html_nested_too_deeply_is_shown_as_text() -> None:
    """bleach takes time in proportion to the nesting for every element (20,000 nested
    ``<div>`` took 14 s of the grader's own time). Is a learner's markdown or a kernel's
    HTML output nested past the limit shown as its escaped text instead, while a long
    table, a deep but reasonable page and unclosed ``<p>`` and ``<li>`` still render?"""
    deep = "<div>" * (preprocessors.MAX_HTML_DEPTH + 1) + "x"
    shown = preprocessors.clean_learner_markdown(deep)
    assert shown.startswith("<pre>&lt;div&gt;&lt;div&gt;") and "<div>" not in shown
    sanitizer = preprocessors.SanitizeLearnerHTML()
    output = sanitizer.sanitize_html_tags("<b>" * 5_000 + "x")
    assert output.startswith("&lt;b&gt;&lt;b&gt;") and "<b>" not in output
    table = "<table>" + "<tr><td>1</td><td>2</td></tr>" * 3_000 + "</table>"
    assert not preprocessors.nested_too_deeply(table)
    assert "<b>1</b><b>2</b>" in sanitizer.sanitize_html_tags("<b>1</b><b>2</b>" * 3_000)
    unclosed = "<ul>" + "<li>item<p>note" * 1_000 + "</ul>"
    assert not preprocessors.nested_too_deeply(unclosed)
    reasonable = "<div>" * 50 + "x" + "</div>" * 50
    assert "<div><div>" in preprocessors.clean_learner_markdown(reasonable)


@pytest.mark.parametrize(
    "depth", [1, preprocessors.MAX_HTML_DEPTH, preprocessors.MAX_HTML_DEPTH + 1]
)
def test_the_gauge_reads_nesting_as_a_parser_would(depth: int) -> None:
    """Does the gauge count nesting tags in any case and with attributes, self-closed ones
    too (HTML ignores the slash on a ``<div/>``), and never void or closed ones?"""
    names = ["DIV", "span", 'em class="c"', "div/"]
    html = "<br><img src=x>" * 500 + "".join(f"<{names[i % 4]}>" for i in range(depth))
    assert preprocessors.nested_too_deeply(html) is (depth > preprocessors.MAX_HTML_DEPTH)
    closed = "".join(f"<span>{i}</span>" for i in range(depth * 3))
    assert not preprocessors.nested_too_deeply(closed)


def test_learner_markdown_past_the_notebooks_budget_is_shown_as_text() -> None:
    """Rendering and cleaning markdown costs the grader's own time (a million characters of
    one-row tables took about 25 s). Are the cells past the notebook's budget shown as
    their escaped text, the ones within it rendered, and the course's own cells kept?"""
    config = Config()
    config.SanitizeLearnerHTML.max_markdown_chars = 30
    course_cell = nbformat.v4.new_markdown_cell("**The course's prompt**" * 5)
    course_cell.metadata["nbgrader"] = {"locked": True, "grade_id": "prompt"}
    cells = [
        nbformat.v4.new_markdown_cell("**first** note"),
        course_cell,
        nbformat.v4.new_markdown_cell("**second** note, past the budget"),
        nbformat.v4.new_markdown_cell("**third**"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    first, prompt, second, third = (cell.source for cell in cleaned.cells)
    assert "<strong>first</strong>" in first
    assert prompt == "**The course's prompt**" * 5
    assert second == "<pre>**second** note, past the budget</pre>"
    assert third == "<pre>**third**</pre>"


def _bleach_calls(monkeypatch) -> list[int]:
    """The length of each text nbconvert's cleaning (bleach) is given from now on."""
    from nbconvert.preprocessors.sanitize import SanitizeHTML

    calls: list[int] = []
    clean = SanitizeHTML.sanitize_html_tags

    def counted(self, html_str):
        calls.append(len(html_str))
        return clean(self, html_str)

    monkeypatch.setattr(SanitizeHTML, "sanitize_html_tags", counted)
    return calls


def test_a_learners_raw_cells_are_text_cut_once_the_notebooks_budget_is_spent(
    monkeypatch,
) -> None:
    """bleach's time grows with the square of a raw cell's markup, and a raw cell had no
    budget: 2 MiB of ``<b>x</b>`` in one took 213 s of the grader's own time, and 45 MB
    ran the submission past its 900 s, its right answers scored 0. Is a learner's raw
    cell shown as its text (as Jupyter shows it) without bleach, whole within the
    notebook's budget and cut past it, and is the course's own raw cell kept?"""
    config = Config()
    config.SanitizeLearnerHTML.max_markdown_chars = 60
    calls = _bleach_calls(monkeypatch)
    course_cell = nbformat.v4.new_raw_cell("<b>the course's</b>")
    course_cell.metadata["nbgrader"] = {"locked": True, "grade_id": "setup"}
    past = "<b>x</b> " * (preprocessors.SHOWN_PAST_BUDGET // 4)
    cells = [
        nbformat.v4.new_raw_cell("<b onclick=go()>within</b>"),
        course_cell,
        nbformat.v4.new_markdown_cell("a note"),
        nbformat.v4.new_raw_cell(past),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    within, course, _note, flood = (cell.source for cell in cleaned.cells)
    assert within == "<pre>&lt;b onclick=go()&gt;within&lt;/b&gt;</pre>"
    assert course == "<b>the course's</b>"
    shown = past.rstrip()[: preprocessors.SHOWN_PAST_BUDGET]
    assert flood.startswith("<pre>" + html.escape(shown) + "\n... ")
    left = len(past.rstrip()) - preprocessors.SHOWN_PAST_BUDGET
    assert flood.endswith(
        f"{left:,} more characters of this cell are not shown: "
        "the submitted notebook holds them all</pre>"
    )
    assert calls == [], "a raw cell went to bleach"


def test_markup_too_costly_to_clean_never_reaches_bleach(monkeypatch) -> None:
    """Markup past the element cap was escaped and then handed to bleach anyway, whose time
    over the character references grows with the square of their number (the escaped 2 MiB
    of ``<b>x</b>``: 213 s). Is it escaped alone, and is markup within the cap cleaned?"""
    calls = _bleach_calls(monkeypatch)
    sanitizer = preprocessors.SanitizeLearnerHTML()
    costly = "<b>x</b>" * (preprocessors.MAX_HTML_ELEMENTS + 1)
    assert sanitizer.sanitize_html_tags(costly) == html.escape(costly)
    assert calls == []
    assert sanitizer.sanitize_html_tags("<b onclick=go()>x</b>") == "<b>x</b>"
    assert calls == [len("<b onclick=go()>x</b>")]


def test_cleaning_the_cleaned_notebook_again_shows_the_same_text() -> None:
    """Feedback cleans the autograded notebook once more. A learner's markdown shown as
    text (past the budget) was escaped a second time, so the feedback page showed its
    ``<pre>`` and character references literally. Does the second cleaning leave every
    cell as the first left it?"""
    config = Config()
    config.SanitizeLearnerHTML.max_markdown_chars = 30
    cells = [
        nbformat.v4.new_markdown_cell("**within**"),
        nbformat.v4.new_markdown_cell("**past** the budget, <b>bold</b> and [a](b)"),
        nbformat.v4.new_raw_cell("<b onclick=go()>raw, past it</b>"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    sanitize = preprocessors.SanitizeLearnerHTML(config=config)
    once, _ = sanitize.preprocess(notebook, {})
    once_sources = [cell.source for cell in once.cells]
    twice, _ = sanitize.preprocess(copy.deepcopy(once), {})
    assert [cell.source for cell in twice.cells] == once_sources
    assert once_sources[1] == (
        "<pre>**past** the budget, &lt;b&gt;bold&lt;/b&gt; and &#91;a&#93;(b)</pre>"
    )


def test_the_feedback_page_shows_a_cell_shown_as_text_without_bleach(monkeypatch) -> None:
    """The page's template cleans every raw cell with bleach, whose time over character
    references grows with the square of their number: the 2 MiB raw cell, escaped, took
    150 s of one feedback page. Does text the grader already made inert pass the page's
    filter as it is, while markup is still cleaned?"""
    from nbconvert.filters import strings

    from lstm_grader import feedback

    calls: list[int] = []
    clean = strings.clean_html
    monkeypatch.setattr(strings, "clean_html", lambda e: calls.append(len(e)) or clean(e))
    text = "<pre>" + html.escape("<b>x</b> " * 1_000) + "</pre>"
    assert feedback.clean_html_unless_text(text) == text
    assert calls == []
    assert feedback.clean_html_unless_text("<b onclick=go()>x</b>") == "<b>x</b>"
    assert calls == [len("<b onclick=go()>x</b>")]


def test_markdown_whose_math_would_cost_too_much_to_render_is_shown_as_text() -> None:
    """nbconvert's math patterns scan from every opening that is never closed to the end
    of the text: 27,000 '\\begin{a}' (243,000 characters, within the character budget)
    took 64 s of the grader's own time. Is such a cell shown as its text at once, while
    a note with ordinary math is rendered, and do later cells and markdown outputs spend
    what the math scan has left (a cell shown as text spends none)?"""
    config = Config()
    config.SanitizeLearnerHTML.max_math_scan = 10_000
    unclosed = "\\begin{a}" * 3_000
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "$x$" * 60})]
    cells = [
        nbformat.v4.new_markdown_cell("**Note**: $h_t = \\tanh(W x_t)$ and $c_t$."),
        nbformat.v4.new_markdown_cell(unclosed),
        nbformat.v4.new_markdown_cell("**plain**, no math"),
        cell,
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    note, costly, plain, _ = (cell.source for cell in cleaned.cells)
    assert "<strong>Note</strong>" in note
    assert costly.startswith(f"<pre>{unclosed[: preprocessors.SHOWN_PAST_BUDGET]}\n... ")
    assert costly.endswith("not shown: the submitted notebook holds them all</pre>")
    assert "<strong>plain</strong>" in plain  # no math: nothing to scan
    assert cleaned.cells[3].outputs[0]["data"]["text/html"] == "$x$" * 60


@pytest.mark.parametrize(
    ("markdown", "openings"),
    [
        ("no math here", 0),
        ("$a$, $$b$$", 6),
        ("\\(a\\) \\[b\\]", 2),
        ("\\\\[a", 1),
        ("\\begin{equation}x\\end{equation}", 1),
    ],
)
def test_the_math_scan_cost_counts_each_place_math_may_open(markdown: str, openings: int) -> None:
    assert preprocessors.math_scan_cost(markdown) == openings * len(markdown)


def test_markdown_outputs_spend_the_same_budget_as_markdown_cells() -> None:
    """display(Markdown(...)) is rendered and cleaned as a markdown cell is: does it spend
    the notebook's markdown budget, and is the output past it shown as its text?"""
    config = Config()
    config.SanitizeLearnerHTML.max_markdown_chars = 30
    cell = nbformat.v4.new_code_cell("show()")
    cell.outputs = [
        nbformat.v4.new_output("display_data", {"text/markdown": "**within** budget"}),
        nbformat.v4.new_output("display_data", {"text/markdown": "**past** the budget"}),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("**x**")])
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    within, past = (output["data"]["text/html"] for output in cleaned.cells[0].outputs)
    assert "<strong>within</strong>" in within
    assert past == "**past** the budget"
    assert cleaned.cells[1].source == "<pre>**x**</pre>"


def test_runs_of_blank_lines_in_learner_code_are_shown_as_one_comment() -> None:
    """Highlighting rescans a run of blank lines at each of its lines (20,000 took 124 s of
    a feedback page): is each run past 20 lines one comment in the shown code, and the
    rest of the cell, the course's locked cells included, as written?"""
    learner = nbformat.v4.new_code_cell("x = 1" + "\n" * 5_000 + "y = 2\n" + "\n" * 5 + "z")
    locked = nbformat.v4.new_code_cell("assert True" + "\n" * 50 + "assert True")
    locked.metadata["nbgrader"] = {"locked": True, "grade": True, "grade_id": "q1"}
    notebook = nbformat.v4.new_notebook(cells=[learner, locked])
    cleaned, _ = preprocessors.SanitizeLearnerHTML().preprocess(notebook, {})
    shown, kept = (cell.source for cell in cleaned.cells)
    assert shown == "x = 1\n# ... 4,999 blank lines not shown\ny = 2\n" + "\n" * 5 + "z"
    assert kept == "assert True" + "\n" * 50 + "assert True"


def test_learner_code_past_the_budget_is_cut_where_it_is_shown() -> None:
    """A learner's code cells are highlighted in every feedback page and formgrader view
    (a million lines of ``x = 1`` took 363 s to render, into a 76 MB page). Are the cells
    past the notebook's budget cut, saying how much, the ones within it and the course's
    own locked cells kept whole, and the outputs still cleaned?"""
    config = Config()
    config.SanitizeLearnerHTML.max_code_chars = 12
    test_cell = nbformat.v4.new_code_cell("assert answer_q1 == 1\n" * 3)
    test_cell.metadata["nbgrader"] = {"locked": True, "grade": True, "grade_id": "q1"}
    past = nbformat.v4.new_code_cell("y = 2\nz = 3\n")
    past.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": "<img src=x onerror=alert(1)>"})
    ]
    cells = [nbformat.v4.new_code_cell("x = 1\n"), test_cell, past, nbformat.v4.new_code_cell("w")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    first, test, second, third = cleaned.cells
    assert first.source == "x = 1\n"
    assert test.source == "assert answer_q1 == 1\n" * 3
    assert second.source == preprocessors.shown_code("y = 2\nz = 3\n", 6)
    assert second.source.startswith("y = 2\n# ... 6 more characters of this cell")
    assert "<img" not in second.outputs[0]["data"]["text/html"]
    assert third.source == preprocessors.shown_code("w", 0)


def test_learner_markdown_is_rendered_inert() -> None:
    """Does a learner's markdown lose scripts, handlers and javascript: links, however
    spelled, and keep its text, code and links over https?"""
    clean = preprocessors.clean_learner_markdown(
        "**Mine** <script>steal()</script> <img src=x onerror=alert(1)> "
        "[a](javascript:alert(1)) [b](java&#115;cript:alert(2)) [c](https://keras.io) `a<b`"
    )
    assert "<script" not in clean and "onerror" not in clean and "javascript" not in clean
    assert '<a href="https://keras.io">c</a>' in clean
    assert "<strong>Mine</strong>" in clean and "<code>a&lt;b</code>" in clean


@pytest.mark.parametrize(
    "classes",
    [
        "modal-backdrop in",  # a dark layer over the whole page, in front of the score boxes
        "navbar navbar-fixed-top",  # the learner's text pinned over the formgrader's header
        "alert alert-info modal-backdrop",  # a note's classes and one of the page's
        "tabbable score",  # the formgrader's own score box, to its keyboard navigation
        "hidden",
    ],
)
def test_a_learner_note_takes_none_of_the_pages_classes(classes: str) -> None:
    """The formgrader and the feedback page style a learner's note with their Bootstrap:
    does a class of the page's own (a fixed overlay, a score box) leave the note's element
    without a class, while a note box of Jupyter's alert classes keeps its colours?"""
    clean = preprocessors.clean_learner_markdown(
        f'<div class="{classes}">Score: 3 / 3, nothing to review</div> '
        f'<span class="{classes}">s</span> <code class="{classes}">c</code> '
        '<div class="alert alert-block alert-info">My note</div>'
    )
    assert clean.count("class=") == 1, clean
    assert '<div class="alert alert-block alert-info">My note</div>' in clean
    assert "Score: 3 / 3, nothing to review" in clean  # the text stays, shown plainly


@pytest.mark.parametrize(
    "address",
    ["/logout", "logout", "../../logout", "//tracker.example/x", " /logout", "&#47;logout"],
)
def test_a_learners_link_opens_nothing_on_the_pages_own_site(address: str) -> None:
    """A relative link opens on the site serving the page, the formgrader's Jupyter server
    among them, with the instructor's cookies: a click on a note's "my plot" linking to
    /logout signed the instructor out. Does such a link, in a note or in the kernel's HTML
    output, show as text, while links to other sites and within the page keep working?"""
    sanitizer = preprocessors.SanitizeLearnerHTML()
    for shown in (
        preprocessors.clean_learner_markdown(f"[my plot]({address.strip()})"),
        preprocessors.clean_learner_markdown(f'<a href="{address}">my plot</a>'),
        sanitizer.sanitize_html_tags(f'<a href="{address}" title="t">my plot</a>'),
    ):
        assert "href" not in shown and "my plot" in shown, shown
    for kept in ("https://keras.io/api/", "mailto:ta@example.org", "#q3", "HTTP://a.example"):
        assert f'href="{kept}"' in preprocessors.clean_learner_markdown(f"[x]({kept})")
        assert f'href="{kept}"' in sanitizer.sanitize_html_tags(f'<a href="{kept}">x</a>')


def test_learner_markdown_with_attachments_renders() -> None:
    """Does a note naming pasted images render to their alt text instead of failing
    (nbconvert's renderer raises for an attachment it is not handed), with no data: URL
    kept?"""
    clean = preprocessors.clean_learner_markdown(
        "![pasted](attachment:a.png) ![other](attachment:b.png) [web](https://keras.io)"
    )
    assert 'alt="pasted"' in clean and 'alt="other"' in clean and "keras.io" in clean
    assert "data:" not in clean and "attachment:" not in clean


# --------------------------------------------------------------------------- partial credit


def _graded_cell(outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("grade_answer('q5_h')")
    cell.metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "q5", "points": 2}
    cell.outputs = outputs
    return cell


@pytest.mark.parametrize(
    ("verdict_pairs", "score"),
    [
        ([(True, None), (True, None)], 2.0),
        ([(False, None), (False, None)], 0.0),
        ([(True, None), (False, None)], 1.0),
        ([(False, 0.5)], 1.0),
        ([(False, 2 / 3)], 1.33),
        ([(False, 0.0), (False, 0.5)], 0.5),
    ],
)
def test_nbgrader_scores_the_parts_a_cell_earned(verdict_pairs, score) -> None:
    """Does nbgrader's own scoring of the outputs JudgeAnswers writes give each cell the
    parts of its points its questions earned, and name every part?"""
    from nbgrader.utils import determine_grade

    from lstm_grader.preprocessors import verdict_outputs
    from lstm_lib.verdicts import Verdict

    outcome = {
        f"q{i}": Verdict(correct, f"message {i}", part)
        for i, (correct, part) in enumerate(verdict_pairs)
    }
    cell = _graded_cell(verdict_outputs(outcome, 2.0))
    assert determine_grade(cell)[0] == pytest.approx(score)
    shown = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
    assert all(f"message {i}" in shown for i in range(len(verdict_pairs)))


def test_review_reads_the_notebooks_cells_at_once_and_marks_the_flagged_cell(
    course_factory,
) -> None:
    """FlagForReview flags the submission and sends the named test cell to manual grading,
    reading the grades' cells with one query, however many grades there are."""
    from nbgrader.api import Gradebook
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    name, student = "05-return-flags", "learner"
    course = course_factory(name)
    url = f"sqlite:///{course.root / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(name, student)
        submitted = gradebook.find_submission_notebook(name, name, student)
        grades = len(submitted.grades)
        for grade in submitted.grades:  # as SaveAutoGrades leaves the autograded cells
            grade.needs_manual_grade = False
        gradebook.db.commit()
    flagged = "cell 'q3' was edited although it is locked"
    report.write_report(
        course.layout.report_file(student, name, name),
        {"flags": [flagged], "tampered_cells": ["q3"]},
    )
    config = Config()
    config.CourseDirectory.root = str(course.root)
    resources = {
        "nbgrader": {"student": student, "assignment": name, "notebook": name, "db_url": url}
    }
    selects = []

    def note(conn, cursor, statement, *args) -> None:
        selects.append(statement.lstrip().upper().startswith("SELECT"))

    Gradebook(url).close()  # the tables and the course row checked: the opening costs the same
    event.listen(Engine, "before_cursor_execute", note)
    try:
        Gradebook(url).close()
        opening = sum(selects)
        preprocessors.FlagForReview(config=config).preprocess(course.release(name), resources)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    # the opening, the submitted notebook, its cells, its grades, the submission behind it
    assert sum(selects) - 2 * opening <= 4 < grades
    with Gradebook(url) as gradebook:
        submitted = gradebook.find_submission_notebook(name, name, student)
        assert submitted.flagged
        review = {grade.name for grade in submitted.grades if grade.needs_manual_grade}
    assert review == {"q3"}


@pytest.mark.slow
def test_a_lost_output_channel_is_opened_again_for_the_next_cell(tmp_path: Path) -> None:
    """A message over the client's size limit closes the kernel's output channel for
    good. Is the cell's output noted as lost (output-limit), a cell skipped by its tag left
    alone, and the next cell's output read on a new channel, instead of every later cell
    timing out?"""
    from conftest import require_or_skip

    from lstm_grader.sandbox import MAX_MESSAGE_BYTES, sandbox_problem

    require_or_skip(sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    cells = [
        nbformat.v4.new_code_cell(f"print('x' * {MAX_MESSAGE_BYTES + 2**20})"),
        nbformat.v4.new_code_cell("print('skipped')", metadata={"tags": ["skip-execution"]}),
        nbformat.v4.new_code_cell("print('after')"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    resources = {"metadata": {"path": str(tmp_path)}}
    execute = preprocessors.SandboxedExecute(timeout=30)
    notebook, resources = execute.preprocess(notebook, resources)
    shown = ["".join(o.get("text", "") for o in cell.outputs) for cell in notebook.cells]
    assert "output lost" in shown[0]
    assert shown[1] == ""
    assert shown[2] == "after\n"
    assert "output-limit" in resources[preprocessors._STATE]["events"]


@pytest.mark.slow
def test_a_kernel_whose_launch_fails_is_reported_with_what_the_launch_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel whose sandbox cannot be entered ends before it is ready: does its start
    fail with what the launch printed (here, the control group it could not join), for
    the grader error's reason, rather than only "Kernel died"?"""
    from conftest import require_or_skip

    from lstm_grader import sandbox

    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    unwritable = str(tmp_path / "removed-group" / "cgroup.procs")
    real_prefix = sandbox.launch_prefix
    require_or_skip(real_prefix([], sandbox.ProcessLimits(1, 1, 1, 1, None)) is not None, "prlimit")
    monkeypatch.setattr(
        sandbox, "launch_prefix", lambda procs, limits: real_prefix([*procs, unwritable], limits)
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    execute = preprocessors.SandboxedExecute(timeout=30)
    with pytest.raises(RuntimeError, match="Kernel died") as failed:
        execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert f"could not join the control group {unwritable}" in str(failed.value)


def _executor_fed(messages: list[tuple[str, dict]]) -> tuple[preprocessors.SandboxedExecute, list]:
    """A ``SandboxedExecute`` (caps: 1000 bytes per cell, 3000 per notebook) that has read
    ``messages`` on IOPub while one cell ran, without a kernel; and the state it kept."""
    from jupyter_client.session import Session

    execute = preprocessors.SandboxedExecute(max_output_bytes_per_cell=1000, max_output_bytes=3000)
    cell = nbformat.v4.new_code_cell("flood()")
    execute.nb = nbformat.v4.new_notebook(cells=[cell])
    execute.reset_execution_trackers()
    execute.clear_before_next_output = False  # set as each cell starts
    # what ``preprocess`` sets up before the first cell
    execute._state = preprocessors._new_state()
    execute._cell_bytes, execute._total_bytes = {}, 0
    session = Session()
    parent = session.msg("execute_request", {"code": cell.source})
    for msg_type, content in messages:
        execute.process_message(session.msg(msg_type, content, parent=parent), cell, 0)
    return execute, execute._state["events"]


def _display(msg_type: str, display_id: str, text: str) -> tuple[str, dict]:
    content = {
        "data": {"text/plain": text},
        "metadata": {},
        "transient": {"display_id": display_id},
    }
    return msg_type, content


def test_updating_a_display_keeps_no_more_than_the_caps() -> None:
    """nbclient writes an update into the earlier output with its id, past the caps on new
    outputs. Do many large updates, and displays that reuse an id, keep the cell within
    its cap, with the cut noted?"""
    flood = [_display("display_data", f"d{i}", "x") for i in range(5)]
    for i in range(5):
        flood += [
            _display("update_display_data", f"d{i}", "y" * 800),
            _display("display_data", f"d{i}", "z" * 800),
        ]
    execute, events = _executor_fed(flood)
    outputs = execute.nb.cells[0].outputs
    kept = len(json.dumps(outputs))
    assert kept < 1000 + 500  # the cap, and the JSON around what was charged
    assert "output-limit" in events
    assert "output truncated" in outputs[-1]["text"]


def test_an_update_within_the_caps_is_shown() -> None:
    execute, events = _executor_fed(
        [_display("display_data", "d", "old"), _display("update_display_data", "d", "new")]
    )
    assert [o["data"]["text/plain"] for o in execute.nb.cells[0].outputs] == ["new"]
    assert events == []


def test_widget_messages_are_ignored() -> None:
    """Is no widget state kept for the notebook's metadata, and no output widget
    emulated, whatever the comm messages say?"""
    state = {"_model_name": "OutputModel", "_model_module": "@jupyter-widgets/output"}
    execute, events = _executor_fed(
        [
            ("comm_open", {"comm_id": "c", "target_name": "jupyter.widget", "data": {}}),
            ("comm_open", {"comm_id": "w", "target_name": "jupyter.widget", "data": {"state": {}}}),
            ("comm_msg", {"comm_id": "w", "data": {"state": {**state, "v": "x" * 10_000}}}),
            ("comm_msg", {"comm_id": "w", "data": {"state": {"msg_id": "m"}}}),
        ]
    )
    execute.set_widgets_metadata()
    assert not execute.widget_state and not execute.comm_objects
    assert "widgets" not in execute.nb.metadata
    assert events == []


class _CountingSandbox:
    """A sandbox kernel manager's CPU readings, each larger than the last (as cumulative
    counts are), and the cores it may use (None: no quota held it, or it has ended)."""

    def __init__(self, quota: float | None) -> None:
        self.quota, self.reads, self.ended = quota, 0, False

    def cpu_wait_seconds(self) -> float:
        self.reads += 1
        return 10.0 * self.reads

    def cpu_used_seconds(self) -> float:
        return 100.0 * self.reads

    def cpu_quota(self) -> float | None:
        return None if self.ended else self.quota


@pytest.mark.parametrize("quota", [1.0, None])
def test_a_timeout_keeps_the_cpu_use_read_with_the_wait_before_the_interrupt(
    monkeypatch: pytest.MonkeyPatch, quota: float | None
) -> None:
    """A sandbox that keeps more processes busy than its quota allows waits as long as one
    the host held up. Is its CPU use read with the wait, at the cell's start and as the
    cell runs out of time (not after the interrupt, which ends the sandbox), and kept in
    the report with the seconds between the readings and the sandbox's cores; and, where
    no quota holds the sandbox, is the wait kept alone?"""
    from nbclient.client import NotebookClient

    async def interrupted(self: Any, timeout: int, cell: Any = None) -> None:
        return None

    monkeypatch.setattr(NotebookClient, "_async_handle_timeout", interrupted)
    execute = preprocessors.SandboxedExecute(timeout=30)
    execute._sandbox_km = _CountingSandbox(quota)
    execute._cut_by_notebook_deadline = False
    execute._cpu_at_cell = execute._cpu_reading()
    asyncio.run(execute._async_handle_timeout(30, None))
    # the interrupt ends the sandbox: its readings grow on, and its group is gone
    execute._sandbox_km.reads += 5
    execute._sandbox_km.ended = True
    resources: dict[str, Any] = {preprocessors._STATE: preprocessors._new_state()}
    execute._note_cpu_wait(resources)
    measured = resources[preprocessors._STATE]["timeout_cpu_wait"]
    elapsed = measured.pop("elapsed_seconds", None)
    if quota is None:
        assert measured == {"limit_seconds": 30, "waited_seconds": 10.0}
        assert elapsed is None
    else:
        assert measured == {
            "limit_seconds": 30,
            "waited_seconds": 10.0,
            "used_cpu_seconds": 100.0,
            "cpus": 1.0,
        }
        assert isinstance(elapsed, float) and 0 <= elapsed < 30


@pytest.mark.slow
def test_a_real_kernels_messages_are_never_refused(tmp_path: Path) -> None:
    """Does every kind of message a real kernel sends get through the grader's checks:
    prints on both streams, rich displays and their updates, results, cleared output, an
    error, a plot, and the kernel interrupted at a cell's timeout?"""
    from conftest import require_or_skip

    from lstm_grader.sandbox import sandbox_problem

    require_or_skip(sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    sources = [
        "import sys\nprint('out')\nprint('err', file=sys.stderr)",
        "from IPython.display import HTML, Markdown, JSON, display, update_display, clear_output\n"
        "display(HTML('<b>x</b>'), Markdown('*y*'), JSON({'a': [1, 2]}))\n"
        "display('first', display_id='d')\nupdate_display('second', display_id='d')\n"
        "clear_output(wait=True)\nprint('after clearing')",
        "{'a': 1}",
        "raise ValueError('a learner mistake')",
        "import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2])\nfrom IPython.display import display\ndisplay(plt.gcf())",
        "import time\ntime.sleep(30)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    execute = preprocessors.SandboxedExecute(timeout=3, interrupt_on_timeout=True)
    notebook, resources = execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    state = resources[preprocessors._STATE]
    assert "bad-message" not in state["events"], state["refused_messages"]
    assert "timed-out" in state["events"]
    # the sandbox's wait for a CPU in the cell that ran out of time, against the cell's limit
    assert state["timeout_cpu_wait"]["limit_seconds"] == 3
    assert isinstance(state["timeout_cpu_wait"]["waited_seconds"], float)
    kinds = {output["output_type"] for cell in notebook.cells for output in cell.outputs}
    assert kinds == {"stream", "display_data", "execute_result", "error"}
    nbformat.validate(notebook)


@pytest.mark.slow
def test_the_notebook_deadline_cuts_short_the_cell_running_when_it_comes(tmp_path: Path) -> None:
    """A cell started just before the notebook's deadline could run a whole cell limit past
    it (328 s for a notebook allowed 300). Is the cell stopped at the notebook's deadline,
    the learner and the report told that the notebook's time ran out in that cell?"""
    from conftest import require_or_skip

    from lstm_grader.sandbox import sandbox_problem

    require_or_skip(sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    sources = ["import time\ntime.sleep(2)", "time.sleep(60)", "print('never')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    execute = preprocessors.SandboxedExecute(timeout=40, notebook_timeout=6)
    started = time.monotonic()
    notebook, resources = execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    took = time.monotonic() - started
    state = resources[preprocessors._STATE]
    assert took < 25, f"the notebook ran {took:.0f} s, past its 6 s"
    assert state["stopped_by"] == (
        "the notebook ran past the 6 s it may take while graded, in cell 2 ('time.sleep(60)')"
    )
    assert "timed-out" in state["events"] and state["not_run"] == [2]
    # the wait for a CPU is counted against the notebook's limit, the one it ran past
    assert state["timeout_cpu_wait"]["limit_seconds"] == 6
    assert isinstance(state["timeout_cpu_wait"]["waited_seconds"], float)
    stopped = [o["evalue"] for o in notebook.cells[1].outputs if o["output_type"] == "error"]
    assert stopped == [
        "Grading stopped this cell when the notebook reached the 6 s it may take while "
        "graded; the cells after it did not run. Make a long computation (training for many "
        "epochs) shorter before you submit."
    ]


@contextlib.contextmanager
def _busy_host_processes(count: int, cpu: int) -> Iterator[None]:
    """``count`` busy processes outside any sandbox, on CPU ``cpu`` alone, while inside."""
    import subprocess
    import sys

    def pinned() -> None:
        os.sched_setaffinity(0, {cpu})

    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pinned)
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in busy:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_a_cell_that_ran_out_of_time_waiting_for_a_cpu_reads_as_held_up(tmp_path: Path) -> None:
    """nbclient interrupts a cell that runs out of time, and the interrupt ends the
    sandbox: the wait read after it was one exited process's, so a cell that waited for a
    CPU for much of its limit read as never held up (0 s), and ``lstm-grade`` would not
    grade it again alone. Is the wait read before the interrupt, with the sandbox's CPU
    use, so that a cell whose CPU two busy processes outside the sandbox shared reads as
    held up?"""
    from conftest import require_or_skip

    from lstm_grader.classgrade import timed_out_beside_others
    from lstm_grader.sandbox import sandbox_problem

    require_or_skip(sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    cpu = min(os.sched_getaffinity(0))
    source = f"import os\nos.sched_setaffinity(0, {{{cpu}}})\nwhile True:\n    pass"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    execute = preprocessors.SandboxedExecute(timeout=5)
    with _busy_host_processes(2, cpu):
        notebook, resources = execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    state = resources[preprocessors._STATE]
    assert "timed-out" in state["events"], notebook.cells[0].outputs
    measured = state["timeout_cpu_wait"]
    assert measured["limit_seconds"] == 5
    # measured, not unknown (which would be graded again too, without knowing why)
    assert isinstance(measured["waited_seconds"], float), measured
    assert timed_out_beside_others(state), measured


QUARTER_CORE = 0.25


@pytest.mark.slow
def test_a_cell_that_kept_more_processes_busy_than_its_cores_reads_as_not_held_up(
    tmp_path: Path,
) -> None:
    """Two busy processes in a one-core sandbox wait for a CPU half the time, throttled by
    its quota and taking turns: that read as held up by the host, so any endless notebook
    could make itself graded again and cost its limit twice. Does a cell that keeps two
    busy processes until its limit, in a sandbox of fewer cores than that, read as having
    waited, yet used all of its cores, and so as not held up?"""
    from conftest import require_or_skip

    from lstm_grader.classgrade import HELD_UP_SHARE, timed_out_beside_others
    from lstm_grader.sandbox import sandbox_problem

    require_or_skip(sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    source = "import os\nos.fork()\nwhile True:\n    pass"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    config = Config()
    # a quarter of a core, not one: a test host busy with other work gave a busy process
    # half a core, and a one-core sandbox there was held up by the host, truly
    config.SandboxKernelManager.cpus = QUARTER_CORE
    execute = preprocessors.SandboxedExecute(timeout=5, config=config)
    notebook, resources = execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    state = resources[preprocessors._STATE]
    assert "timed-out" in state["events"], notebook.cells[0].outputs
    measured = state["timeout_cpu_wait"]
    held_to_its_cores = any(limit.startswith("cpu:") for limit in state["sandbox"]["limits"])
    require_or_skip(held_to_its_cores, "a cpu control group for the sandbox")
    assert "used_cpu_seconds" in measured, measured
    assert measured["cpus"] == QUARTER_CORE
    # by the wait alone, it would read as held up
    assert measured["waited_seconds"] >= HELD_UP_SHARE * measured["limit_seconds"], measured
    assert not timed_out_beside_others(state), measured


def test_an_answer_that_quotes_a_lone_surrogate_still_leaves_a_notebook_that_saves(
    course: Path,
) -> None:
    """A dict answer's keys are quoted in its verdict. Does a key that is a lone surrogate
    (valid JSON, not text) cost the question and leave a notebook nbformat can write?"""
    entry = {"kind": "value", "expected": {"units": 8}, "context": {}, "mistakes": []}
    (course / "references" / f"{ASSIGNMENT}.json").write_text(
        json.dumps({"questions": {"q1": entry}})
    )
    answer = {"t": "dict", "v": {"\ud800": {"t": "int", "v": 8}}}
    forged = {"status": "ok", "data": {"text/plain": repr(json.dumps(answer))}, "metadata": {}}
    notebook, found = _judge(
        course, [_test_cell("t1", "q1")], {}, staged_questions={"t1": {"q1": forged}}
    )
    assert found["questions"]["q1"]["correct"] is False
    assert "lone surrogate" in found["questions"]["q1"]["message"]
    nbformat.writes(notebook).encode("utf-8")


def test_square_brackets_reach_the_page_as_references_shown_the_same() -> None:
    """The page's template runs nbconvert's strip_files_prefix, whose pattern for a
    markdown link takes time growing with the square of nested brackets (a 100 kB cell of
    ``[`` × 20,000 ``x`` ``](y)`` × 20,000 took 25 s to render). Do a learner's markdown
    and a kernel's HTML output reach it with no bracket as such, shown all the same?"""
    import html

    from nbconvert.filters.strings import strip_files_prefix

    nested = "[" * 2_000 + "x" + "](y)" * 2_000
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(nested + " and [a link](https://example.org)"),
            nbformat.v4.new_code_cell(
                "print()",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", data={"text/html": f"<p>{nested}</p>", "text/plain": "x"}
                    )
                ],
            ),
        ]
    )
    cleaned, _ = preprocessors.SanitizeLearnerHTML().preprocess(notebook, {})
    markdown, code = cleaned.cells
    shown = code.outputs[0].data["text/html"]
    for page in (markdown.source, shown):
        assert "[" not in page and "]" not in page
        assert strip_files_prefix(page) == page
    # the innermost [x](y) is a link; every other bracket is text, shown as written
    assert "[" * 1_999 in html.unescape(markdown.source) and nested in html.unescape(shown)
    assert '<a href="https://example.org">a link</a>' in markdown.source


def test_only_what_is_read_is_kept_of_a_learners_cells() -> None:
    """Does the copy being graded keep a cell's nbgrader entry, tags, Jupyter flags and
    pasted images, and drop what nothing reads (other metadata, however nested, keys
    outside nbformat's, attachments that are not text)?"""
    nested: list = [0]
    for _ in range(400):
        nested = [nested]
    cell = nbformat.v4.new_markdown_cell("notes")
    cell.metadata.update(
        nbgrader={"grade": False},
        tags=["mine"],
        jupyter={"source_hidden": True},
        collapsed=True,
        deep=nested,
        execution={"iopub.execute_input": "2026-12-03"},
    )
    cell["attachments"] = {"a.png": {"image/png": "iVBORw0KGgo="}}
    cell["extra"] = nested
    odd = nbformat.v4.new_markdown_cell("more")
    odd.metadata["tags"] = [nested]
    odd["attachments"] = {"b.png": {"image/png": nested}}
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [cell, odd]  # as read without validation: nbgrader's own reader warns only
    notebook["extra"] = nested
    preprocessors._drop_what_is_never_graded(notebook)
    assert dict(cell.metadata) == {
        "nbgrader": {"grade": False},
        "tags": ["mine"],
        "jupyter": {"source_hidden": True},
        "collapsed": True,
    }
    assert "extra" not in cell and "extra" not in notebook
    assert cell.attachments == {"a.png": {"image/png": "iVBORw0KGgo="}}
    assert dict(odd.metadata) == {} and "attachments" not in odd


def _digests(*cells: nbformat.NotebookNode) -> dict[str, str]:
    return preprocessors.answer_digests(nbformat.v4.new_notebook(cells=list(cells)))


def test_a_manual_scores_digest_changes_with_any_code_that_can_change_the_answer() -> None:
    """Does the digest a manual score is kept by change when a cell the learner added
    redefines the answer, when an answer cell loses its solution flag by hand, and when an
    earlier question's answer cell changes (it may define this answer too), and stay the
    same when only a note changes?"""
    answer = nbformat.v4.new_code_cell(
        "answer_q2 = 3", metadata={"nbgrader": {"solution": True, "grade_id": "q2-answer"}}
    )
    earlier = nbformat.v4.new_code_cell(
        "shape = 3", metadata={"nbgrader": {"solution": True, "grade_id": "q1-answer"}}
    )
    note = nbformat.v4.new_markdown_cell("my notes")
    first = _test_cell("q1", "q1")
    test = _test_cell("q2", "q2")
    digest = _digests(earlier, first, note, answer, test)["q2"]
    added = nbformat.v4.new_code_cell("answer_q2 = 4")
    assert _digests(earlier, first, note, answer, added, test)["q2"] != digest
    unflagged = nbformat.from_dict(answer)
    del unflagged.metadata["nbgrader"]
    unflagged.source = "answer_q2 = 4"
    assert _digests(earlier, first, note, unflagged, test)["q2"] != digest
    changed = nbformat.from_dict(earlier)
    changed.source = "shape = 4"
    assert _digests(changed, first, note, answer, test)["q2"] != digest
    edited_note = nbformat.v4.new_markdown_cell("my notes, longer")
    assert _digests(earlier, first, edited_note, answer, test)["q2"] == digest
    # a file the kernel may read can hold the answer: its digest is part of each one
    notebook = nbformat.v4.new_notebook(cells=[earlier, first, note, answer, test])
    assert preprocessors.answer_digests(notebook, "")["q2"] == digest
    with_file = preprocessors.answer_digests(notebook, "a" * 64)["q2"]
    assert with_file != digest
    assert preprocessors.answer_digests(notebook, "b" * 64)["q2"] != with_file


def test_grading_metadata_without_a_grade_id_is_counted_for_a_flag() -> None:
    """Are cells whose nbgrader metadata claims points, an answer, a task or a lock with
    no grade id (or is no mapping at all) counted, however the cell's metadata is shaped,
    and cells with a grade id or plain metadata not?"""
    cells = [
        {"metadata": {"nbgrader": {"grade": True, "points": 100}}},
        {"metadata": {"nbgrader": {"solution": True, "grade_id": 7}}},
        {"metadata": {"nbgrader": ["q1"]}},
        {"metadata": {"nbgrader": None}},
        {"metadata": {"nbgrader": {"schema_version": 3, "grade": False}}},
        {"metadata": {"nbgrader": {"grade": True, "grade_id": "bonus"}}},
        {"metadata": ["not", "a", "mapping"]},
        {"metadata": {}},
        "not a cell",
    ]
    assert preprocessors.unnamed_grading_cells(nbformat.NotebookNode(cells=cells)) == 4


def _with_nbgrader(
    cell: nbformat.NotebookNode, grade_id: str, *, locked: bool, solution: bool
) -> nbformat.NotebookNode:
    cell.metadata["nbgrader"] = {
        "schema_version": 3,
        "grade_id": grade_id,
        "locked": locked,
        "grade": False,
        "solution": solution,
    }
    return cell


def _question_notebook() -> nbformat.NotebookNode:
    """A prompt, an answer cell and a test cell, as the course writes each question."""
    prompt = nbformat.v4.new_markdown_cell("**Q1.** The output shape?")
    answer = nbformat.v4.new_code_cell("answer_q1 = None")
    return nbformat.v4.new_notebook(
        cells=[
            _with_nbgrader(prompt, "q1-prompt", locked=True, solution=False),
            _with_nbgrader(answer, "q1-answer", locked=False, solution=True),
            _test_cell("t1", "q1"),
        ]
    )


def test_what_honest_editors_do_is_no_flag_and_what_tampers_still_is() -> None:
    """JupyterLab copies a cell's nbgrader metadata with the cell, and VS Code and Colab let
    a learner type into a locked prompt. Are a copied answer cell and an edited prompt
    (grading restores it) left unflagged, so no question waits for the instructor, while a
    copied test cell, a prompt turned into code and an edited test cell are still flagged?"""
    released = _question_notebook()
    honest = _question_notebook()
    honest.cells.insert(2, copy.deepcopy(honest.cells[1]))
    honest.cells[0].source += "\n\nMy note: batch comes first."
    assert preprocessors.compare_with_release(honest, released) == ([], set())

    copied_test = _question_notebook()
    copied_test.cells.append(copy.deepcopy(copied_test.cells[2]))
    assert preprocessors.compare_with_release(copied_test, released) == (
        ["cell 't1' appears 2 times"],
        {"t1"},
    )
    retyped = _question_notebook()
    retyped.cells[0] = nbformat.v4.new_code_cell("answer_q1 = (None, 3)")
    retyped.cells[0].metadata = released.cells[0].metadata
    flags, tampered = preprocessors.compare_with_release(retyped, released)
    assert flags == ["cell 'q1-prompt' was retyped from markdown to code"] and not tampered
    edited = _question_notebook()
    edited.cells[2].source += "\nprint('mine')"
    assert preprocessors.compare_with_release(edited, released)[0] == [
        "cell 't1' was edited although it is locked"
    ]


def test_the_review_note_names_the_flags_behind_it() -> None:
    """A flag on a cell that is no test cell (a locked data cell edited) sends every test
    cell to the instructor. Does each one's note say why, rather than 'see the report',
    while a flag on another test cell stays out of its note?"""
    report = {
        "flags": [
            "cell 'data' was edited although it is locked",
            "cell 't2' was edited although it is locked",
        ],
        "tampered_cells": ["t2"],
    }
    assert preprocessors.cells_to_review(report, ["t1", "t2"]) == {"t1", "t2"}
    note = preprocessors._review_note(report, "t1")
    assert note == "Flagged for the instructor: cell 'data' was edited although it is locked.\n"
    assert "cell 't2'" in preprocessors._review_note(report, "t2")


@pytest.mark.parametrize(
    ("events", "stopped_by", "message"),
    [
        (["kernel-died"], "", "Not graded: the kernel died before this cell ran."),
        (["cpu-limit"], "", "Not graded: the sandbox used up its CPU time before this cell ran."),
        (["timed-out"], "", "Not graded: time ran out before this cell ran."),
        (
            ["timed-out"],
            "cell 4 ('m.fit(...)') ran past the 30 s a cell may take while graded",
            "Not graded: cell 4 ('m.fit(...)') ran past the 30 s a cell may take while "
            "graded, so this cell did not run.",
        ),
        # the cell that ran out of time names a timeout only, never another stop
        (["kernel-died"], "cell 4 ran past", "Not graded: the kernel died before this cell ran."),
        ([], "", "Not graded: the run stopped before this cell ran."),
    ],
)
def test_a_cell_the_run_never_reached_is_told_why(
    events: list[str], stopped_by: str, message: str
) -> None:
    """Does a test cell the run never reached say what stopped the run, naming the cell
    that ran out of time when one did?"""
    state = {**preprocessors._new_state(), "events": events, "stopped_by": stopped_by}
    assert preprocessors._why_not_run(state) == message


def test_a_long_line_of_learner_code_is_cut_where_it_is_shown() -> None:
    """Pygments' IPython lexer takes time that grows with the square of a line's length
    (100 s for one line of 100,000 dots, on each feedback page and formgrader view). Is
    each line past max_line_chars cut, saying how much, the short lines and the course's
    own locked cells kept whole?"""
    config = Config()
    config.SanitizeLearnerHTML.max_line_chars = 50
    long_test = nbformat.v4.new_code_cell("assert answer_q1 == " + "1" * 80)
    long_test.metadata["nbgrader"] = {"locked": True, "grade": True, "grade_id": "q1"}
    learner = nbformat.v4.new_code_cell("x = 1\n" + "." * 100_000 + "\ny = 2")
    notebook = nbformat.v4.new_notebook(cells=[learner, long_test])
    cleaned, _ = preprocessors.SanitizeLearnerHTML(config=config).preprocess(notebook, {})
    shown, test = cleaned.cells
    lines = shown.source.split("\n")
    assert lines[0] == "x = 1" and lines[2] == "y = 2"
    assert lines[1] == "." * 50 + "  # ... 99,950 more characters of this line are not shown"
    assert test.source == "assert answer_q1 == " + "1" * 80


def test_fenced_code_in_learner_markdown_is_shown_plain() -> None:
    """A fence names any of pygments' lexers, and the IPython one takes time that grows
    with the square of a line's length. Is a learner's fenced code shown as plain,
    escaped text, whatever language it names?"""
    for fence in ("ipython3", "ipython", "python", "nosuchlexer", ""):
        html = preprocessors.clean_learner_markdown(f"```{fence}\n<b>x</b> = ...\n```")
        assert html == "<pre><code>&lt;b&gt;x&lt;/b&gt; = ...\n</code></pre>", (fence, html)


def test_a_cut_kernel_is_looked_for_again_only_when_memory_grows(monkeypatch) -> None:
    """Once a flooding kernel's output is cut, is the grader's descriptor table scanned
    again only when its memory has grown a further step past the least it held since (a
    kernel that connects again and floods again), not on every tick of the memory watch,
    and is the kernel killed past the kill bound whatever the scans found?"""
    from lstm_grader import kernel_messages

    scans: list[int] = []
    killed: list[bool] = []

    class Process:
        def kill(self) -> None:
            killed.append(True)

    class Provisioner:
        process = Process()

        def cut_output_connection(self) -> int:
            scans.append(1)
            return 1

    execute = preprocessors.SandboxedExecute()
    monkeypatch.setattr(execute, "_provisioner", lambda: Provisioner())
    step = kernel_messages.CLIENT_MEMORY_RESCAN_BYTES
    held = kernel_messages.CLIENT_MEMORY_WATCH_BYTES + 1
    for _ in range(200):  # one second of watch ticks with the memory kept after the cut
        execute._stop_flooding_kernel(held)
    assert len(scans) == 1
    execute._stop_flooding_kernel(held + step - 1)
    assert len(scans) == 1
    execute._stop_flooding_kernel(held + step)  # connected again, flooding again
    assert len(scans) == 2
    # the memory fell back after that cut, and a new flood grows a step from there
    execute._stop_flooding_kernel(held)
    execute._stop_flooding_kernel(held + step)
    assert len(scans) == 3 and not killed
    execute._stop_flooding_kernel(kernel_messages.CLIENT_MEMORY_KILL_BYTES + 1)
    assert killed


@pytest.mark.slow
def test_the_wait_for_the_kernels_turn_is_not_the_notebooks_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ordinary user's kernel waits for that user's other kernel to end before it
    starts (sandbox.KernelTurn), as long as that one runs. Does the notebook still get
    the whole of its own time, every cell running, when the wait was longer than it?"""
    from conftest import require_or_skip

    from lstm_grader import sandbox

    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    monkeypatch.setattr(sandbox, "_password_home", lambda uid: str(tmp_path))
    monkeypatch.setattr(sandbox, "_kernels_take_turns", lambda identity, group: True)
    real_take = sandbox.KernelTurn.take

    async def after_another_kernel(uid: int, on_wait: Any = None) -> sandbox.KernelTurn:
        await asyncio.sleep(10)  # the other kernel runs
        # a root grader's kernel runs as a sandbox uid: its turn here is this process's
        return await real_take(os.geteuid(), on_wait)

    monkeypatch.setattr(sandbox.KernelTurn, "take", after_another_kernel)
    sources = ["import time\ntime.sleep(1)", "time.sleep(1)", "print('ran')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    execute = preprocessors.SandboxedExecute(timeout=20, notebook_timeout=8)
    work = tmp_path / "work"
    work.mkdir()
    notebook, resources = execute.preprocess(notebook, {"metadata": {"path": str(work)}})
    state = resources[preprocessors._STATE]
    assert state["stopped_by"] == "", state["stopped_by"]
    assert state["not_run"] == []
    assert [o.get("text") for o in notebook.cells[2].outputs] == ["ran\n"]
