import dataclasses
import os
import types
import wave

import numpy as np
import pytest

from keras_ae.data import speech
from keras_ae.data.speech import corpus as speech_corpus
from keras_ae.data.speech import (
    HELD_OUT_SPLITS,
    AudioError,
    Speaker,
    corpus_speakers,
    default_speakers,
    frame_labels,
    load_audio,
    load_audio_corpus,
    load_speech_corpus,
    make_crop_dataset,
    synthesize,
    variant_family,
)
from keras_ae.data.varied_speech import wide_espeak_speakers

SPEAKERS = [Speaker("en-us", "m1", 40, 170), Speaker("en-gb-scotland", "f3", 70, 160), Speaker("en-029", "m3")]
SENTENCES = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
             "It is easy to tell the depth of a well.", "Rice is often served in round bowls."]


def _tiny_corpus(root, **kwargs):
    return load_speech_corpus(speakers=SPEAKERS, sentences=SENTENCES, held_out_speakers=1, validation_sentences=1,
                              test_sentences=1, root=root, progress=False, **kwargs)


def _write_wav(path, samples, rate=16000):
    samples = np.asarray(samples)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as file:
        file.setnchannels(channels)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes())


def _tone(seconds, rate=16000, frequency=220.0):
    return 0.3 * np.sin(2 * np.pi * frequency * np.arange(int(seconds * rate)) / rate)


def test_synthesize_gives_16khz_speech_with_phone_segments():
    waveform, segments = synthesize("The quick brown fox.", Speaker("en-us", "f2"))
    assert waveform.dtype == np.float32 and 0.5 < len(waveform) / 16000 < 3
    assert 0.05 < np.abs(waveform).max() <= 1.0
    names = [name for _, _, name in segments]
    assert {"k", "w", "b", "r", "f", "s"} <= set(names) and names[0] == "sil"
    assert all(start < end for start, end, _ in segments)
    assert segments[-1][1] == len(waveform)
    index = {name: i for i, name in enumerate(["sil"] + sorted(set(names) - {"sil"}))}
    labels = frame_labels(segments, len(waveform), index)
    assert len(labels) == len(waveform) // 160 and len(set(labels.tolist())) > 8


def test_corpus_is_parallel_labelled_split_and_cached(tmp_path, monkeypatch):
    corpus = _tiny_corpus(tmp_path)
    assert len(corpus) == len(SPEAKERS) * len(SENTENCES)
    assert corpus.speaker_names == [s.name for s in SPEAKERS]
    for speaker in range(len(SPEAKERS)):  # parallel: every speaker says every sentence
        assert sorted(corpus.sentences[corpus.speakers == speaker]) == list(range(len(SENTENCES)))
    for waveform, phones, path in zip(corpus.waveforms, corpus.phones, corpus.paths):
        assert waveform.dtype == np.float32 and len(phones) == len(waveform) // 160 and os.path.isfile(path)
    assert corpus.phone_names[0] == "sil" and corpus.num_phones > 15
    assert sorted(set(corpus.sentence_split)) == ["test", "train", "validation"]
    assert (corpus.speaker_split == "test").sum() == len(SENTENCES)
    probe_test = corpus.select(sentences="test", speakers="train")
    assert len(probe_test) == 2 and set(probe_test.speakers) == {0, 1}
    # The same sentence by two speakers: different audio, same words.
    first = corpus.select(sentences="train", speakers="train")
    assert len(first) == 4
    # Reused: a second call reads the manifest and does not synthesize again.
    monkeypatch.setattr(speech_corpus, "_build_corpus", lambda *a, **k: pytest.fail("corpus rebuilt"))
    again = _tiny_corpus(tmp_path)
    np.testing.assert_array_equal(again.waveforms[3], corpus.waveforms[3])
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(corpus.root)]


