"""Retrieval quality on the five collections of ``../shared/bench`` (``retrieval_data``), through the product.

    python benchmarks/retrieval.py [--collections scifact,nfcorpus,arguana,medline,cacm] [--split test]
                                   [--work-dir /tmp/insight-retrieval] [--build-only]
                                   [--out benchmarks/results/retrieval.json]

Each collection is written as JSONL (id, title, text) and indexed once with default settings (the bundled
all-MiniLM-L6-v2 on torch; ``build_index``: the JSONL reader, chunking, FAISS + BM25) under ``--work-dir``;
an index already there is reused, and its embedding cache makes a rebuild cheap. The judged queries of the
split are searched with ``Searcher.search_many`` (default settings, ``group_by_document=True``, k=100: a
document scores the max over its chunks), the path ``benchmarks/scifact.py`` measures.

Two rankings from the same index, model and query vectors (issue 11):
- ``all candidates``: what a search listed before issue 11, every fused candidate (``Searcher.candidates``);
- ``matching only``: what ``Searcher.search`` lists now, the candidates that hold a query term (after BM25's
  analysis) or whose cosine reaches ``match_threshold`` (``Searcher.matching``).
For each: nDCG@10 (graded, as pytrec_eval), Recall@100, and how many queries got fewer than 10 / no hits.
ArguAna: a hit whose id is the query's is dropped before scoring (BEIR's ``ignore_identical_ids``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_data as rd  # noqa: E402
from bench_common import RESULTS, environment, load_average, write_results  # noqa: E402
from insight_search import store  # noqa: E402
from insight_search.caching import CachingEmbedder  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import Embedder, make_embedder  # noqa: E402
from insight_search.indexer import CACHE_FILE, build_index  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.search import Searcher, open_searcher  # noqa: E402

DEFAULT_WORK = Path("/tmp/insight-retrieval")
K = 100


def index_settings(name: str, work: Path) -> Settings:
    return Settings(index_dir=work / name / "index")


def open_collection(
    name: str, work: Path, embedder: Embedder, *, seed_cache: Path | None = None
) -> tuple[rd.Collection, Searcher, dict[str, Any]]:
    """The collection and a Searcher over its index (built once under ``work``; reused when there)."""
    collection = rd.load(name)
    settings = index_settings(name, work)
    info: dict[str, Any] = {"documents": len(collection.documents)}
    if store.current_version(settings.index_dir) is None:
        jsonl = collection.write_jsonl(work / name / "docs" / f"{name}.jsonl")
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        cache = settings.index_dir / CACHE_FILE
        if seed_cache is not None and seed_cache.exists() and not cache.exists():
            shutil.copy(seed_cache, cache)
        load = load_average()
        report = build_index([jsonl], settings, embedder)
        info.update(
            build_s=round(report.seconds, 1),
            embedded=report.embedded,
            load_average_at_start=load,
            load_average_at_end=load_average(),
        )
        logging.info("%s: built %d chunks in %.0f s", name, report.chunks, report.seconds)
    searcher = open_searcher(settings, embedder)
    info["chunks"] = len(searcher.chunks)
    return collection, searcher, info


def _doc_ids(searcher: Searcher, rows: Sequence[int], drop: str | None) -> list[str]:
    out = []
    for i in rows:
        doc = searcher.chunks[int(i)].doc_id
        if doc != drop:
            out.append(doc)
    return out


def evaluate(collection: rd.Collection, searcher: Searcher, split: str) -> dict[str, Any]:
    """nDCG@10 and Recall@100 of the split's judged queries, all candidates vs matching only."""
    judged = collection.judged(split)
    queries = [Query(text=text, k=K, group_by_document=True) for _, text, _ in judged]
    started = time.perf_counter()
    results = searcher.search_many(queries)  # the matching passages only (issue 11)
    vectors = searcher.embedder.embed_batch([q.text.strip() for q in queries])  # cached: the same vectors
    runs: dict[str, dict[str, list[str]]] = {"all candidates": {}, "matching only": {}}
    totals: dict[str, list[int]] = {"all candidates": [], "matching only": []}
    for (qid, _, _), query, vector, result in zip(judged, queries, vectors, results, strict=True):
        drop = qid if collection.ignore_identical_ids else None
        candidates = searcher.candidates(query, vector)
        runs["all candidates"][qid] = _doc_ids(searcher, candidates.ids[: K + 1].tolist(), drop)[:K]
        runs["matching only"][qid] = [h.chunk.doc_id for h in result.hits if h.chunk.doc_id != drop][:K]
        totals["all candidates"].append(len(candidates))
        totals["matching only"].append(result.total)
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {"queries": len(judged), "seconds": round(seconds, 1)}
    for mode, run in runs.items():
        ndcg = [rd.ndcg_at(run[qid], rel, 10) for qid, _, rel in judged]
        recall = [rd.recall_at(run[qid], rel, K) for qid, _, rel in judged]
        out[mode] = {
            "ndcg@10": round(statistics.fmean(ndcg), 4),
            "recall@100": round(statistics.fmean(recall), 4),
            "queries_under_10_hits": sum(len(run[qid]) < 10 for qid, _, _ in judged),
            "queries_without_hits": sum(not run[qid] for qid, _, _ in judged),
            "median_total": statistics.median(totals[mode]),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collections", default=",".join(rd.NAMES))
    parser.add_argument("--split", default="test")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--seed-cache", type=Path, help="an embedding-cache.sqlite to start the builds from")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    names = [n for n in args.collections.split(",") if n]
    missing = [n for n in names if n not in rd.available()]
    if missing:
        logging.warning("skipped (absent from ../shared/bench): %s", ", ".join(missing))
    embedder = CachingEmbedder(make_embedder(Settings()), maxsize=200_000)
    report: dict[str, Any] = {"environment": environment(), "split": args.split, "collections": {}}
    for name in (n for n in names if n not in missing):
        collection, searcher, info = open_collection(
            name, args.work_dir, embedder, seed_cache=args.seed_cache
        )
        if not args.build_only:
            split = args.split if args.split in collection.splits else "test"
            info["split"] = split
            info.update(evaluate(collection, searcher, split))
            logging.info("%s: %s", name, info)
        report["collections"][name] = info
    report["load_average_at_end"] = load_average()
    report["settings"] = {
        k: v for k, v in Settings().model_dump().items() if k in {"fusion", "candidates", "match_threshold"}
    }
    if not args.build_only:
        write_results(
            args.out, report, {"nDCG@10 and Recall@100, all candidates vs matching only": _table(report)}
        )


def _table(report: dict[str, Any]) -> str:
    lines = [
        "| collection | queries | nDCG@10 all candidates | nDCG@10 matching only | R@100 all | R@100 matching "
        "| queries < 10 hits (matching) | no hits (matching) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in report["collections"].items():
        a, m = r["all candidates"], r["matching only"]
        lines.append(
            f"| {name} | {r['queries']} | {a['ndcg@10']:.4f} | {m['ndcg@10']:.4f} | {a['recall@100']:.4f} "
            f"| {m['recall@100']:.4f} | {m['queries_under_10_hits']} | {m['queries_without_hits']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
