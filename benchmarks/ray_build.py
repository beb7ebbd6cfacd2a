"""Issue 17: a local build beside Ray builds with one and two worker nodes, Ray's overhead on a small corpus,
and /search throughput from one and two Ray Serve replicas, side by side in one run on this machine.

    python benchmarks/ray_build.py [--files F...] [--seconds 20] [--clients 8] [--skip-serve]

Default load: three UN INFO exports of ../shared/data/uninfo-jwp/arab-states (governance, work, gender:
2,858 chunks). Every build starts with an empty index folder and embedding cache, so each embeds
everything (chunks and the sentences stored for summaries). Nodes are ``ray.cluster_utils.Cluster`` nodes
on this one machine: a head with no CPU (the driver, the proxy) and one or two worker nodes of one CPU each,
each running one embedding actor of one thread; the local builds run one thread and two. The numbers are
this machine's: what matters is the ratio between the rows. Serving: the index the local build made, the
default model on every replica, ``--clients`` closed-loop clients on GET /search (benchmarks/http_load.py's
client, a new query each request).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SHARED, machine, write_result  # noqa: E402
from http_load import load, queries  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.indexer import build_index  # noqa: E402

DEFAULT_FILES = [
    SHARED / "data" / "uninfo-jwp" / "arab-states" / name
    for name in ("governance.xlsx", "work.xlsx", "gender.xlsx")
]
ACTOR_CPUS = 0.75  # one actor a one-CPU node; a quarter of a CPU kept for reading files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_build(paths: list[Path], work: Path, threads: int, name: str) -> dict:
    settings = Settings(index_dir=work / name, embed_threads=threads)
    embedder = make_embedder(settings)
    embedder.embed_batch(["warm up"])  # the model loads outside the timing, as each actor's does
    started = time.perf_counter()
    report = build_index(paths, settings, embedder)
    seconds = time.perf_counter() - started
    return row(f"local, {threads} thread(s)", report, seconds)


def row(mode: str, report, seconds: float) -> dict:
    return {
        "mode": mode,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "sentences_embedded": report.sentences_embedded,
        "seconds": seconds,
        "chunks_per_s": report.chunks / seconds,
        "load_average": os.getloadavg(),
    }


def ray_builds(paths: list[Path], small: list[Path], work: Path, nodes: int) -> list[dict]:
    import ray
    from ray.cluster_utils import Cluster

    from insight_search.distributed.build import ray_build_index

    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(nodes):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    startup = time.perf_counter() - started
    rows = []
    try:
        for corpus, label in ((paths, "load"), (small, "small")):
            settings = Settings(index_dir=work / f"ray-{nodes}-{label}")
            began = time.perf_counter()
            report = ray_build_index(corpus, settings, "auto", actor_cpus=ACTOR_CPUS)
            result = row(f"Ray, {nodes} worker node(s), {label} corpus", report, time.perf_counter() - began)
            result["cluster_start_s"] = startup
            rows.append(result)
            print(result, flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return rows


def serve_runs(index_dir: Path, replicas_list: list[int], seconds: float, clients: int) -> list[dict]:
    import ray
    from ray.cluster_utils import Cluster

    from insight_search.distributed.serve import start_replicas, stop_replicas

    qs = queries(index_dir, 5000)
    source = itertools.cycle(qs)
    rows = []
    for replicas in replicas_list:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        for _ in range(replicas):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        try:
            settings = Settings(
                index_dir=index_dir, port=free_port(), rate_limit_per_minute=0, index_reload_seconds=0
            )
            url = start_replicas(settings, replicas, replica_cpus=1.0, proxy_location="HeadOnly")
            asyncio.run(load(url, "/search", 1, 3, source))  # warm up every replica
            result = asyncio.run(load(url, "/search", clients, seconds, source))
            result.update(replicas=replicas, load_average=os.getloadavg())
            rows.append(result)
            print(result, flush=True)
            stop_replicas()
        finally:
            ray.shutdown()
            cluster.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=Path, nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument(
        "--serve-only",
        type=Path,
        nargs="*",
        help="only the serving runs, over a local build (2 threads) of these files",
    )
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
    )
    small = [ROOT / "corpus"]
    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    builds = []
    if args.serve_only:
        try:
            builds.append(local_build(args.serve_only, work, 2, "local-2"))
            serving = serve_runs(work / "local-2", [1, 2], args.seconds, args.clients)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        write_result(
            "ray_serve",
            {
                "machine": machine(),
                "files": [str(f) for f in args.serve_only],
                "index": builds,
                "serving": serving,
            },
        )
        print_tables([], serving)
        return
    try:
        for threads in (1, 2):
            builds.append(local_build(args.files, work, threads, f"local-{threads}"))
            print(builds[-1], flush=True)
        builds.append(local_build(small, work, 2, "local-small"))
        builds[-1]["mode"] += ", small corpus"
        print(builds[-1], flush=True)
        for nodes in (1, 2):
            builds.extend(ray_builds(args.files, small, work, nodes))
        serving = [] if args.skip_serve else serve_runs(work / "local-2", [1, 2], args.seconds, args.clients)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "machine": machine(),
        "files": [str(f) for f in args.files],
        "builds": builds,
        "serving": serving,
    }
    write_result("ray_build", result)
    print_tables(builds, serving)


def print_tables(builds: list[dict], serving: list[dict]) -> None:
    print("| build | chunks | seconds | chunks/s | load average |")
    print("|---|---|---|---|---|")
    for b in builds:
        load_avg = " ".join(f"{x:.1f}" for x in b["load_average"])
        print(
            f"| {b['mode']} | {b['chunks']:,} | {b['seconds']:.1f} | {b['chunks_per_s']:.1f} | {load_avg} |"
        )
    if serving:
        print("| replicas | clients | requests | errors | throughput | p50 | p95 | load average |")
        print("|---|---|---|---|---|---|---|---|")
        for s in serving:
            lat = s["latency_ms"]
            load_avg = " ".join(f"{x:.1f}" for x in s["load_average"])
            print(
                f"| {s['replicas']} | {s['clients']} | {s['requests']:,} | {s['errors']} | "
                f"{s['throughput_rps']:.1f}/s | {lat['p50']:.0f} ms | {lat['p95']:.0f} ms | {load_avg} |"
            )


if __name__ == "__main__":
    main()
