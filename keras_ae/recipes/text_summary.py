"""Text as the latent (summaries without pairs): `python -m keras_ae.recipes.text_summary [--data debian|FILE.jsonl]
[--summaries FILE.txt] ...`.

Trains the seq2seq2seq auto-encoder of Wang & Lee (2018) on documents whose code is a short word sequence: the
generator is pretrained on pseudo pairs (a document with Wang & Lee's noise, words dropped and phrases shuffled
(`--pseudo-drop` / `--pseudo-phrase`; 0 / 0: the clean document) -> its first words without stop words but those
that join phrases, "for", "and", "to", ... (`--pseudo-target connective`, the default; `content`: without any)),
then trained to let a reconstructor rebuild the document from its words while the judge of real summaries judges
them: a WGAN-GP discriminator, which has only seen real summaries never paired with these documents, and a word
language model of the same pool (`--lm-prior-weight`, 0.001; 0: the critic alone), with a KL to the pretrained
generator holding the stage near its start (`--anchor-weight`, 0.01; 0: none). These three defaults date from
session 23; `--pseudo-target content --anchor-weight 0 --lm-prior-weight 0` is the default before it. In training
every generated summary has the length of a real summary drawn from the pool (so the discriminator cannot judge by
length); the summaries scored and
exported have N words, as Lead-N (`--no-match-length`: the generator chooses, up to --summary-length). The same
pretrained generator is also trained without the judge of real summaries (reconstruction only: no critic, no
language model; with `--lm-ablation` also reconstruction with the language model alone, only the critic removed)
and on the real pairs (the supervised ceiling). The table on the test pairs: ROUGE-1/2/L F1 of Lead-N (N = the
validation summaries' median length), the first clause, the pretrained generator, reconstruction only, the full
model and the supervised ceiling; readability as perplexity under a trigram model of the validation summaries (per
scored token, the readability target's measure, and per written word); the share of outputs that copy the
document's first words. Below it, each unpaired model's perplexity minus reconstruction only's with a 5-95% interval
over 1,000 resamplings of the test documents, and the full model against the three targets (ROUGE-1 at least Lead-N
+ 5, perplexity below reconstruction only's, copies of the first words under 25%). Every unpaired stage starts from
`--seed`'s random state with batches of its own, not from what the stages before it left. The run folder gets
metrics.json (with every stage's validation curves: ROUGE-1, and the reconstruction loss from each document's own
summary, another's and none, which shows whether the reward depends on the code), samples.md (outputs beside references), figures of ROUGE-1 and discriminator accuracy over training; the
full model is exported with `summarize` and `encode` signatures. Default data: Debian's package descriptions (long
description -> synopsis).
"""

import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_ae import plots
from keras_ae.config import constructor_default, keyword_defaults
from keras_ae.core.averaging import WeightAverage
from keras_ae.core.validation import non_negative_float, non_negative_int, positive_int, probability
from keras_ae.data.summaries import (
    PSEUDO_TARGETS, build_vocabulary, lead_only_words, load_summary_data, make_pair_dataset, make_unpaired_dataset,
    pseudo_pairs, pseudo_target,
)
from keras_ae.distribute import get_strategy, is_chief
from keras_ae.evaluation.summaries import (
    RougeCurve, SummaryLanguageModel, first_clause, lead, mean_length, median_length, perplexity_differences,
    summarize, summary_row,
)
from keras_ae.layers.judges.real_text_discriminator import POOLINGS
from keras_ae.models.text_latent import CRITICS, GRADIENTS, TextLatent
from keras_ae.recipes.common import (
    RunFolder,
    auto_cluster_jit_compile,
    export_run,
    format_table,
    parse_flags,
    print_summary,
    recipe_parser,
)
from keras_ae.tensorboard import MAX_PROJECTOR_POINTS, EpochSummaries, summary_samples, write_projector

