"""Sentences for grammar induction, with gold trees when there are any: a built-in synthetic treebank (default), a
text file of one sentence a line, the embedded Austen corpus's short sentences, the larger offline corpora of
`keras_ae.data.corpus` (`books`: Austen and four more novels; `prose`: also the King James Bible; `all`: also
Debian's package descriptions), or a Penn Treebank bracket file.

Example:
    data = load_tree_data("synthetic", max_length=10)                 # or "austen", "sentences.txt"
    data = load_tree_data("sentences.txt", gold_trees="trees.mrg")     # one gold tree per line of sentences.txt
    data = load_tree_data(None, gold_trees="wsj_23.mrg")               # sentences are the trees' leaves
    vocabulary = build_vocabulary(data.train, size=10000)
    batches = make_sentence_dataset(data.train, batch_size=64, shuffle=True)
    batches, steps = make_curriculum_dataset(data.train, batch_size=64, epochs=4, start_length=4)  # short first

Protocol (fixed, never tuned on test):
- Punctuation (Kim, Dyer & Rush, 2019, following Klein & Manning, 2002): removed. In text, a word is a run of
  letters and digits with inner apostrophes or hyphens ("don't", "well-known"); everything else is dropped, so
  "Mr. Darcy, smiling." becomes "Mr Darcy smiling". In trees, leaves tagged as punctuation (`PUNCTUATION_TAGS`) and
  empty elements (`-NONE-`, traces) are dropped, and so are constituents left without leaves.
- Length: sentences of more than `max_length` words (after punctuation) are skipped and counted
  (`TreeData.skipped_long`), as are sentences of fewer than 2 words (`skipped_short`): one word has no binary tree.
  The test sentences (and `test_trees`) have their own limit, `test_max_length` (default: `max_length`), so that
  training on longer sentences keeps the evaluation's sentences (the counts above are the loaded splits').
- Splits: the synthetic treebank samples its three splits with different seeds. Files and the Austen corpus: line
  (or sentence) `i` goes to test when `i % 10 == 3`, to validation when `i % 10 == 7`, to training otherwise
  (Austen and the corpora: their own held-out chapters or documents, see `keras_ae.data.text` and
  `keras_ae.data.corpus`; Austen's test chapters are the same in `austen`, `books` and `all`). Gold trees are only
  ever used for evaluation. With `test_trees`, a training or validation sentence that equals one of those trees'
  sentences (ignoring case) is dropped as well (`TreeData.dropped_test_duplicates`), so no test sentence is ever
  trained on, even where a short sentence ("I dare say") recurs in another chapter. `held_out_trees` (other gold
  files a run will be scored on later, e.g. the second gold set beside the Austen one) drop their sentences the same
  way, without replacing the test split.
- Choosing a setting on gold trees (e.g. `--right-edge-prior`, `benchmarks/tree_prior_selection.py`): a gold set is
  cut once into a dev half, where settings are compared, and a test half, where F1 is reported (`gold_half`, a fixed
  rule on each sentence's words).
- Repeats (`load_tree_data(drop_repeats=True, max_opening_share=S)`, off by default): the training and validation
  splits each keep one copy of a sentence (ignoring case) and at most a share S of their sentences opening with the
  same two words (`thin_repeats`), so that boilerplate (Debian's "This package ...") cannot dominate a corpus.
- Bad input: an empty file, a tree file that does not parse, or gold trees whose leaves differ from their
  sentences raise an error naming the file and line.
"""

import collections
import dataclasses
import re
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data.corpus import CORPORA, load_corpus

PUNCTUATION_TAGS = frozenset({",", ".", ":", "``", "''", "-LRB-", "-RRB-", "#", "$", "-NONE-", "HYPH", "NFP"})
_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_CLAUSE_BREAK = re.compile(r"[;:\u2014\u2013]|--")
HELD_OUT_EVERY, TEST_SLOT, VALIDATION_SLOT = 10, 3, 7
MIN_LENGTH = 2
OPENING_WORDS = 2  # the words of a sentence's opening that `thin_repeats` caps


@dataclasses.dataclass
class TreeData:
    """Sentences (strings of space-separated words) per split; gold trees (`nltk.Tree`) of the validation and test
    sentences when known."""

    name: str
    train: list
    validation: list
    test: list
    validation_trees: list = None
    test_trees: list = None
    skipped_long: int = 0
    skipped_short: int = 0
    dropped_test_duplicates: int = 0
    clause_pieces: int = 0
    repeats_dropped: int = 0
    openings_capped: int = 0


# ----------------------------------------------------------------------------------------------------------------
# Punctuation and trees


def strip_punctuation(text):
    """The words of `text` joined by single spaces (see the module docstring for what a word is).

    Example:
        strip_punctuation('"Mr. Darcy," said she -- smiling.')   # 'Mr Darcy said she smiling'
    """
    return " ".join(_WORD.findall(str(text)))


