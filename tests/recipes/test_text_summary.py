"""The text_summary recipe end to end: bad input (default suite); quick runs on user files and the full default run
on Debian's descriptions (`-m slow`)."""

import json
import os
import subprocess
import sys
import types

import keras
import pytest
import tensorflow as tf

from keras_ae.data.summaries import make_unpaired_dataset
from keras_ae.evaluation.summaries import SummaryLanguageModel
from keras_ae.models.text_latent import TextLatent
from keras_ae.recipes import text_summary
from tests.summary_helpers import tiny_pairs
from tests.tensorboard_helpers import read_projector, summary_steps


def _files(tmp_path, count=300, summaries=True):
    documents, references = tiny_pairs(count)
    path = tmp_path / "pairs.jsonl"
    records = [{"document": f"{d} item{i}", **({"summary": s} if summaries else {})}
               for i, (d, s) in enumerate(zip(documents, references))]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    return path


QUICK = ["--quick", "--epochs", "1", "--pretrain-epochs", "1", "--supervised-epochs", "1", "--limit", "64",
         "--curve-documents", "16", "--evaluate", "16"]


AUTO_CLUSTERING_SCRIPT = """
import sys
import tensorflow as tf  # imported before the flag is read, as the recipe's module does
from keras_ae.recipes import text_summary
from keras_ae.recipes.common import auto_cluster_jit_compile
auto_cluster_jit_compile(text_summary.build_parser().parse_args(sys.argv[1:]))

@tf.function
def step(words, x):  # a string op beside numeric ones, as in the recipe's training step
    x = tf.tanh(tf.matmul(x, x) + 1.0)
    x = tf.reduce_sum(x * x, axis=1)
    return tf.strings.length(words), x - tf.reduce_mean(x)

step(tf.constant(["a document"]), tf.ones([8, 8]))
"""


@pytest.mark.parametrize("flags, compiled", [([], True), (["--no-jit-compile"], False)],
                         ids=["default", "no_jit_compile"])
