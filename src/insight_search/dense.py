"""FAISS index over the chunk vectors: build, search (optionally restricted to allowed ids), save, load.

Up to ``flat_max`` chunks the index is exact (IndexFlatIP: inner product of normalised vectors = cosine);
above it, HNSW over vectors stored as float16 (``IndexHNSWSQ`` fp16: 2 bytes a dimension instead of 4, cosine
error below 1e-4, so the graph search ranks as with float32). A restricted search over few allowed ids scores
them exactly with numpy; over many it asks FAISS with an id selector, so filters apply before ranking and
never shrink the result list. Indexes saved by earlier versions (``IndexHNSWFlat``) still load.

On disk, an exact index is the raw float32 matrix (``vectors.f32``, row i = chunk i): the indexer appends
vectors to it batch by batch and never holds them all, and loading fills FAISS from it block by block. An HNSW
index is FAISS's own file (``dense.faiss``), built from the same matrix read in blocks.

Single queries are searched on one thread: FAISS's OpenMP team costs more than it gives for one query, and
far more on a busy machine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faiss  # its bundled stubs lack several real attributes, hence the ignores below
import numpy as np

from insight_search.fusion import Ranked

DENSE_FILE = "dense.faiss"
VECTORS_FILE = "vectors.f32"
BLOCK_ROWS = 16_384  # vectors read or added at a time
EXACT_SUBSET_MAX = 50_000  # restricted searches over at most this many ids are scored exactly
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
# HNSW search breadth by index size. Real UN INFO chunks (many exact and near duplicates, scale.py):
# recall@10 0.987 at 100k with 512; at 1M 0.91 with 512, 0.94 with 1024, hence 2048 above half a million.
HNSW_EF_SEARCH = 512
HNSW_EF_SEARCH_LARGE = 2048
HNSW_LARGE = 500_000


def ef_search_for(size: int) -> int:
    return HNSW_EF_SEARCH_LARGE if size > HNSW_LARGE else HNSW_EF_SEARCH


PARALLEL_MIN_QUERIES = 16  # fewer queries than this are searched on one thread


@contextlib.contextmanager
def _threads(n_queries: int) -> Iterator[None]:
    if n_queries >= PARALLEL_MIN_QUERIES:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _vector_view(index: faiss.Index) -> np.ndarray:
    """A numpy view of FAISS's own copy of the vectors (no second copy in memory): float32 or float16."""
    n, d = index.ntotal, index.d
    storage: Any = index
    if isinstance(index, faiss.IndexHNSW):
        storage = faiss.downcast_index(index.storage)
    if n == 0:
        return np.zeros((0, d), np.float32)
    if isinstance(storage, faiss.IndexFlat):
        return faiss.rev_swig_ptr(storage.get_xb(), n * d).reshape(n, d)
    if isinstance(storage, faiss.IndexScalarQuantizer) and storage.code_size == 2 * d:
        codes = faiss.rev_swig_ptr(storage.codes.data(), n * storage.code_size)
        return codes.view(np.float16).reshape(n, d)
    raise ValueError(f"unsupported FAISS storage {type(storage).__name__}")


