"""Peer: the Python ceiling. The `websockets` library's own server and broadcast(), speaking the
tutorial's chat lines, with nothing else in the way (no ASGI, no framework)."""

from __future__ import annotations

import asyncio
import sys

from websockets.asyncio.server import ServerConnection, broadcast, serve

clients: set[ServerConnection] = set()


async def chat(websocket: ServerConnection) -> None:
    client_id = websocket.request.path.rsplit("/", 1)[-1] if websocket.request else "?"
    clients.add(websocket)
    try:
        async for data in websocket:
            await websocket.send(f"You wrote: {data}")
            broadcast(clients, f"Client #{client_id} says: {data}")
    finally:
        clients.discard(websocket)
        broadcast(clients, f"Client #{client_id} left the chat")


async def main(port: int) -> None:
    async with serve(chat, "127.0.0.1", port, compression=None, max_size=16 * 1024):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
