"""Reader for UN INFO API country dumps (``<ISO3>.json``).

A file holds the country's Cooperation Framework tree (``framework``: strategic priority -> outcome -> output,
each with code, name, description, money) and its sub-outputs (``projects``: agency, code, name, description,
start, end, outcome, required, available, spent). Both become documents:

* one per framework node with text: ``uninfo-api:<ISO3>:fw:<id>``, passage section by depth, its outcome
  the node itself (an outcome) or the outcome above it (an output);
* one per sub-output: ``uninfo-api:<ISO3>:p:<id>``. The API lists a joint sub-output once per agency under the
  same id (same text, the agency's own money); those entries are merged into one document with every agency
  and one funding record per agency and kind. Money is the total over start..end, so its year is None.
  The document covers the years from its start to its end date (``year`` .. ``year_end``), and so do its
  passages.

The file states no period for its framework (no plan dates), so framework documents carry no year.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document, FundingRecord, Passage, Section, SourceRef
from insight_search.sources.common import (
    Warn,
    amount,
    clean_text,
    date_year,
    default_warn,
    distinct,
    extension,
    read_text_file,
    scalar,
    short_error,
    short_title,
    split_names,
    year_span,
)

logger = logging.getLogger(__name__)

KIND = "uninfo-json"
EXTENSIONS = frozenset({".json"})
ID_PREFIX = "uninfo-api"

# Framework depth -> (section, label)
_LEVELS = (
    (Section.STRATEGIC_PRIORITY, "Strategic priority"),
    (Section.OUTCOME, "Outcome"),
    (Section.OUTPUT, "Output"),
)
_DEEPER = (Section.SUB_OUTPUT, "Sub-output")
_MONEY = (("required", "required"), ("available", "available"), ("spent", "expenditure"))
_MAX_DEPTH = 32


def sniff(path: Path, head: bytes) -> bool:
    """Any ``.json`` file: a file of another shape is refused by :func:`load_country_file` with its reason."""
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_uninfo_json(path, warn)


def read_uninfo_json(path: Path, warn: Warn | None = None) -> Iterator[Document]:
    """Framework documents (tree order), then sub-output documents (list order) of one country file."""
    report = warn or default_warn
    data = load_country_file(path)
    iso3 = path.stem.upper()
    country = clean_text(data.get("name")) or iso3
    base = {"iso3": iso3, "workspace_id": scalar(data.get("workspace_id"))}
    context = _Context(path=path, iso3=iso3, country=country, base=base, report=report)
    yield from _framework_documents(data.get("framework"), context)
    yield from _project_documents(data.get("projects"), context)


def load_country_file(path: Path) -> dict[str, Any]:
    """The parsed file; UnreadableFile when it is not JSON or not shaped like a UN INFO country file."""
    text = read_text_file(path)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UnreadableFile(path, f"invalid JSON: {short_error(exc)}") from exc
    except RecursionError as exc:
        raise UnreadableFile(path, "invalid JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        raise UnreadableFile(path, f"not a UN INFO country file: top level is a {type(data).__name__}")
    if not isinstance(data.get("projects"), list) and not isinstance(data.get("framework"), list):
        raise UnreadableFile(path, "not a UN INFO country file: no 'projects' or 'framework' list")
    return data


@dataclass(frozen=True)
class _Context:
    path: Path
    iso3: str
    country: str
    base: dict[str, Any]
    report: Warn

    def warn(self, reason: str) -> None:
        self.report(UnreadableFile(self.path, reason))


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip()):
        return str(value).strip()
    return None


def _framework_documents(nodes: Any, ctx: _Context) -> Iterator[Document]:
    if nodes is None:
        return
    if not isinstance(nodes, list):
        ctx.warn("'framework' is not a list, skipped")
        return
    # Depth-first, in file order, without recursion: (node, depth, position path, parent id, outcome above)
    stack: list[tuple[Any, int, str, str | None, str | None]] = [
        (node, 0, str(i), None, None) for i, node in reversed(list(enumerate(nodes)))
    ]
    while stack:
        node, depth, where, parent, outcome = stack.pop()
        if not isinstance(node, dict):
            ctx.warn(f"framework node {where}: not an object, skipped")
            continue
        node_id = _id(node.get("id"))
        if depth < len(_LEVELS) and _LEVELS[depth][0] == Section.OUTCOME:
            outcome = clean_text(node.get("name"))
        children = node.get("children")
        if isinstance(children, list) and depth < _MAX_DEPTH:
            stack.extend(
                (c, depth + 1, f"{where}.{i}", node_id, outcome)
                for i, c in reversed(list(enumerate(children)))
            )
        if node_id is None:
            ctx.warn(f"framework node {where}: no id, skipped")
            continue
        doc = _framework_document(node, node_id, depth, where, parent, outcome, ctx)
        if doc is not None:
            yield doc


def _framework_document(
    node: dict[str, Any],
    node_id: str,
    depth: int,
    where: str,
    parent: str | None,
    outcome: str | None,
    ctx: _Context,
) -> Document | None:
    name = clean_text(node.get("name"))
    description = clean_text(node.get("description"))
    if not name and not description:
        return None
    section, label = _LEVELS[depth] if depth < len(_LEVELS) else _DEEPER
    code = clean_text(node.get("code"))
    passages = []
    if name:
        passages.append(Passage(text=name, section=section, label=f"{label} {code}" if code else label))
    if description:
        passages.append(Passage(text=description, section=Section.DESCRIPTION, label=f"{label} description"))
    doc_id = f"{ID_PREFIX}:{ctx.iso3}:fw:{node_id}"
    metadata: dict[str, Any] = {
        **ctx.base,
        "level": section,
        "code": code,
        "framework_id": node_id,
        "parent_id": f"{ID_PREFIX}:{ctx.iso3}:fw:{parent}" if parent else None,
        "framework_path": where,
    }
    metadata.update({key: amount(node.get(field)) for field, key in _MONEY})
    return Document(
        doc_id=doc_id,
        title=f"{short_title(name or description or '')} ({ctx.country})",
        source=SourceRef(path=str(ctx.path), kind=KIND),
        passages=tuple(passages),
        country=ctx.country,
        outcome=outcome,
        metadata=metadata,
    )


def _project_documents(projects: Any, ctx: _Context) -> Iterator[Document]:
    if projects is None:
        return
    if not isinstance(projects, list):
        ctx.warn("'projects' is not a list, skipped")
        return
    # Entries sharing an id are one joint sub-output reported per agency: group them, first position wins.
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for position, entry in enumerate(projects):
        if not isinstance(entry, dict):
            ctx.warn(f"project {position}: not an object, skipped")
            continue
        project_id = _id(entry.get("id"))
        if project_id is None:
            ctx.warn(f"project {position}: no id, skipped")
            continue
        groups.setdefault(project_id, []).append((position, entry))
    for project_id, entries in groups.items():
        doc = _project_document(project_id, entries, ctx)
        if doc is None:
            ctx.warn(f"project {entries[0][0]} (id {project_id}): no name or description, skipped")
            continue
        yield doc


def _project_document(
    project_id: str, entries: list[tuple[int, dict[str, Any]]], ctx: _Context
) -> Document | None:
    first = entries[0][1]
    names = distinct(clean_text(e.get("name")) for _, e in entries)
    descriptions = distinct(clean_text(e.get("description")) for _, e in entries)
    outcomes = distinct(clean_text(e.get("outcome")) for _, e in entries)
    if not names and not descriptions:
        return None
    code = clean_text(first.get("code"))
    label = f"Sub-output {code}" if code else "Sub-output"
    passages = [Passage(text=t, section=Section.SUB_OUTPUT, label=label) for t in names]
    passages += [Passage(text=t, section=Section.DESCRIPTION, label="Description") for t in descriptions]
    passages += [Passage(text=t, section=Section.OUTCOME, label="Outcome") for t in outcomes]

    doc_id = f"{ID_PREFIX}:{ctx.iso3}:p:{project_id}"
    source = SourceRef(path=str(ctx.path), kind=KIND, position=entries[0][0])
    agencies = split_names([a for _, e in entries for a in split_names(e.get("agency"))])
    funding = []
    for _, entry in entries:
        entry_agencies = split_names(entry.get("agency"))
        for field, kind in _MONEY:
            value = amount(entry.get(field))
            if value is not None:
                funding.append(
                    FundingRecord(
                        kind=kind,
                        year=None,
                        total=value,
                        doc_id=doc_id,
                        source=source,
                        country=ctx.country,
                        agencies=entry_agencies,
                    )
                )
    metadata: dict[str, Any] = {
        **ctx.base,
        "project_id": project_id,
        "code": code,
        "sub_output_code": code,
        "start_date": _first_text(entries, "start"),
        "end_date": _first_text(entries, "end"),
        "sdg": scalar(first.get("sdg")),
        "positions": [position for position, _ in entries],
    }
    for field, key in _MONEY:
        amounts = [a for _, e in entries if (a := amount(e.get(field))) is not None]
        metadata[key] = sum(amounts) if amounts else None
    year, year_end = _project_years(entries)
    return Document(
        doc_id=doc_id,
        title=f"{short_title(names[0] if names else descriptions[0])} ({ctx.country})",
        source=source,
        passages=tuple(passages),
        country=ctx.country,
        agencies=agencies,
        year=year,
        year_end=year_end,
        outcome=outcomes[0] if outcomes else None,
        metadata=metadata,
        funding=tuple(funding),
    )


def _project_years(entries: list[tuple[int, dict[str, Any]]]) -> tuple[int | None, int | None]:
    """The years a sub-output covers: from the earliest start to the latest end of its entries (one
    year when they are the same year; the known one alone when the other date is missing)."""
    starts = [y for _, e in entries if (y := date_year(e.get("start"))) is not None]
    ends = [y for _, e in entries if (y := date_year(e.get("end"))) is not None]
    return year_span(min(starts) if starts else None, max(ends) if ends else None)


def _first_text(entries: list[tuple[int, dict[str, Any]]], key: str) -> str | None:
    return next((t for _, e in entries if (t := clean_text(e.get(key)))), None)
