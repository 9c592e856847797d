"""Tests for lstm_lib.plots.recurrence: unrolled_rnn and gate_activations."""

from __future__ import annotations

import itertools
import re
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import AxesImage
from plots_helpers import drawn_texts, make_trace

from lstm_lib import plots

STATES = {"LSTM": ["h", "c"], "GRU": ["h"], "SimpleRNN": ["h"]}
FLAGS = list(itertools.product([False, True], repeat=2))


pytestmark = pytest.mark.usefixtures("close_figures")


def gids(fig, prefix: str) -> list[str]:
    return [a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith(prefix)]


def returned_in_order(fig) -> list[str]:
    """Names of the outlined returned tensors, ordered by their index in Keras's tuple."""
    tagged = [gid.split(":") for gid in gids(fig, "returned:")]
    return [name for _, _, name in sorted(tagged, key=lambda parts: int(parts[1]))]


def listed_returns(fig) -> list[tuple[str, str]]:
    """(name, shape) pairs from the "returns ..." line of the title, in written order:
    "returns the tensor output (...)" or "returns the tuple (output (...), h (...))"."""
    title = fig.axes[0].get_title()
    listing = re.search(r"returns the (?:tensor (.*)|tuple \((.*)\))$", title, re.M)
    return re.findall(r"(\w+) (\(batch[^)]*\))", listing.group(1) or listing.group(2))


def badges(fig) -> list[str]:
    """The vermillion bold labels that name the returned tensors, as drawn."""
    return [
        text.get_text()
        for text in fig.axes[0].texts
        if text.get_fontweight() == "bold" and text.get_text().strip()
    ]


# --- unrolled_rnn ----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    timesteps=st.integers(1, 8),
    flags=st.sampled_from(FLAGS),
    cell=st.sampled_from(sorted(STATES)),
)
def test_unrolled_highlights_exactly_what_keras_returns(timesteps, flags, cell):
    """Are the tensors outlined as returned the ones Keras returns, in Keras's order?"""
    return_sequences, return_state = flags
    fig = plots.unrolled_rnn(
        timesteps, cell=cell, return_sequences=return_sequences, return_state=return_state
    )
    expected = ["output"] + (STATES[cell] if return_state else [])
    assert returned_in_order(fig) == expected
    assert [name for name, _ in listed_returns(fig)] == expected

    steps = [gid.split(":") for gid in gids(fig, "step:")]
    assert sorted(int(t) for _, t, _ in steps) == list(range(1, timesteps + 1))
    kept = sorted(int(t) for _, t, status in steps if status == "returned")
    assert kept == (list(range(1, timesteps + 1)) if return_sequences else [timesteps])

    state_status = {gid.split(":")[1]: gid.split(":")[2] for gid in gids(fig, "state:")}
    wanted = "returned" if return_state else "dropped"
    assert state_status == dict.fromkeys(STATES[cell], wanted)
    plt.close(fig)


@pytest.mark.parametrize(("return_sequences", "return_state"), FLAGS)
def test_unrolled_title_gives_keras_shapes(return_sequences, return_state):
    """With units and features given, does the title write each returned shape in numbers?"""
    fig = plots.unrolled_rnn(
        3, return_sequences=return_sequences, return_state=return_state, units=2, features=1
    )
    output = "(batch, 3, 2)" if return_sequences else "(batch, 2)"
    expected = [("output", output)] + (
        [("h", "(batch, 2)"), ("c", "(batch, 2)")] if return_state else []
    )
    assert listed_returns(fig) == expected
    assert "LSTM(2) on input (batch, 3, 1)" in fig.axes[0].get_title()
    plt.close(fig)


def test_unrolled_title_is_symbolic_without_sizes():
    """Without units or features, does the title use Keras's names for the axes?"""
    fig = plots.unrolled_rnn(5, cell="gru", return_sequences=True, return_state=True)
    assert listed_returns(fig) == [("output", "(batch, timesteps, units)"), ("h", "(batch, units)")]
    assert fig.axes[0].get_title().startswith("GRU on input (batch, timesteps, features)")
    plt.close(fig)


