"""``ranking``: the Candidates value, merging every lexical match after the fused lists, the document
collapse and the year named in the query, on small hand-made lists and against the dict reference."""

from __future__ import annotations

import random

import numpy as np
import pytest

from insight_search.fusion import convex, rrf, top
from insight_search.ranking import (
    Candidates,
    by_document,
    fuse,
    merge_matching,
    query_years,
    rank,
)

NO_YEARS = np.full(10, -1, dtype=np.int32)


def test_every_match_follows_the_fused_list_in_row_order() -> None:
    dense = [(3, 0.9), (1, 0.5)]
    lexical = [(1, 4.0), (5, 2.0)]
    matching = np.array([1, 2, 5, 7], dtype=np.int64)
    c = rank(dense, lexical, matching, chunk_years=NO_YEARS, fusion="rrf", rrf_k=10)
    # 1 is in both lists; 3 (dense rank 1) and 5 (lexical rank 2); then 2 and 7 at score 0, by row
    assert c.ids.tolist() == [1, 3, 5, 2, 7]
    assert c.scores.tolist() == pytest.approx([1 / 12 + 1 / 11, 1 / 11, 1 / 12, 0.0, 0.0])
    assert c.ids.dtype == np.int64 and c.scores.dtype == np.float64 and len(c) == 5
    assert dict(c.dense) == {3: 0.9, 1: 0.5} and dict(c.lexical) == {1: 4.0, 5: 2.0}
    assert [c.is_match(i) for i in range(9)] == [i in {1, 2, 5, 7} for i in range(9)]
    assert c.page(1, 2) == [(3, pytest.approx(1 / 11)), (5, pytest.approx(1 / 12))]
    assert c.page(4, 10) == [(7, 0.0)] and c.page(5, 3) == []


def test_fused_zeros_and_matches_are_merged_by_row() -> None:
    # convex: 6 is the minimum of both lists, so it fuses to 0 and sits among the unfused matches by row
    dense = [(4, 0.9), (6, 0.1)]
    lexical = [(4, 3.0), (6, 1.0)]
    c = rank(dense, lexical, np.array([2, 4, 6, 9]), chunk_years=NO_YEARS, fusion="convex")
    assert c.ids.tolist() == [4, 2, 6, 9] and c.scores.tolist() == [2.0, 0.0, 0.0, 0.0]
    # a negative fused score (a negative weight) stays after every match
    ids, scores = merge_matching(np.array([1, 2, 3]), np.array([0.5, 0.0, -0.1]), np.array([0, 2, 4]), 5)
    assert ids.tolist() == [1, 0, 2, 4, 3] and scores.tolist() == [0.5, 0.0, 0.0, 0.0, -0.1]
    # unsorted matches are sorted; nothing to add leaves the list as it is
    ids, _ = merge_matching(np.array([5]), np.array([1.0]), np.array([4, 0, 5]), 6)
    assert ids.tolist() == [5, 0, 4]
    same = merge_matching(np.array([2, 1]), np.array([1.0, 0.5]), np.array([1, 2]), 3)
    assert same[0].tolist() == [2, 1]


def test_matches_by_term_or_by_cosine() -> None:
    c = Candidates(
        ids=np.array([8, 3, 5, 1], dtype=np.int64),
        scores=np.array([0.9, 0.5, 0.4, 0.0]),
        dense={8: 0.2, 3: 0.7, 5: 0.35},
        lexical={8: 2.0},
        matching=np.array([1, 8], dtype=np.int64),
    )
    assert c.matches(0.35) == [8, 3, 5, 1]
    assert c.matches(0.5) == [8, 3, 1]
    assert c.matches(0.9) == [8, 1]


def test_rank_equals_the_dict_reference_on_random_lists() -> None:
    rng = random.Random(4)
    for fusion in ("rrf", "convex"):
        for _ in range(200):
            n = rng.randint(1, 30)
            rows = list(range(n))
            # repeated scores make ties, which fusion and the merge must break by row
            dense = sorted(
                ((i, rng.choice([0.1, 0.2, 0.5, rng.random()])) for i in rng.sample(rows, rng.randint(0, n))),
                key=lambda x: -x[1],
            )
            lexical = sorted(
                ((i, rng.choice([1.0, 2.0, rng.random() * 5])) for i in rng.sample(rows, rng.randint(0, n))),
                key=lambda x: -x[1],
            )
            matching = np.array(sorted({i for i, _ in lexical} | set(rng.sample(rows, rng.randint(0, n)))))
            weights = (rng.choice([1.0, 0.5]), rng.choice([1.0, 0.0, 2.0]))
            c = rank(dense, lexical, matching, chunk_years=np.full(n, -1), fusion=fusion, weights=weights)
            lists = [dense, lexical]
            fused = convex(lists, weights) if fusion == "convex" else rrf(lists, weights, k=10)
            for i in matching.tolist():
                fused.setdefault(i, 0.0)
            expected = top(fused, len(fused))
            assert c.ids.tolist() == [i for i, _ in expected]
            assert np.allclose(c.scores, [s for _, s in expected])


def test_a_year_in_the_query_favours_its_passages() -> None:
    assert query_years("Trust Fund 2021 and 1999, not 1899 or 21000") == {2021, 1999}
    assert query_years("no year here") == set()
    years = np.array([2020, 2021, 2020, 2021], dtype=np.int32)
    dense = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)]
    plain = rank(dense, [], np.zeros(0, dtype=np.int64), chunk_years=years, fusion="rrf")
    boosted = rank(dense, [], np.zeros(0, dtype=np.int64), chunk_years=years, years={2021}, fusion="rrf")
    assert plain.ids.tolist() == [0, 1, 2, 3]
    assert boosted.ids.tolist() == [1, 3, 0, 2]


def test_by_document_keeps_one_row_per_document() -> None:
    # rows 0-2 are document 0, rows 3-4 document 1, rows 5-6 document 2
    ordinals = np.array([0, 0, 0, 1, 1, 2, 2], dtype=np.int64)
    dense = [(2, 0.9), (0, 0.8), (4, 0.7), (3, 0.1)]
    lexical = [(3, 5.0), (1, 4.0)]
    matching = np.array([1, 3, 6], dtype=np.int64)
    d, lex, m = by_document(dense, lexical, matching, ordinals, depth=5)
    # a document is named by its best dense row (2 for document 0, 4 for document 1) in both lists
    assert d == [(2, 0.9), (4, 0.7)] and lex == [(4, 5.0), (2, 4.0)]
    # matching: one row per matching document, its representative or else its first match (6)
    assert m.tolist() == [2, 4, 6]
    d1, _, _ = by_document(dense, lexical, matching, ordinals, depth=1)
    assert d1 == [(2, 0.9)]


def test_fuse_breaks_ties_by_row() -> None:
    ids, scores = fuse([[(5, 1.0), (2, 1.0)]], [1.0], fusion="convex", rrf_k=10)
    assert ids.tolist() == [2, 5] and scores.tolist() == [1.0, 1.0]
