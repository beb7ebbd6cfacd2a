"""FAISS index over the chunk vectors: build, search (optionally restricted to allowed ids), save, load.

Up to ``flat_max`` chunks the index is exact (IndexFlatIP: inner product of normalised vectors = cosine);
above it, HNSW. A restricted search over few allowed ids scores them exactly with numpy; over many it asks
FAISS with an id selector, so filters apply before ranking and never shrink the result list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss  # its bundled stubs lack several real attributes, hence the ignores below
import numpy as np

from insight_search.fusion import Ranked

EXACT_SUBSET_MAX = 50_000  # restricted searches over at most this many ids are scored exactly
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.kind = "flat" if isinstance(index, faiss.IndexFlat) else "hnsw"
        storage: Any = index if self.kind == "flat" else faiss.downcast_index(index.storage)  # type: ignore[attr-defined]
        n, d = index.ntotal, index.d
        # A numpy view of FAISS's own copy of the vectors (no second copy in memory).
        self.vectors = (
            faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d) if n else np.zeros((0, d), np.float32)
        )

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @classmethod
    def build(cls, vectors: np.ndarray, *, flat_max: int = 200_000) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= flat_max:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(vectors)
        return cls(index)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[Ranked]:
        """Top ``k`` (id, cosine) per query row; with ``allowed``, only among those ids."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.index.d)
        if self.size == 0 or k <= 0:
            return [[] for _ in range(len(queries))]
        if allowed is not None:
            if len(allowed) == 0:
                return [[] for _ in range(len(queries))]
            if len(allowed) <= EXACT_SUBSET_MAX:
                return self._exact_subset(queries, k, allowed)
            params = self._params(faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
            scores, ids = self.index.search(queries, min(k, len(allowed)), params=params)
        else:
            scores, ids = self.index.search(queries, min(k, self.size))
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        if self.kind == "hnsw":
            return faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_EF_SEARCH)  # type: ignore[attr-defined]
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]

    def _exact_subset(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> list[Ranked]:
        allowed = np.asarray(allowed, dtype=np.int64)
        scores = self.vectors[allowed] @ queries.T  # (n_allowed, n_queries)
        out: list[Ranked] = []
        for col in range(scores.shape[1]):
            s = scores[:, col]
            n = min(k, len(s))
            best = np.argpartition(-s, n - 1)[:n]
            best = best[np.lexsort((allowed[best], -s[best]))]
            out.append([(int(allowed[j]), float(s[j])) for j in best])
        return out

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))
