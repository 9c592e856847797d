"""Figures of a recurrent layer at work: the layer unrolled over time, and an LSTM's gates.

``unrolled_rnn`` draws the boxes and arrows of a layer unrolled step by step and marks the
tensors Keras returns; ``gate_activations`` plots the gates, candidate and states of an
LSTM trace, as lines for one unit or as heatmaps for all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import (
    _BLACK,
    _BLUE,
    _BLUE_TINT,
    _FIGSIZE,
    _FONT,
    _GREEN,
    _GREY,
    _GREY_TINT,
    _ORANGE,
    _PURPLE,
    _SIGNED_CMAP,
    _SMALL,
    _UNIT_CMAP,
    _VERMILLION,
    _VERMILLION_TINT,
    _ink,
    _is_int,
    _positive_int,
    _pyplot,
)

# The diagrams read a layer the same way: its build shape, units and features.
from lstm_lib.plots.diagrams import _agreed_size, _build_shape, _features, _units

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["gate_activations", "unrolled_layer", "unrolled_rnn"]

# Keras's own class names, and the states each layer returns after its output.
_CELLS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
_STATES = {"LSTM": ("h", "c"), "GRU": ("h",), "SimpleRNN": ("h",)}
# Short enough to fit a cell box at eight timesteps.
_CELL_BOX_LABEL = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}

# The unrolled layer in data coordinates: step t is centred at x = t; rows are input, cell,
# output. Initial states sit at x = _X_INIT, final states one step after the last cell.
_CELL_W, _IO_W, _IO_H = 0.62, 0.5, 0.36
_Y_IN, _Y_CELL, _Y_OUT = 0.35, 1.5, 2.75
_X_INIT = 0.1
_LANE_COLOUR = {"h": _BLUE, "c": _ORANGE}
_RETURNED_STYLE = {"facecolor": _VERMILLION_TINT, "edgecolor": _VERMILLION, "linewidth": 2.2}
_DROPPED_STYLE = {
    "facecolor": _GREY_TINT,
    "edgecolor": _GREY,
    "linewidth": 1.0,
    "linestyle": (0, (3, 2)),
}
_CELL_STYLE = {"facecolor": _BLUE_TINT, "edgecolor": _BLUE, "linewidth": 1.2}
_INPUT_STYLE = {"facecolor": "white", "edgecolor": _BLACK, "linewidth": 1.0}
_INITIAL_STYLE = {"facecolor": "white", "edgecolor": _GREY, "linewidth": 1.0}
_OUTLINE = {"fill": False, "edgecolor": _VERMILLION, "linewidth": 1.2, "zorder": 0.5}

_TRACE_FIELDS = ("i", "f", "c_tilde", "o", "c", "h")

# One unit as lines: per panel its title, y-limits (None: free, with a zero line) and lines
# (trace field, legend label, colour, line style).
_LINE_PANELS = (
    (
        "gates (sigmoid)",
        (-0.05, 1.05),
        (
            ("i", "$i_t$ input", _BLUE, "-"),
            ("f", "$f_t$ forget", _ORANGE, "--"),
            ("o", "$o_t$ output", _GREEN, ":"),
        ),
    ),
    (
        "candidate $\\tilde{c}_t$ (tanh)",
        (-1.05, 1.05),
        (("c_tilde", "$\\tilde{c}_t$", _PURPLE, "-"),),
    ),
    (
        "states $c_t$ and $h_t$",
        None,
        (("c", "$c_t$ cell", _VERMILLION, "-"), ("h", "$h_t$ hidden", _BLACK, "--")),
    ),
)
# All units as heatmaps: the gates on the top row, the signed values on the bottom one.
_HEATMAP_ROWS = (
    (("i", "input gate $i_t$"), ("f", "forget gate $f_t$"), ("o", "output gate $o_t$")),
    (
        ("c_tilde", "candidate $\\tilde{c}_t$"),
        ("c", "cell state $c_t$"),
        ("h", "hidden state $h_t$"),
    ),
)


# --- unrolled_rnn ------------------------------------------------------------------------


def _layer_name(cell: Any) -> str:
    """Keras's class name for ``cell``, whatever its case."""
    if not isinstance(cell, str) or cell.lower() not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS.values())}, got {cell!r}")
    return _CELLS[cell.lower()]


