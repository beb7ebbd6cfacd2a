"""The text lines of a PDF with their place on the page and their font, read with pypdfium2 (PDFium).

PDFium gives each page's text in content order with line breaks; for each line we keep its box (the loose
boxes of its first and last characters: the font's ascent to descent, so that line gaps compare) and its first
character's font (name, size, weight). Reading order is the content order, which born-digital reports write
column by column (a two-column page reads its left column, then its right; a text box after the text around
it); :mod:`insight_search.sources.pdf_paragraphs` starts a new paragraph wherever the next line is not just
below the previous one.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insight_search.errors import UnreadableFile
from insight_search.sources.common import short_error

PDF_MAGIC = b"%PDF-"
_BOLD_NAMES = ("bold", "semibold", "black", "heavy", "demi")
# PDFium's mark for a hyphen where it joined a word broken over two lines ("gender\ufffespecific"): the two
# lines are given back as two, the first ending in "-", so that the hyphenation rule decides.
_SOFT_HYPHEN = "\ufffe"
_BREAKS = re.compile("(\r\n|\ufffe)")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text of a page (PDF coordinates: points, y upwards from the bottom of the page)."""

    page: int  # 1-based page number
    text: str
    left: float
    right: float
    bottom: float
    top: float
    size: float  # font size of its first character
    bold: bool
    italic: bool

    @property
    def height(self) -> float:
        return max(0.1, self.top - self.bottom)


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: tuple[Line, ...]


def open_pdf(path: Path) -> Any:
    """The pypdfium2 document of ``path``; UnreadableFile for a file that is not a PDF, a damaged one or
    one that needs a password (one that opens with an empty password is read)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read file: {exc.strerror or exc}") from exc
    if PDF_MAGIC not in head:
        raise UnreadableFile(path, "not a PDF (no %PDF- header)")
    import pypdfium2 as pdfium  # type: ignore[import-untyped]  # lazy: only a corpus with PDFs needs it

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        message = short_error(exc)
        if "password" in message.casefold():
            raise UnreadableFile(path, "encrypted PDF (needs a password)") from exc
        raise UnreadableFile(path, f"damaged PDF: {message}") from exc


def _segments(text: str) -> Iterator[str]:
    """The lines of a page's text, each with what ends it (a line break, or the soft-hyphen mark), so that
    the lengths add up to the text's (character indices stay those of PDFium)."""
    parts = _BREAKS.split(text)
    for i in range(0, len(parts), 2):
        end = parts[i + 1] if i + 1 < len(parts) else ""
        yield parts[i] + end


def read_pages(doc: Any) -> Iterator[Page]:
    """The pages of a pypdfium2 document with their lines, one page in memory at a time."""
    import pypdfium2.raw as raw  # type: ignore[import-untyped]

    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    for index in range(len(doc)):
        page = doc[index]
        textpage = page.get_textpage()
        try:
            width, height = page.get_size()
            text = textpage.get_text_range()
            mapped = textpage.count_chars() == len(text)  # char index == text index (no surrogate pairs)
            lines: list[Line] = []
            pos = 0
            for raw_line in _segments(text):
                stripped = raw_line.strip()
                if stripped and mapped:
                    first = pos + raw_line.index(stripped[0])
                    last = pos + len(raw_line.rstrip()) - 1
                    left, bottom, _, top = textpage.get_charbox(first, loose=True)
                    _, _, right, _ = textpage.get_charbox(last, loose=True)
                    raw.FPDFText_GetFontInfo(textpage.raw, first, name, len(name), ctypes.byref(flags))
                    font = name.value.decode("latin-1").casefold()
                    weight = raw.FPDFText_GetFontWeight(textpage.raw, first)
                    lines.append(
                        Line(
                            page=index + 1,
                            text=stripped.replace(_SOFT_HYPHEN, "-"),
                            left=left,
                            right=right,
                            bottom=bottom,
                            top=top,
                            size=round(raw.FPDFText_GetFontSize(textpage.raw, first), 1),
                            bold=weight >= 600 or any(b in font for b in _BOLD_NAMES),
                            italic="italic" in font or "oblique" in font or bool(flags.value & 0x40),
                        )
                    )
                elif stripped:  # no positions: one line per text line, stacked
                    y = height - 12.0 * (len(lines) + 1)
                    text_only = stripped.replace(_SOFT_HYPHEN, "-")
                    lines.append(Line(index + 1, text_only, 0.0, width, y, y + 10.0, 10.0, False, False))
                pos += len(raw_line)
            yield Page(index + 1, width, height, tuple(lines))
        finally:
            textpage.close()
            page.close()
