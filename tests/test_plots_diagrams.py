"""Tests for lstm_lib.plots.diagrams: diagrams labelled from a real Keras layer.

Every shape a diagram writes must be the one the layer holds or Keras computes, so the tests
build small real layers and compare; they also check the diagrams stay legible at phone
width (no overlapping text, nothing under 9 pt, at most 7 in wide).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
from conftest import require_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.text import Text
from plots_helpers import drawn_texts, layout_problems, low_contrast_texts

from lstm_lib import plots
from lstm_lib.plots import diagrams

# Skipped without Keras locally; under CI a missing Keras is a broken install: a failure.
keras = require_module("keras", "Keras (pip install .[keras])")

pytestmark = pytest.mark.usefixtures("close_figures")


@pytest.fixture(scope="module", autouse=True)
def fresh_keras():
    """One clear Keras session for the file: clearing costs ~0.5 s, building a layer ~0.1 s."""
    keras.backend.clear_session()
    yield
    keras.backend.clear_session()


MAX_WIDTH_INCHES = 7.0
MIN_FONT_POINTS = 9.0


def shown_texts(fig) -> list[Text]:
    """The figure's visible, non-empty texts, the title included: the diagrams have no
    ticks, so unlike ``drawn_texts`` this needs no render."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def texts(fig) -> list[str]:
    return [text.get_text() for text in shown_texts(fig)]


def lines(fig) -> set[str]:
    """Every line of every text, so a two-line label's shape is found on its own."""
    return {line for text in texts(fig) for line in text.split("\n")}


def built(layer, timesteps: int, features: int):
    layer.build((None, timesteps, features))
    return layer


def lstm(units: int, features: int, **kwargs):
    return built(keras.layers.LSTM(units, **kwargs), 5, features)


def gru(units: int, features: int, **kwargs):
    return built(keras.layers.GRU(units, **kwargs), 5, features)


