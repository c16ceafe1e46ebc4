"""A Keras `GRU` layer's own weights run as an unrolled loop over a fixed length, its input projection hoisted.

On CPU a sentence GRU is a few small matrix products per token, so the cost of a step is mostly the overhead of its
many small ops: the generic Keras RNN loop projects every token's input inside the loop, carries a mask through
`tf.where` at every step, and runs a `while_loop` with its `TensorArray`s (forwards and backwards), and automatic
differentiation adds two to three small ops for each op of the loop. Here the input projection of all tokens is two
matrix products (gates, candidate), the loop is Python-unrolled over the static length (25 or 40 tokens; no
`while_loop`), its gradient is written out (`tf.custom_gradient`) so that everything but the chain through the state
is computed for all steps at once (about 6 ops per step backwards instead of about 25), and no mask is carried: with
padding at the end, the states at a sentence's own tokens do not depend on what follows them, so callers pool those
states only (`GRUSentenceEncoder`) or score only those positions (`ConditionalGRUDecoder`'s targets). The gate
equations are Keras' `GRUCell` with `reset_after=True` (Cho et al., 2014, "On the Properties of Neural Machine
Translation: Encoder-Decoder Approaches"), so the variables, checkpoints and outputs are those of the `GRU` layer
itself.

Example:
    gru = keras.layers.GRU(8, return_sequences=True)
    words = tf.random.normal([2, 5, 4])
    gru.build(words.shape)
    states = unrolled_gru(gru, words)                 # [2, 5, 8], equal to gru(words)
"""

import keras
import tensorflow as tf


def can_unroll(gru, length, backwards=False):
    """True when `unrolled_gru` computes what `gru` does over a static `length`: a built `keras.layers.GRU` with its
    default gates (`reset_after`, bias, tanh, sigmoid) and no dropout, reading forwards (`backwards=True`: the
    backward half of a `Bidirectional`, whose caller reverses each sentence itself)."""
    if not isinstance(gru, keras.layers.GRU) or not gru.built or length is None:
        return False
    cell = gru.cell
    return (
        cell.reset_after and cell.use_bias and gru.go_backwards == backwards and not gru.stateful
        and cell.activation is keras.activations.tanh and cell.recurrent_activation is keras.activations.sigmoid
        and not cell.dropout and not cell.recurrent_dropout
    )


def product(a, b, product_dtype=None, **kwargs):
    """`tf.matmul(a, b, **kwargs)`, computed in `product_dtype` (e.g. bfloat16) when given, returned in `a`'s dtype."""
    if product_dtype is None:
        return tf.matmul(a, b, **kwargs)
    return tf.cast(tf.matmul(tf.cast(a, product_dtype), tf.cast(b, product_dtype), **kwargs), a.dtype)


def _step(state, x_gates, x_candidate, gate_kernel, candidate_kernel, gate_bias, candidate_bias):
    """One GRU step: `(new state, gates [z, r], candidate, recurrent candidate projection)`. Two products per step
    (gates, candidate) rather than one product split three ways by a `SplitV`."""
    h_gates = tf.matmul(state, gate_kernel) + gate_bias
    h_candidate = tf.matmul(state, candidate_kernel) + candidate_bias
    step_gates = tf.sigmoid(x_gates + h_gates)  # [update z, reset r]
    update, reset = tf.split(step_gates, 2, axis=-1)
    candidate = tf.tanh(x_candidate + reset * h_candidate)
    return candidate + update * (state - candidate), step_gates, candidate, h_candidate  # z state + (1 - z) cand.


def _chain_factors(gates, previous, candidates, recurrent_candidates):
    """`(update, a, to_recurrent)` of the backward pass: with s the state's gradient at a step, d(candidate
    pre-activation) = s * a, d(update pre-activation) = s * b, d(reset pre-activation) = s * a * c, where a, b, c
    depend on the forward pass only; `to_recurrent` is the gradient of the recurrent projection h @ U + b_rec per
    unit of s (`[..., 3 units]`)."""
    update, reset = tf.split(gates, 2, axis=-1)
    a = (1.0 - update) * (1.0 - tf.square(candidates))
    b = (previous - candidates) * update * (1.0 - update)
    c = recurrent_candidates * reset * (1.0 - reset)
    return update, a, tf.concat([b, a * c, a * reset], axis=-1)


def _carry(s, update, to_recurrent, recurrent_kernel):
    """The state's gradient passed to the previous step, for the state's gradient `s` at this step."""
    return s * update + tf.matmul(tf.tile(s, [1, 3]) * to_recurrent, recurrent_kernel, transpose_b=True)


