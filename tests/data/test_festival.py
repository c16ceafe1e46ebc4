import shutil

import numpy as np
import pytest

from keras_ae.data.festival import (
    HELD_OUT_VOICES,
    FestivalVoice,
    FliteVoice,
    _segments,
    load_engine_corpus,
    sentence_splits,
)
from keras_ae.data.phones import ESPEAK_TO_ARPABET, arpabet, merge_corpora, to_arpabet
from keras_ae.data.speech import ACCENTS, SILENCE, Speaker, corpus_speakers, load_speech_corpus, variant_family
from keras_ae.data.varied_speech import WIDE_VARIANTS, wide_espeak_speakers

ARPABET = {"aa", "ae", "ah", "ao", "aw", "ax", "axr", "ay", "b", "ch", "d", "dh", "dx", "eh", "el", "em", "en", "er",
           "ey", "f", "g", "hh", "ih", "ix", "iy", "jh", "k", "l", "m", "n", "ng", "nx", "ow", "oy", "p", "r", "s",
           "sh", "t", "th", "uh", "uw", "v", "w", "y", "z", "zh", SILENCE}
TEXTS = ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
         "It is easy to tell the depth of a well."]


def test_segments_merge_pauses_and_reach_the_end():
    segments = _segments([("pau", 0.1), ("h#", 0.2), ("dh", 0.25), ("ax", 0.3), ("pau", 0.5)], 8800)
    assert segments == [(0, 3200, SILENCE), (3200, 4000, "dh"), (4000, 4800, "ax"), (4800, 8800, SILENCE)]


def test_every_espeak_phone_maps_to_arpabet():
    assert set(ESPEAK_TO_ARPABET.values()) <= ARPABET
    assert arpabet("aI@3") == "ay" and arpabet("t#") == "t" and arpabet("O2") == "ao" and arpabet("u:2") == "uw"
    with pytest.raises(ValueError, match="ESPEAK_TO_ARPABET"):
        arpabet("!!")


def test_wide_speakers_are_distinct_and_cover_the_accents():
    speakers = wide_espeak_speakers(24, seed=1)
    assert len(set(speakers)) == 24
    assert len({s.accent for s in speakers}) == 8 and len({s.variant for s in speakers}) > 8
    assert wide_espeak_speakers(24, seed=1) == speakers
    # held-out voices' accent and variant never come back at another pitch or rate
    excluded = speakers[:6]
    kept = wide_espeak_speakers(24, seed=1, exclude=excluded)
    assert len(set(kept)) == 24
    assert not {(s.accent, s.variant) for s in kept} & {(s.accent, s.variant) for s in excluded}


def test_many_wide_speakers_keep_clear_of_the_held_out_variant_families():
    held_out = corpus_speakers(16, 4, "variant")[12:]
    speakers = wide_espeak_speakers(128, seed=1, exclude=held_out, exclude_families=True)
    assert len(set(speakers)) == 128
    assert not {variant_family(s.variant) for s in speakers} & {variant_family(s.variant) for s in held_out}
    assert speakers[:32] == wide_espeak_speakers(32, seed=1, exclude=held_out, exclude_families=True)


def test_a_count_the_exclusions_cannot_meet_is_refused_instead_of_drawing_forever():
    # every variant of the first accent excluded: that accent has no candidate left
    excluded = [Speaker(ACCENTS[0], variant, 50, 150) for variant in WIDE_VARIANTS]
    with pytest.raises(ValueError, match=f"accent {ACCENTS[0]} must take 1 .* 0 variant"):
        wide_espeak_speakers(1, exclude=excluded)
    # the second accent is reached only from the second speaker on
    assert len(wide_espeak_speakers(1, exclude=[Speaker(ACCENTS[1], v, 50, 150) for v in WIDE_VARIANTS])) == 1


@pytest.mark.skipif(not (shutil.which("festival") and shutil.which("flite")),
                    reason="festival and flite are installed by scripts/install.sh")
def test_engine_corpus_has_arpabet_labels_aligned_with_the_audio(tmp_path):
    voices = [HELD_OUT_VOICES[0], FliteVoice("awb", 1.2)]
    corpus = load_engine_corpus(voices, TEXTS, sentence_ids=[0, 2], validation_sentences=0, test_sentences=1,
                                root=tmp_path, progress=False)
    assert len(corpus) == 4 and corpus.speaker_names == ["festival kal_diphone", "flite awb x1.2"]
    assert corpus.sentences.tolist() == [0, 2, 0, 2]
    assert list(corpus.sentence_split) == list(sentence_splits(3, 0, 1)[[0, 2, 0, 2]])
    assert set(corpus.phone_names) <= ARPABET and corpus.phone_names[0] == SILENCE
    for waveform, phones in zip(corpus.waveforms, corpus.phones):
        assert len(phones) == len(waveform) // 160 and 0.5 < len(waveform) / 16000 < 6
        assert phones[0] == 0 and (phones != 0).mean() > 0.5  # starts in silence, mostly speech
        assert np.abs(waveform).max() > 0.05
    # the same sentence by both engines: nearly the same phone sequence
    first = [corpus.phone_names[p] for p in corpus.phones[0]]
    assert {"b", "er", "ch", "k", "n", "uw"} <= set(first)
    again = load_engine_corpus(voices, TEXTS, sentence_ids=[0, 2], validation_sentences=0, test_sentences=1,
                               root=tmp_path, progress=False)
    np.testing.assert_array_equal(again.waveforms[1], corpus.waveforms[1])  # read back from the cache
    with open(corpus.paths[1], "r+b") as wav:  # a cache damaged by a full disk is rebuilt, not trusted
        wav.truncate(200)
    rebuilt = load_engine_corpus(voices, TEXTS, sentence_ids=[0, 2], validation_sentences=0, test_sentences=1,
                                 root=tmp_path, progress=False)
    np.testing.assert_array_equal(rebuilt.waveforms[1], corpus.waveforms[1])
    assert len(list(tmp_path.iterdir())) == 1  # no staging folder left behind
    with pytest.raises(ValueError, match="sentence_ids must index"):
        load_engine_corpus(voices, TEXTS, sentence_ids=[5], root=tmp_path)


def test_espeak_and_engine_corpora_merge_into_one_phone_set(tmp_path):
    espeak = load_speech_corpus(num_speakers=2, sentences=TEXTS, held_out_speakers=0, validation_sentences=0,
                                test_sentences=1, root=tmp_path, progress=False)
    mapped = to_arpabet(espeak)
    assert set(mapped.phone_names) <= ARPABET
    for original, relabelled in zip(espeak.phones, mapped.phones):
        np.testing.assert_array_equal(original == 0, relabelled == 0)  # silence stays silence
    merged = merge_corpora([mapped, mapped])
    assert len(merged) == 2 * len(espeak) and merged.num_speakers == 4
    assert merged.speakers.tolist() == espeak.speakers.tolist() + (espeak.speakers + 2).tolist()
    assert merged.phone_names == mapped.phone_names


def test_festival_voice_names():
    assert FestivalVoice("kal_diphone", f0_mean=140.0, stretch=0.95).name == "festival kal_diphone f0 140 x0.95"
