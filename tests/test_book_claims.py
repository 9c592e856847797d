"""Does live Keras (TensorFlow backend) behave as the book's chapters say?

Most claims hold on any device; one that depends on it (cuDNN) asserts what the book says of
a machine without a GPU when none is visible, and what it says of a GPU otherwise.

One test per claim the text of a chapter makes about Keras, named after the chapter that
makes it. The chapters show the same behaviour with executed code; these tests keep the
claims honest when Keras is upgraded without the book being rebuilt.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import warnings

import numpy as np
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lib import reference, tasks  # Keras only inside tasks' functions, after the setup below

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = require_module("keras", "Keras (pip install .[keras])")
layers = keras.layers


@pytest.fixture(autouse=True)
def fresh_keras_session() -> None:
    """Start every test from a clean Keras session and the same random weights (without
    the full garbage collection, half a second a test, that clearing runs by default)."""
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)


def sequences(batch: int = 2, timesteps: int = 5, features: int = 3) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(batch, timesteps, features)).astype("float32")


# --- 02-dense --------------------------------------------------------------------------------


def test_02_dense_equals_time_distributed_dense_on_3d_input() -> None:
    """On 3-D input, do Dense and TimeDistributed(Dense) with the same weights give the same
    output shape and the same numbers, so the wrapper is unnecessary?"""
    x = sequences(3, 10, 8)
    plain = layers.Dense(16)
    wrapped = layers.TimeDistributed(layers.Dense(16))
    plain_out = np.asarray(plain(x))
    wrapped.build(x.shape)
    wrapped.layer.set_weights(plain.get_weights())
    wrapped_out = np.asarray(wrapped(x))
    assert plain_out.shape == wrapped_out.shape == (3, 10, 16)
    assert wrapped.count_params() == plain.count_params()
    np.testing.assert_allclose(wrapped_out, plain_out, atol=1e-5)


def test_02_dense_docstring_states_activation_of_dot_plus_bias() -> None:
    """Does Keras's Dense docstring describe the layer in the one line chapter 02 quotes,
    output = activation(dot(input, kernel) + bias)?"""
    doc = " ".join(layers.Dense.__doc__.split())
    assert "`output = activation(dot(input, kernel) + bias)`" in doc


def test_02_dense_docstring_no_longer_says_rank_3_input_is_flattened() -> None:
    """Does Keras 3's Dense docstring, unlike Keras 2's ("is flattened prior to the initial
    dot product with `kernel`"), say nothing of flattening, and describe the product along
    the last axis of the input instead?"""
    doc = " ".join(layers.Dense.__doc__.split())
    assert "flattened" not in doc
    assert "along the last axis of the `inputs`" in doc


# --- 04-lstm ---------------------------------------------------------------------------------


def test_04_cudnn_conditions_are_the_seven_the_chapter_lists() -> None:
    """Does Keras's LSTM docstring list exactly the seven cuDNN conditions chapter 04 prints
    and cites by number, use_bias=True among them, and does the TensorFlow backend refuse
    cuDNN without a bias, as it does with another activation or recurrent_activation, or
    with unroll=True?"""
    doc = keras.layers.LSTM.__doc__
    listed = doc[doc.index("The requirements") : doc.index("For example")]
    conditions = [line.strip() for line in listed.splitlines() if re.match(r"\s*\d+\.", line)]
    assert conditions == [
        "1. `activation` == `tanh`",
        "2. `recurrent_activation` == `sigmoid`",
        "3. `recurrent_dropout` == 0",
        "4. `unroll` is `False`",
        "5. `use_bias` is `True`",
        "6. Inputs, if use masking, are strictly right-padded.",
        "7. Eager execution is enabled in the outermost context.",
    ]
    # The module, not the function of the same name that keras.src.backend.tensorflow exports.
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    tanh, sigmoid = keras.activations.tanh, keras.activations.sigmoid
    assert rnn._do_lstm_arguments_support_cudnn(tanh, sigmoid, unroll=False, use_bias=True)
    assert not rnn._do_lstm_arguments_support_cudnn(tanh, sigmoid, unroll=False, use_bias=False)
    # "use_bias=False, like a changed activation, sends the layer back to the plain loop"
    relu, hard_sigmoid = keras.activations.relu, keras.activations.hard_sigmoid
    assert not rnn._do_lstm_arguments_support_cudnn(relu, sigmoid, unroll=False, use_bias=True)
    assert not rnn._do_lstm_arguments_support_cudnn(tanh, hard_sigmoid, unroll=False, use_bias=True)
    assert not rnn._do_lstm_arguments_support_cudnn(tanh, sigmoid, unroll=True, use_bias=True)


def test_04_cudnn_eligibility_checks_nothing_about_eager_execution() -> None:
    """Item 7 of the docstring's list ("Eager execution is enabled in the outermost context")
    is left over from tf.keras: does Keras 3 decide on cuDNN from the activations, unroll,
    use_bias (and, in the layer, recurrent_dropout) alone, nowhere asking about eager
    execution?"""
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    assert list(inspect.signature(rnn.cudnn_ok).parameters) == [
        "activation",
        "recurrent_activation",
        "unroll",
        "use_bias",
        "reset_after",
    ]
    deciding = (
        layers.LSTM.__init__,
        layers.LSTM.inner_loop,
        rnn.cudnn_ok,
        rnn.lstm,
        rnn._do_lstm_arguments_support_cudnn,
        rnn._cudnn_lstm,
    )
    for function in deciding:
        assert "eager" not in inspect.getsource(function).lower(), function.__qualname__
    assert "if not self.recurrent_dropout:" in inspect.getsource(layers.LSTM.inner_loop)
    # the chapter: items 1, 2, 4 and 5 are what cudnn_ok checks "(with a GPU present)"
    assert "return args_supported and _is_gpu_available()" in inspect.getsource(rnn.cudnn_ok)


def test_04_clipnorm_scales_each_gradient_down_to_the_norm() -> None:
    """Does keras.optimizers.Adam accept clipnorm=1.0, and does an optimizer with clipnorm
    scale a weight's gradient of norm 10 down to norm 1 before the update (plain SGD with
    learning rate 1 shows the step), leaving a gradient under the norm as it is?"""
    assert keras.optimizers.Adam(clipnorm=1.0).get_config()["clipnorm"] == 1.0
    for gradient, step in (([6.0, 8.0], [0.6, 0.8]), ([0.3, 0.4], [0.3, 0.4])):
        weight = keras.Variable(np.zeros(2, dtype="float32"))
        optimizer = keras.optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
        optimizer.apply_gradients([(np.array(gradient, dtype="float32"), weight)])
        np.testing.assert_allclose(np.asarray(weight), -np.array(step), atol=1e-6)


def test_04_07_stateful_carries_the_states_but_not_the_gradient() -> None:
    """With stateful=True, does the second chunk start from the first chunk's final state
    (its output differs from a fresh start) while no gradient flows back from it into the
    first chunk (truncated backpropagation through time), unlike an explicit
    initial_state handover?"""
    import tensorflow as tf

    x = tf.constant(sequences(2, 6, 3))
    first, second = x[:, :3], x[:, 3:]
    stateful = layers.LSTM(4, stateful=True)
    stateful(keras.Input(batch_shape=(2, 3, 3)))
    fresh = np.asarray(stateful(second))
    stateful.reset_state()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(first)
        stateful(first)
        carried = stateful(second)
        loss = tf.reduce_sum(carried)
    assert not np.allclose(np.asarray(carried), fresh)
    assert tape.gradient(loss, first) is None
    handover = layers.LSTM(4, return_state=True)
    handover.build(first.shape)
    handover.set_weights(stateful.get_weights())
    with tf.GradientTape() as tape:
        tape.watch(first)
        _, h, c = handover(first)
        loss = tf.reduce_sum(handover(second, initial_state=[h, c])[0])
    assert tape.gradient(loss, first) is not None
    np.testing.assert_allclose(handover(second, initial_state=[h, c])[0], carried, atol=1e-6)


def test_04_unit_forget_bias_sets_the_forget_block_to_one() -> None:
    """With unit_forget_bias=True (the default), is the forget block (the second of i, f, c̃,
    o) of a fresh LSTM's bias all ones, not zeros, and all zeros with the flag off?"""
    for flag, forget in ((True, 1.0), (False, 0.0)):
        layer = layers.LSTM(3, unit_forget_bias=flag)
        layer.build((None, 5, 2))
        blocks = layer.get_weights()[2].reshape(4, 3)
        np.testing.assert_array_equal(blocks[1], np.full(3, forget))
        np.testing.assert_array_equal(blocks[[0, 2, 3]], np.zeros((3, 3)))
    assert inspect.signature(layers.LSTM).parameters["unit_forget_bias"].default is True


def test_04_unit_forget_bias_does_not_force_zeros_on_bias_initializer() -> None:
    """With unit_forget_bias=True and bias_initializer=Constant(0.5), do the i, c̃ and o blocks
    keep 0.5 (the docstring's "force bias_initializer='zeros'" notwithstanding) while the
    forget block is 1, not 0.5 + 1?"""
    layer = layers.LSTM(2, bias_initializer=keras.initializers.Constant(0.5))
    layer.build((None, 5, 3))
    blocks = layer.get_weights()[2].reshape(4, 2)
    np.testing.assert_array_equal(blocks, [[0.5, 0.5], [1.0, 1.0], [0.5, 0.5], [0.5, 0.5]])
    assert 'force `bias_initializer="zeros"`' in " ".join(layers.LSTM.__doc__.split())


def test_04_unit_forget_bias_is_the_one_jozefowicz_et_al_recommend() -> None:
    """Does the docstring's entry for unit_forget_bias say that it adds 1 to the forget
    gate's bias at initialization and that this is recommended in Jozefowicz et al., as
    chapter 04 says when it calls their forget bias of 1 Keras's unit_forget_bias?"""
    doc = " ".join(layers.LSTM.__doc__.split())
    entry = doc[doc.index("unit_forget_bias:") : doc.index("kernel_regularizer:")]
    assert "add 1 to the bias of the forget gate at initialization" in entry
    assert "This is recommended in [Jozefowicz et al.]" in entry


# --- 05-return-flags -------------------------------------------------------------------------


def test_05_lstm_initial_state_without_c_raises() -> None:
    """Does an LSTM handed initial_state=[h] alone raise (an IndexError, "list index out of
    range") rather than start its cell state from zeros?"""
    layer = layers.LSTM(2, return_sequences=True, return_state=True)
    data = np.array([0.1, 0.2, 0.3], dtype="float32").reshape((1, 3, 1))
    _, h, _ = layer(data[:, :2])
    with pytest.raises(IndexError, match="list index out of range"):
        layer(data[:, 2:], initial_state=[h])


def test_05_model_rejects_keras1_input_output_keywords() -> None:
    """Does keras.Model refuse Keras 1's input=/output= keywords and accept inputs=/outputs=,
    or both passed positionally (chapter 09: "or pass both positionally")?"""
    inputs = keras.Input(shape=(3, 1))
    outputs = layers.LSTM(2)(inputs)
    # chapter 09: "A `ValueError` that lists the keywords it did not recognise"
    with pytest.raises(ValueError, match="Unrecognized keyword arguments") as caught:
        keras.Model(input=inputs, output=outputs)
    assert "'input':" in str(caught.value) and "'output':" in str(caught.value)
    assert keras.Model(inputs=inputs, outputs=outputs).output_shape == (None, 2)
    assert keras.Model(inputs, outputs).output_shape == (None, 2)


@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(1, 3),
    features=st.integers(1, 4),
    timesteps=st.integers(1, 6),
    units=st.integers(1, 4),
)
def test_05_repeat_vector_makes_one_vector_a_sequence(batch, features, timesteps, units):
    """Chapter 05, "One vector in, a sequence out": "`RepeatVector(n)` turns it into
    `(batch, n, features)`, the same vector at every step, with no weights, and an LSTM with
    `return_sequences=True` then returns `(batch, n, units)`"."""
    vector = np.random.default_rng(features).normal(size=(batch, features)).astype("float32")
    repeat = layers.RepeatVector(timesteps)
    repeated = np.asarray(repeat(vector))
    assert repeated.shape == (batch, timesteps, features)
    assert repeat.count_params() == 0 and repeat.weights == []
    for t in range(timesteps):
        np.testing.assert_array_equal(repeated[:, t], vector)
    lstm = layers.LSTM(units, return_sequences=True)
    assert np.asarray(lstm(repeated)).shape == (batch, timesteps, units)


