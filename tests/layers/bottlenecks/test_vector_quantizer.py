import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import VectorQuantizer
from keras_ae.layers.bottlenecks.vector_quantizer import check_codebook_fits
from tests.helpers import global_policy, two_replica_strategy


def _clustered(count=512, dim=4, clusters=8, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(clusters, dim))
    return (centers[rng.integers(0, clusters, count)] + rng.normal(0, 0.1, (count, dim))).astype("float32")


def test_lookup_shapes_and_nearest_code():
    quantizer = VectorQuantizer(num_codes=16, code_dim=4, kmeans_init=False, restart_dead_codes=False, seed=0)
    inputs = tf.random.normal([3, 5, 5, 4], seed=1)
    out = quantizer(inputs)
    assert out["quantized"].shape == (3, 5, 5, 4)
    assert out["indices"].shape == (3, 5, 5) and out["indices"].dtype == tf.int32
    assert out["loss"].shape == (3, 5, 5)
    codebook = quantizer.codebook.numpy()
    flat = inputs.numpy().reshape(-1, 4)
    expected = np.argmin(((flat[:, None, :] - codebook[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(out["indices"].numpy().reshape(-1), expected)
    np.testing.assert_allclose(out["quantized"].numpy().reshape(-1, 4), codebook[expected], atol=1e-5)
    np.testing.assert_array_equal(quantizer.nearest(inputs).numpy(), out["indices"].numpy())
    np.testing.assert_allclose(quantizer.lookup(out["indices"]).numpy(), out["quantized"].numpy(), atol=1e-5)


def test_straight_through_gradient_and_losses():
    quantizer = VectorQuantizer(num_codes=8, code_dim=2, ema=False, beta=0.25, kmeans_init=False, restart_dead_codes=False)
    inputs = tf.random.normal([6, 2])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(inputs)
        out = quantizer(inputs)
        downstream = tf.reduce_sum(out["quantized"] * 3.0)
        vq_loss = tf.reduce_sum(out["loss"])
    np.testing.assert_allclose(tape.gradient(downstream, inputs).numpy(), 3.0 * np.ones([6, 2]))
    codes = quantizer.codebook.numpy()[out["indices"].numpy()]
    expected = 1.25 * ((inputs.numpy() - codes) ** 2).mean(-1)   # codebook loss + beta * commitment
    np.testing.assert_allclose(out["loss"].numpy(), expected, rtol=1e-5)
    assert tape.gradient(vq_loss, quantizer.codebook) is not None


def test_kmeans_init_and_ema_use_every_cluster():
    data = _clustered()
    quantizer = VectorQuantizer(num_codes=8, code_dim=4, kmeans_samples=256, buffer_size=256, seed=3)
    step = tf.function(lambda x: quantizer(x, training=True))
    for start in range(0, 512, 64):
        out = step(data[start : start + 64])
    assert int(quantizer.initialized.numpy()) == 1
    out = quantizer(data)
    assert float(out["usage"]) == 1.0
    assert float(tf.reduce_mean(out["loss"])) < 0.05
    assert float(out["perplexity"]) > 6.0


def test_dead_codes_restart_from_recent_outputs():
    data = _clustered(clusters=4)
    # A codebook far away from the data: without restarts only the nearest code is ever picked.
    far = VectorQuantizer(num_codes=8, code_dim=4, kmeans_init=False, restart_dead_codes=False, ema=True, seed=0)
    far.build((None, 4))
    far.codebook.assign(far.codebook.numpy() + 50.0)
    far.ema_sum.assign(far.codebook.numpy())
    restarting = VectorQuantizer.from_config({**far.get_config(), "restart_dead_codes": True, "dead_code_threshold": 0.5})
    restarting.build((None, 4))
    restarting.set_weights([w for w in far.get_weights()] + restarting.get_weights()[len(far.get_weights()):])
    for quantizer in (far, restarting):
        for start in range(0, 512, 64):
            quantizer(data[start : start + 64], training=True)
    assert float(far(data)["usage"]) <= 0.25
    assert float(restarting(data)["usage"]) >= 0.5
    assert float(tf.reduce_mean(restarting(data)["loss"])) < float(tf.reduce_mean(far(data)["loss"]))


def test_out_of_range_codes_are_a_clear_error():
    quantizer = VectorQuantizer(num_codes=4, code_dim=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"code indices must lie in \[0, 4\)"):
        quantizer.lookup(tf.constant([[0, 4]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must lie in"):
        quantizer.lookup(tf.constant([-1]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        VectorQuantizer(num_codes=0)
    with pytest.raises(ValueError, match="code_dim=4"):
        VectorQuantizer(num_codes=4, code_dim=4)(tf.zeros([2, 3]))
    with pytest.raises(ValueError, match="cannot be fitted on 10 encoder outputs"):
        check_codebook_fits(512, 10)


def test_config_round_trip():
    quantizer = VectorQuantizer(num_codes=32, code_dim=3, ema=False, decay=0.9, dead_code_threshold=0.1, seed=4)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(quantizer))
    assert clone.get_config() == quantizer.get_config()
    clone.build((None, 3))
    quantizer.build((None, 3))
    assert [w.shape for w in clone.weights] == [w.shape for w in quantizer.weights]


def _train_in(strategy, data, global_batch, **options):
    with strategy.scope():
        quantizer = VectorQuantizer(num_codes=8, code_dim=4, kmeans_samples=64, buffer_size=128, seed=7, **options)
        quantizer.build((None, 4))

    @tf.function
    def step(batch):
        return strategy.run(lambda x: quantizer(x, training=True)["loss"], args=(batch,))

    dataset = tf.data.Dataset.from_tensor_slices(data).batch(global_batch, drop_remainder=True)
    for batch in strategy.experimental_distribute_dataset(dataset):
        step(batch)
    return quantizer


@pytest.mark.parametrize("ema", [True, False])
def test_two_replicas_hold_identical_codebooks_equal_to_one_replica(ema):
    """The statistics are summed across replicas: 2 replicas end where 1 replica with the same global batch ends."""
    data = _clustered(count=640, clusters=6, seed=1) * np.arange(1, 5, dtype="float32")
    mirrored = two_replica_strategy()
    two = _train_in(mirrored, data, 32, ema=ema, dead_code_threshold=0.5)
    one = _train_in(tf.distribute.get_strategy(), data, 32, ema=ema, dead_code_threshold=0.5)
    for variable in (two.codebook, two.cluster_size, two.buffer):
        copies = [v.numpy() for v in mirrored.experimental_local_results(variable.value)]
        assert len(copies) == 2
        np.testing.assert_array_equal(copies[0], copies[1])
    np.testing.assert_allclose(two.codebook.numpy(), one.codebook.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(two.cluster_size.numpy(), one.cluster_size.numpy(), rtol=1e-4, atol=1e-4)


def _train_steps(quantizer, data, batch=64):
    step = tf.function(lambda x: quantizer(x, training=True))
    for start in range(0, len(data), batch):
        out = step(data[start : start + batch])
    return out


def test_mixed_float16_ema_kmeans_and_restarts():
    """Under "mixed_float16": float16 quantized outputs, float32 state (codebook, EMA statistics, buffer), an EMA /
    k-means / restart update that matches the float32 one, straight-through gradients into float32 inputs, and the
    previous global policy restored."""
    data = _clustered()
    options = dict(num_codes=8, code_dim=4, kmeans_samples=256, buffer_size=256, seed=3)
    reference = VectorQuantizer(**options)
    _train_steps(reference, data)
    with global_policy("mixed_float16"):
        quantizer = VectorQuantizer(**options)
        assert quantizer.compute_dtype == "float16"
        out = _train_steps(quantizer, data)
        for variable in (quantizer.codebook, quantizer.cluster_size, quantizer.usage, quantizer.ema_sum,
                         quantizer.buffer):
            assert variable.dtype == "float32", variable.name
        assert int(quantizer.initialized.numpy()) == 1
        assert np.isfinite(quantizer.codebook.numpy()).all() and np.isfinite(quantizer.ema_sum.numpy()).all()
        for key in ("perplexity", "usage"):
            assert np.isfinite(out[key].numpy())
        inputs = tf.constant(data[:32])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            out = quantizer(inputs)
            downstream = tf.reduce_sum(tf.cast(out["quantized"], "float32") * 3.0)
        assert out["quantized"].dtype == tf.float16 and out["indices"].dtype == tf.int32
        assert np.isfinite(out["loss"].numpy()).all()
        np.testing.assert_allclose(tape.gradient(downstream, inputs).numpy(), 3.0 * np.ones([32, 4]))
        assert float(quantizer(data)["usage"]) == 1.0
        assert float(tf.reduce_mean(quantizer(data)["loss"])) < 0.05
    assert keras.mixed_precision.global_policy().name == "float32"
    # The same updates as in float32, up to float16 rounding of the inputs (clusters sit at a scale of ~3).
    order = lambda codebook: codebook[np.lexsort(codebook.T)]  # noqa: E731
    np.testing.assert_allclose(order(quantizer.codebook.numpy()), order(reference.codebook.numpy()), atol=0.02)


def test_mixed_float16_codebook_loss_gradients():
    """Without EMA the float32 codebook is trained by gradients of the codebook loss, also under mixed precision."""
    with global_policy("mixed_float16"):
        quantizer = VectorQuantizer(num_codes=8, code_dim=2, ema=False, kmeans_init=False, restart_dead_codes=False,
                                    seed=0)
        inputs = tf.random.normal([16, 2], seed=4)
        with tf.GradientTape() as tape:
            out = quantizer(inputs, training=True)
            loss = tf.reduce_mean(tf.cast(out["loss"], "float32"))
        assert quantizer.codebook.dtype == "float32" and quantizer.codebook.trainable
        gradient = tf.convert_to_tensor(tape.gradient(loss, quantizer.codebook))  # a gather gives IndexedSlices
        assert gradient is not None and gradient.dtype == tf.float32
        assert np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).sum() > 0
    assert keras.mixed_precision.global_policy().name == "float32"
