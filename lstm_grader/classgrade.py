"""Grade a whole class: nbgrader's autograde per submission, in parallel, with a grades file.

Usage, from the course root (the folder holding ``nbgrader_config.py``) or a folder inside it::

    lstm-grade 05-return-flags            # one assignment, every submitted student
    lstm-grade --all --workers 4          # every assignment
    lstm-grade 05-return-flags --force    # regrade even unchanged submissions

Each submission is graded by ``nbgrader autograde ASSIGNMENT --student STUDENT``, so the
gradebook stays nbgrader's and the protections configured in ``nbgrader_config.py`` apply.
Each worker loads nbgrader once and runs every submission in a fresh child forked from it
(:mod:`lstm_grader.preloaded`); ``--process-per-submission`` starts a whole new nbgrader
process for each instead, the slower path kept for comparison. ``--scheduler ADDRESS``
grades on a Dask cluster (:mod:`lstm_grader.cluster`). One submission that crashes, hangs
or is malformed never stops the others. The results are written to ``grades.csv`` (one row
per student and notebook) and ``grades_totals.csv`` (one row per student).
"""

from __future__ import annotations

import argparse
import csv
import errno
import hashlib
import io
import json
import logging
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from lstm_grader import report, safefiles
from lstm_grader.cluster import MAX_IN_FLIGHT, ClusterGrading, InFlightLimit
from lstm_grader.course import (
    CONFIG_FILE,
    CourseLayout,
    NestedCoursesError,
    enclosing_course,
    set_aside_submissions,
)
from lstm_grader.course_settings import CourseSettingsError, checked_layout_at
from lstm_grader.grading_code import grading_code_digest
from lstm_grader.preloaded import PreloadedGrader, skip_iri_grammars
from lstm_grader.submission_guard import (
    is_safe_student_id,
    notebook_too_large,
    refused_entries,
)

GRADES_FILE = "grades.csv"
#: Held by the one ``lstm-grade`` run grading a course: two at once would write the same
#: gradebook, folders and grades files.
LOCK_FILE = ".lstm-grade.lock"
TOTALS_FILE = "grades_totals.csv"
ROW_FILE = "class-rows.json"
COLUMNS = ("student", "assignment", "notebook", "score", "max_score", "status", "reason", "seconds")

#: The statuses of notebooks that could not be scored yet: they count in no maximum total.
NOT_SCORED_YET = ("not-due-yet", "ungraded")

#: ``lstm-grade``'s exit statuses. A script running it tells "the learners' results are in
#: grades.csv" (0, whatever the learners' notebooks did) from runs an instructor must look
#: at: the grades file not written, what was graded kept (1), nothing graded (2), or
#: grades.csv written with rows where the grader itself failed (3), which the next run
#: grades again. An interruption exits 128 + the signal's number (130 for Ctrl-C, 143 for
#: SIGTERM).
EXIT_GRADES_NOT_WRITTEN = 1
EXIT_NOTHING_GRADED = 2
EXIT_GRADER_ERRORS = 3
EXIT_STATUSES = f"""exit status:
  0    every notebook has its row in {GRADES_FILE} (what the learners' notebooks did,
       refused or missing ones included, is in its status column)
  {EXIT_GRADES_NOT_WRITTEN}    the grades are in the gradebook, but {GRADES_FILE} was not written:
       it could not be, or a grader error or a course file it could not use stopped
       the run part-way (the next run grades only the rest)
  {EXIT_NOTHING_GRADED}    nothing was graded (the course, its references, the gradebook or the
       sandbox cannot be used, or another run is grading the course)
  {EXIT_GRADER_ERRORS}    {GRADES_FILE} was written, every other submission graded, but some rows
       are grader-error (the grader failed, not the learner): see their reason; the
       next run grades them again
  130, 143  interrupted (Ctrl-C, SIGTERM); {GRADES_FILE} was not written"""


#: nbgrader's entry point, started without ``rfc3987_syntax``: jsonschema imports it to
#: check IRI formats that no notebook schema uses, and compiling its grammars is a third
#: of the cost of grading one notebook. jsonschema treats the package as optional.
_NBGRADER_MAIN = (
    "import sys\n"
    "sys.modules['rfc3987_syntax'] = None\n"
    "from nbgrader.apps.nbgraderapp import main\n"
    "sys.exit(main())\n"
)


class AssignmentNotDefined(RuntimeError):
    """An assignment the gradebook does not define yet could not be defined in it."""


class GradebookRefused(RuntimeError):
    """The gradebook refused a change made to it before grading (nbgrader's
    ``InvalidEntry`` or ``MissingEntry``); the message names the change and what to do."""


@dataclass
class Row:
    """One line of ``grades.csv``: a student's notebook."""

    student: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str
    reason: str
    seconds: float

    def sort_key(self) -> tuple[str, str, str]:
        """The order of ``grades.csv``: by student, assignment, notebook."""
        return (self.student, self.assignment, self.notebook)


@dataclass(frozen=True)
class GradebookEntry:
    """What nbgrader's gradebook holds for one submitted notebook."""

    max_score: float
    score: float | None
    needs_manual_grade: bool
    manually_graded: bool


@dataclass(frozen=True)
class Submission:
    """A student's submitted folder for one assignment."""

    student: str
    assignment: str
    folder: Path


#: The share of a time limit a notebook must have waited for a CPU, while it ran in that
#: limit, to be taken for held up by the host: less than that changes no outcome but a
#: cell's that needs its whole limit even alone, which any busier host would stop too. It
#: is also the share of the limit its CPU use must have fallen short of its quota by.
HELD_UP_SHARE = 0.05


def timed_out_beside_others(notebook_report: Mapping[str, Any]) -> bool:
    """Whether a notebook that ran out of time may have done so because the host was busy.

    The grading report keeps how long the sandbox's threads waited, ready to run, for a
    CPU during the limit the notebook ran past (``timeout_cpu_wait``, from
    ``SandboxedExecute``): ``waited_seconds`` against ``limit_seconds``. A wait of at
    least :data:`HELD_UP_SHARE` of that limit means other work on the host took the
    time; a shorter one means the notebook's own cells did.

    A sandbox held to a CPU quota also waits when it keeps more processes busy than the
    quota allows: its throttling and its own threads' turns count as run delay. So where
    the report also keeps the sandbox's CPU use between the two readings
    (``used_cpu_seconds``), the seconds between them (``elapsed_seconds``) and its quota
    (``cpus``), it was held up only if that use also fell short of ``cpus ×
    elapsed_seconds`` by at least :data:`HELD_UP_SHARE` of the limit: a sandbox that
    used all the CPU it may was not held up, however long it waited, and grading it
    again would only cost its limit twice. A report without them (no control group
    counted the use or held the quota; a report from before them) decides by the wait
    alone. Where nothing was measured (the whole submission ran past ``--timeout``, a
    report from before the measure), it may have been the host.

    Examples
    --------
    >>> timed_out_beside_others({"timeout_cpu_wait": {"limit_seconds": 30, "waited_seconds": 0.2}})
    False
    >>> timed_out_beside_others({"timeout_cpu_wait": {"limit_seconds": 30, "waited_seconds": 12}})
    True
    >>> timed_out_beside_others({})
    True

    Two busy processes in a one-core sandbox wait half the time, yet use their whole core:

    >>> busy = {"used_cpu_seconds": 29.9, "elapsed_seconds": 30.1, "cpus": 1.0}
    >>> timed_out_beside_others(
    ...     {"timeout_cpu_wait": {"limit_seconds": 30, "waited_seconds": 30.0, **busy}}
    ... )
    False

    One held up by the host got only part of its core:

    >>> starved = {"used_cpu_seconds": 14.0, "elapsed_seconds": 30.1, "cpus": 1.0}
    >>> timed_out_beside_others(
    ...     {"timeout_cpu_wait": {"limit_seconds": 30, "waited_seconds": 16.0, **starved}}
    ... )
    True
    """
    measured = notebook_report.get("timeout_cpu_wait")
    if not isinstance(measured, Mapping):
        return True
    waited, limit = measured.get("waited_seconds"), measured.get("limit_seconds")
    if not isinstance(waited, int | float) or not isinstance(limit, int | float):
        return True
    if waited < HELD_UP_SHARE * limit:
        return False
    used, elapsed, cpus = (
        measured.get(key) for key in ("used_cpu_seconds", "elapsed_seconds", "cpus")
    )
    if not all(isinstance(value, int | float) for value in (used, elapsed, cpus)):
        return True
    return cpus * elapsed - used >= HELD_UP_SHARE * limit


def find_submissions(layout: CourseLayout, assignments: Iterable[str]) -> list[Submission]:
    """Every submitted folder (``submitted/<student>/<assignment>/`` by default) of the
    given assignments, by student then assignment (see :meth:`CourseLayout.submissions`).

    Raises
    ------
    OSError
        When the folder the submissions are listed from (``submitted/``) is there but
        cannot be listed.
    """
    found = [
        Submission(student, assignment, folder)
        for assignment in set(assignments)
        for student, folder in layout.submissions(assignment)
    ]
    return sorted(found, key=lambda s: (s.student, s.assignment))


