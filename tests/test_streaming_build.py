"""The build streams: windows of chunks, documents staged on disk, vectors and token ids spilled to files.

A build in many small windows must write exactly the index a build in one window writes, repeats of a
document across files must merge as they do in memory, and a failed or unfinished build must leave nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import faiss
import numpy as np
import pytest

from insight_search import records, store
from insight_search.chunking import chunk_document
from insight_search.config import Settings
from insight_search.errors import IndexCorrupt
from insight_search.indexer import build_index, collect_corpus, index_is_current, indexed_text
from insight_search.lexical import LexicalBuilder, LexicalIndex, tokenize
from insight_search.models import Query
from insight_search.search import Searcher
from insight_search.sentence_store import sentence_texts

from .conftest import SEED, FakeEmbedder, need_shared

# Six small Latin America and Caribbean theme exports: 468 sub-outputs, 36 of them in two or more files.
LAC_FILES = ("crime", "environment", "food", "governance", "poverty", "water")
SENTENCE_FILES = ("sentences/offsets.i64", "sentences/spans.i32", "sentences/vectors.f16")
QUERIES = ("gender based violence", "water and sanitation", "food security of rural women", "climate policy")
VERSION_FILES = {
    "manifest.json",
    "vectors.f32",
    "lexical",
    "chunks.jsonl",
    "documents.jsonl",
    "funding.jsonl",
    "sentences",  # each chunk's quotable sentences and their vectors (sentence_store)
    "multilingual",  # the multilingual lane's vectors and their chunk rows (on by default, issue 13)
}


@pytest.fixture(scope="module")
def lac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = need_shared("data", "uninfo-jwp", "latin-america-caribbean")
    folder = tmp_path_factory.mktemp("lac")
    for name in LAC_FILES:
        shutil.copy(source / f"{name}.xlsx", folder / f"{name}.xlsx")
    return folder


def _build(corpus: Path, index_dir: Path, **settings: object) -> tuple[Path, FakeEmbedder]:
    embedder = FakeEmbedder()
    build_index([corpus], Settings(index_dir=index_dir, **settings), embedder)  # type: ignore[arg-type]
    version = store.current_version(index_dir)
    assert version is not None
    return version, embedder


def test_a_build_in_small_windows_writes_the_same_index_as_one_window(lac: Path, tmp_path: Path):
    whole, whole_embedder = _build(lac, tmp_path / "whole", index_window=1_000_000)
    windowed, windowed_embedder = _build(lac, tmp_path / "windowed", index_window=7)
    assert {p.name for p in windowed.iterdir()} == VERSION_FILES  # no staging or spill file is left
    for name in ("chunks.jsonl", "documents.jsonl", "funding.jsonl", "vectors.f32", *SENTENCE_FILES):
        assert (whole / name).read_bytes() == (windowed / name).read_bytes(), name
    manifest = json.loads((windowed / "manifest.json").read_text())
    assert manifest["counts"] == json.loads((whole / "manifest.json").read_text())["counts"]
    assert manifest["dense_index"] == "flat"

    # Each distinct text (a chunk's, or a quotable sentence's) was embedded once, in one window or across
    # windows (the cache carries repeats over).
    corpus = collect_corpus([lac])
    s = Settings()  # the build's chunking and embedded text (the title too, since issue 14)
    chunks = [c for d in corpus.documents.values() for c in chunk_document(d, s.chunk_words, s.chunk_chars)]
    distinct = len({indexed_text(c, s.title_in_dense) for c in chunks} | set(sentence_texts(chunks)[1]))
    assert whole_embedder.texts_embedded == windowed_embedder.texts_embedded == distinct

    # The streamed build holds what the in-memory reading gives: same documents, repeats merged the same way.
    docs = [json.loads(line) for line in (windowed / "documents.jsonl").read_text().splitlines()]
    assert [d["doc_id"] for d in docs] == list(corpus.documents)
    merged = [d for d in docs if len(d["themes"]) > 1]
    assert len(merged) == 36
    for d in merged:
        assert d["themes"] == list(corpus.documents[d["doc_id"]].themes)
    assert [c.chunk_id for c in store.load(tmp_path / "windowed").chunks] == [c.chunk_id for c in chunks]

    a, b = store.load(tmp_path / "whole"), store.load(tmp_path / "windowed")
    for q in QUERIES:
        np.testing.assert_array_equal(a.lexical.scores(q), b.lexical.scores(q))
        ranked_a = Searcher(a, FakeEmbedder()).search(Query(text=q, k=10))
        ranked_b = Searcher(b, FakeEmbedder()).search(Query(text=q, k=10))
        assert [h.chunk.chunk_id for h in ranked_a.hits] == [h.chunk.chunk_id for h in ranked_b.hits]


def test_above_flat_max_the_hnsw_index_is_built_from_the_vector_file(lac: Path, tmp_path: Path):
    version, _ = _build(lac, tmp_path / "hnsw", index_window=50, flat_index_max=100)
    assert {p.name for p in version.iterdir()} == VERSION_FILES - {"vectors.f32"} | {"dense.faiss"}
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["dense_index"] == "hnsw" and manifest["dense_storage"] == "float16"
    hnsw = store.load(tmp_path / "hnsw")
    flat_version, _ = _build(lac, tmp_path / "flat")
    flat = store.load(tmp_path / "flat")
    assert hnsw.dense.size == flat.dense.size == manifest["counts"]["chunks"] > 100
    query = FakeEmbedder().embed_batch(["violence against women and girls"])
    best_hnsw = [i for i, _ in hnsw.dense.search(query, 10)[0]]
    best_flat = [i for i, _ in flat.dense.search(query, 10)[0]]
    assert len(set(best_hnsw) & set(best_flat)) >= 9


class FailingEmbedder(FakeEmbedder):
    def __init__(self, fail_at_call: int) -> None:
        super().__init__()
        self.fail_at_call = fail_at_call

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        if self.calls + 1 >= self.fail_at_call:
            raise RuntimeError("embedder broke down")
        return super().embed_batch(texts)


def test_a_build_that_fails_midway_leaves_the_previous_index_and_no_leftovers(lac: Path, tmp_path: Path):
    index_dir = tmp_path / "index"
    build_index([SEED], Settings(index_dir=index_dir), FakeEmbedder())
    before = store.current_version(index_dir)
    settings = Settings(index_dir=index_dir, index_window=20, embed_batch_size=1)
    with pytest.raises(RuntimeError, match="broke down"):
        build_index([lac], settings, FailingEmbedder(fail_at_call=5))
    assert store.current_version(index_dir) == before
    assert not [p for p in index_dir.iterdir() if p.name.startswith(store.TMP_PREFIX)]
    assert store.load(index_dir).manifest.counts.files == 1


def test_a_truncated_vector_file_is_reported_as_corrupt(tmp_path: Path):
    index_dir = tmp_path / "index"
    build_index([SEED], Settings(index_dir=index_dir), FakeEmbedder())
    vectors = store.current_version(index_dir) / "vectors.f32"  # type: ignore[operator]
    vectors.write_bytes(vectors.read_bytes()[:-3])
    with pytest.raises(IndexCorrupt, match="vectors.f32: checksum mismatch"):
        store.load(index_dir)
    # Without checksums (a version built before they were recorded) the size check still refuses it.
    manifest_file = vectors.parent / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    del manifest["checksums"]
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="float32 vectors"):
        store.load(index_dir)


def test_an_index_written_in_format_1_still_loads(tmp_path: Path):
    index_dir = tmp_path / "index"
    build_index([SEED], Settings(index_dir=index_dir), FakeEmbedder())
    version = store.current_version(index_dir)
    assert version is not None
    expected = store.load(index_dir)
    # Format 1 kept every dense index in FAISS's file and had no vectors.f32.
    old = faiss.IndexFlatIP(FakeEmbedder.dimension)
    old.add(np.ascontiguousarray(expected.dense.vectors))
    faiss.write_index(old, str(version / "dense.faiss"))
    (version / "vectors.f32").unlink()
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["checksums"]  # format 1 had none
    (version / "manifest.json").write_text(json.dumps(dict(manifest, format_version=1)))
    again = store.load(index_dir)
    np.testing.assert_array_equal(again.dense.vectors, expected.dense.vectors)
    query = Query(text="care system in Monterrey", k=5)
    hits = Searcher(again, FakeEmbedder()).search(query).hits
    before = Searcher(expected, FakeEmbedder()).search(query).hits
    assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in before]


def test_an_index_written_in_format_2_loads_as_one_year_quoted_passages_and_is_rebuilt(tmp_path: Path):
    """Format 2 had no year spans and no composed marks: it loads with each passage one year and quotable,
    and ``index`` no longer counts it as current, so a rebuild from its own sources gives it both."""
    index_dir = tmp_path / "index"
    settings = Settings(index_dir=index_dir)
    build_index([SEED], settings, FakeEmbedder())
    version = store.current_version(index_dir)
    assert version is not None
    for name in ("chunks.jsonl", "documents.jsonl"):
        lines = [json.loads(line) for line in (version / name).read_text().splitlines()]
        for d in lines:
            d.pop("year_end", None)
            d.pop("composed", None)
            for p in d.get("passages", ()):
                p.pop("year_end", None)
                p.pop("composed", None)
        (version / name).write_text("".join(json.dumps(d) + "\n" for d in lines))
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["checksums"]
    (version / "manifest.json").write_text(json.dumps(dict(manifest, format_version=2)))
    old = store.load(index_dir)
    assert old.chunks and all(c.year_end is None and not c.composed for c in old.chunks)
    assert not index_is_current(index_dir, [SEED], FakeEmbedder().model_id)
    build_index([SEED], settings, FakeEmbedder())
    assert any(c.composed for c in store.load(index_dir).chunks)  # the sample page's funding sentences
    assert index_is_current(index_dir, [SEED], FakeEmbedder().model_id)


def test_bm25_built_in_blocks_from_the_spill_file_equals_one_block_and_bm25s(tmp_path: Path, monkeypatch):
    texts = [SEED.read_text()[i : i + 400] for i in range(0, 6000, 300)] + ["", "the of and"]
    in_memory = LexicalIndex.build(texts)
    monkeypatch.setattr(LexicalBuilder, "BLOCK_PAIRS", 3)  # blocks of one text, or of a few
    builder = LexicalBuilder(tmp_path / "tokens.i32")
    for t in texts:
        builder.add(t)
    spilled = builder.finish()
    assert not (tmp_path / "tokens.i32").exists()
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")  # bm25s's own in-memory build
    reference.index([tokenize(t) for t in texts], show_progress=False)
    for q in ("care system", "Monterrey regulations", "women economic empowerment", "the", "zzzz"):
        np.testing.assert_array_equal(spilled.scores(q), in_memory.scores(q))
        tokens = [t for t in tokenize(q) if t in reference.vocab_dict]
        expected = reference.get_scores(tokens) if tokens else np.zeros(len(texts))
        np.testing.assert_allclose(spilled.scores(q), expected, rtol=1e-6)


def _synthetic_jsonl(path: Path, records: int) -> None:
    """``records`` distinct 100-word texts over a fixed 400-word vocabulary (BM25 vocabulary stays put)."""
    rng = np.random.default_rng(7)
    vocabulary = [f"term{i}" for i in range(400)]
    with path.open("w", encoding="utf-8") as f:
        for i in range(records):
            words = " ".join(vocabulary[j] for j in rng.integers(0, len(vocabulary), 100))
            f.write(json.dumps({"id": f"r{i}", "text": f"Record {i}. {words}.", "year": 2020 + i % 5}) + "\n")


def _streaming_peak(corpus: Path, index_dir: Path) -> int:
    """Peak bytes Python allocated while files were read, chunked, embedded and written (before the
    BM25 matrix is finished), measured with tracemalloc."""
    import logging
    import tracemalloc

    peaks: list[int] = []

    class AtFinish(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("writing index version"):
                peaks.append(tracemalloc.get_traced_memory()[1])

    handler = AtFinish()
    logger = logging.getLogger("insight_search.version_writer")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    tracemalloc.start()
    try:
        # The English pipeline's own memory (the lane's real model keeps tokeniser caches of its own)
        settings = Settings(index_dir=index_dir, index_window=64, multilingual=False)
        build_index([corpus], settings, FakeEmbedder())
    finally:
        tracemalloc.stop()
        logger.removeHandler(handler)
        logger.setLevel(level)
    return peaks[0]


def test_memory_while_streaming_does_not_grow_with_the_corpus(tmp_path: Path):
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    _synthetic_jsonl(small, 1_000)
    _synthetic_jsonl(large, 4_000)
    _streaming_peak(small, tmp_path / "i0")  # first use loads modules and fills caches: not per corpus
    small_peak = _streaming_peak(small, tmp_path / "i1")
    large_peak = _streaming_peak(large, tmp_path / "i2")
    # 3,000 more chunks (2.5 MB more text) add only BM25's per-chunk lengths and the JSONL reader's set of
    # seen ids: measured 74 bytes a chunk. Holding the documents, as one window does, adds 2.6 KB a chunk.
    per_chunk = (large_peak - small_peak) / 3_000
    assert per_chunk < 250, (small_peak, large_peak)


def test_loading_holds_repeated_values_once_and_the_same_funding_as_the_file(lac: Path, tmp_path: Path):
    version, _ = _build(lac, tmp_path / "index")
    data = store.load(tmp_path / "index")
    rows = [json.loads(line) for line in (version / "funding.jsonl").read_text().splitlines()]
    assert len(rows) > 100
    assert data.funding == [records.funding_from_dict(r) for r in rows]  # taken from the documents instead
    docs = list(data.documents.values())
    assert len({id(d.source) for d in docs}) == len({d.source for d in docs}) == len(docs)  # one row each
    assert len({id(d.source.path) for d in docs}) == len(LAC_FILES)
    assert all(c.source is data.documents[c.doc_id].source for c in data.chunks)
    assert all(c.doc_id is data.documents[c.doc_id].doc_id for c in data.chunks)
    assert len({id(c.section) for c in data.chunks}) == len({c.section for c in data.chunks})
