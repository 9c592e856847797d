"""``lstm-grade --scheduler``: grading on a Dask cluster, written from one place.

Fast tests check the pieces: the gradebook state a worker receives and sends back, the
files it may write, the refusal of a worker with other grading code. The slow test runs a
real Dask scheduler and two worker processes on 127.0.0.1 with a PostgreSQL gradebook,
kills one worker while it grades a notebook, and checks that the class is graded exactly
as on one host.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import test_classgrade
from conftest import Course, python_under_limit, read_notebook, require_module
from test_classgrade import (
    ASSIGNMENT,
    _limit_cell_time,
    _submitted_bytes,
    _without_seconds,
    answered_notebook,
    grade_rows,
    submit_class,
)

from lstm_grader import cluster
from lstm_grader.cluster import GradingJob, GradingKit
from lstm_grader.course import CourseLayout

BIN = Path(sys.executable).parent
#: A real PostgreSQL server for the gradebook (the fixture of test_classgrade.py)
postgres_url = test_classgrade.postgres_url


@pytest.fixture(autouse=True, scope="module")
def _scripts_on_path():
    """nbgrader runs ``alembic`` by name when it creates a gradebook."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        yield


# --------------------------------------------------------------------------- fast: pieces


@pytest.fixture(scope="module")
def assignment_gradebook(tmp_path_factory) -> Path:
    """A gradebook file defining assignment a1 (notebook n1: two test cells, an answer
    cell) and learner ada; copied by each test, since nbgrader takes seconds to create one."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "a1.db"
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.add_assignment("a1")
        gradebook.add_notebook("n1", "a1")
        for name in ("q1", "q2"):
            gradebook.add_grade_cell(name, "n1", "a1", max_score=2, cell_type="code")
        gradebook.add_solution_cell("a1-answer", "n1", "a1")
        gradebook.add_grade_cell("a1-answer", "n1", "a1", max_score=1, cell_type="code")
        gradebook.add_student("ada")
    return path


def _copy(template: Path, target: Path) -> str:
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.mark.slow
def test_a_submissions_gradebook_state_survives_the_round_trip(
    tmp_path: Path, assignment_gradebook: Path
) -> None:
    """What the host's gradebook holds for a submission (scores, manual grades, comments,
    flags, timestamp, extension) arrives unchanged in a worker's empty gradebook, and back."""
    import datetime as dt

    from nbgrader.api import Gradebook

    host = _copy(assignment_gradebook, tmp_path / "host.db")
    worker = _copy(assignment_gradebook, tmp_path / "worker.db")
    with Gradebook(host) as gradebook:
        assert cluster.submission_state(gradebook, "a1", "ada") is None
        submission = gradebook.add_submission(
            "a1", "ada", timestamp=dt.datetime(2026, 11, 30, 9, 15), extension=dt.timedelta(hours=2)
        )
        notebook = submission.notebooks[0]
        notebook.flagged = True
        notebook.late_submission_penalty = 0.5
        grades = {grade.name: grade for grade in notebook.grades}
        grades["q1"].auto_score, grades["q1"].needs_manual_grade = 2.0, False
        grades["q2"].auto_score, grades["q2"].manual_score = 0.0, 1.5
        grades["q2"].extra_credit, grades["q2"].needs_manual_grade = 0.5, True
        notebook.comments[0].auto_comment = "No response."
        notebook.comments[0].manual_comment = "see me"
        gradebook.db.commit()
        state = cluster.submission_state(gradebook, "a1", "ada")
    assert state is not None
    assert json.loads(json.dumps(state)) == state, "the state must travel as plain data"
    with Gradebook(worker) as gradebook:
        cluster.apply_submission_state(gradebook, "a1", "ada", state)
        copied = cluster.submission_state(gradebook, "a1", "ada")
    assert copied == state
    notebook_state = state["notebooks"]["n1"]
    assert notebook_state["grades"]["q2"] == {
        "auto_score": 0.0,
        "manual_score": 1.5,
        "extra_credit": 0.5,
        "needs_manual_grade": True,
    }
    assert notebook_state["flagged"] and notebook_state["late_submission_penalty"] == 0.5
    assert state["extension"] == 7200 and state["timestamp"].startswith("2026-11-30T09:15")
    # a learner the worker never saw is created with their submission
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    cluster.copy_assignment(host, fresh, "a1")
    with Gradebook(fresh) as gradebook:
        assert gradebook.students == []
        cluster.apply_submission_state(gradebook, "a1", "ada", state)
        assert cluster.submission_state(gradebook, "a1", "ada") == state


