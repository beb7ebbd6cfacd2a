"""Resident memory of ``insight-search serve`` on the sample index (issue 15, goal 4: at most 500 MB), measured
after the first ``/search`` and after ``--searches`` more, for an index built with the default backend (onnx)
and, in the same run, one built with torch (what a server held before onnx became the default).

    python benchmarks/serve_sample_rss.py [--work-dir /tmp/insight-serve-rss] [--searches 20] [--out benchmarks/results/serve_sample_rss.json]

Each index is ``corpus/`` (the README's main command's data) built under ``--work-dir`` when missing. The server
is a new process, ``python -c "from insight_search.cli import main; main()" serve --no-build`` with this
checkout's sources on ``PYTHONPATH``; its RSS is VmRSS of /proc/PID/status (VmHWM: the peak so far).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["care system law", "women's economic empowerment", "violence against women", "unpaid care work"]
HEAVY = ("torch", "sentence_transformers", "transformers")


def build(index_dir: Path, backend: str) -> None:
    from insight_search import store
    from insight_search.config import Settings
    from insight_search.embedding import make_embedder
    from insight_search.indexer import build_index

    if store.current_version(index_dir) is None:
        settings = Settings(index_dir=index_dir, embedding_backend=backend)  # type: ignore[arg-type]
        build_index([ROOT / "corpus"], settings, make_embedder(settings))


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(index_dir: Path, searches: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("INSIGHT_SEARCH_API_KEY", None)
    code = "import sys\nfrom insight_search.cli import main\nsys.argv = ['insight-search', *sys.argv[1:]]\nmain()\n"
    argv = [
        sys.executable,
        "-c",
        code,
        "serve",
        "--no-build",
        "--index-dir",
        str(index_dir),
        "--port",
        str(port),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                sys.exit(
                    f"the server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}"
                )
            try:
                if httpx.get(base + "/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        ready_s = time.perf_counter() - started
        ready = status_kb(proc.pid)
        first = httpx.get(base + "/search", params={"q": QUERIES[0]}, timeout=60)
        first.raise_for_status()
        after_first = status_kb(proc.pid)
        for i in range(searches):
            httpx.get(base + "/search", params={"q": f"{QUERIES[i % len(QUERIES)]} {i}"}, timeout=60)
        after_more = status_kb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "ready_s": round(ready_s, 1),
        "rss_ready_mb": round(ready["VmRSS"] / 1024, 1),
        "rss_after_first_search_mb": round(after_first["VmRSS"] / 1024, 1),
        f"rss_after_{searches}_more_mb": round(after_more["VmRSS"] / 1024, 1),
        "peak_mb": round(after_more["VmHWM"] / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/insight-serve-rss"))
    parser.add_argument("--searches", type=int, default=20)
    parser.add_argument("--backends", default="onnx,torch")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve_sample_rss.json")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        index_dir = args.work_dir / backend / "index"
        build(index_dir, backend)
        load = load_average()
        result = measure(index_dir, args.searches)
        rows.append({"index built with": backend, "load_average_at_start": load, **result})
        print(rows[-1], flush=True)
    table = rows
    write_results(
        args.out,
        {"benchmark": "serve_sample_rss", "results_rows": rows, "environment": environment()},
        {"Server resident memory on the sample index": markdown_table(table)},
    )
    print(markdown_table(table))


if __name__ == "__main__":
    main()
