"""What does tracing the greedy decoder at every validation point cost text_summary? Seconds per point, before and after.

    python benchmarks/summarize_tracing.py [--points 3] [--pretrained FILE] [recipe flags: --seed, --limit, --quick, ...]

Builds the recipe's model for the flags (untrained, or with the weights of `--pretrained`: the greedy decoder always
writes `summary_length` steps, so its cost does not depend on the weights) and scores it as the recipe does after
every epoch of a stage: `RougeCurve(diagnostics=True)` on `--curve-documents` validation pairs with the critic's
ranking of held-out real summaries (the full model's curve), `--points` times in a row as over a stage's epochs;
then the greedy summaries of the `--evaluate` test documents (a table row). Two ways, in this order:

    traced per call   what `evaluation.summaries` did until session 11: a new `tf.function(model.summarize)` at every
                      call (traced again for every batch shape, e.g. 256 and 44 of 300 documents), and the
                      diagnostics' greedy words decoded eagerly
    cached            `evaluation.summaries.graph_function`: one trace per model and configuration, reused

Prints one row per way (seconds of the first point, the mean of the later ones, the test summaries) and checks that
both ways give the same summaries and diagnostics.
"""

import argparse
import os
import time
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.evaluation import summaries  # noqa: E402
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402


def traced_per_call(model, method):
    """`evaluation.summaries.graph_function` as it was before the cache: `summarize` traced anew at every call,
    anything else (the greedy words of the diagnostics) eager."""
    return tf.function(model.summarize) if method == "summarize" else getattr(model, method)


def measure(model, curve, test_documents, points):
    """`(row, scores, summaries)`: seconds of the first validation point, the mean of the later ones and of the test
    summaries, beside the last point's scores and the test summaries."""
    seconds = []
    for _ in range(points):
        started = time.perf_counter()
        scores = curve.scores()
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    outputs = summaries.summarize(model, test_documents)
    test_seconds = time.perf_counter() - started
    row = {"first_point_s": seconds[0], "later_points_s": float(np.mean(seconds[1:])) if points > 1 else np.nan,
           "test_summaries_s": test_seconds}
    return row, scores, outputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=3, help="validation points scored in a row (a stage's epochs)")
    parser.add_argument("--pretrained", help="weights file of the recipe's model (e.g. text_summary_stages.py's)")
    args, recipe_argv = parser.parse_known_args(argv)
    flags = parse_flags(text_summary.build_parser(), recipe_argv, quick=text_summary.QUICK)
    data, vocabulary, lm_source, n = text_summary.prepare_data(flags)
    model = text_summary.build_model(flags, vocabulary, n)  # as the pretraining stage builds it
    model.summarize(tf.constant(data.validation[0][:2]))  # builds the model: neither way pays for that
    if args.pretrained:
        model.load_weights(args.pretrained)
    model = model.with_objective("unpaired")  # the full model, whose curve ranks real summaries too
    model.summarize(tf.constant(data.validation[0][:2]))
    documents, references = (part[: flags.curve_documents] for part in data.validation)
    curve = summaries.RougeCurve(documents, references, diagnostics=True,
                                 real_summaries=lm_source[-flags.curve_documents :])
    curve.set_model(model)
    test_documents = data.test[0][: flags.evaluate or None]
    rows, results = {}, {}
    with mock.patch.object(summaries, "graph_function", traced_per_call):
        rows["traced per call"], *results["before"] = measure(model, curve, test_documents, args.points)
    rows["cached"], *results["after"] = measure(model, curve, test_documents, args.points)
    (before, before_outputs), (after, after_outputs) = results["before"], results["after"]
    differences = {name: abs(before[name] - after[name]) for name in before
                   if not (np.isnan(before[name]) and np.isnan(after[name]))}
    print(f"seed {flags.seed}, Lead-{n}, {len(documents)} validation pairs per point, {len(test_documents)} test "
          f"documents; summaries the same both ways: validation {before['rouge1'] == after['rouge1']}, test "
          f"{before_outputs == after_outputs} ({sum(a != b for a, b in zip(before_outputs, after_outputs))} differ); "
          f"largest difference of a diagnostic: {max(differences.values()):.2g} "
          f"({max(differences, key=differences.get)})")
    print(format_table(rows, ["first_point_s", "later_points_s", "test_summaries_s"]))
    return rows


if __name__ == "__main__":
    main()
