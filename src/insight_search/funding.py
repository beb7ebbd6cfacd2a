"""Funding and resources facts: outcome-page contributions and UN INFO yearly Required/Available/Expenditure,
as typed records with filters and totals (per year and kind, per partner, per kind).

Filters mean what they mean everywhere (see :class:`insight_search.models.Filters`): ``country`` and
``agency`` equal one of the record's values ignoring case and accents (:func:`insight_search.text.same_name`),
``year`` is the record's year. ``partner`` alone is "part of the partner's name", ignoring case and accents
("european" matches "European Union"): funding-table partner names are long."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from insight_search.models import FundingRecord, FundingResult
from insight_search.text import name_key, same_name


def _name_contains(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value is not None and name_key(wanted) in name_key(value))


def funding(
    records: Sequence[FundingRecord],
    *,
    partner: str | None = None,
    year: int | None = None,
    country: str | None = None,
    agency: str | None = None,
    kind: str | None = None,
    doc_id: str | None = None,
) -> FundingResult:
    selected = [
        r
        for r in records
        if _name_contains(r.partner, partner)
        and (year is None or r.year == year)
        and (not country or (r.country is not None and same_name(r.country, country)))
        and (not agency or any(same_name(a, agency) for a in r.agencies))
        and (kind is None or r.kind == kind)
        and (doc_id is None or r.doc_id == doc_id)
    ]
    by_year: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    by_partner: dict[str, float] = defaultdict(float)
    by_kind: dict[str, float] = defaultdict(float)
    for r in selected:
        amount = r.total or 0.0
        by_year[str(r.year) if r.year is not None else "unknown"][r.kind] += amount
        by_kind[r.kind] += amount
        if r.partner:
            by_partner[r.partner] += amount
    return FundingResult(
        records=tuple(selected),
        totals_by_year={y: dict(v) for y, v in sorted(by_year.items())},
        totals_by_partner=dict(sorted(by_partner.items(), key=lambda kv: -kv[1])),
        totals_by_kind=dict(by_kind),
    )
