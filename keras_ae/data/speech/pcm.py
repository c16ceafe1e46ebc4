"""Waveforms kept as 16-bit PCM and read as float32: half the memory of float32 arrays, the same floats back.

A cached corpus is 16-bit wav files, so its samples are exactly `int16 / PCM_SCALE`. `PcmWaveforms` holds them as
int16 and gives each utterance as float32 on access, so `corpus.waveforms[i]` reads as it always did while a corpus of
140 voices holds 2.2 GB instead of 4.5 GB; `take` and `concatenate` keep the int16 arrays (a subset or a merge of
corpora makes no float copy), and the crop pipeline's store is filled from them directly. Your own 16-bit mono audio
at 16 kHz (LibriSpeech's flac files, for one) decodes to such samples too and is kept the same way
(`pcm16_if_exact`, `gather_waveforms`); audio that was resampled or mixed down stays float32.
"""

import collections.abc

import numpy as np

PCM_SCALE = 32768.0  # 16-bit PCM sample / PCM_SCALE = float sample in [-1, 1)


class PcmWaveforms(collections.abc.Sequence):
    """A sequence of waveforms stored as int16 PCM arrays; item `i` is float32 `pcm[i] / PCM_SCALE`.

    Example:
        waveforms = PcmWaveforms([np.array([16384, -32768], np.int16), np.array([8192], np.int16)])
        waveforms[0]                 # float32 [0.5, -1.0]
        waveforms.take([1]).pcm      # [int16 [8192]]: no float copy
    """

    def __init__(self, pcm):
        self.pcm = list(pcm)
        for array in self.pcm:
            if array.dtype != np.int16:
                raise TypeError(f"PcmWaveforms holds int16 arrays; got {array.dtype}.")

    def __len__(self):
        return len(self.pcm)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return PcmWaveforms(self.pcm[index])
        return self.pcm[index].astype(np.float32) / np.float32(PCM_SCALE)

    def take(self, indices):
        """The waveforms at `indices`, still int16."""
        return PcmWaveforms([self.pcm[i] for i in indices])

    def __repr__(self):
        return f"PcmWaveforms({len(self)} waveforms, {sum(len(a) for a in self.pcm)} samples)"


def _scaled_if_pcm16(waveform):
    """Float `waveform` times `PCM_SCALE` (exact: a power of two) when every sample is then a 16-bit value, else
    None."""
    scaled = np.asarray(waveform, np.float32) * PCM_SCALE
    if len(scaled) == 0 or (scaled.min() >= -PCM_SCALE and scaled.max() < PCM_SCALE
                            and np.array_equal(scaled, np.rint(scaled))):
        return scaled
    return None


def is_pcm16(waveform):
    """Whether float `waveform` is exactly 16-bit PCM over `PCM_SCALE` (as a 16-bit file decodes to)."""
    return _scaled_if_pcm16(waveform) is not None


def pcm16_if_exact(waveform):
    """A float `waveform`'s int16 samples when it is exactly 16-bit PCM (`is_pcm16`), else the waveform as it is."""
    scaled = _scaled_if_pcm16(waveform)
    return waveform if scaled is None else scaled.astype(np.int16)


def gather_waveforms(arrays):
    """Decoded waveforms (int16 arrays from `pcm16_if_exact`, or float32) as one collection: a `PcmWaveforms` when
    every one is int16, else a list of float32 arrays.

    Example:
        gather_waveforms([pcm16_if_exact(np.array([0.5], np.float32))])     # PcmWaveforms: int16 [16384]
        gather_waveforms([np.array([16384], np.int16), np.array([0.1], np.float32)])  # float32 [0.5], [0.1]
    """
    arrays = list(arrays)
    if all(array.dtype == np.int16 for array in arrays):
        return PcmWaveforms(arrays)
    return [array.astype(np.float32) / np.float32(PCM_SCALE) if array.dtype == np.int16 else array for array in arrays]


def take(waveforms, indices):
    """The waveforms at `indices` of a list or a `PcmWaveforms` (kept int16)."""
    if isinstance(waveforms, PcmWaveforms):
        return waveforms.take(indices)
    return [waveforms[i] for i in indices]


def waveform_lengths(waveforms):
    """int64 `[n]`: the sample count of each waveform of a list or a `PcmWaveforms` (no float copy made)."""
    arrays = waveforms.pcm if isinstance(waveforms, PcmWaveforms) else waveforms
    return np.array([len(w) for w in arrays], np.int64)


def concatenate(parts):
    """Several lists of waveforms as one: a `PcmWaveforms` when every part is one, else a list of float32 arrays."""
    parts = list(parts)
    if parts and all(isinstance(part, PcmWaveforms) for part in parts):
        return PcmWaveforms([array for part in parts for array in part.pcm])
    return [waveform for part in parts for waveform in part]
