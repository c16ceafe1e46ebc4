"""Where do the synopses' words sit in their documents, and how far do extractive rules get? No training.

    python benchmarks/text_summary_baselines.py [--seeds 0,1,2] [--split validation|test] [--pairs 0]
        [recipe flags: --data, --limit, --max-words, ...]

For each seed (the recipe's split, data and N of Lead-N): the share of the reference synopses' words (as ROUGE sees
them) that occur in the document, how many of those are stop words, where in the document each such word first
occurs (word position) and whether it is in the first sentence; then one row per extractive rule, scored as the
recipe scores its rows (ROUGE-1/2/L F1, perplexity under the trigram model of the validation synopses, first-word
copies, words): Lead-N, the first clause, and the first N (and 10) content words of the document
(`data.summaries.content_lead`, the target the generator is pretrained on), also spelled as the model's vocabulary
spells words (punctuation stripped: "fdlock" for "fd-lock"; what summaries were before `TextLatent`'s
`document_spelling`). `--split validation` (default) is what
choices may be made on; `--split test` gives the rows of the recipe's table (its first `--evaluate` test pairs).
`--leads 6,7` adds Lead-6 and Lead-7 whatever N is.
"""

import argparse
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from keras_ae.data.summaries import content_lead  # noqa: E402
from keras_ae.evaluation.summaries import (  # noqa: E402
    SummaryLanguageModel, first_clause, lead, summary_row, words,
)
from keras_ae.layers.encoders.gru_sentence_encoder import STRIP_PUNCTUATION  # noqa: E402
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402

BINS = ((0, 5), (5, 10), (10, 20), (20, 40), (40, None))


def placement(documents, references):
    """Where the references' words sit in their documents: `{"in document": share of reference words found in the
    document, "stop words": share of reference words that are stop words, "in first sentence": share of the found
    words whose document's first sentence has them, "at words A-B": share of the found words first occurring at
    word positions [A, B)}`."""
    found = total = stop = in_first = 0
    positions = []
    for document, reference in zip(documents, references):
        document_words = words(document)
        first = set(words(first_sentence(document)))
        for word in words(reference):
            total += 1
            stop += word in ENGLISH_STOP_WORDS
            if word in document_words:
                found += 1
                positions.append(document_words.index(word))
                in_first += word in first
    positions = np.array(positions)
    row = {"in document": found / max(total, 1), "stop words": stop / max(total, 1),
           "in first sentence": in_first / max(found, 1)}
    for low, high in BINS:
        inside = (positions >= low) & (positions < (high if high is not None else np.inf))
        row[f"at words {low}-{high if high is not None else ''}"] = float(inside.mean()) if len(positions) else 0.0
    return row


def first_sentence(document):
    """The document's first sentence (up to the first `.`, `!` or `?` followed by a space)."""
    return re.split(r"(?<=[.!?])\s", document.strip(), maxsplit=1)[0]


def vocabulary_spelling(text):
    """`text`'s words as the model's vocabulary holds them: punctuation stripped inside each word ("fd-lock" ->
    "fdlock"), words left empty dropped."""
    return " ".join(word for word in (re.sub(STRIP_PUNCTUATION, "", token) for token in text.split()) if word)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--pairs", type=int, default=0, help="pairs scored (0: the recipe's --evaluate for test, "
                                                             "all validation pairs)")
    parser.add_argument("--leads", default="", help="comma-separated K: also score Lead-K (e.g. 6,7: how much of a "
                                                    "seed's margin over Lead-N is N)")
    args, recipe_argv = parser.parse_known_args(argv)
    placements, rows = {}, {}
    for seed in (int(s) for s in args.seeds.split(",")):
        flags = parse_flags(text_summary.build_parser(), [*recipe_argv, "--seed", str(seed)])
        data, _, lm_source, n = text_summary.prepare_data(flags)
        documents, references = data.validation if args.split == "validation" else data.test
        if references is None:
            parser.error("the data has no reference summaries")
        count = args.pairs or (flags.evaluate if args.split == "test" else len(documents)) or len(documents)
        documents, references = documents[:count], references[:count]
        placements[f"seed {seed}"] = placement(documents, references)
        lm = SummaryLanguageModel(lm_source)
        for name, predictions in ((f"Lead-{n}", lead(documents, n)), ("first clause", first_clause(documents)),
                                  (f"first N={n} content words", [content_lead(d, n) for d in documents]),
                                  ("first 10 content words", [content_lead(d, 10) for d in documents]),
                                  (f"first N={n} content words, vocabulary spelling",
                                   [vocabulary_spelling(content_lead(d, n)) for d in documents])):
            rows[f"seed {seed}: {name}"] = summary_row(documents, predictions, references, lm)
        for k in (int(k) for k in args.leads.split(",") if k):
            rows[f"seed {seed}: Lead-{k}"] = summary_row(documents, lead(documents, k), references, lm)
        print(f"seed {seed}: {len(documents)} {args.split} pairs, Lead-{n}", flush=True)
    print(format_table(placements, list(next(iter(placements.values())))))
    print(format_table(rows, ["rouge1", "rouge2", "rougeL", "perplexity", "first_words", "words"]))
    return placements, rows


if __name__ == "__main__":
    main()