DEFAULTS = keyword_defaults(TextLatent)
PSEUDO_DEFAULTS = keyword_defaults(pseudo_pairs)
LM_DEFAULTS = keyword_defaults(TextLatent.fit_language_model)
QUICK = {"epochs": 1, "pretrain_epochs": 1, "supervised_epochs": 1, "lm_epochs": 1, "limit": 256, "batch_size": 32,
         "vocabulary_size": 500, "embedding_dim": 16, "hidden_dim": 16, "word_dim": 16, "evaluate": 64,
         "curve_documents": 32}
COLUMNS = ["rouge1", "rouge2", "rougeL", "perplexity", "perplexity_per_word", "first_words", "repeated", "words",
           "train_seconds"]
GAP_COLUMNS = ["difference", "low", "high", "words", "length", "per_word"]
BOOTSTRAP = 1000  # resamplings of the test documents behind the readability gaps' 5-95% intervals
ABLATION = "reconstruction only"  # the model without its judge of real summaries: the readability gaps' baseline
TARGET_NAMES = {"content": "first {n} content words", "connective": "first {n} words with connectives"}
SAMPLES = 4  # validation documents whose summaries go to TensorBoard every epoch
# --lm-prior-weight's default: the recipe fits the language model on the pool before the full model, which a bare
# TextLatent cannot (its lm_prior_weight stays 0); since session 23, with --pseudo-target connective and
# --anchor-weight 0.01 (docs/results/text_summary.md)
LM_PRIOR_WEIGHT = 0.001


