"""Who is online in each room, across workers.

Each worker owns its local counts and publishes its whole view through the broker whenever it
changes (coalesced) and on a heartbeat; peers keep each other's view until it expires, so a
worker that dies without a word drops out after ``ttl`` seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

ChangeHandler = Callable[[str, str, bool], None]  # room, user, joined


class Presence:
    def __init__(self, worker_id: str, ttl: float, on_change: ChangeHandler) -> None:
        self.worker_id = worker_id
        self._ttl = ttl
        self._on_change = on_change
        self._local: dict[str, Counter[str]] = {}
        self._remote: dict[str, tuple[float, dict[str, set[str]]]] = {}

    def users(self, room: str) -> list[str]:
        return sorted(self._union(room))

    def _union(self, room: str) -> set[str]:
        users = set(self._local.get(room, ()))
        for _expires, rooms in self._remote.values():
            users |= rooms.get(room, set())
        return users

    def _tracking(self, rooms: Iterable[str]) -> Callable[[], None]:
        """Snapshot the given rooms; calling the result reports what changed since."""
        before = {room: self._union(room) for room in rooms}

        def report() -> None:
            for room, old in before.items():
                new = self._union(room)
                for user in sorted(new - old):
                    self._on_change(room, user, True)
                for user in sorted(old - new):
                    self._on_change(room, user, False)

        return report

    def add(self, room: str, user: str) -> bool:
        """Count one more local connection of user in room; True if the local view changed."""
        report = self._tracking([room])
        counts = self._local.setdefault(room, Counter())
        counts[user] += 1
        report()
        return counts[user] == 1

    def remove(self, room: str, user: str) -> bool:
        counts = self._local.get(room)
        if counts is None or counts[user] == 0:
            return False
        report = self._tracking([room])
        counts[user] -= 1
        if counts[user] == 0:
            del counts[user]
            if not counts:
                del self._local[room]
            report()
            return True
        return False

    def local_view(self) -> dict[str, list[str]]:
        return {room: sorted(counts) for room, counts in self._local.items()}

    def merge_remote(self, worker_id: str, rooms: dict[str, list[str]]) -> None:
        if worker_id == self.worker_id:
            return
        previous = self._remote.get(worker_id, (0.0, {}))[1]
        report = self._tracking(set(previous) | set(rooms))
        self._remote[worker_id] = (
            time.monotonic() + self._ttl,
            {room: set(users) for room, users in rooms.items() if users},
        )
        report()

    def expire(self) -> None:
        now = time.monotonic()
        for worker_id, (expires, rooms) in list(self._remote.items()):
            if expires < now:
                report = self._tracking(rooms)
                del self._remote[worker_id]
                report()
