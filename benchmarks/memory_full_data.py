"""Peak memory of indexing ../shared/data (55 UN INFO exports + 127 country JSON files), whole and in parts,
to show what the build holds in memory and how that grows with the corpus.

    python benchmarks/memory_full_data.py [--embedder hash|static|torch] [--fractions 0.25,0.5,1]
                                          [--flat-index-max N]

Each fraction f indexes every (1/f)-th file of the sorted file list (a mix of xlsx and JSON like the whole)
in a fresh process, which reports: resident memory once everything is imported and the embedder is ready
(the floor), the peak while files are read, chunked, embedded and written (the streaming phase), the peak
while the BM25 matrix (and above ``flat_index_max`` chunks the HNSW graph) is finished and written, and the
kernel's peak for the process (VmHWM: unlike ru_maxrss, it does not carry over the RSS of the parent that
forked the child). RSS is sampled every 10 ms from /proc/self/status.

Embedding ~200k chunks with the transformer takes hours on 2 cores, so by default the vectors come from a
deterministic hashing embedder (384 dimensions, no model): the figures are then the memory of reading,
chunking, the indexes and the store, without the model (the bundled model adds about 300 MB, independent of
the corpus). With `--embedder static` it uses the fast static tier. ``--flat-index-max`` below the chunk
count makes the build finish an HNSW index (what a corpus above 200k chunks gets) to measure its graph.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, dir_size, machine, write_result  # noqa: E402

DATA = SHARED / "data"


class HashEmbedder:
    model_id = "hash-384"
    dimension = 384
    backend = "hash"

    def limit_threads(self, threads: int) -> None:
        """Nothing to limit."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """Peak RSS per phase; the phase turns to "finish" when the store logs that it writes the version."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.phase = "stream"
        self.peaks = {"stream": 0.0, "finish": 0.0}
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peaks[self.phase] = max(self.peaks[self.phase], rss_mb())
            time.sleep(0.01)


class PhaseHandler(logging.Handler):
    def __init__(self, sampler: Sampler) -> None:
        super().__init__()
        self.sampler = sampler

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("writing index version"):
            self.sampler.peaks["stream"] = max(self.sampler.peaks["stream"], rss_mb())
            self.sampler.phase = "finish"


def corpus_files() -> list[Path]:
    from insight_search.errors import UnreadableFile
    from insight_search.sources.registry import iter_corpus_files

    return [p for p in iter_corpus_files([DATA]) if not isinstance(p, UnreadableFile)]


def child(fraction: float, embedder_name: str, index_dir: Path, flat_max: int) -> dict[str, object]:
    from insight_search.config import Settings
    from insight_search.indexer import build_index
    from insight_search.store import current_version

    files = corpus_files()
    step = round(1 / fraction)
    paths = files[::step]
    # The English pipeline's memory; the multilingual lane (on by default since issue 13) is left out: its
    # real model would embed every chunk (hours here), and it adds a vector file written like the English one
    settings = Settings(index_dir=index_dir, flat_index_max=flat_max, multilingual=False)
    if embedder_name == "hash":
        embedder = HashEmbedder()
    else:
        from insight_search.embedding import make_embedder

        backend = "static" if embedder_name == "static" else "torch"
        settings = settings.model_copy(update={"embedding_backend": backend})
        embedder = make_embedder(settings)  # type: ignore[assignment]
        embedder.embed_batch(["warm up"])  # loads the model: part of the floor
    floor = rss_mb()
    sampler = Sampler()
    # "writing index version" comes from version_writer (store.py logged it before the writer was split out)
    logger = logging.getLogger("insight_search")
    logger.setLevel(logging.INFO)
    logger.addHandler(PhaseHandler(sampler))
    sampler.start()
    t = time.perf_counter()
    report = build_index(paths, settings, embedder)
    seconds = time.perf_counter() - t
    sampler.running = False
    sampler.join()
    version = current_version(index_dir)
    return {
        "fraction": fraction,
        "files": report.files,
        "failed_files": report.failed_files,
        "problems": [f"{p.path}: {p.reason}" for p in report.problems],
        "documents": report.documents,
        "chunks": report.chunks,
        "seconds": seconds,
        "floor_mb": floor,
        "stream_peak_mb": sampler.peaks["stream"],
        "finish_peak_mb": sampler.peaks["finish"],
        "peak_mb": rss_mb("VmHWM"),
        "index_window": settings.index_window,
        "dense_index": json.loads((version / "manifest.json").read_text())["dense_index"]
        if version
        else None,
        "index_size_mb": dir_size(version) / 1e6 if version else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--embedder", choices=["hash", "static", "torch"], default="hash")
    parser.add_argument("--fractions", default="0.25,0.5,1")
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-full-index"))
    parser.add_argument("--flat-index-max", type=int, default=200_000)
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is absent")
    if args.child is not None:
        print(json.dumps(child(args.child, args.embedder, args.index_dir, args.flat_index_max)))
        return
    rows = []
    for fraction in (float(f) for f in args.fractions.split(",")):
        shutil.rmtree(args.index_dir, ignore_errors=True)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(fraction),
                "--embedder",
                args.embedder,
                "--index-dir",
                str(args.index_dir),
                "--flat-index-max",
                str(args.flat_index_max),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    shutil.rmtree(args.index_dir, ignore_errors=True)
    first, last = rows[0], rows[-1]
    growth = {
        phase: (last[f"{phase}_peak_mb"] - first[f"{phase}_peak_mb"])
        * 1024
        / max(last["chunks"] - first["chunks"], 1)
        for phase in ("stream", "finish")
    }
    write_result(
        f"memory_full_data_{args.embedder}_flatmax{args.flat_index_max}",
        {"machine": machine(), "embedder": args.embedder, "runs": rows, "growth_kb_per_chunk": growth},
    )
    print(
        "| files | documents | chunks | dense | time | floor | streaming peak | finishing peak | peak (VmHWM) | on disk |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['files']} ({r['failed_files']} rejected) | {r['documents']:,} | {r['chunks']:,} | "
            f"{r['dense_index']} | "
            f"{r['seconds']:.0f} s | {r['floor_mb']:,.0f} MB | {r['stream_peak_mb']:,.0f} MB | "
            f"{r['finish_peak_mb']:,.0f} MB | {r['peak_mb']:,.0f} MB | {r['index_size_mb']:,.0f} MB |"
        )
    print(
        f"growth per added chunk: streaming {growth['stream']:.2f} KB, finishing {growth['finish']:.2f} KB "
        f"(window {last['index_window']} chunks)"
    )
    for r in rows:
        for p in r["problems"]:
            print("rejected:", p)


if __name__ == "__main__":
    main()