def build_parser():
    parser = recipe_parser(
        "text_summary",
        __doc__.splitlines()[0],
        defaults={"data": "debian", "epochs": 2, "batch_size": 64, "learning_rate": 1e-3,
                  "embedding_dim": DEFAULTS["embedding_dim"], "limit": 8000,
                  # XLA auto-clustering: the same command trains the same weights (docs/results/text_summary.md,
                  # sessions 26 and 27); --no-jit-compile for TensorFlow's executor alone
                  "jit_compile": True},
    )
    parser.add_argument("--summaries", help="text file of real summaries, one a line, never paired with documents "
                                            "(replaces the pool taken from --data FILE.jsonl)")
    parser.add_argument("--max-words", type=int, default=DEFAULTS["document_length"],
                        help="longer documents keep their first words (and are counted)")
    parser.add_argument("--summary-length", type=int, default=DEFAULTS["summary_length"],
                        help="words generated at most")
    parser.add_argument("--no-match-length", dest="match_length", action="store_false",
                        default=DEFAULTS["match_length"],
                        help="let the generator choose its summaries' length (up to --summary-length) instead of "
                             "giving each the length of a real summary in training and N words (N of Lead-N) in "
                             "the summaries scored and exported")
    parser.add_argument("--vocabulary-size", type=int, default=5000, help="most frequent training words")
    parser.add_argument("--word-dim", type=int, default=DEFAULTS["word_dim"], help="word vector size")
    parser.add_argument("--hidden-dim", type=int, default=DEFAULTS["hidden_dim"], help="decoder state size")
    parser.add_argument("--adversary-weight", type=float, default=DEFAULTS["adversary_weight"],
                        help="weight of the discriminator's loss for the generator")
    parser.add_argument("--adversary-learning-rate", type=float, default=1e-4, help="the discriminator's Adam rate")
    parser.add_argument("--critic", choices=CRITICS, default=DEFAULTS["critic"],
                        help="the discriminator: convolution (n-gram features pooled over the summary) or transition "
                             "(a GRU scoring every prefix, the scores averaged up to the summary's end)")
    parser.add_argument("--critic-pooling", choices=POOLINGS, default=DEFAULTS["critic_pooling"],
                        help="how the convolutional discriminator pools its n-gram features over a summary: max (its "
                             "most telling n-grams) or mean (every position alike)")
    parser.add_argument("--gradient", choices=GRADIENTS, default=DEFAULTS["gradient"],
                        help="how the generated words' losses reach the generator (straight-through Gumbel-softmax "
                             "or self-critical REINFORCE)")
    parser.add_argument("--pseudo-weight", type=float, default=DEFAULTS["pseudo_weight"],
                        help="weight of the pseudo-pair loss kept on in the reconstruction-only and full models")
    parser.add_argument("--anchor-weight", type=non_negative_float, default=DEFAULTS["anchor_weight"],
                        help="weight of the KL between the generator's word distributions and the pretrained "
                             "generator's in the reconstruction-only and full models (0: none, the default until "
                             "session 22)")
    parser.add_argument("--lm-prior-weight", type=non_negative_float, default=LM_PRIOR_WEIGHT,
                        help="weight of the KL between the generator's word distributions and a word language model "
                             "of the critic's unpaired real summaries (trained first, then frozen), the judge of real "
                             "summaries beside the critic, in the full model (0: none, the default until session 22); "
                             "reconstruction only has neither")
    parser.add_argument("--lm-epochs", type=positive_int, default=LM_DEFAULTS["epochs"],
                        help="epochs of the language model on the pool of real summaries (with --lm-prior-weight)")
    parser.add_argument("--lm-ablation", action="store_true",
                        help="with --lm-prior-weight: also train reconstruction only with the language model (the "
                             "critic alone removed), a second ablation row beside reconstruction only")
    parser.add_argument("--block-final-stop-words", action="store_true", default=DEFAULTS["block_final_stop_words"],
                        help="no generated summary ends on a stop word ('yaml parser for'), in training and in the "
                             "summaries scored and exported: a decoding constraint at the last word")
    parser.add_argument("--average-decay", type=float, default=constructor_default(WeightAverage, "decay"),
                        help="evaluate and export the reconstruction-only and full models with a moving average of "
                             "their weights of this decay per step (default: WeightAverage's), and score their last "
                             "iterate beside it (rows '..., last iterate'); 0: the last iterate only. Since session 27 "
                             "the default: on validation the averaged full model reads better than its averaged "
                             "ablation on every seed and stage draw, the last iterate on all but one")
    parser.add_argument("--pseudo-drop", type=probability, default=PSEUDO_DEFAULTS["drop"],
                        help="share of a document's words dropped from the pretraining input (pseudo pairs)")
    parser.add_argument("--pseudo-phrase", type=non_negative_int, default=PSEUDO_DEFAULTS["phrase"],
                        help="words per phrase shuffled in the pretraining input (0: no shuffling)")
    parser.add_argument("--pseudo-target", choices=PSEUDO_TARGETS, default=PSEUDO_DEFAULTS["target"],
                        help="the pretraining target: the document's first N words without stop words but those "
                             "that join phrases, 'for', 'and', 'to', ... (connective) or without any (content, the "
                             "default until session 22)")
    parser.add_argument("--pseudo-skip-ratio", type=non_negative_float, default=0.0,
                        help="leave out of the pretraining target the words that open the training documents but that "
                             "the unpaired real summaries use at under this share of their rate there ('provides', "
                             "'contains': data.summaries.lead_only_words); 0: none")
    parser.add_argument("--pretrain-epochs", type=int, default=3, help="epochs on pseudo pairs")
    parser.add_argument("--supervised-epochs", type=int, default=2, help="epochs of the supervised ceiling")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false",
                        help="skip the reconstruction-only model")
    parser.add_argument("--no-supervised", dest="supervised", action="store_false", help="skip the ceiling")
    parser.add_argument("--evaluate", type=int, default=2000, help="test pairs scored (0: all)")
    parser.add_argument("--curve-documents", type=int, default=300,
                        help="validation pairs scored after every epoch of the full model (the ROUGE curve)")
    parser.epilog = "--epochs is the number of epochs of the reconstruction-only and the full model."
    return parser


