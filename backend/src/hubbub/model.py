"""The chat's domain: what is stored and what may be refused, with no I/O and no framework.

The ground floor: contract/, chat/ and store/ import it; it imports none of them. How a refusal
reads on the wire (HTTP status, WebSocket error code, text) is decided once, in
contract/refusals.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PUBLIC, PRIVATE, DM = "public", "private", "dm"
OWNER, MEMBER = "owner", "member"
ROOM_MENTION = "@room"  # a mention of everyone in the room
COUNT_CAP = 1000  # unread and mention counts stop here: "999+" is all a badge says
MAX_REACTION_KINDS = 20  # different emoji on one message: every reactions frame carries them all
REACTION_USERS_SHOWN = 50


# --- refusals: each says what was refused, never how to answer it (contract/refusals.py)
class AppendError(Exception):
    """One draft of a batch could not be stored; the others were (see Store.append_many)."""


class UnknownRoomError(AppendError, LookupError):
    """The room does not exist, or not for the one asking (the same thing to them)."""


class NotMemberError(AppendError):
    """The author is not a member of the room (or was removed from it meanwhile)."""


class RoomArchivedError(AppendError):
    """The room is archived: read-only."""


class MessageRejectedError(AppendError):
    """The store refused this one message (a constraint, a value out of its range, a trigger):
    sending it again will not help. Nothing of it was written."""


class UnknownMessageError(LookupError):
    """No such message in the room, or it was deleted, or the room is not visible to the one
    asking (the same thing to them)."""


class TooManyReactionsError(Exception):
    """The message has MAX_REACTION_KINDS different emoji already: a new one is refused (one
    already there can still be added to)."""


class UnknownFileError(AppendError, LookupError):
    """No such file, or not one the asker may read or attach (the same thing to them): every
    file refused by access answers exactly as a file nobody uploaded."""


class UploadRefusedError(Exception):
    """An upload is refused for what it is (too large, over the quota, an image too large to
    decode): nothing of it is kept. ``status`` is the HTTP answer (413 or 422); the message is
    safe to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class UploadFormError(ValueError):
    """An upload's body is not a multipart form with one file in field ``file`` (422); the
    message says why."""


