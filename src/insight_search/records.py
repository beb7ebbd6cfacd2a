"""The JSON form of the value objects an index version stores: documents (with their passages, funding
records and indicator records) in ``documents.jsonl`` and chunks in ``chunks.jsonl``. Reading accepts the
lines of indexes written before the typed fields existed (a single ``theme``, themes/outcome/partners/office
in ``metadata``, the old section names, no ``year_end``: one year, no ``indicators``: none), so an older
index still loads."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from insight_search.chunking import chunk_source
from insight_search.models import (
    Chunk,
    Document,
    FundingRecord,
    IndicatorPeriod,
    IndicatorRecord,
    IndicatorValue,
    Passage,
    SourceRef,
    section_name,
)


def document_to_dict(doc: Document) -> dict[str, Any]:
    d = asdict(doc)
    d["funding"] = [asdict(f) for f in doc.funding]
    d["metadata"] = dict(doc.metadata)
    return d


class Shared:
    """One object for equal values while an index loads: the same source, section or metadata key is held
    once for all the documents, chunks and funding records that repeat it (tens of thousands of times in
    UN INFO data), not once per JSON line."""

    MAX_CHARS = 80  # longer strings are seldom repeated

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: Any, *, any_length: bool = False) -> Any:
        if value is None or (not any_length and isinstance(value, str) and len(value) > self.MAX_CHARS):
            return value
        return self._seen.setdefault(value, value)

    def source(self, d: dict[str, Any]) -> SourceRef:
        path, kind = self(d["path"], any_length=True), self(d["kind"])
        page_from = d.get("page_from", d.get("page"))  # absent before pages existed; "page": one page
        page_to = d.get("page_to", page_from)
        source = SourceRef(path, kind, d.get("row"), d.get("position"), page_from, page_to)
        return self(source)  # type: ignore[no-any-return]

    def mapping(self, d: dict[str, Any]) -> dict[str, Any]:
        return {self(k): self(v) if isinstance(v, str) else v for k, v in d.items()}


def document_from_dict(d: dict[str, Any], shared: Shared | None = None) -> Document:
    """A document from its JSON form, also as written before the domain fields were typed (see
    :func:`_typed_fields`) and with the section names of that time (:func:`models.section_name`)."""
    same = shared or Shared()
    doc_id = d["doc_id"]
    source = same.source(d["source"])
    metadata = dict(d.get("metadata") or {})
    typed = _typed_fields(d, metadata)
    return Document(
        doc_id=doc_id,
        title=d["title"],
        source=source,
        passages=tuple(
            Passage(
                p["text"],
                same(section_name(p["section"])),
                p.get("year"),
                p.get("year_end"),
                same(p.get("status")),
                same(p.get("label")),
                composed=bool(p.get("composed", False)),  # absent in indexes written before it existed
                pages=tuple((offset, page) for offset, page in p.get("pages") or ()),  # a PDF's pages
                language=same(p.get("language")),  # absent in indexes written before issue 13: None
            )
            for p in d["passages"]
        ),
        country=same(d.get("country")),
        region=same(d.get("region")),
        agencies=same(tuple(d.get("agencies") or ())),
        year=d.get("year"),
        year_end=d.get("year_end"),
        outcome=same(typed["outcome"]),
        themes=same(tuple(typed["themes"])),
        partners=same(tuple(typed["partners"])),
        office=same(typed["office"]),
        metadata=same.mapping(metadata),
        funding=tuple(funding_from_dict(f, same, doc_id) for f in d.get("funding") or ()),
        # absent in indexes written before indicator records existed: none
        indicators=tuple(indicator_from_dict(i, same, doc_id) for i in d.get("indicators") or ()),
    )


_TYPED_DEFAULTS: dict[str, Any] = {"outcome": None, "themes": (), "partners": (), "office": None}


def _typed_fields(d: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """outcome, themes, partners and office of a stored document. Indexes written before these were typed
    hold them in ``metadata`` ("themes", "outcome", "office", "contributing_partners",
    "implementation_partners") or as a single ``theme``: those move out of ``metadata`` into the fields."""
    if "themes" in d:
        return {key: d.get(key) or default for key, default in _TYPED_DEFAULTS.items()}
    partners = [
        *(metadata.pop("contributing_partners", None) or ()),
        *(metadata.pop("implementation_partners", None) or ()),
    ]
    return {
        "outcome": metadata.pop("outcome", None),
        "themes": metadata.pop("themes", None) or ([d["theme"]] if d.get("theme") else []),
        "partners": list(dict.fromkeys(partners)),
        "office": metadata.pop("office", None),
    }


def funding_from_dict(
    d: dict[str, Any], shared: Shared | None = None, doc_id: str | None = None
) -> FundingRecord:
    same = shared or Shared()
    d = {k: same(v) if isinstance(v, str) else v for k, v in d.items()}
    if doc_id == d["doc_id"]:
        d["doc_id"] = doc_id
    d["source"] = same.source(d["source"])
    d["agencies"] = same(tuple(d.get("agencies") or ()))
    return FundingRecord(**d)


def _value(v: Any) -> IndicatorValue:
    """An indicator value as stored: a JSON number (an int too) is a float, text stays text, null missing."""
    if v is None or isinstance(v, str):
        return v
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)


def indicator_from_dict(
    d: dict[str, Any], shared: Shared | None = None, doc_id: str | None = None
) -> IndicatorRecord:
    same = shared or Shared()
    return IndicatorRecord(
        doc_id=doc_id if doc_id is not None and doc_id == d["doc_id"] else d["doc_id"],
        source=same.source(d["source"]),
        title=d["title"],
        result=d.get("result"),
        measure=same(d.get("measure")),
        baseline=_value(d.get("baseline")),
        baseline_year=d.get("baseline_year"),
        baseline_comment=d.get("baseline_comment"),
        periods=tuple(
            IndicatorPeriod(
                same(p.get("start")),
                same(p.get("end")),
                _value(p.get("target")),
                _value(p.get("actual")),
                p.get("comment"),
            )
            for p in d.get("periods") or ()
        ),
        country=same(d.get("country")),
        agencies=same(tuple(d.get("agencies") or ())),
    )


_CHUNK_FIELDS = (
    "chunk_id",
    "doc_id",
    "text",
    "section",
    "passage_index",
    "start",
    "end",
    "year",
    "year_end",
    "status",
)


def chunk_to_dict(c: Chunk) -> dict[str, Any]:
    d = {f: getattr(c, f) for f in _CHUNK_FIELDS}
    if c.composed:  # written only when true: most chunks are quotes, and older lines lack the key
        d["composed"] = True
    if c.language is not None:  # None (unknown, or an index written before issue 13) is left out
        d["language"] = c.language
    return d


def chunk_from_dict(d: dict[str, Any], doc: Document, shared: Shared | None = None) -> Chunk:
    same = shared or Shared()
    return Chunk(
        chunk_id=d["chunk_id"],
        text=d["text"],
        section=same(section_name(d["section"])),
        passage_index=d["passage_index"],
        start=d["start"],
        end=d["end"],
        year=d["year"],
        year_end=d.get("year_end"),  # absent in indexes written before year spans: one year
        status=same(d["status"]),
        **{**doc.chunk_fields(), "source": same(_chunk_source(doc, d))},
        composed=bool(d.get("composed", False)),
        language=same(d.get("language")),
    )


def _chunk_source(doc: Document, d: dict[str, Any]) -> SourceRef:
    """A stored chunk's source: its document's, with the pages of its text for a PDF (not stored per chunk:
    they follow from the passage's pages and the chunk's offsets)."""
    index = d["passage_index"]
    if 0 <= index < len(doc.passages):
        return chunk_source(doc.source, doc.passages[index], d["start"], d["end"])
    return doc.source
