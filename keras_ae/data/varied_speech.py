"""More varied training speech: eSpeak NG speakers drawn from its whole range of English accents, voice variants
(klatt voices and the named variants included), pitches and rates, and a second engine (Flite's clustergen
voices), all saying the training sentences of the default corpus, with ARPAbet labels (`keras_ae.data.phones`).

    extra = load_extra_training_speech(corpus, sentences, espeak_speakers=32, flite=True)   # all "train"

The extra speakers say only the sentences whose split is `"train"` in `corpus`, so held-out sentences stay unseen;
`merge_corpora([to_arpabet(corpus), extra])` joins them to the corpus (speaker ids offset, one phone set).
"""

import numpy as np

from keras_ae.data.festival import FLITE_TRAINING_VOICES, load_engine_corpus
from keras_ae.data.phones import merge_corpora, to_arpabet
from keras_ae.data.speech import ACCENTS, Speaker, load_speech_corpus, variant_family

# eSpeak NG's English voice variants (espeak-ng-data/voices/!v): numbered male and female voices, the six klatt
# voices and named variants of different timbre.
WIDE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
                 "klatt3", "klatt4", "klatt5", "klatt6", "Alex", "Andy", "Annie", "Denis", "Gene", "Jacky", "Lee",
                 "Michael", "Mike", "Storm", "Tweaky", "adam", "anika", "aunty", "belinda", "benjamin", "boris",
                 "caleb", "david", "edward", "grandma", "grandpa", "ian", "iven", "john", "linda", "max", "norbert",
                 "paul", "quincy", "rob", "robert", "shelby", "steph", "travis")
WIDE_PITCHES = (5, 95)  # eSpeak's pitch parameter, 0-100
WIDE_RATES = (110, 240)  # words per minute


def wide_espeak_speakers(count, seed=0, exclude=(), exclude_families=False):
    """`count` distinct eSpeak speakers: every accent in turn, a seeded variant, pitch and rate from the wide
    ranges above. Candidates with the accent and variant of a speaker in `exclude` (e.g. held-out speakers) are
    skipped, so no extra speaker is a held-out voice at another pitch or rate. With `exclude_families`, candidates
    whose variant family (`variant_family`) is that of any speaker in `exclude` are skipped at every accent (the
    "variant" held-out split: no training voice shares a variant with a held-out one).

    Raises `ValueError` (before drawing) when `exclude` leaves an accent fewer distinct candidates than the speakers
    it must take (`count / len(ACCENTS)`, rounded up for the first accents).

    Example:
        from keras_ae.data.speech import corpus_speakers
        extra = wide_espeak_speakers(128, seed=1, exclude=corpus_speakers(16, 4, "variant")[12:],
                                     exclude_families=True)   # 128 distinct voices, none of a held-out family
    """
    taken = {(s.accent, s.variant) for s in exclude}
    families = {variant_family(s.variant) for s in exclude} if exclude_families else set()
    per_pitch_and_rate = (WIDE_PITCHES[1] - WIDE_PITCHES[0] + 1) * (WIDE_RATES[1] - WIDE_RATES[0] + 1)
    for index, accent in enumerate(ACCENTS):
        wanted = count // len(ACCENTS) + (index < count % len(ACCENTS))
        variants = [v for v in WIDE_VARIANTS if (accent, v) not in taken and variant_family(v) not in families]
        if wanted > len(variants) * per_pitch_and_rate:
            raise ValueError(f"Cannot draw {count} distinct wide eSpeak speakers: accent {accent} must take {wanted} "
                             f"but the exclusions leave it {len(variants)} variant(s) x {per_pitch_and_rate} "
                             "pitch-rate pairs; ask for fewer speakers or exclude fewer voices.")
    rng = np.random.default_rng(seed)
    speakers = set()
    ordered = []
    while len(ordered) < count:
        speaker = Speaker(ACCENTS[len(ordered) % len(ACCENTS)], str(rng.choice(WIDE_VARIANTS)),
                          int(rng.integers(WIDE_PITCHES[0], WIDE_PITCHES[1] + 1)),
                          int(rng.integers(WIDE_RATES[0], WIDE_RATES[1] + 1)))
        if (speaker not in speakers and (speaker.accent, speaker.variant) not in taken
                and variant_family(speaker.variant) not in families):
            speakers.add(speaker)
            ordered.append(speaker)
    return ordered


def load_extra_training_speech(corpus, sentences, espeak_speakers=32, flite=True, seed=0, progress=True,
                               exclude=(), exclude_families=False):
    """Extra training speakers for `corpus` (built from `sentences` with `seed`): `espeak_speakers` wide eSpeak
    speakers and (with `flite`) the Flite training voices, saying the corpus's training sentences, with ARPAbet
    labels, every utterance in the `"train"` splits; `exclude` and `exclude_families` as in
    `wide_espeak_speakers`. Returns None when nothing is asked for."""
    train_ids = sorted(set(corpus.sentences[corpus.sentence_split == "train"].tolist()))
    parts = []
    if espeak_speakers:
        voices = wide_espeak_speakers(espeak_speakers, seed=seed + 1, exclude=exclude,
                                      exclude_families=exclude_families)
        wide = load_speech_corpus(speakers=voices,
                                  sentences=[sentences[i] for i in train_ids], held_out_speakers=0,
                                  validation_sentences=0, test_sentences=0, seed=seed, progress=progress)
        wide.sentences = np.array(train_ids)[wide.sentences]
        parts.append(to_arpabet(wide))
    if flite:
        parts.append(load_engine_corpus(FLITE_TRAINING_VOICES, sentences, sentence_ids=train_ids, seed=seed,
                                        progress=progress))
    if not parts:
        return None
    extra = merge_corpora(parts)
    extra.speaker_split = np.array(["train"] * len(extra))
    extra.sentence_split = np.array(["train"] * len(extra))
    return extra
