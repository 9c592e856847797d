"""Tests for lstm_lib.tasks: input_gradient_norms, measured on live Keras."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import require_module

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
