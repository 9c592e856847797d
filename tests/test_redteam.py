"""The red-team suite: submissions that cheat, break or attack the grader.

Every sample submission is generated here from the return-flags solution: a correct
notebook with one attack added. The whole class is graded once through the course's real
grading path (``lstm-grade``, which runs ``nbgrader autograde`` with the preprocessors of
``nbgrader_config.py``), then each case asserts: the cheating or broken question earns 0,
every honest question keeps its points, the status says what happened, and the submitted
files are byte-identical afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import errno
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import (
    GRADER_UID,
    Course,
    folder_for_a_user,
    make_course,
    require_module,
    require_or_skip,
)

from lstm_grader import landlock, preprocessors, report, sandbox
from lstm_grader.sandbox import bwrap_path
from lstm_grader.synthetic import answered
from lstm_lib import verdicts

pytestmark = pytest.mark.slow

ASSIGNMENT = "05-return-flags"
# Seconds per cell in this suite, so an endless loop costs little; yet enough for a cell that
# imports Keras in a one-core 1 GiB sandbox on a loaded machine: a notebook past
# check_names.MAX_ANALYSED_CHARS (huge-code, long-lines) replays its checks, Keras and all,
# and at 5 s that replay ran out of time in one CI run of two.
CELL_TIMEOUT = 15
MEMORY_MB = 1024  # the sandbox's memory in this suite (the course's is 2048)
WRONG_Q1 = "answer_q1 = (None, 8, 16)\n"


@dataclass
class Case:
    """One attack: how to make the submission and what the grader must conclude."""

    answers: dict[str, str] = field(default_factory=dict)
    edit: Callable[[nbformat.NotebookNode], None] | None = None
    zero: set[str] = field(default_factory=set)
    status: str | tuple[str, ...] = "graded"
    # where a grader without a control group (an ordinary user's) ends otherwise: only the
    # per-process limits hold, and the sandbox keeps to one process
    status_without_group: str | tuple[str, ...] | None = None
    keep_before: str | None = None  # for crashes: cells before this one keep their points
    raw: Callable[[Path], None] | None = None  # replaces the notebook file entirely
    files: dict[str, str] = field(default_factory=dict)  # written beside the notebook


def _test_cell(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def _delete(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        del nb.cells[_test_cell(nb, grade_id)]

    return edit


def _delete_all(*grade_ids: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        for grade_id in grade_ids:
            del nb.cells[_test_cell(nb, grade_id)]

    return edit


def _duplicate(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        index = _test_cell(nb, grade_id)
        twin = copy.deepcopy(nb.cells[index])
        twin["id"] = "duplicated-cell"
        nb.cells.insert(index + 1, twin)

    return edit


def _retype(grade_id: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        index = _test_cell(nb, grade_id)
        old = nb.cells[index]
        new = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata)
        new["id"] = old.get("id", "retyped")
        new.metadata["nbgrader"]["cell_type"] = "markdown"
        nb.cells[index] = new

    return edit


def _rewrite(grade_id: str, source: str) -> Callable[[nbformat.NotebookNode], None]:
    def edit(nb: nbformat.NotebookNode) -> None:
        nb.cells[_test_cell(nb, grade_id)].source = source

    return edit


def _metadata(grade_id: str, change: Callable[[dict], None]) -> Callable:
    def edit(nb: nbformat.NotebookNode) -> None:
        change(nb.cells[_test_cell(nb, grade_id)].metadata)

    return edit


def _truncate(path: Path) -> None:
    path.write_text(path.read_text()[: len(path.read_text()) // 2])


def _schema_invalid(path: Path) -> None:
    text = path.read_text().replace('"cell_type": "markdown"', '"cell_type": "slides"', 1)
    path.write_text(text)


def _lone_surrogate(path: Path) -> None:
    # valid JSON, but no UTF-8 file can hold the text it spells
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] = "my notes \ud800"
    path.write_text(json.dumps(notebook))


def _folder_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "notes.txt").write_text("a folder named like the notebook")


def _sparse_file(path: Path) -> None:
    # a few bytes on disk, more than the file limit to a copy (a terabyte costs the same)
    with open(path.parent / "data.bin", "wb") as handle:
        handle.truncate(60 * 2**20)


def _deep_folders(path: Path) -> None:
    path.parent.joinpath(*["d"] * 40).mkdir(parents=True)


def _fifo_instead(path: Path) -> None:
    # opening it to read waits for a writer that never comes
    path.unlink()
    os.mkfifo(path)


#: A time-zone file that puts a time 5 h 45 min earlier (a TZif file of one zone, UTC+5:45).
ZONE_FILE = (
    b"TZif" + bytes(16) + struct.pack(">6l", 0, 0, 0, 0, 1, 4) + struct.pack(">lBB", 20700, 0, 0)
)
ZONE_FILE += b"NPT\0"


def _timestamp_naming_a_file(path: Path) -> None:
    # nbgrader looks a third word up as a time zone, a path included, and reads that file
    zone = path.parent.parent / "zone"
    zone.write_bytes(ZONE_FILE)
    (path.parent / "timestamp.txt").write_text(f"2020-01-01 00:00:00 {zone}\n")


#: An answer cell of 150,000 characters that runs in a moment: every feedback page and
#: formgrader view would highlight it whole.
HUGE_CODE = "_ = (" + "1," * 75_000 + ")\nanswer_q1 = (None, 16)\n"

#: The kernel's private folder (its connection file and sockets) lies on the host's tmpfs.
#: Fill it past the disk limit with a tree deeper than Python's recursion limit (which
#: shutil.rmtree could not remove, leaving it to break every later clean-up), then write
#: escapes and megabytes straight to the kernel's own stdout and stderr, past every
#: output cap (4 MiB each, twice the notebook's cap: more only slowed a loaded machine past
#: the 5 s a cell this test once allowed), towards the grader's log and terminal.
KERNEL_FOLDER = (
    "import glob, os\n"
    "print('UID', os.getuid())\n"
    "for kernel in glob.glob('/dev/shm/lstm-grade-kernel-*/kernel') + glob.glob(\n"
    "        '/tmp/lstm-grade-kernel-*/kernel') + glob.glob('/run/lstm-grade-kernel'):\n"
    "    try:\n"
    "        here = os.open(kernel, os.O_RDONLY)\n"
    "        os.mkdir('redteam-deep', dir_fd=here)\n"
    "        here = os.open('redteam-deep', os.O_RDONLY, dir_fd=here)\n"
    "        blob = os.open('blob', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here)\n"
    "        os.write(blob, b'x' * 2**20)\n"
    "        for _ in range(1500):\n"
    "            os.mkdir('d', dir_fd=here)\n"
    "            here = os.open('d', os.O_RDONLY, dir_fd=here)\n"
    "        print('WROTE kernel folder', kernel)\n"
    "    except OSError as exc:\n"
    "        print('kernel folder refused:', type(exc).__name__)\n"
    "for fd in (1, 2):\n"
    "    os.write(fd, b'\\x1b]0;PWNED\\x07\\x1b[2J')\n"
    "    for _ in range(4):\n"
    "        os.write(fd, b'\\xff' * 2**20)\n"
    "answer_q1 = (None, 16)\n"
)
WHO_AM_I = "import os\nprint('UID', os.getuid())\nanswer_q1 = (None, 16)\n"
#: A socket file is the one entry a kernel that owns its private folder (an ordinary
#: user's) may make there, on the host's /dev/shm, outside its disk and file limits: a cell
#: bound 40,000 a second. Take the folder back (chmod, as its owner may), then bind as many
#: as it lets, from the kernel's own thread and from a thread ipykernel started before any
#: cell ran (Landlock, say, binds only the thread that asks it), and make one with mknod.
SOCKET_FILES = (
    "import glob, os, socket, stat, threading\n"
    "def bind_many(folder, tag):\n"
    "    made = 0\n"
    "    for number in range(2000):\n"
    "        try:\n"
    "            with socket.socket(socket.AF_UNIX) as bound:\n"
    "                bound.bind(f'{folder}/redteam-{tag}-{number}')\n"
    "        except OSError:\n"
    "            break\n"
    "        made += 1\n"
    "    try:\n"
    "        os.mknod(f'{folder}/redteam-{tag}-node', 0o600 | stat.S_IFSOCK)\n"
    "        made += 1\n"
    "    except OSError:\n"
    "        pass\n"
    "    print('SOCKET FILES', tag, made)\n"
    "control = get_ipython().kernel.control_thread.io_loop\n"
    "for folder in glob.glob('/dev/shm/lstm-grade-kernel-*/kernel') + glob.glob(\n"
    "        '/tmp/lstm-grade-kernel-*/kernel') + glob.glob('/run/lstm-grade-kernel'):\n"
    "    try:\n"
    "        os.chmod(folder, 0o700)\n"
    "    except OSError:\n"
    "        pass\n"
    "    bind_many(folder, 'kernel')\n"
    "    done = threading.Event()\n"
    "    control.add_callback(lambda: (bind_many(folder, 'control'), done.set()))\n"
    "    print('CONTROL RAN', done.wait(10))\n"
    "answer_q1 = (None, 16)\n"
)
#: Files, folders, FIFOs and links in every folder of the sandbox outside its two
#: size-limited tmpfs: the ones bubblewrap makes (on a tmpfs without a size) and the
#: kernel's private folder (on the host's /dev/shm), wherever the kernel sees it.
OWN_FOLDERS = (
    "import glob, os\n"
    "places = ['/', '/etc', '/dev', '/opt', '/run', *glob.glob('/run/lstm-grade-kernel'),\n"
    "          *glob.glob('/dev/shm/lstm-grade-kernel-*/kernel'),\n"
    "          *glob.glob('/tmp/lstm-grade-kernel-*/kernel')]\n"
    "print('TRIED', places)\n"
    "chunk = b'x' * 2**20\n"
    "for where in places:\n"
    "    written = 0\n"
    "    try:\n"
    "        with open(os.path.join(where, 'redteam-fill'), 'wb') as handle:\n"
    "            for _ in range(64):\n"
    "                handle.write(chunk)\n"
    "                handle.flush()\n"
    "                written += 1\n"
    "    except OSError:\n"
    "        pass\n"
    "    if written:\n"
    "        print('WROTE', where, written, 'MiB')\n"
    "    for make in (os.mkdir, os.mkfifo):\n"
    "        try:\n"
    "            make(os.path.join(where, 'redteam-' + make.__name__))\n"
    "            print('WROTE', where, make.__name__)\n"
    "        except OSError:\n"
    "            pass\n"
    "    try:\n"
    "        os.symlink('/etc/passwd', os.path.join(where, 'redteam-link'))\n"
    "        print('WROTE', where, 'link')\n"
    "    except OSError:\n"
    "        pass\n"
    "answer_q1 = (None, 16)\n"
)


def _many_cells(path: Path) -> None:
    # each cell costs grading and the feedback page time, whatever its size
    notebook = json.loads(path.read_text())
    notebook["cells"] += [
        {"cell_type": "markdown", "id": f"note-{i}", "metadata": {}, "source": "note"}
        for i in range(20_000)
    ]
    path.write_text(json.dumps(notebook))


#: The id a learner gives every cell of a notebook (Jupyter gives each its own): nbformat
#: repairs each repeat as it reads the notebook.
REPEATED_CELL_ID = "REPEATED-CELL-ID"


def _repeated_cell_ids(length: int) -> Callable[[Path], None]:
    """Every cell's id, and 1,900 more cells', one id of ``length`` characters (at most 64
    of them in a valid notebook)."""

    def raw(path: Path) -> None:
        notebook = json.loads(path.read_text())
        shared = REPEATED_CELL_ID.ljust(length, "-")
        notebook["cells"] += [
            {"cell_type": "markdown", "metadata": {}, "source": "note"} for _ in range(1_900)
        ]
        for cell in notebook["cells"]:
            cell["id"] = shared
        path.write_text(json.dumps(notebook))

    return raw


def _timestamp_not_a_time(path: Path) -> None:
    (path.parent / "timestamp.txt").write_text("handed in on time, honest\n")


def _rename(path: Path) -> None:
    path.rename(path.with_name("my-answers.ipynb"))


def _remove(path: Path) -> None:
    path.unlink()


def _host_abstract_socket(port: int) -> bytes:
    """The abstract Unix socket the grading host listens on beside its TCP ``port``, as a
    host's services do (D-Bus, X11, systemd): its name, leading NUL included."""
    return f"\0lstm-redteam-host-{port}".encode()


def _escape_attempts(course_root: Path, port: int) -> str:
    targets = [
        course_root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course_root / "references" / f"{ASSIGNMENT}.json",
        course_root / "gradebook.db",
        course_root / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        course_root / "nbgrader_config.py",
    ]
    writes = [
        course_root / "pwned.txt",
        course_root / "submitted" / "honest" / ASSIGNMENT / "pwned.txt",
        course_root / "references" / "pwned.json",
    ]
    return (
        "import os, socket\n"
        f"for target in {[str(t) for t in targets]!r}:\n"
        "    try:\n"
        "        open(target, 'rb').read(10)\n"
        "        print('LEAK read', target)\n"
        "    except OSError:\n"
        "        pass\n"
        f"for target in {[str(t) for t in writes]!r}:\n"
        "    try:\n"
        "        open(target, 'w').write('x')\n"
        "        print('LEAK wrote', target)\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    print('LEAK network')\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"  # a host service's abstract Unix socket, which no file permission guards
        f"    socket.socket(socket.AF_UNIX).connect({_host_abstract_socket(port)!r})\n"
        "    print('LEAK network abstract socket')\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"  # vsock reaches a virtual machine's host whatever the network namespace
        "    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).close()\n"
        "    print('LEAK network vsock')\n"
        "except OSError:\n"
        "    pass\n"
        "open('my-own-scratch.txt', 'w').write('fine')\n"
        "answer_q1 = (None, 16)\n"
    )


SECRETS = {
    "JUPYTERHUB_API_TOKEN": "hub-token-c0ffee-redteam",
    "PGPASSWORD": "db-password-deadbeef-redteam",
}
RIGHT_Q3 = "answer_q3 = [(None, 16), (None, 16), (None, 16)]\n"
#: A secret in the grader's configuration, as a hub's settings, an ``nbgrader_config.py``
#: naming the gradebook with its password, or a conda activation script would hold one:
#: planted in this environment's folders while the class is graded.
CONFIG_SECRET = "config-secret-5ca1ab1e-redteam"
PLANTED_CONFIG = {
    Path(sys.prefix, "etc", "jupyter", "jupyterhub_config.py"): (
        f"c.JupyterHub.cookie_secret = {CONFIG_SECRET!r}\n"
    ),
    Path(sys.prefix, "etc", "conda", "activate.d", "grader_env.sh"): (
        f"export PGPASSWORD={CONFIG_SECRET}\n"
    ),
}


def _host_escapes() -> str:
    """Try every way out of the sandbox; print LEAK for each that works, undoing it."""
    return (
        "import ctypes, os, sysconfig\n"
        "status = open('/proc/self/status').read()\n"
        "fields = dict(line.split(':', 1) for line in status.splitlines() if ':' in line)\n"
        "if os.getuid() == 0 or os.geteuid() == 0:\n"
        "    print('LEAK root uid')\n"
        "for cap in ('CapEff', 'CapPrm', 'CapBnd', 'CapAmb'):\n"
        "    if int(fields[cap].strip(), 16):\n"
        "        print('LEAK capability', cap)\n"
        "if fields['NoNewPrivs'].strip() != '1':\n"
        "    print('LEAK may gain privileges')\n"
        # a harmless write: the value already there
        "try:\n"
        "    value = open('/proc/sys/kernel/core_pattern').read()\n"
        "    open('/proc/sys/kernel/core_pattern', 'w').write(value)\n"
        "    print('LEAK sysctl write')\n"
        "except OSError:\n"
        "    pass\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "packages = sysconfig.get_paths()['purelib'].encode()\n"
        "if libc.mount(None, packages, None, 32 | 4096, None) == 0:\n"  # MS_REMOUNT|MS_BIND
        "    print('LEAK remount')\n"
        "planted = os.path.join(sysconfig.get_paths()['purelib'], 'zz_redteam.pth')\n"
        "try:\n"
        "    open(planted, 'w').write('import os\\n')\n"
        "    print('LEAK planted .pth')\n"
        "    os.unlink(planted)\n"
        "except OSError:\n"
        "    pass\n"
        "for flag, name in ((0x10000000, 'user'), (0x20000, 'mount'), (0x40000000, 'net')):\n"
        "    if libc.unshare(flag) == 0:\n"
        "        print('LEAK new namespace', name)\n"
        "try:\n"
        "    os.setuid(0)\n"
        "    print('LEAK setuid')\n"
        "except OSError:\n"
        "    pass\n"
        "answer_q1 = (None, 16)\n"
    )


def _read_secrets() -> str:
    return (
        "import os\n"
        "print(dict(os.environ))\n"
        "for pid in ('1', 'self', str(os.getppid())):\n"
        "    try:\n"
        "        print(open(f'/proc/{pid}/environ').read())\n"
        "    except OSError:\n"
        "        pass\n"
        "answer_q1 = (None, 16)\n"
    )


def _read_host_config() -> str:
    """Read the host's configuration: every entry of /etc, and every file of the Jupyter,
    IPython and conda configuration folders a grader's settings live in."""
    return (
        "import glob, os, sys\n"
        "folders = ['/etc/jupyter', '/usr/local/etc/jupyter', '/usr/etc/jupyter',\n"
        "           sys.prefix + '/etc/jupyter', sys.prefix + '/etc/ipython',\n"
        "           sys.prefix + '/etc/conda', sys.base_prefix + '/etc/jupyter',\n"
        "           '/etc/ipython']\n"
        "for folder in folders:\n"
        "    for path in glob.glob(folder + '/**', recursive=True):\n"
        "        try:\n"
        "            print('CONFIG', path, open(path, errors='replace').read()[:2000])\n"
        "        except OSError:\n"
        "            pass\n"
        "for name in sorted(os.listdir('/etc')):\n"
        "    print('ETC', name)\n"
        "print('ACCOUNTS', open('/etc/passwd').read().replace(chr(10), ' | '))\n"
        "import socket\n"
        "print('HOSTNAME', socket.gethostname(), socket.getfqdn())\n"
        "answer_q1 = (None, 16)\n"
    )


def _plant_links(course_root: Path) -> str:
    targets = {
        f"{ASSIGNMENT}.ipynb": course_root
        / "submitted"
        / "honest"
        / ASSIGNMENT
        / f"{ASSIGNMENT}.ipynb",
        "references.html": course_root / "references" / f"{ASSIGNMENT}.json",
        "solution.html": course_root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
        "gradebook.db": course_root / "gradebook.db",
        "private.txt": course_root / "nbgrader_config.py",
    }
    return (
        "import os\n"
        f"for name, target in { ({k: str(v) for k, v in targets.items()})!r}.items():\n"
        "    try:\n"
        "        os.symlink(target, name)\n"
        "    except OSError as exc:\n"
        "        print('no link', name, exc)\n"
        "os.mkfifo('pipe.html')\n"
        "open('scratch.txt', 'w').write('mine')\n"
        "answer_q1 = (None, 16)\n"
    )


def _fill(where: str) -> str:
    """Write until the sandbox refuses; the answer is right and set first."""
    return RIGHT_Q3 + (
        "chunk = b'x' * (16 * 2**20)\n"
        "try:\n"
        f"    with open({where!r}, 'wb') as handle:\n"
        "        for _ in range(128):\n"
        "            handle.write(chunk)\n"
        "            handle.flush()\n"
        "except OSError as exc:\n"
        "    print('refused:', exc)\n"
    )


#: Three processes of 450 MiB each: under any per-process limit, over the sandbox's 1 GiB.
#: Each holds its block until all three have said they hold theirs (or died), so they hold
#: them at once. They are forked from the kernel, not started as new interpreters: three
#: interpreter start-ups in a one-core sandbox on a loaded 2-core machine took longer than
#: CELL_TIMEOUT before any block was held, and the cell timed out instead of meeting the
#: memory limit. A fork costs milliseconds, so the cell ends well within CELL_TIMEOUT.
FORK_MEMORY = RIGHT_Q3 + (
    "import os\n"
    "ready_read, ready_write = os.pipe()  # a child writes one byte once it holds its block\n"
    "go_read, go_write = os.pipe()  # closed by the kernel: every child lets go and exits\n"
    "children = []\n"
    "for _ in range(3):\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        os.close(ready_read)\n"
    "        os.close(go_write)\n"
    "        block = b'x' * (450 * 2**20)\n"
    "        os.write(ready_write, b'h')\n"
    "        os.close(ready_write)\n"
    "        os.read(go_read, 1)\n"
    "        os._exit(0)\n"
    "    children.append(pid)\n"
    "os.close(ready_write)\n"
    "os.close(go_read)\n"
    "held = 0\n"
    "while held < 3 and os.read(ready_read, 1):  # empty once every child wrote or died\n"
    "    held += 1\n"
    "os.close(go_write)\n"
    "print(held, [os.waitpid(pid, 0)[1] for pid in children])\n"
)

