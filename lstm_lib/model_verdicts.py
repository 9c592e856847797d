"""Verdicts on model questions: a model written as a list of layer specifications.

:func:`compare_model` judges a learner's model, written as the JSON-able list of layer
dicts ``keras.layers.serialize`` would give (see :func:`~lstm_lib.judging.expect_layer_specs`),
against the recorded reference, without TensorFlow: :mod:`lstm_lib.shapes` builds it.

A reference records what the question asks beyond shape and count: the layers in order and,
per layer, the config values that matter (activations, return flags, sizes, ...). The check
cell makes it with :func:`model_reference` from the real Keras model, so nothing is typed
twice; the learner's config is read with Keras 3's defaults (:data:`KERAS_DEFAULTS`) for what
it leaves out.

:func:`layer_shapes_problem` tells an inverse question's one-layer answer why it returns
other shapes than asked, from that layer's own options (units, return_sequences, merge_mode).
"""

from __future__ import annotations

import copy
import difflib
import math
import operator
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from lstm_lib import shapes
from lstm_lib.judging import (
    AnswerError,
    Verdict,
    _as_shape,
    _ignored_input_note,
    expect_layer_specs,
    sentence_start,
    with_article,
)
from lstm_lib.mistakes import _bias_vectors, facts, shape_mistake
from lstm_lib.prose import spoken_list

__all__ = [
    "DEFAULT_JUDGED",
    "KERAS_DEFAULTS",
    "compare_model",
    "layer_shapes_problem",
    "model_reference",
]

_RECURRENT_DEFAULTS: dict[str, Any] = {
    "activation": "tanh",
    "use_bias": True,
    "return_sequences": False,
    "return_state": False,
    "go_backwards": False,
    "stateful": False,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "trainable": True,
}

#: Keras 3's default for each option a model question may judge, per layer class: what a
#: learner's config means when it leaves the option out. Options without a default (units,
#: input_dim, output_dim, Dropout's rate, ...) are required. tests/test_model_verdicts.py
#: checks every entry against the installed Keras (recorded from Keras 3.15.1).
KERAS_DEFAULTS: dict[str, dict[str, Any]] = {
    "Dense": {"activation": "linear", "use_bias": True, "trainable": True},
    "SimpleRNN": _RECURRENT_DEFAULTS,
    "LSTM": {**_RECURRENT_DEFAULTS, "recurrent_activation": "sigmoid", "unit_forget_bias": True},
    "GRU": {**_RECURRENT_DEFAULTS, "recurrent_activation": "sigmoid", "reset_after": True},
    "Embedding": {"mask_zero": False, "trainable": True},
    "Dropout": {"noise_shape": None},
    "Activation": {},
    "Bidirectional": {"merge_mode": "concat"},
    "TimeDistributed": {},
    "Flatten": {},
    "Reshape": {},
    "RepeatVector": {},
    "Concatenate": {"axis": -1},
}

_GLOROT_UNIFORM = ("GlorotUniform", {"input_axes": None, "output_axes": None})
_ORTHOGONAL = ("Orthogonal", {"gain": 1.0})
_ZEROS = ("Zeros", {})
_RECURRENT_INITIALIZERS = {
    "kernel_initializer": _GLOROT_UNIFORM,
    "recurrent_initializer": _ORTHOGONAL,
    "bias_initializer": _ZEROS,
}

#: Keras 3's default initializer of each weight, per layer class: the class Keras makes and
#: the config that class then has. How a model is initialised, regularized and constrained,
#: and its dtype, are not judged as the question's options are (:data:`DEFAULT_JUDGED`); but
#: every model question keeps them at Keras's defaults (its prompt asks for "the options
#: that differ from the defaults", "every other option as it is" or a repair that behaves
#: as the old model did), so a value set otherwise is a change the model does not have.
#: tests/test_model_verdicts.py checks every entry against the installed Keras.
DEFAULT_INITIALIZERS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "Dense": {"kernel_initializer": _GLOROT_UNIFORM, "bias_initializer": _ZEROS},
    "SimpleRNN": _RECURRENT_INITIALIZERS,
    "LSTM": _RECURRENT_INITIALIZERS,
    "GRU": _RECURRENT_INITIALIZERS,
    "Embedding": {"embeddings_initializer": ("RandomUniform", {"minval": -0.05, "maxval": 0.05})},
}

_RECURRENT_JUDGED = ("units", *_RECURRENT_DEFAULTS)

#: The options judged by default, per layer class, when the check cell does not choose:
#: everything that changes what the layer computes or hands on, not how it is initialised.
DEFAULT_JUDGED: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation", "use_bias", "trainable"),
    "SimpleRNN": _RECURRENT_JUDGED,
    "LSTM": (*_RECURRENT_JUDGED, "recurrent_activation", "unit_forget_bias"),
    "GRU": (*_RECURRENT_JUDGED, "recurrent_activation", "reset_after"),
    "Embedding": ("input_dim", "output_dim", "mask_zero", "trainable"),
    "Dropout": ("rate", "noise_shape"),
    "Activation": ("activation",),
    "Bidirectional": ("merge_mode", "layer"),
    "TimeDistributed": ("layer",),
    "Flatten": (),
    "Reshape": ("target_shape",),
    "RepeatVector": ("n",),
    "Concatenate": ("axis",),
}

_WRAPPERS = ("Bidirectional", "TimeDistributed")
# Keras 3 accepts these in a layer's **kwargs and then ignores them (input_shape and
# input_dim count on the first layer of a Sequential without an Input only, and a model
# question gives the Input), so a model that keeps them builds but is not what its author
# meant. Read from lstm_lib.shapes, which already accepts them for the same reason.
_IGNORED = shapes._DROPPED_ARGUMENTS
# Keras 3 uses these but leaves them out of the layer's config: a note, never a mistake.
_UNSAVED = shapes._UNSAVED_ARGUMENTS
_UNSAVED_NOTE = (
    "{key} changes how Keras computes each step, not what it computes, and the layer's "
    "config does not keep it: it may be left out."
)
_INPUT_ARGUMENTS = shapes._ANY_LAYER_LEGACY
# Keras 1 and 2 names that lstm_lib.shapes refuses without naming their Keras 3 successor,
# for the layers the course does not build (convolutions); the build message gains the name.
_OTHER_OLD_NAMES = {
    "border_mode": "padding",
    "nb_filter": "filters",
    "filter_length": "kernel_size",
    "subsample_length": "strides",
    "subsample": "strides",
    "nb_epoch": "epochs (an argument of fit, not of a layer)",
}
_MISSING = object()