def _shape_names(steps: int, units: Any, features: Any) -> tuple[str, str, str]:
    """How shapes write timesteps, units and features: numbers once either size is given."""
    units_text = str(_positive_int("units", units)) if units is not None else "units"
    features_text = str(_positive_int("features", features)) if features is not None else "features"
    concrete = units is not None or features is not None
    return (str(steps) if concrete else "timesteps"), units_text, features_text


def _returned_tensors(
    cell: str, return_sequences: bool, return_state: bool, timesteps: str, units: str
) -> list[tuple[str, str]]:
    """(name, shape) of each tensor Keras returns, in Keras's order."""
    if return_sequences:
        returned = [("output", f"(batch, {timesteps}, {units})")]
    else:
        returned = [("output", f"(batch, {units})")]
    if return_state:
        returned += [(state, f"(batch, {units})") for state in _STATES[cell]]
    return returned


def _lanes(layer: str) -> dict[str, float]:
    """The height of each state's lane between the cells, in Keras's order from the top.

    Keras returns ``[output, h, c]``: read from the top, the output sits above the cells,
    then an LSTM's ``h`` lane, then its ``c`` lane, so the badges [0], [1], [2] run downwards.
    """
    return {"h": _Y_CELL + 0.22, "c": _Y_CELL - 0.22} if layer == "LSTM" else {"h": _Y_CELL}


def _x_final(steps: int) -> float:
    """Where the final states sit: one step to the right of the last cell."""
    return steps + 0.9


# add_artist, not add_patch: the limits are set by hand (_set_view), and skipping the
# data-limit update of every arrow's Bezier path makes the figure ~3x faster to build.
def _box(
    ax: Any, x: float, y: float, w: float, h: float, text: str, gid: str | None = None, **style: Any
) -> None:
    """A rounded box centred on (x, y), with ``text`` written in its middle."""
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch(
        (x - w / 2, y - h / 2),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.05",
        gid=gid,
        **style,
    )
    ax.add_artist(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=_FONT, zorder=patch.zorder + 1)


def _arrow(
    ax: Any, start: tuple[float, float], end: tuple[float, float], colour: str, **style: Any
) -> None:
    """An arrow from ``start`` to ``end``, touching both points."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_artist(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=11,
            color=colour,
            linewidth=1.4,
            shrinkA=0,
            shrinkB=0,
            **style,
        )
    )


def _returned_or_dropped(returned: Any) -> tuple[str, dict[str, Any]]:
    """The gid status word and box style of a tensor Keras returns, or computes and drops."""
    return ("returned", _RETURNED_STYLE) if returned else ("dropped", _DROPPED_STYLE)


def _draw_steps(
    ax: Any, layer: str, steps: int, return_sequences: bool, lanes: dict[str, float]
) -> None:
    """Each step's cell, its input below, its output above, and the states passed into it."""
    cell_h = 0.95 if layer == "LSTM" else 0.6
    for t in range(1, steps + 1):
        _box(ax, t, _Y_CELL, _CELL_W, cell_h, _CELL_BOX_LABEL[layer], **_CELL_STYLE)
        _box(ax, t, _Y_IN, _IO_W, _IO_H, f"$x_{{{t}}}$", **_INPUT_STYLE)
        _arrow(ax, (t, _Y_IN + _IO_H / 2), (t, _Y_CELL - cell_h / 2), _BLACK)
        status, style = _returned_or_dropped(return_sequences or t == steps)
        _box(ax, t, _Y_OUT, _IO_W, _IO_H, f"$h_{{{t}}}$", gid=f"step:{t}:{status}", **style)
        _arrow(ax, (t, _Y_CELL + cell_h / 2), (t, _Y_OUT - _IO_H / 2), _BLUE)
        for name, y in lanes.items():
            start = _X_INIT + 0.22 if t == 1 else t - 1 + _CELL_W / 2
            _arrow(ax, (start, y), (t - _CELL_W / 2, y), _LANE_COLOUR[name])


