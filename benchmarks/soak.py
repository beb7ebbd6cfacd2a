"""Soak: a served index under steady mixed traffic for a long while, with one rebuild in the middle.

    python benchmarks/soak.py --index-dir /work/soak-index ../shared/data/uninfo-jwp/*/gender.xlsx
        [--seconds 600] [--clients 8] [--port 8766]

Starts `insight-search serve --no-build` on 127.0.0.1 on an index already built from PATHS, then runs
CLIENTS threads for SECONDS of search, summarize, timeline and mentions requests over distinct queries
(topic x country x year: 22,848 different requests, repeated only after that many). Halfway through, one
`insight-search index PATHS --index-dir INDEX_DIR` rebuilds the same index while it is served. Records the
requests and errors per route (every answer must be a 200: any other status or a transport error counts),
p50/p95/p99 latency per route, the server's RSS (VmRSS of /proc/PID/status) at start, after the warm-up,
at the rebuild, at the end and its peak, and the index versions served. Loopback only; bounded by
SECONDS (each request by --timeout, 300 s). Exits 1 on any error or when memory grew by 10 % or more from
the end of the warm-up to the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, percentiles, write_result  # noqa: E402

TOPICS = [
    "gender-based violence prevention",
    "women's economic empowerment",
    "women in leadership and political participation",
    "gender responsive budgeting",
    "care economy and unpaid care work",
    "access to justice for survivors",
    "child marriage",
    "female genital mutilation",
    "women peace and security",
    "gender statistics and data",
    "sexual and reproductive health",
    "legal reform for gender equality",
    "women entrepreneurs access to finance",
    "domestic violence shelters",
    "girls education and retention",
    "harmful social norms",
    "gender mainstreaming in ministries",
    "women in agriculture and land rights",
    "digital skills for women",
    "HIV prevention among young women",
    "trafficking in women and girls",
    "maternal health services",
    "women with disabilities inclusion",
    "gender equality in the workplace",
    "national action plan on resolution 1325",
]
COUNTRIES = [
    "Kenya", "Nigeria", "Ethiopia", "Uganda", "Ghana", "Mali", "Senegal", "Malawi", "Zimbabwe", "Lesotho",
    "Egypt", "Jordan", "Lebanon", "Morocco", "Tunisia", "Iraq", "Sudan", "Somalia", "Yemen", "Libya",
    "Bangladesh", "Nepal", "Pakistan", "Cambodia", "Viet Nam", "Indonesia", "Philippines", "Fiji",
    "Mongolia", "Sri Lanka", "Albania", "Moldova", "Ukraine", "Georgia", "Armenia", "Kazakhstan",
    "Kyrgyzstan", "Tajikistan", "Serbia", "Türkiye", "Mexico", "Colombia", "Guatemala", "Honduras",
    "Peru", "Ecuador", "Bolivia", "Paraguay", "El Salvador", "Dominican Republic",
]  # fmt: skip
YEARS = [None, 2020, 2021, 2022, 2023, 2024]
MENTION_TERMS = [*COUNTRIES, "UN Women", "UNFPA", "UNICEF", "UNDP", "ILO", "FAO", "WHO", "civil society"]
ROUTES = ("search", "summarize", "timeline", "mentions")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def wait_ready(base: str, timeout: float, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            r = httpx.get(base + "/ready", timeout=5)
            if r.status_code == 200:
                return dict(r.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} not ready after {timeout:.0f} s")


def requests_plan(seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Every (route, params) of the run, distinct, in a shuffled order."""
    rng = random.Random(seed)
    plan: list[tuple[str, dict[str, Any]]] = []
    for topic, country, year in itertools.product(TOPICS, COUNTRIES, YEARS):
        q = f"{topic} {country}"
        extra = {} if year is None else {"year": year}
        plan.append(("search", {"q": q, "k": 10, **extra}))
        plan.append(("summarize", {"q": q, "max_sentences": 5, **extra}))
        plan.append(("timeline", {"q": q, **({} if year is None else {"year_from": year})}))
    for term, year in itertools.product(MENTION_TERMS, YEARS):
        plan.append(("mentions", {"term": term, "limit": 20, **({} if year is None else {"year": year})}))
    rng.shuffle(plan)
    return plan


