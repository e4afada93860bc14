"""The FastAPI WebSockets tutorial's three endpoints, with their exact wire text.

Clients written against the tutorial keep working; /ws/{client_id} is the default room of the
JSON chat, so its plain-text users and the web UI talk to each other.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Cookie, Query, WebSocket

from hubbub import metrics
from hubbub.auth import AuthError, Identity
from hubbub.contract import tutorial
from hubbub.contract.close import Close, Refusal
from hubbub.origin import origin_allowed
from hubbub.routes.deps import (
    check_caps,
    client_address,
    get_runtime,
    refuse,
    verify_bearer,
    websocket_identity,
)
from hubbub.runtime import Runtime
from hubbub.settings import AuthMode
from hubbub.transport.base import transport_for
from hubbub.transport.echo_session import EchoSession
from hubbub.transport.text_session import TextSession

log = logging.getLogger("hubbub.tutorial")
router = APIRouter()
# The stores keep a plain-text sender's number in a signed 64-bit column.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


async def _identity_or_refuse(websocket: WebSocket) -> Identity | None:
    """The caller; None after refusing it."""
    runtime = get_runtime(websocket)
    try:
        return await websocket_identity(websocket, runtime)
    except Refusal as refusal:
        log.info("refused %s: %d %s", websocket.url.path, refusal.code, refusal.reason)
        await refuse(websocket, refusal)
        return None


@router.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    identity = await _identity_or_refuse(websocket)
    if identity is None:
        return
    await websocket.accept()
    runtime = get_runtime(websocket)
    session = EchoSession(
        transport_for(websocket, runtime.settings.direct_writes),
        runtime.chat,
        identity,
        client_address(websocket),
        lambda data: [tutorial.echo(data)],
    )
    await session.run()


@router.websocket("/items/{item_id}/ws")
async def item_echo(
    websocket: WebSocket,
    item_id: str,
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query()] = None,
) -> None:
    runtime = get_runtime(websocket)
    credential = session or token
    try:
        if credential is None:
            raise Refusal.of(Close.POLICY_VIOLATION, "session cookie or token query parameter required")
        identity = await _item_identity(websocket, runtime, session, token, q)
    except Refusal as refusal:
        # The tutorial refuses before accepting: the client sees HTTP 403.
        log.info("refused /items/%s/ws: %s", item_id, refusal.reason)
        metrics.REFUSED.labels(str(int(Close.POLICY_VIOLATION))).inc()
        await websocket.close(Close.POLICY_VIOLATION, refusal.reason)
        return

    def answer(data: str) -> list[str]:
        lines = [tutorial.item_credential(credential)]
        if q is not None:
            lines.append(tutorial.item_query(int(q)))
        return [*lines, tutorial.item_echo(data, item_id)]

    await websocket.accept()
    transport = transport_for(websocket, runtime.settings.direct_writes)
    await EchoSession(transport, runtime.chat, identity, client_address(websocket), answer, "items").run()


async def _item_identity(
    websocket: WebSocket, runtime: Runtime, session: str | None, token: str | None, q: str | None
) -> Identity:
    """Who holds the credential; raises Refusal. In auth mode none any non-empty credential
    will do (as in the tutorial), and a session cookie that resolves names its user."""
    if runtime.shutting_down:
        raise Refusal.of(Close.POLICY_VIOLATION, "server shutting down")
    if not origin_allowed(websocket.headers, runtime.settings.allowed_origins):
        raise Refusal.of(Close.POLICY_VIOLATION, "origin not allowed")
    if q is not None and not _is_int(q):
        raise Refusal.of(Close.POLICY_VIOLATION, "query parameter q must be an integer")
    anonymous = runtime.settings.auth is AuthMode.NONE
    try:
        if session is not None:
            identity = await runtime.sessions.resolve(session)
        elif not anonymous and token is not None:
            identity = await verify_bearer(websocket, runtime, token)
        else:
            identity = Identity(user=f"guest-{secrets.token_hex(4)}")
    except AuthError as exc:
        if not anonymous:
            raise Refusal.of(Close.POLICY_VIOLATION, str(exc)) from exc
        identity = Identity(user=f"guest-{secrets.token_hex(4)}")
    try:
        check_caps(runtime, identity, client_address(websocket))
    except Refusal as refusal:
        raise Refusal.of(Close.POLICY_VIOLATION, refusal.reason) from None
    return identity


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


@router.websocket("/ws/{client_id}")
async def broadcast_chat(websocket: WebSocket, client_id: str) -> None:
    runtime = get_runtime(websocket)
    if not _is_int(client_id) or not INT64_MIN <= int(client_id) <= INT64_MAX:
        await refuse(websocket, Refusal.of(Close.POLICY_VIOLATION, "client id must be an integer (64-bit)"))
        return
    identity = await _identity_or_refuse(websocket)
    if identity is None:
        return
    number = int(client_id)
    if runtime.settings.auth is AuthMode.NONE:
        identity = Identity(tutorial.client_name(number), identity.session_id, identity.expires_at)
    await websocket.accept()
    transport = transport_for(websocket, runtime.settings.direct_writes)
    await TextSession(transport, runtime.chat, identity, client_address(websocket), number).run()
