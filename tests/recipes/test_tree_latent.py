"""The tree_latent recipe end to end: a quick run (default suite) and the full default run (`-m slow`)."""

import csv
import json
from pathlib import Path

import pytest

from keras_ae.recipes import tree_latent
from tests.tensorboard_helpers import summary_plugins, summary_steps

OTHER_GOLD = Path(__file__).parents[2] / "benchmarks" / "data" / "other_sources_gold_trees.mrg"


def test_quick_run_with_restarts_and_curriculum_writes_metrics_and_figures(tmp_path):
    metrics = tree_latent.main(
        ["--quick", "--no-ablation", "--no-lm", "--no-export", "--restarts", "2", "--warmup-steps", "2",
         "--curriculum-start", "3", "--epochs", "2", "--length-batches", "--epoch-f1", "--test-max-length", "8",
         "--held-out-trees", str(OTHER_GOLD), "--run-dir", str(tmp_path / "run")]
    )
    run = tmp_path / "run"
    assert {"metrics.json", "trees.png", "history.png", "test_trees.json"} <= {p.name for p in run.iterdir()}
    # the run keeps its gold files, which rebuild_run (below) reads from there
    assert (run / "inputs" / OTHER_GOLD.name).read_bytes() == OTHER_GOLD.read_bytes()
    assert tree_latent.run_flags(run).held_out_trees == [str(run / "inputs" / OTHER_GOLD.name)]
    stored = json.loads((run / "metrics.json").read_text())
    assert set(stored["table"]) == {"right-branching", "left-branching", "random", "compound PCFG"}
    assert 0 <= metrics["sentence_f1"] <= 100 and metrics["perplexity"] > 1
    projector = run / "tensorboard" / "projector" / "projector_config.pbtxt"
    assert "test sentences (z)" in projector.read_text()
    # the parses of test sentences, before training and after every epoch, as TensorBoard text
    assert summary_steps(run / "tensorboard" / "samples")["parses of test sentences"] == [0, 1, 2]
    assert stored["curriculum"] == [3, 5]  # the length limit of each epoch
    # scored on test sentences of at most 8 words, trained on up to 10 (the report below rebuilds the same split)
    assert stored["test_max_length"] == 8 and int(stored["test_lengths"].split("..")[1]) <= 8
    compared = stored["compared_to_right_branching"]  # standard errors and recall by constituent type
    assert compared["right-branching"]["minus_right"] == 0 and compared["compound PCFG"]["sentence_f1_se"] > 0
    assert "NP" in compared["compound PCFG"]["recall_by_label"]
    assert summary_plugins(run / "tensorboard" / "samples")["parses of test sentences"] == "text"
    # Kim et al.'s model selection: the epoch with the lowest validation loss is the one evaluated
    validation = [float(row["val_loss"]) for row in csv.DictReader((run / "history.csv").open())]
    assert stored["selected_epoch"] == 1 + validation.index(min(validation))
    losses = stored["restart_validation_losses"]  # one warm-up loss per start
    assert len(losses) == 2 and losses[0] != losses[1] and all(loss > 0 for loss in losses)
    # both decodings of the same weights; the per-epoch diagnostic ends on the weights that were scored
    by_decoding = stored["f1_by_decoding"]
    assert set(by_decoding) == {"mbr", "viterbi"} and by_decoding["mbr"]["sentence_f1"] == metrics["sentence_f1"]
    assert [row["epoch"] for row in stored["by_epoch"]] == [1, 2]
    last = stored["by_epoch"][stored["selected_epoch"] - 1]
    assert last["sentence_f1_mbr"] == pytest.approx(metrics["sentence_f1"], abs=0.01)
    assert last["sentence_f1_viterbi"] == pytest.approx(by_decoding["viterbi"]["sentence_f1"], abs=0.01)
    # the report rebuilds the kept checkpoint and parses as the run did
    from benchmarks.tree_report import run_rows

    rows, by_label = run_rows(run, ["NP"], decoding="viterbi")
    viterbi = by_decoding["viterbi"]["sentence_f1"]
    assert rows["run: compound PCFG (viterbi)"]["sentence F1"].startswith(f"{viterbi:.1f}")
    assert float(rows["run: right-branching"]["right-heavy"]) == 100.0 and "depth" in rows["run: gold"]
    assert by_label["run: right-branching"]["sentence"].startswith("100.0")
    # the kept weights re-parsed on the second gold set (trees of at most 8 words, the run's test limit): the
    # right-edge bonus 0 gives the run's own MBR trees, a bonus above 1 the right-branching ones
    from benchmarks.tree_right_edge import bonus_rows

    other = Path(__file__).parents[2] / "benchmarks" / "data" / "other_sources_gold_trees.mrg"
    biased, right, gold = bonus_rows(run, [0.0, 1.5], test_trees=other)
    assert 0 < len(gold) < 72 and all(len(tree.leaves()) <= 8 for tree in gold) and len(right) == len(gold)
    assert biased[1.5][1].all() and (biased[1.5][0] == right).all()
    # --against: a copy of the run whose parses are right-branching trees gives the run's paired difference to them
    import shutil

    from benchmarks.tree_report import paired_difference
    from keras_ae.evaluation.trees import right_branching_spans, spans_to_tree

    copy = tmp_path / "right"
    shutil.copytree(run, copy)
    parses = json.loads((copy / "test_trees.json").read_text())
    parses["compound PCFG"] = [str(spans_to_tree(right_branching_spans(len(s.split())), s.split()))
                               for s in parses["sentences"]]
    (copy / "test_trees.json").write_text(json.dumps(parses))
    mean, error = paired_difference(run, copy)
    assert mean == pytest.approx(compared["compound PCFG"]["minus_right"], abs=1e-6)
    assert error == pytest.approx(compared["compound PCFG"]["minus_right_se"], abs=1e-6)


