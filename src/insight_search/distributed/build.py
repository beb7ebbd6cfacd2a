"""An index build on a Ray cluster: the same build as ``indexer.build_index``, with its two costly parts run
on the cluster and everything else (the embedding cache, the version writer, the atomic switch) where the
command runs.

* Reading and chunking: Ray Data maps the corpus files (one block per file, read in parallel on any node) to
  their documents and chunks; the rows stream back in file order (``preserve_order``), so documents are merged
  and chunks written in the order a local build writes them: the same chunk ids in the same rows. Ray Data's
  streaming executor holds back reading while the writer is behind (backpressure).
* Embedding: an actor pool, each actor loading the model once. The build asks the embedding cache first and
  sends only the texts it lacks, a window at a time, split into parts spread over the actors
  (:class:`ClusterEmbedder`); the vectors come back in order and go into the cache and the writer as in a
  local build. A killed actor is restarted and its part retried by Ray (``max_restarts``,
  ``max_task_retries``); a build that cannot complete raises :class:`ClusterError` (one line) and the
  unfinished version is dropped, so the previous index stays whole.

Every node needs the package (and the model, for onnx its exported copy in ``model_cache_dir``) installed,
and the corpus paths at the same place (a shared folder): ``docs/scaling.md``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from insight_search.chunking import chunk_document
from insight_search.config import Settings
from insight_search.distributed.cluster import ClusterError, connected, describe_failure, import_ray
from insight_search.embedding import Embedder, make_embedder
from insight_search.errors import InsightSearchError, UnreadableFile
from insight_search.indexer import (
    Corpus,
    CorpusReader,
    DocumentSink,
    FileProblem,
    IndexReport,
    Progress,
    build_index,
    file_digest,
)
from insight_search.languages import with_languages
from insight_search.models import Chunk, Document
from insight_search.sources.registry import iter_corpus_files, read_file

logger = logging.getLogger(__name__)

EmbedderFactory = Callable[[], Embedder]

ACTOR_RESTARTS = 3  # an embedding actor that dies is started again this many times
TASK_RETRIES = 3  # and a part it was embedding is sent again this many times
READ_CPUS = 0.25  # what a file-reading task asks of a node (reading waits on the disk more than the CPU)
PART_TEXTS = 256  # texts per call to an actor: enough to keep the model busy, small enough to spread


# ---------------------------------------------------------------------------------------------- reading


def read_one_file(row: dict[str, Any], chunk_words: int, chunk_chars: int | None) -> dict[str, Any]:
    """On a worker: one corpus file -> its digest, its documents with their chunks, and its problems (the
    same outcomes as ``indexer.read_corpus`` for that file). Pickled: rows hold dataclasses."""
    path = Path(row["path"])
    problems: list[tuple[str, str]] = []
    documents: list[tuple[Document, list[Chunk]]] = []
    digest: str | None = None
    failed = False

    def warn(problem: UnreadableFile) -> None:
        problems.append((problem.path, problem.reason))

    try:
        digest = file_digest(path)
        for doc in read_file(path, warn=warn):
            doc = with_languages(doc)  # as the local build's pipeline does, before chunking (issue 13)
            documents.append((doc, chunk_document(doc, chunk_words, chunk_chars)))
    except UnreadableFile as exc:
        warn(exc)
        failed = True
    except OSError as exc:
        warn(UnreadableFile(path, f"cannot read file: {exc.strerror or exc}"))
        failed = True
    return {
        "path": str(path),
        "digest": digest or "",
        "failed": failed,
        "payload": pickle.dumps((documents, problems), protocol=pickle.HIGHEST_PROTOCOL),
    }


def cluster_reader(settings: Settings) -> CorpusReader:
    """A ``CorpusReader`` that reads and chunks the files on the cluster (Ray must be connected)."""

    def read(paths: Sequence[Path], on_document: DocumentSink, progress: Progress | None) -> Corpus:
        ray = import_ray()
        corpus = Corpus()
        digest = hashlib.sha256()
        failed: set[str] = set()

        def warn(path: str, reason: str) -> None:
            corpus.problems.append(FileProblem(path, reason))
            logger.info("%s: %s", path, reason)

        items = list(iter_corpus_files(paths))
        files = [item for item in items if not isinstance(item, UnreadableFile)]
        rows: Iterator[dict[str, Any]] = iter(())
        if files:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True
            context.enable_progress_bars = False  # the build's own progress is shown
            if not logger.isEnabledFor(logging.INFO):  # Ray Data's job lines only with -v
                logging.getLogger("ray.data").setLevel(logging.WARNING)
            dataset = ray.data.from_items(
                [{"path": str(p)} for p in files], override_num_blocks=min(len(files), 1000)
            ).map(
                functools.partial(
                    read_one_file, chunk_words=settings.chunk_words, chunk_chars=settings.chunk_chars
                ),
                num_cpus=READ_CPUS,
            )
            rows = iter(dataset.iter_rows())
        for item in items:
            if isinstance(item, UnreadableFile):
                warn(item.path, item.reason)
                failed.add(item.path)
                continue
            row = next(rows)
            corpus.files += 1
            if progress and progress.on_file:
                progress.on_file(item)
            if row["digest"]:
                digest.update(f"{item}\0{row['digest']}\0".encode())
            documents, problems = pickle.loads(row["payload"])
            for doc, chunks in documents:
                on_document(doc, chunks)
            for path, reason in problems:
                warn(path, reason)
            if row["failed"]:
                failed.add(str(item))
        corpus.failed_files = len(failed)
        corpus.fingerprint = digest.hexdigest()
        return corpus

    return read


# -------------------------------------------------------------------------------------------- embedding


class EmbeddingWorker:
    """The body of an embedding actor: the model, loaded once when the actor starts."""

    def __init__(self, factory: EmbedderFactory, threads: int) -> None:
        self.embedder = factory()
        self.embedder.limit_threads(threads)

    def describe(self) -> tuple[str, int, str]:
        return self.embedder.model_id, self.embedder.dimension, self.embedder.backend

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_batch(texts)

    def pid(self) -> int:
        import os

        return os.getpid()


class ClusterEmbedder:
    """The :class:`embedding.Embedder` a Ray build gives the indexer: ``embed_batch`` splits the texts into
    parts of ``part`` texts, runs them on the actors (as many at once as there are actors) and returns the
    vectors in order. ``model_id``, ``dimension`` and ``backend`` are the actors' model's."""

    def __init__(self, actors: Sequence[Any], part: int = PART_TEXTS) -> None:
        ray = import_ray()
        self._ray = ray
        self.actors = list(actors)
        self.part = max(1, part)
        self.model_id, self.dimension, self.backend = ray.get(self.actors[0].describe.remote())

    def limit_threads(self, threads: int) -> None:
        """The actors' threads are set when they start (one per CPU they were given)."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        from ray.util import ActorPool

        parts = [list(texts[i : i + self.part]) for i in range(0, len(texts), self.part)]
        pool = ActorPool(self.actors)
        vectors = list(pool.map(lambda actor, part: actor.embed.remote(part), parts))
        return np.ascontiguousarray(np.vstack(vectors), dtype=np.float32)


