"""The search index follows the messages in the background, after they are acknowledged and
fanned out: storing a message never waits for it.

The service nudges it with the rooms whose messages it stored or changed; once the messages
pause (SETTLE_SECONDS), it indexes them in small steps (``STEP`` messages per store
transaction), one after another, so a message being stored waits at most one step's
transaction on the SQLite writer. At start it sweeps every room: what another worker stored
and did not index (it stopped), and the history from before search. What it has not got to
yet, a search catches up on itself (Store.search), so nothing depends on how soon this runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from hubbub.store import Store

log = logging.getLogger("hubbub.search")

STEP = 64  # messages per transaction
RETRY_SECONDS = (1.0, 60.0)  # after a failure: the first wait, doubling up to the last
# Indexing waits for a pause in the messages: SETTLE_SECONDS with no new one, or MOST_SECONDS
# after the first it has not indexed. Indexing takes the event loop's thread (the grams are
# made in Python) and the SQLite writer, and done during a burst it held up the burst's own
# acks and fan-out: 2,000 messages sent at once to 100 clients, ack p50 164-321 ms against
# 32-34 ms with no indexing (bench/run.py --only fanout-100, docs/benchmarks.md). After the
# pause the same work costs the messages nothing; a search meanwhile indexes what it reads.
SETTLE_SECONDS = 0.5
MOST_SECONDS = 5.0


class SearchIndexer:
    def __init__(
        self, store: Store, step: int = STEP, settle: float = SETTLE_SECONDS, most: float = MOST_SECONDS
    ) -> None:
        self._store = store
        self._step = step
        self._settle = settle
        self._most = most
        self._rooms: set[str] = set()
        self._everything = False
        self._task: asyncio.Task[None] | None = None
        self._nudged = asyncio.Event()

    def nudge(self, rooms: Iterable[str]) -> None:
        """The rooms have new or changed messages."""
        self._rooms.update(rooms)
        self._nudged.set()
        self._wake()

    def sweep(self) -> None:
        """Look at every room."""
        self._everything = True
        self._wake()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _wake(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hubbub-search-index")

    async def _run(self) -> None:
        wait = RETRY_SECONDS[0]
        try:
            while self._everything or self._rooms:
                await self._pause()
                everything, rooms = self._everything, sorted(self._rooms)
                self._everything, self._rooms = False, set()
                try:
                    indexed = await self._follow(None if everything else rooms)
                except Exception as exc:
                    log.warning(
                        "search index: could not follow the messages (next try in %.0f s): %r", wait, exc
                    )
                    self._everything |= everything
                    self._rooms.update(rooms)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, RETRY_SECONDS[1])
                    continue
                wait = RETRY_SECONDS[0]
                if everything and indexed:
                    log.info("search index: %d messages indexed, up to date", indexed)
        finally:
            self._task = None

    async def _pause(self) -> None:
        """Until no room was nudged for ``settle`` seconds, or ``most`` have passed."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self._most
        while (left := until - loop.time()) > 0:
            self._nudged.clear()
            try:
                await asyncio.wait_for(self._nudged.wait(), min(self._settle, left))
            except TimeoutError:
                return

    async def _follow(self, rooms: list[str] | None) -> int:
        total = 0
        while True:
            looked = await self._store.follow_index(rooms, self._step)
            total += looked
            if looked < self._step:
                return total
            if total % (self._step * 1000) < self._step:
                log.info("search index: %d messages indexed so far", total)
