"""Grade on a Dask distributed cluster: the workers grade, one process writes.

``lstm-grade ASSIGNMENT --scheduler tcp://HOST:8786`` sends each submission to a cluster
of Dask's own scheduler and workers (``dask scheduler``; ``dask worker ADDRESS --nthreads
1`` on each grading host, or Dask's deployments for Kubernetes and Slurm). The workers
need this package, bubblewrap and nothing shared with the course host:

- each task receives a :class:`GradingKit` (the assignment's ``nbgrader_config.py``,
  source, release and references, and a gradebook holding only the assignment) and a
  :class:`GradingJob` (one learner's submitted files, their previous grading reports and
  what the gradebook holds for them);
- the worker grades it with ``nbgrader autograde`` in a private copy of the course, in a
  child forked from a helper that loaded nbgrader once (:mod:`lstm_grader.preloaded`),
  in the same sandbox as on one host;
- it sends back a :class:`GradingResult`: the outcome and log, the autograded notebooks,
  the reports and the submission's new gradebook state;
- the ``lstm-grade`` process alone writes the course folder and the gradebook (SQLite or
  PostgreSQL), one result at a time.

A worker that dies mid-notebook loses nothing: its task is given to another worker by
Dask's scheduler, and a result is written once, when it arrives. A worker whose grading
code differs from the host's is refused, so every grade comes from the same code.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstm_grader import owners, safefiles
from lstm_grader.course import CONFIG_FILE, FEEDBACK_GRADES_FILE, CourseLayout

#: Files of a submission's reports folder that belong to the host's bookkeeping.
HOST_ONLY_REPORTS = ("class-rows.json", "autograde.log", FEEDBACK_GRADES_FILE)
#: nbgrader's file permissions on autograded notebooks, kept when the host writes them.
AUTOGRADED_MODE = 0o444
#: Where a worker's private course keeps its gradebook.
WORKER_GRADEBOOK = "gradebook.db"


#: The most submissions ``lstm-grade`` keeps in flight on a cluster, however large it grows.
MAX_IN_FLIGHT = 512
#: How often a waiting submission asks the scheduler again how many workers there are.
RECHECK_S = 5.0
#: How often one submission's assignment kit is sent again, lost with the workers holding it.
KIT_RESENDS = 3


class InFlightLimit:
    """Let at most ``limit()`` calls run at once, where ``limit()`` may change during a run.

    A cluster grows and shrinks while a class is graded (Dask's adaptive deployments add
    workers as the queue grows; a lost host takes its workers away), so the limit is read
    again when a call would start and the last reading is ``recheck_s`` seconds old, and
    waiting calls look again every ``recheck_s`` seconds; not more often, since each
    reading asks the scheduler. Where a reading fails, the last stands.
    """

    def __init__(self, limit: Callable[[], int], recheck_s: float = RECHECK_S) -> None:
        self._limit = limit
        self._recheck_s = recheck_s
        self._condition = threading.Condition()
        self._running = 0
        self._current = max(1, limit())
        self._read_at = time.monotonic()

    @property
    def current(self) -> int:
        """The limit as last read."""
        return self._current

    def _read(self) -> int:
        if time.monotonic() - self._read_at >= self._recheck_s:
            try:
                self._current = max(1, self._limit())
            except Exception:  # the scheduler did not answer: keep the last reading
                pass
            self._read_at = time.monotonic()
        return self._current

    def run(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)`` once fewer than the limit run; its result."""
        with self._condition:
            while self._running >= self._read():
                self._condition.wait(self._recheck_s)
            self._running += 1
        try:
            return call(*args)
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()


@dataclass(frozen=True)
class GradingKit:
    """What every submission of one assignment is graded with, sent to each worker once.

    ``files`` maps a path relative to the course root to its bytes.
    """

    assignment: str
    files: dict[str, bytes]
    code_version: str


@dataclass(frozen=True)
class GradingJob:
    """One learner's submission and what grading it again needs to know."""

    student: str
    assignment: str
    submitted: dict[str, bytes]
    reports: dict[str, bytes]
    state: dict[str, Any] | None
    timeout: float
    unsafe_no_sandbox: bool = False


@dataclass
class GradingResult:
    """What a worker sends back: written to the course by the host only."""

    outcome: str
    log: str
    worker: str
    code_version: str
    seconds: float = 0.0
    state: dict[str, Any] | None = None
    autograded: dict[str, bytes] = field(default_factory=dict)
    reports: dict[str, bytes] = field(default_factory=dict)


