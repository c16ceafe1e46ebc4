"""Unsupervised parsing scores: unlabelled F1 against gold trees, the trivial-tree baselines, and perplexity beside
an LSTM language model.

Example:
    scores = parsing_f1(predicted_trees, gold_trees)          # {"sentence_f1": ..., "corpus_f1": ...}, in percent
    rows = baseline_f1(gold_trees, seed=0)                    # right / left branching and random trees

Conventions (Kim, Dyer & Rush, 2019, "Compound Probabilistic Context-Free Grammars for Grammar Induction", their
evaluation script): spans are unlabelled sets of word ranges; trivial spans (single words and the whole sentence)
are discarded; repeated spans (unary chains) count once. Sentence-level F1 is the mean over sentences of each
sentence's F1, where a sentence without gold spans has recall 1 and, when the prediction has none either,
precision 1. Corpus-level F1 pools true positives, false positives and false negatives over all sentences. Trees
may be `nltk.Tree`s or bracket strings; gold trees are compared after punctuation removal
(`keras_ae.data.trees.clean_tree`).
"""

import math

import numpy as np


def _as_tree(tree):
    import nltk

    return nltk.Tree.fromstring(tree) if isinstance(tree, (str, bytes)) else tree


def tree_spans(tree):
    """`(spans, length)`: the set of `(start, end)` word ranges (end exclusive) of the tree's constituents that
    cover two words or more but not the whole sentence, and the number of words."""
    labels, length = _constituents(tree)
    return set(labels), length


def constituents_in_order(tree):
    """`([(start, end, label)], length)`: every constituent of the tree that covers two words or more, children
    before their parents (post-order, so the root comes last), a span repeated by a unary chain once per node; and
    the number of words. Trees may be `nltk.Tree`s or bracket strings."""
    import nltk

    tree = _as_tree(tree.decode() if isinstance(tree, bytes) else tree)
    found = []

    def visit(node, start):
        if not isinstance(node, nltk.Tree):
            return start + 1
        end = start
        for child in node:
            end = visit(child, end)
        if end - start >= 2:
            found.append((start, end, node.label()))
        return end

    return found, visit(tree, 0)


def _constituents(tree):
    """`({(start, end): label}, length)` of the non-trivial constituents; a span repeated by a unary chain gets the
    label of its topmost node."""
    found, length = constituents_in_order(tree)
    labels = {(start, end): label for start, end, label in found}  # parents come later: the topmost label wins
    labels.pop((0, length), None)
    return labels, length


def _counts(predicted, gold):
    overlap = len(predicted & gold)
    return overlap, len(predicted) - overlap, len(gold) - overlap


def sentence_f1(predicted, gold):
    """F1 of two span sets, with the evaluation script's conventions for empty sets (module docstring)."""
    overlap = len(predicted & gold)
    precision = overlap / len(predicted) if predicted else 0.0
    recall = overlap / len(gold) if gold else 1.0
    if not gold and not predicted:
        precision = 1.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def span_f1(predicted_spans, gold_spans):
    """`{"sentence_f1", "corpus_f1"}` in percent for lists of span sets of the same sentences."""
    if len(predicted_spans) != len(gold_spans):
        raise ValueError(f"{len(predicted_spans)} predicted trees for {len(gold_spans)} gold trees; give one each.")
    if not gold_spans:
        raise ValueError("No trees to score.")
    sentence = [sentence_f1(p, g) for p, g in zip(predicted_spans, gold_spans)]
    tp, fp, fn = np.sum([_counts(p, g) for p, g in zip(predicted_spans, gold_spans)], axis=0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    corpus = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"sentence_f1": 100.0 * float(np.mean(sentence)), "corpus_f1": 100.0 * float(corpus)}


def parsing_f1(predicted_trees, gold_trees):
    """Unlabelled F1 (percent) of predicted trees against gold trees of the same sentences.

    Raises an error naming the first sentence whose trees cover different numbers of words.
    """
    if len(predicted_trees) != len(gold_trees):
        raise ValueError(f"{len(predicted_trees)} predicted trees for {len(gold_trees)} gold trees; give one each.")
    predicted, gold = [], []
    for index, (tree, reference) in enumerate(zip(predicted_trees, gold_trees)):
        spans, length = tree_spans(tree)
        gold_spans, gold_length = tree_spans(reference)
        if length != gold_length:
            raise ValueError(f"Sentence {index}: the predicted tree has {length} words, the gold tree {gold_length}.")
        predicted.append(spans)
        gold.append(gold_spans)
    return span_f1(predicted, gold)


