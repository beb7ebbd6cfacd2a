"""Tuning levers for retrieval quality, measured on the SciFact TRAIN claims (never the test claims).

    python benchmarks/scifact_levers.py [--split train] [--backend torch] [--out benchmarks/results/scifact_levers.json]

Documents go through the product's JSONL reader and chunker exactly as ``build_index`` does; chunk vectors
come from the product's embedder through its embedding cache (``benchmarks/results/cache/``), so a second
run embeds nothing. Every lever is then scored in memory at document level (a document's score in a list is
the max over its chunks, as ``group_by_document`` does), with the product's BM25 tokenizer and fusion code:

* dense: chunk text alone vs title + chunk text; whole-abstract vectors (title + text, cut at the window)
* BM25: chunk-level vs title + chunk; k1, b, method
* fusion: RRF k and weights vs convex (min-max) with a dense weight; candidate depth
* pseudo-relevance feedback: dense query moved toward the mean of its top documents (Rocchio)
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scifact_data as sd  # noqa: E402
from bench_common import environment, write_results  # noqa: E402
from insight_search.chunking import chunk_document  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import EmbeddingCache, embed_with_cache, make_embedder, text_key  # noqa: E402
from insight_search.fusion import convex, rrf, top  # noqa: E402
from insight_search.lexical import LexicalIndex  # noqa: E402
from insight_search.models import Chunk, Document  # noqa: E402
from insight_search.sources.jsonl import read_jsonl  # noqa: E402

CACHE = Path(__file__).resolve().parent / "results" / "cache" / "embedding-cache.sqlite"


def product_documents(corpus: Sequence[sd.Abstract]) -> list[Document]:
    with tempfile.TemporaryDirectory() as tmp:
        path = sd.write_jsonl(corpus, Path(tmp) / "scifact.jsonl")
        return list(read_jsonl(path))


class DocLevel:
    """Chunk scores -> document scores (max over each document's chunks)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        doc_ids = [c.doc_id for c in chunks]
        self.names = list(dict.fromkeys(doc_ids))
        index = {d: i for i, d in enumerate(self.names)}
        self.doc_of = np.array([index[d] for d in doc_ids], dtype=np.int64)
        order = np.argsort(self.doc_of, kind="stable")
        self.order = order
        self.starts = np.flatnonzero(np.r_[True, np.diff(self.doc_of[order]) != 0])

    def pool(self, scores: np.ndarray) -> np.ndarray:
        """(chunks,) or (queries, chunks) -> max per document."""
        return np.maximum.reduceat(scores[..., self.order], self.starts, axis=-1)


def ranked(scores: np.ndarray, depth: int, positive: bool = False) -> list[tuple[int, float]]:
    n = min(depth, len(scores))
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best if not positive or scores[i] > 0]


