"""keras_ae.tensorboard: the projector files, samples written every epoch, and HParams rows of a search."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import ConvImageDecoder, ConvImageEncoder
from keras_ae.models import AutoEncoder
from keras_ae.tensorboard import (
    EpochSummaries,
    image_samples,
    sentence_samples,
    speech_samples,
    summary_samples,
    tree_samples,
    write_projector,
    write_trial_objectives,
)
from tests.helpers import bar_images
from tests.tensorboard_helpers import read_projector, summary_plugins, summary_steps


def test_projector_files_name_every_point(tmp_path):
    images, labels = bar_images(10)
    embeddings = np.random.default_rng(0).normal(size=(10, 3))
    write_projector(tmp_path, embeddings, {"label": labels.tolist(), "text": [f"a\tb {i}" for i in range(10)]},
                    sprite_images=images)
    embedding, metadata, rows = read_projector(tmp_path)
    assert list(embedding.tensor_shape) == [10, 3] and len(rows) == 10
    np.testing.assert_allclose(np.loadtxt(rows), embeddings, rtol=1e-4)
    assert metadata[0] == "label\ttext" and metadata[1] == f"{labels[0]}\ta b 0"  # tabs in values are flattened
    assert list(embedding.sprite.single_image_dim) == [8, 8]
    sprite = tf.io.decode_png(tf.io.read_file(str(tmp_path / "projector" / embedding.sprite.image_path)))
    assert sprite.shape == (32, 32, 1)  # 4 x 4 tiles of 8 x 8


def test_projector_single_column_has_no_header_and_bad_metadata_is_refused(tmp_path):
    write_projector(tmp_path, np.zeros((3, 2)), {"speaker": ["a", "b", "c"]}, name="utterances")
    write_projector(tmp_path, np.ones((4, 2)), {"phone": list("abcd")}, name="frames")
    write_projector(tmp_path, np.ones((2, 2)), {"phone": list("xy")}, name="frames")  # replaces the first "frames"
    _, metadata, _ = read_projector(tmp_path, "utterances")
    assert metadata == ["a", "b", "c"]
    _, metadata, rows = read_projector(tmp_path, "frames")
    assert metadata == ["x", "y"] and len(rows) == 2
    with pytest.raises(ValueError, match="'speaker' has 2 values for 3 embeddings"):
        write_projector(tmp_path, np.zeros((3, 2)), {"speaker": ["a", "b"]})


def test_image_samples_every_epoch_during_fit(tmp_path):
    images, _ = bar_images(32)
    model = AutoEncoder(
        image_shape=(8, 8, 1), embedding_dim=8,
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        decoder=ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32),
    )
    model.compile(optimizer="adam")
    model.fit(images, batch_size=16, epochs=2, verbose=0,
              callbacks=[EpochSummaries(tmp_path, image_samples(images[:4]))])
    steps = summary_steps(tmp_path / "samples")
    assert steps == {"reconstructions (top: test images, bottom: reconstructed)": [0, 1, 2]}


class _HashEncoder:
    """A stand-in sentence model whose `encode` maps a sentence to its first word's hash bucket (one-hot)."""

    @staticmethod
    def encode(sentences):
        first = tf.strings.split(sentences).to_tensor()[:, 0]
        return tf.one_hot(tf.strings.to_hash_bucket_fast(first, 16), 16)


def test_sentence_samples_write_nearest_neighbours(tmp_path):
    write = sentence_samples(["Anna sang.", "Tom ran."], ["Anna slept.", "Tom ate.", "Bob sat."], k=1)
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        write(_HashEncoder(), 0)
    assert summary_plugins(tmp_path) == {"nearest neighbours": "text"}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    table = tf.make_ndarray(accumulator.Tensors("nearest neighbours")[0].tensor_proto).item().decode()
    assert "| Anna sang. | Anna slept. (1.00) |" in table and "| Tom ran. | Tom ate. (1.00) |" in table


