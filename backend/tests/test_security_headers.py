"""The browser side of security: every kind of answer carries the same security headers, and
the UI's Content-Security-Policy allows nothing but the app's own origin."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.services import HubbubServer

FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


def directives(header: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        found[name] = sources
    return found


def answers(server: HubbubServer) -> dict[str, httpx.Response]:
    """One answer of each kind the server gives."""
    with httpx.Client(base_url=server.url) as http:
        index = http.get("/")
        asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert asset is not None, "the UI is built"
        return {
            "ui": index,
            "spa route": http.get("/rooms/general"),
            "asset": http.get(asset.group(1)),
            "api": http.get("/api/config"),
            "api 404": http.get("/api/rooms/nope/messages"),
            "unknown api": http.get("/api/nothing"),
            "validation 422": http.post("/api/rooms", json={"name": "Not A Room"}),
            "body 413": http.post(
                "/api/login", content=b"x" * 70_000, headers={"Content-Type": "application/json"}
            ),
            "cross-origin 403": http.post("/api/logout", headers={"Origin": "http://evil.example"}),
            "unknown host 400": http.get("/", headers={"Host": "rebind.evil"}),
            "docs": http.get("/api/docs"),
            "openapi": http.get("/api/openapi.json"),
            "healthz": http.get("/healthz"),
            "readyz": http.get("/readyz"),
            "metrics": http.get("/metrics"),
        }


def test_every_kind_of_answer_carries_the_security_headers(server: HubbubServer) -> None:
    for kind, response in answers(server).items():
        for name, value in FIXED.items():
            assert response.headers.get(name) == value, (kind, name)
        assert "camera=()" in response.headers["permissions-policy"], kind
        assert "server" not in response.headers, (kind, response.headers.get("server"))
        assert "strict-transport-security" not in response.headers, kind  # plain http
        csp = directives(response.headers["content-security-policy"])
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], kind
        if kind != "docs":
            assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], kind
        if kind.startswith("api") or kind in (
            "unknown api",
            "validation 422",
            "body 413",
            "cross-origin 403",
        ):
            assert response.headers.get("content-type", "").startswith("application/json"), kind


def test_the_ui_policy_is_strict(server: HubbubServer) -> None:
    csp = directives(httpx.get(f"{server.url}/").headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'", f"ws://127.0.0.1:{server.port}"]
    assert csp["img-src"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    every_source = " ".join(" ".join(sources) for sources in csp.values())
    assert "unsafe" not in every_source and "*" not in every_source


def test_caching_by_kind(server: HubbubServer) -> None:
    found = answers(server)
    assert found["asset"].headers["cache-control"] == "public, max-age=31536000, immutable"
    assert found["ui"].headers["cache-control"] == "no-cache"
    for kind in ("api", "api 404", "unknown api", "openapi"):
        assert found[kind].headers["cache-control"] == "no-store", kind


def test_the_api_docs_page_has_its_own_narrow_policy(server: HubbubServer) -> None:
    docs = httpx.get(f"{server.url}/api/docs")
    csp = directives(docs.headers["content-security-policy"])
    inline = re.findall(r"<script>", docs.text)
    assert len(inline) == 1 and "'unsafe-inline'" not in csp["script-src"]
    assert [s for s in csp["script-src"] if s.startswith("'sha256-")]  # that one script, by hash


def test_hsts_over_https_behind_a_proxy(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_HSTS_MAX_AGE_SECONDS": "600"}, args=["--proxy-headers"])
    secure = httpx.get(f"{server.url}/", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["strict-transport-security"] == "max-age=600"
    assert "wss://127.0.0.1" in secure.headers["content-security-policy"]
    assert "strict-transport-security" not in httpx.get(f"{server.url}/").headers


@pytest.mark.parametrize(
    ("extra", "accepted"),
    [
        ('{"img-src": ["https://images.example.com", "data:"]}', True),
        ('{"connect-src": ["wss://push.example.com"]}', True),
        ('{"script-src": ["\'unsafe-inline\'"]}', False),
        ('{"script-src": ["data:"]}', False),
        ('{"frame-ancestors": ["https://evil.example"]}', False),
        ('{"img-src": ["*"]}', False),
        ('{"img-src": ["https://a.example; script-src *"]}', False),
    ],
)
def test_csp_extra_is_validated_at_startup(hubbub_server: ServerFactory, extra: str, accepted: bool) -> None:
    if accepted:
        server = hubbub_server({"HUBBUB_CSP_EXTRA": extra})
        csp = httpx.get(f"{server.url}/").headers["content-security-policy"]
        for source in json.loads(extra).values():
            assert all(s in csp for s in source)
        return
    with pytest.raises(RuntimeError, match="HUBBUB_CSP_EXTRA"):
        hubbub_server({"HUBBUB_CSP_EXTRA": extra})
