"""The security headers every HTTP answer carries, whatever produced it (a route, the UI's
files, an error, a refusal, and the HTTP answer that refuses a WebSocket handshake): the app is
wrapped in this before anything else."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubbub.settings import Settings
from hubbub.web.csp import policy, websocket_source

# Features a chat has no use for; a page of ours that asks for one is refused by the browser.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)
FIXED = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-frame-options", "DENY"),  # frame-ancestors' predecessor, for older browsers
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings, allowed_host: Callable[[str], bool]) -> None:
        self.app = app
        self._extra = settings.csp_extra
        self._hsts = settings.hsts_max_age_seconds
        self._allowed_host = allowed_host

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own for what passes through untouched: a WebSocket lives for
        # hours, and every layer that awaits it would keep a frame per socket all that time.
        if scope["type"] == "websocket":
            return self.app(scope, receive, HandshakeAnswers(scope, send, self.add_headers))
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    def add_headers(self, scope: Scope, message: Message) -> None:
        """Put the headers into an answer's start message."""
        secure = scope.get("scheme") == "https"
        headers = MutableHeaders(scope=message)
        for name, value in FIXED:
            headers[name] = value
        # A page that set its own policy (the API docs) keeps it. The WebSocket source is the
        # page's host when that is an allowed one (a refusal of another names none).
        host = Headers(scope=scope).get("host", "")
        source = websocket_source(host) if self._allowed_host(host) else None
        headers.setdefault("content-security-policy", policy(source, secure, self._extra))
        if secure and self._hsts:
            headers["strict-transport-security"] = f"max-age={self._hsts}"
        if scope["path"].startswith("/api/"):
            # Answers about a user's rooms and messages are not for shared caches or the back
            # button of the next person at this computer.
            headers.setdefault("cache-control", "no-store")
        if "server" in headers:
            del headers["server"]

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.add_headers(scope, message)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HandshakeAnswers:
    """A WebSocket's send. An HTTP answer refusing the handshake gets the security headers like
    any other: one the app sends (a 400), and the 403 a close before accepting makes, which is
    sent here as that 403 with the reason (uvicorn's own has no headers at all). Once the
    socket is accepted, frames pass straight through: a call returns the inner send's awaitable,
    no coroutine of its own."""

    __slots__ = ("_add_headers", "_open", "_scope", "_send")

    def __init__(self, scope: Scope, send: Send, add_headers: Callable[[Scope, Message], None]) -> None:
        self._scope = scope
        self._send = send
        self._add_headers = add_headers
        self._open = False

    def __call__(self, message: Message) -> Awaitable[None]:
        kind = message["type"]
        if kind == "websocket.http.response.start":
            self._add_headers(self._scope, message)
        elif kind == "websocket.close" and not self._open and self._can_answer():
            return self._forbidden(str(message.get("reason") or "forbidden"))
        elif kind == "websocket.accept":
            self._open = True
        return self._send(message)

    def _can_answer(self) -> bool:
        return "websocket.http.response" in self._scope.get("extensions", {})

    async def _forbidden(self, reason: str) -> None:
        body = json.dumps({"detail": reason}).encode()
        start: Message = {
            "type": "websocket.http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
        self._add_headers(self._scope, start)
        await self._send(start)
        await self._send({"type": "websocket.http.response.body", "body": body})
