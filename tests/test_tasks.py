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


# --- train_race --------------------------------------------------------------------------


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
