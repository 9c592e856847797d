"""Run ``nbgrader`` many times while paying for its start-up once.

Starting Python and importing nbgrader's applications costs several seconds, more than
grading a notebook. A :class:`PreloadedGrader` is one helper process that imports
nbgrader, its converters and this grader's preprocessors once; for each submission it
forks a fresh child that runs the nbgrader command and exits. The child owns everything
the submission touches (nbgrader's application state, the gradebook connection, the
sandboxed kernel it starts), so a submission that crashes, hangs or attacks its grader
leaves nothing behind for the next one: the next child is forked from the same clean
helper. A child that runs past its time is killed with its process group, and a child whose helper
dies is killed with it.

The child for the next submission is forked as soon as the current one has its request,
and starts its sandboxed kernel while it waits (a warm kernel, see
:mod:`lstm_grader.warm_kernels`), from the recipe the last finished child recorded. It
is still one child and one kernel per submission; the kernel's start just no longer
waits for the previous submission to finish.

Before it forks the first child for a gradebook, the helper compiles the SQL nbgrader
runs on it, against a scratch gradebook (:mod:`lstm_grader.gradebook_engines`), so no
child compiles it again. The children still open their own connections, one per
gradebook, kept across nbgrader's openings of it until the child exits.

The helper is started from the course root, so it imports the same ``lstm_lib`` and
``lstm_grader`` that ``python -m nbgrader`` started there would.

>>> with PreloadedGrader(cwd=".") as grader:  # doctest: +SKIP
...     outcome, log = grader.run(["autograde", "05-return-flags", "--student", "ada"],
...                               cwd="/course", env=dict(os.environ), timeout=900)
"""

from __future__ import annotations

import gc
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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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
    "lstm_grader.cell_metadata",
    "lstm_grader.feedback",
    "lstm_grader.student_version",
    "lstm_grader.collection",
    "lstm_grader.sandbox",
    "lstm_grader.gradebook_guard",
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
    # each kernel start: the bytecode check of lstm_lib, and the kernel spec's lookup
    "compileall",
    "ipykernel.kernelspec",
)

#: How long the helper may take to load, and to answer beyond a run's own time limit.
START_TIMEOUT_S = 300.0
ANSWER_GRACE_S = 60.0


class GraderHelperDied(RuntimeError):
    """The helper process stopped answering or exited: it is restarted for the next run."""


# --------------------------------------------------------------------------- the helper


def skip_iri_grammars() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process.

    jsonschema imports it to check IRI formats that no notebook schema uses; compiling its
    grammars is a third of nbgrader's import time. jsonschema treats the package as
    optional. Call before anything imports nbformat or nbgrader.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def preload() -> None:
    """Load, once, what every forked child would otherwise load for itself: nbgrader's
    applications, this grader's modules, the validators, the provisioners' entry points
    and what grading imports on first use. The helper calls it before it forks anything;
    the bench calls it before it times a floor, so both start equally warm.

    Last, what it loaded is collected once and frozen (:func:`gc.freeze`): the cyclic
    collector of a forked child then never walks the helper's heap, which would cost
    each child the walk and a copy of every page it touches.
    """
    skip_iri_grammars()
    import importlib

    for name in PRELOADED_MODULES:
        importlib.import_module(name)
    # nbformat compiles its schema validator on first use: pay that here too
    import nbformat

    nbformat.validate(nbformat.v4.new_notebook())
    nbformat.validate(nbformat.v4.new_notebook(), relax_add_props=True)  # nbconvert's
    # SQLAlchemy builds its mappers on the first query of each process: nbgrader's, here
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    # the metadata check's validator, with its schema checked once for every child
    from lstm_grader.cell_metadata import metadata_validator

    metadata_validator()
    # the kernel provisioners' entry points, a scan of every installed distribution
    from jupyter_client.provisioning import KernelProvisionerFactory

    KernelProvisionerFactory.instance()
    # the sandbox's host check builds a real sandbox once per process: once per helper
    from lstm_grader.sandbox import bwrap_path, sandbox_problem

    sandbox_problem()
    _SANDBOX_CHECKED_WITH[0] = bwrap_path()
    # what killed graders' sandboxes left: swept once here, never again by a child
    from lstm_grader.sandbox import remove_leftovers

    remove_leftovers()
    # one engine per gradebook for every opening in a child, not one each
    from lstm_grader import gradebook_engines

    gradebook_engines.install()
    # what grading imports lazily on its first notebook, found by profiling one run
    for name in LAZY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # optional parts of the stack: the child imports what exists
            pass
    # the markdown renderer and HTML cleaner compile their patterns on first use
    from lstm_grader.preprocessors import clean_learner_markdown

    clean_learner_markdown(
        "# A *note*\n\nSee [the docs](https://keras.io) and `LSTM(16)`:\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted <b onclick=x()>text</b>\n"
    )
    gc.collect()
    gc.freeze()


