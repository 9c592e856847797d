"""Tests for lstm_lib.tasks: input_gradient_norms and train_race on live Keras, and the
flagged-value task in NumPy."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import tasks

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def sequences(batch: int = 4, timesteps: int = 6, features: int = 3) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(batch, timesteps, features)).astype("float32")


def test_importing_tasks_loads_neither_tensorflow_nor_keras():
    """Does ``import lstm_lib.tasks`` in a fresh interpreter leave TensorFlow and Keras out?"""
    code = (
        "import sys, lstm_lib.tasks\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_norms_have_one_row_per_seed_and_one_column_per_step():
    """Is the result (len(seeds), timesteps), positive, and reproducible seed by seed?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    x = sequences()
    norms = tasks.input_gradient_norms(lambda: keras.layers.SimpleRNN(5), x, seeds=[0, 1, 0])
    assert norms.shape == (3, 6)
    assert np.all(norms > 0)
    np.testing.assert_allclose(norms[0], norms[2], rtol=1e-5)
    assert not np.allclose(norms[0], norms[1])


def test_norms_match_a_gradient_computed_by_hand():
    """Does a linear SimpleRNN with known weights give the norms the chain rule predicts?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    x = sequences(batch=2, timesteps=4, features=1)

    def linear_rnn():
        layer = keras.layers.SimpleRNN(1, activation="linear", use_bias=False)
        layer.build(x.shape)
        layer.set_weights([np.array([[2.0]]), np.array([[0.5]])])
        return layer

    # h_T = sum_t 2 * 0.5 ** (T - 1 - t) * x_t, so d h_T / d x_t = 2 * 0.5 ** (T - 1 - t).
    norms = tasks.input_gradient_norms(linear_rnn, x)
    np.testing.assert_allclose(norms[0], 2 * 0.5 ** np.arange(3, -1, -1), rtol=1e-6)


@pytest.mark.parametrize(
    ("x", "seeds", "message"),
    [
        (np.ones((2, 3)), (0,), r"\(batch, timesteps, features\)"),
        (np.ones((2, 3, 1)), (), "seeds is empty"),
    ],
)
def test_bad_input_is_refused_before_keras_runs(x, seeds, message):
    """Do a 2-D input and an empty list of seeds raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        tasks.input_gradient_norms(lambda: None, x, seeds=seeds)


def test_a_layer_returning_sequences_is_refused():
    """Is a layer whose output is not (batch, units) refused with a clear message?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    with pytest.raises(ValueError, match=r"\(batch, units\)"):
        tasks.input_gradient_norms(lambda: keras.layers.LSTM(2, return_sequences=True), sequences())


# --- flagged_value_task ------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    samples=st.integers(1, 50),
    timesteps=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_flagged_task_has_one_flag_per_sequence_holding_the_label(samples, timesteps, seed):
    """Is x (batch, timesteps, 2) float32 and y (batch,) of 0 and 1, with exactly one flag
    per sequence, at a step whose value is +1 for class 1 and -1 for class 0?"""
    x, y = tasks.flagged_value_task(samples, timesteps=timesteps, rng=np.random.default_rng(seed))
    assert x.shape == (samples, timesteps, 2)
    assert x.dtype == np.float32
    assert y.shape == (samples,)
    assert set(np.unique(y)) <= {0, 1}
    flags = x[:, :, 1]
    assert set(np.unique(flags)) <= {0.0, 1.0}
    np.testing.assert_array_equal(flags.sum(axis=1), 1.0)
    flagged_values = x[:, :, 0][flags == 1]  # one per sequence, in order
    np.testing.assert_array_equal(flagged_values, np.where(y == 1, 1.0, -1.0))


def test_flagged_task_noise_has_the_requested_scale_and_flags_spread_evenly():
    """Is the unflagged feature 0 zero-mean noise with standard deviation ``noise``, and is
    the flagged step spread over every step?"""
    x, y = tasks.flagged_value_task(4000, timesteps=30, noise=4.0, rng=np.random.default_rng(0))
    noise = x[:, :, 0][x[:, :, 1] == 0]
    assert abs(noise.std() - 4.0) < 0.05
    assert abs(noise.mean()) < 0.05
    steps = np.bincount(x[:, :, 1].argmax(axis=1), minlength=30)
    assert steps.min() > 0.5 * 4000 / 30
    assert 0.45 < y.mean() < 0.55


def test_flagged_task_is_reproducible_and_silent_without_noise():
    """Does the same seed give the same data, and noise=0 leave only the flagged value?"""
    first = tasks.flagged_value_task(5, rng=np.random.default_rng(3))
    second = tasks.flagged_value_task(5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    x, y = tasks.flagged_value_task(5, noise=0.0, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(x[:, :, 0].sum(axis=1), np.where(y == 1, 1.0, -1.0))


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        (0, {}, "samples must be a positive integer"),
        (2.0, {}, "samples must be a positive integer"),
        (2, {"timesteps": 0}, "timesteps must be a positive integer"),
        (2, {"noise": -1.0}, "noise must be a non-negative"),
    ],
)
def test_flagged_task_refuses_bad_settings(samples, kwargs, message):
    """Do a non-positive size and a negative noise raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        tasks.flagged_value_task(samples, rng=np.random.default_rng(0), **kwargs)


