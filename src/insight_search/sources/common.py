"""What every reader shares: the reader contract, reading bytes as text, and turning raw values (cells,
JSON scalars, lists of names) into clean typed values. Pure except for the file reads.

A reader is a module with:

* ``KIND``: the value of ``SourceRef.kind`` it writes ("uninfo-xlsx"...);
* ``EXTENSIONS``: the file name endings it may read (lower case, with the dot);
* ``sniff(path, head) -> bool``: is this file its kind? ``head`` is the first :data:`SNIFF_BYTES` bytes;
* ``read(path, warn, *, root=None) -> Iterator[Document]``: the documents of the file. Whole-file problems
  raise :class:`UnreadableFile`; a bad record goes to ``warn`` and the rest is read. ``root`` is the corpus
  folder, for readers that name documents after their file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from insight_search.errors import UnreadableFile
from insight_search.models import Document
from insight_search.text import clean_whitespace

logger = logging.getLogger(__name__)

Warn = Callable[[UnreadableFile], None]

SNIFF_BYTES = 8192
# Metadata written beside a document (``page.txt.meta.json``) is read by that document's reader.
SIDECAR_SUFFIX = ".meta.json"
TITLE_MAX_CHARS = 150
# Cell and field values that mean "nothing here".
PLACEHOLDERS = frozenset({"-", "na", "n/a", "none", "null", "nil"})

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_ALNUM = re.compile(r"[^\W_]")
_DATE_YEAR = re.compile(r"((?:1[89]|2\d)\d\d)(?:$|[-/.T ])")  # a date's year: "2023-06-01", "2023"


class Reader(Protocol):
    """The contract of a reader module (see the module docstring)."""

    KIND: str
    EXTENSIONS: frozenset[str]

    def sniff(self, path: Path, head: bytes) -> bool: ...

    def read(self, path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]: ...


def read_sidecar(path: Path) -> dict[str, Any]:
    """The metadata written beside a file (``report.pdf.meta.json``, else ``report.meta.json``); {} when
    there is none. UnreadableFile when it is not a JSON object."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        sidecar = path.with_suffix(SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(sidecar, f"invalid metadata sidecar: {exc}") from exc
    if not isinstance(data, dict):
        raise UnreadableFile(sidecar, "metadata sidecar must hold a JSON object")
    return data


def default_warn(problem: UnreadableFile) -> None:
    logger.warning("skipped part of %s", problem)


def extension(path: Path) -> str:
    return path.suffix.lower()


# ---------------------------------------------------------------- bytes and text


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a file (what ``sniff`` looks at)."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc


def decode_text(path: Path, data: bytes) -> str:
    """Bytes of a text file -> str with ``\\n`` line ends; UnreadableFile for empty, binary or non-UTF-8."""
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
    """The one place where corpus bytes become text (UTF-8, with or without a byte-order mark)."""
    return decode_text(path, read_bytes(path))


def short_error(exc: BaseException) -> str:
    """The first line of an exception's message, at most 200 characters, for a one-line problem report."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no detail"


# ---------------------------------------------------------------- values


def clean_text(value: Any) -> str | None:
    """A string value on one line; None for non-strings, blanks and placeholders ("-", "N/A", "null")."""
    if not isinstance(value, str):
        return None
    text = clean_whitespace(value)
    if not _ALNUM.search(text) or text.casefold() in PLACEHOLDERS:
        return None
    return text


def scalar(value: Any) -> str | int | float | None:
    """A JSON scalar kept as it is (string, integer, finite number); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def amount(value: Any) -> float | None:
    """A money value as float: a number or a numeric string ("1,200", "$ 300", "50 USD"); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("$", "").replace("USD", "").strip()
        try:
            number = float(cleaned)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_year(value: Any) -> int | None:
    """A year given as an integer or a string of digits (1000-2999); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 1000 <= value <= 2999:
        return value
    return None


def date_year(value: Any) -> int | None:
    """The year of a date: a ``date``/``datetime``, a text starting with it ("2023-06-01") or a year
    (1800-2999); else None."""
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1800 <= value <= 2999 else None
    if isinstance(value, str):
        match = _DATE_YEAR.match(value.strip())
        return int(match.group(1)) if match else None
    return None


def year_span(start: Any, end: Any) -> tuple[int | None, int | None]:
    """(first year, last year) of a start and an end date; last year None when it is the same year or
    unknown; the known one alone when only one is given; (None, None) when neither is a date."""
    first, last = date_year(start), date_year(end)
    if first is None or last is None:
        return first if first is not None else last, None
    first, last = min(first, last), max(first, last)
    return first, last if last > first else None


def distinct(values: Iterable[str | None]) -> list[str]:
    """The values in order, without blanks and exact repeats."""
    return list(dict.fromkeys(v for v in values if v))


def split_names(value: Any, separators: str = ";") -> tuple[str, ...]:
    """Names from a string ("UN Women; UNDP") or a list of strings, split at ``separators``; blanks,
    placeholders and repeats (ignoring case) dropped, the first spelling kept, in order."""
    items: list[Any] = value if isinstance(value, list) else [value]
    split = re.compile("[" + re.escape(separators) + "]")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            continue
        for part in split.split(item):
            name = clean_text(part)
            if name:
                out.setdefault(name.casefold(), name)
    return tuple(out.values())


# ---------------------------------------------------------------- titles and paragraphs


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


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each on one line."""
    return [p for p in (clean_whitespace(block) for block in _PARAGRAPH_BREAK.split(text)) if p]


def doc_name(path: Path, root: Path | None) -> str:
    """A file's name for its doc_id: relative to the corpus folder ``root`` when under it, else its name."""
    if root is not None:
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except (ValueError, OSError):
            pass
    return path.name
