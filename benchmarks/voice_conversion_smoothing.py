"""How a voice-conversion decoder's frames differ from real ones, per phone class: error, smoothing, vowel space.

`python -m benchmarks.voice_conversion_smoothing --run RUN_DIR [--utterances 64] [--sentences test|train]` loads the
newest checkpoint of a `keras_ae.recipes.voice_conversion` run, takes `--utterances` utterances of its seen speakers
(held-out sentences by default; `--sentences train` for the training sentences, to tell under-fitting from a
generalisation gap) and compares, in the front end's log-mel frames (natural log of mel power, before the
standardisation), the real frames with the decoder's *self-reconstruction* (the utterance's own content and speaker
codes) and with a *conversion* (its content with the speaker code of another seen speaker's utterance). No vocoder:
this is the decoder alone. Per phone class (`PHONE_CLASSES` of `benchmarks.voice_conversion_phones`), frames
labelled by the corpus:

- `l1` and `l1 F1 / F2-F3 / high`: mean |rebuilt - real| over all bins, and over the bins with centre 200-900 Hz,
  900-3500 Hz and above 3500 Hz (where the first formant, the second and third, and frication sit);
- `l1 envelope` / `l1 detail`: the same error split into the frames' 9-bin moving average over bins (the spectral
  envelope: formants, tilt) and what is left (`detail`: harmonics and sharp peaks);
- `nearest mean real / made`: the share of frames nearer (Euclidean, cepstra c1-c12 of the log-mel frames, what
  the recipe's MFCC phone probe reads) to their own phone's mean over the real frames than to any other phone's,
  for the real and the made frames: phone identity in the envelope, read without fitting anything to the output;
- `detail`: the rebuilt frames' fine spectral structure over the real ones' (per frame, the standard deviation over
  bins of the frame minus its 9-bin moving average: formant peaks and harmonics; below 1 is a flattened spectrum);
- `between phones`: the spread of the class's per-phone mean frames (each phone of the class with at least 20
  frames; standard deviation over phones per bin, averaged) over the real one's (below 1: phones pulled toward
  their class mean, e.g. a shrunken vowel space);
- `within phone`: the same for the spread of frames around their phone's mean (variation the labels do not
  explain);
- `motion`: mean |frame t - frame t-1| over the real one's (below 1: smoothed in time).

`--mixes` adds which part of the self-reconstruction's error costs the recipe's phone probe (`PhoneProbe`, MFCCs
with deltas of the waveform, fitted on the recipe's 160 real probe utterances): each utterance's frames are mixed
from the real ones and the decoder's, vocoded with the model's own vocoder and probed against the labels, so a row
that takes one part from the real frames shows what that part of the decoder's error costs:
`real` (resynthesis), `made` (self-reconstruction), `real envelope + made detail` / `made envelope + real detail`
(the bin-wise split above), `made slow + real fast` / `real slow + made fast` (a split in time: a 5-frame moving
average over time, and what is left), `made, its mean error removed` (the utterance's mean error per bin taken
away: what a per-utterance offset, e.g. a wrong AdaIN shift, costs). Nothing is fitted on a model's output.

The conversion rows compare with the real source (so `l1` there includes the voice change); its ratios say
whether the swap shrinks the same structure further. Speed is not measured here.
"""

import argparse

import numpy as np
import scipy.fft
import tensorflow as tf

from benchmarks.voice_conversion_phones import MIN_SAMPLES, phone_class
from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from keras_ae.evaluation.conversion import PhoneProbe, one_utterance
from keras_ae.recipes.common import format_table

BANDS = {"F1": (200.0, 900.0), "F2-F3": (900.0, 3500.0), "high": (3500.0, 8000.0)}
DETAIL_WIDTH = 9  # bins of the moving average that `detail` removes
SLOW_WIDTH = 5  # frames of the moving average over time that splits slow from fast (`--mixes`)
MIN_PHONE_FRAMES = 20


def mel_centres(num_mel_bins, lower_hertz, upper_hertz):
    """Centre frequency in Hz of each of `num_mel_bins` mel bands between the edges (HTK mel scale)."""
    mel = lambda hertz: 1127.0 * np.log1p(hertz / 700.0)  # noqa: E731
    edges = np.linspace(mel(lower_hertz), mel(upper_hertz), num_mel_bins + 2)
    return 700.0 * np.expm1(edges[1:-1] / 1127.0)


