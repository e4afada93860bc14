"""What every file storage does (the FileStorage protocol); one module per implementation:
local.py (a directory, the default), s3.py (an S3-compatible bucket)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from hubbub.model import StorageUnavailableError

__all__ = ["CHUNK", "DIGEST_RE", "BlobMissingError", "FileStorage", "StorageUnavailableError"]

DIGEST_RE = re.compile(r"[0-9a-f]{64}")  # SHA-256, hex
CHUNK = 64 * 1024  # what a read yields at a time


class BlobMissingError(LookupError):
    """No bytes under that digest."""


class FileStorage(Protocol):
    """Bytes addressed by their SHA-256 (a lowercase hex digest): the same content is kept once,
    however many uploads name it. Blobs are never changed, only put and deleted.

    What names a digest, and so keeps its bytes, is the database's business (hubbub_files); the
    storage only knows when each blob was last put (`listing`), which the collector compares
    with a grace period before it deletes what nothing names (files/collector.py). So `put` of a
    digest that is there already counts as putting it now.
    """

    #: A local directory where uploads are spooled before `put` (on the storage's own file
    #: system when it has one, so that put is a rename).
    staging: Path

    async def start(self) -> None:
        """Make sure the storage is there (directories, the bucket); raise if it cannot be."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StorageUnavailableError unless the storage answers."""
        ...

    async def put(self, digest: str, source: Path) -> None:
        """Keep the bytes of the local file ``source``, whose SHA-256 is ``digest``, under
        that digest; ``source`` is consumed (moved or deleted) either way. When the digest is
        there already its bytes stay as they are, and it counts as put now. Durable when it
        returns."""
        ...

    async def size(self, digest: str) -> int | None:
        """The blob's size in bytes; None when there is no such blob."""
        ...

    def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start`` up to (not including) ``end`` of the blob, in chunks; raises
        BlobMissingError (before the first chunk) when there is no such blob."""
        ...

    async def delete(self, digest: str, put_before: float) -> bool:
        """Delete the blob if it was last put before ``put_before`` (seconds since the epoch),
        checked as close to the deletion as the storage allows; True when it was deleted. No
        such blob: False."""
        ...

    def listing(self) -> AsyncIterator[tuple[str, float]]:
        """Every blob: (digest, when it was last put, in seconds since the epoch), in no order."""
        ...
