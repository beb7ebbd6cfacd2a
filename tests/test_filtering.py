"""``filtering.allowed_rows`` against a plain Python scan of the chunks, for random filters."""

from __future__ import annotations

import random

import numpy as np
import pytest

from insight_search.filtering import FilterColumns, allowed_rows, chunk_themes
from insight_search.models import Chunk, Filters
from insight_search.text import fold

from .chunk_samples import sample_chunks


def _plain(chunks: list[Chunk], f: Filters) -> list[int]:
    """The rows a filter allows, one chunk at a time, straight from its fields."""
    kinds = {fold(c.source.kind) for c in chunks}

    def same(value: str | None, candidates: list[str]) -> bool:
        return value is None or fold(value.strip()) in {fold(v) for v in candidates}

    out = []
    for i, c in enumerate(chunks):
        ok = (
            (f.year is None or c.year == f.year)
            and (f.year_from is None or (c.year is not None and c.year >= f.year_from))
            and (f.year_to is None or (c.year is not None and c.year <= f.year_to))
            and same(f.country, [c.country] if c.country else [])
            and same(f.agency, list(c.agencies))
            and same(f.theme, chunk_themes(c))
            and same(f.section, [c.section])
            and same(f.doc_id, [c.doc_id])
        )
        if ok and f.source is not None:
            key = fold(f.source.strip())
            ok = fold(c.source.kind) == key if key in kinds else key in fold(c.source.path)
        if ok:
            out.append(i)
    return out


def _vary(rng: random.Random, value: str) -> str:
    """The same value as a user might type it: other case, stray spaces, accents dropped."""
    value = rng.choice([value, value.upper(), value.lower(), fold(value)])
    return rng.choice(["", " "]) + value + rng.choice(["", "  "])


def _random_filters(rng: random.Random, chunks: list[Chunk]) -> Filters:
    pick = rng.choice
    values = {
        "country": [c.country for c in chunks if c.country] + ["Atlantis"],
        "agency": [a for c in chunks for a in c.agencies] + ["WHO"],
        "theme": [t for c in chunks for t in chunk_themes(c)] + ["space"],
        "section": [c.section for c in chunks] + ["annex"],
        "doc_id": [c.doc_id for c in chunks] + ["doc-999"],
        "source": [c.source.kind for c in chunks] + ["notes", "mexico_outcome", "JSONL", "nowhere"],
    }
    fields: dict[str, object] = {}
    for name in rng.sample(list(values), rng.randint(0, 3)):
        fields[name] = _vary(rng, pick(values[name]))
    years = sorted(rng.sample(range(2016, 2027), 2))
    match rng.randint(0, 4):
        case 0:
            fields["year"] = years[0]
        case 1:
            fields["year_from"] = years[0]
        case 2:
            fields["year_to"] = years[1]
        case 3:
            fields["year_from"], fields["year_to"] = years
    return Filters(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    return sample_chunks(tmp_path_factory.mktemp("filtering"))


def test_allowed_rows_equal_a_plain_scan(chunks: list[Chunk]) -> None:
    columns = FilterColumns.of(chunks)
    rng = random.Random(11)
    nonempty = 0
    for _ in range(400):
        f = _random_filters(rng, chunks)
        got = allowed_rows(columns, f)
        if f.is_empty():
            assert got is None
            continue
        assert got is not None and got.dtype == np.int64
        expected = _plain(chunks, f)
        assert got.tolist() == expected, f
        nonempty += bool(expected)
    assert nonempty > 100  # the random filters do select something often


def test_hand_picked_filters(chunks: list[Chunk]) -> None:
    columns = FilterColumns.of(chunks)
    mexico = allowed_rows(columns, Filters(country=" mexico "))
    assert mexico is not None and len(mexico) > 0
    assert {chunks[i].country for i in mexico} == {"México", "Mexico"} & {c.country for c in chunks}
    undp = allowed_rows(columns, Filters(agency="UNDP"))
    assert undp is not None and all(any(fold(a) == "undp" for a in chunks[i].agencies) for i in undp)
    assert allowed_rows(columns, Filters(theme="genero")).tolist() == [  # type: ignore[union-attr]
        i for i, c in enumerate(chunks) if "Género" in chunk_themes(c)
    ]
    # a reader kind when some chunk has it, else a part of the path
    page = allowed_rows(columns, Filters(source="unwomen-page"))
    assert page is not None and {chunks[i].source.kind for i in page} == {"unwomen-page"}
    by_path = allowed_rows(columns, Filters(source="notes.jsonl"))
    assert by_path is not None and {chunks[i].source.kind for i in by_path} == {"jsonl"}
    assert allowed_rows(columns, Filters(year=1999)).tolist() == []  # type: ignore[union-attr]
    assert allowed_rows(FilterColumns.of([]), Filters(source="x")).tolist() == []  # type: ignore[union-attr]


def test_chunk_themes(chunks: list[Chunk]) -> None:
    listed = next(c for c in chunks if c.themes)
    assert chunk_themes(listed) == list(listed.themes)
    assert any(chunk_themes(c) == [] for c in chunks)
