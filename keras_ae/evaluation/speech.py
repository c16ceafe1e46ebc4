"""Speech probes (the CPC protocol): a frame-level phone probe and an utterance-level speaker probe on held-out
utterances, beside the same probes on MFCC features and on a random-init encoder, and a figure of CPC's
prediction accuracy against the step `k`.

Protocol (fixed; never tuned on the test split):
    - features come from a frozen encoder, one vector per 10 ms frame (`[frames, dim]` per utterance);
    - probe training set: utterances of seen speakers saying training sentences; probe test set: the same speakers
      saying held-out sentences (texts no training run saw);
    - phone probe: multinomial logistic regression (`linear_probe_accuracy`) from one frame's features to its phone
      label; at most `max_frames` training frames (a seeded subsample), every test frame;
    - speaker probe: the same regression from the utterance's mean feature vector to its speaker;
    - chance: always answering the most frequent training label.

Example:
    table = {"MFCC": probe_row(mfcc_features, probe_train, probe_test, dim=39),
             "CPC": probe_row(model.encode, probe_train, probe_test, dim=model.context_dim),
             "chance": chance_row(probe_train, probe_test)}
"""

import numpy as np
import tensorflow as tf

from keras_ae.data.speech import FRAME_SAMPLES
from keras_ae.evaluation.probes import chance_accuracy, linear_probe_accuracy
from keras_ae.layers.audio.griffin_lim_vocoder import fast_griffin_lim
from keras_ae.layers.audio.deltas import with_deltas
from keras_ae.layers.audio.log_mel import log_mel_frames, mel_matrix
from keras_ae.layers.conditioning.instance_normalization import InstanceNormalization

MAX_PROBE_FRAMES = 20000


