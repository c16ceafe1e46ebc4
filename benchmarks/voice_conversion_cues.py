"""Which cue of the target's voice converted speech lacks: a diagnostic table for a voice-conversion export.

`python -m benchmarks.voice_conversion_cues --model saved_models/voice_conversion --seed 0` rebuilds the recipe's
eSpeak corpus (same `--seed`, `--speakers`, `--sentences`, `--held-out-speakers`, `--held-out-split`), fits the
recipe's independent speaker classifier (`keras_ae.evaluation.conversion.speaker_judges`: MFCC statistics of real
speech plus its resynthesis, never a conversion), converts `--pairs` seeded pairs per condition (seen / unseen
targets, held-out sentences) and prints, per condition:

- the target share, and the target share after the converted utterance's statistics in one block are replaced by
  those of the target's own resynthesised utterance of the same sentence (level: c0 mean and std; envelope:
  c1-c12 means; spread: c1-c12 standard deviations; dynamics: the deltas' statistics): the block whose swap gains
  most is what the judge misses;
- pitch (median F0 of voiced frames, `pysptk.swipe`) of the converted speech against the source's and the
  target's: does the decoder carry the reference's pitch or the source's? (the slope of log converted F0 on log
  target F0 and on log source F0 over the pairs, and the share of pairs whose F0 is nearer the target's). The
  source's and the target's F0 are read from their real speech, not the resynthesis: on some voices the tracker
  misreads the vocoder's output (eSpeak m5: 95-101 Hz real, 238-446 Hz resynthesised). Converted speech can only
  be tracked after the vocoder, so `f0_resynthesis_error_semitones` (the targets' resynthesis against their real
  speech) is the floor of `f0_error_semitones`;
- the converted c1-c12 standard deviations over the target's (`spread_ratio`, mean over pairs and coefficients;
  below 1: over-smoothed) and their mean |log ratio| (`spread_log_error`, beside the source's);
- level (mean energy of speech frames, dB), spectral tilt (slope of the mean log-mel spectrum, per bin) and voiced
  share (fraction of frames with an F0), each as converted minus target and source minus target.

With `--run RUN_DIR` (a recipe run folder: its newest checkpoint and its flags) in place of `--model`, and
`--chain`, it also follows each conversion through the model, `decoder frames -> vocoder waveform -> the judge's
features`, and prints one row per *view* (frame features of the model's unnormalised 80-bin log-mel frames, summed
up per utterance by their mean and standard deviation over time, or by the means alone) and one for the recipe's
MFCC judge on the waveform. Every view's classifier is fitted like the judge (real training-sentence speech of the
16 eSpeak speakers and 20 resynthesised utterances each); the row `log-mel, few` is fitted as the recipe's log-mel
judge is (10 real utterances per speaker). Columns: accuracy on real held-out sentences (seen / unseen speakers) and
on their resynthesis (unseen), the target share on the decoder's frames and on the vocoded waveform's frames (the
recipe's MFCC row: the waveform), seen and unseen, and the ceiling (the targets' resynthesised real utterance of the
same sentence). A view whose share falls from the decoder's frames to the vocoded ones loses the voice in the
vocoder; a view that is low on the decoder's frames already reads a cue the decoder does not write. A second table
gives the standard deviations over time of c1-c12, of their deltas and of their delta-deltas (80-bin cepstra) of the
decoder's frames, of the vocoded waveform and of the source's resynthesised utterance, over those of the target's
resynthesised utterance of the same sentence (mean over pairs and coefficients; below 1: flatter than the target).

Nothing is refitted on conversions: the judge is the recipe's. Speed is not measured here.
"""

import argparse

import numpy as np
import tensorflow as tf

from keras_ae.data.speech import FRAME_SAMPLES, HELD_OUT_SPLITS, load_speech_corpus
from keras_ae.evaluation.conversion import (
    conversion_pairs,
    mfcc_frames,
    one_utterance,
    speaker_judges,
    utterance_statistics,
)
from keras_ae.evaluation.speech import with_deltas
from keras_ae.layers.audio.log_mel import log_mel_frames
from keras_ae.recipes import voice_conversion
from keras_ae.recipes.common import format_table

