"""Speech data: a synthesized, labelled multi-speaker corpus (eSpeak NG), the user's audio folders and manifests,
and `tf.data` pipelines of random fixed-length crops. Everything is float32 mono at 16 kHz.

The synthesized corpus
----------------------
`load_speech_corpus()` renders the same sentences with many eSpeak NG speakers (parallel data). A speaker is an
English accent, a voice variant, a pitch and a speaking rate (`default_speakers`); every utterance gets a small
seeded jitter of pitch and rate so that no two renderings are identical. The synthesizer's phoneme events give a
phone label for every 10 ms frame. The corpus is written once (with a progress bar) as 16-bit wav files plus
`manifest.jsonl` under `keras_ae_home()/speech/espeak-<hash>/`, built in a temporary folder and renamed into place,
then reused. Needs the `espeakng-loader` wheel (`pip install espeakng-loader==0.2.4`).

Splits: speakers are split into seen (`"train"`) and held-out (`"test"`) speakers; sentences into `"train"`,
`"validation"` and `"test"` sentences. `corpus.select(sentences="test", speakers="train")` picks the held-out
utterances of seen speakers (unseen sentences): the CPC probe protocol. `corpus.select(speakers="test")` gives
unseen speakers, e.g. for voice conversion.

    corpus = load_speech_corpus()                    # SpeechCorpus
    corpus.waveforms[i]                               # float32 [samples] at 16 kHz
    corpus.speakers[i], corpus.speaker_names          # int speaker id, its name ("en-us+m3 p50 r165")
    corpus.sentences[i], corpus.texts[i]              # int sentence id (same id = same text), the text
    corpus.phones[i], corpus.phone_names              # int phone id per 10 ms frame ([samples // 160]); 0 = "sil"
    train = corpus.select(sentences="train", speakers="train")
    probe_test = corpus.select(sentences="test", speakers="train")

Your own audio
--------------
`load_audio_corpus(path)` reads a folder (wav, flac, ogg, mp3, recursively; the first sub-folder level names the
speaker, as in LibriSpeech's `speaker/chapter/file.flac`) or a manifest (`.csv` with a `path` column or `.jsonl`
with a `"path"` key; optional `speaker`, `text` and `sentence` columns; relative paths are relative to the
manifest). Files are decoded with tensorflow-io, mixed down to mono and resampled to 16 kHz. A corrupt or empty
file, silence, an unsupported sample rate or channel count or a missing file raises `AudioError` naming the file;
with `skip_bad=True` such files are skipped and listed in `corpus.skipped` instead.

Pipelines
---------
    dataset = make_crop_dataset(train, crop_samples=20480, batch_size=32, shuffle=True)   # (crops, speaker ids)

Corpora larger than memory: `load_audio_corpus(path, decode=False)` lists the files; `make_file_crop_dataset`
decodes them while streaming; `corpus.subset(...).decoded()` decodes the few utterances a probe needs.
"""

import csv
import ctypes
import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import tempfile
import threading
import wave
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.core.files import STAGING_MARKER, hold_lock, remove_stale, swap_in
from keras_ae.data import keras_ae_home

SAMPLE_RATE = 16000
FRAME_SAMPLES = 160  # 10 ms at 16 kHz: one frame label, one CPC embedding
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
MIN_SAMPLE_RATE = 8000
MAX_CHANNELS = 2
SILENCE_PEAK = 1e-4  # a file whose peak amplitude (in [-1, 1]) stays below this is called silent
SILENCE = "sil"
CORPUS_VERSION = 1

# eSpeak NG's English accents ("en" is British English) and voice variants (see DATA.md).
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
VARIANTS = ("m1", "f1", "m3", "f2", "m2", "f3", "m4", "f4", "m5", "f5", "m6", "m7", "klatt", "klatt2")
PITCHES = (30, 45, 60, 75)
RATES = (150, 165, 180, 195)


class AudioError(ValueError):
    """An audio file that cannot be used; the message names the file and the fix."""


# --------------------------------------------------------------------------------------------------------------
# Sentences: a fixed built-in list (no dependency on the text module), varied English.
# --------------------------------------------------------------------------------------------------------------

