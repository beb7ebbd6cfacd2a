"""The edge in process (api/guard.py): the Host check against DNS rebinding, security headers on every
response and a Content-Security-Policy on every HTML one, HEAD wherever GET works, and wrong API keys that
cannot use up the allowance of the client holding the right one."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from insight_search.api import create_app
from insight_search.api.guard import SECURITY_HEADERS, ApiLimits, host_name
from insight_search.api.routes import PAGE_HEADERS
from insight_search.config import Settings

from .conftest import FakeEmbedder
from .test_api import NO_LIMITS, QUERY, XSS_ID, build_settings, client_for

FOREIGN = (
    "evil.example",
    "evil.example:8000",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "10.0.0.7",
)


@pytest.fixture(scope="module")
def fake_built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    embedder = FakeEmbedder()
    return build_settings(tmp_path_factory.mktemp("guard"), embedder), embedder


@pytest.fixture(scope="module")
def client(fake_built: tuple[Settings, FakeEmbedder]) -> Iterator[TestClient]:
    settings, embedder = fake_built
    with client_for(create_app(settings, embedder=embedder, limits=NO_LIMITS)) as c:
        yield c


def _app_client(fake_built: tuple[Settings, FakeEmbedder], **updates: Any) -> TestClient:
    settings, embedder = fake_built
    limits = updates.pop("limits", NO_LIMITS)
    return client_for(create_app(settings.model_copy(update=updates), embedder=embedder, limits=limits))


# ---------------------------------------------------------------- Host header


def test_host_name_drops_the_port_and_the_case() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1" and host_name("[::1]") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1" and host_name("example.org.") == "example.org"
    assert host_name("::1") == "::1"  # bare IPv6 (not a valid Host, but not cut at a colon either)


def test_localhost_names_with_any_port_are_served(client: TestClient) -> None:
    for host in ("127.0.0.1", "127.0.0.1:8000", "localhost", "LOCALHOST:1234", "[::1]:8000", "[::1]"):
        assert client.get("/ready", headers={"host": host}).status_code == 200, host


@pytest.mark.parametrize("host", FOREIGN)
def test_a_foreign_host_is_refused_with_a_json_detail(client: TestClient, host: str) -> None:
    for path in ("/ready", f"/search?q={QUERY}", f"/documents/{XSS_ID}", "/", "/openapi.json"):
        r = client.get(path, headers={"host": host})
        assert r.status_code == 421, (host, path)
        assert r.headers["content-type"] == "application/json"
        assert "INSIGHT_SEARCH_ALLOWED_HOSTS" in r.json()["detail"] and host in r.json()["detail"]
    assert client.post("/search", json={"q": QUERY}, headers={"host": host}).status_code == 421
    assert client.get("/health", headers={"host": host}).status_code == 200  # probes know only an address


def test_allowed_hosts_and_the_bound_host_are_served(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    with _app_client(fake_built, allowed_hosts=["search.example.org", "*.corp.example"]) as c:
        for host in ("search.example.org", "search.example.org:443", "a.corp.example", "b.a.corp.example"):
            assert c.get("/ready", headers={"host": host}).status_code == 200, host
        for host in ("corp.example", "example.org", "evil.example"):
            assert c.get("/ready", headers={"host": host}).status_code == 421, host
    with _app_client(fake_built, host="10.1.2.3") as c:
        assert c.get("/ready", headers={"host": "10.1.2.3:8000"}).status_code == 200
        assert c.get("/ready", headers={"host": "localhost:8000"}).status_code == 200
        assert c.get("/ready", headers={"host": "10.1.2.4:8000"}).status_code == 421


def test_star_allows_any_host_but_mcp_keeps_its_own_check(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    with _app_client(fake_built, allowed_hosts=["*"]) as c:
        assert c.get("/ready", headers={"host": "evil.example"}).status_code == 200
        r = c.post("/mcp", json=rpc, headers={**accept, "host": "evil.example"})
        assert r.status_code == 421 and "json" not in r.headers.get("content-type", "")  # the MCP's answer
        assert c.post("/mcp", json=rpc, headers=accept).status_code == 200


# ---------------------------------------------------------------- security headers


class _Scripts(HTMLParser):
    """The text of each inline script of a page (the reference the policy's hashes are checked against)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.inline: list[str] = []
        self._in: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._in = True
            self.inline.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline[-1] += data


def test_every_response_carries_the_security_headers(fake_built: tuple[Settings, FakeEmbedder]) -> None:
    with _app_client(fake_built, api_key="s3cret", limits=ApiLimits(rate_per_minute=6, burst=2)) as c:
        key = {"X-API-Key": "s3cret"}
        responses = {
            "200 json": c.get("/ready", headers=key),
            "404": c.get("/chunks/nope", headers=key),
            "422": c.get("/search", headers=key),
            "401": c.get("/ready", headers={"X-API-Key": "wrong"}),
            "421": c.get("/ready", headers={**key, "host": "evil.example"}),
            "413": c.post("/search", content=b"x" * 70_000, headers=key),
            "page": c.get("/"),
            "static": c.get("/static/app.js"),
            "health": c.get("/health"),
            "docs": c.get("/docs", headers=key),
        }
        responses["429"] = next(
            r for r in (c.get("/ready", headers=key) for _ in range(5)) if r.status_code == 429
        )
    for name, r in responses.items():
        for header, value in SECURITY_HEADERS.items():
            assert r.headers.get(header) == value, (name, header)


def test_every_html_response_has_a_policy_allowing_only_its_own_inline_scripts(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]  # its own
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        policy = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        parser = _Scripts()
        parser.feed(r.text)
        for script in parser.inline:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy, path
        assert policy.count("'sha256-") == len(parser.inline)
    assert client.get("/docs").text.count("<script>") == 1  # FastAPI's page has one inline script


# ---------------------------------------------------------------- HEAD


def test_head_answers_wherever_get_does(client: TestClient) -> None:
    chunk_id = client.get("/search", params={"q": QUERY, "k": 1}).json()["results"][0]["chunk_id"]
    paths = {
        "/": "/",
        "/health": "/health",
        "/ready": "/ready",
        "/search": f"/search?q={QUERY}",
        "/summarize": f"/summarize?q={QUERY}",
        "/timeline": f"/timeline?q={QUERY}",
        "/mentions": "/mentions?term=care",
        "/funding": "/funding",
        "/facets": "/facets",
        "/tools": "/tools",
        "/documents/{doc_id}": f"/documents/{XSS_ID}",
        "/chunks/{chunk_id}": f"/chunks/{chunk_id}",
        "/openapi.json": "/openapi.json",
        "/docs": "/docs",
        "/docs/oauth2-redirect": "/docs/oauth2-redirect",
        "/redoc": "/redoc",
    }
    app = client.app
    get_routes = {
        r.path
        for r in app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute | Route) and "GET" in (r.methods or ()) and r.path != "/mcp"
    }
    assert get_routes <= set(paths), get_routes - set(paths)  # a new GET route needs a line here
    for url in [*paths.values(), "/static/app.js", "/chunks/unknown", "/search"]:
        got, head = client.get(url), client.head(url)
        assert head.status_code == got.status_code, url
        assert head.content == b"", url
        assert head.headers.get("content-type") == got.headers.get("content-type"), url
        if "content-length" in head.headers:
            assert int(head.headers["content-length"]) == len(got.content), url


# ---------------------------------------------------------------- rate limit and keys


def test_wrong_keys_do_not_use_up_the_allowance_of_the_right_one(
    fake_built: tuple[Settings, FakeEmbedder],
) -> None:
    limits = ApiLimits(rate_per_minute=6, burst=3)
    with _app_client(fake_built, api_key="s3cret", limits=limits) as c:
        wrong = [c.get("/facets", headers={"X-API-Key": f"guess-{i}"}).status_code for i in range(20)]
        assert wrong[:3] == [401, 401, 401] and set(wrong[3:]) == {429}
        assert c.get("/facets").status_code == 429  # no key: the same bucket as the wrong ones
        right = [c.get("/facets", headers={"Authorization": "Bearer s3cret"}).status_code for _ in range(4)]
        assert right == [200, 200, 200, 429]  # the key holder's own bucket, limited too


def test_without_a_key_configured_one_address_has_one_bucket(
    fake_built: tuple[Settings, FakeEmbedder],
) -> None:
    with _app_client(fake_built, limits=ApiLimits(rate_per_minute=6, burst=3)) as c:
        codes = [c.get("/facets", headers={"X-API-Key": f"k{i}"}).status_code for i in range(4)]
        assert codes == [200, 200, 200, 429]
