"""Clients that connect, join, and then never read again.

They are plain sockets with a 4 KiB receive buffer fixed before connecting: the kernel cannot
grow it (loopback would otherwise autotune it to tens of MB and hide the stall), so the server
meets a full socket after a few frames, like a phone that went into a tunnel.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
from collections.abc import Iterator
from urllib.parse import urlsplit

RECEIVE_BUFFER = 4096


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked


def _read_until(sock: socket.socket, marker: bytes, data: bytes = b"") -> bytes:
    """Read until `marker` is in what was read (starting from `data`); returns all of it."""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before {marker!r}: {data[:200]!r}")
        data += chunk
    return data


def _open(url: str, path: str, proto: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.settimeout(10)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    reply = _read_until(sock, b"\r\n\r\n")
    if b" 101 " not in reply.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"handshake refused: {reply[:200]!r}")
    if proto == "json":
        _read_until(sock, b'"hello"', reply.split(b"\r\n\r\n", 1)[1])
        sock.sendall(_masked_text_frame(json.dumps({"type": "join", "room": "general", "after": 10**12})))
        _read_until(sock, b'"joined"')
    return sock


@contextlib.contextmanager
def stalled_clients(url: str, proto: str, count: int) -> Iterator[list[socket.socket]]:
    """`count` connections that stop reading once joined; closed (reset) on exit."""
    paths = {"text": lambda i: f"/ws/{900_000 + i}", "json": lambda i: f"/api/ws?name=stalled{i}"}
    if count and proto not in paths:
        raise ValueError(f"no stalled clients for protocol {proto!r}")
    sockets: list[socket.socket] = []
    try:
        for i in range(count):
            sockets.append(_open(url, paths[proto](i), proto))
        yield sockets
    finally:
        for sock in sockets:
            # SO_LINGER 0: reset, do not wait to flush to a server that may be blocked on us.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
