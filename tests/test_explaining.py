"""Does lstm_lib.explain tell the same story as model.summary(), with the formulas added?"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from conftest import require_module

import lstm_lib
from lstm_lib.explaining import ModelTable, explain
from lstm_lib.shapes import LayerRow

keras = require_module("keras", "Keras (pip install .[keras])")

layers = keras.layers


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    # free_memory=False skips a 0.16 s gc.collect(); resetting Keras's names is enough.
    keras.backend.clear_session(free_memory=False)


def summary_text(model: keras.Model) -> str:
    chunks: list[str] = []
    model.summary(print_fn=lambda text, **_: chunks.append(text))
    return "\n".join(chunks)


def output_shapes_of(layer: keras.layers.Layer) -> list[tuple]:
    output = layer.output
    outputs = output if isinstance(output, list | tuple) else [output]
    return [tuple(tensor.shape) for tensor in outputs]


def weight_count(weights: list) -> int:
    return int(sum(np.prod(weight.shape) for weight in weights))


def summary_count(text: str, label: str) -> int:
    found = re.search(rf"^ *{label} params: ([\d,]+)", text, re.MULTILINE)
    assert found is not None, text
    return int(found.group(1).replace(",", ""))


def assert_agrees_with_keras(model: keras.Model) -> ModelTable:
    """The table's rows and totals are the numbers model.summary() and Keras report."""
    table = explain(model)
    text = summary_text(model)
    assert table.total_params == summary_count(text, "Total") == model.count_params()
    assert table.trainable_params == summary_count(text, "Trainable")
    assert table.trainable_params == weight_count(model.trainable_weights)
    assert table.non_trainable_params == summary_count(text, "Non-trainable")
    assert table.non_trainable_params == weight_count(model.non_trainable_weights)
    built = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert [row.name for row in table.rows] == [layer.name for layer in built]
    for row, layer in zip(table.rows, built, strict=True):
        assert isinstance(row, LayerRow)
        assert row.class_name == type(layer).__name__
        assert row.params == layer.count_params()
        assert row.trainable_params == weight_count(layer.trainable_weights)
        assert row.non_trainable_params == weight_count(layer.non_trainable_weights)
        assert row.output_shapes == output_shapes_of(layer)
        arithmetic, _, result = row.formula.rpartition(" = ")
        assert int(result) == row.params
        assert eval(arithmetic.replace("×", "*"), {"__builtins__": {}}) == row.params
        summary_row = next(line for line in text.splitlines() if line.startswith(f"│ {row.name} "))
        assert f"│ {row.params:,} │".replace(" ", "") in summary_row.replace(" ", "")
    return table


class _TableReader(HTMLParser):
    """A table's caption and cells as a screen reader meets them: section, tag, scope, text."""

    def __init__(self) -> None:
        super().__init__()
        self.caption = ""
        self.rows: list[tuple[str, list[tuple[str, str | None, str]]]] = []
        self._section = ""
        self._cell: list | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr":
            self.rows.append((self._section, []))
        elif tag in ("th", "td"):
            self._cell = [tag, dict(attrs).get("scope"), ""]
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1][1].append(tuple(self._cell))
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[2] += data
        elif self._in_caption:
            self.caption += data


def read_aloud(page: str) -> dict:
    """The caption and each data cell under its (row header, column header), as HTML's
    header association (``scope``) gives them to a screen reader; fails on a cell that
    such a reader could not place: an empty or unscoped header, a data cell without a
    row or a column header, a row of another length."""
    reader = _TableReader()
    reader.feed(page)
    sections = [section for section, _ in reader.rows]
    assert sections[0] == "thead" and sections.count("thead") == 1, sections
    (_, head), *rows = reader.rows
    assert all(tag == "th" and scope == "col" and text for tag, scope, text in head), head
    columns = [text for _, _, text in head]
    cells: dict[tuple[str, str], str] = {}
    for section, row in rows:
        assert section in ("tbody", "tfoot") and len(row) == len(columns), row
        (tag, scope, row_header), *data = row
        assert (tag, scope) == ("th", "row") and row_header, row
        for (tag, scope, text), column in zip(data, columns[1:], strict=True):
            assert tag == "td" and scope is None, row
            if text:
                cells[(row_header, column)] = text
    return {
        "caption": reader.caption,
        "cells": cells,
        "footer": [row[0][2] for section, row in rows if section == "tfoot"],
    }


