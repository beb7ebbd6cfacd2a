"""SciFact, side by side in one run: insight-search through its HTTP API and txtai, with the same encoder, the
same threads and the same chunks.

    python benchmarks/txtai_side_by_side.py [--index /tmp/backend-bench/scifact/index] [--queries 300]
                                            [--whole-documents] [--out benchmarks/results/txtai_side_by_side.json]

What is the same for both (issue 14, part 4):

* encoder: all-MiniLM-L6-v2, the bundled copy. txtai gets its vectors through its ``method="external"``
  transform: the chunk vectors of our index (so both dense sides hold identical vectors) and, for queries,
  either our ONNX embedder ("txtai, our encoder") or sentence-transformers on torch, which is what txtai's own
  ``method="sentence-transformers"`` runs ("txtai, torch encoder");
* threads: one. OMP/MKL/OpenBLAS are set to 1 before anything loads, torch and FAISS to 1 thread, our query
  embedding uses ``query_threads=1`` (the default) in every process;
* chunks: txtai indexes our chunks (the index's 120-word chunks), with the text our BM25 sees (the title
  before the chunk text, ``indexer.indexed_text``); a chunk ranking becomes a document ranking by keeping the
  first chunk of each document, as for our ``group=passage`` results through the API.

The index is a COPY of ``--index`` (built with the base commit's defaults). Quality: nDCG@10 and Recall@100 on
the test claims; ours through ``GET /search?q=..&k=100`` (``group=passage``: first passage per document kept;
``group=document``), txtai in-process with its hybrid default (weights 0.5), dense only (1.0) and BM25 only
(0.0), each with an exact FAISS index (``IDMap,Flat``, as ours) and with txtai's default FAISS index (an IVF
index with ``nprobe = cells / 16`` once there are more than 5,000 rows: approximate). ``--whole-documents``
adds txtai's original setup (one vector per abstract, title + text, 256-token window) against the exact search
of the same vectors.

Latency: three servers on 127.0.0.1, started by this script, each answering ``GET /search?q=..&k=10``:
ours (the product's app, default settings, rate limit off), and two small FastAPI apps running
``Embeddings.search(q, 10)`` on the exact txtai index, one per query encoder, returning ids, scores and
texts; plus txtai in-process. Every test claim is a distinct query; one keep-alive client sends each query to
each in turn, so drift on the shared machine hits all alike. The load average is recorded with each number.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy, torch, faiss or onnxruntime load: one thread for everyone

import argparse  # noqa: E402
import contextlib  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scifact_data as sd  # noqa: E402
from bench_common import RESULTS, environment, load_average, markdown_table, percentiles, write_results  # noqa: E402
from insight_search.config import Settings  # noqa: E402
from insight_search.embedding import make_embedder, resolve_model_path  # noqa: E402
from insight_search.indexer import indexed_text  # noqa: E402
from insight_search.store import IndexData  # noqa: E402

DEFAULT_INDEX = Path("/tmp/backend-bench/scifact/index")
WHOLE_CACHE = RESULTS / "cache" / "scifact-whole-documents.npy"
WARMUP = 20
EXACT = {"components": "IDMap,Flat"}

Encoder = Callable[[Sequence[str]], np.ndarray]


def one_thread() -> None:
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)


def settings_for(index_dir: Path) -> Settings:
    from insight_search import store

    backend = store.read_manifest(index_dir).embedding_backend
    return Settings(index_dir=index_dir, embedding_backend=backend)  # type: ignore[arg-type]


def load_index(index_dir: Path) -> tuple[Settings, IndexData]:
    from insight_search import store
    from insight_search.search import index_embedder

    settings = settings_for(index_dir)
    embedder = index_embedder(settings)
    return settings, store.load(index_dir, expected_model_id=embedder.model_id)


def our_encoder(settings: Settings) -> Encoder:
    embedder = make_embedder(settings)
    embedder.limit_threads(1)
    return lambda texts: embedder.embed_batch(list(texts))


def torch_encoder() -> Encoder:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model_path("default")), device="cpu")
    return lambda texts: model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)


def txtai_embeddings(
    texts: Sequence[str], vectors: np.ndarray, encoder: Encoder, faiss: dict[str, Any] | None
) -> Any:
    """A txtai hybrid index of ``texts`` (BM25 side) whose dense side holds ``vectors`` (row i for text i);
    a text not indexed (a query) is embedded by ``encoder``. ``faiss``: txtai's FAISS settings (None: its
    defaults)."""
    from txtai import Embeddings

    lookup = {t: i for i, t in enumerate(texts)}
    dim = vectors.shape[1]

    def transform(batch: Sequence[str]) -> np.ndarray:
        out = np.empty((len(batch), dim), dtype=np.float32)
        missing = [j for j, t in enumerate(batch) if t not in lookup]
        for j, t in enumerate(batch):
            if t in lookup:
                out[j] = vectors[lookup[t]]
        if missing:
            out[missing] = encoder([batch[j] for j in missing])
        return out

    config: dict[str, Any] = {"method": "external", "transform": transform, "hybrid": True, "content": False}
    if faiss is not None:
        config["faiss"] = faiss
    embeddings = Embeddings(config)
    embeddings.index([(i, t, None) for i, t in enumerate(texts)])
    return embeddings


def chunk_texts(data: IndexData, settings: Settings) -> list[str]:
    return [indexed_text(c, settings.title_in_lexical) for c in data.chunks]


def first_per_document(doc_ids: Sequence[str], n: int = 100) -> list[str]:
    return list(dict.fromkeys(doc_ids))[:n]


def txtai_quality(
    embeddings: Any,
    claims: Sequence[sd.Claim],
    doc_of: Callable[[int], str],
    weights: float | None,
    depth: int,
) -> dict[str, float]:
    results = embeddings.batchsearch([c.text for c in claims], depth, weights=weights)
    runs = {
        c.claim_id: first_per_document([doc_of(int(i)) for i, _ in r])
        for c, r in zip(claims, results, strict=True)
    }
    return {k: round(v, 4) for k, v in sd.evaluate(runs, claims).items()}


def exact_quality(
    vectors: np.ndarray, queries: np.ndarray, doc_of: Callable[[int], str], claims: Sequence[sd.Claim]
) -> dict[str, float]:
    """Plain exact inner product over ``vectors`` (the reference for the dense sides)."""
    scores = queries @ vectors.T
    runs = {}
    for c, row in zip(claims, scores, strict=True):
        order = np.argsort(-row, kind="stable")[:300]
        runs[c.claim_id] = first_per_document([doc_of(int(i)) for i in order])
    return {k: round(v, 4) for k, v in sd.evaluate(runs, claims).items()}


# ---------------------------------------------------------------------------------------------- servers


def serve_txtai(port: int, encoder_name: str, index_dir: Path) -> None:
    """A minimal HTTP app over txtai's exact index of our chunks: ``GET /search?q=..&k=10``."""
    import uvicorn
    from fastapi import FastAPI

    one_thread()
    settings, data = load_index(index_dir)
    encoder = our_encoder(settings) if encoder_name == "ours" else torch_encoder()
    texts = chunk_texts(data, settings)
    embeddings = txtai_embeddings(texts, np.asarray(data.dense.vectors, dtype=np.float32), encoder, EXACT)
    app = FastAPI()

    @app.get("/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/search")
    def search(q: str, k: int = 10) -> dict[str, Any]:
        hits = embeddings.search(q, k)
        return {
            "query": q,
            "results": [
                {
                    "chunk_id": data.chunks[int(i)].chunk_id,
                    "doc_id": data.chunks[int(i)].doc_id,
                    "score": float(s),
                    "text": data.chunks[int(i)].text,
                }
                for i, s in hits
            ],
        }

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextlib.contextmanager
def started(cmd: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    import httpx

    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 900
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[:3]} exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            time.sleep(1)
        else:
            raise RuntimeError(f"{cmd[:3]} did not become ready")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000.0


