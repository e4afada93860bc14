"""What the endpoints share: the runtime, who is asking and from where, and how a WebSocket is
refused. Handlers take these as Annotated dependencies (``RuntimeDep``, ``ChatDep``,
``CallerDep``) rather than reaching into the app's state themselves."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket
from starlette.requests import HTTPConnection

from hubbub import metrics
from hubbub.auth import AuthError, Identity, LoginRequest
from hubbub.auth.none import name_refusal
from hubbub.auth.proxy import ProxyAuth
from hubbub.auth.sessions import COOKIE_NAME
from hubbub.chat.service import ChatService
from hubbub.contract.close import Close, Refusal
from hubbub.origin import origin_allowed
from hubbub.runtime import Runtime
from hubbub.settings import AuthMode, Settings
from hubbub.web.proxies import PEER_ADDRESS, PEER_TRUSTED


class TooManyAttemptsError(AuthError):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many failed attempts; try again in {self.retry_after} s")


def too_many(retry_after: float, what: str) -> HTTPException:
    seconds = max(1, math.ceil(retry_after))
    return HTTPException(429, f"{what}; try again in {seconds} s", headers={"Retry-After": str(seconds)})


def get_runtime(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


def get_chat(conn: HTTPConnection) -> ChatService:
    return get_runtime(conn).chat


def client_address(conn: HTTPConnection) -> str:
    """The client's IP: a trusted proxy's X-Forwarded-For, else the TCP peer's (web/proxies.py).
    Rate limits, per-address caps, login throttling and logs use it."""
    return conn.client.host if conn.client is not None else "unknown"


def peer_address(conn: HTTPConnection) -> str:
    """The TCP peer's address: the proxy's, when one forwarded the request."""
    peer = conn.scope.get(PEER_ADDRESS) or conn.scope.get("client")
    return str(peer[0]) if peer else "unknown"


def from_trusted_proxy(conn: HTTPConnection) -> bool:
    """Whether the TCP peer is one of HUBBUB_TRUSTED_PROXIES (not whatever it forwarded)."""
    return bool(conn.scope.get(PEER_TRUSTED, False))


def public_scheme_is_https(conn: HTTPConnection) -> bool:
    """https (or wss) as the browser sees it: directly, or as a trusted proxy says."""
    return conn.url.scheme in ("https", "wss")


def base_url(request: Request, settings: Settings) -> str:
    """Where browsers reach this server: HUBBUB_PUBLIC_URL, else what this request came to."""
    return settings.public_url or f"{request.url.scheme}://{request.url.netloc}"


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.query_params.get("token") or None


async def verify_bearer(conn: HTTPConnection, runtime: Runtime, token: str) -> Identity:
    """Check a token, counting a wrong one against the client's address (a token is guessed
    like a password)."""
    address = client_address(conn)
    wait = await runtime.login_throttle.wait(None, address)
    if wait:
        raise TooManyAttemptsError(wait)
    try:
        return await runtime.authenticator.verify_bearer(token)
    except AuthError:
        await runtime.login_throttle.failed(None, address)
        raise


async def identify(conn: HTTPConnection, runtime: Runtime) -> Identity | None:
    """Who is asking: an explicit token first, then the session cookie; None if neither.

    Raises AuthError when a credential was given but is not good. In auth mode proxy the
    authenticating proxy's header is the only credential (auth/proxy.py).
    """
    accounts = runtime.chat.people.accounts
    if isinstance(runtime.authenticator, ProxyAuth):
        named = runtime.authenticator.identify(
            conn.scope["headers"], from_trusted_proxy(conn), peer_address(conn)
        )
        return None if named is None else accounts.vouch(named)
    token = bearer_token(conn)
    if token is not None and runtime.settings.auth is not AuthMode.NONE:
        identity = await verify_bearer(conn, runtime, token)
    elif cookie := conn.cookies.get(COOKIE_NAME):
        identity = await runtime.sessions.resolve(cookie)
    else:
        return None
    # Deactivated users are refused; where Hubbub decides roles, the role is the database's.
    return accounts.vouch(identity)


def check_caps(runtime: Runtime, identity: Identity, address: str) -> None:
    """Raise Refusal when the user or the address already holds as many sockets as allowed."""
    settings = runtime.settings
    if runtime.chat.connections_of(identity.user) >= settings.max_connections_per_user:
        raise Refusal.of(Close.TOO_MANY_CONNECTIONS)
    if runtime.chat.connections_from(address) >= settings.max_connections_per_address:
        raise Refusal.of(Close.TOO_MANY_CONNECTIONS, "too many connections from this address")


async def websocket_identity(websocket: WebSocket, runtime: Runtime) -> Identity:
    """Origin check, authentication and caps for a WebSocket; raises Refusal with a close code."""
    if runtime.shutting_down:
        raise Refusal.of(Close.GOING_AWAY)
    if not origin_allowed(websocket.headers, runtime.settings.allowed_origins):
        raise Refusal.of(Close.FORBIDDEN_ORIGIN)
    try:
        identity = await identify(websocket, runtime)
    except TooManyAttemptsError as exc:
        raise Refusal.of(Close.TOO_MANY_CONNECTIONS, str(exc)) from exc
    except AuthError as exc:
        raise Refusal.of(Close.UNAUTHORIZED, str(exc)) from exc
    if identity is None:
        if runtime.settings.auth is not AuthMode.NONE:
            raise Refusal.of(Close.UNAUTHORIZED)
        identity = await anonymous_identity(websocket, runtime)
    check_caps(runtime, identity, client_address(websocket))
    await runtime.chat.seen(identity)
    return identity


async def anonymous_identity(websocket: WebSocket, runtime: Runtime) -> Identity:
    """Auth mode none without a session: the name in ?name= (or a guest's), so long as it does
    not pass for someone else's who is online."""
    name = websocket.query_params.get("name")
    if name is None:
        name = f"guest-{secrets.token_hex(2)}"
    try:
        identity = await runtime.authenticator.login(LoginRequest(name=name))
        identity = runtime.chat.people.accounts.vouch(identity)
    except AuthError as exc:
        raise Refusal.of(Close.UNAUTHORIZED, str(exc)) from exc
    online, bots = runtime.chat.online_users(), await runtime.chat.bots.names()
    if refusal := name_refusal(identity.user, online, bots, signing_in=False):
        raise Refusal.of(Close.UNAUTHORIZED, refusal)
    return identity


async def refuse(websocket: WebSocket, refusal: Refusal) -> None:
    """Accept, then close with the code and reason: a browser sees neither in a bare 403."""
    metrics.REFUSED.labels(str(int(refusal.code))).inc()
    await websocket.accept()
    await websocket.close(refusal.code, refusal.reason)


async def require_identity(request: Request) -> Identity | None:
    """For REST: the caller, or 401. In auth mode none, anonymous callers are welcome."""
    runtime = get_runtime(request)
    try:
        identity = await identify(request, runtime)
    except TooManyAttemptsError as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except AuthError as exc:
        raise HTTPException(401, str(exc)) from exc
    if identity is None and runtime.settings.auth is not AuthMode.NONE:
        raise HTTPException(401, "credentials required")
    if identity is not None:
        await runtime.chat.seen(identity)
    return identity


async def require_admin(request: Request) -> Identity:
    """For the admin endpoints, the one place that decides who may call them: an admin (401
    for no credential or a bad one, a deactivated user's, a bot token; 403 for anyone else)."""
    caller = await require_identity(request)
    if caller is None:
        raise HTTPException(401, "sign in first")
    if not caller.admin:
        raise HTTPException(403, "admins only")
    return caller


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
CallerDep = Annotated[Identity | None, Depends(require_identity)]
AdminDep = Annotated[Identity, Depends(require_admin)]
