"""Shape and parameter rules for Keras layers, worked out from a layer's config alone.

Each rule is the arithmetic the course teaches: how a layer turns an input of shape
``(batch, timesteps, features)`` into its outputs, and how many weights it creates. The
module needs only the standard library, so graders can check a learner's model
specification (a JSON list of layer specs) without importing TensorFlow or Keras.

A *layer* argument may be

* a Keras layer instance (its ``get_config()`` is read; Keras itself is never imported),
* the dict ``keras.layers.serialize(layer)`` returns, or
* a plain ``{"class_name": ..., "config": {...}}`` listing only the options that differ
  from the Keras 3 defaults.

Input shapes always include the batch axis, e.g. ``(None, 10, 64)``; ``None`` marks an
axis whose size is not fixed.

Taught in ``book/02-dense.md`` through ``book/07-gru-bidirectional.md``.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "LayerRow",
    "FlagNotBoolError",
    "UnsupportedLayerError",
    "as_recurrent_layer",
    "count_params",
    "layer_spec",
    "output_shapes",
    "param_formula",
    "param_terms",
    "stack_shapes",
]

Shape = tuple[int | None, ...]
ShapeLike = Sequence[int | None]
InputShape = Shape | list[Shape]


class FlagNotBoolError(ValueError):
    """A layer config Keras builds, but not as it reads: a flag written as neither a bool
    nor 0 or 1, such as a string (``return_sequences="True"``) or ``return_state=[1]``,
    which Keras reads by its truth whatever it says.

    Examples
    --------
    >>> try:
    ...     count_params({"class_name": "Dense", "config": {"units": 2, "use_bias": "False"}},
    ...                  (None, 3))
    ... except FlagNotBoolError as err:
    ...     print(str(err).split(":")[0])
    Dense's use_bias 'False' is a string, and Keras reads any non-empty string as True
    """


class UnsupportedLayerError(ValueError):
    """A layer class that :mod:`lstm_lib.shapes` has no rule for.

    The message names the layer class and lists the supported ones, or the spelling of a
    supported one written in another case.

    Attributes
    ----------
    recased : str or None
        The supported layer or cell class that the name spells in another case
        (``"Lstm"`` for ``"LSTM"``); the message then says only that.
    option : str or None
        The option that takes a supported layer out of these rules (``"lora_rank"``):
        Keras builds the layer, with weights the rules do not count.

    Examples
    --------
    >>> try:
    ...     count_params({"class_name": "Conv1D", "config": {"filters": 4}}, (None, 10, 3))
    ... except UnsupportedLayerError as err:
    ...     print(str(err).split(";")[0], err.recased)
    Conv1D is not covered by lstm_lib.shapes None

    Taught in ``book/02-dense.md``.
    """

    def __init__(
        self, message: str, *, recased: str | None = None, option: str | None = None
    ) -> None:
        super().__init__(message)
        self.recased = recased
        self.option = option


@dataclass(frozen=True)
class LayerRow:
    """One layer of a stack: what goes in, what comes out, and how many weights it holds.

    Parameters
    ----------
    name : str
        The layer's name, e.g. ``"lstm"``.
    class_name : str
        The Keras class, e.g. ``"LSTM"``.
    input_shape : tuple or list of tuple
        The input shape, batch axis included, e.g. ``(None, 10, 64)``; a list of shapes
        for layers that join several inputs (``Concatenate``, ``Add``).
    output_shapes : list of tuple
        One shape per tensor the layer returns, in Keras's order.
    params : int
        The number of weights (trainable or not).
    formula : str
        The parameter arithmetic with the numbers filled in, ending in ``= params``.
    non_trainable_params : int, default 0
        How many of ``params`` training leaves alone: all of them for a layer built with
        ``trainable=False``, as in the "Non-trainable params" line of ``model.summary()``.

    Examples
    --------
    >>> row = stack_shapes([{"class_name": "Dense", "config": {"units": 3}}], (None, 4))[0]
    >>> row.name, row.input_shape, row.output_shapes
    ('dense', (None, 4), [(None, 3)])
    >>> row.params, row.formula
    (15, '4 × 3 + 3 = 15')
    >>> row.trainable_params, row.non_trainable_params
    (15, 0)

    Taught in ``book/02-dense.md``; freezing in ``book/06-embedding.md``.
    """

    name: str
    class_name: str
    input_shape: InputShape
    output_shapes: list[Shape]
    params: int
    formula: str
    non_trainable_params: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.non_trainable_params <= self.params:
            raise ValueError(
                f"non_trainable_params must be between 0 and params ({self.params}); "
                f"got {self.non_trainable_params}."
            )

    @property
    def trainable_params(self) -> int:
        """The weights training updates: ``params - non_trainable_params``."""
        return self.params - self.non_trainable_params


class _Result(NamedTuple):
    outputs: list[Shape]
    params: int
    arithmetic: str  # the formula's left-hand side
    non_trainable: int = 0  # how many of params sit in layers with trainable=False
    terms: dict[str, int] | None = None  # params split by weight block (see param_terms)


_RECURRENT_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}  # the gated blocks of each layer


def gated_blocks_named(blocks: int | None) -> str:
    """What the blocks of a gated layer are, in the book's words.

    Parameters
    ----------
    blocks : int or None
        How many blocks the layer keeps side by side in each weight: 4 for an LSTM, 3 for
        a GRU; ``None`` when the layer is not known.

    Examples
    --------
    >>> gated_blocks_named(4)
    'three gates and the candidate'
    >>> gated_blocks_named(3)
    'two gates and the candidate'
    """
    return {4: "three gates and the candidate", 3: "two gates and the candidate"}.get(
        blocks or 0, "the gates and the candidate"
    )


# keras.layers.RNN runs one cell over the timesteps; around one of these cells it is the
# layer beside it, with the same weights and outputs (book/04-lstm.md shows it).
_CELL_LAYERS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
# The options keras.layers.RNN takes itself; every other option belongs to its cell.
_RNN_OPTIONS = (
    *("return_sequences", "return_state", "go_backwards", "stateful", "unroll"),
    "zero_output_for_mask",
)
_ELEMENTWISE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
_RECURRENT_DEFAULTS = {
    "use_bias": True,
    "return_sequences": False,
    "return_state": False,
    "stateful": False,
}
# Only the options the rules read; everything else in a config is passed through untouched.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "Dense": {"use_bias": True},
    "SimpleRNN": _RECURRENT_DEFAULTS,
    "LSTM": _RECURRENT_DEFAULTS,
    "GRU": {**_RECURRENT_DEFAULTS, "reset_after": True},
    "Bidirectional": {"merge_mode": "concat", "backward_layer": None},
    "Concatenate": {"axis": -1},
}
_REQUIRED = {
    "Dense": ("units",),
    "SimpleRNN": ("units",),
    "LSTM": ("units",),
    "GRU": ("units",),
    "RNN": ("cell",),
    **{cell: ("units",) for cell in _CELL_LAYERS},
    "Embedding": ("input_dim", "output_dim"),
    "Bidirectional": ("layer",),
    "TimeDistributed": ("layer",),
    "Reshape": ("target_shape",),
    "RepeatVector": ("n",),
}
_WRAPPERS = ("Bidirectional", "TimeDistributed")
# Keras 2's cuDNN-only layers, gone in Keras 3, and the layer that took their place.
_GONE_LAYERS = {"CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU"}
# The layers whose output width is their own units (or a wrapped layer's): the others
# (Dropout, Flatten, Activation, ...) return what their input makes them.
_LAYERS_WITH_UNITS = frozenset({*_RECURRENT_GATES, *_WRAPPERS, "Dense", "Embedding"})

# --- the keyword arguments each class takes -------------------------------------------
# Keras 3 raises "Unrecognized keyword arguments passed to LSTM" for any other key, so a spec
# with one would not build in the learner's check cell either. Kept as data, so
# graders need no Keras: tests/test_shapes.py rebuilds every set from the installed Keras
# (the class's constructor parameters, keras.layers.Layer's, and the keys get_config()
# writes) and fails when an upgrade changes one. Recorded from Keras 3.15.1.
_LAYER_ARGUMENTS = ("activity_regularizer", "autocast", "dtype", "name", "trainable")
_RECURRENT_ARGUMENTS = (
    *("units", "activation", "use_bias", "dropout", "recurrent_dropout", "seed"),
    *("kernel_initializer", "recurrent_initializer", "bias_initializer"),
    *("kernel_regularizer", "recurrent_regularizer", "bias_regularizer"),
    *("kernel_constraint", "recurrent_constraint", "bias_constraint"),
    *("return_sequences", "return_state", "go_backwards", "stateful", "unroll"),
    "zero_output_for_mask",
)
_CELL_ARGUMENTS = tuple(key for key in _RECURRENT_ARGUMENTS if key not in _RNN_OPTIONS)
_ARGUMENTS: dict[str, frozenset[str]] = {
    class_name: frozenset(_LAYER_ARGUMENTS + extra)
    for class_name, extra in {
        "Dense": (
            *("units", "activation", "use_bias", "kernel_initializer", "bias_initializer"),
            *("kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint"),
            *("lora_rank", "lora_alpha", "quantization_config"),
        ),
        "SimpleRNN": _RECURRENT_ARGUMENTS,
        "LSTM": (*_RECURRENT_ARGUMENTS, "recurrent_activation", "unit_forget_bias", "use_cudnn"),
        "GRU": (*_RECURRENT_ARGUMENTS, "recurrent_activation", "reset_after", "use_cudnn"),
        "RNN": ("cell", *_RNN_OPTIONS),
        "SimpleRNNCell": _CELL_ARGUMENTS,
        "LSTMCell": (*_CELL_ARGUMENTS, "recurrent_activation", "unit_forget_bias"),
        "GRUCell": (*_CELL_ARGUMENTS, "recurrent_activation", "reset_after"),
        "Embedding": (
            *("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer"),
            *("embeddings_constraint", "mask_zero", "weights"),
            *("lora_rank", "lora_alpha", "quantization_config"),
        ),
        "Bidirectional": ("layer", "merge_mode", "backward_layer", "weights"),
        "TimeDistributed": ("layer",),
        "InputLayer": (
            *("shape", "batch_size", "batch_shape", "dtype", "sparse", "ragged"),
            *("input_tensor", "optional"),
        ),
        "Dropout": ("rate", "noise_shape", "seed"),
        "Activation": ("activation",),
        "Flatten": ("data_format",),
        "Reshape": ("target_shape",),
        "RepeatVector": ("n",),
        "Concatenate": ("axis",),
        **{class_name: () for class_name in _ELEMENTWISE},
    }.items()
}
# Keys Keras 3 takes out of **kwargs without naming them, accepted here too. Two kinds:
# options it drops (Embedding warns that input_length is deprecated and ignores it) ...
_DROPPED_ARGUMENTS: dict[str, tuple[str, ...]] = {"Embedding": ("input_length",)}
# ... and options it uses but leaves out of the layer's config: LSTM's and GRU's
# implementation says how a step is computed, not what, so the layer is the same without it.
_UNSAVED_ARGUMENTS: dict[str, tuple[str, ...]] = {
    class_name: ("implementation",) for class_name in ("LSTM", "GRU", "LSTMCell", "GRUCell")
}
# keras.layers.Layer warns about input_shape and input_dim on any layer (a Sequential model
# builds its input from the first layer's); only a first layer's is ever read.
_ANY_LAYER_LEGACY = ("input_shape", "input_dim")
# InputLayer never hands its **kwargs on, so Keras 3 ignores any key it does not know.
_IGNORES_UNKNOWN_KEYS = frozenset({"InputLayer"})
# Keras 1 spellings that Keras 2 still translated, with a warning, and Keras 3 rejects; the
# names that replaced them. Embedding renamed its own weights' options.
_KERAS1_NAMES = {
    "output_dim": "units",
    "inner_activation": "recurrent_activation",
    "init": "kernel_initializer",
    "inner_init": "recurrent_initializer",
    "W_regularizer": "kernel_regularizer",
    "U_regularizer": "recurrent_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "U_constraint": "recurrent_constraint",
    "b_constraint": "bias_constraint",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
    "bias": "use_bias",
}
_KERAS1_EMBEDDING_NAMES = {
    "init": "embeddings_initializer",
    "W_regularizer": "embeddings_regularizer",
    "W_constraint": "embeddings_constraint",
}
_KERAS1_DROPOUT_NAMES = {"p": "rate"}

# --- the names Keras 3 resolves for an option given by name -------------------------------
# keras.activations.get("Tanh") raises "Could not interpret activation function identifier",
# and the initializer, regularizer and constraint getters do the same for a name they do not
# know, so a spec with one would not build. Names are case-sensitive ("GlorotUniform" and
# "glorot_uniform" are both known, "Glorot_Uniform" is not). Kept as data, so graders need no
# Keras: tests/test_shapes.py rebuilds every set from the installed Keras. Recorded from
# Keras 3.15.1 (the STFT initializer needs SciPy, but its name is known).
_ACTIVATION_NAMES = frozenset(
    {
        *("celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid"),
        *("hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid"),
        *("log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink"),
        *("softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax"),
        *("squareplus", "swish", "tanh", "tanh_shrink", "threshold"),
    }
)
_INITIALIZER_NAMES = frozenset(
    {
        *("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity"),
        *("IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones"),
        *("Orthogonal", "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT"),
        *("STFTInitializer", "TruncatedNormal", "VarianceScaling", "Zeros", "glorot_normal"),
        *("glorot_uniform", "he_normal", "he_uniform", "identity", "initializer"),
        *("lecun_normal", "lecun_uniform", "normal", "one", "ones", "orthogonal"),
        *("random_normal", "random_uniform", "stft", "truncated_normal", "uniform"),
        *("variance_scaling", "zero", "zeros"),
    }
)
_REGULARIZER_NAMES = frozenset(
    {"L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "l1", "l1l2", "l2"}
    | {"orthogonal_regularizer", "regularizer"}
)
# The dtype policies a layer with weights builds under: float weights, computed in float16,
# bfloat16, float32 or float64 (the mixed ones keep float32 weights). Integer dtypes build
# integer weights, which Keras's random initializers fail to fill at most sizes; quantized
# policies ("int8_from_float32") add scale weights these rules do not count. Checked against
# the installed Keras in tests/test_shapes.py.
_FLOAT_DTYPES = frozenset(
    {"float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16"}
)
_INTEGER_DTYPES = frozenset({"int", "int8", "int16", "int32", "int64"})
# The names keras.dtype_policies.get reads as the policy of a layer without weights of its
# own (a wrapper, a Dropout): Keras's dtypes (without those that open like a quantization
# mode, which it parses as one), the two mixed policies and the alias "int". Checked
# against the installed Keras in tests/test_shapes.py.
_POLICY_NAMES = frozenset(
    {
        *("bfloat16", "bool", "complex128", "complex64", "float16", "float32", "float64"),
        *("int16", "int32", "int64", "string", "uint16", "uint32", "uint64", "uint8"),
        *("mixed_bfloat16", "mixed_float16", "int"),
    }
)
# The dtypes an InputLayer's tensor may have (keras.backend.standardize_dtype): every dtype
# Keras knows and the alias "int", but no policy. Checked in tests/test_shapes.py.
_INPUT_DTYPES = (_POLICY_NAMES - {"mixed_bfloat16", "mixed_float16"}) | {
    *("float8_e4m3fn", "float8_e5m2", "int8")
}
# keras.dtype_policies.get reads a dict as a float policy only where it names one of these
# classes, with "module" left out or set (None fails the deserializer) and "config" left
# out, None or the class's one argument, "name"; a dict naming another class (an
# initializer, a quantized policy) or none fails to build the layer.
_FLOAT_POLICY_CLASSES = frozenset({"DTypePolicy", "FloatDTypePolicy"})
# A quantized policy is "<mode>_from_<float policy>". Only Dense and Embedding quantize;
# the recurrent layers build under it as under its float policy.
_QUANTIZATION_MODES = ("int8", "float8", "int4")
# TensorFlow's QR decomposition, which the orthogonal initializer of a recurrent kernel
# uses, has no bfloat16 kernel, so those layers do not build in plain bfloat16.
_ORTHOGONAL_NAMES = frozenset({"Orthogonal", "OrthogonalInitializer", "orthogonal"})
_WEIGHTED_LAYERS = frozenset({*_RECURRENT_GATES, *_CELL_LAYERS, "Dense", "Embedding"})
# Options that give a layer weights these rules do not count: LoRA's two low-rank factors
# (with the kernel frozen), or a quantized copy with its scales.
_UNCOUNTED_OPTIONS = ("lora_rank", "quantization_config")

_CONSTRAINT_NAMES = frozenset(
    {"Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "constraint", "max_norm"}
    | {"min_max_norm", "non_neg", "unit_norm"}
)

# --- the values Keras 3 takes for an option -----------------------------------------------
# Keras's SeedGenerator takes a Python int (bool is refused when the seed becomes a tensor)
# and holds it in an int64, so larger ones fail when the layer builds; None draws one.
_SEED_LIMIT = 2**63
# The options a recurrent layer or cell clips into [0, 1] with min() and max(): any int,
# float or bool passes (even NaN), anything else fails the comparison.
_CLIPPED_OPTIONS = frozenset({"dropout", "recurrent_dropout"})
# The rank of the weight each option's object is applied to, which some objects need: an
# orthogonal or identity initializer and the orthogonal regularizer want a matrix, and a
# constraint's axis must exist. The activity regularizer acts on the outputs, at fit time.
_BIAS_PREFIX = "bias_"
# keras.activations.get reads a dict through the generic deserializer: a built-in function
# serializes as {"class_name": "function", "config": name, "module": ...}; a dict that names
# the function as its class needs Keras's public module. Recorded from Keras 3.15.1 and
# checked in tests/test_shapes.py.
_ACTIVATION_FUNCTION_MODULES = frozenset({"builtins", "keras.activations"})
_ACTIVATION_CLASS_MODULE = "keras.activations"
# swish and hard_swish are aliases Keras resolves by name but exports as silu and
# hard_silu, so a dict cannot name them.
_ACTIVATION_DICT_NAMES = _ACTIVATION_NAMES - {"hard_swish", "swish"}
# ... and a layer's get_config() stores them under those names: the same activation.
_ACTIVATION_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}
# The classes an initializer, regularizer or constraint dict may name (keras.*.get resolves
# its class_name through the module's ALL_OBJECTS_DICT, ignoring "module" unless it is None,
# and builds the class from "config"), each with its constructor's parameters and the kind
# of value each takes:
#   "seed"     an int within int64, or None (see _SEED_LIMIT);
#   "number"   an int, float or bool (Keras turns it into a float tensor when it builds);
#   "positive" a number not <= 0 (VarianceScaling checks scale <= 0, so NaN passes);
#   "penalty"  a finite number >= 0 (regularizers.validate_float_arg); "penalty?" also None;
#   "float penalty" the same, a float only: OrthogonalRegularizer keeps its factor as a
#              tensor of the value's own type, and an int or bool one then fails to multiply
#              with the float weights when the loss is computed;
#   "axes"     a list of axes of the weight, read only when input_axes and output_axes are
#              both given (compute_fans);
#   "axis"     an axis of the weight, a list of them, or None for all (constraints sum
#              over it);
#   "lower"    a string whose lower case is one of the choices (distribution);
#   a frozenset: one of these strings, case and all.
# Recorded from Keras 3.15.1; tests/test_shapes.py rebuilds the parameters from the
# installed Keras and checks every kind of value against it.
_FANS = {"seed": "seed", "input_axes": "axes", "output_axes": "axes"}
_DISTRIBUTIONS = frozenset({"truncated_normal", "untruncated_normal", "normal", "uniform"})
_SERIALIZED_CLASSES: dict[str, dict[str, dict[str, str | frozenset[str]]]] = {
    "initializer": {
        "Constant": {"value": "number"},
        "Zeros": {},
        "Ones": {},
        "RandomNormal": {"mean": "number", "stddev": "number", "seed": "seed"},
        "TruncatedNormal": {"mean": "number", "stddev": "number", "seed": "seed"},
        "RandomUniform": {"minval": "number", "maxval": "number", "seed": "seed"},
        "VarianceScaling": {
            "scale": "positive",
            "mode": frozenset({"fan_in", "fan_out", "fan_avg"}),
            "distribution": "lower",
            **_FANS,
        },
        **{
            name: _FANS
            for name in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform")
            + ("LecunNormal", "LecunUniform")
        },
        "Orthogonal": {"gain": "number", "seed": "seed"},
        "Identity": {"gain": "number"},
        "STFT": {"side": "any", "window": "any", "scaling": "any", "periodic": "any"},
        "Initializer": {},
    },
    "regularizer": {
        "L1": {"l1": "penalty?"},
        "L2": {"l2": "penalty?"},
        "L1L2": {"l1": "penalty?", "l2": "penalty?"},
        "OrthogonalRegularizer": {
            "factor": "float penalty",
            "mode": frozenset({"rows", "columns"}),
        },
        "Regularizer": {},
    },
    "constraint": {
        "MaxNorm": {"max_value": "number", "axis": "axis"},
        "MinMaxNorm": {
            "min_value": "number",
            "max_value": "number",
            "rate": "number",
            "axis": "axis",
        },
        "UnitNorm": {"axis": "axis"},
        "NonNeg": {},
        "Constraint": {},
    },
}
# The other names ALL_OBJECTS_DICT gives these classes (a string or a dict may use any).
_SERIALIZED_ALIASES: dict[str, str] = {
    **{"constant": "Constant", "zeros": "Zeros", "zero": "Zeros", "ones": "Ones", "one": "Ones"},
    **{"random_normal": "RandomNormal", "normal": "RandomNormal"},
    **{"random_uniform": "RandomUniform", "uniform": "RandomUniform"},
    **{"truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling"},
    **{"glorot_normal": "GlorotNormal", "glorot_uniform": "GlorotUniform"},
    **{"he_normal": "HeNormal", "he_uniform": "HeUniform"},
    **{"lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform"},
    **{"orthogonal": "Orthogonal", "OrthogonalInitializer": "Orthogonal"},
    **{"identity": "Identity", "IdentityInitializer": "Identity"},
    **{"stft": "STFT", "STFTInitializer": "STFT", "initializer": "Initializer"},
    **{"l1": "L1", "l2": "L2", "l1l2": "L1L2", "regularizer": "Regularizer"},
    "orthogonal_regularizer": "OrthogonalRegularizer",
    **{"max_norm": "MaxNorm", "min_max_norm": "MinMaxNorm", "unit_norm": "UnitNorm"},
    **{"non_neg": "NonNeg", "constraint": "Constraint"},
}
# Constant.from_config reads config["value"] without a default, and nothing else: the
# other keys of its config are ignored rather than refused.
_REQUIRED_CONFIG = {"Constant": ("value",)}
_READS_ONLY_REQUIRED = frozenset({"Constant"})
# The objects that need their weight to be a matrix (a bias is a vector).
_MATRIX_ONLY = frozenset({"Orthogonal", "Identity", "OrthogonalRegularizer"})
# Why a class resolves but never builds these layers' weights.
_NEVER_BUILDS = {
    "Initializer": "is the abstract base class, whose __call__ raises NotImplementedError",
    "STFT": "fills only 3-D convolution kernels (frame_length, channels, fft_length)",
}


def layer_spec(layer: Any) -> dict[str, Any]:
    """Normalize a layer to ``{"class_name", "config"}`` with the Keras 3 defaults filled in.

    Parameters
    ----------
    layer : keras layer or dict
        A Keras layer instance, the dict ``keras.layers.serialize(layer)`` returns, or a
        plain ``{"class_name": ..., "config": {...}}`` with only the non-default options.

    Returns
    -------
    dict
        ``{"class_name": str, "config": dict}``. The config keeps every key it was given and
        gains the defaults the shape rules read (``use_bias``, ``return_sequences``,
        ``return_state``, ``reset_after``, ``merge_mode``, ...). Wrapped layers
        (``config["layer"]`` and ``config["backward_layer"]``) are normalized too.

    Raises
    ------
    UnsupportedLayerError
        If the layer class has no rule here.
    ValueError
        If a required option such as ``units`` is missing, or the config has a key that
        Keras 3 rejects for this class ("Unrecognized keyword arguments"). The message names
        each such key and, for a Keras 1 or 2 spelling, what replaced it. Keys that Keras 3
        accepts with a deprecation warning (``input_shape``, ``input_dim``, and Embedding's
        ``input_length``) are kept; ``input_length`` never changes a shape.

    Examples
    --------
    >>> spec = layer_spec({"class_name": "GRU", "config": {"units": 8}})
    >>> spec["config"]["reset_after"], spec["config"]["return_state"]
    (True, False)
    >>> inner = layer_spec({"class_name": "Bidirectional",
    ...                     "config": {"layer": {"class_name": "LSTM", "config": {"units": 4}}}})
    >>> inner["config"]["merge_mode"], inner["config"]["layer"]["config"]["use_bias"]
    ('concat', True)
    >>> layer_spec({"class_name": "LSTM",
    ...             "config": {"units": 64, "inner_activation": "hard_sigmoid"}})
    ...             # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: LSTM has no argument 'inner_activation': ... calls it 'recurrent_activation'.

    An ``RNN`` around one ``SimpleRNNCell``, ``LSTMCell`` or ``GRUCell`` is read as the
    layer it equals (see :func:`as_recurrent_layer`):

    >>> looped = layer_spec({"class_name": "RNN", "config": {
    ...     "cell": {"class_name": "LSTMCell", "config": {"units": 3}},
    ...     "return_sequences": True}})
    >>> looped["class_name"], looped["config"]["units"], looped["config"]["return_sequences"]
    ('LSTM', 3, True)

    Taught in ``book/02-dense.md``; the Keras 1 and 2 names in
    ``book/09-keras2-to-keras3.md``; ``RNN(LSTMCell)`` in ``book/04-lstm.md``.
    """
    class_name, config = _class_and_config(layer)
    if class_name == "RNN":
        return layer_spec(_cell_layer(config))
    if class_name in _GONE_LAYERS:
        successor = _GONE_LAYERS[class_name]
        raise UnsupportedLayerError(
            f"Keras 3 has no {class_name}: keras.layers.{successor} runs on cuDNN by itself "
            f"where it can (use_cudnn='auto'), so write {successor}."
        )
    if class_name not in _RULES:
        supported = sorted({*_RULES, "RNN"})
        _refuse_recased("layer", class_name, supported)
        raise UnsupportedLayerError(
            f"{class_name} is not covered by lstm_lib.shapes; supported layers: "
            f"{', '.join(supported)}."
        )
    _refuse_config(class_name, config)
    _refuse_uncounted(class_name, config)
    config = {**_DEFAULTS.get(class_name, {}), **config}
    if class_name in _WRAPPERS:
        for key in ("layer", "backward_layer"):
            if config.get(key) is not None:
                config[key] = layer_spec(config[key])
    if class_name == "Bidirectional" and config.get("backward_layer") is not None:
        _check_backward_layer(config["layer"], config["backward_layer"])
    elif class_name == "Bidirectional" and config["layer"]["config"].get("go_backwards"):
        # Keras makes the backward copy with go_backwards=True, not flipped: two alike
        raise ValueError(
            "Bidirectional makes its backward copy of the layer with go_backwards=True, so "
            "the layer it wraps must read forward: leave go_backwards out (Keras refuses two "
            "layers that read the same way)."
        )
    return {"class_name": class_name, "config": config}


# The most refused keys of one config told one by one: more than a verdict's message can
# show. Each costs a search for its nearest accepted name, and a learner chooses how many
# keys an answer holds (about 60,000 fit in one answer, seconds of the grader's time).
_MAX_NAMED_KEYS = 50


def _refuse_config(class_name: str, config: Mapping[str, Any]) -> None:
    """Raise ValueError naming the options Keras 3 would refuse in this config: every
    value it refuses, and the refused keys one by one up to :data:`_MAX_NAMED_KEYS`, then
    their count."""
    # Python reports a missing required argument before Keras reads any keyword, so the
    # missing options come first; then the keys Keras would refuse, not just the first.
    defaults = _DEFAULTS.get(class_name, {})
    missing = [
        repr(key)
        for key in _REQUIRED.get(class_name, ())
        if config.get(key, defaults.get(key)) is None
    ]
    problems = [f"{class_name} config needs {', '.join(missing)}."] if missing else []
    if class_name not in _IGNORES_UNKNOWN_KEYS:
        accepted = _accepted_arguments(class_name)
        named = unnamed = flags_not_bool = 0
        for key, value in config.items():
            if key in accepted:
                problems.append(_option_value_problem(class_name, key, value))
                flags_not_bool += _flag_not_bool(key, value)
            elif named < _MAX_NAMED_KEYS:
                problems.append(_unknown_argument(class_name, key, value, accepted))
                named += 1
            else:
                unnamed += 1
        problems.append(_forget_bias_problem(class_name, config))
        problems.append(_embedding_weights_problem(class_name, config))
        problems.append(_legacy_input_problem(class_name, config))
        problems = [problem for problem in problems if problem is not None]
        if unnamed:
            problems.append(f"{class_name} has {unnamed:,} more arguments Keras 3 rejects.")
        # such a flag's problem is never None: all problems are flags exactly then
        if problems and len(problems) == flags_not_bool and not missing:
            raise FlagNotBoolError(" ".join(problems))
    elif class_name == "InputLayer":
        problems.append(_input_layer_problem(config))
        problems = [problem for problem in problems if problem is not None]
    if problems:
        raise ValueError(" ".join(problems))
    # InputLayer hands no keyword it does not take on, so Keras ignores its trainable
    if class_name != "InputLayer" and not isinstance(config.get("trainable", True), bool):
        raise ValueError(
            f"{class_name} needs trainable to be True or False; got {config['trainable']!r}."
        )
    if (
        class_name in (*_RECURRENT_GATES, *_CELL_LAYERS)
        and _unquantized(_dtype_name(config.get("dtype"))) == "bfloat16"
        # left out, the kernel starts orthogonal; written None, Keras draws it glorot_uniform
        and _initializer_name(config.get("recurrent_initializer", "orthogonal"))
        in _ORTHOGONAL_NAMES
    ):
        raise ValueError(
            f"{class_name} with dtype='bfloat16' does not build: its recurrent kernel starts "
            "orthogonal, and TensorFlow has no bfloat16 QR decomposition to make it. Write "
            "'mixed_bfloat16' (float32 weights, bfloat16 arithmetic) or leave dtype out."
        )


def _forget_bias_problem(class_name: str, config: Mapping[str, Any]) -> str | None:
    """Why an LSTM with bias_initializer=None does not build, or None.

    With unit_forget_bias (the default) an LSTM builds its bias by calling its bias
    initializer and adding 1s for the forget gate; None is not callable, so Keras 3 fails
    with a TypeError. Without a bias, or without unit_forget_bias, Keras uses its default.
    """
    if (
        class_name in ("LSTM", "LSTMCell")
        and "bias_initializer" in config
        and config["bias_initializer"] is None
        and config.get("unit_forget_bias", True)
        and config.get("use_bias", True)
    ):
        return (
            f"{class_name}'s bias_initializer None leaves unit_forget_bias=True nothing to add "
            "the forget gate's 1s to: write an initializer such as 'zeros', or leave "
            "bias_initializer out."
        )
    return None


def _legacy_input_problem(class_name: str, config: Mapping[str, Any]) -> str | None:
    """Why Keras 3 refuses a layer given both ``input_dim`` and ``input_shape``, or None.

    keras.layers.Layer takes input_dim out of its keyword arguments first and, when it is
    set, leaves input_shape in them, which it then refuses as unrecognized (whatever its
    value, None too). Embedding's own input_dim is its vocabulary size, not this one.

    Examples
    --------
    >>> _legacy_input_problem("Dense", {"units": 2, "input_dim": 3}) is None
    True
    >>> _legacy_input_problem("Dense", {"units": 2, "input_dim": 3, "input_shape": None})[:38]
    'Dense takes input_dim or input_shape, '
    """
    if class_name == "Embedding" or config.get("input_dim") is None or "input_shape" not in config:
        return None
    return (
        f"{class_name} takes input_dim or input_shape, not both: Keras 3 reads input_dim and "
        "refuses input_shape as an unrecognized keyword argument. Leave both out, as the "
        "question gives the Input."
    )


def _embedding_weights_problem(class_name: str, config: Mapping[str, Any]) -> str | None:
    """Why an Embedding does not build with these starting ``weights``, or None.

    Keras 3 builds the layer and sets its one weight to the value given, alone or as the
    only item of a list, which it reads as an array: anything but a NumPy array of shape
    (input_dim, output_dim) fails (a list of lists has no shape). An array can only come
    from the learner's kernel, so NumPy is looked up, never imported.

    Examples
    --------
    >>> print(_embedding_weights_problem("Embedding", {"input_dim": 3, "output_dim": 2,
    ...                                                "weights": [[0.0, 0.0]] * 3}))
    ... # doctest: +NORMALIZE_WHITESPACE
    Embedding's weights [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]] is not one Keras 3 builds: it
    takes a NumPy array of shape (input_dim, output_dim) = (3, 2). Leave weights out to
    start from embeddings_initializer.
    """
    if class_name != "Embedding" or config.get("weights") is None:
        return None
    value = config["weights"]
    if type(value) is list and len(value) == 1:
        value = value[0]
    numpy = sys.modules.get("numpy")
    wanted = (config.get("input_dim"), config.get("output_dim"))
    if numpy is not None and isinstance(value, numpy.ndarray) and value.shape == wanted:
        return None
    return (
        f"Embedding's weights {_shown(config['weights'])} is not one Keras 3 builds: it takes "
        f"a NumPy array of shape (input_dim, output_dim) = {wanted!r}. Leave weights out to "
        "start from embeddings_initializer."
    )


def _refuse_uncounted(class_name: str, config: Mapping[str, Any]) -> None:
    """Raise UnsupportedLayerError for an option that adds weights these rules do not
    count (Keras 3 switches LoRA on for any lora_rank other than 0 or None)."""
    for key in _UNCOUNTED_OPTIONS:
        if config.get(key):
            raise UnsupportedLayerError(
                f"{class_name} with {key}={_shown(config[key])} is not covered by "
                "lstm_lib.shapes: "
                + (
                    "LoRA freezes the kernel and adds two low-rank weights beside it"
                    if key == "lora_rank"
                    else "quantizing adds scale weights beside the kernel"
                )
                + ", which these rules do not count. Leave it out: the course's layers are "
                "built without it.",
                option=key,
            )


def _dtype_name(value: Any) -> Any:
    """The policy name of a dtype option: the string itself, or the name inside the
    serialized DTypePolicy that keras.layers.serialize writes (None where it names none,
    Keras's default). A dict Keras cannot read as a float policy comes back as it is, for
    :func:`_dtype_problem` to refuse.

    Examples
    --------
    >>> _dtype_name({"module": "keras", "class_name": "DTypePolicy",
    ...              "config": {"name": "float16"}, "registered_name": None})
    'float16'
    >>> _dtype_name({"class_name": "Zeros", "config": {}})
    {'class_name': 'Zeros', 'config': {}}
    """
    if not isinstance(value, Mapping):
        return value
    class_name, config = value.get("class_name"), value.get("config")
    readable = (
        isinstance(class_name, str)
        and class_name in _FLOAT_POLICY_CLASSES
        and ("module" not in value or value["module"] is not None)
        and (config is None or (isinstance(config, Mapping) and set(config) <= {"name"}))
    )
    return (config or {}).get("name") if readable else value


def _unquantized(name: Any) -> Any:
    """The float policy inside a quantized policy name, or the name itself."""
    if isinstance(name, str):
        mode, separator, source = name.partition("_from_")
        if separator and mode in _QUANTIZATION_MODES:
            return source
    return name


def _initializer_name(value: Any) -> Any:
    return value.get("class_name") if isinstance(value, Mapping) else value


def as_recurrent_layer(layer: Any) -> tuple[Any, tuple[str, ...]]:
    """Write each ``RNN`` around one cell as the layer it equals.

    ``keras.layers.RNN(keras.layers.LSTMCell(8))`` and ``keras.layers.LSTM(8)`` have the
    same weights and return the same tensors; likewise ``SimpleRNNCell`` and ``GRUCell``.
    The options of the cell and of the RNN become the options of one layer.

    Parameters
    ----------
    layer : dict
        A layer dict (see :func:`layer_spec`); a wrapper's ``layer`` and ``backward_layer``
        are rewritten too.

    Returns
    -------
    layer : dict
        The layer, with every such RNN replaced; the same object when none is, or when an
        RNN would not build (an option its class refuses, a list of cells):
        :func:`layer_spec` then says why.
    cells : tuple of str
        The class names of the cells replaced, e.g. ``("LSTMCell",)``.

    Examples
    --------
    >>> looped = {"class_name": "RNN", "config": {
    ...     "cell": {"class_name": "GRUCell", "config": {"units": 4}}, "return_state": True}}
    >>> as_recurrent_layer(looped)
    ({'class_name': 'GRU', 'config': {'units': 4, 'return_state': True}}, ('GRUCell',))
    >>> lstm = {"class_name": "LSTM", "config": {"units": 4}}
    >>> as_recurrent_layer(lstm)[0] is lstm
    True

    Taught in ``book/04-lstm.md``.
    """
    if not isinstance(layer, Mapping) or not isinstance(layer.get("config"), Mapping):
        return layer, ()
    class_name, config = layer.get("class_name"), layer["config"]
    if not isinstance(class_name, str):
        # the form check names it; an array compared with "RNN" has no truth of its own
        return layer, ()
    if class_name == "RNN":
        try:
            _class_and_config(layer)
            plain = _cell_layer(dict(config))
        except (ValueError, TypeError):
            return layer, ()
        return plain, (_class_and_config(config["cell"])[0],)
    if class_name not in _WRAPPERS:
        return layer, ()
    rewritten, cells = dict(config), ()
    for key in ("layer", "backward_layer"):
        if key in config:
            rewritten[key], found = as_recurrent_layer(config[key])
            cells += found
    return ({**layer, "config": rewritten} if cells else layer), cells


def _cell_layer(config: dict[str, Any]) -> dict[str, Any]:
    """The layer an RNN around one cell equals, from the RNN's config."""
    _refuse_config("RNN", config)
    cell = config["cell"]
    if isinstance(cell, Sequence) and not isinstance(cell, str):
        raise UnsupportedLayerError(
            "An RNN around a list of cells stacks them (StackedRNNCells), which "
            "lstm_lib.shapes does not cover: stack one recurrent layer per cell instead, each "
            "but the last with return_sequences=True."
        )
    cell_name, cell_config = _class_and_config(cell)
    if cell_name in _RECURRENT_GATES:
        raise ValueError(
            f"RNN runs a cell over the timesteps, and {cell_name} is a whole layer: write "
            f"{cell_name}Cell as the cell, or the {cell_name} layer without the RNN."
        )
    if cell_name not in _CELL_LAYERS:
        _refuse_recased("cell", cell_name, _CELL_LAYERS)
        raise UnsupportedLayerError(
            f"An RNN around a {cell_name} is not covered by lstm_lib.shapes; supported "
            f"cells: {', '.join(_CELL_LAYERS)}."
        )
    _refuse_config(cell_name, cell_config)
    merged = {**cell_config, **{key: value for key, value in config.items() if key != "cell"}}
    if cell_config.get("trainable") is False:
        merged["trainable"] = False  # a frozen cell's weights are frozen in the RNN too
    return {"class_name": _CELL_LAYERS[cell_name], "config": merged}


def _refuse_recased(kind: str, class_name: str, known: Iterable[str]) -> None:
    """Raise UnsupportedLayerError if ``class_name`` is a known class in another case, or
    written with its module path (``keras.layers.LSTM``)."""
    known = list(known)
    qualified = class_name.rpartition(".")[2]
    if qualified != class_name and qualified in known:
        raise UnsupportedLayerError(
            f"Keras has no {kind} class {class_name!r}: a spec names the class alone, "
            f"{qualified!r}.",
            recased=qualified,
        )
    recased = next((name for name in known if name.lower() == class_name.lower()), None)
    if recased:
        raise UnsupportedLayerError(
            f"Keras has no {kind} class {class_name!r}: class names are case-sensitive, did "
            f"you mean {recased!r}?",
            recased=recased,
        )
    if class_name.strip() in known:
        raise UnsupportedLayerError(
            f"Keras has no {kind} class {class_name!r}: a class name has no spaces around "
            f"it; write {class_name.strip()!r}.",
            recased=class_name.strip(),
        )
    foreign = [(at, char) for at, char in enumerate(class_name) if not char.isascii()]
    lookalike = next(  # the known name it spells with its foreign letters as wildcards
        (
            name
            for name in known
            if len(name) == len(class_name)
            and all(a == b or not b.isascii() for a, b in zip(name, class_name, strict=True))
        ),
        None,
    )
    if foreign and lookalike:
        at, char = foreign[0]
        raise UnsupportedLayerError(
            f"Keras has no {kind} class {class_name!r}: its letter {char!r} (at position "
            f"{at + 1}) is {unicodedata.name(char, 'a character outside ASCII')}, which only "
            f"looks like the letter {lookalike[at]!r}; did you mean {lookalike!r}?",
            recased=lookalike,
        )


def _check_backward_layer(forward: Mapping[str, Any], backward: Mapping[str, Any]) -> None:
    """Refuse a Bidirectional's own backward layer where Keras 3 refuses it."""
    ahead, behind = forward["config"], backward["config"]
    if bool(ahead.get("go_backwards")) == bool(behind.get("go_backwards")):
        raise ValueError(
            "Bidirectional needs its backward_layer to read the sequence the other way: set "
            "go_backwards=True on it (Keras refuses two layers with the same go_backwards), "
            "or leave backward_layer out and Keras makes it from the layer."
        )
    flags = ("return_sequences", "return_state", "stateful")
    if any(bool(ahead.get(flag)) != bool(behind.get(flag)) for flag in flags):
        raise ValueError(
            "Bidirectional needs the same return_sequences, return_state and stateful on its "
            "forward and backward layers."
        )


def output_shapes(
    layer: Any,
    input_shape: ShapeLike | Sequence[ShapeLike] | None = None,
) -> list[Shape]:
    """The shape of every tensor a layer returns, in Keras's order.

    Parameters
    ----------
    layer : keras layer or dict
        See :func:`layer_spec`.
    input_shape : tuple, optional
        The input shape with the batch axis, e.g. ``(batch, timesteps, features)``;
        ``None`` is allowed for ``batch`` and ``timesteps``. A list of shapes for
        ``Concatenate`` and ``Add``. May be left out for an ``InputLayer``, a built layer
        instance or a serialized dict that records its ``build_config``.

    Returns
    -------
    list of tuple
        ``[output]``, or with ``return_state=True``: ``[output, h, c]`` for LSTM and
        ``[output, h]`` for GRU and SimpleRNN. ``Bidirectional`` returns its output (two
        outputs with ``merge_mode=None``), then the forward states, then the backward ones.

    Raises
    ------
    ValueError
        If the input has the wrong rank for the layer, with a hint on how to fix it.

    Examples
    --------
    >>> lstm = {"class_name": "LSTM", "config": {"units": 32}}
    >>> output_shapes(lstm, (None, 10, 64))
    [(None, 32)]
    >>> output_shapes({"class_name": "LSTM",
    ...                "config": {"units": 32, "return_sequences": True, "return_state": True}},
    ...               (None, 10, 64))
    [(None, 10, 32), (None, 32), (None, 32)]
    >>> output_shapes({"class_name": "Bidirectional", "config": {"layer": lstm}}, (None, 10, 64))
    [(None, 64)]
    >>> output_shapes(lstm, (None, 64))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: LSTM expects input of shape (batch, timesteps, features); got rank 2 (None, 64). ...

    Taught in ``book/05-return-flags.md``.
    """
    return _evaluate_layer(layer, input_shape).outputs


def count_params(
    layer: Any,
    input_shape: ShapeLike | Sequence[ShapeLike] | None = None,
    *,
    trainable: bool | None = None,
) -> int:
    """The number of weights a layer creates for a given input shape.

    Parameters
    ----------
    layer : keras layer or dict
        See :func:`layer_spec`.
    input_shape : tuple, optional
        The input shape with the batch axis, e.g. ``(batch, timesteps, features)``; see
        :func:`output_shapes`. Only ``features`` matters for the recurrent layers.
    trainable : bool, optional
        ``None`` (the default) counts every weight. ``True`` counts only the weights
        training updates and ``False`` only the frozen ones, as ``model.summary()`` splits
        its total: a layer with ``trainable=False`` (or inside a wrapper with it) is frozen.

    Returns
    -------
    int
        The same number as ``layer.count_params()`` once Keras has built the layer, or with
        ``trainable`` set, the size of ``layer.trainable_weights`` or
        ``layer.non_trainable_weights``.

    Examples
    --------
    >>> count_params({"class_name": "LSTM", "config": {"units": 2}}, (None, 5, 1))
    32
    >>> count_params({"class_name": "LSTM", "config": {"units": 10}}, (None, 1000, 5))
    640
    >>> frozen = {"class_name": "Embedding",
    ...           "config": {"input_dim": 1000, "output_dim": 8, "trainable": False}}
    >>> count_params(frozen, (None, 20))
    8000
    >>> count_params(frozen, (None, 20), trainable=True), count_params(frozen, (None, 20),
    ...                                                               trainable=False)
    (0, 8000)

    Taught in ``book/04-lstm.md``; frozen weights in ``book/06-embedding.md``.
    """
    result = _evaluate_layer(layer, input_shape)
    if trainable is None:
        return result.params
    return result.params - result.non_trainable if trainable else result.non_trainable


def param_terms(layer: Any, input_shape: ShapeLike | None = None) -> dict[str, int]:
    """A layer's parameter count split by weight block, as Keras stores the weights.

    Parameters
    ----------
    layer : keras layer or dict
        A ``Dense``, ``SimpleRNN``, ``LSTM`` or ``GRU``; see :func:`layer_spec`.
    input_shape : tuple, optional
        The input shape with the batch axis, e.g. ``(batch, timesteps, features)``.

    Returns
    -------
    dict of str to int
        ``kernel`` (W, features × units per gate), ``recurrent_kernel`` (U, units × units
        per gate; recurrent layers only) and ``bias`` (b; two vectors per gate for a GRU
        with ``reset_after=True``). They add up to :func:`count_params`.

    Raises
    ------
    ValueError
        For a layer without these blocks (Embedding, wrappers, ...).

    Examples
    --------
    >>> param_terms({"class_name": "GRU", "config": {"units": 4}}, (None, 10, 3))
    {'kernel': 36, 'recurrent_kernel': 48, 'bias': 24}
    >>> param_terms({"class_name": "Dense", "config": {"units": 2}}, (None, 3))
    {'kernel': 6, 'bias': 2}

    Taught in ``book/04-lstm.md`` and ``book/07-gru-bidirectional.md``.
    """
    result = _evaluate_layer(layer, input_shape)
    if result.terms is None:
        name = layer_spec(layer)["class_name"]
        raise ValueError(f"{name} has no kernel, recurrent kernel and bias blocks")
    return dict(result.terms)


def param_formula(layer: Any, input_shape: ShapeLike | Sequence[ShapeLike] | None = None) -> str:
    """The parameter count written out as arithmetic with the layer's numbers.

    The general forms, with ``features`` the last input axis:

    * Dense: ``features × units + units``
    * SimpleRNN: ``units × (units + features) + units``
    * LSTM: ``4 × (units × (units + features) + units)``
    * GRU: ``3 × (units × (units + features) + 2 × units)`` (``reset_after=True``, the
      Keras 3 default, keeps two biases; ``reset_after=False`` has ``+ units``)
    * Embedding: ``input_dim × output_dim``
    * Bidirectional: ``2 × (...)`` of the wrapped layer; TimeDistributed: its wrapped layer

    Without bias (``use_bias=False``) the bias term is dropped. Layers without weights
    give ``0 = 0``.

    Parameters
    ----------
    layer : keras layer or dict
        See :func:`layer_spec`.
    input_shape : tuple, optional
        The input shape with the batch axis; see :func:`output_shapes`.

    Returns
    -------
    str
        ``"<arithmetic> = <count>"``, using the × sign.

    Examples
    --------
    >>> param_formula({"class_name": "LSTM", "config": {"units": 2}}, (None, 5, 1))
    '4 × (2 × (2 + 1) + 2) = 32'
    >>> param_formula({"class_name": "GRU", "config": {"units": 2}}, (None, 5, 1))
    '3 × (2 × (2 + 1) + 2 × 2) = 30'
    >>> param_formula({"class_name": "Dense", "config": {"units": 1, "use_bias": False}},
    ...               (None, 4))
    '4 × 1 = 4'

    Taught in ``book/04-lstm.md``.
    """
    result = _evaluate_layer(layer, input_shape)
    return f"{result.arithmetic} = {result.params}"


def stack_shapes(layers: Any, input_shape: ShapeLike | None = None) -> list[LayerRow]:
    """Run a sequential stack of layers through the shape rules, one row per layer.

    Each layer receives the output of the layer before it, as in ``keras.Sequential``,
    which refuses a layer that returns more than one tensor (``return_state=True``,
    ``merge_mode=None``) anywhere but last. An ``InputLayer`` sets the input shape but, as in
    ``model.summary()``, gets no row; as in Keras, it may only come first. As in
    ``keras.Sequential``, a first layer's ``input_shape`` (or ``input_dim``) option also sets
    it; Embedding's ``input_length`` does not.

    Parameters
    ----------
    layers : list of keras layers or dicts, or a Sequential config
        The stack, e.g. a learner's model specification loaded from JSON. The dict
        ``json.loads(model.to_json())`` or ``model.get_config()`` of a Sequential model is
        accepted too.
    input_shape : tuple, optional
        The input shape with the batch axis, e.g. ``(batch, timesteps, features)``.
        Optional when the stack starts with an ``InputLayer``, a serialized layer that
        records its ``build_config``, or a layer with ``input_shape`` in its config.

    Returns
    -------
    list of LayerRow
        Name, class, input shape, output shapes, parameter count, formula and frozen
        (non-trainable) count per layer.

    Raises
    ------
    ValueError
        If a layer's config is not valid Keras 3 (see :func:`layer_spec`), a layer cannot
        take the shape it receives, or a layer before the last returns several tensors;
        the message says which layer.

    Examples
    --------
    >>> spec = [
    ...     {"class_name": "LSTM", "config": {"units": 16, "return_sequences": True}},
    ...     {"class_name": "LSTM", "config": {"units": 8}},
    ...     {"class_name": "Dense", "config": {"units": 1}},
    ... ]
    >>> for row in stack_shapes(spec, (None, 10, 3)):
    ...     print(row.name, row.output_shapes, row.formula)
    lstm [(None, 10, 16)] 4 × (16 × (16 + 3) + 16) = 1280
    lstm_1 [(None, 8)] 4 × (8 × (8 + 16) + 8) = 800
    dense [(None, 1)] 8 × 1 + 1 = 9
    >>> spec[0]["config"]["return_sequences"] = False
    >>> stack_shapes(spec, (None, 10, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Layer 2 ('lstm_1', LSTM): LSTM expects input of shape (batch, timesteps, ...

    Taught in ``book/05-return-flags.md``.
    """
    stack = _layer_list(layers)
    if input_shape is None and stack:
        input_shape = _stored_input_shape(stack[0])
    shape = None if input_shape is None else _as_input(input_shape)
    rows: list[LayerRow] = []
    seen: Counter[str] = Counter()
    previous: dict[str, Any] | None = None
    handed_on = 1
    named_at: dict[Any, int] = {}
    for position, layer in enumerate(stack, start=1):
        class_name, config = _class_and_config(layer)
        name = config.get("name") or _auto_name(class_name, seen)
        if isinstance(config.get("name"), str) and class_name != "InputLayer":
            # Only names written out can clash: Keras numbers the ones it makes
            if config["name"] in named_at:
                raise ValueError(
                    f"Layer {position} ({config['name']!r}, {class_name}) has the name of "
                    f"layer {named_at[config['name']]}, and Keras refuses a Sequential model whose "
                    "layers share a name: give each its own, or leave name out."
                )
            named_at[config["name"]] = position
        if class_name == "InputLayer" and position > 1:
            raise ValueError(
                f"Layer {position} ({name!r}, InputLayer): an InputLayer can only come first. "
                'Keras 3 refuses one anywhere else ("You cannot add a different Input layer"): '
                "the model's input is set once, and each layer then receives the output of "
                "the layer before it. Remove it."
            )
        if handed_on > 1:
            raise ValueError(
                f"Layer {position} ({name!r}, {class_name}) receives the {handed_on} tensors "
                f"layer {position - 1} returns ({_why_several(previous)}) and takes one: in a "
                "stack, only the last layer may return more than one tensor."
            )
        spec = None
        try:
            spec = layer_spec(layer)
            result = _evaluate(spec, shape)
        except ValueError as err:
            hint = "" if spec is None else _stack_hint(previous, class_name, shape)
            found = getattr(err, "found", None)
            # the layer below dropped the time axis: its flag is the fix, and a reshape
            # between two layers of a stack is not what the learner should reach for
            said = found if hint and isinstance(found, str) and found else str(err)
            message = f"Layer {position} ({name!r}, {class_name}): {said}{hint}"
            located = type(err)(message)
            located.__dict__.update(err.__dict__)  # what the error carries, as recased
            raise located from err
        if class_name != "InputLayer":
            formula = f"{result.arithmetic} = {result.params}"
            rows.append(
                LayerRow(
                    name,
                    class_name,
                    shape,
                    result.outputs,
                    result.params,
                    formula,
                    result.non_trainable,
                )
            )
        shape, previous, handed_on = result.outputs[0], spec, len(result.outputs)
    return rows


def _why_several(spec: Mapping[str, Any] | None) -> str:
    """Which option makes a layer return more than one tensor."""
    config = (spec or {}).get("config") or {}
    inner = config.get("layer") if isinstance(config.get("layer"), Mapping) else None
    if state := (inner or spec or {}).get("config", {}).get("return_state"):
        return f"its output, then its states: {flag_setting('return_state', state)}"
    if config.get("merge_mode", "concat") is None:
        return "the forward and backward outputs: merge_mode=None"
    return "one per output"


# --- reading layers -------------------------------------------------------------------


# The keys beside "config" in what keras.layers.serialize and a model's get_config give.
_SERIALIZED_KEYS = frozenset(
    {"class_name", "config", "module", "registered_name", "build_config", "name", "inbound_nodes"}
)


def _class_and_config(layer: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(layer, Mapping):
        if "class_name" not in layer:
            raise ValueError(
                f"a layer dict needs 'class_name' and 'config'; got keys {sorted(layer)}."
            )
        beside = sorted(str(key) for key in layer if key not in _SERIALIZED_KEYS)
        if beside:
            # Keras reads a layer's options from its config only: what sits beside it is lost
            listed = ", ".join(map(repr, beside[:5])) + (", ..." if len(beside) > 5 else "")
            raise ValueError(
                f"{listed} {'sits' if len(beside) == 1 else 'sit'} beside 'config', where "
                "Keras reads no option: put the layer's options inside 'config', as "
                '{"class_name": ..., "config": {...}}.'
            )
        return str(layer["class_name"]), dict(layer.get("config") or {})
    if callable(getattr(layer, "get_config", None)):
        return type(layer).__name__, dict(layer.get_config())
    raise TypeError(f"expected a Keras layer or a layer dict; got {type(layer).__name__}.")


def _stored_input_shape(layer: Any) -> Any:
    """The input shape a serialized or built layer remembers, if any."""
    if isinstance(layer, Mapping):
        build = layer.get("build_config")
    elif callable(getattr(layer, "get_build_config", None)):
        build = layer.get_build_config()
    else:
        build = None
    stored = (build or {}).get("input_shape")
    if stored is not None or not isinstance(layer, Mapping):
        return stored
    # The Keras 2 way, which Keras 3 still honours with a warning: keras.Sequential gives
    # its first layer an Input of shape input_shape, or (input_dim,).
    class_name, config = _class_and_config(layer)
    if class_name == "InputLayer":
        return None
    if config.get("input_shape") is not None:
        return (None, *_per_sample(class_name, config["input_shape"]))
    if class_name != "Embedding" and config.get("input_dim") is not None:
        return (None, config["input_dim"])
    return None


def _accepted_arguments(class_name: str) -> frozenset[str]:
    return (
        _ARGUMENTS[class_name]
        | frozenset(_ANY_LAYER_LEGACY)
        | frozenset(_DROPPED_ARGUMENTS.get(class_name, ()))
        | frozenset(_UNSAVED_ARGUMENTS.get(class_name, ()))
    )


def _unknown_argument(class_name: str, key: Any, value: Any, accepted: frozenset[str]) -> str:
    """Why Keras 3 refuses a config key, and what to write instead."""
    start = f"{class_name} has no argument {key!r}"
    renamed = {
        **_KERAS1_NAMES,
        **(_KERAS1_EMBEDDING_NAMES if class_name == "Embedding" else {}),
        **(_KERAS1_DROPOUT_NAMES if class_name == "Dropout" else {}),
    }
    if key in renamed:
        new = renamed[key]
        if new in accepted:
            return (
                f"{start}: Keras 1 called it that (Keras 2 still translated it); "
                f"Keras 3 calls it {new!r}."
            )
        return f"{start}: it is the Keras 1 name of {new!r}, which {class_name} does not take."
    if key == "batch_input_shape":
        shape = _shape_text(value)
        return (
            f"{start}: Keras 2 read the batch shape from the first layer, Keras 3 from the "
            f"input. Start the model with keras.Input(batch_shape={shape}); in a list of layer "
            f'specs, {{"class_name": "InputLayer", "config": {{"batch_shape": {shape}}}}}.'
        )
    if key == "input_length":
        return (
            f"{start}: Keras 1 read the sequence length from the layer, Keras 3 from the "
            "input. Start the model with keras.Input(shape=(timesteps, features))."
        )
    if key == "consume_less":
        return (
            f"{start}: Keras 1 used it to choose how each step is computed; Keras 3 has "
            "no such option: remove it."
        )
    if class_name in _CELL_LAYERS and key in _RNN_OPTIONS:
        return f"{start}: it is an option of the RNN around the cell; write it in the RNN's config."
    if class_name == "RNN" and any(key in _ARGUMENTS[cell] for cell in _CELL_LAYERS):
        return f"{start}: it is an option of the cell; write it in the cell's config."
    close = difflib.get_close_matches(str(key), sorted(accepted), n=1, cutoff=0.75)
    if close:
        return f"{start}; did you mean {close[0]!r}?"
    return f"{start}: Keras 3 rejects it as an unrecognized keyword argument."


def _named_kind(key: str) -> tuple[str, frozenset[str]] | None:
    """What an option names (an activation, an initializer, ...) and the names Keras knows."""
    if key in ("activation", "recurrent_activation"):
        return "activation", _ACTIVATION_NAMES
    for suffix, kind, names in (
        ("_initializer", "initializer", _INITIALIZER_NAMES),
        ("_regularizer", "regularizer", _REGULARIZER_NAMES),
        ("_constraint", "constraint", _CONSTRAINT_NAMES),
    ):
        if key.endswith(suffix):
            return kind, names
    return None


# The on/off options of the layers covered here. Keras tests them for truth, so a string
# such as "False" switches the option on.
_FLAGS = frozenset(
    {
        "use_bias",
        "return_sequences",
        "return_state",
        "go_backwards",
        "stateful",
        "unroll",
        "reset_after",
        "unit_forget_bias",
        "mask_zero",
    }
)


def _flag_not_bool(key: Any, value: Any) -> bool:
    """Whether ``value`` is given for a True/False option as neither a bool nor 0 or 1 (nor
    None, Keras's "not set", which it reads as False): a string (a quoted flag), or a number
    or container that Keras reads by its truth, as ``return_state=[1]`` or ``2`` is on.

    Examples
    --------
    >>> [_flag_not_bool("return_state", value) for value in (True, 0, None, "True", 2, [1])]
    [False, False, False, True, True, True]
    """
    if key not in _FLAGS or value is None or type(value) is bool:
        return False
    return not (type(value) is int and value in (0, 1))


def flag_setting(key: str, value: Any) -> str:
    """A flag as the learner wrote it, for a message to quote: ``None``, ``0`` or ``1`` is
    said as written, with the bool Keras reads it as, so a learner sees their own words.

    Examples
    --------
    >>> flag_setting("stateful", True), flag_setting("stateful", 1)
    ('stateful=True', 'stateful=1 (which Keras reads as True)')
    >>> flag_setting("use_bias", None)
    'use_bias=None (which Keras reads as False)'
    """
    if type(value) is bool or key not in _FLAGS:
        return f"{key}={value!r}"
    return f"{key}={_shown(value)} (which Keras reads as {bool(value)})"


def _option_value_problem(class_name: str, key: Any, value: Any) -> str | None:
    """Why Keras 3 refuses this value of an option it accepts, or None.

    An activation, initializer, regularizer or constraint is given by a name Keras knows
    (case and all), by a serialized dict Keras reads back (see :func:`_object_problem`), or
    as None (Keras's default); Dropout's rate lies between 0 and 1, a recurrent layer's
    dropouts are numbers, and a seed is an integer. Keras refuses the rest when it builds
    the layer.

    Parameters
    ----------
    class_name : str
        The layer class, e.g. ``"LSTM"``.
    key : object
        An option the class accepts.
    value : object
        The value the config gives it.

    Returns
    -------
    str or None
        One sentence naming the option and what to write instead, or None.

    Examples
    --------
    >>> _option_value_problem("LSTM", "activation", "Tanh")
    "LSTM's activation 'Tanh' is not a name Keras 3 knows: did you mean 'tanh'?"
    >>> _option_value_problem("Dense", "kernel_initializer", "glorot_uniform") is None
    True
    >>> _option_value_problem("Dropout", "rate", 5)
    'Dropout needs rate between 0 and 1 (the fraction of inputs dropped); got 5.'
    >>> _option_value_problem("LSTM", "seed", "x")
    "LSTM's seed 'x' is not one Keras 3 takes: write an integer, or leave seed out."
    >>> print(_option_value_problem("GRU", "dropout", "0.5"))
    ... # doctest: +NORMALIZE_WHITESPACE
    GRU's dropout '0.5' is not a number: write a fraction such as 0.2 without quotes, or
    leave dropout out.
    >>> print(_option_value_problem("Dense", "use_bias", "False"))
    ... # doctest: +NORMALIZE_WHITESPACE
    Dense's use_bias 'False' is a string, and Keras reads any non-empty string as True: write
    False without quotes.
    """
    if _flag_not_bool(key, value):
        if not isinstance(value, str):
            return (
                f"{class_name}'s {key} {_shown(value)} is neither True nor False, and Keras "
                "switches the option on for any value that is not empty or zero: write True "
                "or False."
            )
        if value.strip().lower() in ("true", "false"):
            return (
                f"{class_name}'s {key} {_shown(value)} is a string, and Keras reads any "
                f"non-empty string as True: write {value.strip().capitalize()} "
                "without quotes."
            )
        return f"{class_name}'s {key} {_shown(value)} is a string: write True or False."
    if key == "name" and value is not None and (not isinstance(value, str) or "/" in value):
        return (
            f"{class_name}'s name {_shown(value)} is not one Keras 3 takes: a layer's name "
            "is a string without '/'."
        )
    if key == "dtype" and class_name in _WEIGHTED_LAYERS and value is not None:
        return _dtype_problem(class_name, _dtype_name(value))
    if key == "dtype" and class_name != "InputLayer" and value is not None:
        return _policy_problem(class_name, _dtype_name(value))
    if class_name == "Dropout" and key == "rate":
        if isinstance(value, int | float) and 0 <= value <= 1:
            return None
        return (
            f"Dropout needs rate between 0 and 1 (the fraction of inputs dropped); got {value!r}."
        )
    if class_name == "Bidirectional" and key == "weights" and not _bidirectional_takes(value):
        return (
            f"Bidirectional's weights {_shown(value)} is not one Keras 3 takes: it splits a "
            "list of arrays between the two directions. Leave weights out."
        )
    if key == "autocast" and not _has_truth(value):
        # Keras takes any autocast and tests it for truth only when the layer is called,
        # so the model builds but cannot run
        return (
            f"{class_name}'s autocast {_shown(value)} is not one Keras 3 takes: it tests "
            "autocast for truth on every call, which an array of more or fewer than one "
            "number has not. Leave autocast out."
        )
    if key == "use_cudnn" and not _is_cudnn_choice(value):
        return (
            f"{class_name}'s use_cudnn {_shown(value)} is not one Keras 3 takes: write "
            "'auto', True or False, or leave use_cudnn out."
        )
    if key == "seed":
        advice = _value_advice("seed", value, None)
        return None if advice is None else f"{class_name}'s seed {_shown(value)} {advice}."
    if key in _CLIPPED_OPTIONS and class_name != "RNN" and not _is_number(value):
        # Keras clips these into [0, 1] with min() and max(), which only numbers pass.
        return (
            f"{class_name}'s {key} {_shown(value)} is not a number: write a fraction such as "
            f"0.2 without quotes, or leave {key} out."
        )
    named = _named_kind(str(key))
    if named is None or value is None:
        return None
    kind, names = named
    start = f"{class_name}'s {key} {_shown(value)}"
    if isinstance(value, Mapping):
        if kind == "activation":
            return _activation_dict_problem(start, value)
        return _object_problem(start, str(key), kind, value)
    if isinstance(value, str) and value in names:
        return None if kind == "activation" else _object_problem(start, str(key), kind, value)
    if not isinstance(value, str):
        return f"{start} is not {_a_name_of(kind)}, such as {_example(kind)!r}."
    folded = {known.lower().replace("_", ""): known for known in names}
    close = folded.get(value.lower().replace("_", "")) or next(
        iter(difflib.get_close_matches(value, sorted(names), n=1, cutoff=0.75)), None
    )
    hint = f": did you mean {close!r}?" if close else f" (it knows {_example(kind)!r}, ...)."
    return f"{start} is not a name Keras 3 knows{hint}"


def _bidirectional_takes(value: Any) -> bool:
    """Whether Bidirectional builds with ``weights=value``: Keras 3 halves any value that is
    true (and so fails on a number, or a dict, which it cannot slice), and keeps the halves
    without using them.

    A NumPy array is tested for truth first, which only an array of one number has: one
    holding 0 is false and left alone; one holding another number is halved by its
    length, which a 0-d array has not. An array can only come from the learner's kernel,
    so NumPy is looked up, never imported.

    Examples
    --------
    >>> [_bidirectional_takes(value) for value in (None, [], [[1.0]], 0, 1, {"a": 1})]
    [True, True, True, True, False, False]
    >>> import numpy as np
    >>> [_bidirectional_takes(np.array(value)) for value in ([1.0], [[2.0]], 0.0, 1.0, [1, 2])]
    [True, True, True, False, False]
    """
    if value is None or isinstance(value, list | tuple | str):
        return True
    if isinstance(value, bool | int | float | Mapping):
        return not value
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        return _has_truth(value) and (value.ndim > 0 or not value.item())
    return False


def _has_truth(value: Any) -> bool:
    """Whether Keras can test ``value`` for truth, as it tests a flag: every plain value
    can, and a NumPy array only when it holds exactly one number (of any other size,
    NumPy refuses to say).

    Examples
    --------
    >>> import numpy as np
    >>> [_has_truth(value) for value in ("x", [1, 2], np.array([0.0]), np.zeros(2), np.zeros(0))]
    [True, True, True, False, False]
    """
    numpy = sys.modules.get("numpy")
    return not (numpy is not None and isinstance(value, numpy.ndarray) and value.size != 1)


def _is_cudnn_choice(value: Any) -> bool:
    """Whether LSTM and GRU take ``value`` for use_cudnn: Keras 3 refuses any value not
    equal to "auto", True or False (so 0, 1 and 1.0 pass, and None does not).

    Examples
    --------
    >>> [_is_cudnn_choice(value) for value in ("auto", False, 1.0, None, "x", 2, [])]
    [True, True, True, False, False, False, False]
    """
    if isinstance(value, str):
        return value == "auto"
    # compared only as a number: an array would make Keras's own `in` test raise
    return isinstance(value, int | float) and value in (True, False)


def _is_number(value: Any) -> bool:
    """Whether Keras can compare ``value`` with a float (bool counts: it is an int)."""
    return isinstance(value, int | float)


def _is_axis(value: Any, rank: int) -> bool:
    # a bool is an int to TensorFlow's reductions and to indexing, so Keras takes it too
    return isinstance(value, int) and -rank <= value < rank


def _value_advice(rule: str | frozenset[str], value: Any, rank: int | None) -> str | None:
    """How a value breaks one of the rules of :data:`_SERIALIZED_CLASSES`, as the end of a
    sentence ("is not one Keras 3 takes: write ..."), or None when Keras takes it."""
    refused = "is not one Keras 3 takes: write"
    if rule == "seed":
        if value is None or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) < _SEED_LIMIT
        ):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{refused} an integer smaller than 2**63 (Keras holds it in an int64)"
        return f"{refused} an integer, or leave seed out"
    if rule == "number":
        return None if _is_number(value) else f"{refused} a number without quotes"
    if rule == "positive":
        # VarianceScaling refuses scale <= 0 only, so NaN passes as it does in Keras
        return None if _is_number(value) and not value <= 0 else f"{refused} a number above 0"
    if rule in ("penalty", "penalty?"):
        if value is None and rule == "penalty?":
            return None  # Keras reads None as the default factor
        if _is_number(value) and math.isfinite(value) and value >= 0:
            return None
        return f"{refused} a number 0 or above, such as 0.01"
    if rule == "float penalty":
        if isinstance(value, float) and math.isfinite(value) and value >= 0:
            return None
        return f"{refused} a number with a decimal point, 0.0 or above, such as 0.01"
    if rule == "axis" and rank is not None:
        axes = value if isinstance(value, list | tuple) else [value]
        if value is None or all(_is_axis(axis, rank) for axis in axes):  # None: every axis
            return None
        return f"{refused} an axis of the {rank}-D weight (0 to {rank - 1}), or a list of them"
    if rule == "lower":
        if isinstance(value, str) and value.lower() in _DISTRIBUTIONS:
            return None
        return f"{refused} one of {', '.join(map(repr, sorted(_DISTRIBUTIONS)))}"
    if isinstance(rule, frozenset):
        if isinstance(value, str) and value in rule:
            return None
        return f"{refused} one of {', '.join(map(repr, sorted(rule)))}"
    return None  # "any", and "axes", which _object_problem checks in pairs


