"""nbgrader configuration: the repository root is the course directory.

Every nbgrader command run from the repository root reads this file, so plain
``nbgrader autograde``, the formgrader's buttons and ``lstm-grade`` all grade through
the same pipeline. Each setting says why it is what it is.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from lstm_grader.preprocessors import (
    CheckSubmission,
    FlagForReview,
    JudgeAnswers,
    SandboxedExecute,
    SanitizeLearnerHTML,
    StageAnswers,
)

c = get_config()  # noqa: F821  (traitlets provides get_config when it loads this file)

_ROOT = os.path.dirname(os.path.abspath(__file__))

# --- Course layout -----------------------------------------------------------------------
# The course id names the course in the gradebook and the exchange.
c.CourseDirectory.course_id = "keras-recurrent-layers"
# Absolute, so commands work from any folder and the grader finds references/ and reports.
c.CourseDirectory.root = _ROOT
# solutions/ is the only place an exercise is written; exercises/ is generated from it and
# committed, so the book can link the student notebooks for download.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# The two folders only this course's grader keeps (lstm_grader.course.CourseLayout): the
# values recorded from Keras, and the per-notebook grading reports. Neither is inside an
# assignment folder, so nbgrader never copies them to learners or into a grading kernel.
c.CourseLayout.references_directory = "references"
c.CourseLayout.reports_directory = "grading_reports"
# SQLite by default: nothing to set up. For PostgreSQL set NBGRADER_DB_URL, e.g.
# postgresql://grader@localhost/course (see the README's instructor guide).
# The SQLite timeout lets parallel graders (lstm-grade --workers N) wait for each other's
# short writes instead of failing with "database is locked".
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(_ROOT, "gradebook.db") + "?timeout=120"
)

# --- Exchange ----------------------------------------------------------------------------
# A folder that exists without root rights, so `nbgrader list` works on one machine; a
# JupyterHub course points this at its shared exchange instead.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", os.path.join(_ROOT, "exchange"))
os.makedirs(c.Exchange.root, exist_ok=True)

# --- Collecting from a learning-management system ------------------------------------------
# `nbgrader zip_collect` reads the LMS's download from downloaded/<assignment>/archive/; its
# files are named like 05-return-flags_carol_attempt_2026-01-30-15-00-00_05-return-flags.ipynb
# (Blackboard's naming: <assignment>_<student id>_attempt_<time>_<the learner's file name>).
# The learner chooses the end of that name and may upload anything, so both steps are ours
# (lstm_grader/collection.py):
# The extractor unpacks only the zips in archive/ itself, never zips a learner uploaded, and
# refuses entries that leave the folder, links, special files and entries over the size caps.
c.ZipCollectApp.extractor_plugin = "lstm_grader.collection.SafeZipExtractor"
# The collector reads student id and time from the LMS-written start of the base name only
# (anchored, up to the first "_attempt_"), so the learner's tail cannot name a classmate or
# back-date; it maps the file to a released notebook and refuses links and special files.
c.ZipCollectApp.collector_plugin = "lstm_grader.collection.SafeFileNameCollector"
# Blackboard's naming; "{assignment}" stands for SafeFileNameCollector.lms_assignment_name
# (default: the nbgrader assignment id). Adjust to your LMS, keeping the student id and the
# time out of reach of the learner's part of the name.
c.SafeFileNameCollector.basename_regexp = (
    r"{assignment}_(?P<student_id>(?:(?!_attempt_).)+?)_attempt_"
    r"(?P<timestamp>[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2})"
    r"_(?P<file_id>(?s:.+))"
)

# --- Collecting from the exchange ----------------------------------------------------------
# `nbgrader collect` with our class: a learner names, fills and owns their inbound folder, so
# it refuses folders owned by someone other than the claimed student (or the instructor),
# copies regular files only and never through a link, and dates each submission no earlier
# than the folder's last change (ctime), which a learner cannot set back.
c.ExchangeFactory.collect = "lstm_grader.collection.SafeExchangeCollect"

# --- Autograding: verdicts are computed outside the learner's kernel ------------------------
# Re-add test cells a learner deleted, so the notebook still grades (CheckSubmission has
# already flagged them and their questions score 0).
c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [
    CheckSubmission,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    StageAnswers,
    SandboxedExecute,
    JudgeAnswers,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SanitizeLearnerHTML,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    FlagForReview,
]
# Feedback renders the autograded notebook as HTML: sanitize learner markdown and kernel
# output there too, for notebooks autograded before SanitizeLearnerHTML was in the pipeline.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, SanitizeLearnerHTML]

# --- Limits --------------------------------------------------------------------------------
# No exercise cell needs more than a second without TensorFlow (grading never imports it);
# 30 s per cell absorbs a slow machine, and an endless loop costs at most this much.
c.Execute.timeout = 30
c.SandboxedExecute.timeout = 30
# A whole notebook gets five minutes of wall-clock time: an exercise runs in seconds.
c.SandboxedExecute.notebook_timeout = 300
# Outputs are capped in bytes, not only lines: one 30 MB line must not reach the gradebook.
c.SandboxedExecute.max_output_bytes_per_cell = 100_000
c.SandboxedExecute.max_output_bytes = 2_000_000
# The sandbox as a whole (every process the kernel starts, and the files it keeps in its
# tmpfs) gets 2 GiB of memory: NumPy and the kernel need about 600 MB; a memory bomb, or
# memory spread over forked processes, stops here. Each process also gets 2 GiB of address
# space, so a single bomb meets a MemoryError before the kernel is killed.
c.SandboxKernelManager.memory_limit_mb = 2048
# CPU seconds for the whole sandbox and for each process: above the notebook's budget for
# honest work (a graded exercise needs a few seconds), low enough that a busy loop that
# ignores interrupts, or one spread over processes, is stopped.
c.SandboxKernelManager.cpu_limit_seconds = 120
# One core at a time: parallel graders (lstm-grade --workers N) share the host fairly, and
# CPU time can never exceed wall-clock time.
c.SandboxKernelManager.cpus = 1.0
# A kernel runs about ten threads; 64 leaves room for a learner's own subprocess while a
# fork bomb stops at once.
c.SandboxKernelManager.max_processes = 64
# The working folder and /tmp are a 256 MiB tmpfs (and so is /dev/shm): ample for an
# exercise, and nothing a learner writes ever reaches the host's disk.
c.SandboxKernelManager.disk_limit_mb = 256
# nbgrader's own line cap, kept as a second net after the byte cap.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