def _draw_states(ax: Any, steps: int, return_state: bool, lanes: dict[str, float]) -> None:
    """The initial states on the left and the final states on the right, per lane."""
    x_final = _x_final(steps)
    status, style = _returned_or_dropped(return_state)
    # Initial states are zeros unless initial_state= is passed; they are never returned.
    for name, y in lanes.items():
        _box(ax, _X_INIT, y, 0.44, 0.3, f"${name}_0$", **_INITIAL_STYLE)
        _arrow(ax, (steps + _CELL_W / 2, y), (x_final - 0.22, y), _LANE_COLOUR[name])
        _box(
            ax,
            x_final,
            y,
            0.44,
            0.3,
            f"${name}_{{{steps}}}$",
            gid=f"state:{name}:{status}",
            **style,
        )


def _badge(ax: Any, x: float, y: float, text: str, ha: str, va: str) -> None:
    """The label of a returned tensor: its name, or its index in the list Keras returns."""
    ax.text(x, y, text, ha=ha, va=va, fontsize=_SMALL, color=_ink(_VERMILLION), fontweight="bold")


def _outline_output(ax: Any, steps: int, return_sequences: bool, in_list: bool) -> None:
    """Outline the returned ``output``: every step's ``h_t``, or only the last one.

    Badged ``[0] output`` when it is the first item of the list ``return_state`` returns,
    plain ``output`` when the layer returns this one tensor alone.
    """
    from matplotlib.patches import FancyBboxPatch

    first = 1 if return_sequences else steps
    pad = 0.1
    left, right = first - _IO_W / 2 - pad, steps + _IO_W / 2 + pad
    ax.add_artist(
        FancyBboxPatch(
            (left, _Y_OUT - _IO_H / 2 - pad),
            right - left,
            _IO_H + 2 * pad,
            boxstyle="round,pad=0,rounding_size=0.08",
            gid="returned:0:output",
            **_OUTLINE,
        )
    )
    badge = "[0] output" if in_list else "output"
    _badge(ax, (left + right) / 2, _Y_OUT + _IO_H / 2 + pad + 0.06, badge, "center", "bottom")


def _outline_states(ax: Any, steps: int, states: tuple[str, ...], lanes: dict[str, float]) -> None:
    """Outline each returned final state, numbered after ``output`` in Keras's order."""
    from matplotlib.patches import FancyBboxPatch

    x_final = _x_final(steps)
    for k, name in enumerate(states, start=1):
        y = lanes[name]
        ax.add_artist(
            FancyBboxPatch(
                (x_final - 0.3, y - 0.2),
                0.6,
                0.4,
                boxstyle="round,pad=0,rounding_size=0.06",
                gid=f"returned:{k}:{name}",
                **_OUTLINE,
            )
        )
        _badge(ax, x_final + 0.36, y, f"[{k}]", "left", "center")


def _set_view(ax: Any, steps: int) -> None:
    """Frame the drawing; a minimum width keeps boxes from stretching into bars at 1-3 steps."""
    span = max(steps + 2.1, 6.0)
    centre = (_X_INIT - 0.45 + _x_final(steps) + 0.75) / 2
    ax.set_xlim(centre - span / 2, centre + span / 2)
    ax.set_ylim(0.05, 3.35)
    ax.set_axis_off()


def _unrolled_title(
    layer: str,
    units: Any,
    shape_names: tuple[str, str, str],
    return_sequences: bool,
    return_state: bool,
) -> str:
    """The layer, its input shape, and what it returns: one tensor, or a tuple of them.

    Keras returns a single tensor unless ``return_state`` is set, and then a tuple; the
    title says which, so ``returns the tensor output (batch, 2)`` is never written as a
    one-item tuple.
    """
    steps_text, units_text, features_text = shape_names
    returned = _returned_tensors(
        layer, bool(return_sequences), bool(return_state), steps_text, units_text
    )
    layer_text = f"{layer}({units_text})" if units is not None else layer
    listing = ", ".join(f"{name} {shape}" for name, shape in returned)
    what = f"the tuple ({listing})" if return_state else f"the tensor {listing}"
    title = f"{layer_text} on input (batch, {steps_text}, {features_text})\nreturns {what}"
    if return_state:
        # The question learners ask most about return_state: why the same numbers twice.
        last = "output[:, -1, :]" if return_sequences else "output"
        title += f"\nh holds the same numbers as {last}"
    return title


