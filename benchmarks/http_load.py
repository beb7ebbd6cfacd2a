"""HTTP latency and throughput of /search and /summarize (and /timeline) with 1 and 8 concurrent clients.

    python benchmarks/http_load.py --index-dir /tmp/insight-gender-index [--seconds 30] [--port 8766]
                                   [--routes /search,/summarize,/timeline] [--clients 1,8]

Serves an existing index (build it first, e.g. with benchmarks/gender_index.py for the five gender exports)
with `insight-search serve` on 127.0.0.1, then runs closed-loop async clients (httpx). Every request uses a
query not sent before (sub-output titles of the index, cut to their first words), so the query cache does
not flatter the numbers; the summariser's sentence-vector cache does warm up, as it would in service.
Loopback traffic only; the rate limit is off for the run (one address sends everything).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, percentiles, write_result  # noqa: E402
from insight_search import store  # noqa: E402
from reload_under_load import wait_ready  # noqa: E402


def queries(index_dir: Path, n: int) -> list[str]:
    version = store.current_version(index_dir)
    if version is None:
        sys.exit(f"no index in {index_dir}")
    titles = set()
    with (version / "documents.jsonl").open(encoding="utf-8") as f:
        for line in f:
            titles.add(" ".join(json.loads(line)["title"].split(" (")[0].split()[:7]))
    ordered = sorted(titles)
    random.Random(11).shuffle(ordered)
    return ordered[:n]


async def load(base: str, path: str, clients: int, seconds: float, source: itertools.cycle) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def one() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while time.monotonic() < stop:
                q = next(source)
                t = time.perf_counter()
                r = await http.get(path, params={"q": q, "k": 10} if path == "/search" else {"q": q})
                latencies.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.monotonic() - started
    return {
        "path": path,
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": len(latencies) / elapsed,
        "latency_ms": percentiles(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--routes", default="/search,/summarize", help="comma list of /search, /summarize, /timeline"
    )
    parser.add_argument("--clients", default="1,8", help="comma list of concurrent client counts")
    args = parser.parse_args()
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = set(routes) - {"/search", "/summarize", "/timeline"}
    if unknown:
        sys.exit(f"unknown routes: {', '.join(sorted(unknown))}")
    client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    qs = queries(args.index_dir, 5000)
    exe = Path(sys.executable).with_name("insight-search")
    manifest = store.read_manifest(args.index_dir)
    env = dict(
        os.environ,
        INSIGHT_SEARCH_RATE_LIMIT_PER_MINUTE="0",
        INSIGHT_SEARCH_INDEX_RELOAD_SECONDS="0",
        INSIGHT_SEARCH_CORPUS_PATHS=json.dumps(list(manifest.corpus_paths or ()) if manifest else []),
    )
    server = subprocess.Popen(
        [str(exe), "serve", "--index-dir", str(args.index_dir), "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    rows = []
    try:
        ready = wait_ready(base, 300)
        source = itertools.cycle(qs)
        httpx.get(base + "/search", params={"q": "warm up"}, timeout=60)
        for path in routes:
            for clients in client_counts:
                rows.append(asyncio.run(load(base, path, clients, args.seconds, source)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "machine": machine(),
        "index_chunks": ready["chunks"],
        "seconds_per_run": args.seconds,
        "runs": rows,
    }
    write_result("http_load", result)
    print(f"index: {ready['chunks']:,} chunks; {args.seconds:.0f} s per run")
    print("| route | clients | requests | errors | throughput | p50 | p95 | p99 |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        lat = r["latency_ms"]
        print(
            f"| {r['path']} | {r['clients']} | {r['requests']:,} | {r['errors']} | {r['throughput_rps']:.1f}/s | "
            f"{lat['p50']:.0f} ms | {lat['p95']:.0f} ms | {lat['p99']:.0f} ms |"
        )


if __name__ == "__main__":
    main()
