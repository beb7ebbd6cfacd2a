"""Writing one index version as the corpus streams in (:class:`VersionWriter`): documents are staged in a
SQLite file by id (so repeats merge without keeping them in memory); chunks, vectors and BM25 (term,
frequency) pairs are appended to files; ``commit`` finishes the indexes and publishes the version atomically
(``store``)."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from insight_search.dense import VECTORS_FILE, DenseIndex, VectorWriter
from insight_search.lexical import LexicalBuilder
from insight_search.manifest import Manifest
from insight_search.models import Chunk, Document
from insight_search.multilingual import LANE_DIR, ROWS_FILE
from insight_search.records import chunk_to_dict, document_from_dict, document_to_dict
from insight_search.sentence_store import SentenceWriter, Span
from insight_search.store import new_version, publish

logger = logging.getLogger(__name__)


class VersionWriter:
    """Writes one index version as documents and chunks arrive, holding none of them in memory.

    ``add_document`` stages a document (a repeated id is merged into the first with ``merge`` and gives no
    new chunks); ``add_chunks`` appends chunks in index order with their vectors and the text BM25 indexes;
    ``commit`` finishes the indexes and makes the version current; ``abort`` removes it. Use only while
    holding :func:`build_lock`."""

    def __init__(
        self,
        index_dir: Path,
        dimension: int,
        *,
        flat_max: int,
        merge: Callable[[Document, Document], Document],
        lane_dimension: int | None = None,
    ) -> None:
        self.index_dir, self.dimension, self.flat_max, self.merge = index_dir, dimension, flat_max, merge
        self.name, self.tmp = new_version(index_dir)
        self.documents = self.passages = self.funding_records = self.chunks = 0
        self.indicator_records = 0
        self._staging = sqlite3.connect(self.tmp / ".documents.sqlite", isolation_level=None)
        self._staging.execute("PRAGMA journal_mode=OFF")
        self._staging.execute("PRAGMA synchronous=OFF")
        self._staging.execute("CREATE TABLE docs (seq INTEGER PRIMARY KEY, doc_id TEXT UNIQUE, body TEXT)")
        self._staging.execute("BEGIN")
        self._chunks = (self.tmp / "chunks.jsonl").open("w", encoding="utf-8")
        self._vectors = VectorWriter(self.tmp / VECTORS_FILE, dimension)
        self._lexical = LexicalBuilder(self.tmp / ".bm25-pairs.i32")
        # The quotable sentences of every chunk and their vectors (``sentence_store``); dropped when a batch
        # of chunks comes without them (the version then summarises on the fly, as one written before).
        self._sentences: SentenceWriter | None = SentenceWriter(self.tmp, dimension)
        # The multilingual lane's vectors (``multilingual``) in ``multilingual/``, and the chunk row of each
        self.lane_dimension = lane_dimension
        self._lane: VectorWriter | None = None
        if lane_dimension is not None:
            (self.tmp / LANE_DIR).mkdir()
            self._lane = VectorWriter(self.tmp / LANE_DIR / VECTORS_FILE, lane_dimension)
            self._lane_rows = (self.tmp / LANE_DIR / ROWS_FILE).open("wb")

    def add_document(self, doc: Document) -> bool:
        """Stage ``doc``; False when its id was seen before (merged, no new chunks)."""
        row = self._staging.execute("SELECT body FROM docs WHERE doc_id = ?", (doc.doc_id,)).fetchone()
        if row is not None:
            staged = document_from_dict(json.loads(row[0]))
            merged = self.merge(staged, doc)
            self.indicator_records += len(merged.indicators) - len(staged.indicators)
            body = json.dumps(document_to_dict(merged), ensure_ascii=False)
            self._staging.execute("UPDATE docs SET body = ? WHERE doc_id = ?", (body, doc.doc_id))
            return False
        body = json.dumps(document_to_dict(doc), ensure_ascii=False)
        self._staging.execute("INSERT INTO docs (doc_id, body) VALUES (?, ?)", (doc.doc_id, body))
        self.documents += 1
        self.passages += len(doc.passages)
        self.funding_records += len(doc.funding)
        self.indicator_records += len(doc.indicators)
        return True

    def add_chunks(
        self,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        lexical_texts: Sequence[str],
        sentences: tuple[Sequence[Sequence[Span]], np.ndarray] | None = None,
        lane: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """``sentences``: each chunk's quotable sentence spans and their vectors, one row per span
        (``sentence_store.SentenceWriter.add``). ``lane``: the chunks the multilingual lane holds (positions
        in ``chunks``, ascending) and their vectors (``multilingual.lane_vectors``; required when the writer
        was made with ``lane_dimension``)."""
        if not (len(chunks) == len(vectors) == len(lexical_texts)):
            raise ValueError("add_chunks needs one vector and one text per chunk")
        if self._lane is not None:
            if lane is None or len(lane[0]) != len(lane[1]) or (len(lane[0]) and lane[0][-1] >= len(chunks)):
                raise ValueError("add_chunks needs the multilingual lane's rows and one vector for each")
            self._lane.write(lane[1])
            self._lane_rows.write((np.asarray(lane[0], dtype="<i8") + self.chunks).tobytes())
        if self._sentences is not None:
            if sentences is None or len(sentences[0]) != len(chunks):
                self._sentences.abort()
                self._sentences = None
            else:
                self._sentences.add(*sentences)
        for chunk in chunks:
            self._chunks.write(json.dumps(chunk_to_dict(chunk), ensure_ascii=False))
            self._chunks.write("\n")
        self._vectors.write(vectors)
        for chunk, text in zip(chunks, lexical_texts, strict=True):
            self._lexical.add(text, chunk.language)  # analysed in the chunk's language (issue 13)
        self.chunks += len(chunks)

    def commit(self, manifest: Manifest) -> Path:
        """Finish the dense and BM25 indexes, write documents and funding, publish. Returns the version."""
        logger.info("writing index version %s", self.name)
        self._chunks.close()
        self._vectors.close()
        if self._sentences is not None:
            self._sentences.close()
        if self._lane is not None and self.lane_dimension is not None:
            self._lane.close()
            self._lane_rows.close()  # (publish makes it durable)
            lane = self.tmp / LANE_DIR
            if self._lane.rows > self.flat_max:  # HNSW for the lane too
                index = DenseIndex.from_vector_file(
                    lane / VECTORS_FILE, self.lane_dimension, flat_max=self.flat_max
                )
                index.save(lane)
                (lane / VECTORS_FILE).unlink()
                del index
        if self.chunks > self.flat_max:  # HNSW, built from the vector file block by block
            vectors = self.tmp / VECTORS_FILE
            dense = DenseIndex.from_vector_file(vectors, self.dimension, flat_max=self.flat_max)
            dense.save(self.tmp)
            vectors.unlink()
            kind, storage = dense.kind, dense.storage
            del dense
        else:  # the vector file already is the exact index
            kind, storage = "flat", "float32"
        self._lexical.finish().save(self.tmp / "lexical")
        self._staging.execute("COMMIT")
        with (
            (self.tmp / "documents.jsonl").open("w", encoding="utf-8") as docs,
            (self.tmp / "funding.jsonl").open("w", encoding="utf-8") as funding,
        ):
            for (body,) in self._staging.execute("SELECT body FROM docs ORDER BY seq"):
                docs.write(body + "\n")
                for record in json.loads(body).get("funding") or ():
                    funding.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._staging.close()
        (self.tmp / ".documents.sqlite").unlink()
        return publish(
            self.index_dir, self.name, self.tmp, replace(manifest, dense_index=kind, dense_storage=storage)
        )

    def abort(self) -> None:
        """Drop the unfinished version (a crash instead leaves it to ``clean_leftovers``)."""
        for closing in (
            self._chunks.close,
            self._vectors.close,
            self._staging.close,
            self._lexical.spill.close,
            *((self._lane.close, self._lane_rows.close) if self._lane is not None else ()),
            *((self._sentences.abort,) if self._sentences is not None else ()),
        ):
            with contextlib.suppress(Exception):
                closing()
        shutil.rmtree(self.tmp, ignore_errors=True)