#: The helper's protocol streams: a forked child closes them first thing.
_PROTOCOL_FDS: list[int] = []
#: The bubblewrap the helper's sandbox check ran with: a run that names another checks again.
_SANDBOX_CHECKED_WITH: list[str | None] = [None]
#: The helper's pid, recorded before each fork: a child whose parent changed is orphaned.
_HELPER_PID: list[int] = [0]


def _run_child(request_fd: int, log_fd: int, recipe_fd: int, warm: dict[str, Any] | None) -> None:
    """In the forked child: start a warm kernel if told how, wait for the request on
    ``request_fd``, become the nbgrader command, then exit without returning."""
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
        from lstm_grader import gradebook_engines, warm_kernels

        # this process grades one submission and exits: one connection per gradebook
        gradebook_engines.keep_connections()

        warm_kernels.record_to(recipe_fd)
        if warm is not None:
            # the environment the previous submission was graded in: the kernel's depends on it
            _take_environment(warm["env"])
            warm_kernels.start(warm["recipe"])
        with os.fdopen(request_fd, "r", encoding="utf-8") as requests:
            line = requests.readline()
        if not line:  # no submission came: the helper is closing
            warm_kernels.discard()
            code = 0
            return
        request = json.loads(line)
        os.chdir(request["cwd"])
        _take_environment(request["env"])
        sys.argv = ["nbgrader", *request["argv"]]
        from nbgrader.apps.nbgraderapp import NbGraderApp

        try:
            NbGraderApp.launch_instance(argv=request["argv"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            warm_kernels.discard()
    except BaseException:  # everything the child does ends in its exit code and log
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _take_environment(env: dict[str, str]) -> None:
    """Make ``env`` this process's whole environment; check the sandbox again if it names
    another bubblewrap than the helper's check ran with."""
    from lstm_grader.sandbox import bwrap_path, sandbox_problem

    os.environ.clear()
    os.environ.update(env)
    if bwrap_path() != _SANDBOX_CHECKED_WITH[0]:
        sandbox_problem.cache_clear()


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
    if os.getppid() != _HELPER_PID[0]:  # the helper died before this line
        os._exit(1)


def _wait(pid: int, timeout: float, turn_waits: str | None = None) -> tuple[int, float] | None:
    """Wait for a child: its exit status and the CPU seconds it and the processes it
    waited for used, or None when ``timeout`` passed first. The time its kernels spent
    waiting for their turn, as noted in ``turn_waits`` (see
    :data:`lstm_grader.sandbox.TURN_WAITS_ENV`), is not counted."""

    def reaped() -> tuple[int, float] | None:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        return (status, usage.ru_utime + usage.ru_stime) if done else None

    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        for look in looks_until_timeout(timeout, pid, turn_waits):
            if (ended := reaped()) is not None:
                return ended
            if pidfd is not None:
                readable_within(pidfd, look)
            else:
                time.sleep(min(look, 0.02))
        return reaped()  # a child that ended during the last look did not time out
    finally:
        if pidfd is not None:
            os.close(pidfd)


def readable_within(source: int | IO[Any], timeout: float) -> bool:
    """Whether ``source`` (a descriptor, or what has one) can be read, or has ended,
    within ``timeout`` seconds.

    ``poll``, not ``select``: ``select`` refuses a descriptor numbered 1,024 or more, and
    the class command raises its own limit of open files above that
    (:func:`lstm_grader.sandbox.raise_own_open_files`).
    """
    poller = select.poll()
    poller.register(source, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout) * 1000))


#: How often a wait for a child whose kernels may wait for their turn looks again.
TURN_WAIT_LOOK_S = 1.0


