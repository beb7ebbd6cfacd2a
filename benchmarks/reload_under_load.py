"""Reload while serving: 8 concurrent clients query a running server for 60 s while a re-index runs; the
server must swap in the new index without a restart and without a single failed request.

    python benchmarks/reload_under_load.py [--clients 8] [--seconds 60] [--port 8765]

Starts `insight-search serve` on 127.0.0.1 with the sample corpus, then re-indexes a changed corpus (the
sample page plus a new note) with `insight-search index` into the same index folder during the load. Only
loopback traffic. Prints requests, failures, latency and when the new version was first served.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, percentiles, write_result  # noqa: E402

QUERIES = [
    "care system legislation",
    "Monterrey",
    "funding partners 2021",
    "domestic workers",
    "Nuevo León",
    "National Care System",
    "violence against women",
    "Iztapalapa pilot",
    "social protection",
]
NEW_NOTE = "Kazakhstan opened twelve crisis centres for survivors of domestic violence in 2024."


def wait_ready(base: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(base + "/ready", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} not ready after {timeout:.0f} s")


async def client(base: str, stop: float, stats: dict, n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        i = n
        while time.monotonic() < stop:
            q = QUERIES[i % len(QUERIES)] + ("" if i % 2 else " progress")
            i += 1
            t = time.perf_counter()
            try:
                r = await http.get("/search", params={"q": q, "k": 5})
                ok = r.status_code == 200 and r.json()["results"]
            except httpx.HTTPError as exc:
                ok, r = False, exc
            stats["latency"].append((time.perf_counter() - t) * 1000)
            stats["requests"] += 1
            if not ok:
                stats["failures"].append(str(getattr(r, "status_code", r)))


async def watch_version(base: str, stop: float, stats: dict) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        first = None
        while time.monotonic() < stop:
            r = await http.get("/mentions", params={"term": "Kazakhstan", "limit": 1})
            if r.status_code == 200 and r.json()["total"] and first is None:
                first = time.monotonic()
                stats["new_index_served_at_s"] = first - stats["t0"]
            await asyncio.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("insight-search")
    work = Path(tempfile.mkdtemp(prefix="reload-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for f in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(f, corpus / f.name)
    index_dir = work / "index"
    env = dict(
        os.environ,
        INSIGHT_SEARCH_CORPUS_PATHS=json.dumps([str(corpus)]),
        INSIGHT_SEARCH_INDEX_RELOAD_SECONDS="1",
        INSIGHT_SEARCH_RATE_LIMIT_PER_MINUTE="0",  # one address sends all the load here
    )
    server = subprocess.Popen(
        [str(exe), "serve", "--index-dir", str(index_dir), "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        before = wait_ready(base, 300)
        (corpus / "new_note.jsonl").write_text(json.dumps({"id": "kz-1", "text": NEW_NOTE}) + "\n")
        stats: dict = {"requests": 0, "failures": [], "latency": [], "t0": time.monotonic()}
        stop = stats["t0"] + args.seconds

        async def run() -> float:
            tasks = [asyncio.create_task(client(base, stop, stats, n)) for n in range(args.clients)]
            tasks.append(asyncio.create_task(watch_version(base, stop, stats)))
            await asyncio.sleep(min(5.0, args.seconds / 6))
            t = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                str(exe),
                "index",
                str(corpus),
                "--index-dir",
                str(index_dir),
                "--json",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
            )
            await proc.wait()
            stats["reindex_s"] = time.monotonic() - t
            stats["reindex_started_at_s"] = t - stats["t0"]
            await asyncio.gather(*tasks)
            return stats["reindex_s"]

        asyncio.run(run())
        after = httpx.get(base + "/ready", timeout=5).json()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "machine": machine(),
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": stats["requests"],
        "failed_requests": len(stats["failures"]),
        "failures": stats["failures"][:20],
        "latency_ms": percentiles(stats["latency"]),
        "reindex_s": stats.get("reindex_s"),
        "reindex_started_at_s": stats.get("reindex_started_at_s"),
        "new_index_served_at_s": stats.get("new_index_served_at_s"),
        "chunks_before": before["chunks"],
        "chunks_after": after["chunks"],
    }
    write_result("reload_under_load", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))
    if result["failed_requests"] or result["new_index_served_at_s"] is None:
        sys.exit(1)


if __name__ == "__main__":
    main()
