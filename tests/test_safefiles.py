"""lstm_grader.safefiles: no read or write the grader makes can be steered by a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import GRADER_UID, killed_while_writing, require_or_skip

from lstm_grader import safefiles


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "instructor-only.txt"
    path.write_text("the answers")
    return path


def test_reads_refuse_links_fifos_and_oversized_files(tmp_path: Path, secret: Path) -> None:
    """Does a read refuse a link, a FIFO (without blocking), a folder (saying so) and a
    file over the limit?"""
    (tmp_path / "link").symlink_to(secret)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder.ipynb").mkdir()
    (tmp_path / "big").write_bytes(b"x" * 101)
    for name in ("link", "pipe"):
        with pytest.raises(OSError):
            safefiles.read_bytes(tmp_path / name)
    with pytest.raises(OSError, match="folder.ipynb is not a regular file"):
        safefiles.read_bytes(tmp_path / "folder.ipynb")
    with pytest.raises(OSError, match="larger"):
        safefiles.read_bytes(tmp_path / "big", limit=100)
    assert safefiles.read_text(secret) == "the answers"


def test_a_write_replaces_a_planted_link_instead_of_following_it(
    tmp_path: Path, secret: Path
) -> None:
    """Does writing over a planted link leave the link's target untouched?"""
    target = tmp_path / "report.json"
    target.symlink_to(secret)
    safefiles.write_text(target, "{}")
    assert secret.read_text() == "the answers"
    assert not target.is_symlink() and target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_unsafe_entries_are_named(tmp_path: Path, secret: Path) -> None:
    """Are links (to files and folders), FIFOs and hard-linked files listed, plain ones not?"""
    folder = tmp_path / "submission"
    (folder / "sub").mkdir(parents=True)
    (folder / "notebook.ipynb").write_text("{}")
    (folder / "sub" / "data.csv").write_text("1,2")
    (folder / "answers.html").symlink_to(secret)
    (folder / "everything").symlink_to(tmp_path)
    os.mkfifo(folder / "sub" / "pipe")
    os.link(secret, folder / "hard.txt")
    found = safefiles.unsafe_entries(folder)
    assert [line.split(":")[0] for line in found] == [
        "answers.html",
        "everything",
        "hard.txt",
        "sub/pipe",
    ]


def test_unsafe_entries_name_what_is_over_the_limits(tmp_path: Path, monkeypatch) -> None:
    """Does the check name a file over the size limit (a sparse file of terabytes, read by
    nothing), files past the total, too many entries and folders nested too deep, with
    short names, and take a file name that is not UTF-8 as a plain file?"""
    folder = tmp_path / "submission"
    folder.mkdir()
    with open(folder / "sparse.bin", "wb") as handle:
        handle.truncate(2**40)
    os.close(os.open(os.fsencode(folder) + b"/notes-\xff.txt", os.O_CREAT | os.O_WRONLY))
    deep = folder.joinpath(*["a" * 30] * (safefiles.MAX_FOLDER_DEPTH + 3))
    deep.mkdir(parents=True)
    (deep / "leaf.txt").write_text("x")
    found = safefiles.unsafe_entries(folder)
    assert [line.split(": ", 1)[1] for line in found] == [
        f"holds folders deeper than {safefiles.MAX_FOLDER_DEPTH} levels",
        f"larger than the limit ({2**40} > {safefiles.MAX_FILE_BYTES} bytes)",
    ]
    assert found[0].startswith("aaa") and "..." in found[0] and len(found[0]) < 200
    # a folder the grader writes into holds the course's own files, whatever their size
    assert [line.split(": ", 1)[1] for line in safefiles.unsafe_entries(folder, sizes=False)] == [
        f"holds folders deeper than {safefiles.MAX_FOLDER_DEPTH} levels"
    ]

    total = tmp_path / "total"
    total.mkdir()
    for name in ("a.bin", "b.bin", "c.bin"):
        (total / name).write_bytes(b"x" * 40)
    monkeypatch.setattr(safefiles, "MAX_SUBMISSION_BYTES", 100)
    assert safefiles.unsafe_entries(total) == [
        "c.bin: over the submission's total limit of 100 bytes"
    ]
    monkeypatch.setattr(safefiles, "MAX_ENTRIES", 2)
    assert safefiles.unsafe_entries(total) == [".: more than 2 entries; the rest was not examined"]


