"""Keep a sandboxed kernel's writes inside its size-limited tmpfs, with Landlock.

A grader that is not root runs the kernel as its own user, in one unprivileged bubblewrap.
There the folders bubblewrap makes for the sandbox (``/``, ``/etc``, ``/dev``, on a tmpfs
without a size) and the kernel's private folder (bound from the host's ``/dev/shm``, for
its sockets) belong to the kernel: what it wrote there would be bounded only by the host's
memory. Linux's Landlock lets any process give up rights for good, for itself and all it
starts. The kernel's launcher gives up, before ipykernel starts a thread:

* creating, removing, renaming into and writing files anywhere but ``/tmp`` (its working
  folder) and ``/dev/shm``, the two tmpfs of the sandbox's disk limit;
* writing device files other than by opening those in ``/dev`` (``/dev/null``...);
* making sockets anywhere but those two and the private folder, where ZMQ binds the
  kernel's channels.

A root grader does not need it: its kernel runs as a uid that owns none of these folders.
"""

from __future__ import annotations

import functools
import inspect
import textwrap

__all__ = ["abi_version", "launcher_prelude", "restrict_writes"]

#: landlock_create_ruleset, the same number on every architecture (restrict_writes
#: spells its three calls out: its source runs alone in the kernel's launcher).
_CREATE_RULESET = 444
_VERSION_QUERY = 1


def abi_version() -> int:
    """The Landlock ABI this host's kernel offers, or 0 where it has none (older than
    Linux 5.13, or not enabled).

    Examples
    --------
    >>> abi_version() >= 0
    True
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _VERSION_QUERY)
    return max(int(version), 0)


def restrict_writes(writable: list[str], devices: str, sockets: list[str]) -> None:
    """Give up, for this process and all it starts, every write but those listed.

    Runs first in the grading kernel's launcher (its source is copied there, so it uses
    only the standard library).

    Parameters
    ----------
    writable : list of str
        Folders beneath which files may be made, written, truncated, renamed and removed.
    devices : str
        The folder whose existing files may be opened for writing (``/dev``).
    sockets : list of str
        Further folders beneath which sockets (only) may be made.

    Raises
    ------
    OSError
        If the host has no Landlock, or a rule cannot be added: the caller decides whether
        to go on without it.
    """
    import ctypes
    import os

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long

    def call(*arguments: object) -> int:
        result = libc.syscall(*arguments)
        if result < 0:
            number = ctypes.get_errno()
            raise OSError(number, f"landlock: {os.strerror(number)}")
        return result

    abi = call(444, None, ctypes.c_size_t(0), 1)
    write_file, remove_dir, remove_file = 1 << 1, 1 << 4, 1 << 5
    make = sum(1 << bit for bit in (6, 7, 8, 9, 10, 11, 12))  # char dir reg sock fifo block sym
    make_sock = 1 << 9
    refer = 1 << 13 if abi >= 2 else 0  # renames and links across folders
    truncate = 1 << 14 if abi >= 3 else 0
    handled = write_file | remove_dir | remove_file | make | refer | truncate

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))

    attributes = ctypes.c_uint64(handled)
    ruleset = call(444, ctypes.byref(attributes), ctypes.c_size_t(ctypes.sizeof(attributes)), 0)
    try:
        rules = [(folder, handled) for folder in writable]
        rules += [(devices, write_file | truncate)]
        rules += [(folder, make_sock) for folder in sockets]
        for folder, allowed in rules:
            opened = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                rule = PathBeneath(allowed, opened)
                call(445, ruleset, 1, ctypes.byref(rule), 0)
            finally:
                os.close(opened)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: Landlock asks for it
            raise OSError(ctypes.get_errno(), "landlock: no_new_privs refused")
        call(446, ruleset, 0)
    finally:
        os.close(ruleset)


def launcher_prelude(writable: list[str], devices: str, sockets: list[str]) -> str:
    """Python source that applies :func:`restrict_writes` with these folders, for the start
    of the kernel's ``python -c`` launcher; a failure stops the kernel (the grader checked
    that the host has Landlock before asking for it).

    Examples
    --------
    >>> source = launcher_prelude(["/tmp"], "/dev", ["/run/kernel"])
    >>> compile(source, "<launcher>", "exec") is not None
    True
    """
    return f"{_restrict_writes_source()}\nrestrict_writes({writable!r}, {devices!r}, {sockets!r})\n"


@functools.cache
def _restrict_writes_source() -> str:
    # read once per process, not at every kernel start
    return textwrap.dedent(inspect.getsource(restrict_writes))
