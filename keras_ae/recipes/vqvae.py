"""VQ-VAE: `python -m keras_ae.recipes.vqvae [--data mnist|speech|PATH] [--codebook-size 512] ...`.

On speech (`--data speech`, the synthesized multi-speaker corpus of `keras_ae.data.speech`): one code per 10 ms
frame of a spectrogram (40 log-mel bands in their orthonormal DCT basis), each input standardised by its own
mean and std (`--feature-norm global` for training-set statistics instead), computed by a `LogMelSpectrogram`
front end inside the model, so the model and its export take 16 kHz waveforms. By default the decoder is conditioned
on a learned speaker embedding (van den Oord et al., 2017), so the codes need not carry the speaker
(`--no-speaker-conditioning` to compare). Both defaults lower the speaker information per code
(docs/results/discrete.md).

Reports on held-out utterances (seen speakers, unseen sentences), for the VQ-VAE codes and for k-means with the
same number of codes on MFCC frames:
- the phone purity of the codes (k-means also on the VQ-VAE's own input frames: what clustering alone gives);
- a speaker probe on per-utterance code histograms (how much speaker identity the codes carry; lower is better),
  next to its chance level and to the same probe on histograms of the true phone labels (the corpus's speakers
  differ in accent, so even a perfect phone code identifies some of them);
- frame by frame, the share of the phone's and of the speaker's entropy a single code explains (`phone_info`,
  `speaker_info`: `I(code; label) / H(label)`), which does not saturate as the probe does.

On images (MNIST by default, or the image sources of `keras_ae.data.images`, e.g. a folder or `.npz`): a 7x7 grid
of codes per 28x28 image; reports on the test split the share of the codebook used, the perplexity and the
reconstruction error beside a continuous `AutoEncoder` with the same latent size (one float per code position)
and budget. Writes the run folder (reconstructions, code-usage histogram, code maps) and exports `encode`,
`quantize` and `decode_codes`.

`--no-ema`, `--no-restart` and `--no-kmeans-init` switch off the codebook's EMA updates, dead-code restarts and
k-means initialisation, to measure what each does.
"""

import argparse
import math
import time

import keras
import numpy as np
import tensorflow as tf

from keras_ae import plots
from keras_ae.config import constructor_default
from keras_ae.core.validation import at_least_two_int, non_negative_float, positive_int
from keras_ae.data.augmentation import augment_dataset
from keras_ae.data.speech import FRAME_SAMPLES, load_speech_corpus
from keras_ae.distribute import get_strategy
from keras_ae.evaluation.codes import code_usage, kmeans_code_row, speech_code_references, speech_code_row
from keras_ae.evaluation.speech import mel_cepstrum_to_waveform, mfcc_features
from keras_ae.layers.audio.augmentation import AUGMENT_PRESETS, augmentation_from_preset
from keras_ae.layers.audio.log_mel import LogMelSpectrogram
from keras_ae.layers.bottlenecks.vector_quantizer import check_codebook_fits
from keras_ae.models.vqvae import VQVAE
from keras_ae.recipes.common import RunFolder, export_run, format_table, parse_flags, print_summary, recipe_parser
from keras_ae.recipes.discrete import run_code_recipe
from keras_ae.recipes.speech_recipe import add_corpus_flags
from keras_ae.tensorboard import EpochSummaries, speech_samples, utterance_captions, write_speech_projector

SPEECH_QUICK = {"epochs": 1, "batch_size": 8, "speakers": 3, "sentences": 8, "held_out_speakers": 1,
                "codebook_size": 32, "probe_utterances": 16}
SPEECH_DEFAULTS = {"batch_size": 32, "epochs": 8}  # chunks of 100 frames: 160 steps per epoch
MEL_BANDS = 40


