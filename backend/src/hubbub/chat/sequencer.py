"""Per-room cursors of one connection, and the decision each incoming message gets.

This is where "in order, exactly once, without gaps" is decided, with no I/O: the connection
asks, then does what it is told (send the frame, drop it, or first fill a gap from the store).

Messages reach a connection out of order (workers publish concurrently), twice (a live
message and the catch-up that already sent it), or not at all (a broker drops what is
published while it restarts). The cursor is the seq of the last message sent on this
connection for the room; the store has every message, so anything missing below a newer one
is read from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    SEND = "send"  # the next message: send it, then advance
    DROP = "drop"  # not joined, or already sent


@dataclass(frozen=True, slots=True)
class Fill:
    """Read the room's messages after ``after`` (up to ``upto``, or all when None) from the
    store and send them before anything newer."""

    room: str
    after: int
    upto: int | None


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Queued for a connection: send what the store has past the room's cursor, as the cursor
    stands when the writer gets to it (after a join, or when live messages may be lost).
    ``check``: first make sure the user may still read the room (a lost live event may have
    been their removal). ``head``: the room's head as a join read it; the messages up to it
    and the changes to them go before anything newer."""

    room: str
    check: bool = False
    head: int | None = None


def start_cursor(head: int, after: int | None, page_size: int, resume_max: int) -> tuple[int, bool]:
    """Where a join starts sending from: the last ``page_size`` messages on a first visit, the
    client's cursor on a resume (never past the head), and never more than ``resume_max``
    messages back. Returns (cursor, truncated): truncated when the resume was cut short."""
    cursor = max(0, head - page_size) if after is None else min(after, head)
    if head - cursor > resume_max:
        return head - resume_max, True
    return cursor, False


class Sequencer:
    __slots__ = ("_cursors",)

    def __init__(self) -> None:
        self._cursors: dict[str, int] = {}

    def __contains__(self, room: str) -> bool:
        return room in self._cursors

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cursors))

    def join(self, room: str, cursor: int) -> bool:
        """Start (or restart) the room at ``cursor``; True when it was not joined before."""
        first = room not in self._cursors
        self._cursors[room] = cursor
        return first

    def leave(self, room: str) -> bool:
        return self._cursors.pop(room, None) is not None

    def cursor(self, room: str) -> int | None:
        return self._cursors.get(room)

    def offer(self, room: str, seq: int) -> Verdict | Fill:
        """What to do with message ``seq`` of ``room`` arriving now."""
        cursor = self._cursors.get(room)
        if cursor is None or seq <= cursor:
            return Verdict.DROP
        if seq == cursor + 1:
            return Verdict.SEND
        return Fill(room, cursor, seq - 1)

    def catch_up(self, room: str, upto: int | None = None) -> Fill | None:
        """What the store has past the cursor, up to ``upto`` or all of it (after a join, or
        when live messages may have been lost); None when the room is not joined."""
        cursor = self._cursors.get(room)
        return None if cursor is None else Fill(room, cursor, upto)

    def sent(self, room: str, seq: int) -> None:
        """The message went out: the cursor moves to it (if the room is still joined)."""
        if room in self._cursors:
            self._cursors[room] = seq
