"""What the subject-verb grouping of the late mode buys: which (subject verb) pairs finished tree_latent runs put in
one constituent, where their validation loss differs, and how much a wrong verb form after a subject costs them.

    python benchmarks/tree_subject_verb.py RUN_DIR...              # the three tables, runs split by mode
    python benchmarks/tree_subject_verb.py RUN_DIR... --no-loss    # the parses only (nothing rebuilt)
    python benchmarks/tree_subject_verb.py RUN_DIR... --cache-dir DIR  # per-sentence losses kept for the next call

A run is late when at least `--late-mode` percent of its test sentences split after the gold tree's first split
(`keras_ae.evaluation.trees.tree_shape`, as `benchmarks/tree_selection.py`). Tables:
1. *Groupings*, from the runs' test parses (`test_trees.json`) against the gold trees: for every gold clause `(S ...
   (NP subject) (VP verb ...))` the share whose parse holds `(subject verb)` as a constituent and the share that holds
   the verb phrase, or the verb phrase or the whole clause cut short before the verb phrase's end (`grouping_counts`),
   by the kind of subject (a personal pronoun, another one-word NP, a longer NP) and of verb (an auxiliary: a form of
   be, have, do or a modal; or another verb).
2. *Loss by opening*, on the validation sentences (the run's own split; nothing here was trained on): each run's mean
   per-sentence validation loss (`-log p(x | mean z) + KL`, the loss `history.csv` records), by how the sentence
   opens: a personal pronoun followed by a verb form of `AGREEING` ("I am", "she was"), another personal pronoun
   opening, a determiner or possessive opening ("the", "his"), anything else; and by length. With both modes
   present, the late runs' mean minus the early runs', per sentence (standard error over sentences) and per word.
3. *Agreement*, on minimal pairs made from the validation sentences: where a personal pronoun (or a determiner and one
   more word) is followed by a form in `AGREEING`, the form is swapped for its disagreeing partner ("I am" -> "I is",
   "they were" -> "they was") and the loss of the changed sentence minus the original's is the price the run puts on
   the wrong agreement (per sentence, then averaged); the frequency of the swapped word is the same for every run, so
   the modes are compared on the same pairs.
4. *Test sentences* (with both modes present): the late runs' mean per-sentence loss minus the early runs', on the
   test sentences most late runs split after the gold tree's first split and on the others: whether the late
   mode's likelihood advantage sits where it parses differently.
Nothing is trained; the runs' checkpoints of their kept epoch are rebuilt with `rebuild_run`. Every run must have
been trained on the same data (the validation split is read from the first run's flags and checked against the others').
"""

import argparse
import json
from pathlib import Path

import numpy as np
from nltk import Tree

from keras_ae.evaluation.trees import standard_error, subject_clauses, tree_shape, tree_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import load_run_data, rebuild_run, run_flags

PRONOUNS = {"i", "you", "he", "she", "it", "we", "they"}
DETERMINERS = {"the", "a", "an", "my", "his", "her", "your", "our", "their", "this", "that", "these", "those", "no",
               "every", "some", "any"}
AUXILIARIES = {"am", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "having", "do", "does",
               "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must"}
AGREEING = {"am": "is", "is": "are", "are": "is", "was": "were", "were": "was", "has": "have", "have": "has",
            "does": "do", "do": "does"}  # a verb form -> the form of the same verb and tense that disagrees
OPENINGS = ["pronoun + be/have/do", "pronoun + other", "determiner", "other"]
LATE_MODE = 40.0


def as_tree(tree):
    return tree if isinstance(tree, Tree) else Tree.fromstring(tree)


def subject_verb_pairs(gold):
    """`[(subject_start, verb_position, subject_kind, verb_kind, vp_end)]` for every `(S ... (NP) (VP) ...)` of a
    gold tree (an `nltk.Tree` or bracket string): the NP right before the VP is the subject; the verb is the VP's
    first word."""
    pairs = []
    for subject, first, vp, verb in subject_clauses(gold):
        words = [word.lower() for word in subject.leaves()]
        kind = ("pronoun" if words[0] in PRONOUNS else "one word") if len(words) == 1 else "longer NP"
        verb_kind = "auxiliary" if vp.leaves()[0].lower() in AUXILIARIES else "other verb"
        pairs.append((first, verb, kind, verb_kind, verb + len(vp.leaves())))
    return pairs


