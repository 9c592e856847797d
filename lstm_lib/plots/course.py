"""Figures of the course itself: what each graded notebook asks of a learner.

``assignment_sizes`` draws, for each assignment, its number of graded questions and its
points as two bars side by side, each labelled with its number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import _BLUE, _FIGSIZE, _FONT, _ORANGE, _SMALL, _is_int, _pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["assignment_sizes"]

# Each assignment's row, top to bottom: its two bars, with their colour and hatch (so the
# pair reads in greyscale too).
_BARS = (("questions", _ORANGE, ""), ("points", _BLUE, "//"))


def _size_rows(sizes: Any) -> list[tuple[str, int, float]]:
    """The rows as (assignment, questions, points), checked."""
    if not isinstance(sizes, Mapping) or not sizes:
        raise ValueError(
            "sizes must be a non-empty mapping of assignment -> (questions, points), "
            f"got {type(sizes).__name__}"
        )
    rows = []
    for name, pair in sizes.items():
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ValueError(f"sizes[{name!r}] must be a pair (questions, points), got {pair!r}")
        questions, points = pair
        if not _is_int(questions) or questions < 0:
            raise ValueError(f"sizes[{name!r}]: questions must be a whole number >= 0")
        if isinstance(points, bool) or not isinstance(points, int | float | np.number):
            raise ValueError(f"sizes[{name!r}]: points must be a number, got {points!r}")
        if not np.isfinite(points) or points < 0:
            raise ValueError(f"sizes[{name!r}]: points must be a finite number >= 0")
        rows.append((str(name), int(questions), float(points)))
    return rows


def _count_text(value: float) -> str:
    """A count as a reader writes it: 9, not 9.0; 2.5 stays 2.5."""
    return f"{value:g}"


def assignment_sizes(sizes: Mapping[str, tuple[int, float]]) -> Figure:
    """Draw each assignment's number of graded questions and its points, side by side.

    Parameters
    ----------
    sizes : mapping of str to (int, float)
        Assignment name -> (number of graded questions, total points), in the order to draw
        them from the top.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: for each assignment a bar of its questions (gid ``"questions:<name>"``)
        above a bar of its points (gid ``"points:<name>"``), each labelled with its number
        at its end, and the legend above the bars, clear of them.

    Raises
    ------
    ValueError
        If ``sizes`` is empty or not a mapping, or a value is not a pair of a whole number
        of questions and a finite number of points, both at least 0.

    Examples
    --------
    >>> fig = assignment_sizes({"02-dense": (7, 9), "03-simplernn": (7, 9)})
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['7', '7', '9', '9']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/10-for-instructors.md``.
    """
    rows = _size_rows(sizes)
    plt = _pyplot()
    height = max(_FIGSIZE[1], 1.0 + 0.45 * len(rows))
    fig, ax = plt.subplots(figsize=(_FIGSIZE[0], height), layout="constrained")
    centres = np.arange(len(rows), dtype=float)
    bar_height = 0.38
    largest = max(max(questions, points) for _, questions, points in rows) or 1.0
    for k, (label, colour, hatch) in enumerate(_BARS):
        positions = centres + (k - 0.5) * bar_height
        values = [(questions, points)[k] for _, questions, points in rows]
        bars = ax.barh(
            positions,
            values,
            height=bar_height,
            color=colour,
            hatch=hatch,
            edgecolor="white" if hatch else colour,
            label=label,
        )
        for bar, (name, _, _), position, value in zip(bars, rows, positions, values, strict=True):
            bar.set_gid(f"{label}:{name}")
            ax.text(
                value + largest * 0.01,
                position,
                _count_text(value),
                va="center",
                ha="left",
                fontsize=_SMALL,
            )
    ax.set_yticks(centres, [name for name, _, _ in rows], fontsize=_SMALL)
    ax.invert_yaxis()
    # room at the right for the longest bar's number
    ax.set_xlim(0, largest * 1.12)
    ax.set_xlabel("count", fontsize=_SMALL)
    ax.tick_params(axis="x", labelsize=_SMALL)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(_BARS),
        frameon=False,
        fontsize=_FONT,
    )
    return fig
