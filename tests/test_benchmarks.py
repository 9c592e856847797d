"""The benchmark's arithmetic: the projection to a course and the comparison of grades.

Quick: nothing is graded here (``make bench`` runs the benchmark itself).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import benchmarks.measure as bench
from benchmarks.measure import (
    BenchError,
    Graded,
    Measured,
    floor_again,
    floor_of,
    grade_differences,
    grade_pairs,
    least,
    marginal,
    parallel_efficiency,
    project,
    speedup_ceiling,
)


def _run(notebooks: int, wall: float, cpu: float = 0.0, kernel_cpu: float = 0.0) -> Graded:
    return Graded([{}] * notebooks, wall, cpu, 0.0, kernel_cpu)


def test_the_slope_leaves_the_start_up_out_of_each_notebook() -> None:
    # 6 notebooks in 20 s, 24 in 56 s: 2 s each, and 8 s before the first
    slope = marginal(_run(6, 20.0, 15.0, 3.0), _run(24, 56.0, 45.0, 9.0))
    assert slope.seconds == pytest.approx(2.0)
    assert slope.startup_seconds == pytest.approx(8.0)


def test_the_slope_counts_the_kernels_cpu_too() -> None:
    # the kernels' CPU (from the sandboxes) grows by 18 s over 18 notebooks: 1 s each
    slope = marginal(_run(6, 20.0, 10.0, 6.0), _run(24, 56.0, 10.0, 24.0))
    assert slope.cpu == pytest.approx(1.0)


def test_one_class_size_gives_no_slope() -> None:
    with pytest.raises(BenchError, match="two class sizes"):
        marginal(_run(12, 30.0), _run(12, 31.0))


@pytest.mark.parametrize(("wall", "cpu"), [(13.1, 20.0), (25.3, 20.0), (40.0, 8.0)])
def test_a_larger_class_that_cost_no_more_gives_no_slope(wall: float, cpu: float) -> None:
    """A smaller run slowed by other load must not make a notebook free, or negative: a
    projection of -11 minutes once passed its target that way."""
    with pytest.raises(BenchError, match="rerun on a quiet machine"):
        marginal(_run(6, 25.3, 8.0), _run(24, wall, cpu))


def test_the_speed_up_ceiling_counts_only_the_cores_there_are() -> None:
    # 1 worker: 0.6 s per notebook; N workers: 0.6 CPU s per notebook
    one, many = (
        marginal(_run(6, 10.0, 6.0), _run(24, 20.8, 16.8)),
        marginal(_run(6, 5.0, 3.6), _run(24, 9.0, 14.4)),
    )
    assert speedup_ceiling(one, many, workers=2, cores=2) == pytest.approx(2.0)
    assert speedup_ceiling(one, many, workers=4, cores=2) == pytest.approx(2.0)
    assert speedup_ceiling(one, many, workers=2, cores=16) == pytest.approx(2.0)
    assert speedup_ceiling(one, many, workers=1, cores=2) == pytest.approx(1.0)


def test_the_per_core_cost_counts_every_busy_core() -> None:
    # 2.5 s more per notebook with 2 workers on 2 busy cores: each took one core 5 s
    assert project(2.5, 2).per_core_seconds == 5.0


def test_one_host_spreads_the_course_over_its_cores() -> None:
    projection = project(2.5, 2, notebooks=8000, cores=16)
    assert projection.one_host_seconds == pytest.approx(8000 * 5.0 / 16)


def test_the_cluster_loses_what_its_efficiency_loses() -> None:
    # 1 worker 24 s, 2 workers 15 s: a speed-up of 1.6 out of 2
    projection = project(2.5, 2, (24.0, 15.0), notebooks=8000, cores=16, hosts=4)
    assert projection.efficiency == pytest.approx(0.8)
    assert projection.cluster_seconds == pytest.approx(8000 * 5.0 / (64 * 0.8))


def test_a_super_linear_speed_up_is_never_projected() -> None:
    assert parallel_efficiency(30.0, 10.0) == 1.0


def test_without_dask_timings_there_is_no_cluster_projection() -> None:
    projection = project(2.5, 2)
    assert projection.efficiency is None
    assert projection.cluster_seconds is None


def _row(student: str, score: str, status: str = "graded", seconds: str = "1.0") -> dict:
    return {
        "student": student,
        "assignment": "a",
        "notebook": "a",
        "score": score,
        "max_score": "9.0",
        "status": status,
        "reason": "",
        "seconds": seconds,
    }


def test_grades_that_differ_only_in_seconds_are_the_same() -> None:
    assert grade_differences([_row("x", "9.0")], [_row("x", "9.0", seconds="3.5")]) == []


def test_a_changed_score_or_a_missing_row_is_a_difference() -> None:
    first = [_row("x", "9.0"), _row("y", "4.0")]
    second = [_row("x", "8.0")]
    differences = grade_differences(first, second)
    assert len(differences) == 2
    assert differences[0].startswith("x/a/a: ")
    assert differences[1].endswith("vs None")


def test_repeated_runs_count_their_least_wall_and_cpu() -> None:
    rows = [_row("x", "9.0")]
    slowed = Graded(rows, 30.0, 12.0, 1.0, 6.0)  # slowed from outside: more wall
    busier = Graded(rows, 25.0, 14.0, 2.0, 6.0)  # more CPU
    counted = least([slowed, busier])
    assert (counted.wall, counted.total_cpu, counted.load) == (25.0, 18.0, 2.0)


def test_repeated_runs_that_grade_differently_stop_the_bench() -> None:
    with pytest.raises(BenchError, match="graded differently"):
        least(
            [Graded([_row("x", "9.0")], 1.0, 1.0, 0.0), Graded([_row("x", "8.0")], 1.0, 1.0, 0.0)]
        )


def _floor_run(wall: float, client: float, kernel: float | None) -> dict:
    return {"wall": wall, "client_cpu": client, "kernel_cpu": kernel}


def test_the_floor_is_the_median_of_its_runs() -> None:
    floor = floor_of(
        [_floor_run(0.7, 0.04, 0.25), _floor_run(0.9, 0.05, 0.30), _floor_run(0.6, 0.03, None)]
    )
    assert (floor.wall, floor.kernel_cpu, floor.client_cpu) == (0.7, 0.25, 0.04)
    assert floor.cpu == pytest.approx(0.29)  # the median of the runs' sums, not a sum of medians


def test_the_floor_is_measured_again_after_grading_and_both_rounds_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A machine that slowed down while the bench ran moves the floor with the runs it is
    set against."""
    before = [_floor_run(0.6, 0.04, 0.25)] * 3
    after = [_floor_run(0.8, 0.05, 0.35)] * 3
    monkeypatch.setattr(bench, "measure_floor", lambda scratch, runs, name="floor": after[:runs])
    measured = Measured(parallel=2, floor=floor_of(before), floor_samples=list(before))
    lines = floor_again(tmp_path, measured)
    assert len(measured.floor_samples) == 6
    assert measured.floor.cpu == pytest.approx((0.29 + 0.40) / 2)
    assert "median of 6" in lines[-1].measure


