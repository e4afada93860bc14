"""Bounds on what an HTTP request may be (the size of its body, where a state-changing one may
come from, and no NUL in its path or query), and HEAD answered as GET."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubbub.contract.text import NUL_REFUSED
from hubbub.origin import origin_allowed

log = logging.getLogger("hubbub.web")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class NoNulInUrl:
    """A path or query with a NUL in it (``%00``) is refused with 400 before any route sees it
    (contract/text.py): a path parameter or a query value would take it to the store. WebSockets
    too, before the handshake."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] in ("http", "websocket") and (
            "\x00" in scope["path"] or b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]
        ):
            log.info("refused a %s request with a NUL in its path or query", scope["type"])
            return _refuse_any(scope, send, 400, NUL_REFUSED)
        return self.app(scope, receive, send)


async def _refuse_any(scope: Scope, send: Send, status: int, detail: str) -> None:
    """An HTTP answer to an HTTP request or to a WebSocket handshake (where the server can send
    one: else the handshake is refused with uvicorn's bare 403)."""
    if scope["type"] == "http":
        await _refuse(send, status, detail)
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008, "reason": detail})
        return
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})


# The one route whose bodies may be larger: an upload (its own limit, HUBBUB_MAX_UPLOAD_BYTES,
# is the route's to enforce; this layer allows the file, plus the form around it).
UPLOAD_PATH = re.compile(r"/api/rooms/[^/]+/files")
FORM_OVERHEAD = 64 * 1024


class BodyLimit:
    """A body over the limit is refused with 413: at once when Content-Length says so, else as
    soon as the bytes received pass it. Nothing larger is ever held in memory. The limit is
    ``max_bytes`` for every request but an upload (POST to UPLOAD_PATH): ``upload_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # WebSockets pass straight through, leaving no frame of this layer behind.
        return self.app(scope, receive, send) if scope["type"] != "http" else self._http(scope, receive, send)

    def limit_of(self, scope: Scope) -> int:
        if (
            self.upload_bytes is not None
            and scope["method"] == "POST"
            and UPLOAD_PATH.fullmatch(scope["path"])
        ):
            return self.upload_bytes
        return self.max_bytes

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_of(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            status = 413 if declared.isdigit() else 400
            await _refuse(send, status, f"request body larger than {limit} bytes")
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counted, send)


class SameOriginWrites:
    """A state-changing request (POST, PUT, PATCH, DELETE) from a browser must come from the
    app's own origin (or one of HUBBUB_ALLOWED_ORIGINS), as a WebSocket must: a page elsewhere
    cannot log a visitor out, or in, or act in their name with their cookie. Clients that are
    not browsers send no Origin and are not affected."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.app = app
        self.allowed_origins = allowed_origins

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Headers(scope=scope)
            if "origin" in headers:
                refused = not origin_allowed(headers, self.allowed_origins)
            else:  # a browser that omits Origin still says where the request comes from
                refused = headers.get("sec-fetch-site") == "cross-site"
            if refused:
                log.warning("refused a cross-origin %s %s", scope["method"], scope["path"])
                return _refuse(send, 403, "cross-origin request refused")
        return self.app(scope, receive, send)


class HeadAsGet:
    """HEAD is answered as GET would be, without the body (RFC 9110, 9.3.2): monitoring and
    link checkers send it, and FastAPI's routes answer only the methods they name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return self.app(scope, receive, send)

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        return self.app({**scope, "method": "GET"}, receive, headers_only)
