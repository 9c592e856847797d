"""nbgrader preprocessors that compute every verdict outside the learner's kernel.

``nbgrader_config.py`` puts them into nbgrader's own autograde pipeline:

sanitize step (on the submitted notebook)
    :class:`CheckSubmission` first, then nbgrader's ``OverwriteCells`` (which restores
    the locked cells and re-adds deleted test cells; the notebook's rows loaded at once,
    :mod:`lstm_grader.notebook_rows`).
autograde step (on the sanitized copy in ``autograded/``)
    :class:`StageAnswers` replaces each test cell with a line that hands the answer
    over as data; :class:`SandboxedExecute` runs the notebook in the sandboxed kernel;
    :class:`JudgeAnswers` compares the handed-over answers with ``references/`` and
    writes the verdicts as the test cells' outputs, which nbgrader's ``SaveAutoGrades``
    then scores (in one commit, :mod:`lstm_grader.notebook_rows`); :class:`FlagForReview`
    marks flagged submissions for manual grading.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterable
from html import escape as html_escape
from pathlib import Path
from queue import Empty
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import nbformat
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import BaseCell, Gradebook
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Any as AnyTrait
from traitlets import Bool, Integer, Unicode

from lstm_grader import (
    check_imports,
    check_names,
    hidden,
    kernel_messages,
    pasted_images,
    report,
    safefiles,
    warm_kernels,
)
from lstm_grader.course import layout_of
from lstm_grader.notebook_rows import grade_id_of, notebook_cells
from lstm_grader.references import load_references
from lstm_grader.sandbox import (
    SandboxKernelManager,
    SandboxProvisioner,
    SandboxUnavailable,
    readable_files_digest,
    sandbox_problem,
)
from lstm_grader.submission_guard import (
    RefusedSubmission,
    notebook_too_large,
    refusal_message,
    refused_entries,
)
from lstm_lib import verdicts
from lstm_lib.answers import parse_answer_json

_STATE = "lstm_grading"
_NBGRADER_KEYS = ("grade", "solution", "locked", "points", "task", "schema_version")


def _new_state() -> dict[str, Any]:
    """What the autograde step's preprocessors pass each other through ``resources``."""
    return {
        "staged": {},
        "events": [],
        "not_run": [],
        "requested": {},
        "replies": {},
        "grader_errors": [],
        "sandbox": {},
        "refused_messages": {},
        "stopped_by": "",
    }


def flood_reason(kernel_stopped: bool) -> str:
    """Why a notebook whose kernel sent more than the grader holds at once ended as it
    did: said in ``grades.csv`` and the report, since the status alone ("output-limit")
    reads as a long output cut at the byte cap, while such a kernel may have flooded a
    channel that carries no output at all.

    Examples
    --------
    >>> flood_reason(kernel_stopped=True)
    'the kernel sent more at once than the grader accepts, so it was stopped'
    """
    what = "it was stopped" if kernel_stopped else "its output connection was cut"
    return f"the kernel sent more at once than the grader accepts, so {what}"


def _report_file(preprocessor: Any, resources: ResourcesDict) -> Path:
    ids = resources["nbgrader"]
    layout = layout_of(preprocessor)
    return layout.report_file(ids["student"], ids["assignment"], ids["notebook"])


def _is_test_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _is_plain_answer_cell(cell: NotebookNode) -> bool:
    """An answer cell nobody grades by hand and nothing locks: the learner's to write."""
    if not utils.is_solution(cell) or utils.is_grade(cell):
        return False
    # read by hand: nbgrader's is_locked answers False for every solution cell
    return not cell.metadata["nbgrader"].get("locked", False)


class CheckSubmission(NbGraderPreprocessor):
    """Compare a submission with the released notebook and flag what a test cell cannot stop.

    Deleted, duplicated, retyped or edited test and locked cells, changed nbgrader
    metadata and renamed ``grade_id``\\ s are recorded as flags; the test cells involved
    score 0 (nbgrader's ``OverwriteCells`` then restores their source). Runs first in the
    sanitize step, before anything is changed; the copy being graded then gets the
    released notebook's metadata and the released metadata of its locked cells.
    """

    release_notebook_path = Unicode(
        "",
        help="Override the released notebook to compare with (default: from the course's "
        "release directory).",
    ).tag(config=True)

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        ids = resources["nbgrader"]
        layout = layout_of(self)
        submitted = layout.submitted(ids["student"], ids["assignment"])
        # submission_guard.guard_autograde refuses such a folder before nbgrader reads it;
        # this stops the preprocessors where nbgrader runs without that guard
        refused = refused_entries(submitted) if os.path.isdir(submitted) else []
        if refused:
            raise RefusedSubmission(refusal_message(refused))
        released_path = self.release_notebook_path or os.path.join(
            layout.release(ids["assignment"]),
            f"{ids['notebook']}.ipynb",
        )
        if problem := notebook_too_large(nb):
            raise RefusedSubmission(f"refusing to grade: {problem}")
        released = nbformat.read(released_path, as_version=4)
        unnamed = unnamed_grading_cells(nb)
        _strip_malformed_metadata(nb)
        _drop_what_is_never_graded(nb)
        flags, tampered = compare_with_release(nb, released)
        if unnamed:
            flags.append(
                f"{unnamed:,} cell(s) carry nbgrader metadata with no grade id (added or "
                "edited by hand; graded as plain cells)"
            )
        versions = learner_versions(nb, released)
        _neutralise_tampered_cells(nb, released)
        # after: each cell then has the type it runs as, and only released cells test
        # what the kernel may read beside the cells it is sent: its answers may come from there
        digests = answer_digests(
            nb, readable_files_digest(submitted) if os.path.isdir(submitted) else ""
        )
        # nothing in the learner's notebook metadata is graded, and widget state there is
        # live markup: nbconvert's HTML export of the autograded notebook loads a widget
        # manager for it, and an HTML widget's value runs in the instructor's browser
        nb.metadata = copy.deepcopy(released.metadata)
        path = _report_file(self, resources)
        earlier = report.read_report(path)
        new_report = {
            "student": ids["student"],
            "assignment": ids["assignment"],
            "notebook": ids["notebook"],
            "flags": flags,
            "tampered_cells": sorted(tampered),
            "learner_versions": versions,
            "answer_digests": digests,
            "previous_answer_digests": earlier.get("answer_digests", {}),
            "questions": {},
            "events": [],
            "sandboxed": sandbox_problem() is None,
            "started": time.time(),
        }
        report.write_report(path, new_report)
        return nb, resources


#: The longest learner version of an edited locked cell kept for the instructor.
MAX_KEPT_SOURCE = 20_000


def learner_versions(submitted: NotebookNode, released: NotebookNode) -> dict[str, str]:
    """The learner's source of each locked cell they edited, by ``grade_id``, so the
    instructor can read it beside the restored original (``OverwriteCells`` puts the
    released source back before anything runs)."""
    originals = {
        grade_id_of(cell): _source(cell)
        for cell in released.cells
        if grade_id_of(cell) is not None and cell.metadata.nbgrader.get("locked")
    }
    copies: dict[str, list[str]] = {}
    for cell in submitted.cells:
        grade_id = grade_id_of(cell)
        if grade_id in originals:
            copies.setdefault(grade_id, []).append(_source(cell))
    return {
        grade_id: found[0][:MAX_KEPT_SOURCE]
        for grade_id, found in copies.items()
        if len(found) == 1 and found[0] != originals[grade_id]
    }


def answer_digests(nb: NotebookNode, files_digest: str = "") -> dict[str, str]:
    """A digest of what each test cell grades, by its ``grade_id``: every code cell up to
    and including it, as the learner submitted them, and the files the kernel may read
    (``files_digest``, from :func:`~lstm_grader.sandbox.readable_files_digest`). An
    instructor's manual score stands while its digest does not change.

    Any code cell before a test cell can change the answer it reads, not only the answer
    cells since the previous test cell: a cell the learner added, or one whose ``solution``
    flag they removed by hand, defines the answer as well. So can a file handed in beside
    the notebook, which that code reads. A submission without such files has the digests
    of its code alone.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell
    >>> answer = cell("answer_q1 = 3", metadata={"nbgrader": {"solution": True}})
    >>> test = cell("expect_int(answer_q1)", metadata={"nbgrader": {"grade": True,
    ...             "solution": False, "grade_id": "q1"}})
    >>> first = answer_digests(nbformat.v4.new_notebook(cells=[answer, test]))
    >>> added = cell("answer_q1 = 4")
    >>> first != answer_digests(nbformat.v4.new_notebook(cells=[answer, added, test]))
    True
    """
    digests = {}
    # one running hash, each source length-prefixed: a copy per test cell, never the
    # notebook's code again for each one
    ran = hashlib.sha256(files_digest.encode("ascii"))
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell).encode("utf-8", "surrogatepass")
        ran.update(len(source).to_bytes(8, "big") + source)
        if _is_test_cell(cell) and grade_id_of(cell) is not None:
            digests[grade_id_of(cell)] = ran.copy().hexdigest()
    return digests


_FLAGGED_CELL = re.compile(r"^cell '(?P<grade_id>[^']*)' ")


def cells_to_review(notebook_report: dict[str, Any], test_cells: Iterable[str]) -> set[str]:
    """The test cells an instructor must grade by hand: those a flag names, or every test
    cell when a flag concerns something else (a locked setup cell, a missing cell)."""
    test_cells = set(test_cells)
    tampered = set(notebook_report.get("tampered_cells", []))
    review: set[str] = set()
    for flag in notebook_report.get("flags", []):
        match = _FLAGGED_CELL.match(flag)
        if match and match["grade_id"] in tampered:
            review.add(match["grade_id"])
        else:
            return test_cells
    return review & test_cells