def test_without_a_first_floor_there_is_no_second() -> None:
    measured = Measured(parallel=2)
    assert floor_again(Path("."), measured) == []
    assert measured.floor is None


def test_the_runs_of_a_slope_are_made_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small, large, small, large: a machine that slows down between them slows both
    sides of the slope, and the least of each side counts."""
    made = []

    def fake_grade(root: Path, assignment: str, *options: str) -> Graded:
        made.append(root.name)
        wall = {"small": 10.0, "large": 30.0}[root.name] + len(made)
        return Graded([_row("x", "9.0")], wall, 1.0, 0.0)

    monkeypatch.setattr(bench, "grade", fake_grade)
    [(small, large)] = grade_pairs(Path("small"), Path("large"), "a", 2, [("--workers", "1")])
    assert made == ["small", "large", "small", "large"]
    assert (small.wall, large.wall) == (11.0, 32.0)


def test_slopes_compared_with_each_other_are_made_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """1 worker's runs and 2 workers' alternate, so a machine that slows down between them
    slows both slopes."""
    made = []

    def fake_grade(root: Path, assignment: str, *options: str) -> Graded:
        made.append((root.name, options[-1]))
        wall = {"small": 10.0, "large": 30.0}[root.name] + len(made)
        return Graded([_row("x", "9.0")], wall, 1.0, 0.0)

    monkeypatch.setattr(bench, "grade", fake_grade)
    (one_small, one), (two_small, two) = grade_pairs(
        Path("small"), Path("large"), "a", 2, [("--workers", "1"), ("--workers", "2")]
    )
    assert made == [("small", "1"), ("large", "1"), ("small", "2"), ("large", "2")] * 2
    assert (one_small.wall, one.wall, two_small.wall, two.wall) == (11.0, 32.0, 13.0, 34.0)


def test_the_machines_scaling_takes_the_least_time_of_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Is the machine's scaling N times the least one-process time over the least
    N-process time, the runs made in turn?"""
    made: list[int] = []
    times = iter([1.0, 1.5, 0.8, 1.2, 0.9, 1.0])

    def fake(processes: int, steps: int) -> float:
        made.append(processes)
        return next(times)

    monkeypatch.setattr(bench, "_arithmetic_seconds", fake)
    assert bench.machine_scaling(2, repeats=3) == pytest.approx(2 * 0.8 / 1.0)
    assert made == [1, 2, 1, 2, 1, 2]


