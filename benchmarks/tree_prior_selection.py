"""Chooses the right-edge prior R (`--right-edge-prior`, a prior for English in training) without a test set. The
runs' gold test trees are cut once into a dev half and a test half (`keras_ae.data.trees.gold_half`, a fixed rule on
each sentence's words); R is the value with the highest mean sentence F1 on the dev half over its runs (a tie: the
smaller R), and F1 is reported on the test half, and on whole other gold sets (`--held-out-trees`, on which nothing
is chosen), beside right-branching trees on the same sentences and the parses' agreement with right-branching trees.

    python benchmarks/tree_prior_selection.py runs/prior --train --priors 0 0.02 0.05 0.1 0.2 --seeds 0 1
    python benchmarks/tree_prior_selection.py runs/prior old/rep0.1_s0 old/rep0.1_s1   # runs already trained
    python benchmarks/tree_prior_selection.py runs/prior --held-out-trees benchmarks/data/other_sources_gold_trees.mrg

Folders are run folders or folders of run folders. `--train` first trains, one after another, every (R, seed) of the
grid that has no finished run `FOLDER/rep{R}_s{seed}` yet, with the recipe's command `python -m
keras_ae.recipes.tree_latent RECIPE_FLAGS --test-trees GOLD --held-out-trees HELD... --right-edge-prior R --seed S
--no-export --run-dir FOLDER/rep{R}_s{seed}` (`RECIPE_FLAGS`, or the flags after `--`: issue-15 session 17's Austen
command, 693 updates a run), so the held-out sets' sentences never reach training. Columns: runs (seeds); sentence F1
on each half, mean (min..max) over runs; how many runs are above right-branching on the test half; "like RB": the
parses' sentence F1 against right-branching trees (test half); "late split": the percent of test-half sentences
whose first split comes after the gold tree's (`tree_shape`, the late mode of docs/results/tree_latent.md). Each
held-out set is parsed from the run's kept checkpoint (`rebuild_run`). All runs must have the same gold test sentences.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from keras_ae.data.trees import gold_half, read_test_trees, tree_words
from keras_ae.evaluation.trees import TreeScorer, right_branching_spans, sentence_f1_values, tree_shape, tree_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import rebuild_run, run_flags

DATA = Path(__file__).parent / "data"
GOLD = DATA / "austen_gold_trees.mrg"
HELD_OUT = (DATA / "other_sources_gold_trees.mrg",)
RECIPE_FLAGS = ("--data", "austen", "--vocabulary-size", "2000", "--epochs", "3", "--no-lm", "--no-ablation")
HALVES = ("dev", "test")


def run_folders(paths):
    """Finished run folders (with `metrics.json`) among `paths` and their subfolders, sorted."""
    found = set()
    for path in map(Path, paths):
        found |= {path} if (path / "metrics.json").is_file() else {p.parent for p in path.glob("*/metrics.json")}
    return sorted(found)


def train_grid(folder, priors, seeds, gold, held_out, recipe_flags):
    """Trains each (R, seed) without a finished run in `folder` (the recipe, one process after another); returns the
    run folders of the grid."""
    folders = []
    for prior in priors:
        for seed in seeds:
            run = Path(folder) / f"rep{prior:g}_s{seed}"
            folders.append(run)
            if (run / "metrics.json").is_file():
                continue
            command = [sys.executable, "-m", "keras_ae.recipes.tree_latent", *recipe_flags, "--test-trees", str(gold),
                       *(["--held-out-trees", *map(str, held_out)] if held_out else []), "--right-edge-prior",
                       f"{prior:g}", "--seed", str(seed), "--no-export", "--run-dir", str(run)]
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True)
    return folders


def gold_set(path, max_length):
    """`(sentences, gold spans, right-branching spans)` of a gold file's trees of 2..`max_length` words."""
    trees = read_test_trees(path, max_length)
    sentences = [tree_words(tree) for tree in trees]
    right = [right_branching_spans(len(sentence.split())) for sentence in sentences]
    return sentences, [tree_spans(tree)[0] for tree in trees], right


