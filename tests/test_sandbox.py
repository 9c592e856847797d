"""lstm_grader.sandbox: the kernel's identity, mounts, environment and limits.

The quick tests read the command line the sandbox is built from; the slow ones start a
real sandboxed kernel and ask it about itself. The whole attack suite, graded through
nbgrader, is in test_redteam.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import subprocess
import sys
import time
from fnmatch import fnmatch
from functools import partial
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import (
    ROOT,
    aged,
    aged_folder,
    gone_owner_tag,
    python_under_limit,
    require_module,
    require_or_skip,
    under_hard_limit,
)

from lstm_grader import sandbox

SECRET = "hub-token-sandbox-test"


def _command(tmp_path: Path, *, root: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0 if root else 1000)
    identity = sandbox.Identity(61999, 61999) if root else sandbox.Identity(1000, 1000)
    return sandbox._bwrap_command(
        ["python", "-m", "ipykernel_launcher"],
        bwrap="bwrap",
        identity=identity,
        kernel_dir=str(tmp_path / "kernel"),
        workdir="/tmp/05-return-flags",
        seed_files=[(str(tmp_path / "data.csv"), "data.csv")],
        environment={"HOME": "/tmp"},
        disk_bytes=2**20,
        etc=sandbox.write_etc(str(tmp_path), identity),
    )


def _after(command: list[str], flag: str) -> list[str]:
    return [command[i + 1] for i, word in enumerate(command) if word == flag]


def test_as_root_the_kernel_drops_to_an_unprivileged_uid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, does the command drop to the sandbox uid with no capabilities, no way to
    gain them, and an inner user namespace that forbids new namespaces?"""
    command = _command(tmp_path, root=True, monkeypatch=monkeypatch)
    drop = command.index("setpriv")
    assert "--reuid=61999" in command[drop:] and "--bounding-set=-all" in command[drop:]
    assert "--no-new-privs" in command[drop:] and "--clear-groups" in command[drop:]
    inner = command[drop:]
    for flag in ("--unshare-user", "--disable-userns", "--new-session"):
        assert flag in inner
    assert inner[inner.index("--cap-drop") + 1] == "ALL"
    assert command.index("--clearenv") < drop


def test_as_root_the_inner_sandbox_keeps_the_outer_devices_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does the inner bubblewrap take the outer tree with its devices (``--dev-bind``)? A
    plain ``--bind`` remounts everything nodev, and the kernel could open no /dev/null."""
    command = _command(tmp_path, root=True, monkeypatch=monkeypatch)
    inner = command[command.index("setpriv") :]
    assert inner[inner.index("--dev-bind") + 1 : inner.index("--dev-bind") + 3] == ["/", "/"]
    assert "--bind" not in inner


def test_as_a_user_one_unprivileged_sandbox_does_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an ordinary user, is there no setpriv, and the lockdown in the one bubblewrap?"""
    command = _command(tmp_path, root=False, monkeypatch=monkeypatch)
    assert "setpriv" not in command
    assert command.count("bwrap") == 1
    for flag in ("--unshare-user", "--disable-userns", "--new-session", "--unshare-net"):
        assert flag in command


def test_only_the_packages_and_the_course_library_are_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is nothing of the course directory bound but lstm_lib itself (read-only), and is the
    working folder a tmpfs with the submission's files bound read-only into it?"""
    command = _command(tmp_path, root=True, monkeypatch=monkeypatch)
    sources = _after(command, "--ro-bind") + _after(command, "--bind")
    for forbidden in ("solutions", "references", "submitted", "gradebook.db", "exercises"):
        assert not any(forbidden in source for source in sources), forbidden
    assert str(ROOT) not in sources, "the course root itself is never bound"
    outer = command[: command.index("setpriv")]
    assert _after(outer, "--bind") == [str(tmp_path / "kernel")]
    library = command[command.index(sandbox.COURSE_LIBRARY_MOUNT + "/lstm_lib") - 1]
    assert library == sandbox.course_library_folder()
    assert "/tmp" in _after(command, "--tmpfs") and "/dev/shm" in _after(command, "--tmpfs")
    # the disk limit for /tmp and /dev/shm; a few bytes for the tmpfs over /dev/pts
    assert _after(command, "--size") == [str(2**20)] * 2 + ["4096"]
    assert command[command.index("/dev/pts") - 5 : command.index("/dev/pts")] == [
        "--perms",
        "0555",
        "--size",
        "4096",
        "--tmpfs",
    ]
    assert str(tmp_path / "data.csv") in _after(command, "--ro-bind")


def test_etc_is_the_sandbox_own_never_the_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the host's /etc never bound whole, only the entries a Python program reads there
    (:data:`~lstm_grader.sandbox.HOST_ETC`), beside account files that name the kernel's
    uid and no account of the host? And is this environment's configuration folder
    (``etc``) hidden behind an empty one?"""
    command = _command(tmp_path, root=True, monkeypatch=monkeypatch)
    placed = {
        command[i + 2]: command[i + 1]
        for i, word in enumerate(command)
        if word in ("--ro-bind", "--symlink")
    }
    assert "/etc" not in placed, "the host's /etc is bound whole"
    for never in ("/etc/shadow", "/etc/hostname", "/etc/jupyter", "/etc/environment"):
        assert never not in placed
    written = sorted(os.listdir(tmp_path / "etc"))
    for destination, source in placed.items():
        if not destination.startswith("/etc/"):
            continue
        name = destination.removeprefix("/etc/")
        if name in written:
            assert source == str(tmp_path / "etc" / name)
        else:
            assert any(fnmatch(name, pattern) for pattern in sandbox.HOST_ETC), name
    accounts = (tmp_path / "etc" / "passwd").read_text().splitlines()
    assert [line.split(":")[:4] for line in accounts] == [
        ["root", "x", "0", "0"],
        [sandbox.SANDBOX_ACCOUNT, "x", "61999", "61999"],
        ["nobody", "x", "65534", "65534"],
    ]
    config = Path(sys.prefix, "etc")
    if config.is_dir():
        assert str(config.resolve()) in _after(command, "--tmpfs")


def test_configuration_folders_inside_the_binds_are_hidden(tmp_path: Path) -> None:
    """Is each installation's ``etc`` inside a bound tree (its Jupyter and IPython
    configuration, where an ``nbgrader_config.py`` may name the gradebook with its
    password; conda's activation scripts; an ``odbc.ini``) hidden whole, and nothing
    outside the binds?"""
    tree = tmp_path / "env"
    for name in ("jupyter", "ipython", "conda/activate.d"):
        (tree / "etc" / name).mkdir(parents=True)
    (tmp_path / "elsewhere" / "etc" / "jupyter").mkdir(parents=True)
    found = sandbox.grader_config_folders([str(tree)])
    assert str(tree / "etc") in found
    assert not any(f.startswith(str(tree / "etc") + os.sep) for f in found), found
    assert not any(str(tmp_path / "elsewhere") in f for f in found)
    assert all(f.startswith(str(tree) + os.sep) for f in found)


def test_the_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Does the kernel get the allow-listed variables and never a secret of the grader's?"""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", SECRET)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    environment = sandbox.kernel_environment()
    assert SECRET not in json.dumps(environment)
    assert set(environment) <= set(sandbox.PASSED_THROUGH) | set(sandbox.FIXED_ENVIRONMENT) | {
        "PATH"
    }
    assert environment["OPENBLAS_CORETYPE"] == "Haswell"
    assert environment["NBGRADER_EXECUTION"] == "autograde"
    assert environment["PYTHONPATH"] == sandbox.COURSE_LIBRARY_MOUNT


