"""Who is online in each room, across workers: the state, its timers, and what it tells whom.

Each worker counts its own connections per room and user. Whenever that local view changes,
the worker publishes the whole of it through the broker (coalesced over PUBLISH_DELAY), and
again on every heartbeat; peers keep each other's view until it expires, so a worker that
dies without a word drops out after ``ttl`` seconds. A worker that starts asks the others for
theirs. Changes to the merged view are told to this worker's subscribers of the room,
gathered over NOTIFY_DELAY into one frame per room: a mass reconnect of n users costs each
client one frame, not n. Each frame says who came and who went (the last word per user in the
window), not the whole list: a client applies it to the list its ``joined`` reply gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from hubbub.chat.envelope import Envelope, PresenceQuery, PresenceSnapshot
from hubbub.contract.events import PresenceEvent

PUBLISH_DELAY = 0.05  # seconds: a burst of joins costs peers one snapshot
NOTIFY_DELAY = 0.1  # seconds: a burst of changes costs each local client one frame per room

Publish = Callable[[Envelope], Coroutine[Any, Any, None]]
Notify = Callable[[str, PresenceEvent], None]  # room, event for its local subscribers
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class Presence:
    def __init__(
        self,
        worker_id: str,
        *,
        heartbeat: float,
        publish: Publish,
        notify: Notify,
        spawn: Spawn,
        notify_delay: float = NOTIFY_DELAY,
        publish_delay: float = PUBLISH_DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker_id = worker_id
        self._heartbeat_seconds = heartbeat
        self._ttl = heartbeat * 3
        self._publish = publish
        self._notify = notify
        self._spawn = spawn
        self._notify_delay = notify_delay
        self._publish_delay = publish_delay
        self._clock = clock  # when peers' views expire (a test's own clock)
        self._local: dict[str, Counter[str]] = {}
        self._remote: dict[str, tuple[float, dict[str, set[str]]]] = {}
        # room -> user -> online?  (flips within one notification window cancel out)
        self._changes: dict[str, dict[str, bool]] = {}
        self._publish_pending = False
        self._heartbeat: asyncio.Task[None] | None = None

    # --- lifecycle
    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat(), name="hubbub-presence")
        await self._publish(PresenceQuery(self.worker_id))

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        # Tell peers at once that this worker's users are gone rather than let them expire.
        await self._publish(PresenceSnapshot(self.worker_id, {}))

    # --- this worker's connections
    def users(self, room: str) -> list[str]:
        return sorted(self._union(room))

    def join(self, room: str, user: str) -> None:
        """One more local connection of ``user`` in ``room``. Constant time: a wave of n joins
        must not cost n times the room's size."""
        counts = self._local.setdefault(room, Counter())
        counts[user] += 1
        if counts[user] == 1:
            if not self._online_elsewhere(room, user):
                self._changed(room, user, True)
            self._publish_soon()

    def leave(self, room: str, user: str) -> None:
        counts = self._local.get(room)
        if counts is None or counts[user] == 0:
            return
        counts[user] -= 1
        if counts[user] == 0:
            del counts[user]
            if not counts:
                del self._local[room]
            if not self._online_elsewhere(room, user):
                self._changed(room, user, False)
            self._publish_soon()

    def everyone(self) -> set[str]:
        """Every user online in some room, through any worker."""
        users: set[str] = set()
        for counts in self._local.values():
            users.update(counts)
        for _expires, rooms in self._remote.values():
            for members in rooms.values():
                users |= members
        return users

    def local_view(self) -> dict[str, list[str]]:
        return {room: sorted(counts) for room, counts in self._local.items()}

    # --- other workers
    def on_snapshot(self, snapshot: PresenceSnapshot) -> None:
        if snapshot.worker == self.worker_id:
            return
        previous = self._remote.get(snapshot.worker, (0.0, {}))[1]
        report = self._tracking(set(previous) | set(snapshot.rooms))
        self._remote[snapshot.worker] = (
            self._clock() + self._ttl,
            {room: set(users) for room, users in snapshot.rooms.items() if users},
        )
        report()

    def on_query(self, query: PresenceQuery) -> None:
        if query.worker != self.worker_id:
            self._publish_soon()

    def on_broker_reconnect(self) -> None:
        """Peers may have missed snapshots, and this worker theirs: exchange them again."""
        self._publish_soon()
        self._spawn(self._publish(PresenceQuery(self.worker_id)), "hubbub-presence-query")

    def expire(self) -> None:
        now = self._clock()
        for worker_id, (expires, rooms) in list(self._remote.items()):
            if expires < now:
                report = self._tracking(rooms)
                del self._remote[worker_id]
                report()

    # --- internals
    def _online_elsewhere(self, room: str, user: str) -> bool:
        """Whether another worker has the user in the room (so this worker's count for it going
        from 0 to 1, or back, changes nothing in the merged view)."""
        return any(user in rooms.get(room, ()) for _expires, rooms in self._remote.values())

    def _union(self, room: str) -> set[str]:
        users = set(self._local.get(room, ()))
        for _expires, rooms in self._remote.values():
            users |= rooms.get(room, set())
        return users

    def _tracking(self, rooms: Iterable[str]) -> Callable[[], None]:
        """Snapshot the given rooms; calling the result records what changed since."""
        before = {room: self._union(room) for room in rooms}

        def report() -> None:
            for room, old in before.items():
                new = self._union(room)
                for user in sorted(new - old):
                    self._changed(room, user, True)
                for user in sorted(old - new):
                    self._changed(room, user, False)

        return report

    def _changed(self, room: str, user: str, online: bool) -> None:
        """The user went online (or offline) in the merged view of the room. Every call is a
        flip, so a second flip within one window undoes the first: a reconnect (a leave and a
        join, even through two workers) that fits in one window is no news, not a "joined"
        about someone who never left."""
        if not self._changes:
            self._spawn(self._notify_soon(), "hubbub-presence-notify")
        window = self._changes.setdefault(room, {})
        if window.get(user, online) != online:
            del window[user]
        else:
            window[user] = online

    async def _notify_soon(self) -> None:
        await asyncio.sleep(self._notify_delay)
        changes, self._changes = self._changes, {}
        for room, users in changes.items():
            if not users:
                continue
            # Deltas, not the whole list: ten evictions in a room of a thousand cost each client
            # a frame of ten names, not one of a thousand.
            event = PresenceEvent(
                room=room,
                joined=sorted(user for user, online in users.items() if online),
                left=sorted(user for user, online in users.items() if not online),
            )
            self._notify(room, event)

    def _publish_soon(self) -> None:
        if not self._publish_pending:
            self._publish_pending = True
            self._spawn(self._publish_after_delay(), "hubbub-presence-publish")

    async def _publish_after_delay(self) -> None:
        await asyncio.sleep(self._publish_delay)
        self._publish_pending = False
        await self._publish(PresenceSnapshot(self.worker_id, self.local_view()))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            self.expire()
            await self._publish(PresenceSnapshot(self.worker_id, self.local_view()))
