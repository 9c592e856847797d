"""Shared fixtures: the repository's assignments and throwaway course directories."""

from __future__ import annotations

import ast
import atexit
import contextlib
import fcntl
import gc
import importlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import matplotlib
import pytest

from lstm_grader.course import CONFIG_FILE, CourseLayout
from lstm_grader.preloaded import skip_iri_grammars

if TYPE_CHECKING:
    import nbformat

# Before pyplot is imported anywhere in the test process: no display, and the same pixels
# wherever the tests run. In this process only: an environment variable would reach the
# kernels that execute the book, whose figures need Jupyter's inline backend.
matplotlib.use("Agg")
# Before anything in the test process imports nbformat: jsonschema then leaves out
# rfc3987_syntax, whose IRI grammars take a second to compile in every test run and which
# no schema checked here uses (nbformat's and nbgrader's have no "format"), as lstm-grade's
# own processes leave it out. The nbgrader commands the tests start still load it.
skip_iri_grammars()
# The test process keeps the bytecode of what it imports from here on (the test modules
# with their asserts rewritten, the kit's own modules) even where PYTHONDONTWRITEBYTECODE
# is set: without it every run compiles and rewrites them again, seconds of each quick
# loop. As with the sandbox's compile_library, the setting is not what saves time here;
# git ignores __pycache__, and the commands the tests start keep the environment's choice.
sys.dont_write_bytecode = False

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Debian's Chromium (never a downloaded browser) and the flags it needs here: headless, as
#: root, and quiet on a machine with no network but loopback.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # Chromium refuses to run as root (CI) with its sandbox on
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def assignments() -> list[str]:
    """Every assignment with an instructor's notebook, in order."""
    layout = CourseLayout.from_root(ROOT)
    return [
        name
        for name in layout.source_assignments()
        if (layout.source(name) / f"{name}.ipynb").exists()
    ]


def gone_owner_tag() -> str:
    """The owner tag (:mod:`lstm_grader.owners`) of a process that ran and has exited."""
    from lstm_grader import owners

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tag = owners.owner_tag(child.pid)
        assert not owners.owner_gone(f"{tag}-x")
    finally:
        child.kill()
        child.wait()
    return tag


def aged(path: Path, seconds: float) -> Path:
    """``path`` (a link itself, not what it points to) made ``seconds`` older."""
    stamp = path.lstat().st_mtime - seconds
    os.utime(path, (stamp, stamp), follow_symlinks=False)
    return path


def aged_folder(path: Path, seconds: float) -> Path:
    """A new folder at ``path``, ``seconds`` old."""
    path.mkdir(parents=True)
    return aged(path, seconds)


#: A child that writes ``new`` over the files it is given (argv) with
#: ``safefiles.write_files`` and is killed outright (``SIGKILL``) as it is about to make
#: the last replacement, as the kernel's out-of-memory killer or a power cut would stop
#: a grader.
_KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from lstm_grader import safefiles
replace, replacements = os.replace, []
def replace_unless_last(source, target):
    replacements.append(target)
    if len(replacements) == len(sys.argv) - 1:
        os.kill(os.getpid(), signal.SIGKILL)
    replace(source, target)