def model_reference(
    model: Any,
    judged: Mapping[str, Sequence[str]] | None = None,
    free: Mapping[int, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """What a model question asks, read from the Keras model its check cell builds.

    Parameters
    ----------
    model : keras.Model
        A built ``keras.Sequential`` (read duck-typed: ``layers``, ``outputs``,
        ``count_params()``); its ``keras.Input`` is not one of its layers.
    judged : mapping of str to sequence of str, optional
        For a layer class, the config keys to judge, replacing that class's entry of
        :data:`DEFAULT_JUDGED`. ``"layer"`` judges a wrapper's layer with its own class's keys.
    free : mapping of int to sequence of str, optional
        ``{index: keys}``: options of ``model.layers[index]`` (0-based) that are the
        learner's to choose, e.g. ``{2: ["units"]}`` when the parameter count fixes them.

    Returns
    -------
    dict
        Plain data for ``references/*.json``: ``output_shape`` (a tuple with ``None`` for the
        batch axis), ``params`` (int) and ``layers``, one ``{"class_name", "config"}`` per
        layer with Keras's effective value of each judged key (``"linear"`` for a Dense
        without activation), and ``"free": [keys]`` on a layer with free options.

    Examples
    --------
    >>> class Layer:
    ...     def __init__(self, **config): self.config = config
    ...     def get_config(self): return dict(self.config)
    >>> class Dense(Layer): pass
    >>> class Model:
    ...     layers = [Dense(units=1, activation="linear", use_bias=True, name="dense")]
    ...     outputs = [type("T", (), {"shape": (None, 1)})()]
    ...     def count_params(self): return 5
    >>> model_reference(Model(), judged={"Dense": ["units", "activation"]})
    {'output_shape': (None, 1), 'params': 5, 'layers': [{'class_name': 'Dense', 'config': {'units': 1, 'activation': 'linear'}}]}
    """  # noqa: E501
    judged = {**DEFAULT_JUDGED, **{k: tuple(v) for k, v in (judged or {}).items()}}
    free = free or {}
    layers = []
    for index, layer in enumerate(model.layers):
        entry = _reference_entry(shapes.layer_spec(layer), judged)
        keys = [str(key) for key in free.get(index, ())]
        if keys:
            entry["config"] = {k: v for k, v in entry["config"].items() if k not in keys}
            entry["free"] = keys
        layers.append(entry)
    return {
        "output_shape": tuple(None if dim is None else int(dim) for dim in model.outputs[0].shape),
        "params": int(model.count_params()),
        "layers": layers,
    }


def _reference_entry(spec: Mapping[str, Any], judged: Mapping[str, Sequence[str]]) -> dict:
    class_name = spec["class_name"]
    config = spec["config"]
    kept: dict[str, Any] = {}
    for key in judged.get(class_name, ()):
        if key == "layer" and class_name in _WRAPPERS:
            kept[key] = _reference_entry(config["layer"], judged)
        elif key in config:
            kept[key] = _plain_value(key, config[key])
    return {"class_name": class_name, "config": kept}


def _plain_value(key: str, value: Any) -> Any:
    # Keras writes no activation as "linear" (and Dense(activation=None) means just that),
    # and an activation given as a serialized function or an alias as the name it stores
    if key in ("activation", "recurrent_activation"):
        return shapes._activation_name(value)
    if isinstance(value, tuple):
        return list(value)
    # A flag written 1 or 0 builds the layer True or False does, and the layer questions
    # (verdicts.compare_layer_shapes) judge it by what Keras builds: so do these. A count
    # written True stays refused (_same), as the int questions refuse it.
    if key in shapes._FLAGS and type(value) is int and value in (0, 1):
        return bool(value)
    # None too: Keras tests a flag for truth, so None builds the layer False does (and the
    # layer questions take it so)
    if key in shapes._FLAGS and value is None:
        return False
    return value


# --------------------------------------------------------------------------- the verdict


def compare_model(answer: Any, expected: Any, context: Mapping[str, Any]) -> Verdict:
    """Judge a model answer: it builds, and has what the question asks.

    In order: the form of the answer; that it builds (a Keras 1 or 2 name or a typo such as
    ``activaton`` is refused there, with the Keras 3 name); arguments Keras 3 accepts but
    ignores (Embedding's ``input_length``, ``implementation``; a layer's ``input_shape`` or
    ``input_dim``, which the given input overrides, only a note outside a repair); then,
    when the reference lists its ``layers``, the layer sequence (missing, extra or
    reordered layers) and every judged config value, the learner's left-out options read
    as Keras 3's defaults; last the output shape and the parameter count. Every mistake
    found is named, in that order.

    A ``TimeDistributed`` Dense counts as the Dense it wraps: on a sequence, Keras 3's Dense
    already works on each timestep, with the same weights.

    Parameters
    ----------
    answer : list of dict
        The learner's layer specifications, without the ``keras.Input``.
    expected : mapping
        The recorded ``output_shape`` and ``params`` and, from :func:`model_reference`,
        ``layers``.
    context : mapping
        ``input_shape``; optionally ``required_layers`` (judged only for a reference without
        ``layers``) and ``repair`` (true when the reference is an old model being rewritten,
        so a changed option is told as behaviour the repair must keep).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> expected = {"output_shape": [None, 1], "params": 5,
    ...             "layers": [{"class_name": "Dense",
    ...                         "config": {"units": 1, "activation": "sigmoid"}}]}
    >>> context = {"input_shape": [None, 4]}
    >>> result = compare_model([{"class_name": "Dense", "config": {"units": 1}}], expected,
    ...                        context)
    >>> result.correct, result.message.split(":")[0]
    (False, 'Layer 1 (Dense) has no activation, so it outputs a logit, not a probability')
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
    except shapes.UnsupportedLayerError as exc:
        return Verdict(False, _unused_layer(answer, expected.get("layers"), exc))
    except shapes.FlagNotBoolError as exc:
        # Keras builds it, as another model than the one written: judge what was meant
        return Verdict(False, f"This model is not judged as written: {exc}")
    except (ValueError, TypeError, KeyError) as exc:
        missing = _missing_embedding(answer, expected.get("layers"), input_shape, str(exc))
        if missing:
            return Verdict(False, f"This model does not build: {missing}")
        # the flag confused with return_sequences first: the build error names only its effect
        return Verdict(
            False,
            f"{_state_hint(answer)}This model does not build: {exc}{_old_names_hint(answer)}"
            f"{_units_note(answer, expected.get('layers'))}"
            f"{_layers_note(answer, expected.get('layers'))}",
        )
    problems, notes = _ignored_arguments(answer, input_shape, bool(context.get("repair")))
    problems += _text_input_problem(answer)
    layers = expected.get("layers")
    classes = [row.class_name for row in rows]
    wrapped = [
        _core(spec["class_name"], spec.get("config") or {})[0]
        for spec in answer
        if spec["class_name"] in _WRAPPERS
    ]
    required = context.get("required_layers") or []
    if "Dense" in required and "Dense" not in classes and "Dense" in wrapped:
        # the question asks for Dense itself: the wrapper shows Dense thought unable to
        # take a sequence, though it computes the same
        problems.append(
            "TimeDistributed is not needed: Keras 3's Dense already acts on every "
            "timestep, with the same weights, and keeps the time axis. The "
            "specification asks for a plain Dense layer."
        )
    if layers is None:
        # A reference recorded before layers were judged: the classes it requires only.
        problems += [
            f"The specification asks for {with_article(class_name)} layer."
            for class_name in required
            if class_name not in classes and not (class_name == "Dense" and "Dense" in wrapped)
        ]
        if problems:
            return Verdict(False, " ".join(problems))
    else:
        mine = [shapes.layer_spec(spec) for spec in answer if spec["class_name"] != "InputLayer"]
        order = _sequence_problem(mine, layers)
        if order:
            problems.append(order)
        else:
            for position, (spec, entry, row) in enumerate(
                zip(mine, layers, rows, strict=True), start=1
            ):
                written = _written_config(answer, position, row.input_shape)
                problems += _config_problems(f"Layer {position}", spec, written, entry, context)
    # with the options named above set as the prompt asks: which count would that give?
    fixed = _as_prompt_asks(answer, layers, input_shape) if problems and layers else None
    want_shape = _as_shape(expected["output_shape"])
    returned = rows[-1].output_shapes
    if len(returned) > 1:
        listed = ", ".join(repr(_as_shape(shape)) for shape in returned)
        problems.append(
            f"Your model returns {len(returned)} tensors, {listed}: its last layer returns "
            f"{shapes._why_several(shapes.layer_spec(answer[-1]))}. The model's output is one "
            f"tensor, {want_shape!r}."
        )
    elif output != want_shape:
        problems.append(
            _output_problem(
                answer, rows, layers, input_shape, output, want_shape, expected, problems
            )
        )
    elif "params" in expected and params != int(expected["params"]):
        written = [spec for spec in answer if spec["class_name"] != "InputLayer"]
        problems.append(
            _params_problem(params, int(expected["params"]), layers, rows, written, fixed)
        )
    if problems:
        return Verdict(False, " ".join(problem.strip() for problem in problems))
    return Verdict(
        True, " ".join([f"Correct: outputs {output!r} with {params} parameters.", *notes])
    )


def _output_problem(
    answer: list[dict[str, Any]],
    rows: Sequence[Any],
    layers: Sequence[Mapping[str, Any]] | None,
    input_shape: tuple,
    output: tuple,
    want_shape: tuple,
    expected: Mapping[str, Any],
    told: Sequence[str] = (),
) -> str:
    """A wrong output shape, told by the learner's own last layer.

    ``told`` holds what the verdict already says of the layers: where it names a layer's
    return_sequences, the shape's own return_sequences hint would say it a second time
    ("Layer 3 (LSTM) has return_sequences=True, so it hands on every timestep ... (None,
    20, 1) keeps the time axis: that is the shape with `return_sequences=True`"), so the
    shapes alone are given.

    The shape hints of :func:`~lstm_lib.mistakes.shape_mistake` assume that the last layer is
    the question's (a Dense keeps every axis, a recurrent layer's return_sequences sets the
    time axis): they are given only when it is. A last layer of another class is named
    instead, and a time axis changed by a layer without return_sequences is told by that
    layer.
    """
    said = f"Your model outputs {output!r}, not {want_shape!r}"
    written = [spec for spec in answer if spec["class_name"] != "InputLayer"]
    last = written[-1]
    if layers and not _same_class(last, layers[-1]):
        return (
            f"{said}: your last layer, {_a_layer(last)}, is not the model's last layer, "
            f"{_a_layer(layers[-1])}."
        )
    # the output is the last layer's, not a layer's on the model's input: keep only
    # the sequence length, which every layer before a pooling one passes on
    judged = {"timesteps": input_shape[1]} if len(input_shape) >= 2 else {}
    named = shape_mistake(output, want_shape, judged) or _count_as_units(
        answer, output, want_shape, expected.get("params")
    )
    if named and "return_sequences" in named and not _has_return_sequences(last):
        named = _axis_changed_by(written, rows, len(output) < len(want_shape), named)
    if named and "return_sequences" in named and any("return_sequences" in t for t in told):
        named = None
    return f"{said}. {named or ''}"


def _axis_changed_by(
    written: Sequence[Mapping[str, Any]], rows: Sequence[Any], removed: bool, named: str
) -> str | None:
    """A return_sequences hint kept only where a recurrent layer set the time axis; else the
    layers that removed an axis (a Flatten), or nothing."""
    changed = [
        (position, spec, row)
        for position, (spec, row) in enumerate(zip(written, rows, strict=False), start=1)
        if isinstance(row.input_shape, tuple) and len(row.output_shapes[0]) < len(row.input_shape)
    ]
    if removed:
        other = [item for item in changed if not _has_return_sequences(item[1])]
        if not other:
            return named  # a recurrent layer without return_sequences dropped the time axis
        return " ".join(
            f"Your layer {position} ({_written_name(spec)}) turns {row.input_shape!r} into "
            f"{_as_shape(row.output_shapes[0])!r}, removing an axis."
            for position, spec, row in other
        )
    # the time axis kept: by a recurrent layer's return_sequences=True, if any
    if any(_has_return_sequences(spec) and _return_sequences(spec) for spec in written):
        return named
    return None


def _return_sequences(spec: Mapping[str, Any]) -> bool:
    config = spec.get("config") or {}
    inner = config.get("layer")
    if spec.get("class_name") in _WRAPPERS and isinstance(inner, Mapping):
        return _return_sequences(inner)
    return bool(config.get("return_sequences"))


def _has_return_sequences(spec: Mapping[str, Any]) -> bool:
    """Whether a layer has a return_sequences flag: a recurrent layer, or a wrapped one."""
    if spec.get("class_name") in shapes._RECURRENT_GATES:
        return True
    inner = (spec.get("config") or {}).get("layer")
    return (
        spec.get("class_name") in _WRAPPERS
        and isinstance(inner, Mapping)
        and (_has_return_sequences(inner))
    )


def _missing_embedding(
    answer: list[dict[str, Any]],
    layers: Sequence[Mapping[str, Any]] | None,
    input_shape: tuple,
    error: str,
) -> str | None:
    """A model that fails on the token ids because it lacks the reference's first Embedding."""
    written = [spec for spec in answer if spec["class_name"] != "InputLayer"]
    if (
        not layers
        or layers[0]["class_name"] != "Embedding"
        or not written
        or written[0]["class_name"] == "Embedding"
        or not error.startswith("Layer 1 (")
    ):
        return None
    size = (layers[0].get("config") or {}).get("output_dim")
    becomes = f", so the next layer gets {(*input_shape, size)!r}" if isinstance(size, int) else ""
    inner = (written[0].get("config") or {}).get("layer")
    if isinstance(inner, Mapping) and inner.get("class_name") == "Embedding":
        # the Embedding is there, wrapped: TimeDistributed wants a feature axis to map over
        return (
            f"your layer 1 wraps its Embedding in {written[0]['class_name']}, which needs "
            f"input with a time axis and a feature axis, and gets the token ids themselves, "
            f"{input_shape!r}. An Embedding reads the whole (batch, timesteps) array of ids "
            f"itself: write it without the wrapper{becomes}."
        )
    return (
        f"your layer 1, {_a_layer(written[0])}, gets the token ids themselves, "
        f"{input_shape!r}: one integer per timestep, no feature axis. Your model is missing "
        f"an Embedding first: it turns each token id into a vector{becomes}."
    )


def _count_as_units(
    answer: Sequence[Mapping[str, Any]], output: Any, want: Any, params: Any
) -> str | None:
    """The parameter count of an inverse question written as the last layer's units."""
    last = (answer[-1].get("config") or {}) if answer else {}
    if (
        params is not None
        and last.get("units") == int(params)
        and output[:-1] == want[:-1]
        and output[-1] != want[-1]
    ):
        # The prompt states both numbers; the learner took the wrong one for the size.
        return (
            f"{params} is the parameter count the specification asks for, not the units: the "
            "units are the last axis of the output; the count then follows from "
            "features × units (+ units with a bias)."
        )
    return None


def _params_problem(
    params: int,
    wanted: int,
    layers: Sequence[Mapping[str, Any]] | None,
    rows: Sequence[Any] = (),
    specs: Sequence[Mapping[str, Any]] = (),
    fixed: tuple[list[Any], list[dict[str, Any]]] | None = None,
) -> str:
    """A wrong total, stated only where the prompt gives it.

    An inverse question (no ``layers`` recorded, or a layer with ``free`` sizes the count
    fixes) states the count in its prompt. Where the prompt gives the layers instead, their
    total is the answer of a count question (08 q3 counts the model 08 q6 changes), so the
    message says only which way it is off. ``specs``, the learner's layers in the order of
    ``rows``, give the written formula its bias term (a GRU with ``reset_after`` has two).
    ``fixed``, the rows and specs of the learner's model with the options named before set
    as the prompt asks, tells whether fixing those alone gives the count: then the free
    sizes are right, and the learner is not told to solve for them.
    """
    if layers is None or any(entry.get("free") for entry in layers):
        said = f"Your model has {params} parameters; the specification asks for exactly {wanted}."
        free = [i for i, entry in enumerate(layers or []) if entry.get("free")]
        chosen = spoken_list(layers[free[0]]["free"]) if len(free) == 1 and layers else ""
        if fixed is not None:
            rows, specs = fixed
            total = sum(operator.index(row.params) for row in rows)
            if total == wanted:
                verb = "need" if chosen == "units" or " and " in chosen else "needs"
                yours = f": the {chosen} you chose {verb} no change" if chosen else ""
                return f"{said} Fix what is named above and the count comes out right{yours}."
            if total != params:
                said += f" With what is named above fixed, it would have {total}."
        if (
            len(free) == 1
            and layers
            and len(rows) == len(layers)
            and len(specs) == len(rows)
            and all(map(_same_class, specs, layers))
        ):
            # Every other option is the prompt's; this layer's choice sets the total (and
            # the counts of the layers after it, which take its output as their input).
            row = rows[free[0]]
            features = row.input_shape[-1] if isinstance(row.input_shape, tuple) else None
            gates = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}.get(row.class_name)
            spec = specs[free[0]]
            below = "the input" if free[0] == 0 else "the layer below"
            bias = {0: "", 1: " + units", 2: " + 2 × units"}[_bias_vectors(facts({"layer": spec}))]
            if gates and features:
                made = (
                    f"{gates} × (units × (units + features){bias}), with features = "
                    f"{features} from {below}"
                )
            elif row.class_name == "Dense" and features:
                made = f"features × units{bias}, with features = {features} from {below}"
            else:
                made = "its weights"
            after = (
                ", and the layers after it count its output in theirs"
                if free[0] < len(rows) - 1
                else ""
            )
            solve = (
                f"Solve for the units that make the total {wanted}."
                if "units" in layers[free[0]]["free"]
                else f"Choose the {chosen} that gives the total {wanted}."
            )
            said += (
                f" Every other option is fixed by the prompt, so the total follows from the "
                f"{chosen} you chose for Layer {free[0] + 1} ({row.class_name}): its count "
                f"({row.params} here) is {made}{after}. {solve}"
            )
        return said
    more = "more" if params > wanted else "fewer"
    return (
        f"Your model has {params} parameters, {more} than the model the prompt describes: "
        "check each layer's sizes against it."
    )


