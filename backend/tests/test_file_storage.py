"""One contract, every file storage: a local directory and a real S3-compatible server
(SeaweedFS, checking every request's signature)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hubbub.files import BlobMissingError, FileStorage, create_file_storage
from hubbub.files.local import LocalStorage
from hubbub.files.s3 import PART, S3Storage
from tests.services import SeaweedS3


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FileStorage]:
    made: FileStorage
    if request.param == "local":
        made = create_file_storage(None, tmp_path)
    else:
        s3: SeaweedS3 = request.getfixturevalue("s3_server")
        for name, value in s3.env.items():
            monkeypatch.setenv(name, value)
        made = create_file_storage(f"s3://{s3.bucket}/{uuid.uuid4().hex[:12]}/files", tmp_path)
        assert isinstance(made, S3Storage)
    await made.start()
    yield made
    await made.close()


def spool(storage: FileStorage, content: bytes) -> tuple[str, Path]:
    path = storage.staging / f"spool-{uuid.uuid4().hex}"
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest(), path


async def read_all(storage: FileStorage, digest: str, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in storage.read(digest, start, end)])


async def listed(storage: FileStorage) -> dict[str, float]:
    return {digest: when async for digest, when in storage.listing()}


async def test_put_read_ranges_and_list(storage: FileStorage) -> None:
    content = os.urandom(200_000)
    digest, source = spool(storage, content)
    before = time.time()
    await storage.put(digest, source)
    assert not source.exists()  # consumed
    assert await storage.size(digest) == len(content)
    assert await read_all(storage, digest, 0, len(content)) == content
    assert await read_all(storage, digest, 10, 20) == content[10:20]
    assert await read_all(storage, digest, len(content) - 5, len(content)) == content[-5:]
    when = (await listed(storage))[digest]
    assert before - 5 <= when <= time.time() + 5  # S3 keeps whole seconds


async def test_the_same_content_is_kept_once(storage: FileStorage) -> None:
    content = b"the same bytes, uploaded by two people at once"
    digest, first = spool(storage, content)
    _, second = spool(storage, content)
    await asyncio.gather(storage.put(digest, first), storage.put(digest, second))
    assert not first.exists() and not second.exists()
    assert [d for d in await listed(storage) if d == digest] == [digest]
    assert await read_all(storage, digest, 0, len(content)) == content


async def test_an_empty_file(storage: FileStorage) -> None:
    digest, source = spool(storage, b"")
    await storage.put(digest, source)
    assert await storage.size(digest) == 0
    assert await read_all(storage, digest, 0, 0) == b""


async def test_missing_blobs(storage: FileStorage) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert await storage.size(missing) is None
    with pytest.raises(BlobMissingError):
        await read_all(storage, missing, 0, 10)
    with pytest.raises(BlobMissingError):
        await read_all(storage, missing, 0, 0)
    assert await storage.delete(missing, put_before=time.time() + 3600) is False


async def test_delete_only_what_was_put_before_the_cutoff(storage: FileStorage) -> None:
    digest, source = spool(storage, b"delete me, but not yet")
    await storage.put(digest, source)
    assert await storage.delete(digest, put_before=time.time() - 600) is False  # put within the grace
    assert await storage.size(digest) == 22
    assert await storage.delete(digest, put_before=time.time() + 600) is True
    assert await storage.size(digest) is None
    assert digest not in await listed(storage)
    assert await storage.delete(digest, put_before=time.time() + 600) is False


async def test_digests_only(storage: FileStorage) -> None:
    """A digest is the only name the storage takes: never a path."""
    _, source = spool(storage, b"x")
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, "/" + "0" * 63):
        with pytest.raises(ValueError, match="not a digest"):
            await storage.put(bad, source)
        with pytest.raises(ValueError, match="not a digest"):
            await storage.size(bad)


async def test_a_file_larger_than_one_part(storage: FileStorage) -> None:
    """S3 takes it in parts; read back whole and at its end."""
    content = os.urandom(PART + 123_457)
    digest, source = spool(storage, content)
    await storage.put(digest, source)
    assert await storage.size(digest) == len(content)
    assert await read_all(storage, digest, len(content) - 1000, len(content)) == content[-1000:]
    assert hashlib.sha256(await read_all(storage, digest, 0, len(content))).hexdigest() == digest


async def test_putting_again_counts_as_putting_now(tmp_path: Path) -> None:
    """The collector's grace starts again when the same content is uploaded again (local: the
    blob's modification time; S3 moves Last-Modified the same way, in whole seconds)."""
    storage = LocalStorage(tmp_path / "files")
    await storage.start()
    digest, source = spool(storage, b"old bytes, uploaded again")
    await storage.put(digest, source)
    path = storage.root / digest[:2] / digest[2:4] / digest
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    assert (await listed(storage))[digest] < time.time() - 7000
    _, again = spool(storage, b"old bytes, uploaded again")
    await storage.put(digest, again)
    assert (await listed(storage))[digest] > time.time() - 60
    assert await storage.delete(digest, put_before=time.time() - 600) is False
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # the server's user's alone


