"""Why do the unpaired stages of text_summary lose what pretraining gave? Curves of every stage on validation pairs.

    python benchmarks/text_summary_stages.py [--variants full,reconstruction,...] [--steps 250] [--every 50]
        [--pretrained /tmp/ts_pretrained.weights.h5] [--stage-seed K] [recipe flags: --seed, --limit, --quick, ...]

Pretrains the generator on pseudo pairs once as the recipe does (or loads those weights from `--pretrained` if the
file exists, and saves them there otherwise), then trains each variant of the unpaired stage from it for `--steps`
steps, and every `--every` steps (and at step 0) scores `--curve-documents` VALIDATION pairs (never the test
pairs): ROUGE-1, repeated words, the reconstructor's loss from each document's own greedy summary, from another
document's and from the empty summary (`evaluation.summaries.code_dependence`), and the critic's ranking of held-out
real summaries above the generated ones (`critic_auc`; full models only), and two scores that read no reference
or held-out summary: the summaries' perplexity under a trigram model of the critic's unpaired pool of real summaries
(`val_perplexity`), the critic's mean score of them (`val_critic_generated`) and their ROUGE-1 against the
pretraining target (`--pseudo-target`; by default, since session 23, the document's first N words with connectives;
`val_target_rouge1`); and ROUGE-1 on each half of the validation pairs (`val_rouge1_half1`, `val_rouge1_half2`).
With `--average DECAY` (default: the recipe's `--average-decay`; 0: off) each point scores the exponential moving
average of the weights (`core.averaging.WeightAverage`, as the recipe then evaluates and exports) and, as
`val_raw_*`, the last iterate of the same training. Prints one table row per point, and SHA-256 digests of the
data, the pretrained weights and each variant's last weights (`digest`), so that two runs can be compared by their
logs: the same start, the same run bit for bit. `--stage-seed K` trains the stages from the same data and
pretrained weights with another random state (the order of the batches, the Gumbel noise, the word dropout, the
critic's penalty): how much of a difference between two variants is the stage's own chance?

Variants (name: objective and changes to the model or the stage):
    reconstruction     reconstruction only (straight-through Gumbel)
    full               reconstruction + WGAN-GP critic, as the recipe trained it until session 22 (no anchor, no
                       language model: a variant has those its name says, whatever the recipe's flags)
    full_slow          the same with the generator's learning rate 10 times lower
    full_dropout75     the reconstructor's word dropout 0.75 instead of 0.5 (it must read the code more)
    full_critic5       5 critic updates per generator update
    full_pseudo        the pseudo-pair loss kept on beside the unpaired losses (pseudo_weight 1)
    full_self_critical REINFORCE with a greedy baseline instead of straight-through Gumbel
    full_self_critical_pseudo  both of the last two
    reconstruction_pseudo      reconstruction only, with the pseudo-pair loss kept on
    reconstruction_dropout75   reconstruction only, the reconstructor's word dropout 0.75
    full_free_length   the full model choosing its own length (`--no-match-length` of the recipe), from the same
                       pretrained weights as the recipe's length-matched default
    reconstruction_free_length reconstruction only, the same
    full_critic_weight_W  the full model with the critic's weight for the generator (`adversary_weight`) W instead
                       of 1, W in 0.3, 3, 10 (reconstruction only is W = 0): which of the two losses moves ROUGE-1
    full_anchor_W      the full model with the KL to the pretrained generator (`anchor_weight`, the recipe's
                       `--anchor-weight`) W, W in 0.003, 0.01, 0.03, 0.1, 0.3, 1 (`anchor_kl`: the stage's mean
                       KL, nats per summary)
    reconstruction_anchor_0.01  reconstruction only with the same KL, weight 0.01 (the anchored full model's ablation)
    full_anchor_0.01_critic_mean  full_anchor_0.01 with a critic that averages its n-gram features over the summary
                       instead of taking their maximum (`critic_pooling="mean"`, the recipe's `--critic-pooling mean`):
                       every transition judged (its ablation is reconstruction_anchor_0.01: no critic)
    full_anchor_0.01_critic_transition  full_anchor_0.01 with a recurrent critic scoring every prefix of the summary,
                       the scores averaged up to its end (`critic="transition"`, the recipe's `--critic transition`;
                       Wang & Lee's per-step discriminator; the ablation again reconstruction_anchor_0.01)
    full_lm_W, reconstruction_lm_W  the full model and reconstruction only with the KL to a word language model of
                       the critic's unpaired pool (`lm_prior_weight`, the recipe's `--lm-prior-weight`) W, W in
                       0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1; the language model is trained on the pool first
                       (`fit_language_model`, the same for every variant of a seed) and frozen (`lm_prior_kl`: the
                       stage's mean KL, nats per summary)
    full_anchor_0.01_lm_W, reconstruction_anchor_0.01_lm_W  the same with the anchor at 0.01
    full_anchor_0.01_lm_0.001_critic_weight_W  the recipe's full model (since session 23) with the critic's weight for
                       the generator W instead of 1, W in 0.5, 2, 3 (its ablation: reconstruction_anchor_0.01)
    full_anchor_0.01_lm_0.001_ramp_R  the same with the critic's weight rising from 0 to 1 over the first R generator
                       updates (`adversary_ramp_steps`), R in 125, 250 (the recipe's epoch, its whole stage)

`--save PREFIX` saves each variant's weights at its last step (`{PREFIX}_{variant}.weights.h5`), e.g. to score the
variant chosen on validation on the test pairs afterwards (`--score-test`, which trains nothing, and prints beside
each row the shares of summaries that hold a stop word and that end on one; with `--bootstrap
B` it also prints each variant's test perplexity minus the first variant's, with a 5-95% interval over B resamplings
of the test documents: is the readability target's gap more than the choice of documents? The gap per scored token,
the target's measure, is split into the part from the summed surprisal (`words`) and the part from the number of
tokens it is spread over (`length`), and printed per written word too (`per_word`: at equal word counts, the
surprisal alone); the rows add `perplexity_per_word` and `bits_per_summary`, the mean surprisal of a summary).
With `--save-points` it also saves the weights at every point (`{PREFIX}_{variant}_step{S}.weights.h5`, the weights
the curve scored, and with `--average` also the last iterate's, `..._step{S}_raw.weights.h5`), and `--score-at
step{S}` (or `step{S}_raw`) scores those instead of the last step's: one training, test rows at every length.

With `--score-length L` every point also scores the same weights writing L words (`val_atL_*`: ROUGE-1 and words),
to separate the summaries' length from what training taught.

After pretraining (or loading) it prints how well the pretrained generator imitates its pretraining target (the
`--pseudo-target` of the clean document: its first N words with connectives by default) on the same validation
pairs: its ROUGE-1 against the references, the target's, and its ROUGE-1 against the target with the share of outputs
equal to it.
`--steps 0` stops there (the pretraining noise, `--pseudo-drop` / `--pseudo-phrase`, compared without an unpaired
stage).
"""

