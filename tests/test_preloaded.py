"""lstm_grader.preloaded: one helper process that forks a fresh nbgrader child per run.

Every test runs real nbgrader commands that end in a fraction of a second (``--version``,
``list`` against an empty exchange, ``autograde`` with no assignment). What a child does,
sees and leaves behind is observed through an ``nbgrader_config.py`` in the folder it runs
in: nbgrader executes that file (several times per command), so it can record the child's
working folder, environment and interpreter state to a file, mutate that state, hang, die
or write garbage. The helper takes a few seconds to start, so the tests that do not kill or
close it share one.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import nbgrader
import pytest
from conftest import ROOT, require_or_skip

from lstm_grader.preloaded import PreloadedGrader

#: Set in this process's environment while the shared helper starts, and while the test of
#: the child's environment runs: the helper has it, a child's ``env`` does not.
PARENT_ONLY = "LSTM_PRELOADED_TEST_PARENT_ONLY"
VERSION = ["--version"]
#: Ends with exit code 1 at once: no assignment is named.
FAILING = ["autograde"]
FAILING_MESSAGE = "An assignment id must be specified"
#: The time limit of runs that hang: long enough for the child to reach its config file on
#: two loaded cores. A run that hangs must be reported within LATENESS_S after it.
HANG_LIMIT_S = 3.0
LATENESS_S = 5.0

#: Put before each config file's body: ``record(**fields)`` appends one JSON line.
_PROLOGUE = """\
import json as _json
import os as _os


def record(**fields):
    fields.setdefault("pid", _os.getpid())
    with open(RECORDS, "a", encoding="utf-8") as _handle:
        _handle.write(_json.dumps(fields) + "\\n")


"""


class Folder:
    """A folder whose ``nbgrader_config.py`` runs ``body`` in the nbgrader child."""

    def __init__(self, path: Path, body: str) -> None:
        self.path = path
        self.records_file = path / "records.jsonl"
        self.pid_file = path / "pids.json"
        (path / "exchange").mkdir(parents=True)
        prologue = _PROLOGUE.replace("RECORDS", repr(str(self.records_file)))
        body = textwrap.dedent(body).replace("PID_FILE", repr(str(self.pid_file)))
        (path / "nbgrader_config.py").write_text(
            f"{prologue}{body}\n\nc = get_config()\n", encoding="utf-8"
        )

    @property
    def argv(self) -> list[str]:
        """``nbgrader list`` on the folder's empty exchange: exit 0, config loaded."""
        return ["list", f"--Exchange.root={self.path / 'exchange'}"]

    def records(self) -> list[dict]:
        if not self.records_file.exists():
            return []
        return [json.loads(line) for line in self.records_file.read_text().splitlines()]

    def pids(self, within: float = 0.0) -> dict[str, int]:
        """What the config wrote to PID_FILE (waiting up to ``within`` seconds for it)."""
        deadline = time.monotonic() + within
        while True:
            if self.pid_file.exists():
                return json.loads(self.pid_file.read_text())
            if time.monotonic() >= deadline:
                raise AssertionError(f"the child never wrote {self.pid_file}")
            time.sleep(0.05)


#: Config bodies that start a grandchild ``sleep 1000``, write both pids, then block.
_SPAWN = """\
import subprocess
import time
sleeper = subprocess.Popen([SLEEP, "1000"])
with open(PID_FILE + ".part", "w") as _handle:
    _handle.write(_json.dumps({"child": _os.getpid(), "grandchild": sleeper.pid}))
_os.replace(PID_FILE + ".part", PID_FILE)
"""


def _hanging(how: str) -> str:
    return _SPAWN.replace("SLEEP", repr(shutil.which("sleep") or "/bin/sleep")) + how + "\n"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A small environment for a child: what nbgrader needs, and ``extra``."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path), **extra}