def _review_note(notebook_report: dict[str, Any], grade_id: str) -> str:
    """What the instructor reads under a test cell marked for manual grading."""
    others = set(notebook_report.get("tampered_cells", [])) - {grade_id}
    concerning = [
        flag
        for flag in notebook_report.get("flags", [])
        if not ((named := _FLAGGED_CELL.match(flag)) and named["grade_id"] in others)
    ]
    lines = ["Flagged for the instructor: " + "; ".join(concerning or ["see the report"]) + "."]
    version = notebook_report.get("learner_versions", {}).get(grade_id)
    if version is not None:
        lines += ["The learner's version of this cell (the original was restored):", version]
    return "\n".join(lines) + "\n"


def compare_with_release(
    submitted: NotebookNode, released: NotebookNode
) -> tuple[list[str], set[str]]:
    """List how a submission's locked and test cells differ from the released notebook.

    Returns
    -------
    flags : list of str
        One human-readable reason per difference.
    tampered : set of str
        The ``grade_id`` of every test cell whose question must score 0.
    """
    flags: list[str] = []
    tampered: set[str] = set()
    by_id: dict[str, list[NotebookNode]] = {}
    for cell in submitted.cells:
        grade_id = grade_id_of(cell)
        if grade_id is not None:
            by_id.setdefault(grade_id, []).append(cell)
    released_ids = set()
    for original in released.cells:
        grade_id = grade_id_of(original)
        if grade_id is None:
            continue
        released_ids.add(grade_id)
        is_test = _is_test_cell(original)
        copies = by_id.get(grade_id, [])
        problem = None
        if not copies:
            problem = "was deleted (or its nbgrader metadata was stripped)"
        elif len(copies) > 1 and not _is_plain_answer_cell(original):
            # the copies of a plain answer cell (JupyterLab copies a cell's metadata with
            # it) are graded as the learner's own cells, which they could have written
            problem = f"appears {len(copies)} times"
        else:
            cell = copies[0]
            mine = cell.get("metadata", {}).get("nbgrader", {})
            theirs = original.metadata.nbgrader
            if cell.cell_type != original.cell_type:
                problem = f"was retyped from {original.cell_type} to {cell.cell_type}"
            elif any(mine.get(key) != theirs.get(key) for key in _NBGRADER_KEYS):
                problem = "has altered nbgrader metadata"
            elif (
                theirs.get("locked")
                and not theirs.get("solution")
                and original.cell_type != "markdown"
                and (_source(cell) != _source(original))
            ):
                # a locked markdown cell (a prompt) runs nothing, and grading restores it:
                # VS Code and Colab let learners type notes into it, which is no tampering
                problem = "was edited although it is locked"
        if problem:
            flags.append(f"cell {grade_id!r} {problem}")
            if is_test:
                tampered.add(grade_id)
    unknown = sorted(set(by_id) - released_ids)
    for grade_id in unknown[:MAX_UNKNOWN_IDS_LISTED]:
        quoted = report.shortened(grade_id, MAX_QUOTED_ID_CHARS)
        flags.append(f"cell {quoted!r} is not in the released notebook (renamed or added)")
    if len(unknown) > MAX_UNKNOWN_IDS_LISTED:
        flags.append(
            f"{len(unknown) - MAX_UNKNOWN_IDS_LISTED:,} more cells are not in the released "
            "notebook (renamed or added)"
        )
    return flags, tampered


def unnamed_grading_cells(submitted: NotebookNode) -> int:
    """How many cells carry nbgrader metadata that no released cell could have: not a
    mapping, or one that marks the cell graded, an answer, a task or locked without a
    ``grade_id`` that is a string.

    Such a cell is graded as a plain cell (its metadata is stripped), so it earns nothing;
    it is flagged all the same, as a cell with a made-up ``grade_id`` is: only an edit by
    hand makes one, never Jupyter.

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell
    >>> unnamed_grading_cells(nbformat.v4.new_notebook(cells=[
    ...     cell("1", metadata={"nbgrader": {"grade": True, "points": 100}}),
    ...     cell("2", metadata={"nbgrader": "grade"}),
    ...     cell("3", metadata={"nbgrader": {"schema_version": 3}}),
    ...     cell("4", metadata={"nbgrader": {"grade": True, "grade_id": "q1"}}),
    ... ]))
    2
    """
    count = 0
    for cell in submitted.get("cells") or ():
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        if not isinstance(metadata, dict) or "nbgrader" not in metadata:
            continue
        entry = metadata["nbgrader"]
        if not isinstance(entry, dict):
            count += 1
        elif not isinstance(entry.get("grade_id"), str) and any(
            entry.get(key) for key in ("grade", "solution", "task", "locked")
        ):
            count += 1
    return count


#: Cells with made-up grade ids that the flags name one by one; the rest are counted.
MAX_UNKNOWN_IDS_LISTED = 10
#: The longest made-up grade id a flag quotes whole.
MAX_QUOTED_ID_CHARS = 80


def _strip_malformed_metadata(submitted: NotebookNode) -> None:
    """Strip nbgrader metadata that is not a mapping (a string, a list, null), and make a
    cell's metadata a mapping, in the copy being graded.

    nbgrader's steps read such metadata as a mapping and crash, which would leave the
    whole notebook ungraded. Stripped, the cell is a plain cell: the released cell it
    stood for counts as deleted (:func:`compare_with_release` flags it, and its question
    scores 0).
    """
    for cell in submitted.cells:
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = NotebookNode()
        elif "nbgrader" in cell.metadata and not isinstance(cell.metadata["nbgrader"], dict):
            del cell.metadata["nbgrader"]


#: The keys a cell may hold in the copy being graded (nbformat 4's), and the metadata
#: keys kept from a learner's cell, with the values Jupyter front ends write there.
_CELL_KEYS = frozenset(
    {"id", "cell_type", "metadata", "source", "outputs", "execution_count", "attachments"}
)
_NOTEBOOK_KEYS = frozenset({"cells", "metadata", "nbformat", "nbformat_minor"})
_SCALAR_METADATA = frozenset({"collapsed", "scrolled", "editable", "deletable", "trusted"})


def _drop_what_is_never_graded(submitted: NotebookNode) -> None:
    """Keep, in the copy being graded, only what nbgrader and the page read: nbformat's
    keys, and of a cell's metadata its nbgrader entry, its tags (strings), Jupyter's
    ``jupyter`` flags and the scalar display flags; attachments only as media types
    holding text.

    Nothing else in a notebook is graded, and the copy is written with one indent per
    level of nesting, each item on its own line: a list nested 400 deep in a 1 MB
    submission's cell metadata was written as a 204 MB notebook, with 0.9 GB of the
    grader's memory (5 MB: 1 GB and 4.2 GB), before any limit of the sandbox applied.
    The submitted file keeps everything.
    """
    for key in [key for key in submitted if key not in _NOTEBOOK_KEYS]:
        del submitted[key]
    for cell in submitted.cells:
        for key in [key for key in cell if key not in _CELL_KEYS]:
            del cell[key]
        metadata = cell.get("metadata")
        if isinstance(metadata, dict):
            kept = NotebookNode()
            if "nbgrader" in metadata:
                kept["nbgrader"] = metadata["nbgrader"]
            tags = metadata.get("tags")
            if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
                kept["tags"] = tags
            flags = metadata.get("jupyter")
            if isinstance(flags, dict) and all(isinstance(v, bool) for v in flags.values()):
                kept["jupyter"] = flags
            for key in _SCALAR_METADATA & set(metadata):
                if isinstance(metadata[key], bool | int | float | str):
                    kept[key] = metadata[key]
            cell["metadata"] = kept
        attachments = cell.get("attachments")
        if attachments is not None and not (
            isinstance(attachments, dict)
            and all(
                isinstance(bundle, dict)
                and all(
                    isinstance(data, str)
                    or (isinstance(data, list) and all(isinstance(line, str) for line in data))
                    for data in bundle.values()
                )
                for bundle in attachments.values()
            )
        ):
            del cell["attachments"]


def _neutralise_tampered_cells(submitted: NotebookNode, released: NotebookNode) -> None:
    """Give every released cell's one copy the released nbgrader metadata, and strip it
    from renamed and duplicated cells, in the copy being graded.

    nbgrader's own steps fail on renamed and duplicated cells, and on a known cell whose
    flags or points were changed (a test cell marked as an answer no longer matches its
    checksum, points that are not a number cannot be compared), so the whole notebook
    would go ungraded. :func:`compare_with_release` has flagged every such change and
    zeroed the test cells involved; with the released metadata back, the notebook grades.
    Stripped cells are plain cells, and the released cells they imitate are re-added by
    ``OverwriteCells`` and score 0.

    A locked cell that is not an answer (a test cell, the setup cell, a prompt) gets all
    of its released metadata back, not only nbgrader's: nbclient reads a cell's tags, so
    a ``skip-execution`` tag the learner added would otherwise stop a test cell from
    running, as if its answer were missing.

    A retyped cell goes back to its released type here, with its released metadata.
    ``OverwriteCells`` would retype it itself, then check it against its type's schema:
    what the learner's type allows and the released one does not (attachments on a
    markdown cell that was a test cell, a ``collapsed`` that is no boolean on one that was
    an answer cell) failed the whole notebook.
    """
    originals = {
        grade_id: cell for cell in released.cells if (grade_id := grade_id_of(cell)) is not None
    }
    seen: set[str] = set()
    for cell in submitted.cells:
        meta = cell.metadata
        if "nbgrader" not in meta:
            continue
        grade_id = grade_id_of(cell)
        if grade_id not in originals or grade_id in seen:
            del meta["nbgrader"]
            continue
        seen.add(grade_id)
        original = originals[grade_id]
        theirs = original.metadata.nbgrader
        if cell.cell_type != original.cell_type:
            _retype_as(cell, original)
        elif theirs.get("locked") and not theirs.get("solution"):
            cell["metadata"] = copy.deepcopy(original.metadata)
        else:
            meta["nbgrader"] = copy.deepcopy(theirs)


