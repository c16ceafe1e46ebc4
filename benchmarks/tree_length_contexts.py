"""How often a verb phrase stands without its subject in front, by sentence length, in the recipe's real-English
training text: does training on longer sentences give the compound PCFG more of the evidence that separates
`(verb object)` from `(subject verb)`?

    python -m benchmarks.tree_length_contexts                       # Austen's training chapters, buckets 10/15/20
    python -m benchmarks.tree_length_contexts --data books --lengths 10 15 20 30

Sentences are the recipe's (`load_tree_data(data, max_length=max(--lengths), test_trees=--test-trees)`: punctuation
removed, copies of the gold test sentences dropped). No tagger is used (nltk's tagger models are not installed
offline), so a verb phrase's context is found by a rough, data-driven heuristic (`find_contexts`):
- a *base verb* is a word seen at least `--min-count` times right after a modal ("would go", "must be"), a *finite
  verb* one seen as often right after a nominative pronoun ("she said", "they were"); function words, words in -ly
  and capitalised words inside a sentence (names, titles: "could Mr Darcy") never count (`NOT_VERBS`);
- "to": `to` + a base verb (a to-infinitive: "to be", "to go"; not "to her");
- "and": `and` / `or` / `but` + a base or finite verb, unless an auxiliary followed by a subject pronoun (a
  coordinated verb phrase: "and looked", "but said", "and see it"; not the question "and do you");
- "start": a base verb first in the sentence, unless an auxiliary followed by a subject pronoun (an imperative:
  "Let us go", "Tell me", "See it"; not the question "Do you think");
- "pronoun + verb" (for scale): a nominative pronoun + a finite verb, the commonest context in which the subject
  does stand in front; a sentence with two of them ("I dare say he will come") holds two clauses.
The second table checks the heuristic against the hand-bracketed gold trees (`--test-trees`), whose verb phrases'
contexts are read from the trees (`benchmarks.tree_constructions.verb_phrase_contexts`): how many of the gold
trees' subject-less verb phrases of each context it finds (recall), and how many of its finds are gold ones
(precision).
"""

import argparse
import collections

from keras_ae.data.trees import load_tree_data, tree_words
from keras_ae.recipes.common import format_table

from benchmarks.tree_constructions import verb_phrase_contexts

MODALS = frozenset("will would shall should can could may might must cannot".split())
PRONOUNS = frozenset("i he she we they".split())
NOT_VERBS = frozenset(
    "not never ever always only also soon then now too so very just still all both indeed really rather quite almost "
    "such one nobody neither each any every none "
    "perhaps again once often sometimes yet even much more most less least well no nothing something anything "
    "i you he she it we they me him her us them my your his its our their this that these those there here "
    "a an the and or but nor if as than though because while when whether where what which who whom whose how why "
    "of to in on at by for with from into upon about after before under over through without within between "
    "against among up down out off away".split()
)
CONTEXTS = ("to", "and", "start")
COORDINATORS = frozenset({"and", "or", "but"})
INVERTED_SUBJECTS = PRONOUNS | {"you", "it", "there"}
AUXILIARIES = MODALS | frozenset("do does did is are was were am have has had".split())


def verb_lexicons(sentences, min_count=2):
    """`(base, finite)`: the words seen at least `min_count` times right after a modal (base verbs) and right after a
    nominative pronoun (finite verbs), lower case, without `NOT_VERBS` and words in -ly."""
    after_modal, after_pronoun = collections.Counter(), collections.Counter()
    for sentence in sentences:
        words = sentence.split()
        for left, word in zip(words, words[1:]):
            if word[:1].isupper():  # a name or title inside a sentence ("could Mr Darcy"), never a verb
                continue
            if left.lower() in MODALS:
                after_modal[word.lower()] += 1
            elif left.lower() in PRONOUNS:
                after_pronoun[word.lower()] += 1

    def keep(counts):
        return frozenset(word for word, count in counts.items()
                         if count >= min_count and word not in NOT_VERBS and not word.endswith("ly"))

    return keep(after_modal), keep(after_pronoun)


def find_contexts(sentence, base, finite):
    """`[(context, index)]`: the verbs of `sentence` (a string of words) found in a subject-less context ("to",
    "and", "start", see the module docstring), or after a nominative pronoun ("pronoun + verb"), with the verb's word
    index."""
    cased = sentence.split()
    words = [word.lower() for word in cased]
    found = []
    for index, word in enumerate(words):
        left = words[index - 1] if index else ""
        inverted = (word in AUXILIARIES and index + 1 < len(words)
                    and words[index + 1] in INVERTED_SUBJECTS)  # a question: "Do you", "and did she"
        if index and cased[index][:1].isupper():  # a name or title ("and Miss Crawford")
            continue
        if index == 0:
            if word in base and not inverted:
                found.append(("start", index))
        elif left == "to" and word in base:
            found.append(("to", index))
        elif left in COORDINATORS and (word in base or word in finite) and not inverted:
            found.append(("and", index))
        elif left in PRONOUNS and word in finite:
            found.append(("pronoun + verb", index))
    return found