def _activation_dict_problem(start: str, value: Mapping[str, Any]) -> str | None:
    """Why keras.activations.get cannot read this dict, or None.

    It reads a dict through Keras's generic deserializer, which finds a built-in function
    only by the way Keras serializes one: ``{"class_name": "function", "config": "relu",
    "module": "builtins"}`` (or ``"keras.activations"``), or a dict naming the function as
    its class within ``"keras.activations"``. ``{"class_name": "relu", "config": {}}`` it
    cannot locate.
    """
    class_name, config, module = (value.get(key) for key in ("class_name", "config", "module"))
    registered = value.get("registered_name")
    if class_name == "function":
        name = config
        readable = (
            isinstance(name, str)
            and name in _ACTIVATION_DICT_NAMES
            and module in _ACTIVATION_FUNCTION_MODULES
            and (not registered or registered in ("function", name))
        )
    else:
        name = class_name
        readable = (
            isinstance(name, str)
            and name in _ACTIVATION_DICT_NAMES
            and module == _ACTIVATION_CLASS_MODULE
            and "config" in value
            and (config is None or isinstance(config, Mapping))
            and (not registered or registered == name)
        )
    if readable:
        return None
    known = name if isinstance(name, str) and name in _ACTIVATION_NAMES else "tanh"
    return (
        f"{start} is not a serialized activation Keras 3 can read: write the activation's "
        f"name as a string, such as {known!r}."
    )