def start_actors(factory: EmbedderFactory, actors: int | None, actor_cpus: float) -> list[Any]:
    """``actors`` embedding actors (default: as many as the cluster's CPUs hold, ``actor_cpus`` each, after
    ``READ_CPUS`` kept for reading: actors holding every CPU would leave the reading tasks waiting for
    ever), spread over the nodes, each restarted by Ray when its process dies."""
    ray = import_ray()
    cpus = float(ray.cluster_resources().get("CPU", 1))
    count = actors or max(1, int((cpus - READ_CPUS) // actor_cpus))
    worker = ray.remote(EmbeddingWorker).options(
        num_cpus=actor_cpus,
        max_restarts=ACTOR_RESTARTS,
        max_task_retries=TASK_RETRIES,
        scheduling_strategy="SPREAD",
    )
    threads = max(1, math.ceil(actor_cpus))
    logger.info("starting %d embedding actors (%.2g CPUs each)", count, actor_cpus)
    return [worker.remote(factory, threads) for _ in range(count)]


def default_factory(settings: Settings) -> EmbedderFactory:
    """The configured model (``make_embedder``), made on the actor."""
    return functools.partial(make_embedder, settings)


# ------------------------------------------------------------------------------------------------ build


def ray_build_index(
    paths: Sequence[Path],
    settings: Settings,
    address: str,
    *,
    progress: Progress | None = None,
    embedder_factory: EmbedderFactory | None = None,
    actors: int | None = None,
    actor_cpus: float = 1.0,
) -> IndexReport:
    """``indexer.build_index`` of ``paths`` with reading, chunking and embedding on the Ray cluster at
    ``address`` (``cluster.connected``). ``embedder_factory`` makes each actor's embedder (default: the
    configured model); ``actors`` and ``actor_cpus`` size the pool. Raises ClusterError (one line) when Ray
    is missing, the cluster cannot be reached, or the work fails beyond Ray's retries; the index folder is
    then as it was."""
    factory = embedder_factory or default_factory(settings)
    with connected(address) as ray:
        try:
            pool = start_actors(factory, actors, actor_cpus)
            try:
                embedder = ClusterEmbedder(pool, part=max(settings.embed_batch_size * 8, 64))
                return build_index(
                    paths,
                    settings,
                    embedder,
                    progress=progress,
                    reader=cluster_reader(settings),
                    embed_batch=settings.index_window,
                )
            finally:
                for actor in pool:
                    ray.kill(actor, no_restart=True)
        except ray.exceptions.RayError as exc:
            # first: an error raised on a worker comes back as a RayTaskError that is also of the error's own
            # class (an InsightSearchError too), with the worker's traceback in its text
            raise ClusterError(
                f"the Ray build failed, the index was not changed: {describe_failure(exc)}"
            ) from exc
        except InsightSearchError:
            raise