def test_05_one_to_many_lstm_refuses_a_vector_and_its_steps_differ() -> None:
    """Chapter 05, "One vector in, a sequence out": "a recurrent layer refuses a
    `(batch, features)` vector" ("expected ndim=3, found ndim=2"), and after `RepeatVector`
    the LSTM's outputs are "different at every step because its state moves"."""
    one_vector = np.array([[0.5]], dtype="float32")
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layers.LSTM(2, return_sequences=True)(one_vector)
    generator = keras.Sequential(
        [keras.Input((1,)), layers.RepeatVector(3), layers.LSTM(2, return_sequences=True)]
    )
    steps = np.asarray(generator(one_vector))[0]
    assert steps.shape == (3, 2)
    assert not np.allclose(steps[0], steps[1]) and not np.allclose(steps[1], steps[2])


# --- 06-embedding ----------------------------------------------------------------------------


def test_06_embedding_wraps_negative_ids() -> None:
    """Does an Embedding read a negative id -k (1 <= k <= input_dim) as row input_dim - k,
    without an error and without zeros, where an id >= input_dim, or below -input_dim,
    fails on the CPU, the error naming the position and the valid range?"""
    import tensorflow as tf

    layer = layers.Embedding(5, 3)
    rows = np.asarray(layer(np.array([[-1, -5, 2]])))[0]
    table = layer.get_weights()[0]
    np.testing.assert_array_equal(rows, table[[4, 0, 2]])
    assert not (rows == 0).any()
    # the chapter: "on a CPU ... naming the position and the valid range" (the id 5 at
    # [0, 2]); a GPU would give zeros, as the chapter says, so the claim is held on the CPU
    with tf.device("/CPU:0"):
        with pytest.raises(Exception, match=r"indices\[0,2\] = 5 is not in \[0, 5\)") as caught:
            layer(np.array([[1, 2, 5]]))
        assert type(caught.value).__name__ == "InvalidArgumentError"
        with pytest.raises(Exception, match=r"is not in \[0, 5\)") as caught:
            layer(np.array([[1, 2, -6]]))
        assert type(caught.value).__name__ == "InvalidArgumentError"


def test_06_an_id_below_minus_input_dim_is_reported_after_keras_adds_input_dim() -> None:
    """Does the error for an id below -input_dim name the index after Keras added input_dim
    (-6 on a 5-row table is reported as -1), the index the chapter tells readers to expect
    in the message, not the id they passed?"""
    import tensorflow as tf

    layer = layers.Embedding(5, 3)
    too_negative = -layer.input_dim - 1
    with tf.device("/CPU:0"):
        with pytest.raises(Exception, match=r"GatherV2") as caught:
            layer(np.array([[too_negative]]))
    message = str(caught.value)
    assert f"indices[0,0] = {too_negative + layer.input_dim} is not in [0, 5)" in message
    assert f"= {too_negative} " not in message


def masked_padded_sequences() -> tuple[np.ndarray, np.ndarray]:
    """Two sequences of 5 steps, the second with its last two steps masked as padding."""
    mask = np.array([[True, True, True, True, False], [True, True, True, False, False]])
    return sequences(2, 5, 3), mask


def test_06_plain_lstm_repeats_its_output_at_masked_steps() -> None:
    """On the CPU, does a plain LSTM(return_sequences=True) (zero_output_for_mask=False)
    repeat its last unmasked output at the masked steps?"""
    x, mask = masked_padded_sequences()
    layer = layers.LSTM(2, return_sequences=True)
    assert layer.zero_output_for_mask is False
    out = np.asarray(layer(x, mask=mask))
    np.testing.assert_array_equal(out[1, 3], out[1, 2])
    np.testing.assert_array_equal(out[1, 4], out[1, 2])
    np.testing.assert_array_equal(out[0, 4], out[0, 3])
    assert np.abs(out[1, 2]).sum() > 0


def test_06_bidirectional_writes_zeros_at_masked_steps() -> None:
    """Does Bidirectional set zero_output_for_mask=True on both copies when they return
    sequences, so both halves of its output are zeros at masked steps?"""
    x, mask = masked_padded_sequences()
    wrapper = layers.Bidirectional(layers.LSTM(2, return_sequences=True))
    out = np.asarray(wrapper(x, mask=mask))
    assert wrapper.forward_layer.zero_output_for_mask is True
    assert wrapper.backward_layer.zero_output_for_mask is True
    np.testing.assert_array_equal(out[1, 3:], np.zeros((2, 4)))
    np.testing.assert_array_equal(out[0, 4:], np.zeros((1, 4)))
    assert (np.abs(out[1, :3]).sum(axis=-1) > 0).all()


def test_06_masking_masks_a_step_only_when_every_feature_is_the_mask_value() -> None:
    """Does Masking mask a step only when every feature equals mask_value (a step where
    only some do is kept), for another mask_value too, with no weights of its own?"""
    x = sequences(2, 5, 3)
    x[1, 3:] = 0.0  # padding
    x[1, 1, :2] = 0.0  # a real step, two of its features 0.0
    x[0, 2] = -1.0
    mask = np.asarray(layers.Masking(mask_value=0.0).compute_mask(x))
    assert mask.tolist() == [[True] * 5, [True, True, True, False, False]]
    other = np.asarray(layers.Masking(mask_value=-1.0).compute_mask(x))
    assert other.tolist() == [[True, True, False, True, True], [True] * 5]
    assert layers.Masking().count_params() == 0


@settings(max_examples=6, deadline=None)
@given(
    units=st.integers(1, 4),
    features=st.integers(1, 3),
    real=st.integers(1, 4),
    padding=st.integers(1, 3),
)
def test_06_lstm_after_masking_ends_in_the_state_of_the_unpadded_sequence(
    units: int, features: int, real: int, padding: int
) -> None:
    """After Masking, is an LSTM's final h the h it reaches on the sequence without its
    padding, and does the padding change h when no mask is passed?"""
    x = np.random.default_rng(real * 10 + padding).normal(size=(1, real + padding, features))
    x = x.astype("float32")
    x[0, real:] = 0.0
    lstm = layers.LSTM(units, return_state=True)
    inputs = keras.Input(shape=(real + padding, features))
    model = keras.Model(inputs=inputs, outputs=lstm(layers.Masking()(inputs))[1])
    alone = np.asarray(lstm(x[:, :real])[1])
    np.testing.assert_allclose(model.predict(x, verbose=0), alone, atol=1e-6)
    assert not np.allclose(np.asarray(lstm(x)[1]), alone, atol=1e-6)


def test_06_text_vectorization_reserves_padding_and_unknown_and_pads_at_the_end() -> None:
    """Does TextVectorization's vocabulary start with "" (id 0) and "[UNK]" (id 1), lower-case
    and strip punctuation, give 1 to an unseen word, pad with 0 at the end up to
    output_sequence_length, and count both reserved ids in vocabulary_size()?"""
    vectorize = layers.TextVectorization(output_sequence_length=5)
    vectorize.adapt(["the film was good", "the film was bad", "good film"])
    vocabulary = [str(word) for word in vectorize.get_vocabulary()]
    assert vocabulary[:2] == ["", "[UNK]"]
    assert sorted(vocabulary[2:]) == ["bad", "film", "good", "the", "was"]
    ids = {word: i for i, word in enumerate(vocabulary)}
    got = np.asarray(vectorize(["Good FILM!", "film was great"])).tolist()
    assert got == [
        [ids["good"], ids["film"], 0, 0, 0],
        [ids["film"], ids["was"], 1, 0, 0],
    ]
    assert vectorize.vocabulary_size() == len(vocabulary) == 5 + 2
    assert vectorize.count_params() == 0


def test_06_embedding_after_text_vectorization_masks_padding_not_unknown_words() -> None:
    """With input_dim = vocabulary_size() and mask_zero=True, does the Embedding accept every
    id TextVectorization gives and mask the padding only, not an [UNK] word?"""
    vectorize = layers.TextVectorization(output_sequence_length=5)
    vectorize.adapt(["the film was good", "good film"])
    ids = vectorize(["film was great", "the film was good"])
    embedding = layers.Embedding(vectorize.vocabulary_size(), 3, mask_zero=True)
    assert np.asarray(embedding(ids)).shape == (2, 5, 3)
    mask = np.asarray(embedding.compute_mask(ids)).tolist()
    assert mask == [[True, True, True, False, False], [True, True, True, True, False]]


def test_06_pad_sequences_pads_at_the_start_and_a_cpu_mask_handles_either_side() -> None:
    """Does keras.utils.pad_sequences put the zeros first by default (padding="pre") and
    last with padding="post", and does a masked LSTM on the CPU give the padded sentence's
    final h the h of the sentence alone, for either side?"""
    sentences = [[1, 2, 3, 4], [2, 3, 4]]
    assert inspect.signature(keras.utils.pad_sequences).parameters["padding"].default == "pre"
    np.testing.assert_array_equal(
        keras.utils.pad_sequences(sentences), [[1, 2, 3, 4], [0, 2, 3, 4]]
    )
    post = keras.utils.pad_sequences(sentences, padding="post")
    np.testing.assert_array_equal(post, [[1, 2, 3, 4], [2, 3, 4, 0]])
    embedding = layers.Embedding(5, 3, mask_zero=True)
    lstm = layers.LSTM(2)
    alone = np.asarray(lstm(embedding(np.array([[2, 3, 4]]))))
    for padding in ("pre", "post"):
        ids = keras.utils.pad_sequences(sentences, padding=padding)
        vectors = embedding(ids)
        h = np.asarray(lstm(vectors, mask=embedding.compute_mask(ids)))
        np.testing.assert_allclose(h[1], alone[0], atol=1e-6)


def test_06_cudnn_path_asserts_a_right_padded_mask() -> None:
    """Does the TensorFlow backend's cuDNN path (for LSTM and GRU) assert its mask, and does
    that assertion fail for a left-padded mask, and for a right-padded batch holding a
    sequence with no real step, with an InvalidArgumentError whose message contains the
    sentence the chapter quotes and suggests use_cudnn=False, while passing a right-padded
    one?"""
    import tensorflow as tf

    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    for fused in (rnn._cudnn_lstm, rnn._cudnn_gru):
        assert "_assert_valid_mask(mask)" in inspect.getsource(fused)
    rnn._assert_valid_mask(tf.constant([[True, True, True, True], [True, True, True, False]]))
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        rnn._assert_valid_mask(tf.constant([[True, True, True, True], [False, True, True, True]]))
    message = str(caught.value)
    assert (
        "You are passing a RNN mask that does not correspond to right-padded sequences, "
        "while using cuDNN, which is not supported" in message
    )
    assert "use_cudnn=False" in message.rstrip().rsplit(". ", 1)[-1]  # its last sentence
    # the chapter says the message contains the sentence: TensorFlow's assertion comes first
    assert not message.startswith("You are passing")
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded sequences"):
        rnn._assert_valid_mask(tf.constant([[True, True, False], [False, False, False]]))


# --- 07-gru-bidirectional --------------------------------------------------------------------


def test_07_gru_reset_after_defaults_to_true() -> None:
    """Is reset_after=True the GRU's default, in its signature and on a fresh layer?"""
    assert inspect.signature(layers.GRU).parameters["reset_after"].default is True
    assert layers.GRU(4).reset_after is True


def test_07_gru_bias_has_an_input_row_and_a_recurrent_row() -> None:
    """Is a default GRU's bias of shape (2, 3 * units), and (3 * units,) with
    reset_after=False?"""
    for reset_after, shape in ((True, (2, 12)), (False, (12,))):
        layer = layers.GRU(4, reset_after=reset_after)
        layer.build((None, 5, 3))
        assert layer.get_weights()[2].shape == shape
        assert layer.cell.bias.shape == shape


