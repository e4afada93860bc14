"""Files: uploads into a room, and downloads for whoever may read it. Who may do either is
decided by Rooms (chat/rooms.py: uploadable, file_readable); what a file is, by its content
(files/sniff.py, files/images.py); where its bytes live, by the file storage (files/).

An upload, in order: the room is checked; the body streams into a spool file, hashed and
counted, refused past HUBBUB_MAX_UPLOAD_BYTES or what is left of the uploader's quota; an
image is made anew (orientation applied, metadata gone) with a thumbnail; the bytes are put in
the storage; then the row that names them is added (the quota checked again, under the
uploader's lock). Bytes before the row: every row names bytes that are there (a backup that
copies the files after the database has all it names), and the collector's grace keeps bytes
put a moment before their row (files/collector.py). Whatever fails on the way leaves nothing
but, in one case, bytes that nothing names: the spool files are removed; an upload refused at
the last step (two at once past the quota) leaves its bytes to the collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

from hubbub.auth.base import Identity
from hubbub.chat.rooms import Rooms
from hubbub.files import FileStorage, images
from hubbub.files.collector import Collected, FileCollector
from hubbub.files.names import safe_name
from hubbub.files.sniff import sniff
from hubbub.files.upload import Spooled, spool_upload
from hubbub.model import FileInfo, FileRecord, UnknownFileError, UploadRefusedError
from hubbub.settings import Settings
from hubbub.store import Store

log = logging.getLogger("hubbub.files")
T = TypeVar("T")

IMAGE_TYPES = frozenset(images.FORMATS.values())


class Files:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        storage: FileStorage,
        rooms: Rooms,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._store = store
        self.storage = storage
        self._rooms = rooms
        self._clock = clock
        # Decoding an image takes memory in proportion to its pixels: one at a time per worker.
        self._decoding = asyncio.Semaphore(1)
        self.collector = FileCollector(store, storage, settings.unattached_upload_seconds, clock)

    async def upload(
        self, actor: Identity, room: str, body: AsyncIterator[bytes], content_type: str | None
    ) -> FileInfo:
        """Keep the form's file as an upload of the actor's into the room, not attached yet.
        Raises UnknownRoomError, Forbidden, RoomArchivedError, UploadRefusedError (413: too
        large or over the quota; 422: an image too large to decode), UploadFormError,
        StoreUnavailableError, StorageUnavailableError."""
        await self._rooms.uploadable(actor, room)
        settings = self._settings
        quota, largest = settings.upload_quota_bytes, settings.max_upload_bytes
        over_quota = (
            f"this would take your uploads past your quota of {quota} bytes (HUBBUB_UPLOAD_QUOTA_BYTES)"
        )
        left = quota - await self._store.uploads_size(actor.user)
        if left <= 0:
            raise UploadRefusedError(413, over_quota)
        too_large = f"a file may have at most {largest} bytes (HUBBUB_MAX_UPLOAD_BYTES)"
        limit, refusal = (largest, too_large) if largest <= left else (left, over_quota)
        spooled = await spool_upload(body, content_type, self.storage.staging, limit, refusal)
        leftovers = [spooled.path]
        try:
            processed = await self._as_image(spooled, images.process)
            if processed is not None:
                leftovers += [processed.image, processed.thumbnail]
                served, thumbnail = processed.image, processed.thumbnail
                digest, size = await asyncio.to_thread(_digest, served)
                thumbnail_digest, _ = await asyncio.to_thread(_digest, thumbnail)
                info = FileInfo(
                    uuid.uuid4().hex,
                    safe_name(spooled.name),
                    size,
                    processed.type,
                    processed.width,
                    processed.height,
                )
            else:
                served, thumbnail, thumbnail_digest = spooled.path, None, None
                digest, size = spooled.digest, spooled.size
                info = FileInfo(uuid.uuid4().hex, safe_name(spooled.name), size, sniff(spooled.head))
            await self.storage.put(digest, served)
            if thumbnail is not None and thumbnail_digest is not None:
                await self.storage.put(thumbnail_digest, thumbnail)
            record = FileRecord(
                info, room, actor.user, digest, thumbnail_digest, created_at=int(self._clock() * 1000)
            )
            await self._store.add_file(record, quota)
        finally:
            for path in leftovers:
                with contextlib.suppress(OSError):
                    path.unlink()
        log.info("%s uploaded %s (%s, %d bytes) into %s", actor.user, info.id, info.type, info.size, room)
        return info

    async def avatar(self, body: AsyncIterator[bytes], content_type: str | None) -> str:
        """Make an avatar of the form's image (files/images.py: avatar) and put it in the
        storage; returns its digest, for the profile to name. Raises UploadRefusedError (413:
        larger than HUBBUB_MAX_UPLOAD_BYTES; 422: not an image of the four formats, or one too
        large to decode), UploadFormError, StorageUnavailableError."""
        largest = self._settings.max_upload_bytes
        too_large = f"an image may have at most {largest} bytes (HUBBUB_MAX_UPLOAD_BYTES)"
        spooled = await spool_upload(body, content_type, self.storage.staging, largest, too_large)
        leftovers = [spooled.path]
        try:
            made = await self._as_image(spooled, images.avatar)
            if made is None:
                raise UploadRefusedError(422, "an avatar is a PNG, JPEG, GIF or WebP image")
            leftovers.append(made)
            digest, _ = await asyncio.to_thread(_digest, made)
            await self.storage.put(digest, made)
        finally:
            for path in leftovers:
                with contextlib.suppress(OSError):
                    path.unlink()
        return digest

    async def _as_image(self, spooled: Spooled, make: Callable[[Path, Path, int], T | None]) -> T | None:
        """What ``make`` (images.process, images.avatar) makes of a spooled file whose first
        bytes say it is an image, in a thread, one decode at a time; None for any other file."""
        if sniff(spooled.head) not in IMAGE_TYPES:
            return None
        async with self._decoding:
            return await asyncio.to_thread(
                make, spooled.path, self.storage.staging, self._settings.max_image_pixels
            )

    async def readable(self, actor: Identity | None, file_id: str) -> FileRecord:
        """The file, if the actor may download it (Rooms.file_readable); UnknownFileError
        otherwise, the same as for an id nobody uploaded."""
        record = await self._store.file(file_id)
        if record is None:
            raise UnknownFileError(file_id)
        await self._rooms.file_readable(actor, record)
        return record

    async def collect(self) -> Collected:
        return await self.collector.collect()


def _digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    found = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            found.update(chunk)
            size += len(chunk)
    return found.hexdigest(), size
