"""lstm_grader.timestamps: a submission's time is read as nbgrader reads it, and its text
never chooses a file for the grader to open."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import dateutil.tz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbgrader.utils import parse_utc

from lstm_grader import timestamps
from lstm_grader.collection import format_timestamp
from lstm_grader.timestamps import MAX_TIMESTAMP_BYTES, read_timestamp, timestamp_problem

TIMES = st.datetimes(
    min_value=datetime.datetime(1971, 1, 1), max_value=datetime.datetime(2200, 12, 31)
)
ZONES = st.one_of(
    st.just(""),
    st.sampled_from([" UTC", " Europe/Paris", " America/Argentina/Buenos_Aires", " Etc/GMT+5"]),
    st.integers(-50_000, 50_000).map(lambda seconds: f" {seconds:+d}"),
)


@pytest.fixture
def zone_lookups(monkeypatch) -> list[str]:
    """Every name nbgrader's parser looks up as a time zone (a path, to dateutil)."""
    looked_up: list[str] = []
    lookup = dateutil.tz.gettz

    def recording(name: str | None = None):
        looked_up.append(name)
        return lookup(name)

    monkeypatch.setattr(dateutil.tz, "gettz", recording)
    return looked_up


@settings(max_examples=200, deadline=None)
@given(moment=TIMES, zone=ZONES)
def test_a_time_reads_as_nbgrader_reads_it(moment: datetime.datetime, zone: str) -> None:
    """Is every time nbgrader writes or reads, with an offset, a zone name or none, read
    exactly as nbgrader's own parser reads it?"""
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f") + zone
    assert read_timestamp(text) == parse_utc(text)


@given(moment=TIMES)
def test_what_collection_writes_reads_back(moment: datetime.datetime) -> None:
    """Does the timestamp.txt the course's collect writes read back to the same time?"""
    assert read_timestamp(format_timestamp(moment)) == moment


@pytest.mark.parametrize(
    "zone",
    [
        "/etc/shadow",
        "../../../../etc/passwd",
        "Europe/../../../../proc/kmsg",
        "..",
        ":/etc/shadow",
        "./UTC",
        "UTC/",
        "a//b",
    ],
)
def test_a_zone_that_could_be_a_path_is_never_looked_up(zone: str, zone_lookups) -> None:
    """Is a zone that names a file outside the zone database refused before any lookup?"""
    with pytest.raises(ValueError, match="neither an offset nor a zone name"):
        read_timestamp(f"2020-01-01 00:00:00 {zone}")
    assert zone_lookups == []


def test_the_lookup_is_seen_where_it_happens(zone_lookups) -> None:
    """Does the recording above see nbgrader's lookups at all (so its silence means none)?"""
    read_timestamp("2020-01-01 00:00:00 Europe/Paris")
    assert zone_lookups == ["Europe/Paris"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_is_a_time_or_a_value_error(text: str) -> None:
    """Does any text give a datetime or a ValueError, never another error, and look up
    only zone names that stay inside the zone database?"""
    looked_up: list[str] = []
    lookup = dateutil.tz.gettz
    dateutil.tz.gettz = lambda name=None: looked_up.append(name) or lookup(name)
    try:
        read_timestamp(text)
    except ValueError:
        pass
    finally:
        dateutil.tz.gettz = lookup
    for name in looked_up:
        assert name and not name.startswith(("/", ":")) and ".." not in name, name


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "99999-01-01 00:00:00",
        "2020-01-01 00:00:00 99999999999999",
        "x" * 300,
        # dateutil's decimal arithmetic fails on it (InvalidOperation, not a ValueError)
        "12:99999999999999999999999999999999",
    ],
)
def test_text_that_is_no_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        read_timestamp(text)


def _folder_with(tmp_path: Path, make) -> Path:
    folder = tmp_path / "submitted" / "mallory" / "05-return-flags"
    folder.mkdir(parents=True)
    make(folder / "timestamp.txt")
    return folder


@pytest.mark.parametrize(
    "make",
    [
        lambda path: None,
        lambda path: path.write_text(""),
        lambda path: path.write_text("  \n"),
        lambda path: path.write_text("2026-01-05 14:03:27.000000 UTC\n"),
    ],
    ids=["missing", "empty", "blank", "nbgrader-submit"],
)
def test_a_usable_timestamp_file_is_no_problem(tmp_path: Path, make) -> None:
    """Is a missing, empty or well-formed timestamp.txt accepted, as nbgrader accepts it?"""
    assert timestamp_problem(_folder_with(tmp_path, make)) is None


def _sparse(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(2**40)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "not a regular file"),
        (lambda path: os.mkfifo(path), "not a regular file"),
        (lambda path: path.symlink_to("/dev/zero"), "a symbolic link"),
        (_sparse, "longer than a time"),
        (lambda path: path.write_bytes(b"\xff\xfe2\x000\x00"), "not UTF-8 text"),
        (lambda path: path.write_text("handed in on time"), timestamps.NOT_A_TIME),
        (lambda path: path.write_text("2020-01-01 00:00:00 /etc/shadow"), "neither an offset"),
    ],
    ids=["folder", "fifo", "link", "sparse-terabyte", "utf-16", "words", "zone-path"],
)
def test_a_timestamp_file_nbgrader_must_not_read_is_named(
    tmp_path: Path, make, problem: str
) -> None:
    """Is each timestamp.txt nbgrader would fail on, hang on, read whole or follow
    refused with a reason, without being opened for more than its first bytes?"""
    found = timestamp_problem(_folder_with(tmp_path, make))
    assert found is not None and found.startswith("timestamp.txt: ") and problem in found


def test_a_quoted_timestamp_holds_nothing_a_terminal_acts_on(tmp_path: Path) -> None:
    found = timestamp_problem(
        _folder_with(tmp_path, lambda path: path.write_text("\x1b]0;on time\x07\x1b[2J\u202e"))
    )
    assert found is not None
    assert found.isprintable(), found


def test_the_limit_holds_what_nbgrader_submit_writes() -> None:
    assert len(format_timestamp(datetime.datetime(2026, 12, 31, 23, 59, 59, 999_999))) < (
        MAX_TIMESTAMP_BYTES
    )