class StorageUnavailableError(RuntimeError):
    """The file storage cannot be reached or failed; nothing was written."""


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or failed; nothing was written."""


class Forbidden(Exception):
    """The caller can see the room but may not do this; the message is safe to show."""


class RoomRuleError(ValueError):
    """What was asked breaks a rule of rooms (a DM's size, a reserved name); safe to show."""


class RoomFullError(RoomRuleError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the room has {limit} members, the most allowed (HUBBUB_MAX_MEMBERS_PER_ROOM)")


class TooManyNewMembersError(Exception):
    """Auth mode none: this address has made too many new members lately (a name costs
    nothing there, and each one would stay a member)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__("too many new members from this address; slow down")


class UnknownUserError(LookupError):
    def __init__(self, users: list[str]) -> None:
        super().__init__("no such user")  # the asker knows whom they named: not repeated back


class RoomLimitError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"you have created {limit} rooms, the most one user may (HUBBUB_MAX_ROOMS_PER_USER)")


class NotAMemberError(LookupError):
    def __init__(self, user: str) -> None:
        super().__init__("not a member of the room")  # not repeated back either


class NameTakenError(Exception):
    """The name is in use by a room the caller may not see."""


class SearchQueryError(ValueError):
    """What was typed into search cannot be searched for; the message says why, safe to show."""


class ReadBeyondHeadError(ValueError):
    def __init__(self, head: int) -> None:
        super().__init__(f"seq is beyond the room's newest message ({head})")


# --- files
@dataclass(frozen=True, slots=True)
class FileInfo:
    """A file as a message shows it. ``width`` and ``height`` are set for an image the server
    decoded itself (PNG, JPEG, GIF, WebP): only those have a thumbnail and are shown inline."""

    id: str
    name: str
    size: int
    type: str  # sniffed from the content, never from the name or the client
    width: int | None = None
    height: int | None = None

    @property
    def image(self) -> bool:
        return self.width is not None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An uploaded file: what a message shows of it, where it was uploaded and by whom, and
    the digests (SHA-256, hex) of its bytes and of its thumbnail in the file storage."""

    info: FileInfo
    room: str
    uploader: str
    digest: str
    thumbnail: str | None  # the thumbnail's digest; None for anything but an image
    created_at: int  # ms since the epoch
    message_seq: int | None = None  # the message it is attached to; None until then


# --- messages
@dataclass(frozen=True, slots=True)
class Reaction:
    """Everyone who reacted to a message with one emoji: ``users`` in the order they did, the
    first REACTION_USERS_SHOWN of them (``count`` counts them all)."""

    emoji: str
    count: int
    users: tuple[str, ...]


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
    files: tuple[FileInfo, ...] = ()  # attached when it was sent; gone with a delete


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
    files: tuple[str, ...] = ()  # ids of files the author uploaded into the room, to attach

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


@dataclass(frozen=True, slots=True)
class Found:
    """A page of search results, newest first; ``next_before`` continues after it (None: no
    more)."""

    messages: tuple[StoredMessage, ...]
    next_before: int | None


# What storing one draft came to: (message, created), or why this draft alone was not stored.
Appended = tuple[StoredMessage, bool] | AppendError


# --- changes to a stored message: one class per kind. Every place that tells them apart
# matches all of them, ending in assert_never, so a new kind cannot slip through a default.
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


def aggregate_reactions(rows: list[tuple[str, str]]) -> tuple[Reaction, ...]:
    """(emoji, user) pairs in the order they were made -> one Reaction per emoji, in the order
    each emoji was first used."""
    users: dict[str, list[str]] = {}
    for emoji, user in rows:
        users.setdefault(emoji, []).append(user)
    return tuple(Reaction(e, len(u), tuple(u[:REACTION_USERS_SHOWN])) for e, u in users.items())


# --- rooms, members, sessions
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
    member_count: int = 0  # how many members the room has

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


# --- people: accounts, profiles, invitations, the audit log (hubbub/people/)
# Given every name and display name there is, why a new one may not be used (None: it may):
# the rule (hubbub/auth/names.py) is the people's, the check runs in the store's transaction.
Clash = Callable[[Iterable[str]], str | None]


class NameUnavailableError(Exception):
    """The name is taken, or looks like one that is (safe to show)."""


class InviteUnusableError(LookupError):
    """The invitation is used up, expired, revoked, or never existed: one answer for all."""


class UnknownInviteError(LookupError):
    """No open invitation by that id or token (to its admin)."""


class SetupDoneError(Exception):
    """The server has its first admin already."""


class LastAdminError(Exception):
    """The change would leave no active admin."""


class ProfileRuleError(ValueError):
    """A profile field or a password breaks a rule (safe to show)."""


class ModeRuleError(Exception):
    """What was asked does not apply in this auth mode: roles that come from the credential,
    invitations outside password mode (safe to show)."""


class UnknownBotError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class AccountState:
    """What every worker keeps of an account that has something to keep: a password, a role,
    a deactivation. ``version`` is the accounts counter when it last changed."""

    name: str
    password_hash: str | None
    admin: bool
    deactivated: bool
    version: int


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # the login name: what mentions, memberships and messages are keyed by
    display_name: str  # "" when not set: the login name is shown
    status_emoji: str
    status_text: str
    time_zone: str  # an IANA name, "" when not set
    avatar: str | None  # the digest of an uploaded avatar in the file storage; None: initials on a colour
    deactivated: bool
    bot: bool


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What a user changes of their profile: None keeps a field as it is, "" clears it."""

    display_name: str | None = None
    status_emoji: str | None = None
    status_text: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as the admin page lists them."""

    name: str
    display_name: str
    admin: bool
    deactivated: bool
    seen_at: int  # ms since the epoch: last sign-in, connection or request (to a few minutes)
    password: bool  # has a password (signs in with it)


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    created_by: str
    created_at: int  # ms since the epoch
    expires_at: int
    uses: int
    used: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: int  # ms since the epoch
    actor: str
    action: str
    target: str
    detail: str  # a JSON object
    address: str


@dataclass(frozen=True, slots=True)
class BotRecord:
    name: str
    revoked: bool
    created_at: int
