"""The JSON chat protocol endpoint the web UI uses."""

from __future__ import annotations

import logging

from fastapi import APIRouter, WebSocket

from hubbub.contract.close import Refusal
from hubbub.routes.deps import client_address, get_runtime, refuse, websocket_identity
from hubbub.transport.base import transport_for
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
    transport = transport_for(websocket, runtime.settings.direct_writes)
    # Until the connection ends, or (Hubbub's uvicorn protocol) until the session has started:
    # then the protocol gives it its frames, and this call returns (transport/ws_protocol.py).
    await JsonSession(transport, runtime.chat, identity, client_address(websocket)).run()
