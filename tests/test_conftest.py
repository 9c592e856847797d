"""The suite's own shared fixtures (``tests/conftest.py``): what they share between tests
still behaves as what they stand in for."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import (
    BOOK_SIDE_FILES,
    QUICK_SUITE_MAX_PROCESSES,
    ROOT,
    excludes_slow_tests,
    quick_suite_processes,
    searchable_by_all,
    split_by_stream,
    stream_of,
)


def test_a_gradebook_made_without_alembic_on_path_still_fails_as_in_nbgrader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alembic head is asked once per test run; does a gradebook made where no
    ``alembic`` command is on ``PATH`` still fail as nbgrader's does, after one was made
    where it is?"""
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with Gradebook(f"sqlite:///{tmp_path / 'found.db'}"):
        pass
    monkeypatch.setenv("PATH", str(tmp_path / "no-scripts-here"))
    with pytest.raises(FileNotFoundError, match="alembic"):
        Gradebook(f"sqlite:///{tmp_path / 'not-found.db'}")


@pytest.mark.parametrize(
    ("markexpr", "excluded"),
    [
        ("not slow", True),
        ("  not   slow ", True),
        ("not (slow or browser)", True),
        ("not slow and not browser", True),
        ("browser and not slow", True),
        ("", False),
        ("slow", False),
        ("not browser", False),
        ("not slow or browser", False),
        ("slow and browser", False),
        ("not (slow and browser)", False),
        ("not not slow", False),
        ("not slow(", False),
        (" or ".join(f"m{i}" for i in range(20)) + " and not slow", False),
    ],
)
def test_only_an_expression_that_drops_every_slow_test_counts_as_the_quick_suite(
    markexpr: str, excluded: bool
) -> None:
    """A slow test carries other marks too: does the quick suite's reading of ``-m`` keep
    it out only where pytest would deselect it whatever else it is marked with?"""
    assert excludes_slow_tests(markexpr) is excluded


def _config(**given: object) -> SimpleNamespace:
    """A stand-in for the pytest configuration of ``pytest -m "not slow"``, with
    ``given`` options changed."""
    options = {"numprocesses": None, "usepdb": False, "collectonly": False, "markexpr": "not slow"}
    options.update({key: value for key, value in given.items() if key in options})
    return SimpleNamespace(
        pluginmanager=SimpleNamespace(hasplugin=lambda name: given.get("xdist", True)),
        option=SimpleNamespace(**options),
        getoption=lambda name, default=None: options.get(name, default),
        args_source=given.get("args_source", pytest.Config.ArgsSource.TESTPATHS),
    )


def test_the_whole_quick_suite_is_spread_over_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """``pytest -m "not slow"`` with no paths: up to four processes, one per core."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    for cores, processes in ((1, None), (2, 2), (3, 3), (16, QUICK_SUITE_MAX_PROCESSES)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)))
        assert quick_suite_processes(_config()) == processes


@pytest.mark.parametrize(
    "given",
    [
        {"numprocesses": 0},
        {"numprocesses": 3},
        {"usepdb": True},
        {"collectonly": True},
        {"markexpr": ""},
        {"markexpr": "slow"},
        {"xdist": False},
        {"args_source": pytest.Config.ArgsSource.ARGS},
        {"args_source": pytest.Config.ArgsSource.INVOCATION_DIR},
        {"worker": "gw0"},
    ],
)
def test_any_other_run_is_left_as_asked(given: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths, a process count, a debugger, a slow test, no pytest-xdist, or a run inside a
    worker: is the run left one process (or as many as asked)?"""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert quick_suite_processes(_config()) == 2  # the stand-in itself is spread
    if "worker" in given:
        monkeypatch.setenv("PYTEST_XDIST_WORKER", given["worker"])
    assert quick_suite_processes(_config(**given)) is None


@pytest.mark.slow
def test_pytest_not_slow_runs_on_several_processes_and_n_0_on_one() -> None:
    """The real command, deselecting every test by name: does pytest-xdist start workers
    for ``pytest -m "not slow"``, and none with ``-n 0`` or for ``-m slow``?"""
    nothing = ["-k", "a_test_name_nothing_has", "-p", "no:cacheprovider"]

    def header(*args: str) -> str:
        environment = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *args, *nothing],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 5, run.stdout[-2000:] + run.stderr[-2000:]  # none collected
        return run.stdout

    cores = min(len(os.sched_getaffinity(0)), QUICK_SUITE_MAX_PROCESSES)
    spread = header("-m", "not slow")
    if cores > 1:
        assert f"the quick suite on {cores} processes" in spread
        assert f"created: {cores}/{cores} workers" in spread
    for one in (["-m", "not slow", "-n", "0"], ["-m", "slow"]):
        output = header(*one)
        assert "the quick suite on" not in output and "workers" not in output