def assert_agrees_with_keras_counts(model: keras.Model) -> ModelTable:
    """Only the counts: rows without a formula cannot go through assert_agrees_with_keras."""
    table = explain(model)
    text = summary_text(model)
    assert table.total_params == summary_count(text, "Total")
    assert table.trainable_params == summary_count(text, "Trainable")
    assert table.non_trainable_params == summary_count(text, "Non-trainable")
    return table


def test_sequential_embedding_lstm_stack() -> None:
    """Does Embedding → LSTM(return_sequences) → LSTM → Dense match the summary row by row?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(20,)),
            layers.Embedding(1000, 16),
            layers.LSTM(32, return_sequences=True),
            layers.LSTM(16),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    table = assert_agrees_with_keras(model)
    assert [row.output_shapes[0] for row in table.rows] == [
        (None, 20, 16),
        (None, 20, 32),
        (None, 16),
        (None, 1),
    ]
    assert table.rows[0].formula == "1000 × 16 = 16000"
    assert table.rows[2].formula == "4 × (16 × (16 + 32) + 16) = 3136"


def test_functional_encoder_decoder_with_states() -> None:
    """With return_state and initial_state, are states listed and inputs read correctly?"""
    encoder_input = keras.Input(shape=(None, 4))
    _, h, c = layers.LSTM(6, return_state=True, name="encoder")(encoder_input)
    decoder_input = keras.Input(shape=(None, 3))
    decoded = layers.LSTM(6, return_sequences=True, name="decoder")(
        decoder_input, initial_state=[h, c]
    )
    states = layers.Concatenate(name="states")([h, c])
    model = keras.Model(
        [encoder_input, decoder_input],
        [layers.Dense(2, name="step")(decoded), layers.Dense(1, name="summary")(states)],
    )
    table = assert_agrees_with_keras(model)
    rows = {row.name: row for row in table.rows}
    assert rows["encoder"].output_shapes == [(None, 6), (None, 6), (None, 6)]
    # The decoder's own input is the sequence; the initial states do not change its weights.
    assert rows["decoder"].input_shape == (None, None, 3)
    assert rows["states"].input_shape == [(None, 6), (None, 6)]
    assert rows["states"].output_shapes == [(None, 12)]


def test_bidirectional_layers() -> None:
    """Do Bidirectional rows double the wrapped layer, for concat and sum merges?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 5)),
            layers.Bidirectional(layers.LSTM(8, return_sequences=True)),
            layers.Bidirectional(layers.GRU(4), merge_mode="sum"),
            layers.Dense(3),
        ]
    )
    table = assert_agrees_with_keras(model)
    assert table.rows[0].output_shapes == [(None, 12, 16)]
    assert table.rows[0].formula == "2 × (4 × (8 × (8 + 5) + 8)) = 896"
    assert table.rows[1].output_shapes == [(None, 4)]


def test_bidirectional_with_states_in_a_functional_model() -> None:
    """Are a Bidirectional LSTM's five outputs listed as output, forward and backward states?"""
    inputs = keras.Input(shape=(7, 3))
    outputs = layers.Bidirectional(layers.LSTM(5, return_state=True), name="both")(inputs)
    model = keras.Model(inputs, outputs[0])
    table = assert_agrees_with_keras(model)
    assert table.rows[0].output_shapes == [(None, 10)] + [(None, 5)] * 4


