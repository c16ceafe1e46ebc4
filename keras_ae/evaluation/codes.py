"""Evaluation of discrete codes: codebook usage, perplexity, reconstruction error, phone purity, speaker probes.

Protocol (fixed, never tuned on test):
- **Usage** over a whole split: the share of the K codes assigned at least once, and the perplexity
  `exp(entropy)` of the code histogram (K when every code is used equally, 1 when one code takes everything).
- **Reconstruction**: mean squared error per pixel (or feature) on the test split, beside a continuous
  `AutoEncoder` whose latent has the same size (as many latent variables as the discrete code has positions) and
  the same training budget; `ratio` is discrete / continuous.
- **Equal bits**: a binary code of n bits against a one-hot code of groups of C categories with
  `groups * log2(C) = n`.
- **Speech codes**: phone purity (each code votes for its most frequent phone; the share of frames whose phone
  is their code's vote), next to k-means on MFCC frames with the same K; a speaker probe (the linear probe of
  `keras_ae.evaluation.probes`) on each utterance's normalised code histogram, against its chance level.

Example:
    codes = batched(model.codes, test_images)                     # int32 [n, 7, 7]
    report = code_usage(codes, num_codes=512)                    # {"codes_used": 0.97, "perplexity": 301.2, ...}
    mse = reconstruction_mse(model.reconstruct, test_images)
"""

import math

import numpy as np

from keras_ae.evaluation.probes import chance_accuracy, linear_probe_accuracy


def batched(function, inputs, batch_size=512):
    """Runs `function` over `inputs` in batches and concatenates the numpy results."""
    outputs = [np.asarray(function(inputs[start : start + batch_size])) for start in range(0, len(inputs), batch_size)]
    if not outputs:
        raise ValueError("Cannot evaluate codes of an empty input set.")
    return np.concatenate(outputs)


def code_histogram(codes, num_codes):
    """Counts of each code `[num_codes]` over all positions of `codes` (any int array)."""
    codes = np.asarray(codes).reshape(-1)
    if codes.size and (codes.min() < 0 or codes.max() >= num_codes):
        raise ValueError(f"Codes must lie in [0, {num_codes}); got values in [{codes.min()}, {codes.max()}].")
    return np.bincount(codes, minlength=num_codes)


def perplexity(histogram):
    """exp(entropy) of a code histogram: the effective number of codes in use."""
    probabilities = np.asarray(histogram, dtype="float64")
    probabilities = probabilities / max(probabilities.sum(), 1.0)
    nonzero = probabilities[probabilities > 0]
    return float(np.exp(-(nonzero * np.log(nonzero)).sum()))


def code_usage(codes, num_codes):
    """Share of the codebook used, perplexity and its ratio to the codebook size, over all given codes."""
    histogram = code_histogram(codes, num_codes)
    used = int((histogram > 0).sum())
    return {
        "codes_used": used / num_codes,
        "num_codes_used": used,
        "num_codes": int(num_codes),
        "perplexity": perplexity(histogram),
        "histogram": histogram,
    }


def bit_usage(bits):
    """For binary codes `[n, bits]`: the share of bits that take both values, the mean bit entropy (in bits), and
    the number of distinct codes."""
    bits = np.asarray(bits).reshape(len(bits), -1).astype("int64")
    ones = bits.mean(axis=0)
    entropy = -(ones * np.log2(np.clip(ones, 1e-12, 1)) + (1 - ones) * np.log2(np.clip(1 - ones, 1e-12, 1)))
    return {
        "bits_used": float(((ones > 0) & (ones < 1)).mean()),
        "bit_entropy": float(entropy.mean()),
        "distinct_codes": int(len(np.unique(bits, axis=0))),
    }


def reconstruction_mse(reconstruct, inputs, batch_size=512):
    """Mean squared error per value between `inputs` and `reconstruct(inputs)`."""
    reconstructions = batched(reconstruct, inputs, batch_size)
    return float(np.mean((reconstructions.astype("float64") - np.asarray(inputs, dtype="float64")) ** 2))


def compare_reconstruction(discrete_mse, continuous_mse):
    """The discrete model's error against the continuous auto-encoder's: `ratio` = discrete / continuous."""
    return {
        "discrete_mse": float(discrete_mse),
        "continuous_mse": float(continuous_mse),
        "ratio": float(discrete_mse / max(continuous_mse, 1e-12)),
    }


