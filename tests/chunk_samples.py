"""A small varied set of chunks read through the real readers (seed outcome page + a JSONL with metadata),
for the tests of the pure filtering, facet and ranking modules."""

from __future__ import annotations

import json
import random
from pathlib import Path

from insight_search.chunking import chunk_document
from insight_search.models import Chunk
from insight_search.sources.registry import read_file

from .conftest import SEED

COUNTRIES = ["México", "Chile", None, "Kenya", "Côte d'Ivoire"]
AGENCIES = [["UN Women"], ["UNDP", "UN Women"], [], ["UNICEF", "UNDP", "undp"], ["OHCHR"]]
THEMES = [["gender"], ["gender", "work"], None, ["youth"], ["Género"]]
SECTIONS = ["outcome", "progress_note", "", "partners"]
WORDS = ["care", "system", "budget", "violence", "shelter", "credit", "rural", "women", "law", "data"]


def sample_chunks(folder: Path, documents: int = 60, seed: int = 5) -> list[Chunk]:
    rng = random.Random(seed)
    lines = []
    for d in range(documents):
        record: dict[str, object] = {
            "id": f"doc-{d}",
            "text": "\n\n".join(
                ". ".join(" ".join(rng.choices(WORDS, k=7)).capitalize() for _ in range(2)) + "."
                for _ in range(rng.randint(1, 3))
            ),
            "agencies": AGENCIES[d % 5],
        }
        if d % 6:
            record["year"] = 2018 + d % 7
        if COUNTRIES[d % 5]:
            record["country"] = COUNTRIES[d % 5]
        if THEMES[d % 5]:
            record["themes"] = THEMES[d % 5]
        elif d % 3 == 0:
            record["theme"] = "Climate"
        if SECTIONS[d % 4]:
            record["section"] = SECTIONS[d % 4]
        lines.append(json.dumps(record))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks: list[Chunk] = []
    for path in (SEED, folder / "notes.jsonl"):
        for doc in read_file(path):
            chunks.extend(chunk_document(doc, max_words=12))
    return chunks
