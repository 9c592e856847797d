"""Diagrams of recurrent layers, labelled from a real Keras layer's weights and shapes.

``lstm_cell_diagram`` and ``gru_cell_diagram`` draw one timestep of a cell, each gate's
block labelled with the slices of the layer's kernel, recurrent kernel and bias;
``bidirectional_diagram`` shows where each tensor a ``Bidirectional`` layer returns comes
from; ``encoder_decoder_diagram`` shows an encoder's final states becoming a decoder's
``initial_state``; ``task_taxonomy_diagram`` maps one-to-one, many-to-one and many-to-many
onto ``return_sequences``; ``layer_vs_cell_diagram`` sets a cell (one step) beside the layer
that loops it over the timesteps.

Every number on a diagram is read from the layer (``layer.weights``, ``layer.units``,
``layer.get_config()``, ``layer.get_build_config()``, ``compute_output_shape``) or computed
from it; nothing here imports Keras or TensorFlow: the layer is read duck-typed. The figures
are 6.4 in wide with text of at least 9 pt, so they stay legible on a phone, and are drawn
in an axes whose data units are inches, which keeps the layout arithmetic readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lstm_lib.plots._style import (
    _BLACK,
    _BLUE,
    _BLUE_TINT,
    _FONT,
    _GREEN,
    _GREY,
    _GREY_TINT,
    _ORANGE,
    _PURPLE,
    _SMALL,
    _VERMILLION,
    _VERMILLION_TINT,
    _ink,
    _is_int,
    _positive_int,
    _pyplot,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "bidirectional_diagram",
    "encoder_decoder_diagram",
    "gru_cell_diagram",
    "layer_vs_cell_diagram",
    "lstm_cell_diagram",
    "task_taxonomy_diagram",
]

# Narrower than the plots' 8 in: a diagram is read on a phone as often as on a screen, and
# at 6.4 in a 9 pt label is still 9/72 of an inch against the figure's width.
_WIDTH = 6.4
_TITLE = _FONT + 1
_NODE_R = 0.12
_LINE_GAP = 0.185  # between the baselines of 9 pt lines inside a box

# Keras stores the gate blocks side by side in these orders (columns of kernel and bias).
# Each: symbol (mathtext), name, colour, and whether it uses the recurrent activation.
_LSTM_GATES = (
    ("i", "input", _BLUE, True),
    ("f", "forget", _ORANGE, True),
    ("\\tilde{c}", "candidate", _GREEN, False),
    ("o", "output", _PURPLE, True),
)
_GRU_GATES = (
    ("z", "update", _BLUE, True),
    ("r", "reset", _ORANGE, True),
    ("\\tilde{h}", "candidate", _GREEN, False),
)
_MATH_ACTIVATIONS = {"sigmoid": "\\sigma", "tanh": "\\tanh", "relu": "\\mathrm{relu}"}

_RETURNED = {"facecolor": _VERMILLION_TINT, "edgecolor": _VERMILLION, "linewidth": 2.0}
_DROPPED = {"facecolor": _GREY_TINT, "edgecolor": _GREY, "linewidth": 1.0, "linestyle": "--"}
_CELL = {"facecolor": _BLUE_TINT, "edgecolor": _BLUE, "linewidth": 1.2}
_PLAIN = {"facecolor": "white", "edgecolor": _BLACK, "linewidth": 1.0}
#: The one input vector that ``RepeatVector`` hands to every timestep.
_REPEATED = {"facecolor": "white", "edgecolor": _GREEN, "linewidth": 1.6}


# --- drawing primitives (data units are inches) ------------------------------------------


def _canvas(height: float, title: str) -> tuple[Figure, Axes]:
    """A figure ``_WIDTH`` x ``height`` inches, one axes over all of it, and its title."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(_WIDTH, height))
    ax.set_position((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0.0, _WIDTH)
    ax.set_ylim(0.0, height)
    ax.set_axis_off()
    fig.suptitle(title, x=0.5, y=1 - 0.08 / height, va="top", fontsize=_TITLE, linespacing=1.3)
    return fig, ax


def _text(
    ax: Axes,
    x: float,
    y: float,
    text: str,
    *,
    size: float = _SMALL,
    ha: str = "center",
    va: str = "center",
    colour: str = _BLACK,
    **kwargs: Any,
) -> Any:
    """A label at (x, y) in inches, drawn over boxes and wires, in the shade of ``colour``
    that text reads in (``_ink``)."""
    return ax.text(x, y, text, ha=ha, va=va, fontsize=size, color=_ink(colour), zorder=6, **kwargs)


# add_artist, not add_patch: the limits are fixed by _canvas, and skipping the data-limit
# update of every patch keeps the figures quick to build.
def _rect(
    ax: Axes, x: float, y: float, w: float, h: float, gid: str | None = None, **style: Any
) -> None:
    """A rounded box centred on (x, y)."""
    from matplotlib.patches import FancyBboxPatch

    style = {"facecolor": "white", "edgecolor": _BLACK, "linewidth": 1.2, **style}
    ax.add_artist(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.06",
            gid=gid,
            zorder=2,
            **style,
        )
    )


def _wire(
    ax: Axes,
    points: list[tuple[float, float]],
    colour: str = _BLACK,
    *,
    arrow: bool = True,
    halo: bool = False,
    **style: Any,
) -> None:
    """A polyline through ``points``, with an arrow head at the last one.

    ``halo`` draws a white band under the line, so a wire that crosses another reads as
    passing over it rather than joining it.
    """
    from matplotlib import patheffects
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    effects = [patheffects.withStroke(linewidth=6, foreground="white")] if halo else None
    ax.add_artist(
        FancyArrowPatch(
            path=Path(points),
            arrowstyle="-|>" if arrow else "-",
            mutation_scale=10,
            color=colour,
            linewidth=style.pop("linewidth", 1.4),
            zorder=style.pop("zorder", 4 if halo else 3),
            path_effects=effects,
            **style,
        )
    )


def _node(ax: Axes, x: float, y: float, symbol: str, colour: str = _BLACK) -> None:
    """A pointwise operation: a circle with ``symbol`` (``×``, ``+``) in it."""
    from matplotlib.patches import Circle

    ax.add_artist(
        Circle((x, y), _NODE_R, facecolor="white", edgecolor=colour, linewidth=1.2, zorder=5)
    )
    _text(ax, x, y, symbol, size=_FONT)


def _dot(ax: Axes, x: float, y: float, colour: str) -> None:
    """A junction where a wire branches."""
    from matplotlib.patches import Circle

    ax.add_artist(Circle((x, y), 0.035, color=colour, zorder=4))


def _lines(
    ax: Axes, x: float, top: float, lines: list[tuple[str, float, str]], gap: float = _LINE_GAP
) -> float:
    """Centred lines ``(text, size, colour)`` from ``top`` down; returns the last centre."""
    y = top
    for text, size, colour in lines:
        _text(ax, x, y, text, size=size, colour=colour)
        y -= gap
    return y + gap


# --- reading a layer, duck-typed ---------------------------------------------------------


