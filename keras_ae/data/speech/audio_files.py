"""The user's audio: decoding files and folders or manifests into a SpeechCorpus (tensorflow-io)."""

import csv
import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data.speech.constants import (
    AUDIO_SUFFIXES,
    MAX_CHANNELS,
    MIN_SAMPLE_RATE,
    SAMPLE_RATE,
    SILENCE_PEAK,
    AudioError,
)
from keras_ae.data.speech.corpus import SpeechCorpus, _sentence_split
from keras_ae.data.speech.pcm import gather_waveforms, pcm16_if_exact


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


def decode_all(corpus, skip_bad, min_seconds, progress):
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
        waveforms.append(pcm16_if_exact(waveform))  # half the memory when the file is 16-bit PCM at 16 kHz
        kept.append(index)
    if not kept:
        raise AudioError(f"{corpus.root}: no usable audio files ({len(skipped)} skipped).")
    decoded = dataclasses.replace(corpus, waveforms=[None] * len(corpus)).subset(kept)
    decoded.waveforms = gather_waveforms(waveforms)
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
