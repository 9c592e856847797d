"""Why a question's expected value is what it is, worked out from the question's context.

In graded mode a learner sees no Keras value in the notebook; the feedback page shows it
after grading, with a short explanation. The explanation is never typed per question: it
is derived from the context recorded with the reference (``references/<assignment>.json``):
the layer spec and input shape of a count or a shape, the roles of a list of tensors, the
options of a choice. A count is written out term by term with the question's own numbers,
a shape axis by axis with the flag that decides it (``return_sequences``).

The text uses Markdown-style backticks for code, as the verdicts do; the feedback page
escapes it and turns the backticks into ``<code>``. Nothing here imports TensorFlow or
matplotlib.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from lstm_lib import mistakes, shapes
from lstm_lib.judging import sentence_start
from lstm_lib.prose import spoken_list

__all__ = ["explain_answer", "format_expected"]

_GATES = shapes._RECURRENT_GATES  # the one table of each layer's gated blocks
_SHAPE_KINDS = ("shapes", "layer_shapes")
#: A role that names a state: "h", "c", "forward h", "backward c".
_STATE_ROLE = re.compile(r"(^|\s)[hc]$")


# --------------------------------------------------------------------------- formatting
def _as_shape(value: Any) -> tuple[int | None, ...]:
    return tuple(None if n is None else operator.index(n) for n in value)


def format_expected(kind: str, expected: Any) -> str:
    """The expected value as Python prints it: shapes as tuples, counts as ints.

    References are stored as JSON, which has no tuples; this gives a shape back its
    tuple form, so the learner sees what ``model.output_shape`` would print.

    Parameters
    ----------
    kind : str
        The question kind (``"shape"``, ``"shapes"``, ``"int"``, ``"choice"``,
        ``"array"``, ``"model"``, ``"layer_shapes"`` or ``"value"``).
    expected : Any
        The recorded value, as JSON data.

    Returns
    -------
    str
        The value's text; a value of an unexpected form gets its plain ``repr``.

    Examples
    --------
    >>> format_expected("shape", [None, 8, 16])
    '(None, 8, 16)'
    >>> format_expected("shapes", [[3, 24], [6, 24], [24]])
    '[(3, 24), (6, 24), (24,)]'
    >>> format_expected("model", {"output_shape": [None, 1], "params": 33})
    "{'output_shape': (None, 1), 'params': 33}"
    >>> format_expected("array", [[0.5, -1.25]])
    '[[ 0.5 , -1.25]]'
    """
    try:
        if kind == "shape":
            return repr(_as_shape(expected))
        if kind in _SHAPE_KINDS:
            return repr([_as_shape(shape) for shape in expected])
        if kind == "int":
            return repr(operator.index(expected))
        if kind == "array":
            # threshold: a large array is summarised with "...", as NumPy prints it
            return np.array2string(
                np.asarray(expected, dtype=float), separator=", ", precision=6, threshold=60
            )
        if kind == "model" and isinstance(expected, Mapping):
            shown = dict(expected)
            if "output_shape" in shown:
                shown["output_shape"] = _as_shape(shown["output_shape"])
            return repr(shown)
    except (TypeError, ValueError):
        pass
    return repr(expected)


def _code(text: str) -> str:
    """``text`` as a Markdown code span whose fence no backtick inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _shape_text(shape: Sequence[int | None]) -> str:
    return repr(tuple(shape))


