"""The default embedding backend (issue 15): onnx fp32 over the bundled all-MiniLM-L6-v2. A text gets the same
vector bit for bit whatever it is batched with; the vectors are torch's (cosine > 0.999); an index built with
torch is still served (its queries embedded by torch); the CLI's search path imports neither torch nor
sentence-transformers once the model was exported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from insight_search.config import Settings
from insight_search.embedding import (
    SentenceTransformerEmbedder,
    index_backend,
    make_embedder,
    model_ref,
)
from insight_search.embedding_backends import OnnxEmbedder
from insight_search.errors import ModelMismatch
from insight_search.text import sentence_spans

from .conftest import ROOT, SEED, FakeEmbedder

SENTENCES = [
    "x",
    "Care system legislation was adopted in 2023.",
    "UN Women supported the national care policy with technical assistance and training of officials.",
    "Mexico City approved its care system law after consultations with women's organisations, "
    "trade unions and the private sector, and the federal congress debated a national reform.",
    "A much longer progress note on the care economy and unpaid work of women " * 12,
    "Ley del Sistema de Cuidados de la Ciudad de México.",
]


def seed_sentences() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    return [text[s:e] for s, e in sentence_spans(text) if len(text[s:e].split()) >= 4][:16]


@pytest.fixture(scope="module")
def onnx_default() -> OnnxEmbedder:
    embedder = make_embedder(Settings())
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_the_default_backend_is_onnx() -> None:
    assert Settings().embedding_backend == "onnx"
    embedder = make_embedder(Settings())
    assert isinstance(embedder, OnnxEmbedder) and embedder.backend == "onnx"
    assert embedder.model_id == model_ref("default", "onnx").model_id
    assert embedder.model_id.endswith(":onnx") and embedder.dimension == 384


def test_a_text_gets_the_same_vector_whatever_it_is_batched_with(onnx_default: OnnxEmbedder) -> None:
    texts = SENTENCES + seed_sentences()
    alone = np.stack([onnx_default.embed_batch([t])[0] for t in texts])  # one text: one thread
    together = onnx_default.embed_batch(texts)  # all at once, on every thread
    assert np.array_equal(alone, together)  # bit for bit, not close
    rng = np.random.default_rng(0)
    batch_size = onnx_default.batch_size
    try:
        onnx_default.batch_size = 3  # equal-length groups split into sub-batches too
        for _ in range(3):
            order = rng.permutation(len(texts))
            shuffled = onnx_default.embed_batch([texts[i] for i in order])
            assert np.array_equal(shuffled, alone[order])
    finally:
        onnx_default.batch_size = batch_size
    # each text beside others of other lengths, in pairs (the query path) and triples
    for i, text in enumerate(texts[:8]):
        others = [texts[(i + 3) % len(texts)], texts[(i + 5) % len(texts)]]
        assert np.array_equal(onnx_default.embed_batch([text, others[0]])[0], alone[i])
        assert np.array_equal(onnx_default.embed_batch([others[1], text, others[0]])[1], alone[i])


def test_onnx_gives_the_vectors_of_torch_on_real_sentences(
    onnx_default: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    texts = SENTENCES + seed_sentences()
    cosine = np.sum(onnx_default.embed_batch(texts) * torch_embedder.embed_batch(texts), axis=1)
    assert cosine.min() > 0.999, cosine.min()
    assert np.allclose(np.linalg.norm(onnx_default.embed_batch(texts), axis=1), 1.0, atol=1e-5)


def test_queries_use_the_backend_the_index_was_built_with() -> None:
    settings = Settings()
    base = model_ref("default").model_id
    assert index_backend(settings, None) == ("onnx", 256)
    assert index_backend(settings, base) == ("torch", 256)  # built with torch before onnx was the default
    assert index_backend(settings, f"{base}:static-64") == ("static", 64)
    assert index_backend(settings, f"{base}:onnx-int8") == ("onnx-int8", 256)
    # another model: the configured backend, and the index is refused as built with another model
    assert index_backend(settings, "other-model:abc123") == ("onnx", 256)
    assert index_backend(settings, "fake-bow-64") == ("onnx", 256)


class TorchIdEmbedder:
    """Stands for the torch backend at build time without loading torch: torch's model id, onnx's vectors
    (the same vectors to 1e-3: test_onnx_gives_the_vectors_of_torch_on_real_sentences)."""

    backend = "torch"

    def __init__(self, onnx: OnnxEmbedder) -> None:
        self.onnx = onnx
        self.model_id = model_ref("default").model_id
        self.dimension = onnx.dimension

    def limit_threads(self, threads: int) -> None:
        """Nothing to limit."""

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.onnx.embed_batch(texts)


def sample_corpus(tmp_path: Path) -> tuple[Path, Settings]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    return corpus, Settings(index_dir=tmp_path / "index", corpus_paths=[corpus])


def test_an_index_built_with_torch_is_served_by_torch_then_followed_to_onnx(
    tmp_path: Path, onnx_default: OnnxEmbedder
) -> None:
    from insight_search.indexer import build_index
    from insight_search.live import LiveSearcher
    from insight_search.models import Query
    from insight_search.search import index_embedder, open_searcher
    from insight_search.serve_check import check_before_serving

    corpus, settings = sample_corpus(tmp_path)
    build_index([corpus], settings, TorchIdEmbedder(onnx_default))
    embedder = index_embedder(settings)
    assert isinstance(embedder, SentenceTransformerEmbedder) and embedder._model is None  # not loaded
    assert embedder.model_id == model_ref("default").model_id
    # serve neither rebuilds it nor refuses it
    check = check_before_serving(settings.index_dir, embedder.model_id, settings.corpus_paths)
    assert check.build is None and "up to date" in check.message
    assert open_searcher(settings).embedder.backend == "torch"
    live = LiveSearcher(settings)
    assert live.searcher.embedder.model_id == embedder.model_id
    # rebuilt with the default backend while served: the new version is swapped in, with its own embedder
    build_index([corpus], settings, onnx_default)
    assert live.reload_if_changed()
    assert live.searcher.embedder.model_id == onnx_default.model_id
    assert live.searcher.search(Query(text="care system law in Mexico City", k=3)).hits


@pytest.mark.slow
def test_an_index_built_with_real_torch_is_searched_with_torch(
    tmp_path: Path, torch_embedder: SentenceTransformerEmbedder
) -> None:
    from insight_search.indexer import build_index
    from insight_search.models import Query
    from insight_search.search import open_searcher

    corpus, settings = sample_corpus(tmp_path)
    build_index([corpus], settings, torch_embedder)
    searcher = open_searcher(settings)
    assert searcher.embedder.backend == "torch"
    query = Query(text="care system law in Mexico City", k=3)
    hits = searcher.search(query).hits
    expected = open_searcher(settings, torch_embedder).search(query).hits
    assert hits and [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in expected]


def test_an_index_of_another_model_is_still_refused(tmp_path: Path) -> None:
    from insight_search.indexer import build_index
    from insight_search.search import open_searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Care system legislation.\n\nWomen's economics.", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, FakeEmbedder())
    with pytest.raises(ModelMismatch, match="fake-bow-64"):
        open_searcher(settings)


CHECK_IMPORTS = """
import sys
from insight_search.cli import main
sys.argv = ["insight-search", "search", "care system law", "--index-dir", sys.argv[1], "--json"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "scipy.stats", "sklearn")
               if m in sys.modules)
print(heavy, file=sys.stderr)
sys.exit(3 if heavy else 0)
"""


def test_the_cli_search_path_imports_no_torch(tmp_path: Path, onnx_default: OnnxEmbedder) -> None:
    from insight_search.indexer import build_index

    onnx_default.embed_batch(["exported first (the index command does it)"])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings(index_dir=tmp_path / "index")
    build_index([corpus], settings, onnx_default)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS, str(settings.index_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["results"] and payload["total"] > 0


def test_punkt_comes_without_the_rest_of_nltk_and_nltk_still_imports_whole() -> None:
    code = (
        "import sys\n"
        "from insight_search.text import sentence_spans\n"
        "assert not [m for m in sys.modules if m.startswith(('nltk', 'scipy', 'sklearn'))], sys.modules\n"
        "import nltk\n"
        "assert callable(nltk.word_tokenize) and nltk.tokenize.punkt.PunktSentenceTokenizer\n"
        "text = 'UN Women (e.g. in Mexico) trained 1.3 million women. It worked with Ms. Lopez.'\n"
        "print(len(sentence_spans(text)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