def _activation_name(value: Any) -> Any:
    """The name a layer's ``get_config()`` writes for an activation given as ``value``: a
    name (an alias as the function it resolves to), None (Keras's "linear") or a
    serialized function Keras reads back; any other value as it is.

    Examples
    --------
    >>> _activation_name("swish"), _activation_name(None), _activation_name("tanh")
    ('silu', 'linear', 'tanh')
    >>> _activation_name({"class_name": "function", "config": "sigmoid",
    ...                   "module": "builtins", "registered_name": "function"})
    'sigmoid'
    >>> _activation_name({"class_name": "Tanh", "config": {}})
    {'class_name': 'Tanh', 'config': {}}
    """
    if value is None:
        return "linear"
    if isinstance(value, str):
        return _ACTIVATION_ALIASES.get(value, value)
    if isinstance(value, Mapping) and _activation_dict_problem("", value) is None:
        # keras.saving.serialize_keras_object writes a built-in activation so
        return value["config"] if value.get("class_name") == "function" else value["class_name"]
    return value


def _object_problem(start: str, key: str, kind: str, value: str | Mapping[str, Any]) -> str | None:
    """Why Keras 3 cannot build an initializer, regularizer or constraint, or None.

    ``value`` is a name Keras resolves, or a serialized dict; Keras builds the class it
    names from its config, and applies it to the weight when the layer builds (a
    regularizer when its loss is first read, a constraint after each training step).

    Parameters
    ----------
    start : str
        The start of the message, naming the layer, the option and the value.
    key : str
        The option, e.g. ``"bias_initializer"``: the weight's rank follows from it.
    kind : str
        ``"initializer"``, ``"regularizer"`` or ``"constraint"``.
    value : str or dict
        The name, or ``{"class_name": ..., "config": {...}}`` with maybe ``"module"`` and
        ``"registered_name"`` (as ``layer.get_config()`` writes it).

    Examples
    --------
    >>> print(_object_problem("LSTM's kernel_regularizer {...}", "kernel_regularizer",
    ...                       "regularizer", {"class_name": "L1", "config": {"l1": -1}}))
    ... # doctest: +NORMALIZE_WHITESPACE
    LSTM's kernel_regularizer {...}: L1's l1 -1 is not one Keras 3 takes: write a number 0
    or above, such as 0.01.
    >>> _object_problem("", "kernel_initializer", "initializer", {
    ...     "module": "keras.initializers", "class_name": "GlorotUniform",
    ...     "config": {"seed": None}, "registered_name": None}) is None
    True
    """
    classes = _SERIALIZED_CLASSES[kind]
    if isinstance(value, Mapping):
        name = value.get("class_name")
        known = sorted(
            {*classes, *(alias for alias, real in _SERIALIZED_ALIASES.items() if real in classes)}
        )
        if not isinstance(name, str) or _SERIALIZED_ALIASES.get(name, name) not in classes:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"write one such as {_example(kind)!r}."
            )
            return f"{start} names no {kind} class Keras 3 knows: {hint}"
        if "module" in value and value["module"] is None:
            return (
                f"{start} has module None, which Keras 3 reads as an unregistered custom "
                f"class: leave module out, or write 'keras.{kind}s'."
            )
        config = value.get("config")
        if config is None:
            config = {}
        elif not isinstance(config, Mapping):
            return (
                f"{start} has a config that is not a dict: write the arguments of {name} as "
                "a dict, or {}."
            )
    else:
        name, config = value, {}
    real = _SERIALIZED_ALIASES.get(name, name)
    parameters = classes[real]
    rank = None if key == "activity_regularizer" else 1 if key.startswith(_BIAS_PREFIX) else 2
    if real in _NEVER_BUILDS:
        return (
            f"{start} cannot build: {real} {_NEVER_BUILDS[real]}; write another {kind}, such "
            f"as {_example(kind)!r}."
        )
    unknown = [repr(option) for option in config if option not in parameters]
    if unknown and real not in _READS_ONLY_REQUIRED:
        takes = ", ".join(parameters) or "no arguments"
        return f"{start}: {real} has no argument {', '.join(unknown)}; it takes {takes}."
    missing = [repr(option) for option in _REQUIRED_CONFIG.get(real, ()) if option not in config]
    if missing:
        return (
            f"{start}: {real} needs {', '.join(missing)} in its config, such as {{'value': 0.0}}."
        )
    for option, rule in parameters.items():
        if option in config:
            advice = _value_advice(rule, config[option], rank)
            if advice:
                return f"{start}: {real}'s {option} {_shown(config[option])} {advice}."
    if config.get("input_axes") is not None and config.get("output_axes") is not None:
        # Keras reads the axes only as a pair, to count the fans in and out
        for option in ("input_axes", "output_axes"):
            axes = config[option]
            if not isinstance(axes, list | tuple) or not all(_is_axis(a, rank or 2) for a in axes):
                return (
                    f"{start}: {real}'s {option} {_shown(axes)} is not one Keras 3 takes: write "
                    f"a list of axes of the {rank}-D weight, such as [0], or leave both out."
                )
    if real in _MATRIX_ONLY and rank == 1:
        return (
            f"{start} needs a matrix, and the bias is a vector: write another {kind} for "
            f"it, such as {'zeros' if kind == 'initializer' else _example(kind)!r}, or leave "
            f"{key} out."
        )
    return None