def build_parser():
    parser = recipe_parser("vqvae", __doc__.splitlines()[0], defaults={"data": "mnist", "epochs": 3})
    default = lambda name: constructor_default(VQVAE, name)  # noqa: E731
    parser.add_argument("--codebook-size", type=at_least_two_int, default=default("num_codes"),
                        help="number of codes K")
    parser.add_argument("--code-dim", type=positive_int, default=default("code_dim"),
                        help="size of each code vector")
    parser.add_argument("--beta", type=non_negative_float, default=default("beta"), help="commitment weight")
    parser.add_argument("--no-ema", dest="ema", action="store_false", help="learn the codebook by its loss, not EMA")
    parser.add_argument("--no-restart", dest="restart", action="store_false", help="never restart dead codes")
    parser.add_argument("--no-kmeans-init", dest="kmeans_init", action="store_false", help="random codebook start")
    parser.add_argument("--dead-code-threshold", type=non_negative_float, default=default("dead_code_threshold"),
                        help="share of mean usage = dead")
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip training the continuous AutoEncoder of the same latent size")
    speech = parser.add_argument_group("speech (--data speech)")
    add_corpus_flags(speech)
    speech.add_argument("--crop-frames", type=positive_int, default=100, help="training chunk length in 10 ms frames")
    speech.add_argument("--time-stride", type=positive_int, default=default("time_stride"),
                        help="one code per this many 10 ms frames (strided encoder, upsampling decoder); "
                             "--crop-frames must be divisible by it")
    speech.add_argument("--probe-utterances", type=positive_int, default=480, help="utterances the speaker probe fits on")
    speech.add_argument("--speaker-conditioning", action=argparse.BooleanOptionalAction, default=True,
                        help="condition the decoder on a learned speaker embedding (van den Oord et al., 2017), so "
                             "the codes need not carry the speaker")
    speech.add_argument("--speaker-dim", type=positive_int, default=default("speaker_dim"),
                        help="size of the decoder's speaker embedding")
    speech.add_argument("--augment", choices=AUGMENT_PRESETS, default="none",
                        help="time-domain augmentation of the training crops, drawn anew every epoch "
                             "(keras_ae.layers.audio.augmentation)")
    speech.add_argument("--feature-norm", choices=("global", "utterance"), default="utterance",
                        help="standardise spectrogram frames with each utterance's own mean and std (utterance: "
                             "removes the speaker's average spectrum; measured: less speaker information per code) "
                             "or with training-set statistics (global)")
    return parser


def build_model(args, image_shape):
    if args.time_stride != 1:
        raise ValueError("--time-stride applies to --data speech only (images have a fixed 7x7 code grid).")
    return VQVAE(
        data_shape=image_shape,
        num_codes=args.codebook_size,
        code_dim=args.code_dim,
        beta=args.beta,
        ema=args.ema,
        kmeans_init=args.kmeans_init,
        restart_dead_codes=args.restart,
        dead_code_threshold=args.dead_code_threshold,
        seed=args.seed,
    )


def check_data_size(args, splits):
    """Every training image gives (height / 4) x (width / 4) encoder outputs; a larger codebook cannot be filled."""
    height, width = splits.image_shape[:2]
    positions = math.ceil(math.ceil(height / 2) / 2) * math.ceil(math.ceil(width / 2) / 2)
    num_train = len(splits.train.images)
    check_codebook_fits(
        args.codebook_size, num_train * positions, what=f"{num_train} training images ({positions} codes each)"
    )