def test_without_a_sandbox_grading_is_refused_unless_switched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where bubblewrap is missing, is grading refused with a message that says what to do,
    and allowed (loudly) only with the unsafe switch?"""
    monkeypatch.setenv(sandbox.BWRAP_VARIABLE, "none")
    monkeypatch.delenv(sandbox.UNSAFE_SWITCH, raising=False)
    sandbox.sandbox_problem.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            sandbox.check_can_grade()
        monkeypatch.setenv(sandbox.UNSAFE_SWITCH, "1")
        assert "not installed" in sandbox.check_can_grade()
    finally:
        sandbox.sandbox_problem.cache_clear()


def test_submission_files_leave_out_links_fifos_notebooks_and_explanations(
    tmp_path: Path,
) -> None:
    """Are only the submission's own regular files offered to the kernel, never the
    instructor's feedback.json (which names every wrong option of a choice question), and
    never the exchange's timestamp.txt and submission_secret.txt, new at each submission,
    on which no answer may depend?"""
    (tmp_path / "data.csv").write_text("1")
    (tmp_path / "nb.ipynb").write_text("{}")
    (tmp_path / "timestamp.txt").write_text("2026-12-05 11:00:00.000000 UTC")
    (tmp_path / "submission_secret.txt").write_text("a secret of nbgrader submit")
    (tmp_path / "link").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "feedback.json").write_text('{"q5": {"h-c": "..."}}')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "feedback.json").write_text("{}")
    files, skipped = sandbox.submission_files(str(tmp_path))
    assert files == [(str(tmp_path / "data.csv"), "data.csv")]
    assert sorted(line.split(":")[0] for line in skipped) == [
        "feedback.json",
        "link",
        "pipe",
        "sub/feedback.json",
    ]


def test_the_readable_files_digest_changes_with_what_the_kernel_may_read(tmp_path: Path) -> None:
    """Is the digest of the files a kernel may read empty for a folder of notebooks and a
    timestamp alone, and does it change with a readable file's content, name or number,
    but not with a notebook, the timestamp or a file the kernel is never offered?"""
    (tmp_path / "nb.ipynb").write_text("{}")
    (tmp_path / "timestamp.txt").write_text("2026-12-05 11:00:00.000000 UTC")
    assert sandbox.readable_files_digest(str(tmp_path)) == ""
    (tmp_path / "answer.txt").write_text("(None, 16)")
    first = sandbox.readable_files_digest(str(tmp_path))
    assert first != ""
    (tmp_path / "nb.ipynb").write_text('{"cells": []}')
    (tmp_path / "timestamp.txt").write_text("2026-12-06 11:00:00.000000 UTC")
    (tmp_path / "submission_secret.txt").write_text("a new secret")
    (tmp_path / "feedback.json").write_text("{}")
    assert sandbox.readable_files_digest(str(tmp_path)) == first
    (tmp_path / "answer.txt").write_text("(None, 99)")
    changed = sandbox.readable_files_digest(str(tmp_path))
    assert changed != first
    (tmp_path / "answer.txt").rename(tmp_path / "other.txt")
    assert sandbox.readable_files_digest(str(tmp_path)) not in (first, changed)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("")
    assert sandbox.readable_files_digest(str(tmp_path)) not in (first, changed, "")


def test_a_file_the_submission_lacks_is_listed_from_the_release(tmp_path: Path) -> None:
    """Does a notebook uploaded alone still get the files its learner fetched with it (the
    sealed explanations), from the release folder and by the same rules, while a file
    the submission has, even one left out, is never replaced?"""
    submitted, released = tmp_path / "submitted", tmp_path / "released"
    submitted.mkdir()
    released.mkdir()
    for folder in (submitted, released):
        (folder / "nb.ipynb").write_text("{}")
    (submitted / "data.csv").write_text("mine")
    (submitted / "notes.txt").symlink_to("/etc/passwd")
    (released / "data.csv").write_text("the course's")
    (released / "notes.txt").write_text("the course's")
    (released / "mistakes.sealed.json").write_text("{}")
    (released / "feedback.json").write_text("{}")
    (released / "link").symlink_to("/etc/passwd")
    files, skipped = sandbox.submission_files(str(submitted), released=str(released))
    assert files == [
        (str(submitted / "data.csv"), "data.csv"),
        (str(released / "mistakes.sealed.json"), "mistakes.sealed.json"),
    ]
    assert sorted(skipped) == [
        "feedback.json (released): the instructor's explanations",
        "link (released): not a regular file",
        "notes.txt: not a regular file",
    ]
    files, skipped = sandbox.submission_files(str(submitted), released=str(released), max_files=1)
    assert [relative for _, relative in files] == ["data.csv"]
    assert "mistakes.sealed.json (released): over the limit of 1 files" in " ".join(skipped)
    alone, _ = sandbox.submission_files(str(submitted), released=str(tmp_path / "missing"))
    assert alone == sandbox.submission_files(str(submitted))[0] == files


def test_a_release_file_never_lands_where_the_submission_has_another_kind_of_entry(
    tmp_path: Path,
) -> None:
    """Is a release file left out where the submission has a folder of its name, or a
    file or link where one of its folders would go (staging it would fail, and the
    learner's entry would be lost), while a folder both have gets the release's extra
    files?"""
    submitted, released = tmp_path / "submitted", tmp_path / "released"
    for path in ("mistakes.sealed.json", "shared", "elsewhere"):
        (submitted / path).mkdir(parents=True)
        (released / path).mkdir(parents=True, exist_ok=True)
    (released.joinpath("mistakes.sealed.json").rmdir())
    (released / "mistakes.sealed.json").write_text("{}")
    (submitted / "data").write_text("mine")
    (submitted / "linked").symlink_to(submitted / "elsewhere")
    for path in ("data/x.csv", "linked/y.csv", "shared/z.csv", "shared/deep/w.csv"):
        (released / path).parent.mkdir(parents=True, exist_ok=True)
        (released / path).write_text("the course's")
    files, _ = sandbox.submission_files(str(submitted), released=str(released))
    assert sorted(relative for _, relative in files) == [
        "data",
        "shared/deep/w.csv",
        "shared/z.csv",
    ]


def test_as_root_the_kernel_never_runs_as_root() -> None:
    """Is the sandbox identity of a root grader an unprivileged uid?"""
    identity = sandbox.sandbox_identity()
    if os.geteuid() == 0:
        assert identity.uid != 0 and identity.gid != 0
    else:
        assert identity.uid == os.getuid()


# ------------------------------------------------------------------ a real kernel

PROBE = r"""
import json, os
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
facts = {
    'uid': os.getuid(), 'cwd': os.getcwd(), 'environ': dict(os.environ),
    'cap_eff': status['CapEff'].strip(), 'cap_bnd': status['CapBnd'].strip(),
    'no_new_privs': status['NoNewPrivs'].strip(),
    'sees_course': os.path.exists(%r), 'lstm_lib': __import__('lstm_lib').__file__,
}
open('scratch.txt', 'w').write('mine')
facts['writable'] = open('scratch.txt').read() == 'mine'
try:
    pid = os.fork()
except PermissionError:  # one process, where no control group bounds the whole sandbox
    pid = None
if pid == 0:
    os.setsid()
    import time
    time.sleep(300)
    os._exit(0)
facts['orphan'] = pid
print(json.dumps(facts))
"""


def _run_in_sandbox(code: str, workdir: Path, released: Path | None = None) -> tuple[dict, dict]:
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_manager_class=sandbox.SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
    )
    manager = client.create_kernel_manager()
    if released is not None:
        manager.released_folder = str(released)
    client.execute()
    # stdout only: what a library logs on stderr (TensorFlow's start) is not the answer
    text = "".join(
        o.get("text", "") for o in notebook.cells[0].outputs if o.get("name") == "stdout"
    )
    return json.loads(text.strip().splitlines()[-1]), manager.sandbox_report


@pytest.mark.slow
def test_a_real_kernel_is_confined_and_its_orphans_die(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a real sandboxed kernel run unprivileged, in a throwaway folder, with only the
    allow-listed environment and the grader's own lstm_lib, blind to the course, and does
    a process it detached die with it?"""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", SECRET)
    workdir = tmp_path / "05-return-flags"
    workdir.mkdir()
    facts, report = _run_in_sandbox(PROBE % str(ROOT / "references"), workdir)
    assert facts["uid"] != 0 or os.geteuid() != 0
    assert int(facts["cap_eff"], 16) == 0 and int(facts["cap_bnd"], 16) == 0
    assert facts["no_new_privs"] == "1"
    assert not facts["sees_course"]
    assert SECRET not in json.dumps(facts["environ"])
    assert facts["lstm_lib"].startswith(sandbox.COURSE_LIBRARY_MOUNT)
    assert facts["writable"] and facts["cwd"] == "/tmp/05-return-flags"
    assert list(workdir.iterdir()) == [], "nothing the kernel wrote reaches the host"
    assert report["sandboxed"] and report["limits"]
    time.sleep(0.5)
    leftover = subprocess.run(
        ["pgrep", "-u", str(sandbox.sandbox_identity().uid)], capture_output=True, text=True
    )
    if os.geteuid() == 0:
        assert leftover.stdout.strip() == "", "a detached child outlived its kernel"
        # a uid of its own: root's kernels never wait for another's turn
        assert not [limit for limit in report["limits"] if "take turns" in limit]


@pytest.mark.slow
def test_a_cold_kernel_gets_what_the_submission_lacks_from_the_release(tmp_path: Path) -> None:
    """Does a kernel started with the submission's files (a cold start) also find the
    files its learner fetched with the notebook and did not hand in, read-only?"""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    workdir, released = tmp_path / "05-return-flags", tmp_path / "release"
    workdir.mkdir()
    released.mkdir()
    (released / "mistakes.sealed.json").write_text('{"sealed": true}')
    code = (
        "import json, os\n"
        "print(json.dumps({'sealed': open('mistakes.sealed.json').read(),"
        " 'writable': os.access('mistakes.sealed.json', os.W_OK)}))"
    )
    facts, _ = _run_in_sandbox(code, workdir, released)
    assert facts == {"sealed": '{"sealed": true}', "writable": False}
    assert list(workdir.iterdir()) == [], "the submission is unchanged"


DEVICES_PROBE = r"""
import json
opened = {}
for name in ('null', 'zero', 'full', 'random', 'urandom'):
    try:
        with open('/dev/' + name, 'r+b', buffering=0) as device:
            device.read(1)
        opened[name] = 'ok'
    except OSError as error:
        opened[name] = repr(error)
usable = [
    line.split()[4]
    for line in open('/proc/self/mountinfo')
    if 'nodev' not in line.split()[5].split(',')
]
import keras, numpy
shape = keras.layers.LSTM(2)(numpy.zeros((1, 3, 1), 'float32')).shape
model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
model.compile('adam', 'mse')
model.fit(numpy.zeros((64, 5, 3)), numpy.zeros((64, 1)), epochs=2, verbose=0)
shape += model.predict(numpy.zeros((2, 5, 3)), verbose=0).shape
import os
threads = [open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task')]
print(json.dumps({'opened': opened, 'usable': usable, 'shape': list(shape), 'threads': threads}))
"""


@pytest.mark.slow
def test_a_real_kernel_opens_the_standard_devices_and_trains_keras(tmp_path: Path) -> None:
    """Can the kernel open /dev/null, /dev/zero, /dev/urandom (TensorFlow's random device
    reads it), with devices usable nowhere but those few nodes, and train and run a small
    Keras model (TensorFlow maps 2.6 GiB for it)? Without either, a learner's own Keras
    cell killed the kernel."""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    require_module("keras", "Keras (pip install .[keras])")
    workdir = tmp_path / "05-return-flags"
    workdir.mkdir()
    facts, _ = _run_in_sandbox(DEVICES_PROBE, workdir)
    assert set(facts["opened"].values()) == {"ok"}, facts["opened"]
    assert facts["shape"] == [1, 2, 2, 1]
    # TensorFlow's pools sized for the sandbox's one core, not the host's cores: the
    # process limit counts threads, and pools of a large host's size would pass it (after
    # training: two tf_Compute threads with one-thread pools, three with two-core ones)
    assert facts["threads"].count("tf_Compute") <= 2, facts["threads"]
    assert len(facts["threads"]) < sandbox.SandboxKernelManager().max_processes
    standard = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}
    assert set(facts["usable"]) <= standard | {"/dev/tty", "/dev/pts"}, facts["usable"]