def _dtype_problem(class_name: str, name: Any) -> str | None:
    """Why a layer with weights cannot hold them in this dtype, or None."""
    if name is None or (isinstance(name, str) and name in _FLOAT_DTYPES):
        return None
    start = f"{class_name}'s dtype {_shown(name)}"
    if isinstance(name, Mapping):
        return (
            f"{start} is not a dtype policy Keras 3 can read: write a name such as "
            "'float32', or leave dtype out."
        )
    if class_name not in ("Dense", "Embedding") and _unquantized(name) != name:
        return _dtype_problem(class_name, _unquantized(name))
    if isinstance(name, str) and name in _INTEGER_DTYPES:
        return (
            f"{start} makes its weights integers, which Keras's random initializers fail to "
            "fill at most sizes and gradients cannot train: write a float dtype such as "
            "'float32', or leave dtype out."
        )
    if isinstance(name, str) and "_from_" in name:
        return (
            f"{start} is a quantized policy: it adds scale weights beside the kernel, which "
            "these rules do not count. The course's layers are built without it."
        )
    return (
        f"{start} is not a dtype policy Keras 3 builds this layer's weights in: write one "
        f"of {', '.join(repr(known) for known in sorted(_FLOAT_DTYPES))}, or leave dtype out."
    )


def _policy_problem(class_name: str, name: Any) -> str | None:
    """Why Keras 3 cannot read ``name`` as the dtype policy of a layer without weights of
    its own, or None. A quantized policy is refused as on the layers with weights: the
    course's layers are built without one.

    Examples
    --------
    >>> _policy_problem("Bidirectional", "float16") is None
    True
    >>> _policy_problem("Dropout", "Float32")
    "Dropout's dtype 'Float32' is not a dtype policy Keras 3 reads: write a name such as 'float32', or leave dtype out."
    """  # noqa: E501
    if name is None or (isinstance(name, str) and name in _POLICY_NAMES):
        return None
    start = f"{class_name}'s dtype {_shown(name)}"
    if isinstance(name, str) and "_from_" in name:
        return (
            f"{start} is a quantized policy, which the course's layers are built without: "
            "write a name such as 'float32', or leave dtype out."
        )
    return (
        f"{start} is not a dtype policy Keras 3 reads: write a name such as 'float32', or "
        "leave dtype out."
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _a_name_of(kind: str) -> str:
    return f"the name of {'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _example(kind: str) -> str:
    return {
        "activation": "tanh",
        "initializer": "glorot_uniform",
        "regularizer": "l2",
        "constraint": "max_norm",
    }[kind]


def _shape_text(value: Any) -> str:
    try:
        dims = tuple(None if dim is None else operator.index(dim) for dim in value)
    except TypeError:
        return "(batch, timesteps, features)"
    return repr(dims)


def _layer_list(layers: Any) -> list[Any]:
    if isinstance(layers, Mapping):
        config = layers.get("config", layers)
        if "layers" not in config:
            raise ValueError("expected a list of layers or a Sequential config with 'layers'.")
        return list(config["layers"])
    return list(layers)


def _auto_name(class_name: str, seen: Counter[str]) -> str:
    # Keras's own naming: snake_case of the class, then _1, _2, ... for repeats.
    base = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name.rpartition(".")[2])
    base = re.sub("([a-z])([A-Z])", r"\1_\2", base).lower()
    count = seen[base]
    seen[base] += 1
    return base if count == 0 else f"{base}_{count}"


