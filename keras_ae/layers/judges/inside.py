"""The inside algorithm of a binary PCFG in log space, span marginals, the Viterbi (most probable) tree, and CKY over
span scores, in TensorFlow.

Reads top to bottom: helpers, the inside pass (`inside`), its gradient (`span_marginals`), the same pass with max in
place of sum (`viterbi`) and its gradient, the most probable labelled tree (`viterbi_spans`), the best tree for given
span scores (`span_cky`), and the bracketed string of a tree (`bracketed_trees`).

The grammar is in Chomsky normal form with the split of Kim, Dyer & Rush (2019, "Compound Probabilistic
Context-Free Grammars for Grammar Induction"): `NT` nonterminals, which cover two words or more, and `T`
preterminals, which cover exactly one word. Symbols `0 .. NT-1` are nonterminals and `NT .. NT+T-1` preterminals:

    S -> A        root scores        [batch, NT]
    A -> B C      rule scores        [batch, NT, NT+T, NT+T]
    T -> w_i      preterminal scores [batch, length, T]  (the score of each preterminal for the word at position i)

Binary rules come either as that full tensor or as `LowRankRules`, a rank-r decomposition (Yang, Zhao & Tu, 2021,
"PCFGs Can Do Better: Inducing Probabilistic Context-Free Grammars with Many Symbols"):

    P(A -> B C) = sum_r head[A, r] * left[B, r] * right[C, r]

whose inside pass works in rank space (`O(n^3 r + n^2 r (NT + T))` per sentence instead of
`O(n^3 NT (NT + T)^2)`), so a grammar can have hundreds of symbols. It has no Viterbi chart (the max over trees does
not factor through the sum over r), so `viterbi` and `viterbi_spans` need the full tensor.

Every pass is vectorised over the batch and over span starts; it loops (`tf.while_loop`) over span widths only, up
to the longest sentence of the batch. Sentences of different lengths share one chart: the spans of a shorter
sentence never reach its padding, so its score is read off the chart at its own length and nothing else is masked.
Charts are kept twice, aligned by span start and by span end, so that the children of every split are slices.

Example:
    log_z = inside(root, rules, preterminals, lengths)                       # [batch]
    labelled, words = span_marginals(root, rules, preterminals, lengths)    # P(span labelled A), P(word's tag)
    chosen = span_cky(tf.reduce_sum(labelled, -1), lengths)                 # [batch, width, start] 0/1
    best, tags = viterbi_spans(root, rules, preterminals, lengths)          # the argmax tree's labelled spans, 0/1
"""

from typing import NamedTuple

import tensorflow as tf

NEG = -1e9  # a finite "log 0": sums of it stay finite, so padding never makes NaNs in gradients


def _normalized_exp(scores, axis=-1):
    """`(exp(scores - max), max)` along `axis`, so the exponentials are at most 1 and at least one is 1."""
    top = tf.stop_gradient(tf.reduce_max(scores, axis=axis, keepdims=True))
    return tf.exp(scores - top), top


def _combine(left, right, rule_probs):
    """`log sum_{B,C} exp(left_B + right_C) * rule_probs[B*C, A]` for every split, span start and parent `A`.

    Args:
        left: `[splits, batch, starts, B]` log inside scores of the left children.
        right: `[splits, batch, starts, C]` log inside scores of the right children.
        rule_probs: `[batch, B * C, A]` rule probabilities (not logs).
    Returns: `[splits, batch, starts, A]`.
    """
    left_exp, left_top = _normalized_exp(left)
    right_exp, right_top = _normalized_exp(right)
    outer = tf.transpose(left_exp[..., :, None] * right_exp[..., None, :], [1, 0, 2, 3, 4])  # [batch, splits, ...]
    shape = tf.shape(outer)
    outer = tf.reshape(outer, [shape[0], shape[1] * shape[2], shape[3] * shape[4]])
    total = tf.matmul(outer, rule_probs)  # one matrix product per sentence: [batch, splits * starts, A]
    total = tf.transpose(tf.reshape(total, [shape[0], shape[1], shape[2], -1]), [1, 0, 2, 3])
    return tf.math.log(tf.maximum(total, 1e-37)) + left_top + right_top


def _best_of(scores):
    """The maximum along the last axis, read by gathering the first argmax, so that its gradient is 1 at exactly one
    element (`tf.reduce_max` would share it among ties)."""
    index = tf.argmax(scores, axis=-1, output_type=tf.int32)
    return tf.gather(scores, index, batch_dims=len(scores.shape) - 1)


