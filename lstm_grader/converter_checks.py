"""Course checks that nbgrader's converters make once, before the first notebook.

nbgrader calls ``BaseConverter.convert_notebooks`` once per command (``generate_assignment``,
``autograde``, ``generate_feedback``), after finding the submissions and before touching
the first learner's folder. A check put in front of it can stop the whole command with one
line, where the same problem met notebook by notebook would fail, or remove the work of,
every learner. The course's ``nbgrader_config.py`` installs the checks (through
:func:`lstm_grader.gradebook_guard.guard_gradebook` and
:func:`lstm_grader.course_settings.guard_settings`), so plain ``nbgrader``, the formgrader and
``lstm-grade`` are all checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["check_before_converting"]


def check_before_converting(
    flag: str, problem_of: Callable[[Any], str | None], error: type[Exception]
) -> None:
    """Make every nbgrader converter ask ``problem_of(converter)`` before it converts.

    Parameters
    ----------
    flag : str
        The check's name, set on the installed wrapper: installing the same check again
        changes nothing (the wrappers of later checks carry it on).
    problem_of : callable
        Takes the converter and returns None to go on, or the one line to stop with,
        saying what is wrong, what to do, and that nothing was touched.
    error : type of Exception
        Raised with that line once it is logged as an error: a subclass of nbgrader's
        ``NbGraderException``, which nbgrader's applications turn into exit status 1
        without a traceback.
    """
    from nbgrader.converters.base import BaseConverter

    unchecked = BaseConverter.convert_notebooks
    if getattr(unchecked, flag, False):
        return

    @functools.wraps(unchecked)
    def convert_notebooks(converter: Any) -> None:
        problem = problem_of(converter)
        if problem is not None:
            converter.log.error(problem)
            raise error(problem)
        unchecked(converter)

    setattr(convert_notebooks, flag, True)
    BaseConverter.convert_notebooks = convert_notebooks  # type: ignore[method-assign]
