"""The seccomp filter a sandboxed kernel's launcher installs, for good, before ipykernel
starts a thread: the system calls no notebook needs and the sandbox cannot otherwise close.

Always:

* sockets only of the families a kernel uses: Unix (ZMQ's ``ipc`` sockets, socket pairs),
  IPv4 and IPv6 (inside the sandbox's own network namespace, which holds a loopback and
  nothing else) and netlink (the C library asks it which addresses exist). Every other
  family fails with ``EPERM``: ``AF_VSOCK`` reaches the host of a virtual machine whatever
  the network namespace, and the rest (``AF_ALG``, ``AF_PACKET``, Bluetooth, ...) are
  kernel code no notebook needs;
* ``io_uring_setup``, ``io_uring_enter`` and ``io_uring_register`` fail with ``ENOSYS``,
  so libraries fall back to ordinary calls: the operations a ring runs pass no filter;
  and so does ``io_setup`` (Linux AIO), whose contexts count against one limit for the
  whole host (``fs.aio-max-nr``), which one kernel could otherwise hold whole;
* ``add_key``, ``request_key`` and ``keyctl`` fail with ``EPERM``: the kernel's keyrings
  are not a namespace, and a process started by the grader holds the grader's session
  keyring (Kerberos tickets, file-system keys, tokens), whose keys it may read whatever
  its uid; no notebook needs a keyring;
* ``userfaultfd``, ``perf_event_open`` and ``bpf`` fail with ``EPERM``: kernel code no
  notebook needs, on which attacks on the host's kernel lean (a userfaultfd holds a
  page fault, and so a kernel's copy, for as long as its reader likes; perf events and
  BPF programs are large interfaces of their own), and which a host otherwise opens or
  closes to every user with its sysctls (``vm.unprivileged_userfaultfd``,
  ``kernel.perf_event_paranoid``, ``kernel.unprivileged_bpf_disabled``);
* ``setrlimit`` and ``prlimit64`` of ``RLIMIT_CORE`` fail with ``EPERM`` (reading it
  passes): the sandbox sets it to 1, the one value at which Linux runs no core-dump helper
  (:data:`lstm_grader.sandbox.CORE_LIMIT`); at 0, a crash in the sandbox made the host
  run the program of its ``kernel.core_pattern`` (apport, systemd-coredump, abrt) as
  root, outside the sandbox's namespaces and control group, on what the crash left;
* every call through another system-call ABI (x86's 32-bit ``int 0x80``, x32) fails with
  ``EPERM``: the numbers here are those of the native ABI only.

And with ``one_process``, where no control group bounds the sandbox's memory (each
process then has only its own ``RLIMIT_AS``, and 60 forked children just under it could
hold a hundred GiB of the host's memory between them), threads, which share the kernel's
one address space, and no other process:

* ``clone`` without ``CLONE_THREAD``, ``fork`` and ``vfork`` fail with ``EPERM``, so
  ``os.fork``, ``subprocess`` and ``multiprocessing`` raise ``PermissionError``;
* ``clone3`` fails with ``ENOSYS``, so the C library starts threads with ``clone``,
  whose flags the filter can read (``clone3`` passes them in memory it cannot);
* ``memfd_create``, ``shmget``, ``semget`` and ``msgget`` fail with ``ENOSYS``: a memory
  file's pages, a System V segment's (attached, touched and detached), a System V
  semaphore set's and a System V message queue's live outside the address space
  ``RLIMIT_AS`` counts, so one kernel could otherwise hold gigabytes of the host's memory
  with a small address space (a set of 32,000 semaphores takes 2 MiB of the host's kernel
  memory, and the sandbox's IPC namespace allows 32,000 sets; its 32,000 queues hold
  16 kB each). They ask for shared memory or System V objects no notebook needs
  (Python's own semaphores are POSIX ones, files in ``/dev/shm``); libraries that try
  them fall back;
* sockets only of the Unix and netlink families (``AF_INET`` and ``AF_INET6`` fail with
  ``EPERM``), and ``setsockopt`` of a socket's buffer sizes (``SO_SNDBUF``,
  ``SO_RCVBUF`` and their ``FORCE`` forms) fails with ``EPERM``: what a socket holds
  queued lives outside the address space too. A TCP connection over the sandbox's
  loopback grows its buffers by itself, to about 4 MB each, up to the host-wide
  ``net.ipv4.tcp_mem`` that every TCP connection of the host shares, and a Unix socket
  whose send buffer is raised to the host's ``net.core.wmem_max`` holds that much again:
  one kernel held 15 GB of the host's memory in Unix socket pairs, half of them passed
  out of its open-file limit in flight. Without either, what one kernel can queue stays
  near the default buffer (``net.core.wmem_default``) times the sockets its open-file
  limit allows. ZMQ's ``ipc`` sockets keep the default buffers.

The filter holds for everything the kernel runs, ``execve`` included.

A kernel that owns its private folder (one run by a grader that is not root, which cannot
take the folder back from it, see :meth:`lstm_grader.sandbox.SandboxProvisioner.seal_kernel_folder`)
also installs, once ipykernel has bound its sockets there and before any cell runs, a
second filter (:func:`sealing_program`), in every thread it then has:

* ``bind`` fails with ``EACCES``, and so do ``mknod`` and ``mknodat`` of a socket: a
  socket file is the one entry Landlock lets the kernel make in that folder, which lies on
  the host's ``/dev/shm``, outside the sandbox's disk and file limits; a cell bound forty
  thousand of them a second, so within its timeout it could take every file the host's
  ``/dev/shm`` may hold, and with them a share of the host's memory no limit counts. A
  socket that is not bound still connects; no notebook needs to listen.
"""

