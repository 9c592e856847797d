"""Check every NumPy twin in ``lstm_lib.reference`` against live Keras (TensorFlow backend)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import reference as ref

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
keras = require_module("keras", "Keras (pip install .[keras])")
layers = keras.layers

RTOL = ATOL = 1e-5
# A small default keeps the file well under a minute on two CPU cores; raise it with
# LSTM_REFERENCE_EXAMPLES=500 for a deeper search after touching a twin.
FEW = settings(deadline=None, max_examples=int(os.environ.get("LSTM_REFERENCE_EXAMPLES", "25")))


@pytest.fixture(autouse=True)
def fresh_keras_session() -> None:
    """Start every test from a clean Keras session.

    Once per test rather than per Hypothesis example, and without the full garbage
    collection ``clear_session`` runs by default: that collection walks TensorFlow's whole
    heap, about half a second a test, more than building and calling a layer.
    """
    keras.backend.clear_session(free_memory=False)


sizes = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 3),
        "timesteps": st.integers(1, 7),
        "features": st.integers(1, 6),
        "units": st.integers(1, 8),
        "seed": st.integers(0, 2**32 - 1),
    }
)
flags = st.fixed_dictionaries(
    {
        "return_sequences": st.booleans(),
        "return_state": st.booleans(),
        "go_backwards": st.booleans(),
        "use_bias": st.booleans(),
        "initial_state": st.booleans(),
        "mask": st.booleans(),
    }
)


def combined(*parts: st.SearchStrategy[dict]) -> st.SearchStrategy[dict]:
    """One case dict drawn from several dict strategies."""
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


def as_list(result: Any) -> list[np.ndarray]:
    """Turn a twin's or a Keras layer's result into a list of NumPy arrays."""
    if isinstance(result, list | tuple):
        return [np.asarray(r) for r in result]
    return [np.asarray(result)]


def assert_same(ours: Any, theirs: Any) -> None:
    # a learner unpacks either, but prints, compares and concatenates them differently
    assert isinstance(ours, tuple) == isinstance(theirs, tuple), (
        f"the twin returns a {type(ours).__name__}, Keras a {type(theirs).__name__}"
    )
    ours, theirs = as_list(ours), as_list(theirs)
    assert len(ours) == len(theirs), f"{len(ours)} arrays returned, Keras returns {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, f"result {k}: shape {a.shape}, Keras {b.shape}"
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"result {k}")


def randomize(layer: Any, rng: np.random.Generator) -> list[np.ndarray]:
    """Give a built layer random weights: the default zero biases would hide bugs."""
    weights = [rng.normal(0.0, 0.5, w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def inputs(case: dict, n_states: int) -> tuple[np.ndarray, list | None, np.ndarray | None]:
    """Draw x, the initial states (if the case asks for them) and a mask (likewise)."""
    rng = np.random.default_rng(case["seed"] + 1)
    batch, units = case["batch"], case["units"]
    x = rng.normal(size=(batch, case["timesteps"], case["features"])).astype("float32")
    states = None
    if case["initial_state"]:
        states = [rng.normal(size=(batch, units)).astype("float32") for _ in range(n_states)]
    mask = rng.random((batch, case["timesteps"])) < 0.6 if case["mask"] else None
    return x, states, mask


def call_keras(layer: Any, x: np.ndarray, states: list | None, mask: np.ndarray | None) -> Any:
    kwargs: dict[str, Any] = {}
    if states is not None:
        kwargs["initial_state"] = [keras.ops.convert_to_tensor(s) for s in states]
    if mask is not None:
        kwargs["mask"] = keras.ops.convert_to_tensor(mask)
    return layer(x, **kwargs)


RECURRENT = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
TWINS = {"simple_rnn": ref.simple_rnn, "lstm": ref.lstm, "gru": ref.gru}
N_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1}


def recurrent_options(kind: str, case: dict) -> dict[str, Any]:
    """Layer options shared by the Keras constructor and the twin."""
    shared = ("return_sequences", "return_state", "go_backwards", "use_bias", "activation")
    options = {key: case[key] for key in (*shared, "zero_output_for_mask")}
    if kind != "simple_rnn":
        options["recurrent_activation"] = case["recurrent_activation"]
    if kind == "gru":
        options["reset_after"] = case["reset_after"]
    return options


def recurrent_cases() -> st.SearchStrategy[dict]:
    extra = st.fixed_dictionaries(
        {
            "activation": st.sampled_from(["tanh", "relu", "sigmoid"]),
            "recurrent_activation": st.sampled_from(["sigmoid", "hard_sigmoid"]),
            "reset_after": st.booleans(),
            "zero_output_for_mask": st.booleans(),
        }
    )
    return combined(sizes, flags, extra)


def check_recurrent(kind: str, case: dict) -> None:
    options = recurrent_options(kind, case)
    layer = RECURRENT[kind](case["units"], **options)
    layer.build((case["batch"], case["timesteps"], case["features"]))
    weights = randomize(layer, np.random.default_rng(case["seed"]))
    x, states, mask = inputs(case, N_STATES[kind])
    ours = TWINS[kind](x, weights, initial_state=states, mask=mask, **options)
    assert_same(ours, call_keras(layer, x, states, mask))


@FEW
@given(recurrent_cases())
def test_simple_rnn_matches_keras(case: dict) -> None:
    """Does the SimpleRNN twin match Keras for every flag combination?"""
    check_recurrent("simple_rnn", case)


@FEW
@given(recurrent_cases())
def test_lstm_matches_keras(case: dict) -> None:
    """Does the LSTM twin match Keras for every flag combination?"""
    check_recurrent("lstm", case)


@FEW
@given(recurrent_cases())
def test_gru_matches_keras(case: dict) -> None:
    """Does the GRU twin match Keras for both reset_after settings and every flag?"""
    check_recurrent("gru", case)


@FEW
@given(
    combined(
        sizes,
        flags,
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(sorted(RECURRENT)),
                "merge_mode": st.sampled_from(["concat", "sum", "mul", "ave", None]),
                "reset_after": st.booleans(),
            }
        ),
    )
)
def test_bidirectional_matches_keras(case: dict) -> None:
    """Does the Bidirectional twin match Keras for each wrapped layer, merge mode and flag?"""
    kind = case["kind"]
    options: dict[str, Any] = {"use_bias": case["use_bias"]}
    if kind == "gru":
        options["reset_after"] = case["reset_after"]
    flags_ = {key: case[key] for key in ("return_sequences", "return_state")}
    inner = RECURRENT[kind](case["units"], **flags_, **options)
    layer = layers.Bidirectional(inner, merge_mode=case["merge_mode"])
    layer.build((case["batch"], case["timesteps"], case["features"]))
    weights = randomize(layer, np.random.default_rng(case["seed"]))
    x, states, mask = inputs(case, 2 * N_STATES[kind])
    forward, backward = ref.split_bidirectional_weights(weights)
    ours = ref.bidirectional(
        x,
        forward,
        backward,
        layer=kind,
        merge_mode=case["merge_mode"],
        initial_state=states,
        mask=mask,
        **flags_,
        **options,
    )
    assert_same(ours, call_keras(layer, x, states, mask))


@FEW
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")  # units=1 on purpose
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    features=st.integers(1, 6),
    units=st.integers(1, 8),
    use_bias=st.booleans(),
    activation=st.sampled_from(["linear", "tanh", "sigmoid", "relu", "hard_sigmoid", "softmax"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_dense_matches_keras(
    shape: list[int], features: int, units: int, use_bias: bool, activation: str, seed: int
) -> None:
    """Does the Dense twin match Keras on inputs of rank 2 to 4, for every activation?"""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, (*shape, features)).astype("float32")
    layer = layers.Dense(units, activation=activation, use_bias=use_bias)
    layer.build(x.shape)
    weights = randomize(layer, rng)
    ours = ref.dense(x, weights[0], weights[1] if use_bias else None, activation)
    assert_same(ours, layer(x))


@FEW
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    input_dim=st.integers(1, 10),
    output_dim=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_embedding_matches_keras(
    shape: list[int], input_dim: int, output_dim: int, seed: int
) -> None:
    """Does the Embedding twin match Keras for any index rank, negative ids included?"""
    rng = np.random.default_rng(seed)
    ids = rng.integers(-input_dim, input_dim, size=shape)
    layer = layers.Embedding(input_dim, output_dim)
    layer.build(ids.shape)
    (table,) = randomize(layer, rng)
    assert_same(ref.embedding(ids, table), layer(ids))


def test_embedding_out_of_range_is_a_clear_index_error() -> None:
    """Does an id outside the table raise an IndexError naming the id and the valid range?"""
    table = np.zeros((5, 2), dtype="float32")
    with pytest.raises(IndexError, match=r"index 5 at position \(1, 0\).*valid ids are 0\.\.4"):
        ref.embedding(np.array([[0, 1], [5, 2]]), table)
    with pytest.raises(IndexError, match=r"index -6"):
        ref.embedding(np.array([-6]), table)
    layer = layers.Embedding(5, 2)
    layer.build((2, 2))
    with pytest.raises(Exception, match="not in"):  # Keras refuses the same id
        layer(np.array([[0, 1], [5, 2]]))


GATES = ("i", "f", "c_tilde", "o", "c", "h")
TERMS = ("x_t W", "h_prev U", "bias b", "c_prev")


def recording(fn: Any, calls: list) -> Any:
    def wrapped(z: Any) -> Any:
        out = fn(z)
        calls.append(np.asarray(out))
        return out

    return wrapped


@pytest.mark.parametrize("term", TERMS)
def test_lstm_step_matches_keras_gate_by_gate(term: str) -> None:
    """With every input but one term zeroed, does each gate of lstm_step match Keras's cell?"""
    rng = np.random.default_rng(TERMS.index(term))
    batch, features, units = 2, 3, 4
    cell = layers.LSTMCell(units)
    cell.build((batch, features))
    kernel, recurrent_kernel, bias = randomize(cell, rng)
    x = np.zeros((batch, features), "float32")
    h_prev, c_prev = np.zeros((batch, units), "float32"), np.zeros((batch, units), "float32")
    if term == "x_t W":
        x = rng.normal(size=x.shape).astype("float32")
    elif term == "h_prev U":
        h_prev = rng.normal(size=h_prev.shape).astype("float32")
    elif term == "c_prev":
        c_prev = rng.normal(size=c_prev.shape).astype("float32")
    if term != "bias b":
        bias = np.zeros_like(bias)
    cell.set_weights([kernel, recurrent_kernel, bias])

    # Keras's cell calls recurrent_activation for i, f, o and activation for c_tilde and
    # tanh(c), in that order: recording them exposes its gates without re-deriving them.
    gate_calls: list = []
    act_calls: list = []
    cell.recurrent_activation = recording(cell.recurrent_activation, gate_calls)
    cell.activation = recording(cell.activation, act_calls)
    h, (_, c) = cell(x, [h_prev, c_prev])
    assert len(gate_calls) == 3 and len(act_calls) == 2, "Keras's LSTMCell changed its order"
    keras_gates = {
        "i": gate_calls[0],
        "f": gate_calls[1],
        "c_tilde": act_calls[0],
        "o": gate_calls[2],
        "c": np.asarray(c),
        "h": np.asarray(h),
    }

    step = ref.lstm_step(x, h_prev, c_prev, kernel, recurrent_kernel, bias)
    for gate in GATES:
        np.testing.assert_allclose(
            getattr(step, gate),
            keras_gates[gate],
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"gate {gate} differs when only {term} is non-zero",
        )


