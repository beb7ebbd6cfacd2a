"""Rank fusion of the dense and lexical lists. Pure functions over (id, score) lists, best first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranked = Sequence[tuple[int, float]]


def rrf(lists: Sequence[Ranked], weights: Sequence[float], k: int = 60) -> dict[int, float]:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1."""
    fused: dict[int, float] = {}
    for ranked, w in zip(lists, weights, strict=True):
        for rank, (doc, _score) in enumerate(ranked, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return fused


def convex(lists: Sequence[Ranked], weights: Sequence[float]) -> dict[int, float]:
    """Weighted sum of min-max normalised scores (a document missing from a list gets 0 from it).

    A list whose scores are all equal (one entry, or a list of equals such as the query-year list) gives each
    of its documents the full weight."""
    fused: dict[int, float] = {}
    for ranked, w in zip(lists, weights, strict=True):
        if not ranked:
            continue
        scores = np.array([s for _, s in ranked], dtype=np.float64)
        lo, hi = float(scores.min()), float(scores.max())
        if hi > lo:
            normalised = (scores - lo) / (hi - lo)
        else:
            normalised = np.ones(len(scores))
        for (doc, _), s in zip(ranked, normalised.tolist(), strict=True):
            fused[doc] = fused.get(doc, 0.0) + w * s
    return fused


def top(fused: dict[int, float], n: int) -> list[tuple[int, float]]:
    """Best ``n`` by score; ties broken by id so results are deterministic."""
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:n]
