"""The sentences of the second gold set (`benchmarks/data/other_gold_trees.mrg`), drawn before anyone bracketed
them: a seeded random sample of held-out sentences of 5 to 10 words from the project's offline texts other than
Austen (the four other novels of the `books` corpus, the King James Bible, Debian's package descriptions).

    python benchmarks/tree_gold_sample.py                  # the 72 sentences, in the gold file's order
    python benchmarks/tree_gold_sample.py --seed 1 --per-novel 2 --bible 3 --packages 3

Every sentence comes from the test split of `keras_ae.data.corpus.load_corpus("all")` (held out of every corpus
the project trains on) and passes fixed rules, decided before the draw: 5 to 10 words after
`keras_ae.data.trees.strip_punctuation`; the raw sentence starts with a capital (after any opening quote) and ends
with `.`, `!` or `?` (KJV verses and list items cut mid-sentence fail this); no digit and none of
`/ @ _ + = < > { } [ ] # | \\ ~ *` (paths, URLs, versions, code); distinct. Per stratum (each novel, the Bible,
the packages) the first `count` of the seeded shuffle that pass are taken; none is skipped by hand. Prints the
source, the document, the raw sentence and its words (the gold tree's leaves).
"""

import argparse
import random
import re

from keras_ae.data.corpus import load_corpus
from keras_ae.data.trees import strip_punctuation

NOT_PROSE = re.compile(r"[\d/@_+=<>{}\[\]#|\\~*]")
STARTS = re.compile(r"^[\"'\u201c\u2018(]*[A-Z]")
ENDS = re.compile(r"[.!?][\"'\u201d\u2019)]*$")


def eligible(sentence, shortest=5, longest=10):
    """Whether a raw sentence passes the sample's fixed rules (module docstring).

    Example:
        eligible("He held out his hand.")                    # True
        eligible("and he said unto them,")                   # False: not a whole sentence
    """
    words = strip_punctuation(sentence).split()
    return (shortest <= len(words) <= longest and not NOT_PROSE.search(sentence)
            and bool(STARTS.match(sentence)) and bool(ENDS.search(sentence)))


def strata(test, source_names, document_names):
    """`{stratum: [(document, raw sentence)]}` of the test split: one stratum per novel, the Bible, the packages."""
    groups = {}
    for sentence, document, source in zip(test.sentences, test.labels, test.sources):
        name = source_names[source]
        if name == "austen":
            continue
        key = document_names[document] if name == "novels" else name
        groups.setdefault(key, []).append((document_names[document], sentence))
    return groups


def draw(groups, counts, seed):
    """`[(stratum, document, raw sentence)]`: per stratum, the first `counts[stratum]` eligible distinct sentences
    of a shuffle seeded with `seed`, strata in sorted order."""
    chosen, seen = [], set()
    for key in sorted(groups):
        pool = list(groups[key])
        random.Random(f"{seed}:{key}").shuffle(pool)
        taken = 0
        for document, sentence in pool:
            words = strip_punctuation(sentence)
            if taken == counts(key):
                break
            if words in seen or not eligible(sentence):
                continue
            seen.add(words)
            chosen.append((key, document, sentence))
            taken += 1
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=15, help="the draw's seed (15: the committed gold set)")
    parser.add_argument("--per-novel", type=int, default=8, help="sentences from each of the four novels")
    parser.add_argument("--bible", type=int, default=20, help="sentences from the King James Bible")
    parser.add_argument("--packages", type=int, default=20, help="sentences from Debian's package descriptions")
    args = parser.parse_args(argv)
    corpus = load_corpus("all", progress=False)
    groups = strata(corpus.test, corpus.source_names, corpus.document_names)
    sizes = {"bible": args.bible, "packages": args.packages}
    for number, (key, document, sentence) in enumerate(draw(groups, lambda k: sizes.get(k, args.per_novel),
                                                           args.seed), 1):
        print(f"{number}\t{key}\t{document}\t{sentence}\t{strip_punctuation(sentence)}")


if __name__ == "__main__":
    main()
