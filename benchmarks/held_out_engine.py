"""Probe exported CPC models on the in-domain test sentences and on the held-out engine, as a new user would.

    python benchmarks/held_out_engine.py saved_models/cpc [more exports...] [--signature encode_frames]

Loads each SavedModel with `tf.saved_model.load` (only its `encode` or `encode_frames` signature is used), then runs
the CPC recipe's probe protocol twice: on the default eSpeak corpus (fitted on 960 training utterances of the seen
speakers, tested on their unseen sentences) and on the held-out Festival voices (`--held-out-voices`; fitted on
their renderings of training sentences, tested on the unseen sentences with Festival's own labels). MFCC and
MFCC + deltas rows come first. Prints one table per test set.

    python benchmarks/held_out_engine.py saved_models/cpc --views c z z+c c+2 --utterance-norm

`--views` probes other features of each export than its `encode` output (computed once per test set): `c` the
context (`encode`), `z` the encoder's frames (`encode_frames`), `z+c` both side by side, `c+S` the context `S`
frames later (`c_{t+S}` for the label of frame `t`: the causal context has then heard `S` frames past the frame it
labels). `--utterance-norm` adds every row again with each utterance's features standardised over its own frames
(`evaluation.speech.utterance_normalized`); the speaker probe of those rows is meaningless (every utterance's mean
is zero), so only their phone probe is printed.
"""

import argparse
import os
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

import numpy as np  # noqa: E402

from keras_ae.evaluation.speech import (  # noqa: E402
    chance_row,
    feature_row,
    mfcc_features,
    utterance_features,
    utterance_normalized,
)
from keras_ae.recipes import cpc  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exports", nargs="*", help="SavedModel folders written by the cpc recipe")
    parser.add_argument("--signature", default="encode", choices=("encode", "encode_frames"),
                        help="the features of the `c` view (without --views: the one view probed)")
    parser.add_argument("--views", nargs="+", default=["c"], help="c, z, z+c, c+S (see above)")
    parser.add_argument("--utterance-norm", action="store_true", help="add utterance-normalised rows")
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
    sources = {}  # name -> {feature name: encode function}
    if args.baselines:
        sources["MFCC"] = {"c": partial(mfcc_features, deltas=False)}
        sources["MFCC + deltas"] = {"c": mfcc_features}
    loaded = [tf.saved_model.load(path) for path in args.exports]  # kept alive: signatures use their variables
    for path, model in zip(args.exports, loaded):
        sources[path] = {"c": getattr(model, args.signature), "z": model.encode_frames}
    for title, (fit_on, test_on) in test_sets.items():
        rows = {}
        for source, encoders in sources.items():
            features = {}  # computed once per feature and split
            baseline = source in ("MFCC", "MFCC + deltas")
            for view in ["c"] if baseline else args.views:
                train_features, test_features = (
                    view_features(view, encoders, split.waveforms, features, key) for key, split in
                    (("train", fit_on), ("test", test_on)))
                name = source if baseline else f"{source} {view}"
                rows[name] = feature_row(train_features, test_features, fit_on, test_on,
                                         train_features[0].shape[-1], args.seed)
                if args.utterance_norm:
                    row = feature_row(utterance_normalized(train_features), utterance_normalized(test_features),
                                      fit_on, test_on, train_features[0].shape[-1], args.seed)
                    rows[f"{name}, utterance-normalised"] = {**row, "speaker": "-"}
        rows["chance"] = chance_row(fit_on, test_on)
        print(f"{title}\n{format_table(rows, cpc.COLUMNS)}\n", flush=True)


def view_features(view, encoders, waveforms, cache, split):
    """Per-utterance features `[frames, dim]` of one view (`c`, `z`, `z+c`, `c+S`); `cache` keeps `c` and `z`."""
    def base(key):
        if (key, split) not in cache:
            cache[key, split] = utterance_features(encoders[key], waveforms)
        return cache[key, split]

    if view in ("c", "z"):
        return base(view)
    if view == "z+c":
        return [np.concatenate([z, c], axis=-1) for z, c in zip(base("z"), base("c"))]
    if view.startswith("c+") and view[2:].isdigit():
        shift = int(view[2:])
        return [np.concatenate([c[shift:], np.repeat(c[-1:], min(shift, len(c)), axis=0)]) for c in base("c")]
    raise ValueError(f"Unknown view {view!r}: use c, z, z+c or c+S.")


if __name__ == "__main__":
    main()
