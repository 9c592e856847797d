"""Read the graded answers that a test cell's hidden region declares."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
_HIDDEN_RE = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n(?P<body>.*?)^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    re.MULTILINE | re.DOTALL,
)


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


def split_hidden(source: str) -> tuple[str, str]:
    """Split a test cell's source into its visible part and its hidden regions' text.

    Examples
    --------
    >>> visible, hidden = split_hidden('expect_int(a)\\n### BEGIN HIDDEN TESTS\\n'
    ...                                'grade_answer("q1", a)\\n### END HIDDEN TESTS\\n')
    >>> visible
    'expect_int(a)\\n'
    >>> hidden
    'grade_answer("q1", a)\\n'
    """
    hidden = "".join(match.group("body") for match in _HIDDEN_RE.finditer(source))
    visible = _HIDDEN_RE.sub("", source)
    return visible, hidden


def graded_answers(hidden: str) -> list[GradedAnswer]:
    """Parse the ``grade_answer(question, expression)`` calls of a hidden region.

    Anything else in a hidden region is an authoring error: the verdict is computed
    outside the learner's kernel, so a hidden region holds declarations, not code.

    Raises
    ------
    ValueError
        If the region holds anything but ``grade_answer("<id>", <expression>)`` calls.

    Examples
    --------
    >>> graded_answers('grade_answer("q2", answer_q2)\\n')
    [GradedAnswer(question='q2', expression='answer_q2')]
    """
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
            and len(call.args) == 2
            and not call.keywords
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
        ):
            raise ValueError(
                'a hidden test region may only hold grade_answer("<question>", <answer>) '
                f"lines; found: {ast.unparse(statement)!r}"
            )
        answers.append(GradedAnswer(call.args[0].value, ast.unparse(call.args[1])))
    return answers
