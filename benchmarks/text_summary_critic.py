"""Does the critic of text_summary reward what the readability score measures, and how hard does it pull?

    python benchmarks/text_summary_critic.py --pretrained FILE --critic full_anchor_0.01=FILE
        [--weights NAME=FILE,...] [--test] [--batches 8] [--probe-steps 1000 --probe-rates 1e-4,1e-3]
        [--probe-critics convolution,transition --probe-seeds 0,1,2]
        [recipe flags: --seed, --pseudo-target, ...]

Loads the pretrained model and a full model's saved weights (`--critic`, as `text_summary_stages.py --save` writes
them; its discriminator is the judge) and other saved stages (`--weights`, e.g. the reconstruction-only ablation),
then on `--curve-documents` VALIDATION documents (`--test`: the recipe's test documents, its trigram model of the
validation summaries) prints:

1. Per model, and for held-out real summaries (the validation references; with `--test` the test references), the
   critic's mean score, the trigram perplexity (of the critic's unpaired pool; with `--test`, of the validation
   summaries) and the Spearman correlation, within each set, between the critic's score and the summary's mean
   log-probability per token under that trigram model (`rho_critic_lm`; `rho_given_length`: at equal summary
   lengths, a rank partial correlation): does the critic rank summaries as the readability score does?
2. For each model against the first of `--weights` (the reference, e.g. the ablation), per document: the share of
   summaries that differ, the critic's mean gain on those, and the Spearman correlation between the gain in critic
   score and the change of surprisal per token (`rho_gain_surprisal`, negative: what the critic prefers reads
   better).
3. The pull on the generator at the critic's weights: over `--batches` training batches (the unpaired stage's, with
   the stage's noise), the norm of the gradient of each term of the full model's loss with respect to the generator's
   and the encoder's weights (`reconstruction`, `critic`: `adversary_weight * -D(fake)`, `anchor`, ...), and the
   cosine between the critic's and the reconstruction's gradients.
4. With `--probe-steps N`: would a critic trained longer, or a critic of another kind, rank like the readability
   score? A fresh critic (the model's architecture, or each kind of `--probe-critics`: `models.text_latent.CRITICS`,
   "transition" judging every prefix) is trained alone, as the stage trains it (WGAN-GP, batches of real pool
   summaries against the full model's summaries of training documents, written at the real summaries' lengths,
   fixed beforehand) for N steps at each of `--probe-rates` and each of `--probe-seeds` (its initial weights and
   batches); every N/5 steps: its AUC of held-out real against generated summaries and `rho_critic_lm` on each,
   also at equal summary lengths (`_given_length`, a rank partial correlation) and against the log ratio of the pool's
   trigram model to a trigram model of the generated summaries the critic trains on (`_ratio`).

Example (seed 0 of session 18's runs):
    python benchmarks/text_summary_critic.py --seed 0 --pseudo-target connective \
        --pretrained pre_s0.weights.h5 --critic full_anchor_0.01=base_s0_full_anchor_0.01.weights.h5 \
        --weights reconstruction_anchor_0.01=base_s0_reconstruction_anchor_0.01.weights.h5
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from keras_ae.core.steps import minimize  # noqa: E402
from keras_ae.data.summaries import make_unpaired_dataset  # noqa: E402
from keras_ae.evaluation.summaries import SummaryLanguageModel, _auc, graph_function, summarize  # noqa: E402
from keras_ae.models.text_latent import make_critic  # noqa: E402
from keras_ae.recipes.common import format_table  # noqa: E402
from text_summary_words import load_stage, scored_setting  # noqa: E402  (beside this file)


def critic_scores(critic, model, documents, batch_size=256):
    """`critic`'s scores `[len(documents)]` of `model`'s greedy summaries of `documents`."""
    scores = []
    for start in range(0, len(documents), batch_size):
        words = graph_function(model, "greedy_words")(tf.constant(list(documents[start : start + batch_size])))
        scores.append(critic(words).numpy().reshape(-1))
    return np.concatenate(scores)


def real_scores(model, summaries):
    """`model.discriminator`'s scores of real `summaries` (strings), read as the stage reads its real pool."""
    ids = model.encoder.tokenize(tf.constant(list(summaries)))
    return model.discriminator(model.discriminator.real_sequences({"summary_ids": ids}, model.summary_length)).numpy()


def word_counts(model, texts):
    """The number of words `[len(texts)]` of each text as the critic reads it (tokens, at most `summary_length`)."""
    ids = model.encoder.tokenize(tf.constant(list(texts))).numpy()[:, : model.summary_length]
    return np.count_nonzero(ids, axis=1)


