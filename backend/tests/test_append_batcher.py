"""Group commit on a real SQLite store: batching, order, failure and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from hubbub.chat.append_batcher import PUBLISH_SLICE, AppendBatcher
from hubbub.store import (
    Appended,
    Draft,
    MessageRejectedError,
    StoredMessage,
    StoreUnavailableError,
    UnknownRoomError,
)
from hubbub.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """SQLite, counting transactions, and failing them on demand."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.batches: list[int] = []
        self.down = False
        self.breaks_on: str | None = None  # a body that makes the whole batch raise

    async def append_many(self, drafts: Sequence[Draft]) -> list[Appended]:
        if self.down:
            raise StoreUnavailableError("down for the test")
        if any(draft.body == self.breaks_on for draft in drafts):
            raise RuntimeError("a bug the store did not expect")
        self.batches.append(len(drafts))
        return await super().append_many(drafts)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CountingStore]:
    instance = CountingStore(str(tmp_path / "hubbub.db"))
    await instance.start()
    await instance.ensure_room("r")
    await instance.add_members("r", ["u", "v", "mallory"])
    yield instance
    await instance.close()


async def test_concurrent_posts_share_transactions_and_publish_in_order(store: CountingStore) -> None:
    published: list[list[StoredMessage]] = []

    async def on_stored(messages: list[StoredMessage]) -> None:
        published.append(messages)

    batcher = AppendBatcher(store, on_stored)
    results = await asyncio.gather(*[batcher.append(Draft("r", "u", f"m{i}")) for i in range(100)])
    assert [m.body for m, _ in results] == [f"m{i}" for i in range(100)]
    assert [m.seq for part in published for m in part] == list(range(1, 101))
    assert sum(store.batches) == 100 and len(store.batches) < 100
    # A batch is published in slices: several messages per publish, never more than a slice.
    assert len(published) < 100 and max(len(part) for part in published) <= PUBLISH_SLICE
    # One at a time, a batch is one message: nothing waits to fill a batch.
    await batcher.append(Draft("r", "u", "alone"))
    assert store.batches[-1] == 1


async def test_failures_reach_their_callers_only(store: CountingStore) -> None:
    async def on_stored(messages: list[StoredMessage]) -> None:
        if any(message.body == "publish fails" for message in messages):
            raise RuntimeError("broker bug")

    batcher = AppendBatcher(store, on_stored)
    good, unknown, unlucky = await asyncio.gather(
        batcher.append(Draft("r", "u", "fine")),
        batcher.append(Draft("gone", "u", "x")),
        batcher.append(Draft("r", "u", "publish fails")),
        return_exceptions=True,
    )
    assert isinstance(unknown, UnknownRoomError)
    # Stored is stored: a publish failure is logged, the sender still gets its message.
    assert not isinstance(good, BaseException) and not isinstance(unlucky, BaseException)
    assert (good[0].seq, unlucky[0].seq) == (1, 2)

    store.down = True
    outcomes = await asyncio.gather(
        *[batcher.append(Draft("r", "u", f"d{i}")) for i in range(5)], return_exceptions=True
    )
    assert all(isinstance(o, StoreUnavailableError) for o in outcomes)
    store.down = False
    assert (await batcher.append(Draft("r", "u", "back")))[0].seq == 3


async def test_a_batch_that_raises_is_stored_draft_by_draft(store: CountingStore) -> None:
    """Should a store still fail a whole batch for one draft, the others are stored anyway."""
    published: list[str] = []

    async def on_stored(messages: list[StoredMessage]) -> None:
        published.extend(message.body for message in messages)

    store.breaks_on = "breaks"
    batcher = AppendBatcher(store, on_stored)
    before, broken, after = await asyncio.gather(
        batcher.append(Draft("r", "u", "before")),
        batcher.append(Draft("r", "mallory", "breaks")),
        batcher.append(Draft("r", "v", "after")),
        return_exceptions=True,
    )
    assert isinstance(broken, MessageRejectedError)
    assert not isinstance(before, BaseException) and not isinstance(after, BaseException)
    assert (before[0].seq, after[0].seq) == (1, 2)
    assert published == ["before", "after"]


async def test_a_cancelled_caller_still_gets_its_message_stored_and_published(store: CountingStore) -> None:
    published: list[str] = []

    async def on_stored(messages: list[StoredMessage]) -> None:
        published.extend(message.body for message in messages)

    batcher = AppendBatcher(store, on_stored)
    waiter = asyncio.create_task(batcher.append(Draft("r", "u", "sent, then gone")))
    await asyncio.sleep(0)
    waiter.cancel()
    await batcher.append(Draft("r", "u", "next"))
    assert published == ["sent, then gone", "next"]
    await batcher.close()
