"""The one loop: judges, bottleneck losses, and adversarial steps with named optimizers."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.core import JudgedEncoder, gradient_penalty
from keras_ae.layers.judges.classifier_adversary import ClassifierAdversary
from keras_ae.layers.judges.reconstruction_judge import ReconstructionJudge
from tests.helpers import global_policy, two_replica_strategy


def labelled_vectors(count=256, seed=0):
    """Vectors whose first feature carries a binary label (+-1) among seven noise features."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=count).astype("int32")
    inputs = rng.normal(0, 0.3, size=(count, 8)).astype("float32")
    inputs[:, 0] += 2.0 * labels - 1.0
    return {"inputs": inputs, "labels": labels}


@keras.saving.register_keras_serializable(package="keras_ae_tests")
class DictInputEncoder(JudgedEncoder):
    """A JudgedEncoder reading `batch["inputs"]`: the least a method class adds for dict batches."""

    def encoder_inputs(self, batch):
        return batch["inputs"]


def adversarial_model(adversary_steps=3, ramp_steps=0, weight=1.0, fooling="uniform", code_dim=4):
    encoder = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(code_dim)], name="encoder")
    judge = ReconstructionJudge(keras.layers.Dense(8, name="decoder"), target_key="inputs", name="reconstruction")
    adversary = ClassifierAdversary(2, label_key="labels", hidden_dim=16, fooling=fooling, name="adversary")
    model = DictInputEncoder(
        encoder,
        judges=[judge],
        adversaries=[adversary],
        adversary_weights=[weight],
        adversary_steps=adversary_steps,
        adversary_ramp_steps=ramp_steps,
    )
    model.build((None, 8))
    return model


def _weights(layer):
    return [np.array(weight) for weight in layer.get_weights()]


def test_each_optimizer_updates_only_its_own_variables_k_times():
    keras.utils.set_random_seed(0)
    model = adversarial_model(adversary_steps=3)
    model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-2), "adversary": keras.optimizers.Adam(1e-2)})
    adversary_ids = {id(v) for v in model.adversary_variables}
    assert adversary_ids and not adversary_ids & {id(v) for v in model.encoder_variables}
    assert len(model.adversary_variables) + len(model.encoder_variables) == len(model.trainable_variables)
    encoder_before, adversary_before = _weights(model.encoder), _weights(model.adversaries[0])
    results = model.train_on_batch(labelled_vectors(32), return_dict=True)
    assert int(model.optimizer.iterations) == 1 and int(model.adversary_optimizer.iterations) == 3
    assert {"loss", "reconstruction_loss", "adversary_loss", "adversary_accuracy"} <= set(results)
    for before, after in zip(encoder_before + adversary_before, _weights(model.encoder) + _weights(model.adversaries[0])):
        assert not np.allclose(before, after)


def test_adversary_hides_the_label_from_the_code():
    """Trained against the adversary, the code loses the label that reconstruction alone keeps."""
    from sklearn.linear_model import LogisticRegression

    data, test = labelled_vectors(512, seed=0), labelled_vectors(512, seed=1)

    def probe_accuracy(weight):
        keras.utils.set_random_seed(0)
        model = adversarial_model(adversary_steps=5, weight=weight)
        model.compile(optimizers={"encoder": keras.optimizers.Adam(3e-3), "adversary": keras.optimizers.Adam(3e-3)})
        model.fit(data, batch_size=64, epochs=25, verbose=0)
        train_codes, test_codes = model.encode(data["inputs"]), model.encode(test["inputs"])
        probe = LogisticRegression(max_iter=1000).fit(train_codes, data["labels"])
        return probe.score(test_codes, test["labels"])

    plain, adversarial = probe_accuracy(0.0), probe_accuracy(10.0)  # measured: 1.00 and 0.54 (chance 0.5)
    assert plain > 0.95
    assert adversarial < 0.75