def agreement_f1(first_trees, second_trees):
    """Inter-annotator agreement of two bracketings of the same sentences: `{"sentence_f1", "corpus_f1"}` in
    percent (`parsing_f1`'s conventions, which are symmetric: swapping the annotators gives the same numbers) and
    `"sentences"`, each sentence's F1. Unlike `parsing_f1` it checks the words, not only their number: it raises an
    error naming the first sentence whose two trees have different leaves.

    Example:
        agreement_f1(["(S (NP the cat) (VP sat down))"], ["(S (NP the cat) sat down)"])["sentence_f1"]   # 66.7
    """
    if len(first_trees) != len(second_trees):
        raise ValueError(f"{len(first_trees)} trees of the first annotator for {len(second_trees)} of the second; "
                         "give one each, for the same sentences in the same order.")
    for index, (first, second) in enumerate(zip(first_trees, second_trees)):
        first_words, second_words = _as_tree(first).leaves(), _as_tree(second).leaves()
        if first_words != second_words:
            raise ValueError(f"Sentence {index}: the annotators' trees have different words ({' '.join(first_words)!r} "
                             f"against {' '.join(second_words)!r}); bracket the same sentences in the same order.")
    first_spans = [tree_spans(tree)[0] for tree in first_trees]
    second_spans = [tree_spans(tree)[0] for tree in second_trees]
    return {**span_f1(second_spans, first_spans), "sentences": sentence_f1_values(second_spans, first_spans)}


# ----------------------------------------------------------------------------------------------------------------
# Where the errors are: per-sentence spread and recall by constituent type


def labelled_spans(tree):
    """`{(start, end): label}` of the tree's non-trivial constituents (as `tree_spans`); a span repeated by a unary
    chain gets the label of its topmost node (`(S (VP ...))` is an S)."""
    return _constituents(tree)[0]


def sentence_f1_values(predicted_spans, gold_spans):
    """Each sentence's F1 in percent (the values `span_f1` averages), for standard errors and paired comparisons."""
    return np.asarray([100.0 * sentence_f1(p, g) for p, g in zip(predicted_spans, gold_spans)])


def standard_error(values):
    """Standard error of the mean of `values` (sample standard deviation over the square root of their number)."""
    values = np.asarray(values, dtype="float64")
    return float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else float("nan")


def recall_by_label(predicted_spans, gold_trees):
    """`{label: {"recall": percent, "count": gold spans}}`: the share of the gold constituents of each label (NP, VP,
    PP, ...) that the predicted spans contain, over all sentences, most frequent label first; unlabelled F1 says how
    much is found, this says which constituents are found.

    Example:
        recall_by_label([right_branching_spans(len(t.leaves())) for t in gold], gold)["NP"]  # {"recall": .., ...}
    """
    found, counts = {}, {}
    for spans, tree in zip(predicted_spans, gold_trees):
        for span, label in labelled_spans(tree).items():
            counts[label] = counts.get(label, 0) + 1
            found[label] = found.get(label, 0) + (span in spans)
    order = sorted(counts, key=lambda label: (-counts[label], label))
    return {label: {"recall": 100.0 * found[label] / counts[label], "count": counts[label]} for label in order}


def subject_clauses(tree):
    """`[(subject, subject_start, vp, verb)]` of every `(S ... (NP subject) (VP ...) ...)` of a gold tree: the NP and
    VP nodes (`nltk.Tree`), the subject's first word and the verb phrase's first word (positions in the sentence)."""
    import nltk

    tree = _as_tree(tree.decode() if isinstance(tree, bytes) else tree)
    clauses = []

    def visit(node, start):
        if not isinstance(node, nltk.Tree):
            return start + 1
        children, end = [], start
        for child in node:
            children.append((child, end))
            end = visit(child, end)
        for (subject, first), (vp, verb) in zip(children, children[1:]):
            if node.label() == "S" and _label(subject) == "NP" and _label(vp) == "VP":
                clauses.append((subject, first, vp, verb))
        return end

    visit(tree, 0)
    return clauses


