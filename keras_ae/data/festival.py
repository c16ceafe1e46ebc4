"""Speech from Festival and Flite (Debian packages), with phone labels from each engine's own segment timings.

These engines add voices the eSpeak NG formant synthesizer cannot: Festival's diphone concatenation
(`festvox-kallpc16k`, `festvox-kdlpc16k`) and HTS statistical-parametric voice (`festvox-us-slt-hts`), and Flite's
clustergen voices (`awb`: Scottish English male, `rms`: US male). Both engines label their segments with the CMU
(ARPAbet) phone set; the pause phone becomes `"sil"`, as in `keras_ae.data.speech`, and `keras_ae.data.phones`
maps eSpeak's phones to the same set.

`load_engine_corpus(voices, sentences)` renders every sentence with every voice once, caches it under
`keras_ae_home()/speech/<engine>-<hash>/` in the manifest format of the eSpeak corpus (16 kHz 16-bit wav files and
`manifest.jsonl`, built in a temporary folder and renamed into place) and returns a `SpeechCorpus`.

    corpus = load_engine_corpus(HELD_OUT_VOICES, builtin_sentences(200), sentence_ids=range(40))
    corpus.phone_names     # ["sil", "aa", "ae", ...]

Installs: `sudo apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite`
(`scripts/install.sh` does it).
"""

import dataclasses
import hashlib
import json
import math
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from keras_ae.data import keras_ae_home
from keras_ae.data.cache import cached_folder
from keras_ae.data.speech import SAMPLE_RATE, SILENCE, _read_manifest, _sentence_split, write_wav
from keras_ae.data.speech.corpus import assign_splits

ENGINE_CORPUS_VERSION = 1
_PAUSES = ("pau", "h#", "brth", "#")
_INSTALL = "sudo apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite"


@dataclasses.dataclass(frozen=True)
class FestivalVoice:
    """A Festival voice (`voice` is the name after `voice_`, e.g. `"kal_diphone"`), with an optional target mean
    F0 in Hz (diphone voices' linear-regression intonation; None keeps the voice's own) and a duration stretch."""

    voice: str
    f0_mean: float | None = None
    stretch: float | None = None
    engine = "festival"

    @property
    def name(self):
        parts = [f"festival {self.voice}"]
        parts += [f"f0 {self.f0_mean:g}"] if self.f0_mean else []
        parts += [f"x{self.stretch:g}"] if self.stretch else []
        return " ".join(parts)


@dataclasses.dataclass(frozen=True)
class FliteVoice:
    """A Flite voice (`flite -lv` lists them: kal, kal16, awb, rms, slt) with a duration stretch."""

    voice: str
    stretch: float = 1.0
    engine = "flite"

    @property
    def name(self):
        return f"flite {self.voice} x{self.stretch:g}"


# Evaluation only: never in a training corpus (Festival's diphone and HTS voices, 5 speakers).
HELD_OUT_VOICES = (
    FestivalVoice("kal_diphone"),
    FestivalVoice("kal_diphone", f0_mean=140.0, stretch=0.95),
    FestivalVoice("ked_diphone"),
    FestivalVoice("ked_diphone", f0_mean=85.0, stretch=1.25),
    FestivalVoice("cmu_us_slt_arctic_hts"),
)
# Training variety from a second engine: Flite's clustergen voices at three speaking rates (kal16 and slt are left
# out: they are the held-out voices' speakers).
FLITE_TRAINING_VOICES = tuple(FliteVoice(voice, stretch) for voice in ("awb", "rms") for stretch in (0.9, 1.05, 1.2))


def _program(name):
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"The {name} program is missing; install the engines with: {_INSTALL}")
    return path


