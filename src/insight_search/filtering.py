"""Filters over the loaded chunks (pure): per-chunk filter columns built once, and the rows a filter allows.

Text values match case- and accent-insensitively (both sides folded; a language is its ISO 639-1 code,
"es", so "ES" matches too); ``source`` is a reader kind
("uninfo-xlsx"...) when some chunk has that kind, else a part of the folded file path. Years are spans:
``year`` matches the spans holding it, ``year_from`` / ``year_to`` the spans overlapping the range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from insight_search.models import Chunk, Filters
from insight_search.text import fold

# Fields whose values are looked up folded: field -> folded value -> rows
FIELDS = ("country", "agency", "theme", "section", "kind", "doc", "language")


def chunk_themes(c: Chunk) -> list[str]:
    """The themes of a chunk (a UN INFO sub-output is in each theme export that lists it)."""
    return list(c.themes)


def _values(c: Chunk) -> tuple[tuple[str, Sequence[str]], ...]:
    return (
        ("country", [c.country] if c.country else []),
        ("agency", c.agencies),
        ("theme", chunk_themes(c)),
        ("section", [c.section]),
        ("kind", [c.source.kind]),
        ("doc", [c.doc_id]),
        ("language", [c.language] if c.language else []),
    )


@dataclass(frozen=True, eq=False)
class FilterColumns:
    """Per-chunk filter columns, built once at load."""

    years: np.ndarray  # int32 per row: the first year the chunk covers, -1 when it has no year
    year_ends: np.ndarray  # int32 per row: the last year it covers (= ``years`` for one year), -1 when none
    values: Mapping[str, Mapping[str, np.ndarray]]  # field -> folded value -> rows (int64, ascending)
    paths: np.ndarray  # folded source path per row (object)

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> FilterColumns:
        years = np.array([c.year if c.year is not None else -1 for c in chunks], dtype=np.int32)
        ends = np.array([c.years[-1] if c.year is not None else -1 for c in chunks], dtype=np.int32)
        buckets: dict[str, dict[str, list[int]]] = {f: {} for f in FIELDS}
        for i, c in enumerate(chunks):
            for name, vals in _values(c):
                for v in vals:
                    buckets[name].setdefault(fold(str(v)), []).append(i)
        values = {f: {v: np.array(ids, dtype=np.int64) for v, ids in d.items()} for f, d in buckets.items()}
        paths = np.array([fold(c.source.path) for c in chunks], dtype=object)
        return cls(years, ends, values, paths)

    def __len__(self) -> int:
        return len(self.years)

    def rows(self, field: str, value: str) -> np.ndarray:
        """Rows whose ``field`` holds ``value`` (folded here), ascending; empty when none does."""
        found = self.values[field].get(fold(value))
        return found if found is not None else np.zeros(0, dtype=np.int64)


def covering(columns: FilterColumns, year: int) -> np.ndarray:
    """Boolean mask of the rows whose span holds ``year``."""
    return (columns.years >= 0) & (columns.years <= year) & (columns.year_ends >= year)


def year_mask(
    columns: FilterColumns, year: int | None, year_from: int | None, year_to: int | None
) -> np.ndarray | bool:
    """Rows passing the year filters (True when there are none): ``year`` held by the span, ``year_from`` /
    ``year_to`` overlapping it; a row without a year passes none of them."""
    if year is None and year_from is None and year_to is None:
        return True
    mask = columns.years >= 0
    if year is not None:
        mask &= covering(columns, year)
    if year_from is not None:
        mask &= columns.year_ends >= year_from
    if year_to is not None:
        mask &= columns.years <= year_to
    if year_from is not None and year_to is not None and year_from > year_to:
        mask &= False  # an empty range overlaps nothing
    return mask


def allowed_rows(columns: FilterColumns, filters: Filters) -> np.ndarray | None:
    """Rows that pass ``filters``, ascending; None when nothing is filtered."""
    if filters.is_empty():
        return None
    n = len(columns)
    mask = np.ones(n, dtype=bool)
    mask &= year_mask(columns, filters.year, filters.year_from, filters.year_to)
    for name, value in (
        ("country", filters.country),
        ("agency", filters.agency),
        ("theme", filters.theme),
        ("section", filters.section),
        ("doc", filters.doc_id),
        ("language", filters.language),
    ):
        if value is not None:
            sub = np.zeros(n, dtype=bool)
            sub[columns.rows(name, value.strip())] = True
            mask &= sub
    if filters.source is not None:
        key = fold(filters.source.strip())
        kind = columns.values["kind"].get(key)
        sub = np.zeros(n, dtype=bool)
        if kind is not None:
            sub[kind] = True
        elif n:
            sub = np.array([key in p for p in columns.paths], dtype=bool)
        mask &= sub
    return np.flatnonzero(mask)
