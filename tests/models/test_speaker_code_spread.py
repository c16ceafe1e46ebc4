"""The training-only spreads of the speaker code: random pooling windows and noise relative to the batch's spread."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.distribute import replica_normal, replica_uniform
from keras_ae.layers.encoders.speaker_encoder import SpeakerEncoder
from keras_ae.layers.relative_noise import RelativeNoise
from keras_ae.models import AdaINVC, DisentanglingAutoEncoder
from keras_ae.recipes import voice_conversion
from tests.test_contract import SPEECH, TINY_VC


def test_replica_normal_is_the_normal_quantile_of_the_replica_uniform_draw():
    draws = replica_normal([20000], keras.random.SeedGenerator(5)).numpy()
    assert np.all(np.isfinite(draws)) and abs(draws.mean()) < 0.03 and abs(draws.std() - 1) < 0.03
    uniform = replica_uniform([20000], keras.random.SeedGenerator(5), minval=1e-7, maxval=1.0 - 1e-7)
    np.testing.assert_allclose(draws, tf.math.ndtri(uniform), atol=1e-6)


def test_relative_noise_scales_with_each_columns_spread_and_only_in_training():
    codes = tf.constant(np.random.default_rng(0).normal(size=(4096, 3)) * [0.1, 1.0, 10.0], tf.float32)
    noise = RelativeNoise(scale=0.5, seed=0)
    added = noise(codes, training=True) - codes
    spreads = np.std(codes.numpy(), axis=0)
    np.testing.assert_allclose(np.std(added.numpy(), axis=0) / spreads, 0.5, rtol=0.05)
    np.testing.assert_allclose(np.mean(added.numpy(), axis=0) / spreads, 0.0, atol=0.05)
    # growing the code grows the noise with it: the encoder cannot outgrow it
    np.testing.assert_allclose(np.std((noise(100 * codes, training=True) - 100 * codes).numpy(), axis=0) / spreads,
                               50.0, rtol=0.05)
    np.testing.assert_array_equal(noise(codes), codes)
    np.testing.assert_array_equal(RelativeNoise(scale=0.0)(codes, training=True), codes)
    # the spread is held fixed: the gradient of the noisy code is the identity's
    with tf.GradientTape() as tape:
        tape.watch(codes)
        total = tf.reduce_sum(noise(codes, training=True))
    np.testing.assert_allclose(tape.gradient(total, codes), np.ones(codes.shape), atol=1e-6)
    assert RelativeNoise.from_config(noise.get_config()).scale == 0.5
    with pytest.raises(ValueError, match="scale must be 0 or more"):
        RelativeNoise(scale=-0.1)


def test_speaker_encoder_pools_a_random_window_in_training_and_the_whole_utterance_otherwise():
    keras.utils.set_random_seed(0)
    frames = tf.random.normal([3, 40, 8])
    encoder = SpeakerEncoder(6, filters=8, blocks=1, kernel_size=1, training_window=5, seed=0)  # no context: exact
    whole = encoder(frames)
    windows = np.stack([encoder(frames[:, start:start + 5]).numpy() for start in range(36)], axis=1)  # [3, 36, 6]
    drawn = [encoder(frames, training=True).numpy() for _ in range(4)]
    for codes in drawn:  # each utterance's code is that of one of its 5-frame windows
        distances = np.abs(windows - codes[:, None]).max(axis=-1).min(axis=1)
        np.testing.assert_allclose(distances, 0.0, atol=1e-5)
    assert not np.allclose(drawn[0], drawn[1], atol=1e-4)  # new windows every call
    np.testing.assert_allclose(encoder(frames, training=False), whole, atol=1e-6)
    np.testing.assert_allclose(SpeakerEncoder(6, filters=8, blocks=1, kernel_size=1, training_window=50, seed=0)(
        frames, training=True).shape, whole.shape)  # a window longer than the utterance takes all of it
    config = encoder.get_config()
    assert SpeakerEncoder.from_config(config).training_window == 5 and config["seed"] == 0
    assert SpeakerEncoder(6).seed_generator is None  # no new variable without windows
    with pytest.raises(ValueError, match="training_window must be an integer of at least 0"):
        SpeakerEncoder(6, training_window=-1)


def test_model_spreads_the_reference_speaker_code_in_training_only_and_keeps_the_options():
    keras.utils.set_random_seed(0)
    model = DisentanglingAutoEncoder(speaker_reference="other", speaker_window=20, speaker_noise=0.5, seed=3,
                                     **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    waveforms, reference = tf.constant(SPEECH[0][:4]), tf.constant(SPEECH[0][4:8])
    batch = {"waveforms": waveforms, "speakers": tf.constant(SPEECH[1][:4]), "reference": reference}
    first, second = (model.forward(batch, training=True)[0][1] for _ in range(2))
    whole = model.encode_speaker(reference)
    assert not np.allclose(first, second, atol=1e-4) and not np.allclose(first, whole, atol=1e-3)
    # outside training: the whole utterance, no noise
    np.testing.assert_allclose(model.forward({"waveforms": reference})[0][1], whole, atol=1e-5)
    restored = DisentanglingAutoEncoder.from_config(model.get_config())
    assert (restored.speaker_window, restored.speaker_noise, restored.seed) == (20, 0.5, 3)
    adain = AdaINVC.from_config(AdaINVC(speaker_noise=0.2, seed=4, **TINY_VC).get_config())
    assert (adain.speaker_noise, adain.seed, adain.speaker_window) == (0.2, 4, 0)
    with pytest.raises(ValueError, match="speaker_noise must be 0 or more"):
        AdaINVC(speaker_noise=-1.0, **TINY_VC)
    with pytest.raises(ValueError, match="speaker_window must be an integer of at least 0"):
        AdaINVC(speaker_window=1.5, **TINY_VC)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    assert np.isfinite(history.history["frame_l1"][0])


def test_recipe_passes_the_speaker_code_spreads_to_the_model_and_leaves_them_off_by_default():
    parser = voice_conversion.build_parser()
    default = voice_conversion.build_model(parser.parse_args([]), num_speakers=4)
    assert (default.speaker_window, default.speaker_noise) == (0, 0.0)
    args = parser.parse_args(["--speaker-window", "32", "--speaker-noise", "0.3", "--seed", "2"])
    model = voice_conversion.build_model(args, num_speakers=4)
    assert (model.speaker_window, model.speaker_noise, model.seed) == (32, 0.3, 2)
    assert model.encoder.speaker_encoder.training_window == 32
