"""Behind a reverse proxy: X-Forwarded-For and X-Forwarded-Proto are believed from
HUBBUB_TRUSTED_PROXIES alone, for HTTP and WebSocket alike, and the real client's address is what
per-address caps, login throttling and logs use; cookies are Secure and HSTS is sent when the
public scheme is https. Auth mode proxy believes its user header on the same condition.

Every loopback address is this machine's: the "proxy" connects from 127.0.0.2 (trusted), anyone
else from 127.0.0.1. The client addresses a proxy forwards are documentation addresses
(203.0.113.0/24): header text, never a destination.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.client import ChatClient, closed
from tests.conftest import ServerFactory
from tests.isolation import unique
from tests.services import GunicornServer, HubbubServer, hubbub_cli, wait_for

PROXY = "127.0.0.2"
ELSEWHERE = "127.0.0.1"
HTTPS = {"X-Forwarded-Proto": "https"}


def http(server: HubbubServer, source: str) -> httpx.Client:
    """An HTTP client whose connections come from `source`."""
    return httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=source))


async def socket_from(
    server: HubbubServer,
    source: str,
    headers: list[tuple[str, str]],
    path: str = "/api/ws",
    host: str | None = None,
) -> Any:
    """A WebSocket from `source`; `host`: the name in its Host header (the address stays
    the server's)."""
    url = f"ws://{host}{path}" if host else f"{server.ws_url}{path}"
    return await connect(
        url,
        host="127.0.0.1",
        port=server.port,
        additional_headers=headers,
        local_addr=(source, 0),
        compression=None,
        open_timeout=10,
    )


@pytest.fixture(scope="module")
def proxied(module_server: ServerFactory) -> HubbubServer:
    """Auth mode none behind a proxy at 127.0.0.2; two sockets per address."""
    return module_server(
        {
            "HUBBUB_TRUSTED_PROXIES": f"{PROXY}/32",
            "HUBBUB_MAX_CONNECTIONS_PER_ADDRESS": "2",
            "HUBBUB_HSTS_MAX_AGE_SECONDS": "600",
            "HUBBUB_ALLOWED_HOSTS": '["chat.example.test"]',
        }
    )


def test_forwarded_proto_is_believed_from_the_proxy_only(proxied: HubbubServer) -> None:
    with http(proxied, PROXY) as via_proxy, http(proxied, ELSEWHERE) as direct:
        secure = via_proxy.get("/", headers=HTTPS)
        assert secure.headers["strict-transport-security"] == "max-age=600"
        assert "wss://127.0.0.1" in secure.headers["content-security-policy"]
        spoofed = direct.get("/", headers=HTTPS)
        assert "strict-transport-security" not in spoofed.headers
        assert "wss://" not in spoofed.headers["content-security-policy"]

        # Signing in over https gets a Secure cookie; over http (or a spoofed https) not.
        name = unique("sec")
        login = via_proxy.post("/api/login", json={"name": name}, headers=HTTPS)
        assert login.status_code == 200
        assert "secure" in login.headers["set-cookie"].lower().split("; ")
        logout = via_proxy.post("/api/logout", headers=HTTPS)
        assert "secure" in logout.headers["set-cookie"].lower().split("; ")
        plain = direct.post("/api/login", json={"name": unique("plain")}, headers=HTTPS)
        assert "secure" not in plain.headers["set-cookie"].lower().split("; ")


async def test_the_real_client_address_is_what_the_per_address_cap_counts(proxied: HubbubServer) -> None:
    """Two sockets per address: through the proxy, two clients get two each; whatever an
    untrusted peer forwards, all its sockets are its own address's."""

    def forwarded(client: str) -> list[tuple[str, str]]:
        return [("X-Forwarded-For", client)]

    opened = [
        await socket_from(proxied, PROXY, forwarded(address), f"/api/ws?name={unique('c')}")
        for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2")
    ]
    try:
        third = await socket_from(proxied, PROXY, forwarded("203.0.113.1"), f"/api/ws?name={unique('c')}")
        assert await closed(third) == (4429, "too many connections from this address")
        # A chain: the client, then a proxy we do not know; the last untrusted one is the client.
        chained = await socket_from(
            proxied, PROXY, forwarded("203.0.113.9, 203.0.113.2"), f"/api/ws?name={unique('c')}"
        )
        assert await closed(chained) == (4429, "too many connections from this address")

        direct = [
            await socket_from(
                proxied, ELSEWHERE, forwarded(f"203.0.113.{10 + i}"), f"/api/ws?name={unique('d')}"
            )
            for i in range(3)
        ]
        assert await closed(direct[2]) == (4429, "too many connections from this address")
        for ws in direct[:2]:
            await ws.close()
    finally:
        for ws in opened:
            await ws.close()


async def test_a_websocket_from_the_public_https_origin_is_accepted(proxied: HubbubServer) -> None:
    public = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.30")]
    origin = [*public, ("Origin", "https://chat.example.test")]
    ws = await socket_from(proxied, PROXY, origin, "/api/ws?name=o1", host="chat.example.test")
    client = ChatClient(ws)
    assert (await client.expect("hello"))["user"] == "o1"
    await client.close()
    evil = [*public, ("Origin", "https://evil.example.test")]
    other = await socket_from(proxied, PROXY, evil, "/api/ws?name=o2", host="chat.example.test")
    assert (await closed(other))[0] == 4403


def test_login_throttling_counts_the_real_client(hubbub_server: ServerFactory, tmp_path: Any) -> None:
    data = tmp_path / "data"
    added = hubbub_cli(data, "add-user", "pat", "--password-stdin", stdin="long enough password\n")
    assert added.returncode == 0, added.stderr
    server = hubbub_server(
        {"HUBBUB_AUTH": "password", "HUBBUB_TRUSTED_PROXIES": PROXY, "HUBBUB_LOGIN_MAX_FAILURES": "1"},
        data_dir=data,
    )
    wrong = {"username": "pat", "password": "wrong password"}
    with http(server, PROXY) as via_proxy, http(server, ELSEWHERE) as direct:
        a = {"X-Forwarded-For": "203.0.113.40"}
        assert via_proxy.post("/api/login", json=wrong, headers=a).status_code == 401
        assert via_proxy.post("/api/login", json=wrong, headers=a).status_code == 429  # pat from a: locked
        b = {"X-Forwarded-For": "203.0.113.41"}
        assert via_proxy.post("/api/login", json=wrong, headers=b).status_code == 401  # pat from b: not
        # An untrusted peer forwarding a's address is its own address, not a's.
        assert direct.post("/api/login", json=wrong, headers=a).status_code == 401
    log = server.log()
    assert "login refused (password mode) from 203.0.113.40" in log
    assert "login throttled (password mode) from 203.0.113.40" in log
    assert f"login refused (password mode) from {ELSEWHERE}" in log
    assert '203.0.113.41:0 - "POST /api/login HTTP/1.1" 401' in log  # uvicorn's access log too


def test_the_older_flags_mean_the_same(hubbub_server: ServerFactory, tmp_path: Any) -> None:
    server = hubbub_server(args=["--proxy-headers", "--forwarded-allow-ips", PROXY])
    with http(server, PROXY) as via_proxy, http(server, ELSEWHERE) as direct:
        assert "strict-transport-security" in via_proxy.get("/", headers=HTTPS).headers
        assert "strict-transport-security" not in direct.get("/", headers=HTTPS).headers
    both = hubbub_server(
        {"HUBBUB_TRUSTED_PROXIES": "10.1.2.3"},
        args=["--proxy-headers", "--forwarded-allow-ips", PROXY],
        wait=False,
    )
    assert both.proc is not None
    wait_for(lambda: both.proc is not None and both.proc.poll() is not None, 60, "the server to refuse")
    assert both.proc.returncode != 0
    assert "keep HUBBUB_TRUSTED_PROXIES alone" in both.log()


@pytest.fixture
def gunicorn(tmp_path: Any) -> Iterator[GunicornServer]:
    server = GunicornServer(env={"FORWARDED_ALLOW_IPS": PROXY}, data_dir=tmp_path / "g").start()
    yield server
    server.stop()


def test_the_images_forwarded_allow_ips_means_the_same(gunicorn: GunicornServer) -> None:
    with http(gunicorn, PROXY) as via_proxy, http(gunicorn, ELSEWHERE) as direct:
        assert "strict-transport-security" in via_proxy.get("/", headers=HTTPS).headers
        assert "strict-transport-security" not in direct.get("/", headers=HTTPS).headers


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUBBUB_TRUSTED_PROXIES": "10.0.0.0/33"}, "is not an IP address or a network"),
        ({"HUBBUB_TRUSTED_PROXIES": '["10.0.0.1",'}, "must be a JSON list or comma-separated"),
        ({"HUBBUB_AUTH": "proxy"}, "HUBBUB_AUTH=proxy needs HUBBUB_TRUSTED_PROXIES"),
        ({"HUBBUB_AUTH": "proxy", "HUBBUB_TRUSTED_PROXIES": "*"}, "not every address"),
        (
            {"HUBBUB_AUTH": "proxy", "HUBBUB_TRUSTED_PROXIES": PROXY, "HUBBUB_PROXY_USER_HEADER": "X User"},
            "header",
        ),
        ({"HUBBUB_LOGOUT_URL": "//evil.example/x"}, "must be a path"),
    ],
)
def test_bad_proxy_settings_are_refused_at_startup(tmp_path: Any, env: dict[str, str], message: str) -> None:
    result = hubbub_cli(tmp_path, "check-config", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_trusted_proxies_take_either_form(tmp_path: Any) -> None:
    for value in ('["10.0.0.1", "fd00::/8"]', "10.0.0.1, fd00::/8"):
        result = hubbub_cli(tmp_path, "check-config", HUBBUB_TRUSTED_PROXIES=value)
        assert result.returncode == 0, result.stderr
        assert '"10.0.0.1/32",\n    "fd00::/8"' in result.stdout


# --- auth mode proxy


@pytest.fixture(scope="module")
def gated(module_server: ServerFactory) -> HubbubServer:
    return module_server(
        {"HUBBUB_AUTH": "proxy", "HUBBUB_TRUSTED_PROXIES": PROXY, "HUBBUB_LOGOUT_URL": "/oauth2/sign_out"}
    )


def utf8(text: str) -> bytes:
    """The text's UTF-8 bytes: what a proxy sends."""
    return text.encode()


def me(server: HubbubServer, source: str, headers: list[tuple[str, str | bytes]]) -> httpx.Response:
    with http(server, source) as client:
        return client.get("/api/me", headers=headers)


async def ws_user(server: HubbubServer, source: str, headers: list[tuple[str, str]]) -> str | int:
    """The user a socket was opened for, or the code it was closed with."""
    ws = await socket_from(server, source, headers)
    client = ChatClient(ws)
    try:
        first = await client.recv()
    except Exception:
        code, _reason = await closed(ws)
        assert code is not None
        return code
    await client.close()
    return str(first["user"])


async def test_the_user_header_from_the_proxy_signs_in(gated: HubbubServer) -> None:
    name = unique("ann")
    answer = me(gated, PROXY, [("Remote-User", name)])
    assert answer.status_code == 200 and answer.json()["user"] == name
    assert await ws_user(gated, PROXY, [("Remote-User", name)]) == name
    # Names follow the rules everywhere: one normal form, nothing invisible.
    full_width = "\uff46\uff57-" + name[-6:]  # U+FF46 U+FF57: "fw" in full-width letters
    assert me(gated, PROXY, [("Remote-User", utf8(full_width))]).json()["user"] == f"fw-{name[-6:]}"
    assert me(gated, PROXY, [("Remote-User", utf8("zero\u200bwidth"))]).status_code == 401
    assert me(gated, PROXY, [("Remote-User", "x" * 300)]).status_code == 401
    unicode_name = "Zoë-" + name[-6:]
    assert me(gated, PROXY, [("Remote-User", utf8(unicode_name))]).json()["user"] == unicode_name
    # No header from the proxy: not signed in (the proxy let an anonymous request through).
    assert me(gated, PROXY, []).status_code == 401
    assert await ws_user(gated, PROXY, []) == 4401


@pytest.mark.parametrize("header", ["Remote-User", "remote-user", "REMOTE-USER", "ReMoTe-UsEr"])
async def test_the_user_header_from_anyone_else_is_ignored(gated: HubbubServer, header: str) -> None:
    headers = [(header, "admin")]
    answer = me(gated, ELSEWHERE, headers)
    assert answer.status_code == 401 and answer.json() == {"detail": "credentials required"}
    assert await ws_user(gated, ELSEWHERE, headers) == 4401
    # Claiming to come through the proxy changes nothing: trust is the TCP peer's.
    spoofed = [*headers, ("X-Forwarded-For", PROXY)]
    assert me(gated, ELSEWHERE, spoofed).status_code == 401
    assert await ws_user(gated, ELSEWHERE, spoofed) == 4401
    assert "ignored Remote-User from 127.0.0.1: not one of HUBBUB_TRUSTED_PROXIES" in gated.log()


@pytest.mark.parametrize(
    "headers",
    [
        [("Remote-User", "mallory"), ("Remote-User", "admin")],
        [("remote-user", "admin"), ("Remote-User", "mallory")],
        [("Remote-User", "admin"), ("REMOTE-USER", "admin")],
    ],
)
async def test_the_user_header_twice_is_refused(gated: HubbubServer, headers: list[tuple[str, str]]) -> None:
    """A proxy that adds its header to the one a client sent must not let the client's count."""
    answer = me(gated, PROXY, headers)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "the proxy sent Remote-User more than once: refused"}
    assert await ws_user(gated, PROXY, headers) == 4401