_WRITE_IN_A_FILE_SIZE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from lstm_grader import safefiles
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
folder = Path(sys.argv[1])
try:
    safefiles.write_files({folder / "small": b"new", folder / "large": bytes(5000)})
except OSError as exc:
    print(exc.errno, exc.filename)
"""


def test_files_written_together_are_all_replaced_or_none(tmp_path: Path) -> None:
    """A disk that filled up between two files written one after the other left the first
    new beside the second old (``grades.csv`` beside an earlier run's totals). With the
    second file's write failing (a file size limit, as a full disk fails it), is neither
    replaced, no partial file left, and the error named after the file it failed on? And
    without the limit, are both written?"""
    import errno
    import subprocess
    import sys

    for name in ("small", "large"):
        (tmp_path / name).write_bytes(b"old")
    run = subprocess.run(
        [sys.executable, "-c", _WRITE_IN_A_FILE_SIZE_LIMIT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.split() == [str(errno.EFBIG), str(tmp_path / "large")]
    assert sorted(os.listdir(tmp_path)) == ["large", "small"]
    assert (tmp_path / "small").read_bytes() == (tmp_path / "large").read_bytes() == b"old"

    safefiles.write_files({tmp_path / "small": b"new", tmp_path / "large": bytes(5000)})
    assert (tmp_path / "small").read_bytes() == b"new"
    assert (tmp_path / "large").read_bytes() == bytes(5000)


def test_a_write_that_fails_names_its_file_not_the_partial_beside_it(tmp_path: Path) -> None:
    """A rename onto a folder named the hidden partial file first, so lstm-grade's line
    spoke of a file the instructor never made. Does the error name the target, with
    nothing left beside it?"""
    (tmp_path / "grades.csv").mkdir()
    with pytest.raises(IsADirectoryError) as refused:
        safefiles.write_bytes(tmp_path / "grades.csv", b"x")
    assert refused.value.filename == str(tmp_path / "grades.csv")
    assert os.listdir(tmp_path) == ["grades.csv"]


def _entries(folder: Path) -> dict[str, bytes | str | None]:
    """Each entry of ``folder``: a file's bytes, a link's target, None for a folder."""
    return {
        path.name: os.readlink(path)
        if path.is_symlink()
        else path.read_bytes()
        if path.is_file()
        else None
        for path in sorted(folder.iterdir())
    }


def _raise(error: OSError) -> None:
    raise error


def _files_to_write(folder: Path) -> dict[Path, bytes]:
    """Four targets: a file, nothing, a link (replaced, never followed) and a file."""
    (folder / "a").write_bytes(b"old a")
    (folder / "c").symlink_to("elsewhere")
    (folder / "d").write_bytes(b"old d")
    return {folder / name: f"new {name}".encode() for name in ("a", "b", "c", "d")}


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
@pytest.mark.parametrize("refused", ["a", "b", "c", "d"])
def test_a_replacement_refused_part_way_puts_back_the_ones_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str, hard_links: bool
) -> None:
    """The renames that replace the targets come after every file is written, and one of
    them refused (an immutable file, a mount point in a file's place) left the targets
    before it replaced: grades.csv new beside an earlier run's totals. With the rename
    onto each target in turn refused, does every target stand as before (a file, nothing,
    a link), with nothing left beside them, and the error name the refused target? On a
    file system without hard links too (the files before are kept as copies)?"""
    if not hard_links:
        monkeypatch.setattr(
            safefiles.os, "link", lambda *a, **kw: _raise(PermissionError(1, "not here"))
        )
    contents = _files_to_write(tmp_path)
    before = _entries(tmp_path)
    rename = os.replace

    def refusing(source: str, target: str | Path) -> None:
        if Path(target) == tmp_path / refused and str(source).endswith(".partial"):
            raise PermissionError(1, "Operation not permitted", str(source), str(target))
        rename(source, target)

    monkeypatch.setattr(safefiles.os, "replace", refusing)
    with pytest.raises(PermissionError) as raised:
        safefiles.write_files(contents)
    assert raised.value.filename == str(tmp_path / refused)
    assert _entries(tmp_path) == before

    monkeypatch.setattr(safefiles.os, "replace", rename)
    safefiles.write_files(contents)
    assert _entries(tmp_path) == {path.name: data for path, data in contents.items()}


def test_a_folder_in_a_later_files_place_changes_nothing(tmp_path: Path) -> None:
    """A folder standing where the second of two files belongs: is the first left as it
    was, and the error the folder's (``EISDIR``, naming it), with nothing left beside?"""
    (tmp_path / "grades.csv").write_bytes(b"old")
    (tmp_path / "grades_totals.csv").mkdir()
    with pytest.raises(IsADirectoryError) as refused:
        safefiles.write_files(
            {tmp_path / "grades.csv": b"new", tmp_path / "grades_totals.csv": b"new"}
        )
    assert refused.value.filename == str(tmp_path / "grades_totals.csv")
    assert _entries(tmp_path) == {"grades.csv": b"old", "grades_totals.csv": None}


def test_an_immutable_file_in_a_later_files_place_changes_nothing(tmp_path: Path) -> None:
    """For real: the second of three files is immutable (``chattr +i``, root's), so it can
    be neither linked nor replaced. Is the first put back as it was, keeping its mode,
    the third never touched, and the error the immutable file's?"""
    import shutil
    import subprocess

    from conftest import require_or_skip

    require_or_skip(os.geteuid() == 0 and shutil.which("chattr") is not None, "root and chattr")
    (tmp_path / "first").write_bytes(b"old first")
    (tmp_path / "first").chmod(0o600)
    (tmp_path / "kept").write_bytes(b"old kept")
    subprocess.run(["chattr", "+i", str(tmp_path / "kept")], check=True)
    try:
        with pytest.raises(PermissionError) as refused:
            safefiles.write_files({tmp_path / name: b"new" for name in ("first", "kept", "third")})
        assert refused.value.filename == str(tmp_path / "kept")
        assert _entries(tmp_path) == {"first": b"old first", "kept": b"old kept"}
        assert (tmp_path / "first").stat().st_mode & 0o777 == 0o600
    finally:
        subprocess.run(["chattr", "-i", str(tmp_path / "kept")], check=True)


@pytest.mark.parametrize("refused", [None, "d"])
def test_a_file_that_cannot_be_kept_is_replaced_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: str | None
) -> None:
    """What stands at the first target cannot be kept under a second name (another user's
    file, neither linkable nor readable): refusing to write then would fail a write that
    replacing alone allows. Is it replaced last, so that a later refusal still leaves
    every target as it was, and without one is every file written?"""
    contents = _files_to_write(tmp_path)
    before = _entries(tmp_path)
    kept_aside, rename = safefiles._kept_aside, os.replace

    def not_for_a(target: Path) -> str | None:
        if target.name == "a":
            raise PermissionError(1, "Operation not permitted", str(target))
        return kept_aside(target)

    def refusing(source: str, target: str | Path) -> None:
        if Path(target).name == refused and str(source).endswith(".partial"):
            raise PermissionError(1, "Operation not permitted", str(source), str(target))
        rename(source, target)

    monkeypatch.setattr(safefiles, "_kept_aside", not_for_a)
    monkeypatch.setattr(safefiles.os, "replace", refusing)
    if refused is None:
        safefiles.write_files(contents)
        assert _entries(tmp_path) == {path.name: data for path, data in contents.items()}
        return
    with pytest.raises(PermissionError):
        safefiles.write_files(contents)
    assert _entries(tmp_path) == before


def test_what_a_write_killed_outright_left_is_removed_and_nothing_else(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grader killed (``SIGKILL``) between the two replacements of one ``write_files``
    leaves hidden ``.partial`` and ``.previous`` files beside its targets, and no later
    run took them away. Does :func:`safefiles.remove_leftovers` remove exactly those once
    they are old enough, leave the targets as the killed write left them, and keep files
    that only look alike, a folder of such a name, and what a link of such a name points
    to?"""
    grades, totals = tmp_path / "grades.csv", tmp_path / "totals.csv"
    for target in (grades, totals):
        target.write_bytes(b"old")
    killed_while_writing(grades, totals)
    left = sorted(name for name in os.listdir(tmp_path) if name.startswith("."))
    assert sorted(name.rsplit(".", 1)[1] for name in left) == [
        "partial",
        "previous",
        "previous",
    ], left
    lookalikes = [
        ".abcdefgh.partial.bak",
        "abcdefgh.partial",
        ".ABCDEFGH.partial",
        ".abc.partial",
        ".0123456789abcdef0.previous",
        ".abcdefgh.part",
    ]
    for name in lookalikes:
        (tmp_path / name).write_bytes(b"keep")
    (tmp_path / ".folder00.partial").mkdir()
    (tmp_path / ".0123456789abcdef.previous").symlink_to(secret)

    assert safefiles.remove_leftovers(tmp_path) == [], "a write just made lost its files"
    monkeypatch.setattr(safefiles, "LEFTOVER_AGE", 0.0)  # what the killed write left is old
    removed = safefiles.remove_leftovers(tmp_path)

    assert removed == sorted([*left, ".0123456789abcdef.previous"])
    assert sorted(os.listdir(tmp_path)) == sorted(
        [*lookalikes, ".folder00.partial", "grades.csv", "instructor-only.txt", "totals.csv"]
    )
    assert (grades.read_bytes(), totals.read_bytes()) == (b"new", b"old")
    assert secret.read_text() == "the answers"
    assert safefiles.remove_leftovers(tmp_path / "no-such-folder") == []


def test_leftovers_of_another_user_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's file is no write of this process's: is it kept, whatever its name?"""
    require_or_skip(os.geteuid() == 0, "root (the test gives a file to another uid)")
    theirs = tmp_path / ".abcdefgh.partial"
    theirs.write_bytes(b"theirs")
    os.chown(theirs, GRADER_UID, GRADER_UID)
    mine = tmp_path / ".zyxwvuts.partial"
    mine.write_bytes(b"mine")
    monkeypatch.setattr(safefiles, "LEFTOVER_AGE", 0.0)
    assert safefiles.remove_leftovers(tmp_path) == [mine.name]
    assert theirs.read_bytes() == b"theirs"


def test_a_leftover_that_cannot_be_removed_stops_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leftover is litter: one the folder will not let go (an immutable folder, a
    read-only mount) must not stop a grading run. Is it kept, with no error, and the
    others removed; and is a folder that cannot be listed simply passed?"""
    for name in (".aaaaaaaa.partial", ".bbbbbbbb.partial"):
        (tmp_path / name).write_bytes(b"left")
    unlink = os.unlink

    def refuse_the_first(path, *args, **kwargs):
        if str(path).endswith(".aaaaaaaa.partial"):
            raise PermissionError(1, "Operation not permitted", str(path))
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse_the_first)
    monkeypatch.setattr(safefiles, "LEFTOVER_AGE", 0.0)
    assert safefiles.remove_leftovers(tmp_path) == [".bbbbbbbb.partial"]
    assert os.listdir(tmp_path) == [".aaaaaaaa.partial"]
    assert safefiles.remove_leftovers(tmp_path / ".aaaaaaaa.partial") == []