def _retype_as(cell: NotebookNode, original: NotebookNode) -> None:
    """Give ``cell`` the type and metadata of the released cell ``original``, and only the
    keys that type has (a code cell's outputs, empty, where it had none; no attachments)."""
    for key in ("attachments", "outputs", "execution_count"):
        cell.pop(key, None)
    cell["cell_type"] = original.cell_type
    cell["metadata"] = copy.deepcopy(original.metadata)
    if original.cell_type == "code":
        cell["outputs"] = []
        cell["execution_count"] = None


def _source(cell: NotebookNode) -> str:
    """A cell's source as one string, its line endings ``\\n`` (VS Code on Windows may
    save ``\\r\\n``, which Python reads the same) and no trailing whitespace."""
    source = cell.get("source", "")
    text = "".join(source) if isinstance(source, list) else source
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


class StageAnswers(NbGraderPreprocessor):
    """Replace each test cell's code with the loading of a private answer encoder, and
    the binding of the names its visible check imports (:mod:`lstm_grader.check_imports`).

    The hidden region's ``grade_answer("q3", answer_q3)`` declarations are kept aside:
    :class:`SandboxedExecute` asks for each answer in the test cell's own execute request
    (``user_expressions``), and :class:`JudgeAnswers` judges what that cell's reply
    carries. Neither the declarations nor the visible checks run in the kernel, so
    nothing a learner redefines can change a verdict, and no display, print or
    background thread can stand in for an answer.
    """

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        staged: dict[str, dict[str, Any]] = {}
        delimiters = hidden.hidden_test_delimiters(self.config)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        # each test cell's (visible check, hidden region), split once
        parts_of = {
            id(cell): hidden.split_hidden(_source(cell) + "\n", delimiters)
            for cell in code
            if _is_test_cell(cell)
        }
        replayed = {
            id(code[index])
            for index in check_names.cells_to_replay(
                [
                    (True, parts_of[id(cell)][0])
                    if id(cell) in parts_of
                    else (False, _source(cell))
                    for cell in code
                ]
            )
        }
        for cell in code:
            if id(cell) not in parts_of:
                continue
            visible, hidden_text = parts_of[id(cell)]
            answers = [(a.question, a.expression) for a in hidden.graded_answers(hidden_text)]
            staged[grade_id_of(cell)] = {
                "visible": visible.rstrip("\n"),
                "answers": answers,
                "expressions": {
                    question: f"{_ENCODER}.answer_json({expression})"
                    for question, expression in answers
                },
            }
            # the names the check cell's imports bind, as a practice run leaves them
            rebind = check_imports.binding_source(check_imports.imported_names(visible))
            # the names it builds, where a later cell of the learner's uses them
            replay = check_names.replay_source(visible) if id(cell) in replayed else ""
            parts = (replay, _HANDOVER_SOURCE if answers else "", rebind)
            cell.source = "\n".join(part for part in parts if part) or "pass"
        resources[_STATE] = {**_new_state(), "staged": staged}
        return nb, resources


#: The name the staged test cell binds its private copy of ``lstm_lib.answers`` to.
_ENCODER = "_lstm_course_answers"
#: What a staged test cell runs: load a private copy of ``lstm_lib.answers``, the answer
#: wire format, from its file. That module imports no other part of ``lstm_lib``, so the
#: copy stands alone: neither a redefined name nor a patched attribute of a shared module
#: changes how an answer is encoded. A learner who breaks the kernel's own machinery can
#: lose points this way, never gain them: the verdict is computed by the grader.
_HANDOVER_SOURCE = "\n".join(
    [
        "import importlib.util as _lstm_course_util",
        "_lstm_course_spec = _lstm_course_util.find_spec('lstm_lib.answers')",
        f"{_ENCODER} = _lstm_course_util.module_from_spec(_lstm_course_spec)",
        f"_lstm_course_spec.loader.exec_module({_ENCODER})",
    ]
)
#: The longest encoded answer the grader reads; longer ones are refused unread.
MAX_ANSWER_CHARS = 1_000_000
#: What IPython hands back for an encoded answer: one plain string literal on one line, as
#: ``repr`` writes it. The text is the kernel's to choose, and Python's parser takes time
#: growing with the square of an f-string's length (minutes at the size above), so anything
#: else is refused before it is parsed.
_ONE_STRING_LITERAL = re.compile(r"'(?:[^'\\\n]++|\\.)*+'|\"(?:[^\"\\\n]++|\\.)*+\"")


#: How long a reopened output channel waits for the kernel's greeting before the next cell.
IOPUB_WELCOME_WAIT_S = 2.0


class _CpuReading(NamedTuple):
    """What is read of a sandbox's CPU at one moment: when (``time.monotonic``), how long
    its threads waited, ready to run, for a CPU so far, and the CPU time it used so far,
    in seconds; and the cores its control group holds it to (None: not read)."""

    at: float
    waited: float | None
    used: float | None
    cpus: float | None


