"""Speed and memory of the IATI reader on the files of ../shared/data/iati (or those named).

    python benchmarks/iati_read.py [FILE.xml ...] [--repeat N] [--keep]

Each file is read in a fresh child process (so one file's peak does not hide another's): wall seconds and
CPU seconds of the read (best of ``--repeat``), the process's peak RSS before the read (interpreter and
imports) and after it (``resource.getrusage``), and the peak of Python allocations during the read
(``tracemalloc``, a separate pass since tracing slows the read). Documents are dropped as they stream unless
``--keep`` (then the peak includes every document). Prints one JSON line per file, with the counts read
(activities, results, indicators, periods, budget elements and records, passages).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "iati"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(path: Path, repeat: int, keep: bool) -> dict[str, object]:
    from insight_search.sources.iati import read_iati

    counts = {"activities": 0, "results": 0, "indicators": 0, "periods": 0, "budgets": 0}
    counts |= {"budget_records": 0, "funding_records": 0, "passages": 0, "progress_notes": 0}
    rss_before = _rss_mb()
    walls, cpus = [], []
    kept: list[object] = []
    for round_ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        for doc in read_iati(path, warn=lambda problem: None):
            if keep:
                kept.append(doc)
            if round_ == 0:
                counts["activities"] += 1
                counts["results"] += doc.metadata.get("results", 0)
                counts["indicators"] += len(doc.indicators)
                counts["periods"] += sum(len(i.periods) for i in doc.indicators)
                counts["budgets"] += doc.metadata.get("budgets", 0)
                counts["budget_records"] += sum(r.kind == "budget" for r in doc.funding)
                counts["funding_records"] += len(doc.funding)
                counts["passages"] += len(doc.passages)
                counts["progress_notes"] += sum(p.section == "progress_note" for p in doc.passages)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        if round_ < repeat - 1:
            kept.clear()
    rss_after = _rss_mb()
    kept.clear()
    tracemalloc.start()
    for doc in read_iati(path, warn=lambda problem: None):
        if keep:
            kept.append(doc)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "file": path.name,
        "mb": round(path.stat().st_size / 1e6, 2),
        "seconds": round(min(walls), 2),
        "cpu_seconds": round(min(cpus), 2),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(rss_after, 1),
        "traced_peak_mb": round(traced_peak / 1e6, 1),
        "kept_documents": keep,
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep every document (peak includes them)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = args.files or sorted(DATA.glob("*.xml"))
    if args.child:
        print(json.dumps(measure(files[0], args.repeat, args.keep)))
        return
    for path in files:
        command = [sys.executable, __file__, str(path), "--child", "--repeat", str(args.repeat)]
        subprocess.run([*command, *(["--keep"] if args.keep else [])], check=True)


if __name__ == "__main__":
    main()
