"""Issue 14, part 1: the product's default beside plain bm25s, plain MiniLM and plain RRF, per collection, one run.

    python benchmarks/retrieval_compare.py [--collections scifact,nfcorpus,arguana,medline,cacm]
        [--split test|tune] [--work-dir /tmp/r14] [--set chunk_words=400 --set fusion=rrf ...]
        [--docs] [--out benchmarks/results/retrieval_compare.json]

For each collection (``retrieval_data``), in one process, with the same model, backend and query threads:

- **default (API)**: the collection as JSONL, indexed by ``build_index`` with ``Settings()`` (plus any
  ``--set``); then the real app (``api.app.create_app``, its lifespan and routes) in-process through
  ``fastapi.testclient.TestClient``: ``GET /search?q=...&k=100`` for every judged query, exactly what a user
  gets (passages); a document is ranked where its first passage is (later passages of it are dropped), so a
  query scores at most 100 documents. A refused query (not 200) scores 0 and is counted.
- **bm25s**, **MiniLM** (whole document, exact inner product) and **RRF k=60** of the two:
  ``retrieval_baselines``.

Splits: ``test`` (ArguAna: all 1,406 queries) or ``tune`` (SciFact train claims, NFCorpus dev, ArguAna's fixed
held-back fifth: every fifth judged query by sorted id, as ``match_threshold.py``; MEDLINE and CACM have none).
ArguAna: a hit whose id is the query's is dropped before scoring (BEIR's ``ignore_identical_ids``).

Index builds go under ``--work-dir/<collection>/index-<chunking>``; each collection's embedding cache is
``--work-dir/<collection>/cache.sqlite`` (copied into a new index before its build, and back after), so texts
already embedded are not embedded again. The benchmark builds leave out the sentence store (the vectors of the
sentences summaries quote; search never reads it): a version without one is valid (``store``), and the build
is 5-10x faster without it. ``--docs`` writes the tables into docs/benchmarks.md, section "Issue 14".
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
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_baselines as rb  # noqa: E402
import retrieval_data as rd  # noqa: E402
from bench_common import RESULTS, environment, load_average, write_results  # noqa: E402
from insight_search import indexer, store  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402

DEFAULT_WORK = Path("/tmp/r14")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "## Issue 14: retrieval on five collections, side by side"
BEGIN, END = "<!-- retrieval_compare: begin -->", "<!-- retrieval_compare: end -->"
K = 100
TUNE = {"scifact": "train", "nfcorpus": "dev", "arguana": "tune"}  # the parts settings may be chosen on
BUILD_FIELDS = ("chunk_words", "chunk_chars", "title_in_dense", "title_in_lexical", "embedding_backend")


def judged_queries(collection: rd.Collection, split: str) -> list[tuple[str, str, dict[str, int]]]:
    """The judged queries of ``split``: "test", or "tune" (the collection's tuning part; empty without one)."""
    if split == "tune":
        part = TUNE.get(collection.name)
        if part is None:
            return []
        if part == "tune":  # ArguAna: every fifth judged query by sorted id, held back from the report
            return sorted(collection.judged("test"))[::5]
        return collection.judged(part)
    return collection.judged(split)


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs, read by Settings' own validation (so "true", "400", "rrf" mean what they say)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in Settings.model_fields:
            raise SystemExit(f"--set: unknown setting {key!r}")
        out[key] = None if value in ("", "none", "None") else value
    return out


def index_tag(settings: Settings) -> str:
    return "index-" + "-".join(f"{f}={getattr(settings, f)}" for f in BUILD_FIELDS).replace("_", "")


def product_index(collection: rd.Collection, work: Path, settings: Settings) -> tuple[Path, dict[str, Any]]:
    """The collection's index under ``settings``' chunking (built once; the collection's cache shared)."""
    base = work / collection.name
    index_dir = base / index_tag(settings)
    info: dict[str, Any] = {"index": str(index_dir)}
    if store.current_version(index_dir) is not None:
        return index_dir, info
    jsonl = collection.write_jsonl(base / "docs" / f"{collection.name}.jsonl")
    index_dir.mkdir(parents=True, exist_ok=True)
    shared, own = base / "cache.sqlite", index_dir / indexer.CACHE_FILE
    if shared.exists():
        shutil.copy(shared, own)
    load = load_average()
    # No sentence store (see the module's note): each chunk gets no quotable spans.
    with mock.patch.object(indexer, "sentence_texts", lambda chunks: ([[] for _ in chunks], [])):
        report = indexer.build_index(
            [jsonl], settings.model_copy(update={"index_dir": index_dir}), make_embedder(settings)
        )
    shutil.copy(own, shared)
    info.update(
        build_s=round(report.seconds, 1),
        chunks=report.chunks,
        embedded=report.embedded,
        load_average_at_start=load,
        load_average_at_end=load_average(),
    )
    logging.info("%s: built %s (%d chunks, %d embedded) in %.0f s", collection.name, index_dir.name,
                 report.chunks, report.embedded, report.seconds)
    return index_dir, info


def api_run(
    settings: Settings, queries: Sequence[tuple[str, str]], drop_self: bool
) -> tuple[rb.Run, dict[str, Any]]:
    """Every query through ``GET /search?q=...&k=100`` of the real app; documents in the order of their first
    passage. The server's request limits are its defaults; only the rate limit is off (one client sends
    thousands of queries) and the index watcher (nothing changes)."""
    from fastapi.testclient import TestClient

    from insight_search.api.app import create_app

    served = settings.model_copy(update={"rate_limit_per_minute": 0.0, "index_reload_seconds": 0.0})
    run: rb.Run = {}
    refused: dict[int, int] = {}
    passages: list[int] = []
    seconds: list[float] = []
    with TestClient(create_app(served), base_url="http://localhost") as client:
        for qid, text in queries:
            started = time.perf_counter()
            response = client.get("/search", params={"q": text, "k": K})
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200:
                refused[response.status_code] = refused.get(response.status_code, 0) + 1
                run[qid] = []
                continue
            docs = [hit["doc_id"] for hit in response.json()["results"]]
            passages.append(len(docs))
            ranked = [d for d in dict.fromkeys(docs) if not (drop_self and d == qid)]
            run[qid] = ranked
    seconds.sort()
    return run, {
        "refused": refused,
        "median_documents": statistics.median(len(r) for r in run.values()) if run else 0,
        "p50_ms": round(1000 * seconds[len(seconds) // 2], 1) if seconds else None,
    }


def score(run: rb.Run, judged: Sequence[tuple[str, str, dict[str, int]]]) -> dict[str, float]:
    return {
        "ndcg@10": round(statistics.fmean(rd.ndcg_at(run.get(q, []), rel, 10) for q, _, rel in judged), 4),
        "recall@100": round(statistics.fmean(rd.recall_at(run.get(q, []), rel, K) for q, _, rel in judged), 4),
    }


def compare(
    collection: rd.Collection, split: str, work: Path, overrides: dict[str, Any], baselines: bool
) -> dict[str, Any]:
    judged = judged_queries(collection, split)
    queries = [(q, t) for q, t, _ in judged]
    settings = Settings(**overrides)
    out: dict[str, Any] = {"split": split, "queries": len(judged), "documents": len(collection.documents)}
    index_dir, info = product_index(collection, work, settings)
    out["build"] = info
    drop = collection.ignore_identical_ids
    started = time.perf_counter()
    load = load_average()
    run, api = api_run(settings.model_copy(update={"index_dir": index_dir}), queries, drop)
    out["default (API)"] = {**score(run, judged), **api, "load_average": load}
    logging.info("%s: API %s in %.0f s", collection.name, out["default (API)"], time.perf_counter() - started)
    if baselines:
        embedder = make_embedder(Settings())  # documents on all cores, as an index build
        lexical = rb.bm25s_run(collection, queries)
        embedder.limit_threads(Settings().query_threads)  # queries on the server's thread count
        dense = rb.dense_run(collection, queries, embedder, work / collection.name / "cache.sqlite")
        for name, r in (("bm25s", lexical), ("MiniLM", dense), ("RRF k=60", rb.rrf_run([lexical, dense]))):
            out[name] = score(r, judged)
        logging.info("%s: %s", collection.name, {k: out[k] for k in ("bm25s", "MiniLM", "RRF k=60")})
    return out


ROWS = ("default (API)", "bm25s", "MiniLM", "RRF k=60")


def tables(report: dict[str, Any]) -> str:
    parts = []
    for name, r in report["collections"].items():
        lines = [
            f"**{name}** ({r['split']}: {r['queries']} queries, {r['documents']:,} documents; "
            f"load {r['default (API)']['load_average']})",
            "",
            "| ranking | nDCG@10 | recall@100 |",
            "|---|---|---|",
        ]
        for row in ROWS:
            if row in r:
                lines.append(f"| {row} | {r[row]['ndcg@10']:.4f} | {r[row]['recall@100']:.4f} |")
        refused = sum(r["default (API)"]["refused"].values())
        if refused:
            lines.append(f"\n{refused} queries refused by the API (scored 0): {r['default (API)']['refused']}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def write_docs(text: str, command: str) -> None:
    """Replace the generated block of the Issue 14 section (created at the end of the file if absent)."""
    doc = DOCS.read_text(encoding="utf-8")
    block = f"{BEGIN}\n`{command}`\n\n{text}{END}"
    if SECTION not in doc:
        doc = doc.rstrip("\n") + f"\n\n{SECTION}\n\n{block}\n"
    elif BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
    else:
        at = doc.index(SECTION) + len(SECTION)
        doc = doc[:at] + f"\n\n{block}\n" + doc[at:]
    DOCS.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collections", default=",".join(rd.NAMES))
    parser.add_argument("--split", choices=("test", "tune"), default="test")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a Settings override")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--docs", action="store_true", help="write the tables into docs/benchmarks.md")
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval_compare.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    overrides = parse_overrides(args.set)
    names = [n for n in args.collections.split(",") if n]
    missing = [n for n in names if n not in rd.available()]
    if missing:
        logging.warning("skipped (absent from ../shared/bench): %s", ", ".join(missing))
    report: dict[str, Any] = {
        "environment": environment(),
        "split": args.split,
        "overrides": overrides,
        "settings": {
            k: v
            for k, v in Settings(**overrides).model_dump(mode="json").items()
            if k in (*BUILD_FIELDS, "fusion", "rrf_k", "dense_weight", "lexical_weight", "candidates",
                     "match_threshold", "max_query_chars", "query_threads")
        },
        "collections": {},
    }
    for name in (n for n in names if n not in missing):
        collection = rd.load(name)
        if not judged_queries(collection, args.split):
            logging.info("%s: no %s part, skipped", name, args.split)
            continue
        report["collections"][name] = compare(collection, args.split, args.work_dir, overrides,
                                              not args.no_baselines)
        logging.info("%s done, load %s", name, load_average())
    report["load_average_at_end"] = load_average()
    text = tables(report)
    write_results(args.out, report, {"nDCG@10 and recall@100 per collection": text})
    if args.docs:
        write_docs(text, "python " + " ".join(["benchmarks/retrieval_compare.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
