"""Issue 14, part 2: how much each retrieval lever moves each tuning part (SciFact train claims, NFCorpus dev,
ArguAna's held-back fifth; ``retrieval_compare.judged_queries``). MEDLINE and CACM are never used here.

    python benchmarks/retrieval_levers.py [--collections scifact,nfcorpus,arguana] [--work-dir /tmp/r14]
        [--chunking "chunk_words=120" --chunking "chunk_words=400,title_in_dense=true" ...]
        [--out benchmarks/results/retrieval_levers.json]

Each ``--chunking`` (index-time settings) is built once per collection (``retrieval_compare.product_index``:
the shared embedding cache, no sentence store); on each index every fusion setting of ``FUSIONS`` (search-time
settings) is run. The path is ``Searcher.search_many`` with ``Query(text, k=100)``: what ``GET /search``
runs (``Service.search``) without the HTTP layer, so the query vectors are embedded once per index and every
fusion setting ranks the same vectors. Documents are ranked by their first passage, as in
``retrieval_compare``; the final figures of a chosen setting come from ``retrieval_compare`` (the API).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_baselines as rb  # noqa: E402
import retrieval_compare as rc  # noqa: E402
import retrieval_data as rd  # noqa: E402
from bench_common import RESULTS, environment, load_average, write_results  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.search import open_searcher  # noqa: E402

FUSIONS: dict[str, dict[str, Any]] = {
    "convex 1:1, 100": {"fusion": "convex"},
    "convex 1:1, 200": {"fusion": "convex", "candidates": 200},
    "convex dense 1 : lexical 0.7": {"fusion": "convex", "lexical_weight": 0.7},
    "convex dense 0.7 : lexical 1": {"fusion": "convex", "dense_weight": 0.7},
    "rrf k=60": {"fusion": "rrf", "rrf_k": 60},
    "rrf k=10": {"fusion": "rrf", "rrf_k": 10},
    "rrf k=60, 200": {"fusion": "rrf", "rrf_k": 60, "candidates": 200},
    "convex 1:1, 300": {"fusion": "convex", "candidates": 300},
    "rrf k=60, 300": {"fusion": "rrf", "rrf_k": 60, "candidates": 300},
    "rrf k=30, 300": {"fusion": "rrf", "rrf_k": 30, "candidates": 300},
    "convex 1:1, 1000": {"fusion": "convex", "candidates": 1000},
    "rrf k=60, 1000": {"fusion": "rrf", "rrf_k": 60, "candidates": 1000},
}
DEFAULT_CHUNKINGS = (
    "chunk_words=400,title_in_dense=true",
    "chunk_words=120,title_in_dense=false",
    "chunk_words=400,title_in_dense=false",
)


def run_index(collection: rd.Collection, work: Path, build: dict[str, Any]) -> dict[str, Any]:
    judged = rc.judged_queries(collection, "tune")
    settings = Settings(**build)
    index_dir, info = rc.product_index(collection, work, settings)
    served = settings.model_copy(update={"index_dir": index_dir})
    embedder = rc.query_embedder(served, rc.cache_path(work, collection))
    searcher = open_searcher(served, embedder)
    out: dict[str, Any] = {"build": info, "chunks": len(searcher.chunks), "fusions": {}}
    drop = collection.ignore_identical_ids
    queries = [Query(text=t, k=rc.K) for _, t, _ in judged]
    vectors = embedder.embed_batch([q.text.strip() for q in queries])
    for name, fusion in FUSIONS.items():
        searcher.settings = Settings(**build, **fusion, index_dir=index_dir)
        run = {}
        for (qid, _, _), query, vector in zip(judged, queries, vectors, strict=True):
            rows = searcher.matching_candidates(query, vector).ids[: rc.K].tolist()
            docs = dict.fromkeys(searcher.chunks[i].doc_id for i in rows)
            run[qid] = [d for d in docs if not (drop and d == qid)]
        out["fusions"][name] = {**rc.score(run, judged), "load_average": load_average()}
        logging.info("%s %s %s: %s", collection.name, build, name, out["fusions"][name])
    return out


def baselines(collection: rd.Collection, work: Path) -> dict[str, Any]:
    """bm25s, MiniLM (whole documents) and RRF k=60 on the same tuning queries (``retrieval_baselines``)."""
    judged = rc.judged_queries(collection, "tune")
    queries = [(q, t) for q, t, _ in judged]
    cache = rc.cache_path(work, collection)
    embedder = rc.make_embedder(Settings())
    lexical = rb.bm25s_run(collection, queries)
    served = Settings().model_copy(update={"index_dir": work / collection.name / rc.index_tag(Settings())})
    dense = rb.dense_run(
        collection, queries, embedder, cache, query_embedder=rc.query_embedder(served, cache)
    )
    return {
        name: rc.score(run, judged)
        for name, run in (("bm25s", lexical), ("MiniLM", dense), ("RRF k=60", rb.rrf_run([lexical, dense])))
    }


def parse_build(text: str) -> dict[str, Any]:
    return rc.parse_overrides([p for p in text.split(",") if p])


def table(report: dict[str, Any]) -> str:
    names = list(report["collections"])
    head = "| chunking | fusion | " + " | ".join(f"{n} nDCG@10 | {n} R@100" for n in names) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(names))]
    for chunking in report["chunkings"]:
        for fusion in FUSIONS:
            cells = []
            for n in names:
                r = report["collections"][n].get(chunking, {}).get("fusions", {}).get(fusion)
                cells += [f"{r['ndcg@10']:.4f}", f"{r['recall@100']:.4f}"] if r else ["", ""]
            lines.append(f"| {chunking} | {fusion} | " + " | ".join(cells) + " |")
    for row in ("bm25s", "MiniLM", "RRF k=60"):
        cells = []
        for n in names:
            r = report.get("baselines", {}).get(n, {}).get(row)
            cells += [f"{r['ndcg@10']:.4f}", f"{r['recall@100']:.4f}"] if r else ["", ""]
        lines.append(f"| plain {row} | | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collections", default="scifact,nfcorpus,arguana")
    parser.add_argument("--work-dir", type=Path, default=rc.DEFAULT_WORK)
    parser.add_argument("--chunking", action="append", default=[])
    parser.add_argument(
        "--sample", type=int, metavar="DOCS", help="a sub-collection (retrieval_compare.sample)"
    )
    parser.add_argument("--sample-queries", default="100,150", metavar="TUNE,TEST")
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval_levers.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    chunkings = args.chunking or list(DEFAULT_CHUNKINGS)
    names = [n for n in args.collections.split(",") if n in rc.TUNE and n in rd.available()]
    report: dict[str, Any] = {"environment": environment(), "chunkings": chunkings, "collections": {}}
    for name in names:
        collection = rd.load(name)
        if args.sample:
            tune, test = (int(x) for x in args.sample_queries.split(","))
            collection = rc.sample(collection, args.sample, tune, test)
        name = collection.name
        report["collections"][name] = {}
        for chunking in chunkings:
            report["collections"][name][chunking] = run_index(
                collection, args.work_dir, parse_build(chunking)
            )
            write_results(args.out, report, {"nDCG@10 and R@100 on the tuning parts": table(report)})
        report["baselines"] = report.get("baselines", {})
        report["baselines"][name] = baselines(collection, args.work_dir)
        logging.info("%s baselines: %s", name, report["baselines"][name])
        write_results(args.out, report, {"nDCG@10 and R@100 on the tuning parts": table(report)})
    report["load_average_at_end"] = load_average()
    write_results(args.out, report, {"nDCG@10 and R@100 on the tuning parts": table(report)})


if __name__ == "__main__":
    main()
