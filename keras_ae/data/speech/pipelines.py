"""tf.data pipelines of random fixed-length crops (in memory or streamed from files), and padding."""

import math

import numpy as np
import tensorflow as tf

from keras_ae.data.speech.audio_files import load_audio
from keras_ae.data.speech.constants import FRAME_SAMPLES, SAMPLE_RATE, AudioError
from keras_ae.data.speech.pcm import PCM_SCALE, PcmWaveforms, is_pcm16, take, waveform_lengths


def _seeded_items(items, count, crops_per_utterance, shuffle, seed):
    """`(item, random seed [2])` pairs: every item `crops_per_utterance` times, shuffled each epoch if `shuffle`."""
    if crops_per_utterance > 1:
        items = items.repeat(crops_per_utterance)
    if shuffle:
        items = items.shuffle(count * crops_per_utterance, seed=seed, reshuffle_each_iteration=True)
    return tf.data.Dataset.zip((items, tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)))


def _crop_start(length, crop_samples, shuffle, random_seed):
    """A random crop offset in `[0, length - crop_samples]` (0 when not shuffling, or when too short)."""
    if not shuffle:
        return tf.constant(0, tf.int64)
    return tf.random.stateless_uniform(
        [], seed=random_seed, maxval=tf.maximum(length - crop_samples + 1, 1), dtype=tf.int64
    )


def _speaker_groups(speakers):
    """For utterances with speaker ids `speakers` `[n]`: `(order, first, count, rank)`, int64 `[n]` each: `order`
    lists the utterances grouped by speaker, and utterance i's speaker occupies `order[first[i] : first[i] +
    count[i]]`, with i itself at `order[first[i] + rank[i]]`."""
    speakers = np.asarray(speakers)
    order = np.argsort(speakers, kind="stable")
    names, starts, counts = np.unique(speakers[order], return_index=True, return_counts=True)
    group = np.searchsorted(names, speakers)
    position = np.empty(len(speakers), np.int64)
    position[order] = np.arange(len(speakers))
    first = starts[group].astype(np.int64)
    return order.astype(np.int64), first, counts[group].astype(np.int64), position - first


