"""The Ray build and Ray Serve replicas on a real two-node Ray cluster started here (``ray.cluster_utils``:
a head and one more node, one CPU each, on this machine): a Ray build equals a local build of the same paths
(the real default model), the embedding cache and the incremental update hold, a killed embedding worker is
restarted and the build completes, a build that cannot complete leaves the previous index whole, and two
replicas follow a rebuild with no failed request. Skipped without the ``[ray]`` extra."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from insight_search import store
from insight_search.config import Settings
from insight_search.indexer import build_index
from insight_search.models import Query
from insight_search.search import Searcher
from tests.conftest import ROOT, FakeEmbedder, write_jsonl

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

from insight_search.distributed.build import ray_build_index  # noqa: E402
from insight_search.distributed.cluster import ClusterError  # noqa: E402
from tests.ray_helpers import DyingFactory  # noqa: E402

ACTOR_CPUS = 0.75  # one actor on each one-CPU node, a quarter of a CPU left for reading files


@pytest.fixture(scope="module")
def cluster():
    """A head and one more node (one CPU each); the workers import this checkout and its tests."""
    from ray.cluster_utils import Cluster

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT), saved) if p)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False)
    try:
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def _corpus(folder: Path, extra: bool = False) -> list[Path]:
    """The bundled outcome page and two JSONL files naming one document twice (merged in file order)."""
    rows = [
        {"id": "care-1", "title": "Care systems", "text": "Care legislation was drafted in Mexico."},
        {"id": "water-1", "title": "Water", "text": "Water and sanitation reached 40 schools in Kenya."},
    ]
    if extra:
        rows.append({"id": "new-1", "title": "Budgets", "text": "Gender-responsive budgets in Nepal."})
    write_jsonl(folder / "a.jsonl", rows)
    write_jsonl(folder / "b.jsonl", [{**rows[0], "text": rows[0]["text"] + " Again."}])
    return [ROOT / "corpus", folder]


def _index(settings: Settings):
    return store.load(settings.index_dir)


def test_a_ray_build_equals_a_local_build_and_keeps_the_cache(cluster, tmp_path, real_embedder):
    paths = _corpus(tmp_path / "corpus")
    local = Settings(index_dir=tmp_path / "local")
    remote = Settings(index_dir=tmp_path / "ray")
    local_report = build_index(paths, local, real_embedder)
    ray_report = ray_build_index(paths, remote, "auto", actor_cpus=ACTOR_CPUS)
    a, b = _index(local), _index(remote)
    assert [c.chunk_id for c in b.chunks] == [c.chunk_id for c in a.chunks]
    assert [c.text for c in b.chunks] == [c.text for c in a.chunks]
    assert b.manifest.model_id == a.manifest.model_id
    assert b.manifest.counts == a.manifest.counts
    assert b.manifest.corpus_fingerprint == a.manifest.corpus_fingerprint
    np.testing.assert_allclose(b.dense.vectors, a.dense.vectors, atol=1e-5)
    assert (ray_report.embedded, ray_report.repeated) == (local_report.embedded, local_report.repeated)
    for q in ("care system legislation", "water in schools"):
        hits_a = Searcher(a, real_embedder, local).search(Query(q, k=5)).hits
        hits_b = Searcher(b, real_embedder, remote).search(Query(q, k=5)).hits
        assert [h.chunk.chunk_id for h in hits_b] == [h.chunk.chunk_id for h in hits_a]

    # An incremental update: only the new document's text goes to the cluster; the rest is cached.
    paths = _corpus(tmp_path / "corpus", extra=True)
    local_again = build_index(paths, local, real_embedder)
    ray_again = ray_build_index(paths, remote, "auto", actor_cpus=ACTOR_CPUS)
    assert ray_again.embedded == local_again.embedded == 1
    assert ray_again.cached == local_again.cached == ray_report.chunks
    a, b = _index(local), _index(remote)
    assert [c.chunk_id for c in b.chunks] == [c.chunk_id for c in a.chunks]
    np.testing.assert_allclose(b.dense.vectors, a.dense.vectors, atol=1e-5)


def test_a_killed_embedding_worker_is_restarted_and_the_build_completes(cluster, tmp_path):
    paths = _corpus(tmp_path / "corpus")
    marker = tmp_path / "killed-once"
    local = Settings(index_dir=tmp_path / "local")
    remote = Settings(index_dir=tmp_path / "ray")
    build_index(paths, local, FakeEmbedder())
    report = ray_build_index(
        paths, remote, "auto", embedder_factory=DyingFactory(marker), actor_cpus=ACTOR_CPUS
    )
    assert marker.exists()  # a worker did die mid-build
    a, b = _index(local), _index(remote)
    assert report.chunks == len(a.chunks)
    assert [c.chunk_id for c in b.chunks] == [c.chunk_id for c in a.chunks]
    np.testing.assert_allclose(b.dense.vectors, a.dense.vectors, atol=1e-6)


def test_a_build_that_cannot_complete_fails_in_one_line_and_keeps_the_index(cluster, tmp_path):
    paths = _corpus(tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "ray")
    build_index(paths, settings, FakeEmbedder())
    before = store.current_version(settings.index_dir)
    paths = _corpus(tmp_path / "corpus", extra=True)
    with pytest.raises(ClusterError) as failed:
        ray_build_index(
            paths,
            settings,
            "auto",
            embedder_factory=DyingFactory(tmp_path / "marker", always=True),
            actor_cpus=ACTOR_CPUS,
        )
    message = str(failed.value)
    assert "\n" not in message and message.startswith("the Ray build failed, the index was not changed")
    assert store.current_version(settings.index_dir) == before
    versions = [p.name for p in settings.index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")]
    assert versions == [before.name]  # the unfinished version was removed
    assert store.load(settings.index_dir).manifest.counts.documents == 3  # care-1 (merged), water-1, page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_replicas_follow_a_rebuild_without_a_failed_request(cluster, tmp_path, real_embedder):
    import httpx

    from insight_search.distributed.serve import start_replicas, stop_replicas

    folder = tmp_path / "corpus"
    write_jsonl(folder / "n.jsonl", [{"id": "n1", "text": "Care system legislation in Monterrey."}])
    settings = Settings(
        index_dir=tmp_path / "index",
        port=_free_port(),
        index_reload_seconds=0.5,
        rate_limit_per_minute=0,
    )
    build_index([folder], settings, real_embedder)
    first = store.current_version(settings.index_dir)

    # The replicas as `serve --ray` makes them: the app over the index folder, the default model.
    url = start_replicas(settings, 2, replica_cpus=0.25, proxy_location="HeadOnly")
    errors: list[str] = []
    seen: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while not stop.is_set():
                r = http.get("/search", params={"q": "care", "k": 1})
                if r.status_code != 200 or not r.json()["results"]:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                else:
                    seen.append(r.json()["results"][0]["text"])

    try:
        from ray import serve

        deployment = serve.status().applications["insight-search"].deployments["insight-search"]
        assert deployment.replica_states.get("RUNNING") == 2
        threads = [threading.Thread(target=client) for _ in range(3)]
        for t in threads:
            t.start()
        started = time.monotonic()
        while len(seen) < 6 and time.monotonic() - started < 60:  # the clients are answered: then rebuild
            time.sleep(0.1)
        write_jsonl(folder / "n.jsonl", [{"id": "n1", "text": "Water and sanitation in Kenya, with care."}])
        build_index([folder], settings, real_embedder)
        assert store.current_version(settings.index_dir) != first
        # Every replica serves the new version: 40 answers in a row (spread over both replicas by Serve's
        # router) all from it.
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < deadline:
                texts = [http.get("/search", params={"q": "care", "k": 1}).json() for _ in range(40)]
                if all("Kenya" in t["results"][0]["text"] for t in texts):
                    break
                time.sleep(0.5)
            else:
                pytest.fail("the replicas did not all follow the rebuild within 60 s")
            versions = {http.get("/ready").json()["version"] for _ in range(20)}
        stop.set()
        for t in threads:
            t.join()
    finally:
        stop.set()
        stop_replicas()
    assert errors == []
    assert versions == {store.current_version(settings.index_dir).name}
    assert any("Monterrey" in t for t in seen) and any("Kenya" in t for t in seen)
