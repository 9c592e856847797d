"""Do the shape and parameter rules in lstm_lib.shapes agree with what Keras builds?

Each property draws a random layer configuration, builds the layer with Keras, calls it
on a symbolic ``keras.Input`` and compares the tensors' shapes and ``count_params()`` with
the rules, for the plain spec dict, the layer instance and ``keras.layers.serialize``.
"""

from __future__ import annotations

import inspect
import math
import re
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import shapes
from lstm_lib.shapes import (
    LayerRow,
    UnsupportedLayerError,
    count_params,
    layer_spec,
    output_shapes,
    param_formula,
    stack_shapes,
)

keras = require_module("keras", "Keras (pip install .[keras])")

# Building a layer costs tens of milliseconds, so keep the example counts modest.
PROPERTY = settings(deadline=None, max_examples=25)

RECURRENT = ("SimpleRNN", "LSTM", "GRU")
RECURRENT_DEFAULTS = {"use_bias": True, "return_sequences": False, "return_state": False}

sizes = st.integers(1, 6)
maybe_size = st.none() | sizes


# --- helpers --------------------------------------------------------------------------


def fresh_session() -> None:
    # The default free_memory=True runs gc.collect(), about 0.16 s a call: most of the
    # suite's runtime. Resetting Keras's state is all each example needs.
    keras.backend.clear_session(free_memory=False)


def build(spec: dict[str, Any]) -> keras.layers.Layer:
    """Construct the Keras layer a plain ``{"class_name", "config"}`` spec describes."""
    config = dict(spec["config"])
    for key in ("layer", "backward_layer", "cell"):
        if key in config:
            config[key] = build(config[key])
    return getattr(keras.layers, spec["class_name"])(**config)


def keras_output_shapes(layer: keras.layers.Layer, input_shape: Any) -> list[tuple]:
    if isinstance(input_shape, list):
        inputs = [keras.Input(batch_shape=shape) for shape in input_shape]
    else:
        inputs = keras.Input(batch_shape=input_shape)
    outputs = layer(inputs)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return [tuple(tensor.shape) for tensor in outputs]


def evaluate_formula(formula: str, expected: int) -> None:
    arithmetic, separator, result = formula.rpartition(" = ")
    assert separator and result == str(expected), formula
    assert re.fullmatch(r"[0-9 ×+()]+", arithmetic), formula
    assert eval(arithmetic.replace("×", "*"), {"__builtins__": {}}) == expected, formula


def assert_matches_keras(spec: dict[str, Any], input_shape: Any) -> None:
    """The rules give Keras's shapes and count for the spec, the layer and its dict."""
    fresh_session()
    layer = build(spec)
    expected_shapes = keras_output_shapes(layer, input_shape)
    expected_count = layer.count_params()
    for form in (spec, layer, keras.layers.serialize(layer)):
        assert output_shapes(form, input_shape) == expected_shapes
        assert count_params(form, input_shape) == expected_count
        evaluate_formula(param_formula(form, input_shape), expected_count)


def non_default(options: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if defaults.get(key, object()) != value}


@st.composite
def recurrent_specs(draw: st.DrawFn, class_names: tuple[str, ...] = RECURRENT) -> dict:
    class_name = draw(st.sampled_from(class_names))
    options = {
        "units": draw(sizes),
        "use_bias": draw(st.booleans()),
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
    }
    defaults = dict(RECURRENT_DEFAULTS)
    if class_name == "GRU":
        options["reset_after"] = draw(st.booleans())
        defaults["reset_after"] = True
    return {"class_name": class_name, "config": non_default(options, defaults)}


def sequence_shapes() -> st.SearchStrategy[tuple]:
    return st.tuples(maybe_size, maybe_size, sizes)


def shapes_of_rank(low: int, high: int, last: st.SearchStrategy = sizes) -> st.SearchStrategy:
    middle = st.lists(maybe_size, min_size=low - 2, max_size=high - 2)
    return st.tuples(maybe_size, middle, last).map(lambda t: (t[0], *t[1], t[2]))


# --- every supported layer against Keras ----------------------------------------------


@PROPERTY
@given(spec=recurrent_specs(), input_shape=sequence_shapes())
def test_recurrent_layers_match_keras(spec: dict, input_shape: tuple) -> None:
    """Do SimpleRNN, LSTM and GRU return the shapes and counts Keras gives, for every flag?"""
    assert_matches_keras(spec, input_shape)


def around_cell(spec: dict[str, Any]) -> dict[str, Any]:
    """The recurrent layer ``spec`` written as ``RNN(cell)``: the flags go to the RNN."""
    cell = {key: value for key, value in spec["config"].items() if key not in shapes._RNN_OPTIONS}
    flags = {key: value for key, value in spec["config"].items() if key in shapes._RNN_OPTIONS}
    return {
        "class_name": "RNN",
        "config": {"cell": {"class_name": f"{spec['class_name']}Cell", "config": cell}, **flags},
    }


@PROPERTY
@given(spec=recurrent_specs(), input_shape=sequence_shapes())
def test_an_rnn_around_a_cell_matches_keras_and_the_layer(spec: dict, input_shape: tuple) -> None:
    """Does RNN(SimpleRNNCell | LSTMCell | GRUCell) give Keras's shapes and count, which
    are its layer's own, for every flag?"""
    looped = around_cell(spec)
    assert_matches_keras(looped, input_shape)
    assert output_shapes(looped, input_shape) == output_shapes(spec, input_shape)
    assert param_formula(looped, input_shape) == param_formula(spec, input_shape)


@pytest.mark.parametrize("frozen", ["cell", "rnn"])
def test_a_frozen_cell_freezes_the_rnns_weights(frozen: str) -> None:
    """Are a frozen cell's weights, or a frozen RNN's, counted as Keras counts them?"""
    spec = around_cell({"class_name": "LSTM", "config": {"units": 3}})
    owner = spec["config"]["cell"] if frozen == "cell" else spec
    owner["config"]["trainable"] = False
    fresh_session()
    layer = build(spec)
    layer.build((None, 5, 2))
    frozen_count = sum(math.prod(weight.shape) for weight in layer.non_trainable_weights)
    assert frozen_count == layer.count_params() > 0
    assert count_params(spec, (None, 5, 2), trainable=False) == frozen_count
    assert count_params(spec, (None, 5, 2), trainable=True) == 0


CELL_NAMES = sorted(shapes._CELL_LAYERS)


@pytest.mark.parametrize("cell_name", CELL_NAMES)
def test_cell_argument_lists_match_keras(cell_name: str) -> None:
    """Does each cell accept exactly the keys Keras 3 names for it, and does each one (the
    deprecated ones included) build inside an RNN in Keras as in the rules?"""
    fresh_session()
    cell = build({"class_name": cell_name, "config": {"units": 2}})
    assert shapes._ARGUMENTS[cell_name] == keras_keywords(cell_name, {"units": 2})
    config = cell.get_config()
    legacy_values = {"input_shape": (3,), "input_dim": 3, "implementation": 2}
    for key in sorted(shapes._accepted_arguments(cell_name) - {"units"}):
        value = legacy_values.get(key, config.get(key))
        spec = around_cell({"class_name": cell_name[: -len("Cell")], "config": {"units": 2}})
        spec["config"]["cell"]["config"][key] = value
        fresh_session()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build(spec)
        layer_spec(spec)


@pytest.mark.parametrize("cell_name", CELL_NAMES)
def test_options_in_the_wrong_place_are_refused_as_keras_refuses_them(cell_name: str) -> None:
    """Is an RNN's option written in its cell, or a cell's option written on the RNN,
    refused where Keras 3 refuses it, with where it belongs?"""
    cell_config = build({"class_name": cell_name, "config": {"units": 2}}).get_config()
    rnn_only = set(shapes._ARGUMENTS["RNN"]) - set(shapes._ARGUMENTS[cell_name])
    cell_only = set(shapes._ARGUMENTS[cell_name]) - set(shapes._ARGUMENTS["RNN"])
    assert rnn_only and cell_only
    for key in sorted(rnn_only - {"cell"}):
        spec = around_cell({"class_name": cell_name[: -len("Cell")], "config": {"units": 2}})
        spec["config"]["cell"]["config"][key] = False
        fresh_session()
        with pytest.raises(
            ValueError, match=f"Unrecognized keyword arguments passed to {cell_name}"
        ):
            build(spec)
        with pytest.raises(
            ValueError, match=f"{cell_name} has no argument {key!r}: it is an option of the RNN"
        ):
            layer_spec(spec)
    for key in sorted(cell_only):
        spec = around_cell({"class_name": cell_name[: -len("Cell")], "config": {"units": 2}})
        spec["config"][key] = cell_config[key]
        fresh_session()
        with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to RNN"):
            build(spec)
        with pytest.raises(
            ValueError, match=f"RNN has no argument {key!r}: it is an option of the cell"
        ):
            layer_spec(spec)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            [{"class_name": "LSTMCell", "config": {"units": 2}}] * 2,
            "An RNN around a list of cells stacks them (StackedRNNCells), which",
        ),
        ({"class_name": "LstmCell", "config": {"units": 2}}, "did you mean 'LSTMCell'?"),
        (
            {"class_name": "LSTM", "config": {"units": 2}},
            "LSTM is a whole layer: write LSTMCell as the cell, or the LSTM layer",
        ),
        ({"class_name": "LSTMCell", "config": {}}, "LSTMCell config needs 'units'."),
        (None, "RNN config needs 'cell'."),
    ],
)
def test_an_rnn_that_would_not_build_here_says_why(cell: Any, message: str) -> None:
    """Does an RNN around no cell, a list of cells, a layer or a misspelled cell get a
    message that names what to write?"""
    spec = {"class_name": "RNN", "config": {"cell": cell}}
    with pytest.raises(ValueError) as info:
        output_shapes(spec, (None, 5, 2))
    assert message in str(info.value)
    assert shapes.as_recurrent_layer(spec) == (spec, ())


@PROPERTY
@given(units=sizes, use_bias=st.booleans(), input_shape=shapes_of_rank(2, 4))
def test_dense_matches_keras_on_any_rank(units: int, use_bias: bool, input_shape: tuple) -> None:
    """Does Dense act on the last axis only, for inputs of rank 2 to 4?"""
    config = non_default({"units": units, "use_bias": use_bias}, {"use_bias": True})
    assert_matches_keras({"class_name": "Dense", "config": config}, input_shape)


@PROPERTY
@given(
    input_dim=st.integers(2, 50),
    output_dim=sizes,
    input_shape=st.lists(maybe_size, min_size=1, max_size=4).map(tuple),
)
def test_embedding_matches_keras_on_any_rank(
    input_dim: int, output_dim: int, input_shape: tuple
) -> None:
    """Does Embedding append output_dim to any input shape, with input_dim × output_dim weights?"""
    spec = {"class_name": "Embedding", "config": {"input_dim": input_dim, "output_dim": output_dim}}
    assert_matches_keras(spec, input_shape)


@PROPERTY
@given(
    inner=recurrent_specs(),
    merge_mode=st.sampled_from(["concat", "sum", "mul", "ave", None]),
    explicit_backward=st.booleans(),
    input_shape=sequence_shapes(),
)
def test_bidirectional_matches_keras_for_every_merge_mode(
    inner: dict, merge_mode: str | None, explicit_backward: bool, input_shape: tuple
) -> None:
    """Does Bidirectional order outputs, then forward states, then backward states?"""
    config: dict[str, Any] = {"layer": inner}
    if merge_mode != "concat":
        config["merge_mode"] = merge_mode
    if explicit_backward:
        backward_config = {**inner["config"], "go_backwards": True}
        config["backward_layer"] = {"class_name": inner["class_name"], "config": backward_config}
    assert_matches_keras({"class_name": "Bidirectional", "config": config}, input_shape)


@PROPERTY
@given(
    units=sizes,
    use_bias=st.booleans(),
    input_shape=st.tuples(maybe_size, maybe_size, st.lists(maybe_size, max_size=1), sizes).map(
        lambda t: (t[0], t[1], *t[2], t[3])
    ),
)
def test_time_distributed_dense_matches_keras(
    units: int, use_bias: bool, input_shape: tuple
) -> None:
    """Does TimeDistributed(Dense) keep (batch, timesteps) and count only the Dense weights?"""
    dense = {
        "class_name": "Dense",
        "config": non_default({"units": units, "use_bias": use_bias}, {"use_bias": True}),
    }
    assert_matches_keras({"class_name": "TimeDistributed", "config": {"layer": dense}}, input_shape)


