"""lstm_grader.converter_checks: a check in front of nbgrader's converters stops a command
with one logged line before the first notebook, and is installed once."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from nbgrader.converters.base import BaseConverter, NbGraderException

from lstm_grader.converter_checks import check_before_converting


class Refused(NbGraderException):
    """What the test's check raises."""


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """nbgrader's conversion, replaced by a record of the converters that reached it."""
    reached: list[Any] = []
    monkeypatch.setattr(BaseConverter, "convert_notebooks", lambda self: reached.append(self))
    return reached


class _Converter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.log = logging.getLogger(f"test-converter-{name}")


def test_a_problem_stops_the_conversion_with_one_logged_line(
    converted: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Does a check's line stop the converter it names, logged once as an error and
    raised, while the others reach nbgrader's conversion?"""
    check_before_converting(
        "test_check", lambda c: "bad: fix it" if c.name == "bad" else None, Refused
    )
    with pytest.raises(Refused, match="^bad: fix it$"):
        BaseConverter.convert_notebooks(_Converter("bad"))  # type: ignore[arg-type]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("ERROR", "bad: fix it")]
    good = _Converter("good")
    BaseConverter.convert_notebooks(good)  # type: ignore[arg-type]
    assert converted == [good]


def test_each_check_is_installed_once_and_later_ones_keep_it(converted: list[Any]) -> None:
    """Installing a check again adds no second call, also after another check was put in
    front of it; both run once per conversion."""
    calls: list[str] = []
    first = lambda c: calls.append("first")  # noqa: E731
    check_before_converting("first_check", first, Refused)
    check_before_converting("second_check", lambda c: calls.append("second"), Refused)
    check_before_converting("first_check", first, Refused)
    BaseConverter.convert_notebooks(_Converter("any"))  # type: ignore[arg-type]
    assert calls == ["second", "first"] and len(converted) == 1


class _Pressed(_Converter):
    """A converter as the formgrader's buttons run it: ``start`` converts, failing with
    ``failure`` (or a check's stop) when given one."""

    def __init__(self, name: str, failure: Exception | None = None) -> None:
        super().__init__(name)
        self.failure = failure

    def start(self) -> None:
        BaseConverter.convert_notebooks(self)  # type: ignore[arg-type]
        if self.failure is not None:
            raise self.failure


def test_the_formgraders_answer_gives_a_checks_line_as_its_error(
    converted: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The formgrader answers a button with nbgrader's ``capture_log`` of the converter,
    whose error is the traceback of what stopped it. Is a check's stop answered with the
    check's line as the error (and in the log), while another failure keeps its
    traceback, a success stays a success, and installing again wraps nbgrader's once?"""
    from nbgrader.apps import api

    monkeypatch.setattr(api, "capture_log", api.capture_log)  # put back after the test
    check_before_converting(
        "answered_check", lambda c: "bad: fix it" if c.name == "bad" else None, Refused
    )
    wrapped = api.capture_log
    check_before_converting("another_check", lambda c: None, Refused)
    assert api.capture_log is wrapped

    bad = _Pressed("bad")
    stopped = api.capture_log(bad)
    assert stopped == {"success": False, "error": "bad: fix it", "log": "[ERROR] bad: fix it\n"}
    bad.name, bad.failure = "mended", ValueError("another failure")  # the same converter again
    assert api.capture_log(bad)["error"].startswith("Traceback")
    failed = api.capture_log(_Pressed("good", ValueError("not the check's")))
    assert failed["success"] is False
    assert (
        failed["error"].startswith("Traceback")
        and "ValueError: not the check's" in (failed["error"])
    )
    assert api.capture_log(_Pressed("good")) == {"success": True}


class _App:
    """An application with nbgrader's ``fail``: log the line, exit with status 1."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.log = logging.getLogger(f"test-app-{name}")
        self.started = False

    def fail(self, message: str, *args: object) -> None:
        self.log.error(message, *args)
        raise SystemExit(1)

    def start(self) -> None:
        self.started = True


class _InheritingApp(_App):
    """An application whose ``start`` is its parent's."""


def test_an_application_is_stopped_before_it_starts(caplog: pytest.LogCaptureFixture) -> None:
    """Does a check's line stop an application before its own ``start`` (also one it
    inherits), logged once as it is, with status 1, while one
    without a problem starts, and does installing the check again add no second call?"""
    from lstm_grader.converter_checks import check_before_starting

    calls: list[str] = []

    def problem_of(app: Any) -> str | None:
        calls.append(app.name)
        return "100% broken: fix it" if app.name == "bad" else None

    original = (_App.start, _InheritingApp.__dict__.get("start"))
    try:
        check_before_starting([_App, _InheritingApp], "test_app_check", problem_of)
        check_before_starting([_App, _InheritingApp], "test_app_check", problem_of)
        bad = _InheritingApp("bad")
        with pytest.raises(SystemExit) as stopped:
            bad.start()
        assert stopped.value.code == 1 and not bad.started
        assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
            ("ERROR", "100% broken: fix it")
        ]
        good = _App("good")
        good.start()
        assert good.started and calls == ["bad", "good"]
    finally:
        _App.start = original[0]  # type: ignore[method-assign]
        if "start" in _InheritingApp.__dict__:
            del _InheritingApp.start
