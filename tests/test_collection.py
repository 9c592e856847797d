"""Collecting submissions from a hostile learner: ``lstm_grader.collection``.

A learner chooses the tail of their LMS file name and, in the exchange, the name, kind,
owner-visible contents and links of their inbound folder. The fast tests drive the plugins
on tiny folders; the slow ones run the real ``nbgrader zip_collect`` and ``nbgrader collect``
on a throwaway course, one attack class per test, and check that nothing outside the
learner's own submission is collected or changed, that the honest classmate's collected files
are byte-identical to what they submitted, that the refused entry is named in the command's
log, and that no submission is dated earlier than it really was made. For each LMS naming
(Blackboard, Canvas, Moodle) a realistic download is collected by the real ``nbgrader
zip_collect``, and one with a file it cannot collect must exit 1 naming that file.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import errno
import hashlib
import io
import json
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import Course, fill_disk, make_course, require_or_skip, small_disk
from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.abc.exchange import ExchangeError
from traitlets import TraitError
from traitlets.config import Config

from lstm_grader import collection, safefiles
from lstm_grader.collection import (
    SafeExchangeCollect,
    SafeFileNameCollector,
    SafeZipExtractor,
    copy_regular_tree_at,
    owner_problem,
    zip_member_path,
    zip_member_problem,
)
from lstm_grader.course import (
    COLLECTING_MARKER,
    REPLACED_MARKER,
    collection_entry_beside,
    set_aside_submissions,
)

ASSIGNMENT = "05-return-flags"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "keras-recurrent-layers"
LMS_TIME = "2026-01-30-15-00-00"
LATER_LMS_TIME = "2026-01-30-16-00-00"
#: Exchange learners need accounts in pwd, so the owner check can tie a uid to the name a
#: folder claims without adding users to this machine: ``daemon`` (uid 1) is the honest
#: classmate, ``bin`` (uid 2) the learner who attacks.
HONEST, LEARNER = "daemon", "bin"
HONEST_UID, LEARNER_UID = pwd.getpwnam(HONEST).pw_uid, pwd.getpwnam(LEARNER).pw_uid
#: A uid with no account, which owns the folder that claims to be the honest classmate's.
STRANGER_UID = 61001
#: The ordinary (non-root) user that runs ``nbgrader collect`` in the non-root test.
INSTRUCTOR_UID = 61002
#: File times come from the kernel's coarse clock, which may lag ``time.time()`` by a tick.
CLOCK_SLACK = datetime.timedelta(seconds=1)


@pytest.fixture
def _as_root() -> None:
    require_or_skip(os.geteuid() == 0, "root (the test creates files owned by other uids)")


needs_root = pytest.mark.usefixtures("_as_root")


def lms_name(student: str, tail: str = NOTEBOOK, when: str = LMS_TIME) -> str:
    """Blackboard's name for a learner's upload called ``tail``."""
    return f"{ASSIGNMENT}_{student}_attempt_{when}_{tail}"


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def notebook_bytes(who: str) -> bytes:
    """A small notebook that says whose it is."""
    notebook = {"cells": [], "metadata": {"learner": who}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1).encode()


# ------------------------------------------------------------------------------------------
# Fast: the plugins on tiny folders
# ------------------------------------------------------------------------------------------


def tiny_course(root: Path, notebooks: Iterable[str] = (NOTEBOOK,)) -> ZipCollectApp:
    """A course folder with released notebooks only, and a ZipCollectApp over it."""
    release = root / "exercises" / ASSIGNMENT
    release.mkdir(parents=True, exist_ok=True)
    for name in notebooks:
        (release / name).write_bytes(notebook_bytes("release"))
    (root / "downloaded" / ASSIGNMENT / "extracted").mkdir(parents=True, exist_ok=True)
    (root / "downloaded" / ASSIGNMENT / "archive").mkdir(parents=True, exist_ok=True)
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.release_directory = "exercises"
    config.CourseDirectory.assignment_id = ASSIGNMENT
    app = ZipCollectApp(config=config)
    app.coursedir = CourseDirectory(parent=app)
    return app


def extracted(root: Path) -> Path:
    return root / "downloaded" / ASSIGNMENT / "extracted"


def collect_name(
    tmp_path: Path, name: str, app: ZipCollectApp | None = None, **traits: object
) -> tuple[dict | None, SafeFileNameCollector]:
    app = app or tiny_course(tmp_path)
    plugin = SafeFileNameCollector(parent=app, **traits)
    path = extracted(tmp_path) / name
    path.write_bytes(notebook_bytes("someone"))
    return plugin.collect(str(path)), plugin


@pytest.mark.parametrize(
    "tail",
    [
        f"x_alice_attempt_2020-01-01-00-00-00_{NOTEBOOK}",
        f"_attempt_2020-01-01-00-00-00_{NOTEBOOK}",
        f"{ASSIGNMENT}_alice_attempt_2030-12-31-23-59-59_{NOTEBOOK}",
        "alice.ipynb",
        "Untitled (3).ipynb",
    ],
)
def test_learner_chosen_tail_cannot_change_student_or_time(tmp_path: Path, tail: str) -> None:
    """Does a learner-chosen tail that names a classmate or another time leave the student
    id and the timestamp those of the LMS-written start of the name?"""
    info, plugin = collect_name(tmp_path, lms_name("mallory", tail))
    assert info == {
        "student_id": "mallory",
        "timestamp": datetime.datetime(2026, 1, 30, 15, 0, 0),
        "file_id": NOTEBOOK,
    }
    assert plugin.refused == []


@pytest.mark.parametrize("student", ["john_doe", "a_b_c", "j.doe@uni.example", "x-1"])
def test_underscore_ids_stay_whole(tmp_path: Path, student: str) -> None:
    """Does a student id with underscores, dots, dashes or an @ stay whole (john_doe is
    john_doe, not doe)?"""
    info, _ = collect_name(tmp_path, lms_name(student))
    assert info is not None and info["student_id"] == student


@pytest.mark.parametrize("student", ["..", ".hidden", "a..b", "-rf", "ünïcode", "a b", "a*"])
def test_unsafe_student_ids_are_refused(tmp_path: Path, student: str) -> None:
    """Is a file whose student id could name another folder, hide itself or read as an
    option refused and reported?"""
    info, plugin = collect_name(tmp_path, lms_name(student))
    assert info is None
    assert len(plugin.refused) == 1 and "not a safe id" in plugin.refused[0]


@pytest.mark.parametrize(
    "name",
    [
        f"other-assignment_alice_attempt_{LMS_TIME}_{NOTEBOOK}",
        f"x{ASSIGNMENT}_alice_attempt_{LMS_TIME}_{NOTEBOOK}",
        f"{ASSIGNMENT}_alice_attempt_2026-13-40-15-00-00_{NOTEBOOK}",
        f"{ASSIGNMENT}_alice_attempt_2026-1-30-15-00-00_{NOTEBOOK}",
        f"{ASSIGNMENT}_alice_{NOTEBOOK}",
    ],
)
def test_names_not_in_lms_form_are_refused(tmp_path: Path, name: str) -> None:
    """Is a file of another assignment, or with a malformed or impossible time, refused and
    reported rather than guessed at?"""
    info, plugin = collect_name(tmp_path, name)
    assert info is None and len(plugin.refused) == 1
    assert plugin.refused[0].startswith(str(extracted(tmp_path) / name))


def test_lms_assignment_name_is_configurable(tmp_path: Path) -> None:
    """Does lms_assignment_name replace the assignment id as the expected prefix?"""
    name = f"Return flags (week 5)_alice_attempt_{LMS_TIME}_{NOTEBOOK}"
    info, _ = collect_name(tmp_path, name, lms_assignment_name=r"Return flags \(week 5\)")
    assert info is not None and info["student_id"] == "alice"


def test_old_named_regexp_cannot_bring_back_the_greedy_match(tmp_path: Path) -> None:
    """Is FileNameCollectorPlugin.named_regexp (the old greedy pattern) ignored?"""
    app = tiny_course(tmp_path)
    app.config.FileNameCollectorPlugin.named_regexp = (
        r".+_(?P<student_id>\w+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)"
    )
    info, _ = collect_name(
        tmp_path, lms_name("john_doe", f"x_alice_attempt_{LMS_TIME}_a.ipynb"), app=app
    )
    assert info is not None and info["student_id"] == "john_doe"


def test_file_id_maps_to_a_released_notebook(tmp_path: Path) -> None:
    """With two released notebooks, does the tail pick one only by naming it exactly, and
    is any other tail refused instead of becoming a path of its own?"""
    app = tiny_course(tmp_path, [NOTEBOOK, "extra.ipynb"])
    info, _ = collect_name(tmp_path, lms_name("alice", "extra.ipynb"), app=app)
    assert info is not None and info["file_id"] == "extra.ipynb"
    info, plugin = collect_name(
        tmp_path, lms_name("alice", "..%2F..%2Fnbgrader_config.ipynb"), app=app
    )
    assert info is None and "none of the released notebooks" in plugin.refused[0]


def test_scratch_notebook_of_the_same_attempt_is_not_the_submission(tmp_path: Path) -> None:
    """When one attempt uploads the assignment's notebook and a scratch notebook, is the
    scratch one refused (not mapped over the real one, whatever the order), while a lone
    differently named upload still counts as the single notebook?"""
    app = tiny_course(tmp_path)
    folder = extracted(tmp_path)
    for name in [
        lms_name("alice"),
        lms_name("alice", "zzz-scratch.ipynb"),
        lms_name("bob", "my work.ipynb"),
    ]:
        (folder / name).write_bytes(notebook_bytes(name))
    plugin = SafeFileNameCollector(parent=app)
    assert plugin.collect(str(folder / lms_name("alice")))["file_id"] == NOTEBOOK
    assert plugin.collect(str(folder / lms_name("alice", "zzz-scratch.ipynb"))) is None
    assert "the same attempt also uploaded" in plugin.refused[0]
    assert plugin.collect(str(folder / lms_name("bob", "my work.ipynb")))["file_id"] == NOTEBOOK


def test_links_special_and_hard_linked_files_are_refused(tmp_path: Path) -> None:
    """Is an extracted entry that is a link, a FIFO, a hard-linked file or a file whose real
    path leaves the extracted folder refused and reported?"""
    app = tiny_course(tmp_path)
    outside = tmp_path / "outside.ipynb"
    outside.write_bytes(notebook_bytes("outside"))
    folder = extracted(tmp_path)
    (folder / lms_name("a1")).symlink_to(outside)
    os.mkfifo(folder / lms_name("a2"))
    os.link(outside, folder / lms_name("a3"))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / lms_name("a4")).write_bytes(notebook_bytes("elsewhere"))
    (folder / "sub").symlink_to(tmp_path / "elsewhere")  # a folder link: files resolve outside
    plugin = SafeFileNameCollector(parent=app)
    for name in [lms_name("a1"), lms_name("a2"), lms_name("a3"), f"sub/{lms_name('a4')}"]:
        assert plugin.collect(str(folder / name)) is None
    reasons = "\n".join(plugin.refused)
    assert "a symbolic link" in reasons and "not a regular file" in reasons
    assert "hard links" in reasons and "is outside" in reasons
    assert len(plugin.refused) == 4


# ---------------------------------------------------------------------- the three LMS namings

CANVAS_ID, MOODLE_ID = "4711", "1234"
MOODLE_ZIP = "KRL-Return flags-42"  # Moodle's zip: <course>-<assignment>-<module id>.zip


def canvas_name(
    user_id: str, tail: str = NOTEBOOK, name: str = "leedave", late: str = "", attachment="981"
) -> str:
    """Canvas's name for a learner's upload: <lastfirst>[_LATE]_<user id>_<attachment>_<tail>."""
    return "_".join([name, *([late] if late else []), user_id, attachment, tail])


def moodle_path(participant: str, tail: str = NOTEBOOK, name: str = "Dave Lee", end="") -> str:
    """Moodle's path for a learner's upload, a folder per submission (end="_": Moodle 3.x)."""
    return f"{MOODLE_ZIP}/{name}_{participant}_assignsubmission_file{end}/{tail}"


def place(root: Path, relative: str, data: bytes | None = None) -> Path:
    """A file at ``relative`` below the extracted folder (folders made as needed)."""
    path = extracted(root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(notebook_bytes(relative) if data is None else data)
    return path


@pytest.mark.parametrize(
    ("lms", "relative", "student", "timestamp"),
    [
        ("blackboard", lms_name("dave_lee", "my_attempt_2_final.ipynb"), "dave_lee", True),
        ("blackboard", lms_name("a_b_c", f"x_lee_attempt_{LATER_LMS_TIME}_a.ipynb"), "a_b_c", 1),
        ("blackboard", lms_name("_x_", NOTEBOOK), "_x_", True),
        ("canvas", canvas_name(CANVAS_ID), CANVAS_ID, False),
        ("canvas", canvas_name(CANVAS_ID, late="LATE"), CANVAS_ID, False),
        ("canvas", canvas_name(CANVAS_ID, late="late"), CANVAS_ID, False),
        ("canvas", canvas_name(CANVAS_ID, "x_99_98_attempt_y.ipynb", "o_brienpat"), CANVAS_ID, 0),
        ("canvas", f"LATE_anon_x7Yz2_981_{NOTEBOOK}", "anon_x7Yz2", False),
        ("canvas", canvas_name(CANVAS_ID, name=""), CANVAS_ID, False),
        ("moodle", moodle_path(MOODLE_ID), MOODLE_ID, False),
        ("moodle", moodle_path(MOODLE_ID, end="_"), MOODLE_ID, False),
        (
            "moodle",
            f"{MOODLE_ZIP}/Dave Lee_{MOODLE_ID}_assignsubmission_file_a_1.ipynb",
            MOODLE_ID,
            0,
        ),
        (
            "moodle",
            moodle_path(MOODLE_ID, f"Eve_99_assignsubmission_file/{NOTEBOOK}"),
            MOODLE_ID,
            0,
        ),
        ("moodle", moodle_path(MOODLE_ID, "my_work/x_99_y.ipynb", "Participant"), MOODLE_ID, 0),
    ],
)
def test_each_lms_naming_reads_the_lms_written_part(
    tmp_path: Path, lms: str, relative: str, student: str, timestamp: int
) -> None:
    """For each LMS's naming, is the student id the whole id between the fixed parts
    (underscores kept: dave_lee is not lee), whatever underscores, ids or "attempt" the
    learner's own file name (or Moodle subfolder) holds?"""
    app = tiny_course(tmp_path)
    plugin = SafeFileNameCollector(parent=app, lms=lms)
    info = plugin.collect(str(place(tmp_path, relative)))
    assert plugin.refused == [] and plugin.skipped == []
    assert info is not None and info["student_id"] == student and info["file_id"] == NOTEBOOK
    assert ("timestamp" in info) is bool(timestamp)


