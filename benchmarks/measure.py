"""Time the course kit: the book, grading per notebook, throughput, a class, a Dask cluster.

Each grading measure is set against a floor (what one notebook cannot cost less than), and
the lot is projected to a course of 1,000 learners.

Run from the repository root (``make bench`` runs the first line)::

    python -m benchmarks                   # everything, with a synthetic class of 200
    python -m benchmarks --quick           # the same with a class of 20
    python -m benchmarks --class-size 50 --skip-book --skip-cluster

Sections, in order (``--skip-book``, ``--skip-cluster`` leave one out):

book
    A cold build of the book into a copy, then a rebuild of nothing.
profile
    What each nbgrader run pays before grading: its imports, a sandboxed kernel start.
floor
    The least one notebook can cost: a sandboxed kernel started, a correct submission's
    cells executed, the kernel shut down (median of ``--floor-runs``), wall and CPU.
grading, throughput
    ``lstm-grade`` per notebook, full against one question; 1 worker against N; 1 worker
    within 1.5x the floor's seconds and CPU seconds, and faster per notebook than one
    plain ``nbgrader autograde`` over the same submissions; and ``lstm-grade``'s default
    worker count (two per core) on a full host. Each of 1, N and the default grades
    two class sizes (``--per-notebook`` and ``--throughput`` submissions): what a notebook
    costs is the slope between them (:func:`marginal`), and a run's one-off start-up is
    the intercept, printed beside it. The two runs each 1- and N-worker slope is drawn
    from are made back to back, and the 1-worker pair and the N-worker pair in turn,
    ``--repeats`` times, the least counting (:func:`grade_pairs`). Beside the N-worker
    speed-up, what N processes of pure arithmetic give on this machine at that moment
    (:func:`machine_scaling`): where its cores deliver less than the target, so can no
    grader.
class
    A synthetic class (correct, partial, blank, broken, endless loops) graded by the
    default path and by ``--process-per-submission``: the same statuses and scores.
cluster
    ``lstm-grade --scheduler`` on a local Dask cluster of 1, then 2 workers.
projection
    The wall time of 1,000 learners x 8 notebooks on 16 cores and on 4 x 16 cores,
    projected from the default worker count's slope and the cluster section
    (:func:`project`).

Everything happens in throwaway copies in a temporary folder: the repository's ``_build``,
gradebook and grading folders are never touched. These are measurements, not tests: a
target that is missed prints MISS and the command still succeeds. Timings depend on the
machine and on whatever else runs on it, so the load average is printed with them.

CPU seconds are those of the process tree (``RUSAGE_CHILDREN``) plus the grading kernels'
own, read from their sandboxes' control groups: rusage counts next to none of a kernel's
CPU (it runs and is reaped behind bubblewrap, in a PID namespace of its own). The floor
is counted the same way, its process tree and its kernel's group: bubblewrap's own launch
is in both, on each side of the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from lstm_grader.classgrade import WORKERS_PER_CORE, default_workers, usable_cores
from lstm_grader.synthetic import answered

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ASSIGNMENT = "05-return-flags"
TRIVIAL = "00-one-question"
#: What the book build needs: the chapters, the student notebooks it links, its config, and
#: what the instructor chapter reads (the README's guide, references and solutions).
BOOK_FILES = (
    "book",
    "exercises",
    "_config.yml",
    "_toc.yml",
    "README.md",
    "references",
    "solutions",
)
RATIO_TARGET = 1.3
#: What a notebook's install step may add where the course library is installed.
INSTALL_STEP_TARGET = 0.1
SPEEDUP_TARGET = 1.8
#: lstm-grade's seconds and CPU seconds per notebook, 1 worker, over the floor's.
FLOOR_RATIO_TARGET = 1.5
#: The course the projection is for, and the machines it is projected onto.
COURSE_NOTEBOOKS = 1000 * 8
ONE_HOST_CORES = 16
CLUSTER_HOSTS = 4
#: The 16-core projection's target, in seconds.
ONE_HOST_TARGET = 15 * 60
#: The same columns as grades.csv, without the seconds: what two grading paths must agree on.
GRADE_COLUMNS = ("student", "assignment", "notebook", "score", "max_score", "status", "reason")


@dataclass
class Result:
    section: str
    measure: str
    value: str
    target: str = ""
    verdict: str = ""


class BenchError(RuntimeError):
    """A command the benchmark needs failed."""


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def load() -> float:
    """The machine's one-minute load average, printed next to each timed measure."""
    return os.getloadavg()[0]


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def clean_env() -> dict[str, str]:
    """The environment of an activated .venv, without the machine's nbgrader settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(command: list[str], cwd: Path, timeout: int = 7200) -> float:
    """Run a command; return its wall-clock seconds or raise BenchError with its output."""
    return run_timed(command, cwd, timeout)[0]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(command: list[str], cwd: Path, timeout: int = 7200) -> tuple[float, float]:
    """Run a command; return its wall-clock and CPU seconds (with all its child processes
    that it waits for: nbgrader, but not the kernels' insides, see the module's doc), or
    raise BenchError with its output."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(command)[:300]} failed ({result.returncode}):\n{tail}")
    return elapsed, _children_cpu() - cpu_before


# --------------------------------------------------------------------------- the book


def bench_book(scratch: Path) -> list[Result]:
    """A cold build into a copy with an empty execution cache, then a rebuild of nothing."""
    book = scratch / "book-copy"
    book.mkdir()
    for name in BOOK_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                book / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
        elif source.exists():
            shutil.copy2(source, book / name)
    command = [str(BIN / "jb"), "build", str(book), "--warningiserror", "--nitpick", "--keep-going"]
    results = []
    for label in ("cold build (empty jupyter cache)", "warm rebuild (nothing changed)"):
        say(f"book: {label}")
        try:
            seconds = run(command, cwd=book)
            results.append(Result("book", label, f"{seconds:.1f} s"))
        except BenchError as exc:
            say(str(exc))
            results.append(Result("book", label, "FAILED", verdict="see stderr"))
            break
    return results


# --------------------------------------------------------------------------- courses


