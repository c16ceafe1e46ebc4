"""Where the phone probe loses content in voice conversion: the vocoder, the decoder, or the split.

`python -m benchmarks.voice_conversion_phones --run RUN_DIR [--pairs 32] [--no-rhythm-conversion]` loads the newest
checkpoint of a `keras_ae.recipes.voice_conversion` run (its flags give the corpus and the seed), fits the
recipe's phone probe exactly as the recipe does (`PhoneProbe`: MFCCs with deltas of real speech, the recipe's 160
probe utterances of seen speakers saying training sentences) and scores it, on the recipe's seeded pairs of
held-out sentences (seen and unseen eSpeak targets), on:

- `real source`: the source utterance (the recipe's "real" column);
- `resynthesis`: the source through the front end and the vocoder, no codes (the vocoder's own loss);
- `self-reconstruction`: the source's content code with the speaker code of the *same* utterance (the decoder's
  loss when nothing is converted);
- `self-conversion`: the source's content with the speaker code of another sentence of its own speaker;
- `conversion`: the source's content with the target's speaker code (the recipe's "converted" column);
- `real target` / `target resynthesis`: the target speaker's own utterance of the same sentence, against *its*
  labels: what a perfect conversion would score, so a voice the probe reads less well is not counted as lost
  content.

Columns: accuracy against the source's labels (`stretched_labels` where a conversion changed the length), that
accuracy over the real source's (`kept`), the best accuracy over label shifts of -3..3 frames and its shift (an
alignment error shows as a best shift other than 0), accuracy on speech frames and on silence frames, and a second
probe on the model's own log-mel frames with deltas (fitted on the front end's frames of the same real utterances)
applied to the frames *before* the vocoder (the front end's frames of real speech, the decoder's output for the
rest) and *after* it (the front end of the output waveform). Nothing is fitted on a model's output.
Speed is not measured here.
"""

import argparse

import numpy as np

from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from keras_ae.data.speech import FRAME_SAMPLES
from keras_ae.evaluation.conversion import PhoneProbe, conversion_pairs, one_utterance, stretched_labels
from keras_ae.evaluation.speech import with_deltas
from keras_ae.recipes.common import format_table

LAGS = range(-3, 4)
MIN_SAMPLES = 4800  # the recipe's MIN_SECONDS (0.3 s)


