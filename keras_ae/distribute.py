"""Distribution strategy from a flag, and the cross-replica helpers contrastive losses need.

Example:
    strategy = get_strategy("mirrored")
    with strategy.scope():
        model = InfoMax(...)
        model.compile(optimizer="adam")
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def get_strategy(name="default"):
    """Returns the `tf.distribute.Strategy` called `name` (one of `STRATEGIES`).

    `multi_worker` reads the cluster from the `TF_CONFIG` environment variable; every worker runs the same command.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError(
                "--strategy multi_worker needs the TF_CONFIG environment variable describing the cluster, e.g. "
                'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
                '"index": 0}}\' on the first machine and index 1 on the second.'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}.")


def is_chief():
    """True on the process that writes run folders and exports: the chief, else worker 0, else the only process."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task", {"type": "chief", "index": 0})
    has_chief = "chief" in config.get("cluster", {})
    chief_type = "chief" if has_chief else "worker"
    return task.get("type") in (chief_type, "chief") and int(task.get("index", 0)) == 0


def num_replicas():
    """Number of replicas training in sync (1 outside any strategy)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def gather_global_batch(tensor):
    """Concatenates `tensor` over the batch axis of every replica.

    Returns `(global_tensor, offset)`, where row `i` of this replica's `tensor` is row `offset + i` of
    `global_tensor`, so a contrastive loss can draw negatives from the global batch and still find its positives.
    Outside a strategy (or with one replica) it returns `(tensor, 0)`.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tensor, 0
    local_size = tf.shape(tensor)[:1]
    sizes = context.all_gather(local_size, axis=0)
    offset = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
    return context.all_gather(tensor, axis=0), offset


def per_replica_mean(per_example):
    """Mean of a per-example loss over the global batch, as this replica's share.

    Gradients are summed across replicas, so each replica divides its sum by the global batch size.
    """
    local_size = tf.cast(tf.shape(per_example)[0], per_example.dtype)
    return tf.reduce_sum(per_example) / (local_size * num_replicas())



def replica_uniform(shape, seed_generator, minval=0.0, maxval=1.0, dtype="float32"):
    """Uniform draws from a `keras.random.SeedGenerator` that differ between the replicas of a strategy.

    Every replica holds the same generator state, so `keras.random.uniform(..., seed=generator)` would give each
    replica the same noise for its share of the batch (correlated dropout masks or Gumbel noise across replicas).
    This folds the replica id into the generator's next seed; outside a strategy it is replica 0.
    """
    seed = tf.cast(tf.math.floormod(tf.cast(seed_generator.next(), tf.int64), 2**31 - 1), tf.int32)
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    seed = tf.random.experimental.stateless_fold_in(seed, tf.cast(replica, tf.int32))
    return tf.random.stateless_uniform(shape, seed, minval=minval, maxval=maxval, dtype=dtype)