def test_the_grading_kernel_starts_like_ipykernel_launcher_without_debugpy() -> None:
    """Is only ``-m ipykernel_launcher`` replaced, keeping the interpreter and the kernel's
    arguments, and does the launcher drop the working folder before any prelude runs (a
    learner's ``ctypes.py`` there replaced the one the seccomp prelude imports), and
    debugpy before loading?"""
    spec = ["/env/bin/python", "-X", "frozen_modules=on", "-m", "ipykernel_launcher", "-f", "c"]
    command = sandbox.grading_kernel_command(spec, "import ctypes\n")
    launcher = command[4]
    assert command == ["/env/bin/python", "-X", "frozen_modules=on", "-c", launcher, "-f", "c"]
    assert launcher.startswith("import sys; del sys.path[0]\n")
    assert launcher.index("del sys.path[0]") < launcher.index("import ctypes")
    assert launcher.index("sys.modules['debugpy'] = None") < launcher.index("from ipykernel")
    other = ["/usr/bin/R", "--slave", "-f", "c"]
    assert sandbox.grading_kernel_command(other) == other


@pytest.mark.parametrize("one_process", [False, True])
def test_the_seccomp_prelude_goes_only_where_the_launcher_can_run_it(one_process: bool) -> None:
    """Does an ipykernel kernel spec get the seccomp prelude before ipykernel loads, with
    its limits named (one process only when asked); and another kernel spec none, with
    the reason each limit is not applied?"""
    spec = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "c"]
    prelude, applied, not_applied = sandbox._system_call_restriction(spec, one_process)
    assert "install_filter(b" in prelude and not_applied == []
    assert any(words.startswith("sockets: ") for words in applied)
    assert any("threads, no other process" in words for words in applied) == one_process
    launcher = sandbox.grading_kernel_command(spec, prelude)[2]
    assert launcher.index("install_filter(b") < launcher.index("from ipykernel")
    prelude, applied, not_applied = sandbox._system_call_restriction(
        ["/usr/bin/R", "-f", "c"], one_process
    )
    assert prelude == "" and applied == []
    assert len(not_applied) == 1 + one_process
    assert all("does not start ipykernel_launcher" in words for words in not_applied)


FORK_PROBE = r"""
import ctypes, json, os, socket, subprocess, threading
facts = {}
try:
    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).close()
    facts["vsock"] = "ran"
except OSError as exc:
    facts["vsock"] = exc.errno
ring = ctypes.CDLL(None, use_errno=True).syscall(425, 8, ctypes.create_string_buffer(120))
facts["io_uring"] = ctypes.get_errno() if ring == -1 else "ran"
aio = {"x86_64": 206, "aarch64": 0}.get(os.uname().machine)
context = ctypes.c_ulong(0)
if aio is not None:
    made = ctypes.CDLL(None, use_errno=True).syscall(aio, 1, ctypes.byref(context))
    facts["aio"] = ctypes.get_errno() if made == -1 else "ran"
try:
    os.close(os.openpty()[0])
    facts["pty"] = "ran"
except OSError as exc:
    facts["pty"] = exc.errno
worker = threading.Thread(target=lambda: facts.setdefault("thread", True))
worker.start()
worker.join()
try:
    if os.fork() == 0:
        os._exit(0)
    os.wait()
    facts["fork"] = "ran"
except OSError as exc:
    facts["fork"] = exc.errno
try:
    subprocess.run(["true"], check=True)
    facts["subprocess"] = "ran"
except OSError as exc:
    facts["subprocess"] = exc.errno
print(json.dumps(facts))
"""


@pytest.mark.slow
@pytest.mark.parametrize("memory_group", [False, True])
def test_a_kernel_forks_only_where_a_control_group_bounds_its_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory_group: bool
) -> None:
    """Without a memory control group, is a real sandboxed kernel left its threads but
    refused fork and subprocess (EPERM), so that forked children cannot each take their
    own address-space limit of the host's memory; and with one, may it still fork? Either
    way, is it refused AF_VSOCK (EPERM: a virtual machine's host, which no network
    namespace cuts off), io_uring and Linux AIO (ENOSYS), and a pseudo-terminal (ENOENT;
    AIO contexts and terminals are counted for the whole host)?"""
    from lstm_grader import cgroups

    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    if memory_group:
        require_or_skip(os.geteuid() == 0, "root, for a control group of the kernel's own")
        made = cgroups.create(cgroups.Limits(memory_bytes=2**30, processes=64, cpus=1.0))
        require_or_skip(made.bounds_memory, "a memory control group")
        made.remove()
    else:
        no_group = cgroups.ControlGroup(not_applied=["memory: none in this test"])
        monkeypatch.setattr(sandbox.cgroups, "create", lambda limits: no_group)
    workdir = tmp_path / "05-return-flags"
    workdir.mkdir()
    facts, report = _run_in_sandbox(FORK_PROBE, workdir)
    assert facts["thread"] is True
    one_process = [words for words in report["limits"] if "no other process" in words]
    refused = {"vsock": 1, "io_uring": 38, "aio": 38, "pty": 2}
    if memory_group:
        assert facts == {"thread": True, "fork": "ran", "subprocess": "ran", **refused}
        assert one_process == []
    else:
        assert facts == {"thread": True, "fork": 1, "subprocess": 1, **refused}
        assert one_process, report["limits"]
    assert any(words.startswith("sockets: ") for words in report["limits"]), report


@pytest.mark.slow
def test_a_real_grading_kernel_loads_no_debugger_and_imports_from_its_folder(
    tmp_path: Path,
) -> None:
    """Does a real sandboxed kernel run without debugpy, and still import a module the
    submission shipped beside its notebook, as Jupyter's own kernel does?"""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    workdir = tmp_path / "05-return-flags"
    workdir.mkdir()
    (workdir / "shipped_helper.py").write_text("ANSWER = 42\n")
    code = (
        "import json, sys\nimport shipped_helper\n"
        "print(json.dumps({'debugpy': sys.modules.get('debugpy') is not None,"
        " 'answer': shipped_helper.ANSWER}))"
    )
    facts, _ = _run_in_sandbox(code, workdir)
    assert facts == {"debugpy": False, "answer": 42}


@pytest.mark.slow
def test_the_kernel_imports_the_graders_lstm_lib_from_any_course_copy(tmp_path: Path) -> None:
    """Graded from a copy of the course that holds its own lstm_lib, does the kernel import
    exactly the copy the grader imported, not the installed one it cannot reach?"""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    copy = tmp_path / "course"
    (copy / "lstm_lib").mkdir(parents=True)
    for path in (ROOT / "lstm_lib").glob("*.py"):
        (copy / "lstm_lib" / path.name).write_text(path.read_text())
    (copy / "lstm_lib" / "marker.py").write_text("WHERE = 'the course copy'\n")
    code = (
        "import sys, json, pathlib\n"
        f"sys.path.insert(0, {str(copy)!r})\n"
        "from lstm_grader.sandbox import course_library_folder\n"
        "print(json.dumps(course_library_folder()))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=copy, check=True
    )
    assert json.loads(found.stdout) == str(copy / "lstm_lib")


def _library_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "lib" / "lstm_lib"
    copy.mkdir(parents=True)
    for path in (ROOT / "lstm_lib").glob("*.py"):
        (copy / path.name).write_text(path.read_text())
    return copy