def test_time_distributed_lstm_matches_keras() -> None:
    """Does TimeDistributed run an LSTM over the inner axis of a rank-4 input?"""
    lstm = {"class_name": "LSTM", "config": {"units": 3}}
    assert_matches_keras(
        {"class_name": "TimeDistributed", "config": {"layer": lstm}}, (None, 2, 4, 5)
    )


@PROPERTY
@given(input_shape=st.lists(maybe_size, min_size=1, max_size=4).map(tuple))
def test_flatten_dropout_activation_match_keras(input_shape: tuple) -> None:
    """Do the weightless layers keep or flatten the shape as Keras does?"""
    for spec in (
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dropout", "config": {"rate": 0.5}},
        {"class_name": "Activation", "config": {"activation": "relu"}},
    ):
        assert_matches_keras(spec, input_shape)


@pytest.mark.parametrize(
    ("target_shape", "input_shape"),
    [
        ((-1, 2), (None, 3, 4)),
        ((-1, 2), (None, None, 4)),
        ((12,), (2, 3, 4)),
        ((4, 1, 3), (None, 12)),
    ],
)
def test_reshape_matches_keras(target_shape: tuple, input_shape: tuple) -> None:
    """Does Reshape fill in -1 from the values per sample?"""
    assert_matches_keras(
        {"class_name": "Reshape", "config": {"target_shape": target_shape}}, input_shape
    )


def test_repeat_vector_matches_keras() -> None:
    """Does RepeatVector turn (batch, features) into (batch, n, features)?"""
    assert_matches_keras({"class_name": "RepeatVector", "config": {"n": 4}}, (None, 3))


@PROPERTY
@given(
    base=st.lists(maybe_size, min_size=2, max_size=3),
    joined=st.lists(maybe_size, min_size=2, max_size=3),
    axis=st.sampled_from([-1, 1, 2]),
    data=st.data(),
)
def test_concatenate_matches_keras(
    base: list, joined: list, axis: int, data: st.DataObject
) -> None:
    """Does Concatenate add up the joined axis and keep every other axis?"""
    # Joining along the batch axis is legal but no course model does it.
    rank = len(base)
    axis = min(axis, rank - 1)
    position = axis % rank
    input_shape = []
    for size in joined:
        shape = [data.draw(st.sampled_from([dim, None])) for dim in base]
        shape[position] = size
        input_shape.append(tuple(shape))
    config = {} if axis == -1 else {"axis": axis}
    assert_matches_keras({"class_name": "Concatenate", "config": config}, input_shape)


@PROPERTY
@given(
    class_name=st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]),
    base=st.lists(maybe_size, min_size=2, max_size=3),
    data=st.data(),
)
def test_elementwise_merges_match_keras(class_name: str, base: list, data: st.DataObject) -> None:
    """Do Add and friends broadcast shapes as Keras does, including size-1 and None axes?"""
    count = 2 if class_name == "Subtract" else data.draw(st.integers(2, 3))
    input_shape = [
        tuple(
            data.draw(st.sampled_from([dim, None, 1])) if i else dim for i, dim in enumerate(base)
        )
        for _ in range(count)
    ]
    assert_matches_keras({"class_name": class_name, "config": {}}, input_shape)


# --- the course's worked examples -----------------------------------------------------


@pytest.mark.parametrize(("features", "expected"), [(1, 32), (3, 48)])
def test_lstm_2_units(features: int, expected: int) -> None:
    """Does LSTM(2) hold 32 weights on 1 feature and 48 on 3?"""
    spec = {"class_name": "LSTM", "config": {"units": 2}}
    assert count_params(spec, (None, 5, features)) == expected
    assert_matches_keras(spec, (None, 5, features))
    if features == 1:
        assert param_formula(spec, (None, 5, 1)) == "4 × (2 × (2 + 1) + 2) = 32"


def test_lstm_32_on_64_features() -> None:
    """Does LSTM(32) on (None, 10, 64) return (None, 32) with 12416 weights?"""
    spec = {"class_name": "LSTM", "config": {"units": 32}}
    assert output_shapes(spec, (None, 10, 64)) == [(None, 32)]
    assert count_params(spec, (None, 10, 64)) == 12416
    assert_matches_keras(spec, (None, 10, 64))


@pytest.mark.parametrize("timesteps", [1, 7, 1000, None])
def test_lstm_count_ignores_timesteps(timesteps: int | None) -> None:
    """Does LSTM(10) on 5 features hold 640 weights however long the sequence?"""
    assert (
        count_params({"class_name": "LSTM", "config": {"units": 10}}, (None, timesteps, 5)) == 640
    )


def test_formulas_read_as_taught() -> None:
    """Are the formulas written in the course's order, with × and without a bias when off?"""
    shape = (None, 4, 3)
    cases = {
        "SimpleRNN": "2 × (2 + 3) + 2 = 12",
        "GRU": "3 × (2 × (2 + 3) + 2 × 2) = 42",
    }
    for class_name, expected in cases.items():
        assert param_formula({"class_name": class_name, "config": {"units": 2}}, shape) == expected
    no_reset = {"class_name": "GRU", "config": {"units": 2, "reset_after": False}}
    assert param_formula(no_reset, shape) == "3 × (2 × (2 + 3) + 2) = 36"
    no_bias = {"class_name": "LSTM", "config": {"units": 2, "use_bias": False}}
    assert param_formula(no_bias, shape) == "4 × 2 × (2 + 3) = 40"
    bidirectional = {
        "class_name": "Bidirectional",
        "config": {"layer": {"class_name": "LSTM", "config": {"units": 2}}},
    }
    assert param_formula(bidirectional, shape) == "2 × (4 × (2 × (2 + 3) + 2)) = 96"
    embedding = {"class_name": "Embedding", "config": {"input_dim": 100, "output_dim": 8}}
    assert param_formula(embedding, (None, 4)) == "100 × 8 = 800"
    assert param_formula({"class_name": "Dropout", "config": {"rate": 0.2}}, shape) == "0 = 0"


# --- Keras 3 details worth pinning down ----------------------------------------------


def test_gru_and_bidirectional_state_shapes() -> None:
    """Does GRU return one state, and Bidirectional(LSTM) four, each (batch, units)?"""
    gru = {"class_name": "GRU", "config": {"units": 3, "return_state": True}}
    assert output_shapes(gru, (None, 5, 2)) == [(None, 3), (None, 3)]
    lstm = {"class_name": "LSTM", "config": {"units": 3, "return_state": True}}
    both = {"class_name": "Bidirectional", "config": {"layer": lstm, "merge_mode": None}}
    assert output_shapes(both, (None, 5, 2)) == [(None, 3)] * 6


def test_bidirectional_with_a_wider_backward_layer_matches_eager_keras() -> None:
    """With backward units differing, do the rules give the shapes Keras computes on data?

    Keras 3's symbolic shape inference copies the forward layer's shapes here (it reports
    (None, 6) for the concat below); running the layer on data gives the true (2, 8).
    """
    fresh_session()
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(3, return_state=True),
        backward_layer=keras.layers.LSTM(5, return_state=True, go_backwards=True),
    )
    eager = [tuple(t.shape) for t in layer(np.zeros((2, 4, 5), "float32"))]
    assert output_shapes(layer, (2, 4, 5)) == eager == [(2, 8), (2, 3), (2, 3), (2, 5), (2, 5)]
    assert count_params(layer, (2, 4, 5)) == layer.count_params() == 328
    assert param_formula(layer, (2, 4, 5)).startswith("(4 × (3 × (3 + 5) + 3)) + (4 × ")


def test_serialized_dict_form() -> None:
    """Does a keras.layers.serialize dict nest Bidirectional's layers as dicts we can read?"""
    fresh_session()
    layer = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True))
    layer(keras.Input((7, 2)))
    serialized = keras.layers.serialize(layer)
    assert set(serialized) >= {"module", "class_name", "config", "registered_name"}
    assert serialized["config"]["layer"]["class_name"] == "GRU"
    spec = layer_spec(serialized)
    assert spec["config"]["layer"]["config"]["reset_after"] is True
    assert spec["config"]["backward_layer"]["config"]["go_backwards"] is True
    # A built layer remembers its input shape, so none needs to be passed.
    assert output_shapes(serialized) == output_shapes(layer) == [(None, 7, 8)]


def test_layer_spec_fills_defaults_for_plain_dicts() -> None:
    """Does a plain dict with only non-default options get the Keras 3 defaults?"""
    spec = layer_spec({"class_name": "LSTM", "config": {"units": 4}})
    assert spec == {
        "class_name": "LSTM",
        "config": {
            "units": 4,
            "use_bias": True,
            "return_sequences": False,
            "return_state": False,
            "stateful": False,
        },
    }
    assert (
        layer_spec(
            {
                "class_name": "Bidirectional",
                "config": {"layer": {"class_name": "SimpleRNN", "config": {"units": 1}}},
            }
        )["config"]["merge_mode"]
        == "concat"
    )


# --- stacks ---------------------------------------------------------------------------


def test_stack_matches_a_keras_sequential_model() -> None:
    """Do the rows for Embedding → LSTM → LSTM → Dense match a built Sequential model?"""
    fresh_session()
    model = keras.Sequential(
        [
            keras.Input(shape=(20,)),
            keras.layers.Embedding(1000, 16),
            keras.layers.LSTM(32, return_sequences=True),
            keras.layers.Dropout(0.2),
            keras.layers.LSTM(16),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    spec = [keras.layers.serialize(layer) for layer in model.layers]
    for layers in (model.layers, spec):
        rows = stack_shapes(layers, (None, 20))
        assert [row.name for row in rows] == [layer.name for layer in model.layers]
        assert [row.output_shapes[0] for row in rows] == [
            tuple(layer.output.shape) for layer in model.layers
        ]
        assert [row.params for row in rows] == [layer.count_params() for layer in model.layers]
    import json

    from_json = stack_shapes(json.loads(model.to_json()))
    assert sum(row.params for row in from_json) == model.count_params()
    assert all(isinstance(row, LayerRow) for row in from_json)


def test_stack_of_plain_dicts_names_layers_like_keras() -> None:
    """Do unnamed layers get Keras-style names and InputLayer no row?"""
    rows = stack_shapes(
        [
            {"class_name": "InputLayer", "config": {"shape": [8, 3]}},
            {"class_name": "SimpleRNN", "config": {"units": 4, "return_sequences": True}},
            {"class_name": "SimpleRNN", "config": {"units": 4}},
            {"class_name": "Dense", "config": {"units": 2}},
        ]
    )
    assert [row.name for row in rows] == ["simple_rnn", "simple_rnn_1", "dense"]
    assert rows[0].input_shape == (None, 8, 3)
    assert rows[-1].output_shapes == [(None, 2)]


def test_stacking_without_return_sequences_is_explained() -> None:
    """Does stacking LSTMs without return_sequences=True say which layer and how to fix it?"""
    spec = [
        {"class_name": "LSTM", "config": {"units": 8}},
        {"class_name": "LSTM", "config": {"units": 4}},
    ]
    with pytest.raises(ValueError, match=r"Layer 2 \('lstm_1', LSTM\)") as info:
        stack_shapes(spec, (None, 10, 3))
    message = str(info.value)
    assert "got rank 2 (None, 8)" in message
    assert "return_sequences=True" in message
    assert "return_sequences=False" in message


@settings(deadline=None, max_examples=60)
@given(
    lower=st.sampled_from(["SimpleRNN", "LSTM", "GRU"]),
    upper=st.sampled_from(["SimpleRNN", "LSTM", "GRU"]),
    lower_wrapped=st.booleans(),
    upper_wrapped=st.booleans(),
    units=st.integers(2, 12),
    written=st.sampled_from([None, False, 0]),
)
def test_a_stack_whose_lower_layer_drops_time_is_told_its_flag_not_a_reshape(
    lower: str, upper: str, lower_wrapped: bool, upper_wrapped: bool, units: int, written: Any
) -> None:
    """When the layer below drops the time axis, is the learner told to give it
    return_sequences=True, and not to reshape between two layers of a stack?"""
    config: dict[str, Any] = {"units": units}
    if written is not None:
        config["return_sequences"] = written
    first: dict[str, Any] = {"class_name": lower, "config": config}
    second: dict[str, Any] = {"class_name": upper, "config": {"units": 3}}
    if lower_wrapped:
        first = {"class_name": "Bidirectional", "config": {"layer": first}}
    if upper_wrapped:
        second = {"class_name": "Bidirectional", "config": {"layer": second}}
    with pytest.raises(ValueError) as info:
        stack_shapes([first, second], (None, 10, 3))
    message = str(info.value)
    width = 2 * units if lower_wrapped else units
    assert f"got rank 2 (None, {width})" in message
    assert "reshape" not in message
    inside = f"give the {lower} inside it" if lower_wrapped else "give it"
    assert f"{inside} return_sequences=True" in message


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "input_shape", "pattern"),
    [
        (
            {"class_name": "LSTM", "config": {"units": 4}},
            (None, 8),
            r"LSTM expects input of shape \(batch, timesteps, features\); got rank 2 \(None, 8\)\. "
            r"Add the missing axis: reshape to \(batch, 1, 8\)",
        ),
        (
            {"class_name": "GRU", "config": {"units": 4}},
            (None, 5, 3, 2),
            r"got rank 4 .* reshape to \(batch, 5, 6\)",
        ),
        ({"class_name": "Dense", "config": {"units": 4}}, (None,), r"Dense expects .* rank 1"),
        (
            {"class_name": "LSTM", "config": {"units": 4}},
            (None, 5, None),
            r"features \(the last input axis\)",
        ),
        (
            {
                "class_name": "TimeDistributed",
                "config": {"layer": {"class_name": "Dense", "config": {"units": 2}}},
            },
            (None, 4),
            r"TimeDistributed expects .* rank 2",
        ),
    ],
)
def test_rank_errors_are_clear_and_keras_agrees(
    spec: dict,
    input_shape: tuple,
    pattern: str,
) -> None:
    """Is a wrong input rank refused with a message saying what to change, as Keras refuses it?"""
    with pytest.raises(ValueError, match=pattern):
        output_shapes(spec, input_shape)
    fresh_session()
    with pytest.raises(ValueError):
        keras_output_shapes(build(spec), input_shape)


