from __future__ import annotations

import json
import threading
from pathlib import Path

from insight_search import store
from insight_search.indexer import build_index
from insight_search.live import LiveSearcher
from insight_search.models import Query


def _corpus(folder: Path, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "n.jsonl").write_text(json.dumps({"id": "n1", "text": text}) + "\n", encoding="utf-8")


def test_swaps_in_a_rebuilt_index_and_keeps_answering(tmp_path, settings, fake_embedder):
    corpus = tmp_path / "corpus"
    _corpus(corpus, "Care system legislation in Monterrey.")
    build_index([corpus], settings, fake_embedder)
    live = LiveSearcher(settings, fake_embedder)
    first_version = live.version
    assert not live.reload_if_changed()

    errors: list[BaseException] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                assert live.searcher.search(Query("care", k=1)).hits
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    _corpus(corpus, "Water and sanitation in Kenya, with care.")
    build_index([corpus], settings, fake_embedder)
    assert live.reload_if_changed()
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert live.version != first_version and live.reloads == 1
    assert "Kenya" in live.searcher.search(Query("water", k=1)).hits[0].chunk.text


def test_a_broken_new_version_is_not_served(tmp_path, settings, fake_embedder):
    corpus = tmp_path / "corpus"
    _corpus(corpus, "Care system legislation.")
    build_index([corpus], settings, fake_embedder)
    live = LiveSearcher(settings, fake_embedder)
    served = live.version
    broken = settings.index_dir / "v-99999999T000000-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    (settings.index_dir / store.CURRENT).write_text(broken.name)
    assert not live.reload_if_changed()
    assert live.version == served and live.searcher.search(Query("care", k=1)).hits


def test_a_swapped_out_version_is_released_once_no_request_holds_it(tmp_path, settings, fake_embedder):
    """The memory of the old version goes back once the last request holding it is done, not at the swap."""
    import gc

    from insight_search.live import LiveSearcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Care systems in Monterrey were discussed in 2023.\n")
    build_index([corpus], settings, fake_embedder)
    live = LiveSearcher(settings, fake_embedder)
    in_flight = live.searcher  # a request still running on the first version
    (corpus / "b.txt").write_text("A second note about care services in 2024.\n")
    build_index([corpus], settings, fake_embedder)
    assert live.reload_if_changed() is True
    assert live.release_retired() is False  # still held
    del in_flight
    gc.collect()
    assert live.release_retired() is True
    assert live.release_retired() is False  # released once