def test_variant_split_holds_out_voices_of_variants_no_seen_speaker_uses():
    legacy = corpus_speakers(16, 4, "legacy")
    assert legacy == default_speakers(16)  # every corpus before session 12
    assert [s.name for s in legacy[12:]] == ["en-029+f5 p75 r165", "en-us-nyc+klatt p30 r150",
                                            "en-gb-x-gbclan+f1 p45 r195", "en-gb-x-gbcwmd+m2 p60 r180"]
    assert {s.variant for s in legacy[12:]} <= {s.variant for s in legacy[:12]}  # the legacy split's twins
    for count, held_out in ((16, 4), (16, 2), (12, 3), (4, 1)):
        speakers = corpus_speakers(count, held_out, "variant")
        seen, unseen = speakers[:count - held_out], speakers[count - held_out:]
        assert seen == default_speakers(count)[:count - held_out]  # the same training voices
        assert len(set(speakers)) == count and len({s.variant for s in unseen}) == held_out
        assert not {variant_family(s.variant) for s in unseen} & {variant_family(s.variant) for s in seen}
        for new, old in zip(unseen, default_speakers(count)[count - held_out:]):
            assert (new.accent, new.pitch, new.rate) == (old.accent, old.pitch, old.rate)
    assert [s.variant for s in corpus_speakers(16, 4, "variant")[12:]] == ["m3", "f3", "m5", "m6"]
    assert variant_family("klatt2") == variant_family("klatt") != variant_family("m3")
    assert corpus_speakers(16, 0, "variant") == default_speakers(16)
    with pytest.raises(ValueError, match="variant"):
        corpus_speakers(16, 8, "variant")  # 8 seen speakers leave too few unused variants
    with pytest.raises(ValueError, match="legacy, variant"):
        corpus_speakers(16, 4, "twins")
    assert HELD_OUT_SPLITS == ("legacy", "variant")
    # extra training voices (--extra-speakers) under the variant split share no held-out variant at any accent
    unseen = corpus_speakers(16, 4, "variant")[12:]
    families = {variant_family(s.variant) for s in unseen}
    old_rule = wide_espeak_speakers(32, seed=1, exclude=unseen)
    assert {variant_family(s.variant) for s in old_rule} & families  # e.g. m3 at another accent
    strict = wide_espeak_speakers(32, seed=1, exclude=unseen, exclude_families=True)
    assert len(set(strict)) == 32 and not {variant_family(s.variant) for s in strict} & families


def test_variant_split_corpus_keeps_the_seen_speakers_and_the_sentence_split(tmp_path):
    options = dict(num_speakers=4, num_sentences=3, held_out_speakers=1, validation_sentences=0, test_sentences=1,
                   root=tmp_path, progress=False)
    legacy = load_speech_corpus(held_out_split="legacy", **options)
    variant = load_speech_corpus(held_out_split="variant", **options)
    assert legacy.speaker_names[:3] == variant.speaker_names[:3]
    assert variant.speaker_names[3] == corpus_speakers(4, 1, "variant")[3].name != legacy.speaker_names[3]
    np.testing.assert_array_equal(legacy.speaker_split, variant.speaker_split)
    np.testing.assert_array_equal(legacy.sentence_split, variant.sentence_split)
    assert len({os.path.basename(c.root) for c in (legacy, variant)}) == 2  # two caches, one per split


