"""Tests for lstm_lib.plots.training: training_curve and race_curves."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# --- race_curves -----------------------------------------------------------------------


def fake_race() -> dict[str, SimpleNamespace]:
    """Results shaped like lstm_lib.tasks.train_race's, without training anything."""
    return {
        "SimpleRNN": SimpleNamespace(held_out_accuracy=(0.50, 0.49, 0.51, 0.50, 0.48)),
        "LSTM": SimpleNamespace(held_out_accuracy=(0.48, 0.54, 0.81, 0.99)),
        "GRU": SimpleNamespace(held_out_accuracy=(0.47, 0.59, 0.98)),
    }


def test_race_curves_draw_a_line_per_layer_and_chance():
    """Is there one line per layer, with its accuracies by epoch from 1, and a dashed
    chance line at 0.5?"""
    results = fake_race()
    fig = plots.race_curves(results)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["SimpleRNN", "LSTM", "GRU", "chance"]
    assert [line.get_gid() for line in lines] == [
        "race:SimpleRNN",
        "race:LSTM",
        "race:GRU",
        "race:chance",
    ]
    for line, result in zip(lines, results.values(), strict=False):
        np.testing.assert_allclose(line.get_ydata(), result.held_out_accuracy)
        assert list(line.get_xdata()) == list(range(1, len(result.held_out_accuracy) + 1))
    chance = lines[-1]
    assert list(chance.get_ydata()) == [0.5, 0.5]
    assert chance.get_linestyle() == "--"
    assert len({line.get_linestyle() for line in lines[:3]}) == 3  # apart in greyscale
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "SimpleRNN",
        "LSTM",
        "GRU",
        "chance",
    ]
    plt.close(fig)


def looks(fig) -> dict[str, tuple[str, str, str]]:
    """Each labelled line's colour, line style and marker, by label."""
    from matplotlib.colors import to_hex

    return {
        line.get_label(): (to_hex(line.get_color()), line.get_linestyle(), line.get_marker())
        for line in fig.axes[0].get_lines()
    }


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(["SimpleRNN", "LSTM", "GRU"]), lstm_only=st.booleans())
def test_race_curves_give_each_layer_one_look_whatever_the_order(order, lstm_only):
    """Does each layer keep its colour, line style and marker whichever order (and company)
    its race lists it in, as chapter 04 (SimpleRNN, LSTM, GRU) and chapter 08 (SimpleRNN,
    GRU, LSTM) do, so the LSTM of one chapter's figure is the LSTM of the next?"""
    race = fake_race()
    reference = looks(plots.race_curves(race))
    names = ["LSTM"] if lstm_only else order
    fig = plots.race_curves({name: race[name] for name in names})
    assert {name: looks(fig)[name] for name in names} == {name: reference[name] for name in names}
    plt.close("all")


def test_race_curves_and_gradient_curves_draw_a_layer_alike():
    """Does a layer keep its colour and marker from the gradient figure to the race figure
    of chapter 04, and does a series that is no layer take a colour no layer keeps?"""
    from lstm_lib.plots import gradient_by_distance

    decay = 0.9 ** np.arange(10)
    gradients = looks(
        gradient_by_distance({"LSTM": decay, "SimpleRNN": decay, "LSTM, forget bias 3": decay})
    )
    race = looks(plots.race_curves(fake_race()))
    for name in ("SimpleRNN", "LSTM"):
        assert (gradients[name][0], gradients[name][2]) == (race[name][0], race[name][2])
    assert gradients["LSTM, forget bias 3"][0] not in {look[0] for look in race.values()}
    plt.close("all")


def test_race_curves_accept_plain_lists_and_another_chance_level():
    """Do lists of accuracies work in place of results, with chance drawn where asked?"""
    fig = plots.race_curves({"LSTM": [0.3, 0.9]}, chance=0.25)
    assert list(fig.axes[0].get_lines()[-1].get_ydata()) == [0.25, 0.25]
    plt.close(fig)


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({}, "non-empty mapping"),
        ([0.5, 0.6], "non-empty mapping"),
        ({"LSTM": []}, "non-empty list of accuracies"),
        ({"LSTM": [0.5, 1.5]}, r"accuracies in \[0, 1\]"),
    ],
)
def test_race_curves_reject_bad_results(results, message):
    """Do no results, no epochs or an accuracy above 1 raise a clear ValueError?"""
    with pytest.raises(ValueError, match=message):
        plots.race_curves(results)


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
        "race": lambda: plots.race_curves(fake_race()),
    }


LEGIBILITY = legibility_cases()