def make_course(root: Path, assignments: list[str], trivial: bool = False) -> Path:
    """A throwaway course: the config, the named assignments and, optionally, a one-question
    assignment graded through the same pipeline; student versions generated."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "references").mkdir()
    for name in assignments:
        shutil.copytree(REPO / "solutions" / name, root / "solutions" / name)
        shutil.copy(REPO / "references" / f"{name}.json", root / "references" / f"{name}.json")
    if trivial:
        _write_one_question_assignment(root)
        assignments = [*assignments, TRIVIAL]
    for name in assignments:
        run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"], root)
    return root


def _write_one_question_assignment(root: Path) -> None:
    """Q1 of the return-flags notebook alone: its setup, answer and test cells."""
    source = nbformat.read(REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    keep = {"setup", "q1-answer", "q1"}
    trivial = nbformat.v4.new_notebook(metadata=source.metadata)
    trivial.cells = [
        c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") in keep
    ]
    folder = root / "solutions" / TRIVIAL
    folder.mkdir(parents=True)
    nbformat.write(trivial, folder / f"{TRIVIAL}.ipynb")
    # like every assignment, its mistakes' explanations (Q1 explains none); nbgrader copies
    # the file first, which makes the release folder the sealed explanations are written to
    (folder / "feedback.json").write_text("{}\n", encoding="utf-8")
    refs = json.loads((REPO / "references" / f"{ASSIGNMENT}.json").read_text(encoding="utf-8"))
    refs["assignment"] = TRIVIAL
    refs["questions"] = {"q1": refs["questions"]["q1"]}
    (root / "references" / f"{TRIVIAL}.json").write_text(
        json.dumps(refs, indent=1), encoding="utf-8"
    )


def notebooks(root: Path, assignment: str) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    release = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4)
    source = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    return release, source


def submit(root: Path, student: str, assignment: str, notebook) -> Path:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    return path


@dataclass
class Graded:
    """One ``lstm-grade`` run: its rows and what it cost."""

    rows: list[dict[str, str]]
    wall: float
    cpu: float
    load: float
    #: The grading kernels' CPU, which ``cpu`` (rusage) cannot see: from the reports.
    kernel_cpu: float = 0.0

    @property
    def per_notebook(self) -> float:
        """Mean of the seconds lstm-grade measured around each submission's nbgrader run."""
        return statistics.mean(float(r["seconds"]) for r in self.rows)

    @property
    def wall_per_notebook(self) -> float:
        """End to end, start-up included: what an instructor waits, per notebook."""
        return self.wall / len(self.rows)

    @property
    def total_cpu(self) -> float:
        """The process tree's CPU seconds and the kernels'."""
        return self.cpu + self.kernel_cpu

    @property
    def cpu_per_notebook(self) -> float:
        return self.total_cpu / len(self.rows)


def grade(root: Path, assignment: str, *options: str) -> Graded:
    """``lstm-grade ASSIGNMENT --force --no-progress OPTIONS...`` from the course root."""
    command = [str(BIN / "lstm-grade"), assignment, "--no-progress", "--force", *options]
    wall, cpu = run_timed(command, root)
    load_now = load()
    rows = graded_rows(root / "grades.csv", assignment)
    return Graded(rows, wall, cpu, load_now, kernel_cpu(read_reports(root, rows)))


def graded_rows(grades_csv: Path, assignment: str) -> list[dict[str, str]]:
    """The rows of ``grades.csv`` for ``assignment``: the file covers the whole course, so
    it also holds the rows other assignments' gradings left (learners added since included,
    as missing), which are not this run's."""
    with grades_csv.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["assignment"] == assignment]


def _run_costs(graded: Graded) -> str:
    """A whole run's wall time, its seconds and CPU seconds per notebook, and the load.

    >>> _run_costs(Graded([{}] * 4, wall=10.0, cpu=2.0, load=1.5, kernel_cpu=2.0))
    '10.0 s (2.50 s, 1.00 CPU s per notebook), load 1.5'
    """
    return (
        f"{graded.wall:.1f} s ({graded.wall_per_notebook:.2f} s, "
        f"{graded.cpu_per_notebook:.2f} CPU s per notebook), load {graded.load:.1f}"
    )


def least(runs: list[Graded]) -> Graded:
    """The least wall and the least CPU seconds of repeated runs of one command, as
    ``timeit`` takes the least of its repeats (what else runs on the machine only ever
    adds). Every run must give the same grades, or the bench stops."""
    for other in runs[1:]:
        if differences := grade_differences(runs[0].rows, other.rows):
            raise BenchError(f"repeated runs graded differently: {differences[:3]}")
    cheapest = min(runs, key=lambda graded: graded.total_cpu)
    return Graded(
        runs[0].rows,
        min(graded.wall for graded in runs),
        cheapest.cpu,
        max(graded.load for graded in runs),
        cheapest.kernel_cpu,
    )


def grade_pairs(
    small_root: Path,
    large_root: Path,
    assignment: str,
    repeats: int,
    settings: list[tuple[str, ...]],
) -> list[tuple[Graded, Graded]]:
    """For each of ``settings`` (lstm-grade's options), the two runs a slope per notebook
    is drawn from (:func:`marginal`): small then large, every setting in turn, ``repeats``
    times; the least of each side counts (:func:`least`).

    A slope is the difference between its two runs, so what slows the machine between
    them lands on one side only. Made back to back, they meet the same machine: this
    one's speed drifts by a tenth within minutes (other virtual machines on its host).
    Slopes that are compared with each other (1 worker against 2) are made in turn for
    the same reason, rather than one slope's runs all minutes before the other's."""
    runs: list[tuple[list[Graded], list[Graded]]] = [([], []) for _ in settings]
    for _ in range(max(1, repeats)):
        for options, (small, large) in zip(settings, runs, strict=True):
            small.append(grade(small_root, assignment, *options))
            large.append(grade(large_root, assignment, *options))
    return [(least(small), least(large)) for small, large in runs]


def read_reports(root: Path, rows: Iterable[dict[str, str]]) -> list[dict]:
    """The grading report of each row's notebook ({} where there is none)."""
    from lstm_grader.course import CourseLayout

    layout = CourseLayout.from_root(root)
    found = []
    for row in rows:
        path = layout.report_file(row["student"], row["assignment"], row["notebook"])
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            found.append({})
    return found


def kernel_cpu(reports: Iterable[dict]) -> float:
    """The kernels' CPU seconds, as each report read them from its sandbox's control group
    (none where no kernel ran, or where the host has no cpuacct group)."""
    return sum((r.get("sandbox_usage") or {}).get("cpu_seconds") or 0.0 for r in reports)


def submit_correct(root: Path, students: range) -> None:
    """A correct submission of the full assignment for each student number."""
    release, source = notebooks(root, ASSIGNMENT)
    for i in students:
        submit(root, f"s{i:03d}", ASSIGNMENT, answered(release, source))


@dataclass
class Floor:
    """The least a notebook costs: a sandboxed kernel, its cells, the shutdown (medians)."""

    wall: float
    cpu: float
    kernel_cpu: float
    client_cpu: float
    load: float


@dataclass
class Measured:
    """What a section measured that a later one compares with; None until measured."""

    parallel: int
    #: Runs of each command a slope is drawn from; the least counts (:func:`grade_pairs`).
    repeats: int = 2
    floor: Floor | None = None
    #: Every floor run so far (:func:`measure_floor`); ``floor`` is their medians.
    floor_samples: list[dict[str, float]] = field(default_factory=list)
    #: The throughput runs (``--throughput`` submissions), 1 and N workers.
    one: Graded | None = None
    many: Graded | None = None
    #: The same runs over a copy of the class of its first ``--per-notebook`` submissions,
    #: each made in turn with its large run (:func:`grade_pairs`).
    one_small: Graded | None = None
    many_small: Graded | None = None
    #: Plain ``nbgrader autograde`` over those first submissions.
    plain_small: Graded | None = None
    #: Wall seconds of the Dask runs, by worker count.
    dask: dict[int, float] = field(default_factory=dict)
    #: lstm-grade's default worker count, and its runs over the same two class sizes
    #: (the N-worker runs again where N is the default).
    default_workers: int = field(default_factory=default_workers)
    default_small: Graded | None = None
    default: Graded | None = None

    def one_worker(self) -> Marginal | None:
        """What each further notebook costs 1 worker, or None before both runs."""
        return _slope(self.one_small, self.one)

    def n_workers(self) -> Marginal | None:
        """What each further notebook costs N workers, or None before both runs."""
        return _slope(self.many_small, self.many)

    def default_path(self) -> Marginal | None:
        """What each further notebook costs lstm-grade's default worker count."""
        return _slope(self.default_small, self.default)


