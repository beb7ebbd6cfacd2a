"""Scale: the index at 100k and 1M chunks: build time, memory per chunk, index size, search latency, recall of
the approximate dense index against exact search.

    python benchmarks/scale.py [--sizes 100000,1000000] [--queries 200] [--force-hnsw-at 100000]
                               [--out benchmarks/results/scale.json]

Text: every UN INFO theme export (55 xlsx) and every UN INFO API country file (127 JSON) read by the product's
readers (``collect_corpus``) and chunked by the product (about 120k distinct real chunks). Above that, each
extra chunk is a generated variant of a real document (``doc_id~N``, its passages with one word dropped and two
neighbouring words swapped per sentence), so vocabulary and lengths stay real.

Vectors: embedding a million chunks with all-MiniLM-L6-v2 on two cores would take most of a day, so the dense
vectors here come from the product's ``static`` backend (token vectors distilled locally from the same
MiniLM, 256 dimensions) rotated into 384 dimensions by a fixed random orthogonal matrix: cosines are exactly
the static model's, and memory and search cost are those of 384-dimensional MiniLM vectors. Queries are 8-word
openings of random real chunks (distinct), embedded the same way.

Per size, in this process: build the dense index (type chosen by ``Settings.flat_index_max``: exact up to it,
HNSW over float16 vectors above), BM25, and save through ``store.save`` (index size on disk). Then, in a fresh
subprocess: resident memory before and after ``store.load`` + ``Searcher`` (per chunk), hybrid search p50/p95
at k=10 (the whole product path except the query embedding: the static query vector costs ~0.1 ms; add the
query-embedding time of the chosen backend from benchmarks/scifact.py), dense-only p50/p95, and the dense top-10
ids, compared here with exact inner-product search (numpy) for recall@10.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, environment, load_average, markdown_table, percentiles, rss_bytes  # noqa: E402
from insight_search import store  # noqa: E402
from insight_search.chunking import chunk_document  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.dense import DenseIndex  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.lexical import LexicalIndex  # noqa: E402
from insight_search.manifest import Manifest  # noqa: E402
from insight_search.models import Chunk, Document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CACHE = RESULTS / "cache"
MODEL_CACHE = CACHE / "models"
DIM = 384
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def real_documents() -> list[Document]:
    """All UN INFO xlsx and JSON documents, read once by the product and kept in a pickle."""
    cached = CACHE / "scale_documents.pkl"
    if cached.exists():
        with cached.open("rb") as f:
            docs: list[Document] = pickle.load(f)
        return docs
    from insight_search.indexer import collect_corpus

    paths = sorted((SHARED / "uninfo-jwp").glob("*/*.xlsx")) + sorted((SHARED / "uninfo-api").glob("*.json"))
    if not paths:
        sys.exit(f"no UN INFO data under {SHARED}")
    t = time.perf_counter()
    corpus = collect_corpus(paths)
    docs = list(corpus.documents.values())
    print(f"read {len(paths)} files, {len(docs)} documents in {time.perf_counter() - t:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    with cached.open("wb") as f:
        pickle.dump(docs, f)
    return docs


def variant(doc: Document, n: int, rng: random.Random) -> Document:
    def mutate(text: str) -> str:
        out = []
        for sentence in _SENTENCE.split(text):
            words = sentence.split(" ")
            if len(words) > 3:
                words.pop(rng.randrange(len(words)))
                j = rng.randrange(len(words) - 1)
                words[j], words[j + 1] = words[j + 1], words[j]
            out.append(" ".join(words))
        return " ".join(out)

    passages = tuple(dataclasses.replace(p, text=mutate(p.text)) for p in doc.passages)
    return dataclasses.replace(doc, doc_id=f"{doc.doc_id}~{n}", passages=passages, funding=())


def chunks_for(size: int, docs: list[Document], chunk_words: int) -> tuple[list[Chunk], dict[str, Document]]:
    rng = random.Random(0)
    order = docs[:]
    rng.shuffle(order)
    chunks: list[Chunk] = []
    kept: dict[str, Document] = {}
    n = 0
    while len(chunks) < size:
        for doc in order:
            d = doc if n == 0 else variant(doc, n, rng)
            new = chunk_document(d, chunk_words)
            if not new:
                continue
            kept[d.doc_id] = d
            chunks.extend(new)
            if len(chunks) >= size:
                break
        n += 1
    chunks = chunks[:size]
    used = {c.doc_id for c in chunks}
    return chunks, {k: v for k, v in kept.items() if k in used}


class RotatedStatic:
    """The static backend's vectors rotated into ``DIM`` dimensions (cosines unchanged)."""

    def __init__(self) -> None:
        self.inner = make_embedder(Settings(embedding_backend="static", model_cache_dir=MODEL_CACHE))
        self.inner.embed_batch(["warm up"])
        q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((DIM, DIM)))
        self.rotation = np.ascontiguousarray(q[: self.inner.dimension].astype(np.float32))
        self.model_id = f"{self.inner.model_id}:rotated-{DIM}"
        self.dimension = DIM
        self.backend = "static-rotated"

    def limit_threads(self, threads: int) -> None:
        self.inner.limit_threads(threads)

    def embed_batch(self, texts: Any) -> np.ndarray:
        return np.ascontiguousarray(self.inner.embed_batch(texts) @ self.rotation)


