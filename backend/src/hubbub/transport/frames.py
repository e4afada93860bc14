"""Server-to-client WebSocket text frames as bytes on the wire (RFC 6455, section 5.2).

A frame a server sends is unmasked, and with permessage-deflate off its bytes depend on the
text alone: one encoding serves every connection it goes to, as websockets.broadcast() does.
"""

from __future__ import annotations

import struct

from hubbub.chat.hub import RoomEvent

_TEXT_FIN = 0x81  # FIN, opcode 1 (text)


def text_frame(text: str) -> bytes:
    """The whole frame for ``text``: header (with the shortest length encoding) and payload."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        return bytes((_TEXT_FIN, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", _TEXT_FIN, 126, n) + payload
    return struct.pack("!BBQ", _TEXT_FIN, 127, n) + payload


def event_frame(event: RoomEvent) -> bytes:
    """The event's JSON frame on the wire, encoded by the first connection that needs it."""
    wire = event.frame_wire
    if wire is None:
        assert event.frame is not None
        wire = event.frame_wire = text_frame(event.frame)
    return wire


def event_line(event: RoomEvent, text: str) -> bytes:
    """The event's plain-text line on the wire, encoded by the first connection that needs it."""
    wire = event.text_wire
    if wire is None:
        wire = event.text_wire = text_frame(text)
    return wire
