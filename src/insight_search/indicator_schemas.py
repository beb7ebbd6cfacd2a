"""JSON shapes of indicator answers (records with their periods, paged), shared by the CLI (--json) and the
HTTP API. A value is a number when the source states one, else its text; null when missing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from insight_search.models import IndicatorPeriod, IndicatorRecord
from insight_search.schemas import SourceOut

_VALUE = 'A number when the source states one, else its text (e.g. "Law adopted"); null when missing'


class IndicatorPeriodOut(BaseModel):
    start: str | None = Field(None, description="Start date as the source gives it (ISO, e.g. 2021-01-01)")
    end: str | None = None
    year: int | None = Field(None, description="The period's year: that of its end date, else its start")
    target: float | str | None = Field(None, description=_VALUE)
    actual: float | str | None = Field(None, description=_VALUE)
    comment: str | None = Field(None, description="The progress narrative reported for the period")

    @classmethod
    def of(cls, p: IndicatorPeriod) -> IndicatorPeriodOut:
        return cls(start=p.start, end=p.end, year=p.year, target=p.target, actual=p.actual, comment=p.comment)


class IndicatorOut(BaseModel):
    doc_id: str = Field(description="The activity's document (its IATI identifier)")
    activity: str | None = Field(None, description="The title of the activity's document")
    result: str | None = Field(None, description="The title of the result the indicator belongs to")
    title: str
    measure: str | None = Field(None, description="unit, percentage, nominal, ordinal or qualitative")
    baseline: float | str | None = Field(None, description=_VALUE)
    baseline_year: int | None = None
    baseline_comment: str | None = None
    periods: list[IndicatorPeriodOut] = Field(default_factory=list)
    country: str | None = None
    agencies: list[str] = Field(default_factory=list)
    source: SourceOut

    @classmethod
    def of(cls, r: IndicatorRecord, activity: str | None = None) -> IndicatorOut:
        return cls(
            doc_id=r.doc_id,
            activity=activity,
            result=r.result,
            title=r.title,
            measure=r.measure,
            baseline=r.baseline,
            baseline_year=r.baseline_year,
            baseline_comment=r.baseline_comment,
            periods=[IndicatorPeriodOut.of(p) for p in r.periods],
            country=r.country,
            agencies=list(r.agencies),
            source=SourceOut.of(r.source),
        )


class IndicatorsOut(BaseModel):
    indicators: list[IndicatorOut]
    total: int = Field(description="Indicators matching the filters (all pages)")
    next_cursor: str | None = None

    @classmethod
    def of(
        cls,
        records: Sequence[IndicatorRecord],
        page: slice,
        next_cursor: str | None,
        activities: Mapping[str, str] | None = None,
    ) -> IndicatorsOut:
        """``records``: all that matched, the ``page`` of them shown; ``activities``: titles by doc_id."""
        titles = activities or {}
        return cls(
            indicators=[IndicatorOut.of(r, titles.get(r.doc_id)) for r in records[page]],
            total=len(records),
            next_cursor=next_cursor,
        )
