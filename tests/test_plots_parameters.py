"""Tests for lstm_lib.plots.parameters: param_breakdown and lstm_weight_layout."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

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