def build(size: int, docs: list[Document], work: Path, flat_max: int, queries: list[str]) -> dict[str, Any]:
    settings = Settings(flat_index_max=flat_max)
    t = time.perf_counter()
    chunks, documents = chunks_for(size, docs, settings.chunk_words)
    chunk_s = time.perf_counter() - t
    texts = [c.text for c in chunks]
    embedder = RotatedStatic()
    load = load_average()
    t = time.perf_counter()
    vectors = np.vstack([embedder.embed_batch(texts[i : i + 20_000]) for i in range(0, len(texts), 20_000)])
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    dense = DenseIndex.build(vectors, flat_max=flat_max)
    dense_s = time.perf_counter() - t
    t = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    lexical_s = time.perf_counter() - t
    manifest = {
        "model_id": embedder.model_id,
        "embedding_backend": embedder.backend,
        "dimension": DIM,
        "dense_index": dense.kind,
        "dense_storage": dense.storage,
        "counts": {"documents": len(documents), "chunks": len(chunks)},
        "chunk_words": settings.chunk_words,
    }
    index_dir = work / f"index-{size}-{dense.kind}"
    t = time.perf_counter()
    data = store.IndexData(Manifest.from_dict(manifest), chunks, documents, [], dense, lexical)
    version = store.save(index_dir, data)
    save_s = time.perf_counter() - t
    sizes = {
        p.name: sum(f.stat().st_size for f in p.rglob("*")) if p.is_dir() else p.stat().st_size
        for p in version.iterdir()
    }
    qv = embedder.embed_batch(queries)
    exact_scores = qv @ vectors.T
    kth = -np.partition(-exact_scores, 9, axis=1)[:, 9]  # the 10th best exact score of each query
    info = {
        "size": size,
        "documents": len(documents),
        "real_chunks": sum(1 for c in chunks if "~" not in c.doc_id),
        "dense_index": f"{dense.kind} ({dense.storage})",
        "chunking_s": round(chunk_s, 1),
        "static_embedding_s": round(embed_s, 1),
        "dense_build_s": round(dense_s, 1),
        "bm25_build_s": round(lexical_s, 1),
        "save_s": round(save_s, 1),
        "build_s_without_embedding": round(dense_s + lexical_s + save_s, 1),
        "index_bytes": sum(sizes.values()),
        "index_bytes_by_file": sizes,
        "load_average_at_start": load,
    }
    del dense, lexical, vectors, chunks
    probe = subprocess.run(
        [sys.executable, __file__, "--probe", str(index_dir), "--queries-file", str(work / "queries.json")],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(probe.stdout.strip().splitlines()[-1])

    def recall(top10: list[list[int]]) -> float:
        # Duplicate texts give equal vectors: a hit counts when its exact score reaches the 10th best one.
        hits = [
            float(np.sum(exact_scores[q, ids] >= kth[q] - 1e-4)) / 10 for q, ids in enumerate(top10) if ids
        ]
        return round(float(np.mean(hits)), 4)

    info.update({k: v for k, v in measured.items() if k not in ("dense_top10", "ef_sweep")})
    info["recall@10_vs_exact"] = recall(measured["dense_top10"])
    info["ef_sweep"] = [
        {"efSearch": e["efSearch"], "recall@10": recall(e["top10"]), **e["latency"]}
        for e in measured["ef_sweep"]
    ]
    info["bytes_per_chunk_resident"] = round(info["rss_delta_bytes"] / size)
    info["index_bytes_per_chunk"] = round(info["index_bytes"] / size)
    print(json.dumps(info), flush=True)
    return info


def probe(index_dir: Path, queries_file: Path) -> None:
    """In a fresh process: memory of the loaded index, search latency, dense top-10 per query."""
    from insight_search.caching import cached_sentence_terms
    from insight_search.models import Query
    from insight_search.search import Searcher

    queries = json.loads(queries_file.read_text())
    embedder = RotatedStatic()
    before = rss_bytes()
    t = time.perf_counter()
    data = store.load(index_dir)
    searcher = Searcher(data, embedder, Settings(), sentence_terms=cached_sentence_terms())  # no vector cache
    searcher.facets([0])  # builds the facet tables
    _ = searcher.document_ordinals
    load_s = time.perf_counter() - t
    after = rss_bytes()
    vectors = embedder.embed_batch(queries)
    for q in queries[:10]:  # warm-up
        searcher.search(Query(text=q + " warm", k=10))
    hybrid, dense_ms, top10 = [], [], []
    load = load_average()
    for q, v in zip(queries, vectors, strict=True):
        t = time.perf_counter()
        searcher.search(Query(text=q, k=10))
        hybrid.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        row = data.dense.search(v[None, :], 10)[0]
        dense_ms.append((time.perf_counter() - t) * 1000)
        top10.append([i for i, _ in row])
    sweep = []
    if data.dense.kind == "hnsw":
        import faiss

        hnsw: Any = data.dense.index
        default_ef = hnsw.hnsw.efSearch
        faiss.omp_set_num_threads(1)
        for ef in (256, 512, 1024, 2048):
            hnsw.hnsw.efSearch = ef
            ms, tops = [], []
            for v in vectors:
                t = time.perf_counter()
                _, ids = hnsw.search(v[None, :], 10)
                ms.append((time.perf_counter() - t) * 1000)
                tops.append([int(i) for i in ids[0] if i >= 0])
            sweep.append({"efSearch": ef, "top10": tops, "latency": percentiles(ms)})
        hnsw.hnsw.efSearch = default_ef
    lexical_bytes = sum(int(a.nbytes) for a in data.lexical.retriever.scores.values() if hasattr(a, "nbytes"))
    out = {
        "ef_sweep": sweep,
        "dense_index_bytes_estimate": sum(
            f.stat().st_size
            for f in index_dir_version(index_dir).iterdir()
            if f.name in ("dense.faiss", "vectors.f32")
        ),
        "bm25_arrays_bytes": lexical_bytes,
        "load_s": round(load_s, 1),
        "rss_before_load_bytes": before,
        "rss_delta_bytes": after - before,
        "dense_vectors_bytes": int(data.dense.vectors.nbytes),
        "hybrid_search": percentiles(hybrid),
        "dense_search": percentiles(dense_ms),
        "search_load_average": load,
        "dense_top10": top10,
    }
    print(json.dumps(out))


def index_dir_version(index_dir: Path) -> Path:
    version = store.current_version(index_dir)
    if version is None:
        raise RuntimeError(f"no index in {index_dir}")
    return version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--force-hnsw-at", default="100000", help="sizes also built with HNSW for comparison")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe(args.probe, args.queries_file)
        return

    docs = real_documents()
    real = [c for d in docs for c in chunk_document(d, Settings().chunk_words)]
    rng = random.Random(1)
    openings = list(dict.fromkeys(" ".join(c.text.split()[:8]) for c in rng.sample(real, 4 * args.queries)))
    queries = [q for q in openings if len(q.split()) >= 4][: args.queries]
    print(f"{len(docs)} real documents, {len(real)} real chunks ({len({c.text for c in real})} distinct)")
    rows: list[dict[str, Any]] = []
    flat_max = Settings().flat_index_max
    forced = {int(s) for s in args.force_hnsw_at.split(",") if s.strip()}
    with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
        work = Path(tmp)
        (work / "queries.json").write_text(json.dumps(queries))
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(build(size, docs, work, flat_max, queries))
            if size in forced and size <= flat_max:
                rows.append(build(size, docs, work, 0, queries))
            for d in work.glob("index-*"):
                import shutil

                shutil.rmtree(d)
    table = [
        {
            "chunks": r["size"],
            "real chunks": r["real_chunks"],
            "dense index": r["dense_index"],
            "build s (no embedding)": r["build_s_without_embedding"],
            "dense build s": r["dense_build_s"],
            "static embed s": r["static_embedding_s"],
            "index MB": round(r["index_bytes"] / 2**20, 1),
            "resident B/chunk": r["bytes_per_chunk_resident"],
            "hybrid p50/p95 ms": f"{r['hybrid_search']['p50_ms']}/{r['hybrid_search']['p95_ms']}",
            "dense p50/p95 ms": f"{r['dense_search']['p50_ms']}/{r['dense_search']['p95_ms']}",
            "recall@10": r["recall@10_vs_exact"],
            "dense/BM25/rest B/chunk": "/".join(
                str(round(x / r["size"]))
                for x in (
                    r["dense_index_bytes_estimate"],
                    r["bm25_arrays_bytes"],
                    r["rss_delta_bytes"] - r["dense_index_bytes_estimate"] - r["bm25_arrays_bytes"],
                )
            ),
            "load": r["search_load_average"],
        }
        for r in rows
    ]
    payload = {
        "benchmark": "scale",
        "real_documents": len(docs),
        "real_chunks": len(real),
        "queries": len(queries),
        "rows": rows,
        "environment": environment(),
    }
    from bench_common import write_results

    sweep = [{"chunks": r["size"], **e} for r in rows for e in r.get("ef_sweep", [])]
    write_results(
        args.out, payload, {"Per size": markdown_table(table), "HNSW efSearch sweep": markdown_table(sweep)}
    )
    print(markdown_table(table))


if __name__ == "__main__":
    main()
