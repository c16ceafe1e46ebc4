"""A disentangling speech auto-encoder: a content code per frame, a speaker code per utterance, one decoder."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.core.validation import integer_at_least
from keras_ae.data.speech.constants import FRAME_SAMPLES, SILENCE_PEAK
from keras_ae.layers.audio.griffin_lim_vocoder import GriffinLimVocoder
from keras_ae.layers.audio.log_mel import LogMelSpectrogram
from keras_ae.layers.audio.rhythm import code_change_rate, speech_mask, stretch_in_time
from keras_ae.layers.audio.vocal_tract_warp import VocalTractLengthWarp
from keras_ae.layers.conditioning.speaker_code_push import SpeakerCodePush, checked_push
from keras_ae.layers.decoders.speech_decoder import SpeechDecoder
from keras_ae.layers.encoders.content_encoder import ContentEncoder
from keras_ae.layers.encoders.speaker_content_encoder import SpeakerContentEncoder
from keras_ae.layers.encoders.speaker_encoder import SpeakerEncoder
from keras_ae.layers.judges.content_consistency_judge import ContentConsistencyJudge
from keras_ae.layers.judges.dynamics_match_judge import TABLE_TARGETS, DynamicsMatchJudge, log_spreads
from keras_ae.layers.judges.dynamics_match_judge import TARGETS as DYNAMICS_TARGETS
from keras_ae.layers.judges.frame_discriminator import FrameDiscriminator
from keras_ae.layers.judges.speech_reconstruction_judge import SpeechReconstructionJudge
from keras_ae.layers.relative_noise import RelativeNoise


MIN_FRAMES = 3  # the shortest input (30 ms) the encoders accept: below it a convolution sees padding only


def checked_waveforms(waveforms, name, audible=False):
    """`waveforms` as float32 `[batch, samples]`, with in-graph checks (they hold in an export too): at least
    `MIN_FRAMES` 10 ms frames, finite samples, and with `audible` a peak above the silence level."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    if waveforms.shape.rank is not None and waveforms.shape.rank != 2:
        raise ValueError(f"{name} must be float32 [batch, samples] at 16 kHz; got shape {waveforms.shape.as_list()} "
                         "(a single waveform [samples] needs a batch axis: waveform[None]).")
    checks = [
        tf.debugging.assert_greater_equal(
            tf.shape(waveforms)[1], MIN_FRAMES * FRAME_SAMPLES,
            message=f"{name} is shorter than {MIN_FRAMES * FRAME_SAMPLES} samples ({MIN_FRAMES * 10} ms at 16 kHz)"),
        tf.debugging.assert_all_finite(waveforms, f"{name} holds NaN or infinite samples"),
    ]
    if audible:
        checks.append(tf.debugging.assert_greater_equal(
            tf.reduce_max(tf.abs(waveforms), axis=1), SILENCE_PEAK,
            message=f"{name} is silent (peak amplitude below {SILENCE_PEAK:g})"))
    with tf.control_dependencies(checks):
        return tf.identity(waveforms)