def crop_dataset(corpus_part, crop_samples, batch_size, conditioned, augmentation, seed, limit=None):
    """Batches of the utterances of `corpus_part` cut into consecutive crops of `crop_samples` samples (the rest of
    each utterance is dropped), shuffled every epoch, augmented by `augmentation` (fresh draws every epoch) and
    keyed for `VQVAE`: `{"inputs": crops, "speakers": ids}` when the decoder is conditioned, else the crops."""
    crops, speakers = [], []
    for waveform, speaker in zip(corpus_part.waveforms, corpus_part.speakers):
        whole = len(waveform) // crop_samples * crop_samples
        crops.append(np.asarray(waveform[:whole], np.float32).reshape(-1, crop_samples))
        speakers.append(np.full(len(crops[-1]), speaker, np.int32))
    crops, speakers = np.concatenate(crops)[:limit], np.concatenate(speakers)[:limit]
    dataset = tf.data.Dataset.from_tensor_slices((crops, speakers))
    dataset = dataset.shuffle(len(crops), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    dataset = augment_dataset(dataset, augmentation, seed=seed)
    keyed = (lambda c, s: {"inputs": c, "speakers": s}) if conditioned else (lambda c, s: c)
    return dataset.map(keyed).prefetch(tf.data.AUTOTUNE), len(crops)


def run_speech(argv=None):
    """VQ-VAE on speech: train on crops of seen speakers' training sentences, evaluate on held-out ones."""
    parser = build_parser()
    parser.set_defaults(**SPEECH_DEFAULTS)
    args = parse_flags(parser, argv, quick=SPEECH_QUICK)
    stride = args.time_stride
    if stride < 1 or args.crop_frames % stride:
        raise ValueError(
            f"--crop-frames ({args.crop_frames}) must be divisible by --time-stride ({stride}, a positive integer)."
        )
    run = RunFolder.for_flags(args)
    keras.utils.set_random_seed(args.seed)
    strategy = get_strategy(args.strategy)
    corpus = load_speech_corpus(
        num_speakers=args.speakers, num_sentences=args.sentences, held_out_speakers=args.held_out_speakers,
        seed=args.seed,
    )
    train = corpus.select(sentences="train", speakers="train")
    test = corpus.select(sentences="test", speakers="train")
    if len(test) == 0 or len(train) == 0:
        raise ValueError(f"--sentences {args.sentences} leaves {len(train)} training and {len(test)} held-out "
                         "utterances of seen speakers; the evaluation needs both. Pass --sentences 10 or more.")
    probe_train = train.subset(np.random.default_rng(args.seed).permutation(len(train))[: args.probe_utterances])
    augmentation = augmentation_from_preset(args.augment, seed=args.seed)
    training_data, num_crops = crop_dataset(train, args.crop_frames * FRAME_SAMPLES, args.batch_size,
                                            args.speaker_conditioning, augmentation, args.seed, args.limit or None)
    check_codebook_fits(args.codebook_size, num_crops * args.crop_frames // stride, what="training codes")
    print(f"speech: {len(train)} training utterances ({num_crops} crops of {args.crop_frames} frames), "
          f"{len(test)} held-out utterances; {strategy.num_replicas_in_sync} replica(s); augmentation: {args.augment}")
    with strategy.scope():
        model = VQVAE(
            data_shape=(None, MEL_BANDS), modality="frames", num_codes=args.codebook_size, code_dim=args.code_dim,
            beta=args.beta, ema=args.ema, kmeans_init=args.kmeans_init, restart_dead_codes=args.restart,
            dead_code_threshold=args.dead_code_threshold, seed=args.seed, time_stride=stride,
            num_speakers=corpus.num_speakers if args.speaker_conditioning else None, speaker_dim=args.speaker_dim,
            front_end=LogMelSpectrogram(MEL_BANDS, normalization=args.feature_norm, dct=True, name="front_end"),
        )
        if args.feature_norm == "global":
            model.adapt(train.waveforms)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), jit_compile=args.jit_compile)

    def whole_codes(waveform):
        """The waveform cut to a whole number of codes (`time_stride` frames each)."""
        return np.asarray(waveform, np.float32)[None, : len(waveform) // (FRAME_SAMPLES * stride) * FRAME_SAMPLES
                                                  * stride]

    def views(model, index):
        """TensorBoard samples of held-out utterance `index`: the model's input, reconstruction and codes, and the
        input and the reconstruction as sound (Griffin-Lim; the input's rendering is the vocoder's floor)."""
        waveform = whole_codes(test.waveforms[index])
        frames = np.asarray(model.features(waveform))
        speakers = [test.speakers[index]] if args.speaker_conditioning else None
        reconstruction = np.asarray(model.reconstruct(waveform, speakers))[0]
        mean, std = (np.asarray(t).reshape(-1) for t in model.front_end.statistics(model.front_end.log_mel(waveform)))
        vocode = lambda standardised: mel_cepstrum_to_waveform(standardised * std + mean)  # noqa: E731
        return {"VQ-VAE input (standardised)": frames[0], "reconstruction from the codes": reconstruction,
                "code per step": model.codes(waveform)[0], "audio: input features, vocoded (floor)": vocode(frames[0]),
                "audio: reconstruction from the codes, vocoded": vocode(reconstruction)}

    with run:
        run.write_config(model)
        samples = EpochSummaries(run.file("tensorboard"),
                                 speech_samples(test.waveforms[:2], utterance_captions(test), views))
        started = time.perf_counter()
        history = run.fit(model, training_data, epochs=args.epochs, callbacks=[samples])
        training_seconds = time.perf_counter() - started

        def codes_of(corpus_part):
            """The front end's frames (cut to a multiple of the stride) and their codes, one per `stride` frames."""
            waveforms = [whole_codes(w) for w in corpus_part.waveforms]
            features = [np.asarray(model.features(w))[0] for w in waveforms]
            codes = [np.asarray(model.codes(w))[0] for w in waveforms]
            return features, codes

        test_features, test_codes = codes_of(test)
        write_speech_projector(run.file("tensorboard"), [model.encode(whole_codes(w))[0] for w in test.waveforms],
                               test, frame_step=stride)
        probe_features, probe_codes = codes_of(probe_train)
        reconstructions = [
            np.asarray(model.reconstruct(whole_codes(w), [s] if args.speaker_conditioning else None))[0]
            for w, s in zip(test.waveforms, test.speakers)
        ]
        mse = float(np.mean(np.concatenate([(r - f) ** 2 for r, f in zip(reconstructions, test_features)])))
        rows = {"VQ-VAE codes": {**speech_code_row(test_codes, test, probe_codes, probe_train, args.codebook_size,
                                                   stride), "test_mse": mse}}
        # Baselines: k-means on MFCC (+ deltas) frames, and on the VQ-VAE's own input frames (does the encoder add
        # anything to clustering what it is given?).
        mfcc = [[np.asarray(mfcc_features(w[None]))[0] for w in part.waveforms] for part in (train, test, probe_train)]
        mfcc_mean, mfcc_std = np.concatenate(mfcc[0]).mean(0), np.concatenate(mfcc[0]).std(0) + 1e-6
        mfcc = [[(f - mfcc_mean) / mfcc_std for f in part] for part in mfcc]
        rows[f"k-means on MFCC (K={args.codebook_size})"] = kmeans_code_row(
            *mfcc, test, probe_train, args.codebook_size, seed=args.seed)
        rows[f"k-means on the VQ-VAE input (K={args.codebook_size})"] = kmeans_code_row(
            [np.asarray(model.features(w[None]))[0] for w in train.waveforms], test_features, probe_features, test,
            probe_train, args.codebook_size, seed=args.seed)
        rows.update(speech_code_references(test, probe_train, corpus.num_phones))
        usage = code_usage(np.concatenate(test_codes), args.codebook_size)
        metrics = {
            "data": "speech",
            "epochs": args.epochs,
            "training_seconds": training_seconds,
            "final_losses": {key: values[-1] for key, values in history.history.items()},
            "speaker_conditioning": args.speaker_conditioning,
            "augment": args.augment,
            "training_crops": num_crops,
            "time_stride": stride,
            "label_alignment": "each code repeated time_stride times to meet the 10 ms phone and speaker labels",
            "features": {
                "kind": f"LogMelSpectrogram({MEL_BANDS}, dct=True) inside the model: {MEL_BANDS} log-mel bands in "
                "their DCT basis, "
                + ("standardised with training-set statistics (weights of the front end)" if args.feature_norm
                   == "global" else "each input standardised by its own mean and std over time"),
                "norm": args.feature_norm,
                "export_inputs": "float32 waveforms [batch, samples] at 16 kHz",
            },
            "table": rows,
        }
        run.write_json("metrics.json", metrics)
        plots.history_curves(history.history, run.file("history.png"), title="VQ-VAE on speech frames")
        plots.bar_chart(np.sort(usage["histogram"])[::-1], run.file("code_usage.png"),
                        f"Held-out code usage ({usage['num_codes_used']} of {args.codebook_size} codes)",
                        "code (by rank)", "frames")
        plots.speech_code_map(test_features[0], reconstructions[0], np.repeat(test_codes[0], stride), test.phones[0],
                              corpus.phone_names, run.file("code_maps.png"))
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    columns = ["phone_purity", "phone_info", "speaker_probe_accuracy", "chance", "speaker_info", "codes_used",
               "perplexity", "test_mse"]
    print_summary(run, export_path, format_table(rows, columns))
    return metrics


def main(argv=None):
    if build_parser().parse_known_args(argv)[0].data == "speech":
        return run_speech(argv)
    return run_code_recipe(build_parser(), build_model, check_data_size, argv)


if __name__ == "__main__":
    main()
