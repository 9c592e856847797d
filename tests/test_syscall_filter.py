"""Does the seccomp prelude leave a kernel the sockets it needs, no io_uring, and, where
asked, its threads and no other process?

The filter's decisions are read two ways: by running its classic BPF here, for every
architecture, system call and socket family (so the other ABIs are covered where no
test can call them), and by installing it in a fresh interpreter, as the grading
kernel's launcher does, that then opens sockets, starts threads, forks, runs a program
and starts a multiprocessing child.
"""

from __future__ import annotations

import json
import platform
import resource
import struct
import subprocess
import sys

import pytest
from conftest import require_or_skip
from hypothesis import given
from hypothesis import strategies as st

from lstm_grader import syscall_filter

ALLOW, EPERM, EACCES, ENOSYS = 0x7FFF0000, 0x00050001, 0x0005000D, 0x00050026
CLONE_THREAD = 0x00010000
#: audit architecture, clone, fork and vfork, clone3, socket and socketpair, per machine
#: the filter knows (from the kernel's unistd headers)
MACHINES = {
    "x86_64": (0xC000003E, 56, (57, 58), 435, (41, 53)),
    "aarch64": (0xC00000B7, 220, (), 435, (198, 199)),
}
IO_URING = (425, 426, 427)
#: io_setup (Linux AIO), per machine
AIO_SETUP = {"x86_64": 206, "aarch64": 0}
#: add_key, request_key and keyctl, per machine
KEYRINGS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}
#: userfaultfd, perf_event_open and bpf, per machine
KERNEL_INTERFACES = {"x86_64": (323, 298, 321), "aarch64": (282, 241, 280)}
#: memfd_create, shmget, semget and msgget, per machine
SHARED_MEMORY = {"x86_64": (319, 29, 64, 68), "aarch64": (279, 194, 190, 186)}
#: setsockopt, per machine
SETSOCKOPT = {"x86_64": 54, "aarch64": 208}
SOL_SOCKET, SOL_TCP = 1, 6
#: SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE; and SO_REUSEADDR, SO_KEEPALIVE
BUFFER_SIZE_OPTIONS, OTHER_OPTIONS = (7, 8, 32, 33), (2, 9)
I386 = 0x40000003
#: bind, and (number, which argument holds the mode) of mknod and mknodat, per machine
BIND = {"x86_64": 49, "aarch64": 200}
MAKE_NODES = {"x86_64": ((133, 1), (259, 2)), "aarch64": ((33, 2),)}
#: setrlimit and prlimit64, per machine; RLIMIT_CORE
SETRLIMIT = {"x86_64": 160, "aarch64": 164}
PRLIMIT = {"x86_64": 302, "aarch64": 261}
RLIMIT_CORE = 4
S_IFSOCK, OTHER_FILE_TYPES = 0o140000, (0o010000, 0o020000, 0o040000, 0o060000, 0o100000, 0)
AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_ALG, AF_VSOCK = 1, 2, 10, 16, 17, 38, 40


def decide(program: bytes, number: int, arch: int, first: int = 0) -> int:
    """Run the filter on one call (``first``: its first argument), as the kernel runs
    classic BPF: its return value."""
    return run_filter(program, struct.pack("=iIQ6Q", number, arch, 0, first, 0, 0, 0, 0, 0))


def run_filter(program: bytes, data: bytes) -> int:
    """Run the filter on one call's ``struct seccomp_data``: its return value."""
    instructions = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    accumulator, at = 0, 0
    while True:
        code, yes, no, constant = instructions[at]
        at += 1
        if code == 0x20:  # load a word of the call's data
            accumulator = struct.unpack_from("=I", data, constant)[0]
        elif code == 0x54:  # and a constant into the accumulator
            accumulator &= constant
        elif code == 0x06:
            return constant
        else:
            taken = {
                0x15: accumulator == constant,
                0x35: accumulator >= constant,
                0x45: bool(accumulator & constant),
            }[code]
            at += yes if taken else no


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_threads_pass_and_every_other_process_start_is_refused(machine: str) -> None:
    """Is clone with CLONE_THREAD allowed; clone without it, fork and vfork refused (EPERM);
    clone3 told it does not exist (ENOSYS), so the C library falls back to clone?"""
    program = syscall_filter.filter_program(machine, one_process=True)
    arch, clone, forks, clone3, _ = MACHINES[machine]
    thread_flags = 0x003D0F00  # what glibc's pthread_create passes
    assert decide(program, clone, arch, thread_flags) == ALLOW
    assert decide(program, clone, arch, 0x01200011) == EPERM  # glibc's fork
    assert decide(program, clone, arch, 0x00004111) == EPERM  # posix_spawn: VM | VFORK
    assert decide(program, clone3, arch) == ENOSYS
    for number in forks:
        assert decide(program, number, arch) == EPERM


