"""Summary evaluation: ROUGE, the extractive baselines, first-word copies, repetitions, n-gram perplexity, and the
graph-mode summaries traced once per model."""

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from nltk.lm.preprocessing import pad_both_ends
from nltk.util import ngrams
from scipy.stats import spearmanr

from keras_ae.evaluation.summaries import (
    SummaryLanguageModel, first_clause, first_words_share, graph_function, lead, length_auc, median_length,
    perplexity_differences, repeated_word_share, rouge, mean_length, split_perplexity_gap, summarize, summary_row,
    words,
)
from keras_ae.data.summaries import make_unpaired_dataset
from keras_ae.models.text_latent import TextLatent
from tests.summary_helpers import VOCABULARY, tiny_pairs


def test_rouge_is_100_for_the_references_and_falls_with_fewer_shared_words():
    references = ["python library for yaml", "rust tool for json"]
    assert rouge(references, references) == pytest.approx({"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0})
    partial = rouge(["python library for json", "perl server for xml"], references)
    assert 0 < partial["rouge2"] < partial["rouge1"] < 100
    with pytest.raises(ValueError, match="predictions"):
        rouge(["one"], references)


def test_baselines_and_copy_shares():
    documents = ["PyYAML is a YAML parser, and emitter. It is fast.", "A tool (for JSON) that checks files"]
    assert lead(documents, 3) == ["PyYAML is a", "A tool (for"]
    assert first_clause(documents) == ["PyYAML is a YAML parser", "A tool"]
    assert median_length(["a b", "a b c", "a b c d e"]) == 3
    assert first_words_share(documents, ["pyyaml is a parser", "json tool"]) == 0.5
    assert first_words_share(documents, ["", "a tool"]) == 1.0  # empty outputs are not counted
    assert repeated_word_share(["the the the", "a b"]) == pytest.approx(2 / 5)
    assert mean_length(["the the the", "a-b", ""]) == pytest.approx(5 / 3)  # words as ROUGE sees them


def test_language_model_prefers_real_summaries_to_repetitions_and_scrambles():
    _, summaries = tiny_pairs(200)
    lm = SummaryLanguageModel(summaries[:150])
    held_out = summaries[150:]
    real = lm.perplexity(held_out)
    scrambled = lm.perplexity([" ".join(reversed(s.split())) for s in held_out])
    repeated = lm.perplexity([" ".join([s.split()[0]] * 4) for s in held_out])
    assert 1 < real < scrambled and real < repeated
    assert lm.perplexity(["entirely unseen words here"]) < float("inf")
    # per-text scores give the perplexity of any subset, as nltk computes it over the subset's n-grams
    log2, grams = lm.log_scores(held_out)
    assert grams.tolist() == [len(words(s)) + 2 for s in held_out]  # trigrams of "<s> <s> words </s> </s>"
    assert 2.0 ** (-log2.sum() / grams.sum()) == pytest.approx(real)
    grams_of_first = list(ngrams(pad_both_ends(list(lm.model.vocab.lookup(words(held_out[0]))), 3), 3))
    assert lm.perplexity(held_out[:1]) == pytest.approx(lm.model.perplexity(grams_of_first))


def test_perplexity_per_written_word_and_a_gap_split_into_words_and_length():
    _, summaries = tiny_pairs(200)
    lm = SummaryLanguageModel(summaries[:150])
    held_out = summaries[150:]
    log2, grams = lm.log_scores(held_out)
    written = lm.written_counts(held_out)
    assert written.tolist() == grams.tolist()  # no hyphens: written words are the scored tokens
    assert lm.perplexity_per_word(held_out) == pytest.approx(lm.perplexity(held_out))
    hyphenated = [s.replace(" for ", "-for ") for s in held_out]  # "python parser-for yaml": 3 words, 4 tokens
    assert (lm.written_counts(hyphenated) == written - 1).all() and (lm.log_scores(hyphenated)[1] == grams).all()
    assert lm.perplexity_per_word(hyphenated) > lm.perplexity(hyphenated)  # the same surprisal over fewer words
    # the same surprisal over fewer tokens is all length; more surprisal over as many tokens is all words
    assert split_perplexity_gap(300.0, 100.0, 300.0, 110.0)["words"] == 0.0
    assert split_perplexity_gap(330.0, 110.0, 300.0, 110.0)["length"] == 0.0
    # in general the two parts sum to the difference of the perplexities, arrays included
    scrambled = [" ".join(reversed(s.split())) + " library" for s in held_out]
    (bits, tokens), (base_bits, base_tokens) = (lm.log_scores(texts) for texts in (scrambled, held_out))
    gap = split_perplexity_gap(-bits.sum(), tokens.sum(), -base_bits.sum(), base_tokens.sum())
    assert gap["difference"] == pytest.approx(lm.perplexity(scrambled) - lm.perplexity(held_out))
    assert gap["words"] + gap["length"] == pytest.approx(gap["difference"]) and gap["words"] > 0 > gap["length"]
    draws = split_perplexity_gap(np.array([-bits.sum()] * 2), tokens.sum(), -base_bits.sum(), base_tokens.sum())
    np.testing.assert_allclose(draws["words"], gap["words"])


def test_perplexity_differences_are_each_models_gap_to_the_first_with_a_bootstrap_interval():
    _, summaries = tiny_pairs(200)
    lm = SummaryLanguageModel(summaries[:150])
    held_out = summaries[150:]
    scrambled = [" ".join(reversed(s.split())) for s in held_out]
    rows = perplexity_differences(lm, {"real": held_out, "scrambled": scrambled, "same": list(held_out)}, 200, seed=3)
    assert set(rows) == {"scrambled - real", "same - real"}
    worse, same = rows["scrambled - real"], rows["same - real"]
    assert worse["difference"] == pytest.approx(lm.perplexity(scrambled) - lm.perplexity(held_out))
    assert 0 < worse["low"] <= worse["mean"] <= worse["high"] and worse["low"] < worse["difference"] < worse["high"]
    assert worse["per_word"] > 0 and worse["words"] + worse["length"] == pytest.approx(worse["difference"])
    assert all(value == 0 for value in same.values())  # the same summaries: no gap in any resampling
    # the same seed draws the same resamplings
    assert perplexity_differences(lm, {"real": held_out, "scrambled": scrambled}, 200, seed=3) == {
        "scrambled - real": worse}


def test_summary_row_scores_with_and_without_references():
    documents, summaries = tiny_pairs(200)
    lm = SummaryLanguageModel(summaries[:150])
    predictions = [" ".join(d.split()[:3]) for d in documents[150:160]]
    row = summary_row(documents[150:160], predictions, summaries[150:160], lm)
    assert set(row) == {"rouge1", "rouge2", "rougeL", "perplexity", "perplexity_per_word", "first_words", "repeated",
                        "words"}
    assert row["first_words"] == 1.0 and row["perplexity"] > 1 and row["words"] == 3.0
    assert summary_row(documents[150:160], summaries[150:160], summaries[150:160], lm)["rouge1"] == pytest.approx(100)
    unpaired = summary_row(documents[150:160], predictions, None, lm)
    assert "rouge1" not in unpaired and unpaired["perplexity"] == row["perplexity"]


def test_length_auc_is_what_length_alone_tells_real_from_generated():
    assert length_auc([3, 7, 10], [10, 10]) == pytest.approx(5 / 6)  # 3 and 7 above 10, 10 against 10 a tie
    assert length_auc([6, 7, 8], [8, 7, 6]) == pytest.approx(0.5)  # the same lengths: no cue
    assert length_auc([2, 3], [9, 10, 10]) == 1.0
    assert length_auc([10, 10, 2], [2, 2, 10]) == pytest.approx(6 / 9)  # the ranking may prefer the longer


def test_placement_counts_where_the_reference_words_sit_in_the_document():
    from benchmarks.text_summary_baselines import placement

    document = "PyYAML is a YAML parser. It is written for Python and emits YAML too."
    row = placement([document], ["YAML parser for Python 3"])
    # 5 words, 4 in the document ("3" is not), 1 stop word ("for"); positions 3, 4, 8, 9; 2 in the first sentence
    assert row["in document"] == pytest.approx(0.8) and row["stop words"] == pytest.approx(0.2)
    assert row["in first sentence"] == pytest.approx(0.5)
    assert row["at words 0-5"] == pytest.approx(0.5) and row["at words 5-10"] == pytest.approx(0.5)


def test_surprisal_by_place_splits_the_language_models_score_by_position_and_by_source():
    from benchmarks.text_summary_words import surprisal_by_place

    lm = SummaryLanguageModel(["python library for yaml", "rust tool for json", "python tool for xml"] * 2)
    documents, texts = ["A Python library.", "Rust JSON tool."], ["python library for", "rust json tool"]
    place = surprisal_by_place(lm, documents, texts)
    log2, _ = lm.log_scores(texts)
    total = -np.log(2.0) * log2.sum() / 2  # nats per text
    assert place["first"] + place["inner"] + place["last"] + place["end"] == pytest.approx(total)
    assert place["document_words"] + place["other_words"] + place["end"] == pytest.approx(total)
    for_nats = -np.log(lm.model.score("for", ["python", "library"]))  # the one word no document holds
    assert place["other_words"] == pytest.approx(for_nats / 2) and place["last"] > place["other_words"]


@pytest.mark.slow  # about 75 s at load 16: eager gradients through the unrolled decoders, twice
def test_gradient_pull_measures_each_loss_terms_pull_and_the_critics_is_zero_at_weight_zero():
    from benchmarks.text_summary_critic import gradient_pull

    documents, summaries = tiny_pairs(8)
    model = TextLatent(VOCABULARY, objective="paired", summary_length=4, document_length=10, embedding_dim=8,
                       word_dim=8, hidden_dim=8, seed=0).with_objective("unpaired", anchor_weight=0.1)
    dataset = make_unpaired_dataset(documents, summaries, 8)
    pull = gradient_pull(model, dataset, batches=1)
    assert set(pull) == {"norm_reconstruction", "norm_critic", "norm_anchor", "cosine_critic_reconstruction"}
    assert pull["norm_reconstruction"] > 0 and pull["norm_critic"] > 0
    assert -1 <= pull["cosine_critic_reconstruction"] <= 1
    model.adversary_weight = 0.0
    assert gradient_pull(model, dataset, batches=1)["norm_critic"] == 0.0


def test_order_or_words_tells_a_reordering_from_a_new_word():
    from benchmarks.text_summary_words import order_or_words

    lm = SummaryLanguageModel(["python library for yaml", "rust tool for json"] * 3)
    documents = ["A Python library for YAML.", "A Rust tool for JSON.", "A tool.", "A Python tool for YAML."]
    first = ["python library for yaml", "rust tool for json", "tool", "python tool"]
    second = ["yaml library for python", "rust tool for json", "json tool", "python yaml"]
    parts = order_or_words(lm, documents, first, second)
    assert [parts[part]["share"] for part in ("equal", "reordered", "new_word", "other")] == [0.25] * 4
    assert parts["reordered"]["second"] > parts["reordered"]["first"]  # the model's order reads better
    assert parts["equal"]["first"] == parts["equal"]["second"]


def test_summarize_traces_once_per_model_and_follows_its_weights_and_settings():
    documents, _ = tiny_pairs(5)
    model = TextLatent(VOCABULARY, objective="paired", output_length=3, summary_length=4, document_length=10,
                       embedding_dim=16, word_dim=16, hidden_dim=16, seed=0)
    before = summarize(model, documents, batch_size=2)  # batches of 2, 2 and 1
    function = graph_function(model, "summarize")
    assert function.experimental_get_tracing_count() == 1 and graph_function(model, "summarize") is function
    # new weights (as in training): no new trace, and the summaries a fresh trace of the changed model gives
    model.generator.copy_gate.bias.assign([30.0])  # write from the vocabulary, the words ranked by their bias
    model.generator.to_logits.bias.assign(np.r_[0.0, -100.0, 100.0 - 10.0 * np.arange(len(VOCABULARY))])
    after = summarize(model, documents, batch_size=2)
    fresh = [text.decode() for text in tf.function(model.summarize)(tf.constant(documents)).numpy()]
    assert after == fresh == [" ".join(VOCABULARY[:3])] * 5 != before
    assert function.experimental_get_tracing_count() == 1
    # a Python setting the trace bakes in: traced anew, and the first trace reused once it is set back
    model.output_length = 2
    assert summarize(model, documents) == [" ".join(VOCABULARY[:2])] * 5
    model.output_length = 3
    assert summarize(model, documents) == after and graph_function(model, "summarize") is function
    owner = weakref.ref(model)  # the cache keeps no model alive
    del model
    gc.collect()
    assert owner() is None


def test_rank_partial_removes_what_two_scores_share_through_the_length_alone(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "benchmarks"))  # it imports its neighbours by name
    from benchmarks.text_summary_critic import rank_partial

    rng = np.random.default_rng(0)
    length = rng.integers(1, 10, 2000).astype(float)
    critic, lm = length + rng.normal(size=2000), -length - rng.normal(size=2000)  # related through the length only
    assert spearmanr(critic, lm)[0] < -0.8 and abs(rank_partial(critic, lm, length)) < 0.1
    shared = rng.normal(size=2000)  # and a part they share beside the length
    assert rank_partial(critic + 3 * shared, lm + 3 * shared, length) > 0.5
    assert rank_partial(critic, lm, np.ones(2000)) == pytest.approx(spearmanr(critic, lm)[0])  # one length: Spearman's


def test_rouge1_parts_splits_rouge1_into_precision_recall_and_length(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "benchmarks"))  # it imports its neighbours by name
    from benchmarks.text_summary_margin import rouge1_parts

    references = ["YAML parser and emitter for Python", "Rust tool for JSON"]
    row = rouge1_parts(["yaml parser for python", "json tool written in rust today"], references)
    # 4 of 4 words match 4 of 6; 3 of 6 words match 3 of 4 ("rust", "tool", "json")
    assert row["precision"] == pytest.approx(100 * (4 / 4 + 3 / 6) / 2)
    assert row["recall"] == pytest.approx(100 * (4 / 6 + 3 / 4) / 2)
    assert row["rouge1"] == pytest.approx(100 * (0.8 + 0.6) / 2)  # the mean of the two F1, not F1 of the means
    assert row["words"] == 5.0
    assert rouge1_parts(references, references)["rouge1"] == pytest.approx(100.0)