def _combine_best(left, right, rule_logs):
    """`max_{B,C} left_B + right_C + rule_logs[B*C, A]` for every split, span start and parent `A` (the max-product
    counterpart of `_combine`; shapes as there, with `rule_logs` log probabilities). Memory grows with
    `splits * starts * B * C * A` per sentence: fine for evaluation batches at NT 10 / T 20."""
    pairs = left[..., :, None] + right[..., None, :]  # [splits, batch, starts, B, C]
    shape = tf.shape(pairs)
    pairs = tf.reshape(pairs, [shape[0], shape[1], shape[2], shape[3] * shape[4]])
    scores = pairs[..., None, :] + tf.transpose(rule_logs, [0, 2, 1])[None, :, None]  # [..., A, B * C]
    return _best_of(scores)


def _rule_blocks(rules, num_nonterminals):
    """Rule scores by the kind of children: `(NT NT, NT T, T NT, T T)`, each `[batch, B * C, NT]`."""
    nt = num_nonterminals
    batch, parents = tf.shape(rules)[0], tf.shape(rules)[1]
    blocks = (rules[:, :, :nt, :nt], rules[:, :, :nt, nt:], rules[:, :, nt:, :nt], rules[:, :, nt:, nt:])
    return tuple(tf.transpose(tf.reshape(block, [batch, parents, -1]), [0, 2, 1]) for block in blocks)


class LowRankRules(NamedTuple):
    """Binary rules `P(A -> B C) = sum_r exp(head[A, r] + left[B, r] + right[C, r])`, log probabilities:

    head: `[batch, NT, r]`, each parent's row sums to one over r (in probability).
    left, right: `[batch, NT + T, r]`, each column sums to one over the NT + T child symbols.

    The batch may be 1 for a grammar shared by every sentence.

    So each parent's rules sum to one over all `(B, C)`. Pass it to `inside` (and `span_marginals`) in place of the
    `[batch, NT, NT+T, NT+T]` tensor.
    """

    head: tf.Tensor
    left: tf.Tensor
    right: tf.Tensor


def _num_nonterminals(rules):
    return rules.head.shape[1] if isinstance(rules, LowRankRules) else rules.shape[1]


def _log_matmul(scores, matrix):
    """`log sum_k exp(scores[b, i, k] + log_matrix[b, k, j])` `[b, i, j]`, by one matrix product of exponentials
    scaled by their maxima; `matrix` is `_normalized_exp(log_matrix, axis=-2)` (computed once for every width)."""
    scores_exp, scores_top = _normalized_exp(scores)
    matrix_exp, matrix_top = matrix
    total = tf.matmul(scores_exp, matrix_exp)
    return tf.math.log(tf.maximum(total, 1e-37)) + scores_top + matrix_top


def _pad_positions(values, before, after):
    """Pads the position axis (1) of `[batch, n, symbols]` with `NEG`."""
    return tf.pad(values, [[0, 0], [before, after], [0, 0]], constant_values=NEG)