def api_runs(client: Any, claims: Sequence[sd.Claim], group: str) -> dict[str, list[str]]:
    runs = {}
    for c in claims:
        r = client.get("/search", params={"q": c.text, "k": 100, "group": group})
        r.raise_for_status()
        runs[c.claim_id] = first_per_document([h["doc_id"] for h in r.json()["results"]])
    return runs


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX)
    parser.add_argument("--queries", type=int, default=300, help="test claims timed (distinct queries)")
    parser.add_argument("--whole-documents", action="store_true", help="also txtai's original setup")
    parser.add_argument(
        "--document-vectors",
        action="store_true",
        help="one vector per abstract, the mean of its chunk vectors (no embedding): exact against txtai's IVF",
    )
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--latency-only", action="store_true", help="skip the quality rows")
    parser.add_argument("--out", type=Path, default=RESULTS / "txtai_side_by_side.json")
    parser.add_argument("--serve-txtai", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--encoder", default="ours", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_txtai is not None:
        serve_txtai(args.serve_txtai, args.encoder, args.index)
        return
    if not sd.SCIFACT_ZIP.exists():
        sys.exit(f"{sd.SCIFACT_ZIP} is absent: the shared data folder sits beside the repository")
    one_thread()
    import httpx

    from scifact import SERVER, free_port

    claims = sd.load_claims("test")
    warm = [c.text for c in sd.load_claims("train")][:WARMUP]
    payload: dict[str, Any] = {"benchmark": "txtai_side_by_side", "claims": len(claims), "threads": 1}
    quality_rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="txtai-side-") as tmp:
        index_dir = Path(tmp) / "index"
        shutil.copytree(args.index, index_dir)  # a copy: the source index is not touched
        settings, data = load_index(index_dir)
        payload["index"] = {
            "source": str(args.index),
            "chunks": len(data.chunks),
            "backend": settings.embedding_backend,
        }
        doc_of = lambda i: data.chunks[i].doc_id  # noqa: E731
        vectors = np.asarray(data.dense.vectors, dtype=np.float32)
        encoder = our_encoder(settings)
        texts = chunk_texts(data, settings)
        env = dict(
            os.environ,
            INSIGHT_SEARCH_INDEX_DIR=str(index_dir),
            INSIGHT_SEARCH_EMBEDDING_BACKEND=settings.embedding_backend,
        )
        ports = [free_port() for _ in range(4)]
        me = str(Path(__file__).resolve())
        with contextlib.ExitStack() as stack:
            ours = stack.enter_context(started([sys.executable, "-c", SERVER, str(ports[0])], env, ports[0]))
            client = stack.enter_context(httpx.Client(base_url=ours, timeout=60))
            load = load_average()
            for group in () if args.latency_only else ("passage", "document"):
                m = sd.evaluate(api_runs(client, claims, group), claims)
                quality_rows.append(
                    {
                        "system": "insight-search",
                        "setup": f"HTTP API, group={group}",
                        **{k: round(v, 4) for k, v in m.items()},
                        "load": load,
                    }
                )
                print(quality_rows[-1], flush=True)
            qv = encoder([c.text for c in claims])
            txtai_exact = None
            for name, faiss in (
                ()
                if args.latency_only
                else (("exact FAISS (IDMap,Flat)", EXACT), ("txtai default FAISS (IVF)", None))
            ):
                load = load_average()
                t = time.perf_counter()
                emb = txtai_embeddings(texts, vectors, encoder, faiss)
                build_s = round(time.perf_counter() - t, 1)
                for mode, w in (("hybrid 0.5 (default)", None), ("dense only", 1.0), ("BM25 only", 0.0)):
                    m = txtai_quality(emb, claims, doc_of, w, 300)
                    quality_rows.append(
                        {"system": "txtai", "setup": f"our chunks, {name}, {mode}", **m, "load": load}
                    )
                    print(quality_rows[-1], flush=True)
                payload.setdefault("txtai_build_s", {})[name] = build_s
                if faiss is EXACT:
                    txtai_exact = emb
            if txtai_exact is None:
                txtai_exact = txtai_embeddings(texts, vectors, encoder, EXACT)
            quality_rows.append(
                {
                    "system": "MiniLM exact IP",
                    "setup": "our chunk vectors, first chunk per document",
                    **exact_quality(vectors, qv, doc_of, claims),
                    "load": load_average(),
                }
            )
            if args.whole_documents:
                quality_rows.extend(whole_document_rows(claims, encoder, qv))
            if args.document_vectors:
                quality_rows.extend(document_vector_rows(data, claims, encoder, qv))
            latency_rows: list[dict[str, Any]] = []
            if not args.no_latency:
                # a fresh server of ours: the quality pass above filled the first one's query-vector cache
                fresh = stack.enter_context(
                    started([sys.executable, "-c", SERVER, str(ports[3])], env, ports[3])
                )
                bases = [
                    stack.enter_context(
                        started(
                            [
                                sys.executable,
                                me,
                                "--serve-txtai",
                                str(port),
                                "--encoder",
                                name,
                                "--index",
                                str(index_dir),
                            ],
                            env,
                            port,
                        )
                    )
                    for port, name in ((ports[1], "ours"), (ports[2], "torch"))
                ]
                latency_rows = latency(
                    fresh, *bases, txtai_exact, [c.text for c in claims][: args.queries], warm
                )
        payload["quality"] = quality_rows
        payload["latency"] = latency_rows
    payload["environment"] = environment()
    tables = {
        f"Quality on SciFact test ({len(claims)} claims)": markdown_table(quality_rows),
        "Latency at k=10 (distinct test claims, one thread each, in alternation)": markdown_table(
            latency_rows
        ),
    }
    write_results(args.out, payload, tables)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


