"""lstm_grader.course_settings: a setting of the course's own that cannot be used is one
line, once, before anything is converted or graded."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_file

from lstm_grader import course_settings
from lstm_grader.course import CourseLayout


def test_a_misspelt_setting_stops_a_converter_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt check mode, or a sandbox limit that is no number, made a traitlets
    traceback per notebook (and autograde failed every learner). Do nbgrader's converters,
    guarded, stop before the first notebook with one line naming the setting and what it
    takes, while good settings convert as before; and does lstm-grade say the same and
    grade nothing?"""
    import logging

    from nbgrader.converters.base import BaseConverter, NbGraderException
    from traitlets.config import Config

    from lstm_grader import classgrade, sandbox

    converted: list[object] = []
    monkeypatch.setattr(BaseConverter, "convert_notebooks", lambda self: converted.append(self))
    course_settings.guard_settings()
    course_settings.guard_settings()  # a second call adds no second check

    class Converter:
        def __init__(self, config: Config) -> None:
            self.config = config
            self.log = logging.getLogger("test-converter")

    good = Config()
    good.CourseLayout.check_modes = {"05-return-flags": "graded"}
    BaseConverter.convert_notebooks(Converter(good))  # type: ignore[arg-type]
    assert len(converted) == 1
    for section, setting, value, named, says in (
        (
            "CourseLayout",
            "check_mode",
            "pratice",
            "c.CourseLayout.check_mode is 'pratice'",
            "set it to 'practice' or 'graded' (did you mean 'practice'?)",
        ),
        (
            "CourseLayout",
            "check_modes",
            {"04-lstm": "Graded"},
            "c.CourseLayout.check_modes['04-lstm'] is",
            "(did you mean 'graded'?)",
        ),
        (
            "SandboxKernelManager",
            "memory_limit_mb",
            "2G",
            "The 'memory_limit_mb' trait of a SandboxKernelManager instance",
            "expected an int, not the str '2G'",
        ),
        ("SandboxedExecute", "timeout", "30 s", "The 'timeout' trait", "SandboxedExecute"),
        (
            "CourseDirectory",
            "directory_structure",
            "{nbgrader_step}/{assignment_id}",
            "c.CourseDirectory.directory_structure is '{nbgrader_step}/{assignment_id}'",
            "which lacks {student_id}",
        ),
    ):
        bad = Config()
        setattr(bad[section], setting, value)
        with pytest.raises(NbGraderException) as stopped:
            BaseConverter.convert_notebooks(Converter(bad))  # type: ignore[arg-type]
        line = str(stopped.value)
        assert line.startswith(named) and says in line and "\n" not in line, line
    assert len(converted) == 1, "a converter ran with a setting it cannot use"

    monkeypatch.setattr(sandbox, "check_can_grade", lambda: None)
    for setting, said in (
        ("CourseLayout.check_mode = 'exam'", "c.CourseLayout.check_mode is 'exam'"),
        ("SandboxKernelManager.memory_limit_mb = '2G'", "The 'memory_limit_mb' trait"),
        (
            "CourseDirectory.directory_structure = '{nbgrader_step}/{assignment_id}'",
            "c.CourseDirectory.directory_structure is '{nbgrader_step}/{assignment_id}', "
            "which lacks {student_id}",
        ),
    ):
        root = tmp_path / setting.split(".")[0]  # a course each: a run keeps its lock
        write_file(root / "nbgrader_config.py", f"c = get_config()\nc.{setting}\n")
        write_file(root / "source" / "a1" / "a1.ipynb")
        write_file(root / "submitted" / "ada" / "a1" / "a1.ipynb")
        status = classgrade.main(["a1", "--root", str(root), "--process-per-submission"])
        assert status == classgrade.EXIT_NOTHING_GRADED
        err = capsys.readouterr().err.strip()
        # one line, the same for a check mode and a sandbox limit: one check says both
        assert err.startswith("lstm-grade: nothing was graded: ") and said in err, err
        assert "\n" not in err, err
        assert not (root / "grades.csv").exists()


def test_the_layout_is_made_inside_the_settings_check(tmp_path: Path) -> None:
    """Is the course's layout made by the one check of the course's own settings, so a
    caller that needs the layout cannot miss a setting the sandbox or the feedback cannot
    take, and is each refused setting the line settings_problem gives?"""
    from traitlets.config import Config

    good = Config()
    good.CourseLayout.check_modes = {"05-return-flags": "graded"}
    good.CourseDirectory.root = str(tmp_path)
    layout = course_settings.checked_layout(good)
    assert isinstance(layout, CourseLayout) and layout.mode("05-return-flags") == "graded"
    assert course_settings.settings_problem(good) is None
    for section, setting, value in (
        ("CourseLayout", "check_mode", "pratice"),
        ("SandboxKernelManager", "memory_limit_mb", "2G"),
        ("PresentVerdicts", "book_url", 3),
    ):
        bad = Config()
        setattr(bad[section], setting, value)
        with pytest.raises(course_settings.CourseSettingsError) as refused:
            course_settings.checked_layout(bad)
        assert str(refused.value) == course_settings.settings_problem(bad)
        assert setting in str(refused.value) and "\n" not in str(refused.value)
    write_file(
        tmp_path / "nbgrader_config.py", "c = get_config()\nc.SandboxedExecute.timeout = 'x'\n"
    )
    assert CourseLayout.from_root(tmp_path).root == tmp_path  # unchecked, as before
    with pytest.raises(course_settings.CourseSettingsError, match="'timeout' trait"):
        course_settings.checked_layout_at(tmp_path)
