"""Submission collection that a learner's file names, links and special files cannot redirect.

Learners choose the file names of their uploads to a learning-management system (LMS) and,
in an nbgrader exchange, the names, kinds and contents of everything in their inbound
folder; the grader may run as root. ``nbgrader_config.py`` wires three classes into
nbgrader:

:class:`SafeZipExtractor` (``nbgrader zip_collect``, first step)
    Extracts the LMS's zip downloads without letting an entry leave the extraction
    folder, become a link or a special file, or expand without bound.
:class:`SafeFileNameCollector` (``nbgrader zip_collect``, second step)
    Reads student id and timestamp from the LMS-written part of each file's name only, in
    the form of the LMS chosen with ``c.SafeFileNameCollector.lms`` (Blackboard, Canvas or
    Moodle, :data:`LMS_NAMINGS`), so the learner-chosen tail cannot pick whose submission a
    file is or when it was made, and maps the file to one of the assignment's released
    notebooks; a file older than the submission already collected for its learner is not
    collected. Each learner's files replace what was collected for them whole or not at
    all (:func:`transfer_collected`). If any file of the download is not collected,
    ``nbgrader zip_collect`` exits with status 1 after collecting the rest, naming each
    such file and why.
:class:`SafeExchangeCollect` (``nbgrader collect``)
    Collects inbound folders only from their owner (or the instructor running collect),
    copies plain folders and regular files only, without ever opening through a link, and
    dates each submission no earlier than the last change to its inbound folder.

Both collectors put a learner's new folder in place by renaming, and the next collection of
a learner first settles what one killed outright left (:func:`settle_interrupted_collection`).
Every refused entry is logged as a warning that names it and says why.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import difflib
import fnmatch
import functools
import glob
import io
import logging
import os
import posixpath
import pwd
import re
import shutil
import stat
import sys
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin
from nbgrader.utils import check_mode
from traitlets import Integer, TraitError, Unicode, validate

from lstm_grader import safefiles
from lstm_grader.course import (
    COLLECTING_MARKER,
    REPLACED_MARKER,
    collection_entries,
    collection_entry_beside,
    set_aside_submissions,
)
from lstm_grader.report import printable
from lstm_grader.submission_guard import is_safe_student_id
from lstm_grader.timestamps import TIMESTAMP_FILE, read_timestamp, timestamp_problem

#: A Blackboard attempt's time, as its file names write it (``YYYY-MM-DD-HH-MM-SS``).
_BLACKBOARD_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}"

#: Blackboard's file names: ``<assignment>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<the
#: learner's own file name>``. The student id is everything up to the FIRST ``_attempt_``
#: (it cannot contain one), and the timestamp is the fixed-width time right after it, so
#: both come from the part the LMS writes and nothing in the learner's tail can change them.
#: ``{assignment}`` is replaced by :attr:`SafeFileNameCollector.lms_assignment_name`.
BLACKBOARD_REGEXP = (
    r"{assignment}_(?P<student_id>(?:(?!_attempt_).)+?)_attempt_"
    rf"(?P<timestamp>{_BLACKBOARD_TIME})"
    r"_(?P<file_id>(?s:.+))"
)

#: The text file Blackboard writes for each attempt (its receipt: name, time, comments),
#: ``<assignment>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt``: not a learner's upload.
BLACKBOARD_RECEIPT = rf"{{assignment}}_(?:(?!_attempt_).)+?_attempt_{_BLACKBOARD_TIME}\.txt"

#: Canvas's file names (``ContentZipper``): ``<lastfirst>[_LATE]_<user id>_<attachment
#: id>_<the learner's own file name>``. ``<lastfirst>`` is the sortable name, lower case,
#: reduced to word characters, with every ``_<digits>_`` removed so that the first
#: ``_<digits>_<digits>_`` is always the user id and the attachment id; ``LATE`` (``late``
#: in older Canvas) marks a late submission. With anonymous grading the name is left out and
#: the id is ``anon_<anonymous id>``. The name is matched as short as possible (the rule
#: Canvas reads its own names back by), so the learner's tail cannot move the ids. A
#: sortable name ending in ``_<digits>`` would: Canvas keeps that, so where learners may
#: edit their own names one could shift their files onto a classmate's id (both of that
#: id's files are then refused as two uploads of one submission, and reported).
CANVAS_REGEXP = (
    r"(?:(?P<student_name>\w*?)_)??(?:(?P<late>LATE|late)_)?"
    r"(?P<student_id>[0-9]+|anon_[A-Za-z0-9]+)_(?P<attachment_id>[0-9]+)"
    r"_(?P<file_id>(?s:.+))"
)

#: Moodle's file paths (``mod_assign``'s download), matched against the path below the
#: extracted folder: a folder per submission, ``<Full Name>_<participant
#: id>_assignsubmission_file/<the learner's file, in the learner's own folders>`` (Moodle
#: 3.1-4.0 write ``..._assignsubmission_file_/``; with "download submissions in folders"
#: off, ``..._assignsubmission_file_<file name>``). Moodle turns ``_`` in names into
#: spaces, so the name holds no ``_`` and the id is the digits after the first ``_``; the
#: outermost folder that matches is taken, so a folder a learner uploaded cannot name
#: someone else.
MOODLE_REGEXP = (
    r"(?:[^/]*/)*?(?P<student_name>[^_/]*)_(?P<student_id>[0-9]+)_assignsubmission_file"
    r"(?:_?/|_)(?P<file_id>(?s:.+))"
)


@dataclass(frozen=True)
class LmsNaming:
    """How one learning-management system names the files of its zip download.

    Attributes
    ----------
    title
        The LMS's name, for messages.
    form
        The naming in words, for messages.
    regexp
        Named groups ``student_id`` and ``file_id``, optionally ``timestamp`` (Blackboard's
        format) and ``late``; ``{assignment}`` stands for the assignment's LMS name.
    whole_path
        True: ``regexp`` must match the file's path below the extracted folder (``/``
        separated); False: its base name.
    example
        A file name (or path) in this form, for help texts and messages.
    receipt
        Base names of the LMS's own records of a submission, which are not uploads and are
        skipped without being reported; None if it writes none.
    """

    title: str
    form: str
    regexp: str
    whole_path: bool
    example: str
    receipt: str | None = None


#: How long after the time an exchange submission names ``nbgrader submit`` may still be
#: copying it: it takes the time first and writes the files after, so every honest
#: submission was last changed a little after its claim. The later time is always the one
#: collected; only a correction past this is worth the instructor's log.
SUBMIT_COPY_SLACK = datetime.timedelta(seconds=10)

#: The formats :attr:`SafeFileNameCollector.lms` selects.
LMS_NAMINGS = {
    "blackboard": LmsNaming(
        "Blackboard",
        "<assignment>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file name>",
        BLACKBOARD_REGEXP,
        whole_path=False,
        example="05-return-flags_dave_lee_attempt_2026-01-30-15-00-00_05-return-flags.ipynb",
        receipt=BLACKBOARD_RECEIPT,
    ),
    "canvas": LmsNaming(
        "Canvas",
        "<lastfirst>[_LATE]_<user id>_<attachment id>_<file name>",
        CANVAS_REGEXP,
        whole_path=False,
        example="leedave_4711_981234_05-return-flags.ipynb",
    ),
    "moodle": LmsNaming(
        "Moodle",
        "<Full Name>_<participant id>_assignsubmission_file/<file name>",
        MOODLE_REGEXP,
        whole_path=True,
        example="Dave Lee_1234_assignsubmission_file/05-return-flags.ipynb",
    ),
}

#: A copy's name as Canvas (``name-1.ipynb``) or a browser (``name (1).ipynb``) makes it when
#: a file of the same name exists.
_RENAMED_COPY = re.compile(r"(?P<stem>.+)(?:-[0-9]+| \([0-9]+\))(?P<ext>\.[^.]+)")

#: Open a folder without following a link in its last component.
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: Open a file without following a link, and without blocking if it turns out to be a FIFO.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: Create a new file; fail rather than reuse (or follow) whatever already has its name.
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC

_CHUNK = 2**16


def _inside(path: str, folder: str) -> bool:
    """Whether the real path of ``path`` is ``folder`` (a real path) or below it."""
    real = os.path.realpath(path)
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def _utc(epoch_seconds: float) -> datetime.datetime:
    """A file time as the naive UTC datetime that nbgrader compares timestamps as."""
    moment = datetime.datetime.fromtimestamp(epoch_seconds, tz=datetime.UTC)
    return moment.replace(tzinfo=None)


def format_timestamp(moment: datetime.datetime) -> str:
    """``timestamp.txt``'s text for a naive UTC time, in the format ``nbgrader submit``
    writes by default, which ``CourseDirectory.get_existing_timestamp`` reads back."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f} UTC"


# ------------------------------------------------------------------------------------------
# Copying a learner's folder
# ------------------------------------------------------------------------------------------


@dataclass
class TreeCopy(safefiles.CopyResult):
    """What :func:`copy_regular_tree_at` copied and refused, and when the tree last changed.

    Attributes
    ----------
    newest_ctime
        The latest inode change time (``st_ctime``, epoch seconds) of the folder and of
        every folder and file copied. A user cannot set a ctime back, so this bounds from
        below when the copied content was last written.
    total_bytes
        Bytes copied.
    """

    newest_ctime: float = 0.0
    total_bytes: int = 0
    entries: int = 0


@dataclass(frozen=True)
class _Limits:
    max_file_bytes: int
    max_total_bytes: int
    max_entries: int
    max_depth: int
    ignore: tuple[str, ...]
    include: tuple[str, ...]
    owner: int | None