def grouping_counts(parses, gold_trees):
    """`{(subject kind, verb kind): [clauses, (subject verb) grouped, verb phrase found, verb phrase cut short,
    clause cut short]}` over the test sentences. Cut short: a constituent that starts where the gold verb phrase
    (or, for the clause, its subject) starts and ends inside the verb phrase, after the verb's first following word:
    `(she (saw him) (at home))` cuts `(saw him at home)`, `((she saw him) (at home))` cuts the clause."""
    counts = {}
    for parse, gold in zip(parses, gold_trees):
        spans = tree_spans(parse)[0]
        length = len(as_tree(gold).leaves())
        found = lambda span: span in spans or span == (0, length)  # noqa: E731 (the sentence is always a span)
        for subject, verb, subject_kind, verb_kind, vp_end in subject_verb_pairs(gold):
            row = counts.setdefault((subject_kind, verb_kind), [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += found((subject, verb + 1))
            row[2] += found((verb, vp_end))
            row[3] += any(found((verb, end)) for end in range(verb + 2, vp_end))
            row[4] += any(found((subject, end)) for end in range(verb + 2, vp_end))
    return counts


def opening(words):
    """How a sentence (lower-cased words) opens: `pronoun + agreeing form`, `pronoun`, `determiner` or `other`."""
    if words[0] in PRONOUNS:
        return "pronoun + be/have/do" if len(words) > 1 and words[1] in AGREEING else "pronoun + other"
    return "determiner" if words[0] in DETERMINERS else "other"


def minimal_pair(words, vocabulary):
    """`(kind, changed words)` for the first subject followed by an `AGREEING` form (`kind`: "pronoun" or "full NP":
    a determiner and one word), or None; both forms must be in the run's vocabulary."""
    for position in range(1, len(words)):
        form = words[position]
        if form not in AGREEING or AGREEING[form] not in vocabulary or form not in vocabulary:
            continue
        changed = words[:position] + [AGREEING[form]] + words[position + 1:]
        if words[position - 1] in PRONOUNS:
            return "pronoun", changed
        if position >= 2 and words[position - 2] in DETERMINERS and words[position - 1] not in PRONOUNS | DETERMINERS:
            return "full NP", changed
    return None


def sentence_losses(model, sentences, batch_size=128):
    """Per-sentence validation loss `-log p(x | mean z) + KL`. `history.csv`'s `val_loss` is the mean of these over
    each batch of 32, then over batches (checked on two runs to 1e-3), so it weights the short last batch more: the
    plain mean here is 0.07-0.08 nats below it on Austen's 973 validation sentences."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def losses(batch):
        z, bottleneck_losses, _ = model.forward(batch)
        return -model.grammar.log_likelihood(batch, z) + bottleneck_losses.get("kl_loss", 0.0)

    return np.concatenate([losses(tf.constant(sentences[start:start + batch_size])).numpy()
                           for start in range(0, len(sentences), batch_size)])


def run_losses(folder, sentences, words, test_sentences, cache_dir=None):
    """`{"loss": validation losses, "test loss": test losses, "pairs": {"pronoun": [...], "full NP": [...]}}` of
    one run's kept checkpoint (loss differences of the minimal pairs); read from / written to `cache_dir` if given."""
    cache = Path(cache_dir) / (str(Path(folder).resolve()).strip("/").replace("/", "_") + ".npz") if cache_dir else None
    if cache and cache.is_file():
        stored = np.load(cache)
        return {"loss": stored["loss"], "test loss": stored["test_loss"],
                "pairs": {"pronoun": stored["pronoun"], "full NP": stored["full_np"]}}
    _, run_data, model = rebuild_run(folder, epoch="selected")
    if list(run_data.validation) != sentences:
        raise ValueError(f"{folder}: its validation sentences differ from the first run's; compare runs of one data set.")
    vocabulary = set(model.vocabulary)
    pairs = [(i, *pair) for i, sentence in enumerate(words) if (pair := minimal_pair(sentence, vocabulary))]
    loss = sentence_losses(model, sentences)
    changed = sentence_losses(model, [" ".join(pair[2]) for pair in pairs])
    differences = {"pronoun": [], "full NP": []}
    for (index, kind, _), value in zip(pairs, changed):
        differences[kind].append(value - loss[index])
    result = {"loss": loss, "test loss": sentence_losses(model, test_sentences),
              "pairs": {kind: np.array(values) for kind, values in differences.items()}}
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, loss=result["loss"], test_loss=result["test loss"], pronoun=result["pairs"]["pronoun"],
                 full_np=result["pairs"]["full NP"])
    return result


def table(rows):
    """`format_table` with the columns of the rows, in order of first appearance."""
    return format_table(rows, list(dict.fromkeys(column for columns in rows.values() for column in columns)))


def run_mode(folder, data, late_mode):
    parses = json.loads((Path(folder) / "test_trees.json").read_text())
    main_parser = next(name for name in parses if name != "sentences")
    share = tree_shape(parses[main_parser], data.test_trees)["top_split"]["later"]
    return parses[main_parser], share, "late" if share >= late_mode else "early"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--late-mode", type=float, default=LATE_MODE, help="percent of later first splits")
    parser.add_argument("--no-loss", action="store_true", help="the groupings table only (no model is rebuilt)")
    parser.add_argument("--cache-dir", help="keep each run's per-sentence losses here (.npz) and read them next time")
    args = parser.parse_args()

    data = load_run_data(run_flags(args.runs[0]))
    runs = {}
    for folder in args.runs:
        parses, share, mode = run_mode(folder, data, args.late_mode)
        runs[folder] = {"parses": parses, "late split": share, "mode": mode,
                        "groupings": grouping_counts(parses, data.test_trees)}
    modes = sorted({run["mode"] for run in runs.values()})

    kinds = sorted({kind for run in runs.values() for kind in run["groupings"]})
    rows = {}
    for kind in kinds:
        clauses = next(run["groupings"][kind][0] for run in runs.values() if kind in run["groupings"])
        columns = {"clauses": str(clauses)}
        for mode in modes:
            members = [run["groupings"].get(kind, [1, 0, 0, 0, 0]) for run in runs.values() if run["mode"] == mode]
            for index, name in enumerate(["(S V)", "VP", "VP cut", "clause cut"], start=1):
                label = f"{mode} ({len(members)}): {name}" if index == 1 else f"{mode}: {name}"
                columns[label] = f"{100 * np.mean([g[index] / g[0] for g in members]):.0f}%"
        rows[" / ".join(kind)] = columns
    print("Test clauses (S (NP subject) (VP verb ...)): share parsed with (subject verb), with the VP, with the VP or "
          "the clause cut short; mean over runs")
    print(table(rows))
    if args.no_loss:
        return

    sentences = list(data.validation)
    words = [sentence.lower().split() for sentence in sentences]
    openings = np.array([opening(sentence) for sentence in words])
    for folder, run in runs.items():
        run.update(run_losses(folder, sentences, words, list(data.test), args.cache_dir))
        print(f"{folder}: {run['mode']} (late split {run['late split']:.1f}%), validation loss {run['loss'].mean():.3f}",
              flush=True)

    rows = {}
    lengths = np.array([len(sentence) for sentence in words])
    groups = {"all": lengths > 0, **{kind: openings == kind for kind in OPENINGS},
              "2-4 words": lengths <= 4, "5-7 words": (lengths >= 5) & (lengths <= 7), "8-10 words": lengths >= 8}
    for kind, mask in groups.items():
        columns = {"sentences": str(int(mask.sum()))}
        for mode in modes:
            means = [run["loss"][mask].mean() for run in runs.values() if run["mode"] == mode]
            columns[f"{mode} ({len(means)})"] = f"{np.mean(means):.3f}"
        if len(modes) == 2:
            by_mode = {mode: np.mean([run["loss"][mask] for run in runs.values() if run["mode"] == mode], axis=0)
                       for mode in modes}
            difference = by_mode["late"] - by_mode["early"]
            columns["late - early (SE)"] = f"{difference.mean():+.3f} ({standard_error(difference):.3f})"
            columns["per word"] = f"{difference.sum() / sum(len(w) for w, m in zip(words, mask) if m):+.4f}"
        rows[kind] = columns
    print("\nValidation loss (nats per sentence) by opening and length, mean over the runs of each mode")
    print(table(rows))

    rows = {}
    for folder, run in runs.items():
        rows[Path(folder).name] = {"mode": run["mode"], "late split": f"{run['late split']:.1f}%",
                                   **{f"{kind} ({len(values)})": f"{np.mean(values):+.2f} ({standard_error(values):.2f})"
                                      for kind, values in run["pairs"].items()}}
    for mode in modes:
        members = [run for run in runs.values() if run["mode"] == mode]
        rows[f"mean, {mode}"] = {"mode": mode, "late split": f"{np.mean([r['late split'] for r in members]):.1f}%",
                                 **{f"{kind} ({len(values)})": f"{np.mean([np.mean(r['pairs'][kind]) for r in members]):+.2f}"
                                    for kind, values in members[0]["pairs"].items()}}
    print("\nPrice of a wrong verb form (loss of the changed sentence minus the original's, nats; SE over pairs)")
    print(table(rows))
    if len(modes) == 2:
        print("\nTest sentences: loss of the late runs minus the early runs', by where the late runs split them")
        print(table(test_split_rows(runs, data)))


def test_split_rows(runs, data):
    """Rows of the test-sentence table: sentences most late runs split after the gold tree's first split, the
    others, and those with a personal pronoun subject (the first word), with the late-minus-early loss difference."""
    late_runs = [run for run in runs.values() if run["mode"] == "late"]
    early_runs = [run for run in runs.values() if run["mode"] == "early"]
    later = np.array([np.mean([tree_shape([run["parses"][i]], [gold])["top_split"]["later"] > 0 for run in late_runs])
                      for i, gold in enumerate(data.test_trees)])
    difference = (np.mean([run["test loss"] for run in late_runs], axis=0)
                  - np.mean([run["test loss"] for run in early_runs], axis=0))
    pronoun = np.array([sentence.split()[0].lower() in PRONOUNS for sentence in data.test])
    groups = {"all": later >= 0, "split later than gold by most late runs": later > 0.5,
              "split at or before gold's by most late runs": later <= 0.5,
              "pronoun first": pronoun, "other first word": ~pronoun}
    return {name: {"sentences": str(int(mask.sum())),
                   "late - early (SE)": f"{difference[mask].mean():+.3f} ({standard_error(difference[mask]):.3f})"}
            for name, mask in groups.items()}


if __name__ == "__main__":
    main()
