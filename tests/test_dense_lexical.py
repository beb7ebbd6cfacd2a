"""The FAISS and BM25 wrappers against reference computations (numpy brute force, BM25 by hand)."""

from __future__ import annotations

import math

import numpy as np

from insight_search.dense import DenseIndex
from insight_search.lexical import LexicalIndex, tokenize


def _unit(n: int, d: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_flat_search_equals_numpy_brute_force(tmp_path):
    vectors, queries = _unit(500, 16), _unit(5, 16, seed=1)
    index = DenseIndex.build(vectors)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    got = [[i for i, _ in row] for row in index.search(queries, 10)]
    assert got == expected.tolist()
    index.save(tmp_path)
    assert (tmp_path / "vectors.f32").stat().st_size == 500 * 16 * 4  # the exact index is the raw matrix
    again = DenseIndex.load(tmp_path, 16)
    assert [[i for i, _ in row] for row in again.search(queries, 10)] == got


def test_restricted_search_ranks_inside_the_allowed_set():
    vectors, query = _unit(300, 16), _unit(1, 16, seed=2)
    allowed = np.arange(0, 300, 7)
    scores = vectors[allowed] @ query[0]
    expected = allowed[np.argsort(-scores)][:10].tolist()
    index = DenseIndex.build(vectors)
    assert [i for i, _ in index.search(query, 10, allowed)[0]] == expected
    # HNSW with a FAISS id selector (the path used for large allowed sets) keeps to the allowed ids.
    hnsw = DenseIndex.build(vectors, flat_max=10)
    assert hnsw.kind == "hnsw"
    import insight_search.dense as dense_mod

    old, dense_mod.EXACT_SUBSET_MAX = dense_mod.EXACT_SUBSET_MAX, 0
    try:
        got = [i for i, _ in hnsw.search(query, 10, allowed)[0]]
    finally:
        dense_mod.EXACT_SUBSET_MAX = old
    assert set(got) <= set(allowed.tolist()) and len(got) == 10
    assert len(set(got) & set(expected)) >= 8


def _bm25_reference(corpus: list[list[str]], query: list[str], k1=1.2, b=0.75) -> list[float]:
    n = len(corpus)
    avgdl = sum(len(d) for d in corpus) / n
    out = []
    for doc in corpus:
        s = 0.0
        for t in set(query):
            df = sum(t in d for d in corpus)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = doc.count(t)
            s += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))  # Lucene drops (k1 + 1)
        out.append(s)
    return out


def test_bm25_scores_match_the_lucene_formula():
    texts = [
        "The national care system law was approved by the Senate.",
        "Care services for children and older people.",
        "Training of police officers on violence against women.",
        "Care, care and more care: the care economy.",
    ]
    index = LexicalIndex.build(texts)
    query = "care system legislation"
    expected = _bm25_reference([tokenize(t) for t in texts], tokenize(query))
    np.testing.assert_allclose(index.scores(query), expected, rtol=1e-4)
    ranked, matching = index.search(query, 10)
    assert sorted(matching.tolist()) == [0, 1, 3]
    assert [i for i, _ in ranked] == sorted([0, 1, 3], key=lambda i: -expected[i])


def test_lexical_folding_and_unknown_words(tmp_path):
    index = LexicalIndex.build(["Sistema de cuidados de Nuevo León", "Other text"])
    ranked, _ = index.search("nuevo leon", 5)
    assert ranked[0][0] == 0
    ranked_none, matching_none = index.search("zzzz qqqq", 5)
    assert ranked_none == [] and len(matching_none) == 0
    index.save(tmp_path / "lex")
    assert LexicalIndex.load(tmp_path / "lex").search("nuevo leon", 5)[0] == ranked
