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

`--per-phone` adds which phones are lost, with both conditions' pairs pooled: for each phone class of eSpeak's
English phonemes (`PHONE_CLASSES`: vowels, stops, affricates, fricatives, nasals, approximants, silence) its share of
the source frames, the MFCC probe's recall of it on the real source, the resynthesis, the self-reconstruction and the
conversion, the share of its frames given a phone of the same class (`class_kept`, so a vowel heard as another vowel
counts), and its part of the accuracy lost from real source to conversion in points (`points_lost`: share x recall
drop; the classes' parts add to the whole loss); then the phones that lose most, and a *content-code probe* (the
same logistic regression on the model's content code, each frame with its `--context` neighbours on either side,
fitted on the content codes of the same 160 real utterances): what the code itself tells apart before any decoder,
read linearly over about the decoder's window (3 blocks of kernel 5: 6 frames either side), beside the same windowed
probe on the real source's MFCCs (its ceiling).
"""

import argparse

import numpy as np

from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from keras_ae.data.speech import FRAME_SAMPLES
from keras_ae.evaluation.conversion import PhoneProbe, conversion_pairs, mfcc_frames, one_utterance, stretched_labels
from keras_ae.evaluation.speech import with_deltas
from keras_ae.recipes.common import format_table

LAGS = range(-3, 4)
MIN_SAMPLES = 4800  # the recipe's MIN_SECONDS (0.3 s)
# eSpeak NG's English phoneme names (the corpus' phone_names) by manner; every other name is a vowel
PHONE_CLASSES = {
    "silence": {"sil", ";", "?"},
    "stops": {"p", "b", "t", "d", "k", "g", "t#", "t2", "t["},
    "affricates": {"tS", "dZ"},
    "fricatives": {"f", "v", "T", "D", "s", "z", "S", "Z", "h"},
    "nasals": {"m", "n", "N", "n-"},
    "approximants": {"l", "r", "r-", "w", "w#", "j", "@L"},
}
PER_PHONE_ROWS = ("real source", "resynthesis", "self-reconstruction", "conversion")


def phone_class(name):
    """The manner class of an eSpeak English phoneme name (`PHONE_CLASSES`; "vowels" for the rest).

    Example:
        phone_class("dZ"), phone_class("aI@")   # ("affricates", "vowels")
    """
    return next((group for group, names in PHONE_CLASSES.items() if name in names), "vowels")


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


def windowed(frames, context):
    """`[frames, (2 context + 1) dim]`: every frame of `[frames, dim]` with its `context` neighbours on either side
    (edges repeated), earliest first.

    Example:
        windowed(np.arange(3.0)[:, None], 1)   # [[0, 0, 1], [0, 1, 2], [1, 2, 2]]
    """
    frames = np.asarray(frames)
    padded = np.concatenate([frames[:1]] * context + [frames] + [frames[-1:]] * context)
    return np.concatenate([padded[k: k + len(frames)] for k in range(2 * context + 1)], axis=1)


def frame_predictions(probe, items):
    """`(predicted, labels)`: every frame of `items` (`(utterance, _, labels)` triples) at shift 0, concatenated."""
    predicted, labels = [], []
    for utterance, _, utterance_labels in items:
        guess = probe.predict(utterance)
        utterance_labels = (utterance_labels if len(utterance_labels) == len(guess)
                            else stretched_labels(utterance_labels, len(guess)))
        count = min(len(guess), len(utterance_labels))
        predicted.append(guess[:count])
        labels.append(np.asarray(utterance_labels)[:count])
    return np.concatenate(predicted), np.concatenate(labels)


def per_phone_tables(predictions, phone_names, reference="real source", lossy="conversion", min_frames=100):
    """Per class and per phone (at least `min_frames` frames of `reference`): share of `reference`'s frames, recall
    in each row of `predictions` (`{row: (predicted, labels)}`), `class_kept` (the share given a phone of the same
    class), and `points_lost`, the class's or phone's part of the accuracy lost from `reference` to `lossy`
    (share x recall drop, in points). Returns `(classes, phones)`, phones sorted by points lost."""
    classes = np.array([phone_class(name) for name in phone_names])
    total = len(predictions[reference][1])
    def groups(keys, select):  # noqa: E306
        table = {}
        for key in keys:
            row = {}
            for name, (predicted, labels) in predictions.items():
                mask = select(labels, key)
                row[name] = float(np.mean(predicted[mask] == labels[mask])) if mask.any() else float("nan")
                if name == lossy:
                    row["class_kept"] = float(np.mean(classes[predicted[mask]] == classes[labels[mask]]))
            share = float(np.sum(select(predictions[reference][1], key))) / total
            row = {"share": share, **row, "points_lost": 100 * share * (row[reference] - row[lossy])}
            table[key] = row
        return table
    class_table = groups(sorted(set(classes.tolist())), lambda labels, key: classes[labels] == key)
    counts = np.bincount(predictions[reference][1], minlength=len(phone_names))
    frequent = [k for k in range(len(phone_names)) if counts[k] >= min_frames]
    phone_table = groups(frequent, lambda labels, key: labels == key)
    order = sorted(phone_table, key=lambda k: -phone_table[k]["points_lost"])
    return class_table, {f"{phone_names[k]} ({classes[k]})": phone_table[k] for k in order}


def print_per_phone(model, probe_train, mfcc_probe, items, phone_names, seed, context, top=15):
    """Prints `per_phone_tables` for `items` (`{row: [(utterance, frames, labels)]}`, both conditions pooled) and the
    rows of the windowed probes (`context` frames either side) on the real sources: the content code and the MFCCs."""
    encode = one_utterance(model.encode)
    predictions = {row: frame_predictions(mfcc_probe, items[row]) for row in PER_PHONE_ROWS}
    for row, features in ((f"content code +-{context}", encode), (f"real MFCC +-{context}", mfcc_frames)):
        probe = PhoneProbe(features=lambda u, features=features: windowed(features(u), context))
        predictions[row] = frame_predictions(probe.fit(probe_train.waveforms, probe_train.phones, seed=seed),
                                             items["real source"])
    classes, phones = per_phone_tables(predictions, phone_names)
    columns = ["share", *predictions, "class_kept", "points_lost"]
    accuracy = {row: float(np.mean(p == y)) for row, (p, y) in predictions.items()}
    print("per phone class, seen and unseen pairs pooled; frame accuracy: "
          + ", ".join(f"{row} {value:.3f}" for row, value in accuracy.items()))
    print(format_table(classes, columns))
    print(f"the {top} phones that lose most from real source to conversion")
    print(format_table(dict(list(phones.items())[:top]), columns))
    return {"accuracy": accuracy, "classes": classes, "phones": phones}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--pairs", type=int, default=32, help="conversions per condition (the recipe's 32)")
    parser.add_argument("--probe-utterances", type=int, default=160, help="the recipe's --probe-utterances")
    parser.add_argument("--rhythm-conversion", action=argparse.BooleanOptionalAction, default=None,
                        help="switch the model's rhythm conversion on or off (default: as the run trained it)")
    parser.add_argument("--per-phone", action="store_true",
                        help="also which phones and phone classes are lost, and a probe on the content code")
    parser.add_argument("--context", type=int, default=6,
                        help="with --per-phone, frames either side that the windowed probes read")
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
    tables, pooled = {}, {row: [] for row in PER_PHONE_ROWS}
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
        for row in PER_PHONE_ROWS:
            pooled[row] += items[row]
        rows = {key: probe_row(mfcc_probe, mel_probe, value) for key, value in items.items() if value}
        real = rows["real source"]["mfcc_probe"]
        for row in rows.values():
            row["kept"] = row["mfcc_probe"] / real
        tables[name] = rows
        print(f"{name}: {len(pairs)} pairs (run {args.run}, seed {seed}, rhythm conversion "
              f"{'on' if model.rhythm_conversion else 'off'}; frames of {FRAME_SAMPLES} samples)")
        print(format_table(rows, ["mfcc_probe", "kept", "best_shift", "at_best_shift", "speech_frames",
                                  "silence_frames", "log_mel_before_vocoder", "log_mel_after_vocoder"]))
    if args.per_phone:
        tables["per phone"] = print_per_phone(model, probe_train, mfcc_probe, pooled, corpus.phone_names, seed,
                                               args.context)
    return tables


if __name__ == "__main__":
    main()