def _unrolled_legend(fig: Any, layer: str) -> None:
    """A legend under the drawing: returned versus dropped, and one line per state."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(**_RETURNED_STYLE, label="returned"),
        Patch(**_DROPPED_STYLE, label="computed, not returned"),
        Line2D([], [], color=_BLUE, linewidth=1.4, label="$h_t$ (hidden state)"),
    ]
    if layer == "LSTM":
        handles.append(Line2D([], [], color=_ORANGE, linewidth=1.4, label="$c_t$ (cell state)"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=len(handles),
        frameon=False,
        fontsize=_SMALL,
    )


def unrolled_rnn(
    timesteps: int,
    *,
    cell: str = "LSTM",
    return_sequences: bool = False,
    return_state: bool = False,
    units: int | None = None,
    features: int | None = None,
) -> Figure:
    """Draw a recurrent layer unrolled over time, highlighting the tensors it returns.

    One box per timestep: ``x_t`` enters from below, ``h_t`` (and ``c_t`` for an LSTM)
    passes to the right, ``h_t`` leaves upwards. The tensors that this combination of
    ``return_sequences`` and ``return_state`` returns are drawn thick and coloured; what
    is computed but dropped is grey and dashed. Without ``return_state`` Keras returns one
    tensor, badged ``output`` and titled ``returns the tensor output (...)``; with it,
    a list, each item badged with its index, ``[0] output``, ``[1]`` for ``h``, ``[2]`` for
    an LSTM's ``c``, drawn top to bottom in that order. The title lists the returned
    tensors with their shapes, in Keras's order, and with ``return_state`` notes that
    ``h`` repeats the last step of ``output``.

    Parameters
    ----------
    timesteps : int
        Number of steps to draw, from 1; up to about 8 stay legible at the default size.
    cell : {"LSTM", "GRU", "SimpleRNN"}, default "LSTM"
        The Keras layer (case does not matter). Only an LSTM carries a cell state ``c``.
    return_sequences : bool, default False
        Keras's flag: return ``h_t`` for every step, shape ``(batch, timesteps, units)``,
        instead of only the last one, shape ``(batch, units)``.
    return_state : bool, default False
        Keras's flag: also return the final states, ``h`` (and ``c`` for an LSTM), each
        ``(batch, units)``.
    units, features : int, optional
        When either is given, shapes are written with numbers (the drawn ``timesteps``
        too) instead of the names ``units``, ``features`` and ``timesteps``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes. The patch that marks the k-th returned tensor has the gid
        ``"returned:k:name"``; each per-step output box has the gid ``"step:t:returned"``
        or ``"step:t:dropped"`` and each final-state box ``"state:name:returned"`` or
        ``"state:name:dropped"``.

    Raises
    ------
    ValueError
        If ``timesteps``, ``units`` or ``features`` is not a positive integer, or ``cell``
        is not one of the three layers.

    Examples
    --------
    >>> fig = unrolled_rnn(3, return_state=True, units=2, features=1)
    >>> print(fig.axes[0].get_title())
    LSTM(2) on input (batch, 3, 1)
    returns the tuple (output (batch, 2), h (batch, 2), c (batch, 2))
    h holds the same numbers as output
    >>> sorted(a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith("returned"))
    ['returned:0:output', 'returned:1:h', 'returned:2:c']
    >>> print(unrolled_rnn(3, units=2, features=1).axes[0].get_title())
    LSTM(2) on input (batch, 3, 1)
    returns the tensor output (batch, 2)
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")

    The book draws its layers with :func:`unrolled_layer`, which reads these arguments
    from a real Keras layer.
    """
    plt = _pyplot()
    steps = _positive_int("timesteps", timesteps)
    layer = _layer_name(cell)
    shape_names = _shape_names(steps, units, features)
    lanes = _lanes(layer)

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    _draw_steps(ax, layer, steps, return_sequences, lanes)
    _draw_states(ax, steps, return_state, lanes)
    # One outline per returned tensor, badged with its index in Keras's returned list.
    _outline_output(ax, steps, return_sequences, bool(return_state))
    if return_state:
        _outline_states(ax, steps, _STATES[layer], lanes)
    _set_view(ax, steps)
    title = _unrolled_title(layer, units, shape_names, return_sequences, return_state)
    ax.set_title(title, fontsize=_FONT + 1)
    _unrolled_legend(fig, layer)
    return fig


def _layer_class(layer: Any) -> str:
    """``LSTM``, ``GRU`` or ``SimpleRNN``: the layer's class, or the cell an ``RNN`` wraps."""
    cell = getattr(layer, "cell", None)
    name = type(layer).__name__
    if name == "RNN" and cell is not None:
        name = type(cell).__name__.removesuffix("Cell")
    if name not in _STATES:
        raise ValueError(
            f"expected an LSTM, GRU or SimpleRNN layer (or an RNN wrapping one of their "
            f"cells), got {type(layer).__name__}"
        )
    return name


