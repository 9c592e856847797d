"""Figures for the book, drawn from the tensors and numbers they are given.

Every function returns a :class:`matplotlib.figure.Figure` made with ``plt.subplots`` and
never calls ``plt.show()`` or changes matplotlib's global style. matplotlib is imported
inside the functions, so ``import lstm_lib.plots`` costs only NumPy; TensorFlow is never
imported here: pass the arrays a Keras layer produced, and this package draws them.

In a notebook cell, bind the result (``fig = plots.unrolled_rnn(3)``) or end the line with
``;``. The inline backend already shows every figure a cell made, so a figure that is also
the cell's value is shown twice.

Colours come from the Okabe-Ito palette, and every distinction a colour makes is also made
by a line style, a marker or a label, so the figures read in greyscale too.

The figures come in families, one module each; every public name is re-exported here, so
``plots.unrolled_rnn`` and ``from lstm_lib.plots import unrolled_rnn`` both work:

- ``recurrence``: ``unrolled_rnn`` (a layer unrolled over time, and the tensors it
  returns), ``unrolled_layer`` (the same, every size and flag read from a real Keras
  layer) and ``gate_activations`` (an LSTM's gates and states over time).
- ``parameters``: ``param_breakdown`` (parameter counts per layer or weight block) and
  ``lstm_weight_layout`` (an LSTM's ``W``, ``U`` and ``b`` in four blocks).
- ``embeddings``: ``embedding_lookup`` (token ids, the table rows they pick, the output)
  and ``embedding_scatter`` (embedding vectors in 2-D, labelled).
- ``training``: ``training_curve`` (metrics per epoch, with their ``val_`` twins) and
  ``race_curves`` (held-out accuracy per epoch of several layers, against chance).
- ``gradients``: ``gradient_by_distance`` (the size of a layer's input gradient against the
  distance from the last step, on a log scale; measured by ``lstm_lib.tasks``).
- ``diagrams``: drawn from a Keras layer's own weights and shapes, read duck-typed:
  ``lstm_cell_diagram`` and ``gru_cell_diagram`` (one timestep, each gate with its weight
  slices), ``bidirectional_diagram`` (where each returned tensor comes from),
  ``encoder_decoder_diagram`` (final states as ``initial_state``), ``layer_vs_cell_diagram``
  (a cell's one step, a layer's loop) and ``task_taxonomy_diagram`` (one-to-one,
  many-to-one, many-to-many by ``return_sequences``, and one-to-many by ``RepeatVector``).

- ``course``: ``assignment_sizes`` (each assignment's graded questions and points).

``_style`` holds what they share: the palette, colormaps, figure size, fonts, the lazy
matplotlib import and the small argument checks.
"""

from __future__ import annotations

from lstm_lib.plots.course import assignment_sizes
from lstm_lib.plots.diagrams import (
    bidirectional_diagram,
    encoder_decoder_diagram,
    gru_cell_diagram,
    layer_vs_cell_diagram,
    lstm_cell_diagram,
    task_taxonomy_diagram,
)
from lstm_lib.plots.embeddings import embedding_lookup, embedding_scatter
from lstm_lib.plots.gradients import gradient_by_distance
from lstm_lib.plots.parameters import lstm_weight_layout, param_breakdown
from lstm_lib.plots.recurrence import gate_activations, unrolled_layer, unrolled_rnn
from lstm_lib.plots.training import race_curves, training_curve

__all__ = [
    "assignment_sizes",
    "bidirectional_diagram",
    "embedding_lookup",
    "embedding_scatter",
    "encoder_decoder_diagram",
    "gate_activations",
    "gradient_by_distance",
    "gru_cell_diagram",
    "layer_vs_cell_diagram",
    "lstm_cell_diagram",
    "lstm_weight_layout",
    "param_breakdown",
    "race_curves",
    "task_taxonomy_diagram",
    "training_curve",
    "unrolled_layer",
    "unrolled_rnn",
]