def sample_store(waveforms):
    """`(store, offsets)`: every waveform's samples back to back in one array, waveform i at `store[offsets[i]:]`.
    The store is int16 PCM (a sample is `store / PCM_SCALE`) when every sample is a 16-bit value over `PCM_SCALE`
    (every cached corpus: half the memory of float32, the same floats back), else float32. It is filled in place
    (from a `PcmWaveforms`' int16 arrays directly): no other copy of the samples is made.

    Example:
        store, offsets = sample_store([np.array([0.5, -1.0], np.float32), np.array([0.25], np.float32)])
        # store: int16 [16384, -32768, 8192]; offsets [0, 2]
    """
    if isinstance(waveforms, PcmWaveforms):
        pcm, waveforms = True, waveforms.pcm
    else:
        pcm = all(is_pcm16(w) for w in waveforms)
    lengths = np.array([len(w) for w in waveforms], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    store = np.empty(int(lengths.sum()), np.int16 if pcm else np.float32)
    for offset, waveform in zip(offsets, waveforms):
        if pcm and waveform.dtype != np.int16:
            waveform = np.asarray(waveform, np.float32) * PCM_SCALE
        store[offset : offset + len(waveform)] = waveform
    return store, offsets


def make_crop_dataset(corpus, crop_samples, batch_size, shuffle=True, seed=0, crops_per_utterance=1,
                      skip_short=False, drop_remainder=None, reference=False):
    """Random fixed-length crops: `(crops [batch, crop_samples] float32, speaker ids [batch] int64)` batches.

    Each pass yields `crops_per_utterance` crops of every utterance (random offsets, new ones every epoch when
    `shuffle`; offset 0 otherwise). An utterance shorter than `crop_samples` raises `AudioError` naming its file,
    or is skipped (counted in the returned dataset's `skipped_short` attribute) with `skip_short=True`.
    Training pipelines drop the last partial batch so every replica gets the same batch size.

    With `reference=True` the batches are dicts `{"waveforms", "speakers", "reference"}`: `reference` is a crop of
    another utterance of the same speaker, drawn anew for every crop (with `shuffle`; else the speaker's next
    utterance, from offset 0), for a speaker code that cannot carry the crop's own content. A speaker with a single
    usable utterance is its own reference (counted in the dataset's `self_referenced` attribute). The crops and
    their order are those of `reference=False`.
    """
    if batch_size < 1 or crop_samples < 1:
        raise ValueError(f"batch_size and crop_samples must be positive; got {batch_size} and {crop_samples}.")
    lengths = waveform_lengths(corpus.waveforms)
    short = np.flatnonzero(lengths < crop_samples)
    if len(short) and not skip_short:
        first = short[0]
        raise AudioError(f"{corpus.paths[first]}: {lengths[first] / SAMPLE_RATE:.2f} s is shorter than one crop "
                         f"({crop_samples / SAMPLE_RATE:.2f} s); {len(short)} such file(s). Lower the crop length "
                         "or pass skip_short=True.")
    keep = np.flatnonzero(lengths >= crop_samples)
    if len(keep) == 0:
        raise ValueError(f"None of the {len(lengths)} utterances is as long as one crop "
                         f"({crop_samples / SAMPLE_RATE:.2f} s): lower the crop length (--crop-seconds).")
    drop_remainder = shuffle if drop_remainder is None else drop_remainder
    if drop_remainder and len(keep) * crops_per_utterance < batch_size:
        raise ValueError(f"Only {len(keep) * crops_per_utterance} crops for a batch size of {batch_size}: lower the "
                         "batch size.")
    store, offsets = sample_store(take(corpus.waveforms, keep))
    columns = (offsets, lengths[keep], np.asarray(corpus.speakers)[keep])
    if reference:  # and each item's index, to find its speaker's other utterances
        columns += (np.arange(len(keep), dtype=np.int64),)
    items = _seeded_items(tf.data.Dataset.from_tensor_slices(columns), len(keep), crops_per_utterance, shuffle, seed)

    def samples(first):  # the crop of the store from sample `first`, as float32 in [-1, 1]
        # read from the one numpy store: a tf.constant of it would hold a second copy (and TensorFlow keeps more)
        crop = tf.numpy_function(lambda at: store[at : at + crop_samples], [first], tf.as_dtype(store.dtype),
                                 stateful=False)
        crop = tf.ensure_shape(crop, [None])  # the length left unknown, as a slice of a tensor gives it: a known
        # length changes the traced train step's kernels, and so its losses in the last digits
        return tf.cast(crop, tf.float32) / PCM_SCALE if store.dtype == np.int16 else crop

    def crop(item, random_seed):
        offset, length, speaker = item[:3]
        return samples(offset + _crop_start(length, crop_samples, shuffle, random_seed)), speaker

    self_referenced = 0
    if reference:
        groups = _speaker_groups(np.asarray(corpus.speakers)[keep])
        self_referenced = int(np.sum(groups[2] == 1))
        order, group_first, count, rank = (tf.constant(a) for a in groups)
        kept_offsets, kept_lengths = tf.constant(offsets), tf.constant(lengths[keep])

        def crop_with_reference(item, random_seed):
            waveforms, speaker = crop(item, random_seed)
            index = item[3]
            # another utterance of the speaker: a random step of 1 to count - 1 around the speaker's group
            step = 1 + (tf.random.stateless_uniform([], seed=tf.random.experimental.stateless_fold_in(random_seed, 1),
                                                    maxval=tf.maximum(count[index] - 1, 1), dtype=tf.int64)
                        if shuffle else tf.constant(0, tf.int64))
            other = order[group_first[index] + (rank[index] + step) % count[index]]
            start = _crop_start(kept_lengths[other], crop_samples, shuffle,
                                tf.random.experimental.stateless_fold_in(random_seed, 2))
            return {"waveforms": waveforms, "speakers": speaker, "reference": samples(kept_offsets[other] + start)}

        dataset = items.map(crop_with_reference, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = items.map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    dataset.skipped_short = len(short)
    dataset.self_referenced = self_referenced
    return dataset


def make_file_crop_dataset(corpus, crop_samples, batch_size, shuffle=True, seed=0, crops_per_utterance=1,
                           skip_bad=False):
    """Like `make_crop_dataset`, but decodes the audio files while streaming (`tf.data` runs tensorflow-io in
    parallel), for corpora larger than memory (`load_audio_corpus(path, decode=False)`).

    A file that cannot be used (corrupt, silent, shorter than one crop...) stops the pipeline with an error naming
    it, or with `skip_bad=True` is left out with a logged warning.
    """
    import logging

    if batch_size < 1 or crop_samples < 1:
        raise ValueError(f"batch_size and crop_samples must be positive; got {batch_size} and {crop_samples}.")
    if len(corpus) * crops_per_utterance < batch_size:
        raise ValueError(f"Only {len(corpus) * crops_per_utterance} crops for a batch size of {batch_size}: lower "
                         "the batch size.")

    def decode(path):
        path = path.decode() if isinstance(path, bytes) else str(path)
        try:
            waveform = load_audio(path)
            if len(waveform) < crop_samples:
                raise AudioError(f"{path}: {len(waveform) / SAMPLE_RATE:.2f} s is shorter than one crop "
                                 f"({crop_samples / SAMPLE_RATE:.2f} s).")
        except AudioError as error:
            if not skip_bad:
                raise
            logging.getLogger("keras_ae").warning("Skipping %s", error)
            return np.zeros([0], np.float32)
        return waveform

    items = tf.data.Dataset.from_tensor_slices((list(corpus.paths), np.asarray(corpus.speakers)))
    items = _seeded_items(items, len(corpus), crops_per_utterance, shuffle, seed)

    def load_and_crop(item, random_seed):
        path, speaker = item
        waveform = tf.numpy_function(decode, [path], tf.float32, stateful=False)
        waveform = tf.ensure_shape(waveform, [None])
        start = _crop_start(tf.shape(waveform, out_type=tf.int64)[0], crop_samples, shuffle, random_seed)
        return waveform[start : start + crop_samples], speaker

    dataset = items.map(load_and_crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    dataset = dataset.filter(lambda crop, _: tf.shape(crop)[0] == crop_samples)
    dataset = dataset.map(lambda crop, speaker: (tf.ensure_shape(crop, [crop_samples]), speaker))
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def pad_batch(waveforms, multiple=FRAME_SAMPLES):
    """Zero-pads a list of waveforms to a common length (a multiple of `multiple`); returns `(batch, lengths)`."""
    lengths = np.array([len(w) for w in waveforms], np.int64)
    width = int(math.ceil(max(lengths.max(), 1) / multiple) * multiple)
    batch = np.zeros([len(waveforms), width], np.float32)
    for row, waveform in enumerate(waveforms):
        batch[row, : len(waveform)] = waveform
    return batch, lengths