def test_07_gru_gate_biases_add_but_the_candidate_recurrent_bias_is_reset() -> None:
    """With reset_after=True, does moving the z and r blocks of the recurrent bias (row 1)
    into the input bias (row 0) leave the output unchanged, while moving the candidate's
    block changes it (b'_h sits inside the bracket scaled by r)?"""
    x = sequences()
    layer = layers.GRU(
        4, return_sequences=True, bias_initializer=keras.initializers.RandomNormal(seed=1)
    )
    before = np.asarray(layer(x))
    kernel, recurrent, bias = layer.get_weights()
    same = {}
    for name, block in (("z and r", slice(0, 8)), ("h", slice(8, 12))):
        moved = bias.copy()
        moved[0, block] += moved[1, block]
        moved[1, block] = 0
        layer.set_weights([kernel, recurrent, moved])
        same[name] = np.allclose(np.asarray(layer(x)), before, atol=1e-6)
    assert same == {"z and r": True, "h": False}


def test_07_bidirectional_reverses_the_backward_sequence_in_time() -> None:
    """Is the backward half of Bidirectional(LSTM(return_sequences=True)) the output of a
    go_backwards=True LSTM with the same weights reversed in time, so that step t of both
    halves belongs to x_t?"""
    x = sequences()
    wrapper = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=None)
    _, backward_half = (np.asarray(t) for t in wrapper(x))
    backward = layers.LSTM(4, return_sequences=True, go_backwards=True)
    backward.build(x.shape)
    backward.set_weights(wrapper.backward_layer.get_weights())
    processing_order = np.asarray(backward(x))
    np.testing.assert_allclose(backward_half, processing_order[:, ::-1], atol=1e-6)
    assert not np.allclose(backward_half, processing_order, atol=1e-6)


# --- 04-lstm: why gates ----------------------------------------------------------------------


def _gradient_decay_per_step(make_layer, timesteps: int = 40) -> float:
    """Chapter 04's measurement: the mean factor by which the gradient of the final output
    shrinks per step back, over five fresh layers on 32 random sequences of 8 features."""
    from lstm_lib import tasks

    x = np.random.default_rng(1).normal(size=(32, timesteps, 8)).astype("float32")
    mean = tasks.input_gradient_norms(make_layer, x, seeds=range(5)).mean(axis=0)
    return float((mean[0] / mean[-1]) ** (1 / (timesteps - 1)))


@pytest.mark.slow
def test_04_simplernn_input_gradient_shrinks_faster_than_the_lstms() -> None:
    """With chapter 04's settings, does a fresh SimpleRNN's input gradient shrink with the
    distance from the last step geometrically and faster than a fresh LSTM's, and does a
    forget bias of 3 instead of 1 keep the LSTM's gradient near its size?"""

    def open_forget_gate():
        layer = layers.LSTM(16)
        layer.build((32, 40, 8))
        kernel, recurrent, bias = layer.get_weights()
        bias[16:32] = 3.0
        layer.set_weights([kernel, recurrent, bias])
        return layer

    simple = _gradient_decay_per_step(lambda: layers.SimpleRNN(16))
    lstm = _gradient_decay_per_step(lambda: layers.LSTM(16))
    opened = _gradient_decay_per_step(open_forget_gate)
    assert simple < 0.8  # geometric: about 1e-6 of the last step's gradient after 39 steps
    assert simple < lstm - 0.05
    assert lstm < 0.9  # a fresh LSTM's gradient shrinks too (forget gate near sigmoid(1))
    assert opened > 0.93


@pytest.mark.slow
@pytest.mark.parametrize("seed", tasks.RACE_CLAIM.seeds)
def test_04_race_only_the_gated_layers_learn_the_flagged_value(seed: int) -> None:
    """Chapter 04, "A task only gates can learn": on "remember the flagged value" (30 steps,
    noise of standard deviation 4), "the book's tests run the same race on seeds 0, 1 and 2
    and check that the SimpleRNN stays below 60% while the LSTM and the GRU reach at least
    90%". The chapter glues those seeds and thresholds from ``tasks.RACE_CLAIM``, which this
    test reads too. Seed 0 is the chapter's."""
    claim = tasks.RACE_CLAIM
    race = tasks.train_race(["SimpleRNN", "LSTM", "GRU"], seed=seed)
    accuracy = {name: result.accuracy for name, result in race.items()}
    assert accuracy["SimpleRNN"] < claim.simplernn_below, accuracy
    assert accuracy["LSTM"] >= claim.gated_at_least, accuracy
    assert accuracy["GRU"] >= claim.gated_at_least, accuracy
    max_epochs = inspect.signature(tasks.train_race).parameters["max_epochs"].default
    assert race["SimpleRNN"].epochs == max_epochs  # never reached stop_at's training accuracy


def trained_memory(seed: int):
    """The race's LSTM trained from ``seed``, measured as chapter 04 measures it: on 1,000
    fresh sequences of the task, with its memory units (``|tells_class|`` at least
    ``MEMORY_CLAIM.memory_threshold``)."""
    lstm = tasks.train_race(["LSTM"], seed=seed)["LSTM"].model.layers[0]
    x, y = tasks.flagged_value_task(1000, rng=np.random.default_rng(1), timesteps=30, noise=4.0)
    memory = tasks.flagged_memory(x, y, lstm.get_weights())
    return memory, memory.memory_units(tasks.MEMORY_CLAIM.memory_threshold)


