"""Shared fixtures: a small deterministic fake embedder, tiny corpora, and the path of ../shared."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from insight_search.config import Settings
from insight_search.lexical import tokenize

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = ROOT / "corpus" / "mexico_outcome_care_system.txt"


class FakeEmbedder:
    """Hashes stemmed words into a 64-dimensional bag of words: texts sharing words are close."""

    model_id = "fake-bow-64"
    dimension = 64
    backend = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def limit_threads(self, threads: int) -> None:
        """Nothing to limit."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text) or ["<empty>"]:
                h = int.from_bytes(hashlib.md5(token.encode()).digest()[:4], "little")
                out[row, h % self.dimension] += 1.0 if (h >> 16) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", corpus_paths=[tmp_path / "corpus"])


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """A JSONL corpus file holding ``rows`` (folders made as needed); returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def need_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data folder sits beside the repository)")
    return path


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2 run by the default backend (onnx), loaded once per test session."""
    from insight_search.embedding import make_embedder

    return make_embedder(Settings())


def service_for(searcher, settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """A Service over one loaded searcher (no reloads), with the searcher's settings unless given."""
    from insight_search.live import FixedIndex
    from insight_search.service import Service

    return Service(settings or searcher.settings, FixedIndex(searcher))


_SERVICES: dict[int, tuple[object, object]] = {}


def call(searcher, operation: str, filters=None, **values):  # type: ignore[no-untyped-def]
    """Run ``operation`` through the Service over ``searcher`` as an edge would: its request is parsed
    from plain values (``filters``, a models.Filters, adds its fields). One Service per searcher, so that
    cursors of one call continue in the next."""
    from dataclasses import asdict

    if filters is not None:
        values.update({k: v for k, v in asdict(filters).items() if v is not None})
    held = _SERVICES.get(id(searcher))
    if held is None or held[0] is not searcher:
        held = _SERVICES[id(searcher)] = (searcher, service_for(searcher))
    return held[1].run(operation, values)  # type: ignore[attr-defined]


@contextlib.contextmanager
def serve_in_thread(app, **options):  # type: ignore[no-untyped-def]
    """Run ``app`` with a real uvicorn server in a thread (``options``: uvicorn.Config's, host and port
    included; a free loopback port by default); yields its base URL and stops it afterwards."""
    import socket
    import threading
    import time

    import uvicorn

    if "port" not in options:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            options["port"] = int(s.getsockname()[1])
    options.setdefault("host", "127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://{options['host']}:{options['port']}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
