"""This worker's connections, by room. Fan-out hands each subscriber the same encoded frame."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from hubbub.auth.base import Identity
from hubbub.contract import tutorial
from hubbub.contract.events import Removed, encode


class RoomEvent:
    """One event for one room, encoded once for every subscriber of this worker."""

    __slots__ = ("_text", "change", "droppable", "frame", "frame_wire", "room", "seq", "text_wire")

    def __init__(
        self,
        room: str,
        frame: str | None,
        seq: int | None = None,
        text: str | None = None,
        droppable: bool = False,
        change: int | None = None,
    ) -> None:
        self.room = room
        self.droppable = droppable  # may be skipped for a connection that is falling behind
        self.frame = frame  # JSON frame for protocol clients; None when they have no use for it
        self.seq = seq  # set for stored chat messages, and for changes: the changed message's
        self.change = change  # set for a change to a stored message (edit, delete, reaction)
        self._text = text
        # Its frame and text as WebSocket bytes, made once by the transport for every connection.
        self.frame_wire: bytes | None = None
        self.text_wire: bytes | None = None

    @property
    def text(self) -> str | None:
        """The line plain-text clients get. For a stored message it is made from its frame on
        first use, and shared after: only a worker with plain-text clients in the room pays."""
        if self._text is None and self.seq is not None and self.change is None and self.frame is not None:
            data = json.loads(self.frame)
            names = [file["name"] for file in data.get("files", ())]
            self._text = tutorial.chat_line(data["author"], data["client_id"], data["body"], names)
        return self._text


class Subscriber(Protocol):
    identity: Identity
    user: str
    session_id: str | None
    address: str  # the client's IP address

    def deliver(self, event: RoomEvent) -> None:
        """Queue the event without waiting; a subscriber that cannot keep up closes itself."""
        ...

    def deliver_global(self, frame: str) -> None: ...

    def resync(self) -> None:
        """Live events may have been lost (the broker reconnected): recover from the store."""
        ...

    def kick(self, code: int, reason: str) -> None: ...

    def removed(self, room: str, reason: str) -> None:
        """The user is no longer a member of the room: leave it, and say so."""
        ...


class Hub:
    def __init__(self) -> None:
        self._rooms: dict[str, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()
        self._by_user: dict[str, set[Subscriber]] = {}
        self._per_address: Counter[str] = Counter()
        self._joined: dict[Subscriber, set[str]] = {}  # its rooms: a leave looks at them alone
        # Subscriptions of joins still checking membership: they hear the room's events and
        # its removals, but the connection is not in the room (nor present in it) until confirmed.
        self._pending: set[tuple[str, Subscriber]] = set()

    def add(self, subscriber: Subscriber) -> bool:
        """True when it is its user's first connection here."""
        if subscriber in self._all:
            return False
        self._all.add(subscriber)
        mine = self._by_user.setdefault(subscriber.user, set())
        mine.add(subscriber)
        self._per_address[subscriber.address] += 1
        return len(mine) == 1

    def remove(self, subscriber: Subscriber) -> list[str]:
        """Forget the subscriber; returns the rooms it was still in (confirmed)."""
        if subscriber in self._all:
            self._all.discard(subscriber)
            mine = self._by_user[subscriber.user]
            mine.discard(subscriber)
            if not mine:
                del self._by_user[subscriber.user]
            self._per_address[subscriber.address] -= 1
            if self._per_address[subscriber.address] <= 0:
                del self._per_address[subscriber.address]
        rooms = sorted(self._joined.get(subscriber, ()))
        return [room for room in rooms if self.unsubscribe(room, subscriber)]

    def subscribe(self, room: str, subscriber: Subscriber, *, pending: bool = False) -> bool:
        """True if it was not subscribed yet. A ``pending`` one stands once ``confirm``ed."""
        subscribers = self._rooms.setdefault(room, set())
        if subscriber in subscribers:
            return False
        subscribers.add(subscriber)
        self._joined.setdefault(subscriber, set()).add(room)
        if pending:
            self._pending.add((room, subscriber))
        return True

    def confirm(self, room: str, subscriber: Subscriber) -> bool:
        """The subscription stands from now on; False when it was ended meanwhile (the user
        was removed from the room, or the connection went)."""
        self._pending.discard((room, subscriber))
        return subscriber in self._rooms.get(room, ())

    def unsubscribe(self, room: str, subscriber: Subscriber) -> bool:
        """True if it was subscribed, and confirmed."""
        subscribers = self._rooms.get(room)
        if subscribers is None or subscriber not in subscribers:
            return False
        subscribers.discard(subscriber)
        if not subscribers:
            del self._rooms[room]
        joined = self._joined[subscriber]
        joined.discard(room)
        if not joined:
            del self._joined[subscriber]
        if (room, subscriber) in self._pending:
            self._pending.discard((room, subscriber))
            return False
        return True

    def dispatch(self, event: RoomEvent) -> int:
        """Offer the event to the room's subscribers; returns how many there were."""
        # A copy: a subscriber that overflows leaves the room while we iterate.
        subscribers = tuple(self._rooms.get(event.room, ()))
        for subscriber in subscribers:
            subscriber.deliver(event)
        return len(subscribers)

    def dispatch_global(self, frame: str) -> None:
        for subscriber in tuple(self._all):
            subscriber.deliver_global(frame)

    def dispatch_to_users(self, users: tuple[str, ...], frame: str) -> None:
        for user in users:
            for subscriber in tuple(self._by_user.get(user, ())):
                subscriber.deliver_global(frame)

    def connections_not_in(self, room: str, user: str) -> list[Subscriber]:
        """The user's connections here that have not joined the room."""
        joined = self._rooms.get(room, ())
        return [subscriber for subscriber in self._by_user.get(user, ()) if subscriber not in joined]

    def remove_member(self, room: str, user: str, reason: str) -> None:
        """The user's connections leave the room (they were removed from it, or left); those
        that had not joined it hear of it too, so that every tab's room list follows."""
        joined = self._rooms.get(room, set())
        told: str | None = None
        for subscriber in tuple(self._by_user.get(user, ())):
            if subscriber in joined:
                subscriber.removed(room, reason)
            else:
                told = told or encode(Removed(room=room, reason="left" if reason == "left" else "removed"))
                subscriber.deliver_global(told)

    def resync(self) -> None:
        for subscriber in tuple(self._all):
            subscriber.resync()

    def kick_session(self, session_id: str, code: int, reason: str) -> None:
        for subscriber in tuple(self._all):
            if subscriber.session_id == session_id:
                subscriber.kick(code, reason)

    def kick_user(self, user: str, code: int, reason: str) -> None:
        for subscriber in tuple(self._by_user.get(user, ())):
            subscriber.kick(code, reason)

    def set_admin(self, user: str, admin: bool) -> None:
        """The user's role changed: their open connections act with the new one from now on."""
        for subscriber in self._by_user.get(user, ()):
            if subscriber.identity.admin != admin:
                subscriber.identity = replace(subscriber.identity, admin=admin)

    def kick_all(self, code: int, reason: str) -> None:
        for subscriber in tuple(self._all):
            subscriber.kick(code, reason)

    def kick_if(self, predicate: Callable[[Subscriber], bool], code: int, reason: str) -> int:
        """Close every subscriber the predicate picks; returns how many."""
        picked = [subscriber for subscriber in self._all if predicate(subscriber)]
        for subscriber in picked:
            subscriber.kick(code, reason)
        return len(picked)

    def connections_of(self, user: str) -> int:
        return len(self._by_user.get(user, ()))

    def connections_from(self, address: str) -> int:
        return self._per_address[address]
