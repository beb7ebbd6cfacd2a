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
``--work-dir/<collection>/cache.sqlite`` (copied into a new index before its build, its new entries merged back after; query vectors are kept
there too), so texts
already embedded are not embedded again. The benchmark builds leave out the sentence store (the vectors of the
sentences summaries quote; search never reads it): a version without one is valid (``store``), and the build
is 5-10x faster without it. ``--docs`` writes the tables into docs/benchmarks.md, section "Issue 14".
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import logging
import sqlite3
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
from insight_search.caching import CachingEmbedder  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import Embedder, make_embedder  # noqa: E402
from insight_search.search import index_embedder  # noqa: E402

DEFAULT_WORK = Path("/tmp/r14")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "## Issue 14: retrieval on five collections, side by side"
BEGIN, END = "<!-- retrieval_compare: begin -->", "<!-- retrieval_compare: end -->"
K = 100
Qrels = rd.Qrels
TUNE = {"scifact": "train", "nfcorpus": "dev", "arguana": "tune"}  # the parts settings may be chosen on
BUILD_FIELDS = ("chunk_words", "chunk_chars", "title_in_dense", "title_in_lexical", "embedding_backend")


def judged_queries(collection: rd.Collection, split: str) -> list[tuple[str, str, dict[str, int]]]:
    """The judged queries of ``split``: "test", or "tune" (the collection's tuning part; empty without one;
    a :func:`sample` has its own "tune" and "test")."""
    if split in collection.qrels:
        return collection.judged(split)
    if split == "tune":
        part = TUNE.get(collection.name)
        if part is None:
            return []
        if part == "tune":  # ArguAna: every fifth judged query by sorted id, held back from the report
            return sorted(collection.judged("test"))[::5]
        return collection.judged(part)
    return collection.judged(split)


def _order(key: str) -> bytes:
    """A fixed pseudo-random order of ids (no RNG: the same on every machine and Python)."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()


def sample(collection: rd.Collection, n_docs: int, tune: int, test: int) -> rd.Collection:
    """A sub-collection for a machine too slow to embed the whole one: at most ``tune`` judged queries of the
    tuning part and ``test`` of the test part (ArguAna: the test queries outside its tuning fifth), taken in a
    fixed pseudo-random order while their relevant documents fit in half of ``n_docs``; all their relevant
    documents; then other documents in the same fixed order up to ``n_docs`` (ArguAna: not the queries' own
    arguments, which are dropped from the hits anyway). Judgements are kept as they are (all of a chosen
    query's relevant documents are in). Where queries have over 5 relevant documents on average (NFCorpus:
    38), ``n_docs`` documents in the fixed order instead, each query's judgements cut to them (a query with
    none left is not taken). Named ``<name>-s<n_docs>``."""
    chosen: dict[str, Qrels] = {}
    keep: set[str] = set()
    tune_ids = {q for q, _, _ in judged_queries(collection, "tune")}
    pools = {}
    for split in ("tune", "test"):
        pool = judged_queries(collection, split)
        if split == "test" and collection.name == "arguana":
            pool = [j for j in pool if j[0] not in tune_ids]
        pools[split] = sorted(pool, key=lambda j: _order(j[0]))
    judged = [len(rel) for pool in pools.values() for _, _, rel in pool]
    if judged and sum(judged) / len(judged) > 5:
        # Many relevant documents a query (NFCorpus): documents first, in the fixed order; each query keeps
        # its judgements on them, and is kept if one is left.
        keep = {d.doc_id for d in sorted(collection.documents, key=lambda d: _order(d.doc_id))[:n_docs]}
        for split, cap in (("tune", tune), ("test", test)):
            cut = ((q, {d: g for d, g in rel.items() if d in keep}) for q, _, rel in pools[split])
            chosen[split] = dict(itertools.islice(((q, r) for q, r in cut if r), cap))
    else:
        for split, cap in (("tune", tune), ("test", test)):
            taken: Qrels = {}
            for qid, _, rel in pools[split]:
                if len(taken) == cap:
                    break
                if len(keep | set(rel)) <= n_docs // 2:
                    taken[qid] = rel
                    keep |= set(rel)
            chosen[split] = taken
    asked = set(chosen["tune"]) | set(chosen["test"])
    others = [d for d in collection.documents if d.doc_id not in keep and d.doc_id not in asked]
    others.sort(key=lambda d: _order(d.doc_id))
    keep |= {d.doc_id for d in others[: max(0, n_docs - len(keep))]}
    docs = [d for d in collection.documents if d.doc_id in keep]
    queries = {q: collection.queries[q] for q in asked}
    qrels = {"tune": chosen["tune"], "test": chosen["test"]} if chosen["tune"] else {"test": chosen["test"]}
    return rd.Collection(
        f"{collection.name}-s{n_docs}", docs, queries, qrels, collection.ignore_identical_ids
    )


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
    tag = "index-" + "-".join(f"{f}={getattr(settings, f)}" for f in BUILD_FIELDS).replace("_", "")
    if settings.multilingual:  # the multilingual lane (issue 13), on by default since the lane-scope change
        tag += f"-multilingual={settings.multilingual_passages}"
    return tag


def copy_cache(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite cache another process may be writing (the backup API)."""
    src, dst = sqlite3.connect(str(source), timeout=60), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def merge_cache(source: Path, target: Path) -> None:
    """Add the entries of cache ``source`` that ``target`` lacks."""
    db = sqlite3.connect(str(target), timeout=60)
    try:
        db.execute("ATTACH DATABASE ? AS other", (str(source),))
        with db:
            db.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM other.embeddings")
        db.execute("DETACH DATABASE other")
    finally:
        db.close()


