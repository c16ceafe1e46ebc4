"""Which verb-phrase constructions the synthetic treebank holds, per grammar version: in how many sentences each
occurs, and in what left context each verb phrase stands (is its subject right before it, or a modal, "and", "to").

    python benchmarks/tree_constructions.py                      # 4,000 sentences of each grammar, seed 0
    python benchmarks/tree_constructions.py --seeds 0 1 2 --size 4000

Sentences are sampled as the recipe's training set is (`synthetic_treebank`, at most `--max-length` words).

A verb phrase is counted once, at its smallest VP (the one whose first child is the verb); its context is the word
class right before the largest VP that starts with it (`(VP (VP saw the dog) (PP in it))` is one verb phrase,
and so is the first conjunct of a coordination). A context other than "subject" is one where (verb object) occurs
without its subject in front: the evidence that the verb phrase, not (subject verb), is the unit.
"""

import argparse
import collections

import numpy as np
from nltk import Tree

from keras_ae.data.trees import SYNTHETIC_GRAMMARS, synthetic_treebank
from keras_ae.recipes.common import format_table

CONTEXTS = {"NP": "subject", "MD": "modal", "CC": "and", "TO": "to"}


def _label(node):
    return node.label() if isinstance(node, Tree) else ""


def verb_phrase_contexts(tree):
    """`[(context, transitive)]` for each verb phrase of `tree` (see the module docstring)."""
    found = []

    def visit(node, left):  # left: the label of the node's left sibling ("" for a first child)
        if not isinstance(node, Tree):
            return
        if _label(node) == "VP" and _label(node[0]).startswith("VB"):
            found.append((CONTEXTS.get(left, left or "?"), len(node) > 1 and _label(node[1]) == "NP"))
        for index, child in enumerate(node):
            inherit = _label(node) == "VP" and _label(child) == "VP" and index == 0  # same start as its parent
            visit(child, left if inherit else _label(node[index - 1]) if index else "")

    visit(tree, "")
    return found


def constructions(trees):
    """`{column: value}`: sentences, mean length, the percent of sentences holding each construction, and the percent
    of transitive verb phrases in each left context."""
    contexts = [verb_phrase_contexts(tree) for tree in trees]
    has = {
        "modal + VP": lambda tree: any(_label(n) == "MD" for n in tree.subtrees()),
        "VP coordination": lambda tree: any(_label(n) == "VP" and any(_label(c) == "CC" for c in n)
                                            for n in tree.subtrees()),
        "to-infinitive": lambda tree: any(_label(n) == "TO" for n in tree.subtrees()),
    }
    row = {"sentences": len(trees), "mean words": f"{np.mean([len(t.leaves()) for t in trees]):.2f}"}
    for name, test in has.items():
        row[f"{name} (% sentences)"] = f"{100 * np.mean([test(tree) for tree in trees]):.1f}"
    transitive = collections.Counter(context for found in contexts for context, object_ in found if object_)
    total = max(sum(transitive.values()), 1)
    row["transitive VPs"] = total
    for context in ("subject", "modal", "and", "to"):
        row[f"after {context} (%)"] = f"{100 * transitive[context] / total:.1f}"
    other = total - sum(transitive[c] for c in ("subject", "modal", "and", "to"))
    row["other (%)"] = f"{100 * other / total:.1f}"
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grammars", type=int, nargs="+", default=sorted(SYNTHETIC_GRAMMARS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--size", type=int, default=4000, help="training sentences (the recipe's --synthetic-size)")
    parser.add_argument("--max-length", type=int, default=10)
    args = parser.parse_args(argv)
    rows = {}
    for grammar in args.grammars:
        for seed in args.seeds:
            trees = synthetic_treebank(args.size, args.max_length, seed=seed, grammar=grammar)
            rows[f"grammar {grammar}, seed {seed}"] = constructions(trees)
    print(format_table(rows, list(next(iter(rows.values())))))


if __name__ == "__main__":
    main()
