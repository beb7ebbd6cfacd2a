"""An IATI activity's ``result`` elements -> passages and typed indicator records.

* one passage per result: its title and description (section ``output`` for an output result, ``outcome``
  for an outcome or impact, ``text`` otherwise; label "Result (output)");
* one passage per indicator: its title and description (section ``indicators``);
* one ``progress_note`` passage per narrative of each period's actual comment, dated by the period
  (``year`` .. ``year_end`` from its start and end dates), labelled "Progress YYYY: <indicator>";
* one :class:`IndicatorRecord` per indicator: measure, baseline (value, year, comment) and per period start,
  end, target, actual and comment (the actual's, else the target's). Values are numbers where the file
  gives numbers, None for "-" or empty, the text otherwise.

A passage's language (``xml:lang``, lower case) ends its label in brackets: "Description [es]".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from insight_search.models import (
    IndicatorPeriod,
    IndicatorRecord,
    IndicatorValue,
    Passage,
    Section,
    SourceRef,
)
from insight_search.sources.common import short_title, year_span
from insight_search.sources.iati_xml import (
    MEASURE,
    RESULT_TYPE,
    Narrative,
    best,
    code,
    iso_date,
    narratives,
    value_of,
    year_of,
)

# Actual comments that say nothing ("N/A" and "-" are already dropped as placeholders): not progress notes.
_NOT_A_NOTE = frozenset({"not applicable", "not available", "none", "nil", "tbd", "n.a"})
_RESULT_SECTION = {"output": Section.OUTPUT, "outcome": Section.OUTCOME, "impact": Section.OUTCOME}
LABEL_TITLE_CHARS = 80


@dataclass(frozen=True)
class ActivityContext:
    """What every part of one activity's records shares."""

    doc_id: str
    source: SourceRef
    lang: str | None  # the activity's default language (``xml:lang`` of the activity, lower case)
    country: str | None
    agencies: tuple[str, ...]


@dataclass
class Results:
    passages: list[Passage]
    indicators: list[IndicatorRecord]
    results: int = 0
    periods: int = 0
    languages: list[str] = field(default_factory=list)  # of the passages, in order of first use

    def label(self, label: str, lang: str | None) -> str:
        if lang and lang not in self.languages:
            self.languages.append(lang)
        return with_lang(label, lang)


def with_lang(label: str, lang: str | None) -> str:
    return f"{label} [{lang}]" if lang else label


def joined(title: Narrative | None, description: Narrative | None) -> tuple[str, str | None] | None:
    """Title and description as one text (and the language of the first), None when both are missing."""
    parts = [n for n in (title, description) if n is not None]
    if not parts:
        return None
    texts = list(dict.fromkeys(n.text for n in parts))
    text = " ".join(t if t.endswith((".", "!", "?", ":")) else t + "." for t in texts[:-1])
    return (f"{text} {texts[-1]}".strip(), parts[0].lang)


def read_results(activity: Element, ctx: ActivityContext) -> Results:
    out = Results(passages=[], indicators=[])
    for result in activity.findall("result"):
        out.results += 1
        kind = RESULT_TYPE.get(code(result, "type") or "")
        title = best(narratives(result.find("title"), ctx.lang), ctx.lang)
        description = best(narratives(result.find("description"), ctx.lang), ctx.lang)
        text = joined(title, description)
        if text is not None:
            section = _RESULT_SECTION.get(kind or "", Section.TEXT)
            label = f"Result ({kind})" if kind else "Result"
            out.passages.append(Passage(text[0], section, label=out.label(label, text[1]), language=text[1]))
        result_title = title.text if title else None
        for position, indicator in enumerate(result.findall("indicator"), start=1):
            record, passages = _indicator(indicator, result_title, position, ctx, out)
            out.indicators.append(record)
            out.passages.extend(passages)
            out.periods += len(record.periods)
    return out


def _indicator(
    indicator: Element, result_title: str | None, position: int, ctx: ActivityContext, out: Results
) -> tuple[IndicatorRecord, list[Passage]]:
    title = best(narratives(indicator.find("title"), ctx.lang), ctx.lang)
    description = best(narratives(indicator.find("description"), ctx.lang), ctx.lang)
    name = title.text if title else (description.text if description else f"Indicator {position}")
    passages: list[Passage] = []
    text = joined(title, description)
    if text is not None:
        passages.append(
            Passage(text[0], Section.INDICATORS, label=out.label("Indicator", text[1]), language=text[1])
        )
    baseline = indicator.find("baseline")
    periods: list[IndicatorPeriod] = []
    for period in indicator.findall("period"):
        start, end = iso_date(period.find("period-start")), iso_date(period.find("period-end"))
        target_value, target_comment = _target_or_actual(period.findall("target"), ctx.lang)
        actual_value, actual_comment = _target_or_actual(period.findall("actual"), ctx.lang)
        periods.append(
            IndicatorPeriod(
                start=start,
                end=end,
                target=target_value,
                actual=actual_value,
                comment=actual_comment or target_comment,
            )
        )
        year, year_end = year_span(start, end)
        label = f"Progress {year}: {short_title(name, LABEL_TITLE_CHARS)}" if year else f"Progress: {name}"
        for actual in period.findall("actual"):
            for note in narratives(actual.find("comment"), ctx.lang):
                if not is_progress_note(note.text):
                    continue
                passages.append(
                    Passage(
                        note.text,
                        Section.PROGRESS_NOTE,
                        year=year,
                        year_end=year_end,
                        label=out.label(label, note.lang),
                        language=note.lang,
                    )
                )
    record = IndicatorRecord(
        doc_id=ctx.doc_id,
        source=ctx.source,
        title=name,
        result=result_title,
        measure=MEASURE.get(code(indicator, "measure") or ""),
        baseline=value_of(baseline.get("value")) if baseline is not None else None,
        baseline_year=_baseline_year(baseline),
        baseline_comment=_comment(baseline, ctx.lang),
        periods=tuple(periods),
        country=ctx.country,
        agencies=ctx.agencies,
    )
    return record, passages


def is_progress_note(text: str) -> bool:
    """A comment that reports something: it has a letter and is not "Not applicable" or the like."""
    return any(c.isalpha() for c in text) and text.casefold().rstrip(".") not in _NOT_A_NOTE


def _baseline_year(baseline: Element | None) -> int | None:
    if baseline is None:
        return None
    return year_of(code(baseline, "year")) or year_of(code(baseline, "iso-date"))


def _comment(element: Element | None, lang: str | None) -> str | None:
    if element is None:
        return None
    chosen = best(narratives(element.find("comment"), lang), lang)
    return chosen.text if chosen else None


def _target_or_actual(elements: list[Element], lang: str | None) -> tuple[IndicatorValue, str | None]:
    """The first value and the first comment of a period's ``target`` (or ``actual``) elements (2.03 allows
    several, by location or dimension)."""
    value: IndicatorValue = None
    comment: str | None = None
    for element in elements:
        if value is None:
            value = value_of(element.get("value"))
        if comment is None:
            comment = _comment(element, lang)
    return value, comment
