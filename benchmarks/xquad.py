"""Language independence on XQuAD (issue 13): the same 240 paragraphs and 1,190 questions in English, Spanish,
Arabic, Russian and Chinese; the paragraphs of all five languages pooled in one index, questions in one.

    python benchmarks/xquad.py [--work-dir /tmp/insight-xquad] [--half test|tune] [--every 1]
                               [--sweep] [--out benchmarks/results/xquad.json]

One index (``build_index`` with ``multilingual=True``: the JSONL reader, chunking, the English lane, BM25 and
the multilingual lane) is searched three ways with the same query vectors:

- ``today``: the engine without the lane (English MiniLM + BM25, fused as configured), what an index built
  without the lane gives (the lane changes nothing else in the index);
- ``multilingual alone``: the lane's FAISS list only, one hit per paragraph (its best chunk);
- ``new default``: all three lists fused (``Searcher.search_many``, ``multilingual_weight``).

Every search is ``Query(k=100, group_by_document=True)`` (a paragraph is a document). For a question of
paragraph p in language q, "q->t" is judged with the one relevant document "p in language t" among the pool;
"mixed pool" judges all five versions of p relevant. Recall@10 and mAP (average precision over the top 100).

The questions are split by paragraph: ``tune`` (even paragraph numbers) chose the lane's weight and match
threshold (``--sweep``); the table reports ``test`` (odd paragraph numbers), measured once.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402
from insight_search import store  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.indexer import build_index  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.multilingual import make_multilingual_embedder  # noqa: E402
from insight_search.search import Searcher  # noqa: E402

XQUAD = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "xquad"
LANGUAGES = ("en", "es", "ar", "ru", "zh")
K = 100
DIRECTIONS = (("en", "en"), ("en", "es"), ("en", "ar"), ("en", "ru"), ("en", "zh"), ("es", "en"))


def read_xquad(lang: str) -> tuple[list[str], list[tuple[int, str]]]:
    """The paragraphs of one language, in order, and its questions as (paragraph number, text)."""
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    paragraphs: list[str] = []
    questions: list[tuple[int, str]] = []
    for article in data:
        for para in article["paragraphs"]:
            pid = len(paragraphs)
            paragraphs.append(para["context"])
            questions.extend((pid, qa["question"]) for qa in para["qas"])
    return paragraphs, questions


def doc_id(lang: str, pid: int) -> str:
    return f"{lang}-{pid:03d}"


def build(work: Path, paragraphs: int, sentences: bool) -> tuple[Settings, dict[str, Any]]:
    settings = Settings(index_dir=work / "index", multilingual=True)
    info: dict[str, Any] = {}
    if not sentences:
        # Summaries' sentence vectors play no part in a search: leave them out of the build (2 cores).
        import insight_search.indexer as indexer

        indexer.sentence_texts = lambda chunks: ([[] for _ in chunks], [])  # type: ignore[assignment]
    if store.current_version(settings.index_dir) is None:
        corpus = work / "docs" / "xquad.jsonl"
        corpus.parent.mkdir(parents=True, exist_ok=True)
        with corpus.open("w", encoding="utf-8") as f:
            for lang in LANGUAGES:
                for pid, text in enumerate(read_xquad(lang)[0][:paragraphs]):
                    record = {"id": doc_id(lang, pid), "text": text, "language": lang}
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
        info["load_average_at_start"] = load_average()
        report = build_index([corpus], settings, make_embedder(settings))
        info.update(
            build_s=round(report.seconds, 1), chunks=report.chunks, load_average_at_end=load_average()
        )
    return settings, info


def lane_alone(searcher: Searcher, texts: Sequence[str]) -> list[list[str]]:
    """The lane's list only: best chunk per paragraph, top ``K`` paragraphs."""
    assert searcher.lane is not None and searcher.data.multilingual is not None
    vectors = searcher.lane.embed_batch(list(texts))
    out = []
    for vector in vectors:
        ranked = searcher.data.multilingual.search(vector, K * 4)
        docs = list(dict.fromkeys(searcher.chunks[i].doc_id for i, _ in ranked))
        out.append(docs[:K])
    return out


def engine(searcher: Searcher, texts: Sequence[str]) -> list[list[str]]:
    """The documents ``Searcher.search_many`` lists, in its order (its matching candidates, grouped by
    document), without building the highlights of 100 hits a question."""
    vectors = searcher.embedder.embed_batch(list(texts))
    lanes = searcher.lane.embed_batch(list(texts)) if searcher.lane is not None else [None] * len(texts)
    out = []
    for text, vector, lane in zip(texts, vectors, lanes, strict=True):
        query = Query(text=text, k=K, group_by_document=True)
        rows = searcher.matching_candidates(query, vector, lane_vector=lane).ids[:K].tolist()
        out.append([searcher.chunks[i].doc_id for i in rows])
    return out


def average_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for rank, d in enumerate(ranked[:K], start=1):
        if d in relevant:
            hits += 1
            total += hits / rank
    return total / len(relevant)


