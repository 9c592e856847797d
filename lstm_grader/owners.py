"""Which process made a sandbox's leftovers, and whether it is gone.

A sandbox's control group and private folder are removed by the process that made
them, when its kernel shuts down. A process killed outright (a Dask worker killed
mid-notebook, a grader stopped with SIGKILL) removes nothing, and without more each such
death would leave a group and a folder behind for good. Their names therefore carry an
owner tag, the maker's pid and start time (:func:`owner_tag`), and a later grader removes
what a gone owner left (:func:`leftovers`). The start time tells a reused pid from its
first owner.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

#: How old a leftover must be before it is removed. Only a gone owner's leftovers are
#: removed; the age also spares one whose owner this process cannot see (another pid
#: namespace sharing the folder) while it may still be in use.
STALE_AFTER_S = 3600.0

_TAG = re.compile(r"^(?P<pid>[0-9]+)-(?P<start>[0-9]+)-")

#: The temporary folders grading makes, each named ``lstm-grade-<kind>-<owner tag>-...``:
#: a kernel's private folder, the sandbox probe's, a Dask job's copy of the course (with
#: its solutions) and a Dask worker's helper's working folder.
TEMPORARY_KINDS = ("kernel", "probe", "job", "helper")


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), None if there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # the command name, in parentheses, may hold spaces: the fields after it are fixed
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def owner_tag(pid: int | None = None) -> str:
    """``"<pid>-<start time>"`` of this process (or of ``pid``), for a leftover's name.

    Examples
    --------
    >>> owner_tag().startswith(f"{os.getpid()}-")
    True
    """
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_time(pid) or 0}"


def temporary_prefix(kind: str) -> str:
    """The name prefix of a temporary folder of ``kind`` (:data:`TEMPORARY_KINDS`) made
    by this process, for ``tempfile``'s ``prefix``."""
    return f"{_kind_prefix(kind)}{owner_tag()}-"


def _kind_prefix(kind: str) -> str:
    if kind not in TEMPORARY_KINDS:
        raise ValueError(f"not a kind of grading folder: {kind!r}")
    return f"lstm-grade-{kind}-"


def stale_temporary_folders(parents: Iterable[Path], now: float | None = None) -> list[Path]:
    """Every kind of temporary grading folder in ``parents`` that a gone owner left
    (:func:`leftovers`)."""
    unique = list(dict.fromkeys(parents))
    return [path for kind in TEMPORARY_KINDS for path in leftovers(unique, _kind_prefix(kind), now)]


def owner_gone(tag_and_rest: str) -> bool:
    """Whether the owner named at the start of ``tag_and_rest`` (``"<pid>-<start>-..."``)
    no longer runs. A name with no owner tag (made before tags were) counts as gone."""
    match = _TAG.match(tag_and_rest)
    if match is None:
        return True
    return _start_time(int(match["pid"])) != match["start"]


def leftovers(folders: Iterable[Path], prefix: str, now: float | None = None) -> Iterator[Path]:
    """The entries of ``folders`` named ``prefix`` + an owner tag whose owner is gone and
    that are older than :data:`STALE_AFTER_S` (by their modification time)."""
    now = time.time() if now is None else now
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.startswith(prefix) or not owner_gone(name[len(prefix) :]):
                continue
            path = folder / name
            try:
                age = now - path.lstat().st_mtime
            except OSError:
                continue
            if age > STALE_AFTER_S:
                yield path
