"""The little a session needs of a WebSocket, and the adapter for Starlette's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.websockets import WebSocket, WebSocketState

from hubbub import metrics
from hubbub.transport.ws_protocol import DIRECT_WRITES, DirectWrites


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

    def write_now(self, frame: bytes) -> bool:
        """Write an encoded text frame (transport/frames.py) without waiting, if the socket
        takes it now; False when it does not (then nothing was written: use ``send``)."""
        ...

    async def close(self, code: int, reason: str) -> None: ...


class StarletteTransport:
    """Starlette's WebSocket, and the server's direct writes where it offers them (Hubbub's
    uvicorn protocol does; other ASGI servers and the TestClient send everything through ASGI)."""

    __slots__ = ("_websocket", "write_now")

    def __init__(self, websocket: WebSocket, direct_writes: bool = True) -> None:
        self._websocket = websocket
        direct: DirectWrites | None = (
            websocket.scope.get("extensions", {}).get(DIRECT_WRITES) if direct_writes else None
        )
        # The extension's own method, not one that calls it: this is called once per delivery.
        self.write_now: Callable[[bytes], bool] = _never if direct is None else direct.write
        if direct is not None:
            metrics.DIRECT_WRITE_CONNECTIONS.inc()

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


def _never(frame: bytes) -> bool:
    return False
