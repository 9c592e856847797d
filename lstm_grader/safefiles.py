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
import errno
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: The largest single file the grader reads or copies from a submission.
MAX_FILE_BYTES = 50 * 2**20
#: The names :func:`write_files` gives the files it makes beside a target: ``tempfile``'s
#: eight characters, or the sixteen hex digits of :func:`_kept_aside`, between a dot and
#: its suffix.
_LEFTOVER_NAME = re.compile(r"\.(?:[a-z0-9_]{8}\.(?:partial|previous)|[0-9a-f]{16}\.previous)")
#: How many seconds since its inode last changed before :func:`remove_leftovers` takes
#: such a file for the leftover of a writer killed outright: a write that is still going
#: on made (or linked) its files well under a second before.
LEFTOVER_AGE = 60.0


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
    """Write a file atomically, replacing (never following) whatever entry has its name.

    Raises
    ------
    OSError
        Naming ``path`` (not the partial file beside it), with the system's reason.
    """
    write_files({Path(path): data}, mode)


def write_files(contents: dict[Path, bytes], mode: int = 0o644) -> None:
    """Write several files as :func:`write_bytes` does, all of them or none: each is
    written in full beside its target before any target is replaced, so a disk that
    fills up changes none of them, and a replacement refused part-way (a folder, or an
    immutable file, standing in a later file's place) puts back the ones before it.

    What stands at a target is kept under a second name until all are replaced. One that
    cannot be kept (another user's file this one may neither link nor read) is replaced
    last, when nothing after it can fail; only a second such file is not put back.

    Raises
    ------
    OSError
        Naming the target it failed on, with the system's reason.
    """
    partials: dict[Path, str] = {}
    # what stood at each target before, kept under another name until all are replaced
    previous: dict[Path, str | None] = {}
    unkept: list[Path] = []  # what could not be kept (another user's unreadable file)
    replaced: list[Path] = []
    target = Path()
    try:
        for target, data in contents.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            # a short name of its own: a file's name of 255 bytes leaves no room to add to it
            fd, partials[target] = tempfile.mkstemp(
                dir=target.parent, prefix=".", suffix=".partial"
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(partials[target], mode)
        if len(partials) > 1:  # one rename is all or nothing by itself
            for target in partials:
                try:
                    previous[target] = _kept_aside(target)
                except IsADirectoryError:
                    raise
                except OSError:
                    unkept.append(target)
        # what cannot be put back is replaced last, when no later replacement can fail
        for target in sorted(partials, key=unkept.__contains__):
            os.replace(partials[target], target)
            del partials[target]
            replaced.append(target)
    except OSError as exc:
        for done in reversed(replaced):
            if done in unkept:
                continue
            with contextlib.suppress(OSError):
                if (aside := previous[done]) is None:
                    os.unlink(done)
                else:
                    os.replace(aside, done)
                    previous[done] = None
        if exc.filename is not None and not str(exc.filename).endswith((".partial", ".previous")):
            raise  # a folder above that could not be made names itself
        # a write names no file, and a rename names the partial first: say which target
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    finally:
        for left in [*partials.values(), *previous.values()]:
            if left is not None:
                with contextlib.suppress(OSError):
                    os.unlink(left)


def remove_leftovers(folder: str | Path) -> list[str]:
    """Remove what a :func:`write_files` killed outright (``SIGKILL``, a power cut) left in
    ``folder``: its hidden ``.*.partial`` and ``.*.previous`` files, and nothing else.

    Only files of exactly those names that this process's user owns, and whose inode has
    not changed for :data:`LEFTOVER_AGE` seconds, are removed (a link is removed, never
    followed), so a write still under way beside them keeps its files. Call it only on a
    folder the caller alone writes into, never where a learner names the files. What
    cannot be listed or removed stays, silently: a leftover is litter, and no run should
    stop for it.

    Returns
    -------
    list of str
        The names removed, sorted; empty if ``folder`` does not exist.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    now = time.time()
    removed = []
    for name in sorted(filter(_LEFTOVER_NAME.fullmatch, names)):
        path = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if (
                stat.S_ISDIR(info.st_mode)
                or info.st_uid != os.geteuid()
                # ctime, not mtime: a file kept aside is a hard link to a target that may
                # be old
                or now - info.st_ctime < LEFTOVER_AGE
            ):
                continue
            os.unlink(path)
            removed.append(name)
    return removed


def _kept_aside(target: Path) -> str | None:
    """A second name for what stands at ``target`` now (a file, or a link, never
    followed), beside it, so that replacing it can be undone; None if nothing stands
    there.

    Raises
    ------
    OSError
        If a folder stands there (``EISDIR``, as replacing it would), or the entry cannot
        be linked or copied.
    """
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))

    def made_beside(make: Callable[[str], None]) -> str:
        for _ in range(100):
            aside = str(target.parent / f".{secrets.token_hex(8)}.previous")
            with contextlib.suppress(FileExistsError):
                make(aside)
                return aside
        raise FileExistsError(errno.EEXIST, "no free name beside it", str(target))

    try:
        return made_beside(lambda aside: os.link(target, aside, follow_symlinks=False))
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: keep a copy instead
        if stat.S_ISLNK(info.st_mode):
            return made_beside(lambda aside: os.symlink(os.readlink(target), aside))
        if not stat.S_ISREG(info.st_mode):
            raise
    fd, aside = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".previous")
    with os.fdopen(fd, "wb") as handle:
        handle.write(read_bytes(target, limit=info.st_size + MAX_FILE_BYTES))
    os.chmod(aside, stat.S_IMODE(info.st_mode))
    return aside


def write_text(path: str | Path, text: str, mode: int = 0o644) -> None:
    """:func:`write_bytes` for text, as UTF-8."""
    write_bytes(path, text.encode("utf-8"), mode)


#: How deep a learner's folder may nest: deeper trees are refused, since paths past the
#: system's limit cannot be opened by name, and walking them recurses as deep.
MAX_FOLDER_DEPTH = 32
#: The most bytes of files one submission folder may hold, all files together.
MAX_SUBMISSION_BYTES = 4 * MAX_FILE_BYTES
#: The most entries (files and folders) one submission folder may hold.
MAX_ENTRIES = 10_000


def unsafe_entries(folder: str | Path, *, sizes: bool = True) -> list[str]:
    """Entries under ``folder`` the grader will not take from a learner: links, FIFOs,
    sockets, devices, files with other hard links, entries that cannot be listed or read,
    folders deeper than :data:`MAX_FOLDER_DEPTH`, more than :data:`MAX_ENTRIES` entries
    and, with ``sizes``, files over the sizes a collection keeps to
    (:data:`MAX_FILE_BYTES` each, :data:`MAX_SUBMISSION_BYTES` in all), since nbgrader
    copies every file of a submission, whatever its size, before any check of the
    grader's runs. Relative paths (long ones shortened), each with the reason.

    ``sizes=False`` checks a folder the grader writes into, which holds the course's own
    files too, whatever their size."""
    found = []
    folder = str(folder)
    entries = total = 0

    def shown(path: str) -> str:
        relative = os.path.relpath(path, folder)
        return relative if len(relative) <= 120 else f"{relative[:60]}...{relative[-40:]}"

    def unlisted(error: OSError) -> None:
        found.append(f"{shown(error.filename or folder)}: cannot be listed ({error.strerror})")

    base_depth = folder.rstrip(os.sep).count(os.sep)
    for here, directories, names in os.walk(folder, onerror=unlisted, followlinks=False):
        entries += len(directories) + len(names)
        if entries > MAX_ENTRIES:
            found.append(f".: more than {MAX_ENTRIES} entries; the rest was not examined")
            break
        directories.sort()  # the same entries over a total limit on every run
        for name in [*directories, *sorted(names)]:
            path = os.path.join(here, name)
            try:
                info = os.lstat(path)
            except OSError as error:
                problem, size = f"cannot be read ({error.strerror})", 0
            else:
                problem = _stat_problem(info)
                size = info.st_size if stat.S_ISREG(info.st_mode) else 0
            if sizes and not problem:
                if size > MAX_FILE_BYTES:
                    problem = f"larger than the limit ({size} > {MAX_FILE_BYTES} bytes)"
                elif total + size > MAX_SUBMISSION_BYTES:
                    problem = f"over the submission's total limit of {MAX_SUBMISSION_BYTES} bytes"
            total += size if not problem else 0
            if problem:
                found.append(f"{shown(path)}: {problem}")
        directories[:] = [d for d in directories if not os.path.islink(os.path.join(here, d))]
        if directories and here.count(os.sep) - base_depth >= MAX_FOLDER_DEPTH:
            found.append(f"{shown(here)}: holds folders deeper than {MAX_FOLDER_DEPTH} levels")
            directories[:] = []
    return sorted(found)


def entry_problem(path: str | Path) -> str | None:
    """Why an entry may not be taken from a learner (a link, not a regular file or
    folder, other hard links), or None."""
    return _stat_problem(os.lstat(path))


def _stat_problem(info: os.stat_result) -> str | None:
    """:func:`entry_problem` for an entry already examined with ``os.lstat``."""
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


def remove_tree(path: str | Path) -> bool:
    """Remove ``path`` and everything under it, however deep, never following a link and
    never raising; True when nothing is left.

    ``shutil.rmtree`` recurses once per level in Python 3.11 and cannot be stopped from
    raising ``RecursionError`` (``ignore_errors`` does not cover it), so a folder a kernel
    nested a few thousand levels deep would stay, with whatever it holds, and stop every
    later clean-up that meets it. This walks down and back up holding one folder open at
    a time (through ``..``: nothing else writes there by then), so neither depth nor path
    length matters. An entry it cannot remove is skipped, never retried in a loop.

    Examples
    --------
    >>> import tempfile
    >>> top = tempfile.mkdtemp()
    >>> folder = os.open(top, os.O_RDONLY)
    >>> for _ in range(2_000):  # deeper than Python's recursion limit
    ...     os.mkdir("d", dir_fd=folder)
    ...     folder, above = os.open("d", os.O_RDONLY, dir_fd=folder), folder
    ...     os.close(above)
    >>> os.close(folder)
    >>> remove_tree(top), os.path.exists(top)
    (True, False)
    """
    path = os.fspath(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(path)
        return not os.path.lexists(path)
    try:
        folder = _open_folder(path, None)
    except OSError:
        return False
    names: list[str] = []  # the folders entered below ``path``, outermost first
    stuck: set[tuple[int, int]] = set()
    try:
        while True:
            inner = _empty_but_folders(folder, stuck)
            if inner is not None:
                try:
                    entered = _open_folder(inner, folder)
                except OSError:
                    stuck.add(_identity(folder, inner))
                    continue
                os.close(folder)
                folder = entered
                names.append(inner)
                continue
            if not names:
                break
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=folder)
            os.close(folder)
            folder = parent
            name = names.pop()
            try:
                os.rmdir(name, dir_fd=folder)
            except OSError:
                stuck.add(_identity(folder, name))
    except OSError:
        return False
    finally:
        os.close(folder)
    with contextlib.suppress(OSError):
        os.rmdir(path)
    return not os.path.lexists(path)


def _open_folder(name: str, parent: int | None) -> int:
    """Open a folder without following a link, and make it the grader's to empty: a
    kernel running as the grader's own user may have locked it (mode 000 or 500)."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        folder = os.open(name, flags, dir_fd=parent)
    except PermissionError:
        # O_NOFOLLOW opened no link above: the entry is a folder, nothing runs there now
        os.chmod(name, 0o700, dir_fd=parent)
        folder = os.open(name, flags, dir_fd=parent)
    with contextlib.suppress(OSError):
        os.fchmod(folder, 0o700)
    return folder


def _identity(parent: int, name: str) -> tuple[int, int]:
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except OSError:
        return (-1, -1)
    return (info.st_dev, info.st_ino)


def _empty_but_folders(folder: int, stuck: set[tuple[int, int]]) -> str | None:
    """Unlink every non-folder entry of ``folder``; return a sub-folder left to clear,
    or None when only stuck ones (or none) remain."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if _identity(folder, entry.name) not in stuck:
                    return entry.name
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.name, dir_fd=folder)
    return None
