"""Files in an S3-compatible bucket (HUBBUB_FILE_STORAGE_URL=s3://bucket/prefix), through boto3
(its calls block: each runs in a thread). Credentials, endpoint and region come the way every
AWS tool takes them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 (or
AWS_ENDPOINT_URL) for a server other than AWS, AWS_REGION; or a profile, or an instance role.
Tested against SeaweedFS's S3 server (tests/test_file_storage.py). Uploads are spooled to a
local staging directory first (the digest is known only at the end), then put in one request or
in parts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hubbub.files.base import CHUNK, DIGEST_RE, BlobMissingError, StorageUnavailableError

T = TypeVar("T")
MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
PART = 8 * 1024 * 1024  # what is put in one request; larger files go in parts of this size


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in MISSING


class S3Storage:
    def __init__(self, bucket: str, prefix: str, staging: Path) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.staging = staging
        self._client: Any = None
        self._transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, use_threads=False)

    def _key(self, digest: str) -> str:
        if not DIGEST_RE.fullmatch(digest):
            raise ValueError(f"not a digest: {digest[:80]!r}")
        return f"{self.prefix}{digest}"

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:  # unreachable, timed out, no credentials
            raise StorageUnavailableError(f"file storage: {exc}") from exc

    @property
    def client(self) -> Any:
        if self._client is None:
            raise StorageUnavailableError("file storage is not started")
        return self._client

    async def start(self) -> None:
        self.staging.mkdir(mode=0o700, parents=True, exist_ok=True)
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        self._client = await asyncio.to_thread(boto3.client, "s3", config=config)
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            if not _missing(exc):
                raise StorageUnavailableError(f"bucket {self.bucket!r}: {exc}") from exc
            await self._call(self.client.create_bucket, Bucket=self.bucket)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def ping(self) -> None:
        try:
            await self._call(self.client.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            raise StorageUnavailableError(f"bucket {self.bucket!r}: {exc}") from exc

    async def _head(self, digest: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._call(
                self.client.head_object, Bucket=self.bucket, Key=self._key(digest)
            )
        except ClientError as exc:
            if _missing(exc):
                return None
            raise StorageUnavailableError(f"file storage: {exc}") from exc
        return found

    async def put(self, digest: str, source: Path) -> None:
        key = self._key(digest)
        try:
            if await self._head(digest) is not None and await self._refresh(key):
                return
            await self._call(
                self.client.upload_file,
                str(source),
                self.bucket,
                key,
                ExtraArgs={"ContentType": "application/octet-stream"},
                Config=self._transfer,
            )
        except (ClientError, S3UploadFailedError) as exc:
            raise StorageUnavailableError(f"cannot store a file: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                source.unlink()  # noqa: ASYNC240  # one unlink, no waiting on a disk's data

    async def _refresh(self, key: str) -> bool:
        """Copied onto itself, a blob counts as put now (its Last-Modified moves). False when it
        is gone (the collector deleted it since it was seen): then it is put anew."""
        try:
            await self._call(
                self.client.copy_object,
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="application/octet-stream",
            )
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    async def size(self, digest: str) -> int | None:
        head = await self._head(digest)
        return None if head is None else int(head["ContentLength"])

    async def read(self, digest: str, start: int, end: int) -> AsyncIterator[bytes]:
        if end <= start:  # nothing to read (a range of an empty file has no bytes to ask for)
            if await self._head(digest) is None:
                raise BlobMissingError(digest)
            return
        try:
            answer = await self._call(
                self.client.get_object,
                Bucket=self.bucket,
                Key=self._key(digest),
                Range=f"bytes={start}-{end - 1}",
            )
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissingError(digest) from None
            raise StorageUnavailableError(f"file storage: {exc}") from exc
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, digest: str, put_before: float) -> bool:
        head = await self._head(digest)
        if head is None or head["LastModified"].timestamp() >= put_before:
            return False
        try:
            await self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            raise StorageUnavailableError(f"file storage: {exc}") from exc
        return True

    async def listing(self) -> AsyncIterator[tuple[str, float]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        iterator = iter(pages)
        while True:
            page = await self._call(next, iterator, None)
            if page is None:
                return
            for item in page.get("Contents", []):
                digest = str(item["Key"])[len(self.prefix) :]
                if DIGEST_RE.fullmatch(digest):
                    yield digest, item["LastModified"].timestamp()