@dataclass(frozen=True)
class Marginal:
    """What one more notebook adds to an ``lstm-grade`` run, and what the run costs before
    its first notebook; see :func:`marginal`."""

    seconds: float
    cpu: float
    startup_seconds: float


def marginal(small: Graded, large: Graded) -> Marginal:
    """The slope between two runs of the same command over ``len(small.rows)`` and
    ``len(large.rows)`` submissions: seconds and CPU seconds per further notebook, and the
    start-up (loading the grader, reading the course, checking the sandbox), which a run
    pays once however many notebooks it grades.

    >>> small = Graded([{}] * 6, wall=20.0, cpu=15.0, load=0.0, kernel_cpu=3.0)
    >>> large = Graded([{}] * 24, wall=56.0, cpu=45.0, load=0.0, kernel_cpu=9.0)
    >>> marginal(small, large)
    Marginal(seconds=2.0, cpu=2.0, startup_seconds=8.0)
    """
    added = len(large.rows) - len(small.rows)
    if added <= 0:
        raise BenchError(
            f"a slope needs two class sizes: {len(small.rows)} and {len(large.rows)} "
            "submissions (pass --throughput larger than --per-notebook)"
        )
    seconds = (large.wall - small.wall) / added
    cpu = (large.total_cpu - small.total_cpu) / added
    if seconds <= 0 or cpu <= 0:
        # a notebook never costs nothing: the smaller run was slowed by something else
        raise BenchError(
            f"no slope: {len(large.rows)} submissions took {large.wall:.1f} s and "
            f"{large.total_cpu:.1f} CPU s, {len(small.rows)} took {small.wall:.1f} s and "
            f"{small.total_cpu:.1f} CPU s (other load {small.load:.1f} and {large.load:.1f}); "
            "rerun on a quiet machine"
        )
    return Marginal(seconds, cpu, small.wall - seconds * len(small.rows))


def _slope(small: Graded | None, large: Graded | None) -> Marginal | None:
    if small is None or large is None:
        return None
    try:
        return marginal(small, large)
    except BenchError:  # no slope: the end-to-end figures stand alone
        return None


# --------------------------------------------------------------------------- the floor

#: Run in a child Python (argv: config folder, notebook, result file), so the floor needs
#: no event loop of this process and its kernel is its own child. Its imports, config and
#: the once-per-process sandbox probe happen before the clock starts, warmed as the
#: grader's helper is before it forks (``preload``: lazy imports, the provisioners' entry
#: points), so the floor holds no one-off cost a forked child never pays: what is timed is a
#: sandboxed kernel started as grading starts it (same manager, the course's limits, the
#: variable nbgrader autograde sets), every cell executed, and the kernel shut down.
FLOOR_SCRIPT = """
import json, os, resource, sys, time
import nbformat
from nbclient import NotebookClient
from traitlets.config.loader import PyFileConfigLoader
from lstm_grader.sandbox import SandboxKernelManager, check_can_grade

config_folder, notebook, out = sys.argv[1:4]
config = PyFileConfigLoader("nbgrader_config.py", path=config_folder).load_config()
os.environ["NBGRADER_EXECUTION"] = "autograde"
check_can_grade()
from lstm_grader.preloaded import preload
preload()
nb = nbformat.read(notebook, as_version=4)


class Client(NotebookClient):
    def create_kernel_manager(self):
        self.kept = super().create_kernel_manager()
        return self.kept


def cpu():
    # the process tree, as grading's is counted: bubblewrap's own launch is in it, and in
    # the kernel's control group too, on both sides of the ratio
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


client = Client(
    nb,
    kernel_manager_class=SandboxKernelManager,
    config=config,
    timeout=config.SandboxedExecute.timeout,
    resources={"metadata": {"path": os.path.dirname(notebook)}},
)
cpu_before, started = cpu(), time.perf_counter()
client.execute()
wall, client_cpu = time.perf_counter() - started, cpu() - cpu_before
usage = (client.kept.sandbox_report or {}).get("usage", {})
with open(out, "w") as handle:
    json.dump({"wall": wall, "client_cpu": client_cpu, "kernel_cpu": usage.get("cpu_seconds")},
              handle)
"""


def measure_floor(scratch: Path, runs: int, name: str = "floor") -> list[dict[str, float]]:
    """``runs`` floor runs on a correct submission, each in its own folder under
    ``scratch/name``: their wall, client and kernel CPU seconds."""
    folder = scratch / name
    folder.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", folder / "nbgrader_config.py")
    from lstm_grader.sandbox import submission_files

    release, source = notebooks(REPO, ASSIGNMENT)
    samples = []
    for i in range(runs):
        # a folder per run, as grading gives each submission its own
        work = folder / f"run{i}"
        work.mkdir()
        path = work / f"{ASSIGNMENT}.ipynb"
        nbformat.write(answered(release, source), path)
        # what grading stages beside the notebook from the release (the sealed
        # explanations), so the floor's cells run as grading's do, without a download try
        for companion, _ in submission_files(str(REPO / "exercises" / ASSIGNMENT))[0]:
            shutil.copy(companion, work)
        out = folder / f"run{i}.json"
        run([sys.executable, "-c", FLOOR_SCRIPT, str(folder), str(path), str(out)], folder)
        samples.append(json.loads(out.read_text(encoding="utf-8")))
    return samples


def floor_of(samples: list[dict[str, float]]) -> Floor:
    """The medians of floor runs (:func:`measure_floor`); a run whose host has no
    cpuacct group counts no kernel CPU."""
    kernel = [s["kernel_cpu"] or 0.0 for s in samples]
    client = [s["client_cpu"] for s in samples]
    return Floor(
        wall=statistics.median(s["wall"] for s in samples),
        cpu=statistics.median(k + c for k, c in zip(kernel, client, strict=True)),
        kernel_cpu=statistics.median(kernel),
        client_cpu=statistics.median(client),
        load=load(),
    )


def _floor_line(floor: Floor, what: str) -> Result:
    return Result(
        "floor",
        what,
        f"{floor.wall:.2f} s, {floor.cpu:.2f} CPU s (kernel {floor.kernel_cpu:.2f}, "
        f"client {floor.client_cpu:.2f}), load {floor.load:.1f}",
    )


def bench_floor(scratch: Path, runs: int, measured: Measured) -> list[Result]:
    say(f"floor: sandboxed kernel, a correct {ASSIGNMENT}'s cells, shutdown; {runs} runs")
    measured.floor_samples = measure_floor(scratch, runs)
    measured.floor = floor_of(measured.floor_samples)
    return [
        _floor_line(
            measured.floor, f"kernel start + cells + shutdown, per notebook (median of {runs})"
        )
    ]


def floor_again(scratch: Path, measured: Measured) -> list[Result]:
    """As many floor runs again, after lstm-grade's 1-worker runs: the floor the targets
    use is the median of both rounds. A machine whose speed drifts while the bench runs
    (other virtual machines on the host) then moves the floor with the runs it is set
    against, not one side of the ratio only."""
    before = measured.floor_samples
    if not before:
        return []
    say(f"floor: {len(before)} runs again, after the 1-worker runs")
    after = measure_floor(scratch, len(before), "floor-after")
    measured.floor_samples = before + after
    measured.floor = floor_of(measured.floor_samples)
    return [
        _floor_line(floor_of(after), f"the same, after the 1-worker runs (median of {len(after)})"),
        _floor_line(
            measured.floor,
            f"  both rounds: the floor of the targets (median of {len(measured.floor_samples)})",
        ),
    ]


