"""Find a design question's reference by trying candidate layers in Keras.

A design question ("give the layers that meet this specification") is checked against a
reference its check cell builds with Keras. The check cell is copied unchanged into the
student version, so it must not write that reference down: it would be the answer. Instead it
hands :func:`find_design` the candidates the question leaves open (sizes, flags, merge modes)
and keeps the first one Keras builds to the specification, as a learner could by trying
candidates in Keras.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["build_model", "find_design"]


def find_design(
    candidates: Iterable[Sequence[Mapping[str, Any]]],
    input_shape: Sequence[int | None],
    *,
    output_shapes: Sequence[Sequence[int | None]] | None = None,
    params: int | None = None,
) -> tuple[list[dict[str, Any]], Any]:
    """The first candidate stack of layers that Keras builds to the specification.

    Parameters
    ----------
    candidates : iterable of sequences of layer dicts
        Each candidate is a stack of layers in order, each ``{"class_name": ..., "config":
        {...}}`` as a learner writes it (a wrapper's ``"layer"`` is a layer dict too). They are
        tried in order, lazily: a generator builds no more candidates than it must.
    input_shape : sequence of int or None
        The input shape with its batch axis, e.g. ``(None, 10, 6)``.
    output_shapes : sequence of shapes, optional
        The shapes of the tensors the model must return, in order (one shape per tensor:
        ``[(None, 4)]`` for a single output). Not checked when omitted.
    params : int, optional
        The exact parameter count. Not checked when omitted.

    Returns
    -------
    tuple
        ``(specs, model)``: a copy of the fitting candidate and the ``keras.Sequential``
        (input first) built from it.

    Raises
    ------
    LookupError
        If no candidate builds to the specification: the candidates do not cover the answer.

    Examples
    --------
    >>> specs, model = find_design(
    ...     ([{"class_name": "Dense", "config": {"units": n}}] for n in range(1, 9)),
    ...     (None, 3), output_shapes=[(None, 2)])
    >>> specs
    [{'class_name': 'Dense', 'config': {'units': 2}}]
    """

    wanted = None if output_shapes is None else [tuple(shape) for shape in output_shapes]
    tried = 0
    for candidate in candidates:
        tried += 1
        specs = copy.deepcopy([dict(spec) for spec in candidate])
        try:
            model = build_model(specs, input_shape)
        except (TypeError, ValueError):  # Keras refuses this combination: not the answer
            continue
        shapes = [tuple(tensor.shape) for tensor in model.outputs]
        if wanted is not None and shapes != wanted:
            continue
        if params is not None and model.count_params() != params:
            continue
        return specs, model
    raise LookupError(f"none of the {tried} candidates builds to the specification")


def build_model(specs: Sequence[Mapping[str, Any]], input_shape: Sequence[int | None]) -> Any:
    """The ``keras.Sequential`` that a stack of layer dicts describes, on the given input.

    Parameters
    ----------
    specs : sequence of layer dicts
        Each ``{"class_name": ..., "config": {...}}`` as a learner writes it, in order; a
        wrapper's ``"layer"`` (``TimeDistributed``, ``Bidirectional``) is a layer dict too.
    input_shape : sequence of int or None
        The input shape with its batch axis, e.g. ``(None, 10, 6)``.

    Returns
    -------
    keras.Sequential
        The model, input first.

    Raises
    ------
    Exception
        Whatever Keras raises for a layer it refuses (a ``TypeError`` for an unknown
        keyword, a ``ValueError`` for an input it cannot take), and ``AttributeError`` for
        a class ``keras.layers`` does not have.

    Examples
    --------
    >>> model = build_model([{"class_name": "TimeDistributed",
    ...     "config": {"layer": {"class_name": "Dense", "config": {"units": 4}}}}], (None, 10, 6))
    >>> tuple(model.outputs[0].shape)
    (None, 10, 4)
    """
    import keras

    return keras.Sequential(
        [keras.Input(shape=tuple(input_shape)[1:])] + [_layer(spec) for spec in specs]
    )


def _layer(spec: Mapping[str, Any]) -> Any:
    """The Keras layer a layer dict describes (a wrapper's layer dict built first)."""
    import keras

    config = dict(spec.get("config", {}))
    if isinstance(config.get("layer"), Mapping):
        config["layer"] = _layer(config["layer"])
    return getattr(keras.layers, spec["class_name"])(**config)
