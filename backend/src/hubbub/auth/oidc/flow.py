"""A sign-in under way, between Hubbub's login redirect and the provider's answer: its state,
nonce and PKCE verifier, the redirect URI it used, and where the user goes afterwards.

It is kept in the browser that started it, in a cookie of its own (one per sign-in, so two
tabs signing in at once do not undo each other), signed with the server's secret key, sent
only to the callback (its Path), HttpOnly, SameSite=Lax (sent on the provider's redirect
back, a top-level GET), good for FLOW_SECONDS. Nothing is kept on the server until the
provider answers: a stream of unauthenticated logins fills nothing. The callback then records
the state as used (Store.use_sign_in_state), so a sign-in comes back once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

FLOW_SECONDS = 600.0
COOKIE_PREFIX = "hubbub_oidc_"
CALLBACK_PATH = "/api/auth/oidc/callback"
MAX_STATE_CHARS = 256
MAX_NEXT_CHARS = 1024


class FlowError(Exception):
    """No sign-in of this browser matches the provider's answer; the message says why (for the
    log: the user hears only that the sign-in is no longer valid)."""


@dataclass(frozen=True, slots=True)
class Flow:
    state: str
    nonce: str
    verifier: str  # PKCE (RFC 7636): the provider gets only its S256 hash until the code is redeemed
    redirect_uri: str
    next: str  # a path of this server's, where the user lands once signed in
    started_at: float  # seconds since the epoch

    @property
    def cookie(self) -> str:
        return cookie_name(self.state)

    @property
    def state_digest(self) -> str:
        return hashlib.sha256(self.state.encode()).hexdigest()


def cookie_name(state: str) -> str:
    return COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def safe_next(value: str | None) -> str:
    """A path on this server to land on after signing in, or "/": never another site (an open
    redirect would lend the sign-in's trust to wherever an attacker's link points)."""
    if not value or len(value) > MAX_NEXT_CHARS:
        return "/"
    # Printable ASCII only: browsers drop tabs and newlines from URLs ("/\t/evil.example" is
    # "//evil.example" to them) and read a backslash as a slash.
    if not all("!" <= char <= "~" for char in value) or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    if parts.path.startswith("/api/"):
        return "/"  # the app's pages only: not an endpoint (a JSON answer, or a sign-in loop)
    return value


class Flows:
    def __init__(self, secret_key: str, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="hubbub-oidc-flow")
        self._clock = clock

    def start(self, redirect_uri: str, next_path: str | None) -> Flow:
        return Flow(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 asks 43 to 128
            redirect_uri=redirect_uri,
            next=safe_next(next_path),
            started_at=self._clock(),
        )

    def seal(self, flow: Flow) -> str:
        return self._serializer.dumps(asdict(flow))

    def open(self, state: str | None, cookies: Mapping[str, str]) -> Flow:
        """The sign-in this browser started with that state; raises FlowError."""
        if not state:
            raise FlowError("the provider's answer has no state")
        if len(state) > MAX_STATE_CHARS:
            raise FlowError("the state is too long to be one of ours")
        sealed = cookies.get(cookie_name(state))
        if sealed is None:
            raise FlowError("no sign-in with this state was started in this browser (or it expired)")
        try:
            fields = self._serializer.loads(sealed)
            flow = Flow(**fields)
        except (BadSignature, TypeError) as exc:
            raise FlowError("the sign-in cookie is forged or from another server") from exc
        if not hmac.compare_digest(flow.state.encode(), state.encode()):
            raise FlowError("the state does not match this browser's sign-in")
        if not 0 <= self._clock() - flow.started_at <= FLOW_SECONDS:
            raise FlowError(f"the sign-in took longer than {FLOW_SECONDS:.0f} s")
        return flow