def test_blackboard_is_the_default_and_a_canvas_download_gets_a_hint(tmp_path: Path) -> None:
    """Are a Canvas file and a Moodle path under the default (Blackboard) refused, each with
    the setting that would read it, rather than silently skipped?"""
    app = tiny_course(tmp_path)
    plugin = SafeFileNameCollector(parent=app)
    assert plugin.lms == "blackboard"
    assert plugin.collect(str(place(tmp_path, canvas_name(CANVAS_ID)))) is None
    assert plugin.collect(str(place(tmp_path, moodle_path(MOODLE_ID)))) is None
    assert "not in Blackboard's form" in plugin.refused[0]
    assert "c.SafeFileNameCollector.lms = 'canvas'" in plugin.refused[0]
    assert "c.SafeFileNameCollector.lms = 'moodle'" in plugin.refused[1]


def test_lms_must_be_one_of_the_three(tmp_path: Path) -> None:
    """Is an unknown lms a configuration error, not a silent fallback, naming the three?"""
    with pytest.raises(TraitError, match="set it to 'blackboard', 'canvas' or 'moodle'"):
        SafeFileNameCollector(lms="sakai")


@pytest.mark.parametrize(
    ("section", "setting", "value", "says"),
    [
        (
            "SafeFileNameCollector",
            "lms",
            "cnavas",
            "set it to 'blackboard', 'canvas' or 'moodle' (did you mean 'canvas'?)",
        ),
        ("SafeFileNameCollector", "basename_regexp", "(?P<file_id>.*)", "(?P<student_id>"),
        ("SafeZipExtractor", "max_members", "many", "max_members"),
    ],
)
def test_a_misspelt_setting_stops_zip_collect_with_one_line(
    tmp_path: Path, section: str, setting: str, value: str, says: str
) -> None:
    """A misspelt LMS name (or another plugin setting traitlets refuses) came out of
    ``nbgrader zip_collect`` as a traceback. Does it stop the command, before anything is
    extracted, with status 1 and one error line naming the setting and what it accepts?"""
    import logging

    app = tiny_course(tmp_path)
    app.extractor_plugin, app.collector_plugin = SafeZipExtractor, SafeFileNameCollector
    setattr(app.config[section], setting, value)
    lines: list[str] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    app.log.addHandler(handler)
    try:
        with pytest.raises(SystemExit) as stopped:
            app.init_plugins()
    finally:
        app.log.removeHandler(handler)
    assert stopped.value.code == 1
    [line] = lines
    assert line.startswith("Nothing was collected: ") and says in line, line
    assert "\n" not in line and "Traceback" not in line


def test_basename_regexp_overrides_lms(tmp_path: Path) -> None:
    """Does an explicit basename_regexp win over lms (for another LMS)?"""
    app = tiny_course(tmp_path)
    plugin = SafeFileNameCollector(
        parent=app, lms="canvas", basename_regexp=r"(?P<student_id>[a-z]+)-(?P<file_id>.+)"
    )
    info = plugin.collect(str(place(tmp_path, "alice-whatever.ipynb")))
    assert info == {"student_id": "alice", "file_id": NOTEBOOK}
    assert plugin.collect(str(place(tmp_path, canvas_name(CANVAS_ID)))) is None
    assert "not in basename_regexp's form" in plugin.refused[0]


def test_roster_maps_lms_ids_to_student_ids(tmp_path: Path) -> None:
    """With a roster (per assignment, as Moodle numbers participants per assignment), is the
    LMS id mapped to the roster's student id, and a learner missing from it refused?"""
    app = tiny_course(tmp_path)
    (tmp_path / "rosters").mkdir()
    roster = tmp_path / "rosters" / f"{ASSIGNMENT}.csv"
    roster.write_text(f"\ufefflms_id,student_id,name\n{MOODLE_ID},dave_lee,Dave Lee\n")
    plugin = SafeFileNameCollector(parent=app, lms="moodle", roster="rosters/{assignment}.csv")
    info = plugin.collect(str(place(tmp_path, moodle_path(MOODLE_ID))))
    assert info == {"student_id": "dave_lee", "file_id": NOTEBOOK}
    assert plugin.collect(str(place(tmp_path, moodle_path("99", name="Eve")))) is None
    assert f"LMS id '99' is not in the roster {roster}" in plugin.refused[0]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("id,student\n1234,dave\n", "needs the columns lms_id and student_id"),
        ("lms_id,student_id\n1234,../x\n", "'../x' is not a safe id"),
        ("lms_id,student_id\n1234,dave\n1234,eve\n", "appears twice"),
        ("lms_id,student_id\n1234,dave\n99,dave\n", "appears twice"),
    ],
)
def test_unusable_roster_is_refused_with_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    """Is a roster without the columns, with an unsafe id, or mapping an id twice refused
    (naming the roster), instead of guessing?"""
    app = tiny_course(tmp_path)
    (tmp_path / "roster.csv").write_text(text)
    plugin = SafeFileNameCollector(parent=app, lms="moodle", roster="roster.csv")
    assert plugin.collect(str(place(tmp_path, moodle_path(MOODLE_ID)))) is None
    assert reason in plugin.refused[0] and str(tmp_path / "roster.csv") in plugin.refused[0]


def test_renamed_copies_and_several_uploads_of_one_submission(tmp_path: Path) -> None:
    """Is Canvas's renamed copy (name-1.ipynb) or a browser's (name (1).ipynb) taken as the
    notebook it copies, the exact name preferred to a copy, and are two equally fitting
    uploads of one submission (no time to choose by) both refused rather than one guessed?"""
    app = tiny_course(tmp_path, [NOTEBOOK, "extra.ipynb"])
    uploads = {
        canvas_name("1", "05-return-flags-1.ipynb"): NOTEBOOK,
        canvas_name("1", "extra (1).ipynb"): "extra.ipynb",
        canvas_name("2", NOTEBOOK): NOTEBOOK,
        canvas_name("2", "05-return-flags-1.ipynb"): None,
        canvas_name("3", "05-return-flags-1.ipynb"): None,
        canvas_name("3", "05-return-flags (2).ipynb"): None,
    }
    paths = {name: place(tmp_path, name) for name in uploads}
    plugin = SafeFileNameCollector(parent=app, lms="canvas")
    for name, notebook in uploads.items():
        info = plugin.collect(str(paths[name]))
        assert (info and info["file_id"]) == notebook, name
    reasons = "\n".join(plugin.refused)
    assert f"the same attempt also uploaded '{NOTEBOOK}'" in reasons
    assert reasons.count(f"could each be {NOTEBOOK}") == 2 and len(plugin.refused) == 3


def test_receipts_are_skipped_quietly_other_files_are_reported(tmp_path: Path) -> None:
    """Is Blackboard's own receipt (<...>_attempt_<time>.txt) left out without a report,
    while a learner's non-notebook upload is reported as skipped?"""
    app = tiny_course(tmp_path)
    plugin = SafeFileNameCollector(parent=app)
    receipt = place(tmp_path, f"{ASSIGNMENT}_dave_lee_attempt_{LMS_TIME}.txt", b"Name: Dave")
    upload = place(tmp_path, lms_name("dave_lee", "data.csv"), b"1,2")
    assert plugin.collect(str(receipt)) is None and plugin.collect(str(upload)) is None
    assert plugin.refused == [] and len(plugin.skipped) == 1
    assert plugin.skipped[0].startswith(f"{upload}: not a notebook")


def zip_collect_in_process(
    root: Path,
    entries: list,
    caplog: pytest.LogCaptureFixture,
    force: bool = False,
    **traits: object,
) -> tuple[int, str]:
    """Run zip_collect's two steps in-process with our plugins (``--force`` if ``force``);
    (exit status, log)."""
    app = tiny_course(root)
    app.force = force
    app.extractor_plugin, app.collector_plugin = SafeZipExtractor, SafeFileNameCollector
    for name, value in traits.items():
        setattr(app.config.SafeFileNameCollector, name, value)
    make_zip(root / "downloaded" / ASSIGNMENT / "archive" / "download.zip", entries)
    app.log.addHandler(caplog.handler)  # the app's logger does not propagate
    status = 0
    try:
        app.init_plugins()
        app.extract_archive_files()
        app.process_extracted_files()
    except SystemExit as exit_:
        status = exit_.code
    finally:
        app.log.removeHandler(caplog.handler)
    return status, caplog.text


def test_uncollected_files_make_zip_collect_fail_after_collecting_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Does zip_collect exit with status 1, naming each file not collected and why, after
    copying the files it could collect (and leave the download untouched)?"""
    entries = [
        (canvas_name(CANVAS_ID), notebook_bytes("dave")),
        ("notes.ipynb", notebook_bytes("stray")),
        (canvas_name("4712", "report.pdf"), b"%PDF"),
    ]
    status, log = zip_collect_in_process(tmp_path, entries, caplog, lms="canvas")
    assert status == 1
    where = extracted(tmp_path) / "download"
    assert "was collected (1 collected); not collected:" in log
    assert f"  {where / 'notes.ipynb'}: its name is not in Canvas's form" in log
    assert f"  {where / canvas_name('4712', 'report.pdf')}: not a notebook" in log
    submitted = tmp_path / "submitted" / CANVAS_ID / ASSIGNMENT / NOTEBOOK
    assert submitted.read_bytes() == notebook_bytes("dave")
    archive = tmp_path / "downloaded" / ASSIGNMENT / "archive"
    assert [p.name for p in archive.iterdir()] == ["download.zip"]


def test_zip_collect_fails_when_nothing_is_collected_and_passes_when_all_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Does a download of which nothing is collected (the issue: Canvas files read as
    Blackboard's) exit 1 saying so, and one collected in full exit normally?"""
    entries = [(canvas_name(CANVAS_ID), notebook_bytes("dave"))]
    status, log = zip_collect_in_process(tmp_path / "a", entries, caplog)
    assert status == 1 and "Nothing in" in log and "lms = 'canvas'" in log
    caplog.clear()
    status, log = zip_collect_in_process(tmp_path / "b", entries, caplog, lms="canvas")
    assert status == 0 and "ERROR" not in log and "Refused" not in log


# ---------------------------------------------------------------------- over a collected one

OLDER_LMS_TIME = "2026-01-01-00-00-00"


def collected_before(root: Path, student: str, timestamp: str | None) -> Path:
    """``submitted/<student>/<assignment>`` holding a notebook collected (and graded) before,
    with ``timestamp`` as its timestamp.txt (None: none)."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_bytes(notebook_bytes("collected before"))
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
    return folder


@pytest.mark.parametrize(
    ("existing", "lms", "relative", "reason"),
    [
        # the reported loss: an older Blackboard attempt over the one collected
        (
            "2026-01-30 15:00:00",
            "blackboard",
            lms_name("alice", when=OLDER_LMS_TIME),
            "an older attempt (2026-01-01 00:00:00) than the submission already in "
            "{folder} (2026-01-30 15:00:00), which is kept; move {folder} away",
        ),
        # as nbgrader's exchange collect writes it, in UTC, a microsecond later
        (
            "2026-01-30 15:00:00.000001 UTC",
            "blackboard",
            lms_name("alice"),
            "an older attempt (2026-01-30 15:00:00) than the submission already in "
            "{folder} (2026-01-30 15:00:00.000001)",
        ),
        # the same attempt collected again, and a newer one: collected, as before
        ("2026-01-30 15:00:00", "blackboard", lms_name("alice"), None),
        ("2026-01-30 15:00:00", "blackboard", lms_name("alice", when=LATER_LMS_TIME), None),
        # no time to compare on one side: the collected one is kept
        (
            None,
            "blackboard",
            lms_name("alice"),
            "it is dated 2026-01-30 15:00:00, but the submission already in {folder} has no "
            "time (timestamp.txt), so whether it is newer cannot be told",
        ),
        (
            "yesterday",
            "blackboard",
            lms_name("alice", when=LATER_LMS_TIME),
            "it is dated 2026-01-30 16:00:00, but whether the submission already in {folder} "
            "is newer cannot be told (timestamp.txt: holds 'yesterday'",
        ),
        (
            "2026-01-30 15:00:00",
            "canvas",
            canvas_name(CANVAS_ID),
            "its name carries no time, but the submission already in {folder} is dated "
            "2026-01-30 15:00:00, so whether that one is newer cannot be told",
        ),
        # neither has a time (Canvas, Moodle): the download is collected, as before
        (None, "canvas", canvas_name(CANVAS_ID), None),
        ("", "moodle", moodle_path(MOODLE_ID), None),
    ],
)
def test_a_submission_never_replaces_a_newer_one_collected_before(
    tmp_path: Path, existing: str | None, lms: str, relative: str, reason: str | None
) -> None:
    """Is a file older than the submission already collected for its learner (or one of
    which that cannot be told) refused with both times, once every file of the download is
    read, while the same attempt again, a newer one, or an undated one over an undated one
    is collected as before?"""
    student = {"blackboard": "alice", "canvas": CANVAS_ID, "moodle": MOODLE_ID}[lms]
    app = tiny_course(tmp_path)
    folder = collected_before(tmp_path, student, existing)
    plugin = SafeFileNameCollector(parent=app, lms=lms)
    path = place(tmp_path, relative)
    info = plugin.collect(str(path))
    plugin.settle_older_attempts()
    if reason is None:
        assert info is not None and info["student_id"] == student and plugin.refused == []
    else:
        assert info is None and plugin.collected == [] and len(plugin.refused) == 1
        assert plugin.refused[0].startswith(f"{path}: ")
        assert reason.format(folder=folder) in plugin.refused[0]


def test_a_submission_is_collected_where_nothing_was(tmp_path: Path) -> None:
    """Is a file collected over an empty submission folder (nothing to lose), and is a
    link in place of the folder refused rather than followed and emptied?"""
    app = tiny_course(tmp_path)
    (tmp_path / "submitted" / "alice" / ASSIGNMENT / "empty").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("x")
    (tmp_path / "submitted" / "bob").mkdir()
    (tmp_path / "submitted" / "bob" / ASSIGNMENT).symlink_to(tmp_path / "elsewhere")
    plugin = SafeFileNameCollector(parent=app)
    assert plugin.collect(str(place(tmp_path, lms_name("alice")))) is not None
    assert plugin.collect(str(place(tmp_path, lms_name("bob")))) is None
    assert "is not a folder (a link or a file), so nothing replaces it" in plugin.refused[0]


def test_zip_collect_keeps_the_newer_submission_and_exits_1(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In-process: does an older attempt leave the collected submission byte-identical,
    make zip_collect exit 1 listing it with both times, and still collect a classmate?"""
    folder = collected_before(tmp_path, "alice", "2026-01-30 15:00:00")
    entries = [
        (lms_name("alice", when=OLDER_LMS_TIME), notebook_bytes("alice, older")),
        (lms_name("bob"), notebook_bytes("bob")),
    ]
    status, log = zip_collect_in_process(tmp_path, entries, caplog)
    assert status == 1
    assert (folder / NOTEBOOK).read_bytes() == notebook_bytes("collected before")
    assert (folder / "timestamp.txt").read_text() == "2026-01-30 15:00:00"
    summary = log.split("was collected (1 collected); not collected:\n", 1)[1]
    older = extracted(tmp_path) / "download" / lms_name("alice", when=OLDER_LMS_TIME)
    assert f"  {older}: an older attempt (2026-01-01 00:00:00) than" in summary
    bob = tmp_path / "submitted" / "bob" / ASSIGNMENT / NOTEBOOK
    assert bob.read_bytes() == notebook_bytes("bob")


