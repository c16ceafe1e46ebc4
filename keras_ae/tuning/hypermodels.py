"""keras-tuner HyperModels that search the embedding size (log scale) of each model.

The objective is what users care about: the linear-probe accuracy of the embedding on the validation split
(`val_probe_accuracy`, never the test split); the final training loss is reported beside it.

Example:
    hypermodel = InfoMaxHyperModel(image_shape=(28, 28, 1), probe_data=(x_train, y_train, x_val, y_val))
    tuner = keras_tuner.RandomSearch(hypermodel, objective=keras_tuner.Objective("val_probe_accuracy", "max"),
                                     max_trials=4, directory="runs/tune")
    tuner.search(train_dataset, epochs=2)
"""

import keras
import keras_tuner as kt
import numpy as np

from keras_ae.evaluation.probes import embed, linear_probe_accuracy
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.models.infomax import InfoMax

OBJECTIVE = "val_probe_accuracy"


class ProbeHyperModel(kt.HyperModel):
    """Base HyperModel: `embedding_dim` on a log scale; `fit` returns the validation probe accuracy.

    Subclasses implement `build_model(hp, embedding_dim)` returning an uncompiled keras_ae model.

    Args:
        probe_data: `(train_inputs, train_labels, validation_inputs, validation_labels)` for the probe.
        min_dim, max_dim: the embedding sizes searched (log sampling, powers of two with `step=2`).
        learning_rate: Adam learning rate of every trial.
    """

    def __init__(self, probe_data, min_dim=8, max_dim=256, learning_rate=1e-3, name=None, tunable=True):
        super().__init__(name=name, tunable=tunable)
        if not 1 <= min_dim <= max_dim:
            raise ValueError(f"Need 1 <= min_dim <= max_dim for the embedding search; got {min_dim}, {max_dim}.")
        self.probe_data = probe_data
        self.min_dim = min_dim
        self.max_dim = max_dim
        self.learning_rate = learning_rate

    def build_model(self, hp, embedding_dim):
        raise NotImplementedError

    def build(self, hp):
        embedding_dim = hp.Int("embedding_dim", self.min_dim, self.max_dim, step=2, sampling="log")
        model = self.build_model(hp, embedding_dim)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        return model

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        train_inputs, train_labels, validation_inputs, validation_labels = self.probe_data
        accuracy = linear_probe_accuracy(
            embed(model.encode, train_inputs), train_labels, embed(model.encode, validation_inputs), validation_labels
        )
        return {OBJECTIVE: accuracy, "loss": float(np.asarray(history.history["loss"][-1]))}


class InfoMaxHyperModel(ProbeHyperModel):
    """Searches the embedding size of `InfoMax` (and its objective: BCE or InfoNCE); the rest are InfoMax's
    defaults."""

    def __init__(self, image_shape, probe_data, **kwargs):
        super().__init__(probe_data, **kwargs)
        self.image_shape = image_shape

    def build_model(self, hp, embedding_dim):
        objective = hp.Choice("objective", ["bce", "infonce"])
        return InfoMax(image_shape=self.image_shape, embedding_dim=embedding_dim, objective=objective)


class AutoEncoderHyperModel(ProbeHyperModel):
    """Searches the embedding size of the classic `AutoEncoder`."""

    def __init__(self, image_shape, probe_data, **kwargs):
        super().__init__(probe_data, **kwargs)
        self.image_shape = image_shape

    def build_model(self, hp, embedding_dim):
        return AutoEncoder(image_shape=self.image_shape, embedding_dim=embedding_dim)


