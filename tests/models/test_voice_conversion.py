"""Voice conversion: the spectral front end and vocoder, (adaptive) instance normalisation, the models' export and
checks, the conversion scores, `python -m keras_ae.convert` and the recipe."""

import json
import types
import wave

import keras
import numpy as np
import pysptk
import pytest
import tensorflow as tf

from keras_ae import convert as convert_cli
from keras_ae.config import constructor_default
from keras_ae.data.speech import SpeechCorpus, write_wav
from benchmarks.voice_conversion_cues import chain_rows, condition_rows
from benchmarks.voice_conversion_cues import main as cues_main
from benchmarks.voice_conversion_engine_targets import code_rows, dynamics_rows, heard_as
from benchmarks.voice_conversion_phones import per_phone_tables, phone_class, shifted_accuracy, windowed
from benchmarks.voice_conversion_rescore import split_shares
from benchmarks.voice_conversion_spreads import spread_components
from benchmarks.voice_conversion_speaker_codes import (
    assignment_shares,
    conversion_row,
    heard_rows,
    real_speech_rows,
    speaker_centroids,
    training_voice_rows,
)
from keras_ae.evaluation.conversion import (
    PhoneProbe,
    SpeakerClassifier,
    conversion_matrix,
    conversion_pairs,
    conversion_scores,
    mel_cepstra,
    mel_cepstral_distortion,
    mel_target_shares,
    self_conversion_share,
    speaker_judges,
    stretched_labels,
)
from keras_ae.export import export_model
from keras_ae.layers import (
    AdaptiveInstanceNormalization,
    GriffinLimVocoder,
    InstanceNormalization,
    LogMelSpectrogram,
    ReferenceAttention,
    SpeakerEncoder,
    SpeechDecoder,
    SpeechReconstructionJudge,
)
from keras_ae.layers.audio.log_mel import padded_stft
from keras_ae.layers.audio.rhythm import code_change_rate, speech_mask, stretch_in_time
from keras_ae.layers.judges.content_consistency_judge import ContentConsistencyJudge
from keras_ae.layers.judges.dynamics_match_judge import (
    DynamicsMatchJudge,
    log_spreads,
    speaker_share,
    spread_log_error,
)
from keras_ae.layers.judges.frame_discriminator import FrameDiscriminator
from keras_ae.layers.judges.speech_reconstruction_judge import frame_envelope_error, frame_spread_error
from keras_ae.models import AdaINVC, DisentanglingAutoEncoder
from keras_ae.recipes import voice_conversion
from tests.helpers import assert_two_replicas_step_like_one, reload_and_call_many
from tests.test_contract import SPEECH, SPEECH_BATCHES, TINY_VC
from tests.tensorboard_helpers import read_projector

rng = np.random.default_rng(0)


def _tone(seconds=0.5, frequency=220.0, rate=16000):
    time = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * frequency * time) * (1 + 0.5 * np.sin(2 * np.pi * 3 * time))).astype("float32")


def test_log_mel_frames_line_up_with_the_labels_and_adapt_standardises():
    front_end = LogMelSpectrogram(num_mel_bins=16)
    waveforms = [_tone(0.5, f) for f in (150.0, 300.0, 600.0)]
    assert front_end(np.stack(waveforms)).shape == (3, 50, 16)  # one frame per 160 samples
    front_end.adapt(waveforms)
    frames = np.asarray(front_end(np.stack(waveforms))).reshape(-1, 16)
    np.testing.assert_allclose(frames.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(frames.std(axis=0), 1.0, atol=0.05)
    clone = LogMelSpectrogram.from_config(front_end.get_config())
    clone.set_weights(front_end.get_weights())  # the statistics are weights: saved with the model
    np.testing.assert_allclose(clone(waveforms[0][None]), front_end(waveforms[0][None]), atol=1e-6)


def test_masked_instance_norm_ignores_padding():
    frames = rng.normal(3.0, 2.0, size=(1, 5, 4)).astype("float32")
    padded = np.concatenate([frames, 100 * np.ones([1, 3, 4], "float32")], axis=1)
    layer = InstanceNormalization()
    alone = np.asarray(layer(frames))
    masked = np.asarray(layer(padded, mask=tf.sequence_mask([5], 8)))
    np.testing.assert_allclose(masked[:, :5], alone, atol=1e-5)
    assert np.all(masked[:, 5:] == 0)
    np.testing.assert_allclose(alone.mean(axis=1), 0.0, atol=1e-5)


def test_adain_takes_scale_and_shift_from_the_condition():
    layer = AdaptiveInstanceNormalization(channels=2)
    frames = rng.normal(5.0, 3.0, size=(2, 50, 2)).astype("float32")
    condition = np.array([[1.0], [-1.0]], "float32")
    layer(frames, condition)
    layer.affine.kernel.assign([[1.0, 1.0, 2.0, 2.0]])  # gamma = c, beta = 2 c
    out = np.asarray(layer(frames, condition))
    np.testing.assert_allclose(out.mean(axis=1), [[2, 2], [-2, -2]], atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), [[2, 2], [0, 0]], atol=1e-3)


def test_speaker_encoder_takes_any_length_and_ignores_padding():
    encoder = SpeakerEncoder(embedding_dim=4, filters=8, blocks=1, kernel_size=1)
    frames = rng.normal(size=(1, 7, 3)).astype("float32")
    padded = np.concatenate([frames, np.zeros([1, 5, 3], "float32")], axis=1)
    np.testing.assert_allclose(encoder(padded, mask=tf.sequence_mask([7], 12)), encoder(frames), atol=1e-5)
    assert encoder(rng.normal(size=(2, 40, 3)).astype("float32")).shape == (2, 4)


def test_griffin_lim_rebuilds_the_phases_of_a_real_magnitude():
    waveform = _tone(0.4) + 0.2 * _tone(0.4, 1250.0)
    magnitude = tf.abs(padded_stft(waveform[None]))

    def spectral_convergence(iterations):
        rebuilt = GriffinLimVocoder(num_mel_bins=8, iterations=iterations).griffin_lim(magnitude)
        assert rebuilt.shape == (1, len(waveform))
        return float(tf.norm(tf.abs(padded_stft(rebuilt)) - magnitude) / tf.norm(magnitude))

    assert spectral_convergence(24) < 0.5 * spectral_convergence(1)


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = AdaINVC(kl_weight=0.0, **TINY_VC)  # untrained: the contract test trains one; this checks the export
    model.adapt(list(SPEECH[0][:8]))
    return model, export_model(model, tmp_path_factory.mktemp("vc") / "export")


@pytest.mark.slow  # an export and a fresh TensorFlow process: too slow for the default suite (the contract test
# checks encode against its export there)
def test_export_signatures_match_the_model_and_refuse_bad_audio(tiny_export):
    model, folder = tiny_export
    source, reference = SPEECH[0][:1], SPEECH[0][1:2, :800]
    nan = source.copy()
    nan[0, 10] = np.nan
    outputs, signatures = reload_and_call_many(folder, {
        "encode": ("encode", [SPEECH[0][:2]]),
        "encode_speaker": ("encode_speaker", [SPEECH[0][:2]]),
        "convert": ("convert", [source, reference]),
        "nan": ("convert", [nan, reference]),
        "short": ("convert", [source, reference[:, :200]]),
        "silent": ("convert", [source, np.zeros_like(reference)]),
    })
    assert {"encode", "encode_speaker", "convert", "resynthesize"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(SPEECH[0][:2]), atol=1e-5)
    np.testing.assert_allclose(outputs["encode_speaker"][0], model.encode_speaker(SPEECH[0][:2]), atol=1e-5)
    np.testing.assert_allclose(outputs["convert"][0], model.convert(source, reference), atol=1e-5)
    assert outputs["convert"][0].shape == (1, 1600)
    assert "NaN" in outputs["nan"] and "shorter than 480 samples" in outputs["short"] and "silent" in outputs["silent"]
    with pytest.raises(ValueError, match="batch axis"):
        model.convert(source[0], reference[0])


def _write_stereo_wav(path, left, right, rate):
    pcm = np.stack([left, right], axis=1)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.clip(pcm * 32767, -32768, 32767).astype("<i2").tobytes())


def _inputs(tmp_path):
    source, reference = tmp_path / "source.wav", tmp_path / "reference.wav"
    tone = _tone(0.6, 220.0, rate=22050)
    _write_stereo_wav(source, tone, 0.5 * tone, 22050)  # stereo at 22.05 kHz: mixed down and resampled
    write_wav(reference, _tone(0.5, 400.0))
    return source, reference


@pytest.mark.slow
def test_convert_command_writes_a_16_khz_mono_conversion(tiny_export, tmp_path):
    _, folder = tiny_export
    source, reference = _inputs(tmp_path)
    output = tmp_path / "out.wav"
    convert_cli.main(["--model", str(folder), "--source", str(source), "--reference", str(reference),
                      "--output", str(output)])
    with wave.open(str(output)) as file:
        assert file.getframerate() == 16000 and file.getnchannels() == 1
        assert abs(file.getnframes() - 0.6 * 16000) <= 160
    with pytest.raises(FileExistsError, match="--overwrite"):
        convert_cli.convert_files(folder, source, reference, output)


def test_convert_command_refuses_bad_files_before_loading_the_model(tmp_path, capsys):
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="not a keras_ae export"):
        convert_cli.convert_files(folder, *_inputs(tmp_path), tmp_path / "x.wav")
    (folder / "keras_ae.json").write_text('{"signatures": {"encode": {}}}')
    with pytest.raises(ValueError, match="no convert signature"):
        convert_cli.convert_files(folder, *_inputs(tmp_path), tmp_path / "x.wav")
    (folder / "keras_ae.json").write_text('{"signatures": {"encode": {}, "convert": {}}}')  # never loaded below
    source, _ = _inputs(tmp_path)
    silent, short, corrupt = tmp_path / "silent.wav", tmp_path / "short.wav", tmp_path / "corrupt.wav"
    write_wav(silent, np.zeros(8000))
    write_wav(short, SPEECH[0][0][:1600])
    corrupt.write_bytes(b"RIFF....WAVEfmt garbage")
    cases = {tmp_path / "missing.wav": "no such audio file", silent: "silent", short: "at least 0.25 s",
             corrupt: "cannot decode"}
    for bad, message in cases.items():
        with pytest.raises(SystemExit):
            convert_cli.main(["--model", str(folder), "--source", str(source), "--reference", str(bad),
                              "--output", str(tmp_path / "never.wav")])
        assert message in capsys.readouterr().err
    assert not (tmp_path / "never.wav").exists()


