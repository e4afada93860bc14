"""Answer only for the host names this server is meant to have: a DNS-rebinding page (a name
the attacker controls, pointed at 127.0.0.1) sends its own name as Host, and is refused.

IP addresses are always allowed: no DNS is involved, so nothing can be rebound. So are
localhost and *.localhost, and the hosts of HUBBUB_ALLOWED_ORIGINS. A public name is added
with HUBBUB_ALLOWED_HOSTS.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from hubbub.contract.close import Close
from hubbub.settings import Settings

log = logging.getLogger("hubbub.web")

ALWAYS = ("localhost", "*.localhost")


def host_name(header: str) -> str:
    """The name in a Host header, without its port: 'example.com:8000' -> 'example.com'."""
    if header.startswith("["):  # [::1]:8000
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class AllowedHosts:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        origins = [urlsplit(origin).hostname or "" for origin in settings.allowed_origins]
        self._patterns = {p.lower() for p in (*ALWAYS, *settings.allowed_hosts, *origins) if p}

    def allowed(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header).lower().rstrip(".")
        if "*" in self._patterns or name in self._patterns:
            return True
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            pass
        return any(p.startswith("*.") and name.endswith(p[1:]) for p in self._patterns)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # The app's own coroutine when the host is fine: no frame of this layer stays behind
        # for the hours a WebSocket may live.
        if scope["type"] not in ("http", "websocket") or self.allowed(Headers(scope=scope).get("host")):
            return self.app(scope, receive, send)
        return self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        host = Headers(scope=scope).get("host")
        log.warning("refused a request for host %.100r: not in HUBBUB_ALLOWED_HOSTS", host)
        body = json.dumps({"detail": "unknown host: add it to HUBBUB_ALLOWED_HOSTS"}).encode()
        start = "http.response.start" if scope["type"] == "http" else "websocket.http.response.start"
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": Close.POLICY_VIOLATION, "reason": "unknown host"})
            return
        prefix = "" if scope["type"] == "http" else "websocket."
        await send(
            {
                "type": start,
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": f"{prefix}http.response.body", "body": body})
