"""lstm_grader.safefiles: no read or write the grader makes can be steered by a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
