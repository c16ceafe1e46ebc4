"""Tests for benchmarks/tree_errors.py: F1 against right-branching split into right-edge spans lost and interior won."""

from benchmarks.tree_errors import error_rows, f1_parts, smallest_cover
from keras_ae.evaluation.trees import right_branching_spans, sentence_f1, tree_spans

GOLD = "(S (NP (DT the) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))))"
LATE = "(X (X (X the cat) sat) (X on (X the mat)))"  # ((the cat sat) (on the mat)): the VP is lost, the NP won


def test_parts_add_up_to_the_difference_to_right_branching():
    gold, length = tree_spans(GOLD)
    for tree in (LATE, "(X the (X cat (X sat (X on (X the mat)))))", "(X (X (X (X (X the cat) sat) on) the) mat)"):
        spans, _ = tree_spans(tree)
        lost, won = f1_parts(spans, gold, length)
        difference = 100 * (sentence_f1(spans, gold) - sentence_f1(right_branching_spans(length), gold))
        assert lost <= 0 <= won and abs(lost + won - difference) < 1e-9
    assert f1_parts(tree_spans(LATE)[0], gold, length) == (-25.0, 25.0)  # 2 hits / (4 + 4 spans) per span


def test_a_lost_right_edge_span_is_named_by_what_trails_and_what_went_left():
    spans, length = tree_spans(LATE)
    assert smallest_cover(spans, (2, 6), length) == (0, 6, 3)  # the whole sentence, split before "on"
    by_label, lost_to, (lost, won) = error_rows([LATE], [GOLD], ["NP", "VP", "PP"])
    assert dict(lost_to) == {("VP", "PP", "1 word"): 1}  # "sat" went left, the PP trails
    assert by_label["NP"]["interior held"] == 1 and by_label["VP"]["right-edge held"] == 0
    assert by_label["2 words"] == {"right-edge": 1, "right-edge held": 1, "interior": 1, "interior held": 1}
    assert (lost, won) == (-25.0, 25.0)
