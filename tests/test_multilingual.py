"""The multilingual lane (issue 13) with a fake lane model: the embedder protocol, the index files and the
manifest, the embedding cache, fusion as a third list (grouped too), an index built without the lane, a
lane model other than the index's, and the non-English-only build."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from insight_search import store
from insight_search.config import Settings
from insight_search.embedding import Embedder
from insight_search.indexer import build_index
from insight_search.manifest import Manifest
from insight_search.models import Query
from insight_search.multilingual import LANE_DIR, looks_english, needs_lane
from insight_search.search import Searcher

from .conftest import FakeEmbedder, write_jsonl

# The fake lane "understands" Spanish through a small dictionary: a Spanish word and its English
# translation land on the same dimension, as a multilingual model puts a sentence and its translation close.
SPANISH = {
    "sistema": "system",
    "cuidados": "care",
    "cuidado": "care",
    "mujeres": "women",
    "niñas": "girls",
    "agua": "water",
    "potable": "drinking",
    "escuelas": "schools",
    "rurales": "rural",
}


class FakeLane:
    """A 32-dimension bag of (translated) words."""

    model_id = "fake-lane-32"
    dimension = 32
    backend = "fake"

    def __init__(self) -> None:
        self.texts_embedded = 0

    def limit_threads(self, threads: int) -> None:
        """Nothing to limit."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                word = SPANISH.get(word, word)
                if len(word) > 3:
                    out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


ROWS = [
    {"id": "es-care", "text": "El sistema de cuidados apoya a las mujeres y las niñas."},
    {"id": "es-water", "text": "Agua potable para las escuelas rurales."},
    {"id": "en-roads", "text": "Roads were repaired in the northern districts after the floods."},
    {"id": "en-budget", "text": "The budget office published quarterly spending reports."},
]


def built(
    tmp_path: Path, lane: Embedder | None, rows: list[dict[str, str]] = ROWS, **updates: object
) -> Settings:
    corpus = write_jsonl(tmp_path / "corpus" / "docs.jsonl", rows)
    settings = Settings(index_dir=tmp_path / "index", multilingual=lane is not None, **updates)  # type: ignore[arg-type]
    build_index([corpus], settings, FakeEmbedder(), multilingual=lane)
    return settings


def searcher(settings: Settings, lane: Embedder | bool) -> Searcher:
    data = store.load(settings.index_dir, expected_model_id=FakeEmbedder.model_id)
    return Searcher(data, FakeEmbedder(), settings, multilingual=lane)


def doc_ids(s: Searcher, text: str, **query: object) -> list[str]:
    """The matching documents of a search (not the related hits listed after them)."""
    hits = s.search(Query(text=text, k=5, related=False, **query)).hits  # type: ignore[arg-type]
    return [h.chunk.doc_id for h in hits]


def test_the_fake_lane_and_the_bundled_model_are_embedders() -> None:
    from insight_search.multilingual import UseEmbedder

    assert isinstance(FakeLane(), Embedder)
    use = UseEmbedder()  # the weights load at the first embed
    assert isinstance(use, Embedder)
    assert use.dimension == 512 and use.backend == "numpy" and use.model_id.startswith("use-multilingual-v3@")


def test_a_build_with_the_lane_writes_its_vectors_and_records_it(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane())
    version = store.current_version(settings.index_dir)
    assert version is not None
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["multilingual_model_id"] == "fake-lane-32"
    assert manifest["multilingual_dimension"] == 32
    assert manifest["multilingual_rows"] == manifest["counts"]["chunks"]
    assert f"{LANE_DIR}/vectors.f32" in manifest["checksums"]
    data = store.load(settings.index_dir)
    assert data.multilingual is not None and data.multilingual.size == len(data.chunks)


def test_an_english_question_finds_the_spanish_passage_only_through_the_lane(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane())
    with_lane, without = searcher(settings, FakeLane()), searcher(settings, False)
    assert with_lane.lane is not None and without.lane is None
    assert doc_ids(with_lane, "care system for women")[0] == "es-care"
    assert doc_ids(with_lane, "drinking water in rural schools")[0] == "es-water"
    assert "es-care" not in doc_ids(without, "care system for women")
    # grouped by document, each document once
    grouped = doc_ids(with_lane, "care system for women", group_by_document=True)
    assert grouped[0] == "es-care" and len(grouped) == len(set(grouped))
    # an English question still finds the English passage first
    assert doc_ids(with_lane, "roads repaired after floods")[0] == "en-roads"