def utterance_features(encode, waveforms, batch_size=16, max_batch_samples=16 * 80000):
    """Runs `encode` (`[batch, samples] -> [batch, frames, dim]`) over utterances of any length and returns one
    float32 `[len(waveform) // 160, dim]` array per utterance. Utterances are batched by similar length, and `encode`
    runs as one traced graph (a recurrent context network run eagerly step by step would be very slow)."""
    encode = _traced(encode)
    order = np.argsort([len(w) for w in waveforms])
    outputs = [None] * len(waveforms)
    start = 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and stop - start < batch_size and \
                len(waveforms[order[stop]]) * (stop - start + 1) <= max_batch_samples:
            stop += 1
        indices = order[start:stop]
        width = int(np.ceil(len(waveforms[indices[-1]]) / FRAME_SAMPLES) * FRAME_SAMPLES)
        batch = np.zeros([len(indices), width], np.float32)
        for row, index in enumerate(indices):
            batch[row, : len(waveforms[index])] = waveforms[index]
        features = np.asarray(encode(tf.constant(batch)), np.float32)
        for row, index in enumerate(indices):
            outputs[index] = features[row, : len(waveforms[index]) // FRAME_SAMPLES]
        start = stop
    return outputs


_TRACED = {}


def _traced(encode):
    """One traced graph per encode function (kept for the last few), so repeated probes do not retrace."""
    if encode not in _TRACED:
        if len(_TRACED) >= 4:
            _TRACED.pop(next(iter(_TRACED)))
        _TRACED[encode] = tf.function(encode, input_signature=[tf.TensorSpec([None, None], tf.float32)])
    return _TRACED[encode]


def mfcc_features(waveforms, num_coefficients=13, num_mel_bins=40, deltas=True):
    """MFCCs with `tf.signal` (25 ms Hann windows every 10 ms, 512-point FFT, 40 mel bands from 20 Hz to 7.6 kHz,
    log, DCT, the first 13 coefficients) plus deltas and delta-deltas: `[batch, samples // 160, 39]`. Frame `i` is
    centred on sample `160 i + 80`, like the phone labels: the log-mel frames of the speech models' front end
    (`keras_ae.layers.audio.log_mel.log_mel_frames`)."""
    mfcc = tf.signal.mfccs_from_log_mel_spectrograms(log_mel_frames(waveforms, num_mel_bins))[..., :num_coefficients]
    return with_deltas(mfcc) if deltas else mfcc


def mel_cepstrum_to_waveform(features, num_mel_bins=40, iterations=16, momentum=0.99):
    """A waveform that sounds like `features` `[frames, num_mel_bins]` (the output of `mfcc_features` with
    `num_coefficients=num_mel_bins, deltas=False`): inverse DCT to the log-mel spectrum, the least-squares linear
    spectrum under the mel filters, then fast Griffin-Lim (Perraudin et al., 2013) for the phases. For listening
    only: the mel filters and the missing phases lose detail, so compare a reconstruction with the input features
    sent through the same path (the floor), never with the original waveform.
    """
    mfcc = tf.convert_to_tensor(features, tf.float32)
    log_mel = tf.signal.idct(mfcc, type=2) / tf.sqrt(2.0 * num_mel_bins)  # mfccs_from_log_mel_spectrograms, undone
    power = tf.nn.relu(tf.exp(log_mel) @ tf.linalg.pinv(mel_matrix(num_mel_bins)))
    waveform = fast_griffin_lim(tf.sqrt(power)[None], iterations, momentum)[0].numpy()
    return (0.9 * waveform / max(float(np.abs(waveform).max()), 1e-8)).astype("float32")


def phone_probe_accuracy(train_features, train_phones, test_features, test_phones, max_frames=MAX_PROBE_FRAMES,
                         seed=0):
    """Frame-level phone probe: test accuracy of a linear probe from per-frame features (lists of `[frames, dim]`)
    to frame phone labels (lists of `[frames]`)."""
    x_train, y_train = _frames(train_features, train_phones)
    x_test, y_test = _frames(test_features, test_phones)
    if len(x_train) > max_frames:
        keep = np.random.default_rng(seed).choice(len(x_train), max_frames, replace=False)
        x_train, y_train = x_train[keep], y_train[keep]
    return linear_probe_accuracy(x_train, y_train, x_test, y_test, seed=seed)


def speaker_probe_accuracy(train_features, train_speakers, test_features, test_speakers, seed=0):
    """Utterance-level speaker probe: a linear probe on each utterance's mean feature vector."""
    return linear_probe_accuracy(_pooled(train_features), train_speakers, _pooled(test_features), test_speakers,
                                 seed=seed)


def probe_row(encode, train, test, dim, seed=0):
    """`{"dim", "phone", "speaker"}`: phone and speaker probe accuracy of `encode` (float32 `[batch, samples]` at
    16 kHz -> `[batch, frames, dim]`) fitted on the `train` corpus and scored on `test`; None where the corpus has
    no such labels (no phone labels, or a single speaker)."""
    return feature_row(utterance_features(encode, train.waveforms), utterance_features(encode, test.waveforms),
                       train, test, dim, seed)


def feature_row(train_features, test_features, train, test, dim, seed=0):
    """`probe_row` on features already computed: lists of `[frames, dim]` arrays, one per utterance of `train` and
    `test`."""
    row = {"dim": dim, "phone": None, "speaker": None}
    if train.phones is not None:
        row["phone"] = phone_probe_accuracy(train_features, train.phones, test_features, test.phones, seed=seed)
    if len(set(np.asarray(train.speakers).tolist())) > 1:
        row["speaker"] = speaker_probe_accuracy(train_features, train.speakers, test_features, test.speakers,
                                                seed=seed)
    return row


def utterance_normalized(features):
    """Each utterance's features `[frames, dim]` standardised over its own frames (zero mean, unit variance per
    dimension): removes what is constant within an utterance (a voice's or a channel's colour), as cepstral mean and
    variance normalisation does for MFCCs."""
    normalise = InstanceNormalization()
    return [np.asarray(normalise(np.asarray(f, np.float32)[None]))[0] for f in features]


def chance_row(train, test):
    """The probe table's chance row: always answering the most frequent training phone / speaker."""
    row = {"dim": "-", "phone": None, "speaker": None}
    if train.phones is not None:
        majority = np.bincount(np.concatenate(train.phones)).argmax()
        row["phone"] = float(np.mean(np.concatenate(test.phones) == majority))
    majority = np.bincount(train.speakers).argmax()
    row["speaker"] = float(np.mean(np.asarray(test.speakers) == majority))
    return row


def plot_step_accuracy(accuracies, path, title="CPC: prediction accuracy against the step k"):
    """Saves a figure of `accuracies` (`{label: [acc_k1, acc_k2, ...]}` or a single list) against k; returns path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not isinstance(accuracies, dict):
        accuracies = {"held-out crops": accuracies}
    figure, axis = plt.subplots(figsize=(5, 3.5))
    for label, values in accuracies.items():
        steps = np.arange(1, len(values) + 1)
        axis.plot(steps, values, marker="o", label=label)
    axis.set_xlabel("prediction step k (x 10 ms)")
    axis.set_ylabel("accuracy (true future frame picked)")
    axis.set_ylim(0, 1)
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _frames(features, labels):
    x = np.concatenate([np.asarray(f)[: len(l)] for f, l in zip(features, labels)])
    y = np.concatenate([np.asarray(l)[: len(f)] for f, l in zip(features, labels)])
    return x, y


def _pooled(features):
    return np.stack([np.asarray(f).mean(axis=0) for f in features])


__all__ = ["chance_accuracy", "chance_row", "feature_row", "mfcc_features", "phone_probe_accuracy",
           "plot_step_accuracy", "probe_row", "speaker_probe_accuracy", "utterance_features", "utterance_normalized",
           "with_deltas"]