def log_probability_per_token(lm, texts):
    """Each text's mean log2-probability per scored token under the trigram `lm` (higher: reads better)."""
    log2, grams = lm.log_scores(texts)
    return log2 / grams


def rank_partial(x, y, z):
    """Spearman correlation of `x` and `y` with `z` held fixed (the partial correlation of their ranks): e.g. a
    critic's score and the trigram log-probability per token, at equal summary lengths `z` (all equal: Spearman's)."""
    if np.ptp(z) == 0:
        return float(spearmanr(x, y)[0])
    xy, xz, yz = (spearmanr(a, b)[0] for a, b in ((x, y), (x, z), (y, z)))
    return float((xy - xz * yz) / np.sqrt((1 - xz**2) * (1 - yz**2)))


def gradient_pull(model, dataset, batches):
    """Mean norms of the gradients of each loss term of the unpaired objective with respect to the generator's and the
    encoder's weights over `batches` batches of `dataset`, and the mean cosine between the critic's and the
    reconstruction's gradients (`cosine_critic_reconstruction`)."""
    variables = model.encoder.trainable_variables + model.generator.trainable_variables
    flat = lambda grads: tf.concat([tf.reshape(g, [-1]) if g is not None else tf.zeros([tf.size(v)])  # noqa: E731
                                    for g, v in zip(grads, variables)], 0)
    sums = {}
    for data in dataset.take(batches):
        batch = model.unpack_batch(data)
        with tf.GradientTape(persistent=True) as tape:
            code, extra_losses, _ = model.forward(batch, training=True)
            per_judge, _ = model.judge_code(batch, code, training=True)
            terms = {"reconstruction": tf.reduce_mean(per_judge[-1]),
                     "critic": model.adversary_weight * tf.reduce_mean(model.discriminator.encoder_loss(batch, code)),
                     **{name: tf.reduce_mean(loss) for name, loss in extra_losses.items()}}
        gradients = {name: flat(tape.gradient(term, variables)) for name, term in terms.items()}
        del tape
        for name, gradient in gradients.items():
            sums[f"norm_{name}"] = sums.get(f"norm_{name}", 0.0) + float(tf.norm(gradient))
        cosine = tf.reduce_sum(gradients["critic"] * gradients["reconstruction"]) / (
            tf.norm(gradients["critic"]) * tf.norm(gradients["reconstruction"]) + 1e-12)
        sums["cosine_critic_reconstruction"] = sums.get("cosine_critic_reconstruction", 0.0) + float(cosine)
    return {name: value / batches for name, value in sums.items()}


def written_at_lengths(model, documents, lengths, batch_size=256):
    """`model`'s greedy summaries of `documents` as token ids `[len(documents), summary_length]` (0 after the end),
    each written at its entry of `lengths` (as the stage writes them at the real summaries' lengths)."""
    ids = []
    for start in range(0, len(documents), batch_size):
        chunk = tf.constant(list(documents[start : start + batch_size]))
        words = model.generator.generate(model.memory(chunk), lengths=tf.constant(
            lengths[start : start + batch_size], tf.int32), final_blocked=model.final_blocked)[0]
        ids.append(tf.argmax(words, -1, output_type=tf.int32))
    return tf.concat(ids, 0)


