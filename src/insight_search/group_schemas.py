"""JSON shape of the further passages a hit carries in a search grouped by document (``group=document``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from insight_search.grouping import DocumentHit
from insight_search.models import Hit

PASSAGES_HELP = (
    "With group=document: the document's next best matching passages (up to 3, best first) after the one "
    "this hit shows; empty otherwise"
)


class MatchedPassageOut(BaseModel):
    """A further matching passage of a grouped hit's document (``GET /chunks/{chunk_id}`` has all of it)."""

    chunk_id: str
    passage_index: int
    section: str
    year: int | None = None
    text: str
    highlight: str
    start: int
    end: int
    dense_score: float | None = Field(None, description="Cosine with the query (when in the dense list)")
    lexical_score: float | None = Field(None, description="BM25 score (when it holds a query word)")


def passages_of(hit: Hit) -> list[MatchedPassageOut]:
    """The further passages of ``hit`` (none unless the search was grouped by document)."""
    if not isinstance(hit, DocumentHit):
        return []
    return [
        MatchedPassageOut(
            chunk_id=p.chunk.chunk_id,
            passage_index=p.chunk.passage_index,
            section=p.chunk.section,
            year=p.chunk.year,
            text=p.chunk.text,
            highlight=p.highlight,
            start=p.chunk.start,
            end=p.chunk.end,
            dense_score=p.dense_score,
            lexical_score=p.lexical_score,
        )
        for p in hit.passages
    ]