def _grown(before: float | None, after: float | None) -> float | None:
    """How much a cumulative reading grew between two moments, to the millisecond; None
    where either was not read."""
    if before is None or after is None:
        return None
    return round(max(0.0, after - before), 3)


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with a sandboxed kernel, output caps and a notebook deadline.

    A kernel that dies, a cell that times out, or a whole-sandbox limit that is reached
    stops the run: the cells already run keep their outputs (and so their points), the
    rest are recorded as not run. Each test cell's answers are requested in its own
    execute request and read from its own reply.
    """

    max_output_bytes_per_cell = Integer(
        100_000, help="Output kept per cell, in bytes; the rest is dropped with a note."
    ).tag(config=True)
    max_output_bytes = Integer(2_000_000, help="Output kept for the whole notebook, in bytes.").tag(
        config=True
    )
    notebook_timeout = Integer(
        300, help="Wall-clock seconds for the whole notebook; later cells are not run."
    ).tag(config=True)
    raise_on_iopub_timeout = Bool(
        False,
        help="A cell whose reply came but whose output channel went silent is not an "
        "error: its output was lost (a message over the client's size limit closes the "
        "channel), the channel is opened again, and the next cell runs.",
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["kernel_manager_class"] = SandboxKernelManager
        super().__init__(*args, **kwargs)
        self.on_cell_executed = self._keep_reply
        self._flooded = False
        self._cut_at: int | None = None

    def create_kernel_manager(self) -> Any:
        """The kernel manager for this notebook: the warm kernel's when this process
        holds one started exactly as this one would start (see
        :mod:`lstm_grader.warm_kernels`), else a new one that starts cold."""
        km = super().create_kernel_manager()
        cwd = self.resources.get("metadata", {}).get("path") or os.getcwd()
        ids = self.resources.get("nbgrader", {})
        if (assignment := ids.get("assignment")) is not None:
            layout = layout_of(self)
            km.released_folder = str(layout.release(assignment))
            if (student := ids.get("student")) is not None:
                # the learner's other files are not copied beside the graded notebook
                # (submission_guard.guard_autograde): the kernel reads them from here
                km.submitted_folder = str(layout.submitted(student, assignment))
        # the arguments nbclient's start would add (it builds them inline, in
        # async_start_new_kernel): a warm kernel must have been started with the same
        arguments = list(self.extra_arguments)
        if getattr(km, "ipykernel", False) and self.ipython_hist_file:
            if not any(a.startswith("--HistoryManager.hist_file") for a in arguments):
                arguments.append(f"--HistoryManager.hist_file={self.ipython_hist_file}")
        warm_kernels.record(km, cwd, arguments)
        warm = warm_kernels.take(km, cwd, arguments)
        if warm is not None:
            self.log.info("Using the kernel started ahead of this submission (warm)")
            self.km = km = warm
            self._stage_from = cwd
        self._sandbox_km = km
        return km

    async def async_start_new_kernel_client(self) -> Any:
        """Connect to the kernel; a warm kernel then receives the submission's files,
        before it runs any cell.

        A kernel that ends before it is ready (the sandbox could not be built, or its
        launch failed) raises RuntimeError with what the sandbox printed, for the grader
        error's reason.
        """
        try:
            kc = await super().async_start_new_kernel_client()
        except RuntimeError as exc:
            said = (getattr(self._sandbox_km, "sandbox_report", None) or {}).get(
                "kernel_output_tail"
            )
            if not said:
                raise
            raise RuntimeError(
                f"{exc}; the sandbox printed: {report.shortened(said, 400)}"
            ) from exc
        self._refused = getattr(kc, "refused_messages", None)
        if (provisioner := self._provisioner()) is not None:
            # its sockets are bound: from here its private folder is the grader's alone
            provisioner.seal_kernel_folder()
            # the wait for another kernel of this user to end (SandboxProvisioner's turn)
            # is not the notebook's time
            self._deadline += provisioner.turn_waited_s
        # the kernel has started: it does not inherit the grader's own limit
        self._memory_bound.enter_context(
            kernel_messages.bounded_client_memory(on_growth=self._stop_flooding_kernel)
        )
        if self._stage_from is not None:
            try:
                self.km.provisioner.stage_submission(self._stage_from)
            except BaseException:
                await self._async_cleanup_kernel()
                raise
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _stop_flooding_kernel(self, growth: int) -> None:
        """Stop the kernel whose messages fill the grader's memory (called from the memory
        watch's thread, with how much more the grader holds than when the kernel started):
        ZMQ would otherwise abort the grading process, and every submission it had still
        to grade with it. Its output connection is cut first, which drops what it held, as
        ZMQ does for a frame over its size limit; a kernel that fills the memory on (on
        another channel, or again), or whose connection cannot be found, is killed. Its
        points earned before stay.

        Once cut, the connections are looked for again only when the memory has grown
        :data:`~lstm_grader.kernel_messages.CLIENT_MEMORY_RESCAN_BYTES` past the least it
        held since: memory kept after a cut calls this every few milliseconds, and a
        kernel that connects again and floods again makes it grow.
        """
        self._flooded = True
        provisioner = self._provisioner()
        if growth <= kernel_messages.CLIENT_MEMORY_KILL_BYTES and provisioner is not None:
            if self._cut_at is not None:
                self._cut_at = min(self._cut_at, growth)
                if growth < self._cut_at + kernel_messages.CLIENT_MEMORY_RESCAN_BYTES:
                    return
            if provisioner.cut_output_connection() or self._cut_at is not None:
                self._cut_at = growth
                return
        process = getattr(provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                process.kill()

    def _provisioner(self) -> SandboxProvisioner | None:
        """The sandbox around this notebook's kernel, or None (no kernel, or not ours)."""
        provisioner = getattr(self.km, "provisioner", None)
        return provisioner if isinstance(provisioner, SandboxProvisioner) else None

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict, km: Any = None
    ) -> tuple[NotebookNode, ResourcesDict]:
        self._stopped: str | None = None
        self._deadline = time.monotonic() + self.notebook_timeout
        self._cut_by_notebook_deadline = False
        self._cell_bytes: dict[int, int] = {}
        self._total_bytes = 0
        self._sandbox_km = None
        self._stage_from = None
        self._refused = None
        self._memory_bound = contextlib.ExitStack()
        self._flooded = False
        # the memory past its start when this kernel's output was last cut, if it was
        self._cut_at = None
        self._message_cell: tuple[int, NotebookNode] | None = None
        self._in_preamble = True
        # the sandbox's CPU readings when the first cell and the current one started
        self._cpu_at_first_cell: _CpuReading | None = None
        self._cpu_at_cell: _CpuReading | None = None
        # the reading taken as the cell ran out of time, if it did
        self._cpu_at_timeout: _CpuReading | None = None
        state = resources.setdefault(_STATE, _new_state())
        self._state = state
        try:
            return super().preprocess(nb, resources, km=km)
        except SandboxUnavailable as exc:
            self.log.error("%s", exc)
            state["grader_errors"].append(str(exc))
            return nb, resources
        finally:
            self._memory_bound.close()
            if self._flooded and "output-limit" not in state["events"]:
                state["events"].append("output-limit")
            if self._flooded and not state["stopped_by"]:
                state["stopped_by"] = flood_reason(self._stopped == "kernel-died")
            if self._stopped:
                state["events"].append(self._stopped)
            if self._refused is not None and self._refused.unread:
                # past what the grader reads from one kernel: its outputs were dropped
                if "output-limit" not in state["events"]:
                    state["events"].append("output-limit")
                state["unread_messages"] = self._refused.unread
            if self._refused is not None and self._refused.count:
                state["events"].append("bad-message")
                state["refused_messages"] = {
                    "count": self._refused.count,
                    "first": list(self._refused.notes),
                }
            sandbox = getattr(self._sandbox_km, "sandbox_report", None) or {}
            state["sandbox"] = sandbox
            state["events"] += sandbox.get("hit", [])

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped is None and time.monotonic() > self._deadline:
            self._stopped = "timed-out"
            resources[_STATE]["stopped_by"] = (
                f"the notebook ran past the {self.notebook_timeout} s it may take while graded"
            )
        if self._stopped is not None:
            resources[_STATE]["not_run"].append(index)
            return cell, resources
        self._cpu_at_cell = self._cpu_reading()
        self._cpu_at_timeout = None
        if self._cpu_at_first_cell is None:
            self._cpu_at_first_cell = self._cpu_at_cell
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = "kernel-died"
            why = (
                "The kernel was stopped in this cell: it sent more at once than the grader accepts."
                if self._flooded
                else "The kernel died in this cell."
            )
            cell.outputs.append(_error_output("DeadKernelError", why))
        except CellTimeoutError:
            self._stopped = "timed-out"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if any(o.get("ename") == "CellTimeoutError" for o in errors):
            self._stopped = "timed-out"
        if self._stopped == "timed-out" and not resources[_STATE]["stopped_by"]:
            self._note_cpu_wait(resources)
            self._note_cell_timeout(cell, resources, index)
        self._check_course_preamble(cell, errors)
        self._check_limits(errors)
        return cell, resources

    def _get_timeout(self, cell: NotebookNode | None) -> int | None:
        """A cell's time limit, cut to what is left of the notebook's: a cell started
        just before the notebook's deadline could otherwise run a whole cell limit past it."""
        limit = super()._get_timeout(cell)
        left = max(1, math.ceil(self._deadline - time.monotonic()))
        self._cut_by_notebook_deadline = limit is None or left < limit
        return left if self._cut_by_notebook_deadline else limit

    def _cpu_reading(self) -> _CpuReading:
        """The sandbox's wait for a CPU and its CPU use so far, where they can be read."""
        return _CpuReading(
            time.monotonic(),
            self._from_sandbox("cpu_wait_seconds"),
            self._from_sandbox("cpu_used_seconds"),
            self._from_sandbox("cpu_quota"),
        )

    def _from_sandbox(self, reading: str) -> float | None:
        """One of the sandbox kernel manager's CPU readings; None for another manager."""
        read = getattr(self._sandbox_km, reading, None)
        return read() if callable(read) else None

    async def _async_handle_timeout(
        self, timeout: int, cell: NotebookNode | None = None
    ) -> None | dict[str, Any]:
        """Read the sandbox's wait for a CPU and its CPU use as the cell runs out of time,
        before nbclient interrupts the kernel: the interrupt ends the sandbox, and what is
        read after it is one exited process's wait, not its threads'."""
        self._cpu_at_timeout = self._cpu_reading()
        return await super()._async_handle_timeout(timeout, cell)

    def _note_cpu_wait(self, resources: ResourcesDict) -> None:
        """Keep in the report how long the sandbox waited for a CPU during the time limit
        it ran past (the cell's, or the notebook's), and that limit: ``lstm-grade`` grades
        again alone only a notebook that waited long (``timed_out_beside_others``).

        Beside the wait, where the sandbox's control group counts its CPU use and holds it
        to a quota: the CPU time it used between the two readings, the seconds between
        them and the cores it may keep busy at once, since a sandbox that kept more
        processes busy than its quota allows waits as long as one the host held up."""
        started = self._cpu_at_first_cell if self._cut_by_notebook_deadline else self._cpu_at_cell
        now = self._cpu_at_timeout or self._cpu_reading()
        started = started or _CpuReading(now.at, None, None, None)
        measured: dict[str, Any] = {
            "limit_seconds": (
                self.notebook_timeout if self._cut_by_notebook_deadline else self.timeout
            ),
            "waited_seconds": _grown(started.waited, now.waited),
        }
        used = _grown(started.used, now.used)
        if now.cpus is not None and used is not None:
            measured["used_cpu_seconds"] = used
            measured["elapsed_seconds"] = round(max(0.0, now.at - started.at), 3)
            measured["cpus"] = now.cpus
        resources[_STATE]["timeout_cpu_wait"] = measured

    def _note_cell_timeout(self, cell: NotebookNode, resources: ResourcesDict, index: int) -> None:
        """Say, under the cell that ran out of time and in the report, which cell it was
        and which limit it reached: the learner's feedback otherwise showed only the later
        questions' "time ran out before this cell ran"."""
        first_line = next((line.strip() for line in _source(cell).splitlines() if line.strip()), "")
        quoted = report.shortened(first_line, 60)
        if self._cut_by_notebook_deadline:
            stopped_by = (
                f"the notebook ran past the {self.notebook_timeout} s it may take while graded, "
                f"in cell {index + 1} ({quoted!r})"
            )
            stopped_when = (
                f"when the notebook reached the {self.notebook_timeout} s it may take while graded"
            )
        else:
            stopped_by = (
                f"cell {index + 1} ({quoted!r}) ran past the {self.timeout} s a cell may take "
                "while graded"
            )
            stopped_when = f"after {self.timeout} s, the time a cell may take while graded"
        resources[_STATE]["stopped_by"] = stopped_by
        if not any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            cell.outputs.append(
                _error_output(
                    "CellTimeoutError",
                    f"Grading stopped this cell {stopped_when}; the cells after it did not "
                    "run. Make a long computation (training for many epochs) shorter before "
                    "you submit.",
                )
            )

    def _check_course_preamble(self, cell: NotebookNode, errors: list[NotebookNode]) -> None:
        """A failing cell of the course's own preamble (the locked cells before anything a
        learner can edit or add) is the grader's failure, never the learner's."""
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("locked") and not meta.get("solution") and not meta.get("grade")):
            self._in_preamble = False
            return
        if self._in_preamble and errors:
            first = errors[0]
            self._state["grader_errors"].append(
                f"the course's setup cell {meta.get('grade_id')!r} failed in the sandbox "
                f"({first.get('ename')}: {first.get('evalue')}); is lstm_lib importable there?"
            )

    def _check_limits(self, errors: list[NotebookNode]) -> None:
        km = self._sandbox_km
        hit = set(km.limits_hit()) if km is not None and hasattr(km, "limits_hit") else set()
        for error in errors:
            if error.get("ename") == "MemoryError":
                hit.add("memory-limit")
            elif "[Errno 28]" in str(error.get("evalue")) or "[Errno 27]" in str(
                error.get("evalue")
            ):
                hit.add("disk-limit")
        events = self._state["events"]
        events += sorted(hit - set(events))
        if "cpu-limit" in hit and self._stopped is None:
            self._stopped = "cpu-limit"
        too_many_files = hasattr(km, "too_many_files") and km.too_many_files()
        if "disk-limit" in hit and self._stopped is None and too_many_files:
            self._stopped = "disk-limit"  # each file holds host memory: stop adding more
            self._state["stopped_by"] = (
                f"the sandbox made more than the {km.max_files} files /tmp and /dev/shm may "
                "hold, each of which takes the host's memory"
            )

    async def async_execute_cell(
        self,
        cell: NotebookNode,
        cell_index: int,
        execution_count: int | None = None,
        store_history: bool = True,
    ) -> NotebookNode:
        """Run a cell; a staged test cell's request also asks for its answers. A cell whose
        output never finished arriving (see :meth:`_reopen_lost_output`) is noted."""
        self._output_done, self._reply_error = False, None
        sent = self.code_cells_executed
        expressions = self._state["staged"].get(grade_id_of(cell) or "", {}).get("expressions")
        if not (_is_test_cell(cell) and expressions and self.kc is not None):
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count, store_history
            )
            return await self._reopen_lost_output(cell, ran=self.code_cells_executed > sent)
        self._state["requested"][cell_index] = grade_id_of(cell)
        self.kc.execute = functools.partial(
            type(self.kc).execute, self.kc, user_expressions=dict(expressions)
        )
        try:
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count, store_history
            )
        finally:
            del self.kc.execute
        return await self._reopen_lost_output(cell, ran=self.code_cells_executed > sent)

    def process_message(
        self, msg: dict[str, Any], cell: NotebookNode, cell_index: int
    ) -> NotebookNode | None:
        content = msg.get("content") or {}
        if msg.get("msg_type") == "status" and content.get("execution_state") == "idle":
            self._output_done = True
        self._message_cell = (cell_index, cell)
        return super().process_message(msg, cell, cell_index)

    def handle_comm_msg(
        self, outs: list[NotebookNode], msg: dict[str, Any], cell_index: int
    ) -> None:
        """Ignore comm messages. nbclient would keep every widget's state, uncapped, for
        the notebook's metadata, and act as a front end for output widgets; grading needs
        neither, and a widget shows in feedback by its plain-text form."""

    def _update_display_id(self, display_id: str, msg: dict[str, Any]) -> None:
        """Update the outputs shown under ``display_id``, within the byte caps.

        nbclient writes an update into every earlier output with that id, past
        :meth:`output`; here each copy is charged to the cell whose message makes it, so
        that no number of updates keeps more than the caps allow.
        """
        places = sum(map(len, self._display_id_map.get(display_id, {}).values()))
        if not places or self._message_cell is None:
            return
        cell_index, cell = self._message_cell
        size = places * len(json.dumps(msg.get("content", {}), default=str))
        room = self._room(cell_index)
        if room <= 0:
            return
        if size > room:
            cell.outputs.append(self._cut(cell_index, room))
            return
        self._charge(cell_index, size)
        super()._update_display_id(display_id, msg)

    async def _reopen_lost_output(self, cell: NotebookNode, ran: bool) -> NotebookNode:
        """The kernel replied but its output channel never said the cell was done: a
        message over the client's size limit (:data:`~lstm_grader.sandbox.MAX_MESSAGE_BYTES`)
        closes the channel, and ZMQ never opens it again. The cell's output is lost and
        noted; a fresh channel carries the next cell's. ``ran``: nbclient sent the cell to
        the kernel (it skips empty and tagged cells)."""
        if self._output_done or not ran:
            return cell
        if self._reply_error == "CellTimeoutError":
            # the reply nbclient makes up when the cell ran out of time: the kernel was
            # interrupted, not heard from; the notebook stops here, as it always has
            raise CellTimeoutError.error_from_timeout_and_cell(
                "Timeout waiting for IOPub output", self.iopub_timeout, cell
            )
        if self.kc is None or self.km is None or not await ensure_async(self.km.is_alive()):
            return cell
        provisioner = self._provisioner()
        if provisioner is not None and not provisioner.socket_is_the_kernels("iopub"):
            # the kernel put something else where its output socket was: connecting there
            # would reach whatever it points to, as the grader. It is stopped, as a kernel
            # that dies is: the points earned before stay
            self._state["events"].append("bad-message")
            await ensure_async(self.km.shutdown_kernel(now=True))
            return cell
        self.kc.iopub_channel.close()
        self.kc._iopub_channel = None  # the property makes a new one, as on first use
        self.kc.iopub_channel.start()
        # the kernel greets a new subscriber: from then on nothing it sends is missed
        deadline = time.monotonic() + IOPUB_WELCOME_WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                greeting = await ensure_async(self.kc.iopub_channel.get_msg(timeout=left))
            except Empty:
                break
            if greeting.get("msg_type") == "iopub_welcome":
                break
        if "output-limit" not in self._state["events"]:
            self._state["events"].append("output-limit")
        cell.outputs.append(
            NotebookNode(
                output_type="stream",
                name="stdout",
                text="\n[output lost: the kernel sent more at once than the grader accepts]\n",
            )
        )
        return cell

    execute_cell = run_sync(async_execute_cell)

    def _keep_reply(
        self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]
    ) -> None:
        """Keep what the reply to a staged test cell's own request carries."""
        content = execute_reply.get("content", {}) if isinstance(execute_reply, dict) else {}
        self._reply_error = content.get("ename") if isinstance(content, dict) else None
        grade_id = self._state["requested"].get(cell_index)
        if grade_id is None:
            return
        self._state["replies"][grade_id] = {
            "status": content.get("status"),
            "error": f"{content.get('ename')}: {content.get('evalue')}"
            if content.get("status") == "error"
            else None,
            "user_expressions": content.get("user_expressions") or {},
        }

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        size = len(json.dumps(msg.get("content", {}), default=str))
        room = self._room(cell_index)
        if room <= 0:
            return None
        if size > room:
            note = self._cut(cell_index, room)
            if msg["msg_type"] == "stream":
                note.text = msg["content"]["text"][: max(room - 200, 0)] + note.text
            outs.append(note)
            return note
        self._charge(cell_index, size)
        return super().output(outs, msg, display_id, cell_index)

    def _room(self, cell_index: int) -> int:
        """Bytes the cell may still keep, under its own cap and the notebook's."""
        used = self._cell_bytes.get(cell_index, 0)
        return min(self.max_output_bytes_per_cell - used, self.max_output_bytes - self._total_bytes)

    def _charge(self, cell_index: int, size: int) -> None:
        self._cell_bytes[cell_index] = self._cell_bytes.get(cell_index, 0) + size
        self._total_bytes += size

    def _cut(self, cell_index: int, room: int) -> NotebookNode:
        """Close the cell's budget (the note spends what was left) and return the note
        that says its output was cut."""
        self._cell_bytes[cell_index] = self.max_output_bytes_per_cell
        self._total_bytes += room
        if "output-limit" not in self._state["events"]:
            self._state["events"].append("output-limit")
        return NotebookNode(
            output_type="stream",
            name="stdout",
            text=f"\n[output truncated: more than {self.max_output_bytes_per_cell} bytes]\n",
        )