_HARVARD = """The birch canoe slid on the smooth planks.
Glue the sheet to the dark blue background.
It is easy to tell the depth of a well.
These days a chicken leg is a rare dish.
Rice is often served in round bowls.
The juice of lemons makes fine punch.
The box was thrown beside the parked truck.
The hogs were fed chopped corn and garbage.
Four hours of steady work faced us.
A large size in stockings is hard to sell.
The boy was there when the sun rose.
A rod is used to catch pink salmon.
The source of the huge river is the clear spring.
Kick the ball straight and follow through.
Help the woman get back to her feet.
A pot of tea helps to pass the evening.
Smoky fires lack flame and heat.
The soft cushion broke the man's fall.
The salt breeze came across from the sea.
The girl at the booth sold fifty bonds.
The small pup gnawed a hole in the sock.
The fish twisted and turned on the bent hook.
Press the pants and sew a button on the vest.
The swan dive was far short of perfect.
The beauty of the view stunned the young boy.
Two blue fish swam in the tank.
Her purse was full of useless trash.
The colt reared and threw the tall rider.
It snowed, rained, and hailed the same morning.
Read verse out loud for pleasure.
Hoist the load to your left shoulder.
Take the winding path to reach the lake.
Note closely the size of the gas tank.
Wipe the grease off his dirty face.
Mend the coat before you go out.
The wrist was badly strained and hung limp.
The stray cat gave birth to kittens.
The young girl gave no clear response.
The meal was cooked before the bell rang.
What joy there is in living.
A king ruled the state in the early days.
The ship was torn apart on the sharp reef.
Sickness kept him home the third week.
The wide road shimmered in the hot sun.
The lazy cow lay in the cool grass.
Lift the square stone over the fence.
The rope will bind the seven books at once.
Hop over the fence and plunge in.
The friendly gang left the drug store.
Mesh wire keeps chicks inside.
The frosty air passed through the coat.
The crooked maze failed to fool the mouse.
Adding fast leads to wrong sums.
The show was a flop from the very start.
A saw is a tool used for making boards.
The wagon moved on well oiled wheels.
March the soldiers past the next hill.
A cup of sugar makes sweet fudge.
Place a rosebush near the porch steps.
Both lost their lives in the raging storm."""

_SUBJECTS = ("My neighbour", "The old teacher", "A tired doctor", "Our youngest child", "The quiet farmer",
             "Every pilot", "The clever student", "His brother", "The baker", "A nervous driver", "The kind nurse",
             "Her grandfather", "The busy mechanic", "A famous singer", "The shy painter", "The new judge")
_VERBS = ("carefully packed", "quickly found", "slowly carried", "proudly showed us", "never forgot",
          "happily painted", "secretly hid", "gently washed", "loudly praised", "suddenly dropped", "often borrowed",
          "calmly measured", "eagerly opened", "bravely fixed", "quietly sold", "firmly pushed")
_OBJECTS = ("the heavy wooden chair", "a bright yellow umbrella", "the broken kitchen clock", "seven shiny coins",
            "a jar of thick honey", "the muddy leather boots", "an enormous purple map", "the thin silver chain",
            "a basket of ripe plums", "the cheap plastic toys", "a bundle of dry twigs", "the frozen fish pie",
            "a dozen fresh eggs", "the rusty garden gate", "a pair of woollen gloves", "the fragile glass vase")
_ENDINGS = ("before the long journey", "after breakfast on Sunday", "behind the village church",
            "during the thunderstorm", "at the edge of the forest", "near the busy harbour",
            "without asking anybody", "in the cold autumn rain", "while the children were sleeping",
            "under the old oak tree", "on the top floor", "through the narrow window", "by the frozen pond",
            "at midnight yesterday", "beside the railway bridge", "until the shop closed")
_QUESTIONS = ("Why did {s} leave {o} {e}?", "Have you seen {o} {e}?", "Who told {s} about {o}?",
              "Would anyone really buy {o}?")


def builtin_sentences(count=300, seed=0):
    """`count` varied English sentences: Harvard sentences first, then seeded template sentences (statements and
    questions with a varied vocabulary). The list depends only on `count` and `seed`."""
    sentences = [line.strip() for line in _HARVARD.splitlines() if line.strip()]
    rng = random.Random(seed)
    seen = set(sentences)
    while len(sentences) < count:
        subject, verb, obj, ending = (rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS),
                                      rng.choice(_ENDINGS))
        if rng.random() < 0.2:
            sentence = rng.choice(_QUESTIONS).format(s=subject.lower(), o=obj, e=ending)
            sentence = sentence[0].upper() + sentence[1:]
        else:
            sentence = f"{subject} {verb} {obj} {ending}."
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences[:count]


# --------------------------------------------------------------------------------------------------------------
# eSpeak NG through ctypes
# --------------------------------------------------------------------------------------------------------------


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
        """int16 samples at `self.sample_rate` and phoneme events `[(sample, name), ...]`."""
        with self._lock:
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