def shape_text(shape) -> str:
    """A shape as Keras prints it, ``batch`` for None: ``(batch, 3)``, ``(12,)``."""
    dims = ["batch" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"


def assert_legible(fig) -> None:
    """No text overlaps another or runs off; nothing under 9 pt; at most 7 in wide."""
    assert layout_problems(fig) == []
    assert len(shown_texts(fig)) == len(drawn_texts(fig))
    small = [(t.get_text(), t.get_fontsize()) for t in shown_texts(fig)]
    assert [pair for pair in small if pair[1] < MIN_FONT_POINTS] == []
    assert fig.get_size_inches()[0] <= MAX_WIDTH_INCHES


# --- the module ------------------------------------------------------------------------


def test_import_loads_neither_tensorflow_nor_matplotlib():
    """Does importing the diagrams, in a fresh interpreter, leave TF, Keras and matplotlib
    unloaded (the layer is read duck-typed, matplotlib imported on the first figure)?"""
    code = (
        "import sys, lstm_lib.plots.diagrams\n"
        "heavy = {'matplotlib', 'tensorflow', 'keras'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", diagrams.__all__)
def test_public_functions_are_documented_and_reexported(name):
    """Has each diagram a NumPy-style docstring with an example, and is it ``plots.<name>``?"""
    function = getattr(diagrams, name)
    doc = inspect.getdoc(function)
    for section in ("Returns", "Raises", "Examples"):
        assert f"{section}\n----" in doc, (name, section)
    if inspect.signature(function).parameters:
        assert "Parameters\n----------" in doc
    assert getattr(plots, name) is function
    assert "Figure" in str(inspect.signature(function).return_annotation)


# --- lstm_cell_diagram -----------------------------------------------------------------


def expected_lstm_lines(units: int, features: int) -> set[str]:
    """The slices each gate's block must name, computed here from units and features."""
    blocks = {f"W ({features}, {units})", f"U ({units}, {units})", f"b ({units},)"}
    blocks |= {f"cols {k * units}:{(k + 1) * units}" for k in range(4)}
    return blocks | {f"$x_t$ (batch, {features})", f"$h_t$ (batch, {units})"}


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(units=st.sampled_from([1, 2, 3, 5, 64]), features=st.sampled_from([1, 2, 4, 32]))
def test_lstm_cell_labels_come_from_the_layer(units, features):
    """For any small LSTM, does each gate name its slices of the layer's own weights, and
    does the title give the full weights' shapes, all legibly?"""
    layer = lstm(units, features)
    fig = diagrams.lstm_cell_diagram(layer)
    assert expected_lstm_lines(units, features) <= lines(fig)
    shapes = {w.path.rsplit("/", 1)[-1]: tuple(w.shape) for w in layer.weights}
    title = fig.get_suptitle()
    assert f"W {shape_text(shapes['kernel'])}" in title
    assert f"U {shape_text(shapes['recurrent_kernel'])}" in title
    assert f"b {shape_text(shapes['bias'])}" in title
    assert title.startswith(f"LSTM({units}) cell")
    assert_legible(fig)
    plt.close(fig)


def test_lstm_cell_changes_with_the_layer():
    """Do LSTM(3) on 2 features and LSTM(5) on 4 features draw different, own shapes?"""
    small = diagrams.lstm_cell_diagram(lstm(3, 2))
    large = diagrams.lstm_cell_diagram(lstm(5, 4))
    assert "W (2, 3)" in lines(small) and "W (2, 3)" not in lines(large)
    assert "W (4, 5)" in lines(large) and "W (4, 5)" not in lines(small)
    assert "W (2, 12), U (3, 12), b (12,)" in small.get_suptitle()
    assert "W (4, 20), U (5, 20), b (20,)" in large.get_suptitle()


def test_cell_titles_name_the_blocks_three_gates_and_a_candidate():
    """Do the titles name the column blocks, gates and candidate, not "one per gate"?"""
    lstm_title = diagrams.lstm_cell_diagram(lstm(3, 2)).get_suptitle()
    gru_title = diagrams.gru_cell_diagram(gru(3, 2)).get_suptitle()
    assert lstm_title.endswith("4 column blocks $i, f, \\tilde{c}, o$")
    assert "3 column blocks $z, r, \\tilde{h}$" in gru_title
    assert "per gate" not in lstm_title + gru_title


def test_lstm_cell_shows_gates_in_keras_order_and_the_configured_activations():
    """Are the gates left to right i, f, c̃, o, with the activations the config names?"""
    fig = diagrams.lstm_cell_diagram(lstm(2, 3, recurrent_activation="hard_sigmoid"))
    ax = fig.axes[0]
    headers = [t for t in ax.texts if t.get_text().endswith(("input", "forget", "candidate"))]
    headers += [t for t in ax.texts if t.get_text() == "$o$ output"]
    order = [t.get_text() for t in sorted(headers, key=lambda t: t.get_position()[0])]
    assert order == ["$i$ input", "$f$ forget", "$\\tilde{c}$ candidate", "$o$ output"]
    shown = [t.get_text() for t in ax.texts]
    assert shown.count("hard_sigmoid") == 3  # i, f and o
    assert shown.count("tanh") == 2  # the candidate and tanh(c_t)
    assert "cell state: the gradient's path" in shown


def test_lstm_cell_unbuilt_with_features_matches_the_built_layer():
    """Does an unbuilt layer plus ``features`` draw exactly what the built layer draws?"""
    unbuilt = diagrams.lstm_cell_diagram(keras.layers.LSTM(3), features=2)
    assert texts(unbuilt) == texts(diagrams.lstm_cell_diagram(lstm(3, 2)))


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        (lambda: gru(3, 2), {}, "is it a LSTM"),
        (lambda: keras.layers.LSTM(3), {}, "not built yet"),
        (lambda: lstm(3, 2), {"features": 4}, "features=4 disagrees"),
        (lambda: lstm(3, 2), {"features": 0}, "features must be a positive integer"),
    ],
)
def test_lstm_cell_rejects_what_it_cannot_draw(make, kwargs, message):
    """A GRU, an unbuilt layer without features, or features the kernel contradicts?"""
    with pytest.raises(ValueError, match=message):
        diagrams.lstm_cell_diagram(make(), **kwargs)


