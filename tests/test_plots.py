"""Tests for lstm_lib.plots: each figure draws the numbers it is given, legibly."""

from __future__ import annotations

import ast
import doctest
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

# Before pyplot is imported anywhere in this process: no display, and the same pixels
# wherever the tests run.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import AxesImage
from matplotlib.text import Text

from lstm_lib import plots
from lstm_lib.reference import LSTMTrace

PLOTS_SOURCE = Path(plots.__file__)
STATES = {"LSTM": ["h", "c"], "GRU": ["h"], "SimpleRNN": ["h"]}
FLAGS = list(itertools.product([False, True], repeat=2))


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts and ends with no open figure, so none leaks into the next."""
    plt.close("all")
    yield
    plt.close("all")


def make_trace(batch: int = 2, timesteps: int = 7, units: int = 3, seed: int = 0) -> LSTMTrace:
    """Run the LSTM recurrence on random pre-activations, so c and h are consistent."""
    rng = np.random.default_rng(seed)
    shape = (batch, timesteps, units)
    i, f, o = (1 / (1 + np.exp(-2 * rng.normal(size=shape))) for _ in range(3))
    c_tilde = np.tanh(2 * rng.normal(size=shape))
    c = np.zeros(shape)
    for t in range(timesteps):
        previous = c[:, t - 1] if t else 0.0
        c[:, t] = f[:, t] * previous + i[:, t] * c_tilde[:, t]
    return LSTMTrace(i=i, f=f, c_tilde=c_tilde, o=o, c=c, h=o * np.tanh(c))


def gids(fig, prefix: str) -> list[str]:
    return [a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith(prefix)]


def returned_in_order(fig) -> list[str]:
    """Names of the outlined returned tensors, ordered by their index in Keras's list."""
    tagged = [gid.split(":") for gid in gids(fig, "returned:")]
    return [name for _, _, name in sorted(tagged, key=lambda parts: int(parts[1]))]


def listed_returns(fig) -> list[tuple[str, str]]:
    """(name, shape) pairs from the "returns [...]" line of the title, in written order."""
    title = fig.axes[0].get_title()
    listing = re.search(r"returns \[(.*)\]", title).group(1)
    return re.findall(r"(\w+) (\(batch[^)]*\))", listing)


def drawn_texts(fig) -> list[Text]:
    """The non-empty texts a render shows, tick labels only for ticks inside the view."""
    fig.canvas.draw()
    texts, tick_labels = [], set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                shown = (
                    ax.axison and axis.get_visible() and low - span <= tick.get_loc() <= high + span
                )
                for label in (tick.label1, tick.label2):
                    tick_labels.add(id(label))
                    if shown and label.get_visible() and label.get_text().strip():
                        texts.append(label)
    for text in fig.findobj(Text):
        if id(text) not in tick_labels and text.get_visible() and text.get_text().strip():
            texts.append(text)
    return texts


