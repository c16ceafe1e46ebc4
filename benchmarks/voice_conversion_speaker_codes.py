"""Where the speaker encoder puts unseen voices, and where conversions to them land, in speaker-code space.

`python -m benchmarks.voice_conversion_speaker_codes --run RUN_DIR [--pairs 32] [--centroid-utterances 40]
[--training-voices] [--classifier]` loads
the newest checkpoint of a `keras_ae.recipes.voice_conversion` run (its flags give the corpus and the seed) and
measures, with the model's own speaker encoder (`encode_speaker`) and nothing fitted on a conversion:

- *centroids*: each speaker's mean speaker code over `--centroid-utterances` of its real utterances of training
  sentences, for the seen (trained) and the held-out (unseen) eSpeak speakers alike;
- *real speech* (held-out sentences): the Euclidean distance of each utterance's code to its own speaker's centroid
  and to the nearest centroid of a seen speaker other than its own, and which of all centroids is nearest (own, a
  seen speaker, another unseen speaker). If the encoder mapped unseen voices onto seen ones, an unseen utterance
  would lie nearer a seen centroid than its own;
- *centroid geometry*: each unseen speaker's distance to its nearest seen centroid, beside the seen speakers'
  distances to their nearest other seen centroid (how far a new voice sits outside the trained ones);
- *converted speech* (the recipe's seeded pairs of held-out sentences, seen and unseen targets): the code of the
  converted waveform against the target's centroid, the code of the reference the decoder was given, the nearest
  seen centroid other than the target's and the source's centroid; and which centroid is nearest (the target, the
  source, the seen speaker nearest the target's centroid (its "proxy"), another speaker). A decoder that renders
  an unseen voice as the nearest seen one shows as conversions nearer the proxy than the target;
- with `--training-voices`, every training voice's centroid, the run's `--extra-speakers` included (its
  `centroid_utterances` of the training pool, the recipe's `adapt_speaker_centroids` draw): how far each training
  voice lies from its nearest other one (mean and median), and each unseen speaker's nearest training voice and the
  distance to it, also as a share of that mean (below 1: a new voice lies among the trained ones rather than
  outside them) and in spreads (a seen speaker's real utterances' mean distance to their own centroid). With more
  training voices the unseen ones may lie nearer one (`--extra-speakers 32` against 128: does their number cover
  new voices?);
- with `--classifier`, the same four shares by the recipe's independent MFCC speaker classifier (`speaker_judges`:
  fitted on real training-sentence speech of the 16 eSpeak speakers and 20 resynthesised utterances each; the
  recipe's own also knows the Festival voices) on the same conversions: whether the waveform is heard as the target,
  the source, or the target's seen proxy, and per unseen target whom else it hears most.

Speed is not measured here.
"""

import argparse
from argparse import Namespace

import numpy as np

from benchmarks.voice_conversion_rescore import evaluation_setting
from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from keras_ae.data.speech import HELD_OUT_SPLITS
from keras_ae.evaluation.conversion import conversion_pairs, one_utterance, speaker_judges
from keras_ae.recipes.common import format_table
from keras_ae.recipes.voice_conversion import CENTROID_UTTERANCES, centroid_utterances, with_extra_speakers

MIN_SAMPLES = 4800  # the recipe's MIN_SECONDS (0.3 s), as in benchmarks.voice_conversion_phones


def speaker_centroids(codes, speakers):
    """`{speaker: mean code}` over the rows of `codes` [n, dim] labelled `speakers` [n]."""
    speakers = np.asarray(speakers)
    return {int(s): codes[speakers == s].mean(axis=0) for s in np.unique(speakers)}