@pytest.mark.parametrize(("gone", "successor"), [("CuDNNLSTM", "LSTM"), ("CuDNNGRU", "GRU")])
def test_keras2_cudnn_layers_are_told_their_keras3_successor(gone: str, successor: str) -> None:
    """Keras 3 has no CuDNNLSTM or CuDNNGRU (its LSTM and GRU use cuDNN by themselves): is
    each told so, with the layer to write, and is it truly gone from the installed Keras?"""
    assert not hasattr(keras.layers, gone)
    assert "use_cudnn" in inspect.signature(getattr(keras.layers, successor)).parameters
    with pytest.raises(UnsupportedLayerError, match=f"Keras 3 has no {gone}.*write {successor}"):
        output_shapes({"class_name": gone, "config": {"units": 4}}, (None, 10, 2))


def test_unsupported_layers_are_named() -> None:
    """Does an unsupported layer raise an error naming its class, for dicts and instances?"""
    with pytest.raises(UnsupportedLayerError, match="Conv1D"):
        count_params(keras.layers.Conv1D(4, 3), (None, 10, 2))
    with pytest.raises(ValueError, match="LayerNormalization is not covered"):
        output_shapes({"class_name": "LayerNormalization", "config": {}}, (None, 10, 2))
    with pytest.raises(UnsupportedLayerError, match="ConvLSTM1D"):
        layer_spec(
            {
                "class_name": "Bidirectional",
                "config": {"layer": {"class_name": "ConvLSTM1D", "config": {}}},
            }
        )


def test_missing_input_shape_and_options_are_reported() -> None:
    """Are a missing input_shape and a missing units option reported plainly?"""
    with pytest.raises(ValueError, match="needs an input_shape"):
        output_shapes({"class_name": "LSTM", "config": {"units": 4}})
    with pytest.raises(ValueError, match="needs 'units'"):
        output_shapes({"class_name": "LSTM", "config": {}}, (None, 5, 3))


