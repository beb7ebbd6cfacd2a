"""The five retrieval collections of ``../shared/bench`` in one shape: documents, queries and graded judgements
per split, read from their own layouts (``../shared/README.md``):

- SciFact: the CSV zip (``scifact_data``): test = ``claims_validation.csv`` (the BEIR test queries), train.
- NFCorpus, ArguAna: BEIR's layout in a zip (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``).
  NFCorpus has train, dev and test; ArguAna test only (its self-hits are dropped, as BEIR and MTEB do).
- MEDLINE: ``MED.ALL`` / ``MED.QRY`` / ``MED.REL`` (SMART records; test only: all 30 queries).
- CACM: ``cacm.all`` (``.T`` title, ``.W`` abstract) / ``query.text`` / ``qrels.text`` (the 52 judged queries).

Each collection becomes one JSONL file (``id``, ``title``, ``text``) for the product's reader.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import scifact_data as sd

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
NAMES = ("scifact", "nfcorpus", "arguana", "medline", "cacm")

Qrels = dict[str, dict[str, int]]  # query id -> document id -> grade (> 0)


@dataclass(frozen=True)
class Doc:
    doc_id: str
    title: str
    text: str


@dataclass
class Collection:
    name: str
    documents: list[Doc]
    queries: dict[str, str]  # query id -> text
    qrels: dict[str, Qrels]  # split -> judgements
    ignore_identical_ids: bool = False  # drop a hit whose id is the query's (ArguAna)
    notes: list[str] = field(default_factory=list)

    @property
    def splits(self) -> list[str]:
        return list(self.qrels)

    def judged(self, split: str) -> list[tuple[str, str, dict[str, int]]]:
        """(query id, text, judgements) of every query of ``split`` with at least one relevant document."""
        q = self.qrels[split]
        return [(qid, self.queries[qid], rel) for qid, rel in q.items() if rel and qid in self.queries]

    def write_jsonl(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as f:
            for d in self.documents:
                record = {"id": d.doc_id, "text": d.text}
                if d.title:
                    record["title"] = d.title
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return path


# ---------------------------------------------------------------------------------------------- readers


def _beir(name: str, splits: Sequence[str]) -> Collection:
    with zipfile.ZipFile(BENCH / name / f"{name}.zip") as z:

        def lines(member: str) -> Iterator[dict[str, object]]:
            with z.open(f"{name}/{member}") as raw:
                for line in io.TextIOWrapper(raw, encoding="utf-8"):
                    if line.strip():
                        yield json.loads(line)

        docs = [
            Doc(str(r["_id"]), str(r.get("title") or "").strip(), str(r.get("text") or "").strip())
            for r in lines("corpus.jsonl")
        ]
        queries = {str(r["_id"]): str(r["text"]).strip() for r in lines("queries.jsonl")}
        qrels: dict[str, Qrels] = {}
        for split in splits:
            with z.open(f"{name}/qrels/{split}.tsv") as raw:
                rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8"), delimiter="\t")
                judged: Qrels = {}
                for r in rows:
                    if int(r["score"]) > 0:
                        judged.setdefault(r["query-id"], {})[r["corpus-id"]] = int(r["score"])
            qrels[split] = judged
    return Collection(name, [d for d in docs if d.text or d.title], queries, qrels)


def _smart(path: Path, fields: set[str]) -> dict[str, dict[str, str]]:
    """SMART records: ``.I n`` then ``.X`` fields; the text of the wanted ``fields`` by record id."""
    records: dict[str, dict[str, str]] = {}
    current: dict[str, list[str]] | None = None
    key = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.rstrip("\r")
        m = re.match(r"^\.([A-Z])(?:\s+(\S+))?\s*$", line)
        if m:
            if m.group(1) == "I":
                current = {}
                records[str(int(m.group(2)))] = current  # type: ignore[assignment]
                key = ""
            else:
                key = m.group(1)
            continue
        if current is not None and key in fields:
            current.setdefault(key, []).append(line.strip())
    return {i: {k: " ".join(v).strip() for k, v in r.items()} for i, r in records.items()}  # type: ignore[union-attr]


def _trec_like(path: Path, doc_column: int) -> Qrels:
    judged: Qrels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > doc_column:
            judged.setdefault(str(int(parts[0])), {})[str(int(parts[doc_column]))] = 1
    return judged


def scifact() -> Collection:
    docs = [Doc(a.doc_id, a.title, a.text) for a in sd.load_corpus()]
    queries: dict[str, str] = {}
    qrels: dict[str, Qrels] = {}
    for split in ("train", "test"):
        judged: Qrels = {}
        for c in sd.load_claims(split):
            key = f"{split}-{c.claim_id}"
            queries[key] = c.text
            judged[key] = dict.fromkeys(c.relevant, 1)
        qrels[split] = judged
    return Collection("scifact", docs, queries, qrels)


def nfcorpus() -> Collection:
    return _beir("nfcorpus", ("train", "dev", "test"))


def arguana() -> Collection:
    c = _beir("arguana", ("test",))
    c.ignore_identical_ids = True
    return c


def medline() -> Collection:
    base = BENCH / "medline"
    docs = [Doc(i, "", r.get("W", "")) for i, r in _smart(base / "MED.ALL", {"W"}).items()]
    queries = {i: r.get("W", "") for i, r in _smart(base / "MED.QRY", {"W"}).items()}
    return Collection("medline", docs, queries, {"test": _trec_like(base / "MED.REL", 2)})


def cacm() -> Collection:
    base = BENCH / "cacm"
    docs = []
    for i, r in _smart(base / "cacm.all", {"T", "W"}).items():
        title, abstract = r.get("T", ""), r.get("W", "")
        docs.append(Doc(i, title, abstract) if abstract else Doc(i, "", title))
    queries = {i: r.get("W", "") for i, r in _smart(base / "query.text", {"W"}).items()}
    return Collection("cacm", docs, queries, {"test": _trec_like(base / "qrels.text", 1)})


LOADERS = {"scifact": scifact, "nfcorpus": nfcorpus, "arguana": arguana, "medline": medline, "cacm": cacm}


def available() -> list[str]:
    paths = {
        "scifact": BENCH / "scifact" / "scifact.zip",
        "nfcorpus": BENCH / "nfcorpus" / "nfcorpus.zip",
        "arguana": BENCH / "arguana" / "arguana.zip",
        "medline": BENCH / "medline" / "MED.ALL",
        "cacm": BENCH / "cacm" / "cacm.all",
    }
    return [n for n in NAMES if paths[n].exists()]


def load(name: str) -> Collection:
    return LOADERS[name]()


# ---------------------------------------------------------------------------------------------- metrics


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """Graded nDCG@k as pytrec_eval computes it (gain = grade, log2(rank + 1) discount)."""
    dcg = sum(relevant.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked[:k]))
    ideal = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(relevant.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 100) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0
