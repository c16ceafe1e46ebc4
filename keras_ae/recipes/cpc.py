"""Contrastive Predictive Coding on raw audio: `python -m keras_ae.recipes.cpc [--data FOLDER|MANIFEST] ...`.

Default data: the synthesized eSpeak NG corpus (16 speakers x 200 sentences, built once and cached). Trains CPC on
random crops of the training utterances (seen speakers, training sentences), then prints the probe table on
held-out utterances (the same speakers saying unseen sentences): a frame-level phone probe and an utterance-level
speaker probe for MFCC features, a random-init CPC of the same shape and the trained CPC, with chance levels.
Writes the run folder (config, metrics, history, TensorBoard, the prediction accuracy against k, the training
curves) and exports a SavedModel whose `encode` maps float32 waveforms `[batch, samples]` at 16 kHz to context
features `[batch, samples // 160, context_dim]`.

Robustness to a new voice engine:
    --augment PRESET        time-domain augmentation of every training crop (keras_ae.layers.audio.augmentation:
                            speed, EQ, band-reject, reverb, noise, gain; "default", or one transform alone)
    --corpus varied         adds wide-range eSpeak speakers (--extra-speakers) and Flite voices (--flite) saying the
                            training sentences (keras_ae.data.varied_speech); steps per epoch stay those of the
                            default corpus, so the runs compare at equal training compute
    --encoder               log_mel (default): a fixed log-mel front end (band statistics of the training speech,
                            saved in the model) and a per-frame network (LogMelEncoder); waveform: the CPC paper's
                            strided convolutions on raw samples (WaveformEncoder), whose learned filterbank fits
                            the training engine's signal (docs/results/images_and_speech.md, "Speech, CPC on a held-out
                            synthesizer")
    --held-out-engine       the probe table again on speech of Festival voices no training run uses
                            (keras_ae.data.festival.HELD_OUT_VOICES): the phone probe with Festival's own labels and
                            the speaker probe, fitted on its renderings of training sentences, tested on the
                            held-out sentences ("auto": when festival is installed)

With `--data` pointing at your own audio folder or manifest (see `keras_ae.data.speech`), the phone probe is
skipped (no phone labels) and the speaker probe runs when the data names at least two speakers.
"""

import time
from functools import partial

import keras
import numpy as np

from keras_ae import plots
from keras_ae.config import constructor_default
from keras_ae.core.validation import positive_int
from keras_ae.data.augmentation import augment_dataset
from keras_ae.data.festival import HELD_OUT_VOICES
from keras_ae.data.phones import merge_corpora, to_arpabet
from keras_ae.data.speech import SAMPLE_RATE, builtin_sentences, make_crop_dataset, make_file_crop_dataset
from keras_ae.data.varied_speech import load_extra_training_speech
from keras_ae.distribute import get_strategy, is_chief
from keras_ae.evaluation.speech import chance_row, mfcc_features, plot_step_accuracy, probe_row, utterance_features
from keras_ae.layers.audio.augmentation import AUGMENT_PRESETS, augmentation_from_preset
from keras_ae.layers.audio.log_mel import NORMALIZATIONS
from keras_ae.layers.encoders.log_mel_encoder import LogMelEncoder
from keras_ae.layers.encoders.waveform_encoder import WaveformEncoder
from keras_ae.models.cpc import CPC, NEGATIVES
from keras_ae.recipes.common import RunFolder, export_run, format_table, parse_flags, print_summary, recipe_parser
from keras_ae.recipes.speech_recipe import add_waveform_flags, crop_length, held_out_engine_corpus, load_corpus
from keras_ae.tensorboard import EpochSummaries, speech_samples, utterance_captions, write_speech_projector

DEFAULTS = {"data": "espeak", "epochs": 5, "batch_size": 32, "embedding_dim": 128, "learning_rate": 1e-3}
QUICK = {
    "epochs": 1,
    "batch_size": 8,
    "embedding_dim": 16,
    "filters": 16,
    "prediction_steps": 4,
    "crop_seconds": 0.4,
    "speakers": 3,
    "sentences": 8,
    "held_out_speakers": 1,
    "probe_utterances": 16,
    "held_out_engine": "none",
    "held_out_voices": 2,
    "held_out_train_sentences": 4,
}
CORPORA = {"espeak": {}, "varied": {"extra_speakers": 32, "flite": True}}
COLUMNS = ["dim", "phone", "speaker"]
ENCODERS = ("waveform", "log_mel")