def critic_probe(model, real_ids, fake_ids, held_out, steps, rate, batch_size=64, seed=0, kind=None):
    """Train a fresh critic of `model.discriminator`'s architecture (or of kind `kind`, built by `make_critic` with
    the model's sizes) alone for `steps` WGAN-GP steps on batches of the real token ids `real_ids [N, L]` against the
    fixed generated ids `fake_ids [M, L]` (one-hot words, as the stage feeds them), Adam at `rate` (the stage's
    optimizer); `held_out = (real_ids, real_lm, fake_ids, fake_lm, real_ratio, fake_ratio)`, the held-out
    summaries' ids, log-probabilities per token under the trigram model and those minus the log-probabilities under a
    trigram model of the generated summaries the critic trains on. Returns a row per fifth of the steps: the held-out
    AUC, the mean real minus generated score (`distance`), `rho_critic_lm` on each set, alone and at equal lengths,
    and the critic's Spearman correlation with the log ratio of the two trigram models (`rho_*_ratio`: a critic
    estimates how much more likely a summary is real than generated, not how likely it is real)."""
    keras.utils.set_random_seed(seed)
    own = model.discriminator
    critic = (type(own).from_config({**own.get_config(), "name": "probe", "seed": seed}) if kind is None else
              make_critic(kind, own.vocabulary_size, own.word_dim, own.penalty_weight, model.critic_pooling, seed,
                          name="probe"))
    critic.build()
    size = critic.vocabulary_size
    optimizer = keras.optimizers.Adam(rate, global_clipnorm=5.0)
    optimizer.build(critic.trainable_variables)
    step = tf.function(lambda real, fake: minimize(lambda: (critic.adversary_loss(
        {"summary_ids": real}, tf.one_hot(fake, size))[0], None), critic.trainable_variables, optimizer))
    score = lambda ids: np.concatenate([critic(tf.one_hot(ids[i : i + 256], size)).numpy()  # noqa: E731
                                        for i in range(0, len(ids), 256)])
    rng = np.random.default_rng(seed)
    real_set, real_lm, fake_set, fake_lm, real_ratio, fake_ratio = held_out
    real_length, fake_length = (np.count_nonzero(np.asarray(ids), axis=1) for ids in (real_set, fake_set))
    rows, started = {}, time.perf_counter()
    label = f"{kind or 'own'} seed {seed} rate {rate:g}"
    for index in range(1, steps + 1):
        step(tf.gather(real_ids, rng.integers(0, len(real_ids), batch_size)),
             tf.gather(fake_ids, rng.integers(0, len(fake_ids), batch_size)))
        if index % max(1, steps // 5) == 0:
            real, fake = score(real_set), score(fake_set)
            row = rows[f"{label} @{index}"] = {
                "auc": _auc(real, fake), "distance": float(real.mean() - fake.mean()),
                "rho_real": float(spearmanr(real, real_lm)[0]), "rho_generated": float(spearmanr(fake, fake_lm)[0]),
                "rho_real_given_length": rank_partial(real, real_lm, real_length),
                "rho_generated_given_length": rank_partial(fake, fake_lm, fake_length),
                "rho_real_ratio": float(spearmanr(real, real_ratio)[0]),
                "rho_generated_ratio": float(spearmanr(fake, fake_ratio)[0]),
                "seconds": round(time.perf_counter() - started)}
            print(f"{label} @{index}", {key: round(value, 3) for key, value in row.items()},
                  flush=True)  # every point as it comes: a probe cut short keeps its curve
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", required=True)
    parser.add_argument("--critic", required=True, help="NAME=FILE: a full variant of text_summary_stages.py")
    parser.add_argument("--weights", default="", help="NAME=FILE,...: other stages (the first is the reference)")
    parser.add_argument("--test", action="store_true", help="the recipe's test documents and scoring instead")
    parser.add_argument("--batches", type=int, default=8, help="training batches for the gradients' norms (0: none)")
    parser.add_argument("--probe-steps", type=int, default=0, help="train fresh critics this many steps (0: none)")
    parser.add_argument("--probe-rates", default="1e-4,1e-3", help="the fresh critics' Adam rates")
    parser.add_argument("--probe-critics", default="",
                        help="kinds of fresh critics (convolution, transition; default: the full model's own)")
    parser.add_argument("--probe-seeds", default="0", help="the fresh critics' seeds (initial weights, batches)")
    parser.add_argument("--probe-documents", type=int, default=4000,
                        help="training documents whose summaries the fresh critics see")
    args, recipe_argv = parser.parse_known_args(argv)
    flags, data, documents, references, lm, pretrained = scored_setting(recipe_argv, args.test, args.pretrained)
    critic_name, full = load_stage(pretrained, args.critic)
    models = dict(load_stage(pretrained, item) for item in args.weights.split(",") if item)
    models = {"pretrained": pretrained, **models, critic_name: full}
    real = real_scores(full, references)
    real_lm = log_probability_per_token(lm, references)
    rows = {"real summaries (held out)": {"critic": float(real.mean()), "perplexity": lm.perplexity(references),
                                          "rho_critic_lm": float(spearmanr(real, real_lm)[0]),
                                          "rho_given_length": rank_partial(real, real_lm, word_counts(full, references))}}
    per_model = {}
    for name, model in models.items():
        summaries = summarize(model, documents)
        scores = critic_scores(full.discriminator, model, documents)
        lm_scores = log_probability_per_token(lm, summaries)
        per_model[name] = (summaries, scores, lm_scores)
        rows[name] = {"critic": float(scores.mean()), "critic_auc": _auc(real, scores),
                      "perplexity": lm.perplexity(summaries), "rho_critic_lm": float(spearmanr(scores, lm_scores)[0]),
                      "rho_given_length": rank_partial(scores, lm_scores, word_counts(model, summaries))}
    print(f"seed {flags.seed}, {len(documents)} {'test' if args.test else 'validation'} documents; the critic of "
          f"{critic_name}; perplexity under the {'validation summaries' if args.test else 'pool'}'s trigram model")
    print(format_table(rows, ["critic", "critic_auc", "perplexity", "rho_critic_lm", "rho_given_length"]))
    names = list(per_model)
    reference = names[1] if len(names) > 2 else names[0]
    changes = {}
    for name in names:
        if name == reference:
            continue
        (base, base_scores, base_lm), (summaries, scores, lm_scores) = per_model[reference], per_model[name]
        differ = np.array([a != b for a, b in zip(base, summaries)])
        gain, surprisal = (scores - base_scores)[differ], -(lm_scores - base_lm)[differ]
        changes[f"{name} - {reference}"] = {
            "differ": float(differ.mean()), "critic_gain": float(gain.mean()) if differ.any() else 0.0,
            "critic_gain_positive": float((gain > 0).mean()) if differ.any() else 0.0,
            "surprisal_change": float(surprisal.mean()) if differ.any() else 0.0,
            "rho_gain_surprisal": float(spearmanr(gain, surprisal)[0]) if differ.sum() > 2 else float("nan")}
    print("\nper document against the reference, on the summaries that differ (surprisal: bits per token)")
    print(format_table(changes, ["differ", "critic_gain", "critic_gain_positive", "surprisal_change",
                                 "rho_gain_surprisal"]))
    dataset = make_unpaired_dataset(data.train_documents, data.real_summaries, flags.batch_size, shuffle=True,
                                    seed=flags.seed)
    pull = gradient_pull(full, dataset, args.batches) if args.batches else {}
    print(f"\nthe pull on the generator and the encoder at {critic_name}'s weights ({args.batches} training batches): "
          + ", ".join(f"{name} {value:.4g}" for name, value in pull.items()))
    if not args.probe_steps:
        return rows, changes, pull
    probe = run_probe(full, data, documents, references, lm, args)
    return rows, changes, pull, probe


def run_probe(full, data, documents, references, lm, args):
    """Section 4: fresh critics trained on the full model's summaries, scored on the held-out ones."""
    ids = lambda texts: tf.argmax(full.discriminator.real_sequences(  # noqa: E731
        {"summary_ids": full.encoder.tokenize(tf.constant(list(texts)))}, full.summary_length), -1,
        output_type=tf.int32)
    real_ids = ids(data.real_summaries)
    lengths = np.clip(np.count_nonzero(real_ids.numpy(), axis=1), 1, full.summary_length)
    rng = np.random.default_rng(0)
    train = data.train_documents[: args.probe_documents]
    fake = written_at_lengths(full, train, rng.choice(lengths, len(train)))
    held_fake = written_at_lengths(full, documents, rng.choice(lengths, len(documents)))
    texts = lambda rows: [" ".join(full.vocabulary[i - 2] if i > 1 else "oovword" for i in row if i > 0)  # noqa: E731
                          for row in rows.numpy()]  # as the LM reads them
    held_texts = texts(held_fake)
    generated_lm = SummaryLanguageModel(texts(fake))  # the generator's own trigram model, of what the critics see
    ratio = lambda summaries: (log_probability_per_token(lm, summaries)  # noqa: E731
                               - log_probability_per_token(generated_lm, summaries))
    held_out = (ids(references), log_probability_per_token(lm, references), held_fake,
                log_probability_per_token(lm, held_texts), ratio(references), ratio(held_texts))
    rows = {}
    for kind in args.probe_critics.split(",") if args.probe_critics else [None]:
        for seed in (int(value) for value in args.probe_seeds.split(",")):
            for rate in (float(value) for value in args.probe_rates.split(",")):
                rows.update(critic_probe(full, real_ids, fake, held_out, args.probe_steps, rate, seed=seed,
                                         kind=kind))
    print(f"\nfresh critics on {len(train)} training documents' summaries (real lengths) against the pool; held out: "
          f"{len(references)} real and {len(documents)} generated summaries")
    print(format_table(rows, ["auc", "distance", "rho_real", "rho_generated", "rho_real_given_length",
                              "rho_generated_given_length", "rho_real_ratio", "rho_generated_ratio", "seconds"]))
    return rows


if __name__ == "__main__":
    main()