def clause_pieces(text, max_length):
    """The parts of a sentence between semicolons, colons and dashes, punctuation removed, that have MIN_LENGTH ..
    `max_length` words: short in-domain training text cut from sentences too long to keep whole.

    Example:
        clause_pieces("She rose; and, smiling, walked to the window -- alone.", 10)
        # ['She rose', 'and smiling walked to the window']   ("alone", one word, has no binary tree)
    """
    pieces = (strip_punctuation(part) for part in _CLAUSE_BREAK.split(str(text)))
    return [piece for piece in pieces if MIN_LENGTH <= len(piece.split()) <= max_length]


def clean_tree(tree):
    """A copy of an `nltk.Tree` without punctuation-tagged leaves, empty elements, and constituents left empty;
    `None` when nothing is left."""
    import nltk

    if not isinstance(tree, nltk.Tree):
        return tree
    if len(tree) == 1 and not isinstance(tree[0], nltk.Tree):  # a preterminal
        return None if tree.label() in PUNCTUATION_TAGS else nltk.Tree(tree.label(), [tree[0]])
    children = [child for child in (clean_tree(child) for child in tree) if child is not None]
    return nltk.Tree(tree.label(), children) if children else None


def read_treebank(path):
    """The trees of a Penn Treebank bracket file (one tree per balanced bracket group, over any number of lines),
    read with nltk's `Tree.fromstring`, as `[(tree, line_number)]`. PTB's unlabelled outer brackets `( (S ...) )`
    are removed. Raises an error naming the line of a tree that does not parse or whose brackets do not balance."""
    from keras_ae.data.text import read_text_file

    try:
        import nltk  # noqa: F401  (the trees are nltk.Tree objects)
    except ModuleNotFoundError:
        raise ModuleNotFoundError("Reading treebank files needs nltk: pip install 'nltk>=3.8'") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No gold-tree file at {path}: give a Penn Treebank bracket file (--gold-trees).")
    text = "\n".join(read_text_file(path))  # non-UTF-8 bytes: an error naming the line
    trees, depth, start, start_line, line = [], 0, None, 0, 1
    for index, character in enumerate(text):
        if character == "\n":
            line += 1
        elif character == "(":
            if depth == 0:
                start, start_line = index, line
            depth += 1
        elif character == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"{path}, line {line}: a ')' closes no open bracket; the file is not bracketed trees.")
            if depth == 0:
                trees.append((_parse_tree(text[start : index + 1], path, start_line), start_line))
        elif depth == 0 and not character.isspace():
            raise ValueError(
                f"{path}, line {line}: text {text[index:index + 20]!r} outside any tree; a Penn Treebank file holds "
                "only bracketed trees such as (S (NP (DT the) (NN cat)) (VP (VBD sat)))."
            )
    if depth > 0:
        raise ValueError(f"{path}, line {start_line}: the tree that starts here never closes (missing ')').")
    if not trees:
        raise ValueError(f"{path} holds no trees; give a Penn Treebank bracket file.")
    return trees


def _parse_tree(string, path, line):
    import nltk

    try:
        tree = nltk.Tree.fromstring(string)
    except ValueError as error:
        raise ValueError(f"{path}, line {line}: the tree does not parse ({error}).") from None
    while isinstance(tree, nltk.Tree) and tree.label() in ("", "ROOT", "TOP") and len(tree) == 1:
        tree = tree[0]
    if not isinstance(tree, nltk.Tree):
        raise ValueError(f"{path}, line {line}: {string[:40]!r} is a bare word, not a tree.")
    return tree


def tree_words(tree):
    """The leaves of a tree as one string of space-separated words."""
    return " ".join(tree.leaves())


def gold_half(sentence):
    """`"dev"` or `"test"`: the fixed half of a gold set that a sentence (its words, space-separated) belongs to, so
    that a setting is chosen on the dev half's trees and F1 reported on the test half's only. The rule reads the
    sentence alone (the CRC-32 of its lower-cased words: even is dev), so a file's order, a length limit and other
    gold files leave every sentence's half unchanged; `benchmarks/data/austen_gold_trees.mrg` splits 74 / 82.

    Example:
        gold_half("Your promise makes me easy")   # 'test'
    """
    return "dev" if zlib.crc32(str(sentence).lower().encode("utf-8")) % 2 == 0 else "test"