def enrolled_centroids(corpus, encode_speaker, utterances, rng):
    """`(seen, unseen, centroids)`: the corpus's seen and unseen speaker ids and every one's centroid
    (`speaker_centroids` of `encode_speaker`'s codes) over `utterances` of its real utterances of training sentences,
    drawn with `rng`."""
    seen = sorted(set(corpus.select(sentences="train", speakers="train").speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    enrol = np.concatenate([rng.choice(np.flatnonzero((corpus.speakers == s) & (corpus.sentence_split == "train")),
                                       utterances, replace=False) for s in seen + unseen])
    centroids = speaker_centroids(np.stack([encode_speaker(corpus.waveforms[i]) for i in enrol]),
                                  corpus.speakers[enrol])
    return seen, unseen, centroids


def nearest_distances(code, centroids, exclude=()):
    """The nearest centroid (speaker id) to `code` and its Euclidean distance, leaving out the ids in `exclude`."""
    names = [s for s in centroids if s not in exclude]
    distances = [float(np.linalg.norm(code - centroids[s])) for s in names]
    best = int(np.argmin(distances))
    return names[best], distances[best]


def real_speech_rows(codes, speakers, centroids, seen, names=None):
    """Per group (seen / unseen speakers, and each unseen speaker when `names` gives their names): mean distance to
    the own centroid and to the nearest other seen centroid, and the shares of utterances whose nearest centroid
    (of all speakers) is their own, a seen speaker's or another unseen speaker's."""
    rows = {}
    unseen = [s for s in centroids if s not in seen]
    groups = [("seen speakers", [s for s in centroids if s in seen]), ("unseen speakers", unseen)]
    groups += [(f"unseen {names[s]}", [s]) for s in unseen] if names is not None else []
    for group, members in groups:
        own, other_seen, nearest = [], [], []
        for code, speaker in zip(codes, speakers):
            if int(speaker) not in members:
                continue
            own.append(float(np.linalg.norm(code - centroids[int(speaker)])))
            other_seen.append(nearest_distances(code, {s: centroids[s] for s in seen}, exclude=(int(speaker),))[1])
            nearest.append(nearest_distances(code, centroids)[0])
        nearest = np.asarray(nearest)
        speaker_ids = np.asarray([int(s) for s in speakers if int(s) in members])
        rows[group] = {
            "utterances": len(own), "to_own": float(np.mean(own)), "to_nearest_other_seen": float(np.mean(other_seen)),
            "nearest_is_own": float(np.mean(nearest == speaker_ids)),
            "nearest_is_other_seen": float(np.mean([n in seen and n != s for n, s in zip(nearest, speaker_ids)])),
            "nearest_is_other_unseen": float(np.mean([n not in seen and n != s for n, s in zip(nearest, speaker_ids)])),
        }
    return rows


def centroid_rows(centroids, seen, names):
    """One row per speaker: its nearest seen centroid (other than its own) and the distance to it."""
    rows = {}
    for speaker in sorted(centroids, key=lambda s: (s not in seen, s)):
        proxy, distance = nearest_distances(centroids[speaker], {s: centroids[s] for s in seen}, exclude=(speaker,))
        rows[f"{'seen' if speaker in seen else 'unseen'} {names[speaker]}"] = {
            "nearest_seen": names[proxy], "distance": distance}
    return rows


def training_voice_rows(trained, unseen_centroids, spread, names):
    """`(summary, per_unseen)`: for `trained` `{name: centroid}` (every training voice), the mean and median distance
    of a training voice's centroid to its nearest other one; for `unseen_centroids` `{id: centroid}`, each one's
    nearest training voice, the distance to it, that distance over the summary's mean (`share_of_trained_spacing`)
    and over `spread`.

    >>> summary, rows = training_voice_rows({"a": np.zeros(2), "b": np.array([2.0, 0.0]), "c": np.array([0.0, 4.0])},
    ...                                     {7: np.array([1.0, 0.0])}, 0.5, {7: "new"})
    >>> summary["voices"], summary["to_nearest_other_mean"], rows["unseen new"]["nearest_training_voice"]
    (3, 2.6666666666666665, 'a')
    >>> rows["unseen new"]["distance"], rows["unseen new"]["in_spreads"]
    (1.0, 2.0)
    """
    spacing = [nearest_distances(centroid, trained, exclude=(name,))[1] for name, centroid in trained.items()]
    summary = {"voices": len(trained), "to_nearest_other_mean": float(np.mean(spacing)),
               "to_nearest_other_median": float(np.median(spacing))}
    rows = {}
    for speaker, centroid in unseen_centroids.items():
        nearest, distance = nearest_distances(centroid, trained)
        rows[f"unseen {names[speaker]}"] = {
            "nearest_training_voice": nearest, "distance": distance,
            "share_of_trained_spacing": distance / summary["to_nearest_other_mean"], "in_spreads": distance / spread}
    return summary, rows


def training_centroids(flags, encode_speaker):
    """`{voice name: centroid}` of every voice a run trained on (its seen speakers and `--extra-speakers`), over the
    recipe's `centroid_utterances` of its training pool."""
    corpus, train, *_ = evaluation_setting(flags)
    pool, _ = with_extra_speakers(corpus, train, Namespace(**flags))
    enrol = centroid_utterances(pool, CENTROID_UTTERANCES, flags["seed"])
    codes = speaker_centroids(np.stack([encode_speaker(w) for w in enrol.waveforms]), enrol.speakers)
    return {pool.speaker_names[s]: code for s, code in codes.items()}


def conversion_row(converted_codes, reference_codes, pairs, corpus, centroids, seen):
    """The converted-speech columns of the module doc over `pairs` (source, reference, truth) index triples."""
    seen_centroids = {s: centroids[s] for s in seen}
    columns = {key: [] for key in ("to_target", "to_reference_code", "to_nearest_other_seen", "to_source",
                                   "nearest_is_target", "nearest_is_source", "nearest_is_proxy", "nearest_is_other")}
    for code, reference_code, (source, reference, _) in zip(converted_codes, reference_codes, pairs):
        target, source_speaker = int(corpus.speakers[reference]), int(corpus.speakers[source])
        proxy = nearest_distances(centroids[target], seen_centroids, exclude=(target,))[0]
        nearest = nearest_distances(code, centroids)[0]
        columns["to_target"].append(float(np.linalg.norm(code - centroids[target])))
        columns["to_reference_code"].append(float(np.linalg.norm(code - reference_code)))
        columns["to_nearest_other_seen"].append(nearest_distances(code, seen_centroids, exclude=(target,))[1])
        columns["to_source"].append(float(np.linalg.norm(code - centroids[source_speaker])))
        columns["nearest_is_target"].append(nearest == target)
        columns["nearest_is_source"].append(nearest == source_speaker)
        columns["nearest_is_proxy"].append(nearest == proxy and proxy != source_speaker)
        columns["nearest_is_other"].append(nearest not in (target, source_speaker, proxy))
    return {"pairs": len(pairs), **{key: float(np.mean(values)) for key, values in columns.items()}}


def assignment_shares(predicted, pairs, corpus, centroids, seen):
    """Shares of `predicted` speaker ids (one per pair) that are the target, the source, the target's proxy (the
    seen speaker whose centroid is nearest the target's) or another speaker."""
    seen_centroids = {s: centroids[s] for s in seen}
    counts = {"target": 0, "source": 0, "proxy": 0, "other": 0}
    for speaker, (source, reference, _) in zip(predicted, pairs):
        target, source_speaker = int(corpus.speakers[reference]), int(corpus.speakers[source])
        proxy = nearest_distances(centroids[target], seen_centroids, exclude=(target,))[0]
        key = ("target" if speaker == target else "source" if speaker == source_speaker
               else "proxy" if speaker == proxy else "other")
        counts[key] += 1
    return {f"classifier_{key}": value / len(pairs) for key, value in counts.items()}


def heard_rows(predicted, pairs, corpus, names, seen):
    """Per target speaker of `pairs`: its pairs, the share the classifier hears as the target, as a seen and as an
    unseen speaker other than the target, and the two other speakers it hears most (name and count)."""
    rows = {}
    targets = [int(corpus.speakers[reference]) for _, reference, _ in pairs]
    for target in sorted(set(targets)):
        heard = [p for p, t in zip(predicted, targets) if t == target]
        others = [p for p in heard if p != target]
        common = sorted(set(others), key=lambda p: (-others.count(p), p))[:2]
        rows[names[target]] = {
            "pairs": len(heard), "heard_target": heard.count(target) / len(heard),
            "heard_other_seen": sum(p in seen for p in others) / len(heard),
            "heard_other_unseen": sum(p not in seen for p in others) / len(heard),
            "most_heard_others": ", ".join(f"{names[p]} ({others.count(p)})" for p in common) or "-",
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--pairs", type=int, default=32, help="conversions per condition (the recipe's 32)")
    parser.add_argument("--centroid-utterances", type=int, default=40,
                        help="real utterances of training sentences per speaker for its centroid")
    parser.add_argument("--classifier", action="store_true",
                        help="also fit the recipe's MFCC speaker classifier and say whom it hears in the conversions")
    parser.add_argument("--training-voices", action="store_true",
                        help="also place the unseen speakers among every training voice (extra speakers included)")
    parser.add_argument("--held-out-split", choices=HELD_OUT_SPLITS, default=None,
                        help="score the run's weights on this held-out split (default: the run's own); the seen "
                        "speakers are the same in every split")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    seed = flags["seed"]
    corpus = run_corpus(flags, args.held_out_split)
    encode_speaker, convert = one_utterance(model.encode_speaker), one_utterance(model.convert)
    rng = np.random.default_rng(seed)
    seen, unseen, centroids = enrolled_centroids(corpus, encode_speaker, args.centroid_utterances, rng)
    held_out = np.flatnonzero(corpus.sentence_split == "test")
    test = np.concatenate([rng.choice(held_out[corpus.speakers[held_out] == s], 20, replace=False)
                           for s in seen + unseen])
    test_codes = np.stack([encode_speaker(corpus.waveforms[i]) for i in test])
    split = args.held_out_split or flags.get("held_out_split", "legacy")
    print(f"run {args.run}, seed {seed}, held-out split {split}: {len(seen)} seen and {len(unseen)} unseen speakers, "
          f"centroids of {args.centroid_utterances} training-sentence utterances each, speaker code "
          f"{test_codes.shape[1]} floats; Euclidean distances")
    real = real_speech_rows(test_codes, corpus.speakers[test], centroids, seen, names=corpus.speaker_names)
    print("real speech, held-out sentences (20 utterances per speaker)")
    print(format_table(real,
                       ["utterances", "to_own", "to_nearest_other_seen", "nearest_is_own", "nearest_is_other_seen",
                        "nearest_is_other_unseen"]))
    geometry = centroid_rows(centroids, seen, corpus.speaker_names)
    print("centroids: the nearest seen centroid of each speaker")
    print(format_table(geometry, ["nearest_seen", "distance"]))
    training = None
    if args.training_voices:
        spread = real["seen speakers"]["to_own"]
        training = training_voice_rows(training_centroids(flags, encode_speaker),
                                       {s: centroids[s] for s in unseen}, spread, corpus.speaker_names)
        print(f"training voices: {training[0]['voices']}, each {training[0]['to_nearest_other_mean']:.3f} (median "
              f"{training[0]['to_nearest_other_median']:.3f}) from its nearest other one; spread {spread:.3f}")
        print(format_table(training[1], ["nearest_training_voice", "distance", "share_of_trained_spacing",
                                         "in_spreads"]))
    pool = corpus.subset(np.flatnonzero([len(w) >= MIN_SAMPLES for w in corpus.waveforms]))
    judge = None
    if args.classifier:
        judge = speaker_judges(corpus, None, one_utterance(model.resynthesize), 160, 20, seed=seed)[0]
        names = {name: index for index, name in enumerate(corpus.speaker_names)}
    rows, heard = {}, {}
    for offset, (name, speakers) in enumerate({"seen targets": seen, "unseen targets": unseen}.items()):
        pairs = conversion_pairs(pool, pool, speakers, args.pairs, seed=seed + offset)  # the recipe's pairs
        waveforms = [convert(pool.waveforms[s], pool.waveforms[r]) for s, r, _ in pairs]
        converted = np.stack([encode_speaker(w) for w in waveforms])
        references = np.stack([encode_speaker(pool.waveforms[r]) for _, r, _ in pairs])
        rows[name] = conversion_row(converted, references, pairs, pool, centroids, seen)
        if judge is not None:
            predicted = [names[n] for n in judge.predict(waveforms)]
            rows[name].update(assignment_shares(predicted, pairs, pool, centroids, seen))
            heard[name] = heard_rows(predicted, pairs, pool, corpus.speaker_names, seen)
    print(f"converted speech, the recipe's pairs (rhythm conversion {'on' if model.rhythm_conversion else 'off'})")
    print(format_table(rows, ["pairs", "to_target", "to_reference_code", "to_nearest_other_seen", "to_source",
                              "nearest_is_target", "nearest_is_source", "nearest_is_proxy", "nearest_is_other"]))
    if judge is not None:
        print("the MFCC speaker classifier (16 eSpeak speakers) on the same conversions")
        print(format_table(rows, ["classifier_target", "classifier_source", "classifier_proxy", "classifier_other"]))
        print("whom the classifier hears, per unseen target")
        print(format_table(heard["unseen targets"], ["pairs", "heard_target", "heard_other_seen", "heard_other_unseen",
                                                     "most_heard_others"]))
    return {"real": real, "centroids": geometry, "training_voices": training, "converted": rows, "heard": heard}


if __name__ == "__main__":
    main()
