"""Mistakes: name the confusion behind a wrong answer from the question's own context.

:mod:`lstm_lib.verdicts` checks an answer's form and dispatches on the question's kind;
this module says *why* a well-formed answer is wrong. Its rules are general: each one
reads the question's context as recorded in ``references/`` (the Keras ``layer`` spec with
its ``units``, ``use_bias``, ``return_sequences``, ``reset_after``, ``merge_mode``,
``input_dim``, ``output_dim``, ``mask_zero``; the ``input_shape``, ``features``,
``timesteps`` and the ``roles`` of a list of tensors) and fires only where its confusion
can happen for that layer. Nothing is typed per question: that is what the recorded
``mistakes`` of a question are for, and they are tried before these rules.

A count rule predicts the wrong count a confusion gives, with :mod:`lstm_lib.shapes`
doing the arithmetic (so there is one copy of it), and fires when the answer is that
count. A shape rule compares the answer with the expected shape axis by axis. When no
rule fires, the ``explain_*`` functions still say what is right about the answer and
which part is not, with the question's numbers ("features = 8 here").

Everything here is NumPy-free plain Python; nothing imports TensorFlow or Keras.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lstm_lib import shapes

__all__ = [
    "COUNT_RULES",
    "KERAS3_NAMES",
    "Facts",
    "count_mistake",
    "explain_count",
    "explain_shape",
    "explain_value",
    "facts",
    "iter_count_candidates",
    "list_mistake",
    "shape_mistake",
    "weight_facts",
]

Shape = tuple[int | None, ...]
_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_RECURRENT = tuple(_GATES)

#: Keras 1 and 2 argument names and what Keras 3 calls them (``None``: dropped, no
#: replacement). The layer arguments come from :mod:`lstm_lib.shapes`, which refuses them
#: in a spec; the fit and Model keywords are added here.
KERAS3_NAMES: dict[str, str | None] = {
    **shapes._KERAS1_NAMES,  # the one table of renamed layer arguments
    "input_length": None,
    "batch_input_shape": "batch_shape",
    "nb_epoch": "epochs",
    "nb_epochs": "epochs",
    "input": "inputs",
    "output": "outputs",
}
_WHAT_IT_IS = {
    "units": "the size of h_t",
    "recurrent_activation": "the activation of the gates",
    "kernel_initializer": "how W starts",
    "recurrent_initializer": "how U starts",
    "dropout": "the dropout on the inputs x_t",
    "recurrent_dropout": "the dropout on the state h(t-1)",
    "inputs": "the model's input tensors",
    "outputs": "the model's output tensors",
    "epochs": "how many epochs fit runs",
    "batch_shape": "the input shape with the batch axis",
}


# =========================================================================== facts


@dataclass(frozen=True)
class Facts:
    """What a question's context says about its layer and input, with defaults filled in.

    Attributes
    ----------
    class_name : str or None
        The layer's class (``"LSTM"``, ``"Bidirectional"``, ...), or ``None`` when the
        context names no layer.
    config : dict
        The layer's config with the Keras 3 defaults (:func:`lstm_lib.shapes.layer_spec`).
    cell : str or None
        The recurrent class: the layer's own, or the one inside a ``Bidirectional``.
    units, features, timesteps : int or None
        ``units`` of the layer (of one direction for ``Bidirectional``); ``features``, the
        size of the last input axis; ``timesteps``, the size of the time axis.
    input_shape : tuple or None
        ``(batch, timesteps, features)`` (``(batch, timesteps)`` of ids for Embedding).
    input_dim, output_dim : int or None
        Embedding's vocabulary size and vector length.
    vocabulary : int or None
        A vocabulary size the context names for a layer above an Embedding.
    roles : tuple of str
        What each tensor of a list answer is (``"output"``, ``"h"``, ``"the kernel W"``).
    weights : bool
        Whether the shapes asked for are weight arrays, which have no batch axis.
    embedding : bool
        Whether the layer is an Embedding (named, or an output one axis longer than the
        ids it reads).
    """

    class_name: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    cell: str | None = None
    units: int | None = None
    features: int | None = None
    timesteps: int | None = None
    input_shape: Shape | None = None
    input_dim: int | None = None
    output_dim: int | None = None
    vocabulary: int | None = None
    roles: tuple[str, ...] = ()
    weights: bool = False
    embedding: bool = False

    @property
    def gates(self) -> int | None:
        """How many gated blocks the recurrent layer stores side by side (LSTM 4, GRU 3)."""
        return _GATES.get(self.cell or "")

    @property
    def merge_mode(self) -> str | None:
        """A Bidirectional layer's merge_mode (``"concat"`` by default), else ``None``."""
        return self.config.get("merge_mode") if self.class_name == "Bidirectional" else None

    def numbers(self) -> str:
        """The question's numbers in words, e.g. ``"features = 8, units = 16, timesteps = 20"``."""
        named = [
            ("input_dim", self.input_dim),
            ("output_dim", self.output_dim),
            ("features", self.features),
            ("units", self.units),
            ("timesteps", self.timesteps),
        ]
        return ", ".join(f"{name} = {value}" for name, value in named if value is not None)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or type(value) is bool else operator.index(value)
    except TypeError:
        return None


