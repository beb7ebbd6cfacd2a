"""paths.display_path: what a response shows of a source path with INSIGHT_SEARCH_PATHS=relative."""

from __future__ import annotations

from pathlib import Path

from insight_search.paths import display_path

JWP = "../shared/data/uninfo-jwp"


def test_a_path_under_an_indexed_folder_starts_at_that_folder() -> None:
    roots = [Path("/srv/data/corpus")]
    assert display_path("/srv/data/corpus/mexico/page.txt", roots) == "corpus/mexico/page.txt"
    assert display_path("/srv/data/corpus/page.txt", roots) == "corpus/page.txt"
    assert display_path("/srv/data/corpus/./a/../page.txt", roots) == "corpus/page.txt"


def test_an_indexed_file_shows_as_its_name() -> None:
    roots = [Path(f"{JWP}/africa/gender.xlsx"), Path(f"{JWP}/asia-pacific/gender.xlsx")]
    assert display_path(f"{JWP}/africa/gender.xlsx", roots) == "gender.xlsx"


def test_relative_roots_as_the_manifest_records_them() -> None:
    roots = [Path(JWP), Path("corpus")]
    assert display_path(f"{JWP}/africa/gender.xlsx", roots) == "uninfo-jwp/africa/gender.xlsx"
    assert display_path("corpus/seed.txt", roots) == "corpus/seed.txt"
    assert display_path("./corpus/seed.txt", roots) == "corpus/seed.txt"


def test_the_deepest_root_wins() -> None:
    roots = [Path("/data"), Path("/data/un/jwp")]
    assert display_path("/data/un/jwp/x.xlsx", roots) == "jwp/x.xlsx"
    assert display_path("/data/un/api/x.json", roots) == "data/un/api/x.json"


def test_a_path_under_no_root_shows_only_its_name() -> None:
    roots = [Path("/srv/data/corpus")]
    for outside in ("/etc/passwd", "/srv/data/corpus2/x.txt", "/srv/data/other/corpus/x.txt"):
        shown = display_path(outside, roots)
        assert shown == outside.rsplit("/", 1)[1] and "/" not in shown
    assert display_path("/srv/data/corpus/../secret/x.txt", roots) == "x.txt"  # no escape by ..
    assert display_path("/a/b.txt", []) == "b.txt"


def test_roots_that_name_no_folder_are_ignored() -> None:
    for root in (Path("/"), Path("."), Path("..")):
        assert display_path("/srv/x/y.txt", [root]) == "y.txt"
    assert display_path("../y.txt", [Path("..")]) == "y.txt"
    assert display_path("", [Path("/srv")]) == ""


def test_windows_separators_are_understood() -> None:
    assert display_path("C:\\data\\corpus\\a\\b.txt", [Path("C:\\data\\corpus")]) == "corpus/a/b.txt"


def test_relative_paths_setting_hides_where_the_files_are(tmp_path: Path) -> None:
    """INSIGHT_SEARCH_PATHS=relative: every source path in every answer (results, citations, mentions,
    funding, documents, chunks, /ready) starts at the indexed folder; absolute (the default) shows them
    as indexed."""
    from fastapi.testclient import TestClient

    from insight_search.api import create_app
    from insight_search.config import Settings
    from insight_search.indexer import build_index

    from .conftest import FakeEmbedder
    from .test_api import BASE, NO_LIMITS, write_corpus

    corpus = write_corpus(tmp_path / "srv" / "private")
    embedder = FakeEmbedder()
    build_index([corpus], Settings(index_dir=tmp_path / "index"), embedder)
    secret = str(tmp_path)
    for mode in ("absolute", "relative"):
        settings = Settings(index_dir=tmp_path / "index", paths=mode, index_reload_seconds=0)
        with TestClient(create_app(settings, embedder=embedder, limits=NO_LIMITS), base_url=BASE) as c:
            hit = c.get("/search", params={"q": "care", "k": 3}).json()["results"][0]
            answers = [
                c.get("/search", params={"q": "care", "k": 3}).text,
                c.get("/summarize", params={"q": "care"}).text,
                c.get("/timeline", params={"q": "care"}).text,
                c.get("/mentions", params={"term": "care"}).text,
                c.get("/funding").text,
                c.get(f"/documents/{hit['doc_id']}").text,
                c.get(f"/chunks/{hit['chunk_id']}").text,
                c.get("/ready").text,
            ]
        if mode == "absolute":
            assert all(secret in a for a in answers[:-1])  # /ready's corpus_paths: as given to the build
            assert hit["source"]["path"].startswith(secret)
        else:
            assert not any(secret in a for a in answers)
            assert hit["source"]["path"].startswith("corpus/")
