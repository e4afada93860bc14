"""Who is online in each room, across workers: the state, its timers, and what it tells whom.

Each worker counts its own connections per room and user. Whenever that local view changes,
the worker publishes the whole of it through the broker (coalesced, and paced by its size),
and again on every heartbeat; peers keep each other's view until it expires, so a worker that
dies without a word drops out after ``ttl`` seconds. A worker that starts asks the others for
theirs. A worker on the in-process broker has no peers and publishes nothing.

The merged view (who is online in each room through any worker) is kept up to date as each
change comes, so a join, a leave, a room's count and its list cost the same in a room of
twenty thousand as in a room of two. Changes to it are told to this worker's subscribers of
the room, gathered over a window and paced (chat/pacing.py) into one frame per room: a mass
reconnect costs each client a frame now and then, not one per user. Each frame says who came
and who went (the last word per user in the window) and how many are online. A room with more
than LIST_MOST online is a count: its list and its frames name nobody, so its joins and frames
stay small; a frame says so (``users``, the whole list or none) when a room crosses that line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hubbub.chat.envelope import Envelope, PresenceQuery, PresenceSnapshot
from hubbub.chat.pacing import WINDOW, Pacer
from hubbub.contract.events import PresenceEvent

LIST_MOST = 200  # names in a room's list of who is online; beyond, a room's presence is a count
PUBLISH_DELAY = 0.05  # seconds: a burst of joins costs peers one snapshot
SNAPSHOT_ENTRIES_PER_SECOND = 200_000  # (room, user) pairs a worker publishes a second, on average
NOTIFY_DELAY = WINDOW

Publish = Callable[[Envelope], Coroutine[Any, Any, None]]
Notify = Callable[[str, PresenceEvent], int]  # room, event for its local subscribers -> writes
Spawn = Callable[[Coroutine[Any, Any, None], str], None]
Everyone = Callable[[str, bool], None]  # a user came online in some room (True), or left the last


@dataclass(frozen=True, slots=True)
class Online:
    """Who is online in a room: ``users`` by name when there are at most LIST_MOST of them
    (else none), and how many there are."""

    users: list[str]
    count: int


class Presence:
    def __init__(
        self,
        worker_id: str,
        *,
        heartbeat: float,
        publish: Publish,
        notify: Notify,
        spawn: Spawn,
        shared: bool = True,
        everyone: Everyone | None = None,
        notify_delay: float = NOTIFY_DELAY,
        publish_delay: float = PUBLISH_DELAY,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker_id = worker_id
        self._heartbeat_seconds = heartbeat
        self._ttl = heartbeat * 3
        self._publish = publish
        self._notify = notify
        self._spawn = spawn
        self._shared = shared  # False: the in-process broker, no peers to tell or hear from
        self._everyone = everyone
        self._pacer = pacer or Pacer(window=notify_delay)
        self._publish_delay = publish_delay
        self._clock = clock  # when peers' views expire (a test's own clock)
        self._local: dict[str, Counter[str]] = {}  # room -> user -> this worker's connections
        self._local_entries = 0  # (room, user) pairs in it: what a snapshot weighs
        self._remote: dict[str, tuple[float, dict[str, set[str]]]] = {}
        # room -> user -> in how many views (this worker's and each peer's) they are online
        self._merged: dict[str, Counter[str]] = {}
        self._rooms_of: Counter[str] = Counter()  # user -> rooms they are online in, merged
        self._lists: dict[str, list[str]] = {}  # room -> its sorted list, until it changes
        # room -> user -> online?  (flips within one notification window cancel out)
        self._changes: dict[str, dict[str, bool]] = {}
        self._listed: dict[str, bool] = {}  # room -> whether its last frame could name people
        self._publish_pending = False
        self._heartbeat: asyncio.Task[None] | None = None

    # --- lifecycle
    async def start(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat(), name="hubbub-presence")
        if self._shared:
            await self._publish(PresenceQuery(self.worker_id))

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._shared:
            # Tell peers at once that this worker's users are gone rather than let them expire.
            await self._publish(PresenceSnapshot(self.worker_id, {}))

    # --- this worker's connections
    def users(self, room: str) -> Online:
        merged = self._merged.get(room)
        if not merged:
            return Online([], 0)
        if len(merged) > LIST_MOST:
            return Online([], len(merged))
        listed = self._lists.get(room)
        if listed is None:
            listed = self._lists[room] = sorted(merged)
        return Online(listed, len(listed))

    def join(self, room: str, user: str) -> None:
        """One more local connection of ``user`` in ``room``."""
        counts = self._local.setdefault(room, Counter())
        counts[user] += 1
        if counts[user] == 1:
            self._local_entries += 1
            self._came(room, user)
            self._publish_soon()

    def leave(self, room: str, user: str) -> None:
        counts = self._local.get(room)
        if counts is None or counts[user] == 0:
            return
        counts[user] -= 1
        if counts[user] == 0:
            del counts[user]
            self._local_entries -= 1
            if not counts:
                del self._local[room]
            self._went(room, user)
            self._publish_soon()

    def local_view(self) -> dict[str, list[str]]:
        return {room: sorted(counts) for room, counts in self._local.items()}

    # --- other workers
    def on_snapshot(self, snapshot: PresenceSnapshot) -> None:
        if snapshot.worker == self.worker_id:
            return
        previous = self._remote.get(snapshot.worker, (0.0, {}))[1]
        now = {room: set(users) for room, users in snapshot.rooms.items() if users}
        self._remote[snapshot.worker] = (self._clock() + self._ttl, now)
        for room in previous.keys() | now.keys():
            before, after = previous.get(room, set()), now.get(room, set())
            for user in sorted(after - before):
                self._came(room, user)
            for user in sorted(before - after):
                self._went(room, user)

    def on_query(self, query: PresenceQuery) -> None:
        if query.worker != self.worker_id:
            self._publish_soon()

    def on_broker_reconnect(self) -> None:
        """Peers may have missed snapshots, and this worker theirs: exchange them again."""
        if self._shared:
            self._publish_soon()
            self._spawn(self._publish(PresenceQuery(self.worker_id)), "hubbub-presence-query")

    def expire(self) -> None:
        now = self._clock()
        for worker_id, (expires, rooms) in list(self._remote.items()):
            if expires < now:
                del self._remote[worker_id]
                for room, users in rooms.items():
                    for user in sorted(users):
                        self._went(room, user)

    # --- the merged view
    def _came(self, room: str, user: str) -> None:
        """One more view (this worker's, or a peer's) has the user online in the room."""
        merged = self._merged.setdefault(room, Counter())
        merged[user] += 1
        if merged[user] == 1:
            self._lists.pop(room, None)
            self._changed(room, user, True)
            self._rooms_of[user] += 1
            if self._rooms_of[user] == 1 and self._everyone is not None:
                self._everyone(user, True)

    def _went(self, room: str, user: str) -> None:
        merged = self._merged.get(room)
        if merged is None or merged[user] == 0:
            return
        merged[user] -= 1
        if merged[user] == 0:
            del merged[user]
            if not merged:
                del self._merged[room]
            self._lists.pop(room, None)
            self._changed(room, user, False)
            self._rooms_of[user] -= 1
            if self._rooms_of[user] == 0:
                del self._rooms_of[user]
                if self._everyone is not None:
                    self._everyone(user, False)

    def _changed(self, room: str, user: str, online: bool) -> None:
        """The user went online (or offline) in the merged view of the room. Every call is a
        flip, so a second flip within one window undoes the first: a reconnect (a leave and a
        join, even through two workers) that fits in one window is no news, not a "joined"
        about someone who never left."""
        if not self._changes:
            self._spawn(self._notify_soon(self._pacer.delay()), "hubbub-presence-notify")
        window = self._changes.setdefault(room, {})
        if window.get(user, online) != online:
            del window[user]
        else:
            window[user] = online

    async def _notify_soon(self, delay: float) -> None:
        await asyncio.sleep(delay)
        changes, self._changes = self._changes, {}
        writes = 0
        for room, users in changes.items():
            online = self.users(room)
            listed = online.count <= LIST_MOST
            crossed = self._listed.get(room, True) != listed
            if listed:
                self._listed.pop(room, None)
            else:
                self._listed[room] = False
            if not users and not crossed:
                continue
            # Deltas, not the whole list: ten evictions in a room of a hundred cost each client
            # a frame of ten names. A room over the line names nobody; crossing it, the frame
            # carries the whole list (or an empty one) to start from.
            named = listed and not crossed
            event = PresenceEvent(
                room=room,
                joined=sorted(user for user, came in users.items() if came) if named else [],
                left=sorted(user for user, came in users.items() if not came) if named else [],
                online=online.count,
                users=online.users if crossed else None,
            )
            writes += self._notify(room, event)
        self._pacer.spent(writes)

    def _publish_soon(self) -> None:
        if self._shared and not self._publish_pending:
            self._publish_pending = True
            delay = max(self._publish_delay, self._local_entries / SNAPSHOT_ENTRIES_PER_SECOND)
            self._spawn(self._publish_after(delay), "hubbub-presence-publish")

    async def _publish_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._publish_pending = False
        await self._publish(PresenceSnapshot(self.worker_id, self.local_view()))

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            self.expire()
            if self._shared:
                await self._publish(PresenceSnapshot(self.worker_id, self.local_view()))