def test_unrolled_agrees_with_live_keras():
    """Does the figure list the same tensors, with the same shapes, as Keras returns?"""
    # Skipped without Keras locally; under CI a missing Keras is a broken install: a failure.
    keras = require_module("keras", "Keras (pip install .[keras])")
    timesteps, features, units = 4, 3, 5
    for cell, (return_sequences, return_state) in itertools.product(sorted(STATES), FLAGS):
        layer = getattr(keras.layers, cell)(
            units, return_sequences=return_sequences, return_state=return_state
        )
        result = layer(keras.Input(shape=(timesteps, features)))
        tensors = result if isinstance(result, list | tuple) else [result]
        keras_shapes = [
            "(" + ", ".join("batch" if d is None else str(d) for d in tensor.shape) + ")"
            for tensor in tensors
        ]
        fig = plots.unrolled_rnn(
            timesteps,
            cell=cell,
            return_sequences=return_sequences,
            return_state=return_state,
            units=units,
            features=features,
        )
        assert [shape for _, shape in listed_returns(fig)] == keras_shapes, (cell, layer)
        assert len(gids(fig, "returned:")) == len(tensors)
        plt.close(fig)


def keras_shape_texts(result) -> list[str]:
    """The shapes of what a layer returned, written as the figures write them."""
    tensors = result if isinstance(result, list | tuple) else [result]
    return [
        "(" + ", ".join("batch" if d is None else str(d) for d in tensor.shape) + ")"
        for tensor in tensors
    ]


def test_unrolled_layer_reads_everything_from_the_layer():
    """Drawn from a real layer alone, does the figure name its class, units, input shape
    and the very tensors that layer returned, for every class, wrapping and flag pair?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    timesteps, features, units = 4, 3, 5
    for cell, (return_sequences, return_state) in itertools.product(sorted(STATES), FLAGS):
        flags = {"return_sequences": return_sequences, "return_state": return_state}
        plain = getattr(keras.layers, cell)(units, **flags)
        wrapped = keras.layers.RNN(getattr(keras.layers, f"{cell}Cell")(units), **flags)
        for layer in (plain, wrapped):
            result = layer(keras.Input(shape=(timesteps, features)))
            fig = plots.unrolled_layer(layer)
            title = fig.axes[0].get_title()
            assert title.startswith(f"{cell}({units}) on input (batch, {timesteps}, {features})")
            assert [shape for _, shape in listed_returns(fig)] == keras_shape_texts(result)
            assert returned_in_order(fig) == ["output"] + (STATES[cell] if return_state else [])
            kept = [gid for gid in gids(fig, "step:") if gid.endswith(":returned")]
            assert len(kept) == (timesteps if return_sequences else 1)
            plt.close(fig)


def test_unrolled_layer_reads_the_sequence_of_a_decoder_given_initial_state():
    """A decoder called with initial_state records its input under another key: is its
    sequence still the one drawn?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    _, h, c = keras.layers.LSTM(3, return_state=True)(keras.Input(shape=(4, 2)))
    decoder = keras.layers.LSTM(3, return_sequences=True)
    result = decoder(keras.Input(shape=(6, 5)), initial_state=[h, c])
    fig = plots.unrolled_layer(decoder)
    assert fig.axes[0].get_title().startswith("LSTM(3) on input (batch, 6, 5)")
    assert [shape for _, shape in listed_returns(fig)] == keras_shape_texts(result)


