"""Which verb-phrase constructions the synthetic treebank holds, per grammar version: in how many sentences each
occurs, and in what left context each verb phrase stands (is its subject right before it, or a modal, "and", "to").

    python benchmarks/tree_constructions.py                      # 4,000 sentences of each grammar, seed 0
    python benchmarks/tree_constructions.py --seeds 0 1 2 --size 4000
    python benchmarks/tree_constructions.py --grammars 2 --runs RUN_DIR...   # which VPs finished runs found

Sentences are sampled as the recipe's training set is (`synthetic_treebank`, at most `--max-length` words).

A verb phrase is counted once, at its smallest VP (the one whose first child is the verb); its context is the word
class right before the largest VP that starts with it (`(VP (VP saw the dog) (PP in it))` is one verb phrase,
and so is the first conjunct of a coordination). A context other than "subject" is one where (verb object) occurs
without its subject in front: the evidence that the verb phrase, not (subject verb), is the unit.
"""

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from nltk import Tree

from keras_ae.data.trees import SYNTHETIC_GRAMMARS, synthetic_treebank
from keras_ae.evaluation.trees import tree_spans
from keras_ae.recipes.common import format_table

CONTEXTS = {"NP": "subject", "MD": "modal", "CC": "and", "TO": "to", "": "start"}


def _label(node):
    return node.label() if isinstance(node, Tree) else ""


def verb_phrase_contexts(tree):
    """`[(context, transitive, (start, end))]` for each verb phrase of `tree`: its context (see the module docstring),
    whether the verb takes an object, and the word span of verb and object (the smallest VP)."""
    found = []

    def visit(node, left, start):  # left: the label of the node's left sibling ("" for a first child)
        if not isinstance(node, Tree):
            return start + 1
        if _label(node) == "VP" and _label(node[0]).startswith("VB"):
            found.append((CONTEXTS.get(left, left or "?"), len(node) > 1 and _label(node[1]) == "NP",
                          (start, start + len(node.leaves()))))
        end = start
        for index, child in enumerate(node):
            inherit = _label(node) == "VP" and _label(child) == "VP" and index == 0  # same start as its parent
            end = visit(child, left if inherit else _label(node[index - 1]) if index else "", end)
        return end

    visit(tree, "", 0)
    return found


def found_by_context(parses, gold_trees):
    """`{context: (count, percent)}`: how many of the gold trees' transitive verb phrases stand in each context, and
    the percent of them that the parses (bracketed trees) hold as a constituent (verb and object; a verb phrase that
    is the whole sentence, an imperative's, is left out: every tree holds it)."""
    counts, found = collections.Counter(), collections.Counter()
    for parse, gold in zip(parses, gold_trees):
        spans, length = tree_spans(parse)
        for context, transitive, span in verb_phrase_contexts(gold):
            if transitive and span != (0, length):  # an imperative's whole sentence is no evidence either way
                counts[context] += 1
                found[context] += span in spans
    return {context: (counts[context], 100.0 * found[context] / counts[context]) for context in counts}


def constructions(trees):
    """`{column: value}`: sentences, mean length, the percent of sentences holding each construction, and the percent
    of transitive verb phrases in each left context."""
    contexts = [verb_phrase_contexts(tree) for tree in trees]
    has = {
        "modal + VP": lambda tree: any(_label(n) == "MD" for n in tree.subtrees()),
        "VP coordination": lambda tree: any(_label(n) == "VP" and any(_label(c) == "CC" for c in n)
                                            for n in tree.subtrees()),
        "to-infinitive": lambda tree: any(_label(n) == "TO" for n in tree.subtrees()),
        "imperative": lambda tree: _label(tree[0]) == "VP",
    }
    row = {"sentences": len(trees), "mean words": f"{np.mean([len(t.leaves()) for t in trees]):.2f}"}
    for name, test in has.items():
        row[f"{name} (% sentences)"] = f"{100 * np.mean([test(tree) for tree in trees]):.1f}"
    transitive = collections.Counter(context for found in contexts for context, object_, _ in found if object_)
    total = max(sum(transitive.values()), 1)
    row["transitive VPs"] = total
    for context in ("subject", "modal", "and", "to", "start"):
        row[f"after {context} (%)"] = f"{100 * transitive[context] / total:.1f}"
    other = total - sum(transitive[c] for c in ("subject", "modal", "and", "to", "start"))
    row["other (%)"] = f"{100 * other / total:.1f}"
    return row


