"""End-to-end `--quick` runs of the sentence recipes on a tiny corpus the test writes (no Austen download)."""

import json

import numpy as np
import pytest

from keras_ae.recipes import quick_thought, skip_thought
from tests.helpers import FakeClock, reload_and_call
from tests.tensorboard_helpers import read_projector, summary_steps

NAMES = {"anna.txt": ["Anna", "Bella", "garden"], "tom.txt": ["Tom", "Harry", "ship"]}


def _write_corpus(folder):
    """Two short 'novels' of 12 chapters each, with their own characters and places."""
    rng = np.random.default_rng(0)
    verbs = ["walked to", "looked at", "spoke of", "thought about", "laughed at", "wrote to"]
    for file_name, (hero, friend, place) in NAMES.items():
        lines = []
        for chapter in range(12):
            lines += [f"CHAPTER {chapter + 1}", ""]
            for _ in range(12):
                verb = verbs[rng.integers(len(verbs))]
                lines += [f"{hero} {verb} the {place}. Then {friend} {verb} {hero}, said Mr. Brown.", ""]
        (folder / file_name).write_text("\n".join(lines), encoding="utf-8")
    return folder


def _arguments_reaching(function, recipe, tmp_path, monkeypatch, flags):
    """`(args, kwargs)` that a `--quick` run of `recipe` on the test corpus with `flags` passes to
    `text_recipe.<function>`; the run stops there."""
    from keras_ae.recipes import text_recipe

    seen = {}

    class Reached(Exception):
        pass

    def record(*args, **kwargs):
        seen.update(args=args, kwargs=kwargs)
        raise Reached

    monkeypatch.setattr(text_recipe, function, record)
    (tmp_path / "corpus").mkdir()
    corpus = _write_corpus(tmp_path / "corpus")
    with pytest.raises(Reached):
        recipe.main(["--quick", "--data", str(corpus), "--run-dir", str(tmp_path / "run"), "--no-export", *flags])
    return seen["args"], seen["kwargs"]


@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_jit_compile_is_refused_with_the_reason(recipe, capsys):
    with pytest.raises(SystemExit):
        recipe.main(["--jit-compile", "--quick"])
    assert "slower" in capsys.readouterr().err


@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_corpus_flag_defaults_to_the_large_corpus_and_quick_runs_refuse_it(recipe, capsys):
    args = recipe.build_parser().parse_args([])
    assert (args.data, args.tokens, args.minutes) == ("all", "wordpiece", 5.0)
    assert recipe.build_parser().parse_args(["--corpus", "books"]).data == "books"
    with pytest.raises(SystemExit):
        recipe.main(["--quick", "--corpus", "all"])
    assert "--quick apply to austen" in capsys.readouterr().err
    assert args.package_order == "name"
    with pytest.raises(SystemExit):
        recipe.main(["--corpus", "books", "--package-order", "shuffled"])
    assert "--corpus books has none" in capsys.readouterr().err


def test_bucket_width_with_packed_sequences_is_refused_before_work(tmp_path, capsys):
    """Quick-thought packs by default; --bucket-width would be silently unused, so it needs --no-packed."""
    with pytest.raises(SystemExit):
        quick_thought.main(["--quick", "--bucket-width", "8", "--run-dir", str(tmp_path / "run")])
    assert "Add --no-packed to use buckets" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # no run folder, nothing half-written
    args = quick_thought.build_parser().parse_args(["--no-packed", "--bucket-width", "8"])
    assert quick_thought.build_model(args, ["a", "b"]).bucket_width == 8