def evaluate_lists(
    lists: Sequence[Sequence[tuple[int, float]]], names: Sequence[str], claims: Sequence[sd.Claim]
) -> dict[str, float]:
    runs = {c.claim_id: [names[i] for i, _ in r] for c, r in zip(claims, lists, strict=True)}
    return {k: round(v, 4) for k, v in sd.evaluate(runs, claims).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "test"])
    parser.add_argument("--backend", default="torch", choices=["torch", "onnx", "onnx-int8", "static"])
    parser.add_argument("--chunk-words", type=int, default=120)
    parser.add_argument("--dense", default="chunk,title,title+chunk,abstract", help="dense variants to score")
    parser.add_argument(
        "--quick", action="store_true", help="defaults only: one BM25 setting, RRF k=60, convex 0.5"
    )
    parser.add_argument("--embed-missing", action="store_true", help="embed variants not in the cache yet")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = (
        args.out
        or Path(__file__).resolve().parent / "results" / f"scifact_levers_{args.split}_{args.backend}.json"
    )

    corpus = sd.load_corpus()
    claims = sd.load_claims(args.split)
    docs = product_documents(corpus)
    chunks = [c for d in docs for c in chunk_document(d, args.chunk_words)]
    pool = DocLevel(chunks)
    names = pool.names
    settings = Settings(embedding_backend=args.backend)
    embedder = make_embedder(settings)
    cache = EmbeddingCache(CACHE)
    started = time.perf_counter()
    variants = {
        "chunk": [c.text for c in chunks],
        "title+chunk": [f"{c.title}\n{c.text}" for c in chunks],
    }
    doc_texts = [f"{d.title}\n{' '.join(p.text for p in d.passages)}" for d in docs]
    titles = [d.title for d in docs]
    wanted = {
        "chunk": variants["chunk"],
        "title": titles,
        "title+chunk": variants["title+chunk"],
        "abstract": doc_texts,
    }
    vectors = {}
    for name, texts in wanted.items():
        if name not in args.dense.split(","):
            continue
        keys = list({text_key(t) for t in texts})
        have = len(cache.get_many(embedder.model_id, keys, embedder.dimension))
        if have < len(keys) and not args.embed_missing:
            print(f"skipping dense variant {name}: {len(keys) - have} of {len(keys)} texts not embedded yet")
            continue
        vectors[name] = embed_with_cache(embedder, texts, cache)[0]
    queries = embed_with_cache(embedder, [c.text for c in claims], cache)[0]
    cache.close()
    doc_vectors = vectors.pop("abstract", None)
    title_vectors = vectors.pop("title", None)
    print(
        f"{len(chunks)} chunks, {len(docs)} documents; vectors ready in {time.perf_counter() - started:.0f} s"
    )

    results: dict[str, dict[str, float]] = {}

    def record(name: str, lists: Sequence[Sequence[tuple[int, float]]]) -> None:
        results[name] = evaluate_lists(lists, names, claims)
        print(f"{name:55s} {results[name]}", flush=True)

    # ---------------------------------------------------------------- dense
    dense_scores: dict[str, np.ndarray] = {}
    for name, v in vectors.items():
        dense_scores[name] = pool.pool(queries @ v.T)
    if [d.doc_id for d in docs] != names:
        raise RuntimeError("documents and chunk pooling disagree on document order")
    if doc_vectors is not None:
        dense_scores["abstract"] = queries @ doc_vectors.T  # docs are in the same order as names
    if title_vectors is not None:
        title_scores = queries @ title_vectors.T
        dense_scores["title"] = title_scores
        for name in [k for k in dense_scores if k in vectors]:
            dense_scores[f"max({name}, title)"] = np.maximum(dense_scores[name], title_scores)
            for w in (0.2, 0.3):
                dense_scores[f"{name} + {w} title"] = dense_scores[name] + w * title_scores
    for name, s in dense_scores.items():
        record(f"dense {name}", [ranked(row, 1000) for row in s])

    # ---------------------------------------------------------------- BM25
    lexical_scores: dict[str, np.ndarray] = {}
    bm25_grid = [("lucene", 1.2, 0.75), ("lucene", 0.9, 0.4), ("lucene", 1.5, 0.75), ("lucene", 1.2, 0.9)]
    bm25_grid += [("lucene", 1.2, 0.5), ("robertson", 1.2, 0.75), ("bm25+", 1.2, 0.75), ("atire", 1.2, 0.75)]
    if args.quick:
        bm25_grid = bm25_grid[:1]
    for (method, k1, b), (text_name, texts) in itertools.product(bm25_grid, variants.items()):
        index = LexicalIndex.build(texts, k1=k1, b=b, method=method)
        chunk_scores = np.vstack([index.scores(c.text) for c in claims])
        key = f"bm25 {method} k1={k1} b={b} {text_name}"
        lexical_scores[key] = pool.pool(chunk_scores)
        record(key, [ranked(row, 1000, positive=True) for row in lexical_scores[key]])
    doc_index = LexicalIndex.build(doc_texts)
    key = "bm25 lucene k1=1.2 b=0.75 whole abstract"
    lexical_scores[key] = np.vstack([doc_index.scores(c.text) for c in claims])
    record(key, [ranked(row, 1000, positive=True) for row in lexical_scores[key]])

    best_dense = max((k for k in results if k.startswith("dense")), key=lambda k: results[k]["ndcg@10"])
    best_lex = max((k for k in results if k.startswith("bm25")), key=lambda k: results[k]["ndcg@10"])
    print(f"best dense: {best_dense}; best BM25: {best_lex}")

    # ---------------------------------------------------------------- fusion
    def fuse(
        dense: np.ndarray, lexical: np.ndarray, method: str, weight: float, k: int, depth: int
    ) -> list[list[tuple[int, float]]]:
        out = []
        for d_row, l_row in zip(dense, lexical, strict=True):
            lists = [ranked(d_row, depth), ranked(l_row, depth, positive=True)]
            if method == "rrf":
                fused = rrf(lists, [weight, 1.0], k=k)
            else:
                fused = convex(lists, [weight, 1.0 - weight])
            out.append(top(fused, 100))
        return out

    pairs = {
        "chunk / chunk (previous default)": ("dense chunk", "bm25 lucene k1=1.2 b=0.75 chunk"),
        "best dense / best bm25": (best_dense, best_lex),
        "title+chunk / title+chunk": ("dense title+chunk", "bm25 lucene k1=1.2 b=0.75 title+chunk"),
        "chunk / title+chunk (title in BM25 only)": ("dense chunk", "bm25 lucene k1=1.2 b=0.75 title+chunk"),
    }
    for label, (d_key, l_key) in pairs.items():
        if d_key.removeprefix("dense ") not in dense_scores:
            continue
        d = dense_scores[d_key.removeprefix("dense ")]
        lx = lexical_scores[l_key]
        for k in (5, 10, 30, 60) if not args.quick else (10, 60):
            for w in (0.7, 1.0, 1.5):
                record(f"rrf k={k} w_dense={w} depth=100 [{label}]", fuse(d, lx, "rrf", w, k, 100))
        for w in (0.3, 0.4, 0.5, 0.6, 0.7) if not args.quick else (0.5,):
            for depth in (100, 1000) if not args.quick else (100,):
                record(f"convex w_dense={w} depth={depth} [{label}]", fuse(d, lx, "convex", w, 60, depth))

    # ---------------------------------------------------------------- dense pseudo-relevance feedback
    d_key = max(vectors, key=lambda k: results[f"dense {k}"]["ndcg@10"])  # best single chunk variant
    if d_key:
        for n_fb, beta in ((3, 0.3), (3, 0.5), (5, 0.5)) if not args.quick else ():
            v = vectors[d_key]
            base = dense_scores[d_key]
            top_docs = np.argsort(-base, axis=1)[:, :n_fb]
            # feedback vector: mean of the best chunk vector of each top document
            fb = np.zeros_like(queries)
            chunk_scores = queries @ v.T
            for qi, docs_ in enumerate(top_docs):
                rows = [np.flatnonzero(pool.doc_of == j) for j in docs_]
                best_rows = [r[np.argmax(chunk_scores[qi, r])] for r in rows]
                fb[qi] = v[best_rows].mean(axis=0)
            q2 = queries + beta * fb
            q2 /= np.linalg.norm(q2, axis=1, keepdims=True)
            prf = pool.pool(q2 @ v.T)
            record(f"dense PRF n={n_fb} beta={beta} [{d_key}]", [ranked(row, 1000) for row in prf])
            for w in (0.4, 0.5, 0.6):
                record(
                    f"convex w_dense={w} depth=100 [PRF n={n_fb} beta={beta} / {best_lex}]",
                    fuse(prf, lexical_scores[best_lex], "convex", w, 60, 100),
                )

    write_results(
        out,
        {
            "benchmark": "scifact_levers",
            "split": args.split,
            "backend": args.backend,
            "chunk_words": args.chunk_words,
            "chunks": len(chunks),
            "environment": environment(),
            "command": " ".join(sys.argv),
            "results": results,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