def test_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = []

    def failing(text, speaker):
        calls.append(text)
        if len(calls) > 2:
            raise RuntimeError("synthesizer crashed")
        return np.zeros([16000], np.float32), [(0, 16000, "sil")]

    monkeypatch.setattr(speech_corpus, "synthesize", failing)
    with pytest.raises(RuntimeError, match="crashed"):
        _tiny_corpus(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_crop_dataset_shapes_labels_and_short_clips(tmp_path):
    corpus = _tiny_corpus(tmp_path).select(speakers="train")
    crop = 8000
    dataset = make_crop_dataset(corpus, crop_samples=crop, batch_size=4, seed=1)
    batches = list(dataset)
    assert len(batches) == len(corpus) // 4
    crops, speakers = batches[0]
    assert crops.shape == (4, crop) and crops.dtype.name == "float32" and set(speakers.numpy()) <= {0, 1}
    # Every crop is a contiguous piece of its utterance.
    flat = [w for w in corpus.waveforms]
    row = crops.numpy()[0]
    assert any(_contains(w, row) for w in flat)
    # Evaluation pipelines: offset 0, all utterances, no drop.
    fixed = list(make_crop_dataset(corpus, crop, batch_size=3, shuffle=False))
    np.testing.assert_allclose(fixed[0][0].numpy()[0], corpus.waveforms[0][:crop])
    # A clip shorter than one crop: a clear error naming the file, or a counted skip.
    longest = max(len(w) for w in corpus.waveforms)
    with pytest.raises(AudioError, match=r"s000/u000\d\.wav: .* shorter than one crop"):
        make_crop_dataset(corpus, crop_samples=longest - 1, batch_size=1)
    skipping = make_crop_dataset(corpus, crop_samples=longest - 1, batch_size=1, skip_short=True)
    assert skipping.skipped_short == len(corpus) - 1 and len(list(skipping)) == 1
    with pytest.raises(ValueError, match="None of the .* utterances is as long as one crop"):
        make_crop_dataset(corpus, crop_samples=longest + 1, batch_size=1, shuffle=False, skip_short=True)


def _contains(waveform, piece):
    start = np.flatnonzero(np.isclose(waveform, piece[0]))
    return any(np.allclose(waveform[s : s + len(piece)], piece) for s in start if s + len(piece) <= len(waveform))


def test_load_audio_decodes_resamples_and_mixes_down(tmp_path):
    _write_wav(tmp_path / "stereo.wav", np.stack([_tone(0.5, 22050), _tone(0.5, 22050)], axis=1), rate=22050)
    waveform = load_audio(tmp_path / "stereo.wav")
    assert waveform.dtype == np.float32 and waveform.ndim == 1
    assert abs(len(waveform) - 8000) <= 2 and 0.25 < np.abs(waveform).max() < 0.35


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("empty.wav", lambda p: p.write_bytes(b""), "empty"),
        ("corrupt.wav", lambda p: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEgarbage"), "cannot decode"),
        ("silent.wav", lambda p: _write_wav(p, np.zeros(16000)), "silent"),
        ("surround.wav", lambda p: _write_wav(p, np.stack([_tone(0.2)] * 3, axis=1)), "3 channels"),
        ("lowrate.wav", lambda p: _write_wav(p, _tone(0.5, 4000), rate=4000), "4000 Hz"),
        ("missing.wav", lambda p: None, "no such audio file"),
    ],
)
def test_bad_audio_raises_an_error_naming_the_file(tmp_path, name, make, message):
    make(tmp_path / name)
    with pytest.raises(AudioError, match=message) as error:
        load_audio(tmp_path / name)
    assert name in str(error.value)


def test_audio_folder_and_manifest(tmp_path):
    for speaker, frequency in (("alice", 200.0), ("bob", 300.0)):
        (tmp_path / "audio" / speaker).mkdir(parents=True)
        for index in range(3):
            _write_wav(tmp_path / "audio" / speaker / f"{index}.wav", _tone(0.6, 16000, frequency + 10 * index))
    corpus = load_audio_corpus(tmp_path / "audio", progress=False)
    assert len(corpus) == 6 and corpus.speaker_names == ["alice", "bob"] and corpus.phones is None
    assert sorted(corpus.speakers.tolist()) == [0, 0, 0, 1, 1, 1]

    _write_wav(tmp_path / "audio" / "short.wav", _tone(0.1))
    (tmp_path / "audio" / "broken.wav").write_bytes(b"")
    manifest = tmp_path / "audio" / "manifest.csv"
    manifest.write_text("path,speaker,text\nalice/0.wav,alice,hello\nbob/1.wav,bob,world\nshort.wav,carol,hi\n"
                        "broken.wav,dave,oops\nnowhere.wav,erin,gone\n")
    with pytest.raises(AudioError, match="nowhere.wav: no such audio file.*manifest.csv"):
        load_audio_corpus(manifest, progress=False)
    with pytest.raises(AudioError, match="broken.wav"):
        load_audio_corpus(tmp_path / "audio", progress=False)
    kept = load_audio_corpus(manifest, skip_bad=True, min_seconds=0.5, progress=False)
    assert kept.speaker_names == ["alice", "bob"] and kept.texts == ["hello", "world"]
    assert sorted(os.path.basename(path) for path, _ in kept.skipped) == ["broken.wav", "nowhere.wav", "short.wav"]
    assert any("shorter than" in reason for _, reason in kept.skipped)