def test_masked_steps_repeat_the_previous_output() -> None:
    """Does a masked step repeat the previous output, zeros before the first kept step?"""
    layer = layers.LSTM(2, return_sequences=True, return_state=True)
    layer.build((1, 3, 1))
    weights = randomize(layer, np.random.default_rng(0))
    x = np.ones((1, 3, 1), "float32")
    mask = np.array([[False, True, False]])
    h0, c0 = np.full((1, 2), 0.7, "float32"), np.full((1, 2), -0.3, "float32")
    for output, h, _ in (
        ref.lstm(
            x, weights, mask=mask, initial_state=[h0, c0], return_sequences=True, return_state=True
        ),
        layer(x, mask=keras.ops.convert_to_tensor(mask), initial_state=[h0, c0]),
    ):
        output = np.asarray(output)
        np.testing.assert_array_equal(output[:, 0], 0.0)  # not h0, although h stays h0
        np.testing.assert_allclose(output[:, 2], output[:, 1], rtol=RTOL)
        np.testing.assert_allclose(np.asarray(h), output[:, 1], rtol=RTOL)
    trace = ref.lstm_trace(x, weights, mask=mask, initial_state=[h0, c0])
    np.testing.assert_array_equal(trace.h[:, 0], h0)  # the state, unlike the output, is h0


