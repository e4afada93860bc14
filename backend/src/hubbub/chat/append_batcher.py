"""Group commit: the messages that arrive while one store transaction runs go in the next one.

Under load this turns one store round trip, one broker publish wake-up and one writer wake-up
per message and recipient into one per batch; at rest a batch is one message and nothing waits.
Batches run one at a time, so messages are stored and published in the order they were posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from hubbub.model import (
    Appended,
    AppendError,
    Draft,
    MessageRejectedError,
    StoredMessage,
    StoreUnavailableError,
)
from hubbub.store import Store

log = logging.getLogger("hubbub.append")

MAX_BATCH = 256  # drafts per transaction: bounds how long one commit holds the room locks
# Messages published together, between two yields to the event loop. An in-process broker fans
# out as a function call: publishing a whole batch at once would put it all into every
# connection's send queue before any writer runs, so a burst the size of a queue would evict
# every reader.
PUBLISH_SLICE = 16

OnStored = Callable[[list[StoredMessage]], Awaitable[None]]  # publishes newly stored messages


class AppendBatcher:
    def __init__(self, store: Store, on_stored: OnStored) -> None:
        self._store = store
        self._on_stored = on_stored
        self._pending: list[tuple[Draft, asyncio.Future[tuple[StoredMessage, bool]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, draft: Draft) -> tuple[StoredMessage, bool]:
        """Store the draft (in the next batch), publish it if new, then return (message, created).

        Raises StoreUnavailableError when the store could not be reached for its batch, and an
        AppendError (UnknownRoomError, MessageRejectedError) that concerns this draft alone.
        A caller cancelled while waiting does not unsend: the message is still stored and
        published, as the client may see from its history.
        """
        future: asyncio.Future[tuple[StoredMessage, bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((draft, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="hubbub-append")
        return await future

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for _draft, future in self._pending:
            future.cancel()
        self._pending.clear()

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._commit(batch)
        finally:
            self._flusher = None

    async def _commit(self, batch: list[tuple[Draft, asyncio.Future[tuple[StoredMessage, bool]]]]) -> None:
        try:
            results = await self._store_batch([draft for draft, _future in batch])
        except asyncio.CancelledError:
            for _draft, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _draft, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        outcomes = [(future, result) for (_draft, future), result in zip(batch, results, strict=True)]
        try:
            for start in range(0, len(outcomes), PUBLISH_SLICE):
                if start:
                    await asyncio.sleep(0)
                part = outcomes[start : start + PUBLISH_SLICE]
                created = [r[0] for _f, r in part if not isinstance(r, AppendError) and r[1]]
                if created:
                    try:
                        await self._on_stored(created)
                    except Exception:
                        # Stored is what counts: subscribers fill the gap from the store.
                        first = created[0]
                        log.exception("publishing %d from %s/%d failed", len(created), first.room, first.seq)
                for future, result in part:
                    if future.done():
                        continue
                    if isinstance(result, AppendError):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            # Only when stopping mid-batch: those messages are stored; clients resume them.
            for _draft, future in batch:
                future.cancel()

    async def _store_batch(self, drafts: list[Draft]) -> list[Appended]:
        """The store's outcome per draft. Stores isolate each draft already; should a batch
        still fail for a reason other than the store being unreachable (one draft tripping
        something the store did not expect), each draft is tried again on its own, so that one
        sender's bad message never fails another's."""
        try:
            return await self._store.append_many(drafts)
        except StoreUnavailableError:
            raise
        except Exception:
            if len(drafts) == 1:
                raise
            log.exception("a batch of %d failed; storing its drafts one by one", len(drafts))
        results: list[Appended] = []
        for draft in drafts:
            try:
                results.extend(await self._store.append_many([draft]))
            except StoreUnavailableError:
                raise
            except Exception as exc:
                log.warning("message of %s in %s not stored: %r", draft.author, draft.room, exc)
                results.append(MessageRejectedError(f"{type(exc).__name__}: {exc}"))
        return results