# --------------------------------------------------------------------------- files


def read_folder(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every regular file under ``folder`` (links never followed), by relative path."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): safefiles.read_bytes(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.name not in skip
    }


def write_folder(folder: Path, files: dict[str, bytes], mode: int = 0o644) -> None:
    """Write ``files`` under ``folder``, refusing any path that would leave it."""
    base = folder.resolve()
    for relative, data in files.items():
        target = (folder / relative).resolve()
        if base not in target.parents:
            raise ValueError(f"refusing to write outside {folder}: {relative!r}")
        safefiles.write_bytes(target, data, mode)


# --------------------------------------------------------------------------- gradebook state


def _seconds(value: dt.timedelta | None) -> float | None:
    return value.total_seconds() if value is not None else None


def submission_state(gradebook: Any, assignment: str, student: str) -> dict[str, Any] | None:
    """What a gradebook holds for one submission (every field autograde or an instructor
    sets), as plain data; None if it holds no such submission."""
    from nbgrader.api import MissingEntry

    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    return {
        "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
        "extension": _seconds(submission.extension),
        "notebooks": {
            notebook.name: {
                "flagged": bool(notebook.flagged),
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {
                    grade.name: {
                        "auto_score": grade.auto_score,
                        "manual_score": grade.manual_score,
                        "extra_credit": grade.extra_credit,
                        "needs_manual_grade": bool(grade.needs_manual_grade),
                    }
                    for grade in notebook.grades
                },
                "comments": {
                    comment.name: {
                        "auto_comment": comment.auto_comment,
                        "manual_comment": comment.manual_comment,
                    }
                    for comment in notebook.comments
                },
            }
            for notebook in submission.notebooks
        },
    }


def apply_submission_state(
    gradebook: Any, assignment: str, student: str, state: dict[str, Any]
) -> None:
    """Make a gradebook hold ``state`` (from :func:`submission_state`) for one submission,
    creating the learner and the submission if needed."""
    gradebook.update_or_create_student(student)
    extension = state.get("extension")
    fields: dict[str, Any] = {
        "extension": dt.timedelta(seconds=extension) if extension is not None else None
    }
    if state.get("timestamp"):
        fields["timestamp"] = dt.datetime.fromisoformat(state["timestamp"])
    # nbgrader builds the submission's rows before adding it to the session: without
    # autoflush off, SQLAlchemy warns that it cannot flush them half-made
    with gradebook.db.no_autoflush:
        submission = gradebook.update_or_create_submission(assignment, student, **fields)
    for notebook in submission.notebooks:
        saved = state["notebooks"].get(notebook.name)
        if saved is None:
            continue
        notebook.flagged = saved["flagged"]
        notebook.late_submission_penalty = saved["late_submission_penalty"]
        for grade in notebook.grades:
            for name, value in saved["grades"].get(grade.name, {}).items():
                setattr(grade, name, value)
        for comment in notebook.comments:
            for name, value in saved["comments"].get(comment.name, {}).items():
                setattr(comment, name, value)
    gradebook.db.commit()


# --------------------------------------------------------------------------- the worker's side

_worker_local = threading.local()


def _worker_grader():
    """This worker thread's preloaded nbgrader helper, started on first use."""
    from lstm_grader.preloaded import PreloadedGrader
    from lstm_grader.sandbox import raise_own_open_files

    grader = getattr(_worker_local, "grader", None)
    if grader is None:
        # a worker started from a login shell has its low soft limit, as lstm-grade may
        raise_own_open_files()
        # `python -c` imports from its working folder first: a private empty one, never a
        # shared /tmp where another user of the host could plant a module
        home = tempfile.mkdtemp(prefix=owners.temporary_prefix("helper"))
        grader = _worker_local.grader = PreloadedGrader(cwd=home)
        atexit.register(_stop_worker_grader, grader, home)
    return grader


def _stop_worker_grader(grader: Any, home: str) -> None:
    """At the worker's normal stop: end its helper and remove the helper's folder. (What
    a killed worker leaves, a later grader on the host sweeps:
    :func:`lstm_grader.sandbox.remove_leftovers`.)"""
    grader.close()
    safefiles.remove_tree(home)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"local process {os.getpid()}"


