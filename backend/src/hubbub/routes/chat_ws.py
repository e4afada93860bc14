"""The JSON chat protocol endpoint the web UI uses."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket

from hubbub import metrics
from hubbub.contract.close import Refusal
from hubbub.routes.deps import client_address, get_runtime, refuse, websocket_identity
from hubbub.transport.base import StarletteTransport
from hubbub.transport.json_session import JsonSession

log = logging.getLogger("hubbub.chat_ws")
router = APIRouter()


@router.websocket("/api/ws")
async def chat_socket(websocket: WebSocket) -> None:
    runtime = get_runtime(websocket)
    try:
        identity = await websocket_identity(websocket, runtime)
    except Refusal as refusal:
        log.info("refused /api/ws: %d %s", refusal.code, refusal.reason)
        await refuse(websocket, refusal)
        return
    await websocket.accept()
    metrics.CONNECTIONS.labels("chat").inc()
    try:
        transport = StarletteTransport(websocket, runtime.settings.direct_writes)
        session = JsonSession(transport, runtime.chat, identity, client_address(websocket))
        await session.run()
    finally:
        metrics.CONNECTIONS.labels("chat").dec()