os.replace = replace_unless_last
safefiles.write_files({Path(name): b"new" for name in sys.argv[1:]})
"""


def killed_while_writing(*targets: Path) -> None:
    """What a grader killed outright while it wrote ``targets`` together leaves: all but
    the last target replaced by ``new``, the last as it was, and the hidden files
    beside them."""
    import signal

    run = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, *map(str, targets)], cwd=ROOT
    )
    assert run.returncode == -signal.SIGKILL, run


#: What a Keras layer class's positional arguments mean, in the order Keras takes them, to
#: read a call such as ``keras.layers.LSTM(16)`` in a notebook cell without importing Keras.
KERAS_POSITIONAL_ARGUMENTS = {
    "Dense": ("units",),
    "SimpleRNN": ("units",),
    "LSTM": ("units",),
    "GRU": ("units",),
    "Embedding": ("input_dim", "output_dim"),
    "Dropout": ("rate",),
    "Activation": ("activation",),
    "RepeatVector": ("n",),
    "Bidirectional": ("layer", "merge_mode"),
    "TimeDistributed": ("layer",),
}


def layer_call_options(call: ast.Call, read: Callable[[ast.expr], object]) -> dict:
    """The options a call such as ``keras.layers.LSTM(16, return_sequences=True)`` writes,
    each argument named as Keras names it and its value as ``read`` reads the node.

    Raises
    ------
    ValueError
        If the call gives more positional arguments than the class takes by position.
    """
    class_name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    names = KERAS_POSITIONAL_ARGUMENTS[class_name]
    if len(call.args) > len(names):
        raise ValueError(f"{class_name} takes {len(names)} positional arguments here")
    written = dict(zip(names, call.args, strict=False))
    written |= {word.arg: word.value for word in call.keywords if word.arg is not None}
    return {name: read(value) for name, value in written.items()}


def write_file(path: Path, text: str = "") -> Path:
    """``text`` written to ``path``, its folders made first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_notebook(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


def solution_answer(assignment: str, question: str) -> object:
    """The instructor's answer to a question: the literal its solution's answer cell sets."""
    import ast

    from lstm_grader.synthetic import solution_sources

    notebook = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    source = solution_sources(notebook)[f"{question}-answer"]
    (assign,) = [node for node in ast.parse(source).body if isinstance(node, ast.Assign)]
    return ast.literal_eval(assign.value)


def classic_mistakes(assignment: str) -> dict[str, dict[str, str]]:
    path = ROOT / "tests" / "files" / "classic-mistakes" / f"{assignment}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def require_or_skip(available: bool, what: str) -> None:
    """The suite's one rule for a missing component: skip on a developer's machine, fail
    under CI (``CI=true``), where a missing component is a broken install.

    Use it at module level (a missing component fails or skips the whole file at
    collection) or inside a test or fixture.
    """
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required under CI=true but is not available", pytrace=False)
    pytest.skip(f"{what} is not available on this machine", allow_module_level=True)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "64m") -> Iterator[Path]:
    """``folder`` as the mount point of a disk of its own, ``size`` large, that
    other tests cannot fill or be filled by; unmounted after."""
    require_or_skip(os.geteuid() == 0, "root, to mount a disk of its own")
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", folder], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", folder], check=True)


def fill_disk(disk: Path, leave: int) -> Path:
    """Fill ``disk`` up to its last ``leave`` bytes with one file, and return it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        with contextlib.suppress(OSError):  # no space left
            while True:
                handle.write(bytes(2**16))
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def require_module(name: str, what: str | None = None) -> ModuleType:
    """Import ``name`` under :func:`require_or_skip`'s rule and return it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        require_or_skip(False, what or f"the {name} package")
        raise  # unreachable: require_or_skip raised


#: The ordinary user a test running as root gives a folder and a grader's work to.
GRADER_UID = 61010


def as_a_user(passwd: Path, uid: int = GRADER_UID) -> list[str]:
    """The command prefix that runs the rest of its arguments as ``uid``, with
    ``passwd`` as the password database it and its children read (a mount of their own:
    the host's is left as it is), so that the user has a home of its own there."""
    become = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    in_own_mounts = 'mount --bind "$0" /etc/passwd && exec "$@"'
    return ["unshare", "--mount", "--", "sh", "-c", in_own_mounts, str(passwd), *become, "--"]