def test_streaming_crops_from_files(tmp_path):
    for speaker, frequency in (("alice", 200.0), ("bob", 300.0)):
        (tmp_path / speaker).mkdir()
        for index in range(3):
            _write_wav(tmp_path / speaker / f"{index}.wav", _tone(0.6, 22050, frequency), rate=22050)
    _write_wav(tmp_path / "bob" / "short.wav", _tone(0.1))
    listed = load_audio_corpus(tmp_path, decode=False)
    assert listed.waveforms is None and len(listed) == 7
    with pytest.raises(ValueError, match="not decoded"):
        listed.seconds
    crops = list(speech.make_file_crop_dataset(listed, crop_samples=4800, batch_size=2, skip_bad=True))
    assert len(crops) == 3 and all(c.shape == (2, 4800) for c, _ in crops)
    with pytest.raises(Exception, match="short.wav"):
        list(speech.make_file_crop_dataset(listed, crop_samples=4800, batch_size=2, shuffle=False))
    decoded = listed.subset([0, 1]).decoded()
    assert len(decoded.waveforms) == 2 and abs(len(decoded.waveforms[0]) - 9600) <= 2


def test_crop_dataset_reference_is_another_utterance_of_the_same_speaker():
    # every sample of utterance i is i, so a crop names its utterance
    speakers = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    corpus = types.SimpleNamespace(waveforms=[np.full(3000 + 100 * i, i, np.float32) for i in range(10)],
                                   speakers=speakers, paths=[f"u{i}.wav" for i in range(10)])
    dataset = make_crop_dataset(corpus, 2000, batch_size=5, seed=1, reference=True)
    assert dataset.self_referenced == 1  # speaker 3 has one utterance
    plain = [crops.numpy() for crops, _ in make_crop_dataset(corpus, 2000, batch_size=5, seed=1)]
    references = []
    for epoch in range(3):
        for index, batch in enumerate(dataset):
            assert set(batch) == {"waveforms", "speakers", "reference"} and batch["reference"].shape == (5, 2000)
            own, other = batch["waveforms"].numpy(), batch["reference"].numpy()
            assert np.all(own == own[:, :1]) and np.all(other == other[:, :1])  # one utterance per crop
            own, other = own[:, 0].astype(int), other[:, 0].astype(int)
            np.testing.assert_array_equal(speakers[other], batch["speakers"].numpy())
            np.testing.assert_array_equal(speakers[own], batch["speakers"].numpy())
            assert np.all((other != own) | (speakers[own] == 3))
            if epoch == 0:  # the crops themselves are those of reference=False
                np.testing.assert_array_equal(batch["waveforms"].numpy(), plain[index])
            references += list(zip(own, other))
    assert len({pair for pair in references if pair[0] == 5}) > 1  # drawn anew: utterance 5 has three partners
    fixed = list(make_crop_dataset(corpus, 2000, batch_size=5, shuffle=False, reference=True))
    np.testing.assert_array_equal(fixed[0]["reference"].numpy()[:, 0], [1, 2, 0, 4, 3])  # the speaker's next one


@pytest.mark.slow
def test_breath_noise_voice_renders_the_same_in_two_fresh_processes():
    """eSpeak seeds its breath noise (variants f2, f3, f5) from the clock unless `synthesize` reseeds it."""
    import hashlib
    import subprocess
    import sys

    script = ("import hashlib; from keras_ae.data.speech import Speaker, synthesize; "
              "print(hashlib.sha256(synthesize('Glue the sheet to the dark blue background.', "
              "Speaker('en-us-nyc', 'f3', 30, 150))[0].tobytes()).hexdigest())")
    digests = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env=os.environ).stdout.split()[-1] for _ in range(2)]
    assert digests[0] == digests[1]


def test_crop_store_is_int16_for_pcm_and_gives_the_same_crops():
    from keras_ae.data.speech.pipelines import sample_store

    rng = np.random.default_rng(0)
    pcm = [rng.integers(-32768, 32768, n).astype("float32") / 32768.0 for n in (3000, 4100, 2500, 5000)]
    store, offsets = sample_store(pcm)
    assert store.dtype == np.int16 and store.nbytes == 2 * sum(len(w) for w in pcm)
    np.testing.assert_array_equal(store[offsets[1] : offsets[1] + 4100] / np.float32(32768.0), pcm[1])
    off_grid = [w.copy() for w in pcm]
    off_grid[2][7] += 1e-6  # not a 16-bit value: the store keeps float32, exactly
    assert sample_store(off_grid)[0].dtype == np.float32
    for waveforms in (pcm, off_grid):
        corpus = types.SimpleNamespace(waveforms=waveforms, speakers=np.array([0, 0, 1, 1]), paths=list("abcd"))
        batches = list(make_crop_dataset(corpus, 2000, batch_size=2, seed=3, reference=True))
        for batch in batches:
            for key in ("waveforms", "reference"):
                assert batch[key].dtype == "float32"
                for row in batch[key].numpy():  # bit for bit a piece of one utterance
                    assert any(_holds_exactly(w, row) for w in waveforms)
        fixed = next(iter(make_crop_dataset(corpus, 2000, batch_size=4, shuffle=False)))[0].numpy()
        np.testing.assert_array_equal(fixed, np.stack([w[:2000] for w in waveforms]))