def test_unrolled_layer_asks_for_what_the_layer_does_not_know():
    """Unbuilt, or built for any length: must timesteps be given, and agree when known?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    with pytest.raises(ValueError, match="pass timesteps="):
        plots.unrolled_layer(keras.layers.GRU(2))
    any_length = keras.layers.SimpleRNN(3)
    any_length(keras.Input(shape=(None, 2)))
    with pytest.raises(ValueError, match="pass timesteps="):
        plots.unrolled_layer(any_length)
    fig = plots.unrolled_layer(any_length, timesteps=7)
    assert fig.axes[0].get_title().startswith("SimpleRNN(3) on input (batch, 7, 2)")
    with pytest.raises(ValueError, match="features=4 disagrees"):
        plots.unrolled_layer(any_length, timesteps=7, features=4)
    fixed = keras.layers.LSTM(2)
    fixed(keras.Input(shape=(5, 1)))
    with pytest.raises(ValueError, match="timesteps=6 disagrees"):
        plots.unrolled_layer(fixed, timesteps=6)
    with pytest.raises(ValueError, match="expected an LSTM, GRU or SimpleRNN"):
        plots.unrolled_layer(keras.layers.Dense(2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timesteps": 0}, "timesteps must be a positive integer"),
        ({"timesteps": 2.5}, "timesteps must be a positive integer"),
        ({"timesteps": True}, "timesteps must be a positive integer"),
        ({"timesteps": 3, "cell": "Transformer"}, "cell must be one of"),
        ({"timesteps": 3, "units": 0}, "units must be a positive integer"),
        ({"timesteps": 3, "features": "3"}, "features must be a positive integer"),
    ],
)
def test_unrolled_rejects_bad_arguments(kwargs, message):
    """Do impossible sizes or an unknown cell raise a ValueError that names the argument?"""
    timesteps = kwargs.pop("timesteps")
    with pytest.raises(ValueError, match=message):
        plots.unrolled_rnn(timesteps, **kwargs)


@pytest.mark.parametrize("cell", sorted(STATES))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_unrolled_calls_one_tensor_a_tensor_and_a_tuple_a_tuple(cell, return_sequences):
    """Chapter 05 asks "one tensor or a list?": does the figure answer as Keras does, a
    single tensor titled and badged as a tensor, and a list (return_state) as a list?"""
    single = plots.unrolled_rnn(3, cell=cell, return_sequences=return_sequences, units=2)
    title = single.axes[0].get_title()
    assert "returns the tensor output (batch, " in title
    assert "[" not in title
    assert badges(single) == ["output"]

    listed = plots.unrolled_rnn(
        3, cell=cell, return_sequences=return_sequences, return_state=True, units=2
    )
    title = listed.axes[0].get_title()
    assert "returns the tuple (output (batch, " in title
    expected = ["[0] output"] + [f"[{k}]" for k in range(1, len(STATES[cell]) + 1)]
    assert sorted(badges(listed)) == sorted(expected)
    plt.close("all")


@pytest.mark.parametrize("return_sequences", [False, True])
def test_unrolled_lstm_states_read_top_down_in_keras_order(return_sequences):
    """Keras returns [output, h, c]: are the LSTM's final states drawn h above c, so the
    badges [0], [1], [2] run from the top of the figure down, as the tuple does?"""
    fig = plots.unrolled_rnn(4, return_sequences=return_sequences, return_state=True)
    renderer = fig.canvas.get_renderer()
    heights = {}
    for artist in fig.findobj():
        gid = str(artist.get_gid())
        if gid.startswith("returned:"):
            _, index, name = gid.split(":")
            box = artist.get_window_extent(renderer)
            heights[int(index)] = (name, (box.y0 + box.y1) / 2)
    assert [heights[k][0] for k in sorted(heights)] == ["output", "h", "c"]
    centres = [heights[k][1] for k in sorted(heights)]
    assert centres == sorted(centres, reverse=True), heights
    # The final-state boxes and the lanes between the cells follow the same order.
    state_y = {
        str(a.get_gid()).split(":")[1]: a.get_window_extent(renderer).y0
        for a in fig.findobj()
        if str(a.get_gid()).startswith("state:")
    }
    assert state_y["h"] > state_y["c"]
    numbered = {
        text.get_text(): text.get_window_extent(renderer).y0
        for text in fig.axes[0].texts
        if text.get_text() in ("[1]", "[2]")
    }
    assert numbered["[1]"] > numbered["[2]"]
    plt.close(fig)


# --- gate_activations ------------------------------------------------------------------


def test_gates_one_unit_draws_that_units_values():
    """For one unit, are there three panels plotting exactly that unit's numbers?"""
    trace = make_trace()
    fig = plots.gate_activations(trace, sample=1, unit=2)
    assert len(fig.axes) == 3
    plotted = {
        line.get_label(): line.get_ydata()
        for ax in fig.axes
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }
    assert len(plotted) == 6
    by_field = {
        "i": "$i_t$ input",
        "f": "$f_t$ forget",
        "o": "$o_t$ output",
        "c_tilde": "$\\tilde{c}_t$",
        "c": "$c_t$ cell",
        "h": "$h_t$ hidden",
    }
    for field, label in by_field.items():
        np.testing.assert_allclose(plotted[label], getattr(trace, field)[1, :, 2])
    plt.close(fig)


def test_gates_all_units_draws_heatmaps_of_the_sample():
    """For all units, are there six heatmaps (units x timesteps) and two colorbars?"""
    trace = make_trace(units=4)
    fig = plots.gate_activations(trace, sample=0)
    images = [image for ax in fig.axes for image in ax.get_images()]
    assert len(fig.axes) == 8
    assert len(images) == 6
    np.testing.assert_allclose(images[0].get_array(), trace.i[0].T)
    np.testing.assert_allclose(images[4].get_array(), trace.c[0].T)
    assert images[0].get_clim() == (0.0, 1.0)
    plt.close(fig)


