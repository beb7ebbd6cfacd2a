"""Peak memory and time of indexing the whole ../shared/data folder (55 UN INFO exports + 127 country JSON
files), to show what the build holds in memory.

    python benchmarks/memory_full_data.py [--embedder hash|static|torch] [--index-dir /tmp/full-index]

Embedding ~200k chunks with the transformer takes hours on 2 cores, so by default the vectors come from a
deterministic hashing embedder (384 dimensions, no model): the figure is then the memory of reading,
chunking, the indexes and the store, without the model (the bundled model adds about 300 MB). With
`--embedder static` it uses the fast static tier if this build has one.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, dir_size, machine, write_result  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.indexer import build_index  # noqa: E402
from insight_search.store import current_version  # noqa: E402


class HashEmbedder:
    model_id = "hash-384"
    dimension = 384

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", choices=["hash", "static", "torch"], default="hash")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-full-index"))
    args = parser.parse_args()
    data = SHARED / "data"
    if not data.exists():
        sys.exit(f"{data} is absent")
    if args.index_dir.exists():
        shutil.rmtree(args.index_dir)
    settings = Settings(index_dir=args.index_dir)
    if args.embedder == "hash":
        embedder = HashEmbedder()
    else:
        from insight_search.embedding import make_embedder  # type: ignore[attr-defined]

        backend = "static" if args.embedder == "static" else "torch"
        settings = settings.model_copy(update={"embedding_backend": backend})
        embedder = make_embedder(settings)
    t = time.perf_counter()
    report = build_index([data], settings, embedder)
    seconds = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    version = current_version(args.index_dir)
    result = {
        "machine": machine(),
        "embedder": args.embedder,
        "files": report.files,
        "failed_files": report.failed_files,
        "problems": [f"{p.path}: {p.reason}" for p in report.problems],
        "documents": report.documents,
        "passages": report.passages,
        "chunks": report.chunks,
        "seconds": seconds,
        "peak_rss_mb": peak_mb,
        "peak_rss_kb_per_chunk": peak_mb * 1024 / max(report.chunks, 1),
        "index_size_mb": dir_size(version) / 1e6 if version else None,
    }
    write_result(f"memory_full_data_{args.embedder}", result)
    print(
        f"| {args.embedder} | {report.files} files ({report.failed_files} rejected) | {report.documents:,} | "
        f"{report.chunks:,} | {seconds:.0f} s | {peak_mb:,.0f} MB | {result['peak_rss_kb_per_chunk']:.1f} KB | "
        f"{result['index_size_mb']:.0f} MB |"
    )
    for p in result["problems"]:
        print("rejected:", p)


if __name__ == "__main__":
    main()
