"""Training speed of Skip-thought and Quick-thought on this machine, and the wall time each needs to reach the same
book-probe accuracy.

    python benchmarks/sentence_speed.py                       # Austen, 128-d embeddings, 240 s of training each
    python benchmarks/sentence_speed.py --budget 60 --data my_texts/

Each model trains for `--budget` seconds of wall time (evaluation excluded); `--probes` times, evenly spaced in
training time, the book probe (linear, on an even spread of `--probe-train` training sentences, test = held-out
chapters) is measured. The table gives the training sentences per second (sentence = one training example: a
(previous, sentence, next) triple for Skip-thought, one sentence of a contiguous batch for Quick-thought), the best
probe accuracy (random init and best trained), and the training time each model needed to first reach the target
accuracy: the lower of the two best trained accuracies, so both reach it (reported only when the target is above
both random-init probes).
"""

import argparse
import json
import time

import keras

from keras_ae.data.text import build_vocabulary, load_text, make_contiguous_dataset, make_triple_dataset
from keras_ae.evaluation.probes import linear_probe_accuracy
from keras_ae.evaluation.sentences import embed, probe_training_set
from keras_ae.models.quick_thought import QuickThought
from keras_ae.models.skip_thought import SkipThought


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="austen")
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--word-dim", type=int, default=64)
    parser.add_argument("--vocabulary-size", type=int, default=3000)
    parser.add_argument("--max-length", type=int, default=25)
    parser.add_argument("--pooling", default="mean", choices=["last", "max", "mean"])
    parser.add_argument("--decoder-length", type=int, default=12, help="Skip-thought: words of the neighbours decoded")
    parser.add_argument("--chunk-size", type=int, default=20, help="Quick-thought: contiguous stretches per batch")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training per model")
    parser.add_argument("--probes", type=int, default=4, help="probes during training, evenly spaced in time")
    parser.add_argument("--probe-train", type=int, default=5000, help="training sentences the probe sees")
    parser.add_argument("--skip-batch-size", type=int, default=128)
    parser.add_argument("--quick-batch-size", type=int, default=400)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="also write the results as JSON here")
    return parser.parse_args(argv)


def probe(model, splits, probe_train):
    sentences, labels = probe_training_set(splits, probe_train)
    train_z, test_z = embed(model.encode, sentences), embed(model.encode, splits.test.sentences)
    return linear_probe_accuracy(train_z, labels, test_z, splits.test.labels)


def run(name, model, dataset, sentences_per_step, splits, args):
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, global_clipnorm=5.0))
    iterator = iter(dataset.repeat())
    model.train_on_batch(next(iterator))  # trace once, outside the timed budget
    curve = [(0.0, 0, probe(model, splits, args.probe_train))]
    trained, steps = 0.0, 0
    for round_index in range(1, args.probes + 1):
        while trained < args.budget * round_index / args.probes:
            started = time.perf_counter()
            model.train_on_batch(next(iterator))
            trained += time.perf_counter() - started
            steps += 1
        curve.append((trained, steps, probe(model, splits, args.probe_train)))
        print(f"{name}: {trained:6.1f} s, {steps} steps, probe {curve[-1][2]:.4f}", flush=True)
    return {
        "sentences_per_second": steps * sentences_per_step / trained,
        "initial_probe": curve[0][2],
        "best_probe": max(accuracy for _, _, accuracy in curve[1:]),
        "curve": curve,
    }


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    splits = load_text(args.data, max_length=args.max_length)
    vocabulary = build_vocabulary(splits.train.sentences, size=args.vocabulary_size)
    shared = dict(embedding_dim=args.embedding_dim, word_dim=args.word_dim, max_length=args.max_length)
    results = {
        "SkipThought": run(
            "SkipThought",
            SkipThought(vocabulary, pooling=args.pooling, decoder_length=args.decoder_length, **shared),
            make_triple_dataset(splits.train, args.skip_batch_size, shuffle=True, seed=args.seed),
            args.skip_batch_size,
            splits,
            args,
        ),
        "QuickThought": run(
            "QuickThought",
            QuickThought(vocabulary, pooling=args.pooling, **shared),
            make_contiguous_dataset(
                splits.train, args.quick_batch_size, shuffle=True, seed=args.seed, chunk_size=args.chunk_size
            ),
            args.quick_batch_size,
            splits,
            args,
        ),
    }
    # The target is the lower of the two best trained probes; it only means something above both random-init probes.
    target = min(result["best_probe"] for result in results.values())
    meaningful = all(target > result["initial_probe"] for result in results.values())
    for result in results.values():
        reached = [seconds for seconds, _, accuracy in result["curve"][1:] if accuracy >= target]
        result["seconds_to_target"] = reached[0] if meaningful and reached else None
    print(f"\n{splits.name}: {len(splits.train)} training sentences, embedding {args.embedding_dim}, budget "
          f"{args.budget:.0f} s per model; target probe accuracy {target:.4f} (the lower best)")
    print(f"{'model':<14}{'sentences/s':>13}{'random-init probe':>19}{'best probe':>12}{'s to target':>13}")
    for name, result in results.items():
        seconds = result["seconds_to_target"]
        print(
            f"{name:<14}{result['sentences_per_second']:>13.0f}{result['initial_probe']:>19.4f}"
            f"{result['best_probe']:>12.4f}{'n/a' if seconds is None else f'{seconds:.1f}':>13}"
        )
    if not meaningful:
        print("s to target: n/a, one model never rose above its random-init probe, so there is no common target.")
    speedup = results["QuickThought"]["sentences_per_second"] / results["SkipThought"]["sentences_per_second"]
    print(f"Quick-thought trains {speedup:.1f}x more sentences per second than Skip-thought here.")
    if args.output:
        with open(args.output, "w") as file:
            json.dump({"flags": vars(args), "target": target, "results": results}, file, indent=2)
    return results


if __name__ == "__main__":
    main()
