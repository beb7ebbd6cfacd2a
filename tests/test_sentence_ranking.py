"""Sentence ranking: budgets, redundancy removal, query steering, embeddings, PageRank against networkx."""

from __future__ import annotations

import numpy as np
import pytest

from insight_search.errors import BadInput
from insight_search.sentence_ranking import (
    content_words,
    pagerank,
    rank_sentences,
    score_sentences,
    select_sentences,
)
from insight_search.text import word_count

REPORT = [
    "The programme expanded access to childcare services for women in rural municipalities.",
    "Childcare services for women were expanded in rural municipalities by the programme.",
    "Funding from the European Union supported the national care system in 2022.",
    "The national care system law was approved by the Senate in 2023.",
    "Women in rural municipalities gained access to childcare and health services.",
    "Weather was mild.",
    "Health services for women in rural areas improved with new childcare centres.",
]


def test_content_words_fold_stem_and_drop_stop_words() -> None:
    assert content_words("The Programmes of Nuevo León were EXPANDING") == [
        "programm",
        "nuevo",
        "leon",
        "expand",
    ]


def test_sentence_budget_respected_and_no_duplicates() -> None:
    for k in range(len(REPORT) + 2):
        chosen = rank_sentences(REPORT, max_sentences=k)
        assert len(chosen) <= k
        assert len(set(chosen)) == len(chosen)
        assert all(0 <= i < len(REPORT) for i in chosen)


def test_word_budget_never_exceeded_and_shorter_sentences_still_fit() -> None:
    for budget in (3, 5, 12, 20, 40):
        chosen = rank_sentences(REPORT, max_words=budget)
        assert sum(word_count(REPORT[i]) for i in chosen) <= budget
    # Only the short sentence fits into 3 words, although it is the least central one.
    assert rank_sentences(REPORT, max_words=3) == [5]


def test_both_budgets_apply_together() -> None:
    chosen = rank_sentences(REPORT, max_sentences=3, max_words=25)
    assert len(chosen) <= 3
    assert sum(word_count(REPORT[i]) for i in chosen) <= 25


def test_empty_input_and_zero_budgets() -> None:
    assert rank_sentences([]) == []
    assert rank_sentences([], max_sentences=3, query="care") == []
    assert rank_sentences(REPORT, max_sentences=0) == []
    assert rank_sentences(REPORT, max_words=0) == []
    assert rank_sentences(["", "   "], max_sentences=2) == []


def test_negative_budget_is_bad_input() -> None:
    with pytest.raises(BadInput):
        rank_sentences(REPORT, max_sentences=-1)
    with pytest.raises(BadInput):
        rank_sentences(REPORT, max_words=-5)


def test_generic_summary_prefers_central_sentences() -> None:
    first = rank_sentences(REPORT, max_sentences=1)[0]
    assert "childcare" in REPORT[first]
    # The one-off sentence about the weather is the least central.
    assert rank_sentences(REPORT)[-1] == 5


def test_redundancy_removal_picks_a_distinct_sentence_over_a_near_copy() -> None:
    sentences = [
        "Women in rural municipalities gained access to childcare services and health services.",
        "Women in rural municipalities gained access to childcare services and to health services.",
        "Childcare services reached women in rural municipalities.",
        "The care system law was approved in 2023.",
    ]
    without = rank_sentences(sentences, max_sentences=2, diversity=0.0, duplicate_threshold=1.1)
    assert sorted(without) == [0, 1]  # the two copies are the most central pair
    chosen = rank_sentences(sentences, max_sentences=2)
    assert chosen[0] in (0, 1)
    assert not {0, 1} <= set(chosen)
    assert len(rank_sentences(sentences)) == 3  # the copy is never taken


def test_exact_duplicates_are_never_both_chosen() -> None:
    sentences = ["Access to care improved.", "Access to care improved.", "Funding fell in 2023."]
    assert sorted(rank_sentences(sentences)) in ([0, 2], [1, 2])


def test_query_steers_the_choice() -> None:
    about_law = rank_sentences(REPORT, max_sentences=1, query="Senate approval of the care law")
    about_funding = rank_sentences(REPORT, max_sentences=1, query="European Union funding")
    assert about_law == [3]
    assert about_funding == [2]
    # Without a query the most central sentence wins instead.
    assert rank_sentences(REPORT, max_sentences=1)[0] not in (2, 3)


