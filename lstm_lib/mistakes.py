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

An array rule recomputes the question's answer with a classic slip in it (the gate order, a
left-out term) with the NumPy twins of :mod:`lstm_lib.reference`, from the inputs and
weights its context records. Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_lib import reference, shapes
from lstm_lib.answers import to_plain
from lstm_lib.judging import sentence_start, with_article
from lstm_lib.prose import spoken_list
from lstm_lib.shapes import gated_blocks_named

__all__ = [
    "COUNT_RULES",
    "KERAS3_NAMES",
    "Facts",
    "array_mistake",
    "count_mistake",
    "count_readings",
    "explain_array",
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
_GATES = shapes._RECURRENT_GATES  # the one table of each layer's gated blocks
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
    role : str or None
        What the one shape asked for is, from the context's ``role``, when it is not the
        layer's output: ``"input"`` for the shape the layer reads (see :func:`asks_input`).
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
    role: str | None = None

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
        ``timesteps``, ``roles``, optionally ``vocabulary`` and ``role`` (``"input"`` when
        the shape asked for is the one the layer reads, not its output).
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
        role=context["role"] if isinstance(context.get("role"), str) else None,
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
        if f.features and f.features != f.units:
            # A bias sized by the input is a second confusion on top of the first: name
            # both, without the count the learner is left to find.
            yield (
                expected + (f.gates or 1) * f.features,
                f"That adds a bias with one entry per feature (features = {f.features}), but "
                "a bias has one entry per unit, and use_bias=False removes it anyway: count "
                "only the kernel" + (" W and the recurrent kernel U." if f.cell else " W."),
            )


def _rule_gru_reset_after(expected: int, f: Facts) -> Candidates:
    """GRU's reset_after read the other way: one bias vector or two. The message says what
    this GRU keeps, never that the answer is the other setting's count, which a question of
    its own may ask (07 q1 and q2)."""
    if f.class_name != "GRU" or not f.config.get("use_bias", True):
        return
    flipped = not f.config.get("reset_after", True)
    yield (
        _count(f, reset_after=flipped),
        f"The biases are counted wrong: with `reset_after={not flipped}`, this GRU keeps "
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
    if f.vocabulary and f.class_name != "Embedding":
        # The layer reads an Embedding's vectors: its table is that layer's, not this one's.
        yield (
            expected + f.vocabulary * f.features,
            f"That adds the Embedding's table, input_dim × output_dim ({f.vocabulary} × "
            f"{f.features}): those weights belong to the Embedding. The question asks for "
            f"the {f.class_name}'s count alone.",
        )


def _rule_units_features_swapped(expected: int, f: Facts) -> Candidates:
    """units and features swapped."""
    if f.class_name not in _RECURRENT or not f.units or not f.features:
        return
    if f.units != f.features:
        yield (
            _count(f, input_shape=_with_features(f, f.units), units=f.features),
            f"That swaps units and features: units = {f.units} (the layer's size, the "
            f"columns of W and both sides of U), features = {f.features} (the rows of W)."
            + (
                # the same number as 2 blocks of 4: both readings are named
                " Or it counts 2 blocks where an LSTM has 4: with units = 2 × features, both "
                "give this number."
                if _two_blocks_is_swapped(f)
                else ""
            ),
        )


def _two_blocks_is_swapped(f: Facts) -> bool:
    """Whether an LSTM counted with 2 blocks gives the count with units and features
    swapped: 2 × (u(u + f) + u) = 4 × (f(f + u) + f) when u = 2f, bias or not."""
    return f.gates == 4 and bool(f.features) and f.units == 2 * f.features


def _rule_bias_sized_by_input(expected: int, f: Facts) -> Candidates:
    """The bias given one entry per feature instead of one per unit."""
    bias = _terms(f).get("bias")
    if bias and f.units and f.features and f.features != f.units:
        yield (
            expected - bias + bias // f.units * f.features,
            f"That sizes the bias by the input: b has one entry per unit (units = {f.units})"
            + (" and gate" if (f.gates or 1) > 1 else "")
            + f", not one per feature (features = {f.features})."
            + (
                # the same number as two bias vectors: both confusions are named
                " Or it counts two bias vectors, as PyTorch stores them (b_ih and b_hh): "
                "with features = 2 × units, both give this number."
                if _bias_by_input_is_double(f)
                else ""
            ),
        )


def _bias_by_input_is_double(f: Facts) -> bool:
    """Whether a bias sized by the input gives the count of two bias vectors: features =
    2 × units, for the layers whose bias has one entry per unit and block."""
    return (
        bool(f.units)
        and f.features == 2 * f.units
        and f.class_name in ("LSTM", "SimpleRNN", "Dense")
        and bool(_terms(f).get("bias"))
    )


def _rule_double_bias(expected: int, f: Facts) -> Candidates:
    """Two bias vectors where Keras keeps one (PyTorch's b_ih and b_hh)."""
    bias = _terms(f).get("bias")
    if _bias_by_input_is_double(f):
        return  # the same number as a bias sized by the input, whose message names both
    if bias and f.class_name in ("LSTM", "SimpleRNN") and f.units:
        yield (
            expected + bias,
            f"That counts two bias vectors, as PyTorch stores them (b_ih and b_hh). "
            f"A Keras {f.class_name} keeps one: {f.gates} × units biases (units = {f.units}).",
        )
    if bias and f.class_name == "Dense" and f.units:
        yield (
            expected + bias,
            f"That counts two bias vectors. A Dense layer keeps one, b, one entry per unit "
            f"(units = {f.units})."
            + (
                # features + units adds the same 1 as a second bias: both readings are named
                " Or it adds features and units where the kernel W holds features × units "
                "weights: with units = 1, both give this number."
                if f.units == 1
                else ""
            ),
        )


def _rule_sums_for_products(expected: int, f: Facts) -> Candidates:
    """features + units written where the kernel holds features × units weights."""
    terms = _terms(f)
    if not terms.get("kernel") or not f.features or not f.units:
        return
    pair = "one weight for every (input feature, unit) pair"
    if f.class_name == "Dense":
        if f.units == 1 and terms.get("bias"):
            return  # the same number as a second bias, whose message names both
        yield (
            expected - terms["kernel"] + f.features + f.units,
            f"That adds features and units (features = {f.features}, units = {f.units}); the "
            f"kernel W holds features × units weights, {pair}.",
        )
        return
    gates = f.gates or 1
    bias = terms.get("bias", 0)
    for sums in (
        (f.features + f.units) + 2 * f.units,  # W and U each read as a sum
        f.features + 2 * f.units,  # units × (units + features) read as units + units + features
    ):
        yield (
            gates * sums + bias,
            f"That adds sizes where the weights multiply them: W holds features × units and U "
            f"units × units weights per block, {pair} ({f.numbers()}).",
        )


def _rule_one_gate(expected: int, f: Facts) -> Candidates:
    """One gated block counted where LSTM has 4 and GRU 3."""
    gates = f.gates
    if f.class_name in _RECURRENT and gates and gates > 1 and not expected % gates:
        yield (
            expected // gates,
            f"That is the count for one block. {f.class_name} has {gates} blocks "
            f"({gated_blocks_named(gates)}), each with its own {_block_words(f)}: multiply by "
            f"{gates} ({f.numbers()}).",
        )


def _rule_gate_count(expected: int, f: Facts) -> Candidates:
    """The wrong number of gated blocks: LSTM counted with 3, as a GRU or a SimpleRNN, ..."""
    gates = f.gates
    if f.class_name not in _RECURRENT or not gates or expected % gates:
        return
    block = expected // gates
    like = {1: " (the SimpleRNN's one)", 3: " (as a GRU has)", 4: " (as an LSTM has)"}
    for wrong in (3, 4, 1, 2):
        # 2 blocks of an LSTM with units = 2 × features: the swap's message names both
        if wrong == 2 and _two_blocks_is_swapped(f):
            continue
        if wrong != gates and not (wrong == 1 and gates > 1):
            yield (
                wrong * block,
                f"That counts {wrong} block{'s' if wrong > 1 else ''}{like.get(wrong, '')}; "
                f"{f.class_name} has {_blocks_of(gates)}. Each block has "
                f"{_block_words(f, 'a')} ({f.numbers()}).",
            )
    # the other class as its own defaults build it (a GRU with Keras 3's reset_after=True),
    # keeping only what both share: options of one class may not exist in the other
    shared = {key: f.config[key] for key in ("units", "use_bias") if key in f.config}
    for other in _RECURRENT:
        if other != f.class_name:
            yield (
                _count_spec({"class_name": other, "config": shared}, f.input_shape),
                f"That is the count of {with_article(other)} of the same size. {f.class_name} has "
                f"{_blocks_of(gates)} (LSTM 4, GRU 3, SimpleRNN 1; "
                f"{f.numbers()}).",
            )


def _blocks_of(gates: int) -> str:
    """A layer's blocks counted and named: "4 blocks (three gates and the candidate)", or
    "1 block (no gates)" for a SimpleRNN."""
    if gates == 1:
        return "1 block (no gates)"
    return f"{gates} blocks ({gated_blocks_named(gates)})"


def _block_words(f: Facts, article: str = "") -> str:
    """What one gated block holds: the bias only when the layer has one."""
    a = f"{article} " if article else ""
    if f.config.get("use_bias", True):
        return f"{a}kernel, {a}recurrent kernel and {a}bias"
    return f"{a}kernel and {a}recurrent kernel (no bias: use_bias=False)"


def _rule_left_out_blocks(expected: int, f: Facts) -> Candidates:
    """The bias, the recurrent kernel, or both, left out; U counted as units × features."""
    terms = _terms(f)
    if terms.get("bias"):
        yield (
            expected - terms["bias"],
            "That leaves out the bias: "
            + (
                "each unit of each block has two bias terms here, input and recurrent "
                "(a GRU with reset_after=True, the default)"
                if f.class_name == "GRU" and f.config.get("reset_after", True)
                else f"each unit{' of each block' if (f.gates or 1) > 1 else ''} has one bias "
                "term when use_bias=True, the default"
            )
            + f"; units = {f.units} here.",
        )
    rk = terms.get("recurrent_kernel")
    if rk:
        yield (
            expected - rk,
            f"That leaves out the recurrent kernel U (units × units per block, units = "
            f"{f.units}): a recurrent layer also weighs its previous output h(t-1).",
        )
        yield (
            terms["kernel"],
            "That is the kernel W alone: a recurrent layer also has the recurrent kernel U "
            f"(units × units per block) and the bias b ({f.numbers()}).",
        )
        if f.features and f.units and f.features != f.units:
            yield (
                expected - rk + terms["kernel"],
                "That counts the recurrent kernel U as units × features: U multiplies h(t-1), "
                f"which has units numbers, so it is units × units per block (units = {f.units},"
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


def _rule_counts_the_output(expected: int, f: Facts) -> Candidates:
    """The numbers the layer outputs for one sample taken for its weights: on a sequence,
    timesteps × the last axis (02 q3's 160 on (batch, 10, 8) was told it counted two bias
    vectors, which that number also is)."""
    # an Embedding's own rule says this of its output_dim × timesteps
    if f.class_name not in ("Dense", *_RECURRENT, "Bidirectional"):
        return
    try:
        output = shapes.output_shapes(
            {"class_name": f.class_name, "config": f.config}, f.input_shape
        )[0]
    except (ValueError, TypeError, KeyError, IndexError):
        return
    if len(output) != 3 or not all(isinstance(n, int) for n in output[1:]):
        return
    timesteps, width = output[1], output[2]
    axis = "(2 × units, both directions)" if f.class_name == "Bidirectional" else "units"
    yield (
        timesteps * width,
        f"That counts the numbers the layer outputs for one sample, timesteps × {axis} "
        f"({timesteps} × {width}), not its weights: the weights do not depend on the timesteps, "
        "and the same ones serve every step.",
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
    units = _int((inner.get("config") or {}).get("units"))
    if units:
        doubled = {**inner, "config": {**inner["config"], "units": 2 * units}}
        yield (
            _count_spec(doubled, f.input_shape),
            f"That is one {inner['class_name']} with 2 × units: Bidirectional does not double "
            f"the units inside one layer, it holds two copies of the {inner['class_name']}, "
            f"each with its own W, U and b on the same input ({f.numbers()} per copy).",
        )
        two = _count_spec(doubled, f.input_shape)
        yield (
            2 * two if two is not None else None,
            f"That gives each direction 2 × units: concat doubles the width of the merged "
            f"output, not the units of each copy. Each {inner['class_name']} keeps the units "
            f"it is given ({f.numbers()} per copy).",
        )
    if _same_copy(f.config.get("backward_layer"), inner) and expected % 2 == 0:
        inner_facts = _replace_layer(f, inner)
        for rule in COUNT_RULES:
            # the merged output is the Bidirectional's own, which the rule reads whole
            if rule in (_rule_bidirectional, _rule_counts_the_output):
                continue
            for value, message in rule(expected // 2, inner_facts):
                if value is not None:
                    yield 2 * value, f"In each direction, {_sentence_within(message)}"


def _sentence_within(message: str) -> str:
    """``message`` continuing a sentence: its opening word lower-cased where it is an
    ordinary word ("That leaves out ..."), never a name or a number ("LSTM", "1152").

    Examples
    --------
    >>> _sentence_within("That leaves out the bias.")
    'that leaves out the bias.'
    >>> _sentence_within("LSTM has 4 blocks.")
    'LSTM has 4 blocks.'
    """
    first = message.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower():
        return first.lower() + message[len(first) :]
    return message


def _same_copy(backward: Any, forward: Mapping[str, Any]) -> bool:
    """Whether a Bidirectional's backward layer is a copy of its forward one: Keras records
    the copy it makes with its own name and go_backwards flipped, which change no weight."""
    if backward is None:
        return True
    if not isinstance(backward, Mapping) or backward.get("class_name") != forward["class_name"]:
        return False
    ignored = ("name", "go_backwards")

    def core(config: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in config.items() if key not in ignored}

    return core(backward.get("config") or {}) == core(forward.get("config") or {})


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
    _rule_sums_for_products,
    _rule_gate_count,
    _rule_timesteps_multiply,
    _rule_dense_flattens,
    _rule_counts_the_output,
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
    for value, message in iter_count_candidates(expected, context):
        if value == answer:
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
    size = "too large" if answer > expected else "too small"
    solve = context.get("solve_for")
    if solve == "units":
        return _units_fallback(answer, expected, context)
    if solve == "input_dim":
        return (
            f"{answer} is {size} for input_dim: the table needs one row per id, from 0 (the "
            "padding id) to the largest id"
            + (", and not one more." if answer > expected else ", so every id has its row.")
        )
    if isinstance(context.get("model"), Sequence) and context.get("input_shape"):
        made = _model_terms(context)
        if made:
            return f"{answer} is {size} for this model's {_total_word(context)}. {made}"
    noun = str(context.get("noun", "count"))
    size = "too large" if answer > expected else "too small"
    f = facts(context)
    made_of = _count_terms(f) if f.input_shape is not None else None
    if made_of:
        return f"{answer} is {size} for this {noun}. {made_of}"
    hint = "; write the formula out term by term and check each one" if noun == "count" else ""
    return f"{answer} is {size} for the {noun}{hint}."


# --------------------------------------------------------------------------- models
# A model's count is the sum of its layers': each single-layer rule is tried on each layer
# (with the input that layer really gets), and a few confusions of the whole stack.


def _model_rows(context: Mapping[str, Any]) -> list[Any]:
    try:
        return list(shapes.stack_shapes(list(context["model"]), tuple(context["input_shape"])))
    except (ValueError, TypeError, KeyError):
        return []


def _counted(row: Any, trainable_only: bool) -> int:
    return int(row.params) - (int(row.non_trainable_params) if trainable_only else 0)


def _total_word(context: Mapping[str, Any]) -> str:
    return "trainable count" if context.get("trainable_only") else "total"


def _label(spec: Mapping[str, Any]) -> str:
    """A layer as the prompt writes it: LSTM(16), Embedding(500, 8), Dense(3)."""
    name = spec["class_name"]
    config = spec.get("config") or {}
    if name == "Embedding":
        return f"Embedding({config.get('input_dim')}, {config.get('output_dim')})"
    if name == "Bidirectional" and isinstance(config.get("layer"), Mapping):
        return f"Bidirectional({_label(config['layer'])})"
    return f"{name}({config['units']})" if "units" in config else name


def _model_candidates(expected: int, context: Mapping[str, Any]) -> Candidates:
    rows = _model_rows(context)
    specs = [shapes.layer_spec(spec) for spec in context["model"]]
    specs = [spec for spec in specs if spec["class_name"] != "InputLayer"]
    if not rows or len(rows) != len(specs):
        return
    trainable_only = bool(context.get("trainable_only"))
    labels = [f"the {_label(spec)} layer" for spec in specs]
    model_input = tuple(context["input_shape"])
    timesteps = _int(model_input[1]) if len(model_input) >= 2 else None
    for row, label in zip(rows, labels, strict=True):
        if _counted(row, trainable_only):
            yield (
                expected - _counted(row, trainable_only),
                f"That leaves out {label}: the {_total_word(context)} adds up every layer's "
                "weights, this one's too.",
            )
        if trainable_only and row.non_trainable_params:
            yield (
                expected + int(row.non_trainable_params),
                f"That counts {label}, which is frozen: trainable=False keeps its weights out of "
                "the trainable count (they still count in the model's total).",
            )
    recurrent = [
        i for i, spec in enumerate(specs) if spec["class_name"] in (*_RECURRENT, "Bidirectional")
    ]
    if timesteps and recurrent:
        total = expected
        for i in recurrent:
            shape = tuple(rows[i].input_shape)
            if _counted(rows[i], trainable_only) and shape[-1] != timesteps:
                wrong = _count_spec(specs[i], shape[:-1] + (timesteps,))
                total = None if wrong is None or total is None else total - rows[i].params + wrong
        names = " and ".join(sorted({specs[i]["class_name"] for i in recurrent}))
        which = f"every {names} layer" if len(recurrent) > 1 else f"the {names} layer"
        yield (
            total,
            f"That takes the timesteps ({timesteps}) as the features of {which}: a "
            "layer's features are the last axis of its input, the output of the layer right "
            "below it (an Embedding's output_dim, a lower LSTM's units). The timesteps appear "
            "in no weight.",
        )
    by_total: dict[int, dict[str, list[str]]] = {}
    for i, (row, spec, label) in enumerate(zip(rows, specs, labels, strict=True)):
        counted = _counted(row, trainable_only)
        if not counted or counted != row.params:
            continue
        shape = tuple(row.input_shape)
        if spec["class_name"] in ("Dense", *_RECURRENT, "Bidirectional") and i >= 1:
            below = labels[i - 1]
            for j in range(i - 1):
                other = rows[j].output_shapes[0][-1]
                if other and other != shape[-1]:
                    yield (
                        expected - counted + (_count_spec(spec, shape[:-1] + (other,)) or 0),
                        f"That gives {label} the features of {labels[j]}'s output ({other}); a "
                        f"layer reads the output of the layer right below it, {below}.",
                    )
        inner = facts({"layer": spec, "input_shape": list(shape), "timesteps": timesteps})
        for rule in COUNT_RULES:
            for value, message in rule(counted, inner):
                if value is not None and value != counted:
                    by_total.setdefault(expected - counted + value, {}).setdefault(
                        label, []
                    ).append(_sentence_within(message))
    # A slip in one layer can give the total a slip in another gives (08 q3's 6027: 3 blocks
    # in the LSTM(16) layer, 2 in the LSTM(8) one): such a total names each layer's slip.
    for total, said in by_total.items():
        if len(said) == 1:
            ((label, messages),) = said.items()
            for message in messages:
                yield total, f"In {label}, {message}"
        else:
            slips = [f"in {label}, {messages[0]}" for label, messages in said.items()]
            yield (
                total,
                sentence_start(slips[0])
                + "".join(f" Or, {slip}" for slip in slips[1:])
                + " Either slip gives this total.",
            )


def _model_terms(context: Mapping[str, Any]) -> str | None:
    """What a model's count is made of: each layer's blocks, with the input it reads."""
    rows = _model_rows(context)
    specs = [shapes.layer_spec(spec) for spec in context["model"]]
    specs = [spec for spec in specs if spec["class_name"] != "InputLayer"]
    if not rows or len(rows) != len(specs):
        return None
    parts = []
    for row, spec in zip(rows, specs, strict=True):
        name = spec["class_name"]
        features = row.input_shape[-1] if isinstance(row.input_shape, tuple) else None
        frozen = " (frozen: not trainable)" if row.non_trainable_params else ""
        if name == "Embedding":
            parts.append(f"{_label(spec)}: input_dim × output_dim{frozen}")
        elif name == "Dense":
            bias = " + units" if spec["config"].get("use_bias", True) else ""
            parts.append(f"{_label(spec)} on {features} features: features × units{bias}{frozen}")
        elif name in _RECURRENT:
            gates = _GATES[name]
            bias = {0: "", 1: " + units", 2: " + 2 × units"}[_bias_vectors(facts({"layer": spec}))]
            times = f"{gates} × " if gates > 1 else ""
            parts.append(
                f"{_label(spec)} on {features} features: {times}(features × units + units × "
                f"units{bias}){frozen}"
            )
        elif row.params:
            parts.append(f"{_label(spec)}{frozen}")
    if not parts:
        return None
    return (
        "Add up each layer's count, each layer reading the output of the one below: "
        + "; ".join(parts)
        + "."
    )


# --------------------------------------------------------------------------- inverse counts
# A question that gives the count and asks for a size (units, input_dim): its context has
# ``solve_for`` and what the count is made of.


def _roots(linear: int, total: int) -> list[int]:
    """The whole number whose u² + linear·u comes nearest to total (both, on a tie; the
    root itself when it is whole): the units a learner finds by solving a wrong formula.
    Only the nearest: the other neighbour misses by more, and is told its own count.

    Examples
    --------
    >>> _roots(14, 160), _roots(4, 12)
    ([7], [2])
    """
    root = (-linear + (linear * linear + 4 * total) ** 0.5) / 2
    near = [u for u in {int(np.floor(root)), int(np.ceil(root))} if u > 0]
    if not near:
        return []
    gaps = {u: abs(u * (u + linear) - total) for u in near}
    return sorted(u for u in near if gaps[u] == min(gaps.values()))


def _units_candidates(expected: int, context: Mapping[str, Any]) -> Candidates:
    f = facts(context)
    gates = f.gates or 1
    params = _int(context.get("params"))
    biases = _bias_vectors(f)
    # a GRU with reset_after=True (Keras 3's default) has two biases per block: 2 × units
    bias = {0: "", 1: " + units", 2: " + 2 × units"}[biases]
    if gates > 1:
        yield (
            gates * expected,
            f"That is {gates} × units, the width of W and U (the {gates} blocks side by side: "
            f"{gated_blocks_named(gates)}); units is the size of h_t, one block, 1/{gates} of that "
            "width.",
        )
    if params and gates > 1 and params % gates == 0:
        yield (
            params // gates,
            f"That is one block's share of the {params} parameters, a count, not units: solve "
            f"{gates} × (units × (units + features){bias}) = {params} for units "
            f"(features = {f.features}).",
        )
    if params and gates > 1 and f.features:
        # Solved u(u + features) + u = params: one block's formula set equal to the whole.
        # Learners round the root of u² + (features + 1)·u = params to a whole number.
        for one in _roots(f.features + biases, params):
            yield (
                one,
                f"{one} solves (about) units × (units + {f.features}){bias} = {params}, one "
                f"block's count set equal to the whole: {with_article(f.class_name)} holds "
                f"{gates} blocks, so the {params} parameters are {gates} × that formula.",
            )
    if params and gates and f.timesteps and f.features and f.timesteps != f.features:
        if params % gates == 0:
            for u in _roots(f.timesteps + biases, params // gates):
                if u != expected:
                    exact = u * (u + f.timesteps + biases) == params // gates
                    yield (
                        u,
                        f"That solves{'' if exact else ' (about)'} the count with the "
                        f"timesteps ({f.timesteps}) as the features: the features are the last "
                        f"input axis ({f.features}), and the timesteps appear in no weight.",
                    )
    if f.features:
        yield (
            f.features,
            f"That is the features, the size of each input x_t ({f.features}); units is the "
            "layer's own size, the length of h_t, and the count fixes it.",
        )
    if f.timesteps:
        yield (
            f.timesteps,
            f"That is the timesteps ({f.timesteps}), which appear in no weight; units is the "
            "length of h_t, and the count fixes it.",
        )


def _bias_vectors(f: Facts) -> int:
    """How many bias vectors of units each gate of the recurrent layer holds: 0, 1 or 2."""
    wrapped = (
        f.config.get("layer") if f.class_name in ("Bidirectional", "TimeDistributed") else None
    )
    config = (wrapped.get("config") or {}) if isinstance(wrapped, Mapping) else f.config
    if not config.get("use_bias", True):
        return 0
    return 2 if f.cell == "GRU" and config.get("reset_after", True) else 1


def _units_fallback(answer: int, expected: int, context: Mapping[str, Any]) -> str:
    f = facts(context)
    params = _int(context.get("params"))
    if f.class_name in _RECURRENT and f.input_shape and answer > 0:
        count = _count(f, units=answer)
        if count is not None and params:
            more = "more" if count > params else "fewer"
            return (
                f"{sentence_start(with_article(f.class_name))} with units = {answer} "
                f"on {f.features} features holds {count} parameters, {more} than {params}: "
                f"try {'fewer' if count > params else 'more'} units."
            )
    size = "too large" if answer > expected else "too small"
    return f"{answer} is {size} for the number of units."


def _input_dim_candidates(expected: int, context: Mapping[str, Any]) -> Candidates:
    yield (
        expected + 1,
        "That adds a row the table does not need: input_dim is the number of ids, from 0 "
        "to the largest. With mask_zero=True the padding id 0 is one of them and already has "
        "its row; the mask takes no extra row, and there is no row for unknown words unless "
        "an id is kept for them.",
    )
    yield (
        expected - 1,
        "That leaves one id without a row: the ids run from 0 (the padding id) to the largest "
        "word id, and input_dim counts every one of them.",
    )


_SOLVE_FOR: dict[str, Callable[[int, Mapping[str, Any]], Candidates]] = {
    "units": _units_candidates,
    "input_dim": _input_dim_candidates,
}


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
        blocks = f"{f.gates} blocks, each" if (f.gates or 1) > 1 else "one block of"
        return (
            f"{sentence_start(with_article(name))}'s count is {blocks} W (features × units), "
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


def _gated_width(f: Facts, gates: int | None = None) -> str:
    """The last axis of a recurrent weight in words: ``"units"`` for a SimpleRNN, which has
    no gates, else ``"4 × units"`` (or ``"blocks × units"`` when the class is unknown)."""
    gates = gates or f.gates
    if f.cell == "SimpleRNN" or gates == 1:
        return "units"
    return f"{gates} × units" if gates else "blocks × units"


def _axis_names(expected: Shape, f: Facts, role: str | None = None) -> list[str]:
    """What each axis of an expected shape is, in words."""
    if f.weights:
        text = (role or "").lower()
        width = _gated_width(f)
        if "bias" in text:
            return [width] if len(expected) == 1 else ["2 (input, recurrent)", "bias"]
        first = "units" if "recurrent" in text else "features"
        return [first, width][: len(expected)] + ["axis"] * max(0, len(expected) - 2)
    last = "output_dim" if f.embedding else "units"
    if f.merge_mode == "concat" and not _names_a_state(role):
        # the two directions' outputs side by side; each direction's states stay its own
        last = "2 × units"
    if asks_input(f, role):
        # the shape the layer reads: its last axis is the features (ids have none)
        last = "timesteps" if f.embedding else "features"
    names = ["batch"] + ["timesteps"] * (len(expected) - 2) + [last]
    if f.embedding and len(expected) > 3:
        names = ["batch"] + [f"axis {i}" for i in range(1, len(expected) - 1)] + [last]
    return names[: len(expected)] if len(expected) > 1 else ["the only axis"]


def _names_a_state(role: str | None) -> bool:
    """Whether a tensor's role names a recurrent state (``"forward h"``, ``"c"``).

    Examples
    --------
    >>> _names_a_state("backward c"), _names_a_state("the merged output"), _names_a_state(None)
    (True, False, False)
    """
    words = (role or "").lower().split()
    return bool(words) and words[-1] in ("h", "c", "state", "states")


def asks_input(f: Facts, role: str | None = None) -> bool:
    """Whether the shape asked for is a layer's input, not its output.

    A shape question says so in its context, ``{"role": "input"}`` (a list of shapes, in the
    tensor's ``role``): without it an unnamed shape is read as the layer's output, the
    common question.

    Examples
    --------
    >>> asks_input(facts({"role": "input"})), asks_input(facts({}), "the input")
    (True, True)
    >>> asks_input(facts({}), "output")
    False
    """
    words = (role or f.role or "").lower().split()
    return bool(words) and words[-1] in ("input", "inputs")


def _axes_text(expected: Shape, f: Facts, role: str | None = None) -> str:
    """The axes of the expected shape named in a tuple, e.g. ``(batch, timesteps, units)``."""
    return f"({', '.join(_axis_names(expected, f, role))})"


def _as_class(f: Facts, class_name: str) -> Facts:
    return Facts(
        class_name=class_name,
        features=f.features,
        timesteps=f.timesteps,
        roles=f.roles,
        role=f.role,
    )


def _layer_word(f: Facts) -> str:
    return f.class_name or "this layer"


def _is_state(role: str | None) -> bool:
    words = (role or "").lower().split()
    return bool(words) and words[-1] in ("h", "c", "state", "states")


def _shape_rules(a: Shape, e: Shape, f: Facts, role: str | None) -> Iterator[str | None]:
    """The activation-shape rules, in order; each yields a message or None."""
    if asks_input(f, role):
        # The rules below read the answer as the layer's output (units, return_sequences).
        yield from _input_rules(a, e, f, role)
        return
    n, m = len(a), len(e)
    text = (role or "").lower()
    if "dense" in text:  # a part of a model named by its layer: judge it as that layer
        f = _as_class(f, "Dense")
    # --- Bidirectional: only the merged output is two directions wide
    if n == m and a[:-1] == e[:-1] and e[-1] is not None and a[-1] is not None:
        # only an LSTM has a cell state c, so a role "c" means four gates
        gates = f.gates or (4 if text.endswith("c") else 0)
        if _is_state(role) and gates > 1 and a[-1] == gates * e[-1] and text.endswith("c"):
            # The 4·units of the stacked gate blocks taken for the cell state's width.
            yield (
                f"{a!r} gives c the width of the {gates} stacked blocks ({gates} · units, "
                "the columns of W, U and b). A state holds one number per unit, like h."
            )
        if _is_state(role) and a[-1] == 2 * e[-1] and ("forward" in text or "backward" in text):
            yield (
                f"{a!r} is as wide as the merged output, but each state belongs to one "
                "direction: (batch, units), the units of one copy. Only the output is merged."
            )
        if "merged" in text and 2 * a[-1] == e[-1]:
            yield (
                "That is the shape of one direction. merge_mode='concat' puts the forward and "
                "backward outputs side by side on the last axis: 2 × units."
            )
        if "merged" in text and a[-1] == 2 * e[-1]:
            yield (
                "That is the 'concat' shape. A merge_mode of 'sum', 'mul' or 'ave' combines "
                "the two directions element by element, so the last axis stays one copy's units."
            )
    # --- Bidirectional: the two directions put on another axis than the last
    misplaced = _directions_misplaced(a, e, f, text)
    if misplaced:
        yield misplaced
    # --- the Embedding's input given back as its output
    if f.embedding and f.input_shape is not None and a == f.input_shape:
        yield (
            f"{a!r} is the Embedding's input, the token ids. The layer replaces each id by its "
            f"row of the table, output_dim numbers, so it adds an axis: {_axes_text(e, f)}."
        )
    # --- the kernel's shape (features, units) written after the batch axis
    # a 2-D input is (batch, features) only for a layer known to read vectors
    no_time = (
        f.class_name is not None
        and f.input_shape is not None
        and len(f.input_shape) == 2
        and not f.embedding
    )
    inserted = a[1] if n == m + 1 and m >= 2 and a[:1] + a[2:] == e else None
    if (
        inserted is not None
        and f.class_name in ("Dense", *_RECURRENT)
        and f.features is not None
        and inserted == f.features
        and (no_time or (f.timesteps is not None and inserted != f.timesteps))
    ):
        yield (
            f"{a!r} writes the kernel's shape, (features, units), after the batch axis: W is a "
            "weight of the layer, not part of its output. "
            + (
                "The input (batch, features) has no time axis, and the layer changes only its "
                "last axis."
                if no_time
                else f"{f.features} is the features, the last input axis, which the layer maps "
                "to units; it is no axis of the output."
            )
        )
    # --- the time axis kept
    if (
        inserted is not None
        and not no_time
        and (f.timesteps is None or inserted == f.timesteps or f.embedding)
    ):
        if _is_state(role):
            yield (
                f"{a!r} has a time axis, but a state is the value after the last step only: "
                "(batch, units), whatever return_sequences says. Only the output keeps the "
                "time axis."
            )
        elif f.class_name == "Dense":
            yield f"{a!r} adds a time axis: Dense keeps the axes of its input and changes the last."
        elif "timesteps" in _axis_names(e, f, role) or (f.embedding and m >= 3):
            # the output asked for has its time axis already: the answer wrote it twice, and
            # telling it return_sequences=True (which it may well have) would blame a flag
            kept = (
                "The Embedding keeps every axis of the ids once and adds output_dim after them"
                if f.embedding
                else "The layer keeps the input's time axis once and changes only the last axis"
            )
            twice = "axis 1 of the ids" if f.embedding and m > 3 else "the time axis"
            yield f"{a!r} writes {twice} twice. {kept}: {_axes_text(e, f, role)}."
        elif not f.embedding:
            yield (
                # "This layer" would mean the learner's own layer in an inverse question,
                # which may well have return_sequences=True: speak of the output asked for.
                f"{a!r} keeps the time axis: that is the shape with "
                "`return_sequences=True`. The output asked for keeps only the last step, "
                f"so it is ({', '.join(_axis_names(e, f, role))})-shaped."
            )
    # --- the time axis dropped
    if n + 1 == m and m >= 3 and e[:1] + e[2:] == a:
        if f.embedding:
            # the ids may have more axes than (batch, timesteps): name the expected rank's
            kept = "one per timestep" if m == 3 else "every axis of the ids"
            lost = "the time axis" if m == 3 else "axis 1 of the ids"
            yield (
                f"{a!r} loses {lost}: the Embedding looks up one vector per id and keeps "
                f"them all, {kept}: {_axes_text(e, f)}."
            )
        elif f.class_name == "Dense":
            yield (
                f"{a!r} drops the time axis, but Dense never removes an axis: it maps the last "
                "one (features -> units) and keeps (batch, timesteps) as they are."
            )
        else:
            yield (
                f"{a!r} drops the time axis, but `return_sequences=True` returns "
                f"the output at every step: {_axes_text(e, f, role)}."
            )
    # --- two axes multiplied into one
    if (merged := _merged_axes(a, e)) is not None:
        yield (
            f"{a!r} merges two axes into one ({merged}): "
            f"{_layer_word(f)} keeps every axis of its input and "
            + (
                "adds output_dim after them."
                if f.embedding
                else "changes only the last one; nothing is flattened."
            )
        )
    yield from _batch_rules(a, e, f)
    # --- the last axis
    if n == m and a[:-1] == e[:-1] and a[-1] != e[-1]:
        last = a[-1]
        if f.embedding:
            if f.input_dim is not None and last == f.input_dim:
                yield (
                    "The last axis is output_dim, the length of each id's vector; input_dim, "
                    f"{f.input_dim}, is the number of rows in the table."
                )
            elif m == 3 and last == e[1]:
                yield (
                    "The last axis is output_dim, the length of each id's vector; the "
                    f"timesteps ({e[1]}) are already the axis before it."
                )
            elif last in e[1:-1]:
                # ids of more axes than (batch, timesteps): the size is one of them, and not
                # always the one just before the last
                yield (
                    "The last axis is output_dim, the length of each id's vector; "
                    f"{last} is the size of an axis of the ids, which the Embedding keeps "
                    "before it."
                )
        if f.merge_mode == "concat" and f.units and last == f.units:
            yield (
                "That is the shape of one direction. merge_mode='concat' puts the forward and "
                f"backward outputs side by side on the last axis: 2 × units (units = {f.units} "
                "per direction)."
            )
        if f.merge_mode in ("sum", "mul", "ave") and f.units and last == 2 * f.units:
            yield (
                f"That is the 'concat' shape. merge_mode={f.merge_mode!r} combines the two "
                "directions element by element, so the last axis stays one direction's units; "
                "only 'concat' doubles it."
            )
        # a Bidirectional's merged output is both directions' units side by side
        width = "2 × units" if _axis_names(e, f, role)[-1] == "2 × units" else "`units`"
        if f.features is not None and last == f.features and e[-1] != f.features:
            yield (
                (
                    "The last axis of a state is `units`, not the "
                    f"{f.features} input features: a state holds one number per unit."
                )
                if _is_state(role)
                else (
                    f"The last axis of the output is {width}, not the "
                    f"{f.features} input features: each of the layer's units produces one "
                    "number per step."
                )
            )
        if f.timesteps is not None and last == f.timesteps:
            # "the size of the layer's output" was untrue of an output that keeps the time
            # axis (Dense on a sequence, return_sequences=True), whose axis 1 is the timesteps
            yield (
                f"The last axis is {width}, set by the layer; the number of timesteps is an "
                f"axis of the input (timesteps = {f.timesteps}), the length of each sequence."
            )
        if f.vocabulary is not None and last == f.vocabulary:
            yield (
                f"The last axis is this layer's units; {f.vocabulary} is the Embedding's "
                "vocabulary size, which sets the rows of its table and never reaches this layer."
            )
        gates = f.gates
        if gates and gates > 1 and last in {gates * (e[-1] or 0), gates * (f.units or 0)}:
            # only a Bidirectional layer has directions to speak of
            per = " per direction" if f.class_name == "Bidirectional" else ""
            yield (
                f"The {gates} blocks ({gated_blocks_named(gates)}) are inside the layer: its "
                f"output has units numbers{per}, not {gates} × units."
            )
    # --- the time axis of the wrong size
    if n == m and m >= 3 and a[:1] == e[:1] and a[2:] == e[2:] and a[1] != e[1]:
        if f.embedding and f.input_dim is not None and a[1] == f.input_dim:
            yield (
                f"{f.input_dim} is input_dim, the vocabulary size: it sets how many rows the "
                f"table has, not an axis of the output. The time axis is the position of each "
                "id in its sequence, one step per id."
            )
        if f.features is not None and a[1] == f.features:
            yield (
                f"Axis 1 is the timesteps, the length of the input sequence; "
                f"{f.features} is the features, the last input axis, which the layer maps "
                "to units."
            )
    # --- the layer's input given as its output
    if not f.embedding and f.input_shape is not None and a == f.input_shape and a != e:
        yield (
            f"{a!r} is the shape going into the layer, "
            f"({'batch, features' if len(a) == 2 else 'batch, timesteps, features'}): the output "
            "of the layer before it. This layer maps the features to its units"
            + (" and returns only the last step" if m == len(a) - 1 else "")
            + f": its output is {_axes_text(e, f, role)}."
        )
    # --- the axes in the wrong order
    if n == m and a != e and sorted(map(str, a)) == sorted(map(str, e)):
        # by role: a Bidirectional's states are (batch, units) where its output is 2 × units
        names = ", ".join(_axis_names(e, f, role))
        yield f"The right sizes in the wrong order: Keras orders the axes as ({names})."


def _batch_rules(a: Shape, e: Shape, f: Facts) -> Iterator[str | None]:
    """The batch-axis rules, for any activation shape (an output or an input)."""
    n, m = len(a), len(e)
    if a == e[1:] and m >= 2:
        yield (
            f"{a!r} leaves out the batch axis. Keras shapes start with the batch "
            + (
                "size, which is None until data arrives."
                if e[0] is None
                else "size, and here it is a real one: a real array (or an Input with a "
                "batch_shape) fixes the first axis, the number of samples, and Keras writes "
                "that number."
            )
        )
    if n == m and m >= 2 and a[1:] == e[1:] and a[0] != e[0] and a[0] is not None:
        if f.timesteps is not None and a[0] == f.timesteps and f.timesteps != f.features:
            fixed = (
                "which the model does not fix (None)"
                if e[0] is None
                else "fixed here by the array or the batch_shape"
            )
            dropped = (
                " With return_sequences=False the time axis is dropped, not moved to the front."
                if m == 2
                else ""
            )
            yield (
                f"{a!r} puts the timesteps ({a[0]}) where the batch axis goes: the first axis of "
                f"a Keras shape is always the batch, {fixed}.{dropped}"
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
                "Here the batch axis has a real size: a real array, or an Input with a "
                "batch_shape, fixes the first axis (the number of samples), and Keras writes "
                "that number, not None."
            )
        else:
            yield (
                f"The first axis is the batch, fixed here by the array or the batch_shape (the "
                f"number of samples); {a[0]} is not that number."
            )


def _input_rules(a: Shape, e: Shape, f: Facts, role: str | None) -> Iterator[str | None]:
    """The rules for a shape the layer reads: (batch, timesteps, features), no units."""
    n, m = len(a), len(e)
    axes = _axes_text(e, f, role)
    if n + 1 == m and a == e[:-1] and not f.embedding:
        yield (
            f"{a!r} has no features axis: the layer reads {axes}, and even a single "
            "feature per step has its own last axis."
        )
    yield from _batch_rules(a, e, f)
    if n == m and a[:-1] == e[:-1] and a[-1] != e[-1] and not f.embedding:
        if f.units is not None and a[-1] == f.units and e[-1] != f.units:
            yield (
                f"{a[-1]} is the layer's units, the last axis of what it returns; the input's "
                "last axis is the features, the numbers each step x_t holds."
            )
    if (merged := _merged_axes(a, e)) is not None:
        yield (
            f"{a!r} merges two axes into one ({merged}): the layer reads {axes}, each axis "
            "on its own."
        )
    if n == m and a != e and sorted(map(str, a)) == sorted(map(str, e)):
        yield f"The right sizes in the wrong order: Keras orders the axes as {axes}."


def _merged_axes(a: Shape, e: Shape) -> str | None:
    """How ``a`` is ``e`` with two neighbouring axes (not the batch) multiplied into one,
    e.g. ``"4 × 6 = 24"``, or None."""
    if len(a) + 1 != len(e):
        return None
    for i in range(1, len(e) - 1):
        if None not in e[i : i + 2] and a == e[:i] + (e[i] * e[i + 1],) + e[i + 2 :]:
            return f"{e[i]} × {e[i + 1]} = {e[i] * e[i + 1]}"
    return None


def _directions_misplaced(a: Shape, e: Shape, f: Facts, text: str) -> str | None:
    """Bidirectional's two directions put on a new axis or on the time axis, not the last."""
    if f.class_name != "Bidirectional" and "merged" not in text:
        return None
    if f.class_name == "Bidirectional" and _is_state(text):
        return None
    mode = f.merge_mode or "concat"
    one = f.units or ((e[-1] // 2) if mode == "concat" and e[-1] else e[-1])
    per_direction = e[:-1] + (one,)
    where = None
    if len(a) == len(e) + 1:
        for i in range(1, len(a) - 1):
            if a[i] == 2 and a[:i] + a[i + 1 :] == per_direction:
                where = "a new axis of size 2"
    elif len(a) == len(e) and len(e) >= 3 and a[-1] == one:
        for i in range(1, len(e) - 1):
            if e[i] and a[i] == 2 * e[i] and a[:i] + a[i + 1 : -1] == e[:i] + e[i + 1 : -1]:
                where = f"the time axis ({a[i]} = 2 × timesteps)"
    if where is None:
        return None
    merged = {
        "concat": "merge_mode='concat' puts them side by side on the last axis, 2 × units wide",
        "sum": "merge_mode='sum' adds them element by element, so no axis grows",
        "mul": "merge_mode='mul' multiplies them element by element, so no axis grows",
        "ave": "merge_mode='ave' averages them element by element, so no axis grows",
    }.get(str(mode), "the merge_mode decides how")
    return (
        f"{a!r} puts the two directions on {where}. Bidirectional merges the forward and "
        f"backward outputs on the last axis only: {merged}; the time axis stays the input's."
    )


def _weight_rules(a: Shape, e: Shape, f: Facts, role: str | None) -> Iterator[str | None]:
    """Weight-shape rules: no batch axis here, ever."""
    text = (role or "").lower()
    gates = f.gates
    n, m = len(a), len(e)
    if n == m == 2 and a == e[::-1] and a != e:
        first = "units" if "recurrent" in text else "features"
        yield (
            f"{a!r} is transposed: Keras multiplies the input row from the left (x_t W), so "
            f"{role or 'this weight'} is ({first}, {_gated_width(f)}). PyTorch stores the "
            "transpose."
        )
    if gates and gates > 1 and n == m and a[:-1] == e[:-1] and e[-1] == gates * (a[-1] or 0):
        yield (
            f"{a!r} is one block. Keras keeps the {gates} blocks "
            f"({gated_blocks_named(gates)}) side by side in each array: {gates} · units columns."
        )
    if n == m == 2 and a[1:] == e[1:] and a[0] != e[0]:
        if "recurrent" in text:
            yield (
                f"U multiplies the previous state h(t-1), which has units numbers, so its "
                f"first axis is units, not {a[0]}"
                + (" (the features)." if a[0] == f.features else ".")
            )
        elif f.timesteps is not None and a[0] == f.timesteps:
            yield (
                f"The kernel's first axis is features, not timesteps ({f.timesteps}): the same W "
                "serves every timestep, so the number of timesteps appears in no weight."
            )
        else:
            yield (
                "The kernel W has one row per input feature (the last input axis), so its "
                f"first axis is the features, not {a[0]}"
                + (" (the units)." if a[0] == f.units else ".")
            )
    if (
        "bias" in text
        and n == m == 1
        and f.features
        and a[0] in {f.features, (gates or 1) * f.features}
    ):
        yield (
            f"{a!r} sizes the bias by the input: b has one entry per unit"
            + (f" of each block, {gates} · units" if (gates or 1) > 1 else "")
            + f", not per feature (features = {f.features})."
        )
    if "bias" in text and n == 1 and m == 2 and e[0] == 2 and a == e[1:]:
        yield (
            "A GRU with reset_after=True keeps two bias rows, one for the input and one for "
            "the recurrent side: (2, 3 · units)."
        )
    if "bias" in text and n == 2 and m == 1 and a[0] == 2 and a[1:] == e:
        yield "Only a GRU with reset_after=True keeps two bias rows; this bias is one vector."
    if "bias" in text and n == m == 1 and e[0] and a[0] == 2 * e[0]:
        yield (
            f"{a!r} holds two bias vectors, as PyTorch stores them (b_ih and b_hh), or a GRU "
            f"with reset_after=True. A Keras {f.cell or 'layer'} keeps one bias vector, "
            f"{_gated_width(f, gates)} entries."
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
    >>> print(explain_shape((None, 3, 8), (None, 10, 16), context))
    ... # doctest: +NORMALIZE_WHITESPACE
    (None, 3, 8): the batch axis is right; the timesteps axis is wrong (3 is not its size): it
    is the input's number of timesteps, which the layer keeps; the units axis is wrong (8 is
    the features): it is the layer's units, one number per unit.

    The size a wrong axis should have is never given: with the other axes right, it would
    be the answer.
    """
    answer, expected = tuple(answer), tuple(expected)
    named = shape_mistake(answer, expected, context, role)
    if named:
        return named
    f = facts(context, expected)
    names = _axis_names(expected, f, role)
    reads = asks_input(f, role)
    batch_too = _with_batch_slip(answer, expected, context, f, role)
    if batch_too:
        return batch_too
    if len(answer) != len(expected):
        # a state handed over (07 q10's initial_state) is no output of the question's call
        kind = (
            "this weight"
            if f.weights
            else "this input"
            if reads
            else "a state"
            if _is_state(role)
            else "this output"
        )
        return (
            f"{answer!r} has {len(answer)} ax{'is' if len(answer) == 1 else 'es'}; {kind} has "
            f"{len(expected)}: ({', '.join(names)})."
        )
    parts = []
    for position, (name, mine, theirs) in enumerate(zip(names, answer, expected, strict=True)):
        # a name two axes share (a recurrent kernel's units, units) is told by position
        axis = f"{_ordinal(position)} axis ({name})" if names.count(name) > 1 else f"{name} axis"
        if mine == theirs:
            parts.append(f"the {axis} is right")
        else:
            said = _wrong_size(name, mine, f)
            hint = _axis_hint(name, f, theirs, reads)
            parts.append(f"the {axis} is wrong ({said}): it is {hint}")
    return f"{answer!r}: " + "; ".join(parts) + "."


def _with_batch_slip(
    answer: Shape, expected: Shape, context: Mapping[str, Any], f: Facts, role: str | None
) -> str | None:
    """Two slips at once, the batch and one a rule names: (32, 8, 16) for LSTM(16)'s
    (None, 16) keeps the time axis and fixes a batch size. Each is told, where the rules
    alone, which read one slip at a time, could only count axes or go axis by axis."""
    if f.weights or len(answer) < 2 or len(expected) < 2 or answer[0] == expected[0]:
        return None
    meaning = _number_meaning(answer[0], f)
    plain = meaning in ("the features", "the timesteps", "the units", "output_dim")
    if (plain or answer[0] in expected[1:]) and len(answer) != len(expected):
        # (64, 10) for Embedding(1000, 64)'s (None, 10, 64) has no batch at all: its 64 is
        # the output_dim written first, and "(64, 10) is the Embedding's input" is untrue
        return None
    rebatched = (expected[0], *answer[1:])
    named = shape_mistake(rebatched, expected, context, role) if rebatched != expected else None
    if not named:
        return None
    if plain:
        # (16, 8) for LSTM(16) on 8 timesteps: the units written where the batch goes
        meaning = f" ({answer[0]} is {meaning})"
    else:
        meaning = ""
    if expected[0] is None:
        batch = (
            "the first axis is the batch, which the model does not fix: None, not "
            f"{answer[0]}{meaning}"
        )
    elif answer[0] is None:
        batch = (
            "the first axis is the batch, which the array (or the batch_shape) fixes: None "
            "leaves it open"
        )
    else:
        batch = (
            f"the first axis is the batch, the number of samples; {answer[0]} is not that{meaning}"
        )
    # the rule quotes the shape it was given: quote the one the learner wrote
    return f"{named.replace(repr(rebatched), repr(answer))} Also, {batch}."


def _ordinal(position: int) -> str:
    """ "first" for position 0, "second" for 1, ...; "9th" past the eighth."""
    words = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
    return words[position] if position < len(words) else f"{position + 1}th"


def _wrong_size(name: str, mine: int | None, f: Facts) -> str:
    """Why the size the learner wrote on an axis is not it, without the right size."""
    if mine is None:
        # None is no size but the mark of one left open: say so, not "None is None".
        if name == "batch":
            return "None leaves the size open, as in a model's symbolic shape"
        return (
            "None there means the size is left open, as for the batch; this axis has a fixed size"
        )
    meaning = _number_meaning(mine, f)
    if name == "batch":
        # a number there is a batch size first: 32 is no "2 × units" a learner meant
        plain = meaning in ("the features", "the timesteps", "the units")
        also = f", and also {meaning}" if plain else ""
        return f"{mine} is a batch size{also}"
    return f"{mine} is {meaning}" if meaning else f"{mine} is not its size"


def _number_meaning(n: int | None, f: Facts) -> str | None:
    """What a number the learner wrote is, among the question's sizes, or None."""
    if n is None:
        return None
    two_directions = f.class_name == "Bidirectional"
    known = [
        (f.features, "the features"),
        # ids of more axes than (batch, timesteps) name their axes by number
        (
            f.timesteps,
            "the size of axis 1 of the ids"
            if f.embedding and f.input_shape is not None and len(f.input_shape) > 2
            else "the timesteps",
        ),
        (f.units, "the units"),
        (f.input_dim, "input_dim, the vocabulary size"),
        (f.output_dim, "output_dim"),
        # doubles are a reading only where two directions double a size: "32 is 2 × units"
        # of an LSTM(16) names a sum no learner made, and gives the units away
        (2 * f.timesteps if f.timesteps and two_directions else None, "2 × timesteps"),
        (2 * f.units if f.units and two_directions else None, "2 × units"),
        ((f.gates or 0) * (f.units or 0) or None, f"{f.gates} × units"),
    ]
    return next((text for value, text in known if value is not None and value == n), None)


def _axis_hint(name: str, f: Facts, expected: int | None = None, reads: bool = False) -> str:
    """What an axis is made of, in words: never its size, which may be the answer.

    ``reads``: the shape is the layer's input (:func:`asks_input`), not its output.
    """
    if reads and name == "timesteps":
        return "the number of steps in each sequence"
    if reads and name == "features":
        return "the number of features each step x_t holds"
    if name == "batch" and expected is not None:
        return "the batch, fixed here by the array or the batch_shape (the number of samples)"
    if name == "batch":
        return "the batch, which Keras writes as None when the model does not fix it"
    if name == "timesteps":
        return "the input's number of timesteps, which the layer keeps"
    if name == "features":
        return "one row per input feature"
    if name == "units":
        return "the layer's units, one number per unit"
    if name == "2 × units":
        return "2 × units: 'concat' puts both directions' units side by side"
    if name == "output_dim":
        return "output_dim, the length of each id's vector"
    if name.endswith(" × units"):  # a gated weight's last axis, "4 × units" or unknown
        return f"{name}, the blocks side by side ({gated_blocks_named(f.gates)})"
    if name.startswith("axis "):
        return "the size of that axis of the ids, which the Embedding keeps"
    return "one of the question's sizes"


# =========================================================================== lists of shapes


def _role(index: int, f: Facts) -> str:
    if index < len(f.roles):
        return f.roles[index]
    return "the output" if index == 0 else "a state"


def _roles_text(expected: Sequence[Shape], f: Facts) -> str:
    return ", ".join(_role(i, f) for i in range(len(expected)))


def _role_words(f: Facts) -> set[str]:
    return {word for role in f.roles for word in role.lower().replace(",", " ").split()}


def _reordered(answer: Sequence[Shape], expected: Sequence[Shape]) -> bool:
    """Are these the right shapes in another order?"""
    return answer != expected and sorted(map(repr, answer)) == sorted(map(repr, expected))


def _all_transposed(answer: Sequence[Shape], expected: Sequence[Shape]) -> bool:
    """Is every 2-D weight (at least two of them) the transpose of Keras's one?"""
    two_d = [i for i, theirs in enumerate(expected) if len(theirs) == 2]
    return (
        len(answer) == len(expected)
        and len(two_d) >= 2
        and all(answer[i] == expected[i][::-1] for i in two_d)
    )


def coincidental_parts(answer: list, expected: list, context: Mapping[str, Any]) -> set[int]:
    """The places of a list of weight shapes that are right only by coincidence.

    With every kernel transposed (a confusion about the whole list), a square recurrent
    kernel equals its own transpose: it sits where Keras puts it without the learner having
    got it right, so it earns no credit, while the parts not transposed (the bias) do. A
    list of the right shapes in another order keeps the credit of each shape in its right
    place, like any other list.

    Parameters
    ----------
    answer, expected : list of tuple
        The learner's shapes and the ones Keras gives.
    context : mapping
        The question's context (roles naming a kernel, bias or weight mark a list of
        weight shapes).

    Returns
    -------
    set of int
        The places (from 0) that earn nothing although they match.

    Examples
    --------
    >>> sorted(coincidental_parts([(8, 3), (8, 8), (8,)], [(3, 8), (8, 8), (8,)],
    ...                           {"roles": ["kernel W", "recurrent kernel U", "bias b"]}))
    [1]
    """
    answer = [tuple(shape) for shape in answer]
    expected = [tuple(shape) for shape in expected]
    if len(answer) != len(expected) or not (
        facts(context).weights and _all_transposed(answer, expected)
    ):
        return set()
    return {i for i, theirs in enumerate(expected) if len(theirs) == 2 and answer[i] == theirs}


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
        if _reordered(answer, expected):
            # Swapped shapes are told their order before any part is told its axes: read
            # part by part, U-before-W looks like two kernels with wrong axis sizes.
            return (
                "The right shapes in the wrong order: get_weights() (and layer.weights) "
                f"returns {listed}, in that order."
            )
        if gates and gates > 1 and n == gates * m:
            return (
                f"Those are per-block weights, {n} arrays: Keras keeps the {gates} blocks side by "
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
                f"Those are the shapes of one block. Keras keeps the {gates} blocks "
                f"({gated_blocks_named(gates)}) side by side in each array: {gates} · units "
                f"columns, {listed}."
            )
        if _all_transposed(answer, expected):
            return (
                "Those are transposed: Keras multiplies the input row from the left, x_t W, so "
                f"the kernel is (features, {_gated_width(f, gates)}) and the recurrent kernel "
                f"(units, {_gated_width(f, gates)}). PyTorch stores the transposes."
            )
        if n == m - 1 and m == 3 and len(answer[0]) == 2 and expected[0][1:] == answer[0][1:]:
            rows = answer[0][0]
            if rows == (expected[0][0] or 0) + (expected[1][0] or 0):
                return (
                    "That is the concatenation view, one matrix acting on [h(t-1), x(t)]. "
                    f"Keras stores it as two arrays, the kernel W for x_t and the recurrent "
                    f"kernel U for h(t-1), then the bias: {listed}."
                )
        if n == m + 1 and answer[:m] == expected and len(answer[m]) == 1 and len(expected[-1]) == 1:
            # PyTorch keeps b_ih and b_hh; Keras one bias, listed after the two kernels.
            return (
                "That adds a second bias vector, as PyTorch stores them (bias_ih and "
                f"bias_hh). Keras keeps one bias per layer: the layer stores {m} arrays, "
                f"{listed}."
            )
        for i in range(m):
            if n == m - 1 and answer == expected[:i] + expected[i + 1 :]:
                return f"That leaves out {_role(i, f)}: the layer stores {m} arrays, {listed}."
        if n != m:
            return f"The layer stores {m} weight arrays, {listed}; your list has {n}."
        return None
    states_only = (
        bool(f.roles)
        and "output" not in words
        and not any("output" in role.lower() for role in f.roles)
    )
    if states_only and n < m and "c" in words:
        state_rank = len(expected[0])
        if any(len(mine) == state_rank + 1 for mine in answer):
            # (batch, timesteps, units): a sequence of outputs, not a state
            return (
                "That holds a tensor with a time axis, a layer's sequence of outputs, not a "
                f"state: the states handed over are {listed}, {m} tensors, each "
                "(batch, units), the values after the last step."
            )
        return (
            f"{'That is one state' if n == 1 else f'That is {n} states'}, but an LSTM carries "
            f"two, h and c: a layer's initial_state (or the states handed over) is {listed}, "
            f"{m} tensors, each (batch, units)."
        )
    if (
        states_only
        and n == 2 * m
        and all(
            len(mine) == len(expected[0])
            and mine[:-1] == expected[0][:-1]
            and 2 * (mine[-1] or 0) == expected[0][-1]
            for mine in answer
        )
    ):
        # Four half-width states for two full-width ones: a Bidirectional encoder's
        # per-direction states, handed over without joining them.
        return (
            f"Those are {n} half-width states, one per direction and state: the layer that "
            f"takes them has twice their width, so each of its {m} states ({listed}) is the "
            "forward and the backward state joined on the last axis."
        )
    # a list of one layer's output and states, or (roles naming neither h nor c) of the
    # outputs of several layers, which no flag of one layer explains
    one_layers_states = not f.roles or bool({"h", "c"} & words)
    if not one_layers_states:
        if n != m:
            return f"The question asks for {m} shapes, {listed}; your list has {n}."
        if _reordered(answer, expected):
            return f"The right shapes in the wrong order: the question lists {listed}."
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
        if (
            n in (2, 3)
            and all(shape == expected[0] for shape in answer)
            and expected[1] != expected[0]
        ):
            return (
                "The states are not joined like the output: concat merges the two outputs, "
                "but each copy returns its own states, one direction wide, as separate "
                f"tensors: {listed}, {m} tensors."
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
        # "returns" would misname a list a call takes (07 q10's initial_state, [h, c])
        return (
            f"Keras's list here holds {m} tensor{'' if m == 1 else 's'}, in its order "
            f"({_roles_text(expected, f)}); your list has {n}."
        )
    if _reordered(answer, expected):
        # A GRU or SimpleRNN has no c: name the state order only where there are two.
        states = "then each state (h before c)" if "c" in words else "then the state h"
        return (
            f"The right shapes in the wrong order: Keras returns {listed}, the output first, "
            f"{states}."
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
        foreign = _not_keras(answer, expected)
        if foreign:
            return foreign
        name = _spelling(expected)
        if name and _spelling(answer) in (name, name + "exception", name + "class"):
            # 'Type Error', 'TypeError exception': the right name, not written as Python does
            return (
                f"{answer!r} names it, but not as Python writes it: give the name alone, "
                f"spelt exactly as asked: {expected!r}."
            )
        return (
            f"{answer!r} is a string, as asked, but not what Keras 3 does here; "
            "run it in your head step by step: what does Python check first?"
            if expected.endswith(("Error", "Exception", "Warning"))
            else f"{answer!r} is a string, as asked, but not the right one."
        )
    return f"{answer!r} has the right form but is not the value Keras gives."


#: Names learners bring from other libraries, with where they come from and the Keras 3
#: name where one exists (told only where it is not the answer asked for).
NOT_KERAS: dict[str, tuple[str, str | None]] = {
    "num_epochs": ("other libraries' name (TF Estimator input functions)", "epochs"),
    "max_epochs": ("PyTorch Lightning's name", "epochs"),
    "input_tensor": ("a keyword of keras.layers.InputLayer and keras.applications", "inputs"),
    "output_tensor": ("no Keras keyword", "outputs"),
}


def _not_keras(name: str, expected: Any) -> str | None:
    if name not in NOT_KERAS:
        return None
    where, new = NOT_KERAS[name]
    said = f"{name} is not a Keras argument here ({where})"
    if new is None or new == expected or (isinstance(expected, dict) and new in expected.values()):
        return said + ": look the name up in the signature Keras 3 documents."
    return said + f"; Keras 3 calls it {new}."


# The keywords a layer cannot be built without (units, an Embedding's sizes, ...): a dict of
# keyword arguments that leaves one out gets no default, Keras raises.
_NO_DEFAULT = frozenset(key for keys in shapes._REQUIRED.values() for key in keys)


def _explain_dict(answer: dict, expected: dict) -> str:
    notes: list[str] = []
    try:
        reversed_ = {value: key for key, value in answer.items()}
    except TypeError:  # unhashable values cannot be keys
        reversed_ = {}
    if answer and reversed_ == expected:
        return (
            "The mapping is reversed: your keys are the values asked for and your values the "
            "keys. Keep the question's keys and give each its value."
        )
    # The score compares each value with its type (to_plain: 128.0 is not 128, True is not
    # 1): a value Python calls equal but of another type is wrong here too.
    right = [key for key in answer if key in expected and _same(answer[key], expected[key])]
    spelt: list[str] = []  # a value right but for its case or separators
    for key, value in answer.items():
        if key not in expected and key in KERAS3_NAMES:
            notes.append(_old_name(key))
        elif (
            key in expected
            and _python_equal(value, expected[key])
            and not _same(value, expected[key])
        ):
            notes.append(_type_slip(key, value, expected[key]))
        elif (
            key in expected
            and type(value) is str
            and type(expected[key]) is not str
            and value.strip() == repr(expected[key])
        ):
            # "128" for 128: the value in quotes
            notes.append(_type_slip(key, value, expected[key]))
        elif key in expected and not _python_equal(value, expected[key]):
            if type(value) is str and KERAS3_NAMES.get(value) == expected[key]:
                notes.append(f"For {key}: {_old_name(value)}")
            elif type(value) is str and type(expected[key]) is str and value + "s" == expected[key]:
                # Naming the plural would spell the expected value before it is revealed.
                notes.append(f"For {key}: {value!r} is the old keyword, renamed in Keras 3.")
            elif type(value) is str and _not_keras(value, expected):
                notes.append(f"For {key}: {_not_keras(value, expected)}")
            elif (
                type(value) is str
                and type(expected[key]) is str
                and _spelling(value) == _spelling(expected[key])
            ):
                spelt.append(f"{value!r} should be {expected[key]!r}")
    if spelt:
        notes.append(_read_exactly(spelt))
    wrong = [key for key in answer if key in expected and not _same(answer[key], expected[key])]
    for i, first in enumerate(wrong):
        for second in wrong[i + 1 :]:
            if answer[first] == expected[second] and answer[second] == expected[first]:
                notes.append(f"The values of {first} and {second} are swapped.")
    renamed = {KERAS3_NAMES.get(key) for key in answer if key in KERAS3_NAMES}
    missing = [key for key in expected if key not in answer and key not in renamed]
    unknown = [key for key in answer if key not in expected and key not in KERAS3_NAMES]
    misspelt = {
        key: want
        for key in unknown
        for want in missing
        if type(key) is str and type(want) is str and _spelling(key) == _spelling(want)
    }
    if misspelt:
        notes.append(
            _read_exactly([f"{key!r} should be {want!r}" for key, want in misspelt.items()])
        )
        missing = [key for key in missing if key not in misspelt.values()]
        unknown = [key for key in unknown if key not in misspelt]
    # A Keras 1/2 name as an expected key is a key the question gives (a table from old
    # names to new ones), not an option whose default Keras keeps when it is left out.
    given = [key for key in missing if key in KERAS3_NAMES]
    required = [key for key in missing if key not in KERAS3_NAMES and key in _NO_DEFAULT]
    options = [key for key in missing if key not in KERAS3_NAMES and key not in _NO_DEFAULT]
    if given:
        notes.append(
            f"Missing: {spoken_list(given)}, the old {'name' if len(given) == 1 else 'names'} the "
            f"question asks about: keep {'it' if len(given) == 1 else 'them'} as the "
            f"{'key' if len(given) == 1 else 'keys'} and give "
            f"{'it' if len(given) == 1 else 'each'} its Keras 3 name as value."
        )
    if required:
        notes.append(
            f"Missing: {spoken_list(required)}, which Keras requires: it has no default, and the "
            "call raises a TypeError without it."
        )
    if options:
        them = "it" if len(options) == 1 else "them"
        notes.append(f"Missing: {spoken_list(options)} (leaving {them} out keeps Keras's default).")
    if unknown:
        notes.append(f"Not asked for: {spoken_list(unknown)}.")
    if wrong and not notes:
        values = "The value of" if len(wrong) == 1 else "The values of"
        verb = "is not the one" if len(wrong) == 1 else "are not the ones"
        notes.append(f"{values} {spoken_list(wrong)} {verb} asked for.")
    good = f"{spoken_list(right)} {'is' if len(right) == 1 else 'are'} right." if right else ""
    return " ".join(filter(None, [good, *notes])) or "Not the dict asked for."


def _read_exactly(corrections: Sequence[str]) -> str:
    """Names (keywords or values) right but for case, spaces or underscores, told once."""
    told = spoken_list(corrections)
    return f"Keras reads names exactly, case, spaces and underscores included: {told}."


def _spelling(name: str) -> str:
    """A name without its case and separators, to tell 'Hard_Sigmoid' from another name."""
    return "".join(char for char in name.lower() if char.isalnum())


def _same(mine: Any, theirs: Any) -> bool:
    """Equal as the score of a value question compares: type by type, as ``to_plain``."""
    return to_plain(mine) == to_plain(theirs)


def _python_equal(mine: Any, theirs: Any) -> bool:
    """Whether Python calls two values equal. An array answers ``==`` item by item, and
    one of several numbers, or of none, has no truth: it is never equal to a plain value.

    Examples
    --------
    >>> import numpy as np
    >>> _python_equal(128.0, 128), _python_equal(np.array([1.0, 2.0]), 128)
    (True, False)
    """
    try:
        return bool(mine == theirs)
    except (ValueError, TypeError):
        return False


_TYPE_WORDS = {bool: "bool", int: "int", float: "float", str: "string"}


def _type_slip(key: str, mine: Any, theirs: Any) -> str:
    """A value Python calls equal to the expected one but of another type (128.0, True)."""

    def noun(value: Any) -> str:
        return _TYPE_WORDS.get(type(value), type(value).__name__)

    article = "an" if noun(mine)[:1] in "aeiou" else "a"
    return (
        f"For {key}: {mine!r} is {article} {noun(mine)}; the value must be the {noun(theirs)} "
        f"{theirs!r} (answers are compared with their types)."
    )


def count_readings(expected: int, context: Mapping[str, Any]) -> list[tuple[int, str]]:
    """Every count the rules predict for a question, one per misreading, in the order they
    are tried, the right count included where a misreading gives it.

    Two misreadings that give one number for the question's data tell a learner of either
    the first one's slip: ``tests/test_assignments.py`` keeps every recorded question free
    of such a coincidence, and of a misreading that gives the right count.

    Parameters
    ----------
    expected : int
        The right count.
    context : mapping
        The question's context with its ``layer`` and ``input_shape``.

    Returns
    -------
    list of (int, str)
        Each predicted count with the message that names its misreading.
    """
    if context.get("solve_for") in _SOLVE_FOR:
        found: Iterable[tuple[int | None, str]] = _SOLVE_FOR[context["solve_for"]](
            expected, context
        )
    elif isinstance(context.get("model"), Sequence) and context.get("input_shape"):
        found = _model_candidates(expected, context)
    else:
        f = facts(context)
        if f.class_name is None or f.input_shape is None:
            return []
        found = [(value, message) for rule in COUNT_RULES for value, message in rule(expected, f)]
    return [(value, message) for value, message in found if value is not None and value >= 0]


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
    return [
        (value, message)
        for value, message in count_readings(expected, context)
        if value != expected
    ]


# =========================================================================== arrays
# An array question's context holds the inputs and weights its check cell used (plain
# lists) and which twin of lstm_lib.reference computes the answer: ``twin`` is "dense",
# "simple_rnn", "lstm_step" or "embedding". Each classic slip is computed with the twins
# from those numbers, and the answer is named when it matches one within the tolerance.

ArrayCandidates = Iterator[tuple[Any, str]]


def _arrays(context: Mapping[str, Any], *names: str) -> list[np.ndarray] | None:
    try:
        return [np.asarray(context[name], dtype=float) for name in names]
    except (KeyError, TypeError, ValueError):
        return None


def _dense_candidates(context: Mapping[str, Any]) -> ArrayCandidates:
    found = _arrays(context, "x", "kernel")
    if found is None:
        return
    x, kernel = found
    bias = _arrays(context, "bias")
    b = bias[0] if bias else None
    name = str(context.get("activation") or "linear")
    act = reference.get_activation(name)
    right = reference.dense(x, kernel, b, name)
    if b is not None:
        yield (
            act(x @ kernel),
            f"These are {name}(x W) without the bias b: add b to x W before the activation.",
        )
        yield (
            act(x @ kernel) + b,
            f"That adds b after the activation; Keras computes {name}(x W + b), the bias inside.",
        )
        yield act(x @ kernel - b), f"That subtracts the bias; Keras computes {name}(x W + b)."
    if name != "linear":
        yield (
            reference.dense(x, kernel, b),
            f"These are x W + b before the activation: apply {name} to every entry.",
        )
    yield (
        right.T,
        "Your array is (units, batch), the transpose: Keras multiplies each row of x from the "
        "left, x @ W with W of shape (features, units), so the output is (batch, units).",
    )
    if kernel.shape[0] == kernel.shape[1]:
        yield reference.dense(x, kernel.T, b, name), "That uses W transposed; Keras uses x @ W."


def _simple_rnn_candidates(context: Mapping[str, Any]) -> ArrayCandidates:
    found = _arrays(context, "x", "kernel", "recurrent_kernel", "bias")
    if found is None:
        return
    x, W, U, b = found
    name = str(context.get("activation") or "tanh")

    def run(**options: Any) -> np.ndarray:
        weights = [options.pop("W", W), options.pop("U", U), options.pop("b", b)]
        return reference.simple_rnn(x, weights, activation=options.pop("act", name), **options)

    seq = run(return_sequences=True)
    yield (
        seq[:, 0],
        "That is h after the first step. The layer returns the state after the last "
        "timestep, each step feeding its h into the next through U.",
    )
    yield (
        run(U=np.zeros_like(U)),
        "That leaves out the recurrent term h_{t-1} U: each step adds the previous state, "
        "weighed by U, to x_t W + b.",
    )
    yield (
        run(U=U.T),
        "That uses U transposed (U h instead of h U): Keras computes h_{t-1} @ U with U as "
        "it is stored, (units, units).",
    )
    yield run(b=np.zeros_like(b)), "That leaves out the bias b in each step."
    yield (
        run(act="linear"),
        f"That leaves out the {name}: h_t = {name}(x_t W + h_(t-1) U + b) at every step.",
    )
    for other in ("relu", "sigmoid", "tanh"):  # Dense's habit, or the gates' activation
        if other != name:
            slipped = run(act=other)
            formula = f"h_t = {name}(x_t W + h_(t-1) U + b) at every step"
            if slipped.any():
                message = f"That is what {other} gives; this layer's activation is {name}: "
                yield slipped, f"{message}{formula}."
            else:  # relu clipped it all, or nothing was ever computed into the array
                yield (
                    slipped,
                    f"Every entry of your array is 0. {other} gives exactly that here (it "
                    f"clips every negative value to 0), but this layer's activation is {name}: "
                    f"{formula}. Or the array was never computed into.",
                )
    # The activation left out of one step only (most often the last one written by hand):
    # tried step by step, since leaving it out everywhere is a different array.
    act = reference.get_activation(name)
    steps = x.shape[1]
    for skipped in range(steps if steps > 1 else 0):
        h = np.zeros((x.shape[0], U.shape[0]))
        for t in range(steps):
            z = x[:, t] @ W + h @ U + b
            h = z if t == skipped else act(z)
        yield (
            h,
            f"That leaves out the {name} at step {skipped + 1} (of {steps}): there "
            f"x_{skipped + 1} W + h_{skipped} U + b is the value before the activation; "
            f"h_t = {name}(x_t W + h_(t-1) U + b) at every step.",
        )
    yield (
        run(go_backwards=True),
        "That reads the timesteps last to first; the layer runs from the first timestep on.",
    )
    yield (
        seq.mean(axis=1),
        "That averages h over the timesteps; the layer returns the last step's h.",
    )
    yield (
        seq,
        "That is h at every timestep (return_sequences=True); the layer returns the last "
        "step's h only.",
    )


_TF1_ORDER = "icfo"
#: Keras's LSTM gate order: which block is the forget gate is a question of its own (04 q4),
#: so a message names the blocks a learner misplaced, never this order.
_KERAS_ORDER = "ifco"
_GATE_NAMES = {
    "i": "the input gate i",
    "f": "the forget gate f",
    "c": "the candidate c~",
    "o": "the output gate o",
}


def _misplaced_blocks(order: str) -> str:
    """What a gate order gets wrong, without stating Keras's order.

    Examples
    --------
    >>> _misplaced_blocks("icfo")
    "the forget gate f and the candidate c~ are in each other's place. Slice the four blocks \
of z = x_t W + h_prev U + b in the order the chapter lists for Keras's columns."
    """
    wrong = [gate for gate, keras in zip(order, _KERAS_ORDER, strict=True) if gate != keras]
    if len(wrong) == 2:
        first, second = sorted(wrong, key=_KERAS_ORDER.index)
        what = f"{_GATE_NAMES[first]} and {_GATE_NAMES[second]} are in each other's place"
    else:
        what = f"{len(wrong)} of the four blocks are out of their place"
    return (
        f"{what}. Slice the four blocks of z = x_t W + h_prev U + b in the order the chapter "
        "lists for Keras's columns."
    )


def _lstm_step_candidates(context: Mapping[str, Any]) -> ArrayCandidates:
    found = _arrays(context, "x_t", "h_prev", "c_prev", "kernel", "recurrent_kernel", "bias")
    if found is None:
        return
    x_t, h_prev, c_prev, W, U, b = found
    which = str(context.get("output") or "h")
    other = "c" if which == "h" else "h"
    sigmoid, tanh = reference.get_activation("sigmoid"), np.tanh
    units = U.shape[0]

    def step(
        order: str = "ifco",
        recurrent: bool = True,
        bias: bool = True,
        gate: Callable[[np.ndarray], np.ndarray] = sigmoid,
        candidate: Callable[[np.ndarray], np.ndarray] = tanh,
        forget: bool = True,
        tanh_c: bool = True,
        h_from_prev: bool = False,
    ) -> dict[str, np.ndarray]:
        z = x_t @ W + (h_prev @ U if recurrent else 0.0) + (b if bias else 0.0)
        blocks = {gate_: z[:, k * units : (k + 1) * units] for k, gate_ in enumerate(order)}
        i, f, o = gate(blocks["i"]), gate(blocks["f"]), gate(blocks["o"])
        c = (f * c_prev if forget else 0.0) + i * candidate(blocks["c"])
        shown = c_prev if h_from_prev else c
        return {"h": o * (tanh(shown) if tanh_c else shown), "c": c}

    right = step()
    yield (
        right[other],
        f"That is {other}_t, not {which}_t: h_t = o * tanh(c_t), so the two differ; "
        f"the question asks for {which}_t.",
    )
    yield (
        step(order=_TF1_ORDER)[which],
        "These use TensorFlow 1's gate order, i, c, f, o, which is not Keras's: "
        f"{_misplaced_blocks(_TF1_ORDER)}",
    )
    if which == "h":
        yield step(tanh_c=False)["h"], "h_t = o * tanh(c_t): you left out the tanh on c_t."
        yield (
            step(h_from_prev=True)["h"],
            "h_t = o * tanh(c_t) uses the new cell state c_t, not c_prev: update c first.",
        )
    yield (
        step(recurrent=False)[which],
        "That leaves out the recurrent term h_prev @ U: z = x_t W + h_prev U + b feeds all "
        "four blocks, the three gates and the candidate.",
    )
    yield (
        step(forget=False)[which],
        "c_t = f * c_prev + i * c~: you left out the forget term f * c_prev, the memory "
        "carried over." + (" (h_t is computed from that c_t.)" if which == "h" else ""),
    )
    yield (
        step(gate=tanh)[which],
        "The gates i, f and o use the sigmoid (recurrent_activation), not tanh: each is a "
        "fraction between 0 and 1 of what it lets through.",
    )
    yield (
        step(candidate=sigmoid)[which],
        "The candidate c~ uses tanh, not the sigmoid of the gates: c~ = tanh(z_c), so it can "
        "be negative.",
    )
    yield (
        step(gate=reference.get_activation("hard_sigmoid"))[which],
        "Those gates use hard_sigmoid (Keras 1's default); Keras 3's LSTM uses "
        "recurrent_activation='sigmoid'.",
    )
    yield step(bias=False)[which], "That leaves out the bias b in z = x_t W + h_prev U + b."
    for order in sorted({"".join(p) for p in itertools.permutations("ifco")}):
        if order not in ("ifco", _TF1_ORDER):
            yield (
                step(order=order)[which],
                f"These read the four blocks of z in the order {', '.join(order)}, which is "
                f"not Keras's: {_misplaced_blocks(order)}",
            )


def _embedding_candidates(context: Mapping[str, Any]) -> ArrayCandidates:
    found = _arrays(context, "ids", "table")
    if found is None:
        return
    ids, table = found
    ids = ids.astype(int)
    rows = table.shape[0]
    looked = table[ids % rows]
    if ids.min() >= 1:
        yield (
            table[ids - 1],
            "Those rows are one off: ids count from 0, so id k is row k of the table "
            "(table[ids]), not row k - 1.",
        )
    if ids.max() + 1 < rows:
        yield table[ids + 1], "Those rows are one off: id k is row k of the table, not k + 1."
    if ids.min() >= 0 and ids.max() < rows:
        # One-hot vectors are sized by the vocabulary, the lookup's rows by output_dim.
        yield (
            np.eye(rows)[ids],
            "That is a one-hot encoding, one column per id of the vocabulary (input_dim). "
            "An Embedding replaces each id by its row of the table, table[ids]: output_dim "
            "numbers per id.",
        )
    yield (
        table[ids.T],
        "That indexes with the ids transposed: the ids are (batch, timesteps), and table[ids] "
        "keeps that order, adding output_dim last.",
    )
    yield (
        looked.mean(axis=1),
        "That averages over the timesteps. An Embedding does not pool: each id gets its own "
        "row, so the output keeps (batch, timesteps) and adds output_dim.",
    )
    yield (
        looked.sum(axis=1),
        "That sums over the timesteps. An Embedding does not pool: each id gets its own row, "
        "so the output keeps (batch, timesteps) and adds output_dim.",
    )
    yield (
        looked[:, -1],
        "That keeps the last timestep only. An Embedding looks up every id: the output keeps "
        "(batch, timesteps) and adds output_dim.",
    )
    yield (
        np.moveaxis(looked, -1, 0),
        "That puts output_dim first (the table's columns indexed): each id selects a *row* of "
        "the table, and the vector is the last axis of the output.",
    )


_ARRAY_TWINS: dict[str, Callable[[Mapping[str, Any]], ArrayCandidates]] = {
    "dense": _dense_candidates,
    "simple_rnn": _simple_rnn_candidates,
    "lstm_step": _lstm_step_candidates,
    "embedding": _embedding_candidates,
}


def array_mistake(
    answer: np.ndarray,
    expected: np.ndarray,
    context: Mapping[str, Any],
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> str | None:
    """Name the classic slip behind a wrong array, computed from the question's numbers.

    Parameters
    ----------
    answer, expected : numpy.ndarray
        The learner's array (of any shape) and the one Keras gives.
    context : mapping
        ``twin`` ("dense", "simple_rnn", "lstm_step" or "embedding") and the inputs and
        weights as plain lists: ``x``, ``kernel``, ``bias``, ``activation`` (dense);
        ``x``, ``kernel``, ``recurrent_kernel``, ``bias`` (simple_rnn); ``x_t``, ``h_prev``,
        ``c_prev``, ``kernel``, ``recurrent_kernel``, ``bias`` and ``output`` ("h" or "c")
        (lstm_step); ``ids`` and ``table`` (embedding).
    rtol, atol : float
        The tolerance of a match, the verdict's.

    Returns
    -------
    str or None
        The message of the first slip whose array the answer matches; None if none does
        (or the context does not hold the numbers).

    Examples
    --------
    >>> context = {"twin": "dense", "x": [[1.0, 2.0]], "kernel": [[1.0], [1.0]],
    ...            "bias": [-5.0], "activation": "relu"}
    >>> array_mistake(np.array([[3.0]]), np.array([[0.0]]), context).split(":")[0]
    'These are relu(x W) without the bias b'
    """
    candidates = _ARRAY_TWINS.get(str(context.get("twin")))
    if candidates is None:
        return None
    answer = np.asarray(answer, dtype=float)
    expected = np.asarray(expected, dtype=float)
    with np.errstate(all="ignore"):
        for value, message in candidates(context):
            value = np.asarray(value, dtype=float)
            if (
                value.shape == answer.shape
                and not (value.shape == expected.shape and np.allclose(value, expected, rtol, atol))
                and np.allclose(answer, value, rtol=rtol, atol=atol)
            ):
                return message
    return None


def tolerance_text(rtol: float, atol: float) -> str:
    """How close an array entry must be, as ``numpy.allclose`` judges it.

    Examples
    --------
    >>> tolerance_text(1e-5, 1e-5)
    '1e-5 + 1e-5 × |Keras value| per entry'
    """
    return f"{atol:.0e} + {rtol:.0e} × |Keras value| per entry".replace("e-0", "e-")


def explain_array(
    answer: np.ndarray,
    expected: np.ndarray,
    context: Mapping[str, Any],
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> str:
    """Say what is wrong with an array: the named slip, or which entries differ and how.

    Without a named slip the message compares the arrays as a whole (every sign flipped,
    one scale factor, one offset, the right numbers in other places) and otherwise says
    how many entries differ and where, never their expected values.

    Examples
    --------
    >>> print(explain_array(np.array([[-1.0, 2.0]]), np.array([[1.0, -2.0]]), {}))
    Every entry has the wrong sign: the numbers are right up to a factor -1.
    """
    answer = np.asarray(answer, dtype=float)
    expected = np.asarray(expected, dtype=float)
    named = array_mistake(answer, expected, context, rtol, atol)
    if named:
        return named
    if answer.shape != expected.shape:
        return _lookup_shape_message(answer.shape, context) or _array_shape_message(
            answer.shape, expected.shape, stated=bool(context.get("shape_in_prompt"))
        )
    close = np.isclose(answer, expected, rtol=rtol, atol=atol)
    decimals = _rounded_to(answer, expected)
    if decimals is not None:
        return (
            f"These are the Keras numbers rounded to {decimals} decimal"
            f"{'' if decimals == 1 else 's'}, which is more than the tolerance "
            f"({tolerance_text(rtol, atol)}) allows: assign the computed array itself, not "
            "numbers copied from a printout."
        )
    if np.allclose(answer, expected, rtol=1e-3, atol=1e-3):
        # so close that a scale or an offset fitted to the gaps would be rounding noise
        return _near_miss(answer, expected, atol)
    if np.allclose(answer, -expected, rtol=rtol, atol=atol):
        return "Every entry has the wrong sign: the numbers are right up to a factor -1."
    nonzero = np.abs(expected) > atol
    if nonzero.any() and np.allclose(answer, 0.0, rtol=0.0, atol=atol):
        # A factor 0 is no scale slip: nothing of the computation is left in the answer.
        return (
            "Every entry of your array is 0, and the Keras value is not: the result was "
            "never computed into it (an array left at its zeros start, or a product with a "
            "zero state)."
        )
    if nonzero.any():
        ratio = float(np.median(answer[nonzero] / expected[nonzero]))
        if not np.isclose(ratio, 1.0) and np.allclose(answer, ratio * expected, rtol, atol):
            if f"{ratio:.3g}" == "1":
                # "1 times the Keras value" would read as right: it is a near miss.
                return _near_miss(answer, expected, atol)
            return (
                f"Every entry is {ratio:.3g} times the Keras value: the numbers are right up to "
                "one scale factor (a term counted twice, or a factor left out)."
            )
    offset = float(np.median(answer - expected))
    if not np.isclose(offset, 0.0, atol=atol) and np.allclose(
        answer, expected + offset, rtol, atol
    ):
        return (
            f"Every entry is off by the same amount, {offset:+.3g}: a term added to all of "
            "them is wrong."
        )
    if np.allclose(np.sort(answer, axis=None), np.sort(expected, axis=None), rtol, atol):
        return (
            "The right numbers in the wrong places: check the order of the axes and of the "
            "blocks you slice."
        )
    wrong = [tuple(int(i) for i in index) for index in np.argwhere(~close)]
    flipped = int(np.sum(~close & (np.sign(answer) != np.sign(expected)) & nonzero))
    where = ", ".join(map(str, wrong[:4])) + (", ..." if len(wrong) > 4 else "")
    lines = [
        f"Not within the tolerance of the Keras value ({tolerance_text(rtol, atol)}): "
        f"{len(wrong)} of {expected.size} entries differ, "
        f"at {where}."
    ]
    if expected.ndim == 2 and len(wrong) > 1:
        rows, cols = {i for i, _ in wrong}, {j for _, j in wrong}
        if len(rows) == 1:
            lines.append(f"All of them are in row {rows.pop()}.")
        elif len(cols) == 1:
            lines.append(f"All of them are in column {cols.pop()}.")
    if flipped:
        lines.append(f"{flipped} of them {'has' if flipped == 1 else 'have'} the wrong sign.")
    bigger = int(np.sum(~close & (np.abs(answer) > np.abs(expected))))
    if bigger in (0, len(wrong)) and len(wrong) > 1:
        lines.append(f"All of them are {'larger' if bigger else 'smaller'} in size than Keras's.")
    return " ".join(lines)


def _rounded_to(answer: np.ndarray, expected: np.ndarray) -> int | None:
    """The number of decimals (1 to 6) the answer is the expected array rounded to, or None.

    Examples
    --------
    >>> _rounded_to(np.array([0.12, -0.5]), np.array([0.1234, -0.4987]))
    2
    >>> _rounded_to(np.array([0.2, -0.5]), np.array([0.1234, -0.4987])) is None
    True
    """
    for decimals in range(1, 7):
        rounded = np.round(expected, decimals)
        if not np.array_equal(rounded, expected) and np.allclose(
            answer, rounded, rtol=0.0, atol=10.0 ** -(decimals + 3)
        ):
            return decimals
    return None


def _near_miss(answer: np.ndarray, expected: np.ndarray, atol: float) -> str:
    """An array close to the Keras value everywhere but outside the tolerance."""
    gaps = np.abs(answer - expected)
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(gaps)), gaps.shape))
    tolerance = f"{atol:g}".replace("e-0", "e-")  # 1e-5, as the other messages write it
    return (
        f"The numbers are close to the Keras value but off by more than the tolerance "
        f"({tolerance}): the largest difference is {float(gaps.max()):.2g}, at {where}. "
        "Numbers copied from a rounded printout, or a constant slightly off, give this."
    )


def _lookup_shape_message(mine: tuple[int, ...], context: Mapping[str, Any]) -> str | None:
    """An Embedding lookup answered with the shape of the ids or of the table, or None: the
    generic "one axis fewer: something summed or averaged an axis away" guesses at a
    reduction where the learner gave back what the layer reads.

    Examples
    --------
    >>> _lookup_shape_message((2, 3), {"twin": "embedding", "ids": [[2, 0, 2], [4, 1, 3]],
    ...                                "table": [[0.0, 0.3]] * 5}).split(":")[0]
    'Your array has shape (2, 3), the shape of the ids'
    """
    if context.get("twin") != "embedding":
        return None
    found = _arrays(context, "ids", "table")
    if found is None:
        return None
    ids, table = found
    if mine == ids.shape:
        return (
            f"Your array has shape {mine}, the shape of the ids: the Embedding replaces each "
            "id by its row of the table, so its output has one more axis, the length of a row."
        )
    if mine == table.shape:
        return (
            f"Your array has shape {mine}, the shape of the whole table: the Embedding "
            "returns only the rows the ids pick, one row per id, in the ids' layout."
        )
    return None


def _array_shape_message(
    mine: tuple[int, ...], theirs: tuple[int, ...], stated: bool = False
) -> str:
    """How the answer's shape differs from the Keras array's, without stating the latter
    unless the prompt states it (``stated``, a question's ``shape_in_prompt``): where a
    prompt leaves the shape out, working it out is part of the question.

    Examples
    --------
    >>> _array_shape_message((18,), (2, 3, 3)).split(":")[0]
    "Your array has shape (18,), which is not the shape of Keras's array. It holds as many \
numbers, laid out in fewer axes"
    >>> _array_shape_message((2, 4), (2, 3))
    "Your array has shape (2, 4), which is not the shape of Keras's array. Axis 1 has the \
wrong size."
    >>> _array_shape_message((2, 4), (2, 3), stated=True)
    'Your array has shape (2, 4); the question asks for shape (2, 3). Axis 1 has the wrong size.'
    """
    text = (
        f"Your array has shape {mine}; the question asks for shape {theirs}."
        if stated
        else f"Your array has shape {mine}, which is not the shape of Keras's array."
    )
    if len(mine) == len(theirs) and sorted(mine) == sorted(theirs):
        return f"{text} The right sizes in another order: check which axis is which."
    if len(mine) < len(theirs) and [n for n in mine if n != 1] == [n for n in theirs if n != 1]:
        # only axes of size 1 are gone: an index such as h[0] (or a squeeze) dropped them,
        # which no reshape was written for
        ones = len(theirs) - len(mine)
        return (
            f"{text} It holds as many numbers, without {'an axis' if ones == 1 else 'axes'} of "
            "size 1: an index such as [0], or a squeeze, dropped "
            f"{'it' if ones == 1 else 'them'}; keep the axes the question's array has."
        )
    if math.prod(mine) == math.prod(theirs) and len(mine) != len(theirs):
        # the same numbers of elements: nothing was reduced, only laid out again
        return (
            f"{text} It holds as many numbers, laid out in "
            f"{'fewer' if len(mine) < len(theirs) else 'more'} axes: a reshape or flatten "
            "changed the layout; keep the axes the question's array has."
        )
    if len(mine) == len(theirs) - 1:
        return f"{text} It has one axis fewer: something summed or averaged an axis away."
    if len(mine) == len(theirs):
        wrong = [str(axis) for axis, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
        axes = f"Axis {wrong[0]} has" if len(wrong) == 1 else f"Axes {', '.join(wrong)} have"
        return f"{text} {axes} the wrong size."
    return f"{text} It has {'fewer' if len(mine) < len(theirs) else 'more'} axes."