def build_model(args, vocabulary, n, objective="paired"):
    """The recipe's `TextLatent`; unless `--no-match-length`, its greedy summaries have `n` words (N of Lead-N, the
    median real length) and in training each generated summary the length of a real one."""
    return TextLatent(
        vocabulary, objective=objective, summary_length=args.summary_length, document_length=args.max_words,
        match_length=args.match_length, output_length=min(n, args.summary_length) if args.match_length else None,
        embedding_dim=args.embedding_dim, word_dim=args.word_dim, hidden_dim=args.hidden_dim,
        adversary_weight=args.adversary_weight, critic=args.critic, critic_pooling=args.critic_pooling,
        gradient=args.gradient, pseudo_weight=args.pseudo_weight, anchor_weight=args.anchor_weight,
        lm_prior_weight=args.lm_prior_weight,
        block_final_stop_words=args.block_final_stop_words, seed=args.seed,
    )


def adam(rate):
    """The recipe's optimizer of every stage: Adam at `rate` with the gradients clipped to a global norm of 5."""
    return keras.optimizers.Adam(rate, global_clipnorm=5.0)


def fit(model, dataset, epochs, args, callbacks=(), run=None, metric_callbacks=(), steps_per_epoch=None):
    """`(history, seconds)` of `epochs` epochs of `steps_per_epoch` batches of `dataset` (None: one pass each), in
    `run` (its logs and checkpoints) or without one."""
    started = time.perf_counter()
    with warnings.catch_warnings():  # the paired objective leaves the reconstructor and the critic without gradients
        warnings.filterwarnings("ignore", message="Gradients do not exist")
        if run is not None:
            history = run.fit(model, dataset, epochs=epochs, callbacks=list(callbacks),
                              metric_callbacks=list(metric_callbacks), verbose=2, steps_per_epoch=steps_per_epoch)
        else:
            history = model.fit(dataset, epochs=epochs, callbacks=[*metric_callbacks, *callbacks], verbose=2,
                                steps_per_epoch=steps_per_epoch)
    return history.history, round(time.perf_counter() - started, 1)