def test_mel_cepstral_distortion_is_zero_for_the_same_speech_and_grows_with_change():
    speech = _tone(0.5, 200.0) + 0.1 * _tone(0.5, 900.0)
    other = _tone(0.5, 200.0) + 0.1 * _tone(0.5, 2500.0)
    power = np.maximum(np.abs(np.asarray(padded_stft(speech[None]))[0]) ** 2, 1e-10).astype("float64")
    np.testing.assert_allclose(mel_cepstra(speech)[0], pysptk.sp2mc(power, 24, 0.42), atol=1e-8)
    assert mel_cepstral_distortion(speech, speech) < 1e-6
    assert mel_cepstral_distortion(speech, other) > 1.0
    with pytest.raises(ValueError, match="silence"):
        mel_cepstral_distortion(np.zeros(8000, "float32"), speech)


def _toy_corpus():
    speakers = np.repeat(np.arange(4), 5)
    sentences = np.tile(np.arange(5), 4)
    return types.SimpleNamespace(
        speakers=speakers, sentences=sentences, speaker_names=["a", "b", "c", "d"],
        sentence_split=np.array(["train", "train", "train", "test", "test"])[sentences],
        speaker_split=np.where(speakers < 3, "train", "test"))


def test_conversion_pairs_use_held_out_sentences_and_parallel_ground_truth():
    corpus = _toy_corpus()
    pairs = conversion_pairs(corpus, corpus, [0, 1, 2, 3], count=30, seed=0)
    assert len(pairs) == 30
    for source, reference, truth in pairs:
        assert corpus.sentence_split[source] == "test" and corpus.speaker_split[source] == "train"
        assert corpus.speakers[reference] != corpus.speakers[source]
        assert corpus.sentences[reference] != corpus.sentences[source]
        assert corpus.speakers[truth] == corpus.speakers[reference]
        assert corpus.sentences[truth] == corpus.sentences[source]
    shares = conversion_matrix([("a", "b", True), ("a", "b", False), ("b", "a", True)], ["a", "b"], ["a", "b"])
    np.testing.assert_allclose(shares, [[np.nan, 0.5], [1.0, np.nan]])


def test_speaker_labels_that_do_not_fit_the_audio_are_refused_before_training():
    args = types.SimpleNamespace(data="folder", held_out_speakers=1, crop_seconds=0.1)
    corpus = _toy_corpus()
    corpus.num_speakers = 4
    corpus.waveforms = [np.zeros(16000, "float32")] * len(corpus.speakers)
    unlabelled = types.SimpleNamespace(**{**vars(corpus), "speaker_names": ["a", "b", "c", "unknown"]})
    with pytest.raises(ValueError, match="no speaker label"):
        voice_conversion.check_speakers(unlabelled, args)
    lonely = types.SimpleNamespace(**{**vars(corpus), "speakers": corpus.speakers[:16],
                                      "waveforms": corpus.waveforms[:16]})  # speaker d says one sentence
    with pytest.raises(ValueError, match="single utterance"):
        voice_conversion.check_speakers(lonely, args)
    with pytest.raises(ValueError, match="two seen speakers"):
        voice_conversion.check_speakers(corpus, types.SimpleNamespace(**{**vars(args), "held_out_speakers": 3}))
    assert list(voice_conversion.check_speakers(corpus, args).speaker_split[-5:]) == ["test"] * 5