def facts(context: Mapping[str, Any], expected: Any = None) -> Facts:
    """Read what the diagnosis may use from a question's context.

    Parameters
    ----------
    context : mapping
        The question's recorded context: ``layer``, ``input_shape``, ``features``,
        ``timesteps``, ``roles``, optionally ``vocabulary``.
    expected : Any, optional
        The expected value, used to tell an Embedding's output from its ids when the
        context names no layer.

    Returns
    -------
    Facts

    Examples
    --------
    >>> f = facts({"layer": {"class_name": "LSTM", "config": {"units": 16}},
    ...            "input_shape": [None, 20, 8]})
    >>> f.units, f.features, f.timesteps, f.gates
    (16, 8, 20, 4)
    """
    spec = None
    if isinstance(context.get("layer"), Mapping):
        try:
            spec = shapes.layer_spec(context["layer"])
        except (ValueError, TypeError, KeyError):
            spec = None
    class_name = spec["class_name"] if spec else None
    config: Mapping[str, Any] = spec["config"] if spec else {}
    cell, cell_config = class_name, config
    if class_name in ("Bidirectional", "TimeDistributed") and isinstance(
        config.get("layer"), Mapping
    ):
        cell, cell_config = config["layer"]["class_name"], config["layer"]["config"]
    input_shape = None
    if isinstance(context.get("input_shape"), Sequence):
        try:
            input_shape = tuple(_int(n) for n in context["input_shape"])
        except TypeError:
            input_shape = None
    embedding = class_name == "Embedding" or (
        class_name is None
        and not context.get("required_layers")
        and input_shape is not None
        and len(input_shape) == 2
        and isinstance(expected, Sequence)
        and len(expected) == 3
    )
    features = _int(context.get("features"))
    if features is None and input_shape and len(input_shape) >= 2 and not embedding:
        features = input_shape[-1]
    timesteps = _int(context.get("timesteps"))
    if timesteps is None and input_shape and len(input_shape) >= (2 if embedding else 3):
        timesteps = input_shape[1]
    roles = tuple(str(role) for role in context.get("roles") or () if isinstance(role, str))
    weights = any(word in role.lower() for role in roles for word in ("kernel", "bias", "weight"))
    return Facts(
        class_name=class_name,
        config=config,
        cell=cell if cell in _RECURRENT else None,
        units=_int(cell_config.get("units")),
        features=None if embedding else features,
        timesteps=timesteps,
        input_shape=input_shape,
        input_dim=_int(config.get("input_dim")) if class_name == "Embedding" else None,
        output_dim=_int(config.get("output_dim")) if class_name == "Embedding" else None,
        vocabulary=_int(context.get("vocabulary")),
        roles=roles,
        weights=weights,
        embedding=embedding,
    )


# =========================================================================== counts
# A count rule yields (the count a confusion gives, the message naming it). The first rule,
# in the order of COUNT_RULES, whose count is the answer (and not the right count) wins, so
# the rules that read a flag of the layer come before the general ones.

Candidates = Iterator[tuple[int | None, str]]
CountRule = Callable[[int, Facts], Candidates]


def _count(
    f: Facts, class_name: str | None = None, input_shape: Any = None, **changes: Any
) -> int | None:
    """The count of the question's layer with some config changed, or None if it fails."""
    spec = {"class_name": class_name or f.class_name, "config": {**f.config, **changes}}
    return _count_spec(spec, input_shape or f.input_shape)


def _terms(f: Facts) -> dict[str, int]:
    try:
        return shapes.param_terms({"class_name": f.class_name, "config": f.config}, f.input_shape)
    except (ValueError, KeyError, TypeError):
        return {}


def _with_features(f: Facts, features: int) -> Shape | None:
    if f.input_shape is None or len(f.input_shape) < 2:
        return None
    return f.input_shape[:-1] + (features,)


def _rule_flag_use_bias(expected: int, f: Facts) -> Candidates:
    """use_bias=False and a bias counted anyway."""
    if f.class_name in ("Dense", *_RECURRENT) and f.config.get("use_bias") is False:
        yield (
            _count(f, use_bias=True),
            "That still counts a bias, but use_bias=False removes b: only the kernel W"
            + (" and the recurrent kernel U are" if f.cell else " is")
            + f" left ({f.numbers()}).",
        )


def _rule_gru_reset_after(expected: int, f: Facts) -> Candidates:
    """GRU's reset_after read the other way: one bias vector per gate or two."""
    if f.class_name != "GRU" or not f.config.get("use_bias", True):
        return
    flipped = not f.config.get("reset_after", True)
    yield (
        _count(f, reset_after=flipped),
        f"That is the count for `reset_after={flipped}`. With reset_after={not flipped}, "
        "GRU keeps "
        + (
            f"two bias vectors (input and recurrent), 2 × 3 × units biases (units = {f.units})."
            if not flipped
            else f"a single bias vector of 3 × units (units = {f.units})."
        ),
    )


def _rule_features_from_elsewhere(expected: int, f: Facts) -> Candidates:
    """Another number of the question (timesteps, a vocabulary size) used as features."""
    if f.features is None or f.class_name not in ("Dense", *_RECURRENT, "Bidirectional"):
        return
    sources = [
        (
            f.timesteps,
            f"That uses the timesteps ({f.timesteps}) as the features: the kernel W has one "
            f"row per feature, the size of the *last* input axis (features = {f.features} "
            "here), and the same W serves every timestep.",
        ),
        (
            f.vocabulary,
            f"That uses the vocabulary size ({f.vocabulary}) as the features: this layer "
            f"reads the Embedding's vectors, features = {f.features} numbers per step; "
            "the vocabulary sets only the rows of the Embedding's table.",
        ),
    ]
    for number, message in sources:
        if number and number != f.features:
            yield _count(f, input_shape=_with_features(f, number)), message


def _rule_units_features_swapped(expected: int, f: Facts) -> Candidates:
    """units and features swapped."""
    if f.class_name not in _RECURRENT or not f.units or not f.features:
        return
    if f.units != f.features:
        yield (
            _count(f, input_shape=_with_features(f, f.units), units=f.features),
            f"That swaps units and features: units = {f.units} (the layer's size, the "
            f"columns of W and both sides of U), features = {f.features} (the rows of W).",
        )


def _rule_bias_sized_by_input(expected: int, f: Facts) -> Candidates:
    """The bias given one entry per feature instead of one per unit."""
    bias = _terms(f).get("bias")
    if bias and f.units and f.features and f.features != f.units:
        yield (
            expected - bias + bias // f.units * f.features,
            f"That sizes the bias by the input: b has one entry per unit (units = {f.units})"
            + (" and gate" if (f.gates or 1) > 1 else "")
            + f", not one per feature (features = {f.features}).",
        )


def _rule_double_bias(expected: int, f: Facts) -> Candidates:
    """Two bias vectors where Keras keeps one (PyTorch's b_ih and b_hh)."""
    bias = _terms(f).get("bias")
    if bias and f.class_name in ("LSTM", "SimpleRNN") and f.units:
        yield (
            expected + bias,
            f"That counts two bias vectors per gate, as PyTorch stores them (b_ih and b_hh). "
            f"A Keras {f.class_name} keeps one: {f.gates} × units biases (units = {f.units}).",
        )


