"""TensorBoard as the window into a run: the embedding projector, samples per epoch, and HParams for tuning.

A run folder's `tensorboard/` holds, beside Keras's scalars (`train/`, `validation/`):
- `projector/`: the test-split embeddings for the Embedding Projector, with their labels as metadata columns (and
  an image sprite for images), written once at the end of a run by `write_projector`;
- `samples/`: what the model does each epoch, written by the `EpochSummaries` callback from a modality's writer:
  `image_samples` (reconstructions, code usage), `sentence_samples` (nearest neighbours as text),
  `speech_samples` (spectrograms, features and codes over time, and the utterances as audio);
- for `tune`, one folder per trial with its hyperparameters for the HParams dashboard (keras-tuner's own
  TensorBoard support) and the trial's objective, written by `write_trial_objectives`.

Example:
    callback = EpochSummaries(run.file("tensorboard"), image_samples(splits.test.images[:8]))
    model.fit(train, epochs=5, callbacks=[callback])
    write_projector(run.file("tensorboard"), model.encode(test_images), {"digit": test_labels}, test_images)
    # tensorboard --logdir RUN/tensorboard
"""

import io
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_ae.distribute import is_chief

PROJECTOR_RUN = "projector"
SAMPLES_RUN = "samples"
MAX_PROJECTOR_POINTS = 2000
SPRITE_SIDE = 8192  # the projector's largest sprite image, in pixels per side


def write_projector(log_dir, embeddings, metadata, sprite_images=None, name="test embeddings"):
    """Writes `embeddings` `[n, d]` for the Embedding Projector in `log_dir/projector`, returns that folder.

    Each `name` is one tensor of the projector's menu (a second call with another name adds one; the same name
    replaces it).

    Args:
        metadata: a dict from column name to `n` values (labels, class names, sentence text, speaker), shown
            and searchable in the projector and used to colour the points.
        sprite_images: optional `[n, height, width, channels]` images in [0, 1], one per point (an image sprite).
    """
    embeddings = np.asarray(embeddings, "float32").reshape(len(embeddings), -1)
    count = len(embeddings)
    for column, values in metadata.items():
        if len(values) != count:
            raise ValueError(f"Projector metadata {column!r} has {len(values)} values for {count} embeddings.")
    folder = Path(log_dir) / PROJECTOR_RUN
    folder.mkdir(parents=True, exist_ok=True)
    stem = "_".join("".join(c if c.isalnum() else " " for c in name).split())
    np.savetxt(folder / f"{stem}.tsv", embeddings, delimiter="\t", fmt="%.5g")
    columns = list(metadata)
    with open(folder / f"{stem}_metadata.tsv", "w", encoding="utf-8") as file:
        if len(columns) > 1:  # the projector reads a header line only when there are several columns
            file.write("\t".join(columns) + "\n")
        for row in range(count):
            file.write("\t".join(_tsv_cell(metadata[column][row]) for column in columns) + "\n")

    from google.protobuf import text_format
    from tensorboard.plugins import projector

    config = projector.ProjectorConfig()
    config_path = folder / "projector_config.pbtxt"
    if config_path.exists():
        text_format.Parse(config_path.read_text(), config)
    kept = [embedding for embedding in config.embeddings if embedding.tensor_name != name]
    del config.embeddings[:]
    config.embeddings.extend(kept)
    embedding = config.embeddings.add()
    embedding.tensor_name = name
    embedding.tensor_path = f"{stem}.tsv"
    embedding.tensor_shape.extend(embeddings.shape)
    embedding.metadata_path = f"{stem}_metadata.tsv"
    if sprite_images is not None:
        sprite, size = _sprite(np.asarray(sprite_images, "float32"))
        _write_png(folder / f"{stem}_sprite.png", sprite)
        embedding.sprite.image_path = f"{stem}_sprite.png"
        embedding.sprite.single_image_dim.extend(size)
    projector.visualize_embeddings(str(folder), config)
    # TensorBoard lists only folders with an event file as runs, and the projector looks in runs only.
    with tf.summary.create_file_writer(str(folder)).as_default():
        tf.summary.text(f"projector: {name}", f"{count} {name}, {embeddings.shape[1]} dimensions; metadata: "
                        + ", ".join(columns) + ". Open the PROJECTOR tab and colour by a metadata column.", step=0)
    return folder


