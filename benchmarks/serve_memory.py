"""Resident memory of a loaded index (what `insight-search serve` holds): the whole ../shared/data folder.

    python benchmarks/serve_memory.py [--index-dir /tmp/insight-serve-index]

Builds the index with the hashing embedder of memory_full_data.py if the folder holds none (about 1 min),
then, in a fresh process, loads it and opens a Searcher, reporting RSS before, after loading and after the
Searcher (its filter and facet columns), per chunk. The model (about 300 MB) is not loaded: it does not
depend on the index.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, write_result  # noqa: E402
from memory_full_data import HashEmbedder, rss_mb  # noqa: E402


def measure(index_dir: Path) -> dict[str, float]:
    from insight_search import store
    from insight_search.config import Settings
    from insight_search.search import Searcher

    before = rss_mb()
    started = time.perf_counter()
    data = store.load(index_dir)
    loaded = rss_mb()
    Searcher(data, HashEmbedder(), Settings(index_dir=index_dir))
    ready = rss_mb()
    chunks = len(data.chunks)
    return {
        "chunks": chunks,
        "documents": len(data.documents),
        "load_s": time.perf_counter() - started,
        "rss_before_mb": before,
        "loaded_mb": loaded - before,
        "searcher_mb": ready - loaded,
        "total_mb": ready - before,
        "kb_per_chunk": (ready - before) * 1024 / chunks,
        "dense_vectors_mb": data.dense.vectors.nbytes / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-serve-index"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.index_dir)))
        return
    from insight_search.config import Settings
    from insight_search.indexer import build_index
    from insight_search.store import current_version

    if current_version(args.index_dir) is None:
        # English lanes only (the lane's real model over every chunk would take hours here)
        build_index([SHARED / "data"], Settings(index_dir=args.index_dir, multilingual=False), HashEmbedder())
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--index-dir", str(args.index_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    write_result("serve_memory", {"machine": machine(), **result})
    print("| chunks | documents | load | loaded | Searcher | total | per chunk | of which vectors |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {result['chunks']:,} | {result['documents']:,} | {result['load_s']:.1f} s | "
        f"{result['loaded_mb']:,.0f} MB | {result['searcher_mb']:,.0f} MB | {result['total_mb']:,.0f} MB | "
        f"{result['kb_per_chunk']:.2f} KB | {result['dense_vectors_mb']:,.0f} MB |"
    )


if __name__ == "__main__":
    main()
