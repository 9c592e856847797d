"""lstm_grader.cgroups: whole-sandbox limits, on a fake tree and on the host's own."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import aged, aged_folder, gone_owner_tag, require_or_skip

from lstm_grader import cgroups

LIMITS = cgroups.Limits(memory_bytes=512 * 2**20, processes=32, cpus=0.5)


def _fake_v1(root: Path) -> dict[str, Path]:
    """A cgroup v1 layout with this process's own group in each hierarchy."""
    groups = {}
    for controller in ("memory", "pids", "cpu", "cpuacct"):
        own = root / controller / cgroups._own_path(controller).lstrip("/")
        own.mkdir(parents=True, exist_ok=True)
        groups[controller] = own
    return groups


def test_v1_limits_are_written_and_read_back(tmp_path: Path) -> None:
    """On cgroup v1, does each controller get its limit, and is usage read back?"""
    own = _fake_v1(tmp_path)
    group = cgroups.create(LIMITS, root=tmp_path)
    assert group.version == 1 and group.not_applied == []
    memory = group.directories["memory"]
    assert memory.parent == own["memory"]
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 2**20)
    assert (group.directories["pids"] / "pids.max").read_text() == "32"
    assert (group.directories["cpu"] / "cpu.cfs_quota_us").read_text() == "50000"
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 2\n")
    (group.directories["pids"] / "pids.events").write_text("max 7\n")
    (group.directories["cpuacct"] / "cpuacct.usage").write_text("2500000000\n")
    usage = group.usage()
    assert (usage.oom_kills, usage.memory_limit_hit) == (2, True)
    assert usage.process_limit_hit and usage.cpu_seconds == 2.5
    assert sorted(group.procs_files) == sorted(
        str(d / "cgroup.procs") for d in group.directories.values()
    )


def test_the_memory_limit_is_the_own_groups_on_v1_and_v2_and_none_when_unlimited(
    tmp_path: Path,
) -> None:
    """A container's limit bounds what lstm-grade may start; "no limit" is no number."""
    assert cgroups.memory_limit(tmp_path) is None
    own = _fake_v1(tmp_path)["memory"] / "memory.limit_in_bytes"
    own.write_text("9223372036854771712\n")  # what v1 writes for "no limit"
    assert cgroups.memory_limit(tmp_path) is None
    own.write_text(f"{6 * 2**30}\n")
    assert cgroups.memory_limit(tmp_path) == 6 * 2**30

    unified = tmp_path / "v2"
    group = unified / cgroups._own_path("").lstrip("/")
    group.mkdir(parents=True, exist_ok=True)
    (group / "memory.max").write_text("max\n")
    assert cgroups.memory_limit(unified) is None
    (group / "memory.max").write_text(f"{3 * 2**30}\n")
    assert cgroups.memory_limit(unified) == 3 * 2**30


def test_the_threads_of_a_group_are_listed_from_one_file_in_either_layout(
    tmp_path: Path,
) -> None:
    """Does a group list its threads from the kernel's one listing (``tasks`` on v1,
    ``cgroup.threads`` on v2), however long, and say None, not "no threads", where the
    listing cannot be read or there is no group?"""
    _fake_v1(tmp_path / "v1")
    v1 = cgroups.create(LIMITS, root=tmp_path / "v1")
    many = range(100_000, 400_000, 3)  # a listing past one read's size
    for folder in v1.directories.values():
        (folder / "tasks").write_text("".join(f"{tid}\n" for tid in many))
    assert v1.thread_ids() == list(many)
    v2 = cgroups.ControlGroup(directories={"unified": tmp_path / "v2"}, version=2)
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "cgroup.threads").write_text("12\n34\n")
    assert v2.thread_ids() == [12, 34]
    (tmp_path / "v2" / "cgroup.threads").unlink()
    assert v2.thread_ids() is None
    assert cgroups.ControlGroup().thread_ids() is None