import argparse
import contextlib
import hashlib
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.core.averaging import WeightAverage  # noqa: E402
from keras_ae.data.summaries import make_pair_dataset, make_unpaired_dataset, pseudo_target  # noqa: E402
from keras_ae.evaluation.summaries import (  # noqa: E402
    RougeCurve, SummaryLanguageModel, graph_function, lead, perplexity_differences, rouge, summarize, summary_row,
    words,
)
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import auto_cluster_jit_compile, format_table, parse_flags  # noqa: E402
from text_summary_words import stop_word_shares  # noqa: E402  (beside this file)

LM_WEIGHTS = (0.001, 0.002, 0.003, 0.01, 0.03, 0.1, 0.3, 1)
DEFAULT_FULL = "full_anchor_0.01_lm_0.001"  # the recipe's full model since session 23
DEFAULT_CHANGES = {"anchor_weight": 0.01, "lm_prior_weight": 0.001}
VARIANTS = {
    "reconstruction": ("reconstruction", {}, {}),
    "full": ("unpaired", {}, {}),
    "full_slow": ("unpaired", {}, {"learning_rate_scale": 0.1}),
    "full_dropout75": ("unpaired", {"decoder_word_dropout": 0.75}, {}),
    "full_critic5": ("unpaired", {"adversary_steps": 5}, {}),
    "full_pseudo": ("unpaired", {"pseudo_weight": 1.0}, {}),
    "full_self_critical": ("unpaired", {"gradient": "self_critical"}, {}),
    "full_self_critical_pseudo": ("unpaired", {"gradient": "self_critical", "pseudo_weight": 1.0}, {}),
    "reconstruction_pseudo": ("reconstruction", {"pseudo_weight": 1.0}, {}),
    "reconstruction_dropout75": ("reconstruction", {"decoder_word_dropout": 0.75}, {}),
    "full_free_length": ("unpaired", {"match_length": False, "output_length": None}, {}),
    "reconstruction_free_length": ("reconstruction", {"match_length": False, "output_length": None}, {}),
    **{f"full_critic_weight_{weight}": ("unpaired", {"adversary_weight": weight}, {}) for weight in (0.3, 3, 10)},
    **{f"full_anchor_{weight}": ("unpaired", {"anchor_weight": weight}, {})
       for weight in (0.003, 0.01, 0.03, 0.1, 0.3, 1)},
    "reconstruction_anchor_0.01": ("reconstruction", {"anchor_weight": 0.01}, {}),
    "full_anchor_0.01_critic_mean": ("unpaired", {"anchor_weight": 0.01, "critic_pooling": "mean"}, {}),
    "full_anchor_0.01_critic_transition": ("unpaired", {"anchor_weight": 0.01, "critic": "transition"}, {}),
    **{f"{objective}{anchor}_lm_{weight}": (
        "unpaired" if objective == "full" else "reconstruction",
        {"lm_prior_weight": weight, **({"anchor_weight": 0.01} if anchor else {})}, {})
       for objective in ("full", "reconstruction") for anchor in ("", "_anchor_0.01") for weight in LM_WEIGHTS},
    **{f"{DEFAULT_FULL}_critic_weight_{weight}": ("unpaired", {**DEFAULT_CHANGES, "adversary_weight": weight}, {})
       for weight in (0.5, 2, 3)},
    **{f"{DEFAULT_FULL}_ramp_{steps}": ("unpaired", {**DEFAULT_CHANGES, "adversary_ramp_steps": steps}, {})
       for steps in (125, 250)},
}
# A variant has the anchor and the language model its name says, none otherwise, whatever the recipe's defaults
# (since session 23 `--anchor-weight 0.01 --lm-prior-weight 0.001`: the variant `full_anchor_0.01_lm_0.001`, its
# ablation `reconstruction_anchor_0.01`), so that a variant trains as it did in the sessions that measured it.
UNNAMED = {"anchor_weight": 0.0, "lm_prior_weight": 0.0}
VARIANTS = {name: (objective, {**UNNAMED, **changes}, stage) for name, (objective, changes, stage) in VARIANTS.items()}
GAP_COLUMNS = ["difference", "mean", "low", "high", "words", "words_low", "words_high", "length", "length_low",
               "length_high", "per_word", "per_word_low", "per_word_high"]