def _rule_one_gate(expected: int, f: Facts) -> Candidates:
    """One gated block counted where LSTM has 4 and GRU 3."""
    gates = f.gates
    if f.class_name in _RECURRENT and gates and gates > 1 and not expected % gates:
        yield (
            expected // gates,
            f"That is the count for one gate. {f.class_name} has {gates} gated blocks, "
            f"each with its own kernel, recurrent kernel and bias: multiply by {gates} "
            f"({f.numbers()}).",
        )


def _rule_gate_count(expected: int, f: Facts) -> Candidates:
    """The wrong number of gated blocks: LSTM counted with 3, as a GRU or a SimpleRNN, ..."""
    gates = f.gates
    if f.class_name not in _RECURRENT or not gates or expected % gates:
        return
    block = expected // gates
    like = {1: " (the SimpleRNN's one)", 3: " (as a GRU has)", 4: " (as an LSTM has)"}
    for wrong in (3, 4, 1, 2):
        if wrong != gates and not (wrong == 1 and gates > 1):
            yield (
                wrong * block,
                f"That counts {wrong} gated block{'s' if wrong > 1 else ''}{like.get(wrong, '')}"
                f"; {f.class_name} has {gates}. Each block has a kernel, a recurrent kernel "
                f"and a bias ({f.numbers()}).",
            )
    for other in _RECURRENT:
        if other != f.class_name:
            yield (
                _count(f, class_name=other),
                f"That is the count of {_a(other)} of the same size. {f.class_name} has "
                f"{gates} gated block{'s' if gates > 1 else ''} (LSTM 4, GRU 3, SimpleRNN 1; "
                f"{f.numbers()}).",
            )


def _a(name: str) -> str:
    # by sound: "an LSTM" (el-es-tee-em), "a SimpleRNN"
    return f"{'an' if name[:1] in 'AEIOU' or name == 'LSTM' else 'a'} {name}"


def _rule_left_out_blocks(expected: int, f: Facts) -> Candidates:
    """The bias, the recurrent kernel, or both, left out; U counted as units × features."""
    terms = _terms(f)
    if terms.get("bias"):
        yield (
            expected - terms["bias"],
            "That leaves out the bias: each unit (and each gate) has one bias term "
            "when use_bias=True, the default"
            + (
                " (a GRU with reset_after=True has two: input and recurrent)."
                if f.class_name == "GRU" and f.config.get("reset_after", True)
                else "."
            )
            + f" units = {f.units} here.",
        )
    rk = terms.get("recurrent_kernel")
    if rk:
        yield (
            expected - rk,
            f"That leaves out the recurrent kernel U (units × units per gate, units = "
            f"{f.units}): a recurrent layer also weighs its previous output h(t-1).",
        )
        yield (
            terms["kernel"],
            "That is the kernel W alone: a recurrent layer also has the recurrent kernel U "
            f"(units × units per gate) and the bias b ({f.numbers()}).",
        )
        if f.features and f.units and f.features != f.units:
            yield (
                expected - rk + terms["kernel"],
                "That counts the recurrent kernel U as units × features: U multiplies h(t-1), "
                f"which has units numbers, so it is units × units per gate (units = {f.units},"
                f" features = {f.features}).",
            )


def _rule_timesteps_multiply(expected: int, f: Facts) -> Candidates:
    """The count multiplied by the number of timesteps."""
    if f.timesteps and f.timesteps > 1 and f.class_name in ("Dense", "Embedding", *_RECURRENT):
        shared = (
            "the same table serves every position of the sequence"
            if f.class_name == "Embedding"
            else "the same weights are reused at every step"
        )
        yield (
            expected * f.timesteps,
            f"The number of timesteps does not change the parameter count: {shared} "
            f"(timesteps = {f.timesteps} here).",
        )


def _rule_dense_flattens(expected: int, f: Facts) -> Candidates:
    """Dense on (batch, timesteps, features) counted as if it flattened the time axis."""
    if f.class_name == "Dense" and f.input_shape and len(f.input_shape) == 3:
        if f.timesteps and f.features and f.units:
            bias = _terms(f).get("bias", 0)
            yield (
                f.timesteps * f.features * f.units + bias,
                "Dense does not flatten the timesteps into one long vector: it acts on the "
                f"last axis only, so W is features × units ({f.numbers()}), shared by every "
                "timestep.",
            )


def _rule_embedding(expected: int, f: Facts) -> Candidates:
    """Embedding: an extra row for unknown words or padding, a bias, the sequence length."""
    if f.class_name != "Embedding" or not f.input_dim or not f.output_dim:
        return
    rows, width = f.input_dim, f.output_dim
    table = f"input_dim × output_dim (input_dim = {rows}, output_dim = {width})"
    if f.config.get("mask_zero"):
        yield (
            (rows + 1) * width,
            "mask_zero=True adds no row: id 0 is one of the input_dim ids, and its row stays "
            f"in the table (only its output is masked). The table is {table}.",
        )
        yield (
            (rows - 1) * width,
            "mask_zero=True removes no row: id 0 keeps its row in the table, only its output "
            f"is masked downstream. The table is {table}.",
        )
    else:
        yield (
            (rows + 1) * width,
            "There is no extra row for an unknown word or padding: input_dim already counts "
            f"every id from 0 to {rows - 1}, and the table is {table}.",
        )
    yield (
        rows * width + width,
        f"An Embedding has no bias: its only weights are the table, {table}.",
    )
    yield (
        rows + width,
        f"The table has one row of output_dim numbers per id: it is {table}, a product.",
    )
    if f.timesteps:
        yield (
            width * f.timesteps,
            f"output_dim × timesteps is the size of one sequence's output, not the weights: "
            f"the table is {table}, whatever the sequence length ({f.timesteps}).",
        )