def run_record(folder, held_out=()):
    """One finished run: `{"prior", "seed", "sentences", "f1", "like_rb", "later", "held_out": {name: f1}}`, each
    F1 per sentence (percent) of its main parser's trees on its gold test trees (`later`: whether the first split
    comes after the gold tree's), and on each file of `held_out` as parsed now from the kept checkpoint."""
    folder = Path(folder)
    flags = run_flags(folder)
    if not flags.test_trees:
        raise ValueError(f"{folder}: the run was not given --test-trees; there are no gold trees to cut in halves.")
    parses = json.loads((folder / "test_trees.json").read_text())
    parser = next(name for name in parses if name != "sentences")
    max_length = flags.test_max_length or flags.max_length
    sentences, gold, right = gold_set(flags.test_trees, max_length)
    if sentences != parses["sentences"]:
        raise ValueError(f"{folder}: its parsed sentences differ from its gold file's ({flags.test_trees}).")
    spans = [tree_spans(tree)[0] for tree in parses[parser]]
    gold_trees = read_test_trees(flags.test_trees, max_length)
    record = {"folder": str(folder), "prior": float(flags.right_edge_prior), "seed": flags.seed,
              "sentences": sentences, "f1": sentence_f1_values(spans, gold),
              "like_rb": sentence_f1_values(spans, right), "right": sentence_f1_values(right, gold),
              "later": np.array([tree_shape([tree], [gold_tree])["top_split"]["later"] == 100.0
                                 for tree, gold_tree in zip(parses[parser], gold_trees)]),
              "held_out": {}}
    if held_out:
        _, _, model = rebuild_run(folder, epoch="selected")
        scorer = TreeScorer(model)
        for path in held_out:
            held_sentences, held_gold, held_right = gold_set(path, max_length)
            held_spans = [tree_spans(tree)[0] for tree in scorer.parse(held_sentences)]
            record["held_out"][Path(path).stem] = (sentence_f1_values(held_spans, held_gold),
                                                   sentence_f1_values(held_right, held_gold))
    return record


def half_masks(sentences):
    """`{"dev": mask, "test": mask}` over `sentences` by `gold_half`."""
    halves = np.array([gold_half(sentence) for sentence in sentences])
    return {half: halves == half for half in HALVES}


def choose_prior(records):
    """`(R, {R: mean dev-half F1}, seeds)`: the R whose runs have the highest mean sentence F1 on the dev half (ties:
    the smaller R), over the seeds that every R has (runs of one seed share their data and batch order, so the
    comparison is paired); the other runs are reported, not chosen by."""
    seeds_by_prior = {}
    for record in records:
        seeds_by_prior.setdefault(record["prior"], set()).add(record["seed"])
    shared = set.intersection(*seeds_by_prior.values())
    if not shared:
        seeds = {prior: sorted(seeds) for prior, seeds in sorted(seeds_by_prior.items())}
        raise ValueError(f"No seed was run with every R (seeds by R: {seeds}); train each R on the same seeds "
                         "(--train --seeds ...).")
    means = {}
    for record in records:
        if record["seed"] in shared:
            dev = half_masks(record["sentences"])["dev"]
            means.setdefault(record["prior"], []).append(float(record["f1"][dev].mean()))
    means = {prior: float(np.mean(values)) for prior, values in sorted(means.items())}
    return max(means, key=lambda prior: (round(means[prior], 9), -prior)), means, sorted(shared)


def _spread(values):
    return f"{np.mean(values):.1f} ({min(values):.1f}..{max(values):.1f})"


