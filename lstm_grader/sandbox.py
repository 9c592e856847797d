"""Start the grading kernel in a sandbox that holds no privilege on the host.

What the kernel gets:

- an **unprivileged identity**: a uid of its own when the grader runs as root (see
  :func:`claim_kernel_identity`), the grader's own uid otherwise; no capabilities, an empty
  bounding set, ``no_new_privs``, a user namespace in which it cannot create another one,
  and a new session (no terminal to inject keystrokes into);
- a **mount namespace of read-only binds**: ``/usr``, the Python installation and this
  environment's packages, and the grader's own ``lstm_lib`` at
  :data:`COURSE_LIBRARY_MOUNT`; never the course directory (``solutions/``,
  ``references/``, the gradebook, other learners); ``/proc/sys`` read-only; a ``/dev``
  of its own whose standard nodes (``null``, ``zero``, ``full``, ``random``,
  ``urandom``, a private ``pts``) are the only device files it can open;
- an ``/etc`` of its own: the host's entries a Python program reads (:data:`HOST_ETC`:
  the linker's cache, time zone, fonts, certificates) and an account file that names the
  kernel's uid (:func:`write_etc`), never the host's accounts or configuration; and the
  configuration folders inside the bound trees (each installation's ``etc``, Jupyter's
  configuration path) hidden behind empty ones (:func:`grader_config_folders`), where an
  instructor's ``nbgrader_config.py`` may hold the gradebook's password;
- a **throwaway working folder** on a size-limited tmpfs: the regular files of the
  submission (never links or special files), and the release's files it lacks
  (:func:`submission_files`), are bound into it read-only, and whatever
  the kernel writes vanishes with it, so nothing it creates can be met by the grader;
- **no network** (ZMQ runs over ``ipc`` sockets in a private folder on a tmpfs, taken
  back from the kernel once it is up: :meth:`SandboxProvisioner.seal_kernel_folder`; a
  seccomp filter, :mod:`lstm_grader.syscall_filter`, refuses the socket families no
  network namespace isolates, ``AF_VSOCK`` among them, ``io_uring``, the kernel's
  keyrings, where the grader's session keyring would be the kernel's too, and
  ``userfaultfd``, ``perf_event_open`` and ``bpf``), and
  its own stdout and stderr go to a pipe that keeps only their end (:class:`_OutputTail`);
- a **clean environment**: only :data:`PASSED_THROUGH` and :data:`FIXED_ENVIRONMENT`;
- **limits for the whole sandbox** through control groups (memory, processes, CPU; see
  :mod:`lstm_grader.cgroups`), plus per-process limits (address space, CPU time, file
  size, open files, no core dumps), a tmpfs size for ``/tmp`` and ``/dev/shm``, and a count
  of the files they may hold, read after each cell (each file takes kernel memory no size
  counts); where no control group bounds the memory, one process with its threads and no
  other, and no memory file or System V segment, semaphore set or message queue (the same
  seccomp filter), so one address-space limit bounds all but what one cell's files take.

As root, bubblewrap builds the mounts with root's rights (so a Python under ``/root``
works), then ``setpriv`` drops to the sandbox uid, and a second, unprivileged bubblewrap
adds the user namespace that forbids further namespaces. As an ordinary user one
unprivileged bubblewrap does all of it; the kernel then owns the folders bubblewrap makes
and its private folder, so Landlock (:mod:`lstm_grader.landlock`) keeps its files in the
two size-limited tmpfs and its sockets in the private folder, and, once ipykernel has bound
its own there, a second seccomp filter lets it bind no other
(:func:`lstm_grader.syscall_filter.sealing_program`).

If the sandbox cannot be built, no kernel starts: grading stops with
:data:`CANNOT_SANDBOX`, unless the instructor passes the explicit unsafe switch
(``LSTM_GRADER_UNSAFE_NO_SANDBOX=1``, or ``lstm-grade --unsafe-no-sandbox``), which
grades without isolation, says so loudly, and still drops root and applies the limits.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import hashlib
import importlib.util
import json
import logging
import os
import queue
import random
import resource
import shutil
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from traitlets import Float, Instance, Integer, Type, Unicode, default

from lstm_grader import cgroups, landlock, owners, report, safefiles, syscall_filter
from lstm_grader.kernel_messages import CheckedChannel, RefusedMessages

log = logging.getLogger(__name__)

#: Set to ``1`` to grade even where the sandbox cannot be built (loud, never silent).
UNSAFE_SWITCH = "LSTM_GRADER_UNSAFE_NO_SANDBOX"
#: Names another ``bwrap`` binary, or ``none`` to act as if bubblewrap were missing.
BWRAP_VARIABLE = "LSTM_GRADER_BWRAP"
#: As root, each kernel runs as a uid and gid of its own from this range, ids no account,
#: file or group on a usual host has (claimed in :func:`claim_kernel_identity`). Linux keeps
#: some quotas per uid across every namespace (epoll watches, pipe buffers, keys): one uid
#: for all kernels would let one learner's kernel use up another's, which then dies.
SANDBOX_UIDS = range(2_000_000_000, 2_000_000_000 + 2**24)
#: Where the uids in use are claimed, one empty file each, under the kernels' tmpfs.
UID_CLAIMS = "lstm-grade-uids"
#: Where the grader's own ``lstm_lib`` appears inside the sandbox (first on ``sys.path``).
COURSE_LIBRARY_MOUNT = "/opt/lstm-course/lib"
#: Where a grader that is not root shows the kernel its private folder: outside /tmp and
#: /dev/shm, the folders Landlock leaves it to write (see :func:`_write_restriction`).
KERNEL_FOLDER_MOUNT = "/run/lstm-grade-kernel"
#: The host's ``/etc`` entries the kernel sees (shell patterns): what the dynamic linker,
#: Python, numpy, matplotlib and TensorFlow read there. The rest of the host's ``/etc`` (its
#: accounts, its hostname, its services' configuration, an ``/etc/jupyter`` with the
#: grader's settings) is not there at all.
HOST_ETC = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "crypto-policies",
    "debian_version",
    "fonts",
    "gai.conf",
    "host.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "lsb-release",
    "mime.types",
    "os-release",
    "pki",
    "protocols",
    "python3*",
    "redhat-release",
    "services",
    "ssl/certs",
    "ssl/openssl.cnf",
    "system-release",
    "timezone",
)
#: The account name the kernel's uid has inside the sandbox (``getpass.getuser()``).
SANDBOX_ACCOUNT = "learner"
#: The sandbox's host name (its own UTS namespace), in place of the grading host's.
SANDBOX_HOSTNAME = "grading-sandbox"
#: Variables copied from the grader's environment; nothing else reaches the kernel.
#: OPENBLAS_* select a CPU kernel some hosts need for correct results;
#: NBGRADER_EXECUTION tells the notebook it is being graded (no TensorFlow).
PASSED_THROUGH = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "NBGRADER_EXECUTION",
)
#: Variables the kernel always gets: one thread per numeric library (the sandbox has one
#: core), a home in its own tmpfs, no user site-packages, the grader's lstm_lib first.
#: TensorFlow sizes its two thread pools by the host's cores, not the sandbox's one, and
#: the process limit counts threads: on a host of 32 cores or more a learner's Keras cell
#: would pass it and the kernel die.
FIXED_ENVIRONMENT = {
    "HOME": "/tmp",
    "MPLCONFIGDIR": "/tmp/.matplotlib",
    "PYTHONPATH": COURSE_LIBRARY_MOUNT,
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}

CANNOT_SANDBOX = (
    "Refusing to grade: the grading sandbox cannot be built here ({why}). A learner's "
    "notebook would run with the grader's rights and could read the solutions, the "
    "references, the gradebook and other learners' work. Install bubblewrap (Debian: "
    "apt-get install bubblewrap) and allow user namespaces, or, on a machine you accept "
    f"to expose, set {UNSAFE_SWITCH}=1 (lstm-grade --unsafe-no-sandbox)."
)
NO_SANDBOX_WARNING = (
    "!! NO SANDBOX ({why}): grading anyway because {switch}=1. The grading kernel can "
    "read the course directory, the gradebook and other submissions, and reach the "
    "network. The limits still apply. !!"
)


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be built and the unsafe switch is off: nothing is graded."""


@dataclass(frozen=True)
class Identity:
    """Who the kernel runs as on the host."""

    uid: int
    gid: int

    @property
    def drops_root(self) -> bool:
        """Whether starting the kernel changes identity (the grader is root)."""
        return os.geteuid() == 0


def sandbox_identity() -> Identity:
    """The kind of unprivileged identity grading kernels run as.

    As root: the first id of :data:`SANDBOX_UIDS` (each kernel then gets one of its own,
    see :func:`claim_kernel_identity`). As anyone else: the grader's own ids, which hold no
    privilege.
    """
    if os.geteuid() != 0:
        return Identity(os.getuid(), os.getgid())
    return Identity(SANDBOX_UIDS.start, SANDBOX_UIDS.start)


def _sandbox_group(limits: cgroups.Limits) -> cgroups.ControlGroup:
    """A new sandbox's control group, with as many of ``limits`` as this grader may set."""
    if os.geteuid() == 0 or os.path.exists(cgroups.CGROUP_ROOT / "cgroup.controllers"):
        return cgroups.create(limits)
    return cgroups.ControlGroup(
        not_applied=[
            "memory, processes and cpu for the whole sandbox: the grader is not root and "
            "has no control group of its own to divide"
        ]
    )


def _bounds_processes(group: cgroups.ControlGroup) -> bool:
    """Whether a control group counts the sandbox's processes; without one, RLIMIT_NPROC
    does, which counts every task of the kernel's uid."""
    return "pids" in group.directories or "unified" in group.directories


def _kernels_take_turns(identity: Identity, group: cgroups.ControlGroup) -> bool:
    """Whether a kernel running as ``identity`` in ``group`` must wait for its turn
    (:class:`KernelTurn`): RLIMIT_NPROC would count every task of the grader's own uid,
    whoever started them, so another kernel's threads would leave it no room. Root's
    kernels each have a uid of their own, and a control group counts its own."""
    return not identity.drops_root and not _bounds_processes(group)


def kernels_share_a_process_limit() -> bool:
    """Whether the kernels this grader starts would share one count of processes, so that
    one kernel's threads take the room of any other running beside it.

    As root, each kernel runs as a uid of its own (:func:`claim_kernel_identity`). An
    ordinary user's kernels run as that user, and where no control group of the grader's
    own counts a sandbox's processes, RLIMIT_NPROC bounds them: it counts every task of
    the uid, and a kernel's limit is set from the count when it starts. A kernel that
    started threads up to its limit left a classmate's kernel, started a moment before,
    no room for the thread pool of a cell that is right, which then scored 0 as graded.

    Returns
    -------
    bool
        True for an ordinary user's grader without a control group of its own that counts
        processes (found by making one, which is removed at once).
    """
    if os.geteuid() == 0:  # known without making a group: each kernel has a uid of its own
        return False
    probe = _sandbox_group(cgroups.Limits(memory_bytes=2**30, processes=64, cpus=1))
    try:
        return _kernels_take_turns(sandbox_identity(), probe)
    finally:
        probe.remove()


