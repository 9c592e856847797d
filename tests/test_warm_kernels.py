"""lstm_grader.warm_kernels: a kernel started ahead of its submission is the kernel a
cold start would have given it, gets the submission's files read-only, and is never
used when anything about its start differs.

The signature tests start nothing; the others start real sandboxed kernels, which only
a root grader warms (an ordinary user's kernels start cold).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_or_skip
from jupyter_core.utils import run_sync
from traitlets.config import Config

from lstm_grader import sandbox, warm_kernels

ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]


def _manager(**limits: int) -> sandbox.SandboxKernelManager:
    config = Config({"SandboxKernelManager": limits}) if limits else Config()
    return sandbox.SandboxKernelManager(kernel_name="python3", config=config)


def _submission(tmp_path: Path, name: str = "05-return-flags") -> Path:
    folder = tmp_path / name
    (folder / "data").mkdir(parents=True)
    (folder / "notes.json").write_text('{"q1": "x"}')
    (folder / "data" / "series.csv").write_text("1,2,3\n")
    return folder


# ------------------------------------------------------------------ what a start depends on


@pytest.mark.parametrize(
    "change",
    ["limits", "arguments", "kernel name", "environment", "unsafe switch"],
)
def test_the_signature_tells_apart_every_way_a_start_can_differ(
    change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does changing any one input of a kernel's start change its signature, so a warm
    kernel started one way is never handed to a submission that needs another?"""
    before = warm_kernels.signature(_manager(), ARGUMENTS)
    km, arguments = _manager(), ARGUMENTS
    if change == "limits":
        km = _manager(memory_limit_mb=4096)
    elif change == "arguments":
        arguments = [*ARGUMENTS, "--IPKernelApp.matplotlib=inline"]
    elif change == "kernel name":
        km.kernel_name = "python3-other"
        monkeypatch.setattr(type(km), "kernel_spec", property(lambda self: None))
    elif change == "environment":
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.setattr(sandbox, "sandbox_problem", lambda: "no bubblewrap here")
        monkeypatch.setenv(sandbox.UNSAFE_SWITCH, "1")
        monkeypatch.setattr(sandbox, "warn_no_sandbox_once", lambda why: None)
    assert warm_kernels.signature(km, arguments) != before


def test_a_recipe_starts_the_kernel_its_recorder_would_have_started(tmp_path: Path) -> None:
    """Does a manager built from a recipe (in another process, from JSON) have the same
    signature as the manager the recipe was recorded from?"""
    folder = _submission(tmp_path)
    recorded = _manager(memory_limit_mb=1024, cpu_limit_seconds=60)
    made = json.loads(json.dumps(warm_kernels.recipe(recorded, str(folder), ARGUMENTS)))
    rebuilt = sandbox.SandboxKernelManager(
        kernel_name=made["kernel_name"], config=Config(made["configuration"])
    )
    same_name = Path(made["folder"])
    assert warm_kernels.signature(rebuilt, made["arguments"]) == (
        warm_kernels.signature(recorded, ARGUMENTS)
    )
    assert same_name.name == folder.name


def test_configuration_json_cannot_carry_makes_no_recipe(tmp_path: Path) -> None:
    """Is a configuration that would not survive the trip to the next child refused, so
    its kernel starts cold rather than differently?"""
    km = sandbox.SandboxKernelManager(
        kernel_name="python3",
        config=Config({"KernelManager": {"shutdown_wait_time": 1.0, "kernel_cmd_hook": object()}}),
    )
    assert warm_kernels.recipe(km, str(_submission(tmp_path)), ARGUMENTS) is None


def test_outside_a_helpers_child_nothing_is_recorded(tmp_path: Path) -> None:
    """Does recording do nothing in a process the helper did not fork (no sink)?"""
    assert warm_kernels._RECIPE_SINK == []
    warm_kernels.record(_manager(), str(_submission(tmp_path)), ARGUMENTS)


# ------------------------------------------------------------------ real warm kernels


