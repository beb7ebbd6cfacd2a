"""Issue 15, goal 5: the cost of building all of ../shared/data with the defaults, phase by phase, and of
indexing the unchanged set again.

    python benchmarks/full_build.py [--data ../shared/data] [--index-dir /tmp/insight-full] [--keep]

Three runs of the user's command, ``insight-search index ../shared/data --index-dir DIR`` (the CLI's own
``index`` command, called in a fresh process each, default settings: the onnx backend, the multilingual lane,
the sentence store), in order:

1. **first build**: an empty index folder (so an empty embedding cache);
2. **again, unchanged**: the same command (the index already holds what the folder holds);
3. **again, --force**: built again from the files, every vector from the embedding cache.

Each child reports its wall time from process start (imports included), the kernel's peak resident memory
(VmHWM), and per phase (RSS sampled every 10 ms; the phase turns at the writer's "writing index version"):

- **streaming**: files read, chunked, their languages detected, embedded and written a window at a time;
  inside it, the seconds spent in the model on chunk texts, on the sentences summaries quote, and in the
  multilingual lane's model (USE); the rest is reading, chunking, language detection, the cache and writing;
- **finish**: the BM25 matrix, the dense index (HNSW above ``flat_index_max`` chunks) and the version's
  publication.

Writes benchmarks/results/full_build.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, dir_size, machine, write_result  # noqa: E402
from memory_full_data import rss_mb  # noqa: E402

DATA = SHARED / "data"


class Phases(logging.Handler):
    """Peak RSS and start time of each phase; "finish" begins when the writer logs "writing index version"."""

    def __init__(self) -> None:
        super().__init__()
        self.phase = "streaming"
        self.peaks = {"streaming": 0.0, "finish": 0.0}
        self.starts = {"streaming": time.perf_counter()}
        self.running = True
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while self.running:
            self.peaks[self.phase] = max(self.peaks[self.phase], rss_mb())
            time.sleep(0.01)

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("writing index version") and self.phase == "streaming":
            self.peaks["streaming"] = max(self.peaks["streaming"], rss_mb())
            self.phase = "finish"
            self.starts["finish"] = time.perf_counter()


class Timed:
    """An embedder whose ``embed_batch`` time is added to ``seconds[bucket]`` (the bucket a flag names)."""

    def __init__(self, inner: Any, seconds: dict[str, float], bucket: Any) -> None:
        self._inner, self._seconds, self._bucket = inner, seconds, bucket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def embed_batch(self, texts: Any) -> Any:
        t = time.perf_counter()
        try:
            return self._inner.embed_batch(texts)
        finally:
            self._seconds[self._bucket()] += time.perf_counter() - t


def child(data: Path, index_dir: Path, force: bool) -> dict[str, Any]:
    """Run the CLI's ``index`` in this process, timing the model calls by what they embed."""
    from insight_search import embedding, indexer
    from insight_search.cli import app

    seconds: dict[str, float] = defaultdict(float)
    what = ["chunks"]
    make_embedder, make_lane, sentence_texts = (
        embedding.make_embedder,
        indexer.make_multilingual_embedder,
        indexer.sentence_texts,
    )

    def sentences_next(chunks: Any) -> Any:  # the flush embeds its chunks, then their sentences
        what[0] = "sentences"
        return sentence_texts(chunks)

    def chunk_timer(settings: Any, index_model_id: Any = None) -> Any:
        return Timed(make_embedder(settings, index_model_id), seconds, lambda: what[0])

    def lane_timer(settings: Any) -> Any:
        return Timed(make_lane(settings), seconds, lambda: "lane")

    original_flush = indexer._Pipeline.flush

    def flush(self: Any) -> None:
        what[0] = "chunks"
        original_flush(self)

    embedding.make_embedder = chunk_timer  # type: ignore[assignment]
    indexer.make_multilingual_embedder = lane_timer  # type: ignore[assignment]
    indexer.sentence_texts = sentences_next  # type: ignore[assignment]
    indexer._Pipeline.flush = flush  # type: ignore[method-assign]
    phases = Phases()
    logger = logging.getLogger("insight_search")
    logger.setLevel(logging.INFO)
    logger.addHandler(phases)
    args = ["index", str(data), "--index-dir", str(index_dir), "--json", *(["--force"] if force else [])]
    started = time.perf_counter()
    try:
        app(args, standalone_mode=False)
    except SystemExit as exc:  # exit 1: some file could not be read (named in the report)
        if exc.code not in (0, 1, None):
            raise
    ended = time.perf_counter()
    phases.running = False
    finish_start = phases.starts.get("finish")
    streaming = (finish_start or ended) - phases.starts["streaming"]
    return {
        "command_s": ended - started,
        "streaming_s": streaming if finish_start else None,
        "finish_s": ended - finish_start if finish_start else None,
        "model_chunks_s": seconds["chunks"],
        "model_sentences_s": seconds["sentences"],
        "lane_s": seconds["lane"],
        "streaming_peak_mb": phases.peaks["streaming"],
        "finish_peak_mb": phases.peaks["finish"],
        "peak_mb": rss_mb("VmHWM"),
        "load_average": os.getloadavg(),
    }


