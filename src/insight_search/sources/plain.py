"""Readers for plain corpus files: ``.txt``, ``.md`` / ``.markdown`` and ``.jsonl``.

* ``.txt``: one document; passages are the paragraphs (separated by blank lines).
* ``.md``: one document; one passage per heading section, the section named after its heading.
* ``.jsonl``: one document per line, ``{"id": ..., "text": ..., "title"?, "year"?, "country"?, ...}``.
  A bad line is reported through ``warn`` and skipped; the rest of the file is still read.

Also holds :func:`read_text_file`, the one place where corpus bytes become text (UTF-8 or UTF-8 with BOM).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import SECTION_TEXT, Document, Passage, SourceRef
from insight_search.text import clean_whitespace

logger = logging.getLogger(__name__)

Warn = Callable[[UnreadableFile], None]

SNIFF_BYTES = 8192
TITLE_MAX_CHARS = 150
# A JSONL file whose first lines are all broken is not JSON Lines at all: stop after this many.
MAX_LEADING_BAD_LINES = 10

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_SLUG = re.compile(r"[^0-9a-z]+")


def default_warn(problem: UnreadableFile) -> None:
    logger.warning("skipped part of %s", problem)


def short_title(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (with an ellipsis)."""
    text = clean_whitespace(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc


def decode_text(path: Path, data: bytes) -> str:
    """Bytes of a text file -> str. Raises UnreadableFile for empty, binary or non-UTF-8 content."""
    if not data.strip():
        raise UnreadableFile(path, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(path, "UTF-16 text is not supported (save the file as UTF-8)")
    if b"\x00" in data[:SNIFF_BYTES]:
        raise UnreadableFile(path, "binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")  # plain UTF-8, with or without a byte-order mark
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text_file(path: Path) -> str:
    return decode_text(path, read_bytes(path))


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each on one line."""
    return [p for p in (clean_whitespace(block) for block in _PARAGRAPH_BREAK.split(text)) if p]


def _doc_name(path: Path, name: str | None) -> str:
    return name if name else path.name


# --- .txt --------------------------------------------------------------------------------------------


def read_text(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per text file; ``name`` (default: the file name) makes the doc_id ``text:<name>``."""
    text = read_text_file(path)
    yield text_document(text, path=path, name=_doc_name(path, name))


def text_document(text: str, *, path: Path, name: str) -> Document:
    parts = paragraphs(text)
    if not parts:
        raise UnreadableFile(path, "empty file")
    first_line = clean_whitespace(text.strip().split("\n", 1)[0])
    title = first_line if 0 < len(first_line) <= 120 else name
    passages = tuple(Passage(text=p, section=SECTION_TEXT) for p in parts)
    return Document(
        doc_id=f"text:{name}",
        title=title,
        source=SourceRef(path=str(path), kind="text"),
        passages=passages,
    )


# --- .md ---------------------------------------------------------------------------------------------


def read_markdown(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per Markdown file, one passage per heading section (text before any heading: "text")."""
    text = read_text_file(path)
    yield markdown_document(text, path=path, name=_doc_name(path, name))


def markdown_document(text: str, *, path: Path, name: str) -> Document:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    title: str | None = None
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            heading_text = _inline(heading.group(2))
            if title is None and len(heading.group(1)) == 1 and heading_text:
                title = heading_text
            sections.append((heading_text or None, []))
        else:
            sections[-1][1].append(line)
    passages = []
    for section_heading, lines in sections:
        body = _markdown_body(lines)
        if not body:
            continue
        passages.append(
            Passage(
                text=body,
                section=_slug(section_heading) if section_heading else SECTION_TEXT,
                year=_single_year(section_heading) if section_heading else None,
                label=section_heading,
            )
        )
    if not passages:
        raise UnreadableFile(path, "no text in the Markdown file (only headings or markup)")
    if title is None:
        title = next((h for h, _ in sections if h), None) or name
    return Document(
        doc_id=f"text:{name}",
        title=short_title(title),
        source=SourceRef(path=str(path), kind="markdown"),
        passages=tuple(passages),
    )


def _inline(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return clean_whitespace(_EMPHASIS.sub("", text))


def _markdown_body(lines: list[str]) -> str:
    """Paragraphs joined into lines; list items and table rows stay on lines of their own."""
    items: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            joined = _inline(" ".join(current))
            if joined:
                items.append(joined)
            current.clear()

    for raw in lines:
        line = raw.strip()
        if not line or _TABLE_RULE.match(line):
            flush()
            continue
        line = line.lstrip(">").strip()
        if _LIST_ITEM.match(line) or line.startswith("|"):
            flush()
            line = _LIST_ITEM.sub("", line).strip("| ").replace(" | ", "; ")
        current.append(line)
        if raw.strip().startswith("|"):
            flush()
    flush()
    return "\n".join(items)


def _slug(heading: str) -> str:
    return _SLUG.sub("_", heading.casefold()).strip("_")[:60] or SECTION_TEXT


def _single_year(text: str) -> int | None:
    years = set(_YEAR.findall(text))
    return int(years.pop()) if len(years) == 1 else None


# --- .jsonl ------------------------------------------------------------------------------------------

_FIELDS = {"id", "text", "title", "year", "country", "region", "theme", "agency", "agencies", "section"}


def read_jsonl(path: Path, warn: Warn | None = None) -> Iterator[Document]:
    """One document per JSON object line. Needs ``id`` and ``text``; ``id`` is kept verbatim as doc_id.

    Lines are read one at a time, so the file is never held in memory whole.
    """
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
            for number, raw in enumerate(handle, start=1):
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
                    reject(number, f"invalid JSON: {_short_error(exc)}")
                    continue
                problem, doc = _jsonl_document(record, path=path, number=number, seen=seen)
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


def _short_error(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _jsonl_document(record: Any, *, path: Path, number: int, seen: set[str]) -> tuple[str, Document | None]:
    """(problem, document): a document and maybe a note about it, or the reason the line is rejected."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__}", None
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
        return "missing or empty 'id' (a string or integer)", None
    doc_id = str(raw_id)
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return f"record {doc_id!r}: missing or empty 'text'", None
    if doc_id in seen:
        return f"duplicate id {doc_id!r}, skipped", None
    parts = paragraphs(text)
    if not parts:
        return f"record {doc_id!r}: missing or empty 'text'", None
    problem = ""
    year = _year(record.get("year"))
    if record.get("year") is not None and year is None:
        problem = f"record {doc_id!r}: year {record['year']!r} is not a year, ignored"
    section_value = record.get("section")
    section = clean_whitespace(section_value) if isinstance(section_value, str) else ""
    title_value = record.get("title")
    title = short_title(title_value) if isinstance(title_value, str) else ""
    seen.add(doc_id)
    return problem, Document(
        doc_id=doc_id,
        title=title or short_title(parts[0], 120),
        source=SourceRef(path=str(path), kind="jsonl", row=number),
        passages=tuple(Passage(text=p, section=section or SECTION_TEXT, year=year) for p in parts),
        country=_optional_text(record.get("country")),
        region=_optional_text(record.get("region")),
        theme=_optional_text(record.get("theme")),
        agencies=_agencies(record.get("agencies", record.get("agency"))),
        year=year,
        metadata={k: v for k, v in record.items() if k not in _FIELDS},
    )


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1000 <= value <= 2999:
        return value
    return None


def _optional_text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return clean_whitespace(value)
    return None


def _agencies(value: Any) -> tuple[str, ...]:
    items: list[Any] = value if isinstance(value, list) else [value]
    out: dict[str, str] = {}
    for item in items:
        if isinstance(item, str):
            for part in item.split(";"):
                name = clean_whitespace(part)
                if name:
                    out.setdefault(name.casefold(), name)
    return tuple(out.values())
