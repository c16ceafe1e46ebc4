import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.export import export_model
from keras_ae.layers import ConvImageDecoder, ConvImageEncoder
from keras_ae.models import DiscreteAutoEncoder
from tests.helpers import bar_images, reload_and_call_many


def _small(code="binary", code_length=8, num_categories=None, **kwargs):
    logits = code_length if code == "binary" else code_length * num_categories
    return DiscreteAutoEncoder(
        image_shape=(8, 8, 1),
        code=code,
        code_length=code_length,
        num_categories=num_categories,
        encoder=ConvImageEncoder(embedding_dim=logits, filters=(8, 16), hidden_dim=32),
        decoder=ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32),
        seed=0,
        **kwargs,
    )


@pytest.mark.parametrize("code,length,categories", [("binary", 8, None), ("onehot", 2, 16)])
def test_loss_falls_at_equal_bits(code, length, categories):
    keras.utils.set_random_seed(0)
    images, _ = bar_images(256)
    model = _small(code, length, categories)
    assert model.code_bits == 8
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(images, batch_size=32, epochs=6, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0]
    codes = model.codes(images[:5])
    assert codes.shape == (5, length) and codes.dtype == tf.int32
    assert int(tf.reduce_max(codes)) < (categories or 2)
    np.testing.assert_allclose(model.reconstruct(images[:5]).numpy(), model.decode_codes(codes).numpy(), atol=1e-6)


def test_config_round_trip():
    for model in (_small(binary_mode="stochastic"), _small("onehot", 3, 4, anneal_rate=1e-3)):
        clone = DiscreteAutoEncoder.from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


def test_bad_codes_are_clear_errors():
    with pytest.raises(ValueError, match="code length must be a positive integer"):
        DiscreteAutoEncoder(code_length=0)
    with pytest.raises(ValueError, match="binary code has 2 categories"):
        DiscreteAutoEncoder(code="binary", num_categories=4)
    with pytest.raises(ValueError, match="num_categories must be an integer of at least 2"):
        DiscreteAutoEncoder(code="onehot", num_categories=1)
    with pytest.raises(ValueError, match="binary, onehot"):
        DiscreteAutoEncoder(code="ternary")
    model = _small("onehot", 2, 4)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"codes must lie in \[0, 4\)"):
        model.decode_codes(tf.constant([[0, 4]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="need 2 codes"):
        model.decode_codes(tf.constant([[0, 1, 2]]))


def test_export_reloads_without_keras_ae(tmp_path):
    images, _ = bar_images(32)
    model = _small("onehot", 2, 4)
    destination = export_model(model, tmp_path / "discrete")
    codes = model.codes(images[:4]).numpy()
    outputs, signatures = reload_and_call_many(
        destination,
        {
            "encode": ("encode", [images[:4]]),
            "quantize": ("quantize", [images[:4]]),
            "decode_codes": ("decode_codes", [codes]),
            "bad": ("decode_codes", [np.full([1, 2], 7, "int32")]),
        },
    )
    assert {"encode", "quantize", "decode_codes"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(images[:4]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(outputs["quantize"][0], codes)
    np.testing.assert_allclose(outputs["decode_codes"][0], model.decode_codes(codes).numpy(), atol=1e-5)
    assert "codes must lie in [0, 4)" in outputs["bad"]