def thin_repeats(sentences, drop_repeats=True, max_opening_share=None):
    """`sentences` without repeats (ignoring case; the first copy stays) and, with `max_opening_share`, with at most
    that share of the sentences left opening with the same `OPENING_WORDS` words (lower case; a capped opening keeps
    occurrences spread evenly over the list): `(kept, repeats_dropped, openings_capped)`, in the original order.
    Boilerplate, such as Debian's thousands of copies of one description sentence and the fifth of its sentences that
    open "This package", lets a likelihood-trained PCFG learn a fixed prefix as a constituent
    (docs/results/tree_latent.md).

    Example:
        thin_repeats(["This package a", "This package b", "this package a", "She ran"], max_opening_share=0.5)
        # (['This package a', 'She ran'], 1, 1)
    """
    if max_opening_share is not None and not 0 < max_opening_share <= 1:
        raise ValueError(f"max_opening_share (--max-opening-share) must be in (0, 1]; got {max_opening_share!r}.")
    kept, seen = [], set()
    for sentence in sentences:
        key = sentence.lower()
        if not drop_repeats or key not in seen:
            seen.add(key)
            kept.append(sentence)
    repeats = len(sentences) - len(kept)
    if max_opening_share is None:
        return kept, repeats, 0
    limit = max(1, int(max_opening_share * len(kept)))
    by_opening = collections.defaultdict(list)
    for index, sentence in enumerate(kept):
        by_opening[" ".join(sentence.lower().split()[:OPENING_WORDS])].append(index)
    dropped = set()
    for indices in by_opening.values():
        if len(indices) > limit:
            chosen = set(np.round(np.linspace(0, len(indices) - 1, limit)).astype(int))
            dropped.update(index for position, index in enumerate(indices) if position not in chosen)
    return [sentence for index, sentence in enumerate(kept) if index not in dropped], repeats, len(dropped)


# ----------------------------------------------------------------------------------------------------------------
# The synthetic treebank

# An English-like PCFG: (left-hand side, right-hand side, weight). Upper-case symbols are phrases or tags; the tags'
# words are in LEXICON. Subjects and objects are noun phrases with determiners, adjectives and prepositional
# phrases, so neither right- nor left-branching trees are right. A known oddity, kept in every version so that
# grammar 1 samples what it always sampled: a modal takes the ordinary (past-tense) verb phrase, "you could walked".
SYNTHETIC_GRAMMAR = [
    ("S", ("NP", "VP"), 0.75),
    ("S", ("NP", "MD", "VP"), 0.1),
    ("S", ("PP", "NP", "VP"), 0.15),
    ("NP", ("DT", "NN"), 0.35),
    ("NP", ("DT", "ADJP", "NN"), 0.2),
    ("NP", ("PRP",), 0.12),
    ("NP", ("NNP",), 0.1),
    ("NP", ("NNS",), 0.08),
    ("NP", ("NP", "PP"), 0.15),
    ("ADJP", ("JJ",), 0.8),
    ("ADJP", ("RB", "JJ"), 0.2),
    ("VP", ("VBD",), 0.25),
    ("VP", ("VBT", "NP"), 0.45),
    ("VP", ("VP", "PP"), 0.15),
    ("VP", ("VP", "RBM"), 0.07),
    ("VP", ("VBS", "SBAR"), 0.08),
    ("SBAR", ("IN", "S"), 1.0),
    ("PP", ("P", "NP"), 1.0),
]
LEXICON = {
    "DT": "the a this that every some no another".split(),
    "NN": (
        "dog cat house garden letter horse carriage sister friend window book road river town dinner ball party "
        "officer lady gentleman child morning table door field walk").split(),
    "NNS": "dogs horses letters friends children flowers officers ladies books people".split(),
    "NNP": "elizabeth darcy emma anne jane bingley harriet london bath kitty".split(),
    "PRP": "she he they we it i you".split(),
    "JJ": "old young small large happy quiet pretty tall kind clever new dark".split(),
    "RB": "very rather quite too".split(),
    "RBM": "quickly slowly yesterday again today often".split(),
    "MD": "will could should might must".split(),
    "VBD": "slept laughed arrived waited smiled danced walked".split(),
    "VBT": "saw liked wrote found visited admired read followed met".split(),
    "VBS": "said thought knew believed hoped".split(),
    "IN": ["that"],
    "P": "in on near with from behind after before".split(),
}


