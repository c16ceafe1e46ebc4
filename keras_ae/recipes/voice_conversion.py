"""One-shot voice conversion: `python -m keras_ae.recipes.voice_conversion --method adain|adversarial|plain ...`.

Trains a disentangling speech auto-encoder on random crops of the synthesized eSpeak NG corpus (seen speakers,
training sentences; `--data` for your own folder or manifest with speaker labels) and reports, on held-out
sentences (keras_ae.evaluation.conversion):
- the speaker probe on the content code (toward chance) and on the speaker code (high), beside chance and the
  same probe on the true phone labels;
- an independent speaker classifier (real speech only, every speaker) on converted speech: the share assigned to
  the target and to the source, for seen and for unseen (held-out) target speakers;
- mel-cepstral distortion (DTW) converted-vs-target beside source-vs-target and the vocoder floor;
- a phone probe trained on real speech, on converted speech against the source's labels and on the real source;
- with `--held-out-engine`, the same conversion scores with Festival voices (an engine training never heard) as
  one-shot targets.

Methods: `plain` (`DisentanglingAutoEncoder`: only the narrow content code splits), `adversarial`
(`AdversarialDisentanglingAutoEncoder`: a speaker classifier on the content code, trained against it) and `adain`
(`AdaINVC`: instance norm in the content encoder, AdaIN in the decoder). The run folder gets metrics.json, the
spectrograms (source, reference, converted, real target), WAV samples, TensorBoard audio and a source x target
conversion-matrix figure; the export (`saved_models/voice_conversion`) has the signatures `encode`,
`encode_speaker`, `convert(source, reference)`, `convert_with_push(source, reference, push)` and `resynthesize` on
raw float32 16 kHz waveforms, for `python -m keras_ae.convert`. After training the model keeps every training voice's speaker-code centroid
(`adapt_speaker_centroids`), so `convert` can push a reference's code away from its nearest training voice
(`--speaker-code-push`, default 1: no push; `keras_ae.layers.SpeakerCodePush`).
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

from keras_ae import plots
from keras_ae.config import constructor_default
from keras_ae.core.validation import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    ratio_limit,
    unit_share,
)
from keras_ae.data.festival import HELD_OUT_VOICES
from keras_ae.data.speech import HELD_OUT_SPLITS, SAMPLE_RATE, make_crop_dataset, waveform_lengths, write_wav
from keras_ae.distribute import get_strategy, is_chief
from keras_ae.evaluation.conversion import (
    conversion_matrix,
    conversion_report,
    one_utterance,
    plot_conversion_matrix,
    plot_spectrograms,
)
from keras_ae.layers.audio.vocal_tract_warp import checked_alpha_range
from keras_ae.layers.judges.classifier_adversary import FOOLING
from keras_ae.layers.judges.dynamics_match_judge import TABLE_TARGETS
from keras_ae.layers.judges.dynamics_match_judge import TARGETS as DYNAMICS_TARGETS
from keras_ae.layers.judges.speech_reconstruction_judge import LOSSES
from keras_ae.models.adain_vc import AdaINVC
from keras_ae.models.adversarial_disentangling_autoencoder import AdversarialDisentanglingAutoEncoder
from keras_ae.models.disentangling_autoencoder import DisentanglingAutoEncoder
from keras_ae.recipes.common import RunFolder, export_run, format_table, parse_flags, print_summary, recipe_parser
from keras_ae.recipes.speech_recipe import add_waveform_flags, crop_length, held_out_engine_corpus, load_corpus
from keras_ae.tensorboard import (
    EpochSummaries,
    speech_samples,
    utterance_captions,
    write_projector,
    write_speech_projector,
)

METHODS = ("adain", "adversarial", "plain")
# The held-out (unseen-target) voices of the eSpeak corpus (`keras_ae.data.speech.corpus_speakers`): "legacy" holds
# out the last 4 default speakers, each of which shares its voice variant with a seen speaker (session 11's "twins");
# "variant" keeps the same 12 seen speakers and gives the 4 held-out ones variants no seen speaker uses. The
# default since session 12 (docs/results/voice_conversion.md, "Session 12"): on the same weights the legacy twins take
# 0.44 and 0.56 of the unseen conversions (seeds 0, 1), the variant split's nearest seen voices 0.03 and 0.00. Rows
# measured before session 12 used "legacy"; `--held-out-split legacy` reproduces them. Other speech recipes keep the
# legacy corpus.
HELD_OUT_SPLIT = "variant"
DEFAULTS = {"data": "espeak", "epochs": 8, "batch_size": 16, "learning_rate": 1e-3}
QUICK = {
    "epochs": 1, "batch_size": 4, "filters": 16, "blocks": 1, "content_dim": 4, "speaker_dim": 8,
    "crop_seconds": 0.4, "speakers": 4, "sentences": 10, "held_out_speakers": 1, "probe_utterances": 12,
    "pairs": 4, "vocoder_iterations": 4, "held_out_engine": "none", "adversary_ramp_steps": 2,
}
MIN_SECONDS = 0.3  # the shortest utterance the evaluation converts (30 frames)
CENTROID_UTTERANCES = 40  # utterances per training voice in its speaker-code centroid (--speaker-code-push)
ROWS = ["content_code_speaker_probe", "speaker_code_speaker_probe", "chance", "phone_oracle"]
CONVERSION_COLUMNS = ["pairs", "target_share", "source_share", "mcd_converted_target", "mcd_source_target",
                      "mcd_vocoder_floor", "phone_converted", "phone_real_source", "phone_real_target"]
DIAGNOSTIC_COLUMNS = ["target_share", "target_share_few", "source_share_few", "target_share_ceiling",
                      "target_share_mel_decoder", "target_share_mel_vocoded"]


def build_parser():
    parser = recipe_parser("voice_conversion", __doc__.splitlines()[0], defaults=DEFAULTS)
    base = lambda name: constructor_default(DisentanglingAutoEncoder, name)  # noqa: E731
    adversarial = lambda name: constructor_default(AdversarialDisentanglingAutoEncoder, name)  # noqa: E731
    add_waveform_flags(parser, held_out_engine_help="also convert to Festival voices never trained on",
                       held_out_speakers_help="speakers kept out of training (the unseen one-shot targets)")
    parser.add_argument("--held-out-split", choices=HELD_OUT_SPLITS, default=HELD_OUT_SPLIT,
                        help="the eSpeak corpus's unseen targets: 'legacy' (each shares its voice variant with a seen "
                        "speaker) or 'variant' (variants no seen speaker, nor --extra-speakers, uses); ignored with "
                        "--data")
    parser.add_argument("--method", choices=METHODS, default="adain", help="how the content code is freed of the "
                        "speaker (see the module doc)")
    parser.add_argument("--content-dim", type=positive_int, default=None,
                        help="floats per step of the content code (the bottleneck: too wide and the speaker leaks "
                             f"through; default: the method's, adain {constructor_default(AdaINVC, 'content_dim')}, "
                             f"plain and adversarial {base('content_dim')})")
    parser.add_argument("--downsample", type=positive_int, default=base("downsample"),
                        help="10 ms frames per content-code step (AdaIN-VC's official configuration uses 8)")
    parser.add_argument("--speaker-dim", type=positive_int, default=base("speaker_dim"),
                        help="size of the speaker code")
    parser.add_argument("--filters", type=positive_int, default=base("filters"), help="channels of the convolutions")
    parser.add_argument("--blocks", type=positive_int, default=base("blocks"),
                        help="convolution blocks per encoder / decoder")
    parser.add_argument("--decoder-blocks", type=positive_int, default=base("decoder_blocks"),
                        help="residual blocks of the decoder (default: --blocks)")
    parser.add_argument("--decoder-dilation", type=positive_int, default=base("decoder_dilation"),
                        help="growth of the decoder convolutions' dilation per block (1: none)")
    parser.add_argument("--decoder-norm-first", action=argparse.BooleanOptionalAction,
                        default=base("decoder_norm_first"),
                        help="adain: AdaIN on each decoder block's input (pre-norm) instead of its output")
    parser.add_argument("--kl-weight", type=non_negative_float, default=constructor_default(AdaINVC, "kl_weight"),
                        help="adain: KL weight on the content code (0: no noise, no KL)")
    parser.add_argument("--reconstruction-loss", choices=LOSSES, default=base("reconstruction_loss"),
                        help="error on the rebuilt log-mel frames: l1 (AdaIN-VC's) or l2")
    parser.add_argument("--spread-weight", type=non_negative_float, default=base("spread_weight"),
                        help="weight of a global-variance term: the rebuilt frames' spread over time (and that of "
                             "their changes) against the real frames' (0: none; against over-smoothed output)")
    parser.add_argument("--envelope-weight", type=non_negative_float, default=base("envelope_weight"),
                        help="weight of an envelope term: the L1 of the rebuilt frames' first 20 cepstra against the "
                             "real frames' (0: none; the phones lie in the envelope, not the harmonics)")
    parser.add_argument("--rhythm-conversion", action=argparse.BooleanOptionalAction,
                        default=base("rhythm_conversion"),
                        help="convert the global speaking rate too: stretch the source's content code in time by "
                             "the ratio of its rate to the reference's (estimated from the content codes), so the "
                             "output takes the reference's tempo; conversion only, training is unchanged")
    parser.add_argument("--rhythm-limit", type=ratio_limit, default=base("rhythm_limit"),
                        help="the largest rate ratio (and its inverse the smallest) --rhythm-conversion applies")
    parser.add_argument("--frame-adversary-weight", type=non_negative_float, default=base("frame_adversary_weight"),
                        help="weight of a frame discriminator's adversarial loss on the decoder (real log-mel "
                             "frames against rebuilt and converted ones, LSGAN plus feature matching; 0: none)")
    parser.add_argument("--frame-feature-matching", type=non_negative_float, default=base("frame_feature_matching"),
                        help="the frame discriminator's feature-matching weight (default: the discriminator's)")
    parser.add_argument("--speaker-reference", choices=DisentanglingAutoEncoder.speaker_references,
                        default=base("speaker_reference"),
                        help="where training takes the speaker code that rebuilds a crop from: own (the crop "
                             "itself) or other (a crop of another utterance of the same speaker, so the decoder "
                             "cannot use content leaking through the speaker code; training only)")
    parser.add_argument("--reference-attention", action=argparse.BooleanOptionalAction,
                        default=base("reference_attention"),
                        help="frame-level speaker conditioning on top of AdaIN: the decoder's frames also attend to "
                             "the reference utterance's log-mel frames (FragmentVC's idea); training attends to a "
                             "crop of another utterance of the same speaker (the speaker code still follows "
                             "--speaker-reference)")
    parser.add_argument("--speaker-augmentation", action=argparse.BooleanOptionalAction,
                        default=base("speaker_augmentation"),
                        help="train on pseudo-speakers: a random vocal-tract-length warp (VTLP) of each training "
                             "crop's log-mel frames, one factor per crop and step, given to both encoders and the "
                             "reconstruction target alike; never at evaluation or conversion")
    parser.add_argument("--warp-range", type=positive_float, nargs=2, metavar=("LOW", "HIGH"),
                        default=base("warp_range"),
                        help="with --speaker-augmentation, the range of the warp factor (above 1: formants and "
                             "harmonics move up)")
    parser.add_argument("--dynamics-weight", type=non_negative_float, default=base("dynamics_weight"),
                        help="weight of a statistic match: the rebuilt and the converted frames' standard deviations "
                             "over time of each cepstral coefficient c1-c12 and of the deltas of c0-c12 against "
                             "those of the real utterance that gave the speaker code (mean |log ratio|; 0: none)")
    parser.add_argument("--dynamics-target", choices=DYNAMICS_TARGETS, default=base("dynamics_target"),
                        help="with --dynamics-weight, what the converted frames' spreads must match: 'reference' (the "
                             "real crop that gave the speaker code: another sentence) or 'speaker-shift' (that crop's "
                             "spreads with its sentence's deviation from its speaker's mean swapped for the source "
                             "crop's, so the conversion keeps its own content's dynamics; the speakers' means come "
                             "from every training utterance) or 'blend' (each spread from the reference crop in "
                             "proportion to the share of its variance that lies between the training speakers, from "
                             "the source crop for the rest) or 'source-deviation' (the reference crop's own spreads "
                             "plus the source crop's deviation from its speaker's mean: on average the shifted "
                             "target, but it follows the reference crop and never reads the reference speaker's "
                             "mean)")
    parser.add_argument("--dynamics-source-share", type=unit_share, default=base("dynamics_source_share"),
                        help="with --dynamics-target source-deviation, the share (0 to 1) of the source crop's "
                             "deviation from its speaker's mean in the converted frames' target: 0 asks for the "
                             "reference crop's spreads (as 'reference'), 1 for the whole deviation")
    parser.add_argument("--content-consistency-weight", type=non_negative_float,
                        default=base("content_consistency_weight"),
                        help="weight of a content-consistency loss: converted training frames (each crop's content "
                             "with the next crop's speaker code) are encoded again by the content encoder, held "
                             "fixed, and must give the source crop's content code (mean absolute difference; 0: none)")
    parser.add_argument("--speaker-window", type=non_negative_int, default=base("speaker_window"),
                        help="in training, the speaker code pools over a random window of this many 10 ms frames "
                             "of its crop (0: the whole crop), so one speaker's codes spread instead of collapsing "
                             "to a point; conversion pools over the whole reference")
    parser.add_argument("--speaker-noise", type=non_negative_float, default=base("speaker_noise"),
                        help="in training, Gaussian noise on the speaker code the decoder reads, this share of each "
                             "dimension's spread over the batch (0: none), so the decoder learns a cloud of codes "
                             "around each training voice")
    parser.add_argument("--speaker-code-push", type=positive_float, default=base("speaker_code_push"),
                        help="conversion only: move the reference's speaker code this many times as far from its "
                             "nearest training voice's centroid (1: the code itself; the centroids, one per "
                             "training voice, are computed after training and kept in the model and its export)")
    parser.add_argument("--adversary-weight", type=non_negative_float, default=adversarial("adversary_weight"),
                        help="adversarial: weight of the fooling loss after the ramp")
    parser.add_argument("--adversary-steps", type=positive_int, default=adversarial("adversary_steps"),
                        help="adversarial: classifier updates per encoder update")
    parser.add_argument("--adversary-ramp-steps", type=non_negative_int, default=adversarial("adversary_ramp_steps"),
                        help="adversarial: encoder updates over which the adversarial weight ramps up from 0")
    parser.add_argument("--fooling", choices=FOOLING, default=adversarial("fooling"),
                        help="adversarial: the encoder's loss against the classifier")
    parser.add_argument("--vocoder-iterations", type=positive_int, default=base("vocoder_iterations"),
                        help="Griffin-Lim rounds")
    parser.add_argument("--probe-utterances", type=positive_int, default=160,
                        help="utterances each probe and the speaker classifier fit on (per split)")
    parser.add_argument("--pairs", type=positive_int, default=32, help="conversions scored per condition")
    parser.add_argument("--training-speakers", type=positive_int, default=None,
                        help="train on only the first N seen speakers (by id), at the same number of steps; the "
                             "others are left out of training and of the seen targets, while the held-out (unseen) "
                             "targets and the speaker classifier stay the same (default: every seen speaker)")
    parser.add_argument("--extra-speakers", type=non_negative_int, default=0,
                        help="wide-range eSpeak speakers (keras_ae.data.varied_speech) added to training, saying the "
                             "training sentences only; none shares accent and variant with a held-out speaker. The "
                             "evaluation, its classifier and the step count stay those of the default corpus "
                             "(unless --scale-steps)")
    parser.add_argument("--scale-steps", action=argparse.BooleanOptionalAction, default=False,
                        help="with --extra-speakers or --training-speakers, make an epoch one pass over the "
                             "training pool, so the number of steps scales with the voices (44 voices: 3.7x the "
                             "default's steps); off: every epoch has the default corpus's number of steps")
    return parser


def build_model(args, num_speakers, voices=0):
    """The `--method`'s model; `num_speakers` sizes the speaker-id tables (adversary, dynamics), `voices` the
    speaker-code centroids of the training voices (`speaker_centroids`; 0: none)."""
    shared = dict(speaker_dim=args.speaker_dim, filters=args.filters,
                  blocks=args.blocks, vocoder_iterations=args.vocoder_iterations,
                  reconstruction_loss=args.reconstruction_loss, downsample=args.downsample,
                  decoder_blocks=args.decoder_blocks, decoder_dilation=args.decoder_dilation,
                  decoder_norm_first=args.decoder_norm_first, spread_weight=args.spread_weight,
                  envelope_weight=args.envelope_weight,
                  rhythm_conversion=args.rhythm_conversion, rhythm_limit=args.rhythm_limit,
                  frame_adversary_weight=args.frame_adversary_weight,
                  frame_feature_matching=args.frame_feature_matching, speaker_reference=args.speaker_reference,
                  reference_attention=args.reference_attention, speaker_augmentation=args.speaker_augmentation,
                  warp_range=tuple(args.warp_range), dynamics_weight=args.dynamics_weight,
                  dynamics_target=args.dynamics_target, dynamics_source_share=args.dynamics_source_share,
                  dynamics_speakers=num_speakers if args.dynamics_target in TABLE_TARGETS else 0,
                  content_consistency_weight=args.content_consistency_weight,
                  speaker_window=args.speaker_window, speaker_noise=args.speaker_noise, speaker_centroids=voices,
                  speaker_code_push=args.speaker_code_push, seed=args.seed)
    if args.content_dim is not None:  # else the method's constructor default
        shared["content_dim"] = args.content_dim
    if args.method == "adain":
        return AdaINVC(kl_weight=args.kl_weight, **shared)
    if args.method == "adversarial":
        return AdversarialDisentanglingAutoEncoder(
            num_speakers=num_speakers, adversary_weight=args.adversary_weight, adversary_steps=args.adversary_steps,
            adversary_ramp_steps=args.adversary_ramp_steps, fooling=args.fooling, **shared)
    return DisentanglingAutoEncoder(**shared)


def check_speakers(corpus, args):
    """Speaker labels usable for conversion: every utterance labelled, enough speakers, two utterances each.
    Gives user data its speaker split (the last `--held-out-speakers` speakers by name are the unseen targets)."""
    names = corpus.speaker_names
    if "unknown" in names:
        unlabelled = int(np.sum(corpus.speakers == names.index("unknown")))
        raise ValueError(f"{args.data}: {unlabelled} file(s) have no speaker label; voice conversion needs one for "
                         "every file (a sub-folder per speaker, or a 'speaker' column in the manifest).")
    if corpus.num_speakers < args.held_out_speakers + 2:
        raise ValueError(f"{args.data}: {corpus.num_speakers} speaker(s) for {args.held_out_speakers} held-out "
                         "speakers; training needs at least two seen speakers (lower --held-out-speakers or add "
                         "speakers).")
    counts = np.bincount(corpus.speakers, minlength=corpus.num_speakers)
    if counts.min() < 2:
        lonely = [names[i] for i in np.flatnonzero(counts < 2)][:3]
        raise ValueError(f"{args.data}: speaker(s) {', '.join(lonely)} have a single utterance; conversion needs a "
                         "reference besides the source. Check that the speaker labels match the audio files.")
    if args.data not in (None, "espeak"):
        held_out = set(range(corpus.num_speakers - args.held_out_speakers, corpus.num_speakers))
        corpus.speaker_split = np.array(["test" if s in held_out else "train" for s in corpus.speakers])
    lengths = waveform_lengths(corpus.waveforms)
    if np.all(lengths < crop_length(args)):
        raise ValueError(f"{args.data}: every utterance is shorter than one training crop ({args.crop_seconds} s); "
                         "lower --crop-seconds.")
    return corpus


def main(argv=None):
    args = parse_flags(build_parser(), argv, quick=QUICK)
    checked_alpha_range(args.warp_range)
    if args.dynamics_target != "reference" and not args.dynamics_weight:
        raise ValueError(f"--dynamics-target {args.dynamics_target} sets the target of the dynamics match, which is "
                         "off: add --dynamics-weight W (session 16 used 1).")
    if args.dynamics_source_share != 1 and args.dynamics_target != "source-deviation":
        raise ValueError(f"--dynamics-source-share {args.dynamics_source_share} scales the source's deviation of "
                         f"--dynamics-target source-deviation; the target is {args.dynamics_target!r}: add "
                         "--dynamics-target source-deviation (and --dynamics-weight W).")
    run = RunFolder.for_flags(args)
    keras.utils.set_random_seed(args.seed)
    strategy = get_strategy(args.strategy)
    corpus = check_speakers(load_corpus(args), args)
    full_steps = len(corpus.select(sentences="train", speakers="train")) // args.batch_size
    corpus, train, probe_test, seen, unseen = evaluation_split(corpus, args)
    if len(probe_test) == 0 or len(train) == 0:
        raise ValueError(f"{args.data}: too few sentences for training and held-out test sentences; give more data "
                         "(--sentences 10 or more).")
    engine = held_out_engine_corpus(args, HELD_OUT_VOICES, train_sentences=20)
    crop_samples = crop_length(args)
    pool, num_speakers = with_extra_speakers(corpus, train, args)
    train_data = make_crop_dataset(pool, crop_samples, args.batch_size, shuffle=True, seed=args.seed,
                                   skip_short=True,
                                   reference=args.speaker_reference == "other" or args.reference_attention)
    print(f"{args.data}: {len(corpus)} utterances, {corpus.num_speakers} speakers ({len(seen)} seen, {len(unseen)} "
          f"held out); training on {len(pool)} utterances ({train_data.skipped_short} shorter than a crop left "
          f"out; {num_speakers - corpus.num_speakers} extra speakers); method {args.method}; "
          f"{strategy.num_replicas_in_sync} replica(s)")
    if train_data.self_referenced:
        print(f"speaker reference: {train_data.self_referenced} utterance(s) are their speaker's only one and serve "
              "as their own reference")
    train_data, steps_per_epoch = with_step_count(train_data, len(pool), len(train), full_steps, args)
    print(f"{steps_per_epoch} steps per epoch, {steps_per_epoch * args.epochs} in all"
          f"{' (scaled with the training pool)' if args.scale_steps else ''}")
    enrol = centroid_utterances(pool, CENTROID_UTTERANCES, args.seed)  # read after training
    with strategy.scope():
        model = build_model(args, num_speakers, voices=len(np.unique(pool.speakers)))
        model.adapt(train.sample(400, args.seed).waveforms)
        if model.dynamics_speakers:
            model.adapt_speaker_dynamics(pool.waveforms, pool.speakers)
        optimizer = keras.optimizers.Adam(args.learning_rate)
        if args.method == "adversarial":
            model.compile(optimizers={"encoder": optimizer, "adversary": keras.optimizers.Adam(args.learning_rate)},
                          jit_compile=args.jit_compile)
        else:
            model.compile(optimizer=optimizer, jit_compile=args.jit_compile)
    # The crops stream from train_data's own store: the pool's waveforms (the extra speakers' only other copy, 5 GB
    # with --extra-speakers 128) are not held through training and evaluation.
    del pool
    convert, resynthesize = one_utterance(model.convert), one_utterance(model.resynthesize)
    sample_source, sample_reference = probe_test.subset([0]), corpus.select(speakers="test").subset([0])

    def views(model, index):
        source, reference = sample_source.waveforms[0], sample_reference.waveforms[0]
        return {"audio: converted to a held-out speaker": convert(source, reference),
                "audio: resynthesised (vocoder floor)": resynthesize(source),
                "content code": np.asarray(model.encode(source[None]))[0]}

    with run:
        run.write_config(model)
        samples = EpochSummaries(run.file("tensorboard"),
                                 speech_samples(sample_source.waveforms, utterance_captions(sample_source, 1), views))
        started = time.perf_counter()
        history = run.fit(model, train_data, epochs=args.epochs, callbacks=[samples], shuffle=False, verbose=2)
        training_seconds = time.perf_counter() - started
        model.adapt_speaker_centroids(enrol.waveforms, enrol.speakers)
        metrics = evaluate(model, corpus, train, probe_test, engine, seen, unseen, convert, resynthesize, args,
                           run)
        metrics.update({"method": args.method, "epochs": args.epochs, "seed": args.seed,
                        "training_steps": steps_per_epoch * args.epochs,
                        "training_seconds": training_seconds,
                        "final_losses": {key: values[-1] for key, values in history.history.items()}})
        run.write_json("metrics.json", metrics)
        if is_chief():
            plots.history_curves(history.history, run.file("history.png"), title=f"voice conversion ({args.method})")
            _projectors(model, probe_test, run)
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print_summary(run, export_path, format_metrics(metrics))
    return metrics


def centroid_utterances(corpus, count, seed):
    """At most `count` utterances of every speaker of `corpus` (a seeded choice, in corpus order): what
    `adapt_speaker_centroids` averages each training voice's speaker code over."""
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(corpus.speakers == s))[:count] for s in np.unique(corpus.speakers)]
    return corpus.subset(np.sort(np.concatenate(chosen)))