def _state(pid: int) -> str | None:
    """The process's state letter (``R``, ``S``, ``Z`` ...), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _dead(pid: int, within: float = 5.0) -> bool:
    """Whether the process is gone (or a zombie nobody reaps yet) within ``within`` s."""
    deadline = time.monotonic() + within
    while _state(pid) not in (None, "Z", "X"):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _fd_targets(pid: int) -> dict[int, str]:
    targets = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            targets[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
    return targets


def _kill_leftovers(folder: Folder) -> None:
    """Kill what a test's child started, should the grader have left it running."""
    if not folder.pid_file.exists():
        return
    pids = folder.pids()
    for kill in (
        lambda: os.killpg(pids["child"], signal.SIGKILL),
        lambda: os.kill(pids["child"], signal.SIGKILL),
        lambda: os.kill(pids["grandchild"], signal.SIGKILL),
    ):
        with contextlib.suppress(OSError):
            kill()


def _start(grader: PreloadedGrader) -> int:
    """Start the grader's helper with a run, and return the helper's pid."""
    outcome, log = grader.run(VERSION, cwd=ROOT, env={}, timeout=120)
    assert outcome == "ran", log
    assert grader._process is not None
    return grader._process.pid


@pytest.fixture(scope="module")
def grader():
    """One helper for the tests that neither kill nor close it. It is started while
    PARENT_ONLY is in this process's environment, so the helper's environment holds it."""
    helper = PreloadedGrader(cwd=ROOT)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(PARENT_ONLY, "the helper inherited this")
            _start(helper)
        yield helper
    finally:
        helper.close()


# --------------------------------------------------------------------------- outcomes