def test_time_distributed_and_gru() -> None:
    """Do TimeDistributed(Dense) and GRU (with and without reset_after) match the summary?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(None, 6)),
            layers.GRU(8, return_sequences=True),
            layers.GRU(4, return_sequences=True, reset_after=False),
            layers.Dropout(0.1),
            layers.TimeDistributed(layers.Dense(2)),
        ]
    )
    table = assert_agrees_with_keras(model)
    assert table.rows[0].formula == "3 × (8 × (8 + 6) + 2 × 8) = 384"
    assert table.rows[1].formula == "3 × (4 × (4 + 8) + 4) = 156"
    assert table.rows[3].output_shapes == [(None, None, 2)]
    assert table.rows[3].formula == "4 × 2 + 2 = 10"


def test_model_built_with_build() -> None:
    """Does a Sequential model built with model.build(...) explain like one built on an Input?"""
    model = keras.Sequential([layers.SimpleRNN(4), layers.Dense(1)])
    model.build((None, 9, 2))
    table = assert_agrees_with_keras(model)
    assert table.rows[0].formula == "4 × (4 + 2) + 4 = 28"


def test_layers_outside_the_course_keep_keras_numbers() -> None:
    """Does a layer without a rule still get Keras's shape and count, with no formula?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(10, 3)),
            layers.LSTM(4, return_sequences=True),
            layers.LayerNormalization(),
            layers.Dense(1),
        ]
    )
    table = explain(model)
    assert table.rows[1].formula == ""
    assert table.rows[1].params == model.layers[1].count_params() == 8
    assert table.total_params == model.count_params()


def test_unbuilt_model_is_refused() -> None:
    """Does an unbuilt model get a message saying how to build it?"""
    model = keras.Sequential([layers.LSTM(4)])
    with pytest.raises(ValueError, match="keras.Input"):
        explain(model)


def test_text_and_html_rendering() -> None:
    """Do the text and HTML tables show every layer, its shape, count, formula and total?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(10, 64)),
            layers.LSTM(32, return_state=True, name="lstm"),
        ],
        name="demo",
    )
    table = lstm_lib.explain(model)
    text = str(table)
    lines = text.splitlines()
    assert lines[0] == 'Model: "demo"'
    assert lines[1].split() == ["Layer", "Output", "shape", "Params", "Formula"]
    assert re.search(r"lstm \(LSTM\) +\[\(None, 32\), \(None, 32\), \(None, 32\)\] +12,416", text)
    assert [line.split() for line in lines[-3:]] == [
        ["Total", "12,416"],
        ["Trainable", "12,416"],
        ["Non-trainable", "0"],
    ]
    page = table._repr_html_()
    assert page.startswith("<table") and page.endswith("</table>")
    assert "4 × (32 × (32 + 64) + 32) = 12416" in page
    assert read_aloud(page)["cells"][("Total", "Params")] == "12,416"
    assert table.to_records()[0]["output_shapes"] == [(None, 32)] * 3


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen-embedding"])
@pytest.mark.parametrize("name", ["demo", ""], ids=["named", "unnamed"])
def test_html_table_is_read_with_its_headers(frozen: bool, name: str) -> None:
    """Does a screen reader meet a captioned table whose every number has its row header
    (the layer, or Total / Trainable / Non-trainable in the footer) and its column header,
    with no empty header cell?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Embedding(5, 2, trainable=not frozen, name="embedding"),
            layers.LSTM(4, name="lstm"),
        ],
        name="demo",
    )
    table = explain(model)
    table = ModelTable(table.rows, name=name)
    heard = read_aloud(table._repr_html_())
    assert heard["caption"] == table.caption
    assert ("demo" in heard["caption"]) == bool(name)
    assert "output shape and parameters" in heard["caption"]
    assert heard["footer"] == ["Total", "Trainable", "Non-trainable"]
    cells = heard["cells"]
    assert cells[("embedding (Embedding)", "Output shape")] == "(None, 6, 2)"
    assert cells[("lstm (LSTM)", "Params")] == "112"
    assert cells[("lstm (LSTM)", "Formula")] == "4 × (4 × (4 + 2) + 4) = 112"
    assert cells[("Total", "Params")] == f"{table.total_params:,}"
    assert cells[("Trainable", "Params")] == f"{table.trainable_params:,}"
    assert cells[("Non-trainable", "Params")] == f"{table.non_trainable_params:,}"
    assert (("embedding (Embedding)", "Trainable") in cells) == frozen


