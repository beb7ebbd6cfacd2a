"""The embedder contract: ``dimension`` is known before the first embed (from the model's configuration,
projection layers included) and is what the vectors, the index and the manifest have; model ids round-trip
through ModelRef; the manifest is a typed value that round-trips and refuses what is not a manifest;
quantising to int8 leaves the root logger alone."""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from insight_search import store
from insight_search.config import Settings
from insight_search.embedding import (
    Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
    model_fingerprint,
    resolve_model_path,
)
from insight_search.errors import IndexCorrupt, ModelNotAvailable
from insight_search.indexer import build_index
from insight_search.manifest import Counts, Manifest
from insight_search.model_config import ModelRef
from insight_search.models import Query
from insight_search.search import open_searcher

from .conftest import ROOT, FakeEmbedder
from .test_embedding_backends import make_tiny_model

# Distilling the static table of the bundled model takes about 100 s here: kept between runs (gitignored).
ARTIFACTS = ROOT / "tests" / "artifacts" / "models"

DOCS = [
    {"id": "care", "title": "Care systems", "text": "The national care system law was adopted in 2023."},
    {"id": "gbv", "title": "Ending violence", "text": "Shelters for survivors of violence opened."},
    {"id": "work", "title": "Economic empowerment", "text": "Women entrepreneurs received training."},
]


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in DOCS) + "\n", encoding="utf-8")
    return corpus


