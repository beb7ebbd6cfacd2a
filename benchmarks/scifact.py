"""SciFact retrieval: the product (dense, BM25, hybrid; per embedding backend) and txtai's hybrid index with the
same local model, in one invocation, on the same claims.

    python benchmarks/scifact.py [--split test] [--backends torch,onnx-int8,static] [--no-txtai] [--no-http]
                                 [--warm-cache torch] [--latency-queries 300] [--out benchmarks/results/scifact.json]
                                 [--work-dir DIR]

The abstracts are written as JSONL (id, title, text) and indexed THROUGH THE PRODUCT: ``build_index`` over
that file (the JSONL reader, chunking, the embedding backend, FAISS + BM25), then searched with the product's
``Searcher`` with ``group_by_document=True`` (a document scores the max over its chunks). Quality: nDCG@10 and
Recall@100 over the claims; dense-only and BM25-only are the same index searched with the other list's fusion
weight at 0. Build time is a cold build (fresh embedding cache) except for the backends named by
``--warm-cache`` (their vectors come from earlier runs, so their build time is no embedding speed).

Latency: every query text is distinct and each timed pass starts with a fresh ``Searcher`` (empty query-vector
and highlight caches); a few train claims warm the model up first. In-process: ``Searcher.search`` at k=10.
HTTP: the app in a uvicorn subprocess on 127.0.0.1 (rate limit off), ``GET /search?q=..&k=10`` with one
keep-alive client. txtai: ``Embeddings(path=<bundled model>, method="sentence-transformers", hybrid=True)``
(256-token window, the model's own), one document per abstract (title + text), ``search(q, 10)``, on an exact
FAISS index (``IDMap,Flat``, as ours: txtai's default above 5,000 rows is an IVF index probing 1/16 of its
cells, which cost its dense side 0.067 nDCG@10 on 5,183 abstract vectors; issue 14). The product and txtai are timed query by query
in alternation, so drift on this shared machine hits both alike, each on the product's query thread count
(torch and FAISS too). Load average is recorded with every timing. The comparison on the same chunks, the
same vectors and through HTTP for both: ``benchmarks/txtai_side_by_side.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scifact_data as sd  # noqa: E402
from bench_common import RESULTS, environment, load_average, markdown_table, percentiles, write_results  # noqa: E402
from insight_search.caching import CachingEmbedder, cached_sentence_terms  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import Embedder, make_embedder, resolve_model_path  # noqa: E402
from insight_search.indexer import CACHE_FILE, build_index  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.search import Searcher, open_searcher  # noqa: E402

WARM_CACHE = RESULTS / "cache" / "embedding-cache.sqlite"
MODEL_CACHE = RESULTS / "cache" / "models"
WARMUP = 20


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t) * 1000.0


def doc_runs(searcher: Searcher, claims: Sequence[sd.Claim], k: int = 100) -> dict[str, list[str]]:
    queries = [Query(text=c.text, k=k, group_by_document=True) for c in claims]
    results = searcher.search_many(queries)
    return {c.claim_id: [h.chunk.doc_id for h in r.hits] for c, r in zip(claims, results, strict=True)}


def quality(searcher: Searcher, claims: Sequence[sd.Claim]) -> dict[str, dict[str, float]]:
    s = searcher.settings
    out = {}
    for mode, update in (
        ("dense", {"lexical_weight": 0.0}),
        ("bm25", {"dense_weight": 0.0}),
        ("hybrid", {}),
    ):
        view = Searcher(
            searcher.data,
            searcher.embedder,
            s.model_copy(update=update),
            sentence_terms=searcher.sentence_terms,
        )
        out[mode] = {k: round(v, 4) for k, v in sd.evaluate(doc_runs(view, claims), claims).items()}
    return out


def product_index(
    backend: str, jsonl: Path, work: Path, warm: bool
) -> tuple[Settings, Embedder, dict[str, Any]]:
    settings = Settings(
        index_dir=work / f"index-{backend}", embedding_backend=backend, model_cache_dir=MODEL_CACHE
    )
    shutil.rmtree(settings.index_dir, ignore_errors=True)  # an index left by an earlier --work-dir run
    embedder = make_embedder(settings)
    _, load_ms = timed(
        lambda: embedder.embed_batch(["warm up the model"])
    )  # loads (and exports at first use)
    if warm and WARM_CACHE.exists():
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(WARM_CACHE, settings.index_dir / CACHE_FILE)
    load = load_average()
    report = build_index([jsonl], settings, embedder)
    info = {
        "backend": backend,
        "model_id": embedder.model_id,
        "model_load_s": round(load_ms / 1000, 2),
        "build_s": round(report.seconds, 1),
        "chunks": report.chunks,
        "embedded": report.embedded,
        "chunks_per_s": round(report.embedded / report.seconds, 1) if report.embedded else None,
        "cache": "warm" if warm else "cold",
        "load_average_at_start": load,
        "load_average_at_end": load_average(),
    }
    if not warm:  # keep what was embedded for later warm runs
        _merge_cache(settings.index_dir / CACHE_FILE)
    return settings, embedder, info


def _merge_cache(source: Path) -> None:
    import sqlite3

    WARM_CACHE.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(WARM_CACHE))
    db.execute(
        "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key BLOB NOT NULL, "
        "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))"
    )
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    db.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM src.embeddings")
    db.commit()
    db.close()


# ---------------------------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
import sys, uvicorn
from insight_search.api.app import create_app
from insight_search.api.guard import ApiLimits
from insight_search.config import Settings
app = create_app(Settings(), limits=ApiLimits(rate_per_minute=0, burst=1_000_000))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


@contextlib.contextmanager
def http_server(settings: Settings) -> Iterator[str]:
    port = free_port()
    env = dict(
        os.environ,
        INSIGHT_SEARCH_INDEX_DIR=str(settings.index_dir),
        INSIGHT_SEARCH_EMBEDDING_BACKEND=settings.embedding_backend,
        INSIGHT_SEARCH_MODEL_CACHE_DIR=str(settings.model_cache_dir),
    )
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.time() + 300
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.5)
        else:
            raise RuntimeError("the server did not become ready in 300 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---------------------------------------------------------------------------------------------- txtai


TXTAI_SAVED = RESULTS / "cache" / "txtai-scifact"


def txtai_index(corpus: Sequence[sd.Abstract], reuse: bool) -> tuple[Any, dict[str, Any]]:
    """txtai's hybrid index of the abstracts: built (and saved for ``--reuse-txtai``) or loaded."""
    from txtai import Embeddings

    path = str(resolve_model_path("default"))
    embeddings = Embeddings(
        path=path,
        method="sentence-transformers",
        hybrid=True,
        content=False,
        faiss={"components": "IDMap,Flat"},
    )
    if reuse and TXTAI_SAVED.exists():
        embeddings.load(str(TXTAI_SAVED))
    window = (
        embeddings.model.model.max_seq_length if hasattr(embeddings, "model") and embeddings.model else None
    )
    if reuse and TXTAI_SAVED.exists():
        return embeddings, {"build_s": None, "docs_per_s": None, "window_tokens": window, "reused": True}
    load = load_average()
    t = time.perf_counter()
    embeddings.index([(a.doc_id, f"{a.title} {a.text}", None) for a in corpus])
    seconds = time.perf_counter() - t
    info = {
        "build_s": round(seconds, 1),
        "docs_per_s": round(len(corpus) / seconds, 1),
        "window_tokens": window,
        "load_average_at_start": load,
        "load_average_at_end": load_average(),
    }
    embeddings.save(str(TXTAI_SAVED))
    return embeddings, info