def test_importing_shapes_does_not_import_tensorflow() -> None:
    """Can graders import lstm_lib.shapes without TensorFlow or Keras being loaded?"""
    code = (
        "import sys, lstm_lib.shapes\n"
        "print([name for name in ('tensorflow', 'keras') if name in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# --- the keyword arguments Keras 3 accepts -------------------------------------------

# The smallest config each supported class builds from.
MINIMAL: dict[str, dict[str, Any]] = {
    "Dense": {"units": 2},
    "SimpleRNN": {"units": 2},
    "LSTM": {"units": 2},
    "GRU": {"units": 2},
    "RNN": {"cell": {"class_name": "LSTMCell", "config": {"units": 2}}},
    "Embedding": {"input_dim": 5, "output_dim": 2},
    "Bidirectional": {"layer": {"class_name": "LSTM", "config": {"units": 2}}},
    "TimeDistributed": {"layer": {"class_name": "Dense", "config": {"units": 2}}},
    "InputLayer": {"shape": (3,)},
    "Dropout": {"rate": 0.5},
    "Activation": {"activation": "relu"},
    "Flatten": {},
    "Reshape": {"target_shape": (2,)},
    "RepeatVector": {"n": 2},
    "Concatenate": {},
    **{name: {} for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
}
SUPPORTED = sorted(MINIMAL)
KERAS1_NAMES = sorted(shapes._KERAS1_NAMES)


def keras_keywords(class_name: str, config: dict[str, Any] | None = None) -> set[str]:
    """The keys Keras 3 names for a class: its constructor's, Layer's and get_config()'s."""
    cls = getattr(keras.layers, class_name)
    skip = {"self", "args", "kwargs"}
    own = set(inspect.signature(cls.__init__).parameters) - skip
    base = set(inspect.signature(keras.layers.Layer.__init__).parameters) - skip
    layer = build({"class_name": class_name, "config": config or MINIMAL[class_name]})
    return own | base | set(layer.get_config())


def keras_accepts(class_name: str, **extra: Any) -> bool:
    """Does the Keras 3 constructor take the minimal config plus these keys?"""
    fresh_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build({"class_name": class_name, "config": {**MINIMAL[class_name], **extra}})
    except ValueError as err:
        assert "Unrecognized keyword arguments" in str(err), err
        return False
    return True


def spec_accepted(class_name: str, **extra: Any) -> bool:
    try:
        layer_spec({"class_name": class_name, "config": {**MINIMAL[class_name], **extra}})
    except ValueError as err:
        # Every refusal names the key in the learner's words.
        assert all(f"has no argument {key!r}" in str(err) for key in extra), err
        return False
    return True


@pytest.mark.parametrize("class_name", SUPPORTED)
def test_argument_lists_match_keras(class_name: str) -> None:
    """Does each class accept exactly the keys Keras 3's constructor and get_config() name?"""
    assert shapes._ARGUMENTS[class_name] == keras_keywords(class_name)
    # Every form a real layer serializes to passes, with or without build_config.
    fresh_session()
    layer = build({"class_name": class_name, "config": MINIMAL[class_name]})
    layer_spec(layer)
    layer_spec(keras.layers.serialize(layer))


@pytest.mark.parametrize("class_name", SUPPORTED)
def test_every_accepted_key_builds_in_keras(class_name: str) -> None:
    """Does Keras 3 build the layer with each key we accept, the deprecated ones included?"""
    cls = getattr(keras.layers, class_name)
    defaults = {
        name: parameter.default
        for init in (keras.layers.Layer.__init__, cls.__init__)
        for name, parameter in inspect.signature(init).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    legacy_values = {"input_shape": (3,), "input_dim": 3, "input_length": 4, "implementation": 2}
    config = build({"class_name": class_name, "config": MINIMAL[class_name]}).get_config()
    for key in sorted(shapes._accepted_arguments(class_name) - set(MINIMAL[class_name])):
        value = legacy_values.get(key, config.get(key, defaults.get(key)))
        if class_name == "InputLayer" and key in ("batch_shape", "input_tensor"):
            continue  # these replace `shape`, not add to it
        assert keras_accepts(class_name, **{key: value}), key
        assert spec_accepted(class_name, **{key: value}), key


@pytest.mark.parametrize("class_name", SUPPORTED)
def test_keras1_names_are_refused_where_keras_refuses_them(class_name: str) -> None:
    """Is each Keras 1 spelling refused exactly where Keras 3 refuses it, naming its new name?"""
    renamed = {**shapes._KERAS1_NAMES}
    if class_name == "Embedding":
        renamed.update(shapes._KERAS1_EMBEDDING_NAMES)
    extra = ["batch_input_shape", "input_length", "consume_less", "return_sequence", "xyz"]
    config = build({"class_name": class_name, "config": MINIMAL[class_name]}).get_config()
    for key in [*KERAS1_NAMES, *extra]:
        if class_name == "InputLayer" and key == "batch_input_shape":
            continue  # InputLayer reads it, as its batch_shape: see the test below
        value = [2, 3, 1] if key == "batch_input_shape" else 1
        accepted = keras_accepts(class_name, **{key: value})
        assert spec_accepted(class_name, **{key: value}) == accepted, key
        if accepted:
            continue
        with pytest.raises(ValueError) as info:
            layer_spec({"class_name": class_name, "config": {**MINIMAL[class_name], key: value}})
        new = renamed.get(key)
        if new in shapes._ARGUMENTS[class_name]:
            assert f"Keras 3 calls it {new!r}." in str(info.value)
            assert keras_accepts(class_name, **{new: config[new]})


def test_keras1_lstm_message_is_actionable() -> None:
    """Does an old LSTM spelling get a message saying what Keras 3 calls it?"""
    spec = {"class_name": "LSTM", "config": {"units": 64, "inner_activation": "hard_sigmoid"}}
    with pytest.raises(ValueError) as info:
        count_params(spec, (None, 10, 3))
    assert str(info.value) == (
        "LSTM has no argument 'inner_activation': Keras 1 called it that (Keras 2 still "
        "translated it); Keras 3 calls it 'recurrent_activation'."
    )
    fresh_session()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to LSTM"):
        build(spec)
    dense = {"class_name": "Dense", "config": {"output_dim": 1}}
    with pytest.raises(ValueError, match=r"needs 'units'\. .*Keras 3 calls it 'units'\.$"):
        output_shapes(dense, (None, 4))
    simple = {"class_name": "SimpleRNN", "config": {"units": 2, "inner_activation": "sigmoid"}}
    with pytest.raises(ValueError, match="Keras 1 name of 'recurrent_activation', which SimpleRNN"):
        output_shapes(simple, (None, 4, 1))
    frozen_init = {"class_name": "Embedding", "config": {**MINIMAL["Embedding"], "init": "zeros"}}
    with pytest.raises(ValueError, match="Keras 3 calls it 'embeddings_initializer'"):
        layer_spec(frozen_init)


def test_keras2_sequential_spec_names_every_old_spelling_and_the_layer() -> None:
    """Does a Keras 2 model spec name the layer, the missing units and each old keyword?"""
    spec = [
        {
            "class_name": "Embedding",
            "config": {"input_dim": 2000, "output_dim": 16, "input_length": 40},
        },
        {
            "class_name": "LSTM",
            "config": {
                "output_dim": 32,
                "activation": "sigmoid",
                "inner_activation": "hard_sigmoid",
            },
        },
        {"class_name": "Dense", "config": {"units": 1}},
    ]
    with pytest.raises(ValueError) as info:
        stack_shapes(spec, (None, 40))
    message = str(info.value)
    assert message.startswith("Layer 2 ('lstm', LSTM): LSTM config needs 'units'. ")
    assert "'output_dim': Keras 1 called it that" in message
    assert "Keras 3 calls it 'units'." in message
    assert "Keras 3 calls it 'recurrent_activation'." in message
    # The repaired spec builds, and input_length does not change a shape.
    spec[1]["config"] = {
        "units": 32,
        "activation": "sigmoid",
        "recurrent_activation": "hard_sigmoid",
    }
    rows = stack_shapes(spec, (None, 40))
    assert rows[0].output_shapes == [(None, 40, 16)]
    assert sum(row.params for row in rows) == 2000 * 16 + 4 * (32 * (32 + 16) + 32) + 33


def test_input_length_is_accepted_and_ignored_as_in_keras() -> None:
    """Does Embedding's input_length pass with no effect on shapes, as Keras 3 only warns?"""
    spec = {
        "class_name": "Embedding",
        "config": {"input_dim": 50, "output_dim": 4, "input_length": 40},
    }
    fresh_session()
    with pytest.warns(UserWarning, match="input_length"):
        layer = build(spec)
    assert "input_length" not in layer.get_config()
    assert output_shapes(spec, (None, 20)) == keras_output_shapes(layer, (None, 20))
    assert output_shapes(spec, (None, 20)) == [(None, 20, 4)]
    # Keras 3 leaves a Sequential model that starts this way unbuilt; so do the rules.
    with pytest.warns(UserWarning):
        model = keras.Sequential([build(spec), keras.layers.LSTM(2)])
    assert not model.built
    with pytest.raises(ValueError, match=r"ignores input_length=40.*keras\.Input\(shape=\(40,\)\)"):
        stack_shapes([spec, {"class_name": "LSTM", "config": {"units": 2}}])


def test_batch_input_shape_points_to_keras_input() -> None:
    """Is batch_input_shape refused on a layer, with the keras.Input that replaces it?"""
    spec = {
        "class_name": "LSTM",
        "config": {"units": 2, "stateful": True, "batch_input_shape": [2, 3, 1]},
    }
    with pytest.raises(ValueError) as info:
        layer_spec(spec)
    message = str(info.value)
    assert "LSTM has no argument 'batch_input_shape'" in message
    assert "keras.Input(batch_shape=(2, 3, 1))" in message
    assert '{"class_name": "InputLayer", "config": {"batch_shape": (2, 3, 1)}}' in message
    fresh_session()
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        build(spec)
    # The repair the message suggests works, and InputLayer still reads the old name.
    lstm = {"class_name": "LSTM", "config": {"units": 2, "stateful": True}}
    for first in (
        {"class_name": "InputLayer", "config": {"batch_shape": (2, 3, 1)}},
        {"class_name": "InputLayer", "config": {"batch_input_shape": [2, 3, 1]}},
    ):
        assert stack_shapes([first, lstm])[0].output_shapes == [(2, 2)]
        assert build(first).batch_shape == (2, 3, 1)


def test_input_shape_on_the_first_layer_builds_as_in_keras() -> None:
    """Does a first layer's input_shape (or input_dim) set the input, as keras.Sequential does?"""
    for first, rest in (
        ({"class_name": "LSTM", "config": {"units": 4, "input_shape": [5, 3]}}, []),
        ({"class_name": "Dense", "config": {"units": 4, "input_dim": 3}}, []),
        (
            {
                "class_name": "SimpleRNN",
                "config": {"units": 4, "input_shape": [5, 3], "return_sequences": True},
            },
            [{"class_name": "LSTM", "config": {"units": 2, "input_shape": [99, 99]}}],
        ),
    ):
        fresh_session()
        with pytest.warns(UserWarning, match="input_shape"):
            model = keras.Sequential([build(first), *map(build, rest)])
        assert model.built
        rows = stack_shapes([first, *rest])
        assert rows[-1].output_shapes == [tuple(model.layers[-1].output.shape)]
        assert sum(row.params for row in rows) == model.count_params()
    inputs = {"class_name": "InputLayer", "config": {"input_shape": [5, 3], "batch_size": 8}}
    assert stack_shapes([inputs, first])[0].input_shape == (8, 5, 3)


_INPUT = {"class_name": "InputLayer", "config": {"batch_shape": [None, 8, 3]}}
_SEQUENCES = {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}}
_LAST = {"class_name": "LSTM", "config": {"units": 8}}


@pytest.mark.parametrize(
    "stack",
    [
        [_INPUT, _SEQUENCES, _LAST],
        [_INPUT, _SEQUENCES, {"class_name": "InputLayer", "config": {"shape": [8, 16]}}, _LAST],
        [_INPUT, _INPUT, _LAST],
        [{"class_name": "InputLayer", "config": {}}, _LAST],
    ],
    ids=["first", "in-between", "twice", "without-a-shape"],
)
def test_an_input_layer_builds_only_first_and_with_a_shape_as_in_keras(stack: list) -> None:
    """Does a stack with an InputLayer build when, and only when, Keras builds it: first,
    with a shape (one placed between two layers once passed the shape through, so a model
    that Keras refuses earned full marks)?"""
    fresh_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.Sequential([build(spec) for spec in stack])
            expected = [tuple(tensor.shape) for tensor in model.outputs]
    except (ValueError, TypeError):
        expected = None
    try:
        produced = stack_shapes(stack)[-1].output_shapes
    except ValueError as err:
        assert expected is None, err
        assert "InputLayer" in str(err)
        return
    assert produced == expected


def test_input_layer_ignores_unknown_keys_as_keras_does() -> None:
    """Does InputLayer let unknown keys pass, as Keras 3 (which never reads them) does?"""
    assert keras_accepts("InputLayer", not_an_argument=1)
    assert spec_accepted("InputLayer", not_an_argument=1)


def test_typos_get_the_closest_argument() -> None:
    """Does a misspelt option get a 'did you mean', and an unknown one a plain refusal?"""
    with pytest.raises(
        ValueError,
        match=r"no argument 'return_sequence'; did you mean "
        r"'return_sequences'\?",
    ):
        layer_spec({"class_name": "GRU", "config": {"units": 2, "return_sequence": True}})
    with pytest.raises(ValueError, match="rejects it as an unrecognized keyword argument"):
        layer_spec({"class_name": "Dropout", "config": {"rate": 0.1, "q": 0.1}})
    with pytest.raises(ValueError, match="Keras 1 called it that .* Keras 3 calls it 'rate'"):
        layer_spec({"class_name": "Dropout", "config": {"p": 0.1}})
    with pytest.raises(ValueError, match="trainable to be True or False"):
        layer_spec({"class_name": "Dense", "config": {"units": 1, "trainable": "no"}})


# --- trainable and frozen weights ----------------------------------------------------


def keras_weight_count(weights: list) -> int:
    return int(sum(np.prod(weight.shape) for weight in weights))


@pytest.mark.parametrize(
    ("spec", "input_shape"),
    [
        (
            {
                "class_name": "Embedding",
                "config": {"input_dim": 30, "output_dim": 4, "trainable": False},
            },
            (None, 7),
        ),
        ({"class_name": "LSTM", "config": {"units": 3, "trainable": False}}, (None, 5, 2)),
        (
            {
                "class_name": "Bidirectional",
                "config": {
                    "layer": {"class_name": "GRU", "config": {"units": 3, "trainable": False}}
                },
            },
            (None, 5, 2),
        ),
        (
            {
                "class_name": "Bidirectional",
                "config": {
                    "layer": {"class_name": "LSTM", "config": {"units": 3}},
                    "backward_layer": {
                        "class_name": "LSTM",
                        "config": {"units": 2, "go_backwards": True, "trainable": False},
                    },
                },
            },
            (2, 5, 2),
        ),
        (
            {
                "class_name": "TimeDistributed",
                "config": {
                    "trainable": False,
                    "layer": {"class_name": "Dense", "config": {"units": 2}},
                },
            },
            (None, 5, 2),
        ),
        ({"class_name": "Dense", "config": {"units": 2}}, (None, 3)),
    ],
)
def test_trainable_counts_match_keras(spec: dict, input_shape: tuple) -> None:
    """Are frozen weights counted as Keras's trainable_weights and non_trainable_weights do?"""
    fresh_session()
    layer = build(spec)
    layer(np.zeros([dim or 1 for dim in input_shape], "float32"))
    for form in (spec, layer, keras.layers.serialize(layer)):
        assert count_params(form, input_shape, trainable=True) == keras_weight_count(
            layer.trainable_weights
        )
        assert count_params(form, input_shape, trainable=False) == keras_weight_count(
            layer.non_trainable_weights
        )
        assert count_params(form, input_shape) == layer.count_params()
    row = stack_shapes([spec], input_shape)[0]
    assert row.trainable_params == keras_weight_count(layer.trainable_weights)
    assert row.non_trainable_params == keras_weight_count(layer.non_trainable_weights)


# --- the rank hint ---------------------------------------------------------------------


@pytest.mark.parametrize("class_name", RECURRENT)
def test_rank_2_hint_offers_both_reshapes_and_says_which_is_which(class_name: str) -> None:
    """For (batch, n), are (batch, 1, n) and (batch, n, 1) both offered, each with its meaning?

    Both reshapes must then build in Keras.
    """
    spec = {"class_name": class_name, "config": {"units": 2}}
    with pytest.raises(ValueError) as info:
        output_shapes(spec, (None, 8))
    message = str(info.value)
    assert "reshape to (batch, 1, 8) if the 8 values are 8 features at one timestep" in message
    assert "(batch, 8, 1) if they are a series of 8 readings of 1 feature" in message
    assert "return_sequences=True" in message
    for fixed in ((None, 1, 8), (None, 8, 1)):
        assert output_shapes(spec, fixed) == [(None, 2)]
        fresh_session()
        assert keras_output_shapes(build(spec), fixed) == [(None, 2)]
    with pytest.raises(ValueError, match=r"\(batch, 1, n\) if the n values .* \(batch, n, 1\)"):
        output_shapes(spec, (None, None))
    with pytest.raises(ValueError, match=r"Add a timesteps axis: reshape to \(batch, 1, 1\)\."):
        output_shapes(spec, (None, 1))


# --- option values Keras refuses ------------------------------------------------------

# What each name-valued option resolves through, in the installed Keras, and the names kept.
NAMED_OPTIONS = {
    "activation": ("activations", shapes._ACTIVATION_NAMES),
    "kernel_initializer": ("initializers", shapes._INITIALIZER_NAMES),
    "recurrent_regularizer": ("regularizers", shapes._REGULARIZER_NAMES),
    "bias_constraint": ("constraints", shapes._CONSTRAINT_NAMES),
}


def keras_knows(module: str, name: Any) -> bool:
    """Does Keras's getter for activations, initializers, ... resolve ``name``?"""
    try:
        getattr(keras, module).get(name)
    except ImportError:  # a known name whose object needs an optional package (STFT: SciPy)
        return True
    except (ValueError, KeyError, TypeError):
        return False
    return True


@pytest.mark.parametrize("key", sorted(NAMED_OPTIONS))
def test_option_names_match_keras(key: str) -> None:
    """Is each set of names exactly the names Keras's getter resolves, among every object
    Keras registers for it and every public name of its module?"""
    import importlib

    module, recorded = NAMED_OPTIONS[key]
    registered = set(importlib.import_module(f"keras.src.{module}").ALL_OBJECTS_DICT)
    public = {name for name in dir(getattr(keras, module)) if not name.startswith("_")}
    candidates = registered | public | recorded
    assert recorded == {name for name in candidates if keras_knows(module, name)}


def keras_constructs(class_name: str, config: dict[str, Any]) -> bool:
    """Does Keras 3 construct the layer (where it reads option values)?"""
    fresh_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            build({"class_name": class_name, "config": config})
    except ImportError:
        return True  # see keras_knows
    except ValueError:
        return False
    return True


def spec_builds(class_name: str, config: dict[str, Any]) -> bool:
    try:
        layer_spec({"class_name": class_name, "config": config})
    except ValueError:
        return False
    return True


def misspelt(names: frozenset[str]) -> st.SearchStrategy[str]:
    """Known names, the same names with another case or spelling, and other words."""
    known = st.sampled_from(sorted(names))
    return st.one_of(
        known,
        known.map(str.upper),
        known.map(str.title),
        known.map(lambda name: name.replace("_", "")),
        known.map(lambda name: name[:-1]),
        st.text(alphabet="abcdefghilnorstu_", min_size=1, max_size=10),
    )


@PROPERTY
@given(
    key=st.sampled_from(sorted(NAMED_OPTIONS)),
    data=st.data(),
)
def test_a_name_is_refused_exactly_where_keras_refuses_it(key: str, data: st.DataObject) -> None:
    """Is an activation, initializer, regularizer or constraint name refused when, and only
    when, Keras 3 refuses it ("Tanh", "glorot", a typo, or a known name whose object cannot
    fill the layer's weights, "stft"), an unknown one with a message naming the option and
    the closest name Keras knows?"""
    module, names = NAMED_OPTIONS[key]
    value = data.draw(misspelt(names))
    config = {"units": 3, key: value}
    assert spec_builds("LSTM", config) == keras_builds("LSTM", config), value
    if not spec_builds("LSTM", config) and value not in names:
        with pytest.raises(ValueError, match=f"LSTM's {key} {value!r} is not a name Keras 3 knows"):
            layer_spec({"class_name": "LSTM", "config": config})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("activation", 5),
        ("activation", ["tanh"]),
        ("kernel_initializer", {"class_name": "Glorot", "config": {}}),
        ("kernel_initializer", {"class_name": "GlorotUniform", "config": {"seed": 1}}),
        ("activation", None),
        ("recurrent_activation", "Sigmoid"),
    ],
)
def test_other_values_of_named_options_are_judged_as_keras_judges_them(
    key: str, value: Any
) -> None:
    """Are values that are not names (numbers, lists, serialized dicts, None) refused
    exactly where Keras 3 refuses them?"""
    config = {"units": 3, key: value}
    assert spec_builds("LSTM", config) == keras_constructs("LSTM", config)


