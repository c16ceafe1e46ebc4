"""Probe exported CPC models on the in-domain test sentences and on the held-out engine, as a new user would.

    python benchmarks/held_out_engine.py saved_models/cpc [more exports...] [--signature encode_frames]

Loads each SavedModel with `tf.saved_model.load` (only its `encode` or `encode_frames` signature is used), then runs
the CPC recipe's probe protocol twice: on the default eSpeak corpus (fitted on 960 training utterances of the seen
speakers, tested on their unseen sentences) and on the held-out Festival voices (`--held-out-voices`; fitted on
their renderings of training sentences, tested on the unseen sentences with Festival's own labels). MFCC and
MFCC + deltas rows come first. Prints one table per test set.
"""

import argparse
import os
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from keras_ae.evaluation.speech import chance_row, mfcc_features, probe_row  # noqa: E402
from keras_ae.recipes import cpc  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="*", help="SavedModel folders written by the cpc recipe")
    parser.add_argument("--signature", default="encode", choices=("encode", "encode_frames"))
    parser.add_argument("--no-baselines", dest="baselines", action="store_false")
    parser.add_argument("--held-out-voices", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    flags = parse_flags(cpc.build_parser(), ["--seed", str(args.seed), "--held-out-voices",
                                             str(args.held_out_voices), "--held-out-engine", "festival"])
    corpus = cpc.load_corpus(flags)
    _, _, probe_train, probe_test = cpc.splits(corpus, flags)
    test_sets = {"in-domain (eSpeak, unseen sentences)": (probe_train, probe_test),
                 "held-out engine (Festival)": cpc.held_out_engine_splits(flags)}
    encoders = {}
    if args.baselines:
        encoders["MFCC"] = (partial(mfcc_features, deltas=False), 13)
        encoders["MFCC + deltas"] = (mfcc_features, 39)
    loaded = [tf.saved_model.load(path) for path in args.exports]  # kept alive: signatures use their variables
    for path, model in zip(args.exports, loaded):
        encoders[f"{path} ({args.signature})"] = (getattr(model, args.signature), None)
    for title, (fit_on, test_on) in test_sets.items():
        rows = {name: probe_row(encode, fit_on, test_on, dim or "-", args.seed)
                for name, (encode, dim) in encoders.items()}
        rows["chance"] = chance_row(fit_on, test_on)
        print(f"{title}\n{format_table(rows, cpc.COLUMNS)}\n")


if __name__ == "__main__":
    main()