def test_a_folder_opened_for_a_user_closes_when_the_last_process_leaves(tmp_path: Path) -> None:
    """Two test processes open a folder (root's home, where the interpreter may live) for
    an ordinary user's grader: the first to finish put back the mode it had found, closing
    the folder under the other. Does it stay searchable while another process is inside,
    close when the last one leaves, and forget a process that died inside?"""
    folder = tmp_path / "home"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    records = tmp_path / "records"
    records.mkdir()
    mode = lambda: folder.stat().st_mode & 0o7777  # noqa: E731
    inside = (
        "import sys, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from conftest import searchable_by_all\n"
        f"with searchable_by_all({str(folder)!r}, Path({str(records)!r})):\n"
        "    print('inside', flush=True)\n"
        "    time.sleep(600)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", inside], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline() == "inside\n"
        assert mode() == 0o701
        with searchable_by_all(str(folder), records):
            assert mode() == 0o701
        assert mode() == 0o701, "closed while the other process was inside"
    finally:
        other.kill()
        other.wait()
    # it died inside: the last one to leave puts the folder's own mode back
    with searchable_by_all(str(folder), records):
        assert mode() == 0o701
    assert mode() == 0o700


def test_the_book_stream_holds_only_files_that_grade_nothing() -> None:
    """``make test`` runs the book's slow tests beside the grading ones: does each file of
    the book stream exist, and start nothing that grades (a course of ``make_course``,
    ``lstm-grade``, a sandboxed kernel, the formgrader), which the grading stream's timed
    classes and counts of the host's processes would then meet? Every other file is in
    the grading stream."""
    tests = ROOT / "tests"
    grading = re.compile(
        r"make_course\(|lstm-grade|classgrade|autograde|preloaded|formgrader|sandbox\."
    )
    for name in sorted(BOOK_SIDE_FILES):
        source = (tests / f"{name}.py").read_text()
        assert not grading.findall(source), name
        assert stream_of(tests / f"{name}.py") == "book"
    assert stream_of(tests / "test_redteam.py") == "grading"
    assert stream_of(tests / "test_learner_browser.py") == "grading"


def test_each_test_runs_in_exactly_one_stream() -> None:
    """Does ``--stream`` keep, in their order, the tests of its stream, so that the two
    streams of ``make test`` together run every test once?"""
    tests = ROOT / "tests"
    items = [
        SimpleNamespace(path=tests / f"{name}.py", index=index)
        for index, name in enumerate(["test_book", "test_redteam", "test_shapes", "test_cluster"])
    ]
    book, rest = split_by_stream(items, "book")
    grading, others = split_by_stream(items, "grading")
    assert [item.index for item in book] == [0, 2] and rest == grading == [items[1], items[3]]
    assert others == book


def test_a_check_that_skips_only_when_asked_to() -> None:
    """Passes, unless ``LSTM_TEST_SKIP_ON_PURPOSE`` asks it to skip: the skip that
    :func:`test_a_skip_fails_the_run_under_ci` makes."""
    if os.environ.get("LSTM_TEST_SKIP_ON_PURPOSE"):
        pytest.skip("asked to skip")


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_skip_fails_the_run_under_ci(ci: str) -> None:
    """Under ``CI=true`` does a test that skips fail the run, saying why, while it stays a
    skip elsewhere (a developer's machine without Chromium, an ordinary user's run)?"""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "0",
            f"{Path(__file__)}::test_a_check_that_skips_only_when_asked_to",
        ],
        env={**os.environ, "CI": ci, "LSTM_TEST_SKIP_ON_PURPOSE": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if ci:
        assert run.returncode == 1, run.stdout
        assert "skipped under CI=true, where every check must run: Skipped: asked to skip" in (
            run.stdout
        )
        assert "1 failed" in run.stdout
    else:
        assert run.returncode == 0 and "1 skipped" in run.stdout, run.stdout