def keeps_both_signs_the_textbook_way(memory, unit) -> bool:
    claim = tasks.MEMORY_CLAIM
    return bool(
        memory.forget_after[:, unit].min() > claim.textbook_forget_above
        and memory.input_after[:, unit].max() < claim.textbook_input_below
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", tasks.MEMORY_CLAIM.seeds)
def test_04_trained_lstm_keeps_the_flagged_value_less_tidily_than_the_sketch(seed: int) -> None:
    """Chapter 04, "What the trained LSTM does with its gates": the list of what "the book's
    tests train the race's LSTM on seeds 0, 1 and 2 and check, on each": at least 8 memory
    units; their forget gate after the flag below 0.8 on average, 0.15 apart between the
    signs; one unit above 0.9 after one sign and below 0.6 after the other; units higher
    after each sign; a final cell state beyond 2; and no unit keeping both signs the
    textbook way. The chapter glues every one of these numbers from ``tasks.MEMORY_CLAIM``,
    which this test reads too."""
    claim = tasks.MEMORY_CLAIM
    memory, keepers = trained_memory(seed)
    forget = memory.forget_after[:, keepers]  # (sign, memory unit)
    assert len(keepers) >= claim.memory_units_at_least, len(keepers)
    assert forget.mean() < claim.forget_mean_below, forget.mean()
    gap = np.abs(forget[1] - forget[0])
    assert gap.mean() >= claim.sign_gap_at_least, gap
    one_sided = (forget.max(axis=0) > claim.latch_above) & (forget.min(axis=0) < claim.latch_below)
    assert one_sided.any(), forget.round(2)
    by = claim.sign_preference_by
    assert (forget[0] > forget[1] + by).any() and (forget[1] > forget[0] + by).any()
    assert np.abs(memory.final_cell[:, keepers]).max() > claim.final_cell_beyond
    assert not any(keeps_both_signs_the_textbook_way(memory, unit) for unit in keepers)


# --- 08-putting-together: a review only gates can read ---------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", tasks.REVIEW_RACE_CLAIM.seeds)
def test_08_review_race_only_the_gated_layers_read_the_verdict(seed: int) -> None:
    """Chapter 08, "A review only gates can read": on reviews of 20 to 25 words whose label is
    the sentiment word right after "verdict:", among distractors, "the book's tests run the
    same race on seeds 0, 1 and 2 and check that the SimpleRNN stays below 65% while the GRU
    and the LSTM reach at least 90%". The chapter glues those seeds and thresholds from
    ``tasks.REVIEW_RACE_CLAIM``, which this test reads too; the race runs with the
    function's defaults, which test_book_sources.py checks are the chapter's settings. Seed 0 is
    the chapter's."""
    claim = tasks.REVIEW_RACE_CLAIM
    race = tasks.train_review_race(["SimpleRNN", "GRU", "LSTM"], seed=seed)
    accuracy = {name: result.accuracy for name, result in race.items()}
    assert accuracy["SimpleRNN"] < claim.simplernn_below, accuracy
    assert accuracy["GRU"] >= claim.gated_at_least, accuracy
    assert accuracy["LSTM"] >= claim.gated_at_least, accuracy
    max_epochs = inspect.signature(tasks.train_review_race).parameters["max_epochs"].default
    assert race["SimpleRNN"].epochs == max_epochs  # never reached stop_at's training accuracy


# --- second edition: 03, 05, 06, 07, 09 ------------------------------------------------------


def test_03_ng_notation_a_t_is_the_simplernn_state_h() -> None:
    """Does Andrew Ng's recurrence a<t> = tanh(W_aa a<t-1> + W_ax x<t> + b_a), on column
    vectors from a<0> = 0, give Keras's SimpleRNN state h_t when W_aa = U.T, W_ax = W.T and
    b_a = b?"""
    x = sequences(2, 5, 3)
    layer = layers.SimpleRNN(4, return_sequences=True)
    states = np.asarray(layer(x))
    kernel, recurrent, bias = layer.get_weights()
    w_ax, w_aa, b_a = kernel.T, recurrent.T, bias[:, None]
    assert w_ax.shape == (4, 3) and w_aa.shape == (4, 4)
    a = np.zeros((4, 2))
    for t in range(5):
        a = np.tanh(w_aa @ a + w_ax @ x[:, t].T + b_a)
        np.testing.assert_allclose(a.T, states[:, t], atol=1e-5)


def test_05_gru_with_both_flags_returns_output_and_h() -> None:
    """Does GRU(2, return_sequences=True, return_state=True) return two tensors, (1, 3, 2)
    and (1, 2), the last step of the first equal to the second?"""
    data = np.array([0.1, 0.2, 0.3], dtype="float32").reshape((1, 3, 1))
    result = layers.GRU(2, return_sequences=True, return_state=True)(data)
    assert len(result) == 2
    output, h = (np.asarray(t) for t in result)
    assert output.shape == (1, 3, 2) and h.shape == (1, 2)
    np.testing.assert_allclose(output[:, -1], h, atol=1e-6)


def test_06_constant_initializer_loads_a_pretrained_matrix_and_trainable_false_freezes_it() -> None:
    """Does Embedding(embeddings_initializer=Constant(matrix), trainable=False) start from
    exactly the matrix (padding row 0 and the <unk> row included), return its rows for the
    ids, count its weights as non-trainable (in model.summary() too), and keep them through
    training?"""
    matrix = np.array(
        [[0.0, 0.0], [0.04, -0.02], [0.9, 0.8], [1.0, 0.9], [-0.8, -0.9]], dtype="float32"
    )
    layer = layers.Embedding(
        5, 2, embeddings_initializer=keras.initializers.Constant(matrix), trainable=False
    )
    ids = np.array([[2, 1, 4, 0, 0, 0]])
    np.testing.assert_array_equal(np.asarray(layer(ids))[0], matrix[[2, 1, 4, 0, 0, 0]])
    np.testing.assert_array_equal(layer.get_weights()[0], matrix)
    model = keras.Sequential(
        [keras.Input(shape=(6,)), layer, layers.LSTM(4), layers.Dense(1, activation="sigmoid")]
    )
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == matrix.size
    assert not layer.trainable_weights
    # the chapter: its weights "still count in the model's total, but they move to the
    # *non-trainable* line of `model.summary()`"
    printed = []
    model.summary(print_fn=lambda line, *_, **__: printed.append(str(line)))
    summary = "\n".join(printed)
    total = model.count_params()
    assert re.search(rf"Total params: {total:,} ", summary)
    assert re.search(rf"Trainable params: {total - matrix.size:,} ", summary)
    assert re.search(rf"Non-trainable params: {matrix.size} ", summary)
    rng = np.random.default_rng(0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    lstm_before = model.layers[1].get_weights()[0].copy()
    model.fit(
        rng.integers(1, 5, size=(16, 6)), rng.integers(0, 2, size=(16, 1)), epochs=2, verbose=0
    )
    np.testing.assert_array_equal(layer.get_weights()[0], matrix)
    assert not np.array_equal(model.layers[1].get_weights()[0], lstm_before)


def test_06_embedding_parameters_for_a_padded_vocabulary() -> None:
    """Does Embedding(5001, 50, mask_zero=True), a 5000-word vocabulary plus padding, hold
    250,050 parameters whatever the sequence length?"""
    for length in (10, 100):
        model = keras.Sequential(
            [keras.Input(shape=(length,)), layers.Embedding(5001, 50, mask_zero=True)]
        )
        assert model.count_params() == 250_050


def test_07_gru_counts_under_both_bias_conventions_and_bidirectional_gru_states() -> None:
    """Does GRU(8) on 5 features hold 360 parameters with reset_after=True and 336 with
    False, and does Bidirectional(GRU(4, return_state=True)) return three tensors, the merged
    output of 8 numbers and each direction's h of 4?"""
    for reset_after, count in ((True, 360), (False, 336)):
        layer = layers.GRU(8, reset_after=reset_after)
        layer.build((None, 7, 5))
        assert layer.count_params() == count
    result = layers.Bidirectional(layers.GRU(4, return_state=True))(sequences(2, 5, 3))
    assert [tuple(t.shape) for t in result] == [(2, 8), (2, 4), (2, 4)]


def test_09_fit_nb_epoch_raises_type_error_and_predict_classes_is_gone() -> None:
    """Does Keras 3 reject fit(..., nb_epoch=5) with a TypeError and have no
    Model.predict_classes?"""
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x, y = np.zeros((4, 4), dtype="float32"), np.zeros((4, 1), dtype="float32")
    # Python's own complaint about the call, as chapter 09 says: not a message of Keras's
    with pytest.raises(TypeError, match=r"fit\(\) got an unexpected keyword argument 'nb_epoch'"):
        model.fit(x, y, nb_epoch=5, verbose=0)
    assert not hasattr(model, "predict_classes")


def test_09_input_shape_on_a_layer_warns_but_still_builds_the_model() -> None:
    """Unlike input_length, do input_shape= and input_dim= on an ordinary layer still work in
    Keras 3: a UserWarning recommending keras.Input, and a Sequential model built with that
    input shape?"""
    for first, shape in (
        (lambda: layers.LSTM(4, input_shape=(3, 1)), (None, 3, 1)),
        (lambda: layers.Dense(4, input_dim=3), (None, 3)),
    ):
        with pytest.warns(UserWarning, match="Do not pass an `input_shape`/`input_dim`"):
            model = keras.Sequential([first(), layers.Dense(1)])
        assert model.built
        assert model.input_shape == shape


def test_09_output_dim_is_a_keyword_of_embedding_not_of_dense_or_the_recurrent_layers() -> None:
    """Is output_dim, Keras 1's name of units for Dense and the recurrent layers, a keyword of
    Embedding only in Keras 3, so that LSTM(output_dim=64) fails with a TypeError?"""
    assert "output_dim" in inspect.signature(layers.Embedding).parameters
    for layer_class in (layers.Dense, layers.SimpleRNN, layers.LSTM, layers.GRU):
        parameters = inspect.signature(layer_class).parameters
        assert "units" in parameters and "output_dim" not in parameters
    with pytest.raises(TypeError, match="units"):
        layers.LSTM(output_dim=64)


def test_09_lstm_and_gru_gates_default_to_sigmoid() -> None:
    """Is recurrent_activation "sigmoid" by default for LSTM and GRU (the Keras 2.3 / TF 2
    default, not the older hard_sigmoid), in the signature and on a fresh layer?"""
    for layer_class in (layers.LSTM, layers.GRU):
        default = inspect.signature(layer_class).parameters["recurrent_activation"].default
        assert default == "sigmoid"
        assert layer_class(2).cell.recurrent_activation is keras.activations.sigmoid


# --- 04-lstm: cell and layer; 08-putting-together: masking ------------------------------------


def test_04_rnn_of_lstmcell_equals_lstm_with_the_same_weights() -> None:
    """Does keras.layers.RNN(keras.layers.LSTMCell(units)), given an LSTM(units)'s weights,
    hold the same weight shapes and return the same outputs, step by step, not close but equal
    (chapter 04: "not close, equal, because it is the same cell doing the same arithmetic")?"""
    x = sequences(1, 30, 2)
    lstm = layers.LSTM(3, return_sequences=True)
    expected = np.asarray(lstm(x))
    looped = layers.RNN(layers.LSTMCell(3), return_sequences=True)
    looped.build(x.shape)
    assert [w.shape for w in looped.get_weights()] == [w.shape for w in lstm.get_weights()]
    looped.set_weights(lstm.get_weights())
    np.testing.assert_array_equal(np.asarray(looped(x)), expected)


def _capstone(mask_zero: bool, timesteps: int | None = 10):
    """Chapter 08's model: Embedding(16, 8) -> LSTM(16, sequences) -> LSTM(8) -> Dense(1)."""
    return keras.Sequential(
        [
            keras.Input(shape=(timesteps,)),
            layers.Embedding(16, 8, mask_zero=mask_zero),
            layers.LSTM(16, return_sequences=True),
            layers.LSTM(8),
            layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_08_mask_zero_adds_no_parameters_and_padding_does_not_change_predictions() -> None:
    """In chapter 08's model, does mask_zero=True leave the count at 2,537, does the masked
    model's prediction for a right-padded review equal its prediction on the review's words
    alone (the upper LSTM's last h is that of the last real step), and does the unmasked
    model's prediction depend on the padding?"""
    masked, unmasked = _capstone(True), _capstone(False)
    assert masked.count_params() == unmasked.count_params() == 2_537
    padded = np.array([[9, 13, 0, 0, 0, 0, 0, 0, 0, 0], [5, 8, 13, 6, 5, 0, 0, 0, 0, 0]])
    mask = np.asarray(masked.layers[0].compute_mask(padded))
    np.testing.assert_array_equal(mask, padded != 0)
    # The same trained-or-not weights on unpadded input: a model with any number of steps.
    flexible = _capstone(True, timesteps=None)
    flexible.set_weights(masked.get_weights())
    unmasked.set_weights(masked.get_weights())
    on_padded = np.asarray(masked(padded))
    for row, ids in enumerate(padded):
        alone = np.asarray(flexible(ids[ids != 0][None]))
        np.testing.assert_allclose(on_padded[row], alone[0], atol=1e-6)
    assert not np.allclose(np.asarray(unmasked(padded)), on_padded, atol=1e-4)


def test_08_numpy_twins_with_the_mask_match_the_masked_keras_model() -> None:
    """Do lstm_lib.reference's twins, with mask=(ids != 0) passed to the two LSTM twins and
    none to the Embedding twin, reproduce the masked capstone model's predictions?"""
    from lstm_lib import reference

    model = _capstone(True)
    ids = np.array([[9, 13, 0, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8, 0, 0]])
    values = ids
    for layer in model.layers:
        options = {"mask": ids != 0} if isinstance(layer, layers.LSTM) else {}
        values = reference.run_layer(
            keras.layers.serialize(layer), layer.get_weights(), values, **options
        )
    np.testing.assert_allclose(values, np.asarray(model(ids)), atol=1e-5)


def test_08_training_metrics_average_the_epoch_and_validation_comes_after_it() -> None:
    """Is fit's training loss for an epoch the mean of the batch losses, each computed with
    the weights before that batch's update, and its validation loss the loss of the weights
    the epoch ended with?"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    before_update = []

    class BatchLoss(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            rows = slice(4 * batch, 4 * batch + 4)
            predicted = np.asarray(self.model(x[rows]))
            before_update.append(float(np.mean((predicted - y[rows]) ** 2)))

    history = model.fit(
        x,
        y,
        batch_size=4,
        epochs=1,
        shuffle=False,
        validation_data=(x, y),
        callbacks=[BatchLoss()],
        verbose=0,
    )
    assert len(before_update) == 4
    np.testing.assert_allclose(history.history["loss"][0], np.mean(before_update), rtol=1e-5)
    after = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], after, rtol=1e-5)
    assert not np.isclose(history.history["loss"][0], after, rtol=1e-3)


# --- 04-lstm: the layer's arguments; 06, 07, 09: devices and Keras 2 names --------------------


def test_04_default_initializers_are_glorot_uniform_orthogonal_and_zeros() -> None:
    """Are an LSTM's defaults glorot_uniform for W (within sqrt(6 / (features + 4 units))),
    orthogonal for U (so that U Uᵀ = I over its (units, 4 units) shape, though one block
    alone is not orthogonal) and zeros for b (but for the forget block's ones that
    unit_forget_bias=True, also a default, adds)?"""
    units, features = 4, 3
    layer = layers.LSTM(units)
    layer.build((None, 5, features))
    config = layer.get_config()
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert config["bias_initializer"]["class_name"] == "Zeros"
    kernel, recurrent, bias = layer.get_weights()
    assert np.abs(kernel).max() <= np.sqrt(6 / (features + 4 * units))
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(units), atol=1e-5)
    block = recurrent[:, :units]
    assert not np.allclose(block @ block.T, np.eye(units), atol=1e-2)
    forget = slice(units, 2 * units)
    assert (bias[forget] == 1).all() and not np.delete(bias, np.r_[forget]).any()
    plain = layers.LSTM(units, unit_forget_bias=False)
    plain.build((None, 5, features))
    assert not plain.get_weights()[2].any()


def test_04_losses_hold_one_penalty_per_weight_regularizer_and_activity_after_a_call() -> None:
    """Does model.losses hold one penalty per weight regularizer as soon as the model is
    built (the kernel's L2 first), and an activity regularizer's only once it is called?"""
    x = sequences(2, 6, 3)
    model = keras.Sequential(
        [
            keras.Input(shape=(6, 3)),
            layers.LSTM(
                4,
                kernel_regularizer=keras.regularizers.L2(0.01),
                recurrent_regularizer=keras.regularizers.L1(0.001),
            ),
        ]
    )
    kernel = model.layers[0].get_weights()[0]
    assert len(model.losses) == 2
    np.testing.assert_allclose(float(model.losses[0]), 0.01 * np.sum(kernel**2), rtol=1e-5)
    active = layers.LSTM(4, activity_regularizer=keras.regularizers.L2(0.01))
    active.build(x.shape)
    assert len(active.losses) == 0
    active(x)
    assert len(active.losses) == 1


def test_04_a_constraint_acts_after_an_update_not_at_creation() -> None:
    """With NonNeg on the kernel, does the fresh W still hold negative entries, and none
    after one step of fit?"""
    model = keras.Sequential(
        [
            keras.Input(shape=(6, 3)),
            layers.LSTM(4, kernel_constraint=keras.constraints.NonNeg()),
            layers.Dense(1),
        ]
    )
    assert model.layers[0].get_weights()[0].min() < 0
    model.compile(optimizer="sgd", loss="mse")
    model.fit(sequences(2, 6, 3), np.zeros((2, 1)), epochs=1, verbose=0)
    assert model.layers[0].get_weights()[0].min() >= 0


def test_04_dropout_masks_only_in_training_with_one_mask_for_every_step() -> None:
    """Do dropout and recurrent_dropout change a training call (two calls differ), leave
    an inference call equal to the same layer without dropout, add no parameters, keep
    one input mask for every timestep of a call, and switch the cell to implementation 1?"""
    x = sequences(2, 6, 3)
    base = layers.LSTM(4, return_sequences=True)
    base_out = np.asarray(base(x))
    dropping = layers.LSTM(4, return_sequences=True, dropout=0.5, recurrent_dropout=0.3, seed=1)
    dropping.build(x.shape)
    dropping.set_weights(base.get_weights())
    first, second = (np.asarray(dropping(x, training=True)) for _ in range(2))
    assert not np.allclose(first, second)
    np.testing.assert_allclose(np.asarray(dropping(x, training=False)), base_out, atol=1e-6)
    assert dropping.count_params() == base.count_params()
    assert dropping.cell.implementation == 1
    # one mask for the call: with the same input at every step and no recurrence, the
    # dropped features are the same at every step, so every step's output is the same
    steady = np.repeat(x[:, :1], 6, axis=1)
    no_memory = layers.LSTM(4, return_sequences=True, dropout=0.5, seed=2)
    no_memory.build(steady.shape)
    kernel, recurrent, bias = no_memory.get_weights()
    # with U = 0 and a closed forget gate, each step's h depends on its own input alone
    bias[4:8] = -1e4  # the forget block: c_{t-1} is forgotten
    no_memory.set_weights([kernel, np.zeros_like(recurrent), bias])
    steps = np.asarray(no_memory(steady, training=True))
    assert not np.allclose(steps, np.asarray(no_memory(steady, training=False)), atol=1e-3)
    np.testing.assert_allclose(steps, np.repeat(steps[:, :1], 6, axis=1), atol=1e-6)


def test_04_recurrent_dropout_alone_switches_the_cell_to_implementation_1() -> None:
    """Does recurrent_dropout by itself switch an LSTM's cell to implementation 1, while
    dropout by itself leaves it at the default, 2, as chapter 04's implementation cell
    prints?"""
    assert layers.LSTM(4, recurrent_dropout=0.3).cell.implementation == 1
    assert layers.LSTM(4, dropout=0.5).cell.implementation == 2
    assert layers.LSTM(4).cell.implementation == 2


def test_04_implementation_is_accepted_but_neither_in_the_signature_nor_saved() -> None:
    """Does Keras 3's LSTM accept implementation=1 and 2 with the same outputs, though its
    signature does not list the keyword and its config does not save it?"""
    x = sequences()
    assert "implementation" not in inspect.signature(layers.LSTM).parameters
    one, two = layers.LSTM(4, implementation=1), layers.LSTM(4, implementation=2)
    one.build(x.shape)
    two.build(x.shape)
    two.set_weights(one.get_weights())
    assert (one.cell.implementation, two.cell.implementation) == (1, 2)
    assert "implementation" not in one.get_config()
    np.testing.assert_allclose(np.asarray(one(x)), np.asarray(two(x)), atol=1e-6)


def test_04_use_cudnn_true_insists_and_changes_speed_not_the_formula() -> None:
    """Chapter 04, `use_cudnn`: on a GPU Keras runs the LSTM as one fused cuDNN kernel,
    "`use_cudnn="auto"` does so when it can; `True` insists", and "`use_cudnn` changes speed,
    not the formula". Where cuDNN cannot run (use_bias=False anywhere; any layer where no GPU
    is visible) does True raise a ValueError while "auto" falls back to Keras's own loop; and
    on a GPU do "auto" and True take the fused kernel, with the outputs of use_cudnn=False?

    Keras marks a layer that ran the fused kernel by turning its ``supports_jit`` off
    (cuDNN is not XLA-compatible); that flag tells which path ran on either machine."""
    import tensorflow as tf

    x = sequences()
    plain = layers.LSTM(4, use_cudnn=False)
    expected = np.asarray(plain(x))
    assert plain.supports_jit  # never the fused kernel, GPU or not

    def like_plain(**options):
        layer = layers.LSTM(4, **options)
        layer.build(x.shape)
        layer.set_weights(plain.get_weights())
        return layer

    with pytest.raises(ValueError, match="cuDNN"):
        layers.LSTM(4, use_cudnn=True, use_bias=False)(x)
    auto, insisting = like_plain(), like_plain(use_cudnn=True)
    # The backend's own test (keras.src.backend.tensorflow.rnn._is_gpu_available).
    if not tf.config.list_logical_devices("GPU"):
        np.testing.assert_allclose(np.asarray(auto(x)), expected, rtol=1e-5, atol=1e-5)
        assert auto.supports_jit  # "auto" fell back to Keras's loop
        with pytest.raises(ValueError, match="cuDNN"):
            insisting(x)
    else:
        # Same formula, another summation order (and TF32 matmuls on recent GPUs): close,
        # not equal; other weights or another gate order would differ by tenths.
        for fused in (auto, insisting):
            np.testing.assert_allclose(np.asarray(fused(x)), expected, rtol=1e-3, atol=1e-3)
            assert not fused.supports_jit  # it took the fused kernel


def test_04_07_stateful_needs_a_fixed_batch_size() -> None:
    """Does a stateful LSTM built on an input without a batch size raise a ValueError, in
    a Sequential model and called on a keras.Input?"""
    with pytest.raises(ValueError, match="batch"):
        keras.Sequential([keras.Input(shape=(6, 3)), layers.LSTM(4, stateful=True)])
    with pytest.raises(ValueError, match="batch"):
        layers.LSTM(4, stateful=True)(keras.Input(shape=(5, 3)))


def test_07_reset_states_is_an_alias_and_a_model_has_neither_name() -> None:
    """Is a recurrent layer's reset_states() the same as reset_state(), while a Keras 3
    model has neither method?"""
    stateful = layers.LSTM(4, stateful=True)
    chunk_input = keras.Input(batch_shape=(2, 5, 3))
    model = keras.Model(chunk_input, stateful(chunk_input))
    zero = [np.asarray(state) for state in stateful.states]
    model(sequences(2, 5, 3))
    assert any(np.asarray(state).any() for state in stateful.states)
    stateful.reset_states()
    for state, start in zip(stateful.states, zero, strict=True):
        np.testing.assert_array_equal(np.asarray(state), start)
    assert "reset_state()" in inspect.getsource(layers.LSTM.reset_states)
    assert not hasattr(model, "reset_states") and not hasattr(model, "reset_state")


def test_06_cudnn_path_writes_zeros_at_padded_steps_and_keeps_the_last_h() -> None:
    """Does the TensorFlow backend's fused LSTM take its sequence lengths from the mask and
    say that the cuDNN kernel fills zeros at padded steps, replacing only the last output
    by the final h (no GPU here, so the source is read)?"""
    rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")
    source = inspect.getsource(rnn._cudnn_lstm)
    assert "_compute_sequence_length_from_mask(mask" in source
    assert "the cudnn kernel will fill zeros for" in source
    assert re.search(r"if sequence_lengths is not None:\s+last_output = h", source)


@pytest.mark.parametrize("module", ["keras.layers.embeddings", "keras.layers.recurrent"])
def test_09_keras2_layer_submodules_are_gone(module: str) -> None:
    """Does importing Keras 2's keras.layers.embeddings or keras.layers.recurrent raise
    ModuleNotFoundError, with no warning first?"""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(module)
    assert [str(warning.message) for warning in caught] == []


def test_09_batch_input_shape_is_an_unrecognized_keyword() -> None:
    """Does Keras 3 reject LSTM(4, stateful=True, batch_input_shape=...) with a ValueError
    naming the keyword, where keras.Input(batch_shape=...) fixes the batch axis?"""
    with pytest.raises(ValueError, match="Unrecognized keyword arguments.*batch_input_shape"):
        layers.LSTM(4, stateful=True, batch_input_shape=(2, 3, 1))
    inputs = keras.Input(batch_shape=(2, 3, 1))
    assert tuple(layers.LSTM(4, stateful=True)(inputs).shape) == (2, 4)


def test_06_09_input_length_warns_is_dropped_and_the_model_builds_on_data() -> None:
    """Does Embedding(..., input_length=...) warn, keep no input_length in its config, and
    leave a Sequential model unbuilt, its summary without a shape or a parameter, until the
    model is called on ids, which builds it?"""
    with pytest.warns(UserWarning, match="input_length"):
        embedding = layers.Embedding(1000, 64, input_length=10)
    assert "input_length" not in embedding.get_config()
    with pytest.warns(UserWarning, match="input_length"):
        model = keras.Sequential([layers.Embedding(1000, 8, input_length=10), layers.LSTM(4)])
    assert not model.built
    # chapter 09: its summary "now has no shapes and no parameters to show"
    printed = []
    model.summary(print_fn=lambda line, *_, **__: printed.append(str(line)))
    summary = "\n".join(printed)
    assert "(None" not in summary and summary.count("0 (unbuilt)") == 2
    assert re.search(r"Total params: 0\b", summary)
    model(np.zeros((2, 10), dtype="int32"))
    assert model.built


# --- 01 to 05: claims of the third edition --------------------------------------------------


@pytest.mark.parametrize("layer_class", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_05_return_state_returns_a_tuple_eager_and_symbolic(layer_class) -> None:
    """With return_state=True, does each recurrent layer return a tuple (not a list), both
    called eagerly on an array and symbolically on keras.Input?"""
    expected = 3 if layer_class is layers.LSTM else 2
    eager = layer_class(2, return_state=True)(sequences(2, 5, 3))
    symbolic = layer_class(2, return_sequences=True, return_state=True)(keras.Input((5, 3)))
    for result in (eager, symbolic):
        assert type(result) is tuple
        assert len(result) == expected


def test_03_one_timestep_keeps_the_feature_order_but_never_recurs() -> None:
    """Fed (1, 1, n), does a SimpleRNN take one step, tanh(x W + b) with U unused, whose
    output changes when the n values are reordered?"""
    values = np.random.default_rng(0).normal(size=100).astype("float32")
    one_step = values.reshape(1, 1, -1)
    layer = layers.SimpleRNN(4)
    out = np.asarray(layer(one_step))
    W, U, b = layer.get_weights()
    np.testing.assert_allclose(out, np.tanh(one_step[:, 0] @ W + b), atol=1e-5)
    layer.set_weights([W, np.zeros_like(U), b])
    np.testing.assert_allclose(np.asarray(layer(one_step)), out, atol=1e-6)
    shuffled = one_step[:, :, np.random.default_rng(1).permutation(values.size)]
    assert not np.allclose(np.asarray(layer(shuffled)), out, atol=1e-3)


def test_04_recurrent_dropout_uses_the_same_mask_at_every_step() -> None:
    """With recurrent_dropout in training, is each sample's h_{t-1} dropped by masks drawn
    once per call, the same at every timestep (one set of masks reproduces every step)?"""
    rate, timesteps = 0.5, 6
    x = sequences(2, timesteps, 3)
    layer = layers.LSTM(1, return_sequences=True, recurrent_dropout=rate, seed=3)
    out = np.asarray(layer(x, training=True))[..., 0]
    assert not np.allclose(out, np.asarray(layer(x, training=False))[..., 0], atol=1e-4)
    W, U, b = layer.get_weights()

    def run(sample: np.ndarray, masks: tuple[float, ...]) -> np.ndarray:
        """The LSTM over one sample, each gate's h_{t-1} scaled by its mask at every step."""
        h, c, steps = np.zeros((1, 1)), np.zeros((1, 1)), []
        for x_t in sample:
            z = [
                x_t[None] @ W_k + b_k + (h * m) @ U_k
                for W_k, U_k, b_k, m in zip(
                    np.split(W, 4, axis=1),
                    np.split(U, 4, axis=1),
                    np.split(b, 4),
                    masks,
                    strict=True,
                )
            ]
            i, f, o = (1 / (1 + np.exp(-z[k])) for k in (0, 1, 3))
            c = f * c + i * np.tanh(z[2])
            h = o * np.tanh(c)
            steps.append(h[0, 0])
        return np.array(steps)

    kept = 1 / (1 - rate)
    for sample, expected in zip(x, out, strict=True):
        candidates = (tuple(kept * k for k in index) for index in np.ndindex(2, 2, 2, 2))
        matches = [m for m in candidates if np.allclose(run(sample, m), expected, atol=1e-5)]
        assert len(matches) == 1


def test_04_predict_runs_the_layer_with_training_false() -> None:
    """Does predict on a model whose LSTM has dropout and recurrent_dropout give the call
    with training=False, the same twice, and not a training call's numbers?"""
    x = sequences(4, 6, 3)
    model = keras.Sequential(
        [
            keras.Input((6, 3)),
            layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1),
        ]
    )
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), predicted, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), predicted, atol=1e-6)
    assert not np.allclose(np.asarray(model(x, training=True)), predicted, atol=1e-4)


