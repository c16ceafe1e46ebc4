"""What the voice-conversion decoder renders along the line from a voice's nearest trained voice to the voice itself.

`python -m benchmarks.voice_conversion_code_path --run RUN_DIR [--sources 6] [--steps 0 0.5 1 1.5 2 3]` loads the
newest checkpoint of a `keras_ae.recipes.voice_conversion` run (its flags give the corpus and the seed) and, for
every eSpeak speaker as the target (seen and unseen), takes its *proxy* (the seen speaker whose speaker-code
centroid is nearest the target's; centroids as in `benchmarks.voice_conversion_speaker_codes`) and decodes
`--sources` seeded source utterances (held-out sentences of seen speakers other than the two) with the speaker codes

    code(t) = proxy centroid + t * (target centroid - proxy centroid)

for each `--steps` value t (t = 0: the proxy's voice, t = 1: the target's centroid, t > 1: past it), with the
code of one real reference utterance of the target (another sentence, as the recipe converts: row `reference`), and
with the two parts of the step `target - proxy` (`span_split`): the part inside the span of the centroids of the
seen speakers other than the target (the directions in which a decoder trained on those voices has seen codes move:
row `in seen span`) and the rest (row `outside seen span`), each added to the proxy's centroid alone. For a seen
target the rest is still a direction training used (the target's own voice), for an unseen one it is not.
Per group (seen / unseen targets) and t it prints:

- `heard_target`, `heard_proxy`: the share of the vocoded decodings the recipe's independent MFCC speaker
  classifier (`speaker_judges`, fitted on real speech and its resynthesis of the 16 eSpeak speakers, never on a
  model's output) assigns to the target and to the proxy;
- `response`: how far the decoder's frames move toward the target, in units of how far the two real voices differ:
  `path_response` of the time-averaged log-mel frames (the front end's, before standardisation) against the target
  and the proxy really saying the source's sentence (the corpus is parallel). 1 at t = 1 is a decoder that renders a
  code's distance from the proxy in full; well below 1 is one that pulls the code back toward a voice it knows.

Seen targets are the control: their centroids are codes the decoder was trained on. If the unseen targets' response
at t = 1 is far below the seen ones' and `heard_target` rises only past t = 1, the decoder compresses new codes
toward its training voices; if it stays low at every t, the decoder cannot draw the new voice from this code
direction at all. Per group and per unseen voice, `code_in_span` is the share of the step's squared length inside
that span, and `real_in_span` the same share for the real difference the response is measured against (the two
voices' time-averaged log-mel frames of the source's sentence) inside the span of the other seen speakers' frames of
that sentence: how much of a new voice's sound the trained voices' differences can express at all. The span is that
of the corpus's seen speakers only, so for a run trained with `--extra-speakers` or `--speaker-augmentation` it is
not every direction training moved codes in. Rhythm conversion is not applied (the decoder gets the source's length). Nothing is fitted on a
model's output. Speed is not measured here.
"""

import argparse

import numpy as np
import tensorflow as tf

from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from benchmarks.voice_conversion_speaker_codes import MIN_SAMPLES, enrolled_centroids, nearest_distances
from keras_ae.core.validation import positive_int
from keras_ae.evaluation.conversion import one_utterance, speaker_judges
from keras_ae.recipes.common import format_table

FRAME_SAMPLES = 160  # 10 ms at 16 kHz: one decoder frame


def path_codes(start, end, steps):
    """`[len(steps), dim]` codes `start + t * (end - start)` for each t of `steps`."""
    start, end = np.asarray(start, np.float32), np.asarray(end, np.float32)
    return np.stack([start + np.float32(t) * (end - start) for t in steps])