def test_epoch_diagnostic_puts_the_noise_stream_back():
    """The per-epoch F1 draws z for its ELBO, which advances z's noise stream; the diagnostic puts the stream back,
    so training continues as without it. (A stand-in scorer draws from the stream as the ELBO does: tracing the
    real one takes tens of seconds; the quick run above uses it.)"""
    from keras_ae.models.tree_latent import TreeLatent

    model = TreeLatent(["a", "b"], num_nonterminals=2, num_preterminals=2, symbol_dim=4, code_dim=2, encoder_dim=4,
                       word_dim=4, seed=0)
    generator = model.bottleneck.seed_generator
    gold = ["(S (NP a) (VP b (NP a)))", "(S (NP a b) (VP b))"]

    class DrawingScorer:
        def evaluate(self, sentences, gold_trees, decoding=None):
            generator.next()  # trees: the first splits later than gold's, the second at gold's
            return {"sentence_f1": 50.0, "perplexity": 12.0, "kl": 0.5}, ["(X (X a b) a)", "(X (X a b) b)"]

        def parse(self, sentences, decoding=None):
            return ["(X a (X b a))", "(X (X a b) b)"]

    diagnostic = tree_latent.EpochParses(DrawingScorer(), ["a b a", "a b b"], gold)
    diagnostic.set_model(model)
    state = generator.state.numpy()
    diagnostic.on_epoch_end(0, {"val_loss": 1.0})
    assert (generator.state.numpy() == state).all()
    DrawingScorer().evaluate([], None)  # the stand-in does move the stream
    assert (generator.state.numpy() != state).any()
    assert diagnostic.rows == [{"epoch": 1, "sentence_f1_mbr": 50.0, "sentence_f1_viterbi": 100.0,
                                "top_split_later": 50.0, "test_perplexity": 12.0, "kl": 0.5, "val_loss": 1.0}]


