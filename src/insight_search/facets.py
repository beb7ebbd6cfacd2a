"""Facet counts (pure numpy): year, country, agency, theme and language of a set of rows, most frequent
first.

A chunk holds several values of a facet where its record has several: its agencies, its themes, and each
year of its span (a project from 2023 to 2024 counts in 2023 and in 2024: :data:`YEAR_COUNTING`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from insight_search.filtering import chunk_themes
from insight_search.models import Chunk, Facets

UNKNOWN = "unknown"  # the facet value of a chunk without a year, country, agency, theme or language


@dataclass(frozen=True, eq=False)
class FacetColumn:
    """One facet as a sparse chunk x value table (CSR): each chunk's distinct values, counted with numpy."""

    names: list[str]
    indptr: np.ndarray  # chunk i holds values indices[indptr[i]:indptr[i + 1]]
    indices: np.ndarray

    single: np.ndarray | None = None  # when every chunk holds exactly one value: its code (a faster path)

    @classmethod
    def of(cls, values_per_chunk: Sequence[Sequence[str]]) -> FacetColumn:
        codes: dict[str, int] = {}
        indices: list[int] = []
        indptr = [0]
        for values in values_per_chunk:
            indices.extend(codes.setdefault(v, len(codes)) for v in dict.fromkeys(values))
            indptr.append(len(indices))
        starts = np.array(indptr, dtype=np.int64)
        flat = np.array(indices, dtype=np.int32)
        single = flat if len(flat) == len(values_per_chunk) and np.all(np.diff(starts) == 1) else None
        return cls(list(codes), starts, flat, single)

    def counts(self, rows: np.ndarray) -> dict[str, int]:
        """Value -> number of ``rows`` holding it; most frequent first, ties in index order of the values."""
        if len(rows) == 0:
            return {}
        if self.single is not None:
            codes = self.single[rows]
        else:
            starts = self.indptr[rows]
            lengths = self.indptr[rows + 1] - starts
            total = int(lengths.sum())
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
            codes = self.indices[offsets]
        counts = np.bincount(codes, minlength=len(self.names))
        present = np.flatnonzero(counts)
        order = present[np.argsort(-counts[present], kind="stable")]
        return {self.names[c]: int(counts[c]) for c in order}


YEAR_COUNTING = "a passage counts in every year it covers"  # how the year facet counts (said in responses)


def year_values(chunk: Chunk) -> list[str]:
    """The year facet values of a chunk: each year its span covers, or "unknown"."""
    return [str(y) for y in chunk.years] or [UNKNOWN]


@dataclass(frozen=True, eq=False)
class FacetTable:
    """The facet columns of the loaded chunks."""

    years: FacetColumn
    countries: FacetColumn
    agencies: FacetColumn
    themes: FacetColumn
    languages: FacetColumn  # ISO 639-1 code of the chunk's language, "unknown" without one

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> FacetTable:
        return cls(
            FacetColumn.of([year_values(c) for c in chunks]),
            FacetColumn.of([[c.country or UNKNOWN] for c in chunks]),
            FacetColumn.of([list(c.agencies) or [UNKNOWN] for c in chunks]),
            FacetColumn.of([chunk_themes(c) or [UNKNOWN] for c in chunks]),
            FacetColumn.of([[c.language or UNKNOWN] for c in chunks]),
        )

    def __len__(self) -> int:
        return len(self.years.indptr) - 1

    def counts(self, rows: Sequence[int] | np.ndarray | None = None) -> Facets:
        """Counts by year (ascending), country, agency, theme and language (most frequent first) over ``rows``
        (every chunk when None)."""
        picked = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return Facets(
            years=dict(sorted(self.years.counts(picked).items())),
            countries=self.countries.counts(picked),
            agencies=self.agencies.counts(picked),
            themes=self.themes.counts(picked),
            languages=self.languages.counts(picked),
        )