def test_the_library_gets_its_bytecode_even_where_python_would_not_write_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does every module of a fresh lstm_lib get bytecode Python will load, even with
    bytecode writing switched off, is fresh bytecode left alone, and does a folder that
    cannot hold it give False instead of an error?"""
    import importlib.util

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    library = _library_copy(tmp_path)
    assert sandbox.compile_library(str(library))
    cached = [Path(importlib.util.cache_from_source(str(p))) for p in library.glob("*.py")]
    assert all(pyc.is_file() for pyc in cached)
    written = {pyc: pyc.stat().st_mtime_ns for pyc in cached}
    assert sandbox.compile_library(str(library))
    assert {pyc: pyc.stat().st_mtime_ns for pyc in cached} == written
    blocked = _library_copy(tmp_path / "blocked")
    (blocked / "__pycache__").write_text("a file where the bytecode folder would go\n")
    assert sandbox.compile_library(str(blocked)) is False


@pytest.mark.slow
def test_a_real_kernel_finds_the_library_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a sandboxed kernel, which cannot write beside the lstm_lib it imports, find that
    lstm_lib's bytecode there, so it does not compile the package on every start?"""
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    library = _library_copy(tmp_path)
    assert not (library / "__pycache__").exists()
    monkeypatch.setattr(sandbox, "course_library_folder", lambda: str(library))
    workdir = tmp_path / "05-return-flags"
    workdir.mkdir()
    code = (
        "import json, os, lstm_lib.checks as m\n"
        "print(json.dumps({'at': m.__file__, 'compiled': os.path.isfile(m.__cached__)}))"
    )
    facts, _ = _run_in_sandbox(code, workdir)
    assert facts == {"at": f"{sandbox.COURSE_LIBRARY_MOUNT}/lstm_lib/checks.py", "compiled": True}


def test_kernels_are_started_by_the_registered_provisioner() -> None:
    """Does the manager launch through jupyter_client's public provisioner interface: the
    kernel spec names the sandbox provisioner, and that name is registered?"""
    manager = sandbox.SandboxKernelManager(kernel_name="python3")
    spec = manager.kernel_spec
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == sandbox.PROVISIONER_NAME
    from jupyter_client.provisioning import KernelProvisionerFactory

    factory = KernelProvisionerFactory.instance()
    assert factory.is_provisioner_available(spec)
    provisioner = factory.create_provisioner_instance("k", spec, parent=manager)
    assert isinstance(provisioner, sandbox.SandboxProvisioner)


def test_without_the_registered_provisioner_no_kernel_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the package's entry point is missing (a grader run from an uninstalled copy), is
    the kernel refused with a way out, never started unsandboxed by the default
    provisioner?

    Only this package's entry point is taken away, as in such a run: jupyter_client's own
    stays. (With none at all, jupyter_client on Python 3.12 and later cannot look its own
    up again, ``EntryPoints`` being no longer indexed by position, and refuses the kernel
    spec itself, before the sandbox is asked.)"""
    from jupyter_client.provisioning import KernelProvisionerFactory

    registered = KernelProvisionerFactory.instance().provisioners
    without_this_package = {
        name: entry for name, entry in registered.items() if name != sandbox.PROVISIONER_NAME
    }
    assert "local-provisioner" in without_this_package
    monkeypatch.setattr(KernelProvisionerFactory.instance(), "provisioners", without_this_package)
    manager = sandbox.SandboxKernelManager(kernel_name="python3")

    with pytest.raises(sandbox.SandboxUnavailable, match="not registered"):
        asyncio.run(manager.start_kernel())
    assert manager.provisioner is None


def test_a_killed_graders_folders_are_removed_and_links_are_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a killed grader left in the temporary folders goes (a Dask job's course copy
    holds the solutions); a running grader's stays; a link planted under a leftover's name
    (anyone may write /tmp) is removed at most, and what it points to is untouched."""
    from lstm_grader import owners

    old = 2 * owners.STALE_AFTER_S
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(sandbox.tempfile, "tempdir", str(temporary))
    monkeypatch.setattr(sandbox, "_private_parent", lambda: str(temporary))
    monkeypatch.setattr(sandbox.cgroups, "remove_stale", lambda: [])
    gone = gone_owner_tag()
    job = temporary / f"lstm-grade-job-{gone}-x"
    (job / "solutions").mkdir(parents=True)
    (job / "solutions" / "answers.ipynb").write_text("{}")
    running = aged_folder(temporary / f"lstm-grade-kernel-{owners.owner_tag()}-y", old)
    precious = tmp_path / "precious"
    (precious / "inner").mkdir(parents=True)
    (precious / "inner" / "keep.txt").write_text("keep")
    (job / "link").symlink_to(precious)
    aged(job, old)
    planted = temporary / f"lstm-grade-probe-{gone}-z"
    planted.symlink_to(precious)
    aged(planted, old)
    sandbox.remove_leftovers.__wrapped__()
    assert not job.exists()
    assert running.is_dir()
    assert (precious / "inner" / "keep.txt").read_text() == "keep"


def test_leftovers_are_swept_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep runs in the helper before it forks: a child's kernel start never pays it."""
    calls = []
    monkeypatch.setattr(sandbox.cgroups, "remove_stale", lambda: calls.append(1) or [])
    sandbox.remove_leftovers.cache_clear()
    try:
        sandbox.remove_leftovers()
        sandbox.remove_leftovers()
    finally:
        sandbox.remove_leftovers.cache_clear()
    assert calls == [1]


# ------------------------------------------------------------------ waiting for the kernel


class _Channel:
    """A channel that holds the messages it was given and waits for nothing more."""

    def __init__(self) -> None:
        self.held: list[dict] = []

    async def get_msg(self, timeout: float | None = None) -> dict:
        if not self.held:
            await asyncio.sleep(min(timeout or 0.0, 0.001))
            raise queue.Empty
        return self.held.pop(0)

    async def msg_ready(self) -> bool:
        return bool(self.held)


def _message(kind: str, parent: str | None, **content: str) -> dict:
    return {
        "msg_type": kind,
        "parent_header": {"msg_id": parent} if parent else {},
        "content": content,
    }


class _ScriptedClient(sandbox.SandboxKernelClient):
    """A client whose kernel answers each ``kernel_info_request`` as told: IOPub drops the
    statuses of the first ``unsubscribed`` requests (a subscription not yet made), and a
    kernel that is not ``answering`` says nothing at all."""

    def __init__(self, unsubscribed: int = 0, answering: bool = True, alive: bool = True):
        super().__init__()
        self.shell, self.iopub = _Channel(), _Channel()
        self.iopub.held = [
            _message("status", None, execution_state="starting"),
            _message("iopub_welcome", None),
        ]
        self.unsubscribed, self.answering, self.alive = unsubscribed, answering, alive
        self.requests: list[str] = []
        self.handled: list[dict] = []

    shell_channel = property(lambda self: self.shell)  # type: ignore[assignment]
    iopub_channel = property(lambda self: self.iopub)  # type: ignore[assignment]

    def kernel_info(self) -> str:
        msg_id = f"info-{len(self.requests)}"
        self.requests.append(msg_id)
        if self.answering:
            self.shell.held.append(_message("kernel_info_reply", msg_id, status="ok"))
            if len(self.requests) > self.unsubscribed:
                self.iopub.held += [
                    _message("status", msg_id, execution_state="busy"),
                    _message("status", msg_id, execution_state="idle"),
                ]
        return msg_id

    async def _async_is_alive(self) -> bool:
        return self.alive

    def _handle_kernel_info_reply(self, msg: dict) -> None:
        self.handled.append(msg)


@pytest.mark.parametrize("unsubscribed", [0, 1, 3])
def test_the_kernel_is_ready_once_iopub_brings_the_idle_of_a_kernel_info(
    unsubscribed: int,
) -> None:
    """Is the kernel ready at the first kernel_info whose reply and idle status both came,
    asked again while IOPub lost them, with IOPub left empty for the first cell?"""
    client = _ScriptedClient(unsubscribed=unsubscribed)
    asyncio.run(client.wait_for_ready(timeout=10))
    assert len(client.requests) == unsubscribed + 1
    assert [m["parent_header"]["msg_id"] for m in client.handled] == [client.requests[-1]]
    assert client.iopub.held == []


def test_an_idle_status_of_another_request_does_not_make_the_kernel_ready() -> None:
    """Does only the idle of one of the client's own kernel_info requests count?"""
    client = _ScriptedClient(unsubscribed=1)
    client.iopub.held.append(_message("status", "someone-else", execution_state="idle"))
    asyncio.run(client.wait_for_ready(timeout=10))
    assert len(client.requests) == 2


def test_the_public_wait_is_the_sandbox_clients_own() -> None:
    """nbclient calls ``wait_for_ready``: is that the sandbox client's wait, not the one
    AsyncKernelClient bound to its base class?"""
    assert (
        sandbox.SandboxKernelClient.wait_for_ready
        is sandbox.SandboxKernelClient._async_wait_for_ready
    )


