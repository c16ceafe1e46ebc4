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

Nothing is refitted on conversions: the judge is the recipe's. Speed is not measured here.
"""

import argparse

import numpy as np
import tensorflow as tf

from keras_ae.data.speech import HELD_OUT_SPLITS, load_speech_corpus
from keras_ae.evaluation.conversion import (
    conversion_pairs,
    mfcc_frames,
    speaker_judges,
    utterance_statistics,
)
from keras_ae.layers.audio.log_mel import log_mel_frames
from keras_ae.recipes import voice_conversion
from keras_ae.recipes.common import format_table

BLOCKS = {  # indices into utterance_statistics(mfcc + deltas): means 0-38, standard deviations 39-77
    "level": [0, 39],
    "envelope": list(range(1, 13)),
    "spread": list(range(40, 52)),
    "dynamics": list(range(13, 39)) + list(range(52, 78)),
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a voice-conversion export (SavedModel folder)")
    parser.add_argument("--seed", type=int, default=0, help="the recipe's --seed (corpus, pairs, classifier)")
    parser.add_argument("--speakers", type=int, default=16)
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--held-out-speakers", type=int, default=4)
    parser.add_argument("--held-out-split", choices=HELD_OUT_SPLITS, default=voice_conversion.HELD_OUT_SPLIT,
                        help="the recipe's --held-out-split")
    parser.add_argument("--pairs", type=int, default=64, help="conversions per condition")
    args = parser.parse_args(argv)
    loaded = tf.saved_model.load(args.model)

    def convert(source, reference):
        return np.asarray(loaded.convert(source=tf.constant(source[None]), reference=tf.constant(reference[None])))[0]

    def resynthesize(waveform):
        return np.asarray(loaded.resynthesize(waveforms=tf.constant(waveform[None])))[0]

    corpus = load_speech_corpus(num_speakers=args.speakers, num_sentences=args.sentences,
                                held_out_speakers=args.held_out_speakers, seed=args.seed,
                                held_out_split=args.held_out_split)
    judge = speaker_judges(corpus, None, resynthesize, 160, 20, seed=args.seed)[0]
    long_enough = corpus.subset(np.flatnonzero([len(w) >= 4800 for w in corpus.waveforms]))
    seen = sorted(set(corpus.select(speakers="train").speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    rows = {}
    for offset, (name, speakers) in enumerate({"seen": seen, "unseen": unseen}.items()):
        pairs = conversion_pairs(long_enough, long_enough, speakers, args.pairs, seed=args.seed + offset)
        rows[name] = condition_rows(convert, resynthesize, long_enough, pairs, judge)
    columns = list(next(iter(rows.values())))
    for start in range(0, len(columns), 7):
        print(format_table(rows, columns[start:start + 7]))
    return rows


if __name__ == "__main__":
    main()
