"""Auth mode proxy: an authenticating proxy in front (oauth2-proxy, Authelia, Caddy's
forward_auth, ...) signs people in and names the user in a header, Remote-User by default.

Anyone can send that header, so it is believed only when the request's TCP peer is one of
HUBBUB_TRUSTED_PROXIES (web/proxies.py records whether it is); from any other address it is
ignored and the request is unauthenticated, HTTP and WebSocket alike. A request that carries the
header more than once is refused rather than read: a proxy that appends its header to one the
client sent would otherwise let the client choose which one counts. The header is the credential
of every request, so there is no session to open (POST /api/login is refused) and signing out
is the proxy's business (HUBBUB_PROXY_LOGOUT_URL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from hubbub.auth.base import AuthError, Identity, LoginRequest, check_display_name
from hubbub.logs import LineBudget
from hubbub.settings import AuthMode

log = logging.getLogger("hubbub.auth")
MAX_HEADER_BYTES = 256  # a user name is at most 32 characters: a longer value is not one
CREDENTIAL = "proxy"  # what a proxy identity was made from: the header, on every request


class ProxyAuth:
    mode = AuthMode.PROXY

    def __init__(self, header: str) -> None:
        self.header = header
        self._name = header.lower().encode("latin-1")
        self._ignored_log = LineBudget()

    def identify(
        self, headers: Iterable[tuple[bytes, bytes]], peer_trusted: bool, peer: str
    ) -> Identity | None:
        """The user the proxy names in the request's raw ASGI headers; None when the request is
        not authenticated (no header, or a peer that is not a trusted proxy). Raises AuthError
        when a trusted proxy's header cannot be used (twice, not UTF-8, not a valid name)."""
        values = [value for name, value in headers if name.lower() == self._name]
        if not values:
            return None
        if not peer_trusted:
            if (held := self._ignored_log.take()) is not None:
                log.warning(
                    "ignored %s from %s: not one of HUBBUB_TRUSTED_PROXIES%s", self.header, peer, held
                )
            return None
        if len(values) > 1:
            log.warning("refused a request from %s: %s given %d times", peer, self.header, len(values))
            raise AuthError(f"the proxy sent {self.header} more than once: refused")
        raw = values[0]
        if len(raw) > MAX_HEADER_BYTES:
            raise AuthError(f"{self.header} is too long to be a user name")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthError(f"{self.header} is not UTF-8") from None
        return Identity(user=check_display_name(name), credential=CREDENTIAL)

    async def login(self, request: LoginRequest) -> Identity:
        raise AuthError("auth mode proxy: sign in through the authenticating proxy in front of Hubbub")

    async def verify_bearer(self, credential: str) -> Identity:
        raise AuthError("auth mode proxy takes no tokens: the authenticating proxy names the user")

    def is_current(self, identity: Identity) -> bool:
        return True

    def reload(self) -> bool:
        return False

    def configured_users(self) -> list[str]:
        return []
