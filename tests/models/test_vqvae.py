import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.export import export_model
from keras_ae.models import VQVAE
from tests.helpers import bar_images, global_policy, reload_and_call_many, two_replica_strategy

def _small_vqvae(**kwargs):
    options = dict(data_shape=(8, 8, 1), num_codes=16, code_dim=4, seed=0)
    options.update(kwargs)
    return VQVAE(**options)


@pytest.mark.parametrize("ema", [True, False])
def test_loss_falls_and_codes_are_used(ema):
    keras.utils.set_random_seed(0)
    images, _ = bar_images(256)
    model = _small_vqvae(ema=ema)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(images, batch_size=32, epochs=6, verbose=0).history
    assert history["reconstruction_loss"][-1] < 0.7 * history["reconstruction_loss"][0]
    assert history["codes_used"][-1] > 0.5
    codes = model.codes(images[:5])
    assert codes.shape == (5, 2, 2) and codes.dtype == tf.int32
    assert model.decode_codes(codes).shape == (5, 8, 8, 1)
    np.testing.assert_allclose(model.decode_codes(codes).numpy(), model.reconstruct(images[:5]).numpy(), atol=1e-5)


def test_frames_give_one_code_per_frame():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    prototypes = rng.normal(size=(6, 8)).astype("float32")
    frames = prototypes[rng.integers(0, 6, size=(64, 20))] + rng.normal(0, 0.05, (64, 20, 8)).astype("float32")
    model = _small_vqvae(data_shape=(None, 8), modality="frames", code_dim=4)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(frames, batch_size=16, epochs=8, verbose=0).history
    assert history["reconstruction_loss"][-1] < 0.5 * history["reconstruction_loss"][0]
    codes = model.codes(frames[:2, :13])
    assert codes.shape == (2, 13)
    assert model.decode_codes(codes).shape == (2, 13, 8)


def test_config_round_trip():
    model = _small_vqvae(ema=False, beta=0.5, restart_dead_codes=False,
                         quantizer_options={"kmeans_iterations": 3, "buffer_size": 64})
    clone = VQVAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    quantizer = clone.quantizer.get_config()
    assert (quantizer["kmeans_iterations"], quantizer["buffer_size"], quantizer["beta"]) == (3, 64, 0.5)
    with pytest.raises(ValueError, match=r"repeats \['beta'\]: pass them as VQVAE arguments"):
        _small_vqvae(quantizer_options={"beta": 1.0})


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="positive integer"):
        VQVAE(num_codes=0)
    with pytest.raises(ValueError, match="modality"):
        VQVAE(modality="video")
    with pytest.raises(ValueError, match="needs data_shape with 2 axes"):
        VQVAE(data_shape=(28, 28, 1), modality="frames")
    model = _small_vqvae()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"code indices must lie in \[0, 16\)"):
        model.decode_codes(tf.constant([[[0, 1], [2, 16]]]))