class DenseIndex:
    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.kind = "flat" if isinstance(index, faiss.IndexFlat) else "hnsw"
        if self.kind == "hnsw":  # also for indexes saved with an older breadth
            faiss.downcast_index(index).hnsw.efSearch = ef_search_for(index.ntotal)  # type: ignore[attr-defined]
        self.vectors = _vector_view(index)
        self.storage = "float16" if self.vectors.dtype == np.float16 else "float32"

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @staticmethod
    def _empty(dim: int, size: int, flat_max: int) -> faiss.Index:
        if size <= flat_max:
            return faiss.IndexFlatIP(dim)
        fp16 = faiss.ScalarQuantizer.QT_fp16
        index = faiss.IndexHNSWSQ(dim, fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = ef_search_for(size)
        index.train(np.zeros((1, dim), np.float32))  # fp16 needs no statistics; FAISS asks for a call
        return index

    @classmethod
    def build(cls, vectors: np.ndarray, *, flat_max: int = 200_000) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = cls._empty(vectors.shape[1], len(vectors), flat_max)
        index.add(vectors)
        return cls(index)

    @classmethod
    def from_vector_file(cls, path: Path, dim: int, *, flat_max: int = 200_000) -> DenseIndex:
        """The index over a raw float32 matrix file, read ``BLOCK_ROWS`` rows at a time."""
        size = vector_file_rows(path, dim)
        index = cls._empty(dim, size, flat_max)
        with path.open("rb") as f:
            while block := f.read(BLOCK_ROWS * dim * 4):
                index.add(np.frombuffer(block, dtype=np.float32).reshape(-1, dim))
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
            with _threads(len(queries)):
                scores, ids = self.index.search(queries, min(k, len(allowed)), params=params)
        else:
            with _threads(len(queries)):
                scores, ids = self.index.search(queries, min(k, self.size))
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i >= 0]
            for row_ids, row_scores in zip(ids, scores, strict=True)
        ]

    def close_rows(
        self, query: np.ndarray, threshold: float, allowed: np.ndarray | None = None
    ) -> np.ndarray:
        """Sorted ids whose cosine with ``query`` (one vector) is at least ``threshold``, only among
        ``allowed`` when given. Exact for a flat index and for at most ``EXACT_SUBSET_MAX`` allowed ids; over
        an HNSW index, FAISS's range search walks the graph (approximate, as its top-k search is)."""
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.index.d)
        if self.size == 0 or (allowed is not None and len(allowed) == 0):
            return np.zeros(0, dtype=np.int64)
        if allowed is not None and len(allowed) <= EXACT_SUBSET_MAX:
            allowed = np.asarray(allowed, dtype=np.int64)
            scores = self.vectors[allowed].astype(np.float32, copy=False) @ q[0]
            return np.sort(allowed[scores >= threshold])
        # FAISS keeps the inner products above the radius: just below the threshold keeps those equal to it
        radius = float(np.nextafter(np.float32(threshold), np.float32(-np.inf)))
        selector = None if allowed is None else faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        with _threads(1):
            if selector is None:
                _, _, ids = self.index.range_search(q, radius)
            else:
                _, _, ids = self.index.range_search(q, radius, params=self._params(selector))
        return np.sort(np.asarray(ids, dtype=np.int64))

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        if self.kind != "flat":
            ef = ef_search_for(self.size)
            # faiss's stubs lack the HNSW parameters class, which the library has
            return faiss.SearchParametersHNSW(sel=selector, efSearch=ef)  # type: ignore[attr-defined,no-any-return]
        return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]

    def _exact_subset(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> list[Ranked]:
        allowed = np.asarray(allowed, dtype=np.int64)
        scores = self.vectors[allowed].astype(np.float32, copy=False) @ queries.T  # (n_allowed, n_queries)
        out: list[Ranked] = []
        for col in range(scores.shape[1]):
            s = scores[:, col]
            n = min(k, len(s))
            best = np.argpartition(-s, n - 1)[:n]
            best = best[np.lexsort((allowed[best], -s[best]))]
            out.append([(int(allowed[j]), float(s[j])) for j in best])
        return out

    def save(self, folder: Path) -> None:
        """Write into ``folder``: ``vectors.f32`` for an exact index, ``dense.faiss`` for HNSW."""
        if self.kind == "flat":
            with (folder / VECTORS_FILE).open("wb") as f:
                for start in range(0, self.size, BLOCK_ROWS):
                    f.write(np.ascontiguousarray(self.vectors[start : start + BLOCK_ROWS]).tobytes())
        else:
            faiss.write_index(self.index, str(folder / DENSE_FILE))

    @classmethod
    def load(cls, folder: Path, dim: int) -> DenseIndex:
        if (folder / DENSE_FILE).exists():  # HNSW, or an exact index saved by format 1
            return cls(faiss.read_index(str(folder / DENSE_FILE)))
        return cls.from_vector_file(folder / VECTORS_FILE, dim, flat_max=1 << 62)


def vector_file_rows(path: Path, dim: int) -> int:
    if dim <= 0:
        raise ValueError(f"{path}: the vector dimension is unknown")
    size = os.path.getsize(path)
    if size % (dim * 4):
        raise ValueError(f"{path}: {size} bytes is not a whole number of {dim}-dimension float32 vectors")
    return size // (dim * 4)


class VectorWriter:
    """Appends float32 rows to a raw matrix file (the exact index's on-disk form)."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path, self.dim, self.rows = path, dim, 0
        self._file = path.open("wb")

    def write(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        self._file.write(vectors.tobytes())
        self.rows += len(vectors)

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
