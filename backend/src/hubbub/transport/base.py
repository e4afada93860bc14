"""The little a session needs of a WebSocket, and the adapter for Starlette's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.websockets import WebSocket, WebSocketState


class Transport(Protocol):
    """One accepted WebSocket. One task receives, one task sends; either may close."""

    @property
    def connected(self) -> bool:
        """True until either side has started closing."""
        ...

    async def receive_text(self, on_binary: Callable[[], None]) -> str | None:
        """The next text frame; None once the peer has gone. A binary frame in between is
        reported to ``on_binary`` (the caller may close the connection there) and skipped."""
        ...

    async def send(self, text: str) -> None:
        """Send a text frame; raises if the connection is gone."""
        ...

    async def close(self, code: int, reason: str) -> None: ...


class StarletteTransport:
    __slots__ = ("_websocket",)

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    @property
    def connected(self) -> bool:
        return self._websocket.application_state is WebSocketState.CONNECTED

    async def receive_text(self, on_binary: Callable[[], None]) -> str | None:
        while True:
            message = await self._websocket.receive()
            if message["type"] == "websocket.disconnect":
                return None
            text = message.get("text")
            if text is not None:
                return str(text)
            on_binary()

    async def send(self, text: str) -> None:
        await self._websocket.send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)