def test_quick_recipe_refuses_bad_flags_before_any_work(tmp_path):
    with pytest.raises(SystemExit):
        voice_conversion.main(["--method", "autovc", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="add --dynamics-weight"):
        voice_conversion.main(["--dynamics-target", "speaker-shift", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="add --dynamics-weight"):
        voice_conversion.main(["--dynamics-target", "blend", "--run-dir", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="add --dynamics-target source-deviation"):
        voice_conversion.main(["--dynamics-weight", "1", "--dynamics-source-share", "0.5",
                               "--run-dir", str(tmp_path / "run")])
    for bad in ("1.5", "-0.1", "half"):
        with pytest.raises(SystemExit):
            voice_conversion.main(["--dynamics-weight", "1", "--dynamics-target", "source-deviation",
                                   "--dynamics-source-share", bad, "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("method", voice_conversion.METHODS)
def test_recipe_end_to_end_resumes_and_exports_a_converter(method, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    flags = ["--quick", "--method", method, "--run-dir", str(run_dir), "--export-dir", str(export_dir)]
    metrics = voice_conversion.main(flags)
    assert set(metrics["conversion"]) == {"seen targets", "unseen targets"}
    for scores in metrics["conversion"].values():
        assert 0 <= scores["target_share"] <= 1 and scores["mcd_converted_target"] > 0
    for name in ("metrics.json", "conversion_matrix.png", "spectrograms_unseen_targets.png", "history.png"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "samples" / "unseen_targets_converted.wav").exists()
    _, metadata, _ = read_projector(run_dir / "tensorboard", "held-out utterances (speaker code)")
    assert metadata[0] == "speaker\ttext" and len(metadata) > 2
    _, metadata, _ = read_projector(run_dir / "tensorboard", "held-out frames")  # the content code, per frame
    assert metadata[0] == "phone\tspeaker\ttime (s)"
    resumed = voice_conversion.main(flags + ["--resume", "--epochs", "2"])
    assert resumed["epochs"] == 2
    wav = run_dir / "samples" / "unseen_targets_source.wav"
    convert_cli.main(["--model", str(export_dir), "--source", str(wav), "--reference",
                      str(run_dir / "samples" / "unseen_targets_reference.wav"), "--output", str(tmp_path / "o.wav")])
    assert (tmp_path / "o.wav").stat().st_size > 1000
    manifest = json.loads((export_dir / "keras_ae.json").read_text())  # the training voices' centroids, set
    assert manifest["config"]["speaker_centroids"] == 3 and manifest["config"]["speaker_code_push"] == 1.0
    convert_cli.main(["--model", str(export_dir), "--source", str(wav), "--reference",
                      str(run_dir / "samples" / "unseen_targets_reference.wav"), "--output", str(tmp_path / "p.wav"),
                      "--push", "2"])
    assert (tmp_path / "p.wav").stat().st_size == (tmp_path / "o.wav").stat().st_size


def _voiced_corpus():
    """The toy corpus with a waveform per utterance: each speaker a pitch, each sentence a loudness pattern."""
    corpus = _toy_corpus()
    corpus.waveforms = [_tone(0.4, 150.0 * (1 + speaker)) * (0.5 + 0.1 * sentence)
                        for speaker, sentence in zip(corpus.speakers, corpus.sentences)]
    return corpus


def _voiced_speech_corpus():
    """`_voiced_corpus` as a `SpeechCorpus` (select, subset, sample)."""
    toy = _voiced_corpus()
    return SpeechCorpus(waveforms=toy.waveforms, speakers=toy.speakers, sentences=toy.sentences, texts=[""] * 20,
                        phones=None, paths=[str(i) for i in range(20)], speaker_split=toy.speaker_split,
                        sentence_split=toy.sentence_split, speaker_names=toy.speaker_names)


def test_speaker_classifiers_on_waveforms_and_on_frames_locate_where_the_speaker_is_lost():
    corpus = _voiced_corpus()
    names = [corpus.speaker_names[s] for s in corpus.speakers]
    judge = SpeakerClassifier().fit(corpus.waveforms, names)
    assert judge.accuracy(corpus.waveforms, names) == 1.0
    front_end = LogMelSpectrogram(num_mel_bins=16)
    frames = lambda waveform: np.asarray(front_end(waveform[None]))[0]  # noqa: E731
    mel_judge = SpeakerClassifier(features=np.asarray).fit([frames(w) for w in corpus.waveforms], names)
    pairs = conversion_pairs(corpus, corpus, [0, 1, 2, 3], count=12, seed=0)
    # a decoder that makes the target's frames, and a vocoder that brings back the source's voice
    shares = mel_target_shares(lambda source, reference: frames(reference), frames, corpus,
                               corpus, pairs, [corpus.waveforms[s] for s, _, _ in pairs], mel_judge)
    assert shares == {"target_share_mel_decoder": 1.0, "target_share_mel_vocoded": 0.0}
    assert self_conversion_share(lambda source, reference: reference, corpus, pairs, judge) == 1.0
    other_voice = lambda source, reference: corpus.waveforms[(corpus.speakers != 0).argmax()]  # noqa: E731
    assert self_conversion_share(other_voice, corpus, pairs, judge) < 0.5


def test_speaker_judges_fit_on_real_training_speech_and_its_resynthesis_only():
    corpus = _voiced_speech_corpus()
    heard = []

    def resynthesize(waveform):
        heard.append(waveform)
        return waveform * 0.9

    judge, few, few_waveforms, few_names = speaker_judges(corpus, None, resynthesize, probe_utterances=8,
                                                          resynthesised_per_speaker=2)
    # every real training-sentence utterance (3 per speaker), plus 2 resynthesised per speaker; never a test one
    assert (judge.fitted_real, judge.fitted_resynthesised) == (12, 8)
    training = {id(w) for w, split in zip(corpus.waveforms, corpus.sentence_split) if split == "train"}
    assert len(heard) == 8 and all(id(w) in training for w in heard)
    # the few-utterance judge: max(4, 8 // 4) = 4 per speaker, capped by the 3 training sentences
    assert len(few_waveforms) == 12 and sorted(set(few_names)) == ["a", "b", "c", "d"]
    test = corpus.select(sentences="test")
    names = [corpus.speaker_names[s] for s in test.speakers]
    assert judge.accuracy(test.waveforms, names) == 1.0 and few.accuracy(test.waveforms, names) == 1.0


@pytest.mark.parametrize("method", voice_conversion.METHODS)
def test_recipe_models_take_their_content_code_size_from_their_own_constructor(method):
    args = voice_conversion.build_parser().parse_args(["--method", method])
    model = voice_conversion.build_model(args, num_speakers=3)
    home = AdaINVC if method == "adain" else DisentanglingAutoEncoder  # the adversarial model inherits it
    assert model.content_dim == constructor_default(home, "content_dim") == (4 if method == "adain" else 16)
    args = voice_conversion.build_parser().parse_args(["--method", method, "--content-dim", "7"])
    assert voice_conversion.build_model(args, num_speakers=3).content_dim == 7


def test_reconstruction_loss_is_l1_or_l2_of_the_frames():
    decoder = SpeechDecoder(8, filters=8, blocks=1)
    frames = tf.constant(rng.normal(size=[2, 12, 8]), tf.float32)
    code = (frames, tf.zeros([2, 4]), tf.zeros([2, 12, 3]))
    vocoder = GriffinLimVocoder(8, hidden_dim=8, iterations=2)
    waveforms = tf.zeros([2, 12 * 160])
    losses = {}
    for loss in ("l1", "l2"):
        judge = SpeechReconstructionJudge(decoder, vocoder, postnet_weight=0.0, loss=loss)
        losses[loss], metrics = judge.judge_loss({"waveforms": waveforms}, code)
        assert judge.get_config()["loss"] == loss
    error = decoder(code[2], code[1]) - frames
    np.testing.assert_allclose(losses["l1"], np.mean(np.abs(error), axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(losses["l2"], np.mean(np.square(error), axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(metrics["frame_l1"], np.mean(np.abs(error)), rtol=1e-5)
    with pytest.raises(ValueError, match="l1, l2"):
        SpeechReconstructionJudge(decoder, vocoder, loss="huber")


def test_spread_term_penalises_over_smoothed_frames_and_adds_to_the_l1():
    frames = tf.constant(rng.normal(size=[2, 40, 8]), tf.float32)
    smooth = tf.nn.avg_pool1d(frames, 5, 1, "SAME")  # same means, less spread over time and in its changes
    assert float(tf.reduce_mean(frame_spread_error(frames, frames))) < 1e-6
    assert float(tf.reduce_mean(frame_spread_error(smooth, frames))) > 0.3
    decoder = SpeechDecoder(8, filters=8, blocks=1)
    vocoder = GriffinLimVocoder(8, hidden_dim=8, iterations=2)
    code = (frames, tf.zeros([2, 4]), tf.zeros([2, 40, 3]))
    batch = {"waveforms": tf.zeros([2, 40 * 160])}
    plain, _ = SpeechReconstructionJudge(decoder, vocoder, postnet_weight=0.0).judge_loss(batch, code)
    judge = SpeechReconstructionJudge(decoder, vocoder, postnet_weight=0.0, spread_weight=2.0)
    weighted, metrics = judge.judge_loss(batch, code)
    spread = frame_spread_error(decoder(code[2], code[1]), frames)
    np.testing.assert_allclose(weighted, plain + 2.0 * spread, rtol=1e-5)
    np.testing.assert_allclose(metrics["frame_spread"], np.mean(spread), rtol=1e-5)
    assert judge.get_config()["spread_weight"] == 2.0
    with pytest.raises(ValueError, match="spread_weight"):
        SpeechReconstructionJudge(decoder, vocoder, spread_weight=-1.0)


def test_envelope_term_sees_the_envelope_not_the_fine_structure_and_adds_to_the_l1():
    frames = tf.constant(rng.normal(size=[2, 30, 80]), tf.float32)
    ripple = tf.signal.idct(tf.one_hot([[40]], 80), type=2, norm="ortho")  # fine structure across bins: cepstrum 40
    tilt = tf.linspace(-1.0, 1.0, 80)[None, None]  # an envelope change: a spectral tilt
    np.testing.assert_allclose(frame_envelope_error(frames + 3.0 * ripple, frames), [0, 0], atol=1e-5)
    assert float(tf.reduce_mean(tf.abs(ripple))) * 3 > 0.2  # the ripple is no small change of the frames
    assert np.all(frame_envelope_error(frames + tilt, frames).numpy() > 0.05)
    decoder = SpeechDecoder(80, filters=8, blocks=1)
    vocoder = GriffinLimVocoder(80, hidden_dim=8, iterations=2)
    code = (frames, tf.zeros([2, 4]), tf.zeros([2, 30, 3]))
    batch = {"waveforms": tf.zeros([2, 30 * 160])}
    plain, _ = SpeechReconstructionJudge(decoder, vocoder, postnet_weight=0.0).judge_loss(batch, code)
    judge = SpeechReconstructionJudge(decoder, vocoder, postnet_weight=0.0, envelope_weight=0.5,
                                      envelope_coefficients=12)
    weighted, metrics = judge.judge_loss(batch, code)
    envelope = frame_envelope_error(decoder(code[2], code[1]), frames, 12)
    np.testing.assert_allclose(weighted, plain + 0.5 * envelope, rtol=1e-5)
    np.testing.assert_allclose(metrics["frame_envelope"], np.mean(envelope), rtol=1e-5)
    config = judge.get_config()
    assert (config["envelope_weight"], config["envelope_coefficients"]) == (0.5, 12)
    assert SpeechReconstructionJudge.from_config(config).envelope_coefficients == 12
    with pytest.raises(ValueError, match="envelope_weight"):
        SpeechReconstructionJudge(decoder, vocoder, envelope_weight=-1.0)
    args = voice_conversion.build_parser().parse_args(["--envelope-weight", "0.5", "--filters", "8"])
    model = voice_conversion.build_model(args, num_speakers=3)  # the recipe's flag reaches the judge
    assert model.judges[0].envelope_weight == 0.5 and model.get_config()["envelope_weight"] == 0.5


def test_extra_speakers_are_only_for_the_synthesized_corpus():
    corpus = types.SimpleNamespace(num_speakers=3)
    args = types.SimpleNamespace(extra_speakers=0, data="espeak")
    assert voice_conversion.with_extra_speakers(corpus, "train", args) == ("train", 3)
    args = types.SimpleNamespace(extra_speakers=2, data="/my/audio")
    with pytest.raises(ValueError, match="--extra-speakers"):
        voice_conversion.with_extra_speakers(corpus, "train", args)


def test_extra_speakers_avoid_the_held_out_variants_under_the_variant_split(monkeypatch):
    import keras_ae.data.varied_speech as varied_speech

    calls = []
    monkeypatch.setattr(varied_speech, "load_extra_training_speech",
                        lambda corpus, sentences, count, **options: calls.append(options) or types.SimpleNamespace(
                            num_speakers=count))
    monkeypatch.setattr("keras_ae.data.phones.to_arpabet", lambda corpus: corpus)
    monkeypatch.setattr("keras_ae.data.phones.merge_corpora", lambda parts: parts)
    parser = voice_conversion.build_parser()
    assert parser.parse_args([]).held_out_split == voice_conversion.HELD_OUT_SPLIT
    corpus = types.SimpleNamespace(num_speakers=16)
    for split in ("legacy", "variant"):
        args = parser.parse_args(["--extra-speakers", "2", "--held-out-split", split])
        _, count = voice_conversion.with_extra_speakers(corpus, "train", args)
        assert count == 18
    legacy, variant = calls
    assert [s.variant for s in legacy["exclude"]] == ["f5", "klatt", "f1", "m2"] and not legacy["exclude_families"]
    assert [s.variant for s in variant["exclude"]] == ["m3", "f3", "m5", "m6"] and variant["exclude_families"]


def test_training_speakers_keep_the_held_out_targets_and_every_speaker_for_the_classifier():
    corpus = _toy_corpus()  # speakers a, b, c seen; d held out
    assert voice_conversion.with_training_speakers(corpus, None) is corpus
    limited = voice_conversion.with_training_speakers(_toy_corpus(), 2)
    assert limited.speaker_split[limited.speakers == 2].tolist() == ["unused"] * 5  # c left out of training
    assert limited.speaker_split[limited.speakers == 3].tolist() == ["test"] * 5  # d still the unseen target
    assert len(limited.speakers) == len(corpus.speakers)  # c still speaks to the speaker classifier
    for source, reference, _ in conversion_pairs(limited, limited, [0, 1, 3], count=20, seed=0):
        assert limited.speakers[source] in (0, 1)  # never a source the model did not train on
    for count in (1, 4):
        with pytest.raises(ValueError, match="--training-speakers"):
            voice_conversion.with_training_speakers(_toy_corpus(), count)


def test_step_count_keeps_the_default_corpus_steps_unless_scaled_with_the_pool():
    def batches(utterances, batch_size=4):  # what make_crop_dataset gives with shuffle: full batches only
        return tf.data.Dataset.range(utterances).batch(batch_size, drop_remainder=True)

    def steps(utterances, scale, training_speakers=None, train_size=48, full_steps=12):
        args = types.SimpleNamespace(scale_steps=scale, training_speakers=training_speakers, batch_size=4)
        data, count = voice_conversion.with_step_count(batches(utterances), utterances, train_size, full_steps, args)
        assert count == sum(1 for _ in data)  # the reported count is what an epoch yields
        return count

    assert steps(48, scale=False) == steps(48, scale=True) == 12  # the default corpus: one pass either way
    assert steps(176, scale=False) == 12  # 44 voices instead of 12 at the default's steps
    assert steps(176, scale=True) == 44  # one pass over the larger pool: 44 / 12 of the steps
    assert steps(24, scale=False, training_speakers=6, train_size=24) == 12  # half the voices, the same steps
    assert steps(24, scale=True, training_speakers=6, train_size=24) == 6
    parser = voice_conversion.build_parser()
    assert parser.parse_args([]).scale_steps is False
    assert parser.parse_args(["--scale-steps"]).scale_steps is True


def test_a_new_voice_between_training_voices_lies_nearer_one_as_voices_are_added():
    new = {9: np.array([5.0, 5.0])}
    sparse = {"a": np.array([0.0, 0.0]), "b": np.array([10.0, 0.0])}
    summary, rows = training_voice_rows(sparse, new, spread=0.5, names={9: "x"})
    assert summary == {"voices": 2, "to_nearest_other_mean": 10.0, "to_nearest_other_median": 10.0}
    assert rows["unseen x"]["distance"] == pytest.approx(np.sqrt(50))
    assert rows["unseen x"]["share_of_trained_spacing"] == pytest.approx(np.sqrt(50) / 10)
    assert rows["unseen x"]["in_spreads"] == pytest.approx(2 * np.sqrt(50))
    dense = {**sparse, "c": np.array([5.0, 4.0])}  # a training voice next to the new one
    summary, rows = training_voice_rows(dense, new, spread=0.5, names={9: "x"})
    assert rows["unseen x"]["nearest_training_voice"] == "c" and rows["unseen x"]["distance"] == pytest.approx(1.0)
    assert summary["to_nearest_other_mean"] == pytest.approx(np.sqrt(41))
    assert rows["unseen x"]["share_of_trained_spacing"] == pytest.approx(1 / np.sqrt(41))


def test_speaker_code_diagnosis_tells_a_voice_mapped_onto_a_seen_one_from_a_placed_one():
    rng = np.random.default_rng(0)
    middles = {0: (0.0, 0.0), 1: (10.0, 0.0), 2: (0.0, 10.0), 3: (9.0, 1.0)}  # 0-2 seen; 3 unseen, next to 1
    speakers = np.repeat([0, 1, 2, 3], 10)
    codes = np.stack([middles[s] for s in speakers]) + 0.1 * rng.normal(size=(40, 2))
    centroids = speaker_centroids(codes, speakers)
    np.testing.assert_allclose(centroids[3], middles[3], atol=0.1)
    rows = real_speech_rows(codes, speakers, centroids, seen=[0, 1, 2])
    assert rows["seen speakers"]["nearest_is_own"] == rows["unseen speakers"]["nearest_is_own"] == 1.0
    assert rows["unseen speakers"]["to_nearest_other_seen"] == pytest.approx(np.sqrt(2), abs=0.1)  # speaker 1
    named = real_speech_rows(codes, speakers, centroids, seen=[0, 1, 2], names=["a", "b", "c", "d"])
    assert named["unseen d"] == named["unseen speakers"]  # one unseen speaker: its own row is the group's
    collapsed = np.where(speakers[:, None] == 3, np.asarray(middles[1]), codes)  # 3's codes drawn onto 1's
    assert real_speech_rows(collapsed, speakers, centroids, seen=[0, 1, 2])["unseen speakers"][
        "nearest_is_other_seen"] == 1.0
    corpus = types.SimpleNamespace(speakers=speakers)
    pairs = [(0, 35, None), (1, 36, None)]  # sources of speaker 0, references of the unseen speaker 3
    references = codes[[35, 36]]
    on_target = conversion_row(references + 0.1, references, pairs, corpus, centroids, seen=[0, 1, 2])
    assert on_target["nearest_is_target"] == 1.0 and on_target["to_reference_code"] == pytest.approx(0.1 * np.sqrt(2))
    on_proxy = conversion_row(np.stack([middles[1]] * 2), references, pairs, corpus, centroids, seen=[0, 1, 2])
    assert on_proxy["nearest_is_proxy"] == 1.0 and on_proxy["nearest_is_target"] == 0.0
    assert on_proxy["to_nearest_other_seen"] == pytest.approx(0.0, abs=0.1)
    at_source = conversion_row(np.zeros((2, 2)), references, pairs, corpus, centroids, seen=[0, 1, 2])
    assert at_source["nearest_is_source"] == 1.0 and at_source["to_source"] == pytest.approx(0.0, abs=0.1)
    heard = assignment_shares([3, 1, 0, 2], pairs * 2, corpus, centroids, seen=[0, 1, 2])
    assert heard == {"classifier_target": 0.25, "classifier_source": 0.25, "classifier_proxy": 0.25,
                     "classifier_other": 0.25}
    by_target = heard_rows([3, 1, 1, 2], pairs * 2, corpus, ["a", "b", "c", "d"], seen=[0, 1, 2])
    assert list(by_target) == ["d"] and by_target["d"]["heard_target"] == 0.25
    assert by_target["d"]["heard_other_seen"] == 0.75 and by_target["d"]["heard_other_unseen"] == 0.0
    assert by_target["d"]["most_heard_others"] == "b (2), c (1)"


def test_phone_probe_reads_any_frame_features_and_a_shift_of_the_frames_shows():
    labels = [np.repeat(np.arange(5) % 3, 4)[rng.permutation(20)] for _ in range(6)]
    frames = [np.eye(3)[p] + 0.05 * rng.normal(size=(len(p), 3)) for p in labels]
    probe = PhoneProbe(features=np.asarray).fit(frames, labels)
    assert probe.accuracy(frames, labels) == 1.0
    late = [np.concatenate([f[:1], f[:-1]]) for f in frames]  # the same frames one step late
    assert probe.accuracy(late, labels) < 0.7
    predicted = probe.predict(late[0])
    assert shifted_accuracy(predicted, labels[0], 1) == (19, 19)
    assert shifted_accuracy(predicted, labels[0], -1)[1] == 19


def test_per_phone_tables_split_the_accuracy_lost_by_phone_class():
    names = ["sil", "a", "i:", "t", "s"]  # silence, two vowels, a stop, a fricative
    assert [phone_class(n) for n in names] == ["silence", "vowels", "vowels", "stops", "fricatives"]
    labels = np.repeat([0, 1, 2, 3, 4], [100, 200, 200, 300, 200])
    converted = labels.copy()
    converted[100:200] = 2    # half of "a" heard as "i:": lost, but kept in its class
    converted[500:650] = 4    # half of "t" heard as "s": lost across classes
    predictions = {"real source": (labels, labels), "conversion": (converted, labels)}
    classes, phones = per_phone_tables(predictions, names, min_frames=150)
    loss = 100 * (1 - np.mean(converted == labels))
    assert sum(row["points_lost"] for row in classes.values()) == pytest.approx(loss)
    assert classes["vowels"]["conversion"] == pytest.approx(0.75) and classes["vowels"]["class_kept"] == 1.0
    assert classes["stops"]["class_kept"] == pytest.approx(0.5)
    assert classes["stops"]["points_lost"] == pytest.approx(15.0) and classes["vowels"]["points_lost"] == 10.0
    assert list(phones) == ["t (stops)", "a (vowels)", "i: (vowels)", "s (fricatives)"]  # most lost first; no sil
    frames = np.arange(8.0).reshape(4, 2)  # the windowed probes' features: neighbours either side, edges repeated
    np.testing.assert_array_equal(windowed(frames, 1)[0], [0, 1, 0, 1, 2, 3])
    np.testing.assert_array_equal(windowed(frames, 1)[3], [4, 5, 6, 7, 6, 7])
    assert windowed(frames, 0).tolist() == frames.tolist()


def test_a_perfect_conversion_scores_the_phone_probe_of_the_real_target():
    corpus = _voiced_corpus()  # every speaker says sentence k with the same phone labels
    corpus.phones = [np.roll(np.arange(len(w) // 160) // 8 % 3, sentence)
                     for w, sentence in zip(corpus.waveforms, corpus.sentences)]
    corpus.phone_names = ["sil", "a", "b"]
    judge = SpeakerClassifier().fit(corpus.waveforms, [corpus.speaker_names[s] for s in corpus.speakers])
    probe = PhoneProbe().fit(corpus.waveforms[:8], corpus.phones[:8])
    pairs = conversion_pairs(corpus, corpus, [0, 1, 2, 3], count=8, seed=0)
    truth = {(s, r): t for s, r, t in pairs}
    perfect = lambda source, reference: next(  # noqa: E731
        corpus.waveforms[truth[s, r]] for s, r in truth
        if corpus.waveforms[s] is source and corpus.waveforms[r] is reference)
    scores = conversion_scores(perfect, corpus, corpus, pairs, judge, probe)[0]
    assert scores["target_share"] == 1.0
    assert scores["phone_converted"] == scores["phone_real_target"]
    reversed_ = conversion_scores(lambda source, reference: source[::-1].copy(), corpus, corpus, pairs, judge,
                                  probe)[0]
    assert reversed_["phone_real_target"] == scores["phone_real_target"]  # the real target, whatever the model
    assert reversed_["phone_converted"] < scores["phone_real_target"]
    other_engine = types.SimpleNamespace(**{**vars(corpus), "phone_names": ["pau", "aa", "b"]})  # another inventory
    assert "phone_real_target" not in conversion_scores(perfect, corpus, other_engine, pairs, judge, probe)[0]


def test_a_downsampled_content_code_is_upsampled_back_to_every_frame():
    keras.utils.set_random_seed(0)
    model = AdaINVC(kl_weight=0.0, downsample=4, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    source = np.concatenate(list(SPEECH[0][:4]))[None, : 37 * 160 + 50]  # 37 frames: not a multiple of 4
    reference = SPEECH[0][4:5]
    assert model.encode(source).shape == (1, 10, TINY_VC["content_dim"])
    assert model.convert_frames(source, reference).shape == (1, 37, TINY_VC["num_mel_bins"])
    assert model.convert(source, reference).shape == (1, 37 * 160)
    clone = AdaINVC.from_config(model.get_config())
    assert clone.downsample == 4 and clone.decoder.upsample == 4
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.convert_frames(source, reference), model.convert_frames(source, reference),
                               atol=1e-5)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(SPEECH_BATCHES.repeat(6), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def test_rhythm_helpers_measure_rate_and_stretch_by_a_known_ratio():
    ramp = tf.reshape(tf.range(5.0), [1, 5, 1])
    np.testing.assert_allclose(stretch_in_time(ramp, 9)[0, :, 0], np.arange(9) / 2, atol=1e-6)
    assert stretch_in_time(tf.zeros([2, 40, 3]), 50).shape == (2, 50, 3)
    np.testing.assert_allclose(stretch_in_time(ramp, 5), ramp)
    # a code that changes every 2 steps changes twice as much per step as one that changes every 4
    fast = ((np.arange(41) // 2) % 2).astype("float32")[None, :, None]
    slow = ((np.arange(41) // 4) % 2).astype("float32")[None, :, None]
    both_speech = tf.ones([1, 41])
    assert float(code_change_rate(fast, both_speech)[0]) == pytest.approx(2 * float(code_change_rate(slow,
                                                                                                  both_speech)[0]))
    # silence (a quiet frame) does not count as slow speech
    log_power = np.zeros([1, 20, 4], np.float32)
    log_power[0, 10:] = -20.0
    mask = speech_mask(log_power)
    assert mask.numpy().tolist() == [[1.0] * 10 + [0.0] * 10]
    halves = np.concatenate([np.repeat(np.arange(5.0), 2), np.full(10, 4.0)])[None, :, None]
    assert float(code_change_rate(halves, mask)[0]) == pytest.approx(4 / 9)
    assert stretched_labels(np.array([1, 2]), 4).tolist() == [1, 1, 2, 2]
    assert stretched_labels(np.array([1, 2, 3, 4]), 2).tolist() == [2, 4]  # the frames at the centres


def test_rhythm_conversion_changes_the_frame_count_by_the_rate_ratio(monkeypatch):
    keras.utils.set_random_seed(0)
    model = AdaINVC(kl_weight=0.0, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    source = np.concatenate(list(SPEECH[0][:4]))[None, : 40 * 160]
    reference = SPEECH[0][4:5]
    plain = model.convert_frames(source, reference)
    assert plain.shape[1] == 40
    rhythm = AdaINVC.from_config({**model.get_config(), "rhythm_conversion": True, "rhythm_limit": 1.5})
    rhythm.set_weights(model.get_weights())
    assert rhythm.get_config()["rhythm_conversion"] and rhythm.rhythm_limit == 1.5
    # the same speaker and sentence as reference: ratio 1, the frame-by-frame conversion exactly
    np.testing.assert_allclose(rhythm.convert_frames(source, source), model.convert_frames(source, source),
                               atol=1e-5)
    rates = {}
    monkeypatch.setattr(rhythm, "speaking_rate", lambda waveforms: rates[waveforms.shape[1]])
    rates.update({source.shape[1]: tf.constant([1.0]), reference.shape[1]: tf.constant([0.8])})
    assert rhythm.convert_frames(source, reference).shape[1] == 50  # the reference speaks slower: 1.25x longer
    assert rhythm.convert(source, reference).shape == (1, 50 * 160)
    rates[reference.shape[1]] = tf.constant([4.0])  # 4x faster, clipped to 1.5
    assert rhythm.convert_frames(source, reference).shape[1] == 27
    with pytest.raises(ValueError, match="rhythm_limit"):
        AdaINVC(rhythm_limit=0.5, **TINY_VC)


def test_frame_discriminator_is_an_adversary_of_the_decoder_on_rebuilt_and_converted_frames():
    keras.utils.set_random_seed(0)
    model = AdaINVC(kl_weight=0.0, frame_adversary_weight=0.5, frame_feature_matching=2.0, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    discriminator = model.adversaries[0]
    assert isinstance(discriminator, FrameDiscriminator) and discriminator.feature_matching_weight == 2.0
    assert model.adversary_weights == [0.5]
    adversarial = {id(v) for v in model.adversary_variables}
    assert adversarial == {id(v) for v in discriminator.trainable_variables}
    assert not adversarial & {id(v) for v in model.encoder_variables}
    batch = {"waveforms": tf.constant(SPEECH[0][:4])}
    code, _, _ = model.forward(batch)
    frames, speaker, generated, content = code
    np.testing.assert_allclose(generated["rebuilt"], model.decoder(content, speaker, length=frames.shape[1]),
                               atol=1e-5)
    np.testing.assert_allclose(generated["converted"],
                               model.decoder(content, tf.roll(speaker, 1, axis=0), length=frames.shape[1]), atol=1e-5)
    # the reconstruction judge scores the rebuilt frames the model made, as if it had decoded them itself
    reused, _ = model.judges[0].judge_loss(batch, code)
    own, _ = model.judges[0].judge_loss(batch, (frames, speaker, content))
    np.testing.assert_allclose(reused, own, rtol=1e-5)
    # perfect fakes: no feature-matching term, the LSGAN losses of equal scores
    same = (frames, speaker, {"rebuilt": frames, "converted": frames}, content)
    scores = discriminator(frames)
    np.testing.assert_allclose(discriminator.encoder_loss(batch, same), np.mean((scores - 1) ** 2, axis=1), rtol=1e-5)
    losses, metrics = discriminator.adversary_loss(batch, same)
    np.testing.assert_allclose(losses, np.mean((scores - 1) ** 2 + scores ** 2, axis=1), rtol=1e-5)
    assert set(metrics) == {"frame_discriminator_real", "frame_discriminator_fake"}
    clone = AdaINVC.from_config(model.get_config())
    assert clone.frame_adversary_weight == 0.5 and clone.adversaries[0].feature_matching_weight == 2.0
    assert not AdaINVC(**TINY_VC).adversaries
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = [v.numpy().copy() for v in discriminator.trainable_variables]
    history = model.fit(SPEECH_BATCHES.take(2), epochs=1, verbose=0)
    assert {"frame_discriminator_loss", "frame_discriminator_real", "frame_l1"} <= set(history.history)
    assert any(not np.allclose(b, v.numpy()) for b, v in zip(before, discriminator.trainable_variables))
    with pytest.raises(ValueError, match="lsgan, hinge"):
        FrameDiscriminator(loss="wasserstein")


def test_dynamics_match_scores_the_log_ratio_of_cepstral_spreads_and_reaches_the_speaker_code():
    log_mel = tf.constant(rng.normal(size=[2, 40, 16]), tf.float32)
    mean = tf.reduce_mean(log_mel, axis=1, keepdims=True)
    np.testing.assert_allclose(spread_log_error(log_mel, log_mel), [0, 0], atol=1e-6)
    # twice the deviations over time: every spread (cepstra, deltas, delta-deltas) doubles, whatever the mean
    np.testing.assert_allclose(spread_log_error(mean + 1.0 + 2.0 * (log_mel - mean), log_mel), np.log(2.0), rtol=5e-3)
    keras.utils.set_random_seed(0)
    # concat conditioning: the speaker code changes the untrained decoder's output (AdaIN starts as the identity)
    model = DisentanglingAutoEncoder(dynamics_weight=0.5, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    assert isinstance(model.judges[1], DynamicsMatchJudge) and model.judge_weights == [1.0, 0.5]
    assert not model.adversaries and len(AdaINVC(**TINY_VC).judges) == 1
    batch = {"waveforms": tf.constant(SPEECH[0][:4])}
    code, _, _ = model.forward(batch)
    frames, speaker, generated, content = code
    (rebuilt, own), (converted, other) = generated["dynamics"]
    np.testing.assert_allclose(converted, model.front_end.denormalize(
        model.decoder(content, tf.roll(speaker, 1, axis=0), length=frames.shape[1])), atol=1e-4)
    np.testing.assert_allclose(other, model.front_end.denormalize(tf.roll(frames, 1, axis=0)), atol=1e-4)
    np.testing.assert_allclose(rebuilt, model.front_end.denormalize(generated["rebuilt"]), atol=1e-4)
    losses, metrics = model.judges[1].judge_loss(batch, code)
    np.testing.assert_allclose(losses, (spread_log_error(rebuilt, own) + spread_log_error(converted, other)) / 2,
                               rtol=1e-5)
    np.testing.assert_allclose(metrics["dynamics_error"], np.mean(spread_log_error(converted, other)), rtol=1e-5)
    with tf.GradientTape() as tape:  # the converted frames' pattern must come from the speaker code
        code, _, _ = model.forward(batch, training=True)
        loss = tf.reduce_mean(model.judges[1].judge_loss(batch, code)[0])
    gradients = tape.gradient(loss, model.encoder.speaker_encoder.trainable_variables)
    assert sum(float(tf.reduce_sum(tf.abs(g))) for g in gradients if g is not None) > 0
    assert DisentanglingAutoEncoder.from_config(model.get_config()).dynamics_weight == 0.5
    assert {"dynamics_loss", "dynamics_error", "frame_l1"} <= {metric.name for metric in model.metrics}
    with pytest.raises(ValueError, match="dynamics_weight"):
        AdaINVC(dynamics_weight=-1.0)
    with pytest.raises(ValueError, match="dynamics_weight"):
        DynamicsMatchJudge().judge_loss(batch, (frames, speaker, content))


def adapted_table_target(target, order=(0, 1, 2, 3)):
    """A tiny model with the dynamics `target` that reads the speakers' table, the batch of `SPEECH` items `order`
    and its training code: checks that the judge refuses to score before `adapt_speaker_dynamics`, then adapts it
    on 16 utterances. Returns `(model, judge, batch, code, log spreads of every SPEECH item)`."""
    keras.utils.set_random_seed(0)
    model = DisentanglingAutoEncoder(dynamics_weight=0.5, dynamics_target=target, dynamics_speakers=2, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    order = np.asarray(order)
    batch = {"waveforms": tf.constant(SPEECH[0][order]), "speakers": tf.constant(SPEECH[1][order])}
    code, _, _ = model.forward(batch, training=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match="adapt_speaker_dynamics"):  # no table yet
        model.judges[1].judge_loss(batch, code)
    model.adapt_speaker_dynamics(SPEECH[0][:16], SPEECH[1][:16])
    return model, model.judges[1], batch, code, log_spreads(model.front_end.log_mel(tf.constant(SPEECH[0]))).numpy()


def assert_converted_half_of_the_loss_is_against(target, judge, batch, code):
    """The judge's loss is the mean of the rebuilt frames' error and the converted frames' error against `target`."""
    (rebuilt, own), (converted, *_) = code[2]["dynamics"]
    losses, metrics = judge.judge_loss(batch, code)
    error = np.mean(np.abs(log_spreads(converted).numpy() - target), axis=1)
    np.testing.assert_allclose(losses, (spread_log_error(rebuilt, own) + error) / 2, rtol=1e-4)
    np.testing.assert_allclose(metrics["dynamics_error"], np.mean(error), rtol=1e-4)


def test_speaker_shifted_dynamics_target_keeps_the_source_sentences_deviation_in_the_targets_pattern():
    order = np.array([0, 2, 1, 3])  # speakers 0, 0, 1, 1: after the roll, items 1 and 3 keep their speaker
    model, judge, batch, code, spreads = adapted_table_target("speaker-shift", order)
    means = np.stack([spreads[:16][SPEECH[1][:16] == s].mean(axis=0) for s in (0, 1)])
    np.testing.assert_allclose(judge.speaker_log_spreads.numpy(), means, rtol=1e-4, atol=1e-5)
    _, (_, other, shift) = code[2]["dynamics"]
    np.testing.assert_allclose(shift["source"], model.front_end.log_mel(batch["waveforms"]), atol=1e-3)
    speakers, references = SPEECH[1][order], SPEECH[1][order][[3, 0, 1, 2]]
    np.testing.assert_array_equal(shift["reference_speakers"], references)
    # no warp: the source's own spreads moved by the difference of the two speakers' means
    target, source = judge.converted_target(other, shift).numpy(), spreads[order]
    np.testing.assert_allclose(target, source - means[speakers] + means[references], atol=1e-4)
    np.testing.assert_allclose(target[[1, 3]], source[[1, 3]], atol=1e-4)  # to its own speaker: its own spreads
    assert_converted_half_of_the_loss_is_against(target, judge, batch, code)
    clone = DisentanglingAutoEncoder.from_config(model.get_config())
    assert clone.dynamics_speakers == 2 and clone.judges[1].num_speakers == 2
    # bad use: batches without ids, a table without the match, ids beyond the table
    with pytest.raises(ValueError, match='"speakers" key'):
        model.forward({"waveforms": batch["waveforms"]}, training=True)
    with pytest.raises(ValueError, match="dynamics_weight > 0"):
        DisentanglingAutoEncoder(dynamics_target="speaker-shift", dynamics_speakers=2, **TINY_VC)
    with pytest.raises(ValueError, match="never reads"):
        DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_speakers=2, **TINY_VC)
    with pytest.raises(ValueError, match="num_speakers above the largest id"):
        judge.adapt(spreads[:2], [0, 2])
    with pytest.raises(ValueError, match="num_speakers > 0"):
        DynamicsMatchJudge().adapt(spreads[:2], [0, 1])


def test_speaker_share_is_the_between_speaker_share_of_each_spreads_variance():
    speakers = np.repeat(np.arange(40), 50)
    # spread k: speaker part of variance k / 37, an independent rest of variance 1 - k / 37
    truth = np.arange(38) / 37
    spreads = (np.sqrt(truth) * rng.normal(size=[40, 38])[speakers]
               + np.sqrt(1 - truth) * rng.normal(size=[2000, 38]))
    np.testing.assert_allclose(speaker_share(spreads, speakers), truth, atol=0.2)
    assert np.corrcoef(speaker_share(spreads, speakers), truth)[0, 1] > 0.95
    assert np.all(speaker_share(np.tile(rng.normal(size=[40, 38]), [1, 1])[speakers], speakers) > 0.99)
    with pytest.raises(ValueError, match="two speakers or more"):
        speaker_share(spreads[:50], speakers[:50])


def test_blended_dynamics_target_takes_speaker_spreads_from_the_reference_and_the_rest_from_the_source():
    model, judge, batch, code, spreads = adapted_table_target("blend")
    share = speaker_share(spreads[:16], SPEECH[1][:16])
    np.testing.assert_allclose(judge.speaker_share.numpy(), share, atol=1e-4)
    assert share.min() < 0.2 and share.max() > 0.8  # the two tones differ in some spreads and not in others
    _, (_, other, shift) = code[2]["dynamics"]
    source, reference = spreads[:4], spreads[[3, 0, 1, 2]]  # the batch's next utterance gave the code
    target = judge.converted_target(other, shift).numpy()
    np.testing.assert_allclose(target, share * reference + (1 - share) * source, atol=1e-4)
    assert_converted_half_of_the_loss_is_against(target, judge, batch, code)
    clone = DisentanglingAutoEncoder.from_config(model.get_config())
    assert clone.dynamics_target == "blend" and clone.judges[1].target == "blend"
    assert DynamicsMatchJudge.from_config(judge.get_config()).target == "blend"
    # a warped reference (its real crop another one) keeps its whole warp: only the real crops' difference is blended
    real = tf.roll(shift["source"], 2, axis=0)
    warped = judge.converted_target(other, {**shift, "reference_real": real})
    np.testing.assert_allclose(warped, log_spreads(other) + (1 - share) * (source - spreads[[2, 3, 0, 1]]), atol=1e-4)
    # bad values, before any work
    with pytest.raises(ValueError, match="dynamics_target must be one of"):
        DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_speakers=2, dynamics_target="mean", **TINY_VC)
    with pytest.raises(ValueError, match="dynamics_speakers > 0"):
        DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="blend", **TINY_VC)
    with pytest.raises(ValueError, match="num_speakers > 0"):
        DynamicsMatchJudge(target="blend")


def test_source_deviation_target_is_the_reference_crops_spreads_plus_the_sources_deviation_from_its_speaker():
    model, judge, batch, code, spreads = adapted_table_target("source-deviation")
    means = np.stack([spreads[:16][SPEECH[1][:16] == s].mean(axis=0) for s in (0, 1)])
    _, (_, other, shift) = code[2]["dynamics"]
    source, reference = spreads[:4], spreads[[3, 0, 1, 2]]  # the batch's next utterance gave the code
    target = judge.converted_target(other, shift).numpy()
    np.testing.assert_allclose(target, reference + source - means[SPEECH[1][:4]], atol=1e-4)
    # it follows the reference crop: another reference crop moves the target by exactly its own difference
    moved = judge.converted_target(tf.roll(other, 2, axis=0), shift).numpy()
    np.testing.assert_allclose(moved - target, spreads[[1, 2, 3, 0]] - reference, atol=1e-4)
    assert_converted_half_of_the_loss_is_against(target, judge, batch, code)
    clone = DisentanglingAutoEncoder.from_config(model.get_config())
    assert clone.dynamics_target == "source-deviation" and clone.judges[1].num_speakers == 2
    with pytest.raises(ValueError, match="dynamics_speakers > 0"):
        DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="source-deviation", **TINY_VC)


def test_source_share_doses_the_sources_deviation_from_the_reference_target_to_the_whole_deviation():
    model, judge, batch, code, spreads = adapted_table_target("source-deviation")
    _, (_, other, shift) = code[2]["dynamics"]
    whole = judge.converted_target(other, shift).numpy()
    reference = log_spreads(other).numpy()  # what the "reference" target asks for
    for share in (0.0, 0.25, 0.5, 1.0):
        judge.source_share = share
        dosed = judge.converted_target(other, shift).numpy()
        np.testing.assert_allclose(dosed, reference + share * (whole - reference), atol=1e-4)
    judge.source_share = 0.0
    np.testing.assert_allclose(judge.converted_target(other, shift), reference, atol=1e-5)  # s = 0: "reference"
    half = DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="source-deviation", dynamics_speakers=2,
                                    dynamics_source_share=0.25, **TINY_VC)
    clone = DisentanglingAutoEncoder.from_config(half.get_config())
    assert clone.dynamics_source_share == 0.25 and clone.judges[1].source_share == 0.25
    assert DynamicsMatchJudge.from_config(clone.judges[1].get_config()).source_share == 0.25
    assert DisentanglingAutoEncoder().dynamics_source_share == 1.0  # the default: session 20's whole deviation
    # refused, before any work: out of [0, 1], or a share of a target that has no source deviation
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"source_share must lie in \[0, 1\]"):
            DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_target="source-deviation", dynamics_speakers=2,
                                     dynamics_source_share=bad, **TINY_VC)
    with pytest.raises(ValueError, match="dynamics_target='source-deviation'"):
        DisentanglingAutoEncoder(dynamics_weight=1.0, dynamics_source_share=0.5, **TINY_VC)
    with pytest.raises(ValueError, match="leave source_share at 1"):
        DynamicsMatchJudge(num_speakers=2, target="speaker-shift", source_share=0.5)


def test_dynamics_target_reference_needs_no_table_and_old_configs_rebuild_with_their_targets():
    model = DisentanglingAutoEncoder(dynamics_weight=1.0, **TINY_VC)
    assert model.dynamics_target == "reference" and model.dynamics_speakers == 0
    assert model.judges[1].target == "reference" and model.judges[1].num_speakers == 0
    config = model.get_config()
    # sessions 16-19 wrote dynamics_target "speaker-shift" (or none) beside dynamics_speakers 0 for the reference
    # target, and sessions 17-18 no dynamics_target beside a table for the shifted one
    for stored, speakers, expected in [("speaker-shift", 0, "reference"), (None, 0, "reference"),
                                       (None, 2, "speaker-shift"), ("blend", 2, "blend")]:
        old = {key: value for key, value in config.items() if key != "dynamics_target"}
        old.update({"dynamics_speakers": speakers, **({"dynamics_target": stored} if stored else {})})
        clone = DisentanglingAutoEncoder.from_config(old)
        assert (clone.dynamics_target, clone.dynamics_speakers) == (expected, speakers)
    assert DynamicsMatchJudge.from_config({"num_speakers": 0, "target": "speaker-shift"}).target == "reference"
    with pytest.raises(ValueError, match="never reads"):
        DynamicsMatchJudge(num_speakers=2, target="reference")
    with pytest.raises(ValueError, match="dynamics_weight > 0"):
        DisentanglingAutoEncoder(dynamics_target="blend", dynamics_speakers=2, **TINY_VC)


def test_spread_components_split_speaker_and_sentence_and_score_the_dynamics_targets_errors_and_biases():
    speakers, sentences = np.repeat(np.arange(4), 6), np.tile(np.arange(6), 4)
    speaker_part, sentence_part = rng.normal(size=[4, 38]), 0.3 * rng.normal(size=[6, 38])
    additive = 1.0 + speaker_part[speakers] + sentence_part[sentences]
    parts = spread_components(additive, speakers, sentences, pairs=2000)
    assert parts["residual_std"] < 1e-9 and parts["shifted_target_error"] < 1e-9  # nothing but speaker and sentence
    # session 16's target (another sentence's spreads) is off by exactly the two sentences' difference
    centred = sentence_part - sentence_part.mean(axis=0)
    expected = np.mean(np.abs(centred[:, None] - centred[None]).sum(axis=(0, 1)) / (6 * 5))
    np.testing.assert_allclose(parts["reference_target_error"], expected, rtol=0.1)
    noisy = additive + 0.5 * rng.normal(size=additive.shape)
    assert spread_components(noisy, speakers, sentences)["shifted_target_error"] > 0.2
    # the reference crop's sentence is noise around the right mean for the source-deviation target; the blend
    # misses (1 - w) of the speaker difference for every pair
    assert parts["source_deviation_pair_bias"] < 0.05 < parts["source_deviation_target_error"]
    assert parts["blend_pair_bias"] > 0.01 and parts["shifted_pair_bias"] < 1e-9


def test_rescore_splits_each_conditions_shares_into_the_runs_own_pairs_and_the_new_ones():
    rows = [("a", "b", True)] * 3 + [("a", "b", False)] + [("a", "c", False)] * 2 + [("a", "c", True)] * 2
    shares = split_shares(rows, {"seen targets": 4, "unseen targets": 4}, prefix=2)
    assert shares["seen targets"]["target_share_first"] == 1.0 and shares["seen targets"]["target_share_rest"] == 0.5
    assert shares["unseen targets"]["target_share_first"] == 0.0 and shares["unseen targets"]["target_share_rest"] == 1
    assert shares["unseen targets"]["target_share_se"] == pytest.approx(0.25)  # sqrt(0.5 * 0.5 / 4)
    assert split_shares(rows[:2], {"seen targets": 2}, prefix=2)["seen targets"]["target_share_rest"] is None


def test_engine_target_diagnosis_names_whom_a_conversion_is_heard_as_and_whose_dynamics_it_has():
    heard = heard_as(["t", "s", "m1", "u2", "e2"], ["s"] * 5, ["t"] * 5, {"s", "m1"}, {"u1", "u2"}, {"t", "e2"})
    assert heard == {"target": 0.2, "source": 0.2, "seen voice": 0.2, "other unseen": 0.2, "other engine voice": 0.2}
    # a decoder whose output keeps a trained voice's dynamics whatever the reference: near that voice, far from truth
    mel = {0: 5.0 + rng.normal(size=(60, 80)), 1: 5.0 + 3.0 * rng.normal(size=(60, 80))}  # source / target voice
    corpus = types.SimpleNamespace(waveforms=[np.zeros(9), np.ones(9), np.ones(9)], speakers=np.array([0, 1, 1]))
    front_end = types.SimpleNamespace(  # the waveform's first sample says whose frames it has
        log_mel=lambda w: tf.where(w[0, 0] > 0.5, tf.constant(mel[1], "float32"), tf.constant(mel[0], "float32"))[None],
        denormalize=lambda frames: frames)
    snapping = types.SimpleNamespace(front_end=front_end, convert_frames=lambda s, r: tf.constant(mel[0][None]))
    means = {0: np.asarray(log_spreads(mel[0][None]))[0]}
    target_mean = {1: np.asarray(log_spreads(mel[1][None]))[0]}
    spreads = lambda w: np.asarray(log_spreads(front_end.log_mel(np.asarray(w, "float32")[None])))[0]  # noqa: E731
    row = dynamics_rows(snapping, corpus, corpus, [(0, 1, 2), (0, 2, None)], means, target_mean, spreads)
    assert row["nearest_seen"] == pytest.approx(0.0, abs=1e-6) and row["truth"] > 0.5
    assert row["nearer_seen_than_truth"] == 1.0 and row["truth"] == pytest.approx(row["source_to_truth"])
    assert row["source"] == pytest.approx(0.0, abs=1e-6)  # the source's own dynamics
    following = types.SimpleNamespace(front_end=front_end, convert_frames=lambda s, r: tf.constant(mel[1][None]))
    row = dynamics_rows(following, corpus, corpus, [(0, 1, 2)], means, target_mean, spreads)
    assert row["truth"] == pytest.approx(0.0, abs=1e-6) and row["shifted"] == pytest.approx(0.0, abs=1e-6)
    assert row["nearer_seen_than_truth"] == 0.0 and row["source"] == pytest.approx(row["source_to_truth"])
    seen_codes = {0: np.array([[0.0, 1.0], [0.0, -1.0]]), 1: np.array([[10.0, 1.0], [10.0, -1.0]])}  # spread 1
    codes = code_rows(seen_codes, {5: np.array([4.0, 0.0])}, [np.array([4.5, 0.0]), np.array([9.0, 0.0])], [5, 5])
    assert codes == {"seen_to_nearest_seen": 10.0, "target_to_nearest_seen": 4.0, "converted_code_at_target": 0.5}


def test_speaker_reference_other_rebuilds_each_utterance_with_another_utterances_speaker_code():
    keras.utils.set_random_seed(0)
    # concat conditioning: the speaker code changes the untrained decoder's output (AdaIN starts as the identity)
    model = DisentanglingAutoEncoder(speaker_reference="other", **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    waveforms, reference = tf.constant(SPEECH[0][:4]), tf.constant(SPEECH[0][4:8])
    batch = {"waveforms": waveforms, "speakers": tf.constant(SPEECH[1][:4]), "reference": reference}
    frames, speaker, content = model.forward(batch, training=True)[0]
    np.testing.assert_allclose(speaker, model.encoder.encode_speaker(reference, training=True), atol=1e-5)
    own_speaker = model.encoder.encode_speaker(waveforms, training=True)
    assert not np.allclose(speaker, own_speaker, atol=1e-3)
    np.testing.assert_allclose(content, model.encode(waveforms), atol=1e-5)
    # the reconstruction loss rebuilds the utterance's own frames from the reference's speaker code
    per_judge, _, _ = model.judge_losses(batch, training=True)
    expected, _ = model.judges[0].judge_loss(batch, (frames, model.encoder.encode_speaker(reference), content))
    own, _ = model.judges[0].judge_loss(batch, (frames, own_speaker, content))
    np.testing.assert_allclose(per_judge[0], expected, rtol=1e-5)
    assert not np.allclose(per_judge[0], own, rtol=1e-3)
    with pytest.raises(ValueError, match='"reference" key'):
        model.forward({"waveforms": waveforms}, training=True)
    np.testing.assert_allclose(model.forward({"waveforms": waveforms})[0][1], own_speaker, atol=1e-5)
    # the default ignores a reference; the option survives the config and is refused when unknown
    default = AdaINVC(**TINY_VC)
    default.adapt(list(SPEECH[0][:8]))
    np.testing.assert_allclose(default.forward(batch)[0][1], default.encode_speaker(waveforms), atol=1e-5)
    assert DisentanglingAutoEncoder.from_config(model.get_config()).speaker_reference == "other"
    assert AdaINVC.from_config(AdaINVC(speaker_reference="other", **TINY_VC).get_config()).speaker_reference == "other"
    assert constructor_default(DisentanglingAutoEncoder, "speaker_reference") == "own"
    with pytest.raises(ValueError, match="speaker_reference must be one of"):
        AdaINVC(speaker_reference="same", **TINY_VC)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    assert np.isfinite(history.history["frame_l1"][0])


def test_cue_benchmark_takes_the_pitch_references_from_real_speech_not_the_resynthesis():
    # real sources at 200 / 220 Hz, real targets at 100 / 120 Hz; the "vocoder" doubles the pitch of what it
    # resynthesises (a tracker misreading the resynthesis, as on eSpeak's m5), the "model" converts pitch perfectly
    frequencies = [200.0, 220.0, 100.0, 120.0]
    waveforms = [_tone(0.6, f) for f in frequencies]
    frequency = {id(w): f for w, f in zip(waveforms, frequencies)}
    corpus = types.SimpleNamespace(waveforms=waveforms, speakers=np.array([0, 1, 2, 3]),
                                   speaker_names=["s0", "s1", "t0", "t1"])
    pairs = [(0, 2, 2), (1, 3, 3), (0, 3, 3), (1, 2, 2)]
    judge = types.SimpleNamespace(classifier=types.SimpleNamespace(predict=lambda x: np.array(["t0"] * len(x))))
    row = condition_rows(lambda source, reference: _tone(0.6, frequency[id(reference)]),
                         lambda waveform: _tone(0.6, 2 * frequency[id(waveform)]), corpus, pairs, judge)
    assert row["f0_error_semitones"] < 0.5 and row["f0_nearer_target"] == 1.0
    assert 95 < row["f0_target"] < 125 and row["f0_source_error_semitones"] > 9
    np.testing.assert_allclose(row["f0_resynthesis_error_semitones"], 12.0, atol=0.5)  # the tracker's floor: an octave



def test_cue_benchmark_chain_tells_a_decoder_that_writes_the_target_from_a_vocoder_that_loses_it():
    corpus = _voiced_speech_corpus()
    front_end = LogMelSpectrogram(num_mel_bins=80)
    front_end.adapt(corpus.waveforms)
    # a decoder that writes the reference's frames (the target's voice), a vocoder that always says speaker a
    model = types.SimpleNamespace(front_end=front_end, convert_frames=lambda source, reference: front_end(reference),
                                  vocoder=lambda frames: tf.constant(corpus.waveforms[0][None]),
                                  resynthesize=lambda waveforms: 0.9 * waveforms)
    pairs = {"unseen": conversion_pairs(corpus, corpus, [3], count=6, seed=0)}
    # conversions given the target's timing: here the source's voice, at the target's length
    timed = lambda source, reference, frames: np.asarray(front_end(source[None]))[0, :frames]  # noqa: E731
    rows, spreads = chain_rows(model, corpus, corpus, pairs, seed=0, timed=timed)
    for view in ("log-mel", "cepstra c0-c12 + deltas", "log-mel, fitted as the recipe's (few)"):
        assert rows[view]["real_unseen"] == 1.0 and rows[view]["truth_unseen"] == 1.0
        assert rows[view]["timed_unseen"] == 0.0
        assert rows[view]["decoded_unseen"] == 1.0 and rows[view]["vocoded_unseen"] == 0.0
    mfcc_row = rows["MFCC judge (waveform)"]
    assert mfcc_row["vocoded_unseen"] == 0.0 and "decoded_unseen" not in mfcc_row  # the judge hears waveforms only
    # the reference says another sentence, louder or softer: the same spread over time as the target's own
    np.testing.assert_allclose(spreads["decoded, unseen"]["c1-c12 std"], 1.0, atol=0.05)
    with pytest.raises(SystemExit):
        cues_main(["--model", "export", "--chain"])  # an export gives no decoder frames

ATTENTION_VC = dict(TINY_VC, speaker_reference="other", reference_attention=True)  # the measured setting


def test_reference_attention_takes_any_reference_length_and_ignores_masked_frames():
    attention = ReferenceAttention(8, heads=2, filters=4, blocks=2, kernel_size=3)
    queries = rng.normal(size=(2, 5, 8)).astype("float32")
    reference = rng.normal(size=(2, 9, 6)).astype("float32")
    assert attention(queries, reference).shape == (2, 5, 8)
    assert attention(queries, reference[:, :3]).shape == (2, 5, 8)  # any reference length, no position encoding
    padded = np.concatenate([reference, 50 * np.ones([2, 4, 6], "float32")], axis=1)
    np.testing.assert_allclose(attention(queries, padded, reference_mask=tf.sequence_mask([9, 9], 13)),
                               attention(queries, reference), atol=1e-5)
    assert not np.allclose(attention(queries, padded), attention(queries, reference), atol=1e-3)
    clone = ReferenceAttention.from_config(attention.get_config())
    assert (clone.heads, clone.filters, clone.blocks, clone.kernel_size) == (2, 4, 2, 3)
    with pytest.raises(ValueError, match="multiple of heads"):
        ReferenceAttention(8, heads=3)


def test_reference_attention_conditions_the_decoder_on_the_reference_frames_in_training_and_conversion():
    keras.utils.set_random_seed(0)
    model = AdaINVC(**ATTENTION_VC)
    model.adapt(list(SPEECH[0][:8]))
    waveforms, reference = tf.constant(SPEECH[0][:4]), tf.constant(SPEECH[0][4:8, :1200])  # a shorter reference
    batch = {"waveforms": waveforms, "speakers": tf.constant(SPEECH[1][:4]), "reference": reference}
    (frames, speaker, generated, content), _, _ = model.forward(batch, training=True)
    reference_frames = model.front_end(reference)
    np.testing.assert_allclose(speaker, model.encoder.speaker_encoder(reference_frames), atol=1e-5)
    np.testing.assert_allclose(generated["rebuilt"], model.decoder(content, speaker, length=frames.shape[1],
                                                                   reference=reference_frames), atol=1e-5)
    # the reference's frames matter beyond its speaker code: other frames, same speaker code, other output
    assert not np.allclose(generated["rebuilt"], model.decoder(content, speaker, length=frames.shape[1],
                                                               reference=model.front_end(waveforms)), atol=1e-4)
    with pytest.raises(ValueError, match="needs the reference utterance's frames"):
        model.decoder(content, speaker)
    # with a frame adversary, the "converted" frames take the next utterance's speaker code and reference frames
    judged = AdaINVC(frame_adversary_weight=0.1, **ATTENTION_VC)
    judged.adapt(list(SPEECH[0][:8]))
    (_, speaker, generated, content), _, _ = judged.forward(batch, training=True)
    np.testing.assert_allclose(generated["converted"], judged.decoder(
        content, tf.roll(speaker, 1, axis=0), length=frames.shape[1],
        reference=tf.roll(judged.front_end(reference), 1, axis=0)), atol=1e-5)
    # convert: any reference length, the source's frame count, and the frames that training decodes with
    source = SPEECH[0][:1]
    for samples in (800, 1600, 2400):
        other = np.tile(SPEECH[0][5:6], (1, 2))[:, :samples]
        converted = model.convert_frames(source, other)
        assert converted.shape == (1, 10, 16)
        expected = model.decoder(model.encode(source), model.encode_speaker(other), length=10,
                                 reference=model.front_end(other))
        np.testing.assert_allclose(converted, expected, atol=1e-5)
    assert model.convert(source, SPEECH[0][5:6, :800]).shape == (1, 1600)
    # config, the off default, and the rule that the reference is another utterance
    clone = AdaINVC.from_config(model.get_config())
    assert clone.reference_attention and clone.decoder.attention is not None and clone.attention_heads == 4
    assert constructor_default(DisentanglingAutoEncoder, "reference_attention") is False
    assert AdaINVC(**TINY_VC).decoder.attention is None
    # with the default speaker code, the attention still takes the reference's frames (required in training)
    own_code = AdaINVC(reference_attention=True, **TINY_VC)
    own_code.adapt(list(SPEECH[0][:8]))
    (_, own_speaker, own_generated, _), _, _ = own_code.forward(batch, training=True)
    np.testing.assert_allclose(own_speaker, own_code.encoder.encode_speaker(waveforms), atol=1e-5)
    np.testing.assert_allclose(own_generated["rebuilt"], own_code.decoder(
        own_code.encode(waveforms), own_speaker, length=frames.shape[1], reference=own_code.front_end(reference)),
        atol=1e-5)
    with pytest.raises(ValueError, match='"reference" key'):
        own_code.forward({"waveforms": waveforms}, training=True)
    # training moves the attention's weights and the frame loss falls
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [v.numpy().copy() for v in model.decoder.attention.trainable_variables]
    history = model.fit(tf.data.Dataset.from_tensors(batch).repeat(8), epochs=2, verbose=0).history["frame_l1"]
    assert history[-1] < history[0]
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, model.decoder.attention.trainable_variables))


def test_reference_attention_steps_on_two_replicas_like_one_device():
    batch = {"waveforms": SPEECH[0][:8], "speakers": SPEECH[1][:8], "reference": SPEECH[0][8:16, :1200]}

    def make():
        keras.utils.set_random_seed(0)
        model = AdaINVC(**ATTENTION_VC)
        model.adapt(list(SPEECH[0][:8]))
        return model

    assert_two_replicas_step_like_one(make, batch, learning_rate=0.1)


@pytest.mark.slow  # an export and a fresh TensorFlow process
def test_reference_attention_export_converts_with_references_of_any_length(tmp_path):
    keras.utils.set_random_seed(0)
    model = AdaINVC(**ATTENTION_VC)
    model.adapt(list(SPEECH[0][:8]))
    folder = export_model(model, tmp_path / "export")
    source = SPEECH[0][:1]
    references = {"short": SPEECH[0][1:2, :640], "long": np.tile(SPEECH[0][3:4], (1, 3))}
    outputs, _ = reload_and_call_many(folder, {name: ("convert", [source, reference])
                                               for name, reference in references.items()})
    for name, reference in references.items():
        assert outputs[name][0].shape == (1, 1600)
        np.testing.assert_allclose(outputs[name][0], model.convert(source, reference), atol=1e-5)
    assert not np.allclose(outputs["short"][0], outputs["long"][0], atol=1e-4)


def test_speaker_augmentation_warps_utterance_and_reference_alike_in_training_only():
    keras.utils.set_random_seed(0)
    model = AdaINVC(speaker_augmentation=True, warp_range=(0.8, 1.2), speaker_reference="other", **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    waveforms, reference = tf.constant(SPEECH[0][:4]), tf.constant(SPEECH[0][4:8])
    batch = {"waveforms": waveforms, "speakers": tf.constant(SPEECH[1][:4]), "reference": reference}
    alphas = tf.constant([1.2, 0.8, 1.0, 1.1])
    model.speaker_warp.draw = lambda batch_size: alphas  # a known draw

    def warped(audio):
        log_mel = model.front_end.log_mel(audio)
        return model.front_end.standardize(model.speaker_warp.warp(log_mel, alphas))

    frames, speaker, generated, content = model.forward(batch, training=True)[0]
    real = model.front_end(waveforms)
    np.testing.assert_allclose(frames, warped(waveforms), atol=1e-5)  # the target is the warped utterance
    np.testing.assert_allclose(frames[2], real[2], atol=1e-3)  # alpha 1: the real frames
    assert np.abs(np.asarray(frames[0] - real[0])).max() > 0.1
    np.testing.assert_allclose(content, model.encoder.content_encoder(warped(waveforms)), atol=1e-5)
    np.testing.assert_allclose(speaker, model.encoder.speaker_encoder(warped(reference)), atol=1e-5)  # same warp
    np.testing.assert_allclose(generated["vocoder_frames"], real, atol=1e-5)
    # the post-net keeps learning the real frames' spectrum
    _, metrics = model.judges[0].judge_loss(batch, (frames, speaker, generated, content))
    np.testing.assert_allclose(metrics["postnet_l1"], tf.reduce_mean(model.vocoder.postnet_loss(real, waveforms)),
                               rtol=1e-5)
    # outside training nothing is warped
    frames, speaker, _ = model.forward({"waveforms": waveforms})[0]
    np.testing.assert_allclose(frames, real, atol=1e-6)
    np.testing.assert_allclose(model.encode(waveforms), model.encoder.content_encoder(real), atol=1e-5)
    clone = AdaINVC.from_config(model.get_config())
    assert clone.speaker_augmentation and clone.warp_range == (0.8, 1.2)
    assert not constructor_default(DisentanglingAutoEncoder, "speaker_augmentation")
    assert AdaINVC(**TINY_VC).speaker_warp is None


def test_speaker_augmentation_trains_with_a_new_draw_per_step():
    keras.utils.set_random_seed(0)
    model = AdaINVC(speaker_augmentation=True, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    batch = {"waveforms": tf.constant(SPEECH[0][:4]), "speakers": tf.constant(SPEECH[1][:4])}
    first, second = (np.asarray(model.forward(batch, training=True)[0][0]) for _ in range(2))
    assert np.abs(first - second).max() > 1e-3
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(tf.data.Dataset.from_tensors(batch).repeat(8), epochs=3, verbose=0).history
    assert history["frame_l1"][-1] < history["frame_l1"][0]


def test_recipe_refuses_a_bad_warp_range_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="warp range"):
        voice_conversion.main(["--quick", "--speaker-augmentation", "--warp-range", "1.2", "0.9",
                               "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_content_consistency_reencodes_converted_frames_and_trains_the_decoder_only():
    keras.utils.set_random_seed(0)
    model = AdaINVC(content_consistency_weight=0.5, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    assert isinstance(model.judges[1], ContentConsistencyJudge) and model.judge_weights == [1.0, 0.5]
    batch = {"waveforms": tf.constant(SPEECH[0][:4])}
    code, _, _ = model.forward(batch)
    frames, speaker, generated, content = code
    reencoded, source = generated["content_consistency"]
    converted = model.decoder(content, tf.roll(speaker, 1, axis=0), length=frames.shape[1])
    np.testing.assert_allclose(reencoded, model.encoder.content_encoder(converted), atol=1e-5)
    np.testing.assert_allclose(source, content)
    losses, metrics = model.judges[1].judge_loss(batch, code)
    def standardized(x):
        return (x - np.mean(x, axis=1, keepdims=True)) / np.sqrt(np.var(x, axis=1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(losses, np.mean(np.abs(standardized(reencoded) - standardized(content)), axis=(1, 2)),
                               rtol=1e-4)
    np.testing.assert_allclose(metrics["content_consistency_error"], np.mean(losses), rtol=1e-5)
    # the pattern in time counts, not the utterance's means and scales
    rescaled = (frames, speaker, {"content_consistency": (3.0 * content + 1.0, content)}, content)
    np.testing.assert_allclose(model.judges[1].judge_loss(batch, rescaled)[0], 0.0, atol=1e-3)
    reversed_in_time = (frames, speaker, {"content_consistency": (content[:, ::-1], content)}, content)
    assert np.all(model.judges[1].judge_loss(batch, reversed_in_time)[0] > 0.1)
    with tf.GradientTape() as tape:  # the decoder learns to keep the content; the codes it converts are held fixed
        code, _, _ = model.forward(batch, training=True)
        loss = tf.reduce_mean(model.judges[1].judge_loss(batch, code)[0])
    encoders = model.encoder.content_encoder.trainable_variables + model.encoder.speaker_encoder.trainable_variables
    gradients = tape.gradient(loss, model.decoder.trainable_variables + encoders)
    assert sum(float(tf.reduce_sum(tf.abs(g))) for g in gradients[:-len(encoders)] if g is not None) > 0
    assert all(g is None for g in gradients[-len(encoders):])
    decoded = tf.Variable(converted)
    with tf.GradientTape() as tape:  # the second encoding passes gradient to the frames, none to its own weights
        again = tf.reduce_sum(model._reencoded(decoded, training=True))
    encoder = model.encoder.content_encoder.trainable_variables
    gradients = tape.gradient(again, [decoded, *encoder])
    assert np.any(gradients[0]) and all(g is None for g in gradients[1:])
    assert AdaINVC.from_config(model.get_config()).content_consistency_weight == 0.5
    assert len(AdaINVC(**TINY_VC).judges) == 1 and AdaINVC(**TINY_VC).content_consistency_weight == 0.0
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(SPEECH_BATCHES.take(2), epochs=1, verbose=0)
    assert {"content_consistency_loss", "content_consistency_error", "frame_l1"} <= set(history.history)
    with pytest.raises(ValueError, match="content_consistency_weight"):
        AdaINVC(content_consistency_weight=-1.0)
    with pytest.raises(ValueError, match="content_consistency_weight"):
        ContentConsistencyJudge().judge_loss(batch, (frames, speaker, content))


def test_content_consistency_steps_on_two_replicas_like_one_device():
    # both halves alike, so each replica's roll pairs the utterances as the whole batch's roll does
    batch = {"waveforms": np.concatenate([SPEECH[0][:4]] * 2), "speakers": np.concatenate([SPEECH[1][:4]] * 2)}

    def make():
        keras.utils.set_random_seed(0)
        model = AdaINVC(content_consistency_weight=1.0, **TINY_VC)
        model.adapt(list(SPEECH[0][:8]))
        return model

    assert_two_replicas_step_like_one(make, batch, learning_rate=0.1)
