"""The eSpeak NG binding: speakers (accent, variant, pitch, rate), synthesis, and 10 ms phone labels."""

import ctypes
import dataclasses
import math
import threading
import zlib

import numpy as np

from keras_ae.data.speech.constants import FRAME_SAMPLES, SAMPLE_RATE, SILENCE


ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
VARIANTS = ("m1", "f1", "m3", "f2", "m2", "f3", "m4", "f4", "m5", "f5", "m6", "m7", "klatt", "klatt2")
PITCHES = (30, 45, 60, 75)
RATES = (150, 165, 180, 195)


@dataclasses.dataclass(frozen=True)
class Speaker:
    """An eSpeak NG speaker: accent (e.g. `"en-us"`), variant (e.g. `"f3"`), pitch (0-100) and rate (words/min)."""

    accent: str
    variant: str
    pitch: int = 50
    rate: int = 175

    @property
    def voice(self):
        return f"{self.accent}+{self.variant}" if self.variant else self.accent

    @property
    def name(self):
        return f"{self.voice} p{self.pitch} r{self.rate}"


def default_speakers(count=16):
    """`count` distinct speakers: accents, variants, pitches and rates interleaved so that neighbours differ in all."""
    speakers = []
    for index in range(count):
        accent = ACCENTS[index % len(ACCENTS)]
        variant = VARIANTS[(index * 3 + index // len(ACCENTS)) % len(VARIANTS)]
        pitch = PITCHES[(index + index // len(PITCHES)) % len(PITCHES)]
        rate = RATES[(index * 3 + 1) % len(RATES)]
        speakers.append(Speaker(accent, variant, pitch, rate))
    if len(set(speakers)) != len(speakers):
        raise ValueError(f"Cannot make {count} distinct default speakers; pass your own list of Speaker objects.")
    return speakers


# How the held-out (unseen) speakers of the default corpus are chosen; see `corpus_speakers`.
HELD_OUT_SPLITS = ("legacy", "variant")


def variant_family(variant):
    """The voice family of an eSpeak variant: the six klatt variants share eSpeak's Klatt synthesiser and count as
    one family; every other variant is its own."""
    return "klatt" if variant.startswith("klatt") else variant


def corpus_speakers(count=16, held_out=4, split="legacy"):
    """The default corpus's `count` speakers; the last `held_out` are the held-out (unseen) ones.

    `split="legacy"`: `default_speakers(count)`, as every corpus before session 12 was built. With 16 speakers each
    of the 4 held-out voices shares its variant with a seen speaker (its "twin"; two share variant and pitch too),
    and the speaker code places it near that twin.

    `split="variant"`: the same seen speakers, with the same jitter draws (they are made speaker by speaker). Each
    held-out speaker keeps its legacy accent, pitch and rate but takes, in order, a variant of `VARIANTS` whose
    family (`variant_family`) no seen speaker uses: with 16 speakers m3, f3, m5 and m6 (klatt2 is skipped: klatt
    is seen). A held-out voice then has no seen speaker of its variant. Accents, pitches and rates are shared with
    seen speakers in both splits (8 accents, 4 pitches and 4 rates over 12 seen speakers). eSpeak's breath noise
    (variants f2, f3, f5) is reseeded per utterance, so every build renders it the same (caches built before that
    reseeding hold other breath noise for those voices); see `_Espeak.synthesize`.

    Example:
        unseen = corpus_speakers(16, 4, "variant")[12:]   # en-029+m3 p75 r165, en-us-nyc+f3 p30 r150, ...
    """
    if split not in HELD_OUT_SPLITS:
        raise ValueError(f"held-out split must be one of {', '.join(HELD_OUT_SPLITS)}; got {split!r}.")
    speakers = default_speakers(count)
    if split == "legacy" or not 0 < held_out < count:  # load_speech_corpus reports a bad held_out
        return speakers
    seen = speakers[:count - held_out]
    taken = {variant_family(s.variant) for s in seen}
    free = [v for v in VARIANTS if variant_family(v) not in taken]
    if len(free) < held_out:
        raise ValueError(f"The 'variant' held-out split needs {held_out} voice variants that none of the {len(seen)} "
                         f"seen speakers uses; only {len(free)} are left ({', '.join(free) or 'none'}). Hold out "
                         "fewer speakers, use fewer speakers or the 'legacy' split.")
    return seen + [dataclasses.replace(s, variant=v) for s, v in zip(speakers[count - held_out:], free)]


class _EspeakEventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _EspeakEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EspeakEventId),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.POINTER(_EspeakEvent))


_AUDIO_OUTPUT_SYNCHRONOUS = 2


_INITIALIZE_PHONEME_EVENTS = 0x0001

_EVENT_LIST_TERMINATED, _EVENT_PHONEME = 0, 7

_PARAMETER_RATE, _PARAMETER_PITCH = 1, 3

_POS_CHARACTER, _CHARS_UTF8 = 1, 1


class _Espeak:
    """The eSpeak NG library, initialised once per process (it keeps global state; calls are serialised)."""

    _instance = None
    _lock = threading.Lock()

    def __init__(self):
        try:
            import espeakng_loader
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                "The synthesized speech corpus needs eSpeak NG from the espeakng-loader wheel. Install it with: "
                "pip install espeakng-loader==0.2.4 (or pip install -e '.[data]')"
            ) from error
        self.lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                          ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path,
                                                      _INITIALIZE_PHONEME_EVENTS)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed (returned {self.sample_rate}) with data at {data_path!r}.")
        self._chunks, self._events = [], []
        self._callback = _SYNTH_CALLBACK(self._on_audio)  # keep a reference: eSpeak calls it from C
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(self, samples, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_PHONEME:
                self._events.append((int(event.sample), event.id.string.decode("ascii", "replace")))
            index += 1
        return 0

    def synthesize(self, text, voice, pitch, rate):
        """int16 samples at `self.sample_rate` and phoneme events `[(sample, name), ...]`.

        The breath noise of variants f2, f3 and f5 comes from eSpeak's random generator, which it seeds from the
        clock; it is reseeded here from the utterance itself, so a corpus built in a fresh process is the same
        byte for byte every time. (Other state carries over from one call to the next within a process, so the same
        utterance said twice in one process still differs slightly.)"""
        with self._lock:
            self.lib.espeak_ng_SetRandSeed(zlib.crc32(f"{voice}|{pitch}|{rate}|{text}".encode()))
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice!r}; accents are {', '.join(ACCENTS)} and variants "
                                 "are listed in espeak-ng-data/voices/!v.")
            self.lib.espeak_SetParameter(_PARAMETER_PITCH, int(pitch), 0)
            self.lib.espeak_SetParameter(_PARAMETER_RATE, int(rate), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise RuntimeError(f"espeak_Synth failed with status {status} for {text!r}.")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros([0], np.int16)
            return samples, list(self._events)


def _phone_name(raw):
    """eSpeak phoneme mnemonic without stress marks; pauses become `"sil"`."""
    name = raw.strip().lstrip("',%=")
    return SILENCE if not name or name.startswith("_") else name


def synthesize(text, speaker=Speaker("en-us", "m1")):
    """Speaks `text` as `speaker`; returns `(waveform, segments)`: float32 samples at 16 kHz in [-1, 1] and the phone
    segments `[(start_sample, end_sample, phone), ...]` at 16 kHz (from eSpeak's phoneme events)."""
    from scipy.signal import resample_poly

    engine = _Espeak.get()
    samples, events = engine.synthesize(text, speaker.voice, speaker.pitch, speaker.rate)
    gcd = math.gcd(SAMPLE_RATE, engine.sample_rate)
    waveform = resample_poly(samples.astype("float32") / 32768.0, SAMPLE_RATE // gcd, engine.sample_rate // gcd)
    waveform = np.clip(waveform, -1.0, 1.0).astype("float32")
    scale = SAMPLE_RATE / engine.sample_rate
    starts = [0] + [min(len(waveform), int(round(sample * scale))) for sample, _ in events]
    names = [SILENCE] + [_phone_name(name) for _, name in events]
    segments = []
    for index, (start, name) in enumerate(zip(starts, names)):
        end = starts[index + 1] if index + 1 < len(starts) else len(waveform)
        if end <= start:
            continue
        if segments and segments[-1][2] == name and segments[-1][1] == start:
            segments[-1] = (segments[-1][0], end, name)
        else:
            segments.append((start, end, name))
    return waveform, segments


def frame_labels(segments, num_samples, phone_index):
    """Phone id of each 10 ms frame (`num_samples // 160` frames), read at the frame's centre sample."""
    num_frames = num_samples // FRAME_SAMPLES
    labels = np.zeros([num_frames], np.int32)
    centres = np.arange(num_frames) * FRAME_SAMPLES + FRAME_SAMPLES // 2
    for start, end, name in segments:
        labels[(centres >= start) & (centres < end)] = phone_index[name]
    return labels