def test_lstm_cell_reads_the_layer_duck_typed():
    """Does a stand-in with Keras 2 style weight names (``.../kernel:0``) draw the same?"""

    def weight(name, *shape):
        return SimpleNamespace(name=f"lstm/lstm_cell/{name}:0", shape=shape)

    layer = SimpleNamespace(
        units=3,
        weights=[weight("kernel", 2, 12), weight("recurrent_kernel", 3, 12), weight("bias", 12)],
        get_config=lambda: {"activation": "tanh", "recurrent_activation": "sigmoid"},
    )
    fig = diagrams.lstm_cell_diagram(layer)
    assert expected_lstm_lines(3, 2) <= lines(fig)


# --- gru_cell_diagram ------------------------------------------------------------------


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_shows_the_bias_and_where_r_multiplies(reset_after):
    """Does the bias read (2, 3·units) with reset_after and (3·units,) without, and does the
    figure say where r multiplies?"""
    fig = diagrams.gru_cell_diagram(gru(3, 2, reset_after=reset_after))
    shown = lines(fig)
    assert {"W (2, 3)", "U (3, 3)", "cols 0:3", "cols 3:6", "cols 6:9"} <= shown
    if reset_after:
        assert "b (2, 9)" in fig.get_suptitle()
        assert {"b[0] (3,)", "b[1] (3,)", "reset_after=True", "h U + b[1]"} <= shown
    else:
        assert "b (9,)" in fig.get_suptitle()
        assert {"b (3,)", "reset_after=False", "h before U"} <= shown
    assert "one state tensor h" in fig.get_suptitle()
    assert_legible(fig)


def test_gru_cell_changes_with_the_layer_and_rejects_an_lstm():
    """Does GRU(4) on 5 features draw its own shapes, and an LSTM raise?"""
    fig = diagrams.gru_cell_diagram(gru(4, 5))
    assert {"W (5, 4)", "U (4, 4)", "cols 8:12"} <= lines(fig)
    assert "W (5, 12), U (4, 12), b (2, 12)" in fig.get_suptitle()
    with pytest.raises(ValueError, match="is it a GRU"):
        diagrams.gru_cell_diagram(lstm(3, 2))


# --- bidirectional_diagram -------------------------------------------------------------


def returned_labels(fig) -> dict[int, tuple[str, str]]:
    """Index -> (name, shape) of each "[k] name shape" label the figure draws."""
    found = {}
    for text in texts(fig):
        if not text.startswith("["):
            continue
        head, _, tail = text.partition("] ")
        words = tail.replace("\n", " ")
        name, shape = words.split(" (", 1)
        found[int(head[1:])] = (name, "(" + shape)
    return found


CASES = [
    ("LSTM", "concat", False, 3, (None, 5, 2)),
    ("LSTM", "sum", True, 2, (None, 4, 3)),
    ("LSTM", None, True, 3, (None, 5, 2)),
    ("GRU", "ave", False, 4, (None, 6, 1)),
    ("LSTM", "mul", False, 64, (None, 100, 32)),
]


@pytest.mark.parametrize(("kind", "merge_mode", "sequences", "units", "input_shape"), CASES)
def test_bidirectional_labels_every_returned_tensor_with_keras_shapes(
    kind, merge_mode, sequences, units, input_shape
):
    """Is each tensor Keras returns labelled with its index and Keras's own shape?"""
    inner = getattr(keras.layers, kind)(units, return_state=True, return_sequences=sequences)
    layer = keras.layers.Bidirectional(inner, merge_mode=merge_mode)
    fig = diagrams.bidirectional_diagram(layer, input_shape)
    shapes = layer.compute_output_shape(input_shape)
    labels = returned_labels(fig)
    assert sorted(labels) == list(range(len(shapes)))
    assert [shape for _, (_, shape) in sorted(labels.items())] == [
        shape_text(shape) for shape in shapes
    ]
    states = ["h", "c"] if kind == "LSTM" else ["h"]
    outputs = ["output"] if merge_mode else ["forward output", "backward output"]
    names = outputs + [f"{d} {s}" for d in ("forward", "backward") for s in states]
    assert [name for _, (name, _) in sorted(labels.items())] == names
    title = fig.get_suptitle()
    assert f"merge_mode={merge_mode!r}" in title
    assert f"returns a tuple of {len(shapes)} tensors" in title
    assert_legible(fig)


