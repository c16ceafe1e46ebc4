"""Speed of the inside algorithm (forward and backward, TensorFlow) against sentence length, beside a plain NumPy
CKY (Viterbi, forward only) of the same grammar.

    python benchmarks/inside_speed.py                                  # the TreeLatent defaults: NT 10, T 20
    python benchmarks/inside_speed.py --nonterminals 30 --preterminals 60 --lengths 5 10 20
    python benchmarks/inside_speed.py --nonterminals 250 --preterminals 500 --rule-rank 500   # TN-PCFG's sizes

For each length, a batch of `--batch-size` sentences of exactly that length with random rule, root and preterminal
scores: the table gives sentences per second of `inside` + its gradient with respect to all scores (what one
training step of the grammar costs, in a `tf.function`, best of `--repeats`), and of the NumPy CKY (one sentence at
a time, loops over span width and start, vectorised over splits and symbols). Both fill the same chart: NT symbols
over spans of two words or more, T over single words. With `--rule-rank R` the rules are `LowRankRules` of rank R
(TN-PCFG) and the inside pass runs in rank space; the NumPy CKY multiplies them out first (skipped, `-`, when that
tensor would exceed `--cky-max-rules` numbers).
"""

import argparse
import time

import numpy as np
import tensorflow as tf

from keras_ae.layers.judges.inside import LowRankRules, inside


def numpy_cky(root, rules, preterminals):
    """Viterbi score of the best tree of one sentence: `root [NT]`, `rules [NT, S, S]`, `preterminals [n, T]`."""
    nt = rules.shape[0]
    length, t = preterminals.shape
    chart = np.full((length, length + 1, nt + t), -np.inf)  # chart[start, end, symbol]
    for i in range(length):
        chart[i, i + 1, nt:] = preterminals[i]
    for width in range(2, length + 1):
        for start in range(length - width + 1):
            end = start + width
            left = chart[start, start + 1 : end]  # [splits, S]
            right = chart[start + 1 : end, end]  # [splits, S]
            scores = left[:, None, :, None] + right[:, None, None, :] + rules[None]
            chart[start, end, :nt] = scores.max(axis=(0, 2, 3))
    return np.max(root + chart[0, length, :nt])


def random_rules(batch, nt, t, rank, rng):
    """Random log rule scores: the full `[batch, NT, S, S]` tensor, or with `rank` `LowRankRules` of it."""
    symbols = nt + t
    if not rank:
        return tf.Variable(
            tf.reshape(tf.nn.log_softmax(rng.normal(size=(batch, nt, symbols * symbols)).astype("float32")),
                       [batch, nt, symbols, symbols])
        )
    return LowRankRules(
        tf.Variable(tf.nn.log_softmax(rng.normal(size=(batch, nt, rank)).astype("float32"), axis=-1)),
        *(tf.Variable(tf.nn.log_softmax(rng.normal(size=(batch, symbols, rank)).astype("float32"), axis=1))
          for _ in range(2)),
    )


def multiplied_out(rules):
    """The full `[batch, NT, S, S]` log rule tensor of `rules` (NumPy)."""
    if not isinstance(rules, LowRankRules):
        return rules.numpy()
    head, left, right = (np.exp(part.numpy()) for part in rules)
    return np.log(np.einsum("bar,bcr,bdr->bacd", head, left, right))


def time_inside(batch, length, nt, t, repeats, rng, rank=0):
    root = tf.Variable(tf.nn.log_softmax(rng.normal(size=(batch, nt)).astype("float32")))
    rules = random_rules(batch, nt, t, rank, rng)
    preterminals = tf.Variable(rng.normal(size=(batch, length, t)).astype("float32"))
    lengths = tf.fill([batch], length)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(inside(root, rules, preterminals, lengths))
        return tape.gradient(total, [root, rules, preterminals])

    step()  # trace
    best = min(_timed(step) for _ in range(repeats))
    return batch / best, (root, rules, preterminals)


def _timed(function):
    started = time.perf_counter()
    tf.nest.map_structure(lambda x: x.numpy(), function())
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nonterminals", type=int, default=10)
    parser.add_argument("--preterminals", type=int, default=20)
    parser.add_argument("--lengths", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--rule-rank", type=int, default=0, help="low-rank rules of this rank (TN-PCFG); 0: full")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cky-sentences", type=int, default=4, help="sentences timed for the NumPy CKY")
    parser.add_argument("--cky-max-rules", type=float, default=2e7, help="largest rule tensor the NumPy CKY builds")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rank = f", rule rank {args.rule_rank}" if args.rule_rank else ""
    print(f"NT {args.nonterminals}, T {args.preterminals}{rank}, batch {args.batch_size}; sentences per second")
    print(f"{'length':>6}  {'inside fwd+bwd (TF)':>20}  {'CKY fwd (NumPy)':>16}")
    rows = []
    for length in args.lengths:
        speed, (root, rules, preterminals) = time_inside(
            args.batch_size, length, args.nonterminals, args.preterminals, args.repeats, rng, args.rule_rank
        )
        count = min(args.cky_sentences, args.batch_size)
        cky = None
        if args.batch_size * args.nonterminals * (args.nonterminals + args.preterminals) ** 2 <= args.cky_max_rules:
            full = multiplied_out(rules)
            started = time.perf_counter()
            for b in range(count):
                numpy_cky(root.numpy()[b], full[b], preterminals.numpy()[b])
            cky = count / (time.perf_counter() - started)
        rows.append({"length": length, "inside_sentences_per_second": speed, "cky_sentences_per_second": cky})
        print(f"{length:>6}  {speed:>20.1f}  {'-' if cky is None else f'{cky:.1f}':>16}", flush=True)
    return rows


if __name__ == "__main__":
    main()