def test_export_reloads_without_keras_ae(tmp_path):
    images, _ = bar_images(64)
    model = _small_vqvae()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(images, batch_size=32, epochs=1, verbose=0)
    destination = export_model(model, tmp_path / "vqvae", metrics={"codes_used": 0.5})
    codes = model.codes(images[:4]).numpy()
    outputs, signatures = reload_and_call_many(
        destination,
        {
            "encode": ("encode", [images[:4]]),
            "quantize": ("quantize", [images[:4]]),
            "decode_codes": ("decode_codes", [codes]),
            "bad": ("decode_codes", [np.full([1, 2, 2], 99, "int32")]),
        },
    )
    assert {"encode", "quantize", "decode_codes", "serving_default"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(images[:4]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(outputs["quantize"][0], codes)
    assert outputs["quantize"][0].dtype == np.int32
    np.testing.assert_allclose(outputs["decode_codes"][0], model.decode_codes(codes).numpy(), atol=1e-5)
    assert "code indices must lie in [0, 16)" in outputs["bad"]


def test_two_replica_fit_ends_with_identical_codebooks():
    images, _ = bar_images(128)
    strategy = two_replica_strategy()
    with strategy.scope():
        model = _small_vqvae(dead_code_threshold=0.3)
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(images, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    quantizer = model.quantizer
    assert int(quantizer.initialized.numpy()) == 1
    for variable in (quantizer.codebook, quantizer.cluster_size, quantizer.ema_sum, quantizer.usage):
        copies = [v.numpy() for v in strategy.experimental_local_results(variable.value)]
        assert len(copies) == 2
        np.testing.assert_array_equal(copies[0], copies[1])


def _speaker_frames(count=96, time=20, features=8, speakers=4, seed=0):
    """Frames = one of 6 'phone' prototypes per frame + a fixed offset per speaker (the same for the whole
    utterance): what a speaker-conditioned decoder can add back without the codes carrying it."""
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(6, features)).astype("float32")
    offsets = rng.normal(0, 1.5, size=(speakers, features)).astype("float32")
    speaker_ids = rng.integers(0, speakers, size=count).astype("int32")
    frames = prototypes[rng.integers(0, 6, size=(count, time))] + offsets[speaker_ids][:, None, :]
    frames += rng.normal(0, 0.05, frames.shape).astype("float32")
    return frames.astype("float32"), speaker_ids


def _conditioned_vqvae(**kwargs):
    options = dict(data_shape=(None, 8), modality="frames", num_codes=16, code_dim=4, num_speakers=4, speaker_dim=4,
                   seed=0)
    options.update(kwargs)
    return VQVAE(**options)


def test_speaker_conditioned_decoder_uses_the_speaker():
    keras.utils.set_random_seed(0)
    frames, speakers = _speaker_frames()
    model = _conditioned_vqvae()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit({"frames": frames, "speakers": speakers}, batch_size=16, epochs=10, verbose=0).history
    assert history["reconstruction_loss"][-1] < 0.5 * history["reconstruction_loss"][0]
    codes = model.codes(frames[:16])
    assert codes.shape == (16, 20) and codes.dtype == tf.int32
    right = model.decode_codes(codes, speakers[:16]).numpy()
    wrong = model.decode_codes(codes, (speakers[:16] + 1) % 4).numpy()
    # The same codes voiced by another speaker give other frames, and the true speaker reconstructs far better.
    assert np.mean((right - wrong) ** 2) > 0.1
    assert np.mean((right - frames[:16]) ** 2) < 0.5 * np.mean((wrong - frames[:16]) ** 2)
    np.testing.assert_allclose(right, model.reconstruct(frames[:16], speakers[:16]).numpy(), atol=1e-5)
    # Tuples (frames, speakers) work as training batches too.
    model.fit((frames, speakers), batch_size=16, epochs=1, verbose=0)


def test_speaker_conditioned_config_round_trip():
    model = _conditioned_vqvae(speaker_dim=3)
    config = model.get_config()
    assert config["num_speakers"] == 4 and config["speaker_dim"] == 3
    clone = VQVAE.from_config(config)
    assert clone.get_config() == config
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    clone.set_weights(model.get_weights())
    frames, speakers = _speaker_frames(count=4)
    codes = model.codes(frames)
    np.testing.assert_allclose(
        clone.decode_codes(codes, speakers).numpy(), model.decode_codes(codes, speakers).numpy(), atol=1e-6
    )


def test_speaker_conditioning_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="num_speakers must be a positive integer"):
        _conditioned_vqvae(num_speakers=0)
    with pytest.raises(ValueError, match="speaker_dim must be a positive integer"):
        _conditioned_vqvae(speaker_dim=0)
    model = _conditioned_vqvae()
    frames, speakers = _speaker_frames(count=2)
    codes = model.codes(frames)
    with pytest.raises(ValueError, match="conditioned on the speaker"):
        model.decode_codes(codes)
    with pytest.raises(ValueError, match="conditioned on the speaker"):
        model.compile(optimizer="adam")
        model.fit(frames, epochs=1, verbose=0)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"speaker ids must lie in \[0, 4\)"):
        model.decode_codes(codes, np.array([0, 4], "int32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one speaker id per example"):
        model.decode_codes(codes, np.array([0], "int32"))
    with pytest.raises(ValueError, match="not speaker-conditioned"):
        _small_vqvae().decode_codes(tf.zeros([1, 2, 2], tf.int32), [0])


def test_speaker_conditioned_export_reloads_without_keras_ae(tmp_path):
    frames, speakers = _speaker_frames(count=32)
    model = _conditioned_vqvae()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit({"frames": frames, "speakers": speakers}, batch_size=16, epochs=1, verbose=0)
    destination = export_model(model, tmp_path / "vqvae_speakers")
    codes = model.codes(frames[:3]).numpy()
    ids = speakers[:3]
    outputs, signatures = reload_and_call_many(
        destination,
        {
            "encode": ("encode", [frames[:3]]),
            "quantize": ("quantize", [frames[:3]]),
            "decode_codes": ("decode_codes", [codes, ids]),
            "other_speaker": ("decode_codes", [codes, (ids + 1) % 4]),
            "bad_speaker": ("decode_codes", [codes, np.array([0, 1, 4], "int32")]),
        },
    )
    assert {"encode", "quantize", "decode_codes"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(frames[:3]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(outputs["quantize"][0], codes)
    np.testing.assert_allclose(outputs["decode_codes"][0], model.decode_codes(codes, ids).numpy(), atol=1e-5)
    np.testing.assert_allclose(
        outputs["other_speaker"][0], model.decode_codes(codes, (ids + 1) % 4).numpy(), atol=1e-5
    )
    assert "speaker ids must lie in [0, 4)" in outputs["bad_speaker"]


def test_mixed_float16_fit_keeps_a_float32_codebook():
    """A speaker-conditioned VQ-VAE trains under the "mixed_float16" policy (Keras wraps the optimizer in a loss-scale
    optimizer): finite losses, codebook and EMA statistics in float32, float16 reconstructions."""
    frames, speakers = _speaker_frames(count=64)
    with global_policy("mixed_float16"):
        keras.utils.set_random_seed(0)
        model = _conditioned_vqvae()
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = model.fit({"frames": frames, "speakers": speakers}, batch_size=16, epochs=3, verbose=0).history
        assert all(np.isfinite(history[key]).all() for key in ("loss", "reconstruction_loss", "vq_loss"))
        assert history["reconstruction_loss"][-1] < history["reconstruction_loss"][0]
        quantizer = model.quantizer
        assert int(quantizer.initialized.numpy()) == 1
        for variable in (quantizer.codebook, quantizer.cluster_size, quantizer.ema_sum):
            assert variable.dtype == "float32" and np.isfinite(variable.numpy()).all()
        decoded = model.decode_codes(model.codes(frames[:4]), speakers[:4])
        assert decoded.dtype == tf.float16 and np.isfinite(decoded.numpy()).all()
    assert keras.mixed_precision.global_policy().name == "float32"


def test_time_stride_gives_one_code_per_stride_frames():
    """time_stride=2: a strided frame encoder gives one code per 2 frames, the decoder upsamples back to every
    frame (with and without a speaker-conditioned decoder), and it trains."""
    frames, speakers = _speaker_frames(count=32)  # 20 frames each
    model = _conditioned_vqvae(time_stride=2)
    assert model.get_config()["time_stride"] == 2
    codes = model.codes(frames[:3])
    assert codes.shape == (3, 10) and codes.dtype == tf.int32
    assert model.encode(frames[:3]).shape == (3, 10, 4)
    assert model.decode_codes(codes, speakers[:3]).shape == (3, 20, 8)
    assert model.reconstruct(frames[:3], speakers[:3]).shape == (3, 20, 8)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit({"frames": frames, "speakers": speakers}, batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    plain = _small_vqvae(data_shape=(None, 8), modality="frames", time_stride=4)
    assert plain.codes(frames[:2, :12]).shape == (2, 3)
    assert plain.decode_codes(plain.codes(frames[:2, :12])).shape == (2, 12, 8)


def test_time_stride_config_round_trip():
    model = _small_vqvae(data_shape=(None, 8), modality="frames", time_stride=2)
    config = model.get_config()
    clone = VQVAE.from_config(config)
    assert clone.time_stride == 2 and clone.get_config() == config
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    clone.set_weights(model.get_weights())
    frames, _ = _speaker_frames(count=2)
    np.testing.assert_array_equal(clone.codes(frames).numpy(), model.codes(frames).numpy())
    # The default stays one code per frame.
    assert _small_vqvae(data_shape=(None, 8), modality="frames").get_config()["time_stride"] == 1


def test_time_stride_bad_input_is_a_clear_error():
    frames, _ = _speaker_frames(count=2)  # 20 frames
    model = _small_vqvae(data_shape=(None, 8), modality="frames", time_stride=2)
    with pytest.raises(ValueError, match="divisible by 2; got 19 frames"):
        model.codes(frames[:, :19])
    with pytest.raises(tf.errors.InvalidArgumentError, match="divisible by 2"):
        tf.function(model.codes, input_signature=[tf.TensorSpec([None, None, 8])])(frames[:, :19])
    with pytest.raises(ValueError, match="divisible by time_stride=4"):
        _small_vqvae(data_shape=(10, 8), modality="frames", time_stride=4)
    with pytest.raises(ValueError, match="modality='frames' only"):
        _small_vqvae(time_stride=2)
    with pytest.raises(ValueError, match="time_stride must be a positive integer"):
        _small_vqvae(data_shape=(None, 8), modality="frames", time_stride=0)


def _tone_waveforms(count=24, samples=3200, speakers=3, seed=0):
    """Waveforms of two tones each, whose pitch depends on the speaker id: `(waveforms [count, samples], ids)`."""
    rng = np.random.default_rng(seed)
    ids = np.arange(count, dtype="int32") % speakers
    time = np.arange(samples) / 16000.0
    pitches = 150.0 * (1 + ids)[:, None]
    tones = np.sin(2 * np.pi * pitches * time) + 0.5 * np.sin(2 * np.pi * rng.uniform(500, 2000, (count, 1)) * time)
    return (0.3 * tones + 0.01 * rng.normal(size=tones.shape)).astype("float32"), ids


def _front_end_vqvae(normalization="utterance"):
    from keras_ae.layers import LogMelSpectrogram

    return VQVAE(data_shape=(None, 16), modality="frames", num_codes=16, code_dim=4, num_speakers=3, speaker_dim=4,
                 seed=0, front_end=LogMelSpectrogram(16, normalization=normalization, dct=True))


def test_front_end_takes_waveforms_in_training_and_export(tmp_path):
    """With a front end the VQ-VAE trains on waveforms (the loss falls), reconstructs the front end's frames, and its
    export takes waveforms too: `encode`, `quantize` and `features` match the model in a TF-only process."""
    from tests.testing import run_model_test

    waveforms, ids = _tone_waveforms()
    model = run_model_test(_front_end_vqvae, {"inputs": waveforms, "speakers": ids}, epochs=6,
                           fit_kwargs={"batch_size": 8}, replica_batch={"inputs": waveforms[:4], "speakers": ids[:4]})
    frames = model.features(waveforms[:2])
    assert frames.shape == (2, 20, 16)
    assert model.codes(waveforms[:2]).shape == (2, 20)
    assert model.reconstruct(waveforms[:2], ids[:2]).shape == (2, 20, 16)
    destination = export_model(model, tmp_path / "vq")
    outputs, signatures = reload_and_call_many(destination, {
        name: (name, [waveforms[:2]]) for name in ("encode", "quantize", "features")})
    assert {"encode", "quantize", "features", "decode_codes"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(waveforms[:2]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(outputs["quantize"][0], model.codes(waveforms[:2]).numpy())
    np.testing.assert_allclose(outputs["features"][0], frames.numpy(), atol=1e-5)


def test_front_end_statistics_are_weights_with_global_normalization():
    waveforms, _ = _tone_waveforms(count=6)
    model = _front_end_vqvae("global")
    model.adapt(list(waveforms))
    frames = np.asarray(model.features(waveforms)).reshape(-1, 16)
    np.testing.assert_allclose(frames.mean(axis=0), 0.0, atol=1e-3)
    clone = VQVAE.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(clone.features(waveforms)), np.asarray(model.features(waveforms)), atol=1e-6)
    with pytest.raises(ValueError, match="front_end applies to modality='frames' only"):
        VQVAE(data_shape=(28, 28, 1), front_end=model.front_end)
    with pytest.raises(ValueError, match=r"make data_shape\[-1\] = 16"):
        VQVAE(data_shape=(None, 8), modality="frames", front_end=model.front_end)
    with pytest.raises(ValueError, match="no front end to adapt"):
        _small_vqvae().adapt(list(waveforms))