def prior_rows(records):
    """`{R: columns}`: per R over its runs, F1 on each half and on each held-out set, runs above right-branching,
    agreement with right-branching and late splits on the test half."""
    rows = {}
    for prior in sorted({record["prior"] for record in records}):
        group = [record for record in records if record["prior"] == prior]
        masks = [half_masks(record["sentences"]) for record in group]
        test = [float(r["f1"][m["test"]].mean()) for r, m in zip(group, masks)]
        right = float(group[0]["right"][masks[0]["test"]].mean())
        row = {"runs (seeds)": f"{len(group)} ({' '.join(str(r['seed']) for r in sorted(group, key=_seed))})",
               "dev F1": _spread([float(r["f1"][m["dev"]].mean()) for r, m in zip(group, masks)]),
               "test F1": _spread(test), "test > RB": f"{sum(value > right for value in test)} of {len(group)}",
               "like RB (test)": _spread([float(r["like_rb"][m["test"]].mean()) for r, m in zip(group, masks)]),
               "late split (test)": _spread([100.0 * float(r["later"][m["test"]].mean())
                                             for r, m in zip(group, masks)])}
        for name in group[0]["held_out"]:
            held = [float(r["held_out"][name][0].mean()) for r in group]
            held_right = float(group[0]["held_out"][name][1].mean())
            row[name] = _spread(held)
            row[f"{name} > RB"] = f"{sum(value > held_right for value in held)} of {len(group)}"
        rows[f"R = {prior:g}"] = row
    return rows


def _seed(record):
    return record["seed"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="run folders, or folders of run folders (with --train: the first "
                        "is where the grid's runs go)")
    parser.add_argument("--train", action="store_true", help="first train the grid's missing runs")
    parser.add_argument("--priors", type=float, nargs="+", default=[0.0, 0.02, 0.05, 0.1, 0.2], help="R grid (--train)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds per R (--train)")
    parser.add_argument("--gold-trees", default=str(GOLD), help="the runs' --test-trees, cut into halves (--train)")
    parser.add_argument("--held-out-trees", nargs="*", default=[str(path) for path in HELD_OUT], metavar="FILE",
                        help="whole gold sets to report on (none: skip re-parsing)")
    parser.epilog = f"After --: the recipe's other flags for --train (default: {' '.join(RECIPE_FLAGS)})."
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    if any(prior < 0 for prior in args.priors):
        parser.error(f"--priors must be 0 or more; got {args.priors}.")
    recipe_flags = argv[cut + 1:] or list(RECIPE_FLAGS)
    if args.train:
        train_grid(args.folders[0], args.priors, args.seeds, args.gold_trees, args.held_out_trees, recipe_flags)
    folders = run_folders(args.folders)
    if not folders:
        parser.error(f"no finished run folder (with metrics.json) in {args.folders}.")
    records = [run_record(folder, args.held_out_trees) for folder in folders]
    if len({tuple(record["sentences"]) for record in records}) > 1:
        raise ValueError("The runs were scored on different gold test sentences; give runs of one gold set.")
    masks = half_masks(records[0]["sentences"])
    chosen, dev_means, shared = choose_prior(records)
    print(f"gold test sentences: {len(records[0]['sentences'])} (dev half {masks['dev'].sum()}, test half "
          f"{masks['test'].sum()}); right-branching: dev {records[0]['right'][masks['dev']].mean():.1f}, test "
          f"{records[0]['right'][masks['test']].mean():.1f}"
          + "".join(f", {name} {values[1].mean():.1f}" for name, values in records[0]["held_out"].items()))
    runs = {f"{Path(r['folder']).name}": {"R": f"{r['prior']:g}", "seed": r["seed"],
                                          **{f"{half} F1": f"{r['f1'][masks[half]].mean():.1f}" for half in HALVES},
                                          **{name: f"{values[0].mean():.1f}" for name, values in r["held_out"].items()}}
            for r in sorted(records, key=lambda r: (r["prior"], r["seed"]))}
    print(format_table(runs, list(next(iter(runs.values())))))
    rows = prior_rows(records)
    print("\n" + format_table(rows, list(next(iter(rows.values())))))
    print(f"\nchosen on the dev half: R = {chosen:g} (mean dev F1 over seeds {' '.join(map(str, shared))}: "
          + ", ".join(f"{prior:g}: {mean:.2f}" for prior, mean in dev_means.items()) + ")")
    return {"chosen": chosen, "dev_means": dev_means, "seeds": shared, "rows": rows}


if __name__ == "__main__":
    main()