def transitive_clauses(tree):
    """`[(subject_start, verb, vp_end)]` of the gold tree's clauses `(S ... (NP subject) (VP (V verb) (NP object)
    ...) ...)`: an S with an NP followed by a VP whose first child is a verb tag (`VB...`) and whose second is an NP
    (or a VP whose first child is such a VP: the modified verb phrase of `(VP (VP saw the dog) (PP in it))`)."""
    clauses = []
    for _, first, vp, verb in subject_clauses(tree):
        while _label(vp[0]) == "VP":  # (VP (VP saw the dog) (PP in the garden)): the inner VP
            vp = vp[0]
        if len(vp) >= 2 and _label(vp[0]).startswith("VB") and _label(vp[1]) == "NP":
            clauses.append((first, verb, verb + len(vp.leaves())))
    return clauses


def _label(node):
    return node.label() if hasattr(node, "label") else ""


def clause_groupings(predicted_spans, gold_trees):
    """How predicted trees group the subject, verb and object of the gold trees' transitive clauses
    (`transitive_clauses`): `{"clauses": count, "verb_object": percent, "subject_verb": percent}`, the share of
    clauses whose predicted tree has the verb phrase (verb and object, `(S (V O))`) or the subject with the verb
    (`((S V) O)`) as a constituent. The two are the competing local optima of grammar induction on subject-verb-object
    sentences; unlabelled F1 alone does not say which one a run found.

    Example:
        clause_groupings([tree_spans("(X (X the cat) (X saw (X a dog)))")[0]],
                         ["(S (NP (DT the) (NN cat)) (VP (VBD saw) (NP (DT a) (NN dog))))"])  # verb_object 100.0
    """
    counts = {"clauses": 0, "verb_object": 0, "subject_verb": 0}
    for spans, tree in zip(predicted_spans, gold_trees):
        length = len(_as_tree(tree.decode() if isinstance(tree, bytes) else tree).leaves())
        found = lambda span: span in spans or span == (0, length)  # noqa: E731 (the whole sentence is always a span)
        for subject, verb, end in transitive_clauses(tree):
            counts["clauses"] += 1
            counts["verb_object"] += found((verb, end))
            counts["subject_verb"] += found((subject, verb + 1))
    total = max(counts["clauses"], 1)
    return {"clauses": counts["clauses"], "verb_object": 100.0 * counts["verb_object"] / total,
            "subject_verb": 100.0 * counts["subject_verb"] / total}


def preterminal_tags(predicted_trees, gold_trees):
    """How well the induced preterminals (the labels right above the words) match the gold part-of-speech tags:
    `{"many_to_one": percent, "verbs": percent, "words": count}`. Each preterminal is mapped to the gold tag it
    most often sits on (many-to-one accuracy, the usual score of unsupervised tagging, Johnson 2007); `verbs` is the
    percent of gold verb tokens (`VB...`) whose preterminal maps to a verb tag. A word with siblings in the gold
    tree (no tag of its own) is skipped.

    Example:
        preterminal_tags(["(NT0 (T1 she) (T2 walked))"], ["(S (NP (PRP she)) (VP (VBD walked)))"])  # 100, 100
    """
    pairs = []
    for predicted, gold in zip(predicted_trees, gold_trees):
        predicted = _as_tree(predicted.decode() if isinstance(predicted, bytes) else predicted)
        gold = _as_tree(gold.decode() if isinstance(gold, bytes) else gold)
        for position in range(len(gold.leaves())):
            tag = gold[gold.leaf_treeposition(position)[:-1]]  # a tag covers its word alone
            symbol = predicted[predicted.leaf_treeposition(position)[:-1]]
            if len(tag) == 1:
                pairs.append((symbol.label(), tag.label()))
    counts = {}
    for symbol, tag in pairs:
        counts.setdefault(symbol, {}).setdefault(tag, 0)
        counts[symbol][tag] += 1
    mapped = {symbol: max(tags, key=lambda tag: (tags[tag], tag)) for symbol, tags in counts.items()}
    verbs = [(symbol, tag) for symbol, tag in pairs if tag.startswith("VB")]
    return {
        "many_to_one": 100.0 * sum(mapped[s] == t for s, t in pairs) / max(len(pairs), 1),
        "verbs": 100.0 * sum(mapped[s].startswith("VB") for s, _ in verbs) / max(len(verbs), 1),
        "words": len(pairs),
    }


