"""Read nbgrader's delimited regions: the graded answers a hidden test region declares,
and the solution regions of the instructor's notebooks.

The delimiters are nbgrader's own settings (``ClearHiddenTests.begin_test_delimeter``,
``ClearSolutions.begin_solution_delimeter`` and their ends), read from the course's
configuration, and a region is found the way nbgrader finds it (a line that contains the
delimiter), so the grader reads exactly the region nbgrader hides from learners.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

#: A region's opening and closing delimiter.
Delimiters = tuple[str, str]


def hidden_test_delimiters(config: Any = None) -> Delimiters:
    """The hidden-test delimiters nbgrader uses under ``config`` (default: its own defaults).

    Examples
    --------
    >>> hidden_test_delimiters()
    ('BEGIN HIDDEN TESTS', 'END HIDDEN TESTS')
    """
    from nbgrader.preprocessors import ClearHiddenTests

    clear = ClearHiddenTests(config=config) if config is not None else ClearHiddenTests()
    return clear.begin_test_delimeter, clear.end_test_delimeter


def solution_delimiters(config: Any = None) -> Delimiters:
    """The solution delimiters nbgrader uses under ``config`` (default: its own defaults).

    Examples
    --------
    >>> solution_delimiters()
    ('BEGIN SOLUTION', 'END SOLUTION')
    """
    from nbgrader.preprocessors import ClearSolutions

    clear = ClearSolutions(config=config) if config is not None else ClearSolutions()
    return clear.begin_solution_delimeter, clear.end_solution_delimeter


def split_region(source: str, delimiters: Delimiters) -> tuple[str, str]:
    """Split ``source`` into the text outside the delimited regions and the text inside.

    The delimiter lines themselves belong to neither, as in nbgrader.

    Raises
    ------
    ValueError
        If a region opens inside another or never closes.
    """
    begin, end = delimiters
    outside: list[str] = []
    inside: list[str] = []
    in_region = False
    for line in source.split("\n"):
        if begin in line:
            if in_region:
                raise ValueError(f"a {begin!r} region opens inside another")
            in_region = True
        elif end in line:
            in_region = False
        elif in_region:
            inside.append(line + "\n")
        else:
            outside.append(line)
    if in_region:
        raise ValueError(f"a {begin!r} region is never closed with {end!r}")
    return "\n".join(outside), "".join(inside)


@dataclass(frozen=True)
class GradedAnswer:
    """One ``grade_answer("q3", answer_q3)`` line of a hidden test region.

    Attributes
    ----------
    question : str
        The question id, the key of its reference value in ``references/<assignment>.json``.
    expression : str
        The Python expression whose value is the learner's answer (usually a name).
    """

    question: str
    expression: str


def split_hidden(source: str, delimiters: Delimiters | None = None) -> tuple[str, str]:
    """Split a test cell's source into its visible part and its hidden regions' text.

    ``delimiters`` defaults to :func:`hidden_test_delimiters` (nbgrader's defaults); the grader
    passes the course's.

    Examples
    --------
    >>> visible, hidden = split_hidden('expect_int(a)\\n### BEGIN HIDDEN TESTS\\n'
    ...                                'grade_answer("q1", a)\\n### END HIDDEN TESTS\\n')
    >>> visible
    'expect_int(a)\\n'
    >>> hidden
    'grade_answer("q1", a)\\n'
    """
    return split_region(source, delimiters or hidden_test_delimiters())


def graded_answers(hidden: str) -> list[GradedAnswer]:
    """Parse the ``grade_answer(question[, expression])`` calls of a hidden region.

    ``grade_answer("q3")`` grades the answer named after the question (``answer_q3``,
    :func:`lstm_lib.checks.answer_name`). Anything else in a hidden region is an authoring
    error: the verdict is computed outside the learner's kernel, so a hidden region holds
    declarations, not code.

    Raises
    ------
    ValueError
        If the region holds anything but ``grade_answer("<id>"[, <expression>])`` calls.

    Examples
    --------
    >>> [a.expression for a in graded_answers('grade_answer("q2", h)\\ngrade_answer("q3")')]
    ['h', 'answer_q3']
    """
    from lstm_lib.checks import answer_name

    try:
        tree = ast.parse(hidden)
    except SyntaxError as exc:
        raise ValueError(f"hidden test region is not valid Python: {exc}") from None
    answers = []
    for statement in tree.body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "grade_answer"
            and len(call.args) in (1, 2)
            and not call.keywords
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            raise ValueError(
                'a hidden test region may only hold grade_answer("<question>"[, <answer>]) '
                f"lines; found: {ast.unparse(statement)!r}"
            )
        question = call.args[0].value
        expression = ast.unparse(call.args[1]) if len(call.args) == 2 else answer_name(question)
        answers.append(GradedAnswer(question, expression))
    return answers