def equal_bits_onehot(num_bits, num_categories):
    """How many one-hot groups of `num_categories` carry `num_bits` bits (`num_categories` a power of 2 dividing
    the bit budget), so binary and one-hot codes can be compared at the same number of bits."""
    bits_per_group = math.log2(num_categories)
    if num_categories < 2 or not bits_per_group.is_integer() or num_bits % int(bits_per_group):
        raise ValueError(
            f"{num_bits} bits cannot be split into one-hot groups of {num_categories} categories: use a power of 2 "
            f"whose log2 divides {num_bits}."
        )
    return num_bits // int(bits_per_group)


def phone_purity(codes, phones, num_codes):
    """Phone purity of frame codes: each code votes for its most frequent phone; returns the share of frames whose
    phone is their code's vote (overall), the per-code purity `[num_codes]` (NaN for unused codes) and the
    purity of always answering the most frequent phone (the floor)."""
    codes = np.asarray(codes).reshape(-1)
    phones = np.asarray(phones).reshape(-1)
    if codes.shape != phones.shape:
        raise ValueError(f"Need one phone per frame code; got {codes.shape[0]} codes and {phones.shape[0]} phones.")
    num_phones = int(phones.max()) + 1 if phones.size else 1
    table = np.zeros([num_codes, num_phones], dtype="int64")
    np.add.at(table, (codes, phones), 1)
    totals = table.sum(axis=1)
    per_code = np.where(totals > 0, table.max(axis=1) / np.maximum(totals, 1), np.nan)
    return {
        "purity": float(table.max(axis=1).sum() / max(totals.sum(), 1)),
        "per_code": per_code,
        "majority_floor": float(np.bincount(phones).max() / max(phones.size, 1)),
    }


def label_information(codes, labels):
    """Share of the labels' entropy that the codes explain, `I(code; label) / H(label)` in [0, 1], from the joint
    counts of frame codes and frame labels (e.g. each frame's speaker, or phone).

    0: the codes say nothing about the label; 1: the label is a function of the code. Unlike a probe on utterance
    histograms it does not saturate: it tells how much of, say, the speaker a single code reveals. The plug-in
    estimate of the mutual information is biased upwards by about `(codes used x labels) / (2 ln 2 x frames)` bits
    (that, divided by H(label) in bits, on the returned share); compare rows with the same number of codes and frames.
    """
    codes = np.asarray(codes).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    if codes.size == 0:
        raise ValueError("label_information needs at least one frame code; got none.")
    if codes.shape != labels.shape:
        raise ValueError(f"Need one label per frame code; got {codes.shape[0]} codes and {labels.shape[0]} labels.")
    _, code_index = np.unique(codes, return_inverse=True)
    _, label_index = np.unique(labels, return_inverse=True)
    joint = np.zeros([code_index.max() + 1, label_index.max() + 1])
    np.add.at(joint, (code_index, label_index), 1.0)
    joint /= joint.sum()
    p_code, p_label = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mutual = float(np.sum(joint[nonzero] * np.log(joint[nonzero] / (p_code @ p_label)[nonzero])))
    entropy = float(-np.sum(p_label[p_label > 0] * np.log(p_label[p_label > 0])))
    return mutual / entropy if entropy > 0 else 0.0


def code_histograms(code_sequences, num_codes):
    """One normalised code histogram per sequence (e.g. per utterance): `[n, num_codes]`, float32."""
    rows = []
    for sequence in code_sequences:
        histogram = code_histogram(sequence, num_codes).astype("float32")
        rows.append(histogram / max(histogram.sum(), 1.0))
    return np.stack(rows)


def speaker_probe_on_codes(train_codes, train_speakers, test_codes, test_speakers, num_codes):
    """How much speaker identity the codes carry: a linear probe on per-utterance code histograms, with chance."""
    accuracy = linear_probe_accuracy(
        code_histograms(train_codes, num_codes), train_speakers, code_histograms(test_codes, num_codes), test_speakers
    )
    return {"speaker_probe_accuracy": accuracy, "chance": chance_accuracy(test_speakers)}


