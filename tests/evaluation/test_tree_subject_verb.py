"""benchmarks/tree_subject_verb.py: which (subject verb) pairs a parse groups, how a sentence opens, and the
minimal pairs that put a price on subject-verb agreement."""

from benchmarks.tree_subject_verb import grouping_counts, minimal_pair, opening, subject_verb_pairs

GOLD = "(S (NP (PRP She)) (VP (VBZ is) (ADJP (RB too) (JJ tall))))"
GOLD_LONG_SUBJECT = "(S (NP (DT the) (NN man)) (VP (VBD held) (NP (PRP$ his) (NN hand))))"


def test_subject_verb_pairs_classify_subject_and_verb_and_find_the_verb_phrase():
    assert subject_verb_pairs(GOLD) == [(0, 1, "pronoun", "auxiliary", 4)]
    assert subject_verb_pairs(GOLD_LONG_SUBJECT) == [(0, 2, "longer NP", "other verb", 5)]
    assert subject_verb_pairs("(S (VP (VB Go) (ADVP (RB home))))") == []  # no subject, no pair


def test_grouping_counts_tell_subject_verb_from_verb_phrase_and_from_a_clause_cut_short():
    subject_verb = "(X (X (X She) (X is)) (X (X too) (X tall)))"
    verb_phrase = "(X (X She) (X (X is) (X (X too) (X tall))))"
    clause_cut = "(X (X (X She) (X (X is) (X too))) (X tall))"
    counts = grouping_counts([subject_verb, verb_phrase, clause_cut], [GOLD, GOLD, GOLD])
    assert counts == {("pronoun", "auxiliary"): [3, 1, 1, 1, 1]}  # the third cuts the VP (is too) and the clause


def test_opening_and_minimal_pair():
    vocabulary = {"i", "am", "is", "the", "man", "was", "were", "glad"}
    assert opening("i am glad".split()) == "pronoun + be/have/do"
    assert opening("i saw it".split()) == "pronoun + other"
    assert opening("the man was glad".split()) == "determiner"
    assert minimal_pair("i am glad".split(), vocabulary) == ("pronoun", ["i", "is", "glad"])
    assert minimal_pair("the man was glad".split(), vocabulary) == ("full NP", ["the", "man", "were", "glad"])
    assert minimal_pair("i are glad".split(), vocabulary) is None  # "are" is outside the vocabulary
    assert minimal_pair("glad i was".split(), vocabulary) == ("pronoun", ["glad", "i", "were"])