@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_readout_sizes_and_probe_marks_are_checked_before_work(recipe, tmp_path, capsys):
    """--readout, --word-weighting and --sif-a reach the model; a --word-dim the readout's split cannot take, SIF
    weighting without a word mean in the readout, or both kinds of probe marks, is refused with the fix before any
    data is read or any folder written."""
    args = recipe.build_parser().parse_args(["--readout", "states+words", "--word-dim", "16", "--word-weighting",
                                             "sif", "--sif-a", "1e-4"])
    model = recipe.build_model(args, ["a", "b"])
    assert (model.readout, model.encoder.word_weighting, model.encoder.sif_a) == ("states+words", "sif", 1e-4)
    for flags, message in [(["--readout", "states+words", "--word-dim", "64"], "word_dim must be smaller"),
                           (["--readout", "words", "--word-dim", "20"], "must equal word_dim"),
                           (["--word-weighting", "sif"], "readout='states' does not use"),
                           (["--probe-at", "1", "--probe-steps", "200"], "give one of them"),
                           (["--select-on-probes", "--corpus", str(tmp_path)], "need a named corpus"),
                           (["--source-shares", "bible=0.5", "--corpus", "books"], "has no source bible"),
                           (["--source-shares", "packages=0.9", "--corpus", str(tmp_path)], "has no source packages")]:
        with pytest.raises(SystemExit):
            recipe.main(["--embedding-dim", "64", *flags, "--run-dir", str(tmp_path / "run")])
        assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    assert recipe.build_parser().parse_args(["--probe-steps", "800,200"]).probe_steps == (200, 800)
    assert recipe.build_parser().parse_args(["--source-shares", "packages=0.9"]).source_shares == {"packages": 0.9}
    for shares in ("packages=1.5", "packages=0.6,bible=0.6", "packages"):
        with pytest.raises(SystemExit):
            recipe.build_parser().parse_args(["--source-shares", shares])
    with pytest.raises(SystemExit):
        recipe.build_parser().parse_args(["--probe-steps", "0"])


@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_word_embedding_start_flags_reach_the_model_and_bad_combinations_are_refused_before_work(recipe, tmp_path,
                                                                                             capsys):
    """--freeze-word-embeddings reaches the model (its word tables are not trainable); frozen or rescaled vectors,
    an LSA window or idf weights without --init-word-embeddings lsa, frozen vectors under --readout words (nothing
    left to train), lsa-split for Skip-thought's one encoder, an anchor scale without its weight and the similarity
    term on a readout with GRUs and the length anchor on frozen tables and a direction band without its weight or out of order are refused with the fix before any data is read or any folder written."""
    args = recipe.build_parser().parse_args(["--readout", "states+words", "--word-dim", "16", "--init-word-embeddings",
                                             "lsa", "--freeze-word-embeddings"])
    model = recipe.build_model(args, ["a", "b"])
    assert model.freeze_word_embeddings and not model.encoder.word_embedding.trainable
    assert recipe.build_parser().parse_args([]).init_word_embeddings == "random"
    if recipe is quick_thought:  # the similarity-preserving term (off by default) reaches the model
        assert recipe.build_model(recipe.build_parser().parse_args([]), ["a"]).similarity_anchor_weight == 0.0
        args = recipe.build_parser().parse_args(["--readout", "words", "--word-dim", "64",
                                                 "--similarity-anchor-weight", "2"])
        assert recipe.build_model(args, ["a", "b"]).similarity_anchor_weight == 2.0
        assert recipe.build_model(recipe.build_parser().parse_args([]), ["a"]).length_anchor_weight == 0.0
        args = recipe.build_parser().parse_args(["--readout", "words", "--word-dim", "64",
                                                 "--length-anchor-weight", "3"])
        assert recipe.build_model(args, ["a", "b"]).length_anchor_weight == 3.0
        args = recipe.build_parser().parse_args(["--readout", "words", "--word-dim", "64", "--direction-anchor-weight",
                                                 "5", "--direction-anchor-band", "0.02:0.2"])
        model = recipe.build_model(args, ["a", "b"])
        assert (model.direction_anchor_weight, model.direction_anchor_band) == (5.0, (0.02, 0.2))
    words_dim = "32" if recipe is quick_thought else "64"
    for flags, message in [(["--freeze-word-embeddings"], "add --init-word-embeddings lsa"),
                           (["--init-word-norm", "1"], "add --init-word-embeddings lsa"),
                           (["--init-lsa-window", "3"], "add --init-word-embeddings lsa"),
                           (["--readout", "words", "--word-dim", words_dim, "--init-word-embeddings", "lsa",
                             "--freeze-word-embeddings"], "leaves nothing to train"),
                           (["--readout", "words", "--word-dim", words_dim, "--word-weighting", "idf"],
                            "add --init-word-embeddings lsa"),
                           *([(["--init-word-embeddings", "lsa-split"], "SkipThought has one")] if recipe is skip_thought
                             else [(["--word-anchor-scale", "free"], "word_anchor_weight is 0"),
                                   (["--word-anchor-weight", "-1"], "0 or more"),
                                   (["--similarity-anchor-weight", "1"], "use readout='words'"),
                                   (["--readout", "states+words", "--word-dim", "16", "--init-word-embeddings", "lsa",
                                     "--freeze-word-embeddings", "--length-anchor-weight", "1"],
                                    "keeps the whole tables there already"),
                                   (["--direction-anchor-band", "0.01:0.2"], "direction_anchor_weight is 0"),
                                   (["--direction-anchor-band", "0.3:0.2"], "FIRST < LAST")])]:
        with pytest.raises(SystemExit):
            recipe.main(["--embedding-dim", "64", *flags, "--run-dir", str(tmp_path / "run")])
        assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_idf_exponent_reaches_the_split_and_needs_idf_weights(tmp_path, monkeypatch, capsys):
    """--idf-exponent (default 1: the whole idf fixed) is the exponent the recipe splits the LSA fit's idf with, and
    without --word-weighting idf it is refused before any data is read or any folder written."""
    from keras_ae.config import keyword_defaults
    from keras_ae.data.word_vectors import split_idf

    bag = ["--embedding-dim", "16", "--readout", "words", "--word-dim", "8", "--init-word-embeddings", "lsa"]
    assert quick_thought.build_parser().parse_args([]).idf_exponent == keyword_defaults(split_idf)["exponent"] == 1.0
    for value in ("0", "-0.5"):
        with pytest.raises(SystemExit):
            quick_thought.build_parser().parse_args(["--idf-exponent", value])
    with pytest.raises(SystemExit):
        quick_thought.main(["--idf-exponent", "0.5", *bag, "--run-dir", str(tmp_path / "refused")])
    assert "add --word-weighting idf" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    (directions, idf, exponent), _ = _arguments_reaching("split_idf", quick_thought, tmp_path, monkeypatch,
                                                         [*bag, "--word-weighting", "idf", "--idf-exponent", "0.5"])
    assert exponent == 0.5 and directions.shape[0] == idf.shape[0] > 2


