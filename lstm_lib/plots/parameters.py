"""Figures of where a layer's parameters live: counts per layer or block, and an LSTM's weights.

``param_breakdown`` draws a bar per layer or weight block with its count and the total;
``lstm_weight_layout`` draws an LSTM's ``W``, ``U`` and ``b`` split into their four blocks
(three gates and the candidate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import (
    _BLACK,
    _BLUE,
    _FIGSIZE,
    _FONT,
    _GREEN,
    _ORANGE,
    _PURPLE,
    _SMALL,
    _is_int,
    _positive_int,
    _pyplot,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["lstm_weight_layout", "param_breakdown"]

# Keras stores an LSTM's four blocks (three gates and the candidate) side by side, in order.
_LSTM_GATES = (
    ("i", "input", _BLUE),
    ("f", "forget", _ORANGE),
    ("c", "candidate", _GREEN),
    ("o", "output", _PURPLE),
)


# --- param_breakdown ---------------------------------------------------------------------


def _param_rows(rows: Any) -> list[tuple[str, int]]:
    """The rows as (label, count) pairs, checked: a pair each, counts non-negative integers."""
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


def _whole_percents(counts: list[int]) -> list[int]:
    """Each count's share of the total in whole percents that add up to 100 (largest
    remainders round up), so the labels of one chart never add up to 99% or 101%."""
    total = sum(counts)
    if not total:
        return [0] * len(counts)
    exact = [100 * count / total for count in counts]
    percents = [int(share) for share in exact]
    by_remainder = sorted(range(len(counts)), key=lambda k: exact[k] - percents[k], reverse=True)
    for k in by_remainder[: 100 - sum(percents)]:
        percents[k] += 1
    return percents


def _counts_and_shares(counts: list[int]) -> list[str]:
    """Each bar's annotation: the count with separators and its share of the total."""
    annotations = []
    for count, percent in zip(counts, _whole_percents(counts), strict=True):
        if not count:
            annotations.append(f"{count:,}")
        else:
            # "0%" beside a non-zero count reads as a mistake; say it is small instead.
            annotations.append(f"{count:,}  ({f'{percent}%' if percent else '<1%'})")
    return annotations


def _total_title(counts: list[int], total: int) -> str:
    """The total, written as the sum of the counts when that stays short."""
    summed = " + ".join(f"{c:,}" for c in counts)
    if 1 < len(counts) <= 5 and len(summed) <= 60:
        return f"Total: {summed} = {total:,} parameters"
    return f"Total: {total:,} parameters"


def _count_axis(ax: Any) -> None:
    """Label the count axis with plain counts and separators, as ``model.summary()`` does."""
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    ax.set_xlabel("parameters", fontsize=_SMALL)
    # Plain counts with separators, as model.summary() prints them, not "1e6" offsets.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.tick_params(axis="x", labelsize=_SMALL)
    ax.spines[["top", "right"]].set_visible(False)


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
        labels=_counts_and_shares(counts.tolist()),
        padding=4,
        fontsize=_SMALL,
    )
    # Headroom on the right so the longest annotation stays inside the axes.
    ax.set_xlim(0, max(1, counts.max()) * 1.3)
    _count_axis(ax)
    ax.set_title(_total_title(counts.tolist(), total), fontsize=_FONT + 1)
    return fig


# --- lstm_weight_layout ------------------------------------------------------------------


def _weight_blocks(features: int, units: int) -> list[tuple[str, str, int, str, int]]:
    """(key, name, rows, shape text, count) of the kernel, recurrent kernel and bias."""
    columns = 4 * units
    return [
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


def _block_heights(features: int, units: int, exact: bool) -> list[float]:
    """The drawn height of W, U and b: their rows when exact, else proportional with floors."""
    if exact:
        return [float(features), float(units), 1.0]
    # Floors keep each block tall enough for its two-line label.
    scale = 10.0 / (features + units)
    return [max(features * scale, 2.4), max(units * scale, 2.4), 1.0]


def _draw_block(
    ax: Any,
    block: tuple[str, str, int, str, int],
    top: float,
    height: float,
    units: int,
    width: float,
    exact: bool,
) -> None:
    """One weight block below ``top``: four blocks, the grid when exact, and labels."""
    from matplotlib.patches import Rectangle

    key, name, rows, shape, count = block
    columns = 4 * units
    col_w = width / columns
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


def _label_gates(ax: Any, units: int, col_w: float) -> None:
    """Name the four blocks above the kernel."""
    for g, (gate, gate_name, _) in enumerate(_LSTM_GATES):
        ax.text(
            (g + 0.5) * units * col_w,
            0.25,
            # the candidate is c̃ in the book's prose; "c" alone is the cell state
            f"{'c̃' if gate == 'c' else gate} ({gate_name})",
            ha="center",
            va="bottom",
            fontsize=_SMALL,
            fontweight="bold",
        )


def _layout_title(features: int, units: int, exact: bool) -> str:
    """The layer, what the blocks are, and the parameter formula worked out."""
    total = 4 * (units * (units + features) + units)
    note = "" if exact else " (blocks not to scale)"
    plural = "s" if features != 1 else ""
    return (
        f"LSTM({units}) on {features} feature{plural}: W, U and b, each in four blocks "
        f"i, f, c̃, o{note}\n"
        f"4 × (units × (units + features) + units) = 4 × ({units} × ({units} + {features}) + "
        f"{units}) = {total:,} parameters"
    )


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
    LSTM(2) on 3 features: W, U and b, each in four blocks i, f, c̃, o
    4 × (units × (units + features) + units) = 4 × (2 × (2 + 3) + 2) = 48 parameters
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/04-lstm.md``.
    """
    plt = _pyplot()
    features = _positive_int("features", features)
    units = _positive_int("units", units)
    blocks = _weight_blocks(features, units)
    # One cell per weight while the grid stays readable; beyond that, proportional blocks.
    exact = features + units <= 16 and 4 * units <= 48
    heights = _block_heights(features, units, exact)

    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    width = 16.0  # data units across all 4·units columns, whatever units is
    gap = 1.3 if exact else 1.6
    top = 0.0
    for block, height in zip(blocks, heights, strict=True):
        _draw_block(ax, block, top, height, units, width, exact)
        top = top - height - gap
    _label_gates(ax, units, width / (4 * units))
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(top + gap - 0.2, 1.3)
    ax.set_axis_off()
    ax.set_title(_layout_title(features, units, exact), fontsize=_FONT)
    return fig
