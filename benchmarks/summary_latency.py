"""/search, /summarize and /timeline latency over HTTP (one client), and summaries a second with 8 clients.

    python benchmarks/summary_latency.py --side after=src:/tmp/gender-index \\
        [--side before=/tmp/base/src:/tmp/gender-index-old] [--queries 48] [--seconds 20] [--build]

Each ``--side NAME=SRC:INDEX_DIR`` is served in turn by ``insight-search serve --no-build`` run with
``PYTHONPATH=SRC`` (so an older checkout, e.g. a ``git worktree`` of another commit, is measured in the same
run beside this one), default settings (real model), rate limit off, on 127.0.0.1. With ``--build`` an index
folder that holds no index is first built from the five gender exports by that side's code (timed: chunks/s).

Per side: ``--queries`` distinct queries per route (sub-output titles of the index cut to their first seven
words, a fixed shuffle; each route gets its own queries, so no route answers from the query vector another
cached), one client, each query once: p50/p95/max per route. Then 8 closed-loop clients ask /summarize with
queries not asked before for ``--seconds``: summaries a second. ``uptime``'s load is recorded before and after
each side (the machine is shared). Writes ``benchmarks/results/summary_latency.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, SHARED, machine, percentiles, write_result  # noqa: E402
from http_load import queries  # noqa: E402
from reload_under_load import wait_ready  # noqa: E402

ROUTES = ("/search", "/summarize", "/timeline")
GENDER = [
    SHARED / "data" / "uninfo-jwp" / r / "gender.xlsx"
    for r in ("africa", "arab-states", "asia-pacific", "europe-central-asia", "latin-america-caribbean")
]


def build(src: Path, index_dir: Path) -> dict:
    exe = Path(sys.executable).with_name("insight-search")
    env = dict(os.environ, PYTHONPATH=str(src))
    started = time.perf_counter()
    out = subprocess.run(
        [str(exe), "index", *map(str, GENDER), "--index-dir", str(index_dir), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    report = json.loads(out.stdout)
    return {"wall_s": seconds, "chunks_per_s": report["chunks"] / seconds, "report": report}


def one_client(base: str, route: str, qs: list[str]) -> dict:
    latencies, errors = [], 0
    with httpx.Client(base_url=base, timeout=600) as http:
        for q in qs:
            t = time.perf_counter()
            r = http.get(route, params={"q": q, "k": 10} if route == "/search" else {"q": q})
            latencies.append((time.perf_counter() - t) * 1000)
            errors += r.status_code != 200
    return {"route": route, "errors": errors, "latency_ms": percentiles(latencies), "max_ms": max(latencies)}


async def many_clients(base: str, clients: int, seconds: float, qs: list[str]) -> dict:
    pool = iter(qs)
    done: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=600) as http:
            while time.monotonic() < stop:
                q = next(pool, None)
                if q is None:
                    return
                t = time.perf_counter()
                r = await http.get("/summarize", params={"q": q})
                done.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(clients)))
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "requests": len(done),
        "errors": errors,
        "summaries_per_s": len(done) / elapsed,
        "latency_ms": percentiles(done) if done else {},
    }


def measure(name: str, src: Path, index_dir: Path, args: argparse.Namespace, port: int) -> dict:
    exe = Path(sys.executable).with_name("insight-search")
    env = dict(
        os.environ,
        PYTHONPATH=str(src),
        INSIGHT_SEARCH_RATE_LIMIT_PER_MINUTE="0",
        INSIGHT_SEARCH_INDEX_RELOAD_SECONDS="0",
    )
    qs = queries(index_dir, 5000)
    n = args.queries
    per_route = {route: qs[i * n : (i + 1) * n] for i, route in enumerate(ROUTES)}
    rest = qs[len(ROUTES) * n :]
    load_before = os.getloadavg()
    server = subprocess.Popen(
        [str(exe), "serve", "--no-build", "--index-dir", str(index_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_ready(base, 600)
        for route in ROUTES:  # warm-up: first-use costs (model, lazy tables) are not what is measured
            httpx.get(base + route, params={"q": "warm up: women's economic empowerment"}, timeout=600)
        rows = [one_client(base, route, per_route[route]) for route in ROUTES]
        throughput = asyncio.run(many_clients(base, 8, args.seconds, rest))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "side": name,
        "src": str(src),
        "index_dir": str(index_dir),
        "chunks": ready["chunks"],
        "sentence_store": (index_dir / ready["version"] / "sentences").is_dir(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "one_client": rows,
        "eight_clients": throughput,
    }


def markdown(result: dict) -> str:
    lines = [
        "| side | route | p50 | p95 | max | p95 / search p95 | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for side in result["sides"]:
        search_p95 = side["one_client"][0]["latency_ms"]["p95"]
        for row in side["one_client"]:
            lat = row["latency_ms"]
            lines.append(
                f"| {side['side']} | {row['route']} | {lat['p50']:.0f} ms | {lat['p95']:.0f} ms "
                f"| {row['max_ms']:.0f} ms | {lat['p95'] / search_p95:.1f}x | {row['errors']} |"
            )
    lines += [
        "",
        "| side | 8 clients: summaries/s | p50 | p95 | requests | errors | load before → after |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for side in result["sides"]:
        t = side["eight_clients"]
        lat = t["latency_ms"]
        load = f"{side['load_before'][0]:.1f} → {side['load_after'][0]:.1f}"
        lines.append(
            f"| {side['side']} | {t['summaries_per_s']:.1f} | {lat.get('p50', 0):.0f} ms "
            f"| {lat.get('p95', 0):.0f} ms | {t['requests']} | {t['errors']} | {load} |"
        )
    for side, b in result.get("builds", {}).items():
        lines.append(f"\nbuild ({side}): {b['wall_s']:.0f} s, {b['chunks_per_s']:.1f} chunks/s")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", action="append", required=True, help="NAME=SRC:INDEX_DIR (repeatable)")
    parser.add_argument("--queries", type=int, default=48, help="distinct queries per route")
    parser.add_argument("--seconds", type=float, default=20, help="8-client /summarize run length")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--build", action="store_true", help="build a missing index from the gender exports")
    args = parser.parse_args()
    sides = []
    for spec in args.side:
        name, _, paths = spec.partition("=")
        src, _, index = paths.partition(":")
        sides.append((name, Path(src).resolve(), Path(index)))
    result: dict = {"machine": machine(), "uptime": subprocess.getoutput("uptime"), "builds": {}, "sides": []}
    for name, src, index_dir in sides:
        if args.build and not (index_dir / "CURRENT").is_file():
            result["builds"][name] = build(src, index_dir)
    for i, (name, src, index_dir) in enumerate(sides):
        result["sides"].append(measure(name, src, index_dir, args, args.port + i))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    result["uptime_after"] = subprocess.getoutput("uptime")
    write_result("summary_latency", result)
    table = markdown(result)
    (RESULTS / "summary_latency.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