def _rule_bidirectional(expected: int, f: Facts) -> Candidates:
    """Bidirectional counted once or four times, or an inner confusion in both copies."""
    if f.class_name != "Bidirectional" or not isinstance(f.config.get("layer"), Mapping):
        return
    inner = f.config["layer"]
    yield (
        _count_spec(inner, f.input_shape),
        "That counts one direction only: Bidirectional holds two copies of the layer, "
        f"a forward and a backward one, so the count doubles ({f.numbers()} per copy).",
    )
    yield (
        2 * expected,
        "That counts four copies: Bidirectional holds exactly two, a forward and a backward "
        f"{inner['class_name']}, so the count is twice one {inner['class_name']}'s "
        f"({f.numbers()}).",
    )
    if f.config.get("backward_layer") in (None, inner) and expected % 2 == 0:
        inner_facts = _replace_layer(f, inner)
        for rule in COUNT_RULES:
            if rule is _rule_bidirectional:
                continue
            for value, message in rule(expected // 2, inner_facts):
                if value is not None:
                    yield 2 * value, f"In each direction: {message}"


def _count_spec(spec: Mapping[str, Any], input_shape: Any) -> int | None:
    try:
        return shapes.count_params(spec, input_shape)
    except (ValueError, KeyError, TypeError):
        return None


def _replace_layer(f: Facts, layer: Mapping[str, Any]) -> Facts:
    return facts({"layer": layer, "input_shape": f.input_shape, "timesteps": f.timesteps})


#: The count rules, in the order they are tried.
COUNT_RULES: tuple[CountRule, ...] = (
    _rule_flag_use_bias,
    _rule_gru_reset_after,
    _rule_bidirectional,
    _rule_features_from_elsewhere,
    _rule_units_features_swapped,
    _rule_one_gate,
    _rule_left_out_blocks,
    _rule_bias_sized_by_input,
    _rule_double_bias,
    _rule_gate_count,
    _rule_timesteps_multiply,
    _rule_dense_flattens,
    _rule_embedding,
)


def count_mistake(answer: int, expected: int, context: Mapping[str, Any]) -> str | None:
    """Name the confusion behind a wrong parameter count, or return None.

    Parameters
    ----------
    answer, expected : int
        The learner's count and the one Keras gives.
    context : mapping
        The question's context with its ``layer`` spec and ``input_shape``.

    Returns
    -------
    str or None
        The message of the first rule of :data:`COUNT_RULES` that predicts this answer.

    Examples
    --------
    >>> context = {"layer": {"class_name": "LSTM", "config": {"units": 16}},
    ...            "input_shape": [None, 20, 8]}
    >>> count_mistake(2368, 1600, context).split(":")[0]
    'That uses the timesteps (20) as the features'
    """
    if answer == expected:
        return None
    f = facts(context)
    if f.class_name is None or f.input_shape is None:
        return None
    for rule in COUNT_RULES:
        for value, message in rule(expected, f):
            if value is not None and value == answer and value != expected:
                return message
    return None


def explain_count(answer: int, expected: int, context: Mapping[str, Any]) -> str:
    """Say what is wrong with a count: the named confusion, or what the count is made of.

    Returns
    -------
    str
        Never a bare "is not the count": with a layer in the context, the blocks the count
        is made of and the question's numbers; without one, whether it is too large or
        too small.
    """
    named = count_mistake(answer, expected, context)
    if named:
        return named
    noun = str(context.get("noun", "count"))
    size = "too large" if answer > expected else "too small"
    f = facts(context)
    made_of = _count_terms(f) if f.input_shape is not None else None
    if made_of:
        return f"{answer} is {size} for this {noun}. {made_of}"
    hint = "; write the formula out term by term and check each one" if noun == "count" else ""
    return f"{answer} is {size} for the {noun}{hint}."


def _count_terms(f: Facts) -> str | None:
    """The blocks a layer's count is made of, in words, with the question's numbers."""
    name = f.class_name
    if name == "Dense":
        bias = (
            ", plus b, units (use_bias=True)"
            if f.config.get("use_bias", True)
            else " and no b (use_bias=False)"
        )
        rest = (
            f"; the timesteps ({f.timesteps}) play no part: Dense acts on the last axis"
            if f.input_shape and len(f.input_shape) >= 3 and f.timesteps
            else ""
        )
        return f"Dense's count is W, features × units{bias}: {f.numbers()}{rest}."
    if name in _RECURRENT:
        if not f.config.get("use_bias", True):
            bias = "no b (use_bias=False)"
        elif name == "GRU" and f.config.get("reset_after", True):
            bias = "b, 2 × units (reset_after=True keeps two)"
        else:
            bias = "b, units"
        blocks = f"{f.gates} gated blocks, each" if (f.gates or 1) > 1 else "one block of"
        return (
            f"{_a(name)[:1].upper()}{_a(name)[1:]}'s count is {blocks} W (features × units), "
            f"U (units × units) and {bias}: "
            f"{f.numbers()}; the timesteps play no part."
        )
    if name == "Embedding":
        return (
            f"An Embedding's count is its table, input_dim × output_dim, and nothing else: "
            f"{f.numbers()}."
        )
    if name == "Bidirectional" and isinstance(f.config.get("layer"), Mapping):
        inner = _count_terms(_replace_layer(f, f.config["layer"]))
        return f"A Bidirectional layer holds two copies of its layer. {inner or ''}".strip()
    return None


# =========================================================================== shapes


def _axis_names(expected: Shape, f: Facts, role: str | None = None) -> list[str]:
    """What each axis of an expected shape is, in words."""
    if f.weights:
        text = (role or "").lower()
        if "bias" in text:
            return ["gates × units"] if len(expected) == 1 else ["2 (input, recurrent)", "bias"]
        first = "units" if "recurrent" in text else "features"
        return [first, "gates × units" if (f.gates or 0) > 1 or f.cell else "units"][
            : len(expected)
        ] + ["axis"] * max(0, len(expected) - 2)
    last = "output_dim" if f.embedding else "units"
    if f.merge_mode == "concat":
        last = "2 × units"
    names = ["batch"] + ["timesteps"] * (len(expected) - 2) + [last]
    if f.embedding and len(expected) > 3:
        names = ["batch"] + [f"axis {i}" for i in range(1, len(expected) - 1)] + [last]
    return names[: len(expected)] if len(expected) > 1 else ["the only axis"]


def _as_class(f: Facts, class_name: str) -> Facts:
    return Facts(
        class_name=class_name,
        features=f.features,
        timesteps=f.timesteps,
        roles=f.roles,
    )


def _layer_word(f: Facts) -> str:
    return f.class_name or "this layer"


def _is_state(role: str | None) -> bool:
    words = (role or "").lower().split()
    return bool(words) and words[-1] in ("h", "c", "state", "states")


def _shape_rules(a: Shape, e: Shape, f: Facts, role: str | None) -> Iterator[str | None]:
    """The activation-shape rules, in order; each yields a message or None."""
    n, m = len(a), len(e)
    text = (role or "").lower()
    if "dense" in text:  # a part of a model named by its layer: judge it as that layer
        f = _as_class(f, "Dense")
    # --- Bidirectional: only the merged output is two directions wide
    if n == m and a[:-1] == e[:-1] and e[-1] is not None and a[-1] is not None:
        if _is_state(role) and a[-1] == 2 * e[-1] and ("forward" in text or "backward" in text):
            yield (
                f"{a!r} is as wide as the merged output, but each state belongs to one "
                f"direction: (batch, units), units = {e[-1]}. Only the output is merged."
            )
        if "merged" in text and 2 * a[-1] == e[-1]:
            yield (
                "That is the shape of one direction. merge_mode='concat' puts the forward and "
                f"backward outputs side by side on the last axis: 2 × units = {e[-1]}."
            )
        if "merged" in text and a[-1] == 2 * e[-1]:
            yield (
                "That is the 'concat' shape. A merge_mode of 'sum', 'mul' or 'ave' combines "
                f"the two directions element by element, so the last axis stays units = {e[-1]}."
            )
    # --- the Embedding's input given back as its output
    if f.embedding and f.input_shape is not None and a == f.input_shape:
        yield (
            f"{a!r} is the Embedding's input, the token ids. The layer replaces each id by its "
            f"row of the table, output_dim numbers, so it adds an axis: (batch, timesteps, "
            "output_dim)."
        )
    # --- the time axis kept
    if n == m + 1 and m >= 2 and a[:1] + a[2:] == e:
        if _is_state(role):
            yield (
                f"{a!r} has a time axis, but a state is the value after the last step only: "
                "(batch, units), whatever return_sequences says. Only the output keeps the "
                "time axis."
            )
        elif f.class_name == "Dense":
            yield f"{a!r} adds a time axis: Dense keeps the axes of its input and changes the last."
        elif not f.embedding:
            yield (
                f"{a!r} keeps the time axis: that is the shape with "
                "`return_sequences=True`. This layer returns only the last step, "
                "so the answer is (batch, units)-shaped."
            )
    # --- the time axis dropped
    if n + 1 == m and m >= 3 and e[:1] + e[2:] == a:
        if f.embedding:
            yield (
                f"{a!r} loses the time axis: the Embedding looks up one vector per id and keeps "
                "them all, one per timestep: (batch, timesteps, output_dim)."
            )
        elif f.class_name == "Dense":
            yield (
                f"{a!r} drops the time axis, but Dense never removes an axis: it maps the last "
                "one (features -> units) and keeps (batch, timesteps) as they are."
            )
        else:
            yield (
                f"{a!r} drops the time axis, but `return_sequences=True` returns "
                "the output at every step: (batch, timesteps, units)."
            )
    # --- two axes multiplied into one
    if n + 1 == m:
        for i in range(1, m - 1):
            if None not in e[i : i + 2] and a == e[:i] + (e[i] * e[i + 1],) + e[i + 2 :]:
                yield (
                    f"{a!r} merges two axes into one ({e[i]} × {e[i + 1]} = {e[i] * e[i + 1]}): "
                    f"{_layer_word(f)} keeps every axis of its input and "
                    + (
                        "adds output_dim after them."
                        if f.embedding
                        else "changes only the last one; nothing is flattened."
                    )
                )
    # --- the batch axis
    if a == e[1:] and m >= 2:
        yield (
            f"{a!r} leaves out the batch axis. Keras shapes start with the batch "
            "size, which is None until data arrives."
        )
    if n == m and m >= 2 and a[1:] == e[1:] and a[0] != e[0]:
        if e[0] is None:
            if m == 2 and f.features is not None and a[0] == f.features:
                yield (
                    f"{a!r} is the shape of the kernel W, (features, units), a weight: the "
                    "output's first axis is the batch, which the model does not fix (None)."
                )
            what = f" ({a[0]} is timesteps here)" if a[0] == f.timesteps else ""
            yield (
                "The first entry is the batch size, which the model does not fix: "
                f"Keras writes it as None, so {e[0]!r} rather than {a[0]!r}{what}."
            )
        elif a[0] is None:
            yield (
                f"Here the batch axis has a real size, {e[0]}: a real array, or an Input with "
                "a batch_shape, fixes the first axis, and Keras writes that number, not None."
            )
    # --- the last axis
    if n == m and a[:-1] == e[:-1] and a[-1] != e[-1]:
        last = a[-1]
        if f.embedding:
            if f.input_dim is not None and last == f.input_dim:
                yield (
                    f"The last axis is output_dim, the length of each id's vector"
                    f"{f' (output_dim = {f.output_dim})' if f.output_dim else ''}; input_dim, "
                    f"{f.input_dim}, is the number of rows in the table."
                )
            elif f.timesteps is not None and last == f.timesteps:
                yield (
                    "The last axis is output_dim, the length of each id's vector; the "
                    f"timesteps ({f.timesteps}) are already the axis before it."
                )
        if f.merge_mode == "concat" and f.units and last == f.units:
            yield (
                f"That is the shape of one direction. merge_mode='concat' puts the forward and "
                f"backward outputs side by side on the last axis: 2 × units = {2 * f.units}."
            )
        if f.merge_mode in ("sum", "mul", "ave") and f.units and last == 2 * f.units:
            yield (
                f"That is the 'concat' shape. merge_mode={f.merge_mode!r} combines the two "
                f"directions element by element, so the last axis stays units = {f.units}; "
                "only 'concat' doubles it."
            )
        if f.features is not None and last == f.features and e[-1] != f.features:
            yield (
                "The last axis of the output is `units`, not the "
                f"{f.features} input features: each of the layer's units produces one number "
                "per step."
            )
        if f.timesteps is not None and last == f.timesteps:
            yield (
                "The last axis is `units`; the number of timesteps is an axis of the "
                f"input (timesteps = {f.timesteps}), not the size of the layer's output."
            )
        if f.vocabulary is not None and last == f.vocabulary:
            yield (
                f"The last axis is this layer's units; {f.vocabulary} is the Embedding's "
                "vocabulary size, which sets the rows of its table and never reaches this layer."
            )
        gates = f.gates
        if gates and gates > 1 and last in {gates * (e[-1] or 0), gates * (f.units or 0)}:
            yield (
                f"The {gates} gates are inside the layer: its output has units numbers per "
                f"direction, not {gates} × units."
            )
    # --- the time axis of the wrong size
    if n == m and m >= 3 and a[:1] == e[:1] and a[2:] == e[2:] and a[1] != e[1]:
        if f.embedding and f.input_dim is not None and a[1] == f.input_dim:
            yield (
                f"{f.input_dim} is input_dim, the vocabulary size: it sets how many rows the "
                f"table has, not an axis of the output. The time axis is the {e[1]} ids of each "
                "sequence."
            )
        if f.features is not None and a[1] == f.features:
            yield (
                f"Axis 1 is the timesteps (timesteps = {f.timesteps or e[1]} here); "
                f"{f.features} is the features, the last input axis, which the layer maps "
                "to units."
            )
    # --- the axes in the wrong order
    if n == m and a != e and sorted(map(str, a)) == sorted(map(str, e)):
        names = ", ".join(_axis_names(e, f))
        yield f"The right sizes in the wrong order: Keras orders the axes as ({names})."


def _weight_rules(a: Shape, e: Shape, f: Facts, role: str | None) -> Iterator[str | None]:
    """Weight-shape rules: no batch axis here, ever."""
    text = (role or "").lower()
    gates = f.gates
    n, m = len(a), len(e)
    if n == m == 2 and a == e[::-1] and a != e:
        first = "units" if "recurrent" in text else "features"
        yield (
            f"{a!r} is transposed: Keras multiplies the input row from the left (x_t W), so "
            f"{role or 'this weight'} is ({first}, gates · units). PyTorch stores the transpose."
        )
    if gates and gates > 1 and n == m and a[:-1] == e[:-1] and e[-1] == gates * (a[-1] or 0):
        yield (
            f"{a!r} is one gate's block. Keras keeps the {gates} gates side by side in each "
            f"array: {gates} · units = {e[-1]} columns."
        )
    if n == m == 2 and a[1:] == e[1:] and a[0] != e[0]:
        if "recurrent" in text:
            yield (
                f"U multiplies the previous state h(t-1), which has units numbers, so its "
                f"first axis is units ({e[0]}), not {a[0]}"
                + (" (the features)." if a[0] == f.features else ".")
            )
        elif f.timesteps is not None and a[0] == f.timesteps:
            yield (
                f"The kernel's first axis is features, not timesteps ({f.timesteps}): the same W "
                "serves every timestep, so the number of timesteps appears in no weight."
            )
        else:
            yield (
                f"The kernel W has one row per input feature (the last input axis), so its "
                f"first axis is {e[0]}, not {a[0]}."
            )
    if (
        "bias" in text
        and n == m == 1
        and f.features
        and a[0] in {f.features, (gates or 1) * f.features}
    ):
        yield (
            f"{a!r} sizes the bias by the input: b has one entry per unit"
            + (f" and gate, {gates} · units" if (gates or 1) > 1 else "")
            + f", not per feature (features = {f.features})."
        )
    if "bias" in text and n == 1 and m == 2 and e[0] == 2 and a == e[1:]:
        yield (
            "A GRU with reset_after=True keeps two bias rows, one for the input and one for "
            f"the recurrent side: (2, 3 · units) = {e!r}."
        )
    if "bias" in text and n == 2 and m == 1 and a[0] == 2 and a[1:] == e:
        yield (
            f"Only a GRU with reset_after=True keeps two bias rows; this bias is one vector, {e!r}."
        )


def shape_mistake(
    answer: tuple, expected: tuple, context: Mapping[str, Any], role: str | None = None
) -> str | None:
    """Name the classic confusion between two shapes, or return None.

    Parameters
    ----------
    answer, expected : tuple
        The learner's shape and the one Keras gives, e.g. ``(batch, timesteps, units)``.
    context : mapping
        The question's context (see :func:`facts`).
    role : str, optional
        Which tensor of a list this is (``"h"``, ``"the kernel W"``).

    Examples
    --------
    >>> shape_mistake((None, 10, 32), (None, 32), {}).split(":")[0]
    '(None, 10, 32) keeps the time axis'
    """
    answer, expected = tuple(answer), tuple(expected)
    if answer == expected:
        return None
    f = facts(context, expected)
    rules = _weight_rules if f.weights else _shape_rules
    for message in rules(answer, expected, f, role):
        if message:
            return message
    return None


def explain_shape(
    answer: tuple, expected: tuple, context: Mapping[str, Any], role: str | None = None
) -> str:
    """Say what is wrong with a shape: the named confusion, or which axes are right.

    Examples
    --------
    >>> context = {"features": 8, "timesteps": 10}
    >>> print(explain_shape((None, 3, 7), (None, 10, 16), context))
    ... # doctest: +NORMALIZE_WHITESPACE
    (None, 3, 7): the batch axis is right; the timesteps axis is not (timesteps = 10 here);
    the units axis is not (it is the layer's units; features = 8 is the input's last axis).
    """
    answer, expected = tuple(answer), tuple(expected)
    named = shape_mistake(answer, expected, context, role)
    if named:
        return named
    f = facts(context, expected)
    names = _axis_names(expected, f, role)
    if len(answer) != len(expected):
        kind = "this weight" if f.weights else "this output"
        return (
            f"{answer!r} has {len(answer)} ax{'is' if len(answer) == 1 else 'es'}; {kind} has "
            f"{len(expected)}: ({', '.join(names)})."
        )
    parts = []
    for name, mine, theirs in zip(names, answer, expected, strict=True):
        if mine == theirs:
            parts.append(f"the {name} axis is right")
        else:
            parts.append(f"the {name} axis is not ({_axis_hint(name, theirs, f)})")
    return f"{answer!r}: " + "; ".join(parts) + "."


def _axis_hint(name: str, expected: int | None, f: Facts) -> str:
    if name == "batch":
        return "None until data arrives" if expected is None else f"it is {expected} here"
    if name == "timesteps":
        return f"timesteps = {f.timesteps} here" if f.timesteps else "the length of the sequence"
    if name == "features":
        return f"features = {f.features} here" if f.features else "one row per input feature"
    if name in ("units", "2 × units"):
        known = f"units = {f.units}" if f.units else "the layer's units"
        extra = f"; features = {f.features} is the input's last axis" if f.features else ""
        return (
            f"it is {'2 × ' if name != 'units' else ''}{known}{extra}"
            if f.units
            else f"it is the layer's units{extra}"
        )
    if name == "output_dim":
        return f"output_dim = {f.output_dim}" if f.output_dim else "each id's vector length"
    if name == "gates × units":
        return f"{f.gates or 'gates'} × units, the gates side by side"
    return "check its size"


# =========================================================================== lists of shapes


def _role(index: int, f: Facts) -> str:
    if index < len(f.roles):
        return f.roles[index]
    return "the output" if index == 0 else "a state"


def _roles_text(expected: Sequence[Shape], f: Facts) -> str:
    return ", ".join(_role(i, f) for i in range(len(expected)))


def _role_words(f: Facts) -> set[str]:
    return {word for role in f.roles for word in role.lower().replace(",", " ").split()}


def list_mistake(answer: list, expected: list, context: Mapping[str, Any]) -> str | None:
    """Name the confusion behind a list of shapes of the wrong length or order, or None.

    Parameters
    ----------
    answer, expected : list of tuple
        The learner's shapes and the ones Keras gives, one per returned tensor or weight.
    context : mapping
        The question's context; its ``roles`` name the tensors.

    Returns
    -------
    str or None
        A message about the list as a whole; ``None`` when the parts are to be judged one by
        one (same length, same order).
    """
    answer = [tuple(shape) for shape in answer]
    expected = [tuple(shape) for shape in expected]
    f = facts(context)
    words = _role_words(f)
    n, m = len(answer), len(expected)
    listed = f"[{_roles_text(expected, f)}]"
    if f.weights:
        gates = f.gates or _gates_from_weights(expected)
        if gates and gates > 1 and n == gates * m:
            return (
                f"Those are per-gate weights, {n} arrays: Keras keeps the {gates} gates side by "
                f"side in each array, so the layer stores {m}: {listed}."
            )
        if (
            gates
            and gates > 1
            and n == m
            and all(
                mine[:-1] == theirs[:-1] and theirs[-1] == gates * (mine[-1] or 0)
                for mine, theirs in zip(answer, expected, strict=True)
            )
        ):
            return (
                f"Those are the shapes of one gate's block. Keras keeps the {gates} gates side "
                f"by side in each array: {gates} · units columns, {listed}."
            )
        two_d = [i for i, theirs in enumerate(expected) if len(theirs) == 2]
        if n == m and len(two_d) >= 2 and all(answer[i] == expected[i][::-1] for i in two_d):
            return (
                "Those are transposed: Keras multiplies the input row from the left, x_t W, so "
                "the kernel is (features, gates · units) and the recurrent kernel (units, "
                "gates · units). PyTorch stores the transposes."
            )
        if n == m - 1 and m == 3 and len(answer[0]) == 2 and expected[0][1:] == answer[0][1:]:
            rows = answer[0][0]
            if rows == (expected[0][0] or 0) + (expected[1][0] or 0):
                return (
                    "That is the concatenation view, one matrix acting on [h(t-1), x(t)]. "
                    f"Keras stores it as two arrays, the kernel W for x_t and the recurrent "
                    f"kernel U for h(t-1), then the bias: {listed}."
                )
        for i in range(m):
            if n == m - 1 and answer == expected[:i] + expected[i + 1 :]:
                return f"That leaves out {_role(i, f)}: the layer stores {m} arrays, {listed}."
        if n != m:
            return f"The layer stores {m} weight arrays, {listed}; your list has {n}."
        return None
    if n == 1 and m > 1:
        which = "the output" if answer[0] == expected[0] else "one tensor"
        return (
            f"{answer[0]!r} is {which} only. With `return_state=True` the layer returns the "
            f"output followed by its final states: {listed}, {m} tensors."
        )
    bidirectional = "forward" in words or "backward" in words
    if bidirectional and n < m:
        stacked = [
            shape for shape in answer if any(_stacks_two(shape, theirs) for theirs in expected)
        ]
        if stacked:
            return (
                f"{stacked[0]!r} stacks the two directions on one axis. Bidirectional does not "
                f"stack them: it returns each direction's states as separate tensors, {listed}, "
                f"{m} tensors."
            )
        if n in (2, 3):
            return (
                f"{n} tensors is what one {'LSTM' if n == 3 else 'GRU'} returns. Bidirectional "
                f"returns the states of both copies: {listed}, {m} tensors."
            )
    if n == m + 1 and answer[:m] == expected and "c" not in words and "h" in words:
        return (
            "Only an LSTM has a cell state c. A GRU (or a SimpleRNN) keeps only h, so "
            f"return_state=True gives {listed}, {m} tensors."
        )
    if n + 1 == m and "c" in words and answer == expected[:-1]:
        return (
            "That leaves out the cell state c: an LSTM keeps two states, h and c, so "
            f"return_state=True gives {listed}, {m} tensors."
        )
    if n != m:
        return (
            f"This call returns {m} tensor(s), in Keras's order ({_roles_text(expected, f)}); "
            f"your list has {n}."
        )
    if answer != expected and sorted(map(repr, answer)) == sorted(map(repr, expected)):
        return (
            f"The right shapes in the wrong order: Keras returns {listed}, the output first, "
            "then each state (h before c)."
        )
    return None


def _stacks_two(mine: Shape, theirs: Shape) -> bool:
    """Whether a shape is the expected one with the two directions stacked into an axis."""
    if len(mine) == len(theirs) + 1:
        return any(mine[:i] + mine[i + 1 :] == theirs and mine[i] == 2 for i in range(1, len(mine)))
    if len(mine) == len(theirs) and len(theirs) >= 3:
        return any(
            theirs[i] is not None
            and mine[i] == 2 * theirs[i]
            and mine[:i] + mine[i + 1 :] == theirs[:i] + theirs[i + 1 :]
            for i in range(1, len(theirs) - 1)
        )
    return False


def _gates_from_weights(expected: Sequence[Shape]) -> int | None:
    # (features, gates·units), (units, gates·units), (gates·units,): gates from U's shape
    if len(expected) >= 2 and len(expected[1]) == 2 and expected[1][0]:
        ratio, rest = divmod(expected[1][1] or 0, expected[1][0])
        return ratio if not rest and ratio in (1, 3, 4) else None
    return None


def weight_facts(context: Mapping[str, Any], expected: Sequence[Shape]) -> dict[str, Any]:
    """The context of a weight question with features, units and gates read off the shapes.

    A weight question records only the roles; its expected shapes (W, U, b) give
    ``features`` (W's rows) and ``units`` (U's rows), so the rules can use the numbers.
    """
    gates = _gates_from_weights(expected)
    if not facts(context).weights or not gates or len(expected[0]) != 2:
        return dict(context)
    cell = {1: "SimpleRNN", 3: "GRU", 4: "LSTM"}[gates]
    added: dict[str, Any] = {"features": expected[0][0]}
    if "layer" not in context:
        added["layer"] = {"class_name": cell, "config": {"units": expected[1][0]}}
    return {**added, **context}


# =========================================================================== values


def _old_name(key: str) -> str:
    new = KERAS3_NAMES[key]
    if new is None:
        return f"{key} is gone in Keras 3: it is deprecated and ignored, so leave it out."
    what = f", {_WHAT_IT_IS[new]}" if new in _WHAT_IT_IS else ""
    return f"{key} is the Keras 1/2 name of {new}{what}; Keras 3 calls it {new}."


def explain_value(answer: Any, expected: Any, context: Mapping[str, Any]) -> str:
    """Say what is wrong with plain data (a dict of arguments, an exception's name, ...).

    Parameters
    ----------
    answer, expected : Any
        The learner's value and the recorded one, both already well formed.
    context : mapping
        The question's context (unused today; kept for the common signature).

    Returns
    -------
    str
        For a dict: the Keras 1/2 names it uses with their Keras 3 names, swapped values,
        and which keys are right, missing or not expected. Otherwise what kind of value is
        right and that its value is not.

    Examples
    --------
    >>> explain_value({"output_dim": 8}, {"units": 8}, {}).split(";")[0]
    'output_dim is the Keras 1/2 name of units, the size of h_t'
    """
    if type(answer) is dict and type(expected) is dict:
        return _explain_dict(answer, expected)
    if type(answer) is str and type(expected) is str:
        old = KERAS3_NAMES.get(answer)
        if old == expected:
            return _old_name(answer)
        return (
            f"{answer!r} is a string, as asked, but not what Keras 3 does here; "
            "run it in your head step by step: what does Python check first?"
            if expected.endswith(("Error", "Exception", "Warning"))
            else f"{answer!r} is a string, as asked, but not the right one."
        )
    return f"{answer!r} has the right form but is not the value Keras gives."


def _explain_dict(answer: dict, expected: dict) -> str:
    notes: list[str] = []
    right = [key for key in answer if key in expected and answer[key] == expected[key]]
    for key, value in answer.items():
        if key not in expected and key in KERAS3_NAMES:
            notes.append(_old_name(key))
        elif key in expected and value != expected[key]:
            if type(value) is str and KERAS3_NAMES.get(value) == expected[key]:
                notes.append(f"For {key}: {_old_name(value)}")
            elif type(value) is str and type(expected[key]) is str and value + "s" == expected[key]:
                notes.append(f"For {key}: the Keras 3 name is plural, {expected[key]!r}.")
    wrong = [key for key in answer if key in expected and answer[key] != expected[key]]
    for i, first in enumerate(wrong):
        for second in wrong[i + 1 :]:
            if answer[first] == expected[second] and answer[second] == expected[first]:
                notes.append(f"The values of {first} and {second} are swapped.")
    renamed = {KERAS3_NAMES.get(key) for key in answer if key in KERAS3_NAMES}
    missing = [key for key in expected if key not in answer and key not in renamed]
    unknown = [key for key in answer if key not in expected and key not in KERAS3_NAMES]
    if missing:
        notes.append(f"Missing: {_and(missing)} (leaving it out keeps Keras's default).")
    if unknown:
        notes.append(f"Not asked for: {_and(unknown)}.")
    if wrong and not notes:
        notes.append(f"The value of {_and(wrong)} is not the one asked for.")
    good = f"{_and(right)} {'is' if len(right) == 1 else 'are'} right." if right else ""
    return " ".join(filter(None, [good, *notes])) or "Not the dict asked for."


def _and(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def iter_count_candidates(expected: int, context: Mapping[str, Any]) -> Iterable[tuple[int, str]]:
    """Every wrong count the rules predict for a question, in the order they are tried.

    Parameters
    ----------
    expected : int
        The right count.
    context : mapping
        The question's context with its ``layer`` and ``input_shape``.

    Returns
    -------
    list of (int, str)
        Each predicted wrong count with the message that names it; the first entry with a
        given count is the message :func:`count_mistake` gives for it.
    """
    f = facts(context)
    if f.class_name is None or f.input_shape is None:
        return []
    return [
        (value, message)
        for rule in COUNT_RULES
        for value, message in rule(expected, f)
        if value is not None and value != expected
    ]
