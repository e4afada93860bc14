"""Files in the store and the collector, on both databases, with a clock the test moves: an
upload never attached goes after HUBBUB_UNATTACHED_UPLOAD_SECONDS, a deleted message's files
at once, and bytes no file names any more once the grace has passed; attaching is checked in
the transaction that stores the message, and the quota under the uploader's lock."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.files.collector import GRACE_SECONDS, SPOOL_SECONDS, FileCollector
from hubbub.files.local import LocalStorage
from hubbub.model import (
    AppendError,
    Delete,
    Draft,
    FileInfo,
    FileRecord,
    StoredMessage,
    UnknownFileError,
    UnknownUserError,
    UploadRefusedError,
)
from hubbub.store import Store
from tests.conftest import fresh_database
from tests.stores import create_store

DAY = 24 * 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    async with contextlib_url(request, tmp_path) as url:
        instance = create_store(url)
        await instance.start()
        for room in ("pics", "other"):
            await instance.ensure_room(room)
            await instance.add_members(room, ["ann", "bob"])
        yield instance
        await instance.close()


class contextlib_url:  # an async context manager: SQLite's path, or a fresh PostgreSQL database
    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request, self._tmp_path = request, tmp_path
        self._fresh: object = None

    async def __aenter__(self) -> str:
        if self._request.param == "sqlite":
            return f"sqlite:///{self._tmp_path / 'db' / 'hubbub.db'}"
        self._fresh = fresh_database(self._request.getfixturevalue("postgres_url"))
        return await self._fresh.__aenter__()  # type: ignore[attr-defined,no-any-return]

    async def __aexit__(self, *exc: object) -> None:
        if self._fresh is not None:
            await self._fresh.__aexit__(*exc)  # type: ignore[attr-defined]


@pytest.fixture
async def storage(tmp_path: Path) -> LocalStorage:
    made = LocalStorage(tmp_path / "files")
    await made.start()
    return made


async def upload(
    store: Store,
    storage: LocalStorage,
    clock: Clock,
    content: bytes,
    room: str = "pics",
    user: str = "ann",
    quota: int = 10**9,
    thumbnail: bytes | None = None,
) -> FileRecord:
    """What Files.upload does, once the bytes are in: the bytes, then the row that names them."""
    digest = hashlib.sha256(content).hexdigest()
    thumb = None if thumbnail is None else hashlib.sha256(thumbnail).hexdigest()
    for data, key in ((content, digest), (thumbnail, thumb)):
        if data is not None and key is not None:
            spooled = storage.staging / uuid.uuid4().hex
            spooled.write_bytes(data)
            await storage.put(key, spooled)
    info = FileInfo(uuid.uuid4().hex, "f.bin", len(content), "application/octet-stream")
    record = FileRecord(info, room, user, digest, thumb, created_at=int(clock() * 1000))
    await store.add_file(record, quota)
    return record


async def send(store: Store, room: str, author: str, body: str, files: tuple[str, ...]) -> StoredMessage:
    (result,) = await store.append_many([Draft(room, author, body, files=files)])
    if isinstance(result, AppendError):
        raise result
    return result[0]


def stored(storage: LocalStorage, digest: str) -> bool:
    return (storage.root / digest[:2] / digest[2:4] / digest).exists()


async def test_an_upload_never_attached_is_collected(store: Store, storage: LocalStorage) -> None:
    clock = Clock()
    collector = FileCollector(store, storage, unattached_seconds=DAY, clock=clock)
    kept = await upload(store, storage, clock, b"sent with a message")
    await send(store, "pics", "ann", "look", (kept.info.id,))
    forgotten = await upload(store, storage, clock, b"never sent")
    assert await store.uploads_size("ann") == 19 + 10

    clock.now += DAY - 1
    assert (await collector.collect()).uploads == 0
    assert await store.file(forgotten.info.id) is not None

    clock.now += 2
    done = await collector.collect()
    assert (done.uploads, done.blobs) == (1, 1)  # its row, then its bytes (put long ago)
    assert await store.file(forgotten.info.id) is None and not stored(storage, forgotten.digest)
    assert await store.file(kept.info.id) is not None and stored(storage, kept.digest)
    assert await store.uploads_size("ann") == 19


async def test_a_deleted_message_takes_its_files(store: Store, storage: LocalStorage) -> None:
    clock = Clock()
    collector = FileCollector(store, storage, unattached_seconds=DAY, clock=clock)
    photo = await upload(store, storage, clock, b"a photo", thumbnail=b"its thumbnail")
    same = await upload(store, storage, clock, b"a photo", user="bob")  # the same bytes, bob's
    message = await send(store, "pics", "ann", "", (photo.info.id,))
    assert message.files == (photo.info,) and message.body == ""
    await send(store, "pics", "bob", "mine too", (same.info.id,))
    assert (await store.message("pics", message.id)).files == (photo.info,)  # type: ignore[union-attr]

    gone = await store.change_message("pics", message.id, Delete())
    assert gone is not None and gone.files == () and gone.deleted
    assert await store.file(photo.info.id) is None  # nobody can download it from now on
    assert await store.uploads_size("ann") == 0
    # Its thumbnail's bytes go once the grace has passed; the photo's stay: bob's names them.
    assert (await collector.collect()).blobs == 0
    clock.now += GRACE_SECONDS + 1
    assert (await collector.collect()).blobs == 1
    assert not stored(storage, photo.thumbnail or "") and stored(storage, photo.digest)


async def test_bytes_put_within_the_grace_stay(store: Store, storage: LocalStorage) -> None:
    """An upload puts its bytes a moment before its row names them: the collector, passing in
    between, leaves them."""
    clock = Clock()
    collector = FileCollector(store, storage, unattached_seconds=DAY, clock=clock)
    spooled = storage.staging / "s"
    spooled.write_bytes(b"row comes next")
    digest = hashlib.sha256(b"row comes next").hexdigest()
    await storage.put(digest, spooled)
    clock.now += GRACE_SECONDS - 1
    assert (await collector.collect()).blobs == 0 and stored(storage, digest)
    clock.now += 2
    assert (await collector.collect()).blobs == 1 and not stored(storage, digest)


async def test_stale_spool_files_go(store: Store, storage: LocalStorage) -> None:
    clock = Clock()
    collector = FileCollector(store, storage, unattached_seconds=DAY, clock=clock)
    (storage.staging / "upload-live").write_bytes(b"still coming in")
    (storage.staging / "upload-dead").write_bytes(b"its server stopped")
    then = time.time() - SPOOL_SECONDS - 1
    os.utime(storage.staging / "upload-dead", (then, then))
    assert (await collector.collect()).spooled == 1
    assert [p.name for p in storage.staging.iterdir()] == ["upload-live"]


@pytest.mark.parametrize(
    "whose", ["bob's", "in another room", "attached already", "no such id", "one good, one bad"]
)
async def test_only_the_senders_own_unattached_uploads_attach(
    store: Store, storage: LocalStorage, whose: str
) -> None:
    clock = Clock()
    mine = await upload(store, storage, clock, b"mine")
    ids = {
        "bob's": (await upload(store, storage, clock, b"his", user="bob")).info.id,
        "in another room": (await upload(store, storage, clock, b"elsewhere", room="other")).info.id,
        "attached already": mine.info.id,
        "no such id": uuid.uuid4().hex,
        "one good, one bad": uuid.uuid4().hex,
    }
    if whose == "attached already":
        await send(store, "pics", "ann", "first", (mine.info.id,))
    head = (await store.room("pics")).head  # type: ignore[union-attr]
    files = (mine.info.id, ids[whose]) if whose == "one good, one bad" else (ids[whose],)
    with pytest.raises(UnknownFileError):
        await send(store, "pics", "ann", "with someone's file", files)
    assert (await store.room("pics")).head == head  # type: ignore[union-attr]  # nothing stored
    if whose == "one good, one bad":
        assert (await store.file(mine.info.id)).message_seq is None  # type: ignore[union-attr]
    # The same batch's other drafts are stored.
    results = await store.append_many(
        [Draft("pics", "ann", "bad", files=files), Draft("pics", "bob", "fine")]
    )
    assert isinstance(results[0], UnknownFileError) and not isinstance(results[1], AppendError)


async def test_files_keep_their_order_and_a_retry_attaches_nothing_twice(
    store: Store, storage: LocalStorage
) -> None:
    clock = Clock()
    ids = tuple([(await upload(store, storage, clock, bytes([n]) * 3)).info.id for n in range(3)])
    order = (ids[2], ids[0], ids[1])
    (first,) = await store.append_many([Draft("pics", "ann", "three", client_msg_id="c1", files=order)])
    (again,) = await store.append_many([Draft("pics", "ann", "three", client_msg_id="c1", files=order)])
    assert not isinstance(first, AppendError) and not isinstance(again, AppendError)
    assert [f.id for f in first[0].files] == list(order)
    assert again == (first[0], False)
    assert [f.id for f in (await store.after("pics", 0, 10))[-1].files] == list(order)


async def test_the_quota_holds_under_concurrent_uploads(store: Store, storage: LocalStorage) -> None:
    clock = Clock()
    await upload(store, storage, clock, b"x" * 600, quota=1000)
    with pytest.raises(UploadRefusedError) as refused:
        await upload(store, storage, clock, b"y" * 401, quota=1000)
    assert refused.value.status == 413
    # Ten at once, each alone under the quota: exactly as many as fit get in.
    tries = await asyncio.gather(
        *(upload(store, storage, clock, bytes([n]) * 100, user="bob", quota=550) for n in range(10)),
        return_exceptions=True,
    )
    assert sum(isinstance(t, FileRecord) for t in tries) == 5
    assert all(isinstance(t, FileRecord | UploadRefusedError) for t in tries)
    assert await store.uploads_size("bob") == 500


async def test_an_avatar_is_kept_while_its_owner_shows_it(store: Store, storage: LocalStorage) -> None:
    clock = Clock()
    collector = FileCollector(store, storage, unattached_seconds=DAY, clock=clock)
    await store.touch_users(["ann"])
    first, second = (hashlib.sha256(content).hexdigest() for content in (b"ann, 2025", b"ann, 2026"))
    for content, digest in ((b"ann, 2025", first), (b"ann, 2026", second)):
        spooled = storage.staging / uuid.uuid4().hex
        spooled.write_bytes(content)
        await storage.put(digest, spooled)
    assert (await store.set_avatar("ann", first)).avatar == first
    clock.now += GRACE_SECONDS + 1
    assert (await collector.collect()).blobs == 1  # the second: nobody shows it yet
    assert stored(storage, first) and not stored(storage, second)

    spooled = storage.staging / uuid.uuid4().hex
    spooled.write_bytes(b"ann, 2026")
    await storage.put(second, spooled)
    await store.set_avatar("ann", second)  # a new one: the old one is named by nobody
    clock.now += GRACE_SECONDS + 1
    assert (await collector.collect()).blobs == 1
    assert stored(storage, second) and not stored(storage, first)

    assert (await store.set_avatar("ann", None)).avatar is None  # initials again
    assert (await collector.collect()).blobs == 1 and not stored(storage, second)
    with pytest.raises(UnknownUserError):
        await store.set_avatar("nobody", second)
