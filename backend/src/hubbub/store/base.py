"""What every message store does; one module per implementation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any, Protocol


class AppendError(Exception):
    """One draft of a batch could not be stored; the others were (see Store.append_many)."""


class UnknownRoomError(AppendError, LookupError):
    """The room does not exist."""


class NotMemberError(AppendError):
    """The author is not a member of the room (or was removed from it meanwhile)."""


class RoomArchivedError(AppendError):
    """The room is archived: read-only."""


class MessageRejectedError(AppendError):
    """The store refused this one message (a constraint, a value out of its range, a trigger):
    sending it again will not help. Nothing of it was written."""


# check_author's answer -> the error a draft comes back with
REFUSALS: dict[str, type[AppendError]] = {
    "unknown": UnknownRoomError,
    "archived": RoomArchivedError,
    "not a member": NotMemberError,
}


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or failed; nothing was written."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    room: str
    seq: int
    id: str
    author: str
    body: str
    ts: int  # milliseconds since the epoch, UTC
    client_msg_id: str | None = None
    client_id: int | None = None  # set for plain-text clients of /ws/{client_id}
    mentions: tuple[str, ...] = ()  # members it mentions, and "@room" for all of them

    def row(self) -> tuple[Any, ...]:
        """The values in column order: room, seq, id, author, body, ts, client_msg_id,
        client_id, mentions (as a JSON list)."""
        return (*astuple(self)[:-1], json.dumps(list(self.mentions)))


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to store: everything but what the store assigns (seq, id, time)."""

    room: str
    author: str
    body: str
    client_msg_id: str | None = None
    client_id: int | None = None
    mentions: tuple[str, ...] = ()  # resolved before storing: members, or "@room"

    def stored(self, seq: int) -> StoredMessage:
        """The message this draft becomes as number `seq` of its room, with a new id, stamped now."""
        return StoredMessage(
            room=self.room,
            seq=seq,
            id=uuid.uuid4().hex,
            author=self.author,
            body=self.body,
            ts=int(time.time() * 1000),
            client_msg_id=self.client_msg_id,
            client_id=self.client_id,
            mentions=self.mentions,
        )


# What storing one draft came to: (message, created), or why this draft alone was not stored.
Appended = tuple[StoredMessage, bool] | AppendError


PUBLIC, PRIVATE, DM = "public", "private", "dm"
ROOM_MENTION = "@room"  # a mention of everyone in the room
COUNT_CAP = 1000  # unread and mention counts stop here: "999+" is all a badge says
OWNER, MEMBER = "owner", "member"


@dataclass(frozen=True, slots=True)
class RoomInfo:
    name: str
    head: int  # sequence number of the newest message, 0 when empty
    visibility: str = PUBLIC  # public, private or dm
    topic: str = ""
    owner: str | None = None
    archived: bool = False
    role: str | None = None  # the asking user's role in the room; None when not a member
    members: tuple[str, ...] = ()  # a direct message's members (other rooms: not listed here)
    # For a member, from rooms_for: what they have read, and what is new since.
    last_read: int = 0
    unread: int = 0  # messages after last_read not written by them (counted up to COUNT_CAP)
    mentions: int = 0  # of those, the ones that mention them (or @room)

    @property
    def member(self) -> bool:
        return self.role is not None


@dataclass(frozen=True, slots=True)
class NewRoom:
    name: str
    visibility: str
    owner: str | None
    members: tuple[str, ...]  # the owner among them; for a DM, all of its members
    topic: str = ""
    dm_key: str | None = None  # the same set of users, the same key: one DM per set


@dataclass(frozen=True, slots=True)
class Member:
    user: str
    role: str


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user: str
    expires_at: float
    credential: str | None = None  # fingerprint of what the session was made from
    admin: bool = False


class Store(Protocol):
    """Durable history. Sequence numbers per room are gapless and commit in order."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def ensure_room(self, name: str) -> bool:
        """Create the public room if missing (the default room); True when it was created."""
        ...

    async def create_room(self, room: NewRoom) -> RoomInfo | None:
        """Create the room with its members (the owner as owner); None when the name, or for a
        DM the key, is taken. The answer is as its owner sees it."""
        ...

    async def rooms_created_by(self, user: str) -> int:
        """How many rooms the user has created."""
        ...

    async def room(self, name: str, user: str | None = None) -> RoomInfo | None:
        """The room, with ``user``'s role in it; None when it does not exist."""
        ...

    async def find_dm(self, dm_key: str, user: str) -> RoomInfo | None: ...

    async def rooms_for(self, user: str | None, archived: bool = False) -> list[RoomInfo]:
        """Every public room and every room the user is a member of, by name; archived ones
        only when asked for. The only listing of rooms: nothing else enumerates them."""
        ...

    async def room_head(self, name: str) -> int | None:
        """Newest sequence number, or None when the room does not exist."""
        ...

    async def update_room(
        self, name: str, topic: str | None = None, archived: bool | None = None
    ) -> None: ...

    async def members(self, room: str) -> list[Member]:
        """The room's members, owners first, then by name."""
        ...

    async def add_members(self, room: str, users: Sequence[str], role: str = MEMBER) -> list[str]:
        """Make the users members; returns those who were not before."""
        ...

    async def remove_member(self, room: str, user: str) -> bool: ...

    async def count_members(self, room: str) -> int: ...

    async def members_among(self, room: str, names: Sequence[str]) -> list[str]:
        """Those of the names who are members of the room (to resolve @mentions)."""
        ...

    async def member_rooms(self, user: str) -> list[str]:
        """Every room the user is a member of (to tell them of new messages there)."""
        ...

    async def mark_read(self, room: str, user: str, seq: int) -> int | None:
        """Move the user's read position in the room up to seq (never down); returns it, or
        None when the user is not a member."""
        ...

    async def touch_users(self, names: Sequence[str]) -> None:
        """Remember that the users exist (signed in, connected, or configured): they can be
        found and invited. One write for all of them."""
        ...

    async def known_users(self, names: Sequence[str]) -> set[str]:
        """Those of the names the store has seen."""
        ...

    async def find_users(self, prefix: str, limit: int) -> list[str]:
        """Known user names starting with the prefix (case-insensitive), by name."""
        ...

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        """Store the drafts in order in one transaction, raising StoreUnavailableError (and
        writing none) when the store cannot be reached. Each draft is isolated from the others
        (a savepoint each): a draft whose client_msg_id that author already stored in that
        room comes back as (stored message, False) instead of being written twice. One for a
        missing room comes back as UnknownRoomError, one whose author is not a member of the
        room as NotMemberError (checked in the same transaction: a removal that commits first
        wins), one for an archived room as RoomArchivedError, one the store refuses for any
        other reason as MessageRejectedError; none of them fails the rest of the batch."""
        ...

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        """Messages with seq > after_seq, oldest first."""
        ...

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        """The newest `limit` messages with seq < before_seq (all when None), oldest first."""
        ...

    async def create_session(self, record: SessionRecord) -> None: ...
    async def get_session(self, session_id: str) -> SessionRecord | None: ...
    async def delete_session(self, session_id: str) -> None: ...
