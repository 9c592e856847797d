"""Verdicts on model questions: a model written as a list of layer specifications.

:func:`compare_model` judges a learner's model, written as the JSON-able list of layer
dicts ``keras.layers.serialize`` would give (see :func:`~lstm_lib.verdicts.expect_layer_specs`),
against the recorded reference, without TensorFlow: :mod:`lstm_lib.shapes` builds it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from lstm_lib import shapes
from lstm_lib.verdicts import AnswerError, Verdict, _as_shape, _shape_mistakes, expect_layer_specs

__all__ = ["compare_model"]


def compare_model(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """Judge a model answer: it builds, has the required layers, the expected output shape
    ``(batch, ...)`` and parameter count.

    Parameters
    ----------
    answer : list of dict
        The learner's layer specifications, without the ``keras.Input``.
    expected : mapping
        The recorded ``output_shape`` and ``params``.
    context : mapping
        ``input_shape`` and, optionally, ``required_layers``.
    """
    try:
        expect_layer_specs(answer)
    except AnswerError as exc:
        return Verdict(False, str(exc))
    input_shape = tuple(context["input_shape"])
    try:
        rows = shapes.stack_shapes(answer, input_shape)
        if not rows:
            raise ValueError("it has no layer after its InputLayer.")
        output = _as_shape(rows[-1].output_shapes[0])
        params = sum(operator.index(row.params) for row in rows)
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict(False, f"This model does not build: {exc}")
    required = context.get("required_layers") or []
    classes = [row.class_name for row in rows]
    for class_name in required:
        if class_name not in classes:
            return Verdict(False, f"The specification asks for a {class_name} layer.")
    want_shape = _as_shape(expected["output_shape"])
    if output != want_shape:
        named = _shape_mistakes(output, want_shape, context)
        return Verdict(
            False, f"Your model outputs {output!r}, not {want_shape!r}. " + (named or "")
        )
    if "params" in expected and params != int(expected["params"]):
        return Verdict(
            False,
            f"Your model has {params} parameters; the specification asks "
            f"for exactly {int(expected['params'])}.",
        )
    return Verdict(True, f"Correct: outputs {output!r} with {params} parameters.")
