"""Refusing a submission before nbgrader opens anything in it.

``nbgrader autograde`` reads and copies a submission before any preprocessor of the
course runs: it reads ``timestamp.txt``, copies every other file into ``autograded/``
with ``shutil.copy`` (which follows links: one to ``/dev/zero`` fills the disk, one to a
root-only file copies it out), and reads each notebook (a FIFO never answers, a link to
``/dev/zero`` fills the memory). nbgrader offers no hook that can stop a submission
there (its ``pre_convert_hook`` swallows every error), so :func:`guard_autograde` puts
the check in front of ``Autograde.init_assignment``. The course's ``nbgrader_config.py``
calls it, so plain ``nbgrader autograde``, the formgrader and ``lstm-grade`` all refuse
the same folders, for the same reasons, before nbgrader touches them.

A notebook that can be read may still hold more cells than any learner writes:
:func:`notebook_too_large` bounds them, since every cell costs grading and the feedback page
time whatever its size (80,000 one-word cells took 50 s to grade and 80 s to render).
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from lstm_grader import report, safefiles
from lstm_grader.timestamps import TIMESTAMP_FILE, timestamp_problem

#: The most cells a submitted notebook may hold: the released notebooks hold at most 35,
#: and a learner's scratch cells come nowhere near.
MAX_NOTEBOOK_CELLS = 2_000

#: The deepest a submitted notebook's JSON may nest lists and mappings. What Jupyter
#: writes stays near 40 (an output's data nests at most
#: :data:`~lstm_grader.kernel_messages.MAX_CONTENT_DEPTH` levels, under 6 of the
#: notebook's own), and metadata nested deeper is graded (and dropped from the copy);
#: nbformat fails on its own reading of a notebook from about 490 levels on, by how deep
#: the reader's stack already is, so a check in one process passed a notebook that
#: nbgrader, in another, could not read. Well below that, whatever process reads.
MAX_NOTEBOOK_DEPTH = 200


#: The most JSON values (mappings, lists and the items of lists) a submitted notebook may
#: hold, counted in its text before anything parses it. The released notebooks hold under
#: 1,000; a learner's outputs add a few thousand. A flat list of five million empty
#: mappings (14 MiB) made nbconvert's copies of the notebook take 10 GB of the grader's own
#: memory, outside every limit of the sandbox.
MAX_NOTEBOOK_VALUES = 200_000

#: The files of a submission autograde still copies (plain text, served as such): the time
#: the guard has read, and the secret ``nbgrader submit`` writes, both read again by
#: ``nbgrader release_feedback`` from the feedback folder.
EXCHANGE_FILES = (TIMESTAMP_FILE, "submission_secret.txt")
#: The largest of them copied; nbgrader writes a few dozen bytes.
MAX_EXCHANGE_FILE_BYTES = 4096

#: A JSON string, escapes included: what :func:`json_value_count` skips.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


def json_value_count(data: bytes) -> int:
    """How many mappings, lists and list items (past the first of each) the JSON text
    ``data`` holds: its ``{``, ``[`` and ``,`` outside strings. Linear, and no value is
    built.

    Examples
    --------
    >>> json_value_count(b'{"cells": [{}, {}], "note": "a, [b] {c}"}')
    6
    """
    bare = _JSON_STRING.sub(b"", data)
    return bare.count(b"{") + bare.count(b"[") + bare.count(b",")


#: A student id that is safe as a single folder name under ``submitted/``: ASCII letters,
#: digits, ``_ . - @``; it may not start with ``.`` (hidden, ``..``), ``-`` (an option to
#: the commands that take it) or ``@`` (a formula in the spreadsheet an instructor opens
#: ``nbgrader export``'s CSV in, which writes ids as they are), and
#: :func:`is_safe_student_id` also refuses ``..`` anywhere.
SAFE_STUDENT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}")


class RefusedSubmission(ValueError):
    """A submission folder holds what the grader will not open; nothing of it was read."""


def is_safe_student_id(student_id: str) -> bool:
    """Whether ``student_id`` can name a folder under ``submitted/`` and nothing else, and
    be given to nbgrader's ``--student`` (a pattern there) as itself alone.

    Parameters
    ----------
    student_id
        The id read from a file or folder name a learner may have chosen.

    Returns
    -------
    bool
        True for ASCII letters, digits and ``_ . - @`` only, not starting with ``.``,
        ``-`` or ``@``, without ``..``, at most 128 characters.
    """
    return bool(SAFE_STUDENT_ID.fullmatch(student_id)) and ".." not in student_id


def refused_entries(folder: str | Path) -> list[str]:
    """What in a submission folder the grader will not open, one line per entry.

    :func:`lstm_grader.safefiles.unsafe_entries` (links, FIFOs, devices, other hard
    links, files over the size limits, folders too deep or too full) and a
    ``timestamp.txt`` nbgrader cannot read safely
    (:func:`lstm_grader.timestamps.timestamp_problem`). The folder itself, or the
    student's folder above it, being a link counts too.

    Parameters
    ----------
    folder : str or Path
        A submission's folder, ``submitted/<student>/<assignment>``.

    Returns
    -------
    list of str
        ``"<relative path>: <why>"`` lines; empty when the folder may be graded.
    """
    folder = os.path.abspath(folder)
    for where in (folder, os.path.dirname(folder)):
        if os.path.islink(where):
            return [f"{os.path.relpath(where, folder)}: a symbolic link"]
    refused = safefiles.unsafe_entries(folder)
    if not any(line.startswith(f"{TIMESTAMP_FILE}: ") for line in refused):
        problem = timestamp_problem(folder)
        if problem:
            refused.append(problem)
    if not refused:
        refused += _notebooks_too_full(folder)
    return sorted(refused)


def _notebooks_too_full(folder: str) -> list[str]:
    """A line for each notebook of ``folder`` (safe entries only) with more JSON values
    than :data:`MAX_NOTEBOOK_VALUES`."""
    found = []
    for entry in os.scandir(folder):
        if entry.name.endswith(".ipynb") and entry.is_file(follow_symlinks=False):
            count = json_value_count(safefiles.read_bytes(entry.path))
            if count > MAX_NOTEBOOK_VALUES:
                found.append(
                    f"{entry.name}: it holds {count:,} JSON values, more than the "
                    f"{MAX_NOTEBOOK_VALUES:,} a notebook may hold (clear its outputs, "
                    "save it and submit again)"
                )
    return found


def refusal_message(refused: list[str]) -> str:
    """The one line that says why a submission was not graded, printable in a terminal
    (the entries are a learner's file names)."""
    return report.printable(
        "refusing to grade: the submission holds entries the grader will not open ("
        + "; ".join(refused[:5])
        + (f"; and {len(refused) - 5} more" if len(refused) > 5 else "")
        + ")"
    )


def guard_autograde() -> None:
    """Make ``nbgrader autograde`` check each submission folder with
    :func:`refused_entries` before it reads or copies anything in it.

    A refused submission raises :class:`RefusedSubmission` from
    ``Autograde.init_assignment``; nbgrader logs it, leaves that submission ungraded and
    grades the others. Calling it again changes nothing.

    The files of a submission other than its notebooks and :data:`EXCHANGE_FILES` are no
    longer copied into ``autograded/``: the formgrader serves that folder from the Jupyter
    server's own origin, so a learner's ``notes.html`` opened there ran as the instructor
    (and nbgrader matched each file against every ignore pattern by listing its whole
    folder again: minutes for 10,000 files). The grading kernel still receives them,
    read-only, from the submitted folder (:func:`lstm_grader.sandbox.submission_files`).
    """
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.base import BaseConverter

    if getattr(Autograde.init_assignment, "guarded_by_lstm_grader", False):
        return
    unguarded = Autograde.init_assignment
    copies_every_file = BaseConverter.init_assignment

    @functools.wraps(copies_every_file)
    def copies_no_learner_file(converter: Any, assignment_id: str, student_id: str) -> None:
        if not isinstance(converter, Autograde):
            copies_every_file(converter, assignment_id, student_id)
            return
        # but the two small text files nbgrader's exchange reads from the feedback folder,
        # which generate_feedback copies on: release_feedback reads both there
        source = converter._format_source(assignment_id, student_id)
        destination = converter._format_dest(assignment_id, student_id)
        for name in EXCHANGE_FILES:
            kept = os.path.join(source, name)
            if os.path.isfile(kept) and not os.path.islink(kept):
                data = safefiles.read_bytes(kept)
                if len(data) <= MAX_EXCHANGE_FILE_BYTES:
                    os.makedirs(destination, exist_ok=True)
                    safefiles.write_bytes(os.path.join(destination, name), data)

    if not getattr(copies_every_file, "guarded_by_lstm_grader", False):
        copies_no_learner_file.guarded_by_lstm_grader = True  # type: ignore[attr-defined]
        BaseConverter.init_assignment = copies_no_learner_file  # type: ignore[method-assign]

    @functools.wraps(unguarded)
    def init_assignment(converter: Any, assignment_id: str, student_id: str) -> None:
        folder = converter._format_source(assignment_id, student_id)
        refused = refused_entries(folder) if os.path.lexists(folder) else []
        if refused:
            raise RefusedSubmission(refusal_message(refused))
        unguarded(converter, assignment_id, student_id)

    init_assignment.guarded_by_lstm_grader = True  # type: ignore[attr-defined]
    Autograde.init_assignment = init_assignment  # type: ignore[method-assign]


def notebook_too_large(notebook: Any) -> str | None:
    """Why ``notebook`` is too large to grade, or None: more cells than
    :data:`MAX_NOTEBOOK_CELLS`, or lists and mappings nested deeper than
    :data:`MAX_NOTEBOOK_DEPTH` (found without recursion, however deep they go).

    Parameters
    ----------
    notebook : nbformat.NotebookNode or dict
        A notebook as read from a submission.

    Returns
    -------
    str or None
        One line saying what is past which limit, or None.

    Examples
    --------
    >>> notebook_too_large({"cells": [{}] * 3, "metadata": {"a": [[1]]}}) is None
    True
    >>> notebook_too_large({"cells": [{}] * 2_001})
    'it holds 2,001 cells, more than the 2,000 a notebook may hold'
    >>> deep = []
    >>> for _ in range(MAX_NOTEBOOK_DEPTH):
    ...     deep = [deep]
    >>> notebook_too_large({"cells": [], "metadata": {"a": deep}})
    'it nests more than 200 levels deep, which no notebook saved by Jupyter does'
    """
    count = len(notebook.get("cells") or ())
    if count > MAX_NOTEBOOK_CELLS:
        return f"it holds {count:,} cells, more than the {MAX_NOTEBOOK_CELLS:,} a notebook may hold"
    pending = [(notebook, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_NOTEBOOK_DEPTH:
            return (
                f"it nests more than {MAX_NOTEBOOK_DEPTH} levels deep, which no notebook "
                "saved by Jupyter does"
            )
        inner = item.values() if isinstance(item, dict) else item
        pending += [(part, depth + 1) for part in inner if isinstance(part, dict | list)]
    return None


def quiet_notebook_repairs() -> None:
    """Keep nbformat's warnings about the cell ids it repairs out of this process's output.

    Reading a notebook, nbformat gives each cell without an id, or with an id an earlier
    cell already holds, an id of its own, and warns once per such cell, quoting the
    learner's id whole and naming no learner. One submitted notebook of 1,950 cells
    sharing an id wrote 3,960 lines into ``lstm-grade``'s output and as many into its
    grading log; one whose shared ids were 25,000 characters long wrote 48 MB before it
    was refused as invalid. The repair stays (nbgrader grades the repaired notebook, as
    before); only its warnings go. The course's ``nbgrader_config.py`` calls it, so every
    process that reads the course's configuration does: each nbgrader command (a Dask
    worker's too), and ``lstm-grade`` before it reads a submission. Calling it again
    changes nothing.
    """
    import warnings

    from nbformat.warnings import DuplicateCellId, MissingIDFieldWarning

    for repair in (DuplicateCellId, MissingIDFieldWarning):
        warnings.filterwarnings("ignore", category=repair)