# --- flagged_memory ----------------------------------------------------------------------


def two_ways_to_keep() -> list[np.ndarray]:
    """An LSTM of two units built by hand, gate blocks i, f, c, o in Keras's order.

    Unit 0 keeps the value the textbook way: the flag opens its input gate, which is shut
    otherwise, its forget gate stays at 1, and the value is its candidate. Unit 1 reads unit
    0's state: its forget gate opens only when that state is positive, its input gate is
    always open and its candidate has the state's sign, so after a ``+1`` it adds up and
    after a ``-1`` it forgets at every step."""
    units = 2
    kernel = np.zeros((2, 4 * units))
    recurrent_kernel = np.zeros((units, 4 * units))
    bias = np.zeros(4 * units)
    i, f, c, o = (slice(k * units, (k + 1) * units) for k in range(4))
    kernel[1, i.start] = 20.0  # the flag opens unit 0's input gate
    bias[i.start] = -10.0
    bias[i.start + 1] = 10.0  # unit 1 always writes
    bias[f.start] = 10.0  # unit 0 forgets nothing
    recurrent_kernel[0, f.start + 1] = 20.0  # unit 1 keeps only while unit 0 holds a +1
    kernel[0, c.start] = 1.0  # unit 0's candidate is the value (and the noise)
    recurrent_kernel[0, c.start + 1] = 5.0  # unit 1's candidate is unit 0's sign
    bias[o] = 10.0
    return [kernel, recurrent_kernel, bias]


def test_memory_measures_each_sign_apart():
    """Does ``flagged_memory`` find the textbook unit's gates (input open on the flag only,
    forget gate at 1) for both signs, and the second unit's forget gate shut after a ``-1``
    and open after a ``+1``, with a cell that adds up only then?"""
    x, y = tasks.flagged_value_task(400, timesteps=12, rng=np.random.default_rng(0))
    memory = tasks.flagged_memory(x, y, two_ways_to_keep())
    assert memory.tells_class[0] > 0.99 and memory.tells_class[1] > 0.6, memory.tells_class
    np.testing.assert_allclose(memory.input_at_flag, [[1.0, 1.0], [1.0, 1.0]], atol=1e-3)
    np.testing.assert_allclose(memory.input_after, [[0.0, 1.0], [0.0, 1.0]], atol=1e-3)
    np.testing.assert_allclose(memory.forget_after, [[1.0, 0.0], [1.0, 1.0]], atol=1e-3)
    np.testing.assert_allclose(memory.final_cell[:, 0], [-np.tanh(1.0), np.tanh(1.0)], atol=1e-3)
    assert -1.0 < memory.final_cell[0, 1] < -0.8  # one candidate at most: it forgets the rest
    assert memory.final_cell[1, 1] > 3.0  # about one per step after the flag, added up
    assert memory.memory_units(0.6).tolist() == [0, 1]
    assert memory.memory_units(0.99).tolist() == [0]


