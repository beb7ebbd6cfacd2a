"""Does streaming in windows slow indexing? Builds the Latin America and Africa gender exports (about 10k
chunks) with the bundled model, fresh index and cache each time, alternating one window for everything and
windows of N chunks.

    python benchmarks/window_speed.py [--windows 100000,512] [--rounds 2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, write_result  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.indexer import build_index  # noqa: E402

FILES = [
    SHARED / "data" / "uninfo-jwp" / region / "gender.xlsx"
    for region in ("latin-america-caribbean", "africa")
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--windows", default="100000,512")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    embedder = make_embedder(Settings())
    embedder.embed_batch(["warm up"])
    runs = []
    for _ in range(args.rounds):
        for window in (int(w) for w in args.windows.split(",")):
            index_dir = Path(f"/tmp/insight-window-{window}")
            shutil.rmtree(index_dir, ignore_errors=True)
            started = time.perf_counter()
            report = build_index(FILES, Settings(index_dir=index_dir, index_window=window), embedder)
            seconds = time.perf_counter() - started
            shutil.rmtree(index_dir, ignore_errors=True)
            runs.append(
                {"window": window, "chunks": report.chunks, "embedded": report.embedded, "seconds": seconds}
            )
            print(f"| {window} | {report.chunks:,} | {report.embedded:,} | {seconds:.1f} s |", flush=True)
    write_result("window_speed", {"machine": machine(), "runs": runs})


if __name__ == "__main__":
    main()