def score(runs: dict[str, list[list[str]]], questions: dict[str, list[tuple[int, str]]]) -> dict[str, Any]:
    """Recall@10 and mAP of every direction and of the mixed pool (English questions)."""
    out: dict[str, Any] = {}
    for source, target in DIRECTIONS:
        recall, ap = [], []
        for (pid, _), ranked in zip(questions[source], runs[source], strict=True):
            relevant = {doc_id(target, pid)}
            recall.append(float(bool(relevant & set(ranked[:10]))))
            ap.append(average_precision(ranked, relevant))
        out[f"{source}->{target}"] = {"recall@10": statistics.fmean(recall), "map": statistics.fmean(ap)}
    recall, ap = [], []
    for (pid, _), ranked in zip(questions["en"], runs["en"], strict=True):
        relevant = {doc_id(lang, pid) for lang in LANGUAGES}
        recall.append(len(relevant & set(ranked[:10])) / len(relevant))
        ap.append(average_precision(ranked, relevant))
    out["mixed pool (en questions)"] = {"recall@10": statistics.fmean(recall), "map": statistics.fmean(ap)}
    return {k: {m: round(v, 4) for m, v in d.items()} for k, d in out.items()}


def random_pair_threshold(searcher: Searcher, questions: Sequence[tuple[int, str]], share: float) -> float:
    """The lane cosine that at most ``share`` of (question, paragraph of another subject) pairs reach."""
    assert searcher.lane is not None and searcher.data.multilingual is not None
    vectors = searcher.lane.embed_batch([q for _, q in questions])
    rows = np.asarray(searcher.data.multilingual.dense.vectors)
    own = np.array([int(c.doc_id.split("-")[1]) for c in searcher.chunks])
    cosines = vectors @ rows.T
    pids = np.array([p for p, _ in questions])
    other = cosines[pids[:, None] != own[None, :]]
    return float(np.quantile(other, 1 - share))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/insight-xquad"))
    parser.add_argument("--half", choices=("test", "tune"), default="test")
    parser.add_argument("--every", type=int, default=1, help="keep every n-th question (a faster run)")
    parser.add_argument("--sweep", action="store_true", help="lane weights on the tune half")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0, 2.0, 3.0])
    parser.add_argument("--paragraphs", type=int, default=240, help="the first n paragraphs of each language")
    parser.add_argument("--sentences", action="store_true", help="store summary sentences too (slower)")
    parser.add_argument("--out", type=Path, default=RESULTS / "xquad.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings, info = build(args.work_dir, args.paragraphs, args.sentences)
    parity = 1 if args.half == "test" else 0
    questions = {
        lang: [q for q in read_xquad(lang)[1] if q[0] % 2 == parity and q[0] < args.paragraphs][:: args.every]
        for lang in ("en", "es")
    }
    embedder = make_embedder(settings)
    data = store.load(settings.index_dir, expected_model_id=embedder.model_id)
    lane = make_multilingual_embedder(settings)
    lane.limit_threads(1)
    embedder.limit_threads(1)
    report: dict[str, Any] = {
        "build": info,
        "paragraphs": args.paragraphs,
        "half": args.half,
        "questions": {k: len(v) for k, v in questions.items()},
    }
    systems: dict[str, Any] = {}
    started_load = load_average()
    texts = {lang: [t for _, t in qs] for lang, qs in questions.items()}
    if args.sweep:
        thresholds = {}
        probe = Searcher(data, embedder, settings, multilingual=lane)
        for share in (0.01,):
            thresholds[share] = round(random_pair_threshold(probe, questions["en"], share), 3)
        report["lane_cosine_reached_by_random_pairs"] = thresholds
        for weight in args.weights:
            for threshold in sorted(set(thresholds.values())):
                tuned = settings.model_copy(
                    update={
                        # an English question's list (en->*) follows the English weight, a Spanish one's
                        # (es->en) the other: one sweep chooses both
                        "multilingual_weight": weight,
                        "multilingual_english_weight": weight,
                        "multilingual_match_threshold": threshold,
                    }
                )
                searcher = Searcher(data, embedder, tuned, multilingual=lane)
                t = time.perf_counter()
                runs = {lang: engine(searcher, texts[lang]) for lang in texts}
                systems[f"weight {weight}, threshold {threshold}"] = {
                    **score(runs, questions),
                    "seconds": round(time.perf_counter() - t, 1),
                }
                logging.info(
                    "weight %s threshold %s: %s",
                    weight,
                    threshold,
                    systems[f"weight {weight}, threshold {threshold}"],
                )
    else:
        variants = {
            "today (no lane)": Searcher(data, embedder, settings, multilingual=False),
            "new default": Searcher(data, embedder, settings, multilingual=lane),
        }
        for name, searcher in variants.items():
            t = time.perf_counter()
            runs = {lang: engine(searcher, texts[lang]) for lang in texts}
            systems[name] = {**score(runs, questions), "seconds": round(time.perf_counter() - t, 1)}
            logging.info("%s: %s", name, systems[name])
        t = time.perf_counter()
        alone = variants["new default"]
        runs = {lang: lane_alone(alone, texts[lang]) for lang in texts}
        systems["multilingual model alone"] = {
            **score(runs, questions),
            "seconds": round(time.perf_counter() - t, 1),
        }
    report["systems"] = systems
    report["load_average"] = {"start": started_load, "end": load_average()}
    report["settings"] = {
        "multilingual_weight": settings.multilingual_weight,
        "multilingual_match_threshold": settings.multilingual_match_threshold,
        "fusion": settings.fusion,
    }
    rows = []
    for name, result in systems.items():
        for direction, m in result.items():
            if isinstance(m, dict):
                rows.append({"system": name, "direction": direction, **m})
    report["environment"] = environment()
    write_results(args.out, report, {"XQuAD": markdown_table(rows)})
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
