import keras
import numpy as np
import pytest

from keras_ae.evaluation import linear_probe_accuracy
from keras_ae.layers import ConvImageEncoder
from keras_ae.models import InfoMax
from tests.helpers import bar_images, two_replica_strategy


def _small_infomax(**kwargs):
    # Plain Deep InfoMax unless a test asks for views: on 8x8 bars the label is the bar's position, which a 2-pixel
    # shift (the default for 28x28 images) would scramble.
    kwargs.setdefault("max_shift", 0)
    return InfoMax(
        image_shape=(8, 8, 1),
        embedding_dim=8,
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        **kwargs,
    )


@pytest.mark.parametrize("objective", ["bce", "infonce"])
def test_discriminator_loss_falls(objective):
    images, _ = bar_images(256)
    keras.utils.set_random_seed(0)
    model = _small_infomax(objective=objective)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(images, batch_size=32, epochs=4, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert set(history) == {"loss", "global_discriminator_loss", "local_discriminator_loss"}


def test_embeddings_become_linearly_decodable():
    """After training, a linear probe recovers the bar's orientation and position better than before."""
    images, labels = bar_images(512, seed=1)
    test_images, test_labels = bar_images(256, seed=2)
    keras.utils.set_random_seed(0)
    model = _small_infomax()
    before = linear_probe_accuracy(model.encode(images), labels, model.encode(test_images), test_labels)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(images, batch_size=64, epochs=8, verbose=0)
    after = linear_probe_accuracy(model.encode(images), labels, model.encode(test_images), test_labels)
    assert after > before + 0.1 and after > 0.6


def test_config_round_trip_and_single_view():
    model = _small_infomax(objective="infonce", global_weight=0.0)
    assert [judge.view for judge in model.judges] == ["local"]
    clone = InfoMax.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    with pytest.raises(ValueError, match="global_weight or local_weight"):
        _small_infomax(global_weight=0, local_weight=0)


def test_score_prefers_matched_pairs_after_training():
    images, _ = bar_images(256)
    keras.utils.set_random_seed(0)
    model = _small_infomax()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(images, batch_size=32, epochs=4, verbose=0)
    embeddings = model.encode(images[:64])
    matched = np.asarray(model.score(images[:64], embeddings))
    mismatched = np.asarray(model.score(images[:64], np.roll(embeddings, 1, axis=0)))
    assert (matched > mismatched).mean() > 0.8


def test_shifted_views_train_on_one_and_two_replicas():
    import tensorflow as tf

    images, _ = bar_images(256)
    for strategy in (tf.distribute.get_strategy(), two_replica_strategy()):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = _small_infomax(max_shift=1)
            model.compile(optimizer=keras.optimizers.Adam(3e-3))
        history = model.fit(images, batch_size=32, epochs=3, verbose=0).history["loss"]
        assert history[-1] < history[0]
    assert InfoMax.from_config(model.get_config()).max_shift == 1
