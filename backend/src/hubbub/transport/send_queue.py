"""One connection's outgoing frames: bounded in count and in size, drained by one writer task.

Fan-out puts into every subscriber's queue for every message, so this is on the hot path:
asyncio.Queue's machinery for many producers waiting on a full queue is not needed here
(producers never wait: a full queue means the connection is cut off), and leaving it out makes
both a put and a writer's wake-up cheaper, and every idle connection smaller.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SendQueue(Generic[T]):
    __slots__ = ("_items", "_max_items", "_max_size", "_size", "_size_of", "_waiter")

    def __init__(self, max_items: int, max_size: int, size_of: Callable[[T], int]) -> None:
        self._items: deque[T] = deque()
        self._max_items = max_items
        self._max_size = max_size
        self._size_of = size_of
        self._size = 0
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """What the queued items add up to, by ``size_of``."""
        return self._size

    def half_full(self) -> bool:
        return len(self._items) * 2 >= self._max_items or self._size * 2 >= self._max_size

    def put(self, item: T) -> bool:
        """Queue the item, or return False if it does not fit. One item larger than the whole
        size budget fits into an empty queue, so no frame is too large to ever send."""
        size = self._size_of(item)
        if self._items and (len(self._items) >= self._max_items or self._size + size > self._max_size):
            return False
        self._items.append(item)
        self._size += size
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    async def get(self) -> T:
        """The oldest item, waiting for one if there is none. For one consumer at a time."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._take()

    def get_nowait(self) -> T | None:
        return self._take() if self._items else None

    def _take(self) -> T:
        item = self._items.popleft()
        self._size -= self._size_of(item)
        return item
