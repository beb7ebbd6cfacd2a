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
  (indicator records live only with their documents, in ``documents.jsonl``)
* ``sentences/``: each chunk's quotable sentences and their vectors (``sentence_store``; absent in a version
  written before them)
* ``multilingual/``: the multilingual lane's vectors, as the dense index's files, and ``rows.i64``, the chunk
  row of each (``multilingual.LaneIndex``; absent in a version built without the lane)

The manifest records a checksum of every other file of its version (``checksums``: relative path ->
``crc32:<hex>``); :func:`load` verifies them before it reads anything, so a same-size damage (a flipped
byte, zeroed or swapped vector rows) is refused naming the file instead of giving wrong answers. A version
written before checksums existed has none and loads unchecked.

:class:`version_writer.VersionWriter` writes a version as the corpus streams in (documents staged in
SQLite, chunks, vectors and BM25 pairs appended to files); this module publishes it and loads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insight_search.checksums import file_checksums, verify_checksums
from insight_search.errors import IndexBusy, IndexCorrupt, IndexNotFound, ModelMismatch
from insight_search.manifest import Manifest
from insight_search.models import Chunk, Document, FundingRecord, IndicatorRecord
from insight_search.records import (
    Shared,
    chunk_from_dict,
    chunk_to_dict,
    document_from_dict,
    document_to_dict,
)
from insight_search.sentence_store import SentenceStore

if TYPE_CHECKING:  # loaded when an index is: `info` reads a manifest without faiss, bm25s and scipy
    from insight_search.dense import DenseIndex
    from insight_search.lexical import LexicalIndex
    from insight_search.multilingual import LaneIndex

logger = logging.getLogger(__name__)

# 4: passages and chunks carry their language, BM25 analyses each in it (issue 13); 3: passages carry year
# spans (year_end) and composed marks; 2: an exact dense index is stored as vectors.f32; 1: every dense
# index in dense.faiss. An older index still loads (one-year, quoted passages without a language, English
# BM25); `index` and `serve` rebuild it from its own sources so that it gains them.
FORMAT_VERSION = 4
READABLE_FORMATS = (1, 2, 3, 4)
CURRENT = "CURRENT"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
MANIFEST = "manifest.json"


@dataclass
class IndexData:
    """Everything one index version holds, in memory."""

    manifest: Manifest
    chunks: list[Chunk]
    documents: dict[str, Document]
    funding: list[FundingRecord]
    dense: DenseIndex
    lexical: LexicalIndex
    path: Path | None = None
    indicators: list[IndicatorRecord] = field(default_factory=list)  # the documents' own, in their order
    sentences: SentenceStore | None = None  # None: summaries embed their sentences on the fly
    multilingual: LaneIndex | None = None  # the multilingual lane's vectors; None: built without it


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


