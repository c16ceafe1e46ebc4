"""The speaker-code push chosen on validation pairs: the conversion scores of a finished run at several pushes.

`python -m benchmarks.voice_conversion_push --run RUN_DIR [--split validation] [--pushes 1 1.5 2 2.5 3] [--pairs 64]`
loads the newest checkpoint of a `keras_ae.recipes.voice_conversion` run (runs from before session 28 get an empty
centroid table around their weights, `load_run(speaker_centroids=...)`), sets its training voices' speaker-code
centroids as the recipe does after training (`centroid_utterances` of the run's training pool, its extra speakers
included; `adapt_speaker_centroids`) and converts the same seeded pairs at every push t (`convert(..., push=t)`,
`keras_ae.layers.SpeakerCodePush`: the reference's code moved t times as far from its nearest training voice; t = 1
is the recipe's conversion). Per push and condition (seen / unseen / held-out engine targets) it prints the recipe's
scores (`conversion_scores`): target and source share of the recipe's independent speaker classifier (fitted once,
on real speech and its resynthesis, never on a conversion), MCD converted-vs-target, and the phone probe on converted
speech as a share of its accuracy on the real sources (`phone_kept`).

`--split validation` draws the pairs from the corpus's validation sentences (10% of the sentences, disjoint from the
test sentences and never trained on: training reads the training sentences only), with the recipe's seeds (seed +
condition index) and rules (`conversion_pairs(..., sentences="validation")`); `--split test` draws exactly the pairs
the recipe's table scores (the first `--pairs` of each condition), so t = 1 on test repeats the run's metrics.json
shares when `--pairs` is the run's. The rule that picks t, fixed before any validation number was read: the push
with the highest mean of the seen and unseen target shares on the validation pairs (ties: the smaller push). It is
printed as `chosen`; test should be read at the chosen push and at 1 only. Speed is not measured here.
"""

import argparse
import json
import time
from argparse import Namespace
from pathlib import Path

import numpy as np

from benchmarks.voice_conversion_rescore import CONDITIONS, evaluation_setting
from benchmarks.voice_conversion_rhythm import load_run
from keras_ae.core.validation import positive_float, positive_int
from keras_ae.evaluation.conversion import (
    PhoneProbe,
    conversion_pairs,
    conversion_scores,
    one_utterance,
    speaker_judges,
)
from keras_ae.recipes.common import format_table
from keras_ae.recipes.voice_conversion import (
    CENTROID_UTTERANCES,
    MIN_SECONDS,
    centroid_utterances,
    with_extra_speakers,
)

COLUMNS = ["pairs", "target_share", "source_share", "mcd_converted_target", "mcd_source_target", "phone_kept"]


def chosen_push(rows):
    """The push with the highest mean of the seen and unseen target shares (ties: the smaller one), from
    `{push: {condition: scores}}`.

    >>> chosen_push({1.0: {"seen targets": {"target_share": 0.8}, "unseen targets": {"target_share": 0.2}},
    ...              2.0: {"seen targets": {"target_share": 0.7}, "unseen targets": {"target_share": 0.4}},
    ...              3.0: {"seen targets": {"target_share": 0.6}, "unseen targets": {"target_share": 0.5}}})
    2.0
    """
    means = {push: np.mean([by[name]["target_share"] for name in ("seen targets", "unseen targets") if name in by])
             for push, by in rows.items()}
    best = max(means.values())
    return min(push for push, mean in means.items() if mean >= best - 1e-12)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--split", choices=["validation", "test"], default="validation",
                        help="the held-out sentences the pairs come from")
    parser.add_argument("--pushes", type=positive_float, nargs="+", default=[1.0, 1.5, 2.0, 2.5, 3.0],
                        help="speaker-code pushes to convert with (1: no push)")
    parser.add_argument("--pairs", type=positive_int, default=64, help="conversions per condition")
    parser.add_argument("--output", type=Path, default=None, help="write the scores here as JSON")
    args = parser.parse_args(argv)
    if args.output is not None and Path(args.run).resolve() in args.output.resolve().parents:
        parser.error("--output must lie outside the run folder (this benchmark never writes into a run)")
    flags = json.loads((Path(args.run) / "config.json").read_text())["flags"]
    corpus, train, _, engine, seen, unseen = evaluation_setting(flags)
    pool, _ = with_extra_speakers(corpus, train, Namespace(**flags))
    model, _ = load_run(args.run, speaker_centroids=len(np.unique(pool.speakers)))
    seed = flags["seed"]
    started = time.perf_counter()
    enrol = centroid_utterances(pool, CENTROID_UTTERANCES, seed)
    del pool  # the extra speakers' waveforms (4 GB with --extra-speakers 128) are not needed past the centroids
    model.adapt_speaker_centroids(enrol.waveforms, enrol.speakers)
    judge = speaker_judges(corpus, engine, one_utterance(model.resynthesize), flags["probe_utterances"], 20,
                           seed=seed)[0]
    probe_train = train.sample(flags["probe_utterances"], seed)
    phone_probe = PhoneProbe().fit(probe_train.waveforms, probe_train.phones, seed=seed)
    source_pool = corpus.subset(np.flatnonzero([len(w) >= MIN_SECONDS * 16000 for w in corpus.waveforms]))
    conditions = {"seen targets": (source_pool, seen), "unseen targets": (source_pool, unseen)}
    if engine is not None:
        conditions["held-out engine targets"] = (engine, sorted(set(engine.speakers.tolist())))
    pairs = {name: conversion_pairs(source_pool, targets, speakers, args.pairs, seed=seed + offset,
                                    sentences=args.split)
             for offset, (name, (targets, speakers)) in enumerate(conditions.items())}
    rows, hits = {}, {}
    for push in args.pushes:
        convert = one_utterance(lambda source, reference, push=push: model.convert(source, reference, push=push))
        rows[push] = {}
        for name in CONDITIONS:
            if name not in conditions or not pairs[name]:
                continue
            scores, _, matrix = conversion_scores(convert, source_pool, conditions[name][0], pairs[name], judge,
                                                  phone_probe)
            scores["phone_kept"] = scores["phone_converted"] / scores["phone_real_source"]
            rows[push][name] = scores
            hits[f"t={push:g}, {name}"] = [hit for _, _, hit in matrix]
        print(format_table({f"t={push:g}, {name}": scores for name, scores in rows[push].items()}, COLUMNS),
              flush=True)
    chosen = chosen_push(rows)
    seconds = time.perf_counter() - started
    print(f"{args.run} (seed {seed}), {args.split} pairs ({args.pairs} per condition), {len(enrol)} utterances "
          f"of {model.speaker_centroids} training voices in the centroids, {seconds:.0f} s")
    print(format_table({f"t={push:g}, {name}": scores for push, by in rows.items() for name, scores in by.items()},
                       COLUMNS))
    print(f"chosen (highest mean of the seen and unseen target shares on these pairs): t = {chosen:g}")
    result = {"run": str(args.run), "seed": seed, "split": args.split, "pairs": args.pairs, "chosen": chosen,
              "rows": {f"{push:g}": by for push, by in rows.items()}, "pair_hits": hits, "seconds": seconds}
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