def verdict_outputs(outcome: dict[str, verdicts.Verdict], points: float) -> list[NotebookNode]:
    """A test cell's outputs for its questions' verdicts, as nbgrader scores them.

    All right: a ``✔`` line per question (full points). None right: an error per wrong
    question (0 points). Between the two (a cell with several answers, or a question
    judged per part), the parts of the cell's points its questions earned, each question
    weighing the same: a ``✔`` or ``✘`` line per question and, last, the points as the
    cell's result, which nbgrader reads as a partial score.
    """
    if not outcome:
        return [_error_output("NoAnswer", "This test cell declares no graded answer.")]
    earned = sum(v.earned for v in outcome.values()) / len(outcome)
    if 0 < earned < 1:
        lines = [
            _stream(f"{'✔' if v.correct else '✘'} {question}: {v.message}\n")
            for question, v in outcome.items()
        ]
        score = round(earned * points, 2)
        return [
            *lines,
            NotebookNode(
                output_type="execute_result",
                execution_count=None,
                data={"text/plain": repr(score)},
                metadata={},
            ),
        ]
    return [
        _stream(f"✔ {question}: {v.message}\n")
        if v.correct
        else _error_output("WrongAnswer", f"{question}: {v.message}")
        for question, v in outcome.items()
    ]


def _error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message, traceback=[message])


def _stream(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)