def _tsv_cell(value):
    return " ".join(str(value).split()) or "-"


def _sprite(images):
    """One image tiling `images` row by row (the projector's sprite), and the size of one tile."""
    count, height, width = images.shape[:3]
    columns = math.ceil(math.sqrt(count))
    if columns * max(height, width) > SPRITE_SIDE:
        raise ValueError(f"{count} images of {height}x{width} exceed the projector's {SPRITE_SIDE}-pixel sprite.")
    grid = np.ones([columns * height, columns * width, images.shape[3]], "float32")
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid[row * height : (row + 1) * height, column * width : (column + 1) * width] = image
    return grid, [width, height]


def _write_png(path, image):
    pixels = np.clip(np.asarray(image) * 255.0, 0, 255).astype("uint8")
    tf.io.write_file(str(path), tf.io.encode_png(pixels))


def figure_to_image(figure):
    """A matplotlib figure as a uint8 `[1, height, width, 4]` array for `tf.summary.image` (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return tf.image.decode_png(buffer.getvalue(), channels=4)[None]


def image_rows(rows):
    """Stacks rows of images (each `[n, height, width, channels]`, equal n) into one `[1, H, W, channels]` image."""
    return np.concatenate([np.concatenate(list(np.asarray(row)), axis=1) for row in rows], axis=0)[None]


class EpochSummaries(keras.callbacks.Callback):
    """Calls `write(model, epoch)` at the end of every epoch (and once before training) with a summary writer of
    `log_dir/samples` as default, so `write` only calls `tf.summary.image / audio / text / histogram`.

    Only the chief writes (other workers of a multi-worker run skip it).
    """

    def __init__(self, log_dir, write):
        super().__init__()
        self.log_dir = str(Path(log_dir) / SAMPLES_RUN)
        self.write = write
        self._writer = None

    def _summarise(self, step):
        if not is_chief():
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default(step=step):
            self.write(self.model, step)
        self._writer.flush()

    def on_train_begin(self, logs=None):
        self._summarise(0)  # the untrained model: a baseline to compare epochs with

    def on_epoch_end(self, epoch, logs=None):
        self._summarise(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def image_samples(images):
    """A writer for image models: test images beside their reconstructions, and the usage of discrete codes."""
    images = np.asarray(images, "float32")

    def write(model, step):
        if hasattr(model, "reconstruct"):
            reconstructions = np.asarray(model.reconstruct(images))
        elif hasattr(model, "decode"):
            reconstructions = np.asarray(model.decode(model.encode(images)))
        else:
            reconstructions = None
        if reconstructions is not None:
            tf.summary.image("reconstructions (top: test images, bottom: reconstructed)",
                             image_rows([images, np.clip(reconstructions, 0, 1)]))
        if hasattr(model, "codes"):
            codes = np.asarray(model.codes(images))
            tf.summary.histogram("code ids of test images", codes.reshape(-1))
            tf.summary.image("code usage", figure_to_image(_code_usage_figure(codes, _num_codes(model))))

    return write


def _num_codes(model):
    return getattr(model, "num_codes", None) or getattr(model, "num_categories", None) or 2


def _code_usage_figure(codes, num_codes):
    import matplotlib.pyplot as plt

    counts = np.bincount(np.asarray(codes).reshape(-1).astype("int64"), minlength=num_codes)
    figure, axis = plt.subplots(figsize=(6, 2.5))
    axis.bar(np.arange(len(counts)), np.sort(counts)[::-1], width=1.0)
    axis.set_title(f"{int(np.sum(counts > 0))} of {num_codes} codes used", fontsize=9)
    axis.set_xlabel("code (by rank)")
    axis.set_ylabel("positions")
    figure.tight_layout()
    return figure


def sentence_samples(queries, pool, k=3):
    """A writer for sentence models: the `k` nearest `pool` sentences of each query, as a markdown table."""
    from keras_ae.evaluation.sentences import embed, nearest_neighbours

    queries, pool = list(queries), list(pool)

    def write(model, step):
        neighbours = nearest_neighbours(embed(model.encode, queries), embed(model.encode, pool), pool, k=k)
        lines = ["| query | nearest training sentences (cosine) |", "|---|---|"]
        for query, rows in zip(queries, neighbours):
            found = "<br>".join(f"{_markdown(sentence)} ({score:.2f})" for sentence, score in rows)
            lines.append(f"| {_markdown(query)} | {found} |")
        tf.summary.text("nearest neighbours", "\n".join(lines))

    return write


def tree_samples(sentences, gold_trees=None):
    """A writer for tree models (`model.parse(sentences) -> tf.string` brackets): each sentence's most probable
    tree, beside its gold tree when known, as a markdown table."""
    sentences = list(sentences)
    gold = None if gold_trees is None else [" ".join(str(tree).split()) for tree in gold_trees]

    def write(model, step):
        parses = [tree.decode() for tree in model.parse(tf.constant(sentences)).numpy()]
        lines = ["| sentence | most probable tree |" + (" gold tree |" if gold else ""),
                 "|---|---|" + ("---|" if gold else "")]
        for index, (sentence, parse) in enumerate(zip(sentences, parses)):
            lines.append(f"| {_markdown(sentence)} | `{parse}` |" + (f" `{gold[index]}` |" if gold else ""))
        tf.summary.text("parses of test sentences", "\n".join(lines))

    return write


def summary_samples(documents, references=None, characters=300):
    """A writer for summarisers (`model.summarize(strings) -> strings`): each document (its first `characters`), the
    model's summary and the real one when known, as a markdown table."""
    from keras_ae.evaluation.summaries import summarize

    documents = list(documents)
    references = None if references is None else list(references)

    def write(model, step):
        outputs = summarize(model, documents)
        lines = ["| document | generated summary |" + (" real summary |" if references else ""),
                 "|---|---|" + ("---|" if references else "")]
        for index, (document, output) in enumerate(zip(documents, outputs)):
            cut = document if len(document) <= characters else document[:characters] + "..."
            lines.append(f"| {_markdown(cut)} | {_markdown(output)} |"
                         + (f" {_markdown(references[index])} |" if references else ""))
        tf.summary.text("summaries of validation documents", "\n".join(lines))

    return write