#: A learner who knows the course: the instructor's feedback.json explains every option
#: of a choice question, the right one's reason included, so whoever reads it answers
#: without knowing anything. These cells answer right wherever the kernel finds the file
#: with the question in it (which is what reaching it is worth), and a wrong option where
#: it cannot.
BLIND_CHOICE = (
    "import glob, json, os\n"
    "def from_the_course(question, right, fallback):\n"
    "    places = [os.getcwd() + '/**/feedback.json', '/tmp/**/feedback.json',\n"
    "              os.path.dirname(os.getcwd()) + '/*/feedback.json']\n"
    "    for path in sorted({p for place in places for p in glob.glob(place, recursive=True)}):\n"
    "        try:\n"
    "            if right in json.load(open(path)).get(question, {}):\n"
    "                return right\n"
    "        except (OSError, ValueError, AttributeError):\n"
    "            continue\n"
    "    return fallback\n"
)
BLIND_CHOICES = {
    "q5-answer": BLIND_CHOICE + "answer_q5 = from_the_course('q5', 'output-h', 'none')\n",
    "q8-answer": "answer_q8 = from_the_course('q8', 'seq[:, -1]', 'seq[-1]')\n",
    "q9-answer": "answer_q9 = from_the_course('q9', 'error-ndim', 'builds')\n",
}

#: The kernel chooses the text it hands back for an answer: here an f-string of many
#: fields, which Python's parser reads in time growing with the square of its length
#: (minutes at the grader's 1,000,000-character cap, in the grader's own process, outside
#: every limit of the sandbox). Kept short here: what counts is that it is never parsed.
COSTLY_TO_PARSE = (
    "_shell = get_ipython()\n"
    "_evaluate = _shell.user_expressions\n"
    "def _costly(expressions):\n"
    "    replies = _evaluate(expressions)\n"
    "    if 'q1' in expressions:\n"
    "        text = \"f'\" + '{1}' * 20_000 + \"'\"\n"
    "        replies['q1'] = {'status': 'ok', 'data': {'text/plain': text}, 'metadata': {}}\n"
    "    return replies\n"
    "_shell.user_expressions = _costly\n"
    "answer_q1 = (None, 16)\n"
)

#: Open files until the kernel may hold no more (or a bound well past any limit): the host's
#: table of open files is one for every program on it.
FILE_TABLE = RIGHT_Q3 + (
    "import os, resource\n"
    "held = []\n"
    "try:\n"
    "    while len(held) < 200_000:\n"
    "        held.append(os.open('/dev/null', os.O_RDONLY))\n"
    "except OSError as error:\n"
    "    stopped = error.errno\n"
    "for fd in held:\n"  # the kernel needs a few to print
    "    os.close(fd)\n"
    "print('OPENED', len(held))\n"
    "print('LIMIT', *resource.getrlimit(resource.RLIMIT_NOFILE))\n"
)

#: Empty files by the hundred thousand: no tmpfs size counts them, yet each holds the host's
#: kernel memory (a million took 0.8 GB), which only a memory control group would bound.
MANY_FILES = RIGHT_Q3 + (
    "import os\n"
    "for folder in ('/tmp/many', '/dev/shm/many'):\n"
    "    os.makedirs(folder, exist_ok=True)\n"
    "    for number in range(60_000):\n"
    "        open(f'{folder}/{number}', 'w').close()\n"
)

#: Memory outside the address space RLIMIT_AS counts: a memory file's pages, a System V
#: segment's (attached, touched, detached), a System V semaphore set's (32,000 semaphores
#: took 2 MiB of the host's kernel memory each, and the sandbox's IPC namespace allows
#: 32,000 sets: 64 GiB), a System V message queue's (16 kB each, 32,000 queues), and what
#: sockets hold queued: a TCP connection over the sandbox's loopback grows its buffers by
#: itself (150 held 560 MB), and a Unix socket's send buffer raised to the host's
#: net.core.wmem_max holds that much (2,000 of them, half in flight, held 15 GB). Small
#: here: whether the kernel may hold them at all is what tells, and a memory control group
#: counts them where one exists.
SHARED_MEMORY = RIGHT_Q3 + (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "try:\n"
    "    held = os.memfd_create('held')\n"
    "    os.write(held, b'x' * 2**20)\n"
    "    print('MEMFD held')\n"
    "except OSError as error:\n"
    "    print('MEMFD refused', error.errno)\n"
    "segment = libc.shmget(0, 2**20, 0o1600)\n"  # IPC_PRIVATE, IPC_CREAT | 0600
    "print('SHM held' if segment >= 0 else f'SHM refused {ctypes.get_errno()}')\n"
    "if segment >= 0:\n"
    "    libc.shmctl(segment, 0, None)\n"  # IPC_RMID
    "semaphores = libc.semget(0, 32_000, 0o1600)\n"
    "print('SEM held' if semaphores >= 0 else f'SEM refused {ctypes.get_errno()}')\n"
    "if semaphores >= 0:\n"
    "    libc.semctl(semaphores, 0, 0)\n"  # IPC_RMID
    "message = ctypes.create_string_buffer(8 + 8_000)\n"
    "ctypes.c_long.from_buffer(message).value = 1\n"  # the message's type
    "queue = libc.msgget(0, 0o1600)\n"
    "sent = queue >= 0 and libc.msgsnd(queue, message, 8_000, 0o4000) == 0\n"  # IPC_NOWAIT
    "print('MSG held' if sent else f'MSG refused {ctypes.get_errno()}')\n"
    "if queue >= 0:\n"
    "    libc.msgctl(queue, 0, None)\n"  # IPC_RMID
    "import socket\n"
    "try:\n"
    "    with socket.create_server(('127.0.0.1', 0)) as server:\n"
    "        sender = socket.create_connection(server.getsockname())\n"
    "        sender.setblocking(False)\n"
    "        sent = sender.send(b'x' * 2**16)\n"
    "        print('TCP held')\n"
    "except OSError as error:\n"
    "    print('TCP refused', error.errno)\n"
    "end, other_end = socket.socketpair()\n"
    "try:\n"
    "    end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2**22)\n"
    "    print('SNDBUF held')\n"
    "except OSError as error:\n"
    "    print('SNDBUF refused', error.errno)\n"
)

#: userfaultfd (user-mode faults only, which an unprivileged process may ask for), a
#: perf_event counter of this process's user-space CPU clock, and a bpf map: each printed
#: as the errno it fails with, or "opened". Unfiltered, the first two open on a host whose
#: sysctls allow them (vm.unprivileged_userfaultfd=0, kernel.perf_event_paranoid=2 do).
KERNEL_INTERFACES = RIGHT_Q3 + (
    "import ctypes, os, struct\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "userfaultfd, perf_event_open, bpf = {'x86_64': (323, 298, 321),\n"
    "                                     'aarch64': (282, 241, 280)}[os.uname().machine]\n"
    "attr = struct.pack('=IIQ4Q', 1, 128, 0, 0, 0, 0, 1 << 5 | 1 << 6).ljust(128, b'\\0')\n"
    "map_attr = struct.pack('=5I', 2, 4, 4, 1, 0).ljust(72, b'\\0')\n"  # an array map
    "for name, call in [('USERFAULTFD', (userfaultfd, 1)),\n"
    "                   ('PERF_EVENT', (perf_event_open, attr, 0, -1, -1, 0)),\n"
    "                   ('BPF', (bpf, 0, map_attr, 72))]:\n"
    "    fd = libc.syscall(*call)\n"
    "    print(name, 'opened' if fd >= 0 else ctypes.get_errno())\n"
)

#: TCP buffers over the sandbox's own loopback, which a connection grows by itself (to about
#: 4 MB each): three processes of 100 connections each queue what they can without reading
#: any of it, about 1.1 GB where nothing counts them, past the sandbox's MEMORY_MB. The
#: kernel prints how many MiB they queued in all.
TCP_BUFFERS = RIGHT_Q3 + (
    "import os, socket\n"
    "ready_read, ready_write = os.pipe()\n"
    "children = []\n"
    "for _ in range(3):\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        queued = 0\n"
    "        try:\n"
    "            server = socket.create_server(('127.0.0.1', 0), backlog=100)\n"
    "            held = []\n"
    "            for _ in range(100):\n"
    "                sender = socket.create_connection(server.getsockname())\n"
    "                held += [sender, server.accept()[0]]\n"
    "                sender.setblocking(False)\n"
    "                try:\n"
    "                    while True:\n"
    "                        queued += sender.send(b'x' * 2**16)\n"
    "                except BlockingIOError:\n"
    "                    pass\n"
    "        finally:\n"
    "            os.write(ready_write, f'{queued}\\n'.encode())\n"
    "            os._exit(0)\n"
    "    children.append(pid)\n"
    "os.close(ready_write)\n"
    "said = b''\n"
    "while chunk := os.read(ready_read, 4096):\n"
    "    said += chunk\n"
    "for pid in children:\n"
    "    os.waitpid(pid, 0)\n"
    "print('TCP QUEUED MiB', sum(map(int, said.split())) // 2**20)\n"
)

FORK_BOMB = RIGHT_Q3 + (
    "import os, time\n"
    "started = 0\n"
    "for _ in range(1000):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(20)\n"
    "        os._exit(0)\n"
    "    started += 1\n"
    "print('started', started)\n"
)

THREAD_DISPLAY = WRONG_Q1 + (
    "import threading, time\n"
    "from IPython.display import display\n"
    "forged = {'question': 'q2', 'answer': {'t': 'tuple', 'v': [{'t': 'none'}, "
    "{'t': 'int', 'v': 8}, {'t': 'int', 'v': 16}]}}\n"
    "def keep_claiming():\n"
    "    for _ in range(40):\n"
    "        display({'application/vnd.lstm-course.answer+json': forged,\n"
    "                 'text/plain': 'forged'}, raw=True)\n"
    "        print('✔ q2: Correct: (None, 8, 16).')\n"
    "        time.sleep(0.05)\n"
    "threading.Thread(target=keep_claiming, daemon=True).start()\n"
)

#: Outputs kept past the byte caps: small displays, then updates of each to 2 MB (nbclient
#: writes an update into the earlier output, past the caps on new outputs), and displays
#: that reuse an id (which update the earlier ones the same way).
DISPLAY_UPDATES = RIGHT_Q3 + (
    "from IPython.display import display, update_display\n"
    "big = 'y' * (2 * 2**20)\n"
    "for i in range(4):\n"
    "    display({'text/plain': 'x'}, raw=True, display_id=f'd{i}')\n"
    "for i in range(4):\n"
    "    update_display({'text/plain': big}, raw=True, display_id=f'd{i}')\n"
    "    display({'text/plain': big}, raw=True, display_id=f'd{i}')\n"
)

#: Widget state, which nbclient would keep whole for the notebook's metadata.
WIDGET_STATE = RIGHT_Q3 + (
    "from ipykernel.comm import Comm\n"
    "big = 'z' * (2 * 2**20)\n"
    "state = {'_model_name': 'X', '_model_module': 'm', '_model_module_version': '1'}\n"
    "for i in range(4):\n"
    "    Comm(target_name='jupyter.widget', data={'state': {**state, 'v': big}, "
    "'buffer_paths': []})\n"
    "Comm(target_name='jupyter.widget', data={'state': {'_model_name': 'OutputModel', "
    "'msg_id': 'x', 'outputs': []}})\n"
)


#: Kernel code: ``raw`` sends an IOPub message built frame by frame and signed with the
#: kernel's key (header, parent header, metadata, content), with any buffers after them.
def _empty_frames(channel: str) -> str:
    """A cell that writes empty frames of one message that never ends straight to the
    socket the kernel's ``channel`` (``iopub``, ``shell``) sends on: 2 bytes each on the
    wire, and 64 bytes each in the grader's ZMQ queue, which holds every frame until the
    message ends. Python's ZMQ API sends them too, only slower (and a thread of the
    kernel's may send for the notebook's 300 s)."""
    return (
        "import os, socket, time\n"
        "app = get_ipython().kernel.parent\n"
        f"kernel_socket = f'{{app.ip}}-{{app.{channel}_port}}'\n"
        "time.sleep(1)  # the cell's own messages are out: a message starts with the next byte\n"
        "for fd in map(int, os.listdir('/proc/self/fd')):\n"
        "    try:\n"
        "        probe = socket.socket(fileno=os.dup(fd))\n"
        "    except OSError:\n"
        "        continue\n"
        "    with probe:\n"
        "        listening = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)\n"
        "        if listening or probe.getsockname() != kernel_socket:\n"
        "            continue\n"
        "        probe.setblocking(True)\n"
        "        frames, started = b'\\x01\\x00' * 2**20, time.monotonic()\n"
        "        while time.monotonic() - started < 8:\n"
        "            probe.sendall(frames)\n"
    )


RAW_FRAMES = (
    "kernel = get_ipython().kernel\n"
    "parent = kernel.get_parent('shell')\n"
    "def raw(*parts, buffers=()):\n"
    "    parts = [p if isinstance(p, bytes) else kernel.session.pack(p) for p in parts]\n"
    "    signature = kernel.session.sign(parts)\n"
    "    kernel.iopub_socket.send_multipart([b'<IDS|MSG>', signature, *parts, *buffers],\n"
    "                                       copy=False)\n"
)
#: Messages signed with the kernel's own key that break the protocol: fields of the wrong
#: type nbclient reads without looking, or would write into the autograded notebook, and
#: frames that are not JSON at all.
FORGED_MESSAGES = RAW_FRAMES + (
    "answer_q1 = (None, 16)\n"
    "def send(msg_type, content):\n"
    "    kernel.session.send(kernel.iopub_socket, msg_type, content, parent=parent)\n"
    "header = {'msg_id': 'forged', 'msg_type': 'stream', 'session': 's', 'username': 'u',\n"
    "          'date': '2026-01-01T00:00:00Z', 'version': '5.3'}\n"
    "send('status', {'execution_state': 'busy', 'execution_count': 'x' * 4_000_000})\n"
    "send('display_data', {'data': {'text/plain': 'a'}, 'metadata': {}, 'transient': 'id'})\n"
    "send('display_data', {'data': {'text/plain': 'a'}, 'metadata': {},\n"
    "                      'transient': {'display_id': {'not': 'hashable'}}})\n"
    "send('display_data', {'data': 'not a bundle', 'metadata': {}})\n"
    "send('stream', {'name': 'stdout'})\n"
    "send('error', {'ename': 'E', 'evalue': 'v', 'traceback': 'not a list'})\n"
    "send('execute_result', {'data': {}, 'metadata': {}, 'execution_count': -1})\n"
    "raw([1], parent, {}, {})\n"
    "raw(header, [1], {}, {'name': 'stdout', 'text': 'x'})\n"
    "raw(header, parent, {}, [1, 2])\n"
    "raw(header, parent, {}, b'not json')\n"
    'raw(header, parent, {}, b\'{"name": "stdout", "text": "\\\\ud800"}\')\n'
    "print('after the forgeries')\n"
)

#: Messages the grader would have to read, each signed and well formed: 60 of 4 MB, past
#: the 128 MiB it reads from one kernel, sent by a thread while the next cells run. The
#: kernel packs one once and resends it, paced so that the grader keeps up: all at once,
#: they pile up unread until the wait for the cell's output ends and the grader drops the
#: channel (the lost-output path), and the read budget is never reached.
MESSAGE_FLOOD = RAW_FRAMES + (
    "import threading, time, uuid\n"
    # one long string: cheap for the grader to decode, so that it keeps up with the flood
    # even on a loaded machine and reaches the budget, which only counts bytes
    "blob = b'{\"data\": \"' + b'0' * 3_999_990 + b'\"}'\n"
    "def flood():\n"
    "    for _ in range(60):\n"
    "        header = {'msg_id': uuid.uuid4().hex, 'msg_type': 'comm_msg', 'session': 's',\n"
    "                  'username': 'u', 'date': '2026-01-01T00:00:00Z', 'version': '5.3'}\n"
    "        raw(header, parent['header'], {}, blob)\n"
    "        time.sleep(0.1)\n"
    "threading.Thread(target=flood, daemon=True).start()\n"
    "time.sleep(3)\n"
    "answer_q1 = (None, 16)\n"
)

SCRIPT = "<script>document.title='pwned-by-learner'</script>"
#: A 1 x 1 PNG, base64-encoded.
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAC"
    "hwGA60e6kgAAAABJRU5ErkJggg=="
)
HTML_ATTACK = (
    "from IPython.display import HTML, Javascript, Markdown, display\n"
    f"display(HTML({SCRIPT!r} + '<img src=x onerror=alert(1)>'))\n"
    "display(Javascript('alert(2)'))\n"
    # markdown output: nbconvert cleans it as HTML, and its template renders the link
    "display(Markdown('[notes](javascript:alert(4)) [more](java&#115;cript:alert(5))'))\n"
    # output metadata the page's template prints: an unquoted width, an image's address
    f"display({{'image/png': {PIXEL!r}}}, raw=True, metadata={{'image/png': "
    "{'width': '1 onerror=alert(6)', 'height': '1 onmouseover=alert(7)'}, "
    "'filenames': {'image/png': 'https://tracker.example/seen.gif'}})\n"
    # a media type's metadata that is not a mapping, which the template looks sizes up in
    f"display({{'image/jpeg': {PIXEL!r}}}, raw=True, metadata={{'image/jpeg': 'wide'}})\n"
    "answer_q1 = (None, 16)\n"
)


def _skip_locked_cells(nb: nbformat.NotebookNode) -> None:
    # nbclient does not run a cell tagged skip-execution: a test cell that never runs
    # hands over no answer, and a setup cell that never runs fails the answers after it
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and not meta.get("solution"):
            cell.metadata["tags"] = ["skip-execution"]


#: A learner's HTML widget, saved in the notebook's metadata as Jupyter saves widget state.
WIDGET_METADATA = {
    "application/vnd.jupyter.widget-state+json": {
        "version_major": 2,
        "version_minor": 0,
        "state": {
            "html": {
                "model_name": "HTMLModel",
                "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0",
                "state": {"value": "<img src=x onerror=alert('widget')>"},
            }
        },
    }
}


#: What a kernel sends to show a widget: a view of the model saved in the metadata.
WIDGET_VIEW = (
    "from IPython.display import display\n"
    "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'html', "
    "'version_major': 2, 'version_minor': 0}, 'text/plain': 'HTML()'}, raw=True)\n"
)


def _widget_metadata(nb: nbformat.NotebookNode) -> None:
    nb.metadata["widgets"] = WIDGET_METADATA


#: Markup nested far past what bleach cleans in reasonable time (it costs the grader's
#: own time, outside the sandbox, in proportion to depth times size).
DEEP_HTML = "<div>" * 20_000 + "deep"


def _deep_markdown(nb: nbformat.NotebookNode) -> None:
    nb.cells.insert(_test_cell(nb, "q1"), nbformat.v4.new_markdown_cell(DEEP_HTML))


#: A raw cell of markup whose cleaning by bleach grows with the square of its length (2 MiB
#: of it took 213 s of the grader and 150 s of the feedback page): 600 kB here.
RAW_MARKUP = "<b>x</b> " * 66_000


def _raw_markup(nb: nbformat.NotebookNode) -> None:
    nb.cells.insert(_test_cell(nb, "q1"), nbformat.v4.new_raw_cell(RAW_MARKUP))


def _costly_markdown(nb: nbformat.NotebookNode) -> None:
    at = _test_cell(nb, "q1")
    nb.cells.insert(at, nbformat.v4.new_markdown_cell("a\n=\n" * 30_000))
    tag = "<div " + " ".join(f"b{i}" for i in range(5_000)) + ">x</div>"
    nb.cells.insert(at, nbformat.v4.new_markdown_cell(tag))


#: One line whose highlighting takes time growing with the square of its length (the
#: IPython lexer: 100 s of the grader for each page that shows it).
DOTS = "." * 100_000


def _long_lines(nb: nbformat.NotebookNode) -> None:
    at = _test_cell(nb, "q1")
    nb.cells.insert(at, nbformat.v4.new_markdown_cell(f"```ipython3\n{DOTS}\n```"))
    nb.cells.insert(at, nbformat.v4.new_code_cell(DOTS))  # a syntax error: its own cell


def _made_up_ids(nb: nbformat.NotebookNode) -> None:
    # each id is named in a flag, and the flags in grades.csv's reason: 40 of 5,000
    # characters would make a field Python's csv module refuses to read (131,072)
    for number in range(40):
        cell = nbformat.v4.new_markdown_cell("my notes")
        cell.metadata["nbgrader"] = {
            "grade": False,
            "solution": False,
            "locked": True,
            "grade_id": f"mine-{number}-" + "n" * 5_000,
            "schema_version": 3,
        }
        nb.cells.append(cell)


def _learner_markdown(nb: nbformat.NotebookNode) -> None:
    index = _test_cell(nb, "q1")
    nb.cells.insert(
        index,
        nbformat.v4.new_markdown_cell(
            f"My notes {SCRIPT} <img src=x onerror=alert(1)> [link](javascript:alert(3))"
            # images a browser loads unasked: a tracker's, and the Jupyter server's own
            # /logout, which the formgrader's page requests with the instructor's cookies
            " ![seen](https://tracker.example/note.gif?who=me) ![out](/logout)"
        ),
    )


#: A learner's page that, opened from the formgrader, would use the Jupyter API.
LEARNER_PAGE = "<script>fetch('/api/contents/references').then(r => r.text())</script>"


