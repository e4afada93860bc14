"""What the server sends JSON clients (docs/protocol.md, "Server → client"): one model per event.

``encode`` is the only way an event becomes a frame. Every field is always present (optional
ones as null), so the generated TypeScript types and the frames agree exactly.
"""

from __future__ import annotations

from typing import Annotated, Literal, assert_never

from pydantic import BaseModel, ConfigDict, Field

from hubbub.model import Delete, Edit, FileInfo, MessageChange, Profile, React, StoredMessage

ErrorCode = Literal[
    "invalid_json",
    "invalid_message",
    "unknown_room",
    "not_joined",
    "too_large",
    "rate_limited",
    "store_unavailable",
    "message_rejected",
    "archived",
    "unknown_message",
    "forbidden",
    "unknown_file",
]


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class Hello(Event):
    """The first frame on every connection."""

    type: Literal["hello"] = "hello"
    user: str
    default_room: str
    max_message_bytes: int


class Joined(Event):
    """Answers ``join``: ``head`` is the newest seq, ``from`` the cursor the server sends after."""

    type: Literal["joined"] = "joined"
    room: str
    head: int
    from_: int = Field(serialization_alias="from")
    truncated: bool
    users: list[str]  # who is online in the room, by name; empty when more than 200 are
    online: int  # how many are online in the room
    changes: int  # the room's newest change number: the change cursor from here on