def _split_kernels(recurrent_kernel, recurrent_bias):
    units = recurrent_kernel.shape[0]
    return (recurrent_kernel[:, : 2 * units], recurrent_kernel[:, 2 * units :], recurrent_bias[: 2 * units],
            recurrent_bias[2 * units :])


def _recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias, initial_state, product_dtype=None):
    """`[length, batch, units]` states of the GRU's recurrence, given every step's input projection for the gates
    `gate_inputs [length, batch, 2 units]` (z, then r) and for the candidate `candidate_inputs [length, batch, units]`
    (input biases included); the recurrent kernel's gradient (one product over all steps) in `product_dtype`."""
    units = recurrent_kernel.shape[0]

    @tf.custom_gradient
    def recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias, initial_state):
        kernels = _split_kernels(recurrent_kernel, recurrent_bias)
        state = initial_state
        previous, gates, candidates, recurrent_candidates = [], [], [], []
        for x_gates, x_candidate in zip(tf.unstack(gate_inputs), tf.unstack(candidate_inputs)):
            previous.append(state)
            state, step_gates, candidate, h_candidate = _step(state, x_gates, x_candidate, *kernels)
            gates.append(step_gates)
            candidates.append(candidate)
            recurrent_candidates.append(h_candidate)
        states = tf.stack(previous[1:] + [state])
        previous, gates = tf.stack(previous), tf.stack(gates)
        candidates, recurrent_candidates = tf.stack(candidates), tf.stack(recurrent_candidates)

        def gradient(upstream):
            update, a, to_recurrent = _chain_factors(gates, previous, candidates, recurrent_candidates)
            carried = tf.zeros_like(upstream[0])
            per_step = []
            for step in range(upstream.shape[0] - 1, -1, -1):  # only the chain through the state runs step by step
                s = upstream[step] + carried
                per_step.append(s)
                carried = _carry(s, update[step], to_recurrent[step], recurrent_kernel)
            s = tf.stack(per_step[::-1])
            d_recurrent = tf.tile(s, [1, 1, 3]) * to_recurrent
            d_kernel = product(tf.reshape(previous, [-1, units]), tf.reshape(d_recurrent, [-1, 3 * units]),
                               product_dtype, transpose_a=True)
            d_bias = tf.reduce_sum(d_recurrent, axis=[0, 1])
            d_gates = d_recurrent[:, :, : 2 * units]  # the gates' input gradient is their recurrent one
            return d_gates, s * a, d_kernel, d_bias, carried

        return states, gradient

    return recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias, initial_state)


def _packed_recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias, counts, product_dtype=None):
    """`[tokens, units]` states of the GRU's recurrence from a zero state over packed sequences: the rows of
    `gate_inputs [tokens, 2 units]` and `candidate_inputs [tokens, units]` are step 0's sentences, then step 1's, ...,
    `counts[t]` of them at step t, each step's sentences a prefix of the previous step's (sentences sorted by length,
    longest first); see `packed_gru`."""
    units = recurrent_kernel.shape[0]
    length = counts.shape[0]

    @tf.custom_gradient
    def recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias):
        kernels = _split_kernels(recurrent_kernel, recurrent_bias)
        state = tf.zeros([counts[0], units], gate_inputs.dtype)
        previous, states, gates, candidates, recurrent_candidates = [], [], [], [], []
        steps = zip(tf.split(gate_inputs, counts, num=length), tf.split(candidate_inputs, counts, num=length))
        for step, (x_gates, x_candidate) in enumerate(steps):
            state = state[: counts[step]]  # the sentences that go on (sorted: a prefix)
            previous.append(state)
            state, step_gates, candidate, h_candidate = _step(state, x_gates, x_candidate, *kernels)
            states.append(state)
            gates.append(step_gates)
            candidates.append(candidate)
            recurrent_candidates.append(h_candidate)
        states, previous, gates = tf.concat(states, 0), tf.concat(previous, 0), tf.concat(gates, 0)
        candidates, recurrent_candidates = tf.concat(candidates, 0), tf.concat(recurrent_candidates, 0)

        def gradient(upstream):
            update, a, to_recurrent = _chain_factors(gates, previous, candidates, recurrent_candidates)
            per_step = []
            carried = tf.zeros([0, units], upstream.dtype)
            for step, (up, step_update, step_recurrent) in reversed(list(enumerate(zip(
                tf.split(upstream, counts, num=length), tf.split(update, counts, num=length),
                tf.split(to_recurrent, counts, num=length),
            )))):
                # Sentences that end at this step get no gradient from the next one.
                s = up + tf.pad(carried, [[0, counts[step] - tf.shape(carried)[0]], [0, 0]])
                per_step.append(s)
                carried = _carry(s, step_update, step_recurrent, recurrent_kernel)
            s = tf.concat(per_step[::-1], 0)
            d_recurrent = tf.tile(s, [1, 3]) * to_recurrent
            d_kernel = product(previous, d_recurrent, product_dtype, transpose_a=True)
            return d_recurrent[:, : 2 * units], s * a, d_kernel, tf.reduce_sum(d_recurrent, axis=0)

        return states, gradient

    return recurrence(gate_inputs, candidate_inputs, recurrent_kernel, recurrent_bias)