@pytest.mark.parametrize("rate", [-0.1, 0, 0.5, 1, 1.5, 5])
def test_a_dropout_rate_outside_0_and_1_is_refused_as_in_keras(rate: float) -> None:
    """Does Dropout's rate pass exactly when Keras takes it, while a recurrent layer's
    dropout, which Keras clips to [0, 1], always passes?"""
    assert spec_builds("Dropout", {"rate": rate}) == keras_constructs("Dropout", {"rate": rate})
    assert spec_builds("LSTM", {"units": 2, "dropout": rate})
    assert keras_constructs("LSTM", {"units": 2, "dropout": rate})


# What lstm_lib.shapes records about the objects an option may name, and the values Keras
# takes in their configs: checked against the installed Keras, so an upgrade fails here.
KINDS = {"initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_serialized_classes_and_their_arguments_match_keras(kind: str) -> None:
    """Does each kind list exactly the classes a dict may name (every key of Keras's
    ALL_OBJECTS_DICT, by class name or alias), each with its constructor's parameters?"""
    import importlib

    objects = importlib.import_module(f"keras.src.{KINDS[kind]}").ALL_OBJECTS_DICT
    recorded = shapes._SERIALIZED_CLASSES[kind]
    names = {
        name
        for name in {*recorded, *shapes._SERIALIZED_ALIASES}
        if shapes._SERIALIZED_ALIASES.get(name, name) in recorded
    }
    assert names == set(objects)
    for name, cls in objects.items():
        real = shapes._SERIALIZED_ALIASES.get(name, name)
        assert real == cls.__name__, name
        parameters = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs"}
        assert set(recorded[real]) == parameters, real
    # A name given as a string is one of these classes with an empty config.
    strings = {"initializer": shapes._INITIALIZER_NAMES, "regularizer": shapes._REGULARIZER_NAMES}
    for name in strings.get(kind, shapes._CONSTRAINT_NAMES):
        assert shapes._SERIALIZED_ALIASES.get(name, name) in recorded


def keras_builds(class_name: str, config: dict[str, Any]) -> bool:
    """Does Keras 3 construct the layer, build it on an input, compute its regularization
    losses and apply its constraints (what one training step does), all without error?

    Any exception counts as a refusal: a bad option value surfaces as ValueError or
    TypeError from Keras, but also as a TensorFlow error, a KeyError or NotImplementedError,
    and each stops the learner's model as surely.
    """
    fresh_session()
    shape = {"Dense": (2, 3), "Embedding": (2, 4), "Dropout": (2, 3), "Activation": (2, 3)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = build({"class_name": class_name, "config": config})
            batch_shape = shape.get(class_name, (2, 4, 3))
            dtype = "int32" if class_name == "Embedding" else None
            layer(keras.Input(batch_shape=batch_shape, dtype=dtype))
            layer.losses  # noqa: B018 -- runs each weight's regularizer
            for weight in layer.weights:
                if weight.constraint is not None:
                    weight.constraint(weight.value)
    except Exception:  # any error stops the learner's model: see the docstring
        return False
    return True


def refusal(class_name: str, config: dict[str, Any]) -> str:
    with pytest.raises(ValueError) as info:
        layer_spec({"class_name": class_name, "config": config})
    return str(info.value)


L1_BAD = {"class_name": "L1", "config": {"l1": -1}}
GET_CONFIG_INITIALIZER = {
    "module": "keras.initializers",
    "class_name": "GlorotUniform",
    "config": {"seed": None},
    "registered_name": None,
}


@pytest.mark.parametrize(
    ("class_name", "option", "value", "message"),
    [
        ("LSTM", "seed", "x", "LSTM's seed 'x' is not one Keras 3 takes: write an integer"),
        ("GRU", "seed", "x", "GRU's seed 'x' is not one Keras 3 takes"),
        ("SimpleRNN", "seed", 1.5, "SimpleRNN's seed 1.5 is not one Keras 3 takes"),
        ("Dropout", "seed", True, "Dropout's seed True is not one Keras 3 takes"),
        ("LSTM", "seed", 2**63, "an integer smaller than 2**63"),
        ("LSTM", "seed", -3, None),
        ("LSTM", "seed", 2**63 - 1, None),
        ("LSTM", "dropout", "abc", "LSTM's dropout 'abc' is not a number: write a fraction"),
        ("LSTM", "dropout", None, "LSTM's dropout None is not a number"),
        ("GRU", "recurrent_dropout", "0.5", "GRU's recurrent_dropout '0.5' is not a number"),
        ("LSTM", "dropout", float("nan"), None),
        ("LSTM", "recurrent_dropout", 7, None),
        ("LSTM", "activation", {"class_name": "relu", "config": {}}, "write the activation's"),
        (
            "LSTM",
            "activation",
            {"module": "builtins", "class_name": "function", "config": "relu"},
            None,
        ),
        ("LSTM", "kernel_regularizer", L1_BAD, "L1's l1 -1 is not one Keras 3 takes"),
        (
            "LSTM",
            "kernel_regularizer",
            {"class_name": "L1L2", "config": {"l1": "a"}},
            "L1L2's l1 'a' is not one Keras 3 takes: write a number 0 or above",
        ),
        ("Dense", "kernel_regularizer", {"class_name": "L2", "config": {"l2": -5}}, "L2's l2 -5"),
        (
            "LSTM",
            "kernel_initializer",
            {"class_name": "VarianceScaling", "config": {"mode": "bogus"}},
            "VarianceScaling's mode 'bogus' is not one Keras 3 takes: write one of 'fan_avg'",
        ),
        (
            "LSTM",
            "recurrent_initializer",
            {"class_name": "Orthogonal", "config": {"nonsense": 3}},
            "Orthogonal has no argument 'nonsense'; it takes gain, seed.",
        ),
        ("LSTM", "bias_initializer", "orthogonal", "needs a matrix, and the bias is a vector"),
        ("LSTM", "bias_initializer", None, "leaves unit_forget_bias=True nothing to add"),
        ("GRU", "bias_initializer", None, None),
        ("Dense", "kernel_initializer", "initializer", "is the abstract base class"),
        ("Dense", "kernel_initializer", {"class_name": "Constant", "config": {}}, "needs 'value'"),
        ("Dense", "kernel_initializer", {"class_name": "Constant", "config": {"value": 2}}, None),
        ("Dense", "kernel_initializer", GET_CONFIG_INITIALIZER, None),
        ("Embedding", "embeddings_constraint", {"class_name": "MaxNorm", "config": {}}, None),
        (
            "Dense",
            "bias_constraint",
            {"class_name": "UnitNorm", "config": {"axis": 1}},
            "write an axis of the 1-D weight (0 to 0)",
        ),
    ],
)
def test_option_values_keras_refuses_are_refused_with_the_reason(
    class_name: str, option: str, value: Any, message: str | None
) -> None:
    """Is each value refused exactly where Keras 3 refuses to build the layer, with one
    sentence naming the option and what to write instead?"""
    config = {**MINIMAL[class_name], option: value}
    assert spec_builds(class_name, config) == keras_builds(class_name, config) == (not message)
    if message:
        text = refusal(class_name, config)
        assert message in text
        assert text.startswith(f"{class_name}'s {option} ")
        assert text.count(". ") == 0 and text.endswith((".", "?"))


def test_a_layers_own_get_config_passes_whatever_its_options() -> None:
    """Is what layer.get_config() writes for non-default objects accepted?"""
    fresh_session()
    layer = keras.layers.LSTM(
        3,
        seed=7,
        dropout=0.1,
        kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
        recurrent_initializer=keras.initializers.Orthogonal(gain=0.5, seed=2),
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02),
        recurrent_regularizer=keras.regularizers.OrthogonalRegularizer(0.1, "columns"),
        kernel_constraint=keras.constraints.MinMaxNorm(0.0, 2.0, axis=1),
        bias_constraint=keras.constraints.NonNeg(),
    )
    for form in (layer, layer.get_config(), keras.layers.serialize(layer)):
        layer_spec(
            form
            if not isinstance(form, dict) or "config" in form
            else {"class_name": "LSTM", "config": form}
        )


@pytest.mark.parametrize(
    ("class_name", "module", "registered"),
    [
        (name, module, registered)
        for name in ("function", "relu")
        for module in ("builtins", "keras.activations", "keras", None)
        for registered in (None, "function", "relu", "x")
    ],
)
def test_an_activation_dict_is_read_exactly_where_keras_reads_it(
    class_name: str, module: str | None, registered: str | None
) -> None:
    """Are the modules recorded for an activation dict the ones keras.activations.get
    reads it from, as a serialized function or as a function named as a class?"""
    value = {
        "class_name": class_name,
        "config": "relu" if class_name == "function" else {},
        "module": module,
        "registered_name": registered,
    }
    assert spec_builds("Dense", {"units": 2, "activation": value}) == keras_knows(
        "activations", value
    )


@pytest.mark.parametrize("name", sorted(shapes._ACTIVATION_NAMES))
def test_the_activations_a_dict_may_name_match_keras(name: str) -> None:
    """Does keras.activations.get read each dict form of exactly the recorded names?"""
    forms = [
        {"class_name": "function", "config": name, "module": "builtins"},
        {"class_name": "function", "config": name, "module": "keras.activations"},
        {"class_name": name, "config": {}, "module": "keras.activations"},
    ]
    for form in forms:
        known = keras_knows("activations", form)
        assert known == (name in shapes._ACTIVATION_DICT_NAMES), form
        assert spec_builds("Dense", {"units": 2, "activation": form}) == known, form


# The options whose values the property draws, by layer class.
VALUED_OPTIONS = {
    "LSTM": (
        *("seed", "dropout", "recurrent_dropout", "activation", "recurrent_activation"),
        *("kernel_initializer", "recurrent_initializer", "bias_initializer"),
        *("kernel_regularizer", "bias_regularizer", "activity_regularizer"),
        *("recurrent_constraint", "bias_constraint"),
    ),
    "Dense": ("activation", "bias_initializer", "kernel_regularizer", "kernel_constraint"),
    "Embedding": ("embeddings_initializer", "embeddings_regularizer", "embeddings_constraint"),
    "Dropout": ("seed", "rate"),
}
scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(-(2**70), 2**70),
    st.floats(-2, 2),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    st.sampled_from(["x", "0.5", "3", "relu", "tanh", "fan_in", "rows", "uniform", "NORMAL"]),
)


