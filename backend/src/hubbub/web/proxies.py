"""Who is really asking. Behind a reverse proxy the TCP peer is the proxy: the client's address
and the public scheme come in its X-Forwarded-For and X-Forwarded-Proto, which anyone else can
write too. So they are believed only from the peers in HUBBUB_TRUSTED_PROXIES, for HTTP and
WebSocket alike, and whether the peer was one of them is kept in the scope (auth mode proxy
believes its user header on the same condition: routes/deps.py, ``from_trusted_proxy``).

The headers are read by uvicorn's own ProxyHeadersMiddleware, not by a parser of ours: it takes
the last address in X-Forwarded-For that is not a trusted proxy, and only http/https/ws/wss as a
scheme. It runs here, inside the app, rather than in uvicorn's server (``--proxy-headers``),
because that would leave the app no way to tell a proxied request from a direct one: it
rewrites ``client`` before the app sees it. Everything downstream (rate limits, caps, login
throttling, logs, uvicorn's access log, which reads the same scope) sees the real client.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

PEER_TRUSTED = "hubbub.peer_trusted"  # the scope's key: the TCP peer is a trusted proxy
PEER_ADDRESS = "hubbub.peer"  # the scope's key: the TCP peer, before a proxy's headers replaced it


async def _rewritten(scope: Scope, receive: Receive, send: Send) -> None:
    """ProxyHeadersMiddleware's inner app: the rewritten scope is all that is wanted of it."""


class ForwardedHeaders:
    def __init__(self, app: ASGIApp, trusted_proxies: list[str]) -> None:
        self.app = app
        self._rewrite = (
            ProxyHeadersMiddleware(_rewritten, trusted_proxies)  # type: ignore[arg-type]
            if trusted_proxies
            else None
        )

    def trusts(self, peer: str | None) -> bool:
        return self._rewrite is not None and peer is not None and peer in self._rewrite.trusted_hosts

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # The app's own coroutine is returned, not awaited here: no frame of this layer stays
        # behind for the hours a WebSocket may live.
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            trusted = self.trusts(client[0] if client else None)
            scope[PEER_TRUSTED] = trusted
            if trusted:
                scope[PEER_ADDRESS] = client
                self._apply(scope, receive, send)
        return self.app(scope, receive, send)

    def _apply(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run uvicorn's middleware on the scope, in place. It awaits nothing but its inner app,
        which returns at once, so the coroutine finishes on its first step."""
        assert self._rewrite is not None
        step = self._rewrite(scope, receive, send)  # type: ignore[arg-type]
        try:
            step.send(None)
        except StopIteration:
            return
        step.close()
        raise RuntimeError("uvicorn's ProxyHeadersMiddleware suspended: this uvicorn is not one Hubbub knows")
