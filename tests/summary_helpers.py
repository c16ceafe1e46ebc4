"""Tiny document-summary sets for the text-as-latent tests: learnable in a few steps."""

import numpy as np

TOPICS = ["yaml", "json", "xml", "toml", "csv", "sql"]
KINDS = ["parser", "library", "tool", "server"]
LANGUAGES = ["python", "rust", "perl", "ruby"]
FILLER = ["this", "package", "provides", "a", "fast", "small", "for", "the", "with", "and", "files"]


def tiny_pairs(count=64, seed=0):
    """`(documents, summaries)`: each document names a topic, a kind and a language among filler words; its summary
    is "<language> <kind> for <topic>"."""
    rng = np.random.default_rng(seed)
    documents, summaries = [], []
    for _ in range(count):
        topic, kind, language = rng.choice(TOPICS), rng.choice(KINDS), rng.choice(LANGUAGES)
        words = [*rng.choice(FILLER, 3), language, kind, "for", topic, *rng.choice(FILLER, 4)]
        documents.append(" ".join(words))
        summaries.append(f"{language} {kind} for {topic}")
    return documents, summaries


VOCABULARY = sorted({*TOPICS, *KINDS, *LANGUAGES, *FILLER})