def txtai_quality(
    embeddings: Any, claims: Sequence[sd.Claim], weights: float | None = None
) -> dict[str, float]:
    """``weights``: txtai's hybrid weight of the dense side (None: its default, 0.5); 1.0 dense, 0.0 BM25."""
    results = embeddings.batchsearch([c.text for c in claims], 100, weights=weights)
    runs = {c.claim_id: [str(i) for i, _ in r] for c, r in zip(claims, results, strict=True)}
    return {k: round(v, 4) for k, v in sd.evaluate(runs, claims).items()}


# ---------------------------------------------------------------------------------------------- main


def latency_round(
    label: str,
    product: Searcher,
    texts: Sequence[str],
    warmup: Sequence[str],
    txtai: Any | None,
    grouped: bool,
) -> dict[str, Any]:
    """Product search and txtai search at k=10, alternating query by query; query embedding alone too."""
    embed = product.embedder
    for w in warmup:
        product.search(Query(text=w, k=10, group_by_document=grouped))
        if txtai is not None:
            txtai.search(w, 10)
    ours, theirs, embed_ms = [], [], []
    load = load_average()
    for text in texts:
        ours.append(timed(lambda t=text: product.search(Query(text=t, k=10, group_by_document=grouped)))[1])
        if txtai is not None:
            theirs.append(timed(lambda t=text: txtai.search(t, 10))[1])
        embed_ms.append(timed(lambda t=text: embed.embed_batch([t + " "]))[1])  # not in the LRU cache
    out: dict[str, Any] = {
        "label": label,
        "product_search": percentiles(ours),
        "query_embedding": percentiles(embed_ms),
        "load_average_at_start": load,
        "load_average_at_end": load_average(),
    }
    if txtai is not None:
        out["txtai_search"] = percentiles(theirs)
    return out