def test_04_lstm_docstring_gives_unrolls_speed_and_memory_advice() -> None:
    """Does the LSTM docstring say unrolling can speed up an RNN, is more memory-intensive
    and suits only short sequences, the sentence chapter 4 prints?"""
    doc = " ".join(layers.LSTM.__doc__.split())
    start = doc.index("Unrolling can")
    advice = doc[start : doc.index("short sequences.", start)]
    assert "speed-up" in advice
    assert "memory-intensive" in advice
    assert "only suitable for" in advice


def test_05_unpacking_an_lstms_states_into_two_names_is_pythons_value_error() -> None:
    """Check-yourself answer 2 of chapter 05: does `output, h = LSTM(units,
    return_state=True)(data)` fail in Python's unpacking, with "ValueError: too many values to
    unpack", because the layer returns three tensors?"""
    data = np.array([0.1, 0.2, 0.3], dtype="float32").reshape((1, 3, 1))
    with pytest.raises(ValueError, match="too many values to unpack"):
        output, h = layers.LSTM(2, return_state=True)(data)


def test_05_a_vector_starts_an_lstm_only_as_a_units_wide_state() -> None:
    """Through initial_state=[vector, zeros], does a vector exactly units wide start an LSTM
    (and change its output), while a narrower or wider one fails inside the step?"""
    tf = importlib.import_module("tensorflow")
    layer = layers.LSTM(2, return_sequences=True)
    steps_in = np.zeros((1, 3, 1), dtype="float32")
    vector = np.full((1, layer.units), 0.5, dtype="float32")
    started = np.asarray(layer(steps_in, initial_state=[vector, np.zeros_like(vector)]))
    assert started.shape == (1, 3, layer.units)
    assert not np.allclose(started, np.asarray(layer(steps_in)), atol=1e-4)
    for width in (layer.units - 1, layer.units + 1):
        other = np.full((1, width), 0.5, dtype="float32")
        # the chapter: "a wider one fails inside the step's matrix product", h_{t-1} U
        with pytest.raises(tf.errors.InvalidArgumentError, match="Matrix size-incompatible"):
            layer(steps_in, initial_state=[other, np.zeros_like(other)])


