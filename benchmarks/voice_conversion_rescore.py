"""The recipe's conversion table again for a finished voice-conversion run, with more pairs per condition.

`python -m benchmarks.voice_conversion_rescore --run RUN_DIR --pairs 64 [--output FILE.json]` loads the newest
checkpoint of a `keras_ae.recipes.voice_conversion` run, rebuilds what the recipe evaluated it on from the run's own
flags (the eSpeak corpus and its split, the held-out engine's Festival voices, seen and unseen targets) and computes
the recipe's whole table (`conversion_report`, the same seeds) with `--pairs` conversions per condition. A share of
32 pairs reads to about +-0.15 (two standard errors at 0.5); 64 pairs halve its variance.

`conversion_pairs` draws pairs one after another from one seeded generator, so the first `--prefix` pairs of a
condition (default 32, the recipe's) are the pairs the run's own metrics.json scored. The table therefore also gives
each condition's target share on those first pairs (`target_share_first`: equal to the run's number when the
rebuilt setting is the run's, a check) and on the pairs after them (`target_share_rest`: a second, independent
draw), and the standard error of the share over all pairs (`target_share_se`, binomial). The run folder is not
written to; `--output` gets the metrics as JSON, with each pair's hit (`pair_hits`, in draw order).

Speed is not measured here.
"""

import argparse
import json
import time
from argparse import Namespace
from pathlib import Path

import numpy as np

from benchmarks.voice_conversion_rhythm import load_run
from keras_ae.data.festival import HELD_OUT_VOICES
from keras_ae.evaluation.conversion import conversion_report, one_utterance
from keras_ae.recipes.common import format_table
from keras_ae.recipes.speech_recipe import held_out_engine_corpus, load_corpus
from keras_ae.recipes.voice_conversion import CONVERSION_COLUMNS, MIN_SECONDS, check_speakers, evaluation_split

CONDITIONS = ("seen targets", "unseen targets", "held-out engine targets")


def evaluation_setting(flags):
    """What the recipe evaluated a run with these flags on: `(corpus, train, probe_test, engine, seen, unseen)`,
    as `keras_ae.recipes.voice_conversion.main` builds them (extra speakers train only, so they are not here)."""
    args = Namespace(**flags)
    corpus, train, probe_test, seen, unseen = evaluation_split(check_speakers(load_corpus(args), args), args)
    engine = held_out_engine_corpus(args, HELD_OUT_VOICES, train_sentences=20)
    return corpus, train, probe_test, engine, seen, unseen


def split_rows(matrix_rows, conditions):
    """`conversion_report`'s matrix rows split by condition (`conditions`: `{name: count}`, in condition order)."""
    starts = np.cumsum([0, *conditions.values()])
    return {name: matrix_rows[start:start + count] for (name, count), start in zip(conditions.items(), starts)}


def split_shares(matrix_rows, conditions, prefix):
    """Per condition, the target share on its first `prefix` pairs, on the rest and its binomial standard error over
    all, from `conversion_report`'s matrix rows (`conditions`: `{name: count}`, as in `split_rows`)."""
    shares = {}
    for name, rows in split_rows(matrix_rows, conditions).items():
        hits = np.array([hit for _, _, hit in rows], float)
        share = hits.mean() if len(hits) else float("nan")
        shares[name] = {"target_share_first": float(hits[:prefix].mean()) if len(hits) else None,
                        "target_share_rest": float(hits[prefix:].mean()) if len(hits) > prefix else None,
                        "target_share_se": float(np.sqrt(share * (1 - share) / max(len(hits), 1)))}
    return shares


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--pairs", type=int, default=64, help="conversions per condition (the recipe's default: 32)")
    parser.add_argument("--prefix", type=int, default=None,
                        help="pairs the run's own metrics.json scored (default: its 'pairs' flag)")
    parser.add_argument("--output", type=Path, default=None, help="write the metrics here as JSON")
    args = parser.parse_args(argv)
    if args.output is not None and Path(args.run).resolve() in args.output.resolve().parents:
        parser.error("--output must lie outside the run folder (this benchmark never writes into a run)")
    model, flags = load_run(args.run)
    prefix = args.prefix or flags["pairs"]
    corpus, train, probe_test, engine, seen, unseen = evaluation_setting(flags)
    started = time.perf_counter()
    metrics, matrix_rows, _ = conversion_report(
        model, one_utterance(model.convert), one_utterance(model.resynthesize), corpus, train, probe_test, engine,
        seen, unseen, probe_utterances=flags["probe_utterances"], pairs=args.pairs, min_seconds=MIN_SECONDS,
        seed=flags["seed"])
    table = metrics["conversion"]
    shares = split_shares(matrix_rows, {name: table[name]["pairs"] for name in CONDITIONS if name in table}, prefix)
    for name, values in shares.items():
        table[name].update(values)
    metrics["pair_hits"] = {name: [hit for _, _, hit in rows] for name, rows in split_rows(
        matrix_rows, {name: table[name]["pairs"] for name in shares}).items()}
    metrics.update({"run": str(args.run), "seed": flags["seed"], "prefix": prefix,
                    "evaluation_seconds": time.perf_counter() - started})
    print(f"{args.run} (seed {flags['seed']}): {args.pairs} pairs per condition, "
          f"{metrics['evaluation_seconds']:.0f} s; content-code probe {metrics['code_probes']['content_code']:.3f}; "
          f"self-conversion share {metrics['self_conversion_share']:.3f}")
    print(format_table(table, CONVERSION_COLUMNS + ["target_share_first", "target_share_rest", "target_share_se",
                                                    "target_share_mel_decoder"]))
    if args.output is not None:
        args.output.write_text(json.dumps(metrics, indent=1))
    return metrics


if __name__ == "__main__":
    main()
