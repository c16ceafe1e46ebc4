"""The synthesized, labelled multi-speaker corpus: SpeechCorpus, its splits and its atomic on-disk cache."""

import dataclasses
import hashlib
import json
import math
import wave
from pathlib import Path

import numpy as np

from keras_ae.data import keras_ae_home
from keras_ae.data.cache import DamagedCache, cached_folder
from keras_ae.data.speech.constants import CORPUS_VERSION, SAMPLE_RATE, SILENCE
from keras_ae.data.speech.sentences import builtin_sentences
from keras_ae.data.speech.espeak import corpus_speakers, frame_labels, synthesize
from keras_ae.data.speech.pcm import PcmWaveforms, take, waveform_lengths


@dataclasses.dataclass
class SpeechCorpus:
    """Utterances at 16 kHz with their labels (one entry per utterance in every list / array).

    Attributes:
        waveforms: float32 `[samples]` arrays in [-1, 1]: a list, or for a cached corpus a `PcmWaveforms` (int16
            in memory, float32 on access); None for a corpus listed without decoding.
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
        return float(self.lengths.sum()) / self.sample_rate

    @property
    def lengths(self):
        """int64 `[n]`: every utterance's number of samples (read without decoding a `PcmWaveforms` to float)."""
        if self.waveforms is None:
            raise ValueError("The corpus is not decoded (load_audio_corpus(decode=False)); call .decoded() first.")
        return waveform_lengths(self.waveforms)

    def subset(self, indices):
        """The utterances at `indices` (label vocabularies kept, so ids stay comparable)."""
        indices = np.asarray(indices, dtype=np.int64)
        return dataclasses.replace(
            self,
            waveforms=None if self.waveforms is None else take(self.waveforms, indices),
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

    def sample(self, count, seed=0):
        """At most `count` utterances, a seeded choice kept in corpus order."""
        if len(self) <= count:
            return self
        return self.subset(np.sort(np.random.default_rng(seed).permutation(len(self))[:count]))

    def decoded(self, skip_bad=False, min_seconds=0.0, progress=True):
        """This corpus with its audio decoded (itself if it already is); see `load_audio_corpus(decode=False)`."""
        if self.waveforms is not None:
            return self
        from keras_ae.data.speech.audio_files import decode_all  # audio_files builds on SpeechCorpus

        return decode_all(self, skip_bad, min_seconds, progress)


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
    held_out_split="legacy",
):
    """The synthesized multi-speaker corpus as a `SpeechCorpus`, built on first use and cached.

    Args:
        num_speakers: number of default speakers (`corpus_speakers`; ignored when `speakers` is given).
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
        held_out_split: how the default speakers' held-out voices are made (`corpus_speakers`): `"legacy"` (the
            corpus every speech recipe has used; the default here) or `"variant"` (held-out voices whose variant no
            seen speaker uses; the same seen speakers). Ignored when `speakers` is given.
    """
    speakers = (list(speakers) if speakers is not None
                else corpus_speakers(num_speakers, held_out_speakers, held_out_split))
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
    corpus = cached_folder(folder, "speech corpus cache",
                           lambda staging: _build_corpus(staging, speakers, sentences, jitter, seed, progress),
                           lambda cached: _read_manifest(cached / "manifest.jsonl", with_phones=True),
                           markers=["manifest.jsonl"])
    return assign_splits(corpus, len(sentences), validation_sentences, test_sentences, len(speakers),
                         held_out_speakers, seed)


def assign_splits(corpus, num_sentences, validation_sentences, test_sentences, num_speakers, held_out_speakers,
                  seed):
    """Gives a synthesized corpus its sentence split (seeded) and its speaker split (the last `held_out_speakers`
    speakers are `"test"`); returns the corpus."""
    corpus.sentence_split = _sentence_split(corpus.sentences, num_sentences, validation_sentences, test_sentences,
                                            seed)
    held_out = set(range(num_speakers - held_out_speakers, num_speakers))
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


def _build_corpus(staging, speakers, sentences, jitter, seed, progress):
    from tqdm.auto import tqdm

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


def write_wav(path, waveform, sample_rate=SAMPLE_RATE):
    """Writes float32 `[samples]` in [-1, 1] as a 16-bit mono wav file."""
    pcm = np.clip(np.round(np.asarray(waveform, np.float32) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(pcm.tobytes())


def _read_pcm16_wav(path):
    """The int16 samples of a 16-bit mono wav file."""
    with wave.open(str(path), "rb") as file:
        return np.frombuffer(file.readframes(file.getnframes()), "<i2").astype(np.int16)


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
        waveforms=PcmWaveforms(waveforms),
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
