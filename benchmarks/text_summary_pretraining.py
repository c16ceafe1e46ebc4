"""Is text_summary's pretraining on pseudo pairs converged? The pretrained generator's validation curve per epoch.

    python benchmarks/text_summary_pretraining.py [--save-at 3,8 --save-prefix /tmp/ts_s0] [--average 0.99]
        [recipe flags: --seed, --pretrain-epochs 8, --learning-rate, --pseudo-drop, --pseudo-phrase, ...]

Pretrains the generator on pseudo pairs as the recipe does (same data, seed, noise, batches and optimizer) for
`--pretrain-epochs` epochs (with `--average D`, the weight average, its last iterate `val_raw_*` beside it) and
after every epoch scores `--curve-documents` VALIDATION pairs (never the test pairs):
ROUGE-1 against the references (`val_rouge1`), against the pretraining target (`--pseudo-target`; the first N
words with connectives by default; `val_target_rouge1`), the summaries' perplexity under a trigram model of the critic's
unpaired pool of real summaries (`val_perplexity`) and the generator's teacher-forced loss on the validation
documents' pseudo pairs (`val_pseudo_loss`, the same noise). The recipe's rate is constant, so the first E epochs of
a longer run are the recipe's E-epoch pretraining: `--save-at 3` saves the recipe's pretrained weights
(`{prefix}_epoch3.weights.h5`), which `benchmarks/text_summary_stages.py --pretrained FILE` loads.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_ae.core.averaging import WeightAverage  # noqa: E402
from keras_ae.data.summaries import make_pair_dataset, pseudo_target  # noqa: E402
from keras_ae.evaluation.summaries import RougeCurve, SummaryLanguageModel, rouge, summarize  # noqa: E402
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402

COLUMNS = ["epoch", "val_rouge1", "val_target_rouge1", "val_perplexity", "val_words", "loss", "val_pseudo_loss",
           "val_raw_rouge1", "val_raw_perplexity", "seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save-at", default="", help="comma-separated epochs after which to save the weights")
    parser.add_argument("--save-prefix", default=None, help="weights files are {prefix}_epoch{E}.weights.h5")
    parser.add_argument("--average", type=float, default=0.0,
                        help="pretrain with a weight average of this decay per step (e.g. 0.99): score and save it, "
                             "and score the last iterate beside it (val_raw_*); 0 (default): the last iterate only")
    args, recipe_argv = parser.parse_known_args(argv)
    save_at = {int(epoch) for epoch in args.save_at.split(",") if epoch}
    if save_at and not args.save_prefix:
        parser.error("--save-at needs --save-prefix")
    flags = parse_flags(text_summary.build_parser(), recipe_argv, quick=text_summary.QUICK)
    data, vocabulary, _, n = text_summary.prepare_data(flags)
    documents, references = (part[: flags.curve_documents] for part in data.validation)
    targets = [pseudo_target(document, n, flags.pseudo_target) for document in documents]
    pool_lm = SummaryLanguageModel(data.real_summaries)  # the critic's unpaired pool: no validation reference in it
    model = text_summary.build_model(flags, vocabulary, n)
    model.compile(optimizer=text_summary.adam(flags.learning_rate))
    validation_pairs = make_pair_dataset(*text_summary.make_pseudo_pairs(documents, n, flags), flags.batch_size)
    started = time.perf_counter()

    def score(epoch, logs):
        summaries = summarize(model, documents)
        logs.update(val_target_rouge1=rouge(summaries, targets)["rouge1"],
                    val_pseudo_loss=model.evaluate(validation_pairs, verbose=0, return_dict=True)["summary_loss"],
                    seconds=round(time.perf_counter() - started))
        if epoch + 1 in save_at:
            model.save_weights(f"{args.save_prefix}_epoch{epoch + 1}.weights.h5")
        print(epoch + 1, {key: round(float(value), 3) for key, value in logs.items()}, flush=True)

    curves = [RougeCurve(documents, references, language_model=pool_lm)]
    if args.average:  # the average is scored (and saved); its last iterate beside it (`val_raw_*`)
        average = WeightAverage(args.average)
        curves = [average, *curves,
                  RougeCurve(documents, references, language_model=pool_lm, prefix="val_raw_", weights=average.raw)]
    history = text_summary.fit(model, make_pair_dataset(*text_summary.make_pseudo_pairs(data.train_documents, n, flags),
                                                        flags.batch_size, shuffle=True, seed=flags.seed),
                               flags.pretrain_epochs, flags,
                               metric_callbacks=[*curves, keras.callbacks.LambdaCallback(on_epoch_end=score)])[0]
    rows = {f"epoch {index + 1}": {"epoch": index + 1, **{key: values[index] for key, values in history.items()}}
            for index in range(len(history["loss"]))}
    print(f"seed {flags.seed}, {len(data.train_documents)} training documents, {len(documents)} validation pairs, "
          f"Lead-{n}, learning rate {flags.learning_rate}, drop {flags.pseudo_drop}, phrase {flags.pseudo_phrase}")
    print(format_table(rows, COLUMNS))
    return rows


if __name__ == "__main__":
    main()