def _stack_hint(previous: dict[str, Any] | None, class_name: str, shape: Any) -> str:
    # The classic mistake: stacking recurrent layers without return_sequences=True.
    wants_sequences = class_name in _RECURRENT_GATES or class_name in _WRAPPERS
    if previous is None or not wants_sequences or not isinstance(shape, tuple) or len(shape) != 2:
        return ""
    config = previous["config"]
    below = f"The layer before it ({previous['class_name']}) has"
    fix = "give it return_sequences=True"
    if previous["class_name"] == "Bidirectional":
        inner = config["layer"]
        config = inner["config"]
        below = f"The layer before it (Bidirectional around {inner['class_name']}) has"
        fix = f"give the {inner['class_name']} inside it return_sequences=True"
    if "return_sequences" in config and not config["return_sequences"]:
        written = flag_setting("return_sequences", config["return_sequences"])
        return (
            f" {below} {written}, so it passes on only its last output: {fix} so it passes "
            "on every timestep."
        )
    return ""


def _as_shape(value: Any) -> Shape:
    if isinstance(value, str | bytes):
        raise TypeError(f"input_shape must be a tuple such as (None, 10, 64); got {value!r}.")
    dims = tuple(None if dim is None else operator.index(dim) for dim in value)
    if not dims:
        raise ValueError("input_shape must include the batch axis, e.g. (None, 10, 64).")
    if any(dim is not None and dim < 0 for dim in dims):
        raise ValueError(f"input_shape sizes must be >= 0 or None; got {dims}.")
    return dims