@pytest.mark.parametrize(
    ("alive", "message"),
    [(False, "died before replying"), (True, "didn't respond in 0 seconds")],
)
def test_a_kernel_that_never_answers_is_reported(alive: bool, message: str) -> None:
    """Does a kernel that died, or that stays silent past the timeout, raise the error
    nbclient reports, instead of waiting for ever?"""
    client = _ScriptedClient(answering=False, alive=alive)
    with pytest.raises(RuntimeError, match=message):
        asyncio.run(client.wait_for_ready(timeout=0.2))


# ------------------------------------------------------------------ one uid per kernel


def test_each_kernel_claims_a_uid_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, does every kernel get a uid no other live kernel has (Linux keeps epoll,
    pipe and key quotas per uid), from the range no account uses, given back when it is
    gone; and is a claims folder someone else owns refused rather than trusted?"""
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    monkeypatch.setattr(sandbox, "_private_parent", lambda: str(tmp_path))
    if os.getuid() != 0:
        pytest.skip("the claims folder must be root's own")
    claimed = [sandbox.claim_kernel_identity() for _ in range(200)]
    uids = [identity.uid for identity, _ in claimed]
    assert len(set(uids)) == 200 and all(uid in sandbox.SANDBOX_UIDS for uid in uids)
    assert all(identity.gid == identity.uid for identity, _ in claimed)
    folder = tmp_path / sandbox.UID_CLAIMS
    assert sorted(p.name for p in folder.iterdir()) == sorted(map(str, uids))
    for _, claim in claimed:
        sandbox.release_kernel_identity(claim)
    assert list(folder.iterdir()) == []
    os.chown(folder, 1000, 1000)
    with pytest.raises(sandbox.SandboxUnavailable, match="is not root's own folder"):
        sandbox.claim_kernel_identity()


def test_an_ordinary_user_claims_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """As an ordinary user, is the kernel's identity the user's own, with no claim?"""
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    identity, claim = sandbox.claim_kernel_identity()
    assert (identity.uid, identity.gid, claim) == (os.getuid(), os.getgid(), None)


def test_the_grader_reconnects_only_to_a_socket(tmp_path: Path) -> None:
    """Before it reopens a kernel's output channel, does the grader check that the ipc path
    is still a socket, not a link the kernel put there (to a socket of the host) or a file?"""
    import socket
    from types import SimpleNamespace

    ip = str(tmp_path / "ipc")
    provisioner = SimpleNamespace(parent=SimpleNamespace(ip=ip, iopub_port=3))
    path = f"{ip}-3"

    def check() -> bool:
        return sandbox.SandboxProvisioner.socket_is_the_kernels(provisioner, "iopub")

    assert not check()  # gone
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        assert check()
        os.rename(path, path + ".real")
        os.symlink(path + ".real", path)
        assert not check()
    os.unlink(path)
    Path(path).write_text("not a socket")
    assert not check()


# ------------------------------------------------------------------ one kernel's turn per user

#: A process that takes the turn of this process's uid in the home ``argv[1]``, says so,
#: and holds it until it is killed; or, with argv[2] == "try", says whether it was free.
TURN_HOLDER = """
import os, sys, time
from lstm_grader import sandbox
sandbox._password_home = lambda uid: sys.argv[1]
turn = sandbox.KernelTurn.try_take(os.geteuid())
print("FREE" if turn is not None else "TAKEN", flush=True)
if len(sys.argv) < 3:
    time.sleep(300)
"""


def _a_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of this process's user's own, which the password database gives every uid
    while the test runs."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setattr(sandbox, "_password_home", lambda uid: str(home))
    return home


def _turn_holder(home: Path, *mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", TURN_HOLDER, str(home), *mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_a_kernels_turn_is_one_for_every_process_of_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a process holds its user's kernel turn, does another process (another
    lstm-grade run, a Dask worker, nbgrader) find it taken, and free once it is given
    back; and does a second call to give it back do nothing?"""
    home = _a_home(tmp_path, monkeypatch)
    turn = sandbox.KernelTurn.try_take(os.geteuid())
    assert turn is not None
    assert sandbox.KernelTurn.try_take(os.geteuid()) is None, "taken within this process too"
    other = _turn_holder(home, "try")
    assert other.communicate(timeout=60)[0].split() == ["TAKEN"]
    turn.release()
    turn.release()
    other = _turn_holder(home, "try")
    assert other.communicate(timeout=60)[0].split() == ["FREE"]
    folder = Path(sandbox.KernelTurn.folder(os.geteuid()))
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_kernels_turn_ends_with_the_process_holding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grader killed while its kernel runs cannot give the turn back itself: is it
    free for the next kernel all the same, with nothing left to clean?"""
    home = _a_home(tmp_path, monkeypatch)
    holder = _turn_holder(home)
    try:
        assert holder.stdout.readline().split() == ["FREE"]
        assert sandbox.KernelTurn.try_take(os.geteuid()) is None
    finally:
        holder.kill()
        holder.communicate(timeout=60)
    turn = sandbox.KernelTurn.try_take(os.geteuid())
    assert turn is not None
    turn.release()


def test_a_waiting_kernel_says_why_once_and_takes_the_turn_when_it_is_given_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does a kernel whose turn is taken wait without holding up the event loop, say why
    once however long it waits, and start as soon as the turn is given back?"""
    _a_home(tmp_path, monkeypatch)
    monkeypatch.setattr(sandbox, "TURN_POLL_S", 0.01)
    held = sandbox.KernelTurn.try_take(os.geteuid())
    said: list[str] = []

    async def wait_then_give_back() -> sandbox.KernelTurn:
        waiting = asyncio.ensure_future(
            sandbox.KernelTurn.take(os.geteuid(), lambda: said.append("waiting"))
        )
        await asyncio.sleep(0.3)  # the loop runs on meanwhile
        assert not waiting.done()
        held.release()
        return await asyncio.wait_for(waiting, 10)

    turn = asyncio.run(wait_then_give_back())
    assert said == ["waiting"]
    turn.release()


def test_a_kernels_turn_refuses_a_planted_link_or_a_folder_others_may_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the turn's folder be a link (or its file one), is it refused, never
    followed (so no file elsewhere is created or locked), as is a folder someone else may
    write?"""
    _a_home(tmp_path, monkeypatch)
    uid = os.geteuid()
    folder = Path(sandbox.KernelTurn.folder(uid))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    folder.symlink_to(elsewhere)
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot take turns"):
        sandbox.KernelTurn.try_take(uid)
    assert list(elsewhere.iterdir()) == []
    folder.unlink()
    folder.mkdir(mode=0o700)
    target = elsewhere / "victim"
    (folder / "kernels.lock").symlink_to(target)
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot take turns"):
        sandbox.KernelTurn.try_take(uid)
    assert not target.exists()
    (folder / "kernels.lock").unlink()
    for others_may_write in (0o777, 0o770, 0o702):
        folder.chmod(others_may_write)
        with pytest.raises(sandbox.SandboxUnavailable, match="cannot take turns"):
            sandbox.KernelTurn.try_take(uid)
    folder.chmod(0o700)
    turn = sandbox.KernelTurn.try_take(uid)
    assert turn is not None
    turn.release()


def test_a_kernels_turn_is_in_the_users_home_from_the_password_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn's folder is in the home the password database gives the uid, whatever
    $HOME says (cron, systemd and nbgrader set it differently, and /tmp may be private to
    one service), so no other local user can make it first: is a home someone else may
    write refused, as is a uid with no home, and is nothing made in $HOME or /tmp?"""
    home = _a_home(tmp_path, monkeypatch)
    uid = os.geteuid()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(elsewhere))
    turn = sandbox.KernelTurn.try_take(uid)
    assert turn is not None
    turn.release()
    assert sandbox.KernelTurn.folder(uid) == str(home / sandbox.TURN_FOLDER_NAME)
    assert (home / sandbox.TURN_FOLDER_NAME / "kernels.lock").is_file()
    assert list(elsewhere.iterdir()) == []
    for others_may_write in (0o777, 0o770):
        home.chmod(others_may_write)
        with pytest.raises(sandbox.SandboxUnavailable, match="not the user's"):
            sandbox.KernelTurn.try_take(uid)
    home.chmod(0o700)
    monkeypatch.setattr(sandbox, "_password_home", lambda uid: str(tmp_path / "missing"))
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot be opened"):
        sandbox.KernelTurn.try_take(uid)
    monkeypatch.setattr(sandbox, "_password_home", lambda uid: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="no entry in the password database"):
        sandbox.KernelTurn.try_take(uid)


