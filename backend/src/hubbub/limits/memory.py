"""This process's limiter: for one worker (or several that each count for themselves)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from hubbub.limits.base import forget_after, lock_seconds

# Keys kept at most; the oldest go first, so a flood of new keys cannot grow memory without end.
MAX_KEYS = 100_000


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key -> (failures, locked until, forget at)
        self._failures: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        self._actions: OrderedDict[str, deque[float]] = OrderedDict()
        self._notes: OrderedDict[str, float] = OrderedDict()  # key -> until

    def _failure_entry(self, key: str, now: float) -> tuple[int, float, float] | None:
        entry = self._failures.get(key)
        if entry is not None and entry[2] < now:
            del self._failures[key]
            return None
        return entry

    async def locked_for(self, keys: list[str]) -> float:
        now = self._clock()
        waits = [entry[1] - now for key in keys if (entry := self._failure_entry(key, now)) is not None]
        return max([0.0, *waits])

    async def failed(self, key: str, free: int, max_lock: float) -> float:
        now = self._clock()
        entry = self._failure_entry(key, now)
        failures = (entry[0] if entry else 0) + 1
        lock = lock_seconds(failures, free, max_lock)
        self._failures[key] = (failures, now + lock, now + forget_after(max_lock))
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)
        return lock

    async def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    async def remember(self, key: str, seconds: float) -> None:
        self._notes[key] = self._clock() + seconds
        self._notes.move_to_end(key)
        while len(self._notes) > MAX_KEYS:
            self._notes.popitem(last=False)

    async def remembered(self, key: str) -> bool:
        until = self._notes.get(key)
        return until is not None and until > self._clock()

    async def take(self, key: str, per_minute: float) -> float:
        now = self._clock()
        times = self._actions.setdefault(key, deque())
        self._actions.move_to_end(key)
        while times and times[0] <= now - 60:
            times.popleft()
        if len(times) >= per_minute:
            return times[0] + 60 - now
        times.append(now)
        while len(self._actions) > MAX_KEYS:
            self._actions.popitem(last=False)
        return 0.0

    async def close(self) -> None:
        return None