def _read_wav(path):
    """float32 mono samples at 16 kHz from a 16-bit wav file of any sample rate."""
    from scipy.signal import resample_poly

    with wave.open(str(path), "rb") as file:
        rate, channels = file.getframerate(), file.getnchannels()
        samples = np.frombuffer(file.readframes(file.getnframes()), "<i2").astype("float32") / 32768.0
    samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE:
        gcd = math.gcd(SAMPLE_RATE, rate)
        samples = resample_poly(samples, SAMPLE_RATE // gcd, rate // gcd)
    return np.clip(samples, -1.0, 1.0).astype("float32")


def _segments(ends, num_samples):
    """`[(start, end, phone), ...]` at 16 kHz from `[(phone, end_seconds), ...]`; pauses become `"sil"`, adjacent
    equal phones merge and the last segment reaches the end of the audio."""
    segments, start = [], 0
    for index, (phone, end_seconds) in enumerate(ends):
        end = num_samples if index == len(ends) - 1 else min(num_samples, int(round(end_seconds * SAMPLE_RATE)))
        name = SILENCE if phone in _PAUSES else phone
        if end <= start:
            continue
        if segments and segments[-1][2] == name:
            segments[-1] = (segments[-1][0], end, name)
        else:
            segments.append((start, end, name))
        start = end
    return segments


def _scheme_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_festival(voice, texts, folder):
    """Speaks every text of `texts` with the Festival `voice` (one `festival` process); returns
    `[(waveform, segments), ...]`. `folder` holds the engine's raw wav files."""
    festival = _program("festival")
    lines = [f"(voice_{voice.voice})"]
    if voice.f0_mean:
        lines.append(f"(set! int_lr_params (cons (list 'target_f0_mean {voice.f0_mean:g}) int_lr_params))")
    if voice.stretch:
        lines.append(f"(Parameter.set 'Duration_Stretch {voice.stretch:g})")
    for index, text in enumerate(texts):
        path = Path(folder) / f"festival-{index:05d}.wav"
        lines += [
            f"(set! utt (SynthText {_scheme_string(text)}))",
            f'(utt.save.wave utt "{path}" \'riff)',
            f'(format t "UTT {index}\\n")',
            "(mapcar (lambda (s) (format t \"SEG %s %f\\n\" (item.name s) (item.feat s \"end\"))) "
            "(utt.relation.items utt 'Segment))",
        ]
    script = Path(folder) / "render.scm"
    script.write_text("\n".join(lines) + "\n")
    result = subprocess.run([festival, "-b", str(script)], capture_output=True, text=True)
    if result.returncode != 0 or "UTT" not in result.stdout:
        raise RuntimeError(f"festival failed for voice {voice.voice!r} (is its festvox package installed? "
                           f"{_INSTALL}): {result.stderr.strip()[-400:]}")
    ends = {}
    for line in result.stdout.splitlines():
        if line.startswith("UTT "):
            current = ends.setdefault(int(line.split()[1]), [])
        elif line.startswith("SEG "):
            _, phone, end = line.split()
            current.append((phone, float(end)))
    outputs = []
    for index in range(len(texts)):
        waveform = _read_wav(Path(folder) / f"festival-{index:05d}.wav")
        outputs.append((waveform, _segments(ends[index], len(waveform))))
    return outputs


def render_flite(voice, texts, folder):
    """Speaks every text of `texts` with the Flite `voice`; returns `[(waveform, segments), ...]`."""
    flite = _program("flite")
    outputs = []
    for index, text in enumerate(texts):
        path = Path(folder) / f"flite-{index:05d}.wav"
        result = subprocess.run([flite, "-voice", voice.voice, "--setf", f"duration_stretch={voice.stretch:g}",
                                 "-psdur", "-t", text, "-o", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"flite failed for voice {voice.voice!r} ({_INSTALL}): {result.stderr.strip()[-400:]}")
        ends = [(item.rsplit(":", 1)[0], float(item.rsplit(":", 1)[1])) for item in result.stdout.split()
                if ":" in item]
        waveform = _read_wav(path)
        outputs.append((waveform, _segments(ends, len(waveform))))
    return outputs


_RENDERERS = {"festival": render_festival, "flite": render_flite}


def sentence_splits(num_sentences, validation_sentences=0.1, test_sentences=0.1, seed=0):
    """The split (`"train"`, `"validation"` or `"test"`) of each of `num_sentences` sentence ids, as
    `load_speech_corpus` and `load_engine_corpus` split them."""
    return _sentence_split(np.arange(num_sentences), num_sentences, validation_sentences, test_sentences, seed)


def load_engine_corpus(voices, sentences, sentence_ids=None, held_out_speakers=0, validation_sentences=0.1,
                       test_sentences=0.1, seed=0, root=None, progress=True):
    """`sentences` spoken by every voice of `voices` (`FestivalVoice` / `FliteVoice`), as a `SpeechCorpus` with
    ARPAbet frame labels; built once and cached.

    Args:
        voices: the speakers, in speaker-id order.
        sentences: the full list of texts; sentence ids and the sentence split are over all of it (the same split as
            `load_speech_corpus` for the same list and seed).
        sentence_ids: the ids to render (default all), e.g. only the probe's training and test sentences.
        held_out_speakers: the last voices get `speaker_split` `"test"`.
        validation_sentences, test_sentences, seed: the sentence split (see `load_speech_corpus`).
        root: cache folder (default `keras_ae_home() / "speech"`).
    """
    voices, sentences = list(voices), list(sentences)
    sentence_ids = list(range(len(sentences))) if sentence_ids is None else sorted(set(int(i) for i in sentence_ids))
    if not voices or not sentence_ids:
        raise ValueError("An engine corpus needs at least one voice and one sentence.")
    if not 0 <= held_out_speakers < len(voices):
        raise ValueError(f"held_out_speakers must be in [0, {len(voices) - 1}]; got {held_out_speakers}.")
    if sentence_ids[0] < 0 or sentence_ids[-1] >= len(sentences):
        raise ValueError(f"sentence_ids must index the {len(sentences)} sentences; got {sentence_ids[-1]}.")
    spec = {"version": ENGINE_CORPUS_VERSION, "voices": [[v.engine, v.name] for v in voices],
            "sentences": [sentences[i] for i in sentence_ids], "ids": sentence_ids}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    engines = "-".join(sorted({v.engine for v in voices}))
    root = Path(root) if root is not None else keras_ae_home() / "speech"
    folder = root / f"{engines}-{digest}"
    for voice in voices:  # fail before any work when a program is missing
        _program(voice.engine)
    corpus = cached_folder(folder, "engine corpus cache",
                           lambda staging: _build(staging, voices, sentences, sentence_ids, progress),
                           lambda cached: _read_manifest(cached / "manifest.jsonl", with_phones=True),
                           markers=["manifest.jsonl"])
    return assign_splits(corpus, len(sentences), validation_sentences, test_sentences, len(voices),
                         held_out_speakers, seed)


def _build(staging, voices, sentences, sentence_ids, progress):
    from tqdm.auto import tqdm

    rows = []
    texts = [sentences[i] for i in sentence_ids]
    for speaker_id, voice in enumerate(tqdm(voices, desc=f"Rendering {len(voices)} x {len(texts)} utterances",
                                            disable=not progress, unit="voice")):
        (staging / f"s{speaker_id:03d}").mkdir()
        with tempfile.TemporaryDirectory(dir=staging) as raw:
            rendered = _RENDERERS[voice.engine](voice, texts, raw)
        for sentence_id, text, (waveform, segments) in zip(sentence_ids, texts, rendered):
            path = f"s{speaker_id:03d}/u{sentence_id:04d}.wav"
            write_wav(staging / path, waveform)
            rows.append({"path": path, "speaker": voice.name, "speaker_id": speaker_id,
                         "sentence_id": sentence_id, "text": text, "num_samples": len(waveform),
                         "phones": [[int(a), int(b), name] for a, b, name in segments]})
    with open(staging / "manifest.jsonl", "w") as file:
        for row in rows:
            file.write(json.dumps(row) + "\n")