def main(argv=None):
    parser = build_parser()
    args = parse_flags(parser, argv, quick=QUICK)
    auto_cluster_jit_compile(args)  # XLA for the step's numeric ops: string ops stay outside
    if args.resume:
        parser.error("--resume is not supported by text_summary: it trains several models one after another; start "
                     "a new run (a 15-minute default).")
    if args.lm_ablation and not args.lm_prior_weight:
        parser.error("--lm-ablation trains reconstruction with the language model: give it --lm-prior-weight W > 0.")
    if args.strategy == "multi_worker":
        parser.error("text_summary runs on one machine (--strategy default or mirrored); see "
                     "recipes/text_summary_gigaword.toml for a several-GPU run.")
    run = RunFolder.for_flags(args)  # refuses unsafe run and export folders before any work
    data, vocabulary, lm_source, n = prepare_data(args)
    if len(data.train_documents) < args.batch_size:
        parser.error(f"--batch-size {args.batch_size} is more than the {len(data.train_documents)} training documents: "
                     "give a smaller batch or more documents.")
    strategy = get_strategy(args.strategy)
    validation, test = data.validation, data.test
    count = args.evaluate or len(test[0])
    test_documents = test[0][:count]
    test_references = None if test[1] is None else test[1][:count]
    print(f"{data.name}: {len(data.train_documents)} training documents, {len(data.real_summaries)} real summaries "
          f"(unpaired), {len(test_documents)} test documents {'with' if test_references else 'without'} summaries; "
          f"{data.truncated} documents cut to {args.max_words} words; vocabulary {len(vocabulary)}; Lead-{n}; "
          f"{strategy.num_replicas_in_sync} replica(s)")
    lm = SummaryLanguageModel(lm_source)
    skip = pretraining_skip(data, n, args)
    rows, outputs, histories = {}, {}, {}
    if test_references is not None:
        baselines = ((f"Lead-{n}", lead(test_documents, n)), ("first clause", first_clause(test_documents)),
                     (f"{target_name(args, n, skip)} (pretraining target)",
                      [pseudo_target(d, n, args.pseudo_target, skip) for d in test_documents]))
        for name, predictions in baselines:
            outputs[name] = predictions
            rows[name] = summary_row(test_documents, predictions, test_references, lm)
    pool = data.real_summaries[:2000]
    rows["real summaries (pool)"] = {"perplexity": lm.perplexity(pool),
                                     "perplexity_per_word": lm.perplexity_per_word(pool), "words": mean_length(pool)}

    def evaluate(name, model, seconds):
        outputs[name] = summarize(model, test_documents)
        rows[name] = {**summary_row(test_documents, outputs[name], test_references, lm), "train_seconds": seconds}

    def stage_curve(critic=False, **options):
        """Validation ROUGE-1 and the code-dependence diagnostics after every epoch of a stage (and the critic's
        ranking of held-out real summaries for the full model): why a stage gains or loses shows in metrics.json."""
        documents = validation[0][: args.curve_documents]
        references = None if validation[1] is None else validation[1][: args.curve_documents]
        real = lm_source[-args.curve_documents :]  # held-out real summaries (the last ones: not the curve's pairs)
        return RougeCurve(documents, references, diagnostics=True, real_summaries=real if critic else None, **options)

    def unpaired_callbacks(critic=False):
        """`(average, metric callbacks)` of an unpaired stage: the weight average (None without one), whose weights
        the curve, the checkpoints and the evaluation see, and the curve of the last iterate (`val_raw_*`)."""
        if not args.average_decay:
            return None, [stage_curve(critic)]
        average = WeightAverage(args.average_decay)
        return average, [average, stage_curve(critic), stage_curve(critic, prefix="val_raw_", weights=average.raw)]

    prior = {}  # the language model's weights, trained once on the pool for every stage with the prior

    def unpaired_stage(stage):
        """`stage()` (a stage of the pretrained model) built from `--seed`'s random state, with the language model's
        weights when it has the prior, fitted the first time on the critic's unpaired pool alone
        (`data.real_summaries`), never on the validation or test summaries readability is scored on
        (`histories["language model"]`: its loss per epoch, nats per token); its training then starts from `--seed`'s
        random state again. So each stage starts from `--seed`'s state, as the stage benchmark's stages do
        (`benchmarks/text_summary_stages.py`), not from the state the rows trained before it left."""
        keras.utils.set_random_seed(args.seed)
        model = stage()
        if model.prior and not prior:
            histories["language model"] = {"loss": model.fit_language_model(data.real_summaries,
                                                                             epochs=args.lm_epochs)}
            prior["weights"] = model.language_model.get_weights()
            print(f"language model of the {len(data.real_summaries)} unpaired real summaries: loss per epoch "
                  f"{[round(loss, 3) for loss in histories['language model']['loss']]} nats per token")
        elif model.prior:
            model.set_language_model_weights(prior["weights"])
        keras.utils.set_random_seed(args.seed)
        return model

    def evaluate_unpaired(name, model, average, seconds):
        evaluate(name, model, seconds)
        if average is not None:
            with average.raw():
                evaluate(f"{name}, last iterate", model, seconds)

    with run:
        run.write_config()
        # 1. Pretraining on pseudo pairs
        noisy, targets = make_pseudo_pairs(data.train_documents, n, args, skip)
        with strategy.scope():
            pretrained = build_model(args, vocabulary, n)
            pretrained.compile(optimizer=adam(args.learning_rate))
        histories["pretrained"], seconds = fit(
            pretrained, make_pair_dataset(noisy, targets, args.batch_size, shuffle=True, seed=args.seed),
            args.pretrain_epochs, args, metric_callbacks=[stage_curve()])
        evaluate("pretrained only", pretrained, seconds)
        # 2. Reconstruction only, and 3. the full model, both from the pretrained generator
        pseudo = (noisy, targets) if args.pseudo_weight else None
        ablations = {ABLATION: pretrained.without_real_summary_judge} if args.ablation else {}
        if args.lm_ablation:  # the critic alone removed: the judge of real summaries is the language model
            ablations["reconstruction only + language model"] = lambda: pretrained.with_objective("reconstruction")
        for name, stage in ablations.items():
            with strategy.scope():
                reconstruction = unpaired_stage(stage)
                reconstruction.compile(optimizer=adam(args.learning_rate))
            average, callbacks = unpaired_callbacks()
            histories[name], seconds = fit_unpaired(reconstruction, data, args, pseudo, metric_callbacks=callbacks)
            evaluate_unpaired(name, reconstruction, average, pretrained_seconds(rows, seconds))
        with strategy.scope():
            model = unpaired_stage(lambda: pretrained.with_objective("unpaired"))
            model.compile(optimizers={"encoder": adam(args.learning_rate),
                                      "adversary": adam(args.adversary_learning_rate)})
        average, callbacks = unpaired_callbacks(critic=True)
        samples = EpochSummaries(run.file("tensorboard"), summary_samples(
            validation[0][:SAMPLES], None if validation[1] is None else validation[1][:SAMPLES]))
        histories["full"], seconds = fit_unpaired(model, data, args, pseudo, callbacks=[samples], run=run,
                                                  metric_callbacks=callbacks)
        evaluate_unpaired("full (unpaired)", model, average, pretrained_seconds(rows, seconds))
        # 4. The supervised ceiling: the same architecture on the training documents' own summaries
        if args.supervised and test_references is not None and all(data.train_summaries):
            with strategy.scope():
                supervised = pretrained.with_objective("paired", output_length=None)  # real pairs: it learns to end
                supervised.compile(optimizer=adam(args.learning_rate))
            histories["supervised"], seconds = fit(
                supervised, make_pair_dataset(data.train_documents, data.train_summaries, args.batch_size,
                                              shuffle=True, seed=args.seed),
                args.supervised_epochs, args, metric_callbacks=[stage_curve()])
            evaluate("supervised (ceiling)", supervised, pretrained_seconds(rows, seconds))
        gaps = readability_gaps(lm, outputs, args.seed)
        metrics = {
            "data": data.name,
            "documents": {"train": len(data.train_documents), "real_summaries": len(data.real_summaries),
                          "test": len(test_documents)},
            "truncated": data.truncated,
            "lead_n": n,
            "seed": args.seed,
            "lead_only_words": sorted(skip),  # left out of the pretraining target (--pseudo-skip-ratio)
            "epochs": {"pretrain": args.pretrain_epochs, "reconstruction_and_full": args.epochs,
                       "supervised": args.supervised_epochs},
            "parameters": model.count_params(),
            "table": rows,
            "readability_gaps": gaps,
            "targets": target_values(rows, gaps, n),
            "histories": histories,
            **{key: value for key, value in rows["full (unpaired)"].items()},
        }
        run.write_json("metrics.json", metrics)
        if is_chief():
            _write_samples(run.file("samples.md"), test_documents, test_references, outputs)
            shown = slice(0, MAX_PROJECTOR_POINTS)  # the projector: test documents' encodings with their summaries
            write_projector(run.file("tensorboard"), model.encode(tf.constant(test_documents[shown])), {
                "generated summary": outputs["full (unpaired)"][shown], "document": [d[:120] for d in test_documents[shown]],
            }, name="test documents (encoder embedding)")
            curves = {key.replace("val_", "validation_"): value for key, value in histories["full"].items()
                      if key in ("val_rouge1", "val_raw_rouge1", "val_first_words", "discriminator_accuracy",
                                 "discriminator_distance", "reconstruction_loss", "val_critic_auc",
                                 "val_critic_auc_same_length", "val_length_auc")}
            plots.history_curves(curves, run.file("full_model_curves.png"), title="full model (unpaired)")
            if data.has_pairs:
                plots.line_plot(list(rows), {"ROUGE-1": [row.get("rouge1", np.nan) for row in rows.values()]},
                                run.file("rouge.png"), title="ROUGE-1 F1 on the test pairs", ylabel="ROUGE-1")
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print_summary(run, export_path, "\n\n".join(
        [format_table(rows, COLUMNS), *([format_table(gaps, GAP_COLUMNS)] if gaps else []),
         format_target_values(metrics["targets"])]))
    return metrics