def test_init_lsa_window_reaches_the_lsa_start(tmp_path, monkeypatch):
    """--init-lsa-window K (default 1: each sentence) is the window the recipe fits its LSA start on."""
    assert quick_thought.build_parser().parse_args([]).init_lsa_window == 1
    with pytest.raises(SystemExit):
        quick_thought.build_parser().parse_args(["--init-lsa-window", "0"])
    bag = ["--embedding-dim", "16", "--readout", "words", "--word-dim", "8", "--init-word-embeddings", "lsa"]
    (encoder, split, seed), kwargs = _arguments_reaching("initial_word_vectors", quick_thought, tmp_path, monkeypatch,
                                                         [*bag, "--init-lsa-window", "3"])
    assert kwargs == {"parts": 1, "window": 3} and len(split.segments) == len(split.sentences) > 10


def test_probe_marks_in_steps_measure_at_the_first_epoch_end_past_each():
    """ProbeMarks(unit="steps"): epochs of 4 steps, marks at 3 and 8 steps probe after steps 4 and 8, and no more."""
    import keras

    from keras_ae.recipes.text_recipe import ProbeMarks

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    marks = ProbeMarks(lambda: {"book_probe": 0.5}, [8, 3], unit="steps")
    x = np.ones((8, 3), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=4, callbacks=[marks], verbose=0)
    assert [point["training_steps"] for point in marks.curve] == [4, 8]
    with pytest.raises(ValueError, match="minutes' or 'steps'"):
        ProbeMarks(lambda: {}, [1], unit="epochs")

def test_probe_marks_leave_each_others_probing_out_of_training_time():
    """--select-on-probes beside --probe-steps without a budget: one ProbeMarks' slow probes (0.5 s each) are not
    training time for the other."""
    import time

    import keras

    from keras_ae.recipes.text_recipe import ProbeMarks

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    slow = ProbeMarks(lambda: time.sleep(0.5) or {"worst_margin": 0.0}, None, tag="validation")
    marks = ProbeMarks(lambda: {"book_probe": 0.5}, None)
    slow.alongside, marks.alongside = [marks], [slow]
    x = np.ones((8, 3), "float32")
    started = time.perf_counter()
    model.fit(x, x[:, :1], batch_size=2, epochs=3, callbacks=[slow, marks], verbose=0)
    elapsed = time.perf_counter() - started
    assert slow.probing >= 1.5 and marks.curve[-1]["training_seconds"] <= elapsed - slow.probing + 0.1


