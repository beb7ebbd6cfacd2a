"""Choose ``Settings.match_threshold`` on data: the cosine from which a passage without a query term still
matches a query (issue 11), for the default model (all-MiniLM-L6-v2, torch, bundled).

    python benchmarks/match_threshold.py [--work-dir /tmp/insight-retrieval] [--random-pairs 200]
                                         [--max-random-rate 0.01] [--report-at 0.42]
                                         [--out benchmarks/results/match_threshold.json]

The indexes are those of ``benchmarks/retrieval.py`` (built there once, default settings; this script builds
any that is missing). A document's cosine with a query is the best over its passages (chunk vectors as
indexed), as a document matches when one of its passages does.

Choosing (tuning parts only): SciFact train claims, NFCorpus train and dev queries, and a fixed fifth of the
ArguAna queries (every fifth by sorted id: ArguAna has only test judgements). MEDLINE and CACM have only test
judgements and few queries; they are not used to choose. For each query: the cosine of each judged-relevant
document, and of ``--random-pairs`` random documents it is not judged relevant to. The threshold is the lowest
cosine (step 0.01) at which at most ``--max-random-rate`` of the random (query, document) pairs of every tuning
part reach it, and above the best cosine any of the nonsense strings reaches in any collection.

Reporting (test parts of all five collections, and every part): the share of relevant documents that reach
the threshold by cosine, the share that match by the product's whole definition (a query term after BM25's
analysis, or the cosine: ``Searcher.matching``), the random-pair rates (documents and passages), the mean share
of the collection that ``Searcher.matching`` returns for a query, and the nonsense strings' best cosine and
total.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_data as rd  # noqa: E402
from bench_common import RESULTS, environment, load_average, markdown_table, write_results  # noqa: E402
from insight_search.caching import CachingEmbedder  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder  # noqa: E402
from insight_search.models import Query  # noqa: E402
from insight_search.search import Searcher  # noqa: E402
from retrieval import DEFAULT_WORK, open_collection  # noqa: E402

NONSENSE = ("xqzv blorft", "asdkjh qwpoe", "zzkq vvbn plorf", "qwertyuiop", "flibber jabberwock snorp")
TUNING = {"scifact": ("train",), "nfcorpus": ("train", "dev"), "arguana": ("tune",)}
GRID = np.round(np.arange(0.10, 0.801, 0.01), 2)
ROOT = Path(__file__).resolve().parents[1]


class Pairs:
    """Cosines of one part's (query, document) pairs: judged relevant, and random unjudged ones."""

    def __init__(self, relevant: np.ndarray, random_docs: np.ndarray, random_chunks: np.ndarray) -> None:
        self.relevant, self.random_docs, self.random_chunks = relevant, random_docs, random_chunks

    def summary(self, threshold: float) -> dict[str, Any]:
        return {
            "relevant_pairs": len(self.relevant),
            "relevant_reaching": round(float(np.mean(self.relevant >= threshold)), 4),
            "random_doc_rate": round(float(np.mean(self.random_docs >= threshold)), 5),
            "random_passage_rate": round(float(np.mean(self.random_chunks >= threshold)), 5),
            "relevant_cosine_median": round(float(np.median(self.relevant)), 3),
            "random_doc_cosine_p99": round(float(np.quantile(self.random_docs, 0.99)), 3),
        }


def doc_rows(searcher: Searcher) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(searcher.chunks):
        rows.setdefault(c.doc_id, []).append(i)
    return {d: np.array(r, dtype=np.int64) for d, r in rows.items()}


def part(collection: rd.Collection, split: str) -> list[tuple[str, str, dict[str, int]]]:
    """The judged queries of ``split``; "tune" / "test-rest": ArguAna's every fifth query by id / the rest."""
    if collection.name == "arguana" and split == "tune":
        judged = sorted(collection.judged("test"))
        return judged[::5]
    return collection.judged(split)


def pairs(
    searcher: Searcher,
    judged: Sequence[tuple[str, str, dict[str, int]]],
    by_doc: dict[str, np.ndarray],
    n_random: int,
    rng: np.random.Generator,
    ignore_identical: bool,
) -> Pairs:
    vectors = np.asarray(searcher.data.dense.vectors, dtype=np.float32)
    queries = searcher.embedder.embed_batch([text.strip() for _, text, _ in judged])
    docs = list(by_doc)
    relevant: list[float] = []
    random_docs: list[float] = []
    random_chunks: list[float] = []
    for (qid, _, rel), q in zip(judged, queries, strict=True):
        scores = vectors @ q
        for d in rel:
            if d in by_doc:  # ArguAna: 5 judged documents are absent from the corpus
                relevant.append(float(scores[by_doc[d]].max()))
        picked = 0
        for j in rng.permutation(len(docs)):
            d = docs[int(j)]
            if d in rel or (ignore_identical and d == qid):
                continue
            random_docs.append(float(scores[by_doc[d]].max()))
            random_chunks.append(float(scores[by_doc[d][rng.integers(len(by_doc[d]))]]))
            picked += 1
            if picked == n_random:
                break
    return Pairs(np.array(relevant), np.array(random_docs), np.array(random_chunks))