def test_no_sign_in_form_and_sign_out_goes_to_the_proxy(gated: HubbubServer) -> None:
    with http(gated, PROXY) as client:
        config = client.get("/api/config").json()
        assert (config["auth_mode"], config["logout_url"]) == ("proxy", "/oauth2/sign_out")
        refused = client.post("/api/login", json={"username": "ann", "password": "x" * 10})
        assert refused.status_code == 401
        assert "sign in through the authenticating proxy" in refused.json()["detail"]
        # Tokens are not a way around the proxy either.
        assert client.get("/api/me", headers={"Authorization": "Bearer whatever-token"}).status_code == 401
        assert client.post("/api/logout", headers={"Remote-User": "ann"}).status_code == 204


async def test_the_tutorial_sockets_follow_the_same_rule(gated: HubbubServer) -> None:
    ws = await socket_from(gated, PROXY, [("Remote-User", unique("tut"))], "/ws")
    await ws.send("hi")
    assert await asyncio.wait_for(ws.recv(), 10) == "Message text was: hi"
    await ws.close()
    refused = await socket_from(gated, ELSEWHERE, [("Remote-User", "admin")], "/ws")
    assert (await closed(refused))[0] == 4401


def test_the_proxy_configs_keep_a_quiet_socket_longer_than_the_pings() -> None:
    """A proxy that closes a connection quiet for less than the ping interval would cut every
    idle socket: nginx's timeouts must outlast a ping and its answer; Caddy sets none."""
    from hubbub.settings import Settings

    docker = Path(__file__).resolve().parents[2] / "docker"
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    ping = settings.ping_interval_seconds + settings.ping_timeout_seconds
    nginx = (docker / "nginx.conf").read_text()
    units = {"s": 1, "m": 60, "h": 3600}
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        ((value, unit),) = re.findall(rf"^\s*{directive} (\d+)([smh]);", nginx, re.MULTILINE)
        assert int(value) * units[unit] > ping, directive
    caddy = (docker / "Caddyfile").read_text()
    assert not re.search(r"^\s*(stream_timeout|read_timeout|write_timeout|idle_timeout)", caddy, re.MULTILINE)
    for config in (nginx, caddy):  # and neither lets a client's own forwarded headers through
        assert "X-Forwarded-For $proxy_add_x_forwarded_for" not in config
        assert "trusted_proxies" not in config