@pytest.mark.slow  # about 30 s each on 2 idle cores, over a minute on a busy machine
@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_quick_run_writes_run_folder_and_export(recipe, tmp_path):
    (tmp_path / "corpus").mkdir()
    corpus = _write_corpus(tmp_path / "corpus")
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    metrics = recipe.main(
        ["--quick", "--data", str(corpus), "--run-dir", str(run_dir), "--export-dir", str(export_dir),
         "--patience", "1"]
    )
    for name in ("config.json", "metrics.json", "history.csv", "neighbours.json", "history.png"):
        assert (run_dir / name).exists(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["sentences"]["test"] > 0 and 0.0 <= saved["probe_accuracy"] <= 1.0
    assert {"tfidf (full vocabulary)", "tfidf + LSA 32"} <= set(saved["table"])
    assert any(row.startswith("random-init") for row in saved["table"])
    assert metrics["retrieval_mean_rank"] >= 1.0
    assert 1 <= saved["best_epoch"] <= saved["epochs_trained"] == 1
    stopping = saved["early_stopping"]
    assert (stopping["best_epoch"], stopping["monitor"]) == (1, "val_loss") and stopping["best_step"] > 0
    neighbours = json.loads((run_dir / "neighbours.json").read_text())
    assert len(neighbours[0]["neighbours"]) == 5
    _, metadata, rows = read_projector(run_dir / "tensorboard")
    assert metadata[0] == "book\tsentence" and len(metadata) == len(rows) + 1 == saved["sentences"]["test"] + 1
    assert summary_steps(run_dir / "tensorboard" / "samples") == {"nearest neighbours": [0, 1]}
    sentences = np.array(["Anna walked to the garden.", "Tom wrote to Harry."])
    (outputs,), _ = reload_and_call(export_dir, "encode", [sentences])
    assert outputs.shape == (2, 32) and outputs.dtype == np.float32


@pytest.mark.slow
def test_tune_quick_thought_searches_the_embedding_size(tmp_path, monkeypatch):
    from keras_ae.recipes import tune

    monkeypatch.setitem(tune.TASKS, "quick_thought", quick_thought.tuning_task)  # a no-op once tune.py lists it
    (tmp_path / "corpus").mkdir()
    corpus = _write_corpus(tmp_path / "corpus")
    trials = tune.main(
        ["--model", "quick_thought", "--quick", "--data", str(corpus), "--batch-size", "40", "--max-dim", "64",
         "--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    )
    assert trials and all(8 <= row["embedding_dim"] <= 64 for row in trials)
    assert (tmp_path / "run" / "trials.csv").exists() and (tmp_path / "export" / "keras_ae.json").exists()



def test_tuning_task_searches_models_of_the_recipes_vocabulary_and_tokens(tmp_path, monkeypatch):
    """`quick_thought.tuning_task` learns the vocabulary the recipe learns (WordPiece, the recipe's size, sample and
    count) and its trial models read it with the recipe's tokenizer (it once built 16,000 *words* for a word model)."""
    import argparse

    import keras_tuner as kt

    from keras_ae.recipes import text_recipe

    learned = []
    learner = text_recipe.build_wordpiece_vocabulary

    def recording(sentences, **kwargs):
        learned.append((kwargs, learner(sentences, **kwargs)))
        return learned[-1][1]

    monkeypatch.setattr(text_recipe, "build_wordpiece_vocabulary", recording)
    (tmp_path / "corpus").mkdir()
    corpus = _write_corpus(tmp_path / "corpus")
    args = argparse.Namespace(data=str(corpus), limit=None, min_dim=8, max_dim=16, learning_rate=1e-3, batch_size=40,
                              seed=0)
    task = quick_thought.tuning_task(args)
    defaults = quick_thought.build_parser().parse_args([])
    assert [kwargs for kwargs, _ in learned] == [
        {"size": defaults.vocabulary_size, "max_sentences": defaults.vocabulary_sentences,
         "min_count": defaults.min_piece_count}
    ]
    assert task.hypermodel.vocabulary == learned[0][1] and any(piece.startswith("##") for piece in learned[0][1])
    model = task.hypermodel.build(kt.HyperParameters())
    assert model.tokenizer == defaults.tokens == "wordpiece"

def test_probe_marks_measure_after_each_mark_outside_the_time_budget(tmp_path, monkeypatch):
    """`--probe-at`: the probes run at the first epoch end past each mark; their own time is not training time.
    On a fake clock (`FakeClock`): a training step costs 0.125 s and 0.05 CPU-s, a probe 0.8 s and 0.3 CPU-s."""
    import keras

    from keras_ae import runs
    from keras_ae.recipes import text_recipe
    from keras_ae.recipes.text_recipe import ProbeMarks
    from keras_ae.runs import RunFolder, TimeBudget

    clock = FakeClock().install(monkeypatch, runs, text_recipe)

    class SlowSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(0.125, cpu=0.05)  # epochs of 4 steps: 0.5 s, 0.2 CPU-s

    def evaluate():
        clock.advance(0.8, cpu=0.3)  # a probe slower than an epoch: if it counted, the budget would end sooner
        return {"dim": 1, "book_probe": 0.5}

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), "float32")
    with RunFolder(tmp_path / "run", flags={}) as run:
        budget = TimeBudget(run, 5 / 60)  # 5 s of training; marks after 1.8 s and 3.3 s
        marks = ProbeMarks(evaluate, [0.055, 0.03], budget=budget, log_dir=str(tmp_path / "probes"))
        run.fit(model, x, y=x[:, :1], batch_size=2, epochs=1000, callbacks=[SlowSteps(), budget, marks], verbose=0)
    assert [point["training_seconds"] for point in marks.curve] == [2.0, 3.5]  # the first epoch ends past each mark
    assert [point["training_cpu_seconds"] for point in marks.curve] == [0.8, 1.4]
    assert [point["training_steps"] for point in marks.curve] == [16, 28]
    assert all(point["book_probe"] == 0.5 and "dim" not in point for point in marks.curve)
    assert (budget.spent, len(budget.seconds)) == (5.0, 10) and budget.cpu_spent == pytest.approx(2.0)  # no probes in it
    assert (marks.probing, marks.probing_cpu) == pytest.approx((1.6, 0.6))
    assert clock.wall == pytest.approx(budget.spent + marks.probing)
    assert summary_steps(tmp_path / "probes")["probe/book_probe"] == [2, 4]  # whole seconds: 3.5 rounds to even
    assert quick_thought.build_parser().parse_args(["--probe-at", "10,1,3"]).probe_at == (1.0, 3.0, 10.0)
    with pytest.raises(SystemExit):
        quick_thought.build_parser().parse_args(["--probe-at", "3,0"])


def test_held_out_curve_measures_the_judge_on_held_out_text_every_epoch(tmp_path, capsys):
    """`--held-out-curve`: after every epoch, the neighbour judge's loss and accuracy on held-out text (one source
    here: a path corpus), into metrics.json; with `--token-dropout` on, whose rate the parser checks."""
    (tmp_path / "corpus").mkdir()
    corpus = _write_corpus(tmp_path / "corpus")
    run_dir = tmp_path / "run"
    metrics = quick_thought.main(
        ["--quick", "--data", str(corpus), "--run-dir", str(run_dir), "--no-export", "--no-baselines", "--epochs", "2",
         "--held-out-curve", "--token-dropout", "0.2", "--max-length", "16"]  # two length buckets: a shorter first trace
    )
    curve = json.loads((run_dir / "metrics.json").read_text())["held_out_curve"]
    assert curve == metrics["held_out_curve"] and len(curve) == 2
    assert curve[0]["training_steps"] < curve[1]["training_steps"]
    for point in curve:
        assert point["text_loss"] > 0 and 0.0 <= point["text_accuracy"] <= 1.0
    assert "held_out after" in capsys.readouterr().out
    assert summary_steps(run_dir / "tensorboard" / "held_out").keys() == {"held_out/text_loss",
                                                                            "held_out/text_accuracy"}
    assert json.loads((run_dir / "config.json").read_text())["model"]["token_dropout"] == 0.2
    assert quick_thought.build_parser().parse_args([]).held_out_curve is False
    with pytest.raises(SystemExit):
        quick_thought.build_parser().parse_args(["--token-dropout", "1"])


def test_validation_batches_mix_every_source_and_repeat_each_epoch():
    """The validation loss (what --patience watches) reads the held-out sentences of every source, batched like the
    training (stretches from several places), the same batches at every epoch; a negative --patience is refused."""
    import argparse
    import types

    from keras_ae.data.text import SentenceSplit
    from keras_ae.recipes.text_recipe import validation_batches

    count = 48  # 24 sentences of each of two sources, 4 documents
    validation = SentenceSplit([f"sentence {i}" for i in range(count)], np.repeat(np.arange(4), 12),
                               np.repeat(np.arange(8), 6), np.repeat([0, 1], 24))
    splits = types.SimpleNamespace(validation=validation, source_names=["novels", "packages"])
    model = types.SimpleNamespace(prepare_batch=lambda batch: batch)
    args = argparse.Namespace(batch_size=8, seed=0, chunk_size=2)
    dataset, steps = validation_batches(args, model, quick_thought.make_dataset, splits)
    epochs = [[batch["documents"].numpy().tolist() for batch in dataset] for _ in range(2)]
    assert steps == len(epochs[0]) == count // 8 and epochs[0] == epochs[1]
    assert sum(len(set(documents)) > 1 for documents in epochs[0]) >= steps // 2  # stretches from several places
    assert {document // 2 for documents in epochs[0] for document in documents} == {0, 1}  # both sources
    with pytest.raises(SystemExit):
        quick_thought.build_parser().parse_args(["--patience", "-1"])


@pytest.mark.parametrize("recipe", [skip_thought, quick_thought], ids=["skip_thought", "quick_thought"])
def test_vocabulary_flags_reach_the_vocabulary_learner(recipe, tmp_path, monkeypatch):
    from keras_ae.config import keyword_defaults
    from keras_ae.data.text import build_wordpiece_vocabulary

    defaults = recipe.build_parser().parse_args([])
    learner_defaults = keyword_defaults(build_wordpiece_vocabulary)  # one home: the learner's, unless the recipe's
    assert learner_defaults["min_count"] == 10
    # Quick-thought's own (session 27: 11,046 pieces of --corpus all, better on validation on two seeds)
    assert (defaults.vocabulary_size, defaults.min_piece_count) == ((3000, 10) if recipe is skip_thought
                                                                     else (16000, 5))
    assert defaults.vocabulary_sentences == learner_defaults["max_sentences"] == 30000
    for flag in ("--min-piece-count", "--vocabulary-sentences"):
        with pytest.raises(SystemExit):
            recipe.build_parser().parse_args([flag, "0"])
    _, learned = _arguments_reaching("build_wordpiece_vocabulary", recipe, tmp_path, monkeypatch,
                                     ["--vocabulary-size", "300", "--min-piece-count", "2", "--vocabulary-sentences",
                                      "500"])
    assert learned == {"size": 300, "max_sentences": 500, "min_count": 2}


def test_cosine_schedule_anneals_over_the_runs_steps_and_needs_a_step_count(capsys):
    from keras_ae.recipes.text_recipe import training_optimizer

    args = quick_thought.build_parser().parse_args(["--minutes", "0", "--epochs", "4"])
    assert args.learning_rate_schedule == "constant"
    constant = training_optimizer(args, steps_per_epoch=400)
    assert float(constant.learning_rate) == pytest.approx(1e-2)
    args.learning_rate_schedule = "cosine"
    cosine = training_optimizer(args, steps_per_epoch=400)
    rates = []
    for step in (0, 800, 1600):
        cosine.iterations.assign(step)
        rates.append(float(cosine.learning_rate))
    assert rates == pytest.approx([1e-2, 5e-3, 0.0], abs=1e-7)
    with pytest.raises(SystemExit):  # a wall-clock budget leaves the run's length open
        quick_thought.main(["--learning-rate-schedule", "cosine", "--minutes", "5", "--no-export"])
    assert "add --minutes 0" in capsys.readouterr().err