def fit_unpaired(model, data, args, pseudo=None, **options):
    """`fit` (with its `options`) of an unpaired stage: `args.epochs` epochs of the whole batches of `data`'s unpaired
    dataset (`make_unpaired_dataset`, `--seed`'s shuffle; `pseudo`: its pseudo pairs), a new one for every stage, so
    each sees the same batches. The dataset is repeated and each epoch is its next `steps` batches, so that the
    second epoch is the dataset's second shuffle, as in the stage benchmark (`.repeat()`): both train a stage on the
    same batches. Keras's own second pass over a finite dataset draws another order (docs/results/text_summary.md,
    session 23).

    Example:
        history, seconds = fit_unpaired(model, data, args, metric_callbacks=[curve])
    """
    dataset = make_unpaired_dataset(data.train_documents, data.real_summaries, args.batch_size, shuffle=True,
                                    seed=args.seed, pseudo=pseudo)
    steps = len(data.train_documents) // args.batch_size
    return fit(model, dataset.repeat(), args.epochs, args, steps_per_epoch=steps, **options)


def readability_gaps(lm, outputs, seed):
    """Each unpaired model's perplexity under the trigram model `lm` minus reconstruction only's, on the same test
    documents, with a 5-95% interval over `BOOTSTRAP` resamplings of them (`perplexity_differences`); `{}` without
    the ablation."""
    if ABLATION not in outputs:
        return {}
    compared = {name: summaries for name, summaries in outputs.items()  # reconstruction only comes first
                if name.startswith((ABLATION, "full (unpaired)"))}
    return perplexity_differences(lm, compared, BOOTSTRAP, seed)