def whole_document_rows(claims: Sequence[sd.Claim], encoder: Encoder, qv: np.ndarray) -> list[dict[str, Any]]:
    """txtai's original setup (one vector per abstract, title + text) against the exact search of the same
    vectors: what moves txtai's dense side."""
    corpus = sd.load_corpus()
    texts = [f"{a.title} {a.text}" for a in corpus]
    if WHOLE_CACHE.exists():
        vectors = np.load(WHOLE_CACHE)
    else:
        vectors = np.concatenate([encoder(texts[i : i + 64]) for i in range(0, len(texts), 64)])
        WHOLE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.save(WHOLE_CACHE, vectors)
    doc_of = lambda i: corpus[i].doc_id  # noqa: E731
    rows = [
        {
            "system": "MiniLM exact IP",
            "setup": "whole abstracts",
            **exact_quality(vectors, qv, doc_of, claims),
            "load": load_average(),
        }
    ]
    for name, faiss in (("exact FAISS (IDMap,Flat)", EXACT), ("txtai default FAISS (IVF)", None)):
        emb = txtai_embeddings(texts, vectors, encoder, faiss)
        for mode, w in (("hybrid 0.5 (default)", None), ("dense only", 1.0)):
            m = txtai_quality(emb, claims, doc_of, w, 100)
            rows.append(
                {"system": "txtai", "setup": f"whole abstracts, {name}, {mode}", **m, "load": load_average()}
            )
            print(rows[-1], flush=True)
    return rows