def floor_results(floor: Floor | None, measured: Measured) -> list[Result]:
    """lstm-grade's seconds and CPU seconds per notebook (1 worker, the slope between the
    two class sizes) over the floor's, with the run's start-up and the end-to-end figure
    (start-up spread over the notebooks of the larger run) beside them."""
    one, small = measured.one, measured.one_small
    if floor is None or one is None:
        return [Result("throughput", "1 worker / floor", "n/a: the floor was not measured")]
    if small is None:
        return [Result("throughput", "1 worker / floor", "n/a: one class size only")]
    try:
        slope = marginal(small, one)
    except BenchError as exc:
        return [Result("throughput", "1 worker / floor", f"n/a: {exc}")]
    results = []
    for what, graded, least in (
        ("seconds", slope.seconds, floor.wall),
        ("CPU seconds", slope.cpu, floor.cpu),
    ):
        ratio = graded / least
        results.append(
            Result(
                "throughput",
                f"  1 worker / floor, {what} per further notebook",
                f"{ratio:.2f} ({graded:.2f} / {least:.2f})",
                f"<= {FLOOR_RATIO_TARGET}",
                verdict(ratio <= FLOOR_RATIO_TARGET),
            )
        )
    results += [
        Result(
            "throughput",
            "  (1 worker: start-up per run, once)",
            f"{slope.startup_seconds:.1f} s",
        ),
        Result(
            "throughput",
            f"  (1 worker / floor, end to end over {len(one.rows)}, start-up included)",
            f"{one.wall_per_notebook / floor.wall:.2f} s, "
            f"{one.cpu_per_notebook / floor.cpu:.2f} CPU s",
        ),
    ]
    return results


# --------------------------------------------------------------------------- grading


def bench_grading(
    scratch: Path, per_notebook: int, throughput: int, measured: Measured
) -> list[Result]:
    """Seconds per notebook (full against one question, 1 worker), then 1 against N workers,
    the floor and one plain ``nbgrader autograde``."""
    root = make_course(scratch / "grading-course", [ASSIGNMENT], trivial=True)
    results = _per_notebook(root, per_notebook, measured)
    say(f"grading: the same {per_notebook} with {measured.parallel} workers")
    many_small = grade(root, ASSIGNMENT, "--workers", str(measured.parallel))
    _expect_all_graded(many_small.rows)
    measured.default_small = _default_run(root, measured, many_small)
    measured.plain_small = plain_nbgrader(root, many_small.rows)
    # the class of the small runs, kept as it is, to grade in turn with the large class
    small_root = scratch / "grading-course-small"
    shutil.copytree(root, small_root, symlinks=True)
    submit_correct(root, range(per_notebook, throughput))
    results += _throughput(small_root, root, throughput, measured)
    results += floor_again(scratch, measured)
    results += floor_results(measured.floor, measured)
    results += _against_plain_nbgrader(root, measured)
    return results


def _per_notebook(root: Path, count: int, measured: Measured) -> list[Result]:
    """The full assignment against its first question alone, 1 worker."""
    small_release, small_source = notebooks(root, TRIVIAL)
    submit_correct(root, range(count))
    for i in range(count):
        submit(root, f"s{i:03d}", TRIVIAL, answered(small_release, small_source))
    say(f"grading: {count} full and {count} one-question notebooks, 1 worker")
    full = grade(root, ASSIGNMENT, "--workers", "1")
    small = grade(root, TRIVIAL, "--workers", "1")
    _expect_all_graded(full.rows + small.rows)
    ratio = full.per_notebook / small.per_notebook
    questions = _questions(notebooks(root, ASSIGNMENT)[1])
    return [
        Result(
            "grading",
            f"{ASSIGNMENT} ({questions} questions), per notebook",
            f"{full.per_notebook:.2f} s, {full.cpu_per_notebook:.2f} CPU s, load {full.load:.1f}",
        ),
        Result(
            "grading",
            "one-question notebook, per notebook",
            f"{small.per_notebook:.2f} s, {small.cpu_per_notebook:.2f} CPU s, "
            f"load {small.load:.1f}",
        ),
        Result(
            "grading",
            "full / one-question (seconds per notebook)",
            f"{ratio:.2f}",
            f"<= {RATIO_TARGET}",
            verdict(ratio <= RATIO_TARGET),
        ),
    ]


def _throughput(small_root: Path, root: Path, count: int, measured: Measured) -> list[Result]:
    parallel = measured.parallel
    say(
        f"grading: {count} submissions with 1 worker and with {parallel}, each run in turn "
        f"with the small class's, the four in turn {measured.repeats} times"
    )
    (measured.one_small, one), (measured.many_small, many) = grade_pairs(
        small_root,
        root,
        ASSIGNMENT,
        measured.repeats,
        [("--workers", "1"), ("--workers", str(parallel))],
    )
    _expect_all_graded(one.rows + many.rows + measured.one_small.rows + measured.many_small.rows)
    measured.one, measured.many = one, many
    whole_runs = one.wall / many.wall
    slope_one, slope_many = measured.one_worker(), measured.n_workers()
    # the slope leaves out the one-off start-up, which a small class would otherwise weigh
    sloped = slope_one is not None and slope_many is not None
    speedup = slope_one.seconds / slope_many.seconds if sloped else whole_runs
    speed = Result(
        "throughput",
        f"speed-up with {parallel} workers, "
        + ("per further notebook" if sloped else f"whole runs of {count}"),
        f"{speedup:.2f}x",
        f">= {SPEEDUP_TARGET}x",
        verdict(speedup >= SPEEDUP_TARGET),
    )
    results = [
        Result(
            "throughput",
            f"{count} submissions, {workers} worker{'s' * (workers > 1)}",
            f"{graded.wall:.1f} s ({count / graded.wall * 60:.0f}/min, "
            f"{graded.wall_per_notebook:.2f} s per notebook), load {graded.load:.1f}",
        )
        for workers, graded in ((1, one), (parallel, many))
    ]
    results += [
        speed,
        Result(
            "throughput",
            f"  (whole runs of {count}, start-up included)",
            f"{whole_runs:.2f}x"
            + (
                f"; start-up {slope_one.startup_seconds:.1f} s and "
                f"{slope_many.startup_seconds:.1f} s"
                if sloped
                else ""
            ),
        ),
        Result(
            "throughput",
            "  CPU s per notebook, 1 worker / N workers",
            f"{one.cpu_per_notebook:.2f} / {many.cpu_per_notebook:.2f}",
        ),
    ]
    ceiling = None
    if sloped:
        cores = usable_cores()
        ceiling = speedup_ceiling(slope_one, slope_many, parallel, cores)
        results.append(
            Result(
                "throughput",
                f"  (the most {parallel} workers could give on {cores} cores, every core busy)",
                f"{ceiling:.2f}x: "
                f"{min(parallel, cores)} x {slope_one.seconds:.2f} s / "
                f"{slope_many.cpu:.2f} CPU s per further notebook; 1 worker keeps "
                f"{slope_one.cpu / slope_one.seconds:.2f} cores busy",
            )
        )
    scaling = machine_scaling(parallel)
    results.append(
        Result(
            "throughput",
            f"  (this machine's own scaling now: {parallel} processes of pure arithmetic, "
            "against 1)",
            f"{scaling:.2f}x",
        )
    )
    if speedup < SPEEDUP_TARGET:
        speed.verdict += _speedup_limits(many.load, scaling, ceiling)
    results += _cold_kernels(root, one, parallel)
    measured.default = _default_run(root, measured, many)
    return results + _default_results(measured)