@functools.cache
def _kernels_take_turns_here() -> bool:
    """Whether this worker process's kernels take the user's turn (asked once: the answer
    probes for a control group, and does not change while the worker lives)."""
    from lstm_grader.sandbox import kernels_share_a_process_limit

    return kernels_share_a_process_limit()


@contextlib.contextmanager
def _turn_waits(env: dict[str, str]) -> Iterator[None]:
    """Let one job's run note its kernels' waits for the user's turn in a file of its own
    (:data:`lstm_grader.sandbox.TURN_WAITS_ENV` in ``env``), removed afterwards.

    An ordinary user's worker processes on one host take the user's turn like the
    ``lstm-grade`` processes do, and may wait for it as long as another's whole notebook
    runs: counted against ``--timeout``, that wait failed a right submission as timed
    out. A file named in the worker's own environment is never used: only this job's
    run may say how long it waited.
    """
    from lstm_grader.sandbox import TURN_WAITS_ENV

    env.pop(TURN_WAITS_ENV, None)
    if not _kernels_take_turns_here():
        yield
        return
    with tempfile.TemporaryDirectory(prefix=owners.temporary_prefix("job")) as folder:
        waits = Path(folder) / "waits"
        waits.touch(mode=0o600)
        env[TURN_WAITS_ENV] = str(waits)
        yield


def grade_job(kit: GradingKit, job: GradingJob) -> GradingResult:
    """Grade one submission in a private copy of the course; runs on a worker.

    Nothing is written outside a temporary folder, which is removed afterwards.
    """
    from nbgrader.api import Gradebook

    from lstm_grader.grading_code import grading_code_version

    version = grading_code_version()
    worker = _worker_name()
    if version != kit.code_version:
        return GradingResult(
            "crashed",
            f"worker {worker} grades with other code than the course host (lstm-course, "
            "nbgrader, Keras or their dependencies differ, or are missing): install the "
            "same versions on every worker, lstm-course with its grading and keras extras",
            worker,
            version,
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=owners.temporary_prefix("job")) as folder:
        root = Path(folder)
        write_folder(root, kit.files)
        layout = CourseLayout.from_root(root)
        write_folder(layout.submitted(job.student, job.assignment), job.submitted)
        write_folder(layout.reports(job.student, job.assignment), job.reports)
        db_url = f"sqlite:///{root / WORKER_GRADEBOOK}"
        if job.state is not None:
            with Gradebook(db_url) as gradebook:
                apply_submission_state(gradebook, job.assignment, job.student, job.state)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
        env["NBGRADER_DB_URL"] = db_url
        # nbgrader runs `alembic` by name: this environment's scripts, even unactivated
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        from lstm_grader.sandbox import UNSAFE_SWITCH

        # grading without a sandbox is the course host's instructor's choice alone, as on one
        # host: a worker whose own environment held the switch graded every learner so
        env.pop(UNSAFE_SWITCH, None)
        if job.unsafe_no_sandbox:
            env[UNSAFE_SWITCH] = "1"
        argv = ["autograde", job.assignment, "--student", job.student, "--force"]
        with _turn_waits(env):
            outcome, log = _worker_grader().run(argv, cwd=root, env=env, timeout=job.timeout)
        with Gradebook(db_url) as gradebook:
            state = submission_state(gradebook, job.assignment, job.student)
        return GradingResult(
            outcome,
            log,
            worker,
            version,
            round(time.monotonic() - started, 2),
            state,
            read_folder(layout.autograded(job.student, job.assignment)),
            read_folder(layout.reports(job.student, job.assignment), skip=HOST_ONLY_REPORTS),
        )


# --------------------------------------------------------------------------- the host's side


#: How long the course host waits for a Dask scheduler to answer before it says so.
CONNECT_TIMEOUT_S = 30.0