def path_response(decoded, start, end):
    """For each row of `decoded` `[steps, bins]` (time-averaged frames decoded along a path; row 0 at the path's
    start), the share of the real difference `end - start` `[bins]` that the decoding moved from row 0:
    `<decoded[i] - decoded[0], end - start> / |end - start|^2`.

    >>> path_response([[0.0, 0.0], [1.0, 0.5], [2.0, 3.0]], [0.0, 0.0], [2.0, 0.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    decoded = np.asarray(decoded, np.float64)
    difference = np.asarray(end, np.float64) - np.asarray(start, np.float64)
    norm = float(difference @ difference)
    if norm == 0:
        raise ValueError("path_response needs two different end points (the two voices' mean frames are equal)")
    return (decoded - decoded[0]) @ difference / norm


def span_split(difference, points):
    """`(inside, outside)`: `difference` `[dim]` split into its orthogonal projection on the span of the
    differences between the rows of `points` `[n, dim]` (the directions of the affine hull of the points) and the
    rest.

    >>> [part.round(6).tolist() for part in span_split([1.0, 2.0, 3.0], [[0.0, 0.0, 5.0], [4.0, 0.0, 5.0]])]
    [[1.0, 0.0, 0.0], [0.0, 2.0, 3.0]]
    """
    difference, points = np.asarray(difference, np.float64), np.asarray(points, np.float64)
    if len(points) < 2:
        raise ValueError("span_split needs at least 2 points to span a direction")
    basis, singular, _ = np.linalg.svd((points - points.mean(axis=0)).T, full_matrices=False)
    basis = basis[:, singular > singular.max() * 1e-6]
    inside = basis @ (basis.T @ difference)
    return inside, difference - inside


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--sources", type=positive_int, default=6, help="source utterances per target speaker")
    parser.add_argument("--steps", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
                        help="path positions t (0: the proxy's centroid, 1: the target's); the first must be 0")
    parser.add_argument("--centroid-utterances", type=positive_int, default=40,
                        help="real utterances of training sentences per speaker for its centroid")
    args = parser.parse_args(argv)
    if args.steps[0] != 0:
        parser.error("--steps must start at 0 (the proxy's centroid: the response is measured from it)")
    model, flags = load_run(args.run)
    if flags.get("reference_attention"):
        parser.error("this benchmark decodes from a speaker code alone; the run uses reference attention")
    seed = flags["seed"]
    corpus = run_corpus(flags)
    encode_speaker, encode = one_utterance(model.encode_speaker), one_utterance(model.encode)
    log_mel = one_utterance(model.front_end.log_mel)
    decode = tf.function(lambda content, code, length: model.decoder(content, code, length=length, training=False),
                         input_signature=[tf.TensorSpec([1, None, None]), tf.TensorSpec([1, None]),
                                          tf.TensorSpec([], tf.int32)])
    vocoder = tf.function(model.vocoder, input_signature=[tf.TensorSpec([1, None, None])])
    rng = np.random.default_rng(seed)
    seen, unseen, centroids = enrolled_centroids(corpus, encode_speaker, args.centroid_utterances, rng)
    judge = speaker_judges(corpus, None, one_utterance(model.resynthesize), 160, 20, seed=seed)[0]
    rendering = {(int(s), int(t)): i for i, (s, t) in enumerate(zip(corpus.speakers, corpus.sentences))}
    long_enough = np.array([len(w) >= MIN_SAMPLES for w in corpus.waveforms])
    labels = [f"t={t:g}" for t in args.steps] + ["in seen span", "outside seen span", "reference"]
    hits = {group: {label: {"heard_target": [], "heard_proxy": [], "response": []} for label in labels}
            for group in ("seen targets", "unseen targets")}
    per_voice = {}
    spans = {group: {"code_in_span": [], "real_in_span": []} for group in hits}
    for target in seen + unseen:
        group = "seen targets" if target in seen else "unseen targets"
        proxy = nearest_distances(centroids[target], {s: centroids[s] for s in seen}, exclude=(target,))[0]
        sources = rng.choice(np.flatnonzero((corpus.sentence_split == "test") & np.isin(corpus.speakers, seen)
                                            & ~np.isin(corpus.speakers, [target, proxy]) & long_enough),
                             args.sources, replace=False)
        others = [s for s in seen if s != target]
        parts = span_split(centroids[target] - centroids[proxy], np.stack([centroids[s] for s in others]))
        code_in_span = float(parts[0] @ parts[0] / (parts[0] @ parts[0] + parts[1] @ parts[1]))
        codes = [*path_codes(centroids[proxy], centroids[target], args.steps),
                 *[(centroids[proxy] + part).astype(np.float32) for part in parts]]
        voice = {label: [] for label in labels}
        real_shares = []
        for source in sources:
            sentence = int(corpus.sentences[source])
            references = np.flatnonzero((corpus.speakers == target) & (corpus.sentences != sentence))
            reference_code = encode_speaker(corpus.waveforms[int(rng.choice(references))])
            content = encode(corpus.waveforms[source])[None]
            length = tf.constant(len(corpus.waveforms[source]) // FRAME_SAMPLES)
            frames = [decode(content, code[None], length) for code in [*codes, reference_code]]
            means = [np.asarray(model.front_end.denormalize(f))[0].mean(axis=0) for f in frames]
            real = [log_mel(corpus.waveforms[rendering[(s, sentence)]]).mean(axis=0) for s in (proxy, target)]
            response = path_response(means, *real)
            spoken = np.stack([log_mel(corpus.waveforms[rendering[(s, sentence)]]).mean(axis=0) for s in others])
            inside = span_split(real[1] - real[0], spoken)[0]
            real_shares.append(float(inside @ inside / np.sum(np.square(real[1] - real[0]))))
            heard = judge.predict([np.asarray(vocoder(f))[0] for f in frames])
            for label, name, value in zip(labels, heard, response):
                hits[group][label]["heard_target"].append(name == corpus.speaker_names[target])
                hits[group][label]["heard_proxy"].append(name == corpus.speaker_names[proxy])
                hits[group][label]["response"].append(value)
                voice[label].append(name == corpus.speaker_names[target])
        spans[group]["code_in_span"].append(code_in_span)
        spans[group]["real_in_span"].extend(real_shares)
        if target in unseen:
            per_voice[f"{corpus.speaker_names[target]} (proxy {corpus.speaker_names[proxy]})"] = {
                "code_in_span": code_in_span, "real_in_span": float(np.mean(real_shares)),
                **{label: f"{sum(voice[label])}/{len(voice[label])}" for label in labels}}
    rows = {f"{group}, {label}": {key: float(np.mean(values)) for key, values in columns.items()}
            for group, by_label in hits.items() for label, columns in by_label.items()}
    print(f"run {args.run}, seed {seed}: {args.sources} sources per target, {len(seen)} seen and {len(unseen)} "
          f"unseen targets; codes proxy + t (target - proxy) between speaker-code centroids of "
          f"{args.centroid_utterances} utterances, and one reference utterance's code")
    print(format_table(rows, ["heard_target", "heard_proxy", "response"]))
    print("unseen targets heard as themselves, per voice")
    print(format_table(per_voice, ["code_in_span", "real_in_span", *labels]))
    spans = {group: {key: float(np.mean(values)) for key, values in columns.items()} for group, columns in spans.items()}
    print("shares of the step (code) and of the real difference (log-mel) inside the other seen voices' span")
    print(format_table(spans, ["code_in_span", "real_in_span"]))
    return {"rows": rows, "per_voice": per_voice, "spans": spans}


if __name__ == "__main__":
    main()
