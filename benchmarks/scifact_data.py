"""SciFact (BEIR test set, CSV form) from ``../shared/bench/scifact/scifact.zip``: corpus, claims, qrels,
the JSONL the product reads, and the retrieval metrics (nDCG@k, Recall@k) computed as BEIR does.

Relevance: a claim's relevant abstracts are its ``cited_doc_ids`` (grade 1), grouped by claim ``id``:
300 test claims / 339 pairs (``claims_validation.csv``, the BEIR test split) and 809 train claims / 919 pairs
(``claims_train.csv``, used for tuning only).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIFACT_ZIP = ROOT.parent / "shared" / "bench" / "scifact" / "scifact.zip"

_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_IDS = re.compile(r"\d+")


@dataclass(frozen=True)
class Abstract:
    doc_id: str
    title: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(s.strip() for s in self.sentences if s.strip())


@dataclass(frozen=True)
class Claim:
    claim_id: str
    text: str
    relevant: frozenset[str]


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 24)
    with archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")))


def parse_sentences(value: str) -> tuple[str, ...]:
    """The abstract column is a numpy-printed list of strings (no commas): read each literal."""
    return tuple(str(ast.literal_eval(m)) for m in _LITERAL.findall(value))


def load_corpus(path: Path = SCIFACT_ZIP) -> list[Abstract]:
    with zipfile.ZipFile(path) as archive:
        rows = _csv(archive, "corpus_train.csv")
    return [Abstract(r["doc_id"], r["title"].strip(), parse_sentences(r["abstract"])) for r in rows]


def load_claims(split: str, path: Path = SCIFACT_ZIP) -> list[Claim]:
    """``split``: "test" (claims_validation.csv, the BEIR test queries) or "train" (claims_train.csv)."""
    name = {"test": "claims_validation.csv", "train": "claims_train.csv"}[split]
    with zipfile.ZipFile(path) as archive:
        rows = _csv(archive, name)
    texts: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for r in rows:
        texts.setdefault(r["id"], r["claim"].strip())
        relevant.setdefault(r["id"], set()).update(_IDS.findall(r["cited_doc_ids"]))
    return [Claim(cid, texts[cid], frozenset(relevant[cid])) for cid in texts if relevant[cid]]


def write_jsonl(corpus: Sequence[Abstract], path: Path) -> Path:
    """One line per abstract (``id``, ``title``, ``text``) for the product's JSONL reader."""
    with path.open("w", encoding="utf-8") as f:
        for a in corpus:
            f.write(json.dumps({"id": a.doc_id, "title": a.title, "text": a.text}, ensure_ascii=False))
            f.write("\n")
    return path


def ndcg_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k (BEIR / pytrec_eval: gain 1, log2(rank + 1) discount)."""
    dcg = sum(1.0 / math.log2(r + 2) for r, d in enumerate(ranked[:k]) if d in relevant)
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: frozenset[str], k: int = 100) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def evaluate(runs: Mapping[str, Sequence[str]], claims: Sequence[Claim]) -> dict[str, float]:
    """Mean nDCG@10 and Recall@100 of doc-id rankings keyed by claim id (a missing run scores 0)."""
    n = len(claims)
    return {
        "ndcg@10": sum(ndcg_at(runs.get(c.claim_id, []), c.relevant, 10) for c in claims) / n,
        "recall@100": sum(recall_at(runs.get(c.claim_id, []), c.relevant, 100) for c in claims) / n,
    }