def test_memory_units_are_those_past_the_threshold_best_first():
    """Does ``memory_units`` keep the units with ``|tells_class| >= threshold``, ordered by
    that size, whatever their sign?"""
    per_class = np.zeros((2, 5))
    memory = tasks.FlaggedMemory(
        tells_class=np.array([0.5, -0.95, 0.85, -0.2, 0.8]),
        forget_after=per_class,
        input_after=per_class,
        input_at_flag=per_class,
        final_cell=per_class,
    )
    assert memory.memory_units().tolist() == [1, 2, 4]
    assert memory.memory_units(0.9).tolist() == [1]
    assert memory.memory_units(0.4).tolist() == [1, 2, 4, 0]


@settings(max_examples=25, deadline=None)
@given(
    units=st.integers(1, 4),
    timesteps=st.integers(2, 10),
    scale=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_memory_measures_are_the_twins_gates_per_class(units, timesteps, scale, seed):
    """For any LSTM weights, is every measure per class and unit, the gates' means in
    [0, 1], ``tells_class`` in [-1, 1], and each mean the one of the NumPy twin's trace over
    that class's sequences?"""
    from lstm_lib import reference

    rng = np.random.default_rng(seed)
    x, y = tasks.flagged_value_task(60, timesteps=timesteps, rng=rng)
    y[:2] = [0, 1]  # both classes, each with steps after its flag, as the measure needs
    x[:2, :, 1] = 0.0
    x[:2, 0, 1] = 1.0
    weights = [
        scale * rng.normal(size=(2, 4 * units)),
        scale * rng.normal(size=(units, 4 * units)),
        scale * rng.normal(size=4 * units),
    ]
    memory = tasks.flagged_memory(x, y, weights)
    assert memory.tells_class.shape == (units,)
    assert np.all(np.abs(memory.tells_class) <= 1 + 1e-9)
    for name in ("forget_after", "input_after", "input_at_flag", "final_cell"):
        assert getattr(memory, name).shape == (2, units), name
    for gate in (memory.forget_after, memory.input_after, memory.input_at_flag):
        assert np.all((gate >= 0) & (gate <= 1))
    trace = reference.lstm_trace(x, weights)
    flagged = x[:, :, 1].argmax(axis=1)
    for label in (0, 1):
        ours = y == label
        np.testing.assert_allclose(memory.final_cell[label], trace.c[ours, -1].mean(axis=0))
        np.testing.assert_allclose(
            memory.input_at_flag[label], trace.i[ours, flagged[ours]].mean(axis=0)
        )
        after = np.arange(timesteps)[None, :] > flagged[ours][:, None]
        np.testing.assert_allclose(memory.forget_after[label], trace.f[ours][after].mean(axis=0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, y: (x[:, :, :1], y), r"x must be \(batch, timesteps, 2\)"),
        (lambda x, y: (np.concatenate([x, x[:, :, :1]], axis=2), y), "x must be"),
        (lambda x, y: (np.concatenate([x[:, :, :1], np.ones_like(x[:, :, 1:])], 2), y), "one flag"),
        (lambda x, y: (np.concatenate([x[:, :, :1], 0.5 * x[:, :, 1:]], 2), y), "one flag"),
        (lambda x, y: (x, y[:-1]), r"one class, 0 or 1, per sequence: shape \(40,\)"),
        (lambda x, y: (x, y + 1), "one class, 0 or 1"),
        (lambda x, y: (x, np.zeros_like(y)), "both classes"),
    ],
)
def test_memory_refuses_data_that_is_not_the_task(change, message):
    """Does data that is not "remember the flagged value" raise a ValueError saying how?"""
    x, y = change(*tasks.flagged_value_task(40, timesteps=6, rng=np.random.default_rng(1)))
    with pytest.raises(ValueError, match=message):
        tasks.flagged_memory(x, y, two_ways_to_keep())