def layout_problems(fig) -> list[str]:
    """Pairs of texts that overlap, and texts that run off the figure."""
    texts = drawn_texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in texts]
    frame = fig.bbox
    problems = []
    for text, box in zip(texts, boxes, strict=True):
        if (
            box.x0 < frame.x0 - 1
            or box.x1 > frame.x1 + 1
            or box.y0 < frame.y0 - 1
            or box.y1 > frame.y1 + 1
        ):
            problems.append(f"{text.get_text()!r} runs off the figure")
    for (a, box_a), (b, box_b) in itertools.combinations(zip(texts, boxes, strict=True), 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        # A pixel of slack: neighbouring labels may share an anti-aliased edge.
        if width > 1 and height > 1:
            problems.append(f"{a.get_text()!r} overlaps {b.get_text()!r}")
    return problems


# --- the module itself -----------------------------------------------------------------


def test_import_loads_neither_matplotlib_nor_tensorflow():
    """Does `import lstm_lib.plots` in a fresh interpreter leave matplotlib and TF unloaded?"""
    code = (
        "import sys, lstm_lib.plots\n"
        "heavy = {'matplotlib', 'tensorflow', 'keras'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_source_never_imports_keras_and_imports_matplotlib_only_in_functions():
    """Is matplotlib imported only inside functions, and TensorFlow/Keras nowhere at all?"""
    tree = ast.parse(PLOTS_SOURCE.read_text())
    all_imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    names = [
        alias.name for node in all_imports if isinstance(node, ast.Import) for alias in node.names
    ]
    names += [node.module or "" for node in all_imports if isinstance(node, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in {"tensorflow", "keras"}]
    top_level = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    top_names = [
        alias.name for node in top_level if isinstance(node, ast.Import) for alias in node.names
    ]
    top_names += [node.module or "" for node in top_level if isinstance(node, ast.ImportFrom)]
    assert not [n for n in top_names if n.startswith("matplotlib")]


def test_docstring_examples_run():
    """Do the examples in every docstring run and print what they claim?"""
    result = doctest.testmod(plots, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= len(plots.__all__)
    assert result.failed == 0


def every_figure():
    trace = make_trace()
    table = np.random.default_rng(1).normal(size=(10, 4))
    vectors = np.random.default_rng(2).normal(size=(8, 6))
    history = {"loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.8, 0.7]}
    return [
        plots.unrolled_rnn(4, return_sequences=True, return_state=True),
        plots.gate_activations(trace, unit=0),
        plots.gate_activations(trace),
        plots.param_breakdown({"kernel W": 24, "recurrent kernel U": 16, "bias b": 8}),
        plots.lstm_weight_layout(3, 2),
        plots.embedding_lookup([3, 7, 3, 1], table),
        plots.training_curve(history),
        plots.embedding_scatter(vectors, list("abcdefgh")),
    ]


def test_functions_return_figures_and_leave_global_style_alone(monkeypatch):
    """Does every function return a Figure, never call plt.show, and keep rcParams intact?"""
    from matplotlib.figure import Figure

    def no_show(*args, **kwargs):
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    before = dict(matplotlib.rcParams)
    figures = every_figure()
    assert all(isinstance(fig, Figure) for fig in figures)
    assert dict(matplotlib.rcParams) == before


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


def _keras():
    # Under CI a missing Keras is a broken install, not a reason to skip.
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        import keras

        return keras
    return pytest.importorskip("keras")


def test_unrolled_agrees_with_live_keras():
    """Does the figure list the same tensors, with the same shapes, as Keras returns?"""
    keras = _keras()
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


def test_gates_single_unit_layer_uses_lines():
    """With a one-unit layer and no unit given, are lines drawn rather than 1-row heatmaps?"""
    fig = plots.gate_activations(make_trace(units=1))
    assert len(fig.axes) == 3
    assert not any(isinstance(a, AxesImage) for a in fig.findobj())
    plt.close(fig)


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
    ],
)
def test_gates_reject_inconsistent_traces(trace, kwargs, message):
    """Do mismatched, missing or impossible arrays raise a ValueError that says which?"""
    with pytest.raises(ValueError, match=message):
        plots.gate_activations(trace, **kwargs)


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


# --- embedding_lookup ------------------------------------------------------------------


def test_embedding_lookup_draws_table_and_looked_up_rows():
    """Are the table and table[indices] drawn, with one outline per highlighted position?"""
    table = np.random.default_rng(0).normal(size=(10, 4))
    indices = np.array([3, 7, 3, 1])
    fig = plots.embedding_lookup(indices, table)
    ax_ids, ax_table, ax_out = fig.axes[:3]
    assert len(fig.axes) == 4  # and the colorbar
    np.testing.assert_allclose(ax_table.get_images()[0].get_array(), table)
    np.testing.assert_allclose(ax_out.get_images()[0].get_array(), table[indices])
    assert [p.get_gid() for p in ax_table.patches] == [
        "lookup:0:3",
        "lookup:1:7",
        "lookup:2:3",
        "lookup:3:1",
    ]
    assert [t.get_text() for t in ax_ids.texts] == ["3", "7", "3", "1"]
    plt.close(fig)


def test_embedding_lookup_highlight_selects_positions():
    """Does highlight= outline only the chosen positions of the sequence?"""
    table = np.arange(12.0).reshape(6, 2)
    fig = plots.embedding_lookup([5, 0, 2], table, highlight=[2, 0])
    assert [p.get_gid() for p in fig.axes[1].patches] == ["lookup:0:5", "lookup:2:2"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("indices", "table", "kwargs", "message"),
    [
        (
            [1, 10, 2],
            np.zeros((10, 3)),
            {},
            r"index 10 at position 1 is out of range .* input_dim=10",
        ),
        ([-1], np.zeros((10, 3)), {}, "index -1 at position 0 is out of range"),
        ([1.5, 2], np.zeros((10, 3)), {}, "indices must be integers"),
        ([[1, 2, 3]], np.zeros((10, 3)), {}, r"pass one sequence, e\.g\. indices\[0\]"),
        ([], np.zeros((10, 3)), {}, "non-empty 1-D"),
        ([1, 2], np.zeros(10), {}, "table must be a non-empty 2-D array"),
        ([1, 2], np.zeros((10, 3)), {"highlight": 2}, r"highlight must hold positions"),
    ],
)
def test_embedding_lookup_rejects_bad_inputs(indices, table, kwargs, message):
    """Do out-of-range ids, non-integers, batches and bad tables raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.embedding_lookup(indices, table, **kwargs)


# --- training_curve --------------------------------------------------------------------


def test_training_curve_one_panel_per_metric_with_validation_twin():
    """Is there a panel per metric, each with its val_ line when the history has one?"""
    history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    fig = plots.training_curve(SimpleNamespace(history=history), metrics=("loss", "accuracy"))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["training", "validation"]
    np.testing.assert_allclose(loss_lines[1].get_ydata(), history["val_loss"])
    assert list(loss_lines[0].get_xdata()) == [1, 2, 3]  # epochs as Keras counts them
    assert len(fig.axes[1].get_lines()) == 1
    plt.close(fig)


def test_training_curve_accepts_a_single_metric_name():
    """Is metrics="loss" read as one metric, not as four one-letter names?"""
    fig = plots.training_curve({"loss": [1.0, 0.5]}, metrics="loss")
    assert len(fig.axes) == 1
    plt.close(fig)


@pytest.mark.parametrize(
    ("history", "metrics", "message"),
    [
        ({"loss": [1.0]}, ("accuracy",), r"no 'accuracy'; it has \['loss'\]"),
        ({"loss": []}, ("loss",), "non-empty list"),
        ([1.0, 0.5], ("loss",), "history must be a dict"),
        ({"loss": [1.0]}, (), "metrics is empty"),
    ],
)
def test_training_curve_rejects_bad_history(history, metrics, message):
    """Do a missing metric, an empty record or a non-mapping raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.training_curve(history, metrics=metrics)


# --- embedding_scatter -----------------------------------------------------------------


def test_embedding_scatter_2d_draws_vectors_as_given():
    """Are two-dimensional vectors drawn where they are, each with its label?"""
    vectors = np.array([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]])
    fig = plots.embedding_scatter(vectors, ["a", "b", "c"])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), vectors)
    assert [text.get_text() for text in ax.texts] == ["a", "b", "c"]
    plt.close(fig)


