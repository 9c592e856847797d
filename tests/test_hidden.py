"""lstm_grader.hidden: the grader reads exactly the regions nbgrader hides, with the
delimiters the course configures."""

from __future__ import annotations

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from traitlets.config import Config

from lstm_grader import hidden
from lstm_grader.synthetic import solution_sources

_LINES = st.sampled_from(
    [
        "expect_int(answer_q1)",
        'grade_answer("q1", answer_q1)',
        "x = 1",
        "",
        "    # indented comment",
    ]
)


@st.composite
def _test_cell_sources(draw: st.DrawFn, begin: str, end: str) -> str:
    """A test cell's source: visible lines with well-formed hidden regions between them."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        parts += draw(st.lists(_LINES, max_size=3))
        indent = draw(st.sampled_from(["", "    "]))
        parts += [f"{indent}### {begin}", *draw(st.lists(_LINES, max_size=3)), f"### {end}"]
    parts += draw(st.lists(_LINES, max_size=3))
    return "\n".join(parts)


def _nbgrader_visible(source: str, config: Config) -> str:
    cell = nbformat.v4.new_code_cell(source)
    ClearHiddenTests(config=config)._remove_hidden_test_region(cell)
    return cell.source


@settings(max_examples=200, deadline=None)
@given(source=_test_cell_sources("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"))
def test_the_visible_part_is_what_nbgrader_shows_learners(source: str) -> None:
    """For any test cell, is the grader's visible part exactly the source nbgrader leaves
    in the student version?"""
    visible, _ = hidden.split_hidden(source)
    assert visible == _nbgrader_visible(source, Config())


@settings(max_examples=100, deadline=None)
@given(source=_test_cell_sources("HIDE FROM HERE", "HIDE TO HERE"))
def test_a_course_that_renames_the_delimiters_is_read_with_its_own(source: str) -> None:
    """With ClearHiddenTests' delimiters renamed in the config, does the grader split on
    the course's delimiters, as nbgrader does?"""
    config = Config()
    config.ClearHiddenTests.begin_test_delimeter = "HIDE FROM HERE"
    config.ClearHiddenTests.end_test_delimeter = "HIDE TO HERE"
    delimiters = hidden.hidden_test_delimiters(config)
    assert delimiters == ("HIDE FROM HERE", "HIDE TO HERE")
    visible, _ = hidden.split_hidden(source, delimiters)
    assert visible == _nbgrader_visible(source, config)


def test_the_hidden_text_is_what_the_regions_hold() -> None:
    """Is the hidden text the lines between the delimiters, from every region, in order?"""
    source = (
        "expect_int(a)\n### BEGIN HIDDEN TESTS\ngrade_answer('q1', a)\n### END HIDDEN TESTS\n"
        "x = 1\n    ### BEGIN HIDDEN TESTS\ngrade_answer('q2', b)\n### END HIDDEN TESTS"
    )
    visible, secret = hidden.split_hidden(source)
    assert visible == "expect_int(a)\nx = 1"
    assert [a.question for a in hidden.graded_answers(secret)] == ["q1", "q2"]


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
        "expect_int(a)\n### BEGIN HIDDEN TESTS\ngrade_answer('q1', a)",
    ],
    ids=["nested", "unclosed"],
)
def test_a_malformed_region_is_an_authoring_error(source: str) -> None:
    """Is a nested or unclosed region refused with a message, as nbgrader refuses it?"""
    with pytest.raises(ValueError, match="region"):
        hidden.split_hidden(source)


def test_solution_sources_use_the_courses_solution_delimiters() -> None:
    """Does the synthetic class builder strip the solution delimiters the config names,
    like nbgrader's ClearSolutions?"""
    config = Config()
    config.ClearSolutions.begin_solution_delimeter = "BEGIN ANSWER"
    config.ClearSolutions.end_solution_delimeter = "END ANSWER"
    assert ClearSolutions(config=config).begin_solution_delimeter == "BEGIN ANSWER"
    cell = nbformat.v4.new_code_cell("### BEGIN ANSWER\nanswer_q1 = 3\n### END ANSWER")
    cell.metadata["nbgrader"] = {"solution": True, "grade_id": "q1-answer"}
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert solution_sources(notebook, config) == {"q1-answer": "answer_q1 = 3"}
    assert solution_sources(notebook) == {
        "q1-answer": "### BEGIN ANSWER\nanswer_q1 = 3\n### END ANSWER"
    }
