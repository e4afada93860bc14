"""The search indexer waits for a pause in the messages before it indexes them (a burst's acks
and fan-out do not share the event loop with its work), and for no longer than ``most``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from hubbub.chat.search_indexer import SearchIndexer
from hubbub.store import Store


async def until(done: Callable[[], object]) -> None:
    """Wait for the condition itself (30 s at most: a slow machine only waits longer)."""
    async with asyncio.timeout(30):
        while not done():
            await asyncio.sleep(0.01)


class Followed:
    """A store that only records what the indexer asks it to follow."""

    def __init__(self) -> None:
        self.asked: list[list[str] | None] = []

    async def follow_index(self, rooms: list[str] | None, limit: int) -> int:
        self.asked.append(rooms)
        return 0


async def test_rooms_are_indexed_once_their_messages_pause() -> None:
    store = Followed()
    indexer = SearchIndexer(cast(Store, store), settle=0.05, most=3600)
    try:
        indexer.nudge(["general"])
        indexer.nudge(["ops"])
        await until(lambda: store.asked)
        assert store.asked == [["general", "ops"]]  # the two nudges, one pass
    finally:
        await indexer.close()


async def test_nothing_is_indexed_while_messages_keep_coming() -> None:
    store = Followed()
    indexer = SearchIndexer(cast(Store, store), settle=3600, most=3600)
    try:
        indexer.nudge(["general"])
        for _ in range(100):  # the indexer's task runs many times over; it only waits
            await asyncio.sleep(0)
        assert store.asked == []
    finally:
        await indexer.close()


async def test_a_stream_with_no_pause_is_indexed_after_most_seconds() -> None:
    store = Followed()
    indexer = SearchIndexer(cast(Store, store), settle=3600, most=0.05)
    try:
        indexer.nudge(["general"])
        await until(lambda: store.asked)
        assert store.asked == [["general"]]
    finally:
        await indexer.close()
