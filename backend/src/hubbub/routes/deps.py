"""Request helpers shared by the endpoints: the runtime, and who is asking."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request, WebSocket
from starlette.requests import HTTPConnection

from hubbub import metrics
from hubbub.auth import AuthError, Identity, LoginRequest
from hubbub.auth.sessions import COOKIE_NAME
from hubbub.origin import origin_allowed
from hubbub.runtime import Runtime
from hubbub.settings import AuthMode

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_MANY_CONNECTIONS = 4429
CLOSE_SHUTTING_DOWN = 1001


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    code: int
    reason: str


def get_runtime(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.query_params.get("token") or None


async def identify(conn: HTTPConnection, runtime: Runtime) -> Identity | None:
    """Who is asking: an explicit token first, then the session cookie; None if neither.

    Raises AuthError when a credential was given but is not good.
    """
    token = bearer_token(conn)
    if token is not None and runtime.settings.auth is not AuthMode.NONE:
        return await runtime.authenticator.verify_bearer(token)
    cookie = conn.cookies.get(COOKIE_NAME)
    if cookie:
        return await runtime.sessions.resolve(cookie)
    return None


async def websocket_identity(websocket: WebSocket, runtime: Runtime) -> Identity:
    """Origin check and authentication for a WebSocket; raises Refusal with a close code."""
    if runtime.shutting_down:
        raise Refusal(CLOSE_SHUTTING_DOWN, "server shutting down")
    if not origin_allowed(websocket.headers, runtime.settings.allowed_origins):
        raise Refusal(CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
    try:
        identity = await identify(websocket, runtime)
    except AuthError as exc:
        raise Refusal(CLOSE_UNAUTHORIZED, str(exc)[:120]) from exc
    if identity is None:
        if runtime.settings.auth is not AuthMode.NONE:
            raise Refusal(CLOSE_UNAUTHORIZED, "credentials required: log in or pass ?token=")
        identity = await anonymous_identity(websocket, runtime)
    if runtime.chat.hub.connections_of(identity.user) >= runtime.settings.max_connections_per_user:
        raise Refusal(CLOSE_TOO_MANY_CONNECTIONS, "too many connections for this user")
    return identity


async def anonymous_identity(websocket: WebSocket, runtime: Runtime) -> Identity:
    name = websocket.query_params.get("name")
    if name is None:
        name = f"guest-{secrets.token_hex(2)}"
    try:
        return await runtime.authenticator.login(LoginRequest(name=name))
    except AuthError as exc:
        raise Refusal(CLOSE_UNAUTHORIZED, str(exc)[:120]) from exc


async def refuse(websocket: WebSocket, refusal: Refusal) -> None:
    """Accept, then close with the code and reason: a browser sees neither in a bare 403."""
    metrics.REFUSED.labels(str(refusal.code)).inc()
    await websocket.accept()
    await websocket.close(refusal.code, refusal.reason)


async def require_identity(request: Request) -> Identity | None:
    """For REST: the caller, or 401. In auth mode none, anonymous callers are welcome."""
    runtime = get_runtime(request)
    try:
        identity = await identify(request, runtime)
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    if identity is None and runtime.settings.auth is not AuthMode.NONE:
        raise HTTPException(401, "credentials required")
    return identity