def http_latency(settings: Settings, texts: Sequence[str], warmup: Sequence[str]) -> dict[str, Any]:
    import httpx

    with http_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        for w in warmup:
            client.get("/search", params={"q": w, "k": 10}).raise_for_status()
        load = load_average()
        ms = []
        for text in texts:
            response, elapsed = timed(lambda t=text: client.get("/search", params={"q": t, "k": 10}))
            response.raise_for_status()
            ms.append(elapsed)
    return {
        "http_search": percentiles(ms),
        "load_average_at_start": load,
        "load_average_at_end": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["test", "train"])
    parser.add_argument("--backends", default="torch,onnx-int8,static")
    parser.add_argument(
        "--latency-backend", default=None, help="backend timed against txtai (default: the first)"
    )
    parser.add_argument("--no-txtai", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument(
        "--reuse-txtai", action="store_true", help="load the txtai index saved by an earlier run"
    )
    parser.add_argument(
        "--warm-cache",
        default="",
        help="backends (comma list) that reuse earlier embeddings: their build time is then not cold",
    )
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS / "scifact.json")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep the JSONL and the indexes here (e.g. for http_load.py); default: a temporary folder",
    )
    args = parser.parse_args()
    if not sd.SCIFACT_ZIP.exists():
        sys.exit(f"{sd.SCIFACT_ZIP} is absent: the shared data folder sits beside the repository")

    corpus = sd.load_corpus()
    claims = sd.load_claims(args.split)
    train = sd.load_claims("train")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    latency_backend = args.latency_backend or backends[0]
    texts = [c.text for c in claims][: args.latency_queries]
    warm_texts = [c.text for c in train][:WARMUP]
    payload: dict[str, Any] = {
        "benchmark": "scifact",
        "split": args.split,
        "claims": len(claims),
        "documents": len(corpus),
        "settings": Settings().model_dump(mode="json", include=_TUNED),
        "product": {},
    }
    quality_rows: list[dict[str, Any]] = []
    build_rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        if args.work_dir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scifact-")))
        else:
            work = args.work_dir
            work.mkdir(parents=True, exist_ok=True)
        jsonl = sd.write_jsonl(corpus, work / "scifact.jsonl")
        searchers: dict[str, Searcher] = {}
        for backend in backends:
            warm = backend in args.warm_cache.split(",")
            settings, embedder, info = product_index(backend, jsonl, work, warm)
            searcher = open_searcher(settings, embedder)
            q = quality(searcher, claims)
            payload["product"][backend] = {"index": info, "quality": q}
            searchers[backend] = searcher
            build_rows.append({"system": f"insight-search {backend}", **{k: info[k] for k in _BUILD_COLS}})
            for mode, m in q.items():
                quality_rows.append({"system": f"insight-search {backend}", "mode": mode, **m})
            print(backend, info, q, flush=True)

        txtai = None
        if not args.no_txtai:
            txtai, tinfo = txtai_index(corpus, args.reuse_txtai)
            tq = txtai_quality(txtai, claims)
            payload["txtai"] = {"index": tinfo, "quality": tq}
            quality_rows.append({"system": "txtai 256-token hybrid", "mode": "hybrid", **tq})
            for mode, w in (("dense", 1.0), ("bm25", 0.0)):
                part = txtai_quality(txtai, claims, w)
                payload["txtai"][f"quality_{mode}"] = part
                quality_rows.append({"system": "txtai 256-token hybrid", "mode": mode, **part})
            build_rows.append(
                {
                    "system": "txtai hybrid",
                    "build_s": tinfo["build_s"],
                    "chunks": len(corpus),
                    "chunks_per_s": tinfo["docs_per_s"],
                    "cache": "none",
                    "load_average_at_start": tinfo.get("load_average_at_start", ""),
                }
            )
            print("txtai", tinfo, tq, flush=True)

        latency_rows: list[dict[str, Any]] = []
        rounds = []
        _same_threads(Settings().query_threads)
        for attempt in (1, 2):  # the second round re-runs the comparison at the end
            for backend in dict.fromkeys([latency_backend, *backends]):
                base = searchers[backend]
                for grouped in (True, False):
                    # empty query-vector and highlight caches
                    inner = base.embedder
                    if isinstance(inner, CachingEmbedder):
                        inner = inner.inner
                    fresh = Searcher(
                        base.data,
                        CachingEmbedder(inner),
                        base.settings,
                        sentence_terms=cached_sentence_terms(),
                    )
                    with_txtai = txtai if backend == latency_backend and grouped else None
                    r = latency_round(
                        f"{backend} round {attempt}", fresh, texts, warm_texts, with_txtai, grouped
                    )
                    r.update(backend=backend, grouped=grouped, round=attempt)
                    rounds.append(r)
                    latency_rows.append(_latency_row(r, "in-process"))
                    if with_txtai is not None:
                        latency_rows.append(_latency_row(r, "txtai in-process"))
                    print(r, flush=True)
            if not args.no_http:
                h = http_latency(searchers[latency_backend].settings, texts, warm_texts)
                h.update(backend=latency_backend, round=attempt)
                rounds.append(h)
                latency_rows.append(
                    {
                        "system": f"insight-search {latency_backend}",
                        "where": "HTTP GET /search (chunks)",
                        "round": attempt,
                        **{k: h["http_search"][k] for k in ("p50_ms", "p95_ms", "mean_ms")},
                        "load": h["load_average_at_start"],
                    }
                )
                print(h, flush=True)
        payload["latency"] = rounds
    payload["environment"] = environment()
    tables = {
        f"Quality on SciFact {args.split} ({len(claims)} claims)": markdown_table(quality_rows),
        "Index build": markdown_table(build_rows),
        "Latency at k=10 (distinct queries, fresh query cache)": markdown_table(latency_rows),
    }
    write_results(args.out, payload, tables)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