def _build_and_search(tmp_path: Path, settings: Settings, embedder: Embedder) -> None:
    """Build an index of DOCS with ``embedder``, open it with the same one and find the care document."""
    dimension = embedder.dimension
    build_index([_corpus(tmp_path)], settings, embedder)
    searcher = open_searcher(settings, embedder)
    hits = searcher.search(Query(text="care system law", k=3)).hits
    assert hits and hits[0].chunk.doc_id == "care"
    data = searcher.data
    assert data.manifest.dimension == embedder.dimension == dimension == data.dense.vectors.shape[1]
    assert data.manifest.embedding_backend == embedder.backend


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def projected_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT with a Dense projection 32 -> 48 after pooling, saved by sentence-transformers."""
    with warnings.catch_warnings():  # sentence-transformers 6 moved `models`; 3 to 5 have only it
        warnings.simplefilter("ignore", DeprecationWarning)
        from sentence_transformers import SentenceTransformer, models

    modules = [models.Transformer(str(tiny_model)), models.Pooling(32), models.Dense(32, 48)]
    model = SentenceTransformer(modules=[*modules, models.Normalize()], device="cpu")
    folder = tmp_path_factory.mktemp("projected") / "tiny-dense"
    model.save(str(folder))
    return folder


# ---------------------------------------------------------------- dimension before the first embed


def test_static_at_512_dimensions_builds_and_searches(tiny_model: Path, tmp_path: Path) -> None:
    # The static table keeps min(dims, transformer width) columns: 32 for the tiny BERT, known up front.
    cache = tmp_path / "models"
    settings = Settings(
        model=str(tiny_model),
        embedding_backend="static",
        static_dims=512,
        model_cache_dir=cache,
        index_dir=tmp_path / "index",
    )
    embedder = make_embedder(settings)
    assert embedder.dimension == 32 and not cache.exists()  # nothing distilled yet
    assert embedder.model_id.endswith(":static-512")  # the id names the dimensions asked for
    _build_and_search(tmp_path, settings, embedder)
    assert list(cache.rglob("static-512.npy"))


@pytest.mark.slow
def test_static_at_512_dimensions_of_the_bundled_model(tmp_path: Path) -> None:
    # The reported crash: INSIGHT_SEARCH_EMBEDDING_BACKEND=static INSIGHT_SEARCH_STATIC_DIMS=512.
    settings = Settings(
        embedding_backend="static", static_dims=512, model_cache_dir=ARTIFACTS, index_dir=tmp_path / "i"
    )
    embedder = make_embedder(settings)
    assert embedder.dimension == 384
    _build_and_search(tmp_path, settings, embedder)


def test_projection_layer_sets_the_dimension(projected_model: Path, tmp_path: Path) -> None:
    embedder = SentenceTransformerEmbedder(str(projected_model))
    assert embedder.dimension == 48 and embedder._model is None  # from modules.json and 2_Dense, not loaded
    assert embedder.embed_batch(["care"]).shape == (1, 48)
    _build_and_search(tmp_path, Settings(model=str(projected_model), index_dir=tmp_path / "index"), embedder)


def test_onnx_refuses_a_projection_layer(projected_model: Path, tmp_path: Path) -> None:
    settings = Settings(model=str(projected_model), embedding_backend="onnx", model_cache_dir=tmp_path)
    with pytest.raises(ModelNotAvailable, match="Dense"):
        make_embedder(settings)


def test_a_model_that_disagrees_with_its_configuration_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    # Pooling config says 40-wide token vectors, the transformer gives 32: nothing of the wrong width
    # may reach an index sized from the configuration.
    folder = tmp_path / "liar"
    shutil.copytree(tiny_model, folder)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 40, "pooling_mode_mean_tokens": True})
    )
    embedder = SentenceTransformerEmbedder(str(folder))
    assert embedder.dimension == 40
    with pytest.raises(ModelNotAvailable, match="40"):
        embedder.embed_batch(["care"])


def test_dimension_before_the_first_embed_torch_and_onnx(tmp_path: Path) -> None:
    torch_embedder = make_embedder(Settings(embedding_backend="torch"))
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    assert torch_embedder.dimension == 384 and torch_embedder._model is None
    for backend in ("onnx", "onnx-int8"):
        embedder = make_embedder(Settings(embedding_backend=backend, model_cache_dir=tmp_path))
        assert embedder.dimension == 384 and embedder.backend == backend
        assert not any(tmp_path.iterdir())  # nothing exported yet
    static = make_embedder(Settings(embedding_backend="static", static_dims=64, model_cache_dir=tmp_path))
    assert static.dimension == 64


def test_every_embedder_satisfies_the_protocol(tmp_path: Path) -> None:
    for backend in ("torch", "onnx", "onnx-int8", "static"):
        embedder = make_embedder(Settings(embedding_backend=backend, model_cache_dir=tmp_path))  # type: ignore[arg-type]
        assert isinstance(embedder, Embedder) and embedder.backend == backend
        embedder.limit_threads(1)
    assert isinstance(FakeEmbedder(), Embedder)


# ---------------------------------------------------------------- model references


def test_model_ids_keep_their_format_and_parse_back() -> None:
    base = f"all-MiniLM-L6-v2:{model_fingerprint(resolve_model_path('default'))}"
    expected = {
        "torch": base,
        "onnx": f"{base}:onnx",
        "onnx-int8": f"{base}:onnx-int8",
        "static": f"{base}:static-512",
    }
    for backend, model_id in expected.items():
        embedder = make_embedder(Settings(embedding_backend=backend, static_dims=512))  # type: ignore[arg-type]
        assert embedder.model_id == model_id
        ref = ModelRef.parse(model_id)
        assert ref.model_id == model_id and ref.backend == backend and ref.base_id == base
    assert ModelRef.parse(f"{base}:static-512").static_dims == 512
    assert ModelRef.parse("my:model:folder@abc") == ModelRef("my:model", "folder@abc")
    for bad in ("fake-bow-64", ":x", "name:"):
        with pytest.raises(ModelNotAvailable):
            ModelRef.parse(bad)
    with pytest.raises(ModelNotAvailable):
        ModelRef("name", "fp", "static")  # static without its dimensions


# ---------------------------------------------------------------- the manifest


FULL = {
    "model_id": "m:fp@1",
    "embedding_backend": "torch",
    "model": "default",
    "dimension": 384,
    "counts": {"documents": 2, "passages": 3, "chunks": 4, "funding_records": 1, "files": 1},
    "corpus_paths": ["corpus"],
    "corpus_fingerprint": "abc",
    "chunk_words": 120,
    "title_in_lexical": True,
    "title_in_dense": False,
    "built_at": "2025-01-01T00:00:00+00:00",
    "dense_index": "flat",
    "dense_storage": "float32",
    "format_version": 2,
}


def test_manifest_round_trip_keeps_unknown_keys_and_order() -> None:
    newer = dict(FULL, counts=dict(FULL["counts"], pages=7), shards=[1, 2])  # type: ignore[arg-type]
    manifest = Manifest.from_dict(newer)
    assert manifest.counts == Counts(2, 3, 4, 1, 1, extra={"pages": 7})
    assert manifest.corpus_paths == ("corpus",) and manifest.extra == {"shards": [1, 2]}
    assert list(manifest.to_dict().items()) == list(newer.items())
    older = {k: v for k, v in FULL.items() if k != "dense_storage"} | {"format_version": 1}
    assert Manifest.from_dict(older).to_dict() == older and Manifest.from_dict(older).dense_storage is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "not a JSON object"),
        ("manifest", "not a JSON object"),
        ({"dimension": 3}, "model_id"),
        (dict(FULL, dimension="384"), "dimension"),
        (dict(FULL, dimension=True), "dimension"),
        (dict(FULL, counts=[1]), "counts"),
        (dict(FULL, counts=dict(FULL["counts"], chunks="4")), "counts.chunks"),  # type: ignore[arg-type]
        (dict(FULL, corpus_paths="corpus"), "corpus_paths"),
        (dict(FULL, title_in_dense="no"), "title_in_dense"),
    ],
)
def test_manifest_of_wrong_shape_is_corrupt(raw: object, message: str) -> None:
    with pytest.raises(IndexCorrupt, match=message):
        Manifest.from_dict(raw)


def test_manifest_json_that_is_not_an_object_makes_the_index_corrupt(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    build_index([_corpus(tmp_path)], settings, FakeEmbedder())
    manifest = store.read_manifest(settings.index_dir)
    assert manifest is not None and manifest.model_id == FakeEmbedder.model_id
    assert store.load(settings.index_dir).manifest == manifest
    version = store.current_version(settings.index_dir)
    assert version is not None
    (version / "manifest.json").write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="not a JSON object"):
        store.read_manifest(settings.index_dir)
    with pytest.raises(IndexCorrupt, match="not a JSON object"):
        store.load(settings.index_dir)


# ---------------------------------------------------------------- logging


def _matmul_model(path: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "matmul",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 8])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_quantize_onnx_leaves_the_root_logger_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quantization = pytest.importorskip("onnxruntime.quantization")
    from insight_search.embedding_backends import quantize_onnx

    source = _matmul_model(tmp_path / "fp32.onnx")
    root = logging.getLogger()
    collect = _Collect()
    root.addHandler(collect)
    monkeypatch.setattr(root, "level", logging.DEBUG)
    before = (root.level, list(root.handlers), list(root.filters))
    seen_during: list[int] = []
    real = quantization.quantize_dynamic

    def observed(*args: object, **kwargs: object) -> None:
        seen_during.append(logging.getLogger().level)
        logging.getLogger("insight_search.elsewhere").warning("another module's record")
        real(*args, **kwargs)

    monkeypatch.setattr(quantization, "quantize_dynamic", observed)
    try:
        quantize_onnx(source, tmp_path / "int8.onnx")
        after = (root.level, list(root.handlers), list(root.filters))
    finally:
        root.removeHandler(collect)
    assert (tmp_path / "int8.onnx").exists()
    assert seen_during == [logging.DEBUG]  # not raised to ERROR while quantising
    assert after == before  # level, handlers and filters as they were
    assert "another module's record" in collect.messages  # other loggers still reach the root's handlers
    assert not any("pre-processing" in m for m in collect.messages)  # the quantiser's hint does not


def test_an_embedder_that_breaks_its_dimension_stops_the_build(tmp_path: Path) -> None:
    class Narrow(FakeEmbedder):  # says 64, gives 32: half-width rows would pair up into wrong vectors
        def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            return super().embed_batch(texts)[:, :32]

    settings = Settings(index_dir=tmp_path / "index")
    with pytest.raises(ModelNotAvailable, match="64 dimensions"):
        build_index([_corpus(tmp_path)], settings, Narrow())
    assert store.current_version(settings.index_dir) is None
