"""The file collector: what nobody can reach any more leaves the storage.

- An upload never attached to a message is deleted HUBBUB_UNATTACHED_UPLOAD_SECONDS after it
  was made (a row of hubbub_files whose message_seq is still NULL).
- A deleted message's files are deleted with it (store/work/messages.py): from that moment no
  one can download them.
- Bytes that no file names any more (their digest, or their thumbnail's) are deleted from the
  storage once they were last put more than GRACE_SECONDS ago. The grace is what makes this
  safe beside uploads: an upload puts (or re-puts) its bytes and then, within moments, adds the
  row that names them; bytes put within the grace are never deleted, whether or not a row names
  them yet.
- Spool files left in the staging directory by a server that stopped mid-upload go once
  nothing was written to them for SPOOL_SECONDS (a live upload writes to its own all along).

Every worker runs it every COLLECT_SECONDS; running it twice at once is harmless (each
deletion is checked and idempotent). The clock is passed in, so tests move time themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from hubbub.files.base import FileStorage
from hubbub.store import Store

log = logging.getLogger("hubbub.files")

GRACE_SECONDS = 600.0
COLLECT_SECONDS = 600.0
SPOOL_SECONDS = 3600.0
BATCH = 500  # digests asked about at once


@dataclass(frozen=True, slots=True)
class Collected:
    uploads: int  # unattached uploads deleted
    blobs: int  # blobs deleted from the storage
    spooled: int  # stale spool files removed


class FileCollector:
    def __init__(
        self,
        store: Store,
        storage: FileStorage,
        unattached_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._storage = storage
        self._unattached = unattached_seconds
        self._clock = clock

    async def collect(self) -> Collected:
        now = self._clock()
        uploads = await self._store.drop_unattached(int((now - self._unattached) * 1000))
        cutoff = now - GRACE_SECONDS
        blobs = 0
        batch: list[str] = []
        async for digest, put_at in self._storage.listing():
            if put_at < cutoff:
                batch.append(digest)
            if len(batch) >= BATCH:
                blobs += await self._sweep(batch, cutoff)
                batch = []
        if batch:
            blobs += await self._sweep(batch, cutoff)
        spooled = await asyncio.to_thread(self._stale_spool_files, now - SPOOL_SECONDS)
        if uploads or blobs or spooled:
            log.info(
                "file collector: %d unattached uploads, %d stored files, %d spool files removed",
                len(uploads),
                blobs,
                spooled,
            )
        return Collected(len(uploads), blobs, spooled)

    async def _sweep(self, candidates: list[str], cutoff: float) -> int:
        named = await self._store.referenced(candidates)
        deleted = 0
        for digest in candidates:
            if digest not in named and await self._storage.delete(digest, put_before=cutoff):
                deleted += 1
        return deleted

    def _stale_spool_files(self, cutoff: float) -> int:
        removed = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(self._storage.staging) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_file() and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
        return removed

    async def run_forever(self, every: float = COLLECT_SECONDS) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.collect()
            except Exception as exc:  # the next round tries again
                log.warning("file collector failed: %r", exc)