def left_attachments(parses, gold_trees):
    """`{"(to verb)": percent, "(... and verb)": percent}` over "to" and coordinators followed by a transitive verb
    (tags VB, VBT): of such "to" (tag TO), the percent whose parse has "to" and the verb as a constituent; of such
    coordinators (CC), the percent whose parse has a constituent that starts before the coordinator and ends with
    the verb. Gold trees have neither (`(to (verb object))`, `(and (verb object))`); a grammar that attaches each
    verb to its left neighbour has both."""
    counts, found = collections.Counter(), collections.Counter()
    for parse, gold in zip(parses, gold_trees):
        spans = tree_spans(parse)[0] | {(0, len(gold.leaves()))}
        tags = [tag for _, tag in gold.pos()] + [""]
        for index, tag in enumerate(tags[:-1]):
            if tags[index + 1] not in ("VB", "VBT"):
                continue
            if tag == "TO":
                counts["(to verb)"] += 1
                found["(to verb)"] += (index, index + 2) in spans
            elif tag == "CC":
                counts["(... and verb)"] += 1
                found["(... and verb)"] += any(end == index + 2 and start < index for start, end in spans)
    return {name: 100.0 * found[name] / counts[name] for name in counts}


def run_rows(folders):
    """`{run: {context: "percent (count)"}}`: for finished tree_latent runs on gold trees, the percent of the gold
    transitive verb phrases of each context that the run's parses hold as a constituent."""
    from keras_ae.recipes.tree_latent import load_run_data, run_flags

    rows = {}
    for folder in map(Path, folders):
        flags = run_flags(folder)
        data = load_run_data(flags)
        parses = json.loads((folder / "test_trees.json").read_text())
        if data.test_trees is None or data.test != parses["sentences"]:
            raise ValueError(f"{folder}: no gold trees, or its test sentences differ from the ones its flags give.")
        for name, trees in parses.items():
            if name != "sentences":
                found = found_by_context(trees, data.test_trees)
                rows[f"{folder.name}: {name}"] = {
                    **{context: f"{found[context][1]:.1f} ({found[context][0]})" if context in found else "-"
                       for context in ("subject", "modal", "and", "to", "start")},
                    **{name: f"{value:.1f}" for name, value in left_attachments(trees, data.test_trees).items()}}
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grammars", type=int, nargs="+", default=sorted(SYNTHETIC_GRAMMARS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--size", type=int, default=4000, help="training sentences (the recipe's --synthetic-size)")
    parser.add_argument("--max-length", type=int, default=10)
    parser.add_argument("--runs", nargs="*", default=[], help="tree_latent run folders: the percent of gold "
                        "transitive verb phrases (verb and object) each run's test parses hold, by context (count)")
    args = parser.parse_args(argv)
    rows = {}
    for grammar in args.grammars:
        for seed in args.seeds:
            trees = synthetic_treebank(args.size, args.max_length, seed=seed, grammar=grammar)
            rows[f"grammar {grammar}, seed {seed}"] = constructions(trees)
    print(format_table(rows, list(next(iter(rows.values())))))
    if args.runs:
        rows = run_rows(args.runs)
        print("\n(verb object) found, percent of the gold transitive verb phrases after each context (count), and "
              "the percent of 'to' and of coordinators attached leftwards (left_attachments):")
        print(format_table(rows, list(next(iter(rows.values())))))


if __name__ == "__main__":
    main()
