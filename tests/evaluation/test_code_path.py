import types

import numpy as np
import pytest

from benchmarks.voice_conversion_code_path import path_codes, path_response, span_split
from benchmarks.voice_conversion_speaker_codes import enrolled_centroids


def test_path_codes_run_from_the_start_through_the_end_and_past_it():
    codes = path_codes([1.0, 0.0], [3.0, 2.0], [0, 0.5, 1, 2])
    np.testing.assert_allclose(codes, [[1, 0], [2, 1], [3, 2], [5, 4]])
    assert codes.dtype == np.float32


def test_path_response_reads_only_the_move_along_the_real_difference_from_the_first_row():
    start, end = np.array([1.0, 1.0, 0.0]), np.array([1.0, 3.0, 0.0])
    offset = np.array([5.0, -2.0, 0.5])  # a decoder's bias, the same at every t, does not count
    decoded = offset + np.array([[0, 0, 0], [0, 1, 7], [0, 2, -3], [0, 4, 0]], float)
    np.testing.assert_allclose(path_response(decoded, start, end), [0, 0.5, 1, 2])
    np.testing.assert_allclose(path_response(offset + np.zeros((3, 3)), start, end), [0, 0, 0])
    with pytest.raises(ValueError, match="two different end points"):
        path_response(decoded, start, start)


def test_span_split_keeps_the_directions_the_points_move_in_and_leaves_the_rest():
    points = np.array([[1.0, 0.0, 0.0, 2.0], [3.0, 1.0, 0.0, 2.0], [1.0, 2.0, 0.0, 2.0]])  # a plane at w = 2
    inside, outside = span_split([1.0, -2.0, 3.0, 4.0], points)
    np.testing.assert_allclose(inside, [1, -2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(outside, [0, 0, 3, 4], atol=1e-12)
    np.testing.assert_allclose(span_split(points[1] - points[0], points)[1], 0, atol=1e-12)
    with pytest.raises(ValueError, match="at least 2 points"):
        span_split([1.0, 0.0], [[0.0, 0.0]])


class _Corpus:
    """Three speakers (two seen, one held out) with 4 training-sentence and 2 test-sentence utterances each; each
    waveform holds its own index and speaker."""

    speakers = np.repeat([0, 1, 2], 6)
    sentence_split = np.tile(["train"] * 4 + ["test"] * 2, 3)
    speaker_split = np.where(speakers < 2, "train", "test")
    waveforms = [np.array([index, speaker], float) for index, speaker in enumerate(np.repeat([0, 1, 2], 6))]

    def select(self, sentences=None, speakers=None):
        keep = np.ones(len(self.speakers), bool)
        keep &= True if sentences is None else self.sentence_split == sentences
        keep &= True if speakers is None else self.speaker_split == speakers
        return types.SimpleNamespace(speakers=self.speakers[keep])


def test_enrolled_centroids_average_each_speakers_training_sentence_codes():
    seen, unseen, centroids = enrolled_centroids(_Corpus(), lambda waveform: waveform, 4, np.random.default_rng(0))
    assert (seen, unseen) == ([0, 1], [2])
    for speaker, first in ((0, 0), (1, 6), (2, 12)):  # all 4 training-sentence utterances, none of the test ones
        np.testing.assert_allclose(centroids[speaker], [first + 1.5, speaker])
    drawn = enrolled_centroids(_Corpus(), lambda waveform: waveform, 2, np.random.default_rng(0))[2]
    assert all(drawn[s][1] == s and 6 * s <= drawn[s][0] <= 6 * s + 3 for s in (0, 1, 2))