@pytest.mark.parametrize("kwargs", [{"unit": 1}, {}])
def test_gates_text_is_at_least_nine_points(kwargs):
    """Are the gate figure's legends (and every other text of it) at least 9 pt, the size
    that stays readable once a phone shrinks the figure to its width?"""
    fig = plots.gate_activations(make_trace(units=4), **kwargs)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    if "unit" in kwargs:
        assert len(legends) == 3
    for legend in legends:
        assert all(text.get_fontsize() >= 9 for text in legend.get_texts())
    assert all(text.get_fontsize() >= 9 for text in drawn_texts(fig)), sorted(
        {text.get_fontsize() for text in drawn_texts(fig)}
    )
    plt.close(fig)


def test_gates_single_unit_layer_uses_lines():
    """With a one-unit layer and no unit given, are lines drawn rather than 1-row heatmaps?"""
    fig = plots.gate_activations(make_trace(units=1))
    assert len(fig.axes) == 3
    assert not any(isinstance(a, AxesImage) for a in fig.findobj())
    plt.close(fig)


@pytest.mark.parametrize("kwargs", [{"unit": 1}, {}])
def test_gates_marked_step_is_a_vertical_line_on_every_panel_named_once(kwargs):
    """With ``marked_step``, does every panel (lines or heatmaps) get a vertical line at that
    step, and the first panel, only, the step's name?"""
    fig = plots.gate_activations(make_trace(units=4), marked_step=3, marked_label="flag", **kwargs)
    panels = [ax for ax in fig.axes if ax.get_lines() or ax.get_images()]
    assert len(panels) == (3 if "unit" in kwargs else 6)
    for ax in panels:
        vertical = [line for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0]
        assert [line.get_xdata()[0] for line in vertical] == [3]
    named = [text.get_text().strip() for ax in fig.axes for text in ax.texts]
    assert named.count("flag") == 1 and "flag" in [t.get_text().strip() for t in panels[0].texts]
    unmarked = plots.gate_activations(make_trace(units=4), **kwargs)
    assert not [t for ax in unmarked.axes for t in ax.texts if t.get_text().strip() == "flag"]
    plt.close("all")


def _broken(**changes):
    fields = vars(make_trace()).copy()
    fields.update(changes)
    return SimpleNamespace(**fields)


@pytest.mark.parametrize(
    ("trace", "kwargs", "message"),
    [
        (_broken(c=np.zeros((2, 6, 3))), {}, "same shape"),
        (_broken(h=np.zeros((7, 3))), {}, "must be 3-D"),
        (SimpleNamespace(i=1, f=1), {}, "missing: c_tilde, o, c, h"),
        (_broken(f=np.full((2, 7, 3), 2.0)), {}, r"gate f must lie in \[0, 1\]"),
        (make_trace(), {"sample": 2}, r"sample must be an integer in \[0, 2\)"),
        (make_trace(), {"unit": 3}, r"unit must be None or an integer in \[0, 3\)"),
        (make_trace(), {"unit": 1.0}, "unit must be None or an integer"),
        (make_trace(), {"marked_step": 7}, r"marked_step must be None or an integer in \[0, 7\)"),
        (make_trace(), {"unit": 0, "marked_step": -1}, "marked_step must be None or an integer"),
        (make_trace(), {"marked_step": 2.0}, "marked_step must be None or an integer"),
    ],
)
def test_gates_reject_inconsistent_traces(trace, kwargs, message):
    """Do mismatched, missing or impossible arrays raise a ValueError that says which?"""
    with pytest.raises(ValueError, match=message):
        plots.gate_activations(trace, **kwargs)


# --- legibility ------------------------------------------------------------------------


def legibility_cases():
    # Eight steps is the most the docstring promises; every flag pair changes the labels.
    cases = {
        f"unrolled-LSTM-8-{int(rs)}{int(rst)}": (
            lambda rs=rs, rst=rst: plots.unrolled_rnn(
                8, return_sequences=rs, return_state=rst, units=64, features=300
            )
        )
        for rs, rst in FLAGS
    }
    cases |= {
        "unrolled-GRU-8-11": lambda: plots.unrolled_rnn(
            8, cell="GRU", return_sequences=True, return_state=True
        ),
        "unrolled-1": lambda: plots.unrolled_rnn(1, return_state=True),
        "gates-unit": lambda: plots.gate_activations(make_trace(timesteps=12), unit=1),
        "gates-all": lambda: plots.gate_activations(make_trace(batch=1, timesteps=40, units=16)),
    }
    return cases


LEGIBILITY = legibility_cases()