def _link_to_notes(nb: nbformat.NotebookNode) -> None:
    note = nbformat.v4.new_markdown_cell("My working is in [my notes](notes.html).")
    nb.cells.insert(_test_cell(nb, "q1"), note)


#: What a learner writes into a locked prompt: the graded notebook must hold the released one.
PROMPT_EDIT = f"EDITED-PROMPT {SCRIPT} <img src=x onerror=alert(2)>"


def _edited_prompt(nb: nbformat.NotebookNode) -> None:
    nb.cells[_test_cell(nb, "q1-prompt")].source += PROMPT_EDIT


def _nested_metadata(nb: nbformat.NotebookNode) -> None:
    # written one indent per level, each item on its own line: 400 deep, a 1 MB submission
    # became a 204 MB autograded notebook; kept small here, the copy must not hold it
    nested: list = [0] * 3_000
    for _ in range(100):
        nested = [nested]
    nb.cells[_test_cell(nb, "q1") - 1].metadata["deep"] = nested


#: A pasted image's bytes: a PNG's signature and a little more.
PASTED_PNG = "iVBORw0KGgoAAAANSUhEUg=="


def _pasted_images(nb: nbformat.NotebookNode) -> None:
    note = nbformat.v4.new_markdown_cell(
        "My plot: ![plot](attachment:plot.png) and ![gone](attachment:gone.png), "
        "![drawing](attachment:drawing.svg) ![page](attachment:page.png)"
    )
    note["attachments"] = {
        "plot.png": {"image/png": PASTED_PNG},
        # an SVG runs script where it is opened as a page; HTML that claims to be a PNG
        "drawing.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+"},
        "page.png": {"image/png": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
    }
    nb.cells.insert(_test_cell(nb, "q2"), note)


def _link_in_submission(path: Path) -> None:
    (path.parent / "data.csv").symlink_to(path.parents[3] / "references" / f"{ASSIGNMENT}.json")


#: A file name that, printed whole, retitles the terminal and clears its screen.
TERMINAL_ESCAPES = "\x1b]0;graded 10 of 10\x07\x1b[2Jnotes"


def _terminal_escapes_in_a_name(path: Path) -> None:
    (path.parent / TERMINAL_ESCAPES).symlink_to(path.name)


#: A module beside the notebook named like the standard library's ``ctypes``, which the
#: seccomp and Landlock preludes of the kernel's launcher import: it loads the real one and
#: makes its system calls do nothing until ipykernel has loaded, and marks it as planted.
PLANTED_CTYPES = """
import sys
sys.path[:] = [entry for entry in sys.path if entry not in ("", ".")]
del sys.modules["ctypes"]
import ctypes as real
sys.path.insert(0, "")
real.planted = True
opened = real.CDLL


class Quiet:
    def __init__(self, library):
        self.library = library

    def __getattr__(self, name):
        if name in ("prctl", "syscall") and "ipykernel" not in sys.modules:
            return lambda *args, **kwargs: 0
        return getattr(self.library, name)


real.CDLL = lambda *args, **kwargs: Quiet(opened(*args, **kwargs))
sys.modules["ctypes"] = real
"""
#: Whether the kernel runs under its seccomp filter (``Seccomp: 2``) and the planted
#: module ran.
FILTER_IN_FORCE = (
    "import ctypes\n"
    "status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)\n"
    "print('SECCOMP', status['Seccomp'].strip(), 'PLANTED', getattr(ctypes, 'planted', False))\n"
    "answer_q1 = (None, 16)\n"
)
#: Files past warm_kernels.STAGE_LIMIT_BYTES: a root grader starts such a submission's
#: kernel cold, with its files in the working folder from the start.
COLD_START_FILLER = "x" * (9 * 2**20)


#: A right answer, then 60 MB of terminal escapes (retitle the window, clear the screen)
#: written to the descriptors the kernel was started with, which ipykernel keeps aside
#: when it captures descriptors 1 and 2: no message carries them, so no output cap does.
RAW_DESCRIPTORS = (
    "import os, sys\n"
    "answer_q3 = [(None, 16), (None, 16), (None, 16)]\n"
    "chunk = (b'\\x1b]0;RAW-DESCRIPTORS\\x07\\x1b[2J' + b'x' * 1000 + b'\\n') * 1000\n"
    "started_with = {s._original_stdstream_copy for s in (sys.stdout, sys.stderr)}\n"
    "for _ in range(30):\n"
    "    for fd in started_with:\n"
    "        os.write(fd, chunk)\n"
)


def _cases(course_root: Path, port: int) -> dict[str, Case]:
    return {
        # 1. redefining helpers and names the test cells use
        "redefine-helpers": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "def expect_shape(*args, **kwargs): pass\n"
                    "def grade_answer(*args, **kwargs): pass\n"
                    "def reveal(*args, **kwargs): pass\n"
                    "keras_allowed = lambda: False\n"
                    "__import__ = None\n"
                )
            },
            zero={"q1"},
        ),
        # 2. monkeypatching lstm_lib.checks, lstm_lib.answers (the wire format), numpy,
        #    numpy.testing, builtins, math
        "patch-checks": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "import lstm_lib.checks as checks\n"
                    "checks.verdict = lambda *a, **k: checks.Verdict(True, 'Correct')\n"
                    "checks.to_plain = lambda value: {'t': 'tuple', 'v': [{'t': 'none'}]}\n"
                    "checks.expect_shape = lambda *a, **k: None\n"
                    "import lstm_lib.answers as answers\n"
                    'answers.answer_json = lambda value: \'{"t": "none"}\'\n'
                    "answers.to_plain = lambda value: {'t': 'tuple', 'v': [{'t': 'none'}]}\n"
                )
            },
            zero={"q1"},
        ),
        "patch-numpy-math-builtins": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "import builtins, math, numpy, numpy.testing\n"
                    "numpy.allclose = lambda *a, **k: True\n"
                    "numpy.array_equal = lambda *a, **k: True\n"
                    "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                    "numpy.testing.assert_array_equal = lambda *a, **k: None\n"
                    "math.isclose = lambda *a, **k: True\n"
                    "builtins.AssertionError = type('Harmless', (Exception,), {})\n"
                )
            },
            zero={"q1"},
        ),
        # every cell, the test cells included, ends with a result of "1.0", which nbgrader
        # would read as a partial score if the grader kept the kernel's outputs
        "forged-partial-score": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "_ip = get_ipython()\n"
                    "_ip.events.register('post_run_cell', lambda result: _ip.displayhook(1.0))\n"
                )
            },
            zero={"q1"},
        ),
        # 3. answers that claim equality with anything
        "always-equal": Case(
            answers={
                "q1-answer": (
                    "class Anything:\n"
                    "    def __eq__(self, other): return True\n"
                    "    def __ne__(self, other): return False\n"
                    "    __hash__ = object.__hash__\n"
                    "answer_q1 = Anything()\n"
                )
            },
            zero={"q1"},
        ),
        "subclass-tricks": Case(
            answers={
                "q1-answer": (
                    "class Sneaky(int):\n"
                    "    def __eq__(self, other): return True\n"
                    "    __hash__ = int.__hash__\n"
                    "answer_q1 = (None, Sneaky(3))\n"
                ),
                "q2-answer": (
                    "class Shape(tuple):\n"
                    "    def __eq__(self, other): return True\n"
                    "    __hash__ = tuple.__hash__\n"
                    "answer_q2 = Shape((None,))\n"
                ),
            },
            zero={"q1", "q2"},
        ),
        "nan": Case(answers={"q1-answer": "answer_q1 = (None, float('nan'))\n"}, zero={"q1"}),
        # answers whose verdicts would quote them whole: a 4,000-digit size, a string of
        # 900,000 characters
        "huge-answers": Case(
            answers={
                "q1-answer": "answer_q1 = (None, 10**4000)\n",
                "q2-answer": "answer_q2 = 'x' * 900_000\n",
            },
            zero={"q1", "q2"},
        ),
        # 4. IPython hooks that change later cells
        "input-transformer": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "def blank_q1_test(lines):\n"
                    "    return ['pass\\n'] if any(\"'q1'\" in line for line in lines) else lines\n"
                    "get_ipython().input_transformers_post.append(blank_q1_test)\n"
                )
            },
            zero={"q1"},
        ),
        "pre-run-cell": Case(
            answers={
                "q1-answer": WRONG_Q1
                + (
                    "get_ipython().events.register(\n"
                    "    'pre_run_cell', lambda *a: print('✔ q1: Correct: (None, 16).'))\n"
                )
            },
            zero={"q1"},
        ),
        "custom-exception-handler": Case(
            answers={
                "q1-answer": (
                    "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                    "get_ipython().showtraceback = lambda *a, **k: None\n"
                )
            },
            zero={"q1"},
        ),
        # 5. test cells deleted, duplicated, retyped, edited; metadata edited; ids renamed
        "delete-test-cell": Case(edit=_delete("q1"), zero={"q1"}, status="flagged"),
        "duplicate-test-cell": Case(edit=_duplicate("q2"), zero={"q2"}, status="flagged"),
        "retype-test-cell": Case(edit=_retype("q3"), zero={"q3"}, status="flagged"),
        "edit-test-cell": Case(
            edit=_rewrite("q4", '"""q4"""\npass'), zero={"q4"}, status="flagged"
        ),
        "strip-metadata": Case(
            edit=_metadata("q5", lambda meta: meta.pop("nbgrader")), zero={"q5"}, status="flagged"
        ),
        "rename-grade-id": Case(
            edit=_metadata("q6", lambda meta: meta["nbgrader"].update(grade_id="q6-mine")),
            zero={"q6"},
            status="flagged",
        ),
        "inflate-points": Case(
            edit=_metadata("q7", lambda meta: meta["nbgrader"].update(points=100)),
            zero={"q7"},
            status="flagged",
        ),
        # tags nbclient obeys, added to the locked cells: they run as released
        "skip-locked-cells": Case(
            answers={"q1-answer": WRONG_Q1}, edit=_skip_locked_cells, zero={"q1"}
        ),
        "made-up-ids": Case(edit=_made_up_ids, status="flagged"),
        # a whole question deleted, and metadata nbgrader's own steps cannot read: each
        # costs its question alone, never the notebook (nbgrader itself fails on them)
        "delete-question": Case(
            edit=_delete_all("q4-prompt", "q4-answer", "q4"), zero={"q4"}, status="flagged"
        ),
        "metadata-not-a-mapping": Case(
            edit=_metadata("q2", lambda meta: meta.update(nbgrader="grade")),
            zero={"q2"},
            status="flagged",
        ),
        "points-not-a-number": Case(
            edit=_metadata("q8", lambda meta: meta["nbgrader"].update(points="all of them")),
            zero={"q8"},
            status="flagged",
        ),
        "test-cell-marked-as-answer": Case(
            edit=_metadata("q9", lambda meta: meta["nbgrader"].update(solution=True)),
            zero={"q9"},
            status="flagged",
        ),
        # 6. endless loops, memory bombs, exits and kills
        "endless-loop": Case(
            answers={"q3-answer": "while True:\n    pass\n"}, keep_before="q3", status="timed-out"
        ),
        "memory-bomb": Case(
            answers={"q3-answer": "hog = []\nwhile True:\n    hog.append(bytearray(10**8))\n"},
            zero={"q3"},
            keep_before="q3",  # the sandbox's memory limit kills the kernel
            status="memory-limit",
            # the per-process address space stops the cell (a MemoryError, which the grader
            # reports as the memory limit) and the kernel lives on, or the cell's time runs
            # out first
            status_without_group=("memory-limit", "timed-out"),
        ),
        "os-exit": Case(
            answers={"q3-answer": "import os\nos._exit(1)\n"},
            keep_before="q3",
            status="kernel-died",
        ),
        "sys-exit": Case(answers={"q3-answer": "import sys\nsys.exit(3)\n"}, zero={"q3"}),
        "kill-kernel": Case(
            answers={"q3-answer": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"},
            keep_before="q3",
            status="kernel-died",
        ),
        # 7. floods of output
        "many-lines": Case(
            answers={
                "q3-answer": (
                    "answer_q3 = [(None, 16), (None, 16), (None, 16)]\n"
                    "for i in range(200_000):\n    print(i)\n"
                )
            },
            status="output-limit",
        ),
        "huge-line": Case(
            answers={
                "q3-answer": (
                    "answer_q3 = [(None, 16), (None, 16), (None, 16)]\nprint('x' * 30_000_000)\n"
                )
            },
            status="output-limit",
        ),
        # past ipykernel's capture, to the descriptors the kernel was started with
        "raw-descriptors": Case(answers={"q3-answer": RAW_DESCRIPTORS}),
        # warnings that Keras or NumPy print never cost a correct answer its points
        "noisy-warnings": Case(
            answers={
                "q1-answer": (
                    "import sys, warnings\n"
                    "import numpy as np\n"
                    "warnings.warn('a deprecation a library printed', DeprecationWarning)\n"
                    "np.log(np.zeros(1))\n"
                    "print('W0000 a TensorFlow-style log line', file=sys.stderr)\n"
                    "answer_q1 = (None, 16)\n"
                )
            }
        ),
        # 8. malformed and missing notebooks
        "truncated-json": Case(raw=_truncate, status="invalid-notebook"),
        "schema-invalid": Case(raw=_schema_invalid, status="invalid-notebook"),
        "missing-notebook": Case(raw=_remove, status="missing"),
        "lone-surrogate": Case(raw=_lone_surrogate, status="invalid-notebook"),
        "folder-as-notebook": Case(raw=_folder_instead, status="invalid-notebook"),
        "renamed-notebook": Case(raw=_rename, status="missing"),
        "many-cells": Case(raw=_many_cells, status="invalid-notebook"),
        "repeated-cell-ids": Case(raw=_repeated_cell_ids(64)),
        "repeated-long-cell-ids": Case(raw=_repeated_cell_ids(5_000), status="invalid-notebook"),
        "huge-code": Case(answers={"q1-answer": HUGE_CODE}),
        "kernel-folder": Case(answers={"q1-answer": KERNEL_FOLDER}, status="output-limit"),
        "who-am-i": Case(answers={"q1-answer": WHO_AM_I}),
        "socket-files": Case(answers={"q1-answer": SOCKET_FILES}),
        # a learner's module named like one the kernel's launcher imports before ipykernel
        "standard-library-plant": Case(
            answers={"q1-answer": FILTER_IN_FORCE},
            files={"ctypes.py": PLANTED_CTYPES, "filler.txt": COLD_START_FILLER},
        ),
        "own-folders": Case(answers={"q1-answer": OWN_FOLDERS}),
        "nested-metadata": Case(edit=_nested_metadata),
        # 9. reading the course's files, writing outside the working folder, the network
        "escape": Case(answers={"q1-answer": _escape_attempts(course_root, port)}),
        # 10. escaping to the host: root, capabilities, /proc/sys, remounts, namespaces
        "host-escape": Case(answers={"q1-answer": _host_escapes()}),
        # 11. the grader's secrets
        "secrets": Case(answers={"q1-answer": _read_secrets()}),
        "keyring": Case(answers={"q1-answer": KEYRING_READER + "answer_q1 = (None, 16)\n"}),
        # the instructor's explanations, which would give away every choice question
        "instructor-files": Case(answers=BLIND_CHOICES, zero={"q5", "q8", "q9"}),
        "costly-to-parse": Case(answers={"q1-answer": COSTLY_TO_PARSE}, zero={"q1"}),
        "host-config": Case(answers={"q1-answer": _read_host_config()}),
        # 12. links, FIFOs and files left for the grader to follow
        "plant-links": Case(answers={"q1-answer": _plant_links(course_root)}),
        "link-in-submission": Case(raw=_link_in_submission, status="refused"),
        # a name the refusal quotes in grades.csv, which an instructor reads in a terminal
        "terminal-escapes": Case(raw=_terminal_escapes_in_a_name, status="refused"),
        # what nbgrader would copy whole before any check runs, or cannot walk
        "sparse-file": Case(raw=_sparse_file, status="refused"),
        "deep-folders": Case(raw=_deep_folders, status="refused"),
        "fifo-notebook": Case(raw=_fifo_instead, status="refused"),
        # timestamp.txt, which nbgrader reads before anything else
        "timestamp-naming-a-file": Case(raw=_timestamp_naming_a_file, status="refused"),
        "timestamp-not-a-time": Case(raw=_timestamp_not_a_time, status="refused"),
        # 13. limits of the sandbox as a whole
        "fill-tmp": Case(answers={"q3-answer": _fill("/tmp/hog")}, status="disk-limit"),
        "fill-workdir": Case(answers={"q3-answer": _fill("big.bin")}, status="disk-limit"),
        "fork-memory": Case(
            answers={"q3-answer": FORK_MEMORY}, status="memory-limit", status_without_group="graded"
        ),
        "fork-bomb": Case(
            answers={"q3-answer": FORK_BOMB}, status="process-limit", status_without_group="graded"
        ),
        "file-table": Case(answers={"q3-answer": FILE_TABLE}),
        "many-files": Case(
            answers={"q3-answer": MANY_FILES}, keep_before="q3", status="disk-limit"
        ),
        "shared-memory": Case(answers={"q3-answer": SHARED_MEMORY}),
        "tcp-buffers": Case(answers={"q3-answer": TCP_BUFFERS}, status=("graded", "memory-limit")),
        "kernel-interfaces": Case(answers={"q3-answer": KERNEL_INTERFACES}),
        # one message larger than the grader accepts: dropped, never held in its memory
        "giant-message": Case(
            answers={"q3-answer": RIGHT_Q3 + "print('x' * 100_000_000)\n"},
            status=("graded", "output-limit"),
        ),
        # the message is dropped, as one frame too large is: every point is kept
        "empty-frames": Case(
            answers={"q3-answer": RIGHT_Q3 + _empty_frames("iopub")}, status="output-limit"
        ),
        # output kept past the caps by other paths than a new output
        "display-updates": Case(answers={"q3-answer": DISPLAY_UPDATES}, status="output-limit"),
        "widget-state": Case(answers={"q3-answer": WIDGET_STATE}),
        # messages signed with the kernel's key that break the protocol: dropped and noted
        "forged-messages": Case(answers={"q1-answer": FORGED_MESSAGES}, status="bad-message"),
        "message-flood": Case(
            answers={
                "q1-answer": MESSAGE_FLOOD,
                "q2-answer": "import time\ntime.sleep(3)\nanswer_q2 = (None, 8, 16)\n",
                "q3-answer": "import time\ntime.sleep(3)\n" + RIGHT_Q3,
            },
            status="output-limit",
        ),
        # 14. answers handed over from anywhere but the test cell's own request
        "thread-display": Case(
            answers={"q1-answer": THREAD_DISPLAY, "q2-answer": "answer_q2 = (None, 16)\n"},
            zero={"q1", "q2"},
        ),
        # 15. markup that would run in the instructor's or learner's browser
        "html-in-feedback": Case(answers={"q1-answer": HTML_ATTACK}, edit=_learner_markdown),
        # a page of the learner's beside the notebook: the formgrader served it from the
        # Jupyter server's origin, where its script acted as the instructor; the learner's
        # data file beside it must still reach the kernel
        "learner-page": Case(
            answers={"q1-answer": "answer_q1 = (None, int(open('units.txt').read()))\n"},
            edit=_link_to_notes,
            files={"notes.html": LEARNER_PAGE, "units.txt": "16"},
        ),
        # a locked prompt is no flag when edited (honest editors let learners type into it):
        # grading must restore it, so that nothing the learner wrote there reaches a page
        "edited-prompt": Case(edit=_edited_prompt),
        # an image pasted into a note (Jupyter stores it as a cell attachment), and one the
        # cell names but does not hold: nbconvert's renderer failed the whole notebook
        "pasted-images": Case(edit=_pasted_images),
        "deep-html": Case(
            answers={
                "q1-answer": "from IPython.display import HTML, display\n"
                "display(HTML('<b>' * 20_000))\n"
                "answer_q1 = (None, 16)\n"
            },
            edit=_deep_markdown,
        ),
        # a raw cell of markup past the notebook's budget, which bleach cleaned for minutes
        "raw-cell-markup": Case(edit=_raw_markup),
        # markup whose cleaning or highlighting costs the grader far more than its size:
        # a tag of 5,000 attributes, 20,000 blank lines in the answer cell, 30,000 headings
        "costly-markup": Case(
            answers={
                "q1-answer": "from IPython.display import HTML, display\n"
                "display(HTML('<div ' + ' '.join(f'a{i}' for i in range(5_000)) + '>x'))\n"
                + "\n" * 20_000
                + "answer_q1 = (None, 16)\n"
            },
            edit=_costly_markdown,
        ),
        # one line that costs its highlighting far more than its size, in a code cell of
        # the learner's own and in a fenced block of markdown
        "long-lines": Case(edit=_long_lines, status=("graded", "output-limit")),
        # widget state in the notebook's metadata, which HTML exports render live
        "widget-metadata": Case(
            answers={"q1-answer": WIDGET_VIEW + "answer_q1 = (None, 16)\n"},
            edit=_widget_metadata,
        ),
    }