def unrolled_layer(
    layer: Any, *, timesteps: int | None = None, features: int | None = None
) -> Figure:
    """Draw a real Keras recurrent layer unrolled, as :func:`unrolled_rnn` draws it.

    Everything the figure says is read from the layer: its class (``LSTM``, ``GRU``,
    ``SimpleRNN``, or the cell a ``keras.layers.RNN`` wraps), ``units``, the flags
    ``return_sequences`` and ``return_state``, and the input shape it was built on
    (``get_build_config()``), which gives the timesteps and features. So a chapter that
    changes its layer redraws the figure to match, and a figure never describes a layer the
    page does not have.

    Parameters
    ----------
    layer : keras.layers.LSTM, GRU, SimpleRNN, or keras.layers.RNN(cell)
        Read duck-typed: its class name (and its ``cell``'s), ``units``,
        ``return_sequences``, ``return_state`` and ``get_build_config()``.
    timesteps, features : int, optional
        Needed only when the layer does not know them: it is not built yet, or was built
        with ``timesteps=None``. Given for a layer that knows them, they must agree.

    Returns
    -------
    matplotlib.figure.Figure
        The figure :func:`unrolled_rnn` draws for these settings, with the same gids.

    Raises
    ------
    ValueError
        If the layer is not one of the three recurrent layers, the timesteps are unknown,
        or ``timesteps`` or ``features`` disagrees with the shape the layer was built on.

    Examples
    --------
    >>> import keras
    >>> layer = keras.layers.GRU(4, return_state=True)
    >>> layer.build((None, 5, 3))  # (batch, timesteps, features)
    >>> fig = unrolled_layer(layer)
    >>> print(fig.axes[0].get_title())
    GRU(4) on input (batch, 5, 3)
    returns the tuple (output (batch, 4), h (batch, 4))
    h holds the same numbers as output
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/01-start-here.md``, ``book/03-simplernn.md``,
    ``book/05-return-flags.md`` and ``book/07-gru-bidirectional.md``.
    """
    name = _layer_class(layer)
    built = _build_shape(layer) or (None, None, None)
    steps = _agreed_size("timesteps", timesteps, built[1])
    if steps is None:
        raise ValueError(
            "the layer does not know its timesteps (not built, or built with timesteps=None): "
            "pass timesteps="
        )
    return unrolled_rnn(
        steps,
        cell=name,
        return_sequences=bool(getattr(layer, "return_sequences", False)),
        return_state=bool(getattr(layer, "return_state", False)),
        units=_units(layer),
        features=_features(layer, features),
    )


# --- gate_activations --------------------------------------------------------------------


def _trace_arrays(trace: Any) -> dict[str, np.ndarray]:
    """The trace's six arrays as floats, checked: 3-D, one shape, gates in [0, 1]."""
    missing = [name for name in _TRACE_FIELDS if not hasattr(trace, name)]
    if missing:
        raise ValueError(
            f"trace needs the attributes {', '.join(_TRACE_FIELDS)}; missing: {', '.join(missing)}"
        )
    arrays = {}
    for name in _TRACE_FIELDS:
        array = np.asarray(getattr(trace, name), dtype=float)
        if array.ndim != 3:
            raise ValueError(
                f"trace.{name} must be 3-D (batch, timesteps, units), got shape {array.shape}"
            )
        arrays[name] = array
    shapes = {name: array.shape for name, array in arrays.items()}
    if len(set(shapes.values())) != 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"trace arrays must all have the same shape; got {listed}")
    if 0 in arrays["h"].shape:
        raise ValueError(f"trace arrays are empty: shape {arrays['h'].shape}")
    for name in ("i", "f", "o"):
        values = arrays[name]
        # A little slack for float32 round-off; a real sigmoid never leaves [0, 1].
        if not np.all(np.isfinite(values)) or values.min() < -1e-6 or values.max() > 1 + 1e-6:
            raise ValueError(
                f"gate {name} must lie in [0, 1] (a sigmoid's output); got values in "
                f"[{np.nanmin(values):.3g}, {np.nanmax(values):.3g}]: is it the "
                f"pre-activation?"
            )
    return arrays