#: Grading workers per core by default. A worker's forked child and its kernel take turns
#: (the child waits while a cell runs, the kernel while nbgrader checks and writes), so
#: one worker per core leaves cores idle: on a full 2-core host, with each kernel started
#: cold, 4 workers graded 24 notebooks in 10.2 s, 3 in 10.6 s and 2 in 12.7 s (means of
#: three runs). Kernels started ahead (a root grader's default) fill much of that idle
#: time themselves: 4 workers then took 11.0 s and 2 took 11.3 s, still no slower.
WORKERS_PER_CORE = 2


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(kernel_memory_mb: int | None = None) -> int:
    """How many submissions ``lstm-grade`` grades at once by default.

    :data:`WORKERS_PER_CORE` for each core this process may run on, and no more than the
    memory it may use (the host's, or its container's) holds kernels of
    ``kernel_memory_mb`` each (default: the sandbox's default memory limit); at least one.
    """
    if kernel_memory_mb is None:
        from lstm_grader.sandbox import SandboxKernelManager

        kernel_memory_mb = SandboxKernelManager.memory_limit_mb.default_value
    workers = WORKERS_PER_CORE * usable_cores()
    memory = _memory_bytes()
    if kernel_memory_mb and memory:
        workers = min(workers, memory // (kernel_memory_mb * 2**20))
    return max(1, workers)


def _memory_bytes() -> int | None:
    """The memory this process may use: the host's, or less where its control group says."""
    from lstm_grader.cgroups import memory_limit

    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        physical = None
    known = [n for n in (physical, memory_limit()) if n]
    return min(known, default=None)


#: Environment settings that change how grading runs (the sandbox, the gradebook).
GRADING_SETTINGS = ("NBGRADER_DB_URL", "LSTM_GRADER_UNSAFE_NO_SANDBOX", "LSTM_GRADER_BWRAP")


def fingerprint(
    layout: CourseLayout,
    submission: Submission,
    *,
    code: str | None = None,
    settings: dict[str, str] | None = None,
) -> str:
    """A hash of everything a grade depends on.

    The submission's files, the assignment's source and released notebooks (the sanitize
    step compares with the release), its references, ``nbgrader_config.py``, the grading
    code and its versions (``code``, default
    :func:`~lstm_grader.grading_code.grading_code_digest`), and the
    settings that change how it runs (``settings``, default the :data:`GRADING_SETTINGS`
    in the environment). Change any of them and ``lstm-grade`` regrades.
    """
    root = layout.root
    digest = hashlib.sha256()
    paths = sorted(p for p in submission.folder.rglob("*") if p.is_file() and not p.is_symlink())
    for folder in (layout.source(submission.assignment), layout.release(submission.assignment)):
        paths += sorted(folder.rglob("*.ipynb"))
    paths += [layout.references_file(submission.assignment), root / CONFIG_FILE]
    for path in paths:
        if path.is_file():
            # one record of fixed layout per file: name and content run together could
            # move bytes from one file's content into the next one's name and hash alike
            name = os.fsencode(path.relative_to(root))  # names need not be UTF-8
            size = path.stat().st_size
            if size > safefiles.MAX_FILE_BYTES:
                # never read for grading, so its size stands for it (a sparse file may
                # claim terabytes)
                content = b"size " + str(size).encode()
            else:
                content = b"sha256 " + hashlib.sha256(safefiles.read_bytes(path)).digest()
            digest.update(len(name).to_bytes(8, "big") + name + content + b"\n")
    digest.update((code if code is not None else grading_code_digest(root)).encode())
    if settings is None:
        settings = {name: os.environ.get(name, "") for name in GRADING_SETTINGS}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def readable_notebook(path: Path) -> str | None:
    """Why a notebook cannot be graded (a link or special file, too large, unreadable
    JSON, invalid schema), or None."""
    import nbformat

    invalid: dict[str, Exception] = {}
    text = ""
    try:
        text = safefiles.read_text(path)
        # reads validates the notebook (once) and hands back the schema error, if any
        nb = nbformat.reads(text, as_version=4, capture_validation_error=invalid)
        if "ValidationError" in invalid:
            raise invalid["ValidationError"]
        if problem := notebook_too_large(nb):
            return problem
        # JSON may spell a lone surrogate (\ud800), which no UTF-8 file can hold: nbgrader
        # would read the notebook and fail writing the graded copy
        json.dumps(nb, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError:
        return _not_utf8(path)
    except Exception as exc:  # nbformat raises many kinds; all mean "not a notebook"
        return _not_a_notebook(text) or (
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        )
    return None


#: What to do about a notebook file Jupyter itself cannot open: its text is not as Jupyter
#: writes it, so the learner's own download from Jupyter is the one to grade.
_DOWNLOAD_AGAIN = "have the learner download the notebook again from Jupyter"


def _not_utf8(path: Path) -> str:
    """Why a notebook that is not UTF-8 text cannot be graded, naming UTF-16 (an editor's
    "Unicode" save) when its byte-order mark says so."""
    start = safefiles.read_bytes(path)[:2]
    encoding = "UTF-16 text" if start in (b"\xff\xfe", b"\xfe\xff") else "not UTF-8 text"
    return (
        f"UnicodeDecodeError: the file is {encoding}, and Jupyter reads and writes notebooks "
        f"as UTF-8 only: {_DOWNLOAD_AGAIN}"
    )


def _not_a_notebook(text: str) -> str | None:
    """What JSON that nbformat refused holds instead of a notebook, in words (nbformat's
    own error for a list is about a missing attribute, for ``{}`` about version 1)."""
    if text.startswith("\ufeff"):
        # an editor's "UTF-8 with BOM": json and Jupyter refuse the mark before the JSON
        return (
            "NotJSONError: the file starts with a byte-order mark (U+FEFF) before its JSON, "
            f"which Jupyter cannot read: {_DOWNLOAD_AGAIN}, or save it as UTF-8 without one"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None  # not JSON at all: nbformat's error says where
    if not isinstance(data, dict):
        kinds = {
            list: "a JSON array",
            str: "a JSON string",
            bool: "JSON true or false",
            type(None): "JSON null",
        }
        held = kinds.get(type(data), "a JSON number")
        return f"NotJSONError: the file holds {held}, not a notebook"
    if "nbformat" not in data:
        return "NotJSONError: the file is JSON but not a notebook (it has no nbformat version)"
    return None


class ClassGrader:
    """Grade submissions with nbgrader in parallel and collect one row per notebook."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int,
        force: bool,
        timeout: int,
        db_url: str | None = None,
        process_per_submission: bool = False,
        scheduler: str | None = None,
        warm_kernels: bool = True,
    ) -> None:
        from lstm_grader.sandbox import kernels_share_a_process_limit

        kernels_take_turns = not scheduler and kernels_share_a_process_limit()
        if workers > 1 and kernels_take_turns:
            # one kernel's threads would take the room of the kernel graded beside it, whose
            # right answers would then fail: a grade must not depend on who was graded at
            # the same time
            print(
                "Grading one submission at a time: the kernels would share one limit on "
                "processes (the grader is not root and has no control group of its own)",
                flush=True,
            )
            workers = 1
        self.root = root
        self.warm_kernels = warm_kernels
        # where the kernels note their waits for the user's turn, which another grader of
        # the user may hold for a whole notebook: --timeout does not count them
        self._turn_waits: Path | None = None
        if kernels_take_turns:
            self._turn_waits = Path(tempfile.mkdtemp(prefix="lstm-grade-turn-waits-")) / "waits"
            self._turn_waits.touch(mode=0o600)
        self._idle_graders: list[PreloadedGrader] = []
        self._every_grader: list[PreloadedGrader] = []
        self._graders_lock = threading.Lock()
        self._cluster: ClusterGrading | None = None
        if not (process_per_submission or scheduler):
            # the helpers load nbgrader while this process reads the course's config
            self._idle_graders = [self._new_grader() for _ in range(workers)]
            for grader in self._idle_graders:
                grader.start()
        try:
            # every setting of the course's own is checked here, as the layout is made: a
            # misspelt one is a CourseSettingsError, whose one line lstm-grade prints
            self.layout = checked_layout_at(root)
        except BaseException:
            self.close()  # the helpers just started are not left running
            raise
        self.workers = workers
        self.force = force
        self.timeout = timeout
        self.db_url = db_url
        self.process_per_submission = process_per_submission
        self._code_digest = grading_code_digest(root)
        # the submissions graded in this run (not read back from an earlier one)
        self._graded_now: set[tuple[str, str]] = set()
        #: Whether :meth:`grade_all` has begun grading submissions (the gradebook is
        #: prepared): from then on, what stops the run leaves some graded.
        self.grading_began = False
        # the SQLite gradebook file whose pages this run checked (gradebook_guard)
        self._pages_checked: str | None = None
        if scheduler:
            self._cluster = ClusterGrading(
                scheduler, self.layout, self.db_url or self.layout.db_url
            )

    def _settings(self) -> dict[str, str]:
        settings = {name: os.environ.get(name, "") for name in GRADING_SETTINGS}
        if self.db_url:
            settings["NBGRADER_DB_URL"] = self.db_url
        return settings

    # ---------------------------------------------------------------- one submission
    def grade(self, submission: Submission, *, again: bool = False) -> list[Row]:
        """Grade one submission (unless nothing it depends on changed, or ``again``) and
        return its rows.

        What grading found about the learner's work (a notebook missing or unreadable, a
        timeout) is kept with the fingerprint; a failure of the grader's own is not, so the
        next run grades the submission again. The scores and the manual-grading state are
        read from the gradebook every time, so a score given by hand in the formgrader
        shows here.
        """
        refused = self._refusal(submission)
        if refused is not None:
            # Nothing is graded or forgotten under a name that is not an id (see _refusal).
            learners_own = any("refused" in fact for fact in refused.values())
            if learners_own and is_safe_student_id(submission.student):
                self._forget_grades(submission)
            return self._rows(submission, refused)
        state_file = self._state_file(submission)
        stamp = fingerprint(
            self.layout, submission, code=self._code_digest, settings=self._settings()
        )
        saved = None if self.force or again else self._saved_grading(submission)
        if saved is not None and saved["fingerprint"] == stamp:
            entries = self._held_entries(submission, saved["facts"])
            if entries is not None:
                return self._rows(submission, saved["facts"], entries)
        self._graded_now.add((submission.student, submission.assignment))
        # what a run killed outright while it wrote this submission's record left beside it
        safefiles.remove_leftovers(state_file.parent)
        # a feedback page shows the grading this one replaces; generate_feedback, which
        # skips a page that exists, then makes it anew from this grading
        safefiles.remove_tree(self.layout.feedback(submission.student, submission.assignment))
        failed = True
        try:
            facts = self._run(submission)
            failed = any("grader_failure" in fact for fact in facts.values())
        finally:
            if failed:
                # the grader's failure, not the learner's (an interrupted run, a helper
                # that died, a broken setup): the next run grades this submission again,
                # and what nbgrader left of this run is no grading to make feedback from
                state_file.unlink(missing_ok=True)
                safefiles.remove_tree(
                    self.layout.autograded(submission.student, submission.assignment)
                )
        if not failed:
            safefiles.write_text(
                state_file, json.dumps({"fingerprint": stamp, "facts": facts}, indent=1)
            )
        return self._rows(submission, facts)

    def _held_entries(
        self, submission: Submission, facts: dict[str, dict[str, Any]]
    ) -> dict[str, GradebookEntry] | None:
        """The gradebook's entry for each notebook of an earlier run's ``facts``, or None
        when it no longer holds a score for one that run graded: a gradebook deleted, or
        replaced by another, since then has none, and the submission is graded again
        rather than reported as a grader error."""
        entries = {notebook: self._gradebook_entry(submission, notebook) for notebook in facts}
        if any(
            fact.get("graded") and entries[notebook].score is None
            for notebook, fact in facts.items()
        ):
            return None
        return entries

    def setup_problems(self, submissions: Iterable[Submission]) -> list[str]:
        """What in the course stops every submission of ``submissions`` from being graded,
        one line each, checked before any is: an assignment's references that are missing
        or unreadable, a gradebook that holds another course's grades, and sandbox limits
        this process may not give its kernels. (A setting of the course's own that cannot
        be used stopped the run as the layout was made.)"""
        from lstm_grader.references import load_references

        problems: list[str] = []
        for assignment in sorted({submission.assignment for submission in submissions}):
            try:
                load_references(self.layout.references_file(assignment).parent, assignment)
            except (OSError, ValueError) as exc:  # ReferenceFileError is a ValueError
                problems.append(str(exc))
        if problem := self._unusable_gradebook():
            problems.append(problem)
        if problem := self._kernel_limits_out_of_reach():
            problems.append(problem)
        return problems

    def _kernel_limits_out_of_reach(self) -> str | None:
        """Why no kernel started here could be given the sandbox's limits for each process,
        or None (:func:`lstm_grader.sandbox.limits_out_of_reach`). A cluster's workers
        start their kernels under their own limits, and check them there."""
        from lstm_grader.sandbox import ProcessLimits, SandboxKernelManager, limits_out_of_reach

        if self._cluster is not None:
            return None
        kernels = SandboxKernelManager(config=self.layout.config)
        return limits_out_of_reach(ProcessLimits.of(kernels))

    def _unusable_gradebook(self) -> str | None:
        """Why the gradebook cannot be written now (locked, read-only, damaged, emptied,
        not nbgrader's, another course's), or None; one this run makes (no SQLite file
        yet, or a new empty server database) is none.

        A SQLite file's pages are read whole here, once per run: the nbgrader runs this
        one starts are told so (:meth:`_env`), and check the rest only."""
        from lstm_grader.gradebook_guard import gradebook_problem, pages_checked_mark

        db_url = self.db_url or self.layout.db_url
        problem = gradebook_problem(
            db_url,
            write=True,
            new_allowed=True,
            course_id=self.layout.coursedir.course_id,
        )
        self._pages_checked = None if problem else pages_checked_mark(db_url)
        return problem

    def _refusal(self, submission: Submission) -> dict[str, dict[str, Any]] | None:
        """Why the grader will not open a submission, per notebook (each a fact of
        :meth:`_row`: ``refused``, or ``grader_failure`` where the fault is not the
        learner's), or None."""
        if not is_safe_student_id(submission.student):
            # nbgrader reads --student as a pattern: `*` would grade, and rewrite, other
            # learners' work, and a leading `-` is read as an option
            why = (
                f"the folder name {report.printable(submission.student)!r} is not a student "
                "id the grader can hand to nbgrader (ASCII letters, digits and _ . - @, not "
                "starting with . - or @, without .., at most 128 characters): rename the "
                "folder to the learner's id"
            )
            return self._refused_all(submission, why)
        where = report.printable(os.path.relpath(submission.folder, self.root))
        try:
            mode = os.lstat(submission.folder).st_mode
        except PermissionError as exc:  # a folder above it the grader may not enter
            return self._refused_all(
                submission,
                f"the grader cannot reach {where} ({exc.strerror}): let it enter the "
                "folders above it, then run lstm-grade again",
            )
        except OSError:  # gone since it was listed, or set aside by a killed collection
            if aside := set_aside_submissions(submission.folder):
                # the instructor's collection failed, not the learner: no grade is
                # forgotten, and the folder put back is graded as it was
                why = (
                    f"{where} is not there: a collection (nbgrader zip_collect or collect) "
                    "was killed as it replaced it, and left the submission collected before "
                    f"in {report.printable(os.path.relpath(aside[0], self.root))}; "
                    "collecting again puts it back first (or rename it back to "
                    f"{report.printable(submission.folder.name)}), then run lstm-grade again"
                )
                return self._refused_all(submission, why, fact="grader_failure")
            mode = 0
        if not stat.S_ISLNK(mode) and not stat.S_ISDIR(mode):
            return self._refused_all(submission, f"{where} is not a folder")
        unsafe = refused_entries(submission.folder)
        if unsafe:
            why = "the grader will not open these entries: " + "; ".join(unsafe[:5])
            return self._refused_all(submission, why)
        return None

    def recorded_rows(self, assignments: Iterable[str]) -> list[Row]:
        """The rows the last grading of ``assignments`` left, grading nothing: each graded
        submission's saved facts with the gradebook's scores now, refusals, ``ungraded``
        rows for the submissions never graded, and the roster's rows (:meth:`roster_rows`).

        A run that grades some assignments writes these beside its own, so the grades
        files always hold every learner for every released assignment. A submission handed
        in since its last grading keeps that grading's row until its assignment is graded
        again.
        """
        assignments = sorted(set(assignments))
        submissions = find_submissions(self.layout, assignments)
        rows: list[Row] = []
        # read once per assignment, not once per learner's submission
        max_scores: dict[str, dict[str, float]] = {}
        for submission in submissions:
            # one learner's record that cannot be turned into rows is their grader error,
            # as in grading: the others' rows and the grades files are still written
            rows += self._rows_of(
                partial(self._recorded_rows_of, submission, max_scores), submission
            )
        submitted = {(s.student, s.assignment) for s in submissions}
        rows += self.roster_rows(assignments, submitted, max_scores)
        return rows

    def _recorded_rows_of(
        self, submission: Submission, max_scores: dict[str, dict[str, float]]
    ) -> list[Row]:
        """The rows the last grading of one submission left (see :meth:`recorded_rows`)."""
        facts = self._refusal(submission)
        if facts is None:
            saved = self._saved_grading(submission)
            if saved is None:
                return self._ungraded_rows(submission, max_scores)
            facts = saved["facts"]
        return self._rows(submission, facts)

    def _saved_grading(self, submission: Submission) -> dict[str, Any] | None:
        """The fingerprint and facts the last grading of ``submission`` saved, or None
        where it saved none, or its record is not one (cut short, edited by hand): such a
        submission is graded again, never left a grader error at every run.

        Raises
        ------
        OSError
            If the record is there but cannot be read (a folder's permissions, a disk
            error): grading again would not mend that.
        """
        try:
            saved = json.loads(safefiles.read_text(self._state_file(submission)))
        except (FileNotFoundError, ValueError):  # none, or not UTF-8 or not JSON
            return None
        if (
            isinstance(saved, dict)
            and isinstance(saved.get("fingerprint"), str)
            and isinstance(saved.get("facts"), dict)
            and all(isinstance(fact, dict) for fact in saved["facts"].values())
        ):
            return saved
        return None

    def _ungraded_rows(
        self, submission: Submission, max_scores: dict[str, dict[str, float]]
    ) -> list[Row]:
        """The rows of a submission its assignment's grading has not reached yet.
        ``max_scores`` holds each assignment's :meth:`_max_scores` read so far in this run,
        and gains this one's if it is not there yet."""
        assignment = submission.assignment
        if assignment not in max_scores:
            max_scores[assignment] = self._max_scores(assignment)
        ungraded = report.notebook_outcome(graded_yet=False)
        return self._unscored_rows(submission, ungraded, max_scores[assignment])

    def _unscored_rows(
        self,
        submission: Submission,
        outcome: report.Outcome,
        max_scores: Mapping[str, float] | None,
    ) -> list[Row]:
        """A row of 0 points with ``outcome``'s status and reason for each notebook of
        ``submission``'s assignment; its notebooks' maximum scores from ``max_scores``
        (:meth:`_max_scores`), or 0 where it is None."""
        assignment = submission.assignment
        return [
            Row(
                submission.student,
                assignment,
                name,
                0.0,
                max_scores[name] if max_scores is not None else 0.0,
                outcome.status,
                outcome.reason,
                0.0,
            )
            for name in self.layout.notebooks(assignment)
        ]

    @staticmethod
    def _notebooks_instead(submission: Submission, expected: list[str]) -> list[str]:
        """The notebooks a submission holds that the assignment does not name."""
        return sorted(
            entry.name
            for entry in submission.folder.iterdir()
            if entry.name.endswith(".ipynb") and entry.name[: -len(".ipynb")] not in expected
        )

    def _refused_all(
        self, submission: Submission, why: str, fact: str = "refused"
    ) -> dict[str, dict[str, Any]]:
        """``why`` as each notebook's ``fact`` (see :meth:`_refusal`)."""
        return {name: {fact: why} for name in self.layout.notebooks(submission.assignment)}

    def _run(self, submission: Submission) -> dict[str, dict[str, Any]]:
        """Autograde a submission; return what happened to each of its notebooks."""
        started = time.monotonic()
        notebooks = self.layout.notebooks(submission.assignment)
        facts: dict[str, dict[str, Any]] = {}
        for name in notebooks:
            path = submission.folder / f"{name}.ipynb"
            if not path.exists():
                facts[name] = {"submitted": False}
                if instead := self._notebooks_instead(submission, notebooks):
                    facts[name]["notebooks_instead"] = instead
            elif problem := readable_notebook(path):
                facts[name] = {"unreadable": problem}
            else:
                facts[name] = {}
        graded_for: float | None = None
        if any(not fact for fact in facts.values()):
            outcome, log, graded_for = self._autograde(submission)
            safefiles.write_text(self._state_file(submission).with_name("autograde.log"), log)
            for fact in facts.values():
                if fact:
                    continue
                if outcome == "timed-out":
                    fact["timed_out"] = log
                elif outcome == "crashed":
                    fact["grader_failure"] = "nbgrader could not grade it: " + _last_line(log)
                else:
                    fact["graded"] = True
        else:
            self._forget_grades(submission)
        # on a cluster, the worker's own time: the wait in its queue is not grading
        elapsed = round(graded_for or (time.monotonic() - started), 2)
        for fact in facts.values():
            fact["seconds"] = elapsed
        return facts

    def _rows(
        self,
        submission: Submission,
        facts: dict[str, dict[str, Any]],
        entries: Mapping[str, GradebookEntry] | None = None,
    ) -> list[Row]:
        """One row per notebook: the saved facts, the gradebook's scores (its ``entries``
        when already read), the report."""
        return [
            self._row(submission, name, fact, (entries or {}).get(name))
            for name, fact in facts.items()
        ]

    def _row(
        self,
        submission: Submission,
        notebook: str,
        fact: dict[str, Any],
        entry: GradebookEntry | None = None,
    ) -> Row:
        if entry is None:
            entry = self._gradebook_entry(submission, notebook)
        graded = bool(fact.get("graded"))
        failure = fact.get("grader_failure")
        if graded and entry.score is None:
            failure = "nbgrader recorded no score for it (see autograde.log)"
        decided = report.notebook_outcome(
            refused=fact.get("refused"),
            submitted=fact.get("submitted", True),
            notebooks_instead=fact.get("notebooks_instead", ()),
            unreadable=fact.get("unreadable"),
            timed_out=fact.get("timed_out"),
            grader_failure=failure,
            report=report.read_report(
                self.layout.report_file(submission.student, submission.assignment, notebook)
            )
            if graded
            else None,
            needs_manual_grade=entry.needs_manual_grade,
            manually_graded=entry.manually_graded,
        )
        counted = graded and failure is None and entry.score is not None
        return Row(
            submission.student,
            submission.assignment,
            notebook,
            entry.score if counted else 0.0,
            entry.max_score,
            decided.status,
            decided.reason,
            float(fact.get("seconds", 0.0)),
        )

    def _forget_grades(self, submission: Submission) -> None:
        """Drop an earlier grade of a submission that can no longer be graded, so the
        gradebook, ``nbgrader export`` and the feedback agree with ``grades.csv``. The
        learner stays known to the gradebook, so the export lists them with 0."""
        from nbgrader.api import MissingEntry

        with self._gradebook() as gradebook:
            try:
                gradebook.remove_submission(submission.assignment, submission.student)
            except MissingEntry:
                pass
            gradebook.update_or_create_student(submission.student)
        for folder in (
            self.layout.autograded(submission.student, submission.assignment),
            self.layout.feedback(submission.student, submission.assignment),
        ):
            safefiles.remove_tree(folder)

    def _state_file(self, submission: Submission) -> Path:
        return self.layout.reports(submission.student, submission.assignment) / ROW_FILE

    def _autograde(self, submission: Submission) -> tuple[str, str, float | None]:
        """Run ``nbgrader autograde`` for one submission: ``(outcome, log, seconds)``, the
        outcome ``ran``, ``crashed`` or ``timed-out``, and the seconds a cluster worker
        spent on it (None when graded here)."""
        env = self._env()
        env.pop("NBGRADER_EXECUTION", None)
        if self._cluster is not None:
            from lstm_grader.sandbox import unsafe_allowed

            return self._cluster.autograde(
                submission.student, submission.assignment, self.timeout, unsafe_allowed()
            )
        argv = ["autograde", submission.assignment, "--student", submission.student, "--force"]
        if self.process_per_submission:
            return (*self._autograde_in_new_process(argv, env), None)
        with self._preloaded_grader() as grader:
            return (
                *grader.run(
                    argv,
                    cwd=self.root,
                    env=env,
                    timeout=self.timeout,
                    gradebook=self.db_url or self.layout.db_url,
                ),
                None,
            )

    def _new_grader(self) -> PreloadedGrader:
        grader = PreloadedGrader(cwd=self.root, warm_kernels=self.warm_kernels)
        with self._graders_lock:
            self._every_grader.append(grader)
        return grader

    @contextmanager
    def _preloaded_grader(self) -> Iterator[PreloadedGrader]:
        """A helper with nbgrader loaded, for one submission at a time: at most one per
        worker thread is ever started, and each is reused until :meth:`close`."""
        with self._graders_lock:
            grader = self._idle_graders.pop() if self._idle_graders else None
        grader = grader or self._new_grader()
        try:
            yield grader
        finally:
            with self._graders_lock:
                self._idle_graders.append(grader)

    def stop_grading(self) -> None:
        """Stop the submissions being graded now (an interrupted run): their helpers are
        killed, with the nbgrader runs and kernels they started, and a cluster's client is
        closed. Each ends as a grader failure, which :meth:`grade` never keeps, so the next
        run grades it again."""
        with self._graders_lock:
            graders = list(self._every_grader)
        for grader in graders:
            grader.kill()
        if self._cluster is not None:  # its waits for results end when the client does
            self._cluster.close()

    def close(self) -> None:
        """Stop the preloaded helpers and leave the cluster."""
        with self._graders_lock:
            graders, self._idle_graders = self._idle_graders, []
        for grader in graders:
            grader.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._turn_waits is not None:
            shutil.rmtree(self._turn_waits.parent, ignore_errors=True)

    def _autograde_in_new_process(self, argv: list[str], env: dict[str, str]) -> tuple[str, str]:
        from lstm_grader.preloaded import looks_until_timeout
        from lstm_grader.sandbox import TURN_WAITS_ENV

        command = [
            sys.executable,
            "-c",
            _NBGRADER_MAIN,
            *argv,
        ]
        with subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            for look in looks_until_timeout(self.timeout, process.pid, env.get(TURN_WAITS_ENV)):
                try:
                    stdout, stderr = process.communicate(timeout=look)
                    break
                except subprocess.TimeoutExpired:
                    continue
            else:
                process.kill()
                process.communicate()
                return "timed-out", f"grading took longer than {self.timeout} s"
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        log = f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}"
        if result.returncode != 0:
            return "crashed", log
        return "ran", log

    # ---------------------------------------------------------------- gradebook reads
    def _gradebook(self):
        from nbgrader.api import Gradebook

        from lstm_grader import gradebook_engines

        # one engine for the rows of every submission, not one per notebook's row
        gradebook_engines.install()
        return Gradebook(self.db_url or self.layout.db_url)

    def _gradebook_entry(self, submission: Submission, notebook: str) -> GradebookEntry:
        """What the gradebook holds for one submitted notebook, read in one visit."""
        from nbgrader.api import MissingEntry

        with self._gradebook() as gradebook:
            try:
                max_score = float(
                    gradebook.find_notebook(notebook, submission.assignment).max_score
                )
            except MissingEntry:
                return GradebookEntry(0.0, None, False, False)
            try:
                found = gradebook.find_submission_notebook(
                    notebook, submission.assignment, submission.student
                )
            except MissingEntry:
                return GradebookEntry(max_score, None, False, False)
            return GradebookEntry(
                max_score,
                float(found.score),
                bool(found.needs_manual_grade),
                any(grade.manual_score is not None for grade in found.grades),
            )

    def roster_rows(
        self,
        assignments: Iterable[str],
        submitted: set[tuple[str, str]],
        max_scores: dict[str, dict[str, float]] | None = None,
    ) -> list[Row]:
        """A row per notebook for every learner the gradebook knows who handed in nothing
        for an assignment: ``not-due-yet`` while its due date (with the learner's
        extension) is still to come, else ``missing``.

        An assignment the gradebook does not know yet (released, never graded) has no due
        date, and its notebooks' maximum scores are read from its student version.
        ``max_scores`` holds each assignment's :meth:`_max_scores` the caller read in this
        run (:meth:`recorded_rows`), and gains those read here: an assignment's are read
        once per run.
        """
        assignments = set(assignments)
        now = datetime.now(UTC).replace(tzinfo=None)  # nbgrader's dates are UTC
        with self._gradebook() as gradebook:
            students = sorted(student.id for student in gradebook.students)
            due: dict[tuple[str, str], datetime] = {}
            for known in gradebook.assignments:
                if known.name not in assignments or known.duedate is None:
                    continue
                for student in students:
                    due[known.name, student] = known.duedate
                for handed in known.submissions:  # where an extension was given
                    if handed.extension is not None:
                        due[known.name, handed.student.id] = known.duedate + handed.extension
        read = {} if max_scores is None else max_scores
        rows = []
        for assignment in sorted(assignments):
            absent = [student for student in students if (student, assignment) not in submitted]
            if absent and assignment not in read:
                read[assignment] = self._max_scores(assignment)
            for name, max_score in (read[assignment] if absent else {}).items():
                for student in absent:
                    deadline = due.get((assignment, student))
                    outcome = report.notebook_outcome(
                        submitted=False,
                        assignment_submitted=False,
                        due_later=(
                            f"{deadline:%Y-%m-%d %H:%M} UTC"
                            if deadline is not None and deadline > now
                            else None
                        ),
                    )
                    rows.append(
                        Row(
                            student,
                            assignment,
                            name,
                            0.0,
                            max_score,
                            outcome.status,
                            outcome.reason,
                            0.0,
                        )
                    )
        return rows

    def _max_scores(self, assignment: str) -> dict[str, float]:
        """Each notebook of ``assignment`` (in :meth:`CourseLayout.notebooks` order) with its
        maximum score, the same for every learner, read in one gradebook visit: the
        gradebook's, or, for a notebook it does not know yet, the points of its student
        version's cells (0 where there is no student version)."""
        from nbgrader.api import MissingEntry

        with self._gradebook() as gradebook:
            try:
                known = {
                    notebook.name: float(notebook.max_score)
                    for notebook in gradebook.find_assignment(assignment).notebooks
                }
            except MissingEntry:
                known = {}
        return {
            name: known.get(name) or self._release_max_score(assignment, name)
            for name in self.layout.notebooks(assignment)
        }

    def _release_max_score(self, assignment: str, notebook: str) -> float:
        """The points of a notebook's student version's cells; 0 without a student version."""
        from nbgrader import utils

        if not (path := self.layout.release(assignment)).is_dir():
            return 0.0
        import nbformat

        cells = nbformat.read(path / f"{notebook}.ipynb", as_version=nbformat.NO_CONVERT).cells
        return float(
            sum(
                float(cell.metadata.nbgrader.get("points") or 0)
                for cell in cells
                if utils.is_grade(cell) or utils.is_task(cell)
            )
        )

    # ---------------------------------------------------------------- the class
    def grade_all(
        self,
        submissions: list[Submission],
        progress: bool = True,
        assignments: Iterable[str] | None = None,
    ) -> list[Row]:
        """Grade every submission with ``workers`` parallel nbgrader processes.

        Every learner the gradebook knows who submitted nothing for one of ``assignments``
        (default: those of the submissions) gets ``missing`` rows.
        """
        assignments = set(assignments or ()) | {s.assignment for s in submissions}
        refused = self._prepare_gradebook(assignments, {s.student for s in submissions})
        self.grading_began = True
        graded: dict[tuple[str, str], list[Row]] = {}
        for submission in submissions:
            if submission.student in refused:  # a grader error: the next run tries again
                outcome = report.notebook_outcome(grader_failure=refused[submission.student])
                graded[submission.student, submission.assignment] = self._unscored_rows(
                    submission, outcome, None
                )
        failed = len(graded)
        to_grade = [s for s in submissions if s.student not in refused]
        bar = _progress_bar(len(to_grade), progress)
        grade: Callable[[Submission], list[Row]] = self.grade
        grade_again: Callable[[Submission], list[Row]] = partial(self.grade, again=True)
        threads = self.workers
        if self._cluster:
            # workers that join the cluster mid-run get work: the limit follows its size
            limit = InFlightLimit(self._cluster.slots)
            threads = max(1, min(len(to_grade), MAX_IN_FLIGHT))
            grade = partial(limit.run, self.grade)
            grade_again = partial(limit.run, grade_again)
        with _closing(self), ThreadPoolExecutor(max_workers=threads) as pool:
            futures = {pool.submit(grade, s): s for s in to_grade}
            try:
                for future in as_completed(futures):
                    submission = futures[future]
                    new_rows = self._rows_of(future.result, submission)
                    graded[submission.student, submission.assignment] = new_rows
                    failed += any(r.status not in report.GRADED_STATUSES for r in new_rows)
                    bar.update(1)
                    bar.set_postfix(done=bar.n, failed=failed, remaining=len(to_grade) - bar.n)
                if threads > 1:
                    self._grade_timed_out_alone(to_grade, graded, grade_again)
            except KeyboardInterrupt:  # or SIGTERM (see main): stop now, then leave
                pool.shutdown(wait=False, cancel_futures=True)
                self.stop_grading()
                raise
        bar.close()
        rows = [row for new_rows in graded.values() for row in new_rows]
        rows += self.roster_rows(assignments, {(s.student, s.assignment) for s in submissions})
        return sorted(rows, key=Row.sort_key)

    def _rows_of(self, graded: Callable[[], list[Row]], submission: Submission) -> list[Row]:
        """The rows ``graded()`` returns, or a grader failure's if it raised."""
        try:
            return graded()
        except Exception as exc:  # a grader bug must not stop the class
            return self._crashed_rows(submission, exc)

    def _grade_timed_out_alone(
        self,
        submissions: list[Submission],
        graded: dict[tuple[str, str], list[Row]],
        grade_again: Callable[[Submission], list[Row]],
    ) -> None:
        """Grade again, one at a time, each submission that ran out of time in this run
        while others were graded beside it and held it up; its second rows stand. One whose
        rows were read back from an earlier run stands as it is.

        A cell's limit is wall-clock time, and other learners' kernels, each within its own
        CPU limit, share the cores with it: three classmates' busy loops made an honest
        notebook, 10 of 10 alone, run out of time and score 0. A grade must not depend on
        who was graded at the same time. A notebook that ran out of time without waiting
        for a CPU (an endless loop on a host with cores to spare, a cell waiting for input)
        would run out of it alone too: it is not graded again, and costs its time limit
        once (:func:`timed_out_beside_others`).
        """
        if len(self._graded_now) < 2:
            return  # nothing was graded beside anything
        late = [
            s
            for s in submissions
            if (s.student, s.assignment) in self._graded_now
            and any(
                row.status == "timed-out"
                and timed_out_beside_others(
                    report.read_report(
                        self.layout.report_file(s.student, s.assignment, row.notebook)
                    )
                )
                for row in graded[s.student, s.assignment]
            )
        ]
        if late:
            print(
                f"Grading again, one at a time, {len(late)} submission(s) that ran out of "
                "time while others were graded beside them",
                flush=True,
            )
        for submission in late:
            graded[submission.student, submission.assignment] = self._rows_of(
                partial(grade_again, submission), submission
            )

    def _crashed_rows(self, submission: Submission, exc: Exception) -> list[Row]:
        """The rows of a submission whose grading raised: a grader failure, 0 points."""
        crashed = report.notebook_outcome(grader_failure=f"{type(exc).__name__}: {exc}")
        return self._unscored_rows(submission, crashed, None)

    def _prepare_gradebook(self, assignments: set[str], students: set[str]) -> dict[str, str]:
        """Make sure each assignment, and each learner who submitted, is in the gradebook
        before workers write to it at once; return the learners it refused, each with the
        line saying so.

        nbgrader's autograde adds its learner by looking the id up and inserting it if
        missing: two workers grading one new learner's two assignments at once could both
        miss it, and the second insert failed (UNIQUE constraint), a grader error.

        A gradebook that refuses some learners (a trigger or constraint of its own, such
        as a registrar's roster) cannot take their grades, but takes the others': those
        are graded.

        Raises
        ------
        GradebookRefused
            When the gradebook refuses another of these changes, or every learner, naming
            the change.
        AssignmentNotDefined
            When nbgrader cannot define an assignment from its source.
        """
        extensions: dict[tuple[str, str], Any] = {}
        refused: dict[str, str] = {}
        with self._gradebook() as gradebook:
            # `nbgrader db assignment add` (a due date set in a new gradebook, PostgreSQL's
            # after a move) defines an assignment without its notebooks: autograde then
            # finds no notebook to grade, and every learner got a grader error, run after
            # run. Such an assignment is defined here as a new one is.
            bare = [a for a in gradebook.assignments if a.name in assignments and not a.notebooks]
            known = {a.name for a in gradebook.assignments if a.notebooks}
            for assignment in bare:
                for submitted in list(assignment.submissions):
                    # left by a run against the bare assignment: no notebook, so no score;
                    # nbgrader defines no notebook of an assignment that has submissions
                    # (and removes its release folder when it refuses)
                    student = submitted.student.id
                    if submitted.extension is not None:
                        extensions[assignment.name, student] = submitted.extension
                    with _refused_as(
                        f"remove {student}'s submission of {assignment.name!r}, which has "
                        "no notebooks"
                    ):
                        gradebook.remove_submission(assignment.name, student)
            # an id nbgrader cannot take is refused before grading and never reaches it
            learners = sorted(filter(is_safe_student_id, students))
            for student in learners:
                try:
                    with _refused_as(
                        f"add the learner {student!r}", f"nbgrader db student add {student}"
                    ):
                        gradebook.update_or_create_student(student)
                except GradebookRefused as exc:
                    refused[student] = str(exc)
            if learners and len(refused) == len(learners):  # nothing could be graded
                raise GradebookRefused(refused[learners[0]])
        undefined = sorted(assignments - known)
        if undefined:  # seconds each, before the first submission: say why nothing moves
            print(
                f"Defining {len(undefined)} assignment(s) the gradebook does not know yet: "
                + ", ".join(undefined),
                flush=True,
            )
        for assignment in undefined:
            self._define_assignment(assignment)
        if extensions:  # an extension given to a learner of the bare assignment stands
            with self._gradebook() as gradebook:
                for (assignment, student), extension in extensions.items():
                    with _refused_as(f"give {student} back their extension for {assignment!r}"):
                        gradebook.update_or_create_submission(
                            assignment, student, extension=extension
                        )
        return refused

    def _define_assignment(self, assignment: str) -> None:
        """Define ``assignment`` and its notebooks in the gradebook, as nbgrader's
        ``generate_assignment`` does, leaving its release folder as it is.

        The student version is written to a folder thrown away: made in the release folder,
        it replaced the version learners were given with one made from the source as it is
        now, without a word.

        Raises
        ------
        AssignmentNotDefined
            When nbgrader cannot convert the assignment's source, with its last error.
        """
        # inside the course: nbgrader takes every step's folder for one below its root
        with tempfile.TemporaryDirectory(prefix=".lstm-grade-define-", dir=self.root) as scratch:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "nbgrader",
                    "generate_assignment",
                    assignment,
                    "--force",
                    f"--CourseDirectory.release_directory={Path(scratch).name}",
                ],
                cwd=self.root,
                capture_output=True,
                text=True,
                env=self._env(),
            )
        if done.returncode != 0:
            raise AssignmentNotDefined(
                f"the gradebook does not define {assignment!r} yet, and `nbgrader "
                f"generate_assignment {assignment}` could not define it from "
                f"{report.printable(str(self.layout.source(assignment)))} "
                f"({_last_line(done.stdout + done.stderr)}): fix the source and run "
                "lstm-grade again"
            )

    def _env(self) -> dict[str, str]:
        from lstm_grader.gradebook_guard import PAGES_CHECKED_ENV
        from lstm_grader.sandbox import TURN_WAITS_ENV

        env = dict(os.environ)
        if self.db_url:
            env["NBGRADER_DB_URL"] = self.db_url
        env.pop(PAGES_CHECKED_ENV, None)
        if self._pages_checked is not None:
            env[PAGES_CHECKED_ENV] = self._pages_checked
        env.pop(TURN_WAITS_ENV, None)
        if self._turn_waits is not None:
            env[TURN_WAITS_ENV] = str(self._turn_waits)
        return env


