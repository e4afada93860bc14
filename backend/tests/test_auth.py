"""Auth matrix: each mode x valid/missing/expired/forged credential x good/bad Origin, on every
WebSocket endpoint, over a real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.client import ChatClient
from tests.conftest import ServerFactory
from tests.services import HubbubServer, hubbub_cli, metric, until

GOOD = "good"
BAD_ORIGIN = "http://evil.example"
SECRET = "s3cret-for-tests-only-0123456789abcdef"


@dataclass(frozen=True)
class Credential:
    """How a client presents itself: a query token and/or a session cookie."""

    token: str | None = None
    cookie: str | None = None


async def outcome(server: HubbubServer, path: str, cred: Credential, origin: str) -> str:
    """'ok', 'http 403', or 'close <code>' for one connection attempt."""
    query = f"?token={cred.token}" if cred.token is not None else ""
    headers = {"Origin": server.url if origin == GOOD else origin}
    if cred.cookie is not None:
        headers["Cookie"] = f"session={cred.cookie}"
    try:
        async with connect(f"{server.ws_url}{path}{query}", additional_headers=headers) as ws:
            if path == "/api/ws" or path.startswith("/ws/"):
                # The JSON endpoint greets first; the plain-text chat answers a line.
                if path.startswith("/ws/"):
                    await ws.send("hi")
                await ws.recv()
            else:
                await ws.send("hi")
                await ws.recv()
            return "ok"
    except InvalidStatus as exc:
        return f"http {exc.response.status_code}"
    except ConnectionClosed as exc:
        return f"close {exc.rcvd.code if exc.rcvd else None}"


PATHS = ["/api/ws", "/ws", "/ws/5", "/items/foo/ws"]


async def check_matrix(server: HubbubServer, creds: dict[str, Credential]) -> None:
    results = {}
    expected = {}
    for state, cred in creds.items():
        for origin in (GOOD, BAD_ORIGIN):
            for path in PATHS:
                results[(state, origin, path)] = await outcome(server, path, cred, origin)
                if path == "/items/foo/ws":
                    want = "ok" if state == "valid" and origin == GOOD else "http 403"
                elif origin != GOOD:
                    want = "close 4403"
                else:
                    want = "ok" if state == "valid" else "close 4401"
                expected[(state, origin, path)] = want
    wrong = {k: (results[k], expected[k]) for k in results if results[k] != expected[k]}
    assert not wrong, f"(got, want): {wrong}"


def login(server: HubbubServer, **body: str) -> str:
    response = httpx.post(f"{server.url}/api/login", json=body)
    assert response.status_code == 200, response.text
    return response.cookies["session"]


def logged_out_cookie(server: HubbubServer, **body: str) -> str:
    cookie = login(server, **body)
    assert httpx.post(f"{server.url}/api/logout", cookies={"session": cookie}).status_code == 204
    return cookie


def forge(cookie: str) -> str:
    return cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")


async def test_token_mode(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": '{"alice-token-123": "alice"}'})
    await check_matrix(
        server,
        {
            "valid": Credential(token="alice-token-123"),
            "missing": Credential(),
            "expired": Credential(cookie=logged_out_cookie(server, token="alice-token-123")),
            "forged": Credential(token="alice-token-124"),
        },
    )
    assert httpx.post(f"{server.url}/api/login", json={"token": "nope-nope-nope"}).status_code == 401
    # Tokens never reach the log, though uvicorn logs every WebSocket's query string.
    assert "alice-token-123" not in server.log() and "alice-token-124" not in server.log()
    assert "token=[redacted]" in server.log()


def make_jwt(key: object, algorithm: str, **claims: object) -> str:
    payload = {"sub": "alice", "exp": int(time.time()) + 600, "aud": "hubbub", "iss": "tests", **claims}
    return jwt.encode(payload, key, algorithm=algorithm)  # type: ignore[arg-type]


async def test_jwt_mode_hs256(hubbub_server: ServerFactory) -> None:
    server = hubbub_server(
        {
            "HUBBUB_AUTH": "jwt",
            "HUBBUB_JWT_SECRET": SECRET,
            "HUBBUB_JWT_AUDIENCE": "hubbub",
            "HUBBUB_JWT_ISSUER": "tests",
        }
    )
    await check_matrix(
        server,
        {
            "valid": Credential(token=make_jwt(SECRET, "HS256")),
            "missing": Credential(),
            "expired": Credential(token=make_jwt(SECRET, "HS256", exp=int(time.time()) - 60)),
            "forged": Credential(token=make_jwt("another-secret-0123456789abcdef0123", "HS256")),
        },
    )
    for claims in ({"aud": "other"}, {"iss": "other"}, {"sub": 42}):
        token = make_jwt(SECRET, "HS256", **claims)
        assert await outcome(server, "/api/ws", Credential(token=token), GOOD) == "close 4401"
    unsigned = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, None, algorithm="none")
    assert await outcome(server, "/api/ws", Credential(token=unsigned), GOOD) == "close 4401"


async def test_jwt_mode_rs256_public_key_and_user_claim(hubbub_server: ServerFactory) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    server = hubbub_server(
        {
            "HUBBUB_AUTH": "jwt",
            "HUBBUB_JWT_PUBLIC_KEY": public_pem,
            "HUBBUB_JWT_ALGORITHMS": '["RS256"]',
            "HUBBUB_JWT_USER_CLAIM": "preferred_username",
        }
    )
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"preferred_username": "dana"}
    await check_matrix(
        server,
        {
            "valid": Credential(token=make_jwt(private, "RS256", **claims)),
            "missing": Credential(),
            "expired": Credential(token=make_jwt(private, "RS256", exp=int(time.time()) - 60, **claims)),
            "forged": Credential(token=make_jwt(other, "RS256", **claims)),
        },
    )
    client = await ChatClient.open(f"{server.ws_url}/api/ws?token={make_jwt(private, 'RS256', **claims)}")
    await client.close()
    # An HS256 token signed with the public key as secret (the classic confusion attack) fails.
    confused = hs256_signed_with(
        public_pem.encode(), {"preferred_username": "x", "exp": int(time.time()) + 60}
    )
    assert await outcome(server, "/api/ws", Credential(token=confused), GOOD) == "close 4401"


def hs256_signed_with(secret: bytes, claims: dict[str, object]) -> str:
    """A JWT signed with HMAC-SHA256, built by hand: PyJWT rightly refuses a PEM key as an HMAC
    secret, which is what an algorithm-confusion attacker uses."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