def build_parser():
    parser = recipe_parser("cpc", __doc__.splitlines()[0], defaults=DEFAULTS)
    add_waveform_flags(parser, held_out_engine_help="probe again on Festival voices never trained on")
    parser.add_argument("--context-dim", type=positive_int, default=None, help="GRU context size (default: embedding dim)")
    parser.add_argument("--encoder", choices=ENCODERS, default="log_mel",
                        help="frame encoder: a log-mel front end (LogMelEncoder), or strided convolutions on raw "
                             "samples (WaveformEncoder, the CPC paper's)")
    parser.add_argument("--filters", type=positive_int, default=constructor_default(WaveformEncoder, "filters"),
                        help="--encoder waveform: channels of the waveform convolutions")
    parser.add_argument("--mel-normalization", choices=NORMALIZATIONS,
                        default=constructor_default(LogMelEncoder, "normalization"),
                        help="--encoder log_mel: standardise the log-mel bands per utterance, or with training-set "
                             "statistics (global)")
    parser.add_argument("--prediction-steps", type=positive_int, default=constructor_default(CPC, "prediction_steps"),
                        help="K: future frames predicted (10 ms each)")
    parser.add_argument("--negatives", choices=NEGATIVES, default=constructor_default(CPC, "negatives"),
                        help="where InfoNCE negatives come from (see keras_ae.models.cpc.CPC)")
    parser.add_argument("--crops-per-utterance", type=positive_int, default=1, help="crops of each utterance per epoch")
    parser.add_argument("--probe-utterances", type=positive_int, default=960, help="training utterances the probes fit on")
    parser.add_argument("--stream", action="store_true",
                        help="decode your audio while training instead of loading it all (corpora larger than memory)")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false", help="skip the MFCC / random rows")
    parser.add_argument("--augment", choices=AUGMENT_PRESETS, default="none",
                        help="time-domain augmentation of the training crops (see keras_ae.layers.audio.augmentation)")
    parser.add_argument("--corpus", choices=CORPORA, default="espeak",
                        help="training speech: the default eSpeak corpus, or 'varied' (sets --extra-speakers 32 "
                             "--flite unless given)")
    parser.add_argument("--extra-speakers", type=int, default=None,
                        help="wide-range eSpeak speakers added to training (training sentences only)")
    parser.add_argument("--flite", action="store_true", default=None,
                        help="add Flite's awb and rms voices at three rates to training (apt-get install flite)")
    parser.add_argument("--held-out-voices", type=int, default=len(HELD_OUT_VOICES),
                        help="how many of the held-out Festival voices to use (speakers of its speaker probe)")
    parser.add_argument("--held-out-train-sentences", type=int, default=60,
                        help="training sentences the held-out engine renders for fitting its probes")
    return parser


def corpus_makeup(args):
    """`(extra eSpeak speakers, Flite on)` from `--corpus` and the explicit flags (which win)."""
    preset = CORPORA[args.corpus]
    extra = args.extra_speakers if args.extra_speakers is not None else preset.get("extra_speakers", 0)
    flite = args.flite if args.flite is not None else preset.get("flite", False)
    if extra < 0:
        raise ValueError(f"--extra-speakers must be 0 or more; got {extra}.")
    if (extra or flite) and args.data not in (None, "espeak"):
        raise ValueError("--corpus varied / --extra-speakers / --flite add synthesized speakers to the eSpeak corpus; "
                         "drop them with --data pointing at your own audio.")
    return extra, bool(flite)


def held_out_engine_splits(args):
    """Probe training and test utterances of the held-out Festival voices (None without `--held-out-engine`)."""
    if not 2 <= args.held_out_voices <= len(HELD_OUT_VOICES):
        raise ValueError(f"--held-out-voices must be in [2, {len(HELD_OUT_VOICES)}]; got {args.held_out_voices}.")
    corpus = held_out_engine_corpus(args, HELD_OUT_VOICES[: args.held_out_voices], args.held_out_train_sentences)
    return None if corpus is None else (corpus.select(sentences="train"), corpus.select(sentences="test"))


def build_model(args):
    crop_samples = crop_length(args)
    if args.encoder == "log_mel":
        encoder = LogMelEncoder(embedding_dim=args.embedding_dim, normalization=args.mel_normalization,
                                name="encoder")
    else:
        encoder = WaveformEncoder(embedding_dim=args.embedding_dim, filters=args.filters, name="encoder")
    return CPC(
        encoder,
        context_dim=args.context_dim or args.embedding_dim,
        prediction_steps=args.prediction_steps,
        negatives=args.negatives,
        crop_samples=crop_samples,
    )


def splits(corpus, args):
    """Training, validation and probe (train / test) utterances of `corpus`."""
    train = corpus.select(sentences="train", speakers="train")
    validation = corpus.select(sentences="validation", speakers="train")
    probe_test = corpus.select(sentences="test", speakers="train")
    rng = np.random.default_rng(args.seed)
    probe_train = train.subset(np.sort(rng.permutation(len(train))[: args.probe_utterances]))
    return train, validation, probe_train, probe_test


