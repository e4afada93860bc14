"""Peer: python-socketio on uvicorn, broadcasting each "chat" event to every client."""

import socketio

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"], http_compression=False)
app = socketio.ASGIApp(sio)


@sio.on("chat")
async def chat(sid: str, data: str) -> None:
    await sio.emit("chat", data)
