"""Where something new happened: read positions, and new messages told as counts to the
connections that are not looking at the room.

Each worker knows, for the users connected to it, which rooms they are members of (read once
per user when their first connection arrives, then kept by membership events). When a batch of
stored messages arrives, every connection of such a user that has not joined the room gets
one `unread` event per room: how many of the new messages are not theirs, and how many of
those mention them. Nothing is written per member: a read position is one row per member and
room, written when that member reads, and counts on a fresh list come from the store.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from hubbub.auth.base import Identity
from hubbub.chat import envelope
from hubbub.chat.hub import Hub, Subscriber
from hubbub.contract.events import ReadEvent, UnreadEvent, encode
from hubbub.model import ROOM_MENTION, ReadBeyondHeadError, RoomInfo, UnknownRoomError
from hubbub.store import Store

Publish = Callable[[envelope.Envelope], Coroutine[Any, Any, None]]
Visible = Callable[[Identity | None, str], Awaitable[RoomInfo]]


class Attention:
    def __init__(self, store: Store, hub: Hub, publish: Publish, visible: Visible) -> None:
        self._store = store
        self._hub = hub
        self._publish = publish
        self._visible = visible
        self._watchers: dict[str, set[str]] = {}  # room -> local users who are members of it
        self._rooms_of: dict[str, set[str]] = {}  # local user -> their rooms
        self._connections: dict[str, int] = {}  # local user -> JSON connections

    # --- who is watching, on this worker
    async def watch(self, subscriber: Subscriber) -> None:
        """A JSON connection arrived: its user's rooms are watched while it has one here."""
        user = subscriber.user
        self._connections[user] = self._connections.get(user, 0) + 1
        if self._connections[user] == 1:
            rooms = set(await self._store.member_rooms(user))
            if self._connections.get(user, 0) > 0 and user not in self._rooms_of:
                self._rooms_of[user] = rooms
                for room in rooms:
                    self._watchers.setdefault(room, set()).add(user)

    def unwatch(self, subscriber: Subscriber) -> None:
        user = subscriber.user
        if self._connections.get(user, 0) <= 0:
            return
        self._connections[user] -= 1
        if self._connections[user] > 0:
            return
        del self._connections[user]
        for room in self._rooms_of.pop(user, ()):
            self._forget(room, user)

    def members_added(self, room: str, users: tuple[str, ...]) -> None:
        for user in users:
            if user in self._rooms_of:
                self._rooms_of[user].add(room)
                self._watchers.setdefault(room, set()).add(user)

    def member_removed(self, room: str, user: str) -> None:
        if user in self._rooms_of:
            self._rooms_of[user].discard(room)
            self._forget(room, user)

    def _forget(self, room: str, user: str) -> None:
        watchers = self._watchers.get(room)
        if watchers is not None:
            watchers.discard(user)
            if not watchers:
                del self._watchers[room]

    # --- new messages
    def messages(self, stored: tuple[tuple[str, int, str], ...]) -> None:
        """A batch of stored messages arrived: tell the watchers' other connections. Users
        whose counts come out the same share one encoded frame: a room of a thousand members
        costs a frame or two per message, not a model and its JSON per member."""
        by_room: dict[str, list[tuple[int, str]]] = {}
        for room, seq, frame in stored:
            if room in self._watchers:
                by_room.setdefault(room, []).append((seq, frame))
        for room, messages in by_room.items():
            parsed = [json.loads(frame) for _seq, frame in messages]
            newest = messages[-1][0]
            written = Counter(m["author"] for m in parsed)
            # Per user, how many of the batch mention them (or the room) and are not theirs.
            everyone = [m["author"] for m in parsed if ROOM_MENTION in m["mentions"]]
            named: Counter[str] = Counter()
            for m in parsed:
                for user in m["mentions"]:
                    if user != ROOM_MENTION and user != m["author"] and ROOM_MENTION not in m["mentions"]:
                        named[user] += 1
            everyone_by = Counter(everyone)
            frames: dict[tuple[int, int], str] = {}
            for user in tuple(self._watchers.get(room, ())):
                count = len(parsed) - written[user]
                if count == 0:
                    continue
                elsewhere = self._hub.connections_not_in(room, user)
                if not elsewhere:
                    continue
                mentioned = named[user] + len(everyone) - everyone_by[user]
                told = frames.get((count, mentioned))
                if told is None:
                    event = UnreadEvent(room=room, seq=newest, count=count, mentions=mentioned)
                    told = frames[count, mentioned] = encode(event)
                for subscriber in elsewhere:
                    subscriber.deliver_global(told)

    # --- reading
    async def read(self, actor: Identity, room: str, seq: int) -> int:
        """Move the actor's read position up to seq; every connection of theirs, on every
        worker, hears of it. Raises UnknownRoomError (not a member: the room does not exist
        for them), ReadBeyondHeadError."""
        info = await self._visible(actor, room)
        if seq > info.head:
            raise ReadBeyondHeadError(info.head)
        position = await self._store.mark_read(room, actor.user, seq)
        if position is None:  # a public room they never joined
            raise UnknownRoomError(room)
        await self._publish(envelope.ToUsers((actor.user,), encode(ReadEvent(room=room, seq=position))))
        return position