@pytest.mark.parametrize("machine", sorted(MACHINES))
@pytest.mark.parametrize("one_process", [True, False])
def test_shared_memory_is_refused_only_where_no_group_bounds_the_memory(
    machine: str, one_process: bool
) -> None:
    """Where no control group bounds the sandbox's memory, are memfd_create, shmget, semget
    and msgget told they do not exist (their memory lives outside the address space
    RLIMIT_AS counts: one kernel held 5 GB of the host's memory in a 659 MiB address space,
    and a semaphore set holds 2 MiB), and where a group does, do they pass (the group
    counts them)?"""
    program = syscall_filter.filter_program(machine, one_process=one_process)
    arch = MACHINES[machine][0]
    for number in SHARED_MEMORY[machine]:
        assert decide(program, number, arch) == (ENOSYS if one_process else ALLOW)


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_without_one_process_every_process_start_passes(machine: str) -> None:
    """Where a control group bounds the memory, may the kernel still fork (clone with
    fork's flags, fork, vfork, clone3)?"""
    program = syscall_filter.filter_program(machine)
    arch, clone, forks, clone3, _ = MACHINES[machine]
    for number in (clone, clone3, *forks):
        assert decide(program, number, arch, 0x01200011) == ALLOW


@given(
    machine=st.sampled_from(sorted(MACHINES)),
    one_process=st.booleans(),
    family=st.one_of(st.integers(0, 64), st.integers(0, 2**64 - 1)),
)
def test_only_the_socket_families_a_kernel_needs_open(
    machine: str, one_process: bool, family: int
) -> None:
    """Do socket and socketpair pass for Unix, IPv4, IPv6 and netlink only (Unix and
    netlink only where the kernel keeps to one process), judged by the 32-bit int the
    kernel reads (the high word is ignored, as the kernel ignores it), and is every other
    family refused with EPERM: AF_VSOCK, which no network namespace isolates, AF_PACKET,
    AF_ALG?"""
    program = syscall_filter.filter_program(machine, one_process=one_process)
    arch, *_, sockets = MACHINES[machine]
    families = (AF_UNIX, AF_NETLINK) if one_process else (AF_UNIX, AF_INET, AF_INET6, AF_NETLINK)
    allowed = family & 0xFFFFFFFF in families
    for number in sockets:
        assert decide(program, number, arch, family) == (ALLOW if allowed else EPERM)
    for refused in (AF_PACKET, AF_ALG, AF_VSOCK):
        assert decide(program, sockets[0], arch, refused) == EPERM


@pytest.mark.parametrize("machine", sorted(MACHINES))
@pytest.mark.parametrize("one_process", [True, False])
def test_socket_buffers_keep_their_size_only_where_no_group_counts_them(
    machine: str, one_process: bool
) -> None:
    """Where no control group bounds the sandbox's memory, is setsockopt of a buffer size
    refused (EPERM), while other options and levels pass (a Unix socket raised to the
    host's wmem_max held 8 MB of the host's memory each, past the address space); and
    where a group does, does it pass?"""
    program = syscall_filter.filter_program(machine, one_process=one_process)
    arch, number = MACHINES[machine][0], SETSOCKOPT[machine]

    def decided(level: int, option: int) -> int:
        data = struct.pack("=iIQ6Q", number, arch, 0, 3, level, option, 0, 0, 0)
        return run_filter(program, data)

    for option in BUFFER_SIZE_OPTIONS:
        assert decided(SOL_SOCKET, option) == (EPERM if one_process else ALLOW)
        assert decided(SOL_TCP, option) == ALLOW  # TCP_MAXSEG and others share the numbers
    for option in OTHER_OPTIONS:
        assert decided(SOL_SOCKET, option) == ALLOW


