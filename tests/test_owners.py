"""lstm_grader.owners: a leftover's owner tag tells a running maker from a gone one (a
reused pid included), and only a gone owner's old leftovers are offered for removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import aged_folder, gone_owner_tag

from lstm_grader import owners

OLD = 2 * owners.STALE_AFTER_S


def test_a_running_owner_is_not_gone_and_an_exited_one_is() -> None:
    assert not owners.owner_gone(f"{owners.owner_tag()}-folder")
    assert owners.owner_gone(f"{gone_owner_tag()}-folder")


def test_a_reused_pid_is_a_new_owner() -> None:
    """The same pid with another start time: the tag's owner is gone."""
    pid, start = owners.owner_tag().split("-")
    assert owners.owner_gone(f"{pid}-{int(start) + 1}-folder")


def test_a_name_without_an_owner_tag_counts_as_gone() -> None:
    assert owners.owner_gone("wrg0v038")
    assert owners.owner_gone("")


def test_only_old_leftovers_of_gone_owners_are_offered(tmp_path: Path) -> None:
    gone, mine = gone_owner_tag(), owners.owner_tag()
    stale = aged_folder(tmp_path / f"lstm-grade-job-{gone}-a", OLD)
    untagged = aged_folder(tmp_path / "lstm-grade-job-wrg0v038", OLD)
    aged_folder(tmp_path / f"lstm-grade-job-{gone}-b", 0)  # too recent
    aged_folder(tmp_path / f"lstm-grade-job-{mine}-c", OLD)  # its owner runs
    aged_folder(tmp_path / f"someone-else-{gone}-d", OLD)  # not grading's
    found = set(owners.leftovers([tmp_path], "lstm-grade-job-"))
    assert found == {stale, untagged}


def test_every_kind_of_temporary_folder_is_swept_once(tmp_path: Path) -> None:
    gone = gone_owner_tag()
    made = {
        aged_folder(tmp_path / f"lstm-grade-{kind}-{gone}-x", OLD)
        for kind in owners.TEMPORARY_KINDS
    }
    assert sorted(owners.stale_temporary_folders([tmp_path, tmp_path])) == sorted(made)


def test_a_temporary_prefix_names_its_kind_and_this_process() -> None:
    assert owners.temporary_prefix("job") == f"lstm-grade-job-{owners.owner_tag()}-"
    with pytest.raises(ValueError):
        owners.temporary_prefix("anything")
