"""Through each TLS reverse proxy of docker/ (Caddy with its internal CA, nginx with a
certificate made for the test), over https and wss: two people sign in and chat, the server
behind the proxy restarts, and both reconnect and resume with what was typed meanwhile sent
once. The browsers ignore certificate errors for these contexts only (`ignore_https_errors`);
the test's own HTTP client trusts the proxy's CA instead.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import EXTERNAL_URL
from playwright.sync_api import Browser, Page, expect
from tests.proxies import Caddy, Proxy, binary, started
from tests.services import HubbubServer
from ui import message_bodies, open_as, say

pytestmark = pytest.mark.skipif(EXTERNAL_URL is not None, reason="starts its own servers and proxies")


@pytest.fixture(params=["caddy", "nginx"])
def behind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[HubbubServer, Proxy]]:
    server = HubbubServer(env={"HUBBUB_TRUSTED_PROXIES": "127.0.0.1"}, data_dir=tmp_path / "data").start()
    try:
        proxy = started(request.param, [f"127.0.0.1:{server.port}"], tmp_path / request.param)
    except BaseException:
        server.stop()
        raise
    yield server, proxy
    proxy.stop()
    server.stop()


def sockets_of(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    return urls


def test_sign_in_chat_and_reconnect_over_https(browser: Browser, behind: tuple[HubbubServer, Proxy]) -> None:
    server, proxy = behind
    room = f"tls-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=proxy.url, verify=proxy.ssl_context(), headers={"Origin": proxy.url}) as maker:
        assert maker.post("/api/login", json={"name": f"maker-{room}"}).status_code == 200
        assert maker.post("/api/rooms", json={"name": room}).status_code == 201
        front = maker.get("/")
        assert front.headers["strict-transport-security"] == "max-age=31536000"
        assert f"wss://localhost:{proxy.https_port}" in front.headers["content-security-policy"]

    ada = open_as(browser, proxy.url, "ada", room, ignore_https_errors=True)
    bob = open_as(browser, proxy.url, "bob", room, ignore_https_errors=True)
    session = next(c for c in ada.context.cookies() if c["name"] == "session")
    assert session["secure"] and session["httpOnly"]
    hello = f"hello over tls {room}"
    say(ada, hello)
    expect(bob.get_by_text(hello)).to_be_visible()

    # The server behind the proxy goes away and comes back: both tabs reconnect through the
    # proxy, over wss, and what was typed meanwhile arrives once.
    urls = sockets_of(ada)
    server.stop()
    status = ada.get_by_test_id("connection-status")
    expect(status).not_to_have_text("Connected")
    during = f"typed while away {room}"
    say(ada, during)
    expect(ada.get_by_test_id("pending-message")).to_have_count(1)
    server.start()
    for page in (ada, bob):
        expect(page.get_by_test_id("connection-status")).to_have_text("Connected", timeout=45_000)
        expect(page.locator("li.message:not(.pending)")).to_have_count(2, timeout=20_000)
        assert message_bodies(page) == [hello, during]
    assert urls and all(url.startswith(f"wss://localhost:{proxy.https_port}/api/ws") for url in urls)
    # Hubbub saw the browsers' address as the proxy forwarded it, and the proxy's own as a peer.
    assert '127.0.0.1:0 - "POST /api/login HTTP/1.1" 200' in server.log()


def test_signed_in_by_an_authenticating_proxy(browser: Browser, tmp_path: Path) -> None:
    """Auth mode proxy behind a real authenticating proxy: Caddy asks for a password (basic
    auth) and passes the user on in Remote-User, replacing any the browser sent. The browser is
    signed in over HTTP and WebSocket without a form of Hubbub's, and signing out goes to the
    proxy's page."""
    server = HubbubServer(
        env={
            "HUBBUB_AUTH": "proxy",
            "HUBBUB_TRUSTED_PROXIES": "127.0.0.1",
            "HUBBUB_LOGOUT_URL": "/signed-out",
        },
        data_dir=tmp_path / "data",
    ).start()
    hashed = subprocess.run(
        [binary("caddy"), "hash-password", "--plaintext", "a password for ann"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    gate = Caddy([f"127.0.0.1:{server.port}"], tmp_path / "gate")
    site = (
        "localhost {\n"
        '\thandle /signed-out {\n\t\trespond "signed out of the proxy" 200\n\t}\n'
        "\thandle {\n"
        f"\t\tbasicauth {{\n\t\t\tann {hashed}\n\t\t}}\n"
        f"\t\treverse_proxy 127.0.0.1:{server.port} {{\n\t\t\theader_up Remote-User {{http.auth.user.id}}\n\t\t}}\n"
        "\t}\n"
        "}\n"
    )
    gate.site = site
    try:
        gate.start()
        context = browser.new_context(
            ignore_https_errors=True,
            http_credentials={"username": "ann", "password": "a password for ann"},
            # A browser's own Remote-User: the proxy replaces it.
            extra_http_headers={"Remote-User": "admin"},
        )
        page = context.new_page()
        page.goto(gate.url)
        expect(page.get_by_test_id("connection-status")).to_have_text("Connected")
        expect(page.get_by_text("Signed in as")).to_contain_text("ann")
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("signed out of the proxy")).to_be_visible()
        assert page.url == f"{gate.url}/signed-out"

        # Straight to Hubbub, not through the proxy: no sign-in form of its own, just the way.
        direct = browser.new_page()
        direct.goto(server.url)
        expect(direct.get_by_role("heading", name="Sign in through your team's sign-in page")).to_be_visible()
    finally:
        gate.stop()
        server.stop()