def _shape_text(shape: Any) -> str:
    """A shape as Keras prints it, with its unknown axes named: ``batch`` for the first,
    ``timesteps`` for the second of a sequence (rank 3 or more), ``None`` for any other:
    ``(batch, 3)``, ``(batch, timesteps, 6)``."""
    names = ["batch", "timesteps"] if len(shape) >= 3 else ["batch"]
    dims = [
        str(d) if d is not None else (names[k] if k < len(names) else "None")
        for k, d in enumerate(shape)
    ]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _weight_key(weight: Any) -> str:
    """``kernel``, ``recurrent_kernel`` or ``bias`` from a variable's path or name."""
    name = str(getattr(weight, "path", None) or getattr(weight, "name", ""))
    return name.rsplit("/", 1)[-1].split(":")[0]


def _weights(layer: Any) -> dict[str, tuple[int, ...]]:
    """The layer's weight shapes by short name (``kernel``...), empty if it is not built."""
    return {_weight_key(w): tuple(int(d) for d in w.shape) for w in getattr(layer, "weights", [])}


def _cell(layer: Any) -> Any:
    """The layer's cell (an ``LSTM`` has one, an ``RNN`` wraps one), or the layer itself."""
    return getattr(layer, "cell", None) or layer


def _units(layer: Any) -> int:
    """``units`` of a recurrent layer, of the cell an ``RNN`` wraps, or of a cell."""
    units = getattr(layer, "units", None)
    if units is None:
        units = getattr(_cell(layer), "units", None)
    if not _is_int(units) or units < 1:
        raise ValueError(f"expected a Keras recurrent layer with units, got {layer!r}")
    return int(units)


def _config(layer: Any) -> dict[str, Any]:
    """``layer.get_config()``, with the wrapped cell's settings (``RNN(cell)``) merged in."""
    config = dict(layer.get_config())
    cell = config.get("cell")
    if isinstance(cell, dict):
        return {**cell.get("config", {}), **config}
    return config


def _activation(value: Any) -> str:
    """An activation's name, whether the config holds a string or a serialized object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value.get("config", value.get("class_name", "?")))
    return str(getattr(value, "__name__", value))


def _math_activation(name: str) -> str:
    """An activation for a mathtext equation: ``\\sigma``, ``\\tanh`` or its name upright."""
    return _MATH_ACTIVATIONS.get(name, "\\mathrm{" + name.replace("_", "\\_") + "}")


def _build_shape(layer: Any) -> tuple[Any, ...] | None:
    """The ``(batch, timesteps, features)`` the layer was built on, if it was."""
    get = getattr(layer, "get_build_config", None)
    config = (get() if callable(get) else None) or {}
    # One input: {"input_shape": ...}; called with initial_state: {"shapes_dict": {...}}.
    shapes = config.get("shapes_dict") or {}
    shape = config.get("input_shape", shapes.get("sequences_shape"))
    if isinstance(shape, list | tuple) and len(shape) == 3:
        return tuple(shape)
    return None


def _states(layer: Any) -> tuple[str, ...]:
    """The states the cell carries: ``("h", "c")`` for an LSTM, ``("h",)`` otherwise."""
    size = getattr(_cell(layer), "state_size", None)
    return ("h", "c") if isinstance(size, list | tuple) and len(size) == 2 else ("h",)


def _class(obj: Any) -> str:
    return type(obj).__name__


def _agreed_size(name: str, given: Any, known: Any) -> int | None:
    """The size ``name`` given beside a layer, checked against the one the layer knows.

    Every figure that takes a layer and a size (``units``, ``timesteps``, ``features``)
    checks it here, so a reader who passes a size the layer contradicts reads one wording
    whichever figure they drew. Returns the given size, else the known one, else ``None``.
    """
    if given is None:
        return None if known is None else int(known)
    given = _positive_int(name, given)
    if known is not None and int(known) != given:
        raise ValueError(f"{name}={given} disagrees with the layer, which has {known} {name}")
    return given


def _features(layer: Any, features: Any = None) -> int | None:
    """The input's last axis: the kernel's rows, else the build shape, else ``features``."""
    kernel = _weights(layer).get("kernel")
    built = _build_shape(layer)
    known = kernel[0] if kernel else (built[-1] if built and built[-1] is not None else None)
    return _agreed_size("features", features, known)


def _blocks(layer: Any, n_gates: int, features: Any, what: str) -> dict[str, Any]:
    """Units, features and the weight shapes of a gated layer, checked against ``n_gates``."""
    units = _units(layer)
    features = _features(layer, features)
    if features is None:
        raise ValueError(
            f"the {what} layer is not built yet: call it on an input, build it with "
            "layer.build((None, timesteps, features)), or pass features="
        )
    config = _config(layer)
    weights = _weights(layer)
    columns = n_gates * units
    if weights:
        kernel = weights.get("kernel", ())
        if len(kernel) != 2 or kernel[1] != columns:
            raise ValueError(
                f"a {what} layer of {units} units has a kernel of {columns} columns "
                f"({n_gates}·units); this layer's kernel is {kernel}: is it a {what}?"
            )
    else:  # not built: the shapes Keras will create, computed from units and features
        weights = {"kernel": (features, columns), "recurrent_kernel": (units, columns)}
        if config.get("use_bias", True):
            two_rows = what == "GRU" and config.get("reset_after", True)
            weights["bias"] = (2, columns) if two_rows else (columns,)
    return {"units": units, "features": features, "weights": weights, "config": config}


def _weights_line(weights: dict[str, tuple[int, ...]]) -> str:
    """``W (2, 12), U (3, 12), b (12,)``: the three weights and their shapes."""
    names = (("kernel", "W"), ("recurrent_kernel", "U"), ("bias", "b"))
    return ", ".join(
        f"{short} {_shape_text(weights[key])}" for key, short in names if key in weights
    )


# --- lstm_cell_diagram -------------------------------------------------------------------


def _gate_box(
    ax: Axes,
    x: float,
    top: float,
    height: float,
    header: str,
    colour: str,
    lines: list[str],
) -> None:
    """A gate's block: its name, then its activation and weight slices, one per line."""
    _rect(ax, x, top - height / 2, 1.0, height, edgecolor=colour, linewidth=1.6)
    _text(ax, x, top - 0.17, header, size=_FONT)
    _lines(ax, x, top - 0.38, [(line, _SMALL, _BLACK) for line in lines])


def _gate_row(
    ax: Axes,
    gates: Any,
    xs: tuple[float, ...],
    rows: tuple[float, float, float],
    units: int,
    weights: dict[str, tuple[int, ...]],
    activations: tuple[str, str],
) -> None:
    """A cell's blocks in Keras's column order, each fed from the bus below it.

    ``rows`` is the blocks' top, their height and the bus's height; ``activations`` the
    gates' and the candidate's.
    """
    top, height, y_bus = rows
    gate_act, cand_act = activations
    for k, ((symbol, name, colour, recurrent), x) in enumerate(zip(gates, xs, strict=True)):
        lines = [gate_act if recurrent else cand_act, *_slices(k, units, weights)]
        _gate_box(ax, x, top, height, f"${symbol}$ {name}", colour, lines)
        _dot(ax, x, y_bus, _BLUE)
        _wire(ax, [(x, y_bus), (x, top - height)], _BLUE)


def _slices(k: int, units: int, weights: dict[str, tuple[int, ...]]) -> list[str]:
    """Lines naming gate ``k``'s columns and its slices of W, U and b."""
    start, stop = k * units, (k + 1) * units
    lines = [
        f"cols {start}:{stop}",
        f"W ({weights['kernel'][0]}, {units})",
        f"U ({units}, {units})",
    ]
    bias = weights.get("bias")
    if bias is None:
        lines.append("no bias")
    elif len(bias) == 2:  # a GRU with reset_after: row 0 input bias, row 1 recurrent bias
        lines += [f"b[0] ({units},)", f"b[1] ({units},)"]
    else:
        lines.append(f"b ({units},)")
    return lines


