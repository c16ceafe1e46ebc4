"""How much of what is said the speaker code carries, read from parallel speech (the same sentences, every speaker).

`python -m benchmarks.voice_conversion_speaker_code_content --run RUN_DIR [--sentences test|train] [--count 20]`
loads the newest checkpoint of a `keras_ae.recipes.voice_conversion` run (its flags give the corpus and the seed)
and codes `--count` sentences of the `--sentences` split (default the held-out ones; `train`: the first `--count`
training sentences) as said by every seen and every unseen eSpeak speaker. Per group of speakers and per
representation of an utterance, one vector each:

- `speaker code`: the model's `encode_speaker` (what the decoder's AdaIN layers read);
- `content code, mean`: the model's content code averaged over time (the content a time-average can hold);
- `log-mel, mean`: the front end's standardised frames of the real utterance averaged over time (no model).

Nothing is fitted. The columns:

- `sentence_share` and `speaker_share`: the variance components of a two-way layout `code[speaker, sentence] =
  mean + speaker part + sentence part + rest` (random effects, estimated from the mean squares, so the rest's noise
  is not counted as a sentence or a speaker part; summed over the code's floats), each over the total. A speaker
  code free of content has `sentence_share` 0;
- `sentence_retrieval`: each utterance, centred by its speaker's mean code over the sentences, looks for the same
  sentence among another speaker's centred codes (cosine, nearest); the share found, over every ordered pair of
  different speakers in the group (chance: 1 / `--count`).

A speaker code trained on the utterance it rebuilds (`speaker_reference="own"`) can carry the crop's content to the
decoder; one trained on another utterance of the speaker (`"other"`, AutoVC's recipe: Qian et al., ICML 2019)
cannot use it. Speed is not measured here.
"""

import argparse

import numpy as np

from benchmarks.voice_conversion_rhythm import load_run, run_corpus
from keras_ae.evaluation.conversion import one_utterance
from keras_ae.recipes.common import format_table


def variance_shares(codes):
    """`(speaker_share, sentence_share)` of `codes` `[speakers, sentences, dim]` (two-way random-effects layout
    without replication, the variance components from the mean squares, clipped at 0, summed over `dim`)."""
    codes = np.asarray(codes, np.float64)
    speakers, sentences = codes.shape[:2]
    if speakers < 2 or sentences < 2:
        raise ValueError(f"variance_shares needs at least 2 speakers and 2 sentences; got {speakers} x {sentences}.")
    grand = codes.mean(axis=(0, 1))
    speaker_part = codes.mean(axis=1) - grand
    sentence_part = codes.mean(axis=0) - grand
    rest = codes - grand - speaker_part[:, None] - sentence_part[None]
    rest_square = (rest ** 2).sum() / ((speakers - 1) * (sentences - 1))
    speaker_square = sentences * (speaker_part ** 2).sum() / (speakers - 1)
    sentence_square = speakers * (sentence_part ** 2).sum() / (sentences - 1)
    speaker_var = max(speaker_square - rest_square, 0.0) / sentences
    sentence_var = max(sentence_square - rest_square, 0.0) / speakers
    total = speaker_var + sentence_var + rest_square
    return speaker_var / total, sentence_var / total


def sentence_retrieval(codes):
    """The share of `codes` `[speakers, sentences, dim]`, centred per speaker, whose nearest (cosine) code of
    another speaker is the same sentence, over every ordered pair of different speakers."""
    centred = np.asarray(codes, np.float64) - np.mean(codes, axis=1, keepdims=True)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=-1, keepdims=True), 1e-12)
    speakers, sentences = unit.shape[:2]
    found = [np.mean(np.argmax(unit[a] @ unit[b].T, axis=1) == np.arange(sentences))
             for a in range(speakers) for b in range(speakers) if a != b]
    return float(np.mean(found))


def parallel_indices(corpus, speakers, sentences):
    """`[speakers, sentences]` corpus indices of each speaker's utterance of each sentence."""
    where = {(s, t): i for i, (s, t) in enumerate(zip(corpus.speakers.tolist(), corpus.sentences.tolist()))}
    missing = [(s, t) for s in speakers for t in sentences if (s, t) not in where]
    if missing:
        raise ValueError(f"the corpus lacks {len(missing)} speaker-sentence utterances (first {missing[0]}); the "
                         "measure needs parallel speech, every speaker saying every sentence.")
    return np.array([[where[(s, t)] for t in sentences] for s in speakers])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a voice_conversion run folder (config.json, checkpoint/)")
    parser.add_argument("--sentences", choices=("test", "train"), default="test",
                        help="the sentence split to code (test: held out from training)")
    parser.add_argument("--count", type=int, default=20, help="sentences (at most the split's)")
    args = parser.parse_args(argv)
    model, flags = load_run(args.run)
    corpus = run_corpus(flags)
    chosen = sorted(set(corpus.sentences[corpus.sentence_split == args.sentences].tolist()))[:args.count]
    if len(chosen) < 2:
        raise ValueError(f"the {args.sentences} split has {len(chosen)} sentence(s); the measure needs at least 2.")
    views = {"speaker code": one_utterance(model.encode_speaker),
             "content code, mean": lambda w, encode=one_utterance(model.encode): encode(w).mean(axis=0),
             "log-mel, mean": lambda w, frames=one_utterance(model.front_end): frames(w).mean(axis=0)}
    rows = {}
    for group in ("train", "test"):
        speakers = sorted(set(corpus.speakers[corpus.speaker_split == group].tolist()))
        indices = parallel_indices(corpus, speakers, chosen)
        for view, code in views.items():
            codes = np.stack([[code(corpus.waveforms[i]) for i in row] for row in indices])
            speaker_share, sentence_share = variance_shares(codes)
            rows[f"{'seen' if group == 'train' else 'unseen'} speakers, {view}"] = {
                "speakers": len(speakers), "sentences": len(chosen), "dim": codes.shape[-1],
                "speaker_share": speaker_share, "sentence_share": sentence_share,
                "sentence_retrieval": sentence_retrieval(codes), "chance": 1.0 / len(chosen)}
    print(f"run {args.run}, seed {flags['seed']}, speaker_reference {flags.get('speaker_reference', 'own')}: "
          f"{len(chosen)} {args.sentences} sentences said by every speaker")
    print(format_table(rows, ["speakers", "sentences", "dim", "speaker_share", "sentence_share",
                              "sentence_retrieval", "chance"]))
    return rows


if __name__ == "__main__":
    main()