def target_values(rows, gaps, n):
    """The full model against issue 14's three targets: ROUGE-1 over Lead-N (at least +5; `None` without test
    references), the perplexity gap to reconstruction only with its bootstrap interval (below 0: reads better;
    `None` without the ablation) and the share of summaries that copy the document's first words (below 0.25)."""
    full, lead_row = rows["full (unpaired)"], rows.get(f"Lead-{n}", {})
    gap = gaps.get(f"full (unpaired) - {ABLATION}")
    return {"rouge1_over_lead": full["rouge1"] - lead_row["rouge1"] if "rouge1" in lead_row else None,
            "perplexity_gap": None if gap is None else gap["difference"],
            "perplexity_gap_interval": None if gap is None else [gap["low"], gap["high"]],
            "first_words": full["first_words"]}


def format_target_values(values):
    """One line per target of `target_values(...)`, with whether it is met."""
    lines = ["Targets (the full model):"]
    if values["rouge1_over_lead"] is not None:
        met = "met" if values["rouge1_over_lead"] >= 5 else "missed"
        lines.append(f"  ROUGE-1 over Lead-N {values['rouge1_over_lead']:+.2f} (at least +5: {met})")
    if values["perplexity_gap"] is not None:
        (low, high), gap = values["perplexity_gap_interval"], values["perplexity_gap"]
        interval = "whole interval below 0" if high < 0 else "whole interval above 0" if low > 0 else "interval spans 0"
        met = f"{'met' if gap < 0 else 'missed'}, the {interval}"
        lines.append(f"  perplexity minus reconstruction only {gap:+.1f} ({low:+.1f}..{high:+.1f}, 5-95% over "
                     f"{BOOTSTRAP} resamplings; below 0: {met})")
    met = "met" if values["first_words"] < 0.25 else "missed"
    lines.append(f"  copies of the first words {values['first_words']:.1%} (below 25%: {met})")
    return "\n".join(lines)


