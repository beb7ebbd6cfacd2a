"""The quotable sentences of every chunk, split and embedded once when the index is built.

A summary or a timeline chooses among the sentences of its evidence passages by their embeddings; embedding
them on every request cost tens of searches (issue 15). A build therefore splits each quotable chunk into
the sentences a summary may quote (:func:`quotable_spans`: ``text.sentence_spans`` of at least
:data:`MIN_SENTENCE_WORDS` words; composed chunks have none) and embeds them through the build's embedding
cache; a summary looks them up by chunk row instead (:meth:`SentenceStore.sentences`). Files of a version,
under ``sentences/`` (part of the version's checksums like every other file):

* ``offsets.i64``: ``chunks + 1`` int64, the sentences of chunk ``i`` are rows ``offsets[i]:offsets[i+1]``
* ``spans.i32``: ``(sentences, 2)`` int32, start and end offsets of each sentence in its chunk's text
* ``vectors.f16``: ``(sentences, dimension)`` float16, the sentence embeddings (as ``embed_batch`` gave
  them, rounded to half precision: cosine error below 1e-3, half the size of float32)

All three are memory-mapped: a request touches the rows of its evidence only. A version written before
this module has no ``sentences/`` folder; its summaries split and embed on the fly, as before.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insight_search.errors import IndexCorrupt
from insight_search.models import Chunk
from insight_search.text import sentence_spans, word_count

logger = logging.getLogger(__name__)

MIN_SENTENCE_WORDS = 4  # shorter sentences are never quoted
SENTENCES_DIR = "sentences"
OFFSETS_FILE = "offsets.i64"
SPANS_FILE = "spans.i32"
VECTORS_FILE = "vectors.f16"

Span = tuple[int, int]


def quotable_spans(chunk: Chunk) -> list[Span]:
    """The sentences of ``chunk`` a summary may quote, as (start, end) offsets in its text, in text order:
    none for a composed chunk (text a reader wrote from table fields), else every sentence of at least
    :data:`MIN_SENTENCE_WORDS` words."""
    if chunk.composed:
        return []
    text = chunk.text
    return [(s, e) for s, e in sentence_spans(text) if word_count(text[s:e]) >= MIN_SENTENCE_WORDS]


@dataclass(frozen=True)
class StoredSentences:
    """The quotable sentences of one chunk: ``spans`` (n, 2) offsets in its text, ``vectors`` (n, dim)."""

    spans: np.ndarray
    vectors: np.ndarray


SentenceLookup = Callable[[Chunk], StoredSentences | None]


class SentenceWriter:
    """Appends the sentences of chunks in index order to ``<folder>/sentences/`` (see the module doc)."""

    def __init__(self, folder: Path, dimension: int) -> None:
        self.dimension = dimension
        self.folder = folder / SENTENCES_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        self._spans = (self.folder / SPANS_FILE).open("wb")
        self._vectors = (self.folder / VECTORS_FILE).open("wb")
        self._offsets: list[int] = [0]

    @property
    def sentences(self) -> int:
        return self._offsets[-1]

    def add(self, spans: Sequence[Sequence[Span]], vectors: np.ndarray) -> None:
        """The sentences of the next ``len(spans)`` chunks: ``spans[i]`` those of the i-th, ``vectors``
        one row per sentence, in the same order."""
        total = sum(len(s) for s in spans)
        if vectors.shape != (total, self.dimension):
            raise ValueError(f"{vectors.shape} sentence vectors for {total} sentences of {self.dimension}")
        for chunk_spans in spans:
            self._offsets.append(self._offsets[-1] + len(chunk_spans))
        if total:
            flat = np.asarray([s for chunk_spans in spans for s in chunk_spans], dtype=np.int32)
            self._spans.write(flat.tobytes())
            self._vectors.write(np.asarray(vectors, dtype=np.float16).tobytes())

    def close(self) -> None:
        """Finish the files (the offsets are written last)."""
        self._spans.close()
        self._vectors.close()
        np.asarray(self._offsets, dtype=np.int64).tofile(self.folder / OFFSETS_FILE)

    def abort(self) -> None:
        for closing in (self._spans.close, self._vectors.close):
            with contextlib.suppress(Exception):
                closing()
        shutil.rmtree(self.folder, ignore_errors=True)


def _mapped(path: Path, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
    size = path.stat().st_size
    if size != expected:
        raise IndexCorrupt(f"{path}: {size} bytes, expected {expected} for {shape} {np.dtype(dtype).name}")
    if expected == 0:  # an empty file cannot be mapped
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


class SentenceStore:
    """The sentences of one index version, memory-mapped (read-only)."""

    def __init__(self, offsets: np.ndarray, spans: np.ndarray, vectors: np.ndarray) -> None:
        self.offsets, self.spans, self.vectors = offsets, spans, vectors

    def __len__(self) -> int:
        return int(self.spans.shape[0])

    @classmethod
    def load(cls, version: Path, dimension: int, chunks: int) -> SentenceStore | None:
        """The store of ``version``; None when it has none (written before sentences were stored).
        IndexCorrupt when its files do not fit ``chunks`` chunks of ``dimension``-wide vectors."""
        folder = version / SENTENCES_DIR
        if not folder.is_dir():
            logger.info("%s stores no sentences: summaries embed them on the fly", version.name)
            return None
        offsets = np.fromfile(folder / OFFSETS_FILE, dtype=np.int64)
        if offsets.shape != (chunks + 1,) or offsets[0] != 0 or np.any(np.diff(offsets) < 0):
            raise IndexCorrupt(f"{folder / OFFSETS_FILE}: not the sentence offsets of {chunks} chunks")
        n = int(offsets[-1])
        spans = _mapped(folder / SPANS_FILE, np.int32, (n, 2))
        vectors = _mapped(folder / VECTORS_FILE, np.float16, (n, dimension))
        return cls(offsets, spans, vectors)

    def sentences(self, row: int) -> StoredSentences:
        """The quotable sentences of chunk ``row`` (offsets in its text and their vectors)."""
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        return StoredSentences(np.asarray(self.spans[start:end]), np.asarray(self.vectors[start:end]))

    def lookup(self, chunks: Sequence[Chunk], rows: Sequence[int]) -> SentenceLookup:
        """A lookup of the sentences of ``chunks`` (the chunk objects of the index at ``rows``, one each);
        None for any other chunk."""
        if len(chunks) != len(rows):
            raise ValueError(f"{len(chunks)} chunks at {len(rows)} rows")
        row_of = dict(zip(map(id, chunks), map(int, rows), strict=True))  # a timeline passes thousands

        def find(chunk: Chunk) -> StoredSentences | None:
            row = row_of.get(id(chunk))
            return None if row is None else self.sentences(row)

        return find


def sentence_texts(chunks: Sequence[Chunk]) -> tuple[list[list[Span]], list[str]]:
    """Each chunk's quotable spans and the texts of all of them, in order (what a build embeds)."""
    spans = [quotable_spans(c) for c in chunks]
    texts = [c.text[s:e] for c, chunk_spans in zip(chunks, spans, strict=True) for s, e in chunk_spans]
    return spans, texts