def test_a_kernels_turn_refuses_a_folder_or_home_of_another_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn folder another user made (or was given), or a home another ordinary user
    owns, is refused; a home root owns is not (root may make the folder for the user)."""
    if os.geteuid() != 0:
        pytest.skip("only root can give a folder to another user")
    home = _a_home(tmp_path, monkeypatch)
    stranger, user = 61_011, 61_012
    os.chown(home, user, user)
    folder = home / sandbox.TURN_FOLDER_NAME
    folder.mkdir(mode=0o700)
    os.chown(folder, stranger, stranger)
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot take turns"):
        sandbox.KernelTurn.try_take(user)
    os.chown(folder, user, user)
    os.chown(home, stranger, stranger)
    with pytest.raises(sandbox.SandboxUnavailable, match="not the user's"):
        sandbox.KernelTurn.try_take(user)
    os.chown(home, 0, 0)
    lock = folder / "kernels.lock"
    lock.touch(mode=0o600)
    os.chown(lock, user, user)
    turn = sandbox.KernelTurn.try_take(user)
    assert turn is not None
    turn.release()


def test_only_kernels_sharing_the_users_process_limit_take_turns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Do root's kernels (a uid each) and those a control group counts start as before,
    taking no turn, and only an ordinary user's kernels without one take turns?"""
    from lstm_grader import cgroups

    counted = cgroups.ControlGroup(directories={"unified": tmp_path}, version=2)
    uncounted = cgroups.ControlGroup()
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    assert not sandbox._kernels_take_turns(sandbox.Identity(60001, 60001), uncounted)
    assert not sandbox._kernels_take_turns(sandbox.Identity(60001, 60001), counted)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert not sandbox._kernels_take_turns(sandbox.Identity(1000, 1000), counted)
    assert sandbox._kernels_take_turns(sandbox.Identity(1000, 1000), uncounted)


def test_a_kernels_waits_for_its_turn_are_noted_for_its_grader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lstm-grade's limit per submission must not count a wait for another grader of the
    user: are a kernel's waits noted under its process, a wait that lasts counted until
    now, and only the part of a wait after the submission began, nor another process's?"""
    notes = tmp_path / "waits"
    monkeypatch.setenv(sandbox.TURN_WAITS_ENV, str(notes))
    now = time.monotonic()
    sandbox._note_turn_wait(now - 50, now - 30)  # before and into the submission
    sandbox._note_turn_wait(now - 10, None)  # lasts
    with notes.open("a") as other:
        other.write(f"{os.getpid() + 1} {now - 100!r} -\ngarbled line\n")
    waited = sandbox.turn_waited_s(notes, os.getpid(), since=now - 40)
    assert 19.9 < waited < 21, waited  # 10 of the first, 10 of the lasting one
    sandbox._note_turn_wait(now - 10, now - 5)
    assert sandbox.turn_waited_s(notes, os.getpid(), since=now - 40) == pytest.approx(15)
    assert sandbox.turn_waited_s(tmp_path / "missing", os.getpid(), since=now) == 0.0


def test_a_kernels_wait_for_its_turn_is_noted_as_over_however_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wait noted as lasting keeps lstm-grade from timing out its run: is a wait that
    ends in the turn noted as over, and so is one given up (the start cancelled), so
    that the rest of the run counts against its limit again?"""
    _a_home(tmp_path, monkeypatch)
    notes = tmp_path / "waits"
    monkeypatch.setenv(sandbox.TURN_WAITS_ENV, str(notes))
    monkeypatch.setattr(sandbox, "TURN_POLL_S", 0.01)
    held = sandbox.KernelTurn.try_take(os.geteuid())
    since = time.monotonic()

    async def give_up_then_take() -> tuple[sandbox.KernelTurn, float]:
        waiting = asyncio.ensure_future(sandbox._take_turn(os.geteuid()))
        await asyncio.sleep(0.3)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        after_giving_up = sandbox.turn_waited_s(notes, os.getpid(), since)
        await asyncio.sleep(0.3)
        assert sandbox.turn_waited_s(notes, os.getpid(), since) == after_giving_up
        waiting = asyncio.ensure_future(sandbox._take_turn(os.geteuid()))
        await asyncio.sleep(0.3)
        held.release()
        return await asyncio.wait_for(waiting, 10)

    turn, waited = asyncio.run(give_up_then_take())
    turn.release()
    assert 0.25 < waited < 5
    noted = sandbox.turn_waited_s(notes, os.getpid(), since)
    time.sleep(0.2)
    assert sandbox.turn_waited_s(notes, os.getpid(), since) == noted
    assert 0.5 < noted < 5


def test_the_wait_for_a_cpu_is_read_for_every_thread_of_the_process_tree() -> None:
    """A timeout beside others is graded again alone only where the sandbox waited for a
    CPU. Is the wait read from the run delays of every thread of the kernel's process and
    its descendants (``/proc/<pid>/task/<tid>/schedstat``), as seconds; and is it None,
    rather than 0 (which would read as "never held up"), where nothing can be read?"""
    tree = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(Path(f"/proc/{tree.pid}/task/{tree.pid}/children").read_text().split()) < 2:
            assert time.monotonic() < deadline, "the shell started no children"
            time.sleep(0.01)
        children = Path(f"/proc/{tree.pid}/task/{tree.pid}/children").read_text().split()
        each = [
            int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1]) / 1e9
            for pid in [str(tree.pid), *children]
        ]
        waited = sandbox.SandboxProvisioner.cpu_wait_seconds(_provisioner(tree.pid))
        assert isinstance(waited, float)
        # the run delays only grow between the two readings (to a float's rounding)
        assert waited >= sum(each) - 1e-9
    finally:
        os.killpg(tree.pid, 9)
        tree.wait()
    gone = sandbox.SandboxProvisioner.cpu_wait_seconds(_provisioner(tree.pid))
    assert gone is None
    assert sandbox.SandboxProvisioner.cpu_wait_seconds(_provisioner(None)) is None


def test_a_threads_run_delay_is_read_from_its_schedstats_first_bytes_only(
    tmp_path: Path,
) -> None:
    """``schedstat`` is the host kernel's three counters, read for every thread at every
    cell's start. Is the run delay its second field, read from no more than
    ``SCHEDSTAT_BYTES`` of the file (a field past them is never seen), and None for a
    thread that has ended or a file that holds no such field?"""
    schedstat = tmp_path / "schedstat"
    schedstat.write_bytes(b"1200 3400 5\n")
    assert sandbox._run_delay_ns(str(schedstat)) == 3400
    # the second field starts right after the bound: a reader past it would find 5
    schedstat.write_bytes(b"1" * (sandbox.SCHEDSTAT_BYTES - 1) + b" 5 6\n")
    assert sandbox._run_delay_ns(str(schedstat)) is None
    schedstat.write_bytes(b"")
    assert sandbox._run_delay_ns(str(schedstat)) is None
    assert sandbox._run_delay_ns(str(tmp_path / "ended" / "schedstat")) is None
    assert sandbox._run_delay_ns(f"/proc/{os.getpid()}/schedstat") is not None


def _provisioner(pid: int | None, group: Any = None) -> Any:
    """What ``cpu_wait_seconds`` reads of a provisioner: its kernel's pid, its sandbox's
    control group (None: it has none), and the walk of its kernel's process tree."""
    from types import SimpleNamespace

    found = SimpleNamespace(pid=pid, _cgroup=group)
    found._tree_run_delays_ns = partial(sandbox.SandboxProvisioner._tree_run_delays_ns, found)
    return found


def test_the_wait_for_a_cpu_of_a_sandbox_in_a_control_group_is_its_groups_threads(
    tmp_path: Path,
) -> None:
    """The wait is read at the start of every cell: walking the kernel's process tree took
    two reads per thread. Where the sandbox has a control group, is it read from the
    group's one listing of its threads instead, so that a process of the sandbox outside
    the kernel's tree (an orphan handed to another parent) counts too; and where that
    listing cannot be read, is the wait None, never the tree's sum, which the cell's
    other reading did not count the same way?"""
    from lstm_grader import cgroups

    require_or_skip(os.geteuid() == 0, "root, for a control group of the test's own")
    group = cgroups.create(cgroups.Limits(memory_bytes=2**30, processes=64, cpus=1.0))
    require_or_skip(group.version != 0, "a control group")
    cpu = min(os.sched_getaffinity(0))

    def joined() -> None:
        for procs in group.procs_files:
            Path(procs).write_text(str(os.getpid()))
        os.sched_setaffinity(0, {cpu})  # two busy processes on one CPU: each waits

    busy = [sys.executable, "-c", "while True: pass"]
    kernel = subprocess.Popen(["sleep", "60"], preexec_fn=joined)
    others = [subprocess.Popen(busy, preexec_fn=joined) for _ in range(2)]
    try:
        deadline = time.monotonic() + 30
        while True:
            outside_the_tree = (
                sum(sandbox._run_delay_ns(f"/proc/{p.pid}/schedstat") or 0 for p in others) / 1e9
            )
            if outside_the_tree > 0.05:
                break
            assert time.monotonic() < deadline, "two busy processes on one CPU never waited"
            time.sleep(0.05)
        waited = sandbox.SandboxProvisioner.cpu_wait_seconds(_provisioner(kernel.pid, group))
        assert waited is not None and waited >= outside_the_tree
        unlisted = cgroups.ControlGroup(directories={"cpu": tmp_path / "gone"}, version=1)
        unread = sandbox.SandboxProvisioner.cpu_wait_seconds(_provisioner(kernel.pid, unlisted))
        assert unread is None
    finally:
        group.remove()
        for process in [kernel, *others]:
            process.kill()
            process.wait()


