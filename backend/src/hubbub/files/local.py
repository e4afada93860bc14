"""Files in a directory (HUBBUB_DATA_DIR/files by default): each blob at ab/cd/<digest>, so that
no directory holds more than a few thousand entries. Several servers (replicas, workers) share
it by sharing the directory: a volume mounted at the same place in each (docs/protocol.md,
"Files"). A blob's modification time is when it was last put."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from hubbub.files.base import CHUNK, DIGEST_RE, BlobMissingError, StorageUnavailableError


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / ".staging"

    def _path(self, digest: str) -> Path:
        if not DIGEST_RE.fullmatch(digest):  # never a path of the caller's making
            raise ValueError(f"not a digest: {digest[:80]!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    async def start(self) -> None:
        # Only the server's user may read what people uploaded, as with the database.
        for folder in (self.root, self.staging):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def close(self) -> None:
        pass

    async def ping(self) -> None:
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageUnavailableError(f"cannot write to {self.root}")

    async def put(self, digest: str, source: Path) -> None:
        await asyncio.to_thread(self._put, self._path(digest), source)

    @staticmethod
    def _put(target: Path, source: Path) -> None:
        try:
            if target.exists():
                try:
                    os.utime(target)  # put now: the collector's grace starts again
                    source.unlink()
                    return
                except FileNotFoundError:
                    pass  # the collector took it away this moment (_take_away): stored anew
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(source, "rb") as spooled:
                os.fsync(spooled.fileno())
            os.chmod(source, 0o600)
            os.replace(source, target)  # atomic: a reader sees all of it or nothing
            os.utime(target)
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename survives a power cut
            finally:
                os.close(directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                source.unlink()
            raise StorageUnavailableError(f"cannot store a file: {exc}") from exc

    async def size(self, digest: str) -> int | None:
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            return None

    async def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            handle = open(self._path(digest), "rb")  # noqa: ASYNC230, SIM115  # opened at once, read in a thread
        except FileNotFoundError:
            raise BlobMissingError(digest) from None
        try:
            handle.seek(start)
            left = end - start
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, digest: str, put_before: float) -> bool:
        return await asyncio.to_thread(self._take_away, self._path(digest), put_before)

    def _take_away(self, path: Path, put_before: float) -> bool:
        """Delete the blob if it was last put before ``put_before``. It is moved aside (into
        the staging directory, on the same file system) before its time is looked at, so that
        an upload putting the same bytes at this moment is never lost: a put before the move
        shows in the blob's time (it goes back), one after the move finds no blob and stores
        its own. An aside left by a crash is a stale spool file to the collector."""
        aside = self.staging / f"deleting-{path.name}-{secrets.token_hex(4)}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime >= put_before:
            os.replace(aside, path)  # put again since the collector looked: kept
            return False
        aside.unlink()
        return True

    async def listing(self) -> AsyncIterator[tuple[str, float]]:
        # One folder at a time, each in a thread: millions of blobs are never all in memory.
        for first in await asyncio.to_thread(_folders, self.root):
            for second in await asyncio.to_thread(_folders, first):
                for found in await asyncio.to_thread(_blobs, second):
                    yield found


def _folders(parent: Path | str) -> list[str]:
    with os.scandir(parent) as entries:
        return [e.path for e in entries if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]


def _blobs(folder: str) -> list[tuple[str, float]]:
    with os.scandir(folder) as entries:
        return [(e.name, e.stat().st_mtime) for e in entries if DIGEST_RE.fullmatch(e.name) and e.is_file()]
