"""Language detection on short UN texts: py3langid against lingua-language-detector (and the product's own
:func:`insight_search.languages.detect`), side by side in one run.

    python benchmarks/language_detect.py [--per-set N] [--out PATH.json]

Sets, each with the language it is in:

* ``uninfo-es`` / ``uninfo-fr`` / ``uninfo-en``: UN INFO sub-output names and descriptions (../shared/data/
  uninfo-api) of Spanish-speaking (MEX, COL, GTM, HND, SLV, PER), French-speaking (SEN, MLI, CIV, BFA, NER,
  TGO) and English-speaking (KEN, GHA, NGA, ZMB, LBR, SLE) country teams. The files state no language; the
  label is the country team's working language, so a row written in another language (an English sub-output
  in Mexico) counts as an error for every detector alike: these accuracies are a lower bound, and the rows
  where *every* detector disagrees with the label are counted apart ("all_disagree": mostly label noise).
* ``xquad-q-LANG``: XQuAD questions (5-15 words) in en, es, ar, ru, zh (../shared/bench/xquad);
* ``xquad-p-LANG``: XQuAD paragraphs.

Every detector is restricted to the same languages (:data:`insight_search.languages.LANGUAGES`: the six UN
languages, Portuguese and a few more). Accuracy is the share of texts given their label; the time is the
mean microseconds a text (detector warmed up first), the memory the resident-set growth of loading it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from insight_search.languages import LANGUAGES, detect  # noqa: E402

SHARED = ROOT.parent / "shared"
UNINFO = SHARED / "data" / "uninfo-api"
XQUAD = SHARED / "bench" / "xquad"
COUNTRIES = {
    "es": ("MEX", "COL", "GTM", "HND", "SLV", "PER"),
    "fr": ("SEN", "MLI", "CIV", "BFA", "NER", "TGO"),
    "en": ("KEN", "GHA", "NGA", "ZMB", "LBR", "SLE"),
}


def uninfo_texts(countries: Sequence[str]) -> list[str]:
    texts: list[str] = []
    for code in countries:
        path = UNINFO / f"{code}.json"
        if not path.exists():
            continue
        for project in json.loads(path.read_text(encoding="utf-8")).get("projects", []):
            for key in ("name", "description"):
                value = (project.get(key) or "").strip()
                if len(value) >= 20:
                    texts.append(value)
    return sorted(set(texts))


def xquad_texts(lang: str) -> tuple[list[str], list[str]]:
    data = json.loads((XQUAD / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
    questions = [q["question"] for a in data for p in a["paragraphs"] for q in p["qas"]]
    return questions, paragraphs


def sets(per_set: int, seed: int = 13) -> dict[str, tuple[str, list[str]]]:
    rng = random.Random(seed)

    def sample(texts: list[str]) -> list[str]:
        return rng.sample(texts, min(per_set, len(texts)))

    out = {f"uninfo-{lang}": (lang, sample(uninfo_texts(c))) for lang, c in COUNTRIES.items()}
    for lang in ("en", "es", "ar", "ru", "zh"):
        questions, paragraphs = xquad_texts(lang)
        out[f"xquad-q-{lang}"] = (lang, sample(questions))
        out[f"xquad-p-{lang}"] = (lang, sample(paragraphs))
    return out


def rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def py3langid_detector() -> Callable[[str], str | None]:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(list(LANGUAGES))
    return lambda text: identifier.classify(text)[0]


def lingua_detector(low_accuracy: bool = False) -> Callable[[str], str | None]:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_iso_codes_639_1(
        *(getattr(IsoCode639_1, c.upper()) for c in LANGUAGES)
    )
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.with_preloaded_language_models().build()

    def run(text: str) -> str | None:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else None

    return run


DETECTORS: dict[str, Callable[[], Callable[[str], str | None]]] = {
    "py3langid": py3langid_detector,
    "lingua": lingua_detector,
    "lingua-low": lambda: lingua_detector(low_accuracy=True),
    "product": lambda: detect,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-set", type=int, default=300, help="texts drawn from each set")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    data = sets(args.per_set)
    results: dict[str, dict[str, object]] = {}
    predictions: dict[str, dict[str, list[str | None]]] = {}
    for name, make in DETECTORS.items():
        before = rss_mb()
        started = time.perf_counter()
        run = make()
        run("warm up the detector with a sentence")
        load_s = time.perf_counter() - started
        memory = rss_mb() - before
        row: dict[str, object] = {"load_s": round(load_s, 2), "rss_mb": round(memory, 1)}
        seconds = 0.0
        count = 0
        predictions[name] = {}
        for set_name, (lang, texts) in data.items():
            started = time.perf_counter()
            got = [run(t) for t in texts]
            seconds += time.perf_counter() - started
            count += len(texts)
            predictions[name][set_name] = got
            row[set_name] = round(sum(g == lang for g in got) / len(texts), 3)
        row["us_per_text"] = round(1e6 * seconds / count, 1)
        results[name] = row
    disagree = {
        set_name: sum(all(predictions[n][set_name][i] != lang for n in DETECTORS) for i in range(len(texts)))
        for set_name, (lang, texts) in data.items()
    }
    sizes = {set_name: len(texts) for set_name, (_, texts) in data.items()}
    report = {"sizes": sizes, "all_disagree": disagree, "results": results, "languages": list(LANGUAGES)}
    with open("/proc/loadavg", encoding="utf-8") as f:
        report["loadavg"] = f.read().split()[:3]
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
