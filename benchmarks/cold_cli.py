"""Cold command-line commands on the sample index (issue 15, goal 2): wall time of a fresh process, median of
``--runs`` (3), for ``search``, ``info`` and ``--help``, against ``python -c "import sentence_transformers"``
in the same environment.

    python benchmarks/cold_cli.py [--index-dir /tmp/insight-cold-index] [--runs 3] [--out benchmarks/results/cold_cli.json]

The sample index is the README's main command's: ``corpus/`` indexed with the default settings (built under
``--index-dir`` when it holds none; the model exported at index time, as ``insight-search index`` does).
Each command runs in a new Python process as ``python -c "from insight_search.cli import main; main()"``
(the console script's entry point, with this checkout's sources on ``PYTHONPATH``); the commands are
interleaved run by run, so a change in the machine's load falls on all of them alike. "Cold" is a new
process: the operating system's file cache is warm (the files were read before), as in a shell used twice.
The search run also reports which heavy modules it imported (``-X importtime`` is not used: it slows
imports). The load average is recorded with each run, and each process's CPU time (user + system, from
``getrusage``): on a busy shared machine the wall time is mostly waiting for a core, the CPU time is what
the command costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUERY = "care system law in Mexico City"
HEAVY = ("torch", "sentence_transformers", "transformers", "scipy.stats", "sklearn", "fastapi")
CLI = (
    "import sys\n"
    "from insight_search.cli import main\n"
    "sys.argv = ['insight-search', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    if {report}:\n"
    "        heavy = [m for m in {heavy!r} if m in sys.modules]\n"
    "        print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
)


def commands(index_dir: Path) -> dict[str, list[str]]:
    py = sys.executable
    cli = CLI.format(report=False, heavy=HEAVY)
    return {
        "search": [
            py,
            "-c",
            CLI.format(report=True, heavy=HEAVY),
            "search",
            QUERY,
            "--index-dir",
            str(index_dir),
        ],
        "info": [py, "-c", cli, "info", "--index-dir", str(index_dir)],
        "--help": [py, "-c", cli, "--help"],
        "import sentence_transformers": [py, "-c", "import sentence_transformers"],
    }


def ensure_index(index_dir: Path) -> None:
    from insight_search import store
    from insight_search.config import Settings
    from insight_search.embedding import make_embedder
    from insight_search.indexer import build_index

    if store.current_version(index_dir) is None:
        settings = Settings(index_dir=index_dir)
        build_index([ROOT / "corpus"], settings, make_embedder(settings))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/insight-cold-index"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "cold_cli.json")
    args = parser.parse_args()
    ensure_index(args.index_dir)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    todo = commands(args.index_dir)
    runs: list[dict[str, Any]] = []
    heavy: set[str] = set()
    for r in range(args.runs):
        for name, argv in todo.items():
            load = load_average()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if done.returncode != 0:
                sys.exit(f"{name} failed ({done.returncode}):\n{done.stderr}")
            for line in done.stderr.splitlines():
                if line.startswith("HEAVY="):
                    heavy.update(m for m in line[6:].split(",") if m)
            runs.append(
                {
                    "run": r + 1,
                    "command": name,
                    "wall_s": round(seconds, 2),
                    "cpu_s": round(cpu, 2),
                    "load_average_at_start": load,
                }
            )
            print(runs[-1], flush=True)
    summary = []
    for name in todo:
        walls = [row["wall_s"] for row in runs if row["command"] == name]
        cpus = [row["cpu_s"] for row in runs if row["command"] == name]
        summary.append(
            {
                "command": name,
                "median_wall_s": statistics.median(walls),
                "median_cpu_s": statistics.median(cpus),
                "runs_wall_s": walls,
            }
        )
    payload = {
        "benchmark": "cold_cli",
        "query": QUERY,
        "index_dir": str(args.index_dir),
        "heavy_modules_imported_by_search": sorted(heavy),
        "runs": runs,
        "summary": summary,
        "environment": environment(),
    }
    write_results(
        args.out,
        payload,
        {"Median wall time of a cold process": markdown_table(summary), "Every run": markdown_table(runs)},
    )
    print(markdown_table(summary))
    print("heavy modules imported by search:", sorted(heavy) or "none")


if __name__ == "__main__":
    main()
