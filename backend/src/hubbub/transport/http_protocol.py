"""uvicorn's HTTP protocol (httptools), with a deadline for each request head.

uvicorn times out a keep-alive connection between requests, but not one that is still sending
its request head: a client that opens a connection and sends nothing, or half a header and
then nothing (slowloris), holds a socket for as long as it likes. Here every connection has
HUBBUB_HANDSHAKE_TIMEOUT_SECONDS from its first byte (or from the start of each later request
on the connection) to the end of its head; WebSocket handshakes are request heads too.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from hubbub.settings import Settings

log = logging.getLogger("hubbub.http")


@functools.cache
def head_timeout() -> float:
    """From the environment, once per process (uvicorn makes a protocol per connection)."""
    return Settings().handshake_timeout_seconds


class HttpProtocol(HttpToolsProtocol):
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_deadline()

    def on_headers_complete(self) -> None:
        self._stop_head_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        self._stop_head_deadline()
        self._head_deadline = self.loop.call_later(head_timeout(), self._head_too_slow)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            log.info("closing a connection that sent no complete request head in %.0f s", head_timeout())
            self.transport.close()
