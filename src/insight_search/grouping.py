"""Hits grouped by document (``group=document``): one hit per document, its best chunk, carrying the
document's next best matching passages.

The document ranking itself is ``ranking.by_document`` (a document scores as its best chunk in each list).
Here: the value objects of a grouped hit, and the pure choice of each document's further passages from a
fused, best-first list of the chunks of the page's documents (``Searcher`` ranks those chunks with the same
fusion as a search, so a document's passages come in the order a passage search would give them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from insight_search.models import Chunk, Hit

GROUP_VALUES = ("passage", "document")  # what ``group`` takes at every edge; "passage" is the default
PASSAGES_PER_DOCUMENT = 3  # further matching passages a grouped hit carries (beside its own chunk)


@dataclass(frozen=True)
class PassageMatch:
    """One further matching passage of a grouped hit's document."""

    chunk: Chunk
    highlight: str
    dense_score: float | None = None  # cosine with the query, when the passage is in the dense list
    lexical_score: float | None = None  # BM25 score, when the passage holds a query word


@dataclass(frozen=True)
class DocumentHit(Hit):
    """A hit of a grouped search: the document's best chunk (``chunk``) and its next best passages."""

    passages: tuple[PassageMatch, ...] = ()


def next_best_passages(
    hit_rows: Sequence[int],
    ranked_rows: Sequence[int] | np.ndarray,
    ordinals: np.ndarray,
    limit: int = PASSAGES_PER_DOCUMENT,
) -> Mapping[int, list[int]]:
    """For each of ``hit_rows`` (one chunk per document), up to ``limit`` other rows of its document, in the
    order of ``ranked_rows`` (the matching chunks of those documents, best first); ``ordinals`` gives each
    row's document."""
    by_document = {int(ordinals[r]): int(r) for r in hit_rows}
    out: dict[int, list[int]] = {int(r): [] for r in hit_rows}
    for row in ranked_rows:
        row = int(row)
        hit = by_document.get(int(ordinals[row]))
        if hit is None or row == hit or len(out[hit]) >= limit:
            continue
        out[hit].append(row)
    return out
