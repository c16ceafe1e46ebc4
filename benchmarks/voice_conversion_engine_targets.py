"""Whom conversions to new voices are heard as, and whether their dynamics follow the reference or a trained voice.

`python -m benchmarks.voice_conversion_engine_targets --run RUN_DIR [--pairs 32]` loads the newest checkpoint of a
`keras_ae.recipes.voice_conversion` run, rebuilds its evaluation setting (`benchmarks.voice_conversion_rescore`)
and converts the recipe's own seeded pairs (the first `--pairs`) for the unseen eSpeak targets and the held-out
engine's Festival voices. Per condition it prints:

- *heard as*: the share of conversions the recipe's independent MFCC judge (`speaker_judges`, fitted on real
  speech and its resynthesis, never a conversion) assigns to the target, the source, a trained (seen) eSpeak voice,
  another unseen eSpeak voice or a Festival voice other than the target;
- *dynamics*: the 38 log cepstral spreads the dynamics match compares (`log_spreads` of the decoder's unnormalised
  log-mel frames, whole utterances), as mean |difference| (log units) between the converted frames and: the target
  really saying the source's sentence (`truth`), the reference utterance that gave the speaker code (`reference`),
  the source utterance itself (`source`: small when the decoder takes the dynamics from the content code),
  the speaker-shifted ideal (the source's spreads moved from its speaker's mean to the target's mean over its
  training-sentence utterances, `shifted`) and the nearest trained voice's mean (`nearest_seen`); beside them the
  truth's own distance to its nearest trained voice's mean (`truth_nearest_seen`) and the share of conversions that
  lie nearer a trained voice's mean than the truth (`nearer_seen_than_truth`). A decoder that renders a new code
  with a trained voice's dynamics shows a small `nearest_seen` and a large `truth` error;
- *speaker codes* (`encode_speaker`; centroids over the same training-sentence utterances, distances in units of
  the trained voices' spread, a trained utterance's mean distance to its own centroid): the target voice's centroid
  to the nearest trained one (`target_to_nearest_seen`; the trained voices' own nearest-neighbour distance is
  `seen_to_nearest_seen`), and the share of converted waveforms whose code lies nearer the target's centroid than
  any trained voice's (`converted_code_at_target`). A new voice whose code already sits on a trained one is the
  encoder's problem; codes placed apart but conversions re-encoded onto a trained voice are the decoder's.

Nothing is fitted on a conversion. Speed is not measured here.
"""

import argparse

import numpy as np
import tensorflow as tf

from benchmarks.voice_conversion_rescore import evaluation_setting
from benchmarks.voice_conversion_rhythm import load_run
from keras_ae.evaluation.conversion import conversion_pairs, one_utterance, speaker_judges
from keras_ae.layers.judges.dynamics_match_judge import log_spreads
from keras_ae.recipes.common import format_table
from keras_ae.recipes.voice_conversion import MIN_SECONDS

SPEAKER_MEAN_UTTERANCES = 40  # training-sentence utterances per speaker for its mean log spreads


def heard_as(predicted, source_names, target_names, seen_names, unseen_names, engine_names):
    """Shares of `predicted` speaker names that are the target, the source, a seen voice, another unseen eSpeak
    voice, another engine voice (each pair counted once, in that order)."""
    rows = {"target": 0, "source": 0, "seen voice": 0, "other unseen": 0, "other engine voice": 0}
    for heard, source, target in zip(predicted, source_names, target_names):
        key = ("target" if heard == target else "source" if heard == source else "seen voice" if heard in seen_names
               else "other unseen" if heard in unseen_names else "other engine voice" if heard in engine_names
               else None)
        rows[key] += 1
    return {key: count / max(len(predicted), 1) for key, count in rows.items()}


def utterance_spreads(model):
    """`waveform [samples] -> [38]`: the log spreads (`log_spreads`) of the model's front-end frames of one real
    utterance (one trace for every length)."""
    spreads = tf.function(lambda w: log_spreads(model.front_end.log_mel(w)),
                          input_signature=[tf.TensorSpec([1, None], tf.float32)])
    return lambda waveform: np.asarray(spreads(np.asarray(waveform, "float32")[None]))[0]


def speaker_means(feature, corpus, speakers, count, seed=0):
    """`{speaker id: mean feature}` (`feature`: waveform -> vector, e.g. `utterance_spreads(model)`) over `count`
    training-sentence utterances of each of `speakers`, and `{speaker id: [count, dim] features}`."""
    rng = np.random.default_rng(seed)
    train = corpus.select(sentences="train")
    means, features = {}, {}
    for speaker in speakers:
        ids = np.flatnonzero(train.speakers == speaker)
        chosen = rng.choice(ids, min(count, len(ids)), replace=False)
        features[int(speaker)] = np.stack([feature(train.waveforms[i]) for i in chosen])
        means[int(speaker)] = features[int(speaker)].mean(axis=0)
    return means, features


