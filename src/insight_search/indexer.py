"""Building the index: corpus paths -> documents -> chunks -> embeddings (cached) -> indexes -> atomic save.

Each build reflects exactly what the given paths hold now: new and changed files are added, vanished ones
disappear. Unchanged text is not embedded again (the embedding cache is keyed by model and text hash).
The build streams: readers yield documents one at a time, each new document's chunks join a window of
``settings.index_window`` chunks, and a full window is embedded (each distinct text once, longest first)
and appended to the version being written (:class:`version_writer.VersionWriter`). Memory therefore
depends on the window, not on the corpus; only the final BM25 matrix (and the HNSW graph of a very large
index) grows with it."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from insight_search import store
from insight_search.chunking import chunk_document
from insight_search.config import Settings
from insight_search.embedding import Embedder, EmbeddingCache, embed_with_cache, text_key
from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.languages import with_languages
from insight_search.manifest import Counts, Manifest
from insight_search.models import Chunk, Document
from insight_search.multilingual import lane_vectors, make_multilingual_embedder
from insight_search.sentence_store import sentence_texts
from insight_search.sources.registry import iter_corpus_files, read_file
from insight_search.version_writer import VersionWriter

logger = logging.getLogger(__name__)

CACHE_FILE = "embedding-cache.sqlite"


@dataclass(frozen=True)
class FileProblem:
    path: str
    reason: str


@dataclass(frozen=True)
class IndexReport:
    """What a build did. Every chunk's vector was either ``embedded`` (its text new to this build and to
    the cache), ``repeated`` (its text already had a vector from earlier in this build) or ``cached``
    (reused from the embedding cache, which held its text before this build began)."""

    files: int
    documents: int
    passages: int
    chunks: int
    embedded: int
    cached: int
    seconds: float
    problems: tuple[FileProblem, ...]
    version: str | None
    failed_files: int = 0
    repeated: int = 0
    sentences: int = 0  # quotable sentences stored with their vectors
    sentences_embedded: int = 0  # distinct sentence texts embedded (not in the cache)


@dataclass
class Progress:
    """Callbacks for long work; the CLI turns them into progress bars."""

    on_file: Callable[[Path], None] | None = None
    on_embed_start: Callable[[int], None] | None = None  # a window of n chunks goes to the embedder
    on_embedded: Callable[[int], None] | None = None  # n more chunks have vectors (embedded or cached)


@dataclass
class Corpus:
    """What reading the corpus paths found. ``documents`` is filled by :func:`collect_corpus` only."""

    documents: dict[str, Document] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)
    files: int = 0
    failed_files: int = 0
    fingerprint: str = ""


class DocumentSink(Protocol):
    """Where a corpus reader hands each document it read, with its chunks when the reader made them
    already (a distributed build chunks where it reads); without them the build chunks it."""

    def __call__(self, doc: Document, chunks: Sequence[Chunk] | None = None) -> None: ...


# How a build reads its paths: :func:`read_corpus` here, ``distributed.build`` on a Ray cluster.
CorpusReader = Callable[[Sequence[Path], DocumentSink, Progress | None], Corpus]


def _merge_duplicate(existing: Document, new: Document) -> Document:
    """The same UN INFO sub-output in several theme files is one document listing all its themes (and all
    the partners any copy names), and the indicator records of the first copy that has some (an outcome
    page and its IATI activity under one id); the rest is the first copy's."""
    return dataclasses.replace(
        existing,
        themes=tuple(dict.fromkeys((*existing.themes, *new.themes))),
        partners=tuple(dict.fromkeys((*existing.partners, *new.partners))),
        indicators=existing.indicators or new.indicators,
    )


def collect_corpus(paths: Sequence[Path], progress: Progress | None = None) -> Corpus:
    """Every document of the corpus in memory, repeats merged (for benchmarks; the build streams)."""
    documents: dict[str, Document] = {}

    def keep(doc: Document) -> None:
        seen = documents.get(doc.doc_id)
        documents[doc.doc_id] = doc if seen is None else _merge_duplicate(seen, doc)

    corpus = read_corpus(paths, keep, progress)
    corpus.documents = documents
    return corpus


def read_corpus(
    paths: Sequence[Path], on_document: Callable[[Document], None], progress: Progress | None = None
) -> Corpus:
    """Read every corpus file, handing each document to ``on_document`` as it is read. Unreadable files and
    bad records are listed in the result with their reason; the rest is read."""
    corpus = Corpus()
    digest = hashlib.sha256()
    failed: set[str] = set()

    def warn(problem: UnreadableFile) -> None:
        corpus.problems.append(FileProblem(problem.path, problem.reason))
        logger.info("%s", problem)  # the report lists it; the CLI prints the report

    for item in iter_corpus_files(paths):
        if isinstance(item, UnreadableFile):
            warn(item)
            failed.add(item.path)
            continue
        corpus.files += 1
        if progress and progress.on_file:
            progress.on_file(item)
        try:
            digest.update(f"{item}\0{file_digest(item)}\0".encode())
            for doc in read_file(item, warn=warn):
                on_document(doc)
        except UnreadableFile as exc:
            warn(exc)
            failed.add(str(item))
        except OSError as exc:
            warn(UnreadableFile(item, f"cannot read file: {exc.strerror or exc}"))
            failed.add(str(item))
    corpus.failed_files = len(failed)
    corpus.fingerprint = digest.hexdigest()
    return corpus


