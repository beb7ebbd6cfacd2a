"""Reader for Word documents (``.docx``, python-docx): one document per file, headings as sections.

The body is read in order: paragraphs in a Heading 1-9 style (or a style based on one) or the Title style
start a section, other paragraphs (list items included) are its text, and each table row becomes a line
"Header: value; Header: value" (see :mod:`insight_search.sources.headed_text` for passages and tables). Page
headers, footers, footnotes and comments are other parts of the file and are not read; deleted text of
tracked changes is left out, inserted text kept. The title comes from the core properties, else the first
heading; the year from the core properties' creation date (else last modified), unless a sidecar
``report.docx.meta.json`` says it (or any other metadata: see ``headed_document``).

Any ``.docx`` is this kind (``sniff``): a file that is not a Word document is refused by :func:`read_docx`
with its reason (a text file, a corrupt zip, a password-protected file, an old .doc renamed).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.models import Document
from insight_search.sources.common import (
    Warn,
    clean_text,
    doc_name,
    extension,
    read_head,
    read_sidecar,
    short_error,
)
from insight_search.sources.headed_text import Block, DocumentInfo, headed_document, table_rows

KIND = "docx"
EXTENSIONS = frozenset({".docx"})

_ZIP = b"PK\x03\x04"
# What opening a damaged package raises: a missing part, a bad CRC or deflate stream, XML that is not
# well-formed (lxml's XMLSyntaxError is a SyntaxError), a content type that is not a document's (ValueError).
_BROKEN = (KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, SyntaxError)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: an encrypted OOXML file, or a Word 97-2003 .doc
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A drawing's text is given twice: for new Word (mc:Choice) and as a fallback for old readers (mc:Fallback).
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
# python-docx's own template says it was made at this moment: a file written from it has no real date.
_TEMPLATE_STAMP = dt.datetime(2013, 12, 23, 23, 15, tzinfo=dt.UTC)


def sniff(path: Path, head: bytes) -> bool:
    """Any ``.docx`` file: one that is not a Word document is refused by the reader with its reason."""
    return extension(path) in EXTENSIONS


def read(path: Path, warn: Warn, *, root: Path | None = None) -> Iterator[Document]:
    return read_docx(path, name=doc_name(path, root))


def read_docx(path: Path, *, name: str | None = None) -> Iterator[Document]:
    """One document per Word file; ``name`` (default: the file name) makes the doc_id ``docx:<name>``."""
    word = _open(path)
    blocks = list(_blocks(word))
    yield headed_document(
        blocks,
        path=path,
        name=name or path.name,
        kind=KIND,
        info=_info(word.core_properties),
        sidecar=read_sidecar(path),
    )


def _open(path: Path) -> Any:
    """The python-docx Document of ``path``; UnreadableFile saying why a file is not a readable one."""
    head = read_head(path)
    if not head.strip():
        raise UnreadableFile(path, "empty file")
    if head.startswith(_OLE):
        if _ENCRYPTED in read_head(path, 1 << 20):
            raise UnreadableFile(path, "password-protected (encrypted) Word file: save it without a password")
        raise UnreadableFile(path, "an old Word 97-2003 (.doc) file named .docx: save it as .docx")
    if not head.startswith(_ZIP):
        what = "text" if b"\x00" not in head else "binary data"
        raise UnreadableFile(path, f"not a Word file: {what}, not a .docx (zip) archive")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                raise UnreadableFile(path, "not a Word document: a zip archive without word/document.xml")
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(path, f"corrupt Word file (broken zip archive: {short_error(exc)})") from exc
    import docx  # python-docx; lazy: only a corpus with Word files pays for it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, *_BROKEN) as exc:
        raise UnreadableFile(path, f"corrupt Word file: {type(exc).__name__}: {short_error(exc)}") from exc


def _info(core: Any) -> DocumentInfo:
    title = clean_text(core.title)
    year = None
    for stamp in (core.created, core.modified):
        if isinstance(stamp, dt.datetime) and stamp != _TEMPLATE_STAMP:
            year = stamp.year
            break
    return DocumentInfo(title=title, year=year)


def _blocks(word: Any) -> Iterator[Block]:
    from docx.table import Table

    for item in word.iter_inner_content():
        if isinstance(item, Table):
            yield from table_rows(_table_cells(item))
        else:
            yield Block(_paragraph_text(item._p), level=_heading_level(item.style))


def _heading_level(style: Any) -> int | None:
    """0 for the Title style, 1-9 for a Heading style or a style based on one; None for body text."""
    seen = 0
    while style is not None and seen < 10:
        name = (style.name or "").strip()
        if name.casefold() == "title":
            return 0
        match = _HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style, seen = style.base_style, seen + 1
    return None


def _paragraph_text(element: Any) -> str:
    """A paragraph's text: its runs, hyperlinks, inserted text and text boxes; tabs and breaks as spaces;
    deleted text and field codes (which are not ``w:t``) and a drawing's fallback copy left out."""
    parts: list[str] = []
    for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        if next(node.iterancestors(_FALLBACK), None) is not None:
            continue
        parts.append(node.text or "" if node.tag == f"{_W}t" else " ")
    return "".join(parts)


def _table_cells(table: Any) -> Iterator[list[str]]:
    for row in table.rows:
        cells: list[str] = []
        last = None
        for cell in row.cells:
            if cell._tc is last:  # a merged cell is listed once per grid column it spans
                continue
            last = cell._tc
            cells.append(" ".join(_paragraph_text(p) for p in cell._tc.iter(f"{_W}p")))
        yield cells
