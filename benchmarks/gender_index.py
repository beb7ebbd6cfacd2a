"""Index the five gender-theme UN INFO exports with the real model and measure the build and search.

    python benchmarks/gender_index.py [--index-dir /tmp/gender-index] [--queries 120]

Reports: documents, chunks, first build time and chunks/s, re-index time of the unchanged corpus (and the
speed-up), index size on disk (without the embedding cache, and the cache itself), peak resident memory, and
in-process hybrid search latency p50/p95 over distinct queries taken from the data (sub-output titles cut to
their first words, a fixed random sample), each query run once so the query cache cannot flatter the numbers.
Search goes through the product's operation layer, as the CLI and the API call it: ``Service.open`` (the
serving caches of ``live.LiveSearcher``) and ``service.run("search", {...})``, request parsing and the
response model included.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED, dir_size, machine, percentiles, write_result  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import SentenceTransformerEmbedder  # noqa: E402
from insight_search.indexer import CACHE_FILE, build_index  # noqa: E402
from insight_search.service import Service  # noqa: E402
from insight_search.store import current_version  # noqa: E402


def measure_search(service: Service, n: int) -> tuple[list[float], list[float]]:
    """Latency (ms) of ``n`` distinct queries, each run once; then each again with a year-range filter (its
    vector then comes from the service's query cache, so the second list is the retrieval cost alone)."""
    rng = random.Random(7)
    documents = service.index.searcher.data.documents
    titles = sorted({d.title.split(" (")[0] for d in documents.values()})
    queries = [" ".join(t.split()[:8]) for t in rng.sample(titles, min(n, len(titles)))]
    service.run("search", {"q": "warm-up query about care"})
    plain, filtered = [], []
    for q in queries:
        t = time.perf_counter()
        service.run("search", {"q": q, "k": 10})
        plain.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        service.run("search", {"q": q + " ", "k": 10, "year_from": 2021, "year_to": 2023})
        filtered.append((time.perf_counter() - t) * 1000)
    return plain, filtered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-gender-index"))
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--keep", action="store_true", help="reuse an existing embedding cache")
    parser.add_argument(
        "--search-only", action="store_true", help="measure search on the existing index (no build)"
    )
    args = parser.parse_args()
    files = sorted((SHARED / "data" / "uninfo-jwp").glob("*/gender.xlsx"))
    if len(files) != 5:
        sys.exit(f"expected five gender.xlsx files under {SHARED / 'data' / 'uninfo-jwp'}")
    if args.index_dir.exists() and not (args.keep or args.search_only):
        shutil.rmtree(args.index_dir)
    settings = Settings(index_dir=args.index_dir)
    embedder = SentenceTransformerEmbedder()
    if args.search_only:
        service = Service.open(settings, embedder)
        chunks = len(service.index.searcher.chunks)
        plain, filtered = measure_search(service, args.queries)
        result = {
            "machine": machine(),
            "chunks": chunks,
            "search_ms": percentiles(plain),
            "search_filtered_ms": percentiles(filtered),
            "distinct_queries": len(plain),
        }
        write_result("gender_search", result)
        print(
            f"| {chunks:,} chunks | search p50/p95 {result['search_ms']['p50']:.1f} / "
            f"{result['search_ms']['p95']:.1f} ms | filtered p50/p95 {result['search_filtered_ms']['p50']:.1f}"
            f" / {result['search_filtered_ms']['p95']:.1f} ms | {len(plain)} distinct queries |"
        )
        return

    first = build_index(files, settings, embedder)
    second = build_index(files, settings, embedder)
    version = current_version(args.index_dir)
    assert version is not None
    plain, filtered = measure_search(Service.open(settings, embedder), args.queries)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "machine": machine(),
        "files": [str(f) for f in files],
        "documents": first.documents,
        "passages": first.passages,
        "chunks": first.chunks,
        "embedded_first": first.embedded,
        "first_build_s": first.seconds,
        "chunks_per_s_first_build": first.chunks / first.seconds,
        "reindex_unchanged_s": second.seconds,
        "reindex_embedded": second.embedded,
        "reindex_speedup": first.seconds / second.seconds,
        "index_size_mb": dir_size(version) / 1e6,
        "embedding_cache_mb": (args.index_dir / CACHE_FILE).stat().st_size / 1e6,
        "peak_rss_mb": peak_mb,
        "search_ms": percentiles(plain),
        "search_filtered_ms": percentiles(filtered),
        "distinct_queries": len(plain),
    }
    path = write_result("gender_index", result)
    r = result
    print(
        "| documents | chunks | first build | chunks/s | re-index (unchanged) | speed-up | index size | "
        "cache | peak RSS | search p50/p95 | filtered p50/p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['documents']:,} | {r['chunks']:,} | {r['first_build_s']:.0f} s | {r['chunks_per_s_first_build']:.1f} | "
        f"{r['reindex_unchanged_s']:.1f} s ({r['reindex_embedded']} embedded) | {r['reindex_speedup']:.0f}x | "
        f"{r['index_size_mb']:.0f} MB | {r['embedding_cache_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB | "
        f"{r['search_ms']['p50']:.1f} / {r['search_ms']['p95']:.1f} ms | "
        f"{r['search_filtered_ms']['p50']:.1f} / {r['search_filtered_ms']['p95']:.1f} ms |"
    )
    print(f"({len(plain)} distinct queries; results in {path})")


if __name__ == "__main__":
    main()