def fit_kmeans(train_frames, num_codes, seed=0, max_frames=20000):
    """The baseline codebook: k-means (scikit-learn, k-means++) with `num_codes` clusters on (a seeded sample of at
    most `max_frames` of) the training frames, e.g. MFCCs. Returns a function mapping frames `[..., dim]` to their
    cluster index `[...]`."""
    from sklearn.cluster import KMeans

    train_frames = np.asarray(train_frames, dtype="float32").reshape(-1, np.shape(train_frames)[-1])
    check_frames = len(train_frames)
    if num_codes > check_frames:
        raise ValueError(f"k-means with {num_codes} clusters needs at least as many frames; got {check_frames}.")
    if len(train_frames) > max_frames:
        train_frames = train_frames[np.random.default_rng(seed).choice(len(train_frames), max_frames, replace=False)]
    kmeans = KMeans(n_clusters=num_codes, n_init=1, random_state=seed).fit(train_frames)

    def assign(frames):
        frames = np.asarray(frames, dtype="float32")
        return kmeans.predict(frames.reshape(-1, frames.shape[-1])).reshape(frames.shape[:-1])

    return assign


def kmeans_codes(train_frames, test_frames, num_codes, seed=0, max_frames=20000):
    """Cluster index of every test frame under k-means fitted on the training frames (see `fit_kmeans`)."""
    return fit_kmeans(train_frames, num_codes, seed, max_frames)(test_frames)


def speech_code_row(codes, test, probe_codes, probe_train, num_codes, stride=1):
    """The speech-code table's row for code sequences: `codes` (one `[steps]` array per utterance of the `test`
    corpus, a code per `stride` 10 ms frames) against its frame phone labels and speakers, and `probe_codes` of the
    `probe_train` corpus for the speaker probe.

    Phone and speaker scores compare codes with the 10 ms frame labels, so each code is repeated `stride` times
    (once per frame it covers): a code spanning a phone boundary is scored against both phones. Usage and
    perplexity count each code once; the speaker probe's histograms are normalised, so repetition would not change
    them.
    """
    frame_codes = [np.repeat(np.asarray(c), stride) for c in codes]
    lengths = [min(len(c), len(p)) for c, p in zip(frame_codes, test.phones)]
    flat_codes = np.concatenate([c[:n] for c, n in zip(frame_codes, lengths)])
    phones = np.concatenate([np.asarray(p)[:n] for p, n in zip(test.phones, lengths)])
    speakers = np.concatenate([np.full(n, s) for n, s in zip(lengths, test.speakers)])
    usage = code_usage(np.concatenate([np.asarray(c).reshape(-1) for c in codes]), num_codes)
    return {
        "phone_purity": phone_purity(flat_codes, phones, num_codes)["purity"],
        "phone_info": label_information(flat_codes, phones),
        "speaker_info": label_information(flat_codes, speakers),
        **speaker_probe_on_codes(probe_codes, probe_train.speakers, codes, test.speakers, num_codes),
        "codes_used": usage["codes_used"],
        "perplexity": usage["perplexity"],
    }


def kmeans_code_row(train_frames, test_frames, probe_frames, test, probe_train, num_codes, seed=0):
    """`speech_code_row` for k-means with `num_codes` clusters fitted on `train_frames` (lists of `[frames, dim]`)
    and applied to the test and probe frames: what clustering alone gives with the same number of codes."""
    assign = fit_kmeans(np.concatenate(train_frames), num_codes, seed=seed)
    return speech_code_row([assign(f) for f in test_frames], test, [assign(f) for f in probe_frames], probe_train,
                           num_codes)


def speech_code_references(test, probe_train, num_phones):
    """The speech-code table's reference rows: the true phone labels as codes (what a perfect phone code would
    reveal of the speaker; the corpus's accents use different phones, so its speaker probe is well above chance)
    and chance (the majority phone; the majority speaker)."""
    phones = np.concatenate([np.asarray(p) for p in test.phones])
    speakers = np.concatenate([np.full(len(p), s) for p, s in zip(test.phones, test.speakers)])
    oracle = {
        "phone_purity": 1.0,
        "phone_info": 1.0,
        "speaker_info": label_information(phones, speakers),
        **speaker_probe_on_codes(probe_train.phones, probe_train.speakers, test.phones, test.speakers, num_phones),
    }
    chance = {"phone_purity": float(np.bincount(phones).max() / phones.size),
              "speaker_probe_accuracy": chance_accuracy(test.speakers)}
    return {"phone labels (oracle)": oracle, "majority phone / chance": chance}