def connect_scheduler(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> Any:
    """A Dask client of the scheduler at ``address``, or an :class:`OSError` saying what to
    check once none has answered as one within ``timeout_s`` seconds.

    Dask's own timeout covers the connection alone: at an address where something else
    listens (the scheduler's dashboard, port 8787, or any web server) the handshake waited
    for ever, or read an HTTP reply as the length of a message and failed to allocate it.
    """
    from distributed import Client

    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(address, timeout=f"{timeout_s}s")
        except BaseException as exc:  # handed to the waiting thread, which says what it was
            outcome["error"] = exc

    # a daemon thread: one stuck in a handshake that never ends does not keep lstm-grade
    connecting = threading.Thread(target=connect, name="dask-connect", daemon=True)
    connecting.start()
    # the grace lets Dask's own timeout, which says nothing listens, be the one given
    connecting.join(timeout_s + min(5.0, timeout_s))
    if "client" in outcome:
        return outcome["client"]
    error = outcome.get("error")
    if isinstance(error, OSError):  # nothing listens there, or the connection timed out
        raise error
    what = f"{type(error).__name__}: {error}" if error else f"no answer in {timeout_s:.0f} s"
    raise OSError(f"what answers there is not a Dask scheduler: {what}") from error


class ClusterGrading:
    """The course host's end: builds kits and jobs, sends them, writes what comes back.

    Parameters
    ----------
    address
        The Dask scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
    layout
        The course's folders.
    db_url
        The course gradebook, written here only.
    """

    def __init__(self, address: str, layout: CourseLayout, db_url: str) -> None:
        self.layout = layout
        self.db_url = db_url
        self.address = address
        self.client = connect_scheduler(address)
        self._kits: dict[str, Any] = {}
        self._kits_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def slots(self) -> int:
        """How many submissions to keep in flight: every worker thread busy, one queued."""
        threads = sum(self.client.nthreads().values())
        return max(2, 2 * threads)

    def close(self) -> None:
        self.client.close()

    def _kit(self, assignment: str, lost: Any = None) -> Any:
        """The assignment's kit, built and sent to the cluster once, and again when the
        one sent, ``lost``, was lost with the workers that held it."""
        with self._kits_lock:
            if lost is not None and self._kits.get(assignment) is lost:
                del self._kits[assignment]
            if assignment not in self._kits:
                kit = build_kit(self.layout, self.db_url, assignment)
                self._kits[assignment] = self.client.scatter(kit, broadcast=True, hash=False)
            return self._kits[assignment]

    def autograde(
        self, student: str, assignment: str, timeout: float, unsafe_no_sandbox: bool
    ) -> tuple[str, str, float]:
        """Grade one submission on the cluster and write its result: ``(outcome, log,
        seconds the worker spent)``."""
        from nbgrader.api import Gradebook

        with self._write_lock, Gradebook(self.db_url) as gradebook:
            state = submission_state(gradebook, assignment, student)
        job = GradingJob(
            student,
            assignment,
            read_folder(self.layout.submitted(student, assignment)),
            read_folder(self.layout.reports(student, assignment), skip=HOST_ONLY_REPORTS),
            state,
            timeout,
            unsafe_no_sandbox,
        )
        try:
            result = self._grade_on_cluster(assignment, job)
        except Exception as exc:
            if self.client.status == "running":
                raise
            # the scheduler is gone: Dask's own words ("ConnectionPool closing.", a task
            # "cancelled for reason: unknown") said neither that nor what to do
            raise OSError(
                f"the Dask scheduler at {self.address} was lost mid-run "
                f"({type(exc).__name__}: {exc}): start it again, then run lstm-grade again"
            ) from exc
        log = f"graded on {result.worker}\n{result.log}"
        if result.outcome == "ran" or result.state is not None:
            self._write(student, assignment, result)
        return result.outcome, log, result.seconds

    def _grade_on_cluster(self, assignment: str, job: GradingJob) -> GradingResult:
        """Send ``job`` with its assignment's kit and wait for its result."""
        from distributed.client import FutureCancelledError

        kit = self._kit(assignment)
        for resend in range(KIT_RESENDS + 1):
            future = self.client.submit(grade_job, kit, job, pure=False)
            try:
                return future.result()
            except FutureCancelledError:
                # the kit is data sent once, which Dask cannot compute again: when every
                # worker holding it died, each task needing it was cancelled unstarted
                # ("lost dependencies"), and the rest of the assignment's class got grader
                # errors. Sent again, the kit reaches the workers alive now.
                if resend == KIT_RESENDS or self.client.status != "running":
                    raise
                kit = self._kit(assignment, lost=kit)
        raise AssertionError("unreachable: the last resend returned or raised")

    def _write(self, student: str, assignment: str, result: GradingResult) -> None:
        """The single writer: the gradebook, then the autograded notebooks and reports."""
        from nbgrader.api import Gradebook

        with self._write_lock:
            if result.state is not None:
                with Gradebook(self.db_url) as gradebook:
                    apply_submission_state(gradebook, assignment, student, result.state)
            autograded = self.layout.autograded(student, assignment)
            safefiles.remove_tree(autograded)
            write_folder(autograded, result.autograded, AUTOGRADED_MODE)
            reports = self.layout.reports(student, assignment)
            for path in _files(reports):
                if path.name not in HOST_ONLY_REPORTS:
                    path.unlink()
            write_folder(reports, result.reports)


def _files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from (p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def build_kit(layout: CourseLayout, db_url: str, assignment: str) -> GradingKit:
    """The files grading ``assignment`` needs, with a gradebook holding only the
    assignment as the course gradebook at ``db_url`` defines it (no learner in it)."""
    from lstm_grader.grading_code import grading_code_version

    root = layout.root
    files = {CONFIG_FILE: safefiles.read_bytes(root / CONFIG_FILE)}
    for folder in (layout.source(assignment), layout.release(assignment)):
        prefix = folder.relative_to(root).as_posix()
        files.update({f"{prefix}/{k}": v for k, v in read_folder(folder).items()})
    references = layout.references_file(assignment)
    if references.is_file():
        files[references.relative_to(root).as_posix()] = safefiles.read_bytes(references)
    with tempfile.TemporaryDirectory(prefix="lstm-grade-kit-") as folder:
        target = Path(folder) / WORKER_GRADEBOOK
        copy_assignment(db_url, f"sqlite:///{target}", assignment)
        files[WORKER_GRADEBOOK] = safefiles.read_bytes(target)
    return GradingKit(assignment, files, grading_code_version(root))


def copy_assignment(source_url: str, target_url: str, assignment: str) -> None:
    """Copy one assignment's definition (notebooks, cells, checksums, due date) from the
    gradebook at ``source_url`` into a new gradebook at ``target_url``.

    The new gradebook gets the source's schema version, so nbgrader opens it as its own
    without running its migrations.
    """
    import sqlalchemy
    from nbgrader.api import Base, Gradebook

    with Gradebook(source_url) as source:
        defined = source.find_assignment(assignment)
        version = source.db.execute(
            sqlalchemy.text("SELECT version_num FROM alembic_version")
        ).scalar_one()
        engine = sqlalchemy.create_engine(target_url)
        try:
            Base.metadata.create_all(bind=engine)
            with engine.begin() as connection:
                connection.execute(
                    sqlalchemy.text(
                        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"
                    )
                )
                connection.execute(
                    sqlalchemy.text("INSERT INTO alembic_version VALUES (:version)"),
                    {"version": version},
                )
        finally:
            engine.dispose()
        with Gradebook(target_url, defined.course_id) as target:
            due = {"duedate": defined.duedate} if defined.duedate else {}
            target.add_assignment(assignment, **due)
            for notebook in defined.notebooks:
                name = notebook.name
                target.add_notebook(name, assignment, kernelspec=notebook.kernelspec)
                graded = (
                    (notebook.grade_cells, target.add_grade_cell),
                    (notebook.task_cells, target.add_task_cell),
                )
                for cells, add in graded:
                    for cell in cells:
                        add(
                            cell.name,
                            name,
                            assignment,
                            max_score=cell.max_score,
                            cell_type=cell.cell_type,
                        )
                for cell in notebook.solution_cells:
                    target.add_solution_cell(cell.name, name, assignment)
                for cell in notebook.source_cells:
                    target.add_source_cell(
                        cell.name,
                        name,
                        assignment,
                        cell_type=cell.cell_type,
                        locked=cell.locked,
                        source=cell.source,
                        checksum=cell.checksum,
                    )


def assignment_definition(db_url: str, assignment: str) -> dict[str, Any]:
    """An assignment as a gradebook defines it, as plain data (to compare two)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        defined = gradebook.find_assignment(assignment)
        return {
            "duedate": defined.duedate.isoformat() if defined.duedate else None,
            "course": defined.course_id,
            "notebooks": {
                notebook.name: {
                    "kernelspec": notebook.kernelspec,
                    "grade": sorted(
                        (c.name, c.max_score, c.cell_type) for c in notebook.grade_cells
                    ),
                    "task": sorted((c.name, c.max_score, c.cell_type) for c in notebook.task_cells),
                    "solution": sorted(c.name for c in notebook.solution_cells),
                    "source": sorted(
                        (c.name, c.cell_type, c.locked, c.source, c.checksum)
                        for c in notebook.source_cells
                    ),
                }
                for notebook in defined.notebooks
            },
        }