def inside_chart(rules, preterminals, span_scores=None, best=False):
    """The nonterminal inside chart: `chart[w, b, i, A]` = log inside score of `A` over words `i .. i+w-1`.

    Widths 0 and 1 (no nonterminal covers fewer than two words) and spans that run past the longest sentence hold
    `NEG`. `span_scores` (`[batch, width, start, NT]`, optional) is added to every span's scores; with zeros, its
    gradient is the span marginals. With `best=True` every sum over children and splits is a max (the Viterbi
    chart: the log score of the best labelled subtree), and the gradient of a span's score is 1 on the spans and
    preterminals of that one subtree.

    `rules` may be `LowRankRules` (then not `best`): the pass then runs in rank space (`_low_rank_chart`).

    Returns `[max_length + 1, batch, max_length, NT]`.
    """
    if isinstance(rules, LowRankRules):
        if best:
            raise ValueError("The Viterbi (best=True) chart needs the full rule tensor: low-rank rules sum over the "
                             "rank inside every rule, so the best tree does not factor. Use span marginals (MBR).")
        return _low_rank_chart(rules, preterminals, span_scores)
    rules = tf.convert_to_tensor(rules, tf.float32)
    preterminals = tf.convert_to_tensor(preterminals, tf.float32)
    nt = rules.shape[1]
    batch, length = tf.shape(preterminals)[0], tf.shape(preterminals)[1]
    if best:
        combine, reduce_parts = _combine_best, lambda parts: _best_of(tf.transpose(parts, [1, 2, 3, 0]))
        nn, nterm, termn, tt = _rule_blocks(rules, nt)
    else:
        combine, reduce_parts = _combine, lambda parts: tf.reduce_logsumexp(parts, axis=0)
        nn, nterm, termn, tt = _rule_blocks(tf.exp(rules), nt)
    empty = tf.fill([batch, length, nt], tf.constant(NEG, tf.float32))

    def add_span_scores(scores, width):
        return scores if span_scores is None else scores + span_scores[:, width - 1, : length - width + 1]

    # Width 2: both children are preterminals (T T rules), for every start at once.
    pairs = add_span_scores(combine(preterminals[None, :, :-1], preterminals[None, :, 1:], tt)[0], 2)
    by_start = tf.TensorArray(tf.float32, size=length + 1, element_shape=[None, None, nt], clear_after_read=False)
    by_end = tf.TensorArray(tf.float32, size=length + 1, element_shape=[None, None, nt], clear_after_read=False)
    by_start = by_start.write(0, empty).write(1, empty).write(2, _pad_positions(pairs, 0, 1))
    by_end = by_end.write(0, empty).write(1, empty).write(2, _pad_positions(pairs, 1, 0))

    def body(width, by_start, by_end):
        starts = length - width + 1
        shorter = by_start.read(width - 1)
        parts = [
            # T NT and NT T: one child is a single word, the other a nonterminal of width - 1.
            combine(preterminals[None, :, :starts], shorter[None, :, 1 : 1 + starts], termn),
            combine(shorter[None, :, :starts], preterminals[None, :, width - 1 :], nterm),
            # NT NT (spans of four words or more): left widths 2 .. width - 2; each right child ends where the span
            # ends, so it is a slice of the end-aligned chart.
            tf.cond(
                width >= 4,
                lambda: combine(
                    by_start.gather(tf.range(2, tf.maximum(width - 1, 3)))[:, :, :starts],
                    by_end.gather(tf.range(width - 2, tf.minimum(width - 2, 1), -1))[:, :, width - 1 :],
                    nn,
                ),
                lambda: tf.fill([0, batch, starts, nt], tf.constant(NEG, tf.float32)),
            ),
        ]
        scores = add_span_scores(reduce_parts(tf.concat(parts, axis=0)), width)  # [batch, starts, NT]
        by_start = by_start.write(width, _pad_positions(scores, 0, width - 1))
        by_end = by_end.write(width, _pad_positions(scores, width - 1, 0))
        return width + 1, by_start, by_end

    _, by_start, _ = tf.while_loop(lambda width, *_: width <= length, body, (tf.constant(3), by_start, by_end))
    return by_start.stack()


def _low_rank_chart(rules, preterminals, span_scores=None):
    """`inside_chart` of `LowRankRules` (Yang, Zhao & Tu, 2021). Beside the nonterminal chart it keeps, for every
    span, its score as a left child and as a right child in rank space, `log sum_B exp(inside[B] + left[B, r])`
    (the preterminals' for one word, start-aligned for left children, end-aligned for right ones). A span then
    sums its splits in rank space, `log sum_k exp(as_left[i, k, r] + as_right[k, j, r])`, and returns to its
    nonterminals through `head`: two matrix products per width, none over pairs of children."""
    head, left, right = (tf.convert_to_tensor(part, tf.float32) for part in rules)
    preterminals = tf.convert_to_tensor(preterminals, tf.float32)
    nt = head.shape[1]
    batch, length, rank = tf.shape(preterminals)[0], tf.shape(preterminals)[1], tf.shape(head)[2]
    # Each rule matrix in the scaled exponential form `_log_matmul` takes: [batch, r, NT], [batch, NT or T, r].
    to_parents = _normalized_exp(tf.transpose(head, [0, 2, 1]), axis=-2)
    left_words, right_words, left_spans, right_spans = (
        _normalized_exp(part, axis=-2) for part in (left[:, nt:], right[:, nt:], left[:, :nt], right[:, :nt])
    )
    empty = tf.fill([batch, length, nt], tf.constant(NEG, tf.float32))
    empty_rank = tf.fill([batch, length, rank], tf.constant(NEG, tf.float32))

    def new_array(first, second):
        array = tf.TensorArray(tf.float32, size=length + 1, element_shape=[None, None, None], clear_after_read=False)
        return array.write(0, first).write(1, second)

    chart = new_array(empty, empty)
    as_left = new_array(empty_rank, _log_matmul(preterminals, left_words))  # by start
    as_right = new_array(empty_rank, _log_matmul(preterminals, right_words))  # by end

    def body(width, chart, as_left, as_right):
        starts = length - width + 1
        # Left children of widths 1 .. width - 1 from each start; right children of the rest, ending at its end.
        lefts = as_left.gather(tf.range(1, width))[:, :, :starts]
        rights = as_right.gather(tf.range(width - 1, 0, -1))[:, :, width - 1 :]
        in_rank = tf.reduce_logsumexp(lefts + rights, axis=0)  # [batch, starts, r]
        scores = _log_matmul(in_rank, to_parents)  # [batch, starts, NT]
        if span_scores is not None:
            scores += span_scores[:, width - 1, :starts]
        chart = chart.write(width, _pad_positions(scores, 0, width - 1))
        as_left = as_left.write(width, _pad_positions(_log_matmul(scores, left_spans), 0, width - 1))
        as_right = as_right.write(width, _pad_positions(_log_matmul(scores, right_spans), width - 1, 0))
        return width + 1, chart, as_left, as_right

    _, chart, _, _ = tf.while_loop(
        lambda width, *_: width <= length, body, (tf.constant(2), chart, as_left, as_right)
    )
    return chart.stack()