def test_the_stage_benchmarks_default_full_variants_change_only_the_critics_weight_or_ramp(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "benchmarks"))
    from benchmarks.text_summary_stages import DEFAULT_FULL, VARIANTS

    default = VARIANTS[DEFAULT_FULL]
    for name, change in ((f"{DEFAULT_FULL}_critic_weight_2", {"adversary_weight": 2}),
                         (f"{DEFAULT_FULL}_ramp_125", {"adversary_ramp_steps": 125})):
        objective, changes, stage = VARIANTS[name]
        assert (objective, stage) == (default[0], default[2]) and changes == {**default[1], **change}
    model = TextLatent(VOCABULARY, objective="paired", summary_length=4, document_length=10, embedding_dim=8,
                       word_dim=8, hidden_dim=8, seed=0)
    objective, changes, _ = VARIANTS[f"{DEFAULT_FULL}_ramp_125"]
    ramped = model.with_objective(objective, **changes)  # the ramp survives the copy (the core's config)
    assert ramped.adversary_ramp_steps == 125 and ramped.anchor_weight == 0.01 and ramped.lm_prior_weight == 0.001


def test_the_stage_benchmark_saves_the_scored_average_and_the_last_iterate_at_a_point(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "benchmarks"))
    import keras
    from benchmarks.text_summary_stages import save_point
    from keras_ae.core.averaging import WeightAverage

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    average = WeightAverage(decay=0.9)
    x, y = np.ones((8, 3), "float32"), np.full((8, 2), 5.0, "float32")
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[average], verbose=0)  # the model now holds the average
    save_point(model, average, str(tmp_path / "point"))
    with average.raw():
        raw = [weight.copy() for weight in model.get_weights()]
    averaged = [weight.copy() for weight in model.get_weights()]
    assert not np.allclose(raw[0], averaged[0])
    for suffix, expected in (("", averaged), ("_raw", raw)):
        loaded = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        loaded.load_weights(tmp_path / f"point{suffix}.weights.h5")
        for got, want in zip(loaded.get_weights(), expected):
            np.testing.assert_allclose(got, want, atol=1e-7)