from __future__ import annotations

import functools
import inspect
import platform
import struct
import textwrap
from dataclasses import dataclass

__all__ = [
    "ALLOWED_SOCKET_FAMILIES",
    "ONE_PROCESS_SOCKET_FAMILIES",
    "filter_program",
    "install_filter",
    "launcher_prelude",
    "sealing_prelude",
    "sealing_program",
]

# classic BPF as seccomp runs it (linux/filter.h, linux/seccomp.h, linux/audit.h)
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JUMP_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_AT_LEAST = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JUMP_ANY_BIT = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_AND = 0x54  # BPF_ALU | BPF_AND | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_EPERM, _EACCES, _ENOSYS = 1, 13, 38
# a mode's file type bits, and a socket's (linux/stat.h)
_FILE_TYPE, _SOCKET_FILE = 0o170000, 0o140000
_CLONE_THREAD = 0x00010000
# struct seccomp_data: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64); the
# low word of the first argument (clone's flags, socket's family) is at offset 16 on both
# little-endian machines below, and the kernel reads a family as a 32-bit int
_NUMBER, _ARCH, _FIRST_ARGUMENT_LOW_WORD = 0, 4, 16
# and the low words of the second and third (setsockopt's level and option name)
_SECOND_ARGUMENT_LOW_WORD, _THIRD_ARGUMENT_LOW_WORD = 24, 32
_THIRD_ARGUMENT_HIGH_WORD = 36
#: RLIMIT_CORE, the same number on both machines below
_RLIMIT_CORE = 4

#: The socket families a sandboxed kernel may open: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK.
ALLOWED_SOCKET_FAMILIES = (1, 2, 10, 16)
#: Those of a kernel kept to one process (no control group counts its sockets' buffers):
#: AF_UNIX and AF_NETLINK.
ONE_PROCESS_SOCKET_FAMILIES = (1, 16)
#: SOL_SOCKET, and its options that size a socket's buffers: SO_SNDBUF, SO_RCVBUF,
#: SO_SNDBUFFORCE, SO_RCVBUFFORCE (the same numbers on both machines below).
_SOL_SOCKET, _BUFFER_SIZE_OPTIONS = 1, (7, 8, 32, 33)