# --- 02 to 09: the remaining claims of the prose ------------------------------------------


def test_02_dense_starts_from_a_random_kernel_and_a_zero_bias_with_no_activation() -> None:
    """Does a fresh Dense hold a random kernel and a zero bias, apply no activation by default
    ("linear": negative outputs stay negative), and keep only its kernel, features × units
    parameters, with use_bias=False?"""
    x = sequences(4, 1, 3)[:, 0]
    layer = layers.Dense(5)
    out = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    assert layer.get_config()["activation"] == "linear"
    assert kernel.shape == (3, 5) and np.unique(kernel).size == kernel.size
    np.testing.assert_array_equal(bias, np.zeros(5))
    np.testing.assert_allclose(out, x @ kernel, atol=1e-6)
    assert (out < 0).any()
    plain = layers.Dense(5, use_bias=False)
    plain.build((None, 3))
    assert [w.shape for w in plain.get_weights()] == [(3, 5)]
    assert plain.count_params() == 3 * 5


def test_03_04_07_recurrent_layers_default_to_tanh() -> None:
    """Is activation "tanh" by default for SimpleRNN, LSTM and GRU, in the signature and on a
    fresh layer's cell?"""
    for layer_class in (layers.SimpleRNN, layers.LSTM, layers.GRU):
        assert inspect.signature(layer_class).parameters["activation"].default == "tanh"
        assert layer_class(2).cell.activation is keras.activations.tanh


@pytest.mark.parametrize("layer_class", ["SimpleRNN", "GRU"])
def test_03_every_recurrent_layer_refuses_2d_input_expecting_ndim_3(layer_class: str) -> None:
    """Does a SimpleRNN (and a GRU), like the LSTM, refuse a (batch, features) table with
    "expected ndim=3, found ndim=2"?"""
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        getattr(layers, layer_class)(4)(sequences(2, 1, 3)[:, 0])


def test_04_use_bias_false_keeps_w_and_u_and_drops_the_4_units_biases() -> None:
    """Does LSTM(2, use_bias=False) on 3 features return two arrays, W (3, 8) and U (2, 8),
    and hold 40 parameters, the 48 of LSTM(2) less its 4 × 2 biases?"""
    plain, biased = layers.LSTM(2, use_bias=False), layers.LSTM(2)
    plain.build((None, 5, 3))
    biased.build((None, 5, 3))
    assert [w.shape for w in plain.get_weights()] == [(3, 8), (2, 8)]
    assert (plain.count_params(), biased.count_params()) == (40, 48)


def test_04_go_backwards_is_the_layer_on_the_reversed_sequence_in_processing_order() -> None:
    """Is an LSTM with go_backwards=True, given a forward LSTM's weights, the forward layer
    run on x[:, ::-1], its outputs left in that processing order (row 0 has read only the
    last timestep of x) rather than flipped back?"""
    x = sequences()
    forward = layers.LSTM(4, return_sequences=True)
    on_reversed = np.asarray(forward(x[:, ::-1]))
    backward = layers.LSTM(4, return_sequences=True, go_backwards=True)
    backward.build(x.shape)
    backward.set_weights(forward.get_weights())
    out = np.asarray(backward(x))
    np.testing.assert_allclose(out, on_reversed, atol=1e-6)
    assert not np.allclose(out, on_reversed[:, ::-1], atol=1e-3)
    np.testing.assert_allclose(out[:, 0], np.asarray(forward(x[:, -1:]))[:, 0], atol=1e-6)


def test_04_unroll_changes_how_not_what() -> None:
    """With the same weights, does unroll=True give the default layer's outputs?"""
    x = sequences()
    base = layers.LSTM(4, return_sequences=True)
    expected = np.asarray(base(x))
    unrolled = layers.LSTM(4, return_sequences=True, unroll=True)
    unrolled.build(x.shape)
    unrolled.set_weights(base.get_weights())
    np.testing.assert_allclose(np.asarray(unrolled(x)), expected, atol=1e-6)


def test_04_an_unrolled_model_refuses_a_second_length_in_predict() -> None:
    """On keras.Input((None, features)), does an unrolled LSTM run eagerly on any length and
    predict on the first length it meets, then refuse a second length in predict (the
    retraced graph leaves the time axis unknown)?"""
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, layers.LSTM(4, unroll=True)(inputs))
    x = sequences()
    assert np.asarray(model(x)).shape == np.asarray(model(x[:, :3])).shape == (2, 4)
    assert model.predict(x, verbose=0).shape == (2, 4)
    with pytest.raises(ValueError, match="Cannot unroll a RNN if the time dimension is undefined"):
        model.predict(x[:, :3], verbose=0)


def test_04_07_stateful_chunks_end_where_the_whole_sequence_ends() -> None:
    """Does a stateful LSTM fed the two halves of a batch of 2 sequences, one call after the
    other, end with the output of one run over the whole sequences (sample k continuing
    sample k), differ when called twice on the same chunk, and after reset_state() give
    the first chunk's output of the first time again?"""
    x = sequences(2, 10, 3)
    stateful = layers.LSTM(4, stateful=True)
    stateful(keras.Input(batch_shape=(2, 5, 3)))
    whole = layers.LSTM(4)
    whole.build(x.shape)
    whole.set_weights(stateful.get_weights())
    first = np.asarray(stateful(x[:, :5]))
    second = np.asarray(stateful(x[:, 5:]))
    np.testing.assert_allclose(second, np.asarray(whole(x)), atol=1e-6)
    assert not np.allclose(np.asarray(stateful(x[:, 5:])), second, atol=1e-4)
    stateful.reset_state()
    for state in stateful.states:
        np.testing.assert_array_equal(np.asarray(state), np.zeros((2, 4)))
    np.testing.assert_allclose(np.asarray(stateful(x[:, :5])), first, atol=1e-6)


def test_05_return_state_gives_the_output_then_h_then_c() -> None:
    """With return_state=True, does an LSTM return [output, h, c], all (batch, units), h
    the same numbers as the output (exactly) and c different, and with return_sequences too
    an output (batch, timesteps, units) whose last step is h; do a GRU and a SimpleRNN
    return [output, h] with h equal to the output, so that `output, h = LSTM(...)` fails?"""
    x = sequences(1, 3, 1)
    result = layers.LSTM(2, return_state=True)(x)
    assert len(result) == 3
    output, h, c = (np.asarray(t) for t in result)
    assert output.shape == h.shape == c.shape == (1, 2)
    np.testing.assert_array_equal(output, h)
    assert result[0] is not result[1]  # the same numbers, in two separate tensors
    assert not np.allclose(c, h, atol=1e-3)
    result = layers.LSTM(2, return_sequences=True, return_state=True)(x)
    output, h, c = (np.asarray(t) for t in result)
    assert (output.shape, h.shape, c.shape) == ((1, 3, 2), (1, 2), (1, 2))
    np.testing.assert_array_equal(output[:, -1], h)
    for layer_class in (layers.GRU, layers.SimpleRNN):
        result = layer_class(2, return_state=True)(x)
        assert len(result) == 2
        np.testing.assert_array_equal(np.asarray(result[0]), np.asarray(result[1]))
    with pytest.raises(ValueError, match="too many values to unpack"):
        output, h = layers.LSTM(2, return_state=True)(x)


def test_05_initial_state_continues_where_the_first_call_stopped() -> None:
    """Does an LSTM run on the first two timesteps, then on the third from
    initial_state=[h, c], end in the h and c of one run over all three?"""
    data = np.array([0.1, 0.2, 0.3], dtype="float32").reshape((1, 3, 1))
    layer = layers.LSTM(2, return_state=True)
    _, h, c = layer(data[:, :2])
    _, h_continued, c_continued = layer(data[:, 2:], initial_state=[h, c])
    _, h_whole, c_whole = layer(data)
    np.testing.assert_allclose(np.asarray(h_continued), np.asarray(h_whole), atol=1e-6)
    np.testing.assert_allclose(np.asarray(c_continued), np.asarray(c_whole), atol=1e-6)


def test_05_08_a_stack_without_return_sequences_below_the_top_is_refused() -> None:
    """Does a second LSTM on a first one with the default flags fail, in the functional API
    and in a Sequential model, with "expected ndim=3, found ndim=2", and does the stack build
    once the lower layer returns sequences, the upper one then reading its units as
    features?"""
    inputs = keras.Input(shape=(3, 1))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layers.LSTM(2)(layers.LSTM(2)(inputs))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        keras.Sequential([keras.Input(shape=(3, 1)), layers.LSTM(16), layers.LSTM(8)])
    lower, upper = layers.LSTM(2, return_sequences=True), layers.LSTM(2)
    model = keras.Model(inputs, upper(lower(inputs)))
    assert model.output_shape == (None, 2)
    assert (lower.count_params(), upper.count_params()) == (32, 40)