@keras.saving.register_keras_serializable(package="keras_ae")
class DisentanglingAutoEncoder(JudgedEncoder):
    """Splits speech into *what is said* and *who says it*, and converts voices one-shot.

    Waveforms (float32 `[batch, samples]`, 16 kHz) go through a `LogMelSpectrogram` front end; a `ContentEncoder`
    gives `content_dim` floats per `downsample` 10 ms frames, a `SpeakerEncoder` one `speaker_dim` vector per utterance, and a
    `SpeechDecoder` rebuilds the frames from both (`SpeechReconstructionJudge`, which also trains the
    `GriffinLimVocoder`'s post-net). Nothing but the narrow content code forces the split here: this is the
    baseline of `AdversarialDisentanglingAutoEncoder` and `AdaINVC`. Conversion: the content of `source` with the
    speaker code of `reference`, decoded and vocoded inside the graph (`convert`), so the export maps waveforms to
    a waveform. Call `adapt(training_waveforms)` once before training: it sets the front end's statistics.

    Batches: dicts `{"waveforms": [batch, samples], "speakers": [batch]}` or `(waveforms, speaker_ids)` tuples
    (`keras_ae.data.speech.make_crop_dataset`); the speaker ids are read only by adversaries.

    Args:
        num_mel_bins: mel bins of the front end, the decoder and the vocoder.
        content_dim: floats per step of the content code.
        speaker_dim: size of the speaker code.
        filters, blocks, kernel_size: the convolution stacks of the encoders, decoder and post-net.
        instance_norm: instance normalisation in the content encoder.
        conditioning: how the decoder reads the speaker code, `"concat"` or `"adain"`.
        vocoder_iterations: Griffin-Lim rounds of the vocoder.
        reconstruction_loss: `"l1"` or `"l2"` on the rebuilt log-mel frames (`SpeechReconstructionJudge`).
        spread_weight: weight of the judge's global-variance term against over-smoothed frames
            (`SpeechReconstructionJudge(spread_weight=...)`; 0: none).
        envelope_weight: weight of the judge's envelope term, the L1 of the rebuilt frames' first cepstra
            (`SpeechReconstructionJudge(envelope_weight=...)`; 0: none).
        downsample: 10 ms frames per content step (`ContentEncoder(downsample=...)`, undone by the decoder).
        decoder_blocks: residual blocks of the decoder (None: `blocks`).
        decoder_dilation: growth of the decoder's dilation per block (`SpeechDecoder(dilation=...)`).
        rhythm_conversion: `convert` also converts the global speaking rate: the source's content code is
            resampled in time by the ratio of the source's to the reference's rate (`speaking_rate`), so the
            output takes the reference's tempo (and a length of its own). Conversion only: training is unchanged.
        rhythm_limit: the ratio is clipped to `[1 / rhythm_limit, rhythm_limit]`.
        frame_adversary_weight: with a value above 0, a `FrameDiscriminator` (an adversary of the core loop, one
            update per step, with its own copy of the optimizer unless `compile(optimizers=...)` names one) learns
            to tell real frames from rebuilt and converted ones (the content of each utterance of the batch with
            the speaker code of the next), and the decoder minimises this weight times its adversarial loss.
        frame_feature_matching: the discriminator's `feature_matching_weight` (None: its default).
        speaker_reference: where training takes the speaker code that rebuilds an utterance from: `"own"` (the
            utterance itself) or `"other"` (the batch's `"reference"`, another utterance of the same speaker:
            `make_crop_dataset(..., reference=True)`), as AutoVC (Qian et al., 2019) and other one-shot systems
            train, so the decoder cannot use content that leaks into the speaker code. Training only: `encode`,
            `encode_speaker`, `convert` and the export are unchanged.
        reference_attention: frame-level speaker conditioning on top of the speaker code: the decoder's frames
            also attend to the reference utterance's log-mel frames (`SpeechDecoder(reference_attention=True)`,
            `ReferenceAttention`; FragmentVC's idea), in `convert` (any reference length) and in training, where
            the frames are those of the batch's `"reference"` (another utterance of the speaker, required: with
            the utterance's own frames the decoder would copy the content through the attention), whatever
            `speaker_reference` says of the speaker code. Without a `"reference"` outside training (evaluation
            batches) the utterance attends to its own frames.
        attention_heads: heads of that attention.
        speaker_augmentation: train on pseudo-speakers: every training utterance's log-mel frames get a random
            vocal-tract-length warp (`VocalTractLengthWarp`, VTLP: Jaitly & Hinton, 2013; one factor per utterance
            and step, uniform in `warp_range`) before both encoders, and the decoder rebuilds the warped frames, so
            the speaker encoder learns a continuum of voices between the training speakers. The batch's
            `"reference"` gets its utterance's warp, so the pair keeps one voice. Speaker labels (read by a speaker
            adversary) stay the utterance's own: a warp makes a voice near the speaker's, not a new class. The
            vocoder's post-net still learns from the real frames (the waveform's spectrum is not warped). Training
            only: evaluation, `encode`, `convert` and the export never warp.
        warp_range: `(low, high)` of the warp factor (above 1: formants and harmonics move up).
        dynamics_weight: with a value above 0, a `DynamicsMatchJudge` with this weight: in training the decoder
            also makes converted frames (the content of each utterance of the batch with the speaker code of the
            next, as for the frame adversary), and the per-coefficient cepstral spreads (c1-c12, and the deltas
            and delta-deltas of c0-c12) of the rebuilt and of the converted frames must match those of the real
            utterance that gave the speaker code (mean |log ratio|).
        dynamics_target: what the converted frames' spreads must match (`DynamicsMatchJudge(target=...)`):
            `"reference"`, the real crop that gave the speaker code (another sentence); `"speaker-shift"`, that
            crop's spreads with its sentence's deviation from its speaker's mean traded for the source sentence's,
            so the converted frames keep their own content's dynamics in the target's pattern; `"blend"`, each
            spread taken from the reference crop in proportion to how much of its variance lies between the
            training speakers, from the source crop for the rest; `"source-deviation"`, the reference crop's own
            spreads plus the source crop's deviation from its speaker's mean (the shifted target's mean, without
            reading the reference's row of the table). All but `"reference"` read a table of the
            training speakers (`TABLE_TARGETS`): training batches need speaker ids, and
            `adapt_speaker_dynamics(waveforms, speakers)` sets the table before training.
        dynamics_speakers: the table's rows (the number of training speaker ids), with a target that reads it.
        dynamics_source_share: with `"source-deviation"`, the share in [0, 1] of the source crop's deviation in the
            converted frames' target (`DynamicsMatchJudge(source_share=...)`; 0: the `"reference"` target's spreads,
            1, the default: the whole deviation).
        content_consistency_weight: with a value above 0, a `ContentConsistencyJudge` with this weight: in training
            the decoder also converts each utterance of the batch to the speaker code of the next, from codes held
            fixed; the content encoder, its weights held fixed, encodes the converted frames again, and that code's
            pattern in time must match the source's (each standardised over the utterance): only the decoder learns
            from it, to keep the words when it swaps the voice. No phone labels. (With the codes not held fixed,
            the encoders learnt to keep the source's voice in the content code: docs/results/voice_conversion.md,
            session 23.)
        speaker_window: in training, the speaker code pools over a random window of this many 10 ms frames of its
            utterance (`SpeakerEncoder(training_window=...)`; 0: the whole crop), so one speaker's codes spread with
            the window instead of collapsing to a point when `speaker_reference="other"` has taken the sentence
            out of them. `encode_speaker` and `convert` pool over the whole reference.
        speaker_noise: in training, the speaker code the decoder reads gets Gaussian noise of this share of each
            dimension's spread over the batch (`RelativeNoise`; 0: none), for the same purpose: a cloud of codes
            around each training voice, so a new voice's code lands where the decoder has been trained.
        speaker_centroids: with a value above 0, the model keeps a table of this many trained voices' speaker-code
            centroids (`SpeakerCodePush`; set after training by `adapt_speaker_centroids`), and `convert(...,
            push=t)`, the export's `convert_with_push(source, reference, push)` and `python -m keras_ae.convert
            --push` can move the reference's code away from its nearest trained voice (`speaker_code`). Conversion
            only: training is unchanged.
        speaker_code_push: the push `convert` (and the export's `convert`) uses when none is given (1: none; above 1:
            past the reference's code).
        seed: seed of the windows' positions and of the speaker code's noise.

    Example:
        model = DisentanglingAutoEncoder(content_dim=16)
        model.adapt(corpus.waveforms)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(make_crop_dataset(corpus, 20480, batch_size=16), epochs=5)
        speech = model.convert(source[None], reference[None])    # [1, samples // 160 * 160]
        model.rhythm_conversion = True                           # (or the constructor's rhythm_conversion=True)
        speech = model.convert(source[None], reference[None])    # [1, about samples * rate ratio]
        other = DisentanglingAutoEncoder(speaker_reference="other")  # train on {"waveforms", "speakers", "reference"}
        fragments = DisentanglingAutoEncoder(reference_attention=True)        # also trains on a "reference"
        pseudo = DisentanglingAutoEncoder(speaker_augmentation=True, warp_range=(0.85, 1.15))
        envelope = DisentanglingAutoEncoder(envelope_weight=1.0)       # the rebuilt frames' cepstral envelope too
        dynamics = DisentanglingAutoEncoder(dynamics_weight=1.0)     # the speaker's cepstral spreads, also converted
        shifted = DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="speaker-shift",
                                           dynamics_speakers=corpus.num_speakers)
        shifted.adapt(corpus.waveforms)
        shifted.adapt_speaker_dynamics(corpus.waveforms, corpus.speakers)  # the speakers' mean spreads
        followed = DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="source-deviation",
                                            dynamics_speakers=corpus.num_speakers)  # adapt_speaker_dynamics too
        half = DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="source-deviation",
                                        dynamics_speakers=corpus.num_speakers, dynamics_source_share=0.5)
        consistent = DisentanglingAutoEncoder(content_consistency_weight=1.0)  # conversions re-encode to the source
        spread = DisentanglingAutoEncoder(speaker_reference="other", speaker_window=32, speaker_noise=0.3)
        pushed = DisentanglingAutoEncoder(speaker_centroids=corpus.num_speakers)   # ... adapt, compile, fit, then:
        pushed.adapt_speaker_centroids(corpus.waveforms, corpus.speakers)          # the trained voices' centroids
        speech = pushed.convert(source[None], reference[None], push=2.0)          # twice as far from the nearest
    """

    conditioning_default = "concat"
    speaker_references = ("own", "other")

    def __init__(self, num_mel_bins=80, content_dim=16, speaker_dim=64, filters=128, blocks=3, kernel_size=5,
                 instance_norm=False, conditioning=None, vocoder_iterations=32, reconstruction_loss="l1",
                 downsample=1, decoder_blocks=None, decoder_dilation=1, decoder_norm_first=False, spread_weight=0.0,
                 envelope_weight=0.0, rhythm_conversion=False, rhythm_limit=1.5, frame_adversary_weight=0.0,
                 frame_feature_matching=None, speaker_reference="own", reference_attention=False, attention_heads=4,
                 speaker_augmentation=False, warp_range=(0.85, 1.15), dynamics_weight=0.0, dynamics_target="reference", dynamics_speakers=0,
                 dynamics_source_share=1.0, content_consistency_weight=0.0, speaker_window=0, speaker_noise=0.0,
                 speaker_centroids=0, speaker_code_push=1.0, seed=None, adversaries=(), **kwargs):
        content_dim = integer_at_least("content_dim", content_dim, 1)
        speaker_dim = integer_at_least("speaker_dim", speaker_dim, 1)
        conditioning = conditioning or self.conditioning_default
        decoder_blocks = blocks if decoder_blocks is None else decoder_blocks
        if not rhythm_limit >= 1:
            raise ValueError(f"rhythm_limit must be 1 or more (the largest rate ratio); got {rhythm_limit}.")
        if speaker_reference not in self.speaker_references:
            raise ValueError(f"speaker_reference must be one of {self.speaker_references}; got {speaker_reference!r}.")
        if not frame_adversary_weight >= 0:
            raise ValueError(f"frame_adversary_weight must be 0 or more; got {frame_adversary_weight}.")
        if not dynamics_weight >= 0:
            raise ValueError(f"dynamics_weight must be 0 or more; got {dynamics_weight}.")
        if not content_consistency_weight >= 0:
            raise ValueError(f"content_consistency_weight must be 0 or more; got {content_consistency_weight}.")
        speaker_window = integer_at_least("speaker_window", speaker_window, 0)
        if not speaker_noise >= 0:
            raise ValueError(f"speaker_noise must be 0 or more; got {speaker_noise}.")
        speaker_centroids = integer_at_least("speaker_centroids", speaker_centroids, 0)
        speaker_code_push = checked_push(speaker_code_push)
        if speaker_code_push != 1 and not speaker_centroids:
            raise ValueError(f"speaker_code_push={speaker_code_push} pushes the reference's code away from the nearest "
                             "trained voice's centroid: give speaker_centroids > 0 (the number of training voices) "
                             "and call adapt_speaker_centroids after training, or leave speaker_code_push at 1.")
        if dynamics_target not in DYNAMICS_TARGETS:
            raise ValueError(f"dynamics_target must be one of {DYNAMICS_TARGETS}; got {dynamics_target!r}.")
        if dynamics_target in TABLE_TARGETS and not (dynamics_weight and dynamics_speakers):
            raise ValueError(f"dynamics_target={dynamics_target!r} is a target of the dynamics match that reads the "
                             "training speakers' table: give dynamics_weight > 0 and dynamics_speakers > 0 (the number "
                             "of training speaker ids).")
        if dynamics_speakers and dynamics_target not in TABLE_TARGETS:
            raise ValueError(f"dynamics_speakers={dynamics_speakers} sizes the speakers' table, which "
                             f"dynamics_target={dynamics_target!r} never reads: give dynamics_speakers=0, or a target "
                             f"that reads it, one of {TABLE_TARGETS}.")
        if dynamics_source_share != 1.0 and not (dynamics_weight and dynamics_target == "source-deviation"):
            raise ValueError(f"dynamics_source_share={dynamics_source_share} scales the source's deviation in the "
                             "dynamics target 'source-deviation': give dynamics_weight > 0 and "
                             "dynamics_target='source-deviation', or leave dynamics_source_share at 1.")
        adversaries = list(adversaries)
        if frame_adversary_weight:
            weights = kwargs.pop("adversary_weights", None) or [1.0] * len(adversaries)
            options = {} if frame_feature_matching is None else {"feature_matching_weight": frame_feature_matching}
            adversaries.append(FrameDiscriminator(name="frame_discriminator", **options))
            kwargs["adversary_weights"] = [*weights, frame_adversary_weight]
        front_end = LogMelSpectrogram(num_mel_bins, name="front_end")
        # Pseudo-speakers: built before the parent, so it is tracked (its generator's state is checkpointed)
        self.speaker_warp = VocalTractLengthWarp(
            warp_range, lower_hertz=front_end.lower_hertz, upper_hertz=front_end.upper_hertz,
            name="speaker_warp") if speaker_augmentation else None
        self.speaker_noise_layer = (RelativeNoise(speaker_noise, seed=seed, name="speaker_noise") if speaker_noise
                                    else None)
        self.speaker_push = (SpeakerCodePush(speaker_centroids, speaker_dim, name="speaker_push") if speaker_centroids
                             else None)
        encoder = SpeakerContentEncoder(
            front_end,
            ContentEncoder(content_dim, filters=filters, blocks=blocks, kernel_size=kernel_size,
                           instance_norm=instance_norm, downsample=downsample, name="content_encoder"),
            SpeakerEncoder(speaker_dim, filters=filters, blocks=blocks, kernel_size=kernel_size,
                           training_window=speaker_window, seed=seed, name="speaker_encoder"),
            name="encoder",
        )
        judge = SpeechReconstructionJudge(
            SpeechDecoder(num_mel_bins, filters=filters, blocks=decoder_blocks, kernel_size=kernel_size,
                          conditioning=conditioning, upsample=downsample, dilation=decoder_dilation,
                          norm_first=decoder_norm_first, reference_attention=reference_attention,
                          attention_heads=attention_heads, name="decoder"),
            GriffinLimVocoder(num_mel_bins, hidden_dim=2 * filters, kernel_size=kernel_size,
                              iterations=vocoder_iterations, name="vocoder"),
            loss=reconstruction_loss,
            spread_weight=spread_weight,
            envelope_weight=envelope_weight,
            name="reconstruction",
        )
        judges, judge_weights = [judge], [1.0]
        if dynamics_weight:
            judges.append(DynamicsMatchJudge(num_speakers=dynamics_speakers, target=dynamics_target,
                                             source_share=dynamics_source_share, name="dynamics"))
            judge_weights.append(dynamics_weight)
        if content_consistency_weight:
            judges.append(ContentConsistencyJudge(name="content_consistency"))
            judge_weights.append(content_consistency_weight)
        super().__init__(encoder, judges=judges, judge_weights=judge_weights, adversaries=adversaries,
                         input_shape=(None,), **kwargs)
        # Config
        self.num_mel_bins = num_mel_bins
        self.content_dim = content_dim
        self.speaker_dim = speaker_dim
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size
        self.instance_norm = bool(instance_norm)
        self.conditioning = conditioning
        self.vocoder_iterations = vocoder_iterations
        self.reconstruction_loss = reconstruction_loss
        self.downsample = self.encoder.content_encoder.downsample
        self.decoder_blocks = self.judges[0].decoder.blocks
        self.decoder_dilation = self.judges[0].decoder.dilation
        self.decoder_norm_first = self.judges[0].decoder.norm_first
        self.spread_weight = self.judges[0].spread_weight
        self.envelope_weight = self.judges[0].envelope_weight
        self.rhythm_conversion = bool(rhythm_conversion)
        self.rhythm_limit = float(rhythm_limit)
        self.frame_adversary_weight = float(frame_adversary_weight)
        self.frame_feature_matching = frame_feature_matching
        self.speaker_reference = speaker_reference
        self.reference_attention = self.judges[0].decoder.reference_attention
        self.attention_heads = self.judges[0].decoder.attention_heads
        self.speaker_augmentation = bool(speaker_augmentation)
        self.warp_range = tuple(float(value) for value in warp_range)
        self.dynamics_weight = float(dynamics_weight)
        self.dynamics_target = dynamics_target
        self.dynamics_speakers = int(dynamics_speakers)
        self.dynamics_source_share = float(dynamics_source_share)
        self.content_consistency_weight = float(content_consistency_weight)
        self.speaker_window = speaker_window
        self.speaker_noise = float(speaker_noise)
        self.speaker_centroids = speaker_centroids
        self.speaker_code_push = speaker_code_push
        self.seed = seed

    # ------------------------------------------------------------------ parts
    @property
    def front_end(self):
        return self.encoder.front_end

    @property
    def decoder(self):
        return self.judges[0].decoder

    @property
    def vocoder(self):
        return self.judges[0].vocoder

    def adapt(self, waveforms):
        """Sets the front end's normalisation statistics from a list of float32 `[samples]` training waveforms."""
        self.front_end.adapt(waveforms)

    # ------------------------------------------------------------------ batches
    def unpack_batch(self, data):
        if isinstance(data, dict):
            return data
        if isinstance(data, (tuple, list)) and isinstance(data[0], dict):
            return data[0]
        if isinstance(data, (tuple, list)):
            return {"waveforms": data[0], "speakers": data[1]} if len(data) > 1 else {"waveforms": data[0]}
        return {"waveforms": data}

    def encoder_inputs(self, batch):
        return batch["waveforms"]

    def forward(self, batch, training=False):
        """The core loop's code `(frames, speaker, content)`; with a frame adversary, reference attention or
        pseudo-speakers (in training) also the decoded frames, `(frames, speaker, {"rebuilt": ...[, "converted":
        ...]}, content)` (the reconstruction judge reuses the rebuilt frames, so the decoder runs once per kind of
        output; "converted", which the frame adversary judges, is the content of each utterance with the speaker of
        the next; with `dynamics_weight`, also "dynamics", the judged frames unnormalised against those of the
        utterances that gave their speaker codes; with `content_consistency_weight`, also "content_consistency", the
        converted frames' content code beside the source's). With `speaker_reference="other"`, the speaker code (and the frames attended to) are those of the batch's
        `"reference"` utterances (required in training). With `speaker_augmentation` in training, the code is that
        of the warped frames (the target too), and `"vocoder_frames"` holds the real ones for the post-net."""
        alphas = self.speaker_warp.draw(tf.shape(batch["waveforms"])[0]) if self._warps(training) else None
        if alphas is None:
            code, losses, metrics = super().forward(batch, training=training)
        else:
            log_mel = self.front_end.log_mel(batch["waveforms"])  # once, for the real frames and the warped ones
            real = self.front_end.standardize(log_mel)
            encoding = self.encoder.encode_frames(self._warped(log_mel, alphas), training=training)
            code, losses, metrics = self.bottleneck_code(encoding, training=training)
        code, reference = self._with_reference_speaker(batch, code, training, alphas)
        if self.speaker_noise_layer is not None:
            frames, speaker, content = code
            code = (frames, self.speaker_noise_layer(speaker, training=training), content)
        converts = self.frame_adversary_weight or self.dynamics_weight
        if not (converts or self.content_consistency_weight or self.reference_attention or alphas is not None):
            return code, losses, metrics
        frames, speaker, content = code
        speaker_frames = reference if self.speaker_reference == "other" else frames
        reference = reference if self.reference_attention else None

        def decode(speaker, reference, content=content):
            return self.decoder(content, speaker, length=tf.shape(frames)[1], reference=reference, training=training)

        generated = {"rebuilt": decode(speaker, reference)}
        if converts:
            generated["converted"] = decode(tf.roll(speaker, 1, axis=0),
                                            None if reference is None else tf.roll(reference, 1, axis=0))
        if self.dynamics_weight:
            log_mel = lambda x: self.front_end.denormalize(tf.cast(x, "float32"))  # noqa: E731
            converted = (log_mel(generated["converted"]), log_mel(tf.roll(speaker_frames, 1, axis=0)))
            if self.dynamics_speakers:
                converted += (self._dynamics_shift(batch, log_mel(frames if alphas is None else real)),)
            generated["dynamics"] = [(log_mel(generated["rebuilt"]), log_mel(speaker_frames)), converted]
        if self.content_consistency_weight:
            held = decode(tf.stop_gradient(tf.roll(speaker, 1, axis=0)),
                          None if reference is None else tf.roll(reference, 1, axis=0), tf.stop_gradient(content))
            generated["content_consistency"] = (self._reencoded(held, training), content)
        if alphas is not None:
            generated["vocoder_frames"] = real
        return (frames, speaker, generated, content), losses, metrics

    def _reencoded(self, frames, training):
        """The content code of decoded `frames`, from the content encoder with its weights held fixed (a stateless
        call on their stopped values), so a loss on it trains what made the frames, not the encoder."""
        encoder = self.encoder.content_encoder
        held = [tf.stop_gradient(variable) for variable in encoder.trainable_variables]
        code, _ = encoder.stateless_call(held, encoder.non_trainable_variables, frames, training=training)
        return code

    def _dynamics_shift(self, batch, real_log_mel):
        """What the dynamics targets that read the speakers' table (`TABLE_TARGETS`) read besides the
        converted frames and their reference: the unwarped log-mel frames of each converted utterance
        (`real_log_mel`) and of its reference (the batch's next utterance, or its `"reference"`), and their speakers."""
        if not isinstance(batch, dict) or batch.get("speakers") is None:
            raise ValueError(f"dynamics_target={self.dynamics_target!r} reads each utterance's speaker id: train on "
                             'batches with a "speakers" key or (waveforms, speaker_ids) tuples (make_crop_dataset '
                             "gives them).")
        reference = real_log_mel if self.speaker_reference == "own" else self.front_end.log_mel(batch["reference"])
        speakers = batch["speakers"]
        return {"source": real_log_mel, "source_speakers": speakers,
                "reference_real": tf.roll(reference, 1, axis=0), "reference_speakers": tf.roll(speakers, 1, axis=0)}

    def adapt_speaker_dynamics(self, waveforms, speakers):
        """Sets the table of a dynamics target that reads it (`TABLE_TARGETS`): every training speaker's mean log
        cepstral spreads (and each spread's `speaker_share`), from float32 `[samples]` waveforms (whole utterances;
        the more the better) and their int speaker ids, the ids of the training batches."""
        if not self.dynamics_speakers:
            raise ValueError("adapt_speaker_dynamics sets the speakers' table of the dynamics match: build the model "
                             f"with dynamics_weight > 0, dynamics_target one of {TABLE_TARGETS} and dynamics_speakers "
                             "> 0.")
        spreads = tf.function(lambda waveform: log_spreads(self.front_end.log_mel(waveform)),
                              input_signature=[tf.TensorSpec([1, None], tf.float32)])  # one trace for every length
        self.judges[1].adapt(np.concatenate([spreads(np.asarray(w, "float32")[None]) for w in waveforms]), speakers)

    def _warps(self, training):
        return bool(training) and self.speaker_warp is not None

    def _warped(self, log_mel, alphas):
        """The front end's frames of unnormalised `log_mel` frames warped by `alphas` `[batch]` (the warp acts on the
        log-mel scale, before the standardisation)."""
        return self.front_end.standardize(self.speaker_warp(log_mel, alphas=alphas))

    def _with_reference_speaker(self, batch, code, training, alphas=None):
        """`(code, frames to attend to)`: the code with the speaker code of `batch["reference"]` when
        `speaker_reference` is "other", and the reference's frames when `reference_attention` is on (without a
        reference outside training: the code as it is and the utterance's own frames)."""
        frames, speaker, content = code
        reference = batch.get("reference") if isinstance(batch, dict) else None
        if self.speaker_reference == "own" and not self.reference_attention:
            return code, frames
        if reference is None:
            if training:
                raise ValueError('speaker_reference="other" and reference_attention train on batches with a '
                                 '"reference" key (another utterance of each utterance\'s speaker): '
                                 "make_crop_dataset(..., reference=True).")
            return code, frames
        reference_frames = (self.front_end(reference) if alphas is None
                            else self._warped(self.front_end.log_mel(reference), alphas))
        if self.speaker_reference == "other":
            speaker = self.encoder.speaker_encoder(reference_frames, training=training)
        return (frames, speaker, content), reference_frames

    # ------------------------------------------------------------------ what users call
    def encode(self, waveforms):
        """Content codes `[batch, ceil(samples // 160 / downsample), content_dim]`."""
        return self(checked_waveforms(waveforms, "the waveforms"), training=False)

    def encode_speaker(self, waveforms):
        """Speaker codes `[batch, speaker_dim]` (any length: averaged over time)."""
        return self.encoder.encode_speaker(checked_waveforms(waveforms, "the waveforms"), training=False)

    def speaking_rate(self, waveforms):
        """`[batch]`: how fast each utterance is spoken, without labels: the mean change of its content code from
        one step to the next over its speech steps (`keras_ae.layers.audio.rhythm.code_change_rate`)."""
        waveforms = checked_waveforms(waveforms, "the waveforms")
        mask = speech_mask(self.front_end.log_mel(waveforms), step=self.downsample)
        return code_change_rate(self(waveforms, training=False), mask)

    def rhythm_ratio(self, source, reference):
        """`[batch]`: the time-stretch factor that gives `source` the speaking rate of `reference` (source rate over
        reference rate, clipped to `[1 / rhythm_limit, rhythm_limit]`; above 1 the reference speaks slower)."""
        ratio = self.speaking_rate(source) / tf.maximum(self.speaking_rate(reference), 1e-6)
        return tf.clip_by_value(ratio, 1.0 / self.rhythm_limit, self.rhythm_limit)

    def adapt_speaker_centroids(self, waveforms, speakers):
        """Sets the trained voices' speaker-code centroids that `speaker_code_push` reads (`SpeakerCodePush`): the
        mean speaker code of each training speaker over float32 `[samples]` waveforms (whole utterances) with their
        speaker ids (`speaker_centroids` distinct ids), from the trained model. Call it after training."""
        if self.speaker_push is None:
            raise ValueError("adapt_speaker_centroids sets the centroids of the speaker-code push: build the model "
                             "with speaker_centroids > 0 (the number of training speaker ids).")
        code = tf.function(lambda waveform: self.encode_speaker(waveform),
                           input_signature=[tf.TensorSpec([1, None], tf.float32)])  # one trace for every length
        codes = np.concatenate([code(np.asarray(w, "float32")[None]) for w in waveforms])
        self.speaker_push.adapt(codes, speakers)

    def speaker_code(self, reference, push=None):
        """The speaker code `[batch, speaker_dim]` `convert` decodes with: `encode_speaker(reference)` moved `push`
        times as far from its nearest trained voice's centroid (`SpeakerCodePush`; None: `speaker_code_push`; 1:
        the code itself, bit for bit)."""
        code = self.encode_speaker(reference)
        push = self.speaker_code_push if push is None else push
        if not tf.is_tensor(push):
            push = checked_push(push)
            if push == 1:
                return code
        if self.speaker_push is None:
            raise ValueError("a speaker-code push other than 1 needs the trained voices' centroids: build the model "
                             "with speaker_centroids > 0 and call adapt_speaker_centroids.")
        return self.speaker_push(code, push=push)

    def convert_frames(self, source, reference, push=None):
        """Frames `[batch, frames, bins]`: the content of `source` said by the speaker of `reference` (its code
        pushed by `push`, `speaker_code`); `frames` is the source's, or with `rhythm_conversion` the source's times
        `rhythm_ratio` (one utterance at a time)."""
        source = checked_waveforms(source, "the source", audible=True)
        reference = checked_waveforms(reference, "the reference", audible=True)
        content, length = self.encode(source), tf.shape(source)[1] // FRAME_SAMPLES
        if self.rhythm_conversion:
            content, length = self._stretched(content, length, source, reference)
        return self.decoder(content, self.speaker_code(reference, push), length=length,
                            reference=self.front_end(reference) if self.reference_attention else None, training=False)

    def _stretched(self, content, length, source, reference):
        """The content code resampled in time by `rhythm_ratio`, and the new frame count."""
        with tf.control_dependencies([tf.debugging.assert_equal(
                tf.shape(source)[0], 1, message="rhythm conversion converts one utterance at a time (batch 1)")]):
            ratio = self.rhythm_ratio(source, reference)[0]
        length = tf.maximum(tf.cast(tf.round(tf.cast(length, tf.float32) * ratio), tf.int32), 1)
        steps = (length + self.downsample - 1) // self.downsample
        return stretch_in_time(content, steps), length

    def convert(self, source, reference, push=None):
        """The waveform `[batch, source_samples // 160 * 160]` (with `rhythm_conversion`: times the rate ratio) of
        `source`'s words in `reference`'s voice (its speaker code pushed by `push`: `speaker_code`)."""
        return self.vocoder(self.convert_frames(source, reference, push))

    def resynthesize(self, waveforms):
        """Real speech through the front end and the vocoder (no codes): the vocoder's floor."""
        return self.vocoder(self.front_end(checked_waveforms(waveforms, "the waveforms")))

    def export_signatures(self):
        """`encode`, `encode_speaker`, `convert(source, reference)` (at `speaker_code_push`), `resynthesize` and,
        with a centroid table, `convert_with_push(source, reference, push)`."""
        waveforms = tf.TensorSpec([None, None], tf.float32, name="waveforms")
        source = tf.TensorSpec([1, None], tf.float32, name="source")
        reference = tf.TensorSpec([1, None], tf.float32, name="reference")
        return {
            "encode": (self.encode, [waveforms]),
            "encode_speaker": (self.encode_speaker, [waveforms]),
            "convert": (lambda source, reference: self.convert(source, reference), [source, reference]),
            "resynthesize": (self.resynthesize, [waveforms]),
            **({"convert_with_push": (self.convert, [source, reference, tf.TensorSpec([], tf.float32, name="push")])}
               if self.speaker_push else {}),
        }

    def get_config(self, keep=()):
        config = without_parts(super().get_config(), keep=keep)
        config.pop("encoder")
        config.update({
            "num_mel_bins": self.num_mel_bins, "content_dim": self.content_dim, "speaker_dim": self.speaker_dim,
            "filters": self.filters, "blocks": self.blocks, "kernel_size": self.kernel_size,
            "instance_norm": self.instance_norm, "conditioning": self.conditioning,
            "vocoder_iterations": self.vocoder_iterations, "reconstruction_loss": self.reconstruction_loss,
            "downsample": self.downsample, "decoder_blocks": self.decoder_blocks,
            "decoder_dilation": self.decoder_dilation, "decoder_norm_first": self.decoder_norm_first,
            "spread_weight": self.spread_weight, "envelope_weight": self.envelope_weight,
            "rhythm_conversion": self.rhythm_conversion,
            "rhythm_limit": self.rhythm_limit, "frame_adversary_weight": self.frame_adversary_weight,
            "frame_feature_matching": self.frame_feature_matching, "speaker_reference": self.speaker_reference,
            "reference_attention": self.reference_attention, "attention_heads": self.attention_heads,
            "speaker_augmentation": self.speaker_augmentation, "warp_range": list(self.warp_range),
            "dynamics_weight": self.dynamics_weight, "dynamics_speakers": self.dynamics_speakers,
            "dynamics_target": self.dynamics_target, "dynamics_source_share": self.dynamics_source_share,
            "content_consistency_weight": self.content_consistency_weight,
            "speaker_window": self.speaker_window, "speaker_noise": self.speaker_noise,
            "speaker_centroids": self.speaker_centroids, "speaker_code_push": self.speaker_code_push, "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if not config.get("dynamics_speakers") and config.get("dynamics_target", "speaker-shift") == "speaker-shift":
            config["dynamics_target"] = "reference"  # before session 20 no table meant the reference target
        elif "dynamics_target" not in config:
            config["dynamics_target"] = "speaker-shift"  # sessions 17-18: a table meant the shifted target
        return cls(**config)
