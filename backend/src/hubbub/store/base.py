"""What every message store does; one module per implementation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
# Answers for an author outside the room: given before anything else is looked up for them.
OUTSIDERS = frozenset({"unknown", "not a member"})


class UnknownMessageError(LookupError):
    """No such message in the room, or it was deleted."""


class TooManyReactionsError(Exception):
    """The message has MAX_REACTION_KINDS different emoji already: a new one is refused (one
    already there can still be added to)."""


MAX_REACTION_KINDS = 20  # different emoji on one message: every reactions frame carries them all


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or failed; nothing was written."""


@dataclass(frozen=True, slots=True)
class Reaction:
    """Everyone who reacted to a message with one emoji: ``users`` in the order they did, the
    first REACTION_USERS_SHOWN of them (``count`` counts them all)."""

    emoji: str
    count: int
    users: tuple[str, ...]


REACTION_USERS_SHOWN = 50


def reactions_to_json(reactions: Sequence[Reaction]) -> str:
    return json.dumps([[r.emoji, r.count, list(r.users)] for r in reactions], separators=(",", ":"))


def reactions_from_json(text: str) -> tuple[Reaction, ...]:
    return tuple(Reaction(str(e), int(c), tuple(str(u) for u in users)) for e, c, users in json.loads(text))


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
    bot: bool = False  # posted by a bot (POST /api/rooms/{room}/messages)
    # What changed since it was posted (docs/protocol.md, "Edits, deletes and reactions"):
    edited_at: int | None = None  # ms since the epoch of the last edit
    deleted: bool = False  # a tombstone: no body, no reactions, no mentions
    reactions: tuple[Reaction, ...] = ()
    change: int = 0  # the room's change number of the last change to it; 0 when never changed

    def row(self) -> tuple[Any, ...]:
        """The values of a new message in INSERT_COLUMNS order."""
        return (
            self.room,
            self.seq,
            self.id,
            self.author,
            self.body,
            self.ts,
            self.client_msg_id,
            self.client_id,
            json.dumps(list(self.mentions)),
            self.bot,
        )


# A new message's columns, and every column a message is read with.
INSERT_COLUMNS = "room, seq, id, author, body, ts, client_msg_id, client_id, mentions, bot"
COLUMNS = INSERT_COLUMNS + ", edited_at, deleted, reactions, change_seq"


def message_from_row(row: Sequence[Any]) -> StoredMessage:
    """A StoredMessage from a row of COLUMNS (from either store)."""
    room, seq, message_id, author, body, ts, client_msg_id, client_id, mentions, bot = row[:10]
    edited_at, deleted, reactions, change = row[10:]
    return StoredMessage(
        room=room,
        seq=int(seq),
        id=message_id,
        author=author,
        body=body,
        ts=int(ts),
        client_msg_id=client_msg_id,
        client_id=None if client_id is None else int(client_id),
        mentions=tuple(json.loads(mentions)),
        bot=bool(bot),
        edited_at=None if edited_at is None else int(edited_at),
        deleted=bool(deleted),
        reactions=reactions_from_json(reactions),
        change=int(change),
    )


@dataclass(frozen=True, slots=True)
class Edit:
    body: str


@dataclass(frozen=True, slots=True)
class Delete:
    pass


@dataclass(frozen=True, slots=True)
class React:
    user: str
    emoji: str
    on: bool


MessageChange = Edit | Delete | React


def aggregate_reactions(rows: Sequence[tuple[str, str]]) -> tuple[Reaction, ...]:
    """(emoji, user) pairs in the order they were made -> one Reaction per emoji, in the order
    each emoji was first used."""
    users: dict[str, list[str]] = {}
    for emoji, user in rows:
        users.setdefault(emoji, []).append(user)
    return tuple(Reaction(e, len(u), tuple(u[:REACTION_USERS_SHOWN])) for e, u in users.items())


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to store: everything but what the store assigns (seq, id, time)."""

    room: str
    author: str
    body: str
    client_msg_id: str | None = None
    client_id: int | None = None
    mentions: tuple[str, ...] = ()  # resolved before storing: members, or "@room"
    bot: bool = False

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
            bot=self.bot,
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
    # A direct message's members, for a member asking (other rooms, other askers: empty): a
    # non-member's answer costs what a missing room's does.
    members: tuple[str, ...] = ()
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

    async def members(self, room: str, after: str | None = None, limit: int | None = None) -> list[Member]:
        """The room's members by name: those after ``after`` (all when None), at most ``limit``
        (all when None). Paged by name, a room of any size answers in bounded time."""
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
        wins; and checked before the client_msg_id lookup, so a retry by someone who is no
        longer a member gets nothing back), one for an archived room as RoomArchivedError (to a
        member only: a non-member's is NotMemberError), one the store refuses for any other
        reason as MessageRejectedError; none of them fails the rest of the batch."""
        ...

    async def after(self, room: str, after_seq: int, limit: int) -> list[StoredMessage]:
        """Messages with seq > after_seq, oldest first."""
        ...

    async def before(self, room: str, before_seq: int | None, limit: int) -> list[StoredMessage]:
        """The newest `limit` messages with seq < before_seq (all when None), oldest first."""
        ...

    async def message(self, room: str, message_id: str) -> StoredMessage | None:
        """The message with that id in that room (a tombstone too), or None."""
        ...

    async def change_message(self, room: str, message_id: str, change: MessageChange) -> StoredMessage | None:
        """Apply the change in one transaction, giving it the room's next change number: an
        edit replaces the body (stamping edited_at), a delete leaves a tombstone (body,
        reactions and mentions gone; the seq stays), a reaction is added or taken back. Returns
        the message as it now is, or None when nothing changed (the same body, a reaction
        already there or already gone): no change number is used then. Raises
        UnknownMessageError for a missing or deleted message, RoomArchivedError in an archived
        room, TooManyReactionsError for a new emoji past MAX_REACTION_KINDS. Change numbers
        per room are gapless and commit in order, like seq."""
        ...

    async def room_changes(self, room: str) -> int:
        """The room's newest change number (0 when nothing was ever changed)."""
        ...

    async def changed_since(
        self, room: str, after_change: int, after_seq: int, limit: int
    ) -> list[StoredMessage]:
        """Messages with seq > after_seq changed after change number after_change,
        by seq, as they now are."""
        ...

    async def add_bot(self, name: str, token_hash: str) -> None:
        """A bot and the hash of its token; for an existing bot, a new token (the old one
        stops working) and it is no longer revoked."""
        ...

    async def revoke_bot(self, name: str) -> bool:
        """Its token stops working; False when there is no such bot (or it was revoked)."""
        ...

    async def bot_for_token(self, token_hash: str) -> str | None:
        """The name of the bot with that token hash, unless revoked."""
        ...

    async def bots(self) -> list[tuple[str, bool]]:
        """Every bot by name, and whether it is revoked."""
        ...

    async def create_session(self, record: SessionRecord) -> None: ...
    async def get_session(self, session_id: str) -> SessionRecord | None: ...
    async def delete_session(self, session_id: str) -> None: ...
