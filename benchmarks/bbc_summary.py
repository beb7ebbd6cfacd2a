"""Generic (no query) summary quality on BBC News Summary: ours against Lead-3, Lead-N and sumy baselines.

    python benchmarks/bbc_summary.py [--limit N] [--subset all|odd|even] [--out PATH.json] [--vectors]

Reads ``articles.zip`` and ``summaries.zip`` from ``../shared/bench/bbc-news-summary`` without extracting them
and pairs article and reference summary by ``<category>/<NNN>.txt``. The first line of an article is its
title; it is dropped from the candidates of every system. Article sentences come from
:func:`insight_search.text.split_sentences` once, and every system (ours, Lead-3, Lead-N, sumy's LexRank,
TextRank, LSA, Luhn) chooses among those same sentences.

Length budget: the reference joins its sentences without spaces, so its sentences are counted as the
number of distinct article sentences whose text occurs verbatim in the reference (the references are
extractive: these matches cover 99.9% of the reference characters on average). A regex on ``.(?=[A-Z])``
undercounts: list items such as ``- Best actor - ...`` end without a period. When nothing matches (never on
this data) the regex count is the fallback.

Every system's summary is its chosen sentences in article order, joined by spaces, scored with
``rouge-score`` (ROUGE-1/2/L F1, ``use_stemmer=True``) against the reference text as it is. Times are the
per-article milliseconds of each system's own work (for sumy: building its document objects, tokenising,
stemming, ranking); the shared sentence split is timed once and reported on its own line.

``--vectors`` adds ours with sentence embeddings (the bundled model), as a summary of the service uses them
(for the redundancy of chosen sentences; no query here): once with the vectors as ``embed_batch`` returns
them (a summary of an index without stored sentences), once with the vectors written at "index time" by
``sentence_store.SentenceWriter`` (float16) and looked up in the memory-mapped ``SentenceStore``, as a
summary of a newer index reads them. Every article's sentences are embedded once, before either runs.
"""

from __future__ import annotations

import os

# One BLAS thread for every system: per-article latency is what is measured, and multi-threaded BLAS on
# small matrices only adds thread hand-offs (badly so on a busy machine). Set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

from bench_common import cpu_model  # noqa: E402
from insight_search.sentence_ranking import rank_sentences  # noqa: E402
from insight_search.text import split_sentences  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "bench" / "bbc-news-summary"
OUT = ROOT / "benchmarks" / "results" / "bbc_summary.json"
ARTICLES_PREFIX = "bbc-fulltext/bbc/"
SUMMARIES_PREFIX = "BBC News Summary/"
_REF_SENTENCE_END = re.compile(r"\.(?=[A-Z])")

Selector = Callable[[Sequence[str], int], list[int]]


@dataclass(frozen=True)
class Article:
    key: str  # "<category>/<NNN>.txt"
    sentences: tuple[str, ...]
    reference: str
    budget: int


def reference_sentence_count(sentences: Sequence[str], reference: str) -> int:
    """Number of distinct article sentences found verbatim in the reference (regex count as a fallback)."""
    matched = {s for s in sentences if s in reference}
    if matched:
        return len(matched)
    return max(1, len(_REF_SENTENCE_END.findall(reference)) + 1)


def load_articles(folder: Path, subset: str = "all", limit: int | None = None) -> tuple[list[Article], float]:
    """The paired articles (sorted by key) and the total seconds spent splitting their sentences."""
    articles_zip, summaries_zip = folder / "articles.zip", folder / "summaries.zip"
    if not articles_zip.is_file() or not summaries_zip.is_file():
        sys.exit(f"BBC News Summary not found: expected {articles_zip} and {summaries_zip}")
    out: list[Article] = []
    split_seconds = 0.0
    with zipfile.ZipFile(articles_zip) as arts, zipfile.ZipFile(summaries_zip) as sums:
        summary_names = {n[len(SUMMARIES_PREFIX) :]: n for n in sums.namelist() if n.endswith(".txt")}
        for name in sorted(arts.namelist()):
            if not name.endswith(".txt") or not name.startswith(ARTICLES_PREFIX):
                continue
            key = name[len(ARTICLES_PREFIX) :]
            number = int(Path(key).stem)
            if (subset == "odd" and number % 2 == 0) or (subset == "even" and number % 2 == 1):
                continue
            if key not in summary_names:
                continue
            text = arts.read(name).decode("utf-8", errors="replace")
            reference = sums.read(summary_names[key]).decode("utf-8", errors="replace").strip()
            body = text.split("\n", 1)[1] if "\n" in text else ""  # the first line is the title
            start = time.perf_counter()
            sentences = tuple(split_sentences(body))
            split_seconds += time.perf_counter() - start
            if not sentences or not reference:
                continue
            out.append(Article(key, sentences, reference, reference_sentence_count(sentences, reference)))
            if limit is not None and len(out) >= limit:
                break
    return out, split_seconds