class JudgeAnswers(NbGraderPreprocessor):
    """Judge each handed-over answer against ``references/`` in the grader's process.

    Each test cell's outputs are replaced by the verdict (a pass line, or an error that
    names the mistake), which is all nbgrader's ``SaveAutoGrades`` looks at; its source
    goes back to the visible part, so feedback never shows a hidden region. A failure
    while judging one question costs that question only, and is reported as the
    grader's error.
    """

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        ids = resources["nbgrader"]
        references_file = layout_of(self).references_file(ids["assignment"])
        refs = load_references(references_file.parent, ids["assignment"])
        state = resources.get(_STATE) or _new_state()
        path = _report_file(self, resources)
        notebook_report = report.read_report(path)
        tampered = set(notebook_report.get("tampered_cells", []))
        why_not_run = _why_not_run(state)
        not_run = set(state["not_run"])
        grader_errors = list(state["grader_errors"])
        answered = 0
        asked = 0
        for index, cell in enumerate(nb.cells):
            if not _is_test_cell(cell):
                continue
            grade_id = grade_id_of(cell)
            staged = state["staged"].get(grade_id, {"visible": _source(cell), "answers": []})
            outcome = {}
            for question, _expression in staged["answers"]:
                asked += 1
                try:
                    verdict, reached = self._judge_question(
                        question,
                        refs,
                        state["replies"].get(grade_id),
                        tampered=grade_id in tampered,
                        not_run=why_not_run if index in not_run else None,
                    )
                except Exception as exc:  # a grader bug costs this question only
                    grader_errors.append(
                        f"judging {question!r} failed: {type(exc).__name__}: {exc}"
                    )
                    verdict, reached = (
                        verdicts.Verdict(
                            False,
                            "The grader could not judge this answer; the instructor has been told.",
                        ),
                        False,
                    )
                answered += reached
                outcome[question] = verdict
            for question, verdict in outcome.items():
                notebook_report["questions"][question] = {
                    "cell": grade_id,
                    "correct": verdict.correct,
                    "score": verdict.earned,
                    "message": verdict.message,
                }
            cell.source = staged["visible"]
            cell.outputs = verdict_outputs(outcome, float(cell.metadata.nbgrader.get("points", 0)))
        review = cells_to_review(notebook_report, state["staged"])
        for cell in nb.cells:
            if _is_test_cell(cell) and grade_id_of(cell) in review:
                cell.outputs.append(_stream(_review_note(notebook_report, grade_id_of(cell))))
        events = set(notebook_report.get("events", [])) | set(state["events"])
        if asked and not answered and not tampered:
            events.add("no-answers")
        if grader_errors:
            events.add("grader-error")
        notebook_report["events"] = sorted(events)
        notebook_report["grader_errors"] = grader_errors
        if state.get("stopped_by"):
            notebook_report["stopped_by"] = state["stopped_by"]
        notebook_report.pop("timeout_cpu_wait", None)
        if state.get("timeout_cpu_wait"):
            notebook_report["timeout_cpu_wait"] = state["timeout_cpu_wait"]
        sandbox = state.get("sandbox") or {}
        notebook_report["limits"] = sandbox.get("limits", [])
        notebook_report["limits_not_applied"] = sandbox.get("limits_not_applied", [])
        notebook_report["sandbox_usage"] = sandbox.get("usage", {})
        if sandbox.get("skipped_files"):
            notebook_report["skipped_files"] = sandbox["skipped_files"]
        if state.get("refused_messages"):
            notebook_report["refused_messages"] = state["refused_messages"]
        if state.get("unread_messages"):
            notebook_report["unread_messages"] = {
                "count": state["unread_messages"],
                "why": f"past {kernel_messages.MAX_READ_BYTES // 2**20} MiB read from the "
                "kernel, only its replies and status messages were read",
            }
        notebook_report["seconds"] = round(
            time.time() - notebook_report.get("started", time.time()), 2
        )
        notebook_report["status"] = report.final_status(notebook_report)
        report.write_report(path, notebook_report)
        return nb, resources

    def _judge_question(
        self,
        question: str,
        refs: dict[str, Any],
        reply: dict[str, Any] | None,
        *,
        tampered: bool,
        not_run: str | None,
    ) -> tuple[verdicts.Verdict, bool]:
        """The verdict on one question, and whether an answer reached the grader.

        ``not_run`` is why the question's test cell never ran, or ``None`` if it ran.
        """
        if question not in refs:
            raise KeyError(f"question {question!r} has no recorded reference value")
        ref = refs[question]
        if tampered:
            return verdicts.Verdict(
                False,
                "This test cell was changed or removed in the submission; the question "
                "scores 0 and the submission is flagged for review.",
            ), False
        if not_run is not None:
            return verdicts.Verdict(False, not_run), False
        if reply is None:
            return verdicts.Verdict(
                False, "No answer reached the grader: this cell did not finish."
            ), False
        if reply.get("error"):
            return verdicts.Verdict(
                False, f"No answer reached the grader ({reply['error']})."
            ), False
        result = reply["user_expressions"].get(question)
        if not isinstance(result, dict) or result.get("status") != "ok":
            why = (
                f"{result.get('ename')}: {result.get('evalue')}"
                if isinstance(result, dict)
                else "nothing came back"
            )
            return verdicts.Verdict(False, f"No answer reached the grader ({why})."), False
        return self._verdict(ref, result)

    @staticmethod
    def _verdict(ref: Any, result: dict[str, Any]) -> tuple[verdicts.Verdict, bool]:
        """The verdict on a reply the kernel sent, and whether it held an answer the grader
        could read: a reply the kernel forged or bloated counts as no answer, so a notebook
        whose every reply is unreadable is ``no-answers``, not a quiet 0."""
        # the kernel chooses the whole result: its data may be anything but a mapping
        data = result.get("data")
        text = data.get("text/plain") if isinstance(data, dict) else None
        if not isinstance(text, str):
            return verdicts.Verdict(
                False, "The answer could not be read: the kernel handed over no text for it."
            ), False
        if len(text) > MAX_ANSWER_CHARS:
            return verdicts.Verdict(False, "The answer is too large to be read."), False
        try:
            if not _ONE_STRING_LITERAL.fullmatch(text):
                raise ValueError("the kernel did not hand over an encoded answer")
            encoded = ast.literal_eval(text)
            if type(encoded) is not str:
                raise ValueError("the kernel did not hand over an encoded answer")
            answer = parse_answer_json(encoded)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            return verdicts.unreadable_answer(exc), False
        return verdicts.verdict(ref.kind, answer, ref.expected, ref.context, ref.mistakes), True


#: Why a run stopped before a cell, for the verdict of the cells it never reached.
_STOPS = {
    "kernel-died": "the kernel died",
    "timed-out": "time ran out",
    "cpu-limit": "the sandbox used up its CPU time",
}


def _why_not_run(state: dict[str, Any]) -> str:
    """The verdict's message for a test cell the run never reached: the cell that ran
    out of time when one did, else the event that stopped the run."""
    stop = next((event for event in state["events"] if event in _STOPS), None)
    if stop == "timed-out" and state.get("stopped_by"):
        return f"Not graded: {state['stopped_by']}, so this cell did not run."
    return f"Not graded: {_STOPS.get(stop, 'the run stopped')} before this cell ran."


class FlagForReview(NbGraderPreprocessor):
    """Put a flagged submission in front of the instructor, in nbgrader's own fields, and
    keep the instructor's manual scores through regrades.

    Runs after ``SaveAutoGrades``, which marks every cell with a manual score as needing
    grading again. Here: the submitted notebook is ``flagged`` (the formgrader's Flagged
    column) when the report has flags; only the test cells a flag concerns
    (:func:`cells_to_review`) need manual grading; and a manual score stands while what
    its test cell grades is unchanged since the last grading (:func:`answer_digests`).
    """

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        notebook_report = report.read_report(_report_file(self, resources))
        ids = resources["nbgrader"]
        current = notebook_report.get("answer_digests", {})
        previous = notebook_report.get("previous_answer_digests", {})
        test_cells = [grade_id_of(cell) for cell in nb.cells if _is_test_cell(cell)]
        review = cells_to_review(notebook_report, filter(None, test_cells))
        with Gradebook(ids["db_url"]) as gradebook:
            submission = gradebook.find_submission_notebook(
                ids["notebook"], ids["assignment"], ids["student"]
            )
            # a grade's name is its cell's: with the notebook's cells loaded (and held:
            # the session keeps only weak references) the loop below finds each cell in
            # the session instead of asking for it alone
            cells = notebook_cells(gradebook, BaseCell, ids["notebook"], ids["assignment"]).all()
            if notebook_report.get("flags"):
                # set, never cleared: a flag an instructor set by hand is theirs to remove
                submission.flagged = True
            for grade in submission.grades:
                unchanged = (
                    grade.name in current and previous.get(grade.name) == current[grade.name]
                )
                if grade.manual_score is not None and unchanged:
                    grade.needs_manual_grade = False
                elif grade.name in review:
                    grade.needs_manual_grade = True
            gradebook.db.commit()
            del cells
        return nb, resources


def kept_link_attribute(tag: str, name: str, value: str) -> bool:
    """Whether a link a learner wrote, or their kernel displayed, keeps an attribute.

    A link keeps its title, and its address when that leaves for a site of its own
    (``http``, ``https``, ``mailto``) or points within the page (``#...``). A relative or
    protocol-relative address opens on the site serving the page, the formgrader's Jupyter
    server among them, with the instructor's cookies: a click on a note's "my plot" linking
    to ``/logout`` signed the instructor out. Without its address the link shows as text.
    """
    if name != "href":
        return name == "title"
    return value.startswith("#") or urlsplit(value.strip()).scheme.lower() in {
        "http",
        "https",
        "mailto",
    }


