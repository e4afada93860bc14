"""One connection's frames that could not be written at once: bounded in count and in size.

A connection only has one while something waits (connection.py), and its writer task is the
one consumer, started for it: asyncio.Queue's machinery for waiting producers and consumers is
not needed (producers never wait: a full queue means the connection is cut off, and the writer
never waits on an empty one: it ends), and leaving it out makes a put cheaper.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SendQueue(Generic[T]):
    __slots__ = ("_items", "_max_items", "_max_size", "_size", "_size_of")

    def __init__(self, max_items: int, max_size: int, size_of: Callable[[T], int]) -> None:
        self._items: deque[T] = deque()
        self._max_items = max_items
        self._max_size = max_size
        self._size_of = size_of
        self._size = 0

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
        return True

    def get_nowait(self) -> T | None:
        return self._take() if self._items else None

    def _take(self) -> T:
        item = self._items.popleft()
        self._size -= self._size_of(item)
        return item