# --------------------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SpeechCorpus:
    """Utterances at 16 kHz with their labels (one entry per utterance in every list / array).

    Attributes:
        waveforms: list of float32 `[samples]` arrays in [-1, 1] (None for a corpus listed without decoding).
        speakers: int `[n]` speaker ids, indexing `speaker_names`.
        sentences: int `[n]` sentence ids (same id, same text); -1 when unknown.
        texts: list of the spoken texts ("" when unknown).
        phones: list of int32 `[samples // 160]` phone ids per 10 ms frame (indexing `phone_names`), or None.
        paths: list of audio file paths.
        speaker_split: `[n]` strings, `"train"` (seen speakers) or `"test"` (held-out speakers).
        sentence_split: `[n]` strings, `"train"`, `"validation"` or `"test"`.
        speaker_names, phone_names: the label vocabularies.
        skipped: `[(path, reason), ...]` files left out by `skip_bad=True`.
        root: the folder holding the audio and the manifest.
    """

    waveforms: list
    speakers: np.ndarray
    sentences: np.ndarray
    texts: list
    phones: list | None
    paths: list
    speaker_split: np.ndarray
    sentence_split: np.ndarray
    speaker_names: list
    phone_names: list | None = None
    skipped: list = dataclasses.field(default_factory=list)
    root: str | None = None
    sample_rate: int = SAMPLE_RATE

    def __len__(self):
        return len(self.paths)

    @property
    def num_speakers(self):
        return len(self.speaker_names)

    @property
    def num_phones(self):
        return 0 if self.phone_names is None else len(self.phone_names)

    @property
    def seconds(self):
        """Total duration in seconds."""
        if self.waveforms is None:
            raise ValueError("The corpus is not decoded (load_audio_corpus(decode=False)); call .decoded() first.")
        return float(sum(len(w) for w in self.waveforms)) / self.sample_rate

    def subset(self, indices):
        """The utterances at `indices` (label vocabularies kept, so ids stay comparable)."""
        indices = np.asarray(indices, dtype=np.int64)
        return dataclasses.replace(
            self,
            waveforms=None if self.waveforms is None else [self.waveforms[i] for i in indices],
            speakers=self.speakers[indices],
            sentences=self.sentences[indices],
            texts=[self.texts[i] for i in indices],
            phones=None if self.phones is None else [self.phones[i] for i in indices],
            paths=[self.paths[i] for i in indices],
            speaker_split=self.speaker_split[indices],
            sentence_split=self.sentence_split[indices],
        )

    def select(self, sentences=None, speakers=None):
        """Utterances whose sentence split is `sentences` and speaker split is `speakers` (None: any; a name or a
        tuple of names)."""
        keep = np.ones(len(self), bool)
        if sentences is not None:
            keep &= np.isin(self.sentence_split, np.atleast_1d(sentences))
        if speakers is not None:
            keep &= np.isin(self.speaker_split, np.atleast_1d(speakers))
        return self.subset(np.flatnonzero(keep))

    def head(self, count):
        """The first `count` utterances (for quick runs)."""
        return self.subset(np.arange(min(count, len(self))))

    def decoded(self, skip_bad=False, min_seconds=0.0, progress=True):
        """This corpus with its audio decoded (itself if it already is); see `load_audio_corpus(decode=False)`."""
        if self.waveforms is not None:
            return self
        return _decode_all(self, skip_bad, min_seconds, progress)