class SanitizeLearnerHTML(SanitizeHTML):
    """Render what a learner wrote as text, never as live HTML, in feedback and formgrader.

    A learner's markdown (cells they could edit or add) is rendered to HTML here and
    cleaned by bleach, so ``<script>``, event handlers and ``javascript:`` links (however
    spelled: markdown decodes entities in link targets) never reach a browser; the cell
    then holds that clean HTML. Every output of the learner's kernel goes through bleach
    too, and scripts and widgets in outputs are dropped. The course's own locked cells are
    left as written.
    """

    enabled = Bool(True, help="nbconvert preprocessors are off unless enabled.").tag(config=True)
    attributes = AnyTrait(
        default_value={"a": kept_link_attribute, "abbr": ["title"], "acronym": ["title"]},
        help="The attributes each tag of the kernel's HTML output keeps (bleach's, with a "
        "link's address kept only where kept_link_attribute keeps it).",
    ).tag(config=True)
    max_markdown_chars = Integer(
        250_000,
        help="Characters of a learner's markdown (cells and markdown outputs) and raw cells "
        "rendered or cleaned per notebook; past them each is shown as its text. Rendering and "
        "cleaning cost the grader up to about 2 s per 20,000 characters (dense headings, at "
        "the element cap of too_costly_to_clean), outside the sandbox's limits, and bleach's "
        "time grows with the square of a raw cell's markup (2 MiB of '<b>x</b> ' took 213 s).",
    ).tag(config=True)
    max_code_chars = Integer(
        100_000,
        help="Characters of a learner's code cells shown per notebook; a cell past them is "
        "cut, with a line saying how much (the submitted notebook keeps it whole, and it "
        "ran whole). Highlighting and nbconvert's page cost about 90 s a million "
        "characters, for each feedback page and each formgrader view.",
    ).tag(config=True)
    max_line_chars = Integer(
        1_000,
        help="Characters of each line of a learner's code cell shown; a longer line is cut, "
        "with a comment saying how much (the submitted notebook keeps it whole). Pygments' "
        "IPython lexer takes time that grows with the square of a line's length: one line "
        "of 20,000 dots took 4 s, and of 100,000 dots 100 s, of each feedback page and each "
        "formgrader view.",
    ).tag(config=True)
    max_math_scan = Integer(
        100_000_000,
        help="Characters the markdown renderer's math patterns may scan per notebook "
        "(math_scan_cost: each place math may open costs the text's length; 100 million "
        "take the grader 1 to 1.5 s); past them a learner's markdown is shown as its text. 27,000 "
        "unclosed '\\begin{a}' in one cell took 64 s of the grader's own time.",
    ).tag(config=True)
    #: The pasted images the notebook being cleaned may still show.
    _image_budget: pasted_images.ImageBudget | None = None
    #: Characters of learner markdown the notebook being cleaned may still render.
    _markdown_left = 0
    #: Characters of learner code the notebook being cleaned may still show.
    _code_left = 0
    #: Characters the math patterns may still scan in the notebook being cleaned.
    _math_left = 0

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        # nbgrader writes the autograded notebook and the feedback page next: refuse if
        # anything in those folders could redirect the write (nothing the kernel does can
        # put it there; this guards against any other way)
        ids = resources.get("nbgrader", {})
        if "student" in ids:
            layout = layout_of(self)
            for path in (
                layout.autograded(ids["student"], ids["assignment"]),
                layout.feedback(ids["student"], ids["assignment"]),
            ):
                unsafe = safefiles.unsafe_entries(path, sizes=False) if os.path.isdir(path) else []
                if unsafe or os.path.islink(path):
                    raise ValueError(
                        f"refusing to write into {path}: it holds "
                        + ("; ".join(unsafe[:5]) or "a link")
                    )
        self._image_budget = pasted_images.ImageBudget()
        self._markdown_left = self.max_markdown_chars
        self._code_left = self.max_code_chars
        self._math_left = self.max_math_scan
        return super().preprocess(nb, resources)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        locked = cell.get("metadata", {}).get("nbgrader", {}).get("locked", False)
        if cell.cell_type in ("markdown", "raw") and locked:
            return cell, resources
        source = _source(cell) if cell.cell_type in ("markdown", "raw") else ""
        if cell.cell_type in ("markdown", "raw") and shown_as_text(source):
            # feedback cleans the autograded notebook again: what is text stays as it is
            # (escaping it again would show its character references to the learner)
            cell.source = inert_brackets(source)
            cell.pop("attachments", None)
            return cell, resources
        if cell.cell_type == "raw":
            # Jupyter shows a raw cell as its text, and so does the feedback: never as HTML
            # for bleach to clean (its time grows with the square of the markup: 2 MiB of
            # '<b>x</b> ' in one raw cell took 213 s of the grader's own time)
            self._markdown_left -= len(source)
            cell.source = _as_text(source, None if self._markdown_left >= 0 else SHOWN_PAST_BUDGET)
            return cell, resources
        if cell.cell_type == "markdown":
            # pasted images that pass the checks are now data: URLs in the HTML itself
            cell.source = inert_brackets(
                clean_learner_markdown(source, cell.get("attachments"), self._image_budget)
                if self._may_render(source)
                else _as_text(source, SHOWN_PAST_BUDGET)
            )
            cell.pop("attachments", None)
            return cell, resources
        if cell.cell_type == "code" and not locked:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            source = cut_long_lines(collapsed_blank_lines(source), self.max_line_chars)
            shown = max(0, min(len(source), self._code_left))
            self._code_left -= len(source)
            cell.source = shown_code(source, shown) if shown < len(source) else source
        return super().preprocess_cell(cell, resources, index)

    def _may_render(self, markdown: str) -> bool:
        """Charge ``markdown`` to the notebook's rendering budgets; whether it is within
        both and may be rendered. Its characters count whether or not it is rendered; its
        :func:`math_scan_cost` only when it is."""
        self._markdown_left -= len(markdown)
        cost = math_scan_cost(markdown)
        if self._markdown_left < 0 or cost > self._math_left:
            return False
        self._math_left -= cost
        return True

    def sanitize_html_tags(self, html_str: str) -> str:
        """nbconvert's cleaning; HTML too costly for bleach to clean in reasonable time
        (:func:`too_costly_to_clean`) is escaped instead, and never reaches bleach."""
        if isinstance(html_str, str) and too_costly_to_clean(html_str):
            # escaped, it holds no markup for bleach to clean, and bleach's time over its
            # many character references grows with the square of its length
            return html_escape(html_str)
        return super().sanitize_html_tags(html_str)

    def sanitize_code_outputs(self, outputs: list[NotebookNode]) -> list[NotebookNode]:
        """nbconvert's cleaning, with markdown output (``display(Markdown(...))``) turned
        into clean HTML first: nbconvert cleans it as if it were HTML, which leaves a
        markdown link such as ``[x](javascript:...)`` whole, and the page's template then
        renders it as a live link."""
        for output in outputs:
            data = output.get("data")
            if isinstance(data, dict) and "text/markdown" in data:
                markdown = data.pop("text/markdown")
                text = "".join(markdown) if isinstance(markdown, list) else str(markdown)
                data.setdefault(
                    "text/html",
                    clean_learner_markdown(text, budget=self._image_budget)
                    if self._may_render(text)  # rendered as a markdown cell is
                    else html_escape(text),  # no <pre>: nbconvert's cleaning refuses it
                )
            if isinstance(output.get("metadata"), dict):
                _make_output_metadata_inert(output["metadata"])
        outputs = super().sanitize_code_outputs(outputs)
        for output in outputs:
            data = output.get("data")
            if isinstance(data, dict) and "text/html" in data:
                html = data["text/html"]
                data["text/html"] = inert_brackets(
                    "".join(html) if isinstance(html, list) else str(html)
                )
        return outputs


def inert_brackets(html: str) -> str:
    """``html`` with its square brackets written as character references, shown the same.

    The page's template runs nbconvert's ``strip_files_prefix`` over every markdown cell and
    HTML output; its pattern for a markdown link takes time that grows with the square of
    the brackets nested: a learner's cell of ``[`` × 20,000, ``x``, ``](y)`` × 20,000 (100 kB)
    took 25 s of the grader's time to render, and a few such cells minutes. The learner's
    markdown is HTML by then, so no bracket is link syntax any more.

    Examples
    --------
    >>> inert_brackets("<p>[a](b)</p>")
    '<p>&#91;a&#93;(b)</p>'
    """
    return html.replace("[", "&#91;").replace("]", "&#93;")


def shown_code(source: str, shown: int) -> str:
    """The first ``shown`` characters of a learner's code cell, and a comment saying how
    many more the submitted notebook holds.

    Examples
    --------
    >>> print(shown_code("x = 1\\ny = 2\\n", 6))
    x = 1
    # ... 6 more characters of this cell are not shown: the submitted notebook holds them all
    """
    kept = source[:shown]
    if kept and not kept.endswith("\n"):
        kept += "\n"
    left = len(source) - shown
    return (
        f"{kept}# ... {left:,} more characters of this cell are not shown: "
        "the submitted notebook holds them all"
    )


def _make_output_metadata_inert(metadata: dict[str, Any]) -> None:
    """Drop what nbconvert's templates would print from a kernel's output metadata as
    markup: an image's ``width`` and ``height`` go into unquoted attributes (a width of
    ``1 onerror=...`` is a live handler), ``filenames`` into an image's address (any
    URL). Sizes that are numbers stay; ``filenames`` only ever comes from nbconvert's
    own output extraction, never from a kernel. A media type's entry that is not a
    mapping goes too: the templates look sizes up in it, and fail on anything else."""
    metadata.pop("filenames", None)
    for key in [k for k, v in metadata.items() if "/" in k and not isinstance(v, dict)]:
        del metadata[key]
    for level in [metadata, *(v for v in metadata.values() if isinstance(v, dict))]:
        for key in ("width", "height"):
            size = level.get(key)
            if size is not None and (
                isinstance(size, bool)
                or not isinstance(size, int | float)
                or not math.isfinite(size)
            ):
                del level[key]


#: What a learner's rendered markdown may keep: text structure, links over http(s), images
#: the learner pasted into the note, nothing that runs.
_LEARNER_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
#: What an image in a learner's note keeps besides its address, which is kept only where
#: it is a pasted image's (clean_learner_markdown).
_LEARNER_IMAGE_ATTRIBUTES = frozenset({"alt", "title"})

#: The classes a learner's markup may keep: the coloured note boxes notebooks write as
#: ``<div class="alert alert-block alert-info">``, which Jupyter and the pages' Bootstrap
#: both style. Any other class is the page's to give: the formgrader's and the feedback's
#: Bootstrap lays ``modal-backdrop in`` over the whole page, in front of the score boxes,
#: and pins ``navbar-fixed-top`` (with whatever text a learner puts in it) over its header.
LEARNER_CLASSES = frozenset(
    {"alert", "alert-block", "alert-info", "alert-success", "alert-warning", "alert-danger"}
)


#: The deepest nesting of elements a learner's HTML may have and still be rendered.
#: bleach's parser takes time in proportion to the depth for every element, so 20,000
#: nested ``<div>`` (100 KB) took 14 s and 50,000 took 97 s of the grader's own time,
#: outside the sandbox's limits; a page a person wrote is rarely 30 deep.
MAX_HTML_DEPTH = 200

#: Elements that hold no content, or whose end tag HTML lets a writer leave out (the
#: parser closes them at the next sibling): neither makes the nesting any deeper.
_NOT_NESTING = frozenset(
    "area base br col embed hr img input link meta source track wbr "
    "p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rb rt rp".split()
)