BLOCKS = {  # indices into utterance_statistics(mfcc + deltas): means 0-38, standard deviations 39-77
    "level": [0, 39],
    "envelope": list(range(1, 13)),
    "spread": list(range(40, 52)),
    "dynamics": list(range(13, 39)) + list(range(52, 78)),
}


VIEWS = {  # frame features of unnormalised log-mel frames [frames, bins] (the model's front end)
    "log-mel": lambda frames: frames,
    "log-mel + deltas": lambda frames: with_deltas(frames[None])[0],
    "cepstra c0-c12": lambda frames: tf.signal.mfccs_from_log_mel_spectrograms(frames)[:, :13],
    "cepstra c0-c12 + deltas": lambda frames: with_deltas(tf.signal.mfccs_from_log_mel_spectrograms(frames)[None,
                                                                                                           :, :13])[0],
}


def pitch(waveform):
    """Per-frame F0 in Hz (0 where unvoiced), 10 ms hop."""
    import pysptk

    return pysptk.swipe(np.asarray(waveform, np.float64), fs=16000, hopsize=160, min=50, max=500, otype="f0")


def voiced_median(f0):
    """The median of a pitch track's voiced frames, in Hz (NaN if none is voiced)."""
    return float(np.median(f0[f0 > 0])) if np.any(f0 > 0) else np.nan


def cues(waveform):
    """Pitch (`f0`, Hz), voiced share, level (dB) and spectral tilt of one waveform."""
    f0 = pitch(waveform)
    log_mel = np.asarray(log_mel_frames(np.asarray(waveform, np.float32)[None], 40))[0]
    energy = log_mel.max(axis=1)
    speech = log_mel[energy > energy.max() - 4.6]  # frames within about 40 dB (natural log) of the loudest
    spectrum = speech.mean(axis=0)
    return {"f0": voiced_median(f0),
            "voiced": float(np.mean(f0 > 0)),
            "level": float(10 / np.log(10) * np.mean(np.log(np.exp(speech).sum(axis=1)))),
            "tilt": float(np.polyfit(np.arange(len(spectrum)), spectrum, 1)[0])}


def statistics(waveform):
    return utterance_statistics(mfcc_frames(waveform))


