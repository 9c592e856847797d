"""Tabulate a built Keras model layer by layer: output shapes, parameters and their formula.

Unlike :mod:`lstm_lib.shapes`, this module talks to a built Keras model: it reads each
layer's input shape from the model's graph and lets :mod:`lstm_lib.shapes` work out the
output shapes, parameter counts and formulas the course teaches, so the table shows
*why* ``model.summary()`` prints the numbers it does. It never imports TensorFlow or Keras
itself; the model passed in brings them along.

Taught in ``book/02-dense.md``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lstm_lib import shapes
from lstm_lib.shapes import InputShape, LayerRow, Shape

__all__ = ["ModelTable", "explain"]

_HEADERS = ("Layer", "Output shape", "Params", "Formula")
_TRAINABLE_HEADERS = ("Layer", "Output shape", "Params", "Trainable", "Formula")
_Cells = tuple[str, ...]


@dataclass(frozen=True)
class ModelTable:
    """A model's layers as a table, printable as text and as HTML in Jupyter.

    Below the rows come the totals ``model.summary()`` prints: every weight, the trainable
    ones and the non-trainable (frozen) ones. When some layer is frozen, a ``Trainable``
    column shows each row's trainable count, so the frozen rows stand out. In HTML the
    table is captioned, and every count is headed by its column and by its row's layer (or
    total), so a screen reader reads "Total, Params, 12,449" rather than a bare number.

    Parameters
    ----------
    rows : list of LayerRow
        One row per layer, as :func:`explain` or :func:`lstm_lib.shapes.stack_shapes`
        returns them.
    name : str, optional
        The model's name, printed above the table.

    Examples
    --------
    >>> from lstm_lib.shapes import stack_shapes
    >>> table = ModelTable(stack_shapes([
    ...     {"class_name": "LSTM", "config": {"units": 32}},
    ...     {"class_name": "Dense", "config": {"units": 1}},
    ... ], (None, 10, 64)))
    >>> table.total_params
    12449
    >>> print(table)
    Layer          Output shape  Params  Formula
    -------------  ------------  ------  ---------------------------------
    lstm (LSTM)    (None, 32)    12,416  4 × (32 × (32 + 64) + 32) = 12416
    dense (Dense)  (None, 1)         33  32 × 1 + 1 = 33
    -------------  ------------  ------  ---------------------------------
    Total                        12,449
    Trainable                    12,449
    Non-trainable                     0
    >>> table.to_records()[1]["formula"]
    '32 × 1 + 1 = 33'

    A frozen, pretrained Embedding keeps its weights in the total but not in training:

    >>> frozen = ModelTable(stack_shapes([
    ...     {"class_name": "Embedding",
    ...      "config": {"input_dim": 5, "output_dim": 2, "trainable": False}},
    ...     {"class_name": "LSTM", "config": {"units": 4}},
    ... ], (None, 6)))
    >>> print(frozen)
    Layer                  Output shape  Params  Trainable  Formula
    ---------------------  ------------  ------  ---------  ---------------------------
    embedding (Embedding)  (None, 6, 2)      10          0  5 × 2 = 10
    lstm (LSTM)            (None, 4)        112        112  4 × (4 × (4 + 2) + 4) = 112
    ---------------------  ------------  ------  ---------  ---------------------------
    Total                                   122
    Trainable                               112
    Non-trainable                            10

    Taught in ``book/02-dense.md``; frozen layers in ``book/06-embedding.md``.
    """

    rows: list[LayerRow]
    name: str = ""

    @property
    def total_params(self) -> int:
        """The sum of the rows' parameter counts, as ``Total params`` in ``model.summary()``.

        Returns
        -------
        int
            The total number of weights.

        Examples
        --------
        >>> ModelTable([]).total_params
        0
        """
        return sum(row.params for row in self.rows)

    @property
    def trainable_params(self) -> int:
        """The weights training updates, as ``Trainable params`` in ``model.summary()``.

        Returns
        -------
        int
            The sum of the rows' trainable counts.

        Examples
        --------
        >>> from lstm_lib.shapes import stack_shapes
        >>> rows = stack_shapes([{"class_name": "Dense", "config": {"units": 2}}], (None, 3))
        >>> ModelTable(rows).trainable_params
        8
        """
        return sum(row.trainable_params for row in self.rows)

    @property
    def non_trainable_params(self) -> int:
        """The frozen weights, as ``Non-trainable params`` in ``model.summary()``.

        Returns
        -------
        int
            The sum of the rows' non-trainable counts.

        Examples
        --------
        >>> from lstm_lib.shapes import stack_shapes
        >>> rows = stack_shapes(
        ...     [{"class_name": "Dense", "config": {"units": 2, "trainable": False}}], (None, 3)
        ... )
        >>> ModelTable(rows).non_trainable_params
        8
        """
        return sum(row.non_trainable_params for row in self.rows)

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts, e.g. for ``pandas.DataFrame`` or JSON.

        Returns
        -------
        list of dict
            Keys ``name``, ``class_name``, ``input_shape``, ``output_shapes``, ``params``,
            ``formula``, ``non_trainable_params`` and ``trainable_params``.

        Examples
        --------
        >>> from lstm_lib.shapes import stack_shapes
        >>> rows = stack_shapes([{"class_name": "Dense", "config": {"units": 2}}], (None, 3))
        >>> record = ModelTable(rows).to_records()[0]
        >>> record["params"], record["trainable_params"], record["non_trainable_params"]
        (8, 8, 0)
        """
        return [{**asdict(row), "trainable_params": row.trainable_params} for row in self.rows]

    def _layout(self) -> tuple[_Cells, list[_Cells], list[_Cells], set[int]]:
        """Headers, body rows, total rows and the right-aligned columns, as text cells."""
        with_trainable = self.non_trainable_params > 0
        headers = _TRAINABLE_HEADERS if with_trainable else _HEADERS
        body = [_cells(row, with_trainable) for row in self.rows]
        blank = ("",) if with_trainable else ()
        totals = [
            (label, "", f"{count:,}", *blank, "")
            for label, count in (
                ("Total", self.total_params),
                ("Trainable", self.trainable_params),
                ("Non-trainable", self.non_trainable_params),
            )
        ]
        right = {2, 3} if with_trainable else {2}
        return headers, body, totals, right

    def __str__(self) -> str:
        headers, body, totals, right = self._layout()
        columns = range(len(headers))
        widths = [max(len(line[i]) for line in [headers, *body, *totals]) for i in columns]

        def line(cells: Sequence[str]) -> str:
            padded = [
                cell.rjust(width) if column in right else cell.ljust(width)
                for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(padded).rstrip()

        rule_line = line(["-" * width for width in widths])
        lines = [line(headers), rule_line, *map(line, body), rule_line, *map(line, totals)]
        if self.name:
            lines.insert(0, f'Model: "{self.name}"')
        return "\n".join(lines)

    @property
    def caption(self) -> str:
        """What the table shows, as its HTML caption names it for every reader.

        Returns
        -------
        str
            The model's name and what each row tells.

        Examples
        --------
        >>> print(ModelTable([], name="sequential").caption)
        Model "sequential": each layer's output shape and parameters
        >>> print(ModelTable([]).caption)
        Each layer's output shape and parameters
        """
        shown = "each layer's output shape and parameters"
        if not self.name:
            return shown[0].upper() + shown[1:]
        return f'Model "{self.name}": {shown}'

    def _repr_html_(self) -> str:
        headers, body, totals, right = self._layout()
        # inline styles, because a notebook or a book page has no stylesheet for this table
        padded = "padding: 0.15em 0.75em"

        def cell(tag: str, text: str, column: int, scope: str = "", weight: str = "") -> str:
            align = "right" if column in right else "left"
            scoped = f' scope="{scope}"' if scope else ""
            # A shape, count or formula broken over lines ("(None," above "16)") misreads on
            # a narrow screen: they stay whole, and the table scrolls sideways in its box.
            whole = "; white-space: nowrap" if column > 0 else ""
            style = f"{padded}; text-align: {align}{whole}{weight}"
            return f'<{tag}{scoped} style="{style}">{html.escape(text)}</{tag}>'

        def row_html(cells: Sequence[str], weight: str) -> str:
            # The first cell heads its row, so a screen reader reads a count with both its
            # headers ("Total, Params, 12,449"); the others are data cells, the empty ones
            # too: an empty header cell would name nothing.
            head, *data = cells
            parts = [cell("th", head, 0, "row", weight)]
            parts += [cell("td", text, column) for column, text in enumerate(data, start=1)]
            return "<tr>" + "".join(parts) + "</tr>"

        columns = "".join(cell("th", text, column, "col") for column, text in enumerate(headers))
        # A layer's name keeps the weight of the text; the totals' labels stand out in bold.
        rows = "".join(row_html(cells, "; font-weight: normal") for cells in body)
        foot = "".join(row_html(cells, "") for cells in totals)
        return (
            f'<table class="lstm-lib-model-table"><caption>{html.escape(self.caption)}</caption>'
            f"<thead><tr>{columns}</tr></thead>"
            f"<tbody>{rows}</tbody><tfoot>{foot}</tfoot></table>"
        )


def explain(model: Any) -> ModelTable:
    """Tabulate a built Sequential or functional Keras model, with each layer's formula.

    Each layer's input shape is read from the built model; the output shapes, parameter
    counts (trainable and frozen) and formulas come from :mod:`lstm_lib.shapes`, and match
    ``model.summary()`` and ``layer.count_params()``. ``InputLayer`` rows are left out, as
    in ``model.summary()``. Layers the course does not cover keep Keras's own numbers and
    an empty formula.

    Parameters
    ----------
    model : keras.Model
        A built ``keras.Sequential`` or functional model, e.g. one that starts with
        ``keras.Input(shape=(timesteps, features))``.

    Returns
    -------
    ModelTable
        Print it for a text table; in Jupyter it shows as an HTML table.

    Raises
    ------
    ValueError
        If the model is not built yet.

    Examples
    --------
    >>> import keras
    >>> model = keras.Sequential([
    ...     keras.Input(shape=(10, 64)),
    ...     keras.layers.LSTM(32, name="lstm"),
    ...     keras.layers.Dense(1, name="dense"),
    ... ])
    >>> table = explain(model)
    >>> table.total_params == model.count_params()
    True
    >>> [(row.name, row.output_shapes, row.params) for row in table.rows]
    [('lstm', [(None, 32)], 12416), ('dense', [(None, 1)], 33)]
    >>> model.layers[0].trainable = False  # freeze the LSTM
    >>> frozen = explain(model)
    >>> frozen.trainable_params, frozen.non_trainable_params
    (33, 12416)

    Taught in ``book/02-dense.md``.
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(
            f"explain() takes a Sequential or functional Keras model; got {type(model).__name__}."
        )
    if not getattr(model, "built", False):
        raise ValueError(
            "explain() needs a built model. Start it with keras.Input(shape=(timesteps, "
            "features)), or call model.build((None, timesteps, features)) first."
        )
    rows = [_row(layer) for layer in layers if type(layer).__name__ != "InputLayer"]
    return ModelTable(rows, name=str(getattr(model, "name", "")))


def _row(layer: Any) -> LayerRow:
    input_shape = _input_shape(layer)
    class_name = type(layer).__name__
    try:
        outputs = shapes.output_shapes(layer, input_shape)
        params = shapes.count_params(layer, input_shape)
        formula = shapes.param_formula(layer, input_shape)
        frozen = shapes.count_params(layer, input_shape, trainable=False)
    except shapes.UnsupportedLayerError:
        outputs, params, formula = _keras_output_shapes(layer), int(layer.count_params()), ""
        # Some layers hold weights that are never trained (BatchNormalization's averages).
        frozen = sum(math.prod(weight.shape) for weight in layer.non_trainable_weights)
    return LayerRow(layer.name, class_name, input_shape, outputs, params, formula, frozen)


def _input_shape(layer: Any) -> InputShape:
    # The first positional argument of the layer's first call is its input proper;
    # keyword inputs such as an RNN's initial_state do not change its shape rule.
    # Keras keeps the call in a private Node, so fall back to the public ``layer.input``.
    nodes = getattr(layer, "_inbound_nodes", None) or []
    args = getattr(getattr(nodes[0], "arguments", None), "args", None) if nodes else None
    try:
        source = args[0] if args else layer.input
        if isinstance(source, list | tuple):
            return [_shape_of(tensor) for tensor in source]
        return _shape_of(source)
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"explain() could not find the input of layer {layer.name!r}; it reads "
            "Sequential and functional models whose layers have been called on keras.Input."
        ) from err


def _shape_of(tensor: Any) -> Shape:
    return tuple(tensor.shape)


def _keras_output_shapes(layer: Any) -> list[Shape]:
    output = layer.output
    if isinstance(output, list | tuple):
        return [_shape_of(tensor) for tensor in output]
    return [_shape_of(output)]


def _cells(row: LayerRow, with_trainable: bool = False) -> _Cells:
    if len(row.output_shapes) == 1:
        shown = str(row.output_shapes[0])
    else:
        shown = "[" + ", ".join(str(shape) for shape in row.output_shapes) + "]"
    # "0 = 0" on every Dropout or Flatten row is noise; a blank says "no weights" as well.
    formula = "" if row.params == 0 else row.formula
    trainable = (f"{row.trainable_params:,}",) if with_trainable else ()
    return f"{row.name} ({row.class_name})", shown, f"{row.params:,}", *trainable, formula
