"""JSON shapes of funding answers (records and totals), shared by the CLI (--json) and the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from insight_search.models import FundingRecord, FundingResult
from insight_search.schemas import SourceOut


class FundingRecordOut(BaseModel):
    partner: str | None = None
    partner_type: str | None = None
    year: int | None = None
    total: float | None = None
    development: float | None = None
    humanitarian: float | None = None
    kind: str
    currency: str
    country: str | None = None
    agencies: list[str] = Field(default_factory=list)
    doc_id: str
    source: SourceOut

    @classmethod
    def of(cls, r: FundingRecord) -> FundingRecordOut:
        return cls(
            partner=r.partner,
            partner_type=r.partner_type,
            year=r.year,
            total=r.total,
            development=r.development,
            humanitarian=r.humanitarian,
            kind=r.kind,
            currency=r.currency,
            country=r.country,
            agencies=list(r.agencies),
            doc_id=r.doc_id,
            source=SourceOut.of(r.source),
        )


class FundingTotalsOut(BaseModel):
    by_year: dict[str, dict[str, float]]
    by_partner: dict[str, float]
    by_kind: dict[str, float]


class FundingOut(BaseModel):
    records: list[FundingRecordOut]
    totals: FundingTotalsOut
    total_records: int
    next_cursor: str | None = None

    @classmethod
    def of(cls, f: FundingResult, page: slice, next_cursor: str | None) -> FundingOut:
        return cls(
            records=[FundingRecordOut.of(r) for r in f.records[page]],
            totals=FundingTotalsOut(
                by_year={y: dict(v) for y, v in f.totals_by_year.items()},
                by_partner=dict(f.totals_by_partner),
                by_kind=dict(f.totals_by_kind),
            ),
            total_records=len(f.records),
            next_cursor=next_cursor,
        )