def test_a_worker_gets_the_assignment_exactly_as_the_course_gradebook_defines_it(
    tmp_path: Path, assignment_gradebook: Path
) -> None:
    """The worker's gradebook holds the course gradebook's definition of the assignment
    (cells, points, checksums, locked sources, due date, course) and no learner."""
    import datetime as dt

    from nbgrader.api import Gradebook

    course = _copy(assignment_gradebook, tmp_path / "course.db")
    with Gradebook(course) as gradebook:
        gradebook.update_or_create_assignment("a1", duedate=dt.datetime(2026, 12, 1, 12))
        gradebook.add_task_cell("t1", "n1", "a1", max_score=3, cell_type="markdown")
        gradebook.add_source_cell(
            "q1", "n1", "a1", cell_type="code", locked=True, source="assert x", checksum="abc"
        )
        gradebook.add_assignment("other")
        gradebook.add_submission("a1", "ada")
    worker = f"sqlite:///{tmp_path / 'worker.db'}"
    cluster.copy_assignment(course, worker, "a1")
    assert cluster.assignment_definition(worker, "a1") == cluster.assignment_definition(
        course, "a1"
    )
    with Gradebook(worker) as gradebook:
        assert [a.name for a in gradebook.assignments] == ["a1"]
        assert gradebook.students == [] and cluster.submission_state(gradebook, "a1", "ada") is None


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../escape.txt", "/tmp/escape.txt"])
def test_a_result_cannot_write_outside_its_folder(tmp_path: Path, name: str) -> None:
    """Files sent back by a worker land under their folder or nowhere."""
    folder = tmp_path / "autograded" / "ada"
    with pytest.raises(ValueError, match="outside"):
        cluster.write_folder(folder, {name: b"x"})
    assert not (tmp_path / "escape.txt").exists()
    assert not Path("/tmp/escape.txt").exists() or name != "/tmp/escape.txt"


def test_read_folder_sends_regular_files_only(tmp_path: Path) -> None:
    """A submission's links are never followed into the host's files, and the host's own
    bookkeeping files stay on the host."""
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.json").write_text("{}")
    (folder / "class-rows.json").write_text("{}")
    secret = tmp_path / "secret.txt"
    secret.write_text("solutions")
    (folder / "link.txt").symlink_to(secret)
    assert cluster.read_folder(folder, skip=cluster.HOST_ONLY_REPORTS) == {"sub/a.json": b"{}"}
    assert cluster.read_folder(tmp_path / "absent") == {}


def test_a_worker_with_other_grading_code_refuses_to_grade() -> None:
    """A worker whose lstm-course, nbgrader or their dependencies differ from the host's
    grades nothing, and says why."""
    kit = GradingKit(ASSIGNMENT, {}, code_version="another version")
    job = GradingJob("ada", ASSIGNMENT, {}, {}, None, timeout=60)
    result = cluster.grade_job(kit, job)
    assert result.outcome == "crashed"
    assert "other code than the course host" in result.log
    assert result.state is None and not result.autograded


#: A course configuration that stands for a run whose kernel waited for the user's turn
#: (another grader of the user held it) longer than the run's time limit, as the sandbox
#: notes such a wait, then ran a moment. Only the nbgrader run (the worker's forked child)
#: acts on it; the worker reads it too, to find the course's folders.
CONFIG_THAT_WAITS_FOR_ITS_TURN = """
import os, sys, time
from lstm_grader import sandbox
if sys.argv[:2] == ["nbgrader", "autograde"]:
    asked = time.monotonic()
    sandbox._note_turn_wait(asked, None)
    time.sleep(3)
    sandbox._note_turn_wait(asked, time.monotonic())
    time.sleep(0.5)
    os._exit(0)
"""