def old_blob(storage: LocalStorage, digest: str) -> Path:
    """The blob's path, its last put two hours ago: past the collector's grace."""
    path = storage.root / digest[:2] / digest[2:4] / digest
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    return path


async def test_an_upload_that_finds_its_blob_taken_away_stores_it_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector takes an unnamed old blob away just as an upload of the same bytes finds
    it there and goes to refresh it: the upload stores its own copy (every row it then adds
    names bytes that are there)."""
    storage = LocalStorage(tmp_path / "files")
    await storage.start()
    content = b"the same screenshot, sent again"
    digest, source = spool(storage, content)
    await storage.put(digest, source)
    path = old_blob(storage, digest)
    utime, taken = os.utime, []

    def collector_first(target: object, *args: object, **kwargs: object) -> None:
        if target == path and not taken:  # the upload's refresh: the collector is first
            taken.append(storage._take_away(path, put_before=time.time() - 600))
        utime(target, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "utime", collector_first)
    _, again = spool(storage, content)
    await storage.put(digest, again)
    monkeypatch.undo()
    assert taken == [True]
    assert await read_all(storage, digest, 0, len(content)) == content
    assert not again.exists()


async def test_an_upload_while_the_collector_takes_the_blob_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload of the same bytes comes between the collector moving the blob aside and looking
    at its time: the upload stores its own copy, the collector deletes only the old one."""
    storage = LocalStorage(tmp_path / "files")
    await storage.start()
    content = b"uploaded as the collector passes"
    digest, source = spool(storage, content)
    await storage.put(digest, source)
    path = old_blob(storage, digest)
    rename = os.rename

    def upload_between(src: object, dst: object) -> None:
        rename(src, dst)  # type: ignore[arg-type]
        if src == path:
            _, again = spool(storage, content)
            LocalStorage._put(path, again)

    monkeypatch.setattr(os, "rename", upload_between)
    assert await storage.delete(digest, put_before=time.time() - 600) is True  # the old copy
    monkeypatch.undo()
    assert await read_all(storage, digest, 0, len(content)) == content
    assert (await listed(storage))[digest] > time.time() - 60
    assert list(storage.staging.iterdir()) == []  # nothing left aside


async def test_a_blob_put_again_since_the_collector_looked_goes_back(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    await storage.start()
    digest, source = spool(storage, b"refreshed")
    await storage.put(digest, source)
    assert await storage.delete(digest, put_before=time.time() - 600) is False
    assert await read_all(storage, digest, 0, 9) == b"refreshed"
    assert list(storage.staging.iterdir()) == []


async def test_a_bucket_upload_that_finds_its_blob_deleted_puts_it_anew(
    s3_server: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collector deletes an unnamed old object between an upload seeing it and refreshing
    it: the upload puts its bytes anew instead of failing."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    storage = create_file_storage(f"s3://{s3_server.bucket}/{uuid.uuid4().hex[:12]}/files", tmp_path)
    assert isinstance(storage, S3Storage)
    await storage.start()
    try:
        content = b"deleted between the look and the refresh"
        digest, source = spool(storage, content)
        await storage.put(digest, source)
        head, deleted = storage._head, []

        async def seen_then_collected(found: str) -> object:
            answer = await head(found)
            if not deleted:
                monkeypatch.setattr(storage, "_head", head)  # the collector looks for itself
                deleted.append(await storage.delete(found, put_before=time.time() + 60))
            return answer

        monkeypatch.setattr(storage, "_head", seen_then_collected)
        _, again = spool(storage, content)
        await storage.put(digest, again)
        monkeypatch.undo()
        assert deleted == [True]
        assert await read_all(storage, digest, 0, len(content)) == content
    finally:
        await storage.close()