def length_rows(sentences, lengths, base, finite):
    """One row per length bucket (`2..L` for each L, and the bands between them): sentences, words, and each
    context's count, per 100 sentences and per 1,000 words."""
    bounds = sorted(lengths)
    buckets = {f"<= {bound}": (2, bound) for bound in bounds}
    buckets.update({f"{low + 1}..{high}": (low + 1, high) for low, high in zip(bounds, bounds[1:])})
    rows = {}
    for name, (low, high) in buckets.items():
        chosen = [s for s in sentences if low <= len(s.split()) <= high]
        found = [[context for context, _ in find_contexts(s, base, finite)] for s in chosen]
        counts = collections.Counter(context for contexts in found for context in contexts)
        words = sum(len(s.split()) for s in chosen)
        with_any = sum(any(c in CONTEXTS for c in contexts) for contexts in found)
        two_clauses = sum(contexts.count("pronoun + verb") >= 2 for contexts in found)
        row = {"sentences": len(chosen), "words": words,
               "with a subject-less VP (%)": f"{100 * with_any / max(len(chosen), 1):.1f}",
               "two pronoun + verb (%)": f"{100 * two_clauses / max(len(chosen), 1):.1f}"}
        for context in CONTEXTS + ("pronoun + verb",):
            row[context] = f"{counts[context]} ({1000 * counts[context] / max(words, 1):.1f})"
        subjectless = sum(counts[c] for c in CONTEXTS)
        row["subject-less per 1,000 words"] = f"{1000 * subjectless / max(words, 1):.1f}"
        row["subject-less / pronoun + verb"] = f"{subjectless / max(counts['pronoun + verb'], 1):.2f}"
        rows[name] = row
    return rows


def calibration_rows(gold_trees, base, finite):
    """`{context: row}`: the heuristic against the gold trees' subject-less verb phrases (their first word's index
    and context), counts with recall and precision in percent."""
    gold, found = collections.Counter(), collections.Counter()
    hits = collections.Counter()
    for tree in gold_trees:
        truth = {(context, span[0]) for context, _, span in verb_phrase_contexts(tree) if context in CONTEXTS}
        guess = {(c, i) for c, i in find_contexts(tree_words(tree), base, finite) if c in CONTEXTS}
        for context, _ in truth:
            gold[context] += 1
        for context, _ in guess:
            found[context] += 1
        for context, _ in truth & guess:
            hits[context] += 1
    return {context: {"gold": gold[context], "found": found[context], "both": hits[context],
                      "recall (%)": f"{100 * hits[context] / max(gold[context], 1):.1f}",
                      "precision (%)": f"{100 * hits[context] / max(found[context], 1):.1f}"}
            for context in CONTEXTS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="austen", help="the recipe's --data (a named corpus or a text file)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 15, 20], help="bucket bounds, in words")
    parser.add_argument("--test-trees", default="benchmarks/data/austen_gold_trees.mrg",
                        help="gold trees: their sentences are dropped from training and they check the heuristic")
    parser.add_argument("--min-count", type=int, default=2, help="how often a word must follow a modal or pronoun")
    args = parser.parse_args(argv)
    data = load_tree_data(args.data, max_length=max(args.lengths), test_trees=args.test_trees)
    base, finite = verb_lexicons(data.train, args.min_count)
    print(f"{data.name}: {len(data.train)} training sentences of 2..{max(args.lengths)} words; verb lexicons from "
          f"them: {len(base)} base verbs (after a modal), {len(finite)} finite verbs (after a pronoun)")
    print("\nVerbs found per context: count (per 1,000 words); 'pronoun + verb' is a subject-first context, for scale")
    rows = length_rows(data.train, args.lengths, base, finite)
    print(format_table(rows, list(next(iter(rows.values())))))
    if data.test_trees is not None:
        print(f"\nThe heuristic against the {len(data.test_trees)} gold trees' subject-less verb phrases:")
        rows = calibration_rows(data.test_trees, base, finite)
        print(format_table(rows, list(next(iter(rows.values())))))


if __name__ == "__main__":
    main()