def _whole_sentence(chart, lengths):
    """`chart[length_b, b, 0]` for every sentence `b`: the scores of the span that covers the whole sentence."""
    lengths = tf.cast(lengths, tf.int32)
    batch = tf.range(tf.shape(lengths)[0])
    return tf.gather_nd(chart, tf.stack([lengths, batch, tf.zeros_like(batch)], axis=1))


def inside(root, rules, preterminals, lengths, span_scores=None):
    """Log partition `log sum_trees p(tree, sentence)` `[batch]` of each sentence (`log p(sentence)` when the
    scores are log probabilities).

    Args:
        root: `[batch, NT]` log scores of `S -> A`.
        rules: `[batch, NT, NT+T, NT+T]` log scores of `A -> B C`, or `LowRankRules`.
        preterminals: `[batch, length, T]` log scores of `T -> w_i` for each word (anything finite in padding;
            `length` at least 2).
        lengths: `[batch]` number of words of each sentence, at least 2 (a one-word sentence has no binary tree:
            its score is about `NEG`).
        span_scores: optional `[batch, length, length, NT]` scores added to each labelled span (see `inside_chart`).
    """
    chart = inside_chart(rules, preterminals, span_scores)
    return tf.reduce_logsumexp(tf.cast(root, tf.float32) + _whole_sentence(chart, lengths), axis=-1)


def span_marginals(root, rules, preterminals, lengths):
    """Posterior marginals of every labelled span, as the gradient of the log partition (Eisner, 2016, "Inside-
    Outside and Forward-Backward Algorithms Are Just Backprop").

    Returns `(spans, words)`: `spans[b, w, i, A]` is the probability that nonterminal `A` covers words
    `i .. i+w` (width `w + 1`; zero for widths below 2 and outside the sentence), and `words[b, i, T]` that
    preterminal `T` generates word `i`.
    """
    return _span_gradients(inside, root, rules, preterminals, lengths)