def claim_kernel_identity() -> tuple[Identity, str | None]:
    """The identity one kernel runs as, and the claim to release when it is gone.

    As root, a uid (and gid) of :data:`SANDBOX_UIDS` no other live kernel on the host has:
    claimed by creating ``<kernels' tmpfs>/lstm-grade-uids/<uid>`` exclusively. As anyone
    else, the grader's own ids (kernels then share them) and no claim.
    """
    identity = sandbox_identity()
    if not identity.drops_root:
        return identity, None
    claims = _uid_claims_folder()
    with contextlib.suppress(FileExistsError):
        os.mkdir(claims, 0o700)
    if os.path.islink(claims) or os.stat(claims).st_uid != 0:
        raise SandboxUnavailable(f"{claims} is not root's own folder: no uid can be claimed")
    chooser = random.SystemRandom()
    for _ in range(100):
        uid = chooser.choice(SANDBOX_UIDS)
        claim = os.path.join(claims, str(uid))
        try:
            os.close(os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        except FileExistsError:
            continue
        return Identity(uid, uid), claim
    raise SandboxUnavailable(f"no free uid in {claims}: remove the claims no kernel holds")


def release_kernel_identity(claim: str | None) -> None:
    """Give back a uid claimed by :func:`claim_kernel_identity` (its kernel is gone)."""
    if claim is not None:
        with contextlib.suppress(OSError):
            os.unlink(claim)


#: The folder, in the uid's home, where an ordinary user's kernels take turns (see
#: :class:`KernelTurn`). The home is the password database's, never $HOME nor /tmp: every
#: grader of the uid on the host (cron, systemd with PrivateTmp, a Dask worker, nbgrader
#: autograde) finds the same folder whatever its environment, and no other user may make
#: it first.
TURN_FOLDER_NAME = ".lstm-grade-turns"
#: How often a kernel waiting for its turn asks again, in seconds.
TURN_POLL_S = 0.2


def _password_home(uid: int) -> str | None:
    """The home the password database gives ``uid``, or None if it has no entry."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir or None
    except KeyError:
        return None


class KernelTurn:
    """One uid's turn to run a grading kernel on this host: a ``flock`` on a file of a
    folder in the uid's home that only that uid may write, held while the kernel lives.

    Where the kernels of an ordinary user share one limit on processes
    (:func:`kernels_share_a_process_limit`), one kernel's threads take the room of any
    other running beside it, whoever started it: a second ``lstm-grade`` run, a Dask
    worker process, ``nbgrader autograde``. Each of them starts its kernel through
    :class:`SandboxProvisioner`, which takes the turn first, so no two such kernels run at
    once. The lock is the kernel's file's own: it ends with the descriptor, so a grader
    that is killed gives the turn back with its kernel, and nothing is left to clean. The
    descriptor is closed on exec, so no kernel holds it.
    """

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    @staticmethod
    def folder(uid: int) -> str:
        """Where the kernels of ``uid`` take turns.

        Raises
        ------
        SandboxUnavailable
            If the password database has no home for ``uid``.
        """
        home = _password_home(uid)
        if home is None:
            raise SandboxUnavailable(
                f"uid {uid} has no entry in the password database, so no home where its "
                "grading kernels can take turns: grade as a user with a home"
            )
        return os.path.join(home, TURN_FOLDER_NAME)

    @classmethod
    def _open(cls, uid: int) -> int:
        """The turn file of ``uid``, opened without following any link, in a folder that
        is ``uid``'s own and that no one else may write, in a home that only ``uid`` or
        root may write."""
        folder = cls.folder(uid)
        home = os.path.dirname(folder)
        try:
            # the home's path is the password database's (root's word): it may be a link
            home_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise SandboxUnavailable(
                f"the home of uid {uid}, {home}, cannot be opened ({exc.strerror}): its "
                "grading kernels cannot take turns (give the user a home)"
            ) from exc
        try:
            info = os.fstat(home_fd)
            if info.st_uid not in (uid, 0) or info.st_mode & 0o022:
                raise SandboxUnavailable(
                    f"the home of uid {uid}, {home}, is not the user's (or root's) alone to "
                    "write: its grading kernels cannot take turns there (chmod go-w it)"
                )
            return cls._open_in_home(uid, home_fd, folder)
        finally:
            os.close(home_fd)

    @staticmethod
    def _open_in_home(uid: int, home_fd: int, folder: str) -> int:
        refused = SandboxUnavailable(
            f"{folder} is not a folder of uid {uid}'s own that only it may write: its "
            f"kernels cannot take turns (make it: mkdir -m 700 {folder}, owned by uid "
            f"{uid}, and grade again)"
        )
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(TURN_FOLDER_NAME, 0o700, dir_fd=home_fd)
            parent = os.open(
                TURN_FOLDER_NAME,
                os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                dir_fd=home_fd,
            )
        except OSError as exc:  # a link (ELOOP), not a folder, or a home it may not write
            raise refused from exc
        try:
            info = os.fstat(parent)
            if info.st_uid != uid or info.st_mode & 0o022:
                raise refused
            descriptor = os.open(
                "kernels.lock",
                os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=parent,
            )
        except OSError as exc:
            raise refused from exc
        finally:
            os.close(parent)
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != uid:
            os.close(descriptor)
            raise refused
        return descriptor

    @classmethod
    def try_take(cls, uid: int) -> KernelTurn | None:
        """The turn of ``uid``'s kernels if no other holds it now, else None.

        Raises
        ------
        SandboxUnavailable
            If the turn's folder or file is not ``uid``'s own (a link, another's).
        """
        import fcntl

        descriptor = cls._open(uid)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return None
        except BaseException:
            os.close(descriptor)
            raise
        return cls(descriptor)

    @classmethod
    async def take(cls, uid: int, on_wait: Callable[[], None] | None = None) -> KernelTurn:
        """Wait, without holding up the event loop, for the turn of ``uid``'s kernels.

        ``on_wait`` is called once, when the turn is first found taken.
        """
        import asyncio

        while (turn := cls.try_take(uid)) is None:
            if on_wait is not None:
                on_wait()
                on_wait = None
            await asyncio.sleep(TURN_POLL_S)
        return turn

    def release(self) -> None:
        """Give the turn back (the kernel is gone); a second call does nothing."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def __del__(self) -> None:
        self.release()


#: The environment variable naming the file where the kernels a grading process starts
#: note when they waited for their turn (``<pid> <start> <end>`` lines, monotonic
#: seconds; ``-`` while it lasts). ``lstm-grade`` sets it, so that its limit per
#: submission (``--timeout``) does not count a wait for another grader of the user.
TURN_WAITS_ENV = "LSTM_GRADE_TURN_WAITS"


def _note_turn_wait(started: float, ended: float | None) -> None:
    """Note a wait for the turn in the file :data:`TURN_WAITS_ENV` names, if any."""
    path = os.environ.get(TURN_WAITS_ENV)
    if not path:
        return
    with contextlib.suppress(OSError), open(path, "a", encoding="ascii") as notes:
        notes.write(f"{os.getpid()} {started!r} {'-' if ended is None else repr(ended)}\n")


def turn_waited_s(path: str | os.PathLike[str], pid: int, since: float) -> float:
    """Seconds, after the monotonic time ``since``, that process ``pid``'s kernels spent
    waiting for their turn, as noted in ``path`` (see :data:`TURN_WAITS_ENV`); a wait
    that lasts counts until now."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0.0
    now = time.monotonic()
    lasting: dict[float, float] = {}
    ended: dict[float, float] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 3 or fields[0] != str(pid):
            continue
        try:
            start = float(fields[1])
            if fields[2] == "-":
                lasting[start] = now
            else:
                ended[start] = float(fields[2])
        except ValueError:
            continue
    waits = lasting | ended  # a wait noted as over is over
    return sum(max(0.0, min(end, now) - max(start, since)) for start, end in waits.items())


async def _take_turn(uid: int) -> tuple[KernelTurn, float]:
    """Wait for the turn of ``uid``'s kernels: the turn, and the seconds waited for it.

    A wait is said once per process and noted (see :data:`TURN_WAITS_ENV`) as it begins
    and as it ends, however it ends: a wait given up (refused, cancelled) is over too.
    """
    asked = time.monotonic()
    waited: list[bool] = []

    def note_the_wait() -> None:
        _say_why_a_kernel_waits()
        _note_turn_wait(asked, None)
        waited.append(True)

    try:
        turn = await KernelTurn.take(uid, note_the_wait)
    finally:
        if waited:
            _note_turn_wait(asked, time.monotonic())
    return turn, time.monotonic() - asked


#: Said once per process when a kernel waits for its turn.
_TURN_WAIT_SAID: list[bool] = []


def _say_why_a_kernel_waits() -> None:
    if not _TURN_WAIT_SAID:
        _TURN_WAIT_SAID.append(True)
        log.warning(
            "Waiting for this user's other grading kernel to end: the kernels of an ordinary "
            "user without a control group of its own share one limit on processes, so they "
            "run one at a time on this host (the wait is not counted against the notebook's "
            "time)"
        )


def unsafe_allowed() -> bool:
    """Whether the instructor passed the explicit switch to grade without a sandbox."""
    return os.environ.get(UNSAFE_SWITCH, "").strip().lower() in ("1", "true", "yes")


def bwrap_path() -> str | None:
    """The ``bwrap`` to use, or None (missing, or :data:`BWRAP_VARIABLE` is ``none``)."""
    configured = os.environ.get(BWRAP_VARIABLE, "")
    if configured.lower() == "none":
        return None
    return shutil.which(configured or "bwrap")


@functools.cache
def sandbox_problem() -> str | None:
    """Why the sandbox cannot be built on this host, or None when it can.

    Builds the real sandbox once (cached per process) around ``true``.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing, so root cannot be dropped"
    with tempfile.TemporaryDirectory(prefix=owners.temporary_prefix("probe")) as folder:
        os.chmod(folder, 0o755)
        command = _bwrap_command(
            ["true"],
            bwrap=bwrap,
            identity=sandbox_identity(),
            kernel_dir=folder,
            workdir="/tmp/probe",
            seed_files=[],
            environment={},
            disk_bytes=2**20,
            etc=write_etc(folder, sandbox_identity()),
        )
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=30, env={"PATH": os.defpath}
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap could not start ({exc})"
    if result.returncode != 0:
        return f"bubblewrap failed: {result.stderr.strip()[:300] or result.returncode}"
    return None


@functools.cache
def warn_no_sandbox_once(why: str) -> None:
    """Print the no-sandbox warning to the log and to stderr, once per process."""
    message = NO_SANDBOX_WARNING.format(why=why, switch=UNSAFE_SWITCH)
    log.warning(message)
    print(message, file=sys.stderr, flush=True)


def check_can_grade() -> str | None:
    """Raise :class:`SandboxUnavailable` unless grading may go on; return the reason
    the sandbox is missing when the unsafe switch lets it go on without one."""
    problem = sandbox_problem()
    if problem is None:
        return None
    if not unsafe_allowed():
        raise SandboxUnavailable(CANNOT_SANDBOX.format(why=problem))
    warn_no_sandbox_once(problem)
    return problem


def course_library_folder() -> str:
    """The folder holding the ``lstm_lib`` package this grader process uses."""
    module = sys.modules.get("lstm_lib")
    locations = list(getattr(module, "__path__", []) or [])
    if not locations:
        spec = importlib.util.find_spec("lstm_lib")
        locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise SandboxUnavailable("lstm_lib cannot be found by the grader itself")
    return os.path.realpath(locations[0])


def compile_library(folder: str) -> bool:
    """Write the bytecode of the ``lstm_lib`` in ``folder`` beside it, where it is stale or
    missing; whether every module has it now.

    The kernel sees that ``lstm_lib`` read-only, so it can never cache its own bytecode and
    would compile the package again on every start: about a tenth of a CPU second for each
    notebook graded. Like ``pip install``, this writes the bytecode even when
    ``PYTHONDONTWRITEBYTECODE`` is set, since the kernel is what that saves. A folder the
    grader cannot write to is left as it is: the kernel then compiles, as it did before.
    """
    import compileall

    return bool(compileall.compile_dir(folder, quiet=2, force=False))


def readable_paths() -> list[str]:
    """The host folders the kernel reads: the interpreter and the installed packages."""
    paths = {
        sys.prefix,
        sys.base_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
    found = sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))
    # a folder inside another one is already there
    return [p for p in found if not any(p != q and p.startswith(q + os.sep) for q in found)]


def kernel_environment() -> dict[str, str]:
    """The kernel's whole environment: an allow-list, never the grader's secrets."""
    environment = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    environment.update(FIXED_ENVIRONMENT)
    scripts = os.path.dirname(sys.executable)
    environment["PATH"] = f"{scripts}:/usr/local/bin:/usr/bin:/bin"
    return environment


def readable_files_digest(folder: str) -> str:
    """A digest of every file of a submission folder its kernel may read, or ``""`` when
    it may read none.

    A learner's code can read these files, so an answer can come from one of them rather
    than from a code cell: a manual score stands only while they, too, are unchanged. The
    files are those :func:`submission_files` lists under the grader's own limits on a
    submission (:mod:`lstm_grader.safefiles`), which no kernel's listing exceeds.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     empty = readable_files_digest(folder)
    ...     _ = Path(folder, "answer.txt").write_text("(None, 16)")
    ...     first = readable_files_digest(folder)
    ...     _ = Path(folder, "answer.txt").write_text("(None, 99)")
    ...     (empty, first != readable_files_digest(folder) != "")
    ('', True)
    """
    from lstm_grader import safefiles

    files, _ = submission_files(
        folder, max_files=safefiles.MAX_ENTRIES, max_bytes=safefiles.MAX_SUBMISSION_BYTES
    )
    if not files:
        return ""
    digest = hashlib.sha256()
    for path, relative in sorted(files, key=lambda file: file[1]):
        name = relative.encode("utf-8", "surrogateescape")
        digest.update(len(name).to_bytes(8, "big") + name)
        with open(path, "rb") as handle:
            digest.update(os.fstat(handle.fileno()).st_size.to_bytes(8, "big"))
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    return digest.hexdigest()


def submission_files(
    folder: str,
    *,
    released: str | None = None,
    max_files: int = 100,
    max_bytes: int = 50 * 2**20,
) -> tuple[list[tuple[str, str]], list[str]]:
    """The regular files of a folder the kernel may read, and what was left out and why.

    Notebooks are left out (the kernel receives its cells from the grader); so are the
    exchange's files (``timestamp.txt``, when it was handed in, and ``nbgrader submit``'s
    ``submission_secret.txt``, new at each submission), on which no answer may depend: a
    manual score stands while the answer is unchanged (:func:`readable_files_digest`); so
    are the instructor's explanations (:data:`lstm_lib.checks.FEEDBACK_FILE`, which name every
    wrong option of a choice), links, FIFOs, sockets, devices, files with other hard links,
    and anything over the limits.

    Parameters
    ----------
    folder : str
        The submission's working folder.
    released : str, optional
        The assignment's release folder. A file the learner fetched with the notebook that
        the submission lacks (a notebook uploaded alone has no ``mistakes.sealed.json``)
        is listed from there, by the same rules: the kernel then finds what the learner's
        found, and its install step does not try to download it through a sandbox that
        has no network. A file the submission has is never replaced.
    max_files, max_bytes : int
        The limits, over both folders.

    Returns
    -------
    files : list of (str, str)
        ``(absolute host path, path relative to the folder)``.
    skipped : list of str
        One line per entry left out.
    """
    listing = _FileListing(max_files, max_bytes)
    listing.add(folder)
    if released is not None and os.path.isdir(released):
        listing.add(released, label=" (released)")
    return listing.files, listing.skipped


class _FileListing:
    """The files :func:`submission_files` lists, an earlier folder's entries winning."""

    def __init__(self, max_files: int, max_bytes: int) -> None:
        self.max_files, self.max_bytes = max_files, max_bytes
        self.files: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self._total = 0
        #: Every entry listed so far, by relative path: True for a folder walked into.
        self._entries: dict[str, bool] = {}

    def _taken(self, relative: str, earlier: dict[str, bool]) -> bool:
        """Whether an earlier folder has this path, or a file or link where one of its
        folders would go: staging it would then fail, or shadow the learner's entry."""
        if relative in earlier:
            return True
        parent = os.path.dirname(relative)
        while parent:
            if earlier.get(parent) is False:
                return True
            parent = os.path.dirname(parent)
        return False

    def add(self, folder: str, label: str = "") -> None:
        """List ``folder``'s files that no earlier folder's entry stands in the way of;
        ``label`` follows each skipped entry's path."""
        # here, not at the top: the grader starts before the course's own lstm_lib is
        # loaded, and a course whose copy is broken must get its grader-error, not a crash
        from lstm_grader.submission_guard import EXCHANGE_FILES
        from lstm_lib.checks import FEEDBACK_FILE

        earlier = dict(self._entries)
        for here, directories, names in os.walk(folder, followlinks=False):
            if len(self.skipped) > self.max_files:
                self.skipped.append("... and more: the listing stopped here")
                return
            for name in list(directories):
                relative = os.path.relpath(os.path.join(here, name), folder)
                if self._taken(relative, earlier) and earlier.get(relative) is not True:
                    directories.remove(name)
                elif os.path.islink(os.path.join(here, name)):
                    self._entries[relative] = False
                    self.skipped.append(f"{relative}{label}: a link")
                    directories.remove(name)
                else:
                    self._entries.setdefault(relative, True)
            for name in sorted(names):
                path = os.path.join(here, name)
                relative = os.path.relpath(path, folder)
                if self._taken(relative, earlier):
                    continue
                self._entries[relative] = False
                if name.endswith(".ipynb") or relative in EXCHANGE_FILES:
                    continue
                if name == FEEDBACK_FILE:
                    self.skipped.append(f"{relative}{label}: the instructor's explanations")
                    continue
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):
                    self.skipped.append(f"{relative}{label}: not a regular file")
                elif info.st_nlink > 1:
                    self.skipped.append(f"{relative}{label}: has other hard links")
                elif (
                    len(self.files) >= self.max_files or self._total + info.st_size > self.max_bytes
                ):
                    self.skipped.append(
                        f"{relative}{label}: over the limit of {self.max_files} files, "
                        f"{self.max_bytes} bytes"
                    )
                else:
                    self.files.append((path, relative))
                    self._total += info.st_size


