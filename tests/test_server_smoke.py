"""The real server as a user starts it: ``insight-search serve`` builds the index on first start (corpus from
INSIGHT_SEARCH_CORPUS_PATHS), answers /ready, /search and the MCP endpoint, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from .conftest import SEED
from .test_api import free_port

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 180  # the first start embeds the corpus


def serve_command() -> list[str]:
    script = Path(sys.executable).parent / "insight-search"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from insight_search.cli import app; app()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("serve")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    port = free_port()
    env = {**os.environ, "INSIGHT_SEARCH_CORPUS_PATHS": json.dumps([str(corpus)])}
    env.pop("INSIGHT_SEARCH_API_KEY", None)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [*serve_command(), "serve", "--index-dir", str(tmp_path / "index"), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"the server exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()}"
                )
            try:
                if httpx.get(base + "/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready after {START_TIMEOUT_S} s:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.5)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    # uvicorn shuts down cleanly, then lets the signal end the process (exit status 0 or -SIGTERM).
    text = (tmp_path / "server.log").read_text()
    assert proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in text, text


def test_serve_builds_the_index_and_answers(server: str) -> None:
    ready = httpx.get(server + "/ready").json()
    assert ready["status"] == "ready" and ready["documents"] == 1 and ready["chunks"] > 10
    out = httpx.get(server + "/search", params={"q": "care system legislation", "k": 5}).json()
    assert len(out["results"]) == 5
    assert all(r["country"] == "Mexico" for r in out["results"])
    assert any("care" in r["highlight"].lower() for r in out["results"])
    page = httpx.get(server + "/")
    assert page.status_code == 200 and "insight-search" in page.text


def test_serve_mounts_the_mcp_tools(server: str) -> None:
    from mcp import Client

    async def call() -> tuple[list[str], dict]:
        with anyio.fail_after(60):
            async with Client(server + "/mcp") as client:
                tools = await client.list_tools()
                result = await client.call_tool(
                    "summarize", {"q": "care system legislation", "max_sentences": 3}
                )
                return [t.name for t in tools.tools], result.structured_content or {}

    names, summary = anyio.run(call)
    assert {"search", "summarize", "timeline", "mentions", "funding", "indicators"} == set(names)
    assert 1 <= len(summary["sentences"]) <= 3
    expected = httpx.get(
        server + "/summarize", params={"q": "care system legislation", "max_sentences": 3}
    ).json()
    assert summary == expected