@contextmanager
def _refused_as(change: str, command: str | None = None) -> Iterator[None]:
    """Inside, nbgrader's ``InvalidEntry`` or ``MissingEntry`` (a constraint or trigger
    of the gradebook's own, a full disk or a read-only copy, as the database said it)
    becomes a :class:`GradebookRefused` naming ``change`` and what to do: make the
    gradebook take it, which ``command`` (an ``nbgrader db`` command making the same
    change, where there is one) then shows."""
    from nbgrader.api import InvalidEntry, MissingEntry

    # nbgrader logs the database's error with its traceback before it raises; the line
    # made of it here says it all, and the traceback buried it
    nbgrader_log = logging.getLogger("tornado.application")
    nbgrader_log.addFilter(_not_a_rollback_notice)
    try:
        yield
    except (InvalidEntry, MissingEntry) as exc:
        # the database's own words come first; the statement and its values follow them
        said = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        check = f" (`{command}` must succeed)" if command else ""
        what_to_do = (
            "the disk under the gradebook is full: free some space on it"
            if _disk_full(exc)
            else f"make it take the change{check}"
        )
        raise GradebookRefused(
            f"the gradebook refused to {report.printable(change)} "
            f"({report.printable(report.shortened(said.strip(), 300))}): {what_to_do}, then "
            "run lstm-grade again"
        ) from exc
    finally:
        nbgrader_log.removeFilter(_not_a_rollback_notice)