@given(
    machine=st.sampled_from(sorted(MACHINES)),
    one_process=st.booleans(),
    number=st.integers(0, 2**31 - 1),
)
def test_other_calls_pass_and_other_abis_io_uring_and_keyrings_are_refused(
    machine: str, one_process: bool, number: int
) -> None:
    """Does every other native call pass, whatever its number; are io_uring's three calls and
    Linux AIO's io_setup told they do not exist (ENOSYS); are the keyring calls,
    userfaultfd, perf_event_open and bpf refused; and is every call through another ABI
    (i386's int 0x80, x86-64's x32 numbers) refused?"""
    program = syscall_filter.filter_program(machine, one_process=one_process)
    arch, clone, forks, clone3, sockets = MACHINES[machine]
    assert decide(program, number, I386) == EPERM
    for ring_call in (*IO_URING, AIO_SETUP[machine]):
        assert decide(program, ring_call, arch) == ENOSYS
    for refused_call in (*KEYRINGS[machine], *KERNEL_INTERFACES[machine]):
        assert decide(program, refused_call, arch) == EPERM
    if machine == "x86_64" and number >= 0x40000000:
        assert decide(program, number, arch) == EPERM
    elif number not in (
        clone,
        clone3,
        *forks,
        *sockets,
        *IO_URING,
        AIO_SETUP[machine],
        *KEYRINGS[machine],
        *KERNEL_INTERFACES[machine],
        *(SHARED_MEMORY[machine] if one_process else ()),
    ):
        assert decide(program, number, arch) == ALLOW


PROBE = """
import json, multiprocessing, os, subprocess, threading
done = {}
ran = []
worker = threading.Thread(target=lambda: ran.append(True))
worker.start()
worker.join()
done["thread"] = ran == [True]

def attempt(name, action):
    try:
        action()
        done[name] = "ran"
    except OSError as exc:
        done[name] = exc.errno

def fork():
    if os.fork() == 0:
        os._exit(0)
    os.wait()

attempt("fork", fork)
attempt("subprocess", lambda: subprocess.run(["true"], check=True))
forked = multiprocessing.get_context("fork")
attempt("multiprocessing", lambda: forked.Process(target=print).start())
print(json.dumps(done))
"""


def run_probe(prelude: str, probe: str = PROBE) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", prelude + probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_interpreter_under_the_filter_starts_threads_and_nothing_else() -> None:
    """After the prelude, does a fresh interpreter still start a thread, while fork,
    subprocess and multiprocessing fail with EPERM; and without it do all three run (so
    the refusals are the filter's)?"""
    require_or_skip(
        platform.system() == "Linux" and platform.machine() in MACHINES,
        "Linux on x86-64 or aarch64, where the filter is made",
    )
    started = {"fork": "ran", "subprocess": "ran", "multiprocessing": "ran"}
    assert run_probe("") == {"thread": True, **started}
    assert run_probe(syscall_filter.launcher_prelude()) == {"thread": True, **started}
    prelude = syscall_filter.launcher_prelude(one_process=True)
    assert prelude is not None
    assert run_probe(prelude) == {"thread": True, **dict.fromkeys(started, 1)}


SHARED_MEMORY_PROBE = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
done = {}
try:
    fd = os.memfd_create("held")
    os.write(fd, b"x" * 4096)
    done["memfd"] = "held"
except OSError as exc:
    done["memfd"] = exc.errno
segment = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
done["shmget"] = "held" if segment >= 0 else ctypes.get_errno()
if segment >= 0:
    libc.shmctl(segment, 0, None)  # IPC_RMID
semaphores = libc.semget(0, 16, 0o1600)
done["semget"] = "held" if semaphores >= 0 else ctypes.get_errno()
if semaphores >= 0:
    libc.semctl(semaphores, 0, 0)  # IPC_RMID
queue = libc.msgget(0, 0o1600)
done["msgget"] = "held" if queue >= 0 else ctypes.get_errno()
if queue >= 0:
    libc.msgctl(queue, 0, None)  # IPC_RMID
print(json.dumps(done))
"""


def test_an_interpreter_kept_to_one_process_holds_no_memory_file_or_segment() -> None:
    """After the one-process prelude, do os.memfd_create, shmget, semget and msgget fail
    with ENOSYS, and without it (or with the prelude a control group backs) do all
    succeed?"""
    require_or_skip(
        platform.system() == "Linux" and platform.machine() in MACHINES,
        "Linux on x86-64 or aarch64, where the filter is made",
    )
    held = dict.fromkeys(("memfd", "shmget", "semget", "msgget"), "held")
    assert run_probe("", SHARED_MEMORY_PROBE) == held
    assert run_probe(syscall_filter.launcher_prelude(), SHARED_MEMORY_PROBE) == held
    prelude = syscall_filter.launcher_prelude(one_process=True)
    assert run_probe(prelude, SHARED_MEMORY_PROBE) == dict.fromkeys(held, 38)


SOCKET_PROBE = r"""
import ctypes, json, os, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
done = {}

