"""Candidate ranking (pure): the fused list of every candidate of a query, as a :class:`Candidates` value.

The dense and lexical lists (and, when the query names a year, the list of that year's passages) are fused;
every other match follows with score 0, so that a passage holding a query term (or close enough in meaning)
is always a candidate. A search lists only the matches (:meth:`Candidates.matching_only`).
Grouped by document, each list is first cut to one entry per document (:func:`by_document`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from insight_search.fusion import Ranked, convex, rrf, top

DOCUMENT_DEPTH_FACTOR = 4  # chunks searched per wanted document when hits are grouped by document

_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


@dataclass(frozen=True, eq=False)
class Candidates:
    """Every candidate of one query, best first, with the scores that ranked it."""

    ids: np.ndarray  # int64 rows, best first (ties by row)
    scores: np.ndarray  # float64 fused score of each of ``ids``
    dense: Mapping[int, float]  # row -> cosine, for the rows of the dense list
    lexical: Mapping[int, float]  # row -> BM25 score, for the rows of the lexical list
    # sorted int64 rows that match the query: they hold a query term, or (as the searcher found them) their
    # cosine reaches the match threshold, also below the depth of the dense list (``Searcher.candidates``)
    matching: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def is_match(self, row: int) -> bool:
        """Whether ``row`` is one of ``matching``."""
        j = int(np.searchsorted(self.matching, row))
        return j < len(self.matching) and int(self.matching[j]) == row

    def matching_only(self, threshold: float) -> Candidates:
        """These candidates cut to the matches, order and scores kept: the rows of ``matching``, and those of
        the dense list whose cosine reaches ``threshold``. A search pages, counts and facets these."""
        keep = self.match_mask(threshold)
        if keep.all():
            return self
        return Candidates(self.ids[keep], self.scores[keep], self.dense, self.lexical, self.matching)

    def match_mask(self, threshold: float) -> np.ndarray:
        """For each of ``ids``, whether it matches: one of ``matching``, or in the dense list with a cosine
        that reaches ``threshold`` (what :meth:`matching_only` keeps)."""
        close = np.fromiter((i for i, s in self.dense.items() if s >= threshold), dtype=np.int64)
        return np.isin(self.ids, self.matching) | np.isin(self.ids, close)

    def matches(self, threshold: float) -> list[int]:
        """Rows, best first, of :meth:`matching_only`."""
        return [int(i) for i in self.matching_only(threshold).ids]

    def page(self, offset: int, k: int) -> list[tuple[int, float]]:
        """(row, score) of the candidates ranked ``offset + 1`` to ``offset + k``."""
        end = offset + k
        return list(zip(self.ids[offset:end].tolist(), self.scores[offset:end].tolist(), strict=True))


def query_years(text: str) -> set[int]:
    """The years (1950-2099) named in a query."""
    return {int(y) for y in _YEAR.findall(text)}


def year_list(
    lists: Sequence[Ranked],
    weights: Sequence[float],
    years: Collection[int],
    chunk_years: np.ndarray,
    rrf_k: int,
    chunk_year_ends: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """The passages of ``years`` among ``lists``, in the order their RRF gives them, each scored 1.0.
    With ``chunk_year_ends`` (each row's last year), a passage whose span holds one of ``years`` is one."""
    first = rrf(lists, weights, k=rrf_k)
    ends = chunk_years if chunk_year_ends is None else chunk_year_ends
    return [
        (i, 1.0)
        for i, _ in top(first, len(first))
        if chunk_years[i] >= 0 and any(chunk_years[i] <= y <= ends[i] for y in years)
    ]


def fuse(
    lists: Sequence[Ranked], weights: Sequence[float], *, fusion: str, rrf_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fused (rows, scores), best first, ties by row (as :func:`fusion.top`)."""
    fused = convex(lists, weights) if fusion == "convex" else rrf(lists, weights, k=rrf_k)
    ids = np.fromiter(fused.keys(), dtype=np.int64, count=len(fused))
    scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
    order = np.lexsort((ids, -scores))
    return ids[order], scores[order]


def merge_matching(
    ids: np.ndarray, scores: np.ndarray, matching: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every row of ``matching`` not yet in ``ids`` joins with score 0: after the positive scores, merged by
    row with the fused rows that scored 0, before any negative score."""
    seen = np.zeros(n_rows, dtype=bool)
    seen[ids] = True
    extra = np.asarray(matching, dtype=np.int64)
    extra = extra[~seen[extra]]
    if not len(extra):
        return ids, scores
    if len(extra) > 1 and np.any(extra[1:] < extra[:-1]):
        extra = np.sort(extra)
    positive, zero, negative = scores > 0, scores == 0, scores < 0
    tied = np.sort(np.concatenate([ids[zero], extra])) if zero.any() else extra
    return (
        np.concatenate([ids[positive], tied, ids[negative]]),
        np.concatenate([scores[positive], np.zeros(len(tied)), scores[negative]]),
    )


def by_document(
    dense: Ranked, lexical: Ranked, matching: np.ndarray, ordinals: np.ndarray, depth: int
) -> tuple[Ranked, Ranked, np.ndarray]:
    """Each list cut to one entry per document (its best chunk, so the document scores the max over its
    chunks), at most ``depth`` documents; ``ordinals`` gives each row's document. A document is named by one
    representative row in every list (its best dense row, else its best lexical row), so that fusion adds
    up its ranks; every matching document stays in ``matching``, named by its representative or its first
    matching row."""
    representative: dict[int, int] = {}  # document ordinal -> row
    for i, _ in itertools.chain(dense, lexical):
        representative.setdefault(int(ordinals[i]), i)

    def collapse(ranked: Ranked) -> list[tuple[int, float]]:
        seen: set[int] = set()
        out: list[tuple[int, float]] = []
        for i, score in ranked:
            doc = int(ordinals[i])
            if doc not in seen:
                seen.add(doc)
                out.append((representative[doc], score))
                if len(out) == depth:
                    break
        return out

    rows = np.asarray(matching, dtype=np.int64)
    _, first = np.unique(ordinals[rows], return_index=True)
    firsts = rows[first]
    named = [representative.get(int(o), int(i)) for i, o in zip(firsts, ordinals[firsts], strict=True)]
    return collapse(dense), collapse(lexical), np.array(sorted(named), dtype=np.int64)


def rank(
    dense: Ranked,
    lexical: Ranked,
    matching: np.ndarray,
    *,
    chunk_years: np.ndarray,
    chunk_year_ends: np.ndarray | None = None,
    years: Collection[int] = (),
    fusion: str = "convex",
    weights: tuple[float, float] = (1.0, 1.0),
    rrf_k: int = 10,
    extra: Sequence[tuple[Ranked, float]] = (),
) -> Candidates:
    """The candidates of the ``dense`` and ``lexical`` lists (and of each ``extra`` (list, weight), such as
    the multilingual lane's), ``matching`` rows included.

    ``chunk_years``: the year of each row (-1 when none; its length is the number of rows). ``years``: the
    years named in the query; their passages form a third list, weighted like the heavier of the two, in
    the order the other two give them (so "Trust Fund 2021" favours the 2021 passages)."""
    lists: list[Ranked] = [dense, lexical, *(ranked for ranked, _ in extra)]
    w = [*weights, *(weight for _, weight in extra)]
    if years:
        lists.append(year_list(lists, w, years, chunk_years, rrf_k, chunk_year_ends))
        w.append(max(w))
    ids, scores = fuse(lists, w, fusion=fusion, rrf_k=rrf_k)
    ids, scores = merge_matching(ids, scores, matching, len(chunk_years))
    return Candidates(ids, scores, dict(dense), dict(lexical), np.asarray(matching, dtype=np.int64))
