"""Measurements on live Keras layers that the book's figures draw.

``input_gradient_norms`` measures how strongly a recurrent layer's final output depends on
each input step: the size of the gradient with respect to that step. It needs Keras with
the TensorFlow backend, imported inside the function, so ``import lstm_lib.tasks`` stays
light; ``lstm_lib.plots.gradients.gradient_by_distance`` draws what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

__all__ = ["input_gradient_norms"]


def input_gradient_norms(
    make_layer: Callable[[], Any], x: np.ndarray, *, seeds: Iterable[int] = (0,)
) -> np.ndarray:
    """Measure the gradient of a recurrent layer's final output with respect to each step.

    For every seed, ``keras.utils.set_random_seed(seed)`` is called, a fresh layer is made
    with ``make_layer()``, and ``tf.GradientTape`` computes the gradient of the sum of the
    layer's final output (shape ``(batch, units)``) with respect to its input ``x``. The norm
    of that gradient over the last axis, averaged over the batch, is one row of the result.

    Needs Keras 3 with the TensorFlow backend; both are imported when the function runs.

    Parameters
    ----------
    make_layer : callable
        Called with no arguments after seeding; returns a recurrent layer (built or not)
        whose call on ``x`` gives its final output, ``(batch, units)``, e.g.
        ``lambda: keras.layers.LSTM(16)``.
    x : numpy.ndarray, shape (batch, timesteps, features)
        The input sequences.
    seeds : iterable of int, default (0,)
        One random initialisation of the layer per seed.

    Returns
    -------
    numpy.ndarray, shape (len(seeds), timesteps)
        Row ``k``, column ``t``: the mean over the batch of
        ``|| d sum(output) / d x[:, t, :] ||`` for the layer made with the ``k``-th seed.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D, ``seeds`` is empty, or the layer's output is not
        ``(batch, units)`` (a layer with ``return_sequences=True``, say).

    Examples
    --------
    >>> import keras, numpy as np  # doctest: +SKIP
    >>> x = np.random.default_rng(0).normal(size=(4, 10, 3)).astype("float32")  # doctest: +SKIP
    >>> input_gradient_norms(lambda: keras.layers.SimpleRNN(5), x, seeds=[0, 1]).shape
    ... # doctest: +SKIP
    (2, 10)

    Used in ``book/04-lstm.md``.
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, timesteps, features), got {x.shape}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")

    import keras
    import tensorflow as tf

    rows = []
    for seed in seeds:
        keras.utils.set_random_seed(int(seed))
        layer = make_layer()
        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            output = layer(inputs)
            if len(output.shape) != 2:
                raise ValueError(
                    f"the layer must return its final output, (batch, units); it returned "
                    f"shape {tuple(output.shape)}"
                )
            total = tf.reduce_sum(output)
        gradient = np.asarray(tape.gradient(total, inputs))  # (batch, timesteps, features)
        rows.append(np.linalg.norm(gradient, axis=-1).mean(axis=0))
    return np.stack(rows)