def prepare_data(args):
    """`(data, vocabulary, lm_source, n)` for the flags: the `SummaryData`, the vocabulary (the global random seed is
    set first), the held-out real summaries of the language model (the validation references, or without them a
    fifth of the pool, then taken out of `data.real_summaries`) and N of Lead-N (their median length)."""
    data = load_summary_data(args.data, summaries=args.summaries, max_words=args.max_words, seed=args.seed,
                             limit=args.limit)
    keras.utils.set_random_seed(args.seed)
    vocabulary = build_vocabulary(data.train_documents + data.real_summaries, size=args.vocabulary_size)
    if data.validation[1] is not None:
        lm_source = data.validation[1]
    else:  # no held-out summaries: a fifth of the pool is held out from the discriminator for the language model
        held = len(data.real_summaries) // 5
        lm_source, data.real_summaries = data.real_summaries[:held], data.real_summaries[held:]
    return data, vocabulary, lm_source, median_length(lm_source)


def make_pseudo_pairs(documents, n, args, skip=frozenset()):
    """The pretraining pairs of `documents` (`pseudo_pairs`: targets of `n` words without the words in `skip`) with
    the flags' target and noise."""
    return pseudo_pairs(documents, length=n, seed=args.seed, drop=args.pseudo_drop, phrase=args.pseudo_phrase,
                        target=args.pseudo_target, skip=skip)


def pretraining_skip(data, n, args):
    """The words the pretraining target leaves out: `lead_only_words` of the training documents against the critic's
    unpaired pool at `--pseudo-skip-ratio` (none at 0). Reads no pair and no summary readability is scored on."""
    if not args.pseudo_skip_ratio:
        return frozenset()
    return lead_only_words(data.train_documents, data.real_summaries, n, ratio=args.pseudo_skip_ratio)


def target_name(args, n, skip):
    """The pretraining target's row name, e.g. "first 7 words with connectives, 312 lead-only words skipped"."""
    name = TARGET_NAMES[args.pseudo_target].format(n=n)
    return f"{name}, {len(skip)} lead-only words skipped" if skip else name


def pretrained_seconds(rows, seconds):
    """Training seconds of a model that started from the pretrained generator: its own plus the pretraining's."""
    return round(rows["pretrained only"]["train_seconds"] + seconds, 1)


def _write_samples(path, documents, references, outputs, count=20):
    lines = ["# Example summaries (test documents)", ""]
    for i in range(min(count, len(documents))):
        lines += [f"## {i + 1}", "", f"**document**: {documents[i]}", ""]
        if references is not None:
            lines += [f"- **reference**: {references[i]}"]
        lines += [f"- **{name}**: {predictions[i]}" for name, predictions in outputs.items()] + [""]
    from keras_ae.core.files import atomic_write_text

    atomic_write_text(path, "\n".join(lines) + "\n")


def tuning_task(args):
    """The `python -m keras_ae.recipes.tune --model text_summary` task: a `TextSummaryHyperModel` searching the
    embedding size of the generator's encoder, trained on pseudo pairs and scored by validation ROUGE-1 (default
    data: Debian's package descriptions)."""
    from keras_ae.tuning import TextSummaryHyperModel, TuningTask

    defaults = build_parser().parse_args(["--seed", str(args.seed)])
    data = load_summary_data(args.data or defaults.data, max_words=defaults.max_words,
                             limit=min(args.limit or defaults.limit, defaults.limit))
    vocabulary = build_vocabulary(data.train_documents + data.real_summaries, size=defaults.vocabulary_size)
    n = median_length(data.validation[1])
    skip = pretraining_skip(data, n, defaults)
    noisy, targets = make_pseudo_pairs(data.train_documents, n, defaults, skip)
    batch_size = args.batch_size or defaults.batch_size
    hypermodel = TextSummaryHyperModel(
        vocabulary, (data.validation[0][:300], data.validation[1][:300]), min_dim=max(args.min_dim, 8),
        max_dim=args.max_dim, learning_rate=args.learning_rate,
    )
    return TuningTask(
        hypermodel,
        make_pair_dataset(noisy, targets, batch_size, shuffle=True, seed=args.seed),
        make_pair_dataset(*make_pseudo_pairs(data.validation[0], n, defaults, skip), batch_size),
        "text_summary",
    )


if __name__ == "__main__":
    main()