def _span_gradients(score, root, rules, preterminals, lengths):
    """`(d score / d span scores [b, n, n, NT], d score / d preterminals [b, n, T])` of `score` (`inside` or
    `viterbi`) summed over the batch, with zero span scores added to every labelled span."""
    preterminals = tf.convert_to_tensor(preterminals, tf.float32)
    shape = tf.shape(preterminals)
    span_scores = tf.zeros([shape[0], shape[1], shape[1], _num_nonterminals(rules)], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([span_scores, preterminals])
        total = score(root, rules, preterminals, lengths, span_scores)
    spans, words = tape.gradient(total, [span_scores, preterminals])
    return spans, words


def viterbi(root, rules, preterminals, lengths, span_scores=None):
    """Log score `[batch]` of each sentence's most probable labelled tree, `max_trees log p(tree, sentence)` (the
    Viterbi score; arguments as `inside`)."""
    chart = inside_chart(rules, preterminals, span_scores, best=True)
    return _best_of(tf.cast(root, tf.float32) + _whole_sentence(chart, lengths))


def viterbi_spans(root, rules, preterminals, lengths):
    """The most probable labelled tree of each sentence (the Viterbi parse, as Kim, Dyer & Rush decode), as the
    gradient of its score (`viterbi`).

    Returns `(spans, words)`, both 0/1: `spans[b, w, i, A]` is 1 when the tree has nonterminal `A` over words
    `i .. i+w` (width `w + 1`; widths below 2 and spans outside the sentence are 0), and `words[b, i, T]` when it
    puts preterminal `T` over word `i`. Ties between trees go to one of them (the first argmax at every step).
    """
    spans, words = _span_gradients(viterbi, root, rules, preterminals, lengths)
    return tf.round(spans), tf.round(words)


def span_cky(span_scores, lengths):
    """The binary tree that maximises the sum of its spans' scores, as 0/1 indicators `[batch, width, start]`.

    `span_scores[b, w, i]` scores the span of width `w + 1` starting at word `i`; width-1 spans and the whole
    sentence are in every tree. With span marginals as scores this is minimum-Bayes-risk parsing: the tree with the
    most expected correct spans. Ties go to the first split (the most right-branching). A pass of the same shape as
    `inside` with max in place of log-sum-exp; the tree is the gradient of its best score, which flows through one
    argmax per span.
    """
    span_scores = tf.convert_to_tensor(span_scores, tf.float32)
    batch, length = tf.shape(span_scores)[0], tf.shape(span_scores)[1]
    with tf.GradientTape() as tape:
        tape.watch(span_scores)
        first = span_scores[:, 0]
        by_start = tf.TensorArray(tf.float32, size=length + 1, element_shape=[None, None], clear_after_read=False)
        by_end = tf.TensorArray(tf.float32, size=length + 1, element_shape=[None, None], clear_after_read=False)
        zeros = tf.zeros([batch, length])
        by_start, by_end = by_start.write(0, zeros).write(1, first), by_end.write(0, zeros).write(1, first)

        def body(width, by_start, by_end):
            starts = length - width + 1
            left = by_start.gather(tf.range(1, width))[:, :, :starts]  # left widths 1 .. width - 1
            right = by_end.gather(tf.range(width - 1, 0, -1))[:, :, width - 1 : width - 1 + starts]
            splits = tf.transpose(left + right, [1, 2, 0])  # [batch, starts, splits]
            best = tf.gather(splits, tf.argmax(splits, axis=-1, output_type=tf.int32), batch_dims=2)
            scores = best + span_scores[:, width - 1, :starts]
            pad = tf.zeros([batch, width - 1])
            return width + 1, by_start.write(width, tf.concat([scores, pad], 1)), by_end.write(
                width, tf.concat([pad, scores], 1)
            )

        _, by_start, _ = tf.while_loop(lambda width, *_: width <= length, body, (tf.constant(2), by_start, by_end))
        lengths = tf.maximum(tf.cast(lengths, tf.int32), 1)
        batch_index = tf.range(batch)
        best = tf.gather_nd(by_start.stack(), tf.stack([lengths, batch_index, tf.zeros_like(batch_index)], axis=1))
    chosen = tape.gradient(best, span_scores)
    valid = tf.cast(tf.range(length)[None, :] < tf.cast(lengths, tf.int32)[:, None], tf.float32)
    return tf.round(chosen) * valid[:, None, :]


def bracketed_trees(tokens, lengths, chosen, labels):
    """Penn Treebank bracket strings `[batch]` of trees given as span indicators, e.g. `(NT3 (T1 the) (T4 cat))`.

    Args:
        tokens: `[batch, length]` strings, the leaves verbatim (padding ignored).
        lengths: `[batch]` number of words; an empty sentence gives an empty string.
        chosen: `[batch, width, start]` 0/1 span indicators (from `span_cky`).
        labels: `[batch, width, start]` strings, the label of each span.
    """
    chosen = tf.cast(chosen, tf.bool)
    length = tf.shape(chosen)[1]
    # Openings at each word, widest span first; closings: one ")" per chosen span that ends at the word.
    opening = tf.where(chosen, tf.strings.join(["(", labels, " "]), "")
    opening = tf.strings.reduce_join(tf.reverse(tf.transpose(opening, [0, 2, 1]), axis=[2]), axis=2)
    widths, starts = tf.meshgrid(tf.range(length), tf.range(length), indexing="ij")
    ends = tf.one_hot(widths + starts, length, dtype=tf.float32)  # [width, start, end]
    closing_count = tf.cast(tf.einsum("bws,wse->be", tf.cast(chosen, tf.float32), ends), tf.int32)
    closing = tf.strings.reduce_join(tf.where(tf.sequence_mask(closing_count, length), ")", ""), axis=2)
    words = tf.strings.join([opening, tokens, closing])
    ragged = tf.RaggedTensor.from_tensor(words, lengths=tf.cast(lengths, tf.int64))
    return tf.strings.reduce_join(ragged, axis=1, separator=" ")
