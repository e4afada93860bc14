"""What every message store does; one module per implementation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any, Protocol


class AppendError(Exception):
    """One draft of a batch could not be stored; the others were (see Store.append_many)."""


class UnknownRoomError(AppendError, LookupError):
    """The room does not exist."""


class MessageRejectedError(AppendError):
    """The store refused this one message (a constraint, a value out of its range, a trigger):
    sending it again will not help. Nothing of it was written."""


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

    def row(self) -> tuple[Any, ...]:
        """The values in column order (room, seq, id, author, body, ts, client_msg_id, client_id)."""
        return astuple(self)


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to store: everything but what the store assigns (seq, id, time)."""

    room: str
    author: str
    body: str
    client_msg_id: str | None = None
    client_id: int | None = None

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
        )


# What storing one draft came to: (message, created), or why this draft alone was not stored.
Appended = tuple[StoredMessage, bool] | AppendError


@dataclass(frozen=True, slots=True)
class RoomInfo:
    name: str
    head: int  # sequence number of the newest message, 0 when empty


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    user: str
    expires_at: float
    credential: str | None = None  # fingerprint of what the session was made from


class Store(Protocol):
    """Durable history. Sequence numbers per room are gapless and commit in order."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None: ...

    async def ensure_room(self, name: str, created_by: str | None = None) -> bool:
        """Create the room if missing; True when it was created."""
        ...

    async def rooms_created_by(self, user: str) -> int:
        """How many rooms the user has created."""
        ...

    async def rooms(self) -> list[RoomInfo]: ...
    async def room_head(self, name: str) -> int | None:
        """Newest sequence number, or None when the room does not exist."""
        ...

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        """Store the drafts in order in one transaction, raising StoreUnavailableError (and
        writing none) when the store cannot be reached. Each draft is isolated from the others
        (a savepoint each): a draft whose client_msg_id that author already stored in that
        room comes back as (stored message, False) instead of being written twice; one for a
        missing room as UnknownRoomError, one the store refuses for any other reason as
        MessageRejectedError, and neither fails the rest of the batch."""
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