# Grammar 2 (issue 15, session 11): grammar 1 plus the English constructions in which a verb phrase occurs without
# its subject in front of it, the contexts of the constituency tests for VP: VP coordination ("the dog [chased the
# cat] and [ate the bone]") and control verbs with a to-infinitive ("the girl [wanted [to [read the book]]]"), whose
# verb phrase takes base forms. Gold trees follow the Penn Treebank: (VP (VP ...) (CC and) (VP ...)) and
# (VP (VBC wanted) (VP (TO to) (VP (VB read) (NP ...)))), the PTB's empty subject and S node of the infinitive left
# out. A symbol written `LABEL_NAME` is its own phrase in the grammar and is labelled LABEL in the trees: VP_TO and
# VP_BASE are VPs. Grammar 1's rules, weights and words are unchanged (its samples too, for a given seed); the new
# rules take 23% of the verb-phrase expansions before the length limit, which keeps fewer of them: in sentences of
# at most 10 words, 7% hold a VP coordination and 11% a to-infinitive (`benchmarks/tree_constructions.py`).
SYNTHETIC_GRAMMAR_2 = SYNTHETIC_GRAMMAR + [
    ("VP", ("VP", "CC", "VP"), 0.2),
    ("VP", ("VBC", "VP_TO"), 0.1),
    ("VP_TO", ("TO", "VP_BASE"), 1.0),
    ("VP_BASE", ("VBI",), 0.3),
    ("VP_BASE", ("VB", "NP"), 0.5),
    ("VP_BASE", ("VP_BASE", "PP"), 0.1),
    ("VP_BASE", ("VP_BASE", "CC", "VP_BASE"), 0.1),
]
LEXICON_2 = {
    **LEXICON,
    "CC": "and but or".split(),
    "TO": ["to"],
    "VBC": "wanted tried decided promised refused hoped".split(),
    "VB": "see like write find visit admire read follow meet".split(),
    "VBI": "sleep laugh arrive wait smile dance walk".split(),
}
# Grammar 3: grammar 2 plus imperatives, a verb phrase of base forms that is the whole sentence ("meet the lady in
# the garden"), bracketed (S (VP (VB meet) (NP ...) ...)) as the PTB does. Grammar 2's VPs after "to" and "and" have
# a word or phrase in front that a grammar attaching the verb to its left neighbour can treat as a subject ("(to
# read) the book", "(the cat and) ate the bone"); an imperative's verb has nothing in front of it.
SYNTHETIC_GRAMMAR_3 = SYNTHETIC_GRAMMAR_2 + [("S", ("VP_BASE",), 0.1)]
# Grammar 4, an ablation of 3: grammar 1 plus imperatives alone (their verb phrases without coordination; no
# VP coordination or to-infinitive anywhere).
SYNTHETIC_GRAMMAR_4 = SYNTHETIC_GRAMMAR + [("S", ("VP_BASE",), 0.1)] + [
    rule for rule in SYNTHETIC_GRAMMAR_2 if rule[0] == "VP_BASE" and "CC" not in rule[1]]
SYNTHETIC_GRAMMARS = {1: (SYNTHETIC_GRAMMAR, LEXICON), 2: (SYNTHETIC_GRAMMAR_2, LEXICON_2),
                      3: (SYNTHETIC_GRAMMAR_3, LEXICON_2), 4: (SYNTHETIC_GRAMMAR_4, LEXICON_2)}
# The default version of the synthetic treebank (`load_tree_data`, the recipe): 3 since issue-15 session 11
# (2026-12-05). Grammar 1 has no verb phrase without its subject in front, so the likelihood cannot prefer
# `(verb object)` to `(subject verb)`; on grammar 3 the compound PCFG met RB + 20 on 12 of 12 seeds
# (docs/results/tree_latent.md).
SYNTHETIC_GRAMMAR_VERSION = 3


def _sample_tree(symbol, rng, rules, lexicon, depth):
    import nltk

    label = symbol.split("_")[0]  # VP_BASE is a VP
    if symbol in lexicon:
        words = lexicon[symbol]
        return nltk.Tree(label, [words[rng.integers(len(words))]])
    options, weights = rules[symbol]
    if depth > 6:  # keep recursion shallow: the first option of every phrase is not recursive
        choice = 0
    else:
        choice = rng.choice(len(options), p=weights)
    return nltk.Tree(label, [_sample_tree(child, rng, rules, lexicon, depth + 1) for child in options[choice]])


def synthetic_treebank(count, max_length=10, seed=0, grammar=SYNTHETIC_GRAMMAR_VERSION):
    """`count` trees sampled from the synthetic grammar of version `grammar` (`SYNTHETIC_GRAMMARS`: 1,
    `SYNTHETIC_GRAMMAR`; 2, `SYNTHETIC_GRAMMAR_2`, which adds VP coordination and to-infinitives; 3,
    `SYNTHETIC_GRAMMAR_3`, which adds imperatives to 2; 4, `SYNTHETIC_GRAMMAR_4`, imperatives added to 1 alone), each of
    2 .. `max_length` words (others are resampled).

    Example:
        synthetic_treebank(3, max_length=10, seed=0, grammar=2)[0]   # an nltk.Tree, e.g. (S (NP (PRP she)) (VP ...))
    """
    if grammar not in SYNTHETIC_GRAMMARS:
        raise ValueError(f"No synthetic grammar {grammar!r}; the versions are {sorted(SYNTHETIC_GRAMMARS)}.")
    grammar_rules, lexicon = SYNTHETIC_GRAMMARS[grammar]
    rules = collections.defaultdict(lambda: ([], []))
    for lhs, rhs, weight in grammar_rules:
        rules[lhs][0].append(rhs)
        rules[lhs][1].append(weight)
    rules = {lhs: (options, np.asarray(weights) / np.sum(weights)) for lhs, (options, weights) in rules.items()}
    rng = np.random.default_rng(seed)
    trees = []
    while len(trees) < count:
        tree = _sample_tree("S", rng, rules, lexicon, 0)
        if MIN_LENGTH <= len(tree.leaves()) <= max_length:
            trees.append(tree)
    return trees