def test_embedding_dim_zero_is_the_neural_pcfg():
    assert tree_latent.build_parser().parse_args(["--embedding-dim", "0"]).embedding_dim == 0


def test_kl_weight_flag_reaches_the_posterior_and_defaults_to_the_elbo():
    parser = tree_latent.build_parser()
    build = lambda flags: tree_latent.build_model(parser.parse_args(flags), ["a", "b"], 4, seed=0)  # noqa: E731
    assert build([]).bottleneck.beta == 1.0 and build(["--kl-weight", "0.25"]).bottleneck.beta == 0.25
    with pytest.raises(SystemExit):
        parser.parse_args(["--kl-weight", "-1"])


def test_suffix_and_prefix_flags_reach_the_grammar_and_default_to_off():
    parser = tree_latent.build_parser()
    vocabulary = ["walked", "talked"]
    build = lambda flags: tree_latent.build_model(parser.parse_args(flags), vocabulary, 4, seed=0)  # noqa: E731
    assert build([]).grammar.suffix_length == build([]).grammar.prefix_length == 0
    assert build([]).grammar.affix_embeddings is None
    assert build(["--suffix-length", "3"]).grammar.affixes == ["-d", "-ed", "-ked"]
    assert build(["--prefix-length", "2"]).grammar.affixes == []  # "w-", "t-", "wa-", "ta-": one word each
    with pytest.raises(SystemExit):
        parser.parse_args(["--suffix-length", "-1"])


@pytest.mark.parametrize("flag, attribute, value", [("--late-split-penalty", "late_split_penalty", 1.0),
                                                     ("--right-edge-prior", "right_edge_prior", 0.5)])
def test_training_prior_flags_reach_the_grammar_and_default_to_off(flag, attribute, value):
    parser = tree_latent.build_parser()
    build = lambda flags: tree_latent.build_model(parser.parse_args(flags), ["a", "b"], 4, seed=0)  # noqa: E731
    assert getattr(build([]).grammar, attribute) == 0.0
    model = build([flag, str(value)])
    assert getattr(model.grammar, attribute) == model.get_config()[attribute] == value
    with pytest.raises(SystemExit):
        parser.parse_args([flag, "-1"])


def test_right_edge_prior_defaults_to_the_english_value_for_text_only_and_old_runs_read_as_off(tmp_path):
    parser = tree_latent.build_parser()
    prior = lambda flags: tree_latent.right_edge_prior(parser.parse_args(flags))  # noqa: E731
    for data in (["--data", "austen"], ["--data", "books"], ["--data", "prose"], ["--data", "all"],
                 ["--data", "my_sentences.txt"], ["--gold-trees", "wsj.mrg"]):  # text: corpora, files, treebanks
        assert prior(data) == tree_latent.ENGLISH_RIGHT_EDGE_PRIOR > 0
    assert prior(["--data", "austen", "--right-edge-prior", "0"]) == 0.0  # off when asked
    assert prior([]) == prior(["--data", "synthetic"]) == 0.0  # the synthetic treebank meets its target without it
    assert prior(["--data", "my_sentences.txt", "--right-edge-prior", "0.2"]) == 0.2
    assert tree_latent.build_model(parser.parse_args(["--data", "austen"]), ["a", "b"], 4, seed=0).grammar \
        .right_edge_prior == tree_latent.ENGLISH_RIGHT_EDGE_PRIOR
    (tmp_path / "config.json").write_text(json.dumps({"flags": {"data": "austen", "seed": 1}}))
    assert tree_latent.run_flags(tmp_path).right_edge_prior == 0.0  # a run from before the flag trained without it


