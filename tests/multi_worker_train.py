"""One worker of the 2-process MultiWorkerMirroredStrategy test: trains a few steps, saves its weights.

Usage: python tests/multi_worker_train.py WORKER_INDEX PORT0 PORT1 OUTPUT.npz
"""

import json
import os
import sys

index, port0, port1, output = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
os.environ["TF_CONFIG"] = json.dumps(
    {"cluster": {"worker": [f"127.0.0.1:{port0}", f"127.0.0.1:{port1}"]}, "task": {"type": "worker", "index": index}}
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.distribute import get_strategy, is_chief  # noqa: E402
from keras_ae.layers import ConvImageEncoder  # noqa: E402
from keras_ae.models import InfoMax  # noqa: E402

strategy = get_strategy("multi_worker")
assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(images).batch(16, drop_remainder=True)
with strategy.scope():
    model = InfoMax(image_shape=(8, 8, 1), embedding_dim=8, encoder=ConvImageEncoder(8, filters=(8, 16), hidden_dim=32))
    model.compile(optimizer=keras.optimizers.SGD(0.05))
initial = [w.copy() for w in model.get_weights()]
history = model.fit(dataset, epochs=2, verbose=0, shuffle=False).history
changed = max(float(np.abs(a - b).max()) for a, b in zip(initial, model.get_weights()))
np.savez(output, *model.get_weights(), changed=changed, chief=is_chief(), loss=history["loss"])
print(f"worker {index} done: max weight change {changed:.4g}")
