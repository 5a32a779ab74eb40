"""Request ids, JSON 500s, HEAD on GET routes, 431 for oversized headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one(client: TestClient) -> None:
    r = client.get("/health")
    assert len(r.headers["x-request-id"]) == 32
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    odd = client.get("/health", headers={"X-Request-ID": "no spaces <allowed>"})
    assert odd.headers["x-request-id"] != "no spaces <allowed>"


def test_a_crash_is_a_json_500_with_the_request_id(
    runtime: Runtime, client: TestClient, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runtime.store, "list_incidents", boom)
    with TestClient(client.app, raise_server_exceptions=False, headers=client.headers) as c:
        r = c.get("/incidents", headers={"X-Request-ID": "req-42"})
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    assert r.json()["request_id"] == "req-42" and "req-42" in r.json()["detail"]
    assert "disk on fire" not in r.text  # the details stay in the log


def test_head_works_on_get_routes(client: TestClient, anonymous: TestClient) -> None:
    for c in (anonymous, client):
        r = c.head("/health")
        assert r.status_code == 200 and r.content == b""
        assert r.headers["content-type"] == "application/json"
    assert client.head("/incidents").status_code == 200
    assert anonymous.head("/incidents").status_code == 401  # the GET's rules hold


def test_oversized_headers_get_431(anonymous: TestClient) -> None:
    r = anonymous.get("/health", headers={"X-Big": "x" * 1_000_000})
    assert r.status_code == 431 and "api.max_header_bytes" in r.json()["detail"]
    assert anonymous.get("/health", headers={"X-Fine": "x" * 2000}).status_code == 200


def test_the_console_is_sent_with_security_headers(anonymous: TestClient) -> None:
    for path in ("/login.html", "/health"):
        r = anonymous.get(path)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_the_docs_can_be_put_behind_a_credential(
    runtime: Runtime, anonymous: TestClient, client: TestClient
) -> None:
    assert anonymous.get("/openapi.json").status_code == 200  # public by default
    runtime.settings.auth.public_docs = False
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert anonymous.get(path).status_code == 401
        assert client.get(path).status_code == 200


def test_the_docs_pages_load_their_assets_from_us(anonymous: TestClient) -> None:
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = anonymous.get(page)
        assert html.status_code == 200 and f"/docs-assets/{asset}" in html.text
        assert "cdn.jsdelivr.net" not in html.text and "fonts.googleapis" not in html.text
        js = anonymous.get(f"/docs-assets/{asset}")
        assert js.status_code == 200 and len(js.content) > 500_000