def test_right_edge_bonus_flag_reaches_the_grammar_defaults_to_off_and_refuses_viterbi(capsys):
    parser = tree_latent.build_parser()
    build = lambda flags: tree_latent.build_model(parser.parse_args(flags), ["a", "b"], 4, seed=0)  # noqa: E731
    assert build([]).grammar.right_edge_bonus == 0.0
    model = build(["--right-edge-bonus", "0.5"])
    assert model.grammar.right_edge_bonus == model.get_config()["right_edge_bonus"] == 0.5
    assert model.grammar.decodings == ("mbr",)
    with pytest.raises(SystemExit):
        parser.parse_args(["--right-edge-bonus", "-1"])
    with pytest.raises(SystemExit):
        tree_latent.main(["--right-edge-bonus", "0.5", "--decoding", "viterbi"])
    assert "--right-edge-bonus 0.5 biases the MBR tree" in capsys.readouterr().err


def test_rule_rank_flag_reaches_the_grammar_and_defaults_to_full_rules():
    parser = tree_latent.build_parser()
    build = lambda flags: tree_latent.build_model(parser.parse_args(flags), ["a", "b"], 4, seed=0)  # noqa: E731
    assert build([]).grammar.rule_rank == 0 and build([]).grammar.decodings == ("mbr", "viterbi")
    model = build(["--rule-rank", "8", "--nonterminals", "30", "--preterminals", "40"])
    assert model.grammar.rule_rank == model.get_config()["rule_rank"] == 8
    assert model.grammar.rule_embeddings.shape == (70, model.grammar.symbol_dim)
    with pytest.raises(SystemExit):
        parser.parse_args(["--rule-rank", "-1"])


def test_clip_norm_flag_defaults_to_kim_et_al_and_zero_turns_clipping_off():
    parser = tree_latent.build_parser()
    assert tree_latent.build_optimizer(parser.parse_args([])).global_clipnorm == 3.0
    assert tree_latent.build_optimizer(parser.parse_args(["--clip-norm", "0"])).global_clipnorm is None
    assert tree_latent.build_optimizer(parser.parse_args(["--clip-norm", "1.5"])).global_clipnorm == 1.5


def test_synthetic_grammar_flag_defaults_to_the_loader_and_old_runs_read_as_grammar_1(tmp_path):
    import inspect

    from keras_ae.data.trees import load_tree_data

    parser = tree_latent.build_parser()
    default = inspect.signature(load_tree_data).parameters["synthetic_grammar"].default
    assert parser.parse_args([]).synthetic_grammar == default == 3  # grammar 3 since issue-15 session 11
    assert parser.parse_args([]).clause_pieces is inspect.signature(load_tree_data).parameters["clause_pieces"].default
    assert parser.parse_args(["--clause-pieces"]).clause_pieces is True
    assert parser.parse_args(["--synthetic-grammar", "2"]).synthetic_grammar == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["--synthetic-grammar", "7"])
    for stored, expected in [({"seed": 4}, 1), ({"seed": 4, "synthetic_grammar": 2}, 2)]:
        (tmp_path / "config.json").write_text(json.dumps({"flags": stored}))
        flags = tree_latent.run_flags(tmp_path)  # a run from before the flag sampled grammar 1
        assert flags.synthetic_grammar == expected and flags.seed == 4


def test_held_out_trees_flag_reaches_the_loader(tmp_path):
    sentences, other = tmp_path / "sentences.txt", tmp_path / "other.mrg"
    sentences.write_text("The cat sat\nA dog barked\n" * 10)
    other.write_text("(S (NP (DT A) (NN dog)) (VP (VBD barked)))\n")
    parser = tree_latent.build_parser()
    assert parser.parse_args([]).held_out_trees == []
    data = tree_latent.load_run_data(parser.parse_args(["--data", str(sentences), "--held-out-trees", str(other)]))
    assert data.train and "A dog barked" not in data.train + data.validation and data.dropped_test_duplicates == 8