def _per_sample(class_name: str, value: Any) -> Sequence[Any]:
    # A shape without the batch axis, as keras.Input(shape=...) takes it.
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise TypeError(
            f"{class_name}'s shape leaves out the batch axis and is a tuple such as (10, 3); "
            f"got {value!r}."
        )
    return value


def _as_input(value: Any) -> InputShape:
    items = list(value)
    if items and all(isinstance(item, Sequence) and not isinstance(item, str) for item in items):
        return [_as_shape(item) for item in items]
    return _as_shape(items)


# --- the rules ------------------------------------------------------------------------


def _evaluate_layer(layer: Any, input_shape: Any) -> _Result:
    spec = layer_spec(layer)
    if input_shape is None:
        input_shape = _stored_input_shape(layer)
    return _evaluate(spec, None if input_shape is None else _as_input(input_shape))


def _evaluate(spec: dict[str, Any], shape: InputShape | None) -> _Result:
    class_name = spec["class_name"]
    if class_name == "InputLayer":
        return _input_layer(spec["config"], shape)
    if shape is None:
        raise ValueError(_no_input_message(class_name, spec["config"]))
    joins_inputs = class_name == "Concatenate" or class_name in _ELEMENTWISE
    if joins_inputs and not isinstance(shape, list):
        raise ValueError(f"{class_name} joins several inputs: pass a list of input shapes.")
    if not joins_inputs and isinstance(shape, list):
        raise ValueError(f"{class_name} takes one input; got {len(shape)} shapes {shape}.")
    result = _RULES[class_name](class_name, spec["config"], shape)
    if spec["config"].get("trainable", True) is False:
        # A frozen layer freezes everything inside it, wrapped layers included.
        result = result._replace(non_trainable=result.params)
    return result


