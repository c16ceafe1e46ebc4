"""Speaking rate in voice conversion: how much it differs between source and target, whether the judge's delta
statistics read it, how well the model's label-free rate estimate follows it, and what rhythm conversion does.

`python -m benchmarks.voice_conversion_rhythm --run RUN_DIR --pairs 64 [--report]` loads the newest checkpoint of a
`keras_ae.recipes.voice_conversion` run (its flags give the corpus and the seed) and prints, for the seeded pairs
of held-out sentences that `benchmarks.voice_conversion_cues` draws (seen and unseen eSpeak targets):

1. *timing*: the true stretch of each pair, the speech frames (phone labels other than silence) of the target's
   real utterance of the same sentence over those of the source: the median |stretch - 1| and the share of pairs
   more than 10% apart;
2. *does the judge read it*: over the same pairs, the correlation between the log stretch and the log ratio of the
   target's to the source's delta spread (mean over c1-c12 of the standard deviation of the MFCC deltas, part of the
   `dynamics` block of the recipe's MFCC speaker classifier), on real speech (negative: slower speech, smaller
   deltas);
3. *the estimate*: the correlation of the model's `rhythm_ratio` before clipping (source rate over the reference
   utterance's rate: another sentence of the target speaker, as in a real conversion) with the true stretch, and
   the mean |log error| of the clipped ratio against that of no rhythm conversion (stretch 1); per utterance, the
   correlation of `speaking_rate` with the true phone rate (phone segments per second of speech);
4. the cue table of `benchmarks.voice_conversion_cues` (same judge, same pairs) with `rhythm_conversion` off and on;
5. with `--report`, the recipe's whole conversion table (`conversion_report`, `--pairs-report` pairs per
   condition, eSpeak targets only) with rhythm conversion on, to set beside the run's own metrics.json (off).

Nothing is refitted on conversions. Speed is not measured here.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.voice_conversion_cues import condition_rows
from keras_ae.evaluation.conversion import conversion_pairs, mfcc_frames, one_utterance, speaker_judges
from keras_ae.recipes.common import format_table
from keras_ae.runs import CHECKPOINT_FOLDER, checkpoints


def load_run(run_dir, speaker_centroids=0):
    """The run's model (newest loadable checkpoint) and its flags. With `speaker_centroids`, a run built without a
    speaker-code centroid table (before session 28) gets an empty one of that size around the same weights (checked
    equal), for `adapt_speaker_centroids` and `convert(..., push=...)`."""
    import importlib

    folder = Path(run_dir)
    config = json.loads((folder / "config.json").read_text())
    module_name, class_name = config["model_class"].rsplit(".", 1)
    model_class = getattr(importlib.import_module(module_name), class_name)
    model = model_class.from_config(config["model"])
    for _, path in checkpoints(folder / CHECKPOINT_FOLDER):
        model.load_weights(path)
        if speaker_centroids and not config["model"].get("speaker_centroids"):
            tabled = model_class.from_config({**config["model"], "speaker_centroids": speaker_centroids})
            with warnings.catch_warnings():  # the table alone is missing from the file
                warnings.filterwarnings("ignore", message=".*could not be loaded")
                tabled.load_weights(path, skip_mismatch=True)
            kept = [v for v in tabled.weights if not v.path.startswith(tabled.speaker_push.name + "/")]
            if len(kept) != len(model.weights) or not all(
                    np.array_equal(a, b) for a, b in zip(model.get_weights(), [np.asarray(v) for v in kept])):
                raise ValueError(f"{path}: the weights did not load into a model with a centroid table")
            model = tabled
        return model, config["flags"]
    raise FileNotFoundError(f"no checkpoint in {folder / CHECKPOINT_FOLDER}")


def run_corpus(flags, held_out_split=None):
    """The eSpeak corpus a voice_conversion run used (its flags), or with `held_out_split` another split of the same
    seen speakers. Runs from before `--held-out-split` (session 12) used the "legacy" split."""
    from keras_ae.data.speech import load_speech_corpus

    return load_speech_corpus(num_speakers=flags["speakers"], num_sentences=flags["sentences"],
                              held_out_speakers=flags["held_out_speakers"], seed=flags["seed"],
                              held_out_split=held_out_split or flags.get("held_out_split", "legacy"))


def delta_spread(waveform):
    """Mean over c1-c12 of the standard deviation over time of the MFCC deltas (columns 13-38 are the deltas)."""
    return float(np.mean(np.std(mfcc_frames(waveform)[:, 14:26], axis=0)))


def speech_frames(phones):
    return int(np.sum(np.asarray(phones) != 0))


def phone_rate(phones):
    """Phone segments (silence left out) per second of speech, from 10 ms frame labels."""
    phones = np.asarray(phones)
    starts = np.flatnonzero(np.diff(phones, prepend=-1) != 0)
    segments = int(np.sum(phones[starts] != 0))
    return 100.0 * segments / max(speech_frames(phones), 1)


def correlation(x, y):
    return float(np.corrcoef(x, y)[0, 1])


def timing_rows(model, corpus, pairs, limit):
    rows = []
    rate = one_utterance(model.speaking_rate)
    for source, reference, truth in pairs:
        true = speech_frames(corpus.phones[truth]) / speech_frames(corpus.phones[source])
        estimate = float(rate(corpus.waveforms[source]) / rate(corpus.waveforms[reference]))
        rows.append({"true": true, "estimate": estimate, "clipped": float(np.clip(estimate, 1 / limit, limit)),
                     "dynamics": delta_spread(corpus.waveforms[truth]) / delta_spread(corpus.waveforms[source])})
    true = np.log([r["true"] for r in rows])
    estimate = np.log([r["estimate"] for r in rows])
    clipped = np.log([r["clipped"] for r in rows])
    return {
        "pairs": len(rows),
        "median_|stretch-1|": float(np.median(np.abs(np.exp(true) - 1))),
        "share_>10%": float(np.mean(np.abs(np.exp(true) - 1) > 0.1)),
        "corr_dynamics": correlation(true, np.log([r["dynamics"] for r in rows])),
        "corr_estimate": correlation(true, estimate),
        "log_error_none": float(np.mean(np.abs(true))),
        "log_error_rhythm": float(np.mean(np.abs(true - clipped))),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (--run-dir of the recipe)")
    parser.add_argument("--pairs", type=int, default=64, help="pairs per condition for parts 1-4")
    parser.add_argument("--report", action="store_true", help="also the recipe's conversion table, rhythm on")
    parser.add_argument("--pairs-report", type=int, default=32, help="pairs per condition for --report")
    parser.add_argument("--timing-only", action="store_true", help="parts 1-3 only (no judge, no conversions)")
    parser.add_argument("--utterances", type=int, default=160, help="utterances for the per-utterance correlation")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    seed = flags["seed"]
    corpus = run_corpus(flags)
    long_enough = corpus.subset(np.flatnonzero([len(w) >= 4800 for w in corpus.waveforms]))
    test = long_enough.select(sentences="test").sample(args.utterances, seed)
    rate = one_utterance(model.speaking_rate)
    estimated = np.log([float(rate(w)) for w in test.waveforms])
    true_rates = np.log([phone_rate(p) for p in test.phones])
    print(f"Per utterance ({len(test)} held-out sentences): correlation of log speaking_rate with log phone rate "
          f"{correlation(true_rates, estimated):.3f}; of log delta spread with log phone rate "
          f"{correlation(true_rates, np.log([delta_spread(w) for w in test.waveforms])):.3f}")
    seen = sorted(set(corpus.select(speakers="train").speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    conditions = {"seen": seen, "unseen": unseen}
    pairs = {name: [p for p in conversion_pairs(long_enough, long_enough, speakers, args.pairs, seed=seed + offset)
                    if p[2] is not None] for offset, (name, speakers) in enumerate(conditions.items())}
    timing = {name: timing_rows(model, long_enough, chosen, model.rhythm_limit) for name, chosen in pairs.items()}
    print(f"Timing (seed {seed}; stretch = target's speech frames / source's, same sentence; rhythm_limit "
          f"{model.rhythm_limit:g})")
    print(format_table(timing, list(next(iter(timing.values())))))
    if args.timing_only:
        return
    resynthesize = one_utterance(model.resynthesize)
    judge = speaker_judges(corpus, None, resynthesize, 160, 20, seed=seed)[0]
    cues = {}
    for setting in (False, True):
        model.rhythm_conversion = setting
        convert = one_utterance(model.convert)
        for name, chosen in pairs.items():
            cues[f"{name}, rhythm {'on' if setting else 'off'}"] = condition_rows(convert, resynthesize, long_enough,
                                                                                 chosen, judge)
    columns = list(next(iter(cues.values())))
    for start in range(0, len(columns), 7):
        print(format_table(cues, columns[start:start + 7]))
    if args.report:
        report(model, corpus, flags, args)


def report(model, corpus, flags, args):
    from keras_ae.evaluation.conversion import conversion_report
    from keras_ae.recipes.voice_conversion import CONVERSION_COLUMNS, MIN_SECONDS

    model.rhythm_conversion = True
    seed = flags["seed"]
    train = corpus.select(sentences="train", speakers="train")
    probe_test = corpus.select(sentences="test", speakers="train")
    seen = sorted(set(train.speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    started = time.perf_counter()
    metrics, _, _ = conversion_report(model, one_utterance(model.convert), one_utterance(model.resynthesize), corpus,
                                      train, probe_test, None, seen, unseen, probe_utterances=160,
                                      pairs=args.pairs_report, min_seconds=MIN_SECONDS, seed=seed)
    print(f"The recipe's table with rhythm conversion on ({time.perf_counter() - started:.0f} s); code probes "
          f"{metrics['code_probes']}; self-conversion share {metrics['self_conversion_share']:.3f}")
    print(format_table(metrics["conversion"], CONVERSION_COLUMNS + ["target_share_ceiling"]))


if __name__ == "__main__":
    main()