def main(argv=None):
    args = parse_flags(build_parser(), argv, quick=QUICK)
    extra_speakers, flite = corpus_makeup(args)  # bad flags fail before any data is read
    run = RunFolder.for_flags(args)
    keras.utils.set_random_seed(args.seed)
    strategy = get_strategy(args.strategy)
    corpus = load_corpus(args)
    train, validation, probe_train, probe_test = splits(corpus, args)
    if args.limit:
        train = train.head(args.limit)
    if len(probe_test) == 0 or len(validation) == 0:
        raise ValueError(f"{args.data}: too few sentences for training, validation and test splits; give more data.")
    crop_samples = crop_length(args)
    steps_per_epoch = None
    if corpus.waveforms is None:  # --stream: decode only what the probes and validation need
        decode = dict(skip_bad=True, min_seconds=args.crop_seconds)
        validation = validation.sample(args.probe_utterances, args.seed).decoded(**decode)
        probe_train = probe_train.decoded(**decode)
        probe_test = probe_test.sample(args.probe_utterances, args.seed).decoded(**decode)
        train_data = make_file_crop_dataset(train, crop_samples, args.batch_size, shuffle=True, seed=args.seed,
                                            crops_per_utterance=args.crops_per_utterance, skip_bad=args.skip_bad)
        hours = "streamed"
    else:
        pool = train
        if extra_speakers or flite:  # more voices, the same training compute as the default corpus
            extra = load_extra_training_speech(corpus, builtin_sentences(args.sentences), extra_speakers, flite,
                                               seed=args.seed)
            pool = merge_corpora([to_arpabet(train), extra])
            steps_per_epoch = len(train) * args.crops_per_utterance // args.batch_size
            print(f"Varied training speech: {len(train)} + {len(extra)} utterances ({extra.num_speakers} extra "
                  f"speakers: {extra_speakers} eSpeak, {len(extra.speaker_names) - extra_speakers} Flite), "
                  f"{steps_per_epoch} steps per epoch")
        # Synthesized voices say some sentences in less than a crop (fast speakers, short sentences; which ones
        # depends on the seed): those utterances are left out and counted. The user's audio needs --skip-bad for it.
        train_data = make_crop_dataset(pool, crop_samples, args.batch_size, shuffle=True, seed=args.seed,
                                       crops_per_utterance=args.crops_per_utterance,
                                       skip_short=args.skip_bad or args.data in (None, "espeak"))
        if train_data.skipped_short:
            print(f"{train_data.skipped_short} training utterance(s) shorter than one crop left out")
        if steps_per_epoch:
            train_data = train_data.repeat()
        hours = f"{corpus.seconds / 3600:.2f} h"
    train_data = augment_dataset(train_data, augmentation_from_preset(args.augment, seed=args.seed), seed=args.seed)
    held_out = held_out_engine_splits(args)
    print(
        f"{args.data}: {len(corpus)} utterances ({hours}), {corpus.num_speakers} speakers; training on {len(train)} "
        f"utterances, probes on {len(probe_train)} / {len(probe_test)} held-out utterances; "
        f"{strategy.num_replicas_in_sync} replica(s); augmentation: {args.augment}"
        + (f"; held-out engine: {held_out[1].num_speakers} Festival voices, probes on {len(held_out[0])} / "
           f"{len(held_out[1])} utterances" if held_out else "")
    )
    validation_data = make_crop_dataset(validation, crop_samples, args.batch_size, shuffle=False,
                                        skip_short=True, drop_remainder=False)
    held_out_crops = make_crop_dataset(probe_test, crop_samples, args.batch_size, shuffle=False, skip_short=True,
                                       drop_remainder=False)  # built before training, so a bad crop length fails first
    with strategy.scope():
        model = build_model(args)
        if isinstance(model.encoder, LogMelEncoder):  # training-set band statistics (unused when per utterance)
            model.encoder.front_end.adapt(probe_train.waveforms)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), jit_compile=args.jit_compile)

    name = "CPC (context)"
    with run:
        run.write_config(model)
        rows, held_out_rows = {}, {}
        probe_sets = [(rows, probe_train, probe_test)] + ([(held_out_rows, *held_out)] if held_out else [])
        if args.baselines:
            for table, fit_on, test_on in probe_sets:
                table["MFCC"] = probe_row(partial(mfcc_features, deltas=False), fit_on, test_on, 13, args.seed)
                table["MFCC + deltas"] = probe_row(mfcc_features, fit_on, test_on, 39, args.seed)
                if not run.resuming:
                    table["random-init CPC"] = probe_row(model.encode, fit_on, test_on, model.context_dim,
                                                         args.seed)
        steps = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: _count(counter))
        counter = [0]
        started = time.perf_counter()
        context = lambda model, i: {"CPC context": model.encode(probe_test.waveforms[i][None])[0]}  # noqa: E731
        samples = EpochSummaries(run.file("tensorboard"),
                                 speech_samples(probe_test.waveforms[:2], utterance_captions(probe_test), context))
        history = run.fit(model, train_data, validation_data=validation_data, epochs=args.epochs,
                          steps_per_epoch=steps_per_epoch, callbacks=[steps, samples], shuffle=False, verbose=2)
        training_seconds = time.perf_counter() - started
        for table, fit_on, test_on in probe_sets:
            table[name] = probe_row(model.encode, fit_on, test_on, model.context_dim, args.seed)
            table["chance"] = chance_row(fit_on, test_on)
        step_accuracy = model.step_accuracies(model.evaluate(held_out_crops, verbose=0, return_dict=True))
        audio_seconds = counter[0] * args.batch_size * crop_samples / SAMPLE_RATE
        metrics = {
            "data": args.data,
            "utterances": {"train": len(train), "validation": len(validation), "probe_train": len(probe_train),
                           "probe_test": len(probe_test)},
            "skipped_files": len(corpus.skipped),
            "embedding_dim": args.embedding_dim,
            "context_dim": model.context_dim,
            "epochs": args.epochs,
            "training_seconds": training_seconds,
            "training_audio_seconds_per_second": audio_seconds / training_seconds,
            "final_losses": {key: values[-1] for key, values in history.history.items()},
            "held_out_step_accuracy": step_accuracy,
            "augment": args.augment,
            "extra_training_speakers": {"espeak": extra_speakers, "flite": flite},
            "probe_table": rows,
            "phone_probe": rows[name]["phone"],
            "speaker_probe": rows[name]["speaker"],
        }
        if held_out:
            metrics["held_out_engine"] = {"voices": held_out[1].speaker_names, "probe_table": held_out_rows,
                                          "phone_probe": held_out_rows[name]["phone"],
                                          "speaker_probe": held_out_rows[name]["speaker"]}
        run.write_json("metrics.json", metrics)
        if is_chief():
            _figures(model, history.history, step_accuracy, run)
            write_speech_projector(run.file("tensorboard"), utterance_features(model.encode, probe_test.waveforms),
                                   probe_test)
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print(f"Prediction accuracy on held-out crops, k = 1..{len(step_accuracy)}: "
          + " ".join(f"{value:.2f}" for value in step_accuracy))
    tables = "Probe accuracy on held-out utterances (seen speakers, unseen sentences)\n" + format_table(rows, COLUMNS)
    if held_out:
        tables += ("\nProbe accuracy on the held-out engine (Festival voices never trained on, unseen sentences)\n"
                   + format_table(held_out_rows, COLUMNS))
    print_summary(run, export_path, tables)
    return metrics