def test_06_a_fresh_table_holds_small_random_numbers() -> None:
    """Is a fresh Embedding's table drawn uniformly from [-0.05, 0.05], all rows different?"""
    layer = layers.Embedding(50, 4)
    layer.build((None, 3))
    table = layer.get_weights()[0]
    assert layer.get_config()["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert np.abs(table).max() <= 0.05 and np.unique(table, axis=0).shape == (50, 4)


def test_06_mask_zero_leaves_the_padding_vectors_as_row_zero() -> None:
    """With mask_zero=True, does the Embedding still look the padding id up (row 0 of the
    table, not zeros), giving the same vectors as the layer without the mask, the mask
    itself being False only where the id is 0?"""
    ids = np.array([[3, 1, 0, 0], [2, 4, 1, 0]])
    masked, plain = layers.Embedding(5, 3, mask_zero=True), layers.Embedding(5, 3)
    vectors = np.asarray(masked(ids))
    plain.build(ids.shape)
    plain.set_weights(masked.get_weights())
    table = masked.get_weights()[0]
    np.testing.assert_array_equal(vectors, table[ids])
    np.testing.assert_array_equal(vectors, np.asarray(plain(ids)))
    assert (np.abs(vectors[0, 2:]) > 0).any()
    np.testing.assert_array_equal(np.asarray(masked.compute_mask(ids)), ids != 0)
    assert plain.compute_mask(ids) is None


def test_06_the_lookup_is_tf_gather_which_returns_zeros_for_a_bad_id_on_a_gpu() -> None:
    """Does Embedding look up with keras.ops.take, which on the TensorFlow backend adds the
    table's size to a negative id and calls tf.gather, whose documentation says that on a
    GPU an out-of-range index yields 0 (no GPU here, so the sources are read)?"""
    import tensorflow as tf

    assert "ops.take(self.embeddings, inputs, axis=0)" in inspect.getsource(layers.Embedding.call)
    numpy_backend = importlib.import_module("keras.src.backend.tensorflow.numpy")
    take = inspect.getsource(numpy_backend.take)
    assert "tf.where(i < 0, i + tf.cast(tf.shape(x)[axis], i.dtype), i)" in take
    assert take.rstrip().endswith("return tf.gather(x, indices, axis=axis)")
    caution = " ".join(tf.gather.__doc__.split())
    assert "On CPU, if an out of bound index is found, an error is raised." in caution
    assert "On GPU, if an out of bound index is found, a 0 is stored in the" in caution


def test_07_a_decoder_starts_from_the_encoders_states_and_holds_no_weights_for_them() -> None:
    """In chapter 07's encoder–decoder (source 6 × 3, target 4 × 2, 8 units), does the
    decoder hold 4 × (8 × (8 + 2) + 8) = 352 parameters, no more for reading the states, and
    does its first output step differ for two sources and one target; and does a decoder
    with other units than the encoder fail (when called on data, not when built)?"""
    source, target = keras.Input(shape=(6, 3)), keras.Input(shape=(4, 2))
    encoder = layers.LSTM(8, return_state=True)
    decoder = layers.LSTM(8, return_sequences=True)
    _, h, c = encoder(source)
    model = keras.Model([source, target], decoder(target, initial_state=[h, c]))
    assert decoder.count_params() == 4 * (8 * (8 + 2) + 8) == 352
    assert model.count_params() == encoder.count_params() + 352
    sources = sequences(2, 6, 3)
    same_target = np.repeat(sequences(1, 4, 2), 2, axis=0)
    first_steps = np.asarray(model([sources, same_target]))[:, 0]
    assert not np.allclose(first_steps[0], first_steps[1], atol=1e-4)
    # The units must match: a 4-unit decoder builds on 8-unit states, then fails on data.
    narrow = layers.LSTM(4, return_sequences=True)
    mismatched = keras.Model([source, target], narrow(target, initial_state=[h, c]))
    assert mismatched.output_shape == (None, 4, 4)  # "its output shape looks fine"
    with pytest.raises(Exception, match="Matrix size-incompatible") as caught:
        mismatched([sources, same_target])
    assert type(caught.value).__name__ == "InvalidArgumentError"


@pytest.mark.parametrize("wrap", [False, True])
def test_08_one_prediction_per_timestep_keeps_the_parameters(wrap: bool) -> None:
    """With return_sequences=True on both LSTMs of chapter 08's model, does Dense(1), plain
    or in TimeDistributed, give (None, 10, 1) with the original 2,537 parameters?"""
    head = layers.Dense(1, activation="sigmoid")
    model = keras.Sequential(
        [
            keras.Input(shape=(10,)),
            layers.Embedding(16, 8, mask_zero=True),
            layers.LSTM(16, return_sequences=True),
            layers.LSTM(8, return_sequences=True),
            layers.TimeDistributed(head) if wrap else head,
        ]
    )
    assert model.output_shape == (None, 10, 1)
    assert model.count_params() == _capstone(True).count_params() == 2_537


def test_09_hard_sigmoid_is_relu6_of_z_plus_3_over_6() -> None:
    """Is Keras 3's hard_sigmoid relu6(z + 3) / 6 = clip(z / 6 + 0.5, 0, 1): 0 from z = -3,
    1 from z = 3, 2/3 at z = 1 (where Keras 2's clip(0.2 z + 0.5, 0, 1) gave 0.7)?"""
    z = np.linspace(-5, 5, 41, dtype="float32")
    got = np.asarray(keras.activations.hard_sigmoid(z))
    np.testing.assert_allclose(got, np.clip(z / 6 + 0.5, 0, 1), atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(keras.activations.relu6(z + 3)) / 6, atol=1e-6)
    at = dict(zip(z.tolist(), got.tolist(), strict=True))
    assert (at[-3.0], at[3.0]) == (0.0, 1.0) and at[-2.75] > 0 and at[2.75] < 1
    np.testing.assert_allclose(at[1.0], 2 / 3, atol=1e-6)


def test_09_lstm_output_dim_fails_on_the_missing_units_without_naming_output_dim() -> None:
    """Does LSTM(output_dim=64, activation="sigmoid", inner_activation="hard_sigmoid") raise
    Python's TypeError about the missing units, a message that never names output_dim, and
    does LSTM(64, inner_activation=...) then raise Keras's ValueError naming the keyword?"""
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'units'") as e:
        layers.LSTM(output_dim=64, activation="sigmoid", inner_activation="hard_sigmoid")
    assert "output_dim" not in str(e.value)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments.*inner_activation"):
        layers.LSTM(64, activation="sigmoid", inner_activation="hard_sigmoid")


def test_04_a_dropout_seed_makes_the_masks_reproducible() -> None:
    """Do two LSTMs with the same weights, dropout, recurrent_dropout and seed give the same
    training output, and another seed a different one?"""
    x = sequences()
    outputs, weights = [], None
    for seed in (1, 1, 2):
        layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.3, seed=seed)
        layer.build(x.shape)
        weights = weights or layer.get_weights()
        layer.set_weights(weights)
        outputs.append(np.asarray(layer(x, training=True)))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.allclose(outputs[0], outputs[2], atol=1e-4)


def test_04_use_cudnn_false_never_tries_the_fused_kernel() -> None:
    """Does the LSTM try the backend's fused (cuDNN) loop only with use_cudnn "auto" or True,
    so that False always runs Keras's own loop? (The source is read, so the answer does not
    depend on the machine having a GPU.)"""
    source = inspect.getsource(layers.LSTM.inner_loop)
    fused = source.index("backend.lstm(")
    assert source.index('if self.use_cudnn in ("auto", True):') < fused
    assert source.count("backend.lstm(") == 1
    assert inspect.signature(layers.LSTM).parameters["use_cudnn"].default == "auto"


def test_06_training_moves_only_the_rows_of_the_ids_in_the_data() -> None:
    """After an Adam step on a batch holding the ids 0 to 4, have exactly the table's rows 0
    to 4 changed, the rows of ids absent from the data staying as they were?"""
    import tensorflow as tf

    embedding = layers.Embedding(10, 3)
    ids = np.array([[1, 2, 3, 0], [2, 3, 4, 1]])
    embedding.build(ids.shape)
    before = embedding.get_weights()[0]
    optimizer = keras.optimizers.Adam()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(embedding(ids) ** 2)
    gradients = tape.gradient(loss, embedding.trainable_weights)
    optimizer.apply_gradients(zip(gradients, embedding.trainable_weights, strict=True))
    moved = (embedding.get_weights()[0] != before).any(axis=1)
    assert np.flatnonzero(moved).tolist() == [0, 1, 2, 3, 4]


# --- 06 to 09: claims of the third edition ---------------------------------------------------


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_07_bidirectional_doubles_the_count_whatever_the_merge_mode(merge_mode) -> None:
    """Does Bidirectional(LSTM(4)) on 3 features hold twice LSTM(4)'s parameters for every
    merge mode, and is "concat" the default?"""
    assert inspect.signature(layers.Bidirectional).parameters["merge_mode"].default == "concat"
    single = layers.LSTM(4)
    single.build((None, 5, 3))
    wrapper = layers.Bidirectional(layers.LSTM(4), merge_mode=merge_mode)
    wrapper.build((None, 5, 3))
    assert wrapper.count_params() == 2 * single.count_params()


def test_07_bidirectional_merge_mode_none_returns_a_tuple_of_two() -> None:
    """Does Bidirectional(merge_mode=None) return a tuple (y, y_rev), not a list?"""
    result = layers.Bidirectional(layers.LSTM(4), merge_mode=None)(sequences())
    assert type(result) is tuple and len(result) == 2
    assert [tuple(t.shape) for t in result] == [(2, 4), (2, 4)]


@pytest.mark.parametrize(
    ("make", "count"),
    [
        (lambda: layers.GRU(4, return_state=True), 2),
        (lambda: layers.LSTM(4, return_state=True), 3),
        (lambda: layers.Bidirectional(layers.GRU(4, return_state=True)), 3),
        (lambda: layers.Bidirectional(layers.LSTM(4, return_state=True)), 5),
        (lambda: layers.Bidirectional(layers.LSTM(4, return_state=True), merge_mode=None), 6),
    ],
)
def test_07_return_state_returns_a_tuple(make, count: int) -> None:
    """With return_state=True, do GRU, LSTM and Bidirectional return a tuple of 2, 3, 3 (GRU
    inside), 5 (LSTM inside) and 6 (LSTM inside, merge_mode=None) tensors?"""
    result = make()(sequences())
    assert type(result) is tuple and len(result) == count


def test_06_list_devices_names_each_device_by_its_type() -> None:
    """Does keras.distribution.list_devices() name devices as 'cpu:0' or 'gpu:0', as ch06's
    device check reads them?"""
    devices = keras.distribution.list_devices()
    assert devices and all(re.fullmatch(r"(cpu|gpu|tpu):\d+", d.lower()) for d in devices)


def test_09_argmax_over_one_sigmoid_column_is_always_zero() -> None:
    """Does np.argmax over the (batch, 1) output of a sigmoid unit answer 0 for every input?"""
    head = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    probabilities = head.predict(np.random.default_rng(1).normal(size=(6, 4)), verbose=0)
    assert probabilities.shape == (6, 1)
    assert not np.argmax(probabilities, axis=-1).any()


# --- 02 to 08: sentences of the prose that no test held to Keras yet ----------------------------


def test_02_dense_treats_each_timestep_on_its_own_with_weights_from_the_last_axis() -> None:
    """Chapter 02: "Each timestep goes through the same W and b, on its own: the output at
    step t depends only on the input at step t", and `layer.build` "only needed the last axis
    of the input": does Dense on 3-D input equal its calls on each timestep, does changing one
    timestep change that step's output only, and are the weights the same shapes whatever
    the batch size and the number of timesteps?"""
    x = sequences(2, 5, 8)
    layer = layers.Dense(16)
    whole = np.asarray(layer(x))
    per_step = np.stack([np.asarray(layer(x[:, t])) for t in range(5)], axis=1)
    np.testing.assert_allclose(whole, per_step, atol=1e-6)
    changed = x.copy()
    changed[:, 3] += 1.0
    moved = np.abs(np.asarray(layer(changed)) - whole).max(axis=(0, 2)) > 1e-4
    assert moved.tolist() == [False, False, False, True, False]
    weight_shapes = set()
    for input_shape in ((None, 8), (7, 8), (None, 10, 8), (None, 1000, 8)):
        other = layers.Dense(16)
        other.build(input_shape)
        weight_shapes.add(tuple(tuple(w.shape) for w in other.get_weights()))
    assert weight_shapes == {((8, 16), (16,))}


RECURRENT_LAYERS = {
    "SimpleRNN": (lambda: layers.SimpleRNN(3, return_sequences=True), 1),
    "GRU": (lambda: layers.GRU(3, return_sequences=True), 1),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True), 2),
    "RNN(LSTMCell)": (lambda: layers.RNN(layers.LSTMCell(3), return_sequences=True), 2),
}


@pytest.mark.parametrize("name", sorted(RECURRENT_LAYERS))
def test_03_04_07_a_call_starts_from_zero_states_unless_given_initial_state(name: str) -> None:
    """Chapter 07: "Every recurrent layer starts from zero states unless it is called with
    `initial_state=`" (chapter 03's h_0 = 0; chapter 04: "Normally every call starts from zero
    states", and `RNN(cell)` runs the cell "starting from zero states"): is a call without
    initial_state the call from zeros, and a call from other states a different one?"""
    make, n_states = RECURRENT_LAYERS[name]
    layer = make()
    x = sequences(2, 4, 3)
    plain = np.asarray(layer(x))
    zeros = [np.zeros((2, 3), dtype="float32")] * n_states
    np.testing.assert_array_equal(np.asarray(layer(x, initial_state=zeros)), plain)
    halves = [np.full((2, 3), 0.5, dtype="float32")] * n_states
    assert not np.allclose(np.asarray(layer(x, initial_state=halves)), plain, atol=1e-3)


