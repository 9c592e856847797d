"""Figures for the book, drawn from the tensors and numbers they are given.

Every function returns a :class:`matplotlib.figure.Figure` made with ``plt.subplots`` and
never calls ``plt.show()`` or changes matplotlib's global style. matplotlib is imported
inside the functions, so ``import lstm_lib.plots`` costs only NumPy; TensorFlow is never
imported here: pass the arrays a Keras layer produced, and this module draws them.

In a notebook cell, bind the result (``fig = plots.unrolled_rnn(3)``) or end the line with
``;``. The inline backend already shows every figure a cell made, so a figure that is also
the cell's value is shown twice.

Colours come from the Okabe-Ito palette, and every distinction a colour makes is also made
by a line style, a marker or a label, so the figures read in greyscale too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "embedding_lookup",
    "embedding_scatter",
    "gate_activations",
    "lstm_weight_layout",
    "param_breakdown",
    "training_curve",
    "unrolled_rnn",
]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common form of
# colour blindness. Yellow is left out of line plots: it vanishes on white.
_BLUE = "#0072B2"
_ORANGE = "#E69F00"
_GREEN = "#009E73"
_PURPLE = "#CC79A7"
_VERMILLION = "#D55E00"
_SKY = "#56B4E9"
_BLACK = "#000000"
_GREY = "#8C8C8C"
_CYCLE = (_BLUE, _ORANGE, _GREEN, _VERMILLION, _PURPLE, _SKY, _BLACK)

# Diverging map for signed values (embeddings, cell state): PuOr keeps its two hues apart for
# the common colour-vision deficiencies, unlike red-green maps. cividis is the sequential map
# designed for them, used for gates in [0, 1].
_SIGNED_CMAP = "PuOr_r"
_UNIT_CMAP = "cividis"

_FIGSIZE = (8.0, 3.5)
_FONT = 10
_SMALL = 9

# Keras's own class names, and the states each layer returns after its output.
_CELLS = {"lstm": "LSTM", "gru": "GRU", "simplernn": "SimpleRNN"}
_STATES = {"LSTM": ("h", "c"), "GRU": ("h",), "SimpleRNN": ("h",)}
# Short enough to fit a cell box at eight timesteps.
_CELL_BOX_LABEL = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}

# Keras stores an LSTM's four gate blocks side by side in this order.
_LSTM_GATES = (
    ("i", "input", _BLUE),
    ("f", "forget", _ORANGE),
    ("c", "candidate", _GREEN),
    ("o", "output", _PURPLE),
)

_TRACE_FIELDS = ("i", "f", "c_tilde", "o", "c", "h")


def _pyplot() -> Any:
    import matplotlib.pyplot as plt

    return plt


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _positive_int(name: str, value: Any) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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
    ``return_sequences`` and ``return_state`` returns are drawn thick and coloured, each
    badged with its position in the list Keras returns; what is computed but dropped is
    grey and dashed. The title lists the returned tensors with their shapes, in Keras's
    order, and with ``return_state`` notes that ``h`` repeats the last step of ``output``.

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
    returns [output (batch, 2), h (batch, 2), c (batch, 2)]
    h holds the same numbers as output
    >>> sorted(a.get_gid() for a in fig.findobj() if str(a.get_gid()).startswith("returned"))
    ['returned:0:output', 'returned:1:h', 'returned:2:c']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/01-start-here.md``, ``book/03-simplernn.md``,
    ``book/05-return-flags.md`` and ``book/07-gru-bidirectional.md``.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    plt = _pyplot()
    steps = _positive_int("timesteps", timesteps)
    if not isinstance(cell, str) or cell.lower() not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS.values())}, got {cell!r}")
    layer = _CELLS[cell.lower()]
    concrete = units is not None or features is not None
    units_text = str(_positive_int("units", units)) if units is not None else "units"
    features_text = str(_positive_int("features", features)) if features is not None else "features"
    steps_text = str(steps) if concrete else "timesteps"
    returned = _returned_tensors(
        layer, bool(return_sequences), bool(return_state), steps_text, units_text
    )
    states = _STATES[layer]

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")

    # Data coordinates: step t is centred at x = t; rows are input, cell, output.
    cell_w, io_w, io_h = 0.62, 0.5, 0.36
    y_in, y_cell, y_out = 0.35, 1.5, 2.75
    cell_h = 0.95 if layer == "LSTM" else 0.6
    lanes = {"c": y_cell + 0.22, "h": y_cell - 0.22} if layer == "LSTM" else {"h": y_cell}
    lane_colour = {"h": _BLUE, "c": _ORANGE}
    x_init, x_final = 0.1, steps + 0.9
    returned_style = {"facecolor": "#FBE3D2", "edgecolor": _VERMILLION, "linewidth": 2.2}
    dropped_style = {
        "facecolor": "#F2F2F2",
        "edgecolor": _GREY,
        "linewidth": 1.0,
        "linestyle": (0, (3, 2)),
    }

    # add_artist, not add_patch: the limits are set by hand below, and skipping the
    # data-limit update of every arrow's Bezier path makes the figure ~3x faster to build.
    def box(
        x: float, y: float, w: float, h: float, text: str, gid: str | None = None, **style: Any
    ) -> None:
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

    def arrow(
        start: tuple[float, float], end: tuple[float, float], colour: str, **style: Any
    ) -> None:
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

    for t in range(1, steps + 1):
        box(
            t,
            y_cell,
            cell_w,
            cell_h,
            _CELL_BOX_LABEL[layer],
            facecolor="#DCEBF5",
            edgecolor=_BLUE,
            linewidth=1.2,
        )
        box(t, y_in, io_w, io_h, f"$x_{{{t}}}$", facecolor="white", edgecolor=_BLACK, linewidth=1.0)
        arrow((t, y_in + io_h / 2), (t, y_cell - cell_h / 2), _BLACK)
        kept = return_sequences or t == steps
        box(
            t,
            y_out,
            io_w,
            io_h,
            f"$h_{{{t}}}$",
            gid=f"step:{t}:{'returned' if kept else 'dropped'}",
            **(returned_style if kept else dropped_style),
        )
        arrow((t, y_cell + cell_h / 2), (t, y_out - io_h / 2), _BLUE)
        for name, y in lanes.items():
            start = x_init + 0.22 if t == 1 else t - 1 + cell_w / 2
            arrow((start, y), (t - cell_w / 2, y), lane_colour[name])

    # Initial states are zeros unless initial_state= is passed; they are never returned.
    for name, y in lanes.items():
        box(x_init, y, 0.44, 0.3, f"${name}_0$", facecolor="white", edgecolor=_GREY, linewidth=1.0)
        arrow((steps + cell_w / 2, y), (x_final - 0.22, y), lane_colour[name])
        box(
            x_final,
            y,
            0.44,
            0.3,
            f"${name}_{{{steps}}}$",
            gid=f"state:{name}:{'returned' if return_state else 'dropped'}",
            **(returned_style if return_state else dropped_style),
        )

    # One outline per returned tensor, badged with its index in Keras's returned list.
    first = 1 if return_sequences else steps
    pad = 0.1
    outline = {"fill": False, "edgecolor": _VERMILLION, "linewidth": 1.2, "zorder": 0.5}
    left, right = first - io_w / 2 - pad, steps + io_w / 2 + pad
    ax.add_artist(
        FancyBboxPatch(
            (left, y_out - io_h / 2 - pad),
            right - left,
            io_h + 2 * pad,
            boxstyle="round,pad=0,rounding_size=0.08",
            gid="returned:0:output",
            **outline,
        )
    )
    ax.text(
        (left + right) / 2,
        y_out + io_h / 2 + pad + 0.06,
        "[0] output",
        ha="center",
        va="bottom",
        fontsize=_SMALL,
        color=_VERMILLION,
        fontweight="bold",
    )
    if return_state:
        for k, name in enumerate(states, start=1):
            y = lanes[name]
            ax.add_artist(
                FancyBboxPatch(
                    (x_final - 0.3, y - 0.2),
                    0.6,
                    0.4,
                    boxstyle="round,pad=0,rounding_size=0.06",
                    gid=f"returned:{k}:{name}",
                    **outline,
                )
            )
            ax.text(
                x_final + 0.36,
                y,
                f"[{k}]",
                ha="left",
                va="center",
                fontsize=_SMALL,
                color=_VERMILLION,
                fontweight="bold",
            )

    # A minimum width keeps boxes from stretching into bars when there are only 1-3 steps.
    span = max(steps + 2.1, 6.0)
    centre = (x_init - 0.45 + x_final + 0.75) / 2
    ax.set_xlim(centre - span / 2, centre + span / 2)
    ax.set_ylim(0.05, 3.35)
    ax.set_axis_off()

    layer_text = f"{layer}({units_text})" if units is not None else layer
    listing = ", ".join(f"{name} {shape}" for name, shape in returned)
    title = f"{layer_text} on input (batch, {steps_text}, {features_text})\nreturns [{listing}]"
    if return_state:
        # The question learners ask most about return_state: why the same numbers twice.
        last = "output[:, -1, :]" if return_sequences else "output"
        title += f"\nh holds the same numbers as {last}"
    ax.set_title(title, fontsize=_FONT + 1)
    handles = [
        Patch(**returned_style, label="returned"),
        Patch(**dropped_style, label="computed, not returned"),
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
    return fig


def _trace_arrays(trace: Any) -> dict[str, np.ndarray]:
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


def gate_activations(trace: Any, *, sample: int = 0, unit: int | None = None) -> Figure:
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

    Returns
    -------
    matplotlib.figure.Figure
        Three axes for one unit; six heatmap axes and two colorbars for all units.

    Raises
    ------
    ValueError
        If an attribute is missing, the arrays are not 3-D or differ in shape, a gate
        leaves [0, 1], or ``sample`` or ``unit`` is out of range.

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
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    arrays = _trace_arrays(trace)
    batch, steps, n_units = arrays["h"].shape
    if not _is_int(sample) or not -batch <= sample < batch:
        raise ValueError(f"sample must be an integer in [0, {batch}), got {sample!r}")
    if unit is not None and (not _is_int(unit) or not -n_units <= unit < n_units):
        raise ValueError(f"unit must be None or an integer in [0, {n_units}), got {unit!r}")
    if unit is None and n_units == 1:
        unit = 0
    one = {name: array[sample] for name, array in arrays.items()}  # (timesteps, units)
    title = f"LSTM activations of sample {sample}"

    if unit is not None:
        fig, axes = plt.subplots(1, 3, figsize=_FIGSIZE, layout="constrained", sharex=True)
        steps_axis = np.arange(steps)
        marker = "o" if steps <= 30 else None
        panels = [
            (
                "gates (sigmoid)",
                (-0.05, 1.05),
                [
                    ("i", "$i_t$ input", _BLUE, "-"),
                    ("f", "$f_t$ forget", _ORANGE, "--"),
                    ("o", "$o_t$ output", _GREEN, ":"),
                ],
            ),
            (
                "candidate $\\tilde{c}_t$ (tanh)",
                (-1.05, 1.05),
                [("c_tilde", "$\\tilde{c}_t$", _PURPLE, "-")],
            ),
            (
                "states $c_t$ and $h_t$",
                None,
                [("c", "$c_t$ cell", _VERMILLION, "-"), ("h", "$h_t$ hidden", _BLACK, "--")],
            ),
        ]
        for ax, (panel_title, ylim, lines) in zip(axes, panels, strict=True):
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
                fontsize=_SMALL - 0.5,
                handlelength=1.6,
                columnspacing=0.8,
            )
        fig.suptitle(f"{title}, unit {unit}", fontsize=_FONT + 1)
        return fig

    fig, axes = plt.subplots(2, 3, figsize=_FIGSIZE, layout="constrained", sharex=True, sharey=True)
    signed = max(1.0, float(max(np.abs(one[name]).max() for name in ("c_tilde", "c", "h"))))
    rows = [
        [("i", "input gate $i_t$"), ("f", "forget gate $f_t$"), ("o", "output gate $o_t$")],
        [
            ("c_tilde", "candidate $\\tilde{c}_t$"),
            ("c", "cell state $c_t$"),
            ("h", "hidden state $h_t$"),
        ],
    ]
    scales = [(_UNIT_CMAP, 0.0, 1.0, "gate"), (_SIGNED_CMAP, -signed, signed, "value")]
    # Extent puts pixel centres on integer timesteps and units, so ticks match array indices.
    extent = (-0.5, steps - 0.5, n_units - 0.5, -0.5)
    for row_axes, row, (cmap, vmin, vmax, bar_label) in zip(axes, rows, scales, strict=True):
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
            ax.tick_params(labelsize=_SMALL - 1)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        colorbar = fig.colorbar(image, ax=row_axes, shrink=0.9, aspect=12)
        colorbar.set_label(bar_label, fontsize=_SMALL)
        colorbar.ax.tick_params(labelsize=_SMALL - 1)
        row_axes[0].set_ylabel("unit", fontsize=_SMALL)
    for ax in axes[1]:
        ax.set_xlabel("timestep index", fontsize=_SMALL)
    fig.suptitle(f"{title}, all {n_units} units", fontsize=_FONT + 1)
    return fig


def _param_rows(rows: Any) -> list[tuple[str, int]]:
    if isinstance(rows, Mapping):
        pairs = list(rows.items())
    elif isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        pairs = list(rows)
    else:
        raise ValueError(
            f"rows must be a mapping label -> count or a sequence of (label, count) pairs, "
            f"got {type(rows).__name__}"
        )
    if not pairs:
        raise ValueError("rows is empty: nothing to plot")
    clean = []
    for pair in pairs:
        if not isinstance(pair, Sequence) or isinstance(pair, str | bytes) or len(pair) != 2:
            raise ValueError(f"each row must be a (label, count) pair, got {pair!r}")
        label, count = pair
        if not _is_int(count) or count < 0:
            raise ValueError(f"count for {label!r} must be a non-negative integer, got {count!r}")
        clean.append((str(label), int(count)))
    return clean


def _count_and_share(count: int, total: int) -> str:
    if not total or not count:
        return f"{count:,}"
    share = count / total
    # "0%" beside a non-zero count reads as a mistake; say it is small instead.
    percent = "<1%" if 0 < share < 0.005 else f"{share:.0%}"
    return f"{count:,}  ({percent})"


def param_breakdown(rows: Mapping[str, int] | Sequence[tuple[str, int]]) -> Figure:
    """Draw a horizontal bar chart of parameter counts, annotated with each count and the total.

    Parameters
    ----------
    rows : mapping or sequence of (label, count)
        One bar per entry, top to bottom in the given order: the layers of a model, or the
        weight blocks of one layer (``"kernel W (features × 4·units)"``, ``"recurrent
        kernel U"``, ``"bias b"``). Counts are non-negative integers.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per row; each bar's gid is ``"bar:<label>"``. The title states
        the total.

    Raises
    ------
    ValueError
        If ``rows`` is empty, a row is not a pair, or a count is not a non-negative integer.

    Examples
    --------
    ``LSTM(2)`` on 3 features, block by block:

    >>> features, units = 3, 2
    >>> fig = param_breakdown({
    ...     "kernel W (features × 4·units)": features * 4 * units,
    ...     "recurrent kernel U (units × 4·units)": units * 4 * units,
    ...     "bias b (4·units)": 4 * units,
    ... })
    >>> fig.axes[0].get_title()
    'Total: 24 + 16 + 8 = 48 parameters'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/02-dense.md``, ``book/03-simplernn.md``,
    ``book/07-gru-bidirectional.md`` and ``book/09-keras2-to-keras3.md``.
    """
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    plt = _pyplot()
    items = _param_rows(rows)
    labels = [label for label, _ in items]
    counts = np.array([count for _, count in items])
    total = int(counts.sum())
    height = max(_FIGSIZE[1], 0.42 * len(items) + 1.2)
    fig, ax = plt.subplots(figsize=(_FIGSIZE[0], height), layout="constrained")
    positions = np.arange(len(items))
    bars = ax.barh(positions, counts, color=_BLUE, edgecolor=_BLACK, linewidth=0.6, height=0.6)
    for bar, label in zip(bars, labels, strict=True):
        bar.set_gid(f"bar:{label}")
    ax.set_yticks(positions, labels, fontsize=_FONT)
    ax.invert_yaxis()  # first row on top, as in model.summary()
    ax.bar_label(
        bars,
        labels=[_count_and_share(c, total) for c in counts.tolist()],
        padding=4,
        fontsize=_SMALL,
    )
    # Headroom on the right so the longest annotation stays inside the axes.
    ax.set_xlim(0, max(1, counts.max()) * 1.3)
    ax.set_xlabel("parameters", fontsize=_SMALL)
    # Plain counts with separators, as model.summary() prints them, not "1e6" offsets.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.tick_params(axis="x", labelsize=_SMALL)
    ax.spines[["top", "right"]].set_visible(False)
    summed = " + ".join(f"{c:,}" for c in counts.tolist())
    title = f"Total: {total:,} parameters"
    if 1 < len(items) <= 5 and len(summed) <= 60:
        title = f"Total: {summed} = {total:,} parameters"
    ax.set_title(title, fontsize=_FONT + 1)
    return fig


def lstm_weight_layout(features: int, units: int) -> Figure:
    """Draw an LSTM's kernel, recurrent kernel and bias as blocks split into its four gates.

    The kernel ``W`` is ``(features, 4·units)``, the recurrent kernel ``U`` is
    ``(units, 4·units)`` and the bias ``b`` is ``(4·units,)``; Keras stores the columns of
    each as four groups of ``units`` in the order i, f, c, o. Reading the blocks off gives
    the parameter formula ``4 × (units × (units + features) + units)``. Small layers are
    drawn one cell per weight; larger ones as proportional blocks, with a floor on the
    height so the bias stays visible (the figure then says "not to scale").

    Parameters
    ----------
    features : int
        Size of the last input axis.
    units : int
        The layer's ``units``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; the twelve gate blocks carry gids ``"W:i"`` ... ``"b:o"``.

    Raises
    ------
    ValueError
        If ``features`` or ``units`` is not a positive integer.

    Examples
    --------
    >>> fig = lstm_weight_layout(3, 2)
    >>> print(fig.axes[0].get_title())
    LSTM(2) on 3 features: W, U and b, each in four gate groups i, f, c, o
    4 × (units × (units + features) + units) = 4 × (2 × (2 + 3) + 2) = 48 parameters
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/04-lstm.md``.
    """
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    features = _positive_int("features", features)
    units = _positive_int("units", units)
    columns = 4 * units
    total = 4 * (units * (units + features) + units)
    blocks = [
        (
            "W",
            "kernel W",
            features,
            f"(features, 4·units) = ({features}, {columns})",
            features * columns,
        ),
        (
            "U",
            "recurrent kernel U",
            units,
            f"(units, 4·units) = ({units}, {columns})",
            units * columns,
        ),
        ("b", "bias b", 1, f"(4·units,) = ({columns},)", columns),
    ]
    # One cell per weight while the grid stays readable; beyond that, proportional blocks.
    exact = features + units <= 16 and columns <= 48
    if exact:
        heights = [float(rows) for _, _, rows, _, _ in blocks]
    else:
        # Floors keep each block tall enough for its two-line label.
        scale = 10.0 / (features + units)
        heights = [max(rows * scale, 2.4) for _, _, rows, _, _ in blocks[:2]] + [1.0]

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    width = 16.0  # data units across all 4·units columns, whatever units is
    col_w = width / columns
    gap = 1.3 if exact else 1.6
    top = 0.0
    for (key, name, rows, shape, count), height in zip(blocks, heights, strict=True):
        y0 = top - height
        for g, (gate, _, colour) in enumerate(_LSTM_GATES):
            ax.add_patch(
                Rectangle(
                    (g * units * col_w, y0),
                    units * col_w,
                    height,
                    facecolor=colour,
                    alpha=0.85,
                    edgecolor=_BLACK,
                    linewidth=1.0,
                    gid=f"{key}:{gate}",
                )
            )
        if exact:
            for c in range(1, columns):
                if c % units:
                    ax.plot([c * col_w] * 2, [y0, top], color="white", linewidth=0.7)
            for r in range(1, rows):
                ax.plot([0, width], [y0 + r * height / rows] * 2, color="white", linewidth=0.7)
        ax.text(-0.4, y0 + height / 2, f"{name}\n{shape}", ha="right", va="center", fontsize=_SMALL)
        product = "" if key == "b" else f"{rows} × {columns} = "  # b is a vector
        ax.text(
            width + 0.4,
            y0 + height / 2,
            f"{product}{count:,}",
            ha="left",
            va="center",
            fontsize=_SMALL,
        )
        top = y0 - gap
    for g, (gate, gate_name, _) in enumerate(_LSTM_GATES):
        ax.text(
            (g + 0.5) * units * col_w,
            0.25,
            f"{gate} ({gate_name})",
            ha="center",
            va="bottom",
            fontsize=_SMALL,
            fontweight="bold",
        )
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(top + gap - 0.2, 1.3)
    ax.set_axis_off()
    note = "" if exact else " (blocks not to scale)"
    plural = "s" if features != 1 else ""
    ax.set_title(
        f"LSTM({units}) on {features} feature{plural}: W, U and b, each in four gate groups "
        f"i, f, c, o{note}\n"
        f"4 × (units × (units + features) + units) = 4 × ({units} × ({units} + {features}) + "
        f"{units}) = {total:,} parameters",
        fontsize=_FONT,
    )
    return fig


def _highlight_positions(highlight: Any, steps: int) -> list[int]:
    if highlight is None:
        return list(range(steps))
    chosen = [highlight] if _is_int(highlight) else list(highlight)
    for position in chosen:
        if not _is_int(position) or not 0 <= position < steps:
            raise ValueError(
                f"highlight must hold positions in [0, {steps}) of the sequence, got {position!r}"
            )
    return sorted({int(position) for position in chosen})


def _spaced_ticks(rows: list[int], n_rows: int, max_labels: int = 16) -> list[int]:
    """Keep rows far enough apart that their tick labels do not overlap."""
    min_gap = max(1, int(np.ceil(n_rows / max_labels)))
    kept: list[int] = []
    for row in sorted(set(rows)):
        if not kept or row - kept[-1] >= min_gap:
            kept.append(row)
    return kept


def embedding_lookup(indices: Any, table: Any, *, highlight: Any = None) -> Figure:
    """Draw an embedding lookup: indices in, the rows of the table they pick, the output.

    Left, the integer indices of one sequence; middle, the table ``(input_dim,
    output_dim)`` as a heatmap with the looked-up rows outlined; right, the output
    ``table[indices]``, ``(timesteps, output_dim)``, on the same colour scale. A line joins
    each highlighted position to its row of the table and on to its row of the output.

    Parameters
    ----------
    indices : array_like of int, shape (timesteps,)
        One sequence of token ids, each in ``[0, input_dim)``.
    table : array_like, shape (input_dim, output_dim)
        The embedding matrix, e.g. ``layer.get_weights()[0]``.
    highlight : int or sequence of int, optional
        Positions in the sequence (0-based) to outline and join; by default all of them.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes (indices, table, output) and a colorbar. Each outlined table row has the
        gid ``"lookup:<position>:<index>"``.

    Raises
    ------
    ValueError
        If ``indices`` is not a 1-D sequence of integers, ``table`` is not 2-D, an index is
        outside ``[0, input_dim)``, or a highlight position is outside the sequence.

    Examples
    --------
    >>> import numpy as np
    >>> table = np.random.default_rng(0).normal(size=(10, 4))  # (input_dim, output_dim)
    >>> fig = embedding_lookup([3, 7, 3, 1], table, highlight=1)
    >>> [a.get_gid() for a in fig.axes[1].patches]
    ['lookup:1:7']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/06-embedding.md``.
    """
    from matplotlib.patches import ConnectionPatch, Rectangle
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import offset_copy

    plt = _pyplot()
    ids = np.asarray(indices)
    weights = np.asarray(table)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(
            f"table must be a non-empty 2-D array (input_dim, output_dim), got shape "
            f"{weights.shape}"
        )
    if not np.issubdtype(weights.dtype, np.number) or np.issubdtype(weights.dtype, np.bool_):
        raise ValueError(f"table must hold numbers, got dtype {weights.dtype}")
    weights = weights.astype(float)
    if ids.ndim == 2 and ids.shape[0] == 1:
        raise ValueError(
            f"indices has shape {ids.shape} (batch, timesteps): pass one sequence, e.g. indices[0]"
        )
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"indices must be a non-empty 1-D sequence, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        if not np.issubdtype(ids.dtype, np.floating) or not np.all(ids == np.round(ids)):
            raise ValueError(f"indices must be integers, got {ids.tolist()!r}")
        ids = ids.astype(int)
    input_dim, output_dim = weights.shape
    bad = np.flatnonzero((ids < 0) | (ids >= input_dim))
    if bad.size:
        position = int(bad[0])
        raise ValueError(
            f"index {int(ids[position])} at position {position} is out of range for a table "
            f"with input_dim={input_dim} rows (valid ids: 0 to {input_dim - 1})"
        )
    steps = ids.size
    chosen = _highlight_positions(highlight, steps)
    output = weights[ids]

    digits = len(str(int(ids.max())))
    heat = max(output_dim, 3)
    # Width ratios are relative to the heatmaps; aim the index column at about
    # (0.3 + 0.08 * digits) inches of the ~5.5 inches the three panels share.
    share = (0.3 + 0.08 * digits) / 5.5
    fig, axes = plt.subplots(
        1,
        3,
        figsize=_FIGSIZE,
        layout="constrained",
        gridspec_kw={"width_ratios": [share * 2 * heat / (1 - share), heat, heat]},
    )
    # Room between the panels for the lines that join them.
    fig.get_layout_engine().set(wspace=0.12)
    ax_ids, ax_table, ax_out = axes
    limit = float(np.abs(weights).max()) or 1.0
    style = {
        "cmap": _SIGNED_CMAP,
        "vmin": -limit,
        "vmax": limit,
        "aspect": "auto",
        "interpolation": "nearest",
    }

    ax_ids.set_xlim(-0.5, 0.5)
    ax_ids.set_ylim(steps - 0.5, -0.5)
    # About 165 points of height to share among the rows; below ~5 pt text is noise.
    id_size = min(_SMALL, 0.7 * 165 / steps)
    for t, token in enumerate(ids.tolist()):
        ax_ids.add_patch(
            Rectangle((-0.5, t - 0.5), 1, 1, facecolor="white", edgecolor=_BLACK, linewidth=0.8)
        )
        if id_size >= 5:
            ax_ids.text(0, t, str(token), ha="center", va="center", fontsize=id_size)
    ax_ids.set_xticks([])
    if steps <= 16:
        ax_ids.set_yticks(range(steps))
    else:
        ax_ids.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax_ids.set_ylabel("position in sequence", fontsize=_SMALL)
    ax_ids.set_title(f"indices\n({steps},)", fontsize=_SMALL)

    image = ax_table.imshow(weights, **style)
    ax_table.set_title(f"table: one row per token id\n({input_dim}, {output_dim})", fontsize=_SMALL)
    if input_dim <= 16:
        ax_table.set_yticks(range(input_dim))
    else:
        ax_table.set_yticks(_spaced_ticks(ids[chosen].tolist(), input_dim))

    ax_out.imshow(output, **style)
    ax_out.set_title(f"output = table[indices]\n({steps}, {output_dim})", fontsize=_SMALL)
    # Rows line up with the index column, whose labels serve both.
    ax_out.set_ylim(ax_ids.get_ylim())
    ax_out.set_yticks(ax_ids.get_yticks())
    ax_out.tick_params(axis="y", labelleft=False)
    for ax in (ax_table, ax_out):
        ax.set_xlabel("output_dim", fontsize=_SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes:
        ax.tick_params(labelsize=_SMALL - 1)

    # Lines into the table stop short of its row labels, so the labels stay readable.
    row_labels = offset_copy(
        ax_table.get_yaxis_transform(),
        fig=fig,
        x=-(8 + 5.5 * len(str(input_dim - 1))),
        units="points",
    )
    for k, t in enumerate(chosen):
        colour = _CYCLE[k % len(_CYCLE)]
        row = int(ids[t])
        ax_table.add_patch(
            Rectangle(
                (-0.5, row - 0.5),
                output_dim,
                1,
                fill=False,
                edgecolor=colour,
                linewidth=2.2,
                gid=f"lookup:{t}:{row}",
                clip_on=False,
            )
        )
        ax_out.add_patch(
            Rectangle(
                (-0.5, t - 0.5),
                output_dim,
                1,
                fill=False,
                edgecolor=colour,
                linewidth=2.2,
                clip_on=False,
            )
        )
        links = (
            ((0.5, t), ax_ids.transData, (0.0, row), row_labels),
            ((output_dim - 0.5, row), ax_table.transData, (-0.5, t), ax_out.transData),
        )
        for start, coords_a, end, coords_b in links:
            link = ConnectionPatch(
                start,
                end,
                coordsA=coords_a,
                coordsB=coords_b,
                color=colour,
                linewidth=1.2,
                alpha=0.8,
                arrowstyle="-|>",
                mutation_scale=8,
            )
            link.set_in_layout(False)
            fig.add_artist(link)

    colorbar = fig.colorbar(image, ax=[ax_table, ax_out], shrink=0.9, aspect=15)
    colorbar.ax.tick_params(labelsize=_SMALL - 1)
    colorbar.set_label("weight", fontsize=_SMALL)
    return fig


def training_curve(history: Any, *, metrics: str | Sequence[str] = ("loss",)) -> Figure:
    """Plot training metrics over epochs, each with its ``val_`` twin when there is one.

    Parameters
    ----------
    history : mapping or keras.callbacks.History
        ``History.history`` (a dict of metric name to a list with one value per epoch), or
        the ``History`` object itself.
    metrics : str or sequence of str, default ("loss",)
        The metrics to draw, one panel each; ``"val_<name>"`` is added to ``<name>``'s
        panel when present.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per metric; epochs are counted from 1, as Keras prints them.

    Raises
    ------
    ValueError
        If ``history`` is not a mapping, a metric is missing, or a metric has no values.

    Examples
    --------
    >>> history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6],
    ...            "accuracy": [0.5, 0.7, 0.8]}
    >>> fig = training_curve(history, metrics=("loss", "accuracy"))
    >>> [len(ax.get_lines()) for ax in fig.axes]
    [2, 1]
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/08-putting-together.md``.
    """
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    record = getattr(history, "history", history)
    if not isinstance(record, Mapping):
        raise ValueError(
            f"history must be a dict of metric -> list (History.history), got "
            f"{type(history).__name__}"
        )
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty: name at least one, e.g. ('loss',)")
    for name in names:
        if name not in record:
            raise ValueError(f"history has no {name!r}; it has {sorted(record)}")
    series = {}
    for name in names + [f"val_{name}" for name in names if f"val_{name}" in record]:
        values = np.asarray(record[name], dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(
                f"history[{name!r}] must be a non-empty list of numbers, one per "
                f"epoch; got shape {values.shape}"
            )
        series[name] = values

    fig, axes = plt.subplots(1, len(names), figsize=_FIGSIZE, layout="constrained", squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for key, label, colour, style, marker in (
            (name, "training", _BLUE, "-", "o"),
            (f"val_{name}", "validation", _ORANGE, "--", "s"),
        ):
            if key not in series:
                continue
            values = series[key]
            ax.plot(
                np.arange(1, values.size + 1),
                values,
                color=colour,
                linestyle=style,
                marker=marker if values.size <= 30 else None,
                markersize=4,
                linewidth=1.6,
                label=label,
            )
        ax.set_title(name, fontsize=_FONT)
        ax.set_xlabel("epoch", fontsize=_SMALL)
        ax.set_ylabel(name, fontsize=_SMALL)
        ax.tick_params(labelsize=_SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=_SMALL, frameon=False)
    return fig


def _pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project onto the first two principal components; also return their variance shares."""
    centred = points - points.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:2]
    # SVD fixes each direction only up to sign; pin it so a figure does not flip on rebuild.
    pivots = np.abs(components).argmax(axis=1)
    components *= np.sign(components[np.arange(len(components)), pivots])[:, None]
    variance = singular**2
    shares = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    return centred @ components.T, shares