def _sample_and_unit(sample: Any, unit: Any, batch: int, n_units: int) -> Any:
    """Check ``sample`` and ``unit`` against the trace; a one-unit layer draws unit 0."""
    if not _is_int(sample) or not -batch <= sample < batch:
        raise ValueError(f"sample must be an integer in [0, {batch}), got {sample!r}")
    if unit is not None and (not _is_int(unit) or not -n_units <= unit < n_units):
        raise ValueError(f"unit must be None or an integer in [0, {n_units}), got {unit!r}")
    if unit is None and n_units == 1:
        return 0
    return unit


def _draw_unit_lines(axes: Any, one: dict[str, np.ndarray], unit: Any) -> None:
    """One unit over time: gates, candidate, and states, one panel each."""
    from matplotlib.ticker import MaxNLocator

    steps = one["h"].shape[0]
    steps_axis = np.arange(steps)
    marker = "o" if steps <= 30 else None
    for ax, (panel_title, ylim, lines) in zip(axes, _LINE_PANELS, strict=True):
        for name, label, colour, style in lines:
            ax.plot(
                steps_axis,
                one[name][:, unit],
                color=colour,
                linestyle=style,
                marker=marker,
                markersize=4,
                linewidth=1.6,
                label=label,
            )
        if ylim is not None:
            ax.set_ylim(*ylim)
        else:
            ax.axhline(0, color=_GREY, linewidth=0.8, zorder=0)
        ax.set_title(panel_title, fontsize=_FONT)
        ax.set_xlabel("timestep index", fontsize=_SMALL)
        ax.tick_params(labelsize=_SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.22),
            ncol=len(lines),
            frameon=False,
            fontsize=_SMALL,
            handlelength=1.6,
            columnspacing=0.8,
        )


def _draw_unit_heatmaps(fig: Any, axes: Any, one: dict[str, np.ndarray]) -> None:
    """Every unit over time: gates on a [0, 1] scale, the rest on one shared signed scale."""
    from matplotlib.ticker import MaxNLocator

    steps, n_units = one["h"].shape
    signed = max(1.0, float(max(np.abs(one[name]).max() for name in ("c_tilde", "c", "h"))))
    scales = [(_UNIT_CMAP, 0.0, 1.0, "gate"), (_SIGNED_CMAP, -signed, signed, "value")]
    # Extent puts pixel centres on integer timesteps and units, so ticks match array indices.
    extent = (-0.5, steps - 0.5, n_units - 0.5, -0.5)
    for row_axes, row, (cmap, vmin, vmax, bar_label) in zip(
        axes, _HEATMAP_ROWS, scales, strict=True
    ):
        for ax, (name, panel_title) in zip(row_axes, row, strict=True):
            image = ax.imshow(
                one[name].T,
                cmap=cmap,
                vmin=vmin,
                vmax=vmax,
                aspect="auto",
                extent=extent,
                interpolation="nearest",
            )
            ax.set_title(panel_title, fontsize=_SMALL)
            ax.tick_params(labelsize=_SMALL)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        colorbar = fig.colorbar(image, ax=row_axes, shrink=0.9, aspect=12)
        colorbar.set_label(bar_label, fontsize=_SMALL)
        colorbar.ax.tick_params(labelsize=_SMALL)
        row_axes[0].set_ylabel("unit", fontsize=_SMALL)
    for ax in axes[1]:
        ax.set_xlabel("timestep index", fontsize=_SMALL)


