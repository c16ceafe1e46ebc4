"""Does one training step of a text_summary stage repeat? The same step, from the same weights, optimizer state and
batch, run again and again in one process.
    python benchmarks/text_summary_repeat_step.py --pretrained FILE [--variant reconstruction_anchor_0.01]
        [--calls 200] [recipe flags: --seed, ...]
Builds the stage as the stage benchmark does (`text_summary_stages.build_stage`, from the pretrained weights FILE),
trains it one step (so the optimizer's slots exist), keeps every variable (model, optimizer, random state), then
`--calls` times puts them back and runs the step's traced function on the same batch. It prints the calls whose
trained weights differ from the first call's, and which variables differ: the calls where the step itself stops
repeating, with nothing else changed. (Session 26: identical for about 100 calls, then different in the last bits,
because TensorFlow's executor changes how it schedules cheap ops once its cost estimates settle, and `AddN` sums its
inputs in another order when it reuses another input's buffer; docs/results/text_summary.md.)
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.data.summaries import make_unpaired_dataset  # noqa: E402
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import auto_cluster_jit_compile, parse_flags  # noqa: E402
from text_summary_stages import VARIANTS, build_stage, digest  # noqa: E402  (beside this file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pretrained", required=True, help="weights file of the pretrained model (as the stage "
                                                            "benchmark's --pretrained)")
    parser.add_argument("--variant", default="reconstruction_anchor_0.01", choices=sorted(VARIANTS))
    parser.add_argument("--calls", type=int, default=200, help="times the same step runs")
    parser.add_argument("--stage-seed", type=int, default=None, help="the stage's seed (default: --seed)")
    parser.add_argument("--language-model", help="the prior's language model weights (.npz), as the stage benchmark")
    args, recipe_argv = parser.parse_known_args(argv)
    if not os.path.isfile(args.pretrained):
        parser.error(f"--pretrained {args.pretrained} is not a file: save one with the stage benchmark's --pretrained")
    flags = parse_flags(text_summary.build_parser(), recipe_argv, quick=text_summary.QUICK)
    auto_cluster_jit_compile(flags)  # --jit-compile: XLA auto-clustering, as the recipe
    data, vocabulary, _, n = text_summary.prepare_data(flags)
    pretrained = text_summary.build_model(flags, vocabulary, n)
    pretrained.compile(optimizer=text_summary.adam(flags.learning_rate))
    pretrained.load_weights(args.pretrained)
    stage_seed = flags.seed if args.stage_seed is None else args.stage_seed
    model = build_stage(pretrained, args.variant, stage_seed, flags, data.real_summaries, args.language_model)
    dataset = make_unpaired_dataset(data.train_documents, data.real_summaries, flags.batch_size, shuffle=True,
                                    seed=stage_seed)
    model.fit(dataset.take(1), verbose=0)  # one step: the optimizers' slots exist before the state is kept
    batch = next(iter(dataset))
    state = [*model.variables, *(v for optimizer in _optimizers(model) for v in optimizer.variables)]
    kept = [variable.numpy() for variable in state]
    step = tf.function(model.train_step)
    first, last_report, seconds = None, None, []
    for call in range(1, args.calls + 1):
        for variable, value in zip(state, kept):
            variable.assign(value)
        started = time.perf_counter()
        step(batch)
        seconds.append(time.perf_counter() - started)
        digests = [digest([variable.numpy()]) for variable in model.trainable_variables]
        first = first or digests
        differing = [v.path for v, digest, reference in zip(model.trainable_variables, digests, first)
                     if digest != reference]
        report = f"{len(differing)} of {len(digests)} variables differ from call 1" + (
            f": {', '.join(differing)}" if differing else "")
        if report != last_report:
            print(f"call {call}: {report}", flush=True)
            last_report = report
    print(f"{args.calls} calls of one {args.variant} step (seed {flags.seed}, stage seed {stage_seed}; median "
          f"{np.median(seconds[1:]):.2f} s a call after the first); the last call: {last_report}")


def _optimizers(model):
    """The model's optimizers: the encoder's, and the adversary's when it has one (the core's named optimizers)."""
    return [optimizer for optimizer in (model.optimizer, getattr(model, "adversary_optimizer", None)) if optimizer]


if __name__ == "__main__":
    main()
