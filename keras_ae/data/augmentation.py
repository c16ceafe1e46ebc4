"""Waveform augmentation as a seeded `tf.data` stage.

`augment_dataset` maps batches of crops (`crops` or `(crops, labels...)`, crops first) through a
`keras_ae.layers.audio.augmentation.WaveformAugmentation`, with one seed per batch drawn from a seeded stream: the
same `seed` gives the same augmented epochs; every example of a batch (and so every replica's share of a global
batch) gets its own draw, and each epoch draws anew.

Example:
    from keras_ae.layers.audio.augmentation import augmentation_from_preset
    train = make_crop_dataset(corpus, crop_samples=20480, batch_size=32)
    train = augment_dataset(train, augmentation_from_preset("default"), seed=0)
"""

import tensorflow as tf


def augment_dataset(dataset, augmentation, seed=0):
    """`dataset` with its crops (the first element of each batch) augmented; `augmentation` None returns it as is."""
    if augmentation is None:
        return dataset
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def augment(batch, random_seed):
        seed_pair = tf.cast(tf.math.floormod(random_seed, 2**31 - 1), tf.int32)
        if isinstance(batch, tuple):
            return (augmentation(batch[0], training=True, seed=seed_pair), *batch[1:])
        return augmentation(batch, training=True, seed=seed_pair)

    return tf.data.Dataset.zip((dataset, seeds)).map(augment, num_parallel_calls=tf.data.AUTOTUNE,
                                                     deterministic=True).prefetch(tf.data.AUTOTUNE)
