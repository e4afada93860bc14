"""The little a session needs of a WebSocket, and its two kinds: Starlette's (every frame in
and out through ASGI) and the one Hubbub's uvicorn protocol hands over after the handshake
(transport/ws_protocol.py), which frames go to without any ASGI call waiting on the socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from starlette.websockets import WebSocket, WebSocketState

from hubbub import metrics
from hubbub.transport.ws_protocol import DIRECT_WRITES, DirectWrites


class Receiver(Protocol):
    """Where a transport that pushes frames puts them (transport/connection.py)."""

    def received(self, text: str) -> None:
        """A text frame. The transport reads nothing more until ``resume_reading``."""
        ...

    def received_binary(self) -> None: ...

    def gone(self) -> None:
        """The connection is over: the peer closed it or went, or the server closed it."""
        ...


class Transport(Protocol):
    """One accepted WebSocket. One task receives (or the transport pushes), one task sends;
    either may close."""

    @property
    def connected(self) -> bool:
        """True until either side has started closing."""
        ...

    def hand_over(self, receiver: Receiver) -> bool:
        """From now on, give every frame to the receiver as it comes, and say when the
        connection ends; True when the transport does (then nobody calls receive_text, and
        the ASGI call that accepted the socket may return). False: call receive_text."""
        ...

    def resume_reading(self) -> None:
        """The receiver is ready for the next frame (a transport that pushes pauses after each)."""
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


def transport_for(websocket: WebSocket, direct_writes: bool = True) -> Transport:
    """The protocol's own transport where the server offers it (Hubbub's uvicorn protocol)
    and HUBBUB_DIRECT_WRITES is on; otherwise Starlette's (other ASGI servers, the
    TestClient, or direct writes off)."""
    direct: DirectWrites | None = websocket.scope.get("extensions", {}).get(DIRECT_WRITES)
    if direct is not None and direct_writes:
        metrics.DIRECT_WRITE_CONNECTIONS.inc()
        return direct
    return StarletteTransport(websocket)


class StarletteTransport:
    """Starlette's WebSocket: every frame through ASGI ``receive`` and ``send``."""

    __slots__ = ("_websocket",)

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    @property
    def connected(self) -> bool:
        return self._websocket.application_state is WebSocketState.CONNECTED

    def hand_over(self, receiver: Receiver) -> bool:
        return False

    def resume_reading(self) -> None:
        return None

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

    def write_now(self, frame: bytes) -> bool:
        return False

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)
