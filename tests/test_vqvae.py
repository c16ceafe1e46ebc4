import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.export import export_model
from keras_ae.models import VQVAE
from tests.helpers import bar_images
from tests.helpers import two_replica_strategy

RELOAD_SCRIPT = '''
import json, sys
import numpy as np
import tensorflow as tf
assert not any(name.startswith("keras_ae") for name in sys.modules)  # TF itself loads parts of keras
loaded = tf.saved_model.load(sys.argv[1])
outputs = {}
for name in sys.argv[2].split(","):
    inputs = np.load(sys.argv[1] + "." + name + ".npy")
    try:
        outputs[name] = np.asarray(getattr(loaded, "decode_codes" if name == "bad" else name)(inputs))
    except tf.errors.InvalidArgumentError as error:
        outputs[name] = np.asarray(error.message)
np.savez(sys.argv[1] + ".outputs.npz", **outputs)
print(json.dumps(sorted(loaded.signatures.keys())))
'''


def reload_and_call_all(export_dir, inputs):
    """Calls several signatures of an export in one fresh process that imports only TensorFlow (one TF start-up
    instead of one per signature); `inputs` maps a signature to its input, "bad" to out-of-range codes."""
    for name, array in inputs.items():
        np.save(f"{export_dir}.{name}.npy", array)
    completed = subprocess.run(
        [sys.executable, "-c", RELOAD_SCRIPT, str(export_dir), ",".join(inputs)], capture_output=True, text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outputs = np.load(f"{export_dir}.outputs.npz")
    return {name: outputs[name] for name in outputs.files}, json.loads(completed.stdout.strip().splitlines()[-1])


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
    model = _small_vqvae(ema=False, beta=0.5, restart_dead_codes=False)
    clone = VQVAE.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


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
    outputs, signatures = reload_and_call_all(
        destination, {"encode": images[:4], "quantize": images[:4], "decode_codes": codes, "bad": np.full([1, 2, 2], 99, "int32")}
    )
    assert {"encode", "quantize", "decode_codes", "serving_default"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"], model.encode(images[:4]).numpy(), atol=1e-5)
    np.testing.assert_array_equal(outputs["quantize"], codes)
    assert outputs["quantize"].dtype == np.int32
    np.testing.assert_allclose(outputs["decode_codes"], model.decode_codes(codes).numpy(), atol=1e-5)
    assert "code indices must lie in [0, 16)" in str(outputs["bad"])


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
