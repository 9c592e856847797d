"""Course checks that nbgrader's commands make once, before they touch anything.

nbgrader calls ``BaseConverter.convert_notebooks`` once per command (``generate_assignment``,
``autograde``, ``generate_feedback``), after finding the submissions and before touching
the first learner's folder. A check put in front of it can stop the whole command with one
line, where the same problem met notebook by notebook would fail, or remove the work of,
every learner. The commands that are no converter (``export``, ``db ...``, ``collect``) are
checked in front of their application's ``start`` in the same way. The course's
``nbgrader_config.py`` installs the checks (through
:func:`lstm_grader.gradebook_guard.guard_gradebook` and
:func:`lstm_grader.course_settings.guard_settings`), so plain ``nbgrader``, the formgrader and
``lstm-grade`` are all checked.

The formgrader's buttons (Generate, Autograde, Generate Feedback) run the converters in its
own process, through nbgrader's ``NbGraderAPI``, and answer the page with
``{"success", "log", "error"}``, where ``error`` is the traceback of whatever stopped the
command: for a converter a check stopped, the answer's ``error`` is the check's line instead,
which the page shows the instructor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["check_before_converting", "check_before_starting"]

#: The attribute in which a converter a check stopped keeps the check's line, for the
#: formgrader's answer (:func:`_answer_with_the_line`).
_STOPPED_LINE = "line_of_the_check_that_stopped_it"
#: The mark of the installed answer wrapper, so a second install changes nothing.
_ANSWERED = "answers_with_the_line_of_a_check"


def _checked(
    unchecked: Callable[[Any], None],
    flag: str,
    problem_of: Callable[[Any], str | None],
    stop: Callable[[Any, str], None],
) -> Callable[[Any], None]:
    """``unchecked`` (a method), asking ``problem_of(self)`` first and calling
    ``stop(self, line)`` instead when it answers a line; marked with ``flag``."""

    @functools.wraps(unchecked)
    def checked(self: Any) -> None:
        problem = problem_of(self)
        if problem is not None:
            stop(self, problem)
            return
        unchecked(self)

    setattr(checked, flag, True)
    return checked


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
        without a traceback. The formgrader's answer to the button that ran the
        converter gives the line as its error, not the exception's traceback.
    """
    from nbgrader.converters.base import BaseConverter

    _answer_with_the_line()
    unchecked = BaseConverter.convert_notebooks
    if getattr(unchecked, flag, False):
        return

    def stop(converter: Any, problem: str) -> None:
        converter.log.error(problem)
        setattr(converter, _STOPPED_LINE, problem)
        raise error(problem)

    BaseConverter.convert_notebooks = _checked(unchecked, flag, problem_of, stop)  # type: ignore[method-assign]


def _answer_with_the_line() -> None:
    """Make the formgrader's answer to a press that a check stopped carry the check's line
    as its ``error``, where nbgrader's ``capture_log`` puts the traceback of the check's
    exception: the page shows that error to the instructor, who is to read what is wrong and
    what to do, not the frames of the check's wrapper. Every other answer stays nbgrader's.
    Installing it again changes nothing."""
    from nbgrader.apps import api

    capture = api.capture_log
    if getattr(capture, _ANSWERED, False):
        return

    @functools.wraps(capture)
    def capture_log(app: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # a line an earlier run of the same converter left is not this run's
        getattr(app, "__dict__", {}).pop(_STOPPED_LINE, None)
        answer = capture(app, *args, **kwargs)
        line = getattr(app, "__dict__", {}).get(_STOPPED_LINE)
        if line is not None and not answer.get("success"):
            answer["error"] = line
        return answer

    setattr(capture_log, _ANSWERED, True)
    api.capture_log = capture_log


def check_before_starting(
    apps: Iterable[type], flag: str, problem_of: Callable[[Any], str | None]
) -> None:
    """Make each of nbgrader's applications ``apps`` ask ``problem_of(app)`` before it
    starts its work.

    For the applications that are no converter (``nbgrader export``, ``nbgrader db ...``,
    ``nbgrader collect``): nbgrader calls an application's ``start`` once per command,
    after reading its configuration and before it opens or copies anything.

    Parameters
    ----------
    apps : iterable of type
        nbgrader application classes (``nbgrader.apps.baseapp.NbGrader`` subclasses),
        each checked whether it defines ``start`` or inherits it.
    flag : str
        The check's name, set on each installed wrapper: installing the same check again
        changes nothing.
    problem_of : callable
        Takes the application and returns None to go on, or the one line to stop with.
        The line is logged as the application's error and the command exits with status
        1 (nbgrader's own ``fail``), without a traceback.
    """

    def stop(app: Any, problem: str) -> None:
        app.fail(problem)

    for app in apps:
        unchecked = app.start
        if not getattr(unchecked, flag, False):
            app.start = _checked(unchecked, flag, problem_of, stop)