def whole_definition(
    collection: rd.Collection, searcher: Searcher, judged: Sequence[tuple[str, str, dict[str, int]]]
) -> dict[str, Any]:
    """Through ``Searcher.matching``: the share of relevant documents matched, the share of the collection
    matched per query (mean, median), and how many queries match nothing."""
    n_docs = len({c.doc_id for c in searcher.chunks})
    found, wanted, shares, empty = 0, 0, [], 0
    for qid, text, rel in judged:
        rows = searcher.matching(Query(text=text))
        matched = {searcher.chunks[i].doc_id for i in rows}
        if collection.ignore_identical_ids:
            matched.discard(qid)
        found += len(matched & set(rel))
        wanted += len(rel)
        shares.append(len(matched) / n_docs)
        empty += not matched
    return {
        "relevant_matched": round(found / wanted, 4) if wanted else None,
        "collection_share_matched_mean": round(statistics.fmean(shares), 4),
        "collection_share_matched_median": round(statistics.median(shares), 4),
        "queries_matching_nothing": empty,
    }


def nonsense(searcher: Searcher) -> dict[str, dict[str, Any]]:
    vectors = np.asarray(searcher.data.dense.vectors, dtype=np.float32)
    out = {}
    for text, q in zip(NONSENSE, searcher.embedder.embed_batch(list(NONSENSE)), strict=True):
        out[text] = {"best_cosine": round(float((vectors @ q).max()), 3)}
    return out


def at(searcher: Searcher, threshold: float) -> Searcher:
    """The same index and embedder with ``match_threshold`` set to ``threshold``."""
    settings = searcher.settings.model_copy(update={"match_threshold": threshold})
    return Searcher(searcher.data, searcher.embedder, settings)


def choose(tuning: dict[str, Pairs], nonsense_best: float, max_rate: float) -> float:
    for t in GRID:
        if t <= nonsense_best:
            continue
        if all(np.mean(p.random_docs >= t) <= max_rate for p in tuning.values()):
            return float(t)
    return float(GRID[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collections", default=",".join(rd.NAMES))
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--random-pairs", type=int, default=200)
    parser.add_argument("--max-random-rate", type=float, default=0.01)
    parser.add_argument("--skip-whole", action="store_true", help="skip the Searcher.matching report")
    parser.add_argument("--report-at", type=float, help="report at this threshold instead of the chosen one")
    parser.add_argument("--out", type=Path, default=RESULTS / "match_threshold.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    names = [n for n in args.collections.split(",") if n in rd.available()]
    embedder = CachingEmbedder(make_embedder(Settings()), maxsize=200_000)
    rng = np.random.default_rng(11)
    opened: dict[str, tuple[rd.Collection, Searcher, dict[str, np.ndarray]]] = {}
    tuning: dict[str, Pairs] = {}
    reported: dict[str, Pairs] = {}
    best_nonsense = 0.0
    sense: dict[str, Any] = {}
    for name in names:
        collection, searcher, _ = open_collection(name, args.work_dir, embedder)
        by_doc = doc_rows(searcher)
        opened[name] = (collection, searcher, by_doc)
        splits = [*TUNING.get(name, ()), "test"]
        for split in dict.fromkeys(splits):
            judged = part(collection, split)
            p = pairs(searcher, judged, by_doc, args.random_pairs, rng, collection.ignore_identical_ids)
            (tuning if split in TUNING.get(name, ()) else reported)[f"{name} {split}"] = p
            logging.info(
                "%s %s: %d relevant, %d random pairs", name, split, len(p.relevant), len(p.random_docs)
            )
        sense[name] = nonsense(searcher)
        best_nonsense = max(best_nonsense, max(v["best_cosine"] for v in sense[name].values()))
    threshold = choose(tuning, best_nonsense, args.max_random_rate)
    logging.info("chosen threshold %.2f (nonsense best %.3f)", threshold, best_nonsense)
    chosen = threshold
    if args.report_at is not None:
        threshold = args.report_at
    configured = Settings().match_threshold
    rows = []
    for key, p in {**tuning, **reported}.items():
        rows.append({"part": key, "use": "choose" if key in tuning else "report", **p.summary(threshold)})
    curve = []
    for t in GRID[::5]:
        row: dict[str, Any] = {"threshold": float(t)}
        for key, p in tuning.items():
            row[f"{key}: relevant / random"] = (
                f"{np.mean(p.relevant >= t):.3f} / {np.mean(p.random_docs >= t):.4f}"
            )
        curve.append(row)
    whole: dict[str, Any] = {}
    for name, (collection, searcher, _) in opened.items():
        view = at(searcher, threshold)
        for text in NONSENSE:
            sense[name][text]["total"] = view.search(Query(text=text, k=10)).total
        if not args.skip_whole:
            whole[name] = whole_definition(collection, view, collection.judged("test"))
            logging.info("%s test, whole definition: %s", name, whole[name])
    report = {
        "benchmark": "match_threshold",
        "environment": environment(),
        "load_average_at_end": load_average(),
        "chosen_threshold": chosen,
        "reported_at": threshold,
        "configured_threshold": configured,
        "rule": f"lowest cosine (step 0.01) with at most {args.max_random_rate} random-document rate in every "
        "tuning part, above every nonsense string's best cosine",
        "nonsense_best_cosine": best_nonsense,
        "parts": rows,
        "nonsense": sense,
        "whole_definition_at_reported_threshold": whole,
    }
    tables = {
        f"Pairs at {threshold:.2f} (chosen: {chosen:.2f})": markdown_table(rows),
        "Relevant reaching / random-document rate by threshold (tuning parts)": markdown_table(curve),
    }
    if whole:
        tables[f"Whole definition (term or cosine >= {threshold:.2f}), test parts"] = markdown_table(
            [{"collection": n, **v} for n, v in whole.items()]
        )
    write_results(args.out, report, tables)


if __name__ == "__main__":
    main()