def smoothed(frames, width=DETAIL_WIDTH, axis=1):
    """`[frames, bins]` averaged over `width` neighbours along `axis` (edges repeated); along bins (the default) it is
    the spectral envelope, along time (`axis=0`) the slow part of the frames."""
    frames = np.asarray(frames)
    pad = [(0, 0), (0, 0)]
    pad[axis] = (width // 2, width // 2)
    padded = np.pad(frames, pad, mode="edge")
    return sum(np.take(padded, range(k, k + frames.shape[axis]), axis=axis) for k in range(width)) / width


def mixes(real, made):
    """`{name: frames}`: the `--mixes` rows for one utterance's real and made `[frames, bins]` log-mel frames."""
    real_envelope, made_envelope = smoothed(real), smoothed(made)
    real_slow, made_slow = smoothed(real, SLOW_WIDTH, axis=0), smoothed(made, SLOW_WIDTH, axis=0)
    return {"real": real, "made": made,
            "real envelope + made detail": real_envelope + (made - made_envelope),
            "made envelope + real detail": made_envelope + (real - real_envelope),
            "made slow + real fast": made_slow + (real - real_slow),
            "made, its mean error removed": made - np.mean(made - real, axis=0),
            "real slow + made fast": real_slow + (made - made_slow)}


def cepstra(frames):
    """c1-c12 of `[frames, bins]` log-mel frames (orthonormal DCT-II over bins, as MFCCs)."""
    return scipy.fft.dct(frames, type=2, norm="ortho", axis=1)[:, 1:13]


def nearest_mean_hits(features, labels, means):
    """`[frames]` bool: each frame nearer to `means[its label]` than to any other row of `means` (`{id: mean}`)."""
    ids = np.array(sorted(means))
    table = np.stack([means[i] for i in ids])
    distance = np.sum((features[:, None, :] - table[None]) ** 2, axis=-1)
    return ids[np.argmin(distance, axis=1)] == labels


def spectral_detail(frames):
    """`[frames]`: per frame, the standard deviation over bins of `[frames, bins]` minus its moving average.

    Example:
        spectral_detail(np.tile(np.arange(20.0), (2, 1)))   # a straight line has no detail away from the edges
    """
    return np.std(frames - smoothed(frames), axis=1)


def phone_spreads(frames, labels):
    """`(between, within)`: mean over bins of the standard deviation of the per-phone means (phones with at least
    `MIN_PHONE_FRAMES` frames), and the mean over those phones of their frames' spread around their own mean."""
    phones = [p for p in np.unique(labels) if np.sum(labels == p) >= MIN_PHONE_FRAMES]
    if len(phones) < 2:
        return float("nan"), float("nan")
    means = np.stack([frames[labels == p].mean(axis=0) for p in phones])
    within = np.mean([np.mean(np.std(frames[labels == p], axis=0)) for p in phones])
    return float(np.mean(np.std(means, axis=0))), float(within)


def class_row(real, made, motion_real, motion_made, labels, bands, hits_real, hits_made):
    """The module doc's columns for one class: `real` and `made` `[frames, bins]` with their phone `labels`, their
    frames' motion and nearest-mean hits."""
    error = np.abs(made - real)
    envelope_real, envelope_made = smoothed(real), smoothed(made)
    between_real, within_real = phone_spreads(real, labels)
    between_made, within_made = phone_spreads(made, labels)
    row = {"frames": len(real), "l1": float(np.mean(error))}
    row.update({f"l1 {band}": float(np.mean(error[:, bins])) for band, bins in bands.items()})
    row.update({"l1 envelope": float(np.mean(np.abs(envelope_made - envelope_real))),
                "l1 detail": float(np.mean(np.abs((made - envelope_made) - (real - envelope_real)))),
                "nearest mean real": float(np.mean(hits_real)), "nearest mean made": float(np.mean(hits_made))})
    row.update({"detail": float(np.mean(spectral_detail(made)) / np.mean(spectral_detail(real))),
                "between phones": between_made / between_real, "within phone": within_made / within_real,
                "motion": float(np.mean(motion_made) / np.mean(motion_real))})
    return row


def smoothing_tables(real, made, labels, phone_names, bands):
    """`{class: row}` over every frame of the utterances (`real` / `made`: lists of `[frames, bins]`, `labels`:
    lists of phone ids), plus an "all speech" row (silence left out)."""
    motion = lambda utterances: np.concatenate([np.mean(np.abs(np.diff(u, axis=0)), axis=1)  # noqa: E731
                                                for u in utterances])
    ends = lambda utterances: np.concatenate([u[1:] for u in utterances])  # noqa: E731
    motion_real, motion_made = motion(real), motion(made)
    real_later, made_later, labels_later = ends(real), ends(made), np.concatenate([np.asarray(y)[1:] for y in labels])
    classes = np.array([phone_class(name) for name in phone_names])[labels_later]
    real_cepstra = cepstra(real_later)
    means = {p: real_cepstra[labels_later == p].mean(axis=0) for p in np.unique(labels_later)}
    hits_real = nearest_mean_hits(real_cepstra, labels_later, means)
    hits_made = nearest_mean_hits(cepstra(made_later), labels_later, means)
    groups = {name: classes == name for name in sorted(set(classes.tolist()))}
    groups["all speech"] = classes != "silence"
    return {name: class_row(real_later[mask], made_later[mask], motion_real[mask], motion_made[mask],
                            labels_later[mask], bands, hits_real[mask], hits_made[mask]) for name, mask in groups.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--utterances", type=int, default=64, help="utterances of seen speakers compared")
    parser.add_argument("--mixes", action="store_true",
                        help="also the phone probe on vocoded mixes of real and made frames (module doc)")
    parser.add_argument("--sentences", choices=("test", "train"), default="test",
                        help="held-out sentences (default) or the training sentences")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    seed = flags["seed"]
    corpus = run_corpus(flags)
    seen = corpus.select(sentences=args.sentences, speakers="train")
    seen = seen.subset(np.flatnonzero([len(w) >= MIN_SAMPLES for w in seen.waveforms])).sample(args.utterances, seed)
    front_end = model.front_end
    log_mel = one_utterance(front_end.log_mel)
    convert_frames = one_utterance(model.convert_frames)
    denormalize = lambda frames: np.asarray(front_end.denormalize(frames[None]))[0]  # noqa: E731
    centres = mel_centres(front_end.num_mel_bins, front_end.lower_hertz, front_end.upper_hertz)
    bands = {name: (centres >= low) & (centres < high) for name, (low, high) in BANDS.items()}
    rng = np.random.default_rng(seed)
    real, rebuilt, converted, labels = [], [], [], []
    for index in range(len(seen)):
        wave = seen.waveforms[index]
        others = np.flatnonzero(seen.speakers != seen.speakers[index])
        frames = log_mel(wave)
        count = min(len(frames), len(seen.phones[index]))
        real.append(frames[:count])
        rebuilt.append(denormalize(convert_frames(wave, wave))[:count])
        converted.append(denormalize(convert_frames(wave, seen.waveforms[int(rng.choice(others))]))[:count])
        labels.append(np.asarray(seen.phones[index])[:count])
    tables = {}
    for name, made in (("self-reconstruction", rebuilt), ("conversion", converted)):
        tables[name] = smoothing_tables(real, made, labels, corpus.phone_names, bands)
        print(f"{name} against the real source: {len(real)} utterances of seen speakers, {args.sentences} "
              f"sentences (run {args.run}, seed {seed}); log-mel (natural log), ratios made / real")
        print(format_table(tables[name], ["frames", "l1", *(f"l1 {band}" for band in BANDS), "l1 envelope",
                                          "l1 detail", "nearest mean real", "nearest mean made", "detail",
                                          "between phones", "within phone", "motion"]))
    if args.mixes:
        tables["mixes"] = probe_mixes(model, corpus, seed, seen, real, rebuilt, labels)
    return tables


def probe_mixes(model, corpus, seed, utterances, real, made, labels, probe_utterances=160):
    """The `--mixes` table: the recipe's phone probe on each mix, vocoded (`real` / `made` log-mel frames)."""
    probe_train = corpus.select(sentences="train", speakers="train").sample(probe_utterances, seed)
    probe = PhoneProbe().fit(probe_train.waveforms, probe_train.phones, seed=seed)
    vocode = tf.function(lambda frames: model.vocoder(model.front_end.standardize(frames)), reduce_retracing=True)
    hits = {}
    for real_frames, made_frames, utterance_labels in zip(real, made, labels):
        for name, frames in mixes(real_frames, made_frames).items():
            waveform = np.asarray(vocode(tf.constant(frames[None], tf.float32)))[0]
            predicted = probe.predict(waveform)
            count = min(len(predicted), len(utterance_labels))
            right = hits.setdefault(name, [0, 0])
            right[0] += int(np.sum(predicted[:count] == utterance_labels[:count]))
            right[1] += count
    table = {name: {"phone probe": right / total} for name, (right, total) in hits.items()}
    for row in table.values():
        row["kept"] = row["phone probe"] / table["real"]["phone probe"]
    print(f"the recipe's phone probe on vocoded mixes of real and self-reconstructed frames ({len(real)} utterances)")
    print(format_table(table, ["phone probe", "kept"]))
    return table


if __name__ == "__main__":
    main()