# Few examples: each one renders the figure to place its labels.
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), dim=st.integers(3, 12), n=st.integers(3, 8))
def test_embedding_scatter_pca_keeps_distances_of_planar_points(seed, dim, n):
    """Do vectors lying in a plane keep their pairwise distances after the PCA projection?"""
    rng = np.random.default_rng(seed)
    plane, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
    vectors = rng.normal(size=(n, 2)) @ plane.T + rng.normal(size=dim)
    fig = plots.embedding_scatter(vectors, [f"w{k}" for k in range(n)])
    projected = np.asarray(fig.axes[0].collections[0].get_offsets())

    def distances(points):
        return np.linalg.norm(points[:, None] - points[None], axis=-1)

    np.testing.assert_allclose(distances(projected), distances(vectors), atol=1e-9)
    plt.close(fig)


@pytest.mark.parametrize(
    ("vectors", "labels", "message"),
    [
        (np.zeros((3, 4)), ["a", "b"], "got 2 labels for 3 vectors"),
        (np.zeros((3, 1)), ["a", "b", "c"], "at least 2 dimensions"),
        (np.zeros(4), ["a"], "non-empty 2-D array"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), ["a", "b"], "NaN or infinite"),
    ],
)
def test_embedding_scatter_rejects_bad_inputs(vectors, labels, message):
    """Do mismatched labels, 1-D vectors or NaNs raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.embedding_scatter(vectors, labels)


# --- legibility ------------------------------------------------------------------------


def legibility_cases():
    rng = np.random.default_rng(3)
    words = "the cat sat on a mat dog ran to park big small red blue king queen".split()
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
        "lookup-small": lambda: plots.embedding_lookup([3, 7, 3, 1, 0], rng.normal(size=(10, 4))),
        "lookup-large": lambda: plots.embedding_lookup(
            rng.integers(0, 1000, size=20), rng.normal(size=(1000, 16)), highlight=[2, 5]
        ),
        "training": lambda: plots.training_curve(
            {
                "loss": list(np.linspace(1, 0.2, 20)),
                "val_loss": list(np.linspace(1.1, 0.4, 20)),
                "accuracy": list(np.linspace(0.4, 0.9, 20)),
            },
            metrics=("loss", "accuracy"),
        ),
        "scatter": lambda: plots.embedding_scatter(rng.normal(size=(len(words), 16)), words),
    }
    return cases


LEGIBILITY = legibility_cases()


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_no_text_overlaps_or_runs_off_at_default_size(case):
    """At the default size, does every label stay clear of the others and inside the figure?"""
    fig = LEGIBILITY[case]()
    assert layout_problems(fig) == []
    plt.close(fig)