def test_adversarial_weight_ramps_linearly_from_zero():
    model = adversarial_model(ramp_steps=4)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    ramps = []
    for _ in range(6):
        ramps.append(float(model.adversary_ramp()))
        model.train_on_batch(labelled_vectors(16))
    np.testing.assert_allclose(ramps, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


def test_single_optimizer_gives_the_adversary_a_fresh_copy():
    model = adversarial_model()
    model.compile(optimizer=keras.optimizers.Adam(5e-4))
    assert model.adversary_optimizer is not model.optimizer
    assert model.adversary_optimizer.get_config()["learning_rate"] == pytest.approx(5e-4)


def test_named_optimizers_are_checked():
    model = adversarial_model()
    with pytest.raises(ValueError, match="'encoder' \\(required\\) and 'adversary'"):
        model.compile(optimizers={"generator": "adam"})
    plain = DictInputEncoder(keras.layers.Dense(4), judges=[ReconstructionJudge(keras.layers.Dense(8), target_key="inputs")])
    with pytest.raises(ValueError, match="no adversaries"):
        plain.compile(optimizers={"encoder": "adam", "adversary": "adam"})
    with pytest.raises(ValueError, match="adversary_steps"):
        adversarial_model(adversary_steps=0)


def test_compile_config_round_trips_both_optimizers():
    model = adversarial_model()
    model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.SGD(0.05)})
    clone = adversarial_model()
    clone.compile_from_config(model.get_compile_config())
    assert isinstance(clone.optimizer, keras.optimizers.Adam)
    assert isinstance(clone.adversary_optimizer, keras.optimizers.SGD)
    assert clone.adversary_optimizer.get_config()["learning_rate"] == pytest.approx(0.05)
    assert clone.optimizer.built and clone.adversary_optimizer.built


def test_model_config_round_trips():
    model = adversarial_model(adversary_steps=2, ramp_steps=10, weight=0.5, fooling="negative_crossentropy")
    clone = DictInputEncoder.from_config(model.get_config())
    assert clone.get_config() == model.get_config()


def test_checkpoint_restores_both_optimizers(tmp_path):
    keras.utils.set_random_seed(0)
    model = adversarial_model(adversary_steps=2)
    model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-2), "adversary": keras.optimizers.Adam(1e-2)})
    model.fit(labelled_vectors(64), batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    restored = adversarial_model(adversary_steps=2)
    restored.compile(optimizers={"encoder": keras.optimizers.Adam(1e-2), "adversary": keras.optimizers.Adam(1e-2)})
    restored._build_optimizers()
    restored.load_weights(path)
    assert int(restored.optimizer.iterations) == 2 and int(restored.adversary_optimizer.iterations) == 4
    for a, b in zip(model.adversary_optimizer.variables, restored.adversary_optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b))


def test_two_replicas_take_the_one_device_steps():
    """One step of each optimizer on 2 replicas equals the same global batch on 1 device (SGD, so the comparison
    is of the gradients themselves)."""
    batch = labelled_vectors(16)
    keras.utils.set_random_seed(0)
    single = adversarial_model(adversary_steps=1)
    single.compile(optimizers={"encoder": keras.optimizers.SGD(0.5), "adversary": keras.optimizers.SGD(0.5)})
    with two_replica_strategy().scope():
        mirrored = adversarial_model(adversary_steps=1)
        mirrored.compile(optimizers={"encoder": keras.optimizers.SGD(0.5), "adversary": keras.optimizers.SGD(0.5)})
    mirrored.set_weights(single.get_weights())
    expected = single.train_on_batch(batch, return_dict=True)
    got = mirrored.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0).history
    np.testing.assert_allclose(got["loss"][0], expected["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["adversary_loss"][0], expected["adversary_loss"], rtol=1e-5)
    for a, b in zip(single.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_mixed_precision_scales_both_losses():
    with global_policy("mixed_float16"):
        keras.utils.set_random_seed(0)
        model = adversarial_model()
        model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-3)})
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(model.adversary_optimizer, keras.optimizers.LossScaleOptimizer)
        history = model.fit(labelled_vectors(64), batch_size=32, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(history["adversary_loss"]))


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    real = tf.random.normal([8, 3], seed=1)
    fake = tf.random.normal([8, 3], seed=2)
    unit = gradient_penalty(lambda x: x[:, 0], real, fake, seed=tf.constant([1, 2]))
    steep = gradient_penalty(lambda x: 3.0 * x[:, 0], real, fake, seed=tf.constant([1, 2]))
    np.testing.assert_allclose(unit, np.zeros(8), atol=1e-5)
    np.testing.assert_allclose(steep, np.full(8, 4.0), rtol=1e-4)


def test_integer_sizes_follow_one_rule():
    from keras_ae.core.validation import integer_at_least
    from keras_ae.layers.bottlenecks.vector_quantizer import check_num_codes

    assert check_num_codes(np.int64(512)) == 512 and type(check_num_codes(np.int64(512))) is int
    for bad in (True, 2.0, 0, "8"):
        with pytest.raises(ValueError, match="codebook size must be a positive integer"):
            check_num_codes(bad)
    with pytest.raises(ValueError, match="steps must be an integer of at least 0"):
        integer_at_least("steps", -1, 0)