COLUMNS = ["step", "val_rouge1", "val_raw_rouge1", "val_perplexity", "val_critic_generated", "val_target_rouge1",
           "val_rouge1_half1", "val_rouge1_half2", "val_words", "val_raw_words", "val_repeated",
           "val_reconstruction_true", "val_reconstruction_shuffled", "val_reconstruction_empty",
           "val_raw_reconstruction_true", "val_raw_reconstruction_shuffled", "val_critic_auc",
           "val_critic_auc_same_length", "val_length_auc", "val_raw_critic_auc", "val_first_words",
           "discriminator_distance", "anchor_kl", "lm_prior_kl", "seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=True)
    parser.add_argument("--variants", default="reconstruction,full")
    parser.add_argument("--steps", type=int, default=250,
                        help="training steps of each variant (0: pretrain and score the pretrained generator only)")
    parser.add_argument("--every", type=int, default=50, help="steps between two validation points")
    parser.add_argument("--average", type=float, default=None,
                        help="decay of the weight average scored beside the last iterate (default: the recipe's; "
                             "0: none)")
    parser.add_argument("--score-length", type=int, default=None,
                        help="also score every point with summaries of this many words (val_atL_*)")
    parser.add_argument("--pretrained", help="weights file of the pretrained model (loaded if it exists, else saved)")
    parser.add_argument("--save", help="save each variant's last weights to {SAVE}_{variant}.weights.h5")
    parser.add_argument("--language-model",
                        help="weights (.npz) of the prior's language model: loaded if the file exists, else trained on "
                             "the pool and saved there (one language model for every variant of a seed)")
    parser.add_argument("--save-points", action="store_true",
                        help="with --save: also save the weights at every point, {SAVE}_{variant}_step{S}[_raw]")
    parser.add_argument("--score-at", default=None,
                        help="with --score-test: score the weights saved at this point (e.g. step250 or step250_raw) "
                             "instead of the last step's")
    parser.add_argument("--score-test", action="store_true",
                        help="train nothing: load each variant's --save weights and print the recipe's test rows")
    parser.add_argument("--stage-seed", type=int, default=None,
                        help="seed of the unpaired stage alone (the order of its batches, the Gumbel noise, the word "
                             "dropout, the critic's penalty); the data, the pretrained weights and the scoring stay "
                             "--seed's (default: --seed)")
    parser.add_argument("--bootstrap", type=int, default=0,
                        help="with --score-test: resample the test documents this many times and print each "
                             "variant's perplexity minus the first variant's (mean and 5-95%% interval)")
    args, recipe_argv = parser.parse_known_args(argv)
    unknown = [name for name in args.variants.split(",") if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose among {', '.join(VARIANTS)}")
    named = [flag for flag in ("--anchor-weight", "--lm-prior-weight")
             if any(item == flag or item.startswith(f"{flag}=") for item in recipe_argv)]
    if named:
        parser.error(f"{' and '.join(named)}: a variant has the anchor and the language model its name says (e.g. "
                     "full_anchor_0.01_lm_0.001); choose the variant instead")
    flags = parse_flags(text_summary.build_parser(), recipe_argv, quick=text_summary.QUICK)
    auto_cluster_jit_compile(flags)  # --jit-compile: XLA auto-clustering, as the recipe
    if (args.score_test or args.save_points) and not args.save:
        parser.error("--score-test and --save-points need --save (the prefix of the weights)")
    if args.score_at and not args.score_test:
        parser.error("--score-at picks the saved point that --score-test scores: add --score-test")
    data, vocabulary, lm_source, n = text_summary.prepare_data(flags)
    documents, references = (part[: flags.curve_documents] for part in data.validation)
    real = data.validation[1][-flags.curve_documents :]  # held-out real summaries, as the recipe's curve
    skip = text_summary.pretraining_skip(data, n, flags)
    pseudo = text_summary.make_pseudo_pairs(data.train_documents, n, flags, skip)
    targets = [pseudo_target(document, n, flags.pseudo_target, skip) for document in documents]  # no reference read
    pool_lm = SummaryLanguageModel(data.real_summaries)  # the critic's unpaired pool: no validation reference in it

    pretrained = text_summary.build_model(flags, vocabulary, n)
    pretrained.compile(optimizer=text_summary.adam(flags.learning_rate))
    if args.pretrained and Path(args.pretrained).is_file():
        pretrained.load_weights(args.pretrained)
        print(f"loaded the pretrained weights from {args.pretrained}")
    else:
        _, seconds = text_summary.fit(pretrained, make_pair_dataset(*pseudo, flags.batch_size, shuffle=True,
                                                                    seed=flags.seed), flags.pretrain_epochs, flags)
        print(f"pretrained in {seconds} s (drop {flags.pseudo_drop}, phrase {flags.pseudo_phrase}, "
              f"{flags.pretrain_epochs} epochs)")
        if args.pretrained:
            pretrained.save_weights(args.pretrained)
    print(f"start: data {digest(data_texts(data))}, pretrained weights {digest(pretrained.get_weights())}",
          flush=True)
    if args.score_test:
        return score_test(pretrained, args, flags, data, lm_source, n)
    imitation(pretrained, documents, references, n, flags.pseudo_target, skip)
    rows = {}
    stage_seed = flags.seed if args.stage_seed is None else args.stage_seed
    for name in args.variants.split(",") if args.steps else ():
        model = build_stage(pretrained, name, stage_seed, flags, data.real_summaries, args.language_model)
        objective = VARIANTS[name][0]
        dataset = make_unpaired_dataset(data.train_documents, data.real_summaries, flags.batch_size, shuffle=True,
                                        seed=stage_seed, pseudo=pseudo if model.pseudo_weight else None).repeat()
        curve = RougeCurve(documents, references, diagnostics=True,
                           real_summaries=real if objective == "unpaired" else None, language_model=pool_lm)
        curve.set_model(model)
        critic = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, model=model: logs.update(
            val_critic_generated=_critic_generated(model, documents),
            **_halves_and_target(summarize(model, documents), references, targets)))
        logs = {}
        curve.on_epoch_end(-1, logs)
        critic.on_epoch_end(-1, logs)
        rows[f"{name} @0"] = {"step": 0, **logs}
        print(name, 0, {key: round(float(value), 3) for key, value in logs.items()}, flush=True)
        callbacks = [curve]
        decay = flags.average_decay if args.average is None else args.average
        if decay:
            average = WeightAverage(decay)  # the curve scores the average; the raw curve the last iterate
            raw = RougeCurve(documents, references, diagnostics=True, prefix="val_raw_", weights=average.raw,
                             real_summaries=real if objective == "unpaired" else None, language_model=pool_lm)
            callbacks = [average, curve, raw]
        if args.save_points:
            callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, name=name, model=model,
                                                            average=average if decay else None: save_point(
                model, average, f"{args.save}_{name}_step{(epoch + 1) * args.every}")))
        callbacks.append(critic)
        if args.score_length:
            at = RougeCurve(documents, references, prefix=f"val_at{args.score_length}_",
                            weights=lambda: _output_length(model, args.score_length))
            at.set_model(model)
            at.on_epoch_end(-1, rows[f"{name} @0"])
            callbacks.append(at)
        started = time.perf_counter()
        callbacks.append(keras.callbacks.LambdaCallback(  # every point as it comes: a run cut short keeps its curve
            on_epoch_end=lambda epoch, logs, name=name: print(
                name, (epoch + 1) * args.every, f"{time.perf_counter() - started:.0f} s",
                {key: round(float(value), 3) for key, value in logs.items()}, flush=True)))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Gradients do not exist")
            history = model.fit(dataset, steps_per_epoch=args.every, epochs=max(1, args.steps // args.every),
                                callbacks=callbacks, verbose=0).history
        seconds = round(time.perf_counter() - started, 1)
        print(f"{name}: weights after {args.steps} steps {digest(model.get_weights())}", flush=True)
        if args.save:
            model.save_weights(f"{args.save}_{name}.weights.h5")
        for index in range(len(history["loss"])):
            point = {key: values[index] for key, values in history.items()}
            rows[f"{name} @{(index + 1) * args.every}"] = {"step": (index + 1) * args.every, **point,
                                                           "seconds": seconds}
    print(f"seed {flags.seed} (stage seed {stage_seed}), {len(data.train_documents)} training documents, "
          f"{len(documents)} validation pairs, Lead-{n}")
    columns = COLUMNS + ([f"val_at{args.score_length}_rouge1", f"val_at{args.score_length}_words"]
                         if args.score_length else [])
    print(format_table(rows, columns))
    return rows


def build_stage(pretrained, name, stage_seed, flags, real_summaries, language_model_path=None):
    """Variant `name`'s stage of `pretrained`, compiled as the recipe compiles it, from `stage_seed`'s random state
    (with the prior's language model of `real_summaries`, loaded from or saved to `language_model_path`).

    Example:
        model = build_stage(pretrained, "reconstruction_anchor_0.01", 2, flags, data.real_summaries)
    """
    objective, changes, stage = VARIANTS[name]
    keras.utils.set_random_seed(stage_seed)
    model = pretrained.with_objective(objective, **changes, **stage_seed_change(stage_seed, flags.seed))
    if model.prior:
        language_model(model, real_summaries, language_model_path)
        keras.utils.set_random_seed(stage_seed)  # the stage starts from the same random state as without it
    rate = flags.learning_rate * stage.get("learning_rate_scale", 1.0)
    if objective == "unpaired":
        model.compile(optimizers={"encoder": text_summary.adam(rate),
                                  "adversary": text_summary.adam(flags.adversary_learning_rate)})
    else:
        model.compile(optimizer=text_summary.adam(rate))
    return model


def save_point(model, average, prefix):
    """Saves the weights `model` holds at a point to `{prefix}.weights.h5` (the average, when `average` swapped it in)
    and, with a `WeightAverage`, the last iterate to `{prefix}_raw.weights.h5`.

    Example:
        save_point(model, None, "/tmp/s2_full_step250")     # /tmp/s2_full_step250.weights.h5
    """
    model.save_weights(f"{prefix}.weights.h5")
    if average is not None:
        with average.raw():
            model.save_weights(f"{prefix}_raw.weights.h5")


def stage_seed_change(stage_seed, seed):
    """The `with_objective` change that gives the stage its own random streams (`{"seed": stage_seed}`: the Gumbel
    noise, the word dropout and the critic's penalty), or none when the stage seed is the run's seed, so that a run
    without `--stage-seed` builds its stage exactly as before the flag existed.

    Example:
        pretrained.with_objective("unpaired", **stage_seed_change(2, 0))   # the model's seed 2, weights unchanged
    """
    return {} if stage_seed == seed else {"seed": stage_seed}


def score_test(pretrained, args, flags, data, lm_source, n):
    """The recipe's test rows (its first `--evaluate` test pairs, its trigram model of the validation summaries) of
    Lead-N, the pretrained generator and each variant's saved weights (`--save`); trains nothing."""
    count = flags.evaluate or len(data.test[0])
    documents, references = data.test[0][:count], data.test[1][:count]
    lm = SummaryLanguageModel(lm_source)
    outputs = {f"Lead-{n}": lead(documents, n), "pretrained only": summarize(pretrained, documents)}
    for name in args.variants.split(","):
        objective, changes, _ = VARIANTS[name]
        model = pretrained.with_objective(objective, **changes)
        model.load_weights(f"{args.save}_{name}{'_' + args.score_at if args.score_at else ''}.weights.h5")
        outputs[name] = summarize(model, documents)
    rows = {name: {**summary_row(documents, summaries, references, lm),
                   "bits_per_summary": -float(np.mean(lm.log_scores(summaries)[0])),
                   **stop_word_shares([words(summary) for summary in summaries])}
            for name, summaries in outputs.items()}
    print(f"seed {flags.seed}, {count} test pairs, Lead-{n}")
    print(format_table(rows, [*text_summary.COLUMNS, "bits_per_summary", "stop_word", "ends_stop_word"]))
    outputs = {name: outputs[name] for name in args.variants.split(",")}
    if args.bootstrap:
        print(format_table(perplexity_differences(lm, outputs, args.bootstrap, flags.seed), GAP_COLUMNS))
    return rows


def data_texts(data):
    """Every text of `data` in order (training documents, the unpaired pool, validation and test pairs), for
    `digest`: two runs on other machines start from the same data only if these are equal."""
    return [*data.train_documents, *data.real_summaries, *data.validation[0], *data.validation[1], *data.test[0],
            *data.test[1]]


def digest(values):
    """The first 12 hex digits of the SHA-256 of `values` (strings or numpy arrays, in order): equal digests, equal
    values bit for bit. Printed for the data, the pretrained weights and each variant's last weights, so that runs
    of the stage can be compared by their logs alone (the same start? the same run?).

    Example:
        digest(model.get_weights())   # "3f1c0a9b2e47"
    """
    hashed = hashlib.sha256()
    for value in values:
        hashed.update(value.encode() if isinstance(value, str) else np.ascontiguousarray(value).tobytes())
        hashed.update(b"\0")
    return hashed.hexdigest()[:12]


def language_model(model, summaries, path=None):
    """Give `model`'s prior its language model: the weights in `path` (.npz) if it exists, else trained on the pool
    `summaries` (`fit_language_model`) and saved to `path` (if given)."""
    if path and Path(path).is_file():
        with np.load(path) as weights:
            model.set_language_model_weights([weights[f"w{i}"] for i in range(len(weights.files))])
        print(f"loaded the language model from {path}")
        return
    started = time.perf_counter()
    losses = model.fit_language_model(summaries)
    print(f"language model of the {len(summaries)} pool summaries in {time.perf_counter() - started:.0f} s: loss per "
          f"epoch {[round(loss, 3) for loss in losses]} nats per token", flush=True)
    if path:
        np.savez(path, **{f"w{i}": weight for i, weight in enumerate(model.language_model.get_weights())})


def imitation(model, documents, references, n, target="connective", skip=frozenset()):
    """Print and return how close `model`'s greedy summaries of `documents` come to the pretraining target (each
    clean document's `pseudo_target` of `n` words: the first `n` words with connectives by default) and how both score
    against `references` (ROUGE-1 F1), with the summaries' words spelled as the document writes them
    (`document_spelling`, the default) and as the vocabulary spells them (punctuation stripped: "fdlock" for
    "fd-lock")."""
    targets = [pseudo_target(document, n, target, skip) for document in documents]
    scores = {"target": rouge(targets, references)["rouge1"]}
    kept = model.document_spelling
    for spelling, name in ((True, ""), (False, "vocabulary_")):
        model.document_spelling = spelling
        generated = summarize(model, documents)
        scores[f"{name}generator"] = rouge(generated, references)["rouge1"]
        scores[f"{name}generator_vs_target"] = rouge(generated, targets)["rouge1"]
        scores[f"{name}equal_to_target"] = sum(g == t for g, t in zip(generated, targets)) / len(targets)
    model.document_spelling = kept
    print(f"pretrained generator, {len(documents)} validation pairs: R-1 {scores['generator']:.1f} (vocabulary's "
          f"spelling {scores['vocabulary_generator']:.1f}); its target ({target}, {n} words) "
          f"{scores['target']:.1f}; generator against target R-1 {scores['generator_vs_target']:.1f} "
          f"({scores['vocabulary_generator_vs_target']:.1f}), equal to it {scores['equal_to_target']:.2f} "
          f"({scores['vocabulary_equal_to_target']:.2f})", flush=True)
    return scores


def _halves_and_target(summaries, references, targets):
    """ROUGE-1 of `summaries` against the pretraining `targets` (`val_target_rouge1`) and against the references of
    the first and of the second half of the documents (`val_rouge1_half1`, `val_rouge1_half2`: do two disjoint
    samples of validation documents agree on which points are good?)."""
    half = len(summaries) // 2
    return {"val_target_rouge1": rouge(summaries, targets)["rouge1"],
            "val_rouge1_half1": rouge(summaries[:half], references[:half])["rouge1"],
            "val_rouge1_half2": rouge(summaries[half:], references[half:])["rouge1"]}


def _critic_generated(model, documents, batch_size=256):
    """The discriminator's mean score of the model's greedy summaries of `documents` (no real summary read)."""
    scores = []
    for start in range(0, len(documents), batch_size):
        words = graph_function(model, "greedy_words")(tf.constant(list(documents[start : start + batch_size])))
        scores.append(model.discriminator(words).numpy().reshape(-1))
    return float(np.mean(np.concatenate(scores)))


@contextlib.contextmanager
def _output_length(model, length):
    """The model's greedy summaries have `length` words inside the block (its `output_length` again after)."""
    kept = model.output_length
    model.output_length = length
    try:
        yield
    finally:
        model.output_length = kept


if __name__ == "__main__":
    main()