def compare_to_right_branching(predicted_trees, gold_trees):
    """Where parsers win or lose against right-branching trees on the same gold trees: `{name: row}` for
    `"right-branching"`, `"left-branching"` and each of `predicted_trees` (`{name: trees}`), each row with
    `sentence_f1`, its standard error `sentence_f1_se`, the paired difference to right-branching `minus_right` and
    its standard error `minus_right_se` (per sentence, so the sentences' own difficulty cancels),
    `recall_by_label` and `clause_groupings` (see those functions)."""
    gold = [tree_spans(tree) for tree in gold_trees]
    gold_spans = [spans for spans, _ in gold]
    parsers = {"right-branching": [right_branching_spans(n) for _, n in gold],
               "left-branching": [left_branching_spans(n) for _, n in gold]}
    parsers.update({name: [tree_spans(tree)[0] for tree in trees] for name, trees in predicted_trees.items()})
    right = sentence_f1_values(parsers["right-branching"], gold_spans)
    rows = {}
    for name, spans in parsers.items():
        values = sentence_f1_values(spans, gold_spans)
        rows[name] = {
            "sentence_f1": float(np.mean(values)), "sentence_f1_se": standard_error(values),
            "minus_right": float(np.mean(values - right)), "minus_right_se": standard_error(values - right),
            "recall_by_label": recall_by_label(spans, gold_trees),
            "clause_groupings": clause_groupings(spans, gold_trees),
        }
    return rows


def tree_shape(trees, gold_trees=None):
    """How trees branch: `{"depth", "right_heavy", "like_right", "like_left"}`, and with gold trees of the same
    sentences `"right_heavy_by_label"`.

    `depth`: the mean over sentences of the most constituents of two words or more above one word (a unary chain's
    repeated span counts once; a right-branching tree of n words has depth n - 1, a balanced one about log2 n).
    `right_heavy`: of all constituents whose first and last child differ in width, the percent whose last child is
    the wider (right-branching trees: 100; left-branching: 0). `like_right` / `like_left`: mean sentence F1
    (percent) against the right- / left-branching tree of the same words, trivial spans discarded. A parser that
    collapses to one branching direction has `right_heavy` near 100 or 0 and that direction's F1 near 100.
    `right_heavy_by_label`: the same share split by what each constituent is in the gold tree, `{label: {"count",
    "right_heavy"}}` (count: the unbalanced constituents), with the whole sentence as `"sentence"` and a span that is
    no gold constituent as `"not gold"`, most frequent first: it says where a parser branches the other way.
    `top_split` (with gold trees): the percent of sentences whose first split (the words left of it, below any
    unary chain at the top) is at the gold tree's, `"same"`, or after it, `"later"` (e.g. `((she saw him) (at
    home))` where the gold tree splits `(she (saw him at home))`).
    """
    import nltk

    depths, like_right, like_left, splits = [], [], [], []
    counts = {}  # label -> [right-heavy, left-heavy]

    def visit(node, start, labels, length):
        """`(end, depth)` of the subtree that starts at word `start`."""
        if not isinstance(node, nltk.Tree):
            return start + 1, 0
        widths, depth, end = [], 0, start
        for child in node:
            child_end, child_depth = visit(child, end, labels, length)
            widths.append(child_end - end)
            depth, end = max(depth, child_depth), child_end
        if len(widths) >= 2 and widths[0] != widths[-1]:
            label = "sentence" if (start, end) == (0, length) else labels.get((start, end), "not gold")
            counts.setdefault(label, [0, 0])[widths[-1] < widths[0]] += 1
        repeated = len(widths) == 1 and isinstance(node[0], nltk.Tree)  # a unary chain: the same span again
        return end, depth + (end - start >= 2 and not repeated)

    for i, tree in enumerate(trees):
        tree = _as_tree(tree.decode() if isinstance(tree, bytes) else tree)
        spans, length = tree_spans(tree)
        labels = {} if gold_trees is None else labelled_spans(gold_trees[i])
        if gold_trees is not None:
            splits.append(np.sign(_top_split(tree) - _top_split(_as_tree(gold_trees[i]))))
        depths.append(visit(tree, 0, labels, length)[1])
        like_right.append(100.0 * sentence_f1(spans, right_branching_spans(length)))
        like_left.append(100.0 * sentence_f1(spans, left_branching_spans(length)))
    share = lambda right, left: 100.0 * right / (right + left) if right + left else float("nan")  # noqa: E731
    right, left = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    shape = {"depth": float(np.mean(depths)), "right_heavy": share(right, left),
             "like_right": float(np.mean(like_right)), "like_left": float(np.mean(like_left))}
    if gold_trees is not None:
        shape["right_heavy_by_label"] = {
            label: {"count": sum(c), "right_heavy": share(*c)}
            for label, c in sorted(counts.items(), key=lambda item: -sum(item[1]))
        }
        shape["top_split"] = {"same": 100.0 * float(np.mean(np.equal(splits, 0))),
                              "later": 100.0 * float(np.mean(np.greater(splits, 0)))}
    return shape