@st.composite
def serialized_objects(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A dict naming a class (known, an alias, a function, unknown) with a config of its
    own arguments, unknown ones, and values of every type."""
    classes = shapes._SERIALIZED_CLASSES.get(kind, {})
    aliases = [alias for alias, real in shapes._SERIALIZED_ALIASES.items() if real in classes]
    names = sorted({*classes, *aliases, *shapes._ACTIVATION_NAMES, "function", "Glorot"})
    class_name = draw(st.sampled_from(names))
    arguments = sorted(classes.get(shapes._SERIALIZED_ALIASES.get(class_name, class_name), {}))
    choices = sorted({*shapes._DISTRIBUTIONS, "fan_in", "fan_out", "fan_avg", "rows", "columns"})
    values = st.one_of(
        scalar_values,
        st.sampled_from(choices),
        st.lists(st.integers(-3, 3), max_size=2),
    )
    config = draw(
        st.dictionaries(st.sampled_from([*arguments, "nonsense"]), values, max_size=2)
        | st.sampled_from(["relu", None])
    )
    spec = {"class_name": class_name, "config": config}
    if draw(st.booleans()):
        spec["module"] = draw(
            st.sampled_from([None, "builtins", f"keras.{kind}s", "keras.activations"])
        )
    if draw(st.booleans()):
        spec["registered_name"] = draw(st.sampled_from([None, "function", class_name]))
    return spec


@pytest.mark.parametrize("factor", [False, True, 0, 1, 0.0, 0.01, -0.01])
def test_the_orthogonal_regularizers_factor_is_taken_exactly_where_keras_takes_it(
    factor: Any,
) -> None:
    """Keras checks OrthogonalRegularizer's factor as a number, then keeps it as a tensor
    of its own type: an int or bool factor passed the spec and then stopped the first
    training step. Does the spec take exactly the factors Keras trains with?"""
    config = {
        "input_dim": 5,
        "output_dim": 2,
        "embeddings_regularizer": {
            "class_name": "orthogonal_regularizer",
            "config": {"factor": factor},
        },
    }
    assert spec_builds("Embedding", config) == keras_builds("Embedding", config)


@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_an_option_value_is_refused_exactly_where_keras_refuses_it(data: st.DataObject) -> None:
    """Does a spec pass exactly when Keras 3 constructs, builds and trains the layer with
    the value, whatever its type: strings, None, bools, ints, floats (NaN and infinities
    too), lists, serialized dicts with known, unknown and ill-typed arguments?"""
    class_name = data.draw(st.sampled_from(sorted(VALUED_OPTIONS)))
    option = data.draw(st.sampled_from(VALUED_OPTIONS[class_name]))
    named = shapes._named_kind(option)
    kind = named[0] if named else "none"
    value = data.draw(
        st.one_of(
            scalar_values,
            st.lists(scalar_values, max_size=2),
            serialized_objects(kind),
            *([st.sampled_from(sorted(named[1]))] if named else []),
        )
    )
    config = {**MINIMAL[class_name], option: value}
    assert spec_builds(class_name, config) == keras_builds(class_name, config), config


@pytest.mark.parametrize("class_name", ["LSTM", "GRU"])
@pytest.mark.parametrize(
    "value",
    ["auto", True, False, 0, 1, 1.0, 0.0, None, "x", "True", 2, -1, 0.5, [], {}, [True]],
    ids=repr,
)
def test_use_cudnn_is_refused_exactly_where_keras_refuses_it(class_name: str, value: Any) -> None:
    """Keras 3 refuses a use_cudnn not equal to "auto", True or False when it constructs
    the layer: is each value refused exactly then, so a model that never builds earns
    nothing?"""
    config = {"units": 2, "use_cudnn": value}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            build({"class_name": class_name, "config": config})
        except ValueError:
            constructs = False
        else:
            constructs = True
    assert spec_builds(class_name, config) == constructs, value


@pytest.mark.parametrize(
    "value",
    [None, [], [[1.0, 2.0]], (), "x", "", 0, 0.0, False, {}, 1, -1, 0.5, True, {"a": 1}],
    ids=repr,
)
def test_bidirectional_weights_are_refused_exactly_where_keras_refuses_them(value: Any) -> None:
    """Keras 3 slices a true weights value in half between the two directions: is a number,
    True or a dict, which it cannot slice, refused, and every value it takes accepted?"""
    config = {**MINIMAL["Bidirectional"], "weights": value}
    assert spec_builds("Bidirectional", config) == keras_builds("Bidirectional", config), value


BIDIRECTIONAL_ARRAYS = {
    "one-number": np.array([1.0]),
    "one-zero": np.array([0.0]),
    "one-number-2d": np.array([[2.0]]),
    "zero-d-zero": np.array(0.0),
    "zero-d-number": np.array(1.0),
    "two-numbers": np.array([1.0, 2.0]),
    "empty": np.zeros(0),
}


# Each case runs a Keras model. The quick run keeps one array for each path of
# _bidirectional_takes: no truth (two numbers), a true array of one or more dimensions (one
# number), a false one (one zero), and a 0-d array holding 0 or another number; the 2-d
# array of one number and the empty array repeat a path and run in `make test`.
_SLOW_BIDIRECTIONAL_ARRAYS = {"one-number-2d", "empty"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow if name in _SLOW_BIDIRECTIONAL_ARRAYS else ())
        for name in sorted(BIDIRECTIONAL_ARRAYS)
    ],
)
def test_bidirectional_weights_as_an_array_are_refused_exactly_where_keras_refuses_them(
    name: str,
) -> None:
    """Keras 3 tests an array given as Bidirectional's weights for truth, then halves it by
    its length: is an array of one number taken (a 0-d one only when it holds 0), and one
    of any other size refused?"""
    config = {**MINIMAL["Bidirectional"], "weights": BIDIRECTIONAL_ARRAYS[name]}
    assert spec_builds("Bidirectional", config) == keras_runs("Bidirectional", config), name


def keras_runs(class_name: str, config: dict[str, Any]) -> bool:
    """Does a model of this one layer, on a float32 input, build, predict and take one
    training step in Keras 3? Some options are read only when the layer is called."""
    fresh_session()
    shape = {"Dense": (4, 3), "Embedding": (4,)}.get(class_name, (4, 3))
    dtype = "int32" if class_name == "Embedding" else "float32"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.Sequential(
                [
                    keras.Input(shape, dtype=dtype),
                    build({"class_name": class_name, "config": config}),
                ]
            )
            data = np.ones((2, *shape), dtype=dtype)
            target = model.predict(data, verbose=0)
            model.compile("sgd", "mse")
            model.fit(data, target, epochs=1, verbose=0)
    except Exception:  # any error stops the learner's model, as in keras_builds
        return False
    return True


UNITS_VALUES = {"int": 2, "0-d": np.array(2), "0-d-float": np.array(2.0), "1-d": np.array([2])}
# Each case runs a Keras model. lstm_lib.shapes takes one path for an int and one for any
# array, so the quick run keeps, for every class, the int and the 0-d integer array (which
# Keras builds but cannot call: the case this test exists for), and each other array for
# one class; `make test` runs every class with every value.
_QUICK_UNITS = {("Dense", "0-d-float"), ("LSTM", "1-d")}


@pytest.mark.parametrize(
    ("units", "class_name"),
    [
        pytest.param(
            value,
            class_name,
            id=f"{name}-{class_name}",
            marks=()
            if name in ("int", "0-d") or (class_name, name) in _QUICK_UNITS
            else pytest.mark.slow,
        )
        for class_name in ["Dense", "LSTM", "GRU", "SimpleRNN"]
        for name, value in UNITS_VALUES.items()
    ],
)
def test_units_as_an_array_are_refused_exactly_where_keras_cannot_run(
    class_name: str, units: Any
) -> None:
    """A 0-d integer array passes operator.index, as an int does, but Keras builds the
    layer and fails when it is called: is units as an array of any kind refused, so the
    learner's kernel never calls such a model right?"""
    config = {**MINIMAL[class_name], "units": units}
    try:
        stack_shapes([{"class_name": class_name, "config": config}], (None, 4, 3))
    except ValueError:
        builds = False
    else:
        builds = True
    assert builds == keras_runs(class_name, config), units


# Options Keras 3 takes and, in the course's models (float32, no mask, no LoRA), reads for
# nothing but their truth, or not at all: what they may hold is what Keras runs with.
IGNORED_OPTION_VALUES = {
    **{repr(value): value for value in (True, False, None, 0, "x", [], [1, 2], {"a": 1}, 2.5)},
    "array-of-one": np.array([1.0]),
    "array-of-two": np.array([1.0, 2.0]),
    "empty-array": np.zeros(0),
}


IGNORED_OPTIONS = [
    ("LSTM", "zero_output_for_mask"),
    ("GRU", "zero_output_for_mask"),
    ("LSTM", "autocast"),
    ("Dense", "autocast"),
    ("Dense", "lora_alpha"),
    ("Embedding", "lora_alpha"),
]
# Each case runs a Keras model (about 0.4 s of graph tracing), so the quick run keeps, for
# every class and option, the values that take each path of lstm_lib.shapes: a plain value
# (never an array, so _has_truth answers at once), an array of one number (which has a
# truth) and an array of another size (which has none: autocast's refusal, and a value
# the other options never test). zero_output_for_mask and lora_alpha take no branch of
# their own, so a plain value and a truthless array show that Keras never reads them.
# The plain value rotates, so every plain type still meets Keras in the quick run; the
# full matrix runs in `make test`.
_QUICK_PLAIN_VALUES = ["'x'", "2.5", "[1, 2]", "{'a': 1}", "None", "[]"]
QUICK_IGNORED_OPTION_CASES = {
    *((pair, plain) for pair, plain in zip(IGNORED_OPTIONS, _QUICK_PLAIN_VALUES, strict=True)),
    *((pair, "array-of-two") for pair in IGNORED_OPTIONS),
    *((pair, "array-of-one") for pair in IGNORED_OPTIONS if pair[1] == "autocast"),
    *((pair, "empty-array") for pair in IGNORED_OPTIONS if pair[1] == "autocast"),
}


@pytest.mark.parametrize(
    ("name", "class_name", "key"),
    [
        pytest.param(
            name,
            class_name,
            key,
            id=f"{name}-{class_name}-{key}",
            marks=()
            if ((class_name, key), name) in QUICK_IGNORED_OPTION_CASES
            else pytest.mark.slow,
        )
        for class_name, key in IGNORED_OPTIONS
        for name in sorted(IGNORED_OPTION_VALUES)
    ],
)
def test_options_keras_reads_only_for_truth_are_refused_exactly_where_it_cannot_run(
    class_name: str, key: str, name: str
) -> None:
    """zero_output_for_mask, autocast and lora_alpha change nothing in a float32 model
    without a mask or LoRA: is every value Keras runs with taken, and one it cannot run
    with (an autocast array whose truth NumPy refuses) refused?"""
    value = IGNORED_OPTION_VALUES[name]
    config = {**MINIMAL[class_name], key: value}
    assert spec_builds(class_name, config) == keras_runs(class_name, config), (key, name)


EMBEDDING_WEIGHTS = {
    "none": None,
    "array": np.zeros((5, 2)),
    "array-in-a-list": [np.zeros((5, 2))],
    "int-array": np.ones((5, 2), dtype=int),
    "transposed": np.zeros((2, 5)),
    "two-arrays": [np.zeros((5, 2)), np.zeros((5, 2))],
    "array-in-a-tuple": (np.zeros((5, 2)),),
    "lists": [[0.0, 0.0]] * 5,
    "empty": [],
    "zero": 0,
    "false": False,
    "text": "x",
}


@pytest.mark.parametrize("name", sorted(EMBEDDING_WEIGHTS))
def test_embedding_weights_are_refused_exactly_where_keras_refuses_them(name: str) -> None:
    """Keras 3 starts an Embedding from its weights, read as an array of the embeddings'
    shape: is a list of lists, an array of another shape or any other value refused, as
    Keras fails to build the layer with it?"""
    config = {**MINIMAL["Embedding"], "weights": EMBEDDING_WEIGHTS[name]}
    assert spec_builds("Embedding", config) == keras_builds("Embedding", config), name


class _LeftOut:
    """An option the call leaves out (its own class: a stable name in the test ids)."""

    def __repr__(self) -> str:
        return "left-out"


_LEFT_OUT = _LeftOut()


@pytest.mark.parametrize("class_name", ["Dense", "LSTM", "Dropout"])
@pytest.mark.parametrize("input_dim", [_LEFT_OUT, None, 3, False], ids=repr)
@pytest.mark.parametrize("input_shape", [_LEFT_OUT, None, (3,)], ids=repr)
def test_input_dim_beside_input_shape_is_refused_where_keras_refuses_it(
    class_name: str, input_dim: Any, input_shape: Any
) -> None:
    """keras.layers.Layer leaves input_shape among the unknown keyword arguments once
    input_dim is set, and refuses it: is a layer given both refused exactly then?"""
    config = dict(MINIMAL[class_name])
    for key, value in (("input_dim", input_dim), ("input_shape", input_shape)):
        if value is not _LEFT_OUT:
            config[key] = value
    assert spec_builds(class_name, config) == keras_builds(class_name, config), config


# --- stacks Keras refuses ---------------------------------------------------------------


def keras_stack(specs: list[dict[str, Any]], input_shape: tuple) -> list[tuple] | None:
    """The output shapes of the Sequential model Keras builds from ``specs``, or None."""
    fresh_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.Sequential(
                [keras.Input(batch_shape=input_shape), *(build(spec) for spec in specs)]
            )
    except ValueError:
        return None
    return [tuple(tensor.shape) for tensor in model.outputs]


@st.composite
def wrapped_or_plain(draw: st.DrawFn) -> dict:
    """A recurrent layer, maybe inside a Bidirectional with any merge mode."""
    spec = draw(recurrent_specs())
    if draw(st.booleans()):
        merge_mode = draw(st.sampled_from(["concat", "sum", None]))
        return {"class_name": "Bidirectional", "config": {"layer": spec, "merge_mode": merge_mode}}
    return spec


@PROPERTY
@given(
    stack=st.lists(wrapped_or_plain(), min_size=1, max_size=3),
    input_shape=st.tuples(maybe_size, st.integers(2, 5), sizes),
)
def test_a_stack_builds_exactly_when_keras_builds_it(stack: list, input_shape: tuple) -> None:
    """Does a stack build when, and only when, a Keras Sequential model of it does (a layer
    that returns its states, or both directions apart, can only come last), and then
    return what the model returns?"""
    expected = keras_stack(stack, input_shape)
    try:
        rows = stack_shapes(stack, input_shape)
    except ValueError:
        assert expected is None
        return
    assert expected == rows[-1].output_shapes


def test_a_layer_after_one_that_returns_its_states_is_refused_with_the_reason() -> None:
    """Is LSTM(16, return_sequences=True, return_state=True) → LSTM(8) refused, as Keras
    refuses it, naming the flag that made three tensors?"""
    stack = [
        {
            "class_name": "LSTM",
            "config": {"units": 16, "return_sequences": True, "return_state": True},
        },
        {"class_name": "LSTM", "config": {"units": 8}},
    ]
    assert keras_stack(stack, (None, 8, 3)) is None
    with pytest.raises(ValueError) as info:
        stack_shapes(stack, (None, 8, 3))
    assert str(info.value) == (
        "Layer 2 ('lstm_1', LSTM) receives the 3 tensors layer 1 returns (its output, then "
        "its states: return_state=True) and takes one: in a stack, only the last layer may "
        "return more than one tensor."
    )


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ({"return_state": 1}, {}, "its states: return_state=1 (which Keras reads as True)"),
        ({"return_sequences": None}, {}, "has return_sequences=None (which Keras reads as False)"),
        ({"return_sequences": 0}, {}, "has return_sequences=0 (which Keras reads as False)"),
        ({"stateful": 1}, {}, "LSTM with stateful=1 (which Keras reads as True) needs"),
    ],
    ids=repr,
)
def test_a_refused_stack_says_a_flag_back_as_it_was_written(
    first: dict[str, Any], second: dict[str, Any], said: str
) -> None:
    """Keras reads a flag written None, 0 or 1 as False or True: does the reason a stack
    is refused quote the flag as the learner wrote it, with what Keras reads, rather than
    a bool the learner never wrote?"""
    stack = [
        {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True, **first}},
        {"class_name": "LSTM", "config": {"units": 8, **second}},
    ]
    with pytest.raises(ValueError) as info:
        stack_shapes(stack, (None, 8, 3))
    assert said in str(info.value)


