"""Tiny ordered corpora for the sentence-model tests: predictable neighbours, learnable in a few steps."""

import numpy as np

from keras_ae.data.text import SentenceSplit

ANIMALS = ["cat", "dog", "bird", "fox"]
ACTIONS = ["wakes", "eats", "runs", "plays", "sleeps"]
PLACES = ["house", "field", "river", "wood"]


def cycle_split(repeats=6, chapters=2):
    """Each chapter tells the day of one animal, over and over: sentence `i + 1` follows from sentence `i`."""
    sentences, labels, segments = [], [], []
    for chapter in range(chapters):
        animal = ANIMALS[chapter % len(ANIMALS)]
        for repeat in range(repeats):
            for step, action in enumerate(ACTIONS):
                place = PLACES[(step + chapter) % len(PLACES)]
                sentences.append(f"The {animal} {action} in the {place}.")
                labels.append(chapter)
                segments.append(chapter)
    return SentenceSplit(sentences, np.asarray(labels, "int64"), np.asarray(segments, "int64"))


VOCABULARY = ["the", "in", *ANIMALS, *ACTIONS, *PLACES]


CHAIN_WORDS = [f"w{index}" for index in range(48)]


def chain_split(chapters=4, length=12):
    """Unique sentences `"w{i} w{i+1}"`: each sentence shares a word with its previous and next sentence."""
    sentences, labels, segments = [], [], []
    for chapter in range(chapters):
        words = CHAIN_WORDS[chapter * length : (chapter + 1) * length]
        for index in range(length - 1):
            sentences.append(f"{words[index]} {words[index + 1]}.")
            labels.append(chapter)
            segments.append(chapter)
    return SentenceSplit(sentences, np.asarray(labels, "int64"), np.asarray(segments, "int64"))