def _top_split(tree):
    """The number of words left of a tree's first split (below any unary chain at the top; 0 for one word)."""
    import nltk

    while len(tree) == 1 and isinstance(tree[0], nltk.Tree):
        tree = tree[0]
    if len(tree) == 1:
        return 0
    return len(tree[0].leaves()) if isinstance(tree[0], nltk.Tree) else 1


# ----------------------------------------------------------------------------------------------------------------
# Baselines


def right_branching_spans(length):
    """Non-trivial spans of the right-branching tree `(w1 (w2 (w3 w4)))`."""
    return {(start, length) for start in range(1, length - 1)}


def left_branching_spans(length):
    """Non-trivial spans of the left-branching tree `(((w1 w2) w3) w4)`."""
    return {(0, end) for end in range(2, length)}


def random_spans(length, rng):
    """Non-trivial spans of a random binary tree: each span splits at a uniformly drawn point, recursively."""
    spans = set()

    def split(start, end):
        if end - start < 2:
            return
        spans.add((start, end))
        point = int(rng.integers(start + 1, end))
        split(start, point)
        split(point, end)

    split(0, length)
    spans.discard((0, length))
    return spans


def baseline_f1(gold_trees, seed=0, random_draws=5):
    """F1 rows of the trivial parsers on the gold trees' sentences: right- and left-branching trees, and random
    trees (mean over `random_draws` draws; their spread as `sentence_f1_std`)."""
    gold = [tree_spans(tree) for tree in gold_trees]
    gold_spans = [spans for spans, _ in gold]
    rows = {
        "right_branching": span_f1([right_branching_spans(n) for _, n in gold], gold_spans),
        "left_branching": span_f1([left_branching_spans(n) for _, n in gold], gold_spans),
    }
    rng = np.random.default_rng(seed)
    draws = [span_f1([random_spans(n, rng) for _, n in gold], gold_spans) for _ in range(random_draws)]
    rows["random"] = {
        "sentence_f1": float(np.mean([d["sentence_f1"] for d in draws])),
        "corpus_f1": float(np.mean([d["corpus_f1"] for d in draws])),
        "sentence_f1_std": float(np.std([d["sentence_f1"] for d in draws])),
    }
    return rows


def spans_to_tree(spans, words):
    """A bracket string of the binary-or-flatter tree with the given spans over `words` (labels "X"), for figures."""
    spans = sorted(set(spans) | {(0, len(words))}, key=lambda span: (span[0], -span[1]))

    def build(start, end):
        children, position = [], start
        while position < end:
            inner = [s for s in spans if s[0] == position and s[1] <= end and s != (start, end)]
            if inner:
                child_end = inner[0][1]
                children.append(build(position, child_end))
                position = child_end
            else:
                children.append(words[position])
                position += 1
        return "(X " + " ".join(children) + ")"

    return build(0, len(words))


# ----------------------------------------------------------------------------------------------------------------
# Perplexity and models


def perplexity(log_likelihoods, word_counts):
    """`exp(-sum log p(sentence) / sum (words + 1))`: per-word perplexity with the end of each sentence counted as a
    token (a language model predicts it; a PCFG's sentence probability includes stopping). With ELBOs in place of
    log likelihoods it is an upper bound."""
    total = float(np.sum(log_likelihoods))
    tokens = float(np.sum(np.asarray(word_counts) + 1))
    return math.exp(-total / tokens)


