"""Convex fusion edge cases: lists of equal scores (the query-year list) and weights."""

from __future__ import annotations

from insight_search.fusion import convex, top


def test_equal_scores_get_the_full_weight() -> None:
    # A list of equals, such as the "passages of the year named in the query" list, must still count.
    fused = convex([[(1, 0.9), (2, 0.1)], [(2, 1.0), (3, 1.0)]], weights=[1.0, 1.0])
    assert fused == {1: 1.0, 2: 1.0, 3: 1.0}
    assert convex([[(7, 0.3)]], weights=[0.4]) == {7: 0.4}


def test_weights_trade_one_list_against_the_other() -> None:
    dense = [(1, 0.9), (2, 0.5), (3, 0.1)]
    lexical = [(3, 12.0), (2, 6.0), (1, 0.0)]
    assert top(convex([dense, lexical], [0.7, 0.3]), 1)[0][0] == 1
    assert top(convex([dense, lexical], [0.3, 0.7]), 1)[0][0] == 3
    assert convex([dense, lexical], [0.5, 0.5])[2] == 0.5