def _speedup_limits(load_now: float, scaling: float, ceiling: float | None) -> str:
    """What held a missed speed-up back, as far as the bench can tell: other load, the
    machine's cores, or the bound one worker's own use of the cores sets.

    >>> _speedup_limits(0.0, 1.95, 1.42)
    ' (the cores allow 1.42x)'
    >>> _speedup_limits(0.0, 1.95, 1.90)
    ''
    """
    limits = []
    if load_now > (os.cpu_count() or 1):
        limits.append("load average above the CPU count")
    if scaling < SPEEDUP_TARGET:
        limits.append(f"the machine's cores give {scaling:.2f}x now")
    if ceiling is not None and ceiling < SPEEDUP_TARGET:
        limits.append(f"the cores allow {ceiling:.2f}x")
    return f" ({'; '.join(limits)})" if limits else ""


def _cold_kernels(root: Path, warm: Graded, parallel: int) -> list[Result]:
    """1 worker with ``--cold-kernels`` (each kernel started when its submission's turn
    comes) against the default, which starts the next kernel while a notebook is graded:
    the time it saves, and the same grades. Then ``parallel`` workers with
    ``--cold-kernels``: how the workers themselves scale when none of them keeps more than
    one process busy, which is what the default's speed-up is capped by on few cores."""
    say(f"grading: the same {len(warm.rows)} with 1 worker, --cold-kernels")
    cold = grade(root, ASSIGNMENT, "--workers", "1", "--cold-kernels")
    _expect_all_graded(cold.rows)
    say(f"grading: the same {len(warm.rows)} with {parallel} workers, --cold-kernels")
    cold_many = grade(root, ASSIGNMENT, "--workers", str(parallel), "--cold-kernels")
    _expect_all_graded(cold_many.rows)
    return [
        Result(
            "throughput",
            f"{len(cold.rows)} submissions, 1 worker, --cold-kernels",
            _run_costs(cold),
        ),
        Result(
            "throughput",
            "  kernels started ahead (the default) / --cold-kernels, seconds",
            f"{warm.wall / cold.wall:.2f}",
        ),
        _same_grades(warm, cold, "throughput", "kernels started ahead vs --cold-kernels"),
        Result(
            "throughput",
            f"{len(cold.rows)} submissions, {parallel} workers, --cold-kernels",
            _run_costs(cold_many),
        ),
        Result(
            "throughput",
            f"  speed-up with {parallel} workers, both --cold-kernels (whole runs, "
            "start-up included)",
            f"{cold.wall / cold_many.wall:.2f}x",
        ),
    ]


def _default_run(root: Path, measured: Measured, n_workers_run: Graded) -> Graded:
    """The submissions graded with lstm-grade's default worker count: the N-worker run
    itself where N is the default."""
    workers = measured.default_workers
    if workers == measured.parallel:
        return n_workers_run
    say(f"grading: the same {len(n_workers_run.rows)} with {workers} workers (the default)")
    graded = grade(root, ASSIGNMENT, "--workers", str(workers))
    _expect_all_graded(graded.rows)
    return graded


def _default_results(measured: Measured) -> list[Result]:
    """The default worker count on this host, against N workers (one per core on a host
    of N cores), per further notebook."""
    workers, default = measured.default_workers, measured.default
    if workers == measured.parallel or default is None:
        return []
    results = [
        Result(
            "throughput",
            f"{len(default.rows)} submissions, {workers} workers "
            f"(lstm-grade's default, {WORKERS_PER_CORE} per core)",
            f"{default.wall:.1f} s ({len(default.rows) / default.wall * 60:.0f}/min, "
            f"{default.wall_per_notebook:.2f} s per notebook), load {default.load:.1f}",
        )
    ]
    ours, theirs = measured.default_path(), measured.n_workers()
    if ours and theirs:
        results.append(
            Result(
                "throughput",
                f"  speed-up of {workers} workers over {measured.parallel}, per further notebook",
                f"{theirs.seconds / ours.seconds:.2f}x ({theirs.seconds:.2f} / "
                f"{ours.seconds:.2f} s); start-up {ours.startup_seconds:.1f} s",
            )
        )
    return results


