"""Reader for JSON Lines files (``.jsonl``): one document per line.

A line is ``{"id": ..., "text": ..., "title"?, "year"?, "year_end"? (the last year of a span), "country"?,
"region"?, "agencies"? (or "agency"), "themes"? (or "theme"), "outcome"?, "partners"?, "office"?,
"section"?}``; other keys are kept as metadata.
``id`` is kept verbatim as doc_id; ``text`` is split into paragraphs, one passage each. A bad line is
reported through ``warn`` with its number and reason and skipped; the rest of the file is still read, one
line at a time. A line longer than :data:`MAX_RECORD_BYTES` is one of them: it is skipped without being held
whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from insight_search.errors import UnreadableFile
from insight_search.models import Document, Passage, Section, SourceRef
from insight_search.sources.common import (
    SNIFF_BYTES,
    Warn,
    clean_text,
    default_warn,
    extension,
    paragraphs,
    parse_year,
    short_error,
    short_title,
    split_names,
)

KIND = "jsonl"
EXTENSIONS = frozenset({".jsonl"})
# A JSONL file whose first lines are all broken is not JSON Lines at all: stop after this many.
MAX_LEADING_BAD_LINES = 10
# A record longer than this is skipped (named with its line and size) without being read whole: parsing and
# chunking take several times its size in memory. A 20 MB record is read.
MAX_RECORD_BYTES = 64 * 2**20
_SKIP_BLOCK = 1 << 20

_FIELDS = {
    "id",
    "text",
    "title",
    "year",
    "year_end",
    "country",
    "region",
    "theme",
    "themes",
    "agency",
    "agencies",
    "outcome",
    "partners",
    "office",
    "section",
}


def sniff(path: Path, head: bytes) -> bool:
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_jsonl(path, warn)


def read_jsonl(path: Path, warn: Warn | None = None) -> Iterator[Document]:
    """One document per JSON object line. Lines are read one at a time: the file is never held whole."""
    report = warn or default_warn
    seen: set[str] = set()
    good = rejected = 0

    def reject(number: int, reason: str) -> None:
        nonlocal rejected
        rejected += 1
        report(UnreadableFile(path, f"line {number}: {reason}"))
        if good == 0 and rejected >= MAX_LEADING_BAD_LINES:
            raise UnreadableFile(path, f"not JSON Lines: the first {rejected} records are unreadable")

    try:
        with path.open("rb") as handle:
            if b"\x00" in handle.read(SNIFF_BYTES):
                raise UnreadableFile(path, "binary file (NUL bytes), not JSON Lines")
            handle.seek(0)
            for number, raw, size in _lines(handle, MAX_RECORD_BYTES):
                if raw is None:
                    reject(number, f"record of {size:,} bytes is over the limit of {MAX_RECORD_BYTES:,}")
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    reject(number, f"not UTF-8 text (invalid byte at column {exc.start + 1})")
                    continue
                if number == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    reject(number, f"invalid JSON: {short_error(exc)}")
                    continue
                problem, doc = _document(record, path=path, number=number, seen=seen)
                if doc is None:
                    reject(number, problem)
                    continue
                if problem:
                    report(UnreadableFile(path, f"line {number}: {problem}"))
                good += 1
                yield doc
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    if good == 0:
        raise UnreadableFile(
            path, f"no valid records ({rejected} lines rejected)" if rejected else "empty file"
        )


def _lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(number, bytes, size) of each line; bytes None for a line over ``limit`` bytes (its newline aside),
    which is read past in blocks, never held whole."""
    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield number, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n") and (raw := handle.readline(_SKIP_BLOCK)):
            size += len(raw)
        yield number, None, size - 1 if raw.endswith(b"\n") else size


def _document(record: Any, *, path: Path, number: int, seen: set[str]) -> tuple[str, Document | None]:
    """(problem, document): a document and maybe a note about it, or the reason the line is rejected."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}", None
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        return "missing or empty 'id' (a string or integer)", None
    doc_id = str(raw_id)
    text = record.get("text")
    parts = paragraphs(text) if isinstance(text, str) else []
    if not parts:
        return f"record {doc_id!r}: missing or empty 'text'", None
    if doc_id in seen:
        return f"duplicate id {doc_id!r}, skipped", None
    problem = ""
    year = parse_year(record.get("year"))
    if record.get("year") is not None and year is None:
        problem = f"record {doc_id!r}: year {record['year']!r} is not a year, ignored"
    year_end = parse_year(record.get("year_end")) if year is not None else None
    if record.get("year_end") is not None and (year_end is None or year_end < (year or 0)):
        problem = f"record {doc_id!r}: year_end {record['year_end']!r} is not a year from {year}, ignored"
        year_end = None
    section = clean_text(record.get("section"))
    title = clean_text(record.get("title"))
    seen.add(doc_id)
    return problem, Document(
        doc_id=doc_id,
        title=short_title(title) if title else short_title(parts[0], 120),
        source=SourceRef(path=str(path), kind=KIND, row=number),
        passages=tuple(
            Passage(text=p, section=section or Section.TEXT, year=year, year_end=year_end) for p in parts
        ),
        country=clean_text(record.get("country")),
        region=clean_text(record.get("region")),
        agencies=split_names(record.get("agencies", record.get("agency"))),
        year=year,
        year_end=year_end,
        outcome=clean_text(record.get("outcome")),
        themes=split_names(record.get("themes", record.get("theme"))),
        partners=split_names(record.get("partners")),
        office=clean_text(record.get("office")),
        metadata={k: v for k, v in record.items() if k not in _FIELDS},
    )