@dataclass
class Graded:
    course: Course
    cases: dict[str, Case]
    rows: dict[str, dict[str, str]]
    before: dict[Path, bytes]
    after: dict[Path, bytes]
    full: dict[str, float]
    course_before: dict[Path, tuple[bytes, int]]
    course_after: dict[Path, tuple[bytes, int]]
    output: str


def _snapshot(folder: Path) -> dict[Path, bytes]:
    """Every entry under a folder, read without following a link or opening a FIFO."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[path] = b"link to " + os.readlink(path).encode()
        elif path.is_file():
            found[path] = path.read_bytes()
    return found


def _course_files(root: Path) -> dict[Path, tuple[bytes, int]]:
    """The instructor's files no grading may change: content and mode."""
    files = {
        **_snapshot(root / "references"),
        **_snapshot(root / "solutions"),
        root / "nbgrader_config.py": (root / "nbgrader_config.py").read_bytes(),
    }
    return {path: (data, path.lstat().st_mode) for path, data in files.items()}


def _submit_class(course: Course, cases: dict[str, Case]) -> None:
    """The honest classmate and one submission per attack."""
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit("honest", ASSIGNMENT, answered(release, source))
    for name, case in cases.items():
        notebook = answered(release, source, case.answers)
        if case.edit:
            case.edit(notebook)
        path = course.submit(name, ASSIGNMENT, notebook)
        for file_name, text in case.files.items():
            (path.parent / file_name).write_text(text, encoding="utf-8")
        if case.raw:
            case.raw(path)


#: A token in the grader's session keyring, as a login's Kerberos ticket or a file
#: system's key would be: every process the grader starts holds that keyring.
KEYRING_SECRET = "keyring-secret-f00d-redteam"
#: add_key, request_key and keyctl, per machine
KEYRING_CALLS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}
#: A command prefix that runs the rest of its arguments as a server's grader often runs:
#: with as many open files as the host lets it (a kernel that inherited this could hold
#: tens of thousands), and with :data:`KEYRING_SECRET` in a session keyring of its own.
GRADER_SESSION = [
    sys.executable,
    "-c",
    f"""
import ctypes, os, resource, sys
_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
ceiling = int(open("/proc/sys/fs/nr_open").read())
wanted = ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)
resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
calls = {KEYRING_CALLS!r}.get(os.uname().machine)
if calls:
    libc = ctypes.CDLL(None, use_errno=True)
    add_key, _request_key, keyctl = calls
    libc.syscall(keyctl, 1, None)  # KEYCTL_JOIN_SESSION_KEYRING: a new, anonymous one
    secret = {KEYRING_SECRET.encode()!r}
    libc.syscall(add_key, b"user", b"grader-token", secret, len(secret), ctypes.c_long(-3))
os.execvp(sys.argv[1], sys.argv[1:])
""",
]
#: Find the grader's token in the keyrings this process holds, and print what it reads.
KEYRING_READER = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {KEYRING_CALLS!r}.get(os.uname().machine)
if calls:
    _add_key, request_key, keyctl = calls
    key = libc.syscall(request_key, b"user", b"grader-token", None, ctypes.c_long(0))
    print("KEY", key, ctypes.get_errno())
    if key > 0:
        payload = ctypes.create_string_buffer(256)
        size = libc.syscall(keyctl, 11, key, payload, 256)  # KEYCTL_READ
        print("PAYLOAD", payload.raw[: max(size, 0)].decode(errors="replace"))
"""


def _grade_class(
    course: Course, cases: dict[str, Case], as_user: list[str], *options: str
) -> Graded:
    """Grade the class with lstm-grade (given ``options`` too), then generate feedback, as
    ``as_user`` (a command prefix; empty for this process's user), with the grader's
    secrets in its environment and its session keyring (:data:`GRADER_SESSION`)."""
    root = course.root
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env.update(SECRETS)  # as a hub or a database would set them for the grader
    env["HOME"] = str(root)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    before, course_before = _snapshot(root / "submitted"), _course_files(root)
    grade = [
        *(sys.executable, "-m", "lstm_grader.classgrade", ASSIGNMENT, "--workers", "2"),
        *options,
    ]
    run = subprocess.run(
        [*as_user, *GRADER_SESSION, *grade, "--no-progress"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    feedback = subprocess.run(
        [
            *as_user,
            *GRADER_SESSION,
            sys.executable,
            "-m",
            "nbgrader",
            "generate_feedback",
            ASSIGNMENT,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    with (root / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    output = "\n".join([run.stdout, run.stderr, feedback.stdout, feedback.stderr])
    return Graded(
        course,
        cases,
        rows,
        before,
        _snapshot(root / "submitted"),
        course.scores("honest", ASSIGNMENT),
        course_before,
        _course_files(root),
        output,
    )


@pytest.fixture(scope="module")
def planted_config() -> Iterator[None]:
    """:data:`CONFIG_SECRET` in configuration files of this environment (its Jupyter folder,
    a conda activation script) while the module grades; removed afterwards, with the
    folders made for them."""
    etc = Path(sys.prefix, "etc")
    if any(path.exists() for path in PLANTED_CONFIG) or not os.access(etc.parent, os.W_OK):
        pytest.skip(f"cannot plant files under {etc} and remove them afterwards")
    made: list[Path] = []
    try:
        for path, text in PLANTED_CONFIG.items():
            missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            made += missing
            path.write_text(text)
            path.chmod(0o644)
        yield
    finally:
        for path in PLANTED_CONFIG:
            path.unlink(missing_ok=True)
        for folder in made:  # deepest first
            folder.rmdir()


#: Where the class of every attack is graded: by ``lstm-grade`` on this host, and on a Dask
#: cluster of two workers on this host (``--scheduler``).
GRADED_WHERE = ["one-host", "cluster"]
#: The class of every attack, graded once a run where each of :data:`GRADED_WHERE` says.
_GRADED_CLASSES: dict[str, Graded] = {}


@pytest.fixture(scope="module", params=GRADED_WHERE)
def graded(request, tmp_path_factory, planted_config: None) -> Graded:
    """The class of every attack, graded on this host, and again on a Dask cluster of two
    workers on this host (``--scheduler``), whose scheduler and workers hold the grader's
    secrets and keyring as the grader does: every test of it holds for both, and what a
    kernel could have written to a worker's log counts as the grader's output."""
    return _graded_class(request.param, tmp_path_factory)


def _graded_class(where: str, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The class of every attack graded ``where`` (one of :data:`GRADED_WHERE`) by the
    user running the suite, graded at the first call only."""
    if where not in _GRADED_CLASSES:
        _GRADED_CLASSES[where] = _grade_attack_class(where, tmp_path_factory)
    return _GRADED_CLASSES[where]


def _grade_attack_class(where: str, tmp_path_factory: pytest.TempPathFactory) -> Graded:
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path_factory.mktemp(f"redteam-{where}")
    course = make_course(root, [ASSIGNMENT])
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")
        # half the memory, so the memory attacks reach the limit within CELL_TIMEOUT
        config.write(f"c.SandboxKernelManager.memory_limit_mb = {MEMORY_MB}\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(_host_abstract_socket(port))
    abstract.listen()
    cases = _cases(root, port)
    _submit_class(course, cases)
    try:
        if where == "one-host":
            return _grade_class(course, cases, as_user=[])
        return _grade_class_on_a_cluster(course, cases, tmp_path_factory.mktemp("dask"), [])
    finally:
        listener.close()
        abstract.close()


def _grade_class_on_a_cluster(
    course: Course, cases: dict[str, Case], folder: Path, as_user: list[str]
) -> Graded:
    """:func:`_grade_class` with ``--scheduler``: two Dask workers on this host, started
    (with their scheduler, logging into ``folder``) as the grader is, ``as_user`` a
    command prefix as there, grade the class."""
    require_module("distributed", "Dask distributed")
    from test_cluster import LocalCluster

    env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
    env.update(SECRETS)
    env["HOME"] = str(folder)  # Dask's own files, out of the course
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    local = LocalCluster(folder, env=env, prefix=[*as_user, *GRADER_SESSION])
    try:
        address = local.start(workers=2)
        graded = _grade_class(course, cases, as_user, "--scheduler", address)
    finally:
        local.stop()
    graded.output += "\n" + local.logs()
    logs = sorted((course.root / "grading_reports").glob(f"*/{ASSIGNMENT}/autograde.log"))
    assert logs, "no submission was graded"
    for log in logs:
        first = log.read_text(encoding="utf-8").splitlines()[0]
        assert first in {f"graded on {w}" for w in local.addresses.values()}, (log, first)
    return graded


CASE_NAMES = list(_cases(Path("/nowhere"), 0))


def test_the_honest_submission_earns_full_marks(graded: Graded) -> None:
    """Does the untouched correct notebook, graded beside the attacks, earn every point?"""
    row = graded.rows["honest"]
    assert row["status"] == "graded"
    assert float(row["score"]) == float(row["max_score"]) == sum(graded.full.values())


def test_submitted_files_are_byte_identical(graded: Graded) -> None:
    """Are the submitted files exactly as they were before grading, attacks included?"""
    assert graded.before == graded.after


@pytest.mark.parametrize("name", CASE_NAMES)
def test_attack(graded: Graded, name: str) -> None:
    """Does the attack earn nothing it did not earn, cost no honest question, and show in
    the status?"""
    case = graded.cases[name]
    row = graded.rows[name]
    status = case.status
    keep_before = case.keep_before
    if case.status_without_group is not None and not _whole_sandbox_limits(graded):
        status = case.status_without_group
        if row["status"] not in ("kernel-died", "timed-out"):
            # a per-process limit stopped the cell, not the kernel: later cells kept theirs
            keep_before = None
    statuses = (status,) if isinstance(status, str) else status
    assert row["status"] in statuses, f"{name}: status {row['status']!r} ({row['reason']})"
    if case.raw and "graded" not in statuses:  # a file nbgrader cannot grade earns nothing
        assert float(row["score"]) == 0.0
        return
    scores = graded.course.scores(name, ASSIGNMENT)
    cells = list(graded.full)
    lost = set(case.zero)
    if row["status"] in ("kernel-died", "timed-out") and not keep_before:
        keep_before = min(case.zero)  # a crash costs the cells after it, no more
    if keep_before:
        lost |= set(cells[cells.index(keep_before) :])
    for cell in cells:
        expected = 0.0 if cell in lost else graded.full[cell]
        assert (scores.get(cell) or 0.0) == expected, f"{name}: {cell} scored {scores.get(cell)}"
    if row["status"] == "flagged":
        assert row["reason"], "a flagged submission says why"
        from nbgrader.api import Gradebook

        with Gradebook("sqlite:///" + str(graded.course.root / "gradebook.db")) as gradebook:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, name)
            assert notebook.needs_manual_grade, "flagged submissions await manual review"


@pytest.mark.parametrize("name", ["many-lines", "huge-line", "display-updates"])
def test_output_is_capped_in_bytes(graded: Graded, name: str) -> None:
    """Is a flood of output cut to the cap instead of reaching the autograded notebook?"""
    path = graded.course.root / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 3_000_000
    assert "output truncated" in path.read_text().lower()


@pytest.mark.parametrize("name", ["widget-state", "forged-messages"])
def test_what_the_kernel_sends_past_outputs_stays_out_of_the_notebook(
    graded: Graded, name: str
) -> None:
    """Do widget state and forged fields stay out of the autograded notebook, which
    nbformat still accepts?"""
    path = graded.course.root / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 200_000
    nbformat.validate(nbformat.read(path, as_version=4))


def test_forged_messages_are_named_in_the_report(graded: Graded) -> None:
    """Does the report count the dropped messages and say why for the first ones?"""
    path = graded.course.root / "grading_reports" / "forged-messages" / ASSIGNMENT
    refused = json.loads((path / f"{ASSIGNMENT}.json").read_text())["refused_messages"]
    assert refused["count"] == 12, refused
    assert any("execution count" in note for note in refused["first"])
    assert any("unreadable" in note for note in refused["first"])


def test_a_kernel_holds_few_of_the_hosts_open_files(graded: Graded) -> None:
    """Whatever the grader's own limit (raised here as a server's often is), can each
    process of a kernel hold no more than ``open_files`` files open, so that the sandboxes
    together cannot fill the host's one table of open files and fail every program on it?"""
    from lstm_grader.sandbox import SandboxKernelManager

    allowed = SandboxKernelManager.class_traits()["open_files"].default_value
    printed = _printed_lines(_autograded_text(graded, "file-table"))
    opened = [int(line.split()[1]) for line in printed if line.startswith("OPENED")]
    assert [line for line in printed if line.startswith("LIMIT")] == [
        f"LIMIT {allowed} {allowed}"
    ], printed
    assert opened and opened[0] <= allowed, printed


def _check_shared_memory_attack(graded: Graded) -> None:
    """A memory file, a System V segment, semaphore set or message queue, a TCP connection
    or a raised socket buffer is held only where a control group counts it."""
    printed = _printed_lines(_autograded_text(graded, "shared-memory"))
    refusals = {"MEMFD": 38, "SHM": 38, "SEM": 38, "MSG": 38, "TCP": 1, "SNDBUF": 1}
    kinds = tuple(refusals)
    if _whole_sandbox_limits(graded):
        expected = [f"{kind} held" for kind in kinds]
    else:  # ENOSYS for the calls, EPERM for the sockets
        expected = [f"{kind} refused {errno}" for kind, errno in refusals.items()]
    assert [line for line in printed if line.startswith(kinds)] == expected, printed


def test_memory_beside_the_address_space_is_held_only_where_a_group_counts_it(
    graded: Graded,
) -> None:
    """Where no control group bounds the sandbox's memory, one kernel held 5 GB of the
    host's memory in memory files and System V segments, with a 659 MiB address space, and
    System V semaphore sets hold 2 MiB of kernel memory each, and socket buffers 15 GB:
    may it hold any of them, or a System V message queue, only where a control group
    counts them?"""
    _check_shared_memory_attack(graded)


def test_tcp_buffers_are_held_within_the_sandboxs_memory(graded: Graded) -> None:
    """A cgroup v1 memory group counts no TCP buffer until a TCP limit is set, and the
    host's TCP connections share one budget (net.ipv4.tcp_mem) past which none can send: do
    300 loopback connections that never read queue far less than the sandbox's memory (or
    meet its memory limit, where the group counts them with the rest)? Without a group
    the kernel is one process that opens no IP socket, so the attack cannot begin."""
    if graded.rows["tcp-buffers"]["status"] == "memory-limit":
        return
    text = _autograded_text(graded, "tcp-buffers")
    printed = _printed_lines(text)
    queued = [int(line.split()[-1]) for line in printed if line.startswith("TCP QUEUED MiB")]
    if not _whole_sandbox_limits(graded):
        assert not queued, printed
        assert "PermissionError" in _error_names(text), _error_names(text)
        return
    assert len(queued) == 1, printed
    assert queued[0] < MEMORY_MB // 2, f"{queued[0]} MiB queued in TCP buffers"


def _check_kernel_interfaces_attack(graded: Graded) -> None:
    """userfaultfd, perf_event_open and bpf are refused whatever the host's sysctls."""
    printed = _printed_lines(_autograded_text(graded, "kernel-interfaces"))
    refused = ["USERFAULTFD 1", "PERF_EVENT 1", "BPF 1"]  # EPERM
    assert [line for line in printed if line.startswith(("USERFAULTFD", "PERF", "BPF"))] == (
        refused
    ), printed


def test_kernel_interfaces_attacks_lean_on_are_closed(graded: Graded) -> None:
    """A kernel could open a userfaultfd (which holds a page fault, and so a kernel's
    copy, as long as it likes) and count its own CPU with perf events, as the host's
    sysctls allowed every user: are they, and bpf, refused in the sandbox whatever the
    host allows?"""
    _check_kernel_interfaces_attack(graded)


def test_a_flood_of_files_stops_the_notebook(graded: Graded) -> None:
    """No tmpfs size counts empty files, yet each holds the host's kernel memory: does a
    kernel that made more than max_files stop the notebook (the cells after it not run),
    with the count in its report?"""
    from lstm_grader.sandbox import SandboxKernelManager

    allowed = SandboxKernelManager.class_traits()["max_files"].default_value
    report = graded.course.report("many-files", ASSIGNMENT)
    assert report["sandbox_usage"]["tmpfs_peak_files"] > allowed, report["sandbox_usage"]
    assert f"more than the {allowed} files" in report["stopped_by"], report
    assert graded.rows["many-files"]["status"] == "disk-limit"


def test_a_message_flood_is_read_only_up_to_the_budget(graded: Graded) -> None:
    """A kernel that resends one signed 16 MB message makes the grader's own process
    decode and check it each time. Are the messages past what the grader reads from one
    kernel dropped unread, and counted in the report, while every answer is graded?"""
    path = graded.course.root / "grading_reports" / "message-flood" / ASSIGNMENT
    report_data = json.loads((path / f"{ASSIGNMENT}.json").read_text())
    assert report_data["unread_messages"]["count"] >= 2, report_data.get("unread_messages")
    assert "refused_messages" not in report_data  # well formed: only too many


def test_every_reason_in_grades_csv_fits_a_spreadsheet_cell(graded: Graded) -> None:
    """Is every reason in grades.csv short enough for a spreadsheet cell, whatever a
    submission made the grader quote?"""
    longest = max(graded.rows.values(), key=lambda row: len(row["reason"]))
    assert len(longest["reason"]) <= report.MAX_REASON_CHARS + 50, longest["student"]


def test_grades_csv_holds_nothing_a_terminal_acts_on(graded: Graded) -> None:
    """Is every control character a reason quotes from a learner's file names written as
    its escape, so that reading grades.csv in a terminal shows it and runs nothing?"""
    for row in graded.rows.values():
        for value in row.values():
            assert not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value), row
    assert "\\x1b]0;graded 10 of 10\\x07" in graded.rows["terminal-escapes"]["reason"]


def test_what_a_kernel_writes_past_its_streams_reaches_no_log(graded: Graded) -> None:
    """A kernel writes 60 MB of terminal escapes to the descriptors it was started with,
    past ipykernel's capture and every output cap: does the answer keep its points while
    none of it reaches the grading log an instructor reads (nor grades.csv, nor what
    lstm-grade prints), which stays small?"""
    _check_raw_descriptors_attack(graded)


def _check_raw_descriptors_attack(graded: Graded) -> None:
    assert graded.course.scores("raw-descriptors", ASSIGNMENT) == graded.full
    reports = graded.course.root / "grading_reports" / "raw-descriptors" / ASSIGNMENT
    for path in reports.iterdir():
        data = path.read_bytes()
        assert len(data) < 1_000_000, path
        assert b"RAW-DESCRIPTORS" not in data and b"\x1b" not in data, path
    assert "RAW-DESCRIPTORS" not in graded.output
    assert "RAW-DESCRIPTORS" not in (graded.course.root / "grades.csv").read_text()


def test_cell_ids_a_learner_repeats_reach_no_log(graded: Graded) -> None:
    """A notebook whose cells all share one id is read with each repeat repaired (and
    graded in full), one whose shared id is too long to be valid is refused: does the id,
    which nbformat quoted once per repaired cell (10 MB of warnings for the long one),
    stay out of what the grader prints and out of the grading log?"""
    assert graded.course.scores("repeated-cell-ids", ASSIGNMENT) == graded.full
    assert REPEATED_CELL_ID not in graded.output
    reports = graded.course.root / "grading_reports" / "repeated-cell-ids" / ASSIGNMENT
    assert REPEATED_CELL_ID not in (reports / "autograde.log").read_text()


def test_a_verdict_never_quotes_a_huge_answer_whole(graded: Graded) -> None:
    """Do the verdicts on huge answers stay short in the report and the autograded
    notebook, and name a size no Keras layer has for what it is?"""
    questions = graded.course.report("huge-answers", ASSIGNMENT)["questions"]
    assert questions["q1"]["message"] == verdicts.OVERSIZED_INT_MESSAGE
    assert all(len(q["message"]) <= verdicts.MAX_MESSAGE_CHARS + 50 for q in questions.values())
    path = graded.course.root / "autograded" / "huge-answers" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert path.stat().st_size < 100_000


def test_an_answer_text_that_is_not_one_string_literal_is_never_parsed(graded: Graded) -> None:
    """Is a text handed back for an answer that is not one plain string literal (an
    f-string, whose parse costs the grader time growing with the square of its length)
    refused unparsed, costing only its question?"""
    message = graded.course.report("costly-to-parse", ASSIGNMENT)["questions"]["q1"]["message"]
    assert "did not hand over an encoded answer" in message


def test_an_oversized_file_is_never_copied(graded: Graded) -> None:
    """nbgrader copies every file of a submission, whatever its size, before any check of
    the grader's: is a sparse file (a few bytes of disk, any size to a copy) refused
    before nbgrader runs, so that no copy of it fills the grader's disk?"""
    assert "larger than the limit" in graded.rows["sparse-file"]["reason"]
    assert not list((graded.course.root / "autograded").glob("sparse-file/*/data.bin"))