# ----------------------------------------------------------------------------------------------------------------
# Loading


def _check_lengths(max_length, name="max_length"):
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < MIN_LENGTH:
        raise ValueError(f"{name} must be an integer of at least {MIN_LENGTH} words; got {max_length!r}.")


def _slot(index):
    slot = index % HELD_OUT_EVERY
    return "test" if slot == TEST_SLOT else "validation" if slot == VALIDATION_SLOT else "train"


def read_sentence_lines(path):
    """`[(line_number, sentence)]` of the non-blank lines of a UTF-8 text file (one sentence a line)."""
    from keras_ae.data.text import read_text_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No sentence file at {path}: give a UTF-8 text file of one sentence a line.")
    lines = [(number, line.strip()) for number, line in enumerate(read_text_file(path), start=1) if line.strip()]
    if not lines:
        raise ValueError(f"{path} is empty: give a UTF-8 text file of one sentence a line.")
    return lines


def _filter(sentences, max_length):
    """Keeps the sentences of MIN_LENGTH .. max_length words: `(kept_indices, too_long, too_short)`."""
    kept, long, short = [], 0, 0
    for index, sentence in enumerate(sentences):
        count = len(sentence.split())
        if count > max_length:
            long += 1
        elif count < MIN_LENGTH:
            short += 1
        else:
            kept.append(index)
    return kept, long, short


def load_tree_data(source="synthetic", gold_trees=None, max_length=10, synthetic_size=6000, seed=0,
                   test_trees=None, synthetic_grammar=SYNTHETIC_GRAMMAR_VERSION, test_max_length=None,
                   clause_pieces=False, held_out_trees=(), drop_repeats=False, max_opening_share=None):
    """Loads sentences (and gold trees) for grammar induction; see the module docstring for the protocol.

    Args:
        source: `"synthetic"` (the built-in treebank), a named text corpus (`"austen"`, `"books"`, `"prose"`,
            `"all"`), a UTF-8 file of one sentence a line, or None when `gold_trees` alone gives the sentences.
        gold_trees: a Penn Treebank bracket file with one tree per sentence of `source`, in order (or, with
            `source=None`, the sentences themselves).
        max_length: longest sentence kept, in words after punctuation removal.
        test_max_length: longest test sentence kept (None: `max_length`). Evaluation length apart from training
            length: a model trained on longer sentences is scored on the same short ones (the 156 gold trees of
            at most 10 words with `max_length=15`). It may exceed `max_length` only with `test_trees`; the other
            sources' test splits hold no sentence longer than `max_length`.
        clause_pieces: a named text corpus only: a training sentence longer than `max_length` gives its pieces
            between semicolons, colons and dashes that fit (`clause_pieces`) instead of nothing; counted in
            `TreeData.clause_pieces`. Validation and test keep whole sentences.
        synthetic_size: training sentences of the synthetic treebank (validation and test: a tenth each).
        test_trees: a Penn Treebank bracket file whose trees (their leaves the sentences) replace the test split,
            e.g. a hand-bracketed sample of held-out sentences (`benchmarks/data/austen_gold_trees.mrg`).
        synthetic_grammar: the version of the synthetic treebank's grammar (`SYNTHETIC_GRAMMARS`: 2 adds VP
            coordination and to-infinitives to 1, 3 adds imperatives to 2, 4 imperatives alone to 1); only read
            with `source="synthetic"`.
        held_out_trees: more Penn Treebank bracket files (paths) whose sentences are dropped from training and
            validation like those of `test_trees` (counted in `dropped_test_duplicates`), so that the run can later
            be scored on them too (`benchmarks/tree_right_edge.py --test-trees FILE`); the test split is unchanged.
        drop_repeats: the training and validation splits keep one copy of each sentence (`thin_repeats`; counted
            in `TreeData.repeats_dropped`).
        max_opening_share: at most this share of the training (and of the validation) sentences open with the same
            two words (`thin_repeats`; counted in `TreeData.openings_capped`); None: no cap.
    """
    if clause_pieces and (source not in CORPORA or gold_trees is not None):
        raise ValueError(f"clause_pieces cuts the sentences of a named text corpus ({', '.join(sorted(CORPORA))}); "
                         f"not {source!r}.")
    thin_repeats([], max_opening_share=max_opening_share)  # a bad share fails before any work
    # read first, so that a bad file fails before any corpus is loaded
    held_out = {tree_words(tree).lower() for path in held_out_trees for tree in _clean_trees(path)}
    data = _load(source, gold_trees, max_length, synthetic_size, seed, synthetic_grammar, clause_pieces)
    if test_max_length is None:
        test_max_length = max_length
    _check_lengths(test_max_length, "test_max_length")
    if test_trees is None and test_max_length > max_length:
        raise ValueError(
            f"test_max_length {test_max_length} is above max_length {max_length}: the test split holds no sentence "
            f"longer than max_length; give test_trees (--test-trees) or a test_max_length of at most {max_length}."
        )
    if test_trees is None and test_max_length < max_length:
        kept, _, _ = _filter(data.test, test_max_length)
        if not kept:
            raise ValueError(f"no test sentence of {MIN_LENGTH}..{test_max_length} words; raise --test-max-length.")
        data.test = [data.test[i] for i in kept]
        data.test_trees = None if data.test_trees is None else [data.test_trees[i] for i in kept]
    if test_trees is not None:
        data.test_trees = read_test_trees(test_trees, test_max_length)
        data.test = [tree_words(tree) for tree in data.test_trees]
        held_out |= {sentence.lower() for sentence in data.test}
    if held_out:
        before = len(data.train) + len(data.validation)
        data.train = [sentence for sentence in data.train if sentence.lower() not in held_out]
        data.validation = [sentence for sentence in data.validation if sentence.lower() not in held_out]
        data.dropped_test_duplicates = before - len(data.train) - len(data.validation)
    if drop_repeats or max_opening_share is not None:
        for split in ("train", "validation"):
            kept, repeats, capped = thin_repeats(getattr(data, split), drop_repeats, max_opening_share)
            setattr(data, split, kept)
            data.repeats_dropped += repeats
            data.openings_capped += capped
    return data