def _markdown(text):
    return str(text).replace("|", "\\|")


def speech_samples(waveforms, names, features=None, audio_once=True, sample_rate=16000):
    """A writer for speech models: held-out utterances as audio, their log-mel spectrogram beside the model's view.

    Args:
        waveforms: a few float32 waveforms (any lengths) at `sample_rate`.
        names: one caption per waveform (speaker and text).
        features: `(model, index) -> dict of name -> [frames, channels]` arrays (or `[frames]` ids) to draw under
            the spectrogram of utterance `index`
            (for example CPC's context features, or a VQ-VAE's input, reconstruction and codes), and optionally
            `"audio: NAME"` entries holding waveforms to play.
        audio_once: write the input audio only before training (it does not change between epochs).
    """
    from keras_ae.evaluation.speech import mfcc_features

    waveforms = [np.asarray(w, "float32") for w in waveforms]
    # The log-mel spectrum itself (the 40-coefficient DCT of mfcc_features, undone): what a person reads.
    spectrograms = [np.asarray(tf.signal.idct(mfcc_features(w[None], num_coefficients=40, deltas=False), type=2))[0]
                    / np.sqrt(80.0) for w in waveforms]

    def write(model, step):
        for index, (waveform, name) in enumerate(zip(waveforms, names)):
            if step == 0 or not audio_once:
                tf.summary.audio(f"utterance {index}: input", waveform[None, :, None], sample_rate, description=name)
            panels = {"input: log-mel spectrogram (40 bands, 20 Hz to 7.6 kHz; natural log of power)":
                      spectrograms[index]}
            sounds = {}
            for label, value in (features(model, index) if features else {}).items():
                (sounds if label.startswith("audio: ") else panels)[label] = value
            for label, sound in sounds.items():
                tf.summary.audio(f"utterance {index}: {label.removeprefix('audio: ')}",
                                 np.asarray(sound, "float32")[None, :, None], sample_rate, description=name)
            tf.summary.image(f"utterance {index}: spectrogram and model views",
                             figure_to_image(_panels_figure(panels, name)))

    return write