#: A start or end tag, as far as nesting goes (HTML ignores the slash of ``<div/>``): it
#: stops at the next ``<`` or ``>``, so one pass over any text stays linear (Python's own
#: HTMLParser took 62 s over 400 KB of unclosed comments).
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")


def nested_too_deeply(html: str) -> bool:
    """Whether ``html`` nests elements deeper than :data:`MAX_HTML_DEPTH`.

    A gauge of bleach's cost, not a parser: it may miss nesting that a browser would see,
    which only costs time, never safety (bleach still cleans the HTML).

    Examples
    --------
    >>> nested_too_deeply("<div><p>a<p>b<br></div>" * 3)
    False
    >>> nested_too_deeply("<span>" * (MAX_HTML_DEPTH + 1))
    True
    """
    depth = 0
    for tag in _TAG.finditer(html):
        closing, name = tag.groups()
        if name.lower() in _NOT_NESTING:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > MAX_HTML_DEPTH:
                return True
    return False


#: Attributes one tag may hold before bleach is spared it: html5lib checks each new
#: attribute against every earlier one of its tag (a tag of 23,600 attributes, 99 kB, took
#: 30 s); an unclosed tag costs the same, so its attributes run to the next ``<``.
MAX_TAG_ATTRIBUTES = 256

#: Elements one piece of HTML may hold before bleach is spared it: html5lib's tree walker
#: looks each element up among its siblings (30,000 headings, 120 kB of markdown, took 66 s
#: to clean; 10,000 take 2 s at worst, a table of 1,500 rows fits).
MAX_HTML_ELEMENTS = 10_000

_START_TAG = re.compile(r"<[A-Za-z][A-Za-z0-9:-]*([^<>]*)")


def too_costly_to_clean(html: str) -> bool:
    """Whether bleach would take far longer over ``html`` than its size justifies: it
    nests too deeply (:func:`nested_too_deeply`), a tag holds more than
    :data:`MAX_TAG_ATTRIBUTES` attributes, or it holds more than :data:`MAX_HTML_ELEMENTS`
    elements. Such HTML is shown as text instead; one linear pass decides.

    Examples
    --------
    >>> too_costly_to_clean("<p>a</p>" * 100)
    False
    >>> too_costly_to_clean("<div " + " ".join(f"a{i}" for i in range(300)) + ">x")
    True
    >>> too_costly_to_clean("<h1>a</h1>" * (MAX_HTML_ELEMENTS + 1))
    True
    """
    elements = 0
    for tag in _START_TAG.finditer(html):
        elements += 1
        if elements > MAX_HTML_ELEMENTS or len(tag.group(1).split()) > MAX_TAG_ATTRIBUTES:
            return True
    return nested_too_deeply(html)


#: Where nbconvert's markdown renderer may see math open: ``$``, ``\[``, ``\(`` (also as
#: ``\\[`` and ``\\(``) and ``\begin{``.
_MATH_OPENER = re.compile(r"\$|\\[\[(]|\\begin\{")


def math_scan_cost(markdown: str) -> int:
    r"""At most how many characters the math patterns of nbconvert's markdown renderer
    scan in ``markdown``: its length for each place math may open there.

    Each pattern matches lazily up to its closing mark, across lines, so math that opens
    and never closes is scanned to the text's end, once for every opening: the cost grows
    with the square of the text (27,000 ``\begin{a}`` in 243,000 characters took 64 s).

    Examples
    --------
    >>> math_scan_cost("plain text")
    0
    >>> math_scan_cost("$a$ and \\(b\\)")
    39
    """
    return sum(1 for _ in _MATH_OPENER.finditer(markdown)) * len(markdown)


_BLANK_RUN = re.compile(r"\n(?:[ \t\f\v\r]*\n){20,}")


def collapsed_blank_lines(source: str) -> str:
    """A learner's code with each run of more than 20 blank lines shown as one comment.

    Highlighting (pygments' IPython lexer) rescans a run of blank lines at each of its
    lines: 20,000 blank lines in one cell took 124 s of each feedback page. The submitted
    notebook keeps them, and the code ran with them.

    Examples
    --------
    >>> print(collapsed_blank_lines("x = 1" + "\\n" * 100 + "y = 2"))
    x = 1
    # ... 99 blank lines not shown
    y = 2
    """

    def comment(run: re.Match[str]) -> str:
        return f"\n# ... {run.group().count(chr(10)) - 1:,} blank lines not shown\n"

    return _BLANK_RUN.sub(comment, source)


def cut_long_lines(source: str, longest: int) -> str:
    """A learner's code with each line past ``longest`` characters cut, and a comment on it
    saying how many more it holds.

    Highlighting takes time that grows with the square of a line's length (the IPython
    lexer, 100 s for one line of 100,000 dots, on each feedback page and formgrader view).
    The submitted notebook keeps the lines whole, and the code ran with them.

    Examples
    --------
    >>> print(cut_long_lines("x = 1\\n" + "y" * 30, 10))
    x = 1
    yyyyyyyyyy  # ... 20 more characters of this line are not shown

    A line it cut is left as it is (the feedback run cleans the autograded notebook again):

    >>> cut_long_lines(cut_long_lines("y" * 30, 10), 10) == cut_long_lines("y" * 30, 10)
    True
    """

    def shown(line: str) -> str:
        if len(line) <= longest:
            return line
        cut = _CUT_LINE.search(line)
        if cut and cut.start() <= longest:
            return line
        more = len(line) - longest
        return f"{line[:longest]}  # ... {more:,} more characters of this line are not shown"

    return "\n".join(shown(line) for line in source.split("\n"))


_CUT_LINE = re.compile(r"  # \.\.\. [0-9,]+ more characters of this line are not shown$")


#: Characters shown of a learner's markdown or raw cell once the notebook's budget for them
#: is spent: every page that shows the notebook (feedback, the formgrader) pays for what
#: it holds, and the submitted notebook keeps the whole cell.
SHOWN_PAST_BUDGET = 1_000


def _as_text(text: str, shown: int | None = None) -> str:
    """``text`` shown as it is written, none of it markup; past ``shown`` characters cut,
    with a line saying how many more the submitted notebook holds.

    Examples
    --------
    >>> _as_text("<b>x</b>")
    '<pre>&lt;b&gt;x&lt;/b&gt;</pre>'
    >>> print(_as_text("abcdef", shown=2))
    <pre>ab
    ... 4 more characters of this cell are not shown: the submitted notebook holds them all</pre>
    """
    if shown is None or len(text) <= shown:
        return f"<pre>{html_escape(text)}</pre>"
    return (
        f"<pre>{html_escape(text[:shown])}\n... {len(text) - shown:,} more characters of this "
        "cell are not shown: the submitted notebook holds them all</pre>"
    )


def shown_as_text(html: str) -> bool:
    """Whether ``html`` is text already shown as it is written (:func:`_as_text`'s form):
    one ``<pre>`` holding no markup at all.

    Examples
    --------
    >>> shown_as_text(_as_text("<b onclick=go()>x</b>"))
    True
    >>> shown_as_text("<pre>a</pre><script>go()</script><pre>b</pre>")
    False
    """
    return html.startswith("<pre>") and html.endswith("</pre>") and "<" not in html[5:-6]


def clean_learner_markdown(
    source: str,
    attachments: dict[str, Any] | None = None,
    budget: pasted_images.ImageBudget | None = None,
) -> str:
    """A learner's markdown, rendered to HTML with only inert markup left.

    Images pasted into the cell (``attachments``, as the cell holds them) are shown as
    ``data:`` URLs where they are raster images that pass :mod:`lstm_grader.pasted_images`'
    checks within ``budget`` (the notebook's); any other shows its alt text.

    Examples
    --------
    >>> clean_learner_markdown("[x](javascript:alert(1)) <b onclick=go()>hi</b>")
    '<p><a>x</a> <b>hi</b></p>'
    >>> clean_learner_markdown("![my plot](attachment:image.png)")
    '<p><img src="" alt="my plot"></p>'
    """
    from bleach import clean
    from mistune import HTMLRenderer
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    held = pasted_images.HeldImages(budget if budget is not None else pasted_images.ImageBudget())

    class LearnerRenderer(IPythonRenderer):
        def block_code(self, code: str, info: str | None = None) -> str:
            # never highlighted: the fence names any of pygments' lexers, and the IPython
            # one takes time growing with the square of a line's length (100 s for one
            # line of 100,000 dots), outside the sandbox's limits
            return HTMLRenderer.block_code(self, code, None)

        def _embed_image_or_attachment(self, src: str) -> str:
            # nbconvert's raises on an attachment the cell does not hold, or holds with no
            # type, which failed the whole notebook
            if not src.startswith("attachment:"):
                return src
            return held.attachment(attachments, src.removeprefix("attachment:")) or ""

    def image_attribute(tag: str, name: str, value: str) -> bool:
        # an address the browser would load by itself, with no click: a learner's
        # ![](https://tracker/?who=alice) told them when the instructor opened the work, and
        # ![](/logout), read from the Jupyter server's own origin, signed the instructor out
        # of the formgrader; only a pasted image's placeholder (or no address) is kept
        if name == "src":
            return value == "" or value in held.urls
        return name in _LEARNER_IMAGE_ATTRIBUTES

    def class_attribute(tag: str, name: str, value: str) -> bool:
        # a class of the page's own (a fixed overlay, a hidden score box) is dropped whole
        return name == "class" and all(c in LEARNER_CLASSES for c in value.split())

    html = MarkdownWithMath(renderer=LearnerRenderer(escape=False)).render(source)
    if too_costly_to_clean(html):
        html = _as_text(source)
    cleaned = clean(
        held.data_images(html),
        tags=_LEARNER_TAGS,
        attributes={
            "a": kept_link_attribute,
            "img": image_attribute,
            "span": class_attribute,
            "div": class_attribute,
            "code": class_attribute,
        },
        protocols={"http", "https", "mailto"},
        strip=True,
    ).strip()
    return held.restore(cleaned)