def _gru_weights(gru, dtype):
    cell = gru.cell
    kernel, recurrent_kernel, bias = (tf.cast(tf.convert_to_tensor(variable), dtype)
                                      for variable in (cell.kernel, cell.recurrent_kernel, cell.bias))
    input_bias, recurrent_bias = tf.unstack(bias)
    return kernel, recurrent_kernel, input_bias, recurrent_bias


def packed_gru(gru, tokens, counts, product_dtype=None):
    """The states `[tokens, units]` of `gru` (see `can_unroll`, forwards) over packed sequences from a zero state:
    `tokens [tokens, features]` holds every sentence's first token, then every second token, ..., with the sentences
    in the same order at every step, longest first, so that the `counts[t]` sentences still running at step t are a
    prefix (`keras_ae.layers.length_buckets.pack_by_length` makes that order). One loop over the longest sentence's
    steps whose batch shrinks as sentences end, so no product runs on padding (as PyTorch's packed sequences); the
    states of a sentence equal `unrolled_gru`'s at its own tokens (to float rounding)."""
    units = gru.cell.units
    kernel, recurrent_kernel, input_bias, recurrent_bias = _gru_weights(gru, tokens.dtype)
    gates = product(tokens, kernel[:, : 2 * units], product_dtype) + input_bias[: 2 * units]
    candidates = product(tokens, kernel[:, 2 * units :], product_dtype) + input_bias[2 * units :]
    return _packed_recurrence(gates, candidates, recurrent_kernel, recurrent_bias, counts, product_dtype)


def unrolled_gru(gru, inputs, initial_state=None, steady_inputs=None, product_dtype=None):
    """The states `[batch, length, units]` of `gru` (see `can_unroll`) over `inputs [batch, length, features]`.

    Args:
        gru: a built `keras.layers.GRU`; its kernel reads `features` (plus `steady_features`) inputs.
        inputs: `[batch, length, features]` with a static `length`.
        initial_state: `[batch, units]` (default zeros).
        steady_inputs: `[batch, steady_features]` that the GRU reads at every step after `inputs` (as if tiled and
            concatenated to them, e.g. a decoder's condition); projected once instead of at every step.
        product_dtype: the dtype of the products over all steps at once (the input projection, its two gradients,
            the recurrent kernel's gradient), e.g. `tf.bfloat16` (about a third of float32's CPU time on CPUs with
            AMX or AVX512-BF16); None: `inputs`' dtype. The step-by-step recurrence stays in `inputs`' dtype.
    """
    dtype = inputs.dtype
    units = gru.cell.units
    kernel, recurrent_kernel, input_bias, recurrent_bias = _gru_weights(gru, dtype)
    features = inputs.shape[-1]
    time_major = tf.transpose(inputs, [1, 0, 2])
    tokens = tf.reshape(time_major, [-1, features])
    projections = []
    for columns in (slice(0, 2 * units), slice(2 * units, 3 * units)):  # gates, candidate
        # [length, batch, columns]: every token's input projection in one 2-D product (its einsum took 20% more CPU).
        projected = product(tokens, kernel[:features, columns], product_dtype)
        projected = tf.reshape(projected, [inputs.shape[1], -1, projected.shape[-1]]) + input_bias[columns]
        if steady_inputs is not None:
            projected += tf.matmul(tf.cast(steady_inputs, dtype), kernel[features:, columns])[None]
        projections.append(projected)
    if initial_state is None:
        initial_state = tf.zeros([tf.shape(inputs)[0], units], dtype)
    states = _recurrence(*projections, recurrent_kernel, recurrent_bias, tf.cast(initial_state, dtype), product_dtype)
    return tf.transpose(states, [1, 0, 2])