#: SQLite's result code for a write that found the disk, or the database's page limit, full.
SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE for a full disk on the server (``disk_full``).
POSTGRES_DISK_FULL = "53100"


def _disk_full(exc: BaseException) -> bool:
    """Whether the database error behind ``exc`` (nbgrader's, raised while SQLAlchemy's
    was handled) is a full disk: SQLite's ``SQLITE_FULL``, PostgreSQL's ``disk_full``, or
    the system's ``ENOSPC`` or ``EDQUOT``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        for error in (cause, getattr(cause, "orig", None)):
            if (
                getattr(error, "sqlite_errorcode", None) == SQLITE_FULL
                or getattr(error, "pgcode", None) == POSTGRES_DISK_FULL
                or (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT))
            ):
                return True
        cause = cause.__cause__ or cause.__context__
    return False


def _not_a_rollback_notice(record: logging.LogRecord) -> bool:
    """Whether a log record is other than nbgrader's notice of a change the gradebook
    refused (:func:`_refused_as` says it)."""
    return not record.getMessage().startswith("Rolling back session due to database error")


@contextmanager
def _closing(grader: ClassGrader) -> Iterator[None]:
    try:
        yield
    finally:
        grader.close()


def _last_line(text: str) -> str:
    """The most telling line of nbgrader's log: its last exception, else its last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b.*:", line)]
    chosen = raised[-1] if raised else (lines[-1] if lines else "no output")
    return chosen[:300]


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total, disable=not enabled, unit="submission", desc="grading", file=sys.stderr
    )


