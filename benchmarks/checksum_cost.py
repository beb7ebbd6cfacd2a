"""What verifying an index version's checksums costs at load, on files the size of the 1M-chunk index.

    python benchmarks/checksum_cost.py [--vectors-mb 1536] [--rest-mb 1380] [--tmp DIR] [--repeat 3]

Writes a version-like folder (``vectors.f32``: 1,000,000 x 384 float32 = 1,536 MB; the rest, split like a
real index into chunks/documents/funding JSONL and BM25 arrays: 1,380 MB, ten times the 100k exact index's
non-vector files, docs/benchmarks.md), then times, page cache warm, reading every file in 1 MiB blocks
alone, ``store.file_checksums`` (what a build adds at publish) and ``store.verify_checksums`` (what a load
adds), best of --repeat. Also times the other candidate algorithms over the same 1 MiB blocks in memory.
Removes the folder at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_result  # noqa: E402
from insight_search import store  # noqa: E402

MB = 1 << 20
REST_SPLIT = {  # share of the non-vector files, as in a real exact index
    "chunks.jsonl": 0.30,
    "documents.jsonl": 0.45,
    "funding.jsonl": 0.10,
    "lexical/data.csc.index.npy": 0.07,
    "lexical/indices.csc.index.npy": 0.07,
    "lexical/vocab.index.json": 0.01,
}


def write_file(path: Path, megabytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(64 * MB)
    with path.open("wb") as f:
        left = megabytes * MB
        while left > 0:
            f.write(block[: min(left, len(block))])
            left -= len(block)


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def read_all(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                while f.read(MB):
                    pass


def algorithms_mb_per_s(total_mb: int = 512) -> dict[str, float]:
    data = os.urandom(MB)
    out = {}

    def crc() -> None:
        c = 0
        for _ in range(total_mb):
            c = zlib.crc32(data, c)

    out["crc32"] = total_mb / best_of(2, crc)
    for name in ("sha1", "sha256", "blake2b", "md5"):

        def digest(name: str = name) -> None:
            h = hashlib.new(name)
            for _ in range(total_mb):
                h.update(data)
            h.hexdigest()

        out[name] = total_mb / best_of(2, digest)
    return {k: round(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vectors-mb", type=int, default=1536)
    parser.add_argument("--rest-mb", type=int, default=1380)
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="checksum-cost-", dir=args.tmp))
    try:
        write_file(folder / "vectors.f32", args.vectors_mb)
        for name, share in REST_SPLIT.items():
            write_file(folder / name, max(1, round(args.rest_mb * share)))
        total_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / MB
        read_s = best_of(args.repeat, lambda: read_all(folder))
        checksums: dict[str, str] = {}

        def compute() -> None:
            checksums.update(store.file_checksums(folder))

        compute_s = best_of(args.repeat, compute)
        verify_s = best_of(args.repeat, lambda: store.verify_checksums(folder, checksums))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "machine": machine(),
        "total_mb": round(total_mb),
        "files": len(REST_SPLIT) + 1,
        "read_only_s": round(read_s, 2),
        "file_checksums_s": round(compute_s, 2),
        "verify_checksums_s": round(verify_s, 2),
        "verify_mb_per_s": round(total_mb / verify_s),
        "algorithms_mb_per_s_in_memory": algorithms_mb_per_s(),
    }
    write_result("checksum_cost", result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