def shifted_accuracy(predicted, labels, lag):
    """Correct frames and frames compared when prediction `i + lag` is scored against label `i`."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if lag >= 0:
        predicted = predicted[lag:]
    else:
        labels = labels[-lag:]
    count = min(len(predicted), len(labels))
    return int(np.sum(predicted[:count] == labels[:count])), count


def probe_row(mfcc_probe, mel_probe, items):
    """The columns of the module doc for `items`: `(waveform, frames before the vocoder, labels)` triples."""
    hits = {lag: [0, 0] for lag in LAGS}
    speech, silence, before, after = [0, 0], [0, 0], [0, 0], [0, 0]
    for waveform, frames, labels in items:
        predicted = mfcc_probe.predict(waveform)
        labels = labels if len(labels) == len(predicted) else stretched_labels(labels, len(predicted))
        for lag in LAGS:
            correct, count = shifted_accuracy(predicted, labels, lag)
            hits[lag][0] += correct
            hits[lag][1] += count
        count = min(len(predicted), len(labels))
        right = predicted[:count] == labels[:count]
        is_speech = labels[:count] != 0
        speech[0] += int(np.sum(right & is_speech))
        speech[1] += int(np.sum(is_speech))
        silence[0] += int(np.sum(right & ~is_speech))
        silence[1] += int(np.sum(~is_speech))
        for total, utterance in ((before, frames), (after, waveform)):
            mel_predicted = mel_probe.predict(utterance)
            mel_labels = labels if len(labels) == len(mel_predicted) else stretched_labels(labels, len(mel_predicted))
            correct, count = shifted_accuracy(mel_predicted, mel_labels, 0)
            total[0] += correct
            total[1] += count
    accuracy = {lag: h[0] / max(h[1], 1) for lag, h in hits.items()}
    best = max(LAGS, key=lambda lag: accuracy[lag])
    share = lambda pair: pair[0] / max(pair[1], 1)  # noqa: E731
    return {"mfcc_probe": accuracy[0], "best_shift": best, "at_best_shift": accuracy[best],
            "speech_frames": share(speech), "silence_frames": share(silence),
            "log_mel_before_vocoder": share(before), "log_mel_after_vocoder": share(after)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--pairs", type=int, default=32, help="conversions per condition (the recipe's 32)")
    parser.add_argument("--probe-utterances", type=int, default=160, help="the recipe's --probe-utterances")
    parser.add_argument("--rhythm-conversion", action=argparse.BooleanOptionalAction, default=None,
                        help="switch the model's rhythm conversion on or off (default: as the run trained it)")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    if args.rhythm_conversion is not None:
        model.rhythm_conversion = args.rhythm_conversion
    seed = flags["seed"]
    corpus = run_corpus(flags)
    train = corpus.select(sentences="train", speakers="train")
    probe_train = train.sample(args.probe_utterances, seed)
    front_end = one_utterance(model.front_end)
    log_mel_features = lambda frames: np.asarray(with_deltas(np.asarray(frames)[None]))[0]  # noqa: E731
    mfcc_probe = PhoneProbe().fit(probe_train.waveforms, probe_train.phones, seed=seed)
    mel_probe = PhoneProbe(features=lambda u: log_mel_features(u if np.ndim(u) == 2 else front_end(u)))
    mel_probe.fit(probe_train.waveforms, probe_train.phones, seed=seed)
    convert, convert_frames = one_utterance(model.convert), one_utterance(model.convert_frames)
    resynthesize = one_utterance(model.resynthesize)
    pool = corpus.subset(np.flatnonzero([len(w) >= MIN_SAMPLES for w in corpus.waveforms]))
    seen = sorted(set(train.speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    rng = np.random.default_rng(seed)
    tables = {}
    for offset, (name, speakers) in enumerate({"seen targets": seen, "unseen targets": unseen}.items()):
        pairs = conversion_pairs(pool, pool, speakers, args.pairs, seed=seed + offset)  # the recipe's pairs
        items = {key: [] for key in ("real source", "resynthesis", "self-reconstruction", "self-conversion",
                                     "conversion", "real target", "target resynthesis")}
        for source, reference, truth in pairs:
            wave, labels = pool.waveforms[source], pool.phones[source]
            own = np.flatnonzero((pool.speakers == pool.speakers[source]) & (pool.sentences != pool.sentences[source]))
            own_reference = pool.waveforms[int(rng.choice(own))]
            items["real source"].append((wave, front_end(wave), labels))
            items["resynthesis"].append((resynthesize(wave), front_end(wave), labels))
            items["self-reconstruction"].append((convert(wave, wave), convert_frames(wave, wave), labels))
            items["self-conversion"].append((convert(wave, own_reference), convert_frames(wave, own_reference),
                                             labels))
            reference_wave = pool.waveforms[reference]
            items["conversion"].append((convert(wave, reference_wave), convert_frames(wave, reference_wave), labels))
            if truth is not None:
                target, target_labels = pool.waveforms[truth], pool.phones[truth]
                items["real target"].append((target, front_end(target), target_labels))
                items["target resynthesis"].append((resynthesize(target), front_end(target), target_labels))
        rows = {key: probe_row(mfcc_probe, mel_probe, value) for key, value in items.items() if value}
        real = rows["real source"]["mfcc_probe"]
        for row in rows.values():
            row["kept"] = row["mfcc_probe"] / real
        tables[name] = rows
        print(f"{name}: {len(pairs)} pairs (run {args.run}, seed {seed}, rhythm conversion "
              f"{'on' if model.rhythm_conversion else 'off'}; frames of {FRAME_SAMPLES} samples)")
        print(format_table(rows, ["mfcc_probe", "kept", "best_shift", "at_best_shift", "speech_frames",
                                  "silence_frames", "log_mel_before_vocoder", "log_mel_after_vocoder"]))
    return tables


if __name__ == "__main__":
    main()