def _holds_exactly(waveform, piece):
    return any(np.array_equal(waveform[s : s + len(piece)], piece) for s in np.flatnonzero(waveform == piece[0]))


def test_cached_corpus_holds_int16_reads_float32_and_keeps_int16_through_subsets_and_merges(tmp_path):
    from keras_ae.data.phones import merge_corpora
    from keras_ae.data.speech.pcm import PcmWaveforms
    from keras_ae.data.speech.pipelines import sample_store

    corpus = _tiny_corpus(tmp_path)
    assert isinstance(corpus.waveforms, PcmWaveforms)
    with wave.open(corpus.paths[2]) as file:  # on access: the wav's samples over 32768, as float32
        samples = np.frombuffer(file.readframes(file.getnframes()), "<i2")
    assert corpus.waveforms[2].dtype == np.float32
    np.testing.assert_array_equal(corpus.waveforms[2], samples.astype("float32") / 32768.0)
    floats = list(corpus.waveforms)
    np.testing.assert_array_equal(corpus.lengths, [len(w) for w in floats])
    part = corpus.select(sentences="train")  # a subset, a slice and a merge make no float copy
    assert isinstance(part.waveforms, PcmWaveforms) and isinstance(part.waveforms[1:], PcmWaveforms)
    merged = merge_corpora([corpus, part])
    assert isinstance(merged.waveforms, PcmWaveforms) and len(merged.waveforms) == len(corpus) + len(part)
    assert all(array.dtype == np.int16 for array in merged.waveforms.pcm)
    np.testing.assert_array_equal(merged.waveforms[len(corpus)], part.waveforms[0])
    as_floats = merge_corpora([corpus, dataclasses.replace(part, waveforms=list(part.waveforms))])
    assert isinstance(as_floats.waveforms, list) and as_floats.waveforms[len(corpus)].dtype == np.float32
    store, offsets = sample_store(corpus.waveforms)  # the crop store: the same from int16 as from the floats
    float_store, float_offsets = sample_store(floats)
    assert store.dtype == float_store.dtype == np.int16
    np.testing.assert_array_equal(store, float_store)
    np.testing.assert_array_equal(offsets, float_offsets)
    with pytest.raises(TypeError, match="int16"):
        PcmWaveforms([np.zeros(3, np.float32)])


def test_user_audio_at_16_bit_16_khz_is_kept_as_pcm_and_resampled_audio_as_float(tmp_path):
    from keras_ae.data.speech.pcm import PcmWaveforms, gather_waveforms

    folder = tmp_path / "audio"
    for speaker, frequency in (("alice", 200.0), ("bob", 300.0)):
        (folder / speaker).mkdir(parents=True)
        for index in range(2):
            _write_wav(folder / speaker / f"{index}.wav", _tone(0.5, 16000, frequency + 10 * index))
    corpus = load_audio_corpus(folder, progress=False)
    assert isinstance(corpus.waveforms, PcmWaveforms)
    for path, waveform in zip(corpus.paths, corpus.waveforms):  # the same floats as decoding the file
        np.testing.assert_array_equal(waveform, load_audio(path))
    _write_wav(folder / "bob" / "2.wav", _tone(0.5, 8000, 320.0), rate=8000)  # resampled: off the 16-bit grid
    mixed = load_audio_corpus(folder, progress=False)
    assert isinstance(mixed.waveforms, list) and all(w.dtype == np.float32 for w in mixed.waveforms)
    for path, waveform in zip(mixed.paths, mixed.waveforms):
        np.testing.assert_array_equal(waveform, load_audio(path))
    assert isinstance(gather_waveforms([np.array([16384], np.int16)]), PcmWaveforms)