def code_rows(seen_codes, target_centroids, converted_codes, target_ids):
    """The `speaker codes` columns of the module doc: `seen_codes` `{speaker: [n, dim]}` of the trained voices,
    `target_centroids` `{speaker: [dim]}` of the target voices, the codes of the converted waveforms and their target
    ids (one per pair)."""
    seen_centroids = {s: codes.mean(axis=0) for s, codes in seen_codes.items()}
    spread = np.mean([np.linalg.norm(c - seen_centroids[s], axis=1).mean() for s, c in seen_codes.items()])
    nearest = lambda x, exclude=None: min(float(np.linalg.norm(x - m)) for s, m in seen_centroids.items()  # noqa: E731
                                          if s != exclude)
    targets = sorted(set(int(t) for t in target_ids))
    return {"seen_to_nearest_seen": float(np.mean([nearest(m, s) for s, m in seen_centroids.items()])) / spread,
            "target_to_nearest_seen": float(np.mean([nearest(target_centroids[t]) for t in targets])) / spread,
            "converted_code_at_target": float(np.mean([
                np.linalg.norm(code - target_centroids[int(t)]) < nearest(code)
                for code, t in zip(converted_codes, target_ids)]))}


def dynamics_rows(model, sources, targets, pairs, seen_means, target_means, spreads):
    """The `dynamics` columns of the module doc for `pairs` (index triples, sources into `sources`, references and
    truths into `targets`; pairs without a truth are left out). `seen_means` and `target_means`: `speaker_means` of
    the trained voices (the sources' speakers) and of the target voices; `spreads`: `utterance_spreads(model)`."""
    convert_frames = one_utterance(model.convert_frames)
    error = lambda a, b: float(np.mean(np.abs(a - b)))  # noqa: E731
    nearest = lambda x: min(error(x, m) for m in seen_means.values())  # noqa: E731
    columns = {key: [] for key in ("truth", "reference", "source", "shifted", "nearest_seen", "truth_nearest_seen",
                                   "nearer_seen_than_truth", "source_to_truth")}
    for s, r, t in pairs:
        if t is None:
            continue
        frames = np.asarray(model.front_end.denormalize(tf.constant(convert_frames(sources.waveforms[s],
                                                                                    targets.waveforms[r])[None])))
        converted = np.asarray(log_spreads(frames))[0]
        truth, source = spreads(targets.waveforms[t]), spreads(sources.waveforms[s])
        shifted = source - seen_means[int(sources.speakers[s])] + target_means[int(targets.speakers[r])]
        columns["truth"].append(error(converted, truth))
        columns["reference"].append(error(converted, spreads(targets.waveforms[r])))
        columns["source"].append(error(converted, source))
        columns["shifted"].append(error(converted, shifted))
        columns["nearest_seen"].append(nearest(converted))
        columns["truth_nearest_seen"].append(nearest(truth))
        columns["nearer_seen_than_truth"].append(float(nearest(converted) < error(converted, truth)))
        columns["source_to_truth"].append(error(source, truth))
    return {key: float(np.mean(values)) for key, values in columns.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--pairs", type=int, default=32, help="the first pairs of the recipe's draw per condition")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    seed = flags["seed"]
    corpus, _, _, engine, seen, unseen = evaluation_setting(flags)
    if engine is None:
        raise SystemExit(f"{args.run} was evaluated without the held-out engine (festival): nothing to compare.")
    pool = corpus.subset(np.flatnonzero([len(w) >= MIN_SECONDS * 16000 for w in corpus.waveforms]))
    engine_speakers = sorted(set(engine.speakers.tolist()))
    conditions = {"unseen targets": (pool, unseen, 1), "held-out engine targets": (engine, engine_speakers, 2)}
    judge = speaker_judges(corpus, engine, one_utterance(model.resynthesize), flags["probe_utterances"], 20,
                           seed=seed)[0]
    convert = one_utterance(model.convert)
    spreads_of, code_of = utterance_spreads(model), one_utterance(model.encode_speaker)
    seen_means = speaker_means(spreads_of, corpus, seen, SPEAKER_MEAN_UTTERANCES, seed)[0]
    seen_codes = speaker_means(code_of, corpus, seen, SPEAKER_MEAN_UTTERANCES, seed)[1]
    names = lambda c, ids: {c.speaker_names[i] for i in ids}  # noqa: E731
    heard, dynamics, codes = {}, {}, {}
    for name, (targets, speakers, offset) in conditions.items():
        pairs = conversion_pairs(pool, targets, speakers, args.pairs, seed=seed + offset)
        converted = [convert(pool.waveforms[s], targets.waveforms[r]) for s, r, _ in pairs]
        predicted = judge.predict(converted)
        heard[name] = heard_as(predicted, [pool.speaker_names[pool.speakers[s]] for s, _, _ in pairs],
                               [targets.speaker_names[targets.speakers[r]] for _, r, _ in pairs],
                               names(corpus, seen), names(corpus, unseen), names(engine, engine_speakers))
        target_means = speaker_means(spreads_of, targets, speakers, SPEAKER_MEAN_UTTERANCES, seed)[0]
        dynamics[name] = dynamics_rows(model, pool, targets, pairs, seen_means, target_means, spreads_of)
        codes[name] = code_rows(seen_codes, speaker_means(code_of, targets, speakers, SPEAKER_MEAN_UTTERANCES, seed)[0],
                                [code_of(c) for c in converted], [targets.speakers[r] for _, r, _ in pairs])
    print(f"{args.run} (seed {seed}): the recipe's first {args.pairs} pairs per condition; heard as (MFCC judge)")
    print(format_table(heard, list(next(iter(heard.values())))))
    print("log cepstral spreads of the converted frames: mean |difference| (log units)")
    print(format_table(dynamics, list(next(iter(dynamics.values())))))
    print("speaker codes: distances in units of the trained voices' spread")
    print(format_table(codes, list(next(iter(codes.values())))))
    return heard, dynamics, codes


if __name__ == "__main__":
    main()
