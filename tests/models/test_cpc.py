import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.export import export_model
from keras_ae.layers import LogMelEncoder, WaveformEncoder
from keras_ae.models import CPC
from tests.helpers import reload_and_call, two_replica_strategy

CROP = 3200  # 20 frames of 10 ms


def tone_sequences(count=64, samples=CROP, seed=0):
    """Waveforms made of 30-60 ms tone segments; each sequence draws its tones from its own small set of
    frequencies (a stand-in "speaker"), so future frames are predictable from the past and differ across
    sequences. Labels: the sequence's set id."""
    rng = np.random.default_rng(seed)
    bank = rng.uniform(150, 3000, size=(8, 4))
    waves, labels = [], []
    time = np.arange(samples) / 16000
    for _ in range(count):
        label = rng.integers(0, len(bank))
        wave, position = np.zeros(samples), 0
        while position < samples:
            length = int(rng.integers(480, 960))
            frequency = rng.choice(bank[label])
            wave[position : position + length] = np.sin(2 * np.pi * frequency * time[: min(length, samples - position)])
            position += length
        waves.append(0.3 * wave + 0.01 * rng.normal(size=samples))
        labels.append(label)
    return np.array(waves, np.float32), np.array(labels, np.int64)


def _small_cpc(**kwargs):
    kwargs.setdefault("prediction_steps", 3)
    kwargs.setdefault("negatives", "batch")  # the toy tones are told apart across the batch; the tests pin it
    return CPC(WaveformEncoder(embedding_dim=16, filters=16), context_dim=16, crop_samples=CROP, **kwargs)


def test_encoder_gives_one_embedding_per_10ms_and_round_trips():
    encoder = WaveformEncoder(embedding_dim=8, filters=(8, 8, 8, 8, 8))
    assert encoder.hop == 160
    frames = encoder(tf.zeros([2, 16000]))
    assert frames.shape == (2, 100, 8)
    clone = WaveformEncoder.from_config(encoder.get_config())
    assert clone.get_config() == encoder.get_config()
    # Loudness does not matter with input normalisation.
    waves, _ = tone_sequences(2)
    np.testing.assert_allclose(encoder(waves), encoder(3.0 * waves), atol=1e-4)