def add_user(data_dir: Path, name: str, password: str) -> subprocess.CompletedProcess[str]:
    return hubbub_cli(data_dir, "add-user", name, "--password-stdin", stdin=password + "\n")


async def test_password_mode(hubbub_server: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "pw"
    assert add_user(data_dir, "erin", "correct horse").returncode == 0
    assert add_user(data_dir, "short", "abc").returncode != 0
    server = hubbub_server({"HUBBUB_AUTH": "password"}, data_dir=data_dir)
    # Password users live in the database, as argon2 hashes (issue 24): no users file.
    database = (data_dir / "hubbub.db").read_bytes()
    assert b"$argon2" in database and b"correct horse" not in database
    assert not (data_dir / "users").exists()

    bad = httpx.post(f"{server.url}/api/login", json={"username": "erin", "password": "wrong"})
    assert bad.status_code == 401 and bad.json()["detail"] == "wrong user name or password"
    unknown = httpx.post(f"{server.url}/api/login", json={"username": "zed", "password": "x" * 10})
    assert unknown.status_code == 401 and unknown.json()["detail"] == bad.json()["detail"]

    valid = login(server, username="erin", password="correct horse")
    await check_matrix(
        server,
        {
            "valid": Credential(cookie=valid),
            "missing": Credential(),
            "expired": Credential(
                cookie=logged_out_cookie(server, username="erin", password="correct horse")
            ),
            "forged": Credential(cookie=forge(valid)),
        },
    )
    # A user added while the server runs can log in without a restart.
    assert add_user(data_dir, "frank", "another password").returncode == 0
    login(server, username="frank", password="another password")


async def test_logout_closes_that_sessions_sockets_only(hubbub_server: ServerFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "pw"
    add_user(data_dir, "erin", "correct horse")
    server = hubbub_server({"HUBBUB_AUTH": "password"}, data_dir=data_dir)
    first = login(server, username="erin", password="correct horse")
    second = login(server, username="erin", password="correct horse")
    kicked = await ChatClient.open(
        f"{server.ws_url}/api/ws", additional_headers={"Cookie": f"session={first}"}
    )
    kept = await ChatClient.open(
        f"{server.ws_url}/api/ws", additional_headers={"Cookie": f"session={second}"}
    )
    await kept.join()
    assert httpx.post(f"{server.url}/api/logout", cookies={"session": first}).status_code == 204
    code, reason = await kicked.closed()
    assert (code, reason) == (4401, "logged out")
    await kept.say("still here")


async def test_session_expires(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_SESSION_TTL_SECONDS": "1"})
    cookie = login(server, name="gina")
    time.sleep(1.5)
    assert await outcome(server, "/api/ws", Credential(cookie=cookie), GOOD) == "close 4401"


async def test_allowed_origins_exact_match(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_ALLOWED_ORIGINS": '["https://chat.example.com"]'})
    assert await outcome(server, "/api/ws", Credential(), "https://chat.example.com") == "ok"
    for origin in ("https://chat.example.com.evil.io", "http://chat.example.com", "null"):
        assert await outcome(server, "/api/ws", Credential(), origin) == "close 4403"
    # With an explicit list, the server's own origin is not implied.
    assert await outcome(server, "/api/ws", Credential(), GOOD) == "close 4403"


async def test_refusal_reason_is_visible(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_AUTH": "token", "HUBBUB_TOKENS": '{"alice-token-123": "alice"}'})
    async with connect(f"{server.ws_url}/api/ws") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401 and "credentials required" in closed.value.rcvd.reason


async def test_max_connections_per_user(hubbub_server: ServerFactory) -> None:
    server = hubbub_server({"HUBBUB_MAX_CONNECTIONS_PER_USER": "2"})
    url = f"{server.ws_url}/api/ws?name=hoarder"
    clients = [await ChatClient.open(url), await ChatClient.open(url)]
    async with connect(url) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    await clients[0].close()
    await until(lambda: metric(server, 'hubbub_connections{endpoint="chat"}') == 1, "the close to be seen")
    await (await ChatClient.open(url)).close()


async def test_jwt_mode_jwks_url(hubbub_server: ServerFactory) -> None:
    """Keys come from a JWKS endpoint (a local HTTP server standing in for the identity provider)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        server = hubbub_server(
            {
                "HUBBUB_AUTH": "jwt",
                "HUBBUB_JWT_JWKS_URL": f"http://127.0.0.1:{httpd.server_port}/jwks.json",
                "HUBBUB_JWT_ALGORITHMS": '["RS256"]',
            }
        )
        good = jwt.encode(
            {"sub": "ivan", "exp": int(time.time()) + 60}, private, "RS256", headers={"kid": "k1"}
        )
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(
            {"sub": "ivan", "exp": int(time.time()) + 60}, other, "RS256", headers={"kid": "k1"}
        )
        unknown_kid = jwt.encode(
            {"sub": "ivan", "exp": int(time.time()) + 60}, private, "RS256", headers={"kid": "k9"}
        )
        assert await outcome(server, "/api/ws", Credential(token=good), GOOD) == "ok"
        assert await outcome(server, "/api/ws", Credential(token=forged), GOOD) == "close 4401"
        assert await outcome(server, "/api/ws", Credential(token=unknown_kid), GOOD) == "close 4401"
    finally:
        httpd.shutdown()
