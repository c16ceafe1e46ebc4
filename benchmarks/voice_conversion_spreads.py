"""How much of an utterance's cepstral spreads is speaker, sentence or neither, and what that means for the
dynamics match's converted-frame target: `python -m benchmarks.voice_conversion_spreads --seed 0`.

The dynamics match (`DynamicsMatchJudge`) compares 38 log spreads (`log_spreads`: the standard deviations over time
of c1-c12 and of the deltas and delta-deltas of c0-c12). On the seen speakers' training sentences of the default
eSpeak corpus (whole utterances, and one random 1.28 s training crop of each) it fits the additive split
`L[speaker, sentence] = g + a[speaker] + b[sentence] + r` and prints, over random pairs (i, j) of different speakers
and sentences, as a training batch's converted frames pair them:
- the speaker difference `|a_j - a_i|`, what a conversion from i's speaker to j's should change;
- the error of session 16's target (the reference's own spreads, another sentence) against the ideal one (i's
  sentence in j's voice), `|b_j - b_i + r_j - r_i|`;
- the error of the speaker-shifted target (`--dynamics-target speaker-shift`: i's spreads moved by the speakers'
  means), `|r_i|`;
- the error of the blended target (`--dynamics-target blend`: `w * L_j + (1 - w) * L_i`, `w` the `speaker_share`
  of each spread), `|w (L_j - L_i) + a_i - a_j + r_i|` (against the shifted target's ideal `g + a_j + b_i`), with
  `w` from the same spreads and, for the crops, also from the whole utterances as the recipe sets it;
- the error of the source-deviation target (`--dynamics-target source-deviation`: j's own spreads plus i's
  deviation from its speaker's mean, `L_j + L_i - m_i`), `|b_j + r_j + r_i|`.
All are means over pairs and the 38 coefficients, in log units (0.1: about 10%). Beside each target's error, its
bias for a pair of speakers (`..._pair_bias`): the mean over speaker pairs and coefficients of |the mean error of
that pair's conversions|, what a decoder that averages its target over crops learns to miss (a noise floor of about
0.01 from about 140 pairs each).
"""

import argparse

import numpy as np
import tensorflow as tf

from keras_ae.data.speech import load_speech_corpus
from keras_ae.layers.audio.log_mel import LogMelSpectrogram
from keras_ae.layers.judges.dynamics_match_judge import log_spreads, speaker_share


def spread_components(spreads, speakers, sentences, pairs=20000, seed=0, share=None):
    """The additive split of log spreads `[n, 38]` by int `speakers` and `sentences` `[n]`, and the pair errors of
    the module doc: a dict of mean |.| values (`speaker_difference`, `reference_target_error`,
    `shifted_target_error`, `blend_target_error`, `source_deviation_target_error`, and each target's
    `..._pair_bias`), per-coefficient standard deviations (`speaker_std`, `sentence_std`, `residual_std`) and the
    blend's mean weight `blend_share` (`share` `[38]`, None: the `speaker_share` of these spreads).

    Example:
        speakers, sentences = np.repeat(np.arange(4), 5), np.tile(np.arange(5), 4)
        spreads = np.outer(speakers, np.ones(38)) + np.outer(sentences, np.ones(38)) / 10
        spread_components(spreads, speakers, sentences)["shifted_target_error"]    # about 0: no residual
    """
    spreads = np.asarray(spreads, "float64")
    grand = spreads.mean(axis=0)
    speaker_effect = {s: spreads[speakers == s].mean(axis=0) - grand for s in np.unique(speakers)}
    sentence_effect = {t: spreads[sentences == t].mean(axis=0) - grand for t in np.unique(sentences)}
    a = np.stack([speaker_effect[s] for s in speakers])
    b = np.stack([sentence_effect[t] for t in sentences])
    r = spreads - grand - a - b
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(spreads), pairs), rng.integers(0, len(spreads), pairs)
    keep = (speakers[i] != speakers[j]) & (sentences[i] != sentences[j])
    i, j = i[keep], j[keep]
    share = speaker_share(spreads, speakers) if share is None else np.asarray(share, "float64")
    errors = {"reference": b[j] - b[i] + r[j] - r[i], "shifted": r[i],
              "blend": share * (spreads[j] - spreads[i]) + a[i] - a[j] + r[i], "source_deviation": b[j] + r[j] + r[i]}
    _, pair = np.unique(np.stack([speakers[i], speakers[j]], axis=1), axis=0, return_inverse=True)
    pair = pair.reshape(-1)
    parts = {"blend_share": float(np.mean(share)), "speaker_std": float(np.mean(a.std(axis=0))),
             "sentence_std": float(np.mean(b.std(axis=0))), "residual_std": float(np.mean(r.std(axis=0))),
             "speaker_difference": float(np.mean(np.abs(a[j] - a[i])))}
    for name, error in errors.items():
        pair_means = np.stack([error[pair == k].mean(axis=0) for k in range(pair.max() + 1)])
        parts[f"{name}_target_error"] = float(np.mean(np.abs(error)))
        parts[f"{name}_pair_bias"] = float(np.mean(np.abs(pair_means)))
    return parts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="the corpus seed (as the recipe's --seed)")
    parser.add_argument("--crop-seconds", type=float, default=1.28, help="length of the training crops")
    args = parser.parse_args(argv)
    corpus = load_speech_corpus(num_speakers=16, num_sentences=200, held_out_speakers=4, seed=args.seed,
                                held_out_split="variant").select(sentences="train", speakers="train")
    front_end = LogMelSpectrogram(80)
    spreads = tf.function(lambda waveform: log_spreads(front_end.log_mel(waveform)),
                          input_signature=[tf.TensorSpec([1, None], tf.float32)])
    rng, crop = np.random.default_rng(args.seed), int(args.crop_seconds * 100) * 160
    whole, crops = [], []
    for waveform in corpus.waveforms:
        waveform = np.asarray(waveform, "float32")
        start = rng.integers(0, max(1, len(waveform) - crop))
        whole.append(spreads(waveform[None]).numpy()[0])
        crops.append(spreads(waveform[None, start:start + crop]).numpy()[0])
    whole_share = speaker_share(np.stack(whole), corpus.speakers)
    for name, values, share in (("whole utterances", whole, None), (f"{args.crop_seconds} s crops", crops, None),
                                (f"{args.crop_seconds} s crops, the whole utterances' share", crops, whole_share)):
        parts = spread_components(np.stack(values), corpus.speakers, corpus.sentences, seed=args.seed, share=share)
        print(f"{name} ({len(values)}): " + ", ".join(f"{key} {value:.3f}" for key, value in parts.items()))
    print("speaker share per spread (whole utterances): " + " ".join(f"{value:.2f}" for value in whole_share))


if __name__ == "__main__":
    main()