def test_memory_refuses_a_class_with_nothing_after_its_flags():
    """When every flag of a class is on the last step, nothing of it is kept: is that a
    clear ValueError?"""
    x = np.zeros((4, 5, 2), dtype="float32")
    x[[0, 1], 0] = [1.0, 1.0]  # class 1: +1, flagged at the first step
    x[[2, 3], -1] = [-1.0, 1.0]  # class 0: -1, flagged at the last step
    with pytest.raises(ValueError, match="in a class, no sequence has a step after its flag"):
        tasks.flagged_memory(x, np.array([1, 1, 0, 0]), two_ways_to_keep())


# --- train_race --------------------------------------------------------------------------


@pytest.mark.slow
def test_race_returns_one_result_per_layer_with_an_accuracy_per_epoch():
    """On a tiny race, is there a result per layer, in order, with the epochs, the
    per-epoch accuracies and the trained model agreeing with each other?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    results = tasks.train_race(
        ["SimpleRNN", keras.layers.GRU], timesteps=5, units=4, train=64, test=32, max_epochs=2
    )
    assert list(results) == ["SimpleRNN", "GRU"]
    for name, result in results.items():
        assert result.layer == name
        assert 1 <= result.epochs <= 2
        assert len(result.train_accuracy) == len(result.held_out_accuracy) == result.epochs
        assert result.accuracy == result.held_out_accuracy[-1]
        assert 0.0 <= result.accuracy <= 1.0
        assert result.seconds > 0
        assert type(result.model.layers[0]).__name__ == name
        assert result.model.output_shape == (None, 2)


@pytest.mark.slow
def test_race_stops_once_the_training_accuracy_reaches_stop_at():
    """With stop_at=0, does every layer stop after its first epoch?"""
    require_module("keras", "Keras (pip install .[keras])")
    results = tasks.train_race(
        ["LSTM"], timesteps=4, units=2, train=32, test=16, max_epochs=5, stop_at=0.0
    )
    assert results["LSTM"].epochs == 1


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([], "layer_classes is empty"),
        (["LSTM", "LSTM"], "each layer class may appear once"),
        (["NoSuchLayer"], "keras.layers has no 'NoSuchLayer'"),
    ],
)
def test_race_refuses_bad_layer_lists(layers, message):
    """Do an empty list, a repeated layer and an unknown name raise a clear ValueError?"""
    require_module("keras", "Keras (pip install .[keras])")
    with pytest.raises(ValueError, match=message):
        tasks.train_race(layers)


# --- review_marker_task and train_review_race ------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    samples=st.integers(1, 50),
    timesteps=st.integers(2, 40),
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
)
def test_marker_task_has_one_marker_followed_by_the_labels_sentiment(
    samples, timesteps, data, seed
):
    """Is x (batch, timesteps) int64 with words then padding, between min_words and
    timesteps words long, with exactly one marker per review, never last, followed by a
    positive word for label 1 and a negative word for label 0?"""
    min_words = data.draw(st.integers(2, timesteps))
    x, y = tasks.review_marker_task(
        samples, timesteps=timesteps, min_words=min_words, rng=np.random.default_rng(seed)
    )
    assert x.shape == (samples, timesteps)
    assert x.dtype == np.int64
    assert y.shape == (samples,)
    assert set(np.unique(y)) <= {0, 1}
    assert x.min() >= 0 and x.max() < len(tasks.REVIEW_VOCAB)
    lengths = (x != 0).sum(axis=1)
    assert np.all((lengths >= min_words) & (lengths <= timesteps))
    np.testing.assert_array_equal(x != 0, np.arange(timesteps) < lengths[:, None])  # pad at end
    np.testing.assert_array_equal((x == 1).sum(axis=1), 1)
    marker = np.argmax(x == 1, axis=1)
    assert np.all(marker + 1 < lengths)
    after = [tasks.REVIEW_VOCAB[i] for i in x[np.arange(samples), marker + 1]]
    expected = [("good", "great", "fun") if label else ("bad", "dull", "awful") for label in y]
    assert all(word in words for word, words in zip(after, expected, strict=True))


def test_marker_task_distractors_are_balanced_and_markers_spread():
    """Are about ``sentiment_share`` of the other words sentiment words, as often positive as
    negative whatever the label, and does the marker stand at every position it may?"""
    x, y = tasks.review_marker_task(
        4000, timesteps=25, min_words=20, sentiment_share=0.6, rng=np.random.default_rng(0)
    )
    marker = np.argmax(x == 1, axis=1)
    others = x.copy()
    others[np.arange(4000), marker] = 0
    others[np.arange(4000), marker + 1] = 0
    words = others[others != 0]
    assert abs(np.isin(words, range(10, 16)).mean() - 0.6) < 0.01
    for label in (0, 1):
        rest = others[y == label]
        positive, negative = np.isin(rest, range(10, 13)).sum(), np.isin(rest, range(13, 16)).sum()
        assert abs(positive / (positive + negative) - 0.5) < 0.02
    assert set(np.unique(marker)) == set(range(24))
    assert 0.45 < y.mean() < 0.55


def test_marker_task_is_reproducible():
    """Does the same seed give the same reviews and labels?"""
    first = tasks.review_marker_task(5, rng=np.random.default_rng(3))
    second = tasks.review_marker_task(5, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        (0, {}, "samples must be a positive integer"),
        (2, {"timesteps": 0}, "timesteps must be a positive integer"),
        (2, {"min_words": 1}, "min_words must be between 2 and timesteps"),
        (2, {"timesteps": 5, "min_words": 6}, "min_words must be between 2 and timesteps"),
        (2, {"min_words": 2.5}, "min_words must be an integer"),
        (2, {"sentiment_share": 1.5}, "sentiment_share must be between 0 and 1"),
    ],
)
def test_marker_task_refuses_bad_settings(samples, kwargs, message):
    """Do bad sizes, lengths and shares raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        tasks.review_marker_task(samples, rng=np.random.default_rng(0), **kwargs)


