"""Which words does a stage of text_summary add? Compare the greedy summaries of saved stage weights on validation.

    python benchmarks/text_summary_words.py --pretrained FILE --weights NAME=FILE[,NAME=FILE...]
        [--objective NAME=reconstruction,...] [recipe flags: --seed, ...]

Loads the pretrained model (`--pretrained`, as `benchmarks/text_summary_stages.py --pretrained` saves it) and each
named weights file (as `text_summary_stages.py --save` writes them; the model's objective and changes are its
variant name's there, e.g. `full_anchor_0.01`), writes the greedy summaries of `--curve-documents` VALIDATION
documents (never the test pairs; `--test`: the recipe's test rows, scored by its trigram model of the validation
summaries) and prints per model: ROUGE-1, words, repeated words, the share of summary words that the document holds
(copies) and that the pool's trigram model does not know (seen at most once in the pool), first-word copies, the
share of summaries that hold a stop word ("for", "and", ...: `stop_word`) and that end on one ("... for":
`ends_stop_word`), and the perplexity under a trigram model of the critic's unpaired pool (never the
validation references); the pool's own summaries give the two stop-word shares of real summaries. Then, for every
pair of models after the first, the words whose count shifts most and the words whose summed surprisal under that
trigram model (nats, over all outputs) grows most: which words drive the perplexity up. And where the surprisal is
(`surprisal_by_place`, nats per summary): at the first, inner and last word and at the end symbol, and in words that
the document holds (copies) or not (written from the vocabulary). And whether a pair differs in its words or in
their order (`order_or_words`): the perplexity of both on the documents where the second writes the first's words
in another order, where it writes a word the document does not hold, and on the rest.
"""

import argparse
import collections
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from nltk.lm.preprocessing import pad_both_ends  # noqa: E402
from nltk.util import ngrams  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from keras_ae.evaluation.summaries import (  # noqa: E402
    SummaryLanguageModel, first_words_share, mean_length, repeated_word_share, rouge, summarize, words,
)
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402


def surprisal_by_word(lm, texts):
    """`{word: summed -log p}` over every word of `texts` (and `</s>`) under the trigram `lm`, in nats."""
    totals = collections.Counter()
    for text in texts:
        tokens = list(lm.model.vocab.lookup(words(text)))
        for gram in ngrams(pad_both_ends(tokens, lm.order), lm.order):
            probability = lm.model.score(gram[-1], list(gram[:-1]))
            totals[gram[-1]] += -math.log(max(probability, 1e-12))
    return totals


PLACES = ["first", "inner", "last", "end", "document_words", "other_words"]


def surprisal_by_place(lm, documents, texts):
    """Mean surprisal per text (nats) of `texts` under the trigram `lm`, by place: the first, inner and last word,
    the end symbols (`end`), and the words (any place) that their `documents` hold (`document_words`) or not
    (`other_words`)."""
    totals = collections.Counter()
    for document, text in zip(documents, texts):
        held, written = set(words(document)), words(text)
        padded = pad_both_ends(list(lm.model.vocab.lookup(written)), lm.order)
        for index, gram in enumerate(ngrams(padded, lm.order)):
            nats = -math.log(max(lm.model.score(gram[-1], list(gram[:-1])), 1e-12))
            if index >= len(written):
                totals["end"] += nats
                continue
            place = "first" if index == 0 else "last" if index == len(written) - 1 else "inner"
            totals[place] += nats
            totals["document_words" if written[index] in held else "other_words"] += nats
    return {place: totals[place] / max(1, len(texts)) for place in PLACES}


ORDER_PARTS = ["equal", "reordered", "new_word", "other"]


def order_or_words(lm, documents, first, second):
    """Where two models' summaries of `documents` differ: the share of documents (`share`) and the perplexity under
    `lm` of `first`'s and `second`'s summaries (`first`, `second`) where they are equal (`equal`), where `second`
    writes `first`'s words in another order (`reordered`), where `second` writes a word the document does not hold
    (`new_word`), and on the other documents (`other`: other document words)."""
    parts = collections.defaultdict(list)
    for index, (document, a, b) in enumerate(zip(documents, first, second)):
        if a == b:
            parts["equal"].append(index)
        elif sorted(words(a)) == sorted(words(b)):
            parts["reordered"].append(index)
        elif set(words(b)) - set(words(document)):
            parts["new_word"].append(index)
        else:
            parts["other"].append(index)
    return {part: {"share": len(parts[part]) / max(1, len(documents)),
                   "first": lm.perplexity([first[i] for i in parts[part]]) if parts[part] else float("nan"),
                   "second": lm.perplexity([second[i] for i in parts[part]]) if parts[part] else float("nan")}
            for part in ORDER_PARTS}


def describe(lm, documents, references, summaries):
    document_words = [set(words(document)) for document in documents]
    summary_words = [words(summary) for summary in summaries]
    held = sum(word in doc for doc, sw in zip(document_words, summary_words) for word in sw)
    total = max(1, sum(len(sw) for sw in summary_words))
    pool_unknown = sum(lm.model.vocab.lookup(word) == "<UNK>" for sw in summary_words for word in sw)
    return {"rouge1": rouge(summaries, references)["rouge1"], "perplexity": lm.perplexity(summaries),
            "words": mean_length(summaries), "repeated": repeated_word_share(summaries),
            "copied": held / total, "pool_unknown": pool_unknown / total,
            "first_words": first_words_share(documents, summaries),
            **stop_word_shares(summary_words)}


