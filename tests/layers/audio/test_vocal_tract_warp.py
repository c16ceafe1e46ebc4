import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import LogMelSpectrogram, VocalTractLengthWarp


def _harmonic_log_mel(pitch, seconds=0.5, harmonics=15):
    """Log-mel frames `[1, frames, 80]` of a tone with `harmonics` equal harmonics of `pitch` (all below 4 kHz)."""
    time = np.arange(int(seconds * 16000)) / 16000.0
    tone = sum(np.sin(2 * np.pi * pitch * h * time) for h in range(1, harmonics + 1)) / harmonics
    return LogMelSpectrogram(80).log_mel(tone.astype("float32")[None])


def test_warp_is_the_identity_at_alpha_one_and_outside_training():
    frames = tf.random.normal([3, 7, 80], seed=1)
    warp = VocalTractLengthWarp(seed=0)
    np.testing.assert_allclose(warp(frames, alphas=tf.ones([3])), frames, atol=1e-4)
    np.testing.assert_array_equal(warp(frames), frames)
    np.testing.assert_array_equal(warp(frames, training=False), frames)
    assert np.abs(np.asarray(warp(frames, training=True)) - frames).max() > 0.1


def test_a_warp_by_alpha_moves_the_harmonics_as_the_same_pitch_shift():
    low, high = _harmonic_log_mel(200.0), _harmonic_log_mel(220.0)
    warp = VocalTractLengthWarp((0.85, 1.15))
    up = warp(low, alphas=[1.1])
    frame_error = lambda a, b: float(np.mean(np.abs(np.asarray(a)[:, 5:-5] - np.asarray(b)[:, 5:-5])))  # noqa: E731
    assert frame_error(up, high) < 0.6 * frame_error(low, high)
    down = warp(high, alphas=[1 / 1.1])
    assert frame_error(down, low) < 0.6 * frame_error(high, low)


def test_warp_keeps_the_shape_padding_and_the_top_band():
    frames = np.random.default_rng(0).normal(size=(2, 6, 80)).astype("float32")
    frames[1, 4:] = np.log(1e-6)  # padded frames: every band at the floor
    warped = np.asarray(VocalTractLengthWarp((0.85, 1.15))(frames, alphas=[0.85, 1.15]))
    assert warped.shape == frames.shape
    np.testing.assert_allclose(warped[1, 4:], np.log(1e-6), rtol=1e-6)
    assert np.abs(warped[0, :, 79] - frames[0, :, 79]).max() < np.abs(warped[0, :, 20] - frames[0, :, 20]).max()
    hertz = VocalTractLengthWarp((0.85, 1.15)).source_hertz([1000.0, 7600.0], tf.constant([0.85, 1.15]))
    np.testing.assert_allclose(hertz, [[1000 / 0.85, 7600], [1000 / 1.15, 7600]], rtol=1e-5)


def test_draws_are_per_utterance_in_range_and_deterministic_under_a_seed():
    frames = tf.random.normal([8, 5, 16], seed=2)
    alphas = np.asarray(VocalTractLengthWarp((0.9, 1.2), seed=3).draw(64))
    assert 0.9 <= alphas.min() and alphas.max() <= 1.2 and len(np.unique(alphas)) == 64
    same = [np.asarray(VocalTractLengthWarp(seed=3)(frames, training=True)) for _ in range(2)]
    np.testing.assert_array_equal(same[0], same[1])
    other = np.asarray(VocalTractLengthWarp(seed=4)(frames, training=True))
    assert np.abs(other - same[0]).max() > 1e-3
    layer = VocalTractLengthWarp(seed=3)
    assert np.abs(np.asarray(layer(frames, training=True)) - np.asarray(layer(frames, training=True))).max() > 1e-3


def test_config_round_trips_and_bad_ranges_are_refused():
    layer = VocalTractLengthWarp((0.8, 1.25), boundary_hertz=4000.0, seed=5)
    clone = VocalTractLengthWarp.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config() and clone.alpha_range == (0.8, 1.25)
    with pytest.raises(ValueError, match="0.5 <= low <= high <= 2"):
        VocalTractLengthWarp((1.2, 0.9))
    with pytest.raises(ValueError, match="boundary_hertz < upper_hertz"):
        VocalTractLengthWarp(boundary_hertz=8000.0)