@contextlib.contextmanager
def folder_for_a_user(uid: int = GRADER_UID) -> Iterator[tuple[Path, list[str]]]:
    """As root: a folder that ``uid`` may be given (``chown -R`` it), removed afterwards,
    with this interpreter reachable by that user meanwhile; and the command prefix that
    runs the rest of its arguments as that user, whose home (in the password database it
    reads) is the folder's ``home``."""
    stack = contextlib.ExitStack()
    # the interpreter may live in root's home (pyenv): let the grader's user through
    # while the test runs
    if os.path.realpath(sys.executable).startswith("/root/"):
        stack.enter_context(searchable_by_all("/root"))
    folder = Path(tempfile.mkdtemp(prefix="redteam-user-", dir="/tmp"))
    # root's, out of the folder the user is given: the user cannot rewrite its own entry
    databases = Path(tempfile.mkdtemp(prefix="redteam-passwd-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        home = folder / "home"
        home.mkdir(mode=0o700)
        os.chown(home, uid, uid)
        passwd = databases / "passwd"
        entry = f"redteam-grader:x:{uid}:{uid}::{home}:/bin/sh\n"
        passwd.write_text(Path("/etc/passwd").read_text() + entry)
        passwd.chmod(0o644)
        yield folder, as_a_user(passwd, uid)
    finally:
        stack.close()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(databases, ignore_errors=True)


@contextlib.contextmanager
def searchable_by_all(folder: str, records: Path = Path("/run")) -> Iterator[None]:
    """As root: ``folder`` searchable by every user while any test process of this host
    is inside, its mode put back when the last one leaves, whatever happens.

    Each process put back the mode it had found when it left: with two test processes at
    once (a test file run beside ``make test``, or ``-n``), the first to finish closed the
    folder under the other, whose ordinary-user grader then failed on every notebook. The
    processes inside are listed, with the mode to put back, in a file of ``records``
    (root's own ``/run``: in a world-writable folder another user could plant the mode),
    changed under a lock; one that died without leaving is dropped.
    """
    record = records / f"lstm-course-tests-{folder.strip('/').replace('/', '-')}.json"

    def change(step: Callable[[dict[str, Any]], None]) -> None:
        with open(record, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            state = json.loads(handle.read() or '{"inside": []}')
            state["inside"] = [pid for pid in state["inside"] if _alive(pid)]
            step(state)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))

    def enter(state: dict[str, Any]) -> None:
        # kept while anyone is inside, or after one died inside: the folder's own mode
        state.setdefault("mode", os.stat(folder).st_mode & 0o7777)
        state["inside"].append(os.getpid())
        os.chmod(folder, state["mode"] | 0o001)

    def leave(state: dict[str, Any]) -> None:
        state["inside"].remove(os.getpid())
        if not state["inside"]:
            os.chmod(folder, state.pop("mode"))

    change(enter)
    try:
        yield
    finally:
        change(leave)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Course:
    """A throwaway copy of the course directory with its own gradebook."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(
        self, *args: str, check: bool = True, timeout: int = 900
    ) -> subprocess.CompletedProcess:
        """Run a command (e.g. ``nbgrader autograde x``) from the course root."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER_")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        result = subprocess.run(
            list(args), cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def submit(
        self,
        student: str,
        assignment: str,
        notebook: nbformat.NotebookNode,
        name: str | None = None,
    ) -> Path:
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name or assignment}.ipynb"
        import nbformat

        nbformat.write(notebook, path)
        return path

    def report(self, student: str, assignment: str, notebook: str | None = None) -> dict:
        path = (
            self.root / "grading_reports" / student / assignment / f"{notebook or assignment}.json"
        )
        return json.loads(path.read_text(encoding="utf-8"))

    def scores(
        self, student: str, assignment: str, notebook: str | None = None
    ) -> dict[str, float]:
        """Points per graded cell, from nbgrader's gradebook."""
        from nbgrader.api import Gradebook

        db_url = "sqlite:///" + str(self.root / "gradebook.db")
        with Gradebook(db_url) as gradebook:
            submission = gradebook.find_submission_notebook(
                notebook or assignment, assignment, student
            )
            return {grade.name: grade.score for grade in submission.grades}

    @property
    def layout(self) -> CourseLayout:
        """Where this course keeps each kind of file, from its config."""
        return CourseLayout.from_root(self.root)

    def release(self, assignment: str) -> nbformat.NotebookNode:
        return read_notebook(self.layout.release(assignment) / f"{assignment}.ipynb")

    def source(self, assignment: str) -> nbformat.NotebookNode:
        return read_notebook(self.layout.source(assignment) / f"{assignment}.ipynb")