def _no_input_message(class_name: str, config: dict[str, Any]) -> str:
    if class_name == "Embedding":
        message = "Embedding needs an input_shape, e.g. (None, timesteps)."
        if config.get("input_length") is not None:
            message += (
                f" Keras 3 ignores input_length={config['input_length']!r}: start the model "
                f"with keras.Input(shape=({config['input_length']!r},)) instead."
            )
        return message
    return f"{class_name} needs an input_shape, e.g. (None, timesteps, features)."


def _units(class_name: str, config: dict[str, Any], key: str = "units") -> int:
    if key not in config:
        raise ValueError(f"{class_name} needs {key!r} in its config.")
    try:
        numpy = sys.modules.get("numpy")
        if numpy is not None and isinstance(config[key], numpy.ndarray):
            # a 0-d integer array passes operator.index, but Keras fails to call the layer
            raise TypeError("an array is no size")
        value = operator.index(config[key])
    except TypeError:
        raise ValueError(
            f"{class_name} needs {key} to be a whole number; got {config[key]!r}."
        ) from None
    if value <= 0:
        raise ValueError(f"{class_name} needs {key} > 0; got {value}.")
    return value


def _known_features(class_name: str, shape: Shape) -> int:
    features = shape[-1]
    if features is None:
        raise ValueError(
            f"{class_name} creates its weights from features (the last input axis), so that "
            f"axis must have a known size; got {shape}."
        )
    return features