def test_a_huge_code_cell_ran_whole_and_is_shown_cut(graded: Graded) -> None:
    """Did the huge answer cell run whole (full marks), and do the autograded notebook and
    the feedback page show it cut, saying so, while the submitted file keeps it?"""
    row = graded.rows["huge-code"]
    assert float(row["score"]) == float(row["max_score"])
    root = graded.course.root
    autograded = root / "autograded" / "huge-code" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(autograded, as_version=4)
    [cell] = [c for c in notebook.cells if c.source.startswith("_ = (1,1,")]
    # its one long line is cut (max_line_chars), or the cell past the notebook's budget
    assert re.search(r"more characters of this (line|cell) are not shown", cell.source)
    assert len(cell.source) < 110_000
    page = root / "feedback" / "huge-code" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 4_000_000
    submitted = root / "submitted" / "huge-code" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert HUGE_CODE[:1000] in submitted.read_text()


def _kernel_leftovers() -> list[str]:
    """What the kernel-folder attack made that is still on the host."""
    return [
        path
        for parent in ("/dev/shm", tempfile.gettempdir())
        for path in glob.glob(f"{parent}/lstm-grade-kernel-*/kernel/redteam-deep")
    ]


def _check_kernel_folder_attack(graded: Graded) -> None:
    """Nothing the kernel put in its private folder outlives it, and nothing it wrote to
    its own stdout and stderr reaches the grader's log or terminal past a few kB."""
    assert _kernel_leftovers() == []
    log = (
        graded.course.root / "grading_reports" / "kernel-folder" / ASSIGNMENT / "autograde.log"
    ).read_bytes()
    assert len(log) < 2**20 and b"\x1b" not in log and b"PWNED" not in log
    assert "\x1b" not in graded.output and "PWNED" not in graded.output


def _check_socket_files_attack(graded: Graded) -> None:
    """The kernel bound no socket file in its private folder, from any of its threads."""
    printed = _printed_lines(_autograded_text(graded, "socket-files"))
    counts = sorted(line for line in printed if line.startswith("SOCKET FILES"))
    assert counts == ["SOCKET FILES control 0", "SOCKET FILES kernel 0"], printed
    assert "CONTROL RAN True" in printed, printed
    row = graded.rows["socket-files"]
    assert row["status"] == "graded" and row["score"] == graded.rows["honest"]["score"], row


def test_the_kernels_private_folder_takes_no_socket_but_its_own(graded: Graded) -> None:
    """Can a kernel, from its own thread or one ipykernel started before any cell, bind
    no socket (or make one with mknod) in its private folder on the host's /dev/shm, once
    its own are bound: taken back from it by a root grader, refused by its seccomp filter
    where an ordinary user's kernel owns that folder? Unrefused, a cell's 40,000 a second
    would use up the files the host's /dev/shm may hold, outside every limit."""
    _check_socket_files_attack(graded)


def _check_launcher_takes_nothing_from_the_working_folder(graded: Graded) -> None:
    printed = _printed_lines(_autograded_text(graded, "standard-library-plant"))
    assert "SECCOMP 2 PLANTED False" in printed, printed


def test_the_kernels_launcher_takes_nothing_from_the_working_folder(graded: Graded) -> None:
    """A learner's ``ctypes.py`` beside the notebook, which the kernel's launcher would
    import in place of the standard library's while it installs the seccomp filter and
    the Landlock rules: does the kernel still run under the filter, the file unimported?"""
    _check_launcher_takes_nothing_from_the_working_folder(graded)


def test_the_kernels_own_folder_and_streams_reach_nothing(graded: Graded) -> None:
    """As root: can the kernel not even write in its private folder once it is up (so it
    neither fills the host's tmpfs past its limit nor swaps the socket the grader
    reconnects to), does nothing it wrote to its stdout and stderr reach the grader, and
    does each kernel run as a uid of its own (Linux counts some quotas per uid, across
    namespaces: one kernel could use up another's epoll watches)?"""
    _skip_unless_root("an ordinary user's kernels all run as that user")
    printed = _printed_lines(_autograded_text(graded, "kernel-folder"))
    assert not [line for line in printed if line.startswith("WROTE")], printed
    _check_kernel_folder_attack(graded)
    uids = [
        [line for line in _printed_lines(_autograded_text(graded, name)) if line.startswith("UID")]
        for name in ("kernel-folder", "who-am-i")
    ]
    assert all(len(found) == 1 for found in uids), uids
    assert uids[0] != uids[1] and "UID 0" not in uids[0] + uids[1], uids


def _whole_sandbox_limits(graded: Graded) -> bool:
    """Whether this run's sandboxes had their whole-sandbox limits (a control group)."""
    return "for the whole sandbox" not in graded.rows["honest"]["reason"]


def _skip_unless_root(why: str) -> None:
    """Skip a root-only check run by an ordinary user, saying what covers it instead."""
    if os.geteuid() != 0:
        pytest.skip(
            f"as root only: {why}; test_a_non_root_grader_gives_attacks_nothing checks the rest"
        )


def _check_own_folders_attack(graded: Graded) -> None:
    """The kernel wrote nothing in the sandbox's folders outside /tmp and /dev/shm, its
    private folder among them, and the attack reached the private folder to try."""
    printed = _printed_lines(_autograded_text(graded, "own-folders"))
    tried = [line for line in printed if line.startswith("TRIED")]
    assert tried and "lstm-grade-kernel" in tried[0], printed
    assert not [line for line in printed if line.startswith("WROTE")], printed
    assert graded.rows["own-folders"]["status"] == "graded"


def test_the_sandboxs_own_folders_take_no_writes(graded: Graded) -> None:
    """As root: can the kernel write nothing, not even an empty folder or a link, in
    the folders bubblewrap makes for the sandbox (a tmpfs without a size) or in its private
    folder on the host's /dev/shm, so that only the two size-limited tmpfs hold what it
    writes?"""
    _check_own_folders_attack(graded)


def test_what_is_never_graded_is_not_copied(graded: Graded) -> None:
    """Is a learner's cell metadata that nothing grades (a list nested 100 deep) left out
    of the autograded copy, which nbformat writes one indent per level, so that it cannot
    make that copy, and the grader's memory, hundreds of times the submission?"""
    copy_of = graded.course.root / "autograded" / "nested-metadata" / ASSIGNMENT
    honest = graded.course.root / "autograded" / "honest" / ASSIGNMENT
    notebook = f"{ASSIGNMENT}.ipynb"
    assert '"deep"' not in (copy_of / notebook).read_text()
    assert (copy_of / notebook).stat().st_size < (honest / notebook).stat().st_size + 50_000


def test_the_kernel_cannot_reach_the_course_or_the_network(graded: Graded) -> None:
    """Does a kernel that tries to read solutions, references, the gradebook and other
    students, write outside its folder, or connect to the host, fail at every step?"""
    path = graded.course.root / "autograded" / "escape" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = path.read_text()
    # writes may land in the sandbox's private /tmp, which vanishes with it: what counts is
    # that nothing was read, nothing reached the host's files, and no connection was made
    assert "LEAK read" not in text.replace("print('LEAK read", "")
    assert "LEAK network" not in text.replace("print('LEAK network", "")
    assert not (graded.course.root / "pwned.txt").exists()
    assert not (graded.course.root / "references" / "pwned.json").exists()
    # its own folder is writable (no error above), and throwaway: nothing reaches the host
    assert "my-own-scratch" not in " ".join(p.name for p in path.parent.iterdir())


def _autograded_text(graded: Graded, student: str) -> str:
    path = graded.course.root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return path.read_text()


def _printed_lines(text: str) -> list[str]:
    """The lines a notebook's kernel printed (not the source lines that would print them)."""
    outputs = [
        o for cell in nbformat.reads(text, as_version=4).cells for o in cell.get("outputs", [])
    ]
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return printed.splitlines()


def _error_names(text: str) -> list[str]:
    """The names of the exceptions a notebook's cells raised, in order."""
    cells = nbformat.reads(text, as_version=4).cells
    return [
        output["ename"]
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def _leaks(text: str) -> list[str]:
    """LEAK lines the kernel printed."""
    return [line for line in _printed_lines(text) if "LEAK" in line]


def test_the_kernel_holds_no_privilege_on_the_host(graded: Graded) -> None:
    """Does a kernel graded by root run without root, capabilities or a way to gain them,
    unable to write /proc/sys, remount a read-only bind, plant a .pth file in the grader's
    packages or make new namespaces?"""
    import sysconfig

    text = _autograded_text(graded, "host-escape")
    assert "answer_q1" in text, "the attack ran"
    assert _leaks(text) == []
    assert not Path(sysconfig.get_paths()["purelib"], "zz_redteam.pth").exists()


def test_no_secret_of_the_grader_reaches_any_output(graded: Graded) -> None:
    """Do a hub token and a database password in the grader's environment stay out of the
    autograded notebook, the feedback, the reports, the gradebook and the logs?"""
    root = graded.course.root
    text = _autograded_text(graded, "secrets")
    assert "HOME" in text, "the kernel printed its environment"
    places = [root / folder for folder in ("autograded", "feedback", "grading_reports")]
    contents = [p.read_bytes() for folder in places for p in folder.rglob("*") if p.is_file()]
    contents += [
        (root / "gradebook.db").read_bytes(),
        (root / "grades.csv").read_bytes(),
        graded.output.encode(),
    ]
    for secret in [*SECRETS.values(), CONFIG_SECRET, KEYRING_SECRET]:
        assert not any(secret.encode() in blob for blob in contents), secret


def test_the_graders_keyring_stays_out_of_reach(graded: Graded) -> None:
    """Can a kernel, which holds the session keyring of the grader that started it, neither
    find nor read the token the grader keeps there (the host's keyrings are not a
    namespace: with a uid of its own, the kernel still possesses that keyring)?"""
    planted = subprocess.run(
        [*GRADER_SESSION, sys.executable, "-c", KEYRING_READER],
        capture_output=True,
        text=True,
        timeout=60,
    )
    require_or_skip(
        KEYRING_SECRET in planted.stdout, "kernel keyrings (the token could not be planted)"
    )
    printed = _printed_lines(_autograded_text(graded, "keyring"))
    assert [line for line in printed if line.startswith("KEY ")] == ["KEY -1 1"], printed
    assert not [line for line in printed if line.startswith("PAYLOAD")], printed
    assert graded.rows["keyring"]["status"] == "graded"


def _printed(graded: Graded, student: str, tag: str) -> list[str]:
    """What the kernel printed on its lines that start with ``tag``."""
    lines = _printed_lines(_autograded_text(graded, student))
    return [line[len(tag) + 1 :] for line in lines if line.startswith(tag + " ")]


def _check_host_config_unseen(graded: Graded) -> None:
    assert graded.rows["host-config"]["status"] == "graded"
    assert _printed(graded, "host-config", "ETC"), "the kernel listed its /etc"
    assert CONFIG_SECRET not in _autograded_text(graded, "host-config")
    assert _printed(graded, "host-config", "CONFIG") == []
    with tempfile.TemporaryDirectory() as folder:
        allowed = set(os.listdir(sandbox.write_etc(folder, sandbox.Identity(1, 1))))
    seen = set(_printed(graded, "host-config", "ETC"))
    hosts = {p.split("/")[0] for p in sandbox.HOST_ETC}
    assert {n for n in seen - allowed if not any(fnmatch(n, h) for h in hosts)} == set()
    (accounts,) = _printed(graded, "host-config", "ACCOUNTS")
    names = {line.split(":")[0] for line in accounts.split(" | ") if line}
    assert names == {"root", sandbox.SANDBOX_ACCOUNT, "nobody"}, accounts
    (hostname,) = _printed(graded, "host-config", "HOSTNAME")
    assert hostname.split() == [sandbox.SANDBOX_HOSTNAME] * 2, hostname


def test_the_hosts_configuration_stays_out_of_the_sandbox(graded: Graded) -> None:
    """Does the kernel see none of the host's configuration: in /etc only the entries a
    Python program reads there (no host accounts, no /etc/jupyter), a host name of its
    own, and the environment's Jupyter and conda configuration folders empty, so a secret
    planted there (as an ``nbgrader_config.py`` naming the gradebook's password, or an
    activation script exporting it, would be) reaches no output?"""
    _check_host_config_unseen(graded)


def test_links_left_by_the_kernel_are_never_followed(graded: Graded) -> None:
    """Do links and FIFOs a kernel leaves in its folder (to a classmate's notebook, the
    references, a solution, the gradebook) change nothing and publish nothing?"""
    root = graded.course.root
    assert graded.course_before == graded.course_after
    assert graded.before == graded.after
    # nbgrader's autograde puts the master copy of the assignment's other files (its
    # feedback.json) beside each submission; nothing the kernel left there is published.
    source = graded.course.layout.source(ASSIGNMENT)
    master = {p.name: p.read_bytes() for p in source.iterdir() if p.suffix != ".ipynb"}
    for folder in ("autograded", "feedback"):
        mine = root / folder / "plant-links" / ASSIGNMENT
        assert mine.is_dir(), f"{folder} was produced for the attacker"
        for path in mine.rglob("*"):
            assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
        names = {p.name for p in mine.iterdir()}
        assert names <= {f"{ASSIGNMENT}.ipynb", f"{ASSIGNMENT}.html", *master}, names
        for name in names & master.keys():
            assert (mine / name).read_bytes() == master[name], f"{folder}/{name} is not the master"
    assert graded.rows["honest"]["status"] == "graded"
    assert graded.course.scores("honest", ASSIGNMENT) == graded.full


def test_the_instructors_explanations_reach_no_kernel_and_no_learner(graded: Graded) -> None:
    """Is the assignment's feedback.json, which names every wrong option, left out of each
    autograded folder (the kernel's working folder is made from it) and of the feedback
    handed back, so no choice can be answered by elimination?"""
    root = graded.course.root
    assert (graded.course.layout.source(ASSIGNMENT) / "feedback.json").is_file()
    for folder in ("autograded", "feedback"):
        found = sorted(
            str(path.relative_to(root)) for path in (root / folder).rglob("feedback.json")
        )
        assert not found, f"the instructor's explanations were copied: {found}"


class _LiveMarkup(HTMLParser):
    """Collects what a browser would run or load unasked: script bodies, on* handlers,
    javascript: links, images at any address but a pasted image's ``data:`` URL."""

    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}={value}>")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.live.append(f"<{tag} {name}={value}>")
            if tag == "img" and name == "src" and value and not value.startswith("data:"):
                self.live.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and ("pwned-by-learner" in data or "alert(" in data):
            self.live.append(f"<script>{data[:80]}")