def copy_course(root: Path, names: list[str]) -> Course:
    """Copy the config, and the named assignments with their references, into ``root``."""
    shutil.copy(ROOT / CONFIG_FILE, root / CONFIG_FILE)
    course = Course(root)
    ours, theirs = CourseLayout.from_root(ROOT), course.layout
    for name in names:
        shutil.copytree(ours.source(name), theirs.source(name))
        theirs.references_file(name).parent.mkdir(exist_ok=True)
        shutil.copy(ours.references_file(name), theirs.references_file(name))
    return course


#: Courses with their student versions generated, by assignment names: generated once per
#: test run (each generation starts nbgrader, seconds) and copied for every test after.
_GENERATED: dict[tuple[str, ...], Path] = {}


def _empty_gradebook(course: Course) -> None:
    """The course's gradebook made empty in this process, as ``generate_assignment`` would
    make it there (nbgrader's own :class:`~nbgrader.api.Gradebook`, the course's id): the
    command then finds one, and skips the alembic run it makes a new gradebook with (two
    seconds, which :func:`alembic_asked_once_per_command` pays once per test run here)."""
    from nbgrader.api import Gradebook

    scripts = str(Path(sys.executable).parent)  # nbgrader runs alembic by name
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}")
        url = f"sqlite:///{course.root / 'gradebook.db'}"
        with Gradebook(url, course.layout.coursedir.course_id):
            pass


