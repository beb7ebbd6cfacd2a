"""No loss in English (issue 13): nDCG@10 of English collections with the multilingual lane and without.

    python benchmarks/multilingual_english.py [--collections scifact,medline,cacm] [--split test]
                                              [--from-dir /tmp/backend-bench] [--work-dir /tmp/insight-ml-en]
                                              [--out benchmarks/results/multilingual_english.json]

Each collection's English-only index (built by ``benchmarks/retrieval.py`` under ``--from-dir``, default
settings) is copied, never changed, and rebuilt with ``multilingual=True``: its embedding cache gives the
English vectors back, so only the lane is embedded. Summary sentences are left out of this build (they play
no part in a search). The judged queries of the split are then ranked twice over the same index and the same
query vectors: without the lane (what the English-only index gives: the lane changes nothing else) and with
it. The ranking is the searcher's matching candidates grouped by document (``Query(group_by_document=True)``,
as ``benchmarks/retrieval.py`` measures), without building highlights.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_data as rd  # noqa: E402
from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402
from insight_search import store  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.indexer import build_index  # noqa: E402
from insight_search.multilingual import make_multilingual_embedder  # noqa: E402
from insight_search.search import Searcher  # noqa: E402
from xquad import engine  # noqa: E402  (the ranking the XQuAD table uses)

K = 100


def rebuild(name: str, source: Path, work: Path) -> tuple[Settings, dict[str, Any]]:
    index = work / name / "index"
    settings = Settings(index_dir=index, multilingual=True)
    info: dict[str, Any] = {}
    if store.current_version(index) is None:
        shutil.rmtree(index, ignore_errors=True)
        shutil.copytree(source / name / "index", index)
        manifest = store.read_manifest(index)
        assert manifest is not None and manifest.corpus_paths
        import insight_search.indexer as indexer

        indexer.sentence_texts = lambda chunks: ([[] for _ in chunks], [])  # type: ignore[assignment]
        info["load_average_at_start"] = load_average()
        report = build_index([Path(p) for p in manifest.corpus_paths], settings, make_embedder(settings))
        info.update(
            build_s=round(report.seconds, 1),
            chunks=report.chunks,
            english_embedded=report.embedded,
            load_average_at_end=load_average(),
        )
    return settings, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collections", default="scifact,medline,cacm")
    parser.add_argument("--split", default="test")
    parser.add_argument("--from-dir", type=Path, default=Path("/tmp/backend-bench"))
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/insight-ml-en"))
    parser.add_argument("--out", type=Path, default=RESULTS / "multilingual_english.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results: dict[str, Any] = {}
    for name in args.collections.split(","):
        collection = rd.load(name)
        settings, info = rebuild(name, args.from_dir, args.work_dir)
        embedder = make_embedder(settings)
        embedder.limit_threads(1)
        lane = make_multilingual_embedder(settings)
        lane.limit_threads(1)
        data = store.load(settings.index_dir, expected_model_id=embedder.model_id)
        split = args.split if args.split in collection.splits else collection.splits[-1]
        judged = collection.judged(split)
        texts = [text for _, text, _ in judged]
        row: dict[str, Any] = {"split": split, "queries": len(judged), **info}
        for system, lane_arg in (("English only", False), ("with the lane", lane)):
            searcher = Searcher(data, embedder, settings, multilingual=lane_arg)
            t = time.perf_counter()
            runs = engine(searcher, texts)
            drop = collection.ignore_identical_ids
            scores = [
                rd.ndcg_at([d for d in run if not (drop and d == qid)], rel, 10)
                for (qid, _, rel), run in zip(judged, runs, strict=True)
            ]
            row[f"ndcg@10 {system}"] = round(statistics.fmean(scores), 4)
            row[f"seconds {system}"] = round(time.perf_counter() - t, 1)
        row["difference"] = round(row["ndcg@10 with the lane"] - row["ndcg@10 English only"], 4)
        row["load_average"] = load_average()
        results[name] = row
        logging.info("%s: %s", name, row)
        payload = {
            "results": results,
            "environment": environment(),
            "multilingual_weight": settings.multilingual_weight,
        }
        write_results(
            args.out,
            payload,
            {"nDCG@10": markdown_table([{"collection": k, **v} for k, v in results.items()])},
        )


if __name__ == "__main__":
    main()
