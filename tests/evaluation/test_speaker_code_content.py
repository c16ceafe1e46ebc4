import types

import numpy as np
import pytest

from benchmarks.voice_conversion_speaker_code_content import parallel_indices, sentence_retrieval, variance_shares


def parallel_codes(speaker_scale, sentence_scale, noise_scale, speakers=12, sentences=20, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    return (speaker_scale * rng.normal(size=(speakers, 1, dim)) + sentence_scale * rng.normal(size=(1, sentences, dim))
            + noise_scale * rng.normal(size=(speakers, sentences, dim)))


def test_variance_shares_recover_the_speaker_and_sentence_parts_and_do_not_count_noise_as_either():
    speaker_share, sentence_share = variance_shares(parallel_codes(2.0, 1.0, 0.5, speakers=40, sentences=40, dim=64))
    assert speaker_share == pytest.approx(4 / 5.25, abs=0.08)
    assert sentence_share == pytest.approx(1 / 5.25, abs=0.04)
    speaker_share, sentence_share = variance_shares(parallel_codes(2.0, 0.0, 0.5))
    assert sentence_share < 0.01 < 0.9 < speaker_share
    with pytest.raises(ValueError, match="at least 2 speakers"):
        variance_shares(np.zeros((1, 5, 3)))


def test_sentence_retrieval_ignores_each_speakers_offset_and_falls_to_chance_without_a_sentence_part():
    assert sentence_retrieval(parallel_codes(10.0, 1.0, 0.1)) == 1.0
    assert sentence_retrieval(parallel_codes(10.0, 0.0, 1.0)) == pytest.approx(1 / 20, abs=0.03)


def test_parallel_indices_names_a_missing_utterance():
    corpus = types.SimpleNamespace(speakers=np.array([0, 0, 1, 1, 1]), sentences=np.array([3, 5, 5, 3, 7]))
    assert parallel_indices(corpus, [0, 1], [3, 5]).tolist() == [[0, 1], [3, 2]]
    with pytest.raises(ValueError, match="every speaker saying every sentence"):
        parallel_indices(corpus, [0, 1], [3, 7])
