"""Shared by the benchmarks: the environment block (date, machine, versions, load), latency percentiles,
resident memory, and writing results as JSON plus a Markdown table beside it."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = (
    "insight-search",
    "torch",
    "sentence-transformers",
    "transformers",
    "onnxruntime",
    "faiss-cpu",
    "bm25s",
    "numpy",
    "txtai",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {cpu_model()}, {platform.system()} {platform.release()}",
        "load_average_1_5_15": load_average(),
        "versions": versions(),
        "command": "python " + " ".join(sys.argv),
    }


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / mean of a list of milliseconds (nearest-rank p95)."""
    if not ms:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "mean_ms": float("nan"), "n": 0}
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, max(0, int(round(0.95 * len(ordered))) - 1))]
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(p95, 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "n": len(ordered),
    }


def rss_bytes() -> int:
    """Resident memory of this process now."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(no rows)\n"
    cols = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def environment_markdown(env: Mapping[str, Any]) -> str:
    vers = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    return (
        f"- date: {env['date']}\n- machine: {env['machine']}\n"
        f"- load average (1/5/15 min) at the end: {env['load_average_1_5_15']}\n"
        f"- versions: {vers}\n- command: `{env['command']}`\n"
    )


def write_results(path: Path, payload: Mapping[str, Any], tables: Mapping[str, str] | None = None) -> None:
    """``path`` (JSON) and ``path`` with ``.md`` (the environment and each table under its heading)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    env = payload.get("environment")
    parts = [f"# {payload.get('benchmark', path.stem)}\n"]
    if env:
        parts.append(environment_markdown(env))
    for title, table in (tables or {}).items():
        parts.append(f"\n## {title}\n\n{table}")
    if not tables and isinstance(payload.get("results"), Mapping):
        rows = [{"configuration": k, **v} for k, v in payload["results"].items() if isinstance(v, Mapping)]
        parts.append("\n" + markdown_table(rows))
    path.with_suffix(".md").write_text("\n".join(parts), encoding="utf-8")