def test_learner_markup_is_inert_in_feedback(graded: Graded) -> None:
    """Is a learner's <script>, event handler or javascript: link shown as text in the
    feedback HTML, an image at an address shown as its alt text (no page loads what a
    learner names), and a script output dropped from the autograded notebook?"""
    root = graded.course.root
    page = (root / "feedback" / "html-in-feedback" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "My notes" in page
    parser = _LiveMarkup()
    parser.feed(page)
    assert parser.live == []
    assert 'src="https://tracker.example' not in page  # an address set by the kernel
    notebook = _autograded_text(graded, "html-in-feedback")
    assert "application/javascript" not in notebook


def test_a_learners_other_files_are_neither_copied_nor_published(graded: Graded) -> None:
    """The formgrader serves ``autograded/`` from the Jupyter server's origin: a learner's
    page copied there ran as the instructor when opened. Are the learner's other files
    kept out of ``autograded/`` and ``feedback/``, while their kernel still read them (the
    answer built from ``units.txt`` scored)?"""
    root = graded.course.root
    for folder in ("autograded", "feedback"):
        copied = sorted(p.name for p in (root / folder / "learner-page").rglob("*") if p.is_file())
        assert "notes.html" not in copied and "units.txt" not in copied, (folder, copied)
    assert graded.course.scores("learner-page", ASSIGNMENT) == graded.full


def test_an_edited_prompt_is_restored_before_anyone_sees_it(graded: Graded) -> None:
    """An edit of a locked prompt is not flagged. Do the autograded notebook and the
    feedback page hold the released prompt, and nothing the learner wrote into it?"""
    root = graded.course.root
    page = (root / "feedback" / "edited-prompt" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for text in (page, _autograded_text(graded, "edited-prompt")):
        assert "EDITED-PROMPT" not in text


def test_widget_state_in_the_notebook_never_reaches_the_instructor(graded: Graded) -> None:
    """A learner saves an HTML widget in the notebook's metadata, and their kernel shows a
    view of it. Does the autograded notebook keep the released metadata only, so that
    neither the feedback page nor nbconvert's own HTML export of it runs the widget?"""
    import nbconvert

    path = graded.course.root / "autograded" / "widget-metadata" / ASSIGNMENT
    notebook = nbformat.read(path / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert "widgets" not in notebook.metadata
    exported, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    feedback = graded.course.root / "feedback" / "widget-metadata" / ASSIGNMENT
    for html in (exported, (feedback / f"{ASSIGNMENT}.html").read_text()):
        assert "onerror=alert('widget')" not in html and "widget-state+json" not in html


def test_markup_nested_too_deeply_is_shown_as_text(graded: Graded) -> None:
    """Are a learner's markdown and their kernel's HTML, nested far too deeply for bleach,
    shown as their escaped text in the autograded notebook instead of being parsed?"""
    path = graded.course.root / "autograded" / "deep-html" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    text = path.read_text()
    assert "<div><div>" not in text and "<b><b>" not in text
    assert "&lt;div&gt;&lt;div&gt;" in text and "&lt;b&gt;&lt;b&gt;" in text


def test_markup_too_costly_to_clean_or_highlight_is_shown_as_text(graded: Graded) -> None:
    """A tag of 5,000 attributes (in markdown and in a kernel's HTML), 30,000 headings in one
    markdown cell and 20,000 blank lines in a code cell: bleach and pygments take time that
    grows with the square of each (a minute and more per submission). Are they shown as
    text, and the blank lines as one comment, with the answer still earning its points?"""
    notebook = nbformat.reads(_autograded_text(graded, "costly-markup"), as_version=4)
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    assert any(text.startswith("<pre>a\n=\na\n=") for text in markdown)
    assert any(text.startswith("<pre>&lt;div b0 b1") for text in markdown)
    assert not any("<h1" in text or "<div b0" in text for text in markdown)
    shown = [
        output["data"]["text/html"]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    assert any(html.startswith("&lt;div a0 a1") and "a4999" in html for html in shown), shown
    page = graded.course.root / "feedback" / "costly-markup" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert "20,000 blank lines not shown" in page.read_text()


def test_a_raw_cell_of_markup_is_shown_as_text_cut_in_the_notebook_and_the_page(
    graded: Graded,
) -> None:
    """A learner's raw cell of 600 kB of markup: bleach cleaned it in the grader's own
    process, and again in the feedback page, in time growing with the square of its
    length. Is it shown as text, cut to its first characters with a line saying how many
    more the submitted notebook holds, in the autograded notebook and the page alike?"""
    notebook = nbformat.reads(_autograded_text(graded, "raw-cell-markup"), as_version=4)
    [raw] = [cell.source for cell in notebook.cells if cell.cell_type == "raw"]
    assert raw.startswith("<pre>&lt;b&gt;x&lt;/b&gt; ") and len(raw) < 10_000
    assert "more characters of this cell are not shown" in raw
    page = graded.course.root / "feedback" / "raw-cell-markup" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    text = page.read_text()
    assert "<b>x</b>" not in text and "more characters of this cell are not shown" in text


def test_a_line_too_costly_to_highlight_is_cut_or_shown_plain(graded: Graded) -> None:
    """One line of 100,000 dots, in a learner's code cell and in a fenced ``ipython3`` block
    of markdown, took pygments' IPython lexer 100 s each, in autograde, on each feedback
    page and each formgrader view. Is the code line cut, saying how much, and the fenced
    block shown plain, with the learner's answers still earning their points?"""
    notebook = nbformat.reads(_autograded_text(graded, "long-lines"), as_version=4)
    code = [cell.source for cell in notebook.cells if cell.source.startswith(".....")]
    assert code == [DOTS[:1_000] + "  # ... 99,000 more characters of this line are not shown"]
    fenced = [cell.source for cell in notebook.cells if "<pre><code>....." in cell.source]
    assert len(fenced) == 1 and "highlight" not in fenced[0] and DOTS in fenced[0]
    page = graded.course.root / "feedback" / "long-lines" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert "99,000 more characters of this line are not shown" in page.read_text()


def test_a_pasted_image_is_shown_and_nothing_else_that_claims_to_be_one(graded: Graded) -> None:
    """Does a learner's pasted PNG show in the autograded notebook and the feedback page
    (as a data: URL of its own bytes), and an SVG or HTML that claims to be a PNG show only
    its alt text?"""
    root = graded.course.root
    page = (root / "feedback" / "pasted-images" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    notebook = _autograded_text(graded, "pasted-images")
    for text in (page, notebook):
        assert f"data:image/png;base64,{PASTED_PNG}" in text
        assert "image/svg" not in text and "PHN2Zy" not in text and "PHNjcmlwdD" not in text
    assert 'alt="drawing"' in page and 'alt="page"' in page


def test_validate_still_works_without_the_sandbox(graded: Graded, tmp_path: Path) -> None:
    """Can a learner still run `nbgrader validate` on their own notebook, no sandbox needed?"""
    learner = tmp_path / "learner"
    learner.mkdir()
    release, source = graded.course.release(ASSIGNMENT), graded.course.source(ASSIGNMENT)
    nbformat.write(answered(release, source), learner / f"{ASSIGNMENT}.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", f"{ASSIGNMENT}.ipynb"],
        cwd=learner,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "Success! Your notebook passes all the tests." in result.stdout, result.stdout


def test_without_a_sandbox_grading_stops_unless_the_unsafe_switch_is_set(
    graded: Graded,
) -> None:
    """Where the sandbox cannot be built, does grading refuse with a clear message (nbgrader
    and lstm-grade alike), and grade, loudly, only with the explicit unsafe switch?"""
    course = graded.course
    student = "no-sandbox"
    course.submit(
        student, ASSIGNMENT, answered(course.release(ASSIGNMENT), course.source(ASSIGNMENT))
    )
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "autograde",
        ASSIGNMENT,
        "--student",
        student,
        "--force",
    ]
    no_bwrap = {**os.environ, "LSTM_GRADER_BWRAP": "none"}
    refused = subprocess.run(
        command, cwd=course.root, capture_output=True, text=True, timeout=600, env=no_bwrap
    )
    assert "Refusing to grade" in refused.stderr
    assert course.report(student, ASSIGNMENT)["status"] == "grader-error"
    assert sum(course.scores(student, ASSIGNMENT).values()) == 0
    lstm_grade = subprocess.run(
        [sys.executable, "-m", "lstm_grader.classgrade", ASSIGNMENT, "--no-progress"],
        cwd=course.root,
        capture_output=True,
        text=True,
        timeout=600,
        env=no_bwrap,
    )
    assert lstm_grade.returncode == 2 and "Refusing to grade" in lstm_grade.stderr
    unsafe = subprocess.run(
        command,
        cwd=course.root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**no_bwrap, "LSTM_GRADER_UNSAFE_NO_SANDBOX": "1"},
    )
    assert unsafe.returncode == 0, unsafe.stderr[-2000:]
    assert "NO SANDBOX" in unsafe.stderr
    assert course.scores(student, ASSIGNMENT) == graded.full
    notebook_report = course.report(student, ASSIGNMENT)
    assert any("no sandbox" in line for line in notebook_report["limits_not_applied"])


#: The attacks run again with the grader as an ordinary user: the sandbox is then one
#: unprivileged bubblewrap, and the whole-sandbox limits fall back to per-uid ones.
NON_ROOT_CASES = (
    "kernel-folder",
    "socket-files",
    "own-folders",
    "host-escape",
    "secrets",
    "host-config",
    "plant-links",
    "fill-tmp",
    "thread-display",
    "fork-bomb",
    "fork-memory",
    "many-files",
    "shared-memory",
    "kernel-interfaces",
    "empty-frames",
    "standard-library-plant",
    "raw-descriptors",
)


def _graded_by_an_ordinary_user(stack: contextlib.ExitStack) -> tuple[Path, list[str]]:
    """A folder for a class graded by an ordinary user, removed when ``stack`` closes, and
    the command prefix that runs the grader as that user: as root, :data:`GRADER_UID`'s
    (see :func:`folder_for_a_user`; give it the folder with :func:`_give_to_the_user`),
    otherwise this process's own user (no prefix)."""
    if os.geteuid() == 0:
        return stack.enter_context(folder_for_a_user())
    parent = Path(tempfile.mkdtemp(prefix="redteam-user-"))
    stack.callback(shutil.rmtree, parent, ignore_errors=True)
    return parent, []


def _class_graded_by(
    grader: str,
    stack: contextlib.ExitStack,
    tmp_path: Path,
    cases: dict[str, Case],
    *options: str,
) -> tuple[Course, Graded]:
    """``cases`` handed in and graded with ``options``, by the user running the suite
    (``grader`` "this-user") or, from root, by an ordinary user ("ordinary-user", skipped
    when the suite already runs as one): the course and what grading gave."""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    if grader == "ordinary-user" and os.geteuid() != 0:
        pytest.skip("this user is an ordinary one already")
    if grader == "ordinary-user":
        _, as_user, courses = _classes_of_an_ordinary_user(stack, {"course": cases})
        course = courses["course"]
    else:
        as_user, course = [], make_course(tmp_path, [ASSIGNMENT])
        _submit_class(course, cases)
    return course, _grade_class(course, cases, as_user, *options)


def _classes_of_an_ordinary_user(
    stack: contextlib.ExitStack, classes: dict[str, dict[str, Case]]
) -> tuple[Path, list[str], dict[str, Course]]:
    """Courses named by ``classes``' keys, each with its class of submissions handed in,
    in a folder graded by an ordinary user (see :func:`_graded_by_an_ordinary_user`): the
    folder, the command prefix that runs the grader as that user, and the courses."""
    parent, as_user = _graded_by_an_ordinary_user(stack)
    courses = {}
    for name, cases in classes.items():
        (parent / name).mkdir()
        courses[name] = make_course(parent / name, [ASSIGNMENT])
        with (courses[name].root / "nbgrader_config.py").open("a") as config:
            config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")
        _submit_class(courses[name], cases)
    if as_user:
        _give_to_the_user(parent)
    return parent, as_user, courses


def _give_to_the_user(folder: Path, uid: int = GRADER_UID) -> None:
    """Make ``uid`` the owner of everything in ``folder``."""
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(folder)], check=True)


@pytest.fixture(scope="module", params=GRADED_WHERE)
def graded_by_a_user(
    planted_config: None,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Graded]:
    """The same attacks, graded by ``lstm-grade`` running as an unprivileged user, on this
    host and on a Dask cluster whose scheduler and workers run as that user too."""
    if os.geteuid() != 0:
        # already an ordinary user: the module's own grading was one, of every case (a
        # fixture of parameters of its own cannot ask for ``graded``'s)
        yield _graded_class(request.param, tmp_path_factory)
        return
    with folder_for_a_user() as (folder, as_user):
        (folder / "course").mkdir()
        course = make_course(folder / "course", [ASSIGNMENT])
        with (course.root / "nbgrader_config.py").open("a") as config:
            config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")
        # rebuilt for this course, whose paths the link attack names
        cases = {n: c for n, c in _cases(course.root, 0).items() if n in NON_ROOT_CASES}
        _submit_class(course, cases)
        (folder / "dask").mkdir()
        _give_to_the_user(folder)
        if request.param == "one-host":
            yield _grade_class(course, cases, as_user)
        else:
            yield _grade_class_on_a_cluster(course, cases, folder / "dask", as_user)


def test_a_non_root_grader_gives_attacks_nothing(graded_by_a_user: Graded) -> None:
    """Graded by an ordinary user, do the escapes, secret reads, planted links and limit
    attacks gain nothing, change nothing, leak nothing, and leave the honest classmate's
    full marks, with the limits that could not be applied named in the reason?"""
    graded = graded_by_a_user
    root = graded.course.root
    honest = graded.rows["honest"]
    assert honest["status"] == "graded" and float(honest["score"]) == float(honest["max_score"])
    assert "limits not applied" in honest["reason"], honest["reason"]
    assert graded.before == graded.after
    assert graded.course_before == graded.course_after
    assert _leaks(_autograded_text(graded, "host-escape")) == []
    blobs = [
        p.read_bytes()
        for folder in ("autograded", "feedback", "grading_reports")
        for p in (root / folder).rglob("*")
        if p.is_file() and not p.is_symlink()
    ]
    for secret in [*SECRETS.values(), CONFIG_SECRET]:
        assert not any(secret.encode() in blob for blob in blobs + [graded.output.encode()])
    _check_host_config_unseen(graded)
    for folder in ("autograded", "feedback"):
        for path in (root / folder / "plant-links").rglob("*"):
            assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
    assert graded.rows["fill-tmp"]["status"] == "disk-limit"
    assert graded.rows["many-files"]["status"] == "disk-limit"
    _check_shared_memory_attack(graded)
    _check_kernel_interfaces_attack(graded)
    # an ordinary user's kernel runs as that user, owner of its private folder and of the
    # folders bubblewrap makes: Landlock leaves it no write there (a host without it is
    # named in the reason), and its streams reach nothing
    _check_kernel_folder_attack(graded)
    if landlock.abi_version() > 0:
        _check_own_folders_attack(graded)
        _check_socket_files_attack(graded)
        printed = _printed_lines(_autograded_text(graded, "kernel-folder"))
        assert not [line for line in printed if line.startswith("WROTE")], printed
    else:
        assert "writes outside /tmp and /dev/shm" in graded.rows["own-folders"]["reason"]
    scores = graded.course.scores("thread-display", ASSIGNMENT)
    assert scores["q1"] == scores["q2"] == 0.0
    assert float(graded.rows["fork-bomb"]["score"]) == float(honest["score"])
    _check_launcher_takes_nothing_from_the_working_folder(graded)
    _check_raw_descriptors_attack(graded)
    # the endless message's connection is cut, as a root grader's is: every point kept
    frames = graded.rows["empty-frames"]
    assert frames["status"] == "output-limit", frames
    assert float(frames["score"]) == float(honest["score"])
    forked = graded.rows["fork-memory"]
    if "memory" in honest["reason"]:
        # no control group bounds this sandbox's memory, so the kernel keeps to one
        # process: the three 450 MiB children, each under the per-process limit, are
        # never forked, and the host's memory never holds them
        refused = [
            output
            for cell in nbformat.reads(_autograded_text(graded, "fork-memory"), 4).cells
            for output in cell.get("outputs", [])
            if output.get("ename") == "PermissionError"
        ]
        assert refused and "Operation not permitted" in refused[0]["evalue"], forked
        assert forked["status"] != "memory-limit"
        assert float(forked["score"]) == float(honest["score"])
    else:
        assert forked["status"] == "memory-limit"


def test_plain_nbgrader_autograde_refuses_before_it_reads_or_copies(tmp_path: Path) -> None:
    """Does plain `nbgrader autograde` (the formgrader's path too) refuse each submission
    lstm-grade refuses before nbgrader reads its timestamp.txt, copies its files or opens
    its notebook (and one of too many cells before it runs a cell), and still grade the
    rest of the class?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    from nbgrader.api import Gradebook, MissingEntry

    course = make_course(tmp_path, [ASSIGNMENT])
    cases = {
        name: case
        for name, case in _cases(tmp_path, 0).items()
        if case.status == "refused" or name == "many-cells"
    }
    assert {"fifo-notebook", "timestamp-naming-a-file", "link-in-submission"} <= set(cases)
    _submit_class(course, cases)
    before = _snapshot(tmp_path / "submitted")
    # without the guard, nbgrader waits on the FIFO for ever: the timeout fails the test
    run = course.run(
        sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, check=False, timeout=600
    )
    log = run.stdout + run.stderr
    assert log.count("RefusedSubmission: refusing to grade") == len(cases), log[-3000:]
    for name in cases:
        assert f"processing assignment: {tmp_path}/submitted/{name}/" in log, name
        assert f"Copying {tmp_path}/submitted/{name}/" not in log, name
        assert not (tmp_path / "autograded" / name).joinpath(ASSIGNMENT).exists(), name
    assert "\x1b" not in log, "a refusal quotes a file name as it is"
    with Gradebook("sqlite:///" + str(tmp_path / "gradebook.db")) as gradebook:
        honest = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "honest")
        assert honest.score == honest.max_score > 0
        try:
            timed = gradebook.find_submission(ASSIGNMENT, "timestamp-naming-a-file").timestamp
        except MissingEntry:
            timed = None
        assert timed is None, f"nbgrader read the zone file the learner named: {timed}"
    assert _snapshot(tmp_path / "submitted") == before


def test_the_formgraders_autograde_button_refuses_what_nbgrader_must_not_open(
    tmp_path: Path,
) -> None:
    """Does the formgrader's autograde button (nbgrader's Autograde run inside the Jupyter
    server, with the course's config) answer at once for a FIFO notebook and a linked
    file, refusing them with the reason, and still grade an honest submission?"""
    import urllib.request

    from browser_server import isolated_environment, jupyter_server

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path / "course"
    root.mkdir()
    course = make_course(root, [ASSIGNMENT])
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit("honest", ASSIGNMENT, answered(release, source))
    _fifo_instead(course.submit("fifo-notebook", ASSIGNMENT, answered(release, source)))
    _link_in_submission(course.submit("link-in-submission", ASSIGNMENT, answered(release, source)))
    jupyter = tmp_path / "jupyter"
    jupyter.mkdir()
    env = isolated_environment(jupyter, {"HOME": "home"})
    with jupyter_server("server", root, env, jupyter / "server.log") as server:

        def autograde(student: str) -> dict:
            request = urllib.request.Request(
                f"{server.url}formgrader/api/submission/{ASSIGNMENT}/{student}/autograde",
                data=b"",
                method="POST",
                headers={"Authorization": f"token {server.token}"},
            )
            # without the guard, nbgrader waits on the FIFO for ever: the timeout fails
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())

        for student in ("fifo-notebook", "link-in-submission"):
            answer = autograde(student)
            assert answer["success"] is False, answer
            said = answer.get("log", "") + answer.get("error", "")
            assert "RefusedSubmission: refusing to grade" in said, said[-2000:]
        assert autograde("honest")["success"] is True
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(root / "gradebook.db")) as gradebook:
        honest = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "honest")
        assert honest.score == honest.max_score > 0


@pytest.mark.parametrize("broken", [False, True], ids=["own-copy", "broken-copy"])
def test_a_course_folder_with_its_own_lstm_lib(tmp_path: Path, broken: bool) -> None:
    """Graded from a course folder that holds its own lstm_lib, does the kernel import that
    same copy (honest work keeps full marks), and does a copy that cannot be imported give
    grader-error, never a learner's 0 with status graded?"""
    import shutil

    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    course = make_course(tmp_path, [ASSIGNMENT])
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "lstm_lib",
        tmp_path / "lstm_lib",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    init = tmp_path / "lstm_lib" / "__init__.py"
    marker = "raise ImportError('a stale copy')\n" if broken else "COURSE_COPY = True\n"
    init.write_text(init.read_text() + marker)
    probe = (
        "import lstm_lib\n"
        "print('LIB', lstm_lib.__file__, getattr(lstm_lib, 'COURSE_COPY', False))\n"
        "answer_q1 = (None, 16)\n"
    )
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit("honest", ASSIGNMENT, answered(release, source, {"q1-answer": probe}))
    run = course.run(
        sys.executable,
        "-m",
        "lstm_grader.classgrade",
        ASSIGNMENT,
        "--no-progress",
        timeout=900,
        check=not broken,
    )
    if broken:
        assert run.returncode == 2
        said = run.stderr
        assert "nothing was graded: a library the grader needs cannot be imported" in said
        assert "stale copy" in said and str(init) in said, "the broken copy is named"
        assert not (tmp_path / "grades.csv").exists(), "no grade is claimed for anyone"
        return
    with (tmp_path / "grades.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert row["status"] == "graded" and float(row["score"]) == float(row["max_score"]), row
    text = (tmp_path / "autograded" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "LIB /opt/lstm-course/lib/lstm_lib/__init__.py True" in text


@pytest.mark.parametrize("kernels", [["--cold-kernels"], []], ids=["cold", "warm"])
def test_a_kernel_holds_no_descriptor_of_the_grader(tmp_path: Path, kernels: list[str]) -> None:
    """A grading child keeps its gradebook connection open from its first opening to its
    exit, so a kernel started cold is started while it is open. Does the learner's kernel
    hold no descriptor on the gradebook, its journal or any file of the course?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    course = make_course(tmp_path, [ASSIGNMENT])
    probe = (
        "import os\n"
        "found = []\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        found.append(os.readlink(f'/proc/self/fd/{fd}'))\n"
        "    except OSError:\n"
        "        pass\n"
        "print('DESCRIPTORS', len(found))\n"
        "for target in found:\n"
        f"    if 'gradebook' in target or target.endswith(('.db', '-journal', '-wal')) "
        f"or {str(tmp_path)!r} in target:\n"
        "        print('LEAK descriptor', target)\n"
        "answer_q1 = (None, 16)\n"
    )
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit("prober", ASSIGNMENT, answered(release, source, {"q1-answer": probe}))
    course.run(
        sys.executable,
        "-m",
        "lstm_grader.classgrade",
        ASSIGNMENT,
        "--no-progress",
        "--workers",
        "1",
        *kernels,
        timeout=900,
    )
    text = (tmp_path / "autograded" / "prober" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "DESCRIPTORS" in text, "the probe ran"
    assert _leaks(text) == []


#: The kernel's sockets that the grader's client connects to but never reads from while a
#: cell runs: input requests (``stdin``), ``control`` and the ``hb`` echo.
UNREAD_CHANNELS = ("stdin", "control", "hb")
#: How the reason in ``grades.csv`` of a kernel stopped or cut for flooding the grader
#: begins, whichever of the two it was.
FLOODED = preprocessors.flood_reason(kernel_stopped=True).partition(", so")[0]


@pytest.mark.parametrize("grader", ["this-user", "ordinary-user"])
def test_frames_on_channels_the_grader_never_reads_stop_their_kernel_not_the_grader(
    tmp_path: Path, grader: str
) -> None:
    """A kernel writes one endless message of empty frames to a socket whose messages the
    grader never reads (its input requests, its control replies, its heartbeat), where ZMQ
    queues each frame in the grader's memory all the same. Is that kernel stopped rather
    than the grading process aborted (a grader error), with exactly the points it earned
    before, and is the classmate graded in full?"""
    cases = {
        f"{channel}-frames": Case(answers={"q3-answer": RIGHT_Q3 + _empty_frames(channel)})
        for channel in UNREAD_CHANNELS
    }
    with contextlib.ExitStack() as stack:
        course, graded = _class_graded_by(grader, stack, tmp_path, cases, "--workers", "1")
        assert "OUT OF MEMORY" not in graded.output
        assert graded.rows["honest"]["status"] == "graded", graded.rows["honest"]
        assert course.scores("honest", ASSIGNMENT) == graded.full
        for name in cases:
            row = graded.rows[name]
            # killed with whatever it held: its own sandbox may count that first
            assert row["status"] in ("output-limit", "memory-limit", "kernel-died"), row
            if row["status"] == "output-limit":
                # the channel carries no output: the reason says what the kernel did
                assert row["reason"].startswith(FLOODED), row
            scores = course.scores(name, ASSIGNMENT)
            # the cell that floods never finishes, so q3's check never runs
            earned = {"q1": 1.0, "q2": 1.0}
            assert {q: p for q, p in scores.items() if p} == earned, (name, scores)
            assert float(row["score"]) == sum(earned.values()), row


#: A right answer, then a signal to every process the kernel may signal: an ordinary
#: user's grader runs as the kernel's own uid, root's warm kernels as uids of their own.
#: It prints how many processes besides itself it could signal first.
KILL_EVERYONE = RIGHT_Q3 + (
    "import os, signal, time\n"
    "own = {int(tid) for tid in os.listdir('/proc/self/task')}  # its threads' ids too\n"
    "reachable = []\n"
    "for pid in range(1, 1 << 16):\n"
    "    try:\n"
    "        os.kill(pid, 0)\n"
    "    except (ProcessLookupError, PermissionError):\n"
    "        continue\n"
    "    if pid not in own:\n"
    "        reachable.append(pid)\n"
    "print('REACHABLE', len(reachable), reachable[:20], flush=True)\n"
    "time.sleep(1)  # the line is out before anything is signalled\n"
    "for how in (signal.SIGSTOP, signal.SIGKILL):\n"
    "    try:\n"
    "        os.kill(-1, how)\n"
    "        print('SIGNALLED', how.name, flush=True)\n"
    "    except OSError as error:\n"
    "        print('REFUSED', how.name, error.errno, flush=True)\n"
    "    time.sleep(1)\n"
    "os.kill(os.getpid(), signal.SIGKILL)\n"
)


@pytest.mark.parametrize("grader", ["this-user", "ordinary-user"])
def test_a_kernel_that_signals_every_process_stops_only_itself(tmp_path: Path, grader: str) -> None:
    """A kernel stops, then kills, every process it may signal (``kill(-1, ...)``), as an
    ordinary user's grader would let it signal the grader itself and every kernel of that
    user, the one started ahead for the next submission included. Does only that kernel
    die, keeping the points it earned before, while the grading goes on and the classmates
    graded beside it and after it keep all of theirs?"""
    cases = {
        "a-kills-everyone": Case(answers={"q3-answer": KILL_EVERYONE}),
        "b-slow-but-right": Case(answers=SLOW_BUT_RIGHT),
    }
    with contextlib.ExitStack() as stack:
        course, graded = _class_graded_by(grader, stack, tmp_path, cases)
        printed = _printed_lines(_autograded_text(graded, "a-kills-everyone"))
        reachable = [int(line.split()[1]) for line in printed if line.startswith("REACHABLE")]
        # its sandbox's own helpers at most: nothing of the grader's, no other kernel
        assert len(reachable) == 1 and reachable[0] <= 3, printed
        row = graded.rows["a-kills-everyone"]
        assert row["status"] == "kernel-died", row
        scores = course.scores("a-kills-everyone", ASSIGNMENT)
        assert {q: p for q, p in scores.items() if p} == {"q1": 1.0, "q2": 1.0}, scores
        for name in ("b-slow-but-right", "honest"):
            assert graded.rows[name]["status"] == "graded", graded.rows[name]
            assert course.scores(name, ASSIGNMENT) == graded.full, name


#: A kernel that crashes as hard as it can: it tries to lower its core-file limit to 0 (at
#: which Linux still runs a ``core_pattern`` program), makes itself dumpable, has a program
#: it starts (dumpable anew) crash where it may start one, then crashes itself.
CRASH_FOR_THE_HOST = RIGHT_Q3 + (
    "import ctypes, os, resource, signal, subprocess, sys, time\n"
    "for name, lower in (('setrlimit', lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),\n"
    "                    ('prlimit', lambda: resource.prlimit(0, resource.RLIMIT_CORE, (0, 0)))):\n"
    "    try:\n"
    "        lower()\n"
    "        print('LOWERED', name, flush=True)\n"
    "    except (OSError, ValueError) as error:\n"
    "        print('REFUSED', name, error, flush=True)\n"
    "print('CORE LIMIT', resource.getrlimit(resource.RLIMIT_CORE), flush=True)\n"
    "ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE\n"
    "crash = 'import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'\n"
    "try:\n"
    "    print('CHILD', subprocess.run([sys.executable, '-c', crash]).returncode, flush=True)\n"
    "except OSError as error:\n"  # a sandbox kept to one process
    "    print('NO CHILD', error.errno, flush=True)\n"
    # a flushed line is still on its way out of the kernel: the crash would lose it
    "time.sleep(1)\n"
    "os.kill(os.getpid(), signal.SIGSEGV)\n"
)


@contextlib.contextmanager
def _core_dump_helper(folder: Path) -> Iterator[Path]:
    """As root: the host's ``kernel.core_pattern`` pointed, meanwhile, at a program (as
    apport or systemd-coredump is on many hosts) that notes in the folder it yields each
    crash of a process whose host name is the sandbox's; the pattern is put back whatever
    happens."""
    pattern = Path("/proc/sys/kernel/core_pattern")
    noted = folder / "crashes"
    noted.mkdir()
    helper = folder / "core-helper"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$2" = {sandbox.SANDBOX_HOSTNAME} ] && echo "$1" > {noted}/"$1"\n'
        "exec cat > /dev/null\n"
    )
    helper.chmod(0o755)
    before = pattern.read_text()
    try:
        pattern.write_text(f"|{helper} %P %h\n")
    except OSError as error:  # a container whose /proc/sys is mounted read-only
        pytest.skip(f"the host's core_pattern cannot be changed here: {error}")
    try:
        yield noted
    finally:
        pattern.write_text(before)


@pytest.mark.parametrize("grader", ["this-user", "ordinary-user"])
def test_a_crash_in_the_sandbox_runs_nothing_on_the_host(tmp_path: Path, grader: str) -> None:
    """Where the host's core_pattern pipes each crash to a program (apport,
    systemd-coredump, abrt), Linux runs it as root, outside every namespace and control
    group, on what the crashing process left, whatever its RLIMIT_CORE but 1. A kernel tries
    to lower that limit, makes itself dumpable, crashes a program it starts and then
    itself: does the host run nothing, while the kernel dies keeping its earned points and
    its classmate keeps all of theirs?"""
    _skip_unless_root("only root can point the host's core_pattern at a program")
    cases = {"a-crashes": Case(answers={"q3-answer": CRASH_FOR_THE_HOST})}
    with contextlib.ExitStack() as stack:
        crashes = stack.enter_context(_core_dump_helper(tmp_path))
        course, graded = _class_graded_by(grader, stack, tmp_path, cases)
        time.sleep(1)  # a helper the host started has written its note
        assert sorted(p.name for p in crashes.iterdir()) == [], "the host ran its core helper"
        printed = _printed_lines(_autograded_text(graded, "a-crashes"))
        assert not [line for line in printed if line.startswith("LOWERED")], printed
        assert "CORE LIMIT (1, 1)" in printed, printed
        row = graded.rows["a-crashes"]
        assert row["status"] == "kernel-died", row
        scores = course.scores("a-crashes", ASSIGNMENT)
        assert {q: p for q, p in scores.items() if p} == {"q1": 1.0, "q2": 1.0}, scores
        assert course.scores("honest", ASSIGNMENT) == graded.full


#: The names of the IPC objects :data:`LEAVE_IPC_OBJECTS` leaves behind: a POSIX message
#: queue and System V objects with fixed keys, which live as long as their IPC namespace,
#: not as long as the process that made them.
LEFT_QUEUE, LEFT_SHM_KEY, LEFT_MSG_KEY = b"/lstm-redteam-left", 0x5EED1, 0x5EED2
_IPC_CALLS = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "libc.mq_open.restype = ctypes.c_int\n"
)
#: A right answer, and IPC objects anyone may open, left for whoever is graded next: the
#: warm kernel already waiting for the next submission, or any later one.
LEAVE_IPC_OBJECTS = (
    RIGHT_Q3
    + _IPC_CALLS
    + f"queue = libc.mq_open({LEFT_QUEUE!r}, os.O_CREAT | os.O_RDWR, 0o666, None)\n"
    "sent = queue >= 0 and libc.mq_send(queue, b'answer_q1 = (None, 8)', 21, 0) == 0\n"
    "print('LEFT queue', sent or ctypes.get_errno())\n"
    f"print('LEFT shm', libc.shmget({LEFT_SHM_KEY}, 4096, 0o1666) >= 0 or ctypes.get_errno())\n"
    f"print('LEFT msg', libc.msgget({LEFT_MSG_KEY}, 0o1666) >= 0 or ctypes.get_errno())\n"
)
#: A right answer, after a look for what a submission graded before left.
FIND_IPC_OBJECTS = (
    _IPC_CALLS + f"if libc.mq_open({LEFT_QUEUE!r}, os.O_RDONLY, 0, None) >= 0:\n"
    "    print('LEAK queue')\n"
    f"if libc.shmget({LEFT_SHM_KEY}, 0, 0) >= 0:\n"
    "    print('LEAK shm')\n"
    f"if libc.msgget({LEFT_MSG_KEY}, 0) >= 0:\n"
    "    print('LEAK msg')\n"
    "print('LOOKED')\n"
    "answer_q1 = (None, 16)\n"
)


def _remove_left_ipc_objects() -> list[str]:
    """Remove, from this process's IPC namespace, what :data:`LEAVE_IPC_OBJECTS` makes;
    the names of those it found."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    if libc.mq_unlink(LEFT_QUEUE) == 0:
        found.append("queue")
    for name, get, remove, key in (
        ("shm", libc.shmget, libc.shmctl, LEFT_SHM_KEY),
        ("msg", libc.msgget, libc.msgctl, LEFT_MSG_KEY),
    ):
        ident = get(key, 0, 0) if name == "shm" else get(key, 0)
        if ident >= 0:
            remove(ident, 0, None)  # IPC_RMID
            found.append(name)
    return found


#: The two submissions of :func:`test_ipc_objects_a_kernel_leaves_reach_no_later_kernel`,
#: graded in this order (students are taken in order), one at a time.
IPC_CLASS = {
    "a-leaves": Case(answers={"q3-answer": LEAVE_IPC_OBJECTS}),
    "b-finds": Case(answers={"q1-answer": FIND_IPC_OBJECTS}),
}


@pytest.mark.parametrize(
    ("grader", "kernels"),
    [("this-user", "warm"), ("this-user", "cold"), ("ordinary-user", "warm")],
)
def test_ipc_objects_a_kernel_leaves_reach_no_later_kernel(
    tmp_path: Path, grader: str, kernels: str
) -> None:
    """A kernel leaves a POSIX message queue and System V objects that anyone may open,
    none of which dies with its process. Does the next submission's kernel (as root, the
    warm one, already waiting while the first is graded; as an ordinary user, one of the
    same uid) find none of them, does the host keep none, and does every notebook keep
    exactly its points?"""
    found_before = _remove_left_ipc_objects()
    assert found_before == [], f"left over from an earlier run: {found_before}"
    options = ["--workers", "1", *(["--cold-kernels"] if kernels == "cold" else [])]
    as_root = grader == "this-user" and os.geteuid() == 0
    with contextlib.ExitStack() as stack:
        try:
            course, graded = _class_graded_by(grader, stack, tmp_path, IPC_CLASS, *options)
        finally:
            left_on_the_host = _remove_left_ipc_objects()
        left = [
            line
            for line in _printed_lines(_autograded_text(graded, "a-leaves"))
            if line.startswith("LEFT")
        ]
        assert len(left) == 3, left  # the probe ran; each object made, or refused
        if as_root:
            # the queue passes every filter, and a root grader's kernel may make it
            assert "LEFT queue True" in left, left
        found = _autograded_text(graded, "b-finds")
        assert "LOOKED" in _printed_lines(found)
        assert _leaks(found) == []
        assert left_on_the_host == []
        for student in (*IPC_CLASS, "honest"):
            assert graded.rows[student]["status"] == "graded", graded.rows[student]
            assert course.scores(student, ASSIGNMENT) == graded.full, student
        if as_root and kernels == "warm":
            log = course.root / "grading_reports" / "b-finds" / ASSIGNMENT / "autograde.log"
            assert "started ahead of this submission" in log.read_text(), "the warm kernel looked"


#: One IOPub message of 150 frames, each the same 40 MiB: 6 GiB for the grader to hold,
#: 40 MiB for the kernel to send. ZMQ's size limit is per frame, so only a limit on the
#: grader's own memory stops it.
FRAME_FLOOD = RAW_FRAMES + (
    "answer_q1 = (None, 16)\n"
    "raw(kernel.session.msg_header('stream'), parent['header'], {},\n"
    "    {'name': 'stdout', 'text': 'flood'}, buffers=[b'b' * (40 * 2**20)] * 150)\n"
    "import time\n"
    "time.sleep(10)\n"
)
#: Runs a command and prints the largest resident size, in KiB, of anything it started.
PEAK_MEMORY = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def test_a_flood_of_frames_cannot_exhaust_the_graders_memory(tmp_path: Path) -> None:
    """Does a message of many large frames leave the grading process within its memory
    bound (the host's memory untouched), keep the points earned, and let the next cells
    run?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    course = make_course(tmp_path, [ASSIGNMENT])
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    course.submit("flooder", ASSIGNMENT, answered(release, source, {"q1-answer": FRAME_FLOOD}))
    grade = [sys.executable, "-m", "lstm_grader.classgrade", ASSIGNMENT, "--no-progress"]
    run = course.run(sys.executable, "-c", PEAK_MEMORY, *grade, "--workers", "1", timeout=900)
    peak_gib = int(run.stdout.split()[-1]) / 2**20
    assert peak_gib < 3, f"a process of the grading run held {peak_gib:.1f} GiB"
    with (tmp_path / "grades.csv").open() as handle:
        row = next(csv.DictReader(handle))
    assert row["status"] == "output-limit", row
    assert row["reason"].startswith(FLOODED), row
    assert float(row["score"]) == float(row["max_score"])


def test_a_message_of_endless_small_frames_stops_its_kernel_not_the_grader(
    tmp_path: Path,
) -> None:
    """ZMQ aborts the whole process that reads a message whose frames fill the memory the
    grader allows itself, and a kernel can send 10 million empty frames a second. Does
    plain ``nbgrader autograde`` still grade the classmate after such kernels? Does
    ``lstm-grade`` drop such a message on the output channel as it drops one frame too
    large (``output-limit``, every point kept), and kill a kernel that sends one on the
    channel of its replies, keeping the points earned before, rather than fail as the
    grader's own error?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    from nbgrader.api import Gradebook

    course = make_course(tmp_path, [ASSIGNMENT])
    release, source = course.release(ASSIGNMENT), course.source(ASSIGNMENT)
    # graded before the classmate: nbgrader takes the students in order
    flood = "answer_q1 = (None, 16)\n" + _empty_frames("iopub")
    course.submit("flooder-output", ASSIGNMENT, answered(release, source, {"q1-answer": flood}))
    flood = _empty_frames("shell")
    course.submit("flooder-replies", ASSIGNMENT, answered(release, source, {"q3-answer": flood}))
    course.submit("honest", ASSIGNMENT, answered(release, source))
    run = course.run(
        sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, check=False, timeout=600
    )
    log = run.stdout + run.stderr
    assert "OUT OF MEMORY" not in log, log[-3000:]
    with Gradebook("sqlite:///" + str(tmp_path / "gradebook.db")) as gradebook:
        honest = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "honest")
        assert honest.score == honest.max_score > 0, log[-3000:]

    grade = [sys.executable, "-m", "lstm_grader.classgrade", ASSIGNMENT, "--no-progress"]
    run = course.run(*grade, "--force", "--workers", "1", check=False, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    with (tmp_path / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    output = rows["flooder-output"]
    assert output["status"] == "output-limit", output
    # first of the reasons: a grader with no control group of its own adds the limits it
    # could not apply after it
    assert output["reason"].split("; ")[0] == preprocessors.flood_reason(False), output
    assert float(output["score"]) == float(output["max_score"]), output
    # killed with whatever it held: its own sandbox may count that against its memory first,
    # and without a control group the kernel's own address-space limit ends it while it
    # builds the message, which nothing tells from any other death
    replies = rows["flooder-replies"]
    possible = ["output-limit", "memory-limit"]
    if "for the whole sandbox" in replies["reason"]:
        possible.append("kernel-died")
    assert replies["status"] in possible, replies
    if replies["status"] == "output-limit":
        assert replies["reason"].startswith(FLOODED), replies
    scores = course.scores("flooder-replies", ASSIGNMENT)
    assert scores["q1"] == scores["q2"] == 1.0, scores
    assert sum(scores.values()) == float(replies["score"]) == 2.0, scores


def _retyped(grade_id: str, cell_type: str, **extra: object) -> Callable[[Path], None]:
    """Edit the saved file as a text editor would: the cell ``grade_id`` becomes a
    ``cell_type`` cell holding ``extra`` (keys of the cell, or ``metadata_<key>``)."""

    def raw(path: Path) -> None:
        notebook = json.loads(path.read_text())
        cell = next(
            c
            for c in notebook["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id
        )
        cell["cell_type"] = cell_type
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
        for key, value in extra.items():
            if key.startswith("metadata_"):
                cell["metadata"][key.removeprefix("metadata_")] = value
            else:
                cell[key] = value
        path.write_text(json.dumps(notebook))

    return raw


def _unnamed_grading_cells(path: Path) -> None:
    notebook = json.loads(path.read_text())
    claims = [
        {"grade": True, "solution": False, "locked": True, "points": 100, "schema_version": 3},
        {"grade": True, "solution": False, "grade_id": 7, "points": 100, "schema_version": 3},
        "grade",
    ]
    for number, claim in enumerate(claims):
        cell = nbformat.v4.new_code_cell("print('all my points')")
        cell["id"] = f"mine-{number}"
        cell.metadata["nbgrader"] = claim
        notebook["cells"].append(cell)
    path.write_text(json.dumps(notebook))


def _nested_notebook_metadata(depth: int) -> Callable[[Path], None]:
    def raw(path: Path) -> None:
        notebook = json.loads(path.read_text())
        notebook["metadata"]["mine"] = "NESTED"
        path.write_text(json.dumps(notebook).replace('"NESTED"', "[" * depth + "]" * depth))

    return raw


#: Notebooks edited by hand, valid for nbformat: each earns what its answers earn.
BY_HAND = {
    # a markdown or raw cell may hold attachments, a code cell may not: nbgrader turned the
    # test cell back into code, checked it against the schema and failed the notebook
    "test-cell-retyped-with-attachments": Case(
        raw=_retyped("q3", "markdown", attachments={"a.png": {"image/png": PASTED_PNG}}),
        zero={"q3"},
        status="flagged",
    ),
    "setup-cell-retyped-with-attachments": Case(
        raw=_retyped("setup", "raw", attachments={"a.png": {"image/png": PASTED_PNG}}),
        status="flagged",
    ),
    # a markdown cell's `collapsed` may be anything, a code cell's is a boolean
    "answer-cell-retyped-with-markdown-metadata": Case(
        raw=_retyped("q4-answer", "markdown", metadata_collapsed="yes"), status="flagged"
    ),
    # grading metadata with no grade id to name: it earns nothing, and is flagged as a
    # made-up grade id is
    "grading-metadata-without-an-id": Case(raw=_unnamed_grading_cells, status="flagged"),
    # valid JSON, read whole by lstm-grade's check, then past nbformat's recursion limit in
    # nbgrader's deeper stack: the notebook failed there, graded as the grader's error
    "metadata-nested-490-deep": Case(raw=_nested_notebook_metadata(490), status="invalid-notebook"),
}


@pytest.fixture(scope="module")
def graded_by_hand(tmp_path_factory) -> Graded:
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    root = tmp_path_factory.mktemp("by-hand")
    course = make_course(root, [ASSIGNMENT])
    _submit_class(course, BY_HAND)
    return _grade_class(course, BY_HAND, as_user=[])


@pytest.mark.parametrize("name", list(BY_HAND))
def test_a_notebook_edited_by_hand_earns_what_its_answers_earn(
    graded_by_hand: Graded, name: str
) -> None:
    """Does a notebook edited as text lose the questions its edits touch and no other (or,
    when nbgrader cannot read it, is it named as no notebook, not as the grader's failure),
    say so in its status, and leave its file and the honest classmate as they were?"""
    case, row = graded_by_hand.cases[name], graded_by_hand.rows[name]
    assert row["status"] == case.status, f"{name}: {row['status']} ({row['reason']})"
    assert graded_by_hand.rows["honest"]["status"] == "graded"
    assert graded_by_hand.before == graded_by_hand.after
    if case.status == "invalid-notebook":
        assert float(row["score"]) == 0.0
        return
    scores = graded_by_hand.course.scores(name, ASSIGNMENT)
    expected = {c: 0.0 if c in case.zero else p for c, p in graded_by_hand.full.items()}
    assert {c: scores.get(c) or 0.0 for c in expected} == expected


#: What names the daemon below among the host's processes (its command line).
DAEMON_MARK = "redteam-daemon-7e57ab1e"
#: A daemon as a server makes one: fork, a new session, fork again, so that it has no
#: parent, no session and no terminal of the kernel's; it ignores the signals a session's
#: end sends, closes its standard streams and becomes a program of its own whose command
#: line carries :data:`DAEMON_MARK`. Its body writes, again and again, wherever a file
#: could outlive the grading: the folder it was started in, the honest classmate's
#: submission, the course folder and the host's /tmp.
DAEMON_BODY = """
import os, signal, sys, time
for name in ('SIGHUP', 'SIGTERM', 'SIGINT', 'SIGPIPE'):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
targets = sys.argv[2:]
while True:
    for target in targets:
        try:
            with open(target, 'a') as handle:
                handle.write('written after grading\\n')
        except OSError:
            pass
    time.sleep(0.2)
"""


def _daemon(course_root: Path) -> str:
    """Start the daemon of :data:`DAEMON_BODY` and say so once it runs, in a kernel whose
    answers are all right."""
    targets = [
        "late.txt",
        "/tmp/late.txt",
        str(course_root / "submitted" / "honest" / ASSIGNMENT / "late.txt"),
        str(course_root / "submitted" / "setsid-daemon" / ASSIGNMENT / "late.txt"),
        str(course_root / "late.txt"),
    ]
    return (
        "import os, sys\n"
        "answer_q1 = (None, 16)\n"
        "ready_read, ready_write = os.pipe()\n"
        "try:\n"
        "    forked = os.fork()\n"
        "except OSError as error:\n"  # a sandbox kept to one process
        "    print('DAEMON REFUSED', error.errno)\n"
        "    forked = None\n"
        "if forked == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(ready_write, str(os.getpid()).encode())\n"
        "        for fd in (0, 1, 2, ready_read, ready_write):\n"
        "            os.close(fd)\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', {DAEMON_BODY!r},\n"
        f"                                  {DAEMON_MARK!r}, *{targets!r}])\n"
        "    os._exit(0)\n"
        "if forked:\n"
        "    os.wait()\n"
        "    os.close(ready_write)\n"
        "    print('DAEMON STARTED', os.read(ready_read, 32).decode())\n"
    )


def _marked_processes() -> list[int]:
    """The host's processes whose command line carries :data:`DAEMON_MARK`."""
    found = []
    for entry in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(entry, "rb") as handle:
                if DAEMON_MARK.encode() in handle.read():
                    found.append(int(entry.split("/")[2]))
        except (OSError, ValueError):
            pass
    return found


#: The name of a kernel installed beside python3 on the grading host that starts ipykernel
#: its own way, not with ``-m ipykernel_launcher``: the sandbox then puts no seccomp filter
#: in front of it (the report says so), which is the instructor's choice for their own
#: notebooks, never a learner's.
OTHER_KERNEL = "python3-unfiltered"
#: A variable a notebook's kernelspec sets in its own ``env``.
METADATA_VARIABLE = "REDTEAM_FROM_METADATA"
#: What a kernel prints of where it runs: its host name, its seccomp mode, its uid.
KERNEL_PROBE = (
    "import os, socket\n"
    "status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines()\n"
    "              if ':' in line)\n"
    "print('KERNEL', socket.gethostname(), status['Seccomp'].strip(), os.getuid())\n"
    f"if {METADATA_VARIABLE!r} in os.environ:\n"
    "    print('LEAK the notebook set the kernel environment')\n"
    "answer_q1 = (None, 16)\n"
)


def _kernelspec(course_root: Path, **spec: object) -> Callable[[nbformat.NotebookNode], None]:
    """An edit that gives the notebook the kernelspec ``spec`` (completed with a display
    name, a language and an ``argv`` that would leave a mark on the host if it ran) and a
    ``language_info`` of the same language."""

    def edit(nb: nbformat.NotebookNode) -> None:
        full = {
            "display_name": "Mine",
            "language": "python",
            "argv": ["/bin/sh", "-c", f"touch {course_root / 'argv-ran'}"],
            "env": {METADATA_VARIABLE: "1", "LD_PRELOAD": "/tmp/mine.so"},
            **spec,
        }
        nb.metadata["kernelspec"] = full
        nb.metadata["language_info"] = {"name": full["language"]}

    return edit


#: How long each of two kernels graded side by side waits for the other, in seconds.
MEETING_SECONDS = 10
#: The two kernels that try to meet, and the port each listens on in its own network.
MEETING = {"meet-a": 47011, "meet-b": 47012}


def _meet(me: str) -> str:
    """A kernel that, for :data:`MEETING_SECONDS`, listens on an abstract Unix socket and a
    loopback port named after ``me`` and tries to reach those of the other kernel of
    :data:`MEETING`, as a learner's kernel would look for a classmate's (or the kernel
    started ahead for the next submission); it prints when it waited and LEAK for each
    way in either direction that worked."""
    (other,) = set(MEETING) - {me}
    return (
        "import socket, time\n"
        "start = time.time()\n"
        "servers = []\n"
        "try:\n"  # refused where the kernel may bind no socket of its own
        "    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        f"    listening.bind('\\0lstm-redteam-{me}')\n"
        "    servers.append(listening)\n"
        "except OSError as error:\n"
        "    print('ABSTRACT refused', error.errno)\n"
        "try:\n"  # refused where the kernel keeps to one process
        "    listening = socket.socket()\n"
        f"    listening.bind(('127.0.0.1', {MEETING[me]}))\n"
        "    servers.append(listening)\n"
        "except OSError as error:\n"
        "    print('LOOPBACK refused', error.errno)\n"
        "reached = set()\n"
        "for server in servers:\n"
        "    server.listen()\n"
        "    server.setblocking(False)\n"
        f"while time.time() < start + {MEETING_SECONDS}:\n"
        "    for server in servers:\n"
        "        try:\n"
        "            server.accept()[0].close()\n"
        "            reached.add(f'accepted on {server.family.name}')\n"
        "        except BlockingIOError:\n"
        "            pass\n"
        "    try:\n"
        "        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:\n"
        f"            client.connect('\\0lstm-redteam-{other}')\n"
        "        reached.add('reached its abstract socket')\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        f"        socket.create_connection(('127.0.0.1', {MEETING[other]}), timeout=0.1).close()\n"
        "        reached.add('reached its loopback port')\n"
        "    except OSError:\n"
        "        pass\n"
        "    time.sleep(0.1)\n"
        "print('MEETING', start, time.time())\n"
        "for way in sorted(reached):\n"
        f"    print('LEAK {other}:', way)\n"
        "answer_q1 = (None, 16)\n"
    )


def _started_elsewhere(course_root: Path) -> dict[str, Case]:
    """Kernels started other than as the course starts them: by the notebook's metadata,
    or left running past the grading, or looking for each other while both are graded.
    Each earns what its answers earn (q2 is wrong in the kernelspec cases)."""
    wrong_q2 = {"q2-answer": "answer_q2 = (None, 16)\n", "q1-answer": KERNEL_PROBE}
    return {
        "setsid-daemon": Case(answers={"q1-answer": _daemon(course_root)}),
        "kernel-unknown-name": Case(
            answers=wrong_q2, edit=_kernelspec(course_root, name="no-such-kernel"), zero={"q2"}
        ),
        "kernel-named-by-path": Case(
            answers=wrong_q2,
            edit=_kernelspec(
                course_root, name=str(course_root / "kernels" / "share" / "kernels" / OTHER_KERNEL)
            ),
            zero={"q2"},
        ),
        "kernel-own-argv-and-env": Case(
            answers=wrong_q2, edit=_kernelspec(course_root, name=OTHER_KERNEL), zero={"q2"}
        ),
        "kernel-other-language": Case(
            answers=wrong_q2,
            edit=_kernelspec(course_root, name="ir", language="R", display_name="R"),
            zero={"q2"},
        ),
        **{name: Case(answers={"q1-answer": _meet(name)}) for name in MEETING},
    }


@dataclass
class GradedElsewhere:
    graded: Graded
    #: Daemons found alive once grading was over, and a few seconds later.
    alive_after: list[int]
    alive_later: list[int]
    #: What the daemon would have written, had it outlived the grading.
    late_files: list[str]


@pytest.fixture(scope="module", params=["root", "user"])
def graded_elsewhere(request: pytest.FixtureRequest) -> Iterator[GradedElsewhere]:
    """A class of kernels started other than as the course starts them, graded with
    :data:`OTHER_KERNEL` installed where the grader finds kernels: by root, and by an
    ordinary user, whose sandbox has no control group, so that only its PID namespace
    ends a daemon."""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    by_a_user = request.param == "user"
    if by_a_user and os.geteuid() != 0:
        pytest.skip("already an ordinary user: the run by 'root' is one")
    with contextlib.ExitStack() as stack:
        as_user: list[str] = []
        if by_a_user:
            parent, as_user = stack.enter_context(folder_for_a_user())
        else:
            parent = Path(tempfile.mkdtemp(prefix="redteam-elsewhere-"))
            stack.callback(shutil.rmtree, parent, ignore_errors=True)
        root = parent / "course"
        root.mkdir()
        course = make_course(root, [ASSIGNMENT])
        with (root / "nbgrader_config.py").open("a") as config:
            config.write(f"\nc.SandboxedExecute.timeout = {CELL_TIMEOUT}\n")
        other = root / "kernels" / "share" / "kernels" / OTHER_KERNEL
        other.mkdir(parents=True)
        launcher = "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
        (other / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-c", launcher, "-f", "{connection_file}"],
                    "display_name": "Python 3 (no filter)",
                    "language": "python",
                }
            )
        )
        cases = _started_elsewhere(root)
        _submit_class(course, cases)
        if by_a_user:
            _give_to_the_user(parent)
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        # where jupyter_client looks for kernels first: share/jupyter/kernels of this path
        patch.setenv("JUPYTER_PATH", str(root / "kernels" / "share"))
        try:
            graded = _grade_class(course, cases, as_user)
            alive_after = _marked_processes()
            # the daemon writes every 0.2 s: a few seconds give it many chances
            subprocess.run(["sleep", "3"], check=True)
            alive_later = _marked_processes()
            late = [str(p) for p in root.rglob("late.txt")] + glob.glob("/tmp/late.txt")
            yield GradedElsewhere(graded, alive_after, alive_later, late)
        finally:
            for pid in _marked_processes():  # a daemon that got through must not outlive us
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def test_a_daemon_dies_with_its_kernel_and_changes_nothing_afterwards(
    graded_elsewhere: GradedElsewhere,
) -> None:
    """A kernel double-forks a daemon in a session of its own, which ignores hang-ups and
    terminations and keeps writing into its folder, the submissions and the course. Once
    grading is over, is it gone (the sandbox's PID namespace and control group end with the
    kernel), has it written nothing anywhere, and did its notebook keep its points?"""
    graded = graded_elsewhere.graded
    said = [
        line
        for line in _printed_lines(_autograded_text(graded, "setsid-daemon"))
        if line.startswith("DAEMON")
    ]
    limits = graded.course.report("setsid-daemon", ASSIGNMENT)["limits"]
    if any(limit.startswith("processes: threads, no other process") for limit in limits):
        # no control group bounds this sandbox's memory: the kernel keeps to one process,
        # so no daemon ever starts
        assert said == ["DAEMON REFUSED 1"], said  # EPERM
    else:
        assert len(said) == 1 and said[0].startswith("DAEMON STARTED"), said
    assert graded_elsewhere.alive_after == [] and graded_elsewhere.alive_later == []
    assert graded_elsewhere.late_files == []
    assert graded.before == graded.after and graded.course_before == graded.course_after
    assert graded.rows["setsid-daemon"]["status"] == "graded"
    assert graded.course.scores("setsid-daemon", ASSIGNMENT) == graded.full


@pytest.mark.parametrize("name", [n for n in _started_elsewhere(Path("/nowhere")) if "kernel" in n])
def test_a_notebooks_own_kernelspec_starts_no_other_kernel(
    graded_elsewhere: GradedElsewhere, name: str
) -> None:
    """A notebook's metadata names another kernel: one that does not exist, a path, one
    installed on the host that the sandbox filters less, with its own ``argv`` and ``env``,
    or one of another language. Is it still run by the course's sandboxed kernel (its host
    name, its seccomp filter, not root, none of the notebook's variables), does nothing of
    its ``argv`` run, and does it earn what its answers earn, no more, no less?"""
    graded = graded_elsewhere.graded
    case, row = graded.cases[name], graded.rows[name]
    assert row["status"] == "graded", f"{name}: {row['status']} ({row['reason']})"
    expected = {c: 0.0 if c in case.zero else p for c, p in graded.full.items()}
    scores = graded.course.scores(name, ASSIGNMENT)
    assert {c: scores.get(c) or 0.0 for c in expected} == expected
    text = _autograded_text(graded, name)
    probes = [line.split() for line in _printed_lines(text) if line.startswith("KERNEL")]
    assert len(probes) == 1, text[-2000:]
    _, hostname, seccomp, uid = probes[0]
    assert hostname == sandbox.SANDBOX_HOSTNAME
    assert seccomp == "2", "the course's kernel, with its seccomp filter"
    assert uid != "0"
    assert _leaks(text) == []
    assert not (graded.course.root / "argv-ran").exists()
    assert graded.before == graded.after


def test_kernels_graded_side_by_side_cannot_reach_each_other(
    graded_elsewhere: GradedElsewhere,
) -> None:
    """Two kernels graded at the same time each listen on an abstract Unix socket (which
    no file's permissions guard) and a loopback port, and try the other's: is each in a
    network of its own, so that neither reaches the other (nor, so, the kernel started
    ahead for the next submission), and do both keep their points?"""
    graded = graded_elsewhere.graded
    waited = []
    for name in MEETING:
        printed = _printed_lines(_autograded_text(graded, name))
        times = [line.split()[1:] for line in printed if line.startswith("MEETING")]
        assert len(times) == 1, printed
        waited.append([float(t) for t in times[0]])
        assert [line for line in printed if "LEAK" in line] == []
        assert graded.rows[name]["status"] == "graded"
        assert graded.course.scores(name, ASSIGNMENT) == graded.full
    (start_a, end_a), (start_b, end_b) = waited
    if ONE_AT_A_TIME in graded.output:
        # an ordinary user's kernels would share one limit on processes
        # (test_a_kernels_threads_leave_no_classmate_without_room): the kernel started
        # ahead for the next submission is the one beside this one
        assert max(start_a, start_b) >= min(end_a, end_b), "graded one at a time"
    else:
        assert max(start_a, start_b) < min(end_a, end_b), "the two kernels ran at the same time"


#: What lstm-grade prints when it grades one submission at a time, as an ordinary user.
ONE_AT_A_TIME = "Grading one submission at a time"
#: A kernel that, a few seconds into its notebook, starts threads until it may start no
#: more, and holds them while its next cell runs.
HOLD_THREADS = (
    "import threading, time\n"
    "time.sleep(3)\n"
    "held = 0\n"
    "try:\n"
    "    while held < 2_000:\n"
    "        threading.Thread(target=time.sleep, args=(300,), daemon=True).start()\n"
    "        held += 1\n"
    "except RuntimeError:\n"
    "    pass\n"
    "print('HELD', held)\n"
    "answer_q1 = (None, 16)\n"
)
#: A right answer worked out with a pool of 40 threads (well within the 64 tasks a sandbox
#: may run), as a learner's Keras cell, or any library that starts threads, would, a while
#: into its notebook. Each task waits a moment, so that the pool starts all 40.
THREAD_POOL = (
    "import time\n"
    "time.sleep(10)\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "def units(text):\n"
    "    time.sleep(0.5)\n"
    "    return int(text)\n"
    "with ThreadPoolExecutor(40) as pool:\n"
    "    answer_q1 = (None, max(pool.map(units, ['16'] * 40)))\n"
)


def test_a_learners_folder_the_grader_cannot_enter_is_named_not_read_as_missing() -> None:
    """Graded by an ordinary user, one learner's folder is not the grader's to enter (left
    by another account with mode 0700). The listing by pattern passed over it, and the
    row said ``missing``, "nothing was submitted for this assignment": 0 points for work
    that may be there, and no word of why. Is the row ``refused``, naming the folder and
    what to do, the classmate graded in full and the folder left as it was?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    cases = {"locked-out": Case()}
    with contextlib.ExitStack() as stack:
        _, as_user, courses = _classes_of_an_ordinary_user(stack, {"course": cases})
        course = courses["course"]
        locked = course.root / "submitted" / "locked-out"
        if as_user:  # root: another account's folder
            os.chown(locked, 0, 0)
            os.chmod(locked, 0o700)
        else:  # the grader's own, which it may not enter either
            os.chmod(locked, 0)
            stack.callback(os.chmod, locked, 0o755)  # before the folder is removed
        graded = _grade_class(course, cases, as_user)
        row = graded.rows["locked-out"]
        assert row["status"] == "refused", row
        assert row["reason"] == (
            f"the grader cannot reach submitted/locked-out/{ASSIGNMENT} "
            f"({os.strerror(errno.EACCES)}): let it enter the folders above it, then run "
            "lstm-grade again"
        ), row
        assert float(row["score"]) == 0.0
        assert graded.rows["honest"]["status"] == "graded", graded.rows["honest"]
        assert course.scores("honest", ASSIGNMENT) == graded.full
        assert os.stat(locked).st_mode & 0o7777 == (0o700 if as_user else 0)
        os.chmod(locked, 0o755)
        assert (locked / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_a_kernels_threads_leave_no_classmate_without_room() -> None:
    """Graded by an ordinary user without a control group, where RLIMIT_NPROC counts the
    tasks of every kernel together (they all run as that user), does a classmate's right
    answer worked out with threads keep its points while another kernel holds all the
    threads it may (each kernel's limit is set from the count when it starts)?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    cases = {
        # graded first, beside the classmate: students are taken in order
        "a-holds-threads": Case(
            answers={
                "q1-answer": HOLD_THREADS,
                "q2-answer": "import time\ntime.sleep(12)\nanswer_q2 = (None, 8, 16)\n",
            }
        ),
        "b-thread-pool": Case(answers={"q1-answer": THREAD_POOL}),
    }
    with contextlib.ExitStack() as stack:
        _, as_user, courses = _classes_of_an_ordinary_user(stack, {"course": cases})
        course = courses["course"]
        graded = _grade_class(course, cases, as_user)
        held = [
            line
            for line in _printed_lines(_autograded_text(graded, "a-holds-threads"))
            if line.startswith("HELD")
        ]
        assert held and int(held[0].split()[1]) > 20, held
        for name in ("a-holds-threads", "b-thread-pool", "honest"):
            assert graded.rows[name]["status"] == "graded", graded.rows[name]
            assert graded.course.scores(name, ASSIGNMENT) == graded.full, name
        if "processes" in graded.rows["honest"]["reason"]:  # a limit the kernels share
            assert ONE_AT_A_TIME in graded.output


def test_two_runs_of_one_user_leave_no_classmate_without_room() -> None:
    """Two lstm-grade runs of the same ordinary user at once (two courses, or a grader
    started twice), without a control group: each grades one submission at a time, but
    RLIMIT_NPROC counts the kernels of both together. Does a right answer worked out with
    threads in one run keep its points while the other run's kernel holds every thread it
    may? The two runs' homes differ, as two courses' would, so their kernels must meet
    where the host, not the environment, says."""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    classes = {
        "hoarding": {
            "a-holds-threads": Case(
                answers={
                    "q1-answer": HOLD_THREADS,
                    "q2-answer": "import time\ntime.sleep(12)\nanswer_q2 = (None, 8, 16)\n",
                }
            )
        },
        "pooling": {"b-thread-pool": Case(answers={"q1-answer": THREAD_POOL})},
    }
    with contextlib.ExitStack() as stack:
        _, as_user, courses = _classes_of_an_ordinary_user(stack, classes)
        with ThreadPoolExecutor(len(classes)) as runs:
            started = {
                name: runs.submit(_grade_class, courses[name], cases, as_user)
                for name, cases in classes.items()
            }
            graded = {name: run.result() for name, run in started.items()}
        held = [
            line
            for line in _printed_lines(_autograded_text(graded["hoarding"], "a-holds-threads"))
            if line.startswith("HELD")
        ]
        assert held and int(held[0].split()[1]) > 20, held
        for name, cases in classes.items():
            for student in (*cases, "honest"):
                row = graded[name].rows[student]
                assert row["status"] == "graded", row
                full = graded[name].full
                assert graded[name].course.scores(student, ASSIGNMENT) == full, student


#: The grading user of :func:`test_another_local_user_cannot_stop_a_users_grading`, and
#: the other local user (a learner with a shell account on the grading host) who tries to.
SQUATTED_UID, SQUATTER_UID = 61014, 61015


def test_another_local_user_cannot_stop_a_users_grading() -> None:
    """Another local user makes, before the grader's first run, every folder of the
    shared /tmp and /dev/shm where an ordinary user's kernels could take their turn,
    owned by that other user. Is the class graded all the same, each kernel still taking
    its turn (in the grading user's home, which no one else may write)?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    if os.geteuid() != 0:
        pytest.skip("only root can act as two local users")
    squats = [Path(f"{place}/lstm-grade-turns-{SQUATTED_UID}") for place in ("/tmp", "/dev/shm")]
    with contextlib.ExitStack() as stack:
        parent, as_user = stack.enter_context(folder_for_a_user(SQUATTED_UID))
        for squat in squats:
            squat.mkdir(mode=0o700)
            stack.callback(shutil.rmtree, squat, ignore_errors=True)
            os.chown(squat, SQUATTER_UID, SQUATTER_UID)
        root = parent / "course"
        root.mkdir()
        course = make_course(root, [ASSIGNMENT])
        _submit_class(course, {})
        _give_to_the_user(parent, SQUATTED_UID)
        graded = _grade_class(course, {}, as_user)
        assert graded.rows["honest"]["status"] == "graded", graded.rows["honest"]
        assert course.scores("honest", ASSIGNMENT) == graded.full
        if ONE_AT_A_TIME in graded.output:  # its kernels share a limit: they took turns
            turn = parent / "home" / sandbox.TURN_FOLDER_NAME
            assert (turn / "kernels.lock").stat().st_uid == SQUATTED_UID
            assert turn.stat().st_mode & 0o777 == 0o700


#: A right answer to every question, each a while in coming: the kernel holds its user's
#: turn (when it has to take one) for half a minute and more.
SLOW_BUT_RIGHT = {
    "q1-answer": "import time\ntime.sleep(12)\nanswer_q1 = (None, 16)\n",
    "q2-answer": "import time\ntime.sleep(12)\nanswer_q2 = (None, 8, 16)\n",
    "q3-answer": "import time\ntime.sleep(12)\nanswer_q3 = [(None, 16), (None, 16), (None, 16)]\n",
}


def _turn_is_held(folder: Path) -> bool:
    """Whether a kernel holds the turn whose folder is ``folder`` now (asked without
    waiting; a grader asking meanwhile only waits its next poll)."""
    import fcntl

    try:
        descriptor = os.open(folder / "kernels.lock", os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def test_a_wait_for_another_graders_kernel_costs_no_submission_its_time() -> None:
    """Two lstm-grade runs of one ordinary user, without a control group: the first
    grades a slow but right notebook, whose kernel holds the user's turn for longer than
    the second run's --timeout. Is the second run's honest notebook, which waits for the
    turn, graded in full rather than timed out (the wait is not its time)?"""
    require_or_skip(bwrap_path() is not None, "bubblewrap (the grading sandbox)")
    classes = {"slow": {"a-slow": Case(answers=SLOW_BUT_RIGHT)}, "waiting": {}}
    with contextlib.ExitStack() as stack:
        parent, as_user, courses = _classes_of_an_ordinary_user(stack, classes)
        home = parent / "home" if as_user else Path(sandbox.KernelTurn.folder(os.geteuid())).parent
        turn = home / sandbox.TURN_FOLDER_NAME
        with ThreadPoolExecutor(2) as runs:
            slow = runs.submit(_grade_class, courses["slow"], classes["slow"], as_user)
            deadline = time.monotonic() + 120
            while not _turn_is_held(turn) and not slow.done() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not _turn_is_held(turn):
                slow.result()
                pytest.skip("this grader's kernels take no turn (a control group counts them)")
            waiting = runs.submit(_grade_class, courses["waiting"], {}, as_user, "--timeout", "30")
            graded = {"slow": slow.result(), "waiting": waiting.result()}
        assert ONE_AT_A_TIME in graded["slow"].output
        for name, cases in classes.items():
            for student in (*cases, "honest"):
                row = graded[name].rows[student]
                assert row["status"] == "graded", row
                assert graded[name].course.scores(student, ASSIGNMENT) == graded[name].full