def output_wires(fig) -> dict[str, list[float]]:
    """Direction -> the x of every vertex of that copy's output wire, arrow head included."""
    from matplotlib.path import Path

    wires = {}
    for artist in fig.findobj():
        gid = artist.get_gid() or ""
        if gid.startswith("bidirectional:"):
            path = artist.get_path()
            codes = path.codes if path.codes is not None else [Path.LINETO] * len(path.vertices)
            direction = gid.removeprefix("bidirectional:").removesuffix(" output")
            pairs = zip(path.vertices, codes, strict=True)
            wires[direction] = [x for (x, _), code in pairs if code != Path.CLOSEPOLY]
    return wires


@pytest.mark.parametrize(("kind", "merge_mode", "sequences", "units", "input_shape"), CASES)
def test_bidirectional_draws_the_forward_output_first_as_keras_merges_it(
    kind, merge_mode, sequences, units, input_shape
):
    """Keras merges [forward, backward]: with concat, the first units numbers are the forward
    copy's. Does the forward output enter the merge from the left and the backward output
    from the right (with merge_mode=None, is [0] forward drawn left of [1] backward)?"""
    inner = getattr(keras.layers, kind)(units, return_state=True, return_sequences=sequences)
    layer = keras.layers.Bidirectional(inner, merge_mode=merge_mode)
    fig = diagrams.bidirectional_diagram(layer, input_shape)
    wires = output_wires(fig)
    assert sorted(wires) == ["backward", "forward"]
    if merge_mode is None:
        assert max(wires["forward"]) < min(wires["backward"])
        labels = {t.get_text().split("\n")[0]: t.get_position()[0] for t in shown_texts(fig)}
        assert labels["[0] forward output"] < labels["[1] backward output"]
    else:
        (merge_x,) = [
            t.get_position()[0]
            for t in shown_texts(fig)
            if t.get_text().startswith(f"{merge_mode}: ")
        ]
        assert max(wires["forward"]) < merge_x < min(wires["backward"])


def test_keras_concatenates_the_forward_output_first():
    """The order the diagram draws: is Bidirectional's concat output [forward, backward]?"""
    import numpy as np

    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3))
    merged = np.asarray(layer(x))
    forward = np.asarray(layer.forward_layer(x))
    backward = np.asarray(layer.backward_layer(x))
    np.testing.assert_allclose(merged, np.concatenate([forward, backward], axis=-1), atol=1e-6)
    assert not np.allclose(forward, backward)


def test_bidirectional_without_states_returns_a_tensor_and_shows_its_weights():
    """Without return_state, does the title say a tensor, and show each direction's weights?"""
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3))
    layer.build((None, 5, 2))
    fig = diagrams.bidirectional_diagram(layer, (None, 5, 2))
    assert fig.get_suptitle().endswith("returns a tensor")
    assert returned_labels(fig) == {0: ("output", "(batch, 6)")}
    assert texts(fig).count("W (2, 12), U (3, 12), b (12,)") == 2
    assert {"concat: 3 + 3 = 6", "h at t = 5", "h at t = 1"} <= lines(fig)
    with pytest.raises(ValueError, match="input_shape must be"):
        diagrams.bidirectional_diagram(layer, (5, 2))


def test_bidirectional_refuses_an_input_shape_its_built_layer_contradicts():
    """Drawn with an input shape of other timesteps or features than the layer was built
    on, does the diagram raise in the words every figure uses, rather than draw an input
    the layer's own weights contradict? Unbuilt, or given no timesteps, is it drawn?"""
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_state=True))
    layer.build((None, 5, 2))
    for shape, message in [
        ((None, 5, 4), "features=4 disagrees with the layer, which has 2 features"),
        ((None, 7, 2), "timesteps=7 disagrees with the layer, which has 5 timesteps"),
    ]:
        with pytest.raises(ValueError) as caught:
            diagrams.bidirectional_diagram(layer, shape)
        assert str(caught.value) == message
    assert "x (batch, timesteps, 2)" in texts(
        diagrams.bidirectional_diagram(layer, (None, None, 2))
    )
    unbuilt = keras.layers.Bidirectional(keras.layers.LSTM(3))
    assert "x (batch, 7, 4)" in texts(diagrams.bidirectional_diagram(unbuilt, (None, 7, 4)))