def document_vector_rows(
    data: IndexData, claims: Sequence[sd.Claim], encoder: Encoder, qv: np.ndarray
) -> list[dict[str, Any]]:
    """One vector per abstract (the normalised mean of its chunk vectors), as many rows as txtai's original
    whole-abstract index (5,183: above txtai's 5,000-row switch to IVF), searched exactly and by txtai's
    default FAISS index; txtai's BM25 side gets the abstract (title + text)."""
    corpus = {a.doc_id: a for a in sd.load_corpus()}
    rows_of: dict[str, list[int]] = {}
    for i, c in enumerate(data.chunks):
        rows_of.setdefault(c.doc_id, []).append(i)
    doc_ids = list(rows_of)
    vectors = np.asarray(data.dense.vectors, dtype=np.float32)
    means = np.stack([vectors[rows_of[d]].mean(axis=0) for d in doc_ids])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    texts = [f"{corpus[d].title} {corpus[d].text}" for d in doc_ids]
    doc_of = lambda i: doc_ids[i]  # noqa: E731
    out = [
        {
            "system": "MiniLM exact IP",
            "setup": "abstract vectors (mean of its chunks)",
            **exact_quality(means, qv, doc_of, claims),
            "load": load_average(),
        }
    ]
    for name, faiss in (("exact FAISS (IDMap,Flat)", EXACT), ("txtai default FAISS (IVF)", None)):
        emb = txtai_embeddings(texts, means, encoder, faiss)
        for mode, w in (("hybrid 0.5 (default)", None), ("dense only", 1.0)):
            m = txtai_quality(emb, claims, doc_of, w, 100)
            out.append(
                {
                    "system": "txtai",
                    "setup": f"abstract vectors (mean of its chunks), {name}, {mode}",
                    **m,
                    "load": load_average(),
                }
            )
            print(out[-1], flush=True)
    return out


def latency(
    ours: str, txtai_ours: str, txtai_torch: str, inproc: Any, texts: Sequence[str], warm: Sequence[str]
) -> list[dict[str, Any]]:
    import httpx

    names = (
        "insight-search HTTP, group=passage (default)",
        "insight-search HTTP, group=document",
        "txtai HTTP, our encoder",
        "txtai HTTP, torch encoder",
        "txtai in-process, our encoder",
    )
    clients = [httpx.Client(base_url=b, timeout=60) for b in (ours, ours, txtai_ours, txtai_torch)]
    params = [{"k": 10}, {"k": 10, "group": "document"}, {"k": 10}, {"k": 10}]
    calls: list[Callable[[str], Any]] = [
        *(
            lambda q, c=c, p=p: c.get("/search", params={"q": q, **p}).raise_for_status()
            for c, p in zip(clients, params, strict=True)
        ),
        lambda q: inproc.search(q, 10),
    ]
    for w in warm:
        for call in calls:
            call(w)
    times: list[list[float]] = [[] for _ in calls]
    start = load_average()
    for text in texts:
        for j, call in enumerate(calls):
            times[j].append(timed(lambda c=call, t=text: c(t)))
    end = load_average()
    for c in clients:
        c.close()
    rows = []
    for name, ms in zip(names, times, strict=True):
        p = percentiles(ms)
        rows.append(
            {
                "system": name,
                "queries": len(ms),
                **{k: p[k] for k in ("p50_ms", "p95_ms", "mean_ms")},
                "load_start": start,
                "load_end": end,
            }
        )
        print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    main()