def lstm_cell_diagram(layer: Any, features: int | None = None) -> Figure:
    """Draw one timestep of an LSTM cell, each block labelled with its slice of the weights.

    The three gates and the candidate (four blocks) sit left to right in Keras's order,
    ``i`` (input), ``f`` (forget), ``c̃`` (candidate) and ``o`` (output), the order of the
    column blocks of the kernel ``W`` (features, 4·units), the recurrent kernel ``U``
    (units, 4·units) and the bias ``b`` (4·units,). Each block names its activation (read
    from the config) and its slices: columns ``k·units:(k+1)·units``, ``W`` (features,
    units), ``U`` (units, units) and ``b`` (units,). The cell state ``c`` runs along the
    top, touched only by ``× f`` and ``+``: the path the gradient keeps. Two equations close
    the figure.

    Parameters
    ----------
    layer : keras.layers.LSTM or keras.layers.RNN(keras.layers.LSTMCell)
        Read duck-typed: ``layer.weights`` (their ``path``/``name`` and ``shape``),
        ``layer.units`` (or ``layer.cell.units``) and ``layer.get_config()``.
    features : int, optional
        Size of the input's last axis; needed only if the layer is not built yet. If the
        layer is built, it must agree with the kernel's rows.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches; the title is ``fig.get_suptitle()``.

    Raises
    ------
    ValueError
        If the layer is not an LSTM (its kernel lacks 4·units columns), is not built and
        ``features`` is not given, or ``features`` disagrees with the built kernel.

    Examples
    --------
    >>> import keras
    >>> layer = keras.layers.LSTM(3)
    >>> layer.build((None, 5, 2))  # (batch, timesteps, features)
    >>> fig = lstm_cell_diagram(layer)
    >>> print(fig.get_suptitle())
    LSTM(3) cell, one timestep: 2 features in, state list [h, c]
    W (2, 12), U (3, 12), b (12,): 4 column blocks $i, f, \\tilde{c}, o$
    >>> texts = {t.get_text() for t in fig.axes[0].texts}
    >>> sorted(t for t in texts if t.startswith(("W", "U", "cols")))
    ['U (3, 3)', 'W (2, 3)', 'cols 0:3', 'cols 3:6', 'cols 6:9', 'cols 9:12']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    read = _blocks(layer, 4, features, "LSTM")
    units, weights, config = read["units"], read["weights"], read["config"]
    feats = read["features"]
    gate_act = _activation(config.get("recurrent_activation", "sigmoid"))
    cand_act = _activation(config.get("activation", "tanh"))
    inputs = f"{feats} feature{'s' * (feats != 1)} in"
    title = (
        f"{_class(layer)}({units}) cell, one timestep: {inputs}, state list [h, c]\n"
        f"{_weights_line(weights)}: 4 column blocks $i, f, \\tilde{{c}}, o$"
    )
    fig, ax = _canvas(5.75, title)

    y_top, y_mid, y_bus = 4.5, 3.4, 1.4
    box_top, box_h = 3.05, 1.3
    xs = (1.0, 2.15, 3.3, 4.45)
    x_h, right, left = 5.5, 6.3, 0.1
    unit_shape = f"(batch, {units})"

    # The gates, in Keras's column order, fed from one bus that carries x_t and h_{t-1}.
    _gate_row(ax, _LSTM_GATES, xs, (box_top, box_h, y_bus), units, weights, (gate_act, cand_act))
    _wire(ax, [(left, y_bus), (xs[-1], y_bus)], _BLUE, arrow=False)
    _text(ax, left, y_bus - 0.1, f"$h_{{t-1}}$ {unit_shape}", ha="left", va="top")
    x_in = 2.75
    _dot(ax, x_in, y_bus, _BLACK)
    _wire(ax, [(x_in, 0.95), (x_in, y_bus)], _BLACK, arrow=False)
    _text(ax, x_in, 0.9, f"$x_t$ (batch, {feats})", va="top")

    # The cell state along the top: × f, then + i ⊙ c̃, and nothing else.
    _wire(ax, [(left, y_top), (right, y_top)], _ORANGE, linewidth=2.6)
    _text(ax, left, y_top + 0.17, f"$c_{{t-1}}$ {unit_shape}", ha="left", va="bottom")
    _text(ax, right, y_top + 0.17, f"$c_t$ {unit_shape}", ha="right", va="bottom")
    _text(ax, 3.2, y_top + 0.17, "cell state: the gradient's path", va="bottom", colour=_ORANGE)
    x_i, x_f, x_c, x_o = xs
    _node(ax, x_f, y_top, "×", _ORANGE)
    _node(ax, x_c, y_top, "+", _ORANGE)
    _node(ax, x_c, y_mid, "×")
    _wire(ax, [(x_i, box_top), (x_i, y_mid), (x_c - _NODE_R, y_mid)], _LSTM_GATES[0][2])
    _wire(ax, [(x_f, box_top), (x_f, y_top - _NODE_R)], _LSTM_GATES[1][2], halo=True)
    _wire(ax, [(x_c, box_top), (x_c, y_mid - _NODE_R)], _LSTM_GATES[2][2])
    _wire(ax, [(x_c, y_mid + _NODE_R), (x_c, y_top - _NODE_R)], _BLACK)

    # The output: h_t = o ⊙ act(c_t).
    y_act = 3.95
    _dot(ax, x_h, y_top, _ORANGE)
    _rect(ax, x_h, y_act, 0.62, 0.28, edgecolor=_GREEN)
    _text(ax, x_h, y_act, cand_act)
    _wire(ax, [(x_h, y_top), (x_h, y_act + 0.14)], _ORANGE)
    _node(ax, x_h, y_mid, "×", _BLUE)
    _wire(ax, [(x_h, y_act - 0.14), (x_h, y_mid + _NODE_R)], _BLACK)
    _wire(ax, [(x_o, box_top), (x_o, y_mid), (x_h - _NODE_R, y_mid)], _LSTM_GATES[3][2])
    _wire(ax, [(x_h + _NODE_R, y_mid), (right, y_mid)], _BLUE, linewidth=2.0)
    _text(ax, right, y_mid - 0.17, f"$h_t$ {unit_shape}", ha="right", va="top")

    g, a = _math_activation(gate_act), _math_activation(cand_act)
    _text(
        ax,
        3.2,
        0.5,
        f"$x_t W + h_{{t-1}} U + b$ in 4 blocks: $i, f, o = {g}(\\cdot)$, "
        f"$\\tilde{{c}} = {a}(\\cdot)$",
        size=_FONT,
    )
    _text(
        ax,
        3.2,
        0.18,
        f"$c_t = f \\odot c_{{t-1}} + i \\odot \\tilde{{c}}$      $h_t = o \\odot {a}(c_t)$",
        size=_FONT,
    )
    return fig


# --- gru_cell_diagram --------------------------------------------------------------------


def gru_cell_diagram(layer: Any) -> Figure:
    """Draw one timestep of a GRU cell, each block labelled with its slice of the weights.

    The two gates and the candidate (three blocks) sit left to right in Keras's column
    order: ``z`` (update), ``r`` (reset) and ``h̃`` (candidate), each with its activation,
    its columns and its slices of the kernel ``W`` (features, 3·units), the recurrent kernel
    ``U`` (units, 3·units) and the bias. With ``reset_after=True`` (Keras's default) the
    bias is ``(2, 3·units)``: row 0 is added to ``x W``, row 1 to ``h U``, and ``r``
    multiplies ``h U_h + b[1]``, after the recurrent kernel; with ``reset_after=False`` the
    bias is ``(3·units,)`` and ``r`` multiplies ``h_{t-1}`` before it. The hidden state
    ``h``, the only state, runs along the top: ``h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃``.

    Parameters
    ----------
    layer : keras.layers.GRU or keras.layers.RNN(keras.layers.GRUCell)
        A built layer (call it on an input, or ``layer.build((None, timesteps,
        features))``), read duck-typed: ``layer.weights``, ``layer.units`` and
        ``layer.get_config()`` (for ``reset_after`` and the activations).

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches; the title is ``fig.get_suptitle()``.

    Raises
    ------
    ValueError
        If the layer is not built or is not a GRU (its kernel lacks 3·units columns).

    Examples
    --------
    >>> import keras
    >>> layer = keras.layers.GRU(3)
    >>> layer.build((None, 5, 2))  # (batch, timesteps, features)
    >>> fig = gru_cell_diagram(layer)
    >>> print(fig.get_suptitle())
    GRU(3) cell, one timestep: 2 features in, one state tensor h
    W (2, 9), U (3, 9), b (2, 9): 3 column blocks $z, r, \\tilde{h}$
    b[0] is added to x W, b[1] to h U (reset_after=True)
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    read = _blocks(layer, 3, None, "GRU")
    units, weights, config = read["units"], read["weights"], read["config"]
    feats = read["features"]
    reset_after = len(weights.get("bias", ())) == 2
    gate_act = _activation(config.get("recurrent_activation", "sigmoid"))
    cand_act = _activation(config.get("activation", "tanh"))
    inputs = f"{feats} feature{'s' * (feats != 1)} in"
    title = (
        f"{_class(layer)}({units}) cell, one timestep: {inputs}, one state tensor h\n"
        f"{_weights_line(weights)}: 3 column blocks $z, r, \\tilde{{h}}$"
    )
    if reset_after:
        title += "\nb[0] is added to x W, b[1] to h U (reset_after=True)"
    height = 6.0 if reset_after else 5.75
    fig, ax = _canvas(height, title)

    y_top, y_mid, y_bus = 4.5, 3.4, 1.25
    box_top = 3.05
    box_h = 1.45 if reset_after else 1.3
    xs = (1.2, 2.6, 4.3)
    left, right, x_branch = 0.1, 6.3, 0.35
    unit_shape = f"(batch, {units})"

    _gate_row(ax, _GRU_GATES, xs, (box_top, box_h, y_bus), units, weights, (gate_act, cand_act))

    # h along the top, branching down into the bus that also carries x_t.
    _wire(ax, [(left, y_top), (right, y_top)], _BLUE, linewidth=2.6)
    _text(ax, left, y_top + 0.1, f"$h_{{t-1}}$ {unit_shape}", ha="left", va="bottom")
    _text(ax, right, y_top + 0.1, f"$h_t$ {unit_shape}", ha="right", va="bottom")
    _text(ax, 3.2, y_top + 0.1, "hidden state: the only state", va="bottom", colour=_BLUE)
    _dot(ax, x_branch, y_top, _BLUE)
    _wire(ax, [(x_branch, y_top), (x_branch, y_bus), (xs[-1], y_bus)], _BLUE, arrow=False)
    x_in = 3.45
    _dot(ax, x_in, y_bus, _BLACK)
    _wire(ax, [(x_in, 1.0), (x_in, y_bus)], _BLACK, arrow=False)
    _text(ax, x_in, 0.95, f"$x_t$ (batch, {feats})", va="top")

    # z keeps h_{t-1}; 1 - z lets the candidate in.
    x_z, x_r, x_c = xs
    z_colour, r_colour = _GRU_GATES[0][2], _GRU_GATES[1][2]
    _node(ax, x_z, y_top, "×", _BLUE)
    _node(ax, x_c, y_top, "+", _BLUE)
    _node(ax, x_c, y_mid, "×")
    _dot(ax, x_z, y_mid, z_colour)
    _wire(ax, [(x_z, box_top), (x_z, y_top - _NODE_R)], z_colour)
    _wire(ax, [(x_z, y_mid), (x_r - 0.2, y_mid)], z_colour)
    _rect(ax, x_r, y_mid, 0.4, 0.26, edgecolor=z_colour)
    _text(ax, x_r, y_mid, "1−z")
    _wire(ax, [(x_r + 0.2, y_mid), (x_c - _NODE_R, y_mid)], z_colour)
    _wire(ax, [(x_c, box_top), (x_c, y_mid - _NODE_R)], _GRU_GATES[2][2])
    _wire(ax, [(x_c, y_mid + _NODE_R), (x_c, y_top - _NODE_R)], _BLACK)

    # r multiplies the recurrent part of the candidate: after U (reset_after) or before.
    y_r = box_top - 0.6
    x_node = (x_r + 0.5 + x_c - 0.5) / 2
    _wire(ax, [(x_r + 0.5, y_r), (x_node - _NODE_R, y_r)], r_colour)
    _node(ax, x_node, y_r, "×", r_colour)
    _wire(ax, [(x_node + _NODE_R, y_r), (x_c - 0.5, y_r)], r_colour)
    where = ["reset_after=True", "r multiplies", "h U + b[1]"]
    if not reset_after:
        where = ["reset_after=False", "r multiplies", "h before U"]
    _lines(ax, 5.7, box_top - 0.3, [(line, _SMALL, _BLACK) for line in where])

    g, a = _math_activation(gate_act), _math_activation(cand_act)
    if reset_after:
        candidate = f"$\\tilde{{h}} = {a}(x_t W_h + b_0 + r \\odot (h_{{t-1}} U_h + b_1))$"
    else:
        candidate = f"$\\tilde{{h}} = {a}(x_t W_h + (r \\odot h_{{t-1}}) U_h + b)$"
    _text(ax, 3.2, 0.52, f"$z, r = {g}(\\cdot)$    {candidate}", size=_FONT)
    _text(
        ax,
        3.2,
        0.18,
        "$h_t = z \\odot h_{t-1} + (1 - z) \\odot \\tilde{h}$",
        size=_FONT,
    )
    return fig


# --- bidirectional_diagram ---------------------------------------------------------------


def _is_shape(value: Any) -> bool:
    """Whether ``value`` is one shape (a tuple of ints or None), not a list of shapes."""
    return isinstance(value, list | tuple) and all(d is None or _is_int(d) for d in value)


def _input_shape(input_shape: Any) -> tuple[Any, ...]:
    """``(batch, timesteps, features)``, batch and timesteps possibly None."""
    if not _is_shape(input_shape) or len(input_shape) != 3 or input_shape[-1] is None:
        raise ValueError(
            "input_shape must be (batch, timesteps, features), e.g. (None, 5, 2), "
            f"got {input_shape!r}"
        )
    return tuple(None if d is None else int(d) for d in input_shape)


def _flags(config: dict[str, Any]) -> str:
    """The return flags a layer sets, as written in its constructor call."""
    flags = [f"{name}=True" for name in ("return_sequences", "return_state") if config.get(name)]
    return "".join(f", {flag}" for flag in flags)


def bidirectional_diagram(layer: Any, input_shape: tuple[int | None, ...]) -> Figure:
    """Draw a ``Bidirectional`` recurrent layer and where each tensor it returns comes from.

    The input feeds a forward layer, reading ``t = 1 … timesteps``, and a backward copy,
    reading ``t = timesteps … 1``, each with its own weights (shapes read from each). The
    forward layer's final states leave at its right end, after the last timestep; the
    backward layer's at its left end, since its last step is ``t = 1``. Their outputs meet
    in the merge (``concat``, ``sum``, ``ave`` or ``mul``) that gives ``output``, the forward
    one entering from the left and the backward one from the right, the order in which
    ``concat`` joins them (forward first); with ``merge_mode=None`` both are returned apart,
    forward on the left. Each returned tensor is labelled with its index in the list Keras
    returns and the shape ``layer.compute_output_shape`` gives; the two output wires carry
    the gids ``"bidirectional:forward output"`` and ``"bidirectional:backward output"``.

    Parameters
    ----------
    layer : keras.layers.Bidirectional
        Typically ``Bidirectional(LSTM(units, return_state=True))``, which returns a tuple of
        five tensors. Read duck-typed: ``layer.forward_layer``, ``layer.backward_layer``,
        ``layer.merge_mode`` and ``layer.compute_output_shape``.
    input_shape : tuple
        ``(batch, timesteps, features)``; ``batch`` (and ``timesteps``) may be None.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches; the title is ``fig.get_suptitle()``.

    Raises
    ------
    ValueError
        If ``input_shape`` is not ``(batch, timesteps, features)``, or its timesteps or
        features disagree with the ones the layer was built on.

    Examples
    --------
    >>> import keras
    >>> layer = keras.layers.Bidirectional(keras.layers.LSTM(3, return_state=True))
    >>> fig = bidirectional_diagram(layer, (None, 5, 2))
    >>> print(fig.get_suptitle())
    Bidirectional(LSTM(3)), merge_mode='concat'
    the LSTM has return_state=True
    on input (batch, 5, 2) returns a tuple of 5 tensors
    >>> sorted(t.get_text().split("\\n")[0] for t in fig.axes[0].texts if t.get_text()[0] == "[")
    ['[0] output (batch, 6)', '[1] forward h', '[2] forward c', '[3] backward h', '[4] backward c']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    shape_in = _input_shape(input_shape)
    forward, backward = layer.forward_layer, layer.backward_layer
    # The shapes drawn come from input_shape and the weights from the layer: a layer built
    # on other timesteps or features would be drawn as a layer the page does not have.
    _features(forward, shape_in[2])
    if shape_in[1] is not None:
        _agreed_size("timesteps", shape_in[1], (_build_shape(forward) or (None, None))[1])
    merge = getattr(layer, "merge_mode", None)
    inner = _class(forward)
    units = _units(forward)
    shapes = layer.compute_output_shape(shape_in)
    shapes = [shapes] if _is_shape(shapes) else list(shapes)
    n_outputs = 1 if merge is not None else 2
    n_states = (len(shapes) - n_outputs) // 2
    state_names = ("h", "c") if n_states == 2 else ("h",) * n_states
    steps = "timesteps" if shape_in[1] is None else str(shape_in[1])
    all_steps = bool(_config(forward).get("return_sequences"))
    returns = "a tensor" if len(shapes) == 1 else f"a tuple of {len(shapes)} tensors"
    flags = _flags(_config(forward)).removeprefix(", ")
    title = (
        f"{_class(layer)}({inner}({units})), merge_mode={merge!r}\n"
        + (f"the {inner} has {flags}\n" if flags else "")
        + f"on input {_shape_text(shape_in)} returns {returns}"
    )
    fig, ax = _canvas(5.2 if flags else 5.0, title)

    y_in, y_fwd, y_bwd, y_merge, y_out = 0.45, 1.45, 2.6, 3.55, 3.95
    # Forward below on the left, backward above on the right: each output rises on its own
    # side into the merge, forward on the left and backward on the right, the order in which
    # concat joins them; each copy's final states leave into the space between the boxes.
    fwd_x, bwd_x, box_w, box_h = 1.75, 4.75, 2.8, 0.62
    fwd_right, bwd_left = fwd_x + box_w / 2, bwd_x - box_w / 2
    x_in, in_w, x_merge, merge_w = 3.2, 1.5, 3.2, 1.8

    # The input, to both directions: left and up to the forward copy, right and up to the
    # backward one, clear of the forward copy's states.
    _rect(ax, x_in, y_in, in_w, 0.34, **_PLAIN)
    _text(ax, x_in, y_in, f"x {_shape_text(shape_in)}", size=_FONT)
    _wire(ax, [(x_in - in_w / 2, y_in), (fwd_x, y_in), (fwd_x, y_fwd - box_h / 2)], _BLACK)
    x_feed = bwd_x + 0.55
    _wire(ax, [(x_in + in_w / 2, y_in), (x_feed, y_in), (x_feed, y_bwd - box_h / 2)], _BLACK)
    for direction, sub, x, y, order in (
        ("forward", forward, fwd_x, y_fwd, f"t = 1 → {steps}"),
        ("backward", backward, bwd_x, y_bwd, f"t = {steps} → 1"),
    ):
        _rect(ax, x, y, box_w, box_h, **_CELL)
        _text(ax, x, y + 0.13, f"{direction} {inner}({units}): {order}", size=_FONT)
        weights = _weights(sub)
        _text(ax, x, y - 0.15, _weights_line(weights) if weights else "own weights (not built)")

    # Outputs: a forward and a backward h, at their last step or at every step.
    fwd_last = f"h at t = 1…{steps}" if all_steps else f"h at t = {steps}"
    # With return_sequences Keras flips the backward sequence back, to line up with time.
    bwd_last = f"h at t = 1…{steps}\nflipped back" if all_steps else "h at t = 1"
    x_fo, x_bo = fwd_x - box_w / 2 + 0.4, bwd_x + box_w / 2 - 0.45
    _text(ax, x_fo + 0.1, y_bwd, fwd_last, ha="left")
    _text(ax, x_bo - 0.1, y_merge - 0.3, bwd_last, ha="right")
    index = 0
    if merge is not None:
        left, right = x_merge - merge_w / 2, x_merge + merge_w / 2
        for name, points in (
            ("forward", [(x_fo, y_fwd + box_h / 2), (x_fo, y_merge), (left, y_merge)]),
            ("backward", [(x_bo, y_bwd + box_h / 2), (x_bo, y_merge), (right, y_merge)]),
        ):
            _wire(ax, points, _BLUE, gid=f"bidirectional:{name} output")
        _rect(ax, x_merge, y_merge, merge_w, 0.34, **_PLAIN)
        width = shapes[0][-1]
        per = f"{units} + {units} = {width}" if merge == "concat" else "elementwise"
        _text(ax, x_merge, y_merge, f"{merge}: {per}", size=_FONT)
        _wire(ax, [(x_merge, y_merge + 0.17), (x_merge, y_out)], _VERMILLION)
        _text(
            ax,
            x_merge,
            y_out + 0.05,
            f"[0] output {_shape_text(shapes[0])}",
            va="bottom",
            colour=_VERMILLION,
            size=_FONT,
        )
        index = 1
    else:
        for name, x, k in (("forward", x_fo, 0), ("backward", x_bo, 1)):
            y_from = (y_fwd if k == 0 else y_bwd) + box_h / 2
            _wire(ax, [(x, y_from), (x, y_out)], _VERMILLION, gid=f"bidirectional:{name} output")
            _text(
                ax,
                x,
                y_out + 0.05,
                f"[{k}] {name} output\n{_shape_text(shapes[k])}",
                va="bottom",
                colour=_VERMILLION,
            )
        index = 2

    # Final states: the forward layer's after t = T (its right end), the backward's after
    # t = 1 (its left end), both into the space between the boxes.
    offsets = {0: (), 1: (0.0,), 2: (0.23, -0.23)}[n_states]
    for direction, y in (("forward", y_fwd), ("backward", y_bwd)):
        for name, dy in zip(state_names, offsets, strict=True):
            label = f"[{index}] {direction} {name}\n{_shape_text(shapes[index])}"
            colour = _ORANGE if name == "c" else _BLUE
            if direction == "forward":
                _wire(ax, [(fwd_right, y + dy), (fwd_right + 0.3, y + dy)], colour)
                _text(ax, fwd_right + 0.35, y + dy, label, ha="left", colour=_VERMILLION)
            else:
                _wire(ax, [(bwd_left, y + dy), (bwd_left - 0.3, y + dy)], colour)
                _text(ax, bwd_left - 0.35, y + dy, label, ha="right", colour=_VERMILLION)
            index += 1
    return fig


# --- encoder_decoder_diagram -------------------------------------------------------------


def _sequence_input(layer: Any) -> tuple[str, str]:
    """Timesteps and features of the layer's input, as numbers once it is built."""
    built = _build_shape(layer)
    steps = built[1] if built and built[1] is not None else "timesteps"
    features = _features(layer)
    return str(steps), str(features) if features is not None else "features"


def _output_shape(layer: Any, steps: str) -> str:
    """``(batch, timesteps, units)`` with ``return_sequences``, else ``(batch, units)``."""
    units = _units(layer)
    if _config(layer).get("return_sequences"):
        return f"(batch, {steps}, {units})"
    return f"(batch, {units})"


def _listing(names: tuple[str, ...]) -> str:
    return "[" + ", ".join(names) + "]"


def _tupled(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(names) + ")"


def encoder_decoder_diagram(encoder: Any, decoder: Any) -> Figure:
    """Draw an encoder LSTM handing its final states to a decoder LSTM as ``initial_state``.

    The encoder (``return_state=True``) returns the tuple ``(output, h, c)``; its ``output``
    is not used, and ``[h, c]``, each ``(batch, units)``, becomes the decoder's
    ``initial_state``, so the decoder starts from what the encoder read instead of from
    zeros. Inputs, states and outputs are labelled with shapes read from the two layers:
    ``units`` and the flags from each, timesteps and features from the shape each was
    built on (written ``timesteps`` and ``features`` while a layer is not built).

    Parameters
    ----------
    encoder : keras.layers.LSTM
        Built with ``return_state=True``. Read duck-typed: ``units``, ``get_config()``,
        ``get_build_config()``, ``weights`` and ``cell.state_size``.
    decoder : keras.layers.LSTM
        Of the same ``units`` and kind as the encoder, so the states fit; usually with
        ``return_sequences=True``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches; the title is ``fig.get_suptitle()``.

    Raises
    ------
    ValueError
        If the encoder does not return its states, or the two layers' units or states
        differ (the decoder could not take the encoder's states).

    Examples
    --------
    >>> import keras
    >>> encoder = keras.layers.LSTM(3, return_state=True)
    >>> decoder = keras.layers.LSTM(3, return_sequences=True)
    >>> _, h, c = encoder(keras.Input((6, 2)))  # (batch, timesteps, features)
    >>> sequence = decoder(keras.Input((4, 5)), initial_state=[h, c])
    >>> fig = encoder_decoder_diagram(encoder, decoder)
    >>> print(fig.get_suptitle())
    encoder LSTM(3) returns a tuple (output, h, c)
    decoder LSTM(3) takes the list [h, c] as initial_state
    and returns a tensor
    >>> texts = {t.get_text() for t in fig.axes[0].texts}
    >>> sorted(t for t in texts if t.startswith("(batch"))
    ['(batch, 4, 5)', '(batch, 6, 2)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    enc_units, dec_units = _units(encoder), _units(decoder)
    enc_config, dec_config = _config(encoder), _config(decoder)
    states = _states(encoder)
    if not enc_config.get("return_state"):
        raise ValueError("the encoder must be built with return_state=True to hand over its states")
    if _states(decoder) != states or enc_units != dec_units:
        raise ValueError(
            f"the decoder ({_class(decoder)}({dec_units}), states {_listing(_states(decoder))})"
            f" cannot take the states of the encoder ({_class(encoder)}({enc_units}), states "
            f"{_listing(states)}): they need the same units and kind"
        )
    enc_steps, enc_feats = _sequence_input(encoder)
    dec_steps, dec_feats = _sequence_input(decoder)
    state_shape = f"(batch, {enc_units})"
    dec_states = _states(decoder) if dec_config.get("return_state") else ()
    dec_returns = f"a tuple {_tupled(('output', *dec_states))}" if dec_states else "a tensor"
    title = (
        f"encoder {_class(encoder)}({enc_units}) returns a tuple {_tupled(('output', *states))}\n"
        f"decoder {_class(decoder)}({dec_units}) takes the list {_listing(states)} as "
        f"initial_state\nand returns {dec_returns}"
    )
    fig, ax = _canvas(4.6, title)

    y_box, box_w, box_h = 2.05, 2.2, 0.8
    x_enc, x_dec = 1.45, 4.95
    enc_right, dec_left = x_enc + box_w / 2, x_dec - box_w / 2
    for name, layer, x, flag in (
        ("encoder", encoder, x_enc, "return_state=True"),
        ("decoder", decoder, x_dec, _flags(dec_config).removeprefix(", ") or "initial_state"),
    ):
        flags = flag.split(", ")
        _rect(ax, x, y_box, box_w, box_h, **_CELL)
        top = y_box + (0.2 if len(flags) > 1 else 0.15)
        _text(ax, x, top, f"{name} {_class(layer)}({_units(layer)})", size=_FONT)
        _lines(ax, x, top - 0.3, [(line, _SMALL, _BLACK) for line in flags], gap=0.2)

    # Inputs below, each with the shape its layer was built on.
    for name, x, steps, feats in (
        ("encoder", x_enc, enc_steps, enc_feats),
        ("decoder", x_dec, dec_steps, dec_feats),
    ):
        _wire(ax, [(x, 1.0), (x, y_box - box_h / 2)], _BLACK)
        _text(ax, x, 0.92, f"{name} input", va="top")
        _text(ax, x, 0.66, f"(batch, {steps}, {feats})", va="top")

    # The states, side by side between the boxes, numbered as in the encoder's list.
    offsets = (0.22, -0.22) if len(states) == 2 else (0.0,)
    for k, (name, dy) in enumerate(zip(states, offsets, strict=True), start=1):
        colour = _ORANGE if name == "c" else _BLUE
        y = y_box + dy
        _wire(ax, [(enc_right, y), (dec_left, y)], colour, linewidth=2.0)
        _text(ax, (enc_right + dec_left) / 2, y + 0.05, f"[{k}] {name} {state_shape}", va="bottom")
    mid = (enc_right + dec_left) / 2
    _text(ax, mid, y_box + offsets[-1] - 0.1, "initial_state", va="top")
    _text(ax, mid, y_box + offsets[-1] - 0.34, f"= {_listing(states)}", va="top")

    # Outputs above: the encoder's is computed and not used; the decoder's is the result.
    y_out = y_box + box_h / 2
    _wire(ax, [(x_enc, y_out), (x_enc, 3.05)], _GREY, linestyle="--")
    _text(
        ax, x_enc, 3.1, f"[0] output {_output_shape(encoder, enc_steps)}", va="bottom", colour=_GREY
    )
    _text(ax, x_enc, 3.37, "not used", va="bottom", colour=_GREY)
    _wire(ax, [(x_dec, y_out), (x_dec, 3.05)], _VERMILLION, linewidth=2.0)
    prefix = "[0] " if dec_states else ""
    _text(
        ax,
        x_dec,
        3.1,
        f"{prefix}output {_output_shape(decoder, dec_steps)}",
        va="bottom",
        colour=_VERMILLION,
        size=_FONT,
    )
    return fig


# --- task_taxonomy_diagram ---------------------------------------------------------------


def _timestep_grid(
    ax: Axes,
    x0: float,
    base: float,
    steps: int,
    step_w: float,
    all_outputs: bool,
    repeated_input: bool = False,
) -> None:
    """Inputs, cells and outputs for ``steps`` timesteps; returned outputs solid, others
    dashed. With ``repeated_input`` every step reads the same ``x``, tinted as one vector."""
    box = 0.62 * step_w
    y_in, y_cell, y_out = base + 0.2, base + 0.68, base + 1.16
    for t in range(1, steps + 1):
        x = x0 + (t - 0.5) * step_w
        _rect(ax, x, y_in, box, 0.28, **(_REPEATED if repeated_input else _PLAIN))
        _text(ax, x, y_in, "$x$" if repeated_input else f"$x_{{{t}}}$")
        _rect(ax, x, y_cell, box, 0.28, **_CELL)
        returned = all_outputs or t == steps
        status = "returned" if returned else "dropped"
        _rect(
            ax,
            x,
            y_out,
            box,
            0.28,
            gid=f"step:{t}:{status}",
            **(_RETURNED if returned else _DROPPED),
        )
        _text(ax, x, y_out, f"$h_{{{t}}}$", colour=_BLACK if returned else _GREY)
        _wire(ax, [(x, y_in + 0.14), (x, y_cell - 0.14)], _BLACK)
        _wire(ax, [(x, y_cell + 0.14), (x, y_out - 0.14)], _BLUE if returned else _GREY)
        if t < steps:
            _wire(ax, [(x + box / 2, y_cell), (x + step_w - box / 2, y_cell)], _BLUE)


def task_taxonomy_diagram(
    *,
    layer: Any = None,
    timesteps: int | None = None,
    units: int | None = None,
    features: int | None = None,
) -> Figure:
    """Draw one-to-one, many-to-one, many-to-many and one-to-many as recurrent layers.

    Four rows of timestep boxes (input ``x_t``, cell, output ``h_t``). One-to-one is one
    timestep; many-to-one keeps only the last ``h`` (``return_sequences=False``, a tensor
    ``(batch, units)``); many-to-many keeps every ``h_t`` (``return_sequences=True``, a
    tensor ``(batch, timesteps, units)``); one-to-many reads one vector ``(batch,
    features)`` at every step, as ``keras.layers.RepeatVector(timesteps)`` hands it over,
    and keeps every ``h_t``. Returned outputs are solid, the others dashed. Every shape is
    computed from the layer or the arguments.

    Parameters
    ----------
    layer : keras.layers.LSTM, GRU, SimpleRNN, or keras.layers.RNN(cell), optional
        A real layer to draw the rows for: ``units`` is read from it (and named in the
        title, e.g. ``LSTM(2)``), and so are the timesteps and features if it was built on
        them. Read duck-typed, like the other diagrams.
    timesteps : int, optional
        Timesteps of the rows with more than one step, from 2 to 8; read from a built
        ``layer``, else 4.
    units : int, optional
        The layer's ``units``: the last axis of every output; read from ``layer``, else 3.
    features : int, optional
        The input's last axis; read from a built ``layer``, else written ``features``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches. Output boxes have the gid
        ``"step:t:returned"`` or ``"step:t:dropped"``.

    Raises
    ------
    ValueError
        If ``units`` or ``features`` is not a positive integer, ``timesteps`` is not an
        integer from 2 to 8, or an argument disagrees with ``layer``.

    Examples
    --------
    >>> fig = task_taxonomy_diagram(timesteps=5, units=2)
    >>> texts = [t.get_text() for t in fig.axes[0].texts]
    >>> [t for t in texts if t.startswith("out")]
    ['out (batch, 2)', 'out (batch, 2)', 'out (batch, 5, 2)', 'out (batch, 5, 2)']
    >>> [t for t in texts if t.startswith("in")]
    ['in (batch, 1, features)', 'in (batch, 5, features)', 'in (batch, 5, features)', \
'in (batch, features), repeated 5 times']
    >>> import keras
    >>> fig = task_taxonomy_diagram(layer=keras.layers.GRU(4), timesteps=3, features=1)
    >>> print(fig.get_suptitle().splitlines()[0])
    Recurrent tasks and return_sequences: GRU(4), timesteps = 3
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")

    Used in ``book/05-return-flags.md``.
    """
    layer_name = None
    if layer is not None:
        units = _agreed_size("units", units, _units(layer))
        features = _features(layer, features)
        built = _build_shape(layer) or (None, None, None)
        timesteps = _agreed_size("timesteps", timesteps, built[1])
        cell = _cell(layer)
        kind = _class(cell).removesuffix("Cell") if cell is not layer else _class(layer)
        layer_name = f"{kind}({units})"
    steps = _positive_int("timesteps", 4 if timesteps is None else timesteps)
    if not 2 <= steps <= 8:
        raise ValueError(f"timesteps must be an integer from 2 to 8, got {timesteps!r}")
    units = _positive_int("units", 3 if units is None else units)
    feats = str(_positive_int("features", features)) if features is not None else "features"
    title = (
        f"Recurrent tasks and return_sequences: {layer_name or f'units = {units}'}, "
        f"timesteps = {steps}\n"
        "the output is one tensor either way; solid: returned, dashed: dropped"
    )
    rows = (
        ("one-to-one", 1, False, f"in (batch, 1, {feats})", "one step, like Dense"),
        ("many-to-one", steps, False, f"in (batch, {steps}, {feats})", "e.g. review → sentiment"),
        ("many-to-many", steps, True, f"in (batch, {steps}, {feats})", "e.g. a tag per word"),
        (
            "one-to-many",
            steps,
            True,
            f"in (batch, {feats}), repeated {steps} times",
            "e.g. image features → a caption",
        ),
    )
    row_h = 1.68
    fig, ax = _canvas(0.79 + len(rows) * row_h, title)
    step_w = min(0.75, 3.4 / steps)
    for k, (name, n, all_outputs, in_shape, example) in enumerate(rows):
        base = 0.15 + (len(rows) - 1 - k) * row_h
        if k:
            ax.plot([0.1, _WIDTH - 0.1], [base + 1.55] * 2, color=_GREY, linewidth=0.6)
        out_shape = f"(batch, {n}, {units})" if all_outputs else f"(batch, {units})"
        _text(ax, 0.1, base + 1.2, name, size=_FONT, ha="left", fontweight="bold")
        _text(ax, 0.1, base + 0.92, f"return_sequences={all_outputs}", ha="left")
        _text(ax, 0.1, base + 0.64, in_shape, ha="left")
        _text(ax, 0.1, base + 0.36, f"out {out_shape}", ha="left", colour=_VERMILLION)
        _text(ax, 0.1, base + 0.08, example, ha="left", colour=_GREY)
        _timestep_grid(ax, 2.75, base, n, step_w, all_outputs, repeated_input=name == "one-to-many")
    return fig


# --- layer_vs_cell_diagram ---------------------------------------------------------------


def layer_vs_cell_diagram(layer: Any) -> Figure:
    """Draw a recurrent cell (one timestep) above the layer that loops it over timesteps.

    Top: the cell, e.g. ``LSTMCell(units)``, maps one ``x_t`` ``(batch, features)`` and the
    list of states ``[h, c]`` to a tensor ``h_t`` and the new list of states. Bottom: the
    layer, ``LSTM(units)`` or ``keras.layers.RNN(LSTMCell(units))``, which is the same
    thing: it runs that cell for ``t = 1 … timesteps``, starting from zero states, and
    returns ``(batch, units)`` (or every step with ``return_sequences=True``). The weights
    belong to the cell: their paths name it.

    Parameters
    ----------
    layer : keras.layers.LSTM, GRU, SimpleRNN, or keras.layers.RNN(cell)
        Read duck-typed: ``layer.cell`` (its class, ``units`` and ``state_size``),
        ``layer.get_config()``, ``layer.get_build_config()`` and ``layer.weights``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose data units are inches; the title is ``fig.get_suptitle()``.

    Raises
    ------
    ValueError
        If the layer has no cell with ``units``.

    Examples
    --------
    >>> import keras
    >>> layer = keras.layers.RNN(keras.layers.LSTMCell(3))
    >>> layer.build((None, 5, 2))  # (batch, timesteps, features)
    >>> fig = layer_vs_cell_diagram(layer)
    >>> print(fig.get_suptitle())
    LSTMCell(3) handles one timestep; the layer loops it over 5 timesteps
    RNN(LSTMCell(3)) and LSTM(3): the same cell and weights
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
    """
    cell = _cell(layer)
    if cell is layer:
        raise ValueError(f"expected a recurrent layer with a cell, got {layer!r}")
    units = _units(layer)
    cell_name = f"{_class(cell)}({units})"
    short = f"{_class(cell).removesuffix('Cell')}({units})"
    wrapped = f"RNN({cell_name})"
    steps, feats = _sequence_input(layer)
    states = _states(layer)
    state_list = _listing(states)
    new_list = _listing(tuple(f"${s}_t$" for s in states))
    weights = _weights(layer)
    out_shape = _output_shape(layer, steps)
    loops = f"over {steps} timesteps" if steps != "timesteps" else "over the timesteps"
    pair = (wrapped, short) if _class(layer) == "RNN" else (short, wrapped)
    title = (
        f"{cell_name} handles one timestep; the layer loops it {loops}\n"
        f"{pair[0]} and {pair[1]}: the same cell and weights"
    )
    fig, ax = _canvas(6.0, title)
    unit_shape = f"(batch, {units})"
    each = " each" if len(states) > 1 else ""

    # The cell: one step.
    y = 3.95
    _text(ax, 0.1, 4.95, "the cell: one step", size=_FONT, ha="left", fontweight="bold")
    _rect(ax, 3.2, y, 1.8, 0.55, **_CELL)
    _text(ax, 3.2, y, cell_name, size=_FONT)
    _wire(ax, [(3.2, y - 0.7), (3.2, y - 0.275)], _BLACK)
    _text(ax, 3.3, y - 0.6, f"$x_t$ (batch, {feats})", ha="left")
    _wire(ax, [(3.2, y + 0.275), (3.2, y + 0.7)], _VERMILLION, linewidth=2.0)
    _text(ax, 3.3, y + 0.6, f"output $h_t$ {unit_shape}", ha="left", colour=_VERMILLION)
    _wire(ax, [(0.9, y), (2.3, y)], _BLUE)
    old_list = _listing(tuple(f"${s}_{{t-1}}$" for s in states))
    _text(ax, 1.6, y + 0.08, f"states {old_list}", va="bottom")
    _text(ax, 1.6, y - 0.08, f"{unit_shape}{each}", va="top")
    _wire(ax, [(4.1, y), (5.5, y)], _BLUE)
    _text(ax, 4.8, y + 0.08, f"new {new_list}", va="bottom")
    _text(ax, 4.8, y - 0.08, f"{unit_shape}{each}", va="top")
    ax.plot([0.1, _WIDTH - 0.1], [3.05, 3.05], color=_GREY, linewidth=0.6)

    # The layer: the same cell, looped.
    y = 1.55
    _text(
        ax, 0.1, 2.8, "the layer: a loop over timesteps", size=_FONT, ha="left", fontweight="bold"
    )
    _rect(ax, 3.2, y + 0.15, 3.0, 1.35, facecolor="none", edgecolor=_BLUE, linestyle="--")
    _text(ax, 1.8, y + 0.7, pair[0], ha="left")
    _text(ax, 4.6, y + 0.7, f"t = 1 … {steps}", ha="right")
    _rect(ax, 3.2, y, 1.5, 0.42, **_CELL)
    _text(ax, 3.2, y, cell_name, size=_FONT)
    from matplotlib.patches import FancyArrowPatch

    ax.add_artist(
        FancyArrowPatch(
            (3.7, y + 0.21),
            (2.7, y + 0.21),
            connectionstyle="arc3,rad=0.6",
            arrowstyle="-|>",
            mutation_scale=10,
            color=_BLUE,
            linewidth=1.4,
            zorder=3,
        )
    )
    _wire(ax, [(3.2, y - 0.85), (3.2, y - 0.21)], _BLACK)
    _text(ax, 3.3, y - 0.72, f"x (batch, {steps}, {feats})", ha="left")
    _wire(ax, [(0.95, y), (2.45, y)], _BLUE)
    _text(ax, 0.1, y + 0.12, f"states {state_list}", ha="left", va="bottom")
    _text(ax, 0.1, y - 0.08, "zeros at first", ha="left", va="top")
    _wire(ax, [(3.95, y), (6.3, y)], _VERMILLION, linewidth=2.0)
    _text(ax, 6.3, y + 0.1, "output", ha="right", va="bottom", colour=_VERMILLION)
    _text(ax, 6.3, y - 0.1, out_shape, ha="right", va="top", colour=_VERMILLION)

    # The weights, read from the layer: the cell owns them.
    if weights:
        paths = [str(getattr(w, "path", None) or getattr(w, "name", "")) for w in layer.weights]
        _text(
            ax,
            3.2,
            0.38,
            "weights: "
            + ", ".join(f"{key} {_shape_text(shape)}" for key, shape in weights.items()),
        )
        _text(ax, 3.2, 0.15, f"held by the cell: {paths[0]}")
    else:
        _text(ax, 3.2, 0.25, "weights: created when the layer is first called")
    return fig
