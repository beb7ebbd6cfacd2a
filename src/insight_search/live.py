"""A searcher that follows the index on disk: when a build makes a new version current, the new index is
loaded in the background and swapped in with one reference assignment. Requests in flight finish on the
version they started with; nothing is restarted and no request fails during the swap."""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path

from insight_search import store
from insight_search.caching import CachingEmbedder, cached_sentence_terms
from insight_search.config import Settings
from insight_search.embedding import Embedder, make_embedder
from insight_search.errors import InsightSearchError
from insight_search.memory import release_freed
from insight_search.search import Searcher, index_embedder, open_searcher

logger = logging.getLogger(__name__)


class LiveSearcher:
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, *, fallback: bool = False
    ) -> None:
        self.settings = settings
        # The serving caches, kept across reloads: query and sentence vectors by text (the model does not
        # change) and sentence splits for highlights by chunk text.
        inner = embedder if embedder is not None else index_embedder(settings)
        self._embedder = inner if isinstance(inner, CachingEmbedder) else CachingEmbedder(inner)
        self._sentence_terms = cached_sentence_terms()
        first = open_searcher(
            settings, self._embedder, sentence_terms=self._sentence_terms, fallback=fallback
        )
        self._lanes: dict[str, CachingEmbedder] = {}  # the multilingual lane's query embedder, by model id
        self._searcher = self._with_cached_lane(first)
        self._version: Path | None = first.data.path
        self._retired: list[weakref.ref[Searcher]] = []  # swapped-out versions not yet released
        self._refused: Path | None = None  # a version that failed to load: not retried until CURRENT changes
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0

    @property
    def searcher(self) -> Searcher:
        return self._searcher

    @property
    def version(self) -> str | None:
        return self._version.name if self._version else None

    def reload_if_changed(self) -> bool:
        """Load and swap in the current version if it is not the one being served. Returns True on a swap.

        A version that cannot be loaded (half-deleted by a later build, another model) is logged and the
        served one stays; the next call tries again."""
        index_dir = self.settings.index_dir
        try:
            latest = store.current_version(index_dir)
        except InsightSearchError as exc:
            logger.warning("cannot read the index pointer: %s", exc)
            return False
        if latest is None or latest == self._version or latest == self._refused:
            return False
        with self._reload_lock:
            if latest == self._version:
                return False
            try:
                embedder = self._embedder_for(latest)
                data = store.load(index_dir, expected_model_id=embedder.model_id)
                # (opening the version's lane can fail too: its package missing)
                searcher = Searcher(data, embedder, self.settings, sentence_terms=self._sentence_terms)
            except InsightSearchError as exc:
                logger.warning("new index version not loaded, still serving %s: %s", self.version, exc)
                self._refused = latest
                return False
            self._retired.append(weakref.ref(self._searcher))
            self._embedder = embedder
            self._searcher = self._with_cached_lane(searcher)
            self._version = data.path
            self.reloads += 1
        logger.info("now serving index version %s", self.version)
        self.release_retired()
        return True

    def _with_cached_lane(self, searcher: Searcher) -> Searcher:
        """``searcher`` with its multilingual lane's query embedder behind a :class:`CachingEmbedder` (vectors
        by text, one inference at a time), the same one across reloads."""
        lane = searcher.lane
        if lane is not None and not isinstance(lane, CachingEmbedder):
            searcher.lane = self._lanes.setdefault(lane.model_id, CachingEmbedder(lane))
        return searcher

    def _embedder_for(self, version: Path) -> CachingEmbedder:
        """The served embedder, or, for a version built with another backend of the same model (an index
        rebuilt with onnx while a torch-built one was served), an embedder of that backend."""
        built = store.read_version_manifest(version).model_id
        if built == self._embedder.model_id:
            return self._embedder
        other = make_embedder(self.settings, built)
        if other.model_id != built:
            return self._embedder  # another model: store.load refuses the version
        if self.settings.query_threads > 0:
            other.limit_threads(self.settings.query_threads)
        logger.info("the new index version was built with %s: its queries are embedded by it", built)
        return CachingEmbedder(other)

    def release_retired(self) -> bool:
        """Once no request holds a swapped-out version any more, hand its memory back to the system (the
        watcher calls this on every tick: a long request may keep the old version alive well after the swap).
        True when a version was released."""
        gone = [ref for ref in self._retired if ref() is None]
        if not gone:
            return False
        self._retired = [ref for ref in self._retired if ref() is not None]
        release_freed()
        return True

    def start_watching(self, interval_s: float = 2.0) -> None:
        """Poll the index pointer every ``interval_s`` seconds in a daemon thread."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.reload_if_changed()
                    self.release_retired()
                except Exception:  # the watcher must never die; the error is logged with its traceback
                    logger.exception("index watcher failed")

        self._thread = threading.Thread(target=loop, name="index-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class FixedIndex:
    """An index handle that serves one loaded searcher and never reloads (tests, benchmarks, one-shot use)."""

    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher

    @property
    def searcher(self) -> Searcher:
        return self._searcher

    @property
    def version(self) -> str | None:
        path = self._searcher.data.path
        return path.name if path is not None else None

    def start_watching(self, interval_s: float = 2.0) -> None:
        return None

    def stop(self) -> None:
        return None