@pytest.mark.parametrize(
    "backward",
    [
        {"go_backwards": False},
        {"go_backwards": True},
        {"go_backwards": True, "stateful": True},
        {"go_backwards": True, "return_sequences": True},
        {"go_backwards": True, "return_state": False},
    ],
)
def test_a_backward_layer_is_refused_exactly_where_keras_refuses_it(backward: dict) -> None:
    """Does a Bidirectional's own backward_layer need the other go_backwards and the same
    return flags and statefulness, as Keras 3 checks?"""
    inner = {"class_name": "LSTM", "config": {"units": 4, "return_state": True}}
    back = {"class_name": "LSTM", "config": {**inner["config"], **backward}}
    config = {"layer": inner, "backward_layer": back, "merge_mode": None}
    spec = {"class_name": "Bidirectional", "config": config}
    assert spec_builds("Bidirectional", config) == keras_constructs("Bidirectional", config)
    if spec_builds("Bidirectional", config):
        assert_matches_keras(spec, (2, 6, 3))


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("class_name", ["SimpleRNN", "LSTM", "GRU"])
def test_a_wrapped_layer_reading_backwards_is_refused_exactly_where_keras_refuses_it(
    class_name: str, go_backwards: bool
) -> None:
    """Without a backward_layer, Keras makes the backward copy with go_backwards=True, not
    flipped: does a wrapped layer that reads backwards build exactly when Keras builds it?"""
    inner = {"class_name": class_name, "config": {"units": 3, "go_backwards": go_backwards}}
    config = {"layer": inner, "merge_mode": "sum"}
    assert spec_builds("Bidirectional", config) == keras_constructs("Bidirectional", config)
    assert spec_builds("Bidirectional", config) is not go_backwards


def test_options_beside_the_config_are_named() -> None:
    """Is an option written beside "config" (where Keras reads none) named, while the keys
    keras.layers.serialize and a model's get_config write there pass?"""
    inner = {"class_name": "LSTM", "config": {"units": 4}}
    with pytest.raises(ValueError, match="'merge_mode' sits beside 'config'"):
        layer_spec({"class_name": "Bidirectional", "config": {"layer": inner}, "merge_mode": "sum"})
    with pytest.raises(ValueError, match="'units' sits beside 'config'"):
        layer_spec({"class_name": "Bidirectional", "config": {"layer": {**inner, "units": 4}}})
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(2)])
    for serialized in model.get_config()["layers"][1:]:
        assert layer_spec(serialized)["class_name"] in ("LSTM", "Dense")


def test_a_string_for_an_on_off_option_is_refused() -> None:
    """Keras tests use_bias and the return flags for truth, so "False" switches them on: is
    a string there refused with the bool to write?"""
    with pytest.raises(ValueError, match="write False without quotes"):
        layer_spec({"class_name": "Dense", "config": {"units": 2, "use_bias": "False"}})
    with pytest.raises(ValueError, match="is a string: write True or False"):
        layer_spec({"class_name": "LSTM", "config": {"units": 2, "return_state": "yes"}})
    assert layer_spec({"class_name": "GRU", "config": {"units": 2, "reset_after": False}})


flag_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2, 2, allow_nan=False),
    st.lists(st.integers(0, 1), max_size=2),
    st.dictionaries(st.sampled_from(["a"]), st.integers(0, 1), max_size=1),
    st.tuples(),
)


@PROPERTY
@given(
    class_name=st.sampled_from(RECURRENT),
    key=st.sampled_from(["return_sequences", "return_state"]),
    value=flag_values,
)
def test_a_flag_is_judged_only_as_a_bool_0_1_or_none(class_name: str, key: str, value: Any) -> None:
    """Keras builds a return flag of any value, on by its truth: return_state=[1] or 2 is
    on, {} or 0.0 off. Is a value other than a bool, 0, 1 or None refused as not judged as
    written, while those four give the shapes Keras gives?"""
    spec = {"class_name": class_name, "config": {"units": 3, key: value}}
    fresh_session()
    built = build(spec)
    outputs = built(keras.Input(shape=(5, 2)))
    as_bool = build({"class_name": class_name, "config": {"units": 3, key: bool(value)}})
    returned = outputs if isinstance(outputs, list | tuple) else [outputs]
    wanted = as_bool(keras.Input(shape=(5, 2)))
    wanted = wanted if isinstance(wanted, list | tuple) else [wanted]
    assert [t.shape for t in returned] == [t.shape for t in wanted]  # Keras reads its truth
    if value is None or type(value) is bool or (type(value) is int and value in (0, 1)):
        assert_matches_keras(spec, (None, 5, 2))
    else:
        with pytest.raises(shapes.FlagNotBoolError, match="neither True nor False"):
            output_shapes(spec, (None, 5, 2))


def test_a_class_name_in_another_case_gets_its_spelling() -> None:
    """Is "dense" told that class names are case-sensitive and that Keras's is "Dense"?"""
    with pytest.raises(UnsupportedLayerError, match="case-sensitive, did you mean 'Dense'"):
        layer_spec({"class_name": "dense", "config": {"units": 2}})


@pytest.mark.parametrize(
    ("written", "told", "recased"),
    [
        ("SimpleRNN ", "no spaces around it; write 'SimpleRNN'", "SimpleRNN"),
        ("\tLSTM", "no spaces around it; write 'LSTM'", "LSTM"),
        (
            "LS\u0422M",
            "is CYRILLIC CAPITAL LETTER TE, which only looks like the letter 'T'",
            "LSTM",
        ),
        ("SimpleRN\u039d", "(at position 9) is GREEK CAPITAL LETTER NU", "SimpleRNN"),
        ("\u0422ooLong", "is not covered", None),
    ],
)
def test_a_class_name_that_only_looks_right_is_told_what_differs(
    written: str, told: str, recased: str | None
) -> None:
    """A class name with a space around it, or with a letter of another alphabet that looks
    the same (a Cyrillic Т in LSТM), once got the list of supported layers, its own name
    in it: is it told what differs, and which name it means?"""
    with pytest.raises(UnsupportedLayerError, match=re.escape(told)) as caught:
        layer_spec({"class_name": written, "config": {"units": 2}})
    assert caught.value.recased == recased


@pytest.mark.parametrize(
    ("spec", "recased"),
    [
        ({"class_name": "Lstm", "config": {"units": 2}}, "LSTM"),
        ({"class_name": "rnn", "config": {}}, "RNN"),
        (
            {"class_name": "RNN", "config": {"cell": {"class_name": "gruCell", "config": {}}}},
            "GRUCell",
        ),
        ({"class_name": "Conv1D", "config": {"filters": 2}}, None),
    ],
)
def test_a_class_in_the_wrong_case_is_named_on_the_error(spec: dict, recased: str | None) -> None:
    """Does the error carry the class a name spells in another case, for the verdicts to
    tell it without reading the message?"""
    with pytest.raises(UnsupportedLayerError) as info:
        layer_spec(spec)
    assert info.value.recased == recased


@pytest.mark.parametrize("where", ["layer", "cell", "rnn"])
def test_many_refused_keys_cost_a_bounded_search(where: str, monkeypatch) -> None:
    """Is a config of thousands of refused keys (a learner chooses how many fit in an
    answer) told its first keys one by one and the rest as a count, with the search for
    each key's nearest accepted name run only for those told?"""
    searched: list[Any] = []
    unknown_argument = shapes._unknown_argument

    def counted(class_name: str, key: Any, value: Any, accepted: frozenset[str]) -> str:
        searched.append(key)
        return unknown_argument(class_name, key, value, accepted)

    monkeypatch.setattr(shapes, "_unknown_argument", counted)
    junk = {f"k{i:05d}": 0 for i in range(10_000)}
    spec = {
        "layer": {"class_name": "LSTM", "config": {"units": 2, **junk}},
        "cell": around_cell({"class_name": "LSTM", "config": {"units": 2, **junk}}),
        "rnn": around_cell({"class_name": "LSTM", "config": {"units": 2}}),
    }[where]
    if where == "rnn":
        spec["config"].update(junk)
    refused = "LSTMCell" if where == "cell" else "RNN" if where == "rnn" else "LSTM"
    with pytest.raises(ValueError) as info:
        layer_spec(spec)
    message = str(info.value)
    assert message.startswith(f"{refused} has no argument 'k00000': Keras 3 rejects it")
    assert f"{refused} has no argument 'k00049'" in message
    assert "'k00050'" not in message
    assert message.endswith(f"{refused} has 9,950 more arguments Keras 3 rejects.")
    assert len(searched) == shapes._MAX_NAMED_KEYS == 50


# --- options that change the weights' kind ----------------------------------------------

WEIGHTED = ("Dense", "SimpleRNN", "LSTM", "GRU", "Embedding")
# Every dtype policy Keras 3 knows, and some it does not.
DTYPES = (
    *sorted(shapes._FLOAT_DTYPES | shapes._INTEGER_DTYPES),
    *("uint8", "bool", "complex64", "float", "Float32", "int8_from_float32"),
    *("int4_from_mixed_bfloat16", "float8_from_float32", "int8_from_bfloat16", "xx_from_float32"),
)