#: What makes a spreadsheet read a cell as a formula when it starts the cell (OWASP's
#: list: ``@`` is Lotus's and Excel's older formula start, and student ids may begin with it).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_cell(value: object) -> object:
    """``value`` as a grades file holds it: text with its control characters escaped and,
    where a spreadsheet would run it as a formula, a leading ``'`` (a student folder's
    name is the one cell a course's files do not choose)."""
    if not isinstance(value, str):
        return value
    text = report.printable(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_text(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([_spreadsheet_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def write_grades(
    root: Path, rows: list[Row], grades: str = GRADES_FILE, totals: str = TOTALS_FILE
) -> tuple[Path, Path]:
    """Write ``grades.csv`` (one row per notebook) and ``grades_totals.csv`` (per student),
    both or neither: a disk that fills up between them left a new ``grades.csv`` beside the
    totals of an earlier run.

    A notebook not due yet, or handed in and not graded yet, has its row in ``grades.csv``
    and its 0 in the totals' assignment column, but its points are left out of
    ``max_total``, which counts what could be scored so far.

    Raises
    ------
    OSError
        Naming the file that could not be written (:func:`safefiles.write_files`).
    """
    grades_path = root / grades
    grades_text = _csv_text(
        [COLUMNS, *([getattr(row, column) for column in COLUMNS] for row in rows)]
    )
    per_student: dict[str, dict[str, float]] = {}
    assignments = sorted({row.assignment for row in rows})
    for row in rows:
        entry = per_student.setdefault(row.student, {"total": 0.0, "max_total": 0.0})
        entry[row.assignment] = entry.get(row.assignment, 0.0) + row.score
        entry["total"] += row.score
        if row.status not in NOT_SCORED_YET:
            entry["max_total"] += row.max_score
    totals_path = root / totals
    totals_text = _csv_text(
        [
            ["student", *assignments, "total", "max_total"],
            *(
                [
                    student,
                    *(entry.get(a, 0.0) for a in assignments),
                    entry["total"],
                    entry["max_total"],
                ]
                for student, entry in sorted(per_student.items())
            ),
        ]
    )
    safefiles.write_files(
        {grades_path: grades_text.encode("utf-8"), totals_path: totals_text.encode("utf-8")}
    )
    return grades_path, totals_path


def _lock_course(root: Path) -> int | str:
    """Take the course's grading lock for the rest of this process: its file descriptor,
    or why it cannot be had (another run holds it, or the course folder or its disk
    refuses the file), in words that say what to do."""
    import fcntl

    path = root / LOCK_FILE

    def refused(exc: OSError) -> str:
        # os.write names no file: the lock file is what was written
        problem, what_to_do = _os_error_words(OSError(exc.errno, exc.strerror, str(path)), root)
        return f"{problem}: {what_to_do}, then run lstm-grade again"

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        return refused(exc)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        return (
            f"another lstm-grade run is grading this course (pid {report.printable(holder)}); "
            "run again when it has finished"
        )
    try:
        os.ftruncate(fd, 0)
        # the first write of a run: on a full disk, the run stops here, before any other
        os.write(fd, str(os.getpid()).encode())
    except OSError as exc:
        os.close(fd)
        return refused(exc)
    return fd


@contextmanager
def _stopped_by_signals() -> Iterator[list[int]]:
    """While inside, the first SIGINT or SIGTERM raises :class:`KeyboardInterrupt` and
    any later one is ignored: the run is stopping already, and a second Ctrl-C must not
    cut that short with a traceback. Yields the signals received. The handlers are put
    back unless a signal came: then the process is on its way out, and stays deaf to
    more."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def interrupt(signum: int, frame: object) -> None:
        if not received:
            received.append(signum)
            raise KeyboardInterrupt

    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, interrupt)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_IGN if received else handler)


#: What to do about an :class:`OSError` met on the course's files or the host, by its
#: ``errno``: the words follow the path and the system's reason.
_WHAT_TO_DO_ABOUT: dict[int, str] = {
    errno.EACCES: "let the grader read and write it (its mode, a read-only mount or "
    "`chattr +i` stops it)",
    errno.ENOENT: "it was moved or removed while lstm-grade ran: put it back",
    errno.ENOTDIR: "a file stands where a folder belongs: move the file away",
    errno.EISDIR: "a folder stands where a file belongs: move the folder away",
    errno.ENOSPC: "the disk is full: free some space on it",
    errno.EDQUOT: "the disk quota is used up: free some space",
    errno.EMFILE: "too many files are open: raise the grader's hard limit (`ulimit -Hn`) or give "
    "fewer --workers",
    errno.EAGAIN: "the host could not start another process or thread: give fewer --workers",
    errno.EIO: "the disk failed to read or write: check it",
}
_WHAT_TO_DO_ABOUT[errno.EPERM] = _WHAT_TO_DO_ABOUT[errno.EROFS] = _WHAT_TO_DO_ABOUT[errno.EACCES]
_WHAT_TO_DO_ABOUT[errno.ENFILE] = _WHAT_TO_DO_ABOUT[errno.EMFILE]
_WHAT_TO_DO_ABOUT[errno.ENOMEM] = _WHAT_TO_DO_ABOUT[errno.EAGAIN]


def _shown_path(path: object, root: Path) -> str:
    """``path`` as a line shows it: relative to the course root where it lies below it,
    every character a terminal would act on escaped (a learner may have named it)."""
    text = os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else str(path)
    if os.path.isabs(text):
        inside = os.path.relpath(text, root)
        if inside != os.curdir and inside.split(os.sep)[0] != os.pardir:
            text = inside
    return report.printable(text)


def _os_error_words(exc: OSError, root: Path) -> tuple[str, str]:
    """An :class:`OSError` that stopped ``lstm-grade`` as two pieces of one line: what
    failed (the path it names, or the system's words where it names none, with the
    system's reason) and what to do."""
    reason = report.printable(exc.strerror or str(exc) or type(exc).__name__)
    if exc.filename is None:
        problem = f"the system refused an operation ({type(exc).__name__}: {reason})"
    else:
        path = os.fsdecode(exc.filename) if isinstance(exc.filename, str | bytes) else None
        folder = os.path.dirname(path) if path else None
        if exc.errno != errno.ENOENT and folder and not os.path.lexists(path):
            # a file or folder that could not be made: the folder refused it
            made = report.printable(os.path.basename(path))
            problem = f"cannot make {made} in {_shown_path(folder, root)} ({reason})"
        else:
            paths = [_shown_path(exc.filename, root)]
            if exc.filename2 is not None:
                paths.append(_shown_path(exc.filename2, root))
            problem = f"cannot use {' or '.join(paths)} ({reason})"
    return problem, _WHAT_TO_DO_ABOUT.get(exc.errno or 0, "put that right")


def _setup_failure_words(exc: Exception, root: Path, shown: str) -> str:
    """The line, after ``lstm-grade: ``, for an exception that stopped the run before any
    submission was graded, ``shown`` its type and words: the course's configuration file
    when it was raised there, a library that cannot be imported, the gradebook when it came
    from its database layer, and otherwise a grader error, its cause left unguessed."""
    config = os.path.realpath(root / CONFIG_FILE)
    # the import machinery's own frames say nothing about which file failed
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    innermost = frames[-1] if frames else None
    in_config = [f.lineno for f in frames if os.path.realpath(f.filename) == config]
    if isinstance(exc, SyntaxError) and exc.filename is not None:
        line = exc.lineno if os.path.realpath(exc.filename) == config else None
    elif innermost is not None and os.path.realpath(innermost.filename) == config:
        line = innermost.lineno
    elif isinstance(exc, ImportError):
        # the configuration imports the course's library: a copy of it that fails as it
        # is imported is to blame, not the line importing it
        line = None
    else:
        line = in_config[-1] if in_config else None
    if line is not None:
        return (
            f"nothing was graded: the course's configuration {report.printable(config)} "
            f"stopped at its line {line} {shown}: fix it, then run lstm-grade again"
        )
    if isinstance(exc, ImportError):
        # a module found but lacking a name, or failing as it runs, may be a copy in the
        # course folder, not the installed one: the file is offered too
        failing = exc.path or (
            innermost.filename if innermost is not None and innermost.name == "<module>" else None
        )
        copy = f", or mend {report.printable(failing)}" if failing else ""
        return (
            f"nothing was graded: a library the grader needs cannot be imported {shown}: "
            "install the course kit with its grading extra (`lstm-course[grading]`) in "
            f"the environment lstm-grade runs from{copy}, then run lstm-grade again"
        )
    if type(exc).__module__.startswith("sqlalchemy"):
        return f"grader error, nothing was graded: the gradebook cannot be opened {shown}"
    return f"grader error before grading began, nothing was graded {shown}"


def main(argv: list[str] | None = None) -> int:
    """The ``lstm-grade`` command."""
    with _stopped_by_signals() as received:
        return _main(argv, received)


def _main(argv: list[str] | None, received: list[int]) -> int:
    parser = argparse.ArgumentParser(
        prog="lstm-grade",
        description=__doc__.splitlines()[0],
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignments", nargs="*", help="assignment ids, e.g. 05-return-flags")
    parser.add_argument("--all", action="store_true", help="grade every released assignment")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"submissions graded at once (default: {WORKERS_PER_CORE} per core, as many as "
        "the memory holds kernels at the sandbox's limit)",
    )
    parser.add_argument("--force", action="store_true", help="regrade unchanged submissions")
    parser.add_argument(
        "--timeout",
        type=int,
        default=900,
        help="seconds one submission may take before it is stopped",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="the course root (default: the current folder, or the course it is inside)",
    )
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: the config's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
        "the gradebook and the course folder are written here only",
    )
    parser.add_argument(
        "--process-per-submission",
        action="store_true",
        help="start a new nbgrader process for every submission instead of forking each "
        "from one that loaded nbgrader once (slower; the same grades)",
    )
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start each submission's sandboxed kernel when its turn comes, instead of "
        "while the previous submission is graded (slower with few workers; the same grades; "
        "Dask workers always start them ahead)",
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade even where the sandbox cannot be built (no isolation: "
        "learners' code can read the course and other learners' work)",
    )
    args = parser.parse_args(argv)
    skip_iri_grammars()
    if args.unsafe_no_sandbox:
        from lstm_grader.sandbox import UNSAFE_SWITCH

        os.environ[UNSAFE_SWITCH] = "1"
    # nbgrader runs `alembic` by name when it creates a gradebook: keep this environment's
    # scripts on PATH even when lstm-grade was started by its full path, unactivated
    scripts = str(Path(sys.executable).parent)
    os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    # started in a subfolder of a course, grade that course, as nbgrader's own commands do
    # there (course.use_enclosing_course)
    try:
        root = Path(args.root or enclosing_course(os.getcwd()) or ".").resolve()
    except NestedCoursesError as exc:
        parser.error(str(exc))
    if not (root / CONFIG_FILE).exists():
        parser.error(f"{root} has no {CONFIG_FILE}: run from the course root")
    if not args.all and not args.assignments:
        parser.error("name at least one assignment, or --all")
    lock = _lock_course(root)
    if isinstance(lock, str):
        print(f"lstm-grade: nothing was graded: {lock}", file=sys.stderr)
        return EXIT_NOTHING_GRADED
    if left := safefiles.remove_leftovers(root):
        # the course's lock is this run's: no other lstm-grade writes the grades files now
        print(
            f"lstm-grade: removed what a run killed while it wrote {GRADES_FILE} and "
            f"{TOTALS_FILE} left beside them: {', '.join(left)}",
            file=sys.stderr,
        )
    from lstm_grader.sandbox import SandboxUnavailable, check_can_grade, raise_own_open_files

    raise_own_open_files()
    try:
        if not args.scheduler:  # on a cluster, each worker's own sandbox is checked
            check_can_grade()
    except SandboxUnavailable as exc:
        print(f"lstm-grade: {exc}", file=sys.stderr)
        return EXIT_NOTHING_GRADED
    if args.workers is None:
        args.workers = default_workers()
    grader: ClassGrader | None = None
    try:
        grader = ClassGrader(
            root,
            workers=max(1, args.workers),
            force=args.force,
            timeout=args.timeout,
            db_url=args.db_url,
            process_per_submission=args.process_per_submission,
            scheduler=args.scheduler,
            warm_kernels=not args.cold_kernels,
        )
        assignments = grader.layout.released_assignments() if args.all else args.assignments
        known = grader.layout.source_assignments()
        if unknown := [name for name in assignments if name not in known]:
            print(
                f"lstm-grade: nothing was graded: the course has no assignment "
                f"{', '.join(map(repr, unknown))} (it has: {', '.join(known) or 'none'})",
                file=sys.stderr,
            )
            grader.close()
            return EXIT_NOTHING_GRADED
        submissions = find_submissions(grader.layout, assignments)
        if problems := grader.setup_problems(submissions):
            print(
                "lstm-grade: nothing was graded:\n" + "\n".join(f"  {p}" for p in problems),
                file=sys.stderr,
            )
            grader.close()
            return EXIT_NOTHING_GRADED
        rows = grader.grade_all(submissions, progress=not args.no_progress, assignments=assignments)
        # the grades files are the whole course's: the rows of the assignments not named
        # are those their last grading left
        others = [a for a in grader.layout.released_assignments() if a not in assignments]
        rows = sorted(rows + grader.recorded_rows(others), key=Row.sort_key)
    except OSError as exc:
        # grade_all closes the grader once it has begun; before, the helpers are ended here
        grading_started = grader is not None and grader.grading_began
        if grader is not None and not grading_started:
            grader.close()
        # a cluster that cannot be reached is an OSError without a file, met as the grader
        # is made; one naming a file is the course's, on a cluster run as on a local one
        if not args.scheduler or grading_started or exc.filename is not None:
            problem, what_to_do = _os_error_words(exc, root)
            if grading_started:
                print(
                    f"lstm-grade: the run stopped part-way: {problem}: what was graded is kept "
                    f"in the gradebook, {GRADES_FILE} was not written; {what_to_do}, then run "
                    "lstm-grade again: it grades only the rest",
                    file=sys.stderr,
                )
                return EXIT_GRADES_NOT_WRITTEN
            print(
                f"lstm-grade: nothing was graded: {problem}: {what_to_do}, then run "
                "lstm-grade again",
                file=sys.stderr,
            )
            return EXIT_NOTHING_GRADED
        print(
            f"lstm-grade: cannot reach the Dask scheduler at {args.scheduler}, nothing was "
            f"graded ({type(exc).__name__}: {exc}): start the scheduler (`dask scheduler`), or "
            "give --scheduler the address it printed as 'Scheduler at' (not its dashboard's), "
            "then try again",
            file=sys.stderr,
        )
        return EXIT_NOTHING_GRADED
    except CourseSettingsError as exc:  # the line names the setting and what it takes
        # made from the course's file alone (checked_layout_at): name it
        config = report.printable(str(root / CONFIG_FILE))
        print(f"lstm-grade: nothing was graded: {config}: {exc}", file=sys.stderr)
        return EXIT_NOTHING_GRADED
    except (AssignmentNotDefined, GradebookRefused) as exc:  # the line says what to do
        if grader is not None:  # raised as the gradebook is prepared, before grading
            grader.close()
        print(f"lstm-grade: nothing was graded: {exc}", file=sys.stderr)
        return EXIT_NOTHING_GRADED
    except Exception as exc:
        grading_started = grader is not None and grader.grading_began
        shown = f"({type(exc).__name__}: {report.shortened(' '.join(str(exc).split()), 600)})"
        if grading_started:
            # each submission's grades reach the gradebook as it is graded: only the
            # class's files are missing
            print(
                f"lstm-grade: grader error, the run stopped part-way {shown}: what was graded "
                f"is kept in the gradebook, {GRADES_FILE} was not written; the next run grades "
                "only the rest",
                file=sys.stderr,
            )
            return EXIT_GRADES_NOT_WRITTEN
        if grader is not None:
            grader.close()
        print(f"lstm-grade: {_setup_failure_words(exc, root, shown)}", file=sys.stderr)
        return EXIT_NOTHING_GRADED
    except KeyboardInterrupt:
        print(
            "lstm-grade: interrupted; grades.csv was not written. What was graded is kept: "
            "the next run grades only the rest.",
            file=sys.stderr,
        )
        return 128 + (received[0] if received else signal.SIGINT)
    try:
        grades_path, totals_path = write_grades(root, rows)
    except OSError as exc:
        problem, what_to_do = _os_error_words(exc, root)
        print(
            f"lstm-grade: the grades were kept in the gradebook, but {GRADES_FILE} and "
            f"{TOTALS_FILE} were not written: {problem}: {what_to_do}, then run lstm-grade "
            "again (it grades nothing already graded)",
            file=sys.stderr,
        )
        return EXIT_GRADES_NOT_WRITTEN
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(submissions)} submissions, {len(rows)} notebooks: {summary or 'none'}")
    print(f"wrote {grades_path.name} and {totals_path.name}")
    if failed := [row for row in rows if row.status == "grader-error"]:
        # the learners are not to blame, so the run is not a success a script may take
        # for one: say so, after every other submission was graded and the file written
        named = ", ".join(
            report.printable(f"{row.student}/{row.assignment}/{row.notebook}") for row in failed[:5]
        )
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        # a failure may be in the rows an earlier run left, of an assignment not named here
        again = shlex.join(["lstm-grade", *sorted({row.assignment for row in failed})])
        print(
            f"lstm-grade: the grader itself failed on {len(failed)} notebook(s) ({named}{more}; "
            f"status grader-error in {GRADES_FILE}, see its reason): run "
            f"{report.printable(again)} to grade them again",
            file=sys.stderr,
        )
        return EXIT_GRADER_ERRORS
    return 0


if __name__ == "__main__":
    sys.exit(main())