def make_course(root: Path, names: list[str]) -> Course:
    """Copy the config, lstm references and the named assignments; generate student
    versions. The generated course is made once per test run and copied into ``root``."""
    key = tuple(names)
    if key not in _GENERATED:
        template = Path(tempfile.mkdtemp(prefix="lstm-test-course-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        course = copy_course(template, names)
        _empty_gradebook(course)
        for name in names:
            course.run("nbgrader", "generate_assignment", name, "--force")
        _GENERATED[key] = template
    # entry by entry: ``root`` keeps the mode its maker gave it
    for entry in _GENERATED[key].iterdir():
        if entry.is_dir():
            shutil.copytree(entry, root / entry.name, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(entry, root / entry.name)
    return Course(root)


@pytest.fixture
def course_factory(tmp_path: Path):
    """Build a throwaway course with the given assignments."""

    def factory(*names: str) -> Course:
        return make_course(tmp_path / "course", list(names))

    (tmp_path / "course").mkdir()
    return factory


#: nbgrader's alembic head, by the ``alembic`` command that reported it.
_ALEMBIC_HEADS: dict[str, str] = {}


@pytest.fixture(autouse=True, scope="session")
def alembic_asked_once_per_command() -> Iterator[None]:
    """nbgrader stamps each new gradebook with the alembic head it reads by running the
    ``alembic`` command found on ``PATH``: a Python start with SQLAlchemy, seconds each,
    paid again for every gradebook a test makes in this process. The head is fixed by the
    installed nbgrader, so each ``alembic`` command is asked once per test run. A ``PATH``
    without the command still fails as nbgrader fails, so a test still sees a missing
    ``alembic``; nbgrader started in a subprocess still asks for itself."""
    import nbgrader.api

    ask = nbgrader.api.get_alembic_version

    def once_per_command() -> str:
        command = shutil.which("alembic")
        if command is None:
            return ask()
        if command not in _ALEMBIC_HEADS:
            _ALEMBIC_HEADS[command] = ask()
        return _ALEMBIC_HEADS[command]

    nbgrader.api.get_alembic_version = once_per_command
    yield
    nbgrader.api.get_alembic_version = ask


@pytest.fixture
def close_figures():
    """The test starts and ends with no open matplotlib figure, so none leaks into the next."""
    import matplotlib.pyplot as plt

    plt.close("all")
    yield
    plt.close("all")


def skip_fails_the_run(item: pytest.Item, report: pytest.TestReport) -> bool:
    """Whether ``report`` is a skip that fails the run under ``CI=true``: every skip there
    but a doctest's ``+SKIP``. CI installs every component, runs as root, and has no GPU,
    so a check that skips there (a fixture that could not plant its files, say) was not
    made, and a run that reads "passed" would claim it."""
    from _pytest.doctest import DoctestItem

    return report.skipped and not isinstance(item, DoctestItem)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if CI and skip_fails_the_run(item, report):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every check must run: {reason}"
    return report


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection loaded (TensorFlow, Keras, nbgrader, the parametrized cases: most
    of the process's objects) is collected once and frozen (:func:`gc.freeze`), as the
    preloaded grader does, so each later full collection walks only what the tests made:
    with TensorFlow loaded, a full collection otherwise took about a third of a second,
    and the quick loop's allocations ask for one every few seconds."""
    gc.collect()
    gc.freeze()


# --- the whole quick suite on the machine's cores ---------------------------------------

#: The most processes ``pytest -m "not slow"`` spreads the whole suite over: each loads
#: TensorFlow, and past four each one's start-up outweighs what it takes off the run.
QUICK_SUITE_MAX_PROCESSES = 4
#: Past this many other names in a ``-m`` expression, :func:`excludes_slow_tests` does not
#: try every combination of them and answers False.
_MOST_NAMES_TRIED = 8
#: How many processes :func:`pytest_cmdline_main` spread this run over, for the header.
_SPREAD_OVER = pytest.StashKey[int]()


def excludes_slow_tests(markexpr: str) -> bool:
    """Whether ``-m markexpr`` deselects every test marked ``slow``, whatever other marks
    it carries, so that no timing class, cluster or browser a slow test starts shares the
    cores with another test.

    An expression pytest cannot read answers False (the tests then run one at a time).

    Examples
    --------
    >>> [excludes_slow_tests(e) for e in ("not slow", "slow", "", "not (slow or browser)")]
    [True, False, False, True]
    >>> excludes_slow_tests("not slow or browser")  # a slow browser test is kept
    False
    """
    others = sorted(set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not", "slow"})
    if not markexpr.strip() or len(others) > _MOST_NAMES_TRIED:
        return False
    try:
        # pytest's own reading of -m (private, so any change in it falls back to one process)
        from _pytest.mark.expression import Expression

        expression = Expression.compile(markexpr)
        for size in range(len(others) + 1):
            for beside in itertools.combinations(others, size):
                if expression.evaluate(_marked({"slow", *beside})):
                    return False
    except Exception:  # whatever goes wrong, one process is always right
        return False
    return True


def _marked(marks: set[str]) -> Callable[..., bool]:
    """A ``-m`` matcher for a test carrying ``marks`` (with any arguments)."""
    return lambda name, /, **kwargs: name in marks


def quick_suite_processes(config: pytest.Config) -> int | None:
    """How many processes to spread this run over, or None to leave it as asked.

    ``pytest -m "not slow"`` with no paths, the whole quick suite, runs on up to
    :data:`QUICK_SUITE_MAX_PROCESSES` of the machine's cores (pytest-xdist): the inner loop
    is then about half as long on two cores. Nothing changes where a number of processes
    was given (``-n 0`` runs one; ``make test`` runs its slow tests in two processes of
    its own: :data:`BOOK_SIDE_FILES`), where paths were given, where a slow test may run
    (its grading classes are timed), under ``--pdb``, ``--collect-only`` or
    ``-p no:xdist``, or in a worker.
    """
    if not config.pluginmanager.hasplugin("xdist"):
        return None
    if getattr(config.option, "numprocesses", "given") is not None:
        return None
    if os.environ.get("PYTEST_XDIST_WORKER") or config.getoption("usepdb", False):
        return None
    if config.getoption("collectonly", False):
        return None
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return None
    if not excludes_slow_tests(config.getoption("markexpr", "") or ""):
        return None
    cores = len(os.sched_getaffinity(0))
    return min(cores, QUICK_SUITE_MAX_PROCESSES) if cores > 1 else None


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Before pytest-xdist reads its options: spread the whole quick suite over the cores
    (:func:`quick_suite_processes`)."""
    processes = quick_suite_processes(config)
    if processes:
        config.option.numprocesses = processes
        config.stash[_SPREAD_OVER] = processes


def pytest_report_header(config: pytest.Config) -> str | None:
    processes = config.stash.get(_SPREAD_OVER, None)
    if processes:
        return f"the quick suite on {processes} processes (pytest-xdist); -n 0 runs one"
    return None


def under_hard_limit(open_files: int) -> list[str]:
    """A command's prefix that runs it with a hard limit of ``open_files`` open files and
    without the capability to raise it (root's bounding set loses it)."""
    from lstm_grader.sandbox import _system_program

    require_or_skip(_system_program("prlimit") is not None, "prlimit (util-linux)")
    prefix = [_system_program("prlimit") or "prlimit", f"--nofile={open_files}"]
    if os.geteuid() == 0:
        setpriv = _system_program("setpriv")
        require_or_skip(setpriv is not None, "setpriv (util-linux)")
        prefix = [str(setpriv), "--bounding-set=-sys_resource", "--", *prefix]
    return [*prefix, "--"]


def python_under_limit(limit: str, code: str, *args: str) -> list[str]:
    """The words ``code`` prints, run by this Python from the repository root under
    ``prlimit`` with ``limit`` (``--core=0``) and ``args``."""
    from lstm_grader.sandbox import _system_program

    require_or_skip(_system_program("prlimit") is not None, "prlimit (util-linux)")
    run = subprocess.run(
        [str(_system_program("prlimit")), limit, "--", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


# --- the slow tests in two streams ------------------------------------------------------

#: Test files that build or read the book, or run Keras, and start no sandboxed kernel,
#: ``lstm-grade`` or formgrader. ``make test`` runs the slow tests in two pytest processes
#: side by side (``--stream book`` and ``--stream grading``): these files in one, every
#: other file in the other, so that the grading tests, which time classes and count the
#: host's processes, kernel folders and an ordinary user's tasks, still run one at a time
#: and never beside one another.
BOOK_SIDE_FILES = frozenset(
    {
        "test_book",
        "test_book_claims",
        "test_browser",
        "test_makefile",
        "test_model_verdicts",
        "test_notebook_downloads",
        "test_references",
        "test_shapes",
        "test_site",
    }
)
#: The streams ``--stream`` chooses from.
STREAMS = ("book", "grading")


def stream_of(test_file: Path) -> str:
    """The stream a test of ``test_file`` runs in: ``"book"`` for
    :data:`BOOK_SIDE_FILES`, ``"grading"`` for every other file."""
    return "book" if test_file.stem in BOOK_SIDE_FILES else "grading"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stream",
        choices=STREAMS,
        default=None,
        help="run only the tests of one stream: the book's files (BOOK_SIDE_FILES in "
        "tests/conftest.py) or every other file; make test runs both side by side",
    )


def split_by_stream(items: list[Any], stream: str) -> tuple[list[Any], list[Any]]:
    """``items`` (anything with a ``path``) in ``stream``, and the rest, each in order."""
    kept: list[Any] = []
    others: list[Any] = []
    for item in items:
        (kept if stream_of(item.path) == stream else others).append(item)
    return kept, others


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--stream``, the other stream's tests are deselected."""
    stream = config.getoption("stream")
    if stream is None:
        return
    kept, others = split_by_stream(items, stream)
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = kept