class QuickThoughtHyperModel(ProbeHyperModel):
    """Searches the embedding size of `QuickThought` (and its pooling); the objective is the book-probe accuracy on
    the validation chapters.

    Args:
        vocabulary: the training vocabulary (the recipe's: `keras_ae.recipes.text_recipe.recipe_vocabulary`),
            read by the tokenizer that `model_options["tokenizer"]` names (`QuickThought`'s default: words).
        probe_data: `(train_sentences, train_labels, validation_sentences, validation_labels)`.
        model_options: other `QuickThought` arguments, fixed for every trial (e.g. `{"word_dim": 128}`); the rest
            keep `QuickThought`'s defaults.
    """

    def __init__(self, vocabulary, probe_data, min_dim=16, max_dim=512, model_options=None, **kwargs):
        super().__init__(probe_data, min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.vocabulary = vocabulary
        self.model_options = dict(model_options or {})

    def build_model(self, hp, embedding_dim):
        from keras_ae.models.quick_thought import QuickThought

        pooling = hp.Choice("pooling", ["max", "last"])
        return QuickThought(
            self.vocabulary,
            embedding_dim=max(2, embedding_dim - embedding_dim % 2),
            pooling=pooling,
            **self.model_options,
        )

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.sentences import embed as embed_sentences

        history = model.fit(*args, **kwargs)
        train_sentences, train_labels, validation_sentences, validation_labels = self.probe_data
        accuracy = linear_probe_accuracy(
            embed_sentences(model.encode, train_sentences),
            train_labels,
            embed_sentences(model.encode, validation_sentences),
            validation_labels,
        )
        return {OBJECTIVE: accuracy, "loss": float(np.asarray(history.history["loss"][-1]))}


class CPCHyperModel(ProbeHyperModel):
    """Searches the embedding size of `CPC` (frame embedding and GRU context alike); the objective is the
    frame-level phone probe on validation utterances (seen speakers, validation sentences), or the speaker probe
    when the data has no phone labels.

    Args:
        probe_data: `(probe_train, probe_validation)`, two `keras_ae.data.speech.SpeechCorpus` objects.
        encoder_options: other `WaveformEncoder` arguments and `model_options` other `CPC` arguments, fixed for
            every trial (e.g. `{"filters": 32}`, `{"crop_samples": 12800}`); the rest keep the constructors' defaults.
    """

    def __init__(self, probe_data, min_dim=16, max_dim=256, encoder_options=None, model_options=None, **kwargs):
        super().__init__(probe_data, min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.encoder_options = dict(encoder_options or {})
        self.model_options = dict(model_options or {})

    def build_model(self, hp, embedding_dim):
        from keras_ae.layers.encoders.waveform_encoder import WaveformEncoder
        from keras_ae.models.cpc import CPC

        return CPC(
            WaveformEncoder(embedding_dim=embedding_dim, name="encoder", **self.encoder_options),
            context_dim=embedding_dim,
            **self.model_options,
        )

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.speech import phone_probe_accuracy, speaker_probe_accuracy, utterance_features

        history = model.fit(*args, **kwargs)
        train, validation = self.probe_data
        train_features = utterance_features(model.encode, train.waveforms)
        validation_features = utterance_features(model.encode, validation.waveforms)
        if train.phones is not None:
            accuracy = phone_probe_accuracy(train_features, train.phones, validation_features, validation.phones)
        else:
            accuracy = speaker_probe_accuracy(train_features, train.speakers, validation_features,
                                              validation.speakers)
        return {OBJECTIVE: accuracy, "loss": float(np.asarray(history.history["loss"][-1]))}


class VQVAEHyperModel(ProbeHyperModel):
    """Searches the codebook size of `VQVAE` (log scale, `hp.Int("codebook_size", ...)`) at a fixed code size.

    The objective is the same validation linear probe, here on the quantised code vectors (the grid of codebook
    entries the decoder sees, flattened); the validation reconstruction error and the share of the codebook used
    on the validation images are reported beside it (`val_reconstruction_mse`, `val_codes_used`).

    Args:
        image_shape: `(height, width, channels)` of the images.
        probe_data: `(train_images, train_labels, validation_images, validation_labels)`.
        min_dim, max_dim: the smallest and largest codebook sizes searched (the tune recipe's `--min-dim`,
            `--max-dim`).
        model_options: other `VQVAE` arguments, fixed for every trial (e.g. `{"code_dim": 64}`); the rest keep
            `VQVAE`'s defaults.
    """

    def __init__(self, image_shape, probe_data, min_dim=16, max_dim=1024, model_options=None, **kwargs):
        super().__init__(probe_data, min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.image_shape = image_shape
        self.model_options = dict(model_options or {})

    def build(self, hp):
        from keras_ae.models.vqvae import VQVAE

        codebook_size = hp.Int("codebook_size", self.min_dim, self.max_dim, step=2, sampling="log")
        model = VQVAE(data_shape=self.image_shape, num_codes=codebook_size, **self.model_options)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        return model

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.codes import batched, code_usage, reconstruction_mse

        history = model.fit(*args, **kwargs)
        train_images, train_labels, validation_images, validation_labels = self.probe_data

        def quantized(images):
            return model.quantizer.lookup(model.codes(images))

        accuracy = linear_probe_accuracy(
            embed(quantized, train_images), train_labels, embed(quantized, validation_images), validation_labels
        )
        usage = code_usage(batched(model.codes, validation_images), model.num_codes)
        return {
            OBJECTIVE: accuracy,
            "loss": float(np.asarray(history.history["loss"][-1])),
            "val_reconstruction_mse": reconstruction_mse(model.reconstruct, validation_images),
            "val_codes_used": usage["codes_used"],
        }


class TreeLatentHyperModel(ProbeHyperModel):
    """Searches the size of z (`embedding_dim`, log scale) and the number of nonterminals (`nonterminals`) of the
    compound PCFG (`TreeLatent`). There is no probe here: the objective, reported under the tuner's objective name
    `val_probe_accuracy`, is the sentence-level unlabelled F1 (a fraction) of the model's parses against the
    validation split's gold trees; `val_sentence_f1` (percent) and `val_perplexity` (from the ELBO) beside it.

    Args:
        vocabulary: the training vocabulary (`keras_ae.data.trees.build_vocabulary`).
        probe_data: `(validation_sentences, validation_gold_trees)`.
        nonterminals: the numbers of nonterminals searched.
        right_edge_prior: `TreeLatent`'s right-edge prior in training, the same for every trial (0: off).
    """

    def __init__(self, vocabulary, probe_data, nonterminals=(5, 10, 20, 30), min_dim=4, max_dim=64,
                 right_edge_prior=0.0, **kwargs):
        super().__init__(probe_data, min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.vocabulary = vocabulary
        self.nonterminals = list(nonterminals)
        self.right_edge_prior = right_edge_prior

    def build(self, hp):
        from keras_ae.models.tree_latent import TreeLatent

        embedding_dim = hp.Int("embedding_dim", self.min_dim, self.max_dim, step=2, sampling="log")
        nonterminals = hp.Choice("nonterminals", self.nonterminals)
        model = TreeLatent(self.vocabulary, num_nonterminals=nonterminals, code_dim=embedding_dim,
                           right_edge_prior=self.right_edge_prior)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate, beta_1=0.75, global_clipnorm=3.0))
        return model

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.trees import evaluate_tree_model

        history = model.fit(*args, **kwargs)
        sentences, gold_trees = self.probe_data
        row, _ = evaluate_tree_model(model, sentences, gold_trees)
        return {
            OBJECTIVE: row["sentence_f1"] / 100.0,
            "val_sentence_f1": row["sentence_f1"],
            "val_perplexity": row["perplexity"],
            "loss": float(np.asarray(history.history["loss"][-1])),
        }


class TextSummaryHyperModel(ProbeHyperModel):
    """Searches the embedding size (`embedding_dim`, log scale) of `TextLatent`'s document encoder, trained on pseudo
    pairs (the generator's pretraining). There is no probe: the objective, reported under the tuner's objective name
    `val_probe_accuracy`, is the ROUGE-1 F1 (a fraction) of the greedy summaries of the validation documents against
    their real summaries, which training never sees; `val_rouge1` (percent) beside it.

    Args:
        vocabulary: the training vocabulary (`keras_ae.data.summaries.build_vocabulary`).
        probe_data: `(validation_documents, validation_summaries)`.
    """

    def __init__(self, vocabulary, probe_data, min_dim=16, max_dim=256, **kwargs):
        super().__init__(probe_data, min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.vocabulary = vocabulary

    def build_model(self, hp, embedding_dim):
        from keras_ae.models.text_latent import TextLatent

        return TextLatent(self.vocabulary, objective="paired", embedding_dim=embedding_dim)

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.summaries import rouge, summarize

        history = model.fit(*args, **kwargs)
        documents, references = self.probe_data
        rouge1 = rouge(summarize(model, documents), references)["rouge1"]
        return {OBJECTIVE: rouge1 / 100.0, "val_rouge1": rouge1,
                "loss": float(np.asarray(history.history["loss"][-1]))}


class VoiceConversionHyperModel(ProbeHyperModel):
    """Searches the content code size of a voice conversion model (`--method`: `AdaINVC`,
    `AdversarialDisentanglingAutoEncoder` or `DisentanglingAutoEncoder`), the knob that decides whether the speaker
    leaks through the content code (Qian et al., 2019, AutoVC). The objective trades content against speaker on
    validation sentences of seen speakers: the frame phone probe on the content code minus the speaker probe's
    accuracy above chance on the same code (`keras_ae.evaluation.conversion.code_probes`), so a code that keeps
    the words and loses the voice scores highest.

    Args:
        train, validation: `SpeechCorpus` objects (the probes fit on up to 160 training utterances).
        method: `"adain"`, `"adversarial"` or `"plain"`.
        num_speakers: speaker ids (for the adversary).
        model_options: other constructor arguments, fixed for every trial (e.g. `{"filters": 64, "blocks": 2}`);
            the rest keep the model's defaults.
    """

    def __init__(self, train, validation, method="adain", num_speakers=2, min_dim=2, max_dim=64, seed=0,
                 model_options=None, **kwargs):
        super().__init__((train, validation), min_dim=min_dim, max_dim=max_dim, **kwargs)
        self.method = method
        self.num_speakers = num_speakers
        self.settings = dict(model_options or {})
        self.seed = seed

    def build(self, hp):
        from keras_ae.models.adain_vc import AdaINVC
        from keras_ae.models.adversarial_disentangling_autoencoder import AdversarialDisentanglingAutoEncoder
        from keras_ae.models.disentangling_autoencoder import DisentanglingAutoEncoder

        content_dim = hp.Int("content_dim", self.min_dim, self.max_dim, step=2, sampling="log")
        if self.method == "adain":
            model = AdaINVC(content_dim=content_dim, seed=self.seed, **self.settings)
        elif self.method == "adversarial":
            model = AdversarialDisentanglingAutoEncoder(num_speakers=self.num_speakers, content_dim=content_dim,
                                                        **self.settings)
        else:
            model = DisentanglingAutoEncoder(content_dim=content_dim, **self.settings)
        model.adapt(self.probe_data[0].waveforms[:200])
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        return model

    def fit(self, hp, model, *args, **kwargs):
        from keras_ae.evaluation.conversion import code_probes
        from keras_ae.evaluation.speech import phone_probe_accuracy

        history = model.fit(*args, **kwargs)
        train, validation = self.probe_data
        train = train.subset(np.random.default_rng(self.seed).permutation(len(train))[:160])
        probes = code_probes(model, train, validation, seed=self.seed)
        score = -(probes["content_code"] - probes["chance"])
        if train.phones is not None:
            frames = lambda corpus: [np.asarray(model.encode(w[None]))[0] for w in corpus.waveforms]  # noqa: E731
            phones = lambda corpus: [labels[:: model.downsample] for labels in corpus.phones]  # noqa: E731
            probes["phone"] = phone_probe_accuracy(frames(train), phones(train), frames(validation), phones(validation))
            score += probes["phone"]
        return {OBJECTIVE: float(score), "loss": float(np.asarray(history.history["loss"][-1])), **{
            f"val_{name}": value for name, value in probes.items()}}
