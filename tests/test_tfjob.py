"""recipes/tfjob_multi_worker.yaml: the TF_CONFIG the Kubeflow Training Operator gives each worker, read by keras_ae.

`operator_tf_config` renders TF_CONFIG as the operator does (training-operator, `genTFConfigJSONStr`): the cluster
maps each lower-cased replica type to `<job>-<type>-<i>.<namespace>.svc:<tfjob-port>` for every replica, the task
is the pod's own type and index, and `environment` is `cloud`.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import tensorflow as tf
import yaml

from keras_ae import cli
from keras_ae.distribute import read_tf_config, will_be_chief
from keras_ae.recipes.common import RunFolder

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "recipes" / "tfjob_multi_worker.yaml"
DEFAULT_PORT = 2222  # the operator's default when no container port is named tfjob-port


def load_job():
    documents = list(yaml.safe_load_all(MANIFEST.read_text()))
    jobs = [d for d in documents if d["kind"] == "TFJob"]
    assert len(jobs) == 1 and jobs[0]["apiVersion"] == "kubeflow.org/v1"
    return jobs[0], documents


def container_of(spec):
    (container,) = [c for c in spec["template"]["spec"]["containers"] if c["name"] == "tensorflow"]
    return container


def operator_tf_config(job, replica_type, index, namespace="default"):
    cluster = {}
    for kind, spec in job["spec"]["tfReplicaSpecs"].items():
        ports = [p["containerPort"] for p in container_of(spec).get("ports", []) if p.get("name") == "tfjob-port"]
        port = ports[0] if ports else DEFAULT_PORT
        name = f"{job['metadata']['name']}-{kind.lower()}"
        cluster[kind.lower()] = [f"{name}-{i}.{namespace}.svc:{port}" for i in range(spec["replicas"])]
    return json.dumps({"cluster": cluster, "task": {"type": replica_type.lower(), "index": index},
                       "environment": "cloud"})


def test_manifest_runs_a_recipe_with_multi_worker_on_the_shared_volume():
    job, documents = load_job()
    (worker,) = job["spec"]["tfReplicaSpecs"].values()
    container = container_of(worker)
    command = container["command"]
    assert command[:2] == ["keras-ae", "train"]
    recipe = command[2]
    assert recipe in cli.recipes()
    module = __import__(f"keras_ae.recipes.{recipe}", fromlist=["build_parser"])
    args = module.build_parser().parse_args(command[3:])
    assert args.strategy == "multi_worker"
    (mount,) = container["volumeMounts"]
    for path in (args.run_dir, args.export_dir, {e["name"]: e["value"] for e in container["env"]}["KERAS_AE_HOME"]):
        assert path.startswith(mount["mountPath"] + "/"), path
    (volume,) = worker["template"]["spec"]["volumes"]
    claims = [d for d in documents if d["kind"] == "PersistentVolumeClaim"]
    assert volume["name"] == mount["name"]
    assert [c["metadata"]["name"] for c in claims] == [volume["persistentVolumeClaim"]["claimName"]]
    assert claims[0]["spec"]["accessModes"] == ["ReadWriteMany"]


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_every_worker_reads_its_task_and_only_worker_0_writes(monkeypatch, tmp_path, index):
    job, _ = load_job()
    worker = job["spec"]["tfReplicaSpecs"]["Worker"]
    worker["replicas"] = 4  # as a user scaling the job up would
    monkeypatch.setenv("TF_CONFIG", operator_tf_config(job, "Worker", index))

    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()  # what MultiWorkerMirroredStrategy reads
    assert (resolver.task_type, resolver.task_id) == ("worker", index)
    assert resolver.cluster_spec().as_dict() == {
        "worker": [f"keras-ae-infomax-worker-{i}.default.svc:2222" for i in range(4)]
    }
    assert read_tf_config()["task"] == {"type": "worker", "index": index}  # keras_ae's own check accepts it
    assert will_be_chief("multi_worker") == (index == 0)
    with RunFolder(tmp_path / "run", chief=will_be_chief("multi_worker")) as run:
        run.write_json("metrics.json", {"worker": index})
    if index == 0:
        assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == {"worker": 0}
    else:
        assert not any(tmp_path.iterdir())  # other workers write a scratch folder outside the shared volume


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_manifest_command_trains_on_two_local_workers(tmp_path):
    """The manifest's own command on two processes, TF_CONFIG as the operator renders it (hosts made local)."""
    job, _ = load_job()
    container = container_of(job["spec"]["tfReplicaSpecs"]["Worker"])
    mount = container["volumeMounts"][0]["mountPath"]
    command = [arg.replace(mount, str(tmp_path)) for arg in container["command"]]
    hosts = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_AE_HOME": str(tmp_path / "cache")}
    workers = []
    for index in range(2):
        config = json.loads(operator_tf_config(job, "Worker", index))
        config["cluster"]["worker"] = hosts
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "keras_ae", *command[1:], "--quick", "--data", "digits", "--batch-size", "32"],
            env={**env, "TF_CONFIG": json.dumps(config)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=tmp_path,
        ))
    try:
        outputs = [worker.communicate(timeout=600)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert all(worker.returncode == 0 for worker in workers), "\n".join(o[-3000:] for o in outputs)
    metrics = json.loads((tmp_path / "runs" / "infomax" / "metrics.json").read_text())
    assert metrics["probe_table"]["InfoMax"]["linear_probe"] > 0.2
    assert (tmp_path / "saved_models" / "infomax" / "README.md").exists()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["infomax"]