@pytest.mark.parametrize("waits", [True, False], ids=["waits-for-its-turn", "slow"])
def test_a_workers_wait_for_its_kernels_turn_is_not_its_time(
    tmp_path: Path, assignment_gradebook: Path, monkeypatch: pytest.MonkeyPatch, waits: bool
) -> None:
    """An ordinary user's worker processes on one host take the user's kernel turn: does
    a job whose kernel waited for it longer than --timeout still run, as on one host,
    while a job that merely takes as long still times out? A waits file named in the
    worker's own environment is not the job's."""
    from lstm_grader import sandbox
    from lstm_grader.grading_code import grading_code_version

    monkeypatch.setattr(sandbox, "kernels_share_a_process_limit", lambda: True)
    cluster._kernels_take_turns_here.cache_clear()
    planted = tmp_path / "planted-waits"
    planted.write_text(f"{os.getpid()} 0.0 -\n")  # "waited all along", for any pid it fits
    monkeypatch.setenv(sandbox.TURN_WAITS_ENV, str(planted))
    config = CONFIG_THAT_WAITS_FOR_ITS_TURN
    if not waits:
        config = config.replace("sandbox._note_turn_wait", "(lambda *_: None)")
    files = {
        "nbgrader_config.py": config.encode(),
        cluster.WORKER_GRADEBOOK: assignment_gradebook.read_bytes(),
    }
    kit = GradingKit("a1", files, grading_code_version())
    try:
        result = cluster.grade_job(kit, GradingJob("ada", "a1", {}, {}, None, timeout=2))
    finally:
        cluster._kernels_take_turns_here.cache_clear()
    assert result.outcome == ("ran" if waits else "timed-out"), result.log
    assert planted.read_text() == f"{os.getpid()} 0.0 -\n"


#: A course configuration that, in the worker's nbgrader run, writes whether that run may
#: grade without a sandbox (the switch in its environment) to the file named below, and
#: stops there.
CONFIG_THAT_SAYS_IF_UNSAFE = """
import os, sys
from lstm_grader import sandbox
if sys.argv[:2] == ["nbgrader", "autograde"]:
    with open({said!r}, "w") as said:
        said.write(str(sandbox.unsafe_allowed()))
    os._exit(0)
"""


@pytest.mark.parametrize("asked", [False, True], ids=["sandboxed", "unsafe-no-sandbox"])
def test_only_the_course_host_may_let_a_worker_grade_without_a_sandbox(
    tmp_path: Path, assignment_gradebook: Path, monkeypatch: pytest.MonkeyPatch, asked: bool
) -> None:
    """A worker host whose own environment holds the switch to grade without a sandbox (an
    image built for a test, a profile copied from a teaching machine): does a job from a
    course host that did not pass ``--unsafe-no-sandbox`` still refuse to grade without
    one, as that host alone would, and does one that did pass it grade so?"""
    from lstm_grader import sandbox
    from lstm_grader.grading_code import grading_code_version

    monkeypatch.setenv(sandbox.UNSAFE_SWITCH, "1")
    said = tmp_path / "unsafe.txt"
    files = {
        "nbgrader_config.py": CONFIG_THAT_SAYS_IF_UNSAFE.format(said=str(said)).encode(),
        cluster.WORKER_GRADEBOOK: assignment_gradebook.read_bytes(),
    }
    kit = GradingKit("a1", files, grading_code_version())
    job = GradingJob("ada", "a1", {}, {}, None, timeout=30, unsafe_no_sandbox=asked)
    result = cluster.grade_job(kit, job)
    assert result.outcome == "ran", result.log
    assert said.read_text() == str(asked)


def test_a_workers_nbgrader_helper_imports_from_a_private_folder() -> None:
    """The helper a worker starts (``python -c``, which imports from its working folder
    first) works in a folder of its own, never in the shared temporary folder where
    another user of the grading host could plant a module named like one it imports."""
    import stat
    import tempfile

    helper = cluster._worker_grader()
    folder = Path(helper.cwd)
    assert folder.resolve() != Path(tempfile.gettempdir()).resolve()
    info = folder.stat()
    assert info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) == 0o700
    assert list(folder.iterdir()) == []


