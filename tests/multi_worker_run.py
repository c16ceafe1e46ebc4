"""One worker of the 2-process run-folder tests: trains InfoMax in a RunFolder under MultiWorkerMirroredStrategy.

Usage: python tests/multi_worker_run.py INDEX PORT0 PORT1 RUN_DIR OUTPUT.npz EPOCHS [resume] [stop:N] [die:N]

`stop:N` ends both workers (as kill -9 would: no clean-up) right after epoch N's checkpoint; `die:N` kills worker 1
alone at the start of epoch N, to check that worker 0 then fails with a message instead of waiting forever.
"""

import json
import os
import signal
import sys

index, port0, port1, run_dir, output, epochs = sys.argv[1:7]
options = sys.argv[7:]
os.environ["TF_CONFIG"] = json.dumps(
    {"cluster": {"worker": [f"127.0.0.1:{port0}", f"127.0.0.1:{port1}"]}, "task": {"type": "worker", "index": int(index)}}
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.distribute import get_strategy, will_be_chief  # noqa: E402
from keras_ae.layers import ConvImageEncoder  # noqa: E402
from keras_ae.models import InfoMax  # noqa: E402
from keras_ae.runs import RunFolder  # noqa: E402


class Stop(keras.callbacks.Callback):
    def __init__(self, stop_after, die_at):
        super().__init__()
        self.stop_after, self.die_at = stop_after, die_at

    def on_epoch_begin(self, epoch, logs=None):
        if self.die_at is not None and epoch == self.die_at and int(index) == 1:
            os.kill(os.getpid(), signal.SIGKILL)

    def on_epoch_end(self, epoch, logs=None):
        if self.stop_after is not None and epoch + 1 == self.stop_after:
            os._exit(3)


def option(name):
    values = [int(o.split(":")[1]) for o in options if o.startswith(f"{name}:")]
    return values[0] if values else None


run = RunFolder(run_dir, resume="resume" in options, flags={"epochs": int(epochs), "embedding_dim": 8},
                chief=will_be_chief("multi_worker"))
strategy = get_strategy("multi_worker")
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
dataset = tf.data.Dataset.from_tensor_slices(images).batch(16, drop_remainder=True)
with strategy.scope():
    model = InfoMax(image_shape=(8, 8, 1), embedding_dim=8, encoder=ConvImageEncoder(8, filters=(8, 16), hidden_dim=32))
    model.compile(optimizer=keras.optimizers.SGD(0.05))
with run:
    run.write_config(model)
    run.fit(model, dataset, epochs=int(epochs), verbose=0, shuffle=False,
            callbacks=[Stop(option("stop"), option("die"))])
np.savez(output, *model.get_weights(), restored=run.restored_epoch, chief=run.chief)
print(f"worker {index} done after restoring epoch {run.restored_epoch}")
