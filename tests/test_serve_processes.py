"""Several plain ``insight-search serve`` processes over one index folder (the README's "Scaling out" without
Ray: processes behind a load balancer): both follow one rebuild, without a restart and without a failed
request while the new version is swapped in."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import httpx

from insight_search import store
from insight_search.config import Settings
from insight_search.indexer import build_index

from .conftest import write_jsonl
from .test_api import free_port
from .test_server_smoke import serve_command

START_TIMEOUT_S = 120


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
        try:
            r = httpx.get(base + "/ready", timeout=5)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"serve did not start in {START_TIMEOUT_S} s:\n{log.read_text()}")


def test_two_serve_processes_follow_one_rebuild(tmp_path, real_embedder):
    corpus = tmp_path / "corpus"
    write_jsonl(corpus / "n.jsonl", [{"id": "n1", "text": "Care system legislation in Monterrey."}])
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, real_embedder)
    first = store.current_version(settings.index_dir)
    assert first is not None
    env = {
        **os.environ,
        "INSIGHT_SEARCH_INDEX_RELOAD_SECONDS": "0.3",
        "INSIGHT_SEARCH_RATE_LIMIT_PER_MINUTE": "0",
    }
    env.pop("INSIGHT_SEARCH_API_KEY", None)
    procs: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for i in range(2):
            port = free_port()
            log = tmp_path / f"serve-{i}.log"
            procs.append(
                subprocess.Popen(
                    [*serve_command(), "serve", "--no-build", "--index-dir", str(settings.index_dir)]
                    + ["--port", str(port)],
                    cwd=tmp_path,
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base, proc, i in zip(bases, procs, range(2), strict=True):
            assert _wait_ready(base, proc, tmp_path / f"serve-{i}.log")["version"] == first.name

        errors: list[str] = []
        stop = threading.Event()

        def client(base: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as http:
                while not stop.is_set():
                    r = http.get("/search", params={"q": "care", "k": 1})
                    if r.status_code != 200 or not r.json()["results"]:
                        errors.append(f"{base}: {r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=client, args=(b,)) for b in bases]
        for t in threads:
            t.start()
        write_jsonl(corpus / "n.jsonl", [{"id": "n1", "text": "Water and sanitation in Kenya, with care."}])
        build_index([corpus], settings, real_embedder)
        latest = store.current_version(settings.index_dir)
        assert latest is not None and latest != first
        deadline = time.monotonic() + 60
        following: set[str] = set()
        while time.monotonic() < deadline and len(following) < 2:
            versions = {b: httpx.get(b + "/ready", timeout=5).json()["version"] for b in bases}
            following = {b for b, v in versions.items() if v == latest.name}
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        assert following == set(bases)
        for base in bases:
            hit = httpx.get(base + "/search", params={"q": "water", "k": 1}, timeout=30).json()["results"][0]
            assert "Kenya" in hit["text"]
        assert errors == []
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
