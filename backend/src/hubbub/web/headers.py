"""The security headers every HTTP answer carries, whatever produced it (a route, the UI's
files, an error, a refusal): the app is wrapped in this before anything else."""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubbub.settings import Settings
from hubbub.web.csp import policy

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
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._extra = settings.csp_extra
        self._hsts = settings.hsts_max_age_seconds

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own for what passes through untouched: a WebSocket lives for
        # hours, and every layer that awaits it would keep a frame per socket all that time.
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope.get("scheme") == "https"
        host = Headers(scope=scope).get("host", "")
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FIXED:
                    headers[name] = value
                # A page that set its own policy (the API docs) keeps it.
                headers.setdefault("content-security-policy", policy(host, secure, self._extra))
                if secure and self._hsts:
                    headers["strict-transport-security"] = f"max-age={self._hsts}"
                if api:
                    # Answers about a user's rooms and messages are not for shared caches or
                    # the back button of the next person at this computer.
                    headers.setdefault("cache-control", "no-store")
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