def test_html_table_keeps_shapes_counts_and_formulas_on_one_line() -> None:
    """On a narrow screen, does each shape, count and formula stay on one line (the table
    scrolls sideways instead), rather than break as "(None," over "16)"?"""
    table = ModelTable(
        [LayerRow("lstm", "LSTM", (None, 10, 64), [(None, 32)], 12416, "4 × 32 = 128")]
    )
    cells = re.findall(r"<t[hd][^>]*>[^<]*</t[hd]>", table._repr_html_())
    for cell in cells:
        text = re.sub(r"<[^>]*>", "", cell)
        first_column = text in ("Layer", "lstm (LSTM)", "Total", "Trainable", "Non-trainable")
        assert ("white-space: nowrap" in cell) != first_column, cell


def test_read_aloud_refuses_the_tables_a_screen_reader_cannot_place() -> None:
    """Does the check fail on the faults it looks for: footer labels as data, an empty
    header cell, a header without scope?"""
    good = "<table><thead><tr><th scope='col'>A</th><th scope='col'>B</th></tr></thead>"
    for bad_row in (
        "<tr><td>Total</td><td>3</td></tr>",
        "<tr><th scope='row'>Total</th><th scope='row'></th></tr>",
        "<tr><th>Total</th><td>3</td></tr>",
    ):
        with pytest.raises(AssertionError):
            read_aloud(f"{good}<tfoot>{bad_row}</tfoot></table>")
    assert read_aloud(f"{good}<tfoot><tr><th scope='row'>Total</th><td>3</td></tr></tfoot>")[
        "cells"
    ] == {("Total", "B"): "3"}


def test_frozen_pretrained_embedding() -> None:
    """Does a frozen Embedding move its weights to Non-trainable, as in model.summary()?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Embedding(5, 2, trainable=False),
            layers.LSTM(4),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    table = assert_agrees_with_keras(model)
    assert (table.total_params, table.trainable_params, table.non_trainable_params) == (
        127,
        117,
        10,
    )
    assert [(row.trainable_params, row.non_trainable_params) for row in table.rows] == [
        (0, 10),
        (112, 0),
        (5, 0),
    ]
    lines = str(table).splitlines()
    assert lines[1].split() == ["Layer", "Output", "shape", "Params", "Trainable", "Formula"]
    assert lines[3].split()[:7] == ["embedding", "(Embedding)", "(None,", "6,", "2)", "10", "0"]
    assert [line.split() for line in lines[-3:]] == [
        ["Total", "127"],
        ["Trainable", "117"],
        ["Non-trainable", "10"],
    ]
    assert table.to_records()[0]["trainable_params"] == 0
    assert read_aloud(table._repr_html_())["cells"][("embedding (Embedding)", "Trainable")] == "0"


def test_frozen_lstm_and_bidirectional() -> None:
    """Is an LSTM frozen after building, or inside a Bidirectional, counted as Keras counts it?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(7, 3)),
            layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
            layers.LSTM(5),
            layers.Dense(2),
        ]
    )
    model.layers[1].trainable = False
    table = assert_agrees_with_keras(model)
    assert table.rows[1].trainable_params == 0
    assert table.non_trainable_params == 4 * (5 * (5 + 8) + 5)
    # Freezing only the wrapped forward layer freezes half of the Bidirectional.
    model.layers[1].trainable = True
    model.layers[0].forward_layer.trainable = False
    table = assert_agrees_with_keras(model)
    assert table.rows[0].non_trainable_params == table.rows[0].params // 2


def test_unsupported_layer_with_non_trainable_weights() -> None:
    """Does a layer outside the rules keep Keras's split, e.g. BatchNormalization's averages?"""
    model = keras.Sequential(
        [keras.Input(shape=(10, 3)), layers.LSTM(4), layers.BatchNormalization()]
    )
    table = assert_agrees_with_keras_counts(model)
    assert table.rows[1].non_trainable_params == 8


def test_importing_explaining_does_not_import_tensorflow() -> None:
    """Can the module be imported without loading TensorFlow or Keras?"""
    code = (
        "import sys, lstm_lib.explaining\n"
        "print([name for name in ('tensorflow', 'keras') if name in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