def stop_word_shares(summary_words):
    """The shares of word lists that hold a stop word and that end on one."""
    return {"stop_word": float(np.mean([bool(set(sw) & ENGLISH_STOP_WORDS) for sw in summary_words])),
            "ends_stop_word": float(np.mean([bool(sw) and sw[-1] in ENGLISH_STOP_WORDS for sw in summary_words]))}


def scored_setting(recipe_argv, test, pretrained_path):
    """`(flags, data, documents, references, lm, pretrained)` of the recipe flags `recipe_argv`: the data, the
    `--curve-documents` validation pairs and the trigram model of the critic's pool (`test`: the recipe's first
    `--evaluate` test pairs and its trigram model of the validation summaries), and the pretrained model loaded from
    `pretrained_path`."""
    flags = parse_flags(text_summary.build_parser(), recipe_argv, quick=text_summary.QUICK)
    data, vocabulary, lm_source, n = text_summary.prepare_data(flags)
    if test:
        documents, references = (part[: flags.evaluate or len(data.test[0])] for part in data.test)
        lm = SummaryLanguageModel(lm_source)
    else:
        documents, references = (part[: flags.curve_documents] for part in data.validation)
        lm = SummaryLanguageModel(data.real_summaries)
    pretrained = text_summary.build_model(flags, vocabulary, n)
    pretrained.load_weights(pretrained_path)
    return flags, data, documents, references, lm, pretrained


def load_stage(pretrained, item):
    """`(name, model)` of `item` = "NAME=FILE": `pretrained` with the objective and changes of the variant NAME of
    text_summary_stages.py, and the weights that its `--save` wrote to FILE."""
    from text_summary_stages import VARIANTS  # noqa: PLC0415  (the stage benchmark's variants, beside this file)

    name, path = item.split("=")
    objective, changes, _ = VARIANTS[name]
    model = pretrained.with_objective(objective, **changes)
    model.load_weights(path)
    return name, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", required=True)
    parser.add_argument("--weights", required=True, help="NAME=FILE,...: NAME a variant of text_summary_stages.py")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--test", action="store_true",
                        help="the recipe's test rows instead: its first --evaluate test pairs and its trigram model of "
                             "the validation summaries (as text_summary_stages.py --score-test scores them)")
    parser.add_argument("--write", help="write every model's summaries, one a line, to {WRITE}_{name}.txt")
    args, recipe_argv = parser.parse_known_args(argv)
    flags, data, documents, references, lm, pretrained = scored_setting(recipe_argv, args.test, args.pretrained)
    outputs = {"pretrained": summarize(pretrained, documents)}
    for item in args.weights.split(","):
        name, model = load_stage(pretrained, item)
        outputs[name] = summarize(model, documents)
    rows = {name: describe(lm, documents, references, summaries) for name, summaries in outputs.items()}
    rows["real summaries (pool)"] = stop_word_shares([words(summary) for summary in data.real_summaries])
    print(f"seed {flags.seed}, {len(documents)} {'test' if args.test else 'validation'} documents, perplexity under "
          f"the {'validation summaries' if args.test else 'pool'}'s trigram model")
    print(format_table(rows, ["rouge1", "perplexity", "words", "repeated", "copied", "pool_unknown", "first_words",
                                    "stop_word", "ends_stop_word"]))
    places = {name: surprisal_by_place(lm, documents, summaries) for name, summaries in outputs.items()}
    print("\nsurprisal by place, nats per summary (first + inner + last + end = document + other words + end)")
    print(format_table(places, PLACES))
    names = list(outputs)
    counts = {name: collections.Counter(w for s in outputs[name] for w in words(s)) for name in names}
    surprisal = {name: surprisal_by_word(lm, outputs[name]) for name in names}
    for first, second in zip(names[1:], names[2:]):
        shift = {w: counts[second][w] - counts[first][w] for w in counts[first] | counts[second]}
        gained = sorted(shift, key=shift.get, reverse=True)[: args.top]
        lost = sorted(shift, key=shift.get)[: args.top]
        print(f"\n{first} -> {second}: words gained (count change) "
              + ", ".join(f"{w} {shift[w]:+d}" for w in gained))
        print(f"{first} -> {second}: words lost " + ", ".join(f"{w} {shift[w]:+d}" for w in lost))
        grows = {w: surprisal[second][w] - surprisal[first][w] for w in surprisal[first] | surprisal[second]}
        total = sum(surprisal[second].values()) - sum(surprisal[first].values())
        top = sorted(grows, key=grows.get, reverse=True)[: args.top]
        print(f"{first} -> {second}: summed surprisal {total:+.0f} nats; grows most at "
              + ", ".join(f"{w} {grows[w]:+.0f}" for w in top))
        print(f"{first} -> {second}: falls most at "
              + ", ".join(f"{w} {grows[w]:+.0f}" for w in sorted(grows, key=grows.get)[: args.top]))
        unknown = grows.get("<UNK>", 0.0)
        print(f"{first} -> {second}: of it, words unseen (or seen once) in the pool: {unknown:+.0f} nats; "
              f"{sum(np.sign(v) > 0 for v in grows.values())} words grow")
        print(f"{first} -> {second}: the same words in another order, a word the document does not hold, ... "
              "(share of documents; perplexity of each model there)")
        print(format_table(order_or_words(lm, documents, outputs[first], outputs[second]), ["share", "first",
                                                                                             "second"]))
    if args.write:
        for name, summaries in outputs.items():
            with open(f"{args.write}_{name}.txt", "w") as handle:
                handle.write("\n".join(summaries) + "\n")
    return rows


if __name__ == "__main__":
    main()
