"""A real OpenID provider for the tests (panva's oidc-provider, tests/oidc/provider.mjs), and a
browser-like HTTP client that signs in through it.

The provider listens on 127.0.0.2, a loopback address of its own: to a browser it is another
site than Hubbub on 127.0.0.1 (cookies are not shared, SameSite applies as in production).
The tests make its signing keys, so they can also mint ID tokens with them that the provider
would never send (expired, for another audience) and have it send them (`next_id_token`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.services import free_port, wait_for

HERE = Path(__file__).resolve().parent / "oidc"
HOST = "127.0.0.2"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def new(cls) -> SigningKey:
        return cls(
            f"k-{uuid.uuid4().hex[:8]}", rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def private_jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private))
        jwk.pop("key_ops", None)  # PyJWT says "sign"; the provider would publish it on the public key
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str | None  # None: a public client (PKCE alone)

    def env(self, provider: OidcProvider, **more: str) -> dict[str, str]:
        """A Hubbub server's settings for signing in with this client."""
        env = {
            "HUBBUB_AUTH": "oidc",
            "HUBBUB_OIDC_ISSUER": provider.issuer,
            "HUBBUB_OIDC_CLIENT_ID": self.client_id,
            "HUBBUB_OIDC_PROVIDER_NAME": "Test ID",
        }
        if self.client_secret is not None:
            env["HUBBUB_OIDC_CLIENT_SECRET"] = self.client_secret
        return {**env, **more}


def client_metadata(redirect_uri: str, public: bool = False) -> dict[str, Any]:
    root = redirect_uri.split("/api/", 1)[0]
    return {
        "redirect_uris": [redirect_uri],
        "post_logout_redirect_uris": [f"{root}/"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none" if public else "client_secret_basic",
    }


def static_client(redirect_uri: str) -> tuple[Client, dict[str, Any]]:
    """A confidential client configured into the provider from its start (it survives a stop
    and start of the provider), and its metadata for OidcProvider(clients=[...])."""
    client = Client(f"static-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex + uuid.uuid4().hex)
    return client, {
        **client_metadata(redirect_uri),
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }


@dataclass
class OidcProvider:
    port: int = field(default_factory=lambda: free_port(HOST))
    keys: list[SigningKey] = field(default_factory=lambda: [SigningKey.new()])
    clients: list[dict[str, Any]] = field(default_factory=list)  # there from the start
    proc: subprocess.Popen[bytes] | None = None
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hubbub-oidc-")))

    @property
    def issuer(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> OidcProvider:
        node = shutil.which("node")
        if node is None or not (HERE / "node_modules" / "oidc-provider").exists():
            raise RuntimeError(
                "the test provider needs Node and `npm ci` in backend/tests/oidc (scripts/test does it)"
            )
        config = self.base / "config.json"
        config.write_text(
            json.dumps(
                {
                    "issuer": self.issuer,
                    "host": HOST,
                    "port": self.port,
                    "jwks": {"keys": [key.private_jwk() for key in self.keys]},
                    "clients": self.clients,
                }
            )
        )
        log = open(self.base / "provider.log", "ab")  # noqa: SIM115 - the process holds it
        self.proc = subprocess.Popen([node, str(HERE / "provider.mjs"), str(config)], stdout=log, stderr=log)
        wait_for(self.ready, 60, f"oidc-provider at {self.issuer} (log: {self.base / 'provider.log'})")
        return self

    def ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {self.log()}")
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        path = self.base / "provider.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def _control(self, path: str, body: dict[str, Any]) -> None:
        answer = httpx.post(f"{self.issuer}/__test/{path}", json=body, timeout=10)
        assert answer.status_code == 204, answer.text

    def register_client(self, redirect_uri: str, public: bool = False) -> Client:
        """A client of its own (dynamic client registration), as an operator would set one up."""
        answer = httpx.post(f"{self.issuer}/reg", json=client_metadata(redirect_uri, public), timeout=10)
        assert answer.status_code == 201, answer.text
        made = answer.json()
        return Client(made["client_id"], None if public else made["client_secret"])

    def add_account(self, account: str, **claims: object) -> str:
        self._control("accounts", {"id": account, "claims": claims})
        return account

    def rotate(self, keys: list[SigningKey]) -> None:
        """The provider's keys become these; it signs with the first."""
        self.keys = keys
        self._control("keys", {"keys": [key.private_jwk() for key in keys]})

    def next_id_token(self, token: str) -> None:
        """The next token response carries this ID token instead of the provider's own."""
        self._control("next-id-token", {"id_token": token})

    def mint(self, claims: dict[str, Any], key: SigningKey | None = None, **headers: Any) -> str:
        """An ID token signed with one of the provider's keys (by default its signing key)."""
        key = key or self.keys[0]
        return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid, **headers})


class Browser:
    """An HTTP client that goes through a sign-in as a browser would: it keeps cookies, follows
    redirects one by one (so a test can stop at any of them), and fills the provider's login
    and consent pages."""

    def __init__(self, hubbub_url: str) -> None:
        self.hubbub_url = hubbub_url
        self.http = httpx.Client(follow_redirects=False, timeout=15)

    def close(self) -> None:
        self.http.close()

    def start(self, next_path: str | None = None) -> str:
        """Hubbub's login: the provider's authorization URL it sends the browser to."""
        params = {"next": next_path} if next_path is not None else {}
        answer = self.http.get(f"{self.hubbub_url}/api/auth/oidc/login", params=params)
        assert answer.status_code == 303, (answer.status_code, answer.text)
        return answer.headers["location"]

    def authorize(self, url: str, account: str, consent: bool = True) -> str:
        """Through the provider's pages to the redirect back to Hubbub: its URL."""
        for _ in range(20):
            if url.startswith(self.hubbub_url):
                return url
            answer = self.http.get(url)
            if answer.status_code in (302, 303):
                url = urljoin(url, answer.headers["location"])
                continue
            assert answer.status_code == 200, (answer.status_code, answer.text[:500])
            url = self._submit(url, answer.text, account, consent)
        raise AssertionError("the provider never sent the browser back")

    def _submit(self, url: str, page: str, account: str, consent: bool) -> str:
        prompt = re.search(r'name="prompt" value="(\w+)"', page)
        assert prompt is not None, page[:1000]
        if prompt.group(1) == "consent" and not consent:
            abort = re.search(r'href="([^"]*/abort)"', page)
            assert abort is not None, page[:1000]
            return urljoin(url, unescape(abort.group(1)))
        action = re.search(r'<form[^>]*action="([^"]+)"', page)
        assert action is not None, page[:1000]
        form = {"prompt": prompt.group(1)}
        if prompt.group(1) == "login":
            form |= {"login": account, "password": "any password"}
        answer = self.http.post(urljoin(url, unescape(action.group(1))), data=form)
        assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
        return urljoin(url, answer.headers["location"])

    def finish(self, callback_url: str) -> httpx.Response:
        """Hubbub's callback: its answer (a redirect into the app)."""
        return self.http.get(callback_url)

    def sign_in(self, account: str, next_path: str | None = None) -> httpx.Response:
        return self.finish(self.authorize(self.start(next_path), account))

    def session(self) -> str | None:
        return self.http.cookies.get("session", domain="127.0.0.1")


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def wait_until_gone(url: str, timeout: float = 20) -> None:
    def gone() -> bool:
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            return True
        return False

    deadline = time.monotonic() + timeout
    while not gone():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} still answers")
        time.sleep(0.05)
