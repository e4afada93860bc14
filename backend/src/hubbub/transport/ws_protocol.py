"""uvicorn's websockets-sansio protocol, with its ping deadline also enforced by the kernel, and
a way for the app to take the connection over once it is accepted.

uvicorn drops a peer that misses the ping deadline with `transport.close()`, which first
flushes what is buffered. A peer that stopped reading (a frozen tab on a live device, or a
client that reads nothing on purpose) never lets that flush finish, and its TCP stack keeps
acknowledging the zero-window probes, so the socket, its buffers and the app's side of the
connection would live on indefinitely. TCP_USER_TIMEOUT makes the kernel reset a connection
whose sent data stayed unacknowledged, or whose receive window stayed shut, for that long.
Idle connections are not affected: with nothing unacknowledged the timer does not run.

The app finds a DirectWrites in its scope (the ASGI extension ``hubbub.direct_writes``):
- fan-out writes a frame's bytes, encoded once, straight to the socket, instead of going
  through one ASGI ``send`` per connection;
- once the handshake, authentication and routing are done (in FastAPI), the app may hand the
  connection over (``hand_over``): from then on every frame goes straight to a receiver the
  app gives, and the ASGI call returns. An open connection then holds no coroutine of the
  ASGI stack (uvicorn's task, Starlette's and FastAPI's middleware and routing frames, the
  app's own receive loop) and no ASGI queue: what an idle connection costs is this protocol,
  websockets' state machine and the app's own objects.

A text frame that is not UTF-8 closes its connection with 1007 and one log line, within a
budget shared by every connection of the process (uvicorn logs an ERROR with a traceback for
each: 0.6 KB a connection, as fast as a client reconnects).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request
from websockets.protocol import State

from hubbub.contract.close import REASONS, Close
from hubbub.logs import LineBudget
from hubbub.transport.frames import text_frame

if TYPE_CHECKING:
    from hubbub.transport.base import Receiver

log = logging.getLogger("hubbub.ws_protocol")
# Lines about connections closed for invalid UTF-8, for the whole process: a few, then one a second.
BAD_TEXT_LINES = LineBudget()

DIRECT_WRITES = "hubbub.direct_writes"  # the ASGI scope extension's key


def deadline_ms(ping_interval: float | None, ping_timeout: float | None) -> int | None:
    """How long a peer may leave sent data unacknowledged: as long as it may leave a ping
    unanswered. None when pings are off (then nothing here bounds it)."""
    if not ping_interval or not ping_timeout:
        return None
    return int((ping_interval + ping_timeout) * 1000)


class _Forward:
    """Stands in for uvicorn's ASGI queue once the connection is handed over: what uvicorn
    would queue for the app's ``receive`` (a frame, the end) goes to the receiver at once."""

    __slots__ = ("receiver",)

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def put_nowait(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                self.receiver.received(text)
            else:
                self.receiver.received_binary()
        elif message["type"] == "websocket.disconnect":
            self.receiver.gone()

    def empty(self) -> bool:
        return True


class _Nobody:
    """The queue of a connection that is over: whatever uvicorn still puts there is dropped."""

    __slots__ = ()

    def put_nowait(self, message: dict[str, Any]) -> None:
        return None

    def empty(self) -> bool:
        return True


NOBODY = _Nobody()


class WebSocketProtocol(WebSocketsSansIOProtocol):
    direct_writes: DirectWrites | None = None
    handed_over = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        timeout = deadline_ms(self.ping_interval, self.ping_timeout)
        sock = transport.get_extra_info("socket")
        if timeout is None or sock is None or not hasattr(socket, "TCP_USER_TIMEOUT"):
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, timeout)
        except OSError as exc:  # not TCP (a Unix socket): nothing to bound
            log.debug("TCP_USER_TIMEOUT not set: %s", exc)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The app's task is created but has not run yet: it finds the extension in its scope.
        # Frames are encoded for no extension: a connection that negotiated one (deflate, when
        # it is on) does not get direct writes.
        if self.response.status_code == 101 and not self.conn.extensions:
            self.direct_writes = DirectWrites(self)
            self.scope["extensions"][DIRECT_WRITES] = self.direct_writes  # type: ignore[assignment]

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not self.close_sent and not _utf8(self.frames):
            self.frames = []
            if (held := BAD_TEXT_LINES.take()) is not None:
                log.info("closed a connection that sent a text frame that is not UTF-8 (1007)%s", held)
            self.conn.send_close(Close.INVALID_DATA, REASONS[Close.INVALID_DATA])
            self.handle_parser_exception()
            return
        super().send_receive_event_to_app()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # It refers to this protocol, which refers to it through the scope: a cycle that only
        # the garbage collector would break, holding the connection's buffers until it runs.
        if self.direct_writes is not None:
            self.direct_writes.detach()
        if self.handed_over:
            self.queue = NOBODY  # type: ignore[assignment]  # the receiver heard; let it go

    def hand_over(self, receiver: Receiver) -> None:
        """Frames (and the end) go to the receiver from now on; what came before the hand-over
        goes to it first, in order. What only the handshake and the ASGI call needed is let go."""
        waiting = self.queue
        self.handed_over = True
        self.queue = _Forward(receiver)  # type: ignore[assignment]
        while not waiting.empty():
            self.queue.put_nowait(waiting.get_nowait())
        # The request, the response and the scope (with its copy of the headers) are held by
        # uvicorn for the ASGI call only; this connection's ASGI call is about to return.
        del self.request, self.response, self.scope

    def resume_reading(self) -> None:
        """The receiver is ready for the next frame (uvicorn pauses reading after each)."""
        if self.read_paused and not self.disconnected:
            self.read_paused = False
            self.transport.resume_reading()

    def close_now(self, code: int, reason: str) -> None:
        """Start the closing handshake from the server side, as uvicorn's ``send`` does for a
        ``websocket.close``; the receiver hears the end at once, as an app's receive would."""
        if self.close_sent or self.transport.is_closing():
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            self.conn.send_close(code, reason)
        except InvalidState:  # the peer's close came first: the connection is ending anyway
            return
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.close)

    async def run_asgi(self) -> None:
        # uvicorn's, except that a connection handed over stays open when the call returns.
        try:
            result = await self.app(self.scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            self.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                self.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None and not self.handed_over:
            self.transport.close()


def _utf8(frames: list[bytes]) -> bool:
    """Whether a message's frames make valid UTF-8 (ASCII, the usual case, is checked at C speed)."""
    data = frames[0] if len(frames) == 1 else b"".join(frames)
    if data.isascii():
        return True
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


class DirectWrites:
    """The app's way to this connection past ASGI: a Transport (transport/base.py).

    ``write_now`` writes an encoded frame (transport/frames.py) and returns True only when the
    socket is open for data frames and its transport is below its high-water mark; otherwise
    it does nothing and returns False, and the caller sends it the way that waits (``send``:
    for room in the socket's buffer, as uvicorn's ASGI ``send`` does). So what is buffered per
    connection stays bounded the same way. Frames are never fragmented, and a connection that
    negotiated an extension (permessage-deflate) is never offered this.

    uvicorn's websockets protocol sends frames through websockets' Sans-I/O state machine;
    writing beside it is safe because a server's data frames change none of its state: only
    ``conn.state`` (OPEN until a close is sent or received) decides whether a frame may go.
    """

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketProtocol) -> None:
        self._protocol: WebSocketProtocol | None = protocol

    def detach(self) -> None:
        """The connection is gone: nothing more is written."""
        self._protocol = None

    @property
    def connected(self) -> bool:
        protocol = self._protocol
        return protocol is not None and not protocol.close_sent and not protocol.disconnected

    def hand_over(self, receiver: Receiver) -> bool:
        protocol = self._protocol
        if protocol is None:  # gone already: the receiver hears so at once
            receiver.gone()
            return True
        protocol.hand_over(receiver)
        return True

    def resume_reading(self) -> None:
        if self._protocol is not None:
            self._protocol.resume_reading()

    async def receive_text(self, on_binary: Callable[[], None]) -> str | None:
        raise RuntimeError("a connection handed over gives its frames to its receiver")

    def write_now(self, frame: bytes) -> bool:
        protocol = self._protocol
        if protocol is None:
            return False
        if protocol.conn.state is not State.OPEN or protocol.disconnected or not protocol.writable.is_set():
            return False
        protocol.transport.write(frame)
        return True

    async def send(self, text: str) -> None:
        frame = text_frame(text)
        while not self.write_now(frame):
            protocol = self._protocol
            if protocol is None or protocol.disconnected or protocol.conn.state is not State.OPEN:
                raise ClientDisconnected("the connection is closed")
            await protocol.writable.wait()

    async def close(self, code: int, reason: str) -> None:
        if self._protocol is not None:
            self._protocol.close_now(code, reason)
