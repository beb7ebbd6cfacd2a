"""Sentences split and embedded at index time (``sentence_store``): what is stored equals splitting and
embedding now, summaries and timelines from stored vectors equal the on-the-fly ones, an index written
before the store still summarises, the files are checksummed, and a summary embeds nothing but its query
(and that once: the search's vector is reused)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from insight_search import store
from insight_search.config import Settings
from insight_search.errors import IndexCorrupt
from insight_search.indexer import build_index
from insight_search.search import Searcher, open_searcher
from insight_search.sentence_store import SENTENCES_DIR, VECTORS_FILE, quotable_spans

from .conftest import SEED, FakeEmbedder, service_for, write_jsonl

QUERIES = ("care system legislation", "care services", "Monterrey", "budget for care", "national care law")


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    write_jsonl(
        corpus / "notes.jsonl",
        [
            {
                "id": f"note-{i}",
                "title": f"Progress note {i}",
                "text": f"In {2020 + i % 4} the care centres of district {i} opened. Women used the new "
                "childcare services every week. The budget for care grew by a tenth. Ok.",
                "year": 2020 + i % 4,
                "country": "Mexico",
                "section": "progress_note",
            }
            for i in range(6)
        ],
    )
    return corpus


def _build(root: Path, embedder) -> Settings:  # type: ignore[no-untyped-def]
    settings = Settings(index_dir=root / "index")
    build_index([_corpus(root)], settings, embedder)
    return settings


def _without_store(settings: Settings) -> None:
    """Make the current version look like one written before sentences were stored."""
    version = store.current_version(settings.index_dir)
    assert version is not None
    shutil.rmtree(version / SENTENCES_DIR)
    manifest_path = version / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["checksums"] = {
        k: v for k, v in manifest["checksums"].items() if not k.startswith(SENTENCES_DIR + "/")
    }
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def _stored_equals_embedding_now(searcher: Searcher, embedder, atol: float) -> int:  # type: ignore[no-untyped-def]
    sentences = searcher.data.sentences
    assert sentences is not None
    checked = 0
    for row, chunk in enumerate(searcher.chunks):
        found = sentences.sentences(row)
        spans = quotable_spans(chunk)
        assert found.spans.tolist() == [list(s) for s in spans]
        if spans:
            now = embedder.embed_batch([chunk.text[s:e] for s, e in spans])
            assert np.allclose(found.vectors.astype(np.float32), now, atol=atol)
            checked += len(spans)
    return checked


def test_stored_sentences_equal_splitting_and_embedding_now(tmp_path):
    embedder = FakeEmbedder()
    searcher = open_searcher(_build(tmp_path, embedder), embedder)
    assert searcher.data.sentences is not None
    assert _stored_equals_embedding_now(searcher, embedder, atol=1e-3) == len(searcher.data.sentences) > 20
    assert all(
        searcher.data.sentences.sentences(i).spans.size == 0
        for i, c in enumerate(searcher.chunks)
        if c.composed
    )


def test_stored_sentences_equal_the_real_model_now(tmp_path, real_embedder):
    searcher = open_searcher(_build(tmp_path, real_embedder), real_embedder)
    assert _stored_equals_embedding_now(searcher, real_embedder, atol=2e-3) > 20


def _answers(searcher: Searcher) -> list:  # type: ignore[type-arg]
    service = service_for(searcher)
    out = []
    for q in QUERIES:
        out.append(service.run("summarize", {"q": q, "max_sentences": 5}).model_dump())
        out.append(service.run("timeline", {"q": q}).model_dump())
    return out


def _dropped_scores(answers: list) -> list:  # type: ignore[type-arg]
    """The answers without sentence scores (float16 vectors move them in the last digits)."""
    text = json.dumps(answers)
    data = json.loads(text)

    def strip(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "score"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return [strip(a) for a in data]


@pytest.mark.parametrize("which", ["fake", "real"])
def test_summaries_from_stored_vectors_equal_on_the_fly_ones(tmp_path, which, real_embedder):
    embedder = FakeEmbedder() if which == "fake" else real_embedder
    settings = _build(tmp_path, embedder)
    stored = _answers(open_searcher(settings, embedder))
    _without_store(settings)
    old = open_searcher(settings, embedder)
    assert old.data.sentences is None  # an index written before the store: embedded on the fly
    on_the_fly = _answers(old)
    assert any(a.get("sentences") for a in stored)
    assert _dropped_scores(stored) == _dropped_scores(on_the_fly)


def test_a_summary_embeds_only_its_query_once(tmp_path):
    embedder = FakeEmbedder()
    settings = _build(tmp_path, embedder)
    service = service_for(open_searcher(settings, embedder))
    before = embedder.texts_embedded
    out = service.run("summarize", {"q": "childcare services budget"})
    assert out.sentences and embedder.texts_embedded - before == 1
    before = embedder.texts_embedded
    out = service.run("timeline", {"q": "care centres opened"})
    assert any(y.sentences for y in out.years) and embedder.texts_embedded - before == 1


def test_reindex_of_unchanged_text_embeds_no_sentence_again(tmp_path):
    embedder = FakeEmbedder()
    settings = Settings(index_dir=tmp_path / "index")
    first = build_index([_corpus(tmp_path)], settings, embedder)
    assert first.sentences > 20 and 0 < first.sentences_embedded <= first.sentences
    again = build_index([_corpus(tmp_path)], settings, embedder)
    assert again.sentences == first.sentences and again.sentences_embedded == 0


def test_damaged_sentence_vectors_are_refused_naming_the_file(tmp_path):
    embedder = FakeEmbedder()
    settings = _build(tmp_path, embedder)
    version = store.current_version(settings.index_dir)
    assert version is not None
    path = version / SENTENCES_DIR / VECTORS_FILE
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    assert f"{SENTENCES_DIR}/{VECTORS_FILE}" in manifest["checksums"]
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, one byte flipped
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=VECTORS_FILE):
        store.load(settings.index_dir)


def test_sentence_files_that_do_not_fit_the_chunks_are_refused(tmp_path):
    embedder = FakeEmbedder()
    settings = _build(tmp_path, embedder)
    _without_store(settings)  # no checksums for the files below: their sizes are checked on their own
    version = store.current_version(settings.index_dir)
    assert version is not None
    n = len(store.load(settings.index_dir).chunks)
    folder = version / SENTENCES_DIR
    folder.mkdir()
    np.zeros(n + 1, dtype=np.int64).tofile(folder / "offsets.i64")
    (folder / "spans.i32").write_bytes(b"")
    (folder / VECTORS_FILE).write_bytes(b"\0" * 8)  # vectors for sentences that the offsets do not list
    with pytest.raises(IndexCorrupt, match=VECTORS_FILE):
        store.load(settings.index_dir)
