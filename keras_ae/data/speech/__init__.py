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
    corpus.waveforms[i]                               # float32 [samples] at 16 kHz (held as int16, PcmWaveforms)
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
with `skip_bad=True` such files are skipped and listed in `corpus.skipped` instead. When every file is 16-bit mono
at 16 kHz the samples are kept as int16 (`PcmWaveforms`, float32 when read), as for the synthesized corpus.

Pipelines
---------
    dataset = make_crop_dataset(train, crop_samples=20480, batch_size=32, shuffle=True)   # (crops, speaker ids)

Corpora larger than memory: `load_audio_corpus(path, decode=False)` lists the files; `make_file_crop_dataset`
decodes them while streaming; `corpus.subset(...).decoded()` decodes the few utterances a probe needs.
"""

from keras_ae.data.speech.constants import (  # noqa: F401
    SAMPLE_RATE,
    FRAME_SAMPLES,
    AUDIO_SUFFIXES,
    MIN_SAMPLE_RATE,
    MAX_CHANNELS,
    SILENCE_PEAK,
    SILENCE,
    CORPUS_VERSION,
    AudioError,
)
from keras_ae.data.speech.sentences import (  # noqa: F401
    builtin_sentences,
)
from keras_ae.data.speech.espeak import (  # noqa: F401
    ACCENTS,
    PITCHES,
    RATES,
    VARIANTS,
    HELD_OUT_SPLITS,
    Speaker,
    corpus_speakers,
    default_speakers,
    variant_family,
    synthesize,
    frame_labels,
)
from keras_ae.data.speech.pcm import (  # noqa: F401
    PCM_SCALE,
    PcmWaveforms,
    waveform_lengths,
)
from keras_ae.data.speech.corpus import (  # noqa: F401
    SpeechCorpus,
    load_speech_corpus,
    _sentence_split,
    write_wav,
    DamagedCache,
    _read_manifest,
)
from keras_ae.data.speech.audio_files import (  # noqa: F401
    load_audio,
    load_audio_corpus,
)
from keras_ae.data.speech.pipelines import (  # noqa: F401
    make_crop_dataset,
    make_file_crop_dataset,
    pad_batch,
)


__all__ = [
    "ACCENTS",
    "AUDIO_SUFFIXES",
    "AudioError",
    "CORPUS_VERSION",
    "DamagedCache",
    "FRAME_SAMPLES",
    "HELD_OUT_SPLITS",
    "MAX_CHANNELS",
    "MIN_SAMPLE_RATE",
    "PCM_SCALE",
    "PITCHES",
    "PcmWaveforms",
    "RATES",
    "SAMPLE_RATE",
    "SILENCE",
    "SILENCE_PEAK",
    "Speaker",
    "SpeechCorpus",
    "VARIANTS",
    "builtin_sentences",
    "corpus_speakers",
    "default_speakers",
    "frame_labels",
    "load_audio",
    "load_audio_corpus",
    "load_speech_corpus",
    "make_crop_dataset",
    "make_file_crop_dataset",
    "variant_family",
    "pad_batch",
    "synthesize",
    "waveform_lengths",
    "write_wav",
]
