"""/docs and /redoc work without internet: every script, style sheet and icon they name is served by this
server (the fastapi-offline package's copies), and their Content-Security-Policy names no other site.

The browser test (tests/test_page_browser.py) checks that Swagger UI really renders the operations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from insight_search.api import create_app
from insight_search.config import Settings

from .conftest import FakeEmbedder
from .test_api import NO_LIMITS, build_settings, client_for

DOC_PAGES = ("/docs", "/redoc", "/docs/oauth2-redirect")


class _Links(HTMLParser):
    """Every URL a page loads: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href"):
            if tag in ("script", "link", "img") and a.get(name):
                self.urls.append(str(a[name]))


@pytest.fixture(scope="module")
def fake_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    embedder = FakeEmbedder()
    return build_settings(tmp_path_factory.mktemp("docs"), embedder), embedder


@pytest.fixture(scope="module")
def client(fake_built: tuple[Settings, FakeEmbedder]) -> Iterator[TestClient]:
    settings, embedder = fake_built
    with client_for(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as c:
        yield c


def test_doc_pages_load_only_files_of_this_server(client: TestClient) -> None:
    loaded: set[str] = set()
    for path in DOC_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert "cdn." not in page.text and "fonts.googleapis" not in page.text, path
        parser = _Links()
        parser.feed(page.text)
        for url in parser.urls:
            assert url.startswith("/"), (path, url)  # same origin: no scheme, no host
            loaded.add(url)
    scripts = {u for u in loaded if u.endswith(".js")}
    assert {u.rsplit("/", 1)[1] for u in scripts} == {"swagger-ui-bundle.js", "redoc.standalone.js"}
    for url in loaded:
        r = client.get(url)
        assert r.status_code == 200 and len(r.content) > 1000, url
    swagger = client.get(next(u for u in scripts if u.endswith("swagger-ui-bundle.js")))
    assert "javascript" in swagger.headers["content-type"] and b"SwaggerUIBundle" in swagger.content


def test_doc_policies_name_no_other_site(client: TestClient) -> None:
    for path in DOC_PAGES:
        policy = client.get(path).headers["content-security-policy"]
        assert not re.search(r"https?:", policy), (path, policy)
        assert "script-src 'self'" in policy


def test_doc_files_are_public_like_the_page_files(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    """With an API key the docs need it, but their scripts (no index data) load without it, like /static."""
    settings, embedder = fake_built
    app = create_app(settings.model_copy(update={"api_key": "k"}), embedder=embedder, limits=NO_LIMITS)
    with client_for(app) as c:
        assert c.get("/docs").status_code == 401
        parser = _Links()
        parser.feed(c.get("/docs", headers={"X-API-Key": "k"}).text)
        assert parser.urls and all(c.get(u).status_code == 200 for u in parser.urls)