def test_go_backwards_returns_the_sequence_in_reversed_order() -> None:
    """With go_backwards, is output[:, 0] the step that read the last timestep, as in Keras?"""
    weights = [np.ones((1, 1)), np.ones((1, 1))]
    x = np.array([[[1.0], [2.0], [4.0]]])
    options = {"activation": "linear", "use_bias": False, "return_sequences": True}
    ours = ref.simple_rnn(x, weights, go_backwards=True, **options)
    np.testing.assert_allclose(ours[0, :, 0], [4.0, 6.0, 7.0])  # running sums of 4, 2, 1
    layer = layers.SimpleRNN(1, go_backwards=True, **options)
    layer.build(x.shape)
    layer.set_weights(weights)
    assert_same(ours, layer(x.astype("float32")))


LAYER_FACTORIES = {
    "Dense": lambda: layers.Dense(3, activation="softmax"),
    "Embedding": lambda: layers.Embedding(6, 3),
    "SimpleRNN": lambda: layers.SimpleRNN(3, return_sequences=True, go_backwards=True),
    "LSTM": lambda: layers.LSTM(
        3, return_state=True, recurrent_activation="hard_sigmoid", use_bias=False
    ),
    "GRU": lambda: layers.GRU(3, reset_after=False, return_sequences=True, return_state=True),
    "Bidirectional-GRU": lambda: layers.Bidirectional(
        layers.GRU(3, return_state=True), merge_mode="ave"
    ),
    "Bidirectional-LSTM": lambda: layers.Bidirectional(
        layers.LSTM(3, return_sequences=True), merge_mode=None
    ),
}