def file_digest(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_fingerprint(paths: Sequence[Path | str], base: Path | None = None) -> str:
    """Hash of the readable corpus files' names and contents (the same value a build records). ``paths``
    are as the build was given them; relative ones are looked up under ``base`` (default: here), and the
    names hashed stay as written, so an index built elsewhere is checked against its own files."""
    written = [Path(p) for p in paths]
    roots = [base / p if base is not None and not p.is_absolute() else p for p in written]
    digest = hashlib.sha256()
    for item in iter_corpus_files(roots):
        if isinstance(item, UnreadableFile):
            continue
        name = next(
            (w / item.relative_to(r) for w, r in zip(written, roots, strict=True) if item.is_relative_to(r)),
            item,
        )
        try:
            digest.update(f"{name}\0{file_digest(item)}\0".encode())
        except OSError:
            continue
    return digest.hexdigest()


def index_is_current(
    index_dir: Path, paths: Sequence[Path], model_id: str, lane_id: str | None = None
) -> bool:
    """Whether the index was built with ``model_id`` (and the lane ``lane_id``) from what ``paths`` hold."""
    try:
        manifest = store.read_manifest(index_dir)
    except InsightSearchError:
        return False
    if manifest is None or manifest.format_version != store.FORMAT_VERSION:  # an older format: rebuild
        return False
    same = manifest.corpus_fingerprint == corpus_fingerprint(paths)
    return lane_id in (None, manifest.multilingual_model_id) and manifest.model_id == model_id and same


def _working_dir(paths: Sequence[Path]) -> str | None:
    """The folder relative corpus paths are relative to (None when all are absolute)."""
    if all(Path(p).is_absolute() for p in paths):
        return None
    try:
        return str(Path.cwd())
    except OSError:  # the working folder was removed: nothing to record
        return None


def _nothing_to_index(paths: Sequence[Path], corpus: Corpus) -> str:
    """The sentence that says why a build found no text ("nothing to index in nope: no such file or
    folder. The index was not changed."): each problem with its path and reason (the first three)."""
    where = ", ".join(map(str, paths))
    alone = [str(p) for p in paths] if len(paths) == 1 else []
    shown = [p.reason if p.path in alone else f"{p.path}: {p.reason}" for p in corpus.problems[:3]]
    if len(corpus.problems) > 3:
        shown.append(f"{len(corpus.problems) - 3} more")
    problems = "; ".join(shown)
    if corpus.files == 0:
        found = problems or ("it holds no files" if len(paths) == 1 else "they hold no files")
    else:
        files = "the one readable file" if corpus.files == 1 else f"the {corpus.files} readable files"
        found = f"{files} gave no text" + (f" ({problems})" if problems else "")
    return f"nothing to index in {where}: {found}. The index was not changed."


def indexed_text(chunk: Chunk, with_title: bool) -> str:
    """What is embedded and indexed for BM25: the chunk's text, after its document's title when
    ``with_title`` (a chunk deep in a document rarely repeats the subject the title names). The text shown
    and highlighted stays the chunk's own."""
    title = chunk.title.strip()
    if not with_title or not title or chunk.text.startswith(title.rstrip("…").strip()):
        return chunk.text
    return f"{title}\n{chunk.text}"


class _Pipeline:
    """New documents -> chunks -> windows of chunks -> vectors (cache first) -> the version writer."""

    def __init__(
        self,
        writer: VersionWriter,
        embedder: Embedder,
        cache: EmbeddingCache,
        settings: Settings,
        progress: Progress | None,
        embed_batch: int | None = None,
        lane: Embedder | None = None,
    ) -> None:
        self.writer, self.embedder, self.cache, self.settings = writer, embedder, cache, settings
        self.lane = lane  # the multilingual lane's embedder (``multilingual``), if the build adds it
        self.lane_rows = 0  # chunks the lane holds (embedded, or found in the cache)
        self.progress = progress or Progress()
        self.embed_batch = embed_batch or max(settings.embed_batch_size * 8, 64)
        self.window: list[Chunk] = []
        self.embedded = 0
        self.cached = 0  # chunks whose text the cache held before this build
        self.sentences = 0  # quotable sentences stored (``sentence_store``)
        self.sentences_embedded = 0  # of them, texts embedded by this build (the others were cached)
        self.cache_mark = cache.mark()

    def add_document(self, doc: Document, chunks: Sequence[Chunk] | None = None) -> None:
        """``chunks``: the document's chunks when they were made elsewhere (a Ray build chunks on the cluster,
        from the document with its languages: ``distributed.build.read_one_file``)."""
        doc = with_languages(doc)  # each passage's language: stated by the source, else detected (issue 13)
        if not self.writer.add_document(doc):
            return  # a repeat: merged into the first, which already gave the chunks
        if chunks is None:
            chunks = chunk_document(doc, self.settings.chunk_words, self.settings.chunk_chars)
        self.window.extend(chunks)
        if len(self.window) >= self.settings.index_window:
            self.flush()

    def flush(self) -> None:
        chunks, self.window = self.window, []
        if not chunks:
            return
        if self.progress.on_embed_start:
            self.progress.on_embed_start(len(chunks))
        texts = [indexed_text(c, self.settings.title_in_dense) for c in chunks]
        keys = [text_key(t) for t in texts]
        held = self.cache.held_at(
            self.cache_mark, self.embedder.model_id, list(dict.fromkeys(keys)), self.embedder.dimension
        )
        self.cached += sum(k in held for k in keys)
        vectors, embedded = embed_with_cache(
            self.embedder,
            texts,
            self.cache,
            batch_size=self.embed_batch,
            progress=self.progress.on_embedded,
        )
        self.embedded += embedded
        # The sentences a summary may quote, embedded once here instead of on every summary (through the
        # same cache: a re-index of unchanged text embeds none again).
        spans, sentences = sentence_texts(chunks)
        sentence_vectors, new = embed_with_cache(
            self.embedder, sentences, self.cache, batch_size=self.embed_batch
        )
        self.sentences += len(sentences)
        self.sentences_embedded += new
        lexical = [indexed_text(c, self.settings.title_in_lexical) for c in chunks]
        lane = None  # the chunks the multilingual lane holds and their vectors, if the build adds it
        if self.lane is not None:
            lane = lane_vectors(self.lane, chunks, texts, self.cache, self.settings.multilingual_passages)
            self.lane_rows += len(lane[0])
        self.writer.add_chunks(chunks, vectors, lexical, (spans, sentence_vectors), lane)


def build_index(
    paths: Sequence[Path],
    settings: Settings,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    reader: CorpusReader = read_corpus,
    embed_batch: int | None = None,
    multilingual: Embedder | None = None,
) -> IndexReport:
    """Build the index of ``paths`` (module docstring). ``reader`` reads the paths (the Ray build reads them
    on a cluster); ``embed_batch`` is how many texts go to ``embedder.embed_batch`` at once (default: eight
    model batches; a cluster embedder takes a whole window and spreads it over its workers). With
    ``settings.multilingual`` the version gets the multilingual lane, embedded by ``multilingual`` (default:
    the configured one, ``multilingual.make_multilingual_embedder``; in a Ray build, on the driver)."""
    started = time.perf_counter()
    index_dir = settings.index_dir
    lane = multilingual
    if lane is None and settings.multilingual:
        lane = make_multilingual_embedder(settings)
    with store.build_lock(index_dir):
        store.clean_leftovers(index_dir)
        writer = VersionWriter(
            index_dir,
            embedder.dimension,
            flat_max=settings.flat_index_max,
            merge=_merge_duplicate,
            lane_dimension=lane.dimension if lane is not None else None,
        )
        cache = EmbeddingCache(index_dir / CACHE_FILE)
        try:
            pipeline = _Pipeline(writer, embedder, cache, settings, progress, embed_batch, lane)
            corpus = reader(paths, pipeline.add_document, progress)
            pipeline.flush()
            if writer.chunks == 0:
                raise InsightSearchError(_nothing_to_index(paths, corpus))
            counts = Counts(
                documents=writer.documents,
                passages=writer.passages,
                chunks=writer.chunks,
                funding_records=writer.funding_records,
                files=corpus.files,
                indicator_records=writer.indicator_records,
                skipped_files=len(corpus.problems),
                failed_files=corpus.failed_files,
            )
            version = writer.commit(
                Manifest(
                    model_id=embedder.model_id,
                    embedding_backend=embedder.backend,
                    model=settings.model,
                    dimension=embedder.dimension,
                    counts=counts,
                    corpus_paths=tuple(str(p) for p in paths),
                    problems=tuple(f"{p.path}: {p.reason}" for p in corpus.problems) or None,
                    working_dir=_working_dir(paths),
                    corpus_fingerprint=corpus.fingerprint,
                    chunk_words=settings.chunk_words,
                    title_in_lexical=settings.title_in_lexical,
                    title_in_dense=settings.title_in_dense,
                    build_settings=settings.build_settings(),
                    built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    multilingual_model_id=lane.model_id if lane is not None else None,
                    multilingual_dimension=lane.dimension if lane is not None else None,
                    multilingual_rows=pipeline.lane_rows if lane is not None else None,
                )
            )
        except BaseException:
            writer.abort()
            raise
        finally:
            cache.close()
        store.clean_leftovers(index_dir)
    return IndexReport(
        files=corpus.files,
        documents=writer.documents,
        passages=writer.passages,
        chunks=writer.chunks,
        embedded=pipeline.embedded,
        cached=pipeline.cached,
        repeated=writer.chunks - pipeline.embedded - pipeline.cached,
        seconds=time.perf_counter() - started,
        problems=tuple(corpus.problems),
        version=version.name,
        failed_files=corpus.failed_files,
        sentences=pipeline.sentences,
        sentences_embedded=pipeline.sentences_embedded,
    )