def load_speech_corpus(
    num_speakers=16,
    num_sentences=200,
    held_out_speakers=4,
    validation_sentences=0.1,
    test_sentences=0.1,
    speakers=None,
    sentences=None,
    jitter=True,
    seed=0,
    root=None,
    progress=True,
):
    """The synthesized multi-speaker corpus as a `SpeechCorpus`, built on first use and cached.

    Args:
        num_speakers: number of `default_speakers` (ignored when `speakers` is given).
        num_sentences: number of `builtin_sentences` (ignored when `sentences` is given).
        held_out_speakers: speakers (the last ones) whose `speaker_split` is `"test"`.
        validation_sentences, test_sentences: share (float) or number (int) of sentences held out; every speaker
            says every sentence, so held-out sentences are unseen texts for every speaker.
        speakers: a list of `Speaker` objects instead of the defaults.
        sentences: a list of texts instead of the built-in ones.
        jitter: vary pitch (+-4) and rate (+-6%) per utterance, seeded, so a speaker never repeats itself exactly.
        seed: seed of the jitter and of the sentence split.
        root: cache folder (default `keras_ae_home() / "speech"`).
        progress: show a progress bar while synthesizing.
    """
    speakers = list(speakers) if speakers is not None else default_speakers(num_speakers)
    sentences = list(sentences) if sentences is not None else builtin_sentences(num_sentences)
    if not speakers or not sentences:
        raise ValueError("The corpus needs at least one speaker and one sentence.")
    if not 0 <= held_out_speakers < len(speakers):
        raise ValueError(f"held_out_speakers must be in [0, {len(speakers) - 1}] for {len(speakers)} speakers; "
                         f"got {held_out_speakers}. Hold out fewer speakers (--held-out-speakers) or use more "
                         "(--speakers): training needs at least one seen speaker.")
    _check_split_sizes(len(sentences), validation_sentences, test_sentences)
    spec = {
        "version": CORPUS_VERSION,
        "speakers": [dataclasses.asdict(s) for s in speakers],
        "sentences": sentences,
        "jitter": bool(jitter),
        "seed": int(seed),
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    root = Path(root) if root is not None else keras_ae_home() / "speech"
    folder = root / f"espeak-{digest}"
    root.mkdir(parents=True, exist_ok=True)
    with hold_lock(folder, "speech corpus cache", wait=True):  # one process synthesizes, the others wait
        remove_stale(folder, ["manifest.jsonl"])  # a killed synthesis's staging folder
        try:
            corpus = _read_manifest(folder / "manifest.jsonl", with_phones=True)
        except DamagedCache as damage:
            if folder.exists():
                print(f"The cached corpus {folder} is damaged ({damage}); rebuilding it.")
            _build_corpus(folder, speakers, sentences, jitter, seed, progress)
            corpus = _read_manifest(folder / "manifest.jsonl", with_phones=True)
    corpus.sentence_split = _sentence_split(corpus.sentences, len(sentences), validation_sentences, test_sentences,
                                            seed)
    held_out = set(range(len(speakers) - held_out_speakers, len(speakers)))
    corpus.speaker_split = np.array(["test" if s in held_out else "train" for s in corpus.speakers])
    return corpus


def _split_count(share, num_sentences):
    return int(share) if isinstance(share, int) else int(round(share * num_sentences))


def _check_split_sizes(num_sentences, validation, test):
    """Before synthesizing: every split the recipes evaluate on holds at least one sentence."""
    for name, share in (("validation", validation), ("test", test)):
        if share and _split_count(share, num_sentences) == 0:
            raise ValueError(f"{num_sentences} sentences hold out no {name} sentence ({share:g} of them rounds to "
                             f"0); give at least {math.ceil(0.5 / share) if isinstance(share, float) else 1} "
                             "sentences (e.g. --sentences 10).")


def _sentence_split(sentence_ids, num_sentences, validation, test, seed):
    num_validation, num_test = _split_count(validation, num_sentences), _split_count(test, num_sentences)
    if num_validation + num_test >= num_sentences:
        raise ValueError(f"{num_validation} validation + {num_test} test sentences leave none of the "
                         f"{num_sentences} sentences for training.")
    order = np.random.default_rng(seed).permutation(num_sentences)
    split = np.array(["train"] * num_sentences, dtype=object)
    split[order[:num_test]] = "test"
    split[order[num_test : num_test + num_validation]] = "validation"
    return np.array([split[i] for i in sentence_ids]).astype(str)


def _build_corpus(folder, speakers, sentences, jitter, seed, progress):
    from tqdm.auto import tqdm

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
    (staging / STAGING_MARKER).write_text(str(os.getpid()))  # marks it as ours for the cleanup after a kill
    try:
        rng = np.random.default_rng(seed)
        rows = []
        total = len(speakers) * len(sentences)
        with tqdm(total=total, desc=f"Synthesizing {total} utterances", disable=not progress, unit="utt") as bar:
            for speaker_id, speaker in enumerate(speakers):
                (staging / f"s{speaker_id:03d}").mkdir()
                for sentence_id, text in enumerate(sentences):
                    pitch_jitter, rate_jitter = (rng.integers(-4, 5), rng.uniform(0.94, 1.06)) if jitter else (0, 1)
                    voice = dataclasses.replace(speaker, pitch=int(np.clip(speaker.pitch + pitch_jitter, 0, 99)),
                                                rate=int(round(speaker.rate * rate_jitter)))
                    waveform, segments = synthesize(text, voice)
                    path = f"s{speaker_id:03d}/u{sentence_id:04d}.wav"
                    write_wav(staging / path, waveform)
                    rows.append({
                        "path": path,
                        "speaker": speaker.name,
                        "speaker_id": speaker_id,
                        "sentence_id": sentence_id,
                        "text": text,
                        "num_samples": len(waveform),
                        "pitch": voice.pitch,
                        "rate": voice.rate,
                        "phones": [[int(a), int(b), name] for a, b, name in segments],
                    })
                    bar.update()
        with open(staging / "manifest.jsonl", "w") as file:
            for row in rows:
                file.write(json.dumps(row) + "\n")
        swap_in(staging, folder)  # replaces a damaged cache atomically
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_wav(path, waveform, sample_rate=SAMPLE_RATE):
    """Writes float32 `[samples]` in [-1, 1] as a 16-bit mono wav file."""
    pcm = np.clip(np.round(np.asarray(waveform, np.float32) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(pcm.tobytes())


def _read_pcm16_wav(path):
    with wave.open(str(path), "rb") as file:
        return np.frombuffer(file.readframes(file.getnframes()), "<i2").astype("float32") / 32768.0


class DamagedCache(Exception):
    """A cached corpus that is missing, incomplete or altered (it is rebuilt)."""


def _read_manifest(manifest, with_phones):
    """The cached corpus, checked file by file: raises `DamagedCache` when anything is missing or truncated."""
    try:
        rows = [json.loads(line) for line in open(manifest) if line.strip()]
    except FileNotFoundError:
        raise DamagedCache("no manifest.jsonl") from None
    except ValueError as error:
        raise DamagedCache(f"manifest.jsonl does not parse: {error}") from None
    if not rows:
        raise DamagedCache("manifest.jsonl is empty")
    folder = manifest.parent
    phone_names = [SILENCE] + sorted({p[2] for row in rows for p in row["phones"]} - {SILENCE})
    phone_index = {name: index for index, name in enumerate(phone_names)}
    speaker_names = {}
    for row in rows:
        speaker_names.setdefault(row["speaker_id"], row["speaker"])
    waveforms, phones = [], []
    for row in rows:
        try:
            waveform = _read_pcm16_wav(folder / row["path"])
        except (OSError, EOFError, wave.Error) as error:
            raise DamagedCache(f"{row['path']}: {error}") from None
        if len(waveform) != row["num_samples"]:
            raise DamagedCache(f"{row['path']} holds {len(waveform)} samples, the manifest {row['num_samples']}")
        waveforms.append(waveform)
        phones.append(frame_labels(row["phones"], len(waveform), phone_index))
    return SpeechCorpus(
        waveforms=waveforms,
        speakers=np.array([row["speaker_id"] for row in rows], np.int64),
        sentences=np.array([row["sentence_id"] for row in rows], np.int64),
        texts=[row["text"] for row in rows],
        phones=phones if with_phones else None,
        paths=[str(folder / row["path"]) for row in rows],
        speaker_split=np.array(["train"] * len(rows)),
        sentence_split=np.array(["train"] * len(rows)),
        speaker_names=[speaker_names[i] for i in sorted(speaker_names)],
        phone_names=phone_names,
        root=str(folder),
    )


# --------------------------------------------------------------------------------------------------------------
# The user's audio
# --------------------------------------------------------------------------------------------------------------


_DECODE_LOCK = threading.Lock()


def load_audio(path, sample_rate=SAMPLE_RATE):
    """Decodes an audio file (wav, flac, ogg, mp3) with tensorflow-io to float32 mono `[samples]` at `sample_rate`.

    Raises `AudioError` naming the file when it is missing, empty, corrupt, silent, has more than two channels or a
    sample rate below 8 kHz.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes); remove it or re-export the recording.")
    import tensorflow_io as tfio

    try:
        with _DECODE_LOCK:  # concurrent AudioIOTensor reads from tf.data threads can return truncated audio
            audio = tfio.audio.AudioIOTensor(str(path))
            rate = int(audio.rate.numpy())
            samples = audio.to_tensor()
    except Exception as error:  # tensorflow-io raises several op errors for undecodable input
        hint = " (mp3 decoding needs libmp3lame: sudo apt-get install libmp3lame0)" if path.suffix == ".mp3" else ""
        raise AudioError(f"{path}: cannot decode the audio ({type(error).__name__}: "
                         f"{str(error).splitlines()[-1][:160]}){hint}. Is the file corrupt or truncated?") from error
    if samples.shape.rank != 2 or samples.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no audio samples.")
    channels = int(samples.shape[1])
    if channels > MAX_CHANNELS:
        raise AudioError(f"{path}: {channels} channels are not supported (mono or stereo only); mix it down first, "
                         f"e.g. ffmpeg -i {path.name} -ac 1 out.wav")
    if rate < MIN_SAMPLE_RATE:
        raise AudioError(f"{path}: sample rate {rate} Hz is below the supported minimum of {MIN_SAMPLE_RATE} Hz.")
    if samples.dtype == tf.int16:
        samples = tf.cast(samples, tf.float32) / 32768.0
    elif samples.dtype == tf.int32:
        samples = tf.cast(samples, tf.float32) / 2147483648.0
    elif samples.dtype == tf.uint8:
        samples = (tf.cast(samples, tf.float32) - 128.0) / 128.0
    else:
        samples = tf.cast(samples, tf.float32)
    mono = tf.reduce_mean(samples, axis=1, keepdims=True)
    if rate != sample_rate:
        mono = tfio.audio.resample(mono, tf.cast(rate, tf.int64), tf.cast(sample_rate, tf.int64))
    waveform = mono.numpy()[:, 0].astype("float32")
    if waveform.size == 0 or not np.all(np.isfinite(waveform)):
        raise AudioError(f"{path}: decoding gave no finite samples; the file looks corrupt.")
    if float(np.max(np.abs(waveform))) < SILENCE_PEAK:
        raise AudioError(f"{path}: the recording is silent (peak amplitude below {SILENCE_PEAK:g}).")
    return waveform


def load_audio_corpus(path, skip_bad=False, min_seconds=0.0, validation=0.1, test=0.1, seed=0, progress=True,
                      decode=True):
    """The user's audio as a `SpeechCorpus` (phones None).

    Args:
        path: a folder of audio files (searched recursively; the first sub-folder level names the speaker), or a
            manifest `.csv` / `.jsonl` with a `path` column and optional `speaker`, `text`, `sentence` columns.
        skip_bad: skip files that cannot be used (listed with the reason in `corpus.skipped`) instead of raising.
        min_seconds: files shorter than this are bad (e.g. the crop length of training).
        validation, test: shares of sentences (by `sentence` or `text` column when given, else of files) held out.
        seed: seed of the split.
        decode: False lists the files without decoding them (`waveforms` is None), for corpora too large for
            memory: stream them with `make_file_crop_dataset` and decode the few you probe with `.decoded()`.
    """
    entries = _list_audio(Path(path))
    missing = [e["path"] for e in entries if not Path(e["path"]).is_file()]
    if missing and not skip_bad:  # before decoding anything: a wrong manifest fails at once
        listed = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise AudioError(f"{listed}: no such audio file (listed in {path}); fix the paths (relative paths are "
                         "relative to the manifest's folder) or pass skip_bad=True.")
    skipped = [(str(p), f"{p}: no such audio file (listed in {path}).") for p in missing]
    entries = [e for e in entries if e["path"] not in set(missing)]
    if not entries:
        raise AudioError(f"{path}: no usable audio files ({len(skipped)} skipped).")
    speaker_names = sorted({e["speaker"] for e in entries})
    speaker_index = {name: i for i, name in enumerate(speaker_names)}
    keys = [e.get("sentence") or e.get("text") or e["path"] for e in entries]
    key_index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    sentence_ids = np.array([key_index[k] for k in keys], np.int64)
    corpus = SpeechCorpus(
        waveforms=None,
        speakers=np.array([speaker_index[e["speaker"]] for e in entries], np.int64),
        sentences=sentence_ids,
        texts=[e.get("text", "") for e in entries],
        phones=None,
        paths=[str(e["path"]) for e in entries],
        speaker_split=np.array(["train"] * len(entries)),
        sentence_split=np.array(["train"] * len(entries)),
        speaker_names=speaker_names,
        skipped=skipped,
        root=str(path),
    )
    if len(key_index) >= 3:
        corpus.sentence_split = _sentence_split(sentence_ids, len(key_index), validation, test, seed)
    if not decode:
        return corpus
    return corpus.decoded(skip_bad=skip_bad, min_seconds=min_seconds, progress=progress)


def _decode_all(corpus, skip_bad, min_seconds, progress):
    from tqdm.auto import tqdm

    waveforms, kept, skipped = [], [], list(corpus.skipped)
    paths = corpus.paths
    for index, path in enumerate(tqdm(paths, desc="Decoding audio", disable=not progress or len(paths) < 50,
                                      unit="file")):
        try:
            waveform = load_audio(path)
            if len(waveform) < min_seconds * SAMPLE_RATE:
                raise AudioError(f"{path}: {len(waveform) / SAMPLE_RATE:.2f} s is shorter than the "
                                 f"{min_seconds:g} s needed (one crop).")
        except AudioError as error:
            if not skip_bad:
                raise
            skipped.append((str(path), str(error)))
            continue
        waveforms.append(waveform)
        kept.append(index)
    if not kept:
        raise AudioError(f"{corpus.root}: no usable audio files ({len(skipped)} skipped).")
    decoded = dataclasses.replace(corpus, waveforms=[None] * len(corpus)).subset(kept)
    decoded.waveforms = waveforms
    decoded.skipped = skipped
    present = sorted(set(decoded.speakers.tolist()))  # speakers whose every file was skipped leave the vocabulary
    remap = {old: new for new, old in enumerate(present)}
    decoded.speakers = np.array([remap[s] for s in decoded.speakers.tolist()], np.int64)
    decoded.speaker_names = [corpus.speaker_names[old] for old in present]
    return decoded


def _list_audio(path):
    if not path.exists():
        raise FileNotFoundError(f"No audio at {path}: pass a folder of {'/'.join(AUDIO_SUFFIXES)} files or a "
                                ".csv / .jsonl manifest with a 'path' column.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        if not files:
            raise AudioError(f"{path}: the folder holds no audio files ({', '.join(AUDIO_SUFFIXES)}).")
        entries = []
        for file in files:
            parts = file.relative_to(path).parts
            entries.append({"path": str(file), "speaker": parts[0] if len(parts) > 1 else "unknown"})
        return entries
    if path.suffix == ".csv":
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
    elif path.suffix in (".jsonl", ".json"):
        rows = []
        for number, line in enumerate(open(path), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise AudioError(f"{path}, line {number}: not valid JSON ({error}); each line must be an object such "
                                 'as {"path": "a.wav", "speaker": "s1"}.') from None
            if not isinstance(row, dict):
                raise AudioError(f'{path}, line {number}: expected an object such as {{"path": "a.wav"}}, got {row!r}.')
            rows.append(row)
    else:
        raise AudioError(f"{path}: a manifest must be .csv or .jsonl; for a single file use load_audio().")
    entries = []
    for line, row in enumerate(rows, start=2 if path.suffix == ".csv" else 1):
        if not row.get("path"):
            raise AudioError(f"{path}, line {line}: the manifest row has no 'path'; give every row the path of its "
                             "audio file.")
        file = Path(row["path"])
        entry = {key: str(value) for key, value in row.items() if value not in (None, "")}
        entry["path"] = str(file if file.is_absolute() else path.parent / file)
        entry.setdefault("speaker", "unknown")
        entries.append(entry)
    if not entries:
        raise AudioError(f"{path}: the manifest lists no files.")
    return entries


# --------------------------------------------------------------------------------------------------------------
# tf.data pipelines
# --------------------------------------------------------------------------------------------------------------


def make_crop_dataset(corpus, crop_samples, batch_size, shuffle=True, seed=0, crops_per_utterance=1,
                      skip_short=False, drop_remainder=None):
    """Random fixed-length crops: `(crops [batch, crop_samples] float32, speaker ids [batch] int64)` batches.

    Each pass yields `crops_per_utterance` crops of every utterance (random offsets, new ones every epoch when
    `shuffle`; offset 0 otherwise). An utterance shorter than `crop_samples` raises `AudioError` naming its file,
    or is skipped (counted in the returned dataset's `skipped_short` attribute) with `skip_short=True`.
    Training pipelines drop the last partial batch so every replica gets the same batch size.
    """
    if batch_size < 1 or crop_samples < 1:
        raise ValueError(f"batch_size and crop_samples must be positive; got {batch_size} and {crop_samples}.")
    lengths = np.array([len(w) for w in corpus.waveforms], np.int64)
    short = np.flatnonzero(lengths < crop_samples)
    if len(short) and not skip_short:
        first = short[0]
        raise AudioError(f"{corpus.paths[first]}: {lengths[first] / SAMPLE_RATE:.2f} s is shorter than one crop "
                         f"({crop_samples / SAMPLE_RATE:.2f} s); {len(short)} such file(s). Lower the crop length "
                         "or pass skip_short=True.")
    keep = np.flatnonzero(lengths >= crop_samples)
    drop_remainder = shuffle if drop_remainder is None else drop_remainder
    if drop_remainder and len(keep) * crops_per_utterance < batch_size:
        raise ValueError(f"Only {len(keep) * crops_per_utterance} crops for a batch size of {batch_size}: lower the "
                         "batch size.")
    flat = np.concatenate([corpus.waveforms[i] for i in keep]).astype("float32")
    offsets = np.concatenate([[0], np.cumsum(lengths[keep])[:-1]]).astype(np.int64)
    flat = tf.constant(flat)
    items = tf.data.Dataset.from_tensor_slices((offsets, lengths[keep], np.asarray(corpus.speakers)[keep]))
    if crops_per_utterance > 1:
        items = items.repeat(crops_per_utterance)
    if shuffle:
        items = items.shuffle(len(keep) * crops_per_utterance, seed=seed, reshuffle_each_iteration=True)
    items = tf.data.Dataset.zip((items, tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)))

    def crop(item, random_seed):
        offset, length, speaker = item
        if shuffle:
            start = tf.random.stateless_uniform([], seed=random_seed, maxval=length - crop_samples + 1,
                                                dtype=tf.int64)
        else:
            start = tf.constant(0, tf.int64)
        return flat[offset + start : offset + start + crop_samples], speaker

    dataset = items.map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    dataset.skipped_short = len(short)
    return dataset


def make_file_crop_dataset(corpus, crop_samples, batch_size, shuffle=True, seed=0, crops_per_utterance=1,
                           skip_bad=False):
    """Like `make_crop_dataset`, but decodes the audio files while streaming (`tf.data` runs tensorflow-io in
    parallel), for corpora larger than memory (`load_audio_corpus(path, decode=False)`).

    A file that cannot be used (corrupt, silent, shorter than one crop...) stops the pipeline with an error naming
    it, or with `skip_bad=True` is left out with a logged warning.
    """
    import logging

    if batch_size < 1 or crop_samples < 1:
        raise ValueError(f"batch_size and crop_samples must be positive; got {batch_size} and {crop_samples}.")
    if len(corpus) * crops_per_utterance < batch_size:
        raise ValueError(f"Only {len(corpus) * crops_per_utterance} crops for a batch size of {batch_size}: lower "
                         "the batch size.")

    def decode(path):
        path = path.decode() if isinstance(path, bytes) else str(path)
        try:
            waveform = load_audio(path)
            if len(waveform) < crop_samples:
                raise AudioError(f"{path}: {len(waveform) / SAMPLE_RATE:.2f} s is shorter than one crop "
                                 f"({crop_samples / SAMPLE_RATE:.2f} s).")
        except AudioError as error:
            if not skip_bad:
                raise
            logging.getLogger("keras_ae").warning("Skipping %s", error)
            return np.zeros([0], np.float32)
        return waveform

    items = tf.data.Dataset.from_tensor_slices((list(corpus.paths), np.asarray(corpus.speakers)))
    if crops_per_utterance > 1:
        items = items.repeat(crops_per_utterance)
    if shuffle:
        items = items.shuffle(len(corpus) * crops_per_utterance, seed=seed, reshuffle_each_iteration=True)
    items = tf.data.Dataset.zip((items, tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)))

    def load_and_crop(item, random_seed):
        path, speaker = item
        waveform = tf.numpy_function(decode, [path], tf.float32, stateful=False)
        waveform = tf.ensure_shape(waveform, [None])
        length = tf.shape(waveform, out_type=tf.int64)[0]
        if shuffle:
            start = tf.random.stateless_uniform([], seed=random_seed, maxval=tf.maximum(length - crop_samples + 1, 1),
                                                dtype=tf.int64)
        else:
            start = tf.constant(0, tf.int64)
        return waveform[start : start + crop_samples], speaker

    dataset = items.map(load_and_crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    dataset = dataset.filter(lambda crop, _: tf.shape(crop)[0] == crop_samples)
    dataset = dataset.map(lambda crop, speaker: (tf.ensure_shape(crop, [crop_samples]), speaker))
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def pad_batch(waveforms, multiple=FRAME_SAMPLES):
    """Zero-pads a list of waveforms to a common length (a multiple of `multiple`); returns `(batch, lengths)`."""
    lengths = np.array([len(w) for w in waveforms], np.int64)
    width = int(math.ceil(max(lengths.max(), 1) / multiple) * multiple)
    batch = np.zeros([len(waveforms), width], np.float32)
    for row, waveform in enumerate(waveforms):
        batch[row, : len(waveform)] = waveform
    return batch, lengths