# --------------------------------------------------------------------------- entry point
def explain_answer(kind: str, expected: Any, context: Mapping[str, Any] | None = None) -> str:
    """A short explanation of why the expected value of a question is what it is.

    Parameters
    ----------
    kind : str
        The question kind, as in :func:`lstm_lib.verdicts.verdict`.
    expected : Any
        The value recorded from Keras, as JSON data.
    context : mapping, optional
        The question's recorded context: ``layer`` (a spec) and ``input_shape``
        ``(batch, timesteps, features)`` for counts and shapes, ``timesteps`` and
        ``features``, ``roles`` for a list of tensors, ``options`` (and an optional
        ``why``: a text, or ``{option: text}``) for a choice, ``required_layers`` for a
        model.

    Returns
    -------
    str
        One or a few sentences, code in backticks. A context this function cannot read
        gives a plain sentence naming the value; it never raises.

    Examples
    --------
    >>> lstm = {"class_name": "LSTM", "config": {"units": 16}}
    >>> print(explain_answer("int", 1600, {"layer": lstm, "input_shape": [None, 20, 8]}))
    ... # doctest: +NORMALIZE_WHITESPACE
    4 blocks × (8 features × 16 + 16 units × 16 + 16 bias) = 1600. Each of LSTM's 4 blocks
    (three gates and the candidate) has its own kernel W (features × units), recurrent
    kernel U (units × units) and bias (units). The 20 timesteps add nothing: the same
    weights are used at every step.
    >>> print(explain_answer("shape", [None, 16], {"layer": lstm, "input_shape": [None, 8, 3]}))
    ... # doctest: +NORMALIZE_WHITESPACE
    (batch, units) = (None, 16): `return_sequences=False`, the default, returns only the
    last step's output, so the 8 timesteps of the input (None, 8, 3) are gone. The batch
    size is None: Keras fixes it only when data arrives. The last axis is the 16 units, one
    number per unit.
    >>> explain_answer("choice", "second", {"options": ["first", "second"]})
    "The right option is `'second'`."
    """
    context = dict(context) if isinstance(context, Mapping) else {}
    explainer = _EXPLAINERS.get(kind)
    text = None
    if explainer is not None:
        try:
            text = explainer(expected, context)
        # a context of an unforeseen form gets the plain sentence, never an error
        except Exception:
            text = None
    return text or _plain(kind, expected)


def _plain(kind: str, expected: Any) -> str:
    return f"Keras gives {_code(format_expected(kind, expected))}."


# --------------------------------------------------------------------------- counts
def _formula(spec: dict[str, Any], shape: tuple[int | None, ...]) -> tuple[str, int, str]:
    """``(arithmetic, count, why)`` of one layer's weights, with the terms named."""
    name, config = spec["class_name"], spec["config"]
    if name in _GATES:
        features, units, gates = shape[-1], config["units"], _GATES[name]
        terms = [f"{_many(features, 'feature')} × {units}", f"{_many(units, 'unit')} × {units}"]
        reset_after = name == "GRU" and config.get("reset_after", True)
        if config.get("use_bias", True):
            terms.append(f"2 × {units} bias" if reset_after else f"{units} bias")
        per_block = " + ".join(terms)
        arithmetic = per_block if gates == 1 else f"{gates} blocks × ({per_block})"
        count = shapes.count_params(spec, shape)
        blocks = "kernel W (features × units), recurrent kernel U (units × units)"
        if not config.get("use_bias", True):
            why = f"{blocks}; `use_bias=False` leaves out the bias"
        elif reset_after:
            why = (
                f"{blocks} and two biases (units each, input and recurrent): "
                "`reset_after=True`, the Keras 3 default, keeps both"
            )
        elif name == "GRU":
            why = f"{blocks} and one bias (units): `reset_after=False` keeps a single one"
        else:
            why = f"{blocks} and bias (units)"
        owner = (
            f"Each of {name}'s {gates} blocks ({shapes.gated_blocks_named(gates)}) has its own"
            if gates > 1
            else f"{name} has a"
        )
        return arithmetic, count, f"{owner} {why}."
    if name == "Dense":
        features, units = shape[-1], config["units"]
        arithmetic = f"{_many(features, 'feature')} × {_many(units, 'unit')}"
        if config.get("use_bias", True):
            arithmetic += f" + {units} bias"
            why = "Dense holds a kernel (features × units) and one bias per unit."
        else:
            why = "Dense holds a kernel (features × units); `use_bias=False` leaves out the bias."
        if len(shape) == 3:
            why += (
                f" It acts on the last axis only: the same weights serve each of the "
                f"{shape[1]} timesteps, which add nothing to the count."
            )
        elif len(shape) > 3:
            why += (
                " It acts on the last axis only: the same weights serve every position "
                "along the other axes, which add nothing to the count."
            )
        return arithmetic, shapes.count_params(spec, shape), why
    if name == "Embedding":
        input_dim, output_dim = config["input_dim"], config["output_dim"]
        arithmetic = f"input_dim × output_dim = {input_dim} × {output_dim}"
        why = (
            f"The Embedding's table has one row of output_dim = {output_dim} numbers for each "
            f"of the input_dim = {input_dim} ids; the length of the sequences adds nothing."
        )
        return arithmetic, shapes.count_params(spec, shape), why
    if name == "Bidirectional":
        forward = config["layer"]
        backward = config.get("backward_layer") or forward
        ahead, ahead_count, why = _formula(forward, shape)
        behind, behind_count, _ = _formula(backward, shape)
        inner = forward["class_name"]
        if ahead == behind:
            arithmetic = f"2 directions × {ahead}" if " blocks × " in ahead else f"2 × ({ahead})"
            arithmetic = f"{arithmetic} = 2 × {ahead_count}"
        else:
            arithmetic = f"forward ({ahead}) + backward ({behind})"
        why = (
            f"Bidirectional holds two {inner} layers, one reading the sequence forward and "
            f"one backward, each with its own weights. {why}"
        )
        return arithmetic, ahead_count + behind_count, why
    if name == "TimeDistributed":
        arithmetic, count, why = _formula(config["layer"], (shape[0], *shape[2:]))
        why = (
            f"TimeDistributed applies one {config['layer']['class_name']} at every timestep, "
            f"with the same weights, so the count is that layer's. {why}"
        )
        return arithmetic, count, why
    formula = shapes.param_formula(spec, shape)
    arithmetic = formula.rsplit(" = ", 1)[0]
    return arithmetic, shapes.count_params(spec, shape), f"That is {name}'s weight count."


