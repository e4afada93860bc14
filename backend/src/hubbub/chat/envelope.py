"""What travels through the broker between workers: one dataclass per kind, each a letter
followed by its body. ``encode`` and ``decode`` are the only way in and out.

Stored messages carry each message's room and seq in a header before its frame, so a
receiving worker routes and sequences them without parsing any JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class StoredMessages:
    """Messages already stored, as the frames JSON clients get: (room, seq, frame) each, in the
    order they were stored. One envelope carries a slice of a batch, so a subscribing worker
    wakes each of its connections once per slice rather than once per message."""

    kind: ClassVar[str] = "M"
    messages: tuple[tuple[str, int, str], ...]

    def body(self) -> str:
        # Room names have no space, seq is digits, and JSON text has no raw newline.
        return "\n".join(f"{room} {seq} {frame}" for room, seq, frame in self.messages)

    @classmethod
    def parse(cls, body: str) -> StoredMessages:
        messages = []
        for line in body.split("\n"):
            room, seq, frame = line.split(" ", 2)
            messages.append((room, int(seq), frame))
        return cls(tuple(messages))


@dataclass(frozen=True, slots=True)
class MessageChanged:
    """A stored message was edited, deleted or reacted to: its room, the change number, the
    message's seq, and the frame JSON clients get (never plain-text ones)."""

    kind: ClassVar[str] = "C"
    room: str
    change: int
    seq: int
    frame: str

    def body(self) -> str:
        return f"{self.room} {self.change} {self.seq} {self.frame}"

    @classmethod
    def parse(cls, body: str) -> MessageChanged:
        room, change, seq, frame = body.split(" ", 3)
        return cls(room, int(change), int(seq), frame)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A stored message too large for the broker: receivers read it from the store."""

    kind: ClassVar[str] = "m"
    room: str
    seq: int

    def body(self) -> str:
        return f"{self.room} {self.seq}"

    @classmethod
    def parse(cls, body: str) -> MessageRef:
        room, seq = body.split(" ")
        return cls(room, int(seq))


@dataclass(frozen=True, slots=True)
class RoomNotice:
    """Something for a room's subscribers that is not stored: a JSON frame (typing) and/or a
    line for plain-text clients (the tutorial's "left the chat")."""

    kind: ClassVar[str] = "E"
    room: str
    frame: str | None
    text: str | None = None

    def body(self) -> str:
        return f"{self.room}\n{self.text or ''}\n{self.frame or ''}"

    @classmethod
    def parse(cls, body: str) -> RoomNotice:
        room, text, frame = body.split("\n", 2)
        return cls(room, frame or None, text or None)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A JSON frame for every JSON connection (a room was created)."""

    kind: ClassVar[str] = "G"
    frame: str

    def body(self) -> str:
        return self.frame

    @classmethod
    def parse(cls, body: str) -> Broadcast:
        return cls(body)


@dataclass(frozen=True, slots=True)
class ToUsers:
    """A JSON frame for every connection of these users (a room they can now see, a change to
    a room only its members may hear of)."""

    kind: ClassVar[str] = "U"
    users: tuple[str, ...]
    frame: str

    def body(self) -> str:
        return json.dumps([list(self.users), self.frame], separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> ToUsers:
        users, frame = json.loads(body)
        return cls(tuple(str(user) for user in users), str(frame))


@dataclass(frozen=True, slots=True)
class MembersAdded:
    """Users became members of a room: each worker starts telling their connections of it."""

    kind: ClassVar[str] = "A"
    room: str
    users: tuple[str, ...]

    def body(self) -> str:
        return json.dumps([self.room, list(self.users)], separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> MembersAdded:
        room, users = json.loads(body)
        return cls(str(room), tuple(str(user) for user in users))


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    """A user is no longer a member of a room: every worker takes their connections out of it."""

    kind: ClassVar[str] = "R"
    room: str
    user: str
    reason: str  # "removed" or "left"

    def body(self) -> str:
        return json.dumps([self.room, self.user, self.reason], separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> MemberRemoved:
        room, user, reason = json.loads(body)
        return cls(str(room), str(user), str(reason))


@dataclass(frozen=True, slots=True)
class PresenceSnapshot:
    """One worker's whole presence: room -> users online there through that worker."""

    kind: ClassVar[str] = "P"
    worker: str
    rooms: dict[str, list[str]]

    def body(self) -> str:
        return json.dumps({"worker": self.worker, "rooms": self.rooms}, separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> PresenceSnapshot:
        data: dict[str, Any] = json.loads(body)
        rooms = {str(room): [str(user) for user in users] for room, users in data["rooms"].items()}
        return cls(str(data["worker"]), rooms)


@dataclass(frozen=True, slots=True)
class PresenceQuery:
    """A worker that just started asks the others to publish their presence."""

    kind: ClassVar[str] = "Q"
    worker: str

    def body(self) -> str:
        return self.worker

    @classmethod
    def parse(cls, body: str) -> PresenceQuery:
        return cls(body)


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session was logged out: close its sockets on every worker."""

    kind: ClassVar[str] = "L"
    session_id: str

    def body(self) -> str:
        return self.session_id

    @classmethod
    def parse(cls, body: str) -> SessionEnded:
        return cls(body)


@dataclass(frozen=True, slots=True)
class AccountsChanged:
    """Accounts changed (a role, a password, a deactivation): every worker reads what changed
    since it last looked (hubbub/people/accounts.py)."""

    kind: ClassVar[str] = "K"

    def body(self) -> str:
        return ""

    @classmethod
    def parse(cls, body: str) -> AccountsChanged:
        return cls()


Envelope = (
    StoredMessages
    | MessageChanged
    | MessageRef
    | RoomNotice
    | Broadcast
    | ToUsers
    | MembersAdded
    | MemberRemoved
    | PresenceSnapshot
    | PresenceQuery
    | SessionEnded
    | AccountsChanged
)
_PARSERS: dict[str, Callable[[str], Envelope]] = {
    kind.kind: kind.parse
    for kind in (
        StoredMessages,
        MessageChanged,
        MessageRef,
        RoomNotice,
        Broadcast,
        ToUsers,
        MembersAdded,
        MemberRemoved,
        PresenceSnapshot,
        PresenceQuery,
        SessionEnded,
        AccountsChanged,
    )
}


class MalformedEnvelopeError(ValueError):
    pass


def encode(envelope: Envelope) -> str:
    return envelope.kind + envelope.body()


def decode(payload: str) -> Envelope:
    parse = _PARSERS.get(payload[:1])
    if parse is None:
        raise MalformedEnvelopeError(f"unknown envelope kind {payload[:1]!r}")
    try:
        return parse(payload[1:])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedEnvelopeError(f"malformed {payload[:1]!r} envelope: {exc}") from exc


def pack_messages(messages: Sequence[tuple[str, int, str]], limit: int | None) -> list[Envelope]:
    """(room, seq, frame) of stored messages as few envelopes of at most ``limit`` encoded bytes
    as hold them, in order; a message too large on its own goes as a reference to the store."""
    if limit is None:
        return [StoredMessages(tuple(messages))] if messages else []
    envelopes: list[Envelope] = []
    group: list[tuple[str, int, str]] = []
    size = len(StoredMessages.kind)
    for room, seq, frame in messages:
        line_size = len(room) + len(str(seq)) + len(frame.encode()) + 3  # two spaces, a newline
        if group and size + line_size > limit:
            envelopes.append(StoredMessages(tuple(group)))
            group, size = [], len(StoredMessages.kind)
        if size + line_size > limit:
            envelopes.append(MessageRef(room, seq))
        else:
            group.append((room, seq, frame))
            size += line_size
    if group:
        envelopes.append(StoredMessages(tuple(group)))
    return envelopes