# ---------------------------------------------------------------- locking, versions, atomic swap


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (advisory lock, released if the process dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusy(f"another build is running on {index_dir}: wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def current_version(index_dir: Path) -> Path | None:
    """The folder ``CURRENT`` names; None when there is no ``CURRENT`` (no index yet). IndexCorrupt, in one
    line, when it cannot be read or does not name a version folder (garbled bytes, a folder in its place)."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        raise IndexCorrupt(f"{pointer} is not text: it should name a version folder") from None
    except OSError as exc:
        raise IndexCorrupt(f"{pointer} cannot be read: {exc.strerror or exc}") from None
    if not name or "/" in name or "\0" in name or name.startswith(".") or not name.startswith("v-"):
        raise IndexCorrupt(f"{pointer} does not name a version folder ({name[:40]!r})")
    return index_dir / name


def read_manifest(index_dir: Path) -> Manifest | None:
    """The current version's manifest; None when there is no current version. IndexCorrupt when the file is
    missing, is not JSON, or does not hold a manifest."""
    version = current_version(index_dir)
    if version is None:
        return None
    return read_version_manifest(version)


def read_version_manifest(version: Path) -> Manifest:
    """The manifest of one version folder (current or not)."""
    path = version / "manifest.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"cannot read the manifest of {version}: {exc}") from exc
    return Manifest.from_dict(raw, where=str(path))


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
    newest_first = versions(index_dir)
    for old in newest_first[keep:]:
        if old != live:
            shutil.rmtree(old, ignore_errors=True)


def new_version(index_dir: Path) -> tuple[str, Path]:
    """A fresh version name and its temporary folder (removed by ``clean_leftovers`` if the build dies)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    # The name sorts by build time, to the microsecond (two builds in one second are still ordered).
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}"
    name = f"v-{stamp}-{secrets.token_hex(4)}"
    tmp = index_dir / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    return name, tmp


def publish(index_dir: Path, name: str, tmp: Path, manifest: Manifest) -> Path:
    """Write the manifest, make every file durable, rename the folder into place and point CURRENT at it."""
    manifest = replace(manifest, format_version=FORMAT_VERSION, checksums=file_checksums(tmp))
    (tmp / "manifest.json").write_text(
        json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
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
    name, tmp = new_version(index_dir)
    logger.info("writing index version %s", name)
    data.dense.save(tmp)
    if data.multilingual is not None:
        from insight_search.multilingual import LANE_DIR

        (tmp / LANE_DIR).mkdir()
        data.multilingual.save(tmp / LANE_DIR)
    data.lexical.save(tmp / "lexical")
    _write_jsonl(tmp / "chunks.jsonl", (chunk_to_dict(c) for c in data.chunks))
    _write_jsonl(tmp / "documents.jsonl", (document_to_dict(d) for d in data.documents.values()))
    _write_jsonl(tmp / "funding.jsonl", (asdict(f) for f in data.funding))
    return publish(index_dir, name, tmp, data.manifest)


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
    if manifest.format_version not in READABLE_FORMATS:
        raise IndexCorrupt(
            f"{version} has index format {manifest.format_version!r}, "
            f"this version reads formats {', '.join(map(str, READABLE_FORMATS))}:"
            " rebuild it with `insight-search index`"
        )
    if expected_model_id is not None and manifest.model_id != expected_model_id:
        raise ModelMismatch(
            f"the index in {index_dir} was built with model {manifest.model_id!r} "
            f"but the configured model"
            f" is {expected_model_id!r}: rebuild the index or configure the same model (INSIGHT_SEARCH_MODEL)"
        )
    verify_checksums(version, manifest.checksums)
    try:
        same = Shared()
        documents = {}
        for d in _read_jsonl(version / "documents.jsonl"):
            documents[d["doc_id"]] = document_from_dict(d, same)
        chunks = [
            chunk_from_dict(c, documents[c["doc_id"]], same) for c in _read_jsonl(version / "chunks.jsonl")
        ]
        del same
        # funding.jsonl holds the documents' records again (for readers of the files); share theirs
        funding = [f for doc in documents.values() for f in doc.funding]
        indicators = [i for doc in documents.values() for i in doc.indicators]
        from insight_search.dense import DenseIndex
        from insight_search.lexical import LexicalIndex

        dense = DenseIndex.load(version, manifest.dimension)
        lexical = LexicalIndex.load(version / "lexical")
        sentences = SentenceStore.load(version, manifest.dimension, len(chunks))
        lane = None
        if manifest.multilingual_dimension:
            from insight_search.multilingual import LANE_DIR, LaneIndex

            lane = LaneIndex.load(version / LANE_DIR, manifest.multilingual_dimension)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexCorrupt(f"cannot read the index in {version}: {exc}") from exc
    if dense.size != len(chunks):
        raise IndexCorrupt(f"{version}: {dense.size} vectors for {len(chunks)} chunks")
    if lane is not None and len(lane.rows) and lane.rows[-1] >= len(chunks):
        raise IndexCorrupt(f"{version}: multilingual vectors for chunk rows beyond its {len(chunks)} chunks")
    return IndexData(
        manifest,
        chunks,
        documents,
        funding,
        dense,
        lexical,
        path=version,
        indicators=indicators,
        sentences=sentences,
        multilingual=lane,
    )


def versions(index_dir: Path) -> list[Path]:
    """The version folders of ``index_dir``, newest first (their names start with the build time)."""
    if not index_dir.is_dir():
        return []
    return sorted((p for p in index_dir.glob("v-*") if p.is_dir()), key=lambda p: p.name, reverse=True)


def intact_versions(index_dir: Path) -> Iterator[Path]:
    """The version folders whose files match their manifest's checksums, newest first (checked lazily: one
    version is read when the next is asked for). A version without checksums counts as intact."""
    for version in versions(index_dir):
        try:
            verify_checksums(version, read_version_manifest(version).checksums)
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
