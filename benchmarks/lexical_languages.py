"""BM25 in each language on XQuAD: the English-only analysis against the per-language one (issue 13).

    python benchmarks/lexical_languages.py [--out PATH.json]

For each language of ../shared/bench/xquad (en, es, ar, ru, zh, de), the 240 paragraphs of that language are
one BM25 index (the product's ``LexicalIndex``, Lucene BM25, k1 1.2, b 0.75) and its 1,190 questions are
asked in the same language; the relevant paragraph is the one the question was written for. Two analyses
side by side: "english" (every text analysed as English, as before issue 13) and "per-language" (each
paragraph analysed in its detected language, the question in English plus its detected language, as the
service does). Reported: recall@10 and MRR@10 per language, and the ratio to English's recall@10 (the goal:
a Spanish query finds Spanish passages as well as an English query finds English ones).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from insight_search.languages import detect  # noqa: E402
from insight_search.lexical import LexicalIndex  # noqa: E402

XQUAD = ROOT.parent / "shared" / "bench" / "xquad"
LANGS = ("en", "es", "de", "ru", "ar", "zh")


def load(lang: str) -> tuple[list[str], list[tuple[str, int]]]:
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    paragraphs: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data:
        for p in article["paragraphs"]:
            questions += [(q["question"], len(paragraphs)) for q in p["qas"]]
            paragraphs.append(p["context"])
    return paragraphs, questions


def evaluate(index: LexicalIndex, questions: list[tuple[str, int]]) -> dict[str, float]:
    hits = 0
    reciprocal = 0.0
    for text, relevant in questions:
        ranked, _ = index.search(text, 10)
        ids = [i for i, _ in ranked]
        if relevant in ids:
            hits += 1
            reciprocal += 1.0 / (ids.index(relevant) + 1)
    return {"recall@10": round(hits / len(questions), 4), "mrr@10": round(reciprocal / len(questions), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    for lang in LANGS:
        paragraphs, questions = load(lang)
        started = time.perf_counter()
        detected = [detect(p) for p in paragraphs]
        detect_ms = 1000 * (time.perf_counter() - started) / len(paragraphs)
        english = LexicalIndex.build(paragraphs)
        own = LexicalIndex.build(paragraphs, languages=detected)
        results[lang] = {
            "english": evaluate(english, questions),
            "per-language": evaluate(own, questions),
            "paragraphs_detected_as": {c: detected.count(c) for c in sorted(set(map(str, detected)))},
            "detect_ms_per_paragraph": round(detect_ms, 2),
        }
    base = {name: results["en"][name]["recall@10"] for name in ("english", "per-language")}  # type: ignore[index]
    for lang in LANGS:
        for name in ("english", "per-language"):
            row = results[lang][name]
            row["vs_en_en"] = round(row["recall@10"] / base[name], 3)  # type: ignore[index]
    with open("/proc/loadavg", encoding="utf-8") as f:
        report = {"results": results, "loadavg": f.read().split()[:3]}
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