class Traffic:
    def __init__(
        self, base: str, plan: list[tuple[str, dict[str, Any]]], stop_at: float, timeout: float
    ) -> None:
        self.base, self.plan, self.stop_at, self.timeout = base, plan, stop_at, timeout
        self.next = itertools.count()
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def client(self) -> None:
        with httpx.Client(base_url=self.base, timeout=self.timeout) as http:
            while time.monotonic() < self.stop_at:
                route, params = self.plan[next(self.next) % len(self.plan)]
                t = time.perf_counter()
                error = None
                try:
                    r = http.get("/" + route, params=params)
                    if r.status_code != 200:
                        error = f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - t) * 1000
                with self.lock:
                    self.latency[route].append(ms)
                    if error:
                        self.errors[route].append(f"{route} {params}: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", type=Path, help="what the index was built from (rebuilt halfway)")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--warmup", type=float, default=30, help="seconds of traffic before the start RSS")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a request may take")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="set for the server only"
    )
    args = parser.parse_args()
    if not (args.index_dir / "CURRENT").exists():
        raise SystemExit(f"no index in {args.index_dir}: build it first with `insight-search index PATHS`")
    exe = Path(sys.executable).with_name("insight-search")
    env = dict(
        os.environ,
        INSIGHT_SEARCH_RATE_LIMIT_PER_MINUTE="0",  # all the clients share one address here
        INSIGHT_SEARCH_INDEX_RELOAD_SECONDS="2",
    )
    env.pop("INSIGHT_SEARCH_API_KEY", None)
    server_env = dict(env, **dict(item.split("=", 1) for item in args.server_env))
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-server-{os.getpid()}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(exe), "serve", "--no-build", "--index-dir", str(args.index_dir), "--port", str(args.port)],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{args.port}"
    rss: dict[str, int] = {}
    samples: list[tuple[float, int]] = []
    versions: list[str] = []
    rebuild: dict[str, Any] = {}
    try:
        ready = wait_ready(base, 600, server)
        versions.append(ready.get("version") or "?")
        rss["start_kb"] = rss_kb(server.pid)
        t0 = time.monotonic()
        traffic = Traffic(base, requests_plan(args.seed), t0 + args.seconds, args.timeout)
        threads = [threading.Thread(target=traffic.client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        warm_at, rebuild_at = t0 + min(args.warmup, args.seconds / 4), t0 + args.seconds / 2
        rebuild_proc: subprocess.Popen[bytes] | None = None
        while time.monotonic() < traffic.stop_at:
            time.sleep(1.0)
            now = time.monotonic()
            samples.append((now - t0, rss_kb(server.pid)))
            if "after_warmup_kb" not in rss and now >= warm_at:
                rss["after_warmup_kb"] = samples[-1][1]
            if rebuild_proc is None and not rebuild and now >= rebuild_at:
                rss["at_rebuild_kb"] = samples[-1][1]
                rebuild["started_at_s"] = now - t0
                rebuild_proc = subprocess.Popen(
                    [str(exe), "index", *map(str, args.paths), "--index-dir", str(args.index_dir), "--json"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            if rebuild_proc is not None and rebuild_proc.poll() is not None:
                rebuild["seconds"] = now - t0 - rebuild["started_at_s"]
                rebuild["exit_status"] = rebuild_proc.returncode
                rebuild_proc = None
            if len(samples) % 5 == 0:
                version = httpx.get(base + "/ready", timeout=30).json().get("version")
                if version and version != versions[-1]:
                    versions.append(version)
                    rebuild.setdefault("new_version_served_at_s", now - t0)
        for thread in threads:
            thread.join(timeout=args.timeout + 30)
        if rebuild_proc is not None:  # still running at the end: let it finish, it is part of the run
            rebuild_proc.wait(timeout=1800)
            rebuild["seconds"] = time.monotonic() - t0 - rebuild["started_at_s"]
            rebuild["exit_status"] = rebuild_proc.returncode
        rss["end_kb"] = rss_kb(server.pid)
        rss["peak_kb"] = max(kb for _, kb in samples)
        version = httpx.get(base + "/ready", timeout=30).json().get("version")
        if version and version != versions[-1]:
            versions.append(version)
    finally:
        server.terminate()
        server.wait(timeout=60)
    per_route = {
        route: {
            "requests": len(traffic.latency[route]),
            "errors": len(traffic.errors[route]),
            "latency_ms": percentiles(traffic.latency[route]) if traffic.latency[route] else None,
        }
        for route in ROUTES
    }
    requests = sum(r["requests"] for r in per_route.values())
    errors = sum(r["errors"] for r in per_route.values())
    base_kb = rss.get("after_warmup_kb", rss["start_kb"])
    growth = (rss["end_kb"] - base_kb) / base_kb
    result = {
        "machine": machine(),
        "index_dir": str(args.index_dir),
        "server_env": args.server_env,
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": requests,
        "errors": errors,
        "error_samples": [e for errs in traffic.errors.values() for e in errs][:20],
        "per_route": per_route,
        "rss_kb": rss,
        "rss_growth_after_warmup": round(growth, 4),
        "rss_samples": samples[:: max(1, len(samples) // 60)],
        "rebuild": rebuild,
        "versions_served": versions,
        "server_log": str(log_path),
    }
    write_result("soak", result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "rss_samples")}, indent=2))
    if errors or growth >= 0.10 or rebuild.get("exit_status") not in (0, None):
        sys.exit(1)


if __name__ == "__main__":
    main()