def utterance_captions(corpus, count=2):
    """Captions of the first `count` utterances of a `SpeechCorpus`: speaker name and text."""
    return [f"{corpus.speaker_names[corpus.speakers[i]]}: {corpus.texts[i] or '(no text)'}"
            for i in range(min(count, len(corpus)))]


def write_speech_projector(log_dir, frame_features, corpus, frame_step=1, seed=0):
    """The projector for speech: one point per utterance (its frames' mean feature) with speaker and text, and,
    when the corpus has phone labels, one point per frame (a seeded sample) with its phone and speaker.

    `frame_features[i]` is `[steps, dim]` for utterance `i`, one step per `frame_step` 10 ms frames (the phone of a
    step is that of its first frame).
    """
    count = min(len(frame_features), MAX_PROJECTOR_POINTS)
    speakers = [corpus.speaker_names[s] for s in corpus.speakers]
    write_projector(log_dir, np.stack([np.asarray(f).mean(axis=0) for f in frame_features[:count]]), {
        "speaker": speakers[:count], "text": [text or "-" for text in corpus.texts[:count]],
    }, name="held-out utterances (mean over frames)")
    if corpus.phones is None:
        return
    rows = []
    for index, features in enumerate(frame_features):
        phones = np.asarray(corpus.phones[index])[::frame_step]
        rows += [(index, step) for step in range(min(len(features), len(phones)))]
    chosen = sorted(np.random.default_rng(seed).permutation(len(rows))[:MAX_PROJECTOR_POINTS])
    picked = [rows[i] for i in chosen]
    write_projector(log_dir, np.stack([np.asarray(frame_features[u])[s] for u, s in picked]), {
        "phone": [corpus.phone_names[corpus.phones[u][s * frame_step]] for u, s in picked],
        "speaker": [speakers[u] for u, _ in picked],
        "time (s)": [f"{s * frame_step / 100:.2f}" for _, s in picked],
    }, name="held-out frames")


def _panels_figure(panels, title):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 1.8 * len(panels) + 0.5), sharex=True, squeeze=False)
    for axis, (label, values) in zip(axes[:, 0], panels.items()):
        values = np.asarray(values)
        if values.ndim == 1:
            axis.step(np.arange(len(values)), values, where="post", linewidth=0.8)
            axis.set_ylabel("code id", fontsize=9)
        else:
            image = axis.imshow(values.T, aspect="auto", origin="lower", interpolation="nearest")
            axis.set_ylabel("mel band" if label.startswith("input: log-mel") else "channel", fontsize=9)
            figure.colorbar(image, ax=axis, pad=0.01)
        axis.set_title(label, fontsize=10)
    axes[-1, 0].set_xlabel("frame (10 ms each)", fontsize=9)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def write_trial_objectives(log_dir, trials, objective):
    """Adds each finished trial's `objective` to its keras-tuner TensorBoard folder and declares the HParams
    columns, so the HParams dashboard shows one row per trial with its hyperparameters and objective.

    keras-tuner (given a `keras.callbacks.TensorBoard` in `search`) writes each trial's hyperparameters to
    `log_dir/<trial id>/execution0`; the objective of keras_ae's HyperModels is computed after `fit`, so it is
    written here. `trials` are the rows of `keras_ae.tuning.trial_table`.
    """
    from tensorboard.plugins.hparams import api as hparams_api

    names = sorted({key for row in trials for key in row} - {"trial", objective, "loss"})
    values = {name: sorted({row[name] for row in trials if name in row}, key=str) for name in names}
    hparams = [hparams_api.HParam(name, _domain(hparams_api, values[name])) for name in names]
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        hparams_api.hparams_config(
            hparams=hparams,
            metrics=[hparams_api.Metric(objective, display_name=f"{objective} (objective)"),
                     hparams_api.Metric("epoch_loss", group="train", display_name="final training loss")],
        )
    for row in trials:
        if row.get(objective) is None:
            continue
        with tf.summary.create_file_writer(str(Path(log_dir) / str(row["trial"]) / "execution0")).as_default():
            tf.summary.scalar(objective, row[objective], step=0)


def _domain(hparams_api, values):
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return hparams_api.Discrete(values)
    return hparams_api.Discrete([str(value) for value in values])
