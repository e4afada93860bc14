"""The stores as the tests make them: the product's, plus what only tests ask of a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.store import Store
from hubbub.store import create_store as create_product_store
from tests.conftest import fresh_database


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


@pytest.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of each kind (a module takes it with ``from tests.stores import
    store, store_url``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'hubbub.db'}"
    else:
        async with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A started store on that database."""
    instance = create_store(store_url)
    await instance.start()
    yield instance
    await instance.close()