@pytest.mark.slow
def test_review_race_trains_the_token_pipeline_per_layer():
    """On a tiny race, is there a result per layer, in order, each model an Embedding with
    mask_zero, the layer, and Dense(1, sigmoid), with consistent per-epoch accuracies?"""
    keras = require_module("keras", "Keras (pip install .[keras])")
    results = tasks.train_review_race(
        ["SimpleRNN", keras.layers.GRU],
        timesteps=6,
        min_words=3,
        units=4,
        train=64,
        test=32,
        max_epochs=2,
    )
    assert list(results) == ["SimpleRNN", "GRU"]
    for name, result in results.items():
        assert result.layer == name
        assert 1 <= result.epochs <= 2
        assert len(result.train_accuracy) == len(result.held_out_accuracy) == result.epochs
        assert result.accuracy == result.held_out_accuracy[-1]
        embedding, recurrent, dense = result.model.layers
        assert embedding.mask_zero and embedding.input_dim == len(tasks.REVIEW_VOCAB)
        assert type(recurrent).__name__ == name
        assert result.model.output_shape == (None, 1)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([], "layer_classes is empty"),
        (["GRU", "GRU"], "each layer class may appear once"),
        (["NoSuchLayer"], "keras.layers has no 'NoSuchLayer'"),
    ],
)
def test_review_race_refuses_bad_layer_lists(layers, message):
    """Do an empty list, a repeated layer and an unknown name raise a clear ValueError?"""
    require_module("keras", "Keras (pip install .[keras])")
    with pytest.raises(ValueError, match=message):
        tasks.train_review_race(layers)