def evaluation_split(corpus, args):
    """`(corpus, train, probe_test, seen, unseen)`: the corpus cut to `--training-speakers`, its training utterances
    (the first `--limit`), the probes' held-out sentences of the training speakers, and the seen (in `train`) and
    unseen (held-out) speaker ids the conversion table targets; the recipe and `benchmarks.voice_conversion_rescore`
    evaluate on the same split."""
    corpus = with_training_speakers(corpus, args.training_speakers)
    train = corpus.select(sentences="train", speakers="train")
    if args.limit:
        train = train.head(args.limit)
    probe_test = corpus.select(sentences="test", speakers="train")
    seen = sorted(set(train.speakers.tolist()))
    unseen = sorted(set(corpus.select(speakers="test").speakers.tolist()))
    return corpus, train, probe_test, seen, unseen


def with_training_speakers(corpus, count):
    """`corpus` with only the first `count` seen speakers (by id) still seen: the other seen speakers' utterances
    get the speaker split "unused", so they are neither trained on nor converted from or to (the held-out speakers
    keep "test"; every speaker stays in the corpus for the speaker classifier). `count` None: unchanged."""
    if count is None:
        return corpus
    seen = sorted(set(corpus.speakers[corpus.speaker_split == "train"].tolist()))
    if not 2 <= count <= len(seen):
        raise ValueError(f"--training-speakers must be between 2 and the {len(seen)} seen speakers; got {count}.")
    dropped = np.isin(corpus.speakers, seen[count:])
    corpus.speaker_split = np.where(dropped, "unused", corpus.speaker_split)
    return corpus