def test_the_lane_weight_and_threshold_apply(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane())
    # a lane match needs its cosine to reach multilingual_match_threshold
    strict = searcher(settings.model_copy(update={"multilingual_match_threshold": 1.01}), FakeLane())
    assert "es-care" not in doc_ids(strict, "care system for women")
    weightless = {"multilingual_weight": 0.0, "multilingual_english_weight": 0.0}
    off = searcher(settings.model_copy(update=weightless), FakeLane())
    hits = off.search(Query(text="care system for women", k=5, related=False)).hits
    # the lane still makes it a match, but adds nothing to its score
    base = searcher(settings, False).candidates(Query(text="care system for women", k=5))
    fused = dict(zip(base.ids.tolist(), base.scores.tolist(), strict=True))
    row = next(i for i, c in enumerate(off.chunks) if c.doc_id == "es-care")
    assert [h.chunk.doc_id for h in hits] == ["es-care"] and hits[0].score == pytest.approx(fused[row])


def test_a_rebuild_embeds_nothing_again_for_the_lane(tmp_path: Path) -> None:
    built(tmp_path, FakeLane())
    lane = FakeLane()
    built(tmp_path, lane)
    assert lane.texts_embedded == 0  # every chunk's lane vector came from the embedding cache
    other = FakeLane()
    built(tmp_path, other, [*ROWS, {"id": "new", "text": "Nuevas escuelas rurales."}])
    assert other.texts_embedded == 1


def test_an_index_built_without_the_lane_loads_and_searches(tmp_path: Path) -> None:
    settings = built(tmp_path, None)
    manifest = store.read_manifest(settings.index_dir)
    assert manifest is not None and manifest.multilingual_model_id is None
    assert "multilingual_model_id" not in manifest.to_dict()
    s = searcher(settings, True)  # the lane is asked for, the index has none
    assert s.lane is None and s.data.multilingual is None
    assert doc_ids(s, "budget spending reports")[0] == "en-budget"


def test_a_manifest_written_before_the_lane_reads_without_it() -> None:
    old = {"model_id": "m", "dimension": 8, "built_at": "2026-01-01T00:00:00+00:00"}
    manifest = Manifest.from_dict(old)
    assert manifest.multilingual_model_id is None and manifest.multilingual_dimension is None
    assert manifest.to_dict() == old
    new = Manifest.from_dict({**old, "multilingual_model_id": "x", "multilingual_dimension": 512})
    assert new.multilingual_dimension == 512 and new.to_dict()["multilingual_model_id"] == "x"


