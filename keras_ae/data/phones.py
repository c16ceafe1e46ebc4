"""One phone set for corpora from several engines: eSpeak NG's English phoneme mnemonics mapped to the CMU
(ARPAbet, lower case) phones that Festival and Flite label with, and corpora merged into one.

eSpeak distinguishes more vowels (British and American accents, stress and reduction variants) than ARPAbet; each
is mapped to its nearest ARPAbet phone (e.g. `"0"`, the British LOT vowel, to `"aa"`; `"@"` to `"ax"`; the glottal
stop `"?"` to `"t"`, the phone it replaces). A mnemonic not in the table is looked up without its variant marks
(trailing digits and `# - [ / ;`), then by its first character.

    varied = merge_corpora([to_arpabet(espeak_corpus), flite_corpus])   # one speaker and phone vocabulary
"""

import dataclasses

import numpy as np

from keras_ae.data.speech import SILENCE
from keras_ae.data.speech.pcm import concatenate

ESPEAK_TO_ARPABET = {
    # vowels and diphthongs
    "0": "aa", "3": "er", "3:": "er", "@": "ax", "@2": "ax", "@5": "ax", "@L": "el", "@r": "er", "A:": "aa",
    "A@": "aa", "A": "aa", "E": "eh", "E2": "eh", "E@": "eh", "I": "ih", "I#": "ih", "I2": "ih", "IR": "ih",
    "O": "ao", "O2": "ao", "O:": "ao", "O@": "ao", "OI": "oy", "U": "uh", "U@": "uh", "V": "ah", "VR": "er",
    "a": "ae", "a#": "ae", "aa": "ae", "a2": "ae", "aI": "ay", "aI2": "ay", "aI3": "ay", "aI@": "ay",
    "aI@3": "ay", "aU": "aw", "aU@": "aw", "e": "eh", "e@": "eh", "eI": "ey", "i": "iy", "i:": "iy", "i@": "ih",
    "i@3": "ih", "o": "ow", "o@": "ao", "oU": "ow", "oU#": "ow", "u": "uw", "u:": "uw", "u@": "uh", "y": "uw",
    # consonants
    "b": "b", "d": "d", "f": "f", "g": "g", "h": "hh", "j": "y", "k": "k", "l": "l", "m": "m", "n": "n",
    "p": "p", "r": "r", "s": "s", "t": "t", "v": "v", "w": "w", "z": "z", "D": "dh", "N": "ng", "S": "sh",
    "T": "th", "Z": "zh", "dZ": "jh", "tS": "ch", "x": "k", "C": "hh", "?": "t", "n-": "n", "m-": "m", "l-": "l",
    "r-": "r", "R": "r", "t#": "t", "t2": "t", "t[": "t", "d#": "d", "w#": "w", "z#": "z", "l/": "l", "L": "l",
    ";": SILENCE, SILENCE: SILENCE,
}
_VARIANT_MARKS = "0123456789#-[/;"


def arpabet(name):
    """The ARPAbet phone of an eSpeak English phoneme mnemonic (see the module doc)."""
    for key in (name, name.rstrip(_VARIANT_MARKS), name[:1]):
        if key in ESPEAK_TO_ARPABET:
            return ESPEAK_TO_ARPABET[key]
    raise ValueError(f"No ARPAbet phone for eSpeak's {name!r}; add it to keras_ae.data.phones.ESPEAK_TO_ARPABET.")


def relabel(corpus, mapping):
    """`corpus` with each phone name replaced by `mapping(name)` (ids renumbered, `"sil"` stays 0)."""
    if corpus.phones is None:
        return corpus
    mapped = [mapping(name) for name in corpus.phone_names]
    names = [SILENCE] + sorted(set(mapped) - {SILENCE})
    lookup = np.array([names.index(name) for name in mapped], np.int32)
    return dataclasses.replace(corpus, phones=[lookup[p] for p in corpus.phones], phone_names=names)


def to_arpabet(corpus):
    """An eSpeak corpus with ARPAbet frame labels."""
    return relabel(corpus, arpabet)


def merge_corpora(corpora):
    """One `SpeechCorpus` of several (each decoded, with phone labels in one phone set or none): speaker ids are
    offset so speakers stay distinct, the phone vocabularies are united, splits and sentence ids are kept."""
    corpora = list(corpora)
    if any(c.waveforms is None for c in corpora):
        raise ValueError("merge_corpora needs decoded corpora; call .decoded() first.")
    labelled = all(c.phones is not None for c in corpora)
    names = [SILENCE] + sorted({n for c in corpora if c.phones is not None for n in c.phone_names} - {SILENCE})
    phones, speakers, offset = [], [], 0
    for corpus in corpora:
        if labelled:
            lookup = np.array([names.index(n) for n in corpus.phone_names], np.int32)
            phones += [lookup[p] for p in corpus.phones]
        speakers.append(corpus.speakers + offset)
        offset += corpus.num_speakers
    first = corpora[0]
    return dataclasses.replace(
        first,
        waveforms=concatenate(c.waveforms for c in corpora),
        speakers=np.concatenate(speakers),
        sentences=np.concatenate([c.sentences for c in corpora]),
        texts=[t for c in corpora for t in c.texts],
        phones=phones if labelled else None,
        paths=[p for c in corpora for p in c.paths],
        speaker_split=np.concatenate([c.speaker_split for c in corpora]),
        sentence_split=np.concatenate([c.sentence_split for c in corpora]),
        speaker_names=[n for c in corpora for n in c.speaker_names],
        phone_names=names if labelled else None,
        skipped=[s for c in corpora for s in c.skipped],
        root=None,
    )
