"""What the speech recipes share (`cpc`, `voice_conversion`, `vqvae --data speech`): the corpus flags, the corpus
they name (the synthesized eSpeak corpus or the user's audio), the crop length, and the held-out engine's voices.

`text_recipe` and `image_recipe` do the same for the other modalities; a speech recipe adds its model's flags,
builds its model and calls its evaluation.
"""

import shutil

import numpy as np

from keras_ae.core.validation import non_negative_int, positive_float, positive_int
from keras_ae.data.festival import load_engine_corpus, sentence_splits
from keras_ae.data.speech import SAMPLE_RATE, builtin_sentences, load_audio_corpus, load_speech_corpus

FESTIVAL_INSTALL = "sudo apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"


def add_corpus_flags(parser, held_out_speakers_help="speakers kept out of training"):
    """`--speakers`, `--sentences` and `--held-out-speakers` of the synthesized corpus, on `parser` (or a group)."""
    parser.add_argument("--speakers", type=positive_int, default=16, help="speakers of the synthesized corpus")
    parser.add_argument("--sentences", type=positive_int, default=200, help="sentences of the synthesized corpus")
    parser.add_argument("--held-out-speakers", type=non_negative_int, default=4, help=held_out_speakers_help)


def add_waveform_flags(parser, held_out_engine_help, held_out_speakers_help="speakers kept out of training"):
    """The corpus flags plus those of recipes that train on waveform crops and may read the user's audio files."""
    add_corpus_flags(parser, held_out_speakers_help)
    parser.add_argument("--crop-seconds", type=positive_float, default=1.28, help="length of the random training crops")
    parser.add_argument("--skip-bad", action="store_true",
                        help="skip unusable audio files (counted) instead of failing")
    parser.add_argument("--held-out-engine", choices=("auto", "festival", "none"), default="auto",
                        help=f"{held_out_engine_help} ('auto': when festival is installed)")


def load_corpus(args):
    """The corpus named by `--data`: `espeak` (synthesized) or a folder / manifest of the user's audio (decoded while
    training with `--stream`, where a recipe offers it)."""
    if args.data in (None, "espeak"):
        split = {"held_out_split": args.held_out_split} if hasattr(args, "held_out_split") else {}
        return load_speech_corpus(
            num_speakers=args.speakers, num_sentences=args.sentences, held_out_speakers=args.held_out_speakers,
            seed=args.seed, **split,
        )
    corpus = load_audio_corpus(args.data, skip_bad=args.skip_bad, min_seconds=args.crop_seconds, seed=args.seed,
                               decode=not getattr(args, "stream", False))
    if corpus.skipped:
        print(f"Skipped {len(corpus.skipped)} unusable file(s), e.g. {corpus.skipped[0][1]}")
    return corpus


def crop_length(args):
    """`--crop-seconds` in samples, a whole number of 10 ms frames."""
    return int(round(args.crop_seconds * SAMPLE_RATE / 160)) * 160


def held_out_engine_corpus(args, voices, train_sentences):
    """The Festival `voices` (never trained on) saying the first `train_sentences` training sentences of the
    synthesized corpus and all its test sentences, or None: with `--held-out-engine none`, on the user's data, or
    with `auto` when festival is not installed."""
    if args.held_out_engine == "none" or args.data not in (None, "espeak"):
        return None
    if shutil.which("festival") is None:
        if args.held_out_engine == "auto":
            print(f"Held-out engine skipped: festival is not installed ({FESTIVAL_INSTALL}).")
            return None
        raise FileNotFoundError(f"--held-out-engine festival needs the festival program and voices: {FESTIVAL_INSTALL}")
    sentences = builtin_sentences(args.sentences)
    split = sentence_splits(len(sentences), seed=args.seed)
    ids = np.concatenate([np.flatnonzero(split == "train")[:train_sentences], np.flatnonzero(split == "test")])
    return load_engine_corpus(voices, sentences, sentence_ids=ids, seed=args.seed)
