"""Tests for lstm_lib.plots.training: training_curve."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lstm_lib import plots

pytestmark = pytest.mark.usefixtures("close_figures")


# --- training_curve --------------------------------------------------------------------


def test_training_curve_one_panel_per_metric_with_validation_twin():
    """Is there a panel per metric, each with its val_ line when the history has one?"""
    history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    fig = plots.training_curve(SimpleNamespace(history=history), metrics=("loss", "accuracy"))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["training", "validation"]
    np.testing.assert_allclose(loss_lines[1].get_ydata(), history["val_loss"])
    assert list(loss_lines[0].get_xdata()) == [1, 2, 3]  # epochs as Keras counts them
    assert len(fig.axes[1].get_lines()) == 1
    plt.close(fig)


def test_training_curve_accepts_a_single_metric_name():
    """Is metrics="loss" read as one metric, not as four one-letter names?"""
    fig = plots.training_curve({"loss": [1.0, 0.5]}, metrics="loss")
    assert len(fig.axes) == 1
    plt.close(fig)


@pytest.mark.parametrize(
    ("history", "metrics", "message"),
    [
        ({"loss": [1.0]}, ("accuracy",), r"no 'accuracy'; it has \['loss'\]"),
        ({"loss": []}, ("loss",), "non-empty list"),
        ([1.0, 0.5], ("loss",), "history must be a dict"),
        ({"loss": [1.0]}, (), "metrics is empty"),
    ],
)
def test_training_curve_rejects_bad_history(history, metrics, message):
    """Do a missing metric, an empty record or a non-mapping raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.training_curve(history, metrics=metrics)


# --- legibility ------------------------------------------------------------------------


def legibility_cases():
    return {
        "training": lambda: plots.training_curve(
            {
                "loss": list(np.linspace(1, 0.2, 20)),
                "val_loss": list(np.linspace(1.1, 0.4, 20)),
                "accuracy": list(np.linspace(0.4, 0.9, 20)),
            },
            metrics=("loss", "accuracy"),
        ),
    }


LEGIBILITY = legibility_cases()
