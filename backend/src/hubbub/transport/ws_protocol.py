"""uvicorn's websockets-sansio protocol, with its ping deadline also enforced by the kernel.

uvicorn drops a peer that misses the ping deadline with `transport.close()`, which first
flushes what is buffered. A peer that stopped reading (a frozen tab on a live device, or a
client that reads nothing on purpose) never lets that flush finish, and its TCP stack keeps
acknowledging the zero-window probes, so the socket, its buffers and the app's side of the
connection would live on indefinitely. TCP_USER_TIMEOUT makes the kernel reset a connection
whose sent data stayed unacknowledged, or whose receive window stayed shut, for that long.
Idle connections are not affected: with nothing unacknowledged the timer does not run.

A text frame that is not UTF-8 closes its connection with 1007 and one log line, within a
budget shared by every connection of the process (uvicorn logs an ERROR with a traceback for
each: 0.6 KB a connection, as fast as a client reconnects).

It also offers the app a direct way out for server-to-client text frames, the ASGI scope
extension ``hubbub.direct_writes`` (see DirectWrites): fan-out writes a frame's bytes, encoded
once, straight to the socket, instead of going through one ASGI ``send`` per connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

from hubbub.contract.close import REASONS, Close
from hubbub.logs import LineBudget

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


class WebSocketProtocol(WebSocketsSansIOProtocol):
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
        if (direct := getattr(self, "direct_writes", None)) is not None:
            direct.detach()


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
    """Write an encoded frame (transport/frames.py) to one connection's socket, now.

    ``write`` takes the frame and returns True only when the socket is open for data frames
    and its transport is below its high-water mark; otherwise it does nothing and returns
    False, and the caller sends through ASGI as before, where a full buffer waits. So a frame
    is written directly only where uvicorn's own ``send`` would have written it at once, and
    what is buffered per connection stays bounded the same way. Frames are never fragmented,
    and a connection that negotiated an extension (permessage-deflate) is never written to.

    uvicorn's websockets protocol sends frames through websockets' Sans-I/O state machine;
    writing beside it is safe because a server's data frames change none of its state: only
    ``conn.state`` (OPEN until a close is sent or received) decides whether a frame may go.
    """

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol: WebSocketsSansIOProtocol | None = protocol

    def detach(self) -> None:
        """The connection is gone: nothing more is written."""
        self._protocol = None

    def write(self, frame: bytes) -> bool:
        protocol = self._protocol
        if protocol is None:
            return False
        if protocol.conn.state is not State.OPEN or protocol.disconnected or not protocol.writable.is_set():
            return False
        protocol.transport.write(frame)
        return True