def test_bidirectional_names_unknown_timesteps_as_timesteps_not_batch():
    """Built for sequences of any length, does the diagram write the unknown time axis as
    ``timesteps``, in the input and in a returned sequence, where it wrote ``batch`` twice,
    ``x (batch, batch, 2)``, as if the input had two batch axes?"""
    layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))
    layer.build((None, None, 2))
    shown = texts(diagrams.bidirectional_diagram(layer, (None, None, 2)))
    assert "x (batch, timesteps, 2)" in shown
    assert not [text for text in shown if "batch, batch" in text]
    labels = returned_labels(diagrams.bidirectional_diagram(layer, (None, None, 2)))
    assert labels[0] == ("output", "(batch, timesteps, 6)")


# --- encoder_decoder_diagram -----------------------------------------------------------


def seq2seq(units: int, enc_shape, dec_shape, decoder_states: bool = False):
    encoder = keras.layers.LSTM(units, return_state=True)
    decoder = keras.layers.LSTM(units, return_sequences=True, return_state=decoder_states)
    _, h, c = encoder(keras.Input(enc_shape))
    decoder(keras.Input(dec_shape), initial_state=[h, c])
    return encoder, decoder


@pytest.mark.parametrize(
    ("units", "enc_shape", "dec_shape"), [(3, (6, 2), (4, 5)), (5, (3, 4), (7, 1))]
)
def test_encoder_decoder_labels_states_and_shapes_from_the_layers(units, enc_shape, dec_shape):
    """Are the handed-over states, the inputs and the output labelled with real shapes?"""
    encoder, decoder = seq2seq(units, enc_shape, dec_shape)
    fig = diagrams.encoder_decoder_diagram(encoder, decoder)
    shown = lines(fig)
    assert {f"[1] h (batch, {units})", f"[2] c (batch, {units})", "= [h, c]"} <= shown
    assert {shape_text((None, *enc_shape)), shape_text((None, *dec_shape))} <= shown
    assert f"output (batch, {dec_shape[0]}, {units})" in shown
    assert f"[0] output (batch, {units})" in shown  # the encoder's, not used
    assert "returns a tuple (output, h, c)" in fig.get_suptitle()
    assert fig.get_suptitle().endswith("and returns a tensor")
    assert_legible(fig)


def test_encoder_decoder_says_list_when_the_decoder_returns_states_and_checks_fit():
    """A decoder with return_state returns a tuple; mismatched layers raise."""
    encoder, decoder = seq2seq(3, (6, 2), (4, 5), decoder_states=True)
    fig = diagrams.encoder_decoder_diagram(encoder, decoder)
    assert fig.get_suptitle().endswith("and returns a tuple (output, h, c)")
    with pytest.raises(ValueError, match="return_state=True"):
        diagrams.encoder_decoder_diagram(keras.layers.LSTM(3), keras.layers.LSTM(3))
    with pytest.raises(ValueError, match="same units and kind"):
        diagrams.encoder_decoder_diagram(
            keras.layers.LSTM(3, return_state=True), keras.layers.LSTM(4)
        )
    with pytest.raises(ValueError, match="same units and kind"):
        diagrams.encoder_decoder_diagram(
            keras.layers.LSTM(3, return_state=True), keras.layers.GRU(3)
        )


# --- task_taxonomy_diagram -------------------------------------------------------------


@settings(max_examples=6, deadline=None)
@given(timesteps=st.integers(2, 8), units=st.sampled_from([1, 3, 16, 128]))
def test_taxonomy_maps_tasks_to_return_sequences(timesteps, units):
    """Are the shapes computed from the arguments, and only the returned steps solid?"""
    fig = diagrams.task_taxonomy_diagram(timesteps=timesteps, units=units, features=2)
    shown = texts(fig)
    assert [t for t in shown if t.startswith("out ")] == [
        f"out (batch, {units})",
        f"out (batch, {units})",
        f"out (batch, {timesteps}, {units})",
        f"out (batch, {timesteps}, {units})",
    ]
    assert [t for t in shown if t.startswith("in ")] == [
        "in (batch, 1, 2)",
        f"in (batch, {timesteps}, 2)",
        f"in (batch, {timesteps}, 2)",
        f"in (batch, 2), repeated {timesteps} times",
    ]
    assert shown.count("return_sequences=False") == 2
    assert shown.count("return_sequences=True") == 2
    # the rows of several steps read x_1 ... x_T; one-to-many reads the same x at each step
    assert shown.count("$x$") == timesteps
    assert shown.count(f"$x_{{{timesteps}}}$") == 2
    statuses = [a.get_gid().rsplit(":", 1)[1] for a in fig.findobj() if a.get_gid()]
    # one-to-one: 1 returned; many-to-one: the last; many-to-many and one-to-many: all.
    assert statuses.count("returned") == 1 + 1 + 2 * timesteps
    assert statuses.count("dropped") == timesteps - 1
    assert_legible(fig)
    plt.close(fig)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN"])