def _many(count: Any, noun: str) -> str:
    """``"16 units"``, ``"1 unit"``: a size with its noun, singular for one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _explain_int(expected: Any, context: dict[str, Any]) -> str | None:
    layer, input_shape = context.get("layer"), context.get("input_shape")
    largest = context.get("largest_id")
    if context.get("solve_for") == "input_dim" and type(largest) is int:
        if expected != largest + 1:
            return None
        return (
            f"The ids run from 0 (the padding id) to {largest}, and the Embedding's table "
            f"has one row per id: {largest} + 1 = {expected} rows, ids 0 to input_dim - 1."
        )
    if isinstance(context.get("model"), list) and input_shape is not None:
        return _explain_model_count(operator.index(expected), context)
    if layer is None or input_shape is None:
        return None
    expected = operator.index(expected)
    spec = shapes.layer_spec(layer)
    shape = _as_shape(input_shape)
    if context.get("solve_for") == "units" and isinstance(context.get("params"), int):
        # the question gives the count and asks for the units: the formula with them in
        solved = {**spec, "config": {**spec["config"], "units": expected}}
        arithmetic, count, _ = _formula(solved, shape)
        if count != context["params"]:
            return None
        return f"With units = {expected}: {arithmetic} = {count}, the count the question gives."
    arithmetic, count, why = _formula(spec, shape)
    # a formula that does not give the recorded number would explain something else
    if count != expected or shapes.count_params(spec, shape) != expected:
        return None
    text = f"{arithmetic} = {expected}. {why}"
    recurrent = spec["class_name"] in _GATES or (
        spec["class_name"] == "Bidirectional" and spec["config"]["layer"]["class_name"] in _GATES
    )
    if recurrent and len(shape) == 3 and shape[1] is not None:
        text += f" The {shape[1]} timesteps add nothing: the same weights are used at every step."
    return text


def _explain_model_count(expected: int, context: dict[str, Any]) -> str | None:
    """A model's count, layer by layer with each layer's formula, then the sum; a frozen
    layer is named and left out where the question counts trainable weights only."""
    try:
        rows = shapes.stack_shapes(context["model"], _as_shape(context["input_shape"]))
    except (ValueError, TypeError, KeyError):
        return None
    specs = [shapes.layer_spec(spec) for spec in context["model"]]
    specs = [spec for spec in specs if spec["class_name"] != "InputLayer"]
    if len(rows) != len(specs):
        return None
    trainable_only = bool(context.get("trainable_only"))
    parts, counted = [], []
    for row, spec in zip(rows, specs, strict=True):
        if not row.params or not isinstance(row.input_shape, tuple):
            continue
        arithmetic, count, _ = _formula(spec, row.input_shape)
        if count != row.params:
            return None
        if trainable_only and row.non_trainable_params:
            parts.append(f"{spec['class_name']} {count}, frozen (trainable=False): not counted")
            continue
        parts.append(f"{spec['class_name']}: {arithmetic} = {count}")
        counted.append(count)
    if sum(counted) != expected or not counted:
        return None
    total = " + ".join(map(str, counted)) + f" = {expected}" if len(counted) > 1 else ""
    what = "trainable weights" if trainable_only else "weights"
    return (
        f"Each layer's {what}, each reading the output of the one below: "
        + "; ".join(parts)
        + (f". In all: {total}." if total else ".")
    )


# --------------------------------------------------------------------------- shapes
def _batch_text(batch: int | None) -> str:
    if batch is None:
        return "The batch size is None: Keras fixes it only when data arrives."
    return f"The batch axis is {batch}: the number of samples in this batch."


def _explain_layer_shape(
    expected: tuple[int | None, ...], spec: dict[str, Any], shape: tuple[int | None, ...]
) -> str | None:
    name, config = spec["class_name"], spec["config"]
    if shapes.output_shapes(spec, shape)[0] != expected:
        return None
    batch = _batch_text(expected[0])
    if name in _GATES or name == "Bidirectional":
        inner = config["layer"]["config"] if name == "Bidirectional" else config
        units = expected[-1]
        if name == "Bidirectional":
            mode = config.get("merge_mode", "concat")
            if mode == "concat":
                last = (
                    f"The last axis, {units}, is 2 × {inner['units']} units: "
                    "`merge_mode='concat'`, the default, puts the forward and backward "
                    "outputs side by side."
                )
            else:
                last = (
                    f"The last axis is the {units} units: `merge_mode={mode!r}` combines the "
                    "two directions element by element."
                )
            unit_name = "2 × units" if mode == "concat" else "units"
        else:
            last = f"The last axis is the {_many(units, 'unit')}, one number per unit."
            unit_name = "units"
        if inner.get("return_sequences"):
            axes = f"(batch, timesteps, {unit_name})"
            time = (
                f"`return_sequences=True` returns the output at every step, so the "
                f"{expected[1]} timesteps of the input {_shape_text(shape)} are kept."
            )
        else:
            axes = f"(batch, {unit_name})"
            time = (
                "`return_sequences=False`, the default, returns only the last step's output, "
                f"so the {shape[1]} timesteps of the input {_shape_text(shape)} are gone."
            )
        return f"{axes} = {_shape_text(expected)}: {time} {batch} {last}"
    if name == "Dense":
        return (
            f"(batch, ..., units) = {_shape_text(expected)}: Dense replaces only the last axis "
            f"of its input {_shape_text(shape)}, the {shape[-1]} features, with its "
            f"{expected[-1]} units; the axes before it pass through unchanged. {batch}"
        )
    if name == "Embedding":
        axes = "(batch, timesteps, output_dim)" if len(expected) == 3 else "(..., output_dim)"
        return (
            f"{axes} = {_shape_text(expected)}: every id of the input {_shape_text(shape)} "
            f"becomes a vector of output_dim = {expected[-1]} numbers, so Embedding adds one "
            f"last axis and keeps all the others. {batch}"
        )
    return None


def _explain_shape(expected: Any, context: dict[str, Any]) -> str | None:
    expected = _as_shape(expected)
    if mistakes.asks_input(mistakes.facts(context, expected)):
        return _input_axes(expected)
    layer, input_shape = context.get("layer"), context.get("input_shape")
    if layer is not None and input_shape is not None:
        text = _explain_layer_shape(expected, shapes.layer_spec(layer), _as_shape(input_shape))
        if text:
            return text
    return _generic_axes(expected, context)


def _input_axes(expected: tuple[int | None, ...]) -> str | None:
    """A shape a layer reads (context ``role: "input"``): (batch, timesteps, features)."""
    if len(expected) not in (2, 3):
        return None
    features = expected[-1]
    feature_words = "1 feature" if features == 1 else f"{features} features"
    if len(expected) == 2:
        axes, steps = "(batch, features)", f"Each sample holds {feature_words}, the last axis."
    else:
        axes = "(batch, timesteps, features)"
        steps = (
            f"Each sequence has {expected[1]} timesteps, and each step x_t holds "
            f"{feature_words}, the last axis: even a single feature keeps its own axis."
        )
    return (
        f"{axes} = {_shape_text(expected)}: the shape the layer reads. "
        f"{_batch_text(expected[0])} {steps}"
    )


def _generic_axes(expected: tuple[int | None, ...], context: Mapping[str, Any]) -> str:
    """Each axis of a shape named from what the context says about the input."""
    input_shape = context.get("input_shape")
    input_shape = _as_shape(input_shape) if input_shape is not None else None
    timesteps = context.get("timesteps")
    if timesteps is None and input_shape is not None and len(input_shape) == 3:
        timesteps = input_shape[1]
    parts = [_batch_text(expected[0])] if expected else []
    if input_shape is not None and expected[:-1] == input_shape and len(expected) >= 2:
        parts.append(
            f"Every id of the input {_shape_text(input_shape)} becomes a vector of "
            f"{expected[-1]} numbers (an Embedding's output_dim): one last axis is added."
        )
        axes = "(batch, timesteps, output_dim)" if len(expected) == 3 else "(..., output_dim)"
        return f"{axes} = {_shape_text(expected)}. " + " ".join(parts)
    if len(expected) == 3 and timesteps is not None and expected[1] == timesteps:
        axes = "(batch, timesteps, last axis)"
        parts.append(
            f"The {timesteps} timesteps are kept: the layer returns an output at every step "
            "(for a recurrent layer, `return_sequences=True`)."
        )
    elif len(expected) == 2 and timesteps is not None:
        axes = "(batch, last axis)"
        parts.append(
            f"The time axis ({timesteps} timesteps) is gone: only the last step's output "
            "comes out (for a recurrent layer, `return_sequences=False`, the default)."
        )
    else:
        axes = {1: "(batch,)", 2: "(batch, last axis)", 3: "(batch, timesteps, last axis)"}.get(
            len(expected), "(batch, ..., last axis)"
        )
    numbers = "1 number" if expected and expected[-1] == 1 else f"{expected[-1]} numbers"
    if len(expected) == 2:
        parts.append(f"The last axis holds {numbers} per sample.")
    elif len(expected) >= 3:
        parts.append(f"The last axis holds {numbers} per sample and step.")
    return f"{axes} = {_shape_text(expected)}. " + " ".join(parts)


def _role(index: int, roles: Any) -> str:
    if isinstance(roles, list) and index < len(roles):
        return str(roles[index])
    return "the output" if index == 0 else f"state {index}"


def _weight_shapes(expected: list[tuple[int | None, ...]], roles: list[str]) -> str | None:
    """Kernel, recurrent kernel and bias, with the gates read off the recurrent kernel."""
    lowered = [role.lower() for role in roles]
    recurrent = next((i for i, r in enumerate(lowered) if "recurrent kernel" in r), None)
    if recurrent is None or len(expected[recurrent]) != 2:
        return None
    units, width = expected[recurrent]
    if not units or width is None or width % units:
        return None
    gates = width // units
    per = _many(units, "unit") if gates == 1 else f"{gates} blocks × {_many(units, 'unit')}"
    parts = []
    for role, low, shape in zip(roles, lowered, expected, strict=True):
        if "recurrent kernel" in low:
            axes = f" = ({_many(units, 'unit')}, {per})"
        elif "kernel" in low and len(shape) == 2:
            axes = f" = ({_many(shape[0], 'feature')}, {per})"
        elif "bias" in low and len(shape) == 1:
            axes = f" = ({per},)"
        elif "bias" in low and len(shape) == 2:
            axes = f" = (2, {per}): an input and a recurrent bias (`reset_after=True`)"
        else:
            axes = ""
        parts.append(f"{role} {_shape_text(shape)}{axes}")
    text = "; ".join(parts) + "."
    text = sentence_start(text)
    if gates > 1:
        text += (
            f" Keras keeps the {gates} blocks ({shapes.gated_blocks_named(gates)}) side by "
            "side in each weight."
        )
    return text


def _explain_shapes(expected: Any, context: dict[str, Any]) -> str | None:
    tensors = [_as_shape(shape) for shape in expected]
    roles = context.get("roles")
    if isinstance(roles, list) and len(roles) == len(tensors) and tensors:
        weights = _weight_shapes(tensors, [str(r) for r in roles])
        if weights:
            return weights
    timesteps = context.get("timesteps")
    input_shape = context.get("input_shape")
    if timesteps is None and input_shape is not None and len(input_shape) == 3:
        timesteps = input_shape[1]
    is_state = [bool(_STATE_ROLE.search(_role(i, roles).strip())) for i in range(len(tensors))]
    states = [shape for shape, state in zip(tensors, is_state, strict=True) if state]
    units = states[0][-1] if states else None
    parts = []
    for index, shape in enumerate(tensors):
        role = _role(index, roles)
        last = "units"
        if not is_state[index] and units and len(shape) >= 2 and shape[-1] == 2 * units:
            last = "2 × units: the forward and backward outputs side by side"
        if len(shape) == 3 and timesteps is not None and shape[1] == timesteps:
            axes = f"(batch, timesteps, {last}), every step"
        elif len(shape) == 2:
            axes = f"(batch, {last})"
            if is_state[index]:
                axes += ", after the last step"
        else:
            axes = None
        parts.append(f"{role}: {_shape_text(shape)}" + (f", {axes}" if axes else ""))
    count = len(tensors)
    lead = f"{count} tensors, in Keras's order" if count > 1 else "One tensor"
    return f"{lead}: " + "; ".join(parts) + "."


def _explain_layer_shapes(expected: Any, context: dict[str, Any]) -> str | None:
    described = _explain_shapes(expected, context)
    input_shape = context.get("input_shape")
    on = f" on input {_shape_text(_as_shape(input_shape))}" if input_shape is not None else ""
    these = "this tensor" if len(expected) == 1 else f"these {len(expected)} tensors"
    return f"Any layer that returns {these}{on} is right. {described}"


# --------------------------------------------------------------------------- the rest
def _explain_choice(expected: Any, context: dict[str, Any]) -> str | None:
    right = f"The right option is {_code(repr(expected))}."
    why = context.get("why")
    if isinstance(why, Mapping):
        why = why.get(expected)
    if isinstance(why, str) and why.strip():
        return f"{right} {why.strip()}"
    return right


def _explain_array(expected: Any, context: dict[str, Any]) -> str | None:
    from lstm_lib.mistakes import tolerance_text
    from lstm_lib.verdicts import ARRAY_ATOL, ARRAY_RTOL  # NumPy only

    array = np.asarray(expected, dtype=float)
    return (
        f"The array Keras computes, of shape {_shape_text(array.shape)}; an answer counts "
        f"as right when every entry is within {tolerance_text(ARRAY_RTOL, ARRAY_ATOL)} of it."
    )


def _explain_value(expected: Any, context: dict[str, Any]) -> str | None:
    if isinstance(expected, Mapping):
        return (
            f"The expected keyword arguments are {_code(repr(expected))}. Each key given its "
            "right value, type included, earns its share; a key added or left out costs one."
        )
    return (
        f"The expected value is {_code(repr(expected))}, found by running the question's code "
        "in Keras; the answer has to match it exactly, type included."
    )


def _explain_model(expected: Any, context: dict[str, Any]) -> str | None:
    if not isinstance(expected, Mapping) or "output_shape" not in expected:
        return None
    output = _as_shape(expected["output_shape"])
    params = operator.index(expected["params"])
    input_shape = context.get("input_shape")
    source = f"turns {_shape_text(_as_shape(input_shape))} into" if input_shape else "returns"
    # without input_shape: a model's added axes need not come from an Embedding
    axes = _generic_axes(output, {"timesteps": context.get("timesteps")})
    layers = expected.get("layers")
    if isinstance(layers, list) and layers:
        # compare_model judges each recorded layer's class and options, not only the shape
        # and the count: "any stack" would tell a learner that a wrong layer is right.
        listed = ", ".join(_code(_layer_call(entry)) for entry in layers)
        text = (
            f"The layers are judged in this order: {listed}, each with the options shown"
            f"{_judged_unshown(layers)} The model must also "
            f"{source.replace('turns', 'turn')} {_shape_text(output)} and hold exactly "
            f"{params} parameters in all."
        )
        for position, entry in enumerate(layers, start=1):
            keys = [str(key) for key in entry.get("free") or ()]
            if keys:
                # a free option is left out of the reference's config: the learner picks it
                verb = "is" if len(keys) == 1 else "are"
                text += (
                    f" {spoken_list([_code(key) for key in keys])} of layer {position} "
                    f"({entry['class_name']}) {verb} yours to choose: the total of {params} "
                    f"fixes {'it' if len(keys) == 1 else 'them'}."
                )
        return f"{text} {axes}"
    required = [str(name) for name in context.get("required_layers") or []]
    using = f" (with {spoken_list(required)})" if required else ""
    return (
        f"Any stack of layers{using} that {source} {_shape_text(output)} and holds exactly "
        f"{params} parameters in all is right: the output shape and the count are what is "
        f"checked. {axes}"
    )


def _judged_unshown(layers: Sequence[Mapping[str, Any]]) -> str:
    """The rest of the sentence on what is judged: the recorded options the layer calls
    leave out (at their Keras 3 default), and that every other option is free, naming an
    option other questions judge but this one leaves free (02 q7's activation)."""
    from lstm_lib.model_verdicts import DEFAULT_JUDGED, KERAS_DEFAULTS  # no TensorFlow

    hidden: list[str] = []
    unjudged: list[str] = []

    def visit(entry: Mapping[str, Any]) -> None:
        class_name = str(entry.get("class_name"))
        config = entry.get("config") or {}
        defaults = KERAS_DEFAULTS.get(class_name, {})
        for key, value in config.items():
            if key == "layer" and isinstance(value, Mapping):
                visit(value)
            elif key in defaults and defaults[key] == value and key not in hidden:
                hidden.append(key)
        free = set(entry.get("free") or ())
        for key in DEFAULT_JUDGED.get(class_name, ()):
            if key not in config and key not in free and key not in unjudged:
                unjudged.append(key)

    for entry in layers:
        visit(entry)
    said = ""
    if hidden:
        their = "its" if len(hidden) == 1 else "their"
        plural = "" if len(hidden) == 1 else "s"
        said = (
            f" and, where not shown, {spoken_list([_code(key) for key in hidden])} at {their} "
            f"Keras 3 default{plural}"
        )
    included = f" ({spoken_list([_code(key) for key in unjudged])} included)" if unjudged else ""
    return f"{said}; any other option is yours to choose{included}."


def _layer_call(entry: Mapping[str, Any]) -> str:
    """A recorded layer as the Keras call that builds it, its options at their default left out.

    The sizes come first, in the order of :data:`~lstm_lib.model_verdicts.DEFAULT_JUDGED`;
    a free option is written ``units=...``: its value is the learner's.
    """
    from lstm_lib.model_verdicts import DEFAULT_JUDGED, KERAS_DEFAULTS  # no TensorFlow

    class_name = str(entry["class_name"])
    defaults = KERAS_DEFAULTS.get(class_name, {})
    order = list(DEFAULT_JUDGED.get(class_name, ()))
    config = entry.get("config") or {}
    keys = sorted(config, key=lambda key: order.index(key) if key in order else len(order))
    arguments = []
    for key in keys:
        value = config[key]
        if key == "layer" and isinstance(value, Mapping):
            arguments.insert(0, _layer_call(value))
        elif key not in defaults or defaults[key] != value:
            arguments.append(f"{key}={value!r}")
    arguments += [f"{key}=..." for key in entry.get("free") or ()]
    return f"{class_name}({', '.join(arguments)})"


_EXPLAINERS: dict[str, Callable[[Any, dict[str, Any]], str | None]] = {
    "int": _explain_int,
    "shape": _explain_shape,
    "shapes": _explain_shapes,
    "layer_shapes": _explain_layer_shapes,
    "choice": _explain_choice,
    "array": _explain_array,
    "value": _explain_value,
    "model": _explain_model,
}