def _recurrent(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    if len(shape) != 3:
        err = ValueError(_recurrent_rank_message(class_name, shape))
        # what it found, without the fix the message suggests: in a stack whose layer below
        # drops the time axis, that layer's flag is the fix (see stack_shapes)
        err.found = _recurrent_rank_found(class_name, shape)
        raise err
    batch, timesteps, features = shape
    features = _known_features(class_name, shape)
    if config["stateful"] and batch is None:
        raise ValueError(
            f"{class_name} with {flag_setting('stateful', config['stateful'])} needs a fixed "
            f"batch size; got {shape}, whose "
            "batch is left open (None). Leave stateful off where the input is given, or give "
            f"the Input a batch_shape such as (32, {timesteps}, {features})."
        )
    units = _units(class_name, config)
    gates = _RECURRENT_GATES[class_name]
    core = f"{units} × ({units} + {features})"
    bias = 0
    if config["use_bias"]:
        # reset_after=True keeps separate input and recurrent biases for every gate.
        bias = 2 * units if class_name == "GRU" and config["reset_after"] else units
    per_gate = core
    if bias:
        per_gate += f" + {units}" if bias == units else f" + 2 × {units}"
    if gates == 1:
        arithmetic = per_gate
    else:
        arithmetic = f"{gates} × ({per_gate})" if bias else f"{gates} × {core}"
    params = gates * (units * (units + features) + bias)
    terms = {
        "kernel": gates * units * features,
        "recurrent_kernel": gates * units * units,
        "bias": gates * bias,
    }
    output = (batch, timesteps, units) if config["return_sequences"] else (batch, units)
    outputs = [output]
    if config["return_state"]:
        outputs += [(batch, units)] * (2 if class_name == "LSTM" else 1)
    return _Result(outputs, params, arithmetic, terms=terms)


def _recurrent_rank_found(class_name: str, shape: Shape) -> str:
    return (
        f"{class_name} expects input of shape (batch, timesteps, features); "
        f"got rank {len(shape)} {shape}."
    )


def _recurrent_rank_message(class_name: str, shape: Shape) -> str:
    start = _recurrent_rank_found(class_name, shape)
    if len(shape) == 1:
        return f"{start} Add timesteps and features axes, e.g. reshape to (batch, timesteps, 1)."
    if len(shape) == 2:
        n = "n" if shape[1] is None else shape[1]
        if n == 1:
            fix = "Add a timesteps axis: reshape to (batch, 1, 1)."
        else:
            fix = (
                f"Add the missing axis: reshape to (batch, 1, {n}) if the {n} values are "
                f"{n} features at one timestep, or to (batch, {n}, 1) if they are a series "
                f"of {n} readings of 1 feature ({n} timesteps)."
            )
        return (
            f"{start} {fix} If the input comes from another recurrent layer, give that layer "
            "return_sequences=True so it passes on every timestep."
        )
    rest = shape[2:]
    merged = None if None in rest else math.prod(rest)
    return (
        f"{start} Merge the axes after timesteps into one features axis, e.g. reshape to "
        f"(batch, {shape[1]}, {merged}), or wrap the layer in TimeDistributed."
    )


def _dense(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    if len(shape) < 2:
        raise ValueError(
            f"Dense expects input of shape (batch, ..., features); got rank 1 {shape}. "
            "Add a features axis, e.g. reshape to (batch, 1)."
        )
    features = _known_features(class_name, shape)
    units = _units(class_name, config)
    if config["use_bias"]:
        arithmetic, params = f"{features} × {units} + {units}", features * units + units
    else:
        arithmetic, params = f"{features} × {units}", features * units
    terms = {"kernel": features * units, "bias": params - features * units}
    return _Result([shape[:-1] + (units,)], params, arithmetic, terms=terms)


def _embedding(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    input_dim = _units(class_name, config, "input_dim")
    output_dim = _units(class_name, config, "output_dim")
    return _Result([shape + (output_dim,)], input_dim * output_dim, f"{input_dim} × {output_dim}")


def _bidirectional(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    forward = config["layer"]
    backward = config["backward_layer"] or forward
    for part in (forward, backward):
        if part["class_name"] not in _RECURRENT_GATES:
            raise ValueError(
                "Bidirectional wraps a recurrent layer (SimpleRNN, LSTM or GRU); "
                f"got {part['class_name']}."
            )
    ahead, behind = _evaluate(forward, shape), _evaluate(backward, shape)
    ahead_output, *ahead_states = ahead.outputs
    behind_output, *behind_states = behind.outputs
    mode = config["merge_mode"]
    if mode is None:
        outputs = [ahead_output, behind_output]
    elif mode == "concat":
        outputs = [ahead_output[:-1] + (ahead_output[-1] + behind_output[-1],)]
    elif mode in ("sum", "mul", "ave"):
        if ahead_output != behind_output:
            raise ValueError(
                f"Bidirectional merge_mode={mode!r} combines outputs element by element, so "
                f"both directions need the same units; got {ahead_output} and {behind_output}."
            )
        outputs = [ahead_output]
    else:
        raise ValueError(
            f"Bidirectional merge_mode must be 'concat', 'sum', 'mul', 'ave' or None; got {mode!r}."
        )
    if forward["config"]["return_state"]:
        outputs += ahead_states + behind_states
    if ahead.arithmetic == behind.arithmetic:
        arithmetic = f"2 × ({ahead.arithmetic})"
    else:
        arithmetic = f"({ahead.arithmetic}) + ({behind.arithmetic})"
    frozen = ahead.non_trainable + behind.non_trainable
    return _Result(outputs, ahead.params + behind.params, arithmetic, frozen)


def _time_distributed(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    if len(shape) < 3:
        raise ValueError(
            "TimeDistributed expects input of shape (batch, timesteps, ...) with at least 3 "
            f"axes, and applies its layer to each timestep; got rank {len(shape)} {shape}."
        )
    wrapped = config["layer"]["class_name"]
    if len(shape) == 3 and (wrapped in _RECURRENT_GATES or wrapped == "Bidirectional"):
        raise ValueError(
            f"TimeDistributed runs its {wrapped} on each timestep alone, so the {wrapped} "
            f"gets {(shape[0], shape[2])}, one step's features with no time axis; a recurrent "
            f"layer walks the time axis itself. Use the {wrapped} without TimeDistributed "
            "(around a recurrent layer, TimeDistributed needs 4 axes, "
            "(batch, sequences, timesteps, features))."
        )
    inner = _evaluate(config["layer"], (shape[0],) + shape[2:])
    if len(inner.outputs) != 1:
        raise ValueError(
            f"TimeDistributed needs a layer with one output; {config['layer']['class_name']} "
            f"returns {len(inner.outputs)} (is return_state=True?)."
        )
    outputs = [shape[:2] + inner.outputs[0][1:]]
    return _Result(outputs, inner.params, inner.arithmetic, inner.non_trainable)


def _input_layer_shapes(config: Mapping[str, Any]) -> tuple[Any, Any]:
    """The batch shape and the per-sample shape an InputLayer's config gives, read as Keras
    3 reads them: the Keras 2 names batch_input_shape and input_shape, where written,
    replace batch_shape and shape."""
    declared = config["batch_input_shape"] if "batch_input_shape" in config else None
    if declared is None:
        declared = config.get("batch_shape")
    per_sample = config["input_shape"] if "input_shape" in config else config.get("shape")
    return declared, per_sample


def _input_layer_problem(config: Mapping[str, Any]) -> str | None:
    """Why Keras 3 refuses to construct an InputLayer from this config, or None: it takes
    a shape or a batch shape, not both, a batch size only beside a shape, a dtype it knows
    (no mixed policy: an input is a tensor of one dtype), and no input_tensor, which only a
    KerasTensor can be.

    Examples
    --------
    >>> print(_input_layer_problem({"batch_shape": (None, 4), "batch_size": 2}))
    InputLayer takes batch_size only beside shape: batch_shape already holds the batch size.
    >>> _input_layer_problem({"shape": (4,), "dtype": "int32"}) is None
    True
    """
    declared, per_sample = _input_layer_shapes(config)
    if config.get("input_tensor") is not None:
        return (
            "InputLayer's input_tensor must be a KerasTensor, which a layer dict cannot "
            "hold: leave it out."
        )
    if declared is not None and per_sample is not None:
        return "InputLayer takes a shape or a batch_shape, not both: keep one."
    if declared is not None and config.get("batch_size") is not None:
        return (
            "InputLayer takes batch_size only beside shape: batch_shape already holds the "
            "batch size."
        )
    dtype = config.get("dtype")
    if dtype is not None and not (isinstance(dtype, str) and dtype in _INPUT_DTYPES):
        return (
            f"InputLayer's dtype {_shown(dtype)} is not a dtype Keras 3 knows for a tensor: "
            "write one such as 'float32' or 'int32', or leave dtype out."
        )
    return None


def _input_layer(config: dict[str, Any], shape: InputShape | None) -> _Result:
    declared, per_sample = _input_layer_shapes(config)
    if declared is None and per_sample is not None:
        declared = (config.get("batch_size"), *_per_sample("InputLayer", per_sample))
    if declared is None:  # Keras 3: "You must pass a `shape` argument."
        raise ValueError("InputLayer needs a shape or batch_shape in its config.")
    declared = _as_shape(declared)
    if shape is not None and not _compatible(declared, shape):
        raise ValueError(f"InputLayer declares {declared} but the input shape given is {shape}.")
    return _Result([declared], 0, "0")


def _compatible(first: Any, second: Any) -> bool:
    return len(first) == len(second) and all(
        a is None or b is None or a == b for a, b in zip(first, second, strict=True)
    )


def _same_shape(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    return _Result([shape], 0, "0")


def _flatten(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    rest = shape[1:]
    return _Result([(shape[0], None if None in rest else math.prod(rest))], 0, "0")


def _reshape(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    target = tuple(config["target_shape"])
    size = None if None in shape[1:] else math.prod(shape[1:])
    if target.count(-1) > 1:
        raise ValueError(f"Reshape target_shape may contain at most one -1; got {target}.")
    if -1 in target:
        others = math.prod(dim for dim in target if dim != -1)
        if size is not None and (others == 0 or size % others):
            raise ValueError(f"Reshape cannot fit {shape} into target_shape {target}.")
        fill = None if size is None else size // others
        target = tuple(fill if dim == -1 else dim for dim in target)
    elif size is not None and math.prod(target) != size:
        raise ValueError(
            f"Reshape keeps the number of values per sample: {shape} holds {size}, "
            f"target_shape {target} holds {math.prod(target)}."
        )
    return _Result([(shape[0], *target)], 0, "0")


def _repeat_vector(class_name: str, config: dict[str, Any], shape: Shape) -> _Result:
    if len(shape) != 2:
        raise ValueError(
            f"RepeatVector expects input of shape (batch, features); got rank {len(shape)} {shape}."
        )
    return _Result([(shape[0], _units(class_name, config, "n"), shape[1])], 0, "0")


def _concatenate(class_name: str, config: dict[str, Any], shapes: list[Shape]) -> _Result:
    rank = len(shapes[0])
    if any(len(shape) != rank for shape in shapes):
        raise ValueError(f"Concatenate needs inputs of the same rank; got {shapes}.")
    axis = config["axis"]
    if not -rank <= axis < rank:
        raise ValueError(f"Concatenate axis {axis} is out of range for rank {rank}.")
    axis %= rank
    for position, sizes in enumerate(zip(*shapes, strict=True)):
        known = {size for size in sizes if size is not None}
        if position != axis and len(known) > 1:
            raise ValueError(
                f"Concatenate joins along axis {axis}; all other axes must match, got {shapes}."
            )
    # Keras takes every other axis from the first input, even where a later one knows more.
    output = list(shapes[0])
    joined = [shape[axis] for shape in shapes]
    output[axis] = None if None in joined else sum(joined)
    return _Result([tuple(output)], 0, "0")


def _elementwise(class_name: str, config: dict[str, Any], shapes: list[Shape]) -> _Result:
    batches = {shape[0] for shape in shapes} - {None}
    if len(batches) > 1:
        raise ValueError(f"{class_name} needs inputs with the same batch size; got {shapes}.")
    output = shapes[0][1:]
    for shape in shapes[1:]:
        output = _broadcast(class_name, output, shape[1:], shapes)
    return _Result([(batches.pop() if batches else None, *output)], 0, "0")


def _broadcast(class_name: str, first: Shape, second: Shape, shapes: list[Shape]) -> Shape:
    if len(first) < len(second):
        first, second = second, first
    lead = len(first) - len(second)
    output = list(first[:lead])
    for a, b in zip(first[lead:], second, strict=True):
        if a is None or b is None:
            output.append(None)
        elif a == 1:
            output.append(b)
        elif b == 1 or a == b:
            output.append(a)
        else:
            raise ValueError(f"{class_name} cannot combine inputs of shapes {shapes}.")
    return tuple(output)


_RULES: dict[str, Callable[..., _Result]] = {
    "Dense": _dense,
    "SimpleRNN": _recurrent,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Embedding": _embedding,
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
    "InputLayer": _input_layer,
    "Dropout": _same_shape,
    "Activation": _same_shape,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "RepeatVector": _repeat_vector,
    "Concatenate": _concatenate,
    **{class_name: _elementwise for class_name in _ELEMENTWISE},
}