def opened(name, family, kind=socket.SOCK_STREAM):
    try:
        socket.socket(family, kind).close()
        done[name] = "ran"
    except OSError as exc:
        done[name] = exc.errno

opened("unix", socket.AF_UNIX)
opened("inet", socket.AF_INET)
opened("inet6", socket.AF_INET6)
opened("netlink", socket.AF_NETLINK, socket.SOCK_RAW)
opened("vsock", 40)
opened("alg", 38, socket.SOCK_SEQPACKET)
opened("packet", 17, socket.SOCK_RAW)
try:
    for end in socket.socketpair():
        end.close()
    done["socketpair"] = "ran"
except OSError as exc:
    done["socketpair"] = exc.errno
end, other_end = socket.socketpair()
try:
    end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    done["buffer_size"] = "ran"
except OSError as exc:
    done["buffer_size"] = exc.errno
end.close()
other_end.close()
done["getaddrinfo"] = bool(socket.getaddrinfo("localhost", 80))
parameters = ctypes.create_string_buffer(120)
ring = libc.syscall(425, 8, parameters)  # io_uring_setup, one number on both machines
done["io_uring"] = ctypes.get_errno() if ring == -1 else "ran"
keyctl = {"x86_64": 250, "aarch64": 219}[os.uname().machine]
# KEYCTL_GET_KEYRING_ID of the session keyring, which a started process shares
found = libc.syscall(keyctl, 0, ctypes.c_long(-3), 0)
done["keyring"] = ctypes.get_errno() if found == -1 else "ran"
userfaultfd, perf_event_open = {"x86_64": (323, 298), "aarch64": (282, 241)}[os.uname().machine]
found = libc.syscall(userfaultfd, 1)  # UFFD_USER_MODE_ONLY, open to every user by default
done["userfaultfd"] = ctypes.get_errno() if found == -1 else "ran"
# a counter of this process's own user-space CPU clock, open to every user by default
attr = struct.pack("=IIQ4Q", 1, 128, 0, 0, 0, 0, 1 << 5 | 1 << 6).ljust(128, b"\0")
found = libc.syscall(perf_event_open, attr, 0, -1, -1, 0)
done["perf_event"] = ctypes.get_errno() if found == -1 else "ran"
print(json.dumps(done))
"""


def test_an_interpreter_under_the_filter_opens_only_the_sockets_it_needs() -> None:
    """After the prelude, with or without one process, does a fresh interpreter still open
    Unix and netlink sockets, a socket pair, and resolve localhost, as without it, and IP
    sockets and their buffer sizes only where a control group counts their buffers (not
    with one process: EPERM); while AF_VSOCK (a virtual machine's host, which the
    sandbox's network namespace does not cut off), AF_ALG and AF_PACKET fail with EPERM,
    io_uring with ENOSYS, and a look at the session keyring (the grader's, which it
    inherits), a userfaultfd and a perf event counter with EPERM?"""
    require_or_skip(
        platform.system() == "Linux" and platform.machine() in MACHINES,
        "Linux on x86-64 or aarch64, where the filter is made",
    )
    needed = {"unix": "ran", "netlink": "ran", "socketpair": "ran", "getaddrinfo": True}
    counted = {"inet": "ran", "inet6": "ran", "buffer_size": "ran"}
    unfiltered = run_probe("", SOCKET_PROBE)
    assert {name: unfiltered[name] for name in {**needed, **counted}} == {**needed, **counted}
    for one_process in (False, True):
        assert run_probe(
            syscall_filter.launcher_prelude(one_process=one_process), SOCKET_PROBE
        ) == {
            **needed,
            **(dict.fromkeys(counted, 1) if one_process else counted),
            "vsock": 1,
            "alg": 1,
            "packet": 1,
            "io_uring": 38,
            "keyring": 1,
            "userfaultfd": 1,
            "perf_event": 1,
        }


RAW_ATTEMPTS = r"""
import ctypes, json, os, signal
libc = ctypes.CDLL(None, use_errno=True)
done = {}

def raw(name, *arguments):
    result = libc.syscall(*arguments)
    if result == 0:  # a child: it must never get this far
        os._exit(0)
    done[name] = ctypes.get_errno() if result == -1 else "ran"

raw("clone-as-fork", 56, signal.SIGCHLD, 0, 0, 0, 0)
raw("clone-thread-bit-in-high-word", 56, ctypes.c_ulong(1 << 48 | signal.SIGCHLD), 0, 0, 0, 0)
clone_args = (ctypes.c_uint64 * 11)(0, 0, 0, 0, signal.SIGCHLD, 0, 0, 0, 0, 0, 0)
raw("clone3", 435, ctypes.byref(clone_args), ctypes.sizeof(clone_args))
raw("x32-fork", 57 | 0x40000000)
raw("vsock-family-in-high-word-too", 41, ctypes.c_ulong(1 << 32 | 40), 1, 0)
try:
    os.posix_spawn("/bin/true", ["true"], {})
    done["posix_spawn"] = "ran"
except OSError as exc:
    done["posix_spawn"] = exc.errno

class Program(ctypes.Structure):
    _fields_ = (("length", ctypes.c_ushort), ("filter", ctypes.c_void_p))

allow_all = ctypes.create_string_buffer(bytes([6, 0, 0, 0, 0, 0, 0xFF, 0x7F]), 8)
stacked = libc.prctl(22, 2, ctypes.byref(Program(1, ctypes.addressof(allow_all))), 0, 0)
done["stacked-allow-all"] = stacked
try:
    if os.fork() == 0:
        os._exit(0)
    done["fork-after-stacking"] = "ran"
except OSError as exc:
    done["fork-after-stacking"] = exc.errno
print(json.dumps(done))
"""


def test_raw_system_calls_and_a_stacked_filter_start_no_process() -> None:
    """A learner who knows the filter calls the kernel directly: clone with fork's flags,
    with CLONE_THREAD's bit moved to the high word, clone3 with a real argument block, the
    x32 number of fork, posix_spawn; then installs a filter that allows everything on top.
    Is every process start still refused (seccomp runs every filter and keeps the
    strictest answer)?"""
    require_or_skip(platform.machine() == "x86_64", "x86-64, whose call numbers the probe uses")
    result = subprocess.run(
        [sys.executable, "-c", syscall_filter.launcher_prelude(one_process=True) + RAW_ATTEMPTS],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "clone-as-fork": 1,
        "clone-thread-bit-in-high-word": 1,
        "clone3": 38,
        "x32-fork": 1,
        "vsock-family-in-high-word-too": 1,
        "posix_spawn": 1,
        "stacked-allow-all": 0,
        "fork-after-stacking": 1,
    }


@given(
    machine=st.sampled_from(sorted(MACHINES)),
    permissions=st.integers(0, 0o7777),
    other_type=st.sampled_from(OTHER_FILE_TYPES),
    number=st.integers(0, 2**31 - 1),
)
def test_the_sealing_filter_refuses_bind_and_socket_nodes_and_nothing_else(
    machine: str, permissions: int, other_type: int, number: int
) -> None:
    """Does the filter of a kernel that owns its private folder refuse bind, and mknod or
    mknodat of a socket, whatever its permissions (EACCES), and let every other node type
    and every other call through, other ABIs included (the first filter judges those)?"""
    program = syscall_filter.sealing_program(machine)
    arch = MACHINES[machine][0]
    assert decide(program, BIND[machine], arch, first=3) == EACCES
    make_nodes = dict(MAKE_NODES[machine])
    for call, argument in make_nodes.items():

        def made(mode: int, call: int = call, argument: int = argument) -> int:
            arguments = [0, 0, 0, 0, 0, 0]
            arguments[argument] = mode
            return run_filter(program, struct.pack("=iIQ6Q", call, arch, 0, *arguments))

        assert made(S_IFSOCK | permissions) == EACCES
        assert made(other_type | permissions) == ALLOW
    if number != BIND[machine] and number not in make_nodes:
        assert decide(program, number, arch) == ALLOW
    assert decide(program, BIND[machine], I386) == ALLOW


SEALED_PROBE_BEFORE = """
import json, os, socket, stat, sys, tempfile, threading
folder = tempfile.mkdtemp()
listener = socket.socket(socket.AF_UNIX)
listener.bind(folder + "/listening")
listener.listen()
asked, answered, found = threading.Event(), threading.Event(), {}
def bind_when_asked():
    asked.wait()
    found["earlier thread"] = attempt(lambda: bind(folder + "/from-earlier-thread"))
    answered.set()
def bind(path):
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(path)
def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return error.errno
earlier = threading.Thread(target=bind_when_asked)
earlier.start()
"""
SEALED_PROBE_AFTER = """
found["bind"] = attempt(lambda: bind(folder + "/after"))
found["mknod socket"] = attempt(lambda: os.mknod(folder + "/node", 0o600 | stat.S_IFSOCK))
found["mkfifo"] = attempt(lambda: os.mkfifo(folder + "/fifo"))
found["connect"] = attempt(lambda: socket.socket(socket.AF_UNIX).connect(folder + "/listening"))
asked.set()
answered.wait(10)
earlier.join()
print(json.dumps(found))
"""


def test_a_sealed_interpreter_binds_nothing_from_any_thread() -> None:
    """Once the sealing filter is installed, can neither the thread that installed it nor
    a thread started before bind a socket or make one with mknod, while a FIFO is still
    made and a socket bound before still takes connections; and without it, does each
    go through (so the refusals are the filter's)?"""
    require_or_skip(
        platform.system() == "Linux" and platform.machine() in MACHINES,
        "Linux on x86-64 or aarch64, where the filter is made",
    )
    sealing = syscall_filter.sealing_prelude()
    assert sealing is not None

    def run(middle: str) -> dict[str, object]:
        return run_probe("", SEALED_PROBE_BEFORE + middle + SEALED_PROBE_AFTER)

    done = dict.fromkeys(["bind", "mknod socket", "mkfifo", "connect", "earlier thread"], "done")
    assert run("") == done
    refused = {**done, "bind": 13, "mknod socket": 13, "earlier thread": 13}
    assert run(sealing) == refused


@given(
    machine=st.sampled_from(sorted(MACHINES)),
    one_process=st.booleans(),
    other_resource=st.integers(0, 15).filter(lambda resource: resource != RLIMIT_CORE),
    new_limit=st.integers(1, 2**64 - 1),
)
def test_the_core_file_limit_is_read_but_never_set(
    machine: str, one_process: bool, other_resource: int, new_limit: int
) -> None:
    """Is setrlimit of RLIMIT_CORE refused (EPERM), and prlimit64 of it given a new limit
    (a pointer whose low or high word is not 0), while prlimit64 only reading it passes, and
    both calls pass for every other resource? At 0 a crash ran the host's core_pattern
    program; the sandbox's 1 must stay."""
    program = syscall_filter.filter_program(machine, one_process=one_process)
    arch = MACHINES[machine][0]

    def decided(number: int, *arguments: int) -> int:
        padded = [*arguments, 0, 0, 0, 0, 0, 0][:6]
        return run_filter(program, struct.pack("=iIQ6Q", number, arch, 0, *padded))

    assert decided(SETRLIMIT[machine], RLIMIT_CORE, new_limit) == EPERM
    assert decided(SETRLIMIT[machine], other_resource, new_limit) == ALLOW
    assert decided(PRLIMIT[machine], 0, RLIMIT_CORE, new_limit) == EPERM
    assert decided(PRLIMIT[machine], 0, RLIMIT_CORE, 0, new_limit) == ALLOW
    assert decided(PRLIMIT[machine], 0, other_resource, new_limit) == ALLOW


CORE_LIMIT_PROBE = """
import json, resource
done = {"read": list(resource.getrlimit(resource.RLIMIT_CORE))}
for name, change in (
    ("core", lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),
    ("core of a process", lambda: resource.prlimit(0, resource.RLIMIT_CORE, (0, 0))),
    ("open files", lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))),
):
    try:
        change()
        done[name] = "set"
    except (OSError, ValueError):
        done[name] = "refused"
print(json.dumps(done))
"""


def test_an_interpreter_under_the_filter_keeps_its_core_file_limit() -> None:
    """After the prelude, can an interpreter still read its core-file limit and lower
    another, but not change that one, by either call; and without it, can it (so the
    refusals are the filter's)?"""
    require_or_skip(
        platform.system() == "Linux" and platform.machine() in MACHINES,
        "Linux on x86-64 or aarch64, where the filter is made",
    )
    core = list(resource.getrlimit(resource.RLIMIT_CORE))
    changed = {"core": "set", "core of a process": "set", "open files": "set"}
    assert run_probe("", CORE_LIMIT_PROBE) == {"read": core, **changed}
    kept = {**changed, "core": "refused", "core of a process": "refused"}
    for one_process in (False, True):
        prelude = syscall_filter.launcher_prelude(one_process=one_process)
        assert run_probe(prelude, CORE_LIMIT_PROBE) == {"read": core, **kept}
