"""``facets.FacetTable.counts`` against ``collections.Counter`` over the same rows."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from insight_search.facets import UNKNOWN, FacetColumn, FacetTable
from insight_search.filtering import chunk_themes
from insight_search.models import Chunk

from .chunk_samples import sample_chunks


def _counter(chunks: list[Chunk], rows: list[int]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {k: Counter() for k in ("years", "countries", "agencies", "themes")}
    for c in (chunks[i] for i in rows):
        out["years"][str(c.year) if c.year is not None else UNKNOWN] += 1
        out["countries"][c.country or UNKNOWN] += 1
        out["agencies"].update(set(c.agencies) or {UNKNOWN})  # a chunk counts once per distinct value
        out["themes"].update(set(chunk_themes(c)) or {UNKNOWN})
    return out


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    return sample_chunks(tmp_path_factory.mktemp("facets"))


def test_counts_equal_the_counter(chunks: list[Chunk]) -> None:
    table = FacetTable.of(chunks)
    n = len(chunks)
    rng = np.random.default_rng(2)
    row_sets = [list(range(n)), rng.choice(n, n // 4, replace=False).tolist(), [n - 1], [0, 0, 3], []]
    for rows in row_sets:
        facets = table.counts(rows)
        expected = _counter(chunks, rows)
        assert list(facets.years) == sorted(expected["years"])  # years ascending
        for name in ("years", "countries", "agencies", "themes"):
            got = dict(getattr(facets, name))
            assert got == dict(expected[name]), name
            if name != "years":
                assert list(got.values()) == sorted(got.values(), reverse=True)  # most frequent first
    assert table.counts(None) == table.counts(np.arange(n))
    assert "UNDP" in table.counts(None).agencies and UNKNOWN in table.counts(None).agencies


def test_single_valued_and_multi_valued_columns() -> None:
    single = FacetColumn.of([["a"], ["b"], ["a"]])
    assert single.single is not None
    assert single.counts(np.array([0, 1, 2])) == {"a": 2, "b": 1}
    multi = FacetColumn.of([["a", "b", "a"], [], ["b"], ["c", "b"]])
    assert multi.single is None
    assert multi.counts(np.array([0, 1, 2, 3])) == {"b": 3, "a": 1, "c": 1}  # ties in order of first value
    assert multi.counts(np.array([3, 1])) == {"c": 1, "b": 1}
    assert multi.counts(np.array([], dtype=np.int64)) == {}


def test_empty_table() -> None:
    facets = FacetTable.of([]).counts(None)
    assert not (facets.years or facets.countries or facets.agencies or facets.themes)