def _clean_trees(path):
    """Every tree of a bracket file without punctuation (`clean_tree`), whatever its length, in order."""
    return [tree for tree in (clean_tree(tree) for tree, _ in read_treebank(path)) if tree is not None]


def read_test_trees(path, max_length):
    """The trees of a Penn Treebank bracket file without punctuation (`clean_tree`), those of `MIN_LENGTH` ..
    `max_length` words, in order: a hand-bracketed test set (`benchmarks/data/README.md`).

    Example:
        trees = read_test_trees("benchmarks/data/other_sources_gold_trees.mrg", 10)
        [tree_words(tree) for tree in trees][:1]   # ['There we meant to lie by all night']
    """
    trees = _clean_trees(path)
    kept, _, _ = _filter([tree_words(tree) for tree in trees], max_length)
    if not kept:
        raise ValueError(f"{path}: no tree of {MIN_LENGTH}..{max_length} words; raise "
                         "--test-max-length (default: --max-length).")
    return [trees[i] for i in kept]


def _load(source, gold_trees, max_length, synthetic_size, seed, synthetic_grammar, pieces=False):
    _check_lengths(max_length)
    if source == "synthetic" and gold_trees is None:
        splits = {
            name: synthetic_treebank(size, max_length, seed=seed * 3 + offset, grammar=synthetic_grammar)
            for offset, (name, size) in enumerate(
                [("train", synthetic_size), ("validation", max(1, synthetic_size // 10)),
                 ("test", max(1, synthetic_size // 10))]
            )
        }
        words = {name: [tree_words(tree) for tree in trees] for name, trees in splits.items()}
        return TreeData(
            "synthetic", words["train"], words["validation"], words["test"], splits["validation"], splits["test"]
        )
    if source in CORPORA:
        if gold_trees is not None:
            raise ValueError(
                f"--gold-trees pairs trees with the lines of a sentence file; it does not apply to {source}."
            )
        return _text_corpus(source, max_length, pieces)
    if source in (None, "synthetic"):
        if gold_trees is None:
            raise ValueError("Give sentences (--data FILE.txt or austen) or a treebank (--gold-trees FILE).")
        return _from_trees(gold_trees, max_length)
    return _from_file(source, gold_trees, max_length)


def _split(items):
    parts = {"train": [], "validation": [], "test": []}
    for index, item in enumerate(items):
        parts[_slot(index)].append(item)
    return parts


def _text_corpus(source, max_length, pieces=False):
    """Short sentences of Austen's novels (`source="austen"`, `keras_ae.data.text`) or of a named corpus of
    `keras_ae.data.corpus`, in its own splits; with `pieces`, the training split also gets the clause pieces of its
    longer sentences, each where its sentence stood."""
    from keras_ae.data.text import load_text

    splits = load_text("austen") if source == "austen" else load_corpus(source, progress=False)
    parts, long, short, added = {}, 0, 0, 0
    for name in ("train", "validation", "test"):
        raw = getattr(splits, name).sentences
        sentences = [strip_punctuation(sentence) for sentence in raw]
        kept, too_long, too_short = _filter(sentences, max_length)
        parts[name] = [sentences[i] for i in kept]
        long, short = long + too_long, short + too_short
        if pieces and name == "train":
            whole = set(kept)
            parts[name] = [text for i, sentence in enumerate(raw) for text in (
                [sentences[i]] if i in whole else
                clause_pieces(sentence, max_length) if len(sentences[i].split()) > max_length else [])]
            added = len(parts[name]) - len(kept)
    data = TreeData(source, parts["train"], parts["validation"], parts["test"], None, None, long, short)
    data.clause_pieces = added
    return data


def _from_trees(path, max_length):
    trees = []
    for tree, line in read_treebank(path):
        cleaned = clean_tree(tree)
        trees.append((cleaned, line))
    sentences = ["" if tree is None else tree_words(tree) for tree, _ in trees]
    kept, long, short = _filter(sentences, max_length)
    parts = _split([trees[i][0] for i in kept])
    words = {name: [tree_words(tree) for tree in part] for name, part in parts.items()}
    _require(words, path)
    return TreeData(str(path), words["train"], words["validation"], words["test"], parts["validation"],
                    parts["test"], long, short)


def _from_file(path, gold_trees, max_length):
    lines = read_sentence_lines(path)
    sentences = [strip_punctuation(sentence) for _, sentence in lines]
    trees = None
    if gold_trees is not None:
        read = read_treebank(gold_trees)
        if len(read) != len(lines):
            raise ValueError(
                f"{gold_trees} holds {len(read)} trees but {path} has {len(lines)} sentences; give one gold tree per "
                "sentence, in the same order."
            )
        trees = []
        for (number, sentence), clean, (tree, tree_line) in zip(lines, sentences, read):
            tree = clean_tree(tree)
            leaves = "" if tree is None else tree_words(tree)
            if leaves.lower() != clean.lower():
                raise ValueError(
                    f"{path}, line {number} and {gold_trees}, line {tree_line}: the sentence's words {clean!r} differ "
                    f"from the tree's leaves {leaves!r} (both without punctuation). Give the trees in the order of "
                    "the sentences."
                )
            trees.append(tree)
    kept, long, short = _filter(sentences, max_length)
    parts = _split([(sentences[i], trees[i] if trees else None) for i in kept])
    words = {name: [sentence for sentence, _ in part] for name, part in parts.items()}
    _require(words, path)
    gold = {name: [tree for _, tree in part] if trees else None for name, part in parts.items()}
    return TreeData(str(path), words["train"], words["validation"], words["test"], gold["validation"], gold["test"],
                    long, short)


def _require(words, path):
    if not words["train"] or not words["test"]:
        total = sum(len(part) for part in words.values())
        raise ValueError(
            f"{path}: only {total} sentences of {MIN_LENGTH} words or more within the length limit; need at least 10 "
            "(every 10th goes to test). Give more sentences or raise --max-length."
        )


# ----------------------------------------------------------------------------------------------------------------
# Vocabulary and pipelines


def build_vocabulary(sentences, size=10000):
    """The `size` most frequent lower-cased words of `sentences` (ties: first seen first), as `CompoundPCFG` looks
    them up; the rest are out of vocabulary."""
    if size < 1:
        raise ValueError(f"Vocabulary size must be positive; got {size}.")
    counts = collections.Counter(word for sentence in sentences for word in sentence.lower().split())
    if not counts:
        raise ValueError("The training sentences hold no words; cannot build a vocabulary.")
    return [word for word, _ in counts.most_common(size)]


def make_sentence_dataset(sentences, batch_size, shuffle=False, seed=0, by_length=False):
    """Batches of sentences (`tf.string [batch]`). Training pipelines (`shuffle=True`) drop the last partial batch,
    so every replica sees the same batch size.

    `by_length=True` makes each batch hold sentences of one length (as Kim, Dyer & Rush, 2019, batch their training
    data): the inside algorithm pads a batch to its longest sentence and costs the cube of that length, so equal
    lengths waste nothing on padding. The batches still come in a random order, reshuffled every pass; with
    `shuffle=True` the leftover sentences of each length (fewer than `batch_size`) are dropped for that pass.

    Example:
        batches = make_sentence_dataset(data.train, batch_size=32, shuffle=True, by_length=True)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive; got {batch_size}.")
    if shuffle and len(sentences) < batch_size:
        raise ValueError(f"Only {len(sentences)} training sentences for a batch size of {batch_size}: lower it.")
    dataset = tf.data.Dataset.from_tensor_slices(list(sentences)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(sentences), seed=seed, reshuffle_each_iteration=True)
    if by_length:
        dataset = _batch_by_length(dataset, sentences, batch_size, drop_remainder=shuffle)
    else:
        dataset = dataset.batch(batch_size, drop_remainder=shuffle)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _length_batch_count(sentences, batch_size, drop_remainder):
    counts = collections.Counter(len(sentence.split()) for sentence in sentences)
    if drop_remainder:
        return sum(count // batch_size for count in counts.values())
    return sum(-(-count // batch_size) for count in counts.values())


def _batch_by_length(dataset, sentences, batch_size, drop_remainder):
    """`dataset` (of the strings `sentences`, in any order) in batches of sentences of one word count each, of known
    cardinality."""
    longest = max([len(sentence.split()) for sentence in sentences] + [1])
    batched = dataset.bucket_by_sequence_length(
        lambda sentence: tf.size(tf.strings.split(sentence)),
        bucket_boundaries=list(range(1, longest + 2)),  # one bucket per word count 0 .. longest (+ one unused)
        bucket_batch_sizes=[batch_size] * (longest + 2),
        drop_remainder=drop_remainder,
    )
    count = _length_batch_count(sentences, batch_size, drop_remainder)
    return batched.apply(tf.data.experimental.assert_cardinality(count))


def curriculum_lengths(epochs, start_length, length_step, max_length):
    """The length limit of each of `epochs` curriculum stages: `start_length`, growing by `length_step` words a stage
    up to `max_length` (Kim, Dyer & Rush, 2019, their `--max_length` grown by `--len_incr` each epoch)."""
    for name, value in (("epochs", epochs), ("start_length", start_length), ("length_step", length_step)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"Curriculum {name} must be a positive integer; got {value!r}.")
    if start_length < MIN_LENGTH:
        raise ValueError(f"The curriculum's start_length must be at least {MIN_LENGTH} words; got {start_length}.")
    return [min(max_length, start_length + stage * length_step) for stage in range(epochs)]


def make_curriculum_dataset(sentences, batch_size, epochs, start_length=None, length_step=2, seed=0,
                            by_length=False):
    """Training batches with a length curriculum, as Kim, Dyer & Rush (2019) train the compound PCFG: stage `e` is
    one shuffled pass over the sentences of at most `start_length + e * length_step` words, so the grammar first
    fits short sentences and then longer ones. Returns `(dataset, steps_per_epoch)` for
    `model.fit(dataset, epochs=epochs, steps_per_epoch=steps_per_epoch)`: the stages follow each other in one finite
    stream of known length (so it distributes like any dataset, e.g. under `MirroredStrategy`), and Keras's epochs
    are equal slices of it (a stage shorter than the full data makes the run shorter than without a curriculum).
    `start_length=None` is no curriculum: `(make_sentence_dataset(sentences, batch_size, shuffle=True, seed=seed,
    by_length=by_length), None)`, a pass over all sentences each epoch. `by_length`: batches of one sentence length
    each (`make_sentence_dataset`).

    Example:
        batches, steps = make_curriculum_dataset(data.train, batch_size=32, epochs=4, start_length=4)  # 4, 6, 8, 10
        model.fit(batches, epochs=4, steps_per_epoch=steps)
    """
    if start_length is None:
        return make_sentence_dataset(sentences, batch_size, shuffle=True, seed=seed, by_length=by_length), None
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive; got {batch_size}.")
    lengths = [len(sentence.split()) for sentence in sentences]
    limits = curriculum_lengths(epochs, start_length, length_step, max(lengths + [start_length]))
    stages, batches = [], 0
    for stage, limit in enumerate(limits):
        chosen = [sentence for sentence, length in zip(sentences, lengths) if length <= limit]
        if len(chosen) < batch_size:
            raise ValueError(
                f"Only {len(chosen)} training sentences of at most {limit} words for curriculum stage {stage} and a "
                f"batch size of {batch_size}: raise the curriculum's start length or lower the batch size."
            )
        shuffled = tf.data.Dataset.from_tensor_slices(chosen).shuffle(len(chosen), seed=seed + stage)
        if by_length:
            batches += _length_batch_count(chosen, batch_size, drop_remainder=True)
            stages.append(_batch_by_length(shuffled, chosen, batch_size, drop_remainder=True))
        else:
            batches += len(chosen) // batch_size
            stages.append(shuffled.batch(batch_size, drop_remainder=True))
    dataset = stages[0]
    for stage in stages[1:]:
        dataset = dataset.concatenate(stage)
    return dataset.prefetch(tf.data.AUTOTUNE), batches // epochs