@dataclass(frozen=True)
class _Machine:
    """One architecture's numbers, for its native system-call ABI."""

    audit_arch: int
    clone: int
    forks: tuple[int, ...]  # the calls that only ever make a process (fork, vfork)
    clone3: int
    sockets: tuple[int, ...]  # socket, socketpair
    setsockopt: int
    io_uring: tuple[int, ...]  # io_uring_setup, io_uring_enter, io_uring_register
    aio_setup: int  # io_setup: no other AIO call does anything without its context
    keyrings: tuple[int, ...]  # add_key, request_key, keyctl
    kernel_interfaces: tuple[int, ...]  # userfaultfd, perf_event_open, bpf
    # memfd_create, shmget, semget, msgget: memory RLIMIT_AS does not count
    beside_address_space: tuple[int, ...]
    other_abi: int | None  # the first number of a second ABI sharing the architecture
    bind: int
    # (number, which argument holds the mode: 1 or 2) of mknod and mknodat
    make_nodes: tuple[tuple[int, int], ...]
    seccomp: int  # the seccomp call, the only way to filter every thread at once
    setrlimit: int
    prlimit: int  # prlimit64(pid, resource, new limit or NULL, old limit or NULL)


_MACHINES = {
    "x86_64": _Machine(
        0xC000003E,
        56,
        (57, 58),
        435,
        (41, 53),
        54,
        (425, 426, 427),
        206,
        (248, 249, 250),
        (323, 298, 321),
        (319, 29, 64, 68),
        0x40000000,
        49,
        ((133, 1), (259, 2)),
        317,
        160,
        302,
    ),
    "aarch64": _Machine(
        0xC00000B7,
        220,
        (),
        435,
        (198, 199),
        208,
        (425, 426, 427),
        0,
        (217, 218, 219),
        (282, 241, 280),
        (279, 194, 190, 186),
        None,
        200,
        ((33, 2),),
        277,
        164,
        261,
    ),
}


#: One instruction of a filter as written: (code, jump if true, jump if false, constant), or
#: a label's name where the next instruction starts; a jump names its label (all jumps run
#: forward) or an offset.
_Instruction = tuple[int, str | int, str | int, int] | str


def _machine(machine: str | None) -> _Machine | None:
    """What a filter needs to know of ``machine`` (default: this one); None if unknown."""
    return _MACHINES.get(machine or platform.machine())


