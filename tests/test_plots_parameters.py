"""Tests for lstm_lib.plots.parameters: param_breakdown and lstm_weight_layout."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_lib import plots

pytestmark = pytest.mark.usefixtures("close_figures")


# --- param_breakdown -------------------------------------------------------------------


def test_param_breakdown_bars_and_total():
    """Is there one bar per row, as long as its count, with the counts and total written?"""
    rows = [("kernel W", 24), ("recurrent kernel U", 16), ("bias b", 8)]
    fig = plots.param_breakdown(rows)
    ax = fig.axes[0]
    bars = [patch for patch in ax.patches if str(patch.get_gid()).startswith("bar:")]
    assert [bar.get_gid() for bar in bars] == [f"bar:{label}" for label, _ in rows]
    assert [bar.get_width() for bar in bars] == [24, 16, 8]
    assert ax.get_title() == "Total: 24 + 16 + 8 = 48 parameters"
    written = [text.get_text() for text in ax.texts]
    assert written == ["24  (50%)", "16  (33%)", "8  (17%)"]
    plt.close(fig)


def written_percents(fig) -> list[int]:
    """The whole percents a chart's annotations write, "<1%" read as 0."""
    found = [re.search(r"\((<1|\d+)%\)", text.get_text()) for text in fig.axes[0].texts]
    return [0 if m.group(1) == "<1" else int(m.group(1)) for m in found if m]


def test_param_breakdown_shares_of_chapter_02s_model_add_up_to_100():
    """Do the shares of chapter 02's model, 128, 16, 16 and 1 parameters, read 79%, 10%,
    10% and 1%, where rounding each on its own wrote 80% + 10% + 10% + 1% = 101%?"""
    fig = plots.param_breakdown({"W": 128, "b": 16, "W2": 16, "b2": 1})
    assert written_percents(fig) == [79, 10, 10, 1]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(counts=st.lists(st.integers(0, 10**6), min_size=1, max_size=8).filter(any))
def test_param_breakdown_shares_add_up_to_100_and_stay_within_a_point(counts):
    """For any counts, do the written shares add up to 100%, each within one point of the
    exact share, with "<1%" only beside a non-zero count under one percent?"""
    fig = plots.param_breakdown({f"row {k}": count for k, count in enumerate(counts)})
    written = [text.get_text() for text in fig.axes[0].texts]
    nonzero = [count for count in counts if count]
    percents = written_percents(fig)
    assert len(percents) == len(nonzero)
    assert sum(percents) == 100 or (sum(percents) < 100 and any("<1%" in w for w in written))
    for count, percent in zip(nonzero, percents, strict=True):
        assert abs(100 * count / sum(counts) - percent) < 1
    plt.close(fig)


def test_param_breakdown_accepts_a_mapping_and_big_counts():
    """Does a mapping work like pairs, with separators and no "0%" beside a small count?"""
    rows = {"embedding": 1_280_000, "lstm": 98_816, "dropout": 0, "dense": 65}
    fig = plots.param_breakdown(rows)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(rows)
    assert "1,378,881 parameters" in ax.get_title()
    assert [text.get_text() for text in ax.texts][2:] == ["0", "65  (<1%)"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({}, "rows is empty"),
        ([("bias", -1)], "non-negative integer"),
        ([("bias", 2.5)], "non-negative integer"),
        ([("bias", 2, 3)], r"\(label, count\) pair"),
        ("kernel", "mapping label -> count"),
    ],
)
def test_param_breakdown_rejects_bad_rows(rows, message):
    """Do empty rows, negative or fractional counts and non-pairs raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.param_breakdown(rows)


# --- lstm_weight_layout ----------------------------------------------------------------


@pytest.mark.parametrize(("features", "units", "total"), [(1, 2, 32), (3, 2, 48)])
def test_weight_layout_shows_formula_with_documented_totals(features, units, total):
    """Does the layout show twelve gate blocks and the parameter formula's value?"""
    fig = plots.lstm_weight_layout(features, units)
    ax = fig.axes[0]
    blocks = {patch.get_gid(): patch for patch in ax.patches if patch.get_gid()}
    assert sorted(blocks) == sorted(f"{w}:{g}" for w in "WUb" for g in "ifco")
    widths = {round(patch.get_width(), 9) for patch in blocks.values()}
    assert len(widths) == 1  # every gate group is `units` columns wide
    assert ax.get_title().endswith(f"= {total} parameters")
    counts = [t.get_text() for t in ax.texts if "=" in t.get_text() or t.get_text().isdigit()]
    assert f"{features} × {4 * units} = {features * 4 * units}" in counts
    assert str(4 * units) in counts
    plt.close(fig)


def test_weight_layout_large_layer_says_not_to_scale():
    """Is a layer too big to draw cell by cell drawn in blocks, and labelled not to scale?"""
    fig = plots.lstm_weight_layout(300, 64)
    assert "not to scale" in fig.axes[0].get_title()
    assert "93,440 parameters" in fig.axes[0].get_title()
    plt.close(fig)


@pytest.mark.parametrize(("features", "units"), [(0, 2), (3, -1), (3, 2.0), (True, 2)])
def test_weight_layout_rejects_non_positive_sizes(features, units):
    """Do zero, negative, float or bool sizes raise a ValueError?"""
    with pytest.raises(ValueError, match="must be a positive integer"):
        plots.lstm_weight_layout(features, units)


# --- legibility ------------------------------------------------------------------------


def legibility_cases():
    return {
        "params-blocks": lambda: plots.param_breakdown(
            {
                "kernel W (features × 4·units)": 24,
                "recurrent kernel U (units × 4·units)": 16,
                "bias b (4·units)": 8,
            }
        ),
        "params-model": lambda: plots.param_breakdown(
            [
                ("embedding (Embedding)", 1_280_000),
                ("lstm (LSTM)", 98_816),
                ("lstm_1 (LSTM)", 49_408),
                ("dropout (Dropout)", 0),
                ("dense (Dense)", 65),
            ]
        ),
        "layout-small": lambda: plots.lstm_weight_layout(3, 2),
        "layout-large": lambda: plots.lstm_weight_layout(300, 64),
    }


LEGIBILITY = legibility_cases()
