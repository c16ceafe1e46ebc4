import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import ConvImageDecoder, ConvImageEncoder, ReconstructionJudge
from keras_ae.models import AutoEncoder, JudgedEncoder
from tests.helpers import bar_images


def _small_autoencoder(**kwargs):
    return AutoEncoder(
        image_shape=(8, 8, 1),
        embedding_dim=8,
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        decoder=ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32),
        **kwargs,
    )


def test_reconstruction_loss_falls():
    images, _ = bar_images(256)
    model = _small_autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(images, batch_size=32, epochs=5, verbose=0).history["loss"]
    assert history[-1] < 0.6 * history[0]
    assert model.decode(model.encode(images[:3])).shape == (3, 8, 8, 1)


def test_classic_autoencoder_is_the_judged_encoder_with_a_reconstruction_judge():
    """The special case made literal: same weights give the same loss and the same gradients."""
    images, _ = bar_images(16)
    classic = _small_autoencoder()
    judged = JudgedEncoder(
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        judges=[ReconstructionJudge(ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32))],
        input_shape=(8, 8, 1),
    )
    assert isinstance(classic, JudgedEncoder) and type(classic).train_step is JudgedEncoder.train_step
    assert [type(judge) for judge in classic.judges] == [ReconstructionJudge] and classic.bottleneck is None
    judged.encoder.set_weights(classic.encoder.get_weights())
    judged.judges[0].decoder.set_weights(classic.decoder.get_weights())

    with tf.GradientTape() as tape:
        classic_loss = tf.reduce_mean(classic.reconstruction_errors(images, training=True))
    classic_gradients = tape.gradient(classic_loss, classic.encoder.trainable_variables + classic.decoder.trainable_variables)
    with tf.GradientTape() as tape:
        judged_loss = tf.reduce_mean(judged.judge_losses(images, training=True)[0][0])
    judged_variables = judged.encoder.trainable_variables + judged.judges[0].decoder.trainable_variables
    judged_gradients = tape.gradient(judged_loss, judged_variables)

    assert float(classic_loss) > 0
    np.testing.assert_allclose(float(judged_loss), float(classic_loss), rtol=1e-6)
    assert len(classic_gradients) == len(judged_gradients)
    for classic_gradient, judged_gradient in zip(classic_gradients, judged_gradients):
        np.testing.assert_allclose(judged_gradient.numpy(), classic_gradient.numpy(), rtol=1e-5, atol=1e-7)


def test_config_round_trip_keeps_architecture():
    model = _small_autoencoder(reconstruction_loss="bce")
    clone = AutoEncoder.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_rejects_unknown_reconstruction_loss():
    with pytest.raises(ValueError, match="mse, mae, bce"):
        _small_autoencoder(reconstruction_loss="l3")
