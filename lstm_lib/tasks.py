"""Measurements on live Keras layers that the book's figures draw, and the tasks they use.

``input_gradient_norms`` measures how strongly a recurrent layer's final output depends on
each input step: the size of the gradient with respect to that step;
``lstm_lib.plots.gradients.gradient_by_distance`` draws what it returns.

``flagged_value_task`` makes a long-range task in pure NumPy ("remember the flagged value"),
and ``train_race`` trains several recurrent layers on it from the same start and returns a
``RaceResult`` per layer; ``lstm_lib.plots.training.race_curves`` draws them. ``RACE_CLAIM``
and ``REVIEW_RACE_CLAIM`` are what the book says each race reaches on every seed its tests
train, ``MEMORY_CLAIM`` what it says of the trained LSTM's gates.

``flagged_memory`` measures, in NumPy, how a trained LSTM keeps the flagged value: its gates
at and after the flagged step, unit by unit and for each sign apart.

``review_marker_task`` and ``train_review_race`` are the token version, for models that start
with an ``Embedding``: the label of a review is the sentiment word right after a marker word.

Keras and TensorFlow are imported inside the functions that need them, so
``import lstm_lib.tasks`` stays light.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "MEMORY_CLAIM",
    "RACE_CLAIM",
    "REVIEW_RACE_CLAIM",
    "REVIEW_VOCAB",
    "FlaggedMemory",
    "MemoryClaim",
    "RaceClaim",
    "RaceResult",
    "flagged_memory",
    "flagged_value_task",
    "input_gradient_norms",
    "review_marker_task",
    "train_race",
    "train_review_race",
]


def input_gradient_norms(
    make_layer: Callable[[], Any], x: np.ndarray, *, seeds: Iterable[int] = (0,)
) -> np.ndarray:
    """Measure the gradient of a recurrent layer's final output with respect to each step.

    For every seed, ``keras.utils.set_random_seed(seed)`` is called, a fresh layer is made
    with ``make_layer()``, and ``tf.GradientTape`` computes the gradient of the sum of the
    layer's final output (shape ``(batch, units)``) with respect to its input ``x``. The norm
    of that gradient over the last axis, averaged over the batch, is one row of the result.

    Needs Keras 3 with the TensorFlow backend; both are imported when the function runs.

    Parameters
    ----------
    make_layer : callable
        Called with no arguments after seeding; returns a recurrent layer (built or not)
        whose call on ``x`` gives its final output, ``(batch, units)``, e.g.
        ``lambda: keras.layers.LSTM(16)``.
    x : numpy.ndarray, shape (batch, timesteps, features)
        The input sequences.
    seeds : iterable of int, default (0,)
        One random initialisation of the layer per seed.

    Returns
    -------
    numpy.ndarray, shape (len(seeds), timesteps)
        Row ``k``, column ``t``: the mean over the batch of
        ``|| d sum(output) / d x[:, t, :] ||`` for the layer made with the ``k``-th seed.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D, ``seeds`` is empty, or the layer's output is not
        ``(batch, units)`` (a layer with ``return_sequences=True``, say).

    Examples
    --------
    >>> import keras, numpy as np
    >>> x = np.random.default_rng(0).normal(size=(4, 10, 3)).astype("float32")
    >>> input_gradient_norms(lambda: keras.layers.SimpleRNN(5), x, seeds=[0, 1]).shape
    (2, 10)

    Used in ``book/04-lstm.md``.
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, timesteps, features), got {x.shape}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")

    import keras
    import tensorflow as tf

    rows = []
    for seed in seeds:
        keras.utils.set_random_seed(int(seed))
        layer = make_layer()
        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            output = layer(inputs)
            if len(output.shape) != 2:
                raise ValueError(
                    f"the layer must return its final output, (batch, units); it returned "
                    f"shape {tuple(output.shape)}"
                )
            total = tf.reduce_sum(output)
        gradient = np.asarray(tape.gradient(total, inputs))  # (batch, timesteps, features)
        rows.append(np.linalg.norm(gradient, axis=-1).mean(axis=0))
    return np.stack(rows)