def test_steps_per_epoch_draws_equal_updates_from_an_endless_reshuffled_stream():
    parser = tree_latent.build_parser()
    sentences = [f"word {i} here" for i in range(40)]
    batches, steps = tree_latent.training_batches(parser.parse_args(["--batch-size", "16",
                                                                     "--steps-per-epoch", "5"]), sentences)
    drawn = [batch.numpy() for batch in batches.take(3 * steps)]  # three epochs of 5 from 2 batches a pass
    assert steps == 5 and len(drawn) == 15 and all(len(batch) == 16 for batch in drawn)
    assert len({tuple(batch) for batch in drawn}) > 2  # each pass is reshuffled
    one_pass, steps = tree_latent.training_batches(parser.parse_args(["--batch-size", "16"]), sentences)
    assert steps is None and len(list(one_pass)) == 2  # the default: one pass an epoch
    with pytest.raises(SystemExit):  # either fixed steps or the curriculum's growing stages
        tree_latent.main(["--steps-per-epoch", "5", "--curriculum-start", "4", "--run-dir", "unused"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-opening-share", "0"])
    assert parser.parse_args(["--drop-repeats", "--max-opening-share", "0.02"]).max_opening_share == 0.02


def test_a_moved_gold_file_is_found_in_the_run_folder_or_named_with_where_to_put_it(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    moved = tmp_path / "gone" / "gold.mrg"
    flags = {"seed": 1, "test_trees": str(moved), "held_out_trees": [str(OTHER_GOLD)], "data": "synthetic",
             "synthetic_size": 40}
    (run / "config.json").write_text(json.dumps({"flags": flags}))
    with pytest.raises(FileNotFoundError, match=f"--test-trees {moved}.*put that same file at {run}/inputs/gold.mrg"):
        tree_latent.run_flags(run)
    (run / "inputs").mkdir()
    (run / "inputs" / "gold.mrg").write_text("(S (NP (DT the) (NN cat)) (VP (VBD sat) (ADVP (RB down))))\n")
    args = tree_latent.run_flags(run)
    assert args.test_trees == str(run / "inputs" / "gold.mrg") and args.held_out_trees == [str(OTHER_GOLD)]
    # a file other than the run's gives other data than metrics.json records: refused before any model is built
    (run / "metrics.json").write_text(json.dumps({"sentences": {"train": 400, "validation": 4, "test": 1}}))
    with pytest.raises(ValueError, match="is not the one it was trained with"):
        tree_latent.rebuild_run(run)
    with pytest.raises(SystemExit):  # the run folder keeps its gold files by name: two of one name are refused
        tree_latent.main(["--test-trees", str(OTHER_GOLD), "--held-out-trees", str(tmp_path / OTHER_GOLD.name),
                          "--run-dir", str(tmp_path / "other")])


def test_rebuild_run_reads_the_kept_epoch_from_metrics_and_refuses_an_unfinished_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    flags = {"seed": 1, "data": "synthetic", "synthetic_size": 40, "nonterminals": 2, "preterminals": 2,
             "symbol_dim": 4, "encoder_dim": 4, "embedding_dim": 2}
    (run / "config.json").write_text(json.dumps({"flags": flags}))
    with pytest.raises(FileNotFoundError, match="metrics.json is missing: the run has not finished"):
        tree_latent.rebuild_run(run, epoch="selected")
    (run / "metrics.json").write_text(json.dumps({"selected_epoch": 2}))  # no sentence counts: nothing to compare
    with pytest.raises(ValueError, match="no checkpoint of epoch 2"):
        tree_latent.rebuild_run(run, epoch="selected")
    _, data, model = tree_latent.rebuild_run(run)  # no epoch: the run's initial weights
    assert len(data.train) == 40 and model.grammar.num_nonterminals == 2


def test_encoder_reads_every_word_of_test_sentences_longer_than_the_training_ones():
    parser = tree_latent.build_parser()
    flags = ["--nonterminals", "2", "--preterminals", "2", "--symbol-dim", "4", "--encoder-dim", "4"]
    for extra, expected in [([], 10), (["--max-length", "8", "--test-max-length", "12"], 12),
                            (["--max-length", "15", "--test-max-length", "10"], 15)]:
        args = parser.parse_args(flags + extra)
        assert tree_latent.build_model(args, ["a", "b"], 2, seed=0).max_length == expected


def test_bad_flags_fail_before_work(tmp_path):
    with pytest.raises(SystemExit):
        tree_latent.main(["--embedding-dim", "-1", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):
        tree_latent.main(["--restarts", "0", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):
        tree_latent.main(["--curriculum-start", "1", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):  # the per-epoch F1 needs gold trees
        tree_latent.main(["--data", "austen", "--epoch-f1", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):
        tree_latent.main(["--decoding", "argmax", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):  # low-rank rules have no Viterbi tree
        tree_latent.main(["--rule-rank", "4", "--decoding", "viterbi", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):  # only --test-trees can hold test sentences longer than the training ones
        tree_latent.main(["--test-max-length", "12", "--run-dir", str(tmp_path / "run")])
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        tree_latent.main(["--data", str(empty), "--run-dir", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="named text corpus"):  # clause pieces cut a text corpus's sentences
        tree_latent.main(["--clause-pieces", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(FileNotFoundError, match="missing.mrg"):
        tree_latent.main(["--held-out-trees", str(tmp_path / "missing.mrg"), "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_default_run_beats_right_branching_by_20_points(tmp_path):
    # The default run: seed 0 of synthetic grammar 3 (the default since issue-15 session 11). Measured in separate
    # runs (docs/results/tree_latent.md, "Is the failure a property of the treebank?"): compound PCFG 79.2, neural PCFG
    # 81.3, against right-branching 53.3 on the same 400 test sentences; grammar 1's seed 0 fails (54.5 against 44.4).
    metrics = tree_latent.main(["--run-dir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")])
    assert metrics["synthetic_grammar"] == 3
    table = metrics["table"]
    right_branching = table["right-branching"]["sentence_f1"]
    assert right_branching == pytest.approx(53.3, abs=0.05)  # the baseline needs no training: pins the treebank
    assert table["compound PCFG"]["sentence_f1"] >= right_branching + 20
    assert table["neural PCFG"]["sentence_f1"] >= right_branching + 20


@pytest.mark.slow
def test_english_default_run_beats_right_branching_on_the_austen_gold_trees(tmp_path):
    # --data austen trains with the English right-edge prior by default (issue-15 session 23: R chosen on the dev
    # half of these trees; docs/results/tree_latent.md's runs of this command score above right-branching, 60.4, on
    # every seed)
    gold = OTHER_GOLD.parent / "austen_gold_trees.mrg"
    metrics = tree_latent.main(["--data", "austen", "--test-trees", str(gold), "--held-out-trees", str(OTHER_GOLD),
                                "--vocabulary-size", "2000", "--epochs", "3", "--no-lm", "--no-ablation", "--no-export",
                                "--run-dir", str(tmp_path / "run")])
    assert metrics["right_edge_prior"] == tree_latent.ENGLISH_RIGHT_EDGE_PRIOR > 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["flags"]["right_edge_prior"] == \
        tree_latent.ENGLISH_RIGHT_EDGE_PRIOR
    table = metrics["table"]
    assert table["right-branching"]["sentence_f1"] == pytest.approx(60.4, abs=0.05)
    assert table["compound PCFG"]["sentence_f1"] > table["right-branching"]["sentence_f1"]


@pytest.mark.parametrize("batch_size, expected", [(None, 32), (8, 8)])
def test_tuning_task_uses_the_recipe_batch_size_unless_given(batch_size, expected):
    import argparse

    args = argparse.Namespace(data=None, limit=200, batch_size=batch_size, seed=0, min_dim=2, max_dim=4,
                              learning_rate=1e-3)
    task = tree_latent.tuning_task(args)
    assert next(iter(task.train)).shape[0] == expected and task.recipe == "tree_latent"
    assert task.hypermodel.right_edge_prior == 0.0  # the synthetic treebank's default