def test_a_small_file_is_read_whole_or_up_to_its_bound(tmp_path: Path) -> None:
    """Does ``read_small`` read a file to its end in as many reads as it takes, and with a
    bound read no byte past it, however long the file?"""
    path = tmp_path / "listing"
    data = os.urandom(3 * 65536 + 5)
    path.write_bytes(data)
    assert cgroups.read_small(path) == data
    assert cgroups.read_small(path, limit=128) == data[:128]
    assert cgroups.read_small(path, limit=70_000) == data[:70_000]
    assert cgroups.read_small(path, limit=len(data) + 1) == data
    assert cgroups.read_small(path, limit=0) == b""
    # a file without an end: the bound alone stops the read
    assert cgroups.read_small("/dev/zero", limit=100) == bytes(100)


def test_missing_controllers_are_reported_not_skipped(tmp_path: Path) -> None:
    """Where a controller is absent, does the group say which limit is not applied?"""
    group = cgroups.create(LIMITS, root=tmp_path)
    assert group.version == 0 and group.directories == {}
    assert len(group.not_applied) == 4
    assert any(line.startswith("memory") for line in group.not_applied)
    assert any(line.startswith("processes") for line in group.not_applied)


def test_v2_without_delegation_is_reported(tmp_path: Path) -> None:
    """On a cgroup v2 tree the grader may not write, is every limit reported missing?"""
    (tmp_path / "cgroup.controllers").write_text("memory pids cpu\n")
    own = tmp_path / cgroups._own_path("").lstrip("/")
    own.mkdir(parents=True, exist_ok=True)
    (own / "cgroup.subtree_control").write_text("memory pids cpu\n")
    group = cgroups.create(LIMITS, root=tmp_path)
    assert group.version == 2
    folder = group.directories["unified"]
    assert (folder / "memory.max").read_text() == str(512 * 2**20)
    assert (folder / "cpu.max").read_text() == "50000 100000"
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (folder / "cpu.stat").write_text("usage_usec 1500000\n")
    usage = group.usage()
    assert usage.memory_limit_hit and usage.oom_kills == 1 and usage.cpu_seconds == 1.5


def test_v2_without_a_group_of_its_own_is_reported(tmp_path: Path) -> None:
    """On a cgroup v2 tree with nothing delegated to the grader, is every limit reported
    as not applied (never silently skipped)?"""
    (tmp_path / "cgroup.controllers").write_text("memory pids cpu\n")
    refused = cgroups.create(LIMITS, root=tmp_path / "elsewhere")
    assert refused.version == 0
    refused = cgroups._create_v2(LIMITS, tmp_path / "missing", "x")
    assert refused.version == 0 and len(refused.not_applied) == 3
    assert all("not delegated" in line for line in refused.not_applied)


def test_the_hosts_groups_bound_a_real_process() -> None:
    """On this host, as root, does a process that joins the group count against it, and is
    it killed and the group removed afterwards?"""
    import subprocess
    import sys

    usable = os.geteuid() == 0 and (cgroups.CGROUP_ROOT / "pids").is_dir()
    require_or_skip(usable, "root with cgroup v1 memory and pids (as on CI)")
    group = cgroups.create(LIMITS)
    assert "memory" in group.directories and "pids" in group.directories, group.not_applied
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for procs in group.procs_files:
            Path(procs).write_text(str(child.pid))
        assert str(child.pid) in (group.directories["pids"] / "cgroup.procs").read_text()
        assert int((group.directories["pids"] / "pids.current").read_text()) >= 1
    finally:
        group.remove()
    assert child.wait(timeout=10) == -9
    assert not any(folder.exists() for folder in group.directories.values())


def test_a_killed_graders_groups_are_removed_from_every_hierarchy(tmp_path: Path) -> None:
    """Groups whose maker is gone go, in each v1 hierarchy; a running maker's stay, and
    so does a group that still holds something (rmdir refuses it)."""
    from lstm_grader import owners

    old = 2 * owners.STALE_AFTER_S
    own = _fake_v1(tmp_path)
    gone, mine = gone_owner_tag(), owners.owner_tag()
    stale, kept, busy = [], [], []
    for folder in own.values():
        stale.append(aged_folder(folder / f"lstm-grade-{gone}-aa", old))
        kept.append(aged_folder(folder / f"lstm-grade-{mine}-bb", old))
        holding = folder / f"lstm-grade-{gone}-cc"
        holding.mkdir()
        (holding / "cgroup.procs").write_text("1\n")
        busy.append(aged(holding, old))
    assert sorted(cgroups.remove_stale(tmp_path)) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept + busy)


