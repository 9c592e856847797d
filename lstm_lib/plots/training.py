"""Figures of a model's training: metrics per epoch from ``History.history``.

``training_curve`` draws one panel per metric, with its ``val_`` twin beside it.
``race_curves`` draws the held-out accuracy per epoch of several layers trained on the same
task (``lstm_lib.tasks.train_race`` trains them), against chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lstm_lib.plots._style import (
    _BLUE,
    _CYCLE,
    _FIGSIZE,
    _FONT,
    _GREY,
    _ORANGE,
    _SMALL,
    _pyplot,
    _series_slots,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["race_curves", "training_curve"]

# Colour, line style and marker per layer: the curves stay apart in greyscale too.
_LINE_STYLES = ("-", "-.", ":", "--")  # "--" last: the chance line is dashed
_MARKERS = ("o", "s", "^", "D")


def _history_series(history: Any, metrics: Any) -> tuple[list[str], dict[str, np.ndarray]]:
    """The metric names to draw, and each drawn series (metrics and val_ twins) as floats."""
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
    return names, series


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
    names, series = _history_series(history, metrics)

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


def _race_series(results: Any) -> dict[str, np.ndarray]:
    """Each layer's held-out accuracy per epoch, as floats in [0, 1]."""
    if not isinstance(results, Mapping) or not results:
        raise ValueError(
            f"results must be a non-empty mapping of layer name -> RaceResult (or a list of "
            f"accuracies), got {type(results).__name__}"
        )
    series = {}
    for name, result in results.items():
        values = np.asarray(getattr(result, "held_out_accuracy", result), dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(
                f"results[{name!r}] must hold a non-empty list of accuracies, one per epoch; "
                f"got shape {values.shape}"
            )
        if not np.all((values >= 0) & (values <= 1)):
            raise ValueError(f"results[{name!r}] must hold accuracies in [0, 1]")
        series[str(name)] = values
    return series


def race_curves(results: Mapping[str, Any], *, chance: float = 0.5) -> Figure:
    """Plot the held-out accuracy per epoch of layers trained on the same task, and chance.

    Parameters
    ----------
    results : mapping of str to RaceResult or sequence of float
        Layer name -> the result of ``lstm_lib.tasks.train_race`` (its
        ``held_out_accuracy`` is drawn), or directly a list of accuracies, one per epoch.
        The layers may have run different numbers of epochs.
    chance : float, default 0.5
        The accuracy of guessing, drawn as a dashed grey line (0.5 for two balanced
        classes).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a line per layer (label and gid ``"race:<name>"``; SimpleRNN, LSTM and
        GRU each in the colour, line style and marker it has in every figure, whatever
        the order of ``results``), epochs counted from 1
        as Keras prints them, and the chance line (label ``"chance"``, gid
        ``"race:chance"``).

    Raises
    ------
    ValueError
        If ``results`` is empty or not a mapping, or a layer's accuracies are not a
        non-empty list of numbers in [0, 1].

    Examples
    --------
    >>> fig = race_curves({"SimpleRNN": [0.50, 0.49, 0.51], "LSTM": [0.50, 0.81, 0.99]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['SimpleRNN', 'LSTM', 'chance']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)

    Used in ``book/04-lstm.md``.
    """
    from matplotlib.ticker import MaxNLocator

    series = _race_series(results)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE, layout="constrained")
    for n, (name, values) in zip(_series_slots(series), series.items(), strict=True):
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            color=_CYCLE[n % len(_CYCLE)],
            linestyle=_LINE_STYLES[n % len(_LINE_STYLES)],
            marker=_MARKERS[n % len(_MARKERS)],
            markersize=5,
            linewidth=1.8,
            label=name,
            gid=f"race:{name}",
        )
    ax.axhline(
        chance, color=_GREY, linestyle="--", linewidth=1.2, label="chance", gid="race:chance"
    )
    longest = max(values.size for values in series.values())
    ax.set_xlim(0.5, longest + 0.5)
    ax.set_ylim(min(0.4, chance - 0.1), 1.02)
    ax.set_xlabel("epoch", fontsize=_SMALL)
    ax.set_ylabel("held-out accuracy", fontsize=_SMALL)
    ax.set_title("accuracy on held-out sequences after each epoch", fontsize=_FONT)
    ax.tick_params(labelsize=_SMALL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=_SMALL, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
