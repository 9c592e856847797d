"""The check of a course's own settings, once, before anything is converted or graded.

The settings the course adds to nbgrader are read by several classes, notebook by
notebook: the layout and check modes (:class:`~lstm_grader.course.CourseLayout`), the
sandbox's limits (``SandboxKernelManager``, ``SandboxedExecute``) and the feedback's
(``PresentVerdicts``). This module makes each of them once with the course's
configuration, so a setting one of them cannot take is one line naming it, before the
first notebook, for nbgrader's converters (:func:`guard_settings`) and ``lstm-grade``
(:func:`checked_layout`) alike. It stands above those classes' modules, which know
nothing of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitlets import TraitError
from traitlets.config import Config

from lstm_grader.course import CourseLayout, rooted_config


class CourseSettingsError(ValueError):
    """A setting of the course's own cannot be used. The message is one line naming the
    setting and what it takes, as traitlets' ``TraitError`` says it."""


def checked_layout(config: Config) -> CourseLayout:
    """The course's layout from ``config``, made with every setting of the course's own
    checked: the one place a misspelt or unusable setting becomes its one line.

    The settings of the classes this course adds to nbgrader: the layout and check modes
    (:class:`CourseLayout`), the sandbox's limits (``SandboxKernelManager``,
    ``SandboxedExecute``) and the feedback's (``PresentVerdicts``). Each is made once with
    ``config``, as the command would make it later for every notebook.

    Raises
    ------
    CourseSettingsError
        Naming the first setting that cannot be used, and what it takes.
    """
    # the course's classes, imported only here: lstm-grade imports this module at start,
    # and a course whose own copy of lstm_lib cannot be imported must still get its line
    from lstm_grader.feedback import PresentVerdicts
    from lstm_grader.preprocessors import SandboxedExecute
    from lstm_grader.sandbox import SandboxKernelManager

    try:
        layout = CourseLayout(config=config)
        for kind in (SandboxKernelManager, SandboxedExecute, PresentVerdicts):
            kind(config=config)
    except TraitError as exc:
        raise CourseSettingsError(" ".join(str(exc).split())) from None
    return layout


def settings_problem(config: Config) -> str | None:
    """Why the course's own settings in ``config`` cannot be used, in one line naming the
    setting and what it takes (:func:`checked_layout`), or None."""
    try:
        checked_layout(config)
    except CourseSettingsError as exc:
        return str(exc)
    return None


def guard_settings() -> None:
    """Make nbgrader's converters (``generate_assignment``, ``autograde``,
    ``generate_feedback``) check the course's own settings once, before the first notebook
    (:func:`settings_problem`).

    The course's preprocessors and the sandbox read them notebook by notebook, so a
    misspelt check mode or a limit that is not a number (``memory_limit_mb = "2G"``)
    printed a traitlets traceback for every notebook, and autograde failed every learner.
    Now it is logged as one error line that names the setting and the values it accepts,
    and raised as nbgrader's ``NbGraderException``, so the command exits with status 1
    having converted, removed and written nothing. The course's ``nbgrader_config.py``
    calls it; calling it again changes nothing.
    """
    from nbgrader.converters.base import NbGraderException

    from lstm_grader.converter_checks import check_before_converting

    def problem_of(converter: Any) -> str | None:
        problem = settings_problem(converter.config)
        return None if problem is None else f"{problem.rstrip('.')}. Nothing was converted."

    check_before_converting("settings_checked_by_lstm_grader", problem_of, NbGraderException)


def checked_layout_at(root: str | Path) -> CourseLayout:
    """The layout of the course whose ``nbgrader_config.py`` is in ``root``, made with
    every setting of the course's own checked (:func:`checked_layout`).

    Raises
    ------
    CourseSettingsError
        Naming the first setting that cannot be used, and what it takes.
    """
    return checked_layout(rooted_config(root))