def test_the_cpu_a_sandbox_used_and_may_use_are_read_from_its_control_group() -> None:
    """A sandbox that keeps more processes busy than its quota allows waits for a CPU as
    long as one the host held up; what tells them apart is the CPU it used against the
    cores it may use. Are both read from the sandbox's control group, its use counting
    every process in it; and are they None, so that the wait alone decides, where there is
    no group, or the group does not hold the sandbox to its cores?"""
    from types import SimpleNamespace

    from lstm_grader import cgroups

    require_or_skip(os.geteuid() == 0, "root, for a control group of the test's own")
    group = cgroups.create(cgroups.Limits(memory_bytes=2**30, processes=64, cpus=1.5))
    require_or_skip(group.version != 0, "a control group")
    require_or_skip(any(words.startswith("cpu:") for words in group.applied), "a cpu control group")

    def joined() -> None:
        for procs in group.procs_files:
            Path(procs).write_text(str(os.getpid()))

    kernel = subprocess.Popen(["sleep", "60"], preexec_fn=joined)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=joined)
    found = SimpleNamespace(pid=kernel.pid, _cgroup=group, parent=SimpleNamespace(cpus=1.5))
    try:
        deadline = time.monotonic() + 30
        while True:
            # the busy process's own CPU time so far: the first field of its schedstat
            ran = int(Path(f"/proc/{busy.pid}/schedstat").read_text().split()[0]) / 1e9
            if ran > 0.2:
                break
            assert time.monotonic() < deadline, "a busy process never ran"
            time.sleep(0.05)
        used = sandbox.SandboxProvisioner.cpu_used_seconds(found)
        # the process outside the kernel's tree counts too
        assert isinstance(used, float) and used >= ran
        assert sandbox.SandboxProvisioner.cpu_quota(found) == 1.5
        unbounded = cgroups.ControlGroup(
            directories=group.directories,
            version=group.version,
            applied=[w for w in group.applied if not w.startswith("cpu:")],
        )
        found._cgroup = unbounded
        assert sandbox.SandboxProvisioner.cpu_quota(found) is None
        found._cgroup = None
        assert sandbox.SandboxProvisioner.cpu_used_seconds(found) is None
        assert sandbox.SandboxProvisioner.cpu_quota(found) is None
    finally:
        for process in [kernel, busy]:
            process.kill()
            process.wait()
        group.remove()


def test_an_ordinary_users_kernel_seals_its_folder_between_binding_and_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Does the launcher of a kernel that owns its private folder install the sealing
    filter (no bind, in every thread) after ipykernel has bound its sockets, heartbeat
    included, and before it serves a cell; and does a root grader's kernel, whose folder
    is taken back from it, start as before?"""
    spec = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "c"]
    monkeypatch.setattr(sandbox.landlock, "abi_version", lambda: 3)
    command, not_applied = sandbox._write_restriction(spec, "/run/k")
    launcher = command[2]
    assert not_applied is None
    order = ["restrict_writes(", "app.initialize()", "hb_port", "every_thread_via=", "app.start()"]
    assert [launcher.index(step) for step in order] == sorted(
        launcher.index(step) for step in order
    )
    plain = sandbox.grading_kernel_command(spec)[2]
    assert "every_thread_via" not in plain and plain.endswith(sandbox.GRADING_KERNEL_LAUNCHER)


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("core\n", False),
        ("|/usr/share/apport/apport -p%p -s%s -c%c\n", False),
        ("@/run/c.sock\n", True),
    ],
)
def test_a_core_pattern_no_core_file_limit_stops_is_named(
    tmp_path: Path, pattern: str, named: bool
) -> None:
    """Is a core_pattern that hands crashes to a socket, which takes them whatever the
    sandbox's RLIMIT_CORE of 1, named as a limit not applied, while a file or a program
    (which that limit stops) is not? The sandbox's limit is 1, not 0, at which a program
    still runs."""
    assert sandbox.CORE_LIMIT == 1
    (tmp_path / "core_pattern").write_text(pattern)
    words = sandbox._core_dumps_not_stopped(str(tmp_path / "core_pattern"))
    assert bool(words) == named and all("core_pattern" in w for w in words)
    assert sandbox._core_dumps_not_stopped(str(tmp_path / "missing")) == []


_CORE_LIMIT_UNDER_HARD_0 = """
import sys
from lstm_grader import sandbox
print(sandbox.core_limit(sys.argv[1]))
"""


@pytest.mark.parametrize(
    ("pattern", "under_hard_0"),
    [
        ("core\n", 0),
        ("/var/crash/core.%e.%p\n", 0),
        ("|/usr/share/apport/apport -p%p -s%s -c%c\n", sandbox.CORE_LIMIT),
        ("@/run/c.sock\n", sandbox.CORE_LIMIT),
        (None, sandbox.CORE_LIMIT),  # cannot be read
    ],
    ids=["core", "a-path", "a-program", "a-socket", "unreadable"],
)
def test_a_grader_with_no_core_files_gives_kernels_none_where_that_stops_every_dump(
    tmp_path: Path, pattern: str | None, under_hard_0: int
) -> None:
    """A host hardened with ``* hard core 0`` could not grade: its grader may not give
    kernels RLIMIT_CORE 1, which stops a core_pattern's program. Where the pattern names a
    file, 0 writes nothing and runs nothing: does the sandbox then take 0, keeping 1 where
    a program, a socket or an unknown pattern would take the crash, and 1 wherever the
    grader's own hard limit allows it?"""

    import resource

    pattern_file = tmp_path / "core_pattern"
    if pattern is not None:
        pattern_file.write_text(pattern)
        if resource.getrlimit(resource.RLIMIT_CORE)[1] != 0:
            assert sandbox.core_limit(str(pattern_file)) == sandbox.CORE_LIMIT
    said = python_under_limit("--core=0", _CORE_LIMIT_UNDER_HARD_0, str(pattern_file))
    assert said == [str(under_hard_0)]


_START_WITH_THE_CORE_PATTERN = """
import sys
from lstm_grader import sandbox
sandbox.CORE_PATTERN_FILE = sys.argv.pop()
"""