def test_taxonomy_drawn_from_a_layer_shows_the_shapes_keras_returns(kind):
    """Drawn for a real layer, are the rows' shapes those Keras gives that layer's units for
    one step, for every step or the last, and after RepeatVector?"""
    timesteps, features, units = 3, 2, 5
    fig = diagrams.task_taxonomy_diagram(
        layer=getattr(keras.layers, kind)(units), timesteps=timesteps, features=features
    )
    assert fig.get_suptitle().startswith(
        f"Recurrent tasks and return_sequences: {kind}({units}), timesteps = {timesteps}"
    )

    def keras_out(steps, return_sequences, repeated=False):
        inputs = keras.Input(shape=(features,) if repeated else (steps, features))
        x = keras.layers.RepeatVector(steps)(inputs) if repeated else inputs
        out = getattr(keras.layers, kind)(units, return_sequences=return_sequences)(x)
        return "out " + shape_text(out.shape)

    shown = texts(fig)
    assert [t for t in shown if t.startswith("out ")] == [
        keras_out(1, False),
        keras_out(timesteps, False),
        keras_out(timesteps, True),
        keras_out(timesteps, True, repeated=True),
    ]
    assert_legible(fig)


def test_taxonomy_reads_a_built_layer_and_rejects_disagreement():
    """Built on an input, does the layer give timesteps and features, and does an argument
    that contradicts the layer raise rather than draw another layer?"""
    layer = built(keras.layers.LSTM(2), 3, 1)
    shown = texts(diagrams.task_taxonomy_diagram(layer=layer))
    assert "in (batch, 3, 1)" in shown and "out (batch, 3, 2)" in shown
    for kwargs, message in [
        ({"units": 3}, "units=3 disagrees"),
        ({"timesteps": 4}, "timesteps=4 disagrees"),
        ({"features": 2}, "features=2 disagrees"),
    ]:
        with pytest.raises(ValueError, match=message):
            diagrams.task_taxonomy_diagram(layer=layer, **kwargs)
    wrapped = diagrams.task_taxonomy_diagram(
        layer=keras.layers.RNN(keras.layers.GRUCell(4)), timesteps=2
    )
    assert "GRU(4), timesteps = 2" in wrapped.get_suptitle()


@pytest.mark.parametrize(
    ("draw", "name", "given", "known"),
    [
        (lambda layer, **kw: diagrams.task_taxonomy_diagram(layer=layer, **kw), "units", 3, 2),
        (lambda layer, **kw: diagrams.task_taxonomy_diagram(layer=layer, **kw), "timesteps", 4, 5),
        (lambda layer, **kw: diagrams.task_taxonomy_diagram(layer=layer, **kw), "features", 2, 1),
        (plots.unrolled_layer, "timesteps", 6, 5),
        (plots.unrolled_layer, "features", 4, 1),
        (diagrams.lstm_cell_diagram, "features", 4, 1),
    ],
)
def test_a_size_beside_a_layer_is_refused_in_one_wording(draw, name, given, known):
    """Whichever figure a reader draws, is a size the layer contradicts told in the same
    words, naming the size given and the one the layer has?"""
    layer = lstm(2, 1)
    expected = f"{name}={given} disagrees with the layer, which has {known} {name}"
    with pytest.raises(ValueError) as caught:
        draw(layer, **{name: given})
    assert str(caught.value) == expected