def _check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an ``int``, or raise a ValueError naming the argument ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def flagged_value_task(
    samples: int, *, timesteps: int = 30, noise: float = 4.0, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Make the task "remember the flagged value": a quiet sign hidden among loud noise.

    Every sequence has two features. Feature 0 is noise drawn from ``N(0, noise**2)`` at
    every step except one, the flagged step ``p`` (uniform over ``0 .. timesteps - 1``),
    where it holds a quiet ``+1`` or ``-1``. Feature 1 is the flag: 1.0 at step ``p``, 0
    elsewhere. The label is the sign of the flagged value: class 1 for ``+1``, class 0 for
    ``-1``. To answer after the last step, a layer must pick the value out when the flag is
    up and keep it, unchanged by the noise, until the end.

    Parameters
    ----------
    samples : int
        The number of sequences, ``batch``.
    timesteps : int, default 30
        The length of every sequence.
    noise : float, default 4.0
        The standard deviation of the noise in feature 0; 0 gives silent sequences.
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(0)``. Draws, in order: the
        labels, the flagged steps, the noise.

    Returns
    -------
    x : numpy.ndarray, shape (batch, timesteps, features), float32
        The sequences, with ``features = 2``: the value and the flag.
    y : numpy.ndarray, shape (batch,), int64
        The classes, 0 or 1.

    Raises
    ------
    ValueError
        If ``samples`` or ``timesteps`` is not a positive integer, or ``noise`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = flagged_value_task(3, timesteps=5, rng=np.random.default_rng(0))
    >>> x.shape, x.dtype, y.shape
    ((3, 5, 2), dtype('float32'), (3,))
    >>> x[:, :, 1].sum(axis=1)  # one flag per sequence
    array([1., 1., 1.], dtype=float32)
    >>> bool(np.all(x[x[:, :, 1] == 1, 0] == np.where(y == 1, 1.0, -1.0)))
    True

    Used in ``book/04-lstm.md``.
    """
    samples = _check_positive_int("samples", samples)
    timesteps = _check_positive_int("timesteps", timesteps)
    if not noise >= 0:
        raise ValueError(f"noise must be a non-negative standard deviation, got {noise!r}")

    y = rng.integers(0, 2, samples)
    flagged = rng.integers(0, timesteps, samples)
    x = np.zeros((samples, timesteps, 2), dtype="float32")
    x[:, :, 0] = noise * rng.standard_normal((samples, timesteps))
    rows = np.arange(samples)
    x[rows, flagged, 0] = np.where(y == 1, 1.0, -1.0)
    x[rows, flagged, 1] = 1.0
    return x, y.astype("int64")


@dataclass(frozen=True)
class FlaggedMemory:
    """How each unit of an LSTM keeps the flagged value, measured by :func:`flagged_memory`.

    The gates of a unit are computed from its state as well as from the input, so they may
    act differently once the cell holds a ``-1`` than once it holds a ``+1``: every measure
    but ``tells_class`` is taken for each class apart, row 0 for the sequences flagged
    ``-1`` (class 0) and row 1 for those flagged ``+1`` (class 1).

    Attributes
    ----------
    tells_class : numpy.ndarray, shape (units,)
        The correlation (Pearson's) of the unit's final cell state ``c`` with the flagged
        sign, ``+1`` for class 1 and ``-1`` for class 0; 0 when ``c`` does not vary. A unit
        may keep the value with either sign, so its size is what says how well the unit
        keeps it.
    forget_after : numpy.ndarray, shape (2, units)
        The mean forget gate ``f_t`` at the steps after the flagged one.
    input_after : numpy.ndarray, shape (2, units)
        The mean input gate ``i_t`` at the steps after the flagged one.
    input_at_flag : numpy.ndarray, shape (2, units)
        The mean input gate ``i_t`` at the flagged step.
    final_cell : numpy.ndarray, shape (2, units)
        The mean cell state ``c`` after the last step.
    """

    tells_class: np.ndarray
    forget_after: np.ndarray
    input_after: np.ndarray
    input_at_flag: np.ndarray
    final_cell: np.ndarray

    def memory_units(self, threshold: float = 0.8) -> np.ndarray:
        """The units whose final cell state tells the class: ``|tells_class| >= threshold``.

        Returns
        -------
        numpy.ndarray
            Their indices, the unit that tells it best first.
        """
        order = np.argsort(-np.abs(self.tells_class), kind="stable")
        return order[np.abs(self.tells_class[order]) >= threshold]


def flagged_memory(x: np.ndarray, y: np.ndarray, weights: Any) -> FlaggedMemory:
    """Measure how an LSTM keeps the value of :func:`flagged_value_task`, unit by unit.

    Runs the NumPy twin (:func:`lstm_lib.reference.lstm_trace`) over the sequences and
    averages every unit's gates at and after the flagged step, for the sequences of each
    class apart. The textbook way to keep a value is an input gate that opens on the flag
    and then shuts, and a forget gate that stays at 1: ``input_at_flag`` near 1, and
    ``input_after`` near 0 and ``forget_after`` near 1 in both rows.

    Parameters
    ----------
    x : numpy.ndarray, shape (batch, timesteps, features)
        Sequences of the task, ``features = 2`` (the value and the flag), one flag each.
    y : numpy.ndarray, shape (batch,)
        Their classes, 0 or 1; both must occur.
    weights : sequence of array_like
        The LSTM's ``[kernel (2, 4 * units), recurrent_kernel (units, 4 * units),
        bias (4 * units,)]``, as ``layer.get_weights()`` returns them, with Keras's default
        activations.

    Returns
    -------
    FlaggedMemory
        ``tells_class`` per unit; the other measures per class and unit.

    Raises
    ------
    ValueError
        If ``x`` is not ``(batch, timesteps, 2)`` with exactly one flag per sequence, ``y``
        does not hold one class of 0 or 1 per sequence, both classes, or no sequence of
        either class has a step after its flag.

    Examples
    --------
    An LSTM of one unit built by hand to keep the value the textbook way: the flag opens
    its input gate, which is shut otherwise, and its forget gate stays at 1.

    >>> import numpy as np
    >>> x, y = flagged_value_task(200, timesteps=8, rng=np.random.default_rng(0))
    >>> kernel = np.array([[0.0, 0.0, 1.0, 0.0],     # the value feeds the candidate
    ...                    [20.0, 0.0, 0.0, 0.0]])   # the flag opens the input gate
    >>> bias = np.array([-10.0, 10.0, 0.0, 10.0])    # gates: i shut, f and o open
    >>> memory = flagged_memory(x, y, [kernel, np.zeros((1, 4)), bias])
    >>> print(np.round(memory.tells_class, 2))
    [1.]
    >>> print(np.round(memory.forget_after, 2).ravel(), np.round(memory.input_after, 2).ravel())
    [1. 1.] [0. 0.]
    >>> print(np.round(memory.final_cell, 2).ravel())  # tanh(-1) and tanh(+1), kept
    [-0.76  0.76]

    Used in ``book/04-lstm.md``.
    """
    from lstm_lib import reference

    x = np.asarray(x, dtype="float64")
    y = np.asarray(y)
    if x.ndim != 3 or x.shape[-1] != 2:
        raise ValueError(f"x must be (batch, timesteps, 2), the value and the flag; got {x.shape}")
    batch, timesteps, _ = x.shape
    flags = x[:, :, 1]
    if not (np.all(np.isin(flags, (0.0, 1.0))) and np.all(flags.sum(axis=1) == 1)):
        raise ValueError("every sequence must have exactly one flag: feature 1 is 1 at one step")
    if y.shape != (batch,) or not np.all(np.isin(y, (0, 1))):
        raise ValueError(f"y must hold one class, 0 or 1, per sequence: shape ({batch},)")
    if len(np.unique(y)) < 2:
        raise ValueError("y must hold both classes: a correlation with one sign is undefined")
    flagged = flags.argmax(axis=1)
    after = np.arange(timesteps)[None, :] > flagged[:, None]  # (batch, timesteps)
    if not all(after[y == label].any() for label in (0, 1)):
        raise ValueError("in a class, no sequence has a step after its flag: nothing is kept")

    trace = reference.lstm_trace(x, [np.asarray(w, dtype="float64") for w in weights])
    units = trace.c.shape[-1]
    sign = np.where(y == 1, 1.0, -1.0)
    rows = np.arange(batch)

    def per_class(values: np.ndarray, where: np.ndarray) -> np.ndarray:
        """The mean of ``values`` (batch, ..., units) where ``where`` holds, per class."""
        return np.stack([values[where & (y == label)[:, None]].mean(axis=0) for label in (0, 1)])

    one_step = np.ones((batch, 1), dtype=bool)
    return FlaggedMemory(
        tells_class=np.array([_correlation(trace.c[:, -1, u], sign) for u in range(units)]),
        forget_after=per_class(trace.f, after),
        input_after=per_class(trace.i, after),
        input_at_flag=per_class(trace.i[rows, flagged][:, None], one_step),
        final_cell=per_class(trace.c[:, -1][:, None], one_step),
    )


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation of two 1-D arrays; 0.0 when either does not vary."""
    a = a - a.mean()
    b = b - b.mean()
    scale = np.sqrt((a * a).sum() * (b * b).sum())
    if scale < 1e-12:
        return 0.0
    return float((a * b).sum() / scale)


@dataclass(frozen=True)
class RaceResult:
    """One layer's training in :func:`train_race` or :func:`train_review_race`.

    Attributes
    ----------
    layer : str
        The layer class's name, e.g. ``"LSTM"``.
    accuracy : float
        The accuracy on the held-out sequences after the last epoch.
    epochs : int
        The number of epochs run (training stops early once it reaches ``stop_at``).
    train_accuracy : tuple of float
        The training accuracy of each epoch, as Keras reports it (the mean over the epoch).
    held_out_accuracy : tuple of float
        The held-out accuracy after each epoch; the last one is ``accuracy``.
    seconds : float
        The wall-clock time of building, training and evaluating the model.
    model : keras.Model
        The trained model: in :func:`train_race` ``Input``, the recurrent layer and
        ``Dense(2, "softmax")``; in :func:`train_review_race` an ``Embedding`` before the
        recurrent layer and ``Dense(1, "sigmoid")`` after it.
    """

    layer: str
    accuracy: float
    epochs: int
    train_accuracy: tuple[float, ...]
    held_out_accuracy: tuple[float, ...]
    seconds: float
    model: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class RaceClaim:
    """What the book says a race reaches on every seed its tests train, in one place.

    Chapters 04 and 08 glue these numbers into their prose and ``tests/test_book_claims.py``
    asserts them, so the sentence and the check cannot drift apart.

    Attributes
    ----------
    seeds : tuple of int
        The seeds the tests train the race on; the chapter shows the first.
    simplernn_below : float
        The SimpleRNN's held-out accuracy stays below this, near chance.
    gated_at_least : float
        The LSTM's and the GRU's held-out accuracy reach at least this.

    Examples
    --------
    >>> f"{RACE_CLAIM.simplernn_below:.0%} and {RACE_CLAIM.gated_at_least:.0%}"
    '60% and 90%'
    """

    seeds: tuple[int, ...]
    simplernn_below: float
    gated_at_least: float


#: The claim of :func:`train_race` with its defaults (chapter 04, "A task only gates can learn").
RACE_CLAIM = RaceClaim(seeds=(0, 1, 2), simplernn_below=0.6, gated_at_least=0.9)
#: The claim of :func:`train_review_race` with its defaults (chapter 08, "A review only gates
#: can read").
REVIEW_RACE_CLAIM = RaceClaim(seeds=(0, 1, 2), simplernn_below=0.65, gated_at_least=0.9)


@dataclass(frozen=True)
class MemoryClaim:
    """What the book says of the race's trained LSTM on every seed its tests train.

    Chapter 04 ("What the trained LSTM does with its gates") glues these numbers into its
    list and ``tests/test_book_claims.py`` asserts them, measured with :func:`flagged_memory`.

    Attributes
    ----------
    seeds : tuple of int
        The seeds of :func:`train_race` whose LSTM is measured.
    memory_threshold : float
        A memory unit's least ``|tells_class|`` (:meth:`FlaggedMemory.memory_units`).
    memory_units_at_least : int
        The least number of memory units.
    forget_mean_below : float
        Their forget gate after the flag, averaged over both signs, stays below this.
    sign_gap_at_least : float
        The mean gap between their forget gates after a ``-1`` and after a ``+1``.
    latch_above, latch_below : float
        Some memory unit's forget gate is above the first after one sign and below the
        second after the other.
    sign_preference_by : float
        Some units' forget gate is higher after a ``-1``, others' after a ``+1``, by more.
    final_cell_beyond : float
        Some memory unit's final cell state averages beyond this in size under one sign.
    textbook_forget_above, textbook_input_below : float
        The textbook way, which no memory unit keeps for both signs: a forget gate above the
        first and an input gate below the second after the flag.
    """

    seeds: tuple[int, ...]
    memory_threshold: float
    memory_units_at_least: int
    forget_mean_below: float
    sign_gap_at_least: float
    latch_above: float
    latch_below: float
    sign_preference_by: float
    final_cell_beyond: float
    textbook_forget_above: float
    textbook_input_below: float


#: The claim about :func:`train_race`'s LSTM with its defaults (chapter 04).
MEMORY_CLAIM = MemoryClaim(
    seeds=(0, 1, 2),
    memory_threshold=0.8,
    memory_units_at_least=8,
    forget_mean_below=0.8,
    sign_gap_at_least=0.15,
    latch_above=0.9,
    latch_below=0.6,
    sign_preference_by=0.1,
    final_cell_beyond=2.0,
    textbook_forget_above=0.9,
    textbook_input_below=0.1,
)


def train_race(
    layer_classes: Iterable[type | str],
    *,
    seed: int = 0,
    timesteps: int = 30,
    noise: float = 4.0,
    units: int = 32,
    train: int = 2000,
    test: int = 1000,
    max_epochs: int = 10,
    stop_at: float = 0.95,
    learning_rate: float = 1e-2,
    batch_size: int = 64,
) -> dict[str, RaceResult]:
    """Train recurrent layers on :func:`flagged_value_task` from the same start.

    ``keras.utils.set_random_seed(seed)`` is called and ``np.random.default_rng(seed)``
    draws ``train`` training and then ``test`` held-out sequences, the same for every
    layer. For each layer class ``L``, the seed is set again, so every model starts from
    the same random state, and
    ``keras.Sequential([keras.Input((timesteps, 2)), L(units), Dense(2, "softmax")])`` is
    trained with Adam and ``sparse_categorical_crossentropy`` for at most ``max_epochs``
    epochs, stopping after the first epoch whose training accuracy reaches ``stop_at``. The
    held-out set is passed as ``validation_data``, so it is evaluated after every epoch and
    never trained on.

    Needs Keras 3; it is imported when the function runs. The Keras session is not cleared,
    and the global seed is left as training left it: set it again afterwards if later code
    relies on it.

    Parameters
    ----------
    layer_classes : iterable of type or str
        Recurrent layer classes, e.g. ``keras.layers.LSTM``, or their names in
        ``keras.layers``, e.g. ``"LSTM"``. Each is called as ``L(units)``.
    seed : int, default 0
        Seeds the data and every model's initial weights.
    timesteps, noise : int, float
        The task's settings, see :func:`flagged_value_task`.
    units : int, default 32
        The size of each recurrent layer's state.
    train, test : int, default 2000, 1000
        The number of training and held-out sequences.
    max_epochs : int, default 10
        The most epochs any layer trains.
    stop_at : float, default 0.95
        Training stops after the first epoch whose training accuracy is at least this.
    learning_rate : float, default 1e-2
        Adam's learning rate.
    batch_size : int, default 64
        The sequences per gradient step.

    Returns
    -------
    dict of str to RaceResult
        One result per layer, keyed by the class's name, in the order given.

    Raises
    ------
    ValueError
        If no layer is given, two have the same name, or a name is not in ``keras.layers``.

    Examples
    --------
    >>> results = train_race(["SimpleRNN", "LSTM"], seed=0)  # doctest: +SKIP
    >>> {name: r.accuracy > 0.9 for name, r in results.items()}  # doctest: +SKIP
    {'SimpleRNN': False, 'LSTM': True}

    Used in ``book/04-lstm.md``.
    """
    import keras

    classes = _layer_classes(layer_classes)

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = flagged_value_task(train, timesteps=timesteps, noise=noise, rng=rng)
    x_test, y_test = flagged_value_task(test, timesteps=timesteps, noise=noise, rng=rng)

    return _race(
        classes,
        lambda layer_class: [
            keras.Input((timesteps, 2)),
            layer_class(units),
            keras.layers.Dense(2, activation="softmax"),
        ],
        loss="sparse_categorical_crossentropy",
        data=((x, y), (x_test, y_test)),
        seed=seed,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_epochs=max_epochs,
        stop_at=stop_at,
    )


#: The words of :func:`review_marker_task`, indexed by id: ``<pad>`` is 0, the marker
#: ``"verdict:"`` is 1, then eight fillers, three positive and three negative words.
REVIEW_VOCAB: tuple[str, ...] = (
    "<pad>",
    "verdict:",
    "the",
    "film",
    "was",
    "plot",
    "acting",
    "and",
    "really",
    "very",
    "good",
    "great",
    "fun",
    "bad",
    "dull",
    "awful",
)
_REVIEW_FILLERS = np.arange(2, 10)
_REVIEW_POSITIVE = np.arange(10, 13)
_REVIEW_NEGATIVE = np.arange(13, 16)


def review_marker_task(
    samples: int,
    *,
    timesteps: int = 25,
    min_words: int = 20,
    sentiment_share: float = 0.6,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Make reviews whose label is the sentiment word right after the marker "verdict:".

    A review is a sequence of token ids from :data:`REVIEW_VOCAB`, between ``min_words``
    and ``timesteps`` words long (uniform), followed by ``<pad>`` (id 0) up to
    ``timesteps``. Each word is a sentiment word (positive or negative, drawn uniformly)
    with probability ``sentiment_share`` and a filler otherwise. Then the marker
    ``"verdict:"`` (id 1) is put at a random position ``p`` (uniform over ``0 .. length -
    2``), and the word at ``p + 1`` is replaced by a positive word for label 1 or a
    negative word for label 0. The label is the sentiment of that word alone: every other
    sentiment word is a distractor, as likely positive as negative. To answer after the
    last word, a layer must store the word that follows the marker and keep it, unchanged
    by the sentiment words that come later.

    Parameters
    ----------
    samples : int
        The number of reviews, ``batch``.
    timesteps : int, default 25
        The padded length, and the longest review.
    min_words : int, default 20
        The shortest review; at least 2 (the marker and its word) and at most
        ``timesteps``.
    sentiment_share : float, default 0.6
        The probability that a word other than the marker and its word is a sentiment
        word (a distractor); between 0 and 1.
    rng : numpy.random.Generator
        The source of randomness, e.g. ``np.random.default_rng(0)``. Draws, in order: the
        labels, the lengths, which words are sentiment words, the sentiment words, the
        fillers, the marker positions, the words after the markers.

    Returns
    -------
    x : numpy.ndarray, shape (batch, timesteps), int64
        The token ids, ``<pad>`` (0) after the end of each review.
    y : numpy.ndarray, shape (batch,), int64
        The labels: 1 if the word after the marker is positive, 0 if negative.

    Raises
    ------
    ValueError
        If ``samples`` or ``timesteps`` is not a positive integer, ``min_words`` is not
        between 2 and ``timesteps``, or ``sentiment_share`` is not between 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> x, y = review_marker_task(3, timesteps=8, min_words=5, rng=np.random.default_rng(0))
    >>> x.shape, x.dtype, y.shape
    ((3, 8), dtype('int64'), (3,))
    >>> (x == 1).sum(axis=1)  # one marker per review
    array([1, 1, 1])
    >>> after = x[np.arange(3), np.argmax(x == 1, axis=1) + 1]
    >>> bool(np.all((after >= 10) == (y == 1)))  # positive words are ids 10 to 12
    True

    Used in ``book/08-putting-together.md``.
    """
    samples = _check_positive_int("samples", samples)
    timesteps = _check_positive_int("timesteps", timesteps)
    if isinstance(min_words, bool) or not isinstance(min_words, int | np.integer):
        raise ValueError(f"min_words must be an integer, got {min_words!r}")
    if not 2 <= min_words <= timesteps:
        raise ValueError(f"min_words must be between 2 and timesteps={timesteps}, got {min_words}")
    if not 0 <= sentiment_share <= 1:
        raise ValueError(f"sentiment_share must be between 0 and 1, got {sentiment_share!r}")

    sentiment = np.concatenate([_REVIEW_POSITIVE, _REVIEW_NEGATIVE])
    y = rng.integers(0, 2, samples)
    lengths = rng.integers(min_words, timesteps + 1, samples)
    is_sentiment = rng.random((samples, timesteps)) < sentiment_share
    x = np.where(
        is_sentiment,
        rng.choice(sentiment, (samples, timesteps)),
        rng.choice(_REVIEW_FILLERS, (samples, timesteps)),
    )
    rows = np.arange(samples)
    marker = (rng.random(samples) * (lengths - 1)).astype(int)  # 0 .. length - 2
    x[rows, marker] = 1
    x[rows, marker + 1] = np.where(
        y == 1, rng.choice(_REVIEW_POSITIVE, samples), rng.choice(_REVIEW_NEGATIVE, samples)
    )
    x[np.arange(timesteps) >= lengths[:, None]] = 0
    return x.astype("int64"), y.astype("int64")


def train_review_race(
    layer_classes: Iterable[type | str],
    *,
    seed: int = 0,
    timesteps: int = 25,
    min_words: int = 20,
    sentiment_share: float = 0.6,
    embedding_dim: int = 8,
    units: int = 16,
    train: int = 2000,
    test: int = 1000,
    max_epochs: int = 10,
    stop_at: float = 0.95,
    learning_rate: float = 5e-3,
    batch_size: int = 64,
) -> dict[str, RaceResult]:
    """Train token models with different recurrent layers on :func:`review_marker_task`.

    The token version of :func:`train_race`. ``keras.utils.set_random_seed(seed)`` is
    called and ``np.random.default_rng(seed)`` draws ``train`` training and then ``test``
    held-out reviews, the same for every layer. For each layer class ``L``, the seed is set
    again and the model
    ``keras.Sequential([keras.Input((timesteps,)), Embedding(len(REVIEW_VOCAB),
    embedding_dim, mask_zero=True), L(units), Dense(1, "sigmoid")])`` is trained with Adam
    and ``binary_crossentropy`` for at most ``max_epochs`` epochs, stopping after the first
    epoch whose training accuracy reaches ``stop_at``. The held-out reviews are passed as
    ``validation_data``, evaluated after every epoch and never trained on.

    Needs Keras 3; it is imported when the function runs. The Keras session is not cleared,
    and the global seed is left as training left it.

    Parameters
    ----------
    layer_classes : iterable of type or str
        Recurrent layer classes, e.g. ``keras.layers.GRU``, or their names in
        ``keras.layers``, e.g. ``"GRU"``. Each is called as ``L(units)``.
    seed : int, default 0
        Seeds the data and every model's initial weights.
    timesteps, min_words, sentiment_share : int, int, float
        The task's settings, see :func:`review_marker_task`.
    embedding_dim : int, default 8
        The Embedding's ``output_dim``.
    units : int, default 16
        The size of each recurrent layer's state.
    train, test : int, default 2000, 1000
        The number of training and held-out reviews.
    max_epochs : int, default 10
        The most epochs any layer trains.
    stop_at : float, default 0.95
        Training stops after the first epoch whose training accuracy is at least this.
    learning_rate : float, default 5e-3
        Adam's learning rate.
    batch_size : int, default 64
        The reviews per gradient step.

    Returns
    -------
    dict of str to RaceResult
        One result per layer, keyed by the class's name, in the order given; each
        ``model`` is the Embedding, recurrent layer and ``Dense(1, "sigmoid")`` stack above.

    Raises
    ------
    ValueError
        If no layer is given, two have the same name, or a name is not in ``keras.layers``.

    Examples
    --------
    >>> results = train_review_race(["SimpleRNN", "GRU"], seed=0)  # doctest: +SKIP
    >>> {name: r.accuracy > 0.9 for name, r in results.items()}  # doctest: +SKIP
    {'SimpleRNN': False, 'GRU': True}

    Used in ``book/08-putting-together.md``.
    """
    import keras

    classes = _layer_classes(layer_classes)

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    settings = {"timesteps": timesteps, "min_words": min_words, "sentiment_share": sentiment_share}
    x, y = review_marker_task(train, rng=rng, **settings)
    x_test, y_test = review_marker_task(test, rng=rng, **settings)

    return _race(
        classes,
        lambda layer_class: [
            keras.Input((timesteps,)),
            keras.layers.Embedding(len(REVIEW_VOCAB), embedding_dim, mask_zero=True),
            layer_class(units),
            keras.layers.Dense(1, activation="sigmoid"),
        ],
        loss="binary_crossentropy",
        data=((x, y), (x_test, y_test)),
        seed=seed,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_epochs=max_epochs,
        stop_at=stop_at,
    )


def _layer_classes(layer_classes: Iterable[type | str]) -> list[type]:
    """Keras layer classes from classes or their names; each at most once."""
    import keras

    classes = []
    for layer_class in layer_classes:
        if isinstance(layer_class, str):
            if not hasattr(keras.layers, layer_class):
                raise ValueError(f"keras.layers has no {layer_class!r}")
            layer_class = getattr(keras.layers, layer_class)
        classes.append(layer_class)
    if not classes:
        raise ValueError("layer_classes is empty: give at least one layer class")
    names = [layer_class.__name__ for layer_class in classes]
    if len(set(names)) != len(names):
        raise ValueError(f"each layer class may appear once; got {names}")
    return classes


def _race(
    classes: list[type],
    build: Callable[[type], list[Any]],
    *,
    loss: str,
    data: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    seed: int,
    learning_rate: float,
    batch_size: int,
    max_epochs: int,
    stop_at: float,
) -> dict[str, RaceResult]:
    """Train ``keras.Sequential(build(layer_class))`` for each class from the same seed,
    stopping once an epoch's training accuracy reaches ``stop_at``."""
    import keras

    (x, y), (x_test, y_test) = data

    def stop_when_learned(model: Any) -> Any:
        def on_epoch_end(epoch: int, logs: dict[str, float] | None = None) -> None:
            if logs is not None and logs["accuracy"] >= stop_at:
                model.stop_training = True

        return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)

    results = {}
    for layer_class in classes:
        name = layer_class.__name__
        keras.utils.set_random_seed(seed)
        start = time.perf_counter()
        model = keras.Sequential(build(layer_class))
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss=loss,
            metrics=["accuracy"],
        )
        history = model.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=max_epochs,
            validation_data=(x_test, y_test),
            callbacks=[stop_when_learned(model)],
            verbose=0,
        ).history
        held_out = tuple(float(value) for value in history["val_accuracy"])
        results[name] = RaceResult(
            layer=name,
            accuracy=held_out[-1],
            epochs=len(held_out),
            train_accuracy=tuple(float(value) for value in history["accuracy"]),
            held_out_accuracy=held_out,
            seconds=time.perf_counter() - start,
            model=model,
        )
    return results