@pytest.fixture
def root_sandbox() -> None:
    require_or_skip(sandbox.sandbox_problem() is None, "bubblewrap (the grading sandbox)")
    if os.geteuid() != 0:
        pytest.skip("only a root grader warms kernels; an ordinary user's start cold")


@pytest.fixture
def warm(tmp_path: Path, root_sandbox: None) -> Iterator[tuple[Path, dict]]:
    folder = _submission(tmp_path)
    made = warm_kernels.recipe(_manager(), str(folder), ARGUMENTS)
    assert made is not None
    try:
        yield folder, made
    finally:
        warm_kernels.discard()


def _run(
    km: sandbox.SandboxKernelManager,
    code: str,
    stage_from: Path | None,
    before: str = "",
    printed: list[str] | None = None,
) -> str:
    """Connect to ``km``'s kernel, run ``before``, stage the files if asked, run ``code``,
    shut the kernel down; return what was printed (also kept in ``printed``)."""
    printed = [] if printed is None else printed

    def keep(message: dict) -> None:
        printed.append(message["content"].get("text", "") + message["content"].get("evalue", ""))

    async def main() -> None:
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            if before:
                await kc.execute_interactive(before, timeout=60, output_hook=keep)
            if stage_from is not None:
                km.provisioner.stage_submission(str(stage_from))
            await kc.execute_interactive(code, timeout=60, output_hook=keep)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    run_sync(main)()
    return "".join(printed)


LOOK = r"""
import json, os
files = sorted(os.path.join(d, n) for d, _, ns in os.walk('.') for n in ns)
facts = {'cwd': os.getcwd(), 'files': files,
         'notes': open('notes.json').read(), 'series': open('data/series.csv').read()}
for name, attempt in [('write', lambda: open('notes.json', 'w')),
                      ('delete', lambda: os.remove('notes.json')),
                      ('rename', lambda: os.rename('notes.json', 'mine.json')),
                      ('chmod', lambda: os.chmod('notes.json', 0o666)),
                      ('delete-nested', lambda: os.remove('data/series.csv'))]:
    try:
        attempt()
        facts[name] = 'allowed'
    except OSError as exc:
        facts[name] = type(exc).__name__
open('scratch.txt', 'w').write('mine')
facts['scratch'] = open('scratch.txt').read()
print(json.dumps(facts))
"""


def test_a_warm_kernel_gets_the_submission_read_only_before_any_cell(
    warm: tuple[Path, dict],
) -> None:
    """Does the kernel handed over see exactly the submission's files, in a folder of the
    submission's name, unable to change, delete or rename them, yet able to write its
    own files, as a cold start's read-only binds allow?"""
    folder, made = warm
    (folder / "feedback.json").write_text('{"q1": {"right": "why"}}')  # nbgrader's master copy
    warm_kernels.start(made)
    km = warm_kernels.take(_manager(), str(folder), ARGUMENTS)
    assert km is not None, "a kernel started exactly as needed was not used"
    facts = json.loads(_run(km, LOOK, stage_from=folder).strip().splitlines()[-1])
    assert facts["cwd"] == "/tmp/05-return-flags"
    assert facts["files"] == ["./data/series.csv", "./notes.json"], "the explanations stay out"
    assert facts["notes"] == '{"q1": "x"}' and facts["series"] == "1,2,3\n"
    for attempt in ("write", "delete", "rename", "chmod", "delete-nested"):
        assert facts[attempt] == "PermissionError", (attempt, facts[attempt])
    assert facts["scratch"] == "mine"
    assert sorted(p.name for p in folder.rglob("*")) == [
        "data",
        "feedback.json",
        "notes.json",
        "series.csv",
    ]