def test_another_lane_model_than_the_index_s_searches_without_the_lane(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = built(tmp_path, FakeLane())

    class OtherLane(FakeLane):
        model_id = "other-lane"

    s = searcher(settings, OtherLane())
    assert s.lane is None
    assert "searching without the lane" in caplog.text
    assert doc_ids(s, "budget spending reports")[0] == "en-budget"


def test_non_english_only_embeds_the_other_languages(tmp_path: Path) -> None:
    lane = FakeLane()
    settings = built(tmp_path, lane, multilingual_passages="non_english")
    manifest = store.read_manifest(settings.index_dir)
    assert manifest is not None and manifest.multilingual_rows == 2 and lane.texts_embedded == 2
    data = store.load(settings.index_dir)
    assert data.multilingual is not None and data.multilingual.size == 2  # only the rows it embedded
    assert sorted(data.chunks[i].doc_id for i in data.multilingual.rows.tolist()) == ["es-care", "es-water"]
    s = searcher(settings, FakeLane())
    assert doc_ids(s, "care system for women")[0] == "es-care"
    # the English rows are never in the lane's list: they score as without the lane
    query = Query(text="roads repaired after floods", k=5)
    with_lane, without = s.candidates(query), searcher(settings, False).candidates(query)
    english = {i for i, c in enumerate(s.chunks) if c.doc_id.startswith("en-")}

    def scores(found: object) -> dict[int, float]:
        pairs = zip(found.ids.tolist(), found.scores.tolist(), strict=True)  # type: ignore[attr-defined]
        return {i: v for i, v in pairs if i in english}

    assert scores(with_lane) == scores(without) and scores(without)


ENGLISH_ONLY = [r for r in ROWS if r["id"].startswith("en-")]
BILINGUAL = [
    *ROWS,
    {"id": "en-care", "text": "The national care system supports women and girls who look after relatives."},
]


def test_the_lane_is_on_by_default() -> None:
    assert Settings().multilingual is True and Settings().multilingual_passages == "all"


def test_an_english_question_s_lane_list_holds_only_passages_not_in_english(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane(), BILINGUAL)
    s = searcher(settings, FakeLane())
    found = s.data.multilingual
    assert found is not None and found.size == len(s.chunks)  # every passage is in the lane ("all")
    english = {i for i, c in enumerate(s.chunks) if c.language == "en"}
    assert english and len(english) < len(s.chunks)
    searched, scope, weight = s._lane_scope("care system for women and girls", None)
    assert searched and scope is not None and not set(scope.tolist()) & english
    assert weight == settings.multilingual_english_weight == 0.5
    # so an English question ranks its English passages as without the lane, and still finds the Spanish one
    query = Query(text="care system for women and girls", k=5)
    with_lane, without = s.candidates(query), searcher(settings, False).candidates(query)
    order = [i for i in with_lane.ids.tolist() if i in english]
    assert order == [i for i in without.ids.tolist() if i in english]
    assert "es-care" in doc_ids(s, "care system for women and girls")


def test_a_spanish_question_reaches_english_passages_through_the_lane(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane(), BILINGUAL)
    s = searcher(settings, FakeLane())
    searched, scope, weight = s._lane_scope(
        "¿Qué hace el sistema de cuidados por las mujeres y las niñas?", None
    )
    assert searched and scope is None and weight == settings.multilingual_weight == 2.0  # every passage
    assert "en-care" in doc_ids(s, "¿Qué hace el sistema de cuidados por las mujeres y las niñas?")
    assert "en-care" not in doc_ids(searcher(settings, False), "el sistema de cuidados para las mujeres")


def test_an_english_collection_never_embeds_a_query_in_the_lane(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane(), ENGLISH_ONLY)
    lane = FakeLane()
    s = searcher(settings, lane)
    query = Query(text="roads repaired after floods", k=5)
    assert [h.chunk.doc_id for h in s.search(query).hits] == [
        h.chunk.doc_id for h in searcher(settings, False).search(query).hits
    ]
    s.search_many([query, Query(text="budget reports", k=3)])
    assert lane.texts_embedded == 0  # no passage outside English: nothing for the lane to find


def test_an_empty_lane_loads_no_lane_model(tmp_path: Path) -> None:
    settings = built(tmp_path, FakeLane(), ENGLISH_ONLY, multilingual_passages="non_english")
    data = store.load(settings.index_dir)
    assert data.multilingual is not None and data.multilingual.size == 0
    assert searcher(settings, True).lane is None  # True would load the bundled model: never asked for
    assert doc_ids(searcher(settings, True), "budget spending reports")[0] == "en-budget"


def test_a_lane_written_with_one_vector_per_chunk_still_loads(tmp_path: Path) -> None:
    """Versions written before the lane stored its rows hold a vector for every chunk, zeros for a chunk it
    left out; they load as that, and a zero row is never listed."""
    from insight_search.multilingual import ROWS_FILE

    settings = built(tmp_path, FakeLane(), multilingual_passages="all")
    version = store.current_version(settings.index_dir)
    assert version is not None
    data = store.load(settings.index_dir)
    assert data.multilingual is not None
    rows = data.multilingual.rows
    (version / LANE_DIR / ROWS_FILE).unlink()
    manifest = json.loads((version / "manifest.json").read_text())
    del manifest["checksums"][f"{LANE_DIR}/{ROWS_FILE}"]
    (version / "manifest.json").write_text(json.dumps(manifest))
    old = store.load(settings.index_dir)
    assert old.multilingual is not None and np.array_equal(old.multilingual.rows, rows)
    assert doc_ids(searcher(settings, FakeLane()), "care system for women")[0] == "es-care"


def test_serving_rebuilds_an_index_without_the_configured_lane(tmp_path: Path) -> None:
    from insight_search.indexer import index_is_current
    from insight_search.serve_check import check_before_serving

    settings = built(tmp_path, None)
    corpus = [tmp_path / "corpus" / "docs.jsonl"]
    model = FakeEmbedder.model_id
    assert index_is_current(settings.index_dir, corpus, model)
    assert not index_is_current(settings.index_dir, corpus, model, "fake-lane-32")
    check = check_before_serving(settings.index_dir, model, corpus, lane_model_id="fake-lane-32")
    assert check.build is not None and "has no multilingual lane" in check.message
    built(tmp_path, FakeLane())
    assert index_is_current(settings.index_dir, corpus, model, "fake-lane-32")
    assert check_before_serving(settings.index_dir, model, corpus, lane_model_id="fake-lane-32").build is None


def test_which_chunks_the_lane_embeds(tmp_path: Path) -> None:
    assert looks_english("The programme supported the ministry of health in three provinces.")
    assert not looks_english("El programa apoyó al ministerio de salud en tres provincias.")
    assert not looks_english("Le programme a soutenu le ministère de la santé dans trois provinces.")
    from dataclasses import replace

    chunk = store.load(built(tmp_path, None).index_dir).chunks[0]
    assert needs_lane(chunk, "all")
    assert not needs_lane(replace(chunk, language="en"), "non_english")
    assert needs_lane(replace(chunk, language="es"), "non_english")


def test_saving_a_loaded_index_keeps_its_lane(tmp_path: Path) -> None:
    data = store.load(built(tmp_path, FakeLane()).index_dir)
    store.save(tmp_path / "copy", data)
    again = store.load(tmp_path / "copy")
    assert again.multilingual is not None and again.multilingual.size == len(again.chunks)
    assert data.multilingual is not None and np.array_equal(again.multilingual.rows, data.multilingual.rows)
    assert np.array_equal(
        np.asarray(again.multilingual.dense.vectors), np.asarray(data.multilingual.dense.vectors)
    )
