"""The stores as the tests make them: the product's, plus what only tests ask of a store."""

from __future__ import annotations

from typing import Any

from hubbub.store import Store
from hubbub.store import create_store as create_product_store


class TestStore:
    """A store, and `room_head` (the newest seq of a room, None when there is none): read
    through the store's own verbs, so the product needs no verb of its own for it."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def room_head(self, name: str) -> int | None:
        room = await self._store.room(name)
        return None if room is None else room.head


def create_store(url: str, sqlite_synchronous: str = "full") -> Any:
    return TestStore(create_product_store(url, sqlite_synchronous))
