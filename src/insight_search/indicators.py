"""Indicator progress as typed records: each results indicator of an activity (IATI ``result/indicator``) with
its baseline and, per reporting period, target, actual and the progress comment. Filters, and the lines a
query's timeline shows for the indicators of the documents that matched.

Filters mean what they mean everywhere (see :class:`insight_search.models.Filters`): ``country`` and
``agency`` equal one of the record's values ignoring case and accents (:func:`insight_search.text.same_name`),
``doc_id`` is exact. ``year`` matches an indicator when one of its periods covers the year (from the year of
its start date to the year of its end date, both included; a period with one date covers that date's year);
the baseline year alone does not match, since a baseline states where an indicator started, not progress.
``text`` matches on the indicator's title: every word of it starts a word of the title, ignoring case and
accents ("framework drr" matches "Number of national legal and policy frameworks on DRR ...").

A timeline line is placed at a period's year (:attr:`IndicatorPeriod.year`: the year of its end date, the
year its target and actual are for)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from insight_search.models import (
    IndicatorLine,
    IndicatorPeriod,
    IndicatorRecord,
    IndicatorValue,
    TimelineYear,
)
from insight_search.text import same_name, words

TIMELINE_LINES_PER_YEAR = 10  # indicator lines a timeline year shows at most (best matching documents first)


def linked_ids(metadata: Mapping[str, Any]) -> list[str]:
    """The IATI activity a document is the same outcome as: an outcome page whose metadata sidecar names it
    (``iati_identifier``, the key an IATI activity carries with its own id). A query's timeline shows the
    indicators of that activity beside the page's progress notes."""
    linked = metadata.get("iati_identifier")
    return [linked] if isinstance(linked, str) and linked else []


def _date_year(date: str | None) -> int | None:
    return int(date[:4]) if date and date[:4].isdigit() else None


def period_covers(period: IndicatorPeriod, year: int) -> bool:
    """True when ``period`` runs through ``year`` (see the module docstring)."""
    first, last = _date_year(period.start), _date_year(period.end)
    first = first if first is not None else last
    last = last if last is not None else first
    return first is not None and last is not None and first <= year <= last


def title_matches(title: str, text: str) -> bool:
    """Every word of ``text`` starts a word of ``title`` (folded: case and accents ignored)."""
    title_words = words(title)
    return all(any(w.startswith(wanted) for w in title_words) for wanted in words(text))


def indicators(
    records: Sequence[IndicatorRecord],
    *,
    text: str | None = None,
    year: int | None = None,
    country: str | None = None,
    agency: str | None = None,
    doc_id: str | None = None,
) -> tuple[IndicatorRecord, ...]:
    """The records that pass every filter given, in index order."""
    return tuple(
        r
        for r in records
        if (not text or title_matches(r.title, text))
        and (year is None or any(period_covers(p, year) for p in r.periods))
        and (not country or (r.country is not None and same_name(r.country, country)))
        and (not agency or any(same_name(a, agency) for a in r.agencies))
        and (doc_id is None or r.doc_id == doc_id)
    )


def value_text(value: IndicatorValue) -> str:
    """A value as a person writes it: 1.0 -> "1", 0.35 -> "0.35", text as is, missing -> "-"."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
    return value


def period_text(target: IndicatorValue, actual: IndicatorValue) -> str:
    """ "target 1, actual 2"; a missing value is left out ("target 1"); "no target or actual" for neither."""
    stated = (("target", target), ("actual", actual))
    parts = [f"{name} {value_text(v)}" for name, v in stated if v is not None]
    return ", ".join(parts) or "no target or actual"


def timeline_lines(
    records: Iterable[IndicatorRecord], years: Iterable[int], per_year: int = TIMELINE_LINES_PER_YEAR
) -> dict[int, tuple[IndicatorLine, ...]]:
    """For each of ``years``, a line per period of that year (:attr:`IndicatorPeriod.year`) of ``records``
    (in their order: the indicators of the best matching documents first) that states a target or an actual,
    at most ``per_year`` lines a year. Years without one are left out."""
    wanted = set(years)
    lines: dict[int, list[IndicatorLine]] = {}
    for r in records:
        for p in r.periods:
            year = p.year
            if year is None or year not in wanted or (p.target is None and p.actual is None):
                continue
            year_lines = lines.setdefault(year, [])
            if len(year_lines) < per_year:
                year_lines.append(IndicatorLine(r.doc_id, r.title, p.target, p.actual, p.comment))
    return {y: tuple(v) for y, v in lines.items()}


def timeline_markdown(years: Iterable[TimelineYear]) -> str:
    """The indicator lines of a timeline for its Markdown snippet: a list after the year paragraphs, one
    item per line ("- **2021** title: target 1, actual 2 (doc_id)"); "" when no year has one."""
    items = [
        f"- **{y.year}** {i.title}: {period_text(i.target, i.actual)} ({i.doc_id})"
        for y in years
        for i in y.indicators
    ]
    if not items:
        return ""
    return "\nIndicators (target and actual of the year's period):\n" + "\n".join(items) + "\n"