def test_log_mel_encoder_frames_round_trip_and_ignore_the_channel_gain():
    encoder = LogMelEncoder(embedding_dim=8, units=16, depth=2, normalization="utterance")
    assert encoder.hop == 160 and encoder(tf.zeros([2, 16000])).shape == (2, 100, 8)
    clone = LogMelEncoder.from_config(encoder.get_config())
    assert clone.get_config() == encoder.get_config()
    waves, labels = tone_sequences(16)
    # Utterance normalisation of the mel bands: a gain (or any fixed per-band colour) changes nothing.
    np.testing.assert_allclose(encoder(waves), encoder(4.0 * waves), atol=1e-2)  # up to the log floor
    # Global normalisation: statistics from `adapt`, saved in the weights, the same for every utterance.
    global_encoder = LogMelEncoder(embedding_dim=8, units=16, depth=2)
    global_encoder.front_end.adapt(list(waves))
    assert float(np.abs(global_encoder.front_end.mean.numpy()).max()) > 0
    assert not np.allclose(global_encoder(waves), global_encoder(4.0 * waves), atol=1e-2)
    keras.utils.set_random_seed(0)
    model = CPC(LogMelEncoder(embedding_dim=16, units=32), context_dim=16, crop_samples=CROP, prediction_steps=3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(waves, labels, batch_size=8, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert type(CPC.from_config(model.get_config()).encoder) is LogMelEncoder


def test_loss_falls_and_future_frames_are_found():
    waves, labels = tone_sequences(64)
    keras.utils.set_random_seed(0)
    model = _small_cpc()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(waves, labels, batch_size=16, epochs=10, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert set(history) == {"loss", "accuracy_1", "accuracy_2", "accuracy_3"}
    assert history["accuracy_1"][-1] > 2 * history["accuracy_1"][0]
    results = model.evaluate(waves, labels, batch_size=16, verbose=0, return_dict=True)
    assert len(model.step_accuracies(results)) == 3


def test_encode_shape_config_round_trip_and_bad_options():
    model = _small_cpc(negatives="same_speaker", temperature=0.1)
    context = model.encode(tf.zeros([3, 4800]))
    assert context.shape == (3, 30, 16)
    assert model.encode_frames(tf.zeros([3, 4800])).shape == (3, 30, 16)
    clone = CPC.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    waves, _ = tone_sequences(2)
    np.testing.assert_allclose(clone.encode(waves), model.encode(waves), atol=1e-6)
    with pytest.raises(ValueError, match="speaker ids"):
        model.contrastive_losses(waves)
    with pytest.raises(ValueError, match="Unknown negatives"):
        _small_cpc(negatives="everything")
    with pytest.raises(ValueError, match="too short"):
        _small_cpc(prediction_steps=3).contrastive_losses(tf.zeros([2, 480]))


def test_same_speaker_negatives_mask_other_speakers():
    waves, _ = tone_sequences(8)
    keras.utils.set_random_seed(1)
    model = _small_cpc(negatives="same_speaker")
    for predictor in model.predictors:  # non-zero predictors, so the scores differ
        predictor.kernel.assign(tf.random.normal(predictor.kernel.shape, stddev=0.3))
    batch = _small_cpc(negatives="batch")
    batch.set_weights(model.get_weights())
    reference = batch.contrastive_losses(waves)[0].numpy()
    # Every sequence its own speaker: no same-speaker candidate, fall back to the whole batch.
    alone = model.contrastive_losses(waves, tf.range(8))[0].numpy()
    np.testing.assert_allclose(alone, reference, rtol=1e-5)
    # Pairs of speakers: two candidates per row, so the loss is at most log(2) on average and below the batch one.
    paired = model.contrastive_losses(waves, tf.constant([0, 0, 1, 1, 2, 2, 3, 3]))[0].numpy()
    assert np.all(paired < reference) and paired.mean() < np.log(2) + 0.5


def test_export_reloads_without_keras_ae(tmp_path):
    waves, labels = tone_sequences(32)
    model = _small_cpc()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(waves, labels, batch_size=16, epochs=1, verbose=0)
    destination = export_model(model, tmp_path / "cpc", metrics={"phone_probe": 0.5})
    inputs = np.concatenate([waves[:2], waves[:2, :1600]], axis=1)  # a length the model never saw: 4800 samples
    (outputs,), signatures = reload_and_call(destination, "encode", [inputs])
    assert {"encode", "encode_frames", "serving_default"} <= set(signatures)
    assert outputs.shape == (2, 30, 16)
    np.testing.assert_allclose(outputs, model.encode(inputs), atol=1e-5)


@pytest.fixture(scope="module")
def strategy():
    return two_replica_strategy()


@pytest.mark.parametrize("negatives", ["batch", "same_speaker", "batch_and_sequence"])
def test_two_replicas_match_one_replica(strategy, negatives):
    """Same global batch, same weights: the per-example losses, the reported loss and the weights after one SGD step
    are the same on one device and on two replicas (negatives gathered across replicas)."""
    waves, _ = tone_sequences(8, samples=1600, seed=3)
    speakers = np.array([0, 1, 0, 1, 2, 2, 3, 0], np.int64)  # same-speaker pairs that straddle the two replicas
    keras.utils.set_random_seed(2)
    single = _small_cpc(negatives=negatives, prediction_steps=2)
    for predictor in single.predictors:
        predictor.kernel.assign(tf.random.normal(predictor.kernel.shape, stddev=0.3))
    initial = single.get_weights()
    expected = single.contrastive_losses(waves, speakers)[0].numpy()

    with strategy.scope():
        mirrored = _small_cpc(negatives=negatives, prediction_steps=2)
        mirrored.set_weights(initial)
        mirrored.compile(optimizer=keras.optimizers.SGD(0.1))
    dataset = tf.data.Dataset.from_tensor_slices((waves, speakers)).batch(8)
    distributed = strategy.experimental_distribute_dataset(dataset)
    per_replica = strategy.run(
        tf.function(lambda x, s: mirrored.contrastive_losses(x, s)[0]), args=next(iter(distributed))
    )
    got = np.concatenate([t.numpy() for t in strategy.experimental_local_results(per_replica)])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    single.compile(optimizer=keras.optimizers.SGD(0.1))
    one = single.fit(dataset, epochs=1, verbose=0).history["loss"][0]
    two = mirrored.fit(dataset, epochs=1, verbose=0).history["loss"][0]
    assert one == pytest.approx(float(expected.mean()), rel=1e-5)
    assert two == pytest.approx(one, rel=1e-5)
    for a, b in zip(single.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
