"""Figures of how far back a recurrent layer's gradient reaches.

``gradient_by_distance`` draws, on a log scale, the size of the gradient of a layer's final
output with respect to each input step, against the step's distance from the last one. The
numbers are measured elsewhere (``lstm_lib.tasks.input_gradient_norms`` does it with Keras);
this module only draws them, so it needs neither Keras nor TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import _CYCLE, _FIGSIZE, _FONT, _SMALL, _pyplot, _series_slots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["gradient_by_distance"]

# Colour, line style and marker per curve: the curves stay apart in greyscale too.
_LINE_STYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D")


def _panel_curves(panel: Any, where: str) -> dict[str, np.ndarray]:
    """A panel's curves as label -> mean norm per distance (distance 0 = the last step)."""
    if not isinstance(panel, Mapping) or not panel:
        raise ValueError(
            f"{where} must be a non-empty mapping of layer name -> gradient norms, got "
            f"{type(panel).__name__}"
        )
    curves = {}
    for label, norms in panel.items():
        values = np.asarray(norms, dtype=float)
        if values.ndim == 1:
            values = values[None]
        if values.ndim != 2 or values.shape[1] < 2:
            raise ValueError(
                f"{where}[{label!r}] must have shape (runs, timesteps) or (timesteps,) with "
                f"at least 2 timesteps; got shape {np.shape(norms)}"
            )
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(
                f"{where}[{label!r}] must hold positive finite norms: a log scale cannot show zero"
            )
        # Input step t of T lies T - 1 - t steps before the last one.
        curves[str(label)] = values.mean(axis=0)[::-1]
    return curves


def gradient_by_distance(*panels: Mapping[str, Any], titles: Sequence[str] | None = None) -> Figure:
    """Plot gradient norms per input step against the distance from the last step, log scale.

    Parameters
    ----------
    *panels : mapping of str to array_like
        One axes per mapping, side by side with a shared y-axis. Each maps a curve's label
        (a layer name, e.g. ``"SimpleRNN"``) to the norms of
        ``d(final output) / d(input step t)``, of shape ``(runs, timesteps)`` (one row per
        initialisation or model, averaged here) or ``(timesteps,)``, in input order: the
        last column is the last step. Norms must be positive.
    titles : sequence of str, optional
        One title per panel.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel, a logarithmic y-axis, the distance ``timesteps - 1 - t`` on the
        x-axis (0 is the last step) and a legend naming each curve.

    Raises
    ------
    ValueError
        If no panel is given, a panel is empty, its norms have the wrong shape or are not
        positive, or ``titles`` does not have one title per panel.

    Examples
    --------
    >>> import numpy as np
    >>> distance = np.arange(20)[::-1]
    >>> fig = gradient_by_distance({"SimpleRNN": 0.7 ** distance, "LSTM": 0.95 ** distance})
    >>> fig.axes[0].get_yscale(), [line.get_label() for line in fig.axes[0].get_lines()]
    ('log', ['SimpleRNN', 'LSTM'])
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/04-lstm.md``.
    """
    from matplotlib.ticker import MaxNLocator

    if not panels:
        raise ValueError("give at least one panel: a mapping of layer name -> gradient norms")
    if titles is not None and len(titles) != len(panels):
        raise ValueError(f"titles has {len(titles)} entries for {len(panels)} panels")
    curves = [_panel_curves(panel, f"panel {k}") for k, panel in enumerate(panels)]

    plt = _pyplot()
    fig, axes = plt.subplots(
        1, len(panels), figsize=_FIGSIZE, layout="constrained", squeeze=False, sharey=True
    )
    for k, (ax, panel) in enumerate(zip(axes[0], curves, strict=True)):
        for n, (label, values) in zip(_series_slots(panel), panel.items(), strict=True):
            ax.plot(
                np.arange(values.size),
                values,
                color=_CYCLE[n % len(_CYCLE)],
                linestyle=_LINE_STYLES[n % len(_LINE_STYLES)],
                marker=_MARKERS[n % len(_MARKERS)],
                markevery=max(1, values.size // 8),
                markersize=4,
                linewidth=1.6,
                label=label,
            )
        ax.set_yscale("log")
        ax.set_xlabel("steps before the last one", fontsize=_SMALL)
        if k == 0:
            ax.set_ylabel("gradient norm", fontsize=_SMALL)
        if titles is not None:
            ax.set_title(titles[k], fontsize=_FONT)
        ax.tick_params(labelsize=_SMALL)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=_SMALL, frameon=False)
    return fig
