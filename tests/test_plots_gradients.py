"""Tests for lstm_lib.plots.gradients: gradient_by_distance."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from plots_helpers import drawn_texts, layout_problems

from lstm_lib.plots import _style
from lstm_lib.plots.gradients import gradient_by_distance

pytestmark = pytest.mark.usefixtures("close_figures")

TIMESTEPS = 40
DISTANCE = np.arange(TIMESTEPS)[::-1]  # input order: the last column is distance 0


def decays(factor: float, runs: int = 3) -> np.ndarray:
    """Norms of shape (runs, timesteps) that shrink by ``factor`` per step back."""
    return np.stack([(1 + 0.1 * k) * factor**DISTANCE for k in range(runs)])


def test_gradient_by_distance_draws_the_mean_against_distance_on_a_log_scale():
    """Is each curve the mean over runs, reversed so that x = 0 is the last step, on log y?"""
    norms = {"SimpleRNN": decays(0.7), "LSTM": decays(0.9)}
    fig = gradient_by_distance(norms)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "steps before the last one"
    assert ax.get_ylabel() == "gradient norm"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["SimpleRNN", "LSTM"]
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(TIMESTEPS))
    np.testing.assert_allclose(lines[0].get_ydata(), 1.1 * 0.7 ** np.arange(TIMESTEPS))
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["SimpleRNN", "LSTM"]
    plt.close(fig)


def test_gradient_by_distance_accepts_one_run_and_several_panels_with_titles():
    """Does a 1-D curve count as one run, and do panels share the y-axis under their titles?"""
    fig = gradient_by_distance(
        {"SimpleRNN": 0.7**DISTANCE},
        {"LSTM": decays(0.9)},
        titles=["untrained", "trained"],
    )
    left, right = fig.axes
    assert [left.get_title(), right.get_title()] == ["untrained", "trained"]
    assert right.get_shared_y_axes().joined(left, right)
    assert right.get_yscale() == "log"
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), 0.7 ** np.arange(TIMESTEPS))
    plt.close(fig)


def test_gradient_by_distance_curves_differ_beyond_colour_and_use_the_palette():
    """Do the curves differ in line style and marker too, in palette colours?"""
    from matplotlib.colors import to_hex

    fig = gradient_by_distance({"a": decays(0.7), "b": decays(0.8), "c": decays(0.9)})
    lines = fig.axes[0].get_lines()
    assert len({line.get_linestyle() for line in lines}) == 3
    assert len({line.get_marker() for line in lines}) == 3
    palette = {to_hex(colour) for colour in _style._CYCLE}
    assert {to_hex(line.get_color()) for line in lines} <= palette
    plt.close(fig)


def test_gradient_by_distance_text_is_readable():
    """Is every text at least 9 points, with nothing overlapping or running off, at the
    shared figure size?"""
    fig = gradient_by_distance(
        {"SimpleRNN": decays(0.68), "LSTM": decays(0.78), "LSTM, forget bias 3": decays(0.97)}
    )
    assert tuple(fig.get_size_inches()) == _style._FIGSIZE
    texts = drawn_texts(fig)
    assert texts
    assert min(text.get_fontsize() for text in texts) >= 9
    assert layout_problems(fig) == []
    plt.close(fig)


@pytest.mark.parametrize(
    ("panels", "kwargs", "message"),
    [
        ((), {}, "at least one panel"),
        (({},), {}, "non-empty mapping"),
        (({"x": np.ones((2, 3, 4))},), {}, r"shape \(runs, timesteps\)"),
        (({"x": [1.0]},), {}, "at least 2 timesteps"),
        (({"x": [1.0, 0.0]},), {}, "positive finite"),
        (({"x": [1.0, 0.5]},), {"titles": ["a", "b"]}, "2 entries for 1 panels"),
    ],
)
def test_gradient_by_distance_rejects_bad_input(panels, kwargs, message):
    """Do empty panels, wrong shapes, zeros (no log of them) and extra titles raise?"""
    with pytest.raises(ValueError, match=message):
        gradient_by_distance(*panels, **kwargs)


def test_importing_the_module_loads_neither_matplotlib_nor_tensorflow():
    """Does importing lstm_lib.plots.gradients in a fresh interpreter leave matplotlib,
    TensorFlow and Keras unloaded?"""
    code = (
        "import sys, lstm_lib.plots.gradients\n"
        "heavy = {'matplotlib', 'tensorflow', 'keras'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_docstring_example_runs():
    """Does the docstring example run and print what it claims?"""
    import doctest

    import lstm_lib.plots.gradients as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


LEGIBILITY = {
    "gradient_by_distance": lambda: gradient_by_distance(
        {"SimpleRNN": decays(0.68), "LSTM": decays(0.78)},
        {"LSTM, forget bias 3": decays(0.97)},
        titles=["fresh layers", "forget gate pushed open"],
    ),
}


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_no_text_overlaps_or_runs_off(case):
    """With two panels and titles, does every label stay clear of the others?"""
    fig = LEGIBILITY[case]()
    assert layout_problems(fig) == []
    plt.close(fig)