def _place_labels(fig: Any, ax: Any, xy: np.ndarray, labels: list[str]) -> None:
    """Put each label beside its point where it overlaps no other label, point or edge."""
    from matplotlib.text import Text

    near = [
        (4, 3, "left", "bottom"),
        (4, -3, "left", "top"),
        (-4, 3, "right", "bottom"),
        (-4, -3, "right", "top"),
        (6, 0, "left", "center"),
        (-6, 0, "right", "center"),
        (0, 6, "center", "bottom"),
        (0, -6, "center", "top"),
    ]
    # Farther candidates get a leader line, so a displaced label still names its point.
    far = [(3 * dx, 3 * dy, ha, va) for dx, dy, ha, va in near]
    offsets = near + far
    leader = {"arrowstyle": "-", "color": _GREY, "linewidth": 0.7, "shrinkA": 1, "shrinkB": 3}
    annotations = [
        ax.annotate(
            label,
            tuple(point),
            xytext=offsets[0][:2],
            textcoords="offset points",
            fontsize=_SMALL,
            ha="left",
            va="bottom",
            arrowprops=leader,
        )
        for point, label in zip(xy, labels, strict=True)
    ]
    for annotation in annotations:
        annotation.arrow_patch.set_visible(False)
        # Labels must not move the axes, or every measured position would shift again.
        annotation.set_in_layout(False)
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:
        return  # a backend that cannot measure text keeps the default offsets
    fig.canvas.draw()  # runs the layout, so display positions below are final
    renderer = get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = ax.transData.transform(xy)
    radius = 4.0
    marks = [(x - radius, y - radius, x + radius, y + radius) for x, y in centres]
    placed: list[tuple[float, float, float, float]] = []

    def label_box(annotation: Any) -> tuple[float, float, float, float]:
        # The text alone: an annotation's own extent also spans its (hidden) leader line.
        annotation.update_positions(renderer)
        return tuple(Text.get_window_extent(annotation, renderer).extents)

    def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
        width = min(a[2], b[2]) - max(a[0], b[0])
        height = min(a[3], b[3]) - max(a[1], b[1])
        return max(width, 0.0) * max(height, 0.0)

    for annotation in annotations:
        best, best_cost = offsets[0], float("inf")
        for dx, dy, ha, va in offsets:
            annotation.set_position((dx, dy))
            annotation.set_ha(ha)
            annotation.set_va(va)
            box = label_box(annotation)
            cost = sum(overlap(box, other) for other in placed + marks)
            outside = (
                max(frame.x0 - box[0], 0)
                + max(box[2] - frame.x1, 0)
                + max(frame.y0 - box[1], 0)
                + max(box[3] - frame.y1, 0)
            )
            cost += 1000.0 * outside
            if cost < best_cost:
                best, best_cost = (dx, dy, ha, va), cost
            if cost == 0:
                break
        annotation.set_position(best[:2])
        annotation.set_ha(best[2])
        annotation.set_va(best[3])
        annotation.arrow_patch.set_visible(best not in near)
        placed.append(label_box(annotation))


