"""Tests for lstm_lib.plots.course: assignment_sizes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plots_helpers import layout_problems

from lstm_lib import plots

pytestmark = pytest.mark.usefixtures("close_figures")

COURSE = {
    "02-dense": (7, 9),
    "05-return-flags": (9, 10),
    "07-gru-bidirectional": (10, 14),
    "09-keras2-to-keras3": (9, 11),
}


def bars(fig, kind: str) -> dict[str, float]:
    """The width of each bar of one kind (``questions`` or ``points``), by assignment."""
    return {
        patch.get_gid().split(":", 1)[1]: patch.get_width()
        for patch in fig.axes[0].patches
        if (patch.get_gid() or "").startswith(f"{kind}:")
    }


def legend_overlaps(fig) -> list[str]:
    """The bars and number labels that the legend's box covers, after a render."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    legend = ax.get_legend().get_window_extent(renderer)
    covered = [
        f"bar {patch.get_gid()}"
        for patch in ax.patches
        if patch.get_window_extent(renderer).overlaps(legend)
    ]
    covered += [
        f"label {text.get_text()!r}"
        for text in ax.texts
        if text.get_window_extent(renderer).overlaps(legend)
    ]
    return covered


def test_assignment_sizes_draw_questions_and_points_with_their_numbers():
    """Is there a questions bar and a points bar per assignment, in the given order from the
    top, each as long as its count and labelled with it?"""
    fig = plots.assignment_sizes(COURSE)
    (ax,) = fig.axes
    assert bars(fig, "questions") == {name: q for name, (q, _) in COURSE.items()}
    assert bars(fig, "points") == {name: p for name, (_, p) in COURSE.items()}
    assert [label.get_text() for label in ax.get_yticklabels()] == list(COURSE)
    assert ax.yaxis_inverted()
    numbers = sorted(text.get_text() for text in ax.texts)
    assert numbers == sorted(str(n) for pair in COURSE.values() for n in pair)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["questions", "points"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.dictionaries(
        st.from_regex(r"[0-9][0-9]-[a-z]{2,12}(-[a-z]{2,12})?", fullmatch=True),
        st.tuples(st.integers(0, 40), st.integers(0, 120)),
        min_size=1,
        max_size=12,
    )
)
def test_assignment_sizes_keep_the_legend_and_labels_clear(sizes):
    """For any course of 1 to 12 assignments, does the legend cover no bar and no number, and
    does no text overlap another or run off the figure?"""
    fig = plots.assignment_sizes(sizes)
    assert legend_overlaps(fig) == []
    assert layout_problems(fig) == []
    plt.close(fig)


def test_the_legend_check_sees_a_legend_over_the_bars():
    """Does the legend check catch a legend moved into the middle of the bars?"""
    fig = plots.assignment_sizes(COURSE)
    fig.axes[0].legend(loc="center")
    assert any(found.startswith("bar ") for found in legend_overlaps(fig))


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({}, "non-empty mapping"),
        ([("02-dense", (7, 9))], "non-empty mapping"),
        ({"02-dense": 7}, "a pair"),
        ({"02-dense": (7.5, 9)}, "questions must be a whole number"),
        ({"02-dense": (-1, 9)}, "questions must be a whole number"),
        ({"02-dense": (7, "9")}, "points must be a number"),
        ({"02-dense": (7, float("nan"))}, "finite number"),
    ],
)
def test_assignment_sizes_reject_bad_input(sizes, message):
    """Does malformed input raise a ValueError that says what is wrong?"""
    with pytest.raises(ValueError, match=message):
        plots.assignment_sizes(sizes)


LEGIBILITY = {"sizes": lambda: plots.assignment_sizes(COURSE)}
