"""Where does a seed's ROUGE-1 margin over Lead-N come from? Precision, recall and length of saved stages' summaries.

    python benchmarks/text_summary_margin.py --pretrained FILE [--weights NAME=FILE,...] [--lengths 5,6,7,8]
        [--test] [recipe flags: --seed, ...]

Loads the pretrained model (`--pretrained`, as `benchmarks/text_summary_stages.py --pretrained` saves it) and each
named stage (`--weights`, as `text_summary_words.py` reads them: NAME a variant of `text_summary_stages.py`), and
prints for Lead-N, the pretraining target, every model and the references one row each: ROUGE-1 F1 and its
precision and recall (rouge_score's, x100), the summaries' words as ROUGE counts them (the references' and Lead-N's
too), and the margin over Lead-N. Then each model's summaries decoded at every length in `--lengths` (its
`output_length`; the recipe's is N, the median real length; training is not touched): is the margin limited by
the length the model writes? On `--curve-documents` VALIDATION pairs (what choices may be made on); `--test`: the
recipe's first `--evaluate` test pairs instead (diagnosis only).

Example (seed 2's pretrained file and the stage the recipe now trains):
    python benchmarks/text_summary_margin.py --seed 2 --pretrained /work/runs/summary13/pre_s2.weights.h5 \\
        --weights full_anchor_0.01_lm_0.001=/work/runs/summary17/s2_k2_full_anchor_0.01_lm_0.001.weights.h5
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

from keras_ae.data.summaries import pseudo_target  # noqa: E402
from keras_ae.evaluation.summaries import lead, summarize, words  # noqa: E402
from keras_ae.recipes.common import format_table  # noqa: E402
from text_summary_stages import _output_length  # noqa: E402  (beside this file)
from text_summary_words import load_stage, scored_setting  # noqa: E402  (beside this file)


def rouge1_parts(predictions, references):
    """`{"rouge1", "precision", "recall", "words"}`: mean ROUGE-1 F1, precision and recall (x100, rouge_score with
    the stemmer, as `evaluation.summaries.rouge`) of `predictions` against `references`, and their mean word count
    as ROUGE and the language model see words.

    Example:
        rouge1_parts(["yaml parser for python"], ["YAML parser and emitter for Python"])["precision"]   # 100.0
    """
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    scores = [scorer.score(reference, prediction)["rouge1"] for prediction, reference in zip(predictions, references)]
    return {"rouge1": 100 * float(np.mean([s.fmeasure for s in scores])),
            "precision": 100 * float(np.mean([s.precision for s in scores])),
            "recall": 100 * float(np.mean([s.recall for s in scores])),
            "words": float(np.mean([len(words(p)) for p in predictions]))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", required=True)
    parser.add_argument("--weights", default="", help="NAME=FILE,...: NAME a variant of text_summary_stages.py")
    parser.add_argument("--lengths", default="5,6,7,8", help="output lengths each model is also decoded at")
    parser.add_argument("--test", action="store_true", help="the recipe's test pairs instead (diagnosis only)")
    args, recipe_argv = parser.parse_known_args(argv)
    flags, data, documents, references, _, pretrained = scored_setting(recipe_argv, args.test, args.pretrained)
    n = pretrained.output_length
    models = {"pretrained": pretrained}
    for item in filter(None, args.weights.split(",")):
        name, model = load_stage(pretrained, item)
        models[name] = model
    lead_row = rouge1_parts(lead(documents, n), references)
    rows = {f"Lead-{n}": lead_row,
            f"target ({flags.pseudo_target})": rouge1_parts(
                [pseudo_target(document, n, flags.pseudo_target) for document in documents], references),
            **{name: rouge1_parts(summarize(model, documents), references) for name, model in models.items()},
            "references": {"words": float(np.mean([len(words(r)) for r in references]))}}
    for row in rows.values():
        if "rouge1" in row:
            row["over_lead"] = row["rouge1"] - lead_row["rouge1"]
    lengths = [int(length) for length in args.lengths.split(",")]
    for name, model in models.items():
        for length in lengths:
            with _output_length(model, length):
                rows[f"{name} at {length}"] = rouge1_parts(summarize(model, documents), references)
            rows[f"{name} at {length}"]["over_lead"] = rows[f"{name} at {length}"]["rouge1"] - lead_row["rouge1"]
    print(f"seed {flags.seed}, {len(documents)} {'test' if args.test else 'validation'} pairs, Lead-{n}; references' "
          f"median {int(np.median([len(r.split()) for r in references]))} words")
    print(format_table(rows, ["rouge1", "precision", "recall", "words", "over_lead"]))
    return rows


if __name__ == "__main__":
    main()
