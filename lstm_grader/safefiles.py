"""File operations that a learner's links, FIFOs and devices cannot redirect.

A learner chooses the names, and in an exchange the kind, of every entry in a
submission. The grader runs as root or as the instructor, so a write that follows a
planted link overwrites whatever the link names, and a read of a FIFO or ``/dev/zero``
never ends. Every file the grader reads from, or writes beside, a learner's material
goes through here: reads open with ``O_NOFOLLOW`` and check the file is regular before
reading a bounded number of bytes; writes go to a fresh temporary file, which is then
renamed over the target (a rename replaces a link, it never follows it).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: The largest single file the grader reads or copies from a submission.
MAX_FILE_BYTES = 50 * 2**20


def read_bytes(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file without following a link, refusing one over ``limit`` bytes.

    Raises
    ------
    OSError
        If ``path`` is a link (``ELOOP``), not a regular file, or too large.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        # before fdopen, which refuses a folder with an error that names the descriptor
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path} is larger than {limit} bytes")
    return data


def read_text(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """:func:`read_bytes`, decoded as UTF-8."""
    return read_bytes(path, limit).decode("utf-8")


def write_bytes(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Write a file atomically, replacing (never following) whatever entry has its name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(partial, mode)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def write_text(path: str | Path, text: str, mode: int = 0o644) -> None:
    """:func:`write_bytes` for text, as UTF-8."""
    write_bytes(path, text.encode("utf-8"), mode)


def unsafe_entries(folder: str | Path) -> list[str]:
    """Entries under ``folder`` that are not plain folders or regular files of their own:
    links, FIFOs, sockets, devices, and files with other hard links. Relative paths,
    each with the reason."""
    found = []
    folder = str(folder)
    for here, directories, names in os.walk(folder, followlinks=False):
        for name in [*directories, *names]:
            path = os.path.join(here, name)
            problem = entry_problem(path)
            if problem:
                found.append(f"{os.path.relpath(path, folder)}: {problem}")
        directories[:] = [d for d in directories if not os.path.islink(os.path.join(here, d))]
    return sorted(found)


def entry_problem(path: str | Path) -> str | None:
    """Why an entry may not be taken from a learner (a link, not a regular file or
    folder, other hard links), or None."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a FIFO, socket or device)"
    if info.st_nlink > 1:
        return "a file with other hard links"
    return None


@dataclass
class CopyResult:
    """What a copy of a learner's folder took and what it refused.

    Attributes
    ----------
    copied : list of str
        Relative paths of the regular files copied.
    refused : list of str
        One line per entry left out, with the reason.
    """

    copied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