def write_etc(folder: str, identity: Identity) -> str:
    """Write the files the sandbox's ``/etc`` gets in place of the host's into
    ``folder/etc`` and return that folder.

    ``passwd`` and ``group`` name the kernel's uid and gid :data:`SANDBOX_ACCOUNT` (home
    ``/tmp``), so ``getpass.getuser()`` and ``~`` work without the host's accounts;
    ``hosts`` and ``nsswitch.conf`` resolve ``localhost`` and :data:`SANDBOX_HOSTNAME`
    from files alone.
    """
    etc = os.path.join(folder, "etc")
    os.makedirs(etc, mode=0o755, exist_ok=True)
    nologin = "/usr/sbin/nologin"
    files = {
        "passwd": f"root:x:0:0:root:/root:{nologin}\n"
        f"{SANDBOX_ACCOUNT}:x:{identity.uid}:{identity.gid}:{SANDBOX_ACCOUNT}:/tmp:{nologin}\n"
        f"nobody:x:65534:65534:nobody:/nonexistent:{nologin}\n",
        "group": f"root:x:0:\n{SANDBOX_ACCOUNT}:x:{identity.gid}:\nnogroup:x:65534:\n",
        "hosts": f"127.0.0.1\tlocalhost\n127.0.1.1\t{SANDBOX_HOSTNAME}\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n",
        "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n",
    }
    for name, text in files.items():
        path = os.path.join(etc, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o644)
    return etc


def _etc_arguments(etc: str) -> list[str]:
    """The sandbox's ``/etc``: the written files of ``etc`` (see :func:`write_etc`) and the
    host's entries that match :data:`HOST_ETC`, links kept as links."""
    args = ["--perms", "0755", "--dir", "/etc"]
    for name in sorted(os.listdir(etc)):
        args += ["--ro-bind", os.path.join(etc, name), f"/etc/{name}"]
    made = {"/etc"}
    for pattern in HOST_ETC:
        for path in sorted(glob.glob(os.path.join("/etc", pattern))):
            args += _missing_folders(path, made)
            if os.path.islink(path):
                args += ["--symlink", os.readlink(path), path]
            else:
                args += ["--ro-bind", path, path]
    return args


def grader_config_folders(bound: list[str]) -> list[str]:
    """The configuration folders inside the trees in ``bound`` (the sandbox's read-only
    binds): the ``etc`` folder of each installation there (this environment's, Python's,
    ``/usr/local/etc``) and every folder of Jupyter's configuration path.

    They hold the grader's settings, not what a program needs to run: Jupyter's and
    IPython's configuration (an ``nbgrader_config.py`` may name the gradebook with its
    password), conda's activation scripts (which often export credentials), the
    ``odbc.ini`` or ``pgpass`` of locally installed software. The sandbox puts an empty
    folder over each, so the kernel reads none of them and starts free of the host's
    settings.
    """
    from jupyter_core.paths import jupyter_config_path

    candidates = set(jupyter_config_path())
    for prefix in {sys.prefix, sys.base_prefix, "/usr/local", "/usr", *bound}:
        candidates.add(os.path.join(prefix, "etc"))
    found = set()
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.isdir(real) and any(real.startswith(tree + os.sep) for tree in bound):
            found.add(real)
    # a folder inside another one found is hidden with it
    return sorted(f for f in found if not any(f.startswith(g + os.sep) for g in found))


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return [str(Path("/", *parts[: i + 1])) for i in range(len(parts))]


def _missing_folders(path: str, made: set[str]) -> list[str]:
    """The arguments that make the folders above ``path`` not yet in ``made`` (the
    sandbox's own, ``0755``), those under ``/usr`` aside: it is bound whole. ``made``
    gains them."""
    args: list[str] = []
    for folder in _ancestors(path):
        if folder not in made and not folder.startswith("/usr/"):
            args += ["--perms", "0755", "--dir", folder]
            made.add(folder)
    return args


