"""Indexing speed of the embedding backends on the chunks of the five gender exports (UN INFO xlsx).

    python benchmarks/embed_speed.py [--sample N] [--rounds 1] [--backends torch,onnx,onnx-int8,static] [--out benchmarks/results/embed_speed.json]

The exports are read and chunked by the product (``collect_corpus`` + ``chunk_document``). The baseline is
plain sentence-transformers: ``SentenceTransformer.encode`` in torch float32 over every chunk text in corpus
order (batch 32, 256-token window). The product's path is ``embed_with_cache`` with no cache (each distinct
text once, longest first, in the backend's batches) for each backend: torch, onnx (fp32), onnx-int8, static.
Speed is chunks of the corpus per second of embedding work (model loading and the one-off ONNX export or
static distillation are reported apart). ``--sample N`` takes a fixed random sample of N chunks (seed 0);
``--sample-distinct F`` keeps every chunk whose text is in a random share F of the distinct texts (duplicates
as frequent as in the whole corpus), so that the torch baseline fits on a busy 2-core machine. Backends are run in rounds, in rotated
order, and the load average is recorded with each timing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402
from insight_search.chunking import chunk_document  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import embed_with_cache, make_embedder, resolve_model_path  # noqa: E402
from insight_search.indexer import collect_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GENDER = sorted((ROOT.parent / "shared" / "data" / "uninfo-jwp").glob("*/gender.xlsx"))
MODEL_CACHE = RESULTS / "cache" / "models"
BACKENDS = ("torch", "onnx", "onnx-int8", "static")


def gender_chunk_texts(chunk_words: int) -> list[str]:
    corpus = collect_corpus(GENDER)
    return [c.text for d in corpus.documents.values() for c in chunk_document(d, chunk_words)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument(
        "--sample-distinct",
        type=float,
        default=0.0,
        help="share of distinct texts kept with all their chunks",
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--backends", default="torch,onnx-int8,static")
    parser.add_argument("--out", type=Path, default=RESULTS / "embed_speed.json")
    args = parser.parse_args()
    if len(GENDER) != 5:
        sys.exit("the five gender.xlsx exports are absent (../shared/data/uninfo-jwp/*/gender.xlsx)")

    settings = Settings(model_cache_dir=MODEL_CACHE)
    all_texts = gender_chunk_texts(settings.chunk_words)
    texts = all_texts
    if 0 < args.sample < len(all_texts):
        texts = random.Random(0).sample(all_texts, args.sample)
    if 0 < args.sample_distinct < 1:
        # Every chunk whose text is in a random share of the distinct texts: duplicates stay as common as in
        # the whole corpus, so de-duplication gains what it gains there.
        kept = set(
            random.Random(0).sample(sorted(set(all_texts)), round(args.sample_distinct * len(set(all_texts))))
        )
        texts = [t for t in all_texts if t in kept]
    distinct = len(set(texts))
    words = sum(len(t.split()) for t in texts)
    print(
        f"{len(all_texts)} chunks in the gender exports; timing {len(texts)} ({distinct} distinct, {words} words)"
    )

    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(resolve_model_path(settings.model)), device="cpu", local_files_only=True)
    plain.max_seq_length = settings.max_seq_length
    embedders: dict[str, Any] = {}
    load_s: dict[str, float] = {}
    for backend in args.backends.split(","):
        t = time.perf_counter()
        e = make_embedder(settings.model_copy(update={"embedding_backend": backend}))
        e.embed_batch(["warm up"])  # loads; exports or distils at first use
        embedders[backend] = e
        load_s[backend] = round(time.perf_counter() - t, 1)
    plain.encode(["warm up"])

    runs: list[dict[str, Any]] = []
    names = ["plain torch encode", *embedders]
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            load = load_average()
            t = time.perf_counter()
            if name == "plain torch encode":
                plain.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
            else:
                embed_with_cache(embedders[name], texts, None, batch_size=256)
            seconds = time.perf_counter() - t
            runs.append(
                {
                    "round": r + 1,
                    "method": name,
                    "seconds": round(seconds, 2),
                    "chunks_per_s": round(len(texts) / seconds, 1),
                    "load_average_at_start": load,
                }
            )
            print(runs[-1], flush=True)

    best: dict[str, float] = {}
    for row in runs:
        best[row["method"]] = max(best.get(row["method"], 0.0), row["chunks_per_s"])
    base = best["plain torch encode"]
    summary = [
        {
            "method": m,
            "best_chunks_per_s": v,
            "speedup_vs_plain": round(v / base, 2),
            "load_s": load_s.get(m, ""),
        }
        for m, v in best.items()
    ]
    by_round: dict[int, dict[str, float]] = {}
    for row in runs:
        by_round.setdefault(row["round"], {})[row["method"]] = row["chunks_per_s"]
    for rr in by_round.values():
        for m, v in list(rr.items()):
            rr[f"{m} x"] = round(v / rr["plain torch encode"], 2)
    payload = {
        "benchmark": "embed_speed",
        "corpus_chunks": len(all_texts),
        "timed_chunks": len(texts),
        "distinct_timed_chunks": distinct,
        "runs": runs,
        "summary": summary,
        "environment": environment(),
    }
    write_results(
        args.out,
        payload,
        {
            "Best of the rounds (chunks/s, speed-up over plain torch encode)": markdown_table(summary),
            "Every run": markdown_table(runs),
        },
    )
    print(markdown_table(summary))


if __name__ == "__main__":
    main()