def test_a_workers_helper_folder_is_removed_when_the_worker_stops() -> None:
    """A worker process that stops normally ends its nbgrader helper and removes the
    helper's folder; the thread that started the helper is a worker's thread, as in Dask."""
    code = (
        "import threading; from lstm_grader import cluster\n"
        "def use():\n"
        "    helper = cluster._worker_grader(); helper.start()\n"
        "    print(helper.cwd, helper._process.pid)\n"
        "thread = threading.Thread(target=use); thread.start(); thread.join()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    folder, pid = done.stdout.split()
    assert Path(folder).name.startswith("lstm-grade-helper-")
    assert not Path(folder).exists(), f"the stopped worker left {folder}"
    assert not Path(f"/proc/{pid}").exists(), "the stopped worker's helper still runs"


def test_a_worker_started_under_a_low_soft_limit_of_open_files_raises_it() -> None:
    """A Dask worker started from a login shell has its soft limit of open files (1,024,
    or lower), which ran lstm-grade's own grading out of files. Does the worker raise
    its soft limit to the hard one, as lstm-grade does, before its helper starts, so that
    the helper has it too?"""
    code = (
        "import resource; from lstm_grader import cluster\n"
        "helper = cluster._worker_grader(); helper.start()\n"
        "own = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "helpers = resource.prlimit(helper._process.pid, resource.RLIMIT_NOFILE)\n"
        "print(*own, *helpers)\n"
    )
    assert python_under_limit("--nofile=64:4096", code) == ["4096"] * 4


class _Calls:
    """Calls that each wait for ``release`` and record how many ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.release = threading.Event()

    def __call__(self, value: int) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.release.wait(10)
        with self.lock:
            self.running -= 1
        return value

    def wait_for(self, running: int, within: float = 5.0) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                if self.running == running:
                    return True
            time.sleep(0.01)
        return False


def _run_all(limit: cluster.InFlightLimit, calls: _Calls, count: int) -> list:
    pool = ThreadPoolExecutor(max_workers=count)
    return [pool.submit(limit.run, calls, i) for i in range(count)]


def _not_a_scheduler(reply: bytes) -> tuple[str, threading.Event]:
    """The address of a server that accepts connections and sends ``reply`` (nothing: a
    web server waiting for a request), as the Dask dashboard or a web server does."""
    import socket

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            connection.sendall(reply)
            held.append(connection)
        for connection in held:
            connection.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", stop


@pytest.mark.parametrize(
    "reply",
    [b"", b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"],
    ids=["silent", "http"],
)
def test_an_address_that_is_not_a_scheduler_is_named_in_time(reply: bytes) -> None:
    """An instructor who gives lstm-grade --scheduler the dashboard's port, or an address
    where a web server answers, must be told so. Does connecting stop within its time with
    an OSError saying no Dask scheduler answers there (it waited for ever on a silent
    server, and failed with a MemoryError on an HTTP reply)?"""
    require_module("distributed", "Dask distributed (pip install .[grading])")
    address, stop = _not_a_scheduler(reply)
    outcome: list[BaseException | object] = []

    def connect() -> None:
        try:
            outcome.append(cluster.connect_scheduler(address, timeout_s=1))
        except BaseException as exc:
            outcome.append(exc)

    try:
        connecting = threading.Thread(target=connect, daemon=True)
        connecting.start()
        connecting.join(30)
        assert outcome, "still connecting after 30 s"
        error = outcome[0]
        assert isinstance(error, OSError), error
        assert "not a Dask scheduler" in str(error)
    finally:
        stop.set()


def test_no_more_submissions_run_at_once_than_the_cluster_has_slots() -> None:
    calls = _Calls()
    futures = _run_all(cluster.InFlightLimit(lambda: 2, recheck_s=0.02), calls, 8)
    assert calls.wait_for(2)
    time.sleep(0.2)  # long enough for a third to start, were it let through
    assert calls.running == 2
    calls.release.set()
    assert sorted(f.result(10) for f in futures) == list(range(8))
    assert calls.most == 2


def test_workers_that_join_mid_run_get_work_and_a_shrunk_cluster_gets_less() -> None:
    """Read once at the start, the limit left every worker that joined later idle."""
    slots = [1]
    limit = cluster.InFlightLimit(lambda: slots[0], recheck_s=0.02)
    calls = _Calls()
    futures = _run_all(limit, calls, 6)
    assert calls.wait_for(1)
    slots[0] = 4  # three workers joined, nothing has finished
    assert calls.wait_for(4), "the waiting submissions were not sent to the new workers"
    calls.release.set()
    for future in futures:
        future.result(10)
    assert calls.most == 4 and limit.current == 4
    slots[0] = 1
    calls.release.clear()
    time.sleep(0.1)  # past the last reading's recheck time
    more = _run_all(limit, calls, 3)
    assert calls.wait_for(1)
    time.sleep(0.2)
    assert calls.running == 1
    calls.release.set()
    for future in more:
        future.result(10)


def test_a_scheduler_that_stops_answering_leaves_the_last_limit_standing() -> None:
    answers = iter([3])

    def slots() -> int:
        try:
            return next(answers)
        except StopIteration:
            raise OSError("scheduler gone") from None

    limit = cluster.InFlightLimit(slots, recheck_s=0.02)
    calls = _Calls()
    futures = _run_all(limit, calls, 5)
    assert calls.wait_for(3)
    time.sleep(0.1)
    assert calls.running == 3
    calls.release.set()
    assert sorted(f.result(10) for f in futures) == list(range(5))
    assert limit.current == 3


# --------------------------------------------------------------------------- slow: a cluster


#: Looks for the worker's private course copy (lstm-grade-job-*) from inside the sandbox.
SNOOP = (
    "import glob\n"
    "print('SNOOPED', sorted(set(glob.glob('/tmp/lstm-grade-job-*') + "
    "glob.glob('/tmp/*/solutions') + glob.glob('/*/lstm-grade-job-*') + "
    "glob.glob('/proc/*/cwd/solutions') + glob.glob('/proc/*/root/tmp/lstm-grade-job-*'))))\n"
)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


class LocalCluster:
    """A Dask scheduler and worker processes on 127.0.0.1, started with Dask's own
    commands as an instructor would on their servers (no nanny, so a killed worker
    stays dead)."""

    def __init__(
        self, folder: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
    ) -> None:
        """Processes that log into ``folder``, started with ``env`` (the test's own
        environment by default) behind the command prefix ``prefix``."""
        self.folder = folder
        self.file = folder / "scheduler.json"
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = env if env is not None else _environment()
        self.prefix = prefix or []

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [*self.prefix, *command],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def logs(self) -> str:
        """What the scheduler and the workers wrote to their logs."""
        return "\n".join(
            (self.folder / f"{name}.log").read_text(errors="replace") for name in self.processes
        )

    def start(self, workers: int) -> str:
        self._start(
            "scheduler",
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--no-dashboard", "--scheduler-file", str(self.file)],
        )
        deadline = time.monotonic() + 60
        while not self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(self.file.read_text())["address"]
        for index in range(1, workers + 1):
            self.add_worker(address, f"w{index}")
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
            self.addresses = {
                info["name"]: worker for worker, info in client.scheduler_info()["workers"].items()
            }
        return address

    def add_worker(self, address: str, name: str) -> None:
        """Start worker ``name`` for the scheduler at ``address``, as a host added by hand."""
        self._start(
            name,
            [str(BIN / "dask"), "worker", address, "--name", name, "--nthreads", "1"]
            + ["--no-nanny", "--no-dashboard", "--local-directory", str(self.folder)],
        )

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def grade_killing_w1(self, course: Course, options: list[str]) -> tuple[str, tuple]:
        """Run ``lstm-grade`` on this cluster with ``options`` and kill worker w1 as soon as
        it is seen grading a notebook: the learner whose notebook it held, and the run's
        exit status, output and errors."""
        address = self.start(workers=2)
        grading = subprocess.Popen(
            [str(BIN / "lstm-grade"), ASSIGNMENT, "--no-progress", "--scheduler", address]
            + options,
            cwd=course.root,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        held = None
        deadline = time.monotonic() + 300
        while held is None and grading.poll() is None and time.monotonic() < deadline:
            job = _submission_graded_by(_grading_child(self.processes["w1"].pid))
            if job is not None:
                held = job.name
                self.kill("w1")
            time.sleep(0.02)
        out, err = grading.communicate(timeout=600)
        assert held, "worker w1 was never seen grading a notebook"
        return held, (grading.returncode, out, err)

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    return children


def _grading_child(worker_pid: int) -> int | None:
    """A child forked by the worker's nbgrader helper: a notebook being graded."""
    tree = _children()
    for helper in tree.get(worker_pid, []):
        for child in tree.get(helper, []):
            return child
    return None


def _submission_graded_by(pid: int | None) -> Path | None:
    """The submission a grading child works in, or None: no child, or one that ended
    between being found and being read (a race seen once in CI)."""
    if pid is None:
        return None
    try:
        return next(Path(f"/proc/{pid}/cwd").resolve(strict=True).glob("submitted/*"), None)
    except OSError:
        return None


def _graded_on(course: Course, student: str) -> str:
    log = course.layout.reports(student, ASSIGNMENT) / "autograde.log"
    first = log.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("graded on "), first
    return first.removeprefix("graded on ")


def _course_sending_other_code(
    root: Path, monkeypatch: pytest.MonkeyPatch, assignment_gradebook: Path
) -> str:
    """A course at ``root`` (gradebook: assignment a1, learner ada) whose kits are for other
    code, so a worker answers each at once that it will not grade with it: its gradebook's
    address."""
    require_module("distributed", "Dask distributed")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    monkeypatch.setattr(
        cluster, "build_kit", lambda layout, url, assignment: GradingKit(assignment, {}, "other")
    )
    return _copy(assignment_gradebook, root / "gradebook.db")


@contextmanager
def _one_worker_grading_other_code(
    root: Path, monkeypatch: pytest.MonkeyPatch, assignment_gradebook: Path
) -> Iterator[tuple[LocalCluster, cluster.ClusterGrading, str]]:
    """A local cluster of one worker (``w1``) and the course host's end grading the course of
    :func:`_course_sending_other_code` on it, with the scheduler's address; both stopped after."""
    db_url = _course_sending_other_code(root, monkeypatch, assignment_gradebook)
    local = LocalCluster(root)
    address = local.start(workers=1)
    try:
        grading = cluster.ClusterGrading(address, CourseLayout.from_root(root), db_url)
        try:
            yield local, grading, address
        finally:
            grading.close()
    finally:
        local.stop()


@pytest.mark.slow
def test_an_assignment_kit_lost_with_its_workers_is_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assignment_gradebook: Path
) -> None:
    """The assignment's kit is sent to the cluster once. When the workers holding it die
    and another joins, is the next submission still graded (its task was cancelled for
    "lost dependencies", and every submission after it of that assignment got a grader
    error)?"""
    with _one_worker_grading_other_code(tmp_path, monkeypatch, assignment_gradebook) as (
        local,
        grading,
        address,
    ):
        first = grading.autograde("ada", "a1", 60, False)
        local.kill("w1")
        local.add_worker(address, "w2")
        second = grading.autograde("ada", "a1", 60, False)
    for outcome, log, _seconds in (first, second):
        assert outcome == "crashed" and "other code than the course host" in log, log


