"""The on-disk index: a plain, documented layout with a manifest, written atomically.

``<index_dir>/CURRENT`` names the live version folder ``v-<time>-<random>/``. A build writes a new folder
under a temporary name, renames it into place, then replaces ``CURRENT`` with ``os.replace`` (atomic). A
crash at any moment leaves the previous version whole; leftovers are removed by the next build, which holds
``<index_dir>/.lock`` while it works. Files of a version:

* ``manifest.json``: format version, model id and dimension, counts, corpus fingerprint, build time
* ``vectors.f32`` (exact index: raw float32 matrix, row i = chunk i) or ``dense.faiss`` (HNSW index)
* ``lexical/``: bm25s index, document i = chunk i
* ``chunks.jsonl``: one chunk per line (document metadata lives with the document)
* ``documents.jsonl``: documents with their passages and metadata
* ``funding.jsonl``: funding and resource records

The manifest records a checksum of every other file of its version (``checksums``: relative path ->
``crc32:<hex>``); :func:`load` verifies them before it reads anything, so a same-size damage (a flipped
byte, zeroed or swapped vector rows) is refused naming the file instead of giving wrong answers. A version
written before checksums existed has none and loads unchecked.

:class:`VersionWriter` writes a version as the corpus streams in: documents are staged in a SQLite file by id
(so repeats merge without keeping them in memory); chunks, vectors and BM25 (term, frequency) pairs are
appended to files. Only the BM25 vocabulary and, at the end, the BM25 matrix (and the HNSW graph above
``flat_max`` chunks) are held in memory: what the server needs in memory to answer anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insight_search.dense import VECTORS_FILE, DenseIndex, VectorWriter
from insight_search.errors import IndexCorrupt, IndexNotFound, InsightSearchError, ModelMismatch
from insight_search.lexical import LexicalBuilder, LexicalIndex
from insight_search.models import Chunk, Document, FundingRecord, Passage, SourceRef

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: an exact dense index is stored as vectors.f32
READABLE_FORMATS = (1, 2)  # 1: every dense index in dense.faiss
CURRENT = "CURRENT"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"
CHECKSUM_BLOCK = 1 << 20  # bytes read at a time while checksumming


@dataclass
class IndexData:
    """Everything one index version holds, in memory."""

    manifest: dict[str, Any]
    chunks: list[Chunk]
    documents: dict[str, Document]
    funding: list[FundingRecord]
    dense: DenseIndex
    lexical: LexicalIndex
    path: Path | None = None


# ---------------------------------------------------------------- (de)serialisation of value objects


def document_to_dict(doc: Document) -> dict[str, Any]:
    d = asdict(doc)
    d["funding"] = [asdict(f) for f in doc.funding]
    d["metadata"] = dict(doc.metadata)
    return d


class _Shared:
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
        return self(SourceRef(path, kind, d.get("row"), d.get("position")))  # type: ignore[no-any-return]

    def mapping(self, d: dict[str, Any]) -> dict[str, Any]:
        return {self(k): self(v) if isinstance(v, str) else v for k, v in d.items()}


def document_from_dict(d: dict[str, Any], shared: _Shared | None = None) -> Document:
    same = shared or _Shared()
    doc_id = d["doc_id"]
    source = same.source(d["source"])
    return Document(
        doc_id=doc_id,
        title=d["title"],
        source=source,
        passages=tuple(
            Passage(p["text"], same(p["section"]), p.get("year"), same(p.get("status")), same(p.get("label")))
            for p in d["passages"]
        ),
        country=same(d.get("country")),
        region=same(d.get("region")),
        theme=same(d.get("theme")),
        agencies=same(tuple(d.get("agencies") or ())),
        year=d.get("year"),
        metadata=same.mapping(d.get("metadata") or {}),
        funding=tuple(funding_from_dict(f, same, doc_id) for f in d.get("funding") or ()),
    )


def funding_from_dict(
    d: dict[str, Any], shared: _Shared | None = None, doc_id: str | None = None
) -> FundingRecord:
    same = shared or _Shared()
    d = {k: same(v) if isinstance(v, str) else v for k, v in d.items()}
    if doc_id == d["doc_id"]:
        d["doc_id"] = doc_id
    d["source"] = same.source(d["source"])
    d["agencies"] = same(tuple(d.get("agencies") or ()))
    return FundingRecord(**d)


_CHUNK_FIELDS = ("chunk_id", "doc_id", "text", "section", "passage_index", "start", "end", "year", "status")


def chunk_to_dict(c: Chunk) -> dict[str, Any]:
    return {f: getattr(c, f) for f in _CHUNK_FIELDS}


def chunk_from_dict(d: dict[str, Any], doc: Document, shared: _Shared | None = None) -> Chunk:
    same = shared or _Shared()
    return Chunk(
        chunk_id=d["chunk_id"],
        doc_id=doc.doc_id,
        text=d["text"],
        title=doc.title,
        section=same(d["section"]),
        source=doc.source,
        passage_index=d["passage_index"],
        start=d["start"],
        end=d["end"],
        year=d["year"],
        status=same(d["status"]),
        country=doc.country,
        region=doc.region,
        theme=doc.theme,
        agencies=doc.agencies,
        metadata=doc.metadata,
    )


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------- checksums


def _crc32_of(path: Path) -> str:
    crc = 0
    with path.open("rb") as handle:
        while block := handle.read(CHECKSUM_BLOCK):
            crc = zlib.crc32(block, crc)
    return f"crc32:{crc:08x}"


def file_checksums(folder: Path) -> dict[str, str]:
    """A checksum of every file under ``folder`` but the manifest: relative POSIX path -> ``crc32:<hex>``.

    CRC-32 (zlib, 1 MiB blocks) catches accidental damage (disk, copy, a stray write), not a deliberate
    change: whoever can rewrite a file can rewrite the manifest too. It runs at 1.3-1.7 GB/s a core, 2.5-4
    times BLAKE2b (docs/reliability.md part 7)."""
    return {
        path.relative_to(folder).as_posix(): _crc32_of(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.relative_to(folder).as_posix() != MANIFEST
    }


def verify_checksums(folder: Path, expected: Any) -> None:
    """Raise :class:`IndexCorrupt` naming the first file of ``folder`` that is missing or differs from
    ``expected`` (a manifest's ``checksums``). ``None`` (a version written before checksums) passes; files
    the manifest does not list are not read."""
    if expected is None:
        logger.info("%s has no checksums (built before they were recorded): not verified", folder.name)
        return
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in expected.items()
    ):
        raise IndexCorrupt(f"{folder / MANIFEST}: checksums are not a mapping of file names to checksums")
    for name, want in sorted(expected.items()):
        path = folder / name
        if name.startswith("/") or ".." in Path(name).parts:
            raise IndexCorrupt(f"{folder / MANIFEST}: checksum of a file outside the version: {name!r}")
        if not path.is_file():
            raise IndexCorrupt(f"{path}: missing (the manifest lists it with a checksum)")
        algorithm = want.partition(":")[0]
        if algorithm != "crc32":
            raise IndexCorrupt(f"{path}: unknown checksum {algorithm!r} in the manifest")
        got = _crc32_of(path)
        if got != want:
            raise IndexCorrupt(
                f"{path}: checksum mismatch ({got}, the manifest says {want}): the file is damaged;"
                " rebuild the index with `insight-search index`"
            )


# ---------------------------------------------------------------- locking, versions, atomic swap


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (advisory lock, released if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise InsightSearchError(f"another build is running on {index_dir}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_version(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not name or "/" in name or name.startswith("."):
        raise IndexCorrupt(f"{pointer} does not name a version folder")
    return index_dir / name


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    version = current_version(index_dir)
    if version is None:
        return None
    return read_version_manifest(version)


def read_version_manifest(version: Path) -> dict[str, Any]:
    """The manifest of one version folder (current or not)."""
    try:
        return dict(json.loads((version / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"cannot read the manifest of {version}: {exc}") from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(index_dir: Path, keep: int = 2) -> None:
    """Remove temporary folders of interrupted builds and all but the ``keep`` newest versions.

    Call only while holding :func:`build_lock`."""
    if not index_dir.exists():
        return
    live = current_version(index_dir)
    for entry in index_dir.iterdir():
        if entry.name.startswith(TMP_PREFIX) or entry.name == CURRENT + ".tmp":
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
    for old in versions(index_dir)[keep:]:  # newest first by publication (the fallback wants the last one)
        if old != live:
            shutil.rmtree(old, ignore_errors=True)


def _new_version(index_dir: Path) -> tuple[str, Path]:
    """A fresh version name and its temporary folder (removed by ``clean_leftovers`` if the build dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
    tmp = index_dir / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    return name, tmp


def _publish(index_dir: Path, name: str, tmp: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest, make every file durable, rename the folder into place and point CURRENT at it."""
    manifest = dict(manifest, format_version=FORMAT_VERSION, checksums=file_checksums(tmp))
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for written in tmp.rglob("*"):
        if written.is_file():
            with written.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(tmp)
    final = index_dir / name
    os.rename(tmp, final)
    pointer_tmp = index_dir / (CURRENT + ".tmp")
    with pointer_tmp.open("w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    logger.info("index version %s is now current", name)
    return final


def save(index_dir: Path, data: IndexData) -> Path:
    """Write ``data`` (already in memory) as a new version and make it current atomically."""
    name, tmp = _new_version(index_dir)
    logger.info("writing index version %s", name)
    data.dense.save(tmp)
    data.lexical.save(tmp / "lexical")
    _write_jsonl(tmp / "chunks.jsonl", (chunk_to_dict(c) for c in data.chunks))
    _write_jsonl(tmp / "documents.jsonl", (document_to_dict(d) for d in data.documents.values()))
    _write_jsonl(tmp / "funding.jsonl", (asdict(f) for f in data.funding))
    return _publish(index_dir, name, tmp, data.manifest)


class VersionWriter:
    """Writes one index version as documents and chunks arrive, holding none of them in memory.

    ``add_document`` stages a document (a repeated id is merged into the first with ``merge`` and gives no
    new chunks); ``add_chunks`` appends chunks in index order with their vectors and the text BM25 indexes;
    ``commit`` finishes the indexes and makes the version current; ``abort`` removes it. Use only while
    holding :func:`build_lock`."""

    def __init__(
        self,
        index_dir: Path,
        dimension: int,
        *,
        flat_max: int,
        merge: Callable[[Document, Document], Document],
    ) -> None:
        self.index_dir, self.dimension, self.flat_max, self.merge = index_dir, dimension, flat_max, merge
        self.name, self.tmp = _new_version(index_dir)
        self.documents = self.passages = self.funding_records = self.chunks = 0
        self._staging = sqlite3.connect(self.tmp / ".documents.sqlite", isolation_level=None)
        self._staging.execute("PRAGMA journal_mode=OFF")
        self._staging.execute("PRAGMA synchronous=OFF")
        self._staging.execute("CREATE TABLE docs (seq INTEGER PRIMARY KEY, doc_id TEXT UNIQUE, body TEXT)")
        self._staging.execute("BEGIN")
        self._chunks = (self.tmp / "chunks.jsonl").open("w", encoding="utf-8")
        self._vectors = VectorWriter(self.tmp / VECTORS_FILE, dimension)
        self._lexical = LexicalBuilder(self.tmp / ".bm25-pairs.i32")

    def add_document(self, doc: Document) -> bool:
        """Stage ``doc``; False when its id was seen before (merged, no new chunks)."""
        row = self._staging.execute("SELECT body FROM docs WHERE doc_id = ?", (doc.doc_id,)).fetchone()
        if row is not None:
            merged = self.merge(document_from_dict(json.loads(row[0])), doc)
            body = json.dumps(document_to_dict(merged), ensure_ascii=False)
            self._staging.execute("UPDATE docs SET body = ? WHERE doc_id = ?", (body, doc.doc_id))
            return False
        body = json.dumps(document_to_dict(doc), ensure_ascii=False)
        self._staging.execute("INSERT INTO docs (doc_id, body) VALUES (?, ?)", (doc.doc_id, body))
        self.documents += 1
        self.passages += len(doc.passages)
        self.funding_records += len(doc.funding)
        return True

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, lexical_texts: Sequence[str]) -> None:
        if not (len(chunks) == len(vectors) == len(lexical_texts)):
            raise ValueError("add_chunks needs one vector and one text per chunk")
        for chunk in chunks:
            self._chunks.write(json.dumps(chunk_to_dict(chunk), ensure_ascii=False))
            self._chunks.write("\n")
        self._vectors.write(vectors)
        for text in lexical_texts:
            self._lexical.add(text)
        self.chunks += len(chunks)

    def commit(self, manifest: dict[str, Any]) -> Path:
        """Finish the dense and BM25 indexes, write documents and funding, publish. Returns the version."""
        logger.info("writing index version %s", self.name)
        self._chunks.close()
        self._vectors.close()
        if self.chunks > self.flat_max:  # HNSW, built from the vector file block by block
            vectors = self.tmp / VECTORS_FILE
            dense = DenseIndex.from_vector_file(vectors, self.dimension, flat_max=self.flat_max)
            dense.save(self.tmp)
            vectors.unlink()
            kind, storage = dense.kind, dense.storage
            del dense
        else:  # the vector file already is the exact index
            kind, storage = "flat", "float32"
        self._lexical.finish().save(self.tmp / "lexical")
        self._staging.execute("COMMIT")
        with (
            (self.tmp / "documents.jsonl").open("w", encoding="utf-8") as docs,
            (self.tmp / "funding.jsonl").open("w", encoding="utf-8") as funding,
        ):
            for (body,) in self._staging.execute("SELECT body FROM docs ORDER BY seq"):
                docs.write(body + "\n")
                for record in json.loads(body).get("funding") or ():
                    funding.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._staging.close()
        (self.tmp / ".documents.sqlite").unlink()
        return _publish(
            self.index_dir, self.name, self.tmp, dict(manifest, dense_index=kind, dense_storage=storage)
        )

    def abort(self) -> None:
        """Drop the unfinished version (a crash instead leaves it to ``clean_leftovers``)."""
        for closing in (
            self._chunks.close,
            self._vectors.close,
            self._staging.close,
            self._lexical.spill.close,
        ):
            with contextlib.suppress(Exception):
                closing()
        shutil.rmtree(self.tmp, ignore_errors=True)


def load(
    index_dir: Path,
    *,
    expected_model_id: str | None = None,
    version: Path | None = None,
    fallback: bool = False,
) -> IndexData:
    """Load the current version (or ``version``, a version folder of ``index_dir``). Refuses an index built
    with another model than ``expected_model_id``, and a damaged one (a file that fails its checksum).

    With ``fallback``, a damaged current version is logged (WARNING, naming both) and the newest older
    version that loads intact is returned instead; when none does, the current version's error is raised."""
    if fallback:
        return _load_newest_intact(index_dir, expected_model_id)
    version = version or current_version(index_dir)
    if version is None or not version.is_dir():
        raise IndexNotFound(f"no index in {index_dir}: build one with `insight-search index PATH...`")
    manifest = read_version_manifest(version)
    if manifest.get("format_version") not in READABLE_FORMATS:
        raise IndexCorrupt(
            f"{version} has index format {manifest.get('format_version')!r}, "
            f"this version reads formats {', '.join(map(str, READABLE_FORMATS))}:"
            " rebuild it with `insight-search index`"
        )
    if expected_model_id is not None and manifest.get("model_id") != expected_model_id:
        raise ModelMismatch(
            f"the index in {index_dir} was built with model {manifest.get('model_id')!r} "
            f"but the configured model"
            f" is {expected_model_id!r}: rebuild the index or configure the same model (INSIGHT_SEARCH_MODEL)"
        )
    verify_checksums(version, manifest.get("checksums"))
    try:
        same = _Shared()
        documents = {}
        for d in _read_jsonl(version / "documents.jsonl"):
            documents[d["doc_id"]] = document_from_dict(d, same)
        chunks = [
            chunk_from_dict(c, documents[c["doc_id"]], same) for c in _read_jsonl(version / "chunks.jsonl")
        ]
        del same
        # funding.jsonl holds the documents' records again (for readers of the files); share theirs
        funding = [f for doc in documents.values() for f in doc.funding]
        dense = DenseIndex.load(version, int(manifest.get("dimension") or 0))
        lexical = LexicalIndex.load(version / "lexical")
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(f"cannot read the index in {version}: {exc}") from exc
    if dense.size != len(chunks):
        raise IndexCorrupt(f"{version}: {dense.size} vectors for {len(chunks)} chunks")
    return IndexData(manifest, chunks, documents, funding, dense, lexical, path=version)


def _published_at(version: Path) -> tuple[int, str]:
    """When a version was published (its manifest is written last), then its name: names alone give the
    time to the second, and two builds can publish within one."""
    try:
        return (version / MANIFEST).stat().st_mtime_ns, version.name
    except OSError:
        return 0, version.name


def versions(index_dir: Path) -> list[Path]:
    """The version folders of ``index_dir``, newest first."""
    if not index_dir.is_dir():
        return []
    return sorted((p for p in index_dir.glob("v-*") if p.is_dir()), key=_published_at, reverse=True)


def intact_versions(index_dir: Path) -> Iterator[Path]:
    """The version folders whose files match their manifest's checksums, newest first (checked lazily: one
    version is read when the next is asked for). A version without checksums counts as intact."""
    for version in versions(index_dir):
        try:
            verify_checksums(version, read_version_manifest(version).get("checksums"))
        except IndexCorrupt as exc:
            logger.warning("index version %s is damaged: %s", version.name, exc)
            continue
        yield version


def _load_newest_intact(index_dir: Path, expected_model_id: str | None) -> IndexData:
    try:
        return load(index_dir, expected_model_id=expected_model_id)
    except IndexCorrupt as damaged:
        try:
            current = current_version(index_dir)
        except IndexCorrupt:  # a garbled CURRENT: any version may be tried
            current = None
        ordered = versions(index_dir)
        for older in ordered[ordered.index(current) + 1 :] if current in ordered else ordered:
            try:
                data = load(index_dir, expected_model_id=expected_model_id, version=older)
            except IndexCorrupt as exc:
                logger.warning("older index version %s cannot be loaded either: %s", older.name, exc)
                continue
            logger.warning(
                "the current index version %s is damaged (%s); serving the older intact version %s instead:"
                " rebuild the index with `insight-search index`",
                current.name if current else CURRENT,
                damaged,
                older.name,
            )
            return data
        raise
