"""NumPy-only forward passes ("twins") of the Keras 3 layers the course studies.

Each twin takes the weights exactly as ``layer.get_weights()`` returns them and gives back
exactly what the Keras layer returns for the same call options: one array, or the tuple
``(output, *states)`` when ``return_state=True``. Nothing here imports TensorFlow or Keras,
so a twin can be read line by line next to the equations of the book.

Conventions: inputs are ``(batch, timesteps, features)``, states and outputs
``(batch, units)``; ``W`` is the kernel ``(features, k * units)``, ``U`` the recurrent
kernel ``(units, k * units)`` and ``b`` the bias, with the gate blocks in Keras's order
(``i, f, c, o`` for the LSTM, ``z, r, h`` for the GRU).

The recurrent twins follow Keras's generic loop, the one that runs on a CPU. On a GPU an
LSTM or GRU with default activations may go through cuDNN instead, which accepts only
right-padded masks and can differ from this loop at masked timesteps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lstm_lib import shapes

__all__ = [
    "LSTMStep",
    "LSTMTrace",
    "bidirectional",
    "dense",
    "embedding",
    "get_activation",
    "gru",
    "lstm",
    "lstm_step",
    "lstm_trace",
    "run_layer",
    "simple_rnn",
    "split_bidirectional_weights",
]

Activation = str | Callable[[np.ndarray], np.ndarray] | None
Result = np.ndarray | tuple[np.ndarray, ...]
# A step maps (x_t, states) to (output, new states, optional record of the step).
_Step = Callable[[np.ndarray, list[np.ndarray]], tuple[np.ndarray, list[np.ndarray], Any]]


# --------------------------------------------------------------------------- activations


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # The tanh form is the exact logistic but cannot overflow for large negative z.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _hard_sigmoid(z: np.ndarray) -> np.ndarray:
    # Keras 3 computes relu6(z + 3) / 6; Keras 2 used clip(0.2 * z + 0.5, 0, 1).
    return np.clip((z + 3.0) / 6.0, 0.0, 1.0)


def _softmax(z: np.ndarray) -> np.ndarray:
    # Subtracting the row maximum keeps exp() finite without changing the result.
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "hard_sigmoid": _hard_sigmoid,
    "softmax": _softmax,
}


def get_activation(name: Activation) -> Callable[[np.ndarray], np.ndarray]:
    """Return the NumPy function for a Keras activation name.

    Parameters
    ----------
    name : str, callable or None
        One of ``"linear"``, ``"tanh"``, ``"sigmoid"`` (the exact logistic, as in Keras 3),
        ``"relu"``, ``"hard_sigmoid"`` (Keras 3: ``relu6(z + 3) / 6``, i.e. ``z / 6 + 0.5``
        clipped to ``[0, 1]``) or ``"softmax"`` (over the last axis). ``None`` means
        ``"linear"``, as in Keras; a callable is returned unchanged.

    Returns
    -------
    callable
        An element-wise function (row-wise for ``"softmax"``) from array to array.

    Raises
    ------
    ValueError
        If the name is not one of the above.

    Examples
    --------
    >>> import numpy as np
    >>> print(get_activation("hard_sigmoid")(np.array([-3.0, -1.5, 0.0, 1.5, 3.0])))
    [0.   0.25 0.5  0.75 1.  ]
    >>> print(np.round(get_activation("sigmoid")(np.array([0.0, 2.0])), 4))
    [0.5    0.8808]

    Introduced in chapter ``book/02-dense.md``.
    """
    if name is None:
        return _ACTIVATIONS["linear"]
    if callable(name):
        return name
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unsupported activation {name!r}; the twins know {sorted(_ACTIVATIONS)}"
        ) from None


# --------------------------------------------------------------------------- helpers


def _as_float(a: ArrayLike) -> np.ndarray:
    a = np.asarray(a)
    # Keras casts integer inputs to float32; float64 stays float64 for exact checks.
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float32)


def _check_features(x: np.ndarray, kernel: np.ndarray) -> None:
    if x.shape[-1] != kernel.shape[0]:
        raise ValueError(
            f"x has {x.shape[-1]} features on its last axis but the kernel W has shape "
            f"{kernel.shape}, so it expects {kernel.shape[0]}"
        )


def _unpack(
    weights: Sequence[ArrayLike], use_bias: bool, layer: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    expected = 3 if use_bias else 2
    if len(weights) != expected:
        names = "[kernel, recurrent_kernel, bias]" if use_bias else "[kernel, recurrent_kernel]"
        raise ValueError(
            f"{layer} with use_bias={use_bias} expects {expected} weight arrays {names}, "
            f"got {len(weights)}; pass the list from layer.get_weights() and match use_bias"
        )
    kernel, recurrent_kernel = _as_float(weights[0]), _as_float(weights[1])
    bias = _as_float(weights[2]) if use_bias else None
    _check_blocks(layer, kernel, recurrent_kernel, bias)
    return kernel, recurrent_kernel, bias


def _check_blocks(
    layer: str, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray | None
) -> None:
    """Refuse weights whose columns are not this layer's blocks, such as a GRU's handed to
    the LSTM twin, with the shapes that were expected."""
    blocks = shapes._RECURRENT_GATES[layer]  # the one table of each layer's blocks
    if kernel.ndim != 2 or recurrent_kernel.ndim != 2:
        raise ValueError(
            f"{layer} expects a 2-D kernel W and recurrent kernel U, got shapes "
            f"{kernel.shape} and {recurrent_kernel.shape}"
        )
    units = recurrent_kernel.shape[0]
    columns = blocks * units
    shapes_found = [kernel.shape[1], recurrent_kernel.shape[1]]
    if bias is not None:
        shapes_found.append(bias.shape[-1] if bias.ndim else -1)
    if any(found != columns for found in shapes_found):
        others = ", ".join(
            f"{name} {n}" for name, n in shapes._RECURRENT_GATES.items() if name != layer
        )
        raise ValueError(
            f"{layer} weights hold {blocks} block(s) of units columns: U has {units} rows "
            f"(units = {units}), so W, U and b need {columns} columns; got W {kernel.shape}, "
            f"U {recurrent_kernel.shape}"
            + ("" if bias is None else f", b {bias.shape}")
            + f". Weights of another layer ({others} blocks)?"
        )


def _sequence(x: ArrayLike, kernel: np.ndarray) -> np.ndarray:
    x = _as_float(x)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(
            "a recurrent layer needs x of shape (batch, timesteps, features) with at least "
            f"one timestep, got shape {x.shape}"
        )
    _check_features(x, kernel)
    return x


def _initial_states(
    initial_state: ArrayLike | Sequence[ArrayLike] | None,
    count: int,
    batch: int,
    units: int,
    dtype: np.dtype,
) -> list[np.ndarray]:
    if initial_state is None:
        return [np.zeros((batch, units), dtype=dtype) for _ in range(count)]
    states = [initial_state] if isinstance(initial_state, np.ndarray) else list(initial_state)
    if len(states) != count:
        raise ValueError(f"initial_state must hold {count} array(s), got {len(states)}")
    return [_as_float(s) for s in states]


def _scan(
    x: np.ndarray,
    states: list[np.ndarray],
    step: _Step,
    *,
    go_backwards: bool,
    mask: ArrayLike | None,
    zero_output_for_mask: bool,
) -> tuple[np.ndarray, list[np.ndarray], list[Any], list[list[np.ndarray]]]:
    """Run ``step`` over the timesteps the way Keras's ``backend.rnn`` does.

    Returns the outputs ``(batch, timesteps, units)`` in processing order, the final states,
    the per-step records and the (masked) states after every step.
    """
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != x.shape[:2]:
            raise ValueError(f"mask must have shape (batch, timesteps) = {x.shape[:2]}")
    if go_backwards:
        # Keras reverses inputs and mask, then returns outputs in this reversed order.
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    # Keras fills a masked step with the previous *output*, which starts at zeros even
    # when an initial_state is given.
    previous = np.zeros_like(states[0])
    outputs, records, history = [], [], []
    for t in range(x.shape[1]):
        output, new_states, record = step(x[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]
            fill = np.zeros_like(output) if zero_output_for_mask else previous
            output = np.where(keep, output, fill)
            new_states = [
                np.where(keep, new, old) for new, old in zip(new_states, states, strict=True)
            ]
        outputs.append(output)
        records.append(record)
        history.append(new_states)
        previous, states = output, new_states
    return np.stack(outputs, axis=1), states, records, history


def _finish(
    outputs: np.ndarray, states: list[np.ndarray], return_sequences: bool, return_state: bool
) -> Result:
    output = outputs if return_sequences else outputs[:, -1]
    return (output, *states) if return_state else output


# --------------------------------------------------------------------------- dense


def dense(
    x: ArrayLike,
    kernel: ArrayLike,
    bias: ArrayLike | None = None,
    activation: Activation = "linear",
) -> np.ndarray:
    """Twin of ``keras.layers.Dense``: ``activation(x W + b)`` on the last axis.

    Parameters
    ----------
    x : array_like, shape (..., features)
        Any rank; only the last axis is transformed, e.g. ``(batch, features)`` or
        ``(batch, timesteps, features)``.
    kernel : array_like, shape (features, units)
        The kernel ``W``, ``layer.get_weights()[0]``.
    bias : array_like, shape (units,), optional
        The bias ``b``, ``layer.get_weights()[1]``; ``None`` for ``use_bias=False``.
    activation : str, callable or None, default "linear"
        See :func:`get_activation`.

    Returns
    -------
    numpy.ndarray, shape (..., units)
        The leading axes of ``x`` are kept.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 4, 3))
    >>> dense(x, np.ones((3, 5)), np.zeros(5)).shape
    (2, 4, 5)
    >>> print(dense(np.array([[1.0, -2.0]]), np.eye(2), np.array([0.5, 0.5]), "relu"))
    [[1.5 0. ]]

    Introduced in chapter ``book/02-dense.md``.
    """
    x, kernel = _as_float(x), _as_float(kernel)
    _check_features(x, kernel)
    z = x @ kernel
    if bias is not None:
        z = z + _as_float(bias)
    return get_activation(activation)(z)


# --------------------------------------------------------------------------- SimpleRNN


def simple_rnn(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    *,
    activation: Activation = "tanh",
    use_bias: bool = True,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    initial_state: ArrayLike | Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
    zero_output_for_mask: bool = False,
) -> Result:
    """Twin of ``keras.layers.SimpleRNN``: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Parameters
    ----------
    x : array_like, shape (batch, timesteps, features)
    weights : list of arrays
        ``[kernel (features, units), recurrent_kernel (units, units), bias (units,)]`` as
        ``layer.get_weights()`` returns them; without the bias when ``use_bias=False``.
    activation : str, callable or None, default "tanh"
    use_bias : bool, default True
    return_sequences : bool, default False
        Return every ``h_t`` ``(batch, timesteps, units)`` instead of the last
        ``(batch, units)``.
    return_state : bool, default False
        Return ``[output, h]``.
    go_backwards : bool, default False
        Read the timesteps last to first. As in Keras, a returned sequence stays in that
        reversed processing order.
    initial_state : array_like or list of one array, shape (batch, units), optional
        ``h_0``; zeros when omitted.
    mask : array_like of bool, shape (batch, timesteps), optional
        ``False`` marks a skipped timestep: the state is carried forward unchanged and the
        output repeats the previous output (zeros before the first kept step).
    zero_output_for_mask : bool, default False
        Output zeros at skipped timesteps instead (``Bidirectional`` turns this on).

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        ``output`` of shape ``(batch, units)`` or ``(batch, timesteps, units)``; with
        ``return_state=True`` the tuple ``(output, h)``, as Keras 3 returns it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3))
    >>> weights = [np.full((3, 4), 0.1), np.full((4, 4), 0.1), np.zeros(4)]
    >>> simple_rnn(x, weights, return_sequences=True).shape
    (2, 5, 4)
    >>> output, h = simple_rnn(x[:1, :1], weights, return_state=True)
    >>> print(np.round(h, 4))  # tanh(3 * 0.1) in every unit
    [[0.2913 0.2913 0.2913 0.2913]]

    Introduced in chapter ``book/03-simplernn.md``.
    """
    kernel, recurrent_kernel, bias = _unpack(weights, use_bias, "SimpleRNN")
    x = _sequence(x, kernel)
    act = get_activation(activation)
    b = 0.0 if bias is None else bias

    def step(x_t: np.ndarray, states: list[np.ndarray]) -> tuple:
        h = act(x_t @ kernel + states[0] @ recurrent_kernel + b)
        return h, [h], None

    dtype = np.result_type(x, kernel)
    states = _initial_states(initial_state, 1, x.shape[0], kernel.shape[1], dtype)
    outputs, states, _, _ = _scan(
        x,
        states,
        step,
        go_backwards=go_backwards,
        mask=mask,
        zero_output_for_mask=zero_output_for_mask,
    )
    return _finish(outputs, states, return_sequences, return_state)


# --------------------------------------------------------------------------- LSTM


@dataclass(frozen=True)
class LSTMStep:
    """The gates and states of one LSTM timestep, each of shape ``(batch, units)``.

    Attributes
    ----------
    i, f, o : numpy.ndarray
        Input, forget and output gates, ``recurrent_activation(x_t W + h_{t-1} U + b)``
        with each gate's block of ``W``, ``U`` and ``b``.
    c_tilde : numpy.ndarray
        Candidate cell state, ``activation`` of the ``c`` block.
    c : numpy.ndarray
        New cell state ``c_t = f * c_{t-1} + i * c_tilde``.
    h : numpy.ndarray
        New hidden state (the output) ``h_t = o * activation(c_t)``.

    Examples
    --------
    >>> import numpy as np
    >>> zeros = np.zeros((1, 2))
    >>> step = lstm_step(np.ones((1, 3)), zeros, zeros, np.zeros((3, 8)), np.zeros((2, 8)))
    >>> print(step.f)  # zero pre-activations leave every sigmoid gate half open
    [[0.5 0.5]]

    Introduced in chapter ``book/04-lstm.md``.
    """

    i: np.ndarray
    f: np.ndarray
    c_tilde: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray


@dataclass(frozen=True)
class LSTMTrace:
    """Every LSTM timestep at once, each field of shape ``(batch, timesteps, units)``.

    The fields are those of :class:`LSTMStep` stacked along axis 1, in processing order
    (reversed for ``go_backwards=True``, like Keras's returned sequence). At a masked
    timestep the gates are still computed, as Keras does, but ``c`` and ``h`` hold the
    carried-over states.

    Examples
    --------
    >>> import numpy as np
    >>> weights = [np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8)]
    >>> lstm_trace(np.ones((1, 4, 3)), weights).o.shape
    (1, 4, 2)

    Introduced in chapter ``book/04-lstm.md``.
    """

    i: np.ndarray
    f: np.ndarray
    c_tilde: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray


def lstm_step(
    x_t: ArrayLike,
    h_prev: ArrayLike,
    c_prev: ArrayLike,
    kernel: ArrayLike,
    recurrent_kernel: ArrayLike,
    bias: ArrayLike | None = None,
    *,
    activation: Activation = "tanh",
    recurrent_activation: Activation = "sigmoid",
) -> LSTMStep:
    """Compute one LSTM timestep gate by gate, as ``keras.layers.LSTMCell`` does.

    Parameters
    ----------
    x_t : array_like, shape (batch, features)
        The input at timestep ``t``.
    h_prev, c_prev : array_like, shape (batch, units)
        ``h_{t-1}`` and ``c_{t-1}``.
    kernel : array_like, shape (features, 4 * units)
        ``W``, the blocks in gate order ``i, f, c, o``.
    recurrent_kernel : array_like, shape (units, 4 * units)
        ``U``, same block order.
    bias : array_like, shape (4 * units,), optional
        ``b``, same block order; ``None`` for ``use_bias=False``.
    activation : str, callable or None, default "tanh"
        Applied to the candidate and to ``c_t`` before the output gate.
    recurrent_activation : str, callable or None, default "sigmoid"
        Applied to the gates ``i``, ``f`` and ``o``.

    Returns
    -------
    LSTMStep
        Fields ``i, f, c_tilde, o, c, h``, each ``(batch, units)``.

    Examples
    --------
    >>> import numpy as np
    >>> units = 2
    >>> W, U = np.zeros((1, 4 * units)), np.zeros((units, 4 * units))
    >>> b = np.repeat([0.0, 100.0, 1.0, 100.0], units)  # f and o wide open, c_tilde = tanh(1)
    >>> step = lstm_step(np.zeros((1, 1)), np.zeros((1, units)), np.ones((1, units)), W, U, b)
    >>> print(np.round(step.c, 4))  # 1 * c_prev + 0.5 * tanh(1)
    [[1.3808 1.3808]]

    Introduced in chapter ``book/04-lstm.md``.
    """
    x_t, kernel = _as_float(x_t), _as_float(kernel)
    _check_features(x_t, kernel)
    z = x_t @ kernel + _as_float(h_prev) @ _as_float(recurrent_kernel)
    if bias is not None:
        z = z + _as_float(bias)
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    act, rec = get_activation(activation), get_activation(recurrent_activation)
    i, f, c_tilde, o = rec(z_i), rec(z_f), act(z_c), rec(z_o)
    c = f * _as_float(c_prev) + i * c_tilde
    return LSTMStep(i=i, f=f, c_tilde=c_tilde, o=o, c=c, h=o * act(c))


def _lstm_scan(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    *,
    activation: Activation,
    recurrent_activation: Activation,
    use_bias: bool,
    go_backwards: bool,
    initial_state: Sequence[ArrayLike] | None,
    mask: ArrayLike | None,
    zero_output_for_mask: bool,
) -> tuple[np.ndarray, list[np.ndarray], list[Any], list[list[np.ndarray]]]:
    kernel, recurrent_kernel, bias = _unpack(weights, use_bias, "LSTM")
    x = _sequence(x, kernel)

    def step(x_t: np.ndarray, states: list[np.ndarray]) -> tuple:
        s = lstm_step(
            x_t,
            states[0],
            states[1],
            kernel,
            recurrent_kernel,
            bias,
            activation=activation,
            recurrent_activation=recurrent_activation,
        )
        return s.h, [s.h, s.c], s

    dtype = np.result_type(x, kernel)
    units = recurrent_kernel.shape[0]
    states = _initial_states(initial_state, 2, x.shape[0], units, dtype)
    return _scan(
        x,
        states,
        step,
        go_backwards=go_backwards,
        mask=mask,
        zero_output_for_mask=zero_output_for_mask,
    )


def lstm(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    *,
    activation: Activation = "tanh",
    recurrent_activation: Activation = "sigmoid",
    use_bias: bool = True,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    initial_state: Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
    zero_output_for_mask: bool = False,
) -> Result:
    """Twin of ``keras.layers.LSTM``: :func:`lstm_step` repeated over the timesteps.

    Parameters
    ----------
    x : array_like, shape (batch, timesteps, features)
    weights : list of arrays
        ``[kernel (features, 4 * units), recurrent_kernel (units, 4 * units),
        bias (4 * units,)]`` as ``layer.get_weights()`` returns them, gate blocks in the
        order ``i, f, c, o``; without the bias when ``use_bias=False``.
    activation : str, callable or None, default "tanh"
    recurrent_activation : str, callable or None, default "sigmoid"
    use_bias : bool, default True
    return_sequences : bool, default False
        Return every ``h_t`` ``(batch, timesteps, units)`` instead of the last
        ``(batch, units)``.
    return_state : bool, default False
        Return ``[output, h, c]``, Keras's order.
    go_backwards : bool, default False
        Read the timesteps last to first. As in Keras, a returned sequence stays in that
        reversed processing order.
    initial_state : list of two arrays, shape (batch, units), optional
        ``[h_0, c_0]``; zeros when omitted.
    mask : array_like of bool, shape (batch, timesteps), optional
        ``False`` marks a skipped timestep: ``h`` and ``c`` are carried forward unchanged
        and the output repeats the previous output, which is zeros before the first kept
        step even when ``initial_state`` is given.
    zero_output_for_mask : bool, default False
        Output zeros at skipped timesteps instead (``Bidirectional`` turns this on).

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        ``output`` of shape ``(batch, units)`` or ``(batch, timesteps, units)``; with
        ``return_state=True`` the tuple ``(output, h, c)``, as Keras 3 returns it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3))
    >>> weights = [np.full((3, 8), 0.1), np.full((2, 8), 0.1), np.zeros(8)]
    >>> lstm(x, weights).shape
    (2, 2)
    >>> output, h, c = lstm(x, weights, return_sequences=True, return_state=True)
    >>> output.shape, h.shape, c.shape
    ((2, 5, 2), (2, 2), (2, 2))
    >>> bool(np.allclose(output[:, -1], h))
    True

    Introduced in chapter ``book/04-lstm.md``.
    """
    outputs, states, _, _ = _lstm_scan(
        x,
        weights,
        activation=activation,
        recurrent_activation=recurrent_activation,
        use_bias=use_bias,
        go_backwards=go_backwards,
        initial_state=initial_state,
        mask=mask,
        zero_output_for_mask=zero_output_for_mask,
    )
    return _finish(outputs, states, return_sequences, return_state)


def lstm_trace(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    *,
    activation: Activation = "tanh",
    recurrent_activation: Activation = "sigmoid",
    use_bias: bool = True,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    initial_state: Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
    zero_output_for_mask: bool = False,
) -> LSTMTrace:
    """Run the LSTM twin and keep every gate at every timestep, for plotting.

    Parameters
    ----------
    x, weights, activation, recurrent_activation, use_bias, go_backwards, initial_state, mask
        As for :func:`lstm`.
    return_sequences, return_state, zero_output_for_mask : bool
        Accepted so that one options dict serves both :func:`lstm` and this function; they
        change what ``lstm`` returns, not the steps, so they have no effect here.

    Returns
    -------
    LSTMTrace
        Fields ``i, f, c_tilde, o, c, h``, each ``(batch, timesteps, units)``.

    Examples
    --------
    >>> import numpy as np
    >>> weights = [np.full((3, 8), 0.1), np.full((2, 8), 0.1), np.zeros(8)]
    >>> trace = lstm_trace(np.ones((1, 5, 3)), weights)
    >>> trace.f.shape
    (1, 5, 2)
    >>> print(np.round(trace.c[0, :, 0], 3))  # the cell state builds up over time
    [0.167 0.276 0.346 0.393 0.423]

    Introduced in chapter ``book/04-lstm.md``.
    """
    del return_sequences, return_state, zero_output_for_mask  # see the docstring
    _, _, records, history = _lstm_scan(
        x,
        weights,
        activation=activation,
        recurrent_activation=recurrent_activation,
        use_bias=use_bias,
        go_backwards=go_backwards,
        initial_state=initial_state,
        mask=mask,
        zero_output_for_mask=False,
    )

    def stacked(values: list[np.ndarray]) -> np.ndarray:
        return np.stack(values, axis=1)

    return LSTMTrace(
        i=stacked([r.i for r in records]),
        f=stacked([r.f for r in records]),
        c_tilde=stacked([r.c_tilde for r in records]),
        o=stacked([r.o for r in records]),
        c=stacked([h_c[1] for h_c in history]),
        h=stacked([h_c[0] for h_c in history]),
    )


# --------------------------------------------------------------------------- GRU


def gru(
    x: ArrayLike,
    weights: Sequence[ArrayLike],
    *,
    reset_after: bool = True,
    activation: Activation = "tanh",
    recurrent_activation: Activation = "sigmoid",
    use_bias: bool = True,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    initial_state: ArrayLike | Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
    zero_output_for_mask: bool = False,
) -> Result:
    """Twin of ``keras.layers.GRU``: update gate ``z``, reset gate ``r``, candidate ``h``.

    With ``W``, ``U``, ``b`` split into the blocks ``z, r, h``:
    ``z = recurrent_activation(x_t W_z + h_{t-1} U_z + b_z)`` (likewise ``r``),
    ``h_tilde = activation(x_t W_h + r * (h_{t-1} U_h + b'_h))`` when ``reset_after`` (Keras's
    default, cuDNN-compatible), or ``activation(x_t W_h + (r * h_{t-1}) U_h + b_h)``
    otherwise; then ``h_t = z * h_{t-1} + (1 - z) * h_tilde``.

    Parameters
    ----------
    x : array_like, shape (batch, timesteps, features)
    weights : list of arrays
        ``[kernel (features, 3 * units), recurrent_kernel (units, 3 * units), bias]`` as
        ``layer.get_weights()`` returns them, blocks in the order ``z, r, h``. The bias is
        ``(2, 3 * units)`` with ``reset_after=True`` (row 0 for the input ``x_t W``, row 1
        for the recurrent ``h_{t-1} U``) and ``(3 * units,)`` otherwise.
    reset_after : bool, default True
    activation : str, callable or None, default "tanh"
    recurrent_activation : str, callable or None, default "sigmoid"
    use_bias : bool, default True
    return_sequences, return_state, go_backwards, initial_state, mask, zero_output_for_mask
        As for :func:`simple_rnn`; ``return_state=True`` gives ``(output, h)``.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        ``output`` of shape ``(batch, units)`` or ``(batch, timesteps, units)``; with
        ``return_state=True`` the tuple ``(output, h)``, as Keras 3 returns it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3))
    >>> weights = [np.full((3, 12), 0.1), np.full((4, 12), 0.1), np.zeros((2, 12))]
    >>> gru(x, weights, return_sequences=True).shape
    (2, 5, 4)
    >>> weights_v1 = [np.full((3, 12), 0.1), np.full((4, 12), 0.1), np.zeros(12)]
    >>> gru(x, weights_v1, reset_after=False).shape
    (2, 4)

    Introduced in chapter ``book/07-gru-bidirectional.md``.
    """
    kernel, recurrent_kernel, bias = _unpack(weights, use_bias, "GRU")
    x = _sequence(x, kernel)
    units = recurrent_kernel.shape[0]
    if bias is None:
        input_bias = recurrent_bias = 0.0
    else:
        expected = (2, 3 * units) if reset_after else (3 * units,)
        if bias.shape != expected:
            raise ValueError(
                f"GRU with reset_after={reset_after} expects a bias of shape {expected}, "
                f"got {bias.shape}; is reset_after set as in the Keras layer?"
            )
        input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, 0.0)
    act = get_activation(activation)
    rec = get_activation(recurrent_activation)

    def step(x_t: np.ndarray, states: list[np.ndarray]) -> tuple:
        h_prev = states[0]
        x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, 3, axis=-1)
        if reset_after:
            h_z, h_r, h_h = np.split(h_prev @ recurrent_kernel + recurrent_bias, 3, axis=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            h_tilde = act(x_h + r * h_h)
        else:
            h_z, h_r = np.split(h_prev @ recurrent_kernel[:, : 2 * units], 2, axis=-1)
            z, r = rec(x_z + h_z), rec(x_r + h_r)
            h_tilde = act(x_h + (r * h_prev) @ recurrent_kernel[:, 2 * units :])
        h = z * h_prev + (1.0 - z) * h_tilde
        return h, [h], None

    dtype = np.result_type(x, kernel)
    states = _initial_states(initial_state, 1, x.shape[0], units, dtype)
    outputs, states, _, _ = _scan(
        x,
        states,
        step,
        go_backwards=go_backwards,
        mask=mask,
        zero_output_for_mask=zero_output_for_mask,
    )
    return _finish(outputs, states, return_sequences, return_state)


# --------------------------------------------------------------------------- Embedding


def embedding(indices: ArrayLike, embeddings: ArrayLike) -> np.ndarray:
    """Twin of ``keras.layers.Embedding``: look up one row of the table per index.

    Parameters
    ----------
    indices : array_like of int, any shape, e.g. (batch, timesteps)
        Token ids. Float ids are truncated toward zero, as Keras's cast to ``int32`` does.
        Like Keras (which follows NumPy's ``take``), a negative id ``-k`` with
        ``1 <= k <= input_dim`` wraps around to row ``input_dim - k``.
    embeddings : array_like, shape (input_dim, output_dim)
        The table, ``layer.get_weights()[0]``.

    Returns
    -------
    numpy.ndarray, shape (*indices.shape, output_dim)

    Raises
    ------
    IndexError
        For an id outside ``[-input_dim, input_dim)``, naming the id and its position.

    Examples
    --------
    >>> import numpy as np
    >>> table = np.arange(12.0).reshape(4, 3)  # input_dim=4, output_dim=3
    >>> embedding(np.array([[0, 3], [1, 1]]), table).shape
    (2, 2, 3)
    >>> print(embedding(np.array([2]), table))
    [[6. 7. 8.]]
    >>> embedding(np.array([[0, 4]]), table)
    Traceback (most recent call last):
    ...
    IndexError: embedding index 4 at position (0, 1) is out of range: the table has 4 rows, so valid ids are 0..3 (Keras also wraps negative ids down to -4)

    Introduced in chapter ``book/06-embedding.md``.
    """  # noqa: E501
    ids = np.asarray(indices)
    if not np.issubdtype(ids.dtype, np.integer):
        ids = ids.astype(np.int64)
    table = np.asarray(embeddings)
    input_dim = table.shape[0]
    bad = (ids < -input_dim) | (ids >= input_dim)
    if bad.any():
        position = tuple(int(p) for p in np.argwhere(bad)[0])
        raise IndexError(
            f"embedding index {ids[position]} at position {position} is out of range: the "
            f"table has {input_dim} rows, so valid ids are 0..{input_dim - 1} "
            f"(Keras also wraps negative ids down to -{input_dim})"
        )
    return table[ids]


# --------------------------------------------------------------------------- Bidirectional

_RECURRENT: dict[str, Callable[..., Result]] = {
    "simple_rnn": simple_rnn,
    "lstm": lstm,
    "gru": gru,
}
_CLASS_TO_LAYER = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def split_bidirectional_weights(
    weights: Sequence[ArrayLike],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a ``Bidirectional`` layer's ``get_weights()`` into forward and backward halves.

    Parameters
    ----------
    weights : list of arrays
        The forward layer's weights followed by the backward layer's, as Keras lists them.

    Returns
    -------
    tuple of two lists
        ``(forward_weights, backward_weights)``.

    Examples
    --------
    >>> import numpy as np
    >>> forward, backward = split_bidirectional_weights([np.zeros(1)] * 6)
    >>> len(forward), len(backward)
    (3, 3)

    Introduced in chapter ``book/07-gru-bidirectional.md``.
    """
    if len(weights) % 2:
        raise ValueError(
            f"a Bidirectional layer has as many backward as forward weights; got {len(weights)}"
        )
    half = len(weights) // 2
    return [np.asarray(w) for w in weights[:half]], [np.asarray(w) for w in weights[half:]]


def _merge(y: np.ndarray, y_rev: np.ndarray, merge_mode: str | None) -> Result:
    if merge_mode == "concat":
        return np.concatenate([y, y_rev], axis=-1)
    if merge_mode == "sum":
        return y + y_rev
    if merge_mode == "mul":
        return y * y_rev
    if merge_mode == "ave":
        return (y + y_rev) / 2
    if merge_mode is None:
        return (y, y_rev)
    raise ValueError(
        f"unsupported merge_mode {merge_mode!r}; Keras accepts 'concat', 'sum', 'mul', "
        "'ave' or None"
    )


def _bidirectional(
    x: ArrayLike,
    forward: tuple[str, Sequence[ArrayLike], dict[str, Any]],
    backward: tuple[str, Sequence[ArrayLike], dict[str, Any]],
    *,
    merge_mode: str | None,
    return_sequences: bool,
    return_state: bool,
    initial_state: Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
) -> Result:
    halves: list[Sequence[ArrayLike] | None] = [None, None]
    if initial_state is not None:
        half = len(initial_state) // 2
        halves = [initial_state[:half], initial_state[half:]]
    runs = []
    for (layer, weights, options), go_backwards, state in zip(
        (forward, backward), (False, True), halves, strict=True
    ):
        options = dict(options)
        if options.pop("go_backwards", False):
            raise ValueError(
                "Bidirectional builds its own backward copy; the wrapped layer must have "
                "go_backwards=False (Keras refuses it too)"
            )
        # Keras forces zero_output_for_mask to match return_sequences in both directions.
        options.pop("zero_output_for_mask", None)
        runs.append(
            _RECURRENT[layer](
                x,
                weights,
                return_sequences=return_sequences,
                return_state=True,
                go_backwards=go_backwards,
                initial_state=state,
                mask=mask,
                zero_output_for_mask=return_sequences,
                **options,
            )
        )
    (y, *forward_states), (y_rev, *backward_states) = runs
    if return_sequences:
        # The backward sequence comes out last-to-first; flip it to line up with x.
        y_rev = y_rev[:, ::-1]
    merged = _merge(y, y_rev, merge_mode)
    if not return_state:
        return merged
    outputs = merged if merge_mode is None else (merged,)
    return (*outputs, *forward_states, *backward_states)


def bidirectional(
    x: ArrayLike,
    forward_weights: Sequence[ArrayLike],
    backward_weights: Sequence[ArrayLike],
    *,
    layer: str = "lstm",
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    return_state: bool = False,
    initial_state: Sequence[ArrayLike] | None = None,
    mask: ArrayLike | None = None,
    **layer_options: Any,
) -> Result:
    """Twin of ``keras.layers.Bidirectional`` around a SimpleRNN, LSTM or GRU.

    The forward copy reads ``x`` first to last; the backward copy reads it last to first
    and, with ``return_sequences=True``, its sequence is flipped back so that position
    ``t`` of both lines up with ``x_t`` before merging. As in Keras, with
    ``return_sequences=True`` masked timesteps output zeros in both directions.

    Parameters
    ----------
    x : array_like, shape (batch, timesteps, features)
    forward_weights, backward_weights : list of arrays
        Each as the wrapped layer's ``get_weights()``; see
        :func:`split_bidirectional_weights` for a ``Bidirectional`` layer's list.
    layer : {"lstm", "gru", "simple_rnn"}, default "lstm"
        Which twin to wrap.
    merge_mode : {"concat", "sum", "mul", "ave", None}, default "concat"
        How the two outputs are combined; ``None`` returns both, ``(y, y_rev)``.
    return_sequences, return_state : bool, default False
        As for the wrapped layer.
    initial_state : list of arrays, shape (batch, units), optional
        The forward states followed by the backward states, e.g.
        ``[h_fw, c_fw, h_bw, c_bw]`` for an LSTM.
    mask : array_like of bool, shape (batch, timesteps), optional
        Shared by both directions.
    **layer_options
        Passed to the wrapped twin, e.g. ``use_bias``, ``activation``, ``reset_after``.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        The merged output, ``(batch, 2 * units)`` for ``"concat"`` and ``(batch, units)``
        otherwise (with a timesteps axis for ``return_sequences=True``); ``[y, y_rev]`` for
        ``merge_mode=None``. With ``return_state=True``, the output(s) followed by the
        forward then the backward states: ``[output, h_fw, c_fw, h_bw, c_bw]`` for an LSTM.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((2, 5, 3))
    >>> weights = [np.full((3, 8), 0.1), np.full((2, 8), 0.1), np.zeros(8)]
    >>> bidirectional(x, weights, weights).shape
    (2, 4)
    >>> result = bidirectional(x, weights, weights, merge_mode="sum", return_state=True)
    >>> [a.shape for a in result]
    [(2, 2), (2, 2), (2, 2), (2, 2), (2, 2)]

    Introduced in chapter ``book/07-gru-bidirectional.md``.
    """
    if layer not in _RECURRENT:
        raise ValueError(f"layer must be one of {sorted(_RECURRENT)}, got {layer!r}")
    return _bidirectional(
        x,
        (layer, forward_weights, layer_options),
        (layer, backward_weights, layer_options),
        merge_mode=merge_mode,
        return_sequences=return_sequences,
        return_state=return_state,
        initial_state=initial_state,
        mask=mask,
    )


# --------------------------------------------------------------------------- dispatch

# Config keys each recurrent twin reads; the others (initializers, dropout, ...) only
# matter for training, and the twins are inference-only.
_RECURRENT_KEYS = {
    "simple_rnn": ("activation", "use_bias"),
    "lstm": ("activation", "recurrent_activation", "use_bias"),
    "gru": ("activation", "recurrent_activation", "use_bias", "reset_after"),
}
_FLAGS = ("return_sequences", "return_state", "go_backwards", "zero_output_for_mask")


def _pick(config: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: config[key] for key in keys if key in config}


def _recurrent_kind(serialized: Mapping[str, Any]) -> str:
    name = serialized["class_name"]
    if name not in _CLASS_TO_LAYER:
        raise ValueError(f"Bidirectional around {name!r} is not supported by the twins")
    return _CLASS_TO_LAYER[name]


def run_layer(
    config: Mapping[str, Any], weights: Sequence[ArrayLike], x: ArrayLike, **call_kwargs: Any
) -> Result:
    """Run the twin of a serialized Keras layer, reading its options from the config.

    Parameters
    ----------
    config : dict
        ``keras.layers.serialize(layer)`` or just ``{"class_name": ..., "config": {...}}``,
        for ``Dense``, ``SimpleRNN``, ``LSTM``, ``GRU``, ``Embedding`` or ``Bidirectional``
        (around one of the three recurrent layers).
    weights : list of arrays
        ``layer.get_weights()``.
    x : array_like
        The layer input, e.g. ``(batch, timesteps, features)``, or token ids for
        ``Embedding``.
    **call_kwargs
        Call options of the layer, e.g. ``initial_state`` and ``mask`` for the recurrent
        layers.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        What the twin, and so the Keras layer, returns.

    Raises
    ------
    ValueError
        For a class the twins do not cover, naming it.

    Examples
    --------
    >>> import numpy as np
    >>> config = {"class_name": "GRU", "config": {"units": 4, "return_sequences": True}}
    >>> weights = [np.full((3, 12), 0.1), np.full((4, 12), 0.1), np.zeros((2, 12))]
    >>> run_layer(config, weights, np.ones((2, 5, 3))).shape
    (2, 5, 4)
    >>> run_layer({"class_name": "Conv1D", "config": {}}, [], np.ones((1, 1, 1)))
    Traceback (most recent call last):
    ...
    ValueError: run_layer has no twin for layer class 'Conv1D'; it supports Bidirectional, Dense, Embedding, GRU, LSTM, SimpleRNN

    Introduced in chapter ``book/05-return-flags.md``.
    """  # noqa: E501
    name, options = config["class_name"], config.get("config", {})
    if name == "Dense":
        bias = weights[1] if options.get("use_bias", True) else None
        return dense(x, weights[0], bias, options.get("activation", "linear"), **call_kwargs)
    if name == "Embedding":
        return embedding(x, weights[0], **call_kwargs)
    if name in _CLASS_TO_LAYER:
        layer = _CLASS_TO_LAYER[name]
        layer_options = _pick(options, _RECURRENT_KEYS[layer] + _FLAGS)
        return _RECURRENT[layer](x, weights, **layer_options, **call_kwargs)
    if name == "Bidirectional":
        sides = []
        for key, side_weights in zip(
            ("layer", "backward_layer"), split_bidirectional_weights(weights), strict=True
        ):
            serialized = options.get(key) or options["layer"]
            layer = _recurrent_kind(serialized)
            # Direction and return flags belong to the wrapper: read only the cell options.
            sides.append((layer, side_weights, _pick(serialized["config"], _RECURRENT_KEYS[layer])))
        flags = options["layer"]["config"]
        return _bidirectional(
            x,
            sides[0],
            sides[1],
            merge_mode=options.get("merge_mode", "concat"),
            return_sequences=flags.get("return_sequences", False),
            return_state=flags.get("return_state", False),
            **call_kwargs,
        )
    raise ValueError(
        f"run_layer has no twin for layer class {name!r}; it supports Bidirectional, Dense, "
        "Embedding, GRU, LSTM, SimpleRNN"
    )