def condition_rows(convert, resynthesize, corpus, pairs, judge):
    classifier = judge.classifier
    pairs = [p for p in pairs if p[2] is not None]
    names = np.array([corpus.speaker_names[corpus.speakers[r]] for _, r, _ in pairs])
    converted = [convert(corpus.waveforms[s], corpus.waveforms[r]) for s, r, _ in pairs]
    truths = [resynthesize(corpus.waveforms[t]) for _, _, t in pairs]
    converted_stats = np.stack([statistics(c) for c in converted])
    truth_stats = np.stack([statistics(t) for t in truths])
    row = {"pairs": len(pairs), "target_share": float(np.mean(classifier.predict(converted_stats) == names)),
           "ceiling": float(np.mean(classifier.predict(truth_stats) == names))}
    for block, indices in BLOCKS.items():
        swapped = converted_stats.copy()
        swapped[:, indices] = truth_stats[:, indices]
        row[f"swap_{block}"] = float(np.mean(classifier.predict(swapped) == names))
    swapped = truth_stats.copy()
    swapped[:, BLOCKS["dynamics"]] = converted_stats[:, BLOCKS["dynamics"]]
    row["all_but_dynamics"] = float(np.mean(classifier.predict(swapped) == names))
    sources = [resynthesize(corpus.waveforms[s]) for s, _, _ in pairs]
    source_stats = np.stack([statistics(s) for s in sources])
    spread = BLOCKS["spread"]
    row["spread_ratio"] = float(np.mean(converted_stats[:, spread] / truth_stats[:, spread]))
    row["spread_log_error"] = float(np.mean(np.abs(np.log(converted_stats[:, spread] / truth_stats[:, spread]))))
    row["spread_log_error_source"] = float(np.mean(np.abs(np.log(source_stats[:, spread] / truth_stats[:, spread]))))
    measured = {"converted": [cues(c) for c in converted], "source": [cues(s) for s in sources],
                "target": [cues(t) for t in truths]}
    f0 = {"converted": np.array([m["f0"] for m in measured["converted"]]),
          "source": np.array([voiced_median(pitch(corpus.waveforms[s])) for s, _, _ in pairs]),
          "target": np.array([voiced_median(pitch(corpus.waveforms[t])) for _, _, t in pairs])}
    ok = np.isfinite(f0["converted"]) & np.isfinite(f0["source"]) & np.isfinite(f0["target"])
    log_f0 = {k: np.log(v[ok]) for k, v in f0.items()}
    design = np.stack([log_f0["target"], log_f0["source"], np.ones(ok.sum())], axis=1)
    slopes = np.linalg.lstsq(design, log_f0["converted"], rcond=None)[0]
    row.update({
        "f0_converted": float(np.median(f0["converted"][ok])), "f0_target": float(np.median(f0["target"][ok])),
        "f0_slope_target": float(slopes[0]), "f0_slope_source": float(slopes[1]),
        "f0_nearer_target": float(np.mean(np.abs(log_f0["converted"] - log_f0["target"])
                                          < np.abs(log_f0["converted"] - log_f0["source"]))),
        "f0_error_semitones": float(np.mean(np.abs(12 * (log_f0["converted"] - log_f0["target"]) / np.log(2)))),
        "f0_source_error_semitones": float(np.mean(np.abs(12 * (log_f0["source"] - log_f0["target"])
                                                          / np.log(2)))),
    })
    resynthesised_f0 = np.array([m["f0"] for m in measured["target"]])
    tracked = np.isfinite(resynthesised_f0) & np.isfinite(f0["target"])
    row["f0_resynthesis_error_semitones"] = float(np.mean(np.abs(
        12 * np.log2(resynthesised_f0[tracked] / f0["target"][tracked]))))
    for cue in ("level", "tilt", "voiced"):
        values = {k: np.array([m[cue] for m in v]) for k, v in measured.items()}
        row[f"{cue}_converted_minus_target"] = float(np.mean(np.abs(values["converted"] - values["target"])))
        row[f"{cue}_source_minus_target"] = float(np.mean(np.abs(values["source"] - values["target"])))
    return row