def run_child(data: Path, index_dir: Path, force: bool) -> dict[str, Any]:
    """One child; its figures, the command's own JSON report, and the wall time seen from here (the
    interpreter's start included)."""
    cmd = [sys.executable, __file__, "--child", "--data", str(data), "--index-dir", str(index_dir)]
    cmd += ["--force"] if force else []
    env = {**os.environ, "INSIGHT_SEARCH_LOG_LEVEL": "INFO"}  # the writer's phase line reaches the handler
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        sys.exit(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1])
    result["wall_s"] = wall
    result["report"] = _report(done.stdout)
    return result


def _report(stdout: str) -> dict[str, Any]:
    """The ``index --json`` output (the command's own report), the first JSON value of stdout."""
    value, _ = json.JSONDecoder().raw_decode(stdout.lstrip())
    return value if isinstance(value, dict) else {}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-full"))
    parser.add_argument("--data", type=Path, default=DATA, help="what to index (default: ../shared/data)")
    parser.add_argument("--keep", action="store_true", help="keep the index folder afterwards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.data, args.index_dir, args.force)
        print()
        print(json.dumps(result))
        return
    if not args.data.exists():
        sys.exit(f"{args.data} is absent")
    shutil.rmtree(args.index_dir, ignore_errors=True)
    runs = {}
    for name, force in (("first build", False), ("again, unchanged", False), ("again, --force", True)):
        runs[name] = run_child(args.data, args.index_dir, force)
        print(name, json.dumps({k: v for k, v in runs[name].items() if k != "report"}), flush=True)
    version = max((args.index_dir).glob("v-*"), default=None)
    size = dir_size(version) / 1e6 if version else None
    first = runs["first build"]
    ratio = first["wall_s"] / runs["again, unchanged"]["wall_s"]
    write_result("full_build", {"machine": machine(), "runs": runs, "index_mb": size, "speedup": ratio})
    print(
        "| run | wall s | streaming s (chunks / sentences / lane in the model) | finish s | "
        "peak MB (streaming / finish / VmHWM) | load |"
    )
    print("|---|---:|---|---:|---|---|")
    for name, r in runs.items():
        stream = (
            "-"
            if r["streaming_s"] is None
            else (
                f"{r['streaming_s']:.0f} ({r['model_chunks_s']:.0f} / {r['model_sentences_s']:.0f} / "
                f"{r['lane_s']:.0f})"
            )
        )
        finish = "-" if r["finish_s"] is None else f"{r['finish_s']:.0f}"
        load = " ".join(f"{x:.1f}" for x in r["load_average"])
        print(
            f"| {name} | {r['wall_s']:.1f} | {stream} | {finish} | {r['streaming_peak_mb']:.0f} / "
            f"{r['finish_peak_mb']:.0f} / {r['peak_mb']:.0f} | {load} |"
        )
    report = first["report"]
    print(
        f"\nfirst build: {json.dumps({k: report.get(k) for k in ('files', 'documents', 'chunks', 'embedded', 'repeated', 'cached', 'sentences', 'sentences_embedded', 'failed_files')})}"
    )
    print(f"index on disk: {size:.0f} MB; first build / unchanged re-index: {ratio:.0f}x")
    if not args.keep:
        shutil.rmtree(args.index_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