def test_jit_compile_auto_clusters_the_numeric_ops_and_leaves_the_string_ops(flags, compiled):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    environment.pop("TF_XLA_FLAGS", None)
    completed = subprocess.run([sys.executable, "-c", AUTO_CLUSTERING_SCRIPT, *flags], capture_output=True, text=True,
                               env=environment, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert ("Compiled cluster using XLA" in completed.stderr) == compiled


MIRRORED_AUTO_CLUSTERING_SCRIPT = """
import sys
import keras
import numpy as np
import tensorflow as tf
from keras_ae.data.summaries import make_unpaired_dataset
from keras_ae.models.text_latent import TextLatent
from keras_ae.recipes import text_summary
from keras_ae.recipes.common import auto_cluster_jit_compile
from tests.summary_helpers import VOCABULARY, tiny_pairs
auto_cluster_jit_compile(text_summary.build_parser().parse_args(["--jit-compile"]))
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
documents, summaries = tiny_pairs(32, seed=2)
keras.utils.set_random_seed(0)
with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
    model = TextLatent(VOCABULARY, objective="unpaired", summary_length=4, document_length=10, embedding_dim=8,
                       word_dim=8, hidden_dim=8, seed=0, anchor_weight=0.01)
    model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-3)})
history = model.fit(make_unpaired_dataset(documents, summaries, 16), epochs=2, verbose=0).history
print("finite", bool(np.all(np.isfinite(history["loss"]))), "discriminator", history["discriminator_loss"][-1])
"""


@pytest.mark.slow  # about a minute: the adversarial step traced and compiled per replica
def test_jit_compile_compiles_and_trains_the_unpaired_stage_on_two_replicas():
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    environment.pop("TF_XLA_FLAGS", None)
    completed = subprocess.run([sys.executable, "-c", MIRRORED_AUTO_CLUSTERING_SCRIPT], capture_output=True, text=True,
                               env=environment, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Compiled cluster using XLA" in completed.stderr and "finite True" in completed.stdout


@pytest.mark.slow  # a few minutes: four models traced and trained
def test_quick_run_on_pairs_writes_the_table_samples_figures_and_export(tmp_path):
    metrics = text_summary.main([*QUICK, "--data", str(_files(tmp_path)), "--run-dir", str(tmp_path / "run"),
                                 "--export-dir", str(tmp_path / "export")])
    run = tmp_path / "run"
    assert {"metrics.json", "samples.md", "full_model_curves.png", "rouge.png", "history.csv"} <= {
        p.name for p in run.iterdir()}
    table = json.loads((run / "metrics.json").read_text())["table"]
    assert {"Lead-4", "first clause", "pretrained only", "reconstruction only", "full (unpaired)",
            "supervised (ceiling)"} <= set(table)
    assert all(0 <= table[name]["rouge1"] <= 100 for name in ("Lead-4", "full (unpaired)"))
    assert metrics["perplexity"] > 1 and (tmp_path / "export" / "keras_ae.json").is_file()
    assert "val_rouge1" in (run / "history.csv").read_text().splitlines()[0]
    # every stage's validation curves, with the code-dependence diagnostics (and the critic's AUC for the full model)
    histories = json.loads((run / "metrics.json").read_text())["histories"]
    prior = histories.pop("language model")  # the prior's language model, fitted on the pool: its loss per epoch
    assert set(prior) == {"loss"} and all(loss > 0 for loss in prior["loss"])
    assert all({"val_rouge1", "val_reconstruction_true", "val_reconstruction_shuffled"} <= set(history)
               for history in histories.values()) and len(histories) == 4
    assert 0.0 <= histories["full"]["val_critic_auc"][-1] <= 1.0
    assert {"val_critic_auc_same_length", "val_length_auc"} <= set(histories["full"])
    # length matched (the default): the unpaired models write N words, as Lead-N; the ceiling ends by itself
    assert table["full (unpaired)"]["words"] == table["reconstruction only"]["words"] == pytest.approx(4.0)
    # by default (--average-decay 0.99) the unpaired stages are scored with the weight average and their last iterate
    assert {"full (unpaired), last iterate", "reconstruction only, last iterate"} <= set(table)
    assert {"val_raw_rouge1", "val_raw_words"} <= set(histories["full"])
    assert "val_raw_rouge1" not in histories["pretrained"]
    # the full model's summaries of validation documents, before training and after its epoch, as TensorBoard text
    assert summary_steps(run / "tensorboard" / "samples")["summaries of validation documents"] == [0, 1]
    _, metadata, rows = read_projector(run / "tensorboard", "test documents (encoder embedding)")
    assert metadata[0] == "generated summary\tdocument" and len(metadata) == len(rows) + 1


@pytest.mark.slow
def test_documents_without_summaries_still_train_and_report_readability(tmp_path, monkeypatch):
    pool = tmp_path / "pool.txt"
    texts = [f"{summary} {i}" for i, summary in enumerate(tiny_pairs(200, seed=5)[1])]  # every line distinct
    pool.write_text("\n".join(texts), encoding="utf-8")
    fitted = []
    fit_language_model = TextLatent.fit_language_model
    monkeypatch.setattr(TextLatent, "fit_language_model", lambda self, summaries, **options: (
        fitted.append(list(summaries)), fit_language_model(self, summaries, **options))[1])
    metrics = text_summary.main([*QUICK, "--data", str(_files(tmp_path, summaries=False)), "--summaries", str(pool),
                                 "--no-export", "--anchor-weight", "1", "--lm-prior-weight", "0.1", "--lm-ablation",
                                 "--run-dir", str(tmp_path / "run")])
    assert "rouge1" not in metrics and metrics["perplexity"] > 1
    histories = metrics["histories"]
    assert "anchor_kl" in histories["full"] and "anchor_kl" not in histories["pretrained"]
    # the language model is fitted once, on the critic's pool alone: not on the fifth held out to score readability
    assert len(fitted) == 1 and len(histories["language model"]["loss"]) == 1  # --quick: --lm-epochs 1
    held_out = texts[: len(texts) // 5]
    assert sorted(fitted[0]) == sorted(texts[len(texts) // 5 :]) and not set(fitted[0]) & set(held_out)
    # the judge of real summaries is the critic and the language model: reconstruction only has neither, the second
    # ablation the language model alone
    assert "lm_prior_kl" in histories["full"] and "discriminator_loss" in histories["full"]
    assert not {"lm_prior_kl", "discriminator_loss"} & set(histories["reconstruction only"])
    assert "lm_prior_kl" in histories["reconstruction only + language model"]
    assert "discriminator_loss" not in histories["reconstruction only + language model"]
    assert {"reconstruction only", "reconstruction only + language model"} <= set(metrics["table"])
    assert "supervised (ceiling)" not in metrics["table"]


def test_bad_input_fails_before_any_work(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"document": "ok"}\n{"summary": "no document"}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        text_summary.main(["--data", str(bad), "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):
        text_summary.main(["--resume", "--run-dir", str(tmp_path / "run")])
    for flags in (["--pseudo-drop", "1"], ["--pseudo-phrase", "-1"], ["--anchor-weight", "-0.5"],
                  ["--lm-prior-weight", "-1"], ["--pseudo-target", "lead"], ["--critic-pooling", "sum"],
                  ["--lm-ablation", "--lm-prior-weight", "0"], ["--lm-epochs", "0"]):
        with pytest.raises(SystemExit):
            text_summary.main([*flags, "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):  # a batch larger than the training documents: no whole batch to train on
        text_summary.main(["--data", str(_files(tmp_path)), "--batch-size", "9999", "--run-dir", str(tmp_path / "run")])
    assert "--batch-size 9999 is more than the" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()


def test_the_pseudo_target_flag_chooses_the_pretraining_target():
    document = "This is the parser for the YAML files."
    for flags, target in (([], "parser for yaml"), (["--pseudo-target", "content"], "parser yaml files")):
        args = text_summary.build_parser().parse_args(flags)
        assert text_summary.make_pseudo_pairs([document], 3, args)[1] == [target]


def test_the_pseudo_skip_ratio_flag_leaves_lead_only_words_out_of_the_target():
    documents = [f"This package provides the {name} tool." for name in ("yaml", "json", "toml", "ini")] * 10
    data = types.SimpleNamespace(train_documents=documents, real_summaries=["yaml tool", "json tool", "toml"] * 10)
    for flags, target in (([], "package provides yaml"), (["--pseudo-skip-ratio", "0.5"], "yaml tool")):
        args = text_summary.build_parser().parse_args(flags)
        skip = text_summary.pretraining_skip(data, 3, args)
        assert text_summary.make_pseudo_pairs(documents[:1], 3, args, skip)[1] == [target]
        assert text_summary.target_name(args, 3, skip).endswith("lead-only words skipped") == bool(flags)
    with pytest.raises(SystemExit):
        text_summary.build_parser().parse_args(["--pseudo-skip-ratio", "-1"])


def test_the_critic_pooling_flag_reaches_the_critic():
    for flags, pooling in (([], "max"), (["--critic-pooling", "mean"], "mean")):
        args = text_summary.build_parser().parse_args([*flags, "--hidden-dim", "8", "--word-dim", "8"])
        assert text_summary.build_model(args, ["yaml", "parser"], 3).discriminator.pooling == pooling


def test_the_targets_read_the_full_model_against_lead_n_and_the_ablation():
    documents, summaries = tiny_pairs(200)
    lm = SummaryLanguageModel(summaries[:150])
    real, scrambled = summaries[150:], [" ".join(reversed(s.split())) for s in summaries[150:]]
    outputs = {"Lead-4": scrambled, "pretrained only": scrambled, "reconstruction only": scrambled,
               "reconstruction only + language model": real, "full (unpaired)": real,
               "full (unpaired), last iterate": scrambled, "supervised (ceiling)": real}
    gaps = text_summary.readability_gaps(lm, outputs, seed=0)
    assert list(gaps) == [f"{name} - reconstruction only" for name in (
        "reconstruction only + language model", "full (unpaired)", "full (unpaired), last iterate")]
    full = gaps["full (unpaired) - reconstruction only"]
    assert full["difference"] == pytest.approx(lm.perplexity(real) - lm.perplexity(scrambled)) and full["high"] < 0
    rows = {"Lead-4": {"rouge1": 30.0}, "full (unpaired)": {"rouge1": 35.5, "first_words": 0.3}}
    values = text_summary.target_values(rows, gaps, 4)
    assert values["rouge1_over_lead"] == pytest.approx(5.5) and values["perplexity_gap"] == full["difference"]
    report = text_summary.format_target_values(values)
    assert "+5.50 (at least +5: met)" in report and "below 0: met, the whole interval below 0" in report
    assert "30.0% (below 25%: missed)" in report
    # without references (no Lead-N ROUGE) and without the ablation (no gap), only what can be read
    values = text_summary.target_values({"full (unpaired)": {"first_words": 0.0}}, {}, 4)
    assert text_summary.readability_gaps(lm, {"full (unpaired)": real}, seed=0) == {}
    assert text_summary.format_target_values(values).splitlines()[1:] == ["  copies of the first words 0.0% (below "
                                                                         "25%: met)"]


class _BatchProbe(keras.Model):
    """Trains nothing: records the documents of every batch `fit` gives it, in order."""

    def __init__(self):
        super().__init__()
        self.batches = []
        self.step = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def train_step(self, batch):
        tf.py_function(lambda documents: self.batches.append(list(documents.numpy())) or 0, [batch["document"]],
                       tf.int32)
        return {"step": self.step}


def test_the_unpaired_stages_train_on_the_stage_benchmarks_batches_in_every_epoch():
    documents, summaries = tiny_pairs(48)
    data = types.SimpleNamespace(train_documents=documents, real_summaries=summaries)
    args = text_summary.build_parser().parse_args(["--batch-size", "8", "--seed", "3", "--epochs", "2"])
    probe = _BatchProbe()
    probe.compile(optimizer="sgd")
    text_summary.fit_unpaired(probe, data, args)
    # the benchmark's stage: the same dataset repeated, 2 x 6 batches in a row (its second shuffle in epoch 2)
    benchmark = make_unpaired_dataset(documents, summaries, 8, shuffle=True, seed=3).repeat().take(12)
    expected = [list(batch["document"].numpy()) for batch in benchmark]
    assert probe.batches == expected and expected[:6] != expected[6:]


@pytest.mark.slow
def test_default_run_on_debian(tmp_path):
    """What the default (since session 23: the connective pretraining target, the anchor 0.01 and the language model
    of the pool, 0.001, beside the critic; since session 27: XLA auto-clustering, so the run repeats, and the unpaired
    stages scored with their weight average) gave on every seed (test pairs; docs/results/text_summary.md, sessions 23
    and 27): the pretrained generator comes within 2.5 ROUGE-1 of its target and beats Lead-N by 3; the full model
    beats Lead-N by 5 (issue 14's target (a)), copies the first words in under a quarter of its outputs (target (c)),
    and reads better than reconstruction only beyond the test documents' chance (target (b): the whole 5-95% interval
    of the perplexity gap below 0; seed 0 read -10.4 (-12.9..-8.0) in session 27). The run is seed 0, with the
    ceiling."""
    metrics = text_summary.main(["--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")])
    table, targets = metrics["table"], metrics["targets"]
    lead = next(name for name in table if name.startswith("Lead-"))
    target = next(name for name in table if name.endswith("(pretraining target)"))
    assert target.startswith("first 6 words with connectives")
    assert table["pretrained only"]["rouge1"] >= table[target]["rouge1"] - 2.5
    assert table["pretrained only"]["rouge1"] >= table[lead]["rouge1"] + 3
    assert targets["rouge1_over_lead"] >= 5 and targets["first_words"] < 0.25
    assert targets["perplexity_gap_interval"][1] < 0
    assert "lm_prior_kl" in metrics["histories"]["full"] and "supervised (ceiling)" in table