def query_embedder(settings: Settings, cache_path: Path) -> CachingEmbedder:
    """The server's query embedder for ``settings.index_dir`` (``search.index_embedder``: the model and the
    backend its index was built with), its vectors kept in the collection's cache file across runs."""
    return CachingEmbedder(rb.CachedEmbedder(index_embedder(settings), cache_path), maxsize=200_000)


def cache_path(work: Path, collection: rd.Collection) -> Path:
    """The embedding cache of a collection, shared with its samples (``scifact-s800`` uses scifact's)."""
    return work / collection.name.split("-s")[0] / "cache.sqlite"


def product_index(collection: rd.Collection, work: Path, settings: Settings) -> tuple[Path, dict[str, Any]]:
    """The collection's index under ``settings``' chunking (built once; the collection's cache shared)."""
    base = work / collection.name
    index_dir = base / index_tag(settings)
    info: dict[str, Any] = {"index": str(index_dir)}
    if store.current_version(index_dir) is not None:
        return index_dir, info
    jsonl = collection.write_jsonl(base / "docs" / f"{collection.name}.jsonl")
    index_dir.mkdir(parents=True, exist_ok=True)
    shared, own = cache_path(work, collection), index_dir / indexer.CACHE_FILE
    if shared.exists():
        copy_cache(shared, own)
    load = load_average()
    # No sentence store (see the module's note): each chunk gets no quotable spans.
    with mock.patch.object(indexer, "sentence_texts", lambda chunks: ([[] for _ in chunks], [])):
        report = indexer.build_index(
            [jsonl], settings.model_copy(update={"index_dir": index_dir}), make_embedder(settings)
        )
    merge_cache(own, shared)
    info.update(
        build_s=round(report.seconds, 1),
        chunks=report.chunks,
        embedded=report.embedded,
        load_average_at_start=load,
        load_average_at_end=load_average(),
    )
    logging.info(
        "%s: built %s (%d chunks, %d embedded) in %.0f s",
        collection.name,
        index_dir.name,
        report.chunks,
        report.embedded,
        report.seconds,
    )
    return index_dir, info


def api_run(
    settings: Settings, queries: Sequence[tuple[str, str]], drop_self: bool, embedder: Embedder
) -> tuple[rb.Run, dict[str, Any]]:
    """Every query through ``GET /search?q=...&k=100`` of the real app; documents in the order of their first
    passage. The server's request limits are its defaults; only the rate limit is off (one client sends
    thousands of queries) and the index watcher (nothing changes). ``embedder``: the server's query embedder
    (:func:`query_embedder`; the app limits it to ``query_threads`` as ``serve`` does)."""
    from fastapi.testclient import TestClient

    from insight_search.api.app import create_app

    served = settings.model_copy(update={"rate_limit_per_minute": 0.0, "index_reload_seconds": 0.0})
    run: rb.Run = {}
    refused: dict[int, int] = {}
    passages: list[int] = []
    seconds: list[float] = []
    with TestClient(create_app(served, embedder=embedder), base_url="http://localhost") as client:
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
        "recall@100": round(
            statistics.fmean(rd.recall_at(run.get(q, []), rel, K) for q, _, rel in judged), 4
        ),
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
    served = settings.model_copy(update={"index_dir": index_dir})
    queries_by = query_embedder(served, cache_path(work, collection))
    run, api = api_run(served, queries, drop, queries_by)
    out["default (API)"] = {**score(run, judged), **api, "load_average": load}
    logging.info("%s: API %s in %.0f s", collection.name, out["default (API)"], time.perf_counter() - started)
    if baselines:
        embedder = make_embedder(Settings())  # documents on all cores, as an index build
        lexical = rb.bm25s_run(collection, queries)
        # queries: the server's embedder (its thread count; the vectors the API run embedded)
        dense = rb.dense_run(
            collection, queries, embedder, cache_path(work, collection), query_embedder=queries_by
        )
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
            lines.append(
                f"\n{refused} queries refused by the API (scored 0): {r['default (API)']['refused']}"
            )
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
    parser.add_argument(
        "--sample",
        default="",
        metavar="NAME=DOCS,...",
        help="sub-collections of this many documents (e.g. scifact=800,arguana=700; see sample())",
    )
    parser.add_argument(
        "--sample-queries",
        default="100,150",
        metavar="TUNE,TEST",
        help="at most this many tuning and test queries in a --sample",
    )
    parser.add_argument("--docs", action="store_true", help="write the tables into docs/benchmarks.md")
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval_compare.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    overrides = parse_overrides(args.set)
    samples = {k: int(v) for k, _, v in (p.partition("=") for p in args.sample.split(",") if p)}
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
            if k
            in (
                *BUILD_FIELDS,
                "fusion",
                "rrf_k",
                "dense_weight",
                "lexical_weight",
                "candidates",
                "match_threshold",
                "related",
                "max_query_chars",
                "query_threads",
            )
        },
        "collections": {},
    }
    for name in (n for n in names if n not in missing):
        collection = rd.load(name)
        if name in samples:
            tune, test = (int(x) for x in args.sample_queries.split(","))
            collection = sample(collection, samples[name], tune, test)
        if not judged_queries(collection, args.split):
            logging.info("%s: no %s part, skipped", name, args.split)
            continue
        report["collections"][collection.name] = compare(
            collection, args.split, args.work_dir, overrides, not args.no_baselines
        )
        logging.info("%s done, load %s", name, load_average())
    report["load_average_at_end"] = load_average()
    text = tables(report)
    write_results(args.out, report, {"nDCG@10 and recall@100 per collection": text})
    if args.docs:
        write_docs(text, "python " + " ".join(["benchmarks/retrieval_compare.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
