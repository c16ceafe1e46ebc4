"""Re-scores finished tree_latent runs against their gold trees: where each parser wins or loses against
right-branching trees, which grouping of transitive clauses it found, and which constituent types it recovers.

    python benchmarks/tree_report.py runs/tree_latent-*                     # one row per run and parser
    python benchmarks/tree_report.py RUN_DIR --labels NP VP PP S SBAR

Each run folder's `config.json` gives the data flags (the synthetic treebank is sampled again from its seed, a
`--test-trees` file is read again) and `test_trees.json` the parses; nothing is trained. Columns: sentence F1 with
its standard error; the paired per-sentence difference to right-branching trees with its standard error; the share of
gold transitive clauses `(S (NP subject) (VP verb (NP object) ...))` whose parse has the verb phrase, `(S (V O))`,
or the subject with the verb, `((S V) O)`, as a constituent (`keras_ae.evaluation.trees.clause_groupings`); and
the recall of gold constituents by label.
"""

import argparse
import json
from pathlib import Path

from keras_ae.data.trees import load_tree_data
from keras_ae.evaluation.trees import compare_to_right_branching
from keras_ae.recipes.common import format_table


def run_rows(folder, labels):
    """`{row name: columns}` of one run folder (its parsers and the right-branching baseline)."""
    folder = Path(folder)
    flags = json.loads((folder / "config.json").read_text())["flags"]
    parses = json.loads((folder / "test_trees.json").read_text())
    data = load_tree_data(flags["data"], gold_trees=flags["gold_trees"], max_length=flags["max_length"],
                          synthetic_size=flags["synthetic_size"], seed=flags["seed"], test_trees=flags["test_trees"])
    if data.test_trees is None:
        raise ValueError(f"{folder}: the run's data has no gold trees to score against.")
    if data.test != parses["sentences"]:
        raise ValueError(f"{folder}: its test sentences differ from the ones its flags give now; cannot re-score.")
    compared = compare_to_right_branching({k: v for k, v in parses.items() if k != "sentences"}, data.test_trees)
    rows = {}
    for name, row in compared.items():
        if name == "left-branching":
            continue
        groupings, recall = row["clause_groupings"], row["recall_by_label"]
        rows[f"{folder.name}: {name}"] = {
            "sentence F1": f"{row['sentence_f1']:.1f} +- {row['sentence_f1_se']:.1f}",
            "minus right-branching": f"{row['minus_right']:+.1f} +- {row['minus_right_se']:.1f}",
            "clauses": groupings["clauses"],
            "(verb object)": f"{groupings['verb_object']:.1f}",
            "(subject verb)": f"{groupings['subject_verb']:.1f}",
            **{label: f"{recall[label]['recall']:.1f}" if label in recall else "-" for label in labels},
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders (with config.json and test_trees.json)")
    parser.add_argument("--labels", nargs="*", default=["NP", "VP", "PP", "S"], help="gold labels whose recall to show")
    args = parser.parse_args(argv)
    rows = {}
    for folder in args.runs:
        rows.update(run_rows(folder, args.labels))
    print(format_table(rows, list(next(iter(rows.values())))))


if __name__ == "__main__":
    main()
