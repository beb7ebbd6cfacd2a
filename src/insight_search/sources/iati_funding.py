"""An IATI activity's budgets and transactions -> :class:`FundingRecord`.

* ``budget`` -> kind "budget", the year of its period start (else of its value date). Where the activity
  gives an original budget (type 1) and a revised one (type 2) for the same period, the revised one replaces
  it (IATI's rule), so a period is not counted twice; the number replaced is kept in the document metadata.
* ``transaction`` -> kind by ``transaction-type``: 2 commitment, 3 disbursement, 4 expenditure, 1 (incoming
  funds) contribution, its partner the provider; for the outgoing kinds the partner is the receiver. The
  year is the transaction date's, else the value date's. Other types (incoming commitment, pledges, loan
  and equity flows) are counted by type in the metadata, not recorded.

Currency: the value's ``currency``, else the activity's ``default-currency``, else "" (unknown: no guess).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from insight_search.models import FundingRecord
from insight_search.sources.common import amount
from insight_search.sources.iati_results import ActivityContext
from insight_search.sources.iati_xml import (
    ORG_TYPE,
    TRANSACTION_KIND,
    TRANSACTION_TYPE,
    code,
    iso_date,
    text_of,
    year_of,
)


@dataclass
class Funding:
    records: list[FundingRecord] = field(default_factory=list)
    budgets: int = 0  # budget elements in the activity
    budgets_replaced: int = 0  # original budgets replaced by a revised one for the same period
    transactions: int = 0  # transaction elements in the activity
    other_transactions: Counter[str] = field(default_factory=Counter)  # type name -> count, not recorded
    bad_values: int = 0  # values that are not numbers, skipped


def read_funding(activity: Element, ctx: ActivityContext, default_currency: str) -> Funding:
    out = Funding()
    budgets = activity.findall("budget")
    out.budgets = len(budgets)
    revised = {_period(b) for b in budgets if code(b, "type") == "2"}
    for budget in budgets:
        if code(budget, "type") == "1" and _period(budget) in revised:
            out.budgets_replaced += 1
            continue
        value = budget.find("value")
        year = year_of(iso_date(budget.find("period-start"))) or year_of(code(value, "value-date"))
        _add(out, "budget", value, year, None, None, ctx, default_currency)
    for transaction in activity.findall("transaction"):
        out.transactions += 1
        type_code = code(transaction.find("transaction-type")) or ""
        kind = TRANSACTION_KIND.get(type_code)
        if kind is None:
            out.other_transactions[TRANSACTION_TYPE.get(type_code, type_code or "no type")] += 1
            continue
        value = transaction.find("value")
        date = iso_date(transaction.find("transaction-date")) or code(value, "value-date")
        org = transaction.find("provider-org" if kind == "contribution" else "receiver-org")
        partner = text_of(org, ctx.lang)
        partner_type = ORG_TYPE.get(code(org, "type") or "") if partner else None
        _add(out, kind, value, year_of(date), partner, partner_type, ctx, default_currency)
    return out


def _period(budget: Element) -> tuple[str | None, str | None]:
    return iso_date(budget.find("period-start")), iso_date(budget.find("period-end"))


def _add(
    out: Funding,
    kind: str,
    value: Element | None,
    year: int | None,
    partner: str | None,
    partner_type: str | None,
    ctx: ActivityContext,
    default_currency: str,
) -> None:
    total = amount((value.text or "").strip()) if value is not None else None
    if total is None or value is None:
        out.bad_values += 1
        return
    out.records.append(
        FundingRecord(
            kind=kind,
            year=year,
            total=total,
            doc_id=ctx.doc_id,
            source=ctx.source,
            partner=partner,
            partner_type=partner_type,
            currency=(code(value, "currency") or default_currency).upper(),
            country=ctx.country,
            agencies=ctx.agencies,
        )
    )