class _TooManyEntries(Exception):
    """Raised to stop a copy when a folder holds more entries than allowed."""


def copy_regular_tree_at(
    folder_fd: int,
    destination: str,
    *,
    max_file_bytes: int = safefiles.MAX_FILE_BYTES,
    max_total_bytes: int = safefiles.MAX_SUBMISSION_BYTES,
    max_entries: int = safefiles.MAX_ENTRIES,
    max_depth: int = safefiles.MAX_FOLDER_DEPTH,
    ignore: Iterable[str] = (),
    include: Iterable[str] = ("*",),
    owner: int | None = None,
) -> TreeCopy:
    """Copy the plain folders and regular files under an open folder; refuse everything else.

    Like :func:`lstm_grader.safefiles.copy_regular_tree`, but every entry is reached
    relative to its parent's open descriptor (``dir_fd``) and every folder is opened with
    ``O_NOFOLLOW``. ``copy_regular_tree`` walks by path: a learner who owns the folder can
    swap a subfolder for a link between the listing and the read, and the read then goes
    through the link (``O_NOFOLLOW`` guards only the last component). Here a swap makes the
    open fail instead.

    Parameters
    ----------
    folder_fd
        A descriptor of the folder to copy, opened with ``O_DIRECTORY | O_NOFOLLOW``.
    destination
        A folder the grader owns (created if missing); files are written with
        :func:`lstm_grader.safefiles.write_bytes`.
    max_file_bytes, max_total_bytes
        Files larger than ``max_file_bytes``, and files that would take the total over
        ``max_total_bytes``, are refused.
    max_entries, max_depth
        More entries than ``max_entries`` stop the copy; folders nested deeper than
        ``max_depth`` are refused (a learner could otherwise make the walk endless).
    ignore, include
        File-name globs, as nbgrader's ``CourseDirectory.ignore`` (files and folders
        skipped silently) and ``CourseDirectory.include`` (only matching files copied).
    owner
        The uid whose own files may have other hard links (the folder's owner): a link to
        a file of theirs shows nothing that is not already theirs, while refusing it would
        let anyone who can hard-link a classmate's file (possible where
        ``fs.protected_hardlinks`` is 0) get that classmate's work refused. None: every
        file with other hard links is refused.

    Returns
    -------
    TreeCopy
        Relative paths copied; refused entries as ``"<relative path>: <reason>"``.
    """
    limits = _Limits(
        max_file_bytes,
        max_total_bytes,
        max_entries,
        max_depth,
        tuple(ignore),
        tuple(include),
        owner,
    )
    result = TreeCopy(newest_ctime=os.fstat(folder_fd).st_ctime)
    os.makedirs(destination, exist_ok=True)
    try:
        _copy_folder_at(folder_fd, destination, "", result, limits, depth=0)
    except _TooManyEntries:
        result.refused.append(f".: more than {max_entries} entries; the rest was not copied")
    return result


def _copy_folder_at(
    folder_fd: int, destination: str, relative: str, result: TreeCopy, limits: _Limits, depth: int
) -> None:
    for name in sorted(os.listdir(folder_fd)):
        path = posixpath.join(relative, name) if relative else name
        if any(fnmatch.fnmatch(name, pattern) for pattern in limits.ignore):
            continue  # nbgrader's own CourseDirectory.ignore: checkpoints, caches, feedback
        result.entries += 1
        if result.entries > limits.max_entries:
            raise _TooManyEntries
        try:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
        except OSError as exc:
            result.refused.append(f"{path}: could not be examined ({exc.strerror})")
            continue
        if stat.S_ISLNK(info.st_mode):
            result.refused.append(f"{path}: a symbolic link")
        elif stat.S_ISDIR(info.st_mode):
            _copy_subfolder_at(folder_fd, name, destination, path, result, limits, depth)
        elif not stat.S_ISREG(info.st_mode):
            # Refused before any open: opening a device can have effects of its own.
            result.refused.append(f"{path}: not a regular file (a FIFO, socket or device)")
        elif any(fnmatch.fnmatch(name, pattern) for pattern in limits.include):
            _copy_file_at(folder_fd, name, destination, path, result, limits)


