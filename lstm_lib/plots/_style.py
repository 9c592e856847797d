"""The look every figure family shares: palette, colormaps, sizes, fonts, and small helpers.

Colours come from the Okabe-Ito palette, and every distinction a colour makes is also made
by a line style, a marker or a label, so the figures read in greyscale too. ``_pyplot()`` is
the one place matplotlib is imported, on the first figure drawn, never at import time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
# Light tints for the fill of boxes whose edge carries the full colour.
_BLUE_TINT = "#DCEBF5"
_VERMILLION_TINT = "#FBE3D2"
_GREY_TINT = "#F2F2F2"

# Text drawn in a palette colour takes a darker shade of the same hue: on white, 9 pt labels
# in vermillion, orange or grey reach a contrast of only 3.9, 2.3 and 3.4 to 1, below the 4.5
# a reader with low vision needs (WCAG AA). Lines, markers and fills keep the palette itself.
_INK = {
    _VERMILLION: "#AA4B00",
    _ORANGE: "#8A6000",
    _GREEN: "#007555",
    _PURPLE: "#8F5575",
    _SKY: "#346D8D",
    _GREY: "#666666",
}

# Diverging map for signed values (embeddings, cell state): PuOr keeps its two hues apart for
# the common colour-vision deficiencies, unlike red-green maps. cividis is the sequential map
# designed for them, used for gates in [0, 1].
_SIGNED_CMAP = "PuOr_r"
_UNIT_CMAP = "cividis"

# The slot (colour, line style and marker) each recurrent layer keeps in every figure that
# compares layers: a reader who met the LSTM as the orange squares in one chapter's race
# finds it so in the next, whatever order that chapter lists its layers in.
_LAYER_SLOTS = {"SimpleRNN": 0, "LSTM": 1, "GRU": 2}

_FIGSIZE = (8.0, 3.5)
_FONT = 10
_SMALL = 9


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot`` on first use, so importing the figures costs only NumPy."""
    import matplotlib.pyplot as plt

    return plt


def _ink(colour: str) -> str:
    """The colour to write text in where a figure uses ``colour``: the palette's darker
    shade of it (``_INK``), or ``colour`` itself where that already reads at 4.5:1 on white."""
    return _INK.get(colour, colour)


def _is_int(value: Any) -> bool:
    """Whether ``value`` is a Python or NumPy integer (``True`` and ``False`` are not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an ``int``, or raise a ValueError naming the argument ``name``."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _series_slots(names: Any) -> list[int]:
    """The slot of each series of a figure comparing layers, for indexing its palette, line
    styles and markers: a layer's own slot (``_LAYER_SLOTS``) where the name is one, and for
    any other name the next slot past those the layers keep, in order."""
    names = [str(name) for name in names]
    slots, free = [], len(_LAYER_SLOTS)
    for name in names:
        if name in _LAYER_SLOTS:
            slots.append(_LAYER_SLOTS[name])
        else:
            slots.append(free)
            free += 1
    return slots