@pytest.mark.slow
def test_a_scheduler_lost_mid_run_is_named_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assignment_gradebook: Path
) -> None:
    """When the scheduler stops mid-run, Dask gives up reconnecting after 30 s and each
    submission still to grade gets a grader-error row. Does its reason say the scheduler
    was lost and what to do (it read "CommClosedError: ConnectionPool closing.")?"""
    with _one_worker_grading_other_code(tmp_path, monkeypatch, assignment_gradebook) as (
        local,
        grading,
        address,
    ):
        grading.autograde("ada", "a1", 60, False)
        local.kill("scheduler")
        with pytest.raises(OSError) as lost:
            grading.autograde("ada", "a1", 60, False)
    assert f"the Dask scheduler at {address} was lost" in str(lost.value)
    assert "start it again, then run lstm-grade again" in str(lost.value)


@pytest.mark.slow
def test_a_class_graded_on_a_cluster_with_a_worker_killed_mid_notebook(
    course_factory, postgres_url, tmp_path: Path
) -> None:
    """Two Dask workers grade a class with every kind of submission into a PostgreSQL
    gradebook; one is killed while it grades a notebook. The notebook it held is graded
    by the other, every row has the status and score it has on one host, the gradebook and
    nbgrader's export agree, feedback can be generated, and nothing submitted changed."""
    require_module("distributed", "Dask distributed")
    course = course_factory(ASSIGNMENT)
    _limit_cell_time(course)
    expected = submit_class(course)
    # a learner who looks for the worker's private copy of the course (solutions,
    # references, gradebook) from a correct notebook: the sandbox shows it nothing
    from lstm_grader.synthetic import solution_sources

    q1 = solution_sources(course.source(ASSIGNMENT))["q1-answer"]
    course.submit("s10-snoop", ASSIGNMENT, answered_notebook(course, {"q1-answer": SNOOP + q1}))
    expected["s10-snoop"] = expected["s01-correct"]
    submitted_before = _submitted_bytes(course)
    local = LocalCluster(tmp_path)
    try:
        held, (status, out, err) = local.grade_killing_w1(course, ["--db-url", postgres_url])
    finally:
        local.stop()
    assert status == 0, f"lstm-grade failed:\n{out}\n{err}"

    rows = grade_rows(course)
    got = {student: (row["status"], float(row["score"])) for student, row in rows.items()}
    assert got == expected
    assert _graded_on(course, held) == local.addresses["w2"], "the held notebook was lost"
    graded = [
        s for s, (status, _) in expected.items() if status not in ("missing", "invalid-notebook")
    ]
    for student in graded:
        assert _graded_on(course, student) in local.addresses.values()
    assert _submitted_bytes(course) == submitted_before, "grading modified a submitted file"
    snooped = read_notebook(
        course.layout.autograded("s10-snoop", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    )
    printed = [
        output.get("text", "")
        for cell in snooped.cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1-answer"
        for output in cell.get("outputs", [])
    ]
    assert printed == ["SNOOPED []\n"], printed

    # the gradebook is the course's PostgreSQL one: nbgrader's export and feedback read it
    env = _environment() | {"NBGRADER_DB_URL": postgres_url}
    for args in (["export", "--to", "export.csv"], ["generate_feedback", ASSIGNMENT]):
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args],
            cwd=course.root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    with (course.root / "export.csv").open(newline="", encoding="utf-8") as handle:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(handle)}
    assert exported == {s: score for s, (_status, score) in expected.items()}
    feedback = course.root / "feedback" / "s01-correct" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert feedback.is_file()

    # the same class graded again on this host gives the same rows
    out_local = subprocess.run(
        [str(BIN / "lstm-grade"), ASSIGNMENT, "--no-progress", "--force", "--db-url", postgres_url],
        cwd=course.root,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    assert out_local.returncode == 0, out_local.stderr
    assert _without_seconds(grade_rows(course)) == _without_seconds(rows)


@pytest.mark.slow
def test_a_submission_whose_workers_keep_dying_gets_a_grader_error_and_the_next_run_grades_it(
    course_factory, tmp_path: Path
) -> None:
    """Dask gives a task up once more workers than ``allowed-failures`` died holding it
    (the README's "A worker that dies"). With the limit at 0, a worker killed while it
    grades a notebook makes Dask give that submission up at once: it gets a
    ``grader-error`` row naming ``KilledWorker`` and ``lstm-grade`` exits 3, the rest of
    the class is graded by the other worker, and the next run grades it as on one host."""
    require_module("distributed", "Dask distributed")
    course = course_factory(ASSIGNMENT)
    _limit_cell_time(course)
    students = [f"s{index:02d}-correct" for index in range(1, 5)]
    for student in students:
        course.submit(student, ASSIGNMENT, answered_notebook(course))
    env = _environment() | {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    local = LocalCluster(tmp_path, env=env)
    try:
        held, (status, out, err) = local.grade_killing_w1(course, [])
    finally:
        local.stop()
    assert status == 3, f"lstm-grade:\n{out}\n{err}"
    rows = grade_rows(course)
    given_up = {s for s, row in rows.items() if row["status"] == "grader-error"}
    # the notebook w1 graded, and any that waited on w1 behind it, were given up
    assert held in given_up
    for student in given_up:
        assert "KilledWorker" in rows[student]["reason"], rows[student]["reason"]
    assert {rows[s]["status"] for s in set(students) - given_up} == {"graded"}
    assert set(students) - given_up, "the other worker graded nobody"
    assert f"run lstm-grade {ASSIGNMENT} to grade them again" in err

    again = subprocess.run(
        [str(BIN / "lstm-grade"), ASSIGNMENT, "--no-progress"],
        cwd=course.root,
        env=_environment(),
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    regraded = grade_rows(course)
    assert {s: regraded[s]["status"] for s in students} == dict.fromkeys(students, "graded")
    assert {regraded[s]["score"] for s in students} == {
        rows[s]["score"] for s in set(students) - given_up
    }
