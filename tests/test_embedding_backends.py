"""Embedding backends (onnx, onnx-int8, static) against the torch reference, on a tiny random BERT made here
(the bundled tokenizer, one 32-wide layer), so exports and distillation take seconds; plus the backend
wiring: model ids name the backend, the manifest records it, another backend's index is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from insight_search.config import Settings
from insight_search.embedding import SentenceTransformerEmbedder, make_embedder, resolve_model_path
from insight_search.errors import ModelMismatch

TEXTS = [
    "Care system legislation was adopted in 2023.",
    "UN Women supported the national care policy with technical assistance and training of officials.",
    "x",
    "A much longer progress note " * 40,
]


def make_tiny_model(folder: Path) -> Path:
    """Write a sentence-transformers folder into ``folder``: random 1-layer BERT (hidden 32) with the
    bundled model's tokenizer, mean pooling, normalisation."""
    import torch
    from transformers import BertConfig, BertModel

    bundled = resolve_model_path("default")
    torch.manual_seed(0)
    vocab_size = len((bundled / "vocab.txt").read_text(encoding="utf-8").splitlines())
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).eval().save_pretrained(str(folder))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(bundled / name, folder / name)
    shutil.copy(bundled / "modules.json", folder / "modules.json")
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 256, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir()
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sentence-transformers folder: random 1-layer BERT (hidden 32) with the bundled model's tokenizer."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    return make_tiny_model(tmp_path_factory.mktemp("tiny-bert"))


def _settings(tmp_path: Path, model: Path, backend: str) -> Settings:
    return Settings(
        model=str(model),
        embedding_backend=backend,  # type: ignore[arg-type]
        model_cache_dir=tmp_path / "models",
        index_dir=tmp_path / "index",
    )


@pytest.mark.slow
def test_onnx_matches_torch(tiny_model: Path, tmp_path: Path) -> None:
    reference = SentenceTransformerEmbedder(str(tiny_model)).embed_batch(TEXTS)
    fp32 = make_embedder(_settings(tmp_path, tiny_model, "onnx"))
    int8 = make_embedder(_settings(tmp_path, tiny_model, "onnx-int8"))
    a, b = fp32.embed_batch(TEXTS), int8.embed_batch(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 32)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(a * reference, axis=1)) > 0.9999  # fp32: the same function
    assert np.min(np.sum(b * reference, axis=1)) > 0.97  # int8: close
    # one text alone gives the vector it gets in a batch (padding does not leak into the mean)
    assert np.allclose(fp32.embed_batch([TEXTS[1]])[0], a[1], atol=1e-5)
    exported = list((tmp_path / "models").rglob("*.onnx"))
    assert {p.name for p in exported} == {"model-fp32.onnx", "model-int8.onnx"}


@pytest.mark.slow
def test_static_distilled_locally(tiny_model: Path, tmp_path: Path) -> None:
    embedder = make_embedder(_settings(tmp_path, tiny_model, "static"))
    vectors = embedder.embed_batch(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dimension)
    assert embedder.dimension <= 32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(embedder.embed_batch(TEXTS[:1])[0], vectors[0], atol=1e-6)  # deterministic
    # a text shares more with itself plus a word than with an unrelated one
    near = embedder.embed_batch(["care system legislation adopted", "quantum chromodynamics lattice"])
    assert float(vectors[0] @ near[0]) > float(vectors[0] @ near[1])


def test_model_ids_name_the_backend(tmp_path: Path) -> None:
    ids = {b: make_embedder(Settings(embedding_backend=b)).model_id for b in ("torch", "onnx", "onnx-int8")}
    ids["static"] = make_embedder(Settings(embedding_backend="static")).model_id
    assert len(set(ids.values())) == 4
    assert ids["onnx-int8"].endswith(":onnx-int8") and ids["static"].endswith(":static-256")
    assert ids["onnx-int8"].startswith(ids["torch"])


def test_manifest_records_backend_and_other_backend_is_refused(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from insight_search import store
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "Care system legislation.\n\nWomen's economic empowerment.", encoding="utf-8"
    )
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, fake_embedder)
    manifest = store.read_manifest(settings.index_dir)
    assert manifest is not None and manifest.embedding_backend == "fake"
    assert manifest.model_id == fake_embedder.model_id

    class OtherBackend:
        model_id = fake_embedder.model_id + ":onnx-int8"
        dimension = fake_embedder.dimension
        backend = "onnx-int8"

        def limit_threads(self, threads: int) -> None:
            pass

        def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            return fake_embedder.embed_batch(texts)

    with pytest.raises(ModelMismatch):
        open_searcher(settings, OtherBackend())


@pytest.mark.parametrize(
    "backend",
    ["torch", pytest.param("onnx", marks=pytest.mark.slow), pytest.param("static", marks=pytest.mark.slow)],
)
def test_a_long_text_is_embedded_from_its_first_part(tiny_model: Path, tmp_path: Path, backend: str) -> None:
    """A query may be as long as a request body: every backend embeds the first part the model takes
    (max_seq_length tokens; static: its first 512 tokens) instead of failing; what follows changes nothing."""
    embedder = make_embedder(_settings(tmp_path, tiny_model, backend))
    long = "care system legislation " * 1500  # 4,500 tokens, far over 256 (and the model's 512 positions)
    vectors = embedder.embed_batch([long, long + "quantum chromodynamics " * 200, "care system"])
    assert vectors.shape == (3, embedder.dimension)
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)
    assert not np.allclose(vectors[0], vectors[2], atol=1e-3)
