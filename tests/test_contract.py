"""Every public layer and model through the shared checks of tests/testing.py."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae import layers as L
from keras_ae import models as M
from keras_ae.core import JudgedEncoder
from keras_ae.data.summaries import make_pair_dataset
from keras_ae.data.text import make_contiguous_dataset, make_triple_dataset
from keras_ae.data.trees import build_vocabulary, load_tree_data, make_sentence_dataset
from tests.helpers import bar_images
from tests.sentence_helpers import VOCABULARY, cycle_split
from tests.summary_helpers import VOCABULARY as SUMMARY_VOCABULARY
from tests.summary_helpers import tiny_pairs
from tests.testing import run_layer_test, run_model_test

rng = np.random.default_rng(0)
IMAGES = rng.uniform(size=(2, 8, 8, 1)).astype("float32")
FEATURES = rng.normal(size=(2, 2, 2, 16)).astype("float32")
EMBEDDING = rng.normal(size=(2, 8)).astype("float32")
SENTENCES = tf.constant(["the cat runs in the house", "the dog sleeps"])
TOKENS = np.array([[2, 3, 4, 0, 0], [5, 6, 0, 0, 0]], "int32")
WAVEFORMS = (0.3 * rng.normal(size=(2, 800))).astype("float32")  # 5 frames of 10 ms
MEL_FRAMES = rng.normal(size=(2, 5, 8)).astype("float32")


def _decoder():
    return L.ConditionalGRUDecoder(len(VOCABULARY) + 2, hidden_dim=8, word_dim=4, output_dim=4)


def _image_decoder():
    return L.ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32)


def _adapted_push():
    """A `SpeakerCodePush` whose two centroids are set, so a push other than 1 reads them."""
    layer = L.SpeakerCodePush(num_centroids=2, dim=8)
    layer.adapt(rng.normal(size=(6, 8)), np.array([0, 1, 0, 1, 0, 1]))
    return layer


LAYERS = {
    "BinaryQuantizer": (lambda: L.BinaryQuantizer(), EMBEDDING, None),
    "GumbelSoftmax": (lambda: L.GumbelSoftmax(seed=0), rng.normal(size=(2, 3, 4)).astype("float32"), None),
    "VectorQuantizer": (
        lambda: L.VectorQuantizer(num_codes=4, code_dim=8, ema=False, kmeans_init=False, seed=0), EMBEDDING, None
    ),
    "ConvImageEncoder": (lambda: L.ConvImageEncoder(8, filters=(8, 16), hidden_dim=32), IMAGES, None),
    "ConvImageDecoder": (_image_decoder, EMBEDDING, None),
    "WaveformEncoder": (lambda: L.WaveformEncoder(embedding_dim=8, filters=8), rng.normal(size=(2, 1600)).astype("float32"), None),
    "GRUSentenceEncoder": (lambda: L.GRUSentenceEncoder(VOCABULARY, embedding_dim=8, word_dim=4, max_length=6), SENTENCES, None),
    "GRUSentenceEncoder(wordpiece)": (lambda: L.GRUSentenceEncoder([*VOCABULARY, "##s"], embedding_dim=8, word_dim=4, max_length=6, tokenizer="wordpiece"), SENTENCES, None),
    "GRUSentenceEncoder(states+words)": (lambda: L.GRUSentenceEncoder(VOCABULARY, embedding_dim=8, word_dim=4, max_length=6, pooling="mean", readout="states+words"), SENTENCES, None),
    "GRUSentenceEncoder(words)": (lambda: L.GRUSentenceEncoder(VOCABULARY, embedding_dim=4, word_dim=4, max_length=6, readout="words"), SENTENCES, None),
    "ConditionalGRUDecoder": (_decoder, (TOKENS, EMBEDDING), lambda layer, x: layer(x[0], x[1], training=True)),
    "RandomShift": (lambda: L.RandomShift(max_shift=2), IMAGES, lambda layer, x: layer(x, seed=tf.constant([1, 2]))),
    "RelativeNoise": (lambda: L.RelativeNoise(0.3, seed=0), EMBEDDING, lambda layer, x: layer(x, training=True)),
    "PairDiscriminator": (
        lambda: L.PairDiscriminator(view="local", projection_dim=8, hidden_dim=16),
        (FEATURES, EMBEDDING),
        lambda judge, code: judge.judge_loss(None, code),
    ),
    "ReconstructionJudge": (
        lambda: L.ReconstructionJudge(_image_decoder()), EMBEDDING, lambda judge, code: judge.judge_loss(IMAGES, code)
    ),
    "NeighbourClassifier": (
        L.NeighbourClassifier,
        (EMBEDDING, EMBEDDING),
        lambda judge, code: judge.judge_loss({"positions": tf.constant([0, 1], tf.int64)}, code),
    ),
    "NeighbourDecoder": (
        lambda: L.NeighbourDecoder(_decoder()),
        EMBEDDING,
        lambda judge, code: judge.judge_loss({"inputs": TOKENS, "targets": TOKENS}, code),
    ),
    "FuturePredictor": (
        lambda: L.FuturePredictor(embedding_dim=4, prediction_steps=2),
        (rng.normal(size=(2, 6, 4)).astype("float32"), rng.normal(size=(2, 6, 5)).astype("float32")),
        lambda judge, code: judge.judge_loss({}, code),
    ),
    "GaussianBottleneck": (lambda: L.GaussianBottleneck(4, seed=0), EMBEDDING, None),
    "CompoundPCFG": (
        lambda: L.CompoundPCFG(VOCABULARY, num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=8),
        EMBEDDING,
        lambda judge, code: (judge.build(), judge.judge_loss(tf.constant(["the cat runs", "the dog"]), code))[1],
    ),
    "ClassifierAdversary": (
        lambda: L.ClassifierAdversary(3, label_key="labels", hidden_dim=8),
        rng.normal(size=(2, 5, 8)).astype("float32"),
        lambda judge, code: judge.adversary_loss({"labels": tf.constant([0, 2])}, code),
    ),
    "FrameDiscriminator": (
        lambda: L.FrameDiscriminator(filters=4, blocks=2, kernel_size=3),
        (MEL_FRAMES, EMBEDDING, {"rebuilt": 0.5 * MEL_FRAMES, "converted": 0.2 * MEL_FRAMES},
         rng.normal(size=(2, 5, 4)).astype("float32")),
        lambda judge, code: judge.adversary_loss({}, code),
    ),
    "DynamicsMatchJudge": (
        L.DynamicsMatchJudge,
        (MEL_FRAMES, EMBEDDING, {"dynamics": [(0.5 * MEL_FRAMES, MEL_FRAMES), (0.2 * MEL_FRAMES, MEL_FRAMES[::-1])]},
         rng.normal(size=(2, 5, 4)).astype("float32")),
        lambda judge, code: judge.judge_loss({}, code),
    ),
    "ContentConsistencyJudge": (
        L.ContentConsistencyJudge,
        (MEL_FRAMES, EMBEDDING, {"content_consistency": (0.5 * MEL_FRAMES[..., :4], MEL_FRAMES[..., :4])},
         MEL_FRAMES[..., :4]),
        lambda judge, code: judge.judge_loss({}, code),
    ),
    "AttentionCopyDecoder": (
        lambda: L.AttentionCopyDecoder(10, length=3, hidden_dim=8, word_dim=4, attention_dim=4),
        (TOKENS, (rng.normal(size=(2, 5, 8)).astype("float32"), TOKENS != 0, TOKENS, EMBEDDING)),
        lambda layer, x: layer(x[0], x[1], training=True),
    ),
    "WordSequenceEncoder": (
        lambda: L.WordSequenceEncoder(10, embedding_dim=8, word_dim=4),
        tf.nn.softmax(rng.normal(size=(2, 4, 10)).astype("float32")),
        None,
    ),
    "RealTextDiscriminator": (
        lambda: L.RealTextDiscriminator(10, word_dim=4, filters=4, seed=0),
        tf.nn.softmax(rng.normal(size=(2, 4, 10)).astype("float32")),
        lambda judge, code: judge.adversary_loss({"summary_ids": TOKENS[:, :4]}, code, training=True),
    ),
    "TransitionDiscriminator": (
        lambda: L.TransitionDiscriminator(10, word_dim=4, hidden_dim=4, seed=0),
        tf.nn.softmax(rng.normal(size=(2, 4, 10)).astype("float32")),
        lambda judge, code: judge.adversary_loss({"summary_ids": TOKENS[:, :4]}, code, training=True),
    ),
    "LogMelSpectrogram": (lambda: L.LogMelSpectrogram(num_mel_bins=8), WAVEFORMS, None),
    "LogMelEncoder": (lambda: L.LogMelEncoder(embedding_dim=8, units=8, depth=1, num_mel_bins=8), WAVEFORMS, None),
    "GriffinLimVocoder": (lambda: L.GriffinLimVocoder(num_mel_bins=8, hidden_dim=8, iterations=2), MEL_FRAMES, None),
    "VocalTractLengthWarp": (lambda: L.VocalTractLengthWarp((0.9, 1.1), seed=0), MEL_FRAMES, None),
    "InstanceNormalization": (
        L.InstanceNormalization, MEL_FRAMES, lambda layer, x: layer(x, mask=tf.sequence_mask([5, 3], 5))
    ),
    "AdaptiveInstanceNormalization": (
        lambda: L.AdaptiveInstanceNormalization(8), (MEL_FRAMES, EMBEDDING), lambda layer, x: layer(x[0], x[1])
    ),
    "ContentEncoder": (lambda: L.ContentEncoder(4, filters=8, blocks=1), MEL_FRAMES, None),
    "SpeakerEncoder": (lambda: L.SpeakerEncoder(4, filters=8, blocks=1), MEL_FRAMES, None),
    "SpeechDecoder": (
        lambda: L.SpeechDecoder(8, filters=8, blocks=1), (MEL_FRAMES, EMBEDDING), lambda layer, x: layer(x[0], x[1])
    ),
    "SpeechDecoder(reference_attention)": (
        lambda: L.SpeechDecoder(8, filters=8, blocks=1, reference_attention=True, attention_heads=2),
        (MEL_FRAMES, EMBEDDING, rng.normal(size=(2, 7, 8)).astype("float32")),
        lambda layer, x: layer(x[0], x[1], reference=x[2], reference_mask=tf.sequence_mask([7, 4], 7)),
    ),
    "ReferenceAttention": (
        lambda: L.ReferenceAttention(8, heads=2, filters=4, blocks=2, kernel_size=3),
        (rng.normal(size=(2, 5, 8)).astype("float32"), rng.normal(size=(2, 9, 6)).astype("float32")),
        lambda layer, x: layer(x[0], x[1], reference_mask=tf.sequence_mask([9, 3], 9)),
    ),
    "SpeakerContentEncoder": (
        lambda: L.SpeakerContentEncoder(L.LogMelSpectrogram(8), L.ContentEncoder(4, filters=8, blocks=1),
                                        L.SpeakerEncoder(4, filters=8, blocks=1)), WAVEFORMS, None
    ),
    "SpeechReconstructionJudge": (
        lambda: L.SpeechReconstructionJudge(L.SpeechDecoder(8, filters=8, blocks=1),
                                            L.GriffinLimVocoder(8, hidden_dim=8, iterations=2)),
        (MEL_FRAMES, EMBEDDING, rng.normal(size=(2, 5, 4)).astype("float32")),
        lambda judge, code: judge.judge_loss({"waveforms": WAVEFORMS}, code),
    ),
    "SpeakerCodePush": (
        lambda: _adapted_push(), EMBEDDING, lambda layer, codes: layer(codes, push=2.0)
    ),
    "UnitNoiseBottleneck": (
        lambda: L.UnitNoiseBottleneck(0.1, seed=0), (MEL_FRAMES, rng.normal(size=(2, 5, 4)).astype("float32")),
        lambda layer, code: layer(code, training=True)[0][-1],
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_contract(name):
    make, inputs, call = LAYERS[name]
    run_layer_test(make, inputs, call=call)


def test_every_public_layer_is_checked():
    assert set(L.__all__) <= set(LAYERS)


IMAGE_DATA, _ = bar_images(256)
TREES = load_tree_data("synthetic", max_length=8, synthetic_size=160)
SPLIT = cycle_split(repeats=2)


TINY_VC = dict(num_mel_bins=16, content_dim=4, speaker_dim=4, filters=8, blocks=1, vocoder_iterations=1)


def _tone_speech(count=32, samples=1600):
    """Two 'speakers' (a low and a high harmonic tone) saying random on/off 'words': `(waveforms, speaker ids)`."""
    generator = np.random.default_rng(1)
    speakers = np.arange(count) % 2
    time = np.arange(samples) / 16000.0
    envelope = np.repeat(generator.uniform(size=(count, samples // 400)) > 0.4, 400, axis=1)
    tones = np.sin(2 * np.pi * np.where(speakers[:, None] == 0, 150.0, 400.0) * time * np.arange(1, 4)[:, None, None])
    waveforms = 0.2 * tones.sum(axis=0) * envelope + 0.01 * generator.normal(size=(count, samples))
    return waveforms.astype("float32"), speakers.astype("int64")


SPEECH = _tone_speech()
SPEECH_BATCHES = tf.data.Dataset.from_tensor_slices({"waveforms": SPEECH[0], "speakers": SPEECH[1]}).batch(8)
SPEECH_BATCH = {"waveforms": SPEECH[0][:8], "speakers": SPEECH[1][:8]}


def _encoder():
    return L.ConvImageEncoder(8, filters=(8, 16), hidden_dim=32)


MODELS = {
    "JudgedEncoder": dict(
        make=lambda: JudgedEncoder(_encoder(), judges=[L.ReconstructionJudge(_image_decoder())], input_shape=(8, 8, 1)),
        data=IMAGE_DATA, export_inputs=[IMAGES], replica_batch=IMAGE_DATA[:16],
    ),
    "AutoEncoder": dict(
        make=lambda: M.AutoEncoder(image_shape=(8, 8, 1), embedding_dim=8, encoder=_encoder(), decoder=_image_decoder()),
        data=IMAGE_DATA, export_inputs=[IMAGES], replica_batch=IMAGE_DATA[:16],
    ),
    "InfoMax": dict(
        make=lambda: M.InfoMax(image_shape=(8, 8, 1), embedding_dim=8, encoder=_encoder(), max_shift=0),
        data=IMAGE_DATA, export_inputs=[IMAGES],
    ),
    "DiscreteAutoEncoder": dict(
        make=lambda: M.DiscreteAutoEncoder(image_shape=(8, 8, 1), code_length=8, encoder=L.ConvImageEncoder(
            8, filters=(8, 16), hidden_dim=32), decoder=_image_decoder()),
        data=IMAGE_DATA, export_inputs=[IMAGES], replica_batch=IMAGE_DATA[:16],
    ),
    "VQVAE": dict(
        make=lambda: M.VQVAE(data_shape=(8, 8, 1), num_codes=8, code_dim=4, kmeans_init=False, seed=0),
        data=IMAGE_DATA, export_inputs=[IMAGES], replica_batch=IMAGE_DATA[:16],
    ),
    "CPC": dict(
        make=lambda: M.CPC(L.WaveformEncoder(embedding_dim=8, filters=8), context_dim=8, crop_samples=1600,
                           prediction_steps=2),
        data=(0.3 * rng.normal(size=(32, 1600))).astype("float32"),
        export_inputs=[(0.3 * rng.normal(size=(2, 1600))).astype("float32")],
        fall=0.999,  # noise has no future to predict: the loss leaves log(candidates) only slowly
        fit_kwargs={"batch_size": 8},
    ),
    "QuickThought": dict(
        make=lambda: M.QuickThought(VOCABULARY, embedding_dim=16, word_dim=8, max_length=8, pooling="last"),
        data=make_contiguous_dataset(SPLIT, batch_size=10), export_inputs=[np.array(["the cat runs", "the dog"])],
        learning_rate=1e-2, fall=0.995,
    ),
    "SkipThought": dict(
        make=lambda: M.SkipThought(VOCABULARY, embedding_dim=16, word_dim=8, max_length=8),
        data=make_triple_dataset(SPLIT, batch_size=10), export_inputs=[np.array(["the cat runs", "the dog"])],
        learning_rate=1e-2,
    ),
    "TextLatent": dict(
        make=lambda: M.TextLatent(SUMMARY_VOCABULARY, objective="paired", summary_length=4, document_length=12,
                                  embedding_dim=8, word_dim=8, hidden_dim=8, decoder_word_dropout=0.0, seed=0),
        data=make_pair_dataset(*tiny_pairs(64), batch_size=16), export_inputs=[np.array(tiny_pairs(2)[0])],
        replica_batch={"document": np.array(tiny_pairs(8)[0]), "target": np.array(tiny_pairs(8)[1])},
        learning_rate=1e-2,
    ),
    "TreeLatent": dict(
        make=lambda: M.TreeLatent(build_vocabulary(TREES.train), num_nonterminals=4, num_preterminals=6,
                                  symbol_dim=16, code_dim=4, encoder_dim=8, word_dim=8, seed=0),
        data=make_sentence_dataset(TREES.train, 32, shuffle=True), export_inputs=[np.array(TREES.test[:2])],
        learning_rate=1e-2,
    ),
    "DisentanglingAutoEncoder": dict(
        make=lambda: M.DisentanglingAutoEncoder(**TINY_VC), data=SPEECH_BATCHES, export_inputs=[SPEECH[0][:2]],
        learning_rate=1e-2,  # the adversarial variant below checks the same parts (and the adversary) on 2 replicas
    ),
    "AdversarialDisentanglingAutoEncoder": dict(
        make=lambda: M.AdversarialDisentanglingAutoEncoder(num_speakers=2, adversary_ramp_steps=4, **TINY_VC),
        data=SPEECH_BATCHES, export_inputs=[SPEECH[0][:2]], replica_batch=SPEECH_BATCH, learning_rate=1e-2,
    ),
    "AdaINVC": dict(
        make=lambda: M.AdaINVC(kl_weight=0.01, seed=0, frame_adversary_weight=0.1, **TINY_VC), data=SPEECH_BATCHES,
        export_inputs=[SPEECH[0][:2]],
        learning_rate=1e-2,
    ),
    "AdaINVC(speaker_augmentation)": dict(
        make=lambda: M.AdaINVC(speaker_augmentation=True, **TINY_VC), data=SPEECH_BATCHES,
        export_inputs=[SPEECH[0][:2]], learning_rate=1e-2,
    ),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_contract(name, tmp_path):
    spec = dict(MODELS[name])
    fit_kwargs = {"batch_size": 32} if isinstance(spec["data"], np.ndarray) else {}
    fit_kwargs.update(spec.pop("fit_kwargs", {}))
    run_model_test(spec.pop("make"), spec.pop("data"), export_dir=tmp_path / name, fit_kwargs=fit_kwargs, **spec)


def test_every_public_model_is_checked():
    assert set(M.__all__) <= set(MODELS)
    assert all(issubclass(getattr(M, name), JudgedEncoder) for name in M.__all__)