def test_03_one_model_reads_sequences_of_any_length() -> None:
    """Chapter 03: the weights "are created from `features` and `units` alone and reused at
    every step. That is also why one model can read sequences of different lengths": does one
    model on keras.Input((None, features)) hold the count of the same layer on a fixed length,
    and predict on 9 timesteps and on their first 5, the second answer being the state the
    same weights hold after step 5 of the 9?"""
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, layers.SimpleRNN(4)(inputs))
    fixed = keras.Sequential([keras.Input((5, 3)), layers.SimpleRNN(4)])
    assert model.count_params() == fixed.count_params()
    long = sequences(2, 9, 3)
    short_out = model.predict(long[:, :5], verbose=0)
    assert short_out.shape == model.predict(long, verbose=0).shape == (2, 4)
    every_step = layers.SimpleRNN(4, return_sequences=True)
    every_step.build(long.shape)
    every_step.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(every_step(long))[:, 4], short_out, atol=1e-6)


def test_07_bidirectional_copies_read_opposite_ways_with_separate_weights() -> None:
    """Chapter 07: "`Bidirectional(layer)` makes two copies of a recurrent layer with
    separate weights: a forward copy ... and a backward copy, built with `go_backwards=True`",
    and "`bi.get_weights()` lists the forward copy's weights, then the backward copy's": are
    the copies' go_backwards False and True, their weights the same shapes but different
    numbers in different variables (setting one copy's leaves the other's), and the wrapper's
    list the forward three, then the backward three?"""
    wrapper = layers.Bidirectional(layers.LSTM(4))
    wrapper.build((None, 5, 3))
    forward_layer, backward_layer = wrapper.forward_layer, wrapper.backward_layer
    assert (forward_layer.go_backwards, backward_layer.go_backwards) == (False, True)
    forward, backward = forward_layer.get_weights(), backward_layer.get_weights()
    assert [w.shape for w in forward] == [w.shape for w in backward]
    assert not np.allclose(forward[0], backward[0]) and not np.allclose(forward[1], backward[1])
    forward_layer.set_weights([np.zeros_like(w) for w in forward])
    listed = wrapper.get_weights()
    assert len(listed) == 6 and not any(w.any() for w in listed[:3])
    for got, kept in zip(listed[3:], backward, strict=True):
        np.testing.assert_array_equal(got, kept)


def test_08_validation_split_holds_back_a_share_that_is_never_trained_on() -> None:
    """Chapter 08: "let Keras hold back {validation_split} of the training reviews to report a
    validation loss after each epoch": with validation_split=0.2 on 20 samples, does fit train
    on 16 (4 batches of 4) and report as val_loss the loss on the last 4 after the epoch, and
    do targets changed only in those 4 leave the trained weights exactly as they were?"""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    held_back_changed = y.copy()
    held_back_changed[16:] += 10.0
    batches: list[int] = []

    class CountBatches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)

    trained, val_losses = [], []
    for targets in (y, held_back_changed):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
        batches.clear()
        history = model.fit(
            x,
            targets,
            batch_size=4,
            epochs=1,
            validation_split=0.2,
            callbacks=[CountBatches()],
            verbose=0,
        )
        assert len(batches) == 4
        val_loss = history.history["val_loss"][0]
        np.testing.assert_allclose(val_loss, model.evaluate(x[16:], targets[16:], verbose=0))
        trained.append(model.get_weights())
        val_losses.append(val_loss)
    for first, second in zip(*trained, strict=True):
        np.testing.assert_array_equal(first, second)
    assert val_losses[1] > val_losses[0] + 50


# --- claims found untested on a reader's pass ------------------------------------------------


def test_02_normalization_layers_add_their_own_offset() -> None:
    """Chapter 02: `use_bias=False` "is common just before a normalization layer, which adds
    its own offset". Do BatchNormalization and LayerNormalization hold an offset `beta` by
    default, and does it shift their output as a bias would?"""
    x = sequences(4, 1, 3)[:, 0]
    for make in (layers.BatchNormalization, layers.LayerNormalization):
        layer = make()
        layer.build(x.shape)
        assert "beta" in [w.path.rsplit("/", 1)[-1] for w in layer.weights], make.__name__
        before = np.asarray(layer(x, training=False))
        layer.beta.assign(np.full(layer.beta.shape, 2.0, dtype="float32"))
        np.testing.assert_allclose(np.asarray(layer(x, training=False)), before + 2.0, atol=1e-5)


def test_07_gru_update_gate_weighs_the_old_state() -> None:
    """Chapter 07: "in Keras, `z` weighs the *old* state", h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h̃.
    With the update gate held at 1 (a large bias on the z block), does a GRU keep the state
    it starts from, and with it held at 0, return its candidate instead?"""
    units = 3
    x = sequences(2, 4, 2)
    start = np.full((2, units), 0.5, dtype="float32")
    for z_bias, keeps_the_start in ((50.0, True), (-50.0, False)):
        layer = layers.GRU(units)
        layer.build(x.shape)
        kernel, recurrent, bias = layer.get_weights()
        bias[0, :units] = z_bias  # the input row's z block: the first units columns
        layer.set_weights([kernel, recurrent, bias])
        out = np.asarray(layer(x, initial_state=[start]))
        assert np.allclose(out, start, atol=1e-5) == keeps_the_start, z_bias


def _halves(wrapper, x, **options):
    """The outputs (and states) of a Bidirectional's two copies, run by hand as plain layers
    with the wrapper's weights: the forward one, then the go_backwards one."""
    inner = type(wrapper.forward_layer)
    units = wrapper.forward_layer.units
    forward = inner(units, **options)
    backward = inner(units, go_backwards=True, **options)
    forward_weights, backward_weights = reference.split_bidirectional_weights(wrapper.get_weights())
    for layer, weights in ((forward, forward_weights), (backward, backward_weights)):
        layer.build(x.shape)
        layer.set_weights(weights)
    return forward(x), backward(x)


def test_07_merge_modes_combine_the_two_halves_as_named() -> None:
    """Chapter 07: "`"concat"` joins them on the last axis, `"sum"`, `"mul"` and `"ave"`
    combine them element by element", and only "concat" doubles the last axis. With the
    wrapper's own weights run by hand, is each mode's output that operation on the forward
    copy's output and the backward copy's?"""
    x = sequences()
    operations = {
        "concat": lambda y, y_rev: np.concatenate([y, y_rev], axis=-1),
        "sum": lambda y, y_rev: y + y_rev,
        "mul": lambda y, y_rev: y * y_rev,
        "ave": lambda y, y_rev: (y + y_rev) / 2,
    }
    for mode, operation in operations.items():
        wrapper = layers.Bidirectional(layers.LSTM(4), merge_mode=mode)
        out = np.asarray(wrapper(x))
        y, y_rev = (np.asarray(t) for t in _halves(wrapper, x))
        assert out.shape[-1] == (8 if mode == "concat" else 4), mode
        np.testing.assert_allclose(out, operation(y, y_rev), atol=1e-5, err_msg=mode)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_07_bidirectional_returns_the_forward_states_then_the_backward_ones(kind: str) -> None:
    """Chapter 07: with return_state=True, Bidirectional(LSTM) returns "(output, forward h,
    forward c, backward h, backward c): all forward states, then all backward states", and
    around a GRU "(output, forward h, backward h)". Run by hand on the wrapper's weights, are
    the states those of the forward copy, then those of the backward one?"""
    x = sequences()
    wrapper = layers.Bidirectional(getattr(layers, kind)(4, return_state=True))
    output, *states = (np.asarray(t) for t in wrapper(x))
    forward, backward = _halves(wrapper, x, return_state=True)
    expected = [np.asarray(t) for t in (*forward[1:], *backward[1:])]
    assert len(states) == len(expected) == (4 if kind == "LSTM" else 2)
    for got, want in zip(states, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)
    joined = np.concatenate([np.asarray(forward[0]), np.asarray(backward[0])], axis=-1)
    np.testing.assert_allclose(output, joined, atol=1e-5)


def test_04_activation_acts_on_the_candidate_and_on_c_before_the_output_gate() -> None:
    """Chapter 04: `activation` "is applied to the candidate `c̃` and to `c_t` before the
    output gate", so h = o ⊙ activation(c). Started from a negative cell state, does a relu
    LSTM return h = 0 wherever its final c is negative (h = o ⊙ c would be negative there)
    and h > 0 where it is positive, and a tanh LSTM an h of the sign of c?"""
    x = sequences(8, 2, 3)
    signs = np.tile([1.0, -1.0], 3)[:5]  # units starting from a positive or a negative c
    start = [np.zeros((8, 5), "float32"), np.tile(5 * signs, (8, 1)).astype("float32")]
    for activation in ("relu", "tanh"):
        layer = layers.LSTM(5, activation=activation, return_state=True)
        _, h, c = (np.asarray(t) for t in layer(x, initial_state=start))
        assert (c < 0).any() and (c > 0).any(), activation
        if activation == "relu":
            np.testing.assert_array_equal(h[c < 0], 0)
            assert (h[c > 0] > 0).all()
        else:
            np.testing.assert_array_equal(np.sign(h), np.sign(c))


def _copy_layer(layer, **changes):
    """Chapter 08's ``copy_layer``: a new layer from ``layer``'s configuration."""
    return type(layer).from_config({**layer.get_config(), **changes})


def test_08_a_layer_copied_from_its_config_has_its_settings_and_fresh_weights() -> None:
    """Chapter 08 copies its model's layers with ``type(layer).from_config({**get_config(),
    **changes})``: "a copy has the same settings and fresh weights", so the unmasked, the
    per-step and the refused stacks differ from the model in the change alone. Does each
    copy of the model's four layers have the layer's configuration (mask_zero, units,
    return_sequences, activation) except the changed setting, and weights of its own, not
    the model's trained ones?"""
    model = _capstone(True)
    copies = [_copy_layer(layer) for layer in model.layers]
    for layer, copy in zip(model.layers, copies, strict=True):
        assert copy is not layer
        assert copy.get_config() == layer.get_config(), type(layer).__name__
    changed = _copy_layer(model.layers[2], return_sequences=True)
    expected = {**model.layers[2].get_config(), "return_sequences": True}
    assert changed.get_config() == expected and changed.return_sequences
    unmasked = _copy_layer(model.layers[0], mask_zero=False)
    assert not unmasked.mask_zero and model.layers[0].mask_zero

    copied = keras.Sequential([keras.Input(shape=(10,)), *copies])
    assert copied.count_params() == model.count_params()
    own = {id(variable) for variable in model.weights}
    assert not any(id(variable) in own for variable in copied.weights)
    # Fresh: the copies start from their own random draw, so setting the model's weights
    # (as training would) leaves them where they were.
    before = [np.asarray(w) for w in copied.get_weights()]
    model.set_weights([w + 1.0 for w in model.get_weights()])
    for start, now in zip(before, copied.get_weights(), strict=True):
        np.testing.assert_array_equal(start, now)
    kernels = [
        (layer.get_weights()[0], copy.get_weights()[0])
        for layer, copy in zip(model.layers, copies, strict=True)
    ]
    assert not any(np.allclose(a, b) for a, b in kernels)


def test_04_fit_minimises_the_regularizers_penalties_along_with_the_loss() -> None:
    """Chapter 04: the penalties in model.losses are what "the optimizer minimises along
    with the loss". Does evaluate's loss add them to the data loss, and does one step of
    fit on targets the model already predicts (no gradient from the data) move exactly
    the regularized kernel, W ← W − lr · 2 · 0.01 · W, and leave the recurrent kernel?"""
    x = sequences(4, 6, 3)
    model = keras.Sequential(
        [
            keras.Input(shape=(6, 3)),
            layers.LSTM(4, kernel_regularizer=keras.regularizers.L2(0.01)),
            layers.Dense(1),
        ]
    )
    learning_rate = 0.1
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    targets = model.predict(x, verbose=0)
    penalty = float(sum(float(loss) for loss in model.losses))
    assert penalty > 0
    np.testing.assert_allclose(model.evaluate(x, targets, verbose=0), penalty, rtol=1e-5)
    kernel, recurrent, bias = model.layers[0].get_weights()
    model.fit(x, targets, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    new_kernel, new_recurrent, new_bias = model.layers[0].get_weights()
    np.testing.assert_allclose(new_kernel, kernel * (1 - learning_rate * 2 * 0.01), atol=1e-6)
    np.testing.assert_array_equal(new_recurrent, recurrent)
    np.testing.assert_array_equal(new_bias, bias)