def _count(counter):
    counter[0] += 1


def _figures(model, history, step_accuracy, run):
    last = f"accuracy_{model.prediction_steps}"
    shown = {key: values for key, values in history.items()
             if key.removeprefix("val_") in ("loss", "accuracy_1", last)}
    if shown:
        plots.history_curves(shown, run.file("history.png"), title="CPC")
    plot_step_accuracy({"held-out utterances": step_accuracy}, run.file("accuracy_vs_k.png"))


def tuning_task(args):
    """The `python -m keras_ae.recipes.tune --model cpc` task: a `CPCHyperModel` searching the embedding size, scored
    by the phone probe on validation utterances (seen speakers, validation sentences)."""
    from keras_ae.tuning import TuningTask, CPCHyperModel

    defaults = parse_flags(build_parser(), ["--quick"] if getattr(args, "quick", False) else [], quick=QUICK)
    defaults.data = args.data or defaults.data
    defaults.seed = args.seed
    corpus = load_corpus(defaults)
    train, validation, probe_train, _ = splits(corpus, defaults)
    if args.limit:
        train = train.head(args.limit)
    crop_samples = crop_length(defaults)
    hypermodel = CPCHyperModel(
        (probe_train, validation), min_dim=max(args.min_dim, 8), max_dim=args.max_dim,
        learning_rate=defaults.learning_rate, encoder_options=dict(filters=defaults.filters),
        model_options=dict(crop_samples=crop_samples, prediction_steps=defaults.prediction_steps,
                           negatives=defaults.negatives),
    )
    quick = getattr(args, "quick", False)
    batch_size = defaults.batch_size if quick or args.batch_size is None else args.batch_size
    return TuningTask(
        hypermodel,
        make_crop_dataset(train, crop_samples, batch_size, shuffle=True, seed=args.seed),
        make_crop_dataset(validation, crop_samples, batch_size, shuffle=False, skip_short=True, drop_remainder=False),
        "cpc",
    )


if __name__ == "__main__":
    main()
