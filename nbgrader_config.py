"""nbgrader configuration: the repository root is the course directory.

Every nbgrader command run from the repository root reads this file, so plain
``nbgrader autograde``, the formgrader's buttons and ``lstm-grade`` all grade through
the same pipeline. Each setting says why it is what it is.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
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
# (the Blackboard pattern nbgrader documents). Adjust the pattern to your LMS's naming.
c.FileNameCollectorPlugin.named_regexp = (
    r".+_(?P<student_id>\w+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)"
)

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
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    FlagForReview,
]

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
# 2 GiB of address space: NumPy and the kernel need about 600 MB; a memory bomb stops here.
c.SandboxKernelManager.memory_limit_mb = 2048
# CPU seconds for the kernel process: above the notebook's wall-clock budget for honest
# work, low enough that a busy loop that ignores interrupts is killed.
c.SandboxKernelManager.cpu_limit_seconds = 120
# nbgrader's own line cap, kept as a second net after the byte cap.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