def test_the_machines_scaling_runs_real_processes() -> None:
    """Do the processes really run (a figure comes back, without a timing target)?"""
    assert bench.machine_scaling(2, repeats=1, steps=10_000) > 0


def test_cold_kernel_workers_are_compared_with_one_cold_kernel_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both sides of the workers' own speed-up start each kernel cold, so neither worker
    count keeps a second process busy with the next kernel."""
    made = []

    def fake_grade(root: Path, assignment: str, *options: str) -> Graded:
        made.append(options)
        wall = {"1": 30.0, "2": 16.0}[options[options.index("--workers") + 1]]
        return Graded([_row("x", "9.0")], wall, 1.0, 0.0)

    monkeypatch.setattr(bench, "grade", fake_grade)
    warm = Graded([_row("x", "9.0")], 20.0, 1.0, 0.0)
    results = bench._cold_kernels(Path("course"), warm, parallel=2)
    assert made == [("--workers", "1", "--cold-kernels"), ("--workers", "2", "--cold-kernels")]
    [speedup] = [r for r in results if "both --cold-kernels" in r.measure]
    assert speedup.value == "1.88x"


def test_a_missed_speed_up_names_every_limit_the_bench_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other load, the machine's cores and one worker's own use of them are all named, and
    nothing is said when none of them is below the target."""
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    assert bench._speedup_limits(0.5, 1.95, 1.90) == ""
    assert bench._speedup_limits(0.5, 1.95, 1.42) == " (the cores allow 1.42x)"
    assert bench._speedup_limits(2.5, 1.73, 1.42) == (
        " (load average above the CPU count; the machine's cores give 1.73x now; "
        "the cores allow 1.42x)"
    )


def test_no_projection_passes_on_runs_that_give_no_slope() -> None:
    """The projection's 15-minute verdict needs a notebook that costs something."""
    measured = Measured(parallel=2, default_small=_run(6, 25.3, 8.0), default=_run(24, 13.1, 20.0))
    with pytest.raises(BenchError, match="no slope"):
        bench.bench_projection(measured)
    measured.default = _run(24, 34.3, 26.0)  # 0.5 s per further notebook
    verdicts = [result.verdict for result in bench.bench_projection(measured)]
    assert "PASS" in verdicts


def test_a_runs_rows_are_its_assignments_only(tmp_path: Path) -> None:
    """grades.csv covers the whole course, so after another assignment's grading it holds
    that one's rows too, learners added since among them as missing. Does the bench read
    only the rows of the assignment it graded (the others once failed the grading section
    as 'correct submissions were not graded cleanly', and counted in its per-notebook
    figures)?"""
    grades = tmp_path / "grades.csv"
    grades.write_text(
        "student,assignment,status\n"
        "s000,05-return-flags,graded\n"
        "s000,trivial,graded\n"
        "s006,trivial,missing\n"
        "s006,05-return-flags,graded\n",
        encoding="utf-8",
    )
    rows = bench.graded_rows(grades, "05-return-flags")
    assert [(row["student"], row["status"]) for row in rows] == [
        ("s000", "graded"),
        ("s006", "graded"),
    ]