_TUNED = {
    "embedding_backend",
    "chunk_words",
    "fusion",
    "rrf_k",
    "dense_weight",
    "lexical_weight",
    "candidates",
    "max_seq_length",
    "flat_index_max",
}
_BUILD_COLS = ("build_s", "chunks", "chunks_per_s", "cache", "load_average_at_start")


def _same_threads(threads: int) -> None:
    """txtai's torch and both FAISS indexes on the product's query thread count (issue 14: txtai had torch's
    default, all cores, against our one thread)."""
    import faiss
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
        faiss.omp_set_num_threads(threads)


def _latency_row(r: dict[str, Any], where: str) -> dict[str, Any]:
    key = "txtai_search" if where.startswith("txtai") else "product_search"
    system = "txtai hybrid" if where.startswith("txtai") else f"insight-search {r['backend']}"
    return {
        "system": system,
        "where": f"{where}, {'documents' if r['grouped'] else 'chunks'}"
        if key == "product_search"
        else where,
        "round": r["round"],
        **{k: r[key][k] for k in ("p50_ms", "p95_ms", "mean_ms")},
        "query_embed_p50_ms": r["query_embedding"]["p50_ms"] if key == "product_search" else "",
        "query_embed_p95_ms": r["query_embedding"]["p95_ms"] if key == "product_search" else "",
        "load": r["load_average_at_start"],
    }


if __name__ == "__main__":
    main()