def filter_program(machine: str | None = None, *, one_process: bool = False) -> bytes | None:
    """The seccomp filter, as the bytes of its ``struct sock_filter`` array, for
    ``machine`` (default: this one, as :func:`platform.machine` names it), keeping the
    kernel to one process if ``one_process``; None for an architecture it does not know.

    Examples
    --------
    >>> len(filter_program("x86_64")) % 8
    0
    >>> filter_program("mips") is None
    True
    """
    known = _machine(machine)
    if known is None:
        return None
    program: list[_Instruction] = [
        (_LOAD_WORD, 0, 0, _ARCH),
        (_JUMP_EQUAL, 0, "refuse", known.audit_arch),
        (_LOAD_WORD, 0, 0, _NUMBER),
    ]
    if known.other_abi is not None:
        program.append((_JUMP_AT_LEAST, "refuse", 0, known.other_abi))
    program += [(_JUMP_EQUAL, "family", 0, number) for number in known.sockets]
    program += [
        (_JUMP_EQUAL, "no-such-call", 0, number) for number in (*known.io_uring, known.aio_setup)
    ]
    program += [
        (_JUMP_EQUAL, "refuse", 0, number) for number in (*known.keyrings, *known.kernel_interfaces)
    ]
    program += [
        (_JUMP_EQUAL, "set-limit", 0, known.setrlimit),
        (_JUMP_EQUAL, "limit-of-a-process", 0, known.prlimit),
    ]
    families = ALLOWED_SOCKET_FAMILIES
    if one_process:
        families = ONE_PROCESS_SOCKET_FAMILIES
        program.append((_JUMP_EQUAL, "buffer-size", 0, known.setsockopt))
        program += [
            (_JUMP_EQUAL, "no-such-call", 0, number) for number in known.beside_address_space
        ]
        program += [(_JUMP_EQUAL, "refuse", 0, number) for number in known.forks]
        program += [
            (_JUMP_EQUAL, "no-such-call", 0, known.clone3),
            (_JUMP_EQUAL, 0, "allow", known.clone),
            (_LOAD_WORD, 0, 0, _FIRST_ARGUMENT_LOW_WORD),
            (_JUMP_ANY_BIT, "allow", "refuse", _CLONE_THREAD),
        ]
    else:
        program.append((_JUMP_EQUAL, "allow", "allow", 0))
    if one_process:
        program += [
            "buffer-size",
            (_LOAD_WORD, 0, 0, _SECOND_ARGUMENT_LOW_WORD),
            (_JUMP_EQUAL, 0, "allow", _SOL_SOCKET),
            (_LOAD_WORD, 0, 0, _THIRD_ARGUMENT_LOW_WORD),
        ]
        program += [(_JUMP_EQUAL, "refuse", 0, option) for option in _BUFFER_SIZE_OPTIONS]
        program.append((_JUMP_EQUAL, "allow", "allow", 0))
    program += [
        "set-limit",
        (_LOAD_WORD, 0, 0, _FIRST_ARGUMENT_LOW_WORD),
        (_JUMP_EQUAL, "refuse", "allow", _RLIMIT_CORE),
        "limit-of-a-process",
        (_LOAD_WORD, 0, 0, _SECOND_ARGUMENT_LOW_WORD),
        (_JUMP_EQUAL, 0, "allow", _RLIMIT_CORE),
        # a new limit given (its pointer, either word, not 0): refused; only read
        (_LOAD_WORD, 0, 0, _THIRD_ARGUMENT_LOW_WORD),
        (_JUMP_EQUAL, 0, "refuse", 0),
        (_LOAD_WORD, 0, 0, _THIRD_ARGUMENT_HIGH_WORD),
        (_JUMP_EQUAL, "allow", "refuse", 0),
    ]
    program += ["family", (_LOAD_WORD, 0, 0, _FIRST_ARGUMENT_LOW_WORD)]
    program += [(_JUMP_EQUAL, "allow", 0, family) for family in families]
    program += [
        (_JUMP_EQUAL, "refuse", "refuse", 0),
        "allow",
        (_RETURN, 0, 0, _ALLOW),
        "refuse",
        (_RETURN, 0, 0, _ERRNO | _EPERM),
        "no-such-call",
        (_RETURN, 0, 0, _ERRNO | _ENOSYS),
    ]
    return _assemble(program)


def sealing_program(machine: str | None = None) -> bytes | None:
    """The second filter of a kernel that owns its private folder, as the bytes of its
    ``struct sock_filter`` array: ``bind``, and ``mknod``/``mknodat`` of a socket, fail
    with ``EACCES``; every other call passes (the first filter still judges it). None for
    an architecture it does not know.

    Examples
    --------
    >>> sealing_program("aarch64") != sealing_program("x86_64")  # each its own call numbers
    True
    >>> print(sealing_program("mips"))
    None
    """
    known = _machine(machine)
    return None if known is None else _assemble(_sealing_instructions(known))