def gate_activations(
    trace: Any,
    *,
    sample: int = 0,
    unit: int | None = None,
    marked_step: int | None = None,
    marked_label: str = "marked step",
) -> Figure:
    """Plot an LSTM's gates, candidate and states over time for one sample.

    With one unit (``unit=`` given, or a layer of one unit), three line panels: the gates
    ``i``, ``f``, ``o`` (in [0, 1]), the candidate ``c_tilde`` (in [-1, 1]), and the states
    ``c`` and ``h``. With all units, six heatmaps (units down, timesteps across): gates on a
    [0, 1] scale, and ``c_tilde``, ``c``, ``h`` on one shared signed scale, so a cell state
    that outgrows [-1, 1] shows it.

    Parameters
    ----------
    trace : object
        Any object with attributes ``i, f, c_tilde, o, c, h``, each an array of shape
        ``(batch, timesteps, units)``, such as ``lstm_lib.reference``'s ``LSTMTrace``.
    sample : int, default 0
        Which sample of the batch to draw.
    unit : int, optional
        Draw only this unit as lines; by default draw every unit.
    marked_step : int, optional
        A timestep to mark with a dotted vertical line on every panel, such as the flagged
        step of ``lstm_lib.tasks.flagged_value_task``.
    marked_label : str, default "marked step"
        The marked step's name, written beside the line on the first panel.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes for one unit; six heatmap axes and two colorbars for all units.

    Raises
    ------
    ValueError
        If an attribute is missing, the arrays are not 3-D or differ in shape, a gate
        leaves [0, 1], or ``sample``, ``unit`` or ``marked_step`` is out of range.

    Examples
    --------
    A trace from a small NumPy LSTM recurrence (in the book it comes from
    ``lstm_lib.reference``):

    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> shape = (1, 6, 3)  # (batch, timesteps, units)
    >>> i, f, o = (1 / (1 + np.exp(-rng.normal(size=shape))) for _ in range(3))
    >>> c_tilde = np.tanh(rng.normal(size=shape))
    >>> c = np.zeros(shape)
    >>> for t in range(shape[1]):
    ...     c[:, t] = f[:, t] * (c[:, t - 1] if t else 0) + i[:, t] * c_tilde[:, t]
    >>> trace = SimpleNamespace(i=i, f=f, c_tilde=c_tilde, o=o, c=c, h=o * np.tanh(c))
    >>> fig = gate_activations(trace, unit=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['gates (sigmoid)', 'candidate $\\\\tilde{c}_t$ (tanh)', 'states $c_t$ and $h_t$']
    >>> len(gate_activations(trace).axes)  # six heatmaps and two colorbars
    8
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")

    Used in ``book/04-lstm.md``.
    """
    plt = _pyplot()
    arrays = _trace_arrays(trace)
    batch, steps, n_units = arrays["h"].shape
    unit = _sample_and_unit(sample, unit, batch, n_units)
    if marked_step is not None and (not _is_int(marked_step) or not 0 <= marked_step < steps):
        raise ValueError(
            f"marked_step must be None or an integer in [0, {steps}), got {marked_step!r}"
        )
    one = {name: array[sample] for name, array in arrays.items()}  # (timesteps, units)
    title = f"LSTM activations of sample {sample}"

    if unit is not None:
        fig, axes = plt.subplots(1, 3, figsize=_FIGSIZE, layout="constrained", sharex=True)
        _draw_unit_lines(axes, one, unit)
        fig.suptitle(f"{title}, unit {unit}", fontsize=_FONT + 1)
        _mark_step(axes.flat, marked_step, marked_label, _GREY)
        return fig

    fig, axes = plt.subplots(2, 3, figsize=_FIGSIZE, layout="constrained", sharex=True, sharey=True)
    _draw_unit_heatmaps(fig, axes, one)
    fig.suptitle(f"{title}, all {n_units} units", fontsize=_FONT + 1)
    _mark_step(axes.flat, marked_step, marked_label, "white")
    return fig


def _mark_step(axes: Any, step: int | None, label: str, colour: str) -> None:
    """A dotted vertical line at ``step`` on every panel, named on the first."""
    if step is None:
        return
    for index, ax in enumerate(axes):
        ax.axvline(step, color=colour, linestyle=":", linewidth=1.6, zorder=3)
        if index == 0:
            ax.annotate(
                f" {label}",
                xy=(step, 0.98),
                xycoords=("data", "axes fraction"),
                ha="left",
                va="top",
                fontsize=_SMALL,
                color=_BLACK if colour == _GREY else colour,
            )