def keras_count_at_every_size(spec: dict[str, Any], input_shapes: list[tuple]) -> list[int] | None:
    """Keras's count_params() for the spec at each input shape, or None where Keras fails
    to construct or build it at any of them."""
    counts = []
    for input_shape in input_shapes:
        fresh_session()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer = build(spec)
                layer.build(input_shape)
        except Exception:  # TensorFlow raises its own kinds too
            return None
        counts.append(layer.count_params())
    return counts


@pytest.mark.parametrize("class_name", WEIGHTED)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_dtype_is_accepted_where_keras_builds_the_weights_these_rules_count(
    class_name: str, dtype: str
) -> None:
    """Is a layer's dtype accepted exactly when Keras 3 builds its weights in it at the
    course's sizes with the count these rules give (an integer kernel fails to fill at most
    sizes; a quantized policy adds scales), whether written by name or as the serialized
    DTypePolicy?"""
    ranks = {"Dense": [(None, 6), (None, 3)], "Embedding": [(None, 4), (None, 9)]}
    input_shapes = ranks.get(class_name, [(None, 5, 6), (None, 4, 3)])
    units = {"Embedding": {"input_dim": 50, "output_dim": 4}}.get(class_name, {"units": 4})
    spec = {"class_name": class_name, "config": {**units, "dtype": dtype}}
    plain = {"class_name": class_name, "config": units}
    ours = [count_params(plain, shape) for shape in input_shapes]
    accepted = spec_builds(class_name, spec["config"])
    assert accepted == (keras_count_at_every_size(spec, input_shapes) == ours)
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype}}
    assert spec_builds(class_name, {**units, "dtype": policy}) == accepted


_ABSENT = object()


@st.composite
def serialized_policies(draw: st.DrawFn) -> dict[str, Any]:
    """A dict written for a dtype: a float policy's class or another (an initializer's, a
    quantized policy's, none), with or without a module, and a config of its name, of
    more, of another type, or none."""
    name = st.sampled_from(["float16", "float32", "mixed_bfloat16", "int32", "foo", None, 5])
    parts = {
        "class_name": st.sampled_from(
            [_ABSENT, "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy", "Zeros"]
        ),
        "module": st.sampled_from([_ABSENT, None, "keras", "keras.dtype_policies", "x"]),
        "config": st.one_of(
            st.sampled_from([_ABSENT, None, {}, "float16", []]),
            name.map(lambda n: {"name": n}),
            name.map(lambda n: {"name": n, "x": 1}),
        ),
        "registered_name": st.sampled_from([_ABSENT, None, "x"]),
    }
    drawn = {key: draw(values) for key, values in parts.items()}
    return {key: value for key, value in drawn.items() if value is not _ABSENT}


@PROPERTY
@given(class_name=st.sampled_from(["Dense", "LSTM"]), policy=serialized_policies())
def test_a_serialized_dtype_policy_is_accepted_exactly_where_keras_reads_it(
    class_name: str, policy: dict[str, Any]
) -> None:
    """Is a dtype written as a dict accepted exactly when Keras 3 reads it as a policy and
    builds the layer's weights in it with the count these rules give: a dict naming an
    initializer, a quantized policy or no class at all, or with "module": None, fails to
    build the layer?"""
    units = {"units": 4}
    ours = [count_params({"class_name": class_name, "config": units}, (None, 5, 6))]
    spec = {"class_name": class_name, "config": {**units, "dtype": policy}}
    built = keras_count_at_every_size(spec, [(None, 5, 6)]) == ours
    assert spec_builds(class_name, spec["config"]) == built, policy


def test_the_policy_names_of_a_layer_without_weights_match_keras() -> None:
    """Are the names recorded as policies of a layer without weights of its own exactly
    Keras's dtypes (less those it parses as a quantization mode), its mixed policies and
    its aliases?"""
    from keras.src.backend.common import dtypes
    from keras.src.dtype_policies.dtype_policy import QUANTIZATION_MODES

    recorded = {
        *(name for name in dtypes.ALLOWED_DTYPES if not name.startswith(QUANTIZATION_MODES)),
        *(name for name in dtypes.PYTHON_DTYPES_MAP if isinstance(name, str)),
        "mixed_float16",
        "mixed_bfloat16",
    }
    assert shapes._POLICY_NAMES == recorded


POLICIES_WITHOUT_WEIGHTS = (
    *("float16", "float32", "float64", "bfloat16", "mixed_float16", "mixed_bfloat16"),
    *("int", "int32", "uint8", "bool", "string", "complex64"),
    *("float8_e4m3fn", "int8", "int4", "float", "Float32", "float32 ", "x", "", "mixed_float32"),
    *(0, 0.5, True, [], ["float32"]),
    {"class_name": "DTypePolicy", "config": {"name": "float16"}},
    {"class_name": "DTypePolicy", "config": {"name": "x"}},
    {"class_name": "Zeros", "config": {}},
    {"config": {"name": "float32"}},
)


@pytest.mark.parametrize("class_name", ["Bidirectional", "Dropout"])
@pytest.mark.parametrize("dtype", POLICIES_WITHOUT_WEIGHTS, ids=repr)
def test_the_dtype_of_a_layer_without_weights_is_refused_where_keras_refuses_it(
    class_name: str, dtype: Any
) -> None:
    """A wrapper or a Dropout holds no weights of its own, but Keras 3 still reads its dtype
    as a policy: is a value refused exactly where Keras fails to build the layer with it?"""
    config = {**MINIMAL[class_name], "dtype": dtype}
    assert spec_builds(class_name, config) == keras_builds(class_name, config), dtype


@pytest.mark.parametrize("dtype", ["int8_from_float32", "float8_from_float16", "int4_from_x"])
def test_a_quantized_policy_is_refused_on_a_layer_without_weights(dtype: str) -> None:
    """The course's layers are built without quantization: is a quantized policy refused on
    a wrapper too, as on the layers with weights, whether Keras reads it or not?"""
    with pytest.raises(ValueError, match="is a quantized policy"):
        layer_spec(
            {"class_name": "Bidirectional", "config": {**MINIMAL["Bidirectional"], "dtype": dtype}}
        )


@PROPERTY
@given(
    config=st.dictionaries(
        st.sampled_from(["shape", "input_shape", "batch_shape", "batch_input_shape"]),
        st.sampled_from([(10, 6), [10, 5], (None, 10, 6), [None, 10, 5], (4, 10, 6)]),
        max_size=2,
    ),
    extra=st.dictionaries(
        st.sampled_from(["batch_size", "dtype", "input_tensor"]),
        st.sampled_from(
            [None, 4, "int32", "float16", "int", "string", "mixed_float16", "x", "Float32", 5]
        ),
        max_size=2,
    ),
)
def test_an_input_layer_is_refused_where_keras_refuses_it_and_read_as_keras_reads_it(
    config: dict[str, Any], extra: dict[str, Any]
) -> None:
    """Does an InputLayer spec build exactly when Keras 3 constructs the layer (a shape or
    a batch shape, not both; batch_size only beside a shape; a dtype Keras knows; no
    input_tensor but a KerasTensor), and declare the batch shape Keras gives it, the Keras
    2 names batch_input_shape and input_shape winning where written?"""
    config = {**config, **extra}
    fresh_session()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = keras.layers.InputLayer(**config)
    except (ValueError, TypeError):
        layer = None
    spec = {"class_name": "InputLayer", "config": config}
    if layer is None:
        with pytest.raises((ValueError, TypeError)):
            output_shapes(spec)
    else:
        assert output_shapes(spec) == [tuple(layer.batch_shape)], config


@pytest.mark.parametrize("trainable", [True, False, 1, "x", None], ids=repr)
def test_an_input_layer_ignores_trainable_as_keras_does(trainable: Any) -> None:
    """InputLayer takes no trainable and ignores the keywords it does not take: does its
    spec build whatever trainable says, as Keras builds the layer?"""
    fresh_session()
    config = {"shape": (10, 6), "trainable": trainable}
    keras.layers.InputLayer(**config)  # Keras builds it
    assert output_shapes({"class_name": "InputLayer", "config": config}) == [(None, 10, 6)]


def test_bfloat16_recurrent_layers_build_only_without_an_orthogonal_kernel() -> None:
    """Is plain bfloat16 refused for a recurrent layer whose recurrent kernel starts
    orthogonal, which TensorFlow cannot make in bfloat16, and accepted with another
    initializer, as Keras builds them? Written None, the initializer is no orthogonal one:
    Keras draws the kernel with glorot_uniform, and builds the layer, which was refused."""
    left_out = object()
    for initializer in (left_out, "orthogonal", "glorot_uniform", None):
        config: dict[str, Any] = {"units": 3, "dtype": "bfloat16"}
        if initializer is not left_out:
            config["recurrent_initializer"] = initializer
        spec = {"class_name": "LSTM", "config": config}
        built = keras_count_at_every_size(spec, [(None, 4, 2)]) is not None
        assert spec_builds("LSTM", config) == built == (initializer in ("glorot_uniform", None))


@pytest.mark.parametrize("class_name", ["Dense", "Embedding"])
@pytest.mark.parametrize("key", ["lora_rank", "quantization_config"])
def test_options_that_add_uncounted_weights_are_refused(class_name: str, key: str) -> None:
    """Are LoRA and quantization, which give the layer weights these rules do not count,
    refused as not covered, while their off values (None, lora_rank=0) pass with Keras's own
    count?"""
    units = {"Embedding": {"input_dim": 10, "output_dim": 3}}.get(class_name, {"units": 3})
    input_shape = (None, 4)
    plain_count = count_params({"class_name": class_name, "config": units}, input_shape)
    if key == "lora_rank":
        spec = {"class_name": class_name, "config": {**units, "lora_rank": 2}}
        assert keras_count_at_every_size(spec, [input_shape]) != [plain_count]
        with pytest.raises(UnsupportedLayerError, match="LoRA freezes the kernel"):
            layer_spec(spec)
    else:
        with pytest.raises(UnsupportedLayerError, match="quantizing adds scale weights"):
            layer_spec({"class_name": class_name, "config": {**units, key: {"mode": "int8"}}})
    for off in (None, 0) if key == "lora_rank" else (None,):
        spec = {"class_name": class_name, "config": {**units, key: off}}
        assert keras_count_at_every_size(spec, [input_shape]) == [plain_count]
        assert count_params(spec, input_shape) == plain_count


@pytest.mark.parametrize("name", ["a/b", 3, ["dense"]])
def test_a_name_keras_refuses_is_refused(name: Any) -> None:
    """Is a layer name Keras 3 refuses (not a string, or with '/') refused too?"""
    assert not keras_constructs("Dense", {"units": 2, "name": name})
    with pytest.raises(ValueError, match="a layer's name is a string without '/'"):
        layer_spec({"class_name": "Dense", "config": {"units": 2, "name": name}})


@pytest.mark.parametrize("name", ["twin", ""])
def test_a_stack_whose_layers_share_a_name_is_refused_as_keras_refuses_it(name: str) -> None:
    """Does a Sequential stack with two layers given the same name fail, as
    keras.Sequential does, while Keras's own numbered names never clash?"""
    spec = [
        {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True, "name": name}},
        {"class_name": "LSTM", "config": {"units": 2, "name": name}},
    ]
    fresh_session()
    with pytest.raises(ValueError, match="unique names"):
        keras.Sequential([keras.Input((5, 3)), *(build(layer) for layer in spec)])
    with pytest.raises(ValueError, match=r"Layer 2 \(.*, LSTM\) has the name of layer 1"):
        stack_shapes(spec, (None, 5, 3))
    for layer in spec:
        del layer["config"]["name"]
    assert [row.name for row in stack_shapes(spec, (None, 5, 3))] == ["lstm", "lstm_1"]


@pytest.mark.parametrize("class_name", RECURRENT)
def test_a_recurrent_layer_in_time_distributed_needs_four_axes(class_name: str) -> None:
    """Is TimeDistributed around a recurrent layer on (batch, timesteps, features), which
    Keras cannot build (each step reaches the layer without a time axis), refused with that
    reason, while on four axes it matches Keras?"""
    spec = {
        "class_name": "TimeDistributed",
        "config": {"layer": {"class_name": class_name, "config": {"units": 3}}},
    }
    fresh_session()
    with pytest.raises(Exception):  # noqa: B017 - Keras raises several kinds here
        keras_output_shapes(build(spec), (None, 5, 2))
    with pytest.raises(ValueError, match="a recurrent layer walks the time axis itself"):
        output_shapes(spec, (None, 5, 2))
    assert_matches_keras(spec, (None, 4, 5, 2))
