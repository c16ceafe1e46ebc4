"""Re-scores finished tree_latent runs against their gold trees: where each parser wins or loses against
right-branching trees, which grouping of transitive clauses it found, and which constituent types it recovers.

    python benchmarks/tree_report.py runs/tree_latent-*                     # one row per run and parser
    python benchmarks/tree_report.py RUN_DIR --labels NP VP PP S SBAR
    python benchmarks/tree_report.py RUN_DIR --decoding viterbi            # re-parses with the kept checkpoint
    python benchmarks/tree_report.py RUN_A RUN_B --against BASE_A BASE_B    # paired F1 difference to other runs

Each run folder's `config.json` gives the data flags (the synthetic treebank is sampled again from its seed and
grammar version, a `--test-trees` file is read again) and `test_trees.json` the parses; nothing is trained. Columns:
sentence F1 with its standard error; the paired per-sentence difference to right-branching trees with its standard
error; the share of gold transitive clauses `(S (NP subject) (VP verb (NP object) ...))` whose parse has the verb
phrase, `(S (V O))`, or the subject with the verb, `((S V) O)`, as a constituent
(`keras_ae.evaluation.trees.clause_groupings`); and the recall of gold constituents by label; and the shape of the
trees (`keras_ae.evaluation.trees.tree_shape`): their mean depth, the share of unbalanced constituents that are
heavier on the right, their F1 against right- and left-branching trees, beside the gold trees' own, and the share of
sentences whose first split is where the gold tree's is, or after it (`top split later`); a second table
splits the right-heavy share by what each constituent is in the gold tree (the whole sentence, a gold label, or no
gold constituent), with counts; and how well each parser's preterminals match the gold part-of-speech tags
(`keras_ae.evaluation.trees.preterminal_tags`: many-to-one accuracy over all words and over verbs).
`--decoding mbr|viterbi` re-parses the test sentences with the run's main model (its selected epoch's checkpoint,
rebuilt from the flags) instead of reading its parses.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from keras_ae.evaluation.trees import (
    TreeScorer,
    compare_to_right_branching,
    preterminal_tags,
    right_branching_spans,
    sentence_f1_values,
    spans_to_tree,
    standard_error,
    tree_shape,
    tree_spans,
)
from keras_ae.layers.judges.grammar import DECODINGS
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import load_run_data, rebuild_run, run_flags


def run_rows(folder, labels, decoding=None):
    """`{row name: columns}` of one run folder (its parsers, the right-branching baseline and the gold trees)."""
    folder = Path(folder)
    flags = run_flags(folder)
    parses = json.loads((folder / "test_trees.json").read_text())
    data = load_run_data(flags)
    if data.test_trees is None:
        raise ValueError(f"{folder}: the run's data has no gold trees to score against.")
    if data.test != parses["sentences"]:
        raise ValueError(f"{folder}: its test sentences differ from the ones its flags give now; cannot re-score.")
    parsers = {k: v for k, v in parses.items() if k != "sentences"}
    if decoding is not None:  # the main model (the first parser) read again from its checkpoint
        main = next(iter(parsers))
        _, _, model = rebuild_run(folder, epoch="selected")
        parsers = {f"{main} ({decoding})": TreeScorer(model).parse(data.test, decoding)}
    compared = compare_to_right_branching(parsers, data.test_trees)
    shapes = {name: tree_shape(trees, data.test_trees) for name, trees in parsers.items()}
    shapes["right-branching"] = tree_shape(
        [spans_to_tree(right_branching_spans(len(words)), words) for words in (s.split() for s in data.test)],
        data.test_trees)
    shapes["gold"] = tree_shape(data.test_trees, data.test_trees)
    rows, by_label = {}, {}
    for name, row in [*compared.items(), ("gold", None)]:
        if name == "left-branching":
            continue
        shape = shapes[name]
        shape_columns = {"depth": f"{shape['depth']:.2f}", "right-heavy": f"{shape['right_heavy']:.1f}",
                         "F1 to RB": f"{shape['like_right']:.1f}", "F1 to LB": f"{shape['like_left']:.1f}",
                         "top split = gold": f"{shape['top_split']['same']:.1f}",
                         "top split later": f"{shape['top_split']['later']:.1f}"}
        by_label[f"{folder.name}: {name}"] = {
            label: f"{value['right_heavy']:.1f} ({value['count']})"
            for label, value in shape.get("right_heavy_by_label", {}).items()
            if label in ("sentence", "not gold", *labels)
        }
        if row is None:
            rows[f"{folder.name}: gold"] = shape_columns
            continue
        groupings, recall = row["clause_groupings"], row["recall_by_label"]
        rows[f"{folder.name}: {name}"] = {
            "sentence F1": f"{row['sentence_f1']:.1f} +- {row['sentence_f1_se']:.1f}",
            "minus right-branching": f"{row['minus_right']:+.1f} +- {row['minus_right_se']:.1f}",
            "clauses": groupings["clauses"],
            "(verb object)": f"{groupings['verb_object']:.1f}",
            "(subject verb)": f"{groupings['subject_verb']:.1f}",
            **{label: f"{recall[label]['recall']:.1f}" if label in recall else "-" for label in labels},
            **shape_columns,
            **_tag_columns(parsers.get(name), data.test_trees),
        }
    return rows, by_label


def _tag_columns(trees, gold_trees):
    """Many-to-one accuracy of a parser's preterminals on the gold tags, all words and verbs (`preterminal_tags`);
    nothing for baselines, whose trees have no preterminals."""
    if trees is None:
        return {}
    tags = preterminal_tags(trees, gold_trees)
    return {"tags m-1": f"{tags['many_to_one']:.1f}", "verbs m-1": f"{tags['verbs']:.1f}"}


def paired_difference(folder, baseline):
    """`(mean, standard error)` of the per-sentence F1 difference between the main parser (the first) of two
    finished runs on the same gold test trees: `folder`'s minus `baseline`'s, percent points."""
    parses = [json.loads((Path(f) / "test_trees.json").read_text()) for f in (folder, baseline)]
    if parses[0]["sentences"] != parses[1]["sentences"]:
        raise ValueError(f"{folder} and {baseline} parsed different test sentences; no paired difference.")
    gold = load_run_data(run_flags(folder)).test_trees
    if gold is None:
        raise ValueError(f"{folder}: the run's data has no gold trees to score against.")
    gold_spans = [tree_spans(tree)[0] for tree in gold]
    main = [next(trees for name, trees in p.items() if name != "sentences") for p in parses]  # the first parser
    values = [sentence_f1_values([tree_spans(tree)[0] for tree in trees], gold_spans) for trees in main]
    return float(np.mean(values[0] - values[1])), standard_error(values[0] - values[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders (with config.json and test_trees.json)")
    parser.add_argument("--labels", nargs="*", default=["NP", "VP", "PP", "S"], help="gold labels whose recall to show")
    parser.add_argument("--decoding", choices=DECODINGS, help="re-parse with the run's kept checkpoint and this "
                        "decoding instead of reading its parses")
    parser.add_argument("--against", nargs="*", default=[], help="one baseline run folder per run, in the same "
                        "order: adds the paired per-sentence F1 difference of each run's main parser minus the "
                        "baseline's (the same test sentences)")
    args = parser.parse_args(argv)
    if args.against and len(args.against) != len(args.runs):
        parser.error(f"--against needs one baseline run per run: {len(args.runs)} runs, {len(args.against)} given.")
    rows, by_label = {}, {}
    for index, folder in enumerate(args.runs):
        run, labelled = run_rows(folder, args.labels, args.decoding)
        if args.against:
            mean, error = paired_difference(folder, args.against[index])
            main_row = next(name for name in run if name.split(": ", 1)[1] not in ("right-branching", "gold"))
            run[main_row]["minus baseline"] = f"{mean:+.1f} +- {error:.1f} ({Path(args.against[index]).name})"
        rows.update(run)
        by_label.update(labelled)
    columns = lambda table: list(dict.fromkeys(column for row in table.values() for column in row))  # noqa: E731
    print(format_table(rows, columns(rows)))
    print("\nright-heavy percent (unbalanced constituents) by what the span is in the gold tree:")
    print(format_table(by_label, columns(by_label)))


if __name__ == "__main__":
    main()