def embedding_scatter(vectors: Any, labels: Sequence[str]) -> Figure:
    """Scatter embedding vectors in 2-D, each annotated with its label.

    Two-dimensional vectors are drawn as they are; longer ones are projected onto their
    first two principal components (PCA by NumPy's SVD of the centred vectors), and the
    axes say how much of the variance each component keeps. Labels are placed beside their
    points where they overlap nothing.

    Parameters
    ----------
    vectors : array_like, shape (n, dim)
        One vector per row, e.g. rows of an ``Embedding`` layer's table; ``dim >= 2``.
    labels : sequence of str, length n
        The text for each point, such as the token each row stands for.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one scatter (``n`` points) and ``n`` annotations.

    Raises
    ------
    ValueError
        If ``vectors`` is not 2-D with at least two columns, holds non-finite values, or
        ``labels`` has a different length.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = np.random.default_rng(1).normal(size=(5, 8))  # (n, output_dim)
    >>> fig = embedding_scatter(vectors, ["the", "cat", "sat", "on", "mat"])
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['the', 'cat', 'sat', 'on', 'mat']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/06-embedding.md`` and ``book/08-putting-together.md``.
    """
    plt = _pyplot()
    points = np.asarray(vectors, dtype=float)
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"vectors must be a non-empty 2-D array (n, dim), got {points.shape}")
    n, dim = points.shape
    if dim < 2:
        raise ValueError(f"vectors need at least 2 dimensions to scatter, got dim={dim}")
    if not np.all(np.isfinite(points)):
        raise ValueError("vectors hold NaN or infinite values")
    texts = [str(label) for label in labels]
    if len(texts) != n:
        raise ValueError(f"got {len(texts)} labels for {n} vectors; give one label per vector")

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    if dim == 2:
        xy = points
        ax.set_xlabel("dimension 0", fontsize=_SMALL)
        ax.set_ylabel("dimension 1", fontsize=_SMALL)
        title = f"{n} embedding vectors of dimension 2"
    else:
        xy, shares = _pca_2d(points)
        ax.set_xlabel(f"principal component 1 ({shares[0]:.0%} of variance)", fontsize=_SMALL)
        ax.set_ylabel(f"PC 2 ({shares[1]:.0%})", fontsize=_SMALL)
        title = (
            f"{n} embedding vectors of dimension {dim}, projected by PCA "
            f"({shares.sum():.0%} of variance kept)"
        )
    ax.scatter(xy[:, 0], xy[:, 1], s=28, color=_BLUE, edgecolor="white", linewidth=0.6, zorder=2)
    ax.axhline(0, color=_GREY, linewidth=0.6, zorder=0)
    ax.axvline(0, color=_GREY, linewidth=0.6, zorder=0)
    # Distances are the point of the picture, so one unit is the same length on both axes.
    ax.set_aspect("equal", adjustable="datalim")
    ax.margins(0.18)
    ax.tick_params(labelsize=_SMALL)
    ax.set_title(title, fontsize=_FONT)
    _place_labels(fig, ax, xy, texts)
    return fig
