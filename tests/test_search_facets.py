"""Facet counts (numpy over per-chunk value tables) and cached highlights against plain Python references."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from insight_search.config import Settings
from insight_search.highlight import highlight
from insight_search.indexer import build_index
from insight_search.lexical import tokenize
from insight_search.models import Query
from insight_search.search import Searcher, open_searcher
from insight_search.text import sentence_spans

COUNTRIES = ["Mexico", "Chile", None, "Kenya"]
AGENCIES = [["UN Women"], ["UNDP", "UN Women"], [], ["UNICEF", "UNDP", "UNDP"]]
THEMES = [["gender"], ["gender", "work"], None, ["youth"]]


@pytest.fixture
def searcher(tmp_path: Path, fake_embedder) -> Searcher:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    words = [
        "care",
        "system",
        "budget",
        "violence",
        "shelter",
        "credit",
        "rural",
        "women",
        "law",
        "policy",
        "training",
        "data",
    ]
    lines = []
    for d in range(40):
        record = {
            "id": f"d{d}",
            "text": "\n\n".join(
                ". ".join(" ".join(rng.choices(words, k=6)).capitalize() for _ in range(3)) + "."
                for _ in range(rng.randint(1, 3))
            ),
            "agencies": AGENCIES[d % 4],
        }
        if d % 5:
            record["year"] = 2019 + d % 5
        if COUNTRIES[d % 4]:
            record["country"] = COUNTRIES[d % 4]
        if THEMES[d % 4]:
            record["themes"] = THEMES[d % 4]
        lines.append(json.dumps(record))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", chunk_words=10)
    build_index([corpus], settings, fake_embedder)
    return open_searcher(settings, fake_embedder)


def _reference(searcher: Searcher, ids: list[int]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {"years": Counter(), "countries": Counter(), "agencies": Counter()}
    out["themes"] = Counter()
    for c in (searcher.chunks[i] for i in ids):
        out["years"][str(c.year) if c.year is not None else "unknown"] += 1
        out["countries"][c.country or "unknown"] += 1
        out["agencies"].update(set(c.agencies) or {"unknown"})
        out["themes"].update(set(c.themes) or {"unknown"})
    return out


def test_facets_match_the_counter_reference(searcher: Searcher) -> None:
    n = len(searcher.chunks)
    rng = np.random.default_rng(0)
    for ids in (list(range(n)), rng.choice(n, size=n // 3, replace=False).tolist(), [5], []):
        facets = searcher.facets(ids)
        ref = _reference(searcher, ids)
        assert dict(facets.years) == dict(ref["years"]) and list(facets.years) == sorted(ref["years"])
        for name in ("countries", "agencies", "themes"):
            got = dict(getattr(facets, name))
            assert got == dict(ref[name])
            counts = list(got.values())
            assert counts == sorted(counts, reverse=True)  # most frequent first
    assert dict(searcher.facets(None).countries) == dict(_reference(searcher, list(range(n)))["countries"])


def test_search_facets_count_every_candidate(searcher: Searcher) -> None:
    result = searcher.search(Query(text="care budget", k=5))
    assert sum(result.facets.years.values()) == result.total == sum(result.facets.countries.values())


def _plain_highlight(text: str, terms: set[str]) -> str:
    spans = sentence_spans(text)
    best, best_score = spans[0], 0
    for s, e in spans:
        score = len(terms.intersection(tokenize(text[s:e])))
        if score > best_score:
            best, best_score = (s, e), score
    return text[best[0] : best[1]]


def test_cached_highlights_equal_the_plain_ones(searcher: Searcher) -> None:
    for text in ("care budget", "rural women credit", "shelter"):
        for hit in searcher.search(Query(text=text, k=10)).hits:
            assert hit.highlight == _plain_highlight(hit.chunk.text, set(tokenize(text)))
            assert hit.highlight == highlight(hit.chunk.text, set(tokenize(text)))


@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_candidate_order_matches_the_dict_reference(searcher: Searcher, fusion: str) -> None:
    """The numpy ranking equals: fuse, add every lexical match at score 0, sort by (-score, id)."""
    from insight_search.fusion import convex, rrf, top

    view = Searcher(searcher.data, searcher.embedder, searcher.settings.model_copy(update={"fusion": fusion}))
    for text in ("care budget", "rural women credit data", "shelter law"):
        candidates = view.candidates(Query(text=text, k=10))
        ids, scores = candidates.ids, candidates.scores
        lists = [list(candidates.dense.items()), list(candidates.lexical.items())]
        w = [view.settings.dense_weight, view.settings.lexical_weight]
        fused = rrf(lists, w, k=view.settings.rrf_k) if fusion == "rrf" else convex(lists, w)
        for i in candidates.matching:
            fused.setdefault(int(i), 0.0)
        expected = top(fused, len(fused))
        assert ids.tolist() == [i for i, _ in expected]
        assert np.allclose(scores, [s for _, s in expected])
