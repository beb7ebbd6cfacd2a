"""Building, updating and searching an index (fake embedder: fast and deterministic)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from insight_search import store
from insight_search.errors import BadInput, IndexNotFound, ModelMismatch
from insight_search.indexer import build_index, index_is_current, indexed_text
from insight_search.models import Filters, Query
from insight_search.search import Searcher, open_searcher

from .conftest import SEED, FakeEmbedder, service_for, write_jsonl

ROWS = [
    {
        "id": "a1",
        "text": "Care system legislation was drafted with the Senate.",
        "year": 2021,
        "country": "Mexico",
        "agency": "UN Women",
    },
    {
        "id": "a2",
        "text": "Monterrey approved its municipal care system regulations.",
        "year": 2023,
        "country": "Mexico",
        "agency": "UN Women",
    },
    {
        "id": "a3",
        "text": "Police officers were trained on violence against women.",
        "year": 2022,
        "country": "Chile",
        "agency": "UNDP",
    },
    {
        "id": "a4",
        "text": "A national care policy was adopted by the government.",
        "year": 2022,
        "country": "Chile",
        "agency": "UN Women",
    },
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_jsonl(folder / "notes.jsonl", ROWS)
    shutil.copy(SEED, folder / "page.txt")
    return folder


def _searcher(settings, embedder) -> Searcher:
    return open_searcher(settings, embedder)


def test_build_then_search_with_filters_and_facets(corpus, settings, fake_embedder):
    report = build_index([corpus], settings, fake_embedder)
    assert report.documents == 5 and report.failed_files == 0 and report.embedded == report.chunks
    s = _searcher(settings, fake_embedder)
    res = s.search(Query("care system legislation", k=3))
    assert len(res.hits) == 3 and res.hits[0].rank == 1
    assert res.hits[0].highlight in res.hits[0].chunk.text
    assert sum(res.facets.years.values()) == res.total == sum(res.facets.countries.values())

    chile = s.search(Query("care women", k=10, filters=Filters(country="chile")))
    assert {h.chunk.doc_id for h in chile.hits} == {"a3", "a4"}  # filtered before ranking: never short
    # only passages that match: a3 ("violence against women") holds no word of "care"
    care = s.search(Query("care", k=10, filters=Filters(country="chile")))
    assert {h.chunk.doc_id for h in care.hits if not h.related} == {"a4"} and care.total == 1
    assert {h.chunk.doc_id for h in care.hits if h.related} <= {"a3"}  # listed after the match, marked
    assert set(chile.facets.countries) == {"Chile"}
    ranged = s.search(Query("care", k=50, filters=Filters(year_from=2022, year_to=2023)))
    assert ranged.hits and all(2022 <= h.chunk.year <= 2023 for h in ranged.hits)
    agency = s.search(Query("women", k=50, filters=Filters(agency="undp")))
    assert [h.chunk.doc_id for h in agency.hits] == ["a3"]
    assert s.search(Query("care", filters=Filters(country="Atlantis"))).hits == ()
    assert s.search(Query("care", filters=Filters(source="jsonl"))).hits[0].chunk.source.kind == "jsonl"


def test_monterrey_ranks_the_2023_and_2024_notes_first(corpus, settings, fake_embedder):
    (corpus / "notes.jsonl").unlink()
    build_index([corpus], settings, fake_embedder)
    hits = _searcher(settings, fake_embedder).search(Query("Monterrey", k=5, related=False)).hits
    top_years = {h.chunk.year for h in hits[:3]}
    assert top_years <= {2023, 2024} and {2023, 2024} <= {h.chunk.year for h in hits[:5]}


def test_bad_queries_are_refused(corpus, settings, fake_embedder):
    """Refused by the request layer, the one place a request is validated (the engine trusts its input)."""
    build_index([corpus], settings, fake_embedder)
    service = service_for(_searcher(settings, fake_embedder))
    for bad in (
        {"q": "   "},
        {"q": "x" * (settings.max_body_bytes + 1)},  # longer than a request body (5,000 is a paragraph)
        {"q": "care", "k": 0},
        {"q": "care", "k": 1000},
        {"q": "care", "year": 99999},
        {"q": "care", "year_from": 2024, "year_to": 2020},
    ):
        with pytest.raises(BadInput):
            service.run("search", bad)


def test_reindex_embeds_only_changes_and_follows_removals(corpus, settings, fake_embedder):
    first = build_index([corpus], settings, fake_embedder)
    again = build_index([corpus], settings, FakeEmbedder())
    assert again.embedded == 0 and again.chunks == first.chunks
    ids_before = {c.chunk_id for c in store.load(settings.index_dir).chunks}

    rows = [dict(r) for r in ROWS[:3]]
    rows[0]["text"] = "Care system legislation was approved by the Senate in 2022."
    write_jsonl(corpus / "notes.jsonl", rows)
    counting = FakeEmbedder()
    third = build_index([corpus], settings, counting)
    assert third.embedded == 1 and counting.texts_embedded == 1
    data = store.load(settings.index_dir)
    assert "a4" not in data.documents and "a1" in data.documents
    ids_after = {c.chunk_id for c in data.chunks}
    assert len(ids_before - ids_after) == 2  # a1's old text and a4 are gone, everything else kept its id


def test_manifest_and_model_mismatch(corpus, settings, fake_embedder):
    assert not index_is_current(settings.index_dir, [corpus], fake_embedder.model_id)
    build_index([corpus], settings, fake_embedder)
    manifest = store.read_manifest(settings.index_dir)
    assert manifest is not None and manifest.counts is not None
    assert manifest.model_id == "fake-bow-64" and manifest.counts.chunks > 0
    assert manifest.format_version == store.FORMAT_VERSION and manifest.corpus_fingerprint
    assert index_is_current(settings.index_dir, [corpus], fake_embedder.model_id)
    (corpus / "new.txt").write_text("A new note about water.", encoding="utf-8")
    assert not index_is_current(settings.index_dir, [corpus], fake_embedder.model_id)

    class Other(FakeEmbedder):
        model_id = "other-model"

    with pytest.raises(ModelMismatch, match="built with model"):
        open_searcher(settings, Other())


def test_missing_index_and_crash_leftovers(corpus, settings, fake_embedder, tmp_path):
    with pytest.raises(IndexNotFound):
        open_searcher(settings, fake_embedder)
    build_index([corpus], settings, fake_embedder)
    live = store.current_version(settings.index_dir)
    # A build that died after writing part of a new version leaves a temporary folder: it is never read
    # and the next build removes it.
    junk = settings.index_dir / ".tmp-v-dead"
    junk.mkdir()
    (junk / "chunks.jsonl").write_text("{broken")
    assert store.load(settings.index_dir).path == live
    build_index([corpus], settings, fake_embedder)
    assert not junk.exists()


def test_bad_files_are_reported_and_the_rest_indexed(corpus, settings, fake_embedder):
    (corpus / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (corpus / "empty.txt").write_text("")
    report = build_index([corpus], settings, fake_embedder)
    bad = {Path(p.path).name for p in report.problems}
    assert {"broken.xlsx", "empty.txt"} <= bad
    assert report.failed_files >= 2 and report.documents == 5


def test_vectors_in_index_are_the_embedder_vectors(corpus, settings, fake_embedder):
    build_index([corpus], settings, fake_embedder)
    data = store.load(settings.index_dir)
    # what is embedded: the chunk's text, after its title when title_in_dense (the default since issue 14)
    expected = fake_embedder.embed_batch([indexed_text(c, settings.title_in_dense) for c in data.chunks])
    np.testing.assert_allclose(data.dense.vectors, expected, atol=1e-6)


def test_an_empty_corpus_is_refused_and_the_index_kept(corpus, settings, fake_embedder, tmp_path):
    build_index([corpus], settings, fake_embedder)
    before = store.current_version(settings.index_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("")
    from insight_search.errors import InsightSearchError

    with pytest.raises(InsightSearchError, match="nothing to index.*blank.txt: empty file"):
        build_index([empty], settings, fake_embedder)
    assert store.current_version(settings.index_dir) == before
