"""Cross-lingual questions on UN text (issue 13), and the cost of the multilingual lane.

    python benchmarks/un_crosslingual.py [--work-dir /tmp/insight-un] [--countries MEX,COL,HTI,SEN]
                                         [--cost] [--out benchmarks/results/un_crosslingual.json]

The corpus: the UN INFO API files of ``--countries`` (../shared/data/uninfo-api) and the sample outcome page
(corpus/). The questions: ``benchmarks/data/un_crosslingual.jsonl``, written by hand for this benchmark:
English questions about Spanish and French sub-outputs (each read, then its subject paraphrased in English
without the names of places, programmes or organisations it gives), and Spanish questions about English
passages of the sample page (``passage_contains``: a phrase of the passage that answers it). A sub-output
whose text is the same as a target's (a project listed twice under two ids) counts as the target.

hit@5: a target document among the first five documents (``Query(k=5, group_by_document=True)``); for a
question about the page, a chunk of the page holding ``passage_contains`` among the first five hits.
``today`` is the index searched without the lane, ``new default`` with it (one index, the same vectors).

``--cost`` builds the corpus three times from empty caches in one run: English only, with the lane over
every chunk, and with the lane over non-English chunks only (``multilingual_passages="non_english"``), and
reports chunks/s, query latency (p50/p95 over the questions, 3 rounds, warm) and the lane's bytes a chunk.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (  # noqa: E402
    RESULTS,
    environment,
    load_average,
    markdown_table,
    percentiles,
    write_results,
)
from insight_search import store  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import Embedder, make_embedder  # noqa: E402
from insight_search.indexer import CACHE_FILE, build_index  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.multilingual import LANE_DIR, make_multilingual_embedder  # noqa: E402
from insight_search.search import Searcher  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
API = ROOT.parent / "shared" / "data" / "uninfo-api"
QUESTIONS = Path(__file__).resolve().parent / "data" / "un_crosslingual.jsonl"
PAGE = ROOT / "corpus"


def corpus(countries: list[str]) -> list[Path]:
    return [*(API / f"{c}.json" for c in countries), PAGE]


def questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def hit_at_5(searcher: Searcher, qs: list[dict[str, Any]]) -> dict[str, Any]:
    """hit@5 of the English and the Spanish questions, and the questions missed."""
    page = next(c.doc_id for c in searcher.chunks if c.source.path.startswith(str(PAGE)))
    same: dict[str, set[str]] = {}  # document text -> ids (repeats of one sub-output under two ids)
    texts: dict[str, str] = {}
    for c in searcher.chunks:
        texts[c.doc_id] = texts.get(c.doc_id, "") + c.text
    for doc, text in texts.items():
        same.setdefault(text, set()).add(doc)
    out: dict[str, list[int]] = {"en->es/fr": [], "es->en": []}
    missed = []
    for q in qs:
        if q["targets"] == ["PAGE"]:
            hits = searcher.search(Query(text=q["question"], k=5)).hits
            ok = any(h.chunk.doc_id == page and q["passage_contains"] in h.chunk.text for h in hits)
            out["es->en"].append(int(ok))
        else:
            relevant = set().union(*(same.get(texts.get(t, ""), {t}) for t in q["targets"]))
            hits = searcher.search(Query(text=q["question"], k=5, group_by_document=True)).hits
            ok = any(h.chunk.doc_id in relevant for h in hits)
            out["en->es/fr"].append(int(ok))
        if not ok:
            missed.append(q["id"])
    return {
        **{f"hit@5 {k}": round(sum(v) / len(v), 3) for k, v in out.items() if v},
        **{f"questions {k}": len(v) for k, v in out.items()},
        "missed": missed,
    }


def latency(systems: dict[str, Searcher], qs: list[dict[str, Any]], rounds: int = 3) -> dict[str, Any]:
    """p50/p95 of ``Searcher.search`` (k=10) of every question, the systems taking turns on each question
    (so that a change of the machine's load weighs on all alike); a first round warms up and is dropped."""
    times: dict[str, list[float]] = {name: [] for name in systems}
    for round_ in range(rounds + 1):
        for q in qs:
            for name, searcher in systems.items():
                t = time.perf_counter()
                searcher.search(Query(text=q["question"], k=10))
                if round_:
                    times[name].append((time.perf_counter() - t) * 1000)
    return {name: percentiles(ms) for name, ms in times.items()}


class Timed:
    """An embedder that adds up the seconds its ``embed_batch`` calls take (the share of a build each model
    costs, measured inside one build, so that the machine's load changes weigh on both alike)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.seconds, self.texts = inner, 0.0, 0
        self.model_id, self.dimension, self.backend = inner.model_id, inner.dimension, inner.backend

    def limit_threads(self, threads: int) -> None:
        self.inner.limit_threads(threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        t = time.perf_counter()
        out = self.inner.embed_batch(texts)
        self.seconds += time.perf_counter() - t
        self.texts += len(texts)
        return out


def build(
    paths: list[Path], index_dir: Path, reuse: bool = False, **lane: Any
) -> tuple[Settings, dict[str, Any]]:
    settings = Settings(index_dir=index_dir, **lane)
    if reuse and store.current_version(index_dir) is not None:
        return settings, {"reused": str(store.current_version(index_dir))}
    if not reuse:  # from empty: no version and no embedding cache
        shutil.rmtree(index_dir, ignore_errors=True)
    embedder = Timed(make_embedder(settings))
    multilingual = Timed(make_multilingual_embedder(settings)) if settings.multilingual else None
    start = load_average()
    report = build_index(paths, settings, embedder, multilingual=multilingual)
    version = store.current_version(index_dir)
    assert version is not None
    lane_bytes = (
        sum(f.stat().st_size for f in (version / LANE_DIR).rglob("*")) if settings.multilingual else 0
    )
    total = sum(f.stat().st_size for f in version.rglob("*") if f.is_file())
    return settings, {
        "chunks": report.chunks,
        "seconds": round(report.seconds, 1),
        "chunks_per_s": round(report.chunks / report.seconds, 2),
        "lane_bytes_per_chunk": round(lane_bytes / report.chunks, 1),
        "version_bytes_per_chunk": round(total / report.chunks, 1),
        "english_embed_s": round(embedder.seconds, 1),
        "english_texts": embedder.texts,
        "lane_embed_s": round(multilingual.seconds, 1) if multilingual else 0.0,
        "lane_texts": multilingual.texts if multilingual else 0,
        "load_average_at_start": start,
        "load_average_at_end": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/insight-un"))
    parser.add_argument("--countries", default="MEX,COL,HTI,SEN")
    parser.add_argument("--cost", action="store_true", help="the three builds of --cost-countries")
    parser.add_argument("--latency", action="store_true", help="query latency, the systems taking turns")
    parser.add_argument("--cost-countries", default="HTI", help="the corpus of the three cost builds")
    parser.add_argument("--out", type=Path, default=RESULTS / "un_crosslingual.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    countries = args.countries.split(",")
    paths = corpus(countries)
    qs = [q for q in questions() if q["targets"] == ["PAGE"] or q["targets"][0].split(":")[1] in countries]
    report: dict[str, Any] = {"questions": len(qs), "countries": args.countries}
    builds: dict[str, Any] = {}
    if args.cost:
        cost_paths = corpus(args.cost_countries.split(","))
        report["cost_countries"] = args.cost_countries
        for name, lane in (
            ("English only", {"multilingual": False}),
            ("with the lane (all chunks)", {"multilingual": True}),
            (
                "with the lane (non-English chunks)",
                {"multilingual": True, "multilingual_passages": "non_english"},
            ),
        ):
            folder = args.work_dir / "cost" / name.split(" (")[-1].strip(")").replace(" ", "-")
            _, builds[name] = build(cost_paths, folder, **lane)
            logging.info("%s: %s", name, builds[name])
    seed = args.work_dir / "cost" / "all-chunks" / CACHE_FILE
    main_cache = args.work_dir / "lane" / CACHE_FILE
    if seed.exists() and not main_cache.exists():  # the cost builds' vectors: embed only what is new
        main_cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed, main_cache)
    settings, built = build(paths, args.work_dir / "lane", reuse=True, multilingual=True)
    report["index"] = built
    embedder = make_embedder(settings)
    embedder.limit_threads(1)
    lane = make_multilingual_embedder(settings)
    lane.limit_threads(1)
    data = store.load(settings.index_dir, expected_model_id=embedder.model_id)
    systems = {
        "today (no lane)": Searcher(data, embedder, settings, multilingual=False),
        "new default": Searcher(data, embedder, settings, multilingual=lane),
    }
    results: dict[str, Any] = {}
    for name, searcher in systems.items():
        results[name] = hit_at_5(searcher, qs)
        results[name]["load_average"] = load_average()
        logging.info("%s: %s", name, results[name])
    if args.latency:
        report["latency_load_average_at_start"] = load_average()
        report["latency_ms"] = latency(systems, qs)
        report["latency_load_average_at_end"] = load_average()
        logging.info("latency: %s", report["latency_ms"])
    report.update(builds=builds, results=results, environment=environment())
    report["settings"] = {
        "multilingual_weight": settings.multilingual_weight,
        "multilingual_match_threshold": settings.multilingual_match_threshold,
    }
    shown = [{"system": k, **{m: v for m, v in r.items() if m != "missed"}} for k, r in results.items()]
    tables = {"hit@5": markdown_table(shown)}
    if args.latency:
        tables["latency"] = markdown_table([{"system": k, **r} for k, r in report["latency_ms"].items()])
    if builds:
        tables["builds"] = markdown_table([{"build": k, **v} for k, v in builds.items()])
    write_results(args.out, report, tables)
    for title, table in tables.items():
        print(f"## {title}\n{table}")


if __name__ == "__main__":
    main()
