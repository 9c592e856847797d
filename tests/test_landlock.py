"""Does the Landlock prelude leave a process exactly the writes it lists?

Each check runs the prelude in a fresh interpreter, as the grading kernel's launcher does,
then tries every kind of write in the folders it grants and in one it does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_or_skip

from lstm_grader import landlock

ATTEMPTS = """
import json, os, socket, sys
granted, sockets_only, other, existing, movable = sys.argv[1:6]
done = {}

def attempt(name, action):
    try:
        action()
        done[name] = True
    except OSError:
        done[name] = False

for label, folder in (("granted", granted), ("sockets", sockets_only), ("other", other)):
    attempt(f"{label}:file", lambda: open(os.path.join(folder, "f"), "w").write("x"))
    attempt(f"{label}:dir", lambda: os.mkdir(os.path.join(folder, "d")))
    attempt(f"{label}:fifo", lambda: os.mkfifo(os.path.join(folder, "p")))
    attempt(f"{label}:link", lambda: os.symlink("/etc/passwd", os.path.join(folder, "l")))
    attempt(f"{label}:socket", lambda: socket.socket(socket.AF_UNIX).bind(
        os.path.join(folder, "s")))
attempt("other:write-existing", lambda: open(existing, "a").write("x"))
attempt("other:truncate-existing", lambda: os.truncate(existing, 0))
attempt("other:remove-existing", lambda: os.remove(existing))
attempt("other:rename-into-granted", lambda: os.rename(movable, os.path.join(granted, "r")))
attempt("devices:null", lambda: open("/dev/null", "w").write("x"))
print(json.dumps(done))
"""


def run_restricted(tmp_path: Path, restrict: bool = True) -> dict[str, bool]:
    """Which writes a fresh interpreter managed after the prelude (or without it)."""
    folders = {name: tmp_path / name for name in ("granted", "sockets", "other")}
    for folder in folders.values():
        folder.mkdir()
    existing = folders["other"] / "existing.txt"
    existing.write_text("kept")
    movable = folders["other"] / "movable.txt"
    movable.write_text("stays")
    prelude = (
        landlock.launcher_prelude([str(folders["granted"])], "/dev", [str(folders["sockets"])])
        if restrict
        else ""
    )
    run = subprocess.run(
        [sys.executable, "-c", prelude + ATTEMPTS, *map(str, folders.values()), str(existing)]
        + [str(movable)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(run.stdout)


def test_the_prelude_is_standard_library_source() -> None:
    """Does the launcher's prelude compile on its own, importing nothing of the kit (the
    sandbox has the course library, not the grader)?"""
    source = landlock.launcher_prelude(["/tmp"], "/dev", ["/run/k"])
    compile(source, "<launcher>", "exec")
    assert "lstm_grader" not in source and "lstm_lib" not in source


def test_only_the_granted_writes_are_left(tmp_path: Path) -> None:
    """After the prelude, are files, folders, FIFOs, links and sockets made only where it
    grants them (sockets alone in the socket folder), existing files elsewhere neither
    written, truncated, removed nor moved, and devices still written?"""
    require_or_skip(landlock.abi_version() > 0, "Landlock (Linux 5.13 or later)")
    done = run_restricted(tmp_path)
    for kind in ("file", "dir", "fifo", "link", "socket"):
        assert done[f"granted:{kind}"], kind
        assert done[f"sockets:{kind}"] == (kind == "socket"), kind
        assert not done[f"other:{kind}"], kind
    for action in ("write", "truncate", "remove"):
        assert not done[f"other:{action}-existing"], action
    assert not done["other:rename-into-granted"]
    assert done["devices:null"]
    assert (tmp_path / "other" / "existing.txt").read_text() == "kept"
    assert (tmp_path / "other" / "movable.txt").read_text() == "stays"


def test_without_the_prelude_every_write_goes_through(tmp_path: Path) -> None:
    """The control: does the same script write everywhere when nothing restricts it (so
    the refusals above are the prelude's)?"""
    done = run_restricted(tmp_path, restrict=False)
    assert all(done.values()), done


def test_a_host_without_landlock_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the host has no Landlock, is the kernel started without the prelude and the
    missing restriction named for the report, never skipped in silence?"""
    from lstm_grader import sandbox

    spec = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "c"]
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    command, not_applied = sandbox._write_restriction(spec, "/run/k")
    assert command == sandbox.grading_kernel_command(spec)
    assert not_applied is not None and "has no Landlock" in not_applied
    monkeypatch.setattr(landlock, "abi_version", lambda: 3)
    command, not_applied = sandbox._write_restriction(spec, "/run/k")
    assert not_applied is None and "restrict_writes(" in command[2]
    command, not_applied = sandbox._write_restriction(["/usr/bin/R", "-f", "c"], "/run/k")
    assert not_applied is not None and "ipykernel_launcher" in not_applied
