"""nbgrader configuration: the repository root is the course directory.

Every nbgrader command run from the repository root reads this file, so plain
``nbgrader autograde``, the formgrader's buttons and ``lstm-grade`` all grade through
the same pipeline. Each setting says why it is what it is.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
)

# nbgrader's CheckCellMetadata, with the metadata schema checked once per process, not on
# every cell of every notebook (lstm_grader/cell_metadata.py)
from lstm_grader.cell_metadata import CheckCellMetadataOnce

# nbgrader's OverwriteCells and SaveAutoGrades, with the notebook's rows loaded in one query
# per kind, not one per cell, and the scores saved in one commit (lstm_grader/notebook_rows.py)
from lstm_grader.notebook_rows import OverwriteCellsLoadedOnce, SaveAutoGradesAtOnce
from lstm_grader.preprocessors import (
    CheckSubmission,
    FlagForReview,
    JudgeAnswers,
    SandboxedExecute,
    SanitizeLearnerHTML,
    StageAnswers,
)
from lstm_lib.checks import FEEDBACK_FILE

c = get_config()  # noqa: F821  (traitlets provides get_config when it loads this file)

_ROOT = os.path.dirname(os.path.abspath(__file__))

# --- Course layout -----------------------------------------------------------------------
# The course id names the course in the gradebook and the exchange.
c.CourseDirectory.course_id = "keras-recurrent-layers"
# Absolute, so the grader's helpers and kernels, which run in other folders, find
# references/ and the reports. nbgrader reads this file from the folder it is started in;
# started in a subfolder, it is pointed here by the environment's own nbgrader_config.py
# (jupyter-config/, installed by `make install`), and reads this file from here.
c.CourseDirectory.root = _ROOT
# solutions/ is the only place an exercise is written; exercises/ is generated from it and
# committed, so the book can link the student notebooks for download.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# An assignment's feedback.json holds the explanation of every wrong option: nbgrader would
# copy it, as one of the assignment's other files, into exercises/ (where the student
# version replaces it with the sealed explanations), into each autograded folder (where the
# grading kernel could read it and pick the one option it leaves unexplained) and into the
# feedback handed back. Left out everywhere, with nbgrader's own defaults kept.
c.CourseDirectory.ignore = [*CourseDirectory().ignore, FEEDBACK_FILE]
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
# `nbgrader zip_collect` reads the LMS's download from downloaded/<assignment>/archive/. The
# learner chooses the end of each file name and may upload anything, so both steps are ours
# (lstm_grader/collection.py):
# The extractor unpacks only the zips in archive/ itself, never zips a learner uploaded, and
# refuses entries that leave the folder, links, special files and entries over the size caps.
c.ZipCollectApp.extractor_plugin = "lstm_grader.collection.SafeZipExtractor"
# The collector reads student id and time from the part of each name the LMS writes, anchored
# so the id is everything between the fixed parts ("dave_lee" stays whole) and the learner's
# own file name cannot name a classmate or back-date; it maps the file to a released notebook
# and refuses links and special files. If any file of the download is not collected,
# zip_collect collects the rest, then exits with status 1 naming each such file and why.
c.ZipCollectApp.collector_plugin = "lstm_grader.collection.SafeFileNameCollector"
# Which LMS the download comes from; it selects the file-name pattern and the student id:
#   "blackboard"  05-return-flags_dave_lee_attempt_2026-01-30-15-00-00_05-return-flags.ipynb
#                 id: the Blackboard user name (dave_lee); timestamp.txt: the attempt's time
#   "canvas"      leedave_4711_981234_05-return-flags.ipynb (leedave_LATE_4711_... when late)
#                 id: the Canvas user id (4711); no time in the name, so no timestamp.txt
#   "moodle"      Dave Lee_1234_assignsubmission_file/05-return-flags.ipynb (a folder each)
#                 id: the participant number (1234), which Moodle numbers per assignment
# Blackboard names start with the assignment's name: SafeFileNameCollector.lms_assignment_name
# if the LMS's name differs from the nbgrader id. Another LMS: set basename_regexp, which wins.
c.SafeFileNameCollector.lms = "blackboard"
# To grade under your own student ids instead of the LMS's (needed for Moodle's per-assignment
# numbers), map them in a CSV with the columns lms_id,student_id, e.g.:
# c.SafeFileNameCollector.roster = "rosters/{assignment}.csv"

# --- Collecting from the exchange ----------------------------------------------------------
# `nbgrader collect` with our class: a learner names, fills and owns their inbound folder, so
# it refuses folders owned by someone other than the claimed student (or the instructor),
# copies regular files only and never through a link, and dates each submission no earlier
# than the folder's last change (ctime), which a learner cannot set back. A tie at a student's
# latest time is refused (the rest of a folder's name is the learner's), and a run that
# refused anything exits with status 1 after collecting the rest.
c.ExchangeFactory.collect = "lstm_grader.collection.SafeExchangeCollect"

# --- The student version ------------------------------------------------------------------
# How its check cells behave, per assignment: "practice" (a check says right or wrong and
# names the mistake; the Keras value only on request after an attempt) or "graded" (a
# check tests the form only; the value and its explanation come back in the feedback).
# The grade never depends on it. Regenerate the student versions after changing it.
c.CourseLayout.check_mode = "practice"
c.CourseLayout.check_modes = {}  # e.g. {"08-putting-together": "graded"}
# nbgrader's own steps, with the course's after the header: it sets the mode in the setup
# cell before the cells are locked and checksummed, and seals the mistakes' explanations.
from nbgrader.preprocessors import (  # noqa: E402
    ClearHiddenTests,
    ClearMarkScheme,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

from lstm_grader.student_version import PrepareStudentChecks  # noqa: E402

c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter,
    PrepareStudentChecks,
    InstantiateTests,
    LockCells,
    ClearSolutions,
    ClearOutput,
    CheckCellMetadataOnce,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadataOnce,
]

# --- Autograding: verdicts are computed outside the learner's kernel ------------------------
# nbgrader reads timestamp.txt and copies every file of a submission (following links)
# before any preprocessor runs, and has no hook that can stop it there: the guard refuses a
# folder holding links, FIFOs, devices, oversized files or an unreadable timestamp.txt first.
from lstm_grader.submission_guard import guard_autograde, quiet_notebook_repairs  # noqa: E402

guard_autograde()
# nbformat warns once per cell whose id it repairs, quoting the learner's id whole: one
# notebook's repeated ids filled the grading log, so only the repair is kept
quiet_notebook_repairs()
# With --force (the formgrader's buttons and lstm-grade always pass it) nbgrader removes a
# learner's autograded/ or feedback/ folder before it opens the gradebook, and removes it
# again when the gradebook then fails: a damaged or locked gradebook cost every learner's
# earlier work, and the other commands met it with a traceback half-way through. Every
# command that uses the gradebook (autograde, generate_feedback, generate_assignment, export,
# collect, db student/assignment list/add/import/remove) checks it once first (it opens,
# holds nbgrader's tables, and for a command that writes is writable and takes a write lock
# within 10 s) and otherwise stops with one line saying what to do, having removed nothing
# (lstm_grader/gradebook_guard.py).
from lstm_grader.gradebook_guard import guard_gradebook  # noqa: E402

guard_gradebook()
# The course's own settings (check modes, sandbox limits, feedback) are read notebook by
# notebook: a misspelt mode or a limit that is no number made a traceback per notebook and
# failed every learner. generate_assignment, autograde and generate_feedback check them once
# first, and stop with one line naming the setting and what it takes
# (lstm_grader/course_settings.py).
from lstm_grader.course_settings import guard_settings  # noqa: E402

guard_settings()
# With --force, nbgrader removes an assignment's release folder before converting it, and
# again when the conversion fails: a refused generate_assignment (references not recorded, a
# notebook it cannot convert) left learners' assignment with no student version. The folder
# it could not make anew is put back as it was (lstm_grader/release_guard.py).
from lstm_grader.release_guard import guard_release  # noqa: E402

guard_release()
# Re-add test cells a learner deleted, so the notebook still grades (CheckSubmission has
# already flagged them and their questions score 0).
c.OverwriteCells.add_missing_cells = True  # OverwriteCellsLoadedOnce is an OverwriteCells
# nbconvert checks the notebook against the schema after every preprocessor by default:
# 17 full validations per notebook graded. Once, after the last of each chain, finds the
# same invalid notebooks (the conversion still fails, naming that chain's last step).
c.Exporter.optimistic_validation = True
c.Autograde.sanitize_preprocessors = [
    CheckSubmission,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCellsLoadedOnce,
    CheckCellMetadataOnce,
]
c.Autograde.autograde_preprocessors = [
    StageAnswers,
    SandboxedExecute,
    JudgeAnswers,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SanitizeLearnerHTML,
    SaveAutoGradesAtOnce,
    AssignLatePenalties,
    CheckCellMetadataOnce,
    FlagForReview,
]
# Feedback renders the autograded notebook as HTML: sanitize learner markdown and kernel
# output there too, for notebooks autograded before SanitizeLearnerHTML was in the pipeline.
# PresentVerdicts (lstm_grader/feedback.py) titles each test cell with its question, turns
# the verdict into an escaped, wrapped block (backticks as <code>) and points the chapter
# links at the book. It runs after GetGrades, whose scores it reads, and before
# SanitizeLearnerHTML, so bleach cleans the verdict HTML once more (it uses only tags
# bleach keeps); CSSHTMLHeaderPreprocessor only adds the code highlighting's CSS.
from lstm_grader.feedback import FeedbackExporter, PresentVerdicts  # noqa: E402

c.GenerateFeedback.preprocessors = [
    GetGrades,
    PresentVerdicts,
    CSSHTMLHeaderPreprocessor,
    SanitizeLearnerHTML,
]
# nbgrader's HTML exporter with the course's template, which extends nbgrader's feedback
# template: a table of contents of the questions with their outcomes, verdicts coloured by
# outcome, and a stylesheet that reads at 375 px as on a desktop.
c.GenerateFeedback.exporter_class = FeedbackExporter
# nbgrader keeps a feedback page unless the submission is newer, and a score or comment
# given in the formgrader changes only the gradebook: the learner got the page from before
# it. generate_feedback makes a page again, without --force, when the gradebook's scores or
# comments for it changed since it was made (lstm_grader/feedback.py).
from lstm_grader.feedback import regenerate_stale_feedback  # noqa: E402

regenerate_stale_feedback()
# nbgrader release_feedback replaced a page released before without a word, and a learner who
# fetched the old one keeps it until they fetch again: each replaced page is named, with the
# learners to tell, and a page the same as the one released is not written again.
c.ExchangeFactory.release_feedback = "lstm_grader.feedback.ReleaseFeedbackSayingReplaced"

# nbgrader export writes grades.csv unless told otherwise, and that file is lstm-grade's
# (with each notebook's status and reason): its own export gets a name of its own, at the
# course root wherever in the course the command is started (a --to on the command line is
# read from the current folder, as any file name given there).
c.ExportPlugin.to = os.path.join(_ROOT, "grades-nbgrader.csv")
# Where chapter links in feedback point. Empty: the book built in this folder (_build/html),
# relative to each feedback file, for the instructor. Set it to the published book's URL
# before releasing feedback, so the links also work in the copy a learner downloads.
c.PresentVerdicts.book_url = ""

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
# memory spread over forked processes, stops here (the kernel is killed: memory-limit).
c.SandboxKernelManager.memory_limit_mb = 2048
# Each process gets 4 GiB of address space, which counts what it maps, not what it uses:
# TensorFlow maps about 2 GiB on import and 2.6 GiB to train a small model, so a learner's
# own Keras cell (model.fit to check a prediction) needs more than the 2 GiB of memory.
# One allocation past it (np.zeros of 80 GB) still meets a MemoryError.
c.SandboxKernelManager.address_space_mb = 4096
# CPU seconds for the whole sandbox and for each process: above the notebook's budget for
# honest work (a graded exercise needs a few seconds), low enough that a busy loop that
# ignores interrupts, or one spread over processes, is stopped.
c.SandboxKernelManager.cpu_limit_seconds = 120
# One core at a time: parallel graders (lstm-grade --workers N) share the host fairly, and
# CPU time can never exceed wall-clock time.
c.SandboxKernelManager.cpus = 1.0
# Each process may hold 1024 files open (Linux's usual default): the host's table of open
# files is shared by everything on it, and 64 processes of the grader's own limit (often
# tens of thousands each) could fill it, and every program on the host would fail.
c.SandboxKernelManager.open_files = 1024
# A kernel runs about ten threads; 64 leaves room for a learner's own subprocess while a
# fork bomb stops at once.
c.SandboxKernelManager.max_processes = 64
# The working folder and /tmp are a 256 MiB tmpfs (and so is /dev/shm): ample for an
# exercise, and nothing a learner writes ever reaches the host's disk.
c.SandboxKernelManager.disk_limit_mb = 256
# nbgrader's own line cap, kept as a second net after the byte cap.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
