"""The FastAPI WebSockets tutorial's three endpoints, with their exact wire text.

Clients written against the tutorial keep working; /ws/{client_id} is the default room of the
JSON chat, so its plain-text users and the web UI talk to each other.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Cookie, Query, WebSocket, WebSocketDisconnect

from hubbub import metrics
from hubbub.auth import AuthError
from hubbub.contract import tutorial
from hubbub.contract.close import Close, Refusal, reason_text
from hubbub.origin import origin_allowed
from hubbub.routes.deps import get_runtime, refuse, websocket_identity
from hubbub.settings import AuthMode
from hubbub.transport.base import StarletteTransport
from hubbub.transport.text_session import TextSession

log = logging.getLogger("hubbub.tutorial")
router = APIRouter()
# The stores keep a plain-text sender's number in a signed 64-bit column.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


async def _identity_or_refuse(websocket: WebSocket) -> tuple[str, str | None] | None:
    """(user, session id) of the caller; None after refusing it."""
    runtime = get_runtime(websocket)
    try:
        identity = await websocket_identity(websocket, runtime)
    except Refusal as refusal:
        log.info("refused %s: %d %s", websocket.url.path, refusal.code, refusal.reason)
        await refuse(websocket, refusal)
        return None
    return identity.user, identity.session_id


@router.websocket("/ws")
async def echo(websocket: WebSocket) -> None:
    if await _identity_or_refuse(websocket) is None:
        return
    await websocket.accept()
    metrics.CONNECTIONS.labels("echo").inc()
    try:
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(tutorial.echo(data))
    except WebSocketDisconnect:
        pass
    finally:
        metrics.CONNECTIONS.labels("echo").dec()


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
    reason = None
    if credential is None:
        reason = "session cookie or token query parameter required"
    elif not origin_allowed(websocket.headers, runtime.settings.allowed_origins):
        reason = "origin not allowed"
    elif q is not None and not _is_int(q):
        reason = "query parameter q must be an integer"
    elif runtime.settings.auth is not AuthMode.NONE:
        try:
            if session is not None:
                await runtime.sessions.resolve(session)
            else:
                await runtime.authenticator.verify_bearer(credential)
        except AuthError as exc:
            reason = str(exc)
    if reason is not None or credential is None:
        reason = reason or "credential required"
        # The tutorial refuses before accepting: the client sees HTTP 403.
        log.info("refused /items/%s/ws: %s", item_id, reason)
        metrics.REFUSED.labels(str(int(Close.POLICY_VIOLATION))).inc()
        await websocket.close(Close.POLICY_VIOLATION, reason_text(reason))
        return
    await websocket.accept()
    metrics.CONNECTIONS.labels("items").inc()
    try:
        while True:
            data = await websocket.receive_text()
            await websocket.send_text(tutorial.item_credential(credential))
            if q is not None:
                await websocket.send_text(tutorial.item_query(int(q)))
            await websocket.send_text(tutorial.item_echo(data, item_id))
    except WebSocketDisconnect:
        pass
    finally:
        metrics.CONNECTIONS.labels("items").dec()


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
    found = await _identity_or_refuse(websocket)
    if found is None:
        return
    user, session_id = found
    number = int(client_id)
    if runtime.settings.auth is AuthMode.NONE:
        user = tutorial.client_name(number)
    await websocket.accept()
    metrics.CONNECTIONS.labels("tutorial_chat").inc()
    try:
        await TextSession(StarletteTransport(websocket), runtime.chat, user, session_id, number).run()
    finally:
        metrics.CONNECTIONS.labels("tutorial_chat").dec()