def _bwrap_command(
    kernel_cmd: list[str],
    *,
    bwrap: str,
    identity: Identity,
    kernel_dir: str,
    kernel_mount: str | None = None,
    workdir: str,
    seed_files: list[tuple[str, str]],
    environment: dict[str, str],
    disk_bytes: int,
    etc: str,
) -> list[str]:
    """The command line that runs ``kernel_cmd`` in the sandbox (see the module's doc);
    ``etc`` holds the files :func:`write_etc` wrote."""
    lockdown = [
        "--unshare-user",
        "--disable-userns",
        "--cap-drop",
        "ALL",
        "--new-session",
        "--die-with-parent",
    ]
    args = [
        bwrap,
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        SANDBOX_HOSTNAME,
        "--unshare-cgroup-try",
    ]
    if not identity.drops_root:
        args += lockdown
    args += ["--clearenv"]
    for name, value in sorted(environment.items()):
        args += ["--setenv", name, value]
    args += [
        "--ro-bind",
        "/usr",
        "/usr",
        *_etc_arguments(etc),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        target = Path("/") / name
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            args += ["--ro-bind", str(target), str(target)]
    size = str(disk_bytes)
    args += [
        "--perms",
        "1777",
        "--size",
        size,
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--size",
        size,
        "--tmpfs",
        "/dev/shm",
        # over bubblewrap's own pseudo-terminals, so /dev/ptmx opens nothing: the host
        # counts them for all (kernel.pty.max), and one kernel could take all but the
        # host's reserve; no notebook needs a terminal
        "--perms",
        "0555",
        "--size",
        "4096",
        "--tmpfs",
        "/dev/pts",
    ]
    made: set[str] = {"/", "/tmp", "/usr", "/etc", "/proc", "/dev", "/dev/shm", "/dev/pts"}
    packages = readable_paths()
    binds: list[tuple[str, str, str]] = [("--ro-bind", p, p) for p in packages]
    library = course_library_folder()
    binds.append(("--ro-bind", library, f"{COURSE_LIBRARY_MOUNT}/lstm_lib"))
    binds.append(("--bind", kernel_dir, kernel_mount or kernel_dir))
    for kind, source, destination in binds:
        args += _missing_folders(destination, made)
        args += [kind, source, destination]
        made.add(destination)
    for folder in grader_config_folders(["/usr", *packages]):
        args += ["--perms", "0555", "--tmpfs", folder]
    args += ["--perms", "1777", "--dir", workdir]
    for source, relative in seed_files:
        args += ["--ro-bind", source, os.path.join(workdir, relative)]
    args += ["--chdir", workdir, "--"]
    if identity.drops_root:
        args += [
            "setpriv",
            f"--reuid={identity.uid}",
            f"--regid={identity.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
            bwrap,
            *lockdown,
            # --dev-bind: a plain --bind remounts every mount below it nodev, and the
            # kernel could open none of the outer sandbox's /dev (null, zero, urandom);
            # the outer binds and tmpfs are nodev already, so no other device opens
            "--dev-bind",
            "/",
            "/",
            "--ro-bind",
            "/proc/sys",
            "/proc/sys",
            "--chdir",
            workdir,
            "--",
        ]
    return args + kernel_cmd


#: The first line of the grading kernel's launcher, before any prelude: ``python -c`` puts
#: the working folder, which holds the learner's files, first on ``sys.path`` (IPython puts
#: it back once ipykernel has loaded). A ``ctypes.py`` submitted beside the notebook was
#: imported in place of the standard library's by the seccomp and Landlock preludes, and
#: the kernel ran with neither.
WORKING_FOLDER_OFF_PATH = "import sys; del sys.path[0]\n"
#: What the sandbox runs in place of ``python -m ipykernel_launcher``, after
#: :data:`WORKING_FOLDER_OFF_PATH` and any prelude: the same start, but without debugpy.
#: ipykernel loads it for its debugger, which no grading client ever attaches to, and
#: loading it is about a third of the kernel's start-up CPU.
GRADING_KERNEL_LAUNCHER = (
    "sys.modules['debugpy'] = None; "
    "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
)


def _launcher_index(kernel_cmd: list[str]) -> int | None:
    """Where ``-m ipykernel_launcher`` starts in a kernel spec's command, or None: only
    there can the grading launcher, and any prelude, take its place."""
    for i in range(len(kernel_cmd) - 1):
        if kernel_cmd[i : i + 2] == ["-m", "ipykernel_launcher"]:
            return i
    return None


#: The same start as :data:`GRADING_KERNEL_LAUNCHER`, in its two steps, with ``{sealing}``
#: run between them: once ipykernel has bound every socket (the heartbeat binds its own in
#: a thread of its own, so its socket file is waited for) and before any cell runs.
SEALED_KERNEL_LAUNCHER = """sys.modules['debugpy'] = None
from ipykernel import kernelapp
app = kernelapp.IPKernelApp.instance()
app.initialize()
import os, stat, time
heartbeat, deadline = f"{{app.ip}}-{{app.hb_port}}", time.monotonic() + 60
while not (os.path.exists(heartbeat) and stat.S_ISSOCK(os.stat(heartbeat).st_mode)):
    if time.monotonic() > deadline:
        raise OSError("the kernel's heartbeat socket was never bound")
    time.sleep(0.005)
{sealing}app.start()
"""


def grading_kernel_command(
    kernel_cmd: list[str], prelude: str = "", sealing: str = ""
) -> list[str]:
    """The kernel spec's command with ``-m ipykernel_launcher`` replaced by
    :data:`GRADING_KERNEL_LAUNCHER`, after :data:`WORKING_FOLDER_OFF_PATH` and ``prelude``
    (Python source run first, with nothing of the working folder importable), or, given
    ``sealing`` (Python source), by :data:`SEALED_KERNEL_LAUNCHER`, which runs it once the
    kernel's sockets are bound; any other command is returned unchanged."""
    i = _launcher_index(kernel_cmd)
    if i is None:
        return list(kernel_cmd)
    start = SEALED_KERNEL_LAUNCHER.format(sealing=sealing) if sealing else GRADING_KERNEL_LAUNCHER
    launcher = WORKING_FOLDER_OFF_PATH + prelude + start
    return [*kernel_cmd[:i], "-c", launcher, *kernel_cmd[i + 2 :]]


#: Where a sandboxed kernel may create and write files (see :mod:`lstm_grader.landlock`):
#: the two tmpfs of the disk limit.
WRITABLE_IN_SANDBOX = ["/tmp", "/dev/shm"]

#: Open files each sandboxed process may hold: Linux's usual default, within which Python,
#: ipykernel and TensorFlow run (the default of ``SandboxKernelManager.open_files``).
DEFAULT_OPEN_FILES = 1024


def _system_call_restriction(cmd: list[str], one_process: bool) -> tuple[str, list[str], list[str]]:
    """The launcher prelude that installs the kernel's seccomp filter (see
    :mod:`lstm_grader.syscall_filter`; keeping it to one process if ``one_process``), the
    limits it applies in words, and those it cannot apply, with why."""
    prelude = syscall_filter.launcher_prelude(one_process=one_process)
    if prelude is None:
        why = f"no seccomp filter for this machine ({os.uname().machine})"
    elif _launcher_index(cmd) is None:
        why = "the kernel spec does not start ipykernel_launcher, where the filter is applied"
    else:
        applied = [
            "sockets: Unix, IP and netlink only, no io_uring, no keyring, no userfaultfd, "
            "perf event or BPF (seccomp)"
        ]
        if one_process:
            applied.append(
                "processes: threads, no other process, no IP socket and no socket buffer "
                "resized (seccomp), since no control group bounds the whole sandbox's memory"
            )
        return prelude, applied, []
    not_applied = [
        f"sockets: {why}, so the kernel may open any socket family, AF_VSOCK to a virtual "
        "machine's host among them, use io_uring, read the keys of the session "
        "keyring it inherits from the grader, and open userfaultfd, perf events and BPF "
        "where the host allows every user"
    ]
    if one_process:
        not_applied.append(
            f"one process: {why}, so the sandbox's processes together may hold more than "
            "one address space"
        )
    return "", [], not_applied


def _write_restriction(
    cmd: list[str], kernel_dir: str, first: str = ""
) -> tuple[list[str], str | None]:
    """The grading kernel's command for a grader that is not root, with the Landlock
    prelude that keeps its writes in :data:`WRITABLE_IN_SANDBOX` after the prelude
    ``first``, and the seccomp filter that, once its sockets are bound, lets it bind no
    other (:func:`lstm_grader.syscall_filter.sealing_program`); and what could not be
    applied (None when all was)."""
    sealing = syscall_filter.sealing_prelude()
    if landlock.abi_version() < 1:
        why = "this host's kernel has no Landlock (Linux 5.13 or later)"
    elif _launcher_index(cmd) is None:
        why = "the kernel spec does not start ipykernel_launcher, where it is applied"
    elif sealing is None:
        why = f"no seccomp filter for this machine ({os.uname().machine})"
    else:
        prelude = landlock.launcher_prelude(WRITABLE_IN_SANDBOX, "/dev", [kernel_dir])
        return grading_kernel_command(cmd, first + prelude, sealing), None
    return grading_kernel_command(cmd, first), (
        f"writes outside /tmp and /dev/shm: {why}, so this kernel, run by a grader that is "
        "not root, may write the sandbox's own folders (/, /etc, /dev) and its private "
        "folder on the host's /dev/shm without a size limit"
    )


#: The sandbox's RLIMIT_CORE, which its seccomp filter keeps (:mod:`lstm_grader.syscall_filter`).
#: Not 0: at 0 Linux writes no core file, but a ``kernel.core_pattern`` that pipes to a
#: program (``|/usr/share/apport/apport ...``, ``|.../systemd-coredump ...``) still has the
#: host run it as root, outside the sandbox, for every crash. 1 is the value Linux keeps
#: for that program's own crashes: it then runs none, and a core file of at most one byte
#: is none either.
CORE_LIMIT = 1


#: Where Linux shows what it does with a crashed process's memory.
CORE_PATTERN_FILE = "/proc/sys/kernel/core_pattern"


def _core_pattern(pattern_file: str | None = None) -> str | None:
    """This host's ``kernel.core_pattern`` (or ``pattern_file``'s), None if it cannot be
    read."""
    try:
        with open(pattern_file or CORE_PATTERN_FILE, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def core_limit(pattern_file: str | None = None) -> int:
    """The RLIMIT_CORE each process of the sandbox gets on this host: :data:`CORE_LIMIT`,
    or 0 where the grader's own hard limit is 0 (``* hard core 0``, as hardening guides
    set it) and ``kernel.core_pattern`` names a file: at 0 Linux then writes none and runs
    no program. A pattern that pipes each crash to a program, or hands it to a socket, or
    cannot be read, needs :data:`CORE_LIMIT`, which such a grader may not give
    (:func:`limits_out_of_reach`)."""
    if resource.getrlimit(resource.RLIMIT_CORE)[1] != 0:
        return CORE_LIMIT
    pattern = _core_pattern(pattern_file)
    return CORE_LIMIT if pattern is None or pattern.startswith(("|", "@")) else 0


def _core_dumps_not_stopped(pattern_file: str | None = None) -> list[str]:
    """What :data:`CORE_LIMIT` cannot stop on this host, in words: a ``core_pattern`` that
    hands each crash to a socket (``@...``, Linux 6.16 or later) takes it whatever the
    limit, from any program the kernel runs; nothing otherwise."""
    pattern = _core_pattern(pattern_file)
    if pattern is None or not pattern.startswith("@"):
        return []
    return [
        "core dumps: this host's kernel.core_pattern hands each crash to a socket, which "
        "takes it whatever RLIMIT_CORE says, so a crash in the sandbox reaches that socket's "
        "program outside the sandbox"
    ]


@dataclass(frozen=True)
class ProcessLimits:
    """Per-process limits, inherited by everything the kernel starts."""

    address_space_bytes: int
    cpu_seconds: int
    file_bytes: int
    open_files: int
    processes: int | None  # RLIMIT_NPROC, only for a dedicated uid without a pids group

    @classmethod
    def of(cls, km: SandboxKernelManager, processes: int | None = None) -> ProcessLimits:
        """The limits ``km``'s settings give each process of its sandbox."""
        return cls(
            address_space_bytes=km.address_space_mb * 2**20,
            cpu_seconds=km.cpu_limit_seconds,
            file_bytes=km.disk_limit_mb * 2**20,
            open_files=km.open_files,
            processes=processes,
        )

    def each(self) -> list[tuple[str, int, int]]:
        """Every limit to set, soft and hard alike: its name as ``prlimit`` takes it, its
        ``resource.RLIMIT_*`` constant, and its value."""
        each = [
            ("as", resource.RLIMIT_AS, self.address_space_bytes),
            # no tighter than the address space; set, so that the kernel never inherits the
            # grader's own bound (kernel_messages.bounded_client_memory)
            ("data", resource.RLIMIT_DATA, self.address_space_bytes),
            ("cpu", resource.RLIMIT_CPU, self.cpu_seconds),
            ("fsize", resource.RLIMIT_FSIZE, self.file_bytes),
            ("nofile", resource.RLIMIT_NOFILE, self.open_files),
            ("core", resource.RLIMIT_CORE, core_limit()),
        ]
        if self.processes is not None:
            each.append(("nproc", resource.RLIMIT_NPROC, self.processes))
        return each


#: The capability that lets a process raise its own hard limits (``capabilities(7)``).
CAP_SYS_RESOURCE = 24

#: The ``SandboxKernelManager`` setting each limit of :meth:`ProcessLimits.each` comes from.
_SETTING_OF_LIMIT = {
    "as": "address_space_mb",
    "data": "address_space_mb",
    "cpu": "cpu_limit_seconds",
    "fsize": "disk_limit_mb",
    "nofile": "open_files",
    "nproc": "max_processes",
}


def _may_raise_hard_limits() -> bool:
    """Whether this process holds ``CAP_SYS_RESOURCE``, which lets it raise a hard limit."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def limits_out_of_reach(limits: ProcessLimits) -> str | None:
    """Why a kernel started from this process could not be given ``limits``, in one line
    naming each limit and its setting, or None.

    Each is set as a hard limit, and a process without ``CAP_SYS_RESOURCE`` (any user but
    root, and root in most containers) cannot set one above its own. A grader started
    under lower ones (``ulimit -Hn 100``, a service's ``LimitNOFILE=``) saw every kernel
    die before it replied, and every notebook a grader error.
    """
    if _may_raise_hard_limits():
        return None
    beyond = []
    for name, which, value in limits.each():
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY and value > hard:
            setting = _SETTING_OF_LIMIT.get(name)
            named = f" (c.SandboxKernelManager.{setting})" if setting else ""
            if name == "core":  # no setting: what a crash would reach without it
                named = (
                    " (while kernel.core_pattern pipes each crash to a program, which only "
                    "this limit keeps from running on the host for a crash in the sandbox)"
                )
            beyond.append(f"{name} {value}{named} above its {hard}")
    if not beyond:
        return None
    return (
        "the sandbox's limits for each process are above the grader's own hard limits, "
        f"which it may not raise: {'; '.join(beyond)}. Start the grader with higher ones "
        "(`ulimit -H`, or a service's Limit...= settings), or lower those settings"
    )


#: The most open files the grader gives itself where its hard limit allows more: its
#: workers' helpers, pipes and kernel sockets, and the gradebook, with room to spare.
OWN_OPEN_FILES = 65536


def raise_own_open_files() -> int:
    """Raise this process's soft limit of open files to its hard limit (at most
    :data:`OWN_OPEN_FILES`), and return the soft limit it has now.

    A grader started with a low soft limit under a higher hard one (``ulimit -Sn 64``,
    a login's default) ran out of files as it graded: each notebook a grader error
    reading "Too many open files", and "run lstm-grade again" met the same. Any process
    may raise its soft limit up to its hard one; the helpers it starts inherit it, and
    each kernel gets the sandbox's own (:class:`ProcessLimits`). A hard limit too low
    for the kernels is :func:`limits_out_of_reach`'s.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OWN_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OWN_OPEN_FILES)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (OSError, ValueError):  # refused by a security module: grade within the soft one
        return soft
    return wanted


#: The most bytes of a thread's ``schedstat`` read: its three counters, at most 20 digits
#: each, fit; nothing past them is read.
SCHEDSTAT_BYTES = 128


def _run_delay_ns(schedstat: str) -> int | None:
    """A thread's wait for a CPU so far, in nanoseconds: the second field of its
    ``schedstat``, which the host's kernel writes; None once the thread has ended."""
    try:
        return int(cgroups.read_small(schedstat, limit=SCHEDSTAT_BYTES).split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _enter_sandbox(procs_files: list[str], limits: ProcessLimits, drop_to: Identity | None) -> None:
    """Run in the new process before it becomes the sandbox: join the control groups
    (as root, before anything can fork), set the limits, and, without bubblewrap, drop
    root here."""
    pid = str(os.getpid()).encode()
    for procs in procs_files:
        fd = os.open(procs, os.O_WRONLY)
        try:
            os.write(fd, pid)
        finally:
            os.close(fd)
    for _, which, value in limits.each():
        resource.setrlimit(which, (value, value))
    if drop_to is not None:
        os.setgroups([])
        os.setresgid(drop_to.gid, drop_to.gid, drop_to.gid)
        os.setresuid(drop_to.uid, drop_to.uid, drop_to.uid)
        _LIBC.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS


_LIBC = ctypes.CDLL(None, use_errno=True)

#: The folders the launch's two small programs are taken from: the system's own, never the
#: grader's ``PATH``.
SYSTEM_PROGRAM_FOLDERS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin")

#: What :func:`_enter_sandbox` does before the limits, as a shell script: the shell moves
#: its own process (``$$``, the pid the sandbox keeps through every ``exec``) into each
#: control group named by its arguments, before it runs anything else, then becomes the
#: rest of its arguments. ``printf``, ``[`` and the redirection are the shell's own, so
#: nothing is forked before the last group holds the process.
_JOIN_GROUPS_SCRIPT = (
    'groups=$1; shift; while [ "$groups" -gt 0 ]; do '
    'printf %s "$$" >"$1" || { '
    'echo "the sandbox could not join the control group $1" >&2; exit 125; }; '
    "shift; groups=$((groups - 1)); done; "
    'exec "$@"'
)


@functools.cache
def _system_program(name: str) -> str | None:
    """The path of the system's program ``name``, or None when no system folder has it."""
    return shutil.which(name, path=os.pathsep.join(SYSTEM_PROGRAM_FOLDERS))


def launch_prefix(procs_files: list[str], limits: ProcessLimits) -> list[str] | None:
    """The programs that do what :func:`_enter_sandbox` does (without dropping root), in
    front of the kernel's command: ``sh`` joins the control groups, then ``prlimit`` sets
    the limits and runs the command.

    With a ``preexec_fn`` Python must fork the whole grading process to start a kernel:
    measured from a 200 MB process, about 4 ms of its CPU and 5 ms of the child's per
    launch, most of it copying page tables. Without one it uses ``vfork``, and the launch
    costs about 0.2 ms of its CPU and 2 ms of the child's, these two programs included.

    Parameters
    ----------
    procs_files
        The ``cgroup.procs`` files of the groups the kernel joins, in order.
    limits
        The per-process limits, set as both soft and hard limits.

    Returns
    -------
    list of str or None
        The arguments to put before the command, or None when this host lacks ``sh`` or
        ``prlimit`` (util-linux) in a system folder: the launch then uses
        :func:`_enter_sandbox`.
    """
    shell, prlimit = _system_program("sh"), _system_program("prlimit")
    if shell is None or prlimit is None:
        return None
    return [
        shell,
        "-c",
        _JOIN_GROUPS_SCRIPT,
        "sh",
        str(len(procs_files)),
        *procs_files,
        prlimit,
        *(f"--{name}={value}:{value}" for name, _, value in limits.each()),
        "--",
    ]


def _copy_into(source: str, name: str, folder_fd: int) -> None:
    """Copy the regular file ``source`` to a new read-only file ``name`` in ``folder_fd``."""
    with open(source, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as reader:
        info = os.fstat(reader.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            raise OSError(f"{source} is no longer a regular file of its own")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        target = os.open(name, flags, 0o444, dir_fd=folder_fd)
        with open(target, "wb") as writer:
            shutil.copyfileobj(reader, writer)


def _descends_from(pid: int, ancestor: int, depth: int = 8) -> bool:
    """Whether process ``pid`` is ``ancestor`` or started from it, within ``depth``
    generations (the sandbox runs its kernel three below the process the grader
    started)."""
    for _ in range(depth):
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                # the command's name, in parentheses, may hold spaces and parentheses
                pid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def _tasks_of(uid: int) -> int:
    """How many tasks (threads) a uid runs now, as RLIMIT_NPROC counts them."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = dict(
                line.split(":", 1)
                for line in Path(entry.path, "status").read_text().splitlines()
                if ":" in line
            )
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
    return count


@functools.cache
def _can_run_as(identity: Identity) -> bool:
    """Whether this Python starts under ``identity`` (it may live in root's home)."""
    limits = ProcessLimits(2**34, 60, 2**30, DEFAULT_OPEN_FILES, None)
    try:
        subprocess.run(
            [sys.executable, "-c", "pass"],
            check=True,
            capture_output=True,
            timeout=60,
            cwd="/",
            env={"PATH": os.defpath},
            preexec_fn=functools.partial(_enter_sandbox, [], limits, identity),
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


@functools.cache
def remove_leftovers() -> None:
    """Remove, once per process, what sandboxes of killed graders left: their control
    groups (:func:`lstm_grader.cgroups.remove_stale`) and their temporary folders (a
    kernel's private one, a Dask job's course copy...), when the process that made them is
    gone and they are over an hour old (:mod:`lstm_grader.owners`). Links in a folder are
    removed, never followed, and however deep a kernel nested its folders, none is left
    (:func:`lstm_grader.safefiles.remove_tree`). Nothing here ever stops grading: what
    cannot be removed is logged and left."""
    try:
        cgroups.remove_stale()
    except Exception as exc:  # a leftover must never stop the grading
        log.warning("leftover control groups not removed (%s: %s)", type(exc).__name__, exc)
    parents = [Path(_private_parent() or tempfile.gettempdir()), Path(tempfile.gettempdir())]
    try:
        stale = list(owners.stale_temporary_folders(parents))
    except Exception as exc:  # as above
        log.warning("leftover folders not looked for (%s: %s)", type(exc).__name__, exc)
        stale = []
    for folder in stale:
        if not safefiles.remove_tree(folder):
            log.warning("a leftover folder could not be removed: %s", folder)
    # uids claimed by kernels of killed graders (no kernel lives that long)
    with contextlib.suppress(OSError), os.scandir(_uid_claims_folder()) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > owners.STALE_AFTER_S:
                    os.unlink(entry.path)


def _uid_claims_folder() -> str:
    """Where kernels claim their uids (:func:`claim_kernel_identity`): beside their folders."""
    return os.path.join(_private_parent() or tempfile.gettempdir(), UID_CLAIMS)


def _private_parent() -> str | None:
    """A tmpfs for the kernel's private folder, so nothing it writes there reaches a disk
    (and its pages count against its memory limit); None for the default temp folder."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        with contextlib.suppress(OSError):
            room = os.statvfs(shm)
            # a tmpfs may run out of files (inodes) before it runs out of space
            if room.f_bavail > 0 and room.f_favail > 0:
                return shm
    return None


#: How much of what a kernel writes to its own stdout and stderr (not its outputs: those
#: travel as messages) is kept for the report, from the end: enough for a start-up
#: traceback. The rest is read and dropped, so no amount reaches the grader's log.
KERNEL_OUTPUT_KEPT_CHARS = 4_000


class _OutputTail:
    """A pipe for a kernel's stdout and stderr that keeps only their last bytes.

    The kernel's file descriptors 1 and 2 are its own to write to, past every output cap
    (``os.write(2, ...)``): left to the grader's, they would carry any amount, and any
    terminal escape, into the grader's log or an instructor's terminal.
    """

    #: The read ends open in this process. A process forked from it (a preloaded helper's
    #: child) gets copies but not the threads that read them: it closes them at once.
    _reading: set[int] = set()
    _forks_close_copies = False

    def __init__(self, keep: int = KERNEL_OUTPUT_KEPT_CHARS) -> None:
        self._keep = keep
        self._kept = b""
        if not _OutputTail._forks_close_copies:
            os.register_at_fork(after_in_child=_OutputTail._close_copies)
            _OutputTail._forks_close_copies = True
        self._read, self.writer = os.pipe()
        _OutputTail._reading.add(self._read)
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    @staticmethod
    def _close_copies() -> None:
        for fd in list(_OutputTail._reading):
            with contextlib.suppress(OSError):
                os.close(fd)
        _OutputTail._reading.clear()

    def _drain(self) -> None:
        with open(self._read, "rb", buffering=0) as pipe:
            while chunk := pipe.read(2**16):
                self._kept = (self._kept + chunk)[-self._keep :]
        _OutputTail._reading.discard(self._read)

    def started(self) -> None:
        """The kernel holds the write end now: drop the grader's copy."""
        with contextlib.suppress(OSError):
            os.close(self.writer)

    def text(self, wait: float = 1.0) -> str:
        """What was kept, printable (escapes shown, never acted on)."""
        self._thread.join(wait)
        return report.printable(self._kept.decode("utf-8", "replace").strip())


#: The largest message the grader accepts from a kernel. Outputs are capped far lower
#: (SandboxedExecute), but only after a message has arrived: this keeps one enormous
#: message from ever filling the grader's memory. A larger one is dropped by ZMQ.
MAX_MESSAGE_BYTES = 64 * 2**20


class SandboxKernelClient(AsyncKernelClient):
    """A kernel client whose sockets refuse any message over :data:`MAX_MESSAGE_BYTES`,
    whose shell and IOPub channels drop malformed messages (noted in
    :attr:`refused_messages`, see :mod:`lstm_grader.kernel_messages`), and which knows the
    kernel is ready as soon as it is (:meth:`_async_wait_for_ready`)."""

    shell_channel_class = Type(CheckedChannel)
    iopub_channel_class = Type(CheckedChannel)
    #: The messages this client's channels dropped, the channels made again included.
    refused_messages = Instance(RefusedMessages, ())

    @property
    def shell_channel(self) -> CheckedChannel:
        return self._checked(super().shell_channel, "shell")

    @property
    def iopub_channel(self) -> CheckedChannel:
        return self._checked(super().iopub_channel, "iopub")

    def _checked(self, channel: CheckedChannel, name: str) -> CheckedChannel:
        channel.name, channel.refused = name, self.refused_messages
        return channel

    #: How long one round of :meth:`_async_wait_for_ready` waits on IOPub for the
    #: kernel's answer to its ``kernel_info_request``, before it asks again.
    ready_round_seconds = 0.05

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return context

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel has answered a ``kernel_info_request`` on the shell
        channel and its ``idle`` status for that request has come in on IOPub.

        jupyter_client's own wait ends by listening to IOPub until it has been silent for
        0.2 s, and grading waits for the kernel once per submission: that silence was a
        third of a worker's time per notebook, with the worker idle. The
        ``idle`` status is the last IOPub message a request causes, so once it is here
        IOPub is connected and holds nothing of the request; what earlier messages wait
        on IOPub (the kernel's ``starting`` status, a subscription's welcome) are read
        and dropped without waiting. A status lost because IOPub was not yet subscribed
        is asked for again after :attr:`ready_round_seconds`.

        Raises
        ------
        RuntimeError
            If the kernel dies, or ``timeout`` seconds pass, before it is ready.
        """
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        asked: set[str] = set()
        while True:
            asked.add(self.kernel_info())
            reply = await self._kernel_info_reply(asked, min(1.0, _left(deadline)))
            if reply is not None and await self._idle_after(asked, self.ready_round_seconds):
                self._handle_kernel_info_reply(reply)
                await self._drop_waiting_iopub()
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if _left(deadline) <= 0:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    # AsyncKernelClient binds its public name to the base class's coroutine
    wait_for_ready = _async_wait_for_ready

    async def _kernel_info_reply(self, asked: set[str], wait: float) -> dict[str, Any] | None:
        """The reply to one of ``asked`` on the shell channel, or None after ``wait`` s."""
        return await _first_message(
            self.shell_channel,
            lambda msg: (
                msg["msg_type"] == "kernel_info_reply"
                and msg["parent_header"].get("msg_id") in asked
            ),
            wait,
        )

    async def _idle_after(self, asked: set[str], wait: float) -> bool:
        """Whether the ``idle`` status of one of ``asked`` comes on IOPub within ``wait`` s."""
        idle = await _first_message(
            self.iopub_channel,
            lambda msg: (
                msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
                and msg["parent_header"].get("msg_id") in asked
            ),
            wait,
        )
        return idle is not None

    async def _drop_waiting_iopub(self) -> None:
        """Read and drop what IOPub already holds, without waiting for more."""
        with contextlib.suppress(queue.Empty):  # what was waiting may have been dropped
            while await self.iopub_channel.msg_ready():
                await self.iopub_channel.get_msg(timeout=0)


async def _first_message(
    channel: Any, wanted: Callable[[dict[str, Any]], bool], wait: float
) -> dict[str, Any] | None:
    """The first message on ``channel`` that is ``wanted``, reading and dropping the others,
    or None when ``wait`` seconds pass first."""
    deadline = time.monotonic() + wait
    while _left(deadline) > 0:
        try:
            msg = await channel.get_msg(timeout=_left(deadline))
        except queue.Empty:
            return None
        if wanted(msg):
            return msg
    return None


def _left(deadline: float) -> float:
    """Seconds until ``deadline`` (a :func:`time.monotonic` time), never below zero."""
    return max(0.0, deadline - time.monotonic())


#: The name this package registers its kernel provisioner under (the
#: ``jupyter_client.kernel_provisioners`` entry point in ``pyproject.toml``).
PROVISIONER_NAME = "lstm-grader-sandbox"


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are started by :class:`SandboxProvisioner`.

    Configured from ``nbgrader_config.py``; each limit is a trait so the config file can
    say why it is what it is. jupyter_client's public extension point does the work: the
    manager names the provisioner in the kernel spec it launches, and the provisioner
    builds the sandbox around the kernel. After the kernel stops, :attr:`sandbox_report`
    says which limits were in force, which could not be applied, and which were hit.
    """

    memory_limit_mb = Integer(
        2048,
        help="Memory of the whole sandbox (every process and its tmpfs files), in MiB.",
    ).tag(config=True)
    address_space_mb = Integer(
        4096,
        help="Address space of each process, in MiB (RLIMIT_AS): what it maps, not what "
        "it uses. TensorFlow maps about 2 GiB on import (600 MB of it resident) and "
        "2.6 GiB to train a small model, so this sits above memory_limit_mb, which bounds "
        "what the sandbox uses.",
    ).tag(config=True)
    cpu_limit_seconds = Integer(
        120, help="CPU time of the whole sandbox (and of each process), in seconds."
    ).tag(config=True)
    max_processes = Integer(64, help="Processes and threads alive at once in the sandbox.").tag(
        config=True
    )
    cpus = Float(1.0, help="CPU cores the sandbox may keep busy at once.").tag(config=True)
    open_files = Integer(
        DEFAULT_OPEN_FILES,
        help="Files each process of the sandbox may hold open at once (RLIMIT_NOFILE). "
        "The host's table of open files (fs.file-max) is one for everything it runs, and "
        "a kernel would otherwise inherit the grader's limit, often tens of thousands: "
        "max_processes such processes could fill the table and fail every program on the "
        "host with 'Too many open files in system'. A sandbox holds at most max_processes "
        "× open_files of it. The default is Linux's usual one, within which Python, "
        "ipykernel and TensorFlow run.",
    ).tag(config=True)
    disk_limit_mb = Integer(
        256,
        help="Size of the sandbox's /tmp (its working folder) and /dev/shm, and of any "
        "one file it writes, in MiB.",
    ).tag(config=True)
    max_files = Integer(
        100_000,
        help="Files and folders /tmp and /dev/shm may hold together. Each takes the host's "
        "kernel memory that no tmpfs size counts (a million empty files took 0.8 GB), and "
        "without a memory control group nothing else bounds it. Read after each cell: "
        "past it the notebook stops with disk-limit, so one cell's time bounds the rest.",
    ).tag(config=True)

    released_folder = Unicode(
        "",
        help="The release folder of the assignment being graded, set per notebook (see "
        "submission_files): files a submission lacks are staged from it.",
    )

    submitted_folder = Unicode(
        "",
        help="The submitted folder being graded, set per notebook: the kernel's files are "
        "staged from it (nbgrader's copy of it holds the notebooks only); empty: from the "
        "kernel's working folder.",
    )

    client_factory = Type(SandboxKernelClient, klass=AsyncKernelClient)

    @property
    def kernel_spec(self) -> KernelSpec | None:
        """The named kernel's spec, with :data:`PROVISIONER_NAME` as its provisioner.

        Raises
        ------
        SandboxUnavailable
            If the provisioner is not registered (the course package is not installed).
        """
        spec = super().kernel_spec
        wanted = {"provisioner_name": PROVISIONER_NAME, "config": {}}
        if spec is not None and spec.metadata.get("kernel_provisioner") != wanted:
            # the entry points jupyter_client itself starts provisioners from, read once per
            # process (a scan of every installed distribution)
            if PROVISIONER_NAME not in KernelProvisionerFactory.instance().provisioners:
                raise SandboxUnavailable(
                    f"the {PROVISIONER_NAME!r} kernel provisioner is not registered: install "
                    "the course package (pip install -e '.[grading]') in the grader's environment"
                )
            spec = KernelSpec(
                resource_dir=spec.resource_dir,
                **{**spec.to_dict(), "metadata": {**spec.metadata, "kernel_provisioner": wanted}},
            )
            self._kernel_spec = spec
        return spec

    @property
    def sandbox_report(self) -> dict[str, Any] | None:
        """What the provisioner recorded of the last sandbox, or None before a start."""
        return getattr(self.provisioner, "sandbox_report", None)

    def sample_usage(self) -> cgroups.Usage:
        """What the sandbox uses now (see :meth:`SandboxProvisioner.sample_usage`)."""
        if isinstance(self.provisioner, SandboxProvisioner):
            return self.provisioner.sample_usage()
        return cgroups.ControlGroup().usage()

    def limits_hit(self) -> list[str]:
        """The statuses of the whole-sandbox limits the kernel ran into so far."""
        if isinstance(self.provisioner, SandboxProvisioner):
            return self.provisioner.limits_hit()
        return []

    def cpu_wait_seconds(self) -> float | None:
        """How long the sandbox's threads waited for a CPU so far
        (:meth:`SandboxProvisioner.cpu_wait_seconds`); None where it cannot be read."""
        if isinstance(self.provisioner, SandboxProvisioner):
            return self.provisioner.cpu_wait_seconds()
        return None

    def cpu_used_seconds(self) -> float | None:
        """CPU time every process of the sandbox used so far
        (:meth:`SandboxProvisioner.cpu_used_seconds`); None where it cannot be read."""
        if isinstance(self.provisioner, SandboxProvisioner):
            return self.provisioner.cpu_used_seconds()
        return None

    def cpu_quota(self) -> float | None:
        """The CPU cores the sandbox may keep busy at once, where its control group holds
        it to them (:meth:`SandboxProvisioner.cpu_quota`); None where nothing does."""
        if isinstance(self.provisioner, SandboxProvisioner):
            return self.provisioner.cpu_quota()
        return None

    def too_many_files(self) -> bool:
        """Whether the sandbox held more than ``max_files`` files so far (read by
        :meth:`limits_hit`): they hold the host's memory, and the next cell could add as
        many again, so the notebook stops."""
        return isinstance(self.provisioner, SandboxProvisioner) and (
            self.provisioner.too_many_files()
        )


class SandboxProvisioner(LocalProvisioner):
    """Starts a kernel inside the sandbox, under its limits, and tears both down after.

    Registered as the ``lstm-grader-sandbox`` kernel provisioner. Its parent is a
    :class:`SandboxKernelManager`, whose traits set the limits.
    """

    _private_dir: str | None = None
    _kernel_dir: str | None = None
    _cgroup: cgroups.ControlGroup | None = None
    _output: _OutputTail | None = None
    _uid_claim: str | None = None
    _turn: KernelTurn | None = None
    #: Seconds the last start waited for its turn (:class:`KernelTurn`), which the
    #: notebook's time does not count.
    turn_waited_s: float = 0.0
    sandbox_report: dict[str, Any] | None = None

    def _limits_words(self) -> list[str]:
        km = self.parent
        return [
            f"tmpfs: /tmp (the working folder) and /dev/shm hold {km.disk_limit_mb} MiB "
            f"each and {km.max_files} files together; no file over that size",
            f"per process: {km.address_space_mb} MiB of address space, "
            f"{km.cpu_limit_seconds} s of CPU, {km.open_files} open files, no core dumps",
        ]

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Make the private kernel folder, the connection over ``ipc`` in it, and the
        control group; then let jupyter_client write the connection file there."""
        km = self.parent
        self._no_sandbox = check_can_grade()
        remove_leftovers()
        release_kernel_identity(self._uid_claim)
        self._identity, self._uid_claim = claim_kernel_identity()
        self._private_dir = tempfile.mkdtemp(
            prefix=owners.temporary_prefix("kernel"), dir=_private_parent()
        )
        os.chmod(self._private_dir, 0o711)
        kernel_dir = os.path.join(self._private_dir, "kernel")
        os.mkdir(kernel_dir, 0o700)
        if self._identity.drops_root:
            os.chown(kernel_dir, self._identity.uid, self._identity.gid)
        self._kernel_dir = kernel_dir
        km.connection_file = os.path.join(kernel_dir, "kernel.json")
        km.transport = "ipc"
        km.ip = os.path.join(kernel_dir, "ipc")
        self._cgroup = None
        group = _sandbox_group(
            cgroups.Limits(
                memory_bytes=km.memory_limit_mb * 2**20,
                processes=km.max_processes,
                cpus=km.cpus,
            )
        )
        self._cgroup = group
        self.sandbox_report = {
            "sandboxed": self._no_sandbox is None,
            "no_sandbox_reason": self._no_sandbox,
            "uid": self._identity.uid,
            "limits": group.applied + self._limits_words(),
            "limits_not_applied": [*group.not_applied, *_core_dumps_not_stopped()],
            "usage": {},
        }
        self.turn_waited_s = 0.0
        if self._turn is None and _kernels_take_turns(self._identity, group):
            self._turn, self.turn_waited_s = await _take_turn(self._identity.uid)
            self.sandbox_report["limits"].append(
                f"processes: no other kernel of uid {self._identity.uid} runs on this host "
                "meanwhile (its kernels take turns)"
            )
        try:
            result = await super().pre_launch(**kwargs)
        except BaseException:
            self._give_turn_back()
            raise
        if self._identity.drops_root and os.path.exists(km.connection_file):
            os.chown(km.connection_file, self._identity.uid, self._identity.gid)
        return result

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Wrap the kernel's command in the sandbox and start it with the limits."""
        try:
            return await self._launch_in_sandbox(cmd, **kwargs)
        except BaseException:
            self._give_turn_back()
            raise

    async def _launch_in_sandbox(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        km = self.parent
        group = self._cgroup or cgroups.ControlGroup()
        filter_prelude = ""
        if self._no_sandbox is None:
            filter_prelude, applied, not_applied = _system_call_restriction(
                cmd, one_process=not group.bounds_memory
            )
            self.sandbox_report["limits"] += applied
            self.sandbox_report["limits_not_applied"] += not_applied
        kernel_cmd, kw = grading_kernel_command(cmd, filter_prelude), kwargs
        kernel_mount = None
        if self._no_sandbox is None and not self._identity.drops_root:
            # the kernel runs as this user, owner of the sandbox's folders
            kernel_mount = KERNEL_FOLDER_MOUNT
            cmd = self._kernel_view_of_connection(cmd, kernel_mount)
            kernel_cmd, not_applied = _write_restriction(cmd, kernel_mount, filter_prelude)
            if not_applied:
                self.sandbox_report["limits_not_applied"].append(not_applied)
            else:
                self.sandbox_report["limits"].append(
                    "writes: files only in /tmp and /dev/shm, and in the kernel's private "
                    "folder its own sockets and no other (Landlock, then seccomp: no bind)"
                )
        host_workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        seed, skipped = submission_files(
            km.submitted_folder or host_workdir,
            released=km.released_folder or None,
            max_bytes=km.disk_limit_mb * 2**20,
        )
        if skipped:
            self.sandbox_report["skipped_files"] = skipped
        processes = None
        if not _bounds_processes(group):
            # RLIMIT_NPROC counts every task of the uid: the sandbox uid's alone when root
            # grades, the grader's own too otherwise
            already = 0 if self._identity.drops_root else _tasks_of(self._identity.uid)
            processes = already + km.max_processes
            self.sandbox_report["limits"].append(
                f"processes: {km.max_processes} more than uid {self._identity.uid} already "
                "runs (RLIMIT_NPROC; reaching it is not detected)"
            )
        limits = ProcessLimits.of(km, processes)
        if problem := limits_out_of_reach(limits):
            raise SandboxUnavailable(problem)
        environment = kernel_environment()
        compile_library(course_library_folder())
        workdir = "/tmp/" + (os.path.basename(host_workdir) or "work")
        self._workdir = workdir
        if self._no_sandbox is None:
            kernel_cmd = _bwrap_command(
                kernel_cmd,
                bwrap=bwrap_path() or "bwrap",
                identity=self._identity,
                kernel_dir=self._kernel_dir,
                kernel_mount=kernel_mount,
                workdir=workdir,
                seed_files=seed,
                environment=environment,
                disk_bytes=km.disk_limit_mb * 2**20,
                etc=write_etc(self._private_dir, self._identity),
            )
            drop_to = None
            kw["cwd"] = self._private_dir
            kw["env"] = {"PATH": os.defpath}
        else:
            # unsafe mode: no isolation, but never root, never the grader's environment,
            # and still a throwaway folder of copies
            throwaway = os.path.join(self._kernel_dir, "work")
            os.mkdir(throwaway)
            for source, relative in seed:
                target = os.path.join(throwaway, relative)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target, follow_symlinks=False)
            if self._identity.drops_root:
                for here, _, names in os.walk(throwaway):
                    for name in [here, *(os.path.join(here, n) for n in names)]:
                        os.chown(name, self._identity.uid, self._identity.gid)
            environment.pop("PYTHONPATH")
            environment["PYTHONPATH"] = os.path.dirname(course_library_folder())
            environment["HOME"] = throwaway
            environment["MPLCONFIGDIR"] = throwaway
            kw["cwd"] = throwaway
            kw["env"] = environment
            drop_to = self._identity if self._identity.drops_root else None
            self.sandbox_report["limits_not_applied"].append(
                f"isolation: no sandbox ({self._no_sandbox})"
            )
            if drop_to is not None and not _can_run_as(drop_to):
                drop_to = None
                self.sandbox_report["limits_not_applied"].append(
                    f"identity: uid {self._identity.uid} cannot run {sys.executable}, so the "
                    "kernel runs as root"
                )
        prefix = launch_prefix(group.procs_files, limits) if drop_to is None else None
        if prefix is not None:
            kernel_cmd = prefix + kernel_cmd
        else:
            kw["preexec_fn"] = functools.partial(_enter_sandbox, group.procs_files, limits, drop_to)
        self._output = _OutputTail()
        kw["stdin"] = subprocess.DEVNULL
        kw["stdout"] = kw["stderr"] = self._output.writer
        try:
            return await super().launch_kernel(kernel_cmd, **kw)
        finally:
            self._output.started()

    def _give_turn_back(self) -> None:
        """Let this user's next kernel start: this one is gone, or never started."""
        if self._turn is not None:
            self._turn.release()
            self._turn = None

    def _kernel_view_of_connection(self, cmd: list[str], mount: str) -> list[str]:
        """The kernel's command reading a copy of the connection file that names its
        sockets where the kernel sees its private folder, at ``mount``: the same sockets
        the grader reaches at the folder's own path."""
        km = self.parent
        with open(km.connection_file, encoding="utf-8") as handle:
            info = json.load(handle)
        info["ip"] = f"{mount}/{os.path.basename(km.ip)}"
        view = os.path.join(self._kernel_dir, "sandbox-kernel.json")
        descriptor = os.open(view, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        inside = f"{mount}/{os.path.basename(view)}"
        return [inside if part == km.connection_file else part for part in cmd]

    def seal_kernel_folder(self) -> None:
        """Once the kernel is up (its sockets are bound), take its private folder back:
        nothing it runs may then add files there (on the host's /dev/shm, outside its
        disk limit) or swap a socket the grader connects to for a link to another.

        Only a root grader can: an ordinary user's kernel runs as that user and could give
        the folder back to itself. There, :meth:`socket_is_the_kernels` guards the one
        reconnection the grader makes.
        """
        sandboxed = getattr(self, "_no_sandbox", "not started") is None
        # without a sandbox the kernel works in a folder inside this one: leave it be
        if sandboxed and self._identity.drops_root and self._kernel_dir is not None:
            with contextlib.suppress(OSError):
                os.chown(self._kernel_dir, 0, 0)
                os.chmod(self._kernel_dir, 0o700)

    def cut_output_connection(self) -> int:
        """Shut down this process's connections to the kernel's output (IOPub) socket,
        from any thread; return how many were cut.

        ZMQ holds each frame of a message that has not ended, and a kernel can send
        frames without end: cut, a connection drops what it held, as ZMQ does itself for
        a frame over its size limit, and connects again. The kernel runs on and its
        replies still come; only the output it was sending is lost. A connection is this
        kernel's output when its peer is a process of this sandbox and its socket's name
        ends in the output port (the kernel names the socket where it sees its folder,
        not where the grader does, and every kernel's folder names them alike).
        """
        km, process = self.parent, getattr(self, "process", None)
        if getattr(km, "transport", None) != "ipc" or process is None:
            return 0
        ending = f"-{km.iopub_port}"
        try:
            descriptors = os.listdir("/proc/self/fd")
        except OSError:
            return 0
        cut = 0
        for name in descriptors:
            with contextlib.suppress(OSError, ValueError):
                if not stat.S_ISSOCK(os.stat(f"/proc/self/fd/{name}").st_mode):
                    continue
                with socket.socket(fileno=os.dup(int(name))) as connection:
                    if connection.family != socket.AF_UNIX:
                        continue
                    peer = connection.getpeername()
                    if not (isinstance(peer, str) and peer.endswith(ending)):
                        continue
                    credentials = connection.getsockopt(
                        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
                    )
                    peer_pid = struct.unpack("3i", credentials)[0]
                    if _descends_from(peer_pid, process.pid):
                        connection.shutdown(socket.SHUT_RDWR)
                        cut += 1
        return cut

    def socket_is_the_kernels(self, channel: str) -> bool:
        """Whether the ``ipc`` socket of ``channel`` (``"iopub"``...) is still a socket,
        not a link or anything else the kernel put in its place."""
        km = self.parent
        port = getattr(km, f"{channel}_port", None)
        try:
            info = os.lstat(f"{km.ip}-{port}")
        except OSError:
            return False
        return stat.S_ISSOCK(info.st_mode)

    def stage_submission(self, host_workdir: str) -> None:
        """Copy a submission's files into the working folder of a kernel that was started
        with an empty one (a warm kernel, see :mod:`lstm_grader.warm_kernels`), first
        renaming that folder after the submission's, as a cold start names it.

        Call it once the kernel has answered, before it runs any cell: the sandbox is then
        fully built and nothing but the kernel's own start-up has run in it. The copies are
        read-only (``0444``) and, as root, owned by root, as the read-only binds of a cold
        start are. Each step of the path into the sandbox is opened without following
        links, and each file is created anew (``O_EXCL``).

        Raises
        ------
        SandboxUnavailable
            If the kernel was not started in a sandbox, or its folder cannot be reached.
        """
        if self._no_sandbox is not None or self.pid is None:
            raise SandboxUnavailable("only a sandboxed kernel can receive a submission late")
        km = self.parent
        files, skipped = submission_files(
            km.submitted_folder or os.path.realpath(host_workdir),
            released=km.released_folder or None,
            max_bytes=km.disk_limit_mb * 2**20,
        )
        if skipped:
            self.sandbox_report["skipped_files"] = skipped
        directory = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        try:
            init = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()[0]
            root = os.open(f"/proc/{init}/root", os.O_RDONLY | os.O_DIRECTORY)
        except (OSError, IndexError) as exc:
            raise SandboxUnavailable(f"the warm kernel's sandbox is gone ({exc})") from exc
        opened = [root]
        try:
            *parents, name = Path(self._workdir).parts[1:]
            for part in parents:
                opened.append(os.open(part, directory, dir_fd=opened[-1]))
            wanted = os.path.basename(os.path.realpath(host_workdir)) or "work"
            if wanted != name:
                # the kernel's working folder takes the submission's folder name, as a cold
                # start's would; the kernel's current directory moves with it
                os.rename(name, wanted, src_dir_fd=opened[-1], dst_dir_fd=opened[-1])
                self._workdir = str(Path(self._workdir).with_name(wanted))
                name = wanted
            opened.append(os.open(name, directory, dir_fd=opened[-1]))
            workdir = opened[-1]
            for source, relative in files:
                *folders, name = Path(relative).parts
                here = workdir
                for folder in folders:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(folder, 0o755, dir_fd=here)
                    opened.append(os.open(folder, directory, dir_fd=here))
                    here = opened[-1]
                _copy_into(source, name, here)
        except OSError as exc:
            raise SandboxUnavailable(f"the submission's files could not be staged ({exc})") from exc
        finally:
            for fd in opened:
                os.close(fd)

    def sample_usage(self) -> cgroups.Usage:
        """What the sandbox uses now; the peak of its tmpfs use is kept in the report."""
        usage = (self._cgroup or cgroups.ControlGroup()).usage()
        used = self._tmpfs_used()
        if self.sandbox_report is not None and used is not None:
            held = self.sandbox_report["usage"]
            held["tmpfs_peak_bytes"] = max(held.get("tmpfs_peak_bytes", 0), used[0])
            held["tmpfs_peak_files"] = max(held.get("tmpfs_peak_files", 0), used[1])
        return usage

    def _tmpfs_used(self) -> tuple[int, int] | None:
        """Bytes held in the sandbox's ``/tmp`` (the working folder), and files and folders
        held in it and ``/dev/shm`` together, read from the host through ``/proc/<pid>/root``
        of a process inside it (statvfs only: nothing in the sandbox is opened)."""
        pid = self.pid
        if pid is None or self._no_sandbox is not None:
            return None
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            tmp, shm = (
                os.statvfs(f"/proc/{children[0]}/root{path}") for path in ("/tmp", "/dev/shm")
            )
        except (OSError, IndexError):
            return None
        files = sum(info.f_files - info.f_ffree for info in (tmp, shm))
        return (tmp.f_blocks - tmp.f_bfree) * tmp.f_frsize, files

    def too_many_files(self) -> bool:
        """Whether ``/tmp`` and ``/dev/shm`` held more than ``max_files`` files so far."""
        usage = (self.sandbox_report or {}).get("usage", {})
        return usage.get("tmpfs_peak_files", 0) > self.parent.max_files

    def cpu_wait_seconds(self) -> float | None:
        """How long the threads of the sandbox's processes alive now waited, ready to run,
        for a CPU: the sum of their ``/proc/<tid>/schedstat`` run delays, read from the
        host (nothing in the sandbox is opened). A cell that ran out of time while they
        waited long, and used less CPU than its quota allowed (:meth:`cpu_used_seconds`),
        was slowed by other work on the host, not by its own; see
        :func:`lstm_grader.classgrade.timed_out_beside_others`. None where nothing could
        be read (a kernel without its process).

        It is read at the start of every cell and as a cell runs out of time
        (``SandboxedExecute``). Where the sandbox has a control group, its
        threads are the group's, listed in one file (:meth:`cgroups.ControlGroup.thread_ids`);
        else they are found by walking the kernel's process tree, two reads per thread.
        The group's cumulative ``cpu.pressure`` would be one read, but is not the same
        measure: the kernel averages it over CPUs, so a thread that waited on several
        reads as having waited less, and a timeout that was held up could read as not."""
        if self.pid is None:
            return None
        group = self._cgroup
        if group is not None and group.version:
            # never the tree instead when the listing fails: a cell's two readings must
            # count the same threads
            threads = group.thread_ids()
            delays = [_run_delay_ns(f"/proc/{tid}/schedstat") for tid in threads or []]
        else:
            delays = self._tree_run_delays_ns()
        read = [delay for delay in delays if delay is not None]
        return sum(read) / 1e9 if read else None

    def cpu_used_seconds(self) -> float | None:
        """CPU time every process of the sandbox used so far, in seconds, as its control
        group counts it (``cpuacct.usage``, ``cpu.stat``), read from the host; None
        without a group or where it cannot be read.

        Read beside :meth:`cpu_wait_seconds`: a sandbox whose processes outnumber its
        :meth:`cpu_quota` waits for a CPU of its own making, its quota's throttling and its
        threads' turns counting as run delay, yet uses every core it may; one that the
        host held up used less (:func:`lstm_grader.classgrade.timed_out_beside_others`)."""
        if self.pid is None or self._cgroup is None:
            return None
        return self._cgroup.cpu_seconds()

    def cpu_quota(self) -> float | None:
        """The CPU cores the sandbox may keep busy at once (``SandboxKernelManager.cpus``),
        where its control group holds it to them (``cpu.max``, ``cpu.cfs_quota_us``);
        None where no group applied the limit, and the sandbox may use every core."""
        group = self._cgroup
        if group is None or not any(words.startswith("cpu:") for words in group.applied):
            return None
        return float(self.parent.cpus)

    def _tree_run_delays_ns(self) -> list[int | None]:
        """The run delay of every thread of the kernel's process and its descendants,
        found through each thread's ``children``: for a sandbox without a control group."""
        delays: list[int | None] = []
        pending, seen = [self.pid], set()
        while pending:  # the tree is bounded by the sandbox's process limit
            pid = pending.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue  # ended since its parent listed it
            for task in tasks:
                folder = f"/proc/{pid}/task/{task}"
                delays.append(_run_delay_ns(f"{folder}/schedstat"))
                try:
                    pending += map(int, Path(f"{folder}/children").read_text().split())
                except (OSError, ValueError):
                    continue
        return delays

    def limits_hit(self) -> list[str]:
        """The statuses of the whole-sandbox limits the kernel ran into so far."""
        usage = self.sample_usage()
        hit = []
        if usage.memory_limit_hit:
            hit.append("memory-limit")
        if usage.process_limit_hit:
            hit.append("process-limit")
        if usage.cpu_seconds is not None and usage.cpu_seconds >= self.parent.cpu_limit_seconds:
            hit.append("cpu-limit")
        peak = (self.sandbox_report or {}).get("usage", {}).get("tmpfs_peak_bytes", 0)
        if peak >= 0.95 * self.parent.disk_limit_mb * 2**20 or self.too_many_files():
            hit.append("disk-limit")
        return hit

    async def cleanup(self, restart: bool = False) -> None:
        """Record the sandbox's last usage, remove its control group and its folder."""
        await super().cleanup(restart=restart)
        if restart:
            return
        if self._cgroup is not None:
            with contextlib.suppress(Exception):
                usage = self._cgroup.usage()
                if self.sandbox_report is not None:
                    self.sandbox_report["usage"].update(
                        cpu_seconds=usage.cpu_seconds, oom_kills=usage.oom_kills
                    )
                    self.sandbox_report["hit"] = sorted(
                        set(self.sandbox_report.get("hit", [])) | set(self.limits_hit())
                    )
            self._cgroup.remove()
            self._cgroup = None
        self._give_turn_back()
        release_kernel_identity(self._uid_claim)
        self._uid_claim = None
        if self._output is not None:
            said = self._output.text()
            if said and self.sandbox_report is not None:
                self.sandbox_report["kernel_output_tail"] = said
            self._output = None
        if self._private_dir is not None:
            # never following the links a kernel may have left in its folder, however deep
            if not safefiles.remove_tree(self._private_dir):
                log.warning("the kernel's folder could not be removed: %s", self._private_dir)
            self._private_dir = None
