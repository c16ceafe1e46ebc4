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
_EXAMPLE = (
    'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\' '
    "on the first machine and index 1 on the second"
)
_cluster_task = None  # (TF_CONFIG, is chief) once get_strategy("multi_worker") has read it


def get_strategy(name="default"):
    """Returns the `tf.distribute.Strategy` called `name` (one of `STRATEGIES`).

    `multi_worker` reads the cluster from the `TF_CONFIG` environment variable (checked first, with a clear error);
    every worker runs the same command. Only `multi_worker` reads `TF_CONFIG`: with another strategy a leftover
    `TF_CONFIG` is ignored (with a warning), so this process writes its run folder and export itself.
    """
    global _cluster_task
    if name == "multi_worker":
        config = read_tf_config()
        _cluster_task = (config, _chief_in(config))
        # A dead peer makes the others fail (health checks abort the collectives) instead of waiting forever.
        return tf.distribute.MultiWorkerMirroredStrategy()
    _cluster_task = None
    if os.environ.get("TF_CONFIG"):
        print(f"TF_CONFIG is set but --strategy is {name}: ignoring it (this process trains alone and writes its "
              "own run folder and export). Use --strategy multi_worker to train on the cluster it describes.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}.")


def read_tf_config():
    """The `TF_CONFIG` of a multi-worker run, checked: a cluster of host:port workers and this task within it."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(f"--strategy multi_worker needs the TF_CONFIG environment variable describing the cluster, "
                         f"e.g. {_EXAMPLE}.")
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); give e.g. {_EXAMPLE}.") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not cluster or not isinstance(task, dict):
        raise ValueError(f"TF_CONFIG needs a 'cluster' of workers and this process's 'task'; give e.g. {_EXAMPLE}.")
    for role, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses or not all(
            isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses
        ):
            raise ValueError(f"TF_CONFIG cluster {role!r} must be a list of 'host:port' strings; got {addresses!r}.")
    role, index = task.get("type"), task.get("index")
    if role not in cluster:
        raise ValueError(f"TF_CONFIG task type {role!r} is not in the cluster ({', '.join(cluster)}); fix 'task'.")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[role]):
        raise ValueError(f"TF_CONFIG task index {index!r} is outside the {len(cluster[role])} {role}(s) of the "
                         f"cluster; give 0 to {len(cluster[role]) - 1}.")
    return config


def _chief_in(config):
    role, index = config["task"]["type"], config["task"]["index"]
    return role == "chief" or (role == "worker" and index == 0 and "chief" not in config["cluster"])


def will_be_chief(strategy_name):
    """Whether this process will write the run folder once `get_strategy(strategy_name)` runs (checks TF_CONFIG
    for `multi_worker`), so a run can be checked before the strategy exists."""
    return strategy_name != "multi_worker" or _chief_in(read_tf_config())


def is_chief():
    """True on the process that writes run folders and exports: the only process, or under `--strategy
    multi_worker` the chief (else worker 0)."""
    return True if _cluster_task is None else _cluster_task[1]


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


def replica_normal(shape, seed_generator, dtype="float32"):
    """Standard normal draws that differ between the replicas of a strategy (`replica_uniform` through the inverse
    normal CDF; the uniforms are kept off 0 and 1 so that every draw is finite)."""
    return tf.math.ndtri(replica_uniform(shape, seed_generator, minval=1e-7, maxval=1.0 - 1e-7, dtype=dtype))