def with_step_count(train_data, pool_size, train_size, full_steps, args):
    """The training batches of one epoch and their number. An epoch is one pass over the training pool when the
    pool is the seen speakers' utterances or `--scale-steps` is on; otherwise (`--extra-speakers`,
    `--training-speakers`) it keeps the default corpus's number of steps, `full_steps` (every seen speaker's
    training utterances over the batch size), so that only the voices change."""
    if not args.scale_steps and pool_size > train_size:  # more voices, the default corpus's number of steps
        train_data = train_data.take(train_size // args.batch_size)
    elif not args.scale_steps and args.training_speakers:  # fewer voices, every seen speaker's number of steps
        train_data = train_data.repeat().take(full_steps)
    return train_data, int(train_data.cardinality())


def with_extra_speakers(corpus, train, args):
    """The training pool and its speaker count: `train`, plus `--extra-speakers` wide-range eSpeak speakers saying
    the training sentences (never one with the accent and variant of a held-out speaker; with `--held-out-split
    variant`, never one of a held-out speaker's variant family at any accent)."""
    if not args.extra_speakers:
        return train, corpus.num_speakers
    if args.data not in (None, "espeak"):
        raise ValueError("--extra-speakers adds synthesized speakers to the eSpeak corpus; drop it with --data.")
    from keras_ae.data.phones import merge_corpora, to_arpabet
    from keras_ae.data.speech import builtin_sentences, corpus_speakers
    from keras_ae.data.varied_speech import load_extra_training_speech

    speakers = corpus_speakers(args.speakers, args.held_out_speakers, args.held_out_split)
    held_out = speakers[args.speakers - args.held_out_speakers:]
    extra = load_extra_training_speech(corpus, builtin_sentences(args.sentences), args.extra_speakers, flite=False,
                                       seed=args.seed, exclude=held_out,
                                       exclude_families=args.held_out_split == "variant")
    return merge_corpora([to_arpabet(train), extra]), corpus.num_speakers + extra.num_speakers


def _projectors(model, corpus, run, count=64):
    """The Embedding Projector of held-out utterances: the content code (per frame and averaged: it should not
    cluster by speaker) and the speaker code (it should)."""
    corpus = corpus.subset(np.arange(min(count, len(corpus))))
    content = [np.asarray(model.encode(w[None]))[0] for w in corpus.waveforms]
    write_speech_projector(run.file("tensorboard"), content, corpus, frame_step=model.downsample)
    speaker_codes = np.stack([np.asarray(model.encode_speaker(w[None]))[0] for w in corpus.waveforms])
    write_projector(run.file("tensorboard"), speaker_codes,
                    {"speaker": [corpus.speaker_names[s] for s in corpus.speakers], "text": corpus.texts},
                    name="held-out utterances (speaker code)")


def evaluate(model, corpus, train, probe_test, engine, seen, unseen, convert, resynthesize, args, run):
    """The table of the module doc (`keras_ae.evaluation.conversion.conversion_report`), the conversion-matrix
    figure and the WAV samples."""
    started = time.perf_counter()
    metrics, matrices, examples = conversion_report(
        model, convert, resynthesize, corpus, train, probe_test, engine, seen, unseen,
        probe_utterances=args.probe_utterances, pairs=args.pairs, min_seconds=MIN_SECONDS, seed=args.seed)
    metrics["data"] = args.data
    if is_chief():
        _samples(run, examples)
        source_names = sorted({s for s, _, _ in matrices})
        target_names = sorted({t for _, t, _ in matrices})
        plot_conversion_matrix(conversion_matrix(matrices, source_names, target_names), source_names, target_names,
                               run.file("conversion_matrix.png"))
    metrics["evaluation_seconds"] = time.perf_counter() - started
    return metrics


def _samples(run, examples):
    """WAV files and spectrogram figures of one conversion per condition: source, reference, converted, target."""
    folder = run.file("samples")
    folder.mkdir(exist_ok=True)
    writer = tf.summary.create_file_writer(str(run.file("tensorboard")))
    for index, (name, ((source, reference, truth), converted, sources, targets)) in enumerate(examples.items()):
        slug = name.replace(" ", "_")
        panels = {"source": sources.waveforms[source], "reference": targets.waveforms[reference],
                  "converted": converted}
        if truth is not None:
            panels["real target (same sentence)"] = targets.waveforms[truth]
        for label, waveform in panels.items():
            write_wav(folder / f"{slug}_{label.split(' ')[0]}.wav", np.clip(waveform, -1, 1))
        plot_spectrograms(panels, run.file(f"spectrograms_{slug}.png"), title=f"Conversion, {name}")
        with writer.as_default():
            for label, waveform in panels.items():
                tf.summary.audio(f"conversion, {name}: {label}", np.asarray(waveform, "float32")[None, :, None],
                                 SAMPLE_RATE, step=0)
    writer.close()


def format_metrics(metrics):
    probes = metrics["code_probes"]
    self_share, self_few = metrics["self_conversion_share"], metrics.get("self_conversion_share_few")
    classifier = metrics["speaker_classifier"]
    share = lambda value: "-" if value is None else f"{value:.3f}"  # noqa: E731
    lines = ["Speaker probes on held-out sentences (seen speakers)",
             format_table({"speaker probe": {key: probes.get(key) for key in
                                             ("content_code", "speaker_code", "chance", "phone_oracle")}},
                          ["content_code", "speaker_code", "chance", "phone_oracle"]),
             f"Speaker classifier (real speech only: {classifier['fitted_on']['real']} real training utterances "
             f"and {classifier['fitted_on']['resynthesised']} of them resynthesised): accuracy on real test "
             f"utterances {classifier['real_test_accuracy']:.3f}, on their vocoder resynthesis "
             f"{classifier['resynthesised_test_accuracy']:.3f}; the few-utterance classifier "
             f"({classifier['fitted_on']['few_real']} real utterances, the '_few' columns) "
             f"{classifier['few_real_test_accuracy']:.3f} and {classifier['few_resynthesised_test_accuracy']:.3f}",
             "Conversion on held-out sentences (MCD in dB)",
             format_table(metrics["conversion"], CONVERSION_COLUMNS),
             "Where the target speaker is lost: the MFCC classifier's target share (and the few-utterance "
             "classifier's) beside its ceiling (the targets' real speech, resynthesised), and a log-mel classifier's "
             "before and after the vocoder; converted back to the source's own speaker, "
             f"{share(self_share)} is assigned to it ({share(self_few)} by the few-utterance classifier)",
             format_table(metrics["conversion"], DIAGNOSTIC_COLUMNS)]
    return "\n".join(lines)


def tuning_task(args):
    """The `python -m keras_ae.recipes.tune --model voice_conversion` task: a `VoiceConversionHyperModel` searching
    the content code size, scored on validation sentences of seen speakers."""
    from keras_ae.tuning import TuningTask, VoiceConversionHyperModel

    defaults = parse_flags(build_parser(), ["--quick"] if getattr(args, "quick", False) else [], quick=QUICK)
    defaults.data = args.data or defaults.data
    defaults.seed = args.seed
    corpus = check_speakers(load_corpus(defaults), defaults)
    train = corpus.select(sentences="train", speakers="train")
    validation = corpus.select(sentences="validation", speakers="train")
    if args.limit:
        train = train.head(args.limit)
    crop_samples = crop_length(defaults)
    quick = getattr(args, "quick", False)
    batch_size = defaults.batch_size if quick or args.batch_size is None else args.batch_size
    hypermodel = VoiceConversionHyperModel(
        train, validation, method=defaults.method, num_speakers=corpus.num_speakers, min_dim=max(args.min_dim, 2),
        max_dim=args.max_dim, learning_rate=defaults.learning_rate, seed=args.seed,
        model_options=dict(filters=defaults.filters, blocks=defaults.blocks, speaker_dim=defaults.speaker_dim,
                           vocoder_iterations=defaults.vocoder_iterations))
    return TuningTask(
        hypermodel,
        make_crop_dataset(train, crop_samples, batch_size, shuffle=True, seed=args.seed, skip_short=True),
        make_crop_dataset(validation, crop_samples, batch_size, shuffle=False, skip_short=True,
                          drop_remainder=False),
        "voice_conversion",
    )


if __name__ == "__main__":
    main()