@pytest.mark.parametrize("name", ["units", "timesteps", "features"])
def test_a_size_beside_a_layer_must_be_a_positive_integer(name):
    """Is a size that is no positive integer (a string, 0) refused as such beside a layer,
    not reported as disagreeing with it or drawn?"""
    layer = lstm(2, 1)
    for bad in ("5", 0):
        with pytest.raises(ValueError, match=f"{name} must be a positive integer, got {bad!r}"):
            diagrams.task_taxonomy_diagram(layer=layer, **{name: bad})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timesteps": 1}, "from 2 to 8"),
        ({"timesteps": 9}, "from 2 to 8"),
        ({"units": 0}, "units must be a positive integer"),
        ({"features": 2.5}, "features must be a positive integer"),
    ],
)
def test_taxonomy_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        diagrams.task_taxonomy_diagram(**kwargs)


# --- layer_vs_cell_diagram -------------------------------------------------------------


def test_layer_vs_cell_for_rnn_of_a_cell():
    """For RNN(LSTMCell(3)) built on (batch, 5, 2): one step, a loop of 5, the same weights?"""
    layer = built(keras.layers.RNN(keras.layers.LSTMCell(3)), 5, 2)
    fig = diagrams.layer_vs_cell_diagram(layer)
    title = fig.get_suptitle()
    assert title.startswith("LSTMCell(3) handles one timestep; the layer loops it over 5")
    assert "RNN(LSTMCell(3)) and LSTM(3)" in title
    shown = lines(fig)
    assert {"$x_t$ (batch, 2)", "x (batch, 5, 2)", "(batch, 3)", "t = 1 … 5"} <= shown
    assert "weights: kernel (2, 12), recurrent_kernel (3, 12), bias (12,)" in shown
    path = layer.weights[0].path
    assert f"held by the cell: {path}" in shown and "lstm_cell" in path
    assert_legible(fig)


def test_layer_vs_cell_for_a_gru_layer_with_sequences():
    """For GRU(4, return_sequences=True) unbuilt: one state h, a sequence out, names for
    what is not known yet?"""
    fig = diagrams.layer_vs_cell_diagram(keras.layers.GRU(4, return_sequences=True))
    assert "GRU(4) and RNN(GRUCell(4))" in fig.get_suptitle()
    shown = lines(fig)
    assert {"states [h]", "(batch, timesteps, 4)", "x (batch, timesteps, features)"} <= shown
    assert_legible(fig)
    with pytest.raises(ValueError, match="with a cell"):
        diagrams.layer_vs_cell_diagram(keras.layers.LSTMCell(3))


# --- legibility ------------------------------------------------------------------------


def _bidirectional_full():
    inner = keras.layers.LSTM(128, return_state=True, return_sequences=True)
    return diagrams.bidirectional_diagram(
        keras.layers.Bidirectional(inner, merge_mode=None), (None, 100, 64)
    )


#: One drawing per diagram at its widest labels; test_plots_style can collect these too.
LEGIBILITY = {
    "lstm_cell_large": lambda: diagrams.lstm_cell_diagram(lstm(128, 300)),
    "gru_cell_large": lambda: diagrams.gru_cell_diagram(gru(128, 300, reset_after=False)),
    "bidirectional_none": _bidirectional_full,
    "encoder_decoder_large": lambda: diagrams.encoder_decoder_diagram(
        *seq2seq(256, (100, 300), (120, 300), decoder_states=True)
    ),
    "taxonomy_8": lambda: diagrams.task_taxonomy_diagram(timesteps=8, units=128, features=300),
    "layer_vs_cell_large": lambda: diagrams.layer_vs_cell_diagram(
        built(keras.layers.LSTM(256, return_sequences=True), 100, 300)
    ),
}


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_diagrams_stay_legible_at_their_widest_labels(case):
    """With three-digit shapes, does every label stay clear of the others, inside the
    figure, at 9 pt or more, on a figure at most 7 in wide?"""
    fig = LEGIBILITY[case]()
    assert_legible(fig)


@pytest.mark.parametrize("case", sorted(LEGIBILITY))
def test_diagram_labels_read_at_wcag_aa_contrast(case):
    """Does every label of every diagram (the vermillion shapes of the returned tensors, the
    grey of what is dropped, the orange of the cell state's path) stand out from what it is
    drawn on by 4.5:1 or more, for a reader with low vision?"""
    fig = LEGIBILITY[case]()
    assert low_contrast_texts(fig) == []