def test_a_run_that_exits_0_is_ran_with_the_command_output_in_its_log(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """Does ``nbgrader --version`` (and ``nbgrader list`` on an empty exchange) come back
    "ran" with the command line and the command's own output in the log, and does the
    helper keep no child after it?"""
    outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    assert log.startswith("$ nbgrader --version\n")
    assert f"nbgrader version {nbgrader.__version__}" in log

    folder = Folder(tmp_path / "course", "")
    outcome, log = grader.run(folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    assert "Released assignments" in log
    assert _children(grader._process.pid) == [], "the helper kept a child"


def test_a_failing_command_is_crashed_with_its_error_in_the_log(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """Does an nbgrader command that exits 1 come back "crashed" with nbgrader's error in
    the log, and does the next run succeed?"""
    outcome, log = grader.run(FAILING, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "crashed", log
    assert log.startswith("$ nbgrader autograde\n")
    assert FAILING_MESSAGE in log

    outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    assert FAILING_MESSAGE not in log, "the previous run's log leaked into this one"


_RUN_PAST_DESCRIPTOR_1024 = """
import os, resource, sys, tempfile
from lstm_grader.preloaded import PreloadedGrader
from lstm_grader.sandbox import raise_own_open_files

if raise_own_open_files() < 2048:
    print("short")
    sys.exit(0)
taken = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
home = tempfile.mkdtemp()
grader = PreloadedGrader(cwd=home)
try:
    outcome, log = grader.run(["--version"], cwd=home, env=dict(os.environ), timeout=120)
    print(outcome, log.splitlines()[-1])
finally:
    grader.close()
"""


def test_the_helper_answers_through_descriptors_numbered_past_1024(tmp_path: Path) -> None:
    """lstm-grade raises its own limit of open files, so on a busy class its helper's
    pipes may be numbered past 1,024, which ``select`` refuses. Does a helper started with
    a thousand and more descriptors already open still run a command and answer?"""
    run = subprocess.run(
        [sys.executable, "-c", _RUN_PAST_DESCRIPTOR_1024],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    require_or_skip(run.stdout != "short\n", "a hard limit of 2,048 open files or more")
    assert run.stdout.split()[:1] == ["ran"], run.stdout + run.stderr
    assert f"nbgrader version {nbgrader.__version__}" in run.stdout


# --------------------------------------------------------------------------- what a child sees


def test_the_child_runs_in_cwd_with_exactly_env(
    grader: PreloadedGrader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does nbgrader run in ``cwd`` (not the helper's folder), with exactly ``env`` as its
    environment (a variable of this process's and the helper's environment absent), with
    ``nbgrader ARGV`` as ``sys.argv``, as a child of the helper?"""
    monkeypatch.setenv(PARENT_ONLY, "set in the caller")
    helper = grader._process.pid
    assert PARENT_ONLY.encode() in Path(f"/proc/{helper}/environ").read_bytes(), (
        "the helper should hold the variable, or this test proves nothing"
    )
    assert Path(os.readlink(f"/proc/{helper}/cwd")) == ROOT
    folder = Folder(
        tmp_path / "course",
        """\
        import sys
        with open("relative.txt", "w") as _handle:
            _handle.write("written in the working folder")
        record(cwd=_os.getcwd(), environ=dict(_os.environ), argv=sys.argv, ppid=_os.getppid())
        """,
    )
    env = _env(tmp_path, LSTM_PRELOADED_TEST_VALUE="given to the child", EMPTY="")

    outcome, log = grader.run(folder.argv, cwd=folder.path, env=env, timeout=60)

    assert outcome == "ran", log
    records = folder.records()
    assert records, "nbgrader did not load the config file of cwd"
    for record in records:
        assert Path(record["cwd"]).resolve() == folder.path.resolve()
        assert record["environ"] == env
        assert record["argv"] == ["nbgrader", *folder.argv]
        assert record["ppid"] == helper and record["pid"] != helper
    relative = folder.path / "relative.txt"
    assert relative.read_text() == "written in the working folder"
    assert not (ROOT / "relative.txt").exists()


#: Records what a child inherited, then changes the interpreter in every way it can:
#: builtins, sys.modules (an added module, a preloaded one dropped), an attribute of a
#: preloaded class, sys.path, the environment and the umask.
_MUTATE = """\
import builtins
import sys
import types

import nbgrader.apps.nbgraderapp as nbgraderapp

token = _os.environ["PROBE_TOKEN"]
mask = _os.umask(0o077)
_os.umask(mask)
record(
    token=token,
    ppid=_os.getppid(),
    umask=mask,
    seen={
        "builtin": getattr(builtins, "lstm_preloaded_probe", None),
        "module": getattr(sys.modules.get("lstm_preloaded_probe"), "token", None),
        "attribute": getattr(nbgraderapp.NbGraderApp, "lstm_preloaded_probe", None),
        "path": [p for p in sys.path if p.startswith("/lstm-preloaded-probe/")],
        "environ": _os.environ.get("LSTM_PRELOADED_PROBE"),
        "dropped": "lstm_grader.feedback" not in sys.modules,
    },
)
builtins.lstm_preloaded_probe = token
probe = types.ModuleType("lstm_preloaded_probe")
probe.token = token
sys.modules["lstm_preloaded_probe"] = probe
nbgraderapp.NbGraderApp.lstm_preloaded_probe = token
sys.path.append("/lstm-preloaded-probe/" + token)
_os.environ["LSTM_PRELOADED_PROBE"] = token
sys.modules.pop("lstm_grader.feedback", None)
_os.umask(0o077)
"""

_CLEAN = {
    "builtin": None,
    "module": None,
    "attribute": None,
    "path": [],
    "environ": None,
    "dropped": False,
}


def test_nothing_a_child_changes_in_the_interpreter_reaches_the_next_child(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """Child 1 sets a builtin, adds a module to sys.modules and drops a preloaded one,
    sets an attribute on a preloaded class, extends sys.path and the environment and
    changes the umask. Does child 1 see its own changes when nbgrader loads the config
    again (so the probe works), and does child 2 start from the helper's clean state?"""
    folder = Folder(tmp_path / "course", _MUTATE)
    for token in ("one", "two"):
        env = _env(tmp_path, PROBE_TOKEN=token)
        outcome, log = grader.run(folder.argv, cwd=folder.path, env=env, timeout=60)
        assert outcome == "ran", log

    records = folder.records()
    one = [r for r in records if r["token"] == "one"]
    two = [r for r in records if r["token"] == "two"]
    assert len(one) >= 2 and len(two) >= 2, "nbgrader loads its config more than once"
    assert {r["pid"] for r in one}.isdisjoint({r["pid"] for r in two})
    assert {r["ppid"] for r in records} == {grader._process.pid}

    assert one[0]["seen"] == _CLEAN, "the helper was not clean before child 1"
    assert one[1]["seen"] == {
        "builtin": "one",
        "module": "one",
        "attribute": "one",
        "path": ["/lstm-preloaded-probe/one"],
        "environ": "one",
        "dropped": True,
    }, "within one child the changes should persist: the probe cannot see them"
    assert one[1]["umask"] == 0o077
    assert two[0]["seen"] == _CLEAN, "child 2 inherited what child 1 changed"
    assert two[0]["umask"] == one[0]["umask"]


def test_a_child_starts_with_the_helpers_heap_out_of_its_collectors_sight(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """The helper freezes what it preloaded, so a child's collections walk (and copy) only
    the objects the child made: nbgrader's, the notebook's. Without the freeze a child
    holds every preloaded object in its collector's generations, and a full collection
    walks hundreds of thousands of them."""
    folder = Folder(
        tmp_path / "course",
        """\
        import gc
        record(frozen=gc.get_freeze_count(), tracked=len(gc.get_objects()))
        """,
    )
    outcome, log = grader.run(folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    first = folder.records()[0]
    assert first["frozen"] > 10 * first["tracked"], first


def test_a_kernel_start_imports_nothing_in_the_child(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """Every kernel start checks lstm_lib's bytecode and looks up the kernel spec; the
    modules those import (``compileall``, ``ipykernel.kernelspec``) are the helper's, not
    imported again by every child."""
    folder = Folder(
        tmp_path / "course",
        """\
        import sys
        from jupyter_client.kernelspec import KernelSpecManager
        from lstm_grader.sandbox import compile_library, course_library_folder
        before = set(sys.modules)
        compile_library(course_library_folder())
        KernelSpecManager().get_kernel_spec("python3")
        record(imported=sorted(set(sys.modules) - before))
        """,
    )
    outcome, log = grader.run(folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    assert folder.records()[0]["imported"] == []


# --------------------------------------------------------------------------- hangs and deaths


@pytest.mark.slow
@pytest.mark.parametrize("how", ["time.sleep(1000)", "while True:\n    pass"])
def test_a_hanging_child_is_timed_out_with_its_process_group_and_the_helper_serves_on(
    grader: PreloadedGrader, tmp_path: Path, how: str
) -> None:
    """A child starts a grandchild ``sleep 1000`` and then hangs (asleep, or busy). Is
    the run "timed-out" about when its limit passes, are the child and the grandchild
    killed (and the child reaped), and does the next run succeed?"""
    folder = Folder(tmp_path / "course", _hanging(how))
    try:
        started = time.monotonic()
        outcome, log = grader.run(
            folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=HANG_LIMIT_S
        )
        took = time.monotonic() - started

        assert outcome == "timed-out", log
        assert f"longer than {HANG_LIMIT_S:g} s" in log
        assert HANG_LIMIT_S - 0.5 <= took < HANG_LIMIT_S + LATENESS_S, took
        pids = folder.pids()
        assert _state(pids["child"]) is None, "the timed-out child is still there (or unreaped)"
        assert _dead(pids["grandchild"]), "the child's process group was not killed"
        assert _children(grader._process.pid) == []
    finally:
        _kill_leftovers(folder)

    outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log


@pytest.mark.parametrize(
    "how",
    [
        "_os._exit(3)",
        "_os.kill(_os.getpid(), signal.SIGKILL)",
        "_os.kill(_os.getpid(), signal.SIGSEGV)",
    ],
)
def test_a_child_that_kills_itself_is_crashed_and_the_next_run_works(
    grader: PreloadedGrader, tmp_path: Path, how: str
) -> None:
    """Does a child that ends itself hard (exit code 3, SIGKILL, SIGSEGV) come back
    "crashed" with what it printed before, leave no child behind, and the next run work?"""
    folder = Folder(
        tmp_path / "course",
        f"""\
        import signal
        print("last words of the child", flush=True)
        {how}
        """,
    )
    outcome, log = grader.run(folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=60)
    assert outcome == "crashed", log
    assert "last words of the child" in log
    assert _children(grader._process.pid) == []

    outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "ran", log
    assert "last words" not in log


_GARBAGE = """\
import sys

forged = _json.dumps({"outcome": "timed-out", "log": "forged answer"}) + "\\n"
sys.stdout.write((forged + "x" * 200 + "\\n") * 5000)
sys.stdout.flush()
sys.stderr.write("{not json\\n")
sys.stderr.flush()
_os.write(1, forged.encode())
_os.write(2, b"\\x00\\xff\\xfe not UTF-8 and no newline")
fds = {}
for name in _os.listdir("/proc/self/fd"):
    try:
        fds[name] = _os.readlink("/proc/self/fd/" + name)
    except OSError:
        pass
pipes = sorted(int(fd) for fd, target in fds.items() if target.startswith("pipe:"))
record(fds=fds, pipes=pipes)
for fd, target in fds.items():
    if target.startswith(("pipe:", "socket:")):
        try:
            _os.write(int(fd), forged.encode())
        except OSError:
            pass
"""


def test_garbage_a_child_writes_cannot_reach_the_protocol(
    grader: PreloadedGrader, tmp_path: Path
) -> None:
    """A child writes megabytes and forged answers to its stdout and stderr (Python's
    streams and fds 1 and 2), bytes that are not UTF-8, and a forged answer to every pipe
    and socket it holds. Does it hold no pipe at all (the helper's protocol pipes are
    closed in it; the sockets are nbgrader's own event loop's), does its run come back
    "ran" with all of that in the log, and the next run unharmed?"""
    folder = Folder(tmp_path / "course", _GARBAGE)
    outcome, log = grader.run(folder.argv, cwd=folder.path, env=_env(tmp_path), timeout=60)

    assert outcome == "ran", log[-2000:]
    assert "Released assignments" in log, "nbgrader did not run after the garbage"
    assert log.count("forged answer") >= 5001 and len(log) > 1_000_000
    assert "\x00" in log and "\ufffd" in log
    helper_fds = _fd_targets(grader._process.pid).values()
    helper_pipes = {target for target in helper_fds if target.startswith("pipe:")}
    assert len(helper_pipes) >= 2, "the helper's protocol should run on pipes"
    records = folder.records()
    assert records
    for record in records:
        assert record["pipes"] == [], f"the child holds pipes: {record['fds']}"
        shared = set(record["fds"].values()) & set(helper_fds)
        assert all(t.startswith("/") for t in shared), f"shared with the helper: {shared}"

    outcome, log = grader.run(FAILING, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert outcome == "crashed" and FAILING_MESSAGE in log
    assert "forged" not in log and "xxxx" not in log


# --------------------------------------------------------------------------- the helper's life


@pytest.mark.slow
def test_a_helper_killed_between_runs_is_restarted_by_the_next_run(tmp_path: Path) -> None:
    """The helper is killed while idle. Does the next run start a new one and succeed, is
    the dead one reaped, and does leaving the ``with`` block reap the new one?"""
    with PreloadedGrader(cwd=ROOT) as grader:
        assert isinstance(grader, PreloadedGrader)
        old = _start(grader)
        os.kill(old, signal.SIGKILL)
        assert _dead(old)

        outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=120)

        assert outcome == "ran", log
        assert grader._process is not None
        new = grader._process.pid
        assert new != old and _state(new) not in (None, "Z")
        assert _state(old) is None, "the killed helper was not reaped"
    assert _state(new) is None, "leaving the with block did not end and reap the helper"


def _kill_helper_during_a_run(
    grader: PreloadedGrader, folder: Folder, env: dict[str, str]
) -> tuple[tuple[str, str], dict[str, int], float]:
    """Start the helper, start a run whose child hangs, and kill the helper once the child
    wrote its pids. Returns the run's answer, the pids, and the seconds the run took to
    return after the kill."""
    helper = _start(grader)
    answers: list[tuple[str, str]] = []

    def run() -> None:
        answers.append(grader.run(folder.argv, cwd=folder.path, env=env, timeout=600))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    pids = folder.pids(within=60)
    killed = time.monotonic()
    os.kill(helper, signal.SIGKILL)
    thread.join(timeout=60)
    assert answers, "the run did not return after its helper died"
    return answers[0], pids, time.monotonic() - killed


@pytest.mark.slow
def test_a_helper_killed_during_a_run_crashes_that_run_only(tmp_path: Path) -> None:
    """The helper is killed while its child runs. Does that run come back "crashed" at once
    with a message saying the helper died, does the child die with its helper rather than
    run on unwatched, and does the next run start a new helper and succeed?"""
    folder = Folder(tmp_path / "course", _hanging("time.sleep(1000)"))
    try:
        with PreloadedGrader(cwd=ROOT) as grader:
            (outcome, log), pids, took = _kill_helper_during_a_run(grader, folder, _env(tmp_path))
            assert outcome == "crashed"
            assert "grader helper exited" in log, log
            assert took < 10
            assert _dead(pids["child"]), "the child runs on after its helper died"

            outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=120)
            assert outcome == "ran", log
    finally:
        _kill_leftovers(folder)


@pytest.mark.slow
def test_what_a_child_started_does_not_outlive_its_helper(tmp_path: Path) -> None:
    """A child that hangs after starting a grandchild (``sleep 1000``, in the child's
    process group) when its helper is killed: is the grandchild killed too, as it is when
    the child times out?"""
    folder = Folder(tmp_path / "course", _hanging("time.sleep(1000)"))
    try:
        with PreloadedGrader(cwd=ROOT) as grader:
            (outcome, _log), pids, _took = _kill_helper_during_a_run(grader, folder, _env(tmp_path))
            assert outcome == "crashed"
            assert _dead(pids["child"])
            assert _dead(pids["grandchild"], within=3), "the child's process group runs on"
    finally:
        _kill_leftovers(folder)


def test_a_helper_that_cannot_start_makes_runs_crash_not_raise(tmp_path: Path) -> None:
    """Is a helper that exits at once, or whose interpreter does not exist, reported as a
    "crashed" run that says nbgrader could not run, every time, rather than an exception?"""
    for python in (shutil.which("false") or "/bin/false", str(tmp_path / "no-such-python")):
        with PreloadedGrader(cwd=ROOT, python=python) as grader:
            for _ in range(2):
                outcome, log = grader.run(VERSION, cwd=tmp_path, env={}, timeout=10)
                assert outcome == "crashed", (python, log)
                assert log.startswith("nbgrader could not run"), (python, log)
                assert grader._process is None


@pytest.mark.slow
def test_output_before_the_helper_serves_does_not_shift_the_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something prints on the helper's stdout before serve() takes it over (here a
    sitecustomize; equally a .pth file, or the course's own copy of lstm_grader, imported
    from the course root before serve runs). Does each run still get its own answer: no
    exception, and never the answer to the run before?"""
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    (noisy / "sitecustomize.py").write_text('print("hello from sitecustomize")\n')
    monkeypatch.setenv("PYTHONPATH", str(noisy))
    outcomes = []
    with PreloadedGrader(cwd=ROOT) as grader:
        for argv in (VERSION, FAILING, VERSION, VERSION):
            try:
                outcomes.append(grader.run(argv, cwd=tmp_path, env=_env(tmp_path), timeout=60)[0])
            except Exception as exc:  # what the bug does: see the reason above
                outcomes.append(type(exc).__name__)
    assert outcomes == ["ran", "crashed", "ran", "ran"]


@pytest.mark.slow
def test_close_ends_and_reaps_the_helper(tmp_path: Path) -> None:
    """Does close() end the helper and reap it (no process, no zombie), and may it be called
    again, or on a grader that never started one?"""
    PreloadedGrader(cwd=ROOT).close()

    grader = PreloadedGrader(cwd=ROOT)
    pid = _start(grader)
    assert _state(pid) not in (None, "Z")
    grader.close()
    assert _state(pid) is None, "the helper is still there, or a zombie"
    assert grader._process is None
    grader.close()


@pytest.mark.slow
def test_a_helper_started_ahead_loads_while_the_caller_works(tmp_path: Path) -> None:
    """``start()`` returns before the helper has loaded nbgrader; the first run waits for
    it and works; a helper started but never used is ended at once by ``close()``."""
    grader = PreloadedGrader(cwd=ROOT)
    began = time.monotonic()
    grader.start()
    assert time.monotonic() - began < 1.0, "start() waited for the helper to load"
    outcome, log = grader.run(VERSION, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert outcome == "ran", log
    grader.close()
    unused = PreloadedGrader(cwd=ROOT)
    unused.start()
    pid = unused._process.pid
    began = time.monotonic()
    unused.close()
    assert time.monotonic() - began < 2.0, "close() let an unused helper finish loading"
    assert _dead(pid)


def test_a_child_that_cannot_be_forked_ahead_leaves_the_next_submission_cold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the process limit refuses the fork of the child that would warm the next
    kernel, is that child simply not there (the next submission starts cold, the current
    one is not failed), with no pipe or file of it left open in the helper?"""
    from lstm_grader import preloaded

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    before = set(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(preloaded.os, "fork", refuse)
    assert preloaded._fork_waiting({"recipe": {}, "env": {}}) is None
    assert preloaded._fork_waiting(None) is None
    assert set(os.listdir("/proc/self/fd")) == before
    assert preloaded._OTHER_CHILDRENS_FDS == set()


#: A grading run whose kernel waits for its turn (another grader of the user holds it)
#: longer than the run's whole time limit, then runs a moment and ends.
WAITS_FOR_ITS_TURN = """
import time
from lstm_grader import sandbox
asked = time.monotonic()
sandbox._note_turn_wait(asked, None)
time.sleep(3)
sandbox._note_turn_wait(asked, time.monotonic())
time.sleep(0.5)
"""


def test_a_runs_wait_for_its_kernels_turn_is_not_its_time(tmp_path: Path) -> None:
    """lstm-grade --timeout is the grading's time: does a run whose kernel waited for the
    turn (held by another grader of the same user) longer than that limit still end
    as it ran, while a run that merely takes as long is stopped?"""
    from lstm_grader import preloaded, sandbox

    notes = tmp_path / "waits"
    notes.touch()
    env = {**os.environ, sandbox.TURN_WAITS_ENV: str(notes)}
    waiting = subprocess.Popen([sys.executable, "-c", WAITS_FOR_ITS_TURN], cwd=ROOT, env=env)
    slow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    # both waits at once, each timing its own run from its own start: the test then lasts
    # as long as the turn, not the turn and the limit one after the other
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        slow_waited = pool.submit(preloaded._wait, slow.pid, 2.0, str(notes))
        try:
            waited = preloaded._wait(waiting.pid, 2.0, str(notes))
            assert waited is not None, "timed out while it waited for its turn"
            assert os.waitstatus_to_exitcode(waited[0]) == 0
            assert slow_waited.result() is None
        finally:
            slow.kill()
            slow.wait()


def test_the_client_waits_for_a_run_whose_kernel_waited_for_its_turn(tmp_path: Path) -> None:
    """The client of the helper gives up on an answer later than the run's time limit:
    does it, like the helper, leave the run's wait for its kernel's turn out, rather than
    call the helper dead while the run waits?"""
    from lstm_grader import sandbox

    notes = tmp_path / "waits"
    run = 4_000_000  # the run's pid: only its notes are read
    asked = time.monotonic()
    notes.write_text(f"{run} {asked!r} -\n")
    read, write = os.pipe()
    grader = PreloadedGrader()
    grader._answers = os.fdopen(read, "r", encoding="utf-8")
    grader._errors = tempfile.TemporaryFile()

    def turn_then_answer() -> None:
        time.sleep(2.5)  # longer than the run's limit
        with notes.open("a") as more:
            more.write(f"{run} {asked!r} {time.monotonic()!r}\n")
        os.write(write, b'{"outcome": "ran", "log": ""}\n')

    helper = threading.Thread(target=turn_then_answer)
    helper.start()
    try:
        answer = grader._outcome(run, 1.0, {sandbox.TURN_WAITS_ENV: str(notes)})
    finally:
        helper.join()
        os.close(write)
        grader._close_streams()
    assert answer["outcome"] == "ran"
