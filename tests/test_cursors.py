"""Cursors: signed, bound to the request and to the index version. A rebuild served without a restart never
pages silently over the new ranking: an old cursor gets a 409 that says the index changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from insight_search.api import create_app
from insight_search.config import Settings
from insight_search.cursor import cursor_secret, decode_cursor, encode_cursor
from insight_search.errors import BadInput, StaleCursor
from insight_search.indexer import build_index

from .conftest import FakeEmbedder
from .test_api import BASE, NO_LIMITS, QUERY, write_corpus


def test_a_cursor_is_refused_on_another_version_and_when_altered() -> None:
    secret = cursor_secret("s3cret")
    cursor = encode_cursor(secret, "key", "v-1", 20)
    # A configured secret outlives a restart.
    assert decode_cursor(cursor_secret("s3cret"), "key", "v-1", cursor) == 20
    with pytest.raises(StaleCursor, match="index changed"):
        decode_cursor(secret, "key", "v-2", cursor)
    with pytest.raises(BadInput, match="another query"):
        decode_cursor(secret, "other-request", "v-1", cursor)
    with pytest.raises(BadInput, match="altered"):
        decode_cursor(cursor_secret(None), "key", "v-1", cursor)
    tampered = cursor[:-3] + ("AAA" if cursor[-3:] != "AAA" else "BBB")
    with pytest.raises(BadInput):
        decode_cursor(secret, "key", "v-1", tampered)


@pytest.mark.parametrize("configured_secret", [None, "kept-across-restarts"])
def test_rebuild_while_serving_refuses_old_cursors(tmp_path: Path, configured_secret: str | None) -> None:
    embedder = FakeEmbedder()
    corpus = write_corpus(tmp_path)
    settings = Settings(
        index_dir=tmp_path / "index",
        corpus_paths=[corpus],
        index_reload_seconds=0,  # reloads only through POST /admin/reload, so the test decides when
        cursor_secret=configured_secret,
    )
    build_index([corpus], settings, embedder)
    with TestClient(create_app(settings, embedder=embedder, limits=NO_LIMITS), base_url=BASE) as c:
        first = c.get("/search", params={"q": QUERY, "k": 3}).json()
        mentions = c.get("/mentions", params={"term": "care", "limit": 2}).json()
        assert first["next_cursor"] and mentions["next_cursor"]
        # Before a rebuild the cursors page on.
        second = c.get("/search", params={"q": QUERY, "k": 3, "cursor": first["next_cursor"]})
        assert second.status_code == 200 and second.json()["results"][0]["rank"] == 4

        # A rebuild with other content; the server swaps it in.
        extra = {"id": "new-doc", "text": "Care system legislation was debated again in 2025.", "year": 2025}
        (corpus / "more.jsonl").write_text(json.dumps(extra) + "\n", encoding="utf-8")
        build_index([corpus], settings, embedder)
        assert c.post("/admin/reload").json()["reloaded"] is True

        for path, params, cursor in (
            ("/search", {"q": QUERY, "k": 3}, first["next_cursor"]),
            ("/mentions", {"term": "care", "limit": 2}, mentions["next_cursor"]),
        ):
            stale = c.get(path, params={**params, "cursor": cursor})
            assert stale.status_code == 409, stale.text
            assert "index changed" in stale.json()["detail"]
            # A fresh first page works and gives cursors of the new version.
            fresh = c.get(path, params=params).json()
            assert c.get(path, params={**params, "cursor": fresh["next_cursor"]}).status_code == 200
