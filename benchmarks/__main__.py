"""Time the course kit: book builds, grading cost per notebook, parallel throughput, a class.

Run from the repository root (``make bench`` runs the first line)::

    python -m benchmarks                   # everything, with a synthetic class of 200
    python -m benchmarks --quick           # the same with a class of 20
    python -m benchmarks --class-size 50 --skip-book

Everything happens in throwaway copies in a temporary folder: the repository's ``_build``,
gradebook and grading folders are never touched. These are measurements, not tests: a
target that is missed prints MISS and the command still succeeds. Timings depend on the
machine and on whatever else runs on it, so the load average is printed with them.
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
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

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
SPEEDUP_TARGET = 1.7


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
    """Run a command; return its wall-clock and CPU seconds (with all its child processes:
    nbgrader, the kernels), or raise BenchError with its output."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(command)} failed ({result.returncode}):\n{tail}")
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

    @property
    def per_notebook(self) -> float:
        """Mean of the seconds lstm-grade measured around each submission's nbgrader run."""
        return statistics.mean(float(r["seconds"]) for r in self.rows)

    @property
    def cpu_per_notebook(self) -> float:
        return self.cpu / len(self.rows)


def grade(root: Path, assignment: str, workers: int) -> Graded:
    """``lstm-grade ASSIGNMENT --workers N --force`` from the course root."""
    command = [
        str(BIN / "lstm-grade"),
        assignment,
        "--workers",
        str(workers),
        "--no-progress",
        "--force",
    ]
    wall, cpu = run_timed(command, root)
    load = os.getloadavg()[0]
    with (root / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return Graded(list(csv.DictReader(handle)), wall, cpu, load)


# --------------------------------------------------------------------------- grading


def bench_grading(scratch: Path, per_notebook: int, throughput: int, parallel: int) -> list[Result]:
    """Seconds per notebook (full against one question, 1 worker), then 1 against N workers."""
    root = make_course(scratch / "grading-course", [ASSIGNMENT], trivial=True)
    release, source = notebooks(root, ASSIGNMENT)
    small_release, small_source = notebooks(root, TRIVIAL)
    for i in range(per_notebook):
        submit(root, f"s{i:03d}", ASSIGNMENT, answered(release, source))
        submit(root, f"s{i:03d}", TRIVIAL, answered(small_release, small_source))
    say(f"grading: {per_notebook} full and {per_notebook} one-question notebooks, 1 worker")
    full = grade(root, ASSIGNMENT, 1)
    small = grade(root, TRIVIAL, 1)
    _expect_all_graded(full.rows + small.rows)
    ratio = full.per_notebook / small.per_notebook
    results = [
        Result(
            "grading",
            f"{ASSIGNMENT} ({_questions(source)} questions), per notebook",
            f"{full.per_notebook:.2f} s, {full.cpu_per_notebook:.2f} CPU s",
        ),
        Result(
            "grading",
            "one-question notebook, per notebook",
            f"{small.per_notebook:.2f} s, {small.cpu_per_notebook:.2f} CPU s",
        ),
        Result(
            "grading",
            "full / one-question (seconds per notebook)",
            f"{ratio:.2f}",
            f"<= {RATIO_TARGET}",
            "PASS" if ratio <= RATIO_TARGET else "MISS",
        ),
    ]

    for i in range(per_notebook, throughput):
        submit(root, f"s{i:03d}", ASSIGNMENT, answered(release, source))
    say(f"grading: {throughput} submissions with 1 worker, then {parallel}")
    one = grade(root, ASSIGNMENT, 1)
    many = grade(root, ASSIGNMENT, parallel)
    _expect_all_graded(one.rows + many.rows)
    speedup = one.wall / many.wall
    results += [
        Result(
            "throughput",
            f"{throughput} submissions, 1 worker",
            f"{one.wall:.1f} s ({throughput / one.wall * 60:.0f}/min), load {one.load:.1f}",
        ),
        Result(
            "throughput",
            f"{throughput} submissions, {parallel} workers",
            f"{many.wall:.1f} s ({throughput / many.wall * 60:.0f}/min), load {many.load:.1f}",
        ),
        Result(
            "throughput",
            f"speed-up with {parallel} workers",
            f"{speedup:.2f}x",
            f">= {SPEEDUP_TARGET}x",
            "PASS" if speedup >= SPEEDUP_TARGET else "MISS",
        ),
        Result(
            "throughput",
            "  CPU s per notebook, 1 worker / N workers",
            f"{one.cpu_per_notebook:.2f} / {many.cpu_per_notebook:.2f}",
        ),
    ]
    if speedup < SPEEDUP_TARGET and many.load > os.cpu_count():
        results[-2].verdict += " (other load: load average above the CPU count)"
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
    root = make_course(scratch / "class-course", [ASSIGNMENT])
    kinds = make_class(root, size)
    say(f"class: {size} learners ({dict(kinds)}), lstm-grade --workers {workers}")
    graded = grade(root, ASSIGNMENT, workers)
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
    return [
        Result(
            "class",
            f"{size} learners, {workers} workers, end to end",
            f"{graded.wall:.1f} s ({size / graded.wall * 60:.0f} submissions/min), "
            f"load {graded.load:.1f}",
        ),
        Result(
            "class",
            "  per submission (mean of grades.csv seconds)",
            f"{graded.per_notebook:.2f} s, {graded.cpu_per_notebook:.2f} CPU s",
        ),
        Result(
            "class",
            "statuses in grades.csv",
            ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())),
            "as submitted",
            "OK" if statuses == expected else f"WRONG: {dict(expected)}",
        ),
    ]


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
    from lstm_grader.sandbox import SandboxKernelManager, bwrap_path

    kernel = statistics.median(
        asyncio.run(_kernel_start(SandboxKernelManager, scratch)) for _ in range(3)
    )
    where = "bubblewrap sandbox" if bwrap_path() else "no sandbox (bwrap missing)"
    install = install_step_cost(scratch)
    return [
        Result("profile", "python + import nbgrader.apps (each nbgrader run)", f"{imports:.2f} s"),
        Result(
            "profile",
            "  the same without rfc3987_syntax (jsonschema's IRI check)",
            f"{blocked:.2f} s",
        ),
        Result("profile", f"kernel start to ready and shutdown, {where}", f"{kernel:.2f} s"),
        Result(
            "profile",
            "a notebook's install step where the library is installed",
            f"{install * 1000:.0f} ms",
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
        default=os.cpu_count() or 1,
        help="workers for the class (default: the CPU count)",
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
        default=12,
        help="submissions graded with 1 and with N workers (default 12)",
    )
    parser.add_argument("--skip-book", action="store_true", help="leave out the book builds")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    size = args.class_size or (20 if args.quick else 200)
    throughput = max(args.throughput, args.per_notebook)

    started = time.perf_counter()
    load_before = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="lstm-bench-"))
    results: list[Result] = []
    sections = [
        ("profile", lambda: bench_profile(scratch)),
        ("grading", lambda: bench_grading(scratch, args.per_notebook, throughput, args.parallel)),
        ("class", lambda: bench_class(scratch, size, args.workers)),
    ]
    if not args.skip_book:
        sections.insert(0, ("book", lambda: bench_book(scratch)))
    failed = False
    try:
        for name, section in sections:
            section_started = time.perf_counter()
            try:
                results += section()
            except BenchError as exc:
                failed = True
                say(str(exc))
                results.append(Result(name, "FAILED", str(exc).splitlines()[0][:80]))
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
            f"{os.getloadavg()[0]:.2f} after; grading kernel "
            f"{'sandboxed with bubblewrap' if bwrap_path() else 'NOT sandboxed (no bwrap)'}; "
            f"Python {sys.version.split()[0]}, nbgrader {nbgrader.__version__}",
        ],
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