def plain_nbgrader(root: Path, rows: list[dict[str, str]]) -> Graded:
    """One ``nbgrader autograde ASSIGNMENT --force`` over the submissions of ``rows``
    (those lstm-grade just graded): the same config, so the same sandbox and pipeline."""
    say(f"grading: the same {len(rows)} submissions with one plain nbgrader autograde")
    wall, cpu = run_timed([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--force"], root)
    load_now = load()
    reports = read_reports(root, rows)
    statuses = Counter(r.get("status", "no report") for r in reports)
    if statuses != Counter(graded=len(rows)):
        raise BenchError(f"plain nbgrader autograde did not grade cleanly: {dict(statuses)}")
    return Graded(rows, wall, cpu, load_now, kernel_cpu(reports))


def _against_plain_nbgrader(root: Path, measured: Measured) -> list[Result]:
    """lstm-grade with 1 worker against plain nbgrader over the same class, end to end
    (the verdict), and per further notebook."""
    one = measured.one
    plain = plain_nbgrader(root, one.rows)
    count = len(one.rows)
    faster = one.wall_per_notebook < plain.wall_per_notebook
    results = [
        Result(
            "throughput",
            f"{count} submissions, one plain nbgrader autograde",
            _run_costs(plain),
        ),
        Result(
            "throughput",
            "  lstm-grade 1 worker / plain nbgrader (s per notebook, whole class)",
            f"{one.wall_per_notebook / plain.wall_per_notebook:.2f}",
            "< 1",
            verdict(faster),
        ),
    ]
    ours, theirs = measured.one_worker(), _slope(measured.plain_small, plain)
    if ours and theirs:
        results.append(
            Result(
                "throughput",
                "  (the same per further notebook; start-up of each run)",
                f"{ours.seconds / theirs.seconds:.2f} ({ours.seconds:.2f} / {theirs.seconds:.2f}"
                f" s); {ours.startup_seconds:.1f} s and {theirs.startup_seconds:.1f} s",
            )
        )
        # what nbgrader itself adds to the floor: the part of the CPU target no wrapper of
        # nbgrader autograde can go below
        if measured.floor is not None:
            least = measured.floor.cpu
            results.append(
                Result(
                    "throughput",
                    "  (CPU s per further notebook: lstm-grade, plain nbgrader, the floor)",
                    f"{ours.cpu:.2f}, {theirs.cpu:.2f} ({theirs.cpu / least:.2f}x), {least:.2f}",
                )
            )
    return results


def _questions(source: nbformat.NotebookNode) -> int:
    return sum(1 for c in source.cells if c.metadata.get("nbgrader", {}).get("grade"))


def _expect_all_graded(rows: list[dict[str, str]]) -> None:
    wrong = [(r["student"], r["status"], r["reason"]) for r in rows if r["status"] != "graded"]
    if wrong:
        raise BenchError(f"correct submissions were not graded cleanly: {wrong[:5]}")


# --------------------------------------------------------------------------- a class


def make_class(root: Path, size: int, seed: int = 2026) -> Counter:
    """Submit ``size`` learners: correct, partial, blank and broken, in fixed proportions.

    Broken ones are truncated JSON, schema-invalid notebooks, missing notebooks, kernels that
    exit, and (one per hundred, each costing the config's per-cell timeout) endless loops.
    """
    rng = random.Random(seed)
    release, source = notebooks(root, ASSIGNMENT)
    mistakes = json.loads(
        (REPO / "tests" / "files" / "classic-mistakes" / f"{ASSIGNMENT}.json").read_text(
            encoding="utf-8"
        )
    )
    loops = max(1, size // 100)
    broken = ["truncated", "schema-invalid", "missing", "kernel-killer"]
    kinds = []
    for i in range(size):
        share = i / size
        if share < 0.4:
            kinds.append("correct")
        elif share < 0.7:
            kinds.append("partial")
        elif share < 0.8:
            kinds.append("blank")
        elif loops:
            kinds.append("endless-loop")
            loops -= 1
        else:
            kinds.append(broken[i % len(broken)])
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        student = f"learner{i:04d}"
        if kind == "partial":
            chosen = rng.sample(sorted(mistakes), rng.randint(1, 3))
            notebook = answered(
                release, source, {mistakes[q]["cell"]: mistakes[q]["code"] for q in chosen}
            )
        elif kind == "blank":
            notebook = release
        elif kind == "endless-loop":
            notebook = answered(release, source, {"q3-answer": "while True:\n    pass"})
        elif kind == "kernel-killer":
            notebook = answered(release, source, {"q4-answer": "import os; os._exit(1)"})
        else:
            notebook = answered(release, source)
        path = submit(root, student, ASSIGNMENT, notebook)
        if kind == "truncated":
            path.write_bytes(path.read_bytes()[:3000])
        elif kind == "schema-invalid":
            data = json.loads(path.read_text(encoding="utf-8"))
            data["cells"][1]["cell_type"] = "answer"
            path.write_text(json.dumps(data), encoding="utf-8")
        elif kind == "missing":
            path.rename(path.with_name("Untitled.ipynb"))
    return Counter(kinds)


def bench_class(scratch: Path, size: int, workers: int) -> list[Result]:
    """The class graded by the default path, then by ``--process-per-submission``: the
    statuses must be those submitted, and both paths must give the same grades."""
    root = make_course(scratch / "class-course", [ASSIGNMENT])
    kinds = make_class(root, size)
    say(f"class: {size} learners ({dict(kinds)}), lstm-grade --workers {workers}")
    forked = grade(root, ASSIGNMENT, "--workers", str(workers))
    say(f"class: the same with --process-per-submission, --workers {workers}")
    fresh = grade(root, ASSIGNMENT, "--workers", str(workers), "--process-per-submission")
    return [
        *_class_costs(size, workers, "default path", forked),
        *_class_costs(size, workers, "--process-per-submission", fresh),
        _class_statuses(kinds, forked),
        _same_grades(forked, fresh),
    ]


def _class_costs(size: int, workers: int, path: str, graded: Graded) -> list[Result]:
    return [
        Result(
            "class",
            f"{size} learners, {workers} workers, {path}, end to end",
            f"{graded.wall:.1f} s ({size / graded.wall * 60:.0f} submissions/min), "
            f"load {graded.load:.1f}",
        ),
        Result(
            "class",
            "  per notebook: grades.csv seconds (mean), CPU",
            f"{graded.per_notebook:.2f} s, {graded.cpu_per_notebook:.2f} CPU s",
        ),
    ]


def _class_statuses(kinds: Counter, graded: Graded) -> Result:
    statuses = Counter(r["status"] for r in graded.rows)
    status_of = {
        "correct": "graded",
        "partial": "graded",
        "blank": "no-answers",  # nothing answered: the grader says so
        "truncated": "invalid-notebook",
        "schema-invalid": "invalid-notebook",
        "missing": "missing",
        "kernel-killer": "kernel-died",
        "endless-loop": "timed-out",
    }
    expected = Counter()
    for kind, count in kinds.items():
        expected[status_of[kind]] += count
    return Result(
        "class",
        "statuses in grades.csv (default path)",
        ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
        "as submitted",
        "OK" if statuses == expected else f"WRONG: {dict(expected)}",
    )


def _same_grades(
    forked: Graded,
    fresh: Graded,
    section: str = "class",
    what: str = "default path vs --process-per-submission",
) -> Result:
    differences = grade_differences(forked.rows, fresh.rows)
    if differences:
        value = f"{len(differences)} differ: " + "; ".join(differences[:3])
    else:
        value = f"{len(forked.rows)} rows on {', '.join(GRADE_COLUMNS)}"
    return Result(
        section,
        f"grades: {what}",
        value,
        "identical",
        "DIFFERENT" if differences else "SAME",
    )


def grade_differences(first: list[dict[str, str]], second: list[dict[str, str]]) -> list[str]:
    """Where two grades.csv files disagree on :data:`GRADE_COLUMNS`, one line per notebook
    (``student/assignment/notebook: first's values vs second's``), in order."""

    def keyed(rows: list[dict[str, str]]) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {
            tuple(r[c] for c in GRADE_COLUMNS[:3]): tuple(r[c] for c in GRADE_COLUMNS[3:])
            for r in rows
        }

    a, b = keyed(first), keyed(second)
    return [
        f"{'/'.join(key)}: {a.get(key)} vs {b.get(key)}"
        for key in sorted(a.keys() | b.keys())
        if a.get(key) != b.get(key)
    ]


# --------------------------------------------------------------------------- a Dask cluster


class LocalDaskCluster:
    """A Dask scheduler and workers on this machine, started with the ``dask`` command as an
    instructor would start them on each host. Every process is stopped on leaving the
    ``with`` block, whatever happened in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.address = ""
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def __enter__(self) -> LocalDaskCluster:
        self.folder.mkdir()
        try:
            self.scheduler = self._start(
                "scheduler",
                ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
            )
            self.address = self._wait_for_address()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def use_workers(self, count: int) -> None:
        """Stop the workers there are and start ``count`` fresh ones, each of one thread,
        so each run starts from cold workers; return once the scheduler counts them."""
        self._stop_workers()
        self.workers = [self._start_worker(f"w{i}") for i in range(count)]
        self._wait_for_workers(count)

    def _start_worker(self, name: str) -> subprocess.Popen:
        # one thread: a worker grades one submission at a time, like a local worker; its
        # files stay in the scratch folder; it exits if the scheduler goes away
        options = ["--nthreads", "1", "--no-dashboard", "--name", name, "--death-timeout", "60"]
        options += ["--local-directory", str(self.folder / name)]
        return self._start(name, options, kind="worker")

    def stop(self) -> None:
        self._stop_workers()
        if self.scheduler is not None:
            _stop_group(self.scheduler)
            self.scheduler = None

    def _stop_workers(self) -> None:
        for worker in self.workers:
            _stop_group(worker)
        self.workers = []

    def _start(self, name: str, options: list[str], kind: str = "scheduler") -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        with log:
            # a session of its own: a worker's nanny starts the worker as its child, and
            # the whole group is stopped at the end
            return subprocess.Popen(
                [str(BIN / "dask"), kind, "--scheduler-file", str(self.scheduler_file), *options],
                cwd=self.folder,
                env=clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_for_address(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                return json.loads(self.scheduler_file.read_text(encoding="utf-8"))["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        raise BenchError(f"the Dask scheduler wrote no address in {timeout:.0f} s")

    def _wait_for_workers(self, count: int, timeout: float = 180) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            deadline = time.monotonic() + timeout
            while len(client.scheduler_info(n_workers=-1)["workers"]) != count:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise BenchError(f"{count} Dask workers did not join in {timeout:.0f} s")
                time.sleep(0.2)

    def _check_alive(self) -> None:
        processes = [("scheduler", self.scheduler)] + [
            (f"w{i}", w) for i, w in enumerate(self.workers)
        ]
        for name, process in processes:
            if process is not None and process.poll() is not None:
                raise BenchError(
                    f"the Dask {name} exited ({process.returncode}):\n{self._log_tail(name)}"
                )

    def _log_tail(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.strip().splitlines()[-15:])


def _stop_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group this benchmark started, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            # the leader is gone; whatever it left in its group goes too
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return


def _require_scheduler_option() -> None:
    result = subprocess.run(
        [str(BIN / "lstm-grade"), "--help"], env=clean_env(), capture_output=True, text=True
    )
    if "--scheduler" not in result.stdout:
        raise BenchError("lstm-grade has no --scheduler option (yet): no cluster run")


def bench_cluster(scratch: Path, count: int, measured: Measured) -> list[Result]:
    """``lstm-grade --scheduler`` over ``count`` correct submissions on a local Dask cluster
    of 1 worker, then of 2 fresh ones."""
    _require_scheduler_option()
    root = make_course(scratch / "cluster-course", [ASSIGNMENT])
    submit_correct(root, range(count))
    results = []
    with LocalDaskCluster(scratch / "dask") as cluster:
        for workers in (1, 2):
            cluster.use_workers(workers)
            say(f"cluster: {count} submissions on {workers} Dask worker(s), {cluster.address}")
            graded = grade(root, ASSIGNMENT, "--scheduler", cluster.address)
            _expect_all_graded(graded.rows)
            if len(graded.rows) != count:
                raise BenchError(f"{len(graded.rows)} rows for {count} submissions")
            measured.dask[workers] = graded.wall
            results.append(
                Result(
                    "cluster",
                    f"{count} submissions, Dask, {workers} worker{'s' * (workers > 1)}",
                    f"{graded.wall:.1f} s ({graded.wall_per_notebook:.2f} s per notebook), "
                    f"load {graded.load:.1f}",
                )
            )
    one, two = measured.dask[1], measured.dask[2]
    results.append(
        Result(
            "cluster",
            "  speed-up with 2 Dask workers",
            f"{one / two:.2f}x (efficiency {parallel_efficiency(one, two):.2f})",
        )
    )
    return results


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class Projection:
    """Projected wall seconds of grading a course; see :func:`project`."""

    per_core_seconds: float
    efficiency: float | None
    one_host_seconds: float
    cluster_seconds: float | None


def speedup_ceiling(one_worker: Marginal, n_workers: Marginal, workers: int, cores: int) -> float:
    """The most ``workers`` workers could speed one worker up on ``cores`` cores: each
    further notebook needs ``n_workers.cpu`` CPU seconds, and no more than
    ``min(workers, cores)`` cores can serve them at once.

    One worker already keeps more than one process busy (the next kernel starts while a
    notebook is graded), so where its CPU seconds reach its seconds this bound sits below
    2x on two cores, and a run that comes close to it is as fast as the machine allows.
    Both slopes are differences of runs, so the bound moves with the machine as they do.

    >>> one = Marginal(seconds=0.6, cpu=0.6, startup_seconds=2.0)
    >>> two = Marginal(seconds=0.33, cpu=0.65, startup_seconds=4.0)
    >>> round(speedup_ceiling(one, two, workers=2, cores=2), 2)
    1.85
    """
    return min(workers, cores) * one_worker.seconds / n_workers.cpu


def _arithmetic(steps: int) -> int:
    total = 0
    for i in range(steps):
        total += i * i
    return total


def _arithmetic_seconds(processes: int, steps: int) -> float:
    """Wall seconds for ``processes`` processes, started together, to each do the same
    pure-Python arithmetic."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_arithmetic, args=(steps,)) for _ in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def machine_scaling(processes: int, repeats: int = 3, steps: int = 5_000_000) -> float:
    """How many times the work of one process ``processes`` processes get done in the same
    time, on this machine now: pure arithmetic, no I/O, nothing shared; the least time of
    ``repeats`` runs of each, taken in turn.

    A virtual machine's cores may share physical ones, or be busy for other machines: then
    even work that never waits scales by less than its process count, and so does grading.
    The bench prints this beside the workers' speed-up, to tell the machine's limit from
    the grader's.
    """
    one, many = [], []
    for _ in range(max(1, repeats)):
        one.append(_arithmetic_seconds(1, steps))
        many.append(_arithmetic_seconds(processes, steps))
    return processes * min(one) / min(many)


def parallel_efficiency(one_worker: float, two_workers: float) -> float:
    """The share of a second worker a cluster turns into speed: ``(t1 / t2) / 2``, at most 1
    (a measured super-linear speed-up is noise, never projected)."""
    return min(1.0, one_worker / two_workers / 2)


def project(
    seconds_per_notebook: float,
    busy_cores: int,
    dask_walls: tuple[float, float] | None = None,
    *,
    notebooks: int = COURSE_NOTEBOOKS,
    cores: int = ONE_HOST_CORES,
    hosts: int = CLUSTER_HOSTS,
) -> Projection:
    """Project the wall time of grading ``notebooks`` on one host of ``cores`` cores and on
    ``hosts`` such hosts of a Dask cluster.

    ``c = seconds_per_notebook * busy_cores`` is what one notebook costs one core when
    every core of a host is busy: ``seconds_per_notebook`` is the :func:`marginal` wall
    seconds of a local ``lstm-grade`` run that keeps ``busy_cores`` cores busy (its
    default, two workers per core, on every core here), so the contention of a full host
    is in it and the one-off start-up, paid once per run, is not. One host grades
    ``notebooks * c / cores``; a cluster grades ``notebooks * c / (hosts * cores * e)``,
    where ``e`` is the cluster's :func:`parallel_efficiency` from ``dask_walls`` (the wall
    seconds of the same submissions on 1 and on 2 Dask workers); without them there is no
    cluster projection.

    >>> p = project(2.5, 2, (24.0, 15.0))
    >>> p.per_core_seconds, p.efficiency, p.one_host_seconds, round(p.cluster_seconds)
    (5.0, 0.8, 2500.0, 781)
    """
    per_core = seconds_per_notebook * busy_cores
    efficiency = parallel_efficiency(*dask_walls) if dask_walls else None
    cluster = notebooks * per_core / (hosts * cores * efficiency) if efficiency else None
    return Projection(per_core, efficiency, notebooks * per_core / cores, cluster)


def bench_projection(measured: Measured) -> list[Result]:
    """The course of 1,000 learners x 8 notebooks on 16 cores and on 4 x 16 cores, with the
    formula's inputs printed so the arithmetic can be checked by hand."""
    large, small = measured.default, measured.default_small
    workers = measured.default_workers
    if large is None or small is None:
        raise BenchError("no local runs with all cores busy (the throughput section failed)")
    slope = marginal(small, large)  # its BenchError says why there is no projection
    busy = min(workers, usable_cores())
    # On a host of 2 cores, the 2-worker Dask run shares them with the scheduler and the
    # lstm-grade process that writes every result: e measured here is a pessimistic one.
    dask = (measured.dask[1], measured.dask[2]) if {1, 2} <= measured.dask.keys() else None
    p = project(slope.seconds, busy, dask)
    results = [
        Result(
            "projection",
            "c = (wall_large - wall_small) / (n_large - n_small) x cores (all busy)",
            f"({large.wall:.1f} - {small.wall:.1f}) / ({len(large.rows)} - {len(small.rows)}) "
            f"x {busy} = {p.per_core_seconds:.2f} s ({workers} workers), load {large.load:.1f}",
        ),
        Result(
            "projection",
            "e = min(1, (t_dask_1 / t_dask_2) / 2)",
            f"min(1, ({dask[0]:.1f} / {dask[1]:.1f}) / 2) = {p.efficiency:.2f}"
            if dask
            else "n/a: no Dask runs",
        ),
        Result(
            "projection",
            f"{COURSE_NOTEBOOKS} notebooks, {ONE_HOST_CORES} cores: N x c / {ONE_HOST_CORES}",
            f"{p.one_host_seconds / 60:.1f} min",
            f"< {ONE_HOST_TARGET / 60:.0f} min",
            verdict(p.one_host_seconds < ONE_HOST_TARGET),
        ),
    ]
    cores = CLUSTER_HOSTS * ONE_HOST_CORES
    results.append(
        Result(
            "projection",
            f"{COURSE_NOTEBOOKS} notebooks, {CLUSTER_HOSTS} x {ONE_HOST_CORES} cores: "
            f"N x c / ({cores} x e)",
            f"{p.cluster_seconds / 60:.1f} min" if p.cluster_seconds else "n/a: no Dask runs",
        )
    )
    return results


# --------------------------------------------------------------------------- where time goes


def bench_profile(scratch: Path) -> list[Result]:
    """What each nbgrader run pays before grading anything: its imports and the kernel start."""
    say("profile: nbgrader import and sandboxed kernel start")
    python = sys.executable
    imports = statistics.median(
        run([python, "-c", "import nbgrader.apps"], scratch) for _ in range(3)
    )
    blocked = statistics.median(
        run(
            [
                python,
                "-c",
                "import sys; sys.modules['rfc3987_syntax'] = None; import nbgrader.apps",
            ],
            scratch,
        )
        for _ in range(3)
    )
    imports_load = load()
    from lstm_grader.sandbox import SandboxKernelManager, bwrap_path

    kernel = statistics.median(
        asyncio.run(_kernel_start(SandboxKernelManager, scratch)) for _ in range(3)
    )
    kernel_load = load()
    where = "bubblewrap sandbox" if bwrap_path() else "no sandbox (bwrap missing)"
    install = install_step_cost(scratch)
    return [
        Result(
            "profile",
            "python + import nbgrader.apps (each nbgrader run)",
            f"{imports:.2f} s, load {imports_load:.1f}",
        ),
        Result(
            "profile",
            "  the same without rfc3987_syntax (jsonschema's IRI check)",
            f"{blocked:.2f} s",
        ),
        Result(
            "profile",
            f"kernel start to ready and shutdown, {where}",
            f"{kernel:.2f} s, load {kernel_load:.1f}",
        ),
        Result(
            "profile",
            "a notebook's install step where the library is installed",
            f"{install * 1000:.0f} ms, load {load():.1f}",
            f"< {INSTALL_STEP_TARGET * 1000:.0f} ms",
            "ok" if install < INSTALL_STEP_TARGET else "SLOW",
        ),
    ]


def install_step_cost(scratch: Path) -> float:
    """What the install cell adds to a Python start where lstm-course is installed (median
    of 7): it must look the version up and touch nothing else, the network least of all."""
    from lstm_grader.self_install import install_source

    # nothing listens on port 9 of loopback: an attempt to download would fail the run
    cell = install_source("http://127.0.0.1:9/")
    python = sys.executable
    bare = statistics.median(run([python, "-c", "pass"], scratch) for _ in range(7))
    step = statistics.median(run([python, "-c", cell], scratch) for _ in range(7))
    return max(step - bare, 0.0)


async def _kernel_start(manager_class, cwd: Path) -> float:
    started = time.perf_counter()
    manager = manager_class(kernel_name="python3")
    await manager.start_kernel(cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=False)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- the table


def print_table(results: list[Result], header: list[str]) -> None:
    columns = ("section", "measure", "value", "target", "verdict")
    table = [[getattr(r, c) for c in columns] for r in results]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(columns)]
    print()
    for line in header:
        print(line)
    print()
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="a class of 20 instead of 200")
    parser.add_argument(
        "--class-size",
        type=int,
        default=None,
        help="learners in the synthetic class (default 200, 20 with --quick)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help=f"workers for the class (default: lstm-grade's, {WORKERS_PER_CORE} per core)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=2,
        help="workers compared with 1 in the throughput measure (default 2)",
    )
    parser.add_argument(
        "--per-notebook",
        type=int,
        default=6,
        help="submissions timed per notebook kind (default 6)",
    )
    parser.add_argument(
        "--throughput",
        type=int,
        default=24,
        help="submissions graded with 1 and with N workers, by plain nbgrader and on the "
        "Dask cluster (default 24; the slope per notebook runs from --per-notebook to it)",
    )
    parser.add_argument(
        "--floor-runs", type=int, default=5, help="runs of the floor, whose median counts"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="runs of each lstm-grade command a slope per notebook is drawn from, the "
        "least counting (default 2)",
    )
    parser.add_argument("--skip-book", action="store_true", help="leave out the book builds")
    parser.add_argument(
        "--skip-cluster",
        action="store_true",
        help="leave out the Dask cluster (the 16-core projection is still printed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    size = args.class_size or (20 if args.quick else 200)
    throughput = max(args.throughput, args.per_notebook)

    started = time.perf_counter()
    load_before = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="lstm-bench-"))
    measured = Measured(parallel=args.parallel, repeats=args.repeats)
    results: list[Result] = []
    sections = [
        ("profile", lambda: bench_profile(scratch)),
        ("floor", lambda: bench_floor(scratch, max(1, args.floor_runs), measured)),
        ("grading", lambda: bench_grading(scratch, args.per_notebook, throughput, measured)),
        ("class", lambda: bench_class(scratch, size, args.workers)),
        ("cluster", lambda: bench_cluster(scratch, throughput, measured)),
        ("projection", lambda: bench_projection(measured)),
    ]
    if not args.skip_book:
        sections.insert(0, ("book", lambda: bench_book(scratch)))
    if args.skip_cluster:
        sections = [s for s in sections if s[0] != "cluster"]
    failed = False
    try:
        for name, section in sections:
            section_started = time.perf_counter()
            try:
                results += section()
            except BenchError as exc:
                failed = True
                say(str(exc))
                results.append(Result(name, "FAILED", str(exc).splitlines()[0][:100]))
            say(f"{name}: {time.perf_counter() - section_started:.0f} s")
    finally:
        if args.keep:
            say(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    import nbgrader

    from lstm_grader.sandbox import bwrap_path

    total = time.perf_counter() - started
    results.append(Result("total", "benchmark wall time", f"{total:.0f} s"))
    print_table(
        results,
        [
            f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, "
            f"{load():.2f} after; grading kernel "
            f"{'sandboxed with bubblewrap' if bwrap_path() else 'NOT sandboxed (no bwrap)'}; "
            f"Python {sys.version.split()[0]}, nbgrader {nbgrader.__version__}",
        ],
    )
    return 1 if failed else 0