def looks_until_timeout(timeout: float, pid: int, turn_waits: str | None) -> Iterator[float]:
    """How long to wait before each next look at ``pid``'s run, until ``timeout`` seconds
    have passed, not counting its kernels' waits for their turn noted in ``turn_waits``.

    Every wait for a run with a time limit is this loop: wait at most the yielded seconds
    for the run to end, then look again; the iteration ends when the time is up. Where a
    kernel may wait for its turn (``turn_waits`` given), a look comes at least every
    :data:`TURN_WAIT_LOOK_S`, since a wait that began since the last look adds time.
    """
    started = time.monotonic()
    while True:
        left = started + timeout - time.monotonic()
        if turn_waits:
            from lstm_grader.sandbox import turn_waited_s

            left += turn_waited_s(turn_waits, pid, started)
        if left <= 0:
            return
        yield min(left, TURN_WAIT_LOOK_S) if turn_waits else left


def _kill_group(pid: int, reap: bool = True) -> None:
    """Kill a child and its process group; wait for it when it is this process's child."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
    if reap:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


class _Child:
    """A forked child waiting for its request (and perhaps warming a kernel meanwhile)."""

    def __init__(self, warm: dict[str, Any] | None) -> None:
        self.log = tempfile.TemporaryFile()
        self.recipe = tempfile.TemporaryFile()
        request_read, self.request_fd = os.pipe()
        _HELPER_PID[0] = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_read, self.request_fd):
                os.close(fd)
            self.log.close()
            self.recipe.close()
            raise
        if pid == 0:
            os.close(self.request_fd)
            for fd in _OTHER_CHILDRENS_FDS:  # their logs, recipes and requests are not ours
                os.close(fd)
            _run_child(request_read, self.log.fileno(), self.recipe.fileno(), warm)
        os.close(request_read)
        self.pid = pid
        _OTHER_CHILDRENS_FDS.update((self.request_fd, self.log.fileno(), self.recipe.fileno()))

    def send(self, request: dict[str, Any]) -> bool:
        """Hand the child its request; False if it is gone."""
        _OTHER_CHILDRENS_FDS.discard(self.request_fd)
        try:
            os.write(self.request_fd, (json.dumps(request) + "\n").encode())
            return True
        except OSError:
            return False
        finally:
            os.close(self.request_fd)

    def release(self) -> None:
        """End a child that got no request: it shuts its warm kernel down and exits."""
        _OTHER_CHILDRENS_FDS.discard(self.request_fd)
        os.close(self.request_fd)
        if _wait(self.pid, RELEASE_TIMEOUT_S) is None:
            _kill_group(self.pid)
        self.close()

    def recorded_recipe(self) -> dict[str, Any] | None:
        """The recipe of the kernel the child started, if it recorded one."""
        self.recipe.seek(0)
        try:
            made = json.loads(self.recipe.read().decode("utf-8"))
        except ValueError:
            return None
        return made if isinstance(made, dict) else None

    def close(self) -> None:
        _OTHER_CHILDRENS_FDS.difference_update((self.log.fileno(), self.recipe.fileno()))
        self.log.close()
        self.recipe.close()


#: What the helper holds open for its children (their request pipes, logs and recipe
#: files): a newly forked child closes them, so it can reach no other child's.
_OTHER_CHILDRENS_FDS: set[int] = set()
#: How long a child that got no request may take to shut its warm kernel down.
RELEASE_TIMEOUT_S = 30.0


def _fork_waiting(warm: dict[str, Any] | None) -> _Child | None:
    """The child for the next submission, warming its kernel; None when there is no
    recipe yet, or when the fork fails (the next submission then starts cold rather than
    the current one failing)."""
    if warm is None:
        return None
    try:
        return _Child(warm)
    except OSError:
        return None


def _serve_one(
    request: dict[str, Any], say: Any, waiting: _Child | None, warm: dict[str, Any] | None
) -> tuple[dict[str, Any], _Child | None, dict[str, Any] | None]:
    """Grade one request in ``waiting`` (or a newly forked child if there is none or it
    is gone), forking the next waiting child as soon as this one has its request.

    Returns the answer, the child now waiting, and how to warm the next kernel."""
    child = waiting
    if child is None or not child.send(request):
        if child is not None:
            _kill_group(child.pid)
            child.close()
        child = _Child(None)
        child.send(request)
    try:
        # the client kills this process group should the helper die before answering
        say({"started": child.pid})
        waiting = _fork_waiting(warm)
        from lstm_grader.sandbox import TURN_WAITS_ENV

        turn_waits = request["env"].get(TURN_WAITS_ENV)
        waited = _wait(child.pid, float(request["timeout"]), turn_waits)
        if waited is None:
            _kill_group(child.pid)
            return {"outcome": "timed-out", "log": ""}, waiting, warm
        made = child.recorded_recipe()
        if made is not None and request.get("warm", True):
            warm = {"recipe": made, "env": request["env"]}
            if waiting is None:  # the first recipe: the next child warms from it
                waiting = _fork_waiting(warm)
        child.log.seek(0)
        text = child.log.read().decode("utf-8", "replace")
    finally:
        child.close()
    status, cpu = waited
    code = os.waitstatus_to_exitcode(status)
    outcome = "ran" if code == 0 else "crashed"
    answer = {"outcome": outcome, "returncode": code, "log": text, "cpu_seconds": cpu}
    return answer, waiting, warm


def serve(requests_fd: int, answers_fd: int) -> None:
    """The helper's main loop: one JSON request per line on ``requests_fd``, one answer
    per line on ``answers_fd``.

    The protocol has pipes of its own, never the standard streams, so nothing printed
    by a module, a ``sitecustomize`` or a child can be read as an answer.
    """
    requests = os.fdopen(requests_fd, "r", encoding="utf-8")
    answers = os.fdopen(answers_fd, "w", encoding="utf-8")
    _PROTOCOL_FDS[:] = [requests_fd, answers_fd]
    preload()
    from lstm_grader import gradebook_engines

    def say(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    say({"ready": True})
    waiting: _Child | None = None
    warm: dict[str, Any] | None = None
    try:
        for line in requests:
            try:
                request = json.loads(line)
                if request.get("gradebook"):  # once per gradebook: before any child forks
                    gradebook_engines.warm(str(request["gradebook"]))
                if not request.get("warm", True) and waiting is not None:
                    waiting.release()
                    waiting, warm = None, None
                answer, waiting, warm = _serve_one(request, say, waiting, warm)
            except Exception as exc:  # the helper itself failed: say so, keep serving
                answer = {
                    "outcome": "crashed",
                    "log": f"grader helper: {type(exc).__name__}: {exc}",
                }
            say(answer)
    finally:
        if waiting is not None:
            waiting.release()


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
    warm_kernels
        Whether the child for the next submission starts its sandboxed kernel while this
        one is graded (see :mod:`lstm_grader.warm_kernels`); False starts each kernel
        when its submission arrives.
    """

    def __init__(
        self, cwd: str | Path = ".", python: str = sys.executable, warm_kernels: bool = True
    ) -> None:
        self.cwd = str(cwd)
        self.python = python
        self.warm_kernels = warm_kernels
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: Any = None
        self._answers: Any = None
        self._errors: Any = None
        self._loading = False
        self._lock = threading.Lock()

    def __enter__(self) -> PreloadedGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start loading the helper now, without waiting for it: the first :meth:`run`
        waits for what is left. Starting helpers before other work overlaps their loading
        with it."""
        with self._lock:
            if not self._alive():
                self._stop()
                self._start(wait=False)

    def _start(self, wait: bool = True) -> None:
        requests_read, requests_write = os.pipe()
        answers_read, answers_write = os.pipe()
        self._errors = tempfile.TemporaryFile()
        # os._exit once the requests end: every answer is already flushed, and tearing down
        # an interpreter that holds all of nbgrader takes most of a second
        code = (
            "import os, sys; from lstm_grader.preloaded import serve; "
            f"serve({requests_read}, {answers_write}); sys.stderr.flush(); os._exit(0)"
        )
        try:
            self._process = subprocess.Popen(
                [self.python, "-c", code],
                cwd=self.cwd,
                env=dict(os.environ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                pass_fds=(requests_read, answers_write),
            )
        except OSError:
            os.close(requests_write)
            os.close(answers_read)
            raise
        finally:
            os.close(requests_read)
            os.close(answers_write)
        self._requests = os.fdopen(requests_write, "w", encoding="utf-8")
        self._answers = os.fdopen(answers_read, "r", encoding="utf-8")
        self._loading = True
        if wait:
            self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        if self._loading:
            self._loading = False
            if not self._answer(START_TIMEOUT_S).get("ready"):
                self._stop()
                raise GraderHelperDied("the grader helper did not start")

    def _why_it_stopped(self) -> str:
        """The last lines the helper wrote to its error stream, if any."""
        if self._errors is None:
            return ""
        self._errors.seek(0)
        lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        return (": " + " | ".join(lines[-3:])) if lines else ""

    def _answer(self, timeout: float) -> dict[str, Any]:
        readable = readable_within(self._answers, timeout)
        line = self._answers.readline() if readable else ""
        try:
            answer = json.loads(line) if line else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not answer.keys() & {"ready", "started", "outcome"}:
            why = (
                "stopped answering"
                if not readable
                else "exited (out of memory, killed, or it could not start)"
            )
            why += self._why_it_stopped()
            self._stop()
            raise GraderHelperDied(f"the grader helper {why}")
        return answer

    def _outcome(self, child: int, timeout: float, env: dict[str, str]) -> dict[str, Any]:
        """The helper's answer for the run of ``child``, within ``timeout`` seconds not
        counting its kernels' waits for their turn (as the helper does not)."""
        from lstm_grader.sandbox import TURN_WAITS_ENV

        for look in looks_until_timeout(timeout, child, env.get(TURN_WAITS_ENV)):
            if readable_within(self._answers, look):
                break
        return self._answer(0)

    def _send(self, request: dict[str, Any]) -> None:
        """Send a request, restarting a helper found dead first: a request that was never
        delivered is safe to send again."""
        for attempt in (1, 2):
            try:
                if not self._alive():
                    self._stop()
                    self._start()
                self._wait_until_ready()
                self._requests.write(json.dumps(request) + "\n")
                self._requests.flush()
                return
            except (BrokenPipeError, ConnectionResetError):
                self._stop()
                if attempt == 2:
                    raise GraderHelperDied("the grader helper exited before the request") from None

    def run(
        self,
        argv: list[str],
        *,
        cwd: str | Path,
        env: dict[str, str],
        timeout: float,
        gradebook: str | None = None,
    ) -> tuple[str, str]:
        """Run ``nbgrader ARGV`` in ``cwd`` with exactly ``env``, in a fresh forked child.

        ``gradebook``, the URL of the gradebook the run writes to, lets the helper compile
        the SQL nbgrader runs on it once, before it forks, for every child to inherit
        (:mod:`lstm_grader.gradebook_engines`; the helper never opens that gradebook).

        Returns
        -------
        outcome, log
            ``"ran"`` (exit 0), ``"crashed"`` (any other exit, or the helper died) or
            ``"timed-out"`` (killed after ``timeout`` seconds), and the child's output.
        """
        request = {
            "argv": argv,
            "cwd": str(cwd),
            "env": env,
            "timeout": timeout,
            "warm": self.warm_kernels,
            "gradebook": gradebook,
        }
        child = None
        with self._lock:
            try:
                self._send(request)
                answer = self._answer(START_TIMEOUT_S)
                child = answer.get("started")
                if child is not None:
                    answer = self._outcome(child, timeout + ANSWER_GRACE_S, env)
            except (GraderHelperDied, OSError) as exc:
                self._stop()
                if child is not None:  # what the orphaned run started goes with it
                    _kill_group(child, reap=False)
                return "crashed", f"nbgrader could not run: {exc}"
        if answer["outcome"] == "timed-out":
            return "timed-out", f"grading took longer than {timeout:g} s"
        log = f"$ nbgrader {' '.join(argv)}\n{answer.get('log', '')}"
        return answer["outcome"], log

    def kill(self) -> None:
        """Kill the helper now, from any thread, without waiting for what it is grading.

        The child it forked dies with it, and the child's sandboxed kernel with the child
        (both die with their parent), so the submission being graded ends in :meth:`run`
        as ``"crashed"``; the next :meth:`run` starts a new helper.
        """
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def _alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
        self._close_streams()

    def _close_streams(self) -> None:
        for name in ("_requests", "_answers", "_errors"):
            stream = getattr(self, name)
            setattr(self, name, None)
            if stream is not None:
                try:
                    stream.close()
                except OSError:  # a pipe whose reader is gone: nothing left to flush
                    pass

    def close(self) -> None:
        """End the helper (it exits when its requests pipe closes) and reap it."""
        with self._lock:
            process, self._process = self._process, None
            if process is None:
                self._close_streams()
                return
            if self._loading:  # never used: no need to let it finish loading
                process.kill()
            try:
                if self._requests is not None:
                    self._requests.close()
                    self._requests = None
                process.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                process.kill()
                process.wait()
            self._close_streams()