def test_a_killed_graders_group_is_removed_on_v2(tmp_path: Path) -> None:
    from lstm_grader import owners

    (tmp_path / "cgroup.controllers").write_text("memory pids cpu\n")
    own = tmp_path / cgroups._own_path("").lstrip("/")
    stale = aged_folder(own / f"lstm-grade-{gone_owner_tag()}-aa", 2 * owners.STALE_AFTER_S)
    assert cgroups.remove_stale(tmp_path) == [stale]


def test_the_hosts_group_of_a_killed_maker_is_removed() -> None:
    """On this host, as root: a process makes a group and is killed before it removes it;
    the next sweep removes it from every hierarchy."""
    import json
    import subprocess
    import sys

    from lstm_grader import owners

    usable = os.geteuid() == 0 and (cgroups.CGROUP_ROOT / "pids").is_dir()
    require_or_skip(usable, "root with cgroup v1 memory and pids (as on CI)")
    maker = (
        "import json, os, signal\n"
        "from lstm_grader import cgroups\n"
        f"group = cgroups.create(cgroups.Limits({LIMITS.memory_bytes}, {LIMITS.processes}, "
        f"{LIMITS.cpus}))\n"
        "print(json.dumps([str(d) for d in group.directories.values()]), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    made = subprocess.run([sys.executable, "-c", maker], capture_output=True, text=True)
    folders = [Path(p) for p in json.loads(made.stdout)]
    assert folders and all(folder.is_dir() for folder in folders)
    try:
        for folder in folders:
            aged(folder, 2 * owners.STALE_AFTER_S)
        removed = cgroups.remove_stale()
        assert set(folders) <= set(removed)
        assert not any(folder.exists() for folder in folders)
    finally:
        for folder in folders:
            if folder.exists():
                folder.rmdir()


def test_killing_a_group_looks_again_soon_then_less_often_and_gives_up(
    tmp_path: Path, monkeypatch
) -> None:
    """A group whose processes never leave (here a fake one naming a pid that is gone) is
    looked at again after 1 ms, then at doubling pauses of at most 20 ms, until the
    timeout: grading never waits a fixed 20 ms for a group that emptied at once, and never
    waits forever for one that does not."""
    folder = tmp_path / "pids" / "lstm-grade-x"
    folder.mkdir(parents=True)
    (folder / "cgroup.procs").write_text("999999999\n")
    group = cgroups.ControlGroup(version=1, directories={"pids": folder})
    pauses: list[float] = []
    clock = [0.0]

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(cgroups.time, "sleep", pause)
    monkeypatch.setattr(cgroups.time, "monotonic", lambda: clock[0])
    group.kill_all(timeout=0.2)
    assert pauses[:6] == [0.001, 0.002, 0.004, 0.008, 0.016, 0.02]
    assert set(pauses[6:]) == {0.02}
    assert 0.2 <= sum(pauses) < 0.2 + 0.02


def test_the_hosts_group_is_emptied_of_a_whole_process_tree() -> None:
    """On this host, as root: a process and the children it forked, all in one group, are
    all gone when kill_all returns."""
    import subprocess
    import sys

    usable = os.geteuid() == 0 and (cgroups.CGROUP_ROOT / "pids").is_dir()
    require_or_skip(usable, "root with cgroup v1 memory and pids (as on CI)")
    group = cgroups.create(LIMITS)
    joins = "".join(f"open({p!r}, 'w').write(str(os.getpid()))\n" for p in group.procs_files)
    tree = (
        "import os, sys, time\n"
        f"{joins}"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        break\n"
        # one write per line, so that the five lines never interleave
        "os.write(1, f'{os.getpid()}\\n'.encode())\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", tree], stdout=subprocess.PIPE, text=True)
    try:
        pids = {int(parent.stdout.readline()) for _ in range(5)}
        listed = {int(p) for p in (group.directories["pids"] / "cgroup.procs").read_text().split()}
        assert pids <= listed
        group.kill_all()
        assert not (group.directories["pids"] / "cgroup.procs").read_text().split()
    finally:
        group.remove()
        parent.wait(timeout=10)
