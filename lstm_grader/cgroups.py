"""Limits for a grading sandbox as a whole, through the host's control groups.

A per-process limit (``setrlimit``) is undone by forking: ten processes of 1 GiB each
stay under a 2 GiB address-space limit. A control group counts the whole sandbox:
every process, thread and page it creates, including the files it keeps in its tmpfs.

Both layouts are supported: cgroup v1 (one hierarchy per controller, as on this kit's CI
machine, where ``memory``, ``pids``, ``cpu`` and ``cpuacct`` are writable by root) and the
unified cgroup v2 tree (where the grader's own group must have the controllers delegated).
Each sandbox gets a group of its own under the grader's own group, so a container's or a
systemd unit's limits still bound it. What cannot be applied is said, never skipped in
silence: :attr:`ControlGroup.not_applied` names each missing limit and why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lstm_grader import owners

#: Where a host mounts its control groups.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: How a sandbox's group is named: this, then its maker's owner tag (:mod:`owners`).
GROUP_PREFIX = "lstm-grade-"
#: The cgroup v1 hierarchies a sandbox's group is made in.
_V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
_CPU_PERIOD_US = 100_000
#: What share of the memory limit a cgroup v1 sandbox's TCP buffers may hold. v1 counts
#: them apart from the memory limit and not at all until a limit is set: a sandbox of
#: 512 MiB held 1.1 GB of them over its own loopback, and the host's TCP connections all
#: share one budget (``net.ipv4.tcp_mem``), past which none of them can send. No notebook
#: needs TCP; an eighth keeps the sandbox as a whole near its memory limit.
TCP_SHARE_V1 = 8


@dataclass(frozen=True)
class Limits:
    """The numbers that bound one sandbox as a whole.

    Attributes
    ----------
    memory_bytes : int
        Resident memory of every process in the sandbox together, its tmpfs files included.
    processes : int
        Processes and threads alive at once.
    cpus : float
        CPU cores the sandbox may keep busy at once (1.0: one core).
    """

    memory_bytes: int
    processes: int
    cpus: float


@dataclass
class Usage:
    """What a sandbox used, read from its control group.

    Attributes
    ----------
    cpu_seconds : float or None
        CPU time of every process together.
    memory_limit_hit : bool
        The memory limit was reached (the kernel reclaimed or killed to stay under it).
    oom_kills : int
        Processes the kernel killed to keep the sandbox under its memory limit.
    process_limit_hit : bool
        A fork or thread creation failed at the process limit.
    """

    cpu_seconds: float | None = None
    memory_limit_hit: bool = False
    oom_kills: int = 0
    process_limit_hit: bool = False


@dataclass
class ControlGroup:
    """One sandbox's control groups: created with limits, joined, read, then removed.

    Attributes
    ----------
    directories : dict of str to Path
        The group's folder for each controller that could be used (``memory``,
        ``pids``, ``cpu``, ``cpuacct``); one shared folder on cgroup v2.
    version : int
        1 or 2; 0 when no controller could be used.
    applied : list of str
        Each limit that is in force, in words.
    not_applied : list of str
        Each limit that is not, with the reason.
    """

    directories: dict[str, Path] = field(default_factory=dict)
    version: int = 0
    applied: list[str] = field(default_factory=list)
    not_applied: list[str] = field(default_factory=list)

    @property
    def bounds_memory(self) -> bool:
        """Whether the group limits the memory of the whole sandbox."""
        return any(words.startswith("memory:") for words in self.applied)

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files a starting process writes its pid into to join."""
        return sorted({str(folder / "cgroup.procs") for folder in self.directories.values()})

    def usage(self) -> Usage:
        """Read what the sandbox has used so far (never raises)."""
        found = Usage()
        if self.version == 1:
            memory = self.directories.get("memory")
            if memory is not None:
                found.oom_kills = _read_keyed(memory / "memory.oom_control").get("oom_kill", 0)
                found.memory_limit_hit = (
                    found.oom_kills > 0 or (_read_int(memory / "memory.failcnt") or 0) > 0
                )
            pids = self.directories.get("pids")
            if pids is not None:
                found.process_limit_hit = _read_keyed(pids / "pids.events").get("max", 0) > 0
        elif self.version == 2:
            folder = self.directories["unified"]
            events = _read_keyed(folder / "memory.events")
            found.oom_kills = events.get("oom_kill", 0)
            found.memory_limit_hit = found.oom_kills > 0 or events.get("max", 0) > 0
            found.process_limit_hit = _read_keyed(folder / "pids.events").get("max", 0) > 0
        found.cpu_seconds = self.cpu_seconds()
        return found

    def cpu_seconds(self) -> float | None:
        """The CPU time every process of the group used so far, in seconds, from the one
        file that counts it (``cpuacct.usage``, ``cpu.stat``); None where it cannot be read.
        Read on its own where only the CPU matters: :meth:`usage` reads every counter."""
        if self.version == 1:
            cpuacct = self.directories.get("cpuacct")
            nanoseconds = None if cpuacct is None else _read_int(cpuacct / "cpuacct.usage")
            return None if nanoseconds is None else nanoseconds / 1e9
        if self.version == 2:
            microseconds = _read_keyed(self.directories["unified"] / "cpu.stat").get("usage_usec")
            return None if microseconds is None else microseconds / 1e6
        return None

    def thread_ids(self) -> list[int] | None:
        """The id of every thread of every process in the group now, as the host's kernel
        lists them in one file (``tasks`` on v1, ``cgroup.threads`` on v2): no process
        in the group can leave it or forge the list. None where it cannot be read."""
        if self.version == 2:
            listing = self.directories["unified"] / "cgroup.threads"
        elif self.version == 1 and self.directories:
            # a sandbox's processes join the group of every controller, so any one lists them
            listing = next(iter(self.directories.values())) / "tasks"
        else:
            return None
        try:
            return [int(tid) for tid in read_small(listing).split()]
        except (OSError, ValueError):
            return None

    def kill_all(self, timeout: float = 1.0) -> None:
        """SIGKILL every process left in the group (a kernel's orphans included), until
        the group is empty or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        # a killed process leaves the group within a millisecond or two: look again soon,
        # then less often, so that grading does not wait a fixed time per sandbox
        pause = 0.001
        while True:
            pids = set()
            for procs in self.procs_files:
                with contextlib.suppress(OSError, ValueError):
                    pids.update(int(line) for line in Path(procs).read_text().split())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() >= deadline:
                return
            time.sleep(pause)
            pause = min(2 * pause, 0.02)

    def remove(self) -> None:
        """Kill what is left and remove the group's folders."""
        self.kill_all()
        for folder in set(self.directories.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # still busy for a moment after its last process died
                    time.sleep(0.02)


def create(limits: Limits, root: Path = CGROUP_ROOT) -> ControlGroup:
    """Create a control group for one sandbox, with as many of the limits as the host allows.

    Parameters
    ----------
    limits : Limits
        The whole-sandbox limits.
    root : Path
        Where the host mounts its control groups (a test may point elsewhere).

    Returns
    -------
    ControlGroup
        Its ``not_applied`` lists each limit the host would not take, with the reason.
    """
    # the owner tag lets a later grader remove the group if this process is killed
    name = f"{GROUP_PREFIX}{owners.owner_tag()}-{uuid.uuid4().hex[:8]}"
    if (root / "cgroup.controllers").exists():
        return _create_v2(limits, root, name)
    return _create_v1(limits, root, name)


def remove_stale(root: Path = CGROUP_ROOT) -> list[Path]:
    """Remove the sandbox groups a killed grader left (its process gone, the group older
    than :data:`~lstm_grader.owners.STALE_AFTER_S`): empty folders only, since a group
    that still holds a process cannot be removed.

    Parameters
    ----------
    root : Path
        Where the host mounts its control groups.

    Returns
    -------
    list of Path
        The folders removed.
    """
    if (root / "cgroup.controllers").exists():
        parents = [root / _own_path("").lstrip("/")]
    else:
        parents = [
            root / controller / _own_path(controller).lstrip("/") for controller in _V1_CONTROLLERS
        ]
    removed = []
    for folder in owners.leftovers(parents, GROUP_PREFIX):
        with contextlib.suppress(OSError):
            folder.rmdir()
            removed.append(folder)
    return removed


def memory_limit(root: Path = CGROUP_ROOT) -> int | None:
    """The memory limit, in bytes, of the control group this process runs in (a
    container's, a systemd unit's), or None where it has none or none can be read."""
    candidates = [
        root / "memory" / _own_path("memory").lstrip("/") / "memory.limit_in_bytes",
        root / "memory" / "memory.limit_in_bytes",
        root / _own_path("").lstrip("/") / "memory.max",
        root / "memory.max",
    ]
    # "max" (v2) reads as no number; v1 writes "no limit" as a number near 2**63
    limits = [n for n in map(_read_int, candidates) if n is not None and n < 2**60]
    return min(limits, default=None)


def _own_path(controller: str) -> str:
    """This process's group in one hierarchy (``""`` on v2), from ``/proc/self/cgroup``."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path
    return "/"


def _create_v1(limits: Limits, root: Path, name: str) -> ControlGroup:
    group = ControlGroup(version=1)
    wanted = {
        "memory": (
            f"memory: {limits.memory_bytes // 2**20} MiB for the whole sandbox",
            [
                ("memory.limit_in_bytes", limits.memory_bytes),
                ("memory.memsw.limit_in_bytes", limits.memory_bytes),
            ],
        ),
        "pids": (
            f"processes: {limits.processes} at once",
            [("pids.max", limits.processes)],
        ),
        "cpu": (
            f"cpu: {limits.cpus:g} core(s) at once",
            [
                ("cpu.cfs_period_us", _CPU_PERIOD_US),
                ("cpu.cfs_quota_us", int(limits.cpus * _CPU_PERIOD_US)),
            ],
        ),
        "cpuacct": ("cpu time: counted for the whole sandbox", []),
    }
    for controller, (words, settings) in wanted.items():
        hierarchy = root / controller
        if not hierarchy.is_dir():
            group.not_applied.append(f"{words.split(':')[0]}: no {controller} control group")
            continue
        folder = hierarchy / _own_path(controller).lstrip("/") / name
        try:
            folder.mkdir()
            for setting, value in settings:
                target = folder / setting
                if target.exists() or setting != "memory.memsw.limit_in_bytes":
                    target.write_text(str(value))
            tcp = folder / "memory.kmem.tcp.limit_in_bytes"
            if controller == "memory" and tcp.exists():
                tcp_bytes = limits.memory_bytes // TCP_SHARE_V1
                tcp.write_text(str(tcp_bytes))
                words += f", and {tcp_bytes // 2**20} MiB of TCP buffers beside it"
        except OSError as exc:
            with contextlib.suppress(OSError):
                folder.rmdir()
            group.not_applied.append(
                f"{words.split(':')[0]}: {controller} control group not "
                f"writable ({exc.strerror or exc})"
            )
            continue
        group.directories[controller] = folder
        group.applied.append(words)
    if not group.directories:
        group.version = 0
    return group


def _create_v2(limits: Limits, root: Path, name: str) -> ControlGroup:
    group = ControlGroup(version=2)
    parent = root / _own_path("").lstrip("/")
    needed = ("memory", "pids", "cpu")
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        missing = [c for c in needed if c not in enabled]
        if missing:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))
        folder = parent / name
        folder.mkdir()
    except OSError as exc:
        group.version = 0
        group.not_applied += [
            f"{c}: cgroup v2 controllers not delegated to the grader ({exc.strerror or exc})"
            for c in ("memory", "processes", "cpu")
        ]
        return group
    group.directories["unified"] = folder
    settings = [
        (
            "memory",
            f"memory: {limits.memory_bytes // 2**20} MiB for the whole sandbox",
            [("memory.max", limits.memory_bytes), ("memory.swap.max", 0)],
        ),
        ("processes", f"processes: {limits.processes} at once", [("pids.max", limits.processes)]),
        (
            "cpu",
            f"cpu: {limits.cpus:g} core(s) at once",
            [("cpu.max", f"{int(limits.cpus * _CPU_PERIOD_US)} {_CPU_PERIOD_US}")],
        ),
    ]
    for what, words, files in settings:
        try:
            for setting, value in files:
                target = folder / setting
                if target.exists() or setting != "memory.swap.max":
                    target.write_text(str(value))
        except OSError as exc:
            group.not_applied.append(f"{what}: {exc.strerror or exc}")
            continue
        group.applied.append(words)
    return group


def read_small(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a small file the host's kernel writes (a control group's counter or
    thread listing, a thread's ``schedstat``), read without Python's file objects: grading
    reads several after every cell.

    Parameters
    ----------
    path : str or path-like
        The file, under ``/sys/fs/cgroup`` or ``/proc``.
    limit : int, optional
        The most bytes read, in one read, for a record the kernel hands over whole (a
        thread's ``schedstat``): what lies past them is never read. None reads to the end,
        in as many reads as it takes (a listing of many threads comes in more than one).

    Returns
    -------
    bytes
        The file's first ``limit`` bytes, or all of them.

    Raises
    ------
    OSError
        When the file cannot be opened or read (a group removed, a thread ended).
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        if limit is not None:
            # one read per thread and cell, as before the bound was shared: no second
            # read to find the end of a record that came whole
            return os.read(fd, limit)
        chunks = [os.read(fd, _READ_BYTES)]
        while chunks[-1]:  # a listing may come in more than one read
            chunks.append(os.read(fd, _READ_BYTES))
        return b"".join(chunks)
    finally:
        os.close(fd)


#: The bytes :func:`read_small` asks for at once.
_READ_BYTES = 65536


def _read_int(path: Path) -> int | None:
    try:
        return int(read_small(path).split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _read_keyed(path: Path) -> dict[str, int]:
    """Read a ``key value`` per line file (``memory.events``, ``pids.events``, ...)."""
    found: dict[str, int] = {}
    try:
        text = read_small(path).decode("ascii", "replace")
    except OSError:
        return found
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            with contextlib.suppress(ValueError):
                found[parts[0]] = int(parts[1])
    return found