# --- systems -------------------------------------------------------------------------------------------


def lead3(sentences: Sequence[str], budget: int) -> list[int]:
    return list(range(min(3, len(sentences))))


def lead_n(sentences: Sequence[str], budget: int) -> list[int]:
    return list(range(min(budget, len(sentences))))


def ours(sentences: Sequence[str], budget: int) -> list[int]:
    return rank_sentences(sentences, max_sentences=budget)


class _SumyWords:
    """sumy's English tokenizer for words only. sumy's own ``Tokenizer`` loads NLTK's punkt data even for
    words (``nltk.word_tokenize`` splits sentences first); the sentences are already split here, so the
    same Treebank word tokenizer runs on each sentence directly, with sumy's word filter."""

    language = "english"

    def __init__(self) -> None:
        from nltk.tokenize import NLTKWordTokenizer
        from sumy.nlp.tokenizers import Tokenizer

        self._tokenize = NLTKWordTokenizer().tokenize
        self._is_word = Tokenizer._is_word

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(w for w in self._tokenize(sentence) if self._is_word(w))


def sumy_systems() -> dict[str, Selector]:
    """LexRank, TextRank, LSA and Luhn as sumy's README sets them up (English stemmer and stop words)."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.lsa import LsaSummarizer
    from sumy.summarizers.luhn import LuhnSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    words = _SumyWords()
    stop_words = get_stop_words("english")

    def make(cls: type) -> Selector:
        summarizer = cls(Stemmer("english"))
        summarizer.stop_words = stop_words

        def select(sentences: Sequence[str], budget: int) -> list[int]:
            objects = [Sentence(s, words) for s in sentences]
            document = ObjectDocumentModel([Paragraph(objects)])
            chosen = {id(s) for s in summarizer(document, budget)}
            return [i for i, s in enumerate(objects) if id(s) in chosen]

        return select

    return {
        "LexRank (sumy)": make(LexRankSummarizer),
        "TextRank (sumy)": make(TextRankSummarizer),
        "LSA (sumy)": make(LsaSummarizer),
        "Luhn (sumy)": make(LuhnSummarizer),
    }


def all_systems(with_sumy: bool = True) -> dict[str, Selector]:
    sumy = sumy_systems() if with_sumy else {}
    return {"Lead-3": lead3, "Lead-N": lead_n, **sumy, "insight-search (ours)": ours}


def vector_systems(articles: Sequence[Article], folder: Path) -> dict[str, Selector]:
    """Ours with sentence vectors: embedded now (float32), and stored then looked up (float16)."""
    import numpy as np

    from insight_search.embedding import SentenceTransformerEmbedder
    from insight_search.sentence_store import SentenceStore, SentenceWriter

    embedder = SentenceTransformerEmbedder()
    writer = SentenceWriter(folder, embedder.dimension)
    fresh: dict[tuple[str, ...], np.ndarray] = {}
    row_of: dict[tuple[str, ...], int] = {}
    for row, article in enumerate(articles):
        vectors = embedder.embed_batch(list(article.sentences))
        fresh[article.sentences] = vectors
        row_of[article.sentences] = row
        ends = np.cumsum([len(s) + 1 for s in article.sentences])  # offsets in the sentences joined by " "
        spans = [(int(e - len(s) - 1), int(e - 1)) for s, e in zip(article.sentences, ends, strict=True)]
        writer.add([spans], vectors)
    writer.close()
    stored = SentenceStore.load(folder, embedder.dimension, len(articles))
    assert stored is not None

    def with_fresh(sentences: Sequence[str], budget: int) -> list[int]:
        return rank_sentences(sentences, max_sentences=budget, sentence_vectors=fresh[tuple(sentences)])

    def with_stored(sentences: Sequence[str], budget: int) -> list[int]:
        vectors = stored.sentences(row_of[tuple(sentences)]).vectors
        return rank_sentences(sentences, max_sentences=budget, sentence_vectors=vectors)

    return {
        "insight-search (ours, sentence vectors embedded now)": with_fresh,
        "insight-search (ours, sentence vectors stored, float16)": with_stored,
    }


# --- scoring -------------------------------------------------------------------------------------------


def evaluate(articles: Sequence[Article], systems: dict[str, Selector]) -> dict[str, dict[str, float]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    results: dict[str, dict[str, float]] = {}
    for name, select in systems.items():
        sums = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        seconds: list[float] = []
        for article in articles:
            start = time.perf_counter()
            chosen = select(article.sentences, article.budget)
            seconds.append(time.perf_counter() - start)
            summary = " ".join(article.sentences[i] for i in sorted(set(chosen)))
            scores = scorer.score(article.reference, summary)
            for metric in sums:
                sums[metric] += scores[metric].fmeasure
        n = max(1, len(articles))
        results[name] = {
            "rouge1": 100 * sums["rouge1"] / n,
            "rouge2": 100 * sums["rouge2"] / n,
            "rougeL": 100 * sums["rougeL"] / n,
            "ms_mean": 1000 * statistics.fmean(seconds) if seconds else 0.0,
            "ms_p95": 1000 * sorted(seconds)[int(0.95 * (len(seconds) - 1))] if seconds else 0.0,
            "ms_max": 1000 * max(seconds) if seconds else 0.0,
        }
        print(f"  {name}: done", file=sys.stderr, flush=True)
    return results


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("insight-search", "rouge-score", "sumy", "nltk", "numpy", "PyStemmer"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def markdown(report: dict) -> str:
    lines = [
        "| System | ROUGE-1 | ROUGE-2 | ROUGE-L | ms/article (mean) | ms/article (p95) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["systems"].items():
        lines.append(
            f"| {name} | {r['rouge1']:.1f} | {r['rouge2']:.1f} | {r['rougeL']:.1f} "
            f"| {r['ms_mean']:.2f} | {r['ms_p95']:.2f} |"
        )
    lines.append(
        f"\n{report['articles']} articles ({report['subset']}), mean budget {report['mean_budget']:.2f} "
        f"sentences of {report['mean_sentences']:.2f}; sentence splitting (shared by all systems) "
        f"{report['split_ms_mean']:.2f} ms/article."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=DATA, help="folder holding articles.zip and summaries.zip"
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles (sorted by key)")
    parser.add_argument("--subset", choices=("all", "odd", "even"), default="all", help="article numbers")
    parser.add_argument("--systems", default=None, help="comma-separated names to run (default: all)")
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"results JSON (default {OUT.relative_to(ROOT)})"
    )
    parser.add_argument("--vectors", action="store_true", help="add ours with sentence vectors (real model)")
    args = parser.parse_args(argv)

    articles, split_seconds = load_articles(args.data, args.subset, args.limit)
    wanted = {s.strip().lower() for s in args.systems.split(",")} if args.systems else set()
    systems = all_systems(not wanted or bool(wanted & {"lexrank", "textrank", "lsa", "luhn"}))
    if wanted:
        systems = {k: v for k, v in systems.items() if k.lower() in wanted or k.split()[0].lower() in wanted}
    if args.vectors:
        import tempfile

        systems.update(vector_systems(articles, Path(tempfile.mkdtemp(prefix="bbc-sentences-"))))
    n = max(1, len(articles))
    report = {
        "dataset": "BBC News Summary",
        "date": date.today().isoformat(),
        "machine": machine(),
        "versions": versions(),
        "command": "python benchmarks/bbc_summary.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "subset": args.subset,
        "articles": len(articles),
        "mean_budget": sum(a.budget for a in articles) / n,
        "mean_sentences": sum(len(a.sentences) for a in articles) / n,
        "split_ms_mean": 1000 * split_seconds / n,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "load_average_before": round(os.getloadavg()[0], 2),
        "systems": evaluate(articles, systems),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    print(markdown(report))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
