import keras
import numpy as np
import pytest

from keras_ae.layers import ConvImageDecoder, ConvImageEncoder, PairDiscriminator, ReconstructionJudge


def _roundtrip(layer):
    return type(layer).from_config(layer.get_config())


def test_encoder_returns_feature_map_and_embedding():
    encoder = ConvImageEncoder(embedding_dim=16, filters=(8, 16))
    features, embedding = encoder(np.zeros((3, 28, 28, 1), "float32"))
    assert tuple(features.shape) == (3, 7, 7, 16) and tuple(embedding.shape) == (3, 16)
    assert encoder.compute_output_shape((None, 28, 28, 1)) == ((None, 7, 7, 16), (None, 16))
    assert _roundtrip(encoder).get_config() == encoder.get_config()


def test_decoder_produces_images_in_unit_range():
    decoder = ConvImageDecoder(image_shape=(8, 8, 3), filters=(8, 4))
    images = np.asarray(decoder(np.random.normal(size=(2, 5)).astype("float32")))
    assert images.shape == (2, 8, 8, 3) and images.min() >= 0 and images.max() <= 1
    assert _roundtrip(decoder).get_config() == decoder.get_config()


def test_decoder_rejects_shapes_it_cannot_make():
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvImageDecoder(image_shape=(30, 30, 1))


@pytest.mark.parametrize("view, score_shape", [("global", (4, 4)), ("local", (4, 9, 4))])
def test_pair_discriminator_scores_every_pair(view, score_shape):
    judge = PairDiscriminator(view=view, projection_dim=8, hidden_dim=16)
    features, embedding = np.random.normal(size=(4, 3, 3, 5)).astype("float32"), np.ones((4, 6), "float32")
    scores, positives = judge.score_matrix(features, embedding)
    assert tuple(scores.shape) == score_shape
    np.testing.assert_array_equal(positives, np.arange(4))
    assert judge.judge_loss(None, (features, embedding)).shape == (4,)
    assert judge.score(None, (features, embedding)).shape == (4,)
    assert _roundtrip(judge).get_config() == judge.get_config()


def test_pair_discriminator_rejects_unknown_view_and_objective():
    with pytest.raises(ValueError, match="global, local"):
        PairDiscriminator(view="patch")
    with pytest.raises(ValueError, match="bce, infonce"):
        PairDiscriminator(objective="hinge")


def test_reconstruction_judge_scores_matched_pairs_only():
    judge = ReconstructionJudge(ConvImageDecoder(image_shape=(8, 8, 1), filters=(4, 4)), loss="mse")
    images = np.random.uniform(size=(2, 8, 8, 1)).astype("float32")
    loss = judge.judge_loss(images, np.zeros((2, 3), "float32"))
    np.testing.assert_allclose(judge.score(images, np.zeros((2, 3), "float32")), -loss)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(judge))
    assert clone.get_config()["loss"] == "mse"
    with pytest.raises(ValueError, match="mse, mae, bce"):
        ReconstructionJudge(judge.decoder, loss="huber")


def test_random_shift_moves_each_image_by_whole_pixels():
    import tensorflow as tf

    from keras_ae.layers import RandomShift

    images = np.random.default_rng(0).uniform(size=(6, 6, 6, 1)).astype("float32")
    shifted = np.asarray(RandomShift(max_shift=2)(images, seed=tf.constant([3, 1])))
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    for image, result in zip(padded, shifted):
        matches = [
            (dy, dx) for dy in range(5) for dx in range(5) if np.allclose(image[dy : dy + 6, dx : dx + 6], result, atol=1e-6)
        ]
        assert matches, "every output is an exact whole-pixel shift of its input"
    assert not np.allclose(shifted, images)
    np.testing.assert_array_equal(RandomShift(max_shift=0)(images, seed=tf.constant([0, 0])), images)
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(max_shift=-1)