class ReactionCount(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    emoji: str
    count: int
    users: list[str]  # the first 50 who reacted, in order

    @classmethod
    def all(cls, message: StoredMessage) -> list[ReactionCount]:
        return [cls(emoji=r.emoji, count=r.count, users=list(r.users)) for r in message.reactions]


class FileRef(BaseModel):
    """A file as a message carries it: download it at /api/files/{id}. ``width`` and
    ``height`` are set for images the server decoded (PNG, JPEG, GIF, WebP), and only those
    have /api/files/{id}/thumbnail and are served inline; ``type`` is sniffed from the content."""

    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    id: str
    name: str
    size: int  # bytes, as served
    type: str
    width: int | None
    height: int | None

    @classmethod
    def of(cls, info: FileInfo) -> FileRef:
        return cls(
            id=info.id, name=info.name, size=info.size, type=info.type, width=info.width, height=info.height
        )


class MessageEvent(Event):
    """A stored message. ``seq`` is per room, from 1, gapless; ``ts`` is ms since the epoch."""

    type: Literal["message"] = "message"
    room: str
    seq: int
    id: str
    author: str
    body: str
    ts: int
    client_msg_id: str | None
    client_id: int | None  # the number of a /ws/{client_id} plain-text sender
    mentions: list[str]  # members it mentions, and "@room" for all of them
    bot: bool  # posted by a bot
    edited_at: int | None  # ms since the epoch of the last edit
    deleted: bool  # a tombstone: body "", no reactions
    reactions: list[ReactionCount]
    change: int  # the room's change number of the last change to it (0: never changed)
    files: list[FileRef]  # attached when it was sent; [] once deleted

    @classmethod
    def of(cls, message: StoredMessage) -> MessageEvent:
        return cls(
            room=message.room,
            seq=message.seq,
            id=message.id,
            author=message.author,
            body=message.body,
            ts=message.ts,
            client_msg_id=message.client_msg_id,
            client_id=message.client_id,
            mentions=list(message.mentions),
            bot=message.bot,
            edited_at=message.edited_at,
            deleted=message.deleted,
            reactions=ReactionCount.all(message),
            change=message.change,
            files=[FileRef.of(info) for info in message.files],
        )


class MessageUpdated(Event):
    """A message was edited. Apply it when ``change`` is at least the message's own."""

    type: Literal["message_updated"] = "message_updated"
    room: str
    id: str
    seq: int
    body: str
    edited_at: int
    change: int

    @classmethod
    def of(cls, message: StoredMessage) -> MessageUpdated:
        return cls(
            room=message.room,
            id=message.id,
            seq=message.seq,
            body=message.body,
            edited_at=message.edited_at or 0,
            change=message.change,
        )


class MessageDeleted(Event):
    """A message was deleted: it stays in history as a tombstone with the same seq."""

    type: Literal["message_deleted"] = "message_deleted"
    room: str
    id: str
    seq: int
    change: int

    @classmethod
    def of(cls, message: StoredMessage) -> MessageDeleted:
        return cls(room=message.room, id=message.id, seq=message.seq, change=message.change)


class ReactionsEvent(Event):
    """A message's reactions, all of them, after one was added or taken back."""

    type: Literal["reactions"] = "reactions"
    room: str
    id: str
    seq: int
    reactions: list[ReactionCount]
    change: int

    @classmethod
    def of(cls, message: StoredMessage) -> ReactionsEvent:
        return cls(
            room=message.room,
            id=message.id,
            seq=message.seq,
            reactions=ReactionCount.all(message),
            change=message.change,
        )


class Applied(Event):
    """Answers an edit, delete or react that carried a ``ref``: done (``change`` is null when
    there was nothing to change, as for a reaction already there)."""

    type: Literal["applied"] = "applied"
    ref: str
    room: str
    id: str
    change: int | None


class Ack(Event):
    """The message is stored; ``duplicate`` when that client_msg_id was stored before."""

    type: Literal["ack"] = "ack"
    room: str
    client_msg_id: str | None
    seq: int
    id: str
    ts: int
    duplicate: bool


class PresenceEvent(Event):
    """Who is online in the room changed: who came and who went since the last presence frame
    (or since ``joined``, whose ``users`` is the whole list). Applied to that list in order,
    they give who is online now; a name already there (or already gone) changes nothing.
    ``online`` is how many are online now. A room with more than 200 online is a count: its
    frames name nobody. When a room crosses that line, ``users`` is the list to start from
    again (empty over the line); otherwise it is null."""

    type: Literal["presence"] = "presence"
    room: str
    joined: list[str]
    left: list[str]
    online: int
    users: list[str] | None = None


class TypingEvent(Event):
    type: Literal["typing"] = "typing"
    room: str
    user: str


class Left(Event):
    """Answers ``leave``."""

    type: Literal["left"] = "left"
    room: str


class ReadEvent(Event):
    """This user has read the room up to seq (in another tab, on another device)."""

    type: Literal["read"] = "read"
    room: str
    seq: int


class UnreadEvent(Event):
    """New messages in a room this connection has not joined: how many more are unread (not
    the user's own), and how many of those mention them. Coalesced per room; no bodies."""

    type: Literal["unread"] = "unread"
    room: str
    seq: int  # the newest message's
    count: int
    mentions: int


class RoomCreated(Event):
    """A public room was created (every JSON connection hears of it)."""

    type: Literal["room_created"] = "room_created"
    room: str


class RoomAdded(Event):
    """This user can now see the room: created with them in it, invited, or a new DM."""

    type: Literal["room_added"] = "room_added"
    room: str
    visibility: Literal["public", "private", "dm"]
    topic: str
    owner: str | None
    members: list[str]  # a DM's members; empty for other rooms


class RoomUpdated(Event):
    """The room's topic changed, it was archived (read-only) or taken out of the archive, or
    an admin gave it another owner."""

    type: Literal["room_updated"] = "room_updated"
    room: str
    topic: str
    archived: bool
    owner: str | None


class ProfileEvent(Event):
    """Someone's profile changed, or they were deactivated or reactivated (every JSON
    connection hears of it: names are shown everywhere)."""

    type: Literal["profile"] = "profile"
    user: str  # the login name
    display_name: str  # "" when not set: show the login name
    status_emoji: str
    status_text: str
    time_zone: str  # IANA, "" when not set
    avatar_url: str | None  # an uploaded image; null: initials on a colour from the login name
    deactivated: bool
    bot: bool

    @classmethod
    def of(cls, profile: Profile, avatar_url: str | None) -> ProfileEvent:
        return cls(
            user=profile.name,
            display_name=profile.display_name,
            status_emoji=profile.status_emoji,
            status_text=profile.status_text,
            time_zone=profile.time_zone,
            avatar_url=avatar_url,
            deactivated=profile.deactivated,
            bot=profile.bot,
        )


class MembersChanged(Event):
    """Who is a member of the room changed (to the room's members)."""

    type: Literal["members"] = "members"
    room: str
    added: list[str]
    removed: list[str]


class Removed(Event):
    """This user is no longer in the room: nothing more of it comes on this connection."""

    type: Literal["removed"] = "removed"
    room: str
    reason: Literal["removed", "left"]


class ErrorEvent(Event):
    """A command failed; the connection stays open. ``ref`` is a failed send's client_msg_id."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None = None
    retry_after: float | None = None  # seconds, with rate_limited
    room: str | None = None  # the room the command was about, where it named one


ServerEvent = Annotated[
    Hello
    | Joined
    | MessageEvent
    | Ack
    | PresenceEvent
    | TypingEvent
    | Left
    | ReadEvent
    | UnreadEvent
    | RoomCreated
    | RoomAdded
    | RoomUpdated
    | ProfileEvent
    | MembersChanged
    | Removed
    | MessageUpdated
    | MessageDeleted
    | ReactionsEvent
    | Applied
    | ErrorEvent,
    Field(discriminator="type"),
]


def encode(event: Event) -> str:
    return event.model_dump_json(by_alias=True)


def change_frame(message: StoredMessage, change: MessageChange) -> str:
    """The frame telling JSON clients of a change just made to a message."""
    match change:
        case Edit():
            return encode(MessageUpdated.of(message))
        case Delete():
            return encode(MessageDeleted.of(message))
        case React():
            return encode(ReactionsEvent.of(message))
        case _:
            assert_never(change)


def catch_up_frames(message: StoredMessage) -> list[str]:
    """The frames that bring a client that has an earlier state of the message up to date
    (for a resume or a gap in the change feed): all of them carry its latest change number."""
    if message.deleted:
        return [encode(MessageDeleted.of(message))]
    frames = [encode(MessageUpdated.of(message))] if message.edited_at is not None else []
    frames.append(encode(ReactionsEvent.of(message)))
    return frames
