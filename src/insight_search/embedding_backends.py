"""Faster embedders made locally from the configured sentence-transformers model (nothing is downloaded):

* ``onnx`` / ``onnx-int8``: the transformer exported to ONNX with ``torch.onnx`` at first use and run by
  ONNX Runtime; ``onnx-int8`` quantises the MatMul weights per channel (dynamic quantisation, int8 weights,
  activations quantised on the fly). Mean pooling and L2 normalisation are done here in numpy.
* ``static``: a static (bag of token vectors) model distilled from the transformer as model2vec does: every
  vocabulary token goes through the model once (``[CLS] token [SEP]``, mean pooled), the token vectors are
  reduced with PCA and weighted by a Zipf/SIF estimate of token frequency; a text's vector is the mean of its
  token vectors. Orders of magnitude faster, and weaker.

Exported and distilled files live in ``<cache_dir>/<model fingerprint>/`` and are written atomically (a
temporary name, then a rename), so two processes exporting at once never read a half-written file.
onnxruntime, onnx and tokenizers are imported lazily; a missing one raises ModelNotAvailable saying what to
install.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from insight_search.errors import ModelNotAvailable
from insight_search.model_config import (
    ModelRef,
    check_width,
    module_list,
    pooling_modes,
    sentence_dimension,
)

logger = logging.getLogger(__name__)

ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ONNX_OPSET = 17
SINGLE_THREAD_MAX_TEXTS = 2  # calls with at most this many texts (queries) run ONNX on one thread


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "insight-search"


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _check_architecture(model_path: Path) -> str:
    """Pooling of a Transformer + Pooling (+ Normalize) model: "mean" or "cls"; anything else is refused."""
    modules = module_list(model_path)
    extra = [kind for kind, _ in modules if kind not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        raise ModelNotAvailable(
            f"{model_path}: the onnx and static backends support Transformer + Pooling models only, "
            f"this one also has {', '.join(extra)} (use INSIGHT_SEARCH_EMBEDDING_BACKEND=torch)"
        )
    modes = pooling_modes(next((f for kind, f in modules if kind == "Pooling"), model_path / "1_Pooling"))
    if modes == ["cls"]:
        return "cls"
    if modes != ["mean"]:
        raise ModelNotAvailable(
            f"{model_path}: only mean or CLS pooling (one of them) is supported by the onnx backend"
        )
    return "mean"


def load_tokenizer(model_path: Path, max_length: int | None) -> Any:
    """The model's fast tokenizer (``tokenizer.json``), padding to the longest text of a batch."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover - tokenizers comes with transformers
        raise ModelNotAvailable(
            "the onnx and static backends need tokenizers: pip install tokenizers"
        ) from exc
    path = model_path / "tokenizer.json"
    if not path.exists():
        raise ModelNotAvailable(
            f"{model_path} has no tokenizer.json (needed by the onnx and static backends)"
        )
    tokenizer = Tokenizer.from_file(str(path))
    if max_length:
        tokenizer.enable_truncation(max_length=max_length)
    else:
        tokenizer.no_truncation()
    pad = (tokenizer.padding or {}).get("pad_token", "[PAD]")
    pad_id = tokenizer.token_to_id(pad)
    tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token=pad)
    return tokenizer


def atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def load_transformer(model_path: Path) -> Any:
    _offline()
    try:
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelNotAvailable("exporting the model needs transformers and torch") from exc
    try:
        return AutoModel.from_pretrained(
            str(model_path), local_files_only=True, attn_implementation="eager"
        ).eval()
    except Exception as exc:  # any loading failure is a configuration problem, said plainly
        raise ModelNotAvailable(f"cannot load the model at {model_path}: {exc}") from exc


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the transformer of ``model_path`` (last hidden state) to ``target`` with torch.onnx."""
    import torch

    started = time.perf_counter()
    model = load_transformer(model_path)
    has_types = int(getattr(model.config, "type_vocab_size", 0) or 0) > 0
    names = [n for n in ONNX_INPUTS if n != "token_type_ids" or has_types]

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state
            return hidden

    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    tmp = atomic_target(target)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes that are constant for this model
        torch.onnx.export(
            _Wrapper(model),
            dummy,
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    os.replace(tmp, target)
    logger.info("exported %s to ONNX in %.1f s", model_path.name, time.perf_counter() - started)
    return target


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextlib.contextmanager
def _root_records_dropped() -> Iterator[None]:
    """While it lasts, records logged on the root logger itself are dropped, and the root logger is kept from
    being configured: onnxruntime's quantiser logs with ``logging.info``/``logging.warning`` (a generic
    "consider pre-processing" hint among them), which also call ``basicConfig`` when the root has no
    handler. Records of named loggers still reach the root's handlers. Afterwards the root logger is as it
    was (level, handlers and filters untouched)."""
    root = logging.getLogger()
    drop, guard = _DropRecords(), logging.NullHandler()
    root.addFilter(drop)
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)
        root.removeFilter(drop)


def quantize_onnx(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of the MatMul weights, per output channel (cosine to fp32 about 0.99)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelNotAvailable(
            "the onnx-int8 backend needs onnxruntime and onnx: pip install insight-search"
        ) from exc
    tmp = atomic_target(target)
    with _root_records_dropped():
        quantize_dynamic(
            str(source),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    os.replace(tmp, target)
    return target


def onnx_model_file(model_path: Path, cache_dir: Path, fingerprint: str, *, int8: bool) -> Path:
    """The exported (and maybe quantised) ONNX file for the model, made now if missing."""
    folder = cache_dir / fingerprint.replace(":", "_").replace("/", "_")
    fp32 = folder / "model-fp32.onnx"
    if not fp32.exists():
        logger.warning("exporting %s to ONNX in %s (once)", model_path.name, folder)
        export_onnx(model_path, fp32)
    if not int8:
        return fp32
    q8 = folder / "model-int8.onnx"
    if not q8.exists():
        quantize_onnx(fp32, q8)
    return q8


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)


class OnnxEmbedder:
    """The sentence-transformers model run by ONNX Runtime (fp32 or int8), mean or CLS pooled."""

    def __init__(
        self,
        model_path: Path,
        *,
        ref: ModelRef,
        cache_dir: Path,
        batch_size: int = 32,
        max_seq_length: int = 256,
        threads: int = 0,
    ) -> None:
        if ref.backend not in ("onnx", "onnx-int8"):
            raise ModelNotAvailable(f"OnnxEmbedder runs the onnx backends, not {ref.backend!r}")
        self.path = model_path
        self.ref = ref
        self.model_id = ref.model_id
        self.backend = ref.backend
        self.batch_size = batch_size
        self._pooling = _check_architecture(model_path)  # Transformer + one pooling mode, nothing else
        dimension = sentence_dimension(model_path)
        if dimension is None:
            raise ModelNotAvailable(f"{model_path}: its configuration does not say the transformer's width")
        self.dimension = dimension
        self._cache_dir = cache_dir
        self._int8 = ref.backend == "onnx-int8"
        self._threads = threads
        self._max_seq_length = max_seq_length
        self._sessions: dict[int, Any] = {}
        self._path: Path | None = None
        self._tokenizer: Any = None
        self._inputs: list[str] = []

    def _load(self, n_texts: int) -> Any:
        """The session for a call of ``n_texts``: one thread for a query or two (a thread team costs more
        than it gives there, above all on a busy machine), else ``threads`` (0 = ONNX Runtime's default)."""
        threads = 1 if n_texts <= SINGLE_THREAD_MAX_TEXTS else self._threads
        session = self._sessions.get(threads)
        if session is None:
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise ModelNotAvailable(
                    "the onnx backends need onnxruntime and onnx: pip install insight-search"
                ) from exc
            if self._path is None:
                self._path = onnx_model_file(self.path, self._cache_dir, self.ref.base_id, int8=self._int8)
                tokenizer = load_tokenizer(self.path, self._max_seq_length)
                tokenizer.no_padding()  # equal-length sub-batches instead (``embed_batch``)
                self._tokenizer = tokenizer
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            if threads:
                options.intra_op_num_threads = threads
            if threads != 1:
                # Idle pool threads sleep instead of spinning: on this shared 2-core machine at load 15-17,
                # 96 SciFact chunks embedded 1.4-1.7x faster with 35 % less CPU (docs/benchmarks.md, issue 15)
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])
            self._inputs = [i.name for i in session.get_inputs()]
            self._sessions[threads] = session
        return session

    def limit_threads(self, threads: int) -> None:
        """Run batches on at most ``threads`` threads (one or two texts already run on one)."""
        self._threads = max(1, threads)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Texts are run in sub-batches of equal token length, so nothing is padded: ONNX Runtime's CPU
        kernels then give each row bit for bit what it gives that text alone (whatever shares its batch,
        on one thread or more: ``tests/test_embedding_determinism.py``). Padding changes the shapes of the
        attention and the matrix products, and with them the rounding, by about 1e-7."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load(len(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        by_length: dict[int, list[int]] = {}
        for i, e in enumerate(encodings):
            by_length.setdefault(len(e.ids), []).append(i)
        for length in sorted(by_length, reverse=True):
            rows = by_length[length]
            for start in range(0, len(rows), self.batch_size):
                part = rows[start : start + self.batch_size]
                ids = np.array([encodings[i].ids for i in part], dtype=np.int64).reshape(len(part), length)
                mask = np.ones_like(ids)
                feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
                hidden = session.run(None, {n: feeds[n] for n in self._inputs})[0]
                check_width(hidden[:, 0, :], self.dimension, self.model_id)
                out[part] = hidden[:, 0, :] if self._pooling == "cls" else hidden.mean(axis=1)
        return normalise(out)
