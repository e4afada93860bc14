"""File storage, chosen by URL: a directory (the default, HUBBUB_DATA_DIR/files) or an
S3-compatible bucket (s3://bucket/prefix). The upload pipeline around it: type sniffing
(sniff.py), images (images.py), names (names.py), multipart streaming (upload.py), ranges
(ranges.py), and the collector (collector.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from hubbub.files.base import BlobMissingError, FileStorage, StorageUnavailableError

__all__ = ["BlobMissingError", "FileStorage", "StorageUnavailableError", "create_file_storage"]


def create_file_storage(url: str | None, data_dir: Path) -> FileStorage:
    """None: the directory data_dir/files. file:///path: that directory. s3://bucket/prefix:
    that bucket (uploads are staged in data_dir/files-staging first)."""
    if url is None:
        from hubbub.files.local import LocalStorage

        return LocalStorage(data_dir / "files")
    parts = urlsplit(url)
    if parts.scheme == "file":
        from hubbub.files.local import LocalStorage

        return LocalStorage(Path(parts.path))
    if parts.scheme == "s3":
        from hubbub.files.s3 import S3Storage

        if not parts.netloc:
            raise ValueError("an s3:// URL names its bucket: s3://bucket/prefix")
        return S3Storage(parts.netloc, parts.path, data_dir / "files-staging")
    raise ValueError(f"unsupported file storage URL scheme {parts.scheme!r}: use file:// or s3://")
