"""uvicorn's websockets-sansio protocol, with its ping deadline also enforced by the kernel.

uvicorn drops a peer that misses the ping deadline with `transport.close()`, which first
flushes what is buffered. A peer that stopped reading (a frozen tab on a live device, or a
client that reads nothing on purpose) never lets that flush finish, and its TCP stack keeps
acknowledging the zero-window probes, so the socket, its buffers and the app's side of the
connection would live on indefinitely. TCP_USER_TIMEOUT makes the kernel reset a connection
whose sent data stayed unacknowledged, or whose receive window stayed shut, for that long.
Idle connections are not affected: with nothing unacknowledged the timer does not run.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("hubbub.ws_protocol")


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