class _RightBranchingParser:
    """A stand-in tree model whose `parse` brackets every sentence right-branching."""

    @staticmethod
    def parse(sentences):
        def bracket(sentence):
            words = sentence.decode().split()
            tree = words[-1]
            for word in reversed(words[:-1]):
                tree = f"(X {word} {tree})"
            return tree

        return tf.constant([bracket(s) for s in sentences.numpy()])


def test_tree_samples_write_parses_beside_gold_trees(tmp_path):
    import nltk

    gold = [nltk.Tree.fromstring("(S (NP the cat) (VP sat))")]
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        tree_samples(["the cat sat"], gold)(_RightBranchingParser(), 0)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    table = tf.make_ndarray(accumulator.Tensors("parses of test sentences")[0].tensor_proto).item().decode()
    assert "| the cat sat | `(X the (X cat sat))` | `(S (NP the cat) (VP sat))` |" in table


class _FirstWordSummarizer:
    """A stand-in summariser whose `summarize` keeps each document's first word."""

    @staticmethod
    def summarize(documents):
        return tf.strings.split(documents).to_tensor()[:, 0]


def test_summary_samples_write_documents_summaries_and_references(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        summary_samples(["Foo frobnicates | widgets quickly.", "Bar draws bars."], ["frob widgets", "bars"],
                        characters=12)(_FirstWordSummarizer(), 0)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    table = tf.make_ndarray(accumulator.Tensors("summaries of validation documents")[0].tensor_proto).item().decode()
    assert "| Foo frobnica... | Foo | frob widgets |" in table and "| Bar draws ba... | Bar | bars |" in table


def test_speech_samples_audio_once_and_spectrograms_each_epoch(tmp_path):
    time = np.arange(3200) / 16000
    waveforms = [0.1 * np.sin(2 * np.pi * 220 * time), 0.1 * np.sin(2 * np.pi * 330 * time[:2400])]
    features = lambda model, index: {"codes": np.arange(len(waveforms[index]) // 160) % 3,  # noqa: E731
                                     "audio: resynthesised": waveforms[index][::-1].copy()}
    write = speech_samples(waveforms, ["speaker a: one", "speaker b: two"], features=features)
    writer = tf.summary.create_file_writer(str(tmp_path))
    for step in (0, 1):
        with writer.as_default(step=step):
            write(None, step)
    writer.flush()
    steps, plugins = summary_steps(tmp_path), summary_plugins(tmp_path)
    assert steps["utterance 0: input"] == [0] and plugins["utterance 0: input"] == "audio"  # the input once
    assert steps["utterance 1: resynthesised"] == [0, 1] and plugins["utterance 1: resynthesised"] == "audio"
    assert steps["utterance 1: spectrogram and model views"] == [0, 1]
    assert plugins["utterance 1: spectrogram and model views"] == "images"


def test_trial_objectives_give_one_hparams_row_per_trial(tmp_path):
    trials = [{"trial": "0", "embedding_dim": 16, "objective": "bce", "val_probe_accuracy": 0.8, "loss": 0.1},
              {"trial": "1", "embedding_dim": 64, "objective": "infonce", "val_probe_accuracy": 0.7, "loss": 0.2},
              {"trial": "2", "embedding_dim": 32, "objective": "bce", "val_probe_accuracy": None, "loss": None}]
    write_trial_objectives(tmp_path, trials, "val_probe_accuracy")
    from tensorboard.plugins.hparams import plugin_data_pb2

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(tmp_path), size_guidance={"tensors": 0})
    accumulator.Reload()
    content = accumulator.SummaryMetadata("_hparams_/experiment").plugin_data.content
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content).experiment
    assert [h.name for h in experiment.hparam_infos] == ["embedding_dim", "objective"]
    assert [m.name.tag for m in experiment.metric_infos] == ["val_probe_accuracy", "epoch_loss"]
    assert summary_steps(tmp_path / "0" / "execution0") == {"val_probe_accuracy": [0]}
    assert not (tmp_path / "2").exists()  # a trial without an objective gets no row value