def test_a_warm_kernel_gets_what_the_submission_lacks_from_the_release(
    warm: tuple[Path, dict], tmp_path: Path
) -> None:
    """Does a notebook uploaded without the files its learner fetched with it find them
    in its kernel's folder, copied from the release, while the submission's own copy of
    a file wins over the release's?"""
    folder, made = warm
    released = tmp_path / "release"
    released.mkdir()
    (released / "mistakes.sealed.json").write_text('{"sealed": true}')
    (released / "notes.json").write_text('{"q1": "the course\'s"}')
    warm_kernels.start(made)
    manager = _manager()
    manager.released_folder = str(released)
    km = warm_kernels.take(manager, str(folder), ARGUMENTS)
    assert km is not None
    code = (
        "import json; print(json.dumps([open(n).read() for n in "
        "('mistakes.sealed.json', 'notes.json')]))"
    )
    sealed, notes = json.loads(_run(km, code, stage_from=folder).strip().splitlines()[-1])
    assert (sealed, notes) == ('{"sealed": true}', '{"q1": "x"}')
    assert not (folder / "mistakes.sealed.json").exists(), "the submission is unchanged"


def test_a_warm_kernel_takes_the_name_of_another_assignments_folder(
    warm: tuple[Path, dict], tmp_path: Path
) -> None:
    """Is a kernel warmed for one assignment used for the next submission of another
    (a class graded with --all alternates them), its working folder renamed after the
    submission's, as a cold start would name it, with that submission's files in it?"""
    _, made = warm
    other = _submission(tmp_path / "other", "06-embeddings")
    (other / "notes.json").write_text('{"q2": "y"}')
    warm_kernels.start(made)
    km = warm_kernels.take(_manager(), str(other), ARGUMENTS)
    assert km is not None
    code = "import os, json; print(json.dumps([os.getcwd(), open('notes.json').read()]))"
    cwd, notes = json.loads(_run(km, code, stage_from=other).strip().splitlines()[-1])
    assert (cwd, notes) == ("/tmp/06-embeddings", '{"q2": "y"}')


def test_a_warm_kernel_started_otherwise_is_shut_down_not_used(
    warm: tuple[Path, dict],
) -> None:
    """Is a warm kernel whose limits differ from the submission's thrown away (its
    process gone), leaving the submission to a cold start?"""
    folder, made = warm
    warm_kernels.start(made)
    kept = warm_kernels._WARM[0].km
    assert warm_kernels.take(_manager(memory_limit_mb=1024), str(folder), ARGUMENTS) is None
    assert warm_kernels._WARM == []
    assert not run_sync(kept.is_alive)()


def test_a_large_submission_starts_cold(warm: tuple[Path, dict]) -> None:
    """Are files too large to copy into the sandbox's tmpfs left to a cold start's
    read-only binds?"""
    folder, made = warm
    with (folder / "big.bin").open("wb") as big:
        big.truncate(warm_kernels.STAGE_LIMIT_BYTES + 1)
    warm_kernels.start(made)
    assert warm_kernels.take(_manager(), str(folder), ARGUMENTS) is None


def test_links_planted_in_the_working_folder_are_never_followed(
    warm: tuple[Path, dict], tmp_path: Path
) -> None:
    """If something in the sandbox planted links where the submission's files go, does
    staging refuse rather than write through them to the host?"""
    folder, made = warm
    target = tmp_path / "host-target"
    warm_kernels.start(made)
    km = warm_kernels.take(_manager(), str(folder), ARGUMENTS)
    assert km is not None
    plant = f"import os; os.symlink({str(target)!r}, 'notes.json'); print('planted')"
    printed: list[str] = []
    with pytest.raises(sandbox.SandboxUnavailable):
        _run(km, "print('staged')", stage_from=folder, before=plant, printed=printed)
    assert "planted" in "".join(printed)
    assert not target.exists() and not target.is_symlink()


# ------------------------------------------------------------------ through the helper

PLANT = """import json, os, subprocess
for path in ('planted.txt', '/tmp/planted.txt', '/dev/shm/planted.txt'):
    open(path, 'w').write('from the previous submission')
subprocess.Popen(['sleep', '300'], start_new_session=True)
# the next submission's kernel is booting now: look for its connection file or sockets
found = []
for top in ('/dev/shm', '/tmp', '/run', '/var/tmp', '/opt'):
    for here, _, names in os.walk(top):
        found += [os.path.join(here, n) for n in names
                  if n == 'kernel.json' or (n.startswith('ipc-') and n[4:].isdigit())]
pythons = [p for p in os.listdir('/proc') if p.isdigit()]
print(json.dumps({'found': found, 'processes': len(pythons)}))
print('planted')"""

