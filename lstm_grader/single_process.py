"""Keep a sandboxed kernel to one process where no control group bounds its memory.

Each process of the sandbox has its own address-space limit (``RLIMIT_AS``); only a
control group bounds what all of them hold together. A grader that is not root usually
has none to divide, and then a kernel that forks 60 children, each just under the
per-process limit, could hold a hundred GiB of the host's memory between them. There, the
kernel's launcher installs a seccomp filter, before ipykernel starts a thread, that lets
it start threads (which share its one address space) and no other process:

* ``clone`` without ``CLONE_THREAD``, ``fork`` and ``vfork`` fail with ``EPERM``, so
  ``os.fork``, ``subprocess`` and ``multiprocessing`` raise ``PermissionError``;
* ``clone3`` fails with ``ENOSYS``, so the C library starts threads with ``clone``,
  whose flags the filter can read (``clone3`` passes them in memory it cannot);
* every call through another system-call ABI (x86's 32-bit ``int 0x80``, x32) fails
  with ``EPERM``: the numbers above are those of the native ABI only.

The whole sandbox then holds at most one address space (``address_space_mb``) and its two
tmpfs. The filter holds for good, for everything the kernel runs, ``execve`` included.
"""

from __future__ import annotations

import functools
import inspect
import platform
import struct
import textwrap

__all__ = ["filter_program", "forbid_new_processes", "launcher_prelude"]

# classic BPF as seccomp runs it (linux/filter.h, linux/seccomp.h, linux/audit.h)
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JUMP_ANY_BIT = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38
_CLONE_THREAD = 0x00010000
# struct seccomp_data: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64)
_NUMBER, _ARCH, _FLAGS_LOW_WORD = 0, 4, 16

#: Per machine: its audit architecture, ``clone``, the calls that only ever make a process
#: (``fork``, ``vfork``), ``clone3``, and the first number of a second ABI sharing the
#: architecture (x32 on x86-64), if any. Both are little-endian, so the low word of
#: ``clone``'s flags is at offset 16.
_SYSTEM_CALLS: dict[str, tuple[int, int, tuple[int, ...], int, int | None]] = {
    "x86_64": (0xC000003E, 56, (57, 58), 435, 0x40000000),
    "aarch64": (0xC00000B7, 220, (), 435, None),
}


def filter_program(machine: str | None = None) -> bytes | None:
    """The seccomp filter, as the bytes of its ``struct sock_filter`` array, for
    ``machine`` (default: this one, as :func:`platform.machine` names it); None for an
    architecture it does not know.

    Examples
    --------
    >>> len(filter_program("x86_64")) % 8
    0
    >>> filter_program("mips") is None
    True
    """
    known = _SYSTEM_CALLS.get(machine or platform.machine())
    if known is None:
        return None
    arch, clone, forks, clone3, other_abi = known
    # (code, jump if true, jump if false, constant); a jump names the label it lands on
    program: list[tuple[int, str | int, str | int, int]] = [
        (_LOAD_WORD, 0, 0, _ARCH),
        (_JUMP_EQUAL, 0, "refuse", arch),
        (_LOAD_WORD, 0, 0, _NUMBER),
    ]
    if other_abi is not None:
        program.append((_JUMP_AT_LEAST, "refuse", 0, other_abi))
    program += [(_JUMP_EQUAL, "refuse", 0, number) for number in forks]
    program += [
        (_JUMP_EQUAL, "no-such-call", 0, clone3),
        (_JUMP_EQUAL, 0, "allow", clone),
        (_LOAD_WORD, 0, 0, _FLAGS_LOW_WORD),
        (_JUMP_ANY_BIT, "allow", "refuse", _CLONE_THREAD),
    ]
    labels = {"allow": len(program), "refuse": len(program) + 1, "no-such-call": len(program) + 2}
    program += [
        (_RETURN, 0, 0, _ALLOW),
        (_RETURN, 0, 0, _ERRNO | _EPERM),
        (_RETURN, 0, 0, _ERRNO | _ENOSYS),
    ]

    def offset(at: int, target: str | int) -> int:
        return labels[target] - at - 1 if isinstance(target, str) else target

    return b"".join(
        struct.pack("=HBBI", code, offset(at, yes), offset(at, no), constant)
        for at, (code, yes, no, constant) in enumerate(program)
    )


def forbid_new_processes(program: bytes) -> None:
    """Install ``program`` (:func:`filter_program`) as this process's seccomp filter, for
    it and all it runs, for good.

    Runs first in the grading kernel's launcher (its source is copied there, so it uses
    only the standard library).

    Raises
    ------
    OSError
        If the host refuses the filter: the kernel then does not start.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    class Program(ctypes.Structure):
        _fields_ = (("length", ctypes.c_ushort), ("filter", ctypes.c_char_p))

    instructions = ctypes.create_string_buffer(program, len(program))
    fprog = Program(len(program) // 8, ctypes.cast(instructions, ctypes.c_char_p))
    # PR_SET_NO_NEW_PRIVS, which an unprivileged filter needs; then PR_SET_SECCOMP with
    # SECCOMP_MODE_FILTER
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp: the filter was refused")


def launcher_prelude() -> str | None:
    """Python source that installs the filter, for the start of the kernel's ``python -c``
    launcher; None on an architecture :func:`filter_program` does not know.

    Examples
    --------
    >>> source = launcher_prelude()
    >>> source is None or compile(source, "<launcher>", "exec") is not None
    True
    """
    program = filter_program()
    if program is None:
        return None
    return f"{_forbid_source()}\nforbid_new_processes({program!r})\n"


@functools.cache
def _forbid_source() -> str:
    # read once per process, not at every kernel start
    return textwrap.dedent(inspect.getsource(forbid_new_processes))