@pytest.mark.parametrize("pattern", ["core\n", "|/usr/lib/systemd/systemd-coredump %P\n"])
def test_a_kernel_starts_under_a_hard_core_limit_of_0_or_the_refusal_says_why(
    tmp_path: Path, pattern: str
) -> None:
    """For real, a grader under a hard core limit of 0 that it may not raise: does a
    sandboxed kernel start where the core_pattern names a file, and is it refused before
    it starts, saying what the limit is for, where the pattern pipes crashes to a
    program?"""
    sandbox.check_can_grade()
    pattern_file = tmp_path / "core_pattern"
    pattern_file.write_text(pattern)
    prefix = under_hard_limit(sandbox.DEFAULT_OPEN_FILES)
    run = subprocess.run(
        [*prefix[:-1], "--core=0", "--", sys.executable, "-c"]
        + [_START_WITH_THE_CORE_PATTERN + _START_UNDER_THE_GRADERS_LIMITS, "1024"]
        + [str(pattern_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    if pattern.startswith("|"):
        assert run.stdout.splitlines() == [
            "refused: the sandbox's limits for each process are above the grader's own hard "
            "limits, which it may not raise: core 1 (while kernel.core_pattern pipes each "
            "crash to a program, which only this limit keeps from running on the host for a "
            "crash in the sandbox) above its 0. Start the grader with higher ones (`ulimit "
            "-H`, or a service's Limit...= settings), or lower those settings"
        ]
    else:
        assert run.stdout.splitlines() == ["started"]


#: The limits the launch tests set, under any hard limit an ordinary user already has.
def _launch_limits(processes: int | None) -> sandbox.ProcessLimits:
    import resource

    def under(which: int, wanted: int) -> int:
        hard = resource.getrlimit(which)[1]
        return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)

    return sandbox.ProcessLimits(
        address_space_bytes=under(resource.RLIMIT_AS, 2**34),
        cpu_seconds=under(resource.RLIMIT_CPU, 90),
        file_bytes=under(resource.RLIMIT_FSIZE, 2**30),
        open_files=under(resource.RLIMIT_NOFILE, 321),
        processes=None if processes is None else under(resource.RLIMIT_NPROC, processes),
    )


_REPORT_OWN_LIMITS = (
    "import json, os, resource\n"
    "names = ('AS', 'DATA', 'CPU', 'FSIZE', 'NOFILE', 'CORE', 'NPROC')\n"
    "print(json.dumps({'pid': os.getpid(), **{n: resource.getrlimit(getattr(resource, "
    "'RLIMIT_' + n)) for n in names}}))\n"
)


@pytest.mark.parametrize("processes", [None, 4321], ids=["no-process-limit", "process-limit"])
def test_the_launch_joins_each_group_and_sets_each_limit_before_the_command_runs(
    tmp_path: Path, processes: int | None
) -> None:
    """Started through the launch's ``sh`` and ``prlimit`` (no preexec_fn, so Python can
    vfork), is the command's own process, the pid it keeps, written to every group's
    ``cgroup.procs``, and does it run under each limit :func:`_enter_sandbox` would set,
    soft and hard alike?"""
    limits = _launch_limits(processes)
    procs = [tmp_path / "memory.procs", tmp_path / "pids.procs"]
    for file in procs:
        file.write_text("")
    prefix = sandbox.launch_prefix([str(p) for p in procs], limits)
    require_or_skip(prefix is not None, "sh and prlimit (util-linux) in a system folder")
    ran = subprocess.run(
        [*prefix, sys.executable, "-c", _REPORT_OWN_LIMITS],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.defpath},
        check=True,
    )
    facts = json.loads(ran.stdout)
    assert [p.read_text() for p in procs] == [str(facts["pid"])] * 2
    expected = {
        "AS": limits.address_space_bytes,
        "DATA": limits.address_space_bytes,
        "CPU": limits.cpu_seconds,
        "FSIZE": limits.file_bytes,
        "NOFILE": limits.open_files,
        "CORE": sandbox.core_limit(),
    }
    if processes is not None:
        expected["NPROC"] = limits.processes
    for name, value in expected.items():
        assert facts[name] == [value, value], name


def test_a_launch_that_cannot_join_a_group_or_set_a_limit_never_runs_the_command(
    tmp_path: Path,
) -> None:
    """Does a group whose ``cgroup.procs`` cannot be written stop the launch, naming it,
    before any later group, limit or the command; and does a limit the host refuses stop
    it before the command? The kernel then dies at once, which its start reports with
    what the launch printed."""
    joined = tmp_path / "joined.procs"
    joined.write_text("")
    missing = tmp_path / "gone" / "cgroup.procs"
    later = tmp_path / "later.procs"
    later.write_text("")
    marker = tmp_path / "ran"
    prefix = sandbox.launch_prefix([str(joined), str(missing), str(later)], _launch_limits(None))
    require_or_skip(prefix is not None, "sh and prlimit (util-linux) in a system folder")
    stopped = subprocess.run(
        [*prefix, "touch", str(marker)], capture_output=True, text=True, timeout=60
    )
    assert stopped.returncode == 125
    assert f"could not join the control group {missing}" in stopped.stderr
    assert joined.read_text() and not later.read_text() and not marker.exists()
    # more open files than Linux allows anyone (fs.nr_open is at most 2**30)
    refused = sandbox.ProcessLimits(2**34, 90, 2**30, 2**31, None)
    prefix = sandbox.launch_prefix([], refused)
    stopped = subprocess.run(
        [*prefix, "touch", str(marker)], capture_output=True, text=True, timeout=60
    )
    assert stopped.returncode != 0 and "NOFILE" in stopped.stderr.upper()
    assert not marker.exists()


def test_without_sh_or_prlimit_in_a_system_folder_the_launch_uses_the_preexec_fn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is the launch's ``prlimit`` taken from the system's folders only, never from the
    grader's PATH, and without one is there no prefix (the launch then joins and limits in
    a preexec_fn)?"""
    planted = tmp_path / "prlimit"
    planted.write_text("#!/bin/sh\nexit 0\n")
    planted.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    sandbox._system_program.cache_clear()
    prefix = sandbox.launch_prefix([], _launch_limits(None))
    assert prefix is None or str(planted) not in prefix
    monkeypatch.setattr(sandbox, "SYSTEM_PROGRAM_FOLDERS", (str(tmp_path / "empty"),))
    sandbox._system_program.cache_clear()
    try:
        assert sandbox.launch_prefix([], _launch_limits(None)) is None
    finally:
        monkeypatch.undo()
        sandbox._system_program.cache_clear()


def _limits_of(pid: int) -> dict[str, list[str]]:
    """A process's limits as ``/proc/PID/limits`` lists them: name, then soft and hard."""
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): row[26:].split()[:2] for row in rows}


@pytest.mark.slow
@pytest.mark.parametrize("launch", ["sh-and-prlimit", "preexec_fn"])
def test_a_real_kernel_runs_in_its_groups_under_its_limits_however_it_was_launched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, launch: str
) -> None:
    """Seen from the host while a cell runs, is every process of a real sandboxed kernel in
    each of its sandbox's control groups, and under each per-process limit, whether it was
    launched through ``sh`` and ``prlimit`` (vfork) or, where those are missing, with the
    preexec_fn?"""
    from jupyter_client import launcher
    from nbclient import NotebookClient

    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    if launch == "preexec_fn":
        monkeypatch.setattr(sandbox, "launch_prefix", lambda *_: None)
    else:
        prefix = sandbox.launch_prefix([], _launch_limits(None))
        require_or_skip(prefix is not None, "sh and prlimit (util-linux) in a system folder")
    launched: list[tuple[list[str], Any]] = []
    real_popen = launcher.Popen

    def recording(cmd: list[str], **kwargs: Any) -> Any:
        launched.append((list(cmd), kwargs.get("preexec_fn")))
        return real_popen(cmd, **kwargs)

    monkeypatch.setattr(launcher, "Popen", recording)
    seen: dict[str, Any] = {}

    def look(cell: Any, cell_index: int) -> None:
        provisioner = client.km.provisioner
        tree = [
            int(entry)
            for entry in os.listdir("/proc")
            if entry.isdigit() and sandbox._descends_from(int(entry), provisioner.pid)
        ]
        group = provisioner._cgroup
        seen["tree"] = tree
        seen["groups"] = [
            {int(pid) for pid in Path(procs).read_text().split()}
            for procs in (group.procs_files if group is not None else [])
        ]
        seen["limits"] = {pid: _limits_of(pid) for pid in tree}

    workdir = tmp_path / "work"
    workdir.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_manager_class=sandbox.SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_execute=look,
    )
    km = client.create_kernel_manager()
    client.execute()
    command, preexec = launched[-1]
    if launch == "preexec_fn":
        assert preexec is not None and "prlimit" not in " ".join(command)
    else:
        assert preexec is None and command[0].endswith("/sh")
        assert command.index("--") < command.index(sandbox.bwrap_path())
    assert len(seen["tree"]) >= 3, "bubblewrap, its namespace's init and the kernel"
    for members in seen["groups"]:
        assert set(seen["tree"]) <= members
    if os.geteuid() == 0:
        assert seen["groups"], "root's sandbox has control groups"
    expected = {
        "Max address space": km.address_space_mb * 2**20,
        "Max data size": km.address_space_mb * 2**20,
        "Max cpu time": km.cpu_limit_seconds,
        "Max file size": km.disk_limit_mb * 2**20,
        "Max open files": km.open_files,
        "Max core file size": sandbox.core_limit(),
    }
    for pid, limits in seen["limits"].items():
        for name, value in expected.items():
            assert limits[name] == [str(value)] * 2, (pid, name, limits[name])


_START_UNDER_THE_GRADERS_LIMITS = """
import asyncio, sys
from lstm_grader import sandbox

async def start(open_files):
    manager = sandbox.SandboxKernelManager(kernel_name="python3")
    manager.open_files = open_files
    try:
        await manager.start_kernel()
    except sandbox.SandboxUnavailable as exc:
        return f"refused: {exc}"
    await manager.shutdown_kernel(now=True)
    return "started"

for open_files in map(int, sys.argv[1:]):
    print(asyncio.run(start(open_files)))
"""


def test_limits_the_grader_may_not_give_refuse_the_kernel_saying_which(tmp_path: Path) -> None:
    """A grader started under a lower hard limit than the sandbox gives each process (a
    service's ``LimitNOFILE=512``) may not raise it: every kernel died before it replied,
    each notebook a grader error saying only that the kernel died. Is the kernel refused
    before it starts, naming the limit, its setting and the grader's own, while one within
    the grader's limits starts?"""
    sandbox.check_can_grade()
    run = subprocess.run(
        [*under_hard_limit(512), sys.executable, "-c", _START_UNDER_THE_GRADERS_LIMITS]
        + ["1024", "512"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    refused, started = run.stdout.splitlines()
    assert refused == (
        "refused: the sandbox's limits for each process are above the grader's own hard "
        "limits, which it may not raise: nofile 1024 (c.SandboxKernelManager.open_files) "
        "above its 512. Start the grader with higher ones (`ulimit -H`, or a service's "
        "Limit...= settings), or lower those settings"
    )
    assert started == "started"


_RAISE_OWN_OPEN_FILES = """
import resource, sys
from lstm_grader import sandbox

sandbox.OWN_OPEN_FILES = int(sys.argv[1])
said = sandbox.raise_own_open_files()
print(said, *resource.getrlimit(resource.RLIMIT_NOFILE))
"""


@pytest.mark.parametrize(
    ("soft", "hard", "bound", "raised_to"),
    [
        (64, 4096, 65536, 4096),
        (64, 4096, 1000, 1000),
        (512, 512, 65536, 512),
        (4000, 4096, 1000, 4000),
    ],
    ids=["to-the-hard-limit", "to-its-own-bound", "already-at-the-hard-limit", "never-lowered"],
)
def test_the_grader_raises_its_own_soft_limit_of_open_files(
    soft: int, hard: int, bound: int, raised_to: int
) -> None:
    """A grader started with a low soft limit of open files under a higher hard one ran
    out of files as it graded. Does it raise the soft limit to the hard one, at most to its
    own bound, keep the hard one, and never lower either?"""
    said = python_under_limit(f"--nofile={soft}:{hard}", _RAISE_OWN_OPEN_FILES, str(bound))
    assert said == [str(raised_to), str(raised_to), str(hard)]
