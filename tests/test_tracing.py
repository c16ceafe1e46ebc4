import keras

from benchmarks.throughput import traced_step_counter
from keras_ae.data.images import make_dataset
from keras_ae.layers import ConvImageEncoder
from keras_ae.models import InfoMax
from tests.helpers import bar_images


def test_train_step_is_not_retraced_after_the_first_step():
    images, _ = bar_images(256)
    model = InfoMax(image_shape=(8, 8, 1), embedding_dim=8, encoder=ConvImageEncoder(8, filters=(8, 16), hidden_dim=32))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    counter = traced_step_counter(model)
    dataset = make_dataset(images, 32, shuffle=True)
    model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    after_first_step = counter["traces"]
    model.fit(dataset, epochs=3, verbose=0, shuffle=False)
    assert 1 <= after_first_step <= 2  # TensorFlow traces twice when the first call creates optimizer variables
    assert counter["traces"] == after_first_step
