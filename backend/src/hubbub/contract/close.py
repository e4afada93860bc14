"""How a WebSocket ends: every close code the server sends, with what it means."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Close(IntEnum):
    """Close codes. 1xxx are RFC 6455's; 44xx mirror the HTTP status they stand for."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down: reconnect with backoff
    UNSUPPORTED_DATA = 1003  # a binary frame on a text-only endpoint
    INVALID_DATA = 1007  # a text frame that is not UTF-8
    POLICY_VIOLATION = 1008  # a tutorial endpoint refused the request, or a plain-text line
    MESSAGE_TOO_BIG = 1009  # a frame over HUBBUB_MAX_MESSAGE_BYTES
    INTERNAL_ERROR = 1011  # the server failed; reconnect and resume
    SERVICE_RESTART = 1012  # the server is restarting: reconnect and resume
    UNAUTHORIZED = 4401  # credentials missing, invalid, expired, or the session ended
    FORBIDDEN_ORIGIN = 4403  # the browser's Origin is not allowed
    SLOW_CONSUMER = 4408  # the send queue overflowed: reconnect and resume
    TOO_MANY_CONNECTIONS = 4429  # over HUBBUB_MAX_CONNECTIONS_PER_USER


# After these, reconnecting cannot help: the user or the operator has to act first.
TERMINAL = frozenset(
    {Close.UNSUPPORTED_DATA, Close.UNAUTHORIZED, Close.FORBIDDEN_ORIGIN, Close.TOO_MANY_CONNECTIONS}
)

# Reasons the server gives when nothing more specific applies (a reason is at most 123 bytes).
REASONS: dict[Close, str] = {
    Close.GOING_AWAY: "server shutting down",
    Close.UNSUPPORTED_DATA: "binary frames are not supported",
    Close.INVALID_DATA: "text frames must be UTF-8",
    Close.INTERNAL_ERROR: "internal error, reconnect to resume",
    Close.UNAUTHORIZED: "credentials required: log in or pass ?token=",
    Close.FORBIDDEN_ORIGIN: "origin not allowed",
    Close.SLOW_CONSUMER: "too slow: send queue full, reconnect to resume",
    Close.TOO_MANY_CONNECTIONS: "too many connections for this user",
}

MAX_REASON_BYTES = 123


def reason_text(text: str) -> str:
    """A close reason cut to what a close frame can carry, on a character boundary."""
    data = text.encode()
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[:MAX_REASON_BYTES].decode(errors="ignore")


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    """A connection the server will not serve, and the close it gets."""

    code: Close
    reason: str

    @classmethod
    def of(cls, code: Close, reason: str | None = None) -> Refusal:
        return cls(code, reason_text(reason if reason is not None else REASONS[code]))
