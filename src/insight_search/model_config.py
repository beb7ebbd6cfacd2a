"""What a model folder's configuration says, read without loading the model: the width of its sentence
vectors and the module kinds it chains; plus :class:`ModelRef`, the typed form of a model id.

Pure: reads small JSON files only (no torch, no sentence-transformers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from insight_search.errors import ModelNotAvailable

BACKENDS = ("torch", "onnx", "onnx-int8", "static")
# sentence-transformers' Pooling module: each pooling mode it concatenates adds one token-vector width. Its
# configuration names them in "pooling_mode" (a name or a list, sentence-transformers >= 6) or, in older
# folders, with one boolean key per mode (these, in this order).
LEGACY_POOLING_MODES = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
TOKEN_WIDTH_KEYS = ("embedding_dimension", "word_embedding_dimension")  # new name, old name
# Modules that keep the width of what they are given.
SAME_WIDTH_MODULES = frozenset({"Normalize", "LayerNorm", "Dropout"})
_STATIC_SUFFIX = re.compile(r"static-(\d+)")


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which model, run by which backend, made a vector. ``model_id`` is the string stored in manifests and
    the embedding cache: ``name:fingerprint`` for torch (as before backends existed), then ``:onnx``,
    ``:onnx-int8`` or ``:static-<dims>`` (the dimensions asked for, not the table's width)."""

    name: str
    fingerprint: str
    backend: str = "torch"
    static_dims: int | None = None

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ModelNotAvailable(
                f"unknown embedding backend {self.backend!r} (one of {', '.join(BACKENDS)})"
            )
        if (self.backend == "static") != (self.static_dims is not None):
            raise ModelNotAvailable("a static model reference needs its dimensions, and only it")
        if not self.name or not self.fingerprint:
            raise ModelNotAvailable("a model reference needs a name and a fingerprint")

    @property
    def base_id(self) -> str:
        """The model whatever runs it: names the folder of its exported and distilled files."""
        return f"{self.name}:{self.fingerprint}"

    @property
    def model_id(self) -> str:
        if self.backend == "torch":
            return self.base_id
        if self.backend == "static":
            return f"{self.base_id}:static-{self.static_dims}"
        return f"{self.base_id}:{self.backend}"

    @classmethod
    def parse(cls, model_id: str) -> ModelRef:
        """The reference a ``model_id`` of this package names. The fingerprint is the last ``:`` part
        before the backend's, so a model name may hold a ``:`` but its folder name may not."""
        base, backend, dims = model_id, "torch", None
        head, _, last = model_id.rpartition(":")
        if last in ("onnx", "onnx-int8"):
            base, backend = head, last
        elif match := _STATIC_SUFFIX.fullmatch(last):
            base, backend, dims = head, "static", int(match.group(1))
        name, _, fingerprint = base.rpartition(":")
        if not name or not fingerprint:
            raise ModelNotAvailable(
                f"{model_id!r} is not a model id of insight-search (name:fingerprint[:backend])"
            )
        return cls(name, fingerprint, backend, dims)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotAvailable(f"cannot read the model configuration {path}: {exc}") from exc


def module_list(model_path: Path) -> list[tuple[str, Path]]:
    """The modules of ``modules.json`` in order, as (kind, folder): kind is the class name
    ("Transformer", "Pooling", "Dense", ...). A folder without modules.json is a bare transformer, which
    sentence-transformers mean-pools."""
    modules_file = model_path / "modules.json"
    if not modules_file.exists():
        return [("Transformer", model_path), ("Pooling", model_path / "1_Pooling")]
    modules = _read_json(modules_file)
    if not isinstance(modules, list):
        raise ModelNotAvailable(f"{modules_file} is not a list of modules")
    return [(str(m.get("type", "")).rpartition(".")[2], model_path / str(m.get("path", ""))) for m in modules]


def _token_width(pooling_folder: Path) -> int | None:
    config = pooling_folder / "config.json"
    settings = _read_json(config) if config.exists() else {}
    width = next((settings[k] for k in TOKEN_WIDTH_KEYS if settings.get(k)), None)
    return int(width) if width else None


def transformer_width(model_path: Path) -> int | None:
    """Width of the transformer's token vectors: what the Pooling module's configuration says it pools,
    else the model configuration's hidden size."""
    width = _token_width(model_path / "1_Pooling")
    if width:
        return width
    config = model_path / "config.json"
    if config.exists():
        settings = _read_json(config)
        for key in ("hidden_size", "dim", "d_model"):
            if settings.get(key):
                return int(settings[key])
    return None


def pooling_modes(pooling_folder: Path) -> list[str]:
    """The pooling modes ("mean", "cls", "max", ...) a Pooling module's configuration turns on, in the
    order their vectors are concatenated (mean when it names none), as sentence-transformers reads it."""
    config = pooling_folder / "config.json"
    settings = _read_json(config) if config.exists() else {}
    mode = settings.get("pooling_mode")
    if isinstance(mode, str):
        return [mode]
    if isinstance(mode, list) and mode:
        return [str(m) for m in mode]
    return [name for key, name in LEGACY_POOLING_MODES.items() if settings.get(key)] or ["mean"]


def sentence_dimension(model_path: Path) -> int | None:
    """Width of the sentence vectors the model at ``model_path`` gives, from its configuration: the
    transformer's width, times the pooling modes, then each Dense module's ``out_features`` in order.
    None when a module of another kind may change the width (only loading the model can tell)."""
    width: int | None = None
    for kind, folder in module_list(model_path):
        if kind == "Transformer":
            width = transformer_width(folder)
        elif kind == "Pooling":
            word = _token_width(folder) or width
            width = word * len(pooling_modes(folder)) if word else None
        elif kind == "Dense":
            out = _read_json(folder / "config.json").get("out_features")
            width = int(out) if out else None
        elif kind not in SAME_WIDTH_MODULES:
            return None
        if width is None:
            return None
    return width


def check_width(vectors: np.ndarray, dimension: int, model_id: str) -> np.ndarray:
    """``vectors`` when each row has ``dimension`` values; else the model disagrees with its configuration
    and nothing it gives can go into an index sized from that configuration."""
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise ModelNotAvailable(
            f"the model {model_id} gave vectors of shape {vectors.shape} but its configuration says "
            f"{dimension} dimensions: check the model folder's modules.json and module configs"
        )
    return vectors
