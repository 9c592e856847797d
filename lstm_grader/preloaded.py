"""Run ``nbgrader`` many times while paying for its start-up once.

Starting Python and importing nbgrader's applications costs several seconds, more than
grading a notebook. A :class:`PreloadedGrader` is one helper process that imports
nbgrader, its converters and this grader's preprocessors once; for each submission it
forks a fresh child that runs the nbgrader command and exits. The child owns everything
the submission touches (nbgrader's application state, the gradebook connection, the
sandboxed kernel it starts), so a submission that crashes, hangs or attacks its grader
leaves nothing behind for the next one: the next child is forked from the same clean
helper. A child that runs past its time is killed with its process group.

The helper is started from the course root, so it imports the same ``lstm_lib`` and
``lstm_grader`` that ``python -m nbgrader`` started there would.

>>> with PreloadedGrader(cwd=".") as grader:  # doctest: +SKIP
...     outcome, log = grader.run(["autograde", "05-return-flags", "--student", "ada"],
...                               cwd="/course", env=dict(os.environ), timeout=900)
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

#: What the helper imports before it forks anything: nbgrader's applications (they import
#: the converters, preprocessors, the gradebook and nbconvert) and this grader's modules
#: that ``nbgrader_config.py`` names.
PRELOADED_MODULES = (
    "nbgrader.apps.nbgraderapp",
    "nbgrader.converters",
    "nbgrader.preprocessors",
    "nbclient",
    "jupyter_client.manager",
    "sqlalchemy.dialects.sqlite",
    "lstm_grader.preprocessors",
    "lstm_grader.feedback",
    "lstm_grader.student_version",
    "lstm_grader.collection",
    "lstm_grader.sandbox",
)

#: Modules nbgrader and nbclient import on first use, listed so the helper pays for them.
LAZY_MODULES = (
    "sqlite3",
    "IPython",
    "ipykernel",
    "codeop",
    "xml.dom",
    "lstm_lib.model_verdicts",
    "bleach._vendor.html5lib.treebuilders.etree",
    "bleach._vendor.html5lib.treewalkers.etree",
    "mistune.plugins.def_list",
    "mistune.plugins.task_lists",
    "mistune.plugins.url",
)

#: How long the helper may take to load, and to answer beyond a run's own time limit.
START_TIMEOUT_S = 300.0
ANSWER_GRACE_S = 60.0


class GraderHelperDied(RuntimeError):
    """The helper process stopped answering or exited: it is restarted for the next run."""


# --------------------------------------------------------------------------- the helper


def _preload() -> None:
    # jsonschema imports rfc3987_syntax to check IRI formats no notebook schema uses;
    # compiling its grammars is a third of nbgrader's import time (jsonschema treats the
    # package as optional)
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import importlib

    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    # nbformat compiles its schema validator on first use: pay that here too
    import nbformat

    nbformat.validate(nbformat.v4.new_notebook())
    # what grading imports lazily on its first notebook, found by profiling one run
    for name in LAZY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # optional parts of the stack: the child imports what exists
            pass


#: The helper's protocol streams: a forked child closes them first thing.
_PROTOCOL_FDS: list[int] = []


def _run_child(request: dict[str, Any], log_fd: int) -> None:
    """In the forked child: become the nbgrader command, then exit without returning."""
    code = 1
    try:
        for fd in _PROTOCOL_FDS:
            os.close(fd)
        _die_with_parent()
        os.setpgid(0, 0)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["nbgrader", *request["argv"]]
        from nbgrader.apps.nbgraderapp import NbGraderApp

        try:
            NbGraderApp.launch_instance(argv=request["argv"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # everything the child does ends in its exit code and log
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the helper that forked it dies, so a child
    never outlives a helper killed with its worker."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the helper's own exit still ends runs
        pass
    if os.getppid() == 1:  # the helper died before the request was set up
        os._exit(1)


def _wait(pid: int, timeout: float) -> tuple[int, float] | None:
    """Wait for a child: its exit status and the CPU seconds it and the processes it
    waited for used, or None when ``timeout`` passed first."""
    deadline = time.monotonic() + timeout
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return status, usage.ru_utime + usage.ru_stime
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.02))
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _serve_one(request: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryFile() as log:
        pid = os.fork()
        if pid == 0:
            _run_child(request, log.fileno())
        waited = _wait(pid, float(request["timeout"]))
        if waited is None:
            _kill_group(pid)
            return {"outcome": "timed-out", "log": ""}
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    status, cpu = waited
    code = os.waitstatus_to_exitcode(status)
    outcome = "ran" if code == 0 else "crashed"
    return {"outcome": outcome, "returncode": code, "log": text, "cpu_seconds": cpu}


def serve() -> None:
    """The helper's main loop: one JSON request per line on stdin, one answer per line.

    The protocol runs on copies of the standard streams taken at start, and the streams
    themselves point to ``/dev/null``, so nothing a module prints can garble an answer.
    """
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    _PROTOCOL_FDS[:] = [requests.fileno(), answers.fileno()]
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _preload()
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for line in requests:
        try:
            answer = _serve_one(json.loads(line))
        except Exception as exc:  # the helper itself failed: say so, keep serving
            answer = {"outcome": "crashed", "log": f"grader helper: {type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


# --------------------------------------------------------------------------- the client


class PreloadedGrader:
    """One preloaded helper process, used by one thread at a time.

    Parameters
    ----------
    cwd
        Where the helper starts: the course root, so that a course's own copy of
        ``lstm_grader`` or ``lstm_lib`` is the one imported, as for ``python -c`` there.
    python
        The interpreter to run it with (default: this one).
    """

    def __init__(self, cwd: str | Path = ".", python: str = sys.executable) -> None:
        self.cwd = str(cwd)
        self.python = python
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> PreloadedGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        process = subprocess.Popen(
            [self.python, "-c", "from lstm_grader.preloaded import serve; serve()"],
            cwd=self.cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._process = process
        ready = self._answer(START_TIMEOUT_S)
        if not ready.get("ready"):
            raise GraderHelperDied(f"the grader helper did not start: {ready}")
        return process

    def _answer(self, timeout: float) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if readable else ""
        if not line:
            self._stop()
            raise GraderHelperDied(
                "the grader helper stopped answering"
                if not readable
                else "the grader helper exited (out of memory, or killed)"
            )
        return json.loads(line)

    def run(
        self, argv: list[str], *, cwd: str | Path, env: dict[str, str], timeout: float
    ) -> tuple[str, str]:
        """Run ``nbgrader ARGV`` in ``cwd`` with exactly ``env``, in a fresh forked child.

        Returns
        -------
        outcome, log
            ``"ran"`` (exit 0), ``"crashed"`` (any other exit, or the helper died) or
            ``"timed-out"`` (killed after ``timeout`` seconds), and the child's output.
        """
        request = {"argv": argv, "cwd": str(cwd), "env": env, "timeout": timeout}
        with self._lock:
            try:
                process = self._process if self._alive() else self._start()
                assert process.stdin is not None
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                answer = self._answer(timeout + ANSWER_GRACE_S)
            except (GraderHelperDied, BrokenPipeError, OSError) as exc:
                self._stop()
                return "crashed", f"nbgrader could not run: {exc}"
        if answer["outcome"] == "timed-out":
            return "timed-out", f"grading took longer than {timeout:g} s"
        log = f"$ nbgrader {' '.join(argv)}\n{answer.get('log', '')}"
        return answer["outcome"], log

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream:
                stream.close()

    def close(self) -> None:
        """End the helper (it exits when its input closes) and reap it."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                return
            try:
                if process.stdin:
                    process.stdin.close()
                process.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()