def test_a_copy_that_fails_part_way_keeps_what_was_collected_before(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``zip_collect --force`` with newer attempts of alice and bob, both collected before;
    alice's copy fails half-written, as on a full disk. nbgrader emptied her folder first:
    her collected notebook and time were lost, half of the new one left, and zip_collect
    stopped in a traceback before bob. Is her folder as it was, nothing left beside it,
    her file refused naming why (exit 1), and bob's newer attempt in place of his old one?"""
    alice = collected_before(tmp_path, "alice", "2026-01-30 15:00:00")
    bob = collected_before(tmp_path, "bob", "2026-01-30 15:00:00")
    copy = shutil.copy

    def fails_for_alice(source: str, target: str) -> str:
        if "_alice_" in os.path.basename(source):
            with open(target, "wb") as half:
                half.write(Path(source).read_bytes()[:10])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return copy(source, target)

    monkeypatch.setattr(shutil, "copy", fails_for_alice)
    entries = [
        (lms_name("alice", when=LATER_LMS_TIME), notebook_bytes("alice, newer")),
        (lms_name("bob", when=LATER_LMS_TIME), notebook_bytes("bob, newer")),
    ]
    status, log = zip_collect_in_process(tmp_path, entries, caplog, force=True)
    assert status == 1
    assert (alice / NOTEBOOK).read_bytes() == notebook_bytes("collected before")
    assert (alice / "timestamp.txt").read_text() == "2026-01-30 15:00:00"
    submitted = tmp_path / "submitted"
    assert sorted(str(p.relative_to(submitted)) for p in submitted.rglob("*")) == [
        "alice",
        f"alice/{ASSIGNMENT}",
        f"alice/{ASSIGNMENT}/{NOTEBOOK}",
        f"alice/{ASSIGNMENT}/timestamp.txt",
        "bob",
        f"bob/{ASSIGNMENT}",
        f"bob/{ASSIGNMENT}/{NOTEBOOK}",
        f"bob/{ASSIGNMENT}/timestamp.txt",
    ]
    assert (bob / NOTEBOOK).read_bytes() == notebook_bytes("bob, newer")
    assert (bob / "timestamp.txt").read_text() == "2026-01-30 16:00:00"
    summary = log.split("was collected (1 collected); not collected:\n", 1)[1]
    source = extracted(tmp_path) / "download" / lms_name("alice", when=LATER_LMS_TIME)
    assert summary.splitlines()[0].strip() == (
        f"{source}: could not be copied into {alice} (No space left on device), which is "
        "left as it was"
    )


def refuse_renaming_new_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every rename of a collection's new (``.collecting-``) folder fail with EACCES,
    as a file system may refuse it, for the rest of the test."""
    rename = os.rename

    def refused_for_the_new_folder(source: str, target: str) -> None:
        if ".collecting-" in os.path.basename(source):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        rename(source, target)

    monkeypatch.setattr(os, "rename", refused_for_the_new_folder)


def test_a_refused_rename_puts_the_collected_submission_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice's newer files are written, her collected folder is moved aside, and the rename
    that would put the new folder in its place is refused: is her collected folder back
    where it was, nothing left beside it, and her file named as not copied?"""
    alice = collected_before(tmp_path, "alice", "2026-01-30 15:00:00")
    refuse_renaming_new_folders(monkeypatch)
    entries = [(lms_name("alice", when=LATER_LMS_TIME), notebook_bytes("alice, newer"))]
    status, log = zip_collect_in_process(tmp_path, entries, caplog, force=True)
    assert status == 1
    assert sorted(p.name for p in alice.parent.iterdir()) == [ASSIGNMENT]
    assert sorted(p.name for p in alice.iterdir()) == [NOTEBOOK, "timestamp.txt"]
    assert (alice / NOTEBOOK).read_bytes() == notebook_bytes("collected before")
    assert f"could not be copied into {alice} (Permission denied)" in log


#: ``nbgrader zip_collect`` with this kit's plugins, killed outright (SIGKILL) at the rename
#: that puts a learner's new folder in place, after their collected one was moved aside.
_ZIP_COLLECT_KILLED_BETWEEN_RENAMES = """
import os, signal, sys
rename = os.rename
def killed_renaming_the_new_folder(source, target):
    if ".collecting-" in os.path.basename(source):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, target)
os.rename = killed_renaming_the_new_folder
from nbgrader.apps.nbgraderapp import main
sys.argv = ["nbgrader", "zip_collect", *sys.argv[1:]]
main()
"""


def zip_collect_killed_between_renames(root: Path, entries: list) -> None:
    """Run a real ``nbgrader zip_collect --force`` of ``entries`` over the course at
    ``root``, killed between its two renames."""
    tiny_course(root)
    make_zip(root / "downloaded" / ASSIGNMENT / "archive" / "download.zip", entries)
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            _ZIP_COLLECT_KILLED_BETWEEN_RENAMES,
            ASSIGNMENT,
            "--force",
            f"--CourseDirectory.root={root}",
            "--CourseDirectory.release_directory=exercises",
            "--ZipCollectApp.extractor_plugin=lstm_grader.collection.SafeZipExtractor",
            "--ZipCollectApp.collector_plugin=lstm_grader.collection.SafeFileNameCollector",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run


def set_aside_path(folder: Path) -> str:
    """A path where a collection of ``folder`` sets what it replaces aside."""
    return collection_entry_beside(str(folder), REPLACED_MARKER)


def hidden_beside(folder: Path) -> list[str]:
    """The kinds of hidden folders a collection left beside ``folder``, sorted."""
    return sorted(
        p.name.removeprefix(f".{folder.name}.").split("-")[0]
        for p in folder.parent.iterdir()
        if p.name.startswith(".")
    )


def test_a_collection_killed_as_it_replaced_a_folder_is_settled_by_the_next(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """zip_collect, killed outright between moving alice's collected folder aside and
    renaming her newer one into place, leaves her without a folder. Does the next
    collection put her collected submission back before anything compares with it (so
    an older attempt in the next download is still refused as older), remove the copy
    never put in place, and say both?"""
    alice = collected_before(tmp_path, "alice", "2026-01-30 15:00:00")
    before = {p.name: p.read_bytes() for p in alice.iterdir()}
    newer = [(lms_name("alice", when=LATER_LMS_TIME), notebook_bytes("alice, newer"))]
    zip_collect_killed_between_renames(tmp_path, newer)
    assert not alice.exists() and hidden_beside(alice) == ["collecting", "replaced"]
    # what grading reports her submission as, in the meantime
    [aside] = set_aside_submissions(alice)
    assert {p.name: p.read_bytes() for p in Path(aside).iterdir()} == before

    shutil.rmtree(tmp_path / "downloaded")
    older = [(lms_name("alice", when=OLDER_LMS_TIME), notebook_bytes("alice, older"))]
    status, log = zip_collect_in_process(tmp_path, older, caplog, force=True)
    assert status == 1
    assert {p.name: p.read_bytes() for p in alice.iterdir()} == before
    assert hidden_beside(alice) == []
    assert f"Put the submission collected before back in {alice}: a collection was" in log
    assert f"Removed {alice.parent}/.{ASSIGNMENT}.collecting-" in log
    assert "an older attempt (2026-01-01 00:00:00) than the submission already in" in log


def test_a_newer_attempt_replaces_a_folder_an_interrupted_collection_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """After the same kill, is the same newer attempt collected again in alice's place,
    with nothing left beside it?"""
    alice = collected_before(tmp_path, "alice", "2026-01-30 15:00:00")
    newer = [(lms_name("alice", when=LATER_LMS_TIME), notebook_bytes("alice, newer"))]
    zip_collect_killed_between_renames(tmp_path, newer)
    shutil.rmtree(tmp_path / "downloaded")
    status, log = zip_collect_in_process(tmp_path, newer, caplog, force=True)
    assert status == 0, log
    assert (alice / NOTEBOOK).read_bytes() == notebook_bytes("alice, newer")
    assert (alice / "timestamp.txt").read_text() == "2026-01-30 16:00:00"
    assert hidden_beside(alice) == []


def test_what_was_set_aside_is_put_back_as_it_was(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the learner's folder missing, is a link set aside put back as the link it was
    (never followed, its target as it was), so that the collection then refuses it as
    before; and with the learner's folder there, is a folder set aside removed and the
    learner's kept?"""
    learner = tmp_path / "submitted" / "alice"
    learner.mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / NOTEBOOK).write_bytes(b"kept")
    folder = learner / ASSIGNMENT
    Path(set_aside_path(folder)).symlink_to(tmp_path / "elsewhere")
    app = tiny_course(tmp_path)
    plugin = SafeFileNameCollector(parent=app)
    assert plugin.collect(str(place(tmp_path, lms_name("alice")))) is None
    assert [p.name for p in learner.iterdir()] == [ASSIGNMENT]
    assert os.readlink(folder) == str(tmp_path / "elsewhere")
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == [NOTEBOOK]
    assert "is not a folder (a link or a file), so nothing replaces it" in plugin.refused[0]

    folder.unlink()
    folder.mkdir()
    (folder / NOTEBOOK).write_bytes(b"collected")
    replaced = Path(set_aside_path(folder))
    replaced.mkdir()
    (replaced / NOTEBOOK).write_bytes(b"replaced")
    with caplog.at_level(logging.INFO):
        collection.settle_interrupted_collection(str(folder), logging.getLogger("test"))
    assert [p.name for p in learner.iterdir()] == [ASSIGNMENT]
    assert (folder / NOTEBOOK).read_bytes() == b"collected"
    assert f"Removed {replaced}, left by an interrupted" in caplog.text


def test_a_submission_that_cannot_be_put_back_is_kept_not_removed_with_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Settling removed every entry left beside a learner's place but the one it put
    back: when putting it back was refused, the learner's only collected submission was
    removed with the rest. Is it kept, and the refusal logged, while the copy never put in
    place is still removed?"""
    folder = tmp_path / "submitted" / "alice" / ASSIGNMENT
    aside = Path(set_aside_path(folder))
    aside.mkdir(parents=True)
    (aside / NOTEBOOK).write_bytes(b"collected")
    unfinished = Path(collection_entry_beside(str(folder), COLLECTING_MARKER))
    unfinished.mkdir()
    rename = os.rename

    def refused(source: str, target: str) -> None:
        if source == str(aside):
            raise PermissionError(errno.EACCES, "Permission denied")
        rename(source, target)

    monkeypatch.setattr(os, "rename", refused)
    with caplog.at_level(logging.INFO):
        collection.settle_interrupted_collection(str(folder), logging.getLogger("test"))
    assert [p.name for p in folder.parent.iterdir()] == [aside.name]
    assert (aside / NOTEBOOK).read_bytes() == b"collected"
    assert f"Could not put {aside} back as {folder} (Permission denied)" in caplog.text
    assert f"Removed {unfinished}, left by an interrupted collection" in caplog.text


# ---------------------------------------------------------------------- the zip extractor


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries:
            bundle.writestr(name, data)
    return path


def kind_entry(name: str, kind: int, data: bytes = b"") -> tuple[zipfile.ZipInfo, bytes]:
    """A zip entry whose Unix mode (external_attr) says ``kind`` (S_IFLNK, S_IFIFO, ...)."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (kind | 0o777) << 16
    return info, data


def extract(tmp_path: Path, entries: list, **traits: object) -> SafeZipExtractor:
    archive = tmp_path / "archive"
    make_zip(archive / "submissions.zip", entries)
    extractor = SafeZipExtractor(**traits)
    (tmp_path / "extracted").mkdir()
    extractor.extract(str(archive), str(tmp_path / "extracted"))
    return extractor


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_zip_entries_that_escape_link_or_are_special_are_refused(tmp_path: Path) -> None:
    """Are zip entries with ``..``, absolute or drive paths, symlink or FIFO modes, or two
    copies of a name (both) refused and reported, while the honest entry is extracted?"""
    honest = lms_name("alice")
    extractor = extract(
        tmp_path,
        [
            (honest, notebook_bytes("alice")),
            ("../escaped.ipynb", b"x"),
            ("a/../../escaped2.ipynb", b"x"),
            ("/tmp/absolute.ipynb", b"x"),
            ("..\\windows.ipynb", b"x"),
            ("C:/drive.ipynb", b"x"),
            kind_entry(lms_name("mallory"), stat.S_IFLNK, b"/etc/passwd"),
            kind_entry("fifo.ipynb", stat.S_IFIFO),
            kind_entry("device.ipynb", stat.S_IFCHR),
            (lms_name("bob"), notebook_bytes("bob")),
            (lms_name("bob"), notebook_bytes("bob, again")),
        ],
    )
    target = tmp_path / "extracted" / "submissions"
    assert sorted(p.name for p in target.rglob("*")) == [honest]
    assert (target / honest).read_bytes() == notebook_bytes("alice")
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/absolute.ipynb").exists()
    reasons = "\n".join(extractor.refused)
    for name in ["../escaped.ipynb", "escaped2", "/tmp/absolute", "windows", "drive"]:
        assert name in reasons
    assert "symbolic link entry" in reasons and reasons.count("special file") == 2
    assert reasons.count("2 entries of the archive would be extracted to") == 2
    assert len(extractor.refused) == 10


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_entries_that_land_on_one_file_are_all_refused_as_a_conflict(tmp_path: Path) -> None:
    """Two entries of one name, or of names that differ only in the parts the extractor
    leaves out (``./``, ``//``), used to give the first one's content, reporting only the
    later one. Is each of them refused and named as a conflict (which counts is not
    guessed), the rest extracted, and the download left as it was?"""
    dup = lms_name("alice")
    extractor = extract(
        tmp_path,
        [
            (dup, notebook_bytes("alice, first")),
            (f"./{dup}", notebook_bytes("alice, second")),
            (f"sub//{lms_name('bob')}", notebook_bytes("bob, first")),
            (f"sub/{lms_name('bob')}", notebook_bytes("bob, second")),
            (lms_name("carol"), notebook_bytes("carol")),
        ],
    )
    target = tmp_path / "extracted" / "submissions"
    assert [p.name for p in target.rglob("*") if p.is_file()] == [lms_name("carol")]
    assert len(extractor.refused) == 4
    for entry in (dup, f"./{dup}", f"sub//{lms_name('bob')}", f"sub/{lms_name('bob')}"):
        [line] = [
            r
            for r in extractor.refused
            if r.startswith(f"{tmp_path}/archive/submissions.zip!{entry}: ")
        ]
        assert "2 entries of the archive would be extracted to" in line, line
        assert "none is: which one counts cannot be told" in line, line
    archive = tmp_path / "archive" / "submissions.zip"
    with zipfile.ZipFile(archive) as bundle:
        assert len(bundle.namelist()) == 5, "the download was changed"


def test_archives_that_extract_to_one_folder_are_all_refused(tmp_path: Path) -> None:
    """``Download.zip`` and ``Download.ZIP`` (or a folder named ``Download``) extract to
    the same folder: the second one's entries were refused as second entries and the
    first one's kept. Are all of them refused, named, and the other archives extracted?"""
    archive = tmp_path / "archive"
    make_zip(archive / "Download.zip", [(lms_name("alice"), notebook_bytes("alice, zip"))])
    make_zip(archive / "Download.ZIP", [(lms_name("alice"), notebook_bytes("alice, ZIP"))])
    (archive / "Download").mkdir()
    (archive / "Download" / lms_name("bob")).write_bytes(notebook_bytes("bob"))
    make_zip(archive / "other.zip", [(lms_name("carol"), notebook_bytes("carol"))])
    (tmp_path / "extracted").mkdir()
    extractor = SafeZipExtractor()
    extractor.extract(str(archive), str(tmp_path / "extracted"))
    found = [p.relative_to(tmp_path / "extracted") for p in (tmp_path / "extracted").rglob("*")]
    assert sorted(map(str, found)) == ["other", f"other/{lms_name('carol')}"]
    assert len(extractor.refused) == 3
    for name in ("Download.zip", "Download.ZIP", "Download"):
        [line] = [r for r in extractor.refused if r.startswith(f"{archive / name}: ")]
        assert "would be extracted to one place" in line and "none of them is" in line, line


def test_zip_member_paths_are_taken_as_written_or_refused() -> None:
    """Does zip_member_path keep a name as its LMS wrote it (dropping only empty and
    ``.`` parts) and refuse every name that would land elsewhere than it says: ``..``
    anywhere (even when it stays inside: it could reach a classmate's name), backslashes,
    absolute or drive paths, NULs, overlong names and deep nesting?"""
    assert zip_member_path("a/./b//c.ipynb") == "a/b/c.ipynb"
    assert zip_member_path("./") == ""
    deep = "a/" * (safefiles.MAX_FOLDER_DEPTH + 1) + "f.ipynb"
    refused = ["..", "../x", "a/../x", "a/../../x", "/x", "\\x", "C:x", "a\x00b", "..\\x"]
    refused += ["x\\alice_1_2_nb.ipynb", "y" * 256 + "/f", deep, "\udcff" * 200]
    for name in refused:
        assert zip_member_path(name) is None, name
        assert zip_member_problem(name), name
    assert zip_member_path("a/" * safefiles.MAX_FOLDER_DEPTH + "f.ipynb") is not None


def test_one_entry_that_cannot_be_extracted_never_stops_the_others(tmp_path: Path) -> None:
    """Is each entry that cannot be made (a folder entry over a file of its name, a file
    entry that is the folder itself, names too long or too deep) refused with its reason,
    while every other entry is still extracted?"""
    honest = lms_name("alice")
    extractor = extract(
        tmp_path,
        [
            ("x", b"a file"),
            ("x/", b""),
            ("y" * 300 + "/", b""),
            ("d/" + "a/" * 1500 + "f.ipynb", b"deep"),
            ("./", b""),
            (".", b"content with no name"),
            (honest, notebook_bytes("alice")),
        ],
    )
    target = tmp_path / "extracted" / "submissions"
    assert sorted(p.name for p in target.iterdir()) == [honest, "x"]
    reasons = "\n".join(extractor.refused)
    assert "submissions.zip!x/: a folder entry where an entry of the same name is a file" in (
        reasons
    )
    assert "longer than 255 bytes" in reasons and "folders deep" in reasons
    assert "submissions.zip!.: it names no file" in reasons
    assert len(extractor.refused) == 4


def test_a_name_with_control_characters_is_reported_escaped(tmp_path: Path) -> None:
    """Does a learner's name holding a line break or a terminal escape reach the list
    of refusals escaped, so it cannot forge a line of the report or act on a terminal?"""
    extractor = extract(tmp_path, [("a\nRefused nothing\x1b[2J\\b.ipynb", b"x")])
    assert extractor.refused[0].endswith(
        "a\\nRefused nothing\\x1b[2J\\b.ipynb: a backslash in its name, which Windows "
        "tools read as a folder separator"
    )
    assert "\n" not in extractor.refused[0] and "\x1b" not in extractor.refused[0]


def test_zip_collect_logs_learners_names_escaped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Does every line zip_collect logs (nbgrader's own "Parsing file" too) write a line
    break or terminal escape of a learner's file name as its escape, while the report
    of what was not collected keeps its own lines?"""
    forged = canvas_name("4712", "notes\nRefused everything\x1b[2J.txt")
    entries = [(canvas_name(CANVAS_ID), notebook_bytes("dave")), (forged, b"x")]
    status, log = zip_collect_in_process(tmp_path, entries, caplog, lms="canvas")
    assert status == 1 and "\x1b" not in log
    assert not any(line.startswith("Refused everything") for line in log.splitlines())
    assert "notes\\nRefused everything\\x1b[2J.txt: not a notebook" in log
    assert "\n  " in log.split("not collected:")[1], "the report's own lines are kept"


@pytest.mark.parametrize(
    ("lms", "uploads"),
    [
        ("canvas", ["leedave_4711_100_{nb}", "zzmallory_9999_200_x/aaalice_4711_300_{nb}"]),
        ("canvas", ["leedave_4711_100_{nb}", "zzmallory_9999_200_/leedave_4711_100_{nb}"]),
        (
            "blackboard",
            [
                "{a}_alice_attempt_2026-01-30-15-00-00_{nb}",
                "{a}_mallory_attempt_2026-01-30-16-00-00_x/"
                "{a}_alice_attempt_2099-01-01-00-00-00_{nb}",
            ],
        ),
    ],
)
def test_a_file_in_a_folder_named_as_an_upload_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lms: str, uploads: list[str]
) -> None:
    """Under a naming whose uploads lie side by side, is a file inside a folder named as
    an upload (made by a '/' in a learner's file name, so named by that learner in full)
    refused, never credited to the classmate or the time its own name claims, while the
    classmate's real upload is collected unchanged?"""
    honest, attack = (u.format(nb=NOTEBOOK, a=ASSIGNMENT) for u in uploads)
    entries = [(honest, notebook_bytes("honest")), (attack, notebook_bytes("mallory"))]
    status, log = zip_collect_in_process(tmp_path, entries, caplog, lms=lms)
    assert status == 1
    submitted = list((tmp_path / "submitted").rglob("*.ipynb"))
    assert [p.read_bytes() for p in submitted] == [notebook_bytes("honest")]
    assert "timestamp.txt" not in log or "2099" not in "".join(
        p.read_text() for p in (tmp_path / "submitted").rglob("timestamp.txt")
    )
    assert f"named as a {lms.title()} upload is" in log


def test_zip_bombs_stop_at_the_caps(tmp_path: Path) -> None:
    """Is an entry that expands past the per-entry cap, or past the total cap, refused
    without writing more than the caps, and the honest entry still extracted?"""
    bomb = b"\0" * 5_000_000  # 5 MB of zeros: about 5 kB compressed
    extractor = extract(
        tmp_path,
        [
            (lms_name("alice"), notebook_bytes("alice")),
            (lms_name("mallory"), bomb),
            ("b1.ipynb", b"1" * 600_000),
            ("b2.ipynb", b"2" * 600_000),
        ],
        max_member_bytes=1_000_000,
        max_total_bytes=1_000_000,
    )
    target = tmp_path / "extracted" / "submissions"
    assert sorted(p.name for p in target.iterdir()) == [lms_name("alice"), "b1.ipynb"]
    assert sum(p.stat().st_size for p in target.iterdir()) <= 1_000_000
    assert "per-entry limit" in extractor.refused[0] and "total limit" in extractor.refused[1]


def test_zip_with_too_many_entries_is_not_extracted(tmp_path: Path) -> None:
    """Is an archive with more entries than max_members refused as a whole?"""
    extractor = extract(tmp_path, [(f"f{i}.txt", b"") for i in range(30)], max_members=20)
    assert not (tmp_path / "extracted" / "submissions").exists()
    assert "30 entries" in extractor.refused[0]


def test_zip_entry_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    """Is an entry whose headers understate its size refused and nothing of it kept?"""
    archive = make_zip(tmp_path / "archive" / "submissions.zip", [("big.ipynb", b"\0" * 300_000)])
    data = bytearray(archive.read_bytes())
    declared = (300_000).to_bytes(4, "little")
    small = (10).to_bytes(4, "little")
    data = data.replace(declared, small)  # both the local and the central header
    archive.write_bytes(bytes(data))
    extractor = SafeZipExtractor(max_member_bytes=100_000)
    (tmp_path / "extracted").mkdir()
    extractor.extract(str(tmp_path / "archive"), str(tmp_path / "extracted"))
    assert not (tmp_path / "extracted" / "submissions" / "big.ipynb").exists()
    assert len(extractor.refused) == 1 and "big.ipynb" in extractor.refused[0]


def test_archive_folder_links_fifos_and_nested_zips(tmp_path: Path) -> None:
    """In the archive folder, are links and FIFOs refused, plain files copied, and a zip a
    learner uploaded left unextracted (its entry names are the learner's own)?"""
    archive = tmp_path / "archive"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as bundle:
        bundle.writestr(lms_name("alice", when="2030-01-01-00-00-00"), notebook_bytes("x"))
    make_zip(archive / "submissions.zip", [(lms_name("mallory", "upload.zip"), inner.getvalue())])
    (archive / "loose.ipynb").write_bytes(notebook_bytes("loose"))
    (archive / "link.ipynb").symlink_to(archive / "loose.ipynb")
    (archive / "zero.zip").symlink_to("/dev/zero")
    os.mkfifo(archive / "pipe.ipynb")
    (archive / "dir-link").symlink_to(tmp_path)
    (tmp_path / "extracted").mkdir()
    extractor = SafeZipExtractor()
    extractor.extract(str(archive), str(tmp_path / "extracted"))
    names = sorted(
        str(p.relative_to(tmp_path / "extracted"))
        for p in (tmp_path / "extracted").rglob("*")
        if p.is_file()
    )
    assert names == ["loose.ipynb", f"submissions/{lms_name('mallory', 'upload.zip')}"]
    reasons = "\n".join(extractor.refused)
    for name in ["link.ipynb", "zero.zip", "pipe.ipynb", "dir-link"]:
        assert name in reasons
    assert len(extractor.refused) == 4


def test_an_upper_case_zip_is_extracted(tmp_path: Path) -> None:
    """Is a download saved as ``Download.ZIP`` extracted like ``.zip`` (nbgrader's own
    extractor copies it, and the collector then skipped it as "not a notebook")?"""
    archive = tmp_path / "archive"
    make_zip(archive / "Download.ZIP", [(lms_name("alice"), notebook_bytes("alice"))])
    (tmp_path / "extracted").mkdir()
    extractor = SafeZipExtractor()
    extractor.extract(str(archive), str(tmp_path / "extracted"))
    extracted_file = tmp_path / "extracted" / "Download" / lms_name("alice")
    assert extracted_file.read_bytes() == notebook_bytes("alice")
    assert extractor.refused == []


def test_a_damaged_zip_is_told_from_a_file_that_is_no_zip(tmp_path: Path) -> None:
    """Is a download cut short, or with a corrupt entry, reported as damaged (download it
    again), and a file that is no zip at all as not a zip archive?"""
    archive = tmp_path / "archive"
    whole = make_zip(
        archive / "whole.zip", [(lms_name("alice"), notebook_bytes("alice") * 50)]
    ).read_bytes()
    (archive / "cut.zip").write_bytes(whole[: len(whole) // 2])
    (archive / "page.zip").write_bytes(b"<html>Session expired</html>")
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w") as bundle:  # stored, so the data's bytes are plain
        bundle.writestr(lms_name("bob"), notebook_bytes("bob"))
    corrupt = stored.getvalue().replace(b'"bob"', b'"bOb"', 1)
    (archive / "corrupt.zip").write_bytes(corrupt)
    (archive / "whole.zip").unlink()
    (tmp_path / "extracted").mkdir()
    extractor = SafeZipExtractor()
    extractor.extract(str(archive), str(tmp_path / "extracted"))
    reasons = sorted(extractor.refused)
    assert reasons == [
        f"{archive / 'corrupt.zip'}!{lms_name('bob')}: damaged (Bad CRC-32 for file "
        f"{lms_name('bob')!r}): download the archive again",
        f"{archive / 'cut.zip'}: a damaged zip archive (cut short?): download it again",
        f"{archive / 'page.zip'}: not a zip archive (only zip archives are extracted)",
    ]


# ---------------------------------------------------------------------- copying a folder


def copy_tree(source: Path, destination: Path, **limits: object) -> collection.TreeCopy:
    fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        return copy_regular_tree_at(fd, str(destination), **limits)
    finally:
        os.close(fd)


def test_copy_takes_regular_files_only(tmp_path: Path) -> None:
    """Does the inbound copy take plain folders and regular files, and refuse links (to
    files, folders and /dev/zero), FIFOs, others' hard-linked files and oversize files?"""
    source, secret = tmp_path / "inbound", tmp_path / "secret.txt"
    secret.write_text("secret")
    (source / "sub").mkdir(parents=True)
    (source / NOTEBOOK).write_bytes(notebook_bytes("me"))
    (source / "sub" / "data.csv").write_text("1,2")
    (source / "link.txt").symlink_to(secret)
    (source / "zero.bin").symlink_to("/dev/zero")
    (source / "outside").symlink_to(tmp_path)
    os.mkfifo(source / "sub" / "pipe")
    os.link(secret, source / "hard.txt")
    (source / "big.bin").write_bytes(b"x" * 2000)
    start = time.monotonic()
    result = copy_tree(source, tmp_path / "copy", max_file_bytes=1000)
    assert time.monotonic() - start < 5
    assert sorted(result.copied) == [NOTEBOOK, "sub/data.csv"]
    refused = sorted(r.split(":")[0] for r in result.refused)
    assert refused == ["big.bin", "hard.txt", "link.txt", "outside", "sub/pipe", "zero.bin"]
    assert (tmp_path / "copy" / NOTEBOOK).read_bytes() == notebook_bytes("me")


def test_own_hard_links_are_copied(tmp_path: Path) -> None:
    """Is a file with other hard links copied when it belongs to the folder's owner, so a
    classmate who links to it cannot get it refused?"""
    source = tmp_path / "inbound"
    source.mkdir()
    (source / NOTEBOOK).write_bytes(notebook_bytes("me"))
    os.link(source / NOTEBOOK, tmp_path / "someone-elses-link")
    result = copy_tree(source, tmp_path / "copy", owner=os.geteuid())
    assert result.copied == [NOTEBOOK] and result.refused == []
    result = copy_tree(source, tmp_path / "copy2", owner=None)
    assert result.copied == [] and "hard links" in result.refused[0]


def test_copy_refuses_a_folder_swapped_for_a_link_after_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a learner swaps a listed subfolder (or file) for a link before it is opened, is
    the open refused instead of followed?"""
    source, secret = tmp_path / "inbound", tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("secret")
    source.mkdir()
    (source / "sub").symlink_to(secret)
    (source / "file").symlink_to(secret / "key")
    real_stat = os.stat

    def listed_before_the_swap(name, *args, dir_fd=None, follow_symlinks=True):
        # What lstat said before the learner's rename: a folder and a regular file.
        if dir_fd is not None and name in ("sub", "file"):
            return real_stat(secret if name == "sub" else secret / "key")
        return real_stat(name, *args, dir_fd=dir_fd, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(collection.os, "stat", listed_before_the_swap)
    result = copy_tree(source, tmp_path / "copy")
    monkeypatch.undo()
    assert result.copied == [] and len(result.refused) == 2
    assert not (tmp_path / "copy" / "sub" / "key").exists()


def test_copy_limits_entries_and_depth(tmp_path: Path) -> None:
    """Does a folder nested too deep, or with too many entries, stop the walk?"""
    deep = tmp_path / "inbound" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "f").write_text("x")
    result = copy_tree(tmp_path / "inbound", tmp_path / "copy", max_depth=2)
    assert result.refused == ["a/b/c: nested more than 2 folders deep"]
    result = copy_tree(tmp_path / "inbound", tmp_path / "copy2", max_entries=2)
    assert "more than 2 entries" in result.refused[0]


def test_owner_must_be_the_claimed_student_or_the_runner() -> None:
    """Is a folder owned by someone other than the claimed student or the user running
    collect refused, with the owner named?"""
    assert owner_problem(HONEST, HONEST_UID) is None
    assert owner_problem("anyone", os.geteuid()) is None
    assert f"owned by {LEARNER}" in (owner_problem(HONEST, LEARNER_UID) or "")
    assert f"uid {STRANGER_UID}" in (owner_problem(HONEST, STRANGER_UID) or "")
    assert owner_problem("no-such-account-xyz", LEARNER_UID) is not None


def exchange_collect(root: Path, exchange: Path, **traits: object) -> SafeExchangeCollect:
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.assignment_id = ASSIGNMENT
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Exchange.root = str(exchange)
    coursedir = CourseDirectory(config=config)
    return SafeExchangeCollect(
        coursedir=coursedir, authenticator=Authenticator(config=config), config=config, **traits
    )


def submission_name(student: str, claimed: datetime.datetime) -> str:
    """The inbound folder name nbgrader submit makes: student+assignment+time+random."""
    random = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
    return f"{student}+{ASSIGNMENT}+{claimed:%Y-%m-%d %H:%M:%S.%f} UTC+{random}"


def inbound_folder(
    exchange: Path,
    student: str,
    files: dict[str, bytes],
    claimed: datetime.datetime | None = None,
    owner: int | None = None,
) -> Path:
    """A submission folder as nbgrader submit leaves it (0777 folder, 0644 files)."""
    claimed = claimed or now_utc()
    folder = exchange / COURSE_ID / "inbound" / submission_name(student, claimed)
    folder.mkdir(parents=True)
    files = {"timestamp.txt": f"{claimed:%Y-%m-%d %H:%M:%S.%f} UTC".encode(), **files}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        (folder / name).chmod(0o644)
    folder.chmod(0o777)
    if owner is not None:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, owner, owner, follow_symlinks=False)
    return folder


def test_exchange_collect_in_process(tmp_path: Path) -> None:
    """Run in-process: are malformed, linked and non-folder inbound entries refused, is the
    learner's timestamp.txt replaced by the later of claim and ctime, and does a claim
    of 2020 stay out of the collected timestamp?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    truth = now_utc()
    folder = inbound_folder(
        exchange, "me", {NOTEBOOK: notebook_bytes("me")}, claimed=datetime.datetime(2020, 1, 1)
    )
    inbound = folder.parent
    (inbound / f"you+{ASSIGNMENT}+2020-01-01 00:00:00 UTC+r").symlink_to(folder)
    (inbound / f"him+{ASSIGNMENT}+2020-01-01 00:00:00 UTC+r").write_text("not a folder")
    (inbound / f"her+{ASSIGNMENT}+x+y+z").mkdir()
    (inbound / f"it+{ASSIGNMENT}+not a time").mkdir()
    (inbound / "someone+other-assignment+2020-01-01 00:00:00 UTC").mkdir()
    collect = exchange_collect(root, exchange)
    with pytest.raises(ExchangeError, match="4 inbound entries were refused"):
        collect.start()  # after collecting the rest: nbgrader collect then exits 1
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["me"]
    collected = root / "submitted" / "me" / ASSIGNMENT
    assert (collected / NOTEBOOK).read_bytes() == notebook_bytes("me")
    stamp = collect.coursedir.get_existing_timestamp(str(collected))
    assert stamp >= truth - CLOCK_SLACK
    reasons = "\n".join(collect.refused)
    assert len(collect.refused) == 4, reasons
    for who in ["you", "him", "her", "it"]:
        assert f"/{who}+{ASSIGNMENT}" in reasons


def test_a_newer_submission_that_cannot_be_put_in_place_keeps_the_collected_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``collect --update`` of a learner's newer submission, whose copied folder the file
    system then refuses to rename into place. The collected one was removed first, and
    lost: is it in place, as it was, with nothing left beside it, and the newer one
    refused naming why?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    inbound_folder(exchange, "me", {NOTEBOOK: notebook_bytes("me, first")})
    exchange_collect(root, exchange).start()
    collected = root / "submitted" / "me" / ASSIGNMENT
    before = {p.name: p.read_bytes() for p in collected.iterdir()}
    later = now_utc() + datetime.timedelta(minutes=1)
    inbound_folder(exchange, "me", {NOTEBOOK: notebook_bytes("me, newer")}, claimed=later)
    refuse_renaming_new_folders(monkeypatch)
    collect = exchange_collect(root, exchange, update=True)
    with pytest.raises(ExchangeError, match="1 inbound entries were refused"):
        collect.start()
    assert [p.name for p in collected.parent.iterdir()] == [ASSIGNMENT]
    assert {p.name: p.read_bytes() for p in collected.iterdir()} == before
    assert "could not be collected ([Errno 13] Permission denied)" in collect.refused[0]


def test_exchange_collect_settles_a_collection_interrupted_as_it_replaced_a_folder(
    tmp_path: Path,
) -> None:
    """What a collection killed between its two renames leaves (the learner's collected
    folder aside, a new one never put in place, nothing in the learner's place), then
    ``collect --update`` with an inbound submission older than the collected one. Is the
    collected one put back before the two are compared, so that it is kept, and the new
    copy removed?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    ahead = now_utc() + datetime.timedelta(days=1)
    first = inbound_folder(exchange, "me", {NOTEBOOK: notebook_bytes("me, first")}, ahead)
    exchange_collect(root, exchange).start()
    collected = root / "submitted" / "me" / ASSIGNMENT
    before = {p.name: p.read_bytes() for p in collected.iterdir()}
    collected.rename(set_aside_path(collected))
    unfinished = Path(collection_entry_beside(str(collected), COLLECTING_MARKER))
    unfinished.mkdir()
    (unfinished / NOTEBOOK).write_bytes(notebook_bytes("me, newer")[:10])
    shutil.rmtree(first)
    inbound_folder(exchange, "me", {NOTEBOOK: notebook_bytes("me, older")})
    exchange_collect(root, exchange, update=True).start()
    assert [p.name for p in collected.parent.iterdir()] == [ASSIGNMENT]
    assert {p.name: p.read_bytes() for p in collected.iterdir()} == before


def test_one_submission_that_cannot_be_collected_never_stops_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Is a submission whose entries the file system cannot take as named (paths over
    its limit), one whose timestamp.txt is a folder, and one whose claimed time breaks
    the time parser, each handled alone, while every classmate is still collected and
    a line break in a folder's name reaches the log escaped?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    deep = inbound_folder(exchange, "deep", {NOTEBOOK: notebook_bytes("deep")})
    fd = os.open(deep, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(25):  # a path of 5,000 bytes, made a folder at a time
        os.mkdir("d" * 200, dir_fd=fd)
        fd, above = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
        os.close(above)
    os.close(os.open("notes.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)
    long_name = "n" * 250
    inbound_folder(exchange, "long", {NOTEBOOK: notebook_bytes("long"), long_name: b"x"})
    odd = inbound_folder(exchange, "odd", {NOTEBOOK: notebook_bytes("odd")})
    (odd / "timestamp.txt").unlink()
    (odd / "timestamp.txt").mkdir()
    inbound = odd.parent
    (inbound / f"bad+{ASSIGNMENT}+12:99999999999999999999999999999999+x").mkdir()
    (inbound / f"nl+{ASSIGNMENT}+2020-01-01 00:00:00 UTC+x\nRefused everyone").mkdir()
    inbound_folder(exchange, "zoe", {NOTEBOOK: notebook_bytes("zoe")})
    collect = exchange_collect(root, exchange)
    collect.log.addHandler(caplog.handler)
    try:
        with pytest.raises(ExchangeError, match="refused"):
            collect.start()
    finally:
        collect.log.removeHandler(caplog.handler)
    submitted = root / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["long", "nl", "odd", "zoe"]
    assert not list(submitted.glob(".*")), "no copy is left half-made"
    assert (submitted / "long" / ASSIGNMENT / long_name).read_bytes() == b"x"
    assert (submitted / "odd" / ASSIGNMENT / "timestamp.txt").is_file()
    assert (submitted / "zoe" / ASSIGNMENT / NOTEBOOK).read_bytes() == notebook_bytes("zoe")
    reasons = "\n".join(collect.refused)
    assert f"deep+{ASSIGNMENT}" in reasons and "could not be collected" in reasons
    assert f"bad+{ASSIGNMENT}" in reasons
    assert not any(line.startswith("Refused everyone") for line in caplog.text.splitlines())


def test_a_file_changed_while_it_is_read_is_dated_by_the_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a file rewritten between the moment the copy looks at it and the end of its
    read count with its later ctime, so a race cannot hand in new work under an old time?"""
    source = tmp_path / "in"
    source.mkdir()
    (source / "answer.txt").write_text("new")
    later = os.stat(source / "answer.txt").st_ctime + 3600
    real_fstat = os.fstat
    looked: dict[int, int] = {}

    def fstat_as_if_rewritten(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return info
        looked[fd] = looked.get(fd, 0) + 1
        if looked[fd] == 1:
            return info
        fields = list(info)
        fields[9] = int(later)
        return os.stat_result(fields)

    monkeypatch.setattr(collection.os, "fstat", fstat_as_if_rewritten)
    result = copy_tree(source, tmp_path / "out")
    monkeypatch.undo()
    assert result.copied == ["answer.txt"]
    assert result.newest_ctime >= int(later)


def test_an_exchange_course_folder_a_learner_owns_is_not_collected_from(tmp_path: Path) -> None:
    """Is a course folder (or its inbound) owned by someone other than the collecting
    user, root or the exchange's owner (a learner who renamed the real one away in an
    exchange root writable by all) refused with advice, so nothing is read from it?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    inbound_folder(exchange, "zoe", {NOTEBOOK: notebook_bytes("zoe")})
    if os.geteuid() != 0:
        pytest.skip("only root can give the folder to another uid")
    os.chown(exchange / COURSE_ID, STRANGER_UID, STRANGER_UID)
    collect = exchange_collect(root, exchange)
    with pytest.raises(ExchangeError, match="owned by uid 61001, neither you"):
        collect.start()
    assert not (root / "submitted").exists()
    os.chown(exchange / COURSE_ID, 0, 0)
    (exchange / COURSE_ID / "inbound").rename(exchange / COURSE_ID / "real-inbound")
    (exchange / COURSE_ID / "inbound").symlink_to(exchange / COURSE_ID / "real-inbound")
    with pytest.raises(ExchangeError, match="is not a folder"):
        exchange_collect(root, exchange).start()
    assert not (root / "submitted").exists()


def test_before_duedate_uses_the_time_that_cannot_be_back_dated(tmp_path: Path) -> None:
    """With before_duedate, is a folder made after the due date but claiming an earlier time
    treated as late, so the learner's real on-time submission is the one collected?"""
    collect = exchange_collect(tmp_path, tmp_path / "exchange", before_duedate=True)
    collect.duedate = datetime.datetime(2026, 2, 1)
    on_time = collection.InboundSubmission(
        "me+a+1",
        "me",
        claimed=datetime.datetime(2026, 1, 30),
        changed=datetime.datetime(2026, 1, 30, 0, 0, 1),
        device=0,
        inode=1,
    )
    late = collection.InboundSubmission(
        "me+a+2",
        "me",
        claimed=datetime.datetime(2026, 1, 31),
        changed=datetime.datetime(2026, 2, 3),
        device=0,
        inode=2,
    )
    assert late.timestamp == datetime.datetime(2026, 2, 3)
    assert collect._choose([late, on_time]) is on_time
    collect.before_duedate = False
    assert collect._choose([on_time, late]) is late


def test_a_tie_at_the_latest_time_is_refused_whatever_the_folder_names(tmp_path: Path) -> None:
    """nbgrader broke a tie between a student's submissions by folder name, which the
    learner chooses. Are both folders at the latest time refused, naming the tie, whatever
    their names and order, while an earlier one does not break it, the classmate is
    collected, and the run ends as failed?"""
    collect = exchange_collect(tmp_path, tmp_path / "exchange")
    collect.inbound_path = str(tmp_path / "inbound")
    moment = datetime.datetime(2026, 1, 30, 12)

    def submission(name: str, claimed: datetime.datetime) -> collection.InboundSubmission:
        return collection.InboundSubmission(
            name, "me", claimed=claimed, changed=claimed, device=0, inode=len(name)
        )

    earlier = submission("me+a+0", moment - datetime.timedelta(hours=1))
    for first, second in (("me+a+zzz", "me+a+aaa"), ("me+a+aaa", "me+a+zzz")):
        collect.refused = []
        tied = [submission(first, moment), submission(second, moment)]
        assert collect._choose([earlier, *tied]) is None
        assert len(collect.refused) == 2
        assert all("2 inbound folders of me are dated 2026-01-30" in r for r in collect.refused)
        assert all("none of them is collected" in r for r in collect.refused)
    # one second apart is no tie, and the later one wins whatever its name
    collect.refused = []
    later = submission("me+a+aaa", moment + datetime.timedelta(seconds=1))
    assert collect._choose([submission("me+a+zzz", moment), later]) is later
    assert collect.refused == []

    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    # claimed a day ahead, so the claim, not the folders' ctimes, dates each of them
    ahead = now_utc() + datetime.timedelta(days=1)
    for name in ("me", "me", "zoe"):
        inbound_folder(exchange, name, {NOTEBOOK: notebook_bytes(name)}, claimed=ahead)
    with pytest.raises(ExchangeError, match="2 inbound entries were refused"):
        exchange_collect(root, exchange).start()
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["zoe"]


# ------------------------------------------------------------------------------------------
# Slow: the real commands on a throwaway course
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated course to copy for each test (generate_assignment takes seconds)."""
    root = tmp_path_factory.mktemp("template") / "course"
    root.mkdir()
    make_course(root, [ASSIGNMENT])
    return root


@pytest.fixture
def course(template: Path, tmp_path: Path) -> Course:
    """A copy of the template course whose exchange is ``tmp_path/exchange``."""
    root = tmp_path / "course"
    shutil.copytree(template, root, symlinks=True)
    exchange = tmp_path / "exchange"
    (exchange / COURSE_ID / "inbound").mkdir(parents=True)
    with (root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    return Course(root)


def snapshot(folder: Path, skip: Iterable[Path] = ()) -> dict[str, tuple[str, str]]:
    """Every entry under ``folder`` with its kind and content hash; never opens a link,
    FIFO or device."""
    skip = {str(p) for p in skip}
    found = {}
    for here, folders, names in os.walk(folder):
        folders[:] = [f for f in folders if os.path.join(here, f) not in skip]
        for name in folders + names:
            path = os.path.join(here, name)
            if path in skip:
                continue
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                found[path] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                found[path] = ("file", hashlib.sha256(Path(path).read_bytes()).hexdigest())
            else:
                found[path] = (stat.filemode(info.st_mode)[0], "")
    return found


def log_of(result) -> str:
    return result.stdout + result.stderr


def submitted_files(course: Course) -> dict[str, bytes]:
    """Every file under submitted/, by path relative to it."""
    folder = course.root / "submitted"
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def timestamp_of(course: Course, student: str) -> datetime.datetime:
    from nbgrader.utils import parse_utc

    text = (course.root / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text()
    return parse_utc(text.strip())


# ---------------------------------------------------------------------- nbgrader zip_collect


def zip_collect(course: Course, entries: list, *config_lines: str, tmp_path: Path, status: int = 0):
    """Place an LMS download with ``entries`` and run ``nbgrader zip_collect --force``;
    check its exit status (1: some file was not collected), and that nothing but
    submitted/ and the extracted folder changed (the download itself included)."""
    if config_lines:
        with (course.root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
            config.write("\n" + "\n".join(config_lines) + "\n")
    make_zip(course.root / "downloaded" / ASSIGNMENT / "archive" / "submissions.zip", entries)
    changing = [
        course.root / "submitted",
        course.root / "downloaded" / ASSIGNMENT / "extracted",
        course.root / ".nbgrader.log",
    ]
    before = snapshot(tmp_path, changing)
    result = course.run("nbgrader", "zip_collect", ASSIGNMENT, "--force", check=False, timeout=120)
    assert result.returncode == status, log_of(result)
    assert snapshot(tmp_path, changing) == before, "zip_collect changed files outside"
    return result


@pytest.mark.slow
def test_zip_collect_tail_naming_a_classmate(course: Course, tmp_path: Path) -> None:
    """Does a later upload whose tail names a classmate stay the uploader's, leaving the
    classmate's collected notebook byte-identical?"""
    attack = lms_name(
        "mallory", f"x_alice_attempt_2026-02-01-00-00-00_{NOTEBOOK}", when=LATER_LMS_TIME
    )
    result = zip_collect(
        course,
        [(lms_name("alice"), notebook_bytes("alice")), (attack, notebook_bytes("mallory"))],
        tmp_path=tmp_path,
    )
    assert submitted_files(course) == {
        f"alice/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes("alice"),
        f"alice/{ASSIGNMENT}/timestamp.txt": b"2026-01-30 15:00:00",
        f"mallory/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes("mallory"),
        f"mallory/{ASSIGNMENT}/timestamp.txt": b"2026-01-30 16:00:00",
    }
    assert f"submitted/mallory/{ASSIGNMENT}/{NOTEBOOK}" in log_of(result)


@pytest.mark.slow
def test_zip_collect_tail_that_back_dates(course: Course, tmp_path: Path) -> None:
    """Does a tail that carries an earlier time leave the LMS's time in timestamp.txt?"""
    attack = lms_name(
        "mallory", f"x_mallory_attempt_2020-01-01-00-00-00_{NOTEBOOK}", when=LATER_LMS_TIME
    )
    result = zip_collect(
        course,
        [(lms_name("alice"), notebook_bytes("alice")), (attack, notebook_bytes("mallory"))],
        tmp_path=tmp_path,
    )
    assert timestamp_of(course, "mallory") == datetime.datetime(2026, 1, 30, 16)
    assert submitted_files(course)[f"alice/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("alice")
    assert sorted(p.name for p in (course.root / "submitted").iterdir()) == ["alice", "mallory"]
    assert "Creating timestamp" in log_of(result)


@pytest.mark.slow
def test_zip_collect_underscore_ids(course: Course, tmp_path: Path) -> None:
    """Are john_doe's and doe's uploads collected as john_doe's and doe's (the greedy
    pattern made john_doe into doe and mixed them)?"""
    zip_collect(
        course,
        [
            (lms_name("doe"), notebook_bytes("doe")),
            (lms_name("john_doe", when=LATER_LMS_TIME), notebook_bytes("john_doe")),
        ],
        tmp_path=tmp_path,
    )
    files = submitted_files(course)
    assert files[f"doe/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("doe")
    assert files[f"john_doe/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("john_doe")
    assert len(files) == 4


@pytest.mark.slow
def test_zip_collect_blackboard_download(course: Course, tmp_path: Path) -> None:
    """A Blackboard download (the default lms) with underscore ids, learners' file names
    holding underscores and "attempt", and Blackboard's receipts: is every notebook collected
    under its whole id (dave_lee is not lee), dated by its attempt, with exit status 0?"""
    uploads = {
        "dave_lee": lms_name("dave_lee", f"lee_attempt_{LATER_LMS_TIME}_{NOTEBOOK}"),
        "lee": lms_name("lee", "my_attempt_2_final.ipynb", when=LATER_LMS_TIME),
        "a_b_c": lms_name("a_b_c", "a_b_c_attempt.ipynb"),
    }
    receipts = [f"{ASSIGNMENT}_{who}_attempt_{LMS_TIME}.txt" for who in uploads]
    result = zip_collect(
        course,
        [(name, notebook_bytes(who)) for who, name in uploads.items()]
        + [(name, b"Name: someone\n") for name in receipts],
        tmp_path=tmp_path,
    )
    files = submitted_files(course)
    for who in uploads:
        assert files[f"{who}/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes(who)
    assert timestamp_of(course, "dave_lee") == datetime.datetime(2026, 1, 30, 15)
    assert timestamp_of(course, "lee") == datetime.datetime(2026, 1, 30, 16)
    assert len(files) == 6 and "Refused" not in log_of(result)


@pytest.mark.slow
def test_zip_collect_canvas_download(course: Course, tmp_path: Path) -> None:
    """A Canvas download (lms = "canvas"), one learner late and one whose upload Canvas
    renamed (05-return-flags-1.ipynb): is every notebook collected under the Canvas user id,
    without a timestamp.txt (Canvas writes no time), the late one logged, exit status 0?"""
    uploads = {
        "4711": canvas_name("4711"),
        "4712": canvas_name("4712", "05-return-flags-1.ipynb", "o_brienpat", late="LATE"),
        "4713": canvas_name("4713", "my_99_98_attempt_final.ipynb", "smithjo"),
    }
    result = zip_collect(
        course,
        [(name, notebook_bytes(who)) for who, name in uploads.items()],
        'c.SafeFileNameCollector.lms = "canvas"',
        tmp_path=tmp_path,
    )
    assert submitted_files(course) == {
        f"{who}/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes(who) for who in uploads
    }
    assert f"{uploads['4712']}: Canvas marks this submission late" in log_of(result)


@pytest.mark.slow
def test_zip_collect_moodle_download_with_a_roster(course: Course, tmp_path: Path) -> None:
    """A Moodle download (lms = "moodle", a folder per submission, Moodle 4's and 3's
    folder names, one notebook in a learner's own subfolder named like another submission)
    with a roster mapping participant numbers: is every notebook collected under the
    roster's student id, exit status 0?"""
    (course.root / "rosters").mkdir()
    (course.root / "rosters" / f"{ASSIGNMENT}.csv").write_text(
        "lms_id,student_id\n1234,dave_lee\n1235,pat\n1236,jo\n"
    )
    uploads = {
        "dave_lee": moodle_path("1234"),
        "pat": moodle_path(
            "1235", f"work/Eve_1236_assignsubmission_file/{NOTEBOOK}", "Pat O Brien", end="_"
        ),
        "jo": moodle_path("1236", "my_notebook.ipynb", "Jo Smith"),
    }
    result = zip_collect(
        course,
        [(name, notebook_bytes(who)) for who, name in uploads.items()],
        'c.SafeFileNameCollector.lms = "moodle"',
        'c.SafeFileNameCollector.roster = "rosters/{assignment}.csv"',
        tmp_path=tmp_path,
    )
    assert submitted_files(course) == {
        f"{who}/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes(who) for who in uploads
    }
    assert "Refused" not in log_of(result)


@pytest.mark.slow
def test_zip_collect_mixed_download_exits_1_naming_the_stray_file(
    course: Course, tmp_path: Path
) -> None:
    """With one file in a download that no LMS naming fits, does zip_collect collect the
    rest, then exit 1 naming that file and why?"""
    stray = "Untitled (3).ipynb"
    result = zip_collect(
        course,
        [
            (lms_name("dave_lee"), notebook_bytes("dave_lee")),
            (stray, notebook_bytes("unknown")),
            (lms_name("lee"), notebook_bytes("lee")),
        ],
        tmp_path=tmp_path,
        status=1,
    )
    files = submitted_files(course)
    assert files[f"dave_lee/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("dave_lee")
    assert files[f"lee/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("lee")
    summary = log_of(result).split("was collected (2 collected); not collected:\n", 1)[1]
    stray_path = extracted(course.root) / "submissions" / stray
    first = summary.splitlines()[0].strip()  # nbgrader's log indents continuation lines
    assert first.startswith(f"{stray_path}: its name is not in Blackboard's form")


@pytest.mark.slow
def test_zip_collect_canvas_download_read_as_blackboard(course: Course, tmp_path: Path) -> None:
    """The reported issue: a Canvas download collected with the Blackboard naming. Does
    zip_collect exit 1, name both files, and say which setting reads them?"""
    names = [canvas_name("4711"), canvas_name("4712", name="o_brienpat")]
    result = zip_collect(
        course, [(name, notebook_bytes(name)) for name in names], tmp_path=tmp_path, status=1
    )
    log = log_of(result)
    assert submitted_files(course) == {}
    assert "was collected; not collected:" in log
    for name in names:
        assert f"{name}: its name is not in Blackboard's form" in log
    assert "set c.SafeFileNameCollector.lms = 'canvas'" in log


@pytest.mark.slow
def test_zip_collect_entry_escaping_with_dotdot(course: Course, tmp_path: Path) -> None:
    """Is a zip entry with ``../`` aimed at the course's files refused and reported, with
    nothing written outside the extracted folder?"""
    escape = "../../../../nbgrader_config.py"
    aimed = f"../../../../submitted/alice/{ASSIGNMENT}/{NOTEBOOK}"
    result = zip_collect(
        course,
        [
            (lms_name("alice"), notebook_bytes("alice")),
            (escape, b"c.Exchange.root = '/'\n"),
            (aimed, notebook_bytes("mallory")),
        ],
        tmp_path=tmp_path,
        status=1,
    )
    assert submitted_files(course)[f"alice/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("alice")
    assert (
        f"Refused {course.root}/downloaded/{ASSIGNMENT}/archive/submissions.zip!{escape}"
        in log_of(result)
    )
    assert aimed in log_of(result)
    assert (
        f"submissions.zip!{escape}: its path escapes" in log_of(result).split("not collected:")[1]
    )


@pytest.mark.slow
def test_zip_collect_symlink_member(course: Course, tmp_path: Path) -> None:
    """Is a zip entry that is a symbolic link (to the classmate's file, and to /etc/shadow)
    refused and reported instead of collected?"""
    result = zip_collect(
        course,
        [
            (lms_name("alice"), notebook_bytes("alice")),
            kind_entry(lms_name("mallory"), stat.S_IFLNK, lms_name("alice").encode()),
            kind_entry(lms_name("mallory", "b.ipynb"), stat.S_IFLNK, b"/etc/shadow"),
        ],
        tmp_path=tmp_path,
        status=1,
    )
    assert submitted_files(course) == {
        f"alice/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes("alice"),
        f"alice/{ASSIGNMENT}/timestamp.txt": b"2026-01-30 15:00:00",
    }
    log = log_of(result)
    # each refused entry is warned about, then listed again in the final report
    assert log.count("WARNING] Refused") == 2 and log.count("a symbolic link entry") == 4
    assert f"{lms_name('mallory')}: a symbolic link entry" in log.split("not collected:")[1]


@pytest.mark.slow
def test_zip_collect_zip_bomb(course: Course, tmp_path: Path) -> None:
    """With the cap lowered by config, is an entry that expands past it refused and
    reported, and the classmate's file still collected?"""
    result = zip_collect(
        course,
        [
            (lms_name("alice"), notebook_bytes("alice")),
            (lms_name("mallory"), b"\0" * 20_000_000),
        ],  # 20 MB of zeros, ~20 kB compressed
        "c.SafeZipExtractor.max_member_bytes = 1_000_000",
        tmp_path=tmp_path,
        status=1,
    )
    assert sorted(submitted_files(course)) == [
        f"alice/{ASSIGNMENT}/{NOTEBOOK}",
        f"alice/{ASSIGNMENT}/timestamp.txt",
    ]
    assert f"{lms_name('mallory')}: expands to 20000000 bytes" in log_of(result)
    extracted_bytes = sum(p.stat().st_size for p in extracted(course.root).rglob("*"))
    assert extracted_bytes < 1_000_000


@pytest.mark.slow
def test_zip_collect_older_attempt_never_replaces_the_collected_one(
    course: Course, tmp_path: Path
) -> None:
    """The reported loss: alice's 2026-01-30 attempt is collected; a later download holds
    her older attempt. Does ``zip_collect --force`` keep her collected notebook and
    timestamp.txt untouched, exit 1 naming the older file with both times, and still
    collect a classmate's new submission?"""
    zip_collect(course, [(lms_name("alice"), notebook_bytes("alice"))], tmp_path=tmp_path)
    before = submitted_files(course)
    assert before[f"alice/{ASSIGNMENT}/timestamp.txt"] == b"2026-01-30 15:00:00"
    older = f"{ASSIGNMENT}_alice_attempt_2026-01-01-00-00-00_{NOTEBOOK}"
    result = zip_collect(
        course,
        [(older, notebook_bytes("alice, blank")), (lms_name("bob"), notebook_bytes("bob"))],
        tmp_path=tmp_path,
        status=1,
    )
    after = submitted_files(course)
    assert after[f"alice/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("alice")
    assert after[f"alice/{ASSIGNMENT}/timestamp.txt"] == b"2026-01-30 15:00:00"
    assert after[f"bob/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes("bob")
    log = log_of(result)
    folder = course.root / "submitted" / "alice" / ASSIGNMENT
    assert f"Replacing the files collected before in {folder}" not in log
    summary = log.split("was collected (1 collected); not collected:\n", 1)[1]
    first = summary.splitlines()[0].strip()  # nbgrader's log indents continuation lines
    assert first == (
        f"{extracted(course.root) / 'submissions' / older}: an older attempt "
        f"(2026-01-01 00:00:00) than the submission already in {folder} "
        f"(2026-01-30 15:00:00), which is kept; move {folder} away to collect this one "
        "instead"
    )


@pytest.mark.slow
def test_zip_collect_on_a_full_disk_keeps_the_collected_submission(
    template: Path, tmp_path: Path
) -> None:
    """The course on a disk with room to extract alice's newer 256 kB attempt but not to
    copy it into submitted/. ``nbgrader zip_collect --force`` emptied her folder first and
    then failed in a traceback: her collected notebook and time were gone. Does it exit 1
    with her file named as not copied for want of space, her folder as it was and nothing
    left beside it; and once there is room, does it collect her newer attempt?"""
    with small_disk(tmp_path / "disk", size="8m") as disk:
        shutil.copytree(template, disk / "course", symlinks=True)
        course = Course(disk / "course")
        zip_collect(course, [(lms_name("alice"), notebook_bytes("alice"))], tmp_path=tmp_path)
        before = submitted_files(course)
        newer = json.loads(notebook_bytes("alice, newer"))
        newer["metadata"]["padding"] = "x" * 256 * 1024
        newer_bytes = json.dumps(newer).encode()
        download = [(lms_name("alice", when=LATER_LMS_TIME), newer_bytes)]
        make_zip(course.root / "downloaded" / ASSIGNMENT / "archive" / "alice.zip", download)
        filler = fill_disk(disk, leave=384 * 1024)  # the extracted copy fits, a second not
        command = ("nbgrader", "zip_collect", ASSIGNMENT, "--force")
        result = course.run(*command, check=False, timeout=120)
        log = log_of(result)
        assert result.returncode == 1, log
        assert "Traceback" not in log
        folder = course.root / "submitted" / "alice" / ASSIGNMENT
        assert f"could not be copied into {folder} (No space left on device)" in log
        assert submitted_files(course) == before
        assert [p.name for p in (course.root / "submitted" / "alice").iterdir()] == [ASSIGNMENT]
        filler.unlink()
        result = course.run(*command, check=False, timeout=120)
        assert result.returncode == 0, log_of(result)
        assert submitted_files(course) == {
            f"alice/{ASSIGNMENT}/{NOTEBOOK}": newer_bytes,
            f"alice/{ASSIGNMENT}/timestamp.txt": b"2026-01-30 16:00:00",
        }


@pytest.mark.slow
def test_zip_collect_same_or_newer_attempt_replaces_the_collected_one(
    course: Course, tmp_path: Path
) -> None:
    """Does collecting the same download again exit 0, and a newer attempt replace the
    collected one (notebook and timestamp.txt), as before?"""
    download = [(lms_name("alice"), notebook_bytes("alice"))]
    zip_collect(course, download, tmp_path=tmp_path)
    zip_collect(course, download, tmp_path=tmp_path)
    assert timestamp_of(course, "alice") == datetime.datetime(2026, 1, 30, 15)
    newer = [(lms_name("alice", when=LATER_LMS_TIME), notebook_bytes("alice, newer"))]
    zip_collect(course, newer, tmp_path=tmp_path)
    assert submitted_files(course) == {
        f"alice/{ASSIGNMENT}/{NOTEBOOK}": notebook_bytes("alice, newer"),
        f"alice/{ASSIGNMENT}/timestamp.txt": b"2026-01-30 16:00:00",
    }
    # a download of every attempt, collected again: its older attempt is left out quietly,
    # as nbgrader keeps each learner's newest, not reported as if it were lost
    every_attempt = [
        (lms_name("alice"), notebook_bytes("alice")),
        *newer,
    ]
    for _ in range(2):
        result = zip_collect(course, every_attempt, tmp_path=tmp_path)
        assert "not collected" not in log_of(result)
    assert timestamp_of(course, "alice") == datetime.datetime(2026, 1, 30, 16)
    assert submitted_files(course)[f"alice/{ASSIGNMENT}/{NOTEBOOK}"] == notebook_bytes(
        "alice, newer"
    )


# ---------------------------------------------------------------------- nbgrader collect


class Inbound:
    """The hand-made inbound folder of one test: the honest classmate's submission and
    whatever the attacking learner adds."""

    def __init__(self, course: Course, root: Path) -> None:
        self.course, self.root = course, root
        self.inbound = root / COURSE_ID / "inbound"
        self.honest_files = {NOTEBOOK: notebook_bytes(HONEST), "data/notes.txt": b"mine"}
        self.honest_claim = now_utc()
        self.honest = inbound_folder(
            root, HONEST, self.honest_files, claimed=self.honest_claim, owner=HONEST_UID
        )
        self.truth = now_utc()  # nothing of the learner's exists before this

    def learner(
        self, files: dict[str, bytes] | None = None, claimed: datetime.datetime | None = None
    ) -> Path:
        return inbound_folder(self.root, LEARNER, files or {}, claimed=claimed)

    def collect(
        self,
        *args: str,
        runner: tuple[str, ...] = (),
        program: str = "nbgrader",
        changing: Iterable[Path] = (),
    ):
        """Run ``nbgrader collect``; check nothing outside submitted/ changed, that the
        honest classmate's collected files are byte-identical and dated no earlier than
        their submission, and that the command failed (status 1, saying so) exactly when
        it refused something."""
        changing = [
            self.course.root / "submitted",
            self.course.root / ".nbgrader.log",
            self.course.root / "gradebook.db",
            *changing,
        ]
        before = snapshot(self.root.parent, changing)
        result = self.course.run(
            *runner, program, "collect", ASSIGNMENT, *args, check=False, timeout=120
        )
        assert snapshot(self.root.parent, changing) == before, "collect changed files outside"
        refused = "Refused " in log_of(result)
        assert result.returncode == (1 if refused else 0), log_of(result)
        assert ("inbound entries were refused" in log_of(result)) == refused, log_of(result)
        files = submitted_files(self.course)
        for name, data in self.honest_files.items():
            assert files[f"{HONEST}/{ASSIGNMENT}/{name}"] == data
        assert timestamp_of(self.course, HONEST) >= self.honest_claim
        return result

    def learner_files(self) -> dict[str, bytes]:
        return {
            k.split("/", 2)[2]: v
            for k, v in submitted_files(self.course).items()
            if k.startswith(f"{LEARNER}/")
        }


def finish_learner(folder: Path) -> None:
    """Hand the learner's folder to the learner's uid, as if they had made it."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, LEARNER_UID, LEARNER_UID, follow_symlinks=False)


@pytest.fixture
def exchange(course: Course, tmp_path: Path) -> Inbound:
    return Inbound(course, tmp_path / "exchange")


@pytest.mark.slow
@needs_root
def test_collect_inbound_link_to_classmate_folder(exchange: Inbound) -> None:
    """Is an inbound entry in the learner's name that links to the classmate's folder
    refused and reported, instead of collecting the classmate's work as the learner's?"""
    link = exchange.inbound / submission_name(LEARNER, now_utc())
    link.symlink_to(exchange.honest)
    os.chown(link, LEARNER_UID, LEARNER_UID, follow_symlinks=False)
    result = exchange.collect()
    assert exchange.learner_files() == {}
    assert f"Refused {link}: a symbolic link" in log_of(result)


@pytest.mark.slow
@needs_root
def test_collect_link_to_file_outside(exchange: Inbound, tmp_path: Path) -> None:
    """Is a link inside the learner's folder, to a root-only file and to the classmate's
    notebook, refused and reported, while the learner's own files are collected?"""
    secret = tmp_path / "secret.txt"
    secret.write_text("root only")
    secret.chmod(0o600)
    folder = exchange.learner({"mine.txt": b"mine"})
    (folder / "secret.txt").symlink_to(secret)
    (folder / NOTEBOOK).symlink_to(exchange.honest / NOTEBOOK)
    finish_learner(folder)
    result = exchange.collect()
    assert set(exchange.learner_files()) == {"mine.txt", "timestamp.txt"}
    assert f"Refused {folder}/secret.txt: a symbolic link" in log_of(result)
    assert f"Refused {folder}/{NOTEBOOK}: a symbolic link" in log_of(result)
    assert timestamp_of(exchange.course, LEARNER) >= exchange.truth - CLOCK_SLACK


@pytest.mark.slow
@needs_root
def test_collect_fifo(exchange: Inbound) -> None:
    """Does a FIFO in the learner's folder get refused and reported quickly, instead of
    blocking collect forever?"""
    folder = exchange.learner({NOTEBOOK: notebook_bytes(LEARNER)})
    os.mkfifo(folder / "pipe.ipynb")
    finish_learner(folder)
    result = exchange.collect()
    assert exchange.learner_files()[NOTEBOOK] == notebook_bytes(LEARNER)
    assert f"Refused {folder}/pipe.ipynb: not a regular file" in log_of(result)


@pytest.mark.slow
@needs_root
def test_collect_link_to_dev_zero(exchange: Inbound) -> None:
    """Does a link to /dev/zero get refused and reported, so collect finishes (within the
    120 s guard) instead of copying forever?"""
    folder = exchange.learner({NOTEBOOK: notebook_bytes(LEARNER)})
    (folder / "data.bin").symlink_to("/dev/zero")
    finish_learner(folder)
    result = exchange.collect()
    assert set(exchange.learner_files()) == {NOTEBOOK, "timestamp.txt"}
    assert f"Refused {folder}/data.bin: a symbolic link" in log_of(result)


@pytest.mark.slow
@needs_root
def test_collect_folder_owned_by_another_uid(exchange: Inbound) -> None:
    """Is a later folder that claims to be the classmate's but is owned by another uid
    refused and reported (not just warned about), so the classmate's own is collected?"""
    forged = inbound_folder(
        exchange.root,
        HONEST,
        {NOTEBOOK: notebook_bytes("forged")},
        claimed=now_utc() + datetime.timedelta(days=1),
        owner=STRANGER_UID,
    )
    result = exchange.collect()
    assert (
        f"Refused {forged}: it claims to be {HONEST}'s but is owned by uid {STRANGER_UID}"
        in log_of(result)
    )
    assert exchange.learner_files() == {}


@pytest.mark.slow
@needs_root
def test_collect_hard_link(exchange: Inbound, tmp_path: Path) -> None:
    """Is a hard link in the learner's folder to the classmate's notebook or to a root-only
    file refused and reported, while the classmate's own (now doubly linked) notebook is
    still collected? (Where fs.protected_hardlinks is 1 a learner cannot make these links;
    the test makes them as root, as a learner could where it is 0.)"""
    secret = tmp_path / "secret.txt"
    secret.write_text("root only")
    secret.chmod(0o600)
    folder = exchange.learner({"mine.txt": b"mine"})
    os.link(exchange.honest / NOTEBOOK, folder / NOTEBOOK)
    os.link(secret, folder / "secret.txt")
    finish_learner(folder)
    # finish_learner gave the shared inode to the learner; it is the classmate's
    os.chown(exchange.honest / NOTEBOOK, HONEST_UID, HONEST_UID)
    os.chown(secret, 0, 0)
    result = exchange.collect()
    assert set(exchange.learner_files()) == {"mine.txt", "timestamp.txt"}
    for name in [NOTEBOOK, "secret.txt"]:
        assert f"Refused {folder}/{name}: a file with other hard links" in log_of(result)


@pytest.mark.slow
@needs_root
def test_collect_says_nothing_of_an_honest_submission_s_time(exchange: Inbound) -> None:
    """``nbgrader submit`` names the time, then copies the files, so every honest
    submission was last changed a few milliseconds after its claim: is it collected at the
    later time without a log line per learner that reads like a correction of a
    back-dated claim? (Two seconds back, a slow copy, past any file system's clock step.)"""
    claimed = now_utc() - datetime.timedelta(seconds=2)
    folder = exchange.learner({NOTEBOOK: notebook_bytes(LEARNER)}, claimed=claimed)
    finish_learner(folder)
    result = exchange.collect()
    assert timestamp_of(exchange.course, LEARNER) >= exchange.truth - CLOCK_SLACK
    assert f"{folder} claims" not in log_of(result)


@pytest.mark.slow
@needs_root
def test_collect_back_dated_claim(exchange: Inbound) -> None:
    """Does a folder (and timestamp.txt) claiming 2020 get collected with a time no earlier
    than the folder's creation, with the correction logged?"""
    folder = exchange.learner(
        {NOTEBOOK: notebook_bytes(LEARNER), "timestamp.txt": b"2020-01-01 00:00:00.000000 UTC"},
        claimed=datetime.datetime(2020, 1, 1),
    )
    finish_learner(folder)
    result = exchange.collect()
    assert timestamp_of(exchange.course, LEARNER) >= exchange.truth - CLOCK_SLACK
    assert f"{folder} claims 2020-01-01 00:00:00 but was last changed" in log_of(result)
    assert exchange.learner_files()[NOTEBOOK] == notebook_bytes(LEARNER)


@pytest.mark.slow
@needs_root
def test_collect_attacks_as_an_ordinary_user(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run by an ordinary user (uid 61002, no capabilities) over every inbound attack at
    once, does collect refuse and report each, and collect the classmate's work intact?

    pytest's own temporary folder is private to root, so this course lives in a folder of
    its own in /tmp, handed to uid 61002. Every attack runs: the test (as root) plays the
    learners, including the hard link a learner could only make where
    fs.protected_hardlinks is 0.
    """
    with tempfile.TemporaryDirectory(prefix="collect-nonroot-") as scratch:
        base = Path(scratch)
        root, home = base / "course", base / "home"
        shutil.copytree(template, root, symlinks=True)
        home.mkdir()
        (base / "exchange" / COURSE_ID / "inbound").mkdir(parents=True)
        with (root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
            config.write(f"\nc.Exchange.root = {str(base / 'exchange')!r}\n")
        for path in [base, *base.rglob("*")]:
            os.chown(path, INSTRUCTOR_UID, INSTRUCTOR_UID, follow_symlinks=False)
        (base / "exchange" / COURSE_ID / "inbound").chmod(0o2733)
        secret = base / "secret.txt"
        secret.write_text("root only")
        secret.chmod(0o600)

        exchange = Inbound(Course(root), base / "exchange")
        link = exchange.inbound / submission_name(LEARNER, now_utc())
        link.symlink_to(exchange.honest)
        folder = exchange.learner({"mine.txt": b"mine"}, claimed=datetime.datetime(2020, 1, 1))
        (folder / "secret.txt").symlink_to(secret)
        os.mkfifo(folder / "pipe.ipynb")
        (folder / "data.bin").symlink_to("/dev/zero")
        os.link(exchange.honest / NOTEBOOK, folder / NOTEBOOK)
        finish_learner(folder)
        os.chown(link, LEARNER_UID, LEARNER_UID, follow_symlinks=False)
        os.chown(exchange.honest / NOTEBOOK, HONEST_UID, HONEST_UID)
        forged = inbound_folder(
            exchange.root,
            HONEST,
            {NOTEBOOK: notebook_bytes("forged")},
            claimed=now_utc() + datetime.timedelta(days=1),
            owner=STRANGER_UID,
        )

        # The venv's nbgrader by its absolute path: a PATH search walks root's private
        # folders first, which an ordinary user may not enter. HOME: one the user may write.
        monkeypatch.setenv("HOME", str(home))
        runner = (
            "setpriv",
            f"--reuid={INSTRUCTOR_UID}",
            f"--regid={INSTRUCTOR_UID}",
            "--clear-groups",
        )
        program = str(Path(sys.executable).parent / "nbgrader")
        log = log_of(exchange.collect(runner=runner, program=program, changing=[home]))
        assert set(exchange.learner_files()) == {"mine.txt", "timestamp.txt"}
        assert timestamp_of(exchange.course, LEARNER) >= exchange.truth - CLOCK_SLACK
        for refused in [
            f"{link}: a symbolic link",
            f"{folder}/secret.txt: a symbolic link",
            f"{folder}/pipe.ipynb: not a regular file",
            f"{folder}/data.bin: a symbolic link",
            f"{folder}/{NOTEBOOK}: a file with other hard links",
            f"{forged}: it claims to be {HONEST}'s but is owned by uid",
        ]:
            assert f"Refused {refused}" in log
        owners = {p.stat().st_uid for p in (root / "submitted").rglob("*")}
        assert owners == {INSTRUCTOR_UID}


#: A learner who keeps changing their inbound folder while it is collected: atomic
#: exchanges (``renameat2(RENAME_EXCHANGE)``, so the name never goes missing) of the
#: notebook with a link to a course file, of a subfolder with a link to a classmate's
#: folder, and of the whole submission folder with a link to the classmate's; and a file
#: that grows past the size limit and shrinks again. Started with the folder to attack,
#: the course file and the classmate's folder; runs until killed.
SWAPPING_LEARNER = r"""
import ctypes, os, sys
folder, course_file, classmate = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
def exchange(a, b):
    libc.renameat2(-100, a.encode(), -100, b.encode(), 2)
inbound, name = os.path.split(folder)
os.chdir(folder)
os.symlink(course_file, ".nb-link")
os.symlink(classmate, ".sub-link")
whole_link = os.path.join(inbound, "." + name + "-link")
os.symlink(classmate, whole_link)
print("ready", flush=True)
while True:
    for _ in range(50):
        exchange(".nb-link", "NOTEBOOK")
        exchange("sub", ".sub-link")
        exchange(".nb-link", "NOTEBOOK")
        exchange("sub", ".sub-link")
    exchange(whole_link, folder)
    exchange(whole_link, folder)
    with open("grow.bin", "wb") as grow:
        grow.truncate(0)
        for _ in range(40):
            grow.write(b"x" * 65536)
"""


#: The size limit of a collected file in the race, in kB (nbgrader's ``max_file_size``).
LIMIT_KB = 1000


def test_a_folder_swapped_for_another_after_its_checks_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Collect checks each inbound folder (its name, its owner, the time it was last
    changed) before it copies it. A learner who swaps the folder for another of their
    own in between (say, the work finished after the deadline, under the checked name)
    would have that one copied, dated by the checked folder's time. Is the swapped folder
    refused, nothing of it collected, and the classmate collected as submitted?"""
    exchange, root = tmp_path / "exchange", tmp_path / "course"
    root.mkdir()
    folder = inbound_folder(exchange, "me", {NOTEBOOK: notebook_bytes("me-on-time")})
    inbound_folder(exchange, "zoe", {NOTEBOOK: notebook_bytes("zoe")})
    collect = exchange_collect(root, exchange)
    checked_then_copied = collect._collect

    def swap_first(submission: collection.InboundSubmission) -> None:
        if submission.student_id == "me":
            folder.rename(folder.with_name("me-checked"))
            inbound_folder(exchange, "later", {NOTEBOOK: notebook_bytes("me-late")}).rename(folder)
        checked_then_copied(submission)

    monkeypatch.setattr(collect, "_collect", swap_first)
    with pytest.raises(ExchangeError, match="1 inbound entr"):
        collect.start()
    assert [p.name for p in (root / "submitted").iterdir()] == ["zoe"]
    [reason] = collect.refused
    assert "replaced by another folder while collecting" in reason, reason


@pytest.mark.parametrize("learner_uid", ["another-uid", "same-uid"])
def test_a_learner_changing_their_folder_while_it_is_collected_gets_nothing_in(
    learner_uid: str,
) -> None:
    """While collect copies a learner's inbound folder, the learner keeps swapping (in a
    process of their own, on another core) the notebook for a link to a course file, a
    subfolder and the whole folder for links to a classmate's, and grows a file past the
    limit. Does each of many collects take no linked content, no symbolic link, nothing
    over the limit and none of the classmate's work, collect the classmate as submitted,
    date the learner's copy no earlier than the changes made before it, and leave the
    learner's own files as they were?"""
    if learner_uid == "another-uid" and os.geteuid() != 0:
        pytest.skip("root (the learner's process runs as another uid)")
    base = Path(tempfile.mkdtemp(prefix="collect-race-", dir="/tmp"))
    try:
        base.chmod(0o755)
        _collect_while_swapping(base, learner_uid == "another-uid")
    finally:
        shutil.rmtree(base)


def _collect_while_swapping(base: Path, as_learner: bool) -> None:
    import signal
    import subprocess

    exchange = base / "exchange"
    (exchange / COURSE_ID / "inbound").mkdir(parents=True)
    (exchange / COURSE_ID / "inbound").chmod(0o2733)
    course_file = base / "course-secret.txt"
    course_file.write_text("COURSE-SECRET")
    course_file.chmod(0o600)
    student, owner = (LEARNER, LEARNER_UID) if as_learner else ("me", os.geteuid())
    classmate_files = {NOTEBOOK: notebook_bytes("zoe-CLASSMATE"), "data/notes.txt": b"zoe"}
    classmate = inbound_folder(exchange, "zoe", classmate_files)
    mine = {NOTEBOOK: notebook_bytes(student), "sub/part.txt": b"part", "grow.bin": b""}
    # claiming a time long past: only the changes made may date the copy
    folder = inbound_folder(
        exchange, student, mine, claimed=datetime.datetime(2020, 1, 1), owner=owner
    )
    before_attack = now_utc()
    # the system's interpreter for another uid: this one may live in root's private home
    interpreter = shutil.which("python3", path="/usr/bin:/bin") if as_learner else sys.executable
    if interpreter is None:
        pytest.skip("no python3 in /usr/bin or /bin that the learner's uid may run")
    swapper = subprocess.Popen(
        [interpreter, "-I", "-c", SWAPPING_LEARNER.replace("NOTEBOOK", NOTEBOOK)]
        + [str(folder), str(course_file), str(classmate)],
        stdout=subprocess.PIPE,
        text=True,
        user=owner if as_learner else None,
        group=owner if as_learner else None,
        extra_groups=[] if as_learner else None,
        start_new_session=True,
    )
    collected_as_submitted = 0
    try:
        assert swapper.stdout is not None and swapper.stdout.readline() == "ready\n"
        for attempt in range(40):
            root = base / f"course-{attempt}"
            root.mkdir()
            collect = exchange_collect(root, exchange)
            collect.coursedir.max_file_size = LIMIT_KB  # grow.bin crosses it as it grows
            with contextlib.suppress(ExchangeError):
                collect.start()
            submitted = root / "submitted"
            for path in submitted.rglob("*"):
                assert not path.is_symlink(), path
                if path.is_file():
                    data = path.read_bytes()
                    assert b"COURSE-SECRET" not in data, path
                    assert len(data) <= LIMIT_KB * 1000, path
                    if b"zoe-CLASSMATE" in data:
                        assert path.relative_to(submitted).parts[0] == "zoe", path
            for name, data in classmate_files.items():
                assert (submitted / "zoe" / ASSIGNMENT / name).read_bytes() == data
            collected = submitted / student / ASSIGNMENT
            if collected.exists():
                stamp = collect.coursedir.get_existing_timestamp(str(collected))
                assert stamp >= before_attack - CLOCK_SLACK
                notebook = collected / NOTEBOOK
                collected_as_submitted += notebook.is_file() and (
                    notebook.read_bytes() == mine[NOTEBOOK]
                )
    finally:
        os.killpg(swapper.pid, signal.SIGKILL)
        swapper.wait()
    # the swaps are refused, not the learner's work with them
    assert collected_as_submitted > 0
    # put the learner's names back as they were (the kill may have come mid-swap)
    whole_link = folder.parent / f".{folder.name}-link"
    for swapped, real in (
        (whole_link, folder),
        (folder / ".nb-link", folder / NOTEBOOK),
        (folder / ".sub-link", folder / "sub"),
    ):
        if not swapped.is_symlink():
            real.unlink()
            swapped.rename(real)
    assert (folder / NOTEBOOK).read_bytes() == mine[NOTEBOOK], "the learner's file changed"
    assert (folder / "sub" / "part.txt").read_bytes() == b"part"
    assert course_file.read_text() == "COURSE-SECRET"
    for name, data in classmate_files.items():
        assert (classmate / name).read_bytes() == data
