import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.augmentation import augment_dataset
from keras_ae.layers.audio.augmentation import (
    AUGMENT_PRESETS,
    TRANSFORMS,
    WaveformAugmentation,
    augmentation_from_preset,
)
from tests.helpers import two_replica_strategy


def _speech_like(batch=4, samples=8000, seed=0):
    """Harmonic tones with a slow envelope over a broadband floor: a signal every transform visibly changes."""
    rng = np.random.default_rng(seed)
    time = np.arange(samples) / 16000.0
    pitch = rng.uniform(100, 250, size=(batch, 1))
    tones = sum(np.sin(2 * np.pi * pitch * h * time) / h for h in range(1, 8))
    floor = 0.05 * rng.standard_normal((batch, samples))
    return (0.2 * tones * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * time)) + floor).astype("float32")


@pytest.mark.parametrize("name", TRANSFORMS)
def test_each_transform_keeps_the_shape_changes_the_signal_and_is_reproducible(name):
    waveforms = _speech_like()
    layer = WaveformAugmentation(**{**AUGMENT_PRESETS[name], f"{name}_probability": 1.0})
    seed = tf.constant([3, 7])
    augmented = layer(waveforms, training=True, seed=seed).numpy()
    assert augmented.shape == waveforms.shape
    assert np.all(np.isfinite(augmented))
    changed = np.abs(augmented - waveforms).mean(axis=1) / np.abs(waveforms).mean(axis=1)
    assert np.all(changed > 0.005), changed  # every example changed
    np.testing.assert_array_equal(layer(waveforms, training=True, seed=seed).numpy(), augmented)
    other = layer(waveforms, training=True, seed=tf.constant([3, 8])).numpy()
    assert np.abs(other - augmented).max() > 1e-3
    # examples get their own draws: two copies of one waveform come out different
    twins = layer(np.repeat(waveforms[:1], 2, axis=0), training=True, seed=seed).numpy()
    assert np.abs(twins[0] - twins[1]).max() > 1e-3


def test_levels_follow_the_drawn_ranges():
    waveforms = _speech_like(batch=16)
    clean_rms = np.sqrt(np.mean(waveforms**2, axis=1))
    gain = WaveformAugmentation(**{**AUGMENT_PRESETS["gain"], "gain_probability": 1.0, "gain_db_range": (6, 6)})
    louder = gain(waveforms, training=True, seed=tf.constant([0, 1])).numpy()
    np.testing.assert_allclose(np.sqrt(np.mean(louder**2, axis=1)) / clean_rms, 10 ** (6 / 20), rtol=1e-4)
    noise = WaveformAugmentation(**{**AUGMENT_PRESETS["noise"], "noise_probability": 1.0, "snr_db_range": (10, 10)})
    noisy = noise(waveforms, training=True, seed=tf.constant([0, 1])).numpy()
    snr = 10 * np.log10(np.mean(waveforms**2, axis=1) / np.mean((noisy - waveforms) ** 2, axis=1))
    np.testing.assert_allclose(snr, 10.0, atol=0.01)
    reverb = WaveformAugmentation(**{**AUGMENT_PRESETS["reverb"], "reverb_probability": 1.0})
    wet = reverb(waveforms, training=True, seed=tf.constant([0, 1])).numpy()
    np.testing.assert_allclose(np.sqrt(np.mean(wet**2, axis=1)), clean_rms, rtol=1e-3)  # reverb keeps the level


def test_probability_zero_and_inference_are_the_identity():
    waveforms = _speech_like()
    off = WaveformAugmentation(**{f"{name}_probability": 0.0 for name in TRANSFORMS})
    np.testing.assert_array_equal(off(waveforms, training=True, seed=tf.constant([1, 2])).numpy(), waveforms)
    np.testing.assert_array_equal(WaveformAugmentation()(waveforms, training=False).numpy(), waveforms)
    # about half the examples of a large batch take a transform of probability 0.5
    half = WaveformAugmentation(**{**AUGMENT_PRESETS["gain"], "gain_probability": 0.5})
    many = np.repeat(waveforms[:1], 400, axis=0)
    changed = np.abs(half(many, training=True, seed=tf.constant([5, 5])).numpy() - many).max(axis=1) > 1e-6
    assert 0.4 < changed.mean() < 0.6


def test_generator_draws_are_seeded_and_new_every_call():
    waveforms = _speech_like()
    first = WaveformAugmentation(seed=11)
    second = WaveformAugmentation(seed=11)
    a1, a2 = first(waveforms, training=True).numpy(), first(waveforms, training=True).numpy()
    np.testing.assert_array_equal(second(waveforms, training=True).numpy(), a1)
    assert np.abs(a1 - a2).max() > 1e-3


def test_replicas_draw_differently():
    """The same crops on both replicas of a strategy come out augmented differently (the replica id is folded into
    the generator's seed)."""
    strategy = two_replica_strategy()
    waveforms = _speech_like(batch=2)
    with strategy.scope():
        layer = WaveformAugmentation(seed=0)
    outputs = strategy.run(tf.function(lambda: layer(tf.constant(waveforms), training=True)))
    first, second = (tensor.numpy() for tensor in strategy.experimental_local_results(outputs))
    assert first.shape == second.shape == waveforms.shape
    assert np.abs(first - second).max() > 1e-3


def test_dataset_stage_is_reproducible_and_keeps_labels():
    waveforms = _speech_like(batch=8)
    dataset = tf.data.Dataset.from_tensor_slices((waveforms, np.arange(8))).batch(4)
    layer = augmentation_from_preset("default")

    def epoch(data):
        return [(crops.numpy(), labels.numpy()) for crops, labels in data]

    augmented = augment_dataset(dataset, layer, seed=4)
    run1, run2 = epoch(augmented), epoch(augmented)
    again = epoch(augment_dataset(dataset, augmentation_from_preset("default"), seed=4))
    for (crops, labels), (crops_again, _) in zip(run1, again):
        assert crops.shape == (4, 8000)
        np.testing.assert_array_equal(crops, crops_again)
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in run1]), np.arange(8))
    assert max(np.abs(a[0] - b[0]).max() for a, b in zip(run1, run2)) > 1e-3  # a new draw every epoch
    assert augment_dataset(dataset, None) is dataset


def test_bad_settings_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="speed_probability must be in"):
        WaveformAugmentation(speed_probability=1.5)
    with pytest.raises(ValueError, match="snr_db_range must be a pair"):
        WaveformAugmentation(snr_db_range=(30, 5))
    with pytest.raises(ValueError, match="Unknown augmentation preset 'loud'"):
        augmentation_from_preset("loud")


def test_config_round_trip():
    layer = WaveformAugmentation(speed_range=(0.95, 1.05), snr_db_range=(0, 20), seed=3, name="augment")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config()
    waveforms = _speech_like()
    seed = tf.constant([1, 1])
    np.testing.assert_array_equal(restored(waveforms, training=True, seed=seed).numpy(),
                                  layer(waveforms, training=True, seed=seed).numpy())


def test_docstring_example():
    augment = WaveformAugmentation(seed=0)
    noisy = augment(tf.random.normal([4, 16000]) * 0.1, training=True)
    assert noisy.shape == (4, 16000)
