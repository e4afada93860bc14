"""Rooms and who is in them: the one place that decides who may see and do what in a room.

Every way to a room's content passes through `visible()`: the listing (the store's rooms_for is
the only query that enumerates rooms), REST history, a WebSocket join and its resume, member
lists and changes, topics, archiving, every change to a message (`changeable()`), uploads
(`uploadable()`) and every download of a file or its thumbnail (`file_readable()`). Sending
is checked once more by the store, inside the transaction that stores the message. A room the
caller may not see does not exist for them: the same UnknownRoomError, hence the same answer, as
a name nobody uses (and a message in it, the same UnknownMessageError as a message nobody wrote).

Public rooms: anyone signed in sees and joins them; joining makes a member. Private rooms and
direct messages: only their members; none in auth mode none, where anyone can sign in under
any name and so read anyone's (made in another mode before, they are not served in this one).
The owner (the creator) and admins add and remove members and archive; the owner sets the
topic; any member may leave (a DM too: opening it again brings them back). Admins do not see
private rooms or DMs they are not in: they manage them by name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Container, Coroutine, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal, assert_never

from hubbub.auth.base import Identity
from hubbub.chat import envelope
from hubbub.chat.shared_read import SharedRead
from hubbub.contract.events import MembersChanged, RoomAdded, RoomCreated, RoomUpdated, encode
from hubbub.contract.rest import DM_MAX_PEOPLE
from hubbub.limits import Limiter
from hubbub.limits.memory import MemoryLimiter
from hubbub.model import (
    DM,
    PRIVATE,
    PUBLIC,
    Delete,
    Edit,
    FileRecord,
    Forbidden,
    Member,
    MessageChange,
    NameTakenError,
    NewRoom,
    NotAMemberError,
    React,
    RoomArchivedError,
    RoomFullError,
    RoomInfo,
    RoomLimitError,
    RoomRuleError,
    StoredMessage,
    TooManyNewMembersError,
    UnknownFileError,
    UnknownMessageError,
    UnknownRoomError,
    UnknownUserError,
)
from hubbub.settings import AuthMode, Settings
from hubbub.store import Store

Publish = Callable[[envelope.Envelope], Coroutine[Any, Any, None]]

DM_PREFIX = "dm-"  # reserved: direct messages are named dm-<hash of their members>
DM_SIZE = (2, DM_MAX_PEOPLE)
MAX_TOPIC = 250
USERS_PER_LOOKUP = 20
OPEN_MODE = (
    "in auth mode none anyone can sign in under any name, so nothing would be private; "
    "the operator can set HUBBUB_AUTH to token, jwt or password"
)


async def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class MemberView:
    user: str
    role: str
    online: bool


def dm_name(key: str) -> str:
    return DM_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:24]


class Rooms:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        publish: Publish,
        online: Callable[[], Container[str]],
        limiter: Limiter | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._publish = publish
        self._online = online
        self._public = {
            archived: SharedRead(partial(store.public_rooms, archived)) for archived in (False, True)
        }
        self._limiter = limiter if limiter is not None else MemoryLimiter()

    # --- seeing
    async def visible(self, actor: Identity | None, name: str) -> RoomInfo:
        """The room as the actor sees it; UnknownRoomError when it does not exist *for them*."""
        room = await self._store.room(name, actor.user if actor else None)
        if room is None or (room.visibility != PUBLIC and not (room.member and self._private_ok)):
            raise UnknownRoomError(name)
        return room

    async def listing(self, actor: Identity | None, archived: bool = False) -> list[RoomInfo]:
        """The actor's rooms and every public room, by name (public rooms only where private
        ones cannot be: _private_ok). The public rooms are the same for everyone: room lists
        asked for together share one read of them (SharedRead)."""
        public = self._public[archived]
        if actor is None:
            return await public.get()
        mine = await self._store.rooms_of(actor.user, archived)
        if not self._private_ok:
            mine = [room for room in mine if room.visibility == PUBLIC]
        theirs = {room.name for room in mine}
        listed = mine + [room for room in await public.get() if room.name not in theirs]
        listed.sort(key=lambda room: room.name)
        return listed

    @property
    def _private_ok(self) -> bool:
        """Whether a room can be for its members only: not where a name is all it takes."""
        return self._settings.auth is not AuthMode.NONE

    async def enter(self, actor: Identity, name: str, address: str | None = None) -> RoomInfo:
        """For a join: the room, the actor made a member of it if it is public (and not full:
        RoomFullError). In auth mode none, new members from one ``address`` are limited too
        (TooManyNewMembersError): anyone can take a new name there, and members stay."""
        room = await self.visible(actor, name)
        if not room.member:
            limit = self._settings.max_members_per_room
            if await self._store.count_members(name) >= limit:
                raise RoomFullError(limit)
            if address is not None and not self._private_ok:
                per_minute = self._settings.new_members_per_minute_per_address
                if wait := await self._limiter.take(f"members-from:{address}:{name}", per_minute):
                    raise TooManyNewMembersError(wait)
            await self._store.add_members(name, [actor.user])
            await self._members_changed(room, added=[actor.user])
            # The user's other tabs list it among their rooms at once (room_added).
            await self._tell_added(room, [actor.user])
        return room

    # --- files
    async def uploadable(self, actor: Identity, name: str) -> RoomInfo:
        """The room, if the actor may upload into it: as a member, while it is not archived.
        UnknownRoomError for a room they cannot see; Forbidden for one they see but are not a
        member of; RoomArchivedError."""
        room = await self.visible(actor, name)
        if not room.member:
            raise Forbidden("join the room first")
        if room.archived:
            raise RoomArchivedError(name)
        return room

    async def file_readable(self, actor: Identity | None, record: FileRecord) -> None:
        """Whether the actor may download the file: anyone who may see its room (visible()),
        once it is attached to a message; before that, its uploader alone. Otherwise
        UnknownFileError, exactly as for a file nobody uploaded."""
        try:
            await self.visible(actor, record.room)
        except UnknownRoomError:
            raise UnknownFileError(record.info.id) from None
        if record.message_seq is None and (actor is None or actor.user != record.uploader):
            raise UnknownFileError(record.info.id)

    # --- changing a message
    async def changeable(
        self, actor: Identity, name: str, message_id: str, change: MessageChange
    ) -> StoredMessage:
        """The message, if the actor may make this change to it: edit their own; delete their
        own, or any as the room's owner or an admin; react as a member. A message in a room the
        actor cannot see raises UnknownMessageError, exactly as one that does not exist (or was
        deleted); Forbidden when they can see it but may not."""
        try:
            room = await self.visible(actor, name)
        except UnknownRoomError:
            raise UnknownMessageError(message_id) from None
        message = await self._store.message(name, message_id)
        if message is None or message.deleted:
            raise UnknownMessageError(message_id)
        mine = message.author == actor.user and not message.bot
        match change:
            case Edit():
                if not mine:
                    raise Forbidden("only its author may edit a message")
            case Delete():
                if not (mine or room.owner == actor.user or actor.admin):
                    raise Forbidden("only its author, the room's owner or an admin may delete a message")
            case React():
                pass  # any member
            case _:
                assert_never(change)
        if not room.member and not (isinstance(change, Delete) and actor.admin):
            raise Forbidden("join the room first")
        return message

    # --- making rooms
    async def create(
        self, actor: Identity | None, name: str, visibility: str, topic: str = ""
    ) -> tuple[RoomInfo, bool]:
        """(the room, True) when made; (the room, False) for a public room or one of the
        actor's that exists. Raises NameTakenError for a room the actor may not see."""
        if name.startswith(DM_PREFIX):
            raise RoomRuleError(f"room names starting with {DM_PREFIX!r} are kept for direct messages")
        if visibility == PRIVATE and not self._private_ok:
            raise Forbidden(f"no private rooms: {OPEN_MODE}")
        if visibility == PRIVATE and actor is None:
            raise Forbidden("sign in to create a private room")
        owner = actor.user if actor else None
        limit = self._settings.max_rooms_per_user
        if owner is not None and await self._store.rooms_created_by(owner) >= limit:
            existing = await self._store.room(name, owner)
            if existing is None or (existing.visibility != PUBLIC and not existing.member):
                raise RoomLimitError(limit)
            return existing, False
        new = NewRoom(name, visibility, owner, (owner,) if owner else (), _one_line(topic))
        room = await self._store.create_room(new)
        if room is None:
            try:
                return await self.visible(actor, name), False
            except UnknownRoomError:
                raise NameTakenError(name) from None
        if visibility == PUBLIC:
            await self._publish(envelope.Broadcast(encode(RoomCreated(room=name))))
        if owner is not None:  # theirs: every tab of theirs lists it, and counts what comes
            await self._tell_added(room, [owner])
        return room, True

    async def direct(
        self, actor: Identity, users: list[str], new_one: Callable[[], Awaitable[None]] = _nothing
    ) -> RoomInfo:
        """The direct message of the actor and these users: the same set, the same room.
        ``new_one`` is awaited before a new one is made (it raises to refuse: a limit)."""
        if not self._private_ok:
            raise Forbidden(f"no direct messages: {OPEN_MODE}")
        members = sorted({actor.user, *users})
        if not DM_SIZE[0] <= len(members) <= DM_SIZE[1]:
            raise RoomRuleError(
                f"a direct message is between {DM_SIZE[0]} and {DM_SIZE[1]} people, you included"
            )
        unknown = set(members) - {actor.user} - await self._store.known_users(members)
        if unknown:
            raise UnknownUserError(list(unknown))
        key = "\n".join(members)
        room = await self._store.find_dm(key, actor.user)
        if room is not None:
            return room if room.member else await self._back_in(actor, key, room)
        await new_one()
        room = await self._store.create_room(NewRoom(dm_name(key), DM, None, tuple(members), dm_key=key))
        if room is None:  # made at the same moment elsewhere
            found = await self._store.find_dm(key, actor.user)
            assert found is not None
            return found
        await self._tell_added(room, members)
        return room

    async def _back_in(self, actor: Identity, key: str, room: RoomInfo) -> RoomInfo:
        """A member who left the DM opens it again: they are back in it, with what was written
        meanwhile counted as read (as for any new member). Only they bring themselves back: the
        others opening it, or writing in it, do not."""
        if await self._store.add_members(room.name, [actor.user]):
            await self._members_changed(room, added=[actor.user])
        found = await self._store.find_dm(key, actor.user)
        assert found is not None  # a DM is never deleted
        await self._tell_added(found, [actor.user])
        return found

    # --- members
    async def members(
        self, actor: Identity, name: str, after: str | None = None, limit: int | None = None
    ) -> list[MemberView]:
        """By name, after ``after``, at most ``limit``. Admins may list any room's (names only)."""
        await self._manageable(actor, name)
        online = self._online()
        return [
            MemberView(m.user, m.role, m.user in online)
            for m in await self._store.members(name, after, limit)
        ]

    async def add(self, actor: Identity, name: str, user: str) -> bool:
        """Make the user a member; False when they were one."""
        room = await self._manageable(actor, name)
        if room.visibility == DM:
            raise RoomRuleError("a direct message's members are fixed; start another one")
        if user == actor.user and room.visibility != PUBLIC and not room.member:
            # An admin manages a private room; reading it takes an invitation like anyone's.
            raise Forbidden("ask the room's owner to add you")
        if user != actor.user and not _manages(actor, room):
            raise Forbidden("only the room's owner or an admin adds members")
        if room.visibility != PUBLIC and not room.member:
            # Whoever they add reads the room: not for an admin who may not read it themself.
            raise Forbidden("only a member of a private room adds people to it; ask its owner")
        if user != actor.user and not await self._store.known_users([user]):
            raise UnknownUserError([user])
        if await self._store.count_members(name) >= self._settings.max_members_per_room:
            raise RoomFullError(self._settings.max_members_per_room)
        if not await self._store.add_members(name, [user]):
            return False
        await self._members_changed(room, added=[user])
        await self._tell_added(room, [user])
        return True

    async def remove(self, actor: Identity, name: str, user: str) -> None:
        """Take the user out of the room (themself: leave). Their open sockets get `removed`
        and nothing more of it, on every worker."""
        room = await self._manageable(actor, name)
        leaving = user == actor.user
        if room.visibility == DM and not leaving:
            # Any of them may leave it (and hear nothing more of it until they open it again).
            raise RoomRuleError("a direct message's members are fixed; each of them may leave it")
        if not leaving and not _manages(actor, room):
            raise Forbidden("only the room's owner or an admin removes members")
        was_member = await self._store.remove_member(name, user)
        reason: Literal["removed", "left"] = "left" if leaving else "removed"
        # Published even for someone who is not a member: should a socket of theirs still be
        # in the room by any means, asking again ends it.
        await self._publish(envelope.MemberRemoved(name, user, reason))
        if not was_member:
            raise NotAMemberError(user)
        await self._members_changed(room, removed=[user])

    # --- the room itself
    async def update(self, actor: Identity, name: str, topic: str | None, archived: bool | None) -> RoomInfo:
        room = await self._manageable(actor, name)
        if topic is not None and room.owner != actor.user:
            raise Forbidden("only the room's owner sets its topic")
        if archived is not None:
            if not _manages(actor, room):
                raise Forbidden("only the room's owner or an admin archives it")
            if name == self._settings.default_room:
                raise RoomRuleError("the default room cannot be archived")
        await self._store.update_room(name, _one_line(topic) if topic is not None else None, archived)
        return await self._updated(actor, name)

    async def transfer(self, actor: Identity, name: str, user: str) -> RoomInfo:
        """Give the room to another of its members (admins only: the admin routes ask); its
        owner before stays a member."""
        room = await self._manageable(actor, name)
        if room.visibility == DM:
            raise RoomRuleError("a direct message has no owner")
        if not await self._store.transfer_owner(name, user):
            raise NotAMemberError(user)
        return await self._updated(actor, name)

    async def _updated(self, actor: Identity, name: str) -> RoomInfo:
        """The room as it now is; its members (everyone, for a public room) hear of it."""
        updated = await self._store.room(name, actor.user)
        assert updated is not None
        frame = encode(
            RoomUpdated(room=name, topic=updated.topic, archived=updated.archived, owner=updated.owner)
        )
        if updated.visibility == PUBLIC:
            await self._publish(envelope.Broadcast(frame))
        else:
            users = tuple(m.user for m in await self._store.members(name))
            await self._publish(envelope.ToUsers(users, frame))
        if updated.visibility != PUBLIC and not updated.member:
            # An admin who manages it by name learns what they changed, nothing of its content.
            return replace(
                updated, topic="", head=0, members=(), last_read=0, unread=0, mentions=0, member_count=0
            )
        return updated

    async def all_rooms(self) -> list[RoomInfo]:
        """Every room but direct messages (admins manage rooms by name, without reading them)."""
        return await self._store.all_rooms()

    async def find_users(self, prefix: str) -> list[str]:
        return await self._store.find_users(prefix, USERS_PER_LOOKUP)

    # --- internals
    async def _manageable(self, actor: Identity, name: str) -> RoomInfo:
        """The room, if the actor may see it, or is an admin (who manages rooms by name)."""
        if actor.admin:
            room = await self._store.room(name, actor.user)
            if room is None:
                raise UnknownRoomError(name)
            return room
        return await self.visible(actor, name)

    async def _members_changed(
        self, room: RoomInfo, added: Sequence[str] = (), removed: Sequence[str] = ()
    ) -> None:
        frame = encode(MembersChanged(room=room.name, added=list(added), removed=list(removed)))
        await self._publish(envelope.RoomNotice(room.name, frame))

    async def _tell_added(self, room: RoomInfo, users: list[str]) -> None:
        await self._publish(envelope.MembersAdded(room.name, tuple(users)))
        event = RoomAdded(
            room=room.name,
            visibility=room.visibility,  # type: ignore[arg-type]
            topic=room.topic,
            owner=room.owner,
            members=list(room.members),
        )
        await self._publish(envelope.ToUsers(tuple(users), encode(event)))


def _manages(actor: Identity, room: RoomInfo) -> bool:
    return actor.admin or (room.owner is not None and room.owner == actor.user)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_TOPIC]


__all__ = [
    "Forbidden",
    "Member",
    "MemberView",
    "NameTakenError",
    "NotAMemberError",
    "RoomFullError",
    "RoomLimitError",
    "RoomRuleError",
    "Rooms",
    "TooManyNewMembersError",
    "UnknownUserError",
]