LOOK_BACK = """import json, os
seen = {p: os.path.exists(p) for p in ('planted.txt', '/tmp/planted.txt', '/dev/shm/planted.txt')}
seen['sleepers'] = sum(1 for pid in os.listdir('/proc') if pid.isdigit()
                       and b'sleep' in open(f'/proc/{pid}/cmdline', 'rb').read())
print(json.dumps(seen))"""


@pytest.mark.slow
def test_the_helper_warms_each_next_kernel_and_no_submission_reaches_the_next(
    tmp_path: Path, root_sandbox: None
) -> None:
    """Graded one after another by one helper, does each submission after the first get
    a kernel started ahead of it, with full marks as a cold start gives, and does nothing
    one submission leaves in its sandbox (files in its folder, /tmp, /dev/shm, a detached
    process) reach the next, whose kernel was warming while it ran?"""
    import nbformat

    from benchmarks.measure import ASSIGNMENT, answered, make_course, notebooks, submit
    from lstm_grader.preloaded import PreloadedGrader

    root = tmp_path / "course"
    make_course(root, [ASSIGNMENT])
    release, source = notebooks(root, ASSIGNMENT)
    students = ["s000", "s001", "s002", "s003"]
    for student in students:
        notebook = answered(release, source)
        extra = PLANT if student == "s001" else LOOK_BACK
        notebook.cells.append(nbformat.v4.new_code_cell(extra))
        submit(root, student, ASSIGNMENT, notebook)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    logs = {}
    with PreloadedGrader(cwd=root) as grader:
        for student in students:
            argv = ["autograde", ASSIGNMENT, "--student", student, "--force"]
            outcome, logs[student] = grader.run(argv, cwd=root, env=env, timeout=300)
            assert outcome == "ran", logs[student][-2000:]
        # the child waiting for the next submission holds its own request pipe, log and
        # recipe file, the pipe its warm kernel's stdout and stderr go to, and nothing of
        # the children before it
        helper = grader._process.pid
        (waiting,) = map(int, Path(f"/proc/{helper}/task/{helper}/children").read_text().split())
        held = []
        for fd in os.listdir(f"/proc/{waiting}/fd"):
            with contextlib.suppress(OSError):
                held.append(os.readlink(f"/proc/{waiting}/fd/{fd}"))
        assert sum(t.startswith("pipe:") for t in held) == 2, held
        assert len({t for t in held if t.endswith("(deleted)")}) == 2, held  # log, recipe
    warm = [s for s in students if "started ahead of this submission" in logs[s]]
    assert warm == ["s001", "s002", "s003"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in students:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert submission.score == submission.max_score > 0, student
    graded = nbformat.read(root / "autograded" / "s001" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    printed = "".join(o.get("text", "") for o in graded.cells[-1].outputs)
    assert "planted" in printed, printed
    looked = json.loads(printed.strip().splitlines()[0])
    # no connection file or socket at all, not even its own: once a kernel is up, its
    # private folder is the grader's alone (kernel specs of the bound Python installation
    # are kernel.json files too, outside it)
    private = [p for p in looked["found"] if "lstm-grade-kernel-" in p]
    sockets = [p for p in looked["found"] if os.path.basename(p).startswith("ipc-")]
    assert private == [] and sockets == [], looked
    for student in ("s002", "s003"):
        graded = nbformat.read(
            root / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
        )
        printed = "".join(o.get("text", "") for o in graded.cells[-1].outputs)
        seen = json.loads(printed.strip().splitlines()[-1])
        assert seen == {
            "planted.txt": False,
            "/tmp/planted.txt": False,
            "/dev/shm/planted.txt": False,
            "sleepers": 0,
        }, (student, seen)
