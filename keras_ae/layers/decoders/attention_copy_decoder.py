"""GRU decoder with attention over a document and a copy mechanism (a pointer-generator)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_ae")
class AttentionCopyDecoder(keras.layers.Layer):
    """Writes a word sequence about a document, one word per step, mixing a vocabulary softmax with a copy of the
    document's words: `p(w) = p_gen * softmax(W [s; c])_w + (1 - p_gen) * sum_{i: x_i = w} a_i`, where `a` is
    additive attention over the encoder's states (Bahdanau et al., 2015), `c` its context and `p_gen` a learned gate
    (See et al., 2017, "Get To The Point: Summarization with Pointer-Generator Networks"). Wang & Lee (2018) use such a
    generator as the summariser of their text-as-latent auto-encoder.

    The memory is `(states [batch, T, d], mask [batch, T], token_ids [batch, T], pooled [batch, d])`: a sentence
    encoder's state at each token, which tokens are real, their vocabulary ids (what a copy emits) and a summary of
    the document that sets the initial state; an optional fifth element, `spellings [batch, T]` (int), gives tokens
    that spell the same word the same key (e.g. the position of the word's first occurrence; default: every position
    its own word). It matters for out-of-vocabulary tokens, which all share id 1: `generate` spells each written OOV
    id as the most attended OOV document word not spelled yet (see `block_repeats`). Outputs are log-probabilities, so `masked_token_crossentropy` of them is
    the exact negative log-likelihood. Id 0 is padding and the end symbol; the start symbol is `vocabulary_size`.

    Args:
        vocabulary_size: number of output tokens (padding / end at 0 and OOV at 1 included).
        length: number of words `generate` writes.
        hidden_dim: size of the GRU state.
        word_dim: size of the input word embeddings.
        attention_dim: size of the additive attention's hidden layer.
        block_repeats: `generate` never writes a word twice (the end symbol and OOV aside): a decoding constraint
            against "the the the" (as trigram blocking in Paulus et al., 2018, here on words, since real summaries
            rarely repeat one). The attention also sees its coverage, the sum of its past weights at each token
            (See et al., 2017), in teacher forcing and generation alike. The OOV id may be written again, but
            each time for a document word not spelled yet: once every OOV word of the document is spelled (or the
            document has none), the OOV id is blocked too, so the same OOV word is never spelled twice.

    Example:
        decoder = AttentionCopyDecoder(vocabulary_size=100, length=5, hidden_dim=32)
        memory = (tf.zeros([2, 7, 16]), tf.ones([2, 7], bool), tf.fill([2, 7], 3), tf.zeros([2, 16]))
        log_probs = decoder(decoder.teacher_forcing_inputs(tf.constant([[4, 5, 0, 0, 0]] * 2)), memory)  # [2, 5, 100]
        words, _ = decoder.generate(memory)                                             # one-hots [2, 5, 100]
        words, _, pointers = decoder.generate(memory, return_pointers=True)   # + the document token each OOV spells
        words, _ = decoder.generate(memory, lengths=tf.constant([2, 4]))       # exactly 2 and 4 words, then the end
        words, _ = decoder.generate(memory, lengths=tf.constant([2, 4]), final_blocked=tf.one_hot(7, 100))  # 7 not last
    """

    def __init__(self, vocabulary_size, length=10, hidden_dim=128, word_dim=64, attention_dim=64, block_repeats=True,
                 **kwargs):
        super().__init__(**kwargs)
        # Layers (the input embedding's extra row is the start symbol)
        self.word_embedding = keras.layers.Embedding(vocabulary_size + 1, word_dim, name="words")
        self.initial_state = keras.layers.Dense(hidden_dim, activation="tanh", name="initial_state")
        self.cell = keras.layers.GRUCell(hidden_dim, name="cell")
        self.memory_keys = keras.layers.Dense(attention_dim, use_bias=False, name="memory_keys")
        self.state_query = keras.layers.Dense(attention_dim, name="state_query")
        self.coverage_key = keras.layers.Dense(attention_dim, use_bias=False, name="coverage_key")
        self.attention_score = keras.layers.Dense(1, use_bias=False, name="attention_score")
        self.output_projection = keras.layers.Dense(word_dim, activation="tanh", name="output_projection")
        self.to_logits = keras.layers.Dense(vocabulary_size, name="logits")
        self.copy_gate = keras.layers.Dense(1, name="copy_gate")
        # Config
        self.vocabulary_size = vocabulary_size
        self.length = length
        self.hidden_dim = hidden_dim
        self.word_dim = word_dim
        self.attention_dim = attention_dim
        self.block_repeats = block_repeats
        self.start_id = vocabulary_size
        self.blockable = tf.constant([0.0, 0.0] + [1.0] * (vocabulary_size - 2))  # all but the end symbol and OOV

    def build(self, input_ids_shape=None, memory_shape=None):
        memory_dim = memory_shape[0][-1] if memory_shape is not None else self.hidden_dim
        self.word_embedding.build((None,))
        self.initial_state.build((None, memory_dim))
        self.cell.build((None, self.word_dim + memory_dim))
        self.memory_keys.build((None, None, memory_dim))
        self.state_query.build((None, self.hidden_dim))
        self.coverage_key.build((None, None, 1))
        self.attention_score.build((None, None, self.attention_dim))
        self.output_projection.build((None, self.hidden_dim + memory_dim))
        self.to_logits.build((None, self.word_dim))
        self.copy_gate.build((None, self.hidden_dim + memory_dim + self.word_dim))
        self.built = True

    def teacher_forcing_inputs(self, target_ids):
        """The inputs for targets `[batch, length]`: the start symbol, then the targets shifted right."""
        target_ids = tf.convert_to_tensor(target_ids)
        start = tf.fill([tf.shape(target_ids)[0], 1], tf.constant(self.start_id, target_ids.dtype))
        return tf.concat([start, target_ids[:, :-1]], axis=1)

    # ------------------------------------------------------------------ one step
    def _start(self, memory):
        states, mask, token_ids, pooled = memory[:4]
        keys = self.memory_keys(states)
        return self.initial_state(pooled), (states, tf.cast(mask, keys.dtype), tf.cast(token_ids, tf.int32), keys)

    def _step(self, word_vectors, state, coverage, memory):
        """`(log_probs [batch, V], attention [batch, T], new_state)` after reading one input word vector, given the
        attention's coverage so far `[batch, T]`."""
        states, mask, token_ids, keys = memory
        previous = state
        features = keys + self.state_query(previous)[:, None, :] + self.coverage_key(coverage[:, :, None])
        scores = self.attention_score(tf.tanh(features))[..., 0]
        scores = scores + (1.0 - mask) * tf.cast(-1e9, scores.dtype)
        attention = tf.nn.softmax(scores, axis=-1)
        context = tf.reduce_sum(attention[:, :, None] * states, axis=1)
        output, new_state = self.cell(tf.concat([word_vectors, context], axis=-1), previous)
        new_state = new_state[0] if isinstance(new_state, (list, tuple)) else new_state
        features = tf.concat([output, context], axis=-1)
        vocabulary_probs = tf.nn.softmax(tf.cast(self.to_logits(self.output_projection(features)), "float32"))
        gate = tf.sigmoid(tf.cast(self.copy_gate(tf.concat([features, word_vectors], axis=-1)), "float32"))
        batch = tf.shape(token_ids)[0]
        rows = tf.tile(tf.range(batch)[:, None], [1, tf.shape(token_ids)[1]])
        copy_probs = tf.scatter_nd(
            tf.stack([rows, token_ids], axis=-1), tf.cast(attention, "float32"), [batch, self.vocabulary_size]
        )
        probs = gate * vocabulary_probs + (1.0 - gate) * copy_probs
        return tf.math.log(probs + 1e-9), attention, new_state

    # ------------------------------------------------------------------ teacher forcing and generation
    def call(self, input_ids, memory, training=None):
        """Log-probabilities `[batch, length, V]` of the next word after each of `input_ids` (teacher forcing)."""
        state, memory = self._start(memory)
        words = self.word_embedding(input_ids)
        coverage = tf.zeros_like(memory[1])
        outputs = []
        for step in range(input_ids.shape[1]):
            log_probs, attention, state = self._step(words[:, step], state, coverage, memory)
            coverage += attention
            outputs.append(log_probs)
        return tf.stack(outputs, axis=1)

    def generate(self, memory, sampler=None, training=False, return_pointers=False, lengths=None, final_blocked=None):
        """`(words [batch, length, V], attention [batch, length, T])`: one-hot words written free-running, each the
        input of the next step. With a `sampler` (e.g. a hard `GumbelSoftmax`) in training the words are its samples
        of the log-probabilities, so gradients flow back through them; otherwise the most probable word (greedy).
        After the first end symbol (id 0) every word is the end symbol, as padding is in real summaries.
        `return_pointers=True` adds `pointers [batch, length]` (int32): at each step, the document token an OOV word
        spells (the most attended OOV token whose word is not spelled yet; meaningful where the word is OOV).
        `lengths [batch]` (int): write exactly that many words (at most `length`), the end symbol blocked before and
        forced after them; None: each sequence ends at its first end symbol. `final_blocked [V]` (0 / 1): ids that
        never end a sequence: blocked at its last word (the length's, or the `length`-th) and, without `lengths`, the
        end symbol blocked right after one of them (e.g. stop words: a summary cut after "parser for")."""
        written = self.write(memory, sampler=sampler, training=training, lengths=lengths, final_blocked=final_blocked)
        outputs = (written["words"], written["attention"])
        return (*outputs, written["pointers"]) if return_pointers else outputs

    def write(self, memory, sampler=None, training=False, lengths=None, final_blocked=None):
        """`generate`'s outputs as a dict (`words`, `attention`, `pointers`) plus `log_probs [batch, length]`: the
        log-probability of each written word (0 after the end symbol), e.g. for REINFORCE. `lengths`,
        `final_blocked`: see `generate`."""
        spellings = memory[4] if len(memory) > 4 else None
        state, memory = self._start(memory)
        _, mask, token_ids, _ = memory
        batch, steps = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        if spellings is None:
            spellings = tf.tile(tf.range(steps)[None, :], [batch, 1])
        spellings = tf.cast(spellings, tf.int32)
        unknown = tf.cast(tf.equal(token_ids, 1), "float32") * tf.cast(mask, "float32")  # OOV document tokens
        spelled = tf.zeros_like(unknown)  # OOV tokens whose word has been spelled
        oov = tf.one_hot(1, self.vocabulary_size, dtype="float32")
        table = self.word_embedding.embeddings
        vectors = tf.gather(table, tf.fill([batch], self.start_id))
        alive = tf.ones([batch, 1], "float32")
        end = tf.one_hot(tf.zeros([batch], tf.int32), self.vocabulary_size, dtype="float32")
        coverage = tf.zeros_like(memory[1])
        written = tf.zeros([batch, self.vocabulary_size], "float32")  # words already written (end and OOV never)
        if final_blocked is not None:
            final_blocked = tf.cast(final_blocked, "float32")[None, :]
            last = (tf.cast(lengths, tf.int32) if lengths is not None else tf.fill([batch], self.length)) - 1
            previous_blocked = tf.zeros([batch, 1], "float32")  # the last word written is one of final_blocked
        words, attentions, pointers, chosen_log_probs = [], [], [], []
        for step in range(self.length):
            log_probs, attention, state = self._step(vectors, state, coverage, memory)
            coverage += attention
            if lengths is not None:  # before the length: never the end symbol; from it on: nothing but the end
                before = tf.cast(step < tf.cast(lengths, tf.int32), "float32")[:, None]
                log_probs += before * end * -1e9
                alive = alive * before
            if final_blocked is not None:
                at_last = tf.cast(tf.equal(last, step), "float32")[:, None]
                log_probs += at_last * final_blocked * -1e9
                if lengths is None:
                    log_probs += previous_blocked * end * -1e9
            available = unknown * (1.0 - spelled) if self.block_repeats else unknown
            if self.block_repeats:
                none_left = 1.0 - tf.reduce_max(available, axis=-1, keepdims=True)  # no OOV word left to spell
                log_probs += (written + none_left * oov) * -1e9
            if sampler is not None and training:
                word = tf.cast(sampler(log_probs, training=True), "float32")
            else:
                word = tf.one_hot(tf.argmax(log_probs, axis=-1), self.vocabulary_size, dtype="float32")
            chosen_log_probs.append(alive[:, 0] * tf.reduce_sum(tf.stop_gradient(word) * log_probs, axis=-1))
            word = alive * word + (1.0 - alive) * end
            alive = alive * (1.0 - tf.stop_gradient(word[:, :1]))
            written = tf.maximum(written, tf.stop_gradient(word) * self.blockable)
            if final_blocked is not None:
                previous_blocked = tf.reduce_sum(tf.stop_gradient(word) * final_blocked, axis=-1, keepdims=True)
            pointer = tf.argmax((tf.cast(attention, "float32") + 1e-9) * available, axis=-1, output_type=tf.int32)
            chosen = tf.gather(spellings, pointer, batch_dims=1)
            same = tf.cast(tf.equal(spellings, chosen[:, None]), "float32")
            spelled = tf.maximum(spelled, tf.stop_gradient(word[:, 1:2]) * same * unknown)
            vectors = tf.matmul(tf.cast(word, table.dtype), table[: self.vocabulary_size])
            words.append(word)
            attentions.append(attention)
            pointers.append(pointer)
        return {"words": tf.stack(words, axis=1), "attention": tf.stack(attentions, axis=1),
                "pointers": tf.stack(pointers, axis=1), "log_probs": tf.stack(chosen_log_probs, axis=1)}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "length": self.length,
                "hidden_dim": self.hidden_dim,
                "word_dim": self.word_dim,
                "attention_dim": self.attention_dim,
                "block_repeats": self.block_repeats,
            }
        )
        return config
