"""The manifest of an index version (``manifest.json``) as a typed value: what model built it, with what
settings, from which corpus, and what it holds.

:meth:`Manifest.from_dict` checks the JSON's types (IndexCorrupt when one is wrong) and keeps keys it does
not know in ``extra``; :meth:`Manifest.to_dict` gives back the same JSON object (known keys in the order
the indexer writes them, absent ones left out, then the unknown ones), so a manifest written by an older or
newer version survives a round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from insight_search.errors import IndexCorrupt


def _no_extra() -> Mapping[str, Any]:
    return MappingProxyType({})


def _typed(where: str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int to isinstance: a count or a dimension given as true/false is still refused
    if isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind)):
        return value
    names = "/".join(k.__name__ for k in _as_tuple(kind))
    raise IndexCorrupt(f"{where}: {key!r} should be {names}, not {type(value).__name__} {value!r}")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


@dataclass(frozen=True, slots=True)
class Counts:
    """How much the version holds."""

    documents: int = 0
    passages: int = 0
    chunks: int = 0
    funding_records: int = 0
    files: int = 0
    indicator_records: int = 0  # written only when some: a manifest written before it existed reads 0
    skipped_files: int = 0  # problems the build met: files skipped or unreadable, bad records (when some)
    failed_files: int = 0  # of those, files it could not read (written only when some)
    extra: Mapping[str, Any] = field(default_factory=_no_extra)

    @classmethod
    def from_dict(cls, d: Any, where: str = "manifest") -> Counts:
        if not isinstance(d, Mapping):
            raise IndexCorrupt(f"{where}: 'counts' should be an object, not {type(d).__name__}")
        names = [f.name for f in fields(cls) if f.name != "extra"]
        known = {k: _typed(where, f"counts.{k}", d[k], int) for k in names if k in d}
        extra = {k: v for k, v in d.items() if k not in names}
        return cls(**known, extra=MappingProxyType(extra))

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "passages": self.passages,
            "chunks": self.chunks,
            "funding_records": self.funding_records,
            "files": self.files,
            **({"indicator_records": self.indicator_records} if self.indicator_records else {}),
            **({"skipped_files": self.skipped_files} if self.skipped_files else {}),
            **({"failed_files": self.failed_files} if self.failed_files else {}),
            **self.extra,
        }


# The keys of a manifest in the order the indexer writes them, with the JSON types each may have.
# ``counts``, ``corpus_paths`` and ``problems`` are converted apart.
_SCALARS: dict[str, type | tuple[type, ...]] = {
    "model_id": str,
    "embedding_backend": str,
    "model": str,
    "dimension": int,
    "working_dir": str,
    "corpus_fingerprint": str,
    "chunk_words": int,
    "title_in_lexical": bool,
    "title_in_dense": bool,
    "build_settings": str,
    "built_at": str,
    "dense_index": str,
    "dense_storage": str,
    "multilingual_model_id": str,
    "multilingual_dimension": int,
    "multilingual_rows": int,
    "format_version": int,
}
_ORDER = (
    "model_id",
    "embedding_backend",
    "model",
    "dimension",
    "counts",
    "corpus_paths",
    "problems",
    "working_dir",
    "corpus_fingerprint",
    "chunk_words",
    "title_in_lexical",
    "title_in_dense",
    "build_settings",
    "built_at",
    "dense_index",
    "dense_storage",
    "multilingual_model_id",
    "multilingual_dimension",
    "multilingual_rows",
    "format_version",
    "checksums",
)


@dataclass(frozen=True, slots=True)
class Manifest:
    """One index version's manifest. ``model_id`` and ``dimension`` are always there; every other field is
    None when the manifest does not have it (``format_version`` until the version is published)."""

    model_id: str
    dimension: int
    format_version: int | None = None
    embedding_backend: str | None = None
    model: str | None = None  # the model setting ("default" or a folder)
    counts: Counts | None = None
    corpus_paths: tuple[str, ...] | None = None  # the paths the build was given, as written
    problems: tuple[str, ...] | None = None  # "path: reason" of each problem the build met (when some)
    working_dir: str | None = None  # the folder the build ran in, when a corpus path is relative
    corpus_fingerprint: str | None = None
    chunk_words: int | None = None
    title_in_lexical: bool | None = None
    title_in_dense: bool | None = None
    build_settings: str | None = None  # ``Settings.build_settings()`` of the build (None: built before it)
    built_at: str | None = None  # ISO 8601, UTC
    dense_index: str | None = None  # "flat" or "hnsw"
    dense_storage: str | None = None  # "float32" or "float16"
    checksums: Mapping[str, str] | None = None  # file of the version (relative path) -> its checksum
    # The multilingual lane (issue 13; ``multilingual``): its model and width, and how many chunks it
    # embedded (the others have a zero vector); all None in a version built without it
    multilingual_model_id: str | None = None
    multilingual_dimension: int | None = None
    multilingual_rows: int | None = None
    extra: Mapping[str, Any] = field(default_factory=_no_extra)

    @classmethod
    def from_dict(cls, d: Any, where: str = "manifest") -> Manifest:
        """The manifest a decoded ``manifest.json`` holds; IndexCorrupt (naming ``where``) when it is not an
        object, lacks the model id or the dimension, or a field has the wrong type."""
        if not isinstance(d, Mapping):
            raise IndexCorrupt(f"{where} is not a JSON object but {type(d).__name__}")
        for key in ("model_id", "dimension"):
            if d.get(key) is None:
                raise IndexCorrupt(f"{where} has no {key!r}")
        values: dict[str, Any] = {
            k: _typed(where, k, d[k], kind) for k, kind in _SCALARS.items() if d.get(k) is not None
        }
        if d.get("counts") is not None:
            values["counts"] = Counts.from_dict(d["counts"], where)
        for key in ("corpus_paths", "problems"):
            if d.get(key) is not None:
                items = _typed(where, key, d[key], list)
                values[key] = tuple(_typed(where, f"{key}[]", p, str) for p in items)
        if d.get("checksums") is not None:
            sums = _typed(where, "checksums", d["checksums"], dict)
            values["checksums"] = MappingProxyType(
                {
                    _typed(where, "checksums key", k, str): _typed(where, f"checksums[{k}]", v, str)
                    for k, v in sums.items()
                }
            )
        values["extra"] = MappingProxyType({k: v for k, v in d.items() if k not in _ORDER})
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: known keys in the indexer's order (absent ones left out), then ``extra``."""
        out: dict[str, Any] = {}
        for key in _ORDER:
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, Counts):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[key] = value
        out.update(self.extra)
        return out
