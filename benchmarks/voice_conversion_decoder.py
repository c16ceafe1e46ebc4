"""How fast the voice-conversion decoders learn: short, controlled training runs that print a table.

`python -m benchmarks.voice_conversion_decoder --epochs 1 --variant "adain:--kl-weight 0 --content-dim 4" --variant
"plain:--content-dim 4"` trains each variant (the voice-conversion recipe's flags; same corpus, crops, seed and
steps) one after the other and prints, per variant, the training frame L1 of the last epoch, the frame L1 of
held-out sentences of seen speakers rebuilt from their own codes (the decoder's quality without any conversion)
and the seconds per step. No evaluation, no export: the point is which change makes the decoder learn faster
within the recipe's budget (docs/results/voice_conversion.md).
"""

import argparse
import shlex
import time

import keras
import numpy as np

from keras_ae.data.speech import make_crop_dataset
from keras_ae.evaluation.conversion import one_utterance
from keras_ae.recipes.common import format_table, parse_flags
from keras_ae.recipes.speech_recipe import crop_length, load_corpus
from keras_ae.recipes.voice_conversion import QUICK, build_model, build_parser, check_speakers


def held_out_l1(model, corpus, count=48, seed=0):
    """Mean absolute error of the log-mel frames of `count` held-out utterances rebuilt from their own content and
    speaker codes."""
    corpus = corpus.sample(min(count, len(corpus)), seed)
    rebuild = one_utterance(model.convert_frames)
    front_end = one_utterance(model.front_end)
    errors = []
    for waveform in corpus.waveforms:
        frames = front_end(waveform)
        rebuilt = rebuild(waveform, waveform)
        errors.append(float(np.mean(np.abs(rebuilt[: len(frames)] - frames[: len(rebuilt)]))))
    return float(np.mean(errors))


def run_variant(flags, seed):
    args = parse_flags(build_parser(), shlex.split(flags) + ["--seed", str(seed)], quick=QUICK)
    keras.utils.set_random_seed(args.seed)
    corpus = check_speakers(load_corpus(args), args)
    train = corpus.select(sentences="train", speakers="train")
    test = corpus.select(sentences="test", speakers="train")
    data = make_crop_dataset(train, crop_length(args), args.batch_size, shuffle=True, seed=args.seed, skip_short=True)
    model = build_model(args, corpus.num_speakers)
    model.adapt(train.sample(400, args.seed).waveforms)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    started = time.perf_counter()
    history = model.fit(data, epochs=args.epochs, verbose=0)
    seconds = time.perf_counter() - started
    steps = args.epochs * len(data)
    return {"train_frame_l1": history.history["frame_l1"][-1], "held_out_frame_l1": held_out_l1(model, test),
            "steps": steps, "seconds_per_step": seconds / steps}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", required=True,
                        help="NAME:RECIPE FLAGS, e.g. 'adain:--method adain --kl-weight 0' (repeatable)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = {}
    for variant in args.variant:
        name, _, flags = variant.partition(":")
        rows[name] = run_variant(f"{flags} --epochs {args.epochs}", args.seed)
        print(name, rows[name], flush=True)
    print(format_table(rows, ["train_frame_l1", "held_out_frame_l1", "steps", "seconds_per_step"]))


if __name__ == "__main__":
    main()