def _same_class(spec: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether a learner's layer is of the reference layer's class, a wrapper's layer too
    (a TimeDistributed Dense counting as the Dense): only then can its options give the
    reference's count."""
    class_name, config = _core(spec["class_name"], spec.get("config") or {})
    want_class, wanted = _core(entry["class_name"], entry.get("config") or {})
    if class_name != want_class:
        return False
    inner, want_inner = config.get("layer"), wanted.get("layer")
    if isinstance(want_inner, Mapping):
        return isinstance(inner, Mapping) and _same_class(inner, want_inner)
    return True


def _as_prompt_asks(
    answer: list[dict[str, Any]], layers: Sequence[Mapping[str, Any]], input_shape: tuple
) -> tuple[list[Any], list[dict[str, Any]]] | None:
    """The rows and specs of the learner's model with every judged option set to the
    reference's value (free options kept), or None when its layers are not the reference's
    or it does not build so."""
    written = [copy.deepcopy(spec) for spec in answer if spec["class_name"] != "InputLayer"]
    if len(written) != len(layers):
        return None
    for spec, entry in zip(written, layers, strict=True):
        if not _set_as_asked(spec, entry):
            return None
    try:
        rows = shapes.stack_shapes(written, input_shape)
    except (ValueError, TypeError, KeyError):
        return None
    return (rows, written) if len(rows) == len(written) else None


def _set_as_asked(spec: dict[str, Any], entry: Mapping[str, Any]) -> bool:
    """Set ``spec``'s judged options to ``entry``'s, in place; False when the classes differ."""
    config = spec.setdefault("config", {})
    if not isinstance(config, dict):
        return False
    if spec["class_name"] != entry["class_name"]:
        # a TimeDistributed Dense judged as the Dense it wraps
        inner = config.get("layer")
        if _core(spec["class_name"], config)[0] != entry["class_name"] or not isinstance(
            inner, dict
        ):
            return False
        return _set_as_asked(inner, entry)
    for key, value in (entry.get("config") or {}).items():
        if key == "layer" and isinstance(value, Mapping):
            if not isinstance(config.get("layer"), dict) or not _set_as_asked(
                config["layer"], value
            ):
                return False
        else:
            config[key] = copy.deepcopy(value)
    return True


def _units_note(answer: list[dict[str, Any]], layers: Any) -> str:
    """For a model that does not build: the layers whose units differ from the question's
    model, where its classes are the same in the same order, so a second slip (units
    swapped between two layers) is not hidden behind the build error."""
    # numbered as the build error numbers them: every layer written, an InputLayer too
    mine = [
        (index, spec)
        for index, spec in enumerate(answer, start=1)
        if spec.get("class_name") != "InputLayer"
    ]
    wanted = [
        spec
        for spec in layers or ()
        if isinstance(spec, Mapping) and spec.get("class_name") != "InputLayer"
    ]
    if len(mine) != len(wanted) or any(
        a.get("class_name") != b.get("class_name") for (_, a), b in zip(mine, wanted, strict=True)
    ):
        return ""
    slips = [
        f"layer {index} has units={config['units']!r} where the prompt asks for {want['units']!r}"
        for (index, spec), other in zip(mine, wanted, strict=True)
        if isinstance(config := spec.get("config"), Mapping)
        and isinstance(want := other.get("config"), Mapping)
        and "units" in config
        and "units" in want
        and not _same(config["units"], want["units"])
    ]
    return f" Also, {spoken_list(slips)}." if slips else ""


def _layers_note(answer: list[dict[str, Any]], layers: Any) -> str:
    """For a model that does not build: its layers, where they are not the question's, so a
    layer too many (a third LSTM after the two asked for) is not told only as the flag the
    build error asks of the layer before it, which would keep the extra layer."""
    if not isinstance(layers, list) or not all(isinstance(entry, Mapping) for entry in layers):
        return ""
    try:
        mine = [shapes.layer_spec(spec) for spec in answer if spec["class_name"] != "InputLayer"]
        problem = _sequence_problem(mine, layers)
    except (ValueError, TypeError, KeyError):
        return ""
    return f" {problem}" if problem else ""


def _unused_layer(
    answer: list[dict[str, Any]], layers: Any, exc: shapes.UnsupportedLayerError
) -> str:
    """A model with a layer of a class no question uses (Conv1D, RNN(cell)...), which Keras
    may well build: what the question's model is made of instead, never "does not build"
    (a class Keras no longer has, or one written in the wrong case, is told so)."""
    if exc.option is not None:
        return f"This model cannot be judged here: {exc}"
    names = [str(spec.get("class_name")) for spec in answer]
    unused = next((name for name in names if name not in shapes._RULES), None)
    if unused is None or unused in shapes._GONE_LAYERS or exc.recased is not None:
        return f"This model does not build: {exc}"
    wanted = sorted(
        {str(spec.get("class_name")) for spec in layers or () if isinstance(spec, Mapping)}
    )
    made_of = f": it is made of {spoken_list(wanted)} layers" if wanted else ""
    where = names.index(unused) + 1
    return (
        f"Layer {where} is {with_article(unused)}, a layer the question's model does not "
        f"use{made_of}."
    )


def _state_hint(answer: list[dict[str, Any]]) -> str:
    """A recurrent layer with return_state, not return_sequences, under another one."""
    layers = [spec for spec in answer if spec["class_name"] != "InputLayer"]
    recurrent = shapes._RECURRENT_GATES
    for lower, upper in zip(layers, layers[1:], strict=False):
        config = lower.get("config") or {}
        if (
            lower["class_name"] in recurrent
            and upper["class_name"] in recurrent
            and config.get("return_state")
            and not config.get("return_sequences")
        ):
            return (
                "return_state is not return_sequences: return_state=True adds the final "
                "states to what the layer returns, and the next layer still gets only the "
                "last output, without a time axis. return_sequences=True passes on every "
                "timestep. "
            )
    return ""


def _old_names_hint(answer: list[dict[str, Any]]) -> str:
    found = {
        key
        for spec in answer
        for key in (spec.get("config") or {})
        if key in _OTHER_OLD_NAMES and key not in shapes._KERAS1_NAMES
    }
    return "".join(
        f" ({key} is the Keras 1 name of {_OTHER_OLD_NAMES[key]}.)" for key in sorted(found)
    )


def _written_config(
    answer: list[dict[str, Any]], position: int, input_shape: Any = None
) -> dict[str, Any]:
    """The config the learner wrote for their ``position``-th layer (InputLayers skipped),
    with a Dropout's ``noise_shape`` that drops as the default does, on the layer's
    ``input_shape``, read as the default None (see :func:`_full_noise_shape`)."""
    layers = [spec for spec in answer if spec["class_name"] != "InputLayer"]
    written = dict(layers[position - 1].get("config") or {})
    if layers[position - 1]["class_name"] == "Dropout" and _full_noise_shape(
        written.get("noise_shape"), input_shape
    ):
        written["noise_shape"] = None
    return written


def _full_noise_shape(noise_shape: Any, input_shape: Any) -> bool:
    """Whether a Dropout with ``noise_shape`` draws one mask entry per input entry, as
    the default (None) does, on input of shape ``input_shape``.

    Keras 3 fills each None of ``noise_shape`` with the input's own size there, so a
    noise_shape that gives, at every axis, None or the input's known size draws the same
    mask as the default: ``[None, 32]`` on ``(batch, 32)``. A fixed batch size, a 1
    (one mask shared along that axis) or another length does not.

    Examples
    --------
    >>> _full_noise_shape([None, 32], (None, 32)), _full_noise_shape([None, 1], (None, 32))
    (True, False)
    >>> _full_noise_shape([8, 32], (None, 32)), _full_noise_shape(None, (None, 32))
    (False, True)
    """
    if noise_shape is None:
        return True
    if not isinstance(noise_shape, list | tuple) or not isinstance(input_shape, tuple):
        return False
    return len(noise_shape) == len(input_shape) and all(
        given is None or (type(given) is int and size is not None and given == size)
        for given, size in zip(noise_shape, input_shape, strict=True)
    )


# --------------------------------------------------------------------------- ignored options


def _text_input_problem(answer: list[dict[str, Any]]) -> list[str]:
    """The problem with an InputLayer of strings, if the answer starts with one.

    Keras 3 builds such a model, with the shapes and count of its numeric twin, but none
    of the course's layers computes on text: ``predict`` and ``fit`` fail on any data
    (tests/test_model_verdicts.py checks it against Keras). A model asked to turn an input
    into an output must run.
    """
    first = answer[0]
    if first["class_name"] != "InputLayer" or (first.get("config") or {}).get("dtype") != "string":
        return []
    return [
        "Layer 1 (InputLayer) has dtype='string': Keras builds the model, but its layers "
        "compute on numbers, so it cannot predict or train on any input. Leave dtype out, "
        "as the question's input is numbers."
    ]


def _ignored_arguments(
    answer: list[dict[str, Any]], input_shape: tuple, repair: bool = False
) -> tuple[list[str], list[str]]:
    """Problems with options Keras 3 accepts and ignores, and notes on what it only warns of.

    The question gives the input (its check cell puts ``keras.Input`` first), so Keras 3
    ignores a layer's ``input_shape`` and ``input_dim`` wherever they stand, with a warning,
    and builds the model on the given input; it ignores Embedding's ``input_length`` too.
    Each is a note, as the model is judged as Keras builds it. A ``repair`` asks for nothing
    that Keras 3 only ignores: there each is a mistake. A recurrent layer's
    ``implementation`` is a note in both: Keras 3 takes it, and it changes how the step is
    computed, not what, so the model is the same. ``use_cudnn=True`` is a mistake in both
    (see :func:`cudnn_only_problem`).
    """
    problems: list[str] = []
    notes: list[str] = []
    position = 0
    sample = tuple(input_shape[1:])
    for spec in answer:
        config = spec.get("config") or {}
        if spec["class_name"] == "InputLayer":
            continue
        position += 1
        label = f"Layer {position} ({spec['class_name']})"
        problems += _ignored_in(label, spec["class_name"], config, sample, repair, notes)
        for key in ("layer", "backward_layer"):
            inner = config.get(key)
            if spec["class_name"] in _WRAPPERS and isinstance(inner, Mapping):
                inner_label = f"{label}'s wrapped {inner.get('class_name')}"
                inner_config = inner.get("config") or {}
                problems += _ignored_in(
                    inner_label, str(inner.get("class_name")), inner_config, sample, repair, notes
                )
    return problems, notes


def cudnn_only_problem(label: str, config: Mapping[str, Any]) -> str | None:
    """Why a layer written with ``use_cudnn=True`` is wrong, or None: Keras builds it, but
    each call without cuDNN raises (on a CPU, and with options cuDNN does not take, such as
    a sigmoid ``activation``), so such a model runs nowhere that a learner's CPU does.

    Examples
    --------
    >>> cudnn_only_problem("Layer 1 (LSTM)", {"units": 4, "use_cudnn": True})[:40]
    'Layer 1 (LSTM): use_cudnn=True makes the'
    >>> cudnn_only_problem("Layer 1 (LSTM)", {"units": 4, "use_cudnn": "auto"}) is None
    True
    """
    if config.get("use_cudnn") is not True:
        return None
    return (
        f"{label}: use_cudnn=True makes the layer run through NVIDIA's cuDNN or not at all. "
        "Keras builds the model, but every call raises a ValueError where cuDNN cannot run "
        "it: on a CPU, and with options cuDNN does not take. Leave use_cudnn out: its "
        "default, 'auto', uses cuDNN where it can."
    )


def _ignored_in(
    label: str,
    class_name: str,
    config: Mapping[str, Any],
    sample: tuple,
    repair: bool,
    notes: list[str],
) -> list[str]:
    problems = [problem for problem in [cudnn_only_problem(label, config)] if problem]
    for key in _UNSAVED.get(class_name, ()):
        note = _UNSAVED_NOTE.format(key=key)
        if key in config and note not in notes:
            notes.append(note)
    for key in _IGNORED.get(class_name, ()):
        if key not in config:
            continue
        if not repair:  # the model is judged as Keras builds it, which is without them
            note = (
                f"Keras 3 ignores {key} here"
                + (", with a warning" if key == "input_length" else "")
                + "; leave it out."
            )
            if note not in notes:
                notes.append(note)
            continue
        problems.append(  # input_length, the one option a repair must drop
            f"{label}: input_length={config[key]!r} is deprecated, and Keras 3 ignores it "
            f"(with a warning): the sequence length comes from keras.Input(shape={sample!r}), "
            "which the question gives. Remove input_length."
        )
    for key in _INPUT_ARGUMENTS:
        if key not in config or (key == "input_dim" and class_name == "Embedding"):
            continue  # Embedding's input_dim is its vocabulary size, not the Keras 2 option
        if repair:
            problems.append(
                f"{label}: Keras 3 ignores {key}={config[key]!r} here, with a warning, because "
                "the question gives the Input, and the repair keeps nothing Keras 3 only "
                f"ignores. Remove {key}."
            )
            continue
        note = _ignored_input_note(key)
        if note not in notes:
            notes.append(note)
    return problems


# --------------------------------------------------------------------------- layer sequence


def _core(class_name: str, config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """A layer as judged: a TimeDistributed Dense is its Dense (same weights, same output)."""
    inner = config.get("layer")
    if class_name == "TimeDistributed" and isinstance(inner, Mapping):
        if inner.get("class_name") == "Dense":
            return "Dense", inner.get("config") or {}
    return class_name, config


def _listing(classes: Sequence[str]) -> str:
    return ", ".join(classes)


def _inner_name(spec: Mapping[str, Any]) -> str | None:
    """The class a wrapper wraps, as written, or None."""
    inner = (spec.get("config") or {}).get("layer")
    if spec.get("class_name") in _WRAPPERS and isinstance(inner, Mapping):
        return str(inner.get("class_name"))
    return None


def _written_name(spec: Mapping[str, Any]) -> str:
    """A layer's class as written, a wrapper with the class it wraps: TimeDistributed(Dense)."""
    inner = _inner_name(spec)
    return f"{spec['class_name']}({inner})" if inner else str(spec["class_name"])


def _a_layer(spec: Mapping[str, Any]) -> str:
    """A layer as written, with its article: a TimeDistributed around a Dense."""
    inner = _inner_name(spec)
    named = with_article(str(spec["class_name"]))
    return f"{named} around {with_article(inner)}" if inner else named


def _sequence_problem(mine: list[dict[str, Any]], layers: list[Mapping[str, Any]]) -> str | None:
    """Name missing, extra, reordered or replaced layers, or return None."""
    got = [_core(spec["class_name"], spec["config"])[0] for spec in mine]
    want = [_core(entry["class_name"], entry.get("config") or {})[0] for entry in layers]
    if got == want:
        return None
    # compared as judged (a TimeDistributed Dense is a Dense), told as written
    listed_got = [_written_name(spec) for spec in mine]
    listed_want = [_written_name(entry) for entry in layers]
    summary = (
        f"The model asks for {_listing(listed_want)}, in this order; "
        f"yours is {_listing(listed_got)}."
    )
    if sorted(got) == sorted(want):
        return f"The right layers in the wrong order. {summary}"
    named = []
    if len(got) == len(want):
        # as many layers as asked for: each one that differs was put in place of the one
        # asked for there (an alignment would call it one too many plus one missing)
        return " ".join(
            [
                *(
                    f"Your layer {index + 1} is {_a_layer(mine[index])}; "
                    f"the model has {_a_layer(layers[index])} there."
                    for index in range(len(got))
                    if got[index] != want[index]
                ),
                summary,
            ]
        )
    matcher = difflib.SequenceMatcher(None, got, want, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            for index in range(i1, i2):
                named.append(
                    f"Your layer {index + 1} ({listed_got[index]}) is one too many: the model "
                    f"has no {got[index]} there."
                )
        elif tag == "insert":
            where = f"after the {listed_got[i1 - 1]} (your layer {i1})" if i1 else "first"
            missing = " and ".join(_a_layer(entry) for entry in layers[j1:j2])
            named.append(f"Your model is missing {missing} {where}.")
        elif tag == "replace":
            for offset in range(max(i2 - i1, j2 - j1)):
                if i1 + offset < i2 and j1 + offset < j2:
                    named.append(
                        f"Your layer {i1 + offset + 1} is {_a_layer(mine[i1 + offset])}; the "
                        f"model has {_a_layer(layers[j1 + offset])} there."
                    )
                elif i1 + offset < i2:
                    named.append(
                        f"Your layer {i1 + offset + 1} ({listed_got[i1 + offset]}) is extra."
                    )
                else:
                    named.append(
                        f"Your model is missing {_a_layer(layers[j1 + offset])} "
                        f"after your layer {i2}."
                    )
    return " ".join([*named, summary])


# --------------------------------------------------------------------------- judged options


def _effective(class_name: str, written: Mapping[str, Any], key: str) -> tuple[Any, bool]:
    """The value Keras 3 uses for ``key`` and whether the learner left it out."""
    if key in written:
        return _plain_value(key, written[key]), False
    return KERAS_DEFAULTS.get(class_name, {}).get(key, _MISSING), True


def _same(mine: Any, wanted: Any) -> bool:
    # True == 1 in Python, but units=True, or use_bias=1, is not what the question's layer
    # has written: a bool matches a bool only, as the int questions refuse True for 1
    if isinstance(mine, bool) or isinstance(wanted, bool):
        return isinstance(mine, bool) and isinstance(wanted, bool) and mine == wanted
    if isinstance(mine, int | float) and isinstance(wanted, int | float):
        return math.isclose(mine, wanted, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(mine, list | tuple) and isinstance(wanted, list | tuple):
        return len(mine) == len(wanted) and all(map(_same, mine, wanted))
    numpy = sys.modules.get("numpy")
    if numpy is not None and numpy.ndarray in (type(mine), type(wanted)):
        # a recorded value is plain JSON, never an array; and an array compared with one
        # answers element by element, which has no truth of its own
        return False
    return mine == wanted


def _config_problems(
    label: str,
    spec: Mapping[str, Any],
    written: Mapping[str, Any],
    entry: Mapping[str, Any],
    context: Mapping[str, Any],
) -> list[str]:
    """Every judged option of one layer that differs from the reference, in words.

    ``spec`` is the learner's layer as :func:`lstm_lib.shapes.layer_spec` normalizes it,
    ``written`` the config as the learner wrote it, so a left-out option can be told apart
    from one set to the same value.
    """
    class_name, config = _core(spec["class_name"], spec["config"])
    # a TimeDistributed Dense is judged as its Dense, but the wrapper's own dtype or
    # regularizer changes the model all the same
    outer: list[tuple[str, Any]] = []
    if class_name != spec["class_name"]:
        outer = [
            (key, value)
            for key, value in written.items()
            if key != "layer" and _keeps_default(spec["class_name"], key, value) is False
        ]
        written = (written.get("layer") or {}).get("config") or {}
    want_class, wanted = _core(entry["class_name"], entry.get("config") or {})
    wrapper = "" if class_name == spec["class_name"] else f", in a {spec['class_name']}"
    label = f"{label} ({class_name}{wrapper})"
    free = set(entry.get("free") or ())
    wrong: list[tuple[str, Any, Any, bool]] = []
    problems: list[str] = []
    for key, want in wanted.items():
        if key in free:
            continue
        if key == "layer" and isinstance(want, Mapping):
            inner = config["layer"]
            if inner["class_name"] != want["class_name"]:
                problems.append(
                    f"{label} wraps {with_article(inner['class_name'])}; the model wraps "
                    f"{with_article(want['class_name'])}."
                )
            else:
                inner_written = (written.get("layer") or {}).get("config") or {}
                problems += _config_problems(
                    f"{label}'s wrapped layer", inner, inner_written, want, context
                )
            continue
        mine, defaulted = _effective(class_name, written, key)
        if mine is _MISSING or not _same(mine, want):
            # a flag is judged as Keras reads it, and said back as it was written
            said = written[key] if key in shapes._FLAGS and not defaulted else mine
            wrong.append((key, said, want, defaulted))
    if wrong:
        problems.insert(0, _describe_wrong(label, want_class, wrong, wanted, context))
    unread = _unread_bias_options(class_name, written)
    changed = outer + [
        (key, value)
        for key, value in written.items()
        if key not in free and key not in unread and _keeps_default(class_name, key, value) is False
    ]
    if changed:
        problems.append(_describe_changed_defaults(label, changed, context))
    return problems


def _unread_bias_options(class_name: str, written: Mapping[str, Any]) -> frozenset[str]:
    """The bias options of a layer that has no bias, which Keras then never reads.

    With use_bias False (or 0, or None) Keras makes no bias weight, so how it would be
    initialised, regularized or constrained changes nothing: the same weights, outputs
    and losses (02 q7's Dense, tested against live Keras). A name Keras cannot read is
    still refused, when the layer is built (:mod:`lstm_lib.shapes`).

    Examples
    --------
    >>> sorted(_unread_bias_options("Dense", {"use_bias": False, "bias_initializer": "ones"}))
    ['bias_initializer']
    >>> _unread_bias_options("Dense", {"bias_initializer": "ones"})
    frozenset()
    """
    use_bias, _ = _effective(class_name, written, "use_bias")
    if use_bias is _MISSING or use_bias:
        return frozenset()
    return frozenset(key for key in written if isinstance(key, str) and key.startswith("bias_"))


def _keeps_default(class_name: str, key: Any, value: Any) -> bool | None:
    """Whether a written initializer, regularizer, constraint, dtype or set of starting
    ``weights`` is Keras 3's default for this layer class; None for any other option, and
    for an initializer of a class whose initializers are not recorded.

    A seed in an initializer's config picks which weights are drawn, not how: it is not a
    change. A default's config may be written out whole, as ``get_config()`` writes it.
    Every layer, with weights or without, defaults to no regularizer or constraint, the
    float32 dtype and no starting weights: a Dropout that computes in int32 or an
    Activation with an activity regularizer changes the model as much as a Dense would.

    Examples
    --------
    >>> _keeps_default("LSTM", "recurrent_initializer", "orthogonal")
    True
    >>> _keeps_default("LSTM", "kernel_initializer", "zeros")
    False
    >>> _keeps_default("Embedding", "embeddings_initializer", {"class_name": "RandomUniform",
    ...     "config": {"seed": None, "minval": -0.05, "maxval": 0.05}})
    True
    >>> _keeps_default("LSTM", "kernel_initializer", None)
    True
    >>> _keeps_default("LSTM", "recurrent_initializer", None)
    False
    >>> _keeps_default("Dense", "kernel_regularizer", "l2"), _keeps_default("Dense", "units", 3)
    (False, None)
    >>> _keeps_default("Dropout", "dtype", "int32"), _keeps_default("Activation", "dtype", None)
    (False, True)
    """
    if not isinstance(key, str):
        return None
    initializers = DEFAULT_INITIALIZERS.get(class_name, {})
    if key in initializers:
        default_class, default_config = initializers[key]
        if value is None:
            # Keras's getter returns None, and add_weight then draws the weight as it draws
            # any float weight, with glorot_uniform: an orthogonal recurrent kernel, a zero
            # bias or Embedding's small uniform table is lost, though None reads as "default"
            return default_class == _GLOROT_UNIFORM[0]
        if isinstance(value, str):
            return _initializer_class(value) == default_class
        if not isinstance(value, Mapping):
            return False
        config = value.get("config") or {}
        name = value.get("class_name")
        return (
            isinstance(name, str)
            and _initializer_class(name) == default_class
            and isinstance(config, Mapping)
            and all(
                option == "seed"
                or (option in default_config and _same(setting, default_config[option]))
                for option, setting in config.items()
            )
        )
    if key.endswith(("_regularizer", "_constraint")):
        return value is None
    if key == "dtype":
        # a serialized policy read as shapes reads it: FloatDTypePolicy too, and no name
        return shapes._dtype_name(value) in (None, "float32")
    if key == "weights":
        # Embedding(weights=...) starts from the given matrix instead of its initializer
        return value is None
    return None


def _initializer_class(name: str) -> str:
    """The class Keras makes for an initializer's name, as a string or a dict's class_name."""
    return shapes._SERIALIZED_ALIASES.get(name, name)


def _describe_changed_defaults(
    label: str, changed: list[tuple[str, Any]], context: Mapping[str, Any]
) -> str:
    """One sentence for a layer's initializers, regularizers, constraints, dtype or
    starting weights set otherwise than Keras's defaults, which the question's model keeps."""
    settings = spoken_list(
        [
            # an array's repr runs over lines and says nothing a learner needs back
            "starting weights" if key == "weights" else f"{key}={shapes._shown(value)}"
            for key, value in changed
        ]
    )
    them, plural = ("it", "") if len(changed) == 1 else ("them", "s")
    # None reads as "the default", and is not one here: say what Keras draws instead
    unset = [key for key, value in changed if value is None and key.endswith("_initializer")]
    why_none = (
        f" An initializer of None is not the layer's default: Keras then draws "
        f"{'that weight' if len(unset) == 1 else 'those weights'} with glorot_uniform, as it "
        "draws any weight not given one."
        if unset
        else ""
    )
    if context.get("repair"):
        return (
            f"{label} sets {settings}, which the old model did not set: leave {them} out, so "
            f"the repair behaves as the old model did.{why_none}"
        )
    return (
        f"{label} sets {settings}, which the question's model leaves at Keras's "
        f"default{plural}: leave {them} out.{why_none}"
    )


def _setting(key: str, value: Any) -> str:
    return f"{key}={value!r}"


def _written_setting(key: str, value: Any) -> str:
    """A learner's option as said back: Keras stores no activation (None) as 'linear',
    so that one is told by its meaning, whichever way it was written."""
    if key in ("activation", "recurrent_activation") and value == "linear":
        return f"no {key} ({key}=None, which Keras stores as 'linear')"
    return shapes.flag_setting(key, value)


def _describe_wrong(
    label: str,
    class_name: str,
    wrong: list[tuple[str, Any, Any, bool]],
    wanted: Mapping[str, Any],
    context: Mapping[str, Any],
) -> str:
    """One sentence or two for a layer's wrong options, the classic ones told by meaning."""
    repair = bool(context.get("repair"))
    wants = spoken_list([_setting(key, want) for key, _, want, _ in wrong])
    if repair:
        keep = "both" if len(wrong) == 2 else ("it" if len(wrong) == 1 else "them all")
        asks = (
            f"The old {class_name} used {wants}; the repair keeps the old layer's options, "
            f"so keep {keep}."
        )
    else:
        asks = _what_is_asked(class_name, [(key, want) for key, _, want, _ in wrong])
    if len(wrong) == 1 and not repair:
        key, mine, want, defaulted = wrong[0]
        told = _told_by_meaning(label, class_name, key, mine, want, wanted)
        if told:
            return told
    parts = []
    left_out = [(key, mine) for key, mine, _, defaulted in wrong if defaulted]
    written = [(key, mine) for key, mine, _, defaulted in wrong if not defaulted]
    if left_out:
        required = [key for key, mine in left_out if mine is _MISSING]
        defaults = [(key, mine) for key, mine in left_out if mine is not _MISSING]
        if defaults:
            plural = "s" if len(defaults) > 1 else ""
            parts.append(
                f"leaves out {spoken_list([key for key, _ in defaults])}, so Keras uses its "
                f"default{plural} {spoken_list([repr(mine) for _, mine in defaults])}"
            )
        if required:
            parts.append(f"has no {spoken_list(required)}, which Keras requires")
    if written:
        parts.append("has " + spoken_list([_written_setting(key, mine) for key, mine in written]))
    said = f"{label} {' and '.join(parts)}"
    return f"{said}. {asks}" if repair else f"{said}; {asks}"


def _what_is_asked(class_name: str, wanted: list[tuple[str, Any]]) -> str:
    """What the question's layer has where the learner's differs, told as the question's
    layer's, never as the prompt's words: a prompt may ask for a flag by its effect (05 q6
    asks what the second LSTM must receive). Keras's defaults it may leave unsaid are told
    as kept defaults."""
    defaults = KERAS_DEFAULTS.get(class_name, {})
    kept: list[str] = []
    asked: list[str] = []
    for key, want in wanted:
        is_default = key in defaults and _same(defaults[key], want)
        (kept if is_default else asked).append(_setting(key, want))
    if not kept:
        return f"the question's layer has {spoken_list(asked)}."
    plural = "s" if len(kept) > 1 else ""
    keeps = f"Keras's default{plural} {spoken_list(kept)}"
    if not asked:
        return f"the question's layer keeps {keeps}."
    return f"the question's layer has {spoken_list(asked)} and keeps {keeps}."


def _told_by_meaning(
    label: str,
    class_name: str,
    key: str,
    mine: Any,
    want: Any,
    wanted: Mapping[str, Any],
) -> str | None:
    if key == "activation" and class_name in ("Dense", "Activation") and mine == "linear":
        if want == "sigmoid":
            return (
                f"{label} has no activation, so it outputs a logit, not a probability: "
                "the prompt asks for activation='sigmoid'."
            )
        if want == "softmax":
            units = wanted.get("units")
            scores = f"{units} scores" if units else "scores"
            return (
                f"{label} has no activation, so it outputs {scores} (logits), not "
                "probabilities that add up to 1: the prompt asks for activation='softmax'."
            )
    if key == "return_sequences" and want is True and not mine:
        return (
            # Not every prompt names the flag: say what the output asked for must keep.
            f"{label} has {shapes.flag_setting(key, mine)}, so it hands on only its last "
            "output: "
            "the output asked for keeps the time axis, so this layer must hand on its whole "
            "sequence."
        )
    if key == "return_sequences" and want is False and mine:
        return (
            f"{label} has {shapes.flag_setting(key, mine)}, so it hands on every timestep: "
            "the output asked for has no time axis, so this layer must hand on its last "
            "output only."
        )
    return None


# --------------------------------------------------------------------------- one layer


def layer_shapes_problem(
    answer: Mapping[str, Any], produced: Sequence[tuple], wanted: Sequence[tuple], context: Any
) -> str | None:
    """Why a layer answer returns other shapes than asked, told by the learner's own layer.

    In an inverse question (``"layer_shapes"``) the learner's layer made the shapes, so its
    options explain them: its ``return_sequences`` (or a Dense keeping the time axis), its
    ``units`` and, for a ``Bidirectional``, its ``merge_mode`` ('concat' puts both
    directions side by side). None when the layer returns another number of tensors, or
    tensors that differ elsewhere than in the time axis and the last axis.
    """
    if len(produced) != len(wanted) or not produced:
        return None
    try:
        spec = shapes.layer_spec(answer)
    except (ValueError, TypeError, KeyError):
        return None
    config = spec["config"]
    merge: Any = _MISSING
    backward: Any = None
    if spec["class_name"] == "Bidirectional":
        merge, inner, back = config.get("merge_mode"), config["layer"], config.get("backward_layer")
        if merge is None:
            return None  # two outputs: told by their number
        core, core_config = inner["class_name"], inner["config"]
        backward = (back or {}).get("config", {}).get("units")
    elif spec["class_name"] in ("SimpleRNN", "LSTM", "GRU", "Dense"):
        core, core_config = spec["class_name"], config
    elif spec["class_name"] == "TimeDistributed" and config["layer"]["class_name"] == "Dense":
        core, core_config = "TimeDistributed", config["layer"]["config"]
    else:
        return None
    units = core_config.get("units")
    if type(units) is not int or any(
        len(mine) != len(theirs) or mine[:-1] != theirs[:-1]
        for mine, theirs in zip(produced[1:], wanted[1:], strict=True)
    ):
        return None
    said = []
    out, want_out = produced[0], wanted[0]
    if len(out) != len(want_out):
        if {len(out), len(want_out)} != {2, 3} or out[0] != want_out[0]:
            return None
        if core in ("Dense", "TimeDistributed"):
            if len(out) != 3:
                return None
            said.append(
                "A Dense acts on the last axis only, so it keeps the time axis; the output "
                "asked for has none."
                if core == "Dense"
                else "A TimeDistributed applies its Dense at every step, so it keeps the time "
                "axis; the output asked for has none."
            )
        elif written := core_config.get("return_sequences"):
            said.append(
                f"{shapes.flag_setting('return_sequences', written)} makes your layer return "
                "its output at every step, with the time axis; the output asked for has none."
            )
        else:
            said.append(
                "Without return_sequences=True your layer returns its last output only, "
                "without the time axis; the output asked for keeps it."
            )
    elif out[:-1] != want_out[:-1]:
        return None
    widths = [shape[-1] for shape in produced]
    asked = [shape[-1] for shape in wanted]
    if widths != asked:
        said.append(_width_problem(answer, core, units, backward, merge, asked, context))
    return " ".join(said) or None


def _width_problem(
    answer: Mapping[str, Any],
    core: str,
    units: int,
    backward: Any,
    merge: Any,
    asked: list[Any],
    context: Any,
) -> str:
    """The last axes of a layer's tensors, told by its units and merge_mode."""
    states = len(asked) > 1
    want_out, want_states = asked[0], set(asked[1:])
    tensors = "the output and every state are" if states else "the output is"
    if merge is _MISSING or merge in ("sum", "mul", "ave"):
        lead = f"With merge_mode={merge!r} " if merge is not _MISSING else ""
        if not states or want_states == {want_out}:
            said = (
                f"{lead}{tensors} units wide: your units ({units}) give {units} "
                f"where {want_out} is asked."
            )
            said = sentence_start(said)
            hint = _confused_size(units, context)
            return f"{said}{hint}"
        if merge is _MISSING:
            return (
                f"{sentence_start(with_article(core))}'s output and "
                f"states are all units wide ({units} here); the question asks for other "
                "widths, which no units give."
            )
        return (
            f"With merge_mode={merge!r} the output and every state are units wide ({units} "
            f"here); the question asks for an output {want_out} wide and states "
            f"{spoken_list(sorted(map(str, want_states)))} wide, which adding up or averaging the "
            "two directions cannot give."
        )
    written = "merge_mode" in ((answer.get("config") or {}) if type(answer) is dict else {})
    lead = "merge_mode='concat'" if written else "Bidirectional's default merge_mode='concat'"
    if backward is not None and backward != units:
        return (
            f"Your forward and backward layers have different units ({units} and {backward}): "
            f"each direction's states are its own units wide, and {lead} makes the output "
            f"{units + backward} wide."
        )
    if not states:
        return (
            f"{lead} puts the forward and backward outputs side by side: 2 × your units "
            f"({units}) = {2 * units} wide, where {want_out} is asked."
        )
    where = (
        f"where every tensor asked is {want_out} wide"
        if want_states == {want_out}
        else f"where the question asks for {want_out} and "
        f"{spoken_list(sorted(map(str, want_states)))}"
    )
    said = (
        f"{lead} puts the forward and backward outputs side by side, so the output is "
        f"2 × units wide and each state units wide: your units ({units}) give an output "
        f"{2 * units} wide and states {units} wide, {where}."
    )
    if want_states == {want_out}:
        said += " No units give both: pick a merge_mode that keeps the output one direction wide."
    return said


def _confused_size(units: int, context: Any) -> str:
    """A note when the units are another size the question gives (features, timesteps)."""
    if not isinstance(context, Mapping):
        return ""
    if context.get("features") == units:
        return f" ({units} is the number of input features, not the layer's own size.)"
    if context.get("timesteps") == units:
        return f" ({units} is the number of timesteps, not the layer's own size.)"
    return ""