def fitted_classifier(statistics, speakers, seed=0):
    """The judge's classifier (standardised features, logistic regression) on utterance statistics `[n, dim]`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)).fit(
        statistics, np.asarray(speakers))


def view_statistics(frames, view, means_only=False):
    """`[n, dim]` utterance statistics of a list of unnormalised log-mel `frames` under one of `VIEWS`."""
    rows = np.stack([utterance_statistics(np.asarray(VIEWS[view](tf.constant(f, tf.float32)))) for f in frames])
    return rows[:, :rows.shape[1] // 2] if means_only else rows


def timed_conversion(model):
    """`(source, reference, frames) -> frames [frames, bins]`: the model's conversion with the source's content code
    resampled in time to `frames` (the target's own utterance of the sentence: its timing, given by an oracle)."""
    from keras_ae.layers.audio.rhythm import stretch_in_time

    @tf.function(reduce_retracing=True)
    def convert(source, reference, frames):
        content = stretch_in_time(model.encode(source), (frames + model.downsample - 1) // model.downsample)
        return model.decoder(content, model.encode_speaker(reference), length=frames, training=False,
                             reference=model.front_end(reference) if model.reference_attention else None)

    return lambda source, reference, frames: np.asarray(convert(
        tf.constant(source[None]), tf.constant(reference[None]), tf.constant(frames, tf.int32)))[0]


def chain_rows(model, corpus, pool, pairs_by_condition, seed=0, resynthesised_per_speaker=20, few_per_speaker=10,
               timed=None):
    """The `--chain` table of the module doc for a loaded model, `{view: {column: value}}`: classifiers fitted on
    `corpus`, conversions of `pairs_by_condition` (`{condition: pairs}`, index triples into `pool`); with `timed`
    (`timed_conversion`), also the decoder's frames of conversions given the target's timing."""
    resynthesize, vocode = one_utterance(model.resynthesize), one_utterance(model.vocoder)
    convert_frames, log_mel = one_utterance(model.convert_frames), one_utterance(model.front_end.log_mel)
    rng = np.random.default_rng(seed)
    train = corpus.select(sentences="train")
    by_speaker = [np.flatnonzero(train.speakers == s) for s in range(corpus.num_speakers)]
    drawn = lambda count: train.subset(np.concatenate([rng.choice(i, min(count, len(i)), False)  # noqa: E731
                                                        for i in by_speaker]))
    resynthesised, few = drawn(resynthesised_per_speaker), drawn(few_per_speaker)
    test = corpus.select(sentences="test")
    test = test.subset(np.concatenate([np.flatnonzero(test.speakers == s)[:10] for s in range(corpus.num_speakers)]))
    unseen_test = np.isin(test.speakers, corpus.select(speakers="test").speakers)
    names = lambda c, ids: np.array([c.speaker_names[s] for s in ids])  # noqa: E731
    labels = {"fit": names(corpus, [*train.speakers, *resynthesised.speakers]), "few": names(corpus, few.speakers),
              "test seen": names(corpus, test.speakers[~unseen_test]),
              "test unseen": names(corpus, test.speakers[unseen_test])}
    labels["test resynthesised unseen"] = labels["test unseen"]
    waveforms = {"fit": [*train.waveforms, *map(resynthesize, resynthesised.waveforms)], "few": few.waveforms,
                 "test seen": [w for w, u in zip(test.waveforms, unseen_test) if not u],
                 "test unseen": [w for w, u in zip(test.waveforms, unseen_test) if u]}
    waveforms["test resynthesised unseen"] = [resynthesize(w) for w in waveforms["test unseen"]]
    frames = {}
    for condition, pairs in pairs_by_condition.items():
        pairs = [p for p in pairs if p[2] is not None]
        labels[f"decoded {condition}"] = labels[f"vocoded {condition}"] = labels[f"truth {condition}"] = names(
            pool, [pool.speakers[r] for _, r, _ in pairs])
        decoded = [convert_frames(pool.waveforms[s], pool.waveforms[r]) for s, r, _ in pairs]
        if timed is not None:
            labels[f"timed {condition}"] = labels[f"truth {condition}"]
            frames[f"timed {condition}"] = [np.asarray(model.front_end.denormalize(timed(
                pool.waveforms[s], pool.waveforms[r], len(pool.waveforms[t]) // FRAME_SAMPLES))) for s, r, t in pairs]
        frames[f"decoded {condition}"] = [np.asarray(model.front_end.denormalize(f)) for f in decoded]
        waveforms[f"vocoded {condition}"] = [vocode(f) for f in decoded]
        waveforms[f"truth {condition}"] = [resynthesize(pool.waveforms[t]) for _, _, t in pairs]
        waveforms[f"source {condition}"] = [resynthesize(pool.waveforms[s]) for s, _, _ in pairs]
    frames.update({name: [log_mel(w) for w in values] for name, values in waveforms.items()})
    mfcc = {name: np.stack([utterance_statistics(mfcc_frames(w)) for w in values])
            for name, values in waveforms.items() if name != "few"}

    def row(statistics):
        """Accuracy of a classifier fitted on `statistics("fit")` (or "few") on every other set."""
        fit = "few" if "few" in statistics.sets else "fit"
        classifier = fitted_classifier(statistics(fit), labels[fit], seed)
        share = lambda name: float(np.mean(classifier.predict(statistics(name)) == labels[name]))  # noqa: E731
        columns = {"real_seen": share("test seen"), "real_unseen": share("test unseen"),
                   "resynthesised_unseen": share("test resynthesised unseen")}
        for condition in pairs_by_condition:
            for step in ("decoded", "timed", "vocoded", "truth"):
                if f"{step} {condition}" in statistics.sets:
                    columns[f"{step}_{condition}"] = share(f"{step} {condition}")
        return columns

    def statistics_of(view, means_only=False, few_only=False):
        def statistics(name):
            return view_statistics(frames[name], view, means_only)
        statistics.sets = set(frames) - ({"fit"} if few_only else {"few"})
        return statistics

    def mfcc_statistics(name):
        return mfcc[name]
    mfcc_statistics.sets = set(mfcc)

    rows = {"log-mel, fitted as the recipe's (few)": row(statistics_of("log-mel", few_only=True))}
    for view in VIEWS:
        rows[view] = row(statistics_of(view))
        rows[f"{view}, means"] = row(statistics_of(view, means_only=True))
    rows["MFCC judge (waveform)"] = row(mfcc_statistics)
    spreads = {}
    for condition in pairs_by_condition:
        truth = view_statistics(frames[f"truth {condition}"], "cepstra c0-c12 + deltas")
        for step in ("decoded", "timed", "vocoded", "source"):
            if f"{step} {condition}" not in frames:
                continue
            ratio = view_statistics(frames[f"{step} {condition}"], "cepstra c0-c12 + deltas") / truth
            spreads[f"{step}, {condition}"] = {
                "c1-c12 std": float(np.mean(ratio[:, 40:52])), "delta std": float(np.mean(ratio[:, 53:65])),
                "delta-delta std": float(np.mean(ratio[:, 66:78])),
                "c1-c12 std, mean |log|": float(np.mean(np.abs(np.log(ratio[:, 40:52])))),
                "delta std, mean |log|": float(np.mean(np.abs(np.log(ratio[:, 53:65]))))}
    return rows, spreads


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a voice-conversion export (SavedModel folder)")
    source.add_argument("--run", help="a voice_conversion run folder (config.json, checkpoint/): its newest "
                        "checkpoint, and its flags for the corpus and the seed")
    parser.add_argument("--chain", action="store_true", help="with --run: only the decoder -> vocoder -> judge "
                        "table of the module doc")
    parser.add_argument("--seed", type=int, default=0, help="the recipe's --seed (corpus, pairs, classifier)")
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--held-out-speakers", type=int, default=4)
    parser.add_argument("--held-out-split", choices=HELD_OUT_SPLITS, default=voice_conversion.HELD_OUT_SPLIT,
                        help="the recipe's --held-out-split")
    parser.add_argument("--pairs", type=int, default=64, help="conversions per condition")
    args = parser.parse_args(argv)
    if args.chain and not args.run:
        parser.error("--chain follows the decoder's frames, which an export does not give: use --run RUN_DIR")
    if args.run:
        from benchmarks.voice_conversion_rhythm import load_run, run_corpus

        model, flags = load_run(args.run)
        convert, resynthesize = one_utterance(model.convert), one_utterance(model.resynthesize)
        corpus, args.seed = run_corpus(flags), flags["seed"]
    else:
        loaded = tf.saved_model.load(args.model)

        def convert(source, reference):
            return np.asarray(loaded.convert(source=tf.constant(source[None]),
                                             reference=tf.constant(reference[None])))[0]

        def resynthesize(waveform):
            return np.asarray(loaded.resynthesize(waveforms=tf.constant(waveform[None])))[0]

        corpus = load_speech_corpus(num_speakers=args.speakers, num_sentences=args.sentences,
                                    held_out_speakers=args.held_out_speakers, seed=args.seed,
                                    held_out_split=args.held_out_split)
    long_enough = corpus.subset(np.flatnonzero([len(w) >= 4800 for w in corpus.waveforms]))
    seen = sorted(set(corpus.select(speakers="train").speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    pairs = {name: conversion_pairs(long_enough, long_enough, speakers, args.pairs, seed=args.seed + offset)
             for offset, (name, speakers) in enumerate({"seen": seen, "unseen": unseen}.items())}
    if args.chain:
        rows, spreads = chain_rows(model, corpus, long_enough, pairs, seed=args.seed, timed=timed_conversion(model))
        print(f"{args.run}: decoder -> vocoder -> judge, {args.pairs} pairs per condition")
        print(format_table(rows, list(next(iter(rows.values())))))
        print("standard deviations over time against the target's same sentence")
        print(format_table(spreads, list(next(iter(spreads.values())))))
        return rows, spreads
    judge = speaker_judges(corpus, None, resynthesize, 160, 20, seed=args.seed)[0]
    rows = {name: condition_rows(convert, resynthesize, long_enough, chosen, judge) for name, chosen in pairs.items()}
    columns = list(next(iter(rows.values())))
    for start in range(0, len(columns), 7):
        print(format_table(rows, columns[start:start + 7]))
    return rows


if __name__ == "__main__":
    main()