def _copy_subfolder_at(
    parent_fd: int,
    name: str,
    destination: str,
    path: str,
    result: TreeCopy,
    limits: _Limits,
    depth: int,
) -> None:
    if depth + 1 > limits.max_depth:
        result.refused.append(f"{path}: nested more than {limits.max_depth} folders deep")
        return
    try:
        child = os.open(name, _FOLDER_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        # ELOOP or ENOTDIR: swapped for a link or a file since it was listed
        result.refused.append(f"{path}: could not be opened as a folder ({exc.strerror})")
        return
    try:
        result.newest_ctime = max(result.newest_ctime, os.fstat(child).st_ctime)
        os.makedirs(os.path.join(destination, path), exist_ok=True)
        _copy_folder_at(child, destination, path, result, limits, depth + 1)
        # an entry made or removed in it while it was copied changes its ctime
        result.newest_ctime = max(result.newest_ctime, os.fstat(child).st_ctime)
    finally:
        os.close(child)


def _copy_file_at(
    parent_fd: int, name: str, destination: str, path: str, result: TreeCopy, limits: _Limits
) -> None:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        result.refused.append(
            f"{path}: could not be opened without following a link ({exc.strerror})"
        )
        return
    with os.fdopen(fd, "rb") as handle:
        # Judge the file that is open, not the name listed a moment ago.
        info = os.fstat(fd)
        left = limits.max_total_bytes - result.total_bytes
        problem = None
        if not stat.S_ISREG(info.st_mode):
            problem = "not a regular file (a FIFO, socket or device)"
        elif info.st_nlink > 1 and info.st_uid != limits.owner:
            problem = "a file with other hard links, owned by someone else"
        elif info.st_size > limits.max_file_bytes:
            problem = f"larger than the limit ({info.st_size} > {limits.max_file_bytes} bytes)"
        elif info.st_size > left:
            problem = f"over the submission's total limit of {limits.max_total_bytes} bytes"
        if problem is None:
            data = handle.read(min(limits.max_file_bytes, left) + 1)
            if len(data) > min(limits.max_file_bytes, left):
                problem = "grew past the size limit while it was read"
            # a change made while it was read is dated too: the later of both ctimes counts
            changed = max(info.st_ctime, os.fstat(fd).st_ctime)
    if problem is not None:
        result.refused.append(f"{path}: {problem}")
        return
    safefiles.write_bytes(os.path.join(destination, path), data)
    result.copied.append(path)
    result.total_bytes += len(data)
    result.newest_ctime = max(result.newest_ctime, changed)


# ------------------------------------------------------------------------------------------
# nbgrader zip_collect
# ------------------------------------------------------------------------------------------


class _Refusals:
    """A list of refused entries, each also logged as a warning naming it and the reason."""

    log: Any
    refused: list[str]

    def refuse(self, what: str, why: str) -> None:
        """Record and log that ``what`` is not collected, and why; a control character in
        either (a learner's file name may hold a line break) is written as its escape."""
        what, why = printable(what), printable(why)
        self.refused.append(f"{what}: {why}")
        self.log.warning("Refused %s: %s", what, why)


class _NotCollected(Exception):
    """A file is not collected; the message says why."""


def known_lms(name: str) -> str:
    """``name`` if it is one of :data:`LMS_NAMINGS`; otherwise raise a ``TraitError`` whose
    one line names the setting, the accepted values and the closest of them.

    Examples
    --------
    >>> known_lms("canvas")
    'canvas'
    >>> known_lms("cnavas")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    traitlets.traitlets.TraitError: c.SafeFileNameCollector.lms is 'cnavas', ... 'canvas'?)
    """
    if name in LMS_NAMINGS:
        return name
    *first, last = map(repr, LMS_NAMINGS)
    close = difflib.get_close_matches(str(name).lower(), list(LMS_NAMINGS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise TraitError(
        f"c.SafeFileNameCollector.lms is {name!r}, which is not an LMS the collector reads: "
        f"set it to {', '.join(first)} or {last}{hint}"
    )


@contextlib.contextmanager
def _config_checked(parent: Any) -> Iterator[None]:
    """End ``nbgrader zip_collect`` with one line and status 1 when a plugin's setting is
    refused (a misspelt ``lms``, a ``basename_regexp`` without its groups).

    nbgrader makes its plugins in ``start``, past the guard traitlets puts around an app's
    configuration, so a refused setting came out as a traceback. Nothing has been
    extracted or collected yet when the plugins are made. Outside ``zip_collect`` the
    ``TraitError`` is raised as it was."""
    try:
        yield
    except TraitError as exc:
        if not isinstance(parent, ZipCollectApp):
            raise
        parent.fail("Nothing was collected: %s", printable(" ".join(str(exc).split())))


class SafeFileNameCollector(_Refusals, FileNameCollectorPlugin):
    """Read student id, timestamp and notebook from the LMS-written part of a file's name.

    nbgrader's own plugin runs ``re.match`` with ``named_regexp`` on the absolute path, so a
    greedy pattern lets the end of the name, which the learner chose, decide the student
    and the time. This plugin matches the naming of :attr:`lms` (or :attr:`basename_regexp`)
    with ``re.fullmatch`` against the base name alone (Moodle: the path below the extracted
    folder), refuses unsafe student ids and unreadable times, maps the file to one of the
    assignment's released notebooks, and refuses links, special files, hard-linked files and
    files whose real path leaves the extracted folder. ``named_regexp`` is ignored, so an
    old setting cannot bring the greedy match back. A file that would replace a newer
    submission already in ``submitted/`` is refused too (:func:`replacement_problem`).

    Every file it does not collect is recorded with the reason (:attr:`refused`,
    :attr:`skipped`), and once ``nbgrader zip_collect`` has collected the rest it exits
    with status 1 naming each of them (see :func:`report_uncollected`).
    """

    # A Unicode checked by _known_lms rather than an Enum: traitlets' own message for an
    # Enum came as the last line of a traceback; this one names the setting, the accepted
    # values and the closest one, and zip_collect prints it alone (see _config_checked).
    lms = Unicode(
        "blackboard",
        help="The learning-management system whose zip download is collected; it selects "
        "the file-name pattern (basename_regexp, if set, wins).\n\n"
        "blackboard: <assignment>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file name>, "
        f"e.g. {LMS_NAMINGS['blackboard'].example}. Student id: the Blackboard user name, "
        "everything between the assignment and the first '_attempt_' (so 'dave_lee' stays "
        "whole); timestamp.txt: the attempt's time. Blackboard's receipts "
        "(<...>_attempt_<time>.txt) are skipped.\n\n"
        "canvas: <lastfirst>[_LATE]_<user id>_<attachment id>_<file name>, e.g. "
        f"{LMS_NAMINGS['canvas'].example}. Student id: the numeric Canvas user id "
        "('anon_<id>' with anonymous grading) unless the roster maps it. The names carry no "
        "time, so no timestamp.txt is written; LATE ones are logged.\n\n"
        "moodle: <Full Name>_<participant id>_assignsubmission_file/<file name> (a folder "
        "per submission; also Moodle 3.x's '..._file_/' and the flat '..._file_<file name>'), "
        f"e.g. {LMS_NAMINGS['moodle'].example}. Student id: the participant number, which "
        "Moodle numbers per assignment, so map it to your student ids with roster. No "
        "timestamp.txt.",
    ).tag(config=True)

    basename_regexp = Unicode(
        "",
        help="Overrides lms's pattern (for another LMS): a regular expression that must match "
        "each extracted file's whole base name, with named groups student_id, file_id and "
        "optionally timestamp (read with timestamp_format). '{assignment}' is replaced by "
        "lms_assignment_name. Keep the student id and timestamp to the part of the name the "
        "LMS writes: they must not be able to extend into the learner's tail. Empty: lms's.",
    ).tag(config=True)

    lms_assignment_name = Unicode(
        "",
        help="The assignment's name as it starts the LMS's file names (Blackboard's, or a "
        "basename_regexp with '{assignment}'), as a regular expression. Empty: re.escape of "
        "the nbgrader assignment id being collected.",
    ).tag(config=True)

    timestamp_format = Unicode(
        "%Y-%m-%d-%H-%M-%S",
        help="strptime format of the timestamp group (Blackboard's by default).",
    ).tag(config=True)

    roster = Unicode(
        "",
        help="A CSV file mapping LMS ids to nbgrader student ids: a header row with the "
        "columns lms_id and student_id, then a row per learner. Relative to the course root; "
        "'{assignment}' is replaced by the assignment id (Moodle numbers participants per "
        "assignment). When set, a file whose LMS id is not in it is not collected. Empty: the "
        "id read from the file name is the student id.",
    ).tag(config=True)

    @validate("lms")
    def _known_lms(self, proposal: dict[str, Any]) -> str:
        return known_lms(proposal["value"])

    @validate("basename_regexp")
    def _check_regexp(self, proposal: dict[str, Any]) -> str:
        pattern = proposal["value"]
        if not pattern:
            return pattern
        for group in ("student_id", "file_id"):
            if f"(?P<{group}>" not in pattern:
                raise TraitError(f"basename_regexp needs a (?P<{group}>...) group")
        try:
            re.compile(pattern.replace("{assignment}", "assignment"))
        except re.error as exc:
            raise TraitError(f"basename_regexp is not a regular expression: {exc}") from exc
        return pattern

    def __init__(self, **kwargs: Any) -> None:
        with _config_checked(kwargs.get("parent")):
            super().__init__(**kwargs)
        self.refused: list[str] = []
        self.skipped: list[str] = []
        self.collected: list[str] = []
        #: Attempts older than the submission already collected for their learner, held
        #: until every file is read (:meth:`settle_older_attempts`).
        self._older: list[tuple[str, str, str, datetime.datetime]] = []
        #: The newest time of each learner's attempts collected from this download.
        self._newest: dict[str, datetime.datetime] = {}
        self._released: list[str] | None = None
        self._attempt_index: dict[tuple[str, str | None], list[tuple[str, str]]] | None = None
        self._roster: dict[str, str] | str | None = None  # str: why it cannot be used
        if self.named_regexp:
            self.log.warning(
                "FileNameCollectorPlugin.named_regexp is ignored by %s; it "
                "matches SafeFileNameCollector.lms's naming (or basename_regexp) against "
                "base names only",
                type(self).__name__,
            )
        _report_when_done(self.parent)
        _transfer_whole(self.parent)

    def skip(self, what: str, why: str) -> None:
        """Record and log that ``what`` is not a submission to collect, and why."""
        what, why = printable(what), printable(why)
        self.skipped.append(f"{what}: {why}")
        self.log.warning("Skipped %s: %s", what, why)

    # -------------------------------------------------------------- what the parent app knows
    def _coursedir(self) -> CourseDirectory:
        # ZipCollectApp passes itself as parent (init_plugins) and holds the course directory
        # with the assignment id being collected.
        coursedir = getattr(self.parent, "coursedir", None)
        return coursedir if coursedir is not None else CourseDirectory(parent=self)

    def _extracted_root(self) -> str | None:
        parent = self.parent
        locate = getattr(parent, "_format_collect_path", None)
        if locate is None:
            return None
        return os.path.realpath(locate(parent.extracted_directory))

    def assignment_regexp(self) -> str:
        """The regular expression for the assignment's name in the LMS's file names."""
        if self.lms_assignment_name:
            return self.lms_assignment_name
        return re.escape(self._coursedir().assignment_id)

    def released_notebooks(self) -> list[str]:
        """Base names of the assignment's released notebooks (``exercises/<id>/*.ipynb``)."""
        if self._released is None:
            coursedir = self._coursedir()
            folder = coursedir.format_path(
                coursedir.release_directory, ".", coursedir.assignment_id
            )
            self._released = sorted(
                os.path.basename(p) for p in glob.glob(os.path.join(glob.escape(folder), "*.ipynb"))
            )
        return self._released

    def naming(self) -> LmsNaming:
        """The naming in force: :attr:`basename_regexp` if set, else :attr:`lms`'s."""
        if self.basename_regexp:
            pattern = self._substitute(self.basename_regexp)
            return LmsNaming("basename_regexp", pattern, pattern, False, "")
        return LMS_NAMINGS[self.lms]

    # -------------------------------------------------------------- collecting
    def collect(self, submitted_file: str) -> dict[str, Any] | None:
        """Whose file ``submitted_file`` is, when it was made and which notebook it is.

        Parameters
        ----------
        submitted_file
            Absolute path of a file in the extracted folder.

        Returns
        -------
        dict or None
            ``student_id``, ``file_id`` (a released notebook's name) and, if the naming
            has one, ``timestamp`` (a naive datetime, taken as UTC by nbgrader); None for a
            file that is not collected: the LMS's own receipt (logged), or a file skipped
            (not a notebook) or refused, each recorded and logged with the reason. A file
            is also refused when it would replace a submission already collected that is
            newer, or of which it cannot be told whether it is (:func:`replacement_problem`).
        """
        name = os.path.basename(submitted_file)
        if os.path.splitext(name)[1] not in self.valid_ext:
            if self._is_receipt(name):
                self.log.info("Skipping %s: the LMS's own record of an attempt", submitted_file)
            else:
                kinds = ", ".join(self.valid_ext)
                self.skip(submitted_file, f"not a notebook (only {kinds} files are collected)")
            return None
        problem = self._file_problem(submitted_file)
        if problem is not None:
            self.refuse(submitted_file, problem)
            return None
        info = self._read(submitted_file)
        if isinstance(info, str):
            self.refuse(submitted_file, info)
            return None
        # nbgrader's _transfer_files empties submitted/<student>/<assignment> before it
        # copies, so a file it is given replaces whatever was collected (and graded) there.
        coursedir = self._coursedir()
        folder = coursedir.format_path(
            coursedir.submitted_directory, info["student_id"], coursedir.assignment_id
        )
        settle_interrupted_collection(folder, self.log)
        problem = replacement_problem(folder, info.get("timestamp"))
        if problem is not None:
            existing = _older_than(folder, info.get("timestamp"))
            if existing is None:
                self.refuse(submitted_file, problem)
            else:  # the same download may hold a newer attempt: decided once all are read
                self._older.append((submitted_file, problem, info["student_id"], existing))
            return None
        self.log.debug("%s is %s", submitted_file, info)
        self.collected.append(submitted_file)
        if info.get("timestamp") is not None:
            moment = _naive_utc(info["timestamp"])
            newest = self._newest.get(info["student_id"])
            self._newest[info["student_id"]] = moment if newest is None else max(newest, moment)
        return info

    def settle_older_attempts(self) -> None:
        """Refuse each attempt older than its learner's submission already collected,
        unless this download also holds an attempt of theirs at least as new as that one:
        an LMS download of every attempt, collected again, then leaves out its older ones
        quietly, as nbgrader keeps the newest, instead of reporting each."""
        for path, problem, student, existing in self._older:
            newest = self._newest.get(student)
            if newest is not None and newest >= existing:
                self.log.info("Skipping %s: a later attempt of the same learner is collected", path)
            else:
                self.refuse(path, problem)
        self._older = []

    def _is_receipt(self, name: str) -> bool:
        receipt = self.naming().receipt
        return bool(receipt) and re.fullmatch(self._substitute(receipt), name) is not None

    def _file_problem(self, path: str) -> str | None:
        try:
            problem = safefiles.entry_problem(path)
        except OSError as exc:
            return f"could not be examined ({exc.strerror})"
        if problem is None and os.path.isdir(path):
            problem = "a folder, not a regular file"
        if problem is not None:
            return problem
        root = self._extracted_root()
        if root is None:
            return "the extracted folder is unknown, so the file's location cannot be checked"
        if not _inside(path, root):
            return f"its real path {os.path.realpath(path)} is outside {root}"
        return None

    def _substitute(self, pattern: str) -> str:
        return pattern.replace("{assignment}", self.assignment_regexp())

    def _identify(self, path: str, naming: LmsNaming | None = None) -> re.Match[str] | None:
        """The naming's match for a file inside the extracted folder, or None (also for a
        file in a folder named as an upload, see :meth:`_upload_named_folder`)."""
        naming = naming or self.naming()
        if self._upload_named_folder(path, naming) is not None:
            return None
        text = os.path.basename(path)
        root = self._extracted_root()
        if naming.whole_path and root is not None:
            text = os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")
        return re.fullmatch(self._substitute(naming.regexp), text)

    def _upload_named_folder(self, path: str, naming: LmsNaming) -> str | None:
        """For a naming whose uploads lie side by side (Blackboard, Canvas), the first
        folder below the extracted folder that holds ``path`` and is named as an upload
        is (``<LMS prefix>`` followed by any name fits the naming), or None.

        Such an LMS writes no folders of its own. A folder named like an upload therefore
        comes from a ``/`` in a learner's file name, and what lies in it (a file named as a
        classmate's upload, say) was named by that learner in full.
        """
        root = self._extracted_root()
        if naming.whole_path or root is None:
            return None
        relative = os.path.relpath(os.path.realpath(path), root)
        pattern = self._substitute(naming.regexp)
        for folder in relative.split(os.sep)[:-1]:
            if re.fullmatch(pattern, folder + "x"):
                return folder
        return None

    def _read(self, path: str) -> dict[str, Any] | str:
        """The collected data for a file, or why it is refused."""
        naming = self.naming()
        if (folder := self._upload_named_folder(path, naming)) is not None:
            return (
                f"it lies in the folder {folder!r}, named as a {naming.title} upload is: "
                f"{naming.title} writes no folders, so a learner's file name made it"
            )
        match = self._identify(path, naming)
        if match is None:
            where = "path below the extracted folder" if naming.whole_path else "name"
            return f"its {where} is not in {naming.title}'s form {naming.form}{self._hint(path)}"
        groups = match.groupdict()
        lms_id = groups.get("student_id") or ""
        if not is_safe_student_id(lms_id):
            return (
                f"student id {lms_id!r} is not a safe id (ASCII letters, digits, "
                "'_.-@', not starting with '.' or '-', no '..')"
            )
        try:
            student_id = self._student_for(lms_id)
        except _NotCollected as exc:
            return str(exc)
        info: dict[str, Any] = {"student_id": student_id}
        if groups.get("timestamp") is not None:
            try:
                info["timestamp"] = datetime.datetime.strptime(
                    groups["timestamp"], self.timestamp_format
                )
            except ValueError:
                return f"timestamp {groups['timestamp']!r} is not a valid time"
        try:
            info["file_id"] = self._notebook_for(
                (lms_id, groups.get("timestamp")), path, _tail(match)
            )
        except _NotCollected as exc:
            return str(exc)
        if groups.get("late"):
            self.log.info(
                "%s: %s marks this submission late (the name carries no time, so no "
                "timestamp.txt is written)",
                path,
                naming.title,
            )
        return info

    def _hint(self, path: str) -> str:
        """A suggestion when another LMS's naming fits the file."""
        if self.basename_regexp:
            return ""
        for key, other in LMS_NAMINGS.items():
            if key != self.lms and self._identify(path, other) is not None:
                return (
                    f"; it looks like {other.title}'s: set c.SafeFileNameCollector.lms = "
                    f"{key!r} in nbgrader_config.py"
                )
        return f"; expected e.g. {self.naming().example}"

    # -------------------------------------------------------------- roster
    def roster_path(self) -> str:
        """The roster file for the assignment being collected ("" if none)."""
        if not self.roster:
            return ""
        coursedir = self._coursedir()
        relative = self.roster.replace("{assignment}", coursedir.assignment_id)
        return os.path.join(coursedir.root, relative)

    def _student_for(self, lms_id: str) -> str:
        """The nbgrader student id of an LMS id: the roster's, or the LMS id itself."""
        if not self.roster:
            return lms_id
        if self._roster is None:
            try:
                self._roster = self._load_roster()
            except _NotCollected as exc:
                self._roster = str(exc)
        if isinstance(self._roster, str):
            raise _NotCollected(self._roster)
        if lms_id not in self._roster:
            raise _NotCollected(f"LMS id {lms_id!r} is not in the roster {self.roster_path()}")
        return self._roster[lms_id]

    def _load_roster(self) -> dict[str, str]:
        path = self.roster_path()
        try:
            text = safefiles.read_text(path).removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            raise _NotCollected(f"the roster {path} cannot be read ({exc})") from exc
        reader = csv.DictReader(io.StringIO(text))
        if not {"lms_id", "student_id"} <= set(reader.fieldnames or ()):
            raise _NotCollected(f"the roster {path} needs the columns lms_id and student_id")
        mapping: dict[str, str] = {}
        taken: dict[str, str] = {}
        for row in reader:
            lms_id = (row["lms_id"] or "").strip()
            student_id = (row["student_id"] or "").strip()
            line = reader.line_num
            if not lms_id:
                continue
            if not is_safe_student_id(student_id):
                raise _NotCollected(
                    f"the roster {path}, line {line}: student id {student_id!r} is not a safe id"
                )
            if lms_id in mapping or taken.get(student_id, lms_id) != lms_id:
                raise _NotCollected(
                    f"the roster {path}, line {line}: LMS id {lms_id!r} or student id "
                    f"{student_id!r} appears twice"
                )
            mapping[lms_id] = student_id
            taken[student_id] = lms_id
        return mapping

    # -------------------------------------------------------------- which notebook
    def _candidate(self, tail: str) -> tuple[int, str] | None:
        """The released notebook a learner's file name can be, and how closely: 0 its
        exact name, 1 a renamed copy of it (``-1``, `` (1)``), 2 the only notebook."""
        released = self.released_notebooks()
        if tail in released:
            return 0, tail
        copy = _RENAMED_COPY.fullmatch(tail)
        if copy and copy["stem"] + copy["ext"] in released:
            return 1, copy["stem"] + copy["ext"]
        if len(released) == 1:
            return 2, released[0]
        return None

    def _attempts(self) -> dict[tuple[str, str | None], list[tuple[str, str]]]:
        """Every acceptable notebook upload, by attempt (LMS id, timestamp text): its real
        path and the learner's own file name."""
        if self._attempt_index is None:
            index: dict[tuple[str, str | None], list[tuple[str, str]]] = defaultdict(list)
            root = self._extracted_root()
            for here, _, names in os.walk(root) if root else ():
                for name in sorted(names):
                    path = os.path.join(here, name)
                    if os.path.splitext(name)[1] not in self.valid_ext:
                        continue
                    if self._file_problem(path) is not None:
                        continue
                    match = self._identify(path)
                    if match:
                        key = (match["student_id"], match.groupdict().get("timestamp"))
                        index[key].append((os.path.realpath(path), _tail(match)))
            self._attempt_index = dict(index)
        return self._attempt_index

    def _notebook_for(self, attempt: tuple[str, str | None], path: str, tail: str) -> str:
        """The released notebook this upload is; raises :class:`_NotCollected` if none.

        The learner's own name may only choose among the released notebooks. Within one
        attempt, the upload that names a notebook exactly wins over a renamed copy, which
        wins over a differently named file; two equally close ones are both refused (which
        one counts is for the instructor to decide, and nbgrader cannot choose between
        files without a time).
        """
        mine = self._candidate(tail)
        if mine is None:
            raise _NotCollected(
                f"its own name {tail!r} is none of the released notebooks "
                f"{self.released_notebooks()}"
            )
        level, notebook = mine
        real = os.path.realpath(path)
        others = [
            (candidate[0], other_tail)
            for other_path, other_tail in self._attempts().get(attempt, [])
            if other_path != real
            and (candidate := self._candidate(other_tail)) is not None
            and candidate[1] == notebook
        ]
        closer = sorted(t for lvl, t in others if lvl < level)
        if closer:
            raise _NotCollected(
                f"the same attempt also uploaded {closer[0]!r}, which is taken as {notebook}; "
                f"{tail!r} is not"
            )
        as_close = sorted(t for lvl, t in others if lvl == level)
        if as_close:
            raise _NotCollected(
                f"the same attempt uploaded {len(as_close) + 1} files that could each be "
                f"{notebook} ({', '.join(repr(t) for t in sorted([tail, *as_close]))}); "
                "none is collected: keep one in the download and collect again"
            )
        return notebook


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` as the naive UTC time nbgrader reads a written timestamp back as."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def _holds_files(folder: str) -> bool:
    """Whether anything but (empty) folders lies below ``folder``; links are not followed."""
    return any(names for _, _, names in os.walk(folder))


def replacement_problem(folder: str, timestamp: datetime.datetime | None) -> str | None:
    """Why a submission dated ``timestamp`` must not replace what ``folder`` holds, or None.

    ``nbgrader zip_collect`` empties ``submitted/<student>/<assignment>`` before it copies
    a learner's files there, so a download holding an older attempt than the one collected
    (and perhaps graded) would silently take its place. A submission therefore replaces the
    one there only when it is known to be at least as new: its time is the same as, or
    later than, the one in the folder's ``timestamp.txt`` (the same time is the same attempt
    collected again, so running ``zip_collect`` twice on one download still collects it).
    When neither has a time (Canvas and Moodle write none) nothing can be compared and, as
    before, the download is collected. When only one has a time, or the folder's
    ``timestamp.txt`` cannot be read, which is newer is unknown and the folder is kept.

    Parameters
    ----------
    folder
        ``submitted/<student>/<assignment>``.
    timestamp
        The time the download gives the submission (a naive one is UTC, as nbgrader takes
        it), or None if its names carry none.

    Returns
    -------
    str or None
        One line naming both times (or the one known) and how to collect it anyway; None
        when the folder is missing or holds no files, or when the submission is not older.
    """
    keep = f"move {folder} away to collect this one instead"
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{folder} cannot be examined ({exc.strerror}), so nothing replaces it"
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder (a link or a file), so nothing replaces it"
    if not _holds_files(folder):
        return None  # nothing was collected there: nothing can be lost
    new = None if timestamp is None else _naive_utc(timestamp)
    new_text = "its name carries no time" if new is None else f"it is dated {new}"
    try:
        existing = _existing_time(folder)
    except ValueError as exc:
        return (
            f"{new_text}, but whether the submission already in {folder} is newer cannot be "
            f"told ({exc}); {keep}"
        )
    if existing is None and new is None:
        return None  # neither is dated: the download is collected, as it always was
    if existing is None:
        return (
            f"{new_text}, but the submission already in {folder} has no time "
            f"({TIMESTAMP_FILE}), so whether it is newer cannot be told; {keep}"
        )
    if new is None:
        return (
            f"{new_text}, but the submission already in {folder} is dated {existing}, so "
            f"whether that one is newer cannot be told; {keep}"
        )
    if new < existing:
        return (
            f"an older attempt ({new}) than the submission already in {folder} "
            f"({existing}), which is kept; {keep}"
        )
    return None


def _older_than(folder: str, timestamp: datetime.datetime | None) -> datetime.datetime | None:
    """The time of the submission in ``folder`` when one dated ``timestamp`` is older than
    it, else None (not older, or not known to be)."""
    if timestamp is None:
        return None
    try:
        existing = _existing_time(folder)
    except (OSError, ValueError):
        return None
    return existing if existing is not None and _naive_utc(timestamp) < existing else None


def _existing_time(folder: str) -> datetime.datetime | None:
    """The time in ``folder``'s ``timestamp.txt`` as the grader reads it; None if there is
    no such file or it is empty. Raises ValueError, saying why, if it cannot be read."""
    problem = timestamp_problem(folder)
    if problem is not None:
        raise ValueError(problem)
    path = os.path.join(folder, TIMESTAMP_FILE)
    try:
        text = safefiles.read_text(path).strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:  # changed since timestamp_problem looked
        raise ValueError(f"{TIMESTAMP_FILE}: cannot be read ({exc})") from exc
    return read_timestamp(text) if text else None


def _tail(match: re.Match[str]) -> str:
    """The base name of the learner's own file name (the file_id group)."""
    return os.path.basename((match["file_id"] or "").replace("\\", "/"))


def _report_when_done(app: Any) -> None:
    """Have ``nbgrader zip_collect`` exit with status 1 if a file was not collected, and
    write each control character its log lines hold as its escape.

    nbgrader's ZipCollectApp only logs the files it skips and exits 0, and offers no hook
    after collecting (its app class cannot be chosen by config). Its collector plugin is
    made with the app as parent, so the plugin wraps this app's
    ``process_extracted_files``: once nbgrader has collected and copied what it could, the
    files that were not collected are checked (:func:`report_uncollected`). nbgrader logs
    each file's name as it goes: a learner's name with a line break or a terminal escape
    in it would forge a line of the report, or act on the instructor's terminal.
    """
    if not isinstance(app, ZipCollectApp) or "process_extracted_files" in vars(app):
        return
    app.log.addFilter(_escape_log_record)
    process = app.process_extracted_files

    def process_then_report() -> None:
        process()
        report_uncollected(app)

    app.process_extracted_files = process_then_report


def _transfer_whole(app: Any) -> None:
    """Have ``nbgrader zip_collect`` copy each learner's files with
    :func:`transfer_collected` instead of its own ``_transfer_files``, which the collector
    plugin, made with the app as parent, puts in place on this app alone."""
    if isinstance(app, ZipCollectApp) and "_transfer_files" not in vars(app):
        app._transfer_files = functools.partial(transfer_collected, app)


def transfer_collected(app: ZipCollectApp, collected_data: dict[str, dict[str, Any]]) -> None:
    """Put each learner's collected files into ``submitted/<student>/<assignment>`` whole,
    or leave that folder as it was.

    nbgrader's ``_transfer_files`` (``zip_collect --force``) empties a learner's folder and
    then copies the new files into it one by one: a copy that failed part-way (a full
    disk, a quota) lost the submission collected, and perhaps graded, before, left part
    of the new one without its ``timestamp.txt``, and stopped zip_collect with a traceback
    before the learners after it. Here a learner's files and time are written into a new
    hidden folder beside theirs, which then takes its place by renaming. A learner whose
    files cannot be written is refused, naming why (zip_collect then exits 1), and keeps
    what was collected before; the others are collected. Without ``--force``, a learner's
    folder that already holds files stops zip_collect, as nbgrader's own does.

    Parameters
    ----------
    app
        The ``ZipCollectApp`` running; its collector plugin records the refusals.
    collected_data
        nbgrader's ``{student_id: {"src_files", "dest_files", "file_ids", "timestamp"}}``.
    """
    collector = app.collector_plugin_inst
    coursedir = app.coursedir
    for student_id, data in collected_data.items():
        folder = coursedir.format_path(
            coursedir.submitted_directory, student_id, coursedir.assignment_id
        )
        if os.path.isdir(folder) and os.listdir(folder) and not app.force:
            app.fail(
                f"Directory not empty: {folder}\nuse the --force option to clear "
                "previously existing files"
            )
        try:
            _transfer_learner(app, folder, data)
        except OSError as exc:
            for source in data["src_files"]:
                with contextlib.suppress(ValueError):
                    collector.collected.remove(source)
                collector.refuse(
                    source,
                    f"could not be copied into {folder} ({exc.strerror or exc}), which is "
                    "left as it was",
                )


def _transfer_learner(app: ZipCollectApp, folder: str, data: dict[str, Any]) -> None:
    """Write one learner's files and time into a hidden folder beside ``folder``, then
    rename it to ``folder``, whatever stood there kept aside until then."""
    staging = _new_folder_beside(folder)
    try:
        for source, destination in zip(data["src_files"], data["dest_files"], strict=True):
            target = os.path.join(staging, os.path.relpath(destination, folder))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            app.log.info("Copying %s to %s", source, destination)
            shutil.copy(source, target)
        if data["timestamp"] is not None:
            app.log.info("Creating timestamp: %s", os.path.join(folder, TIMESTAMP_FILE))
            moment = data["timestamp"].isoformat(" ")
            safefiles.write_text(os.path.join(staging, TIMESTAMP_FILE), moment)
        if os.path.lexists(folder):
            app.log.warning("Replacing the files collected before in %s", folder)
        _replace_folder(staging, folder)
        staging = None
    finally:
        if staging is not None:
            safefiles.remove_tree(staging)


def _new_folder_beside(folder: str) -> str:
    """A new, empty hidden folder beside ``folder`` (its parent made if missing) for a
    collection to fill before :func:`_replace_folder` renames it to ``folder``."""
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = collection_entry_beside(folder, COLLECTING_MARKER)
    os.mkdir(staging)  # the mode nbgrader's own makedirs gives the learner's folder
    return staging


def settle_interrupted_collection(folder: str, log: logging.Logger) -> None:
    """Put back, or remove, what a collection of ``folder`` that was killed outright
    (``kill -9``, a power cut) left beside it, logging each; never raises.

    A collection fills a hidden ``.<assignment>.collecting-*`` folder and then renames it
    into place, the learner's collected folder first renamed aside as
    ``.<assignment>.replaced-*`` (:func:`_replace_folder`). Killed between those two renames,
    it leaves the learner without ``folder`` and their collected submission aside, where
    the check that an older attempt never replaces a newer one does not see it (and
    ``lstm-grade`` reports it as set aside, grading nothing): what was set aside is put
    back, whatever it is (a folder, or a file or link, never followed), so the learner's
    place is as it was before that collection. Every other such entry is a copy never put
    in place or one already replaced, and is removed.
    Called for a learner before their submission is compared with, or put in place of,
    the one collected.
    """
    kept = None
    for newest in set_aside_submissions(folder)[:1]:
        try:
            os.rename(newest, folder)
        except OSError as exc:
            kept = newest  # the learner's collected submission: never removed with the rest
            log.warning(
                "Could not put %s back as %s (%s): a collection was interrupted as it replaced it",
                newest,
                folder,
                exc.strerror or exc,
            )
        else:
            log.warning(
                "Put the submission collected before back in %s: a collection was "
                "interrupted as it replaced it",
                folder,
            )
    try:
        leftovers = [
            entry.path
            for found in collection_entries(folder).values()
            for entry in found
            if entry.path != kept
        ]
    except OSError:  # no folder for this learner yet, or not one to look into
        return
    for path in leftovers:
        if safefiles.remove_tree(path):
            log.info("Removed %s, left by an interrupted collection", path)
        else:
            log.warning("Could not remove %s, left by an interrupted collection", path)


def _replace_folder(staging: str, folder: str) -> None:
    """Rename the folder ``staging`` to ``folder``, in the same parent folder, replacing
    whatever stands there (a folder, a file, or a link, never followed) without losing it
    on the way.

    What stood at ``folder`` is first renamed aside, under a hidden name, and removed only
    once ``staging`` has taken its place: if that rename is refused, it is put back and the
    error raised (``staging`` is then the caller's to remove). Removing it first, as
    nbgrader's zip_collect and this module's exchange collect did, lost it whenever the
    new folder then could not be put in place.
    """
    aside = None
    if os.path.lexists(folder):
        aside = collection_entry_beside(folder, REPLACED_MARKER)
        os.rename(folder, aside)
    try:
        os.rename(staging, folder)
    except OSError:
        if aside is not None:
            os.rename(aside, folder)
        raise
    if aside is not None:
        safefiles.remove_tree(aside)


def report_uncollected(app: ZipCollectApp) -> None:
    """Exit with status 1 (``app.fail``), naming each file and why, if the extractor or the
    collector left any file of the download out or nothing was collected at all.

    The LMS's own receipts do not count; learners' files are never changed.
    """
    extractor, collector = app.extractor_plugin_inst, app.collector_plugin_inst
    if hasattr(collector, "settle_older_attempts"):
        collector.settle_older_attempts()
    left_out = [
        *getattr(extractor, "refused", []),
        *getattr(collector, "refused", []),
        *getattr(collector, "skipped", []),
    ]
    collected = len(getattr(collector, "collected", []))
    if collected and not left_out:
        return
    where = app._format_collect_path(app.archive_directory)
    if not collected:
        head = f"Nothing in {where} was collected"
    else:
        head = f"Not everything in {where} was collected ({collected} collected)"
    if left_out:
        lines = [f"{head}; not collected:", *(f"  {entry}" for entry in left_out)]
    else:
        lines = [f"{head}: no submission found (place the LMS's zip download there)"]
    naming = getattr(collector, "naming", None)
    if naming is not None:
        lines.append(
            f"File names are read in {naming().title}'s form "
            "(c.SafeFileNameCollector.lms in nbgrader_config.py)."
        )
    # what the lines quote is escaped already (refuse, skip): their own line breaks stay
    app.log.error("\n".join(lines), extra={_ESCAPED: True})
    sys.exit(1)


#: The attribute of a log record whose message is escaped already.
_ESCAPED = "lstm_grader_escaped"


def _escape_log_record(record: logging.LogRecord) -> bool:
    """A logging filter: the record's message with each control character escaped."""
    if getattr(record, _ESCAPED, False):
        return True
    message = record.getMessage()
    escaped = printable(message)
    if escaped != message:
        record.msg, record.args = escaped, None
    return True


class SafeZipExtractor(_Refusals, ExtractorPlugin):
    """Extract the LMS's zip downloads so that no entry can escape, link or explode.

    nbgrader's own extractor unpacks with ``shutil.unpack_archive`` and unpacks archives
    found inside archives (learner uploads, whose entry names the learner chose in full).
    This one extracts only the zip archives in the archive folder itself, refuses entries
    whose name would put them anywhere but where it says (:func:`zip_member_problem`),
    symbolic-link and special-file entries, every entry of a set that would land on one
    file (:func:`_clashing_members`: none of them is guessed to be the one), and entries over
    the size limits, and refuses a whole archive with too many entries; an entry that cannot be
    made is refused alone. Other files in the archive folder are copied if they are regular files
    without other hard links. Archives inside archives are extracted as plain files, which
    the collector then skips for their extension.
    """

    max_members = Integer(
        10_000, help="Archives with more entries than this are not extracted."
    ).tag(config=True)

    max_member_bytes = Integer(
        safefiles.MAX_FILE_BYTES, help="Entries that expand to more bytes than this are refused."
    ).tag(config=True)

    max_total_bytes = Integer(
        2**30, help="Bytes written in all by one extraction; entries past it are refused."
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        with _config_checked(kwargs.get("parent")):
            super().__init__(**kwargs)
        self.refused: list[str] = []
        self._left = 0

    def extract(self, archive_path: str, extracted_path: str) -> None:
        """Extract each zip archive of ``archive_path`` (named with one of ``zip_ext``, in
        any case) into its own folder of ``extracted_path``, and copy the other regular
        files there.

        Parameters
        ----------
        archive_path
            The LMS download folder (``downloaded/<assignment>/archive``).
        extracted_path
            The folder to fill (``downloaded/<assignment>/extracted``), already emptied
            by ``ZipCollectApp`` when ``--force`` is given.
        """
        self._left = self.max_total_bytes
        archive_path, extracted_path = map(os.path.abspath, (archive_path, extracted_path))
        if not os.listdir(archive_path):
            self.log.warning("No files found in directory: %s", archive_path)
            return
        for here, folders, names in os.walk(archive_path, followlinks=False):
            for folder in list(folders):
                if os.path.islink(os.path.join(here, folder)):
                    self.refuse(os.path.join(here, folder), "a symbolic link to a folder")
                    folders.remove(folder)
            target = os.path.normpath(
                os.path.join(extracted_path, os.path.relpath(here, archive_path))
            )
            clashing = self._refuse_clashes(here, folders, names, target)
            folders[:] = [folder for folder in folders if folder not in clashing]
            for name in sorted(names):
                if name not in clashing:
                    self._extract_file(os.path.join(here, name), target)

    def _extracted_name(self, name: str) -> str:
        """The name ``name`` of the archive folder takes in the extracted folder: an
        archive's (``Download.ZIP``, ``Download.tar.zip``) is its folder's, its name
        without the extension; any other file or folder keeps its name."""
        stem, extension = os.path.splitext(name)
        if extension.lower() not in {ext.lower() for ext in self.zip_ext}:
            return name
        return stem[: -len(".tar")] if stem.lower().endswith(".tar") else stem

    def _refuse_clashes(
        self, here: str, folders: list[str], names: list[str], target: str
    ) -> set[str]:
        """Refuse every file or folder of ``here`` that lands where another one does
        (``Download.zip`` and ``Download.ZIP``, or an archive and a folder of its stem);
        return their names.

        Extracting them in turn took the first one's files, and refused only the later
        one's as second entries: which of them the instructor meant cannot be told, so
        none is, and each is named. Nothing in ``archive/`` is changed."""
        places: dict[str, list[str]] = defaultdict(list)
        for name in [*folders, *names]:
            places[self._extracted_name(name)].append(name)
        clashing: set[str] = set()
        for place, sources in places.items():
            if len(sources) < 2:
                continue
            clashing.update(sources)
            for source in sources:
                others = ", ".join(repr(other) for other in sorted(sources) if other != source)
                self.refuse(
                    os.path.join(here, source),
                    f"it and {others} would be extracted to one place, "
                    f"{os.path.join(target, place)}, so none of them is: which one counts "
                    "cannot be told; rename them in the archive folder and collect again",
                )
        return clashing

    def _extract_file(self, path: str, target: str) -> None:
        try:
            problem = safefiles.entry_problem(path)
        except OSError as exc:
            problem = f"could not be examined ({exc.strerror})"
        if problem is not None:
            self.refuse(path, problem)
            return
        stem = self._extracted_name(os.path.basename(path))
        # Case-blind, unlike nbgrader's own extractor: a download saved as "Download.ZIP"
        # (Windows, some LMS exports) is an archive too, not a learner's file to copy.
        if stem == os.path.basename(path):
            self._copy_plain_file(path, target)
            return
        try:
            fd = os.open(path, _FILE_FLAGS)
        except OSError as exc:
            self.refuse(path, f"could not be opened without following a link ({exc.strerror})")
            return
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self.refuse(path, "not a zip archive (only zip archives are extracted)")
                return
            if not zipfile.is_zipfile(handle):
                handle.seek(0)
                self.refuse(path, _not_a_zip(handle.read(len(_ZIP_START))))
                return
            handle.seek(0)
            self.log.info("Extracting from: %s", path)
            self.log.info("  Extracting to: %s", os.path.join(target, stem))
            self._extract_zip(handle, path, os.path.join(target, stem))

    def _copy_plain_file(self, path: str, target: str) -> None:
        try:
            data = safefiles.read_bytes(path, min(self.max_member_bytes, self._left))
        except OSError as exc:
            self.refuse(path, str(exc))
            return
        self._left -= len(data)
        self.log.info("Copying from: %s", path)
        safefiles.write_bytes(os.path.join(target, os.path.basename(path)), data)

    def _extract_zip(self, handle: Any, path: str, target: str) -> None:
        try:
            bundle = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            # is_zipfile found its end record, so it is a zip whose directory is broken
            self.refuse(path, f"a damaged zip archive ({exc}): download it again")
            return
        with bundle:
            members = bundle.infolist()
            if len(members) > self.max_members:
                self.refuse(
                    path,
                    f"{len(members)} entries, more than the limit of "
                    f"{self.max_members}: not extracted (a zip bomb?)",
                )
                return
            os.makedirs(target, exist_ok=True)
            real_target = os.path.realpath(target)
            clashes = _clashing_members(members)
            for member in members:
                problem = clashes.get(id(member)) or self._extract_member(
                    bundle, member, real_target
                )
                if problem is not None:
                    self.refuse(f"{path}!{member.filename}", problem)

    def _extract_member(
        self, bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: str
    ) -> str | None:
        """Extract one entry; return why it is refused, or None. Whatever goes wrong
        with one entry refuses that entry only: the others are still extracted."""
        try:
            return self._extract_checked_member(bundle, member, target)
        except Exception as exc:  # one hostile entry must not stop the rest
            return f"could not be extracted ({type(exc).__name__}: {exc})"

    def _extract_checked_member(
        self, bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: str
    ) -> str | None:
        mode = member.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if stat.S_ISLNK(mode):
            return "a symbolic link entry"
        problem = zip_member_problem(member.filename)
        if problem is not None:
            return problem
        relative = zip_member_path(member.filename) or ""
        is_folder = member.is_dir() or stat.S_ISDIR(mode)
        if not relative:
            return None if is_folder else "it names no file (its path is the folder itself)"
        destination = os.path.join(target, relative)
        if is_folder:
            try:
                os.makedirs(destination, exist_ok=True)
            except FileExistsError:
                return "a folder entry where an entry of the same name is a file"
            except OSError as exc:
                return f"its folder could not be made ({exc.strerror})"
            return None
        if kind not in (0, stat.S_IFREG):
            return "a special file entry (a FIFO, socket or device)"
        if member.file_size > self.max_member_bytes:
            return (
                f"expands to {member.file_size} bytes, over the per-entry limit of "
                f"{self.max_member_bytes} (a zip bomb?)"
            )
        if member.file_size > self._left:
            return f"over the extraction's total limit of {self.max_total_bytes} bytes"
        try:
            os.makedirs(os.path.dirname(destination), exist_ok=True)
        except OSError as exc:
            return f"its folder could not be made ({exc.strerror})"
        if not _inside(os.path.dirname(destination), target):
            return "its folder is outside the extraction folder"
        return self._write_member(bundle, member, destination)

    def _write_member(
        self, bundle: zipfile.ZipFile, member: zipfile.ZipInfo, destination: str
    ) -> str | None:
        # The declared size may lie: count what decompression really produces.
        limit = min(self.max_member_bytes, self._left)
        try:
            fd = os.open(destination, _NEW_FILE_FLAGS, 0o644)
        except FileExistsError:
            return "a second entry with the same name"
        except OSError as exc:
            return f"could not be written ({exc.strerror})"
        written = 0
        problem = None
        try:
            with os.fdopen(fd, "wb") as out, bundle.open(member) as source:
                while chunk := source.read(_CHUNK):
                    written += len(chunk)
                    if written > limit:
                        problem = f"expands past the limit of {limit} bytes (a zip bomb?)"
                        break
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            # a bad CRC, a cut-off or corrupt stream: the download, which the LMS wrote
            # whole, was damaged on its way
            problem = f"damaged ({exc}): download the archive again"
        except (RuntimeError, NotImplementedError, OSError) as exc:
            problem = f"could not be read ({exc})"
        if problem is not None:
            os.unlink(destination)
            return problem
        self._left -= written
        return None


def _clashing_members(members: list[zipfile.ZipInfo]) -> dict[int, str]:
    """Why each file entry of an archive that lands on the same file as another one is
    refused, by ``id`` of its ``ZipInfo``: two entries of one name, or of names that differ
    only in the parts :func:`zip_member_path` leaves out (``a//b.ipynb``, ``./b.ipynb``).

    Extracted in turn, the first one's content was kept and only the later ones reported,
    so which upload was collected depended on the order in the archive. Which one the LMS
    meant cannot be told: none is extracted, each is named, and the download in
    ``archive/`` is left as it was, so nothing is lost."""
    places: dict[str, list[zipfile.ZipInfo]] = defaultdict(list)
    for member in members:
        relative = zip_member_path(member.filename)
        if relative and not (member.is_dir() or stat.S_ISDIR(member.external_attr >> 16)):
            places[relative].append(member)
    clashes: dict[int, str] = {}
    for relative, same in places.items():
        if len(same) < 2:
            continue
        names = ", ".join(repr(member.filename) for member in same)
        for member in same:
            clashes[id(member)] = (
                f"{len(same)} entries of the archive would be extracted to {relative} "
                f"({names}), so none is: which one counts cannot be told; keep one in the "
                "download and collect again"
            )
    return clashes


#: How a zip archive starts: its first entry's local header, or the end record of an
#: empty one.
_ZIP_START = b"PK\x03\x04"
_EMPTY_ZIP_START = b"PK\x05\x06"


def _not_a_zip(start: bytes) -> str:
    """Why a file named as an archive, whose end record ``zipfile`` cannot find, is not
    extracted: a file that starts as a zip archive was cut short or damaged on its way
    (a download again fixes it); any other is no zip archive at all."""
    if start in (_ZIP_START, _EMPTY_ZIP_START):
        return "a damaged zip archive (cut short?): download it again"
    return "not a zip archive (only zip archives are extracted)"


#: The longest name of one file or folder most file systems take, in bytes.
MAX_NAME_BYTES = 255


def zip_member_problem(name: str) -> str | None:
    """Why a zip entry's name cannot be extracted as it stands, or None.

    The name is taken as the learning-management system wrote it, never repaired: a
    learner chooses the end of it, so an entry whose ``..`` or ``\\`` would move it to
    another place (in a classmate's name, say) is refused, not normalised there.

    Parameters
    ----------
    name
        The entry's name as stored in the archive.

    Returns
    -------
    str or None
        None for a relative ``/``-separated path; otherwise the reason: a NUL, an
        absolute path or drive letter, a ``..`` component, a backslash (a folder separator
        to Windows tools; no LMS writes one), a component over :data:`MAX_NAME_BYTES`, or
        more than :data:`lstm_grader.safefiles.MAX_FOLDER_DEPTH` folders.
    """
    if "\x00" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "its path escapes the extraction folder"
    parts = name.split("/")
    if ".." in parts:
        return "its path escapes the extraction folder (a '..' in it)"
    if "\\" in name:
        return "a backslash in its name, which Windows tools read as a folder separator"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in parts):
        return f"a file or folder name longer than {MAX_NAME_BYTES} bytes"
    if len([part for part in parts if part not in ("", ".")]) - 1 > safefiles.MAX_FOLDER_DEPTH:
        return f"more than {safefiles.MAX_FOLDER_DEPTH} folders deep"
    return None


def zip_member_path(name: str) -> str | None:
    """The relative path the zip entry ``name`` is extracted to (its empty and ``.``
    parts left out), ``""`` for the folder itself, or None when
    :func:`zip_member_problem` refuses the name."""
    if zip_member_problem(name) is not None:
        return None
    return "/".join(part for part in name.split("/") if part not in ("", "."))


# ------------------------------------------------------------------------------------------
# nbgrader collect
# ------------------------------------------------------------------------------------------


@dataclass
class InboundSubmission:
    """One inbound folder that passed the checks, as ``SafeExchangeCollect`` sees it."""

    name: str
    student_id: str
    claimed: datetime.datetime
    changed: datetime.datetime
    device: int
    inode: int

    @property
    def timestamp(self) -> datetime.datetime:
        """The later of the time the name claims and the folder's last change (ctime)."""
        return max(self.claimed, self.changed)


def owner_problem(claimed: str, owner_uid: int) -> str | None:
    """Why a folder owned by ``owner_uid`` cannot be ``claimed``'s submission, or None.

    The owner must be the account named ``claimed`` (a pwd lookup) or the user running
    collect (an instructor's own test submissions).
    """
    if owner_uid == os.geteuid():
        return None
    try:
        if pwd.getpwnam(claimed).pw_uid == owner_uid:
            return None
    except KeyError:
        pass
    try:
        owner = pwd.getpwuid(owner_uid).pw_name
    except KeyError:
        owner = f"uid {owner_uid}"
    return (
        f"it claims to be {claimed}'s but is owned by {owner}, who is neither {claimed} "
        "nor the user running collect"
    )


class SafeExchangeCollect(_Refusals, ExchangeCollect):
    """``nbgrader collect`` that a learner's inbound folder cannot redirect or back-date.

    nbgrader's collect takes student and time from the folder name, only warns about an
    owner who is not the claimed student, and copies with ``shutil.copytree``, which follows
    links. Here inbound entries that are links or not folders are skipped, a folder owned by
    neither the claimed student nor the user running collect is refused (unless
    ``check_owner`` is switched off, which is then warned about), the copy takes plain
    folders and regular files only (:func:`copy_regular_tree_at`), and the collected
    ``timestamp.txt`` holds the later of the claimed time and the last change (ctime) of the
    folder and everything copied from it. A tie at a student's latest time is refused
    (:meth:`_choose`), and a run that refused anything ends, after collecting the rest, with
    nbgrader's ``ExchangeError``, so ``nbgrader collect`` exits with status 1.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: list[str] = []
        self.src_records: list[InboundSubmission] = []
        # inbound folder names are a learner's to choose, line breaks and escapes included
        self.log.addFilter(_escape_log_record)

    # -------------------------------------------------------------- finding submissions
    def init_src(self) -> None:
        """Find each student's submission to collect among the inbound folders."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if (problem := self._exchange_folder_problem()) is not None:
            self.fail(problem)
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        marker = f"+{self.coursedir.assignment_id}+"
        found = [
            self._examine(name) for name in sorted(os.listdir(self.inbound_path)) if marker in name
        ]
        by_student: dict[str, list[InboundSubmission]] = defaultdict(list)
        for submission in found:
            if submission is not None:
                by_student[submission.student_id].append(submission)
        self.duedate = None
        if self.before_duedate:
            # nbgrader opens the gradebook every time, but only before_duedate uses it.
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gradebook:
                try:
                    self.duedate = gradebook.find_assignment(self.coursedir.assignment_id).duedate
                except MissingEntry:
                    pass
        chosen = [self._choose(subs) for _, subs in sorted(by_student.items())]
        self.src_records = [submission for submission in chosen if submission is not None]

    def _exchange_folder_problem(self) -> str | None:
        """Why the course's exchange folders cannot be trusted, or None.

        nbgrader leaves the exchange root writable by everyone: a learner could rename the
        course's folder away and make one of their own, whose ``inbound`` they can read and
        empty. The course folder and its ``inbound`` must therefore be real folders (not
        links) owned by the user collecting, by root or by the exchange root's owner.
        """
        trusted = {os.geteuid(), 0}
        with contextlib.suppress(OSError):
            trusted.add(os.stat(self.root).st_uid)
        for folder in (self.course_path, self.inbound_path):
            try:
                info = os.lstat(folder)
            except OSError as exc:
                return f"{folder} cannot be examined ({exc.strerror})"
            if not stat.S_ISDIR(info.st_mode):
                return f"{folder} is not a folder (a link?): not collecting from it"
            if info.st_uid not in trusted:
                return (
                    f"{folder} is owned by uid {info.st_uid}, neither you, root nor the "
                    "exchange's owner: a learner may have replaced it, so nothing is collected "
                    "from it. Give the exchange root the sticky bit (chmod 1777) or make it "
                    "writable by its owner only."
                )
        return None

    def _choose(self, submissions: list[InboundSubmission]) -> InboundSubmission | None:
        """The submission to collect of one student's ``submissions``, or None for a tie.

        As nbgrader: the latest, or with ``before_duedate`` the latest one on time; but by
        the time that cannot be back-dated (:attr:`InboundSubmission.timestamp`). Two or more
        at the latest time are a tie that nothing the exchange records can break: the rest
        of an inbound folder's name is the learner's to choose, so it must not decide. Each
        of them is refused, saying so, and the student's collected submission, if any, is
        left as it was.
        """
        ordered = sorted(submissions, key=lambda s: s.timestamp, reverse=True)
        if self.before_duedate and self.duedate is not None:
            on_time = [s for s in ordered if s.timestamp <= self.duedate]
            ordered = on_time or ordered
        tied = [s for s in ordered if s.timestamp == ordered[0].timestamp]
        if len(tied) == 1:
            return tied[0]
        for submission in sorted(tied, key=lambda s: s.name):
            self.refuse(
                os.path.join(self.inbound_path, submission.name),
                f"{len(tied)} inbound folders of {submission.student_id} are dated "
                f"{format_timestamp(submission.timestamp)}, so which is the latest cannot be "
                "told: none of them is collected. Remove all but one from the inbound folder "
                "and collect again",
            )
        return None

    def _wanted(self, student_id: str) -> bool:
        wanted = self.coursedir.student_id
        return wanted in ("", "*") or fnmatch.fnmatchcase(student_id, wanted)

    def _examine(self, name: str) -> InboundSubmission | None:
        """The submission an inbound entry holds, or None (refused or not asked for)."""
        where = os.path.join(self.inbound_path, name)
        parts = name.split("+")
        if not self._wanted(parts[0]):
            return None
        if len(parts) not in (3, 4) or parts[1] != self.coursedir.assignment_id:
            self.refuse(where, "its name is not <student>+<assignment>+<timestamp>[+<random>]")
            return None
        student_id = parts[0]
        if not is_safe_student_id(student_id):
            self.refuse(where, f"student id {student_id!r} is not a safe id")
            return None
        try:
            claimed = read_timestamp(parts[2])
        except (ValueError, OverflowError):
            self.refuse(where, f"its timestamp {parts[2]!r} cannot be read")
            return None
        try:
            info = os.lstat(where)
        except OSError as exc:
            self.refuse(where, f"could not be examined ({exc.strerror})")
            return None
        if stat.S_ISLNK(info.st_mode):
            self.refuse(where, "a symbolic link, not a submission folder")
            return None
        if not stat.S_ISDIR(info.st_mode):
            self.refuse(where, "not a folder")
            return None
        problem = owner_problem(student_id, info.st_uid)
        if problem is not None:
            if self.check_owner:
                self.refuse(where, problem)
                return None
            self.log.warning(
                "%s: %s (collected anyway: ExchangeCollect.check_owner is off)", where, problem
            )
        return InboundSubmission(
            name, student_id, claimed, _utc(info.st_ctime), info.st_dev, info.st_ino
        )

    # -------------------------------------------------------------- copying
    def copy_files(self) -> None:
        """Copy each chosen submission to ``submitted/<student>/<assignment>/``."""
        assignment, course = self.coursedir.assignment_id, self.coursedir.course_id
        if not self.src_records:
            self.log.warning(
                "No submissions of '%s' for course '%s' to collect", assignment, course
            )
        else:
            self.log.info(
                "Processing %d submissions of '%s' for course '%s'",
                len(self.src_records),
                assignment,
                course,
            )
        for submission in self.src_records:
            self._collect(submission)
        if self.refused:
            # the rest is collected; the status tells a script (and the formgrader) that
            # something was not, and the line says what to read
            self.fail(
                f"{len(self.refused)} inbound entries were refused (see the warnings above); "
                "everything else was collected"
            )

    def _needs_copy(self, submission: InboundSubmission, dest_path: str) -> tuple[bool, bool]:
        """(copy, updating), decided as nbgrader decides it."""
        if not os.path.isdir(dest_path):
            return True, False
        existing = self.coursedir.get_existing_timestamp(dest_path)
        if self.update and (existing is None or submission.timestamp > existing):
            return True, True
        if self.before_duedate and existing != submission.timestamp:
            return True, True
        return False, False

    def _collect(self, submission: InboundSubmission) -> None:
        student, assignment = submission.student_id, self.coursedir.assignment_id
        where = os.path.join(self.inbound_path, submission.name)
        try:
            fd = os.open(where, _FOLDER_FLAGS)
        except OSError as exc:
            self.refuse(where, f"could not be opened as a folder ({exc.strerror})")
            return
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) != (submission.device, submission.inode):
                self.refuse(where, "replaced by another folder while collecting")
                return
            dest_path = self.coursedir.format_path(
                self.coursedir.submitted_directory, student, assignment
            )
            settle_interrupted_collection(dest_path, self.log)
            copy, updating = self._needs_copy(submission, dest_path)
            if not copy:
                if self.update:
                    self.log.info("No newer submission to collect: %s %s", student, assignment)
                else:
                    self.log.info(
                        "Submission already exists, use --update to update: %s %s",
                        student,
                        assignment,
                    )
                return
            self.log.info(
                "%s submission: %s %s",
                "Updating" if updating else "Collecting",
                student,
                assignment,
            )
            try:
                self._copy_into(fd, submission, where, dest_path)
            except OSError as exc:
                # one submission the file system cannot take (names or paths too long, a
                # folder where a file must go) is refused alone; the others are collected
                self.refuse(where, f"could not be collected ({exc})")
                with contextlib.suppress(OSError):  # the student's folder, if left empty
                    os.rmdir(os.path.dirname(dest_path))
        finally:
            os.close(fd)

    def _copy_into(
        self, fd: int, submission: InboundSubmission, where: str, dest_path: str
    ) -> None:
        coursedir = self.coursedir
        # Copy beside the destination and rename: a refused or failed copy leaves the
        # previously collected submission as it was.
        staging = _new_folder_beside(dest_path)
        try:
            os.chmod(staging, 0o755)  # as this collect always made it, whatever the umask
            result = copy_regular_tree_at(
                fd,
                staging,
                max_file_bytes=min(safefiles.MAX_FILE_BYTES, 1000 * coursedir.max_file_size),
                max_total_bytes=1000 * coursedir.max_dir_size,
                ignore=coursedir.ignore,
                include=coursedir.include,
                owner=os.fstat(fd).st_uid,
            )
            for entry in result.refused:
                self.refuse(f"{where}/{entry.split(': ', 1)[0]}", entry.split(": ", 1)[1])
            # ctime after the copy, so a change made while copying also counts.
            changed = _utc(max(result.newest_ctime, os.fstat(fd).st_ctime))
            timestamp = max(submission.claimed, changed)
            if timestamp > submission.claimed + SUBMIT_COPY_SLACK:
                self.log.info(
                    "%s claims %s but was last changed %s; collected as %s",
                    where,
                    submission.claimed,
                    changed,
                    timestamp,
                )
            # Never the learner's own timestamp.txt, whatever kind of entry it is.
            own = os.path.join(staging, "timestamp.txt")
            if os.path.isdir(own) and not os.path.islink(own):
                safefiles.remove_tree(own)
            safefiles.write_text(
                os.path.join(staging, "timestamp.txt"), format_timestamp(timestamp)
            )
            _replace_folder(staging, dest_path)
            staging = None
            if coursedir.groupshared:
                _make_groupshared(dest_path, self.log)
        finally:
            if staging is not None:
                safefiles.remove_tree(staging)


def _make_groupshared(folder: str, log: Any) -> None:
    """As nbgrader's ``do_copy`` with ``groupshared``: folders ug+rwx, files ug+rw."""
    for here, _, names in os.walk(folder):
        for path, wanted in [(here, 0o2770)] + [(os.path.join(here, n), 0o660) for n in names]:
            mode = os.lstat(path).st_mode
            if mode & wanted != wanted:
                try:
                    os.chmod(path, (mode | wanted) & 0o2777)
                except PermissionError:
                    log.warning("Could not make %s groupshared", path)