def lstm_language_model_perplexity(train, test, vocabulary, hidden_dim=128, word_dim=64, epochs=5, batch_size=64,
                                   learning_rate=3e-3, seed=0, verbose=0):
    """Test perplexity (see `perplexity`) of a one-layer LSTM language model trained on `train` sentences, with the
    same vocabulary (out-of-vocabulary words share one id) as the grammar it is compared with.

    Returns `(perplexity, parameter_count)`.
    """
    import keras
    import tensorflow as tf

    lookup = {word: index + 2 for index, word in enumerate(vocabulary)}  # 0: padding and end, 1: unknown
    size = len(vocabulary) + 2

    def encode(sentences):
        ids = [[lookup.get(word, 1) for word in sentence.lower().split()] for sentence in sentences]
        length = max(len(row) for row in ids) + 1
        inputs = np.zeros((len(ids), length), "int32")  # a start symbol (0), then the words
        targets = np.zeros((len(ids), length), "int32")  # the words, then the end symbol (0)
        mask = np.zeros((len(ids), length), "float32")
        for row, words in enumerate(ids):
            inputs[row, 1 : len(words) + 1] = words
            targets[row, : len(words)] = words
            mask[row, : len(words) + 1] = 1.0
        return inputs, targets, mask

    # Seeded initialisers and a seeded order of the training sentences: the caller's global RNG is left alone.
    model = keras.Sequential(
        [
            keras.layers.Embedding(size, word_dim, embeddings_initializer=keras.initializers.RandomUniform(
                -0.05, 0.05, seed=seed)),
            keras.layers.LSTM(hidden_dim, return_sequences=True,
                              kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                              recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2)),
            keras.layers.Dense(size, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 3)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=5.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    inputs, targets, mask = encode(train)
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(inputs))
        model.fit(inputs[order], targets[order], sample_weight=mask[order], epochs=1, batch_size=batch_size,
                  shuffle=False, verbose=verbose)
    inputs, targets, mask = encode(test)
    logits = model.predict(inputs, batch_size=256, verbose=0)
    token_nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits).numpy()
    log_likelihoods = -(token_nll * mask).sum(axis=1)
    return perplexity(log_likelihoods, mask.sum(axis=1) - 1), model.count_params()


class TreeScorer:
    """Parses and ELBOs of one model (with `parse(sentences, decoding)` and `elbo(sentences) -> (elbo, kl)`, e.g.
    `TreeLatent`), in batches, through `tf.function`s traced once per model and decoding: tracing the inside
    algorithm and its gradient takes seconds, so a scorer used after every epoch keeps its traces.

    Example:
        scorer = TreeScorer(model)
        row, trees = scorer.evaluate(sentences, gold_trees)          # perplexity, kl, sentence_f1, corpus_f1
        best = scorer.parse(sentences, decoding="viterbi")            # bracket strings
    """

    def __init__(self, model, batch_size=128):
        self.model, self.batch_size, self._parse, self._elbo = model, batch_size, {}, None

    def _batches(self, sentences):
        import tensorflow as tf

        for start in range(0, len(sentences), self.batch_size):
            yield tf.constant(list(sentences[start : start + self.batch_size]))

    def parse(self, sentences, decoding=None):
        """Bracket strings of the model's parses (`decoding` None: the model's own)."""
        import functools

        import tensorflow as tf

        if decoding not in self._parse:
            self._parse[decoding] = tf.function(functools.partial(self.model.parse, decoding=decoding),
                                                input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        return [tree.decode() for batch in self._batches(sentences) for tree in self._parse[decoding](batch).numpy()]

    def evaluate(self, sentences, gold_trees=None, decoding=None):
        """`(row, trees)`: `row` has `perplexity` (from the ELBO), the mean `kl` and, with gold trees,
        `sentence_f1` and `corpus_f1`; `trees` are the parses."""
        import tensorflow as tf

        if self._elbo is None:
            self._elbo = tf.function(self.model.elbo, input_signature=[tf.TensorSpec([None], tf.string)],
                                     autograph=False)
        trees = self.parse(sentences, decoding)
        elbos, kls = zip(*[(values.numpy(), kl.numpy()) for values, kl in map(self._elbo, self._batches(sentences))])
        elbos, kls = np.concatenate(elbos), np.concatenate(kls)
        row = {"perplexity": perplexity(elbos, [len(s.split()) for s in sentences]), "kl": float(np.mean(kls))}
        if gold_trees is not None:
            row.update(parsing_f1(trees, gold_trees))
        return row, trees


def evaluate_tree_model(model, sentences, gold_trees=None, batch_size=128, decoding=None):
    """`TreeScorer(model, batch_size).evaluate(sentences, gold_trees, decoding)`: `(row, trees)` with the test
    `perplexity` (from the ELBO), the mean `kl` and, with gold trees, `sentence_f1` and `corpus_f1`."""
    return TreeScorer(model, batch_size).evaluate(sentences, gold_trees, decoding)
