"""Constants and the error type shared by every speech module."""


SAMPLE_RATE = 16000
FRAME_SAMPLES = 160  # 10 ms at 16 kHz: one frame label, one CPC embedding
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MIN_SAMPLE_RATE = 8000
MAX_CHANNELS = 2
SILENCE_PEAK = 1e-4  # a file whose peak amplitude (in [-1, 1]) stays below this is called silent
SILENCE = "sil"
CORPUS_VERSION = 1


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and the fix."""