@pytest.mark.parametrize("name", sorted(LAYER_FACTORIES))
@pytest.mark.parametrize("masked", [False, True])
def test_run_layer_reads_options_from_the_serialized_config(name: str, masked: bool) -> None:
    """Does run_layer, given keras.layers.serialize(layer), reproduce the layer's output?"""
    rng = np.random.default_rng(len(name))
    layer = LAYER_FACTORIES[name]()
    if name == "Embedding":
        x = rng.integers(0, 6, size=(2, 5))
    else:
        x = rng.normal(size=(2, 5, 4)).astype("float32")
    layer.build(x.shape)
    weights = randomize(layer, rng)
    kwargs = {}
    if masked and name not in ("Dense", "Embedding"):
        kwargs["mask"] = rng.random((2, 5)) < 0.6
    ours = ref.run_layer(keras.layers.serialize(layer), weights, x, **kwargs)
    keras_kwargs = {key: keras.ops.convert_to_tensor(v) for key, v in kwargs.items()}
    assert_same(ours, layer(x, **keras_kwargs))


def test_run_layer_names_an_unsupported_class() -> None:
    """Does run_layer refuse a layer it has no twin for, saying which?"""
    config = keras.layers.serialize(layers.Conv1D(2, 3))
    with pytest.raises(ValueError, match="Conv1D"):
        ref.run_layer(config, [], np.zeros((1, 4, 1)))


@pytest.mark.parametrize(
    ("twin", "blocks", "layer", "other_blocks"),
    [
        (ref.lstm, 4, "LSTM", 3),
        (ref.lstm_trace, 4, "LSTM", 1),
        (ref.gru, 3, "GRU", 4),
        (ref.simple_rnn, 1, "SimpleRNN", 4),
    ],
)
def test_another_layers_weights_are_refused_with_the_expected_columns(
    twin, blocks: int, layer: str, other_blocks: int
) -> None:
    """Handed the weights of a layer with another number of blocks (a GRU's to the LSTM
    twin, say), does a twin say how many columns it expected, not fail inside NumPy?"""
    units, features = 2, 3
    columns = other_blocks * units
    weights = [np.zeros((features, columns)), np.zeros((units, columns)), np.zeros(columns)]
    message = (
        rf"{layer} weights hold {blocks} block\(s\) of units columns: U has {units} rows "
        rf"\(units = {units}\), so W, U and b need {blocks * units} columns"
    )
    with pytest.raises(ValueError, match=message):
        twin(np.zeros((1, 4, features)), weights)


def test_importing_reference_does_not_import_keras_or_tensorflow() -> None:
    """Can the twins be imported and run in a fresh interpreter without TensorFlow or Keras?"""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import lstm_lib.reference as ref\n"
        "ref.lstm(np.ones((1, 2, 3)), [np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8)])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"heavy modules imported: {done.stdout}"
