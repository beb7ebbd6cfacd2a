"""``serve`` says in one line why it cannot serve, before the server starts (no "Serving on ..." then a
traceback), and serves the newest intact older version when the current one is damaged (with a warning)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from insight_search import embedding, store
from insight_search.cli import app
from insight_search.config import Settings
from insight_search.dense import VECTORS_FILE
from insight_search.indexer import build_index

from .conftest import FakeEmbedder
from .test_api import write_corpus


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """uvicorn.run replaced: the app it would serve is kept, nothing listens. The model is the fake."""
    served: list[Any] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda application, **options: served.append(application))
    monkeypatch.setattr(embedding, "make_embedder", lambda settings, index_model_id=None: FakeEmbedder())
    return served


def _garble(index_dir: Path) -> None:
    (index_dir / "CURRENT").write_bytes(b"\x00\xff")


def _folder_for_pointer(index_dir: Path) -> None:
    (index_dir / "CURRENT").unlink()
    (index_dir / "CURRENT").mkdir()


def _escaping_pointer(index_dir: Path) -> None:
    (index_dir / "CURRENT").write_text("../../etc")


def _nan_vectors(index_dir: Path) -> None:
    version = store.current_version(index_dir)
    assert version is not None
    vectors = np.fromfile(version / VECTORS_FILE, dtype=np.float32)
    np.full_like(vectors, np.nan).tofile(version / VECTORS_FILE)


DAMAGES = [
    (_garble, "CURRENT is not text"),
    (_folder_for_pointer, "CURRENT cannot be read"),
    (_escaping_pointer, "does not name a version folder"),
    (_nan_vectors, "vectors.f32: checksum mismatch"),
]


@pytest.mark.parametrize("damage, message", DAMAGES, ids=["garbled", "folder", "escaping", "nan"])
def test_cli_search_refuses_a_damaged_index_in_one_line(
    tmp_path: Path, no_server: list[Any], damage, message
) -> None:
    index_dir = tmp_path / "index"
    build_index([write_corpus(tmp_path)], Settings(index_dir=index_dir), FakeEmbedder())
    damage(index_dir)
    result = CliRunner().invoke(app, ["search", "care", "--index-dir", str(index_dir)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3  # one message (wrapped by the terminal width)


@pytest.mark.parametrize("damage", [None, _nan_vectors], ids=["missing", "only-version-damaged"])
def test_serve_refuses_in_one_line_when_nothing_can_be_served(
    tmp_path: Path, no_server: list[Any], damage
) -> None:
    index_dir = tmp_path / "index"
    if damage is not None:
        build_index([write_corpus(tmp_path)], Settings(index_dir=index_dir), FakeEmbedder())
        damage(index_dir)
    result = CliRunner().invoke(app, ["serve", "--no-build", "--index-dir", str(index_dir)])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert "Serving on" not in result.output and no_server == []


def test_serve_falls_back_to_the_newest_intact_version(
    tmp_path: Path, no_server: list[Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path)
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, FakeEmbedder())
    (corpus / "more.txt").write_text("A second build adds this note about care services in 2025.\n")
    build_index([corpus], settings, FakeEmbedder())
    newest, older = store.versions(settings.index_dir)
    vectors = np.fromfile(newest / VECTORS_FILE, dtype=np.float32)
    np.full_like(vectors, np.nan).tofile(newest / VECTORS_FILE)  # same size, every value damaged
    monkeypatch.setenv("INSIGHT_SEARCH_INDEX_RELOAD_SECONDS", "0")
    with caplog.at_level(logging.WARNING, logger="insight_search.store"):
        result = CliRunner().invoke(app, ["serve", "--no-build", "--index-dir", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    assert "Serving on" in result.output and len(no_server) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(newest.name in w and older.name in w and VECTORS_FILE in w for w in warnings), warnings
    with TestClient(no_server[0], base_url="http://127.0.0.1") as client:
        assert client.get("/ready").json()["version"] == older.name