def test_query_weight_zero_keeps_query_biased_centrality_only() -> None:
    scores, _ = score_sentences(REPORT, query="national care system", query_weight=0.0)
    generic, _ = score_sentences(REPORT)
    assert scores.shape == generic.shape == (len(REPORT),)
    assert not np.allclose(scores, generic)  # the teleport is biased towards the relevant sentences


def test_query_without_any_matching_word_falls_back_to_generic() -> None:
    assert rank_sentences(REPORT, max_sentences=3, query="zzz qqq") == rank_sentences(REPORT, max_sentences=3)


def test_deterministic() -> None:
    runs = {tuple(rank_sentences(REPORT, max_sentences=4, query="women childcare")) for _ in range(5)}
    assert len(runs) == 1


def test_scores_are_scaled_and_selection_reports_them() -> None:
    selected = select_sentences(REPORT, max_sentences=3)
    assert [s.index for s in selected] == rank_sentences(REPORT, max_sentences=3)
    assert selected[0].score == pytest.approx(1.0)
    assert all(0.0 <= s.score <= 1.0 for s in selected)


def test_position_prior_favours_early_sentences() -> None:
    sentences = ["Budget rose.", "Budget fell.", "Budget held."]  # equally central
    assert rank_sentences(sentences, max_sentences=1, position_weight=0.5) == [0]
    assert rank_sentences(sentences, max_sentences=1, position_weight=0.5, positions=[3.0, 2.0, 0.0]) == [2]


def test_embeddings_path_with_hand_made_vectors() -> None:
    # No shared words at all: only the vectors say which sentences are relevant and which are redundant.
    sentences = ["alpha one", "bravo two", "charlie three", "delta four"]
    vectors = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.0, 0.0, 1.0]])
    towards_lone = np.array([0.0, 0.0, 1.0])
    towards_cluster = np.array([1.0, 0.0, 0.0])
    assert rank_sentences(
        sentences, max_sentences=1, sentence_vectors=vectors, query_vector=towards_lone
    ) == [3]
    assert rank_sentences(
        sentences, max_sentences=1, sentence_vectors=vectors, query_vector=towards_cluster
    ) == [0]
    # Redundancy is measured on the vectors: 1 and 2 are near-copies of 0 there, so the second pick is 3.
    both = rank_sentences(sentences, max_sentences=2, sentence_vectors=vectors, query_vector=towards_cluster)
    assert both == [0, 3]
    no_removal = rank_sentences(
        sentences,
        max_sentences=2,
        sentence_vectors=vectors,
        query_vector=towards_cluster,
        diversity=0.0,
        duplicate_threshold=1.1,
    )
    assert no_removal == [0, 1]


def test_query_vector_alone_is_ignored_without_sentence_vectors() -> None:
    assert rank_sentences(REPORT, max_sentences=2, query_vector=np.ones(3)) == rank_sentences(
        REPORT, max_sentences=2
    )


def test_mismatched_vectors_or_positions_are_bad_input() -> None:
    with pytest.raises(BadInput):
        rank_sentences(REPORT, sentence_vectors=np.ones((2, 3)))
    with pytest.raises(BadInput):
        rank_sentences(REPORT, positions=[0.0, 1.0], position_weight=0.1)


def test_pagerank_matches_networkx() -> None:
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(0)
    sim = rng.random((8, 8))
    sim = (sim + sim.T) / 2
    sim[sim < 0.4] = 0.0
    np.fill_diagonal(sim, 0.0)
    graph = nx.from_numpy_array(sim)
    expected = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12)
    ours = pagerank(sim, damping=0.85, tol=1e-12)
    assert np.allclose(ours, [expected[i] for i in range(8)], atol=1e-6)
    teleport = np.arange(1.0, 9.0)
    expected = nx.pagerank(
        graph,
        alpha=0.85,
        personalization={i: float(teleport[i]) for i in range(8)},
        weight="weight",
        tol=1e-12,
    )
    ours = pagerank(sim, damping=0.85, teleport=teleport, tol=1e-12)
    assert np.allclose(ours, [expected[i] for i in range(8)], atol=1e-6)