def _sealing_instructions(known: _Machine) -> list[_Instruction]:
    """The instructions of :func:`sealing_program` for the machine ``known``."""
    program: list[_Instruction] = [
        (_LOAD_WORD, 0, 0, _ARCH),
        (_JUMP_EQUAL, 0, "allow", known.audit_arch),  # the first filter refuses the rest
        (_LOAD_WORD, 0, 0, _NUMBER),
        (_JUMP_EQUAL, "refuse", 0, known.bind),
    ]
    for number, _ in known.make_nodes:
        program.append((_JUMP_EQUAL, f"mode-{number}", 0, number))
    program.append((_JUMP_EQUAL, "allow", "allow", 0))
    arguments = {1: _SECOND_ARGUMENT_LOW_WORD, 2: _THIRD_ARGUMENT_LOW_WORD}
    for number, argument in known.make_nodes:
        program += [
            f"mode-{number}",
            (_LOAD_WORD, 0, 0, arguments[argument]),
            (_AND, 0, 0, _FILE_TYPE),
            (_JUMP_EQUAL, "refuse", "allow", _SOCKET_FILE),
        ]
    program += [
        "allow",
        (_RETURN, 0, 0, _ALLOW),
        "refuse",
        (_RETURN, 0, 0, _ERRNO | _EACCES),
    ]
    return program


def _assemble(program: list[_Instruction]) -> bytes:
    """The bytes of ``program``, its labels resolved to jump offsets."""
    labels: dict[str, int] = {}
    instructions: list[tuple[int, str | int, str | int, int]] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(instructions)
        else:
            instructions.append(item)

    def offset(at: int, target: str | int) -> int:
        return labels[target] - at - 1 if isinstance(target, str) else target

    return b"".join(
        struct.pack("=HBBI", code, offset(at, yes), offset(at, no), constant)
        for at, (code, yes, no, constant) in enumerate(instructions)
    )


def install_filter(program: bytes, every_thread_via: int | None = None) -> None:
    """Install ``program`` (:func:`filter_program`) as this process's seccomp filter, for
    it and all it runs, for good.

    Runs first in the grading kernel's launcher (its source is copied there, so it uses
    only the standard library).

    Parameters
    ----------
    program : bytes
        The filter's instructions.
    every_thread_via : int, optional
        The number of the ``seccomp`` system call: the filter then goes to every thread
        the process already runs (``SECCOMP_FILTER_FLAG_TSYNC``), not only the caller.

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
    # SECCOMP_MODE_FILTER, or seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC),
    # which answers a thread's id where it could not filter that thread
    if libc.prctl(38, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp: no_new_privs refused")
    if every_thread_via is None:
        installed = libc.prctl(22, 2, ctypes.byref(fprog), 0, 0)
    else:
        installed = libc.syscall(every_thread_via, 1, 1, ctypes.byref(fprog))
    if installed != 0:
        raise OSError(ctypes.get_errno(), "seccomp: the filter was refused")


def launcher_prelude(*, one_process: bool = False) -> str | None:
    """Python source that installs the filter (keeping the kernel to one process if
    ``one_process``), for the start of the kernel's ``python -c`` launcher; None on an
    architecture :func:`filter_program` does not know.

    Examples
    --------
    >>> source = launcher_prelude()
    >>> source is None or compile(source, "<launcher>", "exec") is not None
    True
    """
    program = filter_program(one_process=one_process)
    if program is None:
        return None
    return f"{_install_source()}\ninstall_filter({program!r})\n"


def sealing_prelude() -> str | None:
    """Python source that installs :func:`sealing_program` in every thread of the process
    that runs it, for the grading kernel's launcher once ipykernel has bound its sockets;
    None on an architecture it does not know.

    Examples
    --------
    >>> source = sealing_prelude()
    >>> source is None or compile(source, "<launcher>", "exec") is not None
    True
    """
    program = sealing_program()
    if program is None:
        return None
    call = _MACHINES[platform.machine()].seccomp
    return f"{_install_source()}\ninstall_filter({program!r}, every_thread_via={call})\n"


@functools.cache
def _install_source() -> str:
    # read once per process, not at every kernel start
    return textwrap.dedent(inspect.getsource(install_filter))
